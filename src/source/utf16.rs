//! UTF-16 text (Windows-exported logs, with a byte-order mark) read as
//! UTF-8, and written back: a decoding layer like decompression, so the
//! scanner and the redactor see the text, and lines, columns and offsets
//! count the UTF-8 bytes. For the scan, unpaired surrogates and a trailing
//! odd byte become U+FFFD. The redactor reads losslessly instead: an
//! unpaired surrogate as its WTF-8 bytes (`ED A0..BF xx`), a trailing odd
//! byte as `FF` and the byte (never UTF-8), and [`Encode`] turns both back
//! into the very bytes they were, so a redacted UTF-16 file differs from
//! its input only where its secrets were.

use std::io::{self, Read, Write};

/// Reads UTF-16 (byte-order mark first) as UTF-8.
pub struct Decode<R> {
    inner: R,
    big_endian: bool,
    /// Keep what is not UTF-16 (see the module docs) rather than U+FFFD.
    lossless: bool,
    out: Vec<u8>,
    pos: usize,
    /// An odd byte left from the last read.
    odd: Option<u8>,
    /// A high surrogate waiting for its low half.
    high: Option<u16>,
    started: bool,
    done: bool,
}

impl<R: Read> Decode<R> {
    /// For the scan: what is not UTF-16 becomes U+FFFD.
    pub fn new(inner: R, big_endian: bool) -> Self {
        Decode::with(inner, big_endian, false)
    }

    /// For the redactor: what is not UTF-16 is kept for [`Encode`].
    pub fn lossless(inner: R, big_endian: bool) -> Self {
        Decode::with(inner, big_endian, true)
    }

    fn with(inner: R, big_endian: bool, lossless: bool) -> Self {
        Decode {
            inner,
            big_endian,
            lossless,
            out: Vec::new(),
            pos: 0,
            odd: None,
            high: None,
            started: false,
            done: false,
        }
    }

    fn push(&mut self, c: char) {
        let mut b = [0; 4];
        self.out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
    }

    /// An unpaired surrogate: U+FFFD, or its WTF-8 bytes when lossless.
    fn lone(&mut self, u: u16) {
        if self.lossless {
            self.out.extend([
                0xe0 | (u >> 12) as u8,
                0x80 | ((u >> 6) & 0x3f) as u8,
                0x80 | (u & 0x3f) as u8,
            ]);
        } else {
            self.push('\u{fffd}');
        }
    }

    fn unit(&mut self, u: u16) {
        if !self.started {
            self.started = true;
            if u == 0xfeff {
                return;
            }
        }
        if let Some(h) = self.high.take() {
            if (0xdc00..0xe000).contains(&u) {
                let c = 0x10000 + ((u32::from(h) - 0xd800) << 10) + (u32::from(u) - 0xdc00);
                self.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                return;
            }
            self.lone(h);
        }
        match u {
            0xd800..=0xdbff => self.high = Some(u),
            0xdc00..=0xdfff => self.lone(u),
            _ => self.push(char::from_u32(u32::from(u)).unwrap_or('\u{fffd}')),
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
                let (high, odd) = (self.high.take(), self.odd.take());
                if self.lossless {
                    if let Some(h) = high {
                        self.lone(h);
                    }
                    if let Some(b) = odd {
                        self.out.extend([0xff, b]);
                    }
                } else if high.is_some() || odd.is_some() {
                    self.push('\u{fffd}');
                }
                continue;
            }
            let mut bytes = raw[..n].iter().copied();
            let pair = |a: u8, b: u8, me: &mut Self| {
                let u = if me.big_endian {
                    u16::from_be_bytes([a, b])
                } else {
                    u16::from_le_bytes([a, b])
                };
                me.unit(u);
            };
            if let Some(a) = self.odd.take() {
                match bytes.next() {
                    Some(b) => pair(a, b, self),
                    None => self.odd = Some(a),
                }
            }
            while let Some(a) = bytes.next() {
                match bytes.next() {
                    Some(b) => pair(a, b, self),
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

/// Writes UTF-8 back as UTF-16, the byte-order mark first: what a lossless
/// [`Decode`] kept (surrogates, the odd byte) as it was, other invalid
/// UTF-8 as U+FFFD.
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

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let mut e = Encode::new(Vec::new(), big_endian);
        e.write_all(text.as_bytes()).expect("write");
        e.finish().expect("finish")
    }

    #[test]
    fn round_trips_both_byte_orders_and_astral_characters() {
        let text = "2024-05-01 token=abc é 😀\r\nnext\n";
        for be in [false, true] {
            let bytes = utf16(text, be);
            assert_eq!(&bytes[..2], if be { b"\xfe\xff" } else { b"\xff\xfe" });
            let mut back = String::new();
            // One byte per read: every unit and surrogate pair is cut.
            let one_byte = bytes.chunks(1).flatten().copied().collect::<Vec<_>>();
            Decode::new(io::Cursor::new(one_byte), be)
                .read_to_string(&mut back)
                .expect("decode");
            assert_eq!(back, text);
        }
    }

    #[test]
    fn lone_surrogates_and_an_odd_byte_become_replacement_characters() {
        let bytes = [0xff, 0xfe, 0x00, 0xd8, b'a', 0, 0x00, 0xdc, b'z'];
        let mut back = String::new();
        Decode::new(&bytes[..], false)
            .read_to_string(&mut back)
            .expect("decode");
        assert_eq!(back, "\u{fffd}a\u{fffd}\u{fffd}");
    }

    fn round_trip(bytes: &[u8], be: bool, step: usize) -> Vec<u8> {
        let mut text = Vec::new();
        let one = bytes.chunks(1).flatten().copied().collect::<Vec<_>>();
        Decode::lossless(io::Cursor::new(one), be)
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
