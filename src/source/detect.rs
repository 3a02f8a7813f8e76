//! Content sniffing: compressed and archive formats, UTF-16 and known
//! binary formats by their first bytes; otherwise binary or text by the
//! content of the first block and, for a file, of blocks sampled across it.
//! NUL runs and a few stray control bytes do not make a log binary. Names
//! are never trusted: a `.log` may be gzip and a `.gz` may be text.

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
    /// UTF-16 text (with a plausible byte-order mark, or mostly ASCII
    /// without one), read as UTF-8.
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
    /// A known binary format, or content with many control bytes.
    Binary,
    Container(Container),
}

/// Sniffs a stream by its first block only (stdin, a decompressed layer,
/// an archive member).
pub fn sniff(head: &[u8]) -> Sniff {
    sniff_blocks(head, &[])
}

/// Sniffs an input by its first block and, for a file that can be read
/// anywhere, a few more blocks sampled across it ([`sample_offsets`]).
/// Formats are known by magic bytes in the head; "binary" is otherwise a
/// matter of content over every block: a log that logrotate's
/// `copytruncate` left starting with a run of NULs, or with a few stray
/// control bytes, is text.
pub fn sniff_blocks(head: &[u8], more: &[&[u8]]) -> Sniff {
    if let Some(c) = container(head) {
        return Sniff::Container(c);
    }
    if BINARY_MAGIC.iter().any(|m| head.starts_with(m)) {
        return Sniff::Binary;
    }
    if let Some(big_endian) = utf16(head) {
        return Sniff::Container(Container::Compressed(Compression::Utf16 { big_endian }));
    }
    let mut t = Tally::default();
    for block in std::iter::once(head).chain(more.iter().copied()) {
        t.add(&block[..block.len().min(HEAD)]);
    }
    if t.binary() {
        Sniff::Binary
    } else {
        Sniff::Text
    }
}

/// Where to sample a file of `len` bytes besides its head: three blocks at
/// a quarter, a half and three quarters, and its last block, so that a
/// NUL-filled head (copytruncate) or a binary body is seen for what it is.
pub fn sample_offsets(len: u64) -> Vec<u64> {
    let block = SAMPLE as u64;
    if len <= HEAD as u64 {
        return Vec::new();
    }
    let mut at: Vec<u64> = [len / 4, len / 2, len / 4 * 3, len.saturating_sub(block)]
        .into_iter()
        .filter(|&o| o >= HEAD as u64)
        .collect();
    at.dedup();
    at
}

/// Bytes in each sampled block after the head.
pub const SAMPLE: usize = 4096;

/// Whether a block holds a NUL byte (the "scanned as text despite NUL
/// bytes" note).
pub fn has_nul(block: &[u8]) -> bool {
    memchr::memchr(0, block).is_some()
}

/// Magic bytes of files leaksweep does not read as text: executables and
/// object code, images, databases, and compressed or archive formats the
/// unpacker does not decode. Anything else is judged by its content.
const BINARY_MAGIC: &[&[u8]] = &[
    b"\x7fELF",          // ELF executables, objects, core dumps
    b"\xfe\xed\xfa\xce", // Mach-O
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  // Mach-O fat binary, Java class
    b"\0asm",             // WebAssembly
    b"\x89PNG\r\n\x1a\n", // PNG
    b"\xff\xd8\xff",      // JPEG
    b"GIF87a",
    b"GIF89a",
    b"II*\0", // TIFF
    b"MM\0*",
    b"%PDF-", // compressed streams
    b"SQLite format 3\0",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", // OLE2 (old Office documents, MSI)
    b"7z\xbc\xaf\x27\x1c",               // 7-Zip
    b"Rar!\x1a\x07",                     // RAR
    b"\x04\x22\x4d\x18",                 // LZ4 frame
    b"LZIP",
    b"\x1f\x9d",         // compress (.Z)
    b"MSCF\0\0\0\0",     // Windows cabinet
    b"\xed\xab\xee\xdb", // RPM
    b"!<arch>\n",        // ar (.deb, static libraries)
];

/// A compressed or archive format leaksweep decodes, by magic bytes.
fn container(head: &[u8]) -> Option<Container> {
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
        return Some(*c);
    }
    // A zstd skippable frame (pzstd writes one first): 0x184D2A50..5F.
    if head.len() >= 4 && head[0] & 0xf0 == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18] {
        return Some(Container::Compressed(Compression::Zstd));
    }
    // "BZh" is also ordinary text: require the block-size digit and the
    // first block's magic (π in BCD), or an empty stream's end marker.
    if head.starts_with(b"BZh")
        && head.get(3).is_some_and(|d| (b'1'..=b'9').contains(d))
        && head
            .get(4..10)
            .is_some_and(|m| m == b"\x31\x41\x59\x26\x53\x59" || m == b"\x17\x72\x45\x38\x50\x90")
    {
        return Some(Container::Compressed(Compression::Bzip2));
    }
    // POSIX "ustar\0" and GNU "ustar " both start with "ustar"; the header
    // checksum keeps a text file with "ustar" at byte 257 text.
    if head.len() >= 512 && &head[257..262] == b"ustar" && tar_checksum_ok(&head[..512]) {
        return Some(Container::Tar);
    }
    None
}

/// Whether `head` is UTF-16 text, and in which byte order. A byte-order
/// mark is trusted only when the text it announces is plausible: `FF FE`
/// followed by ASCII is a stray mark (or a crafted one) on UTF-8 text,
/// and decoding it as UTF-16 would turn every secret into CJK. Without a
/// mark, UTF-16 is recognised by its NULs: text that is mostly ASCII, as
/// logs are, has a NUL in every other byte.
fn utf16(head: &[u8]) -> Option<bool> {
    for (bom, big_endian) in [(b"\xff\xfe", false), (b"\xfe\xff", true)] {
        if head.starts_with(bom) && head.len() >= 4 {
            return plausible_utf16(&head[2..], big_endian).then_some(big_endian);
        }
    }
    // Without a mark, ask for enough text to tell, and for the pattern
    // in nearly every pair of bytes.
    let pairs = head.len() / 2;
    if pairs < 8 {
        return None;
    }
    let zeros = |odd: usize| {
        head.iter()
            .skip(odd)
            .step_by(2)
            .filter(|b| **b == 0)
            .count()
    };
    let (even, odd) = (zeros(0), zeros(1));
    for (big_endian, high, low) in [(false, odd, even), (true, even, odd)] {
        if high * 10 >= pairs * 9 && low * 20 <= pairs && plausible_utf16(head, big_endian) {
            return Some(big_endian);
        }
    }
    None
}

/// Whether `bytes` decode as UTF-16 to text: few control characters or
/// unpaired surrogates, and, when the same bytes are UTF-8 text without a
/// NUL, some ASCII among the code units (UTF-16 text with a line break or a
/// space has NUL bytes; UTF-8 text has none).
fn plausible_utf16(bytes: &[u8], big_endian: bool) -> bool {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|p| {
            if big_endian {
                u16::from_be_bytes([p[0], p[1]])
            } else {
                u16::from_le_bytes([p[0], p[1]])
            }
        })
        .collect();
    let mut controls = 0;
    let mut ascii = 0;
    let mut i = 0;
    while i < units.len() {
        let u = units[i];
        match u {
            // A pair is one character; a lone surrogate (Windows names
            // hold them) counts as odd, like a control, not as a verdict.
            0xd800..=0xdbff
                if units
                    .get(i + 1)
                    .is_some_and(|n| (0xdc00..0xe000).contains(n)) =>
            {
                i += 1;
            }
            0xd800..=0xdfff => controls += 1,
            0x09 | 0x0a | 0x0d | 0x1b | 0x20..=0x7e => ascii += 1,
            0..=0x1f | 0x7f | 0xfffe | 0xffff => controls += 1,
            _ => {}
        }
        i += 1;
    }
    if controls * 20 > units.len().max(1) {
        return false;
    }
    ascii > 0 || has_nul(bytes) || std::str::from_utf8(bytes).is_err()
}

/// Bytes that mark content as binary, counted outside NUL runs.
#[derive(Default)]
struct Tally {
    /// Bytes looked at (outside NUL runs).
    counted: usize,
    /// Of those, control bytes no text uses, and NULs outside runs.
    odd: usize,
}

/// NULs in a row that count as a run (preallocated or truncated space,
/// a sparse hole) rather than as content.
const NUL_RUN: usize = 16;

impl Tally {
    fn add(&mut self, block: &[u8]) {
        let mut i = 0;
        while i < block.len() {
            let b = block[i];
            if b == 0 {
                let run = block[i..].iter().take_while(|b| **b == 0).count();
                if run < NUL_RUN {
                    self.odd += run;
                    self.counted += run;
                }
                i += run;
                continue;
            }
            self.counted += 1;
            // Tab, line feed, vertical tab, form feed, carriage return and
            // ESC (colour codes) are text.
            if matches!(b, 1..=8 | 0x0e..=0x1a | 0x1c..=0x1f | 0x7f) {
                self.odd += 1;
            }
            i += 1;
        }
    }

    /// Random or compressed data has about 11% such bytes, executables and
    /// databases far more; text a handful at most. A few stray bytes, or
    /// none to judge by (all NULs), leave it text.
    fn binary(&self) -> bool {
        self.odd >= 8 && self.odd * 20 > self.counted
    }
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
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01"), Sniff::Binary);
        assert_eq!(sniff(b"SQLite format 3\0\x10\0"), Sniff::Binary);
        assert_eq!(sniff(b""), Sniff::Text);
    }

    /// Issue 16 item 1: NUL runs and stray bytes leave a log text; random
    /// (compressed, encrypted) data and code are binary.
    #[test]
    fn binary_is_decided_by_content() {
        let line = b"2024-05-01T12:00:00Z GET /api?x=1 HTTP/1.1 200\n";
        let mut truncated = vec![0u8; 8192];
        truncated.extend(line.iter().cycle().take(4096));
        assert_eq!(sniff(&truncated), Sniff::Text, "copytruncate NUL run");
        assert_eq!(sniff(&[0u8; 8192]), Sniff::Text, "nothing to judge by");
        let mut stray = line.repeat(100);
        for i in [10, 500, 1900, 3000] {
            stray[i] = [0, 1, 0x7f, 0x08][i % 4];
        }
        assert_eq!(sniff(&stray), Sniff::Text, "a few stray bytes");
        // xorshift noise: what compressed or encrypted data looks like.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let noise: Vec<u8> = (0..8192)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        assert_eq!(sniff(&noise), Sniff::Binary);
        // A text head does not hide a binary body, sampled further on.
        let text = line.repeat(200);
        assert_eq!(
            sniff_blocks(&text[..8192], &[&noise[..4096], &noise[4096..]]),
            Sniff::Binary
        );
        assert_eq!(sample_offsets(100), Vec::<u64>::new());
        assert_eq!(
            sample_offsets(1 << 20),
            vec![262_144, 524_288, 786_432, 1_044_480]
        );
    }

    /// Issue 16 item 2: a byte-order mark is trusted only when the text it
    /// announces is plausible; UTF-16 without one is known by its NULs.
    #[test]
    fn utf16_by_plausibility() {
        let utf16 = |s: &str, big: bool| -> Vec<u8> {
            s.encode_utf16()
                .flat_map(|u| {
                    if big {
                        u.to_be_bytes()
                    } else {
                        u.to_le_bytes()
                    }
                })
                .collect()
        };
        let le = Sniff::Container(Container::Compressed(Compression::Utf16 {
            big_endian: false,
        }));
        let be = Sniff::Container(Container::Compressed(Compression::Utf16 {
            big_endian: true,
        }));
        let text = "GET /api?token=abc HTTP/1.1\nHost: example.com\n";
        let mut bom = b"\xff\xfe".to_vec();
        bom.extend(utf16(text, false));
        assert_eq!(sniff(&bom), le);
        let mut bom = b"\xfe\xff".to_vec();
        bom.extend(utf16(text, true));
        assert_eq!(sniff(&bom), be);
        let mut stray = b"\xff\xfe".to_vec();
        stray.extend_from_slice(text.as_bytes());
        assert_eq!(sniff(&stray), Sniff::Text, "FF FE then ASCII");
        assert_eq!(sniff(&utf16(text, false)), le, "no mark");
        assert_eq!(sniff(&utf16(text, true)), be, "no mark");
        // CJK UTF-16 with a mark: no NUL bytes, still plausible.
        let mut cjk = b"\xff\xfe".to_vec();
        cjk.extend(utf16("日本語のログ", false));
        assert_eq!(sniff(&cjk), le);
        // A mark followed by lone surrogates and little else is not UTF-16.
        assert_ne!(sniff(b"\xff\xfe\x00\xdcA\x00B\x00"), le);
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
