//! HAR captures, read structurally: which entry and which field (header,
//! cookie, query parameter, body, WebSocket message) carried a secret.
//!
//! A HAR is recognised by content ([`sniff`]), walked without building a
//! tree (`walk`, over the `json` tokenizer), its strings decoded and batched
//! into one buffer (`piece`) that the ordinary engine scans; each match is
//! then placed back in its entry and field, and in the file's raw bytes
//! where it appears there literally.
//!
//! A capture cut off mid-write is common: what was walked whole keeps its
//! HAR findings, and the rest of the file is scanned as plain text, so
//! nothing is missed; the caller reports the input as incomplete.

mod json;
mod piece;
mod walk;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

use crate::finding::{Finding, HarLocation};
use crate::scan::chunk::{scan_slice, scan_slice_streaming};
use crate::scan::locate::{self, count_newlines, LineTracker, Origin};
use crate::scan::{stamp, Engine, RawMatch};
pub use json::JsonError;
use json::{Lexer, Tok};
use piece::Batch;
use walk::EntryInfo;

/// Batched pieces are scanned once they fill this much (at the next
/// entry's end).
const FLUSH: usize = 1 << 20;

/// Longest `METHOD URL` shown for a finding's entry.
const REQUEST_SHOWN: usize = 200;

/// Whether the first block of a text input is the start of a HAR: a JSON
/// object (or one wrapped in a JSONP call, `onInputData({…})`, as
/// harviewer keeps them) whose member `log` is an object with a HAR member
/// (`version`, `creator`, `browser`, `pages` or `entries`). A JSON-lines log
/// whose records have a `log` object of their own (Elastic's ECS: `level`,
/// `logger`) or string (Docker's) is not one. A `log` that is not an
/// object, in an object with HAR members of its own, or an array holding
/// a HAR object, is a broken HAR, reported as such by the walk.
pub fn sniff(head: &[u8]) -> bool {
    const HAR_KEYS: [&[u8]; 5] = [b"version", b"creator", b"browser", b"pages", b"entries"];
    /// HAR members unlikely at the top of a log record.
    const TOP_KEYS: [&[u8]; 4] = [b"creator", b"browser", b"pages", b"entries"];
    let mut lx = Lexer::new(head);
    lx.jsonp_open();
    if lx.next() != Ok(Tok::ObjOpen) {
        return false;
    }
    let start = lx.pos;
    match member(&mut lx, head, &|k| k == b"log") {
        Some(Tok::ObjOpen) => member(&mut lx, head, &|k| HAR_KEYS.contains(&k)).is_some(),
        Some(Tok::ArrOpen) => {
            lx.next() == Ok(Tok::ObjOpen)
                && member(&mut lx, head, &|k| HAR_KEYS.contains(&k)).is_some()
        }
        Some(_) => {
            let mut lx = Lexer {
                bytes: head,
                pos: start,
            };
            member(&mut lx, head, &|k| TOP_KEYS.contains(&k)).is_some()
        }
        None => false,
    }
}

/// Reads the members of an object whose `{` was just read, up to the first
/// whose name `want` accepts, and returns the first token of its value.
fn member(lx: &mut Lexer, head: &[u8], want: &dyn Fn(&[u8]) -> bool) -> Option<Tok> {
    let mut depth = 1usize;
    let mut key = true;
    while let Ok(t) = lx.next() {
        match t {
            Tok::Str { span, .. } if depth == 1 && key => {
                if want(&head[span]) {
                    return (lx.next() == Ok(Tok::Colon))
                        .then(|| lx.next().ok())
                        .flatten();
                }
                key = false;
            }
            Tok::Comma if depth == 1 => key = true,
            Tok::ObjOpen | Tok::ArrOpen => depth += 1,
            Tok::ObjClose | Tok::ArrClose => {
                depth -= 1;
                if depth == 0 {
                    return None;
                }
            }
            _ => {}
        }
    }
    None
}

/// A HAR that stopped being valid JSON.
#[derive(Debug)]
pub struct Broken {
    pub error: JsonError,
    /// 1-based line of the error.
    pub line: u64,
    /// Where the plain-text scan of the rest began.
    pub text_from: usize,
}

pub struct Scanned {
    pub findings: Vec<Finding>,
    pub broken: Option<Broken>,
    /// Strings that were scanned as text in the file, not decoded (see
    /// `--max-har-string`), with their fields as shown.
    pub long: Vec<Long>,
}

pub use piece::Long;

/// Scans a whole HAR file. None: it is valid JSON but not a HAR after all
/// (no `log.entries`), to be scanned as text. `release(n)` is told when
/// the first `n` bytes will not be needed again. The strings decoded at
/// once weigh at most about `limit` bytes (see [`piece::Batch::weight`]);
/// those that do not fit are scanned as text where they lie in the file.
///
/// With more than one worker thread, walking and scanning run as a
/// pipeline: the walker hands each full batch to a scanner thread.
pub fn scan(
    engine: &Engine,
    raw: &[u8],
    origin: &Origin,
    release: &(dyn Fn(usize) + Sync),
    limit: usize,
) -> Option<Scanned> {
    let sc = Scanner {
        engine,
        origin,
        raw,
        findings: Vec::new(),
        lines: LineTracker::new(0, 1, 0),
        release,
        regions: Vec::new(),
        long: Vec::new(),
    };
    let ((walked, safe), mut sc) = if rayon::current_num_threads() > 1 {
        let (tx, rx) = crossbeam_channel::bounded::<(Batch, Vec<EntryInfo>, usize)>(2);
        let (back_tx, back_rx) = crossbeam_channel::bounded::<Batch>(3);
        std::thread::scope(|s| {
            let scanner = s.spawn(move || {
                let mut sc = sc;
                for (mut batch, mut entries, safe) in rx {
                    sc.flush(&mut batch, &mut entries, safe);
                    let _ = back_tx.try_send(batch);
                }
                sc
            });
            let walked = drive(raw, limit, &mut |batch, entries, safe| {
                let spare = back_rx.try_recv().unwrap_or_default();
                let full = std::mem::replace(batch, spare);
                // A closed channel means the scanner thread died; its
                // panic is raised below.
                let _ = tx.send((full, std::mem::take(entries), safe));
            });
            drop(tx);
            match scanner.join() {
                Ok(sc) => (walked, sc),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    } else {
        let mut sc = sc;
        let walked = drive(raw, limit, &mut |batch, entries, safe| {
            sc.flush(batch, entries, safe)
        });
        (walked, sc)
    };
    let broken = match walked {
        Ok(true) => None,
        Ok(false) => return None,
        Err(error) => {
            sc.text(safe);
            let at = error.at.min(raw.len());
            sc.lines.advance(raw, at.max(sc.lines.pos));
            Some(Broken {
                error,
                line: sc.lines.line,
                text_from: safe,
            })
        }
    };
    Some(Scanned {
        findings: sc.findings,
        broken,
        long: sc.long,
    })
}

/// A secret to replace in a HAR, placed in the JSON string it was found in.
pub struct Redaction {
    pub at: InString,
    pub rule: usize,
    pub secret: Vec<u8>,
}

pub use piece::InString;

/// Walks a HAR for `redact`: every match `wants` takes, wherever a string's
/// decodings put it (no finding-level deduplication: each occurrence is
/// replaced), handed to `on` batch by batch in file order, sorted by
/// string. Ok(false): valid JSON but not a HAR. Every string is decoded,
/// however long: a secret in it is replaced in its JSON string.
pub fn redactions(
    engine: &Engine,
    raw: &[u8],
    wants: &dyn Fn(&RawMatch) -> bool,
    on: &mut dyn FnMut(Vec<Redaction>),
) -> Result<bool, JsonError> {
    let (walked, _) = drive(raw, usize::MAX, &mut |batch, entries, _| {
        let mut all = Vec::new();
        engine.scan(&batch.buf, 0..batch.buf.len(), &mut all);
        let mut found = Vec::new();
        for m in all.iter().filter(|m| wants(m)) {
            let i = batch
                .pieces
                .partition_point(|p| p.text.end < m.secret.start);
            let inside = batch
                .pieces
                .get(i)
                .is_some_and(|p| p.text.start <= m.secret.start && m.secret.end <= p.text.end);
            if let Some(at) = inside.then(|| batch.in_string(i, &m.secret)).flatten() {
                found.push(Redaction {
                    at,
                    rule: m.rule,
                    secret: m.bytes(&batch.buf).to_vec(),
                });
            }
        }
        found.sort_by_key(|r| (r.at.string.start, r.at.span.start));
        on(found);
        batch.clear();
        entries.clear();
    });
    walked
}

/// A JSON string body's value: `raw[span]` unescaped.
pub fn string_value(raw: &[u8], span: Range<usize>, escaped: bool) -> Cow<'_, [u8]> {
    if !escaped {
        return Cow::Borrowed(&raw[span]);
    }
    let mut out = Vec::new();
    json::unescape(raw, span, 0, &mut out, &mut Vec::new());
    Cow::Owned(out)
}

/// `value` as a JSON string body.
pub fn string_body(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    json::escape(value, &mut out);
    out
}

/// A base64 body decoded, when it is text.
pub fn base64_text(value: &[u8]) -> Option<Vec<u8>> {
    match piece::base64_body(value)? {
        piece::Body::Text(t) => Some(t),
        piece::Body::Binary => None,
    }
}

/// Walks `raw`, handing each batch of about [`FLUSH`] bytes to `hand`
/// (which leaves it empty) with the offset its entries end at, then the
/// rest (after an error, every string read whole). Returns the walk's
/// outcome and how far it was walked whole, entry by entry.
fn drive(
    raw: &[u8],
    limit: usize,
    hand: &mut dyn FnMut(&mut Batch, &mut Vec<EntryInfo>, usize),
) -> (Result<bool, JsonError>, usize) {
    let mut batch = Batch::default();
    let mut entries = Vec::new();
    let mut safe = 0;
    let walked = walk::walk(raw, limit, &mut batch, &mut entries, &mut |b, e, pos| {
        safe = pos;
        if b.buf.len() >= FLUSH {
            hand(b, e, pos);
        }
    });
    // After an error too: every string read whole is scanned (the text
    // scan of the rest leaves out what they gave).
    if walked != Ok(false) {
        hand(&mut batch, &mut entries, safe);
    }
    (walked, safe)
}

/// Turns batches into findings, in file order.
struct Scanner<'a> {
    engine: &'a Engine,
    origin: &'a Origin,
    raw: &'a [u8],
    findings: Vec<Finding>,
    /// Lines counted so far: batches hold entries in file order, so each
    /// one's findings lie past the last one's.
    lines: LineTracker,
    release: &'a (dyn Fn(usize) + Sync),
    /// The raw bytes each walked match stands for (a decoded one: the
    /// whole parameter or string), which the text scan of a broken HAR's
    /// rest leaves out.
    regions: Vec<Range<u64>>,
    /// The strings scanned as text, for the caller to report.
    long: Vec<Long>,
}

impl Scanner<'_> {
    /// Scans the batch, whose entries end at `safe`, and turns its matches
    /// into findings.
    fn flush(&mut self, batch: &mut Batch, entries: &mut Vec<EntryInfo>, safe: usize) {
        if batch.pieces.is_empty() && batch.long.is_empty() {
            batch.clear();
            entries.clear();
            return;
        }
        let hay = &batch.buf;
        let mut all: Vec<RawMatch> = Vec::new();
        self.engine.scan(hay, 0..hay.len(), &mut all);
        let piece_of = |m: &RawMatch| {
            let i = batch
                .pieces
                .partition_point(|p| p.text.end < m.secret.start);
            // A match across two pieces is two strings' bytes: no secret.
            batch
                .pieces
                .get(i)
                .filter(|p| p.text.start <= m.secret.start && m.secret.end <= p.text.end)
                .map(|_| i)
        };
        // What contexts and request lines mask: every match, and for a
        // match in a percent-decoded piece also the bytes it was decoded
        // from, so that no excerpt shows a secret in its encoded form.
        let mut masks = all.clone();
        for m in &all {
            if let Some(encoded) = piece_of(m).and_then(|i| batch.encoded_span(i, &m.secret)) {
                masks.push(RawMatch {
                    secret: encoded,
                    ..m.clone()
                });
            }
        }
        let masks = merge(masks);
        // (piece, finding, raw bytes it stands for)
        let mut found: Vec<(usize, Finding, Range<u64>)> = Vec::new();
        for m in &all {
            let Some(i) = piece_of(m) else {
                continue;
            };
            let p = &batch.pieces[i];
            let mut f = locate::build(self.engine, hay, 0, m, &masks, 0, 0, self.origin);
            f.line = None;
            f.column = None;
            f.offset = batch.raw_span(p, &m.secret);
            f.har = Some(HarLocation {
                entry: p.entry,
                field: self.shown(batch.field(p)),
            });
            let region = match f.offset {
                Some(o) => o..o + m.secret.len() as u64,
                None => p.region.clone(),
            };
            found.push((i, f, region));
        }
        // Strings too long to decode: their findings, placed in the file.
        // Their pages leave memory as they are scanned.
        let mut long_found = Vec::new();
        let long_fields: Vec<String> = batch.long.iter().map(|l| self.shown(&l.field)).collect();
        for (k, l) in batch.long.iter().enumerate() {
            let from = l.span.start;
            let found = std::sync::Mutex::new(Vec::new());
            scan_slice_streaming(
                self.engine,
                &self.raw[l.span.clone()],
                self.origin,
                &|r| (self.release)(from + r.end),
                &|mut f| {
                    if let Ok(mut found) = found.lock() {
                        found.append(&mut f);
                    }
                },
            );
            for mut f in found.into_inner().unwrap_or_default() {
                f.offset = f.offset.map(|o| o + from as u64);
                f.har = Some(HarLocation {
                    entry: l.entry,
                    field: long_fields[k].clone(),
                });
                long_found.push((k, f));
            }
        }
        self.regions.extend(found.iter().map(|(_, _, r)| r.clone()));
        // (Where each starts is enough: the text scan finds it there again.)
        self.regions.extend(
            long_found
                .iter()
                .filter_map(|(_, f)| f.offset.map(|o| o..o + 1)),
        );
        // A parameter seen both encoded and decoded is reported decoded:
        // that is the secret's real value. Decoded regions by (entry,
        // field), sorted, each with the furthest end so far.
        let mut decoded: HashMap<(Option<u64>, &str), Vec<Span>> = HashMap::new();
        for (i, _, r) in &found {
            let p = &batch.pieces[*i];
            if p.decoded() {
                decoded
                    .entry((p.entry, batch.field(p)))
                    .or_default()
                    .push((r.start, r.end));
            }
        }
        for regions in decoded.values_mut() {
            regions.sort_unstable();
            let mut furthest = 0;
            for r in regions.iter_mut() {
                furthest = furthest.max(r.1);
                r.1 = furthest;
            }
        }
        let shadowed = |p: &piece::Piece, region: &Range<u64>| {
            let Some(regions) = decoded.get(&(p.entry, batch.field(p))) else {
                return false;
            };
            let before = regions.partition_point(|r| r.0 < region.end);
            before > 0 && regions[before - 1].1 > region.start
        };
        let mut once = HashSet::new();
        let mut requests: HashMap<u64, (Option<String>, Option<i64>)> = HashMap::new();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        // Lines of the findings placed in the file, in file order: those
        // of pieces, then (past them) those of long strings.
        let mut order: Vec<(u64, usize)> = found
            .iter()
            .map(|(_, f, _)| f)
            .chain(long_found.iter().map(|(_, f)| f))
            .enumerate()
            .filter_map(|(k, f)| f.offset.map(|o| (o, k)))
            .collect();
        order.sort_unstable();
        for (offset, k) in order {
            let to = usize::try_from(offset).map_or(self.raw.len(), |o| o.min(self.raw.len()));
            self.lines.advance(self.raw, to.max(self.lines.pos));
            let f = match found.get_mut(k) {
                Some((_, f, _)) => f,
                None => &mut long_found[k - found.len()].1,
            };
            f.line = Some(self.lines.line);
            f.column = Some((to as i64 - self.lines.line_start + 1).max(1) as u64);
        }
        let first = self.findings.len();
        let pieces = found.into_iter().map(|(i, f, region)| {
            let p = &batch.pieces[i];
            let shadow = !p.decoded() && shadowed(p, &region);
            (p.entry, batch.field(p), shadow, f)
        });
        let long = long_found.into_iter().map(|(k, f)| {
            let l = &batch.long[k];
            (l.entry, l.field.as_str(), false, f)
        });
        for (entry, field, shadow, mut f) in pieces.chain(long) {
            if shadow || !once.insert((entry, field, f.fingerprint.clone())) {
                continue;
            }
            if let Some(e) = entry {
                let (request, when) = requests
                    .entry(e)
                    .or_insert_with(|| self.request(batch, entries, &masks, e, now));
                f.request = request.clone();
                f.when = *when;
            }
            self.findings.push(f);
        }
        // Entry by entry, each in file order (a long string's findings were
        // found apart from its entry's other strings').
        self.findings[first..].sort_by_key(|f| {
            let entry = f.har.as_ref().and_then(|h| h.entry);
            (entry, f.offset.unwrap_or(u64::MAX))
        });
        let mut long = std::mem::take(&mut batch.long);
        for (l, field) in long.iter_mut().zip(long_fields) {
            l.field = field;
        }
        self.long.append(&mut long);
        batch.clear();
        entries.clear();
        // Count on to where the batch ends, so that the bytes before it are
        // not read again.
        self.lines.advance(self.raw, safe.max(self.lines.pos));
        (self.release)(safe);
    }

    /// A field path as shown: a secret in it (a header name that is a
    /// token) masked, unless secrets are shown.
    fn shown(&self, field: &str) -> String {
        if self.origin.show_secrets {
            return field.to_owned();
        }
        let mut m = Vec::new();
        self.engine.scan(field.as_bytes(), 0..field.len(), &mut m);
        if m.is_empty() {
            return field.to_owned();
        }
        locate::masked(self.engine, field.as_bytes(), 0..field.len(), &m, false)
    }

    /// An entry's `METHOD URL` (every secret in it masked) and start time.
    fn request(
        &self,
        batch: &Batch,
        entries: &[EntryInfo],
        masks: &[RawMatch],
        entry: u64,
        now: i64,
    ) -> (Option<String>, Option<i64>) {
        let Ok(i) = entries.binary_search_by_key(&entry, |e| e.entry) else {
            return (None, None);
        };
        let info = &entries[i];
        let when = info
            .started
            .as_ref()
            .and_then(|s| self.raw.get(s.clone()))
            .and_then(|s| stamp::of_line(s, now).0);
        // The entry's own pieces only (a piece index from a cut-off entry
        // may name another's).
        let shown = |piece: Option<usize>| {
            let p = batch.pieces.get(piece?)?;
            (p.entry == Some(entry)).then(|| {
                let text = p.text.clone();
                locate::masked(
                    self.engine,
                    &batch.buf,
                    text,
                    masks,
                    self.origin.show_secrets,
                )
            })
        };
        let request = match (shown(info.method), shown(info.url)) {
            (None, None) => None,
            (m, u) => {
                let mut s = format!("{} {}", m.unwrap_or_default(), u.unwrap_or_default());
                if s.chars().count() > REQUEST_SHOWN {
                    s = s.chars().take(REQUEST_SHOWN).collect();
                    s.push('…');
                }
                Some(s.trim().to_owned())
            }
        };
        (request, when)
    }

    /// Scans `raw[from..]` as plain text (the part of a broken HAR that
    /// could not be walked), leaving out what the walk found at the same
    /// place.
    fn text(&mut self, from: usize) {
        let from = from.min(self.raw.len());
        let mut walked = std::mem::take(&mut self.regions);
        walked.sort_unstable_by_key(|r| r.start);
        let seen = |o: u64| {
            let before = walked.partition_point(|r| r.start <= o);
            walked[..before].iter().rev().take(64).any(|r| o < r.end)
        };
        // Context starts a match's reach before `from`, at a line start if
        // there is one: a one-line capture is not read again whole.
        let lo = from.saturating_sub(self.engine.overlap());
        let newline = memchr::memrchr(b'\n', &self.raw[lo..from]);
        let start = newline.map_or(lo, |i| lo + i + 1);
        // The line number and line start of `start`, from the line count,
        // which may already be past it (at a finding of the cut entry).
        let (line, line_start) = if start >= self.lines.pos {
            self.lines.advance(self.raw, start);
            (self.lines.line, self.lines.line_start)
        } else {
            let between = count_newlines(&self.raw[start..self.lines.pos]) as u64;
            let line_start = if newline.is_some() {
                start as i64
            } else if between == 0 {
                self.lines.line_start
            } else {
                memchr::memrchr(b'\n', &self.raw[..start]).map_or(0, |i| i as i64 + 1)
            };
            (self.lines.line - between, line_start)
        };
        let column = (start as i64 - line_start).max(0) as u64;
        for mut f in scan_slice(self.engine, &self.raw[start..], self.origin) {
            f.offset = f.offset.map(|o| o + start as u64);
            if f.offset.is_some_and(|o| o < from as u64 || seen(o)) {
                continue;
            }
            if f.line == Some(1) {
                f.column = f.column.map(|c| c + column);
            }
            f.line = f.line.map(|l| l + line - 1);
            self.findings.push(f);
        }
    }
}

/// Raw byte range (start, end) of a decoded match; see `Scanner::flush`.
type Span = (u64, u64);

/// Merges overlapping matches (sorted by start after), keeping the first's
/// rule: a mask covers the union.
fn merge(mut masks: Vec<RawMatch>) -> Vec<RawMatch> {
    masks.sort_by_key(|m| (m.secret.start, std::cmp::Reverse(m.secret.end)));
    let mut out: Vec<RawMatch> = Vec::with_capacity(masks.len());
    for m in masks {
        match out.last_mut() {
            Some(last) if m.secret.start < last.secret.end => {
                last.secret.end = last.secret.end.max(m.secret.end);
            }
            _ => out.push(m),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_wants_a_log_object() {
        assert!(sniff(
            b"\xef\xbb\xbf{\n  \"log\": {\n    \"version\": \"1.2\""
        ));
        assert!(sniff(
            br#"{"comment": {"a": [1, {"log": 2}]}, "log": {"entries": ["#
        ));
        assert!(
            !sniff(
                br#"{"@timestamp":"2024-05-01T12:00:00Z","log":{"level":"info"},"message":"x"}"#
            ),
            "ECS"
        );
        assert!(
            !sniff(br#"{"log":"GET /x\n","stream":"stdout"}"#),
            "Docker json-file"
        );
        assert!(!sniff(br#"{"a": {"log": {"entries": []}}}"#), "nested log");
        assert!(!sniff(br#"[{"log": {}}]"#));
        assert!(!sniff(b"log: {"));
    }
}
