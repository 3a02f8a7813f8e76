//! Sources: turning a discovered input into bytes for the scanner — a
//! guarded memory map for plain files, a read for small ones, a stream for
//! pipes — after sniffing what the input holds.

pub mod detect;
pub mod mmap;
