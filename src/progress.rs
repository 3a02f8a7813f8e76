//! The progress line on stderr while a run goes on: bytes done of the
//! total, rate and time left. Shown only when stderr is a terminal and the
//! run is not `--quiet`; every other stderr line is printed above it
//! (through [`suspend`]), so the two never garble each other.
//!
//! Progress counts bytes on disk: a mapped plain file chunk by chunk as it
//! is scanned, any other input (compressed, archived, streamed) whole when
//! it is done.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

fn bar() -> Option<ProgressBar> {
    BAR.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Starts the line for `total` bytes, if stderr is a terminal.
pub fn start(total: u64) {
    if !std::io::stderr().is_terminal() {
        return;
    }
    let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{decimal_bytes}/{decimal_total_bytes} ({percent}%), {decimal_bytes_per_sec}, {eta} left",
    ) {
        pb.set_style(style);
    }
    pb.enable_steady_tick(Duration::from_millis(250));
    *BAR.lock().unwrap_or_else(|p| p.into_inner()) = Some(pb);
}

/// Counts `bytes` more as done.
pub fn add(bytes: u64) {
    if let Some(pb) = bar() {
        pb.inc(bytes);
    }
}

/// Removes the line.
pub fn finish() {
    if let Some(pb) = BAR.lock().unwrap_or_else(|p| p.into_inner()).take() {
        pb.finish_and_clear();
    }
}

/// Runs `f` (which writes to stderr) with the line out of the way.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    match bar() {
        Some(pb) => pb.suspend(f),
        None => f(),
    }
}
