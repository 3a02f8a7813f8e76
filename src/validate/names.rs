//! The name a value is logged under decides whether it is a secret; the
//! value's shape only breaks ties. `SECRET_KEY = '<64 hex>'` is what
//! `secrets.token_hex()` gives Flask users, `X-API-Key: <uuid>` is how many
//! vendors issue keys, while `request_id=<uuid>` and `commit_sha=<40 hex>`
//! are ids. Generic context rules hand the whole regex match here; the name
//! is the identifier written just before the value.
//!
//! Every name class lives in the tables below, in one place:
//!
//! * **secret-bearing** ([`NameClass::Secret`]): a word `secret`,
//!   `password` / `passwd` / `pwd` / `pass` / `passphrase`; `token` with a
//!   qualifier (`access_token`, `X-Auth-Token`, `PRIVATE-TOKEN`) or as an
//!   `Authorization` scheme (`Token <value>`, DRF); `bearer`; `key` after
//!   a qualifier that makes it a credential ([`KEY_QUALIFIERS`]: `api`,
//!   `signing`, `encryption`, `master`, `private`, `hmac`, `license`, `app`,
//!   …). These accept any value shape that is not a placeholder, code or
//!   low-randomness filler: hex of any length, UUIDs, base64, base64url.
//! * **not a secret** ([`NameClass::NotSecret`]): the last word says what
//!   the value is instead ([`NOT_SECRET_LAST`]: `id`, `version`, `type`,
//!   `expires_at` …), a word says it is derived ([`NOT_SECRET_WORDS`]:
//!   `hash`, `sha*`, `digest`, `checksum`, `fingerprint`, `etag`,
//!   `commit`, `kid`), or the qualifier of `token` / `key` says it is no
//!   credential ([`TOKEN_NOT_SECRET`]: `page`, `next`, `device`, `client`
//!   …; [`ANTI_FORGERY`] anywhere before `token`: `csrf`, `authenticity`,
//!   `request` …; [`KEY_NOT_SECRET`]: `public`, `cache`, `idempotency` …).
//!   The value is not reported.
//! * everything else is **neutral** ([`NameClass::Neutral`]): a bare
//!   `token=`, `sessionid=`, a key id next to an AWS key. The value's
//!   shape decides, as before: UUIDs and hex digests are ids. Session
//!   cookie names (`session`, `PHPSESSID`, `SessionId`) are left neutral
//!   here on purpose: the cookie rules in `patterns/sessions.toml` judge
//!   them by cookie name.

use super::placeholder::find;

/// What a name says about the value logged under it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameClass {
    /// The name says the value is a credential: any random shape counts.
    Secret,
    /// The name says the value is an id, a digest or another non-secret.
    NotSecret,
    /// The name does not say; the value's shape decides.
    Neutral,
}

/// Words that make a name secret-bearing wherever they stand.
const SECRET_WORDS: &[&str] = &[
    "secret",
    "password",
    "passwd",
    "passwort",
    "pwd",
    "pass",
    "passphrase",
    "bearer",
];

/// Words written inside longer lowercase words (`pgpassword`,
/// `clientsecret`, `csrftoken`): split out before classifying.
const STEMS: &[&str] = &["password", "passwd", "secret", "token"];

/// Qualifiers that make `key` a credential: `API_KEY`, `signingKey`,
/// `ENCRYPTION_KEY`, `LICENSE_KEY`, Laravel's `APP_KEY` …
const KEY_QUALIFIERS: &[&str] = &[
    "api",
    "secret",
    "signing",
    "sign",
    "encryption",
    "encrypt",
    "decryption",
    "crypto",
    "cipher",
    "aes",
    "master",
    "private",
    "priv",
    "hmac",
    "mac",
    "license",
    "licence",
    "app",
    "access",
    "auth",
    "jwt",
    "jws",
    "webhook",
    "client",
    "shared",
    "subscription",
    "account",
    "storage",
    "admin",
    "root",
    "ingest",
    "write",
    "otp",
    "totp",
];

/// Qualifiers that make `key` a non-secret: `public_key`, `cache_key` …
const KEY_NOT_SECRET: &[&str] = &[
    "public",
    "publishable",
    "pub",
    "cache",
    "idempotency",
    "partition",
    "sort",
    "routing",
    "primary",
    "foreign",
    "object",
    "lookup",
    "dedup",
    "dedupe",
];

/// Qualifiers that make `token` a non-secret: anti-forgery tokens,
/// pagination and change-feed cursors (Google's `pageToken` /
/// `syncToken`, AWS's `NextToken`, Graph's `deltaToken` / `$skiptoken`,
/// MongoDB's `resumeToken`), idempotency tokens (AWS `ClientToken`, in
/// every CloudTrail record that creates something), OAuth 1 request
/// tokens, push-notification device tokens, captcha responses.
const TOKEN_NOT_SECRET: &[&str] = &[
    "csrf",
    "xsrf",
    "page",
    "next",
    "continuation",
    "cursor",
    "pagination",
    "paging",
    "sync",
    "delta",
    "skip",
    "resume",
    "change",
    "client",
    "idempotency",
    "request",
    "device",
    "push",
    "fcm",
    "apns",
    "registration",
    "captcha",
    "recaptcha",
    "hcaptcha",
    "cancellation",
    "lock",
];

/// Words that, anywhere before `token`, make it an anti-forgery (CSRF)
/// token, which every form post logs and which grants nothing alone.
const ANTI_FORGERY: &[&str] = &["csrf", "xsrf", "authenticity", "antiforgery", "request"];

/// A last word that says what the value is instead of a secret:
/// `api_key_id`, `key_version`, `token_type`, `secret_name`,
/// `password_changed_at`, `access_token_expires_in` …
const NOT_SECRET_LAST: &[&str] = &[
    "id",
    "ids",
    "uuid",
    "guid",
    "kid",
    "version",
    "ver",
    "type",
    "kind",
    "name",
    "names",
    "label",
    "url",
    "uri",
    "endpoint",
    "path",
    "file",
    "filename",
    "dir",
    "arn",
    "ref",
    "expires",
    "expiry",
    "expiration",
    "exp",
    "at",
    "in",
    "ttl",
    "age",
    "length",
    "len",
    "size",
    "count",
    "header",
    "prefix",
    "format",
    "policy",
    "algorithm",
    "alg",
    "scope",
    "scopes",
    "mode",
    "enabled",
    "required",
    "status",
    "field",
    "param",
    "strength",
];

/// Words that say the value is derived from a secret, or an id: a name
/// holding one is not a secret whatever else it says (`password_hash`,
/// `hashed_password`, `token_sha256`, `secret_digest`, `commit_sha`).
/// Prefix matches: `hash*` and `sha*` cover `hashed`, `sha256`, `shasum`.
const NOT_SECRET_WORDS: &[&str] = &[
    "md5",
    "digest",
    "checksum",
    "fingerprint",
    "etag",
    "commit",
    "kid",
    "nonce",
];

/// The shell's own working-directory variables, which `env` dumps list.
const SHELL_CWD: &[&[u8]] = &[b"PWD", b"OLDPWD"];

/// The name in a match and how it introduces the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Name<'a> {
    pub text: &'a [u8],
    /// Written as an `Authorization` scheme (`Bearer <v>`, `Token <v>`):
    /// separated from the value by blanks only.
    pub scheme: bool,
}

/// Classifies the name `whole` gives `secret` (see the module docs).
/// A secret that cannot be placed in `whole` is judged by shape alone.
pub fn class_of(whole: &[u8], secret: &[u8]) -> NameClass {
    match name_of(whole, secret) {
        Some(n) => classify(n),
        None => NameClass::Neutral,
    }
}

/// The identifier written just before `secret` in `whole`, past quotes,
/// a Python string prefix, blanks and one `=` / `:` / `=>` separator.
pub fn name_of<'a>(whole: &'a [u8], secret: &[u8]) -> Option<Name<'a>> {
    let at = offset_in(whole, secret)?;
    let mut head = &whole[..at];
    let quoted = strip_end(&mut head, |b| matches!(b, b'"' | b'\'' | b'\\' | b'`'));
    if quoted {
        // b'…', r"…", u'…' in Python reprs.
        if let [.., before, p] = head {
            if b"bruBRU".contains(p) && b" \t=:>(".contains(before) {
                head = &head[..head.len() - 1];
            }
        }
    }
    let blank = strip_end(&mut head, |b| b == b' ' || b == b'\t');
    let sep = if head.ends_with(b"=>") {
        head = &head[..head.len() - 2];
        true
    } else if head.ends_with(b"=") || head.ends_with(b":") {
        head = &head[..head.len() - 1];
        true
    } else {
        false
    };
    if sep {
        strip_end(&mut head, |b| {
            matches!(b, b'"' | b'\'' | b'\\' | b'`' | b' ' | b'\t')
        });
    }
    let start = head
        .iter()
        .rposition(|b| !is_name_byte(*b))
        .map_or(0, |i| i + 1);
    let text = &head[start..];
    (!text.is_empty()).then_some(Name {
        text,
        scheme: !sep && blank,
    })
}

/// Classifies one name (see the module docs for the classes).
pub fn classify(name: Name) -> NameClass {
    if SHELL_CWD.contains(&name.text) {
        return NameClass::NotSecret;
    }
    let w = words(name.text);
    let Some(last) = w.last() else {
        return NameClass::Neutral;
    };
    if NOT_SECRET_LAST.contains(&last.as_str()) {
        // `session_id`, `SessionId`, Vault's `secret_id` are secrets or
        // ids by deployment: their shape decides.
        let prev = w.len().checked_sub(2).map(|i| w[i].as_str());
        if matches!(last.as_str(), "id" | "ids") && matches!(prev, Some("session" | "secret")) {
            return NameClass::Neutral;
        }
        return NameClass::NotSecret;
    }
    let derived = |x: &String| {
        x.starts_with("hash")
            || x.starts_with("sha")
            || x.ends_with("hash")
            || NOT_SECRET_WORDS.contains(&x.as_str())
    };
    if w.iter().any(derived) {
        return NameClass::NotSecret;
    }
    // Search-only keys (Algolia's `searchOnlyApiKey`) are made for browsers.
    if w.windows(2).any(|p| p[0] == "search" && p[1] == "only") {
        return NameClass::NotSecret;
    }
    for i in (0..w.len()).rev() {
        let word = w[i].as_str();
        let prev = i.checked_sub(1).map(|j| w[j].as_str());
        if SECRET_WORDS.contains(&word) {
            return NameClass::Secret;
        }
        // An anti-forgery token is one whatever stands between
        // (`csrf_access_token`, Flask-JWT-Extended's double-submit cookie;
        // ASP.NET's `__RequestVerificationToken`; Django's
        // `csrfmiddlewaretoken`; Rails' `authenticity_token`).
        let anti_forgery = || {
            w[..i]
                .iter()
                .any(|x| ANTI_FORGERY.iter().any(|a| x.starts_with(a)))
        };
        match (word, prev) {
            ("token", Some(p)) if TOKEN_NOT_SECRET.contains(&p) || anti_forgery() => {
                return NameClass::NotSecret
            }
            ("token", Some(_)) => return NameClass::Secret,
            ("token", None) if name.scheme => return NameClass::Secret,
            ("key", Some(p)) if KEY_QUALIFIERS.contains(&p) => return NameClass::Secret,
            ("key", Some(p)) if KEY_NOT_SECRET.contains(&p) => return NameClass::NotSecret,
            _ => {}
        }
    }
    NameClass::Neutral
}

/// The name split into lowercase words: at any byte but letters and
/// digits (`%5B` / `%5D` count as brackets), at camelCase humps, and
/// around [`STEMS`] and qualified `key`s run into one lowercase word.
pub fn words(name: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut i = 0;
    while i < name.len() {
        let b = name[i];
        let pct_bracket = b == b'%'
            && name.get(i + 1) == Some(&b'5')
            && matches!(name.get(i + 2), Some(b'B' | b'b' | b'D' | b'd'));
        if pct_bracket || !b.is_ascii_alphanumeric() {
            flush(&mut cur, &mut out);
            i += if pct_bracket { 3 } else { 1 };
            continue;
        }
        let prev = i.checked_sub(1).map(|j| name[j]);
        let next = name.get(i + 1).copied();
        let hump = b.is_ascii_uppercase()
            && prev.is_some_and(|p| {
                p.is_ascii_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
            });
        if hump {
            flush(&mut cur, &mut out);
        }
        cur.push(b.to_ascii_lowercase() as char);
        i += 1;
    }
    flush(&mut cur, &mut out);
    out
}

/// Ends the current word, splitting run-together stems out of it.
fn flush(cur: &mut String, out: &mut Vec<String>) {
    if cur.is_empty() {
        return;
    }
    let word = std::mem::take(cur);
    let stem = STEMS
        .iter()
        .find_map(|s| find(word.as_bytes(), s.as_bytes()).map(|at| (at, s.len())));
    if let Some((at, len)) = stem.filter(|_| !STEMS.contains(&word.as_str())) {
        for part in [&word[..at], &word[at..at + len], &word[at + len..]] {
            if !part.is_empty() {
                out.push(part.to_string());
            }
        }
        return;
    }
    if let Some(q) = word
        .strip_suffix("key")
        .filter(|q| KEY_QUALIFIERS.contains(q) || KEY_NOT_SECRET.contains(q))
    {
        out.push(q.to_string());
        out.push("key".to_string());
        return;
    }
    if let Some(q) = word.strip_suffix("pwd").filter(|q| !q.is_empty()) {
        out.push(q.to_string());
        out.push("pwd".to_string());
        return;
    }
    out.push(word);
}

/// Where the identifier that holds `hay[at]` starts, looking back at
/// most [`NAME_REACH`] bytes: the name a match starting inside an
/// identifier (`access_token` of `csrf_access_token`) is judged by. A
/// pattern that spelt the head out (`[A-Za-z0-9_.-]{0,40}access_token`)
/// cost its regex several times over in every window it searched.
pub fn name_start(hay: &[u8], at: usize) -> usize {
    if !hay.get(at).is_some_and(|&b| is_name_byte(b)) {
        return at;
    }
    let low = at.saturating_sub(NAME_REACH);
    hay[low..at]
        .iter()
        .rposition(|&b| !is_name_byte(b))
        .map_or(low, |i| low + i + 1)
}

/// Longest identifier head [`name_start`] takes back.
const NAME_REACH: usize = 64;

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']' | b'%')
}

/// Strips trailing bytes matching `f`; whether any were stripped.
fn strip_end(v: &mut &[u8], f: impl Fn(u8) -> bool) -> bool {
    let n = v.len();
    let keep = v.iter().rposition(|b| !f(*b)).map_or(0, |i| i + 1);
    *v = &v[..keep];
    keep < n
}

/// Where `secret` starts in `whole`: by address when it is a slice of it
/// (the usual case), else at its last occurrence.
fn offset_in(whole: &[u8], secret: &[u8]) -> Option<usize> {
    let (w, s) = (whole.as_ptr() as usize, secret.as_ptr() as usize);
    if s >= w && s + secret.len() <= w + whole.len() {
        return Some(s - w);
    }
    memchr::memmem::rfind(whole, secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(name: &str) -> NameClass {
        classify(Name {
            text: name.as_bytes(),
            scheme: false,
        })
    }

    /// The class of the value `v` in the match `whole`.
    fn in_match(whole: &str, v: &str) -> NameClass {
        let at = whole.find(v).expect("value in match");
        let w = whole.as_bytes();
        class_of(w, &w[at..at + v.len()])
    }

    #[test]
    fn words_split_at_separators_humps_and_stems() {
        let w = |s: &str| words(s.as_bytes());
        assert_eq!(w("SECRET_KEY_BASE"), ["secret", "key", "base"]);
        assert_eq!(w("jwt.secret"), ["jwt", "secret"]);
        assert_eq!(w("x-api-key"), ["x", "api", "key"]);
        assert_eq!(w("apiKey"), ["api", "key"]);
        assert_eq!(w("XMLHttpToken"), ["xml", "http", "token"]);
        assert_eq!(w("user[password]"), ["user", "password"]);
        assert_eq!(w("user%5Bpassword%5D"), ["user", "password"]);
        assert_eq!(w("csrftoken"), ["csrf", "token"]);
        assert_eq!(w("PGPASSWORD"), ["pg", "password"]);
        assert_eq!(w("apikey"), ["api", "key"]);
        assert_eq!(w("sha256"), ["sha256"]);
        assert_eq!(w("monkey"), ["monkey"]);
        assert_eq!(w("dbpwd"), ["db", "pwd"]);
    }

    #[test]
    fn secret_bearing_names() {
        for n in [
            "SECRET_KEY",
            "SECRET_KEY_BASE",
            "secret_key_base",
            "JWT_SECRET",
            "jwt.secret",
            "spring.security.oauth2.client.registration.acme.client-secret",
            "client_secret",
            "clientSecret",
            "WTF_CSRF_SECRET_KEY",
            "API_KEY",
            "STRIPE_API_KEY",
            "api_key",
            "apikey",
            "x-api-key",
            "X-API-Key",
            "apiKey",
            "GITHUB_TOKEN",
            "access_token",
            "refreshToken",
            "X-Auth-Token",
            "PRIVATE-TOKEN",
            "page_access_token",
            "password",
            "passwd",
            "pwd",
            "pass",
            "DB_PASSWORD",
            "PGPASSWORD",
            "current_password",
            "new_password",
            "password_confirmation",
            "user[password]",
            "user%5Bpassword%5D",
            "JWT_SIGNING_KEY",
            "signingKey",
            "DATA_ENCRYPTION_KEY",
            "RAILS_MASTER_KEY",
            "WALLET_PRIVATE_KEY",
            "WEBHOOK_HMAC_KEY",
            "LICENSE_KEY",
            "licenseKey",
            "APP_KEY",
            "SecretAccessKey",
            "Bearer",
        ] {
            assert_eq!(class(n), NameClass::Secret, "{n}");
        }
    }

    #[test]
    fn names_that_say_not_a_secret() {
        for n in [
            "request_id",
            "trace_id",
            "span_id",
            "api_key_id",
            "key_id",
            "AccessKeyId",
            "kid",
            "key_version",
            "etag",
            "commit_sha",
            "token_sha256",
            "password_hash",
            "hashed_password",
            "passwordHash",
            "password_digest",
            "secret_checksum",
            "key_fingerprint",
            "token_type",
            "access_token_expires_in",
            "secret_name",
            "csrf_token",
            "csrftoken",
            "X-CSRF-Token",
            "csrf_access_token",
            "csrfmiddlewaretoken",
            "__RequestVerificationToken",
            "authenticity_token",
            "xsrf-token",
            "next_page_token",
            "pageToken",
            "NextToken",
            "X_REQUEST_TOKEN",
            "device_token",
            "clientToken",
            "deltaToken",
            "public_key",
            "publishableKey",
            "searchOnlyApiKey",
            "ALGOLIA_SEARCH_ONLY_API_KEY",
            "cache_key",
            "PWD",
            "OLDPWD",
        ] {
            assert_eq!(class(n), NameClass::NotSecret, "{n}");
        }
    }

    #[test]
    fn names_that_do_not_say() {
        for n in [
            "token",
            "sessionid",
            "session",
            "PHPSESSID",
            "ASP.NET_SessionId",
            "secret_id",
            "key",
            "FOO_KEY",
            "AKIA2B3WRXEGL4UDTPAG",
            "value",
        ] {
            assert_eq!(class(n), NameClass::Neutral, "{n}");
        }
        // A bare `Token` is a secret when it is an Authorization scheme.
        let scheme = Name {
            text: b"Token",
            scheme: true,
        };
        assert_eq!(classify(scheme), NameClass::Secret);
    }

    #[test]
    fn the_name_is_found_before_the_value_in_every_spelling() {
        let name = |whole: &str, v: &str| {
            let at = whole.find(v).expect("value in match");
            let w = whole.as_bytes();
            name_of(w, &w[at..at + v.len()])
                .map(|n| (String::from_utf8_lossy(n.text).into_owned(), n.scheme))
        };
        let plain = |s: &str| Some((s.to_string(), false));
        assert_eq!(name(" SECRET_KEY = 'v1'", "v1"), plain("SECRET_KEY"));
        assert_eq!(
            name("{'JWT_SIGNING_KEY': b'v1'", "v1"),
            plain("JWT_SIGNING_KEY")
        );
        assert_eq!(name("{:password=>\"v1\"", "v1"), plain("password"));
        assert_eq!(name("\"password\" => \"v1\"", "v1"), plain("password"));
        assert_eq!(name("\\\"apiKey\\\":\\\"v1", "v1"), plain("apiKey"));
        assert_eq!(name("export APP_KEY=v1", "v1"), plain("APP_KEY"));
        assert_eq!(
            name("&user%5Bpassword%5D=v1", "v1"),
            plain("user%5Bpassword%5D")
        );
        assert_eq!(name("jwt.secret: v1", "v1"), plain("jwt.secret"));
        assert_eq!(
            name("Authorization: Bearer\tv1", "v1"),
            Some(("Bearer".to_string(), true))
        );
        assert_eq!(
            name("\"Authorization\":\"Token v1", "v1"),
            Some(("Token".to_string(), true))
        );
        assert_eq!(name("v1", "v1"), None);
        // A secret that is not in the match (a decoded one) has no name.
        assert_eq!(class_of(b"password=abc", b"zzz"), NameClass::Neutral);
    }

    /// A match that starts inside an identifier is named by all of it,
    /// as far back as [`NAME_REACH`]; one starting at a delimiter by
    /// itself.
    #[test]
    fn a_match_inside_an_identifier_takes_its_head() {
        let hay = b"x csrf_access_token=abc";
        assert_eq!(name_start(hay, 7), 2, "from `access` back to `csrf_`");
        assert_eq!(name_start(hay, 2), 2);
        assert_eq!(name_start(hay, 1), 1, "a blank starts no identifier");
        let long = [b"a".repeat(100), b"_token".to_vec()].concat();
        assert_eq!(name_start(&long, 101), 101 - NAME_REACH);
    }

    #[test]
    fn classes_of_whole_matches() {
        assert_eq!(in_match("SECRET_KEY='v1'", "v1"), NameClass::Secret);
        assert_eq!(
            in_match(" csrf_access_token=v1", "v1"),
            NameClass::NotSecret
        );
        assert_eq!(in_match(" Bearer v1", "v1"), NameClass::Secret);
        assert_eq!(in_match("?token=v1", "v1"), NameClass::Neutral);
    }
}
