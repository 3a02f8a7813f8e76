//! `leaksweep rules check`: runs every rule's examples (each must be found by
//! its rule) and counter-examples (none may be), and checks that the whole
//! set compiles together. Collects every failure instead of stopping at the
//! first, so a rule author sees the full list at once. The test suite runs
//! the same function over the built-in rules.

use super::{Rule, Rules};
use crate::scan::Engine;

/// One problem with one rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub rule: String,
    pub source: String,
    pub what: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: rule '{}': {}", self.source, self.rule, self.what)
    }
}

/// Checks every rule; an empty result means all passed.
pub fn check(rules: &Rules) -> Vec<Failure> {
    let mut failures = Vec::new();
    for rule in &rules.rules {
        check_rule(rule, &mut failures);
    }
    if let Err(e) = Engine::new(rules.clone()) {
        failures.push(Failure {
            rule: "*".into(),
            source: "(all rules)".into(),
            what: format!("keyword search does not build: {e}"),
        });
    }
    failures
}

fn check_rule(rule: &Rule, failures: &mut Vec<Failure>) {
    let mut fail = |what: String| {
        failures.push(Failure {
            rule: rule.spec.id.clone(),
            source: rule.source.clone(),
            what,
        })
    };
    if rule.spec.examples.is_empty() {
        fail("has no examples".into());
    }
    if rule.spec.references.is_empty() {
        fail("has no references".into());
    }
    let alone = Rules {
        rules: vec![rule.clone()],
    };
    let engine = match Engine::new(alone) {
        Ok(e) => e,
        Err(e) => {
            fail(format!("keyword search does not build: {e}"));
            return;
        }
    };
    for (i, ex) in rule.spec.examples.iter().enumerate() {
        if matches(&engine, ex) == 0 {
            fail(format!(
                "example {} is not found: {}",
                i + 1,
                ex.escape_debug()
            ));
        }
    }
    for (i, ex) in rule.spec.counter_examples.iter().enumerate() {
        if matches(&engine, ex) != 0 {
            fail(format!(
                "counter-example {} is found: {}",
                i + 1,
                ex.escape_debug()
            ));
        }
    }
}

fn matches(engine: &Engine, text: &str) -> usize {
    let hay = text.as_bytes();
    let mut out = Vec::new();
    engine.scan(hay, 0..hay.len(), &mut out);
    out.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_pass_their_own_examples() {
        let rules = Rules::builtin().expect("built-in rules load");
        let failures = check(&rules);
        let report: Vec<String> = failures.iter().map(|f| f.to_string()).collect();
        assert!(report.is_empty(), "{}", report.join("\n"));
    }

    #[test]
    fn reports_every_failure() {
        let mut rules = Rules::default();
        rules
            .add_file(
                "t.toml",
                r#"
[[rule]]
id = "demo"
name = "Demo"
kind = "api-key"
confidence = "high"
keywords = ["demo_"]
pattern = '(demo_[a-z]{8})'
references = ["https://example.invalid/doc"]
examples = ["demo_qkzwmtrp", "demo_123"]
counter_examples = ["demo_pwlmvrtz"]
"#,
            )
            .expect("loads");
        let f = check(&rules);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f[0].what.starts_with("example 2 is not found"));
        assert!(f[1].what.starts_with("counter-example 1 is found"));
    }

    // ---- properties of the built-in rule set as a whole ----

    use crate::finding::{Confidence, Kind};

    fn builtin() -> Rules {
        Rules::builtin().expect("built-in rules load")
    }

    #[test]
    fn builtin_set_is_large_and_covers_every_kind() {
        let rules = builtin();
        assert!(rules.len() >= 60, "only {} built-in rules", rules.len());
        for kind in Kind::ALL {
            assert!(
                rules.rules.iter().any(|r| r.spec.kind == kind),
                "no built-in rule of kind {}",
                kind.as_str()
            );
        }
        for conf in [Confidence::High, Confidence::Medium, Confidence::Low] {
            assert!(
                rules.rules.iter().any(|r| r.spec.confidence == conf),
                "no built-in rule of confidence {conf:?}"
            );
        }
    }

    /// A rule id used in two built-in files would silently replace the first.
    #[test]
    fn builtin_rule_ids_are_unique_across_files() {
        let mut written = 0;
        for (name, text) in super::super::builtin::BUILTIN {
            let file: super::super::RuleFile =
                toml::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            written += file.rule.len();
        }
        assert_eq!(written, builtin().len(), "a rule id is reused across files");
        let pr = builtin()
            .rules
            .iter()
            .find(|r| r.spec.id == "github-pat-classic")
            .map(|r| r.spec.kind);
        assert_eq!(pr, Some(Kind::ApiKey), "github-pat-classic must exist");
    }

    #[test]
    fn builtin_rules_are_documented_and_exemplified() {
        for r in &builtin().rules {
            let id = &r.spec.id;
            assert!(!r.spec.name.trim().is_empty(), "{id}: no name");
            assert!(r.spec.examples.len() >= 2, "{id}: fewer than 2 examples");
            assert!(
                r.spec.counter_examples.len() >= 2,
                "{id}: fewer than 2 counter-examples"
            );
            assert!(
                r.spec.references.iter().all(|u| u.starts_with("https://")),
                "{id}: every reference must be an https URL"
            );
        }
    }

    /// The keyword screen takes any number of heads (a keyword's first 4
    /// bytes), but past 128 it needs more bucket sets and slows down (see
    /// `benches/README.md`). Shorter keywords ("@") take a bucket each, so
    /// there may be only a couple of them. No keyword may be a word found
    /// on ordinary log lines either.
    #[test]
    fn builtin_keyword_budget() {
        let mut spellings = std::collections::BTreeSet::new();
        for r in &builtin().rules {
            for k in &r.spec.keywords {
                spellings.insert(k.clone());
                if r.spec.ignore_case {
                    spellings.insert(k.to_ascii_lowercase());
                    spellings.insert(k.to_ascii_uppercase());
                    let lower = k.to_ascii_lowercase();
                    let mut title = lower[..1].to_ascii_uppercase();
                    title.push_str(&lower[1..]);
                    spellings.insert(title);
                }
            }
        }
        let short: Vec<&String> = spellings
            .iter()
            .filter(|s| s.len() < crate::scan::SHORT)
            .collect();
        let heads: std::collections::BTreeSet<&[u8]> = spellings
            .iter()
            .filter(|s| s.len() >= crate::scan::SHORT)
            .map(|s| &s.as_bytes()[..crate::scan::SHORT])
            .collect();
        assert!(heads.len() <= 128, "{} keyword heads", heads.len());
        assert!(short.len() <= 2, "too many short keywords: {short:?}");
        for banned in [
            "http",
            "token",
            "key",
            "auth",
            "session",
            "id",
            "GET",
            "Authorization",
        ] {
            assert!(
                !spellings.iter().any(|s| s.eq_ignore_ascii_case(banned)),
                "keyword '{banned}' hits ordinary log lines"
            );
        }
    }

    /// Each example is still found when it is not the first line of the
    /// input, and when it sits in the middle of a bigger buffer: a rule's
    /// regex runs from its window start inside the whole buffer, where a
    /// plain `^` matches only at offset 0 and `\b` sees the previous byte.
    #[test]
    fn builtin_examples_are_found_after_other_lines() {
        let mut problems = Vec::new();
        for rule in &builtin().rules {
            let alone = Engine::new(Rules {
                rules: vec![rule.clone()],
            })
            .expect("engine builds");
            for (i, ex) in rule.spec.examples.iter().enumerate() {
                let text = format!("2024-05-14T09:12:44Z INFO starting worker\n{ex}\nINFO done\n");
                if matches(&alone, &text) == 0 {
                    problems.push(format!(
                        "{}: example {} is lost after a first line",
                        rule.spec.id,
                        i + 1
                    ));
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// Each example is still found when every built-in rule shares one
    /// keyword search (a keyword of another rule can hide an overlapping
    /// one) and the overlap resolution keeps a finding at least as
    /// confident as the rule's own.
    #[test]
    fn builtin_examples_survive_the_full_rule_set() {
        let rules = builtin();
        let full = Engine::new(rules.clone()).expect("engine builds");
        let mut problems = Vec::new();
        for rule in &rules.rules {
            let alone = Engine::new(Rules {
                rules: vec![rule.clone()],
            })
            .expect("engine builds");
            for (i, ex) in rule.spec.examples.iter().enumerate() {
                let hay = ex.as_bytes();
                let mut own = Vec::new();
                alone.scan(hay, 0..hay.len(), &mut own);
                let mut all = Vec::new();
                full.scan(hay, 0..hay.len(), &mut all);
                for m in &own {
                    let kept = all.iter().any(|a| {
                        a.secret.start < m.secret.end
                            && m.secret.start < a.secret.end
                            && a.outcome.confidence >= m.outcome.confidence
                    });
                    if !kept {
                        problems.push(format!(
                            "{}: example {} is lost in the full rule set (found instead: {:?})",
                            rule.spec.id,
                            i + 1,
                            all.iter()
                                .map(|a| full.rules()[a.rule].spec.id.as_str())
                                .collect::<Vec<_>>()
                        ));
                    }
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
