//! leaksweep: find leaked credentials in logs and captured traffic.
//!
//! The flow is input → scanner → findings → reporter; each module owns one
//! stage. See `DESIGN.md`-style notes in each module's docs.

pub mod finding;
pub mod rules;
pub mod scan;
pub mod validate;
