//! What each fuzz target checks, shared by the fuzz targets
//! (`fuzz/fuzz_targets/*.rs`) and by `tests/fuzz_corpora.rs`, which runs
//! every kept corpus input and past crash through the same checks.

use std::io::{self, Read};
use std::sync::OnceLock;

use leaksweep::finding::{Confidence, Finding};
use leaksweep::har;
use leaksweep::rules::Rules;
use leaksweep::sanitize::{copy, Redactor};
use leaksweep::scan::chunk::{scan_reader_in, scan_slice};
use leaksweep::scan::decode;
use leaksweep::scan::locate::Origin;
use leaksweep::scan::Engine;
use leaksweep::source::decode::Limits;
use leaksweep::source::detect::{sniff, Sniff};
use leaksweep::source::unpack::{self, Visit};
use leaksweep::validate::validate;

/// The built-in rules' engine, built once per process.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(Rules::builtin().expect("built-in rules")).expect("engine"))
}

/// The rule loader: any TOML text loads or is an error; a loaded rule set
/// builds and scans.
pub fn rules(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut rules = Rules::default();
    if rules.add_file("fuzz.toml", text).is_ok() {
        if let Ok(engine) = Engine::new(rules) {
            let mut out = Vec::new();
            engine.scan(data, 0..data.len(), &mut out);
        }
    }
}

/// The chunked stream scan finds what the whole-slice scan finds, whatever
/// the fill size (the first two bytes choose it).
pub fn chunks(data: &[u8]) {
    let Some((size, hay)) = data.split_first_chunk::<2>() else {
        return;
    };
    let chunk = usize::from(u16::from_le_bytes(*size));
    let engine = engine();
    let origin = Origin::default();
    let key = |f: &Finding| {
        (
            f.offset,
            f.line,
            f.column,
            f.rule.clone(),
            f.fingerprint.clone(),
        )
    };
    let mut whole: Vec<_> = scan_slice(engine, hay, &origin).iter().map(key).collect();
    let mut streamed = Vec::new();
    let read = scan_reader_in(
        engine,
        hay,
        &origin,
        &mut |b| streamed.extend(b.iter().map(key)),
        chunk,
    );
    assert!(read.is_ok());
    whole.sort();
    streamed.sort();
    assert_eq!(whole, streamed);
}

struct Drain;

impl Visit for Drain {
    fn text(&mut self, _: Option<&str>, reader: &mut dyn Read) -> io::Result<()> {
        io::copy(reader, &mut io::sink()).map(drop)
    }
    fn skip(&mut self, _: Option<&str>, _: &str) {}
    fn error(&mut self, _: Option<&str>, _: &dyn std::fmt::Display) {}
}

/// The decoders and archive walkers: any bytes are walked to an end.
pub fn decode(data: &[u8]) {
    if let Sniff::Container(c) = sniff(data) {
        let limits = Limits {
            max_depth: 4,
            max_decoded: 64 << 20,
            max_ratio: 1000,
            binary_as_text: false,
            max_har_string: 1 << 20,
        };
        unpack::stream(io::Cursor::new(data.to_vec()), c, limits, &mut Drain);
    }
}

/// The HAR walker: any bytes are walked or rejected, and a finding placed
/// in the file points at its secret's bytes there.
pub fn har(data: &[u8]) {
    let origin = Origin {
        show_secrets: true,
        ..Origin::default()
    };
    let _ = har::sniff(data);
    // Small limits by the first byte, so that strings are also scanned in
    // place in the file.
    let limit = data.first().map_or(usize::MAX, |&b| usize::from(b) * 64);
    let Some(scanned) = har::scan(engine(), data, &origin, &|_| {}, limit) else {
        return;
    };
    for f in &scanned.findings {
        // Raw secrets are shown as lossy UTF-8: check those that lost
        // nothing.
        // A secret found behind an encoding (base64, escapes) is placed at
        // its encoded bytes, which differ from it: those only need to be in
        // the file.
        if let Some(o) = f.offset.filter(|_| !f.secret.contains('\u{fffd}')) {
            let o = o as usize;
            let verbatim = data.get(o..o + f.secret.len()) == Some(f.secret.as_bytes());
            assert!(verbatim || o < data.len(), "{f:?}");
        }
    }
}

/// The validators (JWT, signed cookies, Basic auth, PEM, checksums,
/// entropy, placeholders): any candidate is judged.
pub fn validators(data: &[u8]) {
    for rule in engine().rules() {
        let _ = validate(&rule.checks, data, data);
    }
}

/// The redactor: any input is copied or refused; a plain text copy keeps
/// its line count.
pub fn redact(data: &[u8]) {
    let limits = leaksweep::source::decode::Limits {
        max_depth: 4,
        max_decoded: 64 << 20,
        max_ratio: 1000,
        binary_as_text: false,
        max_har_string: u64::MAX,
    };
    let marker = leaksweep::sanitize::Marker::Keyed([7; 32]);
    let mut r = Redactor::new(engine(), Confidence::Low, marker, limits);
    let mut out = Vec::new();
    let copied = copy(&mut r, &mut &data[..], &mut out, 0);
    if copied.is_ok() && sniff(data) == Sniff::Text && !har::sniff(data) {
        let lines = |b: &[u8]| b.iter().filter(|&&c| c == b'\n').count();
        assert_eq!(lines(data), lines(&out));
    }
}

/// Decoded views: each decoded byte maps to a non-empty raw span inside
/// the input, spans move forward only, and a byte copied from one raw byte
/// is that byte. (Findings from a view are placed and redacted by these
/// spans, so a wrong one would leave part of a secret in a copy.)
pub fn views(data: &[u8]) {
    let mut seen: Vec<_> = decode::views(data).into_iter().flatten().collect();
    let begin = data.windows(10).position(|w| w == b"-----BEGIN");
    if let Some(begin) = begin {
        let line_start = data[..begin]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        if let Some((end, view)) = decode::prefixed_pem(data, line_start, begin) {
            assert!(end <= data.len());
            seen.push(view);
        }
    }
    for v in &seen {
        let mut last = 0..0;
        for i in 0..v.bytes.len() {
            let span = v.raw_span(&(i..i + 1));
            assert!(span.start < span.end && span.end <= data.len(), "{span:?}");
            assert!(
                span.start >= last.start && span.end >= last.end,
                "{last:?} then {span:?}"
            );
            if span.len() == 1 {
                assert_eq!(data[span.start], v.bytes[i], "copied byte at {i}");
            }
            last = span;
        }
        if !v.bytes.is_empty() {
            let whole = v.raw_span(&(0..v.bytes.len()));
            assert!(whole.end <= data.len());
        }
    }
}
