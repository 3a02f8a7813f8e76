//! Issue 14: signed tokens found by their structure wherever they are
//! logged (item 3), and session cookies found by their name (item 6). Each
//! positive sits in a realistic line (access log, JSON log, `curl -v`,
//! Rails log, Set-Cookie / Cookie headers, a HAR capture) beside the
//! look-alike that must stay quiet; every finding of the scan is accounted
//! for, with its rule, kind, confidence, place, fingerprint and expiry.
//! Tokens are synthetic: right encodings, lengths and timestamps, random
//! bytes for signatures.

use std::io::Write;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use serde_json::json;

use crate::util::{sha256_hex, Env, Layout, Placed, Rng, ALNUM, B64URL, HEX, LOWER_ALNUM};

/// 2024-05-14T09:12:44Z: when the synthetic tokens were signed.
const SIGNED: u64 = 1_715_677_964;
/// SIGNED + 31 days (Flask's default session lifetime).
const FLASK_EXPIRES: &str = "2024-06-14T09:12:44Z";
/// SIGNED + 2 weeks (Django's default SESSION_COOKIE_AGE).
const DJANGO_EXPIRES: &str = "2024-05-28T09:12:44Z";

fn b64u(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

fn zlib(b: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(b).expect("zlib write");
    e.finish().expect("zlib finish")
}

/// itsdangerous timestamp: big-endian seconds without leading zero bytes.
fn its_ts(t: u64) -> String {
    let b = t.to_be_bytes();
    let first = b.iter().position(|&x| x != 0).unwrap_or(7);
    b64u(&b[first..])
}

/// Django's base62 timestamp.
fn b62(mut n: u64) -> String {
    let mut s = Vec::new();
    while n > 0 {
        s.insert(0, ALNUM[(n % 62) as usize]);
        n /= 62;
    }
    String::from_utf8(s).expect("ascii")
}

/// A base64url HMAC stand-in of `n` bytes (20: SHA-1, 32: SHA-256).
fn sig(rng: &mut Rng, n: usize) -> String {
    b64u(&rng.bytes(n))
}

/// `URLSafeTimedSerializer.dumps(json)`, optionally zlib-compressed.
fn itsdangerous(rng: &mut Rng, json: &str, compressed: bool) -> String {
    let payload = if compressed {
        format!(".{}", b64u(&zlib(json.as_bytes())))
    } else {
        b64u(json.as_bytes())
    };
    format!("{payload}.{}.{}", its_ts(SIGNED), sig(rng, 20))
}

/// `signing.dumps(json)` (SHA-256 signature), optionally compressed.
fn django(rng: &mut Rng, json: &str, compressed: bool) -> String {
    let value = if compressed {
        format!(".{}", b64u(&zlib(json.as_bytes())))
    } else {
        b64u(json.as_bytes())
    };
    format!("{value}:{}:{}", b62(SIGNED), sig(rng, 32))
}

/// `MessageVerifier#generate`: strict base64 data, `--`, hex HMAC.
fn rails(rng: &mut Rng, data: &[u8], hex_len: usize) -> String {
    format!("{}--{}", STANDARD.encode(data), rng.string(HEX, hex_len))
}

/// What one finding must be.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Want {
    rule: String,
    kind: String,
    confidence: String,
    line: Option<u64>,
    column: Option<u64>,
    fingerprint: String,
    expires: Option<String>,
}

fn want(rule: &str, kind: &str, conf: &str, at: &Placed, secret: &str, exp: Option<&str>) -> Want {
    Want {
        rule: rule.into(),
        kind: kind.into(),
        confidence: conf.into(),
        line: Some(at.line),
        column: Some(at.column),
        fingerprint: sha256_hex(secret),
        expires: exp.map(str::to_string),
    }
}

fn got(run: &crate::util::Run) -> Vec<Want> {
    run.findings()
        .into_iter()
        .map(|f| Want {
            rule: f.rule,
            kind: f.kind,
            confidence: f.confidence,
            line: f.line,
            column: f.column,
            fingerprint: f.fingerprint,
            expires: f.expires,
        })
        .collect()
}

#[test]
fn issue_14_item_3_signed_tokens_are_found_by_structure_anywhere() {
    let mut rng = Rng::new(143);
    let reset = itsdangerous(&mut rng, r#"{"user_id":4821,"purpose":"reset"}"#, false);
    let confirm = itsdangerous(
        &mut rng,
        r#"{"email":"jrivera@acme.io","list":"weekly-digest","source":"signup-form"}"#,
        true,
    );
    let untimed = format!(
        "{}.{}",
        b64u(br#"{"email":"jrivera@acme.io"}"#),
        sig(&mut rng, 20)
    );
    let dumps = django(&mut rng, r#"{"uid":7433,"next":"/welcome"}"#, false);
    let dumps_z = django(&mut rng, r#"{"cart":[41,42,43],"coupon":"SPRING24"}"#, true);
    let envelope = br#"{"_rails":{"message":"BAhpAh0D","exp":"2024-05-14T09:27:44.032Z","pur":"password_reset"}}"#;
    let verifier_env = rails(&mut rng, envelope, 64);
    let verifier = rails(&mut rng, b"\x04\x08i\x02\x1d\x03", 40);
    let blob = rails(
        &mut rng,
        br#"{"_rails":{"message":"BAhpBg==","exp":null,"pur":"blob_id"}}"#,
        40,
    );
    let email_link = itsdangerous(&mut rng, r#""jrivera@acme.io""#, false);
    let id_link = itsdangerous(&mut rng, r#"{"id":48213}"#, false);
    let flask_cookie = itsdangerous(&mut rng, r#"{"remember":true,"uid":"86153"}"#, false);
    let django_cookie = format!("alice:{}:{}", b62(SIGNED), sig(&mut rng, 32));

    // Look-alikes: a JSON cursor, a JWT (its own rule), a JWT cut after its
    // claims, a token with a 20-char signature, version strings and file
    // names with dots, a Rails-like value with a short digest, a Django-like
    // value with an implausible timestamp.
    let cursor = b64u(br#"{"user":123,"ts":1715677964}"#);
    let jwt = format!(
        "{}.{}.{}",
        b64u(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64u(br#"{"sub":"42","exp":1715681564}"#),
        sig(&mut rng, 32)
    );
    let cut_jwt = format!(
        "{}.{}",
        b64u(br#"{"alg":"HS256"}"#),
        b64u(br#"{"sub":"1234567890"}"#)
    );
    let short_sig = format!(
        "{}.{}.{}",
        b64u(br#"{"user":1}"#),
        its_ts(SIGNED),
        sig(&mut rng, 15)
    );
    let bad_ts = format!(
        "{}:{}:{}",
        b64u(br#"{"uid":1}"#),
        b62(900_000_000),
        sig(&mut rng, 32)
    );
    let short_digest = format!(
        "{}--{}",
        STANDARD.encode(b"\x04\x08i\x02\x1d\x03"),
        rng.string(HEX, 20)
    );

    let mut lay = Layout::new();
    let mut wants = Vec::new();
    let mut line =
        |lay: &mut Layout, text: String, hit: Option<(&str, &str, &str, &str, Option<&str>)>| {
            match hit {
                Some((secret, rule, kind, conf, exp)) => {
                    let at = lay.push_secret(&text, secret);
                    wants.push(want(rule, kind, conf, &at, secret, exp));
                }
                None => lay.push(&text),
            }
        };
    let tok = "bearer-token";
    line(&mut lay, format!("203.0.113.57 - - [14/May/2024:09:12:44 +0000] \"GET /reset-password/{reset} HTTP/1.1\" 200 1432 \"https://app.acme.io/login?v=2.14.3\" \"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4)\"\n"),
        Some((&reset, "signed-token", tok, "high", None)));
    line(&mut lay, format!("203.0.113.58 - - [14/May/2024:09:12:45 +0000] \"GET /api/v2/events?cursor={cursor}&limit=50 HTTP/1.1\" 200 981 \"-\" \"okhttp/4.12.0\"\n"), None);
    line(&mut lay, format!("{{\"ts\":\"2024-05-14T09:12:46.211Z\",\"level\":\"info\",\"logger\":\"mailer\",\"msg\":\"confirmation sent\",\"link\":\"https://app.acme.io/confirm/{confirm}\",\"template\":\"confirm.v3.html\"}}\n"),
        Some((&confirm, "signed-token", tok, "high", None)));
    line(&mut lay, format!("$ curl -sv 'https://api.acme.io/v1/invites/accept/{untimed}' -o invite.2024-05-14.json\n"),
        Some((&untimed, "signed-token", tok, "medium", None)));
    line(&mut lay, format!("2024-05-14 09:12:47,211 INFO accounts.views: activation link /accounts/activate/{dumps}/ sent to user 7433\n"),
        Some((&dumps, "signed-token", tok, "high", None)));
    line(
        &mut lay,
        format!("> GET /cart/restore?state={dumps_z}&utm_source=email HTTP/1.1\n"),
        Some((&dumps_z, "signed-token", tok, "high", None)),
    );
    line(&mut lay, format!("Started GET \"/passwords/edit?token={verifier_env}\" for 198.51.100.7 at 2024-05-14 09:12:48 +0000\n"),
        Some((&verifier_env, "signed-token", tok, "high", Some("2024-05-14T09:27:44Z"))));
    line(&mut lay, format!("198.51.100.23 - - [14/May/2024:09:12:49 +0000] \"GET /newsletter/unsubscribe/{verifier} HTTP/1.1\" 302 0 \"-\" \"Mozilla/5.0\"\n"),
        Some((&verifier, "signed-token", tok, "high", None)));
    line(&mut lay, format!("198.51.100.24 - - [14/May/2024:09:12:50 +0000] \"GET /rails/active_storage/blobs/redirect/{blob}/avatar.png HTTP/1.1\" 302 0\n"),
        Some((&blob, "signed-token", tok, "low", None)));
    // Payloads without an anchor of their own, in reset / confirm links.
    line(&mut lay, format!("203.0.113.60 - - [14/May/2024:09:12:50 +0000] \"GET /confirm/{email_link} HTTP/1.1\" 302 0 \"-\" \"Mozilla/5.0\"\n"),
        Some((&email_link, "signed-link-token", tok, "high", None)));
    line(&mut lay, format!("{{\"ts\":\"2024-05-14T09:12:50.5Z\",\"msg\":\"reset mail queued\",\"url\":\"https://app.acme.io/reset-password/{id_link}\"}}\n"),
        Some((&id_link, "signed-link-token", tok, "high", None)));
    line(&mut lay, "2024-05-14T09:12:50Z WARN upstream: connection reset by peer while reading /static/app.2024.05.14.min.js\n".to_string(), None);
    line(
        &mut lay,
        format!(
            "{{\"level\":\"debug\",\"msg\":\"upstream\",\"authorization\":\"Bearer {jwt}\"}}\n"
        ),
        Some((&jwt, "jwt", "jwt", "high", Some("2024-05-14T10:12:44Z"))),
    );
    line(
        &mut lay,
        format!(
            "2024-05-14T09:12:51Z WARN auth: rejected {cut_jwt} and {short_sig} from 203.0.113.9\n"
        ),
        None,
    );
    line(&mut lay, format!("2024-05-14T09:12:52Z WARN signing: bad timestamp in /activate/{bad_ts}/ and /unsubscribe/{short_digest}\n"), None);
    line(&mut lay, "2024-05-14T09:12:53Z INFO deploy: release v2.14.3 build 2024.05.14.1932 artifact app-2.14.3.tar.gz checksum ok\n".to_string(), None);
    // Under a cookie of any name: session-cookie, with the framework's
    // session lifetime.
    line(&mut lay, format!("< Set-Cookie: remember={flask_cookie}; Expires=Fri, 14 Jun 2024 09:12:44 GMT; HttpOnly; Path=/\n"),
        Some((&flask_cookie, "signed-cookie", "session-cookie", "high", Some(FLASK_EXPIRES))));
    line(&mut lay, format!("203.0.113.91 - - [14/May/2024:09:12:54 +0000] \"GET /basket HTTP/1.1\" 200 4211 \"-\" \"Mozilla/5.0\" cookie=\"lang=en; cart_owner={django_cookie}; build=2024.05.14\"\n"),
        Some((&django_cookie, "signed-cookie", "session-cookie", "high", Some(DJANGO_EXPIRES))));

    let env = Env::new();
    env.write("app.log", &lay.bytes);
    let run = env.run(&["scan", "--format", "jsonl", "app.log"]);
    run.expect_code(1);
    run.check_same(&got(&run), &wants, "findings of app.log");
}

#[test]
fn issue_14_item_6_session_cookies_are_found_by_name() {
    let mut rng = Rng::new(146);
    let mut b64url = |n: usize| rng.string(B64URL, n);
    let sid = format!("g.a000{}", b64url(68));
    let hsid = format!("A{}", b64url(16).replace(['-', '_'], "x"));
    let sapisid = format!("{}/{}", b64url(16), b64url(17));
    let psid3 = format!("g.a000{}", b64url(68));
    let sidcc = format!("AKEyX{}", b64url(70));
    let lsid = format!("o.mail.google.com{}", b64url(60));
    let shib = format!("_{}", Rng::new(7).string(HEX, 32));
    let auth = Rng::new(8).string(ALNUM, 40);
    let phpsess = Rng::new(9).string(LOWER_ALNUM, 26);
    let host_psid = format!("sidts-{}", b64url(80));
    // Quiet: tracking, ad, consent, preference and CSRF cookies, and
    // session-named cookies whose value is not random.
    let ga = "GA1.2.1234567890.1715677964";
    let nid = format!("511={}", b64url(120));
    let hj = b64u(
        br#"{"id":"0d48cfb6-6e24-54f8-b4d5-c8e251b74966","created":1715677964101,"existing":true}"#,
    );
    let ajs = "%22a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d%22";
    let amp = format!("AMP_{}", Rng::new(10).string(HEX, 10));
    let xsrf = format!("eyJpdiI6{}", b64url(100));
    let quiet = format!(
        "_ga={ga}; _gid=GA1.2.987654321.1715677964; _fbp=fb.1.1715677964101.1234567890; NID={nid}; \
         _hjSessionUser_3127649={hj}; ajs_anonymous_id={ajs}; {amp}=JTdCJTIyZGV2aWNlSWQlMjIlM0ElMjI; \
         OptanonConsent=isGpcEnabled=0&datestamp=Tue+May+14+2024&version=202401.1.0; lang=en-US; theme=dark; \
         consent=YES+cb.20240514-09-p0.en+FX+411; ai_session=Xk9p2q8Lr4Tz7VbN|1715677964101|1715677964101; \
         XSRF-TOKEN={xsrf}; sidebar_state=collapsedLeftPanel42; session_start=1715677964101"
    );

    let mut lay = Layout::new();
    let mut wants = Vec::new();
    let mut put = |lay: &mut Layout, text: &str, secrets: &[&str]| {
        let mut rest = text;
        for s in secrets {
            let at = rest.find(s).expect("fixture: secret in line");
            lay.push(&rest[..at]);
            let placed = lay.here();
            wants.push(want(
                "session-cookie-name",
                "session-cookie",
                "medium",
                &placed,
                s,
                None,
            ));
            lay.push(s);
            rest = &rest[at + s.len()..];
        }
        lay.push(rest);
    };
    put(&mut lay, "2024-05-14T09:12:40Z INFO gateway: start\n", &[]);
    // A Cookie header as a proxy logs it, Google account cookies among
    // trackers.
    put(
        &mut lay,
        &format!("> Cookie: SID={sid}; HSID={hsid}; {quiet}; SAPISID={sapisid}\n"),
        &[&sid, &hsid, &sapisid],
    );
    // curl -v response headers.
    put(&mut lay, &format!("< set-cookie: __Secure-3PSID={psid3}; Domain=.google.com; Path=/; Expires=Thu, 19 Jun 2025 09:12:44 GMT; Secure; HttpOnly; Priority=HIGH; SameParty\n"), &[&psid3]);
    put(&mut lay, &format!("< set-cookie: SIDCC={sidcc}; expires=Wed, 14-May-2025 09:12:44 GMT; path=/; domain=.google.com; priority=high\n"), &[&sidcc]);
    put(
        &mut lay,
        &format!("< Set-Cookie: LSID={lsid}; Path=/accounts; Secure; HttpOnly\n"),
        &[&lsid],
    );
    put(
        &mut lay,
        &format!("< Set-Cookie: __Host-1PLSID={host_psid}; Path=/; Secure; HttpOnly\n"),
        &[&host_psid],
    );
    // nginx access log with $http_cookie.
    put(&mut lay, &format!("203.0.113.66 - - [14/May/2024:09:12:44 +0000] \"GET /Shibboleth.sso/Session HTTP/1.1\" 200 812 \"-\" \"Mozilla/5.0\" cookie=\"_ga={ga}; _shibsession_64656661756c7468747470733a2f2f73702e61636d652e696f={shib}; lang=en\"\n"), &[&shib]);
    // JSON application log.
    put(&mut lay, &format!("{{\"ts\":\"2024-05-14T09:12:45.502Z\",\"level\":\"debug\",\"msg\":\"incoming\",\"cookie\":\"theme=dark; auth_token={auth}; PHPSESSID={phpsess}\"}}\n"), &[&auth, &phpsess]);
    // Quiet lines: trackers alone, deleted and flag-valued session cookies.
    put(&mut lay, &format!("> Cookie: {quiet}\n"), &[]);
    put(
        &mut lay,
        "< Set-Cookie: sid=deleted; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/\n",
        &[],
    );
    put(
        &mut lay,
        "< Set-Cookie: auth_redirect=%2Fdashboard%2Fsettings%3Ftab%3D2; Path=/; SameSite=Lax\n",
        &[],
    );
    put(
        &mut lay,
        "< Set-Cookie: session_tracking_consent=accepted_all_categories; Path=/\n",
        &[],
    );

    let env = Env::new();
    env.write("proxy.log", &lay.bytes);
    let run = env.run(&["scan", "--format", "jsonl", "proxy.log"]);
    run.expect_code(1);
    let found = got(&run);
    // PHPSESSID is judged by the session-id-cookie rule of its own.
    let wants: Vec<Want> = wants
        .into_iter()
        .map(|mut w| {
            if w.fingerprint == sha256_hex(&phpsess) {
                w.rule = "session-id-cookie".into();
            }
            w
        })
        .collect();
    run.check_same(&found, &wants, "findings of proxy.log");
}

#[test]
fn issue_14_item_6_har_cookie_arrays_by_name() {
    let mut rng = Rng::new(1461);
    let sapisid = format!("{}/{}", rng.string(B64URL, 16), rng.string(B64URL, 17));
    let psid = format!("g.a000{}", rng.string(B64URL, 68));
    let nid = format!("511={}", rng.string(B64URL, 120));
    let gid = "GA1.2.987654321.1715677964";
    let har = json!({"log": {"version": "1.2", "creator": {"name": "Firefox", "version": "126.0"},
    "entries": [{
        "startedDateTime": "2024-05-14T09:12:44.123Z",
        "time": 88.2,
        "request": {
            "method": "GET", "url": "https://mail.google.com/mail/u/0/", "httpVersion": "HTTP/2",
            "headers": [{"name": "Accept", "value": "text/html"}],
            "cookies": [
                {"name": "SAPISID", "value": sapisid},
                {"name": "_gid", "value": gid},
                {"name": "NID", "value": nid},
            ],
            "queryString": [], "headersSize": -1, "bodySize": 0
        },
        "response": {
            "status": 200, "statusText": "OK", "httpVersion": "HTTP/2",
            "headers": [{"name": "Content-Type", "value": "text/html"}],
            "cookies": [{"name": "__Secure-1PSID", "value": psid, "path": "/", "secure": true}],
            "content": {"size": 0, "mimeType": "text/html"},
            "redirectURL": "", "headersSize": -1, "bodySize": 0
        },
        "cache": {}, "timings": {"send": 0, "wait": 80, "receive": 8}
    }]}});
    let env = Env::new();
    env.write("mail.har", serde_json::to_vec_pretty(&har).expect("json"));
    let run = env.run(&["scan", "--format", "jsonl", "mail.har"]);
    run.expect_code(1);
    let mut found: Vec<(String, String, String, String)> = run
        .findings()
        .into_iter()
        .map(|f| {
            let field = f.har.map(|h| h.field).unwrap_or_default();
            (f.rule, f.kind, field, f.fingerprint)
        })
        .collect();
    found.sort();
    let mut want = vec![
        (
            "session-cookie-name".to_string(),
            "session-cookie".to_string(),
            "request.cookies.SAPISID".to_string(),
            sha256_hex(&sapisid),
        ),
        (
            "session-cookie-name".to_string(),
            "session-cookie".to_string(),
            "response.cookies.__Secure-1PSID".to_string(),
            sha256_hex(&psid),
        ),
    ];
    want.sort();
    run.check_eq(found, want, "HAR cookie findings");
}

#[test]
fn issue_14_item_3_har_url_header_and_set_cookie() {
    let mut rng = Rng::new(1431);
    let reset = itsdangerous(&mut rng, r#"{"user_id":77,"purpose":"reset"}"#, false);
    let dumps = django(&mut rng, r#"{"uid":7433,"next":"/welcome"}"#, false);
    let remember = itsdangerous(&mut rng, r#"{"_fresh":false,"_user_id":"77"}"#, true);
    let cursor = b64u(br#"{"user":77,"ts":1715677964}"#);
    let har = json!({"log": {"version": "1.2", "creator": {"name": "Chrome", "version": "125.0"},
    "entries": [{
        "startedDateTime": "2024-05-14T09:12:44.123Z",
        "time": 41.0,
        "request": {
            "method": "GET",
            "url": format!("https://app.acme.io/reset-password/{reset}"),
            "httpVersion": "HTTP/2",
            "headers": [
                {"name": "Referer", "value": format!("https://app.acme.io/accounts/activate/{dumps}/")},
                {"name": "X-Page-Cursor", "value": cursor},
            ],
            "cookies": [], "queryString": [], "headersSize": -1, "bodySize": 0
        },
        "response": {
            "status": 302, "statusText": "Found", "httpVersion": "HTTP/2",
            "headers": [
                {"name": "Set-Cookie", "value": format!("remember_me={remember}; Path=/; HttpOnly; Secure")},
                {"name": "Location", "value": "/login?v=2.14.3"},
            ],
            "cookies": [],
            "content": {"size": 0, "mimeType": "text/html"},
            "redirectURL": "/login?v=2.14.3", "headersSize": -1, "bodySize": 0
        },
        "cache": {}, "timings": {"send": 0, "wait": 40, "receive": 1}
    }]}});
    let env = Env::new();
    env.write("reset.har", serde_json::to_vec_pretty(&har).expect("json"));
    let run = env.run(&["scan", "--format", "jsonl", "reset.har"]);
    run.expect_code(1);
    let mut found: Vec<(String, String, String, String, Option<String>)> = run
        .findings()
        .into_iter()
        .map(|f| {
            let field = f.har.map(|h| h.field).unwrap_or_default();
            (f.rule, f.kind, field, f.fingerprint, f.expires)
        })
        .collect();
    found.sort();
    let row = |rule: &str, kind: &str, field: &str, secret: &str, exp: Option<&str>| {
        (
            rule.to_string(),
            kind.to_string(),
            field.to_string(),
            sha256_hex(secret),
            exp.map(str::to_string),
        )
    };
    let mut want = vec![
        row("signed-token", "bearer-token", "request.url", &reset, None),
        row(
            "signed-token",
            "bearer-token",
            "request.headers.Referer",
            &dumps,
            None,
        ),
        row(
            "signed-cookie",
            "session-cookie",
            "response.headers.Set-Cookie",
            &remember,
            Some(FLASK_EXPIRES),
        ),
    ];
    want.sort();
    run.check_eq(found, want, "HAR signed-token findings");
}
