//! `leaksweep rules list|check` and user rule files: the built-in rules pass
//! their own examples; a failing example names its file and rule; a rule
//! file the loader rejects gives one error naming the file and the rule.

use crate::families::SEED;
use crate::tokens;
use crate::util::{clean_lines, Env};

const GOOD: &str = r#"
[[rule]]
id = "acme-token"
name = "Acme API token (test rule)"
kind = "api-key"
confidence = "high"
keywords = ["acme_"]
pattern = '\b(acme_[a-z0-9]{16})\b'
references = ["https://acme.invalid/docs/tokens"]
examples = ["key acme_q7w2e9r4t1y6u3i8 here"]
counter_examples = ["acme_short"]
"#;

#[test]
fn builtin_rules_check_passes() {
    let env = Env::new();
    let run = env.run(&["rules", "check"]);
    run.check(
        run.stdout().contains("all pass"),
        "`rules check` says all pass",
    );
    run.expect_code(0);
}

#[test]
fn rules_list_names_every_rule_the_catalogue_expects() {
    let env = Env::new();
    let run = env.run(&["rules", "list"]);
    run.expect_code(0);
    let ids: Vec<String> = run
        .stdout()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    let mut missing: Vec<&str> = tokens::catalogue(SEED)
        .iter()
        .map(|c| c.rule)
        .filter(|r| !ids.iter().any(|id| id == r))
        .collect();
    missing.dedup();
    run.check_eq(
        missing,
        Vec::<&str>::new(),
        "rule ids the tests expect but `rules list` lacks",
    );
}

#[test]
fn rules_check_on_a_file_with_a_failing_example_names_file_and_rule() {
    let env = Env::new();
    let bad = GOOD.replace(
        r#"examples = ["key acme_q7w2e9r4t1y6u3i8 here"]"#,
        r#"examples = ["key acme_q7w2e9r4t1y6u3i8 here", "key acme_TOOSHORT here"]"#,
    );
    env.write("acme.toml", bad);
    let run = env.run(&["rules", "check", "acme.toml"]);
    run.expect_stderr_line(&["acme.toml", "acme-token", "example 2"]);
    run.check(
        !run.stdout().contains("all pass"),
        "does not claim all pass",
    );
    run.expect_code(1);
}

#[test]
fn rules_check_on_a_good_file_passes() {
    let env = Env::new();
    env.write("acme.toml", GOOD);
    let run = env.run(&["rules", "check", "acme.toml"]);
    run.check(run.stdout().contains("all pass"), "all pass");
    run.expect_code(0);
}

#[test]
fn user_rule_file_finds_its_tokens() {
    let env = Env::new();
    env.write("acme.toml", GOOD);
    env.write(
        "app.log",
        format!(
            "{}deploy with acme_k3j8h2g5f9d4s7a1 ok\n",
            clean_lines(0, 2)
        ),
    );
    let run = env.run(&[
        "scan",
        "--format",
        "jsonl",
        "--rules",
        "acme.toml",
        "app.log",
    ]);
    let found = run.findings();
    run.check_eq(found.len(), 1, "one finding");
    run.check_eq(found[0].rule.as_str(), "acme-token", "rule");
    run.check_eq(found[0].line, Some(3), "line");
    run.check_eq(found[0].column, Some(13), "column");
    run.expect_code(1);
}

#[test]
fn rule_without_keywords_is_one_error_naming_file_and_rule() {
    let env = Env::new();
    env.write(
        "nokw.toml",
        GOOD.replace(r#"keywords = ["acme_"]"#, "keywords = []"),
    );
    env.write("app.log", clean_lines(0, 3));
    let run = env.run(&[
        "scan",
        "--format",
        "jsonl",
        "--rules",
        "nokw.toml",
        "app.log",
    ]);
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("leaksweep:"))
        .collect();
    run.check_eq(errors.len(), 1, "exactly one error line");
    run.check(
        errors[0].contains("nokw.toml") && errors[0].contains("acme-token"),
        format!("the error names the file and the rule: {:?}", errors[0]),
    );
    run.check(
        errors[0].contains("keyword"),
        "the error says what is wrong",
    );
    run.check_eq(run.stdout(), String::new(), "stdout");
    run.expect_code(2);
}

/// Issue 18: `rules list` groups the rules under their providers, each
/// heading counting its rules; every built-in rule names one.
#[test]
fn rules_list_groups_rules_by_provider() {
    let env = Env::new();
    let run = env.run(&["rules", "list"]);
    run.expect_code(0);
    let out = run.stdout();
    let headings: Vec<&str> = out.lines().filter(|l| !l.starts_with(' ')).collect();
    run.check(
        !headings.iter().any(|h| h.starts_with("(no provider)")),
        "every built-in rule names its provider",
    );
    let mut count = 0;
    let mut listed = 0;
    for l in out.lines() {
        if l.starts_with(' ') {
            listed += 1;
        } else {
            let n = l
                .rsplit_once(" (")
                .and_then(|(_, c)| c.split_whitespace().next())
                .and_then(|c| c.parse::<usize>().ok());
            run.check(n.is_some(), "each heading counts its rules");
            count += n.unwrap_or(0);
        }
    }
    run.check_eq(count, listed, "heading counts add up to the rules listed");
    let github = out.split("\nGitHub (").nth(1).map(|rest| {
        rest.lines()
            .skip(1)
            .take_while(|l| l.starts_with(' '))
            .count()
    });
    run.check(
        github.is_some_and(|n| n >= 5),
        "GitHub's tokens are grouped together",
    );
}

/// `rules list | head` is no error: the listing stops quietly when its
/// reader closes the pipe.
#[test]
fn rules_list_into_a_closed_pipe_is_quiet() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let env = Env::new();
    // Longer than a pipe's buffer (64 KiB), so that writing fails.
    let mut many = String::new();
    for i in 0..1000 {
        many.push_str(&format!(
            "[[rule]]\nid = 'many-{i}'\nname = 'Many {i}'\nkind = 'api-key'\n\
             confidence = 'low'\nkeywords = ['mny{i}_']\npattern = '(mny{i}_[0-9]{{12}})'\n\n"
        ));
    }
    let file = env.write("many.toml", many);
    let mut child = Command::new(crate::util::BIN)
        .args(["rules", "list", "--rules"])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn leaksweep");
    let mut first = [0u8; 16];
    child
        .stdout
        .take()
        .expect("stdout")
        .read_exact(&mut first)
        .expect("the listing starts");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "stderr");
    assert_eq!(out.status.code(), Some(0), "status");
}
