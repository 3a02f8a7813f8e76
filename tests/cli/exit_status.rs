//! The exit status contract: 0 clean and complete, 1 findings, 2 usage
//! error or an input not read completely — and the findings of every other
//! input are still reported when one input fails.

use crate::families::SEED;
use crate::tokens;
use crate::util::{clean_lines, Env};

fn secret_file(env: &Env, rel: &str) -> String {
    let case = tokens::family(SEED, "github_pat_classic");
    env.write(rel, format!("{}{}", clean_lines(0, 3), case.text));
    case.rule.to_string()
}

#[test]
fn clean_file_exits_0_with_no_output() {
    let env = Env::new();
    env.write("clean.log", clean_lines(0, 200));
    let run = env.run(&["scan", "--format", "jsonl", "clean.log"]);
    run.check_eq(run.stdout(), String::new(), "stdout");
    run.expect_code(0);
}

#[test]
fn findings_exit_1() {
    let env = Env::new();
    let rule = secret_file(&env, "a.log");
    let run = env.run(&["scan", "--format", "jsonl", "a.log"]);
    let rules: Vec<String> = run.findings().into_iter().map(|f| f.rule).collect();
    run.check_eq(rules, vec![rule], "findings");
    run.expect_code(1);
}

#[test]
fn missing_path_exits_2_and_other_paths_are_still_scanned() {
    let env = Env::new();
    let rule = secret_file(&env, "a.log");
    env.write("clean.log", clean_lines(0, 10));
    let run = env.run(&[
        "scan",
        "--format",
        "jsonl",
        "clean.log",
        "missing.log",
        "a.log",
    ]);
    run.expect_stderr_line(&["leaksweep: missing.log: ", "no such file"]);
    let found: Vec<(String, String)> = run
        .findings()
        .into_iter()
        .map(|f| (f.path, f.rule))
        .collect();
    run.check_eq(found, vec![("a.log".to_string(), rule)], "findings");
    run.expect_code(2);
}

#[test]
fn missing_path_alone_exits_2_not_0() {
    let env = Env::new();
    let run = env.run(&["scan", "--format", "jsonl", "missing.log"]);
    run.expect_stderr_line(&["leaksweep: missing.log: ", "no such file"]);
    run.check(
        !run.stderr.contains("os error"),
        "no \"(os error N)\" noise",
    );
    run.check_eq(run.stdout(), String::new(), "stdout");
    run.expect_code(2);
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let env = Env::new();
    env.write("clean.log", clean_lines(0, 3));
    let run = env.run(&["scan", "--no-such-flag", "clean.log"]);
    run.check(
        run.stderr.contains("--no-such-flag"),
        "the error names the bad flag",
    );
    run.check_eq(run.stdout(), String::new(), "stdout");
    run.expect_code(2);
}

#[test]
fn bad_flag_value_is_a_usage_error() {
    let env = Env::new();
    env.write("clean.log", clean_lines(0, 3));
    let run = env.run(&["scan", "--format", "xml", "clean.log"]);
    run.check(run.stderr.contains("xml"), "the error names the bad value");
    run.expect_code(2);
}

#[test]
fn no_path_and_stdin_not_a_pipe_is_a_usage_error() {
    let env = Env::new();
    let run = env.run(&["scan", "--format", "jsonl"]);
    run.expect_stderr_line(&["leaksweep: ", "stdin"]);
    run.check_eq(run.stdout(), String::new(), "stdout");
    run.expect_code(2);
}

#[test]
fn binary_file_is_skipped_with_a_note_and_exit_0() {
    let env = Env::new();
    let case = tokens::family(SEED, "github_pat_classic");
    let mut bin = b"\x7fELF\x02\x01\x01\x00\x00\x00".to_vec();
    bin.extend_from_slice(case.text.as_bytes());
    env.write("tool.bin", &bin);
    env.write("clean.log", clean_lines(0, 5));
    let run = env.run(&["scan", "--format", "jsonl", "tool.bin", "clean.log"]);
    run.expect_stderr_line(&["leaksweep: tool.bin: ", "binary"]);
    run.check_eq(run.stdout(), String::new(), "stdout");
    run.expect_code(0);
}

#[test]
fn findings_below_min_confidence_are_not_reported_and_exit_0() {
    // URL credentials are reported with medium confidence.
    let env = Env::new();
    let pw = tokens::url_password(&mut crate::util::Rng::new(5));
    env.write(
        "u.log",
        format!(
            "{}2024-05-01T12:00:00Z INFO using proxy http://svc-build:{pw}@proxy.corp.internal:3128\n",
            clean_lines(0, 2)
        ),
    );
    let run = env.run(&[
        "scan",
        "--format",
        "jsonl",
        "--min-confidence",
        "medium",
        "u.log",
    ]);
    let levels: Vec<String> = run.findings().into_iter().map(|f| f.confidence).collect();
    run.check_eq(levels, vec!["medium".to_string()], "the medium finding");
    run.expect_code(1);
    let run = env.run(&[
        "scan",
        "--format",
        "jsonl",
        "--min-confidence",
        "high",
        "u.log",
    ]);
    run.check_eq(run.stdout(), String::new(), "stdout");
    run.expect_code(0);
}
