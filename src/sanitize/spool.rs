//! A tar member's redacted copy held until its size is known (a tar header
//! gives the size before the data). Small copies stay in memory; a larger
//! one goes to an unlinked temporary file in `$TMPDIR`, zstd-compressed, so
//! the disk it takes is about that of the compressed input, not of its
//! decompressed text.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, Write};

/// Bytes kept in memory before spilling to a temporary file.
const IN_MEMORY: usize = 16 << 20;

pub struct Spool {
    mem: Vec<u8>,
    file: Option<zstd::stream::write::Encoder<'static, BufWriter<File>>>,
    len: u64,
}

impl Spool {
    pub fn new() -> Spool {
        Spool {
            mem: Vec::new(),
            file: None,
            len: 0,
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Writes everything spooled to `out`.
    pub fn drain(self, out: &mut dyn Write) -> io::Result<()> {
        let Some(enc) = self.file else {
            return out.write_all(&self.mem);
        };
        let mut file = enc.finish()?.into_inner().map_err(|e| e.into_error())?;
        file.rewind()?;
        let mut dec = zstd::stream::read::Decoder::new(file)?;
        let copied = io::copy(&mut (&mut dec).take(self.len), out)?;
        if copied != self.len {
            return Err(io::Error::other(format!(
                "the temporary spool gave back {copied} of {} bytes",
                self.len
            )));
        }
        Ok(())
    }
}

impl Write for Spool {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.file.is_none() && self.mem.len() + buf.len() > IN_MEMORY {
            let tmp = tempfile::tempfile().map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "cannot create a temporary file in {} (TMPDIR): {}",
                        std::env::temp_dir().display(),
                        crate::messages::io_cause(&e)
                    ),
                )
            })?;
            let mut enc = zstd::stream::write::Encoder::new(BufWriter::new(tmp), 1)?;
            enc.write_all(&self.mem)?;
            self.mem = Vec::new();
            self.file = Some(enc);
        }
        match &mut self.file {
            Some(f) => f.write_all(buf)?,
            None => self.mem.extend_from_slice(buf),
        }
        self.len += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spills_to_a_file_and_gives_every_byte_back() {
        let data: Vec<u8> = (0..(IN_MEMORY as u32 / 2 + 1000))
            .flat_map(|i| i.to_le_bytes())
            .collect();
        let mut s = Spool::new();
        for part in data.chunks(100_003) {
            s.write_all(part).unwrap();
        }
        assert!(s.file.is_some());
        assert_eq!(s.len(), data.len() as u64);
        let mut out = Vec::new();
        s.drain(&mut out).unwrap();
        assert!(out == data);
    }
}
