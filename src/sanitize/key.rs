//! The per-user key that makes redaction markers unguessable. A marker
//! carries 8 hex digits to tell secrets apart; made from the plain SHA-256
//! of the secret, they would let anyone holding a copy confirm a guessed
//! low-entropy password offline. Made with HMAC-SHA256 under a key that
//! never leaves the host, the same secret still gets the same marker on
//! this host, and a copy that leaves it confirms nothing.
//!
//! The key is 32 random bytes, stored as hex in
//! `$XDG_STATE_HOME/leaksweep/marker.key` (else
//! `~/.local/state/leaksweep/marker.key`), created `0600` on first use.
//! One owned by another user, readable by others, or reached through a
//! symbolic link is refused.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

pub type Key = [u8; 32];

/// Where the key is kept when `--marker-key` does not say.
pub fn default_path() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .map(|h| h.join(".local/state"))
        })?;
    Some(state.join("leaksweep/marker.key"))
}

/// Reads the key at `path`, creating it first if there is none.
pub fn load_or_create(path: &Path) -> anyhow::Result<Key> {
    let what = || format!("marker key {}", path.display());
    match open(path) {
        Ok(f) => read(f).with_context(what),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            create(path).with_context(what)?;
            read(open(path).with_context(what)?).with_context(what)
        }
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            bail!("{}: a symbolic link: refused", what())
        }
        Err(e) => Err(e).with_context(what),
    }
}

fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)
}

/// The key in `f`, once `f` is shown to be ours alone.
fn read(mut f: File) -> anyhow::Result<Key> {
    let m = f.metadata()?;
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if !m.is_file() {
        bail!("not a regular file: refused");
    }
    if m.uid() != me {
        bail!(
            "owned by uid {}, not by this user (uid {me}): refused",
            m.uid()
        );
    }
    if m.mode() & 0o077 != 0 {
        bail!(
            "its mode {:o} lets others read or change it: refused (chmod 600 it)",
            m.mode() & 0o777
        );
    }
    let mut text = String::new();
    (&mut f).take(256).read_to_string(&mut text)?;
    let hex = text.trim();
    let mut key = [0u8; 32];
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("not a marker key (64 hex digits)");
    }
    for (i, k) in key.iter_mut().enumerate() {
        *k = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)?;
    }
    Ok(key)
}

/// Creates the key: written whole to a private temporary file, then
/// linked into place, so a concurrent run sees either no key or a whole
/// one, and the first to link wins.
fn create(path: &Path) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    let mut key = [0u8; 32];
    random(&mut key)?;
    let mut text = hex(&key);
    text.push('\n');
    let tmp = dir.join(format!(".marker.key.{}.tmp", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&tmp)?;
    let linked = f
        .write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .and_then(|()| fs::hard_link(&tmp, path));
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(()),
        // Another run created it first: use theirs.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn random(buf: &mut [u8]) -> io::Result<()> {
    let mut n = 0;
    while n < buf.len() {
        // SAFETY: writes at most `buf.len() - n` bytes into our buffer.
        let got = unsafe { libc::getrandom(buf[n..].as_mut_ptr().cast(), buf.len() - n, 0) };
        if got < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        } else {
            n += got as usize; // ok: non-negative, at most the length asked for
        }
    }
    Ok(())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// HMAC-SHA256 (RFC 2104), over the `sha2` crate already used for
/// fingerprints: H((K ^ opad) || H((K ^ ipad) || m)).
pub fn hmac(key: &Key, message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    k[..key.len()].copy_from_slice(key);
    let pad = |x: u8| -> [u8; BLOCK] { k.map(|b| b ^ x) };
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn hmac_matches_rfc_4231_test_case_1() {
        // RFC 4231 test case 1 uses a 20-byte key of 0x0b; a 32-byte key
        // zero-padded to the block is the same HMAC as that key padded.
        let mut key = [0u8; 32];
        key[..20].fill(0x0b);
        assert_eq!(
            hex(&hmac(&key, b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
    }

    #[test]
    fn creates_a_private_key_once_and_refuses_shared_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/leaksweep/marker.key");
        let a = load_or_create(&path).unwrap();
        let m = fs::metadata(&path).unwrap();
        assert_eq!(m.mode() & 0o777, 0o600);
        assert_eq!(
            fs::metadata(path.parent().unwrap()).unwrap().mode() & 0o777,
            0o700
        );
        assert_eq!(load_or_create(&path).unwrap(), a);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let e = load_or_create(&path).unwrap_err();
        assert!(format!("{e:#}").contains("refused"), "{e:#}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.path().join("link.key");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let e = load_or_create(&link).unwrap_err();
        assert!(format!("{e:#}").contains("symbolic link"), "{e:#}");
        assert!(!dir
            .path()
            .join("state/leaksweep")
            .read_dir()
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".tmp")));
    }
}
