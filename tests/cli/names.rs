//! Issue 14: a secret is judged by the name it is logged under, in any
//! shape. One test per item of the issue, each a realistic log (traceback
//! locals, env dump, access log, JSON log, `curl -v`, Rails `Parameters:`,
//! HAR) where every secret line sits beside the look-alike that must stay
//! quiet. Secrets are synthetic, generated here.

use serde_json::json;

use crate::tokens;
use crate::util::{sha256_hex, Env, Finding, Layout, Rng, Run, ALNUM, B64, B64URL, HEX};

/// A log written line by line, remembering where each secret went.
struct Log {
    lay: Layout,
    /// (line, column, offset, fingerprint) of each secret, and the rule
    /// that must report it (`None`: the scan may pick any rule).
    want: Vec<(Spot, Option<&'static str>)>,
}

type Spot = (Option<u64>, Option<u64>, Option<u64>, String);

impl Log {
    fn new() -> Log {
        Log {
            lay: Layout::new(),
            want: Vec::new(),
        }
    }

    /// A line that must produce no finding.
    fn quiet(&mut self, line: &str) {
        self.lay.push(format!("{line}\n"));
    }

    /// A line holding `secret`, which `rule` must report where it is.
    #[track_caller]
    fn found(&mut self, rule: Option<&'static str>, line: &str, secret: &str) {
        self.found_many(rule, &[(line, secret)]);
    }

    /// A line made of `parts`, each text holding its secret (in order).
    #[track_caller]
    fn found_many(&mut self, rule: Option<&'static str>, parts: &[(&str, &str)]) {
        let parts: Vec<_> = parts.iter().map(|&(t, s)| (t, s, s)).collect();
        self.found_encoded(rule, &parts);
    }

    /// A line made of `parts`, each text holding its secret encoded (in
    /// order): `(text, encoded, plain)`. The finding is where the encoded
    /// bytes are, and its fingerprint is the plain secret's.
    #[track_caller]
    fn found_encoded(&mut self, rule: Option<&'static str>, parts: &[(&str, &str, &str)]) {
        for (text, encoded, plain) in parts {
            let at = self.lay.push_secret(text, encoded);
            let spot = (
                Some(at.line),
                Some(at.column),
                Some(at.offset),
                sha256_hex(plain),
            );
            self.want.push((spot, rule));
        }
        self.lay.push("\n");
    }

    /// Scans the log as `name` and checks that exactly the secrets were
    /// found, each where it was written and by its rule.
    fn check(self, name: &str) -> Run {
        let env = Env::new();
        env.write(name, &self.lay.bytes);
        let run = env.run(&["scan", "--format", "jsonl", name]);
        let found = run.findings();
        let spot = |f: &Finding| (f.line, f.column, f.offset, f.fingerprint.clone());
        let got: Vec<Spot> = found.iter().map(spot).collect();
        let want: Vec<Spot> = self.want.iter().map(|(s, _)| s.clone()).collect();
        run.check_same(&got, &want, format!("{name}: findings"));
        for (s, rule) in &self.want {
            if let (Some(rule), Some(f)) = (rule, found.iter().find(|f| spot(f) == *s)) {
                run.check_eq(f.rule.as_str(), *rule, format!("rule at line {:?}", s.0));
            }
        }
        run.expect_code(if self.want.is_empty() { 0 } else { 1 });
        run
    }
}

fn hex(rng: &mut Rng, n: usize) -> String {
    rng.string(HEX, n)
}

/// A version-4 UUID.
fn uuid(rng: &mut Rng) -> String {
    let h = hex(rng, 32);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..]
    )
}

/// Item 1: secret-bearing names accept hex of any length and UUIDs;
/// names that say "id", "hash", "etag", "commit", "kid" … keep rejecting.
#[test]
fn issue14_secret_names_accept_any_value_shape() {
    let mut rng = Rng::new(1400 + 1);
    let mut log = Log::new();
    // Flask config in a traceback's locals: SECRET_KEY from secrets.token_hex().
    let flask = hex(&mut rng, 64);
    log.found(
        Some("secret-key-setting"),
        &format!("2024-05-14 09:12:44,101 ERROR app: Exception on /checkout [POST] locals={{'self': <Flask 'shop'>, 'SECRET_KEY': '{flask}', 'request_id': '{}'}}", uuid(&mut rng)),
        &flask,
    );
    // Env dump: `openssl rand -hex 32` and a Datadog key (32 hex).
    let session = hex(&mut rng, 64);
    log.found(
        Some("secret-assignment"),
        &format!("SESSION_SECRET={session}"),
        &session,
    );
    log.quiet(&format!("GIT_COMMIT_SHA={}", hex(&mut rng, 40)));
    let dd = hex(&mut rng, 32);
    log.found(Some("api-key-assignment"), &format!("DD_API_KEY={dd}"), &dd);
    log.quiet(&format!("TRACE_ID={}", hex(&mut rng, 32)));
    // JSON log: an API key issued as a UUID, next to ids of the same shape.
    let api = uuid(&mut rng);
    log.found(
        Some("api-key-assignment"),
        &format!(
            r#"{{"ts":"2024-05-14T09:12:44.065Z","level":"debug","msg":"maps client","apiKey":"{api}","request_id":"{}","span_id":"{}"}}"#,
            uuid(&mut rng),
            hex(&mut rng, 16)
        ),
        &api,
    );
    log.quiet(&format!(
        r#"{{"ts":"2024-05-14T09:12:44.066Z","msg":"key rotated","api_key_id":"{}","key_version":"{}","kid":"{}"}}"#,
        uuid(&mut rng),
        hex(&mut rng, 32),
        hex(&mut rng, 40)
    ));
    // Access log: a 32-hex key in the query string; an ETag and a request id.
    let q = hex(&mut rng, 32);
    log.found(
        Some("api-key-query-param"),
        &format!("203.0.113.88 - - [14/May/2024:09:12:44 +0000] \"GET /1/indexes/products/query?x-algolia-application-id=PLH7D1YJ0K&api_key={q} HTTP/1.1\" 200 3601 \"-\" \"Algolia for JavaScript (4.22.1)\""),
        &q,
    );
    log.quiet(&format!(
        "203.0.113.88 - - [14/May/2024:09:12:45 +0000] \"GET /assets/app.js HTTP/1.1\" 304 0 \"-\" \"Mozilla/5.0\" etag=\"{}\" x_request_id={}",
        hex(&mut rng, 32),
        uuid(&mut rng)
    ));
    // curl -v: Bearer with a UUID token; X-Request-Id beside it.
    let bearer = uuid(&mut rng);
    log.quiet(&format!("> X-Request-Id: {}", uuid(&mut rng)));
    log.found(
        Some("http-bearer-token"),
        &format!("> Authorization: Bearer {bearer}"),
        &bearer,
    );
    // OAuth token response: a 40-hex refresh token; token_type and expiry.
    let refresh = hex(&mut rng, 40);
    log.found(
        None,
        &format!(r#"{{"msg":"token response","body":{{"token_type":"bearer","expires_in":3600,"refresh_token":"{refresh}"}}}}"#),
        &refresh,
    );
    // A password of hex, and a password hash that must stay quiet.
    let pw = hex(&mut rng, 24);
    log.found(
        Some("password-assignment"),
        &format!("DB_PASSWORD={pw}"),
        &pw,
    );
    log.quiet(&format!("password_sha256={}", hex(&mut rng, 64)));
    log.quiet(&format!(
        "2024-05-14 09:12:44 DEBUG forms: csrf_token={} checksum={}",
        uuid(&mut rng),
        hex(&mut rng, 64)
    ));
    // Filler under a secret name is still no secret.
    log.quiet("SECRET_KEY=aaaa1111bbbb2222cccc3333dddd4444");
    log.quiet("X-API-Key: 11111111-2222-3333-4444-555555555555");
    log.check("item1.log");
}

/// Item 2: more key names, in dict reprs, hash rockets, env dumps, export,
/// dotted and kebab config keys.
#[test]
fn issue14_more_key_names() {
    let mut rng = Rng::new(1400 + 2);
    let mut log = Log::new();
    let signing = hex(&mut rng, 64);
    log.found(
        Some("key-assignment"),
        &format!("2024-05-14 09:12:44,101 DEBUG app.settings: SIMPLE_JWT={{'ALGORITHM': 'HS256', 'JWT_SIGNING_KEY': '{signing}', 'USER_ID_FIELD': 'id'}}"),
        &signing,
    );
    log.quiet(&format!(
        "{{'signing_key_id': '{}', 'key_version': 3}}",
        uuid(&mut rng)
    ));
    let laravel = format!("base64:{}=", rng.string(B64, 43));
    log.found(
        Some("key-assignment"),
        &format!("APP_KEY={laravel}"),
        &laravel,
    );
    log.quiet("APP_KEY=");
    let master = hex(&mut rng, 32);
    log.found(
        Some("key-assignment"),
        &format!("export RAILS_MASTER_KEY={master}"),
        &master,
    );
    let enc = rng.string(B64URL, 43);
    log.found(
        Some("key-assignment"),
        &format!("declare -x DATA_ENCRYPTION_KEY=\"{enc}\""),
        &enc,
    );
    let wallet = format!("0x{}", hex(&mut rng, 64));
    log.found(
        Some("key-assignment"),
        &format!("WALLET_PRIVATE_KEY={wallet}"),
        &wallet,
    );
    log.quiet(&format!(
        r#"{{"type":"service_account","private_key_id":"{}","client_email":"svc@proj.iam.gserviceaccount.com"}}"#,
        hex(&mut rng, 40)
    ));
    let hmac = rng.string(B64URL, 32);
    log.found(
        Some("key-assignment"),
        &format!(
            r#"{{"level":"debug","msg":"webhook verifier","hmacKey":"{hmac}","publicKey":"{}"}}"#,
            rng.string(B64URL, 43)
        ),
        &hmac,
    );
    let license = hex(&mut rng, 40);
    log.found(
        Some("key-assignment"),
        &format!("NEW_RELIC_LICENSE_KEY={license}"),
        &license,
    );
    let jwt_secret = hex(&mut rng, 64);
    log.found(
        None,
        &format!("2024-05-14 09:12:44.517 DEBUG o.s.b.c.p.PropertySourcesLoader - jwt.secret={jwt_secret}"),
        &jwt_secret,
    );
    let kebab = uuid(&mut rng);
    log.found(
        None,
        &format!("spring.security.oauth2.client.registration.acme.client-secret: {kebab}"),
        &kebab,
    );
    let rocket = rng.string(ALNUM, 32);
    log.found(
        Some("key-assignment"),
        &format!("I, [2024-05-14T09:12:44.101 #311]  INFO -- : config {{:encryption_key=>\"{rocket}\", :cache_key=>\"v3:{}\"}}", hex(&mut rng, 40)),
        &rocket,
    );
    log.quiet(&format!("cache_key={}", hex(&mut rng, 40)));
    log.check("item2.log");
}

/// Item 5: header and parameter spellings.
#[test]
fn issue14_header_and_parameter_spellings() {
    let mut rng = Rng::new(1400 + 5);
    let mut log = Log::new();
    let upper = rng.string(B64URL, 40);
    log.found(
        Some("http-bearer-token"),
        &format!("> GET /v1/me HTTP/1.1\r\n> Authorization: BEARER {upper}"),
        &upper,
    );
    let tab = rng.string(ALNUM, 36);
    log.found(
        Some("http-bearer-token"),
        &format!("2024-05-14T09:12:44Z proxy: authorization: bearer\t{tab}"),
        &tab,
    );
    let drf = hex(&mut rng, 40);
    log.found(
        Some("http-auth-token-header"),
        &format!("+ curl -sS -H 'Authorization: Token {drf}' https://erp.internal/api/orders/"),
        &drf,
    );
    log.quiet("2024-05-14 09:12:44 WARN auth: Authorization: Token expired for user 4411");
    let gitlab = rng.string(ALNUM, 20);
    log.found(
        None,
        &format!("2024-05-14 09:12:44 DEBUG gitlab: > PRIVATE-TOKEN: {gitlab}"),
        &gitlab,
    );
    log.quiet(&format!("< X-CSRF-Token: {}", hex(&mut rng, 32)));
    // A Rails password change, percent-encoded brackets.
    let (cur, new) = (tokens::password(&mut rng), tokens::password(&mut rng));
    let (cur_e, new_e) = (pct(&cur), pct(&new));
    let confirm = tokens::password(&mut rng);
    let confirm_e = pct(&confirm);
    // Percent-encoded: found where the encoded bytes are, fingerprinted
    // as the password itself.
    log.found_encoded(
        Some("http-password-param"),
        &[
            (
                &format!("203.0.113.146 - - [14/May/2024:09:12:44 +0000] \"PUT /users?utf8=%E2%9C%93&user%5Bcurrent_password%5D={cur_e}"),
                &cur_e,
                &cur,
            ),
            (&format!("&user%5Bpassword%5D={new_e}"), &new_e, &new),
            (
                &format!("&user%5Bpassword_confirmation%5D={confirm_e} HTTP/1.1\" 302 0 \"-\" \"Mozilla/5.0\""),
                &confirm_e,
                &confirm,
            ),
        ],
    );
    let raw = tokens::password(&mut rng);
    let raw_e = pct(&raw);
    // Decoded, a `#` would end the value: then the encoded value is the
    // whole secret found.
    let plain = if raw.contains('#') { &raw_e } else { &raw };
    log.found_encoded(
        Some("http-password-param"),
        &[(
            &format!("2024-05-14 09:12:44 DEBUG form: POST /session body=user[email]=jdoe%40acme.io&user[password]={raw_e}&commit=Log+in"),
            &raw_e,
            plain,
        )],
    );
    log.quiet("body=user%5Bpassword_digest%5D=%242a%2412%24K8wQm2Zr4Lx7Vb9Nc3Tq5u&user%5Bemail%5D=a%40b.io");
    let pass = rng.string(ALNUM, 12);
    log.found(
        Some("http-password-param"),
        &format!("203.0.113.9 - - [14/May/2024:09:12:44 +0000] \"GET /cgi-bin/login.cgi?user=admin&pass={pass} HTTP/1.1\" 200 512 \"-\" \"curl/8.5.0\""),
        &pass,
    );
    let pwd = rng.string(ALNUM, 12);
    log.found(
        Some("http-password-param"),
        &format!("203.0.113.9 - - [14/May/2024:09:12:45 +0000] \"GET /api/auth?uid=ops&pwd={pwd} HTTP/1.1\" 200 91 \"-\" \"Go-http-client/1.1\""),
        &pwd,
    );
    log.quiet("203.0.113.9 - - [14/May/2024:09:12:46 +0000] \"GET /tiles?compass=north&bypass=cache1234 HTTP/1.1\" 200 91 \"-\" \"curl/8.5.0\"");
    // Rails `Parameters:` with hash rockets, unfiltered.
    let (p1, p2) = (tokens::password(&mut rng), tokens::password(&mut rng));
    log.found_many(
        Some("password-assignment"),
        &[
            (
                &format!("I, [2024-05-14T09:12:44.101 #311]  INFO -- :   Parameters: {{\"user\"=>{{\"email\"=>\"jdoe@acme.io\", \"current_password\"=>\"{p1}\""),
                &p1,
            ),
            (&format!(", \"password\"=>\"{p2}\", \"password_digest\"=>\"$2a$12$K8wQm2Zr4Lx7Vb9Nc3Tq5u\"}}}}"), &p2),
        ],
    );
    log.check("item5.log");
}

/// Item 7: vendors' documented sample credentials are no finding, while a
/// synthetic credential of the same family beside each one is.
#[test]
fn issue14_documented_credentials_are_not_findings() {
    let mut rng = Rng::new(1400 + 7);
    let mut log = Log::new();
    // jwt.io's default token (also with another signature), and a real-looking JWT.
    let jwt_io = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    log.quiet(&format!("> Authorization: Bearer {jwt_io}"));
    log.quiet(&format!(
        r#"{{"msg":"login","id_token":"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiYWRtaW4iOnRydWUsImlhdCI6MTUxNjIzOTAyMn0.{}"}}"#,
        rng.string(B64URL, 86)
    ));
    let jwt = tokens::jwt(&mut rng);
    log.found(None, &format!("> Authorization: Bearer {jwt}"), &jwt);
    // Stripe's docs test key in a copied curl command; a synthetic one.
    log.quiet("+ curl https://api.stripe.com/v1/charges -u sk_test_4eC39HqLyjWDarjtT1zdp7dc: -d amount=2000");
    log.quiet("+ curl https://api.stripe.com/v1/customers -u sk_test_BQokikJOvBiI2HlWgH4olfQ2:");
    let stripe = format!("sk_test_{}", rng.string(ALNUM, 24));
    log.found(
        Some("stripe-test-key"),
        &format!("+ curl https://api.stripe.com/v1/charges -u {stripe}: -d amount=2000"),
        &stripe,
    );
    // AWS's documented pair; a synthetic key id.
    log.quiet("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE");
    log.quiet("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    let akia = tokens::aws_key_id(&mut rng);
    log.found(
        Some("aws-access-key-id"),
        &format!("AWS_ACCESS_KEY_ID={akia}"),
        &akia,
    );
    // GitHub's docs OAuth token in a token response; a synthetic one.
    log.quiet(r#"{"msg":"oauth callback","body":{"access_token":"gho_16C7e42F292c6912E7710c838347Ae178B4a","scope":"repo,gist","token_type":"bearer"}}"#);
    log.quiet(r#"{"msg":"installation token","token":"ghs_16C7e42F292c6912E7710c838347Ae178B4a","expires_at":"2016-07-11T22:14:10Z"}"#);
    let gho = tokens::github_classic(&mut rng, "gho");
    log.found(
        None,
        &format!(r#"{{"msg":"oauth callback","body":{{"access_token":"{gho}","scope":"repo,gist","token_type":"bearer"}}}}"#),
        &gho,
    );
    // Slack's and Google's documentation examples; a synthetic Slack token.
    log.quiet(r#"{"ok":true,"access_token":"xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy","token_type":"bot"}"#);
    log.quiet("203.0.113.5 - - [14/May/2024:09:12:44 +0000] \"GET /maps/api/geocode/json?address=Lisbon&key=AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe HTTP/1.1\" 200 811 \"-\" \"curl/8.5.0\"");
    let slack = tokens::slack_bot(&mut rng);
    log.found(
        Some("slack-bot-token"),
        &format!(r#"{{"ok":true,"access_token":"{slack}","token_type":"bot"}}"#),
        &slack,
    );
    log.check("item7.log");
}

/// Item 8: code assigning to a secret-named field is no finding: minified
/// JavaScript in a HAR response body, a settings reference in a traceback.
#[test]
fn issue14_code_is_not_a_value() {
    let mut rng = Rng::new(1400 + 8);
    let key = uuid(&mut rng);
    let js = concat!(
        "!function(e){var t={password:function(a){return a.replace(/./g,'*')},",
        "parse:function(r){this.username=r[3]||n,this.password=r[4]||n;",
        "url.password = x[1] || '';return this}};",
        "function i(e,o){e.apiKey=o.apiKey,e.authToken=o.authToken||null,",
        "e.clientSecret=o.clientSecret,e.signingKey=t.options.signingKey;",
        "e.secret=o.credentials.secret;return e}}(window);"
    );
    let har = json!({"log": {
        "version": "1.2",
        "creator": {"name": "Firefox", "version": "126.0"},
        "entries": [{
            "startedDateTime": "2024-05-14T09:12:44.123Z",
            "time": 12.5,
            "request": {
                "method": "GET",
                "url": "https://app.acme.io/static/js/main.4f1c2a9e.js",
                "httpVersion": "HTTP/2",
                "headers": [
                    {"name": "X-Api-Key", "value": key},
                    {"name": "X-Request-Id", "value": uuid(&mut rng)},
                ],
                "cookies": [],
                "queryString": [],
                "headersSize": -1,
                "bodySize": 0,
            },
            "response": {
                "status": 200,
                "headers": [{"name": "ETag", "value": format!("\"{}\"", hex(&mut rng, 32))}],
                "cookies": [],
                "content": {"size": js.len(), "mimeType": "application/javascript", "text": js},
                "redirectURL": "",
            },
        }],
    }});
    let env = Env::new();
    env.write(
        "bundle.har",
        serde_json::to_string_pretty(&har).expect("json"),
    );
    // The same code as a plain text log line, and a traceback whose
    // settings reference a secret by name, beside a real SECRET_KEY.
    let real = hex(&mut rng, 64);
    env.write(
        "app.log",
        format!(
            "{js}\n\
             2024-05-14 09:12:44,101 DEBUG settings: SIMPLE_JWT={{'SIGNING_KEY': settings.SECRET_KEY, 'ALGORITHM': 'HS256'}}\n\
             2024-05-14 09:12:44,102 DEBUG settings: {{'SECRET_KEY': '{real}', 'DEBUG': False}}\n"
        ),
    );
    let run = env.run(&["scan", "--format", "jsonl", "bundle.har", "app.log"]);
    let found: Vec<(String, String, String)> = run
        .findings()
        .iter()
        .map(|f| (f.path.clone(), f.rule.clone(), f.fingerprint.clone()))
        .collect();
    let want = vec![
        (
            "bundle.har".to_string(),
            "http-api-key-header".to_string(),
            sha256_hex(&key),
        ),
        (
            "app.log".to_string(),
            "secret-key-setting".to_string(),
            sha256_hex(&real),
        ),
    ];
    run.check_same(&found, &want, "only the real secrets, no code");
    run.expect_code(1);
}

/// Percent-encodes everything outside RFC 3986's unreserved set.
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
