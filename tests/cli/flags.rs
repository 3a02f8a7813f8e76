//! Issue 19 item 6: the flags users of the peers expect — which files
//! (`--exclude`, `--include`, `--max-filesize`), which rules (`--rule`,
//! `--exclude-rule`), where findings go (`-o`), what stdin is called
//! (`--label`) — and a summary with correct plurals.

use std::collections::BTreeSet;

use crate::tokens;
use crate::util::{Env, Rng, Run};

fn line(token: &str) -> String {
    format!("2024-05-01T12:00:00Z GET /api?access_token={token} 200\n")
}

/// The paths with findings, as reported.
fn paths(run: &Run) -> BTreeSet<String> {
    run.findings().into_iter().map(|f| f.path).collect()
}

/// `scan --format jsonl EXTRA… logs`.
fn scan_logs(env: &Env, extra: &[&str]) -> Run {
    let mut args = vec!["scan", "--format", "jsonl"];
    args.extend_from_slice(extra);
    args.push("logs");
    env.run(&args)
}

fn set(paths: &[&str]) -> BTreeSet<String> {
    paths.iter().map(|p| p.to_string()).collect()
}

#[test]
fn issue_19_exclude_include_and_max_filesize_choose_the_files() {
    let mut rng = Rng::new(196);
    let env = Env::new();
    env.write("logs/a.log", line(&tokens::github_classic(&mut rng, "ghp")));
    env.write("logs/b.txt", line(&tokens::github_classic(&mut rng, "ghp")));
    let big = format!(
        "{}{}",
        "2024-05-01T12:00:00Z GET /health 200\n".repeat(100),
        line(&tokens::github_classic(&mut rng, "ghp"))
    );
    env.write("logs/sub/c.log", big);
    let scan = |extra: &[&str]| scan_logs(&env, extra);
    let all = scan(&[]);
    all.check_eq(
        paths(&all),
        set(&["logs/a.log", "logs/b.txt", "logs/sub/c.log"]),
        "everything",
    );
    let run = scan(&["--exclude", "*.txt", "--exclude", "logs/sub/**"]);
    run.check_eq(paths(&run), set(&["logs/a.log"]), "--exclude");
    run.expect_code(1);
    let run = scan(&["--include", "*.log"]);
    run.check_eq(
        paths(&run),
        set(&["logs/a.log", "logs/sub/c.log"]),
        "--include",
    );
    let run = scan(&["--max-filesize", "1K"]);
    run.check_eq(
        paths(&run),
        set(&["logs/a.log", "logs/b.txt"]),
        "--max-filesize",
    );
    run.expect_stderr_line(&[
        "logs/sub/c.log",
        "skipped",
        "larger than --max-filesize (1024 bytes)",
    ]);
    run.expect_stderr_line(&["1 skipped"]);
    run.expect_code(1);
    let run = scan(&["--exclude", "a["]);
    run.expect_code(2);
    run.expect_stderr_line(&["--exclude 'a['"]);
}

#[test]
fn issue_19_rule_and_exclude_rule_choose_the_rules() {
    let mut rng = Rng::new(197);
    let env = Env::new();
    let gh = tokens::github_classic(&mut rng, "ghp");
    let aws = tokens::aws_key_id(&mut rng);
    env.write(
        "app.log",
        format!("{}2024-05-01T12:00:00Z INFO using key {aws}\n", line(&gh)),
    );
    let rules = |extra: &[&str]| {
        let mut args = vec!["scan", "--format", "jsonl"];
        args.extend_from_slice(extra);
        args.push("app.log");
        let run = env.run(&args);
        let found: BTreeSet<String> = run.findings().into_iter().map(|f| f.rule).collect();
        (run, found)
    };
    let (_, all) = rules(&[]);
    let (run, only) = rules(&["--rule", "aws-access-key-id"]);
    run.check_eq(only, set(&["aws-access-key-id"]), "--rule");
    let (run, rest) = rules(&["--exclude-rule", "aws-access-key-id"]);
    let want: BTreeSet<String> = all
        .into_iter()
        .filter(|r| r != "aws-access-key-id")
        .collect();
    run.check(want.contains("github-pat-classic"), "the GitHub token");
    run.check_eq(rest, want, "--exclude-rule");
    let (run, _) = rules(&["--rule", "no-such-rule"]);
    run.expect_code(2);
    run.expect_stderr_line(&["no rule has the id 'no-such-rule'"]);
}

#[test]
fn issue_19_output_file_label_and_summary() {
    let mut rng = Rng::new(198);
    let env = Env::new();
    let tok = tokens::github_classic(&mut rng, "ghp");
    let run = env.run_stdin(
        &[
            "scan",
            "--label",
            "web-01/app.log",
            "-o",
            "found.jsonl",
            "-",
        ],
        line(&tok).as_bytes(),
    );
    run.expect_code(1);
    run.check_eq(run.stdout(), String::new(), "nothing on stdout");
    let written = std::fs::read_to_string(env.path("found.jsonl")).unwrap_or_default();
    let finding: serde_json::Value = serde_json::from_str(written.trim())
        .unwrap_or_else(|e| run.fail(format!("found.jsonl is one JSON finding: {e}: {written}")));
    run.check_eq(
        finding["path"].as_str(),
        Some("web-01/app.log"),
        "stdin under its label",
    );
    run.expect_stderr_line(&[
        "leaksweep: 1 input, ",
        "; 1 finding (1 high",
        "0 skipped, 0 errors",
    ]);

    // The output file is never an input: named, it is an error and stays
    // whole; under a scanned directory, it is left out.
    let log = env.write("logs/app.log", line(&tok));
    let run = env.run(&["scan", "logs/app.log", "-o", "logs/app.log"]);
    run.expect_code(2);
    run.expect_stderr_line(&["the output file", "is one of the inputs"]);
    run.check_eq(
        std::fs::read_to_string(&log).unwrap_or_default(),
        line(&tok),
        "the input is untouched",
    );
    for _ in 0..2 {
        let run = env.run(&["scan", "logs", "-o", "logs/found.jsonl"]);
        run.expect_code(1);
        run.expect_stderr_line(&["leaksweep: 1 input, "]);
    }
}

/// Issue 19 item 6: `--stats` tells, per rule, the findings reported, the
/// windows its regex searched and the time that took, even with `-q`.
#[test]
fn issue_19_stats_count_each_rules_findings_and_work() {
    let mut rng = Rng::new(199);
    let env = Env::new();
    let text: String = (0..3)
        .map(|_| line(&tokens::github_classic(&mut rng, "ghp")))
        .collect();
    env.write("app.log", text);
    let run = env.run(&["scan", "-q", "--stats", "--format", "jsonl", "app.log"]);
    run.expect_code(1);
    let found = run
        .findings()
        .iter()
        .filter(|f| f.rule == "github-pat-classic")
        .count();
    run.check_eq(found, 3, "three tokens");
    run.expect_stderr_line(&["leaksweep: stats: rule", "findings", "windows", "regex ms"]);
    let row: Vec<String> = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("leaksweep: stats: github-pat-classic "))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    run.check_eq(row.len(), 3, "findings, windows, time");
    run.check_eq(row.first().map(String::as_str), Some("3"), "its findings");
    let windows: u64 = row.get(1).and_then(|w| w.parse().ok()).unwrap_or(0);
    run.check(
        windows >= 3,
        format!("a window per token at least: {windows}"),
    );
    run.check(
        !run.stderr.contains("1 input,"),
        "-q still hides the summary",
    );
}

/// Issue 20: `--shard I/N` runs cover every file exactly once between
/// them, each a share chosen by the path alone; a bad shard or stdin is a
/// usage error.
#[test]
fn issue_20_shards_cover_every_file_once() {
    let mut rng = Rng::new(2001);
    let env = Env::new();
    for i in 0..40 {
        env.write(
            &format!("logs/{}/app-{i}.log", i % 5),
            line(&tokens::github_classic(&mut rng, "ghp")),
        );
    }
    let scan = |extra: &[&str]| scan_logs(&env, extra);
    let all = scan(&[]);
    all.expect_code(1);
    let everything = paths(&all);
    all.check_eq(everything.len(), 40, "every file has a finding");
    let mut seen = BTreeSet::new();
    for i in 0..4 {
        let shard = format!("{i}/4");
        let run = scan(&["--shard", &shard]);
        let mine = paths(&run);
        run.check(!mine.is_empty(), format!("shard {shard} has files"));
        run.check(
            mine.is_disjoint(&seen),
            format!("shard {shard} shares no file with the shards before it"),
        );
        // The same share every time.
        run.check_eq(paths(&scan(&["--shard", &shard])), mine.clone(), "stable");
        seen.extend(mine);
    }
    all.check_eq(seen, everything, "the shards together are the whole scan");
    for bad in ["4/4", "0/0", "1", "a/b"] {
        scan(&["--shard", bad]).expect_code(2);
    }
    let stdin = env.run(&["scan", "--shard", "0/2", "-"]);
    stdin.expect_code(2);
    stdin.check(stdin.stderr.contains("stdin"), "the error names stdin");
}

/// Issue 20: a finding carries its line's own time (`time`, RFC 3339 UTC),
/// read as `--group-by` reads first and last seen, so that shard outputs
/// can be merged without the logs; null where the line has none.
#[test]
fn issue_20_findings_carry_their_lines_time() {
    let mut rng = Rng::new(2002);
    let env = Env::new();
    let tokens: Vec<String> = (0..3)
        .map(|_| tokens::github_classic(&mut rng, "ghp"))
        .collect();
    env.write(
        "logs/mixed.log",
        format!(
            "2024-05-14T09:12:44.120+02:00 INFO deploy token={}\n\
             10.0.0.7 - - [14/May/2024:09:12:45 +0000] \"GET /x?access_token={} HTTP/1.1\" 200 1\n\
             no stamp here, token={}\n",
            tokens[0], tokens[1], tokens[2]
        ),
    );
    let run = scan_logs(&env, &[]);
    run.expect_code(1);
    let mut times: Vec<(Option<u64>, Option<String>)> = run
        .findings()
        .into_iter()
        .map(|f| (f.line, f.time))
        .collect();
    times.sort();
    run.check_eq(
        times,
        vec![
            (Some(1), Some("2024-05-14T07:12:44Z".to_string())),
            (Some(2), Some("2024-05-14T09:12:45Z".to_string())),
            (Some(3), None),
        ],
        "each finding's time",
    );
}
