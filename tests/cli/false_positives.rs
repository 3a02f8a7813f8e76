//! Realistic logs from the benchmark corpus generator (nginx, JSON app logs
//! with UUIDs, digests, base64 blobs, trace ids, S3 ids, pod names, proxy
//! logs, and documentation placeholders such as `api_key=your_api_key`,
//! `password=changeme`, `token=${TOKEN}`, `Authorization: Bearer <TOKEN>`,
//! `AKIAIOSFODNN7EXAMPLE`): quiet on over 20 MB of clean logs (no finding
//! of high or medium confidence), and complete on the same noise with
//! planted credentials (each found at the line, column and offset the
//! generator's manifest records, and nothing found elsewhere). The clean
//! run also reads [`cookie_and_signed_look_alikes`]: Cookie / Set-Cookie
//! lines full of tracking, consent, preference and CSRF cookies, and the
//! base64 JSON cursors, dotted versions, colon times and `--` digests that
//! look like signed tokens (issue 14).

#[path = "../../benches/corpus/mod.rs"]
mod corpus;

use crate::util::{Env, Finding, Rng, ALNUM, B64, B64URL, DIGITS, HEX};

const BYTES: u64 = 21_000_000;

#[test]
fn clean_corpus_has_no_high_or_medium_findings() {
    let env = Env::new();
    let dir = env.mkdir("corpus");
    let manifest = corpus::clean_logs(&dir, BYTES, 20_240_501).expect("generate the corpus");
    assert!(
        manifest.total_bytes >= 20_000_000,
        "corpus too small: {} bytes",
        manifest.total_bytes
    );
    assert!(manifest.secrets.is_empty(), "a clean corpus plants nothing");
    env.write(
        "corpus/web/cookies.log",
        cookie_and_signed_look_alikes(20_000, 20_240_514),
    );
    let run = env.run(&["scan", "--format", "jsonl", "corpus"]);
    let found = run.findings();
    let low = found.iter().filter(|f| f.confidence == "low").count();
    eprintln!(
        "clean corpus: {} bytes in {} files, {} lines: {low} low-confidence findings",
        manifest.total_bytes,
        manifest.files.len(),
        manifest.total_lines
    );
    let mut by_rule: Vec<(String, usize)> = Vec::new();
    for f in found.iter().filter(|f| f.confidence == "low") {
        match by_rule.iter_mut().find(|(r, _)| *r == f.rule) {
            Some((_, n)) => *n += 1,
            None => by_rule.push((f.rule.clone(), 1)),
        }
    }
    eprintln!("low-confidence findings by rule: {by_rule:?}");
    let bad: Vec<&Finding> = found.iter().filter(|f| f.confidence != "low").collect();
    if !bad.is_empty() {
        let list: Vec<String> = bad
            .iter()
            .map(|f| {
                format!(
                    "  {} ({}) {}:{}:{}  {}",
                    f.rule,
                    f.confidence,
                    f.path,
                    f.line.unwrap_or(0),
                    f.column.unwrap_or(0),
                    f.context
                )
            })
            .collect();
        run.fail(format!(
            "{} high/medium findings in clean logs:\n{}",
            bad.len(),
            list.join("\n")
        ));
    }
    run.check(
        run.code() == Some(if found.is_empty() { 0 } else { 1 }),
        "exit status: 0 when nothing was found, 1 for low findings only",
    );
}

#[test]
fn planted_secrets_are_found_where_the_manifest_says() {
    // The same generator, planting one synthetic credential every ~20 lines
    // in realistic places (query strings, Authorization headers, JSON
    // fields, curl command lines, env dumps, URL userinfo).
    let env = Env::new();
    let dir = env.mkdir("corpus");
    let plan = corpus::Plan {
        lines_per_secret: 20,
        ..corpus::Plan::new(3_000_000, 7)
    };
    let manifest = corpus::generate(&dir, &plan).expect("generate the corpus");
    assert!(manifest.secrets.len() > 100, "too few planted secrets");
    let run = env.run(&["scan", "--format", "jsonl", "corpus"]);
    let found = run.findings();
    let mut problems = Vec::new();
    for s in &manifest.secrets {
        let path = format!("corpus/{}", s.file);
        let fp = crate::util::sha256_hex(&s.secret);
        let hit = found
            .iter()
            .find(|f| f.path == path && f.offset == Some(s.offset));
        match hit {
            None => {
                let on_line: Vec<String> = found
                    .iter()
                    .filter(|f| f.path == path && f.line == Some(s.line))
                    .map(|f| format!("{} at column {:?}", f.rule, f.column))
                    .collect();
                let text = std::fs::read_to_string(dir.join(&s.file))
                    .ok()
                    .and_then(|t| t.lines().nth(s.line as usize - 1).map(str::to_string))
                    .unwrap_or_default();
                problems.push(format!(
                    "{} ({}, {}) at {path}:{}:{} not found (on that line: {on_line:?}): {text}",
                    s.family, s.kind, s.position, s.line, s.column
                ))
            }
            Some(f) if (f.line, f.column) != (Some(s.line), Some(s.column)) => {
                problems.push(format!(
                    "{} at {path}:{}:{} reported at {:?}:{:?}",
                    s.family, s.line, s.column, f.line, f.column
                ))
            }
            Some(f) if f.fingerprint != fp => problems.push(format!(
                "{} ({}) at {path}:{}:{}: rule {} captured other bytes than the secret",
                s.family, s.position, s.line, s.column, f.rule
            )),
            Some(_) => {}
        }
    }
    // A finding on a line without a planted secret is a false positive in
    // the noise. (On a planted line, a second finding can be legitimate: a
    // service-account JSON carries a key id next to its private key.)
    for f in &found {
        let planted_line = manifest
            .secrets
            .iter()
            .any(|s| f.path == format!("corpus/{}", s.file) && f.line == Some(s.line));
        if !planted_line {
            problems.push(format!(
                "unexpected {} ({}) at {}:{}:{}: {}",
                f.rule,
                f.confidence,
                f.path,
                f.line.unwrap_or(0),
                f.column.unwrap_or(0),
                f.context
            ));
        }
    }
    eprintln!(
        "planted corpus: {} secrets planted, {} findings",
        manifest.secrets.len(),
        found.len()
    );
    run.check_none(&problems, "planted secrets");
}

/// `n` clean lines (issue 14): access, proxy and JSON logs whose cookies
/// are trackers, consent, preferences, CSRF tokens and session-named
/// cookies without a random value, plus base64url JSON cursors starting
/// with the signed-token anchors (`eyJ1`, `eyJz`, `eyJw` …), dotted
/// version and file names, colon-separated times and `--` separated
/// digests, reset and confirmation pages without a token, none of which
/// is a credential.
fn cookie_and_signed_look_alikes(n: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::new();
    let b64 =
        |b: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, b);
    for i in 0..n {
        let ip = format!("203.0.113.{}", 1 + rng.below(254));
        let ts = 1_715_677_964 + i as u64;
        let uuid = {
            let h = rng.string(HEX, 32);
            format!(
                "{}-{}-4{}-a{}-{}",
                &h[..8],
                &h[8..12],
                &h[13..16],
                &h[17..20],
                &h[20..]
            )
        };
        let ga = format!("GA1.2.{}.{ts}", rng.string(DIGITS, 10));
        let hj = b64(format!(r#"{{"id":"{uuid}","created":{ts}101,"existing":true}}"#).as_bytes());
        let cookies = [
            format!("_ga={ga}"),
            format!("_ga_{}=GS1.1.{ts}.3.1.{ts}.0.0.0", rng.string(b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 10)),
            format!("_gid=GA1.2.{}.{ts}", rng.string(DIGITS, 9)),
            format!("_fbp=fb.1.{ts}101.{}", rng.string(DIGITS, 10)),
            format!("_gcl_au=1.1.{}.{ts}", rng.string(DIGITS, 10)),
            format!("NID=511={}", rng.string(B64URL, 150)),
            format!("ajs_anonymous_id=%22{uuid}%22"),
            format!("ajs_user_id={}", rng.string(DIGITS, 6)),
            format!("AMP_{}={}", rng.string(HEX, 10), b64(format!(r#"{{"deviceId":"{uuid}","sessionId":{ts}101}}"#).as_bytes())),
            "AMP_TOKEN=%24NOT_FOUND".to_string(),
            format!("_hjSessionUser_{}={hj}", rng.string(DIGITS, 7)),
            format!("_hjSession_{}={hj}", rng.string(DIGITS, 7)),
            format!("ai_session={}|{ts}101|{ts}202", rng.string(ALNUM, 16)),
            format!("ai_user={}|2024-05-14T09:12:44.101Z", rng.string(ALNUM, 20)),
            format!("__stripe_mid={uuid}{}", rng.string(HEX, 6)),
            format!("__stripe_sid={uuid}{}", rng.string(HEX, 6)),
            format!("_uetsid={}", rng.string(HEX, 32)),
            format!("_uetvid={}", rng.string(HEX, 32)),
            format!("_pin_unauth=dWlkPU{}", rng.string(B64URL, 40)),
            format!("XSRF-TOKEN=eyJpdiI6{}%3D", rng.string(ALNUM, 180)),
            format!("csrftoken={}", rng.string(ALNUM, 32)),
            format!("_csrf_token={}", rng.string(B64URL, 43)),
            format!("OptanonConsent=isGpcEnabled=0&datestamp=Tue+May+14+2024+09%3A12%3A44+GMT%2B0000&version=202401.1.0&consentId={uuid}"),
            "OptanonAlertBoxClosed=2024-05-14T09:12:44.101Z".to_string(),
            "cookieconsent_status=dismiss".to_string(),
            "lang=en-US".to_string(),
            "theme=dark".to_string(),
            "sidebar_state=collapsed".to_string(),
            format!("session_start={ts}101"),
            "session_depth=3".to_string(),
            "auth_redirect=%2Faccount%2Forders%3Fpage%3D2".to_string(),
            "auth0.is.authenticated=true".to_string(),
            format!("sessionid_hint=user-{}", rng.string(DIGITS, 5)),
            format!("build=2024.05.{}.{}", 10 + rng.below(20), rng.string(DIGITS, 4)),
        ];
        let mut jar: Vec<&str> = Vec::new();
        for _ in 0..3 + rng.below(8) {
            let c = &cookies[rng.below(cookies.len())];
            if !jar.contains(&c.as_str()) {
                jar.push(c);
            }
        }
        let jar = jar.join("; ");
        let keys = [
            "user", "sort", "page", "type", "_k", "last_id", "rank", "cursor", "until", "scope",
        ];
        let key = keys[rng.below(keys.len())];
        let cursor = b64(format!(r#"{{"{key}":{},"ts":{ts}}}"#, rng.below(99_999)).as_bytes());
        let line = match rng.below(9) {
            0 | 1 => format!(
                "{ip} - - [14/May/2024:09:12:44 +0000] \"GET /products/{} HTTP/1.1\" 200 {} \"-\" \"Mozilla/5.0\" cookie=\"{jar}\"\n",
                rng.below(999_999),
                rng.below(90_000)
            ),
            2 => format!("< Set-Cookie: {}; Path=/; Max-Age=31536000; SameSite=Lax\n", cookies[rng.below(cookies.len())]),
            3 => format!(
                "{{\"ts\":\"2024-05-14T09:12:44.101Z\",\"level\":\"debug\",\"msg\":\"request\",\"headers\":{{\"cookie\":\"{jar}\"}},\"next\":\"{cursor}\"}}\n"
            ),
            4 => format!(
                "{ip} - - [14/May/2024:09:12:44 +0000] \"GET /api/v2/feed?cursor={cursor}&limit=50 HTTP/1.1\" 200 {} \"-\" \"okhttp/4.12.0\"\n",
                rng.below(9_000)
            ),
            5 => format!(
                "2024-05-14T09:12:44Z INFO export: wrote /exports/{cursor}.csv and report.v2.{}.{}.pdf at 09:12:{:02} (git v2.14.3-{}-g{})\n",
                rng.below(30),
                rng.below(9),
                rng.below(60),
                rng.below(99),
                rng.string(HEX, 7)
            ),
            6 => format!(
                "Started GET \"/assets/application-{}.css\" for {ip} -- cache {}--{} hit\n",
                rng.string(HEX, 64),
                rng.string(HEX, 8),
                rng.string(HEX, 40)
            ),
            7 => format!(
                "{ip} - - [14/May/2024:09:12:44 +0000] \"GET /{} HTTP/1.1\" 200 {} \"-\" \"Mozilla/5.0\" upstream: connection reset by peer\n",
                [
                    "reset-password/done".to_string(),
                    format!("confirm/step.{}.of.3", 1 + rng.below(3)),
                    format!("password/reset?email=user{}%40example.org", rng.below(999)),
                    format!("confirm-email/sent?next=%2Faccount%2F{}", rng.below(999)),
                    format!("reset/{cursor}.json"),
                ][rng.below(5)],
                rng.below(9_000)
            ),
            _ => format!("> Cookie: {jar}\n"),
        };
        out.push_str(&line);
    }
    out
}

/// Issue 14: names that say "not a secret" keep rejecting hex and UUIDs,
/// and the new secret-bearing name classes (`*_SIGNING_KEY`, `APP_KEY`,
/// `pwd=`, `Authorization: Token`, …) stay quiet on the clean lines real
/// logs write under them: ids, digests, anti-forgery and paging tokens,
/// password hashes, public keys, cache keys, placeholders, the shell's
/// `PWD`, documentation samples and minified code.
#[test]
fn clean_lines_under_secret_looking_names_have_no_findings() {
    let mut rng = Rng::new(20_241_402);
    let mut hex = |n: usize| rng.string(HEX, n);
    let mut text = String::new();
    for i in 0..400 {
        let (a, b, c, d) = (hex(32), hex(40), hex(64), hex(16));
        let uuid = format!(
            "{}-{}-4{}-a{}-{}",
            &a[..8],
            &a[8..12],
            &a[13..16],
            &a[17..20],
            &a[20..]
        );
        let lines = [
            format!(r#"{{"ts":"2024-05-14T09:12:{:02}Z","msg":"key rotated","api_key_id":"{uuid}","signing_key_id":"{b}","key_version":"{a}","kid":"{d}"}}"#, i % 60),
            format!("203.0.113.{} - - [14/May/2024:09:12:44 +0000] \"GET /v2/items?page_token={c}&request_id={uuid} HTTP/1.1\" 200 {} \"-\" \"okhttp/4.12.0\" etag=\"{a}\"", i % 250, 100 + i),
            format!("2024-05-14 09:12:44,{:03} DEBUG forms: csrf_token={uuid} X-CSRF-Token: {a} xsrf-token={b}", i % 1000),
            format!(r#"{{"user_id":{i},"device_token":"{c}","platform":"ios","push_token_sha256":"{c}"}}"#),
            format!(r#"{{"eventSource":"ec2.amazonaws.com","eventName":"RunInstances","requestParameters":{{"clientToken":"{uuid}","nextToken":"{c}"}},"requestID":"{uuid}"}}"#),
            format!("{{'username': 'u{i}', 'password_hash': 'pbkdf2_sha256$600000${d}${c}', 'hashed_password': '{b}'}}"),
            format!(r#"Parameters: {{"user"=>{{"email"=>"u{i}@acme.io", "password_digest"=>"{b}", "password"=>"[FILTERED]"}}}}"#),
            format!(r#"Parameters: {{"authenticity_token"=>"{}", "commit"=>"Save"}}"#, rng_b64(&c)),
            format!("POST /Account/Login body=__RequestVerificationToken=CfDJ8{}&csrfmiddlewaretoken={}&Email=u{i}%40acme.io", rng_b64(&b), &c[..32]),
            format!("commit_sha={b} GIT_COMMIT={b} BUILD_SHA256={c} trace_id={a} span_id={d}"),
            format!(r#"{{"public_key":"{}","cache_key":"v3:product:{i}:{b}","idempotency_key":"{uuid}"}}"#, rng_b64(&c)),
            format!("PWD=/srv/app/releases/2024051409{:04} OLDPWD=/srv/app", i),
            "JWT_SIGNING_KEY=changeme APP_KEY= LICENSE_KEY=${LICENSE_KEY} RAILS_MASTER_KEY=<master-key>".to_string(),
            "2024-05-14 09:12:44 WARN auth: Authorization: Token expired, token_type=bearer, BEARER realm=\"api\"".to_string(),
            "e.apiKey=o.apiKey,e.signingKey=t.options.signingKey,this.password=r[4]||n;password:function(a){return a}".to_string(),
            "    'SIGNING_KEY': settings.SECRET_KEY, 'VERIFYING_KEY': settings.PUBLIC_KEY,".to_string(),
            "+ curl https://api.stripe.com/v1/charges -u sk_test_4eC39HqLyjWDarjtT1zdp7dc: -d amount=2000".to_string(),
            format!("> Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c x-request-id={uuid}"),
            format!("SECRET_KEY=aaaa1111bbbb2222cccc3333dddd4444 X-API-Key: 11111111-2222-3333-4444-555555555555 secret_id={uuid}"),
            // Values made for browsers: a Mapbox public token, a Stripe
            // publishable key, an Algolia search-only key, a Plaid Link token.
            format!("203.0.113.{} - - [14/May/2024:09:12:44 +0000] \"GET /styles/v1/acme/streets/tiles/256/14/8185/5449?access_token=pk.eyJ1IjoiYWNtZS1tYXBzIiwiYSI6Im{}In0.{} HTTP/1.1\" 200 {}", i % 250, &c[..24], &b[..22], 900 + i),
            format!(r#"{{"level":"info","msg":"checkout page","stripePublishableKey":"pk_live_{}","searchOnlyApiKey":"{a}"}}"#, rng_b64(&c).replace(['+', '/', '='], "")),
            format!(r#"{{"level":"debug","msg":"plaid link created","link_token":"link-production-{uuid}","expiration":"2024-05-14T13:12:44Z"}}"#),
        ];
        text.push_str(&lines[i % lines.len()]);
        text.push('\n');
    }
    let env = Env::new();
    env.write("names.log", &text);
    let run = env.run(&["scan", "--format", "jsonl", "names.log"]);
    let found = run.findings();
    let list: Vec<String> = found
        .iter()
        .map(|f| format!("{} line {:?}: {}", f.rule, f.line, f.context))
        .collect();
    run.check_none(&list, "findings on clean lines under secret-looking names");
    run.expect_code(0);
}

/// A base64 rendering of a hex string's bytes (a public key's shape).
fn rng_b64(hex: &str) -> String {
    let bytes: Vec<u8> = hex.bytes().collect();
    bytes
        .chunks(3)
        .flat_map(|c| {
            let n = c.iter().fold(0u32, |n, b| n << 8 | u32::from(*b)) << (8 * (3 - c.len()));
            (0..4)
                .rev()
                .map(move |k| B64[(n >> (6 * k) & 63) as usize] as char)
        })
        .collect()
}
