//! The text the scanner sees for a HAR: every string value, decoded, as a
//! *piece* in one buffer, each piece on lines of its own. A piece remembers
//! its entry, its field path and which of its bytes are raw bytes of the
//! file unchanged, so a secret found in it can be placed in the file, or
//! known to exist only after decoding.

use std::ops::Range;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine as _};

use super::json::{unescape, Seg};

/// A match's place in the JSON string it came from (see [`Batch::in_string`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InString {
    pub string: Range<usize>,
    pub escaped: bool,
    pub base64: bool,
    pub span: Range<usize>,
}

/// One scannable string.
#[derive(Clone, Debug)]
pub struct Piece {
    /// Its text in [`Batch::buf`] (a `\n` follows it).
    pub text: Range<usize>,
    /// 0-based entry index; None for strings outside `log.entries`.
    pub entry: Option<u64>,
    /// Field path, in [`Batch::fields`].
    pub field: Range<usize>,
    /// Its runs of raw bytes, in [`Batch::segs`].
    segs: Range<usize>,
    /// The raw bytes of the file it was decoded from.
    pub region: Range<u64>,
    pub source: Source,
}

/// What a piece's text is, for mapping a match back to the JSON string it
/// came from (which `redact` rewrites).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The JSON string body `raw[string]`, decoded, after `prefix`
    /// synthetic bytes.
    Text {
        string: Range<usize>,
        escaped: bool,
        prefix: usize,
    },
    /// The percent-decoding of the part of piece `of` that starts at
    /// buffer byte `from`: decoded byte `i` came from the byte
    /// `Batch::pmap[map.start + i]` past `from` (and the two after it,
    /// when that is a `%`).
    Percent {
        of: usize,
        from: usize,
        map: Range<usize>,
    },
    /// The base64 decoding of the JSON string body `raw[string]`.
    Base64 { string: Range<usize>, escaped: bool },
}

impl Piece {
    /// Percent- or base64-decoded from another piece or string.
    pub fn decoded(&self) -> bool {
        !matches!(self.source, Source::Text { .. })
    }
}

/// A JSON string too long to decode into a batch (see
/// [`Batch::weight`]): it is scanned as text where it lies in the file.
#[derive(Clone, Debug)]
pub struct Long {
    /// Its body, in the file.
    pub span: Range<usize>,
    pub entry: Option<u64>,
    pub field: String,
    /// A base64 body, whose decoding is not scanned.
    pub base64: bool,
}

#[derive(Default)]
pub struct Batch {
    pub buf: Vec<u8>,
    pub pieces: Vec<Piece>,
    segs: Vec<Seg>,
    pub fields: String,
    /// For percent-decoded pieces: per decoded byte, where its source
    /// bytes start, past the parameter's start (a string the walk decodes
    /// is shorter than 4 GiB).
    pmap: Vec<u32>,
    /// Strings left to the text scan, in file order.
    pub long: Vec<Long>,
}

impl Batch {
    pub fn clear(&mut self) {
        self.buf.clear();
        self.pieces.clear();
        self.segs.clear();
        self.fields.clear();
        self.pmap.clear();
        self.long.clear();
    }

    /// The memory the batch takes, about: what bounds it (a HAR's strings
    /// decoded, with their maps back to the file, take several times their
    /// length when escapes are dense).
    pub fn weight(&self) -> usize {
        self.buf.len()
            + self.segs.len() * std::mem::size_of::<Seg>()
            + self.pmap.len() * std::mem::size_of::<u32>()
            + self.pieces.len() * std::mem::size_of::<Piece>()
    }

    /// What adding the JSON string `raw[span]` would add to
    /// [`Batch::weight`], at most: its bytes, and a raw run on each side of
    /// each escape.
    pub fn cost(raw: &[u8], span: &Range<usize>, escaped: bool) -> usize {
        let escapes = if escaped {
            memchr::memchr_iter(b'\\', &raw[span.clone()]).count()
        } else {
            0
        };
        span.len() + (2 * escapes + 1) * std::mem::size_of::<Seg>() + std::mem::size_of::<Piece>()
    }

    /// Where bytes `span` of piece `i` are in the JSON string it was
    /// decoded from: the string's raw span, whether it is base64, and the
    /// span within its decoded value (or within the base64-decoded body).
    /// None for bytes that are not in the file (a synthetic prefix).
    pub fn in_string(&self, i: usize, span: &Range<usize>) -> Option<InString> {
        let p = self.pieces.get(i)?;
        let rel = |pos: usize| pos.saturating_sub(p.text.start);
        match &p.source {
            Source::Text {
                string,
                escaped,
                prefix,
            } => {
                let a = rel(span.start).saturating_sub(*prefix);
                let b = rel(span.end).checked_sub(*prefix)?;
                (a < b).then(|| InString {
                    string: string.clone(),
                    escaped: *escaped,
                    base64: false,
                    span: a..b,
                })
            }
            Source::Base64 { string, escaped } => Some(InString {
                string: string.clone(),
                escaped: *escaped,
                base64: true,
                span: rel(span.start)..rel(span.end),
            }),
            Source::Percent { of, .. } => {
                let encoded = self.encoded_span(i, span)?;
                // Bytes of the source piece map to its string one to one.
                self.in_string(*of, &encoded)
            }
        }
    }

    /// For a percent-decoded piece `i`: the bytes of its source piece that
    /// its bytes `span` were decoded from.
    pub fn encoded_span(&self, i: usize, span: &Range<usize>) -> Option<Range<usize>> {
        let p = self.pieces.get(i)?;
        let Source::Percent { from, map, .. } = &p.source else {
            return None;
        };
        let map = self.pmap.get(map.clone())?;
        let rel = |pos: usize| pos.checked_sub(p.text.start);
        let first = from + *map.get(rel(span.start)?)? as usize;
        let last = from + *map.get(rel(span.end)?.checked_sub(1)?)? as usize;
        // An escape the decoding undid is three bytes wide.
        let hex = |at: usize| self.buf.get(at).is_some_and(u8::is_ascii_hexdigit);
        let width = if self.buf.get(last) == Some(&b'%') && hex(last + 1) && hex(last + 2) {
            3
        } else {
            1
        };
        Some(first..last + width)
    }

    pub fn field(&self, p: &Piece) -> &str {
        &self.fields[p.field.clone()]
    }

    /// Adds the JSON string `raw[span]`, decoded, after the synthetic
    /// `prefix` (a header name, say, which gives the value its context).
    /// Returns the piece's index.
    pub fn string(
        &mut self,
        raw: &[u8],
        span: Range<usize>,
        escaped: bool,
        prefix: &[u8],
        entry: Option<u64>,
        field: &str,
    ) -> usize {
        let start = self.buf.len();
        self.buf.extend_from_slice(prefix);
        let seg_start = self.segs.len();
        if escaped {
            unescape(raw, span.clone(), 0, &mut self.buf, &mut self.segs);
        } else if !span.is_empty() {
            self.segs.push(Seg {
                at: self.buf.len(),
                raw: span.start as u64,
                len: span.len(),
            });
            self.buf.extend_from_slice(&raw[span.clone()]);
        }
        let region = span.start as u64..span.end as u64;
        let source = Source::Text {
            string: span,
            escaped,
            prefix: prefix.len(),
        };
        self.finish(start, seg_start, entry, field, region, source)
    }

    /// Adds `bytes`, the base64 decoding of the JSON string body
    /// `raw[span]` (no raw runs).
    pub fn base64(
        &mut self,
        bytes: &[u8],
        span: Range<usize>,
        escaped: bool,
        entry: Option<u64>,
        field: &str,
    ) -> usize {
        let start = self.buf.len();
        self.buf.extend_from_slice(bytes);
        let seg_start = self.segs.len();
        let region = span.start as u64..span.end as u64;
        let source = Source::Base64 {
            string: span,
            escaped,
        };
        self.finish(start, seg_start, entry, field, region, source)
    }

    /// Adds the percent-decoding (`+` as space) of `within`, a part of
    /// piece `of`'s text, keeping the raw runs that survive decoding.
    pub fn percent(&mut self, of: usize, within: Range<usize>) -> usize {
        let src = self.pieces[of].clone();
        let input = self.buf[within.clone()].to_vec();
        let start = self.buf.len();
        let seg_start = self.segs.len();
        let map_start = self.pmap.len();
        // The raw bytes this parameter spans, as far as they can be placed.
        let mut region: Option<Range<u64>> = None;
        let mut i = 0;
        while i < input.len() {
            let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
            match input[i] {
                b'%' => {
                    if let (Some(h), Some(l)) = (hex(input.get(i + 1)), hex(input.get(i + 2))) {
                        self.buf.push((h * 16 + l) as u8);
                        self.pmap.push(i as u32);
                        i += 3;
                        continue;
                    }
                }
                b'+' => {
                    self.buf.push(b' ');
                    self.pmap.push(i as u32);
                    i += 1;
                    continue;
                }
                _ => {}
            }
            let at = self.buf.len();
            self.buf.push(input[i]);
            self.pmap.push(i as u32);
            if let Some(raw) = self.raw_at(&src, within.start + i) {
                let r = region.get_or_insert(raw..raw);
                r.end = raw + 1;
                match self.segs[seg_start..].last_mut() {
                    Some(s) if s.at + s.len == at && s.raw + s.len as u64 == raw => s.len += 1,
                    _ => self.segs.push(Seg { at, raw, len: 1 }),
                }
            }
            i += 1;
        }
        let (entry, field) = (src.entry, self.fields[src.field.clone()].to_owned());
        let region = region.unwrap_or(src.region);
        let source = Source::Percent {
            of,
            from: within.start,
            map: map_start..self.pmap.len(),
        };
        self.finish(start, seg_start, entry, &field, region, source)
    }

    fn finish(
        &mut self,
        start: usize,
        seg_start: usize,
        entry: Option<u64>,
        field: &str,
        region: Range<u64>,
        source: Source,
    ) -> usize {
        let end = self.buf.len();
        self.buf.push(b'\n');
        let f = self.fields.len();
        self.fields.push_str(field);
        self.pieces.push(Piece {
            text: start..end,
            entry,
            field: f..self.fields.len(),
            segs: seg_start..self.segs.len(),
            region,
            source,
        });
        self.pieces.len() - 1
    }

    /// The raw offset of buffer byte `at` of piece `p`, if that byte is a
    /// raw byte unchanged.
    fn raw_at(&self, p: &Piece, at: usize) -> Option<u64> {
        let segs = &self.segs[p.segs.clone()];
        let i = segs.partition_point(|s| s.at + s.len <= at);
        segs.get(i)
            .filter(|s| s.at <= at)
            .map(|s| s.raw + (at - s.at) as u64)
    }

    /// Where the bytes `span` of piece `p` are in the file, when they are
    /// raw bytes there, unchanged and contiguous.
    pub fn raw_span(&self, p: &Piece, span: &Range<usize>) -> Option<u64> {
        let segs = &self.segs[p.segs.clone()];
        let i = segs.partition_point(|s| s.at + s.len <= span.start);
        segs.get(i)
            .filter(|s| s.at <= span.start && span.end <= s.at + s.len)
            .map(|s| s.raw + (span.start - s.at) as u64)
    }

    /// Query-string or form parameters in `range` (of piece `of`) that
    /// hold a percent escape or `+`, each added decoded as a piece, as
    /// long as the batch's weight stays within `limit` (the engine's own
    /// views still decode the rest where it is URL-encoded).
    pub fn decoded_params(&mut self, of: usize, range: Range<usize>, limit: usize) {
        /// Weight per decoded byte: itself and its map entry.
        const PER_BYTE: usize = 1 + std::mem::size_of::<u32>();
        let mut at = range.start;
        while at < range.end {
            let end =
                memchr::memchr2(b'&', b';', &self.buf[at..range.end]).map_or(range.end, |i| at + i);
            // (Maps hold 32-bit offsets: a longer parameter stays as it is.)
            let fits = self.weight().saturating_add(PER_BYTE * (end - at)) <= limit
                && end - at <= u32::MAX as usize;
            if fits && self.buf[at..end].iter().any(|&b| b == b'%' || b == b'+') {
                self.percent(of, at..end);
            }
            at = end + 1;
        }
    }
}

/// A decoded base64 body.
pub enum Body {
    Text(Vec<u8>),
    /// A NUL byte in its first 8 KiB: an image or other binary, not text.
    Binary,
}

/// Decodes a base64 body as HAR writers produce them: standard alphabet,
/// padding optional, sometimes wrapped. A binary body is known by its
/// first block, so an image is not decoded whole. None: not base64.
pub fn base64_body(text: &[u8]) -> Option<Body> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    /// Base64 characters of the first 8 KiB decoded.
    const HEAD: usize = 8192 / 3 * 4;
    let compact: Vec<u8>;
    let wrapped = memchr::memchr3(b'\n', b'\r', b' ', text).is_some() || text.contains(&b'\t');
    let text = if wrapped {
        compact = text
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        &compact
    } else {
        text
    };
    if text.len() > HEAD {
        let head = LENIENT.decode(&text[..HEAD]).ok()?;
        if memchr::memchr(0, &head).is_some() {
            return Some(Body::Binary);
        }
    }
    let bytes = LENIENT.decode(text).ok()?;
    if memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some() {
        return Some(Body::Binary);
    }
    Some(Body::Text(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_string_maps_to_its_raw_bytes() {
        let raw = br#"{"value": "Bearer abc"}"#;
        let mut b = Batch::default();
        let p = b.string(
            raw,
            11..21,
            false,
            b"Authorization: ",
            Some(3),
            "request.headers.Authorization",
        );
        let piece = b.pieces[p].clone();
        assert_eq!(&b.buf[piece.text.clone()], b"Authorization: Bearer abc");
        let abc = piece.text.end - 3..piece.text.end;
        assert_eq!(b.raw_span(&piece, &abc), Some(18));
        let across = piece.text.start..piece.text.start + 20;
        assert_eq!(
            b.raw_span(&piece, &across),
            None,
            "prefix is not in the file"
        );
        assert_eq!(b.field(&piece), "request.headers.Authorization");
    }

    #[test]
    fn percent_decoding_keeps_the_runs_it_did_not_change() {
        let raw = br#""a=x%2By&b=plain""#;
        let mut b = Batch::default();
        let p = b.string(raw, 1..16, false, b"", None, "request.url");
        let text = b.pieces[p].text.clone();
        b.decoded_params(p, text, usize::MAX);
        assert_eq!(b.pieces.len(), 2, "only the escaped parameter is decoded");
        let d = b.pieces[1].clone();
        assert!(d.decoded());
        assert_eq!(&b.buf[d.text.clone()], b"a=x+y");
        let s = d.text.start;
        assert_eq!(b.raw_span(&d, &(s..s + 3)), Some(1));
        assert_eq!(b.raw_span(&d, &(s + 2..s + 5)), None, "spans the escape");
        assert_eq!(b.raw_span(&d, &(s + 4..s + 5)), Some(7));
    }

    #[test]
    fn base64_bodies_decode_wrapped_and_unpadded() {
        let text = |b: Option<Body>| match b {
            Some(Body::Text(t)) => Some(t),
            _ => None,
        };
        let hello = Some(b"hello world".to_vec());
        assert_eq!(text(base64_body(b"aGVsbG8gd29ybGQ=")), hello);
        assert_eq!(text(base64_body(b"aGVsbG8g\r\nd29ybGQ")), hello);
        assert!(base64_body(b"not base64!").is_none());
        let image = base64::engine::general_purpose::STANDARD.encode([0u8; 20_000]);
        assert!(matches!(base64_body(image.as_bytes()), Some(Body::Binary)));
    }
}
