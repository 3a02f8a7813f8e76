//! `leaksweep redact`: sanitized copies that keep their format. Each input
//! is copied layer by layer as it is found (compression re-applied, tar
//! members rewritten header for header, HAR strings re-encoded), with the
//! bytes of every secret replaced by a marker keyed to this host (see
//! [`key`]). A copy is written to a temporary file beside its target,
//! synced and renamed into place, so a failure leaves the input as it was
//! and no partial output behind; plain text in place is instead rewritten
//! on its own inode with same-length markers, so a writer appending to a
//! live log loses nothing. An input with nothing to redact is not touched.

mod har;
pub mod key;
mod spool;
mod tar;
mod temp;
mod text;

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};

use crate::finding::Confidence;
use crate::messages::io_cause;
use crate::scan::chunk::{fills, StreamError};
use crate::scan::{Engine, RawMatch};
use crate::source::decode::{Budget, Decoder, Layer, Limits, Raw};
use crate::source::detect::{sniff, sniff_stream, Compression, Container, Sniff, Sniffed, HEAD};

/// What a marker says.
#[derive(Clone)]
pub enum Marker {
    /// `--marker TEXT`.
    Fixed(String),
    /// `[REDACTED:<rule>:<tag>]`, the tag keyed (see [`key`]).
    Keyed(key::Key),
}

/// What replaces secrets, and the count of what was replaced.
pub struct Redactor<'e> {
    pub engine: &'e Engine,
    pub min_confidence: Confidence,
    /// What a marker says.
    pub marker: Marker,
    /// The scan's `--max-depth`, `--max-decoded` and `--max-ratio`.
    pub limits: Limits,
    /// The current input's decompression budget.
    budget: Arc<Budget>,
    /// Secrets replaced, by rule id.
    pub counts: BTreeMap<String, u64>,
}

impl Redactor<'_> {
    pub fn new<'e>(
        engine: &'e Engine,
        min_confidence: Confidence,
        marker: Marker,
        limits: Limits,
    ) -> Redactor<'e> {
        Redactor {
            engine,
            min_confidence,
            marker,
            limits,
            budget: Budget::new(limits),
            counts: BTreeMap::new(),
        }
    }

    fn wants(&self, m: &RawMatch) -> bool {
        m.outcome.confidence >= self.min_confidence
    }

    /// The marker for `secret` found by rule `rule`.
    pub fn marker(&self, rule: usize, secret: &[u8]) -> String {
        match &self.marker {
            Marker::Fixed(m) => m.clone(),
            Marker::Keyed(_) => format!(
                "[REDACTED:{}:{}]",
                self.engine.rules()[rule].spec.id,
                self.tag(secret)
            ),
        }
    }

    /// The 8 hex digits that tell secrets apart in a marker: the start of
    /// HMAC-SHA256(key, secret), so they confirm no guess without the key.
    fn tag(&self, secret: &[u8]) -> String {
        match &self.marker {
            Marker::Keyed(k) => key::hex(&key::hmac(k, secret)[..4]),
            Marker::Fixed(_) => String::new(),
        }
    }

    /// Writes the marker for `secret` in place of `raw`, the bytes that
    /// hold it (they differ where it was found behind escapes), and counts
    /// it. The raw line breaks follow the marker, so the lines after it
    /// keep their numbers. With [`Fit::Same`] the marker takes exactly the
    /// raw bytes.
    fn replace(
        &mut self,
        rule: usize,
        secret: &[u8],
        raw: &[u8],
        fit: Fit,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        match fit {
            Fit::Free => {
                out.write_all(self.marker(rule, secret).as_bytes())?;
                let newlines = memchr::memchr_iter(b'\n', raw).count();
                out.write_all(&b"\n".repeat(newlines))?;
            }
            Fit::Same => out.write_all(&self.fitted(rule, secret, raw))?,
        }
        self.count(rule);
        Ok(())
    }

    /// The marker for `secret` in exactly `raw.len()` bytes, `raw` being
    /// the bytes that hold it: their line breaks stay where they are, the
    /// other bytes take the marker padded with `*`. Too little room for the
    /// marker gets the first of `[REDACTED:<tag>]`, `[REDACTED]` that fits,
    /// padded; less still is all `*`.
    pub fn fitted(&self, rule: usize, secret: &[u8], raw: &[u8]) -> Vec<u8> {
        let room = raw.iter().filter(|&&b| b != b'\n').count();
        let text = match &self.marker {
            // A fixed marker is cut to fit, at a character boundary.
            Marker::Fixed(m) => {
                let end = m
                    .char_indices()
                    .map(|(i, c)| i + c.len_utf8())
                    .take_while(|&end| end <= room)
                    .last()
                    .unwrap_or(0);
                m.as_bytes()[..end].to_vec()
            }
            Marker::Keyed(_) => [
                self.marker(rule, secret),
                format!("[REDACTED:{}]", self.tag(secret)),
                "[REDACTED]".to_string(),
            ]
            .into_iter()
            .find(|m| m.len() <= room)
            .unwrap_or_default()
            .into_bytes(),
        };
        let mut text = text.into_iter();
        raw.iter()
            .map(|&b| match b {
                b'\n' => b'\n',
                _ => text.next().unwrap_or(b'*'),
            })
            .collect()
    }

    fn count(&mut self, rule: usize) {
        *self
            .counts
            .entry(self.engine.rules()[rule].spec.id.clone())
            .or_default() += 1;
    }

    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }
}

/// How the names of redact's temporary files start.
pub const TEMP_PREFIX: &str = temp::PREFIX;

/// An error after part of an input was redacted in place: what was
/// written stays (each marker is whole), the rest was left as it was.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Partial(pub String);

/// How a marker is sized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// The whole marker, then the secret's line breaks.
    Free,
    /// Exactly the secret's length (in place, tar members).
    Same,
}

/// Copies `reader` to `out` redacted, in the format it is in.
pub fn copy(
    r: &mut Redactor,
    reader: &mut dyn Read,
    out: &mut dyn Write,
    depth: usize,
) -> io::Result<()> {
    let (kind, mut stream) = sniff_stream(reader);
    if let Some(e) = stream.take_error() {
        return Err(e);
    }
    copy_sniffed(r, kind, &mut stream, out, depth)
}

/// [`copy`] of a stream already sniffed as `kind`.
fn copy_sniffed(
    r: &mut Redactor,
    kind: Sniff,
    stream: &mut Sniffed<&mut dyn Read>,
    out: &mut dyn Write,
    depth: usize,
) -> io::Result<()> {
    let c = match kind {
        Sniff::Text if crate::har::sniff(stream.head()) => return har::copy(r, stream, out),
        Sniff::Text => return text::stream(r, stream, out, Fit::Free),
        // Not text: nothing the rules could find in it; copied as it is.
        Sniff::Binary => return io::copy(stream, out).map(drop),
        Sniff::Container(c) => c,
    };
    if depth >= r.limits.max_depth {
        return Err(io::Error::other(format!(
            "{c} nested more than {} layers deep (--max-depth): not redacted",
            r.limits.max_depth
        )));
    }
    match c {
        Container::Compressed(z) => compressed(r, z, stream, out, depth),
        Container::Tar => tar::copy(r, stream, out, depth)
            .map_err(|e| io::Error::new(e.kind(), format!("tar: {}", io_cause(&e)))),
        Container::Zip => Err(io::Error::other(
            "zip archives cannot be redacted (only scanned); unpack it and redact the files",
        )),
    }
}

/// Decompresses (within the input's `--max-decoded`/`--max-ratio`
/// budget), redacts what is inside, compresses again in the same format.
/// Levels are picked for speed at about the usual ratio: gzip 3 (as small
/// as gzip's default 6 on logs, three times as fast), zstd 3, bzip2 6, xz 1.
fn compressed(
    r: &mut Redactor,
    z: Compression,
    input: &mut dyn Read,
    out: &mut dyn Write,
    depth: usize,
) -> io::Result<()> {
    let c = Container::Compressed(z);
    if let Compression::Utf16 { big_endian } = z {
        // Lossless, unlike the scan's reader: what is not UTF-16 (a lone
        // surrogate, an odd last byte) comes back as it was.
        let mut enc = crate::source::utf16::Encode::new(out, big_endian);
        let dec = crate::source::utf16::Decode::lossless(input, big_endian);
        let mut dec = Layer::new(dec, depth + 1, None, Some(c), Some(r.budget.clone()));
        copy(r, &mut dec, &mut enc, depth + 1)?;
        return enc.finish().map(drop);
    }
    let dec = Decoder::new(z, input)?;
    let mut dec = Layer::new(dec, depth + 1, None, Some(c), Some(r.budget.clone()));
    match z {
        Compression::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(out, flate2::Compression::new(3));
            copy(r, &mut dec, &mut enc, depth + 1)?;
            enc.finish().map(drop)
        }
        Compression::Zstd => {
            let mut enc = zstd::stream::write::Encoder::new(out, 3)?;
            copy(r, &mut dec, &mut enc, depth + 1)?;
            enc.finish().map(drop)
        }
        Compression::Bzip2 => {
            let mut enc = bzip2::write::BzEncoder::new(out, bzip2::Compression::default());
            copy(r, &mut dec, &mut enc, depth + 1)?;
            enc.finish().map(drop)
        }
        Compression::Utf16 { .. } => Err(io::Error::other("UTF-16 is rewritten above")),
        Compression::Xz => {
            let mut enc = liblzma::write::XzEncoder::new(out, 1);
            copy(r, &mut dec, &mut enc, depth + 1)?;
            enc.finish().map(drop)
        }
    }
}

/// Where each input's copy goes: `output` itself for one named file (not
/// an existing directory), else `output/<input path>` (made relative).
pub fn plan(
    named: &[PathBuf],
    inputs: &[PathBuf],
    output: &Path,
) -> anyhow::Result<Vec<(PathBuf, PathBuf)>> {
    let one_file = named.len() == 1 && inputs.len() == 1 && inputs[0] == named[0];
    if one_file && !output.is_dir() {
        return Ok(vec![(inputs[0].clone(), output.to_path_buf())]);
    }
    inputs
        .iter()
        .map(|input| {
            let mut rel = PathBuf::new();
            for c in input.components() {
                match c {
                    Component::Normal(p) => rel.push(p),
                    Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
                    Component::ParentDir => bail!(
                        "{}: a path with '..' cannot be mirrored under {}; name it without '..'",
                        input.display(),
                        output.display()
                    ),
                }
            }
            Ok((input.clone(), output.join(rel)))
        })
        .collect()
}

/// Redacts `input` into `output` (the same path with `in_place`).
///
/// Plain text in place is rewritten on its own inode: each secret's bytes
/// are overwritten by a marker of the same length, nothing is renamed or
/// truncated, so a process appending to a live log loses nothing. Every
/// other case writes a temporary file beside the target, synced and
/// renamed over it; an input that changed while it was read is an error
/// and is left alone. An input with nothing to redact is never touched,
/// and its copy is byte for byte the input.
pub fn file(r: &mut Redactor, input: &Path, output: &Path, in_place: bool) -> anyhow::Result<()> {
    r.budget = Budget::new(r.limits);
    // Non-blocking, so that a FIFO is refused rather than waited on.
    let open = |write: bool| {
        OpenOptions::new()
            .read(true)
            .write(write)
            .custom_flags(libc::O_NONBLOCK)
            .open(input)
    };
    // A file we may not write (but whose directory we may) is replaced
    // rather than rewritten, as before.
    let (file, writable) = match open(in_place) {
        Ok(f) => (f, in_place),
        Err(e) if in_place && e.kind() == io::ErrorKind::PermissionDenied => {
            (open(false).context("cannot open it")?, false)
        }
        Err(e) => return Err(e).context("cannot open it"),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        bail!("not a regular file");
    }
    if in_place {
        // A run killed here before may have left a temporary file.
        let dir = match input.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        temp::clean_once(dir);
    }
    let mut head = vec![0u8; HEAD];
    let n = read_head(&file, &mut head)?;
    head.truncate(n);
    let plain = sniff(&head) == Sniff::Text && !crate::har::sniff(&head);
    if in_place && plain && writable {
        return in_place_text(r, &file, meta.len());
    }
    if in_place && meta.nlink() > 1 {
        bail!(
            "it has {} hard links: replacing it would leave the secrets under its other names; redact with -o instead",
            meta.nlink()
        );
    }
    if !in_place {
        if let Ok(o) = fs::metadata(output) {
            if (o.dev(), o.ino()) == (meta.dev(), meta.ino()) {
                bail!(
                    "the output {} is this file itself; use --in-place to redact a file in place",
                    output.display()
                );
            }
        }
    }
    let dir = match output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut tmp = temp::create(&dir)?;
    {
        let mut out = BufWriter::new(tmp.as_file_mut());
        // A plain copy reads the bytes there were when it started (a log
        // appended to meanwhile gives a consistent prefix).
        let reader = Raw::new((&file).take(meta.len()), r.budget.clone());
        copy(r, &mut BufReader::new(reader), &mut out, 0)?;
        out.flush()
            .with_context(|| format!("writing {}", output.display()))?;
    }
    if !plain {
        let now = file.metadata()?;
        if (now.len(), now.mtime(), now.mtime_nsec())
            != (meta.len(), meta.mtime(), meta.mtime_nsec())
        {
            bail!(
                "it changed while it was read ({} bytes, now {}): not redacted, left as it is",
                meta.len(),
                now.len()
            );
        }
    }
    if r.total() == 0 {
        if in_place {
            // Nothing to redact: the input is not touched.
            return Ok(());
        }
        if !plain {
            // The copy is the input itself, not a re-encoding of it.
            let t = tmp.as_file_mut();
            t.set_len(0)?;
            t.rewind()?;
            let mut from = &file;
            from.rewind()?;
            io::copy(&mut from.take(meta.len()), t)
                .with_context(|| format!("writing {}", output.display()))?;
        }
    }
    let written = tmp.as_file();
    if in_place {
        // The owner first: chown clears the setuid and setgid bits, which
        // the chmod after it puts back on the file they belonged to.
        // SAFETY: fchown on a descriptor we own; plain integer arguments.
        let rc = unsafe {
            libc::fchown(
                std::os::fd::AsRawFd::as_raw_fd(written),
                meta.uid(),
                meta.gid(),
            )
        };
        if rc != 0 {
            let e = io::Error::last_os_error();
            bail!("cannot keep its owner: {e}");
        }
        written.set_permissions(meta.permissions())?;
    } else {
        // A copy is the running user's, and never setuid, setgid or sticky.
        written.set_permissions(fs::Permissions::from_mode(meta.mode() & 0o777))?;
    }
    written
        .sync_all()
        .with_context(|| format!("writing {}", output.display()))?;
    tmp.persist(output)
        .map_err(|e| e.error)
        .with_context(|| format!("renaming the copy to {}", output.display()))?;
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Reads the first bytes of `file` (without moving its offset).
fn read_head(file: &File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Redacts a plain text file on its own inode, up to the `len` bytes it
/// had when it was opened: each secret is checked to still be on disk,
/// then overwritten by a marker of its exact length (`pwrite`, no
/// truncation, no rename). A secret whose bytes changed meanwhile (the
/// file was rewritten) is left alone and makes the run an error.
fn in_place_text(r: &mut Redactor, file: &File, len: u64) -> anyhow::Result<()> {
    let mut done = 0u64;
    let mut failed: Option<io::Error> = None;
    let mut moved = 0u64;
    let engine = r.engine;
    let read = fills(engine, file.take(len), &mut |fill| {
        if failed.is_some() {
            return;
        }
        for m in fill.all {
            let at = fill.base + m.secret.start as u64;
            if !fill.owned.contains(&m.secret.start) || at < done || !r.wants(m) {
                continue;
            }
            let raw = &fill.buf[m.secret.clone()];
            let mut now = vec![0u8; raw.len()];
            match file.read_exact_at(&mut now, at) {
                Ok(()) if now == raw => {}
                Ok(()) | Err(_) => {
                    moved += 1;
                    continue;
                }
            }
            let marker = r.fitted(m.rule, m.bytes(fill.buf), raw);
            if let Err(e) = file.write_all_at(&marker, at) {
                failed = Some(e);
                return;
            }
            r.count(m.rule);
            done = at + raw.len() as u64;
        }
    });
    if let Some(e) = failed {
        return Err(e).context("writing a marker");
    }
    read.map_err(|StreamError { error, .. }| error)?;
    if r.total() > 0 {
        file.sync_data().context("syncing")?;
    }
    if moved > 0 {
        return Err(Partial(format!(
            "{moved} secrets changed on disk while it was read (was it rewritten?): those were left as they are, {} redacted",
            r.total()
        ))
        .into());
    }
    Ok(())
}
