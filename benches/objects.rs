//! Object storage and shard bench (issue 20): the same generated corpus
//! (see `benches/corpus/mod.rs`) scanned from disk and from two local S3
//! servers started on 127.0.0.1, beside `cat` of the files and a fetch of
//! the objects in the same ranges (what each server serves); then the disk
//! scan split into N = 1 and 2 shards run side by side. The servers:
//! - moto (Python), which reads the whole object for each ranged GET;
//! - `benches/ranged_s3.py`, a read-only S3 endpoint over the corpus
//!   directory that sends each range with sendfile(2), at a small fraction
//!   of a core. (s3s-fs, tried too, streamed in 4 KiB reads and was no
//!   faster than moto.) It runs pinned to the second core where `taskset`
//!   can pin it, and two rows then compare `-j 1` on the first core from
//!   disk and from it.
//!
//! `cargo bench --bench objects` (needs `pip install 'moto[server]'`).
//!
//! Environment:
//! - `LEAKSWEEP_OBJECTS_BYTES` corpus size (default 300_000_000; `_` allowed)
//! - `LEAKSWEEP_BENCH_RUNS` timed runs per command (default 3; best and
//!   median are printed)
//!
//! Exit status: 0 when each object scan reports exactly the disk scan's
//! findings and every timed command exits as it should (leaksweep 1, for
//! its findings; cat and the fetches 0), 1 otherwise, 2 on a setup error.

// Only the environment knobs and target directory of the shared helpers.
#[allow(dead_code)]
mod child;
mod corpus;
// The bench uses only part of the tests' helpers.
#[allow(dead_code)]
#[path = "../tests/support/emulators.rs"]
mod emulators;
#[allow(dead_code)]
#[path = "../tests/support/moto.rs"]
mod moto;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use corpus::{Manifest, Plan};
use emulators::Server;
use moto::Moto;

const BIN: &str = env!("CARGO_BIN_EXE_leaksweep");
const BUCKET: &str = "bench";

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("objects bench: run with `cargo bench --bench objects`");
        return;
    }
    std::process::exit(match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("objects bench: {e}");
            2
        }
    });
}

fn run() -> io::Result<i32> {
    let bytes = child::env_u64("LEAKSWEEP_OBJECTS_BYTES", 300_000_000)?;
    let runs = child::env_u64("LEAKSWEEP_BENCH_RUNS", 3)?.max(1) as usize;
    let root = child::target_dir()
        .join("bench-objects")
        .join(bytes.to_string());
    let logs = root.join("logs");
    let manifest = root.join("manifest.json");
    let corpus = match Manifest::load(&manifest) {
        Ok(m) if m.generator_version == corpus::GENERATOR_VERSION => m,
        _ => {
            println!(
                "corpus: generating {:.0} MB into {}",
                bytes as f64 / 1e6,
                logs.display()
            );
            if logs.exists() {
                fs::remove_dir_all(&logs)?;
            }
            let m = corpus::generate(&logs, &Plan::new(bytes, 1))?;
            m.save(&manifest)?;
            m
        }
    };
    let files: Vec<PathBuf> = corpus.files.iter().map(|f| logs.join(&f.path)).collect();
    let mb = corpus.total_bytes as f64 / 1e6;
    println!("corpus: {} files, {mb:.1} MB", files.len());

    let moto = Moto::start()?;
    let t = Instant::now();
    moto.upload(&logs, BUCKET)?;
    println!(
        "upload to moto: {:.1} s ({:.0} MB/s)",
        t.elapsed().as_secs_f64(),
        mb / t.elapsed().as_secs_f64()
    );
    let pinned = pins();
    let ranged = ranged(&logs, pinned)?;
    let servers = vec![
        ("moto", moto.endpoint()),
        ("ranged_s3.py", ranged.endpoint()),
    ];
    let url = format!("s3://{BUCKET}/");

    let mut cat = Command::new("cat");
    cat.args(&files);
    let mut rows = vec![Row::new("cat (disk)", vec![cat], 0, false)];
    // What each server serves for the same access pattern, nothing
    // scanned: every object in leaksweep's 8 MiB ranges, 8 at a time (two
    // workers with four in flight each), by boto3 in threads and by one
    // curl (a lighter client, where it can sign requests).
    let curl = curl_signs();
    for (name, endpoint) in &servers {
        let mut get = Command::new("python3");
        get.arg("-c").arg(FETCH).arg(endpoint).arg(BUCKET);
        rows.push(Row::new(
            &format!("GET of every object in 8 MiB ranges, 8 in flight, boto3 ({name})"),
            vec![get],
            0,
            true,
        ));
        if curl {
            rows.push(Row::new(
                &format!("the same GETs, curl ({name})"),
                vec![curl_ranges(endpoint, &logs, &files)?],
                0,
                true,
            ));
        }
    }
    rows.push(Row::new(
        "leaksweep -j 2, disk",
        vec![scan(None, &["-j", "2"], &logs)],
        1,
        false,
    ));
    for (name, endpoint) in &servers {
        rows.push(Row::new(
            &format!("leaksweep -j 2, s3:// ({name})"),
            vec![scan(Some(endpoint), &["-j", "2"], Path::new(&url))],
            1,
            true,
        ));
    }
    if pinned {
        // `cmd` run by taskset on core 0, with its environment.
        let on_core0 = |cmd: Command| {
            let mut pin = Command::new("taskset");
            pin.args(["-c", "0"])
                .arg(cmd.get_program())
                .args(cmd.get_args());
            for (k, v) in cmd.get_envs() {
                if let Some(v) = v {
                    pin.env(k, v);
                }
            }
            pin
        };
        rows.push(Row::new(
            "leaksweep -j 1 on core 0, disk",
            vec![on_core0(scan(None, &["-j", "1"], &logs))],
            1,
            false,
        ));
        rows.push(Row::new(
            "leaksweep -j 1 on core 0, s3:// (ranged_s3.py on core 1)",
            vec![on_core0(scan(
                Some(&ranged.endpoint()),
                &["-j", "1"],
                Path::new(&url),
            ))],
            1,
            true,
        ));
    }
    rows.push(Row::new(
        "leaksweep -j 1, disk (N = 1)",
        vec![scan(None, &["-j", "1"], &logs)],
        1,
        false,
    ));
    rows.push(Row::new(
        "2 shards -j 1 side by side, disk (N = 2)",
        (0..2)
            .map(|i| scan(None, &["-j", "1", "--shard", &format!("{i}/2")], &logs))
            .collect(),
        1,
        false,
    ));
    // CPU: user + system time of the row's own processes, and of the S3
    // servers while it ran, in its best run (two cores here: the server
    // and the client share them).
    println!(
        "\n| command | best | median | MB/s (best) | CPU, command | CPU, server |\n\
         |---|---|---|---|---|---|"
    );
    let mut code = 0;
    for mut row in rows {
        let mut times = Vec::new();
        for _ in 0..runs {
            let (server0, cpu0) = (servers_cpu(), children_cpu());
            let (wall, exits) = time_together(&mut row.group)?;
            let (server1, cpu1) = (servers_cpu(), children_cpu());
            if let Some(bad) = exits.iter().find(|&&e| e != row.exit) {
                println!("{}: exit status {bad}, expected {}", row.name, row.exit);
                code = 1;
            }
            times.push((wall, cpu1 - cpu0, server1 - server0));
        }
        times.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (best, cpu, server) = times[0];
        let server = if row.server {
            format!("{server:.2} s")
        } else {
            "-".into()
        };
        println!(
            "| {} | {best:.2} s | {:.2} s | {:.0} | {cpu:.2} s | {server} |",
            row.name,
            times[times.len() / 2].0,
            mb / best
        );
    }

    let findings = |endpoint: Option<&str>, target: &Path| -> io::Result<Vec<String>> {
        let out = scan(endpoint, &["-j", "2"], target).output()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut lines: Vec<String> = text
            .lines()
            .map(|l| {
                l.replace(&format!("\"path\":\"{url}"), "\"path\":\"")
                    .replace(&format!("\"path\":\"{}/", logs.display()), "\"path\":\"")
            })
            .collect();
        lines.sort();
        Ok(lines)
    };
    let disk = findings(None, &logs)?;
    println!("\nfindings: disk {}", disk.len());
    if disk.is_empty() {
        code = 1;
    }
    for (name, endpoint) in &servers {
        let objects = findings(Some(endpoint), Path::new(&url))?;
        println!("findings: s3 ({name}) {}", objects.len());
        if objects != disk {
            println!("MISMATCH: the object scan's findings ({name}) differ from the disk scan's");
            code = 1;
        }
    }
    Ok(code)
}

/// `leaksweep scan --format jsonl -q EXTRA TARGET`, pointed at the S3
/// server at `endpoint` when there is one.
fn scan(endpoint: Option<&str>, extra: &[&str], target: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args([
        "scan",
        "--format",
        "jsonl",
        "-q",
        "--no-config",
        "--no-progress",
    ])
    .args(extra)
    .arg(target);
    if let Some(endpoint) = endpoint {
        // Both servers take the keys moto's helper uses.
        cmd.env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_ALLOW_HTTP", "true");
    }
    cmd
}

/// One row of the table: commands started together, the exit status each
/// must give, and whether an S3 server serves them.
struct Row {
    name: String,
    group: Vec<Command>,
    exit: i32,
    server: bool,
}

impl Row {
    fn new(name: &str, group: Vec<Command>, exit: i32, server: bool) -> Row {
        Row {
            name: name.into(),
            group,
            exit,
            server,
        }
    }
}

/// Wall time of the commands started together, until the last ends, and
/// their exit statuses (-1 when killed by a signal).
fn time_together(group: &mut [Command]) -> io::Result<(f64, Vec<i32>)> {
    let t = Instant::now();
    let children: Vec<Child> = group
        .iter_mut()
        .map(|c| c.stdout(Stdio::null()).stderr(Stdio::null()).spawn())
        .collect::<io::Result<_>>()?;
    let mut exits = Vec::new();
    for mut c in children {
        exits.push(c.wait()?.code().unwrap_or(-1));
    }
    Ok((t.elapsed().as_secs_f64(), exits))
}

/// User + system seconds of this process's children that have been waited
/// for.
fn children_cpu() -> f64 {
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a local.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(ru.ru_utime) + secs(ru.ru_stime)
}

/// User + system seconds so far of this process's running children: between
/// rows, only the S3 servers (from `/proc/PID/stat`).
fn servers_cpu() -> f64 {
    let me = std::process::id().to_string();
    // SAFETY: sysconf has no preconditions.
    let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let mut ticks = 0;
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // The fields after the command name, from the third (state): the
        // parent's pid is the fourth, utime and stime the 14th and 15th.
        let Some((_, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let f: Vec<&str> = rest.split(' ').collect();
        if f.len() > 12 && f[1] == me {
            ticks += f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0);
        }
    }
    ticks as f64 / tick
}

/// Whether curl can sign S3 requests (`--aws-sigv4`, curl 7.75).
fn curl_signs() -> bool {
    Command::new("curl")
        .args(["--help", "all"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("--aws-sigv4"))
}

/// One curl fetching every object of `files` (keyed by their path below
/// `dir`) in 8 MiB ranges, 8 at a time, signed.
fn curl_ranges(endpoint: &str, dir: &Path, files: &[PathBuf]) -> io::Result<Command> {
    const RANGE: u64 = 8 << 20;
    let mut cmd = Command::new("curl");
    cmd.args(["--parallel", "--parallel-max", "8"]);
    let mut first = true;
    for file in files {
        let key = file.strip_prefix(dir).map_err(io::Error::other)?;
        let size = fs::metadata(file)?.len();
        for start in (0..size).step_by(RANGE as usize) {
            if !first {
                cmd.arg("--next");
            }
            first = false;
            cmd.args(["-s", "-f", "-o", "/dev/null"])
                .args(["--aws-sigv4", "aws:amz:us-east-1:s3"])
                .args(["--user", "testing:testing"])
                .args(["-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"])
                .args(["-r", &format!("{start}-{}", (start + RANGE).min(size) - 1)])
                .arg(format!("{endpoint}/{BUCKET}/{}", key.display()));
        }
    }
    Ok(cmd)
}

/// Whether `taskset` can pin a process to each of two cores.
fn pins() -> bool {
    Command::new("taskset")
        .args(["-c", "0,1", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

/// `benches/ranged_s3.py` on a free port of 127.0.0.1, serving `dir` as
/// the bucket [`BUCKET`] (on core 1 when `pinned`); stopped when dropped.
fn ranged(dir: &Path, pinned: bool) -> io::Result<Server> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/ranged_s3.py");
    let program = if pinned { "taskset" } else { "python3" };
    Server::start(Path::new(program), |port| {
        let mut args: Vec<String> = Vec::new();
        if pinned {
            args.extend(["-c", "1", "python3"].map(String::from));
        }
        args.push(script.to_string_lossy().into_owned());
        args.extend(["--port", &port.to_string(), "--bucket", BUCKET].map(String::from));
        args.push(dir.to_string_lossy().into_owned());
        args
    })
}

/// Fetches every object of a bucket in 8 MiB ranges, 8 at a time (boto3).
const FETCH: &str = r#"
import boto3, sys
from concurrent.futures import ThreadPoolExecutor
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
R = 8 << 20
jobs = [(o["Key"], i, min(o["Size"], i + R) - 1)
        for o in s3.list_objects_v2(Bucket=sys.argv[2])["Contents"]
        for i in range(0, o["Size"], R)]
get = lambda j: len(s3.get_object(Bucket=sys.argv[2], Key=j[0],
                                  Range="bytes=%d-%d" % (j[1], j[2]))["Body"].read())
with ThreadPoolExecutor(8) as pool:
    print(sum(pool.map(get, jobs)))
"#;
