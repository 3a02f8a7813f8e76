//! The keyword search: every rule keyword found in one pass, the longer
//! ones (at least [`HEAD`] bytes) as the longest that starts at each
//! position unless it lies inside one found before, the shorter ones (`@`)
//! at every occurrence. Matches may overlap: a keyword that starts inside
//! another and ends past it (`PI-Key` one byte into `API-` in `X-API-Key`)
//! must not be hidden, or the rules it selects would never run there. One
//! that lies wholly inside (`oken` in `token=`) is: the engine runs its
//! rules on the longer keyword's hit, whose window holds its own.
//!
//! The SIMD screen of `heads` runs over the keywords' distinct heads (first
//! four bytes, or all of a short keyword), each head hit checked against
//! the keywords it begins, with a DFA to fall back on where input slows it
//! down ([`Guarded`]); without AVX2, the automaton alone. A bucket of the
//! screen flags a position when each of its four bytes fits *some* head of
//! the bucket, so a bucket of unlike heads flags ordinary text everywhere
//! and verification swamps the scan. The heads are therefore dealt into
//! buckets of alike heads first ([`deal`]).

use std::ops::Range;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use super::deal;
use super::heads::{Heads, HEAD};
use super::locate::count_newlines;

/// The keyword search: the screen where the CPU has AVX2, else an
/// Aho-Corasick automaton (and memmem for the short keywords).
#[derive(Clone, Debug)]
pub struct Keywords {
    search: Search,
    /// Keywords shorter than a head (`@` for URL userinfo): every
    /// occurrence is a hit, whatever longer keyword it lies in.
    short: Vec<Short>,
    /// The screen's heads as spelled, and whether their buckets came from
    /// the table dealt offline ([`deal::buckets`]).
    spellings: Vec<Vec<u8>>,
    from_table: bool,
}

#[derive(Clone, Debug)]
enum Search {
    Packed(Box<Guarded>),
    /// The automaton over the long keywords, and their indexes.
    Automaton(AhoCorasick, Vec<usize>),
}

#[derive(Clone, Debug)]
struct Short {
    /// The keyword's index among all patterns.
    pattern: usize,
    finder: memchr::memmem::Finder<'static>,
}

/// The screen with a way out. It is fast on text, but input made of bytes
/// that many buckets accept (a run of `a`, of `A`, of `eyJ`) flags every
/// position and each flag is verified: many times slower than on logs. A
/// block that the screen searches slower than [`FLOOR`] hands the rest of
/// the range to a plain DFA, whose speed does not depend on the bytes.
/// Both give the same matches; only the speed differs.
#[derive(Clone, Debug)]
pub struct Guarded {
    /// Searches the keywords' distinct heads (their first [`HEAD`] bytes,
    /// or all of a short keyword), not the keywords: a head hit is then
    /// checked against the few keywords that begin with it.
    screen: Heads,
    heads: Vec<Head>,
    patterns: Vec<Vec<u8>>,
    /// The keywords of [`HEAD`] bytes or more, searched byte by byte (ids
    /// are indexes into `long`) once the screen is slow: built then, and
    /// shared by every clone, since its build took a tenth of the start
    /// with 300-odd rules and most scans never need it. `None` if it
    /// failed to build (the screen then goes on).
    dfa: Arc<OnceLock<Option<AhoCorasick>>>,
    long: Vec<usize>,
    /// Longest keyword: a match starting in a block ends this far past it.
    longest: usize,
}

#[derive(Clone, Debug)]
enum Head {
    /// The keywords (indexes) that begin with this head, longest first.
    Long(Vec<usize>),
    /// A short keyword (index into [`Keywords::short`]).
    Short(usize),
}

/// Bytes the screen searches between looks at the clock.
const BLOCK: usize = 256 << 10;

/// Slowest screen search, in nanoseconds per KiB, before the DFA takes
/// over: 4 µs per KiB is 256 MB/s, several times below the screen's pace
/// on logs and under the DFA's own (about 1 GB/s).
const FLOOR: u128 = 4_000;

impl Keywords {
    pub fn new(patterns: &[Vec<u8>]) -> Result<Keywords, aho_corasick::BuildError> {
        let long: Vec<usize> = (0..patterns.len())
            .filter(|&i| patterns[i].len() >= HEAD)
            .collect();
        let short: Vec<Short> = (0..patterns.len())
            .filter(|&i| !patterns[i].is_empty() && patterns[i].len() < HEAD)
            .map(|i| Short {
                pattern: i,
                finder: memchr::memmem::Finder::new(&patterns[i]).into_owned(),
            })
            .collect();
        // Heads that differ only in ASCII case (`oken`, `OKEN`, `Oken`) are
        // one head: one unit when buckets are dealt, so its spellings share
        // a bucket (with exact byte classes at no cost), and one list of
        // keywords to check a hit of any spelling against.
        let mut keys: Vec<Vec<u8>> = Vec::new();
        let mut heads: Vec<Head> = Vec::new();
        let mut spellings: Vec<(Vec<u8>, usize)> = Vec::new();
        for &i in &long {
            let spelling = &patterns[i][..HEAD];
            let key = spelling.to_ascii_lowercase();
            let h = match keys.iter().position(|k| *k == key) {
                Some(h) => h,
                None => {
                    keys.push(key);
                    heads.push(Head::Long(Vec::new()));
                    heads.len() - 1
                }
            };
            if let Head::Long(list) = &mut heads[h] {
                list.push(i);
            }
            if !spellings.iter().any(|(s, _)| s == spelling) {
                spellings.push((spelling.to_vec(), h));
            }
        }
        for head in &mut heads {
            if let Head::Long(list) = head {
                list.sort_by_key(|&i| std::cmp::Reverse(patterns[i].len()));
            }
        }
        for (k, s) in short.iter().enumerate() {
            spellings.push((patterns[s.pattern].clone(), heads.len()));
            heads.push(Head::Short(k));
        }
        let spelling_bytes: Vec<Vec<u8>> = spellings.iter().map(|(s, _)| s.clone()).collect();
        let (bucket, from_table) = deal::buckets(&spelling_bytes);
        let search = match Heads::new(&spellings, &bucket) {
            Some(screen) => Search::Packed(Box::new(Guarded {
                screen,
                heads,
                patterns: patterns.to_vec(),
                dfa: Arc::default(),
                long,
                longest: patterns.iter().map(Vec::len).max().unwrap_or(0),
            })),
            None => Search::Automaton(automaton(patterns, &long, true)?, long),
        };
        Ok(Keywords {
            search,
            short,
            spellings: spelling_bytes,
            from_table,
        })
    }

    /// The screen's heads, and whether the table dealt offline held them
    /// all.
    pub fn heads(&self) -> (&[Vec<u8>], bool) {
        (&self.spellings, self.from_table)
    }

    /// Calls `hit(pattern, start, end)` for the longest keyword of [`HEAD`]
    /// bytes or more that starts at each position of `hay[range]` and ends
    /// past the ones before it, and each occurrence of a shorter one, in
    /// order of their starts. Returns the newlines in `hay[range]`, which
    /// the screen counts as it reads (see [`Heads::each`]), with its block
    /// marks ([`Lines`]).
    pub fn each(
        &self,
        hay: &[u8],
        range: Range<usize>,
        mut hit: impl FnMut(usize, usize, usize),
    ) -> Lines {
        match &self.search {
            Search::Packed(g) => g.each(hay, range, &self.short, BLOCK, FLOOR, &mut hit),
            Search::Automaton(a, long) => {
                let lines = Lines {
                    newlines: count_newlines(&hay[range.clone()]),
                    marks: Vec::new(),
                };
                let from = vec![range.start; self.short.len()];
                merged(
                    a,
                    long,
                    (range.start, range.start),
                    &self.short,
                    &from,
                    hay,
                    range.end,
                    &mut hit,
                );
                lines
            }
        }
    }
}

/// The newlines a keyword search counted in its range, and at each block
/// of the screen after the first, its start and the newlines before it in
/// the range: a line number anywhere is then a short count away.
#[derive(Debug, Default)]
pub struct Lines {
    pub newlines: usize,
    pub marks: Vec<(usize, usize)>,
}

impl Guarded {
    /// The automaton over the long keywords, built on first use.
    fn automaton(&self) -> Option<&AhoCorasick> {
        self.dfa
            .get_or_init(|| automaton(&self.patterns, &self.long, false).ok())
            .as_ref()
    }

    /// The screen block by block; once two blocks in a row take longer
    /// than `floor` ns per KiB, the DFA from there on. (One slow block may
    /// be a page fault or a preempted thread.)
    fn each(
        &self,
        hay: &[u8],
        range: Range<usize>,
        short: &[Short],
        block: usize,
        floor: u128,
        hit: &mut impl FnMut(usize, usize, usize),
    ) -> Lines {
        // The screen's position (a block's start), and the end of the
        // furthest-reaching long keyword found so far.
        let (mut at, mut covered) = (range.start, range.start);
        let mut lines = Lines::default();
        let mut slow = false;
        // Hits wait until the block's clock stops: what the caller does
        // with them is not the screen's time.
        let mut hits: Vec<(usize, usize, usize)> = Vec::new();
        // Where each short keyword's next occurrence may start: like
        // memmem's, occurrences of one do not overlap.
        let mut next_short = vec![range.start; short.len()];
        // A range of one block is searched whole, whatever its pace: only
        // the blocks after a slow one are handed to the DFA.
        let timed = range.len() > block;
        while at < range.end {
            let clock = timed.then(Instant::now);
            let block_end = (at + block).min(range.end);
            // A match starting in the block is found whole: the span
            // reaches a keyword's length past it.
            let span_end = (block_end + self.longest).min(range.end);
            lines.newlines += self.screen.each(
                hay,
                at..block_end,
                span_end,
                &mut |p, h| match &self.heads[h] {
                    Head::Long(list) => {
                        // Every keyword found here has this head: the longest
                        // of them is the match. Their byte after the head is
                        // compared first: a head that common words hold
                        // (`ecko` in `Gecko/`) is mostly no keyword there.
                        let rest = &hay[p..span_end];
                        let next = rest.get(HEAD);
                        if let Some(&k) = list.iter().find(|&&k| {
                            let kw = &self.patterns[k];
                            kw.get(HEAD).is_none_or(|b| next == Some(b)) && rest.starts_with(kw)
                        }) {
                            let end = p + self.patterns[k].len();
                            if end > covered {
                                covered = end;
                                hits.push((k, p, end));
                            }
                        }
                    }
                    &Head::Short(k) => {
                        if p >= next_short[k] {
                            let end = p + short[k].finder.needle().len();
                            next_short[k] = end;
                            hits.push((short[k].pattern, p, end));
                        }
                    }
                },
            );
            let took = clock.map_or(0, |c| c.elapsed().as_nanos());
            for (p, start, end) in hits.drain(..) {
                hit(p, start, end);
            }
            let kib = (block_end - at) as u128 / 1024;
            at = block_end;
            if at < range.end {
                lines.marks.push((at, lines.newlines));
            }
            if took <= floor.saturating_mul(kib.max(1)) {
                slow = false;
            } else if let Some(dfa) = slow.then(|| self.automaton()).flatten() {
                let from: Vec<usize> = next_short.iter().map(|&f| f.max(at)).collect();
                let longs = (at, covered);
                merged(dfa, &self.long, longs, short, &from, hay, range.end, hit);
                lines.newlines += count_newlines(&hay[at..range.end]);
                return lines;
            } else {
                slow = true;
            }
        }
        lines
    }
}

/// An automaton over the `long` keywords of `patterns`, leftmost-longest.
fn automaton(
    patterns: &[Vec<u8>],
    long: &[usize],
    prefilter: bool,
) -> Result<AhoCorasick, aho_corasick::BuildError> {
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .kind(Some(AhoCorasickKind::DFA))
        .prefilter(prefilter)
        .build(long.iter().map(|&i| &patterns[i]))
}

/// The automaton's longest match at each start from `longs.0` that ends past
/// `longs.1` and past the matches before it, its pattern ids mapped through
/// `long` to the caller's, and each short keyword's
/// occurrences from its `from`, all before `end`: merged in order of their
/// starts as they are found, since a run of `@` holds one per byte.
#[allow(clippy::too_many_arguments)]
fn merged(
    dfa: &AhoCorasick,
    long: &[usize],
    longs: (usize, usize),
    short: &[Short],
    from: &[usize],
    hay: &[u8],
    end: usize,
    hit: &mut impl FnMut(usize, usize, usize),
) {
    // Leftmost-longest from one byte past each match's start: the longest
    // keyword at every start, overlapping ones included, inner ones not.
    let (mut start, mut covered) = (longs.0.min(end), longs.1);
    let mut longs = std::iter::from_fn(|| loop {
        let m = dfa.find(aho_corasick::Input::new(hay).range(start..end))?;
        start = m.start() + 1;
        if m.end() > covered {
            covered = m.end();
            return Some((long[m.pattern().as_usize()], m.start(), m.end()));
        }
    })
    .peekable();
    let mut shorts: Vec<_> = short
        .iter()
        .zip(from)
        .map(|(s, &from)| {
            let from = from.min(end);
            let len = s.finder.needle().len();
            s.finder
                .find_iter(&hay[from..end])
                .map(move |m| (s.pattern, from + m, from + m + len))
                .peekable()
        })
        .collect();
    loop {
        let first = shorts
            .iter_mut()
            .enumerate()
            .filter_map(|(k, it)| it.peek().map(|&(_, start, _)| (start, k)))
            .min();
        let long_start = longs.peek().map(|&(_, start, _)| start);
        let next = match (long_start, first) {
            (Some(l), Some((s, k))) if s < l => shorts[k].next(),
            (None, Some((_, k))) => shorts[k].next(),
            _ => longs.next(),
        };
        match next {
            Some((p, start, stop)) => hit(p, start, stop),
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every keyword gets a bucket, and hits come back as the caller's
    /// keyword indexes.
    #[test]
    fn dealt_buckets_are_in_range_and_hits_map_back() {
        let words = [
            "ghp_", "gho_", "xoxb-", "oken", "OKEN", "ecret", "AKIA", "glpat-", "npm_", "k_live_",
            "sig=", "assw", "ession", "earer ", "mysql", "redis", "dapi", "pul-", "hvb.", "xoxe",
        ];
        let patterns: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        let bucket = deal::deal(&patterns, 16);
        let k = Keywords::new(&patterns).expect("builds");
        let hay = b"a ghp_x b OKEN c dapi d hvb. e xoxe f";
        let mut hits = Vec::new();
        k.each(hay, 0..hay.len(), |p, s, e| {
            hits.push((words[p], &hay[s..e]))
        });
        assert_eq!(
            hits,
            vec![
                ("ghp_", &b"ghp_"[..]),
                ("OKEN", b"OKEN"),
                ("dapi", b"dapi"),
                ("hvb.", b"hvb."),
                ("xoxe", b"xoxe"),
            ]
        );
        assert_eq!(bucket.len(), patterns.len());
        assert!(bucket.iter().all(|&b| b < 16));
    }

    /// Block by block, switching to the DFA or not, and without AVX2, the
    /// matches are the longest keyword at every start but those inside an
    /// earlier match: blocks never cut a match, a keyword overlapping
    /// another's end is found at its own start, and head-sharing keywords
    /// resolve alike.
    #[test]
    fn guarded_search_finds_what_one_pass_finds() {
        let words = [
            "token",
            "access_token",
            "oken=",
            "ghp_",
            "ghp_ghp_",
            "ghp_x",
            "xoxb-",
            "AKIA",
            "aaaa",
            "aaaab",
            "toke",
            "API-",
            "PI-Key",
            "OKEN",
            "@",
            "gh",
        ];
        let patterns: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        let k = Keywords::new(&patterns).expect("builds");
        let Search::Packed(g) = &k.search else {
            return; // no AVX2 here: the automaton is all there is
        };
        let mut hay = Vec::new();
        let mut seed = 9u32;
        for _ in 0..400 {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let piece = match seed >> 29 {
                0 | 1 => words[(seed >> 8) as usize % words.len()],
                2 => "aaaaaaa",
                3 => "ghp_ghp_ghp_",
                // A head ("acce") with no keyword of its own there.
                4 => "access_tok",
                5 => "@@\n",
                // Overlapping keywords; spellings of a head in other cases.
                6 => "X-API-Key ToKeN oKEN= TOKEN",
                _ => " x=\n\n",
            };
            hay.extend_from_slice(piece.as_bytes());
        }
        let range = 3..hay.len() - 2;
        // At each start, the longest keyword of 4 bytes or more, unless it
        // lies inside one found before.
        let (mut want, mut covered) = (Vec::new(), 0);
        for at in range.clone() {
            let longest = (0..words.len())
                .filter(|&w| words[w].len() >= HEAD && hay[at..range.end].starts_with(&patterns[w]))
                .max_by_key(|&w| words[w].len());
            if let Some(w) = longest {
                if at + words[w].len() > covered {
                    covered = at + words[w].len();
                    want.push((w, at, covered));
                }
            }
        }
        for s in &k.short {
            for m in s.finder.find_iter(&hay[range.clone()]) {
                let at = range.start + m;
                want.push((s.pattern, at, at + s.finder.needle().len()));
            }
        }
        want.sort_unstable_by_key(|&(p, s, _)| (s, p));
        assert!(want.len() > 100, "{} matches", want.len());
        // The newlines are counted as the search reads, DFA or screen.
        let newlines = hay[range.clone()].iter().filter(|&&b| b == b'\n').count();
        assert!(newlines > 50, "{newlines} newlines");
        for block in [1, 2, 3, 7, 64, 1000, 1 << 20] {
            for floor in [0, u128::MAX] {
                let mut got = Vec::new();
                let counted = g.each(
                    &hay,
                    range.clone(),
                    &k.short,
                    block,
                    floor,
                    &mut |p, s, e| got.push((p, s, e)),
                );
                assert!(got.windows(2).all(|w| w[0].1 <= w[1].1), "in order");
                got.sort_unstable_by_key(|&(p, s, _)| (s, p));
                assert_eq!(got, want, "block {block}, floor {floor}");
                assert_eq!(counted.newlines, newlines, "block {block}, floor {floor}");
                for &(at, before) in &counted.marks {
                    let n = hay[range.start..at].iter().filter(|&&b| b == b'\n').count();
                    assert_eq!(before, n, "mark at {at}, block {block}, floor {floor}");
                }
                assert!(block >= range.len() || floor == 0 || !counted.marks.is_empty());
            }
        }
        // Without AVX2: the automaton and memmem, merged in order.
        let plain = Keywords {
            search: Search::Automaton(g.automaton().expect("builds").clone(), g.long.clone()),
            ..k.clone()
        };
        let mut got = Vec::new();
        let counted = plain.each(&hay, range.clone(), |p, s, e| got.push((p, s, e)));
        assert!(got.windows(2).all(|w| w[0].1 <= w[1].1), "in order");
        got.sort_unstable_by_key(|&(p, s, _)| (s, p));
        assert_eq!(got, want, "automaton");
        assert_eq!(counted.newlines, newlines, "automaton");
    }
}
