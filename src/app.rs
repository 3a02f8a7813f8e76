//! Orchestration only: resolve settings, discover inputs, scan them in
//! parallel (rayon), send each input's findings to one reporter thread, and
//! compute the outcome from (findings, incomplete).

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{bail, Context};
use crossbeam_channel::{bounded, Receiver};
use rayon::prelude::*;

use crate::cli::{ColorArg, ConfidenceArg, FormatArg, RulesCommand, ScanArgs};
use crate::discover::{discover, display, io_cause, Input};
use crate::finding::{Confidence, Finding};
use crate::messages::{self, Messages};
use crate::report::{Counts, Format, Reporter};
use crate::rules::{check, Rules};
use crate::scan::chunk::{scan_reader, scan_slice, StreamError};
use crate::scan::locate::Origin;
use crate::scan::Engine;
use crate::source::detect::{sniff, Sniff, HEAD};
use crate::source::mmap::Guarded;

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
    color: bool,
    min_confidence: Confidence,
    show_secrets: bool,
}

pub fn scan(args: ScanArgs) -> anyhow::Result<Outcome> {
    let start = Instant::now();
    let rules = Rules::load(&args.rules)?;
    let engine = Engine::new(rules).context("building the keyword automaton")?;
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .context("starting worker threads")?;
    }
    let stdout_tty = io::stdout().is_terminal();
    let settings = Settings {
        format: match args.format {
            Some(FormatArg::Human) => Format::Human,
            Some(FormatArg::Json) => Format::Json,
            Some(FormatArg::Jsonl) => Format::Jsonl,
            None if stdout_tty => Format::Human,
            None => Format::Jsonl,
        },
        color: match args.color {
            ColorArg::Always => true,
            ColorArg::Never => false,
            ColorArg::Auto => stdout_tty && std::env::var_os("NO_COLOR").is_none(),
        },
        min_confidence: match args.min_confidence {
            ConfidenceArg::Low => Confidence::Low,
            ConfidenceArg::Medium => Confidence::Medium,
            ConfidenceArg::High => Confidence::High,
        },
        show_secrets: args.show_secrets,
    };
    let mut paths = args.paths.clone();
    if paths.is_empty() {
        if !stdin_is_data() {
            bail!(Usage(
                "no PATH given and stdin is not a pipe or a file; name a file or directory, or '-' for stdin"
                    .into()
            ));
        }
        paths.push("-".into());
    }
    let msgs = Messages::new(args.quiet);
    let inputs = discover(&paths, args.follow, &msgs);
    let bytes = AtomicU64::new(0);
    let (tx, rx) = bounded::<Vec<Finding>>(64);
    let (counts, write_result) = std::thread::scope(|s| {
        let reporter = s.spawn(|| report(rx, &settings));
        inputs.par_iter().for_each_init(
            || (tx.clone(), engine.clone()),
            |(tx, engine), input| {
                let origin = Origin {
                    path: match input {
                        Input::Stdin => "-".into(),
                        Input::File(p) => display(p),
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
                        // A closed channel means the reporter stopped (broken
                        // pipe); the remaining scan is moot.
                        let _ = tx.send(batch);
                    }
                };
                let n = scan_input(engine, input, &origin, &msgs, send);
                bytes.fetch_add(n, Ordering::Relaxed);
            },
        );
        drop(tx);
        reporter
            .join()
            .unwrap_or_else(|_| (Counts::default(), Ok(())))
    });
    match write_result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(anyhow::Error::new(e).context("writing findings to stdout")),
        Ok(()) => {}
    }
    if !args.quiet {
        summary(&inputs, bytes.load(Ordering::Relaxed), counts, &msgs, start);
    }
    Ok(Outcome {
        findings: counts.total(),
        incomplete: msgs.errors() > 0,
    })
}

/// The reporter thread: writes every batch it receives, in order.
fn report(rx: Receiver<Vec<Finding>>, settings: &Settings) -> (Counts, io::Result<()>) {
    let stdout = io::stdout().lock();
    let mut reporter = Reporter::new(settings.format, io::BufWriter::new(stdout), settings.color);
    let mut counts = Counts::default();
    let mut result = reporter.begin();
    for batch in rx {
        for f in &batch {
            counts.add(f.confidence);
        }
        // After a write error (a closed pipe) keep draining, so workers
        // never block on a full channel, but stop writing.
        if result.is_ok() {
            result = reporter.batch(&batch);
        }
    }
    if result.is_ok() {
        result = reporter.finish();
    }
    (counts, result)
}

/// Scans one input, sending its findings; returns the bytes scanned.
/// Every problem is reported through `msgs` with the input's path.
fn scan_input(
    engine: &Engine,
    input: &Input,
    origin: &Origin,
    msgs: &Messages,
    mut send: impl FnMut(Vec<Finding>),
) -> u64 {
    let name = &origin.path;
    match input {
        Input::Stdin => stream(engine, io::stdin().lock(), origin, msgs, &mut send),
        Input::File(path) => match scan_file(engine, path, origin, msgs, &mut send) {
            Ok(n) => n,
            Err(e) => {
                msgs.error(name, io_cause(&e));
                0
            }
        },
    }
}

fn scan_file(
    engine: &Engine,
    path: &Path,
    origin: &Origin,
    msgs: &Messages,
    send: &mut dyn FnMut(Vec<Finding>),
) -> io::Result<u64> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.file_type().is_fifo() {
        return Ok(stream(engine, file, origin, msgs, send));
    }
    let len = meta.len();
    let mut head = Vec::with_capacity(HEAD);
    (&mut file).take(HEAD as u64).read_to_end(&mut head)?;
    if !text_or_note(&head, origin, msgs) {
        return Ok(0);
    }
    if len >= MAP_MIN {
        if let Ok(Some(map)) = Guarded::map(&file, len) {
            let mut found = scan_slice(engine, map.bytes(), origin);
            if let Some(now) = map.truncated() {
                found.retain(|f| f.offset.is_some_and(|o| o < now));
                msgs.error(
                    &origin.path,
                    format_args!(
                        "file shrank from {len} to {now} bytes while being scanned (rotated or truncated?); findings after byte {now} were dropped, rescan it"
                    ),
                );
                send(found);
                return Ok(now);
            }
            send(found);
            return Ok(len);
        }
    }
    // Small files, and files that cannot be mapped: stream them, starting
    // with the head already read and sniffed.
    let reader = io::Cursor::new(head).chain(file);
    Ok(scan_stream(engine, reader, origin, msgs, send))
}

/// Decides from the first block whether an input is text to scan; notes or
/// errors otherwise.
fn text_or_note(head: &[u8], origin: &Origin, msgs: &Messages) -> bool {
    match sniff(head) {
        Sniff::Text => true,
        Sniff::Binary => {
            msgs.skip(&origin.path, "binary file (NUL byte in the first 8 KiB)");
            false
        }
        Sniff::Container(kind) => {
            msgs.error(
                &origin.path,
                format_args!(
                    "{kind} input: decoding {kind} is not supported yet, so it was not scanned"
                ),
            );
            false
        }
    }
}

/// Sniffs the head of a stream (stdin, a FIFO), then scans it if it is text.
fn stream<R: Read>(
    engine: &Engine,
    mut reader: R,
    origin: &Origin,
    msgs: &Messages,
    send: &mut dyn FnMut(Vec<Finding>),
) -> u64 {
    let mut head = Vec::with_capacity(HEAD);
    if let Err(e) = (&mut reader).take(HEAD as u64).read_to_end(&mut head) {
        msgs.error(&origin.path, io_cause(&e));
        return 0;
    }
    if !text_or_note(&head, origin, msgs) {
        return 0;
    }
    let reader = io::Cursor::new(head).chain(reader);
    scan_stream(engine, reader, origin, msgs, send)
}

/// Scans a stream whose head was already sniffed as text.
fn scan_stream<R: Read>(
    engine: &Engine,
    reader: R,
    origin: &Origin,
    msgs: &Messages,
    send: &mut dyn FnMut(Vec<Finding>),
) -> u64 {
    match scan_reader(engine, reader, origin, send) {
        Ok(n) => n,
        Err(StreamError { bytes, error }) => {
            msgs.error(
                &origin.path,
                format_args!("read failed after {bytes} bytes: {}", io_cause(&error)),
            );
            bytes
        }
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
        "leaksweep: {} inputs, {mb:.1} MB in {secs:.2} s ({:.0} MB/s); {} findings ({} high, {} medium, {} low); {} skipped, {} errors",
        inputs.len(),
        mb / secs.max(1e-9),
        c.total(),
        c.high,
        c.medium,
        c.low,
        msgs.skipped(),
        msgs.errors(),
    ));
}

/// A usage error: exit status 2, message without a backtrace.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// `leaksweep rules list|check`.
pub fn rules(cmd: RulesCommand) -> anyhow::Result<Outcome> {
    match cmd {
        RulesCommand::List { rules } => {
            let rules = Rules::load(&rules)?;
            let mut out = io::stdout().lock();
            for r in &rules.rules {
                let s = &r.spec;
                writeln!(
                    out,
                    "{:<32} {:<15} {:<7} {:<40} {}",
                    s.id,
                    s.kind.as_str(),
                    s.confidence.as_str(),
                    s.keywords.join(","),
                    s.name
                )?;
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
