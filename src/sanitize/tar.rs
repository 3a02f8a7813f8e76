//! Rewriting a tar member by member, read block by block here rather than
//! through the tar crate's entry iterator, so that nothing it does not
//! model is lost: every header is copied as it was (GNU long names and
//! links, pax extended and global headers with all their records, links,
//! devices, FIFOs, directories), and only a file's data is redacted.
//!
//! A text or binary member keeps its size (markers take the secret's exact
//! length), so it streams straight through; a member that changes size (a
//! compressed log, a HAR, a nested tar) is spooled first, because the size
//! goes in the header before the data. A GNU sparse member (old GNU format
//! or pax 0.0/0.1/1.0) becomes a regular member of the same content, its
//! holes written as zeros. A member of a type with data that is not
//! understood is an error: never an empty body.

use std::cell::RefCell;
use std::io::{self, Read, Write};

use super::spool::Spool;
use super::{copy_sniffed, text, Fit, Redactor};
use crate::source::decode::Layer;
use crate::source::detect::{sniff_stream, Container, Sniff};

const BLOCK: usize = 512;

/// Most bytes one member's extension headers (long names, pax records,
/// sparse maps) may take; they are held in memory.
const HEADER_CAP: u64 = 4 << 20;

/// Rewrites the tar read from `input` into `out`. Zero blocks are read
/// through (as `tar -i` does), so concatenated archives come out as one.
pub fn copy(
    r: &mut Redactor,
    input: &mut dyn Read,
    out: &mut dyn Write,
    depth: usize,
) -> io::Result<()> {
    let mut t = Blocks {
        inner: input,
        at: 0,
    };
    let mut pending: Vec<Ext> = Vec::new();
    let mut ext_bytes = 0u64;
    while let Some(block) = t.header()? {
        let header = tar::Header::from_byte_slice(&block).clone();
        let sum: u32 = block[..148]
            .iter()
            .chain(&block[156..])
            .map(|&b| u32::from(b))
            .sum::<u32>()
            + 8 * 32;
        if header.cksum().ok() != Some(sum) {
            return Err(invalid(format!(
                "bad header checksum at byte {}",
                t.at - BLOCK as u64
            )));
        }
        let kind = block[156];
        let stored = header.entry_size()?;
        match kind {
            b'L' | b'K' | b'x' => {
                ext_bytes = ext_bytes.saturating_add(stored);
                if ext_bytes > HEADER_CAP {
                    return Err(over_cap());
                }
                let body = t.body(stored)?;
                pending.push(Ext { header, body });
                continue;
            }
            b'g' => {
                if stored > HEADER_CAP {
                    return Err(over_cap());
                }
                let body = t.body(stored)?;
                write_block(out, header.as_bytes())?;
                write_padded(out, &body)?;
                continue;
            }
            _ => {}
        }
        let name = name(&header, &pending);
        let pax = pending.iter().rev().find(|e| e.kind() == b'x');
        let records = match pax {
            Some(e) => records(&e.body)?,
            None => Vec::new(),
        };
        let get = |key: &str| {
            records
                .iter()
                .rev()
                .find(|(k, _)| *k == key.as_bytes())
                .map(|(_, v)| *v)
        };
        let size = match get("size") {
            Some(v) => number(v).ok_or_else(|| invalid(format!("{name}: bad pax size")))?,
            None => stored,
        };
        let named = |e: io::Error| io::Error::new(e.kind(), format!("{name}: {}", cause(&e)));
        let sparse_pax = records.iter().any(|(k, _)| k.starts_with(b"GNU.sparse."));
        match kind {
            b'0' | 0 | b'7' if sparse_pax => {
                let mut data = Exact::new(&mut t, size);
                let map = pax_sparse(&records, &mut data, &mut ext_bytes).map_err(named)?;
                let real_name = get("GNU.sparse.name").map(<[u8]>::to_vec);
                for e in pending.iter_mut().filter(|e| e.kind() == b'x') {
                    e.edit(|k, _| !k.starts_with(b"GNU.sparse.") && k != b"size")?;
                    if let Some(n) = &real_name {
                        e.edit(|k, _| k != b"path")?;
                        e.body.extend(record(b"path", n));
                        e.fix_size();
                    }
                }
                let mut header = header;
                header.set_entry_type(tar::EntryType::Regular);
                sparse(r, header, &mut pending, map, &mut data, out, depth).map_err(named)?;
                data.finish().map_err(named)?;
            }
            b'0' | 0 | b'7' => {
                let mut data = Exact::new(&mut t, size);
                member(r, header, &mut pending, &mut data, size, out, depth).map_err(named)?;
                data.finish().map_err(named)?;
            }
            b'S' => {
                let map = gnu_sparse(&header, &mut t, &mut ext_bytes).map_err(named)?;
                let mut header = header;
                if let Some(gnu) = header.as_gnu_mut() {
                    for s in gnu.sparse.iter_mut() {
                        s.offset = [0; 12];
                        s.numbytes = [0; 12];
                    }
                    gnu.isextended = [0];
                    gnu.realsize = [0; 12];
                }
                header.set_entry_type(tar::EntryType::Regular);
                let mut data = Exact::new(&mut t, size);
                sparse(r, header, &mut pending, map, &mut data, out, depth).map_err(named)?;
                data.finish().map_err(named)?;
            }
            // Hard and symbolic links, devices, directories, FIFOs, and
            // any other member without data: copied as they are.
            b'1'..=b'6' => verbatim(&mut t, &header, &mut pending, size, out)?,
            _ if size == 0 => verbatim(&mut t, &header, &mut pending, size, out)?,
            other => {
                return Err(invalid(format!(
                "{name}: member type '{}' with {size} bytes of data is not one redact can rewrite",
                char::from(other).escape_default()
            )))
            }
        }
        pending.clear();
        ext_bytes = 0;
    }
    // Extension headers with no member after them: kept, as they were.
    for e in &pending {
        write_block(out, e.header.as_bytes())?;
        write_padded(out, &e.body)?;
    }
    out.write_all(&[0; 2 * BLOCK])?;
    out.flush()
}

/// The tar stream, block by block.
struct Blocks<'a> {
    inner: &'a mut dyn Read,
    /// Bytes read so far.
    at: u64,
}

impl Blocks<'_> {
    /// The next header block, zero blocks skipped; None at the end.
    fn header(&mut self) -> io::Result<Option<[u8; BLOCK]>> {
        loop {
            let mut b = [0u8; BLOCK];
            let n = read_full(self, &mut b)?;
            if n == 0 {
                return Ok(None);
            }
            if n < BLOCK {
                return Err(invalid(format!(
                    "the archive ends inside a header at byte {}",
                    self.at
                )));
            }
            if b.iter().any(|&x| x != 0) {
                return Ok(Some(b));
            }
        }
    }

    /// A small body (an extension header's), with its padding.
    fn body(&mut self, size: u64) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        let mut exact = Exact::new(self, size);
        exact.read_to_end(&mut body)?;
        exact.finish()?;
        Ok(body)
    }
}

impl Read for Blocks<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.at += n as u64;
        Ok(n)
    }
}

/// Reads until `buf` is full or the stream ends; the bytes read.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Exactly `size` bytes of a member's data; a stream that ends sooner is
/// an error (a cut-off archive), not a short member. [`Exact::finish`]
/// reads what is left and the padding to the next block.
struct Exact<'a, 'b> {
    inner: &'a mut Blocks<'b>,
    left: u64,
    size: u64,
}

impl<'a, 'b> Exact<'a, 'b> {
    fn new(inner: &'a mut Blocks<'b>, size: u64) -> Self {
        Exact {
            inner,
            left: size,
            size,
        }
    }

    fn finish(mut self) -> io::Result<()> {
        io::copy(&mut self, &mut io::sink())?;
        let pad = (BLOCK as u64 - self.size % BLOCK as u64) % BLOCK as u64;
        let mut b = [0u8; BLOCK];
        let n = read_full(self.inner, &mut b[..pad as usize])?;
        if (n as u64) < pad {
            return Err(cut(self.size, self.size));
        }
        Ok(())
    }
}

impl Read for Exact<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let most = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..most])?;
        if n == 0 {
            return Err(cut(self.size - self.left, self.size));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn cut(done: u64, size: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("the archive ends inside a member ({done} of {size} bytes)"),
    )
}

/// An extension header ('L', 'K', 'x') waiting for the member it describes.
struct Ext {
    header: tar::Header,
    body: Vec<u8>,
}

impl Ext {
    fn kind(&self) -> u8 {
        self.header.as_bytes()[156]
    }

    /// Keeps the pax records for which `keep(key, value)` holds.
    fn edit(&mut self, keep: impl Fn(&[u8], &[u8]) -> bool) -> io::Result<()> {
        let mut body = Vec::with_capacity(self.body.len());
        for (k, v) in records(&self.body)? {
            if keep(k, v) {
                body.extend(record(k, v));
            }
        }
        self.body = body;
        self.fix_size();
        Ok(())
    }

    fn fix_size(&mut self) {
        self.header.set_size(self.body.len() as u64);
        self.header.set_cksum();
    }

    /// A pax `size` record, if any, set to `len`.
    fn set_pax_size(&mut self, len: u64) -> io::Result<()> {
        if self.kind() != b'x' || !records(&self.body)?.iter().any(|(k, _)| *k == b"size") {
            return Ok(());
        }
        let mut body = Vec::with_capacity(self.body.len());
        for (k, v) in records(&self.body)? {
            if k == b"size" {
                body.extend(record(k, len.to_string().as_bytes()));
            } else {
                body.extend(record(k, v));
            }
        }
        self.body = body;
        self.fix_size();
        Ok(())
    }
}

/// The member's name, for messages: a GNU long name, a pax path, or the
/// header's own.
fn name(header: &tar::Header, pending: &[Ext]) -> String {
    for e in pending.iter().rev() {
        match e.kind() {
            b'L' => {
                let n = e.body.split(|&b| b == 0).next().unwrap_or_default();
                return String::from_utf8_lossy(n).into_owned();
            }
            b'x' => {
                if let Ok(recs) = records(&e.body) {
                    if let Some((_, v)) = recs.iter().rev().find(|(k, _)| *k == b"path") {
                        return String::from_utf8_lossy(v).into_owned();
                    }
                }
            }
            _ => {}
        }
    }
    String::from_utf8_lossy(&header.path_bytes()).into_owned()
}

/// The records `"<len> <key>=<value>\n"` of a pax extended header.
fn records(body: &[u8]) -> io::Result<Vec<(&[u8], &[u8])>> {
    let bad = || invalid("malformed pax extended header".into());
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        // Some writers pad the body with NULs.
        if rest.iter().all(|&b| b == 0) {
            break;
        }
        let space = memchr::memchr(b' ', rest).ok_or_else(bad)?;
        let len: usize = std::str::from_utf8(&rest[..space])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        if len <= space + 1 || len > rest.len() || rest[len - 1] != b'\n' {
            return Err(bad());
        }
        let kv = &rest[space + 1..len - 1];
        let eq = memchr::memchr(b'=', kv).ok_or_else(bad)?;
        out.push((&kv[..eq], &kv[eq + 1..]));
        rest = &rest[len..];
    }
    Ok(out)
}

/// One pax record; its length counts its own digits.
fn record(key: &[u8], value: &[u8]) -> Vec<u8> {
    let body = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    let mut out = format!("{len} ").into_bytes();
    out.extend_from_slice(key);
    out.push(b'=');
    out.extend_from_slice(value);
    out.push(b'\n');
    out
}

fn number(v: &[u8]) -> Option<u64> {
    std::str::from_utf8(v).ok()?.trim().parse().ok()
}

fn write_block(out: &mut dyn Write, b: &[u8; BLOCK]) -> io::Result<()> {
    out.write_all(b)
}

fn write_padded(out: &mut dyn Write, body: &[u8]) -> io::Result<()> {
    out.write_all(body)?;
    pad(out, body.len() as u64)
}

fn pad(out: &mut dyn Write, len: u64) -> io::Result<()> {
    let pad = (BLOCK as u64 - len % BLOCK as u64) % BLOCK as u64;
    out.write_all(&[0u8; BLOCK][..pad as usize])
}

fn write_pending(out: &mut dyn Write, pending: &mut [Ext], len: u64) -> io::Result<()> {
    for e in pending.iter_mut() {
        e.set_pax_size(len)?;
        write_block(out, e.header.as_bytes())?;
        write_padded(out, &e.body)?;
    }
    Ok(())
}

/// A member without content to redact: its headers and data as they were.
fn verbatim(
    t: &mut Blocks,
    header: &tar::Header,
    pending: &mut [Ext],
    size: u64,
    out: &mut dyn Write,
) -> io::Result<()> {
    for e in pending.iter() {
        write_block(out, e.header.as_bytes())?;
        write_padded(out, &e.body)?;
    }
    write_block(out, header.as_bytes())?;
    let mut data = Exact::new(t, size);
    io::copy(&mut data, out)?;
    data.finish()?;
    pad(out, size)
}

/// Writes one file member: `header` (its size set), then `content` (`len`
/// bytes) redacted. Text and binary keep their length and stream; any
/// other format is spooled to learn its new size.
fn member(
    r: &mut Redactor,
    mut header: tar::Header,
    pending: &mut [Ext],
    content: &mut dyn Read,
    len: u64,
    out: &mut dyn Write,
    depth: usize,
) -> io::Result<()> {
    let raw = RefCell::new(Some(Spool::new()));
    let mut tee = Tee {
        inner: content,
        raw: &raw,
    };
    let (kind, mut stream) = sniff_stream(&mut tee as &mut dyn Read);
    if let Some(e) = stream.take_error() {
        return Err(e);
    }
    let same = match kind {
        Sniff::Text => !crate::har::sniff(stream.head()),
        Sniff::Binary => true,
        Sniff::Container(_) => false,
    };
    if same {
        // Streamed: no copy of the input is kept.
        raw.borrow_mut().take();
        write_pending(out, pending, len)?;
        header.set_size(len);
        header.set_cksum();
        write_block(out, header.as_bytes())?;
        let mut counted = Counted { inner: out, n: 0 };
        if kind == Sniff::Binary {
            io::copy(&mut stream, &mut counted)?;
        } else {
            text::stream(r, &mut stream, &mut counted, Fit::Same)?;
        }
        if counted.n != len {
            return Err(io::Error::other(format!(
                "the member gave {} bytes, its header says {len}",
                counted.n
            )));
        }
        return pad(out, len);
    }
    let before = r.total();
    let mut spool = Spool::new();
    copy_sniffed(r, kind, &mut stream, &mut spool, depth + 1)?;
    drop(stream);
    // Nothing redacted in it: the member as it was, not re-encoded.
    let raw = raw.borrow_mut().take();
    let spool = match raw {
        Some(raw) if r.total() == before && raw.len() == len => raw,
        _ => spool,
    };
    let n = spool.len();
    write_pending(out, pending, n)?;
    header.set_size(n);
    header.set_cksum();
    write_block(out, header.as_bytes())?;
    spool.drain(out)?;
    pad(out, n)
}

/// A member's bytes as they are read, copied to `raw` while it is set: a
/// member rewritten with nothing redacted in it is then written back as it
/// was (a clean `.gz` member is not compressed again).
struct Tee<'a> {
    inner: &'a mut dyn Read,
    raw: &'a RefCell<Option<Spool>>,
}

impl Read for Tee<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(s) = self.raw.borrow_mut().as_mut() {
            s.write_all(&buf[..n])?;
        }
        Ok(n)
    }
}

struct Counted<'a> {
    inner: &'a mut dyn Write,
    n: u64,
}

impl Write for Counted<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Where a sparse member's stored data goes in the file it stands for.
struct Map {
    /// (offset, length) of each stored segment, in order.
    segments: Vec<(u64, u64)>,
    /// The file's whole size, holes included.
    real: u64,
}

/// Writes a sparse member as a regular one of the same content: the
/// stored segments with the holes between them as zeros (counted against
/// the decompression budget, as the scan counts them).
fn sparse(
    r: &mut Redactor,
    header: tar::Header,
    pending: &mut [Ext],
    map: Map,
    data: &mut dyn Read,
    out: &mut dyn Write,
    depth: usize,
) -> io::Result<()> {
    let mut end = 0;
    for &(off, len) in &map.segments {
        if off < end {
            return Err(invalid("sparse map out of order or overlapping".into()));
        }
        end = off
            .checked_add(len)
            .ok_or_else(|| invalid("sparse map overflows".into()))?;
    }
    if end > map.real {
        return Err(invalid("sparse map reaches past the file's size".into()));
    }
    let real = map.real;
    let expand = Expand {
        data,
        map,
        next: 0,
        pos: 0,
    };
    let budget = Some(r.budget.clone());
    let mut layer = Layer::new(expand, depth + 1, None, Some(Container::Tar), budget);
    member(r, header, pending, &mut layer, real, out, depth)
}

struct Expand<'a> {
    data: &'a mut dyn Read,
    map: Map,
    next: usize,
    pos: u64,
}

impl Read for Expand<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.map.real || buf.is_empty() {
            return Ok(0);
        }
        let segs = &self.map.segments;
        while self.next < segs.len() && segs[self.next].0 + segs[self.next].1 <= self.pos {
            self.next += 1;
        }
        let room = |to: u64, at: u64| usize::try_from(to - at).unwrap_or(usize::MAX);
        match segs.get(self.next) {
            Some(&(off, len)) if off <= self.pos => {
                let most = buf.len().min(room(off + len, self.pos));
                let n = self.data.read(&mut buf[..most])?;
                if n == 0 {
                    return Err(invalid("sparse member shorter than its map".into()));
                }
                self.pos += n as u64;
                Ok(n)
            }
            next => {
                let hole_end = next.map_or(self.map.real, |s| s.0);
                let n = buf.len().min(room(hole_end, self.pos));
                buf[..n].fill(0);
                self.pos += n as u64;
                Ok(n)
            }
        }
    }
}

/// The map of an old-GNU sparse member ('S'): four entries in the header,
/// more in extension blocks that follow it.
fn gnu_sparse(header: &tar::Header, t: &mut Blocks, ext_bytes: &mut u64) -> io::Result<Map> {
    let gnu = header
        .as_gnu()
        .ok_or_else(|| invalid("sparse member without a GNU header".into()))?;
    let mut segments = Vec::new();
    let mut add = |s: &tar::GnuSparseHeader| -> io::Result<()> {
        if !s.is_empty() {
            segments.push((s.offset()?, s.length()?));
        }
        Ok(())
    };
    for s in &gnu.sparse {
        add(s)?;
    }
    let mut extended = gnu.is_extended();
    while extended {
        *ext_bytes += BLOCK as u64;
        if *ext_bytes > HEADER_CAP {
            return Err(over_cap());
        }
        let mut ext = tar::GnuExtSparseHeader::new();
        if read_full(t, ext.as_mut_bytes())? < BLOCK {
            return Err(cut(0, BLOCK as u64));
        }
        for s in &ext.sparse {
            add(s)?;
        }
        extended = ext.is_extended();
    }
    Ok(Map {
        segments,
        real: gnu.real_size()?,
    })
}

/// The map of a pax sparse member: format 0.0 (`GNU.sparse.offset` and
/// `numbytes` records), 0.1 (`GNU.sparse.map`) or 1.0 (a map at the start
/// of the data, read from `data` here).
fn pax_sparse(
    records: &[(&[u8], &[u8])],
    data: &mut dyn Read,
    ext_bytes: &mut u64,
) -> io::Result<Map> {
    let get = |key: &[u8]| {
        records
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    };
    let num = |v: &[u8]| number(v).ok_or_else(|| invalid("bad number in a pax sparse map".into()));
    let real = match get(b"GNU.sparse.realsize").or_else(|| get(b"GNU.sparse.size")) {
        Some(v) => num(v)?,
        None => return Err(invalid("pax sparse member without its real size".into())),
    };
    let mut flat: Vec<u64> = Vec::new();
    if get(b"GNU.sparse.major") == Some(b"1") {
        // Decimal numbers, one a line: the count, then offset and length
        // pairs; the map is padded to whole blocks.
        let mut text = Vec::new();
        let mut newlines = 0usize;
        let mut want: Option<usize> = None;
        loop {
            let mut b = [0u8; BLOCK];
            *ext_bytes += BLOCK as u64;
            if *ext_bytes > HEADER_CAP {
                return Err(over_cap());
            }
            if read_full(data, &mut b)? < BLOCK {
                return Err(invalid("pax sparse map cut off".into()));
            }
            text.extend_from_slice(&b);
            // Counted per block, so a long map costs linear time.
            newlines += memchr::memchr_iter(b'\n', &b).count();
            if want.is_none() && newlines > 0 {
                let first = text.split(|&c| c == b'\n').next().unwrap_or_default();
                let n = num(first)?;
                want = Some(usize::try_from(n).unwrap_or(usize::MAX).saturating_mul(2));
            }
            if let Some(w) = want {
                if newlines > w {
                    for l in text.split(|&c| c == b'\n').skip(1).take(w) {
                        flat.push(num(l)?);
                    }
                    break;
                }
            }
        }
    } else if let Some(map) = get(b"GNU.sparse.map") {
        for v in map.split(|&c| c == b',').filter(|v| !v.is_empty()) {
            flat.push(num(v)?);
        }
    } else {
        // 0.0: offset and numbytes records alternate, in order.
        for (k, v) in records {
            if *k == b"GNU.sparse.offset" || *k == b"GNU.sparse.numbytes" {
                flat.push(num(v)?);
            }
        }
    }
    if !flat.len().is_multiple_of(2) {
        return Err(invalid(
            "pax sparse map with an odd count of numbers".into(),
        ));
    }
    Ok(Map {
        segments: flat.chunks(2).map(|p| (p[0], p[1])).collect(),
        real,
    })
}

fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

fn over_cap() -> io::Error {
    invalid(format!(
        "a member's headers (long name, pax extension or sparse map) take more than {} MiB",
        HEADER_CAP >> 20
    ))
}

fn cause(e: &io::Error) -> String {
    crate::messages::io_cause(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_records_round_trip_with_self_counting_lengths() {
        for (k, v) in [
            ("path", "a"),
            ("size", "12345678901"),
            ("x", &"y".repeat(95)[..]),
        ] {
            let rec = record(k.as_bytes(), v.as_bytes());
            let parsed = records(&rec).unwrap();
            assert_eq!(parsed, vec![(k.as_bytes(), v.as_bytes())]);
        }
        assert!(records(b"99 path=a\n").is_err());
    }
}
