//! Deals the built-in rules' screen heads into buckets against sample logs
//! and prints the table that `src/scan/buckets.txt` ships (see
//! `leaksweep::scan::deal`). Run it when the built-in keywords change:
//!
//! ```text
//! LEAKSWEEP_BENCH_SEED=2 LEAKSWEEP_SCREEN_BYTES=4000000 cargo bench --bench screen
//! cargo run --release --example deal -- --with rules-staging \
//!     target/bench-screen/2-4000000 examples > src/scan/buckets.txt
//! ```
//!
//! The arguments are files or directories of sample logs (`.log`, `.jsonl`
//! and files without an extension). `--with DIR` adds a section for the
//! built-in rules and `DIR`'s (`--rules DIR`); `--sets N` sets the set
//! count. `--check` deals nothing: it prints the flags the shipped buckets
//! and the byte model's raise on the sample, to weigh the table on other
//! logs than those it was dealt against.

use std::path::{Path, PathBuf};

use leaksweep::rules::Rules;
use leaksweep::scan::deal::{self, Sample};
use leaksweep::scan::Engine;

fn main() {
    if let Err(e) = run() {
        eprintln!("deal: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut sets = None;
    let mut with = vec![Vec::new()];
    let check = args.iter().any(|a| a == "--check");
    args.retain(|a| a != "--check");
    while let Some(i) = args.iter().position(|a| a == "--sets" || a == "--with") {
        let value = args
            .get(i + 1)
            .cloned()
            .ok_or("--sets and --with take a value")?;
        match args[i].as_str() {
            "--sets" => sets = Some(value.parse::<usize>().map_err(|e| format!("--sets: {e}"))?),
            _ => with.push(vec![PathBuf::from(value)]),
        }
        args.drain(i..i + 2);
    }
    if args.is_empty() {
        return Err("give files or directories of sample logs".into());
    }
    let mut texts = Vec::new();
    for arg in &args {
        for path in files(Path::new(arg)).map_err(|e| format!("{arg}: {e}"))? {
            texts.push(std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?);
        }
    }
    let bytes: usize = texts.iter().map(Vec::len).sum();
    let sample = Sample::new(&texts);
    if !check {
        println!("# The keyword screen's buckets, dealt by `cargo run --release --example deal`");
        println!(
            "# (see examples/deal.rs) against {bytes} bytes of sample logs in {} files.",
            texts.len()
        );
        println!("# One section per rule set; the screen uses the first that holds all its heads.");
    }
    for extra in with {
        let rules = Rules::load(&extra).map_err(|e| e.to_string())?;
        let count = rules.len();
        let engine = Engine::new(rules).map_err(|e| e.to_string())?;
        let spellings = engine.screen_heads().0.to_vec();
        let sets = sets.unwrap_or_else(|| deal::sets(&spellings));
        let model = deal::deal(&spellings, sets * deal::SET);
        if check {
            let (shipped, from_table) = deal::buckets(&spellings);
            println!(
                "{count} rules: flags on the sample {} with the shipped buckets{}, {} by the byte model",
                sample.flagged(&spellings, &shipped),
                if from_table { "" } else { " (not all in the table)" },
                sample.flagged(&spellings, &model)
            );
            continue;
        }
        let started = std::time::Instant::now();
        let bucket = deal::optimize(&spellings, &sample, sets);
        let name = match extra.first() {
            Some(dir) => format!("built-in + {}", dir.display()),
            None => "built-in".to_string(),
        };
        println!(
            "## {name}: {count} rules, {} heads, {sets} sets",
            spellings.len()
        );
        println!(
            "# Flags on the sample: {} dealt here, {} by the byte model ({:.0} s).",
            sample.flagged(&spellings, &bucket),
            sample.flagged(&spellings, &model),
            started.elapsed().as_secs_f64()
        );
        print!("{}", deal::table_text(&spellings, &bucket));
    }
    Ok(())
}

/// `path` itself, or the log files under it, sorted.
fn files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(path)? {
        let path = entry?.path();
        let log = matches!(
            path.extension().and_then(|e| e.to_str()),
            None | Some("log" | "jsonl")
        );
        if path.is_dir() {
            out.extend(files(&path)?);
        } else if log {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}
