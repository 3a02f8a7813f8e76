//! The `human` format: findings grouped under their input, one line each
//! with position, confidence, rule and masked secret, then the context.
//! Colour only when writing to a terminal (and `NO_COLOR` is unset). All
//! log text in contexts was escaped when the finding was built, and a raw
//! secret (`--show-secrets`) is escaped here, so a log line cannot send
//! escape sequences to the terminal.

use std::io::{self, Write};

use crate::finding::{Confidence, Finding};

pub struct Human<W: Write> {
    out: W,
    color: bool,
    last: Option<(String, Option<String>)>,
}

const RESET: &str = "\x1b[0m";

impl<W: Write> Human<W> {
    pub fn new(out: W, color: bool) -> Self {
        Human {
            out,
            color,
            last: None,
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    pub fn batch(&mut self, findings: &[Finding]) -> io::Result<()> {
        for f in findings {
            let key = (f.path.clone(), f.member.clone());
            if self.last.as_ref() != Some(&key) {
                if self.last.is_some() {
                    writeln!(self.out)?;
                }
                let mut title = crate::redact::escape(f.path.as_bytes());
                if let Some(m) = &f.member {
                    title = format!("{title}!{}", crate::redact::escape(m.as_bytes()));
                }
                let title = self.paint("1;35", &title);
                writeln!(self.out, "{title}")?;
                self.last = Some(key);
            }
            self.finding(f)?;
        }
        self.out.flush()
    }

    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        let pos = match (f.line, f.column) {
            (Some(l), Some(c)) => format!("{l}:{c}"),
            _ => "-".to_string(),
        };
        let conf = match f.confidence {
            Confidence::High => self.paint("1;31", "high  "),
            Confidence::Medium => self.paint("33", "medium"),
            Confidence::Low => self.paint("2", "low   "),
        };
        let rule = self.paint("36", &f.rule);
        let secret = crate::redact::escape(f.secret.as_bytes());
        let mut line = format!("  {pos:>10}  {conf}  {rule}  {secret}");
        if let Some(e) = &f.expires {
            line.push_str(&format!("  (expires {e})"));
        }
        writeln!(self.out, "{line}")?;
        if let Some(h) = &f.har {
            let entry = h.entry.map_or("-".to_string(), |e| e.to_string());
            let mut at = format!(
                "entry {entry}  {}",
                crate::redact::escape(h.field.as_bytes())
            );
            if let Some(r) = &f.request {
                at.push_str(&format!("  ({r})"));
            }
            writeln!(self.out, "  {:>10}  {}", "", self.paint("35", &at))?;
        }
        let context = self.paint("2", &f.context);
        writeln!(self.out, "  {:>10}  {context}", "")
    }

    pub fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn groups_by_file_without_colour() {
        let mut h = Human::new(Vec::new(), false);
        let a = fixture::finding();
        let mut b = fixture::finding();
        b.path = "other.log".into();
        h.batch(&[a.clone(), a, b]).expect("write");
        let text = String::from_utf8(h.out).expect("utf8");
        assert_eq!(text.matches("logs/access.log\n").count(), 1);
        assert!(text.contains("\n\nother.log\n"));
        assert!(text.contains("   1832:57  high    github-pat-classic  ghp_Xk12…(redacted)\n"));
        assert!(!text.contains('\x1b'));
    }
}
