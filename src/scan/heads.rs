//! The keyword screen's SIMD search: every position where one of the
//! keywords' heads (their first 4 bytes, or all of a shorter keyword)
//! begins, for any number of heads.
//!
//! This is Teddy's idea (aho-corasick's packed searcher) without its limit
//! of 128 patterns and 16 buckets. Heads are dealt into buckets of alike
//! heads, eight buckets to a set; for each of a head's four bytes, a set
//! keeps which of its buckets accept each low nybble, and for each pair of
//! bytes, which accept each [`pair_code`] (two bits of each byte's high
//! nybble, so that one table covers two bytes). A position is flagged
//! when all four bytes fit some bucket, which takes six byte shuffles per
//! set (AVX2, 32 positions a step; AVX-512 BW, 64): Teddy's per-byte high
//! nybbles took eight, and the shuffles are what a set costs on AVX2. With
//! AVX-512 VBMI a set instead keeps, for each byte,
//! exactly which ASCII bytes its buckets accept. A flag is checked against
//! the heads in a hash table. More sets keep buckets narrow (few false
//! flags) as the heads grow, at a few instructions per step each.

use std::ops::Range;

use super::locate::count_newlines;

/// Buckets in a set: one bit each of a byte.
pub const SET: usize = 8;
/// Most sets a screen uses: 64 buckets.
pub const MAX_SETS: usize = 8;

/// Bytes of a head.
pub const HEAD: usize = 4;

/// `$screen.$kernel::<S>(args)` with `S` the set count `$sets` (1 to
/// [`MAX_SETS`]): the kernels take it as a constant, so that their
/// tables stay in registers.
#[cfg(target_arch = "x86_64")]
macro_rules! by_sets {
    ($sets:expr, $screen:ident.$kernel:ident($($arg:expr),*)) => {
        match $sets {
            1 => $screen.$kernel::<1>($($arg),*),
            2 => $screen.$kernel::<2>($($arg),*),
            3 => $screen.$kernel::<3>($($arg),*),
            4 => $screen.$kernel::<4>($($arg),*),
            5 => $screen.$kernel::<5>($($arg),*),
            6 => $screen.$kernel::<6>($($arg),*),
            7 => $screen.$kernel::<7>($($arg),*),
            _ => $screen.$kernel::<8>($($arg),*),
        }
    };
}

#[derive(Clone, Debug)]
pub struct Heads {
    /// Per set, per head byte: the set's buckets (bits) that accept each
    /// low nybble at that byte.
    lo: Vec<[[u8; 16]; HEAD]>,
    /// Per set, per pair of head bytes (0-1, 2-3): the set's buckets that
    /// accept each [`pair_code`] of the two bytes, which keeps part of
    /// their high nybbles: one byte shuffle for the two of them.
    pair: Vec<[[u8; 16]; HEAD / 2]>,
    /// Open addressing: the heads as little-endian integers, and their
    /// ids plus one (0: an empty slot).
    slots: Vec<u32>,
    ids: Vec<u32>,
    shift: u32,
    /// Heads shorter than [`HEAD`], with their ids: their buckets accept
    /// any byte past their end, and a flag is checked against each.
    short: Vec<(Vec<u8>, usize)>,
    /// Whether the CPU has AVX-512 (BW): 64 positions per step and 32
    /// vector registers, so that four sets cost what two do with AVX2.
    avx512: bool,
    /// Per set, per head byte: the set's buckets that accept each ASCII
    /// byte (a byte's low 7 bits), exactly rather than by nybbles; used
    /// where the CPU has AVX-512 VBMI, whose two-table byte permute looks
    /// up 128 entries at once. A bucket of unlike heads then flags only
    /// their own bytes, not every byte their nybbles combine to.
    exact: Vec<[[u8; 128]; HEAD]>,
    /// The heads' first two bytes, one bit per pair: the scalar rest of a
    /// range (and short ranges, decoded blobs) skips most positions by it.
    pairs: Vec<u64>,
    /// One bit per hash of each spelling's four bytes, about 32 bits a
    /// spelling: a flag whose bytes miss it is no head. Once buckets hold
    /// many unlike heads most flags are such misses, and one load from a
    /// table of a few KiB costs less than the hash table's probe. (Looking
    /// 8 flags up at once with AVX2 gathers was slower, 2026-12-03.)
    filter: Vec<u64>,
    filter_shift: u32,
    /// The first bytes of the heads shorter than [`HEAD`], which the
    /// filter does not hold: a flag there passes.
    short_first: Vec<u8>,
}

impl Heads {
    /// A screen for heads given as their spellings: `(bytes, head)`, 1 to
    /// [`HEAD`] bytes, with `bucket[i]` spelling `i`'s bucket (below `SET *
    /// MAX_SETS`); none where the CPU lacks AVX2. A head of [`HEAD`] bytes
    /// may have several spellings (`oken`, `OKEN`); a shorter one has one.
    pub fn new(spellings: &[(Vec<u8>, usize)], bucket: &[usize]) -> Option<Heads> {
        if !avx2()
            || spellings.is_empty()
            || spellings
                .iter()
                .any(|(h, _)| h.is_empty() || h.len() > HEAD)
        {
            return None;
        }
        let sets = bucket.iter().max().map_or(1, |b| b / SET + 1);
        if sets > MAX_SETS {
            return None;
        }
        let mut lo = vec![[[0u8; 16]; HEAD]; sets];
        let mut pair = vec![[[0u8; 16]; HEAD / 2]; sets];
        let mut exact = vec![[[0u8; 128]; HEAD]; if exact() { sets } else { 0 }];
        for ((h, _), &b) in spellings.iter().zip(bucket) {
            let (set, bit) = (b / SET, 1u8 << (b % SET));
            for k in 0..HEAD {
                match h.get(k) {
                    Some(&byte) => {
                        lo[set][k][usize::from(byte & 15)] |= bit;
                        if let Some(t) = exact.get_mut(set) {
                            t[k][usize::from(byte & 0x7f)] |= bit;
                        }
                    }
                    None => {
                        lo[set][k].iter_mut().for_each(|e| *e |= bit);
                        if let Some(t) = exact.get_mut(set) {
                            t[k].iter_mut().for_each(|e| *e |= bit);
                        }
                    }
                }
            }
            for (j, table) in pair[set].iter_mut().enumerate() {
                for code in pair_codes(h, j) {
                    table[usize::from(code)] |= bit;
                }
            }
        }
        let size = (spellings.len() * 4).next_power_of_two().max(16);
        let filter_bits = (spellings.len() * 32)
            .next_power_of_two()
            .clamp(1 << 12, 1 << 16);
        let mut screen = Heads {
            lo,
            pair,
            slots: vec![0; size],
            ids: vec![0; size],
            shift: 32 - size.trailing_zeros(),
            pairs: vec![0; 1 << 10],
            filter: vec![0; filter_bits / 64],
            filter_shift: 32 - filter_bits.trailing_zeros(),
            short_first: Vec::new(),
            short: Vec::new(),
            avx512: avx512(),
            exact,
        };
        for (h, id) in spellings {
            let id = *id;
            let seconds = match h.get(1) {
                Some(&b) => b..=b,
                None => 0..=255,
            };
            for second in seconds {
                let pair = usize::from(u16::from_le_bytes([h[0], second]));
                screen.pairs[pair >> 6] |= 1 << (pair & 63);
            }
            let Ok(h) = <[u8; HEAD]>::try_from(h.as_slice()) else {
                if !screen.short_first.contains(&h[0]) {
                    screen.short_first.push(h[0]);
                }
                screen.short.push((h.clone(), id));
                continue;
            };
            let x = u32::from_le_bytes(h);
            let f = screen.filtered(x);
            screen.filter[f >> 6] |= 1 << (f & 63);
            let mut s = screen.slot(x);
            while screen.ids[s] != 0 && screen.slots[s] != x {
                s = (s + 1) & (size - 1);
            }
            if screen.ids[s] == 0 {
                screen.slots[s] = x;
                screen.ids[s] = id as u32 + 1;
            }
        }
        Some(screen)
    }

    fn slot(&self, x: u32) -> usize {
        (x.wrapping_mul(0x9e37_79b1) >> self.shift) as usize
    }

    /// The filter's bit for four bytes (another hash than the table's).
    fn filtered(&self, x: u32) -> usize {
        (x.wrapping_mul(FILTER_MUL) >> self.filter_shift) as usize
    }

    /// Whether a flag at `p` may be a head, by the filter.
    #[inline(always)]
    fn may_be_head(&self, hay: &[u8], p: usize) -> bool {
        let Some(b) = hay.get(p..p + HEAD) else {
            return true;
        };
        let f = self.filtered(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        self.filter[f >> 6] & (1 << (f & 63)) != 0 || self.short_first.contains(&b[0])
    }

    /// Calls `hit(p, id)` for each head that has a spelling at `p` of `hay`.
    #[inline]
    fn heads_at(&self, hay: &[u8], p: usize, hit: &mut impl FnMut(usize, usize)) {
        if let Some(b) = hay.get(p..p + HEAD) {
            let x = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            let mut s = self.slot(x);
            loop {
                match self.ids[s] {
                    0 => break,
                    id if self.slots[s] == x => {
                        hit(p, id as usize - 1);
                        break;
                    }
                    _ => s = (s + 1) & (self.slots.len() - 1),
                }
            }
        }
        for (h, id) in &self.short {
            if hay[p] == h[0] && hay[p..].starts_with(h) {
                hit(p, *id);
            }
        }
    }

    /// Calls `hit(position, head)` for each position in `at` where a head
    /// begins and ends by `limit` (at most `hay.len()`), in order of
    /// position. Returns the newlines in `at` (up to `limit`): the AVX2
    /// kernel counts them from the bytes it has loaded anyway, which spares
    /// the scan a pass of its own over them (5% of a scan).
    pub fn each(
        &self,
        hay: &[u8],
        at: Range<usize>,
        limit: usize,
        hit: &mut impl FnMut(usize, usize),
    ) -> usize {
        let hay = &hay[..limit.min(hay.len())];
        let end = at.end.min(hay.len());
        let mut p = at.start.min(end);
        let mut newlines = 0;
        #[cfg(target_arch = "x86_64")]
        {
            let from = p;
            if !self.exact.is_empty() {
                // SAFETY: `exact` is filled only where the CPU has AVX-512
                // VBMI (and BW).
                p = unsafe { by_sets!(self.exact.len(), self.vbmi(hay, p, end, hit)) };
            }
            if self.avx512 {
                // SAFETY: `avx512` holds only where the CPU has AVX-512 BW.
                p = unsafe { by_sets!(self.lo.len(), self.avx512(hay, p, end, hit)) };
            }
            newlines += count_newlines(&hay[from..p]);
            // SAFETY: `new` made a screen only where the CPU has AVX2.
            p = unsafe { by_sets!(self.lo.len(), self.avx2(hay, p, end, hit, &mut newlines)) };
        }
        newlines += count_newlines(&hay[p..end]);
        while p < end {
            // The last byte has no pair: its heads are checked directly.
            let second = hay.get(p + 1).copied().unwrap_or(0);
            let pair = usize::from(u16::from_le_bytes([hay[p], second]));
            if p + 1 == hay.len() || self.pairs[pair >> 6] & (1 << (pair & 63)) != 0 {
                self.heads_at(hay, p, hit);
            }
            p += 1;
        }
        newlines
    }

    /// The screen 32 positions at a time from `p` while they lie before
    /// `end` and their four bytes in `hay`, adding the newlines among them
    /// to `newlines`; returns where it stopped, for the scalar rest.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn avx2<const S: usize>(
        &self,
        hay: &[u8],
        mut p: usize,
        end: usize,
        hit: &mut impl FnMut(usize, usize),
        newlines: &mut usize,
    ) -> usize {
        use std::arch::x86_64::*;
        let table = |t: &[u8; 16]| _mm256_broadcastsi128_si256(_mm_loadu_si128(t.as_ptr().cast()));
        let lo: [_; S] = std::array::from_fn(|s| self.lo[s].each_ref().map(table));
        let pair: [_; S] = std::array::from_fn(|s| self.pair[s].each_ref().map(table));
        let nybble = _mm256_set1_epi8(0x0f);
        let code = _mm256_set1_epi8(0x05);
        let newline = _mm256_set1_epi8(b'\n' as i8);
        let zero = _mm256_setzero_si256();
        let base = hay.as_ptr();
        let mut lines = 0;
        // The loads reach 32 + 3 bytes past `p`.
        while p + 32 <= end && p + 32 + HEAD - 1 <= hay.len() {
            let mut los = [zero; HEAD];
            let mut codes = [zero; HEAD];
            for k in 0..HEAD {
                // SAFETY: p + k + 32 <= hay.len().
                let v = _mm256_loadu_si256(base.add(p + k).cast());
                if k == 0 {
                    let at = _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, newline));
                    lines += (at as u32).count_ones() as usize;
                }
                los[k] = _mm256_and_si256(v, nybble);
                // Bits 4 and 6 of each byte, at bits 0 and 2 (`hi_code`).
                codes[k] = _mm256_and_si256(_mm256_srli_epi16(v, 4), code);
            }
            // `pair_code` of bytes 0-1 and of bytes 2-3.
            let pairs = [
                _mm256_or_si256(codes[0], _mm256_slli_epi16(codes[1], 1)),
                _mm256_or_si256(codes[2], _mm256_slli_epi16(codes[3], 1)),
            ];
            let mut flags = zero;
            for s in 0..S {
                let mut f = _mm256_and_si256(
                    _mm256_shuffle_epi8(pair[s][0], pairs[0]),
                    _mm256_shuffle_epi8(pair[s][1], pairs[1]),
                );
                for (&t, &l) in lo[s].iter().zip(&los) {
                    f = _mm256_and_si256(f, _mm256_shuffle_epi8(t, l));
                }
                flags = _mm256_or_si256(flags, f);
            }
            let mut bits = !(_mm256_movemask_epi8(_mm256_cmpeq_epi8(flags, zero)) as u32);
            while bits != 0 {
                let j = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if self.may_be_head(hay, p + j) {
                    self.heads_at(hay, p + j, hit);
                }
            }
            p += 32;
        }
        *newlines += lines;
        p
    }
    /// [`Self::avx2`] 64 positions at a time.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512bw")]
    unsafe fn avx512<const S: usize>(
        &self,
        hay: &[u8],
        mut p: usize,
        end: usize,
        hit: &mut impl FnMut(usize, usize),
    ) -> usize {
        use std::arch::x86_64::*;
        let table = |t: &[u8; 16]| _mm512_broadcast_i32x4(_mm_loadu_si128(t.as_ptr().cast()));
        let lo: [_; S] = std::array::from_fn(|s| self.lo[s].each_ref().map(table));
        let pair: [_; S] = std::array::from_fn(|s| self.pair[s].each_ref().map(table));
        let nybble = _mm512_set1_epi8(0x0f);
        let code = _mm512_set1_epi8(0x05);
        let zero = _mm512_setzero_si512();
        let base = hay.as_ptr();
        // The loads reach 64 + 3 bytes past `p`.
        while p + 64 <= end && p + 64 + HEAD - 1 <= hay.len() {
            let mut los = [zero; HEAD];
            let mut codes = [zero; HEAD];
            for k in 0..HEAD {
                // SAFETY: p + k + 64 <= hay.len().
                let v = _mm512_loadu_si512(base.add(p + k).cast());
                los[k] = _mm512_and_si512(v, nybble);
                codes[k] = _mm512_and_si512(_mm512_srli_epi16(v, 4), code);
            }
            let pairs = [
                _mm512_or_si512(codes[0], _mm512_slli_epi16(codes[1], 1)),
                _mm512_or_si512(codes[2], _mm512_slli_epi16(codes[3], 1)),
            ];
            let mut flags = zero;
            for s in 0..S {
                let mut f = _mm512_and_si512(
                    _mm512_shuffle_epi8(pair[s][0], pairs[0]),
                    _mm512_shuffle_epi8(pair[s][1], pairs[1]),
                );
                for (&t, &l) in lo[s].iter().zip(&los) {
                    f = _mm512_and_si512(f, _mm512_shuffle_epi8(t, l));
                }
                flags = _mm512_or_si512(flags, f);
            }
            let mut bits = _mm512_test_epi8_mask(flags, flags);
            while bits != 0 {
                let j = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if self.may_be_head(hay, p + j) {
                    self.heads_at(hay, p + j, hit);
                }
            }
            p += 64;
        }
        p
    }
    /// [`Self::avx512`] with exact byte classes ([`Heads::exact`]).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512bw,avx512vbmi")]
    unsafe fn vbmi<const S: usize>(
        &self,
        hay: &[u8],
        mut p: usize,
        end: usize,
        hit: &mut impl FnMut(usize, usize),
    ) -> usize {
        use std::arch::x86_64::*;
        let half = |t: &[u8]| _mm512_loadu_si512(t.as_ptr().cast());
        let mut low = [[_mm512_setzero_si512(); HEAD]; S];
        let mut high = [[_mm512_setzero_si512(); HEAD]; S];
        for s in 0..S {
            for k in 0..HEAD {
                low[s][k] = half(&self.exact[s][k][..64]);
                high[s][k] = half(&self.exact[s][k][64..]);
            }
        }
        let zero = _mm512_setzero_si512();
        let base = hay.as_ptr();
        // The loads reach 64 + 3 bytes past `p`.
        while p + 64 <= end && p + 64 + HEAD - 1 <= hay.len() {
            let mut v = [zero; HEAD];
            for (k, v) in v.iter_mut().enumerate() {
                // SAFETY: p + k + 64 <= hay.len().
                *v = _mm512_loadu_si512(base.add(p + k).cast());
            }
            let mut flags = zero;
            for s in 0..S {
                // Each byte's low 7 bits pick one of the 128 entries.
                let mut f = _mm512_permutex2var_epi8(low[s][0], v[0], high[s][0]);
                for (k, &vk) in v.iter().enumerate().skip(1) {
                    f = _mm512_and_si512(f, _mm512_permutex2var_epi8(low[s][k], vk, high[s][k]));
                }
                flags = _mm512_or_si512(flags, f);
            }
            let mut bits = _mm512_test_epi8_mask(flags, flags);
            while bits != 0 {
                let j = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if self.may_be_head(hay, p + j) {
                    self.heads_at(hay, p + j, hit);
                }
            }
            p += 64;
        }
        p
    }
}

/// A byte's high nybble as the nybble kernels keep it: its bits 0 and 2
/// (the byte's bits 4 and 6), so that two bytes' codes index one table.
/// What it drops, bit 5 (the ASCII case of a letter) and bit 7, costs few
/// flags: a stem's spellings share a bucket in both cases anyway.
fn hi_code(byte: u8) -> u8 {
    byte >> 4 & 0b101
}

/// The index of two bytes in a set's pair table: their [`hi_code`]s, the
/// second's shifted to bits 1 and 3.
pub fn pair_code(first: u8, second: u8) -> u8 {
    hi_code(first) | hi_code(second) << 1
}

/// The pair codes that `head` accepts at its bytes `2 * j` and `2 * j + 1`:
/// past the end of a short head, any.
pub fn pair_codes(head: &[u8], j: usize) -> Vec<u8> {
    let codes = |k: usize| head.get(k).map_or(vec![0, 1, 4, 5], |&b| vec![hi_code(b)]);
    let mut out = Vec::new();
    for c0 in codes(2 * j) {
        for c1 in codes(2 * j + 1) {
            out.push(c0 | c1 << 1);
        }
    }
    out
}

/// The filter's multiplier (the hash table's is another).
const FILTER_MUL: u32 = 0x2545_f491;

/// Whether the exact byte classes are used (AVX-512 VBMI): [`deal`]
/// weighs buckets by them then.
///
/// [`deal`]: super::deal
pub fn exact() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512vbmi")
            && std::arch::is_x86_feature_detected!("avx512bw")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

fn avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512bw")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

fn avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every head position is reported once, in order, whatever the
    /// buckets, sets, range and limit; nothing else is (`ToKeN` is no
    /// spelling of the head of `oken` and `OKEN`). Short heads are found to
    /// the last byte.
    #[test]
    fn reports_exactly_the_head_positions() {
        let words: Vec<Vec<u8>> = [
            "ghp_", "oken", "OKEN", "eyJh", "eyJk", "xoxb", "AKIA", "aaaa", "dckr", "r8_x", "@",
            "r8_", "eyJ", "\u{e9}to", "C\u{e9}",
        ]
        .iter()
        .map(|w| w.as_bytes().to_vec())
        .collect();
        let mut hay = Vec::new();
        let mut seed = 7u32;
        for _ in 0..3000 {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            match seed >> 29 {
                0 | 1 => hay.extend_from_slice(&words[(seed >> 8) as usize % words.len()]),
                2 => hay.extend_from_slice(b"aaaaaa"),
                3 => hay.extend_from_slice("\u{e9}\u{c9}C".as_bytes()),
                _ => hay.push(b" =_xeyJokgh@\n"[(seed >> 8) as usize % 13]),
            }
        }
        hay.extend_from_slice(b"x@Oken");
        // Spellings of one head differ in ASCII case: `oken` and `OKEN`.
        let mut keys: Vec<(Vec<u8>, usize)> = Vec::new();
        let spellings: Vec<(Vec<u8>, usize)> = words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let head = match w.len() {
                    HEAD => match keys.iter().find(|(k, _)| *k == w.to_ascii_lowercase()) {
                        Some(&(_, h)) => h,
                        None => {
                            keys.push((w.to_ascii_lowercase(), i));
                            i
                        }
                    },
                    _ => i,
                };
                (w.clone(), head)
            })
            .collect();
        if Heads::new(&spellings, &vec![0; words.len()]).is_none() {
            return; // no AVX2 here: the caller uses its DFA instead
        }
        for sets in 1..=MAX_SETS {
            let buckets: Vec<usize> = (0..words.len()).map(|i| i * 7 % (sets * SET)).collect();
            let built = Heads::new(&spellings, &buckets).expect("AVX2");
            // Each kernel the CPU has: AVX2, AVX-512, AVX-512 VBMI.
            let mut kernels = vec![(
                "AVX2",
                Heads {
                    avx512: false,
                    exact: Vec::new(),
                    ..built.clone()
                },
            )];
            if avx512() {
                kernels.push((
                    "AVX-512",
                    Heads {
                        exact: Vec::new(),
                        ..built.clone()
                    },
                ));
            }
            if !built.exact.is_empty() {
                kernels.push(("VBMI", built.clone()));
            }
            for (wide, screen) in &kernels {
                let n = hay.len();
                for (range, limit) in [(0..n, n), (5..n - 40, n - 2), (33..900, 902), (n - 3..n, n)]
                {
                    let mut want = Vec::new();
                    for p in range.clone() {
                        for (w, h) in &spellings {
                            if p + w.len() <= limit && hay[p..].starts_with(w) {
                                want.push((p, *h));
                            }
                        }
                    }
                    let mut got = Vec::new();
                    let newlines =
                        screen.each(&hay, range.clone(), limit, &mut |p, h| got.push((p, h)));
                    let end = range.end.min(limit);
                    assert_eq!(
                        newlines,
                        hay[range.start..end]
                            .iter()
                            .filter(|&&b| b == b'\n')
                            .count(),
                        "newlines: sets {sets}, range {range:?}, {wide}"
                    );
                    assert!(got.windows(2).all(|w| w[0].0 <= w[1].0), "in order");
                    got.sort_unstable();
                    want.sort_unstable();
                    want.dedup();
                    assert!(want.len() > 1 || range.len() < 10);
                    assert_eq!(
                        got, want,
                        "sets {sets}, range {range:?}, limit {limit}, {wide}"
                    );
                }
            }
        }
    }
}
