//! `json` and `jsonl` output.
//!
//! # Wire format
//!
//! Each finding is one JSON object with exactly these keys, in this order:
//!
//! | key | type | meaning |
//! |---|---|---|
//! | `path` | string | the input as named on the command line or found by walking; `-` for stdin |
//! | `member` | string or null | path inside an archive |
//! | `har` | object or null | `{"entry": N, "field": "request.headers.Authorization"}` for HAR findings (`entry` null outside `log.entries`) |
//! | `line` | number or null | 1-based line of the secret's first byte |
//! | `column` | number or null | 1-based byte column of the secret's first byte |
//! | `offset` | number or null | 0-based byte offset of that byte in the (decompressed) stream |
//! | `rule` | string | rule id |
//! | `kind` | string | `api-key`, `bearer-token`, `jwt`, `session-cookie`, `basic-auth`, `url-credential`, `private-key`, `password` or `generic-secret` |
//! | `confidence` | string | `high`, `medium` or `low` |
//! | `secret` | string | masked (`ghp_Xk12…(redacted)`) unless `--show-secrets` |
//! | `fingerprint` | string | lowercase hex SHA-256 of the exact secret bytes |
//! | `context` | string | the text around the secret, every secret in it masked, control characters escaped, about 200 bytes at most |
//! | `expires` | string or null | RFC 3339 UTC time where the token states its expiry |
//! | `time` | string or null | RFC 3339 UTC time the line holding the secret was written, by the line's own timestamp |
//! | `host` | string or null | the host a syslog line holding the secret names |
//!
//! `jsonl` writes one object per line and flushes after each, so a pipe
//! sees findings as they are found; `json` writes one array.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use crate::finding::{parse_rfc3339, rfc3339, Confidence, Finding, HarLocation, Kind};

/// Borrowed view of a finding in wire order.
#[derive(Serialize)]
struct Wire<'a> {
    path: &'a str,
    member: Option<&'a str>,
    har: Option<&'a HarLocation>,
    line: Option<u64>,
    column: Option<u64>,
    offset: Option<u64>,
    rule: &'a str,
    kind: Kind,
    confidence: Confidence,
    secret: &'a str,
    fingerprint: &'a str,
    context: &'a str,
    expires: Option<&'a str>,
    time: Option<String>,
    host: Option<&'a str>,
}

impl<'a> From<&'a Finding> for Wire<'a> {
    fn from(f: &'a Finding) -> Self {
        Wire {
            path: &f.path,
            member: f.member.as_deref(),
            har: f.har.as_ref(),
            line: f.line,
            column: f.column,
            offset: f.offset,
            rule: &f.rule,
            kind: f.kind,
            confidence: f.confidence,
            secret: &f.secret,
            fingerprint: &f.fingerprint,
            context: &f.context,
            expires: f.expires.as_deref(),
            time: f.when.and_then(rfc3339),
            host: f.host.as_deref(),
        }
    }
}

/// A finding as read back from `json` or `jsonl` output (`leaksweep
/// merge`). `time` and `host` may be missing, as in output written before
/// they were; other keys are ignored.
#[derive(Deserialize)]
struct WireIn {
    path: String,
    member: Option<String>,
    har: Option<HarLocation>,
    line: Option<u64>,
    column: Option<u64>,
    offset: Option<u64>,
    rule: String,
    kind: Kind,
    confidence: Confidence,
    secret: String,
    fingerprint: String,
    context: String,
    expires: Option<String>,
    #[serde(default)]
    time: Option<String>,
    #[serde(default)]
    host: Option<String>,
}

/// Reads one finding of the wire format back; `Err` names what is wrong
/// (never the value, which may be a secret under `--show-secrets`).
pub fn read(value: serde_json::Value) -> Result<Finding, String> {
    let w: WireIn = serde_json::from_value(value).map_err(|e| cause(&e))?;
    let when = match w.time.as_deref() {
        Some(t) => Some(parse_rfc3339(t).ok_or("`time` is not an RFC 3339 UTC time")?),
        None => None,
    };
    Ok(Finding {
        path: w.path,
        member: w.member,
        har: w.har,
        line: w.line,
        column: w.column,
        offset: w.offset,
        rule: w.rule,
        kind: w.kind,
        confidence: w.confidence,
        secret: w.secret,
        fingerprint: w.fingerprint,
        context: w.context,
        expires: w.expires,
        when,
        host: w.host,
        request: None,
    })
}

/// What is wrong with JSON that is no finding, without the values serde
/// quotes in its messages (`invalid type: string "ghp_…"`).
pub fn cause(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Data if e.to_string().starts_with("missing field") => {
            let text = e.to_string();
            let field = text.split(" at line").next().unwrap_or(&text);
            format!("not a leaksweep finding: {field}")
        }
        Category::Data => "not a leaksweep finding: a key has the wrong type or value".into(),
        Category::Syntax => "not JSON".into(),
        Category::Eof => "JSON cut short".into(),
        Category::Io => "could not be read".into(),
    }
}

pub struct Json<W: Write> {
    out: W,
    lines: bool,
    first: bool,
}

impl<W: Write> Json<W> {
    pub fn new(out: W, lines: bool) -> Self {
        Json {
            out,
            lines,
            first: true,
        }
    }

    pub fn begin(&mut self) -> io::Result<()> {
        if !self.lines {
            self.out.write_all(b"[")?;
        }
        Ok(())
    }

    pub fn batch(&mut self, findings: &[Finding]) -> io::Result<()> {
        for f in findings {
            if !self.lines {
                self.out
                    .write_all(if self.first { b"\n" } else { b",\n" })?;
            }
            self.first = false;
            serde_json::to_writer(&mut self.out, &Wire::from(f))?;
            if self.lines {
                self.out.write_all(b"\n")?;
                self.out.flush()?;
            }
        }
        Ok(())
    }

    pub fn finish(&mut self) -> io::Result<()> {
        if !self.lines {
            self.out
                .write_all(if self.first { b"]\n" } else { b"\n]\n" })?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn jsonl_snapshot() {
        let mut j = Json::new(Vec::new(), true);
        j.batch(&[fixture::finding()]).expect("write");
        j.finish().expect("finish");
        let want = format!(
            "{}\n",
            r#"{"path":"logs/access.log","member":null,"har":null,"line":1832,"column":57,"offset":412233,"rule":"github-pat-classic","kind":"api-key","confidence":"high","secret":"ghp_Xk12…(redacted)","fingerprint":"FP","context":"GET /api?token=ghp_Xk12…(redacted) HTTP/1.1","expires":null,"time":null,"host":null}"#
                .replace("FP", &"ab".repeat(32))
        );
        assert_eq!(String::from_utf8(j.out).expect("utf8"), want);
    }

    #[test]
    fn json_is_an_array_even_when_empty() {
        let mut j = Json::new(Vec::new(), false);
        j.begin().expect("begin");
        j.finish().expect("finish");
        assert_eq!(j.out, b"[]\n");
        let mut j = Json::new(Vec::new(), false);
        j.begin().expect("begin");
        j.batch(&[fixture::finding(), fixture::finding()])
            .expect("write");
        j.finish().expect("finish");
        let v: serde_json::Value = serde_json::from_slice(&j.out).expect("valid json");
        assert_eq!(v.as_array().map(|a| a.len()), Some(2));
    }
}
