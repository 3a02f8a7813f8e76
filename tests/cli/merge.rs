//! `leaksweep merge` (issue 20): shard outputs combined into what one run
//! over everything writes, grouped or not; bad input named, never echoed.

use crate::tokens;
use crate::util::{Env, Rng};

/// A tree of logs in nested directories, some under a directory named like
/// a host, some syslog lines naming theirs, with timestamps, and one secret
/// repeated across files (so that shards each see part of its record).
fn tree(env: &Env, rng: &mut Rng) {
    let shared = tokens::github_classic(rng, "ghp");
    for i in 0..24 {
        let dir = match i % 4 {
            0 => "logs/web-01.example.com".to_string(),
            1 => format!("logs/app/{}", i % 3),
            2 => "logs-old".to_string(),
            _ => "logs".to_string(),
        };
        let own = tokens::github_classic(rng, "ghp");
        let text = format!(
            "2024-05-{:02}T09:12:44Z INFO deploy token={own}\n\
             May 14 09:12:{:02} web-{:02} app[4411]: token={shared}\n\
             no stamp here, x-api-key: {}\n",
            1 + i % 28,
            i % 60,
            i % 3,
            tokens::github_classic(rng, "ghs"),
        );
        env.write(&format!("{dir}/part-{i}.log"), text);
    }
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[test]
fn issue_20_merged_shards_equal_one_run_grouped_or_not() {
    let mut rng = Rng::new(2003);
    let env = Env::new();
    tree(&env, &mut rng);
    let inputs = ["logs", "logs-old"];
    let scan = |extra: &[&str]| {
        let mut args = vec!["scan", "--format", "jsonl"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&inputs);
        env.run(&args)
    };
    let whole = scan(&[]);
    whole.expect_code(1);
    let grouped = scan(&["--group-by", "secret"]);
    grouped.expect_code(1);
    // One syslog host reaches the findings and the records.
    grouped.check(grouped.stdout().contains("\"web-01\""), "a syslog host");
    let shards: Vec<String> = (0..3).map(|i| format!("shard-{i}.jsonl")).collect();
    for (i, out) in shards.iter().enumerate() {
        let shard = format!("{i}/3");
        let run = scan(&["--shard", &shard, "-o", out]);
        run.check(run.code() == Some(1), format!("shard {shard} found some"));
    }
    let merge = |extra: &[&str], files: &[String]| {
        let mut args = vec!["merge", "--format", "jsonl"];
        args.extend_from_slice(extra);
        args.extend(files.iter().map(String::as_str));
        env.run(&args)
    };
    let merged = merge(&[], &shards);
    merged.expect_code(1);
    merged.check_eq(
        lines(&merged.stdout()),
        lines(&whole.stdout()),
        "merged findings, in order",
    );
    merged.check(merged.stderr.contains("0 duplicates"), "no duplicates");
    let records = merge(&["--group-by", "secret"], &shards);
    records.expect_code(1);
    records.check_eq(
        lines(&records.stdout()),
        lines(&grouped.stdout()),
        "merged records",
    );
    // A shard given twice counts once; the order of the files is no matter.
    let mut twice = vec![shards[2].clone(), shards[0].clone(), shards[1].clone()];
    twice.push(shards[0].clone());
    let again = merge(&[], &twice);
    again.expect_code(1);
    again.check_eq(again.stdout(), whole.stdout(), "duplicates dropped");
    again.check(
        !again.stderr.contains(" 0 duplicates"),
        "duplicates counted",
    );
    // `--format json` output reads back as well.
    let mut args = vec!["scan", "--format", "json", "-o", "all.json"];
    args.extend_from_slice(&inputs);
    env.run(&args).expect_code(1);
    let from_array = merge(&[], &["all.json".to_string()]);
    from_array.check_eq(from_array.stdout(), whole.stdout(), "a json array");
}

#[test]
fn issue_20_merge_names_bad_input_and_never_echoes_it() {
    let mut rng = Rng::new(2004);
    let env = Env::new();
    let token = tokens::github_classic(&mut rng, "ghp");
    env.write(
        "logs/a.log",
        format!("2024-05-01T12:00:00Z token={token}\n"),
    );
    let good = env.run(&["scan", "--format", "jsonl", "logs"]);
    good.expect_code(1);
    let finding = good.stdout();
    let secret = tokens::github_classic(&mut rng, "ghp");
    let bad = format!(
        "{finding}{{\"path\":\"b.log\",\"secret\":\"{secret}\"\n{}\n",
        finding
            .trim_end()
            .replace("\"line\":1", &format!("\"line\":\"{secret}\""))
    );
    env.write("bad.jsonl", bad);
    let run = env.run(&["merge", "--format", "jsonl", "bad.jsonl", "missing.jsonl"]);
    run.expect_code(2);
    run.check_eq(run.stdout(), finding, "the good finding is kept");
    for what in ["bad.jsonl:2: ", "bad.jsonl:3: ", "missing.jsonl: "] {
        run.check(run.stderr.contains(what), format!("an error names {what}"));
    }
    run.check(!run.stderr.contains(&secret), "no value is echoed");
    run.check(!run.stderr.contains(&token), "no secret is echoed");
    let usage = env.run(&[
        "merge",
        "--group-by",
        "secret",
        "--format",
        "csv",
        "bad.jsonl",
    ]);
    usage.expect_code(2);
    let clean = env.run(&["merge", "--format", "jsonl", "empty.jsonl"]);
    clean.expect_code(2);
    env.write("empty.jsonl", "");
    env.run(&["merge", "--format", "jsonl", "empty.jsonl"])
        .expect_code(0);
}
