//! The order findings reach the reporter in: input by input, as the inputs
//! were walked (sorted), whatever worker finishes first, so that two runs
//! over the same files write the same bytes at any thread count.
//!
//! The input whose turn it is streams straight through; findings of later
//! inputs are held until their turn: in memory up to [`HELD`] of them, then
//! in an unlinked temporary file per input. Workers never wait for room (see
//! [`InOrder::send`]), so the files, not memory, take what a dense input
//! finds while an earlier, slow one is still being scanned.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, Write};
use std::sync::{Mutex, MutexGuard};

use crossbeam_channel::Sender;

use crate::finding::Finding;

/// Findings of later inputs held in memory at most (a few tens of MB).
const HELD: usize = 1 << 16;

/// Spilled findings handed on per batch when an input's turn comes.
const SPILL_BATCH: usize = 4096;

pub struct InOrder<'a> {
    tx: &'a Sender<Vec<Finding>>,
    state: Mutex<State>,
    held_max: usize,
}

/// What one later input has found so far: batches in memory, then (once
/// memory was full) the rest in a file, one JSON finding a line.
#[derive(Default)]
struct Held {
    batches: Vec<Vec<Finding>>,
    spill: Option<BufWriter<File>>,
    /// How many of `batches` came before the file was started (the rest,
    /// after a write to it failed, came after what it holds).
    before_spill: usize,
}

#[derive(Default)]
struct State {
    /// The input whose findings go straight through.
    next: usize,
    /// Inputs past `next` already finished.
    finished: BTreeSet<usize>,
    /// What the inputs past `next` found, in the order found.
    held: BTreeMap<usize, Held>,
    /// Findings in `held`'s memory.
    in_memory: usize,
}

impl<'a> InOrder<'a> {
    pub fn new(tx: &'a Sender<Vec<Finding>>) -> InOrder<'a> {
        InOrder::holding(tx, HELD)
    }

    fn holding(tx: &'a Sender<Vec<Finding>>, held_max: usize) -> InOrder<'a> {
        InOrder {
            tx,
            state: Mutex::new(State::default()),
            held_max,
        }
    }

    /// Hands on `batch`, found in input `input` (its index in walk order),
    /// after every finding of the inputs before it. Never waits: it is
    /// called under a lock of the scan (a chunk's findings are handed on in
    /// chunk order), and a rayon worker that waited could hold up the very
    /// input whose turn it is (work stealing nests inputs on one stack).
    pub fn send(&self, input: usize, batch: Vec<Finding>) {
        let mut st = self.lock();
        if input == st.next {
            drop(st);
            // (A closed channel means the reporter stopped on a broken
            // pipe; the rest of the scan is moot.)
            let _ = self.tx.send(batch);
            return;
        }
        let full = st.in_memory + batch.len() > self.held_max;
        let st = &mut *st;
        let held = st.held.entry(input).or_default();
        if held.spill.is_none() && full {
            // (Without a temporary file, memory it is: nothing is dropped.)
            held.spill = tempfile::tempfile().ok().map(BufWriter::new);
            held.before_spill = held.batches.len();
        }
        if let Some(file) = &mut held.spill {
            let written = batch.iter().try_for_each(|f| {
                serde_json::to_writer(&mut *file, f)?;
                file.write_all(b"\n").map_err(serde_json::Error::io)
            });
            if written.is_ok() {
                return;
            }
            // A file that cannot be written: the rest stays in memory,
            // and this batch is sent after what the file holds.
        }
        st.in_memory += batch.len();
        held.batches.push(batch);
    }

    /// Input `input` has no more findings: the next inputs' turn, their
    /// held findings handed on.
    pub fn finish(&self, input: usize) {
        let mut st = self.lock();
        st.finished.insert(input);
        loop {
            let next = st.next;
            if !st.finished.remove(&next) {
                break;
            }
            st.next += 1;
            let next = st.next;
            if let Some(held) = st.held.remove(&next) {
                // Under the lock: the input's own worker may be about to
                // send straight through, after these.
                st.in_memory -= held.batches.iter().map(Vec::len).sum::<usize>();
                self.hand_on(held);
            }
        }
    }

    /// Sends what an input held: its batches in memory, then its file.
    fn hand_on(&self, held: Held) {
        let Some(file) = held.spill else {
            for b in held.batches {
                let _ = self.tx.send(b);
            }
            return;
        };
        let mut batches = held.batches;
        let later = batches.split_off(held.before_spill.min(batches.len()));
        for b in batches {
            let _ = self.tx.send(b);
        }
        if let Ok(mut file) = file.into_inner() {
            if file.rewind().is_ok() {
                let mut batch = Vec::with_capacity(SPILL_BATCH);
                for line in BufReader::new(file).lines() {
                    let Some(f) = line.ok().and_then(|l| serde_json::from_str(&l).ok()) else {
                        break;
                    };
                    batch.push(f);
                    if batch.len() == SPILL_BATCH {
                        let _ = self.tx.send(std::mem::take(&mut batch));
                    }
                }
                if !batch.is_empty() {
                    let _ = self.tx.send(batch);
                }
            }
        }
        for b in later {
            let _ = self.tx.send(b);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A worker that panicked left the state whole (each change is made
        // under one lock); the run is failing anyway.
        match self.state.lock() {
            Ok(st) => st,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// Finishes an input when dropped, also when its scan panics, so that the
/// inputs after it are not held for ever.
pub struct Turn<'a, 'b> {
    pub order: &'b InOrder<'a>,
    pub input: usize,
}

impl Drop for Turn<'_, '_> {
    fn drop(&mut self) {
        self.order.finish(self.input);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(path: &str) -> Finding {
        Finding {
            path: path.into(),
            ..crate::report::fixture::finding()
        }
    }

    /// Batches sent out of turn come out by input, each input's in the
    /// order sent, once the inputs before finish; past the memory bound
    /// they wait in a file, in the same order.
    #[test]
    fn later_inputs_wait_their_turn() {
        for held_max in [usize::MAX, 1, 0] {
            later_inputs_wait_their_turn_holding(held_max);
        }
    }

    fn later_inputs_wait_their_turn_holding(held_max: usize) {
        let (tx, rx) = crossbeam_channel::unbounded();
        let order = InOrder::holding(&tx, held_max);
        order.send(2, vec![finding("c1")]);
        order.send(1, vec![finding("b1")]);
        order.send(0, vec![finding("a1")]);
        order.send(2, vec![finding("c2")]);
        order.finish(1);
        order.finish(0);
        order.send(2, vec![finding("c3")]);
        order.finish(2);
        drop(order);
        drop(tx);
        let got: Vec<String> = rx.iter().flatten().map(|f| f.path).collect();
        assert_eq!(got, ["a1", "b1", "c1", "c2", "c3"], "held_max {held_max}");
    }
}
