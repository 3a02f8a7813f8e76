//! Walking what a compressed or archived input holds: decompression layers
//! and archive members, nested up to `--max-depth`, down to the text streams
//! it hands to a [`Visit`]. Nothing is held whole in memory: every layer is
//! a stream (a zip nested in another container is first copied to an
//! unlinked temporary file, since zip is read from its end).
//!
//! Members are named by their path in the archive; a member of an archive
//! that is itself a member gets `outer!inner`, e.g. `logs.zip` holding
//! `a/b.tar` holding `c/d.log.gz` gives `a/b.tar!c/d.log.gz`. Compression
//! layers add no name.

use std::cell::Cell;
use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::rc::Rc;
use std::sync::Arc;

use super::decode::{origin, Broken, Budget, Decoder, Layer, Limits, Origin, Raw};
use super::detect::{sniff_stream, Container, Sniff};
use super::prefetch::Prefetch;
use super::ziplocal;
use crate::messages::io_cause;
use zip::result::ZipError;

/// What the walker hands out. `member` is the path inside the archive
/// (None for the input itself, e.g. a plain `.gz`).
pub trait Visit {
    /// Scans a text stream to its end; a read error is returned as is.
    fn text(&mut self, member: Option<&str>, reader: &mut dyn Read) -> io::Result<()>;
    /// Something deliberately not scanned (a binary member).
    fn skip(&mut self, member: Option<&str>, why: &str);
    /// Something that could not be read completely.
    fn error(&mut self, member: Option<&str>, cause: &dyn std::fmt::Display);
    /// Something worth knowing that changes nothing (a crafted archive's
    /// hidden content, scanned anyway).
    fn note(&mut self, _member: Option<&str>, _what: &dyn std::fmt::Display) {}
}

/// A failure already reported, which ends every layer at `depth` or deeper
/// (depth 0 ends the input).
struct Fault {
    depth: usize,
}

struct Walker<'v> {
    budget: Arc<Budget>,
    visit: &'v mut dyn Visit,
}

/// Walks a container file positioned at its start. A file can seek, so a
/// zip is read through its central directory.
pub fn file(file: File, c: Container, limits: Limits, visit: &mut dyn Visit) {
    let mut w = Walker {
        budget: Budget::new(limits),
        visit,
    };
    if !w.admits(c, None, 0) {
        return;
    }
    if c == Container::Zip {
        match file.metadata() {
            Ok(m) => w.budget.set_raw(m.len()),
            Err(e) => {
                w.visit.error(None, &e);
                return;
            }
        }
        let _ = w.zip(file, None, 0);
    } else {
        w.top(file, c);
    }
}

/// Walks a container stream (stdin, a FIFO) whose first bytes are in
/// `reader` already.
pub fn stream<R: Read + Send + 'static>(
    reader: R,
    c: Container,
    limits: Limits,
    visit: &mut dyn Visit,
) {
    let mut w = Walker {
        budget: Budget::new(limits),
        visit,
    };
    if w.admits(c, None, 0) {
        w.top(reader, c);
    }
}

impl Walker<'_> {
    /// The outermost layer. A decompressor runs on a thread of its own
    /// (prefetch), ahead of whatever reads its output.
    fn top<R: Read + Send + 'static>(&mut self, reader: R, c: Container) {
        let mut input = Layer::new(Raw::new(reader, self.budget.clone()), 0, None, None, None);
        let _ = match c {
            Container::Tar => self.tar(&mut input, None, 0),
            Container::Zip => self.spooled_zip(&mut input, None, 0),
            Container::Compressed(z) => match Decoder::new(z, input) {
                Ok(dec) => {
                    let dec = Layer::new(dec, 1, None, Some(c), Some(self.budget.clone()));
                    match Prefetch::new(dec) {
                        Ok(mut p) => self.walk(&mut p, None, 1),
                        Err(e) => Err(self.fail(e, None, 0)),
                    }
                }
                Err(e) => Err(self.fail(e, None, 0)),
            },
        };
    }

    /// Sniffs a decoded stream `depth` layers deep and goes on by what it
    /// holds.
    fn walk(
        &mut self,
        reader: &mut dyn Read,
        member: Option<&str>,
        depth: usize,
    ) -> Result<(), Fault> {
        let (kind, mut stream) = sniff_stream(reader);
        let c = match kind {
            Sniff::Text => {
                return self
                    .visit
                    .text(member, &mut stream)
                    .map_err(|e| self.fail(e, member, depth))
            }
            Sniff::Binary if self.budget.limits().binary_as_text => {
                return self
                    .visit
                    .text(member, &mut stream)
                    .map_err(|e| self.fail(e, member, depth))
            }
            Sniff::Binary => {
                if let Some(e) = stream.take_error() {
                    return Err(self.fail(e, member, depth));
                }
                self.visit.skip(member, BINARY);
                return Ok(());
            }
            Sniff::Container(c) => c,
        };
        if !self.admits(c, member, depth) {
            return Ok(());
        }
        match c {
            Container::Tar => self.tar(&mut stream, member, depth),
            Container::Zip => self.spooled_zip(&mut stream, member, depth),
            Container::Compressed(z) => match Decoder::new(z, stream) {
                Ok(dec) => {
                    let mut dec =
                        Layer::new(dec, depth + 1, member, Some(c), Some(self.budget.clone()));
                    self.walk(&mut dec, member, depth + 1)
                }
                Err(e) => Err(self.fail(e, member, depth)),
            },
        }
    }

    /// Whether one more layer, for `c` at `depth`, is within --max-depth;
    /// reports it when not.
    fn admits(&mut self, c: Container, member: Option<&str>, depth: usize) -> bool {
        let max = self.budget.limits().max_depth;
        if depth < max {
            return true;
        }
        self.visit.error(
            member,
            &format_args!(
                "{c} data nested {} layers deep, deeper than --max-depth {max}: not scanned",
                depth + 1
            ),
        );
        false
    }

    /// Walks every regular file of a tar read from a stream `depth` deep.
    /// Zero blocks are read through, as `tar -i` does: concatenated tars
    /// are read whole, and the stream is read to its end, so damage past
    /// the end-of-archive marker (a cut gzip trailer) is still reported.
    fn tar(
        &mut self,
        reader: &mut dyn Read,
        member: Option<&str>,
        depth: usize,
    ) -> Result<(), Fault> {
        let headers = Rc::new(Cell::new(TAR_HEADER_CAP));
        let metered = Metered {
            inner: reader,
            left: headers.clone(),
            at: 0,
            depth,
            member: member.map(str::to_owned),
        };
        let mut archive = tar::Archive::new(metered);
        archive.set_ignore_zeros(true);
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => return Err(self.fail_as(e, member, depth, Container::Tar)),
        };
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => return Err(self.fail_as(e, member, depth, Container::Tar)),
            };
            let t = entry.header().entry_type();
            // The member's stored bytes (a sparse member's size() counts
            // its holes), then the next member's headers.
            let stored = if t.is_gnu_sparse() {
                entry.header().entry_size().unwrap_or(0)
            } else {
                entry.size()
            };
            headers.set(TAR_HEADER_CAP.saturating_add(stored.saturating_add(511) & !511));
            if !(t.is_file() || t == tar::EntryType::Continuous || t.is_gnu_sparse()) {
                continue;
            }
            let name = join(member, &String::from_utf8_lossy(&entry.path_bytes()));
            let size = entry.size();
            let exact = Exact {
                inner: &mut entry,
                left: size,
                size,
                depth,
                member: name.clone(),
            };
            // The holes of a sparse member are made up by the reader: they
            // count against the budget like decompressed bytes.
            let budget = t.is_gnu_sparse().then(|| self.budget.clone());
            let mut layer = Layer::new(exact, depth + 1, Some(&name), Some(Container::Tar), budget);
            self.member(&mut layer, &name, depth)?;
        }
        Ok(())
    }

    /// Walks one archive member; a fault inside it ends only the member,
    /// one in the archive's own stream (or a tripped limit) ends the archive.
    fn member(&mut self, reader: &mut dyn Read, name: &str, depth: usize) -> Result<(), Fault> {
        match self.walk(reader, Some(name), depth + 1) {
            Err(f) if f.depth <= depth => Err(f),
            _ => Ok(()),
        }
    }

    /// A zip inside another container: copied to an unlinked temporary
    /// file first, because a zip's directory is at its end.
    fn spooled_zip(
        &mut self,
        reader: &mut dyn Read,
        member: Option<&str>,
        depth: usize,
    ) -> Result<(), Fault> {
        let mut tmp = match tempfile::tempfile() {
            Ok(f) => f,
            Err(e) => {
                self.visit.error(
                    member,
                    &format_args!("zip: cannot create a temporary file to read it from: {e}"),
                );
                return Err(Fault { depth: depth + 1 });
            }
        };
        let copied = io::copy(reader, &mut tmp);
        if let Err(e) = tmp.rewind() {
            self.visit
                .error(member, &format_args!("zip: temporary file: {e}"));
            return Err(Fault { depth: depth + 1 });
        }
        match copied {
            Ok(_) => self.zip(tmp, member, depth),
            // The zip's own stream broke: what arrived has no directory, but
            // its members up to the break can still be read.
            Err(e) => {
                let fault = self.fail(e, member, depth);
                let _ = self.zip_local_headers(tmp, member, depth, &HashSet::new());
                Err(fault)
            }
        }
    }

    /// Walks every file of a zip through its central directory; when that
    /// is broken, reports it and reads the local headers in order instead,
    /// so what comes before the damage is still scanned.
    fn zip<R: Read + Seek>(
        &mut self,
        mut reader: R,
        member: Option<&str>,
        depth: usize,
    ) -> Result<(), Fault> {
        // Where the members the directory led to start, not to be read twice.
        let mut done = HashSet::new();
        let mut spans = Vec::new();
        let mut bounds = (0, 0);
        let broken = match zip::ZipArchive::new(&mut reader) {
            Err(e) => Some(format!(
                "cannot read the central directory ({})",
                zip_cause(&e)
            )),
            Ok(mut archive) => {
                bounds = (archive.offset(), archive.central_directory_start());
                self.zip_members(&mut archive, member, depth, &mut done, &mut spans)?
            }
        };
        let Some(why) = broken else {
            return self.zip_gaps(reader, member, depth, bounds, spans);
        };
        self.visit.error(
            member,
            &format_args!("zip: {why}; scanning the members' local headers instead"),
        );
        if reader.seek(SeekFrom::Start(0)).is_err() {
            return Err(Fault { depth });
        }
        self.zip_local_headers(reader, member, depth, &done)
    }

    /// Walks the members a zip's central directory lists; returns why the
    /// directory cannot be trusted when it points at something that is not
    /// a member.
    fn zip_members<R: Read + Seek>(
        &mut self,
        archive: &mut zip::ZipArchive<R>,
        member: Option<&str>,
        depth: usize,
        done: &mut HashSet<u64>,
        spans: &mut Vec<(u64, u64)>,
    ) -> Result<Option<String>, Fault> {
        for i in 0..archive.len() {
            let e = match archive.by_index(i) {
                Ok(file) => {
                    done.insert(file.header_start());
                    spans.push((
                        file.header_start(),
                        file.data_start().saturating_add(file.compressed_size()),
                    ));
                    let name = join(member, file.name());
                    // A directory holds no data, a link only its target's
                    // name; one that holds more (a crafted zip hiding a
                    // member) is scanned, and said.
                    let hidden = if file.is_dir() {
                        file.size() > 0
                    } else {
                        file.is_symlink() && file.size() > LINK_MAX
                    };
                    if hidden {
                        let what = if file.is_dir() {
                            "directory"
                        } else {
                            "symbolic link"
                        };
                        self.visit.note(
                            Some(&name),
                            &format_args!(
                                "zip: a {what} entry holding {} bytes: scanned",
                                file.size()
                            ),
                        );
                    } else if file.is_dir() || file.is_symlink() {
                        continue;
                    }
                    let mut layer = Layer::new(
                        file,
                        depth + 1,
                        Some(&name),
                        Some(Container::Zip),
                        Some(self.budget.clone()),
                    );
                    self.member(&mut layer, &name, depth)?;
                    continue;
                }
                Err(e) => e,
            };
            if let ZipError::InvalidArchive(_) = e {
                return Ok(Some(format!(
                    "the central directory does not match the members ({})",
                    zip_cause(&e)
                )));
            }
            let name = match archive.name_for_index(i) {
                Some(n) => join(member, n),
                None => join(member, &format!("#{i}")),
            };
            self.visit
                .error(Some(&name), &format_args!("zip: {}", zip_cause(&e)));
            // Reported: the fallback is not to report it again.
            if let Ok(raw) = archive.by_index_raw(i) {
                done.insert(raw.header_start());
            }
        }
        Ok(None)
    }

    /// After a sound central directory: the bytes between the members it
    /// lists and before the directory that it does not account for (more
    /// than a data descriptor). A member hidden there (a local header the
    /// directory leaves out) is read by its local headers; other data is
    /// sniffed and scanned like a member. Either way a note says so.
    fn zip_gaps<R: Read + Seek>(
        &mut self,
        mut reader: R,
        member: Option<&str>,
        depth: usize,
        (start, end): (u64, u64),
        mut spans: Vec<(u64, u64)>,
    ) -> Result<(), Fault> {
        /// A zip64 data descriptor with its signature.
        const SLACK: u64 = 24;
        spans.sort_unstable();
        let mut gaps = Vec::new();
        let mut at = start;
        for (from, to) in spans.into_iter().chain([(end, end)]) {
            if from > at.saturating_add(SLACK) && from <= end {
                gaps.push((at, from));
            }
            at = at.max(to);
        }
        for (from, to) in gaps {
            if reader.seek(SeekFrom::Start(from)).is_err() {
                return Err(Fault { depth });
            }
            let mut head = [0u8; SLACK as usize + 4];
            let n = (&mut reader)
                .take(head.len() as u64)
                .read(&mut head)
                .unwrap_or(0);
            let local = head[..n].windows(4).position(|w| w == b"PK\x03\x04");
            let place = format!("bytes {from}..{to}");
            let name = join(member, &format!("({place})"));
            self.visit.note(
                member,
                &format_args!(
                    "zip: {} bytes at {place} are not listed in the central directory{}: scanned",
                    to - from,
                    if local.is_some() {
                        " (a hidden member)"
                    } else {
                        ""
                    }
                ),
            );
            let from = from + local.unwrap_or(0) as u64;
            if reader.seek(SeekFrom::Start(from)).is_err() {
                return Err(Fault { depth });
            }
            let mut gap = (&mut reader).take(to - from);
            if local.is_some() {
                self.zip_local_headers(gap, member, depth, &HashSet::new())?;
            } else {
                let mut layer = Layer::new(
                    &mut gap,
                    depth + 1,
                    Some(&name),
                    Some(Container::Zip),
                    Some(self.budget.clone()),
                );
                self.member(&mut layer, &name, depth)?;
            }
        }
        Ok(())
    }

    /// Walks a zip front to back by its local headers (see `ziplocal`),
    /// skipping the members whose headers start at an offset in `done`.
    /// Stops quietly where the headers stop: the caller has reported the
    /// damage already.
    fn zip_local_headers<R: Read>(
        &mut self,
        reader: R,
        member: Option<&str>,
        depth: usize,
        done: &HashSet<u64>,
    ) -> Result<(), Fault> {
        let mut r = ziplocal::Tracked::new(BufReader::with_capacity(64 << 10, reader));
        loop {
            let at = r.pos();
            let header = match ziplocal::next(&mut r) {
                Ok(Some(h)) => h,
                Ok(None) => return Ok(()),
                Err(e) => return Err(self.fail_as(e, member, depth, Container::Zip)),
            };
            let name = join(member, &header.name);
            let hidden = header.is_dir() && header.holds_data();
            if hidden && !done.contains(&at) {
                self.visit
                    .note(Some(&name), &"zip: a directory entry holding data: scanned");
            }
            if (header.is_dir() && !hidden) || done.contains(&at) {
                if header.skip(&mut r).is_err() {
                    return Ok(());
                }
                continue;
            }
            let drained = match header.data(&mut r) {
                Ok(mut data) => {
                    let mut layer = Layer::new(
                        &mut data,
                        depth + 1,
                        Some(&name),
                        Some(Container::Zip),
                        Some(self.budget.clone()),
                    );
                    self.member(&mut layer, &name, depth)?;
                    // To the end of the data, even when the member was not
                    // read whole (a binary member), to find the next header.
                    Some(io::copy(&mut data, &mut io::sink()))
                }
                Err(why) => {
                    self.visit.error(Some(&name), &format_args!("zip: {why}"));
                    if !header.skippable() {
                        return Err(Fault { depth });
                    }
                    None
                }
            };
            let moved_on = match drained {
                Some(Ok(_)) => header.finish(&mut r),
                Some(Err(e)) => Err(e),
                None => header.skip(&mut r),
            };
            if moved_on.is_err() {
                // Where the next header would start is unknown.
                return Ok(());
            }
        }
    }

    /// Reports a read error where it arose and says how far it reaches.
    fn fail(&mut self, e: io::Error, member: Option<&str>, depth: usize) -> Fault {
        match origin(&e) {
            Origin::Layer(b) => {
                self.visit.error(b.member.as_deref(), b);
                Fault { depth: b.depth }
            }
            Origin::Limit(l) => {
                self.visit.error(member, l);
                Fault { depth: 0 }
            }
            Origin::Unknown => {
                self.visit.error(member, &e);
                Fault { depth }
            }
        }
    }

    /// As [`Walker::fail`], for an error of an archive's own structure.
    fn fail_as(
        &mut self,
        e: io::Error,
        member: Option<&str>,
        depth: usize,
        what: Container,
    ) -> Fault {
        match origin(&e) {
            Origin::Unknown => {
                // Only the fixed part of the message: the tar crate goes on
                // to quote header fields, which are input bytes.
                let text = e.to_string();
                let cause = text.split([':', '\n']).next().unwrap_or_default();
                self.visit.error(member, &format_args!("{what}: {cause}"));
                Fault { depth }
            }
            _ => self.fail(e, member, depth),
        }
    }
}

fn zip_cause(e: &ZipError) -> String {
    match e {
        ZipError::Io(e) => io_cause(e),
        e => e.to_string(),
    }
}

/// Longest target a symbolic link member holds (PATH_MAX).
const LINK_MAX: u64 = 4096;

/// Why binary data is skipped, and how to scan it anyway.
pub const BINARY: &str =
    "binary data (a binary format, or many control bytes); -a scans it as text";

/// `outer!inner` for a member of a nested archive.
fn join(parent: Option<&str>, name: &str) -> String {
    match parent {
        Some(p) => format!("{p}!{name}"),
        None => name.to_owned(),
    }
}

/// Most bytes a tar may spend on one member's headers: GNU long names,
/// pax extensions and sparse maps (zero blocks are free). The tar crate
/// reads a long name or a pax extension whole into memory; without a cap
/// one hostile header could take all of it.
const TAR_HEADER_CAP: u64 = 4 << 20;

/// The tar stream as the tar crate reads it, allowing `left` more bytes.
/// Each time a member is handed out, `left` is set to its stored bytes
/// plus [`TAR_HEADER_CAP`] for the headers that follow; reading past that
/// is an error that ends the archive.
struct Metered<R> {
    inner: R,
    left: Rc<Cell<u64>>,
    /// Bytes read so far, for the error.
    at: u64,
    /// The archive's depth and name, for the error.
    depth: usize,
    member: Option<String>,
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // The tar crate reads a header as one 512-byte block; zero blocks
        // (end markers, padding to the record size, however long) are
        // free, so only headers with content count against the cap.
        let block = buf.len() == 512;
        let left = self.left.get();
        let most = if block {
            512
        } else {
            buf.len().min(usize::try_from(left).unwrap_or(usize::MAX))
        };
        if most == 0 && !buf.is_empty() {
            return Err(self.over_cap());
        }
        let n = self.inner.read(&mut buf[..most])?;
        self.at += n as u64;
        if !(block && buf[..n].iter().all(|b| *b == 0)) {
            match left.checked_sub(n as u64) {
                Some(rest) => self.left.set(rest),
                None => return Err(self.over_cap()),
            }
        }
        Ok(n)
    }
}

impl<R> Metered<R> {
    fn over_cap(&self) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            Broken {
                depth: self.depth,
                member: self.member.clone(),
                what: Some(Container::Tar),
                at: self.at,
                source: io::Error::other(format!(
                    "a member's headers (long name, pax extension or sparse map) \
                     take more than {} MiB",
                    TAR_HEADER_CAP >> 20
                )),
            },
        )
    }
}

/// A tar member's bytes. A tar stream that ends inside a member (a cut-off
/// archive) gives a short member and no error; this makes it the archive's
/// error, at the archive's depth, so it is reported once and ends the walk.
struct Exact<R> {
    inner: R,
    left: u64,
    size: u64,
    /// The archive's depth (the error ends the archive) ...
    depth: usize,
    /// ... and the member it names.
    member: String,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.saturating_sub(n as u64);
        if n == 0 && self.left > 0 && !buf.is_empty() {
            let done = self.size - self.left;
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                Broken {
                    depth: self.depth,
                    member: Some(self.member.clone()),
                    what: Some(Container::Tar),
                    at: done,
                    source: io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "the archive ends inside a member ({done} of {} bytes)",
                            self.size
                        ),
                    ),
                },
            ));
        }
        Ok(n)
    }
}
