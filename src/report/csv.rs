//! `csv` output: one header row, then one row per finding, in the JSON wire
//! order (`har` split into `har_entry` and `har_field`; null is an empty
//! cell). Quoting follows RFC 4180: a cell holding a comma, a quote, a CR
//! or LF, or leading or trailing blanks is quoted, its quotes doubled. Rows
//! end in CRLF, as the RFC has them, and are flushed one by one so a pipe
//! sees them as they are found.
//!
//! Cells come from log text, and a spreadsheet runs a cell that starts
//! with `=`, `+`, `-`, `@`, a tab or a CR as a formula: such a cell gets a
//! leading `'` (OWASP's advice), except the path `-` of stdin.
//!
//! Names (`path`, `member`, `har_field`) and the context come from file
//! names and archive bytes: their control and invisible characters are
//! escaped (`\x1b`, `\r`, `\u{202e}`) as the human format does, so a cell
//! can neither drive a terminal nor split a row in a naive reader.

use std::io::{self, Write};

use crate::finding::{rfc3339, Finding};
use crate::redact::escape;

const HEADER: [&str; 15] = [
    "path",
    "member",
    "har_entry",
    "har_field",
    "line",
    "column",
    "offset",
    "rule",
    "kind",
    "confidence",
    "secret",
    "fingerprint",
    "context",
    "expires",
    "time",
];

pub struct Csv<W: Write> {
    out: W,
}

impl<W: Write> Csv<W> {
    pub fn new(out: W) -> Self {
        Csv { out }
    }

    pub fn begin(&mut self) -> io::Result<()> {
        self.row(HEADER.iter().map(|h| h.to_string()))
    }

    pub fn batch(&mut self, findings: &[Finding]) -> io::Result<()> {
        for f in findings {
            let number = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
            let shown = |s: &str| escape(s.as_bytes());
            self.row([
                shown(&f.path),
                f.member.as_deref().map(shown).unwrap_or_default(),
                number(f.har.as_ref().and_then(|h| h.entry)),
                f.har.as_ref().map(|h| shown(&h.field)).unwrap_or_default(),
                number(f.line),
                number(f.column),
                number(f.offset),
                f.rule.clone(),
                f.kind.as_str().to_string(),
                f.confidence.as_str().to_string(),
                f.secret.clone(),
                f.fingerprint.clone(),
                shown(&f.context),
                f.expires.clone().unwrap_or_default(),
                f.when.and_then(rfc3339).unwrap_or_default(),
            ])?;
        }
        Ok(())
    }

    pub fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn row(&mut self, cells: impl IntoIterator<Item = String>) -> io::Result<()> {
        for (i, cell) in cells.into_iter().enumerate() {
            if i > 0 {
                self.out.write_all(b",")?;
            }
            self.out.write_all(quote(&inert(&cell)).as_bytes())?;
        }
        self.out.write_all(b"\r\n")?;
        self.out.flush()
    }
}

/// A cell a spreadsheet will not run as a formula.
fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell != "-" && cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// A cell as RFC 4180 writes it.
fn quote(cell: &str) -> std::borrow::Cow<'_, str> {
    let needs = cell.contains([',', '"', '\r', '\n'])
        || cell.starts_with([' ', '\t'])
        || cell.ends_with([' ', '\t']);
    if needs {
        format!("\"{}\"", cell.replace('"', "\"\"")).into()
    } else {
        cell.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn header_and_row_snapshot() {
        let mut c = Csv::new(Vec::new());
        c.begin().expect("header");
        c.batch(&[fixture::finding()]).expect("row");
        c.finish().expect("finish");
        let want = format!(
            "{}\r\n{}\r\n",
            HEADER.join(","),
            "logs/access.log,,,,1832,57,412233,github-pat-classic,api-key,high,\
             ghp_Xk12…(redacted),FP,GET /api?token=ghp_Xk12…(redacted) HTTP/1.1,,"
                .replace("FP", &"ab".repeat(32))
        );
        assert_eq!(String::from_utf8(c.out).expect("utf8"), want);
    }

    #[test]
    fn awkward_cells_are_quoted() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote("two\nlines"), "\"two\nlines\"");
        assert_eq!(quote(" padded"), "\" padded\"");
        assert_eq!(quote(""), "");
    }

    #[test]
    fn formulas_are_made_inert() {
        assert_eq!(inert("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(inert("-----BEGIN…(redacted)"), "'-----BEGIN…(redacted)");
        assert_eq!(inert("@SUM(1)"), "'@SUM(1)");
        assert_eq!(inert("-"), "-");
        assert_eq!(inert("logs/a.log"), "logs/a.log");
    }
}
