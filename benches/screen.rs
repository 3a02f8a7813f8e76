//! The keyword screen alone: the search every byte of a plain log goes
//! through before any rule runs, timed over generated logs held in memory,
//! with the built-in rules and with `rules-staging/` added. In memory and
//! best of several runs, so that it tells screens apart on a shared, noisy
//! machine where whole scans do not (`benches/README.md`).
//!
//! `cargo bench --bench screen`. Knobs: `LEAKSWEEP_SCREEN_BYTES` (default
//! 100_000_000), `LEAKSWEEP_BENCH_RUNS` (default 5), `LEAKSWEEP_BENCH_SEED`.

// Only the environment knobs and target directory of the shared helpers.
#[allow(dead_code)]
mod child;
mod corpus;

use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use child::{env_u64, target_dir};
use leaksweep::rules::Rules;
use leaksweep::scan::Engine;

fn main() {
    if let Err(e) = run() {
        eprintln!("screen bench: {e}");
        std::process::exit(1);
    }
}

fn run() -> io::Result<()> {
    let bytes = env_u64("LEAKSWEEP_SCREEN_BYTES", 100_000_000)?;
    let runs = env_u64("LEAKSWEEP_BENCH_RUNS", 5)?.max(1);
    let seed = env_u64("LEAKSWEEP_BENCH_SEED", 1)?;
    let dir = target_dir().join(format!("bench-screen/{seed}-{bytes}"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    corpus::generate(&dir, &corpus::Plan::new(bytes, seed))?;
    let mut hay = Vec::new();
    for entry in walk(&dir)? {
        hay.extend(std::fs::read(entry)?);
    }
    let mb = hay.len() as f64 / 1e6;
    println!(
        "corpus: {mb:.1} MB of generated logs in memory, seed {seed}; best / median of {runs} runs"
    );

    let floor = time(runs, || memchr::memchr_iter(b'\n', &hay).count());
    report("one pass counting newlines (memchr)", mb, floor);
    let staged = PathBuf::from("rules-staging");
    for (name, extra) in [
        ("built-in rules", vec![]),
        ("built-in + rules-staging/", vec![staged]),
    ] {
        let rules = Rules::load(&extra).map_err(|e| io::Error::other(e.to_string()))?;
        let count = rules.len();
        let engine = Engine::new(rules).map_err(|e| io::Error::other(e.to_string()))?;
        let took = time(runs, || engine.keyword_hits(&hay));
        report(&format!("keyword screen, {name} ({count})"), mb, took);
    }
    Ok(())
}

/// Best and median wall time of `runs` calls, and the last call's result.
fn time(runs: u64, mut f: impl FnMut() -> usize) -> (Duration, Duration, usize) {
    let mut times = Vec::new();
    let mut out = 0;
    for _ in 0..runs {
        let t = Instant::now();
        out = std::hint::black_box(f());
        times.push(t.elapsed());
    }
    times.sort();
    (times[0], times[times.len() / 2], out)
}

fn report(what: &str, mb: f64, (best, median, n): (Duration, Duration, usize)) {
    println!(
        "{what:<52} best {:.3} s  median {:.3} s  {:>6.0} MB/s  ({n} hits)",
        best.as_secs_f64(),
        median.as_secs_f64(),
        mb / best.as_secs_f64()
    );
}

/// The files under `dir`, sorted.
fn walk(dir: &std::path::Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}
