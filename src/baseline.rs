//! Baselines: the fingerprints of findings known and accepted, so that a
//! scan reports only what is new. `leaksweep baseline PATH... -o FILE`
//! writes one; `scan --baseline FILE` leaves its fingerprints out.
//!
//! The file is JSON: `{"leaksweep_baseline": 1, "findings": [...]}`, one
//! entry per distinct secret with its fingerprint (SHA-256 of the secret),
//! rule id, and where it was first seen (path, member, line) so a reviewer
//! can tell what was accepted. It never holds a secret.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::finding::Finding;
use crate::state::replace_file;

const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct BaselineFile {
    leaksweep_baseline: u32,
    findings: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    fingerprint: String,
    rule: String,
    path: String,
    member: Option<String>,
    line: Option<u64>,
}

/// The fingerprints of a baseline file; an unreadable, damaged or foreign
/// file is an error naming it.
pub fn load(path: &Path) -> anyhow::Result<HashSet<String>> {
    let name = path.display();
    let bytes = fs::read(path).map_err(|e| anyhow::anyhow!("{name}: cannot read it: {e}"))?;
    let file: BaselineFile = serde_json::from_slice(&bytes)
        .map_err(|e| anyhow::anyhow!("{name}: not a leaksweep baseline ({e})"))?;
    if file.leaksweep_baseline != VERSION {
        anyhow::bail!(
            "{name}: baseline format {} is not the {VERSION} this leaksweep reads",
            file.leaksweep_baseline
        );
    }
    Ok(file.findings.into_iter().map(|e| e.fingerprint).collect())
}

/// The reporter of `leaksweep baseline`: collects the findings, writes the
/// file (atomically) at the end.
pub struct Collect {
    path: PathBuf,
    /// By fingerprint: the first finding of each secret.
    entries: BTreeMap<String, Entry>,
}

impl Collect {
    pub fn new(path: &Path) -> Self {
        Collect {
            path: path.to_owned(),
            entries: BTreeMap::new(),
        }
    }

    pub fn batch(&mut self, findings: &[Finding]) {
        for f in findings {
            self.entries
                .entry(f.fingerprint.clone())
                .or_insert_with(|| Entry {
                    fingerprint: f.fingerprint.clone(),
                    rule: f.rule.clone(),
                    path: f.path.clone(),
                    member: f.member.clone(),
                    line: f.line,
                });
        }
    }

    pub fn finish(&mut self) -> io::Result<()> {
        let file = BaselineFile {
            leaksweep_baseline: VERSION,
            findings: std::mem::take(&mut self.entries).into_values().collect(),
        };
        let mut bytes = serde_json::to_vec_pretty(&file)?;
        bytes.push(b'\n');
        replace_file(&self.path, &bytes)
    }
}
