//! Signed tokens found by their structure wherever they are logged: in a
//! URL path (`/reset-password/<token>`, `/confirm/<token>`), a query
//! value, a JSON field, bare in a message, or as the value of a cookie of
//! any name. Three formats:
//!
//! - itsdangerous (`URLSafeTimedSerializer`: `payload.timestamp.signature`;
//!   `URLSafeSerializer`: `payload.signature`), payload base64url JSON or
//!   `.` + base64url zlib JSON;
//! - Django `signing.dumps` / `TimestampSigner`: `value:timestamp:signature`;
//! - Rails `ActiveSupport::MessageVerifier`: `base64 data--hex digest`.
//!
//! The secret key cannot be checked, so every part must decode the way the
//! framework writes it: the payload to JSON (or Marshal for Rails), the
//! timestamp to a plausible time, the signature to exactly the bytes of an
//! HMAC. Random dotted strings, version numbers, file names and JWTs (a
//! JWT's second part is no timestamp and its third no 27-char SHA-1) fail.
//!
//! Expiry: where a token is a session cookie, the framework's default
//! session lifetime applies (Flask 31 days, Django 2 weeks). Outside a
//! cookie, itsdangerous `loads` and Django `signing.loads` have no default
//! `max_age` (the application picks one per call, or none), so no expiry is
//! claimed; a Rails token whose metadata envelope carries `exp` says it
//! itself.

use serde_json::Value;

use super::cookies::{
    base62, itsdangerous_time, rails_session, signature_ok, split_on, DJANGO_EARLIEST,
    DJANGO_LIFETIME, FLASK_LIFETIME, LATEST,
};
use super::{b64std, b64url, inflate, percent_decode, Pass};
use crate::finding::Confidence;

/// Where the value was found, which decides the lifetime assumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// The value of a cookie: framework session defaults apply.
    Cookie,
    /// Anywhere else: only a lifetime the token states.
    Anywhere,
}

/// Purposes Active Storage signs its blob and variant ids with. Those
/// tokens sit in public `<img src>` URLs by design (a capability to one
/// file, not to an account), so they are reported at low confidence.
const ACTIVE_STORAGE_PURPOSES: &[&str] = &["blob_id", "blob_key", "blob_token", "variation"];

/// Marshal format 4.8, the first two bytes of every `Marshal.dump`.
const MARSHAL: &[u8] = b"\x04\x08";

/// A signed token outside a cookie (see the module docs).
pub fn signed_token(secret: &[u8]) -> Option<Pass> {
    signed(secret, Place::Anywhere)
}

/// A cookie value of any name that is a signed (or, for Rails, encrypted)
/// value of one of the three formats; expiry from the framework's default
/// session lifetime.
pub fn signed_cookie(secret: &[u8]) -> Option<Pass> {
    signed(secret, Place::Cookie)
}

fn signed(secret: &[u8], place: Place) -> Option<Pass> {
    if contains(secret, b"--") {
        rails(secret, place)
    } else if secret.contains(&b':') {
        django(secret, place)
    } else {
        itsdangerous_any(secret, place)
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// itsdangerous, timed or untimed. The payload may be any JSON value but a
/// bare number, `true`, `false` or `null` (`dumps("alice@example.com")` and
/// `dumps([id, hash])` are common in reset links). An untimed token has
/// less structure, so it is reported at medium confidence, and one whose
/// "signature" starts `eyJ` is a JWT cut after its claims, not a token.
fn itsdangerous_any(secret: &[u8], place: Place) -> Option<Pass> {
    let (compressed, rest) = match secret.strip_prefix(b".") {
        Some(r) => (true, r),
        None => (false, secret),
    };
    let parts: Vec<&[u8]> = rest.split(|&b| b == b'.').collect();
    let (payload, ts, sig) = match parts[..] {
        [payload, sig] => (payload, None, sig),
        [payload, ts, sig] => (payload, Some(ts), sig),
        _ => return None,
    };
    if payload.is_empty() || !signature_ok(sig) {
        return None;
    }
    json_payload(payload, compressed)?;
    match ts {
        Some(ts) => {
            let signed = itsdangerous_time(ts)?;
            Some(Pass {
                confidence: None,
                expires: (place == Place::Cookie).then_some(signed + FLASK_LIFETIME),
            })
        }
        None if sig.starts_with(b"eyJ") => None,
        None => Some(Pass {
            confidence: Some(Confidence::Medium),
            expires: None,
        }),
    }
}

/// Decodes a base64url payload (zlib-inflated when `compressed`) to a JSON
/// value that is an object, array or string.
fn json_payload(payload: &[u8], compressed: bool) -> Option<Value> {
    let mut data = b64url(payload)?;
    if compressed {
        data = inflate(&data)?;
    }
    let v: Value = serde_json::from_slice(&data).ok()?;
    matches!(v, Value::Object(_) | Value::Array(_) | Value::String(_)).then_some(v)
}

/// Django `value:timestamp:signature` (base62 timestamp, 27 or 43-char
/// signature). Outside a cookie the value is `signing.dumps` output and
/// must decode to JSON (compressed when it starts with `.`); in a cookie
/// it may be plain text (`set_signed_cookie`), but still no whitespace.
fn django(secret: &[u8], place: Place) -> Option<Pass> {
    let mut it = secret.rsplitn(3, |&b| b == b':');
    let (sig, ts, value) = (it.next()?, it.next()?, it.next()?);
    if value.is_empty() || value.iter().any(u8::is_ascii_whitespace) || !signature_ok(sig) {
        return None;
    }
    let signed = base62(ts).filter(|t| (DJANGO_EARLIEST..=LATEST).contains(t))?;
    match value.strip_prefix(b".") {
        Some(packed) => {
            json_payload(packed, true)?;
        }
        None if place == Place::Anywhere || value.starts_with(b"eyJ") => {
            json_payload(value, false)?;
        }
        None => {}
    }
    Some(Pass {
        confidence: None,
        expires: (place == Place::Cookie).then_some(signed + DJANGO_LIFETIME),
    })
}

/// Rails `MessageVerifier`: `data--digest`, data standard base64
/// (`strict_encode64`, percent-encoded in URLs) or, with `url_safe: true`
/// (Rails ≥ 7.1), base64url; digest lowercase hex of HMAC-SHA1 (40),
/// SHA-256 (64) or SHA-512 (128). The data is a Marshal dump or JSON; the
/// JSON metadata envelope of Rails ≥ 5.2 (`{"_rails":{…,"exp":…,"pur":…}}`)
/// gives the expiry and the purpose. In a cookie, the authenticated
/// encryption of `cookies.encrypted` (`data--iv--tag`) passes too.
fn rails(secret: &[u8], place: Place) -> Option<Pass> {
    let decoded = percent_decode(secret);
    let parts = split_on(&decoded, b"--");
    let (data, digest) = match parts[..] {
        [data, digest] => (data, digest),
        [_, _, _] if place == Place::Cookie => return rails_session(secret),
        _ => return None,
    };
    let hex = matches!(digest.len(), 40 | 64 | 128)
        && digest
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b));
    if !hex {
        return None;
    }
    let raw = b64std(data).or_else(|| b64url(data))?;
    if raw.starts_with(MARSHAL) && raw.len() > MARSHAL.len() {
        return Some(Pass::default());
    }
    if place == Place::Cookie && rails4_encrypted(&raw) {
        return Some(Pass::default());
    }
    let v: Value = serde_json::from_slice(&raw).ok()?;
    let Some(envelope) = v.get("_rails") else {
        return Some(Pass::default());
    };
    let envelope = envelope.as_object()?;
    let purpose = envelope.get("pur").and_then(Value::as_str).unwrap_or("");
    let public = ACTIVE_STORAGE_PURPOSES.contains(&purpose);
    Some(Pass {
        confidence: public.then_some(Confidence::Low),
        expires: envelope
            .get("exp")
            .and_then(Value::as_str)
            .and_then(iso8601_utc),
    })
}

/// Rails 4.0–5.1 encrypted cookies sign `base64(ciphertext)--base64(iv)`.
fn rails4_encrypted(raw: &[u8]) -> bool {
    let parts = split_on(raw, b"--");
    matches!(parts[..], [ct, iv] if b64std(ct).is_some_and(|c| !c.is_empty())
        && b64std(iv).is_some_and(|i| i.len() == 16))
}

/// Unix seconds of `YYYY-MM-DDTHH:MM:SS[.fff]Z` (how Rails writes `exp`:
/// `iso8601(3)` in UTC); `None` for anything else.
fn iso8601_utc(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let d = b.get(r)?;
        d.iter().all(u8::is_ascii_digit).then_some(())?;
        std::str::from_utf8(d).ok()?.parse().ok()
    };
    let shape = b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b.last() == Some(&b'Z');
    if !shape {
        return None;
    }
    let frac = &b[19..b.len() - 1];
    let frac_ok = frac.is_empty()
        || (frac.len() >= 2 && frac[0] == b'.' && frac[1..].iter().all(u8::is_ascii_digit));
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let valid =
        frac_ok && (1..=12).contains(&mo) && (1..=31).contains(&d) && h < 24 && mi < 60 && sec < 61;
    valid.then(|| days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;

    /// 2024-05-18T02:40:00Z.
    const NOW: i64 = 1_716_000_000;

    fn ts(t: i64) -> String {
        let b = t.to_be_bytes();
        let first = b.iter().position(|&x| x != 0).unwrap_or(7);
        url(&b[first..])
    }

    fn b62(mut n: i64) -> String {
        const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut s = Vec::new();
        while n > 0 {
            s.insert(0, A[(n % 62) as usize]);
            n /= 62;
        }
        String::from_utf8(s).expect("ascii")
    }

    fn sig(n: usize, seed: u8) -> String {
        url(&bytes(n, seed))
    }

    #[test]
    fn itsdangerous_timed_untimed_and_compressed_anywhere() {
        let p = url(br#"{"user_id":4821,"action":"reset"}"#);
        let timed = format!("{p}.{}.{}", ts(NOW), sig(20, 1));
        assert_eq!(signed_token(timed.as_bytes()), Some(Pass::default()));
        // In a cookie the Flask session lifetime applies.
        let c = signed_cookie(timed.as_bytes()).expect("cookie");
        assert_eq!(c.expires, Some(NOW + FLASK_LIFETIME));
        // URLSafeSerializer: no timestamp, medium.
        let untimed = format!("{p}.{}", sig(20, 2));
        let u = signed_token(untimed.as_bytes()).expect("untimed");
        assert_eq!(u.confidence, Some(Confidence::Medium));
        // Compressed payload.
        let z = url(&zlib(br#"{"email":"jo@example.org","next":"/billing"}"#));
        let packed = format!(".{z}.{}.{}", ts(NOW), sig(20, 3));
        assert!(packed.starts_with(".eJ"));
        assert!(signed_token(packed.as_bytes()).is_some());
        // String and list payloads (reset / confirm links).
        for payload in [&br#""jo@example.org""#[..], br#"["7f3a","c0ffee"]"#] {
            let t = format!("{}.{}.{}", url(payload), ts(NOW), sig(20, 4));
            assert!(signed_token(t.as_bytes()).is_some(), "{t}");
        }
    }

    #[test]
    fn itsdangerous_look_alikes_fail() {
        let p = url(br#"{"a":1}"#);
        let cases = [
            // version / file names
            "1.2.3".to_string(),
            "report.2024.pdf".to_string(),
            // not JSON
            format!("{}.{}.{}", url(b"hello world"), ts(NOW), sig(20, 1)),
            // a bare number is too weak a payload
            format!("{}.{}.{}", url(b"12345"), ts(NOW), sig(20, 1)),
            // implausible time, wrong signature lengths
            format!("{p}.{}.{}", ts(9_000_000_000), sig(20, 1)),
            format!("{p}.{}.{}", ts(NOW), sig(16, 1)),
            format!("{p}.{}", sig(24, 1)),
            // a JWT cut after its claims (20 bytes: 27 chars, like a SHA-1)
            format!("{p}.{}", url(br#"{"sub":"1234567890"}"#)),
            // four parts
            format!("{p}.{}.{}.{}", ts(NOW), sig(20, 1), sig(20, 2)),
            // compressed flag on data that does not inflate
            format!(".{p}.{}.{}", ts(NOW), sig(20, 1)),
        ];
        for c in &cases {
            assert_eq!(signed_token(c.as_bytes()), None, "{c}");
        }
    }

    #[test]
    fn a_jwt_is_not_an_itsdangerous_token() {
        let jwt = format!(
            "{}.{}.{}",
            url(br#"{"alg":"HS256","typ":"JWT"}"#),
            url(br#"{"sub":"42","exp":1716000000}"#),
            sig(32, 9)
        );
        assert_eq!(signed_token(jwt.as_bytes()), None);
    }

    #[test]
    fn django_dumps_anywhere_and_signed_cookie() {
        let t = b62(NOW);
        let dumped = format!("{}:{t}:{}", url(br#"{"uid":77}"#), sig(32, 1));
        assert_eq!(signed_token(dumped.as_bytes()), Some(Pass::default()));
        let c = signed_cookie(dumped.as_bytes()).expect("cookie");
        assert_eq!(c.expires, Some(NOW + DJANGO_LIFETIME));
        let packed = format!(".{}:{t}:{}", url(&zlib(br#"{"cart":[1,2]}"#)), sig(20, 2));
        assert!(signed_token(packed.as_bytes()).is_some());
        // set_signed_cookie of plain text: a cookie, not a dumps token.
        let plain = format!("alice:{t}:{}", sig(32, 3));
        assert!(signed_cookie(plain.as_bytes()).is_some());
        assert_eq!(signed_token(plain.as_bytes()), None);
        // Look-alikes: times, ids, wrong signature, bad timestamp.
        for bad in [
            "12:30:45".to_string(),
            format!("host:{t}:{}", sig(16, 1)),
            format!("{}:{}:{}", url(br#"{"a":1}"#), b62(900_000_000), sig(32, 1)),
            format!("{}:zz-z:{}", url(br#"{"a":1}"#), sig(32, 1)),
            format!("a b:{t}:{}", sig(32, 1)),
        ] {
            assert_eq!(signed_cookie(bad.as_bytes()), None, "{bad}");
            assert_eq!(signed_token(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn rails_message_verifier() {
        let hex40 = "3f".repeat(20);
        let hex64 = "a9".repeat(32);
        // Marshal of an integer id (`verifier.generate(42)`), std base64.
        let marshal = format!("{}--{hex40}", std_pad(b"\x04\x08i/"));
        assert!(marshal.starts_with("BAh"));
        assert_eq!(signed_token(marshal.as_bytes()), Some(Pass::default()));
        // Percent-encoded padding, as in a URL.
        let enc = marshal.replace('=', "%3D");
        assert!(signed_token(enc.as_bytes()).is_some());
        // JSON envelope with purpose and expiry.
        let env = br#"{"_rails":{"message":"BAhpLw==","exp":"2024-05-14T09:27:44.032Z","pur":"password_reset"}}"#;
        let t = format!("{}--{hex64}", std_pad(env));
        let p = signed_token(t.as_bytes()).expect("envelope");
        assert_eq!(p.confidence, None);
        assert_eq!(p.expires, Some(1_715_678_864));
        // Active Storage blob ids are public links: low.
        let blob = br#"{"_rails":{"message":"BAhpBg==","exp":null,"pur":"blob_id"}}"#;
        let t = format!("{}--{hex40}", std_pad(blob));
        let p = signed_token(t.as_bytes()).expect("blob");
        assert_eq!(p.confidence, Some(Confidence::Low));
        assert_eq!(p.expires, None);
        // Look-alikes.
        for bad in [
            format!("{}--{hex40}", std_pad(b"plain text")),
            format!("{}--{}", std_pad(b"\x04\x08i/"), "3F".repeat(20)),
            format!("{}--{}", std_pad(b"\x04\x08i/"), "3f".repeat(16)),
            format!("{}--{hex40}--{hex40}", std_pad(b"\x04\x08i/")),
            "release-2024--0123456789abcdef0123456789abcdef01234567".to_string(),
        ] {
            assert_eq!(signed_token(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn rails_encrypted_only_in_cookies() {
        let c = format!(
            "{}--{}--{}",
            std_pad(&bytes(90, 1)),
            std_pad(&bytes(12, 2)),
            std_pad(&bytes(16, 3))
        );
        assert!(signed_cookie(c.as_bytes()).is_some());
        assert_eq!(signed_token(c.as_bytes()), None);
        let rails4 = format!(
            "{}--{}",
            std_pad(format!("{}--{}", std_pad(&bytes(48, 4)), std_pad(&bytes(16, 5))).as_bytes()),
            "0b".repeat(20)
        );
        assert!(signed_cookie(rails4.as_bytes()).is_some());
    }

    #[test]
    fn iso8601_parsing() {
        assert_eq!(iso8601_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(iso8601_utc("2024-05-14T09:27:44.032Z"), Some(1_715_678_864));
        assert_eq!(iso8601_utc("2000-02-29T12:00:00Z"), Some(951_825_600));
        assert_eq!(iso8601_utc("2024-05-14 09:27:44Z"), None);
        assert_eq!(iso8601_utc("2024-13-14T09:27:44Z"), None);
        assert_eq!(iso8601_utc("2024-05-14T09:27:44+02:00"), None);
        assert_eq!(iso8601_utc("2024-05-14T09:27:44.Z"), None);
        assert_eq!(iso8601_utc(""), None);
    }
}
