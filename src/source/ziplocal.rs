//! Reading a zip front to back by its local file headers, for when its
//! central directory (at the end) is missing or wrong: a download cut off,
//! a damaged copy. The zip crate reads local headers only when they carry
//! the sizes, which zips written to a stream (data descriptors: `zip -`,
//! Java's ZipOutputStream) never do; deflate data ends by itself, so those
//! members are still readable here.

use std::io::{self, BufRead, Read};

const LOCAL: &[u8; 4] = b"PK\x03\x04";
const DESCRIPTOR: &[u8; 4] = b"PK\x07\x08";
const STORED: u16 = 0;
const DEFLATED: u16 = 8;

/// One local file header.
#[derive(Debug)]
pub struct Header {
    pub name: String,
    flags: u16,
    method: u16,
    compressed: u64,
    zip64: bool,
}

impl Header {
    pub fn encrypted(&self) -> bool {
        self.flags & 1 != 0
    }

    /// Sizes and CRC follow the data instead of being in the header.
    fn descriptor(&self) -> bool {
        self.flags & 8 != 0
    }

    pub fn is_dir(&self) -> bool {
        self.name.ends_with('/')
    }

    /// Whether the header announces data (a directory should hold none).
    pub fn holds_data(&self) -> bool {
        self.compressed > 0
    }

    /// Whether the header says how long the data is.
    fn sized(&self) -> bool {
        !self.descriptor() || self.compressed > 0
    }

    /// The member's data, decompressed, or why it cannot be read. Read it
    /// to its end, then [`Header::finish`], before the next header.
    pub fn data<'r, R: BufRead + 'r>(&self, r: &'r mut R) -> Result<Box<dyn Read + 'r>, String> {
        match self.method {
            _ if self.encrypted() => Err("encrypted member: not scanned".into()),
            DEFLATED if self.sized() => Ok(Box::new(flate2::bufread::DeflateDecoder::new(
                r.take(self.compressed),
            ))),
            // Deflate data ends by itself: no size needed.
            DEFLATED => Ok(Box::new(flate2::bufread::DeflateDecoder::new(r))),
            STORED if self.sized() => Ok(Box::new(r.take(self.compressed))),
            STORED => Err(
                "stored member of unknown size: its end cannot be found without the central directory".into(),
            ),
            m => Err(format!(
                "compression method {m} cannot be read without the central directory: not scanned"
            )),
        }
    }

    /// Whether the following headers can still be found after this member
    /// was not read: when its size is known or its data ends by itself.
    pub fn skippable(&self) -> bool {
        self.sized() || (self.method == DEFLATED && !self.encrypted())
    }

    /// Passes over a member's data without scanning it.
    pub fn skip<R: BufRead>(&self, r: &mut R) -> io::Result<()> {
        if self.sized() {
            io::copy(&mut r.take(self.compressed), &mut io::sink())?;
        } else {
            let mut data = self.data(r).map_err(io::Error::other)?;
            io::copy(&mut data, &mut io::sink())?;
        }
        self.finish(r)
    }

    /// Consumes the data descriptor that follows the data, if any.
    pub fn finish<R: BufRead>(&self, r: &mut R) -> io::Result<()> {
        if !self.descriptor() {
            return Ok(());
        }
        let mut sig = [0u8; 4];
        r.read_exact(&mut sig)?;
        // The signature is optional; without it those 4 bytes were the CRC.
        let rest = if &sig == DESCRIPTOR { 4 } else { 0 } + if self.zip64 { 16 } else { 8 };
        io::copy(&mut r.take(rest), &mut io::sink())?;
        Ok(())
    }
}

/// A buffered reader that counts what was read from it, so a local header
/// can be known by its offset, the way the central directory knows it.
pub struct Tracked<R> {
    inner: R,
    pos: u64,
}

impl<R: BufRead> Tracked<R> {
    pub fn new(inner: R) -> Self {
        Tracked { inner, pos: 0 }
    }

    /// Bytes read so far: the offset of what comes next.
    pub fn pos(&self) -> u64 {
        self.pos
    }
}

impl<R: BufRead> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Tracked<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt);
        self.pos += amt as u64;
    }
}

/// Reads the next local header; None at the central directory, at the end
/// of the stream, or at anything that is not a local header.
pub fn next<R: BufRead>(r: &mut R) -> io::Result<Option<Header>> {
    let mut fixed = [0u8; 30];
    match r.read_exact(&mut fixed) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    if &fixed[..4] != LOCAL {
        return Ok(None);
    }
    let u16_at = |i: usize| u16::from_le_bytes([fixed[i], fixed[i + 1]]);
    let u32_at =
        |i: usize| u32::from_le_bytes([fixed[i], fixed[i + 1], fixed[i + 2], fixed[i + 3]]);
    let mut name = vec![0u8; usize::from(u16_at(26))];
    let mut extra = vec![0u8; usize::from(u16_at(28))];
    // A header cut short is where the readable part ends, like EOF.
    match r
        .read_exact(&mut name)
        .and_then(|()| r.read_exact(&mut extra))
    {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let (mut compressed, uncompressed) = (u64::from(u32_at(18)), u32_at(22));
    let zip64 = zip64_extra(&extra);
    if let Some(fields) = &zip64 {
        // The zip64 field lists the original size first, then the
        // compressed size, each only where the header holds 0xFFFFFFFF.
        let mut i = 0;
        let mut field = || {
            let v = fields
                .get(i..i + 8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes);
            i += 8;
            v
        };
        if uncompressed == u32::MAX {
            field();
        }
        if compressed == u64::from(u32::MAX) {
            compressed = field().ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a local header's zip64 field lacks the compressed size",
                )
            })?;
        }
    }
    Ok(Some(Header {
        name: String::from_utf8_lossy(&name).into_owned(),
        flags: u16_at(6),
        method: u16_at(8),
        compressed,
        zip64: zip64.is_some(),
    }))
}

/// The data of the zip64 extended-information field (id 1), if present.
fn zip64_extra(mut extra: &[u8]) -> Option<Vec<u8>> {
    while extra.len() >= 4 {
        let id = u16::from_le_bytes([extra[0], extra[1]]);
        let len = usize::from(u16::from_le_bytes([extra[2], extra[3]]));
        let data = extra.get(4..4 + len)?;
        if id == 1 {
            return Some(data.to_vec());
        }
        extra = &extra[4 + len..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Cursor, Write};

    /// A zip written to a stream (data descriptors, no sizes in the
    /// headers), cut before its central directory.
    fn streamed_zip_cut() -> Vec<u8> {
        let mut w = zip::ZipWriter::new_stream(Vec::new());
        let deflate = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file("a.log", deflate).unwrap();
        w.write_all(b"first member\n").unwrap();
        w.start_file("b.log", deflate).unwrap();
        w.write_all(b"second member\n").unwrap();
        let bytes = w.finish().unwrap().into_inner();
        let cd = bytes
            .windows(4)
            .position(|x| x == b"PK\x01\x02")
            .expect("a central directory");
        bytes[..cd].to_vec()
    }

    #[test]
    fn zip64_header_without_its_compressed_size_is_an_error() {
        // Both sizes are 0xFFFFFFFF, but the zip64 field holds only one.
        let mut h = Vec::new();
        h.extend_from_slice(LOCAL);
        h.extend_from_slice(&[45, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        h.extend_from_slice(&u32::MAX.to_le_bytes());
        h.extend_from_slice(&u32::MAX.to_le_bytes());
        h.extend_from_slice(&5u16.to_le_bytes());
        h.extend_from_slice(&12u16.to_le_bytes());
        h.extend_from_slice(b"a.log");
        h.extend_from_slice(&[1, 0, 8, 0]);
        h.extend_from_slice(&7u64.to_le_bytes());
        let e = next(&mut BufReader::new(Cursor::new(h))).unwrap_err();
        assert!(e.to_string().contains("zip64"), "{e}");
    }

    #[test]
    fn reads_streamed_members_without_the_central_directory() {
        let bytes = streamed_zip_cut();
        let mut r = BufReader::new(Cursor::new(bytes));
        let mut got = Vec::new();
        while let Some(h) = next(&mut r).unwrap() {
            let mut text = String::new();
            h.data(&mut r).unwrap().read_to_string(&mut text).unwrap();
            h.finish(&mut r).unwrap();
            got.push((h.name.clone(), text));
        }
        assert_eq!(
            got,
            vec![
                ("a.log".to_string(), "first member\n".to_string()),
                ("b.log".to_string(), "second member\n".to_string())
            ]
        );
    }
}
