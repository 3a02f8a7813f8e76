//! Throughput bench: leaksweep against `cat`, ripgrep and Kingfisher on one
//! generated corpus of realistic logs with planted secrets (see
//! `benches/corpus/mod.rs` and `benches/README.md`).
//!
//! `cargo bench --bench throughput` (1.1 GB corpus) or
//! `LEAKSWEEP_BENCH_BYTES=50000000 cargo bench --bench throughput` (smoke run).
//!
//! Environment:
//! - `LEAKSWEEP_BENCH_BYTES` corpus size (default 1_100_000_000; `_` allowed)
//! - `LEAKSWEEP_BENCH_SEED` corpus seed (default 1)
//! - `LEAKSWEEP_BENCH_RUNS` timed runs per command (default 3)
//! - `LEAKSWEEP_BENCH_TOOLS` comma list out of `cat,leaksweep,rg,kingfisher` (default all)
//! - `LEAKSWEEP_BENCH_INPUT` `plain` (default), `gzip` or `zstd`: scan the
//!   corpus compressed file by file (`gzip -6`, `zstd -3`, made once and
//!   reused); the baseline is then `zcat` / `zstdcat` of the same files
//! - `LEAKSWEEP_BENCH_GENERATE_ONLY=1` make (or reuse) the corpus, print its summary, stop
//! - `LEAKSWEEP_BENCH_TIMEOUT` per-run limit in seconds (default 600); a run
//!   past it is killed and that command is not repeated
//! - `LEAKSWEEP_BENCH_BASELINE` path of another leaksweep binary (a build of
//!   main) run beside this one on the same corpus, for side-by-side figures
//! - `KINGFISHER_BIN` path of the kingfisher binary (default: found on PATH)
//!
//! Exit status: 0 when every leaksweep configuration reports exactly the
//! planted lines (as high/medium findings), 1 otherwise, 2 on a setup error.

mod corpus;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use sha2::{Digest, Sha256};

use corpus::{Manifest, Plan};

/// ~30 prefixed-token regexes for the ripgrep baseline, written from the
/// format facts in TOKENS.md (the families leaksweep anchors on a literal prefix).
const TOKEN_REGEXES: &[&str] = &[
    r"(?:A3T[A-Z0-9]|AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z2-7]{16}",
    r"gh[pousr]_[A-Za-z0-9]{36}",
    r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}",
    r"glpat-[0-9A-Za-z_-]{20}",
    r"glptt-[0-9a-f]{40}",
    r"GR1348941[0-9A-Za-z_-]{20}",
    r"xox[baprs]-[0-9A-Za-z-]{10,250}",
    r"xapp-1-[A-Z0-9]+-[0-9]+-[a-f0-9]{64}",
    r"https://hooks\.slack\.com/(?:services|workflows|triggers)/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24}",
    r"(?:sk|rk)_live_[0-9A-Za-z]{24,99}",
    r"AIza[0-9A-Za-z_-]{35}",
    r"ya29\.[0-9A-Za-z_-]{20,}",
    r"GOCSPX-[0-9A-Za-z_-]{28}",
    r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}",
    r"sk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{93}AA",
    r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}",
    r"key-[0-9a-f]{32}",
    r"npm_[A-Za-z0-9]{36}",
    r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}",
    r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}",
    r"[0-9]{8,10}:AA[0-9A-Za-z_-]{33}",
    r"HRKU-AA[0-9A-Za-z_-]{58}",
    r"do[opr]_v1_[a-f0-9]{64}",
    r"hv[sbr]\.[A-Za-z0-9_-]{90,}",
    r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}",
    r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----",
    r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
    r"dapi[a-f0-9]{32}",
    r"hf_[A-Za-z]{34}",
    r"glsa_[A-Za-z0-9]{32}_[a-fA-F0-9]{8}",
    r"lin_api_[A-Za-z0-9]{40}",
    r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}",
];

const MAX_LISTED: usize = 20;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and a
    // test run must not generate a gigabyte.
    if !std::env::args().any(|a| a == "--bench") {
        println!("throughput: skipped (run it with `cargo bench --bench throughput`)");
        return;
    }
    let code = match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("throughput: error: {e}");
            2
        }
    };
    std::process::exit(code);
}

/// How the corpus files are stored for a run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Input {
    Plain,
    Gzip,
    Zstd,
}

impl Input {
    fn name(self) -> &'static str {
        match self {
            Input::Plain => "plain",
            Input::Gzip => "gzip",
            Input::Zstd => "zstd",
        }
    }
}

struct Config {
    input: Input,
    bytes: u64,
    seed: u64,
    runs: usize,
    tools: Vec<String>,
    generate_only: bool,
    /// Per-run time limit; a run past it is killed and the command not repeated.
    limit: Duration,
}

fn env_u64(name: &str, default: u64) -> io::Result<u64> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => {
            v.trim().replace('_', "").parse().map_err(|e| {
                io::Error::new(io::ErrorKind::InvalidInput, format!("{name}={v:?}: {e}"))
            })
        }
        _ => Ok(default),
    }
}

fn config() -> io::Result<Config> {
    let tools = std::env::var("LEAKSWEEP_BENCH_TOOLS")
        .unwrap_or_else(|_| "cat,leaksweep,rg,kingfisher".to_string())
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let input = match std::env::var("LEAKSWEEP_BENCH_INPUT").as_deref() {
        Err(_) | Ok("" | "plain") => Input::Plain,
        Ok("gzip") => Input::Gzip,
        Ok("zstd") => Input::Zstd,
        Ok(other) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("LEAKSWEEP_BENCH_INPUT={other:?}: use plain, gzip or zstd"),
            ))
        }
    };
    Ok(Config {
        input,
        bytes: env_u64("LEAKSWEEP_BENCH_BYTES", corpus::DEFAULT_BENCH_BYTES)?,
        seed: env_u64("LEAKSWEEP_BENCH_SEED", 1)?,
        runs: env_u64("LEAKSWEEP_BENCH_RUNS", 3)?.max(1) as usize,
        tools,
        generate_only: std::env::var("LEAKSWEEP_BENCH_GENERATE_ONLY").is_ok_and(|v| v == "1"),
        limit: Duration::from_secs(env_u64("LEAKSWEEP_BENCH_TIMEOUT", 600)?.max(1)),
    })
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => {
            let d = PathBuf::from(d);
            if d.is_absolute() {
                d
            } else {
                Path::new(env!("CARGO_MANIFEST_DIR")).join(d)
            }
        }
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
    }
}

fn run() -> io::Result<i32> {
    let cfg = config()?;
    let root = target_dir()
        .join("bench-corpus")
        .join(format!("{}-{}", cfg.seed, cfg.bytes));
    let logs = root.join("logs");
    let out_dir = root.join("out");
    let manifest_path = root.join("manifest.json");

    let manifest = load_or_generate(&cfg, &logs, &manifest_path)?;
    print_header(&cfg, &logs, &manifest)?;
    if cfg.generate_only {
        return Ok(0);
    }
    fs::create_dir_all(&out_dir)?;

    let (scanned, files) = match cfg.input {
        Input::Plain => {
            let files = manifest.files.iter().map(|f| logs.join(&f.path)).collect();
            (logs.clone(), files)
        }
        input => compress_corpus(input, &root, &logs, &manifest)?,
    };
    let warm = warm_cache(&files)?;
    println!(
        "page cache warmed: read {:.1} MB in {:.2} s",
        warm.0 as f64 / 1e6,
        warm.1.as_secs_f64()
    );
    println!();

    let tools = build_tools(&cfg, &scanned, &out_dir, &files)?;
    let outcomes = bench_tools(&tools, cfg.runs, cfg.limit)?;

    println!();
    print_table(&outcomes, manifest.total_bytes);

    let mut failed = false;
    let mut leaksweep_sets = Vec::new();
    for (tool, outcome) in tools.iter().zip(&outcomes) {
        match tool.kind {
            ToolKind::Leaksweep => {
                let (ok, set) = check_leaksweep(tool, outcome, &manifest, &logs, &scanned)?;
                failed |= !ok;
                leaksweep_sets.push((tool.label.clone(), set));
            }
            ToolKind::Ripgrep => report_ripgrep(outcome, &manifest)?,
            ToolKind::Kingfisher => report_kingfisher(outcome, &manifest, &scanned)?,
            ToolKind::Cat => {}
        }
    }
    if leaksweep_sets.len() == 2 {
        let (a, sa) = &leaksweep_sets[0];
        let (b, sb) = &leaksweep_sets[1];
        if sa == sb {
            println!("leaksweep: `{a}` and `{b}` report the same findings (path, line, column, rule, confidence)");
        } else {
            failed = true;
            println!(
                "leaksweep: MISMATCH between `{a}` ({} findings) and `{b}` ({} findings): only in first {}, only in second {}",
                sa.len(),
                sb.len(),
                sa.difference(sb).count(),
                sb.difference(sa).count()
            );
            for x in sa.difference(sb).take(MAX_LISTED) {
                println!("  only in `{a}`: {x:?}");
            }
            for x in sb.difference(sa).take(MAX_LISTED) {
                println!("  only in `{b}`: {x:?}");
            }
        }
    }
    println!();
    println!(
        "result: {}",
        if failed {
            "FAIL (leaksweep's high/medium findings differ from the planted secrets, or it failed)"
        } else {
            "ok"
        }
    );
    Ok(i32::from(failed))
}

// ---------------------------------------------------------------------------
// Corpus

fn load_or_generate(cfg: &Config, logs: &Path, manifest_path: &Path) -> io::Result<Manifest> {
    if manifest_path.exists() {
        match Manifest::load(manifest_path) {
            Ok(m)
                if m.generator_version == corpus::GENERATOR_VERSION && corpus_intact(&m, logs) =>
            {
                println!("corpus: reusing {}", logs.display());
                return Ok(m);
            }
            Ok(_) => println!("corpus: stale or incomplete, regenerating"),
            Err(e) => println!("corpus: unreadable manifest ({e}), regenerating"),
        }
        fs::remove_file(manifest_path)?;
    }
    if logs.exists() {
        fs::remove_dir_all(logs)?;
    }
    println!(
        "corpus: generating {:.1} MB (seed {}) into {} ...",
        cfg.bytes as f64 / 1e6,
        cfg.seed,
        logs.display()
    );
    let t = Instant::now();
    let m = corpus::generate(logs, &Plan::new(cfg.bytes, cfg.seed))?;
    let secs = t.elapsed().as_secs_f64();
    // The manifest is written last: its presence marks a complete corpus.
    m.save(manifest_path)?;
    println!(
        "corpus: {} files, {:.1} MB, {} lines, {} planted secrets in {:.1} s ({:.0} MB/s)",
        m.files.len(),
        m.total_bytes as f64 / 1e6,
        m.total_lines,
        m.secrets.len(),
        secs,
        m.total_bytes as f64 / 1e6 / secs
    );
    Ok(m)
}

fn corpus_intact(m: &Manifest, logs: &Path) -> bool {
    m.files.iter().all(|f| {
        fs::metadata(logs.join(&f.path))
            .map(|md| md.len() == f.bytes)
            .unwrap_or(false)
    })
}

/// The corpus compressed file by file into `<root>/<gzip|zstd>/` with the
/// command-line tools (`gzip -6`, `zstd -3`), two at a time; reused when a
/// `.complete` marker (written last) says a previous run finished it.
fn compress_corpus(
    input: Input,
    root: &Path,
    logs: &Path,
    m: &Manifest,
) -> io::Result<(PathBuf, Vec<PathBuf>)> {
    let (dir, suffix, cmd): (PathBuf, &str, &[&str]) = match input {
        Input::Gzip => (root.join("gzip"), "gz", &["gzip", "-6", "-c"]),
        Input::Zstd => (root.join("zstd"), "zst", &["zstd", "-3", "-q", "-c"]),
        Input::Plain => unreachable!("plain input is not compressed"),
    };
    let files: Vec<PathBuf> = m
        .files
        .iter()
        .map(|f| dir.join(format!("{}.{suffix}", f.path)))
        .collect();
    let marker = dir.join(".complete");
    if !marker.exists() {
        println!(
            "corpus: compressing with `{}` into {} ...",
            cmd.join(" "),
            dir.display()
        );
        let t = Instant::now();
        let jobs: Vec<(PathBuf, PathBuf)> = m
            .files
            .iter()
            .map(|f| logs.join(&f.path))
            .zip(files.iter().cloned())
            .collect();
        let (tx, rx) = std::sync::mpsc::channel::<io::Result<()>>();
        let queue = std::sync::Mutex::new(jobs.into_iter());
        std::thread::scope(|s| {
            for _ in 0..2 {
                let tx = tx.clone();
                let queue = &queue;
                s.spawn(move || loop {
                    let Some((from, to)) = queue.lock().ok().and_then(|mut q| q.next()) else {
                        return;
                    };
                    let result = (|| {
                        if let Some(parent) = to.parent() {
                            fs::create_dir_all(parent)?;
                        }
                        let status = Command::new(cmd[0])
                            .args(&cmd[1..])
                            .arg(&from)
                            .stdout(File::create(&to)?)
                            .status()?;
                        if status.success() {
                            Ok(())
                        } else {
                            Err(io::Error::other(format!(
                                "{} {}: {status}",
                                cmd[0],
                                from.display()
                            )))
                        }
                    })();
                    let _ = tx.send(result);
                });
            }
        });
        drop(tx);
        for r in rx {
            r?;
        }
        fs::write(&marker, "")?;
        println!("corpus: compressed in {:.1} s", t.elapsed().as_secs_f64());
    }
    let bytes: u64 = files
        .iter()
        .map(|f| fs::metadata(f).map(|md| md.len()))
        .sum::<io::Result<u64>>()?;
    println!(
        "input:   {} files, {:.1} MB compressed ({:.1}x); MB/s below are of decompressed bytes",
        input.name(),
        bytes as f64 / 1e6,
        m.total_bytes as f64 / bytes.max(1) as f64
    );
    Ok((dir, files))
}

fn warm_cache(files: &[PathBuf]) -> io::Result<(u64, Duration)> {
    let t = Instant::now();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    for f in files {
        let mut file = File::open(f)?;
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            total += n as u64;
        }
    }
    Ok((total, t.elapsed()))
}

// ---------------------------------------------------------------------------
// Header

fn utc_now() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let t = corpus::tm_from_unix_ms(ms);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year, t.month, t.day, t.hour, t.min, t.sec
    )
}

fn proc_field(path: &str, key: &str) -> Option<String> {
    let text = fs::read_to_string(path).ok()?;
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

/// `git describe`-like state of the tree the leaksweep binary was built from.
fn git_state() -> String {
    let dir = env!("CARGO_MANIFEST_DIR");
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(head) => {
            let dirty = git(&[
                "status",
                "--porcelain",
                "--",
                "src",
                "patterns",
                "Cargo.toml",
            ])
            .is_some_and(|s| !s.is_empty());
            format!(
                "commit {head}{}",
                if dirty {
                    " + uncommitted changes in src/ or patterns/"
                } else {
                    ""
                }
            )
        }
        None => "unknown (no git)".to_string(),
    }
}

fn print_header(cfg: &Config, logs: &Path, m: &Manifest) -> io::Result<()> {
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = proc_field("/proc/cpuinfo", "model name").unwrap_or_else(|| "?".into());
    let mem = proc_field("/proc/meminfo", "MemTotal").unwrap_or_else(|| "?".into());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    println!();
    println!("== leaksweep throughput bench ==");
    println!("date:    {}", utc_now());
    println!(
        "machine: nproc {nproc}, {model}, MemTotal {mem}, Linux {}",
        kernel.trim()
    );
    println!("source:  {}", git_state());
    println!(
        "load:    {}",
        fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    println!(
        "corpus:  {} bytes ({:.1} MB) in {} files, {} lines, seed {}, {}",
        m.total_bytes,
        m.total_bytes as f64 / 1e6,
        m.files.len(),
        m.total_lines,
        cfg.seed,
        logs.display()
    );
    for f in &m.files {
        println!(
            "         {:<26} {:<15} {:>10.1} MB {:>10} lines",
            f.path,
            f.format,
            f.bytes as f64 / 1e6,
            f.lines
        );
    }
    let counts = m
        .family_counts()
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "planted: {} secrets (~1 per {} lines): {counts}",
        m.secrets.len(),
        m.total_lines / (m.secrets.len() as u64).max(1)
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Tools and measurement

#[derive(Clone, Copy, PartialEq, Eq)]
enum ToolKind {
    Cat,
    Leaksweep,
    Ripgrep,
    Kingfisher,
}

struct Tool {
    kind: ToolKind,
    label: String,
    program: PathBuf,
    args: Vec<OsString>,
    /// Where stdout goes (`/dev/null` for cat).
    stdout: PathBuf,
    stderr: PathBuf,
}

struct Measure {
    wall: Duration,
    cpu: Duration,
    maxrss_kib: u64,
    /// Exit code, or -signal.
    exit: i32,
    /// Killed after the per-run time limit.
    timed_out: bool,
}

struct Outcome {
    label: String,
    runs: Vec<Measure>,
    stdout: PathBuf,
    stderr: PathBuf,
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The real Kingfisher binary: `KINGFISHER_BIN`, else the one on PATH; when
/// that is a script (pip entry point, pyenv shim), the binary the
/// `kingfisher-bin` package ships, so that Python start-up is not timed.
fn kingfisher_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KINGFISHER_BIN") {
        return Some(PathBuf::from(p));
    }
    let on_path = find_on_path("kingfisher")?;
    let mut head = [0u8; 2];
    let is_script = File::open(&on_path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == b"#!";
    if is_script {
        let out = Command::new("python3")
            .args([
                "-c",
                "import kingfisher, os; print(os.path.join(os.path.dirname(kingfisher.__file__), 'bin', 'kingfisher'))",
            ])
            .stderr(Stdio::null())
            .output();
        if let Ok(out) = out {
            let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if out.status.success() && p.is_file() {
                return Some(p);
            }
        }
    }
    Some(on_path)
}

fn build_tools(cfg: &Config, logs: &Path, out: &Path, files: &[PathBuf]) -> io::Result<Vec<Tool>> {
    let want = |t: &str| cfg.tools.iter().any(|x| x == t);
    let mut tools = Vec::new();
    if want("cat") {
        let cat = match cfg.input {
            Input::Plain => "cat",
            Input::Gzip => "zcat",
            Input::Zstd => "zstdcat",
        };
        tools.push(Tool {
            kind: ToolKind::Cat,
            label: format!("{cat} files > /dev/null"),
            program: cat.into(),
            args: files.iter().map(|f| f.clone().into_os_string()).collect(),
            stdout: "/dev/null".into(),
            stderr: out.join("cat.stderr"),
        });
    }
    if want("leaksweep") {
        // This build, and optionally another (a build of main) side by side.
        let mut builds = vec![("leaksweep", PathBuf::from(env!("CARGO_BIN_EXE_leaksweep")))];
        if let Some(base) = std::env::var_os("LEAKSWEEP_BENCH_BASELINE") {
            builds.push(("baseline", PathBuf::from(base)));
        }
        for (name, bin) in builds {
            if let Ok(v) = Command::new(&bin).arg("--version").output() {
                if v.status.success() {
                    println!(
                        "{name}: {} ({})",
                        String::from_utf8_lossy(&v.stdout).trim(),
                        bin.display()
                    );
                }
            }
            leaksweep_tools(&mut tools, name, &bin, logs, out);
        }
    }
    if want("rg") {
        match find_on_path("rg") {
            Some(rg) => {
                let version = Command::new(&rg)
                    .arg("--version")
                    .output()
                    .map(|o| {
                        String::from_utf8_lossy(&o.stdout)
                            .lines()
                            .next()
                            .unwrap_or("")
                            .to_string()
                    })
                    .unwrap_or_default();
                println!(
                    "ripgrep: {version} ({}), {} regexes",
                    rg.display(),
                    TOKEN_REGEXES.len()
                );
                let mut args: Vec<OsString> =
                    vec!["-c".into(), "--no-ignore".into(), "--hidden".into()];
                if cfg.input != Input::Plain {
                    // Search compressed files (rg runs the decompressor).
                    args.push("-z".into());
                }
                for re in TOKEN_REGEXES {
                    args.push("-e".into());
                    args.push(re.into());
                }
                args.push(logs.as_os_str().to_owned());
                tools.push(Tool {
                    kind: ToolKind::Ripgrep,
                    label: format!("rg -c ({} regexes)", TOKEN_REGEXES.len()),
                    program: rg,
                    args,
                    stdout: out.join("rg.txt"),
                    stderr: out.join("rg.stderr"),
                });
            }
            None => println!("ripgrep: not installed (apt-get install ripgrep)"),
        }
    }
    if want("kingfisher") && cfg.input == Input::Zstd {
        println!("kingfisher: skipped (it does not read zstd)");
    } else if want("kingfisher") {
        match kingfisher_binary() {
            Some(kf) => {
                let version = Command::new(&kf)
                    .arg("--version")
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                    .unwrap_or_default();
                println!(
                    "kingfisher: {version} ({}), validation off, 2 jobs",
                    kf.display()
                );
                let common = |target: &Path| -> Vec<OsString> {
                    vec![
                        "scan".into(),
                        target.as_os_str().to_owned(),
                        "--format".into(),
                        "jsonl".into(),
                        "--no-validate".into(),
                        "--no-update-check".into(),
                        "--quiet".into(),
                        "--git-history".into(),
                        "none".into(),
                        "--max-file-size".into(),
                        "0".into(),
                        "--jobs".into(),
                        "2".into(),
                    ]
                };
                // Untimed warm-up on a tiny input: builds Kingfisher's
                // compiled-rule cache, which a first run otherwise pays for.
                let tiny = out.join("kingfisher-warmup");
                fs::create_dir_all(&tiny)?;
                fs::write(tiny.join("a.log"), "GET /health HTTP/1.1\n")?;
                let _ = Command::new(&kf)
                    .args(common(&tiny))
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
                tools.push(Tool {
                    kind: ToolKind::Kingfisher,
                    label: "kingfisher scan --jobs 2".into(),
                    program: kf,
                    args: common(logs),
                    stdout: out.join("kingfisher.jsonl"),
                    stderr: out.join("kingfisher.stderr"),
                });
            }
            None => println!("kingfisher: not installed (pip install kingfisher-bin)"),
        }
    }
    Ok(tools)
}

/// Runs `tool` once as a child process and measures wall time, CPU time and
/// peak RSS (`ru_maxrss` from `wait4`, which covers waited-for descendants).
/// `leaksweep scan` of the corpus with 2 and 1 threads, by the binary `bin`.
fn leaksweep_tools(tools: &mut Vec<Tool>, name: &str, bin: &Path, logs: &Path, out: &Path) {
    for threads in [2, 1] {
        tools.push(Tool {
            kind: ToolKind::Leaksweep,
            label: format!("{name} --threads {threads}"),
            program: bin.to_path_buf(),
            args: vec![
                "scan".into(),
                "--format".into(),
                "jsonl".into(),
                "--threads".into(),
                threads.to_string().into(),
                logs.as_os_str().to_owned(),
            ],
            stdout: out.join(format!("{name}-t{threads}.jsonl")),
            stderr: out.join(format!("{name}-t{threads}.stderr")),
        });
    }
}

fn measure(tool: &Tool, limit: Duration) -> io::Result<Measure> {
    let stdout = File::create(&tool.stdout)?;
    let stderr = File::create(&tool.stderr)?;
    let start = Instant::now();
    let child = Command::new(&tool.program)
        .args(&tool.args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", tool.program.display())))?;
    let pid = child.id() as libc::pid_t;
    // Watchdog: kills the child when it runs past `limit`.
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(limit) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
            // SAFETY: plain syscall; `pid` is our child, not yet reaped
            // (the main thread reaps it only after this kill lands).
            unsafe { libc::kill(pid, libc::SIGKILL) };
            return true;
        }
        false
    });
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals; `pid` is our own unreaped child.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    let wall = start.elapsed();
    let _ = done_tx.send(());
    let timed_out = watchdog.join().unwrap_or(false);
    // Reaped above; dropping the handle does not wait again.
    drop(child);
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    let exit = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -libc::WTERMSIG(status)
    };
    Ok(Measure {
        wall,
        cpu: tv(ru.ru_utime) + tv(ru.ru_stime),
        maxrss_kib: ru.ru_maxrss as u64,
        exit,
        timed_out,
    })
}

/// Runs the tools in turn, round after round: on a shared machine the load
/// drifts, and taking each tool's runs back to back would hand the drift
/// to one of them. A tool killed at the time limit runs no more.
fn bench_tools(tools: &[Tool], runs: usize, limit: Duration) -> io::Result<Vec<Outcome>> {
    let mut outcomes: Vec<Outcome> = tools
        .iter()
        .map(|t| Outcome {
            label: t.label.clone(),
            runs: Vec::new(),
            stdout: t.stdout.clone(),
            stderr: t.stderr.clone(),
        })
        .collect();
    for i in 0..runs {
        for (tool, outcome) in tools.iter().zip(&mut outcomes) {
            if outcome.runs.last().is_some_and(|m| m.timed_out) {
                continue;
            }
            let m = measure(tool, limit)?;
            eprintln!(
                "  {:<30} run {}/{}: {:>8.3} s, cpu {:>8.3} s, rss {:>8.1} MiB, exit {}{}",
                tool.label,
                i + 1,
                runs,
                m.wall.as_secs_f64(),
                m.cpu.as_secs_f64(),
                m.maxrss_kib as f64 / 1024.0,
                m.exit,
                if m.timed_out {
                    " (killed at the time limit; no more runs)"
                } else {
                    ""
                }
            );
            outcome.runs.push(m);
        }
    }
    Ok(outcomes)
}

fn print_table(outcomes: &[Outcome], bytes: u64) {
    println!(
        "{:<32} {:>5} {:>9} {:>9} {:>10} {:>9} {:>10} {:>6}",
        "command", "runs", "best s", "median s", "MB/s", "cpu s", "RSS MiB", "exit"
    );
    println!("{}", "-".repeat(98));
    for o in outcomes {
        let rss = o.runs.iter().map(|m| m.maxrss_kib).max().unwrap_or(0);
        let exits: BTreeSet<i32> = o.runs.iter().map(|m| m.exit).collect();
        let exits = exits
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let finished: Vec<&Measure> = o.runs.iter().filter(|m| !m.timed_out).collect();
        if finished.is_empty() {
            let t = o.runs.iter().map(|m| m.wall).max().unwrap_or_default();
            println!(
                "{:<32} {:>5} {:>9} {:>9} {:>10} {:>9} {:>10.1} {:>6}",
                o.label,
                o.runs.len(),
                format!(">{:.0}", t.as_secs_f64()),
                "killed",
                format!("<{:.1}", bytes as f64 / 1e6 / t.as_secs_f64()),
                "-",
                rss as f64 / 1024.0,
                exits
            );
            continue;
        }
        let mut walls: Vec<Duration> = finished.iter().map(|m| m.wall).collect();
        walls.sort();
        let best = walls[0];
        let median = walls[walls.len() / 2];
        let best_run = finished
            .iter()
            .find(|m| m.wall == best)
            .expect("best run exists");
        println!(
            "{:<32} {:>5} {:>9.3} {:>9.3} {:>10.1} {:>9.3} {:>10.1} {:>6}",
            o.label,
            o.runs.len(),
            best.as_secs_f64(),
            median.as_secs_f64(),
            bytes as f64 / 1e6 / best.as_secs_f64(),
            best_run.cpu.as_secs_f64(),
            rss as f64 / 1024.0,
            exits
        );
    }
    println!(
        "(best and median wall time of the runs, page cache warm; MB/s = corpus bytes / best wall time; cpu = user+sys of the best run; RSS = peak over runs)"
    );
}

// ---------------------------------------------------------------------------
// Checking leaksweep's findings against the manifest

type Loc = (String, u64);

/// One finding, reduced for comparison between runs.
type FindingKey = (String, u64, u64, String, String);

struct Finding {
    file: String,
    line: u64,
    column: u64,
    offset: Option<u64>,
    rule: String,
    confidence: String,
    fingerprint: String,
    context: String,
}

/// `path` as given by a tool, relative to the scanned dir, and without the
/// `.gz` / `.zst` of a compressed copy: the corpus file's name.
fn relative(path: &str, logs: &Path, logs_canon: &Path) -> String {
    let p = Path::new(path);
    let rel = [logs, logs_canon]
        .iter()
        .find_map(|base| p.strip_prefix(base).ok())
        .map_or_else(
            || path.to_string(),
            |r| r.to_string_lossy().replace('\\', "/"),
        );
    for suffix in [".gz", ".zst"] {
        if let Some(stem) = rel.strip_suffix(suffix) {
            return stem.to_string();
        }
    }
    rel
}

fn stderr_tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n    ")
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn check_leaksweep(
    tool: &Tool,
    outcome: &Outcome,
    m: &Manifest,
    logs: &Path,
    scanned: &Path,
) -> io::Result<(bool, BTreeSet<FindingKey>)> {
    println!();
    println!("== {} ==", tool.label);
    let mut ok = true;
    let exits: BTreeSet<i32> = outcome.runs.iter().map(|r| r.exit).collect();
    if exits.iter().any(|e| *e != 0 && *e != 1) {
        ok = false;
        println!(
            "exit status {exits:?} (2 = error / incomplete scan); stderr tail:\n    {}",
            stderr_tail(&outcome.stderr)
        );
    }
    let scanned_canon = fs::canonicalize(scanned).unwrap_or_else(|_| scanned.to_path_buf());
    let mut findings = Vec::new();
    let mut bad_lines = 0usize;
    let mut first_bad = None;
    for line in BufReader::new(File::open(&outcome.stdout)?).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(&line) {
            Ok(v) if v.is_object() => {
                let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                let n = |k: &str| v.get(k).and_then(Value::as_u64);
                findings.push(Finding {
                    file: relative(&s("path"), scanned, &scanned_canon),
                    line: n("line").unwrap_or(0),
                    column: n("column").unwrap_or(0),
                    offset: n("offset"),
                    rule: s("rule"),
                    confidence: s("confidence"),
                    fingerprint: s("fingerprint"),
                    context: s("context"),
                });
            }
            _ => {
                bad_lines += 1;
                first_bad.get_or_insert(line);
            }
        }
    }
    if bad_lines > 0 {
        ok = false;
        println!(
            "{bad_lines} stdout lines are not JSON objects; first: {:?}",
            first_bad
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect::<String>()
        );
    }
    let mut by_conf: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_rule: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for f in &findings {
        *by_conf.entry(f.confidence.as_str()).or_default() += 1;
        *by_rule
            .entry((f.rule.as_str(), f.confidence.as_str()))
            .or_default() += 1;
    }
    println!(
        "findings: {} (high {}, medium {}, low {}{})",
        findings.len(),
        by_conf.get("high").copied().unwrap_or(0),
        by_conf.get("medium").copied().unwrap_or(0),
        by_conf.get("low").copied().unwrap_or(0),
        {
            let other: usize = by_conf
                .iter()
                .filter(|(k, _)| !matches!(**k, "high" | "medium" | "low"))
                .map(|(_, v)| v)
                .sum();
            if other > 0 {
                format!(", other {other}")
            } else {
                String::new()
            }
        }
    );
    let rules = by_rule
        .iter()
        .map(|((r, c), n)| format!("{r}/{c} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    if !rules.is_empty() {
        println!("by rule: {rules}");
    }

    let planted: BTreeMap<Loc, &corpus::PlantedSecret> = m
        .secrets
        .iter()
        .map(|s| ((s.file.clone(), s.line), s))
        .collect();
    let reported: Vec<&Finding> = findings
        .iter()
        .filter(|f| matches!(f.confidence.as_str(), "high" | "medium"))
        .collect();
    let mut reported_lines: BTreeMap<Loc, Vec<&Finding>> = BTreeMap::new();
    for f in &reported {
        reported_lines
            .entry((f.file.clone(), f.line))
            .or_default()
            .push(f);
    }
    let missing: Vec<&Loc> = planted
        .keys()
        .filter(|k| !reported_lines.contains_key(*k))
        .collect();
    let unexpected: Vec<&Loc> = reported_lines
        .keys()
        .filter(|k| !planted.contains_key(*k))
        .collect();
    let matched = planted.len() - missing.len();
    let (mut col_ok, mut fp_ok) = (0, 0);
    for (loc, s) in &planted {
        if let Some(fs_) = reported_lines.get(loc) {
            if fs_.iter().any(|f| f.column == s.column) {
                col_ok += 1;
            }
            let fp = sha256_hex(&s.secret);
            if fs_.iter().any(|f| f.fingerprint == fp) {
                fp_ok += 1;
            }
        }
    }
    println!(
        "high+medium: {} findings on {} distinct lines; planted: {} lines; matched {}; same column {}; same secret (fingerprint) {}",
        reported.len(),
        reported_lines.len(),
        planted.len(),
        matched,
        col_ok,
        fp_ok
    );
    // Recall per family.
    let mut fam: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (loc, s) in &planted {
        let e = fam.entry(s.family.as_str()).or_default();
        e.1 += 1;
        if reported_lines.contains_key(loc) {
            e.0 += 1;
        }
    }
    println!(
        "recall by family: {}",
        fam.iter()
            .map(|(k, (a, b))| format!("{k} {a}/{b}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut wanted: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for loc in missing
        .iter()
        .take(MAX_LISTED)
        .chain(unexpected.iter().take(MAX_LISTED))
    {
        wanted.entry(loc.0.clone()).or_default().insert(loc.1);
    }
    let texts = fetch_lines(logs, &wanted)?;
    if !missing.is_empty() {
        println!(
            "missing ({}, first {}):",
            missing.len(),
            missing.len().min(MAX_LISTED)
        );
        for loc in missing.iter().take(MAX_LISTED) {
            let s = planted[*loc];
            println!(
                "  {}:{}:{} {} ({}) secret {}",
                s.file,
                s.line,
                s.column,
                s.family,
                s.position,
                clip(&s.secret, 80)
            );
            if let Some(t) = texts.get(*loc) {
                println!("      line: {}", window(t, s.column, s.secret.len()));
            }
        }
    }
    if !unexpected.is_empty() {
        println!(
            "unexpected ({}, first {}):",
            unexpected.len(),
            unexpected.len().min(MAX_LISTED)
        );
        for loc in unexpected.iter().take(MAX_LISTED) {
            for f in &reported_lines[*loc] {
                println!(
                    "  {}:{}:{}{} {} {} context: {}",
                    f.file,
                    f.line,
                    f.column,
                    f.offset.map(|o| format!(" @{o}")).unwrap_or_default(),
                    f.rule,
                    f.confidence,
                    clip(&f.context, 200)
                );
            }
            if let Some(t) = texts.get(*loc) {
                let col = reported_lines[*loc].first().map_or(1, |f| f.column);
                println!("      line: {}", window(t, col, 40));
            }
        }
    }
    if reported_lines.len() != planted.len() || !missing.is_empty() {
        ok = false;
    }
    println!(
        "verdict: {}",
        if ok {
            "high+medium findings are exactly the planted lines"
        } else {
            "MISMATCH"
        }
    );
    let set = findings
        .iter()
        .map(|f| {
            (
                f.file.clone(),
                f.line,
                f.column,
                f.rule.clone(),
                f.confidence.clone(),
            )
        })
        .collect();
    Ok((ok, set))
}

fn clip(s: &str, n: usize) -> String {
    if s.len() <= n {
        s.to_string()
    } else {
        let mut end = n;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…(+{} bytes)", &s[..end], s.len() - end)
    }
}

/// The part of `line` around bytes `column..column+len` (1-based column):
/// up to 120 bytes before and 80 after, `…` where cut.
fn window(line: &str, column: u64, len: usize) -> String {
    let start = (column as usize).saturating_sub(1).min(line.len());
    let mut from = start.saturating_sub(120);
    let mut to = (start + len + 80).min(line.len());
    while !line.is_char_boundary(from) {
        from -= 1;
    }
    while !line.is_char_boundary(to) {
        to += 1;
    }
    format!(
        "{}{}{}",
        if from > 0 { "…" } else { "" },
        &line[from..to],
        if to < line.len() { "…" } else { "" }
    )
}

/// The text of the wanted lines, one pass per file.
fn fetch_lines(
    logs: &Path,
    wanted: &BTreeMap<String, BTreeSet<u64>>,
) -> io::Result<HashMap<Loc, String>> {
    let mut out = HashMap::new();
    for (file, lines) in wanted {
        let Ok(f) = File::open(logs.join(file)) else {
            continue;
        };
        let last = *lines.iter().next_back().unwrap_or(&0);
        let mut reader = BufReader::with_capacity(1 << 20, f);
        let mut buf = Vec::new();
        let mut n = 0u64;
        while n < last {
            buf.clear();
            if reader.read_until(b'\n', &mut buf)? == 0 {
                break;
            }
            n += 1;
            if lines.contains(&n) {
                let text = String::from_utf8_lossy(&buf).trim_end().to_string();
                out.insert((file.clone(), n), text);
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Peers

fn planted_lines(m: &Manifest) -> BTreeSet<Loc> {
    m.secrets.iter().map(|s| (s.file.clone(), s.line)).collect()
}

fn report_ripgrep(o: &Outcome, m: &Manifest) -> io::Result<()> {
    let text = fs::read_to_string(&o.stdout)?;
    let total: u64 = text
        .lines()
        .filter_map(|l| l.rsplit_once(':'))
        .filter_map(|(_, n)| n.trim().parse::<u64>().ok())
        .sum();
    println!();
    println!("== {} ==", o.label);
    println!(
        "matching lines: {total} (planted: {}; no validators, so placeholders such as AKIAIOSFODNN7EXAMPLE count; no rules for Basic auth or URL passwords)",
        m.secrets.len()
    );
    Ok(())
}

fn report_kingfisher(o: &Outcome, m: &Manifest, logs: &Path) -> io::Result<()> {
    println!();
    println!("== {} ==", o.label);
    let logs_canon = fs::canonicalize(logs).unwrap_or_else(|_| logs.to_path_buf());
    let planted = planted_lines(m);
    let mut lines: BTreeSet<Loc> = BTreeSet::new();
    let mut count = 0usize;
    let mut rules: BTreeMap<String, usize> = BTreeMap::new();
    for line in BufReader::new(File::open(&o.stdout)?).lines() {
        let Ok(v) = serde_json::from_str::<Value>(&line?) else {
            continue;
        };
        let Some(f) = v.get("finding") else {
            continue;
        };
        count += 1;
        let path = f.get("path").and_then(Value::as_str).unwrap_or("");
        let ln = f.get("line").and_then(Value::as_u64).unwrap_or(0);
        lines.insert((relative(path, logs, &logs_canon), ln));
        let rule = v
            .pointer("/rule/id")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        *rules.entry(rule).or_default() += 1;
    }
    let hit = lines.intersection(&planted).count();
    println!(
        "findings: {count} on {} distinct lines; planted lines found {hit}/{}; lines not planted {}",
        lines.len(),
        planted.len(),
        lines.difference(&planted).count()
    );
    if !rules.is_empty() {
        println!(
            "by rule: {}",
            rules
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if o.runs.iter().any(|r| r.timed_out) {
        println!("(killed at the time limit: the counts above are from a partial output)");
    } else if o.runs.iter().any(|r| r.exit != 0 && r.exit != 200) {
        println!("stderr tail:\n    {}", stderr_tail(&o.stderr));
    }
    Ok(())
}
