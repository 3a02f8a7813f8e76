#![allow(dead_code)]
//! Deterministic corpus of realistic server logs, for the throughput bench
//! and for integration tests (`#[path = "../benches/corpus/mod.rs"] mod corpus;`).
//!
//! [`generate`] writes a mix of nginx access logs, JSON application logs, a
//! plain-text application log and proxy logs (squid, haproxy) totalling about
//! [`Plan::bytes`] bytes. The same seed gives byte-identical output.
//!
//! The noise is made of things that look random but are not secrets: UUIDs,
//! request ids, hex digests, base64 blobs of random bytes, trace ids, cache
//! keys, S3 request/host ids, pod names, ETags, click ids, signed-looking but
//! harmless cursors, public certificates, and documentation placeholders
//! (`api_key=your_api_key`, `password=changeme`, `${TOKEN}`, `<TOKEN>`,
//! `AKIAIOSFODNN7EXAMPLE`, `{{ secret }}`, `REDACTED`, `***`, `null`,
//! `undefined`). Random noise strings are re-drawn when they happen to
//! contain a credential prefix (`AKIA`, `AIza`, `ghp_`, ...), so the only
//! credentials in the corpus are the planted ones.
//!
//! With [`Plan::plant_secrets`], about one line in [`Plan::lines_per_secret`]
//! carries one synthetic credential (never more than one per line), in a
//! realistic place: a query string, an `Authorization` header field, a JSON
//! field, a curl command line, an environment dump, URL userinfo. Every
//! planted credential is listed in the returned [`Manifest`] with its file,
//! 1-based line, 1-based byte column and byte offset. Planted tokens are
//! random (seeded), well-formed (GitHub/npm CRC32 checksums are valid, JWTs
//! decode) and free of placeholder-like content.
//!
//! This module has no bench-only code: only std, serde, serde_json and
//! crc32fast, all dependencies of the crate.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Corpus size the throughput bench uses unless told otherwise.
pub const DEFAULT_BENCH_BYTES: u64 = 1_100_000_000;
/// Mean number of lines per planted secret.
pub const DEFAULT_LINES_PER_SECRET: u64 = 2_000;
/// Bumped whenever the generator's output changes for a given seed, so a
/// cached corpus made by an older generator is not mistaken for a current one.
pub const GENERATOR_VERSION: u32 = 1;

/// What to generate.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Total size of all files; the result is within one line of it (never above).
    pub bytes: u64,
    pub seed: u64,
    pub plant_secrets: bool,
    /// Mean spacing of planted secrets, in lines (spacing is uniform in
    /// `1..=2*lines_per_secret-1`).
    pub lines_per_secret: u64,
}

impl Plan {
    /// A corpus with planted secrets at the default rate.
    pub fn new(bytes: u64, seed: u64) -> Plan {
        Plan {
            bytes,
            seed,
            plant_secrets: true,
            lines_per_secret: DEFAULT_LINES_PER_SECRET,
        }
    }

    /// Noise only.
    pub fn clean(bytes: u64, seed: u64) -> Plan {
        Plan {
            plant_secrets: false,
            ..Plan::new(bytes, seed)
        }
    }
}

impl Default for Plan {
    fn default() -> Plan {
        Plan::new(DEFAULT_BENCH_BYTES, 1)
    }
}

/// Everything that was written.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub generator_version: u32,
    pub seed: u64,
    pub requested_bytes: u64,
    pub lines_per_secret: u64,
    pub total_bytes: u64,
    pub total_lines: u64,
    pub files: Vec<FileEntry>,
    /// In file order, then line order.
    pub secrets: Vec<PlantedSecret>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileEntry {
    /// Relative to the generated directory, `/`-separated.
    pub path: String,
    /// `nginx-combined`, `nginx-api`, `json-app`, `json-worker`, `text-app`, `squid`, `haproxy`.
    pub format: String,
    pub bytes: u64,
    pub lines: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PlantedSecret {
    /// Relative to the generated directory, `/`-separated (as in [`FileEntry::path`]).
    pub file: String,
    /// 1-based.
    pub line: u64,
    /// 1-based byte column of the secret's first byte.
    pub column: u64,
    /// 0-based byte offset of the secret's first byte in the file.
    pub offset: u64,
    /// See [`Family::name`].
    pub family: String,
    /// The leaksweep `kind` this credential should get (a hint, not a rule id).
    pub kind: String,
    /// Where in the line it sits: `query`, `auth-header`, `json-field`,
    /// `curl`, `env`, `url-userinfo`.
    pub position: String,
    /// The exact bytes of the secret as they appear in the file. For URL
    /// credentials the password; for Basic auth the base64 blob; for PEM
    /// keys `-----BEGIN…-----END … KEY-----` with its literal `\n` escapes.
    pub secret: String,
}

impl Manifest {
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(io::Error::other)?;
        let tmp = path.with_extension("json.tmp");
        fs::write(&tmp, text)?;
        fs::rename(&tmp, path)
    }

    pub fn load(path: &Path) -> io::Result<Manifest> {
        let text = fs::read(path)?;
        serde_json::from_slice(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Planted secrets per family, sorted by family name.
    pub fn family_counts(&self) -> Vec<(String, usize)> {
        let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
        for s in &self.secrets {
            *counts.entry(s.family.as_str()).or_default() += 1;
        }
        counts
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }
}

/// Writes the corpus into `dir` (created if missing; existing files of the
/// same names are overwritten) and returns what was written. The manifest is
/// not written into `dir` (it holds the raw secrets): save it elsewhere with
/// [`Manifest::save`].
pub fn generate(dir: &Path, plan: &Plan) -> io::Result<Manifest> {
    fs::create_dir_all(dir)?;
    let targets = split_bytes(plan.bytes);
    let results: Vec<io::Result<(FileEntry, Vec<PlantedSecret>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = FILES
            .iter()
            .zip(&targets)
            .enumerate()
            .map(|(i, (spec, &target))| {
                s.spawn(move || gen_file(dir, spec, target, plan, i as u64))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(io::Error::other("corpus generator thread panicked")))
            })
            .collect()
    });
    let mut manifest = Manifest {
        generator_version: GENERATOR_VERSION,
        seed: plan.seed,
        requested_bytes: plan.bytes,
        lines_per_secret: plan.lines_per_secret,
        total_bytes: 0,
        total_lines: 0,
        files: Vec::new(),
        secrets: Vec::new(),
    };
    for r in results {
        let (entry, secrets) = r?;
        manifest.total_bytes += entry.bytes;
        manifest.total_lines += entry.lines;
        manifest.files.push(entry);
        manifest.secrets.extend(secrets);
    }
    Ok(manifest)
}

/// The same generator with no planted secrets: about `bytes` of realistic
/// noise in which a scanner should find nothing of high or medium confidence.
pub fn clean_logs(dir: &Path, bytes: u64, seed: u64) -> io::Result<Manifest> {
    generate(dir, &Plan::clean(bytes, seed))
}

// ---------------------------------------------------------------------------
// Files

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// nginx `combined` + `"$http_x_forwarded_for" rt= uct= uht= urt= req_id=`.
    NginxCombined,
    /// nginx API vhost that also logs `$remote_user` and `$http_authorization`.
    NginxApi,
    /// JSON lines of an HTTP service (request logs, header dumps, config dumps).
    JsonApp,
    /// JSON lines of a queue worker (payment events, payloads, jobs).
    JsonWorker,
    /// Python-logging style text log of a job scheduler.
    TextApp,
    /// squid native access.log (CONNECT tunnels and ssl-bumped URLs).
    Squid,
    /// haproxy HTTP log with captured request headers.
    Haproxy,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::NginxCombined => "nginx-combined",
            Format::NginxApi => "nginx-api",
            Format::JsonApp => "json-app",
            Format::JsonWorker => "json-worker",
            Format::TextApp => "text-app",
            Format::Squid => "squid",
            Format::Haproxy => "haproxy",
        }
    }

    fn positions(self) -> &'static [Position] {
        use Position::*;
        match self {
            Format::NginxCombined => &[Query],
            Format::NginxApi => &[Query, AuthHeader],
            Format::JsonApp => &[Query, AuthHeader, JsonField, Curl, Env],
            Format::JsonWorker => &[JsonField, Curl, Env, AuthHeader],
            Format::TextApp => &[Env, Curl, Query, UrlUserinfo],
            Format::Squid => &[Query, UrlUserinfo],
            Format::Haproxy => &[Query, AuthHeader],
        }
    }

    /// Rough mean line length, to spread timestamps over about one day.
    fn mean_line_len(self) -> u64 {
        match self {
            Format::NginxCombined | Format::NginxApi => 330,
            Format::JsonApp | Format::JsonWorker => 480,
            Format::TextApp => 150,
            Format::Squid => 170,
            Format::Haproxy => 330,
        }
    }
}

struct FileSpec {
    path: &'static str,
    format: Format,
    /// Share of the total bytes, in thousandths.
    permille: u64,
    service: &'static str,
}

const FILES: &[FileSpec] = &[
    FileSpec {
        path: "nginx/access.log",
        format: Format::NginxCombined,
        permille: 200,
        service: "web",
    },
    FileSpec {
        path: "nginx/api.access.log",
        format: Format::NginxApi,
        permille: 150,
        service: "api",
    },
    FileSpec {
        path: "app/orders-api.log",
        format: Format::JsonApp,
        permille: 220,
        service: "orders-api",
    },
    FileSpec {
        path: "app/payments-worker.log",
        format: Format::JsonWorker,
        permille: 130,
        service: "payments-worker",
    },
    FileSpec {
        path: "app/scheduler.log",
        format: Format::TextApp,
        permille: 80,
        service: "scheduler",
    },
    FileSpec {
        path: "proxy/squid/access.log",
        format: Format::Squid,
        permille: 100,
        service: "squid",
    },
    FileSpec {
        path: "proxy/haproxy.log",
        format: Format::Haproxy,
        permille: 120,
        service: "haproxy",
    },
];

fn split_bytes(total: u64) -> Vec<u64> {
    let mut out: Vec<u64> = FILES
        .iter()
        .map(|f| (total as u128 * f.permille as u128 / 1000) as u64)
        .collect();
    let sum: u64 = out.iter().sum();
    if let Some(last) = out.last_mut() {
        *last += total - sum;
    }
    out
}

fn gen_file(
    dir: &Path,
    spec: &FileSpec,
    target: u64,
    plan: &Plan,
    stream: u64,
) -> io::Result<(FileEntry, Vec<PlantedSecret>)> {
    let path = dir.join(spec.path);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&path)?);
    let mut g = LineGen::new(plan.seed, stream, spec, target);
    let every = plan.lines_per_secret.max(1);
    let mut next_plant = 1 + g.rng.below(every);
    let (mut written, mut lines) = (0u64, 0u64);
    let mut secrets = Vec::new();
    loop {
        let line_no = lines + 1;
        let plant = plan.plant_secrets && line_no == next_plant;
        g.buf.clear();
        let hit = g.line(plant);
        g.buf.push(b'\n');
        if written + g.buf.len() as u64 > target {
            break;
        }
        out.write_all(&g.buf)?;
        if let Some(h) = hit {
            let secret = String::from_utf8(g.buf[h.start..h.start + h.len].to_vec())
                .expect("planted secrets are ASCII");
            assert!(
                h.family.shape_ok(&secret),
                "corpus generator bug: {:?} planted as {secret:?}",
                h.family
            );
            secrets.push(PlantedSecret {
                file: spec.path.to_string(),
                line: line_no,
                column: h.start as u64 + 1,
                offset: written + h.start as u64,
                family: h.family.name().to_string(),
                kind: h.family.kind().to_string(),
                position: h.position.name().to_string(),
                secret,
            });
        }
        if plant {
            next_plant = line_no + 1 + g.rng.below(2 * every - 1);
        }
        written += g.buf.len() as u64;
        lines = line_no;
    }
    out.flush()?;
    let entry = FileEntry {
        path: spec.path.to_string(),
        format: spec.format.name().to_string(),
        bytes: written,
        lines,
    };
    Ok((entry, secrets))
}

// ---------------------------------------------------------------------------
// Credential families and positions

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    GithubClassic,
    Npm,
    AwsAccessKeyId,
    SlackBot,
    SlackWebhook,
    StripeSecret,
    GoogleApiKey,
    OpenAi,
    Anthropic,
    Jwt,
    GitlabPat,
    Sendgrid,
    DigitalOcean,
    HuggingFace,
    UrlPassword,
    BasicAuth,
    PemPrivateKey,
}

pub const ALL_FAMILIES: &[Family] = &[
    Family::GithubClassic,
    Family::Npm,
    Family::AwsAccessKeyId,
    Family::SlackBot,
    Family::SlackWebhook,
    Family::StripeSecret,
    Family::GoogleApiKey,
    Family::OpenAi,
    Family::Anthropic,
    Family::Jwt,
    Family::GitlabPat,
    Family::Sendgrid,
    Family::DigitalOcean,
    Family::HuggingFace,
    Family::UrlPassword,
    Family::BasicAuth,
    Family::PemPrivateKey,
];

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::GithubClassic => "github-classic",
            Family::Npm => "npm",
            Family::AwsAccessKeyId => "aws-access-key-id",
            Family::SlackBot => "slack-bot-token",
            Family::SlackWebhook => "slack-webhook",
            Family::StripeSecret => "stripe-secret-key",
            Family::GoogleApiKey => "google-api-key",
            Family::OpenAi => "openai",
            Family::Anthropic => "anthropic",
            Family::Jwt => "jwt",
            Family::GitlabPat => "gitlab-pat",
            Family::Sendgrid => "sendgrid",
            Family::DigitalOcean => "digitalocean",
            Family::HuggingFace => "huggingface",
            Family::UrlPassword => "url-password",
            Family::BasicAuth => "basic-auth",
            Family::PemPrivateKey => "pem-private-key",
        }
    }

    /// A cheap sanity check of a planted secret's shape (prefix, length).
    pub fn shape_ok(self, s: &str) -> bool {
        let b = s.as_bytes();
        let alnum = |x: &[u8]| x.iter().all(u8::is_ascii_alphanumeric);
        match self {
            Family::GithubClassic => {
                b.len() == 40
                    && ["ghp_", "gho_", "ghu_", "ghs_"]
                        .iter()
                        .any(|p| s.starts_with(p))
                    && alnum(&b[4..])
            }
            Family::Npm => b.len() == 40 && s.starts_with("npm_") && alnum(&b[4..]),
            Family::AwsAccessKeyId => b.len() == 20 && s.starts_with("AKIA"),
            Family::SlackBot => s.starts_with("xoxb-"),
            Family::SlackWebhook => s.starts_with("https://hooks.slack.com/services/T"),
            Family::StripeSecret => s.starts_with("sk_live_") && (32..=42).contains(&b.len()),
            Family::GoogleApiKey => b.len() == 39 && s.starts_with("AIza"),
            Family::OpenAi => s.starts_with("sk-proj-") && s.contains("T3BlbkFJ"),
            Family::Anthropic => {
                b.len() == 108 && s.starts_with("sk-ant-api03-") && s.ends_with("AA")
            }
            Family::Jwt => {
                s.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ")
                    && s.matches('.').count() == 2
            }
            Family::GitlabPat => b.len() == 26 && s.starts_with("glpat-"),
            Family::Sendgrid => b.len() == 69 && s.starts_with("SG."),
            Family::DigitalOcean => b.len() == 71 && s.starts_with("dop_v1_"),
            Family::HuggingFace => b.len() == 37 && s.starts_with("hf_"),
            Family::UrlPassword => b.len() == 16 && alnum(b),
            Family::BasicAuth => b.len() >= 24 && !s.starts_with("Basic"),
            Family::PemPrivateKey => {
                s.starts_with("-----BEGIN ") && s.ends_with("PRIVATE KEY-----")
            }
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            Family::Jwt => "jwt",
            Family::UrlPassword => "url-credential",
            Family::BasicAuth => "basic-auth",
            Family::PemPrivateKey => "private-key",
            _ => "api-key",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    Query,
    AuthHeader,
    JsonField,
    Curl,
    Env,
    UrlUserinfo,
}

impl Position {
    pub fn name(self) -> &'static str {
        match self {
            Position::Query => "query",
            Position::AuthHeader => "auth-header",
            Position::JsonField => "json-field",
            Position::Curl => "curl",
            Position::Env => "env",
            Position::UrlUserinfo => "url-userinfo",
        }
    }

    fn supports(self, f: Family) -> bool {
        use Family::*;
        match self {
            Position::Query => matches!(
                f,
                GithubClassic
                    | GoogleApiKey
                    | Jwt
                    | SlackBot
                    | AwsAccessKeyId
                    | GitlabPat
                    | StripeSecret
                    | Sendgrid
            ),
            Position::AuthHeader => matches!(
                f,
                Jwt | GithubClassic
                    | BasicAuth
                    | OpenAi
                    | StripeSecret
                    | SlackBot
                    | Sendgrid
                    | Npm
                    | GitlabPat
                    | DigitalOcean
                    | HuggingFace
            ),
            Position::JsonField => true,
            Position::Curl => !matches!(f, AwsAccessKeyId | PemPrivateKey),
            Position::Env => !matches!(f, BasicAuth | PemPrivateKey),
            Position::UrlUserinfo => matches!(f, UrlPassword | GitlabPat | GithubClassic),
        }
    }
}

struct Hit {
    family: Family,
    position: Position,
    start: usize,
    len: usize,
}

// ---------------------------------------------------------------------------
// PRNG: splitmix64

/// Small seeded PRNG (splitmix64); the stream is fixed forever for a seed.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// An independent stream for (`seed`, `stream`).
    pub fn derive(seed: u64, stream: u64) -> Rng {
        let mut r = Rng::new(seed ^ stream.wrapping_add(1).wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next_u64();
        r
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    #[inline]
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability 1/`n`.
    #[inline]
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    #[inline]
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    pub fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let x = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&x[..chunk.len()]);
        }
    }
}

// ---------------------------------------------------------------------------
// Alphabets, encoders, checks

const HEX: &[u8; 16] = b"0123456789abcdef";
const HEX_UP: &[u8; 16] = b"0123456789ABCDEF";
/// Base62 in GitHub's checksum order.
pub const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const B64URL_CHARS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64_CHARS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE32_UP: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const UPPER_ALNUM: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const LETTERS: &[u8; 52] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const DIGITS: &[u8; 10] = b"0123456789";
/// Kubernetes' `SafeEncodeString` alphabet (pod-template-hash, pod suffix).
const K8S: &[u8; 27] = b"bcdfghjklmnpqrstvwxz2456789";
/// Crockford base32 (ULIDs).
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Base64 (standard or URL-safe alphabet, with or without `=` padding).
pub fn b64_encode_into(out: &mut Vec<u8>, data: &[u8], url: bool, pad: bool) {
    let abc = if url { B64URL_CHARS } else { B64_CHARS };
    let mut chunks = data.chunks_exact(3);
    for c in &mut chunks {
        let n = (c[0] as u32) << 16 | (c[1] as u32) << 8 | c[2] as u32;
        out.extend_from_slice(&[
            abc[(n >> 18) as usize & 63],
            abc[(n >> 12) as usize & 63],
            abc[(n >> 6) as usize & 63],
            abc[n as usize & 63],
        ]);
    }
    match chunks.remainder() {
        [a] => {
            let n = (*a as u32) << 16;
            out.extend_from_slice(&[abc[(n >> 18) as usize & 63], abc[(n >> 12) as usize & 63]]);
            if pad {
                out.extend_from_slice(b"==");
            }
        }
        [a, b] => {
            let n = (*a as u32) << 16 | (*b as u32) << 8;
            out.extend_from_slice(&[
                abc[(n >> 18) as usize & 63],
                abc[(n >> 12) as usize & 63],
                abc[(n >> 6) as usize & 63],
            ]);
            if pad {
                out.push(b'=');
            }
        }
        _ => {}
    }
}

pub fn b64(data: &[u8], url: bool, pad: bool) -> String {
    let mut v = Vec::with_capacity(data.len() * 4 / 3 + 4);
    b64_encode_into(&mut v, data, url, pad);
    String::from_utf8(v).expect("base64 is ASCII")
}

/// `n` in base62 (`0-9A-Za-z`), left-padded with `0` to 6 characters.
pub fn base62_6(mut n: u32) -> [u8; 6] {
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// GitHub / npm classic token: `prefix` + `body` (30 chars) + base62(crc32(body)).
pub fn github_style_token(prefix: &str, body: &[u8]) -> String {
    let mut s = String::with_capacity(prefix.len() + 36);
    s.push_str(prefix);
    s.push_str(std::str::from_utf8(body).expect("ASCII body"));
    s.push_str(std::str::from_utf8(&base62_6(crc32fast::hash(body))).expect("ASCII"));
    s
}

/// Credential prefixes that must never occur by chance in random-looking
/// noise (a noise string containing one is re-drawn).
const NOISE_ANCHORS: &[&[u8]] = &[
    b"AKIA",
    b"ASIA",
    b"AGPA",
    b"AIDA",
    b"AROA",
    b"AIPA",
    b"ANPA",
    b"ANVA",
    b"ABIA",
    b"ACCA",
    b"A3T",
    b"AIza",
    b"ghp_",
    b"gho_",
    b"ghu_",
    b"ghs_",
    b"ghr_",
    b"github_pat",
    b"npm_",
    b"xox",
    b"xapp",
    b"sk_",
    b"rk_",
    b"sk-",
    b"whsec",
    b"glpat",
    b"glptt",
    b"glrt",
    b"gldt",
    b"glcbt",
    b"glft",
    b"gloas",
    b"GR1348941",
    b"glsa_",
    b"SG.",
    b"T3BlbkFJ",
    b"hvs.",
    b"hvb.",
    b"hvr.",
    b"dop_",
    b"doo_",
    b"dor_",
    b"shp",
    b"pypi",
    b"ya29",
    b"GOCSPX",
    b"lin_api",
    b"hf_",
    b"PMAK",
    b"NRAK",
    b"sntry",
    b"pul-",
    b"dp.pt",
    b"EAAA",
    b"sq0",
    b"ATATT",
    b"HRKU",
    b"AGE-",
    b"LS0tLS1",
    b"key-",
    b"dapi",
    b"AccountKey",
    b"Bearer",
    b"bearer",
    b"Basic",
];

const fn anchor_first_bytes() -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < NOISE_ANCHORS.len() {
        t[NOISE_ANCHORS[i][0] as usize] = true;
        i += 1;
    }
    t
}

static ANCHOR_FIRST: [bool; 256] = anchor_first_bytes();

/// Whether `s` contains a credential prefix (see [`NOISE_ANCHORS`]).
pub fn has_credential_anchor(s: &[u8]) -> bool {
    for i in 0..s.len() {
        if ANCHOR_FIRST[s[i] as usize] {
            let rest = &s[i..];
            if NOISE_ANCHORS.iter().any(|a| rest.starts_with(a)) {
                return true;
            }
        }
    }
    false
}

/// Words that mark a value as a placeholder for some scanner or other; a
/// planted token's random part never contains them (case-insensitive).
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "xxx",
    "test",
    "dummy",
    "fake",
    "sample",
    "placeholder",
    "redact",
    "changeme",
    "secret",
    "passw",
    "token",
    "your",
    "insert",
    "replace",
    "todo",
    "fixme",
    "null",
    "undefined",
    "none",
    "true",
    "false",
    "admin",
    "demo",
    "mock",
    "abcd",
    "1234",
    "0000",
    "qwerty",
];

/// Conservative placeholder test for a planted token's random part: any
/// placeholder word, a run of 4 identical characters, an ascending or
/// descending run of 5 (`abcde`, `98765`), or low Shannon entropy for its
/// length and alphabet.
pub fn looks_placeholder(s: &[u8], alphabet_size: usize) -> bool {
    let lower = s.to_ascii_lowercase();
    if PLACEHOLDER_WORDS
        .iter()
        .any(|w| lower.windows(w.len()).any(|x| x == w.as_bytes()))
    {
        return true;
    }
    let (mut same, mut up, mut down) = (1, 1, 1);
    for w in s.windows(2) {
        same = if w[0] == w[1] { same + 1 } else { 1 };
        up = if w[1] == w[0].wrapping_add(1) && w[0].is_ascii_alphanumeric() {
            up + 1
        } else {
            1
        };
        down = if w[0] == w[1].wrapping_add(1) && w[1].is_ascii_alphanumeric() {
            down + 1
        } else {
            1
        };
        if same >= 4 || up >= 5 || down >= 5 {
            return true;
        }
    }
    let max_bits = (s.len().min(alphabet_size).max(2) as f64).log2();
    leaksweep::validate::entropy::shannon(s) < 0.8 * max_bits
}

fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

fn push_padded(buf: &mut Vec<u8>, n: u64, width: usize) {
    let mut digits = 1;
    let mut x = n / 10;
    while x > 0 {
        digits += 1;
        x /= 10;
    }
    for _ in digits..width {
        buf.push(b'0');
    }
    push_u64(buf, n);
}

/// `n / 1000` with three decimals.
fn push_milli(buf: &mut Vec<u8>, n: u64) {
    push_u64(buf, n / 1000);
    buf.push(b'.');
    push_padded(buf, n % 1000, 3);
}

// ---------------------------------------------------------------------------
// Time

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// 2024-05-14T00:00:00Z.
const EPOCH_START_MS: u64 = 1_715_644_800_000;

/// Broken-down UTC time.
#[derive(Clone, Copy, Debug)]
pub struct Tm {
    pub year: u64,
    pub month: u64,
    pub day: u64,
    pub hour: u64,
    pub min: u64,
    pub sec: u64,
    pub ms: u64,
}

/// UTC civil time of a Unix time in milliseconds (Howard Hinnant's algorithm).
pub fn tm_from_unix_ms(ms: u64) -> Tm {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Tm {
        year: year as u64,
        month: month as u64,
        day: day as u64,
        hour: rem / 3600,
        min: rem / 60 % 60,
        sec: rem % 60,
        ms: ms % 1000,
    }
}

fn push_hms(buf: &mut Vec<u8>, t: &Tm) {
    push_padded(buf, t.hour, 2);
    buf.push(b':');
    push_padded(buf, t.min, 2);
    buf.push(b':');
    push_padded(buf, t.sec, 2);
}

/// `2024-05-14T10:22:31.123Z`
fn push_iso(buf: &mut Vec<u8>, t: &Tm) {
    push_u64(buf, t.year);
    buf.push(b'-');
    push_padded(buf, t.month, 2);
    buf.push(b'-');
    push_padded(buf, t.day, 2);
    buf.push(b'T');
    push_hms(buf, t);
    buf.push(b'.');
    push_padded(buf, t.ms, 3);
    buf.push(b'Z');
}

/// `14/May/2024:10:22:31`
fn push_clf(buf: &mut Vec<u8>, t: &Tm) {
    push_padded(buf, t.day, 2);
    buf.push(b'/');
    buf.extend_from_slice(MONTHS[t.month as usize - 1].as_bytes());
    buf.push(b'/');
    push_u64(buf, t.year);
    buf.push(b':');
    push_hms(buf, t);
}

// ---------------------------------------------------------------------------
// Vocabulary

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "curl/8.5.0",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
    "okhttp/4.12.0",
    "kube-probe/1.29",
    "ELB-HealthChecker/2.0",
    "PostmanRuntime/7.37.3",
    "Amazon CloudFront",
    "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64",
    "NorthwindShop/5.12.0 (iPhone; iOS 17.4.1; Scale/3.00)",
];

const SITES: &[&str] = &[
    "shop.northwind-retail.com",
    "www.northwind-retail.com",
    "api.northwind-retail.com",
    "static.nwr-cdn.net",
    "auth.northwind-retail.com",
];

const WORDS: &[&str] = &[
    "wireless",
    "headphones",
    "usb-c",
    "charger",
    "standing",
    "desk",
    "lamp",
    "running",
    "shoes",
    "coffee",
    "grinder",
    "backpack",
    "monitor",
    "keyboard",
    "cotton",
    "shirt",
    "garden",
    "hose",
    "kettle",
    "blender",
    "yoga",
    "mat",
    "bike",
    "helmet",
];

const UTM_SOURCES: &[&str] = &[
    "newsletter",
    "google",
    "facebook",
    "twitter",
    "bing",
    "partner_site",
    "instagram",
];
const UTM_MEDIUMS: &[&str] = &["email", "cpc", "social", "referral", "display"];
const UTM_CAMPAIGNS: &[&str] = &[
    "spring_sale",
    "black_friday_2023",
    "welcome_series",
    "retargeting_q2",
    "summer_launch",
];
const ORGS: &[&str] = &["northwind", "nwr-platform", "nwr-data"];
const REPOS: &[&str] = &[
    "orders-api",
    "infra-terraform",
    "mobile-app",
    "design-system",
    "etl-jobs",
];
const STREETS: &[&str] = &[
    "Main", "Oak", "Pine", "Maple", "Cedar", "Elm", "Lake", "Hill",
];
const BUCKETS: &[&str] = &[
    "nwr-prod-uploads",
    "nwr-invoices",
    "nwr-data-lake-raw",
    "nwr-backups",
];
const HTTP_SCHEMES: &[&str] = &["https", "http"];
const ANY_SCHEMES: &[&str] = &[
    "https",
    "postgres",
    "postgresql",
    "mysql",
    "redis",
    "amqp",
    "mongodb",
];
const DB_USERS: &[&str] = &[
    "svc_user",
    "svc_orders",
    "etl_reader",
    "replicator",
    "svc_billing",
];
const BASIC_USERS: &[&str] = &[
    "svc_deploy",
    "jenkins",
    "backup-agent",
    "grafana",
    "metrics-reader",
    "svc_user",
];
const METHODS: &[&str] = &[
    "GET", "GET", "GET", "GET", "GET", "GET", "GET", "GET", "GET", "GET", "GET", "GET", "GET",
    "GET", "GET", "GET", "POST", "POST", "POST", "PUT", "DELETE", "HEAD", "OPTIONS",
];
const STATUSES: &[u64] = &[
    200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 304, 304, 301, 302, 201,
    204, 206, 400, 401, 403, 404, 404, 429, 500, 502, 503,
];
const PROXY_HOSTS: &[&str] = &[
    "www.google.com",
    "update.googleapis.com",
    "registry.npmjs.org",
    "pypi.org",
    "files.pythonhosted.org",
    "deb.debian.org",
    "security.debian.org",
    "github.com",
    "objects.githubusercontent.com",
    "s3.amazonaws.com",
    "sts.amazonaws.com",
    "api.northwind-retail.com",
    "cdn.jsdelivr.net",
    "fonts.gstatic.com",
    "login.microsoftonline.com",
    "dl.google.com",
    "proxy.golang.org",
    "index.crates.io",
];

/// Placeholders in query strings (raw, as a request line carries them).
const QUERY_PLACEHOLDERS: &[&str] = &[
    "api_key=your_api_key",
    "apikey=YOUR_API_KEY",
    "token=${TOKEN}",
    "access_token=$ACCESS_TOKEN",
    "password=changeme",
    "secret={{secret}}",
    "token=REDACTED",
    "access_token=***",
    "api_key=null",
    "token=undefined",
    "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE",
    "key=%7B%7B%20secret%20%7D%7D",
];

/// Placeholders as `Authorization` header values.
const AUTH_PLACEHOLDERS: &[&str] = &[
    "Bearer <TOKEN>",
    "Bearer ${TOKEN}",
    "Bearer REDACTED",
    "Bearer ***",
    "Bearer null",
    "Bearer undefined",
    "Bearer {{ secret }}",
    "token ${GITHUB_TOKEN}",
    "Basic REDACTED",
    "[filtered]",
];

/// Placeholders as JSON members.
const JSON_PLACEHOLDERS: &[&str] = &[
    "\"api_key\":\"your_api_key\"",
    "\"password\":\"changeme\"",
    "\"token\":\"${TOKEN}\"",
    "\"authorization\":\"Bearer <TOKEN>\"",
    "\"aws_access_key_id\":\"AKIAIOSFODNN7EXAMPLE\"",
    "\"client_secret\":\"{{ secret }}\"",
    "\"password\":\"REDACTED\"",
    "\"secret\":\"***\"",
    "\"api_key\":null",
    "\"token\":\"undefined\"",
    "\"aws_secret_access_key\":\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"",
];

/// Placeholders and harmless variables in environment dumps.
const ENV_NOISE: &[&str] = &[
    "HOME=/root",
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG=C.UTF-8",
    "TZ=UTC",
    "AWS_REGION=eu-west-1",
    "PYTHONUNBUFFERED=1",
    "CELERY_BROKER_URL=redis://redis-master.cache.svc.cluster.local:6379/0",
    "API_KEY=your_api_key",
    "DB_PASSWORD=changeme",
    "API_TOKEN=${API_TOKEN}",
    "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "SENTRY_DSN=",
    "STRIPE_SECRET_KEY=***",
    "GITHUB_TOKEN=REDACTED",
    "SLACK_BOT_TOKEN=undefined",
    "DATABASE_URL=postgres://app:${DB_PASSWORD}@db.internal.corp:5432/app",
];

// ---------------------------------------------------------------------------
// Line generator

struct LineGen {
    rng: Rng,
    format: Format,
    service: &'static str,
    now_ms: u64,
    step_ms: u64,
    buf: Vec<u8>,
    pods: Vec<String>,
    families: Vec<Family>,
}

impl LineGen {
    fn new(seed: u64, stream: u64, spec: &FileSpec, target: u64) -> LineGen {
        let mut rng = Rng::derive(seed, stream);
        let est_lines = (target / spec.format.mean_line_len()).max(1);
        let step_ms = (86_400_000 / est_lines).max(1);
        let now_ms = EPOCH_START_MS + rng.below(3_600_000);
        let families = ALL_FAMILIES
            .iter()
            .copied()
            .filter(|f| spec.format.positions().iter().any(|p| p.supports(*f)))
            .collect();
        let mut g = LineGen {
            rng,
            format: spec.format,
            service: spec.service,
            now_ms,
            step_ms,
            buf: Vec::with_capacity(8192),
            pods: Vec::new(),
            families,
        };
        let hash = g.random_string(K8S, 10);
        for _ in 0..6 {
            let suffix = g.random_string(K8S, 5);
            g.pods.push(format!("{}-{}-{}", spec.service, hash, suffix));
        }
        g
    }

    /// Writes one line (without `\n`) into `self.buf`.
    fn line(&mut self, plant: bool) -> Option<Hit> {
        self.now_ms += self.rng.below(2 * self.step_ms + 1);
        let target = if plant {
            let family = *self.rng.pick(&self.families);
            let positions: Vec<Position> = self
                .format
                .positions()
                .iter()
                .copied()
                .filter(|p| p.supports(family))
                .collect();
            Some((family, *self.rng.pick(&positions)))
        } else {
            None
        };
        let range = match self.format {
            Format::NginxCombined => self.nginx_combined(target),
            Format::NginxApi => self.nginx_api(target),
            Format::JsonApp => self.json_app(target),
            Format::JsonWorker => self.json_worker(target),
            Format::TextApp => self.text_app(target),
            Format::Squid => self.squid(target),
            Format::Haproxy => self.haproxy(target),
        };
        match (target, range) {
            (Some((family, position)), Some((start, len))) => Some(Hit {
                family,
                position,
                start,
                len,
            }),
            (None, None) => None,
            _ => unreachable!("a planted line must report its secret"),
        }
    }

    // -- small writers -----------------------------------------------------

    fn s(&mut self, x: &str) {
        self.buf.extend_from_slice(x.as_bytes());
    }

    fn b(&mut self, x: u8) {
        self.buf.push(x);
    }

    fn num(&mut self, n: u64) {
        push_u64(&mut self.buf, n);
    }

    fn rnum(&mut self, lo: u64, hi: u64) {
        let n = self.rng.range(lo, hi);
        push_u64(&mut self.buf, n);
    }

    fn milli(&mut self, n: u64) {
        push_milli(&mut self.buf, n);
    }

    fn pick_s(&mut self, xs: &[&str]) {
        let x = *self.rng.pick(xs);
        self.s(x);
    }

    fn hex(&mut self, n: usize) {
        self.hex_from(HEX, n);
    }

    fn hex_from(&mut self, abc: &[u8; 16], mut n: usize) {
        while n > 0 {
            let mut x = self.rng.next_u64();
            let k = n.min(16);
            for _ in 0..k {
                self.buf.push(abc[(x & 15) as usize]);
                x >>= 4;
            }
            n -= k;
        }
    }

    fn uuid(&mut self) {
        let a = self.rng.next_u64();
        let b = self.rng.next_u64();
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&a.to_le_bytes());
        bytes[8..].copy_from_slice(&b.to_le_bytes());
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        for (i, byte) in bytes.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                self.buf.push(b'-');
            }
            self.buf.push(HEX[(byte >> 4) as usize]);
            self.buf.push(HEX[(byte & 15) as usize]);
        }
    }

    fn ulid(&mut self) {
        let mut t = self.now_ms;
        let mut time = [0u8; 10];
        for slot in time.iter_mut().rev() {
            *slot = CROCKFORD[(t & 31) as usize];
            t >>= 5;
        }
        self.buf.extend_from_slice(&time);
        self.noise_from(CROCKFORD, 16);
    }

    fn random_string(&mut self, abc: &[u8], n: usize) -> String {
        (0..n).map(|_| *self.rng.pick(abc) as char).collect()
    }

    /// Random characters from `abc`, re-drawn while they contain a credential prefix.
    fn noise_from(&mut self, abc: &[u8], n: usize) {
        let start = self.buf.len();
        loop {
            for _ in 0..n {
                let c = *self.rng.pick(abc);
                self.buf.push(c);
            }
            if !has_credential_anchor(&self.buf[start..]) {
                return;
            }
            self.buf.truncate(start);
        }
    }

    /// Base64 of `nbytes` random bytes, re-drawn while it contains a credential prefix.
    fn noise_b64(&mut self, nbytes: usize, url: bool, pad: bool) {
        let start = self.buf.len();
        let mut raw = vec![0u8; nbytes];
        loop {
            self.rng.fill(&mut raw);
            b64_encode_into(&mut self.buf, &raw, url, pad);
            if !has_credential_anchor(&self.buf[start..]) {
                return;
            }
            self.buf.truncate(start);
        }
    }

    fn ip(&mut self) {
        let x = self.rng.next_u64();
        let a = match x % 4 {
            0 => 10,
            _ => [23u64, 31, 45, 52, 66, 81, 93, 104, 151, 172, 185, 203][(x >> 8) as usize % 12],
        };
        self.num(a);
        for shift in [16, 24, 32] {
            self.b(b'.');
            self.num((x >> shift) & 0xff);
        }
    }

    fn pod(&mut self) {
        let i = self.rng.below(self.pods.len() as u64) as usize;
        self.buf.extend_from_slice(self.pods[i].as_bytes());
    }

    fn tm(&self) -> Tm {
        tm_from_unix_ms(self.now_ms)
    }

    fn iso_now(&mut self) {
        let t = self.tm();
        push_iso(&mut self.buf, &t);
    }

    fn traceparent(&mut self) {
        self.s("00-");
        self.hex(32);
        self.b(b'-');
        self.hex(16);
        let flags = if self.rng.one_in(4) { "-00" } else { "-01" };
        self.s(flags);
    }

    fn amzn_trace(&mut self) {
        self.s("Root=1-");
        let secs = self.now_ms / 1000;
        for shift in (0..8).rev() {
            self.b(HEX[((secs >> (shift * 4)) & 15) as usize]);
        }
        self.b(b'-');
        self.hex(24);
        if self.rng.one_in(2) {
            self.s(";Parent=");
            self.hex(16);
            self.s(";Sampled=1");
        }
    }

    fn etag(&mut self) {
        match self.rng.below(3) {
            0 => {
                self.s("\\\"");
                self.hex(32);
                self.s("\\\"");
            }
            1 => {
                self.s("\\\"");
                self.hex(32);
                self.b(b'-');
                self.rnum(2, 40);
                self.s("\\\"");
            }
            _ => {
                self.s("W/\\\"");
                let n = self.rng.range(0x100, 0xfffff);
                self.s(&format!("{n:x}"));
                self.b(b'-');
                self.noise_from(B64URL_CHARS, 27);
                self.s("\\\"");
            }
        }
    }

    fn cache_key(&mut self) {
        match self.rng.below(4) {
            0 => {
                self.s("v3:product:");
                self.rnum(1000, 999_999);
                self.s(":en-US:");
                self.hex(40);
            }
            1 => {
                self.s("sha256:");
                self.hex(64);
            }
            2 => {
                self.s("page:/products/");
                self.rnum(1000, 999_999);
                self.s("?page=");
                self.rnum(1, 20);
                self.s("|gz|");
                self.hex(16);
            }
            _ => {
                self.s("session-less:feed:");
                self.uuid();
            }
        }
    }

    /// A base64url-encoded JSON cursor (starts with `eyJ`, but is no JWT).
    fn cursor(&mut self) {
        let json = format!(
            "{{\"id\":{},\"ts\":{},\"dir\":\"next\"}}",
            self.rng.range(1, 99_999_999),
            self.now_ms / 1000
        );
        b64_encode_into(&mut self.buf, json.as_bytes(), true, false);
    }

    fn search_query(&mut self) {
        self.s("q=");
        self.pick_s(WORDS);
        self.b(b'+');
        self.pick_s(WORDS);
        self.s("&page=");
        self.rnum(1, 12);
        self.s("&sort=");
        self.pick_s(&["asc", "desc", "relevance", "price_asc"]);
        if self.rng.one_in(2) {
            self.s("&utm_source=");
            self.pick_s(UTM_SOURCES);
            self.s("&utm_medium=");
            self.pick_s(UTM_MEDIUMS);
            self.s("&utm_campaign=");
            self.pick_s(UTM_CAMPAIGNS);
        }
    }

    /// A path with a query string that holds no credential (sometimes a placeholder).
    fn noise_uri(&mut self) {
        match self.rng.below(40) {
            0..=5 => {
                self.s("/products/");
                self.rnum(1000, 999_999);
                if self.rng.one_in(2) {
                    self.s("/reviews?page=");
                    self.rnum(1, 30);
                    self.s("&sort=desc");
                }
            }
            6..=9 => {
                self.s("/search?");
                self.search_query();
            }
            10..=13 => {
                self.s("/static/");
                if self.rng.one_in(2) {
                    self.s("js/");
                    self.pick_s(&["app", "vendor", "runtime", "checkout"]);
                    self.b(b'.');
                    self.hex(8);
                    self.s(".js");
                } else {
                    self.s("css/main.");
                    self.hex(20);
                    self.s(".css");
                }
            }
            14..=16 => {
                self.s("/images/");
                self.uuid();
                self.s(".jpg?w=");
                self.pick_s(&["320", "640", "1280"]);
                self.s("&h=");
                self.pick_s(&["240", "480", "960"]);
                self.s("&fit=crop&auto=format");
            }
            17..=20 => {
                self.s("/api/v2/cart/");
                self.uuid();
                self.s("/items");
            }
            21..=22 => {
                self.s("/api/v2/orders/");
                self.rnum(10_000_000, 99_999_999);
                self.s("?include=items,shipping&currency=");
                self.pick_s(&["USD", "EUR", "GBP"]);
            }
            23 => {
                self.s("/assets/fonts/");
                self.hex(64);
                self.s(".woff2");
            }
            24..=26 => {
                self.pick_s(&[
                    "/health",
                    "/favicon.ico",
                    "/robots.txt",
                    "/sitemap.xml",
                    "/",
                    "/healthz",
                    "/metrics",
                ]);
            }
            27 => {
                self.s("/?gclid=Cj0KCQjw");
                self.noise_from(B64URL_CHARS, 70);
                self.s("BwE");
            }
            28 => {
                self.s("/landing/");
                self.pick_s(UTM_CAMPAIGNS);
                self.s("?fbclid=IwAR");
                self.noise_from(B64URL_CHARS, 58);
                self.s("&utm_source=facebook&utm_medium=paid_social");
            }
            29 => {
                self.s("/collect?v=2&tid=G-");
                self.noise_from(UPPER_ALNUM, 10);
                self.s("&cid=");
                self.rnum(100_000_000, 2_000_000_000);
                self.b(b'.');
                let first_seen = self.now_ms / 1000 - self.rng.below(9_000_000);
                self.num(first_seen);
                self.s("&en=page_view");
            }
            30..=31 => {
                self.s("/api/v2/events?cursor=");
                self.cursor();
                self.s("&limit=50");
            }
            32 => {
                self.s("/v1/shipments/");
                self.ulid();
                self.s("/tracking");
            }
            33 => {
                self.s("/downloads/");
                self.hex(40);
                self.s("/invoice.pdf?expires=");
                self.num(self.now_ms / 1000 + 3600);
            }
            34 => {
                self.s("/api/v1/items?");
                self.pick_s(QUERY_PLACEHOLDERS);
                self.s("&page=");
                self.rnum(1, 9);
            }
            35 => {
                self.s("/oauth/authorize?response_type=code&client_id=");
                self.rnum(100_000, 999_999);
                self.s("&redirect_uri=https%3A%2F%2Fshop.northwind-retail.com%2Fcallback&scope=openid%20profile");
            }
            _ => {
                self.s("/category/");
                self.pick_s(WORDS);
                self.s("?page=");
                self.rnum(2, 9);
                self.s("&sort=desc&utm_source=");
                self.pick_s(UTM_SOURCES);
            }
        }
    }

    fn referer(&mut self) {
        match self.rng.below(10) {
            0..=3 => self.s("-"),
            4 => self.s("https://www.google.com/"),
            5 => self.s("https://www.bing.com/"),
            6 => {
                self.s("https://t.co/");
                self.noise_from(&BASE62[..], 10);
            }
            _ => {
                self.s("https://");
                self.pick_s(&SITES[..2]);
                self.s("/products/");
                self.rnum(1000, 999_999);
                if self.rng.one_in(2) {
                    self.s("?ref=homepage&utm_source=");
                    self.pick_s(UTM_SOURCES);
                }
            }
        }
    }

    // -- planted credentials -------------------------------------------------

    /// `n` characters of `abc` that do not look like a placeholder.
    fn token_body(&mut self, abc: &[u8], n: usize) -> String {
        loop {
            let s = self.random_string(abc, n);
            let edge_ok = !matches!(s.as_bytes()[0], b'-' | b'_')
                && !matches!(s.as_bytes()[n - 1], b'-' | b'_');
            if edge_ok && !looks_placeholder(s.as_bytes(), abc.len()) {
                return s;
            }
        }
    }

    /// Base64url (no padding) of `n` random bytes that does not look like a placeholder.
    fn token_b64url(&mut self, n: usize) -> String {
        let mut raw = vec![0u8; n];
        loop {
            self.rng.fill(&mut raw);
            let s = b64(&raw, true, false);
            let edge_ok = !matches!(s.as_bytes()[0], b'-' | b'_')
                && !matches!(s.as_bytes()[s.len() - 1], b'-' | b'_');
            if edge_ok && !looks_placeholder(s.as_bytes(), 64) {
                return s;
            }
        }
    }

    fn github_token(&mut self) -> String {
        let prefix = *self
            .rng
            .pick(&["ghp_", "ghp_", "ghp_", "ghp_", "gho_", "ghs_", "ghu_"]);
        self.checksummed(prefix)
    }

    fn checksummed(&mut self, prefix: &str) -> String {
        loop {
            let body = self.random_string(BASE62, 30);
            let tok = github_style_token(prefix, body.as_bytes());
            if !looks_placeholder(&tok.as_bytes()[prefix.len()..], 62) {
                return tok;
            }
        }
    }

    fn jwt(&mut self) -> String {
        let iat = self.now_ms / 1000 - self.rng.below(600);
        let exp = iat + *self.rng.pick(&[900u64, 3600, 3600, 86_400, 604_800]);
        let sub = self.rng.range(10_000, 9_999_999);
        let payload = match self.rng.below(3) {
            0 => format!(
                "{{\"sub\":\"{sub}\",\"iss\":\"https://auth.northwind-retail.com/\",\"aud\":\"orders-api\",\"iat\":{iat},\"exp\":{exp},\"scope\":\"orders:read orders:write\"}}"
            ),
            1 => format!("{{\"sub\":\"user_{sub}\",\"role\":\"customer\",\"iat\":{iat},\"exp\":{exp}}}"),
            _ => {
                let jti = {
                    let start = self.buf.len();
                    self.uuid();
                    let s = String::from_utf8(self.buf[start..].to_vec()).expect("ASCII");
                    self.buf.truncate(start);
                    s
                };
                format!(
                    "{{\"iss\":\"nwr-gateway\",\"sub\":\"svc-{sub}\",\"jti\":\"{jti}\",\"iat\":{iat},\"nbf\":{iat},\"exp\":{exp}}}"
                )
            }
        };
        let header = b64(br#"{"alg":"HS256","typ":"JWT"}"#, true, false);
        let payload = b64(payload.as_bytes(), true, false);
        let sig = self.token_b64url(32);
        format!("{header}.{payload}.{sig}")
    }

    fn pem(&mut self) -> String {
        let (label, prefix, total, line): (&str, Vec<u8>, usize, usize) = match self.rng.below(4) {
            0 => (
                "RSA PRIVATE KEY",
                vec![
                    0x30, 0x82, 0x04, 0xa4, 0x02, 0x01, 0x00, 0x02, 0x82, 0x01, 0x01, 0x00,
                ],
                0x4a4 + 4,
                64,
            ),
            1 => (
                "PRIVATE KEY",
                vec![
                    0x30, 0x82, 0x04, 0xbe, 0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86,
                    0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00, 0x04, 0x82, 0x04, 0xa8,
                    0x30, 0x82, 0x04, 0xa4, 0x02, 0x01, 0x00, 0x02, 0x82, 0x01, 0x01, 0x00,
                ],
                0x4be + 4,
                64,
            ),
            2 => (
                "EC PRIVATE KEY",
                vec![0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20],
                0x77 + 2,
                64,
            ),
            _ => {
                let mut p = b"openssh-key-v1\0".to_vec();
                for part in [&b"none"[..], b"none"] {
                    p.extend_from_slice(&(part.len() as u32).to_be_bytes());
                    p.extend_from_slice(part);
                }
                p.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x33, 0, 0, 0, 0x0b]);
                p.extend_from_slice(b"ssh-ed25519");
                p.extend_from_slice(&[0, 0, 0, 0x20]);
                ("OPENSSH PRIVATE KEY", p, 400, 70)
            }
        };
        let mut der = prefix;
        let start = der.len();
        der.resize(total, 0);
        self.rng.fill(&mut der[start..]);
        if label == "EC PRIVATE KEY" {
            // Fixed P-256 OID and public-key header between the two random parts.
            let tail = [
                0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0xa1, 0x44,
                0x03, 0x42, 0x00, 0x04,
            ];
            der[39..39 + tail.len()].copy_from_slice(&tail);
        }
        let body = b64(&der, false, true);
        let mut s = format!("-----BEGIN {label}-----");
        for chunk in body.as_bytes().chunks(line) {
            s.push_str("\\n");
            s.push_str(std::str::from_utf8(chunk).expect("ASCII"));
        }
        s.push_str(&format!("\\n-----END {label}-----"));
        s
    }

    fn basic(&mut self) -> (String, &'static str) {
        let user = *self.rng.pick(BASIC_USERS);
        let n = self.rng.range(16, 22) as usize;
        let pass = self.token_body(BASE62, n);
        (b64(format!("{user}:{pass}").as_bytes(), false, true), user)
    }

    /// The bare token of a family (for URL passwords: the password; for
    /// Basic auth: the base64 blob; for PEM: the escaped one-line block).
    fn token(&mut self, f: Family) -> String {
        match f {
            Family::GithubClassic => self.github_token(),
            Family::Npm => self.checksummed("npm_"),
            Family::AwsAccessKeyId => format!("AKIA{}", self.token_body(BASE32_UP, 16)),
            Family::SlackBot => {
                let a = self.rng.range(10, 13) as usize;
                let b = self.rng.range(10, 14) as usize;
                let d1 = self.digits_nonzero(a);
                let d2 = self.digits_nonzero(b);
                format!("xoxb-{d1}-{d2}-{}", self.token_body(BASE62, 24))
            }
            Family::SlackWebhook => {
                let t = self.rng.range(8, 10) as usize;
                let b = self.rng.range(8, 10) as usize;
                format!(
                    "https://hooks.slack.com/services/T{}/B{}/{}",
                    self.token_body(UPPER_ALNUM, t),
                    self.token_body(UPPER_ALNUM, b),
                    self.token_body(BASE62, 24)
                )
            }
            Family::StripeSecret => {
                let n = self.rng.range(24, 34) as usize;
                format!("sk_live_{}", self.token_body(BASE62, n))
            }
            Family::GoogleApiKey => format!("AIzaSy{}", self.token_body(B64URL_CHARS, 33)),
            Family::OpenAi => {
                let n = *self.rng.pick(&[58usize, 74]);
                let a = self.token_body(B64URL_CHARS, n);
                let b = self.token_body(B64URL_CHARS, n);
                format!("sk-proj-{a}T3BlbkFJ{b}")
            }
            Family::Anthropic => format!("sk-ant-api03-{}AA", self.token_body(B64URL_CHARS, 93)),
            Family::Jwt => self.jwt(),
            Family::GitlabPat => format!("glpat-{}", self.token_body(B64URL_CHARS, 20)),
            Family::Sendgrid => {
                let a = self.token_b64url(16);
                let b = self.token_b64url(32);
                format!("SG.{a}.{b}")
            }
            Family::DigitalOcean => format!("dop_v1_{}", self.token_body(HEX, 64)),
            Family::HuggingFace => format!("hf_{}", self.token_body(LETTERS, 34)),
            Family::UrlPassword => self.token_body(BASE62, 16),
            Family::BasicAuth => self.basic().0,
            Family::PemPrivateKey => self.pem(),
        }
    }

    fn digits_nonzero(&mut self, n: usize) -> String {
        loop {
            let s = self.random_string(DIGITS, n);
            if !s.starts_with('0') && !looks_placeholder(s.as_bytes(), 10) {
                return s;
            }
        }
    }

    /// Pushes `tok`, returning its range in the line.
    fn put(&mut self, tok: &str) -> (usize, usize) {
        let start = self.buf.len();
        self.s(tok);
        (start, tok.len())
    }

    fn put_token(&mut self, f: Family) -> (usize, usize) {
        let t = self.token(f);
        self.put(&t)
    }

    /// `scheme://user:PASSWORD@host…`, returning the password's range.
    fn url_with_password(&mut self, schemes: &[&str]) -> (usize, usize) {
        let scheme = *self.rng.pick(schemes);
        self.s(scheme);
        self.s("://");
        self.pick_s(DB_USERS);
        self.b(b':');
        let r = self.put_token(Family::UrlPassword);
        self.b(b'@');
        match scheme {
            "https" | "http" => {
                let (host, path) = *self.rng.pick(&[
                    ("db.internal.corp", "/"),
                    ("search.internal.corp", ":9200/_cluster/health"),
                    ("search.internal.corp", ":9200/_cat/indices"),
                    ("registry.internal.corp", "/v2/_catalog"),
                ]);
                self.s(host);
                self.s(path);
            }
            "postgres" | "postgresql" => {
                self.pick_s(&[
                    "db.internal.corp:5432/orders",
                    "pg-primary.internal.corp:5432/billing?sslmode=require",
                ]);
            }
            "mysql" => self.s("mysql-01.internal.corp:3306/inventory"),
            "redis" => self.s("cache-01.internal.corp:6379/0"),
            "amqp" => self.s("mq.internal.corp:5672/%2F"),
            _ => self.s("mongo-0.internal.corp:27017/events?authSource=admin"),
        }
        r
    }

    /// A URL whose userinfo carries `f`: a git remote with a GitHub/GitLab
    /// token, else `scheme://user:PASSWORD@host` with one of `schemes`.
    fn userinfo_plant(&mut self, f: Family, schemes: &[&str]) -> (usize, usize) {
        let (user, host) = match f {
            Family::GithubClassic => ("x-access-token", "github.com"),
            Family::GitlabPat => ("oauth2", "gitlab.com"),
            _ => return self.url_with_password(schemes),
        };
        self.s("https://");
        self.s(user);
        self.b(b':');
        let r = self.put_token(f);
        self.b(b'@');
        self.s(host);
        self.b(b'/');
        self.pick_s(ORGS);
        self.b(b'/');
        self.pick_s(REPOS);
        self.s(".git");
        r
    }

    /// The value of an `Authorization` header carrying `f`, returning the
    /// secret's range and the Basic user if any.
    fn auth_value(&mut self, f: Family) -> ((usize, usize), Option<&'static str>) {
        match f {
            Family::BasicAuth => {
                let (tok, user) = self.basic();
                self.s("Basic ");
                (self.put(&tok), Some(user))
            }
            Family::GithubClassic => {
                self.pick_s(&["token ", "Bearer "]);
                (self.put_token(f), None)
            }
            _ => {
                self.s("Bearer ");
                (self.put_token(f), None)
            }
        }
    }

    /// Host and path+query carrying `f` in the query string.
    fn query_plant(&mut self, f: Family, with_host: bool) -> (usize, usize) {
        let host = match f {
            Family::GithubClassic => "api.github.com",
            Family::GoogleApiKey => "maps.googleapis.com",
            Family::SlackBot => "slack.com",
            Family::AwsAccessKeyId => "nwr-invoices.s3.amazonaws.com",
            Family::GitlabPat => "gitlab.com",
            Family::Sendgrid => "api.sendgrid.com",
            _ => "api.northwind-retail.com",
        };
        if with_host {
            self.s("https://");
            self.s(host);
        }
        match f {
            Family::GithubClassic => {
                self.s("/repos/");
                self.pick_s(ORGS);
                self.b(b'/');
                self.pick_s(REPOS);
                self.s("/contents/");
                self.pick_s(&["README.md", "deploy/values.yaml", "VERSION"]);
                self.s("?ref=main&access_token=");
                self.put_token(f)
            }
            Family::GoogleApiKey => {
                self.s("/maps/api/geocode/json?address=");
                self.rnum(1, 999);
                self.b(b'+');
                self.pick_s(STREETS);
                self.s("+St&key=");
                self.put_token(f)
            }
            Family::Jwt => {
                self.pick_s(&[
                    "/app/dashboard?access_token=",
                    "/ws/notifications?token=",
                    "/sso/complete?id_token=",
                ]);
                let r = self.put_token(f);
                self.s("&lang=en");
                r
            }
            Family::SlackBot => {
                self.s("/api/chat.postMessage?token=");
                let r = self.put_token(f);
                self.s("&channel=C");
                self.noise_from(UPPER_ALNUM, 9);
                self.s("&text=deploy+finished");
                r
            }
            Family::AwsAccessKeyId => {
                self.s("/");
                self.rnum(2019, 2024);
                self.b(b'/');
                self.uuid();
                self.s(".pdf?AWSAccessKeyId=");
                let r = self.put_token(f);
                self.s("&Expires=");
                self.num(self.now_ms / 1000 + 3600);
                self.s("&Signature=");
                let mut raw = [0u8; 20];
                self.rng.fill(&mut raw);
                let sig = b64(&raw, false, true)
                    .replace('+', "%2B")
                    .replace('/', "%2F")
                    .replace('=', "%3D");
                self.s(&sig);
                r
            }
            Family::GitlabPat => {
                self.s("/api/v4/projects/");
                self.rnum(1000, 99_999);
                self.s("/repository/files/");
                self.pick_s(&["README.md", ".gitlab-ci.yml", "Chart.yaml"]);
                self.s("/raw?ref=main&private_token=");
                self.put_token(f)
            }
            Family::StripeSecret => {
                self.s("/internal/billing/sync?dry_run=false&stripe_key=");
                self.put_token(f)
            }
            Family::Sendgrid => {
                self.s("/v3/mail/send?api_key=");
                self.put_token(f)
            }
            _ => unreachable!("{f:?} is not planted in query strings"),
        }
    }

    /// A curl command line (single quotes only, so it embeds in JSON as is).
    fn curl_plant(&mut self, f: Family) -> (usize, usize) {
        self.s("curl ");
        match f {
            Family::GithubClassic => {
                self.s("-sS -H 'Authorization: token ");
                let r = self.put_token(f);
                self.s("' https://api.github.com/repos/");
                self.pick_s(ORGS);
                self.b(b'/');
                self.pick_s(REPOS);
                self.s("/releases/latest");
                r
            }
            Family::StripeSecret => {
                self.s("https://api.stripe.com/v1/charges -u ");
                let r = self.put_token(f);
                self.s(": -d amount=");
                self.rnum(500, 99_999);
                self.s(" -d currency=usd");
                r
            }
            Family::SlackBot => {
                self.s("-X POST -H 'Authorization: Bearer ");
                let r = self.put_token(f);
                self.s("' -d channel=C");
                self.noise_from(UPPER_ALNUM, 9);
                self.s(" -d text=deploy+ok https://slack.com/api/chat.postMessage");
                r
            }
            Family::BasicAuth => {
                self.s("-fsS -H 'Authorization: ");
                let (r, _) = self.auth_value(f);
                self.s("' https://artifacts.internal.corp/api/storage/releases/");
                self.pick_s(REPOS);
                r
            }
            Family::Npm => {
                self.s("-s -H 'Authorization: Bearer ");
                let r = self.put_token(f);
                self.s("' https://registry.npmjs.org/-/whoami");
                r
            }
            Family::GitlabPat => {
                self.s("--header 'PRIVATE-TOKEN: ");
                let r = self.put_token(f);
                self.s("' https://gitlab.com/api/v4/projects/");
                self.rnum(1000, 99_999);
                self.s("/pipelines");
                r
            }
            Family::OpenAi => {
                self.s("https://api.openai.com/v1/chat/completions -H 'Content-Type: application/json' -H 'Authorization: Bearer ");
                let r = self.put_token(f);
                self.s("'");
                r
            }
            Family::Anthropic => {
                self.s("https://api.anthropic.com/v1/messages -H 'x-api-key: ");
                let r = self.put_token(f);
                self.s("' -H 'anthropic-version: 2023-06-01'");
                r
            }
            Family::Sendgrid => {
                self.s("--request POST --url https://api.sendgrid.com/v3/mail/send --header 'Authorization: Bearer ");
                let r = self.put_token(f);
                self.s("'");
                r
            }
            Family::Jwt => {
                self.s("-H 'Authorization: Bearer ");
                let r = self.put_token(f);
                self.s("' https://api.northwind-retail.com/v1/orders/");
                self.rnum(10_000_000, 99_999_999);
                r
            }
            Family::DigitalOcean => {
                self.s("-X GET -H 'Content-Type: application/json' -H 'Authorization: Bearer ");
                let r = self.put_token(f);
                self.s("' https://api.digitalocean.com/v2/droplets");
                r
            }
            Family::HuggingFace => {
                self.s("https://huggingface.co/api/whoami-v2 -H 'Authorization: Bearer ");
                let r = self.put_token(f);
                self.s("'");
                r
            }
            Family::GoogleApiKey => {
                self.s("-s 'https://maps.googleapis.com/maps/api/geocode/json?address=");
                self.rnum(1, 999);
                self.b(b'+');
                self.pick_s(STREETS);
                self.s("+St&key=");
                let r = self.put_token(f);
                self.s("'");
                r
            }
            Family::SlackWebhook => {
                self.s("-X POST --data-urlencode 'text=nightly export finished' ");
                self.put_token(f)
            }
            Family::UrlPassword => {
                self.s("-s ");
                self.url_with_password(HTTP_SCHEMES)
            }
            _ => unreachable!("{f:?} is not planted in curl commands"),
        }
    }

    fn env_name(&mut self, f: Family) -> &'static str {
        let names: &[&'static str] = match f {
            Family::GithubClassic => &["GITHUB_TOKEN", "GH_TOKEN", "GITHUB_PAT"],
            Family::Npm => &["NPM_TOKEN", "NODE_AUTH_TOKEN"],
            Family::AwsAccessKeyId => &["AWS_ACCESS_KEY_ID"],
            Family::SlackBot => &["SLACK_BOT_TOKEN"],
            Family::SlackWebhook => &["SLACK_WEBHOOK_URL"],
            Family::StripeSecret => &["STRIPE_SECRET_KEY", "STRIPE_API_KEY"],
            Family::GoogleApiKey => &["GOOGLE_MAPS_API_KEY", "GOOGLE_API_KEY"],
            Family::OpenAi => &["OPENAI_API_KEY"],
            Family::Anthropic => &["ANTHROPIC_API_KEY"],
            Family::Jwt => &["INTERNAL_API_JWT", "SERVICE_AUTH_JWT"],
            Family::GitlabPat => &["GITLAB_TOKEN", "GL_TOKEN"],
            Family::Sendgrid => &["SENDGRID_API_KEY"],
            Family::DigitalOcean => &["DIGITALOCEAN_ACCESS_TOKEN"],
            Family::HuggingFace => &["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"],
            Family::UrlPassword => &["DATABASE_URL", "BROKER_URL", "ELASTICSEARCH_URL"],
            Family::BasicAuth => &["UPSTREAM_AUTHORIZATION"],
            Family::PemPrivateKey => &["TLS_PRIVATE_KEY"],
        };
        names[self.rng.below(names.len() as u64) as usize]
    }

    /// The value of an env var / config field carrying `f`.
    fn value_plant(&mut self, f: Family) -> (usize, usize) {
        match f {
            Family::UrlPassword => self.url_with_password(ANY_SCHEMES),
            Family::BasicAuth => self.auth_value(f).0,
            _ => self.put_token(f),
        }
    }

    /// The value of environment variable `name` carrying `f`.
    fn env_value(&mut self, f: Family, name: &str) -> (usize, usize) {
        match (f, name) {
            (Family::UrlPassword, "DATABASE_URL") => {
                self.url_with_password(&["postgres", "postgresql", "mysql", "mongodb"])
            }
            (Family::UrlPassword, "BROKER_URL") => self.url_with_password(&["amqp", "redis"]),
            (Family::UrlPassword, _) => self.url_with_password(HTTP_SCHEMES),
            _ => self.value_plant(f),
        }
    }

    fn json_field_name(&mut self, f: Family) -> &'static str {
        let names: &[&'static str] = match f {
            Family::GithubClassic => &["github_token", "githubToken"],
            Family::Npm => &["npm_token"],
            Family::AwsAccessKeyId => &["aws_access_key_id", "accessKeyId"],
            Family::SlackBot => &["slack_bot_token", "slackToken"],
            Family::SlackWebhook => &["slack_webhook_url", "alert_webhook"],
            Family::StripeSecret => &["stripe_secret_key", "stripeApiKey"],
            Family::GoogleApiKey => &["maps_api_key", "googleApiKey"],
            Family::OpenAi => &["openai_api_key"],
            Family::Anthropic => &["anthropic_api_key"],
            Family::Jwt => &["id_token", "access_token"],
            Family::GitlabPat => &["gitlab_token"],
            Family::Sendgrid => &["sendgrid_api_key", "smtp_password"],
            Family::DigitalOcean => &["do_token"],
            Family::HuggingFace => &["hf_token"],
            Family::UrlPassword => &["database_url", "dsn", "broker_url"],
            Family::BasicAuth => &["upstream_authorization"],
            Family::PemPrivateKey => &["private_key"],
        };
        names[self.rng.below(names.len() as u64) as usize]
    }

    // -- formats --------------------------------------------------------------

    fn request_line(&mut self, target: Option<(Family, Position)>) -> Option<(usize, usize)> {
        match target {
            Some((f, Position::Query)) => {
                self.s("GET ");
                let r = self.query_plant(f, false);
                self.s(" HTTP/1.1");
                Some(r)
            }
            _ => {
                self.pick_s(METHODS);
                self.b(b' ');
                self.noise_uri();
                let proto = if self.rng.one_in(3) {
                    " HTTP/2.0"
                } else {
                    " HTTP/1.1"
                };
                self.s(proto);
                None
            }
        }
    }

    fn status_bytes(&mut self) {
        let status = *self.rng.pick(STATUSES);
        self.num(status);
        self.b(b' ');
        let bytes = if status == 304 || status == 204 {
            0
        } else {
            self.rng.range(120, 250_000)
        };
        self.num(bytes);
    }

    fn clf_time(&mut self) {
        self.b(b'[');
        let t = self.tm();
        push_clf(&mut self.buf, &t);
        self.s(" +0000]");
    }

    fn nginx_combined(&mut self, target: Option<(Family, Position)>) -> Option<(usize, usize)> {
        self.ip();
        self.s(" - - ");
        self.clf_time();
        self.s(" \"");
        let r = self.request_line(target);
        self.s("\" ");
        self.status_bytes();
        self.s(" \"");
        self.referer();
        self.s("\" \"");
        self.pick_s(USER_AGENTS);
        self.s("\" \"");
        if self.rng.one_in(3) {
            self.ip();
        } else {
            self.b(b'-');
        }
        self.s("\" rt=");
        let rt = self.rng.below(900);
        self.milli(rt);
        self.s(" uct=\"0.000\" uht=\"");
        self.milli(rt * 9 / 10);
        self.s("\" urt=\"");
        self.milli(rt * 19 / 20);
        self.s("\" req_id=");
        self.hex(32);
        r
    }

    fn nginx_api(&mut self, target: Option<(Family, Position)>) -> Option<(usize, usize)> {
        self.ip();
        self.s(" - ");
        // The Authorization value is written to a side buffer first, so that
        // $remote_user (logged before it) can name the Basic user.
        let mut auth: Option<(Vec<u8>, (usize, usize))> = None;
        let mut user = None;
        if let Some((f, Position::AuthHeader)) = target {
            let saved = std::mem::take(&mut self.buf);
            let (r, u) = self.auth_value(f);
            auth = Some((std::mem::replace(&mut self.buf, saved), r));
            user = u;
        }
        self.s(user.unwrap_or("-"));
        self.b(b' ');
        self.clf_time();
        self.s(" \"");
        let mut r = self.request_line(target);
        self.s("\" ");
        self.status_bytes();
        self.s(" \"");
        self.referer();
        self.s("\" \"");
        self.pick_s(USER_AGENTS);
        self.s("\" \"");
        self.ip();
        self.s("\" auth=\"");
        match auth {
            Some((value, (start, len))) => {
                r = Some((self.buf.len() + start, len));
                self.buf.extend_from_slice(&value);
            }
            None => {
                if self.rng.one_in(30) {
                    self.pick_s(AUTH_PLACEHOLDERS);
                } else {
                    self.b(b'-');
                }
            }
        }
        self.s("\" rid=");
        self.uuid();
        self.s(" rt=");
        self.rnum(1, 2500);
        self.s("ms upstream=10.42.");
        self.rnum(0, 15);
        self.b(b'.');
        self.rnum(2, 250);
        self.s(":8080");
        r
    }

    fn json_head(&mut self, level: &str) {
        self.s("{\"ts\":\"");
        self.iso_now();
        self.s("\",\"level\":\"");
        self.s(level);
        self.s("\",\"service\":\"");
        self.s(self.service);
        self.s("\",\"pod\":\"");
        self.pod();
        self.s("\",\"trace_id\":\"");
        self.hex(32);
        self.s("\",\"span_id\":\"");
        self.hex(16);
        self.s("\",");
    }

    fn random_level(&mut self) -> &'static str {
        match self.rng.below(100) {
            0..=84 => "info",
            85..=92 => "debug",
            93..=97 => "warn",
            _ => "error",
        }
    }

    fn json_http(&mut self, target: Option<(Family, Position)>) -> Option<(usize, usize)> {
        self.s("\"request_id\":\"");
        self.uuid();
        self.s("\",\"msg\":\"request completed\",\"http\":{\"method\":\"");
        let r = match target {
            Some((f, Position::Query)) => {
                self.s("GET\",\"path\":\"");
                Some(self.query_plant(f, false))
            }
            _ => {
                self.pick_s(METHODS);
                self.s("\",\"path\":\"");
                self.noise_uri();
                None
            }
        };
        self.s("\",\"status\":");
        self.status_bytes_json();
        self.s(",\"latency_ms\":");
        let l = self.rng.range(200, 1_500_000);
        self.milli(l);
        self.s(",\"remote_ip\":\"");
        self.ip();
        self.s("\",\"user_agent\":\"");
        self.pick_s(USER_AGENTS);
        self.s("\",\"referer\":\"");
        self.referer();
        self.s("\"}");
        if self.rng.one_in(2) {
            self.s(",\"user_id\":");
            self.rnum(1, 9_999_999);
        }
        r
    }

    fn status_bytes_json(&mut self) {
        let status = *self.rng.pick(STATUSES);
        self.num(status);
        self.s(",\"bytes_out\":");
        self.rnum(0, 250_000);
    }

    fn json_headers(&mut self, target: Option<(Family, Position)>) -> Option<(usize, usize)> {
        self.s("\"msg\":\"inbound request headers\",\"headers\":{\"host\":\"");
        self.pick_s(SITES);
        self.s("\",\"user-agent\":\"");
        self.pick_s(USER_AGENTS);
        self.s("\",\"accept\":\"application/json\",\"x-request-id\":\"");
        self.uuid();
        self.s("\",\"traceparent\":\"");
        self.traceparent();
        self.s("\",\"x-amzn-trace-id\":\"");
        self.amzn_trace();
        self.s("\",\"x-forwarded-for\":\"");
        self.ip();
        self.s("\"");
        let r = match target {
            Some((f, Position::AuthHeader)) => {
                self.s(",\"authorization\":\"");
                let (r, _) = self.auth_value(f);
                self.s("\"");
                Some(r)
            }
            _ => {
                if self.rng.one_in(4) {
                    self.s(",\"authorization\":\"");
                    self.pick_s(AUTH_PLACEHOLDERS);
                    self.s("\"");
                }
                None
            }
        };
        self.s("}");
        r
    }

    fn json_config(&mut self, f: Family) -> (usize, usize) {
        if f == Family::PemPrivateKey {
            if self.rng.one_in(2) {
                self.s("\"msg\":\"loaded service account\",\"credentials\":{\"type\":\"service_account\",\"project_id\":\"nwr-prod-");
                self.rnum(100_000, 999_999);
                self.s("\",\"private_key_id\":\"");
                self.hex(40);
                self.s("\",\"private_key\":\"");
                let r = self.put_token(f);
                self.s("\\n\",\"client_email\":\"");
                self.s(self.service);
                self.s("@nwr-prod.iam.gserviceaccount.com\"}");
                return r;
            }
            self.s("\"msg\":\"tls material reloaded\",\"cert_serial\":\"");
            self.hex(32);
            self.s("\",\"key_pem\":\"");
            let r = self.put_token(f);
            self.s("\\n\"");
            return r;
        }
        self.s("\"msg\":\"loaded configuration\",\"config\":{\"region\":\"");
        self.pick_s(&["us-east-1", "eu-west-1", "eu-central-1"]);
        self.s("\",\"");
        let name = self.json_field_name(f);
        self.s(name);
        self.s("\":\"");
        let r = self.value_plant(f);
        self.s("\",\"timeout_ms\":");
        self.rnum(1, 30);
        self.s("000,\"retries\":");
        self.rnum(0, 5);
        self.s("}");
        r
    }

    fn json_curl(&mut self, f: Family) -> (usize, usize) {
        self.s("\"msg\":\"");
        self.pick_s(&[
            "replaying failed request",
            "upstream call failed, reproduce with",
            "debug: equivalent curl",
        ]);
        self.s("\",\"attempt\":");
        self.rnum(1, 5);
        self.s(",\"cmd\":\"");
        let r = self.curl_plant(f);
        self.s("\"");
        r
    }

    fn json_env(&mut self, f: Family) -> (usize, usize) {
        self.s("\"msg\":\"process environment\",\"env\":{\"HOSTNAME\":\"");
        self.pod();
        self.s("\",\"NODE_ENV\":\"production\",\"");
        let name = self.env_name(f);
        self.s(name);
        self.s("\":\"");
        let r = self.env_value(f, name);
        self.s("\",\"LANG\":\"C.UTF-8\",\"TZ\":\"UTC\"}");
        r
    }

    fn json_planted(&mut self, f: Family, p: Position) -> (usize, usize) {
        match p {
            Position::Query => self.json_http(Some((f, p))).expect("planted"),
            Position::AuthHeader => self.json_headers(Some((f, p))).expect("planted"),
            Position::JsonField => self.json_config(f),
            Position::Curl => self.json_curl(f),
            Position::Env => self.json_env(f),
            Position::UrlUserinfo => unreachable!("not used in JSON logs"),
        }
    }

    fn json_app(&mut self, target: Option<(Family, Position)>) -> Option<(usize, usize)> {
        if let Some((f, p)) = target {
            self.json_head("debug");
            let r = self.json_planted(f, p);
            self.b(b'}');
            return Some(r);
        }
        let level = self.random_level();
        self.json_head(level);
        match self.rng.below(100) {
            0..=54 => {
                self.json_http(None);
            }
            55..=62 => {
                self.json_headers(None);
            }
            63..=70 => {
                self.s("\"msg\":\"cache ");
                self.pick_s(&["miss", "hit", "stale"]);
                self.s("\",\"cache_key\":\"");
                self.cache_key();
                self.s("\",\"ttl_s\":");
                self.rnum(30, 3600);
                self.s(",\"etag\":\"");
                self.etag();
                self.s("\"");
            }
            71..=76 => self.s3_event(),
            77..=82 => {
                self.s("\"msg\":\"query\",\"db\":\"orders\",\"duration_ms\":");
                let d = self.rng.range(100, 250_000);
                self.milli(d);
                self.s(",\"rows\":");
                self.rnum(0, 500);
                self.s(",\"query_hash\":\"");
                self.hex(16);
                self.s("\",\"statement\":\"SELECT id, status, total_cents FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT $2\"");
            }
            83..=87 => {
                self.s("\"msg\":\"upstream timeout\",\"error\":\"context deadline exceeded\",\"upstream\":\"http://inventory.inventory.svc.cluster.local:8080/v1/stock?sku=SKU-");
                self.rnum(10_000, 99_999);
                self.s("&warehouse=");
                self.pick_s(&["ams1", "fra2", "iad3"]);
                self.s("\",\"attempt\":");
                self.rnum(1, 4);
            }
            88..=91 => self.deploy_event(),
            92..=94 => self.placeholder_event(),
            95..=96 => self.payload_event(),
            97 => {
                self.s("\"msg\":\"panic recovered\",\"error\":\"runtime error: index out of range [3] with length 3\",\"stack\":\"goroutine 1822 [running]:\\nmain.(*Handler).ServeHTTP(0xc000");
                self.hex(6);
                self.s(")\\n\\t/app/internal/http/handler.go:");
                self.rnum(40, 400);
                self.s(" +0x");
                self.hex(3);
                self.s("\\nnet/http.serverHandler.ServeHTTP()\\n\\t/usr/local/go/src/net/http/server.go:3137 +0x8e\"");
            }
            98 => self.cert_event(),
            _ => {
                self.s("\"msg\":\"oauth token response\",\"token_type\":\"Bearer\",\"expires_in\":3600,\"scope\":\"orders:read\",\"access_token\":\"");
                self.pick_s(&["REDACTED", "***", "[filtered]", "<TOKEN>"]);
                self.s("\"");
            }
        }
        self.b(b'}');
        None
    }

    fn s3_event(&mut self) {
        self.s("\"msg\":\"uploaded object\",\"s3\":{\"bucket\":\"");
        self.pick_s(BUCKETS);
        self.s("\",\"key\":\"uploads/");
        self.rnum(2022, 2024);
        self.b(b'/');
        self.uuid();
        self.s(".jpg\",\"size\":");
        self.rnum(1000, 9_000_000);
        self.s(",\"etag\":\"");
        self.etag();
        self.s("\",\"version_id\":\"");
        self.noise_from(&BASE62[..], 32);
        self.s("\",\"x-amz-request-id\":\"");
        self.hex_from(HEX_UP, 16);
        self.s("\",\"x-amz-id-2\":\"");
        self.noise_b64(57, false, true);
        self.s("\"}");
    }

    fn deploy_event(&mut self) {
        self.s("\"msg\":\"");
        self.pick_s(&["rollout observed", "config reloaded", "job finished"]);
        self.s("\",\"job_id\":\"");
        self.uuid();
        self.s("\",\"image\":\"registry.internal.corp/");
        self.s(self.service);
        self.s("@sha256:");
        self.hex(64);
        self.s("\",\"commit\":\"");
        self.hex(40);
        self.s("\",\"config_md5\":\"");
        self.hex(32);
        self.s("\"");
    }

    fn placeholder_event(&mut self) {
        self.s("\"msg\":\"");
        self.pick_s(&[
            "config value looks like a placeholder",
            "using default settings",
            "template rendered",
        ]);
        self.s("\",");
        self.pick_s(JSON_PLACEHOLDERS);
        if self.rng.one_in(2) {
            self.b(b',');
            self.pick_s(JSON_PLACEHOLDERS);
        }
    }

    fn payload_event(&mut self) {
        self.s("\"msg\":\"webhook received\",\"event_id\":\"evt_");
        self.noise_from(&BASE62[..], 24);
        self.s("\",\"payload\":\"");
        if self.rng.one_in(3) {
            let json = format!(
                "{{\"order_id\":{},\"status\":\"shipped\",\"carrier\":\"ups\",\"items\":{}}}",
                self.rng.range(10_000_000, 99_999_999),
                self.rng.range(1, 9)
            );
            b64_encode_into(&mut self.buf, json.as_bytes(), false, true);
        } else {
            let n = self.rng.range(24, 360) as usize;
            self.noise_b64(n, false, true);
        }
        self.s("\",\"sha256\":\"");
        self.hex(64);
        self.s("\"");
    }

    fn cert_event(&mut self) {
        let public_key = self.rng.one_in(2);
        let (label, prefix, total): (&str, &[u8], usize) = if public_key {
            (
                "PUBLIC KEY",
                &[
                    0x30, 0x82, 0x01, 0x22, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                    0x0d, 0x01, 0x01, 0x01, 0x05, 0x00, 0x03, 0x82, 0x01, 0x0f, 0x00, 0x30, 0x82,
                    0x01, 0x0a, 0x02, 0x82, 0x01, 0x01, 0x00,
                ],
                0x126,
            )
        } else {
            (
                "CERTIFICATE",
                &[
                    0x30, 0x82, 0x03, 0x0a, 0x30, 0x82, 0x01, 0xf2, 0xa0, 0x03, 0x02, 0x01, 0x02,
                    0x02, 0x14,
                ],
                0x30e,
            )
        };
        self.s("\"msg\":\"peer certificate\",\"fingerprint_sha256\":\"");
        self.hex(64);
        self.s("\",\"pem\":\"-----BEGIN ");
        self.s(label);
        self.s("-----");
        loop {
            let mut der = prefix.to_vec();
            let start = der.len();
            der.resize(total, 0);
            self.rng.fill(&mut der[start..]);
            let body = b64(&der, false, true);
            if has_credential_anchor(body.as_bytes()) {
                continue;
            }
            for chunk in body.as_bytes().chunks(64) {
                self.s("\\n");
                self.buf.extend_from_slice(chunk);
            }
            break;
        }
        self.s("\\n-----END ");
        self.s(label);
        self.s("-----\\n\"");
    }

    fn json_worker(&mut self, target: Option<(Family, Position)>) -> Option<(usize, usize)> {
        if let Some((f, p)) = target {
            self.json_head("debug");
            let r = self.json_planted(f, p);
            self.b(b'}');
            return Some(r);
        }
        let level = self.random_level();
        self.json_head(level);
        match self.rng.below(100) {
            0..=34 => {
                self.s("\"msg\":\"payment event processed\",\"event\":\"");
                self.pick_s(&[
                    "charge.succeeded",
                    "payment_intent.created",
                    "invoice.paid",
                    "charge.refunded",
                ]);
                self.s("\",\"event_id\":\"evt_");
                self.noise_from(&BASE62[..], 24);
                self.s("\",\"charge\":\"ch_");
                self.noise_from(&BASE62[..], 24);
                self.s("\",\"customer\":\"cus_");
                self.noise_from(&BASE62[..], 14);
                self.s("\",\"payment_intent\":\"pi_");
                self.noise_from(&BASE62[..], 24);
                self.s("\",\"amount\":");
                self.rnum(100, 500_000);
                self.s(",\"currency\":\"");
                self.pick_s(&["usd", "eur", "gbp"]);
                self.s("\",\"idempotency_key\":\"");
                self.uuid();
                self.s("\"");
            }
            35..=54 => self.payload_event(),
            55..=69 => {
                self.s("\"msg\":\"consumed message\",\"topic\":\"");
                self.pick_s(&["payments.v1", "orders.v1", "refunds.v1"]);
                self.s("\",\"partition\":");
                self.rnum(0, 11);
                self.s(",\"offset\":");
                self.rnum(1_000_000, 90_000_000);
                self.s(",\"key\":\"");
                self.uuid();
                self.s("\",\"headers\":{\"traceparent\":\"");
                self.traceparent();
                self.s("\",\"message-id\":\"");
                self.ulid();
                self.s("\"}");
            }
            70..=77 => {
                self.s("\"msg\":\"cache ");
                self.pick_s(&["miss", "hit"]);
                self.s("\",\"cache_key\":\"");
                self.cache_key();
                self.s("\"");
            }
            78..=84 => self.s3_event(),
            85..=89 => self.deploy_event(),
            90..=94 => self.placeholder_event(),
            95..=96 => {
                self.json_headers(None);
            }
            97 => self.cert_event(),
            _ => {
                self.s("\"msg\":\"retry scheduled\",\"task\":\"reconcile_payouts\",\"task_id\":\"");
                self.uuid();
                self.s("\",\"countdown_s\":");
                self.rnum(1, 600);
                self.s(",\"reason\":\"HTTP 503 from upstream\"");
            }
        }
        self.b(b'}');
        None
    }

    fn py_head(&mut self, level: &str, logger: &str) {
        let t = self.tm();
        push_u64(&mut self.buf, t.year);
        self.b(b'-');
        push_padded(&mut self.buf, t.month, 2);
        self.b(b'-');
        push_padded(&mut self.buf, t.day, 2);
        self.b(b' ');
        push_hms(&mut self.buf, &t);
        self.b(b',');
        push_padded(&mut self.buf, t.ms, 3);
        self.b(b' ');
        self.s(level);
        self.s(" [");
        self.s(logger);
        self.s("] ");
    }

    fn text_app(&mut self, target: Option<(Family, Position)>) -> Option<(usize, usize)> {
        if let Some((f, p)) = target {
            let r = match p {
                Position::Env => {
                    self.py_head("DEBUG", "bootstrap");
                    self.s("env ");
                    let name = self.env_name(f);
                    self.s(name);
                    self.b(b'=');
                    self.env_value(f, name)
                }
                Position::Curl => {
                    self.py_head("INFO", "scheduler.hooks");
                    self.s("running post-job hook: ");
                    self.curl_plant(f)
                }
                Position::Query => {
                    self.py_head("INFO", "scheduler.http");
                    self.s("HTTP GET ");
                    let r = self.query_plant(f, true);
                    self.s(" -> 200 (");
                    self.rnum(5, 900);
                    self.s(" ms)");
                    r
                }
                Position::UrlUserinfo => {
                    self.py_head("INFO", "scheduler.sync");
                    match f {
                        Family::GithubClassic => self.s("git clone --depth 1 --branch main "),
                        Family::GitlabPat => self.s("git fetch "),
                        _ => self.s("connecting to "),
                    }
                    let r = self.userinfo_plant(f, ANY_SCHEMES);
                    match f {
                        Family::GithubClassic => {}
                        Family::GitlabPat => self.s(" main"),
                        _ => self.s(" (timeout=10s)"),
                    }
                    r
                }
                _ => unreachable!("not used in text logs"),
            };
            return Some(r);
        }
        match self.rng.below(100) {
            0..=29 => {
                self.py_head("INFO", "scheduler.jobs");
                self.s("job ");
                self.pick_s(&[
                    "sync_inventory",
                    "export_orders",
                    "rebuild_search_index",
                    "send_digest",
                    "reconcile_payouts",
                ]);
                if self.rng.one_in(2) {
                    self.s(" started run_id=");
                    self.uuid();
                } else {
                    self.s(" finished in ");
                    let d = self.rng.range(10, 900_000);
                    self.milli(d);
                    self.s("s status=ok rows=");
                    self.rnum(0, 2_000_000);
                    self.s(" checksum=sha256:");
                    self.hex(64);
                }
            }
            30..=54 => {
                self.py_head("INFO", "scheduler.http");
                self.s("HTTP ");
                self.pick_s(&["GET", "GET", "POST"]);
                self.s(" https://");
                self.pick_s(SITES);
                self.noise_uri();
                self.s(" -> ");
                let st = *self.rng.pick(STATUSES);
                self.num(st);
                self.s(" (");
                self.rnum(3, 2000);
                self.s(" ms) request_id=");
                self.uuid();
            }
            55..=66 => {
                self.py_head("INFO", "scheduler.storage");
                self.s("uploaded s3://");
                self.pick_s(BUCKETS);
                self.s("/exports/");
                self.rnum(2022, 2024);
                self.b(b'/');
                self.hex(12);
                self.s(".csv.gz etag=");
                self.hex(32);
                self.s(" size=");
                self.rnum(1000, 90_000_000);
                self.s(" x-amz-request-id=");
                self.hex_from(HEX_UP, 16);
            }
            67..=76 => {
                self.py_head("DEBUG", "scheduler.cache");
                self.s("cache ");
                self.pick_s(&["hit", "miss", "set"]);
                self.s(" key=");
                self.cache_key();
            }
            77..=84 => {
                self.py_head("DEBUG", "bootstrap");
                self.s("env ");
                self.pick_s(ENV_NOISE);
            }
            85..=89 => {
                self.py_head("WARNING", "scheduler.jobs");
                self.s("retrying in ");
                self.rnum(1, 60);
                self.s("s (attempt ");
                self.rnum(1, 5);
                self.s("/5): upstream returned 503, trace=");
                self.traceparent();
            }
            90..=93 => {
                self.py_head("INFO", "scheduler.config");
                self.s("rendering template with ");
                self.pick_s(QUERY_PLACEHOLDERS);
                self.s(" and password={{ secret }}");
            }
            94..=96 => {
                self.py_head("INFO", "scheduler.k8s");
                self.s("pod ");
                self.pod();
                self.s(" phase=Running node=ip-10-42-");
                self.rnum(0, 255);
                self.b(b'-');
                self.rnum(0, 255);
                self.s(".eu-west-1.compute.internal uid=");
                self.uuid();
            }
            _ => {
                self.py_head("ERROR", "scheduler.jobs");
                self.s("job export_orders failed: psycopg2.OperationalError: could not connect to server: Connection refused (host=db.internal.corp port=5432 user=svc_orders password=***)");
            }
        }
        None
    }

    fn squid(&mut self, target: Option<(Family, Position)>) -> Option<(usize, usize)> {
        let secs = self.now_ms / 1000;
        self.num(secs);
        self.b(b'.');
        push_padded(&mut self.buf, self.now_ms % 1000, 3);
        let elapsed = self.rng.range(0, 60_000);
        let w = 6usize.saturating_sub(elapsed.to_string().len());
        for _ in 0..=w {
            self.b(b' ');
        }
        self.num(elapsed);
        self.b(b' ');
        self.ip();
        self.b(b' ');
        let r = match target {
            Some((f, p)) => {
                self.s("TCP_MISS/200 ");
                self.rnum(200, 90_000);
                self.s(" GET ");
                let r = match (p, f) {
                    (Position::UrlUserinfo, Family::UrlPassword) if self.rng.one_in(2) => {
                        self.s("ftp://");
                        self.pick_s(DB_USERS);
                        self.b(b':');
                        let r = self.put_token(Family::UrlPassword);
                        self.s("@ftp.internal.corp/exports/");
                        self.hex(12);
                        self.s(".csv.gz");
                        r
                    }
                    (Position::UrlUserinfo, _) => {
                        let r = self.userinfo_plant(f, HTTP_SCHEMES);
                        if f != Family::UrlPassword {
                            self.s("/info/refs?service=git-upload-pack");
                        }
                        r
                    }
                    _ => self.query_plant(f, true),
                };
                self.s(" - HIER_DIRECT/");
                self.ip();
                self.s(" application/json");
                Some(r)
            }
            None => {
                if self.rng.one_in(5) {
                    self.s("TCP_TUNNEL/200 ");
                    self.rnum(300, 9_000_000);
                    self.s(" CONNECT ");
                    self.pick_s(PROXY_HOSTS);
                    self.s(":443 - HIER_DIRECT/");
                    self.ip();
                    self.s(" -");
                } else {
                    self.pick_s(&[
                        "TCP_MISS/200",
                        "TCP_MISS/200",
                        "TCP_HIT/200",
                        "TCP_REFRESH_MODIFIED/200",
                        "TCP_MEM_HIT/200",
                        "TCP_MISS/304",
                        "TCP_MISS/404",
                        "TCP_DENIED/403",
                    ]);
                    self.b(b' ');
                    self.rnum(200, 5_000_000);
                    self.b(b' ');
                    self.pick_s(&["GET", "GET", "GET", "POST", "HEAD"]);
                    self.s(" https://");
                    let host = *self.rng.pick(PROXY_HOSTS);
                    self.s(host);
                    match host {
                        "deb.debian.org" | "security.debian.org" => {
                            self.s("/debian/pool/main/o/openssl/libssl3_3.0.");
                            self.rnum(9, 13);
                            self.s("-1~deb12u");
                            self.rnum(1, 4);
                            self.s("_amd64.deb");
                        }
                        "files.pythonhosted.org" => {
                            self.s("/packages/");
                            self.hex(2);
                            self.b(b'/');
                            self.hex(2);
                            self.b(b'/');
                            self.hex(60);
                            self.s("/requests-2.31.0-py3-none-any.whl");
                        }
                        "registry.npmjs.org" => {
                            self.s("/");
                            self.pick_s(&[
                                "react",
                                "lodash",
                                "express",
                                "typescript",
                                "@babel/core",
                            ]);
                            self.s("/-/package-");
                            self.rnum(1, 9);
                            self.b(b'.');
                            self.rnum(0, 30);
                            self.s(".0.tgz");
                        }
                        "s3.amazonaws.com" => {
                            self.b(b'/');
                            self.pick_s(BUCKETS);
                            self.s("/artifacts/");
                            self.hex(40);
                            self.s(".tar.zst");
                        }
                        _ => self.noise_uri(),
                    }
                    self.s(" ");
                    if self.rng.one_in(10) {
                        self.pick_s(&["jdoe", "build-agent", "svc_ci"]);
                    } else {
                        self.b(b'-');
                    }
                    self.s(" HIER_DIRECT/");
                    self.ip();
                    self.b(b' ');
                    self.pick_s(&[
                        "text/html",
                        "application/json",
                        "application/octet-stream",
                        "image/jpeg",
                        "text/css",
                        "application/javascript",
                    ]);
                }
                None
            }
        };
        r
    }

    fn haproxy(&mut self, target: Option<(Family, Position)>) -> Option<(usize, usize)> {
        let t = self.tm();
        self.s(MONTHS[t.month as usize - 1]);
        self.b(b' ');
        if t.day < 10 {
            self.b(b' ');
        }
        self.num(t.day);
        self.b(b' ');
        push_hms(&mut self.buf, &t);
        self.s(" lb-0");
        self.rnum(1, 3);
        self.s(" haproxy[");
        self.rnum(1000, 40_000);
        self.s("]: ");
        self.ip();
        self.b(b':');
        self.rnum(1024, 65_535);
        self.s(" [");
        push_clf(&mut self.buf, &t);
        self.b(b'.');
        push_padded(&mut self.buf, t.ms, 3);
        self.s("] https-in~ ");
        self.pick_s(&["be_api/api-0", "be_web/web-0", "be_static/static-0"]);
        self.rnum(1, 8);
        let tr = self.rng.range(0, 20);
        let tw = 0;
        let tc = self.rng.range(0, 3);
        let trr = self.rng.range(1, 900);
        self.b(b' ');
        for (i, v) in [tr, tw, tc, trr, tr + tw + tc + trr].iter().enumerate() {
            if i > 0 {
                self.b(b'/');
            }
            self.num(*v);
        }
        self.b(b' ');
        self.status_bytes();
        self.s(" - - ---- ");
        self.rnum(100, 900);
        self.b(b'/');
        self.rnum(90, 800);
        self.b(b'/');
        self.rnum(1, 60);
        self.b(b'/');
        self.rnum(1, 20);
        self.s("/0 0/0 {");
        self.pick_s(SITES);
        self.b(b'|');
        let ua = *self.rng.pick(USER_AGENTS);
        self.s(&ua[..ua.len().min(64)]);
        self.b(b'|');
        let mut r = None;
        match target {
            Some((f, Position::AuthHeader)) => r = Some(self.auth_value(f).0),
            _ => {
                if self.rng.one_in(25) {
                    self.pick_s(AUTH_PLACEHOLDERS);
                }
            }
        }
        self.b(b'|');
        self.amzn_trace();
        self.s("} \"");
        match target {
            Some((f, Position::Query)) => {
                self.s("GET ");
                r = Some(self.query_plant(f, false));
                self.s(" HTTP/1.1");
            }
            _ => {
                self.pick_s(METHODS);
                self.b(b' ');
                self.noise_uri();
                self.s(" HTTP/1.1");
            }
        }
        self.b(b'"');
        r
    }
}
