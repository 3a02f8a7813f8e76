//! `leaksweep redact`: sanitized copies in the input's own format. Each
//! round trip redacts, checks that a scan of the copy finds nothing, and
//! checks that the copy differs from the input only where the secrets were
//! (byte-wise for text, after decompression for gzip/zstd, field-wise for a
//! HAR), with the marker the README documents.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::Value;

use crate::archives::gzip;
use crate::families::SEED;
use crate::har::{capture, secrets};
use crate::tokens;
use crate::util::{hmac_sha256_hex, Env, Run};

/// Every token family, one after another, between clean lines.
fn log_text() -> String {
    let mut text = String::from("2024-05-01T12:00:00Z INFO service starting\n");
    for case in tokens::catalogue(SEED) {
        text.push_str(&case.text);
        text.push_str("2024-05-01T12:00:09Z INFO request done in 12 ms\n");
    }
    text
}

/// The 8 hex digits a marker carries for `secret`: the start of its
/// HMAC-SHA256 under the environment's marker key.
pub fn tag(env: &Env, secret: &str) -> String {
    hmac_sha256_hex(&env.marker_key(), secret.as_bytes())[..8].to_string()
}

/// The findings of a scan of `input` with raw secrets: (offset, secret,
/// rule), in file order.
fn raw_findings(env: &Env, input: &Path) -> Vec<(usize, String, String)> {
    let run = env.run(&[
        "scan".as_ref(),
        "--format".as_ref(),
        "jsonl".as_ref(),
        "--show-secrets".as_ref(),
        input.as_os_str(),
    ]);
    let mut found: Vec<(usize, String, String)> = run
        .findings()
        .into_iter()
        .map(|f| {
            let offset =
                f.offset
                    .unwrap_or_else(|| run.fail("finding without offset")) as usize;
            (offset, f.secret, f.rule)
        })
        .collect();
    found.sort();
    run.check(!found.is_empty(), "the input has secrets");
    found
}

/// `input` as `redact` must write it: each finding of a scan (with raw
/// secrets) replaced by `[REDACTED:<rule>:<tag>]`, its line breaks kept
/// after the marker.
fn expected(env: &Env, input: &Path) -> Vec<u8> {
    let bytes = fs::read(input).expect("read input");
    let mut out = Vec::new();
    let mut at = 0;
    for (offset, secret, rule) in raw_findings(env, input) {
        out.extend_from_slice(&bytes[at..offset]);
        out.extend_from_slice(format!("[REDACTED:{rule}:{}]", tag(env, &secret)).as_bytes());
        out.extend(std::iter::repeat_n(b'\n', secret.matches('\n').count()));
        at = offset + secret.len();
    }
    out.extend_from_slice(&bytes[at..]);
    out
}

/// The marker of `secret` fitted to its length, as the README says: the
/// line breaks in place, the other bytes the first marker that fits of
/// `[REDACTED:<rule>:<tag>]`, `[REDACTED:<tag>]`, `[REDACTED]`, padded
/// with `*` (all `*` when none fits).
pub fn fitted(env: &Env, rule: &str, secret: &str) -> Vec<u8> {
    let room = secret.bytes().filter(|&b| b != b'\n').count();
    let marker = [
        format!("[REDACTED:{rule}:{}]", tag(env, secret)),
        format!("[REDACTED:{}]", tag(env, secret)),
        "[REDACTED]".to_string(),
    ]
    .into_iter()
    .find(|m| m.len() <= room)
    .unwrap_or_default();
    let mut m = marker.bytes();
    secret
        .bytes()
        .map(|b| {
            if b == b'\n' {
                b
            } else {
                m.next().unwrap_or(b'*')
            }
        })
        .collect()
}

/// `input` as `redact --in-place` must leave plain text: every secret's
/// bytes overwritten by its fitted marker, every other byte as it was.
pub fn expected_in_place(env: &Env, input: &Path) -> Vec<u8> {
    let mut bytes = fs::read(input).expect("read input");
    for (offset, secret, rule) in raw_findings(env, input) {
        bytes[offset..offset + secret.len()].copy_from_slice(&fitted(env, &rule, &secret));
    }
    bytes
}

fn redact(env: &Env, args: &[&str]) -> Run {
    let mut all = vec!["redact"];
    all.extend_from_slice(args);
    env.run(&all)
}

/// A scan of `path` finds nothing.
fn clean(env: &Env, path: &str) {
    let run = env.run(&["scan", "--format", "jsonl", path]);
    run.check_eq(
        run.findings().len(),
        0,
        format!("no finding left in {path}"),
    );
    run.expect_code(0);
}

#[test]
fn a_plain_log_changes_only_where_its_secrets_were() {
    let env = Env::new();
    let input = env.write("app.log", log_text());
    let want = expected(&env, &input);
    let run = redact(&env, &["app.log", "-o", "app.clean.log"]);
    run.expect_code(1);
    run.expect_stderr_line(&["app.log", "secrets redacted", "github-pat-classic 1"]);
    let got = fs::read(env.path("app.clean.log")).expect("output");
    run.check(
        got == want,
        "the copy is the input with each secret replaced by its marker",
    );
    run.check_eq(
        got.iter().filter(|&&b| b == b'\n').count(),
        log_text().matches('\n').count(),
        "line count",
    );
    clean(&env, "app.clean.log");
    run.check_eq(
        fs::read_to_string(&input).expect("input"),
        log_text(),
        "input untouched",
    );
}

#[test]
fn gzip_and_zstd_stay_compressed_and_match_the_plain_redaction() {
    let env = Env::new();
    let text = log_text();
    let plain = env.write("app.log", &text);
    let want = expected(&env, &plain);
    let gz = gzip(text.as_bytes());
    env.write("in/app.log.gz", gz);
    env.write(
        "in/app.log.zst",
        zstd::encode_all(text.as_bytes(), 1).expect("zstd"),
    );
    let run = redact(&env, &["in", "-o", "out"]);
    run.expect_code(1);
    let gz = fs::read(env.path("out/in/app.log.gz")).expect("gzip copy");
    run.check(gz.starts_with(b"\x1f\x8b"), "still gzip");
    let mut unzipped = Vec::new();
    flate2::read::MultiGzDecoder::new(&gz[..])
        .read_to_end(&mut unzipped)
        .expect("gunzip");
    run.check(unzipped == want, "gzip content redacted exactly");
    let zst = fs::read(env.path("out/in/app.log.zst")).expect("zstd copy");
    run.check(zst.starts_with(b"\x28\xb5\x2f\xfd"), "still zstd");
    run.check(
        zstd::decode_all(&zst[..]).expect("unzstd") == want,
        "zstd content redacted exactly",
    );
    clean(&env, "out");
}

#[test]
fn a_tar_keeps_its_members_modes_and_times() {
    let env = Env::new();
    let text = log_text();
    let gz = gzip(text.as_bytes());
    let mut b = tar::Builder::new(Vec::new());
    let mut dir = tar::Header::new_gnu();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_mode(0o750);
    dir.set_mtime(1_714_564_800);
    dir.set_uid(0);
    dir.set_gid(0);
    dir.set_size(0);
    b.append_data(&mut dir, "logs/", std::io::empty())
        .expect("dir");
    for (name, data, mode) in [
        ("logs/app.log", text.as_bytes(), 0o600),
        ("logs/app.log.1.gz", &gz[..], 0o640),
        ("logs/notes.txt", &b"nothing secret here\n"[..], 0o644),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_mtime(1_714_564_801);
        h.set_uid(1234);
        h.set_gid(5678);
        b.append_data(&mut h, name, data).expect("member");
    }
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Symlink);
    link.set_mode(0o777);
    link.set_mtime(1_714_564_802);
    link.set_uid(0);
    link.set_gid(0);
    link.set_size(0);
    b.append_link(&mut link, "logs/current", "app.log")
        .expect("link");
    env.write("logs.tar", b.into_inner().expect("tar"));
    let run = redact(&env, &["logs.tar", "-o", "logs.clean.tar"]);
    run.expect_code(1);
    let members = |path: &str| -> Vec<(String, u32, u64, u64, u64, String)> {
        let mut a = tar::Archive::new(fs::File::open(env.path(path)).expect("open tar"));
        a.entries()
            .expect("entries")
            .map(|e| {
                let e = e.expect("entry");
                let h = e.header();
                (
                    e.path().expect("path").display().to_string(),
                    h.mode().expect("mode"),
                    h.mtime().expect("mtime"),
                    h.uid().expect("uid"),
                    h.gid().expect("gid"),
                    format!("{:?}", h.entry_type()),
                )
            })
            .collect()
    };
    run.check_eq(
        members("logs.clean.tar"),
        members("logs.tar"),
        "members, modes, times, owners",
    );
    clean(&env, "logs.clean.tar");
    let mut a = tar::Archive::new(fs::File::open(env.path("logs.clean.tar")).expect("open"));
    let notes = a
        .entries()
        .expect("entries")
        .filter_map(Result::ok)
        .find(|e| e.path().is_ok_and(|p| p.ends_with("notes.txt")))
        .map(|mut e| {
            let mut s = String::new();
            e.read_to_string(&mut s).expect("read");
            s
        });
    run.check_eq(
        notes.as_deref(),
        Some("nothing secret here\n"),
        "a clean member is copied as it was",
    );
}

/// Every string of `a` and `b`, pairwise (the two must have one shape).
fn strings<'a>(
    a: &'a Value,
    b: &'a Value,
    path: String,
    out: &mut Vec<(String, &'a str, &'a str)>,
) {
    match (a, b) {
        (Value::String(x), Value::String(y)) => out.push((path, x, y)),
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                strings(x, y, format!("{path}[{i}]"), out);
            }
        }
        (Value::Object(x), Value::Object(y)) if x.len() == y.len() => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => strings(v, w, format!("{path}.{k}"), out),
                    None => out.push((format!("{path}.{k} missing"), "", "")),
                }
            }
        }
        (x, y) if x == y => {}
        _ => out.push((format!("{path} changed shape"), "", "")),
    }
}

#[test]
fn a_har_stays_a_har_with_only_secret_fields_changed() {
    let s = secrets();
    let env = Env::new();
    env.write("capture.har", capture(&s));
    let run = redact(&env, &["capture.har", "-o", "capture.clean.har"]);
    run.expect_code(1);
    let before: Value = serde_json::from_str(&capture(&s)).expect("input json");
    let text = fs::read_to_string(env.path("capture.clean.har")).expect("output");
    let after: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| run.fail(format!("not JSON: {e}")));
    let mut pairs = Vec::new();
    strings(&before, &after, String::new(), &mut pairs);
    let mut changed = Vec::new();
    for (path, x, y) in &pairs {
        run.check(
            !path.ends_with("shape") && !path.ends_with("missing"),
            format!("same shape: {path}"),
        );
        if x != y {
            changed.push(path.as_str());
            if path.ends_with("content.text") {
                let body = STANDARD.decode(y).expect("still base64");
                let body = String::from_utf8(body).expect("text body");
                run.check(
                    body.contains("[REDACTED:github-pat-classic:"),
                    "base64 body redacted inside",
                );
            } else {
                run.check(
                    y.contains("[REDACTED:"),
                    format!("{path}: only redacted fields change"),
                );
            }
        }
    }
    for field in [
        ".log.entries[0].request.url",
        ".log.entries[0].request.headers[0].value",
        ".log.entries[0].request.headers[1].value",
        ".log.entries[0].request.cookies[0].value",
        ".log.entries[0].request.queryString[0].value",
        ".log.entries[0].request.postData.text",
        ".log.entries[0].request.postData.params[0].value",
        ".log.entries[0].response.headers[0].value",
        ".log.entries[0].response.cookies[0].value",
        ".log.entries[0].response.content.text",
        ".log.entries[0].response.redirectURL",
        ".log.entries[0]._webSocketMessages[1].data",
        ".log.entries[0]._custom.note",
        ".log.entries[1].request.url",
        ".log.pages[0].title",
    ] {
        run.check(changed.contains(&field), format!("{field} redacted"));
    }
    run.check(
        !changed
            .iter()
            .any(|c| c.contains("headers[2]") || c.contains("headers[3]")),
        "X-Request-Id and ETag untouched",
    );
    // Percent-encoded secrets are replaced in their encoded form.
    let form = after["log"]["entries"][0]["request"]["postData"]["text"]
        .as_str()
        .unwrap_or_default();
    run.check(
        form.starts_with("grant_type=client_credentials&client_id=web&client_secret=[REDACTED:"),
        format!("form body: {form}"),
    );
    run.check(!form.contains("%2B"), "no encoded remainder of the secret");
    clean(&env, "capture.clean.har");
}

#[test]
fn in_place_keeps_permissions_and_owner_and_a_second_run_finds_nothing() {
    let env = Env::new();
    let path = env.write("app.log", log_text());
    let want = expected_in_place(&env, &path);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
    let owner = (4321, 8765);
    let owned = std::os::unix::fs::chown(&path, Some(owner.0), Some(owner.1)).is_ok();
    let before = fs::metadata(&path).expect("meta");
    let run = redact(&env, &["--in-place", "app.log"]);
    run.expect_code(1);
    let after = fs::metadata(&path).expect("meta");
    run.check(fs::read(&path).expect("read") == want, "redacted in place");
    run.check_eq(after.mode() & 0o7777, 0o640, "mode kept");
    run.check_eq(
        (after.uid(), after.gid()),
        (before.uid(), before.gid()),
        "owner kept",
    );
    if owned {
        run.check_eq((after.uid(), after.gid()), owner, "the foreign owner kept");
    }
    run.check_eq(
        after.ino(),
        before.ino(),
        "plain text is rewritten on its own inode, not replaced",
    );
    run.check_eq(after.len(), before.len(), "same length");
    redact(&env, &["--in-place", "app.log"]).expect_code(0);
    let names: Vec<String> = fs::read_dir(env.root())
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    run.check_eq(names, vec!["app.log".to_string()], "no temporary file left");
}

#[test]
fn a_failure_midway_leaves_the_input_and_no_output() {
    let env = Env::new();
    let text = log_text();
    let gz = gzip(text.repeat(50).as_bytes());
    // Cut off: decoding fails after part of the copy is written.
    let cut = &gz[..gz.len() * 2 / 3];
    env.write("in/cut.log.gz", cut);
    env.write("in/good.log", &text);
    let run = redact(&env, &["in", "-o", "out"]);
    run.expect_code(2);
    run.expect_stderr_line(&["in/cut.log.gz", "nothing written"]);
    run.check(!env.path("out/in/cut.log.gz").exists(), "no partial copy");
    run.check(
        env.path("out/in/good.log").exists(),
        "the other input is redacted",
    );
    run.check_eq(
        fs::read(env.path("in/cut.log.gz")).expect("input"),
        cut.to_vec(),
        "input intact",
    );
    let left: Vec<_> = fs::read_dir(env.path("out/in"))
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .collect();
    run.check_eq(left.len(), 1, "no temporary file left");
    // An output under a regular file cannot be created: an error, the input
    // intact.
    env.write("blocker", "x");
    let run = redact(&env, &["in/good.log", "-o", "blocker/good.log"]);
    run.expect_code(2);
    run.check_eq(
        fs::read_to_string(env.path("in/good.log")).expect("input"),
        text,
        "input intact",
    );
}

#[test]
fn refuses_to_write_a_file_onto_itself_by_another_path() {
    let env = Env::new();
    let path = env.write("app.log", log_text());
    fs::hard_link(&path, env.path("alias.log")).expect("link");
    let run = redact(&env, &["app.log", "-o", "alias.log"]);
    run.expect_code(2);
    run.expect_stderr_line(&["app.log", "--in-place"]);
    run.check_eq(
        fs::read_to_string(&path).expect("input"),
        log_text(),
        "input untouched",
    );
    let run = redact(&env, &["app.log", "-o", "./app.log"]);
    run.expect_code(2);
    run.check_eq(
        fs::read_to_string(&path).expect("input"),
        log_text(),
        "input untouched",
    );
}

#[test]
fn a_fixed_marker_and_a_clean_input() {
    let env = Env::new();
    env.write("app.log", log_text());
    env.write("clean.log", "2024-05-01T12:00:00Z INFO nothing here\n");
    let run = redact(&env, &["app.log", "-o", "out.log", "--marker", "***"]);
    run.expect_code(1);
    let out = fs::read_to_string(env.path("out.log")).expect("output");
    run.check(
        out.contains("token=*** HTTP/1.1") && !out.contains("[REDACTED"),
        "fixed marker",
    );
    let run = redact(&env, &["clean.log", "-o", "clean.out.log"]);
    run.expect_code(0);
    run.expect_stderr_line(&["clean.log", "nothing to redact"]);
    run.check_eq(
        fs::read(env.path("clean.out.log")).expect("copy"),
        fs::read(env.path("clean.log")).expect("input"),
        "a clean copy is the input",
    );
    let run = redact(&env, &["clean.log"]);
    run.expect_code(2);
}

#[test]
fn in_place_follows_a_symlink_and_refuses_to_replace_a_file_with_other_names() {
    let env = Env::new();
    let real = env.write("real/app.log", log_text());
    let want = expected_in_place(&env, &real);
    std::os::unix::fs::symlink(&real, env.path("app.log")).expect("symlink");
    let run = redact(&env, &["--in-place", "app.log"]);
    run.expect_code(1);
    run.check(
        fs::symlink_metadata(env.path("app.log"))
            .expect("meta")
            .file_type()
            .is_symlink(),
        "the link stays a link",
    );
    run.check(
        fs::read(&real).expect("target") == want,
        "its target is redacted",
    );
    // Plain text is rewritten on its inode: every name sees the redaction.
    let linked = env.write("linked.log", log_text());
    let want = expected_in_place(&env, &linked);
    fs::hard_link(&linked, env.path("other-name.log")).expect("hard link");
    let run = redact(&env, &["--in-place", "linked.log"]);
    run.expect_code(1);
    run.check(
        fs::read(env.path("other-name.log")).expect("other name") == want,
        "the other name is redacted too",
    );
    // A compressed file would be replaced: its other names would keep the
    // secrets, so it is refused.
    let gz = env.write("linked.log.gz", gzip(log_text().as_bytes()));
    fs::hard_link(&gz, env.path("other-name.log.gz")).expect("hard link");
    let run = redact(&env, &["--in-place", "linked.log.gz"]);
    run.expect_code(2);
    run.expect_stderr_line(&["linked.log.gz", "hard links"]);
    run.check_eq(
        fs::read(&gz).expect("input"),
        gzip(log_text().as_bytes()),
        "untouched",
    );
}
