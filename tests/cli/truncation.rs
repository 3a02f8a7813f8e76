//! A log rotated with `copytruncate` shrinks while it is being scanned. The
//! mapped pages past the new end would raise SIGBUS; leaksweep must never
//! be killed by it: it exits normally, 1 or 2, and when it notices the
//! truncation (stderr says the file "shrank") the scan is incomplete: exit
//! 2, and past the new end lies only what was read before the cut (the
//! zeros the mapping reads after it find nothing); the secret before the
//! cut is always reported.

use std::fs::{self, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::families::SEED;
use crate::tokens;
use crate::util::{clean_lines, sha256_hex, Env, Finding};

const SIZE: usize = 200 << 20;
/// What the file is truncated to: the first secret survives.
const KEEP: u64 = 4096;

pub fn write_big(path: &Path) {
    let start = tokens::family(SEED, "github_pat_classic");
    let end = tokens::family(SEED, "aws_access_key_id");
    let block = clean_lines(0, 12_000);
    let mut w = BufWriter::with_capacity(1 << 20, fs::File::create(path).expect("create"));
    let mut n = 0;
    let mut put = |w: &mut BufWriter<fs::File>, s: &str| {
        w.write_all(s.as_bytes()).expect("write");
        n += s.len();
        n
    };
    put(&mut w, &clean_lines(0, 3));
    put(&mut w, &start.text);
    while put(&mut w, &block) < SIZE - 2 * block.len() {}
    put(&mut w, &end.text);
    put(&mut w, &clean_lines(1, 3));
    w.flush().expect("flush");
}

#[test]
fn truncating_the_file_mid_scan_never_kills_the_process() {
    let env = Env::new();
    let orig = env.path("orig.log");
    write_big(&orig);
    let target = env.path("app.log");
    let mut seen_shrank = false;
    for delay_ms in [0u64, 60] {
        fs::copy(&orig, &target).expect("copy");
        let what = format!("truncated {delay_ms} ms after the file was mapped");
        let mut run = env.run_while(
            &["scan", "--format", "jsonl", "-j", "2", "app.log"],
            |pid| {
                // Start-up (compiling the rules) takes a while in a debug build:
                // wait until the file is mapped, then let the scan run a little.
                wait_until_mapped(pid, &target);
                std::thread::sleep(Duration::from_millis(delay_ms));
                OpenOptions::new()
                    .write(true)
                    .open(&target)
                    .and_then(|f| f.set_len(KEEP))
                    .expect("truncate");
            },
        );
        run.cmd = format!("{} ({what})", run.cmd);
        run.check(
            run.status.signal().is_none() && run.code().is_some(),
            format!("{what}: the process must exit normally, not by a signal"),
        );
        run.check(
            matches!(run.code(), Some(1 | 2)),
            format!("{what}: exit 1 or 2"),
        );
        let found: Vec<Finding> = run.findings();
        let first = tokens::family(SEED, "github_pat_classic");
        run.check(
            found
                .iter()
                .any(|f| f.fingerprint == sha256_hex(&first.secret)),
            format!("{what}: the secret before the cut is reported"),
        );
        if run.stderr.contains("shrank") {
            seen_shrank = true;
            run.expect_stderr_line(&["leaksweep: app.log: ", "shrank"]);
            run.expect_code(2);
            // Past the new end, only what was read before the cut: the
            // last secret, when the scan had passed it by then (findings
            // are handed on chunk by chunk), never anything from the zeros.
            let last = sha256_hex(&tokens::family(SEED, "aws_access_key_id").secret);
            run.check(
                found
                    .iter()
                    .all(|f| f.offset.is_some_and(|o| o < KEEP) || f.fingerprint == last),
                format!(
                    "{what}: past the new end ({KEEP} bytes) only the secret read before the cut"
                ),
            );
        }
        eprintln!(
            "{what}: exit {:?}, {} findings, shrank reported: {}",
            run.code(),
            found.len(),
            run.stderr.contains("shrank")
        );
    }
    // At least one of the delays must land mid-scan, or the test tested
    // nothing: a 200 MB scan takes a few hundred milliseconds even with
    // optimized dependencies, seconds in a debug build.
    assert!(
        seen_shrank,
        "no run noticed the truncation: make the file bigger"
    );
}

/// Waits (up to 30 s) until process `pid` has `path` memory-mapped, or has
/// exited.
pub fn wait_until_mapped(pid: u32, path: &Path) {
    let maps = format!("/proc/{pid}/maps");
    let stat = format!("/proc/{pid}/stat");
    let path = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let name = path.to_string_lossy().into_owned();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        let exited = fs::read_to_string(&stat)
            .map(|s| {
                s.rsplit(')')
                    .next()
                    .is_some_and(|r| r.trim_start().starts_with('Z'))
            })
            .unwrap_or(true);
        match fs::read_to_string(&maps) {
            Ok(text) if text.contains(&name) => return,
            _ if exited => return,
            _ => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}
