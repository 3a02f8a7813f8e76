//! The only writer of diagnostics to stderr. Every per-input problem goes
//! through [`Messages::error`] (which marks the scan incomplete, so the exit
//! status can never claim a clean scan) or [`Messages::skip`] (an input
//! deliberately not scanned, such as a binary file). Paths and causes are
//! escaped (a decoder's message may quote a header field), and causes never
//! carry scanned text, so no secret reaches stderr.

use std::fmt::Display;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::redact::escape;

#[derive(Debug, Default)]
pub struct Messages {
    errors: AtomicU64,
    skipped: AtomicU64,
    quiet: bool,
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
        line(&format!(
            "leaksweep: {}: {}",
            escape(path.as_bytes()),
            escape(cause.to_string().as_bytes())
        ));
    }

    /// An input that is deliberately not scanned.
    pub fn skip(&self, path: &str, why: impl Display) {
        self.skipped.fetch_add(1, Ordering::Relaxed);
        if !self.quiet {
            line(&format!(
                "leaksweep: {}: skipped: {}",
                escape(path.as_bytes()),
                escape(why.to_string().as_bytes())
            ));
        }
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
