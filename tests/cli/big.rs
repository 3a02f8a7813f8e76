//! One expectation through every way in: a file over 20 MB is memory-mapped
//! and scanned in 8 MiB line-aligned chunks in parallel; the same bytes on
//! stdin go through the streamed roll buffer. Secrets sit at and across the
//! chunk boundaries, including inside one line longer than a chunk (which
//! the splitter must cut mid-line). Every way must report the same
//! findings — rule, line, column, offset, fingerprint — and exactly the
//! ones written.

use crate::families::SEED;
use crate::tokens;
use crate::util::{clean_lines, Env, Layout, Located, Placed, Rng};

const MIB: usize = 1 << 20;
/// The product's chunk size (`scan::chunk::CHUNK`).
const CHUNK: usize = 8 * MIB;

/// Clean lines up to exactly `target` bytes (the last one padded).
fn lines_to(lay: &mut Layout, target: usize) {
    let mut i = 0;
    loop {
        let line = clean_lines(i, 1);
        if lay.bytes.len() + line.len() + 40 > target {
            break;
        }
        lay.push(line);
        i += 1;
    }
    let pad = target - lay.bytes.len();
    lay.push(format!("# {}\n", "-".repeat(pad - 3)));
    assert_eq!(lay.bytes.len(), target);
}

/// Query-string filler (no newline) up to exactly `target` bytes.
fn query_to(lay: &mut Layout, target: usize) {
    const UNIT: &str = "&q=lorem-ipsum";
    let n = (target - lay.bytes.len()) / UNIT.len();
    lay.push(UNIT.repeat(n));
    let rest = target - lay.bytes.len();
    lay.push("-".repeat(rest));
    assert_eq!(lay.bytes.len(), target);
}

/// The big log and the findings it must give (also used by `archives`).
pub struct Big {
    pub bytes: Vec<u8>,
    pub want: Vec<Located>,
}

pub fn build() -> Big {
    let mut rng = Rng::new(77);
    let mut lay = Layout::new();
    let mut want = Vec::new();
    let mut put = |lay: &mut Layout, rule: &str, text: &str, secret: &str| -> Placed {
        let at = lay.push_secret(text, secret);
        want.push(Located::at(rule, &at, secret));
        at
    };
    let rule = |family: &str| tokens::family(SEED, family).rule;

    // 1. A GitHub token whose first byte is at 8 MiB - 10: it straddles the
    //    first 8 MiB mark (the streamed reader's first fill ends near it).
    let ghp = tokens::github_classic(&mut rng, "ghp");
    let head = "203.0.113.9 - - [01/May/2024:12:00:00 +0000] \"GET /api/repos?token=";
    lines_to(&mut lay, CHUNK - 10 - head.len());
    let at = put(
        &mut lay,
        rule("github_pat_classic"),
        &format!("{head}{ghp} HTTP/1.1\" 200 512 \"-\" \"curl/8.5.0\"\n"),
        &ghp,
    );
    assert_eq!(at.offset, (CHUNK - 10) as u64);
    // The mapped file's first chunk ends just after this line.
    let end1 = lay.bytes.len();

    // 2. An AWS key id as the very first byte of the second chunk.
    let akia = tokens::aws_key_id(&mut rng);
    let at = put(
        &mut lay,
        rule("aws_access_key_id"),
        &format!("{akia} used by ci-deployer from 203.0.113.7\n"),
        &akia,
    );
    assert_eq!(at.offset, end1 as u64);
    lay.push(clean_lines(0, 1000));

    // 3. One line longer than two chunks (a giant query string), running to
    //    the end of the file without a newline: the splitter must cut it
    //    mid-line at c2 and c3.
    let c2 = end1 + CHUNK;
    let c3 = c2 + CHUNK;
    lay.push("203.0.113.10 - - [01/May/2024:12:00:01 +0000] \"GET /search?q=start");
    // An access token in the query whose first byte is exactly at c2; its
    // keyword lies in the chunk before.
    let access = rng.string(crate::util::B64URL, 43);
    query_to(&mut lay, c2 - "&access_token=".len());
    let at = put(
        &mut lay,
        rule("access_token_in_query"),
        &format!("&access_token={access}&"),
        &access,
    );
    assert_eq!(at.offset, c2 as u64);
    // A Slack token straddling c3.
    let slack = tokens::slack_bot(&mut rng);
    query_to(&mut lay, c3 - 10 - "&notify=".len());
    let at = put(
        &mut lay,
        rule("slack_bot_token"),
        &format!("&notify={slack}&"),
        &slack,
    );
    assert_eq!(at.offset, (c3 - 10) as u64);
    query_to(&mut lay, c3 + MIB);
    assert!(lay.bytes.len() > 20_000_000);
    Big {
        bytes: lay.bytes,
        want,
    }
}

#[test]
fn mapped_chunked_and_streamed_scans_agree_on_a_big_file() {
    let big = build();
    let env = Env::new();
    env.write("big.log", &big.bytes);
    let runs = [
        // Mapped, split into chunks scanned in parallel.
        env.run(&["scan", "--format", "jsonl", "-j", "2", "big.log"]),
        // Mapped, chunks scanned one after the other.
        env.run(&["scan", "--format", "jsonl", "-j", "1", "big.log"]),
        // Streamed from a pipe.
        env.run_stdin(&["scan", "--format", "jsonl", "-j", "2", "-"], &big.bytes),
    ];
    for run in &runs {
        let got: Vec<Located> = run.findings().iter().map(|f| f.located()).collect();
        run.check_same(&got, &big.want, "findings of the big file");
        run.expect_code(1);
    }
    // Everything but the path is the same whichever way the bytes came in,
    // the masked secret and its context included.
    let shown = |run: &crate::util::Run| {
        let mut v: Vec<(u64, String, String, String, String)> = run
            .findings()
            .into_iter()
            .map(|f| {
                let offset = f.offset.unwrap_or(u64::MAX);
                (offset, f.kind, f.confidence, f.secret, f.context)
            })
            .collect();
        v.sort();
        v
    };
    let first = shown(&runs[0]);
    for run in &runs[1..] {
        run.check_eq(
            shown(run),
            first.clone(),
            "kind, confidence, secret, context",
        );
    }
}
