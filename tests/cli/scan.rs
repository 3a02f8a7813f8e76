//! What a scan reports and where: every family in one file, a directory
//! walked recursively, and one finding per secret however many of its
//! rule's keywords the line holds.

use std::sync::OnceLock;

use crate::families::{check_case, SEED};
use crate::tokens::{self, Case};
use crate::util::{clean_lines, Env, Layout, Located, Placed, Run};

/// Every catalogue case in one file, clean lines between them.
pub struct Mixed {
    pub cases: Vec<Case>,
    pub placed: Vec<Placed>,
    pub bytes: Vec<u8>,
}

pub fn mixed() -> &'static Mixed {
    static MIXED: OnceLock<Mixed> = OnceLock::new();
    MIXED.get_or_init(|| {
        let cases = tokens::catalogue(SEED);
        let mut lay = Layout::new();
        let mut placed = Vec::new();
        for (i, c) in cases.iter().enumerate() {
            lay.push(clean_lines(i, 2));
            placed.push(lay.push_secret(&c.text, &c.secret));
        }
        lay.push(clean_lines(0, 3));
        Mixed {
            cases,
            placed,
            bytes: lay.bytes,
        }
    })
}

/// `leaksweep scan --format FORMAT [--show-secrets] mixed.log`, run once
/// per combination and shared by the tests that read its output.
pub fn mixed_run(format: &str, show_secrets: bool) -> &'static Run {
    const FORMATS: [&str; 5] = ["human", "json", "jsonl", "sarif", "csv"];
    static RUNS: [OnceLock<Run>; 10] = [const { OnceLock::new() }; 10];
    let f = FORMATS
        .iter()
        .position(|x| *x == format)
        .expect("known format");
    RUNS[f * 2 + usize::from(show_secrets)].get_or_init(|| {
        let env = Env::new();
        env.write("mixed.log", &mixed().bytes);
        let mut args = vec!["scan", "--format", format, "mixed.log"];
        if show_secrets {
            args.insert(1, "--show-secrets");
        }
        env.run(&args)
    })
}

#[test]
fn every_family_in_one_file_is_found_once_where_it_was_written() {
    let m = mixed();
    let run = mixed_run("jsonl", false);
    let want: Vec<Located> = m
        .cases
        .iter()
        .zip(&m.placed)
        .map(|(c, p)| Located::at(c.rule, p, &c.secret))
        .collect();
    let got: Vec<Located> = run.findings().iter().map(|f| f.located()).collect();
    run.check_same(&got, &want, "one finding per secret, at its place");
    run.expect_code(1);
}

#[test]
fn a_directory_is_walked_recursively() {
    let env = Env::new();
    let top = tokens::family(SEED, "github_pat_classic");
    let deep = tokens::family(SEED, "aws_access_key_id");
    let other = tokens::family(SEED, "slack_bot_token");
    let mut placed = Vec::new();
    for (rel, case) in [
        ("logs/top.log", &top),
        ("logs/a/b/c/deep.log", &deep),
        ("logs/z/rotated.log.1", &other),
    ] {
        let mut lay = Layout::new();
        lay.push(clean_lines(1, 4));
        placed.push((rel, case, lay.push_secret(&case.text, &case.secret)));
        env.write(rel, &lay.bytes);
    }
    env.write("logs/a/clean.log", clean_lines(0, 50));
    env.mkdir("logs/empty-dir");
    let run = env.run(&["scan", "--format", "jsonl", "logs"]);
    let found = run.findings();
    run.check_eq(found.len(), 3, "one finding per file with a secret");
    for (rel, case, at) in &placed {
        let Some(f) = found.iter().find(|f| f.path == *rel) else {
            run.fail(format!("no finding with path {rel}"));
        };
        check_case(&run, f, case, at, rel);
    }
    run.expect_code(1);
}

#[test]
fn a_secret_is_reported_once_when_its_line_holds_several_keywords_of_its_rule() {
    // Each line hits its rule's keyword search several times around one
    // secret (a JWT even holds its keyword `eyJ` twice, and sits where the
    // bearer-token rule matches too).
    let mut rng = crate::util::Rng::new(11);
    let ghp = tokens::github_classic(&mut rng, "ghp");
    let pw = tokens::password(&mut rng);
    let opaque = rng.string(crate::util::B64URL, 40);
    let jwt = tokens::jwt(&mut rng);
    let access = rng.string(crate::util::B64URL, 43);
    let rule = |family: &str| tokens::family(SEED, family).rule;
    let lines = [
        (
            format!("ghp_ prefixes seen (ghp_, ghp_): token={ghp} ghp_\n"),
            ghp.clone(),
            rule("github_pat_classic"),
        ),
        (
            format!("password reset: DB_PASSWORD={pw} # password passwd PASSWORD\n"),
            pw.clone(),
            rule("env_db_password"),
        ),
        (
            format!("proxy: Authorization: Bearer {opaque} (bearer auth, scheme Bearer )\n"),
            opaque.clone(),
            "http-bearer-token",
        ),
        (
            format!("proxy: Authorization: Bearer {jwt} (Bearer eyJ)\n"),
            jwt.clone(),
            rule("jwt_in_authorization_bearer"),
        ),
        (
            format!("GET /cb?access_token={access}&note=access_token_ccess_token HTTP/1.1\n"),
            access.clone(),
            rule("access_token_in_query"),
        ),
    ];
    let env = Env::new();
    let mut want = Vec::new();
    for (i, (text, secret, rule)) in lines.iter().enumerate() {
        let mut lay = Layout::new();
        lay.push(clean_lines(0, 2));
        let at = lay.push_secret(text, secret);
        lay.push(clean_lines(2, 2));
        let path = format!("k/{i}.log");
        env.write(&path, &lay.bytes);
        want.push((path, Located::at(rule, &at, secret)));
    }
    let run = env.run(&["scan", "--format", "jsonl", "k"]);
    let got: Vec<(String, Located)> = run
        .findings()
        .into_iter()
        .map(|f| (f.path.clone(), f.located()))
        .collect();
    run.check_same(&got, &want, "exactly one finding per line, by its rule");
    run.expect_code(1);
}
