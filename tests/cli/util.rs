//! The harness every test module uses: a temp directory holding the
//! fixtures ([`Env`]), a run of the real `leaksweep` binary with its stdout,
//! stderr and exit status captured ([`Run`]), the JSON finding parsed
//! strictly ([`Finding`]), and a small seeded PRNG ([`Rng`]) for synthetic
//! secrets. Every assertion helper prints the command, the exit status, the
//! expected and the actual value, and the whole stderr when it fails.

use std::ffi::OsStr;
use std::fmt::{Debug, Display};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The binary under test, built by cargo for this test target.
pub const BIN: &str = env!("CARGO_BIN_EXE_leaksweep");

/// A scratch directory; commands run with it as their working directory,
/// so relative paths given to leaksweep come back verbatim in `path`.
pub struct Env {
    dir: tempfile::TempDir,
    /// `XDG_STATE_HOME` of every run (where `redact` keeps its marker
    /// key), outside the scratch directory and never the real one.
    state: tempfile::TempDir,
}

impl Default for Env {
    fn default() -> Self {
        Env::new()
    }
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::Builder::new()
                .prefix("leaksweep-cli-")
                .tempdir()
                .expect("create temp dir"),
            state: tempfile::Builder::new()
                .prefix("leaksweep-state-")
                .tempdir()
                .expect("create state dir"),
        }
    }

    /// The `XDG_STATE_HOME` the runs see.
    pub fn state_home(&self) -> &Path {
        self.state.path()
    }

    /// The marker key `redact` uses in this environment: the one a run
    /// created, else a fixed one written now (0600) for the runs to use.
    pub fn marker_key(&self) -> [u8; 32] {
        use std::os::unix::fs::OpenOptionsExt;
        let path = self.state.path().join("leaksweep/marker.key");
        if !path.exists() {
            fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .expect("write the marker key");
            f.write_all(format!("{}\n", "5a".repeat(32)).as_bytes())
                .expect("write the marker key");
        }
        let hex = fs::read_to_string(&path).expect("read the marker key");
        let mut key = [0u8; 32];
        for (i, k) in key.iter_mut().enumerate() {
            *k = u8::from_str_radix(&hex.trim()[2 * i..2 * i + 2], 16).expect("hex key");
        }
        key
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Absolute path of `rel` inside the scratch directory.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `data` to `rel`, creating parent directories.
    pub fn write(&self, rel: &str, data: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("create parent dirs");
        }
        fs::write(&p, data).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        p
    }

    pub fn mkdir(&self, rel: &str) -> PathBuf {
        let p = self.path(rel);
        fs::create_dir_all(&p).expect("mkdir");
        p
    }

    /// `leaksweep ARGS` in the scratch dir, stdin from /dev/null.
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Run {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::null());
        finish(describe(args, "</dev/null"), cmd, None, |_| {})
    }

    /// `leaksweep ARGS` (stdin from /dev/null), calling `during` with the
    /// process id right after the process has started: for tests that act
    /// on its input while it runs.
    pub fn run_while<S: AsRef<OsStr>>(&self, args: &[S], during: impl FnOnce(u32)) -> Run {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::null());
        finish(describe(args, "</dev/null"), cmd, None, during)
    }

    /// `leaksweep ARGS` with `input` piped to its stdin.
    pub fn run_stdin<S: AsRef<OsStr>>(&self, args: &[S], input: &[u8]) -> Run {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::piped());
        let what = format!("<({} bytes piped)", input.len());
        finish(describe(args, &what), cmd, Some(input), |_| {})
    }

    /// `leaksweep ARGS` with stdin redirected from the file `rel`.
    pub fn run_stdin_file<S: AsRef<OsStr>>(&self, args: &[S], rel: &str) -> Run {
        let mut cmd = self.command(args);
        let file = fs::File::open(self.path(rel)).expect("open stdin file");
        cmd.stdin(Stdio::from(file));
        finish(describe(args, &format!("<{rel}")), cmd, None, |_| {})
    }

    /// `leaksweep ARGS` (stdin from /dev/null) as a user without root's
    /// power to read every file: as `nobody`, through `setpriv`, when the
    /// tests run as root. The scratch directory is opened to all for it.
    pub fn run_unprivileged<S: AsRef<OsStr>>(&self, args: &[S]) -> Run {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(self.root(), fs::Permissions::from_mode(0o755))
            .expect("open the scratch dir");
        // SAFETY: geteuid has no preconditions and cannot fail.
        let root = unsafe { libc::geteuid() } == 0;
        let mut cmd = if root {
            // The build directory may not be open to nobody: run a link
            // (or copy) of the binary from the scratch directory.
            let bin = self.path(".leaksweep");
            if fs::hard_link(BIN, &bin).is_err() {
                fs::copy(BIN, &bin).expect("copy the binary");
            }
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(&bin);
            c
        } else {
            Command::new(BIN)
        };
        self.configure(&mut cmd, args);
        cmd.stdin(Stdio::null());
        finish(describe(args, "</dev/null"), cmd, None, |_| {})
    }

    /// The command, not started.
    fn command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let mut cmd = Command::new(BIN);
        self.configure(&mut cmd, args);
        cmd
    }

    fn configure<S: AsRef<OsStr>>(&self, cmd: &mut Command, args: &[S]) {
        cmd.args(args)
            .current_dir(self.root())
            .env("XDG_STATE_HOME", self.state.path())
            .env_remove("LEAKSWEEP_MARKER_KEY")
            .env_remove("NO_COLOR")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
    }
}

fn describe<S: AsRef<OsStr>>(args: &[S], stdin: &str) -> String {
    let mut s = String::from("leaksweep");
    for a in args {
        s.push(' ');
        s.push_str(&a.as_ref().to_string_lossy());
    }
    s.push(' ');
    s.push_str(stdin);
    s
}

/// No single run may take longer than this: a hang (a FIFO opened for
/// reading, a lost wake-up) fails its test instead of the whole suite.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `cmd`, feeding `input` to its stdin and draining stdout and stderr
/// concurrently, so big inputs and outputs cannot deadlock on full pipes.
fn finish(
    cmd_text: String,
    mut cmd: Command,
    input: Option<&[u8]>,
    during: impl FnOnce(u32),
) -> Run {
    let mut child = cmd.spawn().expect("spawn leaksweep");
    let stdin = child.stdin.take();
    let mut stdout = child.stdout.take().expect("stdout pipe");
    let mut stderr = child.stderr.take().expect("stderr pipe");
    std::thread::scope(|s| {
        if let (Some(mut pipe), Some(data)) = (stdin, input) {
            widen_pipe(&pipe);
            s.spawn(move || {
                // A reader that stops early (broken pipe) is fine.
                let _ = pipe.write_all(data);
            });
        }
        let out = s.spawn(move || {
            let mut v = Vec::new();
            let _ = stdout.read_to_end(&mut v);
            v
        });
        let err = s.spawn(move || {
            let mut v = Vec::new();
            let _ = stderr.read_to_end(&mut v);
            v
        });
        during(child.id());
        let status = wait_or_kill(&mut child, TIMEOUT, &cmd_text);
        Run {
            cmd: cmd_text.clone(),
            status,
            stdout: out.join().expect("stdout reader"),
            stderr: String::from_utf8_lossy(&err.join().expect("stderr reader")).into_owned(),
        }
    })
}

/// Raises a pipe's capacity from 64 KiB to 1 MiB (best effort), so a big
/// input reaches the reader in large reads. leaksweep's streamed reader
/// re-zeroes its whole 8 MiB roll buffer on every short read, which makes
/// 64 KiB pipe reads several times slower in a debug build.
fn widen_pipe(pipe: &std::process::ChildStdin) {
    use std::os::fd::AsRawFd;
    // SAFETY: fcntl on a pipe fd we own; failure is harmless and ignored.
    unsafe {
        libc::fcntl(pipe.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20);
    }
}

/// Waits for `child`, killing it and panicking after `limit`.
fn wait_or_kill(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for leaksweep") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {limit:?}, killed");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// One finished run of the binary.
pub struct Run {
    pub cmd: String,
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Panics with `what` and everything known about the run.
    #[track_caller]
    pub fn fail(&self, what: impl Display) -> ! {
        let mut out = self.stdout();
        if out.len() > 6000 {
            let mut cut = 6000;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            out.push_str("\n[… stdout cut]");
        }
        panic!(
            "{what}\n--- command: {}\n--- status: {}\n--- stdout:\n{out}\n--- stderr:\n{}",
            self.cmd, self.status, self.stderr
        );
    }

    #[track_caller]
    pub fn check(&self, ok: bool, what: impl Display) -> &Self {
        if !ok {
            self.fail(what);
        }
        self
    }

    #[track_caller]
    pub fn check_eq<T: PartialEq + Debug>(&self, got: T, want: T, what: impl Display) -> &Self {
        if got != want {
            self.fail(format!(
                "{what}\n--- expected: {want:#?}\n--- got:      {got:#?}"
            ));
        }
        self
    }

    /// Fails listing every problem found, if there is any.
    #[track_caller]
    pub fn check_none(&self, problems: &[String], what: impl Display) -> &Self {
        if !problems.is_empty() {
            self.fail(format!(
                "{what}: {} problems:\n  {}",
                problems.len(),
                problems.join("\n  ")
            ));
        }
        self
    }

    /// Asserts that `got` and `want` hold the same items in any order,
    /// listing what is missing and what is unexpected.
    #[track_caller]
    pub fn check_same<T: Ord + Debug + Clone>(
        &self,
        got: &[T],
        want: &[T],
        what: impl Display,
    ) -> &Self {
        let mut got = got.to_vec();
        let mut want = want.to_vec();
        got.sort();
        want.sort();
        let mut problems = Vec::new();
        for w in &want {
            match got.iter().position(|g| g == w) {
                Some(i) => {
                    got.remove(i);
                }
                None => problems.push(format!("missing:    {w:?}")),
            }
        }
        problems.extend(got.iter().map(|g| format!("unexpected: {g:?}")));
        self.check_none(&problems, what)
    }

    /// Asserts the exit status (and that no signal killed the process).
    #[track_caller]
    pub fn expect_code(&self, want: i32) -> &Self {
        self.check_eq(self.code(), Some(want), "exit status")
    }

    /// stderr holds a line containing every one of `parts`.
    #[track_caller]
    pub fn expect_stderr_line(&self, parts: &[&str]) -> &Self {
        let ok = self
            .stderr
            .lines()
            .any(|l| parts.iter().all(|p| l.contains(p)));
        self.check(
            ok,
            format!("expected a stderr line containing all of {parts:?}"),
        )
    }

    /// Parses stdout as JSONL into untyped values.
    #[track_caller]
    pub fn jsonl(&self) -> Vec<serde_json::Value> {
        self.stdout()
            .lines()
            .enumerate()
            .map(|(i, l)| {
                serde_json::from_str(l).unwrap_or_else(|e| {
                    self.fail(format!("stdout line {} is not JSON: {e}: {l:?}", i + 1))
                })
            })
            .collect()
    }

    /// Parses stdout as JSONL into strictly typed findings.
    #[track_caller]
    pub fn findings(&self) -> Vec<Finding> {
        self.stdout()
            .lines()
            .enumerate()
            .map(|(i, l)| {
                serde_json::from_str(l).unwrap_or_else(|e| {
                    self.fail(format!(
                        "stdout line {} is not a finding: {e}: {l:?}",
                        i + 1
                    ))
                })
            })
            .collect()
    }
}

/// The JSON finding of the contract, parsed strictly: an extra key fails.
/// (Missing keys are checked separately, on the raw objects, in `formats`.)
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub path: String,
    pub member: Option<String>,
    pub har: Option<Har>,
    pub line: Option<u64>,
    pub column: Option<u64>,
    pub offset: Option<u64>,
    pub rule: String,
    pub kind: String,
    pub confidence: String,
    pub secret: String,
    pub fingerprint: String,
    pub context: String,
    pub expires: Option<String>,
    pub time: Option<String>,
    pub host: Option<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Har {
    pub entry: Option<u64>,
    pub field: String,
}

impl Finding {
    /// What must be identical whichever way the input was read.
    pub fn located(&self) -> Located {
        Located {
            rule: self.rule.clone(),
            line: self.line,
            column: self.column,
            offset: self.offset,
            fingerprint: self.fingerprint.clone(),
        }
    }
}

/// A finding reduced to where it is and what it is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Located {
    pub rule: String,
    pub line: Option<u64>,
    pub column: Option<u64>,
    pub offset: Option<u64>,
    pub fingerprint: String,
}

impl Located {
    /// What a scan must report for `secret`, written at `at` and caught by
    /// `rule`.
    pub fn at(rule: &str, at: &Placed, secret: &str) -> Located {
        Located {
            rule: rule.to_string(),
            line: Some(at.line),
            column: Some(at.column),
            offset: Some(at.offset),
            fingerprint: sha256_hex(secret),
        }
    }
}

/// Lowercase hex SHA-256: the finding's `fingerprint` of a raw secret.
pub fn sha256_hex(bytes: impl AsRef<[u8]>) -> String {
    Sha256::digest(bytes.as_ref())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The file contents built line by line, remembering where each secret was
/// put, so expected line, column and offset come from the writing itself.
pub struct Layout {
    pub bytes: Vec<u8>,
    line: u64,
    line_start: usize,
}

/// Where a secret was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placed {
    pub line: u64,
    pub column: u64,
    pub offset: u64,
}

impl Default for Layout {
    fn default() -> Self {
        Layout::new()
    }
}

impl Layout {
    pub fn new() -> Layout {
        Layout {
            bytes: Vec::new(),
            line: 1,
            line_start: 0,
        }
    }

    /// Appends raw text, keeping the line count.
    pub fn push(&mut self, text: impl AsRef<[u8]>) {
        let text = text.as_ref();
        let at = self.bytes.len();
        self.bytes.extend_from_slice(text);
        let newlines = text.iter().filter(|&&b| b == b'\n').count();
        if let Some(i) = text.iter().rposition(|&b| b == b'\n') {
            self.line += newlines as u64;
            self.line_start = at + i + 1;
        }
    }

    /// Appends `text`, which must contain `secret`; returns where the first
    /// occurrence of `secret` landed.
    #[track_caller]
    pub fn push_secret(&mut self, text: &str, secret: &str) -> Placed {
        let at = text
            .find(secret)
            .unwrap_or_else(|| panic!("fixture bug: {secret:?} is not in {text:?}"));
        self.push(&text[..at]);
        let placed = self.here();
        self.push(&text[at..]);
        placed
    }

    /// The position of the next byte written.
    pub fn here(&self) -> Placed {
        Placed {
            line: self.line,
            column: (self.bytes.len() - self.line_start + 1) as u64,
            offset: self.bytes.len() as u64,
        }
    }
}

/// Base62 in the order GitHub's checksum uses: digits, upper, lower.
pub const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
pub const LOWER_ALNUM: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
pub const HEX: &[u8] = b"0123456789abcdef";
pub const DIGITS: &[u8] = b"0123456789";
pub const UPPER_B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
pub const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// SplitMix64: tiny, seeded, good enough for synthetic tokens.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5eed_1ea4_5eed_1ea4)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    /// `len` characters of `alphabet` that look random to every filler
    /// check: no character equals, follows or precedes the one before it
    /// (so no runs, no `abcd`/`4321` sequences, no `xxxx`).
    pub fn string(&mut self, alphabet: &[u8], len: usize) -> String {
        let mut out: Vec<u8> = Vec::with_capacity(len);
        while out.len() < len {
            let c = alphabet[self.below(alphabet.len())];
            let ok = match out.last() {
                None => true,
                Some(&p) => c != p && succ(p) != Some(c) && succ(c) != Some(p),
            };
            if ok {
                out.push(c);
            }
        }
        String::from_utf8(out).expect("ascii alphabet")
    }
}

fn succ(b: u8) -> Option<u8> {
    match b {
        b'9' => Some(b'0'),
        b'0'..=b'8' | b'a'..=b'y' | b'A'..=b'Y' => Some(b + 1),
        _ => None,
    }
}

/// Ordinary log lines without any secret (nor anything shaped like one).
pub const CLEAN_LINES: &[&str] = &[
    "2024-05-01T11:59:58Z INFO worker: processed batch 1187 in 42 ms\n",
    "198.51.100.23 - - [01/May/2024:11:59:59 +0000] \"GET /healthz HTTP/1.1\" 200 2 \"-\" \"kube-probe/1.29\"\n",
    "{\"ts\":\"2024-05-01T12:00:00Z\",\"level\":\"info\",\"msg\":\"request done\",\"status\":200,\"duration_ms\":17}\n",
    "May  1 12:00:00 web-1 systemd[1]: Started Daily apt upgrade and clean activities.\n",
    "2024-05-01 12:00:00,512 INFO  [main] c.e.s.OrderService - order 88123 shipped to warehouse 7\n",
];

/// `n` clean lines, cycling through [`CLEAN_LINES`] from `from`.
pub fn clean_lines(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| CLEAN_LINES[i % CLEAN_LINES.len()])
        .collect()
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key`, lowercase hex.
pub fn hmac_sha256_hex(key: &[u8; 32], message: &[u8]) -> String {
    let mut k = [0u8; 64];
    k[..32].copy_from_slice(key);
    let inner = Sha256::new()
        .chain_update(k.map(|b| b ^ 0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(k.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs the Python `script` with `args` (a validation that exits 3 with
/// its findings on stdout when the output is wrong). Where Python or its
/// package is missing the check is skipped with a note, unless CI (`CI` or
/// `LEAKSWEEP_SARIF_SCHEMA=require`) requires it.
pub fn python_check(run: &Run, script: &str, args: &[&Path], what: &str) {
    let python = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output();
    let required = std::env::var("LEAKSWEEP_SARIF_SCHEMA").is_ok_and(|v| v == "require")
        || std::env::var_os("CI").is_some();
    match python {
        Ok(out) if out.status.success() => {}
        Ok(out) if out.status.code() == Some(3) => {
            run.fail(format!("{what}:\n{}", String::from_utf8_lossy(&out.stdout)))
        }
        outcome if required => run.fail(format!("cannot run the check ({what}): {outcome:?}")),
        _ => eprintln!("check skipped ({what}): python3 or its package is not installed"),
    }
}
