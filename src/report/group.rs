//! `--group-by secret`: one record per distinct secret (fingerprint), for a
//! responder deciding what to rotate first, written when the scan ends.
//!
//! A record holds the fingerprint, rule, kind, the highest confidence seen,
//! the masked secret, `count` (findings of it), `files` (paths, and
//! `path!member` inside archives), `hosts`, and `first_seen` / `last_seen`
//! (RFC 3339) from the log lines' own timestamps, null when no line had
//! one. A host is the host field of a syslog line, or a directory in the
//! path named like a host (`web-01.example.com`: two or more labels, the
//! last one letters). Records come most urgent first: by confidence, then
//! count. `json` writes one array, `jsonl` one record a line, `human` one
//! line each.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::Format;
use crate::finding::{rfc3339, Confidence, Finding, Kind};
use crate::redact;

#[derive(Serialize)]
struct Record {
    fingerprint: String,
    rule: String,
    kind: Kind,
    confidence: Confidence,
    secret: String,
    count: u64,
    files: BTreeSet<String>,
    hosts: BTreeSet<String>,
    first_seen: Option<String>,
    last_seen: Option<String>,
}

struct Seen {
    record: Record,
    first: Option<i64>,
    last: Option<i64>,
}

pub struct Group<W: Write> {
    out: W,
    format: Format,
    by_secret: BTreeMap<String, Seen>,
}

impl<W: Write> Group<W> {
    /// `format` is `Json`, `Jsonl` or `Human` (the caller refuses others).
    pub fn new(out: W, format: Format) -> Self {
        Group {
            out,
            format,
            by_secret: BTreeMap::new(),
        }
    }

    pub fn batch(&mut self, findings: &[Finding]) {
        for f in findings {
            let seen = self
                .by_secret
                .entry(f.fingerprint.clone())
                .or_insert_with(|| Seen {
                    record: Record {
                        fingerprint: f.fingerprint.clone(),
                        rule: f.rule.clone(),
                        kind: f.kind,
                        confidence: f.confidence,
                        secret: f.secret.clone(),
                        count: 0,
                        files: BTreeSet::new(),
                        hosts: BTreeSet::new(),
                        first_seen: None,
                        last_seen: None,
                    },
                    first: None,
                    last: None,
                });
            let r = &mut seen.record;
            r.count += 1;
            if f.confidence > r.confidence {
                (r.confidence, r.rule, r.kind) = (f.confidence, f.rule.clone(), f.kind);
            }
            r.files.insert(match &f.member {
                Some(m) => format!("{}!{m}", f.path),
                None => f.path.clone(),
            });
            r.hosts.extend(f.host.clone());
            r.hosts.extend(host_in_path(&f.path));
            if let Some(t) = f.when {
                seen.first = Some(seen.first.map_or(t, |x| x.min(t)));
                seen.last = Some(seen.last.map_or(t, |x| x.max(t)));
            }
        }
    }

    pub fn finish(&mut self) -> io::Result<()> {
        let mut records: Vec<Record> = std::mem::take(&mut self.by_secret)
            .into_values()
            .map(|s| Record {
                first_seen: s.first.and_then(rfc3339),
                last_seen: s.last.and_then(rfc3339),
                ..s.record
            })
            .collect();
        records.sort_by(|a, b| {
            (b.confidence, b.count, &a.fingerprint).cmp(&(a.confidence, a.count, &b.fingerprint))
        });
        match self.format {
            Format::Json => {
                serde_json::to_writer_pretty(&mut self.out, &records)?;
                self.out.write_all(b"\n")?;
            }
            Format::Human => {
                for r in &records {
                    let list = |s: &BTreeSet<String>| {
                        let v: Vec<&str> = s.iter().map(String::as_str).collect();
                        redact::escape(v.join(", ").as_bytes())
                    };
                    writeln!(
                        self.out,
                        "{} {} {} seen {}× from {} to {} on hosts [{}] in [{}]",
                        r.confidence.as_str(),
                        r.rule,
                        redact::escape(r.secret.as_bytes()),
                        r.count,
                        r.first_seen.as_deref().unwrap_or("?"),
                        r.last_seen.as_deref().unwrap_or("?"),
                        list(&r.hosts),
                        list(&r.files),
                    )?;
                }
            }
            _ => {
                for r in &records {
                    serde_json::to_writer(&mut self.out, r)?;
                    self.out.write_all(b"\n")?;
                }
            }
        }
        self.out.flush()
    }
}

/// A directory of `path` named like a host: two or more labels of
/// letters, digits and hyphens, the last one letters only.
fn host_in_path(path: &str) -> Option<String> {
    let dirs = Path::new(path).parent()?;
    dirs.components()
        .rev()
        .filter_map(|c| c.as_os_str().to_str())
        .filter(|c| {
            let labels: Vec<&str> = c.split('.').collect();
            labels.len() >= 2
                && labels.iter().all(|l| {
                    !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
                && labels
                    .last()
                    .is_some_and(|l| l.len() >= 2 && l.bytes().all(|b| b.is_ascii_alphabetic()))
        })
        .map(str::to_owned)
        .next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn one_record_per_secret_with_count_files_hosts_and_times() {
        let mut g = Group::new(Vec::new(), Format::Jsonl);
        let mut a = fixture::finding();
        a.when = Some(1_714_564_800);
        let mut b = fixture::finding();
        b.path = "/logs/web-02.example.com/app.log".into();
        b.host = Some("web-02".into());
        b.when = Some(1_714_564_800 + 3600);
        let mut other = fixture::finding();
        other.fingerprint = "cd".repeat(32);
        g.batch(&[a, b, other]);
        g.finish().expect("finish");
        let lines: Vec<serde_json::Value> = String::from_utf8(g.out)
            .expect("utf8")
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        assert_eq!(lines.len(), 2);
        let r = &lines[0];
        assert_eq!(r["count"], 2);
        assert_eq!(r["fingerprint"], "ab".repeat(32));
        assert_eq!(
            r["files"],
            serde_json::json!(["/logs/web-02.example.com/app.log", "logs/access.log"])
        );
        assert_eq!(
            r["hosts"],
            serde_json::json!(["web-02", "web-02.example.com"])
        );
        assert_eq!(r["first_seen"], "2024-05-01T12:00:00Z");
        assert_eq!(r["last_seen"], "2024-05-01T13:00:00Z");
        assert_eq!(lines[1]["first_seen"], serde_json::Value::Null);
    }

    #[test]
    fn hosts_in_paths() {
        assert_eq!(
            host_in_path("/srv/logs/db-1.prod.example.com/x.log").as_deref(),
            Some("db-1.prod.example.com")
        );
        assert_eq!(host_in_path("/var/log/nginx/access.log.1"), None);
        assert_eq!(host_in_path("app.log"), None);
    }
}
