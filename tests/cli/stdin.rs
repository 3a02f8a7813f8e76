//! Reading stdin: `-` names it; with no path, stdin is read when it is a
//! pipe or a file. Findings from stdin carry the path `-`.

use crate::families::{check_case, SEED};
use crate::tokens;
use crate::util::{clean_lines, Env, Layout};

fn input() -> (tokens::Case, crate::util::Placed, Vec<u8>) {
    let case = tokens::family(SEED, "slack_bot_token");
    let mut lay = Layout::new();
    lay.push(clean_lines(0, 7));
    let at = lay.push_secret(&case.text, &case.secret);
    lay.push(clean_lines(7, 3));
    (case, at, lay.bytes)
}

#[test]
fn dash_reads_stdin() {
    let (case, at, bytes) = input();
    let env = Env::new();
    let run = env.run_stdin(&["scan", "--format", "jsonl", "-"], &bytes);
    let found = run.findings();
    run.check_eq(found.len(), 1, "one finding");
    check_case(&run, &found[0], &case, &at, "-");
    run.expect_code(1);
}

#[test]
fn no_path_with_a_piped_stdin_reads_it() {
    let (case, at, bytes) = input();
    let env = Env::new();
    let run = env.run_stdin(&["scan", "--format", "jsonl"], &bytes);
    let found = run.findings();
    run.check_eq(found.len(), 1, "one finding");
    check_case(&run, &found[0], &case, &at, "-");
    run.expect_code(1);
}

#[test]
fn no_path_with_stdin_redirected_from_a_file_reads_it() {
    let (case, at, bytes) = input();
    let env = Env::new();
    env.write("in.log", &bytes);
    let run = env.run_stdin_file(&["scan", "--format", "jsonl"], "in.log");
    let found = run.findings();
    run.check_eq(found.len(), 1, "one finding");
    check_case(&run, &found[0], &case, &at, "-");
    run.expect_code(1);
}

#[test]
fn dash_and_files_together() {
    let (case, at, bytes) = input();
    let env = Env::new();
    env.write("copy.log", &bytes);
    let run = env.run_stdin(&["scan", "--format", "jsonl", "copy.log", "-"], &bytes);
    let mut found = run.findings();
    found.sort_by(|a, b| a.path.cmp(&b.path));
    run.check_eq(found.len(), 2, "one finding per input");
    check_case(&run, &found[0], &case, &at, "-");
    check_case(&run, &found[1], &case, &at, "copy.log");
    run.expect_code(1);
}

#[test]
fn clean_stdin_exits_0() {
    let env = Env::new();
    let run = env.run_stdin(
        &["scan", "--format", "jsonl", "-"],
        clean_lines(0, 40).as_bytes(),
    );
    run.check_eq(run.stdout(), String::new(), "stdout");
    run.expect_code(0);
}
