//! `leaksweep.toml`: skip globs, disabled rules, ignored fingerprints,
//! allowed values and entropy bounds, from the current directory or
//! `--config`.

use crate::baseline::line;
use crate::tokens;
use crate::util::{sha256_hex, Env, Rng};

#[test]
fn the_config_in_the_current_directory_filters_the_scan() {
    let mut rng = Rng::new(0xc0f1);
    let t: Vec<String> = (0..5)
        .map(|_| tokens::github_classic(&mut rng, "ghp"))
        .collect();
    let jwt = tokens::family(7, "jwt_in_authorization_bearer");
    let env = Env::new();
    env.write(
        "a.log",
        format!("{}{}{}", line(&t[0]), line(&t[1]), line(&t[2])),
    );
    env.write("vendor/x.log", line(&t[3]));
    env.write("web/app.min.js", line(&t[4]));
    env.write("j.log", &jwt.text);
    let plain = env.run(&["scan", "--format", "jsonl", "."]);
    plain.check_eq(plain.findings().len(), 6, "without a config");

    env.write(
        "leaksweep.toml",
        format!(
            "skip = ['vendor', '*.min.js']\n\
             disable = ['jwt', 'http-bearer-token']\n\
             ignore = ['{}']\n\
             allow = ['{}$']\n",
            sha256_hex(&t[1]),
            &t[2][20..],
        ),
    );
    let run = env.run(&["scan", "--format", "jsonl", "."]);
    let got: Vec<(String, String)> = run
        .findings()
        .into_iter()
        .map(|f| (f.path, f.fingerprint))
        .collect();
    run.check_eq(
        got,
        vec![("./a.log".into(), sha256_hex(&t[0]))],
        "with the config",
    );
    run.expect_code(1);
}

#[test]
fn an_explicit_config_must_exist_and_be_right() {
    let mut rng = Rng::new(0xc0f2);
    let t = tokens::github_classic(&mut rng, "ghp");
    let env = Env::new();
    env.write("a.log", line(&t));
    // No rule can pass a bound of 8 bits per character.
    env.write("strict.toml", "[entropy]\ngithub-pat-classic = 8.0\n");
    let run = env.run(&[
        "scan",
        "--config",
        "strict.toml",
        "--format",
        "jsonl",
        "a.log",
    ]);
    run.check_eq(run.findings().len(), 0, "entropy bound raised");
    run.expect_code(0);

    for (file, text, cause) in [
        ("typo.toml", "skpi = ['x']\n", "skpi"),
        (
            "rule.toml",
            "disable = ['github-pat-clasic']\n",
            "github-pat-clasic",
        ),
    ] {
        env.write(file, text);
        let run = env.run(&["scan", "--config", file, "a.log"]);
        run.expect_code(2);
        run.expect_stderr_line(&["leaksweep: ", file, cause]);
        run.check_eq(run.stdout(), String::new(), "nothing scanned");
    }
    let run = env.run(&["scan", "--config", "missing.toml", "a.log"]);
    run.expect_code(2);
    run.expect_stderr_line(&["leaksweep: ", "missing.toml"]);
}

/// Issue 16 item 9: a config in the current directory is announced before
/// the scan (even with -q), read only when the running user owns it and
/// others cannot write it, and `--no-config` leaves it out.
#[test]
fn issue_16_current_directory_config_is_announced_and_must_be_ours() {
    use std::os::unix::fs::PermissionsExt;
    let tok = tokens::github_classic(&mut Rng::new(0x169), "ghp");
    let env = Env::new();
    env.write("evidence.log", line(&tok));
    // Planted: allow everything.
    let cfg = env.write("leaksweep.toml", "allow = ['.']\n");
    let args = ["scan", "-q", "--format", "jsonl", "evidence.log"];

    let run = env.run(&args);
    run.expect_stderr_line(&["leaksweep: config leaksweep.toml: ", "allow 1"]);
    run.check_eq(run.findings().len(), 0, "our own config applies");
    run.expect_code(0);

    let run = env.run(&[
        "scan",
        "-q",
        "--no-config",
        "--format",
        "jsonl",
        "evidence.log",
    ]);
    run.check_eq(run.findings().len(), 1, "--no-config ignores it");
    run.check(!run.stderr.contains("config"), "and says nothing of it");
    run.expect_code(1);

    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let run = env.run(&args);
    run.expect_stderr_line(&[
        "leaksweep.toml: config not read: writable by others",
        "--config",
    ]);
    run.check_eq(
        run.findings().len(),
        1,
        "a world-writable config is not applied",
    );
    run.expect_code(1);

    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    // Another user's file (the tests run as root, as in CI).
    std::os::unix::fs::chown(&cfg, Some(65534), Some(65534))
        .expect("chown to nobody (run as root)");
    let run = env.run(&args);
    run.expect_stderr_line(&["leaksweep.toml: config not read: owned by uid 65534"]);
    run.check_eq(
        run.findings().len(),
        1,
        "another user's config is not applied",
    );
    run.expect_code(1);
    // Named explicitly, it is the user's choice: read, and announced.
    let run = env.run(&[
        "scan",
        "-q",
        "--config",
        "leaksweep.toml",
        "--format",
        "jsonl",
        "evidence.log",
    ]);
    run.expect_stderr_line(&["leaksweep: config leaksweep.toml: "]);
    run.check_eq(run.findings().len(), 0, "--config reads it");
    run.expect_code(0);
}
