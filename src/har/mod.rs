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
use crate::scan::chunk::scan_slice;
use crate::scan::locate::{self, LineTracker, Origin};
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
/// object with a member `log` whose value is an object.
pub fn sniff(head: &[u8]) -> bool {
    let mut lx = Lexer::new(head);
    if lx.next() != Ok(Tok::ObjOpen) {
        return false;
    }
    let mut depth = 1usize;
    let mut key = true;
    while let Ok(t) = lx.next() {
        match t {
            Tok::Str { span, .. } if depth == 1 && key => {
                if &head[span] == b"log" {
                    return lx.next() == Ok(Tok::Colon) && lx.next() == Ok(Tok::ObjOpen);
                }
                key = false;
            }
            Tok::Comma if depth == 1 => key = true,
            Tok::ObjOpen | Tok::ArrOpen => depth += 1,
            Tok::ObjClose | Tok::ArrClose => {
                depth -= 1;
                if depth == 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    false
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
}

/// Scans a whole HAR file. None: it is valid JSON but not a HAR after all
/// (no `log.entries`), to be scanned as text. `release(n)` is told when
/// the first `n` bytes will not be needed again.
///
/// With more than one worker thread, walking and scanning run as a
/// pipeline: the walker hands each full batch to a scanner thread.
pub fn scan(
    engine: &Engine,
    raw: &[u8],
    origin: &Origin,
    release: &(dyn Fn(usize) + Sync),
) -> Option<Scanned> {
    let sc = Scanner {
        engine,
        origin,
        raw,
        findings: Vec::new(),
        lines: LineTracker::new(0, 1, 0),
        release,
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
            let walked = drive(raw, &mut |batch, entries, safe| {
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
        let walked = drive(raw, &mut |batch, entries, safe| {
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
/// string. Ok(false): valid JSON but not a HAR.
pub fn redactions(
    engine: &Engine,
    raw: &[u8],
    wants: &dyn Fn(&RawMatch) -> bool,
    on: &mut dyn FnMut(Vec<Redaction>),
) -> Result<bool, JsonError> {
    let (walked, _) = drive(raw, &mut |batch, entries, _| {
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
                    secret: batch.buf[m.secret.clone()].to_vec(),
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
/// (which leaves it empty) with the offset its entries end at; then the
/// rest: after an error, the pieces of what was walked whole. Returns the
/// walk's outcome and how far it was walked whole.
fn drive(
    raw: &[u8],
    hand: &mut dyn FnMut(&mut Batch, &mut Vec<EntryInfo>, usize),
) -> (Result<bool, JsonError>, usize) {
    let mut batch = Batch::default();
    let mut entries = Vec::new();
    let mut safe = 0;
    let mut committed = 0;
    let walked = walk::walk(raw, &mut batch, &mut entries, &mut |b, e, pos| {
        safe = pos;
        if b.buf.len() >= FLUSH {
            hand(b, e, pos);
        }
        committed = b.pieces.len();
    });
    match walked {
        Ok(true) => hand(&mut batch, &mut entries, safe),
        Ok(false) => {}
        Err(_) => {
            batch.truncate(committed);
            hand(&mut batch, &mut entries, safe);
        }
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
}

impl Scanner<'_> {
    /// Scans the batch, whose entries end at `safe`, and turns its matches
    /// into findings.
    fn flush(&mut self, batch: &mut Batch, entries: &mut Vec<EntryInfo>, safe: usize) {
        if batch.pieces.is_empty() {
            batch.clear();
            entries.clear();
            return;
        }
        let hay = &batch.buf;
        let mut all: Vec<RawMatch> = Vec::new();
        self.engine.scan(hay, 0..hay.len(), &mut all);
        // (piece, finding, raw bytes it stands for)
        let mut found: Vec<(usize, Finding, Range<u64>)> = Vec::new();
        for m in &all {
            let i = batch
                .pieces
                .partition_point(|p| p.text.end < m.secret.start);
            let Some(p) = batch.pieces.get(i) else {
                continue;
            };
            // A match across two pieces is two strings' bytes: no secret.
            if m.secret.start < p.text.start || m.secret.end > p.text.end {
                continue;
            }
            let mut f = locate::build(self.engine, hay, 0, m, &all, 0, 0, self.origin);
            f.line = None;
            f.column = None;
            f.offset = batch.raw_span(p, &m.secret);
            f.har = Some(HarLocation {
                entry: p.entry,
                field: batch.field(p).to_owned(),
            });
            let region = match f.offset {
                Some(o) => o..o + m.secret.len() as u64,
                None => p.region.clone(),
            };
            found.push((i, f, region));
        }
        // A parameter seen both encoded and decoded is reported decoded:
        // that is the secret's real value.
        let decoded: Vec<(Option<u64>, &str, Range<u64>)> = found
            .iter()
            .filter(|(i, ..)| batch.pieces[*i].decoded())
            .map(|(i, _, r)| {
                let p = &batch.pieces[*i];
                (p.entry, batch.field(p), r.clone())
            })
            .collect();
        let mut once = HashSet::new();
        let mut requests: HashMap<u64, (Option<String>, Option<i64>)> = HashMap::new();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        // Lines of the findings placed in the file, in file order.
        let mut order: Vec<(u64, usize)> = found
            .iter()
            .enumerate()
            .filter_map(|(k, (_, f, _))| f.offset.map(|o| (o, k)))
            .collect();
        order.sort_unstable();
        for (offset, k) in order {
            let to = usize::try_from(offset).map_or(self.raw.len(), |o| o.min(self.raw.len()));
            self.lines.advance(self.raw, to.max(self.lines.pos));
            let f = &mut found[k].1;
            f.line = Some(self.lines.line);
            f.column = Some((to as i64 - self.lines.line_start + 1).max(1) as u64);
        }
        for (i, mut f, region) in found {
            let p = &batch.pieces[i];
            let field = batch.field(p);
            let shadowed = !p.decoded()
                && decoded.iter().any(|(e, fd, r)| {
                    *e == p.entry && *fd == field && r.start < region.end && region.start < r.end
                });
            if shadowed || !once.insert((p.entry, field.to_owned(), f.fingerprint.clone())) {
                continue;
            }
            if let Some(e) = p.entry {
                let (request, when) = requests
                    .entry(e)
                    .or_insert_with(|| self.request(batch, entries, &all, e, now));
                f.request = request.clone();
                f.when = *when;
            }
            self.findings.push(f);
        }
        batch.clear();
        entries.clear();
        // Count on to where the batch ends, so that the bytes before it are
        // not read again.
        self.lines.advance(self.raw, safe.max(self.lines.pos));
        (self.release)(safe);
    }

    /// An entry's `METHOD URL` (every secret in it masked) and start time.
    fn request(
        &self,
        batch: &Batch,
        entries: &[EntryInfo],
        all: &[RawMatch],
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
            .and_then(|s| stamp::of_line(&self.raw[s.clone()], now).0);
        let url = info.url.map(|u| {
            let text = batch.pieces[u].text.clone();
            locate::masked(self.engine, &batch.buf, text, all, self.origin.show_secrets)
        });
        let method = info
            .method
            .as_ref()
            .map(|m| crate::redact::escape(&self.raw[m.clone()]));
        let request = match (method, url) {
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
    /// could not be walked).
    fn text(&mut self, from: usize) {
        let from = from.min(self.raw.len());
        let start = memchr::memrchr(b'\n', &self.raw[..from]).map_or(0, |i| i + 1);
        // The lines before `start`, counted on from the last finding (no
        // newline lies between `start` and `from`, so a count already past
        // `start` is on its line).
        if start > self.lines.pos {
            self.lines.advance(self.raw, start);
        }
        let lines = self.lines.line - 1;
        for mut f in scan_slice(self.engine, &self.raw[start..], self.origin) {
            f.offset = f.offset.map(|o| o + start as u64);
            if f.offset.is_some_and(|o| o < from as u64) {
                continue;
            }
            f.line = f.line.map(|l| l + lines);
            self.findings.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_wants_a_log_object() {
        assert!(sniff(
            b"\xef\xbb\xbf{\n  \"log\": {\n    \"version\": \"1.2\""
        ));
        assert!(sniff(br#"{"comment": {"a": [1, {"log": 2}]}, "log": {"#));
        assert!(
            !sniff(br#"{"log":"GET /x\n","stream":"stdout"}"#),
            "Docker json-file"
        );
        assert!(!sniff(br#"{"a": {"log": {"entries": []}}}"#), "nested log");
        assert!(!sniff(br#"[{"log": {}}]"#));
        assert!(!sniff(b"log: {"));
    }
}
