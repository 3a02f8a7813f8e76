//! Inputs that cannot be read: one line `leaksweep: <path>: <cause>` each,
//! exit status 2, every other input still scanned; special files met while
//! walking are skipped with a note instead of being opened (a FIFO would
//! block forever).

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;

use crate::families::SEED;
use crate::tokens;
use crate::util::{clean_lines, Env, Run};

/// The one stderr line about `path` (errors and notes), failing unless
/// there is exactly one.
#[track_caller]
fn line_about<'a>(run: &'a Run, path: &str) -> &'a str {
    let head = format!("leaksweep: {path}: ");
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with(&head))
        .collect();
    run.check_eq(lines.len(), 1, format!("stderr lines starting {head:?}"));
    lines[0]
}

fn good_file(env: &Env) -> String {
    let case = tokens::family(SEED, "github_pat_classic");
    env.write("good.log", format!("{}{}", clean_lines(0, 2), case.text));
    case.rule.to_string()
}

#[track_caller]
fn only_good_found(run: &Run, rule: &str) {
    let found: Vec<(String, String)> = run
        .findings()
        .into_iter()
        .map(|f| (f.path, f.rule))
        .collect();
    run.check_eq(
        found,
        vec![("good.log".to_string(), rule.to_string())],
        "the readable input is still scanned",
    );
}

/// A file and a directory the user may not read (leaksweep run as a
/// user, as it is on a log host where some logs are root's): an error
/// naming each, exit 2, the readable input still scanned.
#[test]
fn unreadable_file_and_directory() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let rule = good_file(&env);
    let secret = env.write("secret.log", tokens::family(SEED, "aws_access_key_id").text);
    env.write("locked/app.log", "nothing here\n");
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o000)).expect("chmod");
    fs::set_permissions(env.path("locked"), fs::Permissions::from_mode(0o000)).expect("chmod");
    let run = env.run_unprivileged(&[
        "scan",
        "--format",
        "jsonl",
        "secret.log",
        "locked",
        "good.log",
    ]);
    run.check(
        line_about(&run, "secret.log").contains("permission denied"),
        "the unreadable file's error says why",
    );
    run.check(
        run.stderr
            .lines()
            .any(|l| l.starts_with("leaksweep: locked") && l.contains("permission denied")),
        "the unreadable directory's error says why",
    );
    only_good_found(&run, &rule);
    run.expect_code(2);
}

#[test]
fn dangling_symlink_named_explicitly() {
    let env = Env::new();
    let rule = good_file(&env);
    std::os::unix::fs::symlink(env.path("gone.log"), env.path("dangling.log")).expect("symlink");
    let run = env.run(&["scan", "--format", "jsonl", "dangling.log", "good.log"]);
    let line = line_about(&run, "dangling.log");
    run.check(
        line.to_lowercase().contains("no such file"),
        format!("cause in {line:?}"),
    );
    only_good_found(&run, &rule);
    run.expect_code(2);
}

#[test]
fn path_whose_parent_is_a_file() {
    let env = Env::new();
    let rule = good_file(&env);
    env.write("plain.log", clean_lines(0, 2));
    let run = env.run(&[
        "scan",
        "--format",
        "jsonl",
        "plain.log/inner.log",
        "good.log",
    ]);
    let line = line_about(&run, "plain.log/inner.log");
    run.check(
        line.to_lowercase().contains("not a directory"),
        format!("cause in {line:?}"),
    );
    only_good_found(&run, &rule);
    run.expect_code(2);
}

fn mkfifo(path: &std::path::Path) {
    let c = CString::new(path.as_os_str().as_bytes()).expect("path without NUL");
    // SAFETY: a valid NUL-terminated path; mkfifo only reads it.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
    assert_eq!(rc, 0, "mkfifo {}", path.display());
}

#[test]
fn fifo_in_a_walked_directory_is_skipped_with_a_note() {
    let env = Env::new();
    let case = tokens::family(SEED, "aws_access_key_id");
    env.write(
        "logs/app.log",
        format!("{}{}", clean_lines(0, 2), case.text),
    );
    mkfifo(&env.path("logs/pipe"));
    let run = env.run(&["scan", "--format", "jsonl", "logs"]);
    let line = line_about(&run, "logs/pipe");
    run.check(
        line.contains("skipped") && line.to_lowercase().contains("fifo"),
        format!("note in {line:?}"),
    );
    let found: Vec<String> = run.findings().into_iter().map(|f| f.path).collect();
    run.check_eq(found, vec!["logs/app.log".to_string()], "findings");
    run.expect_code(1);
}

#[test]
fn fifo_in_a_walked_directory_alone_is_a_clean_run() {
    let env = Env::new();
    env.write("logs/app.log", clean_lines(0, 5));
    mkfifo(&env.path("logs/pipe"));
    let run = env.run(&["scan", "--format", "jsonl", "logs"]);
    line_about(&run, "logs/pipe");
    run.expect_code(0);
}

#[test]
fn quiet_hides_notes_but_not_errors() {
    let env = Env::new();
    env.write("logs/app.log", clean_lines(0, 5));
    mkfifo(&env.path("logs/pipe"));
    let run = env.run(&["scan", "-q", "--format", "jsonl", "logs", "missing.log"]);
    run.check(!run.stderr.contains("logs/pipe"), "no skip note under -q");
    line_about(&run, "missing.log");
    run.expect_code(2);
}
