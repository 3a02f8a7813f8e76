//! Structure decoders: a candidate passes only when it decodes the way the
//! real token format does (JWT header and claims, HTTP Basic credentials,
//! URL userinfo, raw base64 keys, Discord ids). Signed session cookies live
//! in `cookies`, signed tokens found anywhere in `signed`, PEM private keys
//! in `pem`.
//!
//! Decoding is strict where real encoders are: base64 must be canonical
//! (no stray trailing bits), because every real encoder writes it so, and a
//! random string that merely uses the alphabet then fails 3 times in 4.
//! Padding is optional everywhere, because the formats disagree about it.

mod cookies;
mod pem;
mod signed;
mod url;

pub use cookies::{django_signed, express_signed, itsdangerous, rails_session};
pub use pem::pem_body;
pub use signed::{signed_cookie, signed_token};
pub use url::url_password;

use std::borrow::Cow;
use std::io::Read;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use flate2::read::ZlibDecoder;
use serde_json::{Map, Value};

use super::placeholder::is_placeholder;
use super::Pass;
use crate::finding::Confidence;

const PADDING_OPTIONAL: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
/// Standard base64 (`+/`), padding optional.
const STD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, PADDING_OPTIONAL);
/// URL-safe base64 (`-_`), padding optional.
const URL: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, PADDING_OPTIONAL);

/// Largest inflated payload a compressed cookie may expand to: real
/// sessions are a few KiB, and a bigger one is a decompression bomb.
const MAX_INFLATED: u64 = 1 << 20;
/// Latest Unix time accepted as an expiry: 9999-12-31T23:59:59Z (RFC 3339
/// cannot write later years).
const MAX_UNIX: i64 = 253_402_300_799;

fn b64std(s: &[u8]) -> Option<Vec<u8>> {
    STD.decode(s).ok()
}

fn b64url(s: &[u8]) -> Option<Vec<u8>> {
    URL.decode(s).ok()
}

fn is_b64url_char(b: &u8) -> bool {
    b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_'
}

fn is_b64std_char(b: &u8) -> bool {
    b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/'
}

/// Inflates zlib data, failing on corrupt input or past [`MAX_INFLATED`].
fn inflate(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    ZlibDecoder::new(data)
        .take(MAX_INFLATED + 1)
        .read_to_end(&mut out)
        .ok()?;
    (out.len() as u64 <= MAX_INFLATED).then_some(out)
}

fn json_object(bytes: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice(bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// Decodes every valid `%XX` escape; anything else is kept as written.
/// Cookies and query strings carry base64 as `%2B %2F %3D`.
fn percent_decode(s: &[u8]) -> Cow<'_, [u8]> {
    if !s.contains(&b'%') {
        return Cow::Borrowed(s);
    }
    let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if let (b'%', Some(h), Some(l)) = (s[i], hex(s.get(i + 1)), hex(s.get(i + 2))) {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    Cow::Owned(out)
}

/// A JSON number claim as Unix seconds, when it is a plausible one.
fn unix_claim(v: &Value) -> Option<i64> {
    let secs = match v.as_i64() {
        Some(i) => i,
        None => v.as_f64().filter(|f| f.is_finite() && f.abs() < 1e15)? as i64,
    };
    (0..=MAX_UNIX).contains(&secs).then_some(secs)
}

/// JWT: a JWS `header.payload.signature` or a JWE with five parts.
///
/// JWS: header and payload are base64url JSON objects, the header has a
/// string `alg`; the signature is base64url. `alg: none` passes with medium
/// confidence (anyone can mint one, but a service that accepts it is
/// exposed).
/// A signed `alg` with an empty signature is a truncated or stripped token
/// and is rejected. A numeric `exp` claim becomes the expiry; an expired
/// token still passes at the rule's confidence, since it was a live
/// credential when logged and may still be accepted by lax verifiers.
///
/// JWE: header has string `alg` and `enc`; IV, ciphertext and tag are
/// non-empty base64url (the encrypted key is empty with `alg: dir`).
pub fn jwt(secret: &[u8]) -> Option<Pass> {
    let parts: Vec<&[u8]> = secret.split(|&b| b == b'.').collect();
    match parts.len() {
        3 => jws(&parts),
        5 => jwe(&parts),
        _ => None,
    }
}

fn jws(parts: &[&[u8]]) -> Option<Pass> {
    let header = json_object(&b64url(parts[0])?)?;
    let alg = header.get("alg")?.as_str()?;
    let claims = json_object(&b64url(parts[1])?)?;
    let unsigned = alg.eq_ignore_ascii_case("none");
    let sig = b64url(parts[2])?;
    if sig.is_empty() && !unsigned {
        return None;
    }
    Some(Pass {
        confidence: unsigned.then_some(Confidence::Medium),
        expires: claims.get("exp").and_then(unix_claim),
    })
}

fn jwe(parts: &[&[u8]]) -> Option<Pass> {
    let header = json_object(&b64url(parts[0])?)?;
    header.get("alg")?.as_str()?;
    header.get("enc")?.as_str()?;
    b64url(parts[1])?;
    let rest_ok = parts[2..]
        .iter()
        .all(|p| b64url(p).is_some_and(|d| !d.is_empty()));
    rest_ok.then(Pass::default)
}

/// HTTP Basic credentials (RFC 7617), the base64 after `Basic `: decodes as
/// standard base64 to UTF-8 text without control characters, holding `:`.
/// The user may be empty; the password (after the first `:`, since a user
/// id cannot contain one) must be non-empty and not a placeholder.
pub fn basic_auth(secret: &[u8]) -> Option<Pass> {
    let raw = b64std(secret.trim_ascii())?;
    let text = std::str::from_utf8(&raw).ok()?;
    if text.chars().any(char::is_control) {
        return None;
    }
    let (_user, password) = text.split_once(':')?;
    (!password.is_empty() && !is_placeholder(password.as_bytes())).then(Pass::default)
}

/// The value (percent-encoding `%2B %2F %3D` allowed, padding optional)
/// decodes as standard base64 to exactly `n` bytes: Azure account keys
/// (64), HMAC-SHA256 signatures such as SAS `sig=` (32).
pub fn base64_bytes(secret: &[u8], n: usize) -> Option<Pass> {
    let decoded = percent_decode(secret);
    (b64std(&decoded)?.len() == n).then(Pass::default)
}

/// Discord bot token `id.timestamp.hmac`: the first part is base64 of the
/// bot's user id, a decimal snowflake of 17–20 digits (no leading zero);
/// the other two parts are non-empty base64url.
pub fn discord_bot(secret: &[u8]) -> Option<Pass> {
    let parts: Vec<&[u8]> = secret.split(|&b| b == b'.').collect();
    let [id, ts, mac] = parts[..] else {
        return None;
    };
    let id = b64url(id)?;
    let snowflake = (17..=20).contains(&id.len())
        && id.iter().all(u8::is_ascii_digit)
        && id.first() != Some(&b'0');
    let tail_ok = [ts, mac]
        .iter()
        .all(|p| !p.is_empty() && p.iter().all(is_b64url_char));
    (snowflake && tail_ok).then(Pass::default)
}

#[cfg(test)]
mod test_util {
    //! Builders for synthetic tokens, shared by the structure tests.
    use super::*;
    use flate2::write::ZlibEncoder;
    use flate2::Compression;
    use std::io::Write;

    pub fn url(b: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    }

    pub fn std_pad(b: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    pub fn std_nopad(b: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(b)
    }

    pub fn zlib(b: &[u8]) -> Vec<u8> {
        let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
        e.write_all(b).expect("write");
        e.finish().expect("finish")
    }

    /// `n` pseudo-random bytes (a signature, IV or tag stand-in).
    pub fn bytes(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(37).wrapping_add(seed).rotate_left(3))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::*;
    use super::*;

    fn jwt_of(header: &str, claims: &str, sig: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            url(header.as_bytes()),
            url(claims.as_bytes()),
            url(sig)
        )
    }

    #[test]
    fn jwt_hs256_passes_with_exp() {
        let t = jwt_of(
            r#"{"alg":"HS256","typ":"JWT"}"#,
            r#"{"sub":"1234","exp":1900000000}"#,
            &bytes(32, 1),
        );
        let p = jwt(t.as_bytes()).expect("valid jwt");
        assert_eq!(p.confidence, None);
        assert_eq!(p.expires, Some(1_900_000_000));
    }

    #[test]
    fn jwt_expired_still_passes_and_float_exp_is_read() {
        let t = jwt_of(
            r#"{"alg":"RS256"}"#,
            r#"{"exp":1000000000.5}"#,
            &bytes(256, 2),
        );
        let p = jwt(t.as_bytes()).expect("expired jwt is still a leak");
        assert_eq!(
            p,
            Pass {
                confidence: None,
                expires: Some(1_000_000_000)
            }
        );
        // Non-numeric or absurd exp: no expiry, still passes.
        for claims in [
            r#"{"exp":"soon"}"#,
            r#"{"exp":1e300}"#,
            r#"{"exp":-5}"#,
            r#"{}"#,
        ] {
            let t = jwt_of(r#"{"alg":"HS256"}"#, claims, &bytes(32, 3));
            assert_eq!(jwt(t.as_bytes()).expect(claims).expires, None, "{claims}");
        }
    }

    #[test]
    fn jwt_alg_none_is_medium() {
        let t = jwt_of(r#"{"alg":"none"}"#, r#"{"sub":"x"}"#, b"");
        assert!(t.ends_with('.'));
        let p = jwt(t.as_bytes()).expect("unsigned jwt");
        assert_eq!(p.confidence, Some(Confidence::Medium));
    }

    #[test]
    fn jwt_tolerates_padding() {
        let pad = |b: &[u8]| base64::engine::general_purpose::URL_SAFE.encode(b);
        let t = format!(
            "{}.{}.{}",
            pad(br#"{"alg":"HS256"}"#),
            pad(br#"{"a":1}"#),
            pad(&bytes(32, 4))
        );
        assert!(t.contains('='));
        assert!(jwt(t.as_bytes()).is_some());
    }

    #[test]
    fn jwt_rejects_malformed() {
        let sig = bytes(32, 5);
        let cases = [
            // header without alg
            jwt_of(r#"{"typ":"JWT"}"#, r#"{"a":1}"#, &sig),
            // alg not a string
            jwt_of(r#"{"alg":5}"#, r#"{"a":1}"#, &sig),
            // payload not an object
            jwt_of(r#"{"alg":"HS256"}"#, r#"[1,2]"#, &sig),
            // header not JSON
            jwt_of("not json", r#"{"a":1}"#, &sig),
            // signed alg, stripped signature
            jwt_of(r#"{"alg":"HS256"}"#, r#"{"a":1}"#, b""),
            // four parts
            format!("{}.x", jwt_of(r#"{"alg":"HS256"}"#, r#"{"a":1}"#, &sig)),
            // bad base64 in the signature
            format!("{}!", jwt_of(r#"{"alg":"HS256"}"#, r#"{"a":1}"#, &sig)),
        ];
        for c in &cases {
            assert_eq!(jwt(c.as_bytes()), None, "{c}");
        }
        assert_eq!(jwt(b"eyJ.eyJ.sig"), None);
        assert_eq!(jwt(b""), None);
    }

    #[test]
    fn jwe_passes_with_alg_and_enc() {
        let h = url(br#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#);
        let t = format!(
            "{h}.{}.{}.{}.{}",
            url(&bytes(256, 1)),
            url(&bytes(12, 2)),
            url(&bytes(40, 3)),
            url(&bytes(16, 4))
        );
        assert_eq!(jwt(t.as_bytes()), Some(Pass::default()));
        // `dir`: empty encrypted key.
        let h = url(br#"{"alg":"dir","enc":"A128CBC-HS256"}"#);
        let t = format!(
            "{h}..{}.{}.{}",
            url(&bytes(16, 2)),
            url(&bytes(48, 3)),
            url(&bytes(16, 4))
        );
        assert!(jwt(t.as_bytes()).is_some());
        // No enc: not a JWE header.
        let h = url(br#"{"alg":"RSA-OAEP"}"#);
        let t = format!(
            "{h}.{}.{}.{}.{}",
            url(b"k"),
            url(b"iv"),
            url(b"ct"),
            url(b"tag")
        );
        assert_eq!(jwt(t.as_bytes()), None);
        // Empty ciphertext.
        let h = url(br#"{"alg":"dir","enc":"A256GCM"}"#);
        let t = format!("{h}..{}..{}", url(b"iv"), url(b"tag"));
        assert_eq!(jwt(t.as_bytes()), None);
    }

    #[test]
    fn basic_auth_checks_decoded_credentials() {
        let ok = |s: &str| basic_auth(std_pad(s.as_bytes()).as_bytes()).is_some();
        assert!(ok("alice:s3cr3t-P4ss"));
        assert!(ok(":token-only-9fK2m")); // empty user
        assert!(ok("user:pa:ss:wd7")); // colons in the password
        assert!(ok("jörg:pässwörd9"));
        assert!(!ok("alice:")); // empty password
        assert!(!ok("nocolon"));
        assert!(!ok("user:password"));
        assert!(!ok("user:changeme"));
        assert!(!ok("user:${PASS}"));
        assert!(!ok("user:p\u{7}ss"));
        assert!(!ok("user:pa\nss"));
        // Unpadded is fine; non-base64 and non-UTF-8 are not.
        let unpadded = std_nopad(b"alice:s3cr3t-P4ss");
        assert!(basic_auth(unpadded.as_bytes()).is_some());
        assert!(basic_auth(b"not base64!").is_none());
        assert!(basic_auth(std_pad(b"u:\xff\xfe\xfd").as_bytes()).is_none());
    }

    #[test]
    fn base64_bytes_counts_decoded_bytes() {
        let key64 = std_pad(&bytes(64, 9));
        assert_eq!(key64.len(), 88);
        assert!(base64_bytes(key64.as_bytes(), 64).is_some());
        assert!(base64_bytes(key64.trim_end_matches('=').as_bytes(), 64).is_some());
        assert!(base64_bytes(key64.as_bytes(), 32).is_none());
        let sig = std_pad(&bytes(32, 200));
        let encoded = sig
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        assert!(base64_bytes(encoded.as_bytes(), 32).is_some());
        let lower_escapes = sig.replace('+', "%2b").replace('/', "%2f");
        assert!(base64_bytes(lower_escapes.as_bytes(), 32).is_some());
        assert!(base64_bytes(b"not*base64", 6).is_none());
        // Non-canonical trailing bits: not written by any encoder.
        let mut bad = std_nopad(&bytes(32, 7)).into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'B' { b'C' } else { b'B' };
        assert!(base64_bytes(&bad, 32).is_none());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(&*percent_decode(b"a%2Bb%2fc%3D"), b"a+b/c=");
        assert_eq!(&*percent_decode(b"100%"), b"100%");
        assert_eq!(&*percent_decode(b"%zz%4"), b"%zz%4");
        assert!(matches!(percent_decode(b"plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn discord_bot_token() {
        let id = url(b"123456789012345678");
        let t = format!("{id}.GhT2kA.{}", url(&bytes(27, 1)));
        assert!(discord_bot(t.as_bytes()).is_some());
        for bad_id in [
            "1234567890123456",
            "123456789012345678901",
            "12345678901234567x",
            "012345678901234567",
        ] {
            let t = format!("{}.GhT2kA.{}", url(bad_id.as_bytes()), url(&bytes(27, 1)));
            assert!(discord_bot(t.as_bytes()).is_none(), "{bad_id}");
        }
        assert!(discord_bot(format!("{id}.GhT2kA").as_bytes()).is_none());
        assert!(discord_bot(format!("{id}..abc").as_bytes()).is_none());
        assert!(discord_bot(format!("{id}.Gh+2kA.abc").as_bytes()).is_none());
    }

    #[test]
    fn inflate_is_capped() {
        let small = zlib(b"{\"a\":1}");
        assert_eq!(inflate(&small).as_deref(), Some(&b"{\"a\":1}"[..]));
        let bomb = zlib(&vec![b'a'; (MAX_INFLATED + 10) as usize]);
        assert!(bomb.len() < 10_000);
        assert_eq!(inflate(&bomb), None);
        assert_eq!(inflate(b"not zlib"), None);
    }
}
