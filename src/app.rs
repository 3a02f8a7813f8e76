//! Orchestration only: resolve settings, discover inputs, scan them in
//! parallel (rayon), send each input's findings to one reporter thread, and
//! compute the outcome from (findings, incomplete).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File, Metadata};
use std::io::{self, IsTerminal, Read, Seek, Write};
use std::ops::Range;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use crossbeam_channel::{bounded, Receiver};
use globset::{Glob, GlobSet, GlobSetBuilder};
use rayon::prelude::*;

use crate::baseline;
use crate::cli::{
    BaselineArgs, ColorArg, ConfidenceArg, FormatArg, MergeArgs, RedactArgs, RulesCommand, ScanArgs,
};
use crate::config::Config;
use crate::discover::{discover, display, Input};
use crate::finding::{Confidence, Finding};
use crate::har;
use crate::merge;
use crate::messages::{self, io_cause, Messages};
use crate::objects;
use crate::progress;
use crate::redact;
use crate::report::order::{InOrder, Turn};
use crate::report::{self, Counts, Format, Reporter};
use crate::rules::{check, Rule, RuleSpec, Rules};
use crate::sanitize::{self, Redactor};
use crate::scan::chunk::{scan_reader, scan_slice, scan_slice_streaming, StreamError};
use crate::scan::locate::{count_newlines, Origin};
use crate::scan::Engine;
use crate::source::decode::Limits;
use crate::source::detect::{self, sniff_stream, Container, Sniff, HEAD};
use crate::source::mmap::Guarded;
use crate::source::unpack::{self, Visit};
use crate::state::{self, Ledger, Plan};

/// Files smaller than this are read rather than mapped: mapping costs more
/// than copying a few pages.
const MAP_MIN: u64 = 256 * 1024;

/// How a run ended; `main` turns it into the exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub findings: u64,
    /// Some input could not be read completely.
    pub incomplete: bool,
}

impl Outcome {
    /// 0 clean and complete, 1 findings, 2 incomplete (findings or not: a
    /// partial scan must never look clean, nor merely "found something").
    pub fn exit_code(self) -> u8 {
        if self.incomplete {
            2
        } else if self.findings > 0 {
            1
        } else {
            0
        }
    }
}

/// Resolved scan settings.
struct Settings {
    format: Format,
    /// `leaksweep baseline`: the file the findings go to, not stdout.
    baseline_out: Option<PathBuf>,
    /// `--group-by secret`.
    group: bool,
    color: bool,
    min_confidence: Confidence,
    show_secrets: bool,
    limits: Limits,
}

pub fn scan(args: ScanArgs) -> anyhow::Result<Outcome> {
    run(args, None)
}

/// The output format and whether to colour it. Findings written to a file
/// are never coloured, and jsonl by default.
fn output_style(format: Option<FormatArg>, color: ColorArg, to_file: bool) -> (Format, bool) {
    let stdout_tty = !to_file && io::stdout().is_terminal();
    let format = match format {
        Some(FormatArg::Human) => Format::Human,
        Some(FormatArg::Json) => Format::Json,
        Some(FormatArg::Jsonl) => Format::Jsonl,
        Some(FormatArg::Sarif) => Format::Sarif,
        Some(FormatArg::Csv) => Format::Csv,
        None if stdout_tty => Format::Human,
        None => Format::Jsonl,
    };
    let color = match color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => stdout_tty && std::env::var_os("NO_COLOR").is_none(),
    };
    (format, color)
}

fn check_group_format(group: bool, format: Format) -> anyhow::Result<()> {
    if group && matches!(format, Format::Sarif | Format::Csv) {
        bail!(Usage(
            "--group-by writes json, jsonl or human records, not sarif or csv".into()
        ));
    }
    Ok(())
}

/// `leaksweep merge FILE...`: shard outputs read back and reported as one
/// run's (see `merge`). 0 nothing found, 1 findings, 2 a file or line
/// could not be read (the rest are still merged).
pub fn merge(args: MergeArgs) -> anyhow::Result<Outcome> {
    let (format, color) = output_style(args.format, args.color, args.output.is_some());
    let group = args.group_by.is_some();
    check_group_format(group, format)?;
    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(merge::output(path, &args.files)?),
        None => Box::new(io::stdout().lock()),
    };
    let msgs = Messages::new(args.quiet);
    let merged = merge::read_all(&args.files, &msgs);
    // SARIF describes the rules the findings name; the built-in ones are
    // what a merge knows of.
    let rules = Rules::builtin()?;
    let out = io::BufWriter::new(out);
    let mut reporter = if group {
        Reporter::Group(report::group::Group::new(out, format))
    } else {
        Reporter::new(format, out, color, &rules.rules)
    };
    let written = reporter
        .begin()
        .and_then(|()| reporter.batch(&merged.findings))
        .and_then(|()| reporter.finish());
    if let Err(e) = written {
        if e.kind() != io::ErrorKind::BrokenPipe {
            return Err(anyhow::Error::new(e).context("writing the merged findings"));
        }
    }
    if !args.quiet {
        messages::line(&format!(
            "leaksweep: merged {} finding{} from {} file{} ({} duplicate{} dropped)",
            merged.findings.len(),
            if merged.findings.len() == 1 { "" } else { "s" },
            args.files.len(),
            if args.files.len() == 1 { "" } else { "s" },
            merged.duplicates,
            if merged.duplicates == 1 { "" } else { "s" },
        ));
    }
    Ok(Outcome {
        findings: merged.findings.len() as u64,
        incomplete: msgs.errors() > 0,
    })
}

/// `leaksweep baseline PATH... -o FILE`: a scan whose findings become a
/// baseline file. Success is 0 whatever was found; an incomplete scan is
/// still 2 (its baseline is written, but lacks what could not be read).
pub fn baseline(args: BaselineArgs) -> anyhow::Result<Outcome> {
    let scan = ScanArgs {
        input: args.input,
        output: None,
        format: None,
        show_secrets: false,
        state: None,
        baseline: None,
        group_by: None,
        color: ColorArg::Never,
    };
    let outcome = run(scan, Some(args.output))?;
    Ok(Outcome {
        findings: 0,
        ..outcome
    })
}

fn run(args: ScanArgs, baseline_out: Option<PathBuf>) -> anyhow::Result<Outcome> {
    let start = Instant::now();
    let config = Config::find(args.input.config.as_deref(), args.input.no_config)?;
    let mut engine = engine(
        &args.input.rules,
        config.as_ref(),
        &args.input.rule,
        &args.input.exclude_rule,
    )?;
    if args.input.stats {
        engine.track();
    }
    threads(args.input.threads)?;
    let globs = |flag: &str, list: &[String]| -> anyhow::Result<GlobSet> {
        let mut set = GlobSetBuilder::new();
        for g in list {
            set.add(Glob::new(g).map_err(|e| Usage(format!("{flag} '{g}': {e}")))?);
        }
        Ok(set.build().map_err(|e| Usage(format!("{flag}: {e}")))?)
    };
    let exclude = globs("--exclude", &args.input.exclude)?;
    let include = globs("--include", &args.input.include)?;
    let (format, color) = output_style(args.format, args.color, args.output.is_some());
    let settings = Settings {
        baseline_out,
        group: args.group_by.is_some(),
        format,
        color,
        min_confidence: confidence(args.input.min_confidence),
        show_secrets: args.show_secrets,
        limits: Limits {
            max_depth: usize::from(args.input.max_depth),
            max_decoded: args.input.max_decoded,
            max_ratio: args.input.max_ratio,
            binary_as_text: args.input.text,
            max_har_string: args.input.max_har_string,
        },
    };
    check_group_format(settings.group, settings.format)?;
    let mut paths = args.input.paths.clone();
    if paths.is_empty() {
        if !stdin_is_data() {
            bail!(Usage(
                "no PATH given and stdin is not a pipe or a file; name a file or directory, or '-' for stdin"
                    .into()
            ));
        }
        paths.push("-".into());
    }
    let mut known = args.baseline.as_deref().map(baseline::load).transpose()?;
    if let Some(c) = &config {
        known
            .get_or_insert_with(HashSet::new)
            .extend(c.ignore.iter().cloned());
    }
    let mut ledger = args.state.as_deref().map(Ledger::open).transpose()?;
    let seen = ledger.as_mut().map(Ledger::take_reported);
    let msgs = Messages::new(args.input.quiet);
    let matches =
        |set: &GlobSet, p: &Path| set.is_match(p) || p.file_name().is_some_and(|n| set.is_match(n));
    let skip = |p: &Path| config.as_ref().is_some_and(|c| c.skips(p)) || matches(&exclude, p);
    if args.input.shard.is_some() && paths.iter().any(|p| p.as_os_str() == "-") {
        bail!(Usage(
            "--shard splits files among runs; stdin ('-') cannot be split".into()
        ));
    }
    let (urls, paths): (Vec<PathBuf>, Vec<PathBuf>) =
        paths.into_iter().partition(|p| objects::is_url(p));
    let mut inputs = discover(&paths, args.input.follow, &skip, &msgs);
    // Object reads run on this runtime; it lives as long as the scan.
    let objects = if urls.is_empty() {
        None
    } else {
        Some(objects::Objects::new().context("starting the object storage client")?)
    };
    if let Some(objects) = &objects {
        for url in &urls {
            let url = url.to_string_lossy();
            match objects.list(&url) {
                Ok(listed) => inputs.extend(
                    listed
                        .into_iter()
                        .filter(|o| !skip(Path::new(&o.url)))
                        .map(Input::Object),
                ),
                Err(cause) => msgs.error(&url, cause),
            }
        }
    }
    inputs.retain(|i| {
        let p = match i {
            Input::File(p) => p.as_path(),
            Input::Object(o) => Path::new(&o.url),
            Input::Stdin => return true,
        };
        (args.input.include.is_empty() || matches(&include, p))
            && args.input.shard.is_none_or(|s| s.owns(p))
    });
    // An object read whole before and unchanged since is not read again.
    if let Some(ledger) = &ledger {
        inputs.retain(|i| !matches!(i, Input::Object(o) if ledger.object_unchanged(&o.state())));
    }
    if let Some(max) = args.input.max_filesize {
        inputs.retain(|i| {
            let (name, len) = match i {
                Input::File(p) => (display(p), fs::metadata(p).map_or(0, |m| m.len())),
                Input::Object(o) => (o.url.clone(), o.size),
                Input::Stdin => return true,
            };
            if len > max {
                msgs.skip(
                    &name,
                    format_args!("{len} bytes, larger than --max-filesize ({max} bytes)"),
                );
            }
            len <= max
        });
    }
    // The output file is created once the run is known to go ahead; it is
    // never one of the inputs (an earlier run's output under a scanned
    // directory is left out; naming it is an error).
    let out_file = match &args.output {
        Some(path) => {
            if let Ok(m) = fs::metadata(path) {
                let same = |p: &Path| {
                    fs::metadata(p).is_ok_and(|i| (i.dev(), i.ino()) == (m.dev(), m.ino()))
                };
                if paths.iter().any(|p| same(p)) {
                    bail!(Usage(format!(
                        "the output file {} is one of the inputs",
                        path.display()
                    )));
                }
                inputs.retain(|i| !matches!(i, Input::File(p) if same(p)));
            }
            Some(
                File::create(path)
                    .with_context(|| format!("creating the output file {}", path.display()))?,
            )
        }
        None => None,
    };
    let sizes = disk_sizes(&inputs);
    if progress::wanted(&args.input.progress, args.input.quiet) {
        progress::start(sizes.iter().sum());
    }
    let bytes = AtomicU64::new(0);
    let (tx, rx) = bounded::<Vec<Finding>>(64);
    let Reported {
        counts,
        by_rule,
        result: write_result,
        seen,
    } = std::thread::scope(|s| {
        let reporter =
            s.spawn(|| report(rx, out_file, &settings, engine.rules(), known, seen, &msgs));
        let order = InOrder::new(&tx);
        inputs.par_iter().zip(&sizes).enumerate().for_each_init(
            || engine.clone(),
            |engine, (i, (input, size))| {
                let _turn = Turn {
                    order: &order,
                    input: i,
                };
                let origin = Origin {
                    path: match input {
                        Input::Stdin => args.input.label.clone().unwrap_or_else(|| "-".into()),
                        Input::File(p) => display(p),
                        Input::Object(o) => o.url.clone(),
                    },
                    member: None,
                    show_secrets: settings.show_secrets,
                };
                let send = |batch: Vec<Finding>| {
                    let batch: Vec<Finding> = batch
                        .into_iter()
                        .filter(|f| f.confidence >= settings.min_confidence)
                        .collect();
                    if !batch.is_empty() {
                        order.send(i, batch);
                    }
                };
                let mut scan = Scan {
                    engine,
                    origin: &origin,
                    msgs: &msgs,
                    send: &send,
                    limits: settings.limits,
                    bytes: 0,
                    progressed: 0,
                    ledger: ledger.as_ref(),
                    failed: false,
                    nul_noted: false,
                };
                scan.input(input);
                let n = scan.bytes;
                bytes.fetch_add(n, Ordering::Relaxed);
                // The progress line: what a mapped scan has not counted
                // chunk by chunk.
                progress::add(size.saturating_sub(scan.progressed));
            },
        );
        drop(order);
        drop(tx);
        // A reporter that panicked wrote an unknown part of the findings.
        reporter.join().unwrap_or_else(|_| Reported {
            counts: Counts::default(),
            by_rule: BTreeMap::new(),
            result: Err(io::Error::other("the reporter thread crashed")),
            seen: None,
        })
    });
    match write_result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            let to = match (&settings.baseline_out, &args.output) {
                (Some(path), _) => format!("writing the baseline {}", path.display()),
                (None, Some(path)) => format!("writing findings to {}", path.display()),
                (None, None) => "writing findings to stdout".into(),
            };
            return Err(anyhow::Error::new(e).context(to));
        }
        // The state advances only once the findings are delivered.
        Ok(()) => {
            if let Some(ledger) = ledger {
                ledger.save(seen.unwrap_or_default())?;
            }
        }
    }
    progress::finish();
    if !args.input.quiet {
        summary(&inputs, bytes.load(Ordering::Relaxed), counts, &msgs, start);
    }
    if args.input.stats {
        stats(&engine, &by_rule);
    }
    Ok(Outcome {
        findings: counts.total(),
        incomplete: msgs.errors() > 0,
    })
}

/// The rules of a run (built-in, `--rules`, less what the config
/// disables) compiled, with the config's allowed values.
/// `--rule` keeps only the rules it names, `--exclude-rule` drops those it
/// names; an id no rule has is an error.
fn engine(
    extra: &[PathBuf],
    config: Option<&Config>,
    only: &[String],
    without: &[String],
) -> anyhow::Result<Engine> {
    let mut rules = Rules::load(extra)?;
    if let Some(id) = only
        .iter()
        .chain(without)
        .find(|id| !rules.rules.iter().any(|r| &r.spec.id == *id))
    {
        bail!(Usage(format!(
            "no rule has the id '{id}' (leaksweep rules list shows them)"
        )));
    }
    if !only.is_empty() {
        rules.rules.retain(|r| only.contains(&r.spec.id));
    }
    rules.rules.retain(|r| !without.contains(&r.spec.id));
    if let Some(c) = config {
        c.apply(&mut rules)?;
    }
    let mut engine = Engine::new(rules).context("building the keyword search")?;
    if let Some(c) = config {
        engine.allow(c.allow.clone());
    }
    Ok(engine)
}

/// `--threads N`: the size of the worker pool.
fn threads(n: Option<usize>) -> anyhow::Result<()> {
    if let Some(n) = n {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .context("starting worker threads")?;
    }
    Ok(())
}

fn confidence(c: ConfidenceArg) -> Confidence {
    match c {
        ConfidenceArg::Low => Confidence::Low,
        ConfidenceArg::Medium => Confidence::Medium,
        ConfidenceArg::High => Confidence::High,
    }
}

/// `leaksweep redact INPUT... (-o OUT | --in-place)`: 0 when nothing
/// needed redacting, 1 when something was, 2 when an input failed (its
/// copy is not written; the other inputs are still redacted).
pub fn redact(args: RedactArgs) -> anyhow::Result<Outcome> {
    let start = Instant::now();
    if args.inputs.iter().any(|p| p.as_os_str() == "-") {
        bail!(Usage(
            "redact writes files: name the files or directories to redact, not '-'".into()
        ));
    }
    let config = Config::find(args.config.as_deref(), args.no_config)?;
    let engine = engine(&args.rules, config.as_ref(), &[], &[])?;
    threads(args.threads)?;
    let msgs = Messages::new(args.quiet);
    // The output directory is never an input: a re-run into a directory
    // under the input (`redact logs -o logs/clean`) must not copy the last
    // run's copies again, nested one level deeper each time.
    let out_dir = args
        .output
        .as_deref()
        .and_then(|o| fs::metadata(o).ok())
        .filter(Metadata::is_dir)
        .map(|m| (m.dev(), m.ino()));
    let skip = |p: &Path| {
        config.as_ref().is_some_and(|c| c.skips(p))
            || out_dir.is_some_and(|d| {
                fs::metadata(p).is_ok_and(|m| m.is_dir() && (m.dev(), m.ino()) == d)
            })
    };
    // Another run's temporary copies (live, or left by a killed run and
    // about to be removed) are not inputs.
    let ours = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(sanitize::TEMP_PREFIX))
    };
    let files: Vec<PathBuf> = discover(&args.inputs, args.follow, &skip, &msgs)
        .into_iter()
        .filter_map(|i| match i {
            Input::File(p) if !ours(&p) => Some(p),
            Input::File(_) | Input::Stdin | Input::Object(_) => None,
        })
        .collect();
    let plan = match &args.output {
        Some(out) => sanitize::plan(&args.inputs, &files, out)?,
        // In place through a symbolic link means the file it points to;
        // a file named twice (or through a link too) is redacted once.
        None => {
            let mut seen = HashSet::new();
            files
                .iter()
                .map(|p| (p.clone(), fs::canonicalize(p).unwrap_or_else(|_| p.clone())))
                .filter(|(_, real)| seen.insert(real.clone()))
                .collect()
        }
    };
    let marker = match &args.marker {
        Some(text) => sanitize::Marker::Fixed(text.clone()),
        None => {
            let path = args
                .marker_key
                .clone()
                .or_else(|| std::env::var_os("LEAKSWEEP_MARKER_KEY").map(PathBuf::from))
                .or_else(sanitize::key::default_path)
                .context(
                    "no place for the marker key: set XDG_STATE_HOME or HOME, or give --marker-key FILE",
                )?;
            sanitize::Marker::Keyed(sanitize::key::load_or_create(&path)?)
        }
    };
    let min = confidence(args.min_confidence);
    let limits = Limits {
        max_depth: usize::from(args.max_depth),
        max_decoded: args.max_decoded,
        max_ratio: args.max_ratio,
        // redact copies binary members through untouched; it never reads them as text.
        binary_as_text: false,
        // redact decodes every HAR string, to replace a secret in it.
        max_har_string: u64::MAX,
    };
    if progress::wanted(&args.progress, args.quiet) {
        let sizes = plan
            .iter()
            .map(|(i, _)| fs::metadata(i).map_or(0, |m| m.len()));
        progress::start(sizes.sum());
    }
    let done: Vec<BTreeMap<String, u64>> = plan
        .par_iter()
        .map_init(
            || engine.clone(),
            |engine, (input, output)| {
                let _done = Done(fs::metadata(input).map_or(0, |m| m.len()));
                let mut r = Redactor::new(engine, min, marker.clone(), limits);
                let name = display(input);
                match sanitize::file(&mut r, input, output, args.in_place) {
                    Ok(()) => {
                        if !args.quiet {
                            messages::line(&format!(
                                "leaksweep: {}: {} -> {}",
                                redact::escape(name.as_bytes()),
                                tally(&r.counts),
                                redact::escape(display(output).as_bytes())
                            ));
                        }
                        r.counts
                    }
                    Err(e) => {
                        let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
                        if e.downcast_ref::<sanitize::Partial>().is_some() {
                            msgs.error(&name, chain.join(": "));
                            return r.counts;
                        }
                        msgs.error(&name, format_args!("{}; nothing written", chain.join(": ")));
                        BTreeMap::new()
                    }
                }
            },
        )
        .collect();
    progress::finish();
    let mut all: BTreeMap<String, u64> = BTreeMap::new();
    for counts in &done {
        for (rule, n) in counts {
            *all.entry(rule.clone()).or_default() += n;
        }
    }
    let total: u64 = all.values().sum();
    if !args.quiet {
        messages::line(&format!(
            "leaksweep: {} files in {:.2} s: {}; {} errors",
            plan.len(),
            start.elapsed().as_secs_f64(),
            tally(&all),
            msgs.errors()
        ));
    }
    Ok(Outcome {
        findings: total,
        incomplete: msgs.errors() > 0,
    })
}

/// Counts an input's bytes as done when it goes out of scope.
struct Done(u64);

impl Drop for Done {
    fn drop(&mut self) {
        progress::add(self.0);
    }
}

/// Bytes on disk of each input (0 for stdin and what cannot be read).
fn disk_sizes(inputs: &[Input]) -> Vec<u64> {
    inputs
        .iter()
        .map(|i| match i {
            Input::Stdin => 0,
            Input::File(p) => fs::metadata(p).map_or(0, |m| m.len()),
            Input::Object(o) => o.size,
        })
        .collect()
}

/// `3 secrets redacted (github-pat-classic 2, jwt 1)`.
fn tally(counts: &BTreeMap<String, u64>) -> String {
    let total: u64 = counts.values().sum();
    if total == 0 {
        return "nothing to redact".into();
    }
    let rules: Vec<String> = counts.iter().map(|(r, n)| format!("{r} {n}")).collect();
    format!(
        "{total} secret{} redacted ({})",
        if total == 1 { "" } else { "s" },
        rules.join(", ")
    )
}

/// The reporter thread: writes every batch it receives, in order.
/// `known` holds a baseline's fingerprints, left out. With `--state`,
/// `seen` holds the fingerprints reported so far: a secret among them is
/// not reported again, and each new one is added.
fn report(
    rx: Receiver<Vec<Finding>>,
    out_file: Option<File>,
    settings: &Settings,
    rules: &[Rule],
    known: Option<HashSet<String>>,
    mut seen: Option<HashSet<String>>,
    msgs: &Messages,
) -> Reported {
    let stdout: Box<dyn Write> = match out_file {
        Some(f) => Box::new(f),
        // On the terminal the progress line is on: findings above it.
        None if io::stdout().is_terminal() => Box::new(progress::Above(io::stdout().lock())),
        None => Box::new(io::stdout().lock()),
    };
    let mut reporter = match &settings.baseline_out {
        Some(path) => Reporter::Baseline(baseline::Collect::new(path)),
        None if settings.group => Reporter::Group(report::group::Group::new(
            io::BufWriter::new(stdout),
            settings.format,
        )),
        None => Reporter::new(
            settings.format,
            io::BufWriter::new(stdout),
            settings.color,
            rules,
        ),
    };
    let mut counts = Counts::default();
    let mut by_rule = BTreeMap::new();
    let mut result = reporter.begin();
    // Grouped, every finding of a secret new to this run counts in its
    // record: the run's fingerprints join `seen` at the end.
    let mut fresh = HashSet::new();
    for mut batch in rx {
        if let Some(known) = &known {
            batch.retain(|f| !known.contains(&f.fingerprint));
        }
        if let Some(seen) = &mut seen {
            if settings.group {
                batch.retain(|f| !seen.contains(&f.fingerprint));
                fresh.extend(batch.iter().map(|f| f.fingerprint.clone()));
            } else {
                batch.retain(|f| seen.insert(f.fingerprint.clone()));
            }
        }
        for f in &batch {
            counts.add(f.confidence);
            *by_rule.entry(f.rule.clone()).or_insert(0) += 1;
        }
        // After a write error (a closed pipe) keep draining, so workers
        // never block on a full channel, but stop writing.
        if result.is_ok() {
            result = reporter.batch(&batch);
        }
    }
    if result.is_ok() {
        if let Reporter::Sarif(s) = &mut reporter {
            s.invocation(msgs.errors() == 0, &msgs.notices());
        }
        result = reporter.finish();
    }
    if let Some(seen) = &mut seen {
        seen.extend(fresh);
    }
    Reported {
        counts,
        by_rule,
        result,
        seen,
    }
}

/// What the reporter thread hands back: the findings reported, counted by
/// confidence and by rule; how writing them went; and, under `--state`,
/// the fingerprints reported so far.
struct Reported {
    counts: Counts,
    by_rule: BTreeMap<String, u64>,
    result: io::Result<()>,
    seen: Option<HashSet<String>>,
}

/// Scanning one input: holds what every stage of it needs, and counts the
/// bytes scanned. Every problem is reported through `msgs` with the input's
/// path (and the archive member's, where there is one).
struct Scan<'a> {
    engine: &'a Engine,
    origin: &'a Origin,
    msgs: &'a Messages,
    send: &'a (dyn Fn(Vec<Finding>) + Sync),
    limits: Limits,
    bytes: u64,
    /// Bytes of this input already counted on the progress line.
    progressed: u64,
    /// `--state`: what earlier runs scanned, and what this one records.
    ledger: Option<&'a Ledger>,
    /// An error was reported for this input: its state does not advance.
    failed: bool,
    /// The "NUL bytes, scanned as text" note was given for this input.
    nul_noted: bool,
}

impl Scan<'_> {
    fn input(&mut self, input: &Input) {
        match input {
            Input::Stdin => self.stream(io::stdin()),
            Input::Object(o) => {
                self.stream(o.open());
                if let Some(ledger) = self.ledger {
                    if self.failed {
                        ledger.keep_object(&o.url);
                    } else {
                        ledger.record_object(o.state());
                    }
                }
            }
            Input::File(path) => {
                if let Err(e) = self.file(path) {
                    self.fail(&self.origin.path.clone(), io_cause(&e));
                }
            }
        }
    }

    fn file(&mut self, path: &Path) -> io::Result<()> {
        let mut file = File::open(path)?;
        let meta = file.metadata()?;
        if meta.file_type().is_fifo() {
            self.stream(file);
            return Ok(());
        }
        let len = meta.len();
        let mut head = Vec::with_capacity(HEAD);
        (&mut file).take(HEAD as u64).read_to_end(&mut head)?;
        let plan = self.ledger.map(|l| l.plan(&meta, &head, &file));
        let samples = samples(&file, len);
        let blocks: Vec<&[u8]> = samples.iter().map(Vec::as_slice).collect();
        let mut kind = detect::sniff_blocks(&head, &blocks);
        if kind == Sniff::Binary && self.limits.binary_as_text {
            kind = Sniff::Text;
        }
        if kind == Sniff::Text
            && (detect::has_nul(&head) || blocks.iter().any(|b| detect::has_nul(b)))
        {
            self.note_nul(None);
        }
        match kind {
            Sniff::Binary => self.binary(),
            // Read whole by an earlier run, and unchanged since.
            Sniff::Container(_) if plan == Some(Plan::Unchanged) => {
                self.remember(&file, &meta, &head, None);
            }
            Sniff::Container(c) => {
                file.rewind()?;
                let kept = file.try_clone()?;
                if c == Container::Zip {
                    unpack::file(file, c, self.limits, self);
                } else {
                    // Counted on the progress line as it is read.
                    let read = Arc::new(AtomicU64::new(0));
                    let on_disk = progress::OnDisk {
                        inner: file,
                        read: read.clone(),
                    };
                    unpack::stream(on_disk, c, self.limits, self);
                    self.progressed += read.load(Ordering::Relaxed);
                }
                self.remember(&kept, &meta, &head, Some((len, 0, true)));
            }
            // A HAR is walked whole each time it changes.
            Sniff::Text if har::sniff(&head) => {
                if plan == Some(Plan::Unchanged) {
                    self.remember(&file, &meta, &head, None);
                    return Ok(());
                }
                file.rewind()?;
                self.har_file(&mut file, len, None)?;
                self.remember(&file, &meta, &head, Some((len, 0, true)));
            }
            Sniff::Text => {
                let (start, lines) = match plan {
                    Some(Plan::Resume { start, lines }) => (start, lines),
                    _ => (0, 0),
                };
                if len >= MAP_MIN {
                    if let Ok(Some(map)) = Guarded::map(&file, len) {
                        let done = self.mapped(&map, len, start, lines);
                        self.remember(&file, &meta, &head, done.map(|(s, l)| (s, l, false)));
                        return Ok(());
                    }
                }
                if self.ledger.is_some() && len < MAP_MIN {
                    // Small: read whole, to scan from `start` and find
                    // where its last complete line ends.
                    let mut bytes = Vec::new();
                    let read = file
                        .rewind()
                        .and_then(|()| (&mut file).take(len).read_to_end(&mut bytes));
                    if let Err(e) = read {
                        self.remember(&file, &meta, &head, None);
                        return Err(e);
                    }
                    if (bytes.len() as u64) < len {
                        self.fail(
                            &self.origin.path.clone(),
                            format_args!(
                                "file shrank from {len} to {} bytes while being read (rotated or truncated?); rescan it",
                                bytes.len()
                            ),
                        );
                        self.remember(&file, &meta, &head, None);
                        return Ok(());
                    }
                    let mark = self.slice(&bytes, start, lines, &|_| {}, &|_| {});
                    self.bytes += (bytes.len() as u64).saturating_sub(start);
                    self.remember(&file, &meta, &head, Some((mark.0, mark.1, false)));
                    return Ok(());
                }
                // Small files, and files that cannot be mapped: stream them,
                // starting with the head already read. Under `--state` such
                // a file is read whole each time, and its entry kept.
                let kept = self.ledger.is_some().then(|| head.clone());
                self.plain(io::Cursor::new(head).chain(&file));
                if let Some(head) = kept {
                    self.remember(&file, &meta, &head, None);
                }
            }
        }
        Ok(())
    }

    /// Scans a HAR file of length `len` (`member` of this input, if in an
    /// archive), mapped when large.
    fn har_file(&mut self, file: &mut File, len: u64, member: Option<&str>) -> io::Result<()> {
        let map = if len >= MAP_MIN {
            Guarded::map(file, len)?
        } else {
            None
        };
        let Some(map) = map else {
            let mut bytes = Vec::new();
            file.take(len).read_to_end(&mut bytes)?;
            self.har(member, &bytes, &|_| {});
            return Ok(());
        };
        let released = AtomicUsize::new(0);
        self.har(member, map.bytes(), &|n| {
            map.release(released.swap(n, Ordering::Relaxed), n);
        });
        if let Some(now) = map.truncated() {
            self.fail(
                &self.name(member),
                format_args!(
                    "file shrank from {len} to {now} bytes while being scanned; its findings are incomplete, rescan it"
                ),
            );
        }
        Ok(())
    }

    /// Scans a whole HAR (`member` of this input, if in an archive) held
    /// in memory, and sends its findings. A HAR that is not valid JSON is
    /// reported (the input is then incomplete) and the part that could
    /// not be walked is scanned as text.
    fn har(&mut self, member: Option<&str>, bytes: &[u8], release: &(dyn Fn(usize) + Sync)) {
        let origin = &member_origin(self.origin, member);
        self.bytes += bytes.len() as u64;
        let limit = usize::try_from(self.limits.max_har_string).unwrap_or(usize::MAX);
        let Some(scanned) = har::scan(self.engine, bytes, origin, release, limit) else {
            (self.send)(scan_slice(self.engine, bytes, origin));
            return;
        };
        for l in &scanned.long {
            let at = match l.entry {
                Some(e) => format!("entry {e}, {}", l.field),
                None => format!("log.{}", l.field),
            };
            let size = match l.span.len() {
                n if n >= 1_000_000 => format!("{:.1} MB", n as f64 / 1e6),
                n => format!("{:.1} KB", n as f64 / 1e3),
            };
            if l.base64 {
                self.fail(
                    &self.name(member),
                    format_args!(
                        "{at}: a base64 body of {size} does not fit --max-har-string; scanned as text, not decoded (raise --max-har-string to decode it)"
                    ),
                );
            } else {
                self.msgs.note(
                    &self.name(member),
                    format_args!(
                        "{at}: a string of {size} does not fit --max-har-string; scanned as text where it lies in the file"
                    ),
                );
            }
        }
        if let Some(b) = &scanned.broken {
            let cut = if b.error.at >= bytes.len() {
                " (cut off mid-write?)"
            } else {
                ""
            };
            self.fail(
                &self.name(member),
                format_args!(
                    "HAR is not valid JSON: {} at line {}, byte {}{cut}; scanned as plain text from byte {}",
                    b.error.what, b.line, b.error.at, b.text_from
                ),
            );
        }
        (self.send)(scanned.findings);
    }

    /// Scans a mapped file from `start`, where line `lines + 1` begins.
    /// Returns how far its complete lines reach and how many lines that is
    /// (see [`Scan::slice`]), or None when the file shrank meanwhile.
    fn mapped(&mut self, map: &Guarded, len: u64, start: u64, lines: u64) -> Option<(u64, u64)> {
        // Each chunk's pages leave memory once it is scanned, and count on
        // the progress line.
        let counted = AtomicU64::new(0);
        let release = |r: Range<usize>| {
            map.release(r.start, r.end);
            counted.fetch_add(r.len() as u64, Ordering::Relaxed);
            progress::add(r.len() as u64);
        };
        // A file cut short while mapped reads as zeros past its new end:
        // findings there are dropped as they come.
        let within = |found: &mut Vec<Finding>| {
            if let Some(now) = map.truncated() {
                found.retain(|f| f.offset.is_some_and(|o| o < now));
            }
        };
        let mark = self.slice(map.bytes(), start, lines, &release, &within);
        self.progressed += counted.into_inner();
        self.bytes += len.saturating_sub(start);
        let shrunk = map.truncated();
        if let Some(now) = shrunk {
            self.bytes = now.saturating_sub(start);
            self.fail(
                &self.origin.path.clone(),
                format_args!(
                    "file shrank from {len} to {now} bytes while being scanned (rotated or truncated?); findings past byte {now} not read before the cut were dropped, rescan it"
                ),
            );
        }
        shrunk.is_none().then_some(mark)
    }

    /// Scans `bytes[start..]`, where line `lines + 1` begins, sending the
    /// findings chunk by chunk as they are found (what `trim` leaves of
    /// each batch), and returns,
    /// under `--state`, where the last complete line ends and the newlines
    /// before it (else zeros: nobody asks).
    fn slice(
        &self,
        bytes: &[u8],
        start: u64,
        lines: u64,
        release: &(dyn Fn(Range<usize>) + Sync),
        trim: &(dyn Fn(&mut Vec<Finding>) + Sync),
    ) -> (u64, u64) {
        let from = usize::try_from(start).map_or(bytes.len(), |s| s.min(bytes.len()));
        let rest = &bytes[from..];
        let moved = |r: Range<usize>| release(from + r.start..from + r.end);
        let send = self.send;
        let emit = |mut found: Vec<Finding>| {
            for f in &mut found {
                f.offset = f.offset.map(|o| o + from as u64);
                f.line = f.line.map(|l| l + lines);
            }
            trim(&mut found);
            send(found);
        };
        scan_slice_streaming(self.engine, rest, self.origin, &moved, &emit);
        if self.ledger.is_some() {
            // The next run starts at a line start at least a match's reach
            // before the end, so that a match still being written (a PEM
            // block missing its END line) is seen whole, and owned, then.
            // What it reads again twice is reported once, by fingerprint.
            let keep = rest.len().saturating_sub(self.engine.overlap());
            let end = memchr::memrchr(b'\n', &rest[..keep]).map_or(0, |i| i + 1);
            (
                (from + end) as u64,
                lines + count_newlines(&rest[..end]) as u64,
            )
        } else {
            (0, 0)
        }
    }

    /// Under `--state`: records a file read to `done` (bytes scanned, their
    /// newlines, read whole), or keeps its last entry when this run did not
    /// finish it.
    fn remember(&self, file: &File, meta: &Metadata, head: &[u8], done: Option<(u64, u64, bool)>) {
        let Some(ledger) = self.ledger else {
            return;
        };
        match done {
            Some((scanned, lines, whole)) if !self.failed => ledger.record(state::entry(
                &self.origin.path,
                file,
                meta,
                head,
                scanned,
                lines,
                whole,
            )),
            _ => ledger.keep(meta),
        }
    }

    /// Reports an error about this input (or one of its members).
    fn fail(&mut self, name: &str, cause: impl std::fmt::Display) {
        self.failed = true;
        self.msgs.error(name, cause);
    }

    /// Sniffs a stream (stdin, a FIFO), then scans or decodes it.
    fn stream<R: Read + Send + 'static>(&mut self, reader: R) {
        let (kind, mut rest) = sniff_stream(reader);
        match kind {
            Sniff::Binary if self.limits.binary_as_text => self.plain(rest),
            Sniff::Binary => match rest.take_error() {
                Some(e) => self.fail(&self.origin.path.clone(), io_cause(&e)),
                None => self.binary(),
            },
            Sniff::Container(c) => unpack::stream(rest, c, self.limits, self),
            Sniff::Text => self.plain(rest),
        }
    }

    fn binary(&self) {
        self.msgs.skip(&self.origin.path, unpack::BINARY);
    }

    /// Says once per input (and per archive member) that NUL bytes were met in text that is
    /// scanned anyway (a log after `copytruncate`, a sparse file).
    fn note_nul(&mut self, member: Option<&str>) {
        // Each archive member is its own file; the input itself is noted
        // once, however it is read on.
        if member.is_some() || !std::mem::replace(&mut self.nul_noted, true) {
            self.msgs.note(
                &self.name(member),
                "NUL bytes in text (truncated, preallocated or sparse?): scanned as text around them",
            );
        }
    }

    /// Scans a plain text stream whose head was sniffed already.
    fn plain<R: Read>(&mut self, reader: R) {
        let before = self.bytes;
        if let Err(e) = self.text(None, &mut { reader }) {
            self.fail(
                &self.origin.path.clone(),
                format_args!(
                    "read failed after {} bytes: {}",
                    self.bytes - before,
                    io_cause(&e)
                ),
            );
        }
    }

    /// The name of an archive member in messages: `path!member`.
    fn name(&self, member: Option<&str>) -> String {
        match member {
            Some(m) => format!("{}!{m}", self.origin.path),
            None => self.origin.path.clone(),
        }
    }
}

impl Visit for Scan<'_> {
    fn text(&mut self, member: Option<&str>, reader: &mut dyn Read) -> io::Result<()> {
        let mut head = Vec::with_capacity(HEAD);
        if let Err(e) = (&mut *reader).take(HEAD as u64).read_to_end(&mut head) {
            self.stream_text(member, &mut io::Cursor::new(head))?;
            return Err(e);
        }
        if detect::has_nul(&head) {
            self.note_nul(member);
        }
        if har::sniff(&head) {
            return self.spooled_har(member, head, reader);
        }
        self.stream_text(member, &mut io::Cursor::new(head).chain(reader))
    }

    fn skip(&mut self, member: Option<&str>, why: &str) {
        self.msgs.skip(&self.name(member), why);
    }

    fn error(&mut self, member: Option<&str>, cause: &dyn std::fmt::Display) {
        self.fail(&self.name(member), cause);
    }

    fn note(&mut self, member: Option<&str>, what: &dyn std::fmt::Display) {
        self.msgs.note(&self.name(member), what);
    }
}

impl Scan<'_> {
    /// A HAR stream (stdin, a decompressed file, an archive member) is
    /// walked whole: it is copied to an unlinked temporary file first,
    /// which is mapped, so memory stays bounded whatever its size. A read
    /// error ends the copy; what was read is still scanned.
    fn spooled_har(
        &mut self,
        member: Option<&str>,
        head: Vec<u8>,
        reader: &mut dyn Read,
    ) -> io::Result<()> {
        let mut tmp = tempfile::tempfile().map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot create a temporary file to read the HAR from: {e}"),
            )
        })?;
        tmp.write_all(&head)?;
        let copied = io::copy(reader, &mut tmp);
        let len = tmp.stream_position()?;
        tmp.rewind()?;
        self.har_file(&mut tmp, len, member)?;
        copied.map(drop)
    }

    /// Scans a text stream to its end.
    fn stream_text(&mut self, member: Option<&str>, reader: &mut dyn Read) -> io::Result<()> {
        let origin = &member_origin(self.origin, member);
        let send = self.send;
        match scan_reader(self.engine, reader, origin, &mut |b| send(b)) {
            Ok(n) => {
                self.bytes += n;
                Ok(())
            }
            Err(StreamError { bytes, error }) => {
                self.bytes += bytes;
                Err(error)
            }
        }
    }
}

/// Blocks sampled across a file beyond its head, for the binary-or-text
/// decision (see [`detect::sample_offsets`]); a block that cannot be read
/// is left out.
fn samples(file: &File, len: u64) -> Vec<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    detect::sample_offsets(len)
        .into_iter()
        .filter_map(|at| {
            let mut block = vec![0; detect::SAMPLE];
            let n = file.read_at(&mut block, at).ok()?;
            block.truncate(n);
            Some(block)
        })
        .collect()
}

/// Who the findings of `member` of an input belong to.
fn member_origin<'o>(origin: &'o Origin, member: Option<&str>) -> Cow<'o, Origin> {
    match member {
        None => Cow::Borrowed(origin),
        Some(m) => Cow::Owned(Origin {
            member: Some(m.to_owned()),
            ..origin.clone()
        }),
    }
}

/// Whether stdin carries data (a pipe or a file), not a terminal or nothing.
fn stdin_is_data() -> bool {
    // SAFETY: fstat on fd 0 with a zeroed, properly sized stat buffer.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstat(0, &mut st) != 0 {
            return false;
        }
        let fmt = st.st_mode & libc::S_IFMT;
        fmt == libc::S_IFIFO || fmt == libc::S_IFREG || fmt == libc::S_IFSOCK
    }
}

fn summary(inputs: &[Input], bytes: u64, c: Counts, msgs: &Messages, start: Instant) {
    let secs = start.elapsed().as_secs_f64();
    let mb = bytes as f64 / 1e6;
    messages::line(&format!(
        "leaksweep: {}, {mb:.1} MB in {secs:.2} s ({:.0} MB/s); {} ({} high, {} medium, {} low); {} skipped, {}",
        counted(inputs.len() as u64, "input"),
        mb / secs.max(1e-9),
        counted(c.total(), "finding"),
        c.high,
        c.medium,
        c.low,
        msgs.skipped(),
        counted(msgs.errors(), "error"),
    ));
}

/// `--stats`: per rule that searched or found anything, its findings
/// reported, the windows its regex searched and the time that took, the
/// slowest first.
fn stats(engine: &Engine, found: &BTreeMap<String, u64>) {
    let mut rows: Vec<(&str, u64, u64, u64)> = engine
        .rules()
        .iter()
        .zip(engine.rule_stats())
        .map(|(r, (windows, nanos))| {
            let id = r.spec.id.as_str();
            (id, found.get(id).copied().unwrap_or(0), windows, nanos)
        })
        .filter(|&(_, n, windows, _)| n > 0 || windows > 0)
        .collect();
    rows.sort_by(|a, b| b.3.cmp(&a.3).then(a.0.cmp(b.0)));
    messages::line(&format!(
        "leaksweep: stats: {:<36} {:>9} {:>10} {:>10}",
        "rule", "findings", "windows", "regex ms"
    ));
    for (id, n, windows, nanos) in rows {
        messages::line(&format!(
            "leaksweep: stats: {id:<36} {n:>9} {windows:>10} {:>10.1}",
            nanos as f64 / 1e6
        ));
    }
}

/// `1 input`, `2 inputs`.
fn counted(n: u64, what: &str) -> String {
    match n {
        1 => format!("1 {what}"),
        _ => format!("{n} {what}s"),
    }
}

/// A usage error: exit status 2, message without a backtrace.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// The rules grouped by provider, providers in alphabetical order (any
/// case), each one's rules in load order; rules that name none come last.
fn by_provider(rules: &Rules) -> Vec<(&str, Vec<&RuleSpec>)> {
    let mut groups: Vec<(&str, Vec<&RuleSpec>)> = Vec::new();
    for r in &rules.rules {
        let p = r.spec.provider.as_deref().unwrap_or("(no provider)");
        match groups.iter_mut().find(|(q, _)| *q == p) {
            Some((_, list)) => list.push(&r.spec),
            None => groups.push((p, vec![&r.spec])),
        }
    }
    groups.sort_by_key(|(p, _)| (p.starts_with('('), p.to_lowercase()));
    groups
}

/// `leaksweep rules list|check`.
pub fn rules(cmd: RulesCommand) -> anyhow::Result<Outcome> {
    match cmd {
        RulesCommand::List { rules } => {
            let rules = Rules::load(&rules)?;
            let mut out = io::stdout().lock();
            for (provider, members) in by_provider(&rules) {
                let n = members.len();
                writeln!(
                    out,
                    "{provider} ({n} rule{})",
                    if n == 1 { "" } else { "s" }
                )?;
                for s in members {
                    writeln!(
                        out,
                        "  {:<32} {:<15} {:<7} {:<40} {}",
                        s.id,
                        s.kind.as_str(),
                        s.confidence.as_str(),
                        s.keywords.join(","),
                        s.name
                    )?;
                }
            }
            Ok(Outcome {
                findings: 0,
                incomplete: false,
            })
        }
        RulesCommand::Check { paths } => {
            let rules = if paths.is_empty() {
                Rules::builtin()?
            } else {
                Rules::from_paths(&paths)?
            };
            let failures = check::check(&rules);
            for f in &failures {
                messages::line(&format!("leaksweep: {f}"));
            }
            let examples: usize = rules.rules.iter().map(|r| r.spec.examples.len()).sum();
            let counter: usize = rules
                .rules
                .iter()
                .map(|r| r.spec.counter_examples.len())
                .sum();
            println!(
                "{} rules, {examples} examples, {counter} counter-examples: {}",
                rules.len(),
                if failures.is_empty() {
                    "all pass".to_string()
                } else {
                    format!("{} failures", failures.len())
                }
            );
            Ok(Outcome {
                findings: failures.len() as u64,
                incomplete: false,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        let o = |findings, incomplete| {
            Outcome {
                findings,
                incomplete,
            }
            .exit_code()
        };
        assert_eq!(o(0, false), 0);
        assert_eq!(o(3, false), 1);
        assert_eq!(o(0, true), 2);
        assert_eq!(o(3, true), 2);
    }
}
