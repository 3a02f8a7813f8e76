//! Object storage input (issue 20): `scan s3://bucket/prefix` against a
//! local S3 server (moto, started on 127.0.0.1 for the test) gives the
//! findings, lines and offsets of the same files on disk; a listing that
//! fails is an error naming the URL, and the rest of the scan goes on.
//! Without moto (and boto3) the test is skipped with a note, unless CI
//! (`CI` set) requires it.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::archives::{gzip, tar};
use crate::tokens;
use crate::util::{Env, Rng, Run, BIN};

/// A moto S3 server on a free local port, stopped when dropped.
struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    fn start() -> Option<Moto> {
        let probe = Command::new("python3")
            .args(["-c", "import moto.server, boto3"])
            .output();
        if !probe.is_ok_and(|o| o.status.success()) {
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto");
        let moto = Moto { child, port };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "moto did not start"
            );
            sleep(Duration::from_millis(100));
        }
        Some(moto)
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `leaksweep ARGS` in `env`'s directory, configured for the moto server.
fn run(env: &Env, moto: &Moto, args: &[&str]) -> Run {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(env.root())
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .stdin(Stdio::null())
        .output()
        .expect("leaksweep runs");
    Run {
        cmd: format!("leaksweep {}", args.join(" ")),
        status: out.status,
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Uploads every file under `dir` of `env` to `bucket` (created), keyed by
/// its path below `dir`.
fn upload(env: &Env, moto: &Moto, dir: &str, bucket: &str) {
    let script = r#"
import boto3, os, sys
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
s3.create_bucket(Bucket=sys.argv[3])
for root, _, names in os.walk(sys.argv[2]):
    for n in names:
        p = os.path.join(root, n)
        s3.upload_file(p, sys.argv[3], os.path.relpath(p, sys.argv[2]))
"#;
    let out = Command::new("python3")
        .args(["-c", script, &moto.endpoint(), dir, bucket])
        .current_dir(env.root())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "upload: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn issue_20_objects_scan_as_the_same_files_on_disk() {
    let Some(moto) = Moto::start() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the object storage test: pip install 'moto[server]'"
        );
        eprintln!("check skipped (object storage): python3 cannot import moto.server and boto3");
        return;
    };
    let mut rng = Rng::new(2006);
    let env = Env::new();
    let token = |rng: &mut Rng| tokens::github_classic(rng, "ghp");
    env.write(
        "logs/app.log",
        format!(
            "2024-05-14T09:12:44Z INFO token={}\nMay 14 09:12:45 web-01 app[1]: token={}\n",
            token(&mut rng),
            token(&mut rng)
        ),
    );
    let gz = format!("2024-05-15T00:00:00Z INFO token={}\n", token(&mut rng));
    env.write("logs/old/app.log.1.gz", gzip(gz.as_bytes()));
    let member = format!("token={}\n", token(&mut rng));
    env.write(
        "logs/old/bundle.tar.gz",
        gzip(&tar(&[("inner/app.log", member.as_bytes())])),
    );
    // Larger than one ranged GET (8 MiB), with secrets across its ranges.
    let mut big = String::new();
    let filler = "2024-05-14T09:12:44Z INFO request served in 12 ms from cache\n";
    while big.len() < (8 << 20) - 40 {
        big.push_str(filler);
    }
    big.push_str(&format!(
        "2024-05-14T09:12:50Z INFO token={}\n",
        token(&mut rng)
    ));
    while big.len() < (17 << 20) {
        big.push_str(filler);
    }
    big.push_str(&format!("token={}\n", token(&mut rng)));
    env.write("logs/big.log", &big);
    upload(&env, &moto, "logs", "archive");

    let disk = run(&env, &moto, &["scan", "--format", "jsonl", "logs"]);
    disk.expect_code(1);
    let objects = run(&env, &moto, &["scan", "--format", "jsonl", "s3://archive/"]);
    objects.expect_code(1);
    let normal = |r: &Run| -> Vec<String> {
        let mut lines: Vec<String> = r
            .stdout()
            .lines()
            .map(|l| l.replace("\"path\":\"s3://archive/", "\"path\":\"logs/"))
            .collect();
        lines.sort();
        lines
    };
    objects.check_eq(normal(&objects), normal(&disk), "findings as on disk");
    objects.check_eq(normal(&objects).len(), 6, "every planted secret");
    objects.check(
        objects
            .stdout()
            .contains("\"path\":\"s3://archive/old/bundle.tar.gz\",\"member\":\"inner/app.log\""),
        "a finding's path is the object's URL",
    );
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
}
