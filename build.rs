//! Embeds every `patterns/*.toml` into the binary, so the default rule set
//! needs no files at run time.

use std::env;
use std::fs;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=patterns");
    let mut names: Vec<String> = fs::read_dir("patterns")
        .expect("patterns/ directory")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    let manifest = env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let mut code = String::from("/// (file name, contents) of every built-in rule file.\npub static BUILTIN: &[(&str, &str)] = &[\n");
    // The rule set's version, for `--version`: how many rules, and an
    // FNV-1a digest of the files (names and contents), which changes with
    // any edit to them.
    let mut digest: u64 = 0xcbf2_9ce4_8422_2325;
    let mut rules = 0;
    for n in &names {
        println!("cargo:rerun-if-changed=patterns/{n}");
        let full = Path::new(&manifest).join("patterns").join(n);
        let text = fs::read_to_string(&full).expect("read a rule file");
        rules += text.lines().filter(|l| l.trim() == "[[rule]]").count();
        for b in n.bytes().chain(text.bytes()) {
            digest = (digest ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        code.push_str(&format!(
            "    ({n:?}, include_str!({:?})),\n",
            full.display().to_string()
        ));
    }
    code.push_str("];\n");
    println!(
        "cargo:rustc-env=LEAKSWEEP_RULESET={rules} rules, digest {:012x}",
        digest >> 16
    );
    let out = Path::new(&env::var("OUT_DIR").expect("OUT_DIR")).join("builtin_rules.rs");
    fs::write(out, code).expect("write builtin_rules.rs");
}
