//! HAR captures: recognised by content, walked field by field, each finding
//! naming its entry and field path, and placed at the raw bytes of the file
//! where the secret is written literally (null where it exists only after
//! decoding). Every fixture is written here with synthetic tokens.

use std::collections::BTreeSet;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::json;

use crate::tokens;
use crate::util::{sha256_hex, Env, Finding, Rng, Run, ALNUM, B64URL, DIGITS};

/// The secrets of the capture, one per field (two fields share one).
pub struct Secrets {
    url: String,
    bearer: String,
    api_key: String,
    look_alike: String,
    session: String,
    query_key: String,
    client_secret: String,
    param: String,
    jsession: String,
    body: String,
    redirect: String,
    ws: String,
    custom: String,
    page: String,
    refresh: String,
}

pub fn secrets() -> Secrets {
    let mut rng = Rng::new(0x4a12);
    let mut gh = || tokens::github_classic(&mut rng, "ghp");
    let (url, param, body, redirect, custom, page) = (gh(), gh(), gh(), gh(), gh(), gh());
    let mut rng = Rng::new(0x4a13);
    let mut with = |c: char, n: usize| {
        let s = rng.string(ALNUM, n);
        format!("{}{c}{}", &s[..n / 2], &s[n / 2..])
    };
    Secrets {
        url,
        // A `/` that the capture writes escaped, as `\/`.
        bearer: with('/', 40),
        api_key: Rng::new(1).string(ALNUM, 32),
        look_alike: Rng::new(2).string(ALNUM, 32),
        session: Rng::new(3).string(B64URL, 43),
        query_key: Rng::new(4).string(ALNUM, 32),
        // A `+` and a `/`, percent-encoded in the form body and the URL.
        client_secret: with('+', 30),
        param,
        jsession: Rng::new(5).string(b"0123456789ABCDEF", 32),
        body,
        redirect,
        ws: tokens::slack_bot(&mut Rng::new(6)),
        custom,
        page,
        refresh: with('/', 44),
    }
}

fn pct(s: &str) -> String {
    s.replace('+', "%2B").replace('/', "%2F")
}

pub fn capture(s: &Secrets) -> String {
    let entry0 = json!({
        "startedDateTime": "2024-05-14T09:12:44.123Z",
        "time": 31.5,
        "request": {
            "method": "POST",
            "url": format!("https://api.example.com/v1/token?access_token={}&page=2", s.url),
            "httpVersion": "HTTP/1.1",
            "headers": [
                {"name": "Authorization", "value": format!("Bearer {}", s.bearer)},
                {"name": "X-Api-Key", "value": s.api_key},
                {"name": "X-Request-Id", "value": s.look_alike},
                {"name": "ETag", "value": s.look_alike},
            ],
            "cookies": [{"name": "session", "value": s.session, "httpOnly": true}],
            "queryString": [{"name": "api_key", "value": s.query_key}],
            "postData": {
                "text": format!("grant_type=client_credentials&client_id=web&client_secret={}", pct(&s.client_secret)),
                "mimeType": "application/x-www-form-urlencoded",
                "params": [{"name": "token", "value": s.param}],
            },
            "headersSize": -1,
            "bodySize": 120,
        },
        "response": {
            "status": 200,
            "headers": [{"name": "Set-Cookie", "value": format!("JSESSIONID={}; Path=/; HttpOnly", s.jsession)}],
            "cookies": [{"name": "JSESSIONID", "value": s.jsession}],
            "content": {
                "size": 60,
                "text": STANDARD.encode(format!("{{\"access_token\":\"{}\"}}", s.body)),
                "mimeType": "application/json",
                "encoding": "base64",
            },
            "redirectURL": format!("https://app.example.com/cb?code={}", s.redirect),
        },
        "_webSocketMessages": [
            {"type": "receive", "time": 1.5, "opcode": 1, "data": "{\"hello\":1}"},
            {"type": "send", "time": 1.6, "opcode": 1, "data": format!("{{\"auth\":\"{}\"}}", s.ws)},
        ],
        "_custom": {"note": format!("debug {}", s.custom)},
    });
    let entry1 = json!({
        "startedDateTime": "2024-05-14T09:12:45.000Z",
        "request": {
            "method": "GET",
            "url": format!("https://api.example.com/feed?refresh_token={}", pct(&s.refresh)),
            "headers": [],
        },
        "response": {"status": 204, "headers": [], "content": {"size": 0, "mimeType": "text/plain"}},
    });
    let har = json!({"log": {
        "version": "1.2",
        "creator": {"name": "WebInspector", "version": "537.36"},
        "pages": [{"id": "page_1", "title": format!("https://app.example.com/?t={}", s.page)}],
        "entries": [entry0, entry1],
    }});
    let text = serde_json::to_string_pretty(&har).expect("json");
    // Some writers escape every '/'; this one does so in the bearer token.
    text.replace(&s.bearer, &s.bearer.replace('/', "\\/"))
}

/// `scan --format jsonl PATH`, secrets shown or not.
fn jsonl(env: &Env, path: &Path, show: bool) -> Run {
    let mut args = vec![
        "scan".as_ref(),
        "--format".as_ref(),
        "jsonl".as_ref(),
        path.as_os_str(),
    ];
    if show {
        args.push("--show-secrets".as_ref());
    }
    env.run(&args)
}

/// (entry, field, rule, fingerprint, literal in the file)
type Seen = (Option<u64>, String, String, String, bool);

fn want(s: &Secrets) -> Vec<Seen> {
    let e = |entry: Option<u64>, field: &str, rule: &str, secret: &str, literal: bool| {
        (
            entry,
            field.to_string(),
            rule.to_string(),
            sha256_hex(secret),
            literal,
        )
    };
    [
        e(Some(0), "request.url", "github-pat-classic", &s.url, true),
        e(
            Some(0),
            "request.headers.Authorization",
            "http-bearer-token",
            &s.bearer,
            false,
        ),
        e(
            Some(0),
            "request.headers.X-Api-Key",
            "http-api-key-header",
            &s.api_key,
            true,
        ),
        e(
            Some(0),
            "request.cookies.session",
            "session-id-cookie",
            &s.session,
            true,
        ),
        e(
            Some(0),
            "request.queryString.api_key",
            "api-key-assignment",
            &s.query_key,
            true,
        ),
        e(
            Some(0),
            "request.postData.text",
            "secret-assignment",
            &s.client_secret,
            false,
        ),
        e(
            Some(0),
            "request.postData.params.token",
            "github-pat-classic",
            &s.param,
            true,
        ),
        e(
            Some(0),
            "response.headers.Set-Cookie",
            "java-session-id",
            &s.jsession,
            true,
        ),
        e(
            Some(0),
            "response.cookies.JSESSIONID",
            "java-session-id",
            &s.jsession,
            true,
        ),
        e(
            Some(0),
            "response.content.text",
            "github-pat-classic",
            &s.body,
            false,
        ),
        e(
            Some(0),
            "response.redirectURL",
            "github-pat-classic",
            &s.redirect,
            true,
        ),
        e(
            Some(0),
            "_webSocketMessages[1].data",
            "slack-bot-token",
            &s.ws,
            true,
        ),
        e(
            Some(0),
            "_custom.note",
            "github-pat-classic",
            &s.custom,
            true,
        ),
        e(None, "pages[0].title", "github-pat-classic", &s.page, true),
        e(
            Some(1),
            "request.url",
            "token-assignment",
            &s.refresh,
            false,
        ),
    ]
    .into_iter()
    .collect()
}

fn seen(run: &Run, found: &[Finding]) -> Vec<Seen> {
    found
        .iter()
        .map(|f| {
            let har = f
                .har
                .clone()
                .unwrap_or_else(|| run.fail(format!("finding without har: {f:?}")));
            (
                har.entry,
                har.field,
                f.rule.clone(),
                f.fingerprint.clone(),
                f.offset.is_some(),
            )
        })
        .collect()
}

/// A literal finding's offset, line and column point at its secret's raw
/// bytes; a decoded one has none of the three.
fn check_places(run: &Run, bytes: &[u8], found: &[Finding]) {
    for f in found {
        match (f.offset, f.line, f.column) {
            (Some(o), Some(line), Some(col)) => {
                let o = o as usize;
                run.check_eq(
                    bytes.get(o..o + f.secret.len()),
                    Some(f.secret.as_bytes()),
                    format!("raw bytes at the offset of {:?}", f.har),
                );
                let before = &bytes[..o];
                let nl = before.iter().filter(|&&b| b == b'\n').count() as u64;
                let start = before
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                run.check_eq(
                    (line, col),
                    (nl + 1, (o - start + 1) as u64),
                    "line and column",
                );
            }
            (None, None, None) => {}
            other => run.fail(format!(
                "offset, line, column all set or all null: {other:?}"
            )),
        }
    }
}

#[test]
fn every_field_is_walked_named_and_placed() {
    let s = secrets();
    let text = capture(&s);
    let env = Env::new();
    let path = env.write("capture.har", &text);
    let run = jsonl(&env, &path, true);
    let found = run.findings();
    run.check_same(
        &seen(&run, &found),
        &want(&s),
        "entry, field, rule, fingerprint, literal",
    );
    check_places(&run, text.as_bytes(), &found);
    // The two JSESSIONID fields point at two different places.
    let places: BTreeSet<u64> = found
        .iter()
        .filter(|f| f.rule == "java-session-id")
        .filter_map(|f| f.offset)
        .collect();
    run.check_eq(places.len(), 2, "each field its own offset");
    run.expect_code(1);
}

#[test]
fn context_comes_from_the_field_name() {
    let s = secrets();
    let env = Env::new();
    let path = env.write("capture.har", capture(&s));
    let run = jsonl(&env, &path, false);
    let found = run.findings();
    let look_alike = sha256_hex(&s.look_alike);
    run.check(
        !found.iter().any(|f| f.fingerprint == look_alike),
        "an X-Request-Id or ETag of an API key's shape is no finding",
    );
    let header = found
        .iter()
        .find(|f| f.rule == "http-api-key-header")
        .unwrap_or_else(|| run.fail("no X-Api-Key finding"));
    run.check_eq(
        header.context.starts_with("X-Api-Key: "),
        true,
        "the context shows the header name",
    );
    // Same bytes as plain text, where no header names them: nothing.
    let plain = env.write("values.txt", format!("{}\n", s.api_key));
    env.run(&["scan".as_ref(), plain.as_os_str()])
        .expect_code(0);
}

#[test]
fn har_is_recognised_by_content_plain_gzip_zstd_and_stdin() {
    let s = secrets();
    let text = capture(&s);
    let env = Env::new();
    let inputs = [
        env.write("export.txt", &text),
        env.write("capture.har.gz", crate::archives::gzip(text.as_bytes())),
        env.write(
            "capture.har.zst",
            zstd::encode_all(text.as_bytes(), 1).expect("zstd"),
        ),
    ];
    for p in &inputs {
        let run = jsonl(&env, p, false);
        let found = run.findings();
        run.check_same(&seen(&run, &found), &want(&s), format!("{}", p.display()));
        run.expect_code(1);
    }
    let run = env.run_stdin(&["scan", "--format", "jsonl", "-"], text.as_bytes());
    let found = run.findings();
    run.check_same(&seen(&run, &found), &want(&s), "stdin");
}

#[test]
fn a_har_in_a_tar_names_its_member() {
    let s = secrets();
    let text = capture(&s);
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(text.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    tar.append_data(&mut h, "captures/a.har", text.as_bytes())
        .expect("tar");
    let env = Env::new();
    let path = env.write("captures.tar", tar.into_inner().expect("tar"));
    let run = jsonl(&env, &path, false);
    let found = run.findings();
    run.check_same(&seen(&run, &found), &want(&s), "in a tar");
    run.check(
        found
            .iter()
            .all(|f| f.member.as_deref() == Some("captures/a.har")),
        "member named",
    );
}

/// A capture cut off mid-write: every string read whole keeps its HAR
/// finding (the cut entry's URL too); the rest is scanned as text; one
/// error line; exit 2.
#[test]
fn a_truncated_har_is_scanned_as_text_with_an_error() {
    let s = secrets();
    let text = capture(&s);
    // Cut in entry 1, after its URL, inside a string that holds a token.
    let url_end = text.find("refresh_token=").expect("entry 1 url");
    let url_end = url_end + text[url_end..].find("\",").expect("url string end") + 2;
    let late = tokens::github_classic(&mut Rng::new(99), "ghp");
    let cut = format!("{}\n        \"comment\": \"debug {late}", &text[..url_end]);
    let env = Env::new();
    let path = env.write("cut.har", &cut);
    let run = jsonl(&env, &path, true);
    let found = run.findings();
    // (`pages` follows `entries` in this file: it was cut off.)
    let walked_want: Vec<Seen> = want(&s).into_iter().filter(|w| w.0.is_some()).collect();
    let walked: Vec<Seen> = seen(
        &run,
        &found
            .iter()
            .filter(|f| f.har.is_some())
            .cloned()
            .collect::<Vec<_>>(),
    );
    run.check_same(
        &walked,
        &walked_want,
        "strings read whole keep their fields",
    );
    let text_found: Vec<&Finding> = found.iter().filter(|f| f.har.is_none()).collect();
    run.check_eq(text_found.len(), 1, "the cut string's secret found as text");
    run.check_eq(
        text_found[0].fingerprint.clone(),
        sha256_hex(&late),
        "the token in the cut string",
    );
    check_places(&run, cut.as_bytes(), &found);
    run.expect_stderr_line(&["cut.har", "not valid JSON", "line"]);
    run.expect_code(2);
}

#[test]
fn json_that_is_not_a_har_is_text() {
    let mut rng = Rng::new(9);
    let tok = tokens::github_classic(&mut rng, "ghp");
    let env = Env::new();
    // A Docker json-file log: "log" holds a string, not an object.
    let docker = env.write(
        "container.log",
        format!("{{\"log\":\"auth {tok}\\n\",\"stream\":\"stdout\",\"time\":\"2024-05-14T09:12:44Z\"}}\n"),
    );
    // A "log" object without entries.
    let other = env.write(
        "settings.json",
        format!("{{\"log\": {{\"level\": \"debug\", \"sink\": \"{tok}\"}}}}\n"),
    );
    for p in [docker, other] {
        let run = jsonl(&env, &p, false);
        let found = run.findings();
        run.check_eq(found.len(), 1, "one finding");
        run.check(
            found[0].har.is_none() && found[0].line == Some(1),
            "plain text finding",
        );
        run.expect_code(1);
    }
}

#[test]
fn human_format_shows_the_entry_request_redacted() {
    let s = secrets();
    let env = Env::new();
    let path = env.write("capture.har", capture(&s));
    let run = env.run(&[
        "scan".as_ref(),
        "--format".as_ref(),
        "human".as_ref(),
        path.as_os_str(),
    ]);
    let out = run.stdout();
    run.check(
        out.contains("entry 0  request.headers.Authorization  (POST https://api.example.com/v1/token?access_token=ghp_"),
        format!("entry, field, method and URL shown:\n{out}"),
    );
    let all = format!("{out}{}", run.stderr);
    for secret in [
        &s.url,
        &s.bearer,
        &s.session,
        &s.jsession,
        &s.body,
        &s.ws,
        &s.client_secret,
    ] {
        run.check(
            !all.contains(secret.as_str()),
            "no raw secret in the output",
        );
    }
    run.expect_code(1);
}

/// Thousands of entries: findings keep their entry numbers across the
/// batches the scanner works in, whether one thread or two do the work.
#[test]
fn entry_numbers_hold_across_a_large_capture() {
    let mut rng = Rng::new(77);
    let mut entries = Vec::new();
    let mut want = Vec::new();
    for i in 0..3000u64 {
        let mut e = json!({
            "request": {"method": "GET", "url": format!("https://cdn.example.com/a/{}.js", rng.string(DIGITS, 6)),
                "headers": [{"name": "Accept", "value": "*/*"}, {"name": "User-Agent", "value": "Mozilla/5.0 ".repeat(40)}]},
            "response": {"status": 200, "headers": [], "content": {"size": 3, "mimeType": "text/plain", "text": "ok"}},
        });
        if i % 500 == 7 {
            let t = tokens::github_classic(&mut rng, "ghp");
            e["request"]["headers"][0]["value"] = json!(format!("token {t}"));
            want.push((
                Some(i),
                "request.headers.Accept".to_string(),
                sha256_hex(&t),
            ));
        }
        entries.push(e);
    }
    let text = serde_json::to_string(&json!({"log": {"version": "1.2", "entries": entries}}))
        .expect("json");
    let env = Env::new();
    let path = env.write("big.har", &text);
    let run = jsonl(&env, &path, false);
    let found = run.findings();
    let got: Vec<_> = found
        .iter()
        .filter_map(|f| {
            f.har
                .clone()
                .map(|h| (h.entry, h.field, f.fingerprint.clone()))
        })
        .collect();
    run.check_same(&got, &want, "entries across batches");
    // One thread walks and scans in turn instead of as a pipeline: the
    // same findings, in the same order.
    let one = env.run(&[
        "scan".as_ref(),
        "--format".as_ref(),
        "jsonl".as_ref(),
        "--threads".as_ref(),
        "1".as_ref(),
        path.as_os_str(),
    ]);
    one.check_eq(one.stdout(), run.stdout(), "--threads 1 against 2");
}

/// Under `--state`, a capture is read whole when it changed and skipped
/// while unchanged; a rewritten capture reports only its new secret.
#[test]
fn state_rescans_a_changed_capture_and_skips_an_unchanged_one() {
    let mut rng = Rng::new(31);
    let (a, b) = (
        tokens::github_classic(&mut rng, "ghp"),
        tokens::github_classic(&mut rng, "ghp"),
    );
    let har = |tokens: &[&str]| {
        let entries: Vec<_> = tokens
            .iter()
            .map(|t| json!({"request": {"method": "GET", "url": format!("https://x.example/?t={t}")}}))
            .collect();
        serde_json::to_string_pretty(&json!({"log": {"entries": entries}})).expect("json")
    };
    let env = Env::new();
    env.write("c.har", har(&[&a]));
    let cron = || crate::state::cron(&env, &["c.har"]);
    let first = cron();
    first.check_eq(first.findings().len(), 1, "first run");
    first.expect_code(1);
    let second = cron();
    second.check_eq(second.findings().len(), 0, "unchanged");
    second.expect_code(0);
    env.write("c.har", har(&[&a, &b]));
    let third = cron();
    let found = third.findings();
    third.check_eq(
        found
            .iter()
            .map(|f| f.fingerprint.clone())
            .collect::<Vec<_>>(),
        vec![sha256_hex(&b)],
        "only the new secret",
    );
    third.check_eq(
        found[0].har.as_ref().and_then(|h| h.entry),
        Some(1),
        "entry 1",
    );
}

/// Captures built to break the walker or to make it print a secret: a
/// second `entries` array cut off, a token as a header name, as the method
/// and percent-encoded in the URL, and JSON-lines records with a `log`
/// object of their own.
#[test]
fn hostile_captures_neither_crash_nor_leak() {
    let tok = tokens::github_classic(&mut Rng::new(404), "ghp");
    let env = Env::new();
    let cut = env.write(
        "cut.har",
        format!(r#"{{"log":{{"entries":[{{"request":{{"url":"https://a.example/"}},"x":"{tok}"}}],"entries":[{{"request":{{"url":"https://b.example/"}},"y":"#),
    );
    let run = jsonl(&env, &cut, false);
    run.expect_code(2);
    run.check_eq(run.findings().len(), 1, "the token, once");
    let encoded = tok.replace('_', "%5F");
    let named = env.write(
        "named.har",
        format!(r#"{{"log":{{"version":"1.2","entries":[{{"request":{{"method":"{tok}","url":"https://a.example/x?q={encoded}","headers":[{{"name":"{tok}","value":"x"}}]}}}}]}}}}"#),
    );
    for format in ["jsonl", "human", "csv", "sarif"] {
        let run = env.run(&[
            "scan".as_ref(),
            "--format".as_ref(),
            format.as_ref(),
            named.as_os_str(),
        ]);
        run.expect_code(1);
        let all = format!("{}{}", run.stdout(), run.stderr);
        run.check(
            !all.contains(&tok[4..]) && !all.contains(&encoded[4..]),
            format!("{format}: no raw or encoded secret in the output"),
        );
    }
    let ecs = env.write(
        "ecs.log",
        format!(
            "{{\"@timestamp\":\"2024-05-01T12:00:00Z\",\"log\":{{\"level\":\"info\",\"logger\":\"auth\"}},\"message\":\"token {tok}\"}}\n{{\"@timestamp\":\"2024-05-01T12:00:01Z\",\"log\":{{\"level\":\"info\"}},\"message\":\"ok\"}}\n"
        ),
    );
    let run = jsonl(&env, &ecs, false);
    run.expect_code(1);
    let found = run.findings();
    run.check(
        found.len() == 1 && found[0].har.is_none() && found[0].line == Some(1),
        "a JSON-lines log is text",
    );
}

/// Issue 16 item 3: harviewer keeps captures wrapped in a JSONP call; they
/// are walked as HARs, their findings placed in the file's bytes.
#[test]
fn issue_16_jsonp_wrapped_har_is_walked() {
    let s = secrets();
    let env = Env::new();
    for (name, wrapped) in [
        ("inline.harp", format!("onInputData({});", capture(&s))),
        (
            "spaced.harp",
            format!("\n harviewer.load (\n{}\n)\n", capture(&s)),
        ),
    ] {
        let path = env.write(name, &wrapped);
        let run = jsonl(&env, &path, true);
        let found = run.findings();
        run.check_same(&seen(&run, &found), &want(&s), name);
        check_places(&run, wrapped.as_bytes(), &found);
        run.check(!run.stderr.contains("not valid JSON"), "no error");
        run.expect_code(1);
    }
    // A JSONP call never closed is a broken HAR (cut mid-write).
    let cut = format!("onInputData({}", capture(&s));
    let path = env.write("cut.harp", &cut);
    let run = jsonl(&env, &path, false);
    run.expect_stderr_line(&["cut.harp", "not valid JSON", "JSONP"]);
    run.expect_code(2);
}

/// Issue 16 item 3: a HAR whose `log` is not an object gets the broken-HAR
/// warning and exit status 2, and its text is still scanned; a Docker JSON
/// log (whose `log` is a string) stays plain text.
#[test]
fn issue_16_har_log_that_is_not_an_object_is_a_broken_har() {
    let tok = crate::tokens::github_classic(&mut crate::util::Rng::new(166), "ghp");
    let env = Env::new();
    let cases = [
        (
            "array.har",
            format!(
                r#"{{"log": [{{"version": "1.2", "entries": [{{"request": {{"url": "https://x.example/?access_token={tok}"}}}}]}}]}}"#
            ),
        ),
        (
            "null.har",
            format!(r#"{{"log": null, "entries": [], "note": "access_token={tok}"}}"#),
        ),
    ];
    for (name, text) in &cases {
        let path = env.write(name, text);
        let run = jsonl(&env, &path, false);
        run.expect_stderr_line(&[name, "HAR is not valid JSON", "\"log\" is not an object"]);
        run.check_eq(run.findings().len(), 1, "the secret, from the text scan");
        run.expect_code(2);
    }
    let docker = format!(
        "{{\"log\":\"GET /x?access_token={tok}\\n\",\"stream\":\"stdout\",\"time\":\"2024-05-01T12:00:00Z\"}}\n"
    );
    let path = env.write("container.log", &docker);
    let run = jsonl(&env, &path, false);
    run.check_eq(run.findings().len(), 1, "docker log scanned as text");
    run.check_eq(run.stderr.contains("HAR"), false, "no HAR warning");
    run.expect_code(1);
}

/// A capture whose first entry has a large response body holding `body`'s
/// tokens among log lines (`base64`: base64-encoded), and whose second has
/// `header` in its Authorization header.
fn large_body_capture(body: &[String], header: &str, base64: bool) -> String {
    let mut text = String::new();
    for i in 0..20_000 {
        text.push_str(&format!(
            "2024-05-01T12:00:{:02}Z INFO request {i} ok\n",
            i % 60
        ));
        if i % 5_000 == 2_500 {
            let t = &body[i / 5_000 % body.len()];
            text.push_str(&format!("{{\"config\":{{\"api_token\":\"{t}\"}}}}\n"));
        }
    }
    let content = if base64 {
        json!({"mimeType": "text/plain", "encoding": "base64", "text": STANDARD.encode(&text)})
    } else {
        json!({"mimeType": "text/plain", "text": text})
    };
    let har = json!({"log": {"version": "1.2", "entries": [
        {"request": {"method": "GET", "url": "https://app.example.com/logs", "headers": []},
         "response": {"status": 200, "headers": [], "content": content}},
        {"request": {"method": "GET", "url": "https://app.example.com/me",
                     "headers": [{"name": "Authorization", "value": format!("Bearer {header}")}]},
         "response": {"status": 200, "headers": []}},
    ]}});
    serde_json::to_string(&har).expect("json")
}

/// Issue 16 item 12: a string that does not fit `--max-har-string` is
/// scanned as text where it lies in the file, with a note naming its entry
/// and field: the same findings, at the same places, as when decoded.
#[test]
fn issue_16_a_har_string_over_the_limit_is_scanned_in_place() {
    let mut rng = Rng::new(1612);
    let body: Vec<String> = (0..2)
        .map(|_| tokens::github_classic(&mut rng, "ghp"))
        .collect();
    let header = tokens::github_classic(&mut rng, "ghp");
    let env = Env::new();
    let path = env.write("big.har", large_body_capture(&body, &header, false));
    let key = |f: &Finding| {
        let har = f.har.as_ref().map(|h| (h.entry, h.field.clone()));
        (har, f.line, f.column, f.offset, f.fingerprint.clone())
    };
    let decoded = jsonl(&env, &path, false);
    decoded.check(!decoded.stderr.contains("max-har-string"), "fits 256M");
    let mut want: Vec<_> = decoded.findings().iter().map(key).collect();
    want.sort();
    decoded.check_eq(want.len(), 3, "2 in the body (each once), 1 header");
    let run = env.run(&[
        "scan".as_ref(),
        "--format".as_ref(),
        "jsonl".as_ref(),
        "--max-har-string".as_ref(),
        "100K".as_ref(),
        path.as_os_str(),
    ]);
    let mut got: Vec<_> = run.findings().iter().map(key).collect();
    got.sort();
    run.check_eq(got, want, "same findings, same places");
    run.expect_stderr_line(&[
        "big.har",
        "entry 0, response.content.text",
        "does not fit --max-har-string",
        "scanned as text",
    ]);
    run.expect_code(1);
}

/// Issue 16 item 12: a base64 body that does not fit is not decoded: an
/// error names its entry and field, the exit status says the scan is
/// incomplete, and the rest of the capture is still scanned.
#[test]
fn issue_16_a_base64_body_over_the_limit_is_an_error_and_the_rest_is_scanned() {
    let mut rng = Rng::new(1613);
    let body = vec![tokens::github_classic(&mut rng, "ghp")];
    let header = tokens::github_classic(&mut rng, "ghp");
    let env = Env::new();
    let path = env.write("b64.har", large_body_capture(&body, &header, true));
    let decoded = jsonl(&env, &path, false);
    decoded.check_eq(decoded.findings().len(), 2, "decoded within 256M");
    decoded.expect_code(1);
    let run = env.run(&[
        "scan".as_ref(),
        "--format".as_ref(),
        "jsonl".as_ref(),
        "--max-har-string".as_ref(),
        "100K".as_ref(),
        path.as_os_str(),
    ]);
    let found = run.findings();
    run.check_eq(
        found
            .iter()
            .map(|f| f.fingerprint.clone())
            .collect::<Vec<_>>(),
        vec![sha256_hex(&header)],
        "only the header's token",
    );
    run.expect_stderr_line(&[
        "b64.har",
        "entry 0, response.content.text",
        "base64 body",
        "not decoded",
    ]);
    run.expect_code(2);
}
