//! `spark/sweep.py` (issue 20): the PySpark job, run in `local[2]`, gives
//! the findings and records of one `leaksweep scan` of the same tree. It
//! needs PySpark and Java; without them the test is skipped with a note,
//! unless CI (`CI` set) requires it.

use std::fs;
use std::process::Command;

use crate::archives::gzip;
use crate::tokens;
use crate::util::{Env, Rng, Run, BIN};

/// Whether the Spark tests are skipped, with a note: python3 cannot import
/// pyspark here. CI must run them.
fn skipped() -> bool {
    let probe = Command::new("python3")
        .args(["-c", "import pyspark"])
        .output();
    if probe.is_ok_and(|o| o.status.success()) {
        return false;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run the Spark test: pip install pyspark (and Java 17)"
    );
    eprintln!("check skipped (spark/sweep.py): python3 cannot import pyspark");
    true
}

#[test]
fn issue_20_the_spark_job_equals_one_scan() {
    if skipped() {
        return;
    }
    let mut rng = Rng::new(2005);
    let env = Env::new();
    let shared = tokens::github_classic(&mut rng, "ghp");
    for i in 0..10 {
        let own = tokens::github_classic(&mut rng, "ghp");
        let text = format!(
            "2024-05-{:02}T09:12:44Z INFO deploy token={own}\n\
             May 14 09:12:{:02} web-{} app[1]: token={shared}\n",
            1 + i,
            i,
            i % 3
        );
        let dir = ["logs", "logs/app", "more"][i % 3];
        if i % 4 == 0 {
            env.write(&format!("{dir}/part-{i}.log.gz"), gzip(text.as_bytes()));
        } else {
            env.write(&format!("{dir}/part-{i}.log"), text);
        }
    }
    let scan = env.run(&["scan", "--format", "jsonl", "logs", "more"]);
    scan.expect_code(1);
    let grouped = env.run(&[
        "scan",
        "--format",
        "jsonl",
        "--group-by",
        "secret",
        "logs",
        "more",
    ]);
    grouped.expect_code(1);
    // `logs` as a local path, `more` as a Hadoop URL (read by Spark and
    // piped to leaksweep under that URL).
    let url = format!("file://{}", env.path("more").display());
    let parquet = env.path("sweep.parquet").display().to_string();
    let run = job(
        &env,
        &[
            "--master",
            "local[2]",
            "--out",
            "sweep",
            "--parquet",
            &parquet,
            "logs",
            &url,
        ],
    );
    run.expect_code(1);
    let read = |name: &str| fs::read_to_string(env.path(name)).unwrap_or_default();
    // A URL's findings name it; read as the local path, they are the same.
    let local = |text: &str| -> Vec<String> {
        let mut lines: Vec<String> = text
            .lines()
            .map(|l| l.replace(&format!("\"{url}/"), "\"more/"))
            .map(|l| l.replace(&format!("file:{}/", env.path("more").display()), "more/"))
            .collect();
        lines.sort();
        lines
    };
    run.check_eq(
        local(&read("sweep/findings.jsonl")),
        local(&scan.stdout()),
        "findings",
    );
    // The local files' findings come in the scan's own order.
    let logs = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("{\"path\":\"logs/"))
            .map(String::from)
            .collect()
    };
    run.check_eq(
        logs(&read("sweep/findings.jsonl")),
        logs(&scan.stdout()),
        "order",
    );
    let records = read("sweep/secrets.jsonl");
    run.check_eq(
        records.lines().count(),
        grouped.stdout().lines().count(),
        "one record per secret",
    );
    run.check(
        records.contains(&format!("\"count\":{}", 10)),
        "the shared secret's record counts all ten files",
    );
    run.check(
        env.path("sweep.parquet/_SUCCESS").exists(),
        "the Parquet copy is written",
    );
}

/// `python3 spark/sweep.py ARGS` in `env`'s root, with this build as its
/// leaksweep.
fn job(env: &Env, args: &[&str]) -> Run {
    let job = env!("CARGO_MANIFEST_DIR").to_string() + "/spark/sweep.py";
    let mut cmd = Command::new("python3");
    cmd.current_dir(env.root())
        .env("SPARK_LOCAL_IP", "127.0.0.1")
        .args([&job, "--leaksweep", BIN])
        .args(args);
    let out = cmd.output().expect("python3 runs");
    Run {
        cmd: format!("{cmd:?}"),
        status: out.status,
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A standalone Spark cluster on 127.0.0.1: a master and one worker, from
/// PySpark's own distribution (`spark-class`), stopped when dropped.
struct Cluster {
    daemons: Vec<std::process::Child>,
    url: String,
}

impl Cluster {
    fn start(env: &Env) -> Cluster {
        let home = Command::new("python3")
            .args([
                "-c",
                "import os, pyspark; print(os.path.dirname(pyspark.__file__))",
            ])
            .output()
            .expect("python3 runs");
        let home = String::from_utf8_lossy(&home.stdout).trim().to_string();
        let class = format!("{home}/bin/spark-class");
        let mut cluster = Cluster {
            daemons: Vec::new(),
            url: String::new(),
        };
        let master = cluster.daemon(
            &class,
            &[
                "org.apache.spark.deploy.master.Master",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--webui-port",
                "0",
            ],
            "Starting Spark master at ",
        );
        cluster.url = master
            .split("Starting Spark master at ")
            .nth(1)
            .unwrap_or_default()
            .trim()
            .to_string();
        let work = env.mkdir("spark-work");
        let work = work.to_string_lossy().into_owned();
        let url = cluster.url.clone();
        cluster.daemon(
            &class,
            &[
                "org.apache.spark.deploy.worker.Worker",
                "--host",
                "127.0.0.1",
                "--cores",
                "2",
                "--memory",
                "1g",
                "--webui-port",
                "0",
                "--work-dir",
                &work,
                &url,
            ],
            "Successfully registered with master",
        );
        cluster
    }

    /// Starts a daemon and returns its log line that holds `ready`, once
    /// written (within two minutes).
    fn daemon(&mut self, class: &str, args: &[&str], ready: &str) -> String {
        use std::io::{BufRead, BufReader};
        let mut child = Command::new(class)
            .args(args)
            .env("SPARK_LOCAL_IP", "127.0.0.1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spark-class starts");
        let stderr = child.stderr.take().expect("piped");
        self.daemons.push(child);
        let (tx, rx) = std::sync::mpsc::channel();
        let ready = ready.to_string();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains(&ready) {
                    let _ = tx.send(line);
                }
            }
        });
        rx.recv_timeout(std::time::Duration::from_secs(120))
            .expect("the Spark daemon comes up")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for d in &mut self.daemons {
            let _ = d.kill();
            let _ = d.wait();
        }
    }
}

/// On a cluster, each executor runs in a work directory of its own, not
/// the driver's: local paths named relative to the driver still read the
/// same files, and the job's findings are one scan's, in its order.
#[test]
fn issue_20_the_spark_job_on_a_standalone_cluster_equals_one_scan() {
    if skipped() {
        return;
    }
    let mut rng = Rng::new(2006);
    let env = Env::new();
    for i in 0..6 {
        let text = format!(
            "2024-05-{:02}T09:12:44Z INFO deploy token={}\n",
            1 + i,
            tokens::github_classic(&mut rng, "ghp")
        );
        match i % 3 {
            0 => env.write(&format!("logs/part-{i}.log.gz"), gzip(text.as_bytes())),
            _ => env.write(&format!("logs/app/part-{i}.log"), text),
        };
    }
    let scan = env.run(&["scan", "--format", "jsonl", "logs"]);
    scan.expect_code(1);
    let cluster = Cluster::start(&env);
    let run = job(&env, &["--master", &cluster.url, "--out", "sweep", "logs"]);
    run.expect_code(1);
    run.check_eq(
        fs::read_to_string(env.path("sweep/findings.jsonl")).unwrap_or_default(),
        scan.stdout(),
        "findings, in the scan's order",
    );
    run.check(
        fs::read_dir(env.path("spark-work")).is_ok_and(|mut d| d.next().is_some()),
        "the executors ran in the worker's work directory",
    );
}
