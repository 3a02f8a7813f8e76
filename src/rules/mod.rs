//! Rules as data: loading `patterns/*.toml` (embedded at build time) and the
//! user's `--rules` files, rejecting bad rules with one error naming the file,
//! the rule id and the cause, and compiling each rule's regex once.
//!
//! A rule file holds `[[rule]]` tables; every key is documented on
//! [`RuleSpec`]. A user rule with the id of a built-in rule replaces it.

pub mod check;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use regex_automata::meta::{self, Regex};
use regex_automata::util::syntax;
use serde::Deserialize;

use crate::finding::{Confidence, Kind};
use crate::validate::{Checks, Validator};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));
}

/// Default bytes of text searched after a keyword hit.
pub const DEFAULT_WINDOW: usize = 512;
/// Default bytes of text searched before a keyword hit: enough for a
/// variable name or URL scheme that precedes the keyword. The regex runs
/// over `before + window` bytes for every hit, so this is kept small.
pub const DEFAULT_BEFORE: usize = 96;
/// Largest window a rule may ask for; bounds the overlap streamed and
/// chunked scans must keep.
pub const MAX_WINDOW: usize = 72 * 1024;
/// Compiled size limit for one rule's regex: rules are user input too.
const REGEX_SIZE_LIMIT: usize = 4 * 1024 * 1024;

/// One rule as written in a TOML file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Stable identifier, `[a-z0-9-]+`, reported in findings.
    pub id: String,
    /// Human name.
    pub name: String,
    /// Who issues the credential (`GitHub`, `Stripe`), or the framework or
    /// format it belongs to (`Django`, `PEM`): `rules list` groups by it.
    #[serde(default)]
    pub provider: Option<String>,
    pub kind: Kind,
    pub confidence: Confidence,
    /// Literal anchors; a rule's regex only runs near one of them.
    pub keywords: Vec<String>,
    /// Match the keywords in their lower, UPPER and Title spellings as well
    /// as written (the regex itself must say `(?i)` where it needs to).
    #[serde(default)]
    pub ignore_case: bool,
    /// Regex (bytes, Unicode off unless the pattern enables it) with exactly
    /// one capture group: the secret.
    pub pattern: String,
    #[serde(default)]
    pub validators: Vec<String>,
    /// Minimum Shannon entropy of the secret (bits/char, base64 scale).
    pub min_entropy: Option<f64>,
    /// Apply the placeholder deny-list (default true).
    #[serde(default = "yes")]
    pub placeholder: bool,
    /// Bytes searched after a keyword hit (default 512).
    pub window: Option<usize>,
    /// Bytes searched before a keyword hit, for matches that start well
    /// before their keyword (default 96, at most `window`).
    pub before: Option<usize>,
    /// Let a match span lines (PEM blocks); otherwise the window stops at
    /// the line ends around the hit.
    #[serde(default)]
    pub multiline: bool,
    /// Public prefixes of the token (`sk-proj-`, `xoxb-`) that redaction
    /// may show; by default a keyword at the token's start is shown.
    #[serde(default)]
    pub prefixes: Vec<String>,
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub counter_examples: Vec<String>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

/// A compiled rule.
#[derive(Clone, Debug)]
pub struct Rule {
    pub spec: RuleSpec,
    /// Where the rule was loaded from (file name, for messages).
    pub source: String,
    /// This copy's handle on the regex: each worker's engine clone has its
    /// own, so that workers do not contend for one scratch-space pool.
    regex: OnceLock<Option<Regex>>,
    /// The regex as built, now or on first use (see [`Build`]), shared by
    /// every clone so that it is built once; `None` if it failed to build.
    built: Arc<OnceLock<Option<Regex>>>,
    pub checks: Checks,
    pub window: usize,
    pub before: usize,
    /// A context rule (it judges values by name and shape, `not-identifier`
    /// or `secret-name`): loses
    /// ties to a rule that knows the token's format.
    pub generic: bool,
}

impl Rule {
    /// The rule's regex, built here if it was not at load; `None` only for
    /// a pattern that parsed but is too large to build, which no built-in is.
    pub fn regex(&self) -> Option<&Regex> {
        self.regex
            .get_or_init(|| {
                self.built
                    .get_or_init(|| build_regex(&self.spec.pattern).ok())
                    .clone()
            })
            .as_ref()
    }
}

/// Why a rule file or rule was rejected.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}{}: {cause}", rule_id.as_ref().map(|id| format!(": rule '{id}'")).unwrap_or_default())]
pub struct RuleError {
    pub source_name: String,
    pub rule_id: Option<String>,
    pub cause: String,
}

/// The loaded, compiled rules in a stable order (built-ins first, by file
/// and position; user rules after, or in place of the built-in they override).
#[derive(Clone, Debug, Default)]
pub struct Rules {
    pub rules: Vec<Rule>,
}

impl Rules {
    /// The embedded rule set.
    pub fn builtin() -> Result<Rules, RuleError> {
        let mut rules = Rules::default();
        for (name, text) in builtin::BUILTIN {
            rules.add_text(&format!("patterns/{name}"), text, Build::OnFirstUse)?;
        }
        Ok(rules)
    }

    /// Built-ins plus the user's rule files (each path a file or a directory
    /// of `*.toml`).
    pub fn load(extra: &[PathBuf]) -> Result<Rules, RuleError> {
        let mut rules = Rules::builtin()?;
        rules.add_paths(extra)?;
        Ok(rules)
    }

    /// Only the rules in the given files (for `rules check PATH`).
    pub fn from_paths(paths: &[PathBuf]) -> Result<Rules, RuleError> {
        let mut rules = Rules::default();
        rules.add_paths(paths)?;
        Ok(rules)
    }

    fn add_paths(&mut self, paths: &[PathBuf]) -> Result<(), RuleError> {
        for path in paths {
            for file in rule_files(path)? {
                let name = file.display().to_string();
                let text = fs::read_to_string(&file).map_err(|e| RuleError {
                    source_name: name.clone(),
                    rule_id: None,
                    cause: e.to_string(),
                })?;
                self.add_file(&name, &text)?;
            }
        }
        Ok(())
    }

    /// Parses and compiles one rule file's text, adding or overriding rules.
    pub fn add_file(&mut self, source: &str, text: &str) -> Result<(), RuleError> {
        self.add_text(source, text, Build::Now)
    }

    fn add_text(&mut self, source: &str, text: &str, when: Build) -> Result<(), RuleError> {
        let file: RuleFile = toml::from_str(text).map_err(|e| RuleError {
            source_name: source.to_string(),
            rule_id: None,
            cause: e.to_string().trim_end().to_string(),
        })?;
        let mut seen = std::collections::HashSet::new();
        for spec in file.rule {
            if !seen.insert(spec.id.clone()) {
                return Err(RuleError {
                    source_name: source.to_string(),
                    rule_id: Some(spec.id),
                    cause: "duplicate rule id in this file".into(),
                });
            }
            let rule = compile(source, spec, when)?;
            match self.rules.iter_mut().find(|r| r.spec.id == rule.spec.id) {
                Some(old) => *old = rule,
                None => self.rules.push(rule),
            }
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

fn rule_files(path: &Path) -> Result<Vec<PathBuf>, RuleError> {
    let err = |cause: String| RuleError {
        source_name: path.display().to_string(),
        rule_id: None,
        cause,
    };
    let meta = fs::metadata(path).map_err(|e| err(e.to_string()))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in fs::read_dir(path).map_err(|e| err(e.to_string()))? {
        let p = entry.map_err(|e| err(e.to_string()))?.path();
        if p.extension().is_some_and(|x| x == "toml") {
            files.push(p);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(err("no *.toml rule files in this directory".into()));
    }
    Ok(files)
}

/// When a rule's regex is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Build {
    /// At load, so that a pattern too large to build is an error there.
    Now,
    /// When a keyword of the rule first hits, and nothing is parsed at
    /// load: for the built-ins, which the tests build with their one
    /// capture group (`every_builtin_regex_builds`). Building all of the
    /// 300-odd built-in regexes took a tenth of a second at every start, and
    /// a scan runs only the few its logs hit; parsing them, a quarter of a
    /// start.
    OnFirstUse,
}

/// The syntax rules read in. Multi-line: `^` and `$` mean line start and
/// end, as log rules expect (the regex runs inside a larger buffer, never
/// on a line alone).
fn syntax_config() -> syntax::Config {
    syntax::Config::new()
        .unicode(false)
        .utf8(false)
        .multi_line(true)
}

fn build_regex(pattern: &str) -> Result<Regex, String> {
    Regex::builder()
        .syntax(syntax_config())
        .configure(
            meta::Config::new()
                .utf8_empty(false)
                .nfa_size_limit(Some(REGEX_SIZE_LIMIT)),
        )
        .build(pattern)
        .map_err(|e| e.to_string())
}

/// A cell holding `regex` if there is one, else empty (to build later).
fn filled(regex: Option<Regex>) -> OnceLock<Option<Regex>> {
    regex.map_or_else(OnceLock::new, |r| OnceLock::from(Some(r)))
}

fn check_captures(groups: usize) -> Result<(), String> {
    if groups == 1 {
        return Ok(());
    }
    Err(format!(
        "pattern must have exactly one capture group (the secret), it has {groups}"
    ))
}

/// Validates and compiles one rule spec.
pub fn compile(source: &str, spec: RuleSpec, when: Build) -> Result<Rule, RuleError> {
    let err = |cause: String| RuleError {
        source_name: source.to_string(),
        rule_id: Some(spec.id.clone()),
        cause,
    };
    if spec.id.is_empty()
        || !spec
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(err(
            "id must be non-empty and use only a-z, 0-9 and '-'".into()
        ));
    }
    if spec.keywords.is_empty() {
        return Err(err(
            "no keywords: every rule needs at least one literal keyword for the prefilter".into(),
        ));
    }
    if spec.keywords.iter().any(|k| k.is_empty()) {
        return Err(err("empty keyword".into()));
    }
    let built_now = match when {
        Build::Now => {
            let regex = build_regex(&spec.pattern)
                .map_err(|e| err(format!("pattern does not compile: {e}")))?;
            check_captures(regex.captures_len() - 1).map_err(err)?;
            Some(regex)
        }
        Build::OnFirstUse => None,
    };
    let validators = spec
        .validators
        .iter()
        .map(|v| v.parse::<Validator>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    if let Some(e) = spec.min_entropy {
        if !(0.0..=8.0).contains(&e) {
            return Err(err(format!("min_entropy {e} is outside 0..=8")));
        }
    }
    let window = spec.window.unwrap_or(DEFAULT_WINDOW);
    if window == 0 || window > MAX_WINDOW {
        return Err(err(format!("window {window} is outside 1..={MAX_WINDOW}")));
    }
    let before = spec.before.unwrap_or(DEFAULT_BEFORE.min(window));
    if before > MAX_WINDOW {
        return Err(err(format!("before {before} is outside 0..={MAX_WINDOW}")));
    }
    let checks = Checks {
        validators,
        min_entropy: spec.min_entropy,
        placeholder: spec.placeholder,
        confidence: spec.confidence,
    };
    Ok(Rule {
        generic: checks.validators.iter().any(|v| v.generic()),
        source: source.to_string(),
        built: Arc::new(filled(built_now.clone())),
        regex: filled(built_now),
        checks,
        window,
        before,
        spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Result<Rules, RuleError> {
        let mut r = Rules::default();
        r.add_file("t.toml", text)?;
        Ok(r)
    }

    const GOOD: &str = r#"
[[rule]]
id = "demo"
name = "Demo"
kind = "api-key"
confidence = "high"
keywords = ["demo_"]
pattern = '(demo_[a-z]{8})'
"#;

    #[test]
    fn loads_a_good_rule() {
        let r = one(GOOD).expect("loads");
        assert_eq!(r.rules[0].spec.id, "demo");
        assert_eq!(r.rules[0].window, DEFAULT_WINDOW);
    }

    #[test]
    fn rejects_rule_without_keywords_naming_file_and_id() {
        let e = one(&GOOD.replace(r#"["demo_"]"#, "[]")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("t.toml: rule 'demo': no keywords"), "{msg}");
    }

    /// Built-in regexes are built on first use, so a pattern too large to
    /// build would only show as a rule that never matches.
    #[test]
    fn every_builtin_regex_builds() {
        let rules = Rules::builtin().expect("built-ins load");
        for rule in &rules.rules {
            assert!(rule.regex.get().is_none(), "{} built at load", rule.spec.id);
            // A worker's clone made before the first use shares the build.
            let clone = rule.clone();
            let regex = rule.regex();
            assert!(regex.is_some(), "{} does not build", rule.spec.id);
            assert_eq!(
                regex.map(|r| r.captures_len()),
                Some(2),
                "{}: one capture group (the secret)",
                rule.spec.id
            );
            assert!(clone.built.get().is_some() && clone.regex.get().is_none());
            assert!(clone.regex().is_some());
        }
    }

    #[test]
    fn rejects_two_capture_groups_and_bad_validator() {
        let e = one(&GOOD.replace("(demo_[a-z]{8})", "(demo_)([a-z]{8})")).unwrap_err();
        assert!(e.to_string().contains("exactly one capture group"), "{e}");
        let e = one(&GOOD.replace("pattern", "validators = [\"nope\"]\npattern")).unwrap_err();
        assert!(e.to_string().contains("unknown validator 'nope'"), "{e}");
    }

    #[test]
    fn rejects_unknown_keys() {
        let e = one(&GOOD.replace("pattern", "colour = 1\npattern")).unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{e}");
    }

    #[test]
    fn user_rule_overrides_by_id() {
        let mut r = one(GOOD).expect("loads");
        r.add_file("u.toml", &GOOD.replace("Demo", "Mine"))
            .expect("loads");
        assert_eq!(r.len(), 1);
        assert_eq!(r.rules[0].spec.name, "Mine");
        assert_eq!(r.rules[0].source, "u.toml");
    }
}
