//! Baselines: `leaksweep baseline` records the current findings' fingerprints
//! (never the secrets); `scan --baseline` leaves them out.

use std::fs;

use crate::tokens;
use crate::util::{sha256_hex, Env, Rng};

/// A log line holding `token`, found by its prefix alone.
pub fn line(token: &str) -> String {
    format!("2024-05-01T12:00:00Z INFO deploy: using token {token} for the registry\n")
}

#[test]
fn a_baseline_round_trip_leaves_out_exactly_what_it_recorded() {
    let mut rng = Rng::new(0xba5e);
    let t: Vec<String> = (0..3)
        .map(|_| tokens::github_classic(&mut rng, "ghp"))
        .collect();
    let env = Env::new();
    env.write("a.log", format!("{}{}", line(&t[0]), line(&t[1])));

    let run = env.run(&["baseline", "--quiet", "a.log", "-o", "base.json"]);
    run.expect_code(0);
    run.check_eq(run.stdout(), String::new(), "nothing on stdout");
    let written = fs::read_to_string(env.path("base.json")).expect("baseline written");
    let doc: serde_json::Value = serde_json::from_str(&written).expect("JSON");
    let mut fps: Vec<String> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|e| e["fingerprint"].as_str().unwrap_or_default().to_string())
        .collect();
    fps.sort();
    let mut want = vec![sha256_hex(&t[0]), sha256_hex(&t[1])];
    want.sort();
    run.check_eq(fps, want, "the baseline's fingerprints");
    for token in &t {
        run.check(
            !written.contains(token.as_str()),
            "no secret in the baseline",
        );
    }

    let run = env.run(&[
        "scan",
        "--baseline",
        "base.json",
        "--format",
        "jsonl",
        "a.log",
    ]);
    run.check_eq(run.findings().len(), 0, "known findings left out");
    run.expect_code(0);

    fs::write(
        env.path("a.log"),
        format!("{}{}{}", line(&t[0]), line(&t[2]), line(&t[1])),
    )
    .expect("rewrite");
    let run = env.run(&[
        "scan",
        "--baseline",
        "base.json",
        "--format",
        "jsonl",
        "a.log",
    ]);
    let found: Vec<(String, Option<u64>)> = run
        .findings()
        .into_iter()
        .map(|f| (f.fingerprint, f.line))
        .collect();
    run.check_eq(
        found,
        vec![(sha256_hex(&t[2]), Some(2))],
        "only the new secret",
    );
    run.expect_code(1);
}

#[test]
fn a_bad_baseline_is_an_error_and_baseline_takes_no_state() {
    let env = Env::new();
    env.write("a.log", "nothing here\n");
    env.write("bad.json", "[1, 2");
    let run = env.run(&["scan", "--baseline", "bad.json", "a.log"]);
    run.expect_code(2);
    run.expect_stderr_line(&["leaksweep: ", "bad.json", "not a leaksweep baseline"]);
    let run = env.run(&["scan", "--baseline", "missing.json", "a.log"]);
    run.expect_code(2);
    run.expect_stderr_line(&["leaksweep: ", "missing.json"]);
    let run = env.run(&["baseline", "--state", "s.json", "a.log", "-o", "b.json"]);
    run.expect_code(2);
    run.check(!env.path("b.json").exists(), "no baseline written");
}

/// Issue 19 item 3: `baseline --help` lists exactly what `baseline` takes:
/// not the output options of `scan`, which it refused or ignored.
#[test]
fn issue_19_baseline_help_lists_only_what_it_takes() {
    let env = Env::new();
    env.write("a.log", "nothing here\n");
    let help = env.run(&["baseline", "--help"]);
    help.expect_code(0);
    let scan_help = env.run(&["scan", "--help"]);
    // An option is listed on a line of its own: `  -j, --threads <N>`.
    let listed = |help: &str, option: &str| {
        help.lines().any(|l| {
            let l = l.trim_start();
            let l = l
                .split_once(", ")
                .filter(|(short, _)| short.len() == 2)
                .map_or(l, |(_, long)| long);
            l.split([' ', '=']).next() == Some(option)
        })
    };
    for option in [
        "--format",
        "--state",
        "--baseline",
        "--group-by",
        "--show-secrets",
        "--color",
    ] {
        help.check(
            !listed(&help.stdout(), option),
            format!("baseline --help lists {option}"),
        );
        scan_help.check(
            listed(&scan_help.stdout(), option),
            format!("scan --help lacks {option}"),
        );
        let run = env.run(&["baseline", option, "x", "a.log", "-o", "b.json"]);
        run.expect_code(2);
        run.expect_stderr_line(&["unexpected argument", option]);
        run.check(!env.path("b.json").exists(), "no baseline written");
    }
    for option in [
        "--rules",
        "--min-confidence",
        "--threads",
        "--max-har-string",
    ] {
        help.check(
            listed(&help.stdout(), option),
            format!("baseline --help lacks {option}"),
        );
    }
}
