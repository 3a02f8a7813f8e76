//! The order findings reach the reporter in: input by input, as the inputs
//! were walked (sorted), whatever worker finishes first, so that two runs
//! over the same files write the same bytes at any thread count.
//!
//! The input whose turn it is streams straight through; findings of later
//! inputs are held in memory until their turn. The hold is not bounded: a
//! worker waiting for room could deadlock the pool (see
//! [`InOrder::send`]), so memory grows with the findings of the inputs
//! scanned ahead of their turn.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};

use crossbeam_channel::Sender;

use crate::finding::Finding;

pub struct InOrder<'a> {
    tx: &'a Sender<Vec<Finding>>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The input whose findings go straight through.
    next: usize,
    /// Inputs past `next` already finished.
    finished: BTreeSet<usize>,
    /// Batches of inputs past `next`, in the order found.
    held: BTreeMap<usize, Vec<Vec<Finding>>>,
}

impl<'a> InOrder<'a> {
    pub fn new(tx: &'a Sender<Vec<Finding>>) -> InOrder<'a> {
        InOrder {
            tx,
            state: Mutex::new(State::default()),
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
        st.held.entry(input).or_default().push(batch);
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
            if let Some(batches) = st.held.remove(&next) {
                // Under the lock: the input's own worker may be about to
                // send straight through, after these.
                for b in batches {
                    let _ = self.tx.send(b);
                }
            }
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
    /// order sent, once the inputs before finish.
    #[test]
    fn later_inputs_wait_their_turn() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let order = InOrder::new(&tx);
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
        assert_eq!(got, ["a1", "b1", "c1", "c2", "c3"]);
    }
}
