//! Decompressing streams, and knowing where a broken stream broke.
//!
//! Every decoding layer (a decompressor, an archive member) is wrapped in a
//! [`Layer`], which counts the bytes the layer produced, enforces the
//! per-input decompression budget, and tags an error coming out of the layer
//! with the layer's depth, member and format, so the walker reports the
//! damage where it is: a corrupt `.gz` member of a sound tar is that
//! member's error, and the tar goes on; a corrupt outer gzip ends the tar.

use std::fmt;
use std::io::{self, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::detect::{Compression, Container};
use crate::messages::io_cause;

/// Limits that protect the host from hostile or runaway inputs.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Decoding layers (compression or archive) inside each other.
    pub max_depth: usize,
    /// Decoded bytes per input, all layers together.
    pub max_decoded: u64,
    /// Decoded bytes per byte read from disk, checked once an input has
    /// decoded more than [`RATIO_FLOOR`] bytes.
    pub max_ratio: u64,
    /// `-a/--text`: binary data is scanned as text, not skipped.
    pub binary_as_text: bool,
    /// `--max-har-string`: how much of a HAR's strings is decoded at once
    /// (see `har::scan`).
    pub max_har_string: u64,
}

/// Below this many decoded bytes the ratio is not checked. Logs with
/// timestamps compress at most about 250:1 (xz; zstd -19 about 150:1), well
/// under the default --max-ratio of 1000; but a log of one line repeated
/// without a timestamp reaches about 11,000:1 with zstd, as much as a zstd
/// bomb of the same line. 1 GiB (about a second of scanning) lets such an
/// honest log be read to its end up to that size, and still stops a bomb
/// early; beyond it the error says how to go on. Measured 2026-12-02 (see
/// the README, "Compressed, rotated and archived logs").
pub const RATIO_FLOOR: u64 = 1 << 30;

/// One input's decompression accounting, shared by all its layers (and by
/// the prefetch thread).
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    raw: AtomicU64,
    decoded: AtomicU64,
}

impl Budget {
    pub fn new(limits: Limits) -> Arc<Budget> {
        Arc::new(Budget {
            limits,
            raw: AtomicU64::new(0),
            decoded: AtomicU64::new(0),
        })
    }

    /// Sets the input's size up front, for inputs read out of order (a zip
    /// file): counting reads there would let members that share data
    /// inflate the divisor.
    pub fn set_raw(&self, bytes: u64) {
        self.raw.store(bytes, Ordering::Relaxed);
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn add_decoded(&self, n: u64) -> Result<(), LimitExceeded> {
        let decoded = self.decoded.fetch_add(n, Ordering::Relaxed) + n;
        let raw = self.raw.load(Ordering::Relaxed).max(1);
        let l = self.limits;
        let cause = if decoded > l.max_decoded {
            LimitExceeded::Total { max: l.max_decoded }
        } else if decoded > RATIO_FLOOR && decoded / raw > l.max_ratio {
            LimitExceeded::Ratio {
                decoded,
                raw,
                max: l.max_ratio,
            }
        } else {
            return Ok(());
        };
        Err(cause)
    }
}

/// The decompression-bomb guard tripped.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LimitExceeded {
    #[error("decoded more than {max} bytes (--max-decoded); stopped here, findings before it are reported")]
    Total { max: u64 },
    #[error("{decoded} bytes decoded from {raw} read, a ratio over {max}:1 (--max-ratio); stopped here as a likely decompression bomb, findings before it are reported (a log of one line repeated reaches 11000:1: if this is one, rerun with --max-ratio 20000)")]
    Ratio { decoded: u64, raw: u64, max: u64 },
}

/// Counts the bytes read from disk (or stdin) for the ratio check.
pub struct Raw<R> {
    inner: R,
    budget: Arc<Budget>,
}

impl<R> Raw<R> {
    pub fn new(inner: R, budget: Arc<Budget>) -> Self {
        Raw { inner, budget }
    }
}

impl<R: Read> Read for Raw<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.budget.raw.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// An error that came out of a decoding layer, tagged with where it arose.
#[derive(Debug)]
pub struct Broken {
    /// Depth of the layer that failed (0: reading the input itself).
    pub depth: usize,
    /// The archive member the layer decodes (None: the input itself).
    pub member: Option<String>,
    /// What the layer decodes (None: it reads the input itself).
    pub what: Option<Container>,
    /// Bytes the layer had produced before it failed.
    pub at: u64,
    pub source: io::Error,
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.what {
            None => write!(f, "read failed after {} bytes: ", self.at)?,
            Some(c) => write!(
                f,
                "{c} data corrupt or truncated after {} decoded bytes: ",
                self.at
            )?,
        }
        f.write_str(&io_cause(&self.source))
    }
}

impl std::error::Error for Broken {}

/// Where an I/O error came from, as the walker needs to know it.
pub enum Origin<'e> {
    Layer(&'e Broken),
    Limit(&'e LimitExceeded),
    /// Not tagged by a layer: an archive's own structure error, or one
    /// from outside the layers (a temporary file, a thread); reported at
    /// the place the caller knows.
    Unknown,
}

pub fn origin(e: &io::Error) -> Origin<'_> {
    let Some(inner) = e.get_ref() else {
        return Origin::Unknown;
    };
    if let Some(b) = inner.downcast_ref::<Broken>() {
        Origin::Layer(b)
    } else if let Some(l) = inner.downcast_ref::<LimitExceeded>() {
        Origin::Limit(l)
    } else {
        Origin::Unknown
    }
}

/// A decoding layer's output: counts it, enforces the budget (when it
/// decompresses) and tags its errors. See the module doc.
pub struct Layer<R> {
    inner: R,
    depth: usize,
    member: Option<String>,
    what: Option<Container>,
    at: u64,
    budget: Option<Arc<Budget>>,
    /// The limit the last read tripped, given on the next one, so the
    /// bytes decoded before it are still scanned.
    tripped: Option<LimitExceeded>,
}

impl<R> Layer<R> {
    /// `budget` is given for layers that decompress; a tar member's bytes
    /// were counted by the layer below.
    pub fn new(
        inner: R,
        depth: usize,
        member: Option<&str>,
        what: Option<Container>,
        budget: Option<Arc<Budget>>,
    ) -> Self {
        Layer {
            inner,
            depth,
            member: member.map(str::to_owned),
            what,
            at: 0,
            budget,
            tripped: None,
        }
    }
}

impl<R: Read> Read for Layer<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(l) = self.tripped.take() {
            return Err(io::Error::other(l));
        }
        match self.inner.read(buf) {
            Ok(n) => {
                self.at += n as u64;
                if let Some(Err(l)) = self.budget.as_ref().map(|b| b.add_decoded(n as u64)) {
                    if n == 0 {
                        return Err(io::Error::other(l));
                    }
                    self.tripped = Some(l);
                }
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => match origin(&e) {
                Origin::Layer(_) | Origin::Limit(_) => Err(e),
                Origin::Unknown => Err(io::Error::new(
                    e.kind(),
                    Broken {
                        depth: self.depth,
                        member: self.member.clone(),
                        what: self.what,
                        at: self.at,
                        source: e,
                    },
                )),
            },
        }
    }
}

/// Memory an xz stream may use to decode: `xz -9` needs 65 MiB, so real
/// files pass and a crafted header cannot claim gigabytes.
const XZ_MEMLIMIT: u64 = 256 << 20;

/// A decompressor over `R`, multi-member/multi-frame throughout: `cat a.gz
/// b.gz`, pigz, bgzip and `zstd` of concatenated frames all decode whole.
pub enum Decoder<R: Read> {
    Gzip(flate2::read::MultiGzDecoder<R>),
    Zstd(zstd::stream::read::Decoder<'static, BufReader<R>>),
    Bzip2(bzip2::read::MultiBzDecoder<R>),
    Xz(liblzma::read::XzDecoder<R>),
    Utf16(super::utf16::Decode<R>),
}

impl<R: Read> Decoder<R> {
    pub fn new(c: Compression, r: R) -> io::Result<Self> {
        Ok(match c {
            Compression::Gzip => Decoder::Gzip(flate2::read::MultiGzDecoder::new(r)),
            Compression::Zstd => Decoder::Zstd(zstd::stream::read::Decoder::new(r)?),
            Compression::Bzip2 => Decoder::Bzip2(bzip2::read::MultiBzDecoder::new(r)),
            Compression::Utf16 { big_endian } => {
                Decoder::Utf16(super::utf16::Decode::new(r, big_endian))
            }
            Compression::Xz => Decoder::Xz(liblzma::read::XzDecoder::new_stream(
                r,
                liblzma::stream::Stream::new_stream_decoder(
                    XZ_MEMLIMIT,
                    liblzma::stream::CONCATENATED,
                )
                .map_err(io::Error::other)?,
            )),
        })
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Gzip(d) => d.read(buf),
            Decoder::Zstd(d) => d.read(buf),
            Decoder::Bzip2(d) => d.read(buf),
            Decoder::Xz(d) => d.read(buf),
            Decoder::Utf16(d) => d.read(buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn decode_all(c: Compression, bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut d = Decoder::new(c, bytes)?;
        let mut out = Vec::new();
        d.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn decodes_every_member_and_frame() {
        let mut gz = gzip(b"one\n");
        gz.extend(gzip(b"two\n"));
        assert_eq!(decode_all(Compression::Gzip, &gz).unwrap(), b"one\ntwo\n");

        let mut zst = zstd::encode_all(&b"one\n"[..], 3).unwrap();
        zst.extend(zstd::encode_all(&b"two\n"[..], 3).unwrap());
        assert_eq!(decode_all(Compression::Zstd, &zst).unwrap(), b"one\ntwo\n");

        let mut bz = Vec::new();
        for part in [&b"one\n"[..], b"two\n"] {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            e.write_all(part).unwrap();
            bz.extend(e.finish().unwrap());
        }
        assert_eq!(decode_all(Compression::Bzip2, &bz).unwrap(), b"one\ntwo\n");

        let mut xz = Vec::new();
        for part in [&b"one\n"[..], b"two\n"] {
            let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
            e.write_all(part).unwrap();
            xz.extend(e.finish().unwrap());
        }
        assert_eq!(decode_all(Compression::Xz, &xz).unwrap(), b"one\ntwo\n");
    }

    #[test]
    fn truncated_streams_are_errors_not_short_reads() {
        let data: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let cases: Vec<(Compression, Vec<u8>)> = vec![
            (Compression::Gzip, gzip(&data)),
            (Compression::Zstd, zstd::encode_all(&data[..], 3).unwrap()),
        ];
        for (c, full) in cases {
            let cut = &full[..full.len() / 2];
            assert!(decode_all(c, cut).is_err(), "{c:?} cut in half decoded");
        }
    }

    #[test]
    fn layer_tags_errors_and_enforces_the_budget() {
        let budget = Budget::new(Limits {
            max_depth: 4,
            max_decoded: 10,
            max_ratio: 1000,
            binary_as_text: false,
            max_har_string: u64::MAX,
        });
        let mut l = Layer::new(
            &b"0123456789abcdef"[..],
            1,
            None,
            Some(Container::Compressed(Compression::Gzip)),
            Some(budget.clone()),
        );
        // The read that trips the limit still gives its bytes: a secret in
        // them lies before the limit. The next read is the error.
        let mut buf = [0u8; 16];
        assert_eq!(l.read(&mut buf).unwrap(), 16);
        let e = l.read(&mut buf).unwrap_err();
        assert!(matches!(
            origin(&e),
            Origin::Limit(LimitExceeded::Total { max: 10 })
        ));

        let gz = gzip(b"hello\n");
        let broken = Layer::new(
            Decoder::new(Compression::Gzip, &gz[..gz.len() - 4]).unwrap(),
            2,
            Some("a.log.gz"),
            Some(Container::Compressed(Compression::Gzip)),
            None,
        );
        let mut outer = Layer::new(broken, 3, Some("a.log.gz"), Some(Container::Tar), None);
        let e = outer.read_to_end(&mut Vec::new()).unwrap_err();
        let Origin::Layer(b) = origin(&e) else {
            panic!("untagged: {e}")
        };
        assert_eq!(
            (b.depth, b.what),
            (2, Some(Container::Compressed(Compression::Gzip)))
        );
    }
}
