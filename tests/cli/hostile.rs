//! Hostile inputs, each beside an ordinary file with one secret: no panic,
//! no hang, a clear line naming the input where there is an error, the
//! right exit status, and the ordinary file still scanned. (Other hostile
//! cases live with their topic: truncation during a scan in `truncation`,
//! decompression bombs, nested and damaged archives in `archives`, cut-off
//! and crafted HAR captures in `har`.)

use std::fs;

use crate::tokens;
use crate::util::{Env, Rng, Run};

/// An ordinary log with one GitHub token; returns the token.
fn ordinary(env: &Env) -> String {
    let tok = tokens::github_classic(&mut Rng::new(7), "ghp");
    env.write(
        "ok.log",
        format!("2024-05-01T12:00:00Z INFO GET /api?access_token={tok} 200\n"),
    );
    tok
}

/// The run found the ordinary file's token.
fn found_ordinary(run: &Run, tok: &str) {
    let fp = crate::util::sha256_hex(tok);
    run.check(
        run.findings()
            .iter()
            .any(|f| f.fingerprint == fp && f.path == "ok.log"),
        "the ordinary file is still scanned",
    );
}

fn scan(env: &Env, paths: &[&str]) -> Run {
    let mut args = vec!["scan", "--format", "jsonl"];
    args.extend_from_slice(paths);
    env.run(&args)
}

#[test]
fn devices_sockets_and_symlink_loops() {
    let env = Env::new();
    let tok = ordinary(&env);
    // A device named on the command line: skipped with a note, not read
    // (/dev/zero would never end).
    let run = scan(&env, &["/dev/zero", "ok.log"]);
    run.expect_stderr_line(&["/dev/zero", "skipped", "device"]);
    found_ordinary(&run, &tok);
    run.expect_code(1);
    // A socket in a walked directory: skipped with a note.
    env.mkdir("d");
    let sock = std::os::unix::net::UnixListener::bind(env.path("d/app.sock")).expect("socket");
    let run = scan(&env, &["d", "ok.log"]);
    run.expect_stderr_line(&["app.sock", "skipped", "socket"]);
    found_ordinary(&run, &tok);
    run.expect_code(1);
    drop(sock);
    // A symlink loop named explicitly: an error naming it, exit 2.
    std::os::unix::fs::symlink("loop-b", env.path("loop-a")).expect("link");
    std::os::unix::fs::symlink("loop-a", env.path("loop-b")).expect("link");
    let run = scan(&env, &["loop-a", "ok.log"]);
    run.expect_stderr_line(&["loop-a", "symbolic links"]);
    found_ordinary(&run, &tok);
    run.expect_code(2);
    // A directory that links to itself, walked with -L.
    env.mkdir("tree/sub");
    std::os::unix::fs::symlink("..", env.path("tree/sub/up")).expect("link");
    let run = env.run(&["scan", "-L", "--format", "jsonl", "tree", "ok.log"]);
    run.expect_stderr_line(&["tree/sub/up", "loop"]);
    found_ordinary(&run, &tok);
    run.expect_code(2);
}

#[test]
fn nul_bytes_and_invalid_utf8_around_a_secret() {
    let env = Env::new();
    let tok = tokens::github_classic(&mut Rng::new(8), "ghp");
    // Text first, then a
    // line of NULs and invalid UTF-8 around the token.
    let mut bytes = "2024-05-01T12:00:00Z INFO warming up\n"
        .repeat(300)
        .into_bytes();
    let line_start = bytes.len();
    bytes.extend_from_slice(b"\x00\xff\xfe\x00token=");
    let at = bytes.len();
    bytes.extend_from_slice(tok.as_bytes());
    bytes.extend_from_slice(b"\x00\x80\xc3\x28\n");
    env.write("nul.log", &bytes);
    let run = scan(&env, &["nul.log"]);
    let found = run.findings();
    run.check_eq(found.len(), 1, "the token is found");
    run.check_eq(
        (found[0].offset, found[0].line, found[0].column),
        (
            Some(at as u64),
            Some(301),
            Some((at - line_start + 1) as u64),
        ),
        "at its place",
    );
    run.check(
        found[0].context.contains("\\x00"),
        "NUL bytes escaped in the context",
    );
    run.expect_code(1);
}

/// Long runs of keyword prefixes make every position a candidate: the
/// scan slows down but ends, finds nothing in them, and goes on.
#[test]
fn keyword_runs_end_and_find_nothing() {
    let env = Env::new();
    let tok = ordinary(&env);
    for (name, unit) in [
        ("ghp.log", "ghp_"),
        ("eyj.log", "eyJ"),
        ("token.log", "token="),
        ("bearer.log", "Bearer "),
        ("at.log", "@"),
        ("pem.log", "-----BEGIN PRIVATE KEY-----"),
        ("a.log", "A"),
    ] {
        env.write(name, unit.repeat((256 << 10) / unit.len()));
    }
    let run = scan(
        &env,
        &[
            "ghp.log",
            "eyj.log",
            "token.log",
            "bearer.log",
            "at.log",
            "pem.log",
            "a.log",
            "ok.log",
        ],
    );
    run.check_eq(run.findings().len(), 1, "only the ordinary file's token");
    found_ordinary(&run, &tok);
    run.expect_code(1);
}

/// A line far longer than a fill, without a newline: found at its column,
/// from a file, from stdin and from gzip.
#[test]
fn a_long_line_without_a_newline() {
    let env = Env::new();
    let tok = tokens::github_classic(&mut Rng::new(9), "ghp");
    let half = "x".repeat(12 << 20);
    let text = format!("{half} token={tok} {half}");
    let at = half.len() + " token=".len();
    env.write("long.log", &text);
    env.write("long.log.gz", crate::archives::gzip(text.as_bytes()));
    let want = (Some(at as u64), Some(1), Some(at as u64 + 1));
    for run in [
        scan(&env, &["long.log"]),
        scan(&env, &["long.log.gz"]),
        env.run_stdin(&["scan", "--format", "jsonl", "-"], text.as_bytes()),
    ] {
        let found = run.findings();
        run.check_eq(found.len(), 1, "one finding");
        run.check_eq(
            (found[0].offset, found[0].line, found[0].column),
            want,
            "place",
        );
        run.check(
            found[0].context.len() < 400,
            "the context is cut, not the whole line",
        );
        run.expect_code(1);
    }
    fs::remove_file(env.path("long.log")).expect("rm");
}

/// UTF-16 with a byte-order mark (Windows-exported logs): decoded, so the
/// secret is found (placed in the UTF-8 text), and redacted into a UTF-16
/// copy.
#[test]
fn utf16_logs_are_decoded() {
    let env = Env::new();
    let tok = tokens::github_classic(&mut Rng::new(10), "ghp");
    let text =
        format!("2024-05-01 12:00:00 INFO démarrage\r\n2024-05-01 12:00:01 DEBUG token={tok}\r\n");
    let at = text.find(&tok).expect("token") as u64;
    for (name, big_endian) in [("le.log", false), ("be.log", true)] {
        let mut bytes: Vec<u8> = if big_endian {
            vec![0xfe, 0xff]
        } else {
            vec![0xff, 0xfe]
        };
        for u in text.encode_utf16() {
            bytes.extend(if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            });
        }
        env.write(name, &bytes);
        let run = scan(&env, &[name]);
        let found = run.findings();
        run.check_eq(found.len(), 1, format!("{name}: the token is found"));
        run.check_eq(
            (found[0].line, found[0].offset),
            (Some(2), Some(at)),
            "in the UTF-8 text",
        );
        run.expect_code(1);
        let out = format!("{name}.clean");
        env.run(&["redact", name, "-o", &out]).expect_code(1);
        let copy = fs::read(env.path(&out)).expect("copy");
        run.check_eq(
            &copy[..2],
            &bytes[..2],
            "the copy is UTF-16 in the same byte order",
        );
        scan(&env, &[&out]).expect_code(0);
    }
}

/// A file that grows while it is scanned: the bytes it had when opened
/// are scanned, the run ends normally and says nothing false (what was
/// appended is for the next run).
#[test]
fn a_file_that_grows_during_the_scan() {
    use std::io::Write;
    let env = Env::new();
    let tok = ordinary(&env);
    let path = env.path("growing.log");
    crate::truncation::write_big(&path);
    let late = tokens::github_classic(&mut Rng::new(11), "ghp");
    let run = env.run_while(
        &["scan", "--format", "jsonl", "growing.log", "ok.log"],
        |pid| {
            crate::truncation::wait_until_mapped(pid, &path);
            let mut f = fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .expect("open");
            for _ in 0..200 {
                f.write_all(format!("2024-05-01 DEBUG token={late}\n").as_bytes())
                    .expect("append");
            }
        },
    );
    run.check(run.code() == Some(1), "findings, no error, no crash");
    found_ordinary(&run, &tok);
    let found = run.findings();
    run.check(
        found
            .iter()
            .any(|f| f.path == "growing.log" && f.rule == "github-pat-classic"),
        "the secrets the file had are found",
    );
}

/// A directory removed while it is walked or scanned: its files that are
/// gone are errors naming them (or the scan was done first), the process
/// exits normally, and every other input is scanned.
#[test]
fn a_directory_that_disappears_mid_scan() {
    let env = Env::new();
    let tok = ordinary(&env);
    for i in 0..400 {
        env.write(
            &format!("gone/d{}/f{i}.log", i % 20),
            "2024-05-01 INFO nothing\n".repeat(200),
        );
    }
    let gone = env.path("gone");
    let run = env.run_while(&["scan", "--format", "jsonl", "gone", "ok.log"], |_| {
        let _ = fs::remove_dir_all(&gone);
    });
    run.check(
        matches!(run.code(), Some(1) | Some(2)),
        "exit 1 (scanned before it went) or 2 (some files vanished), never a crash",
    );
    if run.code() == Some(2) {
        run.expect_stderr_line(&["gone"]);
    }
    found_ordinary(&run, &tok);
}
