//! Hostile-input bench: inputs built to make a scanner slow or fat, each
//! timed with its peak RSS beside `cat` of the same bytes.
//!
//! `cargo bench --bench hostile` (1 GiB line, 256 MiB runs), or smaller:
//! `LEAKSWEEP_HOSTILE_BYTES=100000000 cargo bench --bench hostile`.
//!
//! Environment:
//! - `LEAKSWEEP_HOSTILE_BYTES` size of the long line and of the byte runs
//!   (default 1 GiB); each keyword run is a quarter of it
//! - `LEAKSWEEP_HOSTILE_RUNS` timed runs per command (default 3)
//!
//! Inputs (made once into `target/bench-hostile/<bytes>/`):
//! - `line.log`: one line of pseudo-random hex without a newline, one
//!   GitHub token in its middle; scanned mapped, through a pipe on stdin,
//!   and gzip-compressed (`line.log.gz`);
//! - `a.log`, `A.log`: one byte repeated (every position a Teddy
//!   candidate);
//! - keyword runs: `ghp_`, `eyJ`, `token=`, `Bearer `, `@`, a PEM header;
//! - `bomb.zst`: one log line repeated to 4 × the size, zstd-compressed
//!   (stopped by `--max-ratio`);
//! - `dense.log`: a quarter of the size in access-log lines, each with its
//!   own GitHub token: a finding per line (2.6 M at 1 GiB), which a mapped
//!   scan hands on chunk by chunk instead of holding;
//! - `string.har` (and gzip-compressed, `string.har.gz`): a HAR whose one
//!   response body is a quarter of the size, escaped JSON with a token in
//!   its middle (beyond `--max-har-string`, scanned in place in the file).
//!
//! Each leaksweep run must exit as the table says (1 with the one token
//! for the line, 0 for the runs, 2 for the bomb); otherwise exit status 1.

mod child;

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use child::{env_u64, Measure};

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("hostile bench: run with `cargo bench --bench hostile`");
        return;
    }
    match run() {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("hostile bench: {e}");
            std::process::exit(2);
        }
    }
}

/// One input: its file, how leaksweep reads it, and the exit it must give.
struct Case {
    label: &'static str,
    file: PathBuf,
    how: How,
    exit: i32,
}

enum How {
    /// `leaksweep scan FILE` (mapped when plain).
    File,
    /// `cat FILE | leaksweep scan -`.
    Pipe,
}

/// A file of `n` bytes of `unit` repeated.
fn write_run(path: &Path, unit: &[u8], n: u64) -> io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    write_run_to(&mut out, unit, n)?;
    out.flush()
}

/// `n` bytes of `unit` repeated, written in 1 MiB pieces.
fn write_run_to(out: &mut impl Write, unit: &[u8], n: u64) -> io::Result<()> {
    let piece = unit.repeat((1 << 20) / unit.len().max(1));
    let mut left = n;
    while left > 0 {
        let take = left.min(piece.len() as u64) as usize;
        out.write_all(&piece[..take])?;
        left -= take as u64;
    }
    Ok(())
}

/// A xorshift generator: the same pseudo-random bytes on every machine.
fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

/// One line of `n` pseudo-random hex digits with `token=<ghp_…>` in its
/// middle. Returns the token.
fn write_line(path: &Path, n: u64) -> io::Result<String> {
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
    const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let random: String = (0..30)
        .map(|_| char::from(ALNUM[(next() % 62) as usize]))
        .collect();
    let check = leaksweep::validate::checksum::github_checksum(random.as_bytes());
    let token = format!("ghp_{random}{check}");
    let mut out = BufWriter::new(File::create(path)?);
    let mut hex = |out: &mut BufWriter<File>, mut left: u64| -> io::Result<()> {
        let mut buf = vec![0u8; 1 << 20];
        while left > 0 {
            for b in buf.iter_mut() {
                *b = b"0123456789abcdef"[(next() >> 60) as usize];
            }
            let take = left.min(buf.len() as u64) as usize;
            out.write_all(&buf[..take])?;
            left -= take as u64;
        }
        Ok(())
    };
    let half = n / 2;
    hex(&mut out, half)?;
    write!(out, " token={token} ")?;
    hex(&mut out, n.saturating_sub(half))?;
    out.flush()?;
    Ok(token)
}

/// About `n` bytes of access-log lines, each with its own GitHub token (a
/// finding per line: millions of them in one mapped file).
fn write_dense(path: &Path, n: u64) -> io::Result<u64> {
    let mut next = xorshift(0x2545_f491_4f6c_dd1d);
    const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = BufWriter::new(File::create(path)?);
    let (mut written, mut lines) = (0u64, 0u64);
    while written < n {
        let random: String = (0..30)
            .map(|_| char::from(ALNUM[(next() % 62) as usize]))
            .collect();
        let check = leaksweep::validate::checksum::github_checksum(random.as_bytes());
        let line = format!(
            "10.0.0.7 - - [01/May/2024:12:00:00 +0000] \"GET /api?access_token=ghp_{random}{check} HTTP/1.1\" 200 17\n"
        );
        out.write_all(line.as_bytes())?;
        written += line.len() as u64;
        lines += 1;
    }
    out.flush()?;
    Ok(lines)
}

/// A HAR whose one response body is a JSON string of about `n` bytes of
/// escaped JSON log lines (an escape every few bytes), a GitHub token in
/// its middle: decoded whole, with its map back to the file, it would take
/// several times its size.
fn write_har_string(path: &Path, n: u64) -> io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    out.write_all(
        br#"{"log":{"version":"1.2","entries":[{"request":{"method":"GET","url":"https://app.example.com/logs","headers":[]},"response":{"status":200,"headers":[],"content":{"mimeType":"application/json","text":""#,
    )?;
    let unit = br#"{\"level\":\"info\",\"msg\":\"request ok\",\"n\":1}\n"#;
    // Whole units: one cut after its backslash would escape the quote.
    let half = n / 2 / unit.len() as u64 * unit.len() as u64;
    write_run_to(&mut out, unit, half)?;
    let random = "Hx7Lq2Vw9Rk4Tn8Bz3Md6Fj1Pc5Gs0";
    let check = leaksweep::validate::checksum::github_checksum(random.as_bytes());
    write!(out, r#"{{\"token\":\"ghp_{random}{check}\"}}\n"#)?;
    write_run_to(&mut out, unit, half)?;
    out.write_all(br#""}}}]}}"#)?;
    out.flush()
}

/// Runs `program args`, stdin from `stdin` (or nothing), output to null.
fn measure(program: &str, args: &[&str], stdin: Option<&Path>) -> io::Result<Measure> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .stdin(match stdin {
            Some(p) => Stdio::from(File::open(p)?),
            None => Stdio::null(),
        });
    child::measure(&mut cmd)
}

fn run() -> io::Result<i32> {
    let bytes = env_u64("LEAKSWEEP_HOSTILE_BYTES", 1 << 30)?.max(1 << 20);
    let runs = env_u64("LEAKSWEEP_HOSTILE_RUNS", 3)?.max(1);
    let root = child::target_dir()
        .join("bench-hostile")
        .join(bytes.to_string());
    let done = root.join("done");
    let quarter = bytes / 4;
    let keyword_runs: [(&str, &str); 6] = [
        ("ghp.log", "ghp_"),
        ("eyj.log", "eyJ"),
        ("token.log", "token="),
        ("bearer.log", "Bearer "),
        ("at.log", "@"),
        ("pem.log", "-----BEGIN PRIVATE KEY-----"),
    ];
    if !done.exists() {
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root)?;
        println!("making the inputs in {} …", root.display());
        write_line(&root.join("line.log"), bytes)?;
        let mut gz = flate2::write::GzEncoder::new(
            File::create(root.join("line.log.gz"))?,
            flate2::Compression::fast(),
        );
        io::copy(&mut File::open(root.join("line.log"))?, &mut gz)?;
        gz.finish()?.flush()?;
        write_run(&root.join("a.log"), b"a", bytes)?;
        write_run(&root.join("A.log"), b"A", bytes)?;
        for (name, unit) in keyword_runs {
            write_run(&root.join(name), unit.as_bytes(), quarter)?;
        }
        // 4 × the size of one log line repeated, zstd-compressed (about
        // 10,000:1; zeros would be skipped as binary at once).
        let mut zst = zstd::stream::Encoder::new(File::create(root.join("bomb.zst"))?, 3)?;
        write_run_to(
            &mut zst,
            b"2024-05-01T12:00:00Z INFO health check ok\n",
            4 * bytes,
        )?;
        zst.finish()?.flush()?;
        File::create(&done)?;
    }
    // (Made apart: input directories from before it lack it.)
    if !root.join("dense.log").exists() {
        write_dense(&root.join("dense.log"), quarter)?;
    }
    if !root.join("string.har.gz").exists() {
        write_har_string(&root.join("string.har"), quarter)?;
        let mut gz = flate2::write::GzEncoder::new(
            File::create(root.join("string.har.gz.part"))?,
            flate2::Compression::fast(),
        );
        io::copy(&mut File::open(root.join("string.har"))?, &mut gz)?;
        gz.finish()?.flush()?;
        fs::rename(root.join("string.har.gz.part"), root.join("string.har.gz"))?;
    }
    let bin = child::release_binary()?;
    let bin = bin.to_string_lossy().into_owned();

    let mut cases = vec![
        Case {
            label: "1 line, mapped",
            file: root.join("line.log"),
            how: How::File,
            exit: 1,
        },
        Case {
            label: "1 line, stdin pipe",
            file: root.join("line.log"),
            how: How::Pipe,
            exit: 1,
        },
        Case {
            label: "1 line, gzip",
            file: root.join("line.log.gz"),
            how: How::File,
            exit: 1,
        },
        Case {
            label: "a run",
            file: root.join("a.log"),
            how: How::File,
            exit: 0,
        },
        Case {
            label: "A run",
            file: root.join("A.log"),
            how: How::File,
            exit: 0,
        },
    ];
    for (name, _) in keyword_runs {
        cases.push(Case {
            label: name.trim_end_matches(".log"),
            file: root.join(name),
            how: How::File,
            exit: 0,
        });
    }
    cases.push(Case {
        label: "dense findings",
        file: root.join("dense.log"),
        how: How::File,
        exit: 1,
    });
    cases.push(Case {
        label: "HAR huge string",
        file: root.join("string.har"),
        how: How::File,
        exit: 1,
    });
    cases.push(Case {
        label: "HAR string, gzip",
        file: root.join("string.har.gz"),
        how: How::File,
        exit: 1,
    });
    cases.push(Case {
        label: "zstd bomb",
        file: root.join("bomb.zst"),
        how: How::File,
        // The ratio counts once an input has decoded 1 GiB: a smaller
        // bomb (LEAKSWEEP_HOSTILE_BYTES under 256 MiB) is read whole.
        exit: if 4 * bytes > 1 << 30 { 2 } else { 0 },
    });

    println!(
        "{runs} runs each, page cache warm; MB/s of the bytes leaksweep reads (decoded for gzip); best wall time"
    );
    println!(
        "{:<20} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>5}",
        "input", "MB", "cat s", "scan s", "median s", "MB/s", "RSS MiB", "exit"
    );
    let mut code = 0;
    for case in &cases {
        let file = case.file.to_string_lossy().into_owned();
        let decoded = match case.file.extension().and_then(|e| e.to_str()) {
            Some("zst") => 4 * bytes,
            Some("gz") => fs::metadata(case.file.with_extension(""))?.len(),
            _ => fs::metadata(&case.file)?.len(),
        };
        // Warm the cache, then time cat alone.
        measure("cat", &[&file], None)?;
        let cat = measure("cat", &[&file], None)?;
        let mut walls = Vec::new();
        let mut rss = 0;
        let mut exits = Vec::new();
        for _ in 0..runs {
            let m = match case.how {
                How::File => measure(&bin, &["scan", "-q", "--format", "jsonl", &file], None)?,
                How::Pipe => {
                    let line = format!("cat '{file}' | '{bin}' scan -q --format jsonl -");
                    measure("sh", &["-c", &line], None)?
                }
            };
            walls.push(m.wall.as_secs_f64());
            rss = rss.max(m.maxrss_kib);
            exits.push(m.exit);
        }
        walls.sort_by(f64::total_cmp);
        let wrong = exits.iter().any(|&e| e != case.exit);
        if wrong {
            code = 1;
        }
        println!(
            "{:<20} {:>10.1} {:>9.3} {:>9.3} {:>9.3} {:>9} {:>9.1} {:>5}{}",
            case.label,
            decoded as f64 / 1e6,
            cat.wall.as_secs_f64(),
            walls[0],
            walls[walls.len() / 2],
            // The bomb is stopped early: no rate.
            if case.exit == 2 {
                "-".to_string()
            } else {
                format!("{:.0}", decoded as f64 / 1e6 / walls[0])
            },
            rss as f64 / 1024.0,
            exits[0],
            if wrong {
                format!("  (want {})", case.exit)
            } else {
                String::new()
            }
        );
    }
    Ok(code)
}
