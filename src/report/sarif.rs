//! `sarif` output: one SARIF 2.1.0 log with one run, for code-scanning
//! dashboards and SIEMs that take SARIF.
//!
//! The tool's driver lists every loaded rule (id, name, kind, confidence,
//! its first reference as `helpUri`). Each finding is one result:
//! `ruleId`, `level` by confidence (high `error`, medium `warning`, low
//! `note`), a message with the rule's name and the masked secret, one
//! location (`uri` is the input path as a URI reference; `region` holds
//! `startLine`, `startColumn` and `byteOffset` in the decompressed stream
//! and the masked context as its snippet), the fingerprint as
//! `partialFingerprints["leaksweep/secret-sha256"]`, and the rest of the
//! JSON finding (`member`, `har`, `kind`, `confidence`, `secret`,
//! `expires`) in `properties`. Columns count bytes, which equal SARIF's
//! default UTF-16 columns on ASCII lines. The log is written as findings
//! arrive and closed at the end.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use serde_json::{json, Map, Value};

use crate::finding::{rfc3339, Confidence, Finding};
use crate::messages::Notice;
use crate::rules::Rule;

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

pub struct Sarif<W: Write> {
    out: W,
    /// The driver's rule list, written by `begin`.
    driver: Value,
    /// Rule id → index in the driver's list, and the rule's name.
    rules: HashMap<String, (usize, String)>,
    first: bool,
    /// The run's one invocation: whether it read every input, and each
    /// error and skip (see [`Sarif::invocation`]).
    invocation: Value,
}

impl<W: Write> Sarif<W> {
    pub fn new(out: W, rules: &[Rule]) -> Self {
        let descriptors: Vec<Value> = rules
            .iter()
            .map(|r| {
                let mut d = json!({
                    "id": r.spec.id,
                    "name": r.spec.name,
                    "shortDescription": {"text": r.spec.name},
                    "defaultConfiguration": {"level": level(r.spec.confidence)},
                    "properties": {
                        "kind": r.spec.kind.as_str(),
                        "confidence": r.spec.confidence.as_str(),
                        "tags": ["security", "secret"],
                    },
                });
                if let Some(uri) = r.spec.references.first() {
                    d["helpUri"] = json!(uri);
                }
                d
            })
            .collect();
        let driver = json!({
            "name": "leaksweep",
            "version": env!("CARGO_PKG_VERSION"),
            "rules": descriptors,
        });
        let rules = rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.spec.id.clone(), (i, r.spec.name.clone())))
            .collect();
        Sarif {
            out,
            driver,
            rules,
            first: true,
            invocation: json!({"executionSuccessful": true}),
        }
    }

    /// Records how the scan went: `complete` unless an input failed, and
    /// a notification for each error (level `error`) and skip (level
    /// `warning`), naming its input. A dashboard then tells an incomplete
    /// scan from a clean one.
    pub fn invocation(&mut self, complete: bool, notices: &[Notice]) {
        let notifications: Vec<Value> = notices
            .iter()
            .map(|n| {
                json!({
                    "level": if n.error { "error" } else { "warning" },
                    "message": {"text": message_text(&format!("{}: {}", n.path, n.text))},
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(&n.path)}}}],
                })
            })
            .collect();
        self.invocation = json!({
            "executionSuccessful": complete,
            "toolExecutionNotifications": notifications,
        });
    }

    pub fn begin(&mut self) -> io::Result<()> {
        write!(
            self.out,
            "{{\"$schema\":\"{SCHEMA}\",\"version\":\"2.1.0\",\"runs\":[{{\"tool\":{{\"driver\":"
        )?;
        serde_json::to_writer(&mut self.out, &self.driver)?;
        self.out.write_all(b"},\"results\":[")?;
        Ok(())
    }

    pub fn batch(&mut self, findings: &[Finding]) -> io::Result<()> {
        for f in findings {
            if !self.first {
                self.out.write_all(b",")?;
            }
            self.first = false;
            self.out.write_all(b"\n")?;
            let result = self.result(f);
            serde_json::to_writer(&mut self.out, &result)?;
        }
        self.out.flush()
    }

    pub fn finish(&mut self) -> io::Result<()> {
        self.out.write_all(b"\n],\"invocations\":[")?;
        serde_json::to_writer(&mut self.out, &self.invocation)?;
        self.out.write_all(b"]}]}\n")?;
        self.out.flush()
    }

    fn result(&self, f: &Finding) -> Value {
        let (index, name) = match self.rules.get(&f.rule) {
            Some((i, name)) => (Some(*i), name.as_str()),
            None => (None, f.rule.as_str()),
        };
        let mut region = Map::new();
        if let Some(line) = f.line {
            region.insert("startLine".into(), json!(line));
            if let Some(column) = f.column {
                region.insert("startColumn".into(), json!(column));
            }
        }
        if let Some(offset) = f.offset {
            region.insert("byteOffset".into(), json!(offset));
        }
        let mut physical = json!({"artifactLocation": {"uri": uri(&f.path)}});
        if !region.is_empty() {
            region.insert("snippet".into(), json!({"text": f.context}));
            physical["region"] = Value::Object(region);
        }
        let mut properties = json!({
            "kind": f.kind.as_str(),
            "confidence": f.confidence.as_str(),
            "secret": f.secret,
        });
        if let Some(member) = &f.member {
            properties["member"] = json!(member);
        }
        if let Some(har) = &f.har {
            properties["har"] = json!(har);
        }
        if let Some(expires) = &f.expires {
            properties["expires"] = json!(expires);
        }
        if let Some(time) = f.when.and_then(rfc3339) {
            properties["time"] = json!(time);
        }
        let place = match &f.member {
            Some(m) => format!(" in member {m}"),
            None => String::new(),
        };
        let mut result = json!({
            "ruleId": f.rule,
            "level": level(f.confidence),
            "message": {"text": message_text(&format!("{name}{place}: {}", f.secret))},
            "locations": [{"physicalLocation": physical}],
            "partialFingerprints": {"leaksweep/secret-sha256": f.fingerprint},
            "properties": properties,
        });
        if let Some(i) = index {
            result["ruleIndex"] = json!(i);
        }
        result
    }
}

/// A result message's plain text: control and invisible characters
/// escaped as the human format does (a member name is archive bytes), and
/// `[` `]` escaped with a backslash, as SARIF asks of plain text, so a
/// crafted name cannot become an embedded link (`[text](url)`) in a viewer.
fn message_text(text: &str) -> String {
    let shown = crate::redact::escape(text.as_bytes());
    let mut out = String::with_capacity(shown.len());
    for c in shown.chars() {
        if matches!(c, '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn level(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "error",
        Confidence::Medium => "warning",
        Confidence::Low => "note",
    }
}

/// A path as a URI reference: relative paths stay relative, absolute ones
/// become `file://` URIs; bytes outside the unreserved set and `/` are
/// percent-encoded.
fn uri(path: &str) -> String {
    let mut s = String::with_capacity(path.len() + 8);
    if path.starts_with('/') {
        s.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            s.push(char::from(b));
        } else {
            let _ = write!(s, "%{b:02X}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;
    use crate::rules::Rules;

    #[test]
    fn one_result_per_finding_with_rule_location_and_fingerprint() {
        let rules = Rules::builtin().expect("rules");
        let mut s = Sarif::new(Vec::new(), &rules.rules);
        s.begin().expect("begin");
        let mut member = fixture::finding();
        member.member = Some("a b/c.log".into());
        s.batch(&[fixture::finding(), member]).expect("batch");
        s.finish().expect("finish");
        let log: Value = serde_json::from_slice(&s.out).expect("valid JSON");
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        let results = run["results"].as_array().expect("results");
        assert_eq!(results.len(), 2);
        let r = &results[0];
        assert_eq!(r["ruleId"], "github-pat-classic");
        let i = r["ruleIndex"].as_u64().expect("index") as usize;
        assert_eq!(
            run["tool"]["driver"]["rules"][i]["id"],
            "github-pat-classic"
        );
        assert_eq!(r["level"], "error");
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "logs/access.log");
        assert_eq!(loc["region"]["startLine"], 1832);
        assert_eq!(loc["region"]["startColumn"], 57);
        assert_eq!(loc["region"]["byteOffset"], 412_233);
        assert_eq!(
            r["partialFingerprints"]["leaksweep/secret-sha256"],
            "ab".repeat(32)
        );
        assert_eq!(results[1]["properties"]["member"], "a b/c.log");
    }

    #[test]
    fn empty_log_is_valid_json() {
        let mut s = Sarif::new(Vec::new(), &[]);
        s.begin().expect("begin");
        s.finish().expect("finish");
        let log: Value = serde_json::from_slice(&s.out).expect("valid JSON");
        assert_eq!(log["runs"][0]["results"], json!([]));
    }

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri("logs/a.log"), "logs/a.log");
        assert_eq!(uri("/var/log/a b.log"), "file:///var/log/a%20b.log");
        assert_eq!(uri("x#1?.log"), "x%231%3F.log");
        assert_eq!(uri("-"), "-");
    }
}
