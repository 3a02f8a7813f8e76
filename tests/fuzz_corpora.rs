//! Every input the fuzzers kept (`fuzz/corpus/<target>/`) and every crash
//! they found (`fuzz/artifacts/<target>/`, fixed since) goes through the
//! same checks again, so a regression fails `cargo test`, not only a
//! fuzzing run. See the README's development section for fuzzing itself.

#[path = "../fuzz/checks.rs"]
mod checks;

use std::fs;
use std::path::Path;

fn each_input(target: &str, check: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut n = 0;
    for dir in ["corpus", "artifacts"] {
        let Ok(entries) = fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("read the corpus directory").path();
            // (A fuzzer running meanwhile may replace its inputs.)
            let Ok(data) = fs::read(&path) else {
                continue;
            };
            check(&data);
            n += 1;
        }
    }
    assert!(n > 0, "no corpus for {target}");
}

#[test]
fn rules() {
    each_input("rules", checks::rules);
}

#[test]
fn chunks() {
    each_input("chunks", checks::chunks);
}

#[test]
fn decode() {
    each_input("decode", checks::decode);
}

#[test]
fn har() {
    each_input("har", checks::har);
}

#[test]
fn validators() {
    each_input("validators", checks::validators);
}

#[test]
fn redact() {
    each_input("redact", checks::redact);
}

#[test]
fn views() {
    each_input("views", checks::views);
}
