//! `--state FILE`: what earlier runs scanned, so that a run from cron scans
//! only what is new and reports each secret once.
//!
//! A file is known by its identity — device, inode, and a hash of its first
//! bytes (an inode number can be reused) — not by its name, so rotation by
//! rename is followed: `app.log` renamed to `app.log.1` is read on from
//! where the last run stopped, and the new `app.log` from its start. A file
//! that shrank (copytruncate), or whose first bytes changed, is read from
//! its start. Plain text is scanned up to its end and recorded up to a line
//! start a match's reach before it, so a line or a PEM block being written
//! is read again, whole, next time. A
//! compressed or archived file is read whole, and not again while it is
//! unchanged. Files not seen in a run are dropped from the state. The
//! fingerprints of reported secrets are kept, so a secret is reported once
//! across runs and files: a rotated log compressed later gives nothing new.
//!
//! An object in object storage is known by its URL, ETag, size and
//! last-modified time: read whole, and not again while they are the same.
//!
//! The state only advances past what a run read completely: an input with
//! an error keeps its old entry, and the file is written (temp file, fsync,
//! rename) only when the run has delivered its findings. A lock file beside
//! it (`FILE.lock`, flock) keeps a second run out while one is running.
//! Neither file is reached through a symbolic link, both must be the
//! running user's, and their directory must not be writable by others
//! unless sticky: a root run must not be steered into creating or reading
//! a file someone else planted.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::finding::fingerprint;

/// Bytes at a file's start whose hash tells a file from a reused inode.
pub const HEAD_HASHED: usize = 4096;

/// The format version written in the file's `leaksweep_state` key.
const VERSION: u32 = 1;

/// Another run holds the state's lock.
#[derive(Debug, thiserror::Error)]
#[error("{0}: another leaksweep run holds this state's lock; not scanning")]
pub struct Locked(pub String);

#[derive(Serialize, Deserialize)]
struct StateFile {
    leaksweep_state: u32,
    files: Vec<FileState>,
    /// Absent in states written before objects were tracked.
    #[serde(default)]
    objects: Vec<ObjectState>,
    reported: Vec<String>,
}

/// What the state remembers of one object in object storage: it is read
/// again only when one of these changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectState {
    pub url: String,
    pub etag: Option<String>,
    pub size: u64,
    /// Its last-modified time as the store gives it.
    pub modified: String,
}

/// What the state remembers of one file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileState {
    /// Where it was last seen (for people reading the state).
    pub path: String,
    pub dev: u64,
    pub ino: u64,
    /// SHA-256 (hex) of its first `head_len` bytes.
    pub head: String,
    pub head_len: usize,
    /// Its size when it was scanned.
    pub size: u64,
    /// Bytes scanned: up to the last complete line, or all of a compressed
    /// or archived file.
    pub scanned: u64,
    /// Newlines in the scanned bytes: the line count to go on from.
    pub lines: u64,
    /// Read whole, as a compressed or archived file is.
    pub whole: bool,
    /// SHA-256 (hex) of the `tail_len` bytes just before `scanned`: a file
    /// rewritten in place with the same start and at least the same size
    /// is told from one that only grew. (Absent in states written before
    /// it was kept: such an entry is trusted as before.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tail: Option<String>,
    #[serde(default)]
    pub tail_len: u64,
}

/// What to do with a file, given the state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Unknown, shrunk or changed: read from the start.
    Fresh,
    /// Read on from `start`, which is line `lines + 1`.
    Resume { start: u64, lines: u64 },
    /// Read whole before and unchanged since.
    Unchanged,
}

/// The state of one run: the last run's entries, this run's, and the lock.
pub struct Ledger {
    path: PathBuf,
    _lock: File,
    prev: HashMap<(u64, u64), FileState>,
    next: Mutex<Vec<FileState>>,
    prev_objects: HashMap<String, ObjectState>,
    next_objects: Mutex<Vec<ObjectState>>,
    reported: HashSet<String>,
}

impl Ledger {
    /// Locks the state and reads it (a missing file is an empty state).
    pub fn open(path: &Path) -> anyhow::Result<Ledger> {
        let name = path.display().to_string();
        safe_dir(path).map_err(|why| anyhow::anyhow!("{name}: {why}"))?;
        let mut lock_path = path.as_os_str().to_owned();
        lock_path.push(".lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&lock_path)
            .map_err(|e| anyhow::anyhow!("{name}: cannot open its lock file: {}", no_follow(e)))?;
        owned(&lock).map_err(|why| anyhow::anyhow!("{name}: its lock file {why}; not scanning"))?;
        // SAFETY: flock on a descriptor this function owns; no memory is
        // involved.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::WouldBlock {
                return Err(Locked(name).into());
            }
            anyhow::bail!("{name}: cannot lock it: {e}");
        }
        let read = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)
            .map_err(no_follow)
            .and_then(|mut f| {
                owned(&f).map_err(|why| io::Error::new(io::ErrorKind::PermissionDenied, why))?;
                let mut bytes = Vec::new();
                f.read_to_end(&mut bytes).map(|_| bytes)
            });
        let state = match read {
            Ok(bytes) => serde_json::from_slice::<StateFile>(&bytes).map_err(|e| {
                anyhow::anyhow!(
                    "{name}: not a leaksweep state file, or a damaged one ({e}); \
                     move it away to start afresh"
                )
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => StateFile {
                leaksweep_state: VERSION,
                files: Vec::new(),
                objects: Vec::new(),
                reported: Vec::new(),
            },
            Err(e) => anyhow::bail!("{name}: cannot read it: {e}"),
        };
        if state.leaksweep_state != VERSION {
            anyhow::bail!(
                "{name}: state format {} is not the {VERSION} this leaksweep writes",
                state.leaksweep_state
            );
        }
        Ok(Ledger {
            path: path.to_owned(),
            _lock: lock,
            prev: state
                .files
                .into_iter()
                .map(|f| ((f.dev, f.ino), f))
                .collect(),
            next: Mutex::new(Vec::new()),
            prev_objects: state
                .objects
                .into_iter()
                .map(|o| (o.url.clone(), o))
                .collect(),
            next_objects: Mutex::new(Vec::new()),
            reported: state.reported.into_iter().collect(),
        })
    }

    /// The fingerprints reported by earlier runs.
    pub fn take_reported(&mut self) -> HashSet<String> {
        std::mem::take(&mut self.reported)
    }

    /// What to do with a file whose metadata is `meta` and whose first
    /// bytes are `head` (at least [`HEAD_HASHED`] of them, or all).
    /// `file` is read for the bytes before the last resume point.
    pub fn plan(&self, meta: &Metadata, head: &[u8], file: &File) -> Plan {
        let Some(prev) = self.prev.get(&(meta.dev(), meta.ino())) else {
            return Plan::Fresh;
        };
        let same_start =
            head.len() >= prev.head_len && fingerprint(&head[..prev.head_len]) == prev.head;
        let same_tail = match &prev.tail {
            None => true,
            Some(hash) => tail_hash(file, prev.scanned, prev.tail_len).as_ref() == Some(hash),
        };
        if !same_start || meta.len() < prev.scanned || !same_tail {
            Plan::Fresh
        } else if prev.whole {
            if meta.len() == prev.size {
                Plan::Unchanged
            } else {
                Plan::Fresh
            }
        } else {
            Plan::Resume {
                start: prev.scanned,
                lines: prev.lines,
            }
        }
    }

    /// Records a file scanned completely.
    pub fn record(&self, entry: FileState) {
        self.lock_next().push(entry);
    }

    /// Keeps the last run's entry for a file this run did not finish.
    pub fn keep(&self, meta: &Metadata) {
        if let Some(prev) = self.prev.get(&(meta.dev(), meta.ino())) {
            self.lock_next().push(prev.clone());
        }
    }

    /// Whether an object was read whole before and is the same now (same
    /// ETag, size and last-modified time); its entry is then kept.
    pub fn object_unchanged(&self, now: &ObjectState) -> bool {
        let same = self.prev_objects.get(&now.url) == Some(now);
        if same {
            self.record_object(now.clone());
        }
        same
    }

    /// Records an object read completely.
    pub fn record_object(&self, entry: ObjectState) {
        self.next_objects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(entry);
    }

    /// Keeps the last run's entry for an object this run did not finish.
    pub fn keep_object(&self, url: &str) {
        if let Some(prev) = self.prev_objects.get(url) {
            self.record_object(prev.clone());
        }
    }

    fn lock_next(&self) -> std::sync::MutexGuard<'_, Vec<FileState>> {
        // A worker that panicked while pushing left a whole Vec behind.
        self.next.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes this run's state atomically: a temp file in the same
    /// directory, fsync, rename over the old one, fsync the directory.
    pub fn save(self, reported: HashSet<String>) -> anyhow::Result<()> {
        let name = self.path.display().to_string();
        let mut files = self.next.into_inner().unwrap_or_else(|p| p.into_inner());
        // One file reached by two names is one entry: the furthest read.
        files.sort_by(|a, b| (a.dev, a.ino, b.scanned).cmp(&(b.dev, b.ino, a.scanned)));
        files.dedup_by_key(|f| (f.dev, f.ino));
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let mut objects = self
            .next_objects
            .into_inner()
            .unwrap_or_else(|p| p.into_inner());
        objects.sort_by(|a, b| a.url.cmp(&b.url));
        objects.dedup_by(|a, b| a.url == b.url);
        let mut reported: Vec<String> = reported.into_iter().collect();
        reported.sort_unstable();
        let state = StateFile {
            leaksweep_state: VERSION,
            files,
            objects,
            reported,
        };
        let mut bytes = serde_json::to_vec(&state)?;
        bytes.push(b'\n');
        replace_file(&self.path, &bytes)
            .map_err(|e| anyhow::anyhow!("{name}: cannot write the state: {e}"))
    }
}

/// A state directory others can write lets them plant the state or its
/// lock (a symbolic link to `/etc/nologin` that a root run would create):
/// refused, unless it is sticky (`/tmp`), where only a file's owner can
/// replace it and [`owned`] checks the files.
fn safe_dir(path: &Path) -> Result<(), String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let meta = fs::metadata(dir).map_err(|e| format!("its directory: {e}"))?;
    if meta.mode() & 0o002 != 0 && meta.mode() & 0o1000 == 0 {
        return Err(format!(
            "its directory {} is writable by other users (mode {:o}): keep the state \
             in a directory only you can write",
            dir.display(),
            meta.mode() & 0o7777
        ));
    }
    Ok(())
}

/// A state or lock file must be a regular file of the running user's:
/// another user's could be read or swapped under this run.
fn owned(f: &File) -> Result<(), String> {
    let meta = f.metadata().map_err(|e| e.to_string())?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if !meta.is_file() {
        return Err("is not a regular file".into());
    }
    if meta.uid() != me {
        return Err(format!(
            "is owned by uid {}, not by the running user ({me})",
            meta.uid()
        ));
    }
    Ok(())
}

/// O_NOFOLLOW's "too many levels of symbolic links" said plainly.
fn no_follow(e: io::Error) -> io::Error {
    if e.raw_os_error() == Some(libc::ELOOP) {
        io::Error::new(
            e.kind(),
            "is a symbolic link, which is not followed (remove it)",
        )
    } else {
        e
    }
}

/// Replaces `path` with `bytes` atomically: a temp file in the same
/// directory, fsync, rename over the old file, fsync the directory. A
/// failure leaves the old file as it was.
pub fn replace_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    File::open(&dir)?.sync_all()
}

/// Bytes hashed just before where a file was scanned to.
pub const TAIL_HASHED: u64 = 4096;

/// SHA-256 (hex) of `file`'s `len` bytes before `end`; None when they
/// cannot be read whole (the file shrank).
fn tail_hash(file: &File, end: u64, len: u64) -> Option<String> {
    use std::os::unix::fs::FileExt;
    let len = usize::try_from(len.min(end)).ok()?;
    let mut bytes = vec![0; len];
    file.read_exact_at(&mut bytes, end - len as u64).ok()?;
    Some(fingerprint(&bytes))
}

/// The entry for a file, given its metadata and first bytes; `file` is
/// read for the bytes before `scanned`.
pub fn entry(
    path: &str,
    file: &File,
    meta: &Metadata,
    head: &[u8],
    scanned: u64,
    lines: u64,
    whole: bool,
) -> FileState {
    let head = &head[..head.len().min(HEAD_HASHED)];
    FileState {
        path: path.to_owned(),
        dev: meta.dev(),
        ino: meta.ino(),
        head: fingerprint(head),
        head_len: head.len(),
        size: meta.len(),
        scanned,
        lines,
        whole,
        tail: tail_hash(file, scanned, TAIL_HASHED),
        tail_len: TAIL_HASHED.min(scanned),
    }
}
