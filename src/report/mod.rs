//! Reporters: formatting findings for people and programs. They only
//! format: findings arrive already masked. One reporter runs on one thread
//! and receives findings in batches (one input's, or one stream fill's), so
//! output never interleaves and stays grouped by input.

pub mod csv;
pub mod group;
pub mod human;
pub mod json;
pub mod order;
pub mod sarif;
pub mod schema;

use std::io::{self, Write};

use crate::finding::{Confidence, Finding};
use crate::rules::Rule;

/// Output formats of `leaksweep scan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Jsonl,
    Sarif,
    Csv,
}

/// Findings counted by confidence, for the summary and the exit status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub high: u64,
    pub medium: u64,
    pub low: u64,
}

impl Counts {
    pub fn add(&mut self, c: Confidence) {
        match c {
            Confidence::High => self.high += 1,
            Confidence::Medium => self.medium += 1,
            Confidence::Low => self.low += 1,
        }
    }

    pub fn total(&self) -> u64 {
        self.high + self.medium + self.low
    }
}

/// A reporter over a writer, dispatched by format.
pub enum Reporter<W: Write> {
    Human(human::Human<W>),
    Json(json::Json<W>),
    Sarif(sarif::Sarif<W>),
    Csv(csv::Csv<W>),
    /// `leaksweep baseline`: findings go to a baseline file.
    Baseline(crate::baseline::Collect),
    /// `--group-by secret`: one record per secret, at the end.
    Group(group::Group<W>),
}

impl<W: Write> Reporter<W> {
    /// `rules` are the loaded rules, which SARIF describes.
    pub fn new(format: Format, out: W, color: bool, rules: &[Rule]) -> Self {
        match format {
            Format::Human => Reporter::Human(human::Human::new(out, color)),
            Format::Json => Reporter::Json(json::Json::new(out, false)),
            Format::Jsonl => Reporter::Json(json::Json::new(out, true)),
            Format::Sarif => Reporter::Sarif(sarif::Sarif::new(out, rules)),
            Format::Csv => Reporter::Csv(csv::Csv::new(out)),
        }
    }

    pub fn begin(&mut self) -> io::Result<()> {
        match self {
            Reporter::Human(_) => Ok(()),
            Reporter::Json(j) => j.begin(),
            Reporter::Sarif(s) => s.begin(),
            Reporter::Csv(c) => c.begin(),
            Reporter::Baseline(_) | Reporter::Group(_) => Ok(()),
        }
    }

    pub fn batch(&mut self, findings: &[Finding]) -> io::Result<()> {
        match self {
            Reporter::Human(h) => h.batch(findings),
            Reporter::Json(j) => j.batch(findings),
            Reporter::Sarif(s) => s.batch(findings),
            Reporter::Csv(c) => c.batch(findings),
            Reporter::Baseline(b) => {
                b.batch(findings);
                Ok(())
            }
            Reporter::Group(g) => {
                g.batch(findings);
                Ok(())
            }
        }
    }

    pub fn finish(&mut self) -> io::Result<()> {
        match self {
            Reporter::Human(h) => h.finish(),
            Reporter::Json(j) => j.finish(),
            Reporter::Sarif(s) => s.finish(),
            Reporter::Csv(c) => c.finish(),
            Reporter::Baseline(b) => b.finish(),
            Reporter::Group(g) => g.finish(),
        }
    }
}

#[cfg(test)]
pub(crate) mod fixture {
    use crate::finding::{Confidence, Finding, Kind};

    /// A fixed finding for format snapshots.
    pub fn finding() -> Finding {
        Finding {
            path: "logs/access.log".into(),
            member: None,
            har: None,
            line: Some(1832),
            column: Some(57),
            offset: Some(412_233),
            rule: "github-pat-classic".into(),
            kind: Kind::ApiKey,
            confidence: Confidence::High,
            secret: "ghp_Xk12…(redacted)".into(),
            fingerprint: "ab".repeat(32),
            context: "GET /api?token=ghp_Xk12…(redacted) HTTP/1.1".into(),
            expires: None,
            when: None,
            host: None,
            request: None,
        }
    }
}
