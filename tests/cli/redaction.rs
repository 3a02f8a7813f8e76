//! Secrets never leak through leaksweep's own output: in every format, by
//! default, no raw secret (nor its random middle) appears on stdout or
//! stderr; `secret` shows at most the public prefix and 4 more characters
//! (and keeps the issuer's public prefix); `fingerprint` is the SHA-256 of
//! the raw secret. `--show-secrets` prints them.

use crate::scan::{mixed, mixed_run};
use crate::tokens::Case;
use crate::util::{sha256_hex, Env, Finding, Run};

const MARK: &str = "…(redacted)";

/// The random middle of a secret: 16 characters around its centre.
fn middle(secret: &str) -> Option<&str> {
    let n = secret.len();
    (n >= 24).then(|| &secret[n / 2 - 8..n / 2 + 8])
}

/// Every place a secret, whole or in part, shows up on stdout or stderr.
fn leaks(run: &Run, cases: &[Case]) -> Vec<String> {
    let mut out = Vec::new();
    for c in cases {
        for (stream, text) in [("stdout", run.stdout()), ("stderr", run.stderr.clone())] {
            // A multi-line secret is printed with `\n` escapes.
            let escaped = c.secret.replace('\n', "\\n");
            if text.contains(&c.secret) || text.contains(&escaped) {
                out.push(format!("{}: the raw secret is on {stream}", c.family));
            } else if let Some(m) = middle(&c.secret).filter(|m| text.contains(m)) {
                out.push(format!(
                    "{}: part of the secret ({m:?}) is on {stream}",
                    c.family
                ));
            }
        }
    }
    out
}

#[test]
fn no_raw_secret_in_any_format() {
    let cases = &mixed().cases;
    for format in ["human", "json", "jsonl", "sarif", "csv"] {
        let run = mixed_run(format, false);
        run.check(!run.stdout.is_empty(), "something was reported");
        run.check_none(&leaks(run, cases), format!("--format {format}"));
        run.expect_code(1);
    }
}

#[test]
fn no_raw_secret_when_reading_stdin() {
    let m = mixed();
    let env = Env::new();
    let run = env.run_stdin(&["scan", "--format", "human", "-"], &m.bytes);
    run.check_none(&leaks(&run, &m.cases), "stdin, --format human");
    run.expect_code(1);
}

/// The finding of a case, by fingerprint. A case without one is skipped
/// here: detection is asserted by the `families` and `scan` tests, these
/// tests are about what is shown.
fn by_case<'a>(found: &'a [Finding], c: &Case) -> Option<&'a Finding> {
    let fp = sha256_hex(&c.secret);
    found.iter().find(|f| f.fingerprint == fp)
}

#[test]
fn masked_secret_shows_at_most_four_characters_past_the_prefix() {
    let run = mixed_run("jsonl", false);
    let found = run.findings();
    let mut problems = Vec::new();
    for c in &mixed().cases {
        let Some(f) = by_case(&found, c) else {
            continue;
        };
        let Some(shown) = f.secret.strip_suffix(MARK) else {
            problems.push(format!(
                "{}: {:?} does not end in {MARK}",
                c.family, f.secret
            ));
            continue;
        };
        // At most a quarter of what follows the public prefix, never more
        // than 4 characters, and only characters of the secret itself.
        let limit = c.prefix.len() + ((c.secret.len() - c.prefix.len()) / 4).min(4);
        if !c.secret.starts_with(shown) || shown.len() > limit {
            problems.push(format!(
                "{}: shows {shown:?}, more than {limit} leading characters of the secret",
                c.family
            ));
        }
        if !f.context.contains(&f.secret) {
            problems.push(format!(
                "{}: context {:?} does not show the secret masked as {:?}",
                c.family, f.context, f.secret
            ));
        }
    }
    run.check_none(&problems, "masked secrets");
    // The contract's example, exactly: `ghp_` and 4 more characters.
    let gh = crate::tokens::family(crate::families::SEED, "github_pat_classic");
    let f = by_case(&found, &gh).expect("github finding");
    run.check_eq(
        f.secret.clone(),
        format!("{}{MARK}", &gh.secret[..8]),
        "masked GitHub token",
    );
}

#[test]
fn masked_secret_keeps_the_public_prefix() {
    let run = mixed_run("jsonl", false);
    let found = run.findings();
    let mut problems = Vec::new();
    for c in mixed().cases.iter().filter(|c| !c.prefix.is_empty()) {
        match by_case(&found, c) {
            None => {}
            Some(f) if !f.secret.starts_with(c.prefix) => problems.push(format!(
                "{}: {:?} does not keep the public prefix {:?}",
                c.family, f.secret, c.prefix
            )),
            Some(_) => {}
        }
    }
    run.check_none(&problems, "public prefixes");
}

#[test]
fn show_secrets_prints_raw_secrets_in_jsonl() {
    let run = mixed_run("jsonl", true);
    let found = run.findings();
    let mut problems = Vec::new();
    for c in &mixed().cases {
        let Some(f) = by_case(&found, c) else {
            continue;
        };
        if f.secret != c.secret {
            problems.push(format!(
                "{}: `secret` is {:?}, not the raw secret {:?}",
                c.family, f.secret, c.secret
            ));
        }
        if sha256_hex(&f.secret) != f.fingerprint {
            problems.push(format!(
                "{}: fingerprint is not the SHA-256 of the printed secret",
                c.family
            ));
        }
    }
    run.check_none(&problems, "--show-secrets, jsonl");
    run.check(
        !run.stdout().contains(MARK),
        "nothing masked under --show-secrets",
    );
    run.expect_code(1);
}

#[test]
fn show_secrets_prints_raw_secrets_in_human_and_json() {
    let found = mixed_run("jsonl", false).findings();
    for format in ["human", "json"] {
        let run = mixed_run(format, true);
        let out = run.stdout();
        let mut problems = Vec::new();
        for c in mixed()
            .cases
            .iter()
            .filter(|c| by_case(&found, c).is_some())
        {
            // Human output escapes control characters (a PEM's newlines),
            // so look for the longest line of each secret.
            let longest = c.secret.lines().max_by_key(|l| l.len()).unwrap_or_default();
            let shown = if format == "json" {
                let q = serde_json::to_string(longest).expect("json string");
                q[1..q.len() - 1].to_string()
            } else {
                longest.to_string()
            };
            if !out.contains(&shown) {
                problems.push(format!("{}: {shown:?} not shown", c.family));
            }
        }
        run.check_none(&problems, format!("--show-secrets, {format}"));
        run.check(!out.contains(MARK), "nothing masked under --show-secrets");
        run.expect_code(1);
    }
}

#[test]
fn fingerprint_is_sha256_of_the_raw_secret() {
    let run = mixed_run("jsonl", false);
    let found = run.findings();
    let m = mixed();
    let mut problems = Vec::new();
    for (c, p) in m.cases.iter().zip(&m.placed) {
        let Some(f) = found.iter().find(|f| f.offset == Some(p.offset)) else {
            continue;
        };
        if f.fingerprint != sha256_hex(&c.secret) {
            problems.push(format!(
                "{}: fingerprint {} is not sha256 of the raw secret",
                c.family, f.fingerprint
            ));
        }
        let hex = f.fingerprint.len() == 64
            && f.fingerprint
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex {
            problems.push(format!("{}: fingerprint is not lowercase hex", c.family));
        }
    }
    run.check_none(&problems, "fingerprints");
}

#[test]
fn random_characters_that_look_like_a_prefix_segment_stay_masked() {
    // Token bodies drawn from base64url may begin like a format segment
    // (`q_`, `ab-`): they are still random, so at most 4 of them may show.
    let mut rng = crate::util::Rng::new(99);
    let set = crate::util::B64URL;
    let cases = [
        ("AIza", format!("AIzaq_{}", rng.string(set, 33))),
        ("AIza", format!("AIzab7-{}", rng.string(set, 32))),
        (
            "SG.",
            format!("SG.ab_{}.{}", rng.string(set, 19), rng.string(set, 43)),
        ),
        (
            "sk-ant-api03-",
            format!("sk-ant-api03-x9-{}AA", rng.string(set, 90)),
        ),
    ];
    let env = Env::new();
    let text: String = cases
        .iter()
        .map(|(_, t)| format!("2024-05-01T12:00:00Z DEBUG sendgrid client key={t} ok\n"))
        .collect();
    env.write("seg.log", text);
    let run = env.run(&["scan", "--format", "jsonl", "seg.log"]);
    let found = run.findings();
    let mut problems = Vec::new();
    for (prefix, token) in &cases {
        let fp = sha256_hex(token);
        let Some(f) = found.iter().find(|f| f.fingerprint == fp) else {
            problems.push(format!("{token}: not found"));
            continue;
        };
        let shown = f.secret.trim_end_matches(MARK);
        if shown.len() > prefix.len() + 4 {
            problems.push(format!(
                "{}: shows {shown:?}, {} characters past the public prefix {prefix:?}",
                f.rule,
                shown.len() - prefix.len()
            ));
        }
    }
    run.check_none(&problems, "masking of random bodies");
}

/// Every place a secret, whole or in part, shows up in `text`.
fn leaks_in(text: &str, cases: &[Case], place: &str) -> Vec<String> {
    cases
        .iter()
        .filter_map(|c| {
            let escaped = c.secret.replace('\n', "\\n");
            if text.contains(&c.secret) || text.contains(&escaped) {
                Some(format!("{}: the raw secret is in {place}", c.family))
            } else {
                middle(&c.secret)
                    .filter(|m| text.contains(m))
                    .map(|m| format!("{}: part of the secret ({m:?}) is in {place}", c.family))
            }
        })
        .collect()
}

/// Every subcommand and format over the same secrets (plain, gzip in a tar,
/// and in a HAR capture): none appears in stdout, stderr, the state file,
/// the baseline or a redacted copy. Errors are provoked too (a missing
/// path, a cut-off gzip) so that error lines are covered.
#[test]
fn no_raw_secret_from_any_subcommand() {
    let m = mixed();
    let cases = &m.cases;
    let env = Env::new();
    env.write("in/mixed.log", &m.bytes);
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    let gz = crate::archives::gzip(&m.bytes);
    h.set_size(gz.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    tar.append_data(&mut h, "rotated/mixed.log.1.gz", &gz[..])
        .expect("tar");
    env.write("in/logs.tar", tar.into_inner().expect("tar"));
    env.write("in/cut.log.gz", &gz[..gz.len() / 2]);
    let har = serde_json::json!({"log": {"version": "1.2", "entries": cases.iter().map(|c| serde_json::json!({
        "request": {"method": "GET", "url": "https://a.example/", "headers": [{"name": "X-Debug", "value": c.text}]}
    })).collect::<Vec<_>>()}});
    env.write("in/capture.har", har.to_string());
    let mut runs: Vec<(String, Run)> = Vec::new();
    for format in ["human", "json", "jsonl", "sarif", "csv"] {
        let args = ["scan", "--format", format, "in", "missing.log"];
        runs.push((args.join(" "), env.run(&args)));
    }
    for args in [
        vec!["scan", "--group-by", "secret", "--format", "json", "in"],
        vec!["scan", "--group-by", "secret", "--format", "human", "in"],
        vec!["scan", "--state", "state.json", "--format", "jsonl", "in"],
        vec!["baseline", "in", "-o", "baseline.json"],
        vec!["redact", "in", "-o", "out"],
        vec!["rules", "list"],
    ] {
        runs.push((args.join(" "), env.run(&args)));
    }
    let mut problems = Vec::new();
    for (what, run) in &runs {
        let text = format!("{}{}", run.stdout(), run.stderr);
        problems.extend(leaks_in(&text, cases, what));
        if run.code() == Some(101) {
            problems.push(format!("{what}: panicked"));
        }
    }
    for file in [
        "state.json",
        "baseline.json",
        "out/in/mixed.log",
        "out/in/capture.har",
    ] {
        match std::fs::read_to_string(env.path(file)) {
            Ok(text) => problems.extend(leaks_in(&text, cases, file)),
            Err(e) => problems.push(format!("{file} was not written: {e}")),
        }
    }
    let (_, last) = &runs[0];
    last.check_none(&problems, "no secret from any subcommand");
}

/// A password's first letters narrow a guess far more than a random
/// token's do, so a password finding shows none of them: not in `secret`,
/// not in `context`, in no format.
#[test]
fn a_password_shows_no_character_of_itself() {
    let env = Env::new();
    let password = "Qv7mZ2xKp4Ww";
    env.write(
        "access.log",
        format!(
            "203.0.113.9 - - [14/May/2024:09:12:44 +0000] \"GET /cgi-bin/login.cgi?user=admin&password={password} HTTP/1.1\" 200 512 \"-\" \"curl/8.5.0\"\n"
        ),
    );
    let run = env.run(&["scan", "--format", "jsonl", "access.log"]);
    run.expect_code(1);
    let found = run.findings();
    run.check_eq(found.len(), 1, "one password finding");
    run.check_eq(
        found[0].secret.as_str(),
        MARK,
        "the secret shows only the mark",
    );
    run.check(
        found[0].context.contains(&format!("password={MARK}")),
        "the context shows only the mark where the password was",
    );
    let human = env.run(&["scan", "access.log"]);
    human.check(
        !human.stdout().contains("Qv7m"),
        "no leading characters of the password in the human report",
    );
}

/// Issue 16: `context` carries no credential-shaped value, reported or
/// not: a password below `--min-confidence`, a value on the `allow` list,
/// a random-looking run no rule knows. Ids and digests stay readable.
#[test]
fn issue16_context_masks_values_no_rule_reported() {
    let env = Env::new();
    let mut rng = crate::util::Rng::new(1606);
    let gh = crate::tokens::github_classic(&mut rng, "ghp");
    let password = "Qv7mZ2xKp4Ww";
    let allowed = "Hx9tLq2VwZ8rN4mK7pB3";
    let blob = "Zq8rT2kLw9xYv3Bn7Mc1Hd";
    let trace = "e308056b8478bb48a2f70b44f9f75c58";
    env.write(
        "app.log",
        format!(
            "deploy db_password={password} \"api_key\": \"{allowed}\" \
             token={gh} trace_id={trace} payload={blob}\n"
        ),
    );
    env.write("allow.toml", format!("allow = ['^{allowed}$']\n"));
    let run = env.run(&[
        "scan",
        "--format",
        "jsonl",
        "--min-confidence",
        "high",
        "--config",
        "allow.toml",
        "app.log",
    ]);
    run.expect_code(1);
    let found = run.findings();
    run.check_eq(found.len(), 1, "only the GitHub token is reported");
    let context = &found[0].context;
    for (what, value) in [
        ("the unreported password", password),
        ("the allowed key", allowed),
        ("the random run", blob),
    ] {
        run.check(
            !context.contains(&value[..6]),
            format!("{what} is not in the context: {context}"),
        );
    }
    run.check(
        context.contains(trace),
        format!("a hex trace id stays readable: {context}"),
    );
    let human = env.run(&[
        "scan",
        "--min-confidence",
        "high",
        "--config",
        "allow.toml",
        "app.log",
    ]);
    human.check(
        !human.stdout().contains(&password[..6]) && !human.stdout().contains(&allowed[..6]),
        "nor in the human report",
    );
}
