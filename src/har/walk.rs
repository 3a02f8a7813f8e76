//! Walking a HAR's JSON: every string value becomes a piece (see `piece`)
//! named by its field path, decoded the way its field says (JSON escapes
//! always; percent-encoding in URLs, query strings and form bodies; base64
//! response bodies), and given the context its name carries (a header value
//! is scanned as `Name: value`, a cookie as `Cookie: name=value`).
//!
//! Field paths are relative to the entry (`request.headers.Authorization`,
//! `response.content.text`, `_webSocketMessages[2].data`); name/value lists
//! are keyed by name, other arrays by index. Strings outside the entries are
//! named relative to `log` (`pages[0].title`).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::ops::Range;

use super::json::{unescape, JsonError, Lexer, Tok, MAX_DEPTH};
use super::piece::{base64_body, Batch, Body, Long};

/// What the scanner learns of an entry besides its strings: for the human
/// format and `--group-by`.
#[derive(Clone, Debug, Default)]
pub struct EntryInfo {
    pub entry: u64,
    /// The `request.method` piece.
    pub method: Option<usize>,
    /// The `request.url` piece.
    pub url: Option<usize>,
    /// `startedDateTime`, raw span.
    pub started: Option<Range<usize>>,
}

/// How a name/value list's pairs are shown to the rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pairs {
    Header,
    Cookie,
    SetCookie,
    Param,
}

pub struct Walker<'a, 'b> {
    lx: Lexer<'a>,
    raw: &'a [u8],
    batch: &'b mut Batch,
    /// Entry infos, in entry order (the scanner drains them as it flushes).
    pub entries: &'b mut Vec<EntryInfo>,
    path: String,
    entry: Option<u64>,
    /// Scratch space for a pair's `Name: ` prefix.
    prefix: Vec<u8>,
    /// The number the next entry gets.
    next_entry: u64,
    /// The most [`Batch::weight`] may reach (see [`Walker::piece`]).
    limit: usize,
    /// Called after each entry, and after each other member of `log`,
    /// with the offset up to which the input has been walked: everything
    /// before it is in the batch, whole.
    commit: &'b mut dyn FnMut(&mut Batch, &mut Vec<EntryInfo>, usize),
}

/// Walks a HAR document. Ok(false): valid JSON, but not a HAR (no
/// `log.entries` array).
pub fn walk(
    raw: &[u8],
    limit: usize,
    batch: &mut Batch,
    entries: &mut Vec<EntryInfo>,
    commit: &mut dyn FnMut(&mut Batch, &mut Vec<EntryInfo>, usize),
) -> Result<bool> {
    let mut w = Walker {
        lx: Lexer::new(raw),
        raw,
        batch,
        entries,
        path: String::new(),
        entry: None,
        prefix: Vec::new(),
        next_entry: 0,
        limit,
        commit,
    };
    w.document()
}

type Result<T> = std::result::Result<T, JsonError>;

/// What [`Walker::members`] calls for each member: key span, first token
/// of the value.
type OnMember<'f, W> = dyn FnMut(&mut W, Range<usize>, Tok) -> Result<()> + 'f;

/// Strings that cost less than this are decoded whatever the batch weighs.
const SMALL: usize = 64 << 10;

/// Longest name kept in a field path: a longer key or header name (a
/// hostile one, as a rule) is cut, so paths stay short.
const NAME_MAX: usize = 64;

/// Appends `name` to a path, cut to [`NAME_MAX`] bytes (at a character
/// boundary) with `…`.
fn push_name(path: &mut String, name: &str) {
    if name.len() <= NAME_MAX {
        path.push_str(name);
        return;
    }
    let mut end = NAME_MAX;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    path.push_str(&name[..end]);
    path.push('…');
}

impl<'a> Walker<'a, '_> {
    fn document(&mut self) -> Result<bool> {
        let jsonp = self.lx.jsonp_open();
        if self.lx.next()? != Tok::ObjOpen {
            return Ok(false);
        }
        let mut har = false;
        let sniffed = super::sniff(self.raw);
        self.members(1, &mut |w, key, v| {
            if &w.raw[key.clone()] == b"log" && v == Tok::ObjOpen {
                har |= w.log()?;
                Ok(())
            } else if &w.raw[key.clone()] == b"log" && sniffed {
                // Taken for a HAR by its other members, yet no log object:
                // a broken HAR, not text to pass over in silence.
                Err(w.lx.error("\"log\" is not an object"))
            } else {
                w.keyed(&key, |w| w.value(v, 2))
            }
        })?;
        if jsonp {
            self.lx.jsonp_close()?;
        }
        if !self.lx.at_end() {
            if !har {
                // JSON lines, say: text, not a HAR.
                return Ok(false);
            }
            return Err(self.lx.error("data after the end of the JSON document"));
        }
        (self.commit)(self.batch, self.entries, self.lx.pos);
        Ok(har)
    }

    fn log(&mut self) -> Result<bool> {
        let mut entries = false;
        self.members(2, &mut |w, key, v| {
            if &w.raw[key.clone()] == b"entries" && v == Tok::ArrOpen {
                entries = true;
                w.elements(3, &mut |w, _, v| {
                    // A second `entries` array (not valid HAR) numbers on.
                    let i = w.next_entry;
                    w.next_entry += 1;
                    w.entry = Some(i);
                    w.entries.push(EntryInfo {
                        entry: i,
                        ..EntryInfo::default()
                    });
                    w.value(v, 4)?;
                    w.entry = None;
                    (w.commit)(w.batch, w.entries, w.lx.pos);
                    Ok(())
                })
            } else {
                w.keyed(&key, |w| w.value(v, 3))?;
                (w.commit)(w.batch, w.entries, w.lx.pos);
                Ok(())
            }
        })?;
        Ok(entries)
    }

    /// An object's members after its `{`: `f` gets each key and the first
    /// token of its value, and must consume the value.
    fn members(&mut self, depth: usize, f: &mut OnMember<'_, Self>) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(self.lx.error("nested too deep"));
        }
        let mut tok = self.lx.next()?;
        if tok == Tok::ObjClose {
            return Ok(());
        }
        loop {
            let Tok::Str { span: key, .. } = tok else {
                return Err(self.lx.error("expected a member name"));
            };
            if self.lx.next()? != Tok::Colon {
                return Err(self.lx.error("expected ':'"));
            }
            let v = self.lx.next()?;
            f(self, key, v)?;
            match self.lx.next()? {
                Tok::Comma => tok = self.lx.next()?,
                Tok::ObjClose => return Ok(()),
                _ => return Err(self.lx.error("expected ',' or '}'")),
            }
        }
    }

    /// An array's elements after its `[` (see [`Walker::members`]).
    fn elements(
        &mut self,
        depth: usize,
        f: &mut dyn FnMut(&mut Self, usize, Tok) -> Result<()>,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(self.lx.error("nested too deep"));
        }
        let mut tok = self.lx.next()?;
        if tok == Tok::ArrClose {
            return Ok(());
        }
        let mut i = 0;
        loop {
            f(self, i, tok)?;
            i += 1;
            match self.lx.next()? {
                Tok::Comma => tok = self.lx.next()?,
                Tok::ArrClose => return Ok(()),
                _ => return Err(self.lx.error("expected ',' or ']'")),
            }
        }
    }

    /// Runs `f` with `.key` appended to the path.
    fn keyed(&mut self, key: &Range<usize>, f: impl FnOnce(&mut Self) -> Result<()>) -> Result<()> {
        let len = self.path.len();
        if !self.path.is_empty() {
            self.path.push('.');
        }
        let name = self.text(key);
        push_name(&mut self.path, &name);
        let r = f(self);
        self.path.truncate(len);
        r
    }

    /// Runs `f` with `[i]` appended to the path.
    fn indexed(&mut self, i: usize, f: impl FnOnce(&mut Self) -> Result<()>) -> Result<()> {
        let len = self.path.len();
        // ok: writing to a String cannot fail.
        let _ = write!(self.path, "[{i}]");
        let r = f(self);
        self.path.truncate(len);
        r
    }

    /// A JSON string's value as text (for names in paths and prefixes).
    fn text(&self, span: &Range<usize>) -> Cow<'a, str> {
        let raw: &'a [u8] = &self.raw[span.clone()];
        if memchr::memchr(b'\\', raw).is_none() {
            return String::from_utf8_lossy(raw);
        }
        let mut out = Vec::new();
        unescape(self.raw, span.clone(), 0, &mut out, &mut Vec::new());
        Cow::Owned(String::from_utf8_lossy(&out).into_owned())
    }

    fn value(&mut self, tok: Tok, depth: usize) -> Result<()> {
        match tok {
            Tok::Str { span, escaped } => {
                self.string(span, escaped);
                Ok(())
            }
            Tok::Scalar => Ok(()),
            Tok::ObjOpen => {
                if self.entry.is_some()
                    && (self.path == "request.postData" || self.path == "response.content")
                {
                    return self.body(depth);
                }
                self.members(depth, &mut |w, key, v| {
                    w.keyed(&key, |w| w.value(v, depth + 1))
                })
            }
            Tok::ArrOpen => match self.pairs_kind() {
                Some(kind) => self.elements(depth, &mut |w, i, v| {
                    if v == Tok::ObjOpen {
                        w.pair(kind, i, depth + 1)
                    } else {
                        w.indexed(i, |w| w.value(v, depth + 1))
                    }
                }),
                None => self.elements(depth, &mut |w, i, v| {
                    w.indexed(i, |w| w.value(v, depth + 1))
                }),
            },
            _ => Err(self.lx.error("expected a value")),
        }
    }

    /// Name/value lists, by the last step of the path.
    fn pairs_kind(&self) -> Option<Pairs> {
        let last = self.path.rsplit('.').next()?;
        Some(match last {
            "headers" => Pairs::Header,
            "cookies" if self.path.starts_with("response") => Pairs::SetCookie,
            "cookies" => Pairs::Cookie,
            "queryString" | "params" => Pairs::Param,
            _ => return None,
        })
    }

    /// Adds the string `raw[span]`, after `prefix`, to the batch as a
    /// piece of the current field; or, when that would take the batch's
    /// weight past the limit, to the strings scanned as text where they lie
    /// in the file (None), so that memory stays bounded whatever the HAR.
    fn piece(&mut self, span: Range<usize>, escaped: bool, prefix: &[u8]) -> Option<usize> {
        let cost = Batch::cost(self.raw, &span, escaped) + prefix.len();
        if self.too_heavy(cost) {
            self.long(span, false);
            return None;
        }
        Some(
            self.batch
                .string(self.raw, span, escaped, prefix, self.entry, &self.path),
        )
    }

    /// Whether a string that adds `cost` to the batch goes to the text
    /// scan: when it alone is over the limit, or would take the batch past
    /// it and is not small (small strings, the entry's method, URL, time
    /// and headers, are always decoded).
    fn too_heavy(&self, cost: usize) -> bool {
        cost > self.limit
            || (cost >= SMALL && self.batch.weight().saturating_add(cost) > self.limit)
    }

    fn long(&mut self, span: Range<usize>, base64: bool) {
        self.batch.long.push(Long {
            span,
            entry: self.entry,
            field: self.path.clone(),
            base64,
        });
    }

    /// A string in the current field.
    fn string(&mut self, span: Range<usize>, escaped: bool) {
        let Some(entry) = self.entry else {
            self.piece(span, escaped, b"");
            return;
        };
        if self.path == "startedDateTime" {
            if let Some(info) = self.entries.last_mut().filter(|e| e.entry == entry) {
                info.started = Some(span.clone());
            }
        }
        let Some(p) = self.piece(span, escaped, b"") else {
            return;
        };
        if self.path == "request.method" {
            if let Some(info) = self.entries.last_mut().filter(|e| e.entry == entry) {
                info.method = Some(p);
            }
        }
        if self.path == "request.url" || self.path.ends_with("redirectURL") {
            if self.path == "request.url" {
                if let Some(info) = self.entries.last_mut().filter(|e| e.entry == entry) {
                    info.url = Some(p);
                }
            }
            let text = self.batch.pieces[p].text.clone();
            if let Some(q) = memchr::memchr(b'?', &self.batch.buf[text.clone()]) {
                let end = memchr::memchr(b'#', &self.batch.buf[text.start + q..text.end])
                    .map_or(text.end, |h| text.start + q + h);
                self.batch
                    .decoded_params(p, text.start + q + 1..end, self.limit);
            }
        }
    }

    /// One `{"name": …, "value": …}` of a header, cookie or parameter
    /// list: the value is scanned with its name in front, as a log line
    /// would show it, and named `list.Name`.
    fn pair(&mut self, kind: Pairs, i: usize, depth: usize) -> Result<()> {
        let mut name = None;
        let mut value = None;
        let mut others = Vec::new();
        self.members(depth, &mut |w, key, v| {
            match (&w.raw[key.clone()], v) {
                (b"name", Tok::Str { span, escaped }) if name.is_none() => {
                    name = Some(span.clone());
                    // Scanned as a string of its own too, so that a secret
                    // in a name is found and can be redacted in the file.
                    others.push((key, span, escaped));
                }
                (b"value", Tok::Str { span, escaped }) if value.is_none() => {
                    value = Some((span, escaped));
                }
                (_, Tok::Str { span, escaped }) => others.push((key, span, escaped)),
                (_, v) => {
                    return w.indexed(i, |w| w.keyed(&key, |w| w.value(v, depth + 1)));
                }
            }
            Ok(())
        })?;
        let len = self.path.len();
        let name = name.map(|n| self.text(&n));
        match &name {
            Some(n) => {
                self.path.push('.');
                push_name(&mut self.path, n);
            }
            None => {
                let _ = write!(self.path, "[{i}]");
            }
        }
        if let Some((span, escaped)) = value {
            let n = name.as_deref().unwrap_or("").as_bytes();
            let (before, after): (&[u8], &[u8]) = match kind {
                Pairs::Header => (b"", b": "),
                Pairs::Cookie => (b"Cookie: ", b"="),
                Pairs::SetCookie => (b"Set-Cookie: ", b"="),
                Pairs::Param => (b"", b"="),
            };
            self.prefix.clear();
            self.prefix.extend_from_slice(before);
            self.prefix.extend_from_slice(n);
            self.prefix.extend_from_slice(after);
            let prefix = std::mem::take(&mut self.prefix);
            let p = self.piece(span, escaped, &prefix);
            self.prefix = prefix;
            if let Some(p) = p.filter(|_| kind == Pairs::Param) {
                let text = self.batch.pieces[p].text.clone();
                self.batch.decoded_params(p, text, self.limit);
            }
        }
        for (key, span, escaped) in others {
            self.keyed(&key, |w| {
                w.string(span, escaped);
                Ok(())
            })?;
        }
        self.path.truncate(len);
        Ok(())
    }

    /// `request.postData` or `response.content`: its `text` is decoded as
    /// its `encoding` and `mimeType` say, which may come after it.
    fn body(&mut self, depth: usize) -> Result<()> {
        let mut text = None;
        let mut base64 = false;
        let mut form = false;
        self.members(depth, &mut |w, key, v| {
            match (&w.raw[key.clone()], &v) {
                (b"text", Tok::Str { span, escaped }) if text.is_none() => {
                    text = Some((span.clone(), *escaped));
                    return Ok(());
                }
                (b"encoding", Tok::Str { span, .. }) => {
                    base64 = w.raw[span.clone()].eq_ignore_ascii_case(b"base64");
                }
                (b"mimeType", Tok::Str { span, .. }) => {
                    form = memchr::memmem::find(&w.raw[span.clone()], b"x-www-form-urlencoded")
                        .is_some();
                }
                _ => {}
            }
            w.keyed(&key, |w| w.value(v, depth + 1))
        })?;
        let Some((span, escaped)) = text else {
            return Ok(());
        };
        let len = self.path.len();
        self.path.push_str(".text");
        // Decoding takes up to three times the body's length at once (its
        // unescaped copy, that without line breaks, the decoded bytes).
        if base64 && self.too_heavy(3 * span.len()) {
            self.long(span, true);
        } else if base64 {
            let body = if escaped {
                let mut body = Vec::new();
                unescape(self.raw, span.clone(), 0, &mut body, &mut Vec::new());
                Cow::Owned(body)
            } else {
                Cow::Borrowed(&self.raw[span.clone()])
            };
            match base64_body(&body) {
                // Images and other binary bodies are not text to scan.
                Some(Body::Binary) => {}
                Some(Body::Text(bytes)) => {
                    self.batch
                        .base64(&bytes, span, escaped, self.entry, &self.path);
                }
                None => self.string(span, escaped),
            }
        } else if let Some(p) = self.piece(span, escaped, b"").filter(|_| form) {
            let text = self.batch.pieces[p].text.clone();
            self.batch.decoded_params(p, text, self.limit);
        }
        self.path.truncate(len);
        Ok(())
    }
}
