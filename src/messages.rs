//! The only writer of diagnostics to stderr. Every per-input problem goes
//! through [`Messages::error`] (which marks the scan incomplete, so the exit
//! status can never claim a clean scan) or [`Messages::skip`] (an input
//! deliberately not scanned, such as a binary file). Paths and causes are
//! escaped (a decoder's message may quote a header field), and causes never
//! carry scanned text, so no secret reaches stderr.

use std::fmt::Display;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::redact::escape;

#[derive(Debug, Default)]
pub struct Messages {
    errors: AtomicU64,
    skipped: AtomicU64,
    quiet: bool,
    /// The errors and skips as told, for formats that carry them (SARIF's
    /// tool notifications): the first [`KEPT`].
    kept: Mutex<Vec<Notice>>,
}

/// Errors and skips kept for the output at most (a sweep may skip many
/// thousand binary files; stderr has them all).
const KEPT: usize = 10_000;

/// An error or skip, as told (unescaped: each output escapes it its way).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub path: String,
    pub text: String,
    /// An error (the scan is incomplete), else a skip.
    pub error: bool,
}

impl Messages {
    /// `quiet` silences skip notes (errors are always printed).
    pub fn new(quiet: bool) -> Self {
        Messages {
            quiet,
            ..Messages::default()
        }
    }

    /// An input could not be read completely: prints
    /// `leaksweep: <path>: <cause>` and marks the scan incomplete.
    pub fn error(&self, path: &str, cause: impl Display) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let cause = cause.to_string();
        line(&format!(
            "leaksweep: {}: {}",
            escape(path.as_bytes()),
            escape(cause.as_bytes())
        ));
        self.keep(path, cause, true);
    }

    /// An input that is deliberately not scanned.
    pub fn skip(&self, path: &str, why: impl Display) {
        self.skipped.fetch_add(1, Ordering::Relaxed);
        let why = format!("skipped: {why}");
        if !self.quiet {
            line(&format!(
                "leaksweep: {}: {}",
                escape(path.as_bytes()),
                escape(why.as_bytes())
            ));
        }
        self.keep(path, why, false);
    }

    fn keep(&self, path: &str, text: String, error: bool) {
        if let Ok(mut kept) = self.kept.lock() {
            if kept.len() < KEPT {
                kept.push(Notice {
                    path: path.to_owned(),
                    text,
                    error,
                });
            }
        }
    }

    /// The errors and skips so far (the first 10,000), by path: workers
    /// tell them in whatever order they finish.
    pub fn notices(&self) -> Vec<Notice> {
        let mut kept = self.kept.lock().map(|k| k.clone()).unwrap_or_default();
        kept.sort_by(|a, b| (&a.path, &a.text).cmp(&(&b.path, &b.text)));
        kept
    }

    /// Something the user should know that neither stops nor skips
    /// anything (exit status unchanged), such as a file with NUL bytes
    /// scanned as text. Silenced by `quiet`.
    pub fn note(&self, path: &str, what: impl Display) {
        if !self.quiet {
            line(&format!(
                "leaksweep: {}: {}",
                escape(path.as_bytes()),
                escape(what.to_string().as_bytes())
            ));
        }
    }

    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }
}

/// An I/O error as a short cause, without the "(os error N)" noise.
pub fn io_cause(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_lowercase(),
        None => s,
    }
}

/// Writes one whole line to stderr under its lock, so lines from several
/// threads never interleave. A closed stderr is ignored: nothing else could
/// be told.
pub fn line(text: &str) {
    crate::progress::suspend(|| {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{text}");
    });
}
