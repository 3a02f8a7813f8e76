//! Issue 17: `redact` never damages what it was given. Tar members of
//! every kind survive (checked with GNU tar itself), a live log keeps every
//! line appended while it is redacted in place, copies never carry setuid
//! bits, files with nothing to redact are never rewritten, decompression
//! limits apply, and re-runs neither nest nor leave temporary files.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::Command;

use crate::archives::gzip;
use crate::families::SEED;
use crate::tokens::github_classic;
use crate::util::{Env, Rng, Run};

/// Whether `tool` can be run. Absent, the test is skipped with a note,
/// unless it runs in CI (`CI` set), where a missing tool is a failure.
pub fn have(tool: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("{tool} is needed by this test and CI must have it (see .ci/run)");
        }
        eprintln!("note: {tool} not installed: test skipped");
    }
    found
}

/// Runs a command in `dir`, panicking with its stderr on failure.
fn sh(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
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

/// Two log lines, one holding a fresh GitHub token.
fn secret_log(r: &mut Rng) -> String {
    format!(
        "2024-05-01T12:00:00Z GET /api?access_token={} HTTP/1.1\n2024-05-01T12:00:01Z ok\n",
        github_classic(r, "ghp")
    )
}

/// Every file under `a` has a same-named file under `b` of the same
/// length, equal byte for byte when `a`'s has no secret (per `secret`).
fn compare_trees(run: &Run, a: &Path, b: &Path, has_secret: &dyn Fn(&Path) -> bool) {
    for e in walkdir::WalkDir::new(a).sort_by_file_name() {
        let e = e.expect("walk");
        let rel = e.path().strip_prefix(a).expect("prefix");
        let other = b.join(rel);
        let ft = e.file_type();
        let om = fs::symlink_metadata(&other)
            .unwrap_or_else(|_| run.fail(format!("{} missing from the copy", rel.display())));
        run.check_eq(
            format!("{:?}", om.file_type()),
            format!("{ft:?}"),
            format!("{}: kind", rel.display()),
        );
        if ft.is_file() {
            let x = fs::read(e.path()).expect("read");
            let y = fs::read(&other).expect("read copy");
            run.check_eq(y.len(), x.len(), format!("{}: length", rel.display()));
            if !has_secret(e.path()) {
                run.check(
                    x == y,
                    format!("{}: a clean member is unchanged", rel.display()),
                );
            } else {
                run.check(x != y, format!("{}: redacted", rel.display()));
            }
        } else if ft.is_symlink() {
            run.check_eq(
                fs::read_link(&other).ok(),
                fs::read_link(e.path()).ok(),
                format!("{}: link target", rel.display()),
            );
        }
    }
}

/// `tar tvf` of `path` (ok and its listing).
fn listing(dir: &Path, path: &str) -> String {
    String::from_utf8_lossy(&sh(dir, &["tar", "--numeric-owner", "-tvf", path])).into_owned()
}

#[test]
fn issue17_tar_members_of_every_kind_survive_redaction() {
    if !have("tar") {
        return;
    }
    let env = Env::new();
    let r = &mut Rng::new(SEED ^ 17);
    let src = env.mkdir("src");
    fs::write(src.join("app.log"), secret_log(r)).expect("write");
    fs::write(src.join("clean.txt"), "nothing secret here\n").expect("write");
    let deep = src.join(format!("{}/{}", "d".repeat(70), "e".repeat(70)));
    fs::create_dir_all(&deep).expect("mkdir");
    fs::write(deep.join("long-named.log"), secret_log(r)).expect("write");
    fs::create_dir(src.join("empty")).expect("mkdir");
    std::os::unix::fs::symlink("app.log", src.join("current")).expect("symlink");
    fs::hard_link(src.join("clean.txt"), src.join("clean-link.txt")).expect("link");
    sh(&src, &["mkfifo", "pipe"]);
    // A sparse text log: lines, a 3 MiB hole, a line with a secret.
    {
        let f = fs::File::create(src.join("sparse.log")).expect("create");
        use std::os::unix::fs::FileExt;
        f.write_all_at(b"2024-05-01T12:00:00Z start\n".repeat(400).as_slice(), 0)
            .expect("write");
        f.write_all_at(secret_log(r).as_bytes(), 3 << 20)
            .expect("write");
    }
    let has_secret = |p: &Path| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        ["app.log", "long-named.log", "sparse.log"].contains(&name)
    };
    for (tarball, flags) in [
        ("gnu.tar", &["--format=gnu", "--sparse"][..]),
        (
            "pax00.tar",
            &["--format=pax", "--sparse", "--sparse-version=0.0"],
        ),
        (
            "pax01.tar",
            &["--format=pax", "--sparse", "--sparse-version=0.1"],
        ),
        (
            "pax10.tar",
            &["--format=pax", "--sparse", "--sparse-version=1.0"],
        ),
        ("ustar.tar", &["--format=ustar"]),
    ] {
        let mut args = vec!["tar", "-c", "-f", tarball];
        args.extend_from_slice(flags);
        if *tarball == *"ustar.tar" {
            // ustar has no long names, no sparse members.
            args.extend([
                "-C",
                "src",
                "app.log",
                "clean.txt",
                "current",
                "empty",
                "pipe",
            ]);
        } else {
            args.extend(["-C", "src", "."]);
        }
        sh(env.root(), &args);
        let out = format!("clean-{tarball}");
        let run = redact(&env, &[tarball, "-o", &out]);
        run.expect_code(1);
        let before = listing(env.root(), tarball);
        let after = listing(env.root(), &out);
        run.check_eq(
            after,
            before,
            format!("{tarball}: tar tvf lists the same members"),
        );
        let (x, y) = (format!("x-{tarball}"), format!("y-{tarball}"));
        env.mkdir(&x);
        env.mkdir(&y);
        sh(env.root(), &["tar", "-x", "-f", tarball, "-C", &x]);
        sh(env.root(), &["tar", "-x", "-f", &out, "-C", &y]);
        compare_trees(&run, &env.path(&x), &env.path(&y), &has_secret);
        clean(&env, &y);
        clean(&env, &out);
    }
}

/// A tar the crate writes with what GNU tar writes rarely: a pax global
/// header (as `git archive` writes), pax records (xattrs, sub-second
/// times), devices, and links.
fn crafted_tar(r: &mut Rng) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut g = tar::Header::new_ustar();
    let comment = b"52 comment=0123456789abcdef0123456789abcdef01234567\n";
    g.set_entry_type(tar::EntryType::XGlobalHeader);
    g.set_size(comment.len() as u64);
    g.set_mode(0o644);
    b.append_data(&mut g, "pax_global_header", &comment[..])
        .expect("global");
    b.append_pax_extensions([
        ("SCHILY.xattr.user.origin", &b"web-01"[..]),
        ("mtime", b"1714564800.123456789"),
    ])
    .expect("pax");
    let text = secret_log(r);
    let mut h = tar::Header::new_ustar();
    h.set_size(text.len() as u64);
    h.set_mode(0o640);
    h.set_mtime(1_714_564_800);
    b.append_data(&mut h, "logs/app.log", text.as_bytes())
        .expect("file");
    for (name, kind, major, minor) in [
        ("dev/null", tar::EntryType::Char, 1, 3),
        ("dev/loop0", tar::EntryType::Block, 7, 0),
    ] {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(kind);
        h.set_size(0);
        h.set_mode(0o600);
        h.set_device_major(major).expect("major");
        h.set_device_minor(minor).expect("minor");
        b.append_data(&mut h, name, std::io::empty())
            .expect("device");
    }
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Fifo);
    h.set_size(0);
    h.set_mode(0o644);
    b.append_data(&mut h, "run/fifo", std::io::empty())
        .expect("fifo");
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Link);
    h.set_size(0);
    b.append_link(&mut h, "logs/app.hard", "logs/app.log")
        .expect("hard link");
    b.into_inner().expect("tar")
}

/// Each member's header fields and pax records, as the tar crate reads them.
fn members(bytes: &[u8]) -> Vec<String> {
    let mut a = tar::Archive::new(bytes);
    a.entries()
        .expect("entries")
        .map(|e| {
            let mut e = e.expect("entry");
            let h = e.header().clone();
            let pax: Vec<String> = e
                .pax_extensions()
                .ok()
                .flatten()
                .map(|p| {
                    p.filter_map(Result::ok)
                        .map(|x| format!("{}={:?}", x.key().unwrap_or("?"), x.value_bytes()))
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "{:?} {} size {} mode {:o} mtime {} dev {:?}/{:?} link {:?} pax {pax:?}",
                h.entry_type(),
                String::from_utf8_lossy(&e.path_bytes()),
                e.size(),
                h.mode().unwrap_or(0),
                h.mtime().unwrap_or(0),
                h.device_major().ok().flatten(),
                h.device_minor().ok().flatten(),
                e.link_name_bytes().map(|l| l.into_owned()),
            )
        })
        .collect()
}

#[test]
fn issue17_pax_global_headers_devices_and_records_are_copied() {
    let env = Env::new();
    let r = &mut Rng::new(SEED ^ 171);
    let input = crafted_tar(r);
    env.write("crafted.tar", &input);
    let run = redact(&env, &["crafted.tar", "-o", "out.tar"]);
    run.expect_code(1);
    let out = fs::read(env.path("out.tar")).expect("copy");
    run.check_eq(
        members(&out),
        members(&input),
        "every member, field and pax record",
    );
    let mut a = tar::Archive::new(&out[..]);
    let mut body = String::new();
    a.entries()
        .expect("entries")
        .filter_map(Result::ok)
        .find(|e| e.path_bytes().as_ref() == b"pax_global_header")
        .map(|mut e| e.read_to_string(&mut body))
        .expect("the global header is still there")
        .expect("read");
    run.check(
        body.contains("comment=0123456789abcdef"),
        "its comment kept",
    );
    clean(&env, "out.tar");
    if have("tar") {
        let before = listing(env.root(), "crafted.tar");
        run.check_eq(listing(env.root(), "out.tar"), before, "tar tvf agrees");
    }
}

#[test]
fn issue17_an_unsupported_member_type_is_an_error_not_an_empty_body() {
    let env = Env::new();
    let r = &mut Rng::new(SEED ^ 172);
    let mut b = tar::Builder::new(Vec::new());
    let text = secret_log(r);
    let mut h = tar::Header::new_gnu();
    h.set_size(text.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, "app.log", text.as_bytes())
        .expect("file");
    // A GNU dumpdir ('D') with a body.
    let dump = b"Ydir-listing\0\0";
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::new(b'D'));
    h.set_size(dump.len() as u64);
    h.set_mode(0o755);
    b.append_data(&mut h, "snapshot/", &dump[..])
        .expect("dumpdir");
    env.write("odd.tar", b.into_inner().expect("tar"));
    let run = redact(&env, &["odd.tar", "-o", "odd.out.tar"]);
    run.expect_code(2);
    run.expect_stderr_line(&["odd.tar", "snapshot/", "'D'", "nothing written"]);
    run.check(!env.path("odd.out.tar").exists(), "no copy written");
}

/// `leaksweep ARGS` in `env` with `TMPDIR` set to `tmp`.
fn run_tmpdir(env: &Env, args: &[&str], tmp: &Path) -> (Option<i32>, String) {
    let out = Command::new(crate::util::BIN)
        .args(args)
        .current_dir(env.root())
        .env("TMPDIR", tmp)
        .output()
        .expect("run leaksweep");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A tar of one member `name` holding `data`.
fn one_member_tar(name: &str, data: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, name, data).expect("member");
    b.into_inner().expect("tar")
}

#[test]
fn issue17_tar_members_stream_and_spill_only_compressed_to_tmpdir() {
    let env = Env::new();
    let r = &mut Rng::new(SEED ^ 173);
    // 40 MiB of log text in a tar.gz, with no usable TMPDIR: a text member
    // keeps its length, so it streams and needs no temporary file.
    let mut text = String::new();
    while text.len() < 40 << 20 {
        text.push_str(&secret_log(r));
        text.push_str(&"2024-05-01T12:00:02Z INFO request done in 12 ms\n".repeat(2000));
    }
    env.write(
        "big.tar.gz",
        gzip(&one_member_tar("big.log", text.as_bytes())),
    );
    let nowhere = env.path("no-such-dir");
    let (code, stderr) = run_tmpdir(
        &env,
        &["redact", "big.tar.gz", "-o", "big.clean.tar.gz"],
        &nowhere,
    );
    assert_eq!(code, Some(1), "{stderr}");
    let mut tarball = Vec::new();
    flate2::read::GzDecoder::new(fs::File::open(env.path("big.clean.tar.gz")).expect("open"))
        .read_to_end(&mut tarball)
        .expect("gunzip");
    let mut a = tar::Archive::new(&tarball[..]);
    let mut e = a
        .entries()
        .expect("entries")
        .next()
        .expect("one")
        .expect("entry");
    let mut out = Vec::new();
    e.read_to_end(&mut out).expect("read");
    assert_eq!(out.len(), text.len(), "same length");
    clean(&env, "big.clean.tar.gz");
    // A nested tar changes size: it is spooled, past 16 MiB to TMPDIR,
    // and the error says where when that cannot be written.
    let inner = one_member_tar("big.log", text.as_bytes());
    env.write("nested.tar.gz", gzip(&one_member_tar("inner.tar", &inner)));
    let (code, stderr) = run_tmpdir(
        &env,
        &["redact", "nested.tar.gz", "-o", "nested.out.tar.gz"],
        &nowhere,
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("TMPDIR") && stderr.contains("no-such-dir"),
        "{stderr}"
    );
    let tmp = env.mkdir("tmp");
    let (code, stderr) = run_tmpdir(
        &env,
        &["redact", "nested.tar.gz", "-o", "nested.out.tar.gz"],
        &tmp,
    );
    assert_eq!(code, Some(1), "{stderr}");
    clean(&env, "nested.out.tar.gz");
}
