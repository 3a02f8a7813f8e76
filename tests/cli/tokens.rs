//! Synthetic secrets: every token is generated from a seeded PRNG in the
//! shape its issuer documents (see /work/shared/TOKENS.md), with a valid
//! checksum or structure where the family has one, and never copied from a
//! real credential. [`catalogue`] puts each family in the log line where it
//! typically leaks, together with the rule id expected to report it.

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;

use crate::util::{Rng, ALNUM, B64, B64URL, DIGITS, HEX, LOWER_ALNUM, UPPER_B32};

/// 2024-05-01T12:00:00Z: the "now" of synthetic cookies.
pub const ISSUED: u64 = 1_714_564_800;
/// 2030-01-01T00:00:00Z: the `exp` of synthetic JWTs.
pub const JWT_EXP: u64 = 1_893_456_000;
pub const JWT_EXP_RFC3339: &str = "2030-01-01T00:00:00Z";

/// CRC-32 of the 30 random characters in base62 (`0-9A-Za-z`), left-padded
/// with `0` to 6: the classic GitHub / npm token checksum, computed here
/// independently of the product (TOKENS.md "GitHub (and npm) token checksum").
pub fn crc32_base62(random30: &[u8]) -> String {
    let mut n = crc32fast::hash(random30);
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = ALNUM[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out.to_vec()).expect("ascii")
}

/// `ghp_` / `gho_` / `npm_` … + 30 random base62 + valid 6-char checksum.
pub fn github_classic(rng: &mut Rng, prefix: &str) -> String {
    let random = rng.string(ALNUM, 30);
    let check = leaksweep::validate::checksum::github_checksum(random.as_bytes());
    format!("{prefix}_{random}{check}")
}

pub fn github_fine_grained(rng: &mut Rng) -> String {
    format!(
        "github_pat_{}_{}",
        rng.string(ALNUM, 22),
        rng.string(ALNUM, 59)
    )
}

pub fn aws_key_id(rng: &mut Rng) -> String {
    format!("AKIA{}", rng.string(UPPER_B32, 16))
}

pub fn aws_secret_key(rng: &mut Rng) -> String {
    rng.string(B64, 40)
}

pub fn slack_bot(rng: &mut Rng) -> String {
    format!(
        "xoxb-{}-{}-{}",
        rng.string(DIGITS, 12),
        rng.string(DIGITS, 13),
        rng.string(ALNUM, 24)
    )
}

pub fn slack_webhook(rng: &mut Rng) -> String {
    let upper: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    format!(
        "https://hooks.slack.com/services/T{}/B{}/{}",
        rng.string(upper, 10),
        rng.string(upper, 10),
        rng.string(ALNUM, 24)
    )
}

pub fn stripe_secret(rng: &mut Rng) -> String {
    format!("sk_live_{}", rng.string(ALNUM, 99))
}

pub fn google_api_key(rng: &mut Rng) -> String {
    let set: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-";
    format!("AIza{}", rng.string(set, 35))
}

pub fn openai_project(rng: &mut Rng) -> String {
    let set: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-";
    format!(
        "sk-proj-{}T3BlbkFJ{}",
        rng.string(set, 74),
        rng.string(set, 74)
    )
}

pub fn anthropic(rng: &mut Rng) -> String {
    let set: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-";
    // The body must not itself end in 'A': the fixed suffix is "AA".
    let mut body = rng.string(set, 93);
    if body.ends_with('A') {
        body.pop();
        body.push('x');
    }
    format!("sk-ant-api03-{body}AA")
}

pub fn sendgrid(rng: &mut Rng) -> String {
    format!("SG.{}.{}", rng.string(B64URL, 22), rng.string(B64URL, 43))
}

/// A JWS (HS256) whose claims carry `exp` = [`JWT_EXP`].
pub fn jwt(rng: &mut Rng) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = format!(
        r#"{{"sub":"user-{}","iat":{ISSUED},"exp":{JWT_EXP}}}"#,
        rng.string(LOWER_ALNUM, 10)
    );
    let payload = URL_SAFE_NO_PAD.encode(claims);
    let sig = URL_SAFE_NO_PAD.encode(rng.bytes(32));
    format!("{header}.{payload}.{sig}")
}

/// A password with letters, digits and punctuation, never a word.
pub fn password(rng: &mut Rng) -> String {
    let set: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%^*+=";
    format!(
        "{}{}{}",
        rng.string(set, 9),
        rng.string(DIGITS, 3),
        rng.string(set, 6)
    )
}

/// A password safe inside a URL's userinfo (no reserved characters).
pub fn url_password(rng: &mut Rng) -> String {
    let set: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-._~";
    let mut p = rng.string(set, 18);
    p.insert(5, '7');
    p
}

pub fn basic_auth(rng: &mut Rng) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("svc-deploy:{}", password(rng)))
}

/// An itsdangerous `URLSafeTimedSerializer` value as Flask writes its
/// `session` cookie: base64url JSON, base64url big-endian timestamp, and a
/// 27-char HMAC-SHA1 signature.
pub fn flask_session(rng: &mut Rng) -> String {
    let payload = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"_fresh":true,"_id":"{}","user_id":"42"}}"#,
        rng.string(HEX, 32)
    ));
    let ts = URL_SAFE_NO_PAD.encode((ISSUED as u32).to_be_bytes());
    let sig = URL_SAFE_NO_PAD.encode(rng.bytes(20));
    format!("{payload}.{ts}.{sig}")
}

/// A Django `signing.dumps` value: base64url JSON, base62 timestamp,
/// 43-char HMAC-SHA256 signature.
pub fn django_signed(rng: &mut Rng) -> String {
    let payload = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"_auth_user_id":"42","cart":"{}"}}"#,
        rng.string(LOWER_ALNUM, 12)
    ));
    let mut ts = String::new();
    let mut n = ISSUED;
    while n > 0 {
        ts.insert(0, char::from(ALNUM[(n % 62) as usize]));
        n /= 62;
    }
    let sig = URL_SAFE_NO_PAD.encode(rng.bytes(32));
    format!("{payload}:{ts}:{sig}")
}

/// An express-session `connect.sid` value as it appears in a Cookie
/// header: percent-encoded `s:<sid>.<43-char base64 HMAC-SHA256>`.
pub fn express_sid(rng: &mut Rng) -> String {
    let sid = URL_SAFE_NO_PAD.encode(rng.bytes(24));
    let sig = STANDARD_NO_PAD.encode(rng.bytes(32));
    format!("s%3A{sid}.{}", sig.replace('+', "%2B").replace('/', "%2F"))
}

/// A PEM private-key block with a random DER-shaped body, lines joined by
/// `nl` (a real newline, or the two characters `\n` of a JSON string).
pub fn pem(rng: &mut Rng, label: &str, nl: &str) -> String {
    let mut der = vec![
        0x30, 0x82, 0x04, 0xa4, 0x02, 0x01, 0x00, 0x02, 0x82, 0x01, 0x01,
    ];
    der.extend(rng.bytes(1180));
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----{nl}");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("ascii"));
        out.push_str(nl);
    }
    out.push_str(&format!("-----END {label}-----"));
    out
}

/// One token family in the log line where it typically leaks.
#[derive(Clone, Debug)]
pub struct Case {
    /// Name of the family (and of its test).
    pub family: &'static str,
    /// The rule id expected to report it.
    pub rule: &'static str,
    /// One or more whole lines, each ending in `\n`.
    pub text: String,
    /// The raw secret as the rule captures it (first occurrence in `text`).
    pub secret: String,
    /// The token's public prefix as its issuer documents it (`ghp_`,
    /// `sk_live_`), which the masked secret should keep; "" for none.
    pub prefix: &'static str,
    /// The `kind` expected.
    pub kind: &'static str,
    /// Token-stated expiry expected in `expires`.
    pub expires: Option<&'static str>,
}

fn case(
    family: &'static str,
    rule: &'static str,
    prefix: &'static str,
    secret: String,
    text: String,
) -> Case {
    Case {
        family,
        rule,
        text,
        secret,
        prefix,
        kind: kind_of(family),
        expires: None,
    }
}

/// The `kind` each family is reported with.
fn kind_of(family: &str) -> &'static str {
    match family {
        "jwt_in_authorization_bearer" => "jwt",
        "basic_auth" => "basic-auth",
        "url_credentials" => "url-credential",
        // The rule authors file database URLs under `password`.
        "postgres_connection_string" | "env_db_password" => "password",
        "access_token_in_query" => "bearer-token",
        "pem_private_key_multiline" | "pem_private_key_escaped_newlines" => "private-key",
        "flask_session_cookie" | "django_signed_cookie" | "express_connect_sid" => "session-cookie",
        _ => "api-key",
    }
}

const NGINX_HEAD: &str = r#"203.0.113.9 - - [01/May/2024:12:00:00 +0000] "#;

/// Every family, each in its own line(s), from one seed.
pub fn catalogue(seed: u64) -> Vec<Case> {
    let r = &mut Rng::new(seed);
    let mut v = Vec::new();

    let t = github_classic(r, "ghp");
    v.push(case(
        "github_pat_classic",
        "github-pat-classic",
        "ghp_",
        t.clone(),
        format!("{NGINX_HEAD}\"GET /api/repos?token={t} HTTP/1.1\" 200 512 \"-\" \"curl/8.5.0\"\n"),
    ));
    let t = github_fine_grained(r);
    v.push(case(
        "github_pat_fine_grained",
        "github-fine-grained-pat",
        "github_pat_",
        t.clone(),
        format!("2024-05-01T12:00:01Z INFO git clone https://x-access-token@github.com/org/repo (GH_TOKEN={t})\n"),
    ));
    let t = aws_key_id(r);
    v.push(case(
        "aws_access_key_id",
        "aws-access-key-id",
        "AKIA",
        t.clone(),
        format!("{{\"ts\":\"2024-05-01T12:00:02Z\",\"level\":\"debug\",\"msg\":\"signing request\",\"credential\":\"{t}/20240501/us-east-1/s3/aws4_request\"}}\n"),
    ));
    let t = slack_bot(r);
    v.push(case(
        "slack_bot_token",
        "slack-bot-token",
        "xoxb-",
        t.clone(),
        format!(
            "2024-05-01 12:00:03,120 WARNING slack_sdk: retrying chat.postMessage with token {t}\n"
        ),
    ));
    let t = slack_webhook(r);
    v.push(case(
        "slack_webhook",
        "slack-webhook-url",
        "",
        t.clone(),
        format!("2024-05-01 12:00:04 alertmanager: POST {t} -> 200\n"),
    ));
    let t = stripe_secret(r);
    v.push(case(
        "stripe_secret_key",
        "stripe-secret-key",
        "sk_live_",
        t.clone(),
        format!("{{\"level\":\"error\",\"msg\":\"stripe call failed\",\"api_key\":\"{t}\",\"status\":401}}\n"),
    ));
    let t = google_api_key(r);
    v.push(case(
        "google_api_key",
        "google-api-key",
        "AIza",
        t.clone(),
        format!("{NGINX_HEAD}\"GET /maps/api/geocode/json?address=Berlin&key={t} HTTP/1.1\" 200 1024 \"-\" \"okhttp/4.12\"\n"),
    ));
    let t = openai_project(r);
    v.push(case(
        "openai_api_key",
        "openai-project-key",
        "sk-proj-",
        t.clone(),
        format!("2024-05-01T12:00:05Z DEBUG httpx: Authorization: Bearer {t}\n"),
    ));
    let t = anthropic(r);
    v.push(case(
        "anthropic_api_key",
        "anthropic-api-key",
        "sk-ant-api03-",
        t.clone(),
        format!("2024-05-01T12:00:06Z DEBUG request headers: x-api-key: {t}\n"),
    ));
    let t = sendgrid(r);
    v.push(case(
        "sendgrid_api_key",
        "sendgrid-api-key",
        "SG.",
        t.clone(),
        format!("SENDGRID_API_KEY={t}\n"),
    ));
    let t = github_classic(r, "npm");
    v.push(case(
        "npm_token",
        "npm-access-token",
        "npm_",
        t.clone(),
        format!("2024-05-01T12:00:07Z npm http fetch GET 200 https://registry.npmjs.org/left-pad //registry.npmjs.org/:_authToken={t}\n"),
    ));
    let t = jwt(r);
    // `eyJhbGci` (base64 of `{"alg":`) starts most JWTs: public header
    // structure, not secret.
    let mut c = case(
        "jwt_in_authorization_bearer",
        "jwt",
        "eyJhbGci",
        t.clone(),
        format!("2024-05-01T12:00:08Z request GET /v1/me headers={{\"Authorization\": \"Bearer {t}\"}}\n"),
    );
    c.expires = Some(JWT_EXP_RFC3339);
    v.push(c);
    let t = basic_auth(r);
    v.push(case(
        "basic_auth",
        "http-basic-auth",
        "",
        t.clone(),
        format!("GET /admin HTTP/1.1\r\nHost: intranet.corp\r\nAuthorization: Basic {t}\r\n"),
    ));
    let p = url_password(r);
    v.push(case(
        "url_credentials",
        "url-credentials",
        "",
        p.clone(),
        format!("2024-05-01T12:00:09Z git fetch https://deploy:{p}@git.corp.internal/platform/api.git failed\n"),
    ));
    let p = url_password(r);
    v.push(case(
        "postgres_connection_string",
        "database-connection-string",
        "",
        p.clone(),
        format!("2024-05-01T12:00:10Z FATAL could not connect: postgresql://app_rw:{p}@db-primary.corp.internal:5432/orders?sslmode=require\n"),
    ));
    let t = r.string(B64URL, 43);
    v.push(case(
        "access_token_in_query",
        "oauth-token",
        "",
        t.clone(),
        format!("{NGINX_HEAD}\"GET /oauth/callback?state=af0ifjsldkj&access_token={t}&token_type=bearer HTTP/1.1\" 302 0 \"-\" \"Mozilla/5.0\"\n"),
    ));
    let t = pem(r, "RSA PRIVATE KEY", "\n");
    v.push(case(
        "pem_private_key_multiline",
        "private-key-pem",
        "",
        t.clone(),
        format!("2024-05-01T12:00:11Z ERROR tls: failed to load key file, contents follow:\n{t}\n"),
    ));
    let t = pem(r, "PRIVATE KEY", "\\n");
    v.push(case(
        "pem_private_key_escaped_newlines",
        "private-key-pem-escaped",
        "",
        t.clone(),
        format!("{{\"level\":\"error\",\"msg\":\"bad service account\",\"private_key\":\"{t}\\n\",\"client_email\":\"ci@proj.iam.gserviceaccount.com\"}}\n"),
    ));
    let t = flask_session(r);
    v.push(case(
        "flask_session_cookie",
        "flask-session-cookie",
        "",
        t.clone(),
        format!("2024-05-01T12:00:12Z werkzeug: GET /dashboard Cookie: session={t}; theme=dark\n"),
    ));
    let t = django_signed(r);
    v.push(case(
        "django_signed_cookie",
        "django-signed-session-cookie",
        "",
        t.clone(),
        format!("2024-05-01T12:00:13Z django.request: GET /account/ Cookie: csrftoken=Zx9Kq2Lm; sessionid={t}\n"),
    ));
    let t = express_sid(r);
    v.push(case(
        "express_connect_sid",
        "express-session-cookie",
        "",
        t.clone(),
        format!("2024-05-01T12:00:14Z express: GET /cart cookie=\"connect.sid={t}; Path=/; HttpOnly\"\n"),
    ));
    let t = aws_secret_key(r);
    v.push(case(
        "env_aws_secret_access_key",
        "aws-secret-access-key",
        "",
        t.clone(),
        format!("AWS_SECRET_ACCESS_KEY={t}\n"),
    ));
    let p = password(r);
    v.push(case(
        "env_db_password",
        "password-assignment",
        "",
        p.clone(),
        format!("DB_PASSWORD={p}\n"),
    ));
    v
}

/// The case of one family.
#[track_caller]
pub fn family(seed: u64, name: &str) -> Case {
    catalogue(seed)
        .into_iter()
        .find(|c| c.family == name)
        .unwrap_or_else(|| panic!("no such family in the catalogue: {name}"))
}
