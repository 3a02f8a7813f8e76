//! Redact bench: `leaksweep redact` against `leaksweep scan` and `cat` of
//! the same files into a file (read and write, nothing else), on the
//! throughput bench's log corpus, plain and gzip-compressed.
//!
//! `cargo bench --bench redact` (300 MB corpus), or
//! `LEAKSWEEP_REDACT_BYTES=1100000000 cargo bench --bench redact`.
//!
//! Environment:
//! - `LEAKSWEEP_REDACT_BYTES` corpus size (default 300_000_000; `_` allowed)
//! - `LEAKSWEEP_REDACT_RUNS` timed runs per command (default 3)
//!
//! Prints best and median wall time, MB/s of (decompressed) log bytes and
//! peak RSS per command (leaksweep with its default thread count, one per
//! CPU); then checks that a scan of each redacted copy finds nothing. Exit
//! status 1 when that check fails or a command fails.

mod child;
mod corpus;

use child::{env_u64, Measure};

use std::fs::{self, File};
use std::io::{self, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Runs `program args` once, stdout and stderr beside `log`.
fn measure(program: &Path, args: &[String], log: &Path) -> io::Result<Measure> {
    child::measure(
        Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(File::create(log.with_extension("out"))?)
            .stderr(File::create(log.with_extension("err"))?),
    )
}

fn main() {
    match run() {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("redact bench: {e}");
            std::process::exit(2);
        }
    }
}

fn run() -> io::Result<i32> {
    let bytes = env_u64("LEAKSWEEP_REDACT_BYTES", 300_000_000)?;
    let runs = env_u64("LEAKSWEEP_REDACT_RUNS", 3)?.max(1);
    let root = child::target_dir()
        .join("bench-redact")
        .join(bytes.to_string());
    let logs = root.join("logs");
    let gz = root.join("gzip");
    let done = root.join("planted.txt");
    let planted: u64 = match fs::read_to_string(&done) {
        Ok(n) => n.trim().parse().map_err(io::Error::other)?,
        Err(_) => {
            let _ = fs::remove_dir_all(&root);
            let m = corpus::generate(&logs, &corpus::Plan::new(bytes, 1))?;
            for f in &m.files {
                let to = gz.join(format!("{}.gz", f.path));
                fs::create_dir_all(to.parent().unwrap_or(&gz))?;
                let mut enc = flate2::write::GzEncoder::new(
                    File::create(&to)?,
                    flate2::Compression::default(),
                );
                io::copy(
                    &mut BufReader::new(File::open(logs.join(&f.path))?),
                    &mut enc,
                )?;
                enc.finish()?.flush()?;
            }
            fs::write(&done, m.secrets.len().to_string())?;
            m.secrets.len() as u64
        }
    };
    let bin = child::release_binary()?;
    let out = root.join("out");
    let total: u64 = corpus_bytes(&logs)?;
    println!(
        "corpus: {:.1} MB of logs, {planted} planted secrets; gzip copy {:.1} MB; {runs} runs each",
        total as f64 / 1e6,
        corpus_bytes(&gz)? as f64 / 1e6
    );
    let s = |v: &[&Path]| {
        v.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
    };
    let commands: Vec<(&str, PathBuf, Vec<String>, Option<PathBuf>)> = vec![
        ("cat > file (plain)", "cat".into(), files(&logs)?, None),
        (
            "leaksweep scan (plain)",
            bin.clone(),
            [
                s(&[
                    Path::new("scan"),
                    Path::new("-q"),
                    Path::new("--format"),
                    Path::new("jsonl"),
                ]),
                s(&[&logs]),
            ]
            .concat(),
            None,
        ),
        (
            "leaksweep redact (plain)",
            bin.clone(),
            [
                s(&[Path::new("redact"), Path::new("-q"), &logs, Path::new("-o")]),
                s(&[&out.join("plain")]),
            ]
            .concat(),
            Some(out.join("plain")),
        ),
        (
            "leaksweep scan (gzip)",
            bin.clone(),
            [
                s(&[
                    Path::new("scan"),
                    Path::new("-q"),
                    Path::new("--format"),
                    Path::new("jsonl"),
                ]),
                s(&[&gz]),
            ]
            .concat(),
            None,
        ),
        (
            "leaksweep redact (gzip)",
            bin.clone(),
            [
                s(&[Path::new("redact"), Path::new("-q"), &gz, Path::new("-o")]),
                s(&[&out.join("gzip")]),
            ]
            .concat(),
            Some(out.join("gzip")),
        ),
    ];
    // Warm the page cache.
    for dir in [&logs, &gz] {
        measure(Path::new("cat"), &files(dir)?, &root.join("warm"))?;
    }
    println!(
        "{:<30} {:>9} {:>9} {:>9} {:>9}",
        "command", "best s", "median s", "MB/s", "RSS MiB"
    );
    let mut code = 0;
    for (label, program, args, output) in &commands {
        let mut walls = Vec::new();
        let mut rss = 0;
        for _ in 0..runs {
            if let Some(o) = output {
                let _ = fs::remove_dir_all(o);
            }
            let m = measure(program, args, &root.join(label.replace(' ', "_")))?;
            if m.exit > 1 {
                eprintln!("{label}: exit {}", m.exit);
                code = 1;
            }
            walls.push(m.wall.as_secs_f64());
            rss = rss.max(m.maxrss_kib);
        }
        walls.sort_by(f64::total_cmp);
        println!(
            "{:<30} {:>9.3} {:>9.3} {:>9.0} {:>9.1}",
            label,
            walls[0],
            walls[walls.len() / 2],
            total as f64 / 1e6 / walls[0],
            rss as f64 / 1024.0
        );
    }
    // Each redacted copy: nothing left to find.
    for kind in ["plain", "gzip"] {
        let dir = out.join(kind);
        let m = measure(
            &bin,
            &s(&[
                Path::new("scan"),
                Path::new("-q"),
                Path::new("--format"),
                Path::new("jsonl"),
                &dir,
            ]),
            &root.join("check"),
        )?;
        let left = fs::read_to_string(root.join("check.out"))?.lines().count();
        println!(
            "  scan of the {kind} copy: {left} findings (exit {})",
            m.exit
        );
        if left != 0 || m.exit != 0 {
            code = 1;
        }
    }
    Ok(code)
}

fn files(dir: &Path) -> io::Result<Vec<String>> {
    let mut out = Vec::new();
    for e in walk(dir)? {
        out.push(e.display().to_string());
    }
    Ok(out)
}

fn walk(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            out.extend(walk(&p)?);
        } else {
            out.push(p);
        }
    }
    Ok(out)
}

fn corpus_bytes(dir: &Path) -> io::Result<u64> {
    walk(dir)?
        .iter()
        .map(|p| fs::metadata(p).map(|m| m.len()))
        .sum()
}
