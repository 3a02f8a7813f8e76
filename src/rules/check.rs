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
            what: format!("keyword automaton does not build: {e}"),
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
            fail(format!("keyword automaton does not build: {e}"));
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
}
