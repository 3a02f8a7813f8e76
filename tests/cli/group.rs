//! `--group-by secret`: one record per distinct secret with its count,
//! files, hosts, and first and last seen from the lines' own timestamps.

use crate::tokens;
use crate::util::{sha256_hex, Env, Rng};

#[test]
fn one_record_per_secret_most_urgent_first() {
    let mut rng = Rng::new(0x9a0f);
    let a = tokens::github_classic(&mut rng, "ghp");
    let b = tokens::github_classic(&mut rng, "ghp");
    let env = Env::new();
    env.write(
        "web-01.example.com/access.log",
        format!(
            "10.0.0.1 - - [01/May/2024:08:00:00 -0400] \"GET /api?access_token={a} HTTP/1.1\" 200 5\n\
             10.0.0.1 - - [01/May/2024:09:30:00 -0400] \"GET /api?access_token={a} HTTP/1.1\" 200 5\n"
        ),
    );
    env.write(
        "syslog",
        format!("May  1 15:00:00 db-7 deploy[42]: cloning with token {a}\n"),
    );
    env.write(
        "plain.log",
        format!("using token {b} with no time on the line\n"),
    );
    let run = env.run(&["scan", "--group-by", "secret", "--format", "jsonl", "."]);
    run.expect_code(1);
    let records = run.jsonl();
    run.check_eq(records.len(), 2, "one record per secret");
    let r = &records[0];
    run.check_eq(
        r["fingerprint"].as_str(),
        Some(sha256_hex(&a).as_str()),
        "most seen first",
    );
    run.check_eq(r["count"].as_u64(), Some(3), "count");
    run.check_eq(
        r["files"].clone(),
        serde_json::json!(["./syslog", "./web-01.example.com/access.log"]),
        "files",
    );
    run.check_eq(
        r["hosts"].clone(),
        serde_json::json!(["db-7", "web-01.example.com"]),
        "hosts",
    );
    run.check_eq(
        r["first_seen"].as_str(),
        Some("2024-05-01T12:00:00Z"),
        "first seen",
    );
    // A syslog stamp has no year: this year's May 1st, or last year's.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let year = leaksweep::finding::year_of(now);
    let last = r["last_seen"].as_str().unwrap_or_default();
    run.check(
        [year, year - 1]
            .iter()
            .any(|y| last == format!("{y}-05-01T15:00:00Z")),
        format!("last seen {last} is the syslog line's May 1st, 15:00 UTC"),
    );
    run.check(
        !run.stdout().contains(a.as_str()) && !run.stdout().contains(b.as_str()),
        "secrets masked",
    );
    let r = &records[1];
    run.check_eq(r["count"].as_u64(), Some(1), "the other secret");
    run.check_eq(
        r["first_seen"].clone(),
        serde_json::Value::Null,
        "no time on its line",
    );

    let run = env.run(&["scan", "--group-by", "secret", "--format", "sarif", "."]);
    run.expect_code(2);
}

#[test]
fn a_secret_in_the_host_field_is_no_host() {
    let mut rng = Rng::new(0x9a10);
    let c = tokens::github_classic(&mut rng, "ghp");
    let d = tokens::github_classic(&mut rng, "ghp");
    let env = Env::new();
    env.write("syslog", format!("May  1 16:00:00 {c} app: token {d}\n"));
    let run = env.run(&[
        "scan",
        "--group-by",
        "secret",
        "--format",
        "jsonl",
        "syslog",
    ]);
    let records = run.jsonl();
    run.check_eq(records.len(), 2, "both secrets");
    for r in &records {
        run.check_eq(r["hosts"].clone(), serde_json::json!([]), "no host");
    }
    run.check(
        !run.stdout().contains(c.as_str()),
        "the first secret is not shown raw",
    );
}

#[test]
fn with_state_a_record_counts_every_finding_of_a_new_secret() {
    let mut rng = Rng::new(0x9a11);
    let a = tokens::github_classic(&mut rng, "ghp");
    let b = tokens::github_classic(&mut rng, "ghp");
    let env = Env::new();
    env.write("x.log", format!("token {a}\ntoken {a}\n"));
    let args = [
        "scan",
        "--state",
        "s.json",
        "--group-by",
        "secret",
        "--format",
        "jsonl",
        "x.log",
    ];
    let run = env.run(&args);
    let counts: Vec<Option<u64>> = run.jsonl().iter().map(|r| r["count"].as_u64()).collect();
    run.check_eq(counts, vec![Some(2)], "both findings of the new secret");
    // Next run: the old secret again and a new one; only the new one.
    std::fs::write(
        env.path("x.log"),
        format!("token {a}\ntoken {a}\ntoken {b}\ntoken {a}\n"),
    )
    .expect("rewrite");
    let run = env.run(&args);
    let got: Vec<(String, Option<u64>)> = run
        .jsonl()
        .iter()
        .map(|r| {
            (
                r["fingerprint"].as_str().unwrap_or_default().to_string(),
                r["count"].as_u64(),
            )
        })
        .collect();
    run.check_eq(got, vec![(sha256_hex(&b), Some(1))], "only the new secret");
}
