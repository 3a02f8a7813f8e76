//! Decoding on a thread of its own, ahead of the scanner, so that
//! decompressing one input and scanning it overlap instead of taking turns.
//! Memory stays bounded: a few blocks of [`BLOCK`] bytes (the queue of
//! [`DEPTH`], one being filled, one being read, a few to recycle).

use std::io::{self, Read};
use std::panic::{self, AssertUnwindSafe};
use std::thread;

use crossbeam_channel::{bounded, Receiver, Sender};

const BLOCK: usize = 1 << 20;
const DEPTH: usize = 4;

/// A reader fed by a thread that reads `inner` ahead.
pub struct Prefetch {
    full: Receiver<io::Result<Vec<u8>>>,
    empty: Sender<Vec<u8>>,
    block: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Prefetch {
    pub fn new<R: Read + Send + 'static>(mut inner: R) -> io::Result<Prefetch> {
        let (full_tx, full) = bounded::<io::Result<Vec<u8>>>(DEPTH);
        let (empty, empty_rx) = bounded::<Vec<u8>>(DEPTH + 1);
        thread::Builder::new()
            .name("leaksweep-decode".into())
            .spawn(move || loop {
                let mut block = empty_rx
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(BLOCK));
                block.clear();
                // A decoder that panics must not look like a clean end.
                let result = panic::catch_unwind(AssertUnwindSafe(|| {
                    inner.by_ref().take(BLOCK as u64).read_to_end(&mut block)
                }))
                .unwrap_or_else(|_| Err(io::Error::other("the decoder crashed")));
                // Bytes read before an error are delivered, then the error.
                // A closed channel means the reader was dropped: stop.
                if !block.is_empty() && full_tx.send(Ok(block)).is_err() {
                    return;
                }
                match result {
                    Ok(n) if n > 0 => {}
                    // End of stream: dropping the sender says so.
                    Ok(_) => return,
                    Err(e) => {
                        let _ = full_tx.send(Err(e));
                        return;
                    }
                }
            })?;
        Ok(Prefetch {
            full,
            empty,
            block: Vec::new(),
            pos: 0,
            done: false,
        })
    }
}

impl Read for Prefetch {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.block.len() {
            if self.done {
                return Ok(0);
            }
            match self.full.recv() {
                Ok(Ok(block)) => {
                    let old = std::mem::replace(&mut self.block, block);
                    let _ = self.empty.try_send(old);
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                // End of stream: the thread finished and dropped its end.
                Err(_) => self.done = true,
            }
        }
        let n = buf.len().min(self.block.len() - self.pos);
        buf[..n].copy_from_slice(&self.block[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_bytes_and_errors_through_in_order() {
        let data: Vec<u8> = (0..3 * BLOCK + 17).map(|i| (i % 251) as u8).collect();
        let mut p = Prefetch::new(io::Cursor::new(data.clone())).unwrap();
        let mut out = Vec::new();
        p.read_to_end(&mut out).unwrap();
        assert_eq!(out, data);

        struct Fails(usize);
        impl Read for Fails {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("disk on fire"));
                }
                let n = buf.len().min(self.0);
                buf[..n].fill(b'x');
                self.0 -= n;
                Ok(n)
            }
        }
        let mut p = Prefetch::new(Fails(10)).unwrap();
        let mut out = Vec::new();
        let e = p.read_to_end(&mut out).unwrap_err();
        assert_eq!(e.to_string(), "disk on fire");
        assert_eq!(out, b"xxxxxxxxxx");
    }
}
