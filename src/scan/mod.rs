//! The scanner: one pass of a multi-keyword search (see `keywords`) over
//! every rule's keywords finds candidate positions; each hit selects the rules
//! that own the keyword, whose regex then runs only in a bounded window around
//! the hit; validators confirm.
//!
//! The prefilter contract: a keyword hit may be wrong (the regex then finds
//! nothing), but a secret that a rule's regex would match near one of its
//! keywords is never skipped. A rule's windows are merged before its regex
//! runs, so a token hit by several keywords of one rule is found once.

pub mod chunk;
pub mod deal;
pub mod decode;
mod heads;
mod keywords;
pub mod locate;
pub mod stamp;

/// Keywords shorter than this many bytes hit at every occurrence, also
/// inside a longer keyword's match (see `keywords`).
pub const SHORT: usize = 4;

use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::rules::{Rule, Rules};
use crate::validate::{self, Outcome};
use keywords::{Keywords, Lines};
use regex_automata::{Anchored, Input};

/// A confirmed match of one rule in a haystack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawMatch {
    /// Index into [`Engine::rules`].
    pub rule: usize,
    /// Byte range of the secret (the rule's capture group) in the haystack.
    pub secret: Range<usize>,
    pub outcome: Outcome,
    /// The secret as decoded, when it was found in a decoded view (see
    /// `decode`) and its raw bytes differ: findings report it and its
    /// fingerprint, while `secret` is the raw span that holds it.
    pub decoded: Option<Box<[u8]>>,
}

impl RawMatch {
    /// The secret's bytes: decoded where it was found decoded, else the
    /// raw bytes of its span in `hay`.
    pub fn bytes<'a>(&'a self, hay: &'a [u8]) -> &'a [u8] {
        self.decoded.as_deref().unwrap_or(&hay[self.secret.clone()])
    }
}

/// Counters of `--stats`, one per rule.
#[derive(Debug)]
struct RuleStats {
    windows: Vec<AtomicU64>,
    nanos: Vec<AtomicU64>,
}

impl RuleStats {
    fn add(&self, r: usize, took: Duration) {
        self.windows[r].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.nanos[r].fetch_add(nanos, Ordering::Relaxed);
    }
}

/// What a keyword's rules search around a hit, together: their widest
/// `before` and `window`, and whether one of them reads across lines.
/// Known per keyword, so that a hit does not fold over its rules for it.
#[derive(Clone, Copy, Debug)]
struct Reach {
    before: usize,
    after: usize,
    multiline: bool,
}

/// The compiled rule set plus its keyword search. Built once; each
/// worker scans with its own clone (cheap: the compiled parts are shared),
/// because a regex shared across threads makes them contend for its
/// scratch-space pool on every confirm.
#[derive(Clone, Debug)]
pub struct Engine {
    rules: Vec<Rule>,
    keywords: Keywords,
    /// For each keyword pattern, the rules to try when it hits.
    pattern_rules: Vec<Vec<usize>>,
    /// For each keyword pattern, its rules' reach: line edges are searched
    /// once per hit, within it.
    pattern_reach: Vec<Reach>,
    /// For each keyword pattern, whether it is one of [`blob_heads`].
    blob: Vec<bool>,
    /// Secret values passed over (the config's `allow`).
    allow: Vec<regex_automata::meta::Regex>,
    /// Each rule's windows searched and time spent, when `--stats` asks
    /// (shared by the workers' clones).
    stats: Option<Arc<RuleStats>>,
    /// Longest distance, in bytes, that a match may reach from its keyword:
    /// the overlap chunked and streamed scans keep.
    reach: usize,
}

impl Engine {
    pub fn new(rules: Rules) -> Result<Engine, aho_corasick::BuildError> {
        let rules = rules.rules;
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut owners: Vec<Vec<usize>> = Vec::new();
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        for (i, rule) in rules.iter().enumerate() {
            for kw in &rule.spec.keywords {
                for spelling in spellings(kw, rule.spec.ignore_case) {
                    let p = *index.entry(spelling.clone()).or_insert_with(|| {
                        patterns.push(spelling);
                        owners.push(Vec::new());
                        patterns.len() - 1
                    });
                    owners[p].push(i);
                }
            }
        }
        let mut blob = vec![false; patterns.len()];
        for head in blob_heads() {
            match index.get(&head) {
                Some(&p) => blob[p] = true,
                None => {
                    patterns.push(head);
                    owners.push(Vec::new());
                    blob.push(true);
                }
            }
        }
        // The search does not report a keyword that lies inside a longer one
        // found before it ("oken" in "token=", "ecret" in "ecret_key"), so a
        // hit of the longer keyword also selects the rules of every keyword
        // it contains.
        let mut pattern_rules = owners.clone();
        for (a, pa) in patterns.iter().enumerate() {
            for (b, pb) in patterns.iter().enumerate() {
                // (A short keyword's every occurrence is a hit of its own.)
                if a != b && pa.len() > pb.len() && pb.len() >= SHORT && contains(pa, pb) {
                    pattern_rules[a].extend(owners[b].iter().copied());
                }
            }
        }
        for list in &mut pattern_rules {
            list.sort_unstable();
            list.dedup();
        }
        let keywords = Keywords::new(&patterns)?;
        let reach = rules
            .iter()
            .map(|r| r.window.max(r.before))
            .max()
            .unwrap_or(0);
        let widest = |list: &[usize]| Reach {
            before: list.iter().map(|&r| rules[r].before).max().unwrap_or(0),
            after: list.iter().map(|&r| rules[r].window).max().unwrap_or(0),
            multiline: list.iter().any(|&r| rules[r].spec.multiline),
        };
        let pattern_reach = pattern_rules.iter().map(|list| widest(list)).collect();
        Ok(Engine {
            rules,
            keywords,
            pattern_rules,
            pattern_reach,
            blob,
            allow: Vec::new(),
            stats: None,
            reach,
        })
    }

    /// Runs the keyword search alone over `hay` and counts its hits: the
    /// screen's cost apart from the rules' (`benches/screen.rs`).
    pub fn keyword_hits(&self, hay: &[u8]) -> usize {
        let mut n = 0;
        self.keywords.each(hay, 0..hay.len(), |_, _, _| n += 1);
        n
    }

    /// The keyword screen's heads as spelled, and whether their buckets
    /// came from the table dealt offline (`deal`); for the tool that deals
    /// them (`cargo run --release --example deal`).
    pub fn screen_heads(&self) -> (&[Vec<u8>], bool) {
        self.keywords.heads()
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Times every rule's regex runs from now on (`--stats`); it costs a
    /// clock read per window.
    pub fn track(&mut self) {
        self.stats = Some(Arc::new(RuleStats {
            windows: self.rules.iter().map(|_| AtomicU64::new(0)).collect(),
            nanos: self.rules.iter().map(|_| AtomicU64::new(0)).collect(),
        }));
    }

    /// Per rule (by index): windows its regex searched, and the time it
    /// took, in nanoseconds; empty unless [`Engine::track`] was called.
    pub fn rule_stats(&self) -> Vec<(u64, u64)> {
        let Some(st) = &self.stats else {
            return Vec::new();
        };
        st.windows
            .iter()
            .zip(&st.nanos)
            .map(|(w, n)| (w.load(Ordering::Relaxed), n.load(Ordering::Relaxed)))
            .collect()
    }

    /// Passes over every secret one of `regexes` finds a match in.
    pub fn allow(&mut self, regexes: Vec<regex_automata::meta::Regex>) {
        self.allow = regexes;
    }

    /// Length of the public prefix of `secret` for rule `r`, which
    /// redaction shows: the longest of the rule's declared `prefixes` the
    /// secret starts with, else the end of a case-sensitive keyword found in
    /// its first bytes (`ghp_`, `AKIA`, `sk_live_` via `k_live_`), else 0.
    /// Never more than half the secret.
    pub fn public_prefix(&self, r: usize, secret: &[u8]) -> usize {
        let spec = &self.rules[r].spec;
        let declared = spec
            .prefixes
            .iter()
            .map(|p| p.as_bytes())
            .filter(|p| secret.starts_with(p))
            .map(<[u8]>::len)
            .max();
        let end = declared.or_else(|| {
            if spec.ignore_case {
                return None;
            }
            spec.keywords
                .iter()
                .filter_map(|k| {
                    let k = k.as_bytes();
                    (0..=4)
                        .find(|&at| secret.get(at..at + k.len()) == Some(k))
                        .map(|at| at + k.len())
                })
                .max()
        });
        match end {
            Some(end) if end * 2 <= secret.len() => end,
            _ => 0,
        }
    }

    /// Bytes of context a chunked or streamed scan must keep on each side of
    /// the range it owns so that no match is cut.
    pub fn overlap(&self) -> usize {
        self.reach + 64
    }

    /// Finds every confirmed match in `hay` whose secret starts inside `own`.
    /// Bytes outside `own` are context only. Matches are appended to `out`
    /// sorted by secret start, at most one per (rule, secret range).
    ///
    /// Where a keyword hit's line holds escapes, the rules also run on a
    /// decoded view of it (see `decode`), and PEM blocks written behind a
    /// per-line prefix are reassembled; what they find is reported with
    /// its raw span.
    ///
    /// Returns what the keyword screen read and the newlines it counted.
    pub fn scan(&self, hay: &[u8], own: Range<usize>, out: &mut Vec<RawMatch>) -> Screened {
        let first = out.len();
        let mut views = Views::default();
        let screened = self.scan_raw(hay, &own, out, Some(&mut views));
        if !views.is_empty() {
            let found = self.scan_views(hay, &own, &views, &out[first..]);
            merge_decoded(hay, out, first, found, |r| self.rules[r].spec.kind);
        }
        out[first..].sort_by_key(|m| (m.secret.start, m.secret.end, m.rule));
        dedup_overlaps(&self.rules, out, first, 2 * self.reach);
        screened
    }

    /// The keyword search and confirm step over `hay` itself; notes in
    /// `views` (when given) the stretches worth decoding.
    fn scan_raw(
        &self,
        hay: &[u8],
        own: &Range<usize>,
        out: &mut Vec<RawMatch>,
        mut views: Option<&mut Views>,
    ) -> Screened {
        let mut pending: Vec<Option<Range<usize>>> = vec![None; self.rules.len()];
        let search_from = own.start.saturating_sub(self.reach);
        let search_to = (own.end + self.reach).min(hay.len());
        let mut lines = LineCache::default();
        let mut hit = |rules: &[usize], reach: Reach, start: usize, end: usize, blob: bool| {
            if blob {
                if let Some(v) = views.as_deref_mut() {
                    self.note_blob(hay, start, v);
                }
                if rules.is_empty() {
                    return;
                }
            }
            let edges = lines.edges(hay, start, end, reach.before, reach.after);
            if let Some(v) = views.as_deref_mut() {
                v.note(hay, reach, start, end, &edges);
            }
            for &r in rules {
                let w = self.window(r, start, end, &edges);
                self.extend(hay, r, w, &mut pending, own, out);
            }
        };
        let lines = self
            .keywords
            .each(hay, search_from..search_to, |p, start, end| {
                let (rules, reach) = (&self.pattern_rules[p], self.pattern_reach[p]);
                hit(rules, reach, start, end, self.blob[p]);
            });
        self.flush(hay, &mut pending, own, out);
        Screened {
            range: search_from..search_to,
            lines,
        }
    }

    /// Notes for decoding the base64 run that starts at `start` of `hay`
    /// (a blob head's hit), when it decodes to text in which a keyword
    /// hits: a base64 JSON blob logged whole hides its tokens from the
    /// keyword search, and only its decoded text tells whether it holds
    /// one. A run that begins before `start` is no blob's start.
    fn note_blob(&self, hay: &[u8], start: usize, views: &mut Views) {
        if start > 0 && decode::is_base64(hay[start - 1]) {
            return;
        }
        let Some((text, len)) = decode::base64_text_run(&hay[start..]) else {
            return;
        };
        let mut keyword = false;
        self.keywords.each(&text, 0..text.len(), |p, _, _| {
            keyword |= !self.pattern_rules[p].is_empty();
        });
        if keyword {
            views.note_stretch(start..start + len);
        }
    }

    /// Runs the rules on the decoded view of each stretch in `views` and
    /// on each reassembled PEM block, and returns what they find that
    /// starts in `own`, located by raw span. `raw` holds the matches
    /// already found in `hay` itself.
    fn scan_views(
        &self,
        hay: &[u8],
        own: &Range<usize>,
        views: &Views,
        raw: &[RawMatch],
    ) -> Vec<RawMatch> {
        let mut out = Vec::new();
        let mut found = Vec::new();
        let each = views.stretches.iter().flat_map(|s| {
            let [plain, base64] = decode::views(&hay[s.clone()]);
            [plain, base64].into_iter().flatten().map(move |v| (s, v))
        });
        for (stretch, view) in each {
            found.clear();
            self.scan_raw(&view.bytes, &(0..view.bytes.len()), &mut found, None);
            for m in found.drain(..) {
                let span = view.raw_span(&m.secret);
                let span = stretch.start + span.start..stretch.start + span.end;
                out.extend(located(hay, own, m, span, &view.bytes));
            }
        }
        for &(line_start, begin) in &views.pems {
            // A block the raw scan found whole needs no reassembly.
            let whole = raw
                .iter()
                .any(|m| self.rules[m.rule].spec.multiline && m.secret.contains(&begin));
            if whole {
                continue;
            }
            let Some((_, view)) = decode::prefixed_pem(hay, line_start, begin) else {
                continue;
            };
            found.clear();
            self.scan_raw(&view.bytes, &(0..view.bytes.len()), &mut found, None);
            for m in found.drain(..) {
                let span = view.raw_span(&m.secret);
                out.extend(located(hay, own, m, span, &view.bytes));
            }
        }
        out
    }

    /// Adds window `w` to rule `r`'s pending window, merging when they
    /// touch; a disjoint window first confirms the pending one.
    fn extend(
        &self,
        hay: &[u8],
        r: usize,
        w: Range<usize>,
        pending: &mut [Option<Range<usize>>],
        own: &Range<usize>,
        out: &mut Vec<RawMatch>,
    ) {
        match &mut pending[r] {
            Some(p) if w.start <= p.end => p.end = p.end.max(w.end),
            slot => {
                if let Some(done) = slot.replace(w) {
                    self.confirm(hay, r, done, own, out);
                }
            }
        }
    }

    fn flush(
        &self,
        hay: &[u8],
        pending: &mut [Option<Range<usize>>],
        own: &Range<usize>,
        out: &mut Vec<RawMatch>,
    ) {
        for (r, slot) in pending.iter_mut().enumerate() {
            if let Some(w) = slot.take() {
                self.confirm(hay, r, w, own, out);
            }
        }
    }

    /// Rule `r`'s window around a keyword hit: `before` bytes before it and
    /// `window` after, cut at the line edges unless the rule is multiline.
    fn window(&self, r: usize, start: usize, end: usize, edges: &Edges) -> Range<usize> {
        let rule = &self.rules[r];
        let lo = start.saturating_sub(rule.before);
        let hi = (end + rule.window).min(edges.limit);
        if rule.spec.multiline {
            return lo..hi;
        }
        lo.max(edges.line_start)..hi.min(edges.line_end)
    }

    /// Runs rule `r`'s regex over `w` and keeps the validated matches whose
    /// secret starts in `own`; under `--stats`, timed.
    fn confirm(
        &self,
        hay: &[u8],
        r: usize,
        w: Range<usize>,
        own: &Range<usize>,
        out: &mut Vec<RawMatch>,
    ) {
        let clock = self.stats.as_ref().map(|_| Instant::now());
        let rule = &self.rules[r];
        let Some(regex) = rule.regex() else {
            return;
        };
        // The search stays inside the window, but `$` and `\b` at its edges
        // see the bytes beyond: a run the window cuts short is no match.
        let mut input = Input::new(hay).span(w.clone());
        let mut caps = None;
        // A plain search is much cheaper than a capturing one; captures
        // run only on the span a match was found in.
        while let Some(found) = regex.search(&input) {
            let caps = caps.get_or_insert_with(|| regex.create_captures());
            let exact = Input::new(hay).span(found.range()).anchored(Anchored::Yes);
            regex.search_captures(&exact, caps);
            // The next search starts where this secret ends, not where the
            // match does: a match consumes the delimiter after its secret,
            // which the next secret of a packed line needs in front of it.
            let mut next = found.end();
            if let (Some(whole), Some(secret)) = (caps.get_match(), caps.get_group(1)) {
                next = secret
                    .end
                    .clamp(found.start() + 1, found.end().max(found.start() + 1));
                let (ss, se) = (secret.start, secret.end);
                let allowed = || self.allow.iter().any(|a| a.is_match(&hay[ss..se]));
                if own.contains(&ss) && ss < se && !allowed() && !in_marker(hay, ss) {
                    let named = validate::names::name_start(hay, whole.start())..whole.end();
                    if let Some(outcome) =
                        validate::validate(&rule.checks, &hay[ss..se], &hay[named])
                    {
                        out.push(RawMatch {
                            rule: r,
                            secret: ss..se,
                            outcome,
                            decoded: None,
                        });
                    }
                }
            }
            if found.is_empty() {
                next = found.end() + 1;
            }
            if next > w.end {
                break;
            }
            input.set_start(next);
        }
        if let (Some(stats), Some(clock)) = (&self.stats, clock) {
            stats.add(r, clock.elapsed());
        }
    }
}

/// What the keyword screen read in one scan, and the newlines it counted
/// there: a chunk's line numbers without a pass of their own over it.
pub struct Screened {
    range: Range<usize>,
    lines: Lines,
}

impl Screened {
    /// The newlines in `part` of `hay`, and the screen's marks within it
    /// as (position, newlines from `part.start` to it): the screen's counts
    /// less those of the screened ends outside `part`, each counted once
    /// more. A part the screen did not cover whole is counted afresh,
    /// without marks.
    pub fn lines_in(&self, hay: &[u8], part: Range<usize>) -> (usize, Vec<(usize, usize)>) {
        if !self.covers(&part) {
            return (locate::count_newlines(&hay[part]), Vec::new());
        }
        let before = locate::count_newlines(&hay[self.range.start..part.start]);
        let after = locate::count_newlines(&hay[part.end..self.range.end]);
        let marks = self
            .lines
            .marks
            .iter()
            .filter(|&&(at, _)| part.contains(&at));
        let marks = marks.map(|&(at, n)| (at, n - before)).collect();
        (self.lines.newlines - before - after, marks)
    }

    fn covers(&self, part: &Range<usize>) -> bool {
        self.range.start <= part.start && part.start <= part.end && part.end <= self.range.end
    }
}

/// Heads of base64 JSON: `{"` and a key's first letter (or `_`, `@`),
/// `{ "`, `{` and a newline, `[{"`. A hit sends the blob to
/// [`Engine::note_blob`]; they belong to no rule.
fn blob_heads() -> Vec<Vec<u8>> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let firsts = (b'A'..=b'Z').chain(b'a'..=b'z').chain([b'_', b'@']);
    let mut heads: Vec<Vec<u8>> = firsts
        .map(|c| vec![b'e', b'y', b'J', ALPHABET[usize::from(c & 0x3f)]])
        .collect();
    heads.extend([b"eyAi", b"ewog", b"ewoJ", b"W3si"].map(|h| h.to_vec()));
    heads.sort();
    heads.dedup();
    heads
}

/// Bytes past a hit's reach that [`Views::note`] checks for escapes at
/// once (finding one there only costs a view of the line).
const LOOK_AHEAD: usize = 1024;

/// What a raw scan notes for decoding: line stretches around keyword hits
/// that hold escapes or text in base64, and PEM blocks whose BEGIN line
/// has a prefix (a syslog header, a JSON wrapper) that the lines after it
/// may repeat.
#[derive(Default)]
struct Views {
    /// Disjoint, in order.
    stretches: Vec<Range<usize>>,
    /// `(line start, "-----BEGIN" position)`.
    pems: Vec<(usize, usize)>,
    /// The last stretch looked at for escapes (whether it was kept or
    /// not): hits on one line, or packed into a line longer than their
    /// reach, look at each byte once.
    checked: Range<usize>,
    /// Where the last base64 run looked at after a hit ended: a hit inside
    /// it (a run of `ghp_ghp_…`) does not measure the same run again.
    base64_to: usize,
}

impl Views {
    fn is_empty(&self) -> bool {
        self.stretches.is_empty() && self.pems.is_empty()
    }

    /// Looks at the line around a keyword hit at `start..end` of `hay`,
    /// whose rules search within `reach`.
    fn note(&mut self, hay: &[u8], reach: Reach, start: usize, end: usize, edges: &Edges) {
        let line = edges.line_start..edges.line_end.max(end);
        if reach.multiline {
            self.note_pem(hay, edges.line_start, start);
        }
        // Only the stretch the hit's rules search can hold what they
        // would find: escapes elsewhere on a long line (a Referer's `%2F`,
        // a JSON field further on) need no decoding.
        let reach =
            start.saturating_sub(reach.before).max(line.start)..(end + reach.after).min(line.end);
        let kept = self
            .stretches
            .last()
            .is_some_and(|l| l.start <= line.start && line.end <= l.end);
        if kept {
            return;
        }
        // Only text past what was checked is new; an escape is at most 12
        // bytes (`\ud83d\ude00`), so the check starts that far back.
        // Hits packed together (a run of `@`) each reach a byte further:
        // the check looks ahead, so that they do not each pay a search.
        let joined = self.checked.start <= reach.start && reach.start <= self.checked.end;
        // (The line's edges were searched only as far as the rules reach:
        // the look ahead stops at its own newline.)
        let ahead = || {
            let limit = (reach.end + LOOK_AHEAD).min(hay.len());
            memchr::memchr(b'\n', &hay[reach.end..limit]).map_or(limit, |i| reach.end + i)
        };
        let (fresh, checked) = match joined {
            true if reach.end <= self.checked.end => (0..0, self.checked.clone()),
            true => {
                let ahead = ahead();
                (
                    self.checked.end.saturating_sub(12).max(reach.start)..ahead,
                    self.checked.start..ahead,
                )
            }
            false => {
                let ahead = ahead();
                (reach.start..ahead, reach.start..ahead)
            }
        };
        self.checked = checked;
        let escape = fresh.start < fresh.end && decode::needs_view(&hay[fresh]);
        let base64 = !escape && end >= self.base64_to && {
            let (follows, to) = base64_follows(&hay[end..reach.end.max(end)]);
            self.base64_to = end + to;
            follows
        };
        if !escape && !base64 {
            return;
        }
        // The view is of the whole line: rules anchored at a line start or
        // a delimiter read it as the raw scan did.
        self.note_stretch(line);
    }

    /// Adds `s` to the stretches to decode, joined to those it meets.
    /// Stretches come mostly in order, but not always: a blob's may lie
    /// inside the line noted next.
    fn note_stretch(&mut self, s: Range<usize>) {
        let i = self.stretches.partition_point(|t| t.end < s.start);
        let j = self.stretches[i..].partition_point(|t| t.start <= s.end) + i;
        if i == j {
            self.stretches.insert(i, s);
            return;
        }
        let start = s.start.min(self.stretches[i].start);
        let end = s.end.max(self.stretches[j - 1].end);
        self.stretches.splice(i..j, std::iter::once(start..end));
    }

    /// A BEGIN line's prefix is a log header (syslog, docker JSON): one
    /// further in is no such header, and a line packed with BEGINs would
    /// otherwise note (and reassemble) each of them.
    fn note_pem(&mut self, hay: &[u8], line_start: usize, hit: usize) {
        const MAX_PREFIX: usize = 512;
        // The edges of a line longer than the reach are no line start.
        if line_start > 0 && hay[line_start - 1] != b'\n' {
            return;
        }
        let head = &hay[line_start..hit.min(line_start + MAX_PREFIX + b"-----BEGIN".len())];
        let Some(at) = memchr::memmem::rfind(head, b"-----BEGIN") else {
            return;
        };
        let begin = line_start + at;
        if begin > line_start && !self.pems.iter().any(|&(_, b)| b == begin) {
            self.pems.push((line_start, begin));
        }
    }
}

/// Whether a base64 run that decodes to text (a Basic credential, a JSON
/// blob) follows a keyword hit, after at most a few bytes of `: = "'`; and
/// how far into `after` that look reached.
fn base64_follows(after: &[u8]) -> (bool, usize) {
    let skip = after
        .iter()
        .take(4)
        .take_while(|b| b" \t:=\"'".contains(b))
        .count();
    let (follows, len) = decode::starts_base64_text(&after[skip..]);
    (follows, skip + len)
}

/// Match `m` of a decoded view, located at raw span `span` of `hay`; none
/// when that span does not start in `own`. `view` is the view's text.
fn located(
    hay: &[u8],
    own: &Range<usize>,
    m: RawMatch,
    span: Range<usize>,
    view: &[u8],
) -> Option<RawMatch> {
    if !own.contains(&span.start) {
        return None;
    }
    let bytes = &view[m.secret.clone()];
    let decoded = (bytes != &hay[span.clone()]).then(|| bytes.into());
    Some(RawMatch {
        secret: span,
        decoded,
        ..m
    })
}

/// Whether the secret at `start` is the tag of a marker that `redact`
/// wrote (`[REDACTED:<rule>:<tag>]`): `password-assignment:1a2b…` reads
/// as a name and its value, and a redacted copy must scan clean.
fn in_marker(hay: &[u8], start: usize) -> bool {
    let before = &hay[start.saturating_sub(80)..start];
    let Some(rest) = before.strip_suffix(b":") else {
        return false;
    };
    let id = rest
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || **b == b'-')
        .count();
    id > 0 && rest[..rest.len() - id].ends_with(b"[REDACTED:")
}

/// Adds matches found in decoded views to `out[first..]`. A decoded match
/// replaces a raw match of its rule that it overlaps and covers (the raw
/// one was cut at an escape, or holds the escapes). It adds nothing when
/// a raw match of its rule reaches past it, when it is
/// identical to a raw match, or when a raw match of another rule already
/// holds its whole raw span, escapes included, and is of the same kind: a
/// rule written for the escaped form (a PEM block with `\n` escapes)
/// found it whole.
fn merge_decoded(
    hay: &[u8],
    out: &mut Vec<RawMatch>,
    first: usize,
    found: Vec<RawMatch>,
    kind: impl Fn(usize) -> crate::finding::Kind,
) {
    for d in found {
        let known = out[first..].iter().any(|m| {
            (m.rule == d.rule && m.secret == d.secret && m.decoded == d.decoded)
                || (m.rule != d.rule
                    && kind(m.rule) == kind(d.rule)
                    && m.decoded.is_none()
                    && m.secret.start <= d.secret.start
                    && d.secret.end <= m.secret.end
                    && decode::has_escape(&hay[m.secret.clone()]))
        });
        // A raw match of the rule that reaches past the decoded one holds
        // more of the secret: decoding cut it (a `%26` became the `&` that
        // ends a query value).
        let longer = out[first..].iter().any(|m| {
            m.rule == d.rule
                && m.decoded.is_none()
                && m.secret.start < d.secret.end
                && d.secret.start < m.secret.end
                && (m.secret.start < d.secret.start || d.secret.end < m.secret.end)
        });
        if known || longer {
            continue;
        }
        let mut i = first;
        while i < out.len() {
            let m = &out[i];
            let overlaps = m.secret.start < d.secret.end && d.secret.start < m.secret.end;
            if m.rule == d.rule && overlaps {
                out.swap_remove(i);
            } else {
                i += 1;
            }
        }
        out.push(d);
    }
}

/// Where the line around a keyword hit starts and ends, searched only as
/// far as any rule's window reaches; `limit` is the haystack length.
struct Edges {
    line_start: usize,
    line_end: usize,
    limit: usize,
}

/// The newline-free stretch around the last keyword hit: hits packed
/// together (a run of `@` or `token=`) then do not each search their whole
/// reach for the line's edges again, which made such runs crawl.
#[derive(Default)]
struct LineCache {
    /// No newline in `hay[clear]`.
    clear: Range<usize>,
}

impl LineCache {
    fn edges(
        &mut self,
        hay: &[u8],
        start: usize,
        end: usize,
        before: usize,
        after: usize,
    ) -> Edges {
        let lo = start.saturating_sub(before);
        let hi = (end + after).min(hay.len());
        let c = &self.clear;
        let inside = c.start <= start && end <= c.end;
        // Search only what the stretch does not cover.
        let top = if inside { c.start.max(lo) } else { start };
        let line_start = memchr::memrchr(b'\n', &hay[lo..top]).map_or(lo, |i| lo + i + 1);
        let from = if inside { c.end.min(hi) } else { end };
        let line_end = memchr::memchr(b'\n', &hay[from..hi]).map_or(hi, |i| from + i);
        self.clear = if memchr::memchr(b'\n', &hay[start..end]).is_none() {
            line_start..line_end
        } else {
            0..0
        };
        Edges {
            line_start,
            line_end,
            limit: hay.len(),
        }
    }
}

/// Among matches sorted by start, drops exact duplicates and, where two
/// rules claim overlapping bytes, the one with lower confidence (ties: a
/// format-specific rule beats a generic context rule, then the rule listed
/// first wins), so one secret is reported once, by its most
/// specific rule. A match cannot be longer than `span`, which bounds how far
/// back a clash is looked for.
fn dedup_overlaps(rules: &[Rule], out: &mut Vec<RawMatch>, first: usize, span: usize) {
    let rank = |m: &RawMatch| {
        (
            m.outcome.confidence,
            !rules[m.rule].generic,
            std::cmp::Reverse(m.rule),
        )
    };
    let mut kept: Vec<RawMatch> = Vec::with_capacity(out.len() - first);
    for m in out.drain(first..) {
        let horizon = m.secret.start.saturating_sub(span);
        let clash = kept
            .iter()
            .rev()
            .take_while(|k| k.secret.start >= horizon)
            .position(|k| k.secret.start < m.secret.end && m.secret.start < k.secret.end)
            .map(|back| kept.len() - 1 - back);
        let Some(i) = clash else {
            kept.push(m);
            continue;
        };
        let k = &kept[i];
        if k.rule == m.rule && k.secret != m.secret {
            kept.push(m);
        } else if rank(&m) > rank(k) {
            kept[i] = m;
        }
    }
    out.extend(kept);
}

/// The spellings a keyword is searched in: as written, and for `ignore_case`
/// also lower, UPPER and Title (each `_`/`-`-separated word capitalised).
fn spellings(kw: &str, ignore_case: bool) -> Vec<Vec<u8>> {
    let mut out = vec![kw.as_bytes().to_vec()];
    if ignore_case {
        let lower = kw.to_ascii_lowercase();
        let mut title = Vec::with_capacity(kw.len());
        let mut boundary = true;
        for b in lower.bytes() {
            title.push(if boundary { b.to_ascii_uppercase() } else { b });
            boundary = !b.is_ascii_alphanumeric();
        }
        out.push(kw.to_ascii_uppercase().into_bytes());
        out.push(lower.into_bytes());
        out.push(title);
    }
    out.sort();
    out.dedup();
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    // Every pair of the keywords' spellings is tried at start, a million
    // with 300-odd rules: the first byte decides most windows without a
    // call to memcmp.
    hay.windows(needle.len())
        .any(|w| w[0] == needle[0] && w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table dealt offline holds every built-in head, and every head
    /// with `rules-staging/` added: a keyword added without running the
    /// tool again would leave the screen to the byte model's dealing,
    /// several times the flags.
    #[test]
    fn the_offline_dealing_covers_the_built_in_heads() {
        let staged = std::path::PathBuf::from("rules-staging");
        for extra in [vec![], vec![staged]] {
            let rules = Rules::load(&extra).expect("rules load");
            let engine = Engine::new(rules).expect("engine builds");
            let (heads, from_table) = engine.screen_heads();
            assert!(
                from_table || deal::exact_screen(),
                "src/scan/buckets.txt lacks some of the {} heads with {extra:?}: \
                 deal them again as examples/deal.rs says",
                heads.len()
            );
        }
    }

    fn engine(toml: &str) -> Engine {
        let mut r = Rules::default();
        r.add_file("t.toml", toml).expect("rules load");
        Engine::new(r).expect("engine builds")
    }

    const RULES: &str = r#"
[[rule]]
id = "demo"
name = "Demo"
kind = "api-key"
confidence = "high"
keywords = ["demo_", "dem"]
pattern = '\b(demo_[a-z]{8})\b'
placeholder = false

[[rule]]
id = "ctx"
name = "Ctx"
kind = "password"
confidence = "low"
keywords = ["pass"]
ignore_case = true
pattern = '(?i)pass=([a-z_]{6,})'
placeholder = false
"#;

    fn found(e: &Engine, hay: &[u8]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        e.scan(hay, 0..hay.len(), &mut out);
        out.iter()
            .map(|m| {
                (
                    e.rules()[m.rule].spec.id.clone(),
                    // What the rule matched: decoded where a view found it.
                    String::from_utf8_lossy(m.decoded.as_deref().unwrap_or(&hay[m.secret.clone()]))
                        .into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn token_hit_by_two_keywords_is_found_once() {
        let e = engine(RULES);
        assert_eq!(
            found(&e, b"x demo_abcdefgh y"),
            vec![("demo".into(), "demo_abcdefgh".into())]
        );
    }

    #[test]
    fn case_spellings_and_overlap_resolution() {
        let e = engine(RULES);
        assert_eq!(
            found(&e, b"PASS=secret_x and Pass=demo_abcdefgh"),
            vec![
                ("ctx".into(), "secret_x".into()),
                ("demo".into(), "demo_abcdefgh".into())
            ]
        );
    }

    /// The window bounds the match, not the token: a run longer than the
    /// window is not cut into a match at the window's edge.
    #[test]
    fn a_run_longer_than_the_window_is_no_match() {
        let e = engine(
            r#"
[[rule]]
id = "open"
name = "Open"
kind = "api-key"
confidence = "high"
keywords = ["tok_"]
window = 40
pattern = '\b(tok_[a-z]{8,})(?:[^a-z]|$)'
placeholder = false
"#,
        );
        let short = format!("x tok_{}\n", "q".repeat(30));
        assert_eq!(found(&e, short.as_bytes()).len(), 1);
        let long = format!("x tok_{}\n", "q".repeat(60));
        assert_eq!(found(&e, long.as_bytes()), vec![]);
    }

    /// Issue 15: a match consumes the delimiter after its secret; the next
    /// secret of a packed line needs that same byte in front of it.
    #[test]
    fn every_secret_of_a_packed_line_is_found() {
        let e = engine(
            r#"
[[rule]]
id = "kv"
name = "Kv"
kind = "password"
confidence = "medium"
keywords = ["PASS"]
pattern = '(?:^|[\s;])[A-Z_]*PASS=([a-z]{6,})(?:[\s;]|$)'
placeholder = false
"#,
        );
        for n in 2..=5 {
            let line: Vec<String> = (0..n)
                .map(|i| {
                    format!(
                        "S{}_PASS=secret{}",
                        "ABCDE".as_bytes()[i] as char,
                        "q".repeat(i + 1)
                    )
                })
                .collect();
            for sep in [" ", ";"] {
                let hay = line.join(sep);
                assert_eq!(found(&e, hay.as_bytes()).len(), n, "{hay}");
            }
        }
    }

    #[test]
    fn only_owned_starts_are_reported() {
        let e = engine(RULES);
        let hay = b"demo_aaaaaaaa demo_bbbbbbbb";
        let mut out = Vec::new();
        e.scan(hay, 5..20, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].secret, 14..27);
    }

    /// Line edges from the cache equal a fresh search, for hits packed
    /// together, far apart, backwards, and keywords holding a newline.
    #[test]
    fn cached_line_edges_equal_a_fresh_search() {
        let hay = b"ab\n@@@@@@@@@@@@@@@@@@@@@@\n\n@x@\ny@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@z";
        let fresh = |start: usize, end: usize, before: usize, after: usize| {
            let lo = start.saturating_sub(before);
            let hi = (end + after).min(hay.len());
            let line_start = hay[lo..start]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(lo, |i| lo + i + 1);
            let line_end = hay[end..hi]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(hi, |i| end + i);
            (line_start, line_end)
        };
        let mut hits: Vec<(usize, usize)> = (0..hay.len()).map(|s| (s, s + 1)).collect();
        hits.extend((0..hay.len() - 3).map(|s| (s, s + 3)));
        hits.extend((0..hay.len()).rev().map(|s| (s, s + 1)));
        for (before, after) in [(0, 0), (1, 2), (5, 3), (40, 40)] {
            let mut cache = LineCache::default();
            for &(start, end) in &hits {
                let e = cache.edges(hay, start, end, before, after);
                assert_eq!(
                    (e.line_start, e.line_end),
                    fresh(start, end, before, after),
                    "hit {start}..{end}, reach {before}/{after}"
                );
            }
        }
    }

    #[test]
    fn window_stops_at_line_end() {
        let e = engine(RULES);
        assert!(found(&e, b"pass\n=secretvalue").is_empty());
    }

    #[test]
    fn public_prefix_uses_declared_prefixes_then_keywords() {
        let e = engine(
            r#"
[[rule]]
id = "p"
name = "P"
kind = "api-key"
confidence = "high"
keywords = ["k_live_", "xoxb", "T3BlbkFJ"]
prefixes = ["sk-", "sk-proj-"]
pattern = '(x)'
"#,
        );
        assert_eq!(e.public_prefix(0, b"sk_live_4eC39HqLyjWDarjtT1zdp7dc"), 8);
        assert_eq!(e.public_prefix(0, b"xoxb-1234-5678-abcdefghijkl"), 4);
        assert_eq!(e.public_prefix(0, b"sk-proj-abcdT3BlbkFJxyzwxyzwxyz"), 8);
        assert_eq!(e.public_prefix(0, b"zzzz"), 0);
        assert_eq!(e.public_prefix(0, b"xoxb-1"), 0, "never half the secret");
    }

    #[test]
    fn short_keywords_are_found_apart_from_the_others() {
        let e = engine(
            r#"
[[rule]]
id = "at"
name = "At"
kind = "url-credential"
confidence = "high"
keywords = ["@"]
before = 64
pattern = '[a-z]+://[a-z]+:([A-Za-z0-9]{8,})@'
placeholder = false
"#,
        );
        assert_eq!(
            found(&e, b"GET https://u:Zq8rT2kLw9@db.internal/x HTTP/1.1"),
            vec![("at".into(), "Zq8rT2kLw9".into())]
        );
    }

    /// Stretches to decode stay sorted and disjoint whatever order they
    /// are noted in: one noted before a later stretch is neither lost nor
    /// stretched over the text between them.
    #[test]
    fn stretches_stay_sorted_and_disjoint() {
        let mut v = Views::default();
        for s in [100..120, 10..20, 300..310, 15..30, 118..130, 0..5, 30..40] {
            v.note_stretch(s);
        }
        assert_eq!(v.stretches, vec![0..5, 10..40, 100..130, 300..310]);
    }

    /// A base64 JSON blob with no keyword near it is decoded when its
    /// text holds one, whatever its first key; a blob whose text holds
    /// none (a pagination cursor) is not.
    #[test]
    fn a_base64_json_blob_is_scanned_decoded() {
        use base64::Engine as _;
        let e = engine(
            r#"
[[rule]]
id = "tok"
name = "Tok"
kind = "api-key"
confidence = "high"
keywords = ["tok_"]
pattern = '(tok_[a-z0-9]{24})'
placeholder = false
"#,
        );
        for key in ["data", "id", "Name", "_x", "zz"] {
            let json = format!(r#"{{"{key}":1,"auth":"tok_k3j5h2g7f8d9s0a1q2w3e4r5"}}"#);
            let blob = base64::engine::general_purpose::STANDARD.encode(json);
            let line = format!("GET /cb?state={blob} 200\n");
            assert_eq!(
                found(&e, line.as_bytes()),
                vec![("tok".into(), "tok_k3j5h2g7f8d9s0a1q2w3e4r5".into())],
                "{key}"
            );
        }
        let cursor = base64::engine::general_purpose::STANDARD.encode(r#"{"id":5,"dir":"next"}"#);
        let mut views = Views::default();
        let line = format!("GET /events?cursor={cursor} 200\n");
        let start = line.find("eyJ").expect("blob");
        e.note_blob(line.as_bytes(), start, &mut views);
        assert!(views.is_empty());
    }
}
