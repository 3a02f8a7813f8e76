//! Issue 16, "nothing skipped in silence, nothing leaked on the side":
//! inputs that used to be skipped, misread or half-read without a word,
//! and the notes that now say what happened.

use std::io::Write;

use crate::tokens;
use crate::util::{sha256_hex, Env, Layout, Located, Rng, Run};

const RULE: &str = "github-pat-classic";

fn jsonl(args: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["scan", "--format", "jsonl"].map(String::from).to_vec();
    v.extend(args.iter().map(|s| s.to_string()));
    v
}

fn located(run: &Run) -> Vec<Located> {
    run.findings().iter().map(|f| f.located()).collect()
}

/// A log as logrotate's `copytruncate` leaves it when the writer lacks
/// `O_APPEND`: the old length as a run of NULs, then new lines.
fn copytruncated(nuls: usize, tok: &str) -> (Vec<u8>, Located) {
    let mut l = Layout::new();
    l.push(vec![0u8; nuls]);
    l.push("2024-05-01T12:00:00Z INFO worker started\n".repeat(50));
    let at = l.push_secret(
        &format!("2024-05-01T12:00:01Z INFO GET /api?access_token={tok} 200\n"),
        tok,
    );
    l.push("2024-05-01T12:00:02Z INFO done\n".repeat(50));
    (l.bytes, Located::at(RULE, &at, tok))
}

#[test]
fn issue_16_nul_run_after_copytruncate_is_scanned_as_text() {
    let env = Env::new();
    let tok = tokens::github_classic(&mut Rng::new(161), "ghp");
    // Short (read whole) and long (memory-mapped) files.
    for (name, nuls) in [("small.log", 20_000), ("big.log", 600_000)] {
        let (bytes, want) = copytruncated(nuls, &tok);
        env.write(name, &bytes);
        let run = env.run(&jsonl(&[name]));
        run.check_eq(located(&run), vec![want], "the secret after the NUL run");
        run.expect_stderr_line(&[&format!("leaksweep: {name}: "), "NUL", "scanned as text"]);
        run.check(!run.stderr.contains("skipped:"), "not skipped");
        run.expect_code(1);
        // The note is exit-status neutral and silenced by -q.
        let run = env.run(&jsonl(&["-q", name]));
        run.check_eq(run.stderr.clone(), String::new(), "stderr with -q");
        run.expect_code(1);
    }
    // From stdin, and as a tar member, too.
    let (bytes, want) = copytruncated(20_000, &tok);
    let run = env.run_stdin(&jsonl(&["-"]), &bytes);
    run.check_eq(located(&run), vec![want.clone()], "stdin");
    let gz = crate::archives::gzip(&bytes);
    env.write("rotated.log.gz", &gz);
    let run = env.run(&jsonl(&["rotated.log.gz"]));
    run.check_eq(located(&run), vec![want], "gzip");
}

#[test]
fn issue_16_nul_run_log_is_recorded_by_state_and_redacted() {
    let env = Env::new();
    let mut rng = Rng::new(162);
    let (first, second) = (
        tokens::github_classic(&mut rng, "ghp"),
        tokens::github_classic(&mut rng, "ghp"),
    );
    let (mut bytes, _) = copytruncated(20_000, &first);
    env.write("app.log", &bytes);
    let run = env.run(&jsonl(&["--state", "st", "app.log"]));
    run.check_eq(run.findings().len(), 1, "first run");
    bytes.extend_from_slice(format!("x token={second}\n").as_bytes());
    env.write("app.log", &bytes);
    let run = env.run(&jsonl(&["--state", "st", "app.log"]));
    let fps: Vec<String> = run.findings().into_iter().map(|f| f.fingerprint).collect();
    run.check_eq(fps, vec![sha256_hex(&second)], "only the new secret");

    let run = env.run(&["redact", "app.log", "-o", "clean.log"]);
    run.expect_code(1);
    let out = std::fs::read(env.path("clean.log")).expect("redacted copy");
    let text = String::from_utf8_lossy(&out);
    run.check(
        !text.contains(&first) && !text.contains(&second),
        "no secret in the redacted copy",
    );
    run.check_eq(
        out.len() >= 20_000 && out[..20_000] == [0u8; 20_000],
        true,
        "NULs kept",
    );
}

/// What compressed or encrypted data looks like: no NUL in its head needed.
fn noise(len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // No NUL anywhere: binary by content, not by a NUL byte.
            (x as u8).max(1)
        })
        .collect()
}

#[test]
fn issue_16_binary_by_content_and_magic_and_a_scans_it() {
    let env = Env::new();
    let tok = tokens::github_classic(&mut Rng::new(163), "ghp");
    let mut blob = noise(20_000);
    blob.extend_from_slice(format!("\ntoken={tok}\n").as_bytes());
    blob.extend(noise(20_000));
    env.write("blob.bin", &blob);
    let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
    elf.extend_from_slice(format!("\ntoken={tok}\n").as_bytes());
    env.write("tool", &elf);
    // Text at the head, binary across the rest: sampled, so binary.
    let mut tail = "2024-05-01T12:00:00Z INFO ok\n".repeat(400).into_bytes();
    tail.extend(noise(400_000));
    env.write("mixed.dat", &tail);
    let run = env.run(&jsonl(&["blob.bin", "tool", "mixed.dat"]));
    for name in ["blob.bin", "tool", "mixed.dat"] {
        run.expect_stderr_line(&[&format!("leaksweep: {name}: skipped: binary"), "-a"]);
    }
    run.check_eq(run.stdout(), String::new(), "nothing scanned");
    run.expect_code(0);
    for flag in ["-a", "--text"] {
        let run = env.run(&jsonl(&[flag, "blob.bin", "tool"]));
        run.check_eq(run.findings().len(), 2, "-a scans binary files as text");
        run.check(!run.stderr.contains("skipped:"), "nothing skipped");
        run.expect_code(1);
    }
}

/// A GNU sparse tar member whose data starts after a 64 KiB hole.
#[test]
fn issue_16_sparse_tar_member_is_scanned() {
    let env = Env::new();
    let tok = tokens::github_classic(&mut Rng::new(164), "ghp");
    let data = format!("2024-05-01T12:00:00Z INFO GET /x?access_token={tok} 200\n");
    let hole = 65_536u64;
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::GNUSparse);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_path("var/log/sparse.log").expect("path");
    {
        let gnu = h.as_gnu_mut().expect("gnu header");
        let octal = |field: &mut [u8], v: u64| {
            let s = format!("{v:0w$o}\0", w = field.len() - 1);
            field.copy_from_slice(s.as_bytes());
        };
        octal(&mut gnu.sparse[0].offset, hole);
        octal(&mut gnu.sparse[0].numbytes, data.len() as u64);
        octal(&mut gnu.realsize, hole + data.len() as u64);
    }
    h.set_cksum();
    let mut b = tar::Builder::new(Vec::new());
    b.append(&h, data.as_bytes()).expect("append");
    let bytes = b.into_inner().expect("tar");
    env.write("sparse.tar", &bytes);
    let run = env.run(&jsonl(&["sparse.tar"]));
    let found = run.findings();
    run.check_eq(found.len(), 1, "the secret after the hole");
    run.check_eq(
        found[0].offset,
        Some(hole + data.find(&tok).expect("in data") as u64),
        "offset counts the hole",
    );
    run.check_eq(
        found[0].member.as_deref(),
        Some("var/log/sparse.log"),
        "member",
    );
    run.expect_code(1);
}

fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(if big_endian { b"\xfe\xff" } else { b"\xff\xfe" });
    }
    for u in text.encode_utf16() {
        out.extend_from_slice(&if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    out
}

#[test]
fn issue_16_utf16_mark_trusted_only_when_plausible() {
    let env = Env::new();
    let tok = tokens::github_classic(&mut Rng::new(165), "ghp");
    let text = format!(
        "{}2024-05-01T12:00:01Z INFO GET /api?access_token={tok} 200\n",
        "2024-05-01T12:00:00Z INFO worker started\n".repeat(3)
    );
    let column = text.lines().nth(3).and_then(|l| l.find(&tok)).expect("tok") as u64 + 1;
    // A stray FF FE before ASCII: the bytes are scanned (offset counts the mark).
    let mut stray = b"\xff\xfe".to_vec();
    stray.extend_from_slice(text.as_bytes());
    env.write("stray.log", &stray);
    // UTF-16 with a mark, and without one, either byte order.
    env.write("le.log", utf16(&text, false, true));
    env.write("be-nobom.log", utf16(&text, true, false));
    env.write("le-nobom.log", utf16(&text, false, false));
    for name in ["stray.log", "le.log", "be-nobom.log", "le-nobom.log"] {
        let run = env.run(&jsonl(&[name]));
        let found = run.findings();
        run.check_eq(found.len(), 1, format!("{name}: the secret"));
        run.check_eq(
            found[0].fingerprint.clone(),
            sha256_hex(&tok),
            "fingerprint",
        );
        run.check_eq(
            (found[0].line, found[0].column),
            (Some(4), Some(column)),
            "place",
        );
        run.expect_code(1);
    }
    let _ = std::io::stderr().flush();
}

/// Issue 16 item 4: a directory of symlinks (Kubernetes'
/// `/var/log/containers`) says how many links it did not follow.
#[test]
fn issue_16_symlinks_not_followed_are_counted() {
    let env = Env::new();
    let tok = tokens::github_classic(&mut Rng::new(167), "ghp");
    env.mkdir("pods");
    env.mkdir("containers");
    env.write("pods/a.log", format!("GET /x?access_token={tok}\n"));
    env.write("pods/b.log", "ok\n");
    env.write("containers/plain.log", "ok\n");
    for n in ["a", "b"] {
        std::os::unix::fs::symlink(
            env.path(&format!("pods/{n}.log")),
            env.path(&format!("containers/{n}.log")),
        )
        .expect("symlink");
    }
    std::os::unix::fs::symlink(env.path("pods/gone.log"), env.path("containers/gone.log"))
        .expect("dangling symlink");
    let run = env.run(&jsonl(&["containers"]));
    run.expect_stderr_line(&[
        "leaksweep: containers: 3 symbolic links inside not followed (-L follows them)",
    ]);
    run.check_eq(run.stdout(), String::new(), "nothing scanned through links");
    run.expect_code(0);
    let run = env.run(&jsonl(&["-L", "containers"]));
    run.check_eq(run.findings().len(), 1, "-L follows them");
    run.check(!run.stderr.contains("not followed"), "no note with -L");
    let run = env.run(&jsonl(&["-q", "containers"]));
    run.check_eq(run.stderr.clone(), String::new(), "-q hides the note");
}

/// Issue 16 item 8: names from archive bytes reach CSV cells and SARIF
/// messages escaped, as the human and JSON formats have them.
#[test]
fn issue_16_csv_and_sarif_escape_names() {
    let env = Env::new();
    let tok = tokens::github_classic(&mut Rng::new(168), "ghp");
    let name = "logs/\x1b]0;pwned\x07\x1b[2J\rfake[click](https://evil.example)\u{202e}.log";
    let data = format!("GET /x?access_token={tok} 200\n");
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    let mut b = tar::Builder::new(Vec::new());
    b.append_data(&mut h, name, data.as_bytes())
        .expect("member");
    env.write("t.tar", b.into_inner().expect("tar"));

    let run = env.run(&["scan", "--format", "csv", "t.tar"]);
    let out = run.stdout();
    let raw: Vec<char> = out
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| (c.is_control() && *c != '\n') || *c == '\u{202e}')
        .collect();
    run.check_eq(raw, vec![], "no raw control characters in the CSV");
    run.check(
        out.contains("\\x1b]0;pwned\\x07"),
        "ESC and BEL shown escaped",
    );
    run.check(out.contains("\\rfake"), "CR shown escaped");
    run.expect_code(1);

    let run = env.run(&["scan", "--format", "sarif", "t.tar"]);
    let sarif: serde_json::Value = serde_json::from_str(&run.stdout()).expect("sarif json");
    let text = sarif["runs"][0]["results"][0]["message"]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    run.check(
        !text.chars().any(|c| c.is_control() || c == '\u{202e}'),
        format!("no control characters in message.text: {text:?}"),
    );
    run.check(
        text.contains("\\[click\\]("),
        format!("markdown/SARIF link syntax escaped: {text:?}"),
    );
    run.check(!text.contains(&tok), "no secret");
    run.expect_code(1);
}
