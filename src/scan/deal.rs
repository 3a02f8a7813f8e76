//! Dealing the screen's heads into buckets: which heads share a bucket
//! decides how often the screen flags ordinary text (see [`super::heads`]).
//!
//! The built-in heads are dealt offline, against counts of the 4-byte
//! strings of sample logs ([`optimize`], run by `cargo run --release
//! --example deal`), and the result ships as [`TABLE`], one section for the
//! built-in rules and one with `rules-staging/` added. The model of single
//! byte frequencies used at start cannot see that `eckout_` stands in every
//! `checkout`: its dealing of the 372 rules' heads flags 6.1% of the
//! positions of sample logs, the offline one 1.2% (4 sets). Heads the
//! table lacks (rules loaded with `--rules`) are placed by that model
//! ([`place`]), or all heads are dealt by it ([`deal`]) when the table
//! knows too few.

use std::collections::HashMap;

pub use super::heads::SET;
use super::heads::{self, HEAD, MAX_SETS};

/// The buckets of the built-in heads, worked out by [`optimize`]: per rule
/// set a section, one line per spelling, its bytes in hex and its bucket.
const TABLE: &str = include_str!("buckets.txt");

/// Whether the screen tells bytes apart exactly (AVX-512 VBMI), where the
/// byte model deals and [`TABLE`] is not used.
pub fn exact_screen() -> bool {
    heads::exact()
}

/// Each spelling's bucket, and whether [`TABLE`] gave all of them.
pub fn buckets(spellings: &[Vec<u8>]) -> (Vec<usize>, bool) {
    let total = sets(spellings) * SET;
    if exact_screen() {
        // The table is dealt for the nybble kernels' classes; exact ones
        // need fewer sets.
        return (deal(spellings, total), false);
    }
    // The first section that knows every head, else the one that knows
    // most, if the heads it lacks are few: placed one by one, many unknown
    // heads make a worse screen than the byte model's dealing of all.
    let mut best: Option<Vec<Option<usize>>> = None;
    for section in parse(TABLE) {
        let known: Vec<Option<usize>> = spellings.iter().map(|s| section.get(s).copied()).collect();
        if known.iter().all(Option::is_some) {
            return (known.into_iter().flatten().collect(), true);
        }
        let count = |k: &[Option<usize>]| k.iter().flatten().count();
        if best.as_ref().is_none_or(|b| count(&known) > count(b)) {
            best = Some(known);
        }
    }
    let placed = best.and_then(|known| {
        let unknown = known.iter().filter(|k| k.is_none()).count();
        (unknown * 10 <= spellings.len())
            .then(|| place(spellings, &known, total))
            .flatten()
    });
    match placed {
        Some(bucket) => (bucket, false),
        None => (deal(spellings, total), false),
    }
}

/// [`TABLE`]'s sections (each begun by a `## ` line) as spelling and
/// bucket; a line that does not parse is skipped (its heads are then
/// unknown).
fn parse(text: &str) -> Vec<HashMap<Vec<u8>, usize>> {
    let mut sections: Vec<HashMap<Vec<u8>, usize>> = Vec::new();
    for line in text.lines() {
        if line.starts_with("## ") {
            sections.push(HashMap::new());
            continue;
        }
        let (Some(section), false) = (sections.last_mut(), line.starts_with('#')) else {
            continue;
        };
        let mut fields = line.split_whitespace();
        let (Some(hex), Some(bucket)) = (fields.next(), fields.next()) else {
            continue;
        };
        let bytes: Option<Vec<u8>> = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
            .collect();
        if let (Some(bytes), Ok(bucket)) = (bytes, bucket.parse::<usize>()) {
            if !bytes.is_empty() && bucket < SET * MAX_SETS {
                section.insert(bytes, bucket);
            }
        }
    }
    sections
}

/// The table's dealing, written as [`TABLE`]'s lines.
pub fn table_text(spellings: &[Vec<u8>], bucket: &[usize]) -> String {
    let mut lines: Vec<String> = spellings
        .iter()
        .zip(bucket)
        .map(|(s, b)| {
            let hex: String = s.iter().map(|x| format!("{x:02x}")).collect();
            format!("{hex} {b}")
        })
        .collect();
    lines.sort();
    lines.join("\n") + "\n"
}

/// The `known` buckets kept, and each unknown head put where the byte model
/// says it adds the fewest flags: beside a spelling of its stem if one is
/// known, else in any bucket of `total` (or as many as the known ones use)
/// without a short head. None when an unknown head is short: it needs a
/// bucket of its own.
fn place(spellings: &[Vec<u8>], known: &[Option<usize>], total: usize) -> Option<Vec<usize>> {
    let used = known.iter().flatten().max().map_or(0, |b| b + 1);
    let total = total.max(used.div_ceil(SET) * SET).min(SET * MAX_SETS);
    if spellings
        .iter()
        .zip(known)
        .any(|(s, k)| k.is_none() && s.len() < HEAD)
    {
        return None;
    }
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); total];
    for (i, k) in known.iter().enumerate() {
        if let Some(b) = *k {
            members[b].push(i);
        }
    }
    let open: Vec<bool> = members
        .iter()
        .map(|m| m.iter().all(|&i| spellings[i].len() >= HEAD))
        .collect();
    let table = Weights::new();
    let cost = |m: &[usize], extra: Option<usize>| {
        let heads = m
            .iter()
            .copied()
            .chain(extra)
            .map(|i| spellings[i].as_slice());
        flags(heads, &table)
    };
    let mut bucket: Vec<usize> = known.iter().map(|k| k.unwrap_or(usize::MAX)).collect();
    for i in (0..spellings.len()).filter(|&i| known[i].is_none()) {
        let stem = folded_stem(&spellings[i]);
        let mate = (0..spellings.len()).find(|&j| {
            bucket[j] != usize::MAX && open[bucket[j]] && folded_stem(&spellings[j]) == stem
        });
        let b = match mate {
            Some(j) => bucket[j],
            None => (0..total).filter(|&b| open[b]).min_by(|&a, &b| {
                let grow = |b: usize| cost(&members[b], Some(i)) - cost(&members[b], None);
                grow(a).total_cmp(&grow(b))
            })?,
        };
        bucket[i] = b;
        members[b].push(i);
    }
    Some(bucket)
}

/// Log text as the counts of its 4-byte strings, grouped by their first two
/// bytes: what [`optimize`] weighs a bucket against.
pub struct Sample {
    /// Per first two bytes (`b0 << 8 | b1`): the last two bytes and count.
    grams: Vec<Vec<([u8; 2], u32)>>,
}

impl Sample {
    pub fn new(texts: &[Vec<u8>]) -> Sample {
        let mut counts: HashMap<[u8; HEAD], u32> = HashMap::new();
        for text in texts {
            for w in text.windows(HEAD) {
                *counts.entry([w[0], w[1], w[2], w[3]]).or_default() += 1;
            }
        }
        let mut grams = vec![Vec::new(); 1 << 16];
        for (g, n) in counts {
            grams[usize::from(g[0]) << 8 | usize::from(g[1])].push(([g[2], g[3]], n));
        }
        for group in &mut grams {
            group.sort_unstable();
        }
        Sample { grams }
    }

    /// The flags of a dealing on the sample, summed over its buckets.
    pub fn flagged(&self, spellings: &[Vec<u8>], bucket: &[usize]) -> u64 {
        let buckets = bucket.iter().max().map_or(0, |b| b + 1);
        (0..buckets)
            .map(|b| {
                let members = spellings.iter().zip(bucket).filter(|(_, &m)| m == b);
                self.flags(members.map(|(s, _)| s.as_slice()))
            })
            .sum()
    }

    /// The positions of the sample that a bucket of `members` flags, by
    /// the AVX2 kernel's classes: each byte's low nybble, and the high
    /// nybbles of bytes 0-1 and of 2-3 as pairs ([`heads::pair_code`]).
    fn flags<'a>(&self, members: impl Iterator<Item = &'a [u8]>) -> u64 {
        let mut members = members.peekable();
        if members.peek().is_none() {
            return 0;
        }
        let (los, pairs) = pair_classes(members);
        let accept: [[bool; 256]; HEAD] =
            std::array::from_fn(|pos| std::array::from_fn(|b| los[pos] & 1 << (b & 15) != 0));
        let fits =
            |j: usize, x: usize, y: usize| pairs[j] & 1 << heads::pair_code(x as u8, y as u8) != 0;
        let mut n = 0;
        for b0 in (0..256).filter(|&b| accept[0][b]) {
            for b1 in (0..256).filter(|&b| accept[1][b] && fits(0, b0, b)) {
                for &([b2, b3], count) in &self.grams[b0 << 8 | b1] {
                    let (b2, b3) = (usize::from(b2), usize::from(b3));
                    if accept[2][b2] && accept[3][b3] && fits(1, b2, b3) {
                        n += u64::from(count);
                    }
                }
            }
        }
        n
    }
}

/// A bucket's classes in the AVX2 kernel: per head byte the low nybbles
/// its members have there, and per pair of bytes the pair codes of their
/// high nybbles. A member shorter than a head accepts any byte past its end.
fn pair_classes<'a>(members: impl Iterator<Item = &'a [u8]>) -> ([u16; HEAD], [u16; HEAD / 2]) {
    let (mut los, mut pairs) = ([0u16; HEAD], [0u16; HEAD / 2]);
    for m in members {
        for (pos, lo) in los.iter_mut().enumerate() {
            *lo |= m.get(pos).map_or(u16::MAX, |&b| 1 << (b & 15));
        }
        for (j, pair) in pairs.iter_mut().enumerate() {
            for code in heads::pair_codes(m, j) {
                *pair |= 1 << code;
            }
        }
    }
    (los, pairs)
}

/// Deals `spellings` into `sets` sets of buckets so that they flag as few
/// positions of `sample` as this local search finds: units as in [`deal`]
/// (spellings of one stem together, short heads alone in the last
/// buckets), each unit first put where it adds the fewest flags, then moved
/// and swapped between buckets while that lowers the sum of their flags.
/// Minutes for a few hundred heads: it runs offline, not at start.
pub fn optimize(spellings: &[Vec<u8>], sample: &Sample, sets: usize) -> Vec<usize> {
    let total = sets.clamp(1, MAX_SETS) * SET;
    let (short, units) = units(spellings);
    let n_buckets = total - short.len().min(total - 1);
    let cost = |members: &[usize]| {
        let heads = members.iter().flat_map(|&u| &units[u]);
        sample.flags(heads.map(|&p| spellings[p].as_slice()))
    };
    let mut order: Vec<(u64, usize)> = (0..units.len()).map(|u| (cost(&[u]), u)).collect();
    order.sort_unstable_by(|a, b| b.cmp(a));
    let mut buckets: Vec<Vec<usize>> = vec![Vec::new(); n_buckets];
    let mut costs = vec![0u64; n_buckets];
    for (_, u) in order {
        let (mut best, mut best_cost) = (0, u64::MAX);
        let mut grow = u64::MAX;
        for b in 0..n_buckets {
            buckets[b].push(u);
            let c = cost(&buckets[b]);
            buckets[b].pop();
            let g = c - costs[b];
            if g < grow || (g == grow && buckets[b].len() < buckets[best].len()) {
                (best, best_cost, grow) = (b, c, g);
            }
        }
        buckets[best].push(u);
        costs[best] = best_cost;
    }
    improve(&mut buckets, 32, |m| cost(m) as f64, || false);
    assign(spellings.len(), &units, &buckets, &short, total)
}

/// The spellings grouped into units that share a bucket: heads sharing
/// their first three bytes (ASCII case aside) go together, since a bucket
/// of them flags only where those three bytes stand. Returns the short
/// units (a head shorter than [`HEAD`]) and the others.
fn units(spellings: &[Vec<u8>]) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
    let stem = |p: usize| folded_stem(&spellings[p]);
    let mut sorted: Vec<usize> = (0..spellings.len()).collect();
    sorted.sort_by_key(|&p| (stem(p), &spellings[p]));
    let mut units: Vec<Vec<usize>> = Vec::new();
    for &p in &sorted {
        match units.last_mut() {
            Some(u) if stem(u[0]) == stem(p) => u.push(p),
            _ => units.push(vec![p]),
        }
    }
    units
        .into_iter()
        .partition(|u| u.iter().any(|&p| spellings[p].len() < HEAD))
}

/// Each spelling's bucket: the units' buckets, then one bucket per short
/// unit after them (the last bucket shared once `total` runs out).
fn assign(
    n: usize,
    units: &[Vec<usize>],
    buckets: &[Vec<usize>],
    short: &[Vec<usize>],
    total: usize,
) -> Vec<usize> {
    let mut bucket = vec![0; n];
    for (b, members) in buckets.iter().enumerate() {
        for &u in members {
            for &p in &units[u] {
                bucket[p] = b;
            }
        }
    }
    for (i, unit) in short.iter().enumerate() {
        for &p in unit {
            bucket[p] = (buckets.len() + i).min(total - 1);
        }
    }
    bucket
}

/// How often each ASCII byte occurs in log text, per 10,000 bytes: counted
/// on the sample logs in `examples/` (access log, JSON application log,
/// traceback), every printable byte at least 1. The screen's cost is the flags
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
/// scaled: per pair of screened bytes, the weight of the byte pairs whose
/// low nybbles occur there in some member and whose pair code
/// ([`heads::pair_code`]) does, multiplied over the two pairs. A member
/// shorter than a head accepts any byte past its end.
fn flags<'a>(members: impl Iterator<Item = &'a [u8]>, table: &Weights) -> f64 {
    let (los, pairs) = pair_classes(members);
    let weight = |code: usize, lo: u16| {
        table.low[code][usize::from(lo as u8)] + table.high[code][usize::from(lo >> 8)]
    };
    let mut share = 1.0;
    for (j, &codes) in pairs.iter().enumerate() {
        let (first, second) = (los[2 * j], los[2 * j + 1]);
        // Set bits only: the build calls this for every trial move.
        let mut w = 0.0;
        let mut cs = codes;
        while cs != 0 {
            let code = cs.trailing_zeros() as usize;
            cs &= cs - 1;
            w += f64::from(weight(code & 0b101, first))
                * f64::from(weight(code >> 1 & 0b101, second));
        }
        share *= w;
    }
    share
}

/// [`flags`] for a screen that tells bytes apart exactly (by their low 7
/// bits): per screened byte, the weight of the bytes some member has there.
fn exact_flags<'a>(members: impl Iterator<Item = &'a [u8]>) -> f64 {
    let mut sets = [[0u64; 2]; HEAD];
    for m in members {
        for (pos, set) in sets.iter_mut().enumerate() {
            match m.get(pos) {
                Some(&b) => set[usize::from(b >> 6 & 1)] |= 1 << (b & 63),
                None => *set = [u64::MAX; 2],
            }
        }
    }
    let mut share = 1.0;
    for set in &sets {
        let mut w = 0;
        for (half, &bits) in set.iter().enumerate() {
            let mut bits = bits;
            while bits != 0 {
                let b = half * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                w += weight(b as u8);
            }
        }
        share *= f64::from(w);
    }
    share
}

/// Byte weights summed by the kernel's classes: for a byte's code in a
/// pair (its high nybble's bits 0 and 2) and a set of low nybbles 0–7 (or
/// 8–15, as a bit mask), the weight of those bytes.
struct Weights {
    low: Vec<[u32; 256]>,
    high: Vec<[u32; 256]>,
}

impl Weights {
    fn new() -> Weights {
        let sum = |code: usize, mask: usize, base: usize| -> u32 {
            (0..16)
                .filter(|h| h & 0b101 == code)
                .flat_map(|h| {
                    (0..8)
                        .filter(move |l| mask & (1 << l) != 0)
                        .map(move |l| h << 4 | (base + l))
                })
                .map(|b| weight(b as u8))
                .sum()
        };
        Weights {
            low: (0..6)
                .map(|c| std::array::from_fn(|m| sum(c, m, 0)))
                .collect(),
            high: (0..6)
                .map(|c| std::array::from_fn(|m| sum(c, m, 8)))
                .collect(),
        }
    }
}

/// Cost evaluations [`deal`] may spend: about 10 ms.
const TRIALS: usize = 50_000;

/// Deals the patterns into `buckets` buckets of alike patterns: returns
/// each pattern's bucket. Starts from sorted runs (shared prefixes
/// together), then swaps patterns between buckets while that lowers the
/// expected flag rate.
pub fn deal(patterns: &[Vec<u8>], total: usize) -> Vec<usize> {
    let table = Weights::new();
    // A head shorter than four bytes accepts any byte past its end, so in
    // a bucket with others it flags wherever their first bytes stand (`@`
    // dealt with `gh*` flagged every `g`: 1.1 M flags per 100 MB of logs
    // with the staged rules): each such unit gets a bucket of its own, the
    // last ones, and the rest are dealt into the others.
    let (short, units) = units(patterns);
    let n_buckets = total - short.len().min(total - 1);
    let n = units.len();
    let sorted: Vec<usize> = (0..n).collect();
    let mut buckets: Vec<Vec<usize>> = Vec::with_capacity(n_buckets);
    let mut rest = &sorted[..];
    for b in 0..n_buckets {
        let (run, tail) = rest.split_at((b..n).step_by(n_buckets).count());
        buckets.push(run.to_vec());
        rest = tail;
    }
    // Trials are counted: the build runs at every start, and swaps cost
    // the square of the units, so past a few hundred heads the budget
    // ends the search (a worse dealing, never a wrong one).
    let trials = std::cell::Cell::new(0usize);
    let exact = heads::exact();
    let cost = |members: &[usize]| {
        trials.set(trials.get() + 1);
        let heads = members.iter().flat_map(|&u| &units[u]);
        let heads = heads.map(|&p| patterns[p].as_slice());
        if exact {
            exact_flags(heads)
        } else {
            flags(heads, &table)
        }
    };
    let spent = || trials.get() >= TRIALS;
    improve(&mut buckets, 8, cost, spent);
    assign(patterns.len(), &units, &buckets, &short, total)
}

/// Moves and swaps units between `buckets` while that lowers the sum of
/// their costs (by more than a thousandth), for at most `rounds` rounds or
/// until `spent`. Each accepted change lowers the sum, so this ends.
fn improve(
    buckets: &mut [Vec<usize>],
    rounds: usize,
    cost: impl Fn(&[usize]) -> f64,
    spent: impl Fn() -> bool,
) {
    let n_buckets = buckets.len();
    let mut costs: Vec<f64> = buckets.iter().map(|b| cost(b)).collect();
    for _ in 0..rounds {
        let mut improved = false;
        // Moves let buckets differ in size: heads that differ in their
        // last byte only (`eyJa`, `eyJb` …) cost one bucket almost what
        // one of them costs.
        for a in 0..n_buckets {
            let mut i = 0;
            while i < buckets[a].len() {
                let p = buckets[a].swap_remove(i);
                let without = cost(&buckets[a]);
                let mut best = (costs[a], a, 0.0);
                for b in (0..n_buckets).filter(|&b| b != a) {
                    buckets[b].push(p);
                    let with = cost(&buckets[b]);
                    buckets[b].pop();
                    let total = without + with - costs[b];
                    if total < best.0 * 0.999 {
                        best = (total, b, with);
                    }
                }
                let (_, b, with) = best;
                if b == a {
                    buckets[a].push(p);
                    let last = buckets[a].len() - 1;
                    buckets[a].swap(i, last);
                    i += 1;
                } else {
                    buckets[b].push(p);
                    costs[a] = without;
                    costs[b] = with;
                    improved = true;
                }
            }
        }
        for a in 0..n_buckets {
            if spent() {
                break;
            }
            for b in a + 1..n_buckets {
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
        if !improved || spent() {
            break;
        }
    }
}

/// A head's first three bytes, ASCII letters in lower case: heads with one
/// stem share a bucket well.
fn folded_stem(head: &[u8]) -> Vec<u8> {
    head[..head.len().min(HEAD - 1)].to_ascii_lowercase()
}

/// Bucket sets for `heads`: each set costs six byte shuffles per 32
/// bytes screened (AVX2); more keep buckets narrow as heads grow. Heads
/// that differ in their last byte only share a bucket well, so they count
/// once. Exact byte classes ([`heads::exact`]) keep buckets narrow with
/// fewer sets: measured best at 2 sets for 177 keywords, 3 for 374, 4 for
/// 551. With pair codes, the 330 stems of the built-in rules and
/// `rules-staging/` dealt offline took 0.054, 0.045 and 0.049 s per 100 MB
/// at 3, 4 and 5 sets (`cargo bench --bench screen`, 2026-12-04).
pub fn sets(heads: &[Vec<u8>]) -> usize {
    let mut stems: Vec<Vec<u8>> = heads.iter().map(|h| folded_stem(h)).collect();
    stems.sort_unstable();
    stems.dedup();
    match heads::exact() {
        true => stems.len().div_ceil(96).clamp(2, 4),
        false => stems.len().div_ceil(96).clamp(2, MAX_SETS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A keyword shorter than a head shares its bucket with no other
    /// head, however few the buckets.
    #[test]
    fn short_heads_get_buckets_of_their_own() {
        // Past a few hundred heads the dealing's budget ends its search.
        let mut seed = 11u32;
        let mut words: Vec<String> = (0..400)
            .map(|_| {
                (0..5)
                    .map(|_| {
                        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                        char::from(b"abcdefghijklmnopqrstuvwxyz_-."[(seed >> 24) as usize % 29])
                    })
                    .collect()
            })
            .collect();
        words.extend(["@".to_string(), "r8_".to_string()]);
        let patterns: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        let bucket = deal(&patterns, 40);
        for (i, w) in words.iter().enumerate() {
            let mates: Vec<&str> = (0..words.len())
                .filter(|&j| j != i && bucket[j] == bucket[i])
                .map(|j| words[j].as_str())
                .collect();
            if w.len() < HEAD {
                assert!(
                    mates.is_empty(),
                    "{w} shares bucket {} with {mates:?}",
                    bucket[i]
                );
            }
        }
        assert!(bucket.iter().all(|&b| b < 40));
    }

    /// Keywords sharing their first bytes land in one bucket: the screen's
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
        let bucket = deal(&patterns, 16);
        let gh: Vec<_> = (0..3).map(|w| bucket[w]).collect();
        assert!(gh.iter().all(|b| *b == gh[0]), "{gh:?}");
    }

    fn spell(words: &[&str]) -> Vec<Vec<u8>> {
        words.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    /// Against text where some heads' bytes abound, the offline dealing
    /// flags fewer positions than the byte model's, and keeps its rules:
    /// every bucket in range, short heads alone.
    #[test]
    fn the_offline_dealing_flags_less_than_the_byte_model() {
        // Heads and text from one skewed alphabet, as log words are.
        let mut seed = 5u32;
        let mut letter = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            b"eeeettaaoinnsrhldcu_-./"[(seed >> 24) as usize % 23]
        };
        let mut words: Vec<String> = (0..60)
            .map(|_| (0..5).map(|_| char::from(letter())).collect())
            .collect();
        words.push("@".to_string());
        let text: Vec<u8> = (0..20_000).map(|_| letter()).collect();
        let spellings: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        let sample = Sample::new(&[text]);
        let total = 2 * SET;
        let offline = optimize(&spellings, &sample, 2);
        let model = deal(&spellings, total);
        assert!(
            sample.flagged(&spellings, &offline) < sample.flagged(&spellings, &model),
            "{} >= {}",
            sample.flagged(&spellings, &offline),
            sample.flagged(&spellings, &model)
        );
        assert!(offline.iter().all(|&b| b < total));
        let at = words.len() - 1;
        assert!((0..words.len()).all(|j| j == at || offline[j] != offline[at]));
    }

    /// A table's lines read back as the dealing they were written from,
    /// section by section; lines that do not parse are skipped.
    #[test]
    fn table_sections_read_back() {
        let spellings = spell(&["oken", "OKEN", "@", "ghp_"]);
        let text = format!(
            "# comment\n## one\n{}## two\nzz 3\n6768705f 9\n6768705f\n",
            table_text(&spellings, &[1, 1, 15, 0])
        );
        let sections = parse(&text);
        assert_eq!(sections.len(), 2);
        for (s, b) in spellings.iter().zip([1, 1, 15, 0]) {
            assert_eq!(sections[0].get(s), Some(&b));
        }
        assert_eq!(sections[1].len(), 1);
        assert_eq!(sections[1].get(&b"ghp_"[..]), Some(&9));
    }

    /// Heads the table lacks keep the known buckets as they are: a new
    /// spelling joins its stem's bucket, other heads go to buckets without
    /// a short head; an unknown short head cannot be placed.
    #[test]
    fn unknown_heads_are_placed_around_the_known() {
        let spellings = spell(&["oken", "ghp_", "@", "Oken", "xoxb"]);
        let known = [Some(3), Some(0), Some(7), None, None];
        let bucket = place(&spellings, &known, 8).expect("placed");
        assert_eq!(&bucket[..3], &[3, 0, 7]);
        assert_eq!(bucket[3], 3);
        assert!(bucket[4] < 7);
        // A long head whose stem is a short head's does not join it.
        let beside = spell(&["r8_", "r8_x"]);
        let bucket = place(&beside, &[Some(7), None], 8).expect("placed");
        assert_ne!(bucket[1], 7);
        let short = spell(&["oken", "r8_"]);
        assert_eq!(place(&short, &[Some(0), None], 8), None);
    }
}
