//! Sources: turning a discovered input into bytes for the scanner — a
//! guarded memory map for plain files, a read for small ones, a stream for
//! pipes, decoded streams for compressed files and archive members — after
//! sniffing what the input holds.

pub mod decode;
pub mod detect;
pub mod mmap;
pub mod prefetch;
pub mod unpack;
pub mod utf16;
pub mod ziplocal;
