//! Compressed and archived inputs: gzip, zstd, bzip2 and xz streams (each
//! possibly of several members or frames), tar and zip archives, nested in
//! each other. Formats are recognised by content, never by name; a finding
//! in an archive member names the member (`outer!inner` when nested), and
//! its line, column, offset and fingerprint are those the same bytes give
//! uncompressed. Damaged inputs report what comes before the damage, one
//! error line naming the input (and member), and exit 2.
//!
//! Every fixture is built here, with the same crates the product decodes
//! with, at their fastest levels.

use std::collections::BTreeMap;
use std::io::{Cursor, Write};

use crate::big;
use crate::families::SEED;
use crate::tokens::{self, ISSUED};
use crate::util::{clean_lines, Env, Finding, Layout, Located, Rng, Run};

// ---------------------------------------------------------------------------
// Encoders

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 1).expect("zstd")
}

fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    e.write_all(data).expect("bzip2");
    e.finish().expect("bzip2")
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
    e.write_all(data).expect("xz");
    e.finish().expect("xz")
}

/// A compressor.
type Encode = fn(&[u8]) -> Vec<u8>;

/// `data` cut at `at` and each part compressed on its own, concatenated:
/// two gzip members, zstd frames, bzip2 or xz streams.
fn split(encode: Encode, data: &[u8], at: usize) -> Vec<u8> {
    let mut out = encode(&data[..at]);
    out.extend(encode(&data[at..]));
    out
}

#[derive(Clone, Copy)]
enum TarFormat {
    /// POSIX ustar (`ustar\0` magic).
    Ustar,
    /// GNU (`ustar  ` magic).
    Gnu,
}

/// A tar of regular files.
fn tar_as(format: TarFormat, members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut h = match format {
            TarFormat::Ustar => tar::Header::new_ustar(),
            TarFormat::Gnu => tar::Header::new_gnu(),
        };
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(ISSUED);
        b.append_data(&mut h, name, *data).expect("tar member");
    }
    b.into_inner().expect("tar")
}

pub fn tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    tar_as(TarFormat::Ustar, members)
}

/// Where each member's 512-byte header starts in a [`tar`] of short names.
fn tar_header_offsets(members: &[(&str, &[u8])]) -> Vec<usize> {
    let mut at = 0;
    members
        .iter()
        .map(|(_, data)| {
            let here = at;
            at += 512 + data.len().div_ceil(512) * 512;
            here
        })
        .collect()
}

/// A zip of files, deflated (or stored, for data compressed already).
fn zip_with(members: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut opts = zip::write::SimpleFileOptions::default().compression_method(method);
    if method == zip::CompressionMethod::Deflated {
        opts = opts.compression_level(Some(1));
    }
    for (name, data) in members {
        w.start_file(*name, opts).expect("zip member");
        w.write_all(data).expect("zip data");
    }
    w.finish().expect("zip").into_inner()
}

fn zip(members: &[(&str, &[u8])]) -> Vec<u8> {
    zip_with(members, zip::CompressionMethod::Deflated)
}

/// A zip written to a stream that cannot seek, as `zip -` or Java's
/// `ZipOutputStream` write it: sizes and CRC follow each member's data
/// (data descriptors) instead of being in its local header.
fn zip_streamed(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new_stream(Vec::new());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    for (name, data) in members {
        w.start_file(*name, opts).expect("zip member");
        w.write_all(data).expect("zip data");
    }
    w.finish().expect("zip").into_inner()
}

/// Where a zip's central directory starts (read from its end record).
fn zip_directory_offset(z: &[u8]) -> usize {
    let eocd = z.len() - 22;
    assert_eq!(
        &z[eocd..eocd + 4],
        b"PK\x05\x06",
        "fixture bug: zip comment"
    );
    u32::from_le_bytes(z[eocd + 16..eocd + 20].try_into().unwrap()) as usize
}

// ---------------------------------------------------------------------------
// Logs and findings

/// A small log holding one secret, and the finding it must give.
struct Log {
    bytes: Vec<u8>,
    want: Located,
}

/// `before` clean lines, the line of `family`, then `after` clean lines.
fn log_with(family: &str, before: usize, after: usize) -> Log {
    let case = tokens::family(SEED, family);
    let mut lay = Layout::new();
    lay.push(clean_lines(0, before));
    let at = lay.push_secret(&case.text, &case.secret);
    lay.push(clean_lines(before, after));
    Log {
        bytes: lay.bytes,
        want: Located::at(case.rule, &at, &case.secret),
    }
}

/// A log of about `size` bytes of varied clean lines (so that it does not
/// compress to nothing) with `family`'s secret on line 4 and, when given,
/// `late`'s secret at the end. Returns the log and the early finding (and
/// the late one).
fn long_log(size: usize, family: &str, late: Option<&str>) -> (Vec<u8>, Located, Option<Located>) {
    let mut rng = Rng::new(size as u64);
    let mut lay = Layout::new();
    lay.push(clean_lines(0, 3));
    let case = tokens::family(SEED, family);
    let at = lay.push_secret(&case.text, &case.secret);
    let early = Located::at(case.rule, &at, &case.secret);
    while lay.bytes.len() < size {
        let n = rng.below(90_000);
        let ms = rng.below(900);
        let host = rng.below(250);
        lay.push(format!(
            "2024-05-01T12:{:02}:{:02}Z INFO worker-{host}: processed batch {n} in {ms} ms from 198.51.100.{host}\n",
            rng.below(60),
            rng.below(60)
        ));
    }
    let late = late.map(|family| {
        let case = tokens::family(SEED, family);
        let at = lay.push_secret(&case.text, &case.secret);
        Located::at(case.rule, &at, &case.secret)
    });
    (lay.bytes, early, late)
}

/// A finding reduced to its input, member and location.
type Seen = (String, Option<String>, Located);

fn seen(run: &Run) -> Vec<Seen> {
    run.findings()
        .into_iter()
        .map(|f| {
            let l = f.located();
            (f.path, f.member, l)
        })
        .collect()
}

fn at(path: &str, member: Option<&str>, want: &[Located]) -> Vec<Seen> {
    want.iter()
        .map(|l| (path.to_string(), member.map(str::to_string), l.clone()))
        .collect()
}

/// What a user reads of a finding besides where it is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Shown {
    offset: Option<u64>,
    kind: String,
    confidence: String,
    secret: String,
    context: String,
}

impl Shown {
    fn of(f: &Finding) -> Shown {
        Shown {
            offset: f.offset,
            kind: f.kind.clone(),
            confidence: f.confidence.clone(),
            secret: f.secret.clone(),
            context: f.context.clone(),
        }
    }
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// stderr's lines (the run is `--quiet`: errors only, no summary).
fn stderr_lines(run: &Run) -> Vec<&str> {
    run.stderr.lines().collect()
}

/// Exactly one stderr line is about `name`, it is an error line for it and
/// holds every one of `parts`.
#[track_caller]
fn expect_one_error(run: &Run, name: &str, parts: &[&str]) {
    let prefix = format!("leaksweep: {name}: ");
    let lines: Vec<&str> = stderr_lines(run)
        .into_iter()
        .filter(|l| l.starts_with(&prefix))
        .collect();
    run.check_eq(lines.len(), 1, format!("stderr lines about {name}"));
    run.check(
        parts.iter().all(|p| lines[0].contains(p)),
        format!("the error line about {name} holds all of {parts:?}"),
    );
}

/// A clean text input with one secret, scanned along with the bad ones.
const GOOD: &str = "good.log";

fn write_good(env: &Env) -> Vec<Seen> {
    let log = log_with("stripe_secret_key", 2, 2);
    env.write(GOOD, &log.bytes);
    at(GOOD, None, &[log.want])
}

fn jsonl<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["scan", "--format", "jsonl"];
    args.extend_from_slice(extra);
    args
}

// ---------------------------------------------------------------------------
// 1. One expectation through every path

#[test]
fn big_log_gives_the_same_findings_through_every_format_and_archive() {
    let big = big::build();
    let bytes = &big.bytes[..];
    // Split points inside secrets: the GitHub token straddling 8 MiB and
    // the Slack token straddling the third chunk mark.
    let inside = |rule_family: &str, by: u64| -> usize {
        let rule = tokens::family(SEED, rule_family).rule;
        let l = big
            .want
            .iter()
            .find(|l| l.rule == rule)
            .expect("the big log holds the rule");
        (l.offset.unwrap() + by) as usize
    };
    let gz = gzip(bytes);
    let small = log_with("aws_access_key_id", 4, 3);
    let nested_tgz = gzip(&tar(&[("c/big.log.gz", &gz)]));

    let env = Env::new();
    env.write("big.log", bytes);
    env.write("big.log.gz", &gz);
    env.write(
        "multi.log.gz",
        split(gzip, bytes, inside("github_pat_classic", 17)),
    );
    env.write(
        "big.log.zst",
        split(zstd, bytes, inside("slack_bot_token", 11)),
    );
    env.write("big.log.bz2", bzip2(bytes));
    env.write("big.log.xz", xz(bytes));
    env.write("big.tar", tar(&[("logs/big.log", bytes)]));
    env.write(
        "big.tar.gz",
        gzip(&tar(&[
            ("logs/big.log.gz", &gz),
            ("logs/small.log", &small.bytes),
        ])),
    );
    env.write("big.zip", zip(&[("big.log", bytes)]));
    env.write(
        "nested.zip",
        zip_with(
            &[("a/b.tar.gz", &nested_tgz)],
            zip::CompressionMethod::Stored,
        ),
    );

    let mut want = Vec::new();
    for path in [
        "big.log",
        "big.log.gz",
        "multi.log.gz",
        "big.log.zst",
        "big.log.bz2",
        "big.log.xz",
    ] {
        want.extend(at(path, None, &big.want));
    }
    want.extend(at("big.tar", Some("logs/big.log"), &big.want));
    want.extend(at("big.tar.gz", Some("logs/big.log.gz"), &big.want));
    want.extend(at("big.tar.gz", Some("logs/small.log"), &[small.want]));
    want.extend(at("big.zip", Some("big.log"), &big.want));
    want.extend(at("nested.zip", Some("a/b.tar.gz!c/big.log.gz"), &big.want));

    let run = env.run(&jsonl(&[
        "--quiet",
        "big.log",
        "big.log.gz",
        "multi.log.gz",
        "big.log.zst",
        "big.log.bz2",
        "big.log.xz",
        "big.tar",
        "big.tar.gz",
        "big.zip",
        "nested.zip",
    ]));
    run.check_same(&seen(&run), &want, "findings per input and member");
    run.check_eq(stderr_lines(&run), vec![], "stderr");
    run.expect_code(1);
    // What a user reads of each finding is the same however the bytes
    // were packed, the masked secret and its context included.
    let mut shown: BTreeMap<(String, Option<String>), Vec<Shown>> = BTreeMap::new();
    for f in run.findings() {
        shown
            .entry((f.path.clone(), f.member.clone()))
            .or_default()
            .push(Shown::of(&f));
    }
    let plain = shown
        .get(&("big.log".to_string(), None))
        .cloned()
        .map(sorted)
        .unwrap_or_default();
    for (origin, got) in shown {
        if origin.1.as_deref() == Some("logs/small.log") {
            continue;
        }
        run.check_eq(
            sorted(got),
            plain.clone(),
            format!("{origin:?}: kind, confidence, secret and context as in big.log"),
        );
    }

    // The gzip bytes on stdin.
    let run = env.run_stdin(&jsonl(&["--quiet", "-"]), &gz);
    run.check_same(&seen(&run), &at("-", None, &big.want), "findings on stdin");
    run.check_eq(stderr_lines(&run), vec![], "stderr");
    run.expect_code(1);
}

#[test]
fn every_stream_format_decodes_all_its_members_frames_and_streams() {
    // A small log cut inside its secret and each part compressed on its
    // own: the secret is only whole if every part is decoded and joined.
    let log = log_with("github_pat_classic", 5, 5);
    let cut = (log.want.offset.unwrap() + 9) as usize;
    let env = Env::new();
    let forms: [(&str, Encode); 4] = [
        ("two.log.gz", gzip),
        ("two.log.zst", zstd),
        ("two.log.bz2", bzip2),
        ("two.log.xz", xz),
    ];
    let mut want = Vec::new();
    for (name, encode) in forms {
        env.write(name, split(encode, &log.bytes, cut));
        want.extend(at(name, None, std::slice::from_ref(&log.want)));
    }
    let names: Vec<&str> = forms.iter().map(|(n, _)| *n).collect();
    let mut args = jsonl(&["--quiet"]);
    args.extend(names);
    let run = env.run(&args);
    run.check_same(&seen(&run), &want, "findings");
    run.check_eq(stderr_lines(&run), vec![], "stderr");
    run.expect_code(1);
}

#[test]
fn compressed_and_archived_stdin_is_decoded() {
    let log = log_with("slack_bot_token", 3, 3);
    let want = std::slice::from_ref(&log.want);
    let env = Env::new();
    let cases: Vec<(&str, Vec<u8>, Option<&str>)> = vec![
        ("zstd", zstd(&log.bytes), None),
        ("gzip", gzip(&log.bytes), None),
        (
            "tar",
            tar(&[("var/log/app.log", &log.bytes)]),
            Some("var/log/app.log"),
        ),
        (
            "tar.zst",
            zstd(&tar(&[("var/log/app.log", &log.bytes)])),
            Some("var/log/app.log"),
        ),
        ("zip", zip(&[("app.log", &log.bytes)]), Some("app.log")),
    ];
    for (what, input, member) in cases {
        let run = env.run_stdin(&jsonl(&["--quiet", "-"]), &input);
        run.check_same(
            &seen(&run),
            &at("-", member, want),
            format!("{what} on stdin"),
        );
        run.check_eq(stderr_lines(&run), vec![], "stderr");
        run.expect_code(1);
    }
}

// ---------------------------------------------------------------------------
// 2. Detection by content

#[test]
fn formats_are_detected_by_content_not_by_name() {
    let env = Env::new();
    let mut want = Vec::new();
    let mut paths = Vec::new();
    let mut add = |path: &'static str, bytes: Vec<u8>, member: Option<&str>, l: &Log| {
        env.write(path, bytes);
        want.extend(at(path, member, std::slice::from_ref(&l.want)));
        paths.push(path);
    };
    let log = log_with("github_pat_classic", 7, 2);
    let b = &log.bytes;
    // Compressed and archived data under the names of text files (and of
    // other formats).
    add("gzip.log", gzip(b), None, &log);
    add("zstd.txt", zstd(b), None, &log);
    add("bzip2.csv", bzip2(b), None, &log);
    add("xz.json", xz(b), None, &log);
    add("zstd.gz", zstd(b), None, &log);
    add("ustar.gz", tar(&[("app.log", b)]), Some("app.log"), &log);
    add(
        "gnutar.log",
        tar_as(TarFormat::Gnu, &[("srv/app.log", b)]),
        Some("srv/app.log"),
        &log,
    );
    add("zip.tar", zip(&[("x/app.log", b)]), Some("x/app.log"), &log);
    add("gzip.zip", gzip(b), None, &log);
    // Text under the names of compressed and archive formats, some even
    // starting with the first bytes of a magic number.
    add("text.gz", b.clone(), None, &log);
    add("text.zip", b.clone(), None, &log);
    add("text.tar", b.clone(), None, &log);
    let mut bz_text = Layout::new();
    bz_text.push("BZh9 is how this log starts, not a bzip2 stream\n");
    bz_text.push(clean_lines(0, 2));
    let case = tokens::family(SEED, "aws_access_key_id");
    let placed = bz_text.push_secret(&case.text, &case.secret);
    let bz_log = Log {
        bytes: bz_text.bytes,
        want: Located::at(case.rule, &placed, &case.secret),
    };
    add("text.bz2", bz_log.bytes.clone(), None, &bz_log);
    let mut pk_text = Layout::new();
    pk_text.push("PK-4711 shipped\n");
    let case = tokens::family(SEED, "slack_bot_token");
    let placed = pk_text.push_secret(&case.text, &case.secret);
    let pk_log = Log {
        bytes: pk_text.bytes,
        want: Located::at(case.rule, &placed, &case.secret),
    };
    add("text.tar.gz", pk_log.bytes.clone(), None, &pk_log);

    let mut args = jsonl(&["--quiet"]);
    args.extend(paths);
    let run = env.run(&args);
    run.check_same(&seen(&run), &want, "findings per input and member");
    run.check_eq(stderr_lines(&run), vec![], "stderr");
    run.expect_code(1);
}

// ---------------------------------------------------------------------------
// 3. Nesting names and the depth limit

#[test]
fn nested_members_are_named_outer_to_inner() {
    let a = log_with("github_pat_classic", 3, 1);
    let b = log_with("aws_access_key_id", 1, 3);
    let c = log_with("slack_bot_token", 2, 2);
    let env = Env::new();
    // zip → tar.gz (2 layers) → .gz member: 4 layers, the default maximum.
    let tgz = gzip(&tar(&[("c/d.log.gz", &gzip(&a.bytes))]));
    env.write("logs.zip", zip(&[("a/b.tar.gz", &tgz)]));
    // tar → zip → tar → text, and a plain member next to the nested ones.
    let inner_zip = zip(&[("y/z.tar", &tar(&[("logs/app.log", &b.bytes)]))]);
    env.write(
        "bundle.tar",
        tar(&[("x/inner.zip", &inner_zip), ("var/log/a.log", &c.bytes)]),
    );
    let run = env.run(&jsonl(&["--quiet", "logs.zip", "bundle.tar"]));
    let mut want = at("logs.zip", Some("a/b.tar.gz!c/d.log.gz"), &[a.want]);
    want.extend(at(
        "bundle.tar",
        Some("x/inner.zip!y/z.tar!logs/app.log"),
        &[b.want],
    ));
    want.extend(at("bundle.tar", Some("var/log/a.log"), &[c.want]));
    run.check_same(&seen(&run), &want, "findings with their members");
    run.check_eq(stderr_lines(&run), vec![], "stderr");
    run.expect_code(1);
}

#[test]
fn layers_beyond_max_depth_are_an_error_naming_the_member() {
    let deep = log_with("github_pat_classic", 3, 1);
    let next = log_with("aws_access_key_id", 1, 3);
    let env = Env::new();
    // zip → gzip → tar → gzip → gzip → text: 5 layers.
    let tgz = gzip(&tar(&[
        ("c/d.log.gz", &gzip(&gzip(&deep.bytes))),
        ("c/e.log", &next.bytes),
    ]));
    env.write("deep.zip", zip(&[("a/b.tar.gz", &tgz)]));
    let want_next = at(
        "deep.zip",
        Some("a/b.tar.gz!c/e.log"),
        std::slice::from_ref(&next.want),
    );

    // Default --max-depth 4: the fifth layer is not decoded; the member
    // after it still is.
    let run = env.run(&jsonl(&["--quiet", "deep.zip"]));
    run.check_same(&seen(&run), &want_next, "findings at the default depth");
    expect_one_error(&run, "deep.zip!a/b.tar.gz!c/d.log.gz", &["--max-depth"]);
    run.check_eq(stderr_lines(&run).len(), 1, "stderr lines");
    run.expect_code(2);

    // Raised to 5, everything is scanned.
    let run = env.run(&jsonl(&["--quiet", "--max-depth", "5", "deep.zip"]));
    let mut want = at("deep.zip", Some("a/b.tar.gz!c/d.log.gz"), &[deep.want]);
    want.extend(want_next);
    run.check_same(&seen(&run), &want, "findings at --max-depth 5");
    run.check_eq(stderr_lines(&run), vec![], "stderr");
    run.expect_code(1);
}

#[test]
fn max_depth_one_decodes_a_single_layer_only() {
    let log = log_with("github_pat_classic", 3, 1);
    let env = Env::new();
    env.write("one.log.gz", gzip(&log.bytes));
    env.write("two.tar.gz", gzip(&tar(&[("app.log", &log.bytes)])));
    let good = write_good(&env);
    let run = env.run(&jsonl(&[
        "--quiet",
        "--max-depth",
        "1",
        "one.log.gz",
        "two.tar.gz",
        GOOD,
    ]));
    let mut want = at("one.log.gz", None, std::slice::from_ref(&log.want));
    want.extend(good);
    run.check_same(&seen(&run), &want, "findings");
    expect_one_error(&run, "two.tar.gz", &["tar", "--max-depth 1"]);
    run.check_eq(stderr_lines(&run).len(), 1, "stderr lines");
    run.expect_code(2);
}

#[test]
fn max_depth_zero_decodes_nothing() {
    // "Each compression or archive layer counts one": at --max-depth 0 even
    // one layer is too deep (whether refused per input or as a usage error).
    let log = log_with("github_pat_classic", 3, 1);
    let env = Env::new();
    env.write("one.log.gz", gzip(&log.bytes));
    env.write("one.zip", zip(&[("app.log", &log.bytes)]));
    let run = env.run(&jsonl(&[
        "--quiet",
        "--max-depth",
        "0",
        "one.log.gz",
        "one.zip",
    ]));
    run.check_eq(seen(&run), vec![], "findings");
    run.expect_stderr_line(&["--max-depth"]);
    run.expect_code(2);
}

// ---------------------------------------------------------------------------
// 4. Damaged inputs

/// A 1.5 MB log with a secret near its start and one at its end,
/// compressed by `encode`, then damaged by `damage`: the early secret is
/// reported, the input named in one error line holding `format`, the other
/// input scanned, exit 2.
fn check_damaged_stream(name: &str, format: &str, encode: Encode, damage: fn(Vec<u8>) -> Vec<u8>) {
    let (bytes, early, late) = long_log(1_500_000, "github_pat_classic", Some("slack_bot_token"));
    let late = late.expect("a late secret");
    let data = damage(encode(&bytes));
    let env = Env::new();
    env.write(name, &data);
    let good = write_good(&env);
    let run = env.run(&jsonl(&["--quiet", name, GOOD]));
    let got = seen(&run);
    let mut want = at(name, None, std::slice::from_ref(&early));
    want.extend(good);
    // The late secret lies beyond the damage; whether a decoder that does
    // not notice corruption at once yields it is not specified.
    let got: Vec<Seen> = got.into_iter().filter(|s| s.2 != late).collect();
    run.check_same(&got, &want, format!("{name}: findings before the damage"));
    expect_one_error(
        &run,
        name,
        &[format, "corrupt or truncated after", "decoded bytes"],
    );
    run.check_eq(stderr_lines(&run).len(), 1, "stderr lines");
    run.expect_code(2);
}

fn cut_in_half(mut data: Vec<u8>) -> Vec<u8> {
    data.truncate(data.len() / 2);
    data
}

/// Overwrites 64 bytes in the middle with garbage.
fn scribble_in_middle(mut data: Vec<u8>) -> Vec<u8> {
    let mid = data.len() / 2;
    for (i, b) in data[mid..mid + 64].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(73) ^ 0xa5;
    }
    data
}

#[test]
fn truncated_gzip_reports_what_precedes_the_cut() {
    check_damaged_stream("cut.log.gz", "gzip", gzip, cut_in_half);
}

#[test]
fn truncated_zstd_reports_what_precedes_the_cut() {
    check_damaged_stream("cut.log.zst", "zstd", zstd, cut_in_half);
}

#[test]
fn truncated_bzip2_reports_what_precedes_the_cut() {
    check_damaged_stream("cut.log.bz2", "bzip2", bzip2, cut_in_half);
}

#[test]
fn truncated_xz_reports_what_precedes_the_cut() {
    check_damaged_stream("cut.log.xz", "xz", xz, cut_in_half);
}

#[test]
fn corrupt_gzip_reports_what_precedes_the_damage() {
    check_damaged_stream("bad.log.gz", "gzip", gzip, scribble_in_middle);
}

#[test]
fn corrupt_zstd_reports_what_precedes_the_damage() {
    check_damaged_stream("bad.log.zst", "zstd", zstd, scribble_in_middle);
}

#[test]
fn corrupt_bzip2_reports_what_precedes_the_damage() {
    check_damaged_stream("bad.log.bz2", "bzip2", bzip2, scribble_in_middle);
}

#[test]
fn corrupt_xz_reports_what_precedes_the_damage() {
    check_damaged_stream("bad.log.xz", "xz", xz, scribble_in_middle);
}

#[test]
fn corrupt_gzip_member_of_a_sound_archive_ends_only_that_member() {
    let a = log_with("aws_access_key_id", 2, 2);
    let (b, b_early, _) = long_log(600_000, "github_pat_classic", Some("slack_bot_token"));
    let c = log_with("google_api_key", 3, 1);
    let mut b_gz = gzip(&b);
    b_gz.truncate(b_gz.len() / 2);
    let members: [(&str, &[u8]); 3] = [
        ("a.log", &a.bytes),
        ("logs/b.log.gz", &b_gz),
        ("c.log", &c.bytes),
    ];
    let env = Env::new();
    env.write("t.tar", tar(&members));
    env.write("t.zip", zip(&members));
    let good = write_good(&env);
    let run = env.run(&jsonl(&["--quiet", "t.tar", "t.zip", GOOD]));
    let mut want = good;
    for path in ["t.tar", "t.zip"] {
        want.extend(at(path, Some("a.log"), std::slice::from_ref(&a.want)));
        want.extend(at(
            path,
            Some("logs/b.log.gz"),
            std::slice::from_ref(&b_early),
        ));
        want.extend(at(path, Some("c.log"), std::slice::from_ref(&c.want)));
        expect_one_error(
            &run,
            &format!("{path}!logs/b.log.gz"),
            &["gzip", "corrupt or truncated"],
        );
    }
    run.check_same(&seen(&run), &want, "findings");
    run.check_eq(stderr_lines(&run).len(), 2, "stderr lines");
    run.expect_code(2);
}

#[test]
fn tar_with_a_bad_header_reports_the_members_before_it() {
    let a = log_with("aws_access_key_id", 2, 2);
    let b = log_with("github_pat_classic", 3, 1);
    let c = log_with("slack_bot_token", 1, 1);
    let members: [(&str, &[u8]); 3] = [
        ("a.log", &a.bytes),
        ("b.log", &b.bytes),
        ("c.log", &c.bytes),
    ];
    let mut t = tar(&members);
    // Change the third header's name without fixing its checksum.
    let third = tar_header_offsets(&members)[2];
    assert_eq!(&t[third..third + 5], b"c.log", "fixture bug: tar layout");
    t[third] = b'X';
    let env = Env::new();
    env.write("bad.tar", &t);
    let good = write_good(&env);
    let run = env.run(&jsonl(&["--quiet", "bad.tar", GOOD]));
    let mut want = good;
    want.extend(at("bad.tar", Some("a.log"), &[a.want]));
    want.extend(at("bad.tar", Some("b.log"), &[b.want]));
    run.check_same(&seen(&run), &want, "findings");
    expect_one_error(&run, "bad.tar", &["tar: "]);
    run.check_eq(stderr_lines(&run).len(), 1, "stderr lines");
    run.expect_code(2);
}

#[test]
fn tar_cut_inside_a_member_reports_what_precedes_the_cut() {
    let a = log_with("aws_access_key_id", 2, 2);
    let (b, b_early, _) = long_log(300_000, "github_pat_classic", Some("slack_bot_token"));
    let members: [(&str, &[u8]); 2] = [("a.log", &a.bytes), ("logs/b.log", &b)];
    let t = tar(&members);
    let second = tar_header_offsets(&members)[1];
    let env = Env::new();
    env.write("cut.tar", &t[..second + 512 + 150_000]);
    // The same cut under a sound gzip layer.
    env.write("cut.tar.gz", gzip(&t[..second + 512 + 150_000]));
    // Cut inside the second member's header.
    env.write("header-cut.tar", &t[..second + 100]);
    let good = write_good(&env);
    let run = env.run(&jsonl(&[
        "--quiet",
        "cut.tar",
        "cut.tar.gz",
        "header-cut.tar",
        GOOD,
    ]));
    let mut want = good;
    for path in ["cut.tar", "cut.tar.gz", "header-cut.tar"] {
        want.extend(at(path, Some("a.log"), std::slice::from_ref(&a.want)));
    }
    expect_one_error(&run, "header-cut.tar", &["tar"]);
    for path in ["cut.tar", "cut.tar.gz"] {
        want.extend(at(path, Some("logs/b.log"), std::slice::from_ref(&b_early)));
        // The error names the member the archive ends in.
        expect_one_error(
            &run,
            &format!("{path}!logs/b.log"),
            &["tar", "ends inside a member"],
        );
    }
    run.check_same(&seen(&run), &want, "findings");
    run.check_eq(stderr_lines(&run).len(), 3, "stderr lines");
    run.expect_code(2);
}

#[test]
fn tar_long_names_are_read_and_an_oversized_header_ends_the_archive() {
    let a = log_with("aws_access_key_id", 2, 2);
    let b = log_with("github_pat_classic", 3, 1);
    let c = log_with("slack_bot_token", 1, 1);
    // A 300-byte path: the GNU builder writes it as a long-name entry.
    let long = format!("logs/{}/b.log", "d".repeat(290));
    let sound = tar_as(TarFormat::Gnu, &[("a.log", &a.bytes), (&long, &b.bytes)]);
    // A long-name entry of 5 MiB, which no real path needs, before c.log.
    let mut hostile = tar_as(TarFormat::Gnu, &[("a.log", &a.bytes)]);
    hostile.truncate(hostile.len() - 1024); // the end-of-archive blocks
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::GNULongName);
    h.set_size(5 << 20);
    h.set_path("././@LongLink").expect("path");
    h.set_cksum();
    hostile.extend_from_slice(h.as_bytes());
    hostile.resize(hostile.len() + (5 << 20), b'n');
    hostile.extend(tar_as(TarFormat::Gnu, &[("c.log", &c.bytes)]));

    // Zero blocks are no headers: a tar padded with 6 MiB of them is sound.
    let mut padded = tar(&[("a.log", &a.bytes)]);
    padded.resize(padded.len() + (6 << 20), 0);
    let env = Env::new();
    env.write("sound.tar", &sound);
    env.write("hostile.tar", &hostile);
    env.write("padded.tar", &padded);
    let good = write_good(&env);
    let run = env.run(&jsonl(&[
        "--quiet",
        "sound.tar",
        "hostile.tar",
        "padded.tar",
        GOOD,
    ]));
    let mut want = good;
    want.extend(at(
        "padded.tar",
        Some("a.log"),
        std::slice::from_ref(&a.want),
    ));
    want.extend(at(
        "sound.tar",
        Some("a.log"),
        std::slice::from_ref(&a.want),
    ));
    want.extend(at("sound.tar", Some(&long), &[b.want]));
    want.extend(at("hostile.tar", Some("a.log"), &[a.want]));
    run.check_same(&seen(&run), &want, "findings");
    expect_one_error(&run, "hostile.tar", &["tar", "headers", "more than 4 MiB"]);
    run.check_eq(stderr_lines(&run).len(), 1, "stderr lines");
    run.expect_code(2);
}

/// Two members with a secret each, and the findings they must give in
/// `path`.
fn two_member_zip(path: &str) -> (Vec<u8>, Vec<Seen>) {
    let a = log_with("aws_access_key_id", 2, 2);
    let b = log_with("github_pat_classic", 3, 1);
    let z = zip(&[("logs/a.log", &a.bytes), ("logs/b.log", &b.bytes)]);
    let mut want = at(path, Some("logs/a.log"), &[a.want]);
    want.extend(at(path, Some("logs/b.log"), &[b.want]));
    (z, want)
}

#[test]
fn zip_without_a_sound_central_directory_is_read_from_local_headers() {
    let env = Env::new();
    let mut want = write_good(&env);
    // A copy cut off before its central directory.
    let (z, w) = two_member_zip("cut.zip");
    env.write("cut.zip", &z[..zip_directory_offset(&z)]);
    want.extend(w);
    // The directory's first record damaged.
    let (mut z, w) = two_member_zip("scribbled.zip");
    let dir = zip_directory_offset(&z);
    z[dir..dir + 4].copy_from_slice(b"XXXX");
    env.write("scribbled.zip", &z);
    want.extend(w);
    let run = env.run(&jsonl(&["--quiet", "cut.zip", "scribbled.zip", GOOD]));
    run.check_same(&seen(&run), &want, "findings");
    expect_one_error(&run, "cut.zip", &["zip", "central directory"]);
    run.expect_stderr_line(&["leaksweep: scribbled.zip: ", "central directory"]);
    run.expect_code(2);
}

#[test]
fn zip_whose_directory_points_to_the_wrong_places_is_read_from_local_headers() {
    let env = Env::new();
    let mut want = write_good(&env);
    // Every record of the directory is intact but for the offset of its
    // member's local header, which points into the first member's data.
    let (mut z, w) = two_member_zip("offsets.zip");
    let mut rec = zip_directory_offset(&z);
    while z[rec..].starts_with(b"PK\x01\x02") {
        z[rec + 42..rec + 46].copy_from_slice(&100u32.to_le_bytes());
        let len = |at: usize| u16::from_le_bytes([z[rec + at], z[rec + at + 1]]) as usize;
        rec += 46 + len(28) + len(30) + len(32);
    }
    assert_eq!(&z[rec..rec + 4], b"PK\x05\x06", "fixture bug: zip layout");
    env.write("offsets.zip", &z);
    want.extend(w);
    let run = env.run(&jsonl(&["--quiet", "offsets.zip", GOOD]));
    run.check_same(&seen(&run), &want, "findings");
    run.expect_stderr_line(&["leaksweep: offsets.zip", "central directory"]);
    run.expect_code(2);
}

#[test]
fn zip_fallback_skips_members_read_already_by_place_not_by_name() {
    let a = log_with("aws_access_key_id", 2, 2);
    let b = log_with("github_pat_classic", 3, 1);
    let c = log_with("slack_bot_token", 1, 1);
    let mut z = zip(&[
        ("logs/a.log", &a.bytes),
        ("logs/c.log", &c.bytes),
        ("logs/b.log", &b.bytes),
    ]);
    // The second member takes the first one's name (a zip may hold a name
    // twice; the directory then leads to the later one only), and the
    // third member's directory record points into the first's data. So
    // the directory leads to the second member, then fails; the first and
    // third are read by their local headers alone.
    let mut renamed = 0;
    for i in 0..z.len() - 10 {
        if &z[i..i + 10] == b"logs/c.log" {
            z[i..i + 10].copy_from_slice(b"logs/a.log");
            renamed += 1;
        }
    }
    assert_eq!(renamed, 2, "fixture bug: zip names");
    let mut rec = zip_directory_offset(&z);
    for _ in 0..2 {
        let len = |at: usize| u16::from_le_bytes([z[rec + at], z[rec + at + 1]]) as usize;
        rec += 46 + len(28) + len(30) + len(32);
    }
    assert_eq!(&z[rec..rec + 4], b"PK\x01\x02", "fixture bug: zip layout");
    z[rec + 42..rec + 46].copy_from_slice(&100u32.to_le_bytes());
    let env = Env::new();
    env.write("twice.zip", &z);
    let run = env.run(&jsonl(&["--quiet", "twice.zip"]));
    let mut want = at("twice.zip", Some("logs/a.log"), &[a.want, c.want]);
    want.extend(at("twice.zip", Some("logs/b.log"), &[b.want]));
    run.check_same(&seen(&run), &want, "findings");
    expect_one_error(&run, "twice.zip", &["zip", "central directory"]);
    run.expect_code(2);
}

#[test]
fn streamed_zip_cut_before_its_central_directory_is_read_from_local_headers() {
    let a = log_with("aws_access_key_id", 2, 2);
    let b = log_with("github_pat_classic", 3, 1);
    let z = zip_streamed(&[("logs/a.log", &a.bytes), ("logs/b.log", &b.bytes)]);
    let env = Env::new();
    let mut want = write_good(&env);
    for path in ["whole.zip", "cut.zip"] {
        want.extend(at(path, Some("logs/a.log"), std::slice::from_ref(&a.want)));
        want.extend(at(path, Some("logs/b.log"), std::slice::from_ref(&b.want)));
    }
    env.write("whole.zip", &z);
    env.write("cut.zip", &z[..zip_directory_offset(&z)]);
    let run = env.run(&jsonl(&["--quiet", "whole.zip", "cut.zip", GOOD]));
    run.check_same(&seen(&run), &want, "findings");
    run.expect_stderr_line(&["leaksweep: cut.zip: ", "central directory"]);
    run.check(
        !run.stderr.contains("whole.zip"),
        "no error about the whole zip",
    );
    run.expect_code(2);
}

// ---------------------------------------------------------------------------
// 5. The decompression-bomb guard

#[test]
fn max_decoded_stops_an_input_after_its_findings_so_far() {
    let (bytes, early, late) = long_log(4_000_000, "github_pat_classic", Some("slack_bot_token"));
    assert!(early.offset.unwrap() < 100_000);
    assert!(late.expect("a late secret").offset.unwrap() > 3_000_000);
    let small = log_with("aws_access_key_id", 3, 3);
    let env = Env::new();
    env.write("bomb.log.gz", gzip(&bytes));
    // Another input under the limit is scanned whole: the limit is per input.
    env.write("small.log.gz", gzip(&small.bytes));
    let run = env.run(&jsonl(&[
        "--quiet",
        "--max-decoded",
        "1M",
        "bomb.log.gz",
        "small.log.gz",
    ]));
    let mut want = at("bomb.log.gz", None, &[early]);
    want.extend(at("small.log.gz", None, &[small.want]));
    run.check_same(&seen(&run), &want, "findings");
    expect_one_error(&run, "bomb.log.gz", &["--max-decoded"]);
    run.check_eq(stderr_lines(&run).len(), 1, "stderr lines");
    run.expect_code(2);
}

#[test]
fn a_bomb_stops_at_the_ratio_limit_after_its_findings_so_far() {
    // 4 GiB of one repeated log line in a few hundred KB: a frame of
    // 64 MiB repeated, after a first frame holding a secret.
    let first = log_with("aws_access_key_id", 2, 2);
    let line = b"10.0.0.1 - - [01/May/2024:10:00:00 +0000] \"GET / HTTP/1.1\" 200 512\n";
    let filler: Vec<u8> = line.iter().copied().cycle().take(64 << 20).collect();
    let frame = zstd(&filler);
    let mut bomb = zstd(&first.bytes);
    for _ in 0..64 {
        bomb.extend_from_slice(&frame);
    }
    assert!(
        bomb.len() < 4 << 20,
        "fixture bug: bomb of {} bytes",
        bomb.len()
    );
    let env = Env::new();
    env.write("bomb.log.zst", &bomb);
    let good = write_good(&env);
    let run = env.run(&jsonl(&["--quiet", "bomb.log.zst", GOOD]));
    let mut want = good;
    want.extend(at("bomb.log.zst", None, &[first.want]));
    run.check_same(&seen(&run), &want, "findings");
    expect_one_error(&run, "bomb.log.zst", &["--max-ratio", "decompression bomb"]);
    run.check_eq(stderr_lines(&run).len(), 1, "stderr lines");
    run.expect_code(2);
}

#[test]
fn max_decoded_in_a_compressed_tar_is_reported_in_order() {
    // The decoder runs ahead of the scanner: the limit trips there first,
    // and must still be reported, after the findings before it.
    let (big, early, late) = long_log(4_000_000, "github_pat_classic", Some("slack_bot_token"));
    let first = log_with("aws_access_key_id", 2, 2);
    let env = Env::new();
    env.write(
        "lim.tar.gz",
        gzip(&tar(&[("a.log", &first.bytes), ("b.log", &big)])),
    );
    let run = env.run(&jsonl(&["--quiet", "--max-decoded", "1M", "lim.tar.gz"]));
    let mut want = at("lim.tar.gz", Some("a.log"), &[first.want]);
    want.extend(at("lim.tar.gz", Some("b.log"), &[early]));
    run.check_same(&seen(&run), &want, "findings");
    run.check(late.is_some(), "a late secret past the limit");
    expect_one_error(&run, "lim.tar.gz!b.log", &["--max-decoded"]);
    run.expect_code(2);
}

#[test]
fn concatenated_tars_are_read_whole_and_a_cut_trailer_is_reported() {
    let a = log_with("aws_access_key_id", 2, 2);
    let b = log_with("github_pat_classic", 3, 1);
    let ta = tar(&[("a.log", &a.bytes)]);
    let tb = tar(&[("b.log", &b.bytes)]);
    let env = Env::new();
    // `cat a.tar b.tar`, and `cat a.tar.gz b.tar.gz`: as `tar -i` reads them.
    env.write("cat.tar", [ta.clone(), tb.clone()].concat());
    env.write("cat.tar.gz", [gzip(&ta), gzip(&tb)].concat());
    // A tar.gz whose gzip trailer (CRC and length) is cut off: the tar
    // inside is whole, the damage is after its end marker.
    let mut cut = gzip(&ta);
    cut.truncate(cut.len() - 8);
    env.write("cut-trailer.tar.gz", cut);
    let run = env.run(&jsonl(&[
        "--quiet",
        "cat.tar",
        "cat.tar.gz",
        "cut-trailer.tar.gz",
    ]));
    let mut want = Vec::new();
    for path in ["cat.tar", "cat.tar.gz"] {
        want.extend(at(path, Some("a.log"), std::slice::from_ref(&a.want)));
        want.extend(at(path, Some("b.log"), std::slice::from_ref(&b.want)));
    }
    want.extend(at("cut-trailer.tar.gz", Some("a.log"), &[a.want]));
    run.check_same(&seen(&run), &want, "findings");
    expect_one_error(&run, "cut-trailer.tar.gz", &["gzip"]);
    run.check_eq(stderr_lines(&run).len(), 1, "stderr lines");
    run.expect_code(2);
}

#[test]
fn a_bad_tar_header_field_is_not_quoted_in_the_error() {
    let a = log_with("aws_access_key_id", 2, 2);
    let secret = tokens::family(SEED, "stripe_secret_key").secret;
    let mut t = tar(&[("a.log", &a.bytes), ("b.log", b"x\n")]);
    let second = tar_header_offsets(&[("a.log", &a.bytes), ("b.log", b"x\n")])[1];
    // The size field (124..136) of the second header holds a secret and a
    // terminal escape instead of octal digits.
    let field = format!("{}\x1b[31m", &secret[..6]);
    t[second + 124..second + 124 + field.len()].copy_from_slice(field.as_bytes());
    // With a valid checksum, so the field itself is what the reader trips on.
    let header = &mut t[second..second + 512];
    header[148..156].fill(b' ');
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let env = Env::new();
    env.write("bad.tar", t);
    let run = env.run(&jsonl(&["--quiet", "bad.tar"]));
    run.check_same(
        &seen(&run),
        &at("bad.tar", Some("a.log"), &[a.want]),
        "findings",
    );
    expect_one_error(&run, "bad.tar", &["tar: "]);
    run.check(
        !run.stderr.contains(&secret[..6]),
        "the header field is not quoted",
    );
    run.check(!run.stderr.contains('\x1b'), "no raw escape reaches stderr");
    run.expect_code(2);
}

// ---------------------------------------------------------------------------
// 6. Binary members

#[test]
fn binary_member_is_skipped_with_a_note_and_the_rest_scanned() {
    let a = log_with("aws_access_key_id", 2, 2);
    let c = log_with("github_pat_classic", 3, 1);
    // An executable that happens to hold a secret: not scanned.
    let mut bin = b"\x7fELF\x02\x01\x01\x00\x00\x00".to_vec();
    bin.extend_from_slice(tokens::family(SEED, "slack_bot_token").text.as_bytes());
    let env = Env::new();
    env.write(
        "t.tar",
        tar(&[("a.log", &a.bytes), ("bin/tool", &bin), ("c.log", &c.bytes)]),
    );
    let run = env.run(&jsonl(&["t.tar"]));
    let mut want = at("t.tar", Some("a.log"), &[a.want]);
    want.extend(at("t.tar", Some("c.log"), &[c.want]));
    run.check_same(&seen(&run), &want, "findings");
    run.expect_stderr_line(&["leaksweep: t.tar!bin/tool: ", "skipped", "binary"]);
    run.expect_code(1);

    // With nothing else to report, the skip leaves the exit status 0.
    env.write(
        "clean.tar",
        tar(&[
            ("bin/tool", &bin),
            ("ok.log", clean_lines(0, 20).as_bytes()),
        ]),
    );
    let run = env.run(&jsonl(&["clean.tar"]));
    run.check_eq(run.stdout(), String::new(), "stdout");
    run.expect_stderr_line(&["leaksweep: clean.tar!bin/tool: ", "skipped", "binary"]);
    run.expect_code(0);
}

/// `z` without the central directory entry of `name` (its local header
/// and data stay where they are): a member only a local-header reader sees.
fn zip_drop_directory_entry(z: &[u8], name: &str) -> Vec<u8> {
    let cd = zip_directory_offset(z);
    let eocd = z.len() - 22;
    let mut out = z[..cd].to_vec();
    let mut at = cd;
    let mut kept = 0u16;
    while at < eocd {
        let u16_at = |i: usize| u16::from_le_bytes([z[i], z[i + 1]]) as usize;
        let len = 46 + u16_at(at + 28) + u16_at(at + 30) + u16_at(at + 32);
        if &z[at + 46..at + 46 + u16_at(at + 28)] != name.as_bytes() {
            out.extend_from_slice(&z[at..at + len]);
            kept += 1;
        }
        at += len;
    }
    let size = (out.len() - cd) as u32;
    let mut end = z[eocd..].to_vec();
    end[8..10].copy_from_slice(&kept.to_le_bytes());
    end[10..12].copy_from_slice(&kept.to_le_bytes());
    end[12..16].copy_from_slice(&size.to_le_bytes());
    out.extend(end);
    out
}

/// Issue 16 item 5: a crafted zip hides content from a reader that trusts
/// its central directory: a "directory" holding data, a member the
/// directory leaves out. Both are scanned, with a note.
#[test]
fn issue_16_crafted_zip_hides_nothing() {
    let a = log_with("aws_access_key_id", 2, 2);
    let c = log_with("github_pat_classic", 3, 1);
    let env = Env::new();
    // "x.log" renamed "xlog/" in the local header and the directory.
    let mut z = zip(&[("a.log", &a.bytes), ("x.log", &c.bytes)]);
    let spots: Vec<usize> = z
        .windows(5)
        .enumerate()
        .filter(|(_, w)| w == b"x.log")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(spots.len(), 2, "fixture bug: name twice");
    for i in spots {
        z[i..i + 5].copy_from_slice(b"xlog/");
    }
    env.write("dir.zip", &z);
    let run = env.run(&jsonl(&["dir.zip"]));
    let mut want = at("dir.zip", Some("a.log"), std::slice::from_ref(&a.want));
    want.extend(at("dir.zip", Some("xlog/"), std::slice::from_ref(&c.want)));
    run.check_same(&seen(&run), &want, "findings");
    run.expect_stderr_line(&[
        "leaksweep: dir.zip!xlog/: ",
        "directory entry holding",
        "scanned",
    ]);
    run.expect_code(1);

    for method in [
        zip::CompressionMethod::Stored,
        zip::CompressionMethod::Deflated,
    ] {
        let z = zip_with(
            &[
                ("a.log", &a.bytes),
                ("hidden.log", &c.bytes),
                ("z.log", b"ok\n"),
            ],
            method,
        );
        let z = zip_drop_directory_entry(&z, "hidden.log");
        env.write("hidden.zip", &z);
        let run = env.run(&jsonl(&["hidden.zip"]));
        let mut want = at("hidden.zip", Some("a.log"), std::slice::from_ref(&a.want));
        want.extend(at(
            "hidden.zip",
            Some("hidden.log"),
            std::slice::from_ref(&c.want),
        ));
        run.check_same(&seen(&run), &want, "findings");
        run.expect_stderr_line(&[
            "leaksweep: hidden.zip: ",
            "not listed in the central directory (a hidden member)",
        ]);
        run.expect_code(1);
    }
}

/// Issue 16 item 14: a log of one line repeated, compressed at about
/// 10,900:1 (as zstd -3 does), is read to its end when it decodes to less
/// than 1 GiB: the secret after 256 MiB of repetition is found.
#[test]
fn issue_16_a_repetitive_honest_log_is_read_past_256_mib() {
    let line = b"2024-05-01T12:00:00Z INFO health check ok\n";
    let filler: Vec<u8> = line.iter().copied().cycle().take(64 << 20).collect();
    let frame = zstd(&filler);
    let mut log = Vec::new();
    for _ in 0..5 {
        log.extend_from_slice(&frame);
    }
    let late = log_with("github_pat_classic", 2, 2);
    log.extend(zstd(&late.bytes));
    let ratio = (5u64 * (64 << 20)) / log.len() as u64;
    assert!(ratio > 5000, "fixture bug: ratio {ratio}");
    let env = Env::new();
    env.write("health.log.zst", &log);
    let run = env.run(&jsonl(&["--quiet", "health.log.zst"]));
    let mut want = late.want.clone();
    want.offset = want.offset.map(|o| o + 5 * (64 << 20));
    want.line = want.line.map(|l| l + (5 * (64 << 20) / line.len()) as u64);
    run.check_same(
        &seen(&run),
        &at("health.log.zst", None, &[want]),
        "the late secret",
    );
    run.check_eq(run.stderr.clone(), String::new(), "no error");
    run.expect_code(1);
}
