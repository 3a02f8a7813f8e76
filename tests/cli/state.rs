//! `--state`: cron runs that scan only what is new, follow logrotate in its
//! forms, report each secret once, and never advance past what they read.

use std::fs::{self, OpenOptions};
use std::io::Write;

use crate::tokens;
use crate::util::{Env, Rng, Run};

/// Distinct, format-valid GitHub tokens.
fn tokens(n: usize) -> Vec<String> {
    let mut rng = Rng::new(0x57a7e);
    (0..n)
        .map(|_| tokens::github_classic(&mut rng, "ghp"))
        .collect()
}

fn line(token: &str) -> String {
    format!("10.0.0.7 - - [01/May/2024:12:00:00 +0000] \"GET /api?access_token={token} HTTP/1.1\" 200 17\n")
}

const CLEAN: &str = "10.0.0.8 - - [01/May/2024:12:00:01 +0000] \"GET /health HTTP/1.1\" 200 2\n";

fn append(env: &Env, rel: &str, text: &str) {
    let mut f = OpenOptions::new()
        .append(true)
        .create(true)
        .open(env.path(rel))
        .expect("open for append");
    f.write_all(text.as_bytes()).expect("append");
}

/// `leaksweep scan --state state.json --format jsonl --quiet PATHS`.
pub fn cron(env: &Env, paths: &[&str]) -> Run {
    let mut args = vec![
        "scan",
        "--state",
        "state.json",
        "--format",
        "jsonl",
        "--quiet",
    ];
    args.extend_from_slice(paths);
    env.run(&args)
}

/// (path, line, the token's index) of each finding.
fn found(run: &Run, all: &[String]) -> Vec<(String, u64, usize)> {
    let mut v: Vec<(String, u64, usize)> = run
        .findings()
        .iter()
        .map(|f| {
            let fp = f.fingerprint.clone();
            let i = all
                .iter()
                .position(|t| crate::util::sha256_hex(t) == fp)
                .unwrap_or_else(|| run.fail(format!("finding of an unknown secret: {f:?}")));
            (f.path.clone(), f.line.unwrap_or(0), i)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn appended_lines_only_are_scanned_and_numbered_on() {
    let t = tokens(3);
    let env = Env::new();
    // Big enough to be memory-mapped (small files take another path, which
    // the other tests use).
    let n = 40_000u64;
    env.write(
        "app.log",
        format!("{}{}", CLEAN.repeat(n as usize), line(&t[0])),
    );
    let run = cron(&env, &["app.log"]);
    run.check_eq(
        found(&run, &t),
        vec![("app.log".into(), n + 1, 0)],
        "first run",
    );
    run.expect_code(1);

    let run = cron(&env, &["app.log"]);
    run.check_eq(found(&run, &t), vec![], "nothing new");
    run.expect_code(0);

    append(&env, "app.log", &format!("{CLEAN}{}{CLEAN}", line(&t[1])));
    // Without --quiet, for the summary: only the appended bytes were read.
    let run = env.run(&[
        "scan",
        "--state",
        "state.json",
        "--format",
        "jsonl",
        "app.log",
    ]);
    run.check_eq(
        found(&run, &t),
        vec![("app.log".into(), n + 3, 1)],
        "appended",
    );
    // The appended bytes and a match's reach (64 KB for a JWT) before
    // them, not the 2.8 MB file.
    let read: Option<f64> = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("leaksweep: 1 input, "))
        .and_then(|l| l.split(" MB").next())
        .and_then(|mb| mb.parse().ok());
    run.check(
        read.is_some_and(|mb| mb <= 0.2),
        format!("only the appended bytes and a reach before them were read: {read:?} MB"),
    );
    run.expect_code(1);

    // A line being written when the run came is read again when whole; a
    // secret already reported in it is not reported twice.
    append(&env, "app.log", &line(&t[2])[..70]);
    let run = cron(&env, &["app.log"]);
    run.check_eq(found(&run, &t), vec![], "a partial line");
    append(&env, "app.log", &line(&t[2])[70..]);
    let run = cron(&env, &["app.log"]);
    run.check_eq(
        found(&run, &t),
        vec![("app.log".into(), n + 5, 2)],
        "the line completed",
    );
}

#[test]
fn logrotate_rename_copytruncate_compress_and_delete() {
    let t = tokens(6);
    let env = Env::new();
    env.write("app.log", format!("{CLEAN}{}", line(&t[0])));
    cron(&env, &["app.log"]).expect_code(1);

    // Written after the last run, then renamed: read on from where the last
    // run stopped. The new file is read from its start.
    append(&env, "app.log", &line(&t[1]));
    fs::rename(env.path("app.log"), env.path("app.log.1")).expect("rotate");
    env.write("app.log", line(&t[2]));
    let run = cron(&env, &["app.log", "app.log.1"]);
    run.check_eq(
        found(&run, &t),
        vec![("app.log".into(), 1, 2), ("app.log.1".into(), 3, 1)],
        "after a rename",
    );

    // copytruncate: the file shrinks and starts over; read from its start.
    fs::write(env.path("app.log"), format!("{CLEAN}{}", line(&t[3]))).expect("truncate");
    let run = cron(&env, &["app.log", "app.log.1"]);
    run.check_eq(
        found(&run, &t),
        vec![("app.log".into(), 2, 3)],
        "after copytruncate",
    );

    // The rotated file compressed: its secrets were reported already.
    let raw = fs::read(env.path("app.log.1")).expect("read");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).expect("gzip");
    env.write("app.log.2.gz", gz.finish().expect("gzip"));
    fs::remove_file(env.path("app.log.1")).expect("remove");
    let run = cron(&env, &["app.log", "app.log.2.gz"]);
    run.check_eq(found(&run, &t), vec![], "after compression");
    run.expect_code(0);

    // A new secret in the archive shows up once; the deleted file is gone
    // from the state.
    append(&env, "app.log", &line(&t[4]));
    let run = cron(&env, &["app.log", "app.log.2.gz"]);
    run.check_eq(
        found(&run, &t),
        vec![("app.log".into(), 3, 4)],
        "new secret once",
    );
    let state = fs::read_to_string(env.path("state.json")).expect("state");
    run.check(
        !state.contains("app.log.1"),
        "the deleted file left the state",
    );
    for token in &t {
        run.check(
            !state.contains(token.as_str()),
            "no secret in the state file",
        );
    }
}

#[test]
fn a_second_run_waits_for_no_one_and_a_bad_state_is_an_error() {
    let t = tokens(1);
    let env = Env::new();
    env.write("app.log", line(&t[0]));
    // Another run holds the lock: this one exits at once, state untouched.
    let lock = fs::File::create(env.path("state.json.lock")).expect("lock file");
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor this test owns.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
    let run = cron(&env, &["app.log"]);
    run.expect_code(3);
    run.expect_stderr_line(&["leaksweep: ", "state.json", "another leaksweep run"]);
    run.check(!env.path("state.json").exists(), "no state written");
    drop(lock);

    cron(&env, &["app.log"]).expect_code(1);
    for bad in [
        "{not json",
        "{\"leaksweep_state\": 99, \"files\": [], \"reported\": []}",
    ] {
        let before = bad.to_string();
        env.write("state.json", bad);
        let run = cron(&env, &["app.log"]);
        run.expect_code(2);
        run.expect_stderr_line(&["leaksweep: ", "state.json"]);
        run.check_eq(run.stdout(), String::new(), "nothing scanned");
        let after = fs::read_to_string(env.path("state.json")).expect("state");
        run.check_eq(after, before, "the bad state is left as it was");
    }
}

#[test]
fn an_input_with_an_error_does_not_advance() {
    let t = tokens(2);
    let env = Env::new();
    // A gzip cut short: its first secret is reported, but the file is not
    // recorded as read, so the next run reads it again (and reports
    // nothing twice).
    let mut text = line(&t[0]);
    for i in 0..3000 {
        text.push_str(&format!("{i} {CLEAN}"));
    }
    text.push_str(&line(&t[1]));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).expect("gzip");
    let gz = gz.finish().expect("gzip");
    env.write("cut.log.gz", &gz[..gz.len() / 2]);
    let run = cron(&env, &["cut.log.gz"]);
    run.check_eq(
        found(&run, &t),
        vec![("cut.log.gz".into(), 1, 0)],
        "before the cut",
    );
    run.expect_code(2);
    let state = fs::read_to_string(env.path("state.json")).expect("state");
    run.check(
        !state.contains("cut.log.gz"),
        "the cut file is not recorded",
    );
    // Repaired: read whole now; the secret before the cut is not repeated.
    env.write("cut.log.gz", &gz);
    let run = cron(&env, &["cut.log.gz"]);
    run.check_eq(
        found(&run, &t),
        vec![("cut.log.gz".into(), 3002, 1)],
        "repaired",
    );
    run.expect_code(1);
}

#[test]
fn a_run_killed_midway_leaves_the_last_state_and_loses_nothing() {
    let t = tokens(2);
    let env = Env::new();
    env.write("app.log", line(&t[0]));
    cron(&env, &["app.log"]).expect_code(1);
    let before = fs::read(env.path("state.json")).expect("state");

    // The next run reads the appended line, then blocks on a FIFO no one
    // writes to, and is killed there.
    append(&env, "app.log", &line(&t[1]));
    let fifo = std::ffi::CString::new(env.path("stuck").into_os_string().into_encoded_bytes())
        .expect("path");
    // SAFETY: mkfifo with a NUL-terminated path this test owns.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0, "mkfifo");
    let args = [
        "scan",
        "--state",
        "state.json",
        "--format",
        "jsonl",
        "app.log",
        "stuck",
    ];
    let run = env.run_while(&args, |pid| {
        std::thread::sleep(std::time::Duration::from_millis(700));
        // SAFETY: signals the child this test started.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    });
    run.check(run.code().is_none(), "the run was killed");
    let after = fs::read(env.path("state.json")).expect("state");
    run.check(after == before, "the state is the last run's");

    // Rerun: the appended secret is reported, once.
    let run = cron(&env, &["app.log"]);
    run.check_eq(
        found(&run, &t),
        vec![("app.log".into(), 2, 1)],
        "after the kill",
    );
    let run = cron(&env, &["app.log"]);
    run.check_eq(found(&run, &t), vec![], "and not again");
}

#[test]
fn two_concurrent_runs_the_second_exits_at_once() {
    let t = tokens(1);
    let env = Env::new();
    env.write("app.log", line(&t[0]));
    let fifo = std::ffi::CString::new(env.path("stuck").into_os_string().into_encoded_bytes())
        .expect("path");
    // SAFETY: mkfifo with a NUL-terminated path this test owns.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0, "mkfifo");
    let mut second = None;
    let args = [
        "scan",
        "--state",
        "state.json",
        "--quiet",
        "app.log",
        "stuck",
    ];
    // The first run holds the lock while it waits on the FIFO.
    let first = env.run_while(&args, |pid| {
        wait_until_locked(&env.path("state.json.lock"));
        second = Some(cron(&env, &["app.log"]));
        // SAFETY: signals the child this test started.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    });
    let second = second.expect("the second run ran");
    second.expect_code(3);
    second.expect_stderr_line(&["leaksweep: ", "another leaksweep run"]);
    first.check(first.code().is_none(), "the first run was still running");
    // Neither left a state: the first was killed, the second did nothing.
    second.check(!env.path("state.json").exists(), "no state written");
}

/// Waits (up to 20 s) until some process holds the lock on `path`.
fn wait_until_locked(path: &std::path::Path) {
    use std::os::fd::AsRawFd;
    for _ in 0..400 {
        if let Ok(f) = fs::File::open(path) {
            // SAFETY: flock on a descriptor this function owns.
            let free = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
            if !free {
                return;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("{} was never locked", path.display());
}

#[test]
fn a_key_block_written_across_two_runs_is_found_whole() {
    let mut rng = Rng::new(0x9e3);
    let key = tokens::pem(&mut rng, "RSA PRIVATE KEY", "\n");
    let half = key.len() / 2;
    let cut = key[..half].rfind('\n').expect("a line break") + 1;
    let env = Env::new();
    // The first run sees the BEGIN line and half the body, no END line.
    env.write("app.log", format!("{CLEAN}{}", &key[..cut]));
    let run = cron(&env, &["app.log"]);
    run.check_eq(run.findings().len(), 0, "half a key");
    append(&env, "app.log", &format!("{}\n{CLEAN}", &key[cut..]));
    let run = cron(&env, &["app.log"]);
    let got: Vec<(String, Option<u64>)> = run
        .findings()
        .into_iter()
        .map(|f| (f.rule, f.line))
        .collect();
    run.check_eq(
        got,
        vec![("private-key-pem".into(), Some(2))],
        "the whole key",
    );
    run.expect_code(1);
}

/// Issue 16 item 10: the lock file is never reached through a symbolic
/// link, a state directory others can write is refused (unless sticky),
/// and another user's state or lock file is refused.
#[test]
fn issue_16_state_and_lock_files_cannot_be_planted() {
    use std::os::unix::fs::{chown, symlink, PermissionsExt};
    let mode = |p: &std::path::Path, m: u32| {
        fs::set_permissions(p, fs::Permissions::from_mode(m)).expect("chmod")
    };
    let t = tokens(1);
    let env = Env::new();
    env.write("app.log", line(&t[0]));
    let scan = |state: &str| {
        env.run(&[
            "scan", "-q", "--format", "jsonl", "--state", state, "app.log",
        ])
    };

    // A planted lock symlink: refused, its target not created.
    let private = env.mkdir("private");
    mode(&private, 0o700);
    let target = env.path("nologin");
    symlink(&target, env.path("private/st.lock")).expect("symlink");
    let run = scan("private/st");
    run.expect_stderr_line(&["private/st: cannot open its lock file: is a symbolic link"]);
    run.check(!target.exists(), "the link's target was not created");
    run.check_eq(run.stdout(), String::new(), "not scanned");
    run.expect_code(2);
    fs::remove_file(env.path("private/st.lock")).expect("rm");

    // A directory anyone can write.
    let open = env.mkdir("open");
    mode(&open, 0o777);
    let run = scan("open/st");
    run.expect_stderr_line(&["open/st: its directory", "writable by other users"]);
    run.expect_code(2);
    run.check(
        !env.path("open/st.lock").exists(),
        "no lock file made there",
    );

    // Sticky (like /tmp): allowed while the files are the user's ...
    let sticky = env.mkdir("sticky");
    mode(&sticky, 0o1777);
    let run = scan("sticky/st");
    run.check_eq(
        run.findings().len(),
        1,
        "scanned with a state in a sticky dir",
    );
    run.expect_code(1);
    // ... refused once one is another user's (the tests run as root).
    let me =
        std::os::unix::fs::MetadataExt::uid(&fs::metadata(env.path("sticky/st")).expect("state"));
    chown(env.path("sticky/st.lock"), Some(65534), Some(65534)).expect("chown (run as root)");
    let run = scan("sticky/st");
    run.expect_stderr_line(&["sticky/st: its lock file is owned by uid 65534"]);
    run.expect_code(2);
    chown(env.path("sticky/st.lock"), Some(me), None).expect("chown back");
    chown(env.path("sticky/st"), Some(65534), Some(65534)).expect("chown");
    let run = scan("sticky/st");
    run.expect_stderr_line(&["sticky/st: cannot read it: is owned by uid 65534"]);
    run.expect_code(2);
}

/// Issue 16 item 11: a file rewritten in place, with the same first 4 KiB
/// and at least the same size, is read again from its start: the bytes
/// before the last resume point are hashed too. Small (read) and large
/// (mapped) files alike.
#[test]
fn issue_16_a_file_rewritten_in_place_is_read_again() {
    use std::io::{Seek, SeekFrom};
    let t = tokens(4);
    for (name, clean) in [("small.log", 500), ("big.log", 4000)] {
        let env = Env::new();
        let before = CLEAN.repeat(100);
        let text = format!("{before}{}{}", line(&t[0]), CLEAN.repeat(clean));
        env.write(name, &text);
        let run = cron(&env, &[name]);
        run.check_eq(found(&run, &t), vec![(name.into(), 101, 0)], "first run");
        // Rewritten in place by a job that writes the same header: same
        // inode, same first 4 KiB, same size, new lines after the header.
        let later = CLEAN.replace("12:00:01", "13:30:00");
        let mut f = OpenOptions::new()
            .write(true)
            .open(env.path(name))
            .expect("open");
        f.seek(SeekFrom::Start(before.len() as u64)).expect("seek");
        f.write_all(format!("{}{}", line(&t[1]), later.repeat(clean)).as_bytes())
            .expect("rewrite");
        drop(f);
        let run = cron(&env, &[name]);
        run.check_eq(
            found(&run, &t),
            vec![(name.into(), 101, 1)],
            "the rewritten line",
        );
        run.expect_code(1);
        // Appending only still resumes: nothing old again, the new found.
        append(&env, name, &line(&t[2]));
        let run = cron(&env, &[name]);
        run.check_eq(
            found(&run, &t),
            vec![(name.into(), 102 + clean as u64, 2)],
            "appended line",
        );
    }
}
