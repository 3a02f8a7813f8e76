//! Temporary copies beside their target, named so that a later run can
//! tell a stale one (left by a run that was killed) from a live one:
//! `.leaksweep-redact-<pid>-<random>`, held under an exclusive `flock` for
//! as long as it is written. Before its first temporary file in a
//! directory, a run removes the ones there whose writer is gone: its
//! process no longer exists and the lock is free.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use tempfile::NamedTempFile;

pub const PREFIX: &str = ".leaksweep-redact-";

/// Directories already cleaned by this run.
static CLEANED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

/// Removes `dir`'s stale temporary files, once per run.
pub fn clean_once(dir: &Path) {
    let first = match CLEANED.lock() {
        Ok(mut set) => set
            .get_or_insert_with(HashSet::new)
            .insert(dir.to_path_buf()),
        Err(_) => false,
    };
    if first {
        remove_stale(dir);
    }
}

/// A locked temporary file in `dir`, stale ones there removed first.
pub fn create(dir: &Path) -> anyhow::Result<NamedTempFile> {
    clean_once(dir);
    let tmp = tempfile::Builder::new()
        .prefix(&format!("{PREFIX}{}-", std::process::id()))
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    // SAFETY: flock on a descriptor we own.
    if unsafe { libc::flock(tmp.as_file().as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let e = io::Error::last_os_error();
        return Err(e).context("cannot lock the temporary file");
    }
    Ok(tmp)
}

/// Removes `dir`'s temporary files left by runs that are gone. Best
/// effort: what cannot be checked is left.
pub fn remove_stale(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(PREFIX)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        if pid <= 0 || alive(pid) {
            continue;
        }
        let path = e.path();
        let Ok(f) = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&path)
        else {
            continue;
        };
        let Ok(m) = f.metadata() else { continue };
        if !m.is_file() || m.uid() != me {
            continue;
        }
        if locked(&f) {
            continue;
        }
        // Still the file that was checked: remove it.
        if fs::symlink_metadata(&path).is_ok_and(|n| (n.dev(), n.ino()) == (m.dev(), m.ino())) {
            let _ = fs::remove_file(&path);
        }
    }
}

/// A process with this id exists (here; one in another PID namespace may
/// not be seen, which is what the lock is for).
fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Another open file description holds a lock on `f`.
fn locked(f: &File) -> bool {
    // SAFETY: flock on a descriptor we own; released when `f` closes.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) != 0 }
}
