//! HAR bench: leaksweep against `cat` on a generated set of HAR captures
//! (browser-like entries: headers, cookies, query strings, JSON and HTML
//! bodies, base64 images, WebSocket frames) with secrets planted in known
//! entries and fields.
//!
//! `cargo bench --bench har` (600 MB in 5 files), or one 1 GB capture:
//! `LEAKSWEEP_HAR_BYTES=1000000000 LEAKSWEEP_HAR_FILES=1 cargo bench --bench har`.
//!
//! Environment:
//! - `LEAKSWEEP_HAR_BYTES` total size (default 600_000_000; `_` allowed)
//! - `LEAKSWEEP_HAR_FILES` number of files (default 5)
//! - `LEAKSWEEP_HAR_RUNS` timed runs per command (default 3)
//! - `LEAKSWEEP_BENCH_BASELINE` path of another leaksweep binary (a build of
//!   main) timed beside this one; its recall is not checked
//!
//! Prints best and median wall time, MB/s and peak RSS (`ru_maxrss` from
//! `wait4`) per command, then recall: every planted (file, entry, field,
//! fingerprint) must be reported. Exit status 1 when one is missing.

mod child;

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use child::{env_u64, Measure};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// One planted secret per this many entries.
const PLANT_EVERY: u64 = 150;

fn main() {
    match run() {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("har bench: {e}");
            std::process::exit(2);
        }
    }
}

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn string(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| char::from(alphabet[self.below(alphabet.len())]))
            .collect()
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// (file name, entry, field, fingerprint)
type Planted = (String, u64, String, String);

fn sha256_hex(s: &[u8]) -> String {
    Sha256::digest(s)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn github(rng: &mut Rng) -> String {
    let random = rng.string(ALNUM, 30);
    let check = leaksweep::validate::checksum::github_checksum(random.as_bytes());
    format!("ghp_{random}{check}")
}

fn headers(rng: &mut Rng, host: &str) -> Vec<Value> {
    let mut h = vec![
        json!({"name": ":authority", "value": host}),
        json!({"name": "accept", "value": "application/json, text/plain, */*"}),
        json!({"name": "accept-encoding", "value": "gzip, deflate, br, zstd"}),
        json!({"name": "accept-language", "value": "en-GB,en;q=0.9,de;q=0.8"}),
        json!({"name": "user-agent", "value": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"}),
        json!({"name": "sec-ch-ua", "value": "\"Not/A)Brand\";v=\"8\", \"Chromium\";v=\"126\""}),
        json!({"name": "x-request-id", "value": format!("{:016x}{:016x}", rng.next(), rng.next())}),
        json!({"name": "if-none-match", "value": format!("W/\"{:x}\"", rng.next())}),
    ];
    h.push(json!({"name": "referer", "value": format!("https://{host}/app/orders?page={}", rng.below(50))}));
    h
}

/// One entry; a secret is planted when `plant` is Some(kind).
fn entry(rng: &mut Rng, i: u64, plant: Option<usize>) -> (Value, Option<(String, String)>) {
    let host = ["api.example.com", "cdn.example.net", "app.example.org"][rng.below(3)];
    let path = format!("/v{}/items/{}", 1 + rng.below(3), rng.next() % 100_000);
    let mut url = format!(
        "https://{host}{path}?limit=50&cursor={}",
        rng.string(ALNUM, 24)
    );
    let mut req_headers = headers(rng, host);
    let mut cookies = vec![
        json!({"name": "_ga", "value": format!("GA1.2.{}.{}", rng.next() % 1_000_000_000, 1_700_000_000 + rng.below(9_999_999))}),
    ];
    let mut query = vec![json!({"name": "limit", "value": "50"})];
    let mut post = None;
    let mut ws = Vec::new();
    // Bodies: JSON mostly, some HTML, some base64 images.
    let kind = rng.below(10);
    let (mime, mut text, mut encoding) = match kind {
        0..=5 => {
            let items: Vec<Value> = (0..(5 + rng.below(40)))
                .map(|k| json!({"id": k, "sku": rng.string(ALNUM, 12), "name": "Widget ".repeat(1 + rng.below(4)), "price": rng.below(10_000), "etag": format!("{:x}", rng.next())}))
                .collect();
            (
                "application/json",
                json!({"items": items, "next": rng.string(ALNUM, 24)}).to_string(),
                None,
            )
        }
        6..=7 => (
            "text/html",
            format!(
                "<!doctype html><html><head><title>Orders</title></head><body>{}</body></html>",
                "<div class=\"row\"><span>Item</span><a href=\"/x\">view</a></div>\n"
                    .repeat(20 + rng.below(80))
            ),
            None,
        ),
        _ => {
            let n = 2000 + rng.below(20_000);
            ("image/png", STANDARD.encode(rng.bytes(n)), Some("base64"))
        }
    };
    let mut planted = None;
    if let Some(p) = plant {
        let (field, secret) = match p % 7 {
            0 => {
                let t = github(rng);
                url = format!("https://{host}{path}?access_token={t}");
                ("request.url".to_string(), t)
            }
            1 => {
                let t = rng.string(ALNUM, 40);
                req_headers.push(json!({"name": "Authorization", "value": format!("Bearer {t}")}));
                ("request.headers.Authorization".to_string(), t)
            }
            2 => {
                let t = rng.string(B64URL, 43);
                cookies.push(json!({"name": "session", "value": t}));
                ("request.cookies.session".to_string(), t)
            }
            3 => {
                let t = github(rng);
                text = STANDARD.encode(format!("{{\"token\":\"{t}\"}}"));
                encoding = Some("base64");
                ("response.content.text".to_string(), t)
            }
            4 => {
                let t = github(rng);
                ws.push(json!({"type": "send", "time": 1.5, "opcode": 1, "data": format!("{{\"auth\":\"{t}\"}}")}));
                ("_webSocketMessages[0].data".to_string(), t)
            }
            5 => {
                let t = rng.string(ALNUM, 32);
                query.push(json!({"name": "api_key", "value": t}));
                ("request.queryString.api_key".to_string(), t)
            }
            _ => {
                let t = github(rng);
                post = Some(
                    json!({"mimeType": "application/json", "text": format!("{{\"github_token\":\"{t}\",\"repo\":\"acme/site\"}}")}),
                );
                ("request.postData.text".to_string(), t)
            }
        };
        planted = Some((field, sha256_hex(secret.as_bytes())));
    }
    let mut request = json!({
        "method": if post.is_some() { "POST" } else { "GET" },
        "url": url,
        "httpVersion": "http/2.0",
        "headers": req_headers,
        "queryString": query,
        "cookies": cookies,
        "headersSize": -1,
        "bodySize": 0,
    });
    if let Some(p) = post {
        request["postData"] = p;
    }
    let mut content = json!({"size": text.len(), "mimeType": mime, "text": text});
    if let Some(e) = encoding {
        content["encoding"] = json!(e);
    }
    let mut e = json!({
        "_initiator": {"type": "script", "stack": {"callFrames": [{"functionName": "fetchItems", "url": format!("https://{host}/static/app.{:x}.js", rng.next()), "lineNumber": rng.below(4000), "columnNumber": rng.below(200)}]}},
        "_priority": "High",
        "_resourceType": "fetch",
        "cache": {},
        "connection": format!("{}", 400 + rng.below(100)),
        "pageref": "page_1",
        "request": request,
        "response": {
            "status": 200,
            "statusText": "",
            "httpVersion": "http/2.0",
            "headers": [
                {"name": "content-type", "value": mime},
                {"name": "etag", "value": format!("\"{:x}{:x}\"", rng.next(), rng.next())},
                {"name": "x-request-id", "value": rng.string(ALNUM, 32)},
                {"name": "cache-control", "value": "private, max-age=0, must-revalidate"},
                {"name": "date", "value": "Tue, 14 May 2024 09:12:44 GMT"},
                {"name": "server", "value": "envoy"},
            ],
            "cookies": [],
            "content": content,
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
            "_transferSize": 1234,
        },
        "serverIPAddress": "203.0.113.10",
        "startedDateTime": format!("2024-05-14T09:{:02}:{:02}.{:03}Z", (i / 60) % 60, i % 60, rng.below(1000)),
        "time": 31.5,
        "timings": {"blocked": 0.9, "dns": -1, "ssl": -1, "connect": -1, "send": 0.1, "wait": 30.2, "receive": 0.3},
    });
    if !ws.is_empty() {
        e["_webSocketMessages"] = json!(ws);
    }
    (e, planted)
}

/// Writes one HAR file of about `bytes`, pretty-printed as browsers do.
fn write_har(
    path: &Path,
    name: &str,
    bytes: u64,
    rng: &mut Rng,
    planted: &mut Vec<Planted>,
) -> io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    out.write_all(b"{\n  \"log\": {\n    \"version\": \"1.2\",\n    \"creator\": {\"name\": \"WebInspector\", \"version\": \"537.36\"},\n    \"pages\": [{\"startedDateTime\": \"2024-05-14T09:00:00.000Z\", \"id\": \"page_1\", \"title\": \"https://app.example.org/\", \"pageTimings\": {}}],\n    \"entries\": [\n")?;
    let mut written = 0u64;
    let mut i = 0u64;
    while written < bytes {
        let plant = (i % PLANT_EVERY == PLANT_EVERY / 2).then_some((i / PLANT_EVERY) as usize);
        let (e, p) = entry(rng, i, plant);
        if let Some((field, fp)) = p {
            planted.push((name.to_string(), i, field, fp));
        }
        let text = serde_json::to_string_pretty(&e).map_err(io::Error::other)?;
        if i > 0 {
            out.write_all(b",\n")?;
        }
        out.write_all(text.as_bytes())?;
        written += text.len() as u64 + 2;
        i += 1;
    }
    out.write_all(b"\n    ]\n  }\n}\n")?;
    out.flush()
}

/// Runs `program args` once, stdout to `stdout`.
fn measure(program: &Path, args: &[String], stdout: &Path) -> io::Result<Measure> {
    child::measure(
        Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(File::create(stdout)?)
            .stderr(Stdio::inherit()),
    )
}

fn run() -> io::Result<i32> {
    let bytes = env_u64("LEAKSWEEP_HAR_BYTES", 600_000_000)?;
    let files = env_u64("LEAKSWEEP_HAR_FILES", 5)?.max(1);
    let runs = env_u64("LEAKSWEEP_HAR_RUNS", 3)?.max(1);
    let root = child::target_dir()
        .join("bench-har")
        .join(format!("{bytes}-{files}"));
    let dir = root.join("har");
    let manifest = root.join("planted.tsv");
    let mut planted: Vec<Planted> = Vec::new();
    if manifest.exists() {
        for line in BufReader::new(File::open(&manifest)?).lines() {
            let line = line?;
            let f: Vec<&str> = line.split('\t').collect();
            if let [file, entry, field, fp] = f[..] {
                planted.push((
                    file.into(),
                    entry.parse().map_err(io::Error::other)?,
                    field.into(),
                    fp.into(),
                ));
            }
        }
    } else {
        fs::create_dir_all(&dir)?;
        let t = Instant::now();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for k in 0..files {
            let name = format!("capture-{k}.har");
            write_har(
                &dir.join(&name),
                &name,
                bytes / files,
                &mut rng,
                &mut planted,
            )?;
        }
        let mut m = BufWriter::new(File::create(&manifest)?);
        for (f, e, field, fp) in &planted {
            writeln!(m, "{f}\t{e}\t{field}\t{fp}")?;
        }
        m.flush()?;
        eprintln!(
            "generated {} in {:.1} s",
            dir.display(),
            t.elapsed().as_secs_f64()
        );
    }
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<io::Result<_>>()?;
    paths.sort();
    let sizes: Vec<u64> = paths
        .iter()
        .map(|p| fs::metadata(p).map(|m| m.len()))
        .collect::<io::Result<_>>()?;
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let total: u64 = sizes.iter().sum();
    let bin = child::release_binary()?;
    println!(
        "HAR set: {} files, {:.1} MB (largest {:.1} MB), {} planted secrets; {} runs each, page cache warm",
        paths.len(),
        total as f64 / 1e6,
        largest as f64 / 1e6,
        planted.len(),
        runs
    );
    let out = root.join("out");
    fs::create_dir_all(&out)?;
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let dir_arg = dir.display().to_string();
    let scan = |threads: &str| -> Vec<String> {
        ["scan", "--format", "jsonl", "--threads", threads, &dir_arg]
            .map(String::from)
            .to_vec()
    };
    let mut commands: Vec<(String, PathBuf, Vec<String>)> = vec![
        ("cat".into(), PathBuf::from("cat"), names.clone()),
        ("leaksweep scan --threads 2".into(), bin.clone(), scan("2")),
        ("leaksweep scan --threads 1".into(), bin.clone(), scan("1")),
    ];
    if let Some(base) = std::env::var_os("LEAKSWEEP_BENCH_BASELINE") {
        let base = PathBuf::from(base);
        commands.push(("baseline scan --threads 2".into(), base.clone(), scan("2")));
        commands.push(("baseline scan --threads 1".into(), base, scan("1")));
    }
    // Warm the page cache.
    measure(Path::new("cat"), &names, Path::new("/dev/null"))?;
    println!(
        "{:<30} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "command", "best s", "median s", "MB/s", "RSS MiB", "RSS/largest"
    );
    let mut code = 0;
    for (label, program, args) in &commands {
        // cat's copy goes nowhere; leaksweep's findings are checked.
        let stdout = if label == "cat" {
            PathBuf::from("/dev/null")
        } else {
            out.join(format!("{}.out", label.replace(' ', "_")))
        };
        let mut walls = Vec::new();
        let mut rss = 0;
        for _ in 0..runs {
            let m = measure(program, args, &stdout)?;
            if label.starts_with("leaksweep") && m.exit != 1 {
                eprintln!("{label}: exit {} (want 1: findings, no errors)", m.exit);
                code = 1;
            }
            walls.push(m.wall.as_secs_f64());
            rss = rss.max(m.maxrss_kib);
        }
        walls.sort_by(f64::total_cmp);
        let best = walls[0];
        println!(
            "{:<30} {:>9.3} {:>9.3} {:>9.0} {:>9.1} {:>9.2}×",
            label,
            best,
            walls[walls.len() / 2],
            total as f64 / 1e6 / best,
            rss as f64 / 1024.0,
            rss as f64 * 1024.0 / largest as f64
        );
        if label.starts_with("leaksweep") {
            code = code.max(recall(&stdout, &planted)?);
        }
    }
    Ok(code)
}

/// Checks that every planted secret is reported in its entry and field.
fn recall(stdout: &Path, planted: &[Planted]) -> io::Result<i32> {
    let mut found: BTreeSet<Planted> = BTreeSet::new();
    let mut total = 0;
    for line in BufReader::new(File::open(stdout)?).lines() {
        let v: Value = serde_json::from_str(&line?).map_err(io::Error::other)?;
        total += 1;
        let file = Path::new(v["path"].as_str().unwrap_or_default())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let (Some(entry), Some(field)) = (v["har"]["entry"].as_u64(), v["har"]["field"].as_str())
        {
            found.insert((
                file,
                entry,
                field.to_string(),
                v["fingerprint"].as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    let missing: Vec<&Planted> = planted.iter().filter(|p| !found.contains(*p)).collect();
    println!(
        "  {} findings; planted found {}/{}; findings not planted {}",
        total,
        planted.len() - missing.len(),
        planted.len(),
        total - (planted.len() - missing.len())
    );
    for m in missing.iter().take(10) {
        println!("  missing: {m:?}");
    }
    Ok(i32::from(!missing.is_empty()))
}
