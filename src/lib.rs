//! leaksweep: find leaked credentials in logs and captured traffic.
//!
//! The flow is one-way: `discover` (what to scan) → `source` (how to read
//! it) → `scan` (keyword prefilter, rule regexes, `validate`) → `finding`
//! (located, masked) → `report` (formats), with `messages` the only writer
//! of diagnostics, `state` what earlier runs scanned, `baseline` what was
//! accepted, and `app` wiring the stages together.

pub mod app;
pub mod baseline;
pub mod cli;
pub mod config;
pub mod discover;
pub mod finding;
pub mod har;
pub mod merge;
pub mod messages;
pub mod objects;
pub mod progress;
pub mod redact;
pub mod report;
pub mod rules;
pub mod sanitize;
pub mod scan;
pub mod source;
pub mod state;
pub mod validate;
