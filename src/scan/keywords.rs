//! The keyword search: every rule keyword of at least [`super::SHORT`]
//! bytes, found in one pass.
//!
//! Up to 128 distinct keyword heads (first four bytes), aho-corasick's
//! packed searcher (Teddy) runs over the heads, its pattern-count
//! heuristics off, each head hit checked against the keywords it begins,
//! with a DFA to fall back on where input slows it down ([`Guarded`]);
//! past that (a user's many rules) the automaton alone. Teddy screens 16
//! or 32 bytes at a time against 16 buckets of patterns by the nybbles of
//! their first four bytes: a
//! bucket flags a position when each of those bytes fits the nybbles of
//! *some* pattern of the bucket, so a bucket of unlike patterns flags
//! ordinary text everywhere and verification swamps the scan. The patterns
//! are therefore dealt into buckets of alike patterns first.

use std::ops::Range;
use std::time::Instant;

use aho_corasick::{packed, AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind, Span};

#[derive(Clone, Debug)]
pub enum Keywords {
    Packed(Guarded),
    Automaton(AhoCorasick),
}

/// Teddy with a way out. Its screen is fast on text, but input made of
/// bytes that many buckets accept (a run of `a`, of `A`, of `eyJ`) flags
/// every position and each flag is verified: 20 times slower than on
/// logs. A block that Teddy searches slower than [`FLOOR`] hands the rest
/// of the range to a plain DFA, whose speed does not depend on the bytes.
/// Both give the same leftmost-longest matches; only the speed differs.
#[derive(Clone, Debug)]
pub struct Guarded {
    /// Searches the keywords' distinct heads (their first [`SCREENED`]
    /// bytes), not the keywords: a head hit is then checked against the
    /// few keywords that begin with it. Teddy verifies each flag against
    /// every pattern of its bucket, whole; on the sample logs heads made
    /// the screen a third faster than the 127 keywords themselves.
    teddy: packed::Searcher,
    /// For each of Teddy's pattern ids, the keywords (indexes) that begin
    /// with that head, longest first.
    heads: Vec<Vec<usize>>,
    patterns: Vec<Vec<u8>>,
    /// The same keywords, searched byte by byte (ids are keyword indexes).
    dfa: AhoCorasick,
    /// Longest keyword: a match starting in a block ends this far past it.
    longest: usize,
}

/// Bytes Teddy searches between looks at the clock.
const BLOCK: usize = 256 << 10;

/// Slowest Teddy search, in nanoseconds per KiB, before the DFA takes
/// over: 4 µs per KiB is 256 MB/s, several times below Teddy's pace on
/// logs and under the DFA's own (about 1 GB/s).
const FLOOR: u128 = 4_000;

/// Teddy's buckets: its patterns `i`, `i + 16`, `i + 32` … share one.
const BUCKETS: usize = 16;

/// Leading bytes Teddy screens by: a keyword's head (all keywords here are
/// at least this long).
const SCREENED: usize = 4;

impl Keywords {
    pub fn new(patterns: &[Vec<u8>]) -> Result<Keywords, aho_corasick::BuildError> {
        let mut heads: Vec<(&[u8], Vec<usize>)> = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            let head = &p[..p.len().min(SCREENED)];
            match heads.iter_mut().find(|(h, _)| *h == head) {
                Some((_, list)) => list.push(i),
                None => heads.push((head, vec![i])),
            }
        }
        for (_, list) in &mut heads {
            list.sort_by_key(|&i| std::cmp::Reverse(patterns[i].len()));
        }
        let head_bytes: Vec<Vec<u8>> = heads.iter().map(|(h, _)| h.to_vec()).collect();
        let by_id = deal(&head_bytes);
        let packed = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostLongest)
            .heuristic_pattern_limits(false)
            .builder()
            .extend(by_id.iter().map(|&h| &head_bytes[h]))
            .build();
        let dfa = |prefilter: bool| {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .kind(Some(AhoCorasickKind::DFA))
                .prefilter(prefilter)
                .build(patterns)
        };
        if let Some(teddy) = packed {
            return Ok(Keywords::Packed(Guarded {
                teddy,
                heads: by_id.iter().map(|&h| heads[h].1.clone()).collect(),
                patterns: patterns.to_vec(),
                dfa: dfa(false)?,
                longest: patterns.iter().map(Vec::len).max().unwrap_or(0),
            }));
        }
        Ok(Keywords::Automaton(dfa(true)?))
    }

    /// Calls `hit(pattern, start, end)` for each leftmost-longest keyword
    /// match in `hay[range]`, in order.
    pub fn each(&self, hay: &[u8], range: Range<usize>, mut hit: impl FnMut(usize, usize, usize)) {
        match self {
            Keywords::Packed(g) => g.each(hay, range, BLOCK, FLOOR, &mut hit),
            Keywords::Automaton(a) => automaton(a, hay, range, &mut hit),
        }
    }
}

impl Guarded {
    /// Teddy block by block; once two blocks in a row take longer than
    /// `floor` ns per KiB, the DFA from there on. (One slow block may be a
    /// page fault or a preempted thread.)
    fn each(
        &self,
        hay: &[u8],
        range: Range<usize>,
        block: usize,
        floor: u128,
        hit: &mut impl FnMut(usize, usize, usize),
    ) {
        let mut at = range.start;
        let mut slow = false;
        // Hits wait until the block's clock stops: what the caller does
        // with them is not Teddy's time.
        let mut hits: Vec<(usize, usize, usize)> = Vec::new();
        while at < range.end {
            let (clock, from) = (Instant::now(), at);
            let block_end = (at + block).min(range.end);
            // A match starting in the block is found whole: the span
            // reaches a keyword's length past it. Teddy searches from the
            // end of each match, as its own iterator does.
            let span_end = (block_end + self.longest).min(range.end);
            while at < block_end {
                match self.teddy.find_in(hay, Span::from(at..span_end)) {
                    Some(m) if m.start() < block_end => {
                        // Every keyword found at this position has this
                        // head: the longest of them is the match. None: the
                        // next keyword may start at the next byte.
                        let p = m.start();
                        let rest = &hay[p..span_end];
                        let longest = self.heads[m.pattern().as_usize()]
                            .iter()
                            .find(|&&k| rest.starts_with(&self.patterns[k]));
                        match longest {
                            Some(&k) => {
                                at = p + self.patterns[k].len();
                                hits.push((k, p, at));
                            }
                            None => at = p + 1,
                        }
                    }
                    _ => at = block_end,
                }
            }
            let took = clock.elapsed().as_nanos();
            for (p, start, end) in hits.drain(..) {
                hit(p, start, end);
            }
            let kib = (at - from) as u128 / 1024;
            if took <= floor.saturating_mul(kib.max(1)) {
                slow = false;
            } else if slow {
                automaton(&self.dfa, hay, at..range.end, hit);
                return;
            } else {
                slow = true;
            }
        }
    }
}

fn automaton(
    a: &AhoCorasick,
    hay: &[u8],
    range: Range<usize>,
    hit: &mut impl FnMut(usize, usize, usize),
) {
    let input = aho_corasick::Input::new(hay).range(range);
    for m in a.find_iter(input) {
        hit(m.pattern().as_usize(), m.start(), m.end());
    }
}

/// How often each ASCII byte occurs in log text, per 10,000 bytes: counted
/// on the sample logs in `examples/` (access log, JSON application log,
/// traceback), every printable byte at least 1. Teddy's cost is the flags
/// its buckets raise, so dealing by real frequencies matters: the coarse
/// classes used before (lowercase 10, digits and capitals 4, separators 2)
/// left the keyword screen a third slower once the set grew to 127.
const LOG_BYTES: [u16; 128] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 56, 0, 0, 0, 0, 0, //
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, //
    687, 1, 683, 1, 1, 1, 5, 1, 27, 27, 1, 27, 119, 265, 207, 263, //
    675, 513, 405, 221, 316, 248, 262, 172, 235, 181, 297, 26, 1, 19, 1, 6, //
    1, 13, 5, 8, 6, 37, 3, 32, 31, 12, 7, 6, 30, 58, 3, 8, //
    32, 4, 9, 8, 112, 4, 6, 5, 30, 4, 25, 29, 1, 29, 1, 71, //
    1, 333, 188, 214, 218, 467, 183, 55, 75, 136, 7, 7, 159, 75, 133, 121, //
    123, 38, 104, 205, 233, 81, 38, 5, 87, 55, 37, 23, 1, 23, 1, 0, //
];

/// How often a byte occurs in log text ([`LOG_BYTES`]; UTF-8 bytes
/// beyond ASCII rarely).
fn weight(b: u8) -> u32 {
    LOG_BYTES.get(usize::from(b)).map_or(1, |&w| u32::from(w))
}

/// Expected share of log-text positions that a bucket of `members` flags,
/// scaled: per screened byte, the weight of the bytes whose high and low
/// nybbles both occur there in some member, multiplied over the bytes.
fn flags<'a>(members: impl Iterator<Item = &'a [u8]>, table: &[[u32; 16]; 16]) -> f64 {
    let (mut his, mut los) = ([0u16; SCREENED], [0u16; SCREENED]);
    for m in members {
        for (pos, &b) in m.iter().take(SCREENED).enumerate() {
            his[pos] |= 1 << (b >> 4);
            los[pos] |= 1 << (b & 15);
        }
    }
    let mut share = 1.0;
    for (&hi, &lo) in his.iter().zip(&los) {
        // Set bits only: the build calls this for every trial swap.
        let mut w = 0;
        let mut hs = hi;
        while hs != 0 {
            let h = hs.trailing_zeros() as usize;
            hs &= hs - 1;
            let mut ls = lo;
            while ls != 0 {
                w += table[h][ls.trailing_zeros() as usize];
                ls &= ls - 1;
            }
        }
        share *= f64::from(w);
    }
    share
}

/// Orders the patterns for Teddy so that its buckets hold alike patterns:
/// returns, for each pattern id given to the searcher, the pattern's
/// index. Starts from sorted runs (shared prefixes together), then swaps
/// patterns between buckets while that lowers the expected flag rate.
fn deal(patterns: &[Vec<u8>]) -> Vec<usize> {
    let n = patterns.len();
    let mut table = [[0u32; 16]; 16];
    for b in 0..=255u8 {
        table[usize::from(b >> 4)][usize::from(b & 15)] = weight(b);
    }
    let mut sorted: Vec<usize> = (0..n).collect();
    sorted.sort_by(|&a, &b| patterns[a].cmp(&patterns[b]));
    let mut buckets: Vec<Vec<usize>> = Vec::with_capacity(BUCKETS);
    let mut rest = &sorted[..];
    for b in 0..BUCKETS {
        let (run, tail) = rest.split_at((b..n).step_by(BUCKETS).count());
        buckets.push(run.to_vec());
        rest = tail;
    }
    let cost = |members: &[usize]| flags(members.iter().map(|&p| patterns[p].as_slice()), &table);
    let mut costs: Vec<f64> = buckets.iter().map(|b| cost(b)).collect();
    // Each accepted swap lowers the total, so this ends; the bound keeps
    // the build quick whatever the patterns.
    for _ in 0..8 {
        let mut improved = false;
        for a in 0..BUCKETS {
            for b in a + 1..BUCKETS {
                for i in 0..buckets[a].len() {
                    for j in 0..buckets[b].len() {
                        let (pa, pb) = (buckets[a][i], buckets[b][j]);
                        buckets[a][i] = pb;
                        buckets[b][j] = pa;
                        let (ca, cb) = (cost(&buckets[a]), cost(&buckets[b]));
                        if ca + cb < (costs[a] + costs[b]) * 0.999 {
                            costs[a] = ca;
                            costs[b] = cb;
                            improved = true;
                        } else {
                            buckets[a][i] = pa;
                            buckets[b][j] = pb;
                        }
                    }
                }
            }
        }
        if !improved {
            break;
        }
    }
    let mut by_id = vec![0; n];
    for (b, members) in buckets.iter().enumerate() {
        for (k, &p) in members.iter().enumerate() {
            by_id[b + k * BUCKETS] = p;
        }
    }
    by_id
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each searcher id maps to one keyword, every keyword is there once,
    /// and hits come back as the caller's keyword indexes.
    #[test]
    fn dealt_order_is_a_permutation_and_hits_map_back() {
        let words = [
            "ghp_", "gho_", "xoxb-", "oken", "OKEN", "ecret", "AKIA", "glpat-", "npm_", "k_live_",
            "sig=", "assw", "ession", "earer ", "mysql", "redis", "dapi", "pul-", "hvb.", "xoxe",
        ];
        let patterns: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        let mut by_id = deal(&patterns);
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
        by_id.sort_unstable();
        assert_eq!(by_id, (0..patterns.len()).collect::<Vec<_>>());
    }

    /// Block by block, switching to the DFA or not, the matches are
    /// those of one DFA pass over the whole range: blocks never cut a
    /// match, and nested, overlapping or head-sharing keywords resolve
    /// alike.
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
        ];
        let patterns: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        let Keywords::Packed(g) = Keywords::new(&patterns).expect("builds") else {
            panic!("few keywords: Teddy");
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
                _ => " x=",
            };
            hay.extend_from_slice(piece.as_bytes());
        }
        let range = 3..hay.len() - 2;
        let mut want = Vec::new();
        automaton(&g.dfa, &hay, range.clone(), &mut |p, s, e| {
            want.push((p, s, e))
        });
        assert!(want.len() > 100, "{} matches", want.len());
        for block in [1, 2, 3, 7, 64, 1000, 1 << 20] {
            for floor in [0, u128::MAX] {
                let mut got = Vec::new();
                g.each(&hay, range.clone(), block, floor, &mut |p, s, e| {
                    got.push((p, s, e))
                });
                assert_eq!(got, want, "block {block}, floor {floor}");
            }
        }
    }

    /// Keywords sharing their first bytes land in one bucket: Teddy's
    /// false alarms then stay as rare as each bucket's rarest byte allows.
    #[test]
    fn alike_keywords_share_a_bucket() {
        let mut words: Vec<String> = ["ghp_", "gho_", "ghu_"]
            .iter()
            .map(|w| w.to_string())
            .collect();
        // 45 keywords in all: buckets of 3 (or 2), filled with unlike ones.
        words.extend((0..42).map(|i| format!("{}{}zz", (b'a' + i % 26) as char, i)));
        let patterns: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        let by_id = deal(&patterns);
        let bucket = |word: usize| by_id.iter().position(|&p| p == word).map(|id| id % BUCKETS);
        let gh: Vec<_> = (0..3).map(bucket).collect();
        assert!(gh.iter().all(|b| *b == gh[0]), "{gh:?}");
    }
}
