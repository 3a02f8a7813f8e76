//! Content sniffing on the first block of an input: compressed and archive
//! formats by magic bytes, binary by a NUL byte, otherwise text. Names are
//! never trusted: a `.log` may be gzip and a `.gz` may be text.

use std::fmt;
use std::io::{self, Cursor, Read};

/// How many leading bytes are sniffed.
pub const HEAD: usize = 8192;

/// A compression format or text encoding: one stream in, one stream out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
    Bzip2,
    Xz,
    /// UTF-16 text with a byte-order mark, read as UTF-8.
    Utf16 {
        big_endian: bool,
    },
}

/// A compressed or archive format leaksweep decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    Compressed(Compression),
    Tar,
    Zip,
}

impl Container {
    pub fn name(self) -> &'static str {
        match self {
            Container::Compressed(Compression::Gzip) => "gzip",
            Container::Compressed(Compression::Zstd) => "zstd",
            Container::Compressed(Compression::Bzip2) => "bzip2",
            Container::Compressed(Compression::Xz) => "xz",
            Container::Compressed(Compression::Utf16 { big_endian: false }) => "UTF-16LE",
            Container::Compressed(Compression::Utf16 { big_endian: true }) => "UTF-16BE",
            Container::Tar => "tar",
            Container::Zip => "zip",
        }
    }
}

impl fmt::Display for Container {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What an input's first block says it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniff {
    Text,
    /// A NUL byte in the first block and no known container format.
    Binary,
    Container(Container),
}

pub fn sniff(head: &[u8]) -> Sniff {
    const MAGIC: &[(&[u8], Container)] = &[
        (b"\x1f\x8b\x08", Container::Compressed(Compression::Gzip)),
        (
            b"\x28\xb5\x2f\xfd",
            Container::Compressed(Compression::Zstd),
        ),
        (b"\xfd7zXZ\x00", Container::Compressed(Compression::Xz)),
        (b"PK\x03\x04", Container::Zip),
        // An empty zip is only its end-of-central-directory record.
        (b"PK\x05\x06", Container::Zip),
    ];
    if let Some((_, c)) = MAGIC.iter().find(|(m, _)| head.starts_with(m)) {
        return Sniff::Container(*c);
    }
    // A UTF-16 byte-order mark: text (Windows-exported logs), read as
    // UTF-8. (Without a mark, UTF-16 text is binary to leaksweep.)
    for (bom, big_endian) in [(b"\xff\xfe", false), (b"\xfe\xff", true)] {
        if head.starts_with(bom) && head.len() >= 4 {
            return Sniff::Container(Container::Compressed(Compression::Utf16 { big_endian }));
        }
    }
    // A zstd skippable frame (pzstd writes one first): 0x184D2A50..5F.
    if head.len() >= 4 && head[0] & 0xf0 == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18] {
        return Sniff::Container(Container::Compressed(Compression::Zstd));
    }
    // "BZh" is also ordinary text: require the block-size digit and the
    // first block's magic (π in BCD), or an empty stream's end marker.
    if head.starts_with(b"BZh")
        && head.get(3).is_some_and(|d| (b'1'..=b'9').contains(d))
        && head
            .get(4..10)
            .is_some_and(|m| m == b"\x31\x41\x59\x26\x53\x59" || m == b"\x17\x72\x45\x38\x50\x90")
    {
        return Sniff::Container(Container::Compressed(Compression::Bzip2));
    }
    // POSIX "ustar\0" and GNU "ustar " both start with "ustar"; the header
    // checksum keeps a text file with "ustar" at byte 257 text.
    if head.len() >= 512 && &head[257..262] == b"ustar" && tar_checksum_ok(&head[..512]) {
        return Sniff::Container(Container::Tar);
    }
    if memchr::memchr(0, &head[..head.len().min(HEAD)]).is_some() {
        return Sniff::Binary;
    }
    Sniff::Text
}

/// A tar header's checksum field (octal, bytes 148..156) equals the sum of
/// its bytes with that field counted as spaces.
fn tar_checksum_ok(header: &[u8]) -> bool {
    let field = &header[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|b| *b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(b))
        .collect();
    let Some(want) = std::str::from_utf8(&digits)
        .ok()
        .and_then(|d| u32::from_str_radix(d, 8).ok())
    else {
        return false;
    };
    let sum: u32 = header
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                u32::from(b' ')
            } else {
                u32::from(b)
            }
        })
        .sum();
    sum == want
}

/// Reads a stream's first block and sniffs it. The reader returned replays
/// that block and goes on with the rest of the stream; when a read error
/// cut the block short, it replays the block and then the error, so the
/// bytes before the error are still scanned.
pub fn sniff_stream<R: Read>(mut reader: R) -> (Sniff, Sniffed<R>) {
    let mut head = Vec::with_capacity(HEAD);
    let error = (&mut reader).take(HEAD as u64).read_to_end(&mut head).err();
    let kind = sniff(&head);
    let stream = Sniffed {
        head: Cursor::new(head),
        error,
        rest: reader,
    };
    (kind, stream)
}

impl<R> Sniffed<R> {
    /// The read error that cut the first block short, if any (for a caller
    /// that will not read on).
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }

    /// The first block, as sniffed (before any of it is read).
    pub fn head(&self) -> &[u8] {
        self.head.get_ref()
    }
}

/// See [`sniff_stream`].
pub struct Sniffed<R> {
    head: Cursor<Vec<u8>>,
    error: Option<io::Error>,
    rest: R,
}

impl<R: Read> Read for Sniffed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.head.read(buf)?;
        if n > 0 || buf.is_empty() {
            return Ok(n);
        }
        match self.error.take() {
            Some(e) => Err(e),
            None => self.rest.read(buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        let c = Sniff::Container;
        assert_eq!(
            sniff(b"\x1f\x8b\x08\x00rest"),
            c(Container::Compressed(Compression::Gzip))
        );
        assert_eq!(
            sniff(b"\x28\xb5\x2f\xfd.."),
            c(Container::Compressed(Compression::Zstd))
        );
        assert_eq!(
            sniff(b"\xfd7zXZ\x00.."),
            c(Container::Compressed(Compression::Xz))
        );
        assert_eq!(sniff(b"PK\x03\x04...."), c(Container::Zip));
        assert_eq!(
            sniff(b"BZh91AY&SYrest"),
            c(Container::Compressed(Compression::Bzip2))
        );
        assert_eq!(sniff(b"BZh9 is not bzip2"), Sniff::Text);
        assert_eq!(sniff(b"BZhello world"), Sniff::Text);
        let mut tar = vec![b'a'; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(sniff(&tar), Sniff::Text, "ustar without a valid checksum");
        tar[148..156].fill(b' ');
        let sum: u32 = tar.iter().map(|&b| u32::from(b)).sum();
        tar[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        assert_eq!(sniff(&tar), c(Container::Tar));
        assert_eq!(
            sniff(b"\x50\x2a\x4d\x18\x04\0\0\0"),
            c(Container::Compressed(Compression::Zstd))
        );
        assert_eq!(sniff(b"GET / HTTP/1.1\n"), Sniff::Text);
        assert_eq!(sniff(b"ELF\x00\x01"), Sniff::Binary);
        assert_eq!(sniff(b""), Sniff::Text);
    }

    #[test]
    fn sniffed_stream_replays_the_head_then_the_error() {
        struct Short(bool);
        impl Read for Short {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if std::mem::replace(&mut self.0, true) {
                    return Err(io::Error::other("cut"));
                }
                buf[..4].copy_from_slice(b"GET ");
                Ok(4)
            }
        }
        let (kind, mut s) = sniff_stream(Short(false));
        assert_eq!(kind, Sniff::Text);
        let mut out = Vec::new();
        assert_eq!(s.read_to_end(&mut out).unwrap_err().to_string(), "cut");
        assert_eq!(out, b"GET ");
    }
}
