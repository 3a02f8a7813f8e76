//! Issue 19 item 1: findings come out in the order the inputs were walked
//! (sorted), each input's by offset, whatever the thread count: two sweeps
//! of the same files write the same bytes.

use crate::archives::gzip;
use crate::tokens;
use crate::util::{Env, Rng};

/// A tree of logs of uneven sizes (so that workers finish out of turn),
/// some large enough to be scanned chunk by chunk in parallel, one gzip.
/// Returns how many tokens it holds.
fn tree(env: &Env) -> usize {
    let mut rng = Rng::new(1901);
    let mut planted = 0;
    for f in 0..16 {
        let lines = [50, 4_000, 300, 40_000][f % 4];
        let mut text = String::new();
        for l in 0..lines {
            if l % 997 == 13 || l == lines - 1 {
                let tok = tokens::github_classic(&mut rng, "ghp");
                planted += 1;
                text.push_str(&format!(
                    "2024-05-01T12:00:00Z GET /api?access_token={tok} 200\n"
                ));
            } else {
                text.push_str(&format!("2024-05-01T12:00:00Z GET /health {l} 200 ok\n"));
            }
        }
        let dir = ["a", "b/c", "b"][f % 3];
        if f == 5 {
            env.write(&format!("logs/{dir}/f{f:02}.log.gz"), gzip(text.as_bytes()));
        } else {
            env.write(&format!("logs/{dir}/f{f:02}.log"), text);
        }
    }
    planted
}

#[test]
fn issue_19_output_is_the_same_at_every_thread_count() {
    let env = Env::new();
    let planted = tree(&env);
    let formats: [&[&str]; 5] = [
        &["--format", "jsonl"],
        &["--format", "csv"],
        &["--format", "sarif"],
        &["--format", "human", "--color", "never"],
        &["--format", "json", "--group-by", "secret"],
    ];
    for format in formats {
        let run = |threads: &str| {
            let mut args = vec!["scan", "-q", "-j", threads];
            args.extend_from_slice(format);
            args.push("logs");
            env.run(&args)
        };
        let one = run("1");
        one.expect_code(1);
        for threads in ["2", "4"] {
            for _ in 0..2 {
                let other = run(threads);
                other.check(
                    other.stdout == one.stdout,
                    format!("{format:?}: -j {threads} wrote other bytes than -j 1"),
                );
            }
        }
    }
    // The order itself: inputs as walked (sorted by name, directories in
    // place), each input's findings by offset.
    let run = env.run(&["scan", "-q", "-j", "4", "--format", "jsonl", "logs"]);
    let found = run.findings();
    let keys: Vec<(String, u64)> = found
        .iter()
        .map(|f| (f.path.clone(), f.offset.unwrap_or(0)))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    run.check_eq(keys, sorted, "walk order, then offset");
    run.check_eq(found.len(), planted, "every token");
}
