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

/// `getfacl` and `getfattr -d` of `path` (ACLs and user xattrs).
fn acl_and_xattrs(dir: &Path, path: &str) -> String {
    let acl = sh(dir, &["getfacl", "-n", path]);
    let attrs = sh(dir, &["getfattr", "-d", path]);
    format!(
        "{}{}",
        String::from_utf8_lossy(&acl),
        String::from_utf8_lossy(&attrs)
    )
}

/// A log of about `bytes` bytes with a secret every 500 lines.
fn big_log(r: &mut Rng, bytes: usize) -> String {
    let mut text = String::new();
    while text.len() < bytes {
        text.push_str(&secret_log(r));
        text.push_str(&"2024-05-01T12:00:02Z INFO request done in 12 ms\n".repeat(500));
    }
    text
}

#[test]
fn issue17_in_place_on_a_live_log_keeps_every_appended_line() {
    if !have("setfacl") || !have("setfattr") {
        return;
    }
    use std::io::Write;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let env = Env::new();
    let r = &mut Rng::new(SEED ^ 174);
    let path = env.write("app.log", big_log(r, 24 << 20));
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
    let _ = std::os::unix::fs::chown(&path, Some(4321), Some(8765));
    sh(env.root(), &["setfacl", "-m", "u:65534:r", "app.log"]);
    sh(
        env.root(),
        &["setfattr", "-n", "user.origin", "-v", "web-01", "app.log"],
    );
    let before = fs::metadata(&path).expect("meta");
    let attrs = acl_and_xattrs(env.root(), "app.log");
    // The writer: numbered lines, one write(2) each, O_APPEND, as a logger.
    let stop = AtomicBool::new(false);
    let written = AtomicU64::new(0);
    let (run, during) = std::thread::scope(|s| {
        let writer = s.spawn(|| {
            let mut f = fs::OpenOptions::new()
                .append(true)
                .custom_flags(libc::O_CLOEXEC)
                .open(&path)
                .expect("open for append");
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) || i < 50 {
                i += 1;
                f.write_all(format!("2024-05-01T13:00:00Z writer line {i} end\n").as_bytes())
                    .expect("append");
                written.store(i, Ordering::Relaxed);
                if i.is_multiple_of(20) {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            }
            i
        });
        while written.load(Ordering::Relaxed) < 10 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let at_start = written.load(Ordering::Relaxed);
        let run = redact(&env, &["--in-place", "app.log"]);
        let during = written.load(Ordering::Relaxed) - at_start;
        stop.store(true, Ordering::Relaxed);
        let total = writer.join().expect("writer");
        (run, (during, total))
    });
    run.expect_code(1);
    let (during, total) = during;
    run.check(during > 0, "the writer appended while redact ran");
    let text = fs::read_to_string(&path).expect("read");
    let mut next = 1u64;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("2024-05-01T13:00:00Z writer line ") {
            run.check_eq(
                rest,
                &format!("{next} end")[..],
                "writer lines whole and in order",
            );
            next += 1;
        }
    }
    run.check_eq(
        next - 1,
        total,
        format!("every writer line kept ({during} appended during the run)"),
    );
    clean(&env, "app.log");
    let after = fs::metadata(&path).expect("meta");
    run.check_eq(after.ino(), before.ino(), "same inode");
    run.check_eq(after.mode(), before.mode(), "same mode");
    run.check_eq(
        (after.uid(), after.gid()),
        (before.uid(), before.gid()),
        "same owner",
    );
    run.check_eq(
        acl_and_xattrs(env.root(), "app.log"),
        attrs,
        "same ACLs and xattrs",
    );
}

#[test]
fn issue17_a_compressed_input_that_changes_while_redacted_in_place_is_left_alone() {
    use std::io::Write;
    let env = Env::new();
    let r = &mut Rng::new(SEED ^ 175);
    let gz = gzip(big_log(r, 24 << 20).as_bytes());
    let path = env.write("app.log.gz", &gz);
    let extra = gzip(b"2024-05-01T13:00:00Z appended member\n");
    let run = env.run_while(&["redact", "--in-place", "app.log.gz"], |_| {
        // Once the temporary copy exists the input is open and being read.
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_secs(60) {
            let busy = fs::read_dir(env.root()).expect("ls").flatten().any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".leaksweep-redact-")
            });
            if busy {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        f.write_all(&extra).expect("append");
    });
    run.expect_code(2);
    run.expect_stderr_line(&["app.log.gz", "changed while it was read"]);
    let mut want = gz.clone();
    want.extend_from_slice(&extra);
    run.check(
        fs::read(&path).expect("read") == want,
        "the input is as the writer left it",
    );
}

#[test]
fn issue17_copies_never_carry_setuid_setgid_or_sticky_bits() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let env = Env::new();
    let r = &mut Rng::new(SEED ^ 176);
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    for (name, body) in [
        ("secret.log", secret_log(r)),
        ("clean.log", "nothing here\n".into()),
    ] {
        let path = env.write(name, &body);
        let _ = std::os::unix::fs::chown(&path, Some(65534), Some(65534));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o7755)).expect("chmod");
        let out = format!("out-{name}");
        let run = redact(&env, &[name, "-o", &out]);
        let m = fs::metadata(env.path(&out)).expect("copy");
        run.check_eq(
            m.mode() & 0o7777,
            0o755,
            format!("{name}: mode without setuid/setgid/sticky"),
        );
        run.check_eq(m.uid(), me, format!("{name}: owned by the running user"));
    }
}

#[test]
fn issue17_a_file_with_nothing_to_redact_is_never_rewritten() {
    use std::os::unix::fs::MetadataExt;
    let env = Env::new();
    let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    let mut lone = b"\xff\xfe".to_vec();
    lone.extend(utf16("2024-05-01 INFO start\r\n"));
    lone.extend([0x00, 0xd8]); // a lone high surrogate
    lone.extend(utf16(" INFO done\r\n"));
    let mut odd = b"\xff\xfe".to_vec();
    odd.extend(utf16("2024-05-01 INFO start\r\n"));
    odd.push(b'x'); // an odd trailing byte
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("lone-surrogate.log", lone),
        ("odd-byte.log", odd),
        (
            "ascii-after-bom.log",
            b"\xff\xfeplain ascii text after a BOM\n".to_vec(),
        ),
        ("clean.log.gz", gzip(b"2024-05-01 INFO nothing secret\n")),
        (
            "clean.log.zst",
            zstd::encode_all(&b"2024-05-01 INFO nothing\n"[..], 19).expect("zstd"),
        ),
    ];
    for (name, bytes) in &cases {
        let path = env.write(name, bytes);
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(old))
            .expect("set mtime");
        let before = fs::metadata(&path).expect("meta");
        let run = redact(&env, &["--in-place", name]);
        run.expect_code(0);
        run.expect_stderr_line(&[name, "nothing to redact"]);
        let after = fs::metadata(&path).expect("meta");
        run.check(
            fs::read(&path).expect("read") == *bytes,
            format!("{name}: bytes unchanged"),
        );
        run.check_eq(
            (after.ino(), after.mtime()),
            (before.ino(), before.mtime()),
            format!("{name}: not rewritten"),
        );
        let out = format!("copy-{name}");
        let run = redact(&env, &[name, "-o", &out]);
        run.expect_code(0);
        run.check(
            fs::read(env.path(&out)).expect("copy") == *bytes,
            format!("{name}: the copy is byte-identical"),
        );
    }
}

#[test]
fn issue17_redact_applies_the_scan_limits() {
    let env = Env::new();
    let r = &mut Rng::new(SEED ^ 177);
    env.write("big.log.gz", gzip(big_log(r, 4 << 20).as_bytes()));
    let run = redact(
        &env,
        &["big.log.gz", "-o", "out.log.gz", "--max-decoded", "1M"],
    );
    run.expect_code(2);
    run.expect_stderr_line(&["big.log.gz", "--max-decoded", "nothing written"]);
    run.check(!env.path("out.log.gz").exists(), "no copy");
    let nested = gzip(&gzip(secret_log(r).as_bytes()));
    env.write("nested.log.gz.gz", &nested);
    let run = redact(
        &env,
        &["nested.log.gz.gz", "-o", "out.gz", "--max-depth", "1"],
    );
    run.expect_code(2);
    run.expect_stderr_line(&["nested.log.gz.gz", "--max-depth"]);
    let run = redact(
        &env,
        &["nested.log.gz.gz", "-o", "out.gz", "--max-depth", "2"],
    );
    run.expect_code(1);
}

#[test]
fn issue17_a_rerun_into_a_directory_under_the_input_does_not_nest() {
    let env = Env::new();
    let r = &mut Rng::new(SEED ^ 178);
    env.write("logs/app.log", secret_log(r));
    env.write("logs/old/app.log.1", secret_log(r));
    for _ in 0..3 {
        redact(&env, &["logs", "-o", "logs/clean"]).expect_code(1);
    }
    let mut files: Vec<String> = walkdir::WalkDir::new(env.path("logs"))
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(env.root())
                .expect("rel")
                .display()
                .to_string()
        })
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "logs/app.log",
            "logs/clean/logs/app.log",
            "logs/clean/logs/old/app.log.1",
            "logs/old/app.log.1"
        ]
    );
}

#[test]
fn issue17_a_killed_run_leaves_a_temporary_file_the_next_run_removes() {
    let env = Env::new();
    let r = &mut Rng::new(SEED ^ 179);
    env.write("in/big.log.gz", gzip(big_log(r, 24 << 20).as_bytes()));
    env.mkdir("out/in");
    let temps = || -> Vec<String> {
        fs::read_dir(env.path("out/in"))
            .expect("ls")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".leaksweep-redact-"))
            .collect()
    };
    let mut child = Command::new(crate::util::BIN)
        .args(["redact", "-q", "in", "-o", "out"])
        .current_dir(env.root())
        .spawn()
        .expect("spawn");
    let start = std::time::Instant::now();
    while temps().is_empty() && start.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    child.kill().expect("kill -9");
    child.wait().expect("wait");
    assert_eq!(temps().len(), 1, "the killed run left its temporary file");
    let run = redact(&env, &["in", "-o", "out"]);
    run.expect_code(1);
    run.check_eq(temps(), Vec::<String>::new(), "the next run removed it");
    // A live run's temporary file is not removed by another run.
    let live = tempfile::Builder::new()
        .prefix(&format!(".leaksweep-redact-{}-", std::process::id()))
        .tempfile_in(env.path("out/in"))
        .expect("temp");
    redact(&env, &["in", "-o", "out"]).expect_code(1);
    run.check(live.path().exists(), "a live process's file is kept");
    drop(live);
    // Left in an input directory, it is not an input either: a run in
    // place removes it and redacts the rest without an error.
    // (A process id above Linux's pid_max: no such process.)
    let stale = env.path("in/.leaksweep-redact-999999999-stale");
    fs::write(&stale, "GET /?access_token=x\n").expect("write");
    let run = redact(&env, &["--in-place", "in"]);
    run.expect_code(1);
    run.check(
        !stale.exists(),
        "the stale file in the input directory is removed",
    );
}

#[test]
fn a_fifo_given_to_redact_is_refused_not_waited_on() {
    let env = Env::new();
    sh(env.root(), &["mkfifo", "pipe"]);
    let run = redact(&env, &["pipe", "-o", "pipe.out"]);
    run.expect_code(2);
    run.expect_stderr_line(&["pipe", "not a regular file"]);
    let run = redact(&env, &["--in-place", "pipe"]);
    run.expect_code(2);
}

#[test]
fn issue17_utf16_with_unpaired_surrogates_changes_only_where_the_secret_was() {
    let env = Env::new();
    let r = &mut Rng::new(SEED ^ 180);
    let u16le = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    let secret = github_classic(r, "ghp");
    let build = |middle: &str| -> Vec<u8> {
        let mut v = b"\xff\xfe".to_vec();
        v.extend(u16le("2024-05-01 INFO start\r\n"));
        v.extend([0x00, 0xd8]); // a lone high surrogate
        v.extend(u16le(&format!(
            " GET /api?access_token={middle} HTTP/1.1\r\n"
        )));
        v.extend([0x00, 0xdc]); // a lone low surrogate
        v.extend(u16le("end\r\n"));
        v.push(b'q'); // an odd trailing byte
        v
    };
    env.write("win.log", build(&secret));
    let scan = env.run(&["scan", "--format", "jsonl", "win.log"]);
    let found = scan.findings();
    scan.check_eq(found.len(), 1, "one secret in the UTF-16 log");
    let marker = format!(
        "[REDACTED:{}:{}]",
        found[0].rule,
        crate::redact::tag(&env, &secret)
    );
    let run = redact(&env, &["win.log", "-o", "win.clean.log"]);
    run.expect_code(1);
    run.check(
        fs::read(env.path("win.clean.log")).expect("copy") == build(&marker),
        "the copy is the input with only the secret replaced, every odd unit kept",
    );
    let run = redact(&env, &["--in-place", "win.log"]);
    run.expect_code(1);
    run.check(
        fs::read(env.path("win.log")).expect("redacted") == build(&marker),
        "in place too",
    );
}

#[test]
fn issue17_a_clean_compressed_member_is_copied_as_it_was() {
    use std::io::Write;
    let env = Env::new();
    let r = &mut Rng::new(SEED ^ 181);
    let mut best = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    best.write_all(&b"2024-05-01 INFO nothing secret\n".repeat(1000))
        .expect("gzip");
    let clean_gz = best.finish().expect("gzip");
    let secret_gz = gzip(secret_log(r).as_bytes());
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in [
        ("clean.log.gz", &clean_gz[..]),
        ("secret.log.gz", &secret_gz[..]),
        ("app.log", secret_log(r).as_bytes()),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data).expect("member");
    }
    env.write("mixed.tar", b.into_inner().expect("tar"));
    let run = redact(&env, &["mixed.tar", "-o", "mixed.out.tar"]);
    run.expect_code(1);
    let out = fs::read(env.path("mixed.out.tar")).expect("copy");
    let mut a = tar::Archive::new(&out[..]);
    let mut got = std::collections::BTreeMap::new();
    for e in a.entries().expect("entries") {
        let mut e = e.expect("entry");
        let mut v = Vec::new();
        e.read_to_end(&mut v).expect("read");
        got.insert(String::from_utf8_lossy(&e.path_bytes()).into_owned(), v);
    }
    run.check(
        got["clean.log.gz"] == clean_gz,
        "the clean .gz member is byte for byte the same",
    );
    run.check(
        got["secret.log.gz"] != secret_gz,
        "the other one is redacted",
    );
    clean(&env, "mixed.out.tar");
}

#[test]
fn in_place_on_a_read_only_file_in_a_writable_directory_replaces_it() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let env = Env::new();
    let r = &mut Rng::new(SEED ^ 182);
    let dir = env.mkdir("ro");
    let path = env.write("ro/app.log", secret_log(r));
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).expect("chmod");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // As nobody (root may write any file): the file and its directory
        // are nobody's, the file read-only.
        std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).expect("chown");
        std::os::unix::fs::chown(&path, Some(65534), Some(65534)).expect("chown");
    }
    let before = fs::metadata(&path).expect("meta");
    let run = env.run_unprivileged(&["redact", "--in-place", "--marker", "XXXX", "ro/app.log"]);
    run.expect_code(1);
    let after = fs::metadata(&path).expect("meta");
    run.check_eq(after.mode() & 0o777, 0o444, "still read-only");
    run.check_eq(after.uid(), before.uid(), "same owner");
    let text = fs::read_to_string(&path).expect("read");
    run.check(
        text.contains("access_token=XXXX HTTP"),
        format!("redacted: {text}"),
    );
}

#[test]
fn in_place_redacts_a_file_named_twice_once() {
    let env = Env::new();
    let r = &mut Rng::new(SEED ^ 183);
    env.write("app.log", secret_log(r));
    std::os::unix::fs::symlink("app.log", env.path("link.log")).expect("symlink");
    let run = redact(&env, &["--in-place", "app.log", "./app.log", "link.log"]);
    run.expect_code(1);
    run.expect_stderr_line(&["1 files", "1 secret redacted"]);
    clean(&env, "app.log");
}
