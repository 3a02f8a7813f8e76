//! Object storage and shard bench (issue 20): the same generated corpus
//! (see `benches/corpus/mod.rs`) scanned from disk and from a local S3
//! server (moto, started on 127.0.0.1), beside `cat` of the files and a
//! fetch of the objects in the same ranges (what the server serves); then
//! the disk scan split into N = 1 and 2 shards run side by side.
//!
//! `cargo bench --bench objects` (needs `pip install 'moto[server]'`).
//!
//! Environment:
//! - `LEAKSWEEP_OBJECTS_BYTES` corpus size (default 300_000_000; `_` allowed)
//! - `LEAKSWEEP_BENCH_RUNS` timed runs per command (default 3; best and
//!   median are printed)
//!
//! Exit status: 0 when the object scan reports exactly the disk scan's
//! findings, 1 otherwise, 2 on a setup error.

// Only the environment knobs and target directory of the shared helpers.
#[allow(dead_code)]
mod child;
mod corpus;
// The bench uses only part of the test's helper.
#[allow(dead_code)]
#[path = "../tests/support/moto.rs"]
mod moto;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use corpus::{Manifest, Plan};
use moto::Moto;

const BIN: &str = env!("CARGO_BIN_EXE_leaksweep");
const BUCKET: &str = "bench";

fn main() {
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
    let url = format!("s3://{BUCKET}/");

    let mut cat = Command::new("cat");
    cat.args(&files);
    // What the server serves for the same access pattern, nothing
    // scanned: every object in leaksweep's 8 MiB ranges, 8 at a time (two
    // workers with four in flight each), by boto3 in threads.
    let mut get = Command::new("python3");
    get.arg("-c").arg(FETCH).arg(moto.endpoint()).arg(BUCKET);
    let rows: Vec<(&str, Vec<Command>)> = vec![
        ("cat (disk)", vec![cat]),
        (
            "GET of every object in 8 MiB ranges, 8 in flight (moto)",
            vec![get],
        ),
        (
            "leaksweep -j 2, disk",
            vec![scan(&moto, &["-j", "2"], &logs)],
        ),
        (
            "leaksweep -j 2, s3:// (moto)",
            vec![scan(&moto, &["-j", "2"], Path::new(&url))],
        ),
        (
            "leaksweep -j 1, disk (N = 1)",
            vec![scan(&moto, &["-j", "1"], &logs)],
        ),
        (
            "2 shards -j 1 side by side, disk (N = 2)",
            (0..2)
                .map(|i| scan(&moto, &["-j", "1", "--shard", &format!("{i}/2")], &logs))
                .collect(),
        ),
    ];
    println!("\n| command | best | median | MB/s (best) |\n|---|---|---|---|");
    for (name, mut group) in rows {
        let mut times = Vec::new();
        for _ in 0..runs {
            times.push(time_together(&mut group)?);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "| {name} | {:.2} s | {:.2} s | {:.0} |",
            times[0],
            times[times.len() / 2],
            mb / times[0]
        );
    }

    let findings = |target: &Path| -> io::Result<Vec<String>> {
        let out = scan(&moto, &["-j", "2"], target).output()?;
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
    let (disk, objects) = (findings(&logs)?, findings(Path::new(&url))?);
    println!("\nfindings: disk {}, s3 {}", disk.len(), objects.len());
    if disk != objects || disk.is_empty() {
        println!("MISMATCH: the object scan's findings differ from the disk scan's");
        return Ok(1);
    }
    Ok(0)
}

/// `leaksweep scan --format jsonl -q EXTRA TARGET`, configured for moto.
fn scan(moto: &Moto, extra: &[&str], target: &Path) -> Command {
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
    moto.configure(&mut cmd);
    cmd
}

/// Wall time of the commands started together, until the last ends.
fn time_together(group: &mut [Command]) -> io::Result<f64> {
    let t = Instant::now();
    let children: Vec<Child> = group
        .iter_mut()
        .map(|c| c.stdout(Stdio::null()).stderr(Stdio::null()).spawn())
        .collect::<io::Result<_>>()?;
    for mut c in children {
        c.wait()?;
    }
    Ok(t.elapsed().as_secs_f64())
}

/// Fetches every object of a bucket in 8 MiB ranges, 8 at a time.
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
