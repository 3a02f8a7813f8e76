//! The progress line on stderr while a run goes on: bytes done of the
//! total, rate and time left. Shown only when stderr is a terminal (and,
//! by default, the run is not `--quiet`); every other stderr line, and
//! findings written to the same terminal, are printed above it (through
//! [`suspend`]), so that no stale line is left among them.
//!
//! Progress counts bytes on disk: a mapped plain file chunk by chunk as it
//! is scanned, a compressed or archived file as its compressed bytes are
//! read ([`OnDisk`]), any other input (stdin, a zip, a HAR) whole when it
//! is done.

use std::io::{self, IsTerminal, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

fn bar() -> Option<ProgressBar> {
    BAR.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Whether to show the line: `--progress` / `--no-progress`, else unless
/// `--quiet`; never when stderr is not a terminal.
pub fn wanted(asked: &crate::cli::ProgressArgs, quiet: bool) -> bool {
    shown(asked.show, asked.hide, quiet, io::stderr().is_terminal())
}

fn shown(on: bool, off: bool, quiet: bool, terminal: bool) -> bool {
    terminal && !off && (on || !quiet)
}

/// Starts the line for `total` bytes.
pub fn start(total: u64) {
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

/// A file read for decoding: the compressed bytes read count as done as
/// they are read, and in `read` for the caller.
pub struct OnDisk<R> {
    pub inner: R,
    pub read: Arc<AtomicU64>,
}

impl<R: Read> Read for OnDisk<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        add(n as u64);
        Ok(n)
    }
}

/// Findings written to the terminal the line is on: each write clears the
/// line first and draws it again after.
pub struct Above<W>(pub W);

impl<W: Write> Write for Above<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        suspend(|| self.0.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        suspend(|| self.0.flush())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_on_a_terminal_unless_quiet_or_asked_otherwise() {
        // (--progress, --no-progress, -q, stderr a terminal) → shown
        let cases = [
            ((false, false, false, true), true),
            ((false, false, true, true), false),
            ((true, false, true, true), true),
            ((false, true, false, true), false),
            ((true, false, false, false), false),
        ];
        for ((on, off, quiet, terminal), want) in cases {
            assert_eq!(
                shown(on, off, quiet, terminal),
                want,
                "{on} {off} {quiet} {terminal}"
            );
        }
    }

    #[test]
    fn bytes_read_from_disk_are_counted_as_they_are_read() {
        let read = Arc::new(AtomicU64::new(0));
        let mut r = OnDisk {
            inner: io::Cursor::new(vec![7u8; 10_000]),
            read: read.clone(),
        };
        let mut buf = [0u8; 4096];
        let n = r.read(&mut buf).unwrap_or(0);
        assert_eq!(read.load(Ordering::Relaxed), n as u64);
        let mut rest = Vec::new();
        let _ = r.read_to_end(&mut rest);
        assert_eq!(read.load(Ordering::Relaxed), 10_000);
    }
}
