//! A JSON tokenizer over a byte slice that keeps every token's byte offset,
//! which a HAR finding needs to point at the raw bytes of its secret (no
//! JSON crate reports positions). It builds no tree: the walker pulls one
//! token at a time. Strings are returned as spans, decoded only on demand.

use std::ops::Range;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    ObjOpen,
    ObjClose,
    ArrOpen,
    ArrClose,
    Colon,
    Comma,
    /// A string: the span between its quotes, and whether it holds a
    /// backslash escape (if not, the span is its value).
    Str {
        span: Range<usize>,
        escaped: bool,
    },
    /// A number, `true`, `false` or `null`.
    Scalar,
}

/// Where and why the input stopped being JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    pub at: usize,
    pub what: &'static str,
}

pub struct Lexer<'a> {
    pub bytes: &'a [u8],
    pub pos: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        let bom = if bytes.starts_with(b"\xef\xbb\xbf") {
            3
        } else {
            0
        };
        Lexer { bytes, pos: bom }
    }

    pub fn error(&self, what: &'static str) -> JsonError {
        JsonError { at: self.pos, what }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
            // Pretty-printed indentation: eight spaces at a time.
            while self.bytes.get(self.pos..self.pos + 8) == Some(b"        ") {
                self.pos += 8;
            }
        }
    }

    /// Skips a JSONP call's opening, `name(` (harviewer's `onInputData({…})`
    /// wrapping of a HAR), when the input starts with one; returns whether
    /// it did. The name is a JavaScript identifier, dotted or not.
    pub fn jsonp_open(&mut self) -> bool {
        self.skip_ws();
        let rest = &self.bytes[self.pos..];
        let name = rest
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'.'))
            .count();
        if name == 0 || rest[0].is_ascii_digit() || name > 256 {
            return false;
        }
        let mut at = self.pos + name;
        while let Some(b' ' | b'\t') = self.bytes.get(at) {
            at += 1;
        }
        if self.bytes.get(at) != Some(&b'(') {
            return false;
        }
        self.pos = at + 1;
        true
    }

    /// Reads a JSONP call's closing `)`, and a `;` after it if any.
    pub fn jsonp_close(&mut self) -> Result<(), JsonError> {
        self.skip_ws();
        if self.bytes.get(self.pos) != Some(&b')') {
            return Err(self.error("JSONP call not closed with ')'"));
        }
        self.pos += 1;
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b';') {
            self.pos += 1;
        }
        Ok(())
    }

    /// Whether only whitespace is left.
    pub fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.pos >= self.bytes.len()
    }

    pub fn next(&mut self) -> Result<Tok, JsonError> {
        self.skip_ws();
        let Some(&b) = self.bytes.get(self.pos) else {
            return Err(self.error("unexpected end of input"));
        };
        self.pos += 1;
        Ok(match b {
            b'{' => Tok::ObjOpen,
            b'}' => Tok::ObjClose,
            b'[' => Tok::ArrOpen,
            b']' => Tok::ArrClose,
            b':' => Tok::Colon,
            b',' => Tok::Comma,
            b'"' => return self.string(),
            b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
                let start = self.pos - 1;
                while let Some(b'a'..=b'z' | b'0'..=b'9' | b'+' | b'-' | b'.' | b'E') =
                    self.bytes.get(self.pos)
                {
                    self.pos += 1;
                }
                let word = &self.bytes[start..self.pos];
                let number = || {
                    word.iter().all(|c| {
                        c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E')
                    })
                };
                if !(matches!(word, b"true" | b"false" | b"null") || number()) {
                    self.pos = start;
                    return Err(self.error("not a JSON value"));
                }
                Tok::Scalar
            }
            _ => {
                self.pos -= 1;
                return Err(self.error("unexpected character"));
            }
        })
    }

    /// After an opening quote: finds the closing one. Escapes are only
    /// stepped over here; [`unescape`] decodes them.
    fn string(&mut self) -> Result<Tok, JsonError> {
        let start = self.pos;
        let mut escaped = false;
        // Names and short values end within a few bytes: look there first.
        let near = &self.bytes[self.pos..(self.pos + 16).min(self.bytes.len())];
        match near.iter().position(|&b| b == b'"' || b == b'\\') {
            Some(i) if near[i] == b'"' => {
                self.pos += i + 1;
                return Ok(Tok::Str {
                    span: start..self.pos - 1,
                    escaped,
                });
            }
            _ => {}
        }
        loop {
            let rest = &self.bytes[self.pos..];
            let Some(i) = memchr::memchr2(b'"', b'\\', rest) else {
                self.pos = self.bytes.len();
                return Err(self.error("unexpected end of input in a string"));
            };
            self.pos += i;
            if self.bytes[self.pos] == b'"' {
                self.pos += 1;
                return Ok(Tok::Str {
                    span: start..self.pos - 1,
                    escaped,
                });
            }
            escaped = true;
            // A backslash and the byte it escapes (\u's hex digits are
            // ordinary bytes to the search).
            self.pos += 2;
            if self.pos > self.bytes.len() {
                self.pos = self.bytes.len();
                return Err(self.error("unexpected end of input in a string"));
            }
        }
    }
}

/// Deepest nesting accepted: a HAR is about 6 deep; far deeper input is
/// hostile, and the walker recurses per level.
pub const MAX_DEPTH: usize = 128;

/// A run of decoded bytes copied unchanged from the raw input: decoded
/// `out` positions `at..at + len` are raw bytes `raw..raw + len`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seg {
    pub at: usize,
    pub raw: u64,
    pub len: usize,
}

/// Decodes the JSON string body `raw[span]` onto `out`, and records in
/// `segs` the runs that are the raw bytes unchanged (between escapes).
/// `base` is the stream offset of `raw[0]`. Invalid escapes are kept as
/// written; lone surrogates become U+FFFD.
pub fn unescape(raw: &[u8], span: Range<usize>, base: u64, out: &mut Vec<u8>, segs: &mut Vec<Seg>) {
    let mut i = span.start;
    let end = span.end;
    while i < end {
        let run_end = memchr::memchr(b'\\', &raw[i..end]).map_or(end, |k| i + k);
        if run_end > i {
            segs.push(Seg {
                at: out.len(),
                raw: base + i as u64,
                len: run_end - i,
            });
            out.extend_from_slice(&raw[i..run_end]);
        }
        i = run_end;
        if i >= end {
            break;
        }
        let Some(&e) = raw.get(i + 1).filter(|_| i + 1 < end) else {
            out.push(b'\\');
            break;
        };
        let simple = match e {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'b' => Some(8),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            i += 2;
            continue;
        }
        let Some(first) = (e == b'u').then(|| hex4(&raw[i + 2..end])).flatten() else {
            out.push(b'\\');
            i += 1;
            continue;
        };
        i += 6;
        let c = if (0xd800..0xdc00).contains(&first) {
            let low = (raw.get(i..i + 2) == Some(b"\\u"))
                .then(|| hex4(&raw[(i + 2).min(end)..end]))
                .flatten()
                .filter(|l| (0xdc00..0xe000).contains(l));
            match low {
                Some(low) => {
                    i += 6;
                    char::from_u32(0x10000 + ((first - 0xd800) << 10) + (low - 0xdc00))
                }
                None => None,
            }
        } else {
            char::from_u32(first)
        };
        let mut utf8 = [0; 4];
        out.extend_from_slice(c.unwrap_or('\u{fffd}').encode_utf8(&mut utf8).as_bytes());
    }
}

/// Appends `text` as the body of a JSON string: `"`, `\\` and control
/// characters escaped, every other byte as it is.
pub fn escape(text: &[u8], out: &mut Vec<u8>) {
    for &b in text {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            _ => out.push(b),
        }
    }
}

fn hex4(b: &[u8]) -> Option<u32> {
    let h = b.get(..4)?;
    let s = std::str::from_utf8(h).ok()?;
    u32::from_str_radix(s, 16)
        .ok()
        .filter(|_| h.iter().all(u8::is_ascii_hexdigit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(s: &str) -> Result<Vec<Tok>, JsonError> {
        let mut lx = Lexer::new(s.as_bytes());
        let mut out = Vec::new();
        while !lx.at_end() {
            out.push(lx.next()?);
        }
        Ok(out)
    }

    #[test]
    fn strings_are_spans_with_offsets() {
        let t = tokens(r#"{"a": "x\"y", "b": [1, -2.5e3, true, null]}"#).expect("valid");
        assert_eq!(
            t[1],
            Tok::Str {
                span: 2..3,
                escaped: false
            }
        );
        assert_eq!(
            t[3],
            Tok::Str {
                span: 7..11,
                escaped: true
            }
        );
        assert_eq!(t.iter().filter(|t| **t == Tok::Scalar).count(), 4);
    }

    #[test]
    fn cut_off_input_is_an_error_at_its_end() {
        let e = tokens(r#"{"a": "abc"#).expect_err("cut");
        assert_eq!(e.at, 10);
        assert!(tokens(r#"{"a": tru"#).is_err());
        assert!(tokens(r#"{"a": "ab\"#).is_err());
    }

    #[test]
    fn escape_round_trips_through_unescape() {
        let text = "a\"b\\c\nd\u{1}é/".as_bytes();
        let mut raw = Vec::new();
        escape(text, &mut raw);
        assert_eq!(raw, r#"a\"b\\c\nd\u0001é/"#.as_bytes());
        let mut back = Vec::new();
        unescape(&raw, 0..raw.len(), 0, &mut back, &mut Vec::new());
        assert_eq!(back, text);
    }

    #[test]
    fn unescape_maps_runs_between_escapes() {
        let raw = br#""ab\/cd\u00e9\ud83d\ude00e""#;
        let mut out = Vec::new();
        let mut segs = Vec::new();
        unescape(raw, 1..raw.len() - 1, 100, &mut out, &mut segs);
        assert_eq!(out, "ab/cdé😀e".as_bytes());
        assert_eq!(
            segs,
            vec![
                Seg {
                    at: 0,
                    raw: 101,
                    len: 2
                },
                Seg {
                    at: 3,
                    raw: 105,
                    len: 2
                },
                Seg {
                    at: 11,
                    raw: 125,
                    len: 1
                },
            ]
        );
        let mut out = Vec::new();
        unescape(br"\ud800x\q", 0..9, 0, &mut out, &mut Vec::new());
        assert_eq!(out, "\u{fffd}x\\q".as_bytes());
    }
}
