//! Scanning a whole haystack in parallel, line-aligned chunks, and scanning a
//! stream through a roll buffer. Both give every byte exactly one owner: a
//! match is reported by the chunk (or buffer fill) in which its secret
//! starts, while each scan also sees `Engine::overlap()` bytes of context on
//! both sides, so a secret that straddles a boundary is found exactly once.
//! Offsets are absolute in the stream; line numbers are counted lazily.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::ops::Range;
use std::sync::Mutex;

use rayon::prelude::*;

use super::locate::{findings, LineTracker, Origin};
use super::{Engine, RawMatch, Screened};
use crate::finding::Finding;

/// Bytes per parallel chunk of a mapped file and per roll-buffer fill.
pub const CHUNK: usize = 8 << 20;

/// One chunk of a haystack: the bytes it owns and where its first line
/// starts (before `own.start` when the chunk begins mid-line).
struct Piece {
    own: Range<usize>,
    line_start: usize,
    /// The haystack's last chunk.
    last: bool,
}

/// Scans a whole in-memory haystack (a mapped or read file), splitting it
/// into line-aligned chunks scanned in parallel when it is large.
pub fn scan_slice(engine: &Engine, hay: &[u8], origin: &Origin) -> Vec<Finding> {
    let out = Mutex::new(Vec::new());
    scan_slice_in(engine, hay, origin, CHUNK, &|_| {}, &|mut batch| {
        if let Ok(mut out) = out.lock() {
            out.append(&mut batch);
        }
    });
    out.into_inner().unwrap_or_default()
}

/// [`scan_slice`], telling `release` each chunk's bytes once they are
/// scanned (a mapped file drops them from memory) and handing each chunk's
/// findings to `emit` as soon as the chunks before it are done, in order:
/// a file of millions of findings is never held whole.
pub fn scan_slice_streaming(
    engine: &Engine,
    hay: &[u8],
    origin: &Origin,
    release: &(dyn Fn(Range<usize>) + Sync),
    emit: &(dyn Fn(Vec<Finding>) + Sync),
) {
    scan_slice_in(engine, hay, origin, CHUNK, release, emit);
}

fn scan_slice_in(
    engine: &Engine,
    hay: &[u8],
    origin: &Origin,
    chunk: usize,
    release: &(dyn Fn(Range<usize>) + Sync),
    emit: &(dyn Fn(Vec<Finding>) + Sync),
) {
    // Chunks are cut as the workers take them, not all up front: finding a
    // cut reads the bytes around it, and on a file of few newlines that
    // would read (and keep resident) the whole mapping before any chunk is
    // scanned and released.
    let released = InOrder {
        release,
        pending: Mutex::new(Pending::default()),
    };
    let emitted = Emitter {
        emit,
        pending: Mutex::new(Ready::default()),
    };
    Pieces::new(hay, chunk)
        .enumerate()
        .par_bridge()
        .for_each_init(
            || engine.clone(),
            |engine, (i, p)| {
                let done = scan_piece(engine, hay, &p, origin);
                released.scanned(i, p);
                emitted.scanned(i, done);
            },
        );
}

/// Hands each chunk's findings on in chunk order, their line numbers made
/// absolute: chunk `i` waits only for chunks before it that are still
/// being scanned (a few, one per worker), not for the whole file.
struct Emitter<'a> {
    emit: &'a (dyn Fn(Vec<Finding>) + Sync),
    pending: Mutex<Ready>,
}

#[derive(Default)]
struct Ready {
    /// Index of the next chunk to hand on.
    next: usize,
    /// Newlines in the chunks handed on so far.
    lines: u64,
    /// Chunks scanned out of turn: findings and newlines, by index.
    scanned: BTreeMap<usize, (Vec<Finding>, u64)>,
}

impl Emitter<'_> {
    fn scanned(&self, i: usize, done: (Vec<Finding>, u64)) {
        // A poisoned lock means a scan panicked; the run is failing anyway.
        let Ok(mut ready) = self.pending.lock() else {
            return;
        };
        ready.scanned.insert(i, done);
        loop {
            let next = ready.next;
            let Some((mut found, newlines)) = ready.scanned.remove(&next) else {
                break;
            };
            // Line numbers so far are relative to the chunk: add the
            // newlines of every earlier chunk.
            for f in &mut found {
                f.line = f.line.map(|l| l + ready.lines);
            }
            ready.lines += newlines;
            ready.next += 1;
            if !found.is_empty() {
                (self.emit)(found);
            }
        }
    }
}

/// Hands scanned chunks to `release` in order, each once the chunk after
/// it is scanned too: a scan reads `Engine::overlap()` bytes of both
/// neighbours, and reading a page already released maps it back in (with
/// large page-cache folios, its neighbours too) for the rest of the run.
struct InOrder<'a> {
    release: &'a (dyn Fn(Range<usize>) + Sync),
    pending: Mutex<Pending>,
}

#[derive(Default)]
struct Pending {
    /// Index of the next chunk to release.
    next: usize,
    /// Chunks scanned but not yet released, by index.
    scanned: BTreeMap<usize, Piece>,
}

impl InOrder<'_> {
    fn scanned(&self, i: usize, piece: Piece) {
        // A poisoned lock means a scan panicked; the run is failing anyway,
        // and releasing less is always safe.
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        pending.scanned.insert(i, piece);
        loop {
            let next = pending.next;
            let ready = match pending.scanned.get(&next) {
                Some(p) => p.last || pending.scanned.contains_key(&(next + 1)),
                None => false,
            };
            if !ready {
                break;
            }
            if let Some(p) = pending.scanned.remove(&next) {
                (self.release)(p.own);
            }
            pending.next += 1;
        }
    }
}

/// Scans one chunk: its findings, lines counted from the chunk's start,
/// and the newlines it holds, which the keyword screen counted as it read
/// the chunk.
fn scan_piece(engine: &Engine, hay: &[u8], p: &Piece, origin: &Origin) -> (Vec<Finding>, u64) {
    let overlap = engine.overlap();
    let ext = p.own.start.saturating_sub(overlap)..(p.own.end + overlap).min(hay.len());
    let mut all: Vec<RawMatch> = Vec::new();
    let screened = engine.scan(hay, ext, &mut all);
    let owned: Vec<RawMatch> = all
        .iter()
        .filter(|m| p.own.contains(&m.secret.start))
        .cloned()
        .collect();
    let mut lines = LineTracker::new(p.own.start, 1, p.line_start as i64);
    let own = p.own.clone();
    let found = counted_findings(
        engine, hay, 0, own, &owned, &all, &screened, &mut lines, origin,
    );
    (found, lines.line - 1)
}

/// Findings for `owned` (sorted, in `own`), with `lines` at `own.start`:
/// each line is counted from the last of the screen's marks before it, and
/// `lines` is left at `own.end` by the screen's count, so that the bytes
/// are not counted again.
#[allow(clippy::too_many_arguments)]
fn counted_findings(
    engine: &Engine,
    hay: &[u8],
    base: u64,
    own: Range<usize>,
    owned: &[RawMatch],
    all: &[RawMatch],
    screened: &Screened,
    lines: &mut LineTracker,
    origin: &Origin,
) -> Vec<Finding> {
    let first = lines.line;
    let (newlines, marks) = screened.lines_in(hay, own.clone());
    let mut marks = marks.into_iter().peekable();
    let mut found = Vec::with_capacity(owned.len());
    for m in owned {
        let mut last = None;
        while let Some(mark) = marks.next_if(|&(at, _)| at <= m.secret.start) {
            last = Some(mark);
        }
        if let Some((at, before)) = last {
            lines.jump(hay, at, first + before as u64);
        }
        let one = std::slice::from_ref(m);
        found.extend(findings(engine, hay, base, one, all, lines, origin));
    }
    lines.jump(hay, own.end, first + newlines as u64);
    found
}

/// Cuts `hay` into chunks of about `size` bytes that end just after a
/// newline; a line longer than `size` is cut where it must be. An empty
/// haystack is one empty chunk.
struct Pieces<'a> {
    hay: &'a [u8],
    size: usize,
    start: usize,
    line_start: usize,
    /// Where the last search for a newline found none up to: a long line's
    /// bytes are searched once, not again for its next chunk's line start.
    clear: Range<usize>,
    done: bool,
}

impl<'a> Pieces<'a> {
    fn new(hay: &'a [u8], size: usize) -> Pieces<'a> {
        Pieces {
            hay,
            size: size.max(1),
            start: 0,
            line_start: 0,
            clear: 0..0,
            done: false,
        }
    }
}

impl Iterator for Pieces<'_> {
    type Item = Piece;

    fn next(&mut self) -> Option<Piece> {
        if self.done {
            return None;
        }
        let (hay, start) = (self.hay, self.start);
        let searched = std::mem::replace(&mut self.clear, 0..0);
        let target = (start + self.size).min(hay.len());
        let end = if target == hay.len() {
            target
        } else {
            let window = target..(target + self.size).min(hay.len());
            match memchr::memchr(b'\n', &hay[window.clone()]) {
                Some(i) => target + i + 1,
                None => {
                    self.clear = window;
                    target
                }
            }
        };
        let piece = Piece {
            own: start..end,
            line_start: self.line_start,
            last: end >= hay.len(),
        };
        if end > 0 && hay[end - 1] != b'\n' {
            // The next chunk begins mid-line: its line started in this one
            // (or earlier). Bytes already searched need no second look.
            let covered = searched.start <= start && searched.end >= end;
            if !covered {
                if let Some(i) = memchr::memrchr(b'\n', &hay[start..end]) {
                    self.line_start = start + i + 1;
                }
            }
        } else {
            self.line_start = end;
        }
        self.start = end;
        self.done = end >= hay.len();
        Some(piece)
    }
}

/// A read that failed part-way: what was read before it, and why.
#[derive(Debug)]
pub struct StreamError {
    pub bytes: u64,
    pub error: io::Error,
}

/// Scans a stream through a roll buffer of about [`CHUNK`] bytes, handing
/// each batch of findings to `emit` as soon as its bytes are scanned.
/// Returns the number of bytes read; on a read error, the findings in every
/// byte read before it have been emitted.
pub fn scan_reader<R: Read>(
    engine: &Engine,
    reader: R,
    origin: &Origin,
    emit: &mut dyn FnMut(Vec<Finding>),
) -> Result<u64, StreamError> {
    scan_reader_in(engine, reader, origin, emit, CHUNK)
}

/// [`scan_reader`] with a fill size of its own (tests and fuzzing: small
/// fills put many secrets across fill edges).
pub fn scan_reader_in<R: Read>(
    engine: &Engine,
    reader: R,
    origin: &Origin,
    emit: &mut dyn FnMut(Vec<Finding>),
    chunk: usize,
) -> Result<u64, StreamError> {
    let mut lines = LineTracker::new(0, 1, 0);
    fills_in(engine, reader, chunk, &mut |fill| {
        let owned: Vec<RawMatch> = fill
            .all
            .iter()
            .filter(|m| fill.owned.contains(&m.secret.start))
            .cloned()
            .collect();
        let (buf, own) = (fill.buf, fill.owned.clone());
        let found = counted_findings(
            engine,
            buf,
            fill.base,
            own,
            &owned,
            fill.all,
            fill.screened,
            &mut lines,
            origin,
        );
        if !found.is_empty() {
            emit(found);
        }
        lines.shift(fill.dropped);
    })
}

/// One roll-buffer fill of a stream, scanned.
pub struct Fill<'a> {
    pub buf: &'a [u8],
    /// Stream offset of `buf[0]`.
    pub base: u64,
    /// The bytes this fill owns: each stream byte is owned by one fill, in
    /// order, and a fill owns whole lines unless one is longer than a fill.
    pub owned: Range<usize>,
    /// Every match in `buf`, owned or not (context for masking).
    pub all: &'a [RawMatch],
    /// How many bytes at the start of `buf` the next fill drops.
    pub dropped: usize,
    /// What the keyword screen read of `buf`, and the newlines it counted.
    pub screened: &'a Screened,
}

/// Reads a stream through a roll buffer of about [`CHUNK`] bytes and scans
/// each fill, keeping `Engine::overlap()` bytes of context on both sides of
/// the bytes it owns. Returns the number of bytes read; on a read error,
/// every byte read before it has been handed to `on` first.
pub fn fills<R: Read>(
    engine: &Engine,
    reader: R,
    on: &mut dyn FnMut(&Fill),
) -> Result<u64, StreamError> {
    fills_in(engine, reader, CHUNK, on)
}

fn fills_in<R: Read>(
    engine: &Engine,
    mut reader: R,
    chunk: usize,
    on: &mut dyn FnMut(&Fill),
) -> Result<u64, StreamError> {
    let overlap = engine.overlap();
    // Each fill after the first owns `chunk - overlap` new bytes: keep that
    // well above zero, or the scan crawls.
    let chunk = chunk.max(2 * overlap);
    let mut buf: Vec<u8> = Vec::with_capacity(chunk + 2 * overlap);
    // Stream offset of buf[0], and where in buf the unowned bytes begin.
    let mut base = 0u64;
    let mut owned_from = 0usize;
    loop {
        // After a read error, what was read before it is scanned as if the
        // stream ended there, and the error is returned after its findings.
        let (eof, failed) = match fill(&mut reader, &mut buf, chunk + overlap) {
            Ok(eof) => (eof, None),
            Err(error) => (true, Some(error)),
        };
        let cut = if eof {
            buf.len()
        } else {
            // Not at EOF, `fill` left exactly chunk + overlap bytes.
            let limit = buf.len() - overlap;
            memchr::memrchr(b'\n', &buf[owned_from..limit]).map_or(limit, |i| owned_from + i + 1)
        };
        let mut all = Vec::new();
        let screened = engine.scan(&buf, 0..buf.len(), &mut all);
        let keep_from = cut.saturating_sub(overlap);
        on(&Fill {
            buf: &buf,
            base,
            owned: owned_from..cut,
            all: &all,
            dropped: keep_from,
            screened: &screened,
        });
        if eof {
            let bytes = base + buf.len() as u64;
            return match failed {
                None => Ok(bytes),
                Some(error) => Err(StreamError { bytes, error }),
            };
        }
        buf.drain(..keep_from);
        base += keep_from as u64;
        owned_from = cut - keep_from;
    }
}

/// Reads until `buf` holds `want` bytes or the stream ends; true at EOF.
/// (`read_to_end` on a `take` reads into spare capacity without zeroing it
/// first, retries interrupted reads, and keeps the bytes read before an
/// error.)
fn fill<R: Read>(reader: &mut R, buf: &mut Vec<u8>, want: usize) -> io::Result<bool> {
    let need = want.saturating_sub(buf.len());
    if need == 0 {
        return Ok(false);
    }
    let got = reader.by_ref().take(need as u64).read_to_end(buf)?;
    Ok(got < need)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rules;

    /// Every built-in rule's examples, each line shifted by filler of a
    /// different length, several times over: secrets land at every
    /// position relative to small chunk edges.
    fn haystack(rules: &Rules) -> Vec<u8> {
        let mut hay = Vec::new();
        for round in 0..2 {
            for (i, r) in rules.rules.iter().enumerate() {
                for ex in &r.spec.examples {
                    let pad = (i * 37 + round * 101) % 211;
                    hay.extend_from_slice("x".repeat(pad).as_bytes());
                    hay.push(b' ');
                    hay.extend_from_slice(ex.as_bytes());
                    hay.push(b'\n');
                }
            }
        }
        hay
    }

    /// Returns one byte per read: every secret straddles a read boundary.
    struct OneByte<'a>(&'a [u8]);

    impl Read for OneByte<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let Some((&b, rest)) = self.0.split_first() else {
                return Ok(0);
            };
            if buf.is_empty() {
                return Ok(0);
            }
            buf[0] = b;
            self.0 = rest;
            Ok(1)
        }
    }

    /// `scan_slice_in`'s findings, as emitted, in one list.
    fn collected(
        engine: &Engine,
        hay: &[u8],
        origin: &Origin,
        chunk: usize,
        release: &(dyn Fn(Range<usize>) + Sync),
    ) -> Vec<Finding> {
        let out = Mutex::new(Vec::new());
        scan_slice_in(engine, hay, origin, chunk, release, &|mut b| {
            out.lock().expect("lock").append(&mut b)
        });
        out.into_inner().expect("lock")
    }

    #[test]
    fn chunked_streamed_and_whole_scans_agree() {
        let rules = Rules::builtin().expect("built-in rules");
        let hay = haystack(&rules);
        let engine = Engine::new(rules).expect("engine");
        let origin = Origin::default();
        let whole = collected(&engine, &hay, &origin, usize::MAX / 2, &|_| {});
        assert!(whole.len() > 200, "only {} findings", whole.len());

        // Chunks as small as the scanner allows (the overlap is 16 KiB, for
        // PEM blocks): many edges, each at a different place relative to
        // the secrets.
        for chunk in (0..6).map(|i| 2 * engine.overlap() + i * 2477) {
            let released = Mutex::new(Vec::new());
            let record = |r: Range<usize>| released.lock().expect("lock").push(r);
            let pieces = collected(&engine, &hay, &origin, chunk, &record);
            assert_eq!(pieces, whole, "scan_slice in {chunk}-byte chunks");
            // Every chunk released once, in order.
            let released = released.into_inner().expect("lock");
            assert!(released.len() > 1);
            assert_eq!(released[0].start, 0);
            assert_eq!(released.last().map(|r| r.end), Some(hay.len()));
            assert!(released.windows(2).all(|w| w[0].end == w[1].start));

            let mut streamed = Vec::new();
            let n = scan_reader_in(
                &engine,
                OneByte(&hay),
                &origin,
                &mut |b| streamed.extend(b),
                chunk,
            )
            .expect("no read error");
            assert_eq!(n, hay.len() as u64);
            assert_eq!(streamed, whole, "one byte per read, {chunk}-byte fills");
        }
    }

    /// A chunk of many screen blocks: each finding's line is counted from
    /// the screen's last mark before it, and must be the line a plain
    /// count gives.
    #[test]
    fn lines_past_the_screens_blocks_are_counted_right() {
        let rules = Rules::builtin().expect("built-in rules");
        let one = haystack(&rules);
        let mut hay = Vec::new();
        while hay.len() < 1 << 20 {
            hay.extend_from_slice(&one);
            hay.extend_from_slice(&b"filler line\n".repeat(1000));
        }
        let engine = Engine::new(rules).expect("engine");
        let found = collected(&engine, &hay, &Origin::default(), usize::MAX / 2, &|_| {});
        assert!(found.len() > 1000, "only {} findings", found.len());
        let late = found.iter().filter(|f| f.offset > Some(1 << 19)).count();
        assert!(late > 100, "{late} findings past the first blocks");
        for f in &found {
            let at = f.offset.expect("offset") as usize;
            let line = 1 + hay[..at].iter().filter(|&&b| b == b'\n').count() as u64;
            let start = hay[..at]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            assert_eq!(f.line, Some(line), "line at {at}");
            assert_eq!(f.column, Some((at - start + 1) as u64), "column at {at}");
        }
        // A stream's fill is counted the same way.
        let mut streamed = Vec::new();
        scan_reader(&engine, &hay[..], &Origin::default(), &mut |b| {
            streamed.extend(b)
        })
        .expect("no read error");
        assert_eq!(streamed, found);
    }

    #[test]
    fn chunks_cover_the_haystack_and_know_where_their_line_starts() {
        // Lines of every length from none to several chunks long.
        let mut hay = Vec::new();
        for len in [0, 1, 5, 0, 17, 40, 3, 90, 0, 0, 11] {
            hay.extend(std::iter::repeat_n(b'x', len));
            hay.push(b'\n');
        }
        hay.extend(std::iter::repeat_n(b'y', 75));
        for size in 1..30 {
            for end in [0, 1, hay.len() - 76, hay.len()] {
                let hay = &hay[..end];
                let mut at = 0;
                for p in Pieces::new(hay, size) {
                    assert_eq!(p.own.start, at, "contiguous ({size}, {end})");
                    assert!(p.own.end > p.own.start || hay.is_empty());
                    let line = hay[..at].iter().rposition(|&b| b == b'\n');
                    assert_eq!(p.line_start, line.map_or(0, |i| i + 1), "({size}, {end})");
                    let cut_mid_line = p.own.end < hay.len() && hay[p.own.end - 1] != b'\n';
                    if cut_mid_line {
                        assert_eq!(p.own.len(), size, "a line is cut only when it must be");
                    }
                    at = p.own.end;
                }
                assert_eq!(at, hay.len(), "every byte owned ({size}, {end})");
            }
        }
    }

    #[test]
    fn a_read_error_keeps_the_findings_before_it() {
        let rules = Rules::builtin().expect("built-in rules");
        let hay = haystack(&rules);
        let engine = Engine::new(rules).expect("engine");
        let origin = Origin::default();
        let whole = collected(&engine, &hay, &origin, usize::MAX / 2, &|_| {});
        let cut = hay.len() / 2;
        let failing = io::Cursor::new(&hay[..cut]).chain(Failing);
        let mut got = Vec::new();
        let err = scan_reader_in(&engine, failing, &origin, &mut |b| got.extend(b), 20_000)
            .expect_err("the error is returned");
        assert_eq!(err.bytes, cut as u64);
        // Every finding whose window ends before the cut is there.
        let key = |f: &Finding| (f.offset, f.rule.clone(), f.fingerprint.clone());
        let got: Vec<_> = got.iter().map(key).collect();
        let want: Vec<_> = whole
            .iter()
            .filter(|f| {
                f.offset
                    .is_some_and(|o| o as usize + engine.overlap() < cut)
            })
            .map(key)
            .collect();
        assert!(
            want.len() > 50,
            "only {} findings before the cut",
            want.len()
        );
        for w in &want {
            assert!(got.contains(w), "lost {w:?}");
        }
    }

    struct Failing;

    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("device gone"))
        }
    }
}
