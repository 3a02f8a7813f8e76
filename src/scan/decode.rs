//! Decoded views of escaped text. Log pipelines escape and wrap what they
//! write: JSON string escapes (`\n`, `\/`, `\u0026`, JSON inside a JSON
//! string), XML entities (`&quot;`), nginx `\x22`, percent-encoding (nested
//! and double), ANSI colour codes, base64 blobs, PEM blocks written one line
//! at a time behind a syslog or docker prefix. A token behind such an escape
//! is cut or hidden in the raw bytes; the scanner (see `Engine::scan`) runs
//! its rules again on a [`View`] of the stretch around a keyword hit, with
//! every escape undone, and maps what it finds back to the raw bytes.
//!
//! A view is built only where the raw text holds an escape near a keyword
//! hit, so logs without escapes pay one quick look per hit line.

use std::ops::Range;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, Engine as _};

/// Unescaping rounds at most: JSON in a JSON string in a percent-encoded
/// query is three layers; a fourth round finds nothing more in real logs.
const DEPTH: usize = 4;

/// Shortest base64 run decoded in a view (12 bytes of text).
const MIN_BASE64: usize = 16;
/// Longest base64 run decoded in a view: bounds the work one run costs.
const MAX_BASE64: usize = 64 * 1024;

/// A decoded copy of a raw stretch, with the raw bytes each byte came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub bytes: Vec<u8>,
    /// `from[i]..to[i]`: the raw bytes (offsets into the stretch) that
    /// byte `i` was decoded from; an escape's bytes all map to all of it.
    from: Vec<u32>,
    to: Vec<u32>,
}

impl View {
    fn identity(raw: &[u8]) -> View {
        let n = raw.len() as u32;
        View {
            bytes: raw.to_vec(),
            from: (0..n).collect(),
            to: (1..=n).collect(),
        }
    }

    /// The raw range (offsets into the stretch) that the decoded range
    /// `r` came from. `r` must be a non-empty range of `bytes`.
    pub fn raw_span(&self, r: &Range<usize>) -> Range<usize> {
        self.from[r.start] as usize..self.to[r.end - 1] as usize
    }

    /// This view passed through one more layer, whose output byte `i`
    /// came from `layer.from[i]..layer.to[i]` of this view's bytes.
    fn then(&self, layer: Layer) -> View {
        View {
            from: layer.from.iter().map(|&i| self.from[i as usize]).collect(),
            to: layer.to.iter().map(|&i| self.to[i as usize - 1]).collect(),
            bytes: layer.bytes,
        }
    }
}

/// One decoding pass's output and where each output byte came from in its
/// input.
#[derive(Default)]
struct Layer {
    bytes: Vec<u8>,
    from: Vec<u32>,
    to: Vec<u32>,
}

impl Layer {
    fn with_capacity(n: usize) -> Layer {
        Layer {
            bytes: Vec::with_capacity(n),
            from: Vec::with_capacity(n),
            to: Vec::with_capacity(n),
        }
    }

    /// Bytes copied unchanged from input offset `at` on.
    fn copy(&mut self, bytes: &[u8], at: usize) {
        let at = at as u32;
        let n = bytes.len() as u32;
        self.bytes.extend_from_slice(bytes);
        self.from.extend(at..at + n);
        self.to.extend(at + 1..at + n + 1);
    }

    fn extend(&mut self, bytes: &[u8], src: Range<usize>) {
        for &b in bytes {
            self.bytes.push(b);
            self.from.push(src.start as u32);
            self.to.push(src.end as u32);
        }
    }
}

/// Whether `raw` holds an escape that [`views`] would undo.
pub fn has_escape(raw: &[u8]) -> bool {
    memchr::memchr3_iter(b'\\', b'%', b'&', raw)
        .any(|i| escape_at(raw, i, url_at(raw, i)).is_some())
        || memchr::memchr(0x1b, raw).is_some()
}

/// Whether `raw` holds an escape that changes what a rule sees: any but a
/// lone `\"`, which JSON logs are full of and the rules read through
/// (`\\?["']`). A `\\\"` (JSON in a JSON string) still counts, by its `\\`.
pub fn needs_view(raw: &[u8]) -> bool {
    memchr::memchr3_iter(b'\\', b'%', b'&', raw)
        .any(|i| raw.get(i..i + 2) != Some(b"\\\"") && escape_at(raw, i, url_at(raw, i)).is_some())
        || memchr::memchr(0x1b, raw).is_some()
}

/// The decoded views of `raw`: escapes undone round after round (at most
/// [`DEPTH`]), `None` when nothing changed; and on top of that, base64 runs
/// that hold text decoded and one more round for escapes inside them,
/// `None` when no base64 run was decoded. The base64 view is a second view,
/// since decoding a Basic credential's base64 hides it from the rule that
/// matches it encoded. Stretches longer than `u32::MAX` are not decoded.
pub fn views(raw: &[u8]) -> [Option<View>; 2] {
    if raw.len() >= u32::MAX as usize {
        return [None, None];
    }
    let mut v = View::identity(raw);
    let mut changed = false;
    for _ in 0..DEPTH {
        match unescape(&v.bytes) {
            Some(layer) => {
                v = v.then(layer);
                changed = true;
            }
            None => break,
        }
    }
    let base64 = decode_base64_runs(&v.bytes).map(|layer| {
        let mut b = v.then(layer);
        if let Some(layer) = unescape(&b.bytes) {
            b = b.then(layer);
        }
        b
    });
    [changed.then_some(v), base64]
}

/// Undoes every escape in `s` once; `None` when there is none.
fn unescape(s: &[u8]) -> Option<Layer> {
    let mut out = Layer::with_capacity(s.len());
    let mut changed = false;
    let mut run = UrlRun::default();
    let mut i = 0;
    while i < s.len() {
        // The bytes up to the next that may start an escape are copied as
        // they are, at once.
        let plain = s[i..]
            .iter()
            .position(|b| matches!(b, b'\\' | b'%' | b'&' | 0x1b))
            .unwrap_or(s.len() - i);
        out.copy(&s[i..i + plain], i);
        i += plain;
        if i == s.len() {
            break;
        }
        let url = s[i] == b'%' && run.url_encoded(s, i);
        let len = match escape_at(s, i, url) {
            Some((decoded, len)) => {
                out.extend(decoded.as_slice(), i..i + len);
                changed = true;
                len
            }
            None => {
                out.copy(&s[i..=i], i);
                1
            }
        };
        i += len;
    }
    changed.then_some(out)
}

/// [`url_encoded`] for a pass from left to right: the run of text so far
/// is followed byte by byte, not looked back over at every `%` (a line of
/// thousands of them would take quadratic time).
#[derive(Default)]
struct UrlRun {
    start: usize,
    query: bool,
    quoted: bool,
    /// Whether the run starts as `name=`, once the name has ended.
    named: Option<bool>,
    /// How far the run's leading name has been followed.
    name_end: usize,
    /// Bytes before this are passed; the rest wait for the next `%`, so a
    /// stretch without one costs nothing.
    seen: usize,
}

impl UrlRun {
    fn pass(&mut self, b: u8, at: usize) {
        if DELIMITERS.contains(&b) {
            *self = UrlRun {
                start: at + 1,
                quoted: matches!(b, b'"' | b'\''),
                seen: self.seen,
                ..UrlRun::default()
            };
        } else if matches!(b, b'?' | b'&') {
            self.query = true;
        }
    }

    fn url_encoded(&mut self, s: &[u8], i: usize) -> bool {
        let from = self.seen;
        for (k, &b) in s[from.min(i)..i].iter().enumerate() {
            self.pass(b, from + k);
        }
        self.seen = self.seen.max(i);
        if self.query {
            return true;
        }
        if self.named.is_none() {
            // The name is followed as far as it goes (once, not per `%`).
            let mut end = self.name_end.max(self.start);
            while end < i && is_name_byte(s[end]) {
                end += 1;
            }
            self.name_end = end;
            if end < i {
                self.named = Some(end > self.start && s[end] == b'=');
            }
        }
        !self.quoted && self.named == Some(true)
    }
}

/// What ends a run of URL text.
const DELIMITERS: &[u8] = b" \t\r\n\"'<>";

/// Whether `run` starts as `name=` (brackets and escapes in the name:
/// `user%5Bpassword%5D=`).
fn starts_named(run: &[u8]) -> bool {
    let name = run.iter().take_while(|&&b| is_name_byte(b)).count();
    name > 0 && run.get(name) == Some(&b'=')
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"_.-[]%".contains(&b)
}

/// Up to four decoded bytes (one UTF-8 character); none for a removed
/// ANSI sequence.
struct Decoded {
    buf: [u8; 4],
    len: usize,
}

impl Decoded {
    fn byte(b: u8) -> Decoded {
        Decoded {
            buf: [b, 0, 0, 0],
            len: 1,
        }
    }

    fn none() -> Decoded {
        Decoded {
            buf: [0; 4],
            len: 0,
        }
    }

    fn char(c: char) -> Decoded {
        let mut buf = [0; 4];
        let len = c.encode_utf8(&mut buf).len();
        Decoded { buf, len }
    }

    fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// The escape starting at `s[i]`, decoded, and how many bytes it spans.
fn escape_at(s: &[u8], i: usize, url: bool) -> Option<(Decoded, usize)> {
    match s[i] {
        b'\\' => backslash(s, i),
        b'%' if url => hex_byte(s.get(i + 1..i + 3)?).map(|b| (Decoded::byte(b), 3)),
        b'&' => entity(s, i),
        0x1b => Some((Decoded::none(), ansi_len(s, i))),
        _ => None,
    }
}

/// Whether the `%` at `i` is in URL-encoded text: the run of text around
/// it (up to a space or quote) holds a query's `?` or `&` before it, or
/// starts as `name=` after a space. A `%` in a JSON value or a logged hash is the
/// character itself (passwords hold `%2A`).
fn url_encoded(s: &[u8], i: usize) -> bool {
    let from = i.saturating_sub(2048);
    let delimiter = s[from..i].iter().rposition(|b| DELIMITERS.contains(b));
    let start = delimiter.map_or(from, |p| from + p + 1);
    let run = &s[start..i];
    if run.iter().any(|b| matches!(b, b'?' | b'&')) {
        return true;
    }
    // `name=` after a quote is likely a quoted value holding `=` itself.
    let quoted = delimiter.is_some_and(|p| matches!(s[from + p], b'"' | b'\''));
    !quoted && starts_named(run)
}

/// Whether the byte at `i` is a `%` in URL-encoded text.
fn url_at(s: &[u8], i: usize) -> bool {
    s[i] == b'%' && url_encoded(s, i)
}

/// JSON, C and shell escapes: `\n \r \t \" \' \\ \/ \e \033 \xHH \uHHHH`
/// (UTF-16 surrogate pairs joined).
fn backslash(s: &[u8], i: usize) -> Option<(Decoded, usize)> {
    let simple = |b: u8| Some((Decoded::byte(b), 2));
    match *s.get(i + 1)? {
        b'n' => simple(b'\n'),
        b'r' => simple(b'\r'),
        b't' => simple(b'\t'),
        b'e' => simple(0x1b),
        c @ (b'"' | b'\'' | b'\\' | b'/') => simple(c),
        b'0' if s.get(i + 2..i + 4) == Some(b"33") => Some((Decoded::byte(0x1b), 4)),
        b'x' => hex_byte(s.get(i + 2..i + 4)?).map(|b| (Decoded::byte(b), 4)),
        b'u' => {
            let hi = hex_u16(s.get(i + 2..i + 6)?)?;
            if (0xd800..0xdc00).contains(&hi) {
                // A high surrogate needs its low half in the next escape.
                let rest = s.get(i + 6..i + 12)?;
                let lo = match rest {
                    [b'\\', b'u', h @ ..] => hex_u16(h)?,
                    _ => return None,
                };
                if !(0xdc00..0xe000).contains(&lo) {
                    return None;
                }
                let c = 0x10000 + ((u32::from(hi) - 0xd800) << 10) + (u32::from(lo) - 0xdc00);
                return char::from_u32(c).map(|c| (Decoded::char(c), 12));
            }
            char::from_u32(u32::from(hi)).map(|c| (Decoded::char(c), 6))
        }
        _ => None,
    }
}

/// XML / HTML entities: the five named ones and numeric `&#NN;` /
/// `&#xHH;`.
fn entity(s: &[u8], i: usize) -> Option<(Decoded, usize)> {
    const NAMED: &[(&[u8], u8)] = &[
        (b"&quot;", b'"'),
        (b"&apos;", b'\''),
        (b"&amp;", b'&'),
        (b"&lt;", b'<'),
        (b"&gt;", b'>'),
    ];
    let rest = &s[i..];
    if let Some((name, b)) = NAMED.iter().find(|(n, _)| rest.starts_with(n)) {
        return Some((Decoded::byte(*b), name.len()));
    }
    let body = rest.strip_prefix(b"&#")?;
    let (digits, radix, skip) = match body.first()? {
        b'x' | b'X' => (&body[1..], 16, 3),
        _ => (body, 10, 2),
    };
    let n = digits
        .iter()
        .take(8)
        .take_while(|b| b.is_ascii_hexdigit())
        .count();
    if n == 0 || digits.get(n) != Some(&b';') {
        return None;
    }
    let text = std::str::from_utf8(&digits[..n]).ok()?;
    let c = char::from_u32(u32::from_str_radix(text, radix).ok()?)?;
    Some((Decoded::char(c), skip + n + 1))
}

/// Length of the ANSI escape sequence at `s[i]` (an ESC byte): CSI
/// (`ESC [ params final`), OSC (`ESC ] … BEL` or `ESC ] … ESC \`), or ESC
/// and one more byte.
fn ansi_len(s: &[u8], i: usize) -> usize {
    match s.get(i + 1) {
        Some(b'[') => {
            let body = &s[i + 2..];
            let n = body
                .iter()
                .take(32)
                .take_while(|b| (0x20..0x40).contains(*b))
                .count();
            match body.get(n) {
                Some(b) if (0x40..0x7f).contains(b) => n + 3,
                _ => 2,
            }
        }
        Some(b']') => {
            let body = &s[i + 2..];
            let end = body.iter().take(256).position(|&b| b == 0x07 || b == 0x1b);
            match end {
                Some(e) if body[e] == 0x07 => e + 3,
                Some(e) if body.get(e + 1) == Some(&b'\\') => e + 4,
                _ => 2,
            }
        }
        Some(_) => 2,
        None => 1,
    }
}

fn hex_byte(h: &[u8]) -> Option<u8> {
    match h {
        [a, b] => Some(hex_digit(*a)? << 4 | hex_digit(*b)?),
        _ => None,
    }
}

fn hex_u16(h: &[u8]) -> Option<u16> {
    h.iter()
        .try_fold(0u16, |acc, &b| Some(acc << 4 | u16::from(hex_digit(b)?)))
        .filter(|_| h.len() == 4)
}

fn hex_digit(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

pub fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

/// Padding optional, trailing bits ignored: logged base64 is written every
/// way.
const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

/// Replaces each base64 run of `s` that decodes to text (a JSON blob, a
/// Basic credential) with that text. Runs joined to a `.` (JWT segments,
/// signed cookies, which rules read whole) and runs that decode to binary
/// (random tokens) stay as they are.
fn decode_base64_runs(s: &[u8]) -> Option<Layer> {
    let mut out = Layer::with_capacity(s.len());
    let mut changed = false;
    let mut i = 0;
    while i < s.len() {
        if !is_base64(s[i]) || (i > 0 && is_base64(s[i - 1])) {
            out.extend(&s[i..=i], i..i + 1);
            i += 1;
            continue;
        }
        let len = s[i..].iter().take_while(|&&b| is_base64(b)).count();
        let mut end = i + len;
        while end < s.len() && s[end] == b'=' && end - (i + len) < 2 {
            end += 1;
        }
        let dotted = (i > 0 && s[i - 1] == b'.') || s.get(end) == Some(&b'.');
        let text = (!dotted && (MIN_BASE64..=MAX_BASE64).contains(&len))
            .then(|| base64_text(&s[i..i + len]))
            .flatten();
        match text {
            Some(text) => {
                // Each decoded byte maps to the 4-character group that
                // holds it.
                for (k, &b) in text.iter().enumerate() {
                    let g = i + k / 3 * 4;
                    out.extend(&[b], g..(g + 4).min(end));
                }
                changed = true;
            }
            None => {
                for k in i..end {
                    out.extend(&s[k..=k], k..k + 1);
                }
            }
        }
        i = end;
    }
    changed.then_some(out)
}

/// Whether `s` starts with a base64 run (of at least [`MIN_BASE64`]
/// characters) that decodes to text, and how long the run looked at is.
pub fn starts_base64_text(s: &[u8]) -> (bool, usize) {
    let len = run_len(s);
    let text = (MIN_BASE64..=MAX_BASE64).contains(&len) && base64_text(&s[..len]).is_some();
    (text, len)
}

/// The base64 run at the start of `s` (of [`MIN_BASE64`] to
/// [`MAX_BASE64`] characters, not joined to a `.`), decoded, when it
/// decodes to text; and the run's length with its padding.
pub fn base64_text_run(s: &[u8]) -> Option<(Vec<u8>, usize)> {
    let len = run_len(s);
    let padded = len + s[len..].iter().take(2).take_while(|&&b| b == b'=').count();
    if !(MIN_BASE64..=MAX_BASE64).contains(&len) || s.get(padded) == Some(&b'.') {
        return None;
    }
    Some((base64_text(&s[..len])?, padded))
}

/// Length of the base64 run at the start of `s`, looked at no further than
/// one byte past [`MAX_BASE64`].
fn run_len(s: &[u8]) -> usize {
    s.iter()
        .take(MAX_BASE64 + 1)
        .take_while(|&&b| is_base64(b))
        .count()
}

/// `run` decoded, when it decodes to printable UTF-8 text.
fn base64_text(run: &[u8]) -> Option<Vec<u8>> {
    let (mut url, mut std) = (false, false);
    for &b in run {
        url |= matches!(b, b'-' | b'_');
        std |= matches!(b, b'+' | b'/');
    }
    if url && std {
        return None;
    }
    let engine = if url { &URL_SAFE } else { &STANDARD };
    let bytes = engine.decode(run).ok()?;
    let control = |b: &u8| b.is_ascii_control() && !matches!(b, b'\n' | b'\r' | b'\t');
    let printable = if bytes.is_ascii() {
        !bytes.iter().any(control)
    } else {
        let text = std::str::from_utf8(&bytes).ok()?;
        text.chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
    };
    (printable && bytes.len() >= MIN_BASE64 * 3 / 4).then_some(bytes)
}

/// A PEM block written one line at a time behind a prefix each line
/// repeats (a syslog header, a docker `json-file` wrapper): the view of
/// the block with the prefixes and wrappers cut away, or `None`.
/// `begin` is where `-----BEGIN` stands, `line_start` where its line
/// starts. Consecutive lines belong to the block while their start has the
/// shape of the first line's (digits may differ: timestamps tick).
pub fn prefixed_pem(hay: &[u8], line_start: usize, begin: usize) -> Option<(usize, View)> {
    const MAX_LINES: usize = 200;
    let prefix = &hay[line_start..begin];
    if prefix.is_empty() {
        return None;
    }
    let near = |from: usize| &hay[from..(from + MAX_PEM_LINE).min(hay.len())];
    let mut at = begin + memchr::memchr(b'\n', near(begin))?;
    let mut out = Layer::default();
    out.extend_raw(hay, begin..begin + pem_run(&hay[begin..at]));
    for _ in 0..MAX_LINES {
        let start = at + 1;
        let end = match memchr::memchr(b'\n', near(start)) {
            Some(i) => start + i,
            None if hay.len() - start <= MAX_PEM_LINE => hay.len(),
            None => return None,
        };
        let line = &hay[start..end];
        let common = header_len(prefix, line);
        if common < prefix.len().min(4) {
            return None;
        }
        let content = start + common;
        let run_end = content + pem_run(&hay[content..end]);
        if run_end == content {
            return None;
        }
        out.extend(b"\n", at..at + 1);
        out.extend_raw(hay, content..run_end);
        if find(&hay[content..run_end], b"-----END").is_some() {
            let view = View {
                bytes: out.bytes,
                from: out.from,
                to: out.to,
            };
            return Some((begin, view));
        }
        if end == hay.len() {
            return None;
        }
        at = end;
    }
    None
}

impl Layer {
    /// Appends `hay[r]` byte for byte, each mapped to itself (offsets into
    /// `hay`).
    fn extend_raw(&mut self, hay: &[u8], r: Range<usize>) {
        for k in r {
            self.extend(&hay[k..=k], k..k + 1);
        }
    }
}

/// Longest line (prefix and PEM text) a block logged line by line is
/// looked for in: its lines hold 64 characters of base64 behind a log
/// header, and a line of megabytes (a run of BEGIN headers) is no such
/// block, nor worth copying.
const MAX_PEM_LINE: usize = 4096;

/// Bytes at the start of `s` that a PEM line holds: base64, the armor
/// lines' letters and dashes, and `Proc-Type:`-style headers.
fn pem_run(s: &[u8]) -> usize {
    s.iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || b"+/=:,. -".contains(&b))
        .count()
}

/// How many leading bytes of `line` are the header it shares with
/// `prefix`: the common start (digits counted alike), cut back to just
/// after a delimiter unless it is all of `prefix` — a key line starting
/// with the letter that follows the header's last word must not lose it.
fn header_len(prefix: &[u8], line: &[u8]) -> usize {
    let common = prefix
        .iter()
        .zip(line)
        .take_while(|(a, b)| a == b || (a.is_ascii_digit() && b.is_ascii_digit()))
        .count();
    if common == prefix.len() {
        return common;
    }
    prefix[..common]
        .iter()
        .rposition(|b| b" \t\":]>|,{".contains(b))
        .map_or(0, |i| i + 1)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(raw: &str) -> String {
        let [plain, base64] = views(raw.as_bytes());
        let v = base64.or(plain);
        String::from_utf8(v.map_or(raw.as_bytes().to_vec(), |v| v.bytes)).expect("utf-8")
    }

    #[test]
    fn undoes_each_escape_kind() {
        assert_eq!(decoded(r"a\nb\tc\/d\u0026e\x22f"), "a\nb\tc/d&e\"f");
        assert_eq!(decoded("x\x1b[33mghp_\x1b[0m"), "xghp_");
        assert_eq!(decoded(r"x\u001b[1;31mred"), "xred");
        assert_eq!(
            decoded("&quot;password&quot;:&#39;k&#x41;"),
            "\"password\":'kA"
        );
        assert_eq!(
            decoded("next=%2Fapi%3Ftoken%253Dabc"),
            "next=/api?token=abc"
        );
        assert_eq!(decoded(r"\ud83d\ude00!"), "\u{1f600}!");
        assert_eq!(decoded(r#"{\"a\":\"b\\\/c\"}"#), r#"{"a":"b/c"}"#);
    }

    #[test]
    fn leaves_what_is_no_escape() {
        for raw in ["100% & more", r"C:\path", "%zz &nbsp \\u12", "\\ud800x"] {
            assert_eq!(decoded(raw), raw);
        }
        assert!(!has_escape(b"100% sure & fine"));
        assert!(has_escape(b"GET /a?b=c%2Fd"));
    }

    /// The left-to-right pass decides each `%` as the look back does.
    #[test]
    fn url_run_agrees_with_the_look_back() {
        for text in [
            "GET /a?b=c%2Fd e%41 \"x=%41\" user%5Bpassword%5D=p%21 %41%41",
            "password=x%21y&q=%3F 'k=%20' <a%41> name%3D=v%20 =%41 a.b-c[d]=%7E",
        ] {
            let s = text.as_bytes();
            let mut run = UrlRun::default();
            for i in 0..s.len() {
                if s[i] == b'%' {
                    assert_eq!(run.url_encoded(s, i), url_encoded(s, i), "{text} at {i}");
                }
            }
        }
    }

    /// `%HH` is an escape in URL-encoded text only: a query, a form body,
    /// a `name=value`. In a JSON or Ruby string it is the password's own.
    #[test]
    fn percent_is_decoded_in_urls_only() {
        assert_eq!(
            decoded("GET /login?u=a&password=x%21y"),
            "GET /login?u=a&password=x!y"
        );
        assert_eq!(
            decoded("body=user[password]=x%21y"),
            "body=user[password]=x!y"
        );
        assert_eq!(decoded("password=x%21y"), "password=x!y");
        for raw in [
            r#""password"=>"Ab%21xyz""#,
            r#"{"password":"Ab%2Axyz"}"#,
            "disk 93%21 full",
        ] {
            assert_eq!(decoded(raw), raw);
        }
    }

    #[test]
    fn maps_decoded_ranges_back_to_raw() {
        let raw = br#"k=\"AKIA\/xy\u002Bz\""#;
        let [v, _] = views(raw);
        let v = v.expect("changed");
        let text = String::from_utf8_lossy(&v.bytes).into_owned();
        let s = text.find("AKIA").expect("found");
        let e = text.find("z").expect("found") + 1;
        let span = v.raw_span(&(s..e));
        assert_eq!(&raw[span], br"AKIA\/xy\u002Bz");
    }

    #[test]
    fn decodes_base64_text_but_not_random_or_dotted_runs() {
        // {"token": "abc-123-def"}
        assert_eq!(
            decoded("data=eyJ0b2tlbiI6ICJhYmMtMTIzLWRlZiJ9 end"),
            r#"data={"token": "abc-123-def"} end"#
        );
        let random = "Zm9vYmFy3q+7uP0/yQ1x9aK2Lm0Z";
        assert_eq!(decoded(random), random);
        let jwt_part = "eyJ0b2tlbiI6ICJhYmMtMTIzLWRlZiJ9.sig";
        assert_eq!(decoded(jwt_part), jwt_part);
    }

    #[test]
    fn reassembles_a_pem_block_behind_syslog_prefixes() {
        let hay = b"May 14 09:12:44 web app[7]: key: -----BEGIN EC PRIVATE KEY-----\n\
May 14 09:12:44 web app[7]: MHcCAQEEIKn7cuZFeF7MCvy1UuPvfnOxq6z2fzUHVf5kOyNZD2zc\n\
May 14 09:12:45 web app[7]: -----END EC PRIVATE KEY-----\n";
        let begin = find(hay, b"-----BEGIN").expect("begin");
        let (_, v) = prefixed_pem(hay, 0, begin).expect("block");
        assert_eq!(
            String::from_utf8_lossy(&v.bytes),
            "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIKn7cuZFeF7MCvy1UuPvfnOxq6z2fzUHVf5kOyNZD2zc\n-----END EC PRIVATE KEY-----"
        );
        let all = v.raw_span(&(0..v.bytes.len()));
        assert_eq!(all.start, begin);
        assert_eq!(&hay[all.end - 5..all.end], b"-----");
    }

    #[test]
    fn reassembles_a_pem_block_in_docker_json_lines() {
        let hay = br#"{"log":"-----BEGIN RSA PRIVATE KEY-----\n","stream":"stderr","time":"2024-05-14T09:12:44.1Z"}
{"log":"MIIEowIBAAKCAQEAqGCYe3aYa1Uba+vou1XZWVXuiHSAvN+iQz3h+zmkpxt+NoUZ\n","stream":"stderr","time":"2024-05-14T09:12:44.2Z"}
{"log":"-----END RSA PRIVATE KEY-----\n","stream":"stderr","time":"2024-05-14T09:12:44.3Z"}
"#;
        let begin = find(hay, b"-----BEGIN").expect("begin");
        let (_, v) = prefixed_pem(hay, 0, begin).expect("block");
        assert!(v.bytes.ends_with(b"AAKCAQEAqGCYe3aYa1Uba+vou1XZWVXuiHSAvN+iQz3h+zmkpxt+NoUZ\n-----END RSA PRIVATE KEY-----"));
    }
}
