//! Memory-mapped plain files, guarded against the file shrinking under us.
//!
//! A log rotated with `copytruncate` while it is being scanned shrinks
//! beneath the mapping, and touching a mapped page past the new end of file
//! raises SIGBUS, which would kill the process. leaksweep installs one
//! SIGBUS handler that knows the address ranges of its live mappings: a
//! fault inside one of them maps anonymous zero pages over the rest of that
//! mapping (so the faulting read, retried, sees zeros) and marks the mapping
//! truncated; any other SIGBUS goes to the handler that was installed
//! before. After the scan the caller asks [`Guarded::truncated`], reports
//! the input as incomplete, and drops findings past the new length.

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

use memmap2::{Mmap, MmapOptions};

/// How many mappings can be guarded at once; more concurrent mappings fall
/// back to reading, which is always safe.
const SLOTS: usize = 128;

struct Slot {
    start: AtomicUsize,
    end: AtomicUsize,
    faulted: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot {
    start: AtomicUsize::new(0),
    end: AtomicUsize::new(0),
    faulted: AtomicBool::new(false),
};

static TABLE: [Slot; SLOTS] = [EMPTY; SLOTS];
static PAGE: AtomicUsize = AtomicUsize::new(4096);
/// The SIGBUS action that was in place before ours (Rust's runtime installs
/// one to report stack overflows); non-mapping faults are passed to it.
static PREVIOUS: OnceLock<Result<libc::sigaction, i32>> = OnceLock::new();

/// A read-only mapping of a whole file, registered with the SIGBUS guard
/// for as long as it lives.
pub struct Guarded {
    map: Mmap,
    slot: usize,
    file: File,
}

impl Guarded {
    /// Maps `file` of length `len`. Returns `Ok(None)` when the guard cannot
    /// be used (handler not installable, all slots busy, empty file): the
    /// caller then reads the file instead.
    pub fn map(file: &File, len: u64) -> io::Result<Option<Guarded>> {
        if len == 0 || install().is_err() {
            return Ok(None);
        }
        let len = usize::try_from(len).map_err(|_| io::Error::other("file too large to map"))?;
        // SAFETY: the mapping is read-only and private to this process. The
        // file may change underneath it (that is what logs do); a shrink is
        // handled by the SIGBUS guard registered below before any byte of the
        // mapping is read, and readers only treat the bytes as untrusted data.
        let map = unsafe { MmapOptions::new().len(len).map(file)? };
        let start = map.as_ptr() as usize;
        let page = PAGE.load(Ordering::Relaxed);
        let end = (start + len).div_ceil(page) * page;
        let Some(slot) = register(start, end) else {
            return Ok(None);
        };
        Ok(Some(Guarded {
            map,
            slot,
            file: file.try_clone()?,
        }))
    }

    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Drops the whole pages between `from` and `upto` from this process's
    /// memory (they stay in the page cache): a reader that is past them
    /// keeps its resident set small. They read back from the file if
    /// touched again.
    pub fn release(&self, from: usize, upto: usize) {
        let page = PAGE.load(Ordering::Relaxed);
        let start = from.div_ceil(page) * page;
        let end = upto.min(self.map.len()) / page * page;
        if end > start {
            // SAFETY: DONTNEED on a private, read-only file mapping only
            // discards our copy of the pages; a later read faults them in
            // again from the file, as on first access (a shrunk file is the
            // SIGBUS guard's case, as before).
            let _ = unsafe {
                self.map.unchecked_advise_range(
                    memmap2::UncheckedAdvice::DontNeed,
                    start,
                    end - start,
                )
            };
        }
    }

    /// If the file shrank while mapped: its length now (bytes past it were
    /// read as zeros and must not be trusted).
    pub fn truncated(&self) -> Option<u64> {
        let now = self.file.metadata().map(|m| m.len()).unwrap_or(0);
        let faulted = TABLE[self.slot].faulted.load(Ordering::Acquire);
        (faulted || now < self.map.len() as u64).then_some(now.min(self.map.len() as u64))
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        // Unregister before the mapping goes away (the Mmap field drops after
        // this body runs), so a later mapping at the same address is not
        // mistaken for this one.
        let s = &TABLE[self.slot];
        s.faulted.store(false, Ordering::Release);
        s.end.store(0, Ordering::Release);
        s.start.store(0, Ordering::Release);
    }
}

fn register(start: usize, end: usize) -> Option<usize> {
    for (i, s) in TABLE.iter().enumerate() {
        if s.start
            .compare_exchange(0, usize::MAX, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            s.faulted.store(false, Ordering::Release);
            s.end.store(end, Ordering::Release);
            s.start.store(start, Ordering::Release);
            return Some(i);
        }
    }
    None
}

fn install() -> Result<(), i32> {
    let prev = PREVIOUS.get_or_init(|| {
        // SAFETY: plain libc calls; `act` is fully initialised before use and
        // the handler only performs async-signal-safe work (atomics, mmap,
        // sigaction).
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE);
            if page > 0 {
                PAGE.store(page as usize, Ordering::Relaxed);
            }
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = on_sigbus as *const () as usize;
            act.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut act.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, &act, &mut old) != 0 {
                return Err(io::Error::last_os_error().raw_os_error().unwrap_or(-1));
            }
            Ok(old)
        }
    });
    prev.as_ref().map(|_| ()).map_err(|e| *e)
}

extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    let page = PAGE.load(Ordering::Relaxed);
    for s in &TABLE {
        let start = s.start.load(Ordering::Acquire);
        let end = s.end.load(Ordering::Acquire);
        if start == 0 || start == usize::MAX || addr < start || addr >= end {
            continue;
        }
        let from = addr & !(page - 1);
        // SAFETY: [from, end) lies inside a live mapping of ours; replacing it
        // with zero pages keeps the address range valid for the reader.
        let r = unsafe {
            libc::mmap(
                from as *mut libc::c_void,
                end - from,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if r != libc::MAP_FAILED {
            s.faulted.store(true, Ordering::Release);
            return;
        }
    }
    chain(sig, info, ctx);
}

/// Hands a SIGBUS that is not ours to the previous handler, or restores the
/// default action so that the retried access terminates the process as it
/// would have without us.
fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let Some(Ok(prev)) = PREVIOUS.get() else {
        reset_default(sig);
        return;
    };
    let h = prev.sa_sigaction;
    if h == libc::SIG_DFL || h == libc::SIG_IGN {
        reset_default(sig);
    } else if prev.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the previous handler was installed with SA_SIGINFO, so it
        // has this signature.
        let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            unsafe { std::mem::transmute(h) };
        f(sig, info, ctx);
    } else {
        // SAFETY: a handler installed without SA_SIGINFO takes only the signal.
        let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(h) };
        f(sig);
    }
}

fn reset_default(sig: libc::c_int) {
    // SAFETY: restoring the default disposition is async-signal-safe.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reading_a_mapping_after_truncation_sees_zeros_not_sigbus() {
        let mut f = tempfile::tempfile().expect("temp file");
        let len = 1 << 20;
        f.write_all(&vec![b'a'; len]).expect("write");
        let g = Guarded::map(&f, len as u64).expect("map").expect("guarded");
        assert_eq!(g.truncated(), None);
        f.set_len(10).expect("truncate");
        // Without the guard this read of pages past the new end raises SIGBUS.
        let sum: u64 = g.bytes().iter().map(|&b| u64::from(b)).sum();
        assert!(
            sum < u64::from(b'a') * 4096 + 1,
            "pages past the end read as zeros"
        );
        assert_eq!(g.truncated(), Some(10));
    }

    #[test]
    fn slots_are_released_on_drop() {
        let mut f = tempfile::tempfile().expect("temp file");
        f.write_all(b"hello\n").expect("write");
        for _ in 0..(SLOTS * 2) {
            let g = Guarded::map(&f, 6).expect("map");
            assert!(g.is_some(), "slot leaked");
        }
    }
}
