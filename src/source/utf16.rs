//! UTF-16 text (Windows-exported logs, with a byte-order mark) read as
//! UTF-8, and written back: a decoding layer like decompression, so the
//! scanner and the redactor see the text, and lines, columns and offsets
//! count the UTF-8 bytes. Unpaired surrogates and a trailing odd byte
//! become U+FFFD.

use std::io::{self, Read, Write};

/// Reads UTF-16 (byte-order mark first) as UTF-8.
pub struct Decode<R> {
    inner: R,
    big_endian: bool,
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

    fn push(&mut self, c: char) {
        let mut b = [0; 4];
        self.out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
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
            self.push('\u{fffd}');
        }
        match u {
            0xd800..=0xdbff => self.high = Some(u),
            0xdc00..=0xdfff => self.push('\u{fffd}'),
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
                if self.high.take().is_some() || self.odd.take().is_some() {
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
                if let Some(b) = bytes.next() {
                    pair(a, b, self);
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

/// Writes UTF-8 as UTF-16 with a byte-order mark first (the redactor's
/// copy of a UTF-16 input). Invalid UTF-8 becomes U+FFFD.
pub struct Encode<W: Write> {
    inner: W,
    big_endian: bool,
    /// The start of a UTF-8 sequence cut by the last write.
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

    fn units(&mut self, text: &str) -> io::Result<()> {
        let mut out = Vec::with_capacity(text.len() * 2 + 2);
        if !self.started {
            self.started = true;
            out.extend_from_slice(&self.order(0xfeff));
        }
        for u in text.encode_utf16() {
            out.extend_from_slice(&self.order(u));
        }
        self.inner.write_all(&out)
    }

    fn order(&self, u: u16) -> [u8; 2] {
        if self.big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        }
    }

    /// Writes what is left and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.partial.is_empty() || !self.started {
            let rest = String::from_utf8_lossy(&std::mem::take(&mut self.partial)).into_owned();
            self.units(&rest)?;
        }
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for Encode<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut bytes = std::mem::take(&mut self.partial);
        bytes.extend_from_slice(buf);
        let mut text = String::new();
        let mut chunks = bytes.utf8_chunks().peekable();
        while let Some(chunk) = chunks.next() {
            text.push_str(chunk.valid());
            let invalid = chunk.invalid();
            if invalid.is_empty() {
                continue;
            }
            // An incomplete sequence at the very end may be completed by
            // the next write.
            if chunks.peek().is_none() && bytes.ends_with(invalid) && invalid.len() < 4 {
                self.partial = invalid.to_vec();
            } else {
                text.push('\u{fffd}');
            }
        }
        self.units(&text)?;
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
}
