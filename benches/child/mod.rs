//! What the benches share for running a command and reading its cost:
//! environment knobs, the release binary, and one timed child process
//! with its peak RSS. A module, not a bench target: a bench includes it
//! with `mod child;`.

use std::io;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// A numeric environment knob (`_` separators allowed), or `default`.
pub fn env_u64(name: &str, default: u64) -> io::Result<u64> {
    match std::env::var(name) {
        Ok(v) => v
            .replace('_', "")
            .parse()
            .map_err(|e| io::Error::other(format!("{name}={v:?}: {e}"))),
        Err(_) => Ok(default),
    }
}

/// The target directory (`CARGO_TARGET_DIR` or `target`).
pub fn target_dir() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
}

/// Builds leaksweep in release mode and returns the binary's path.
pub fn release_binary() -> io::Result<PathBuf> {
    let status = Command::new("cargo")
        .args(["build", "--release", "--quiet"])
        .status()?;
    if !status.success() {
        return Err(io::Error::other("cargo build --release failed"));
    }
    Ok(target_dir().join("release").join("leaksweep"))
}

pub struct Measure {
    pub wall: Duration,
    /// Peak resident set of the child (`ru_maxrss`), KiB.
    pub maxrss_kib: u64,
    /// Exit status, or -1 when killed by a signal.
    pub exit: i32,
}

/// Runs `cmd` once (its stdin, stdout and stderr as the caller set them)
/// and waits for it: wall time, peak RSS and exit status.
pub fn measure(cmd: &mut Command) -> io::Result<Measure> {
    let start = Instant::now();
    let child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals; `pid` is our own unreaped child.
        if unsafe { libc::wait4(pid, &mut status, 0, &mut ru) } == pid {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    let wall = start.elapsed();
    drop(child);
    Ok(Measure {
        wall,
        maxrss_kib: ru.ru_maxrss as u64,
        exit: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        },
    })
}
