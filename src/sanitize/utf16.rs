//! UTF-16 for the redactor, lossless: unlike the scan's reader (which
//! turns what is not UTF-16 into U+FFFD), an unpaired surrogate is passed
//! to the redactor as its WTF-8 bytes (`ED A0..BF xx`) and a trailing odd
//! byte as `FF` and the byte (never UTF-8), and the writer turns both back
//! into the very bytes they were. A redacted UTF-16 file then differs from
//! its input only where its secrets were.

use std::io::{self, Read, Write};

/// Reads UTF-16 (a byte-order mark first) as UTF-8, losslessly.
pub struct Decode<R> {
    inner: R,
    big_endian: bool,
    out: Vec<u8>,
    pos: usize,
    odd: Option<u8>,
    high: Option<u16>,
    started: bool,
    done: bool,
}

impl<R: Read> Decode<R> {
    pub fn new(inner: R, big_endian: bool) -> Self {
        Decode {
            inner,
            big_endian,
            out: Vec::new(),
            pos: 0,
            odd: None,
            high: None,
            started: false,
            done: false,
        }
    }

    fn surrogate(&mut self, u: u16) {
        self.out.extend([
            0xe0 | (u >> 12) as u8,
            0x80 | ((u >> 6) & 0x3f) as u8,
            0x80 | (u & 0x3f) as u8,
        ]);
    }

    fn unit(&mut self, u: u16) {
        if !self.started {
            self.started = true;
            // The byte-order mark; the writer puts it back.
            if u == 0xfeff {
                return;
            }
        }
        if let Some(h) = self.high.take() {
            if (0xdc00..0xe000).contains(&u) {
                let c = 0x10000 + ((u32::from(h) - 0xd800) << 10) + (u32::from(u) - 0xdc00);
                if let Some(c) = char::from_u32(c) {
                    let mut b = [0; 4];
                    self.out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                }
                return;
            }
            self.surrogate(h);
        }
        match u {
            0xd800..=0xdbff => self.high = Some(u),
            0xdc00..=0xdfff => self.surrogate(u),
            _ => {
                if let Some(c) = char::from_u32(u32::from(u)) {
                    let mut b = [0; 4];
                    self.out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                }
            }
        }
    }
}

impl<R: Read> Read for Decode<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.out.len() {
            if self.done {
                return Ok(0);
            }
            self.out.clear();
            self.pos = 0;
            let mut raw = [0u8; 16 << 10];
            let n = self.inner.read(&mut raw)?;
            if n == 0 {
                self.done = true;
                if let Some(h) = self.high.take() {
                    self.surrogate(h);
                }
                if let Some(b) = self.odd.take() {
                    self.out.extend([0xff, b]);
                }
                continue;
            }
            let mut bytes = raw[..n].iter().copied();
            if let Some(a) = self.odd.take() {
                match bytes.next() {
                    Some(b) => self.pair(a, b),
                    None => self.odd = Some(a),
                }
            }
            while let Some(a) = bytes.next() {
                match bytes.next() {
                    Some(b) => self.pair(a, b),
                    None => self.odd = Some(a),
                }
            }
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl<R: Read> Decode<R> {
    fn pair(&mut self, a: u8, b: u8) {
        let u = if self.big_endian {
            u16::from_be_bytes([a, b])
        } else {
            u16::from_le_bytes([a, b])
        };
        self.unit(u);
    }
}

/// Writes what [`Decode`] read (redacted) back as UTF-16, the byte-order
/// mark first, the passed-through surrogates and odd byte as they were.
pub struct Encode<W: Write> {
    inner: W,
    big_endian: bool,
    /// The start of a sequence cut by the last write.
    partial: Vec<u8>,
    started: bool,
}

impl<W: Write> Encode<W> {
    pub fn new(inner: W, big_endian: bool) -> Self {
        Encode {
            inner,
            big_endian,
            partial: Vec::new(),
            started: false,
        }
    }

    fn put(&self, out: &mut Vec<u8>, u: u16) {
        out.extend_from_slice(&if self.big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }

    /// Encodes `bytes`; unless `last`, a sequence cut at the end is kept
    /// for the next call.
    fn encode(&mut self, bytes: &[u8], last: bool) -> io::Result<()> {
        let mut out = Vec::with_capacity(bytes.len() * 2 + 2);
        if !self.started {
            self.started = true;
            self.put(&mut out, 0xfeff);
        }
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            let need = match b {
                0xc0..=0xdf | 0xff => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf7 => 4,
                _ => 1,
            };
            if i + need > bytes.len() && !last {
                self.partial = bytes[i..].to_vec();
                break;
            }
            let seq = &bytes[i..(i + need).min(bytes.len())];
            let cont = |x: u8| x & 0xc0 == 0x80;
            if b == 0xff && seq.len() == 2 {
                // The odd trailing byte, raw.
                out.push(seq[1]);
                i += 2;
                continue;
            }
            if b == 0xed && seq.len() == 3 && (0xa0..=0xbf).contains(&seq[1]) && cont(seq[2]) {
                let u = (u16::from(b & 0x0f) << 12)
                    | (u16::from(seq[1] & 0x3f) << 6)
                    | u16::from(seq[2] & 0x3f);
                self.put(&mut out, u);
                i += 3;
                continue;
            }
            match std::str::from_utf8(seq) {
                Ok(s) => {
                    for u in s.encode_utf16() {
                        self.put(&mut out, u);
                    }
                    i += need;
                }
                Err(_) => {
                    self.put(&mut out, 0xfffd);
                    i += 1;
                }
            }
        }
        self.inner.write_all(&out)
    }

    /// Writes what is left and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        let rest = std::mem::take(&mut self.partial);
        self.encode(&rest, true)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for Encode<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut bytes = std::mem::take(&mut self.partial);
        bytes.extend_from_slice(buf);
        self.encode(&bytes, false)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(bytes: &[u8], be: bool, step: usize) -> Vec<u8> {
        let mut text = Vec::new();
        let one = bytes.chunks(1).flatten().copied().collect::<Vec<_>>();
        Decode::new(io::Cursor::new(one), be)
            .read_to_end(&mut text)
            .unwrap();
        let mut e = Encode::new(Vec::new(), be);
        for part in text.chunks(step) {
            e.write_all(part).unwrap();
        }
        e.finish().unwrap()
    }

    #[test]
    fn every_byte_comes_back_even_what_is_not_utf16() {
        let mut le = b"\xff\xfe".to_vec();
        for u in "a é 😀\r\n".encode_utf16() {
            le.extend(u.to_le_bytes());
        }
        le.extend([0x00, 0xd8, b'x', 0, 0x00, 0xdc, 0x3d, 0xd8]); // lone high, x, lone low, high at end
        let mut odd = le.clone();
        odd.push(b'q');
        let ascii = b"\xff\xfeplain ascii text after a BOM\n".to_vec();
        for input in [&le, &odd, &ascii] {
            for step in [1, 2, 3, 7, 4096] {
                assert_eq!(&round_trip(input, false, step), input, "step {step}");
            }
        }
        let be: Vec<u8> = b"\xfe\xff"
            .iter()
            .copied()
            .chain("hi 😀".encode_utf16().flat_map(u16::to_be_bytes))
            .chain([0xdc, 0x00])
            .collect();
        assert_eq!(round_trip(&be, true, 5), be);
    }
}
