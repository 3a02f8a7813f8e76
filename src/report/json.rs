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
//!
//! `jsonl` writes one object per line and flushes after each, so a pipe
//! sees findings as they are found; `json` writes one array.

use std::io::{self, Write};

use serde::Serialize;

use crate::finding::{rfc3339, Confidence, Finding, HarLocation, Kind};

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
        }
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
            r#"{"path":"logs/access.log","member":null,"har":null,"line":1832,"column":57,"offset":412233,"rule":"github-pat-classic","kind":"api-key","confidence":"high","secret":"ghp_Xk12…(redacted)","fingerprint":"FP","context":"GET /api?token=ghp_Xk12…(redacted) HTTP/1.1","expires":null,"time":null}"#
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
