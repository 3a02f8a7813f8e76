//! Realistic logs from the benchmark corpus generator (nginx, JSON app logs
//! with UUIDs, digests, base64 blobs, trace ids, S3 ids, pod names, proxy
//! logs, and documentation placeholders such as `api_key=your_api_key`,
//! `password=changeme`, `token=${TOKEN}`, `Authorization: Bearer <TOKEN>`,
//! `AKIAIOSFODNN7EXAMPLE`): quiet on over 20 MB of clean logs (no finding
//! of high or medium confidence), and complete on the same noise with
//! planted credentials (each found at the line, column and offset the
//! generator's manifest records, and nothing found elsewhere).

#[path = "../../benches/corpus/mod.rs"]
mod corpus;

use crate::util::{Env, Finding};

const BYTES: u64 = 21_000_000;

#[test]
fn clean_corpus_has_no_high_or_medium_findings() {
    let env = Env::new();
    let dir = env.mkdir("corpus");
    let manifest = corpus::clean_logs(&dir, BYTES, 20_240_501).expect("generate the corpus");
    assert!(
        manifest.total_bytes >= 20_000_000,
        "corpus too small: {} bytes",
        manifest.total_bytes
    );
    assert!(manifest.secrets.is_empty(), "a clean corpus plants nothing");
    let run = env.run(&["scan", "--format", "jsonl", "corpus"]);
    let found = run.findings();
    let low = found.iter().filter(|f| f.confidence == "low").count();
    eprintln!(
        "clean corpus: {} bytes in {} files, {} lines: {low} low-confidence findings",
        manifest.total_bytes,
        manifest.files.len(),
        manifest.total_lines
    );
    let mut by_rule: Vec<(String, usize)> = Vec::new();
    for f in found.iter().filter(|f| f.confidence == "low") {
        match by_rule.iter_mut().find(|(r, _)| *r == f.rule) {
            Some((_, n)) => *n += 1,
            None => by_rule.push((f.rule.clone(), 1)),
        }
    }
    eprintln!("low-confidence findings by rule: {by_rule:?}");
    let bad: Vec<&Finding> = found.iter().filter(|f| f.confidence != "low").collect();
    if !bad.is_empty() {
        let list: Vec<String> = bad
            .iter()
            .map(|f| {
                format!(
                    "  {} ({}) {}:{}:{}  {}",
                    f.rule,
                    f.confidence,
                    f.path,
                    f.line.unwrap_or(0),
                    f.column.unwrap_or(0),
                    f.context
                )
            })
            .collect();
        run.fail(format!(
            "{} high/medium findings in clean logs:\n{}",
            bad.len(),
            list.join("\n")
        ));
    }
    run.check(
        run.code() == Some(if found.is_empty() { 0 } else { 1 }),
        "exit status: 0 when nothing was found, 1 for low findings only",
    );
}

#[test]
fn planted_secrets_are_found_where_the_manifest_says() {
    // The same generator, planting one synthetic credential every ~20 lines
    // in realistic places (query strings, Authorization headers, JSON
    // fields, curl command lines, env dumps, URL userinfo).
    let env = Env::new();
    let dir = env.mkdir("corpus");
    let plan = corpus::Plan {
        lines_per_secret: 20,
        ..corpus::Plan::new(3_000_000, 7)
    };
    let manifest = corpus::generate(&dir, &plan).expect("generate the corpus");
    assert!(manifest.secrets.len() > 100, "too few planted secrets");
    let run = env.run(&["scan", "--format", "jsonl", "corpus"]);
    let found = run.findings();
    let mut problems = Vec::new();
    for s in &manifest.secrets {
        let path = format!("corpus/{}", s.file);
        let fp = crate::util::sha256_hex(&s.secret);
        let hit = found
            .iter()
            .find(|f| f.path == path && f.offset == Some(s.offset));
        match hit {
            None => {
                let on_line: Vec<String> = found
                    .iter()
                    .filter(|f| f.path == path && f.line == Some(s.line))
                    .map(|f| format!("{} at column {:?}", f.rule, f.column))
                    .collect();
                let text = std::fs::read_to_string(dir.join(&s.file))
                    .ok()
                    .and_then(|t| t.lines().nth(s.line as usize - 1).map(str::to_string))
                    .unwrap_or_default();
                problems.push(format!(
                    "{} ({}, {}) at {path}:{}:{} not found (on that line: {on_line:?}): {text}",
                    s.family, s.kind, s.position, s.line, s.column
                ))
            }
            Some(f) if (f.line, f.column) != (Some(s.line), Some(s.column)) => {
                problems.push(format!(
                    "{} at {path}:{}:{} reported at {:?}:{:?}",
                    s.family, s.line, s.column, f.line, f.column
                ))
            }
            Some(f) if f.fingerprint != fp => problems.push(format!(
                "{} ({}) at {path}:{}:{}: rule {} captured other bytes than the secret",
                s.family, s.position, s.line, s.column, f.rule
            )),
            Some(_) => {}
        }
    }
    // A finding on a line without a planted secret is a false positive in
    // the noise. (On a planted line, a second finding can be legitimate: a
    // service-account JSON carries a key id next to its private key.)
    for f in &found {
        let planted_line = manifest
            .secrets
            .iter()
            .any(|s| f.path == format!("corpus/{}", s.file) && f.line == Some(s.line));
        if !planted_line {
            problems.push(format!(
                "unexpected {} ({}) at {}:{}:{}: {}",
                f.rule,
                f.confidence,
                f.path,
                f.line.unwrap_or(0),
                f.column.unwrap_or(0),
                f.context
            ));
        }
    }
    eprintln!(
        "planted corpus: {} secrets planted, {} findings",
        manifest.secrets.len(),
        found.len()
    );
    run.check_none(&problems, "planted secrets");
}
