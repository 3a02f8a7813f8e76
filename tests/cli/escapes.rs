//! Issue 15: secrets behind escapes, encodings and line prefixes, and every
//! secret of a packed line. Each case writes a secret the way a log
//! pipeline wraps it and checks that the scan reports the whole secret,
//! decoded, with the fingerprint of its plain spelling, at the raw start
//! of what holds it; and that `redact` leaves none of it in the copy.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;

use crate::tokens;
use crate::util::{sha256_hex, Env, Rng, ALNUM, B64, B64URL};

/// One wrapped secret: the line that holds it, the secret as written
/// plainly, where its raw form starts in the line, and the rule.
struct Case {
    name: &'static str,
    line: String,
    secret: String,
    raw_start: usize,
    rule: &'static str,
}

impl Case {
    /// `line` holds `raw` (the secret as wrapped) once.
    fn new(
        name: &'static str,
        line: String,
        raw: &str,
        secret: String,
        rule: &'static str,
    ) -> Case {
        let raw_start = line
            .find(raw)
            .unwrap_or_else(|| panic!("{name}: the line holds the raw form"));
        Case {
            name,
            line,
            secret,
            raw_start,
            rule,
        }
    }
}

/// JSON string escaping, as a JSON logger writes a string value.
fn json_escape(s: &str) -> String {
    serde_json::to_string(s).expect("string")[1..]
        .trim_end_matches('"')
        .to_string()
}

fn cases() -> Vec<Case> {
    let mut rng = Rng::new(1515);
    let mut out = Vec::new();

    let gh = tokens::github_classic(&mut rng, "ghp");
    out.push(Case::new(
        "ansi colour codes around a token",
        format!("\x1b[32m2024-05-14T09:12:44Z\x1b[0m deploy: token=\x1b[33m{gh}\x1b[0m pushed\n"),
        &gh,
        gh.clone(),
        "github-pat-classic",
    ));

    let gh = tokens::github_classic(&mut rng, "ghp");
    let raw = format!("\\n{gh}");
    out.push(Case::new(
        "a JSON \\n escape right before a token (a letter before it when raw)",
        format!("{{\"ts\":\"2024-05-14T09:12:44Z\",\"msg\":\"clone failed:{raw}\"}}\n"),
        &gh,
        gh.clone(),
        "github-pat-classic",
    ));

    // An AWS secret key with '/' in it, as PHP's json_encode writes it.
    let mut key = rng.string(B64, 40).into_bytes();
    key[7] = b'/';
    key[23] = b'/';
    let key = String::from_utf8(key).expect("ascii");
    let raw = key.replace('/', "\\/");
    out.push(Case::new(
        "\\/ inside an AWS secret key (PHP)",
        format!("{{\"level\":\"debug\",\"config\":{{\"aws_secret_access_key\":\"{raw}\",\"region\":\"eu-west-1\"}}}}\n"),
        &raw,
        key,
        "aws-secret-access-key",
    ));

    // A Basic credential whose base64 holds '+', written as \u002B (.NET).
    // Base64 of ASCII has a '+' only for a '>' or '~' at the third byte of
    // a group: the user name's length moves the '~' through the three.
    let basic = (6..)
        .map(|n| {
            STANDARD.encode(format!(
                "svc-{}:{}~",
                rng.string(ALNUM, n),
                tokens::password(&mut rng)
            ))
        })
        .find(|b| b.contains('+'))
        .expect("one of three offsets puts '~' third");
    let raw = basic.replace('+', "\\u002B");
    out.push(Case::new(
        "\\u002B inside a Basic credential (.NET)",
        format!("{{\"Level\":\"Debug\",\"Headers\":{{\"Authorization\":\"Basic {raw}\"}}}}\n"),
        &raw,
        basic,
        "http-basic-auth",
    ));

    let password = tokens::password(&mut rng);
    let inner = format!("{{\"user\":\"ops\",\"password\":\"{}\"}}", password);
    let twice = json_escape(&json_escape(&inner));
    let raw = json_escape(&json_escape(&password));
    out.push(Case::new(
        "JSON inside a JSON string inside a JSON string",
        format!("{{\"msg\":\"upstream said: {twice}\"}}\n"),
        &raw,
        password,
        "password-assignment",
    ));

    let password = format!("{}<{}", rng.string(ALNUM, 8), rng.string(ALNUM, 6));
    let raw = password.replace('<', "&lt;");
    out.push(Case::new(
        "XML-escaped JSON",
        format!("<event><data>{{&quot;user&quot;:&quot;ops&quot;,&quot;password&quot;:&quot;{raw}&quot;}}</data></event>\n"),
        &raw,
        password,
        "password-assignment",
    ));

    let api = rng.string(ALNUM, 40);
    out.push(Case::new(
        "nginx \\x22 escaping",
        format!("10.0.0.7 - - [14/May/2024:09:12:44 +0000] \"POST /v1/sync HTTP/1.1\" 200 12 body={{\\x22api_key\\x22:\\x22{api}\\x22}}\n"),
        &api,
        api.clone(),
        "api-key-assignment",
    ));

    let gh = tokens::github_classic(&mut rng, "gho");
    out.push(Case::new(
        "a token in a percent-encoded query inside a query",
        format!("203.0.113.9 - - [14/May/2024:09:12:44 +0000] \"GET /login?next=%2Fapi%3Faccess_token%3D{gh}%26x%3D1 HTTP/1.1\" 302 0\n"),
        &gh,
        gh.clone(),
        "github-oauth-token",
    ));

    let secret = rng.string(ALNUM, 32);
    let raw = format!("{}%252B{}", &secret[..10], &secret[10..]);
    let plain = format!("{}+{}", &secret[..10], &secret[10..]);
    out.push(Case::new(
        "double percent-encoding inside a client secret",
        format!("203.0.113.9 - - [14/May/2024:09:12:44 +0000] \"GET /cb?state=x&client_secret={raw} HTTP/1.1\" 200 0\n"),
        &raw,
        plain,
        "oauth-client-secret",
    ));

    let jwt = tokens::jwt(&mut rng);
    out.push(Case::new(
        "authorization=Bearer%20<jwt> in a query",
        format!("203.0.113.9 - - [14/May/2024:09:12:44 +0000] \"GET /ws?authorization=Bearer%20{jwt} HTTP/1.1\" 101 0\n"),
        &jwt,
        jwt.clone(),
        "jwt",
    ));

    // A base64 blob holds no keyword of its own: its decoded text does.
    // Whatever the JSON's first key (a letter of either case, `_`, `@`),
    // its layout (spaces, pretty-printed, an array) or the alphabet.
    let shapes = [
        "{\"repo\":\"acme/api\",\"auth\":\"TOKEN\"}",
        "{\"token\":\"TOKEN\"}",
        "{\"user\":\"ci\",\"auth\":\"TOKEN\"}",
        "{\"data\":{\"auth\":\"TOKEN\"}}",
        "{\"id\":7,\"auth\":\"TOKEN\"}",
        "{\"Name\":\"deploy\",\"Auth\":\"TOKEN\"}",
        "{\"_meta\":1,\"auth\":\"TOKEN\"}",
        "{\"@type\":\"cred\",\"auth\":\"TOKEN\"}",
        "{ \"msg\": \"x\", \"auth\": \"TOKEN\" }",
        "{\n  \"value\": \"TOKEN\"\n}",
        "{\n\t\"value\": \"TOKEN\"\n}",
        "[{\"op\":\"add\",\"value\":\"TOKEN\"}]",
    ];
    for (i, shape) in shapes.iter().enumerate() {
        let gh = tokens::github_classic(&mut rng, "ghs");
        let json = shape.replace("TOKEN", &gh);
        let blob = match i % 2 {
            0 => STANDARD.encode(&json),
            _ => URL_SAFE_NO_PAD.encode(&json),
        };
        // Placed at the base64 group that holds the token's first byte.
        let at = json.find(&gh).expect("token in the JSON") / 3 * 4;
        out.push(Case::new(
            "a base64 blob whose JSON holds a token",
            format!("2024-05-14T09:12:44Z worker[3]: job payload={blob} queued\n"),
            &blob[at..],
            gh,
            "github-server-to-server-token",
        ));
    }

    let sk = format!("sk_live_{}", rng.string(ALNUM, 24));
    let basic = STANDARD.encode(format!("{sk}:"));
    out.push(Case::new(
        "curl -u sk_live_…: sends the key as a Basic user name",
        format!("> GET /v1/charges HTTP/1.1\r\n> Authorization: Basic {basic}\r\n"),
        &basic,
        sk,
        "stripe-secret-key",
    ));
    out
}

fn scan_show(env: &Env, file: &str) -> crate::util::Run {
    env.run(&["scan", "--format", "jsonl", "--show-secrets", file])
}

#[test]
fn each_escape_kind_gives_the_whole_secret_decoded() {
    let env = Env::new();
    for (i, c) in cases().into_iter().enumerate() {
        let file = format!("case{i}.log");
        env.write(
            &file,
            format!("2024-05-14T09:12:43Z INFO start\n{}", c.line),
        );
        let run = scan_show(&env, &file);
        let found = run.findings();
        let hit = found
            .iter()
            .find(|f| f.fingerprint == sha256_hex(&c.secret));
        let Some(f) = hit else {
            run.fail(format!(
                "{}: no finding with the plain secret's fingerprint; got {found:?}",
                c.name
            ));
        };
        run.check_eq(
            f.secret.as_str(),
            c.secret.as_str(),
            format!("{}: secret", c.name),
        );
        run.check_eq(f.rule.as_str(), c.rule, format!("{}: rule", c.name));
        // A case may span lines (curl's verbose headers).
        let before = &c.line[..c.raw_start];
        let lines_before = before.matches('\n').count() as u64;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        run.check_eq(f.line, Some(2 + lines_before), format!("{}: line", c.name));
        run.check_eq(
            f.column,
            Some((c.raw_start - line_start) as u64 + 1),
            format!("{}: column", c.name),
        );
        let first_line = "2024-05-14T09:12:43Z INFO start\n".len();
        run.check_eq(
            f.offset,
            Some((first_line + c.raw_start) as u64),
            format!("{}: offset", c.name),
        );
        run.expect_code(1);
    }
}

#[test]
fn redact_leaves_no_part_of_an_escaped_secret() {
    let env = Env::new();
    let cases = cases();
    let text: String = cases.iter().map(|c| c.line.as_str()).collect();
    env.write("wrapped.log", &text);
    env.write("in-place.log", &text);
    // A copy (markers of any length) and in place (markers the length of
    // the raw bytes they cover).
    for (args, out) in [
        (
            &["redact", "wrapped.log", "-o", "clean.log"][..],
            "clean.log",
        ),
        (
            &["redact", "--in-place", "in-place.log"][..],
            "in-place.log",
        ),
    ] {
        let run = env.run(args);
        run.expect_code(1);
        let copy = std::fs::read_to_string(env.path(out)).expect("copy");
        run.check_eq(
            copy.lines().count(),
            text.lines().count(),
            "line count kept",
        );
        if out == "in-place.log" {
            run.check_eq(copy.len(), text.len(), "in place, the length is kept");
        }
        for c in &cases {
            // No run of 8 bytes of the secret survives, plainly or as written.
            let raw_end = c.raw_start + raw_len(c);
            let raw = &c.line[c.raw_start..raw_end];
            for piece in [c.secret.as_str(), raw] {
                for w in piece.as_bytes().windows(8) {
                    let w = String::from_utf8_lossy(w);
                    run.check(
                        !copy.contains(w.as_ref()),
                        format!("{out}: {}: {w:?} survived", c.name),
                    );
                }
            }
        }
        let rescan = env.run(&["scan", "--format", "jsonl", out]);
        rescan.check_eq(
            rescan.findings().len(),
            0,
            format!("a rescan of {out} finds nothing"),
        );
    }
}

/// Length of the raw form of `c`'s secret in its line: up to where the
/// plain secret's last character is written.
fn raw_len(c: &Case) -> usize {
    let rest = &c.line[c.raw_start..];
    // The raw form ends at the first delimiter the wrapping puts after it.
    rest.find(|ch: char| {
        matches!(ch, ' ' | '"' | '\r' | '\n') || ch == '&' && rest.contains("&quot;")
    })
    .unwrap_or(rest.len())
    .min(rest.find("\\x22").unwrap_or(usize::MAX))
    .min(rest.find("\\\"").unwrap_or(usize::MAX))
    .min(rest.find("%26").unwrap_or(usize::MAX))
    .min(rest.find("\x1b").unwrap_or(usize::MAX))
    .min(rest.find("&quot;").unwrap_or(usize::MAX))
}

#[test]
fn every_secret_of_a_packed_line_is_found() {
    let env = Env::new();
    let mut rng = Rng::new(77);
    let mut text = String::new();
    let mut want = Vec::new();
    for n in 2..=5 {
        let pw: Vec<String> = (0..n).map(|_| tokens::password(&mut rng)).collect();
        let names = [
            "DB_PASSWORD",
            "REDIS_PASSWORD",
            "SMTP_PASSWORD",
            "LDAP_PASSWORD",
            "MQ_PASSWORD",
        ];
        let line: Vec<String> = pw
            .iter()
            .zip(names)
            .map(|(p, k)| format!("{k}={p}"))
            .collect();
        text.push_str(&format!("env: {}\n", line.join(" ")));
        want.extend(pw);
        let tok: Vec<String> = (0..n).map(|_| rng.string(ALNUM, 40)).collect();
        let names = [
            "CI_TOKEN",
            "DEPLOY_TOKEN",
            "REGISTRY_TOKEN",
            "NPM_TOKEN",
            "CACHE_TOKEN",
        ];
        let line: Vec<String> = tok
            .iter()
            .zip(names)
            .map(|(t, k)| format!("{k}={t}"))
            .collect();
        text.push_str(&format!("{}\n", line.join(" ")));
        want.extend(tok);
        let jwts: Vec<String> = (0..n).map(|_| tokens::jwt(&mut rng)).collect();
        text.push_str(&format!("tokens: {}\n", jwts.join(" ")));
        want.extend(jwts);
    }
    let sess = rng.string(B64URL, 32);
    let php = rng.string(b"abcdefghijklmnopqrstuv0123456789", 26);
    text.push_str(&format!(
        "Cookie: PHPSESSID={php};session={}\n",
        tokens::flask_session(&mut rng)
    ));
    want.push(php);
    let _ = sess;
    env.write("packed.log", &text);
    let run = scan_show(&env, "packed.log");
    let got: Vec<String> = run.findings().into_iter().map(|f| f.secret).collect();
    for w in &want {
        run.check(got.contains(w), format!("{w} found"));
    }
}

#[test]
fn long_tokens_are_found_whole() {
    let env = Env::new();
    let mut rng = Rng::new(16);
    // A 16 KB JWT (group claims) and an 8 KB opaque bearer token.
    let groups: Vec<String> = (0..420)
        .map(|_| format!("\"{}\"", rng.string(b"0123456789abcdef-", 30)))
        .collect();
    let claims = format!(
        r#"{{"sub":"u1","exp":{},"groups":[{}]}}"#,
        tokens::JWT_EXP,
        groups.join(",")
    );
    let jwt = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims),
        URL_SAFE_NO_PAD.encode(rng.bytes(256))
    );
    assert!(jwt.len() > 16_000, "{}", jwt.len());
    let opaque = rng.string(B64URL, 8000);
    env.write(
        "long.log",
        format!("GET /me Authorization: Bearer {jwt}\nGET /me Authorization: Bearer {opaque}\n"),
    );
    let run = scan_show(&env, "long.log");
    let got: Vec<String> = run.findings().into_iter().map(|f| f.secret).collect();
    run.check(got.contains(&jwt), "the 16 KB JWT, whole");
    run.check(got.contains(&opaque), "the 8 KB bearer token, whole");
}

#[test]
fn pem_blocks_logged_line_by_line_behind_a_prefix() {
    let env = Env::new();
    let mut rng = Rng::new(38);
    let pem = tokens::pem(&mut rng, "RSA PRIVATE KEY", "\n");
    let syslog: String = pem
        .lines()
        .enumerate()
        .map(|(i, l)| format!("May 14 09:12:{:02} web-01 app[4411]: {l}\n", 10 + i % 3))
        .collect();
    let pem2 = tokens::pem(&mut rng, "PRIVATE KEY", "\n");
    let docker: String = pem2
        .lines()
        .enumerate()
        .map(|(i, l)| {
            format!(
                "{{\"log\":\"{l}\\n\",\"stream\":\"stderr\",\"time\":\"2024-05-14T09:12:44.{:09}Z\"}}\n",
                i * 7919
            )
        })
        .collect();
    env.write("syslog.log", &syslog);
    env.write("docker.log", &docker);
    for (file, want) in [("syslog.log", &pem), ("docker.log", &pem2)] {
        let run = scan_show(&env, file);
        let found = run.findings();
        let f = found
            .iter()
            .find(|f| f.fingerprint == sha256_hex(want))
            .unwrap_or_else(|| run.fail(format!("{file}: the reassembled key; got {found:?}")));
        run.check_eq(f.rule.as_str(), "private-key-pem", format!("{file}: rule"));
        run.check_eq(f.line, Some(1), format!("{file}: line of BEGIN"));
        let out = format!("{file}.clean");
        let red = env.run(&["redact", file, "-o", &out]);
        red.expect_code(1);
        let copy = std::fs::read_to_string(env.path(&out)).expect("copy");
        for body_line in want.lines().filter(|l| !l.starts_with("-----")) {
            red.check(
                !copy.contains(body_line),
                format!("{file}: key line left in the copy"),
            );
        }
        red.check_eq(
            copy.lines().count(),
            want.lines().count(),
            "line count kept",
        );
    }
}

/// Escaped secrets on neighbouring lines are each found decoded, whatever
/// order their keywords are searched in: the escaped URL credential of
/// the first line (found by `@`) was dropped when the escaped token of
/// the next line had been noted for decoding first.
#[test]
fn escaped_secrets_on_neighbouring_lines_are_all_found() {
    let env = Env::new();
    let mut rng = Rng::new(1516);
    let password = rng.string(ALNUM, 16);
    let gh = tokens::github_classic(&mut rng, "ghp");
    env.write(
        "two.log",
        format!(
            "{{\"cfg\":{{\"dsn\":\"postgres:\\/\\/app:{password}@db.internal:5432\\/orders\"}}}}\n\
             {{\"msg\":\"clone failed:\\n{gh}\"}}\n"
        ),
    );
    let run = scan_show(&env, "two.log");
    let mut got: Vec<(Option<u64>, String)> = run
        .findings()
        .into_iter()
        .map(|f| (f.line, f.secret))
        .collect();
    got.sort();
    let first = got
        .iter()
        .find(|(l, _)| *l == Some(1))
        .map(|(_, s)| s.as_str());
    run.check(
        first.is_some_and(|s| s.contains(&password)),
        format!("line 1's password is found; got {got:?}"),
    );
    run.check(
        got.iter().any(|(l, s)| *l == Some(2) && *s == gh),
        format!("line 2's token is found; got {got:?}"),
    );
}
