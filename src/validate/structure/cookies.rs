//! Signed and encrypted session cookies of the common web frameworks. A
//! cookie passes when every part decodes the way the framework writes it;
//! the secret key cannot be checked, but the shape alone is specific enough
//! that random log text does not pass. Where the cookie carries its signing
//! time, the framework's default lifetime gives the expiry.

use super::{b64std, b64url, inflate, is_b64std_char, json_object, percent_decode, Pass};

/// 2011-01-01T00:00:00Z: the epoch of itsdangerous < 1.0 timestamps, and
/// the earliest plausible time for one.
pub(super) const ITSDANGEROUS_EPOCH: i64 = 1_293_840_000;
/// 2005-01-01T00:00:00Z: before Django's first release.
pub(super) const DJANGO_EARLIEST: i64 = 1_104_537_600;
/// 2100-01-01T00:00:00Z: the latest plausible signing time.
pub(super) const LATEST: i64 = 4_102_444_800;
/// Flask's default `PERMANENT_SESSION_LIFETIME`: 31 days.
pub(super) const FLASK_LIFETIME: i64 = 31 * 86_400;
/// Django's default `SESSION_COOKIE_AGE`: 2 weeks.
pub(super) const DJANGO_LIFETIME: i64 = 1_209_600;

/// Base64url signature lengths without padding: HMAC-SHA1 (20 bytes → 27
/// chars) and HMAC-SHA256 (32 bytes → 43 chars).
pub(super) fn signature_ok(sig: &[u8]) -> bool {
    matches!(sig.len(), 27 | 43) && b64url(sig).is_some()
}

/// itsdangerous `URLSafeTimedSerializer` output, as in Flask's `session`
/// cookie: `payload.timestamp.signature`.
///
/// - payload: base64url of a JSON object, or `.` + base64url of
///   zlib-compressed JSON (inflated size capped at 1 MiB);
/// - timestamp: base64url of big-endian integer seconds, plausible
///   (2011..2100) either as Unix time or, for itsdangerous < 1.0, counted
///   from 2011-01-01 (Unix time is preferred when both are plausible);
/// - signature: 27 (HMAC-SHA1, Flask's default) or 43 (SHA-256) chars.
///
/// Expires: signing time + 31 days (Flask's default session lifetime).
pub fn itsdangerous(secret: &[u8]) -> Option<Pass> {
    let (compressed, rest) = match secret.strip_prefix(b".") {
        Some(r) => (true, r),
        None => (false, secret),
    };
    let mut it = rest.rsplitn(3, |&b| b == b'.');
    let (sig, ts, payload) = (it.next()?, it.next()?, it.next()?);
    if payload.is_empty() || payload.contains(&b'.') || !signature_ok(sig) {
        return None;
    }
    let mut data = b64url(payload)?;
    if compressed {
        data = inflate(&data)?;
    }
    json_object(&data)?;
    let signed = itsdangerous_time(ts)?;
    Some(Pass {
        confidence: None,
        expires: Some(signed + FLASK_LIFETIME),
    })
}

/// The signing time in Unix seconds, from either timestamp epoch.
pub(super) fn itsdangerous_time(ts: &[u8]) -> Option<i64> {
    let raw = b64url(ts)?;
    if raw.is_empty() || raw.len() > 8 {
        return None;
    }
    let n = raw.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b));
    let n = i64::try_from(n).ok()?;
    let plausible = |t: i64| (ITSDANGEROUS_EPOCH..=LATEST).contains(&t);
    [Some(n), n.checked_add(ITSDANGEROUS_EPOCH)]
        .into_iter()
        .flatten()
        .find(|&t| plausible(t))
}

/// Django `TimestampSigner` output (`signing.dumps`, signed cookies, the
/// signed-cookie session backend): `value:timestamp:signature`.
///
/// - value: non-empty text (it may itself hold `:`); when it starts with
///   `.` it is `signing.dumps`' compressed form and must inflate to JSON;
/// - timestamp: base62 (`0-9A-Za-z`) Unix seconds, plausible (2005..2100);
/// - signature: 43 (SHA-256, Django ≥ 3.1) or 27 (SHA-1) base64url chars.
///
/// Expires: signing time + 2 weeks (`SESSION_COOKIE_AGE`).
///
/// Untimed `value:signature` (plain `Signer`) is rejected: Django's own
/// cookie and session producers always use `TimestampSigner`, and a bare
/// `x:<27 or 43 chars>` has too little structure to tell a signed value
/// from any `name:token` pair in a log.
pub fn django_signed(secret: &[u8]) -> Option<Pass> {
    let mut it = secret.rsplitn(3, |&b| b == b':');
    let (sig, ts, value) = (it.next()?, it.next()?, it.next()?);
    if value.is_empty() || !signature_ok(sig) {
        return None;
    }
    let signed = base62(ts).filter(|t| (DJANGO_EARLIEST..=LATEST).contains(t))?;
    if let Some(packed) = value.strip_prefix(b".") {
        let json = inflate(&b64url(packed)?)?;
        serde_json::from_slice::<serde_json::Value>(&json).ok()?;
    }
    Some(Pass {
        confidence: None,
        expires: Some(signed + DJANGO_LIFETIME),
    })
}

/// Decodes Django's base62 (`0-9A-Za-z`, digits first); at most 10 chars.
pub(super) fn base62(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 10 {
        return None;
    }
    s.iter().try_fold(0i64, |n, &b| {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'A'..=b'Z' => b - b'A' + 10,
            b'a'..=b'z' => b - b'a' + 36,
            _ => return None,
        };
        n.checked_mul(62)?.checked_add(i64::from(d))
    })
}

/// Express / cookie-parser / express-session signed value:
/// `s:<value>.<signature>`, usually percent-encoded (`s%3A…`, `%2B`, `%2F`).
/// The signature is HMAC-SHA256 in standard base64 with `=` stripped: 43
/// chars of `[A-Za-z0-9+/]` decoding to 32 bytes. The value (text before
/// the last `.`) must be non-empty.
pub fn express_signed(secret: &[u8]) -> Option<Pass> {
    let decoded = percent_decode(secret);
    let body = decoded.strip_prefix(b"s:")?;
    let dot = body.iter().rposition(|&b| b == b'.')?;
    let (value, sig) = (&body[..dot], &body[dot + 1..]);
    let sig_ok = sig.len() == 43
        && sig.iter().all(is_b64std_char)
        && b64std(sig).is_some_and(|d| d.len() == 32);
    (!value.is_empty() && sig_ok).then(Pass::default)
}

/// Rails session cookie (percent-encoding such as `%3D` allowed):
///
/// - Rails ≥ 5.2, authenticated encryption (AES-256-GCM):
///   `<b64 data>--<b64 iv>--<b64 auth tag>`, data non-empty, IV 12 bytes,
///   tag 16 bytes;
/// - older signed (or Rails 4 encrypted-then-signed) cookies:
///   `<b64 data>--<hex digest>`, 40 hex (HMAC-SHA1) or 64 (SHA-256).
pub fn rails_session(secret: &[u8]) -> Option<Pass> {
    let decoded = percent_decode(secret);
    let parts = split_on(&decoded, b"--");
    let data_ok = |d: &[u8]| b64std(d).is_some_and(|v| !v.is_empty());
    let len_is = |p: &[u8], n: usize| b64std(p).is_some_and(|v| v.len() == n);
    let ok = match parts[..] {
        [data, iv, tag] => data_ok(data) && len_is(iv, 12) && len_is(tag, 16),
        [data, digest] => {
            data_ok(data)
                && matches!(digest.len(), 40 | 64)
                && digest.iter().all(u8::is_ascii_hexdigit)
        }
        _ => false,
    };
    ok.then(Pass::default)
}

pub(super) fn split_on<'a>(s: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + sep.len() <= s.len() {
        if &s[i..i + sep.len()] == sep {
            parts.push(&s[start..i]);
            i += sep.len();
            start = i;
        } else {
            i += 1;
        }
    }
    parts.push(&s[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;

    /// 2024-05-18T02:40:00Z.
    const NOW: i64 = 1_716_000_000;

    fn ts_bytes(t: i64) -> Vec<u8> {
        let b = t.to_be_bytes();
        let first = b.iter().position(|&x| x != 0).unwrap_or(7);
        b[first..].to_vec()
    }

    fn flask(payload: &str, t: i64, sig_len: usize) -> String {
        format!(
            "{}.{}.{}",
            payload,
            url(&ts_bytes(t)),
            url(&bytes(sig_len, 7))
        )
    }

    #[test]
    fn flask_json_cookie() {
        let c = flask(&url(br#"{"user_id":42,"_fresh":true}"#), NOW, 20);
        let p = itsdangerous(c.as_bytes()).expect("valid flask cookie");
        assert_eq!(p.expires, Some(NOW + FLASK_LIFETIME));
        assert_eq!(p.confidence, None);
        // SHA-256 signature variant.
        let c = flask(&url(br#"{"a":1}"#), NOW, 32);
        assert!(itsdangerous(c.as_bytes()).is_some());
    }

    #[test]
    fn flask_compressed_cookie() {
        let z = zlib(br#"{"_permanent":true,"csrf_token":"0123abcd","user":"alice"}"#);
        let c = format!(".{}", flask(&url(&z), NOW, 20));
        assert!(c.starts_with(".eJ"));
        let p = itsdangerous(c.as_bytes()).expect("valid compressed cookie");
        assert_eq!(p.expires, Some(NOW + FLASK_LIFETIME));
        // The same data without the '.' flag is not JSON.
        assert!(itsdangerous(&c.as_bytes()[1..]).is_none());
        // Corrupt zlib.
        let mut bad = z.clone();
        bad.truncate(bad.len() / 2);
        let c = format!(".{}", flask(&url(&bad), NOW, 20));
        assert!(itsdangerous(c.as_bytes()).is_none());
    }

    #[test]
    fn flask_compressed_bomb_is_rejected() {
        let mut json = b"{\"a\":\"".to_vec();
        json.extend(std::iter::repeat_n(b'a', 2 << 20));
        json.extend(b"\"}");
        let c = format!(".{}", flask(&url(&zlib(&json)), NOW, 20));
        assert!(itsdangerous(c.as_bytes()).is_none());
    }

    #[test]
    fn flask_legacy_epoch_timestamp() {
        let legacy = NOW - ITSDANGEROUS_EPOCH;
        let c = flask(&url(br#"{"a":1}"#), legacy, 20);
        let p = itsdangerous(c.as_bytes()).expect("legacy timestamp");
        assert_eq!(p.expires, Some(NOW + FLASK_LIFETIME));
    }

    #[test]
    fn flask_rejects_bad_parts() {
        let payload = url(br#"{"a":1}"#);
        // Implausible time: neither epoch gives 2011..2100. (Any small
        // value is a plausible legacy time: 5 → 2011-01-01T00:00:05Z.)
        assert!(itsdangerous(flask(&payload, 5, 20).as_bytes()).is_some());
        assert!(itsdangerous(flask(&payload, 5_000_000_000, 20).as_bytes()).is_none());
        assert!(itsdangerous(flask(&payload, 9_000_000_000, 20).as_bytes()).is_none());
        // Wrong signature length.
        assert!(itsdangerous(flask(&payload, NOW, 16).as_bytes()).is_none());
        // Payload is not a JSON object.
        assert!(itsdangerous(flask(&url(b"[1]"), NOW, 20).as_bytes()).is_none());
        assert!(itsdangerous(flask(&url(b"hello"), NOW, 20).as_bytes()).is_none());
        // Too few parts, extra dots, empty timestamp.
        assert!(itsdangerous(format!("{payload}.{}", url(&bytes(20, 1))).as_bytes()).is_none());
        let c = format!("x.{}", flask(&payload, NOW, 20));
        assert!(itsdangerous(c.as_bytes()).is_none());
        let c = format!("{payload}..{}", url(&bytes(20, 1)));
        assert!(itsdangerous(c.as_bytes()).is_none());
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

    #[test]
    fn base62_round_trips() {
        assert_eq!(base62(b"0"), Some(0));
        assert_eq!(base62(b"z"), Some(61));
        assert_eq!(base62(b"10"), Some(62));
        assert_eq!(base62(b62(NOW).as_bytes()), Some(NOW));
        assert_eq!(b62(NOW).len(), 6);
        assert_eq!(base62(b""), None);
        assert_eq!(base62(b"ab-c"), None);
        assert_eq!(base62(b"zzzzzzzzzzz"), None);
    }

    #[test]
    fn django_signed_values() {
        let sig43 = url(&bytes(32, 3));
        let sig27 = url(&bytes(20, 3));
        let ts = b62(NOW);
        // signing.dumps of a dict.
        let dumped = format!("{}:{ts}:{sig43}", url(br#"{"user":1}"#));
        let p = django_signed(dumped.as_bytes()).expect("dumps");
        assert_eq!(p.expires, Some(NOW + DJANGO_LIFETIME));
        // Compressed dumps.
        let packed = format!(".{}:{ts}:{sig43}", url(&zlib(br#"{"cart":[1,2,3]}"#)));
        assert!(django_signed(packed.as_bytes()).is_some());
        // A signed cookie of plain text holding ':' with a SHA-1 signature.
        let text = format!("hello:world:{ts}:{sig27}");
        assert!(django_signed(text.as_bytes()).is_some());
    }

    #[test]
    fn django_rejects() {
        let sig = url(&bytes(32, 3));
        let ts = b62(NOW);
        // Untimed value:signature.
        assert!(django_signed(format!("value:{sig}").as_bytes()).is_none());
        // Empty value, bad signature length, implausible timestamps.
        assert!(django_signed(format!(":{ts}:{sig}").as_bytes()).is_none());
        assert!(django_signed(format!("v:{ts}:{}", url(&bytes(16, 1))).as_bytes()).is_none());
        assert!(django_signed(format!("v:{}:{sig}", b62(1_000_000)).as_bytes()).is_none());
        assert!(django_signed(format!("v:{}:{sig}", b62(5_000_000_000)).as_bytes()).is_none());
        assert!(django_signed(format!("v:1q-Z:{sig}").as_bytes()).is_none());
        // '.'-flagged value that does not inflate to JSON.
        let bad = format!(".{}:{ts}:{sig}", url(b"not zlib"));
        assert!(django_signed(bad.as_bytes()).is_none());
        let not_json = format!(".{}:{ts}:{sig}", url(&zlib(b"{nope")));
        assert!(django_signed(not_json.as_bytes()).is_none());
    }

    fn express(sid: &str, sig: &[u8]) -> String {
        format!("s:{sid}.{}", std_nopad(sig))
    }

    #[test]
    fn express_signed_raw_and_encoded() {
        // Find a signature whose base64 uses '+' and '/' so encoding matters.
        let sig = (0u8..=255)
            .map(|s| bytes(32, s))
            .find(|b| {
                let e = std_nopad(b);
                e.contains('+') && e.contains('/')
            })
            .expect("some seed gives + and /");
        let raw = express("Xk9qLm2ZpR7tVbN4wYc8dEfG1hJ3sA_-", &sig);
        assert!(express_signed(raw.as_bytes()).is_some());
        let encoded = raw
            .replace(':', "%3A")
            .replace('+', "%2B")
            .replace('/', "%2F");
        assert!(encoded.starts_with("s%3A"));
        assert!(express_signed(encoded.as_bytes()).is_some());
        // A value with dots: the signature follows the last one.
        assert!(express_signed(express("a.b.c", &sig).as_bytes()).is_some());
    }

    #[test]
    fn express_rejects() {
        let sig = bytes(32, 1);
        assert!(express_signed(express("", &sig).as_bytes()).is_none());
        assert!(express_signed(express("sid", &bytes(20, 1)).as_bytes()).is_none());
        assert!(express_signed(format!("j:sid.{}", std_nopad(&sig)).as_bytes()).is_none());
        assert!(express_signed(format!("s:sid.{}", std_pad(&sig)).as_bytes()).is_none());
        // base64url characters are not what cookie-signature writes.
        let url_sig = std_nopad(&sig).replace('+', "-").replace('/', "_");
        if url_sig != std_nopad(&sig) {
            assert!(express_signed(format!("s:sid.{url_sig}").as_bytes()).is_none());
        }
        assert!(express_signed(b"s:no-signature").is_none());
    }

    #[test]
    fn rails_encrypted_cookie() {
        let c = format!(
            "{}--{}--{}",
            std_pad(&bytes(90, 1)),
            std_pad(&bytes(12, 2)),
            std_pad(&bytes(16, 3))
        );
        assert!(rails_session(c.as_bytes()).is_some());
        let encoded = c
            .replace('=', "%3D")
            .replace('/', "%2F")
            .replace('+', "%2B");
        assert!(rails_session(encoded.as_bytes()).is_some());
        // Wrong IV or tag sizes.
        let bad_iv = format!(
            "{}--{}--{}",
            std_pad(b"data"),
            std_pad(&bytes(16, 2)),
            std_pad(&bytes(16, 3))
        );
        assert!(rails_session(bad_iv.as_bytes()).is_none());
        let bad_tag = format!(
            "{}--{}--{}",
            std_pad(b"data"),
            std_pad(&bytes(12, 2)),
            std_pad(&bytes(12, 3))
        );
        assert!(rails_session(bad_tag.as_bytes()).is_none());
        let empty_data = format!("--{}--{}", std_pad(&bytes(12, 2)), std_pad(&bytes(16, 3)));
        assert!(rails_session(empty_data.as_bytes()).is_none());
    }

    #[test]
    fn rails_signed_cookie() {
        let data = std_pad(br#"{"session_id":"abc"}"#);
        assert!(rails_session(format!("{data}--{}", "a1".repeat(20)).as_bytes()).is_some());
        assert!(rails_session(format!("{data}--{}", "0F".repeat(32)).as_bytes()).is_some());
        assert!(rails_session(format!("{data}--{}", "a1".repeat(16)).as_bytes()).is_none());
        assert!(rails_session(format!("{data}--{}", "g1".repeat(20)).as_bytes()).is_none());
        assert!(rails_session(format!("not*b64--{}", "a1".repeat(20)).as_bytes()).is_none());
        assert!(rails_session(data.as_bytes()).is_none());
        assert!(rails_session(format!("{data}--a--b--c").as_bytes()).is_none());
    }

    #[test]
    fn split_on_separator() {
        assert_eq!(split_on(b"a--b--c", b"--"), vec![&b"a"[..], b"b", b"c"]);
        assert_eq!(split_on(b"--", b"--"), vec![&b""[..], b""]);
        assert_eq!(split_on(b"abc", b"--"), vec![&b"abc"[..]]);
    }
}
