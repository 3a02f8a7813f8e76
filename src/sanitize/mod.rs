//! `leaksweep redact`: sanitized copies that keep their format. Each input
//! is copied layer by layer as it is found (compression re-applied, tar
//! members rewritten with their metadata, HAR strings re-encoded), with the
//! bytes of every secret replaced by a marker. The copy is written to a
//! temporary file beside its target, synced and renamed into place, so a
//! failure leaves the input as it was and no partial output behind.

mod har;
mod text;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context};

use crate::finding::{fingerprint, Confidence};
use crate::scan::{Engine, RawMatch};
use crate::source::detect::{sniff_stream, Compression, Container, Sniff};

/// Deepest nesting of compression and archive layers rewritten.
const MAX_DEPTH: usize = 8;

/// What replaces secrets, and the count of what was replaced.
pub struct Redactor<'e> {
    pub engine: &'e Engine,
    pub min_confidence: Confidence,
    /// A fixed marker (`--marker`), else `[REDACTED:<rule>:<fingerprint prefix>]`.
    pub marker: Option<String>,
    /// Secrets replaced, by rule id.
    pub counts: BTreeMap<String, u64>,
}

impl Redactor<'_> {
    pub fn new<'e>(
        engine: &'e Engine,
        min_confidence: Confidence,
        marker: Option<String>,
    ) -> Redactor<'e> {
        Redactor {
            engine,
            min_confidence,
            marker,
            counts: BTreeMap::new(),
        }
    }

    fn wants(&self, m: &RawMatch) -> bool {
        m.outcome.confidence >= self.min_confidence
    }

    /// The marker for `secret` found by rule `rule`.
    pub fn marker(&self, rule: usize, secret: &[u8]) -> String {
        match &self.marker {
            Some(m) => m.clone(),
            None => format!(
                "[REDACTED:{}:{}]",
                self.engine.rules()[rule].spec.id,
                &fingerprint(secret)[..8]
            ),
        }
    }

    /// Writes the marker for `secret` in place of `raw`, the bytes that
    /// hold it (they differ where it was found behind escapes), and counts
    /// it. The raw line breaks follow the marker, so the lines after it
    /// keep their numbers.
    fn replace(
        &mut self,
        rule: usize,
        secret: &[u8],
        raw: &[u8],
        out: &mut dyn Write,
    ) -> io::Result<()> {
        out.write_all(self.marker(rule, secret).as_bytes())?;
        let newlines = memchr::memchr_iter(b'\n', raw).count();
        out.write_all(&b"\n".repeat(newlines))?;
        self.count(rule);
        Ok(())
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
    let c = match kind {
        Sniff::Text if crate::har::sniff(stream.head()) => return har::copy(r, &mut stream, out),
        Sniff::Text => return text::stream(r, &mut stream, out),
        // Not text: nothing the rules could find in it; copied as it is.
        Sniff::Binary => return io::copy(&mut stream, out).map(drop),
        Sniff::Container(c) => c,
    };
    if depth >= MAX_DEPTH {
        return Err(io::Error::other(format!(
            "{c} nested more than {MAX_DEPTH} layers deep: not redacted"
        )));
    }
    let context = |e: io::Error| io::Error::new(e.kind(), format!("{c}: {e}"));
    match c {
        Container::Compressed(z) => compressed(r, z, &mut stream, out, depth).map_err(context),
        Container::Tar => tar(r, &mut stream, out, depth).map_err(context),
        Container::Zip => Err(io::Error::other(
            "zip archives cannot be redacted (only scanned); unpack it and redact the files",
        )),
    }
}

/// Decompresses, redacts what is inside, compresses again in the same
/// format. Levels are picked for speed at about the usual ratio: gzip 3
/// (as small as gzip's default 6 on logs, three times as fast), zstd 3,
/// bzip2 6, xz 1.
fn compressed(
    r: &mut Redactor,
    z: Compression,
    input: &mut dyn Read,
    out: &mut dyn Write,
    depth: usize,
) -> io::Result<()> {
    let input = BufReader::new(input);
    match z {
        Compression::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(out, flate2::Compression::new(3));
            copy(
                r,
                &mut flate2::bufread::MultiGzDecoder::new(input),
                &mut enc,
                depth + 1,
            )?;
            enc.finish().map(drop)
        }
        Compression::Zstd => {
            let mut enc = zstd::stream::write::Encoder::new(out, 3)?;
            copy(
                r,
                &mut zstd::stream::read::Decoder::with_buffer(input)?,
                &mut enc,
                depth + 1,
            )?;
            enc.finish().map(drop)
        }
        Compression::Bzip2 => {
            let mut enc = bzip2::write::BzEncoder::new(out, bzip2::Compression::default());
            copy(
                r,
                &mut bzip2::bufread::MultiBzDecoder::new(input),
                &mut enc,
                depth + 1,
            )?;
            enc.finish().map(drop)
        }
        Compression::Utf16 { big_endian } => {
            let mut enc = crate::source::utf16::Encode::new(out, big_endian);
            let mut dec = crate::source::utf16::Decode::new(input, big_endian);
            copy(r, &mut dec, &mut enc, depth + 1)?;
            enc.finish().map(drop)
        }
        Compression::Xz => {
            let mut enc = liblzma::write::XzEncoder::new(out, 1);
            copy(
                r,
                &mut liblzma::bufread::XzDecoder::new_multi_decoder(input),
                &mut enc,
                depth + 1,
            )?;
            enc.finish().map(drop)
        }
    }
}

/// Rewrites a tar: the same members in the same order, with their modes,
/// owners and times; a file's content redacted (its size is what changes).
fn tar(
    r: &mut Redactor,
    input: &mut dyn Read,
    out: &mut dyn Write,
    depth: usize,
) -> io::Result<()> {
    let mut archive = tar::Archive::new(input);
    let mut builder = tar::Builder::new(out);
    builder.mode(tar::HeaderMode::Complete);
    builder.follow_symlinks(false);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let mut header = entry.header().clone();
        let path = entry.path()?.into_owned();
        let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
        match header.entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                // The size goes before the data: spool the member first.
                let mut tmp = tempfile::tempfile()?;
                copy(r, &mut entry, &mut BufWriter::new(&mut tmp), depth + 1).map_err(named)?;
                let len = tmp.stream_position()?;
                tmp.rewind()?;
                header.set_size(len);
                builder.append_data(&mut header, &path, &mut tmp)?;
            }
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let target = entry
                    .link_name()?
                    .ok_or_else(|| named(io::Error::other("link without a target")))?
                    .into_owned();
                builder.append_link(&mut header, &path, target)?;
            }
            _ => builder.append_data(&mut header, &path, io::empty())?,
        }
    }
    builder.into_inner()?.flush()
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

/// Redacts `input` into `output` (the same path with `in_place`): a
/// temporary file in the target directory, synced, renamed over the target.
pub fn file(r: &mut Redactor, input: &Path, output: &Path, in_place: bool) -> anyhow::Result<()> {
    let file = File::open(input)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        bail!("not a regular file");
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
    let mut tmp = tempfile::Builder::new()
        .prefix(".leaksweep-redact-")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    {
        let mut out = BufWriter::new(tmp.as_file_mut());
        copy(r, &mut BufReader::new(file), &mut out, 0)?;
        out.flush()
            .with_context(|| format!("writing {}", output.display()))?;
    }
    let written = tmp.as_file();
    written.set_permissions(meta.permissions())?;
    if in_place {
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
