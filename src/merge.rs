//! `leaksweep merge`: the findings of several runs (one per shard, see
//! `scan --shard`) read back from their `json` or `jsonl` output, exact
//! duplicates dropped, and reported as one run over all of their inputs
//! reports them: in its order, in any output format, or grouped by secret.

use std::cmp::Ordering;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::finding::Finding;
use crate::messages::{io_cause, Messages};
use crate::report::json;

/// What the files held: their findings, in one run's order, without
/// duplicates; and how many duplicates were dropped.
pub struct Merged {
    pub findings: Vec<Finding>,
    pub duplicates: u64,
}

/// Reads every file (`-`: stdin). A file that cannot be read, or a line
/// that is no finding, is reported through `msgs` by file and line and
/// left out; the rest are merged.
pub fn read_all(files: &[PathBuf], msgs: &Messages) -> Merged {
    let mut findings = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let opened: io::Result<Box<dyn Read>> = if name == "-" {
            Ok(Box::new(io::stdin().lock()))
        } else {
            File::open(path).map(|f| Box::new(f) as Box<dyn Read>)
        };
        match opened {
            Ok(reader) => read_one(&name, BufReader::new(reader), &mut findings, msgs),
            Err(e) => msgs.error(&name, io_cause(&e)),
        }
    }
    findings.sort_by(run_order);
    let before = findings.len();
    findings.dedup_by(|a, b| same(a, b));
    Merged {
        duplicates: (before - findings.len()) as u64,
        findings,
    }
}

/// One file's findings: JSON Lines, or one JSON array (`--format json`).
fn read_one(name: &str, mut reader: impl BufRead, out: &mut Vec<Finding>, msgs: &Messages) {
    let array = match reader.fill_buf() {
        Ok(buf) => buf.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'['),
        Err(e) => return msgs.error(name, io_cause(&e)),
    };
    if array {
        let values: Vec<serde_json::Value> = match serde_json::from_reader(reader) {
            Ok(v) => v,
            Err(e) => {
                return msgs.error(
                    name,
                    format!("not a JSON array of findings: {}", json::cause(&e)),
                )
            }
        };
        for (i, v) in values.into_iter().enumerate() {
            match json::read(v) {
                Ok(f) => out.push(f),
                Err(cause) => msgs.error(name, format!("finding {} of the array: {cause}", i + 1)),
            }
        }
        return;
    }
    for (i, line) in reader.split(b'\n').enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(e) => return msgs.error(name, io_cause(&e)),
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = serde_json::from_slice(&line)
            .map_err(|e| json::cause(&e))
            .and_then(json::read);
        match parsed {
            Ok(f) => out.push(f),
            Err(cause) => msgs.error(&format!("{name}:{}", i + 1), cause),
        }
    }
}

/// The order one run writes findings in: inputs as a directory walk
/// meets them (by path, a component at a time), then archive member, then
/// place in the stream.
fn run_order(a: &Finding, b: &Finding) -> Ordering {
    Path::new(&a.path)
        .components()
        .cmp(Path::new(&b.path).components())
        .then_with(|| key(a).cmp(&key(b)))
}

type Key<'a> = (
    &'a Option<String>,
    Option<u64>,
    Option<u64>,
    Option<u64>,
    Option<(Option<u64>, &'a str)>,
    &'a str,
    &'a str,
);

fn key(f: &Finding) -> Key<'_> {
    (
        &f.member,
        f.offset,
        f.line,
        f.column,
        f.har.as_ref().map(|h| (h.entry, h.field.as_str())),
        &f.rule,
        &f.fingerprint,
    )
}

/// The same finding: the same secret by the same rule at the same place.
fn same(a: &Finding, b: &Finding) -> bool {
    a.path == b.path && key(a) == key(b)
}

/// Opens `--output`, refusing one of the files being merged.
pub fn output(path: &Path, files: &[PathBuf]) -> anyhow::Result<File> {
    if files.iter().any(|f| f == path) {
        anyhow::bail!(crate::app::Usage(format!(
            "the output file {} is one of the files to merge",
            path.display()
        )));
    }
    File::create(path).with_context(|| format!("creating the output file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn findings_come_in_walk_order_without_duplicates() {
        let at = |path: &str, offset: u64| Finding {
            path: path.into(),
            offset: Some(offset),
            ..fixture::finding()
        };
        let mut all = vec![
            at("logs/b.log", 5),
            at("logs-x/a.log", 1),
            at("logs/a/z.log", 9),
        ];
        all.extend([at("logs/b.log", 1), at("logs/b.log", 5)]);
        all.sort_by(run_order);
        all.dedup_by(|a, b| same(a, b));
        let got: Vec<(&str, Option<u64>)> =
            all.iter().map(|f| (f.path.as_str(), f.offset)).collect();
        // `logs/` sorts before `logs-x/` by component, not by byte.
        assert_eq!(
            got,
            [
                ("logs/a/z.log", Some(9)),
                ("logs/b.log", Some(1)),
                ("logs/b.log", Some(5)),
                ("logs-x/a.log", Some(1)),
            ]
        );
    }
}
