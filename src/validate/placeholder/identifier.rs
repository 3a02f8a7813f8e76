//! Identifiers that look random but are not secrets. Generic context rules
//! (`password=`, `api_key=`, `SECRET_KEY = '…'`, `*_TOKEN=`) see them all
//! day in logs: request and trace ids, digests, pod names, timestamps,
//! paths. Rules for specific token families do not need this check; a
//! family whose tokens *are* UUIDs or hex (Heroku legacy keys, Twilio auth
//! tokens) must have its own, context-specific rule.
//!
//! The name the value is logged under comes first ([`NameClass`]): under a
//! secret-bearing name (`SECRET_KEY`, `X-API-Key`, `Bearer`) UUIDs, hex of
//! any length, S3-style and ULID-shaped values are secrets like any other
//! random value, as long as they look random; under a name that says
//! "id" or "digest" nothing is a secret; otherwise the shape decides.

use super::code::is_code;
use super::trim_value;
use crate::validate::names::NameClass;
use crate::validate::Pass;

/// Lengths of common hex digests and ids: 64-bit span/trace ids (16),
/// MD5 / 128-bit trace ids (32), SHA-1 (40), SHA-224 (56), SHA-256 (64),
/// SHA-384 (96), SHA-512 (128).
const HEX_ID_LENGTHS: &[usize] = &[16, 32, 40, 56, 64, 96, 128];
/// Algorithm tags written before digests: `sha256:…` (OCI), `sha256=…`
/// (webhook signatures).
const DIGEST_TAGS: &[&str] = &["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];
/// Kubernetes' `rand.SafeEncodeString` alphabet (no vowels, no 0/1/3),
/// used for ReplicaSet hashes and pod suffixes.
const K8S_SAFE: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
/// Crockford base32, the ULID alphabet (no I, L, O, U).
const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Plausible ULID timestamps, in ms: 2015-01-01 .. 2100-01-01.
const ULID_MS: std::ops::RangeInclusive<u64> = 1_420_070_400_000..=4_102_444_800_000;
/// Longest single word the word rule treats as "not a secret".
const MAX_WORD: usize = 15;

/// Shapes that are ids only when the name does not say "secret": a
/// secret-bearing name accepts them.
const ID_SHAPES: &[fn(&[u8]) -> bool] = &[is_uuid, is_hex_id, is_s3_request_id, is_ulid];

/// Shapes that are never a secret, whatever the name.
const NEVER_SECRET: &[fn(&[u8]) -> bool] = &[
    is_tagged_digest,
    is_aws_trace_id,
    is_traceparent,
    is_pod_name,
    is_numeric,
    is_timestamp,
    is_path_or_url,
    is_email,
    is_semver,
    is_words,
];

/// Passes a generic-rule candidate logged under a name of class `name`
/// unless it is shaped like an identifier (see the module docs) or is
/// code; `None` rejects it.
///
/// Plain words are rejected too: one word of letters only, shorter than 16
/// characters, in lower, UPPER, Title or camelCase (`authorization`,
/// `Bearer`, `accessToken`), and `snake_case` / `CONSTANT_CASE` /
/// `dotted.names` built from such words. In logs, `password=required`,
/// `token=missing`, `secret=hidden`, `auth=bearer` far outnumber real
/// single-word passwords, so a weak password such as `hunter` is an
/// accepted miss of the generic rules. Hyphenated words are kept, because
/// that is how passphrases (`correct-horse-battery-staple`) are written.
pub fn not_identifier(secret: &[u8], name: NameClass) -> Option<Pass> {
    let v = trim_value(secret);
    if v.is_empty() || name == NameClass::NotSecret || is_code(v) {
        return None;
    }
    if NEVER_SECRET.iter().any(|f| f(v)) {
        return None;
    }
    match name {
        NameClass::Secret if is_uuid(v) || v.iter().all(u8::is_ascii_hexdigit) => {
            looks_random_hex(v).then(Pass::default)
        }
        NameClass::Secret => Some(Pass::default()),
        _ if ID_SHAPES.iter().any(|f| f(v)) => None,
        _ => Some(Pass::default()),
    }
}

/// Whether a hex value (UUID dashes aside) looks drawn at random, for
/// names that accept hex: its Shannon entropy is no more than ~4.5
/// standard deviations under what random hex of its length shows
/// (4 − 36/n bits: 2.875 for 32 chars), and at most a quarter of
/// neighbouring characters repeat (random hex: 1 in 16). `aaaa1111bbbb…`
/// and `deadbeefdeadbeef…` fail; one random 32-hex value in ~10⁴ does.
fn looks_random_hex(v: &[u8]) -> bool {
    let hex: Vec<u8> = v
        .iter()
        .filter(|b| **b != b'-')
        .map(u8::to_ascii_lowercase)
        .collect();
    let n = hex.len();
    if n < 8 {
        return false;
    }
    let repeats = hex.windows(2).filter(|w| w[0] == w[1]).count();
    let floor = 4.0 - 36.0 / n as f64;
    crate::validate::entropy::shannon(&hex) >= floor && repeats * 4 <= n
}

fn all_hex(v: &[u8]) -> bool {
    v.iter().all(u8::is_ascii_hexdigit)
}

/// `8-4-4-4-12` hex in any case, bare, in braces or as `urn:uuid:`; the
/// dashless 32-hex form is covered by [`is_hex_id`].
fn is_uuid(v: &[u8]) -> bool {
    let v = match v {
        [b'{', inner @ .., b'}'] => inner,
        _ => v.strip_prefix(b"urn:uuid:").unwrap_or(v),
    };
    v.len() == 36
        && v.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
        || (v.len() == 32 && all_hex(v))
}

/// A hex digest or id of a common length.
fn is_hex_id(v: &[u8]) -> bool {
    HEX_ID_LENGTHS.contains(&v.len()) && all_hex(v)
}

/// A digest that says so: `sha256:<hex>`, `sha256=<hex>`, any hex length.
fn is_tagged_digest(v: &[u8]) -> bool {
    DIGEST_TAGS.iter().any(|t| {
        v.strip_prefix(t.as_bytes())
            .and_then(|rest| rest.strip_prefix(b":").or_else(|| rest.strip_prefix(b"=")))
            .is_some_and(|body| body.len() >= 16 && all_hex(body))
    })
}

/// `[Root=]1-<8 hex>-<24 hex>[;Parent=…;Sampled=…]` (X-Amzn-Trace-Id).
fn is_aws_trace_id(v: &[u8]) -> bool {
    let v = v.strip_prefix(b"Root=").unwrap_or(v);
    v.len() >= 35
        && v.starts_with(b"1-")
        && all_hex(&v[2..10])
        && v[10] == b'-'
        && all_hex(&v[11..35])
        && matches!(v.get(35), None | Some(b';'))
}

/// W3C `traceparent`: `<2 hex>-<32 hex>-<16 hex>-<2 hex>`.
fn is_traceparent(v: &[u8]) -> bool {
    let parts: Vec<&[u8]> = v.split(|&b| b == b'-').collect();
    parts.len() == 4
        && parts.iter().map(|p| p.len()).eq([2, 32, 16, 2])
        && parts.iter().all(|p| all_hex(p))
}

/// S3 `x-amz-request-id`: 16 uppercase letters and digits.
fn is_s3_request_id(v: &[u8]) -> bool {
    v.len() == 16
        && v.iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// ULID: 26 Crockford base32 characters whose 48-bit millisecond timestamp
/// (the first 10) falls in 2015..2100 — which a random 26-char value
/// almost never does.
fn is_ulid(v: &[u8]) -> bool {
    if v.len() != 26 {
        return false;
    }
    let mut ms: u64 = 0;
    for (i, b) in v.iter().enumerate() {
        let Some(d) = CROCKFORD.iter().position(|c| *c == b.to_ascii_uppercase()) else {
            return false;
        };
        if i < 10 {
            ms = ms * 32 + d as u64;
        }
    }
    ULID_MS.contains(&ms)
}

/// A Deployment's pod: `<name>-<ReplicaSet hash>-<5 chars>`, lowercase DNS
/// labels. The hash is 8–10 chars of the safe alphabet (or decimal digits,
/// before Kubernetes 1.11), the suffix 5 safe-alphabet chars.
fn is_pod_name(v: &[u8]) -> bool {
    let safe = |p: &[u8]| p.iter().all(|b| K8S_SAFE.contains(b));
    let mut parts = v.rsplitn(3, |&b| b == b'-');
    let (Some(suffix), Some(hash), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    v.len() <= 253
        && suffix.len() == 5
        && safe(suffix)
        && (8..=10).contains(&hash.len())
        && (safe(hash) || hash.iter().all(u8::is_ascii_digit))
        && name.first().is_some_and(u8::is_ascii_lowercase)
        && name
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// Numbers and number-shaped values: integers, decimals, epoch times, IP
/// addresses with ports, dates and times written with digits only.
fn is_numeric(v: &[u8]) -> bool {
    v.iter().any(u8::is_ascii_digit)
        && v.iter()
            .all(|b| b.is_ascii_digit() || b".:-+/,_ ".contains(b))
}

/// ISO-8601 / RFC 3339 timestamps: `2024-05-01T12:34:56.789Z`,
/// `20240501T123456Z`, `2024-05-01 12:34:56+02:00`.
fn is_timestamp(v: &[u8]) -> bool {
    let year = v
        .get(..4)
        .filter(|y| all_digits(y))
        .and_then(|y| std::str::from_utf8(y).ok()?.parse::<u32>().ok());
    year.is_some_and(|y| (1970..=2100).contains(&y))
        && v.iter().filter(|b| b.is_ascii_digit()).count() >= 8
        && v.iter()
            .all(|b| b.is_ascii_digit() || b"-:.TZ+ /".contains(b))
}

fn all_digits(v: &[u8]) -> bool {
    !v.is_empty() && v.iter().all(u8::is_ascii_digit)
}

/// URLs (`://`) and file paths (`/…`, `./…`, `../…`, `~/…`, `C:\…`,
/// `\\server\…`). Standard base64 values can start with `/` too (1 in 64
/// random AWS secret keys does), so a `/`-led value made only of base64
/// characters counts as a path only when it reads like one: no `+` or `=`
/// and mostly lowercase letters.
fn is_path_or_url(v: &[u8]) -> bool {
    if super::find(v, b"://").is_some() {
        return true;
    }
    let drive = v.len() >= 3 && v[0].is_ascii_alphabetic() && &v[1..3] == b":\\";
    if drive || v.starts_with(b"\\\\") || v.starts_with(b"./") || v.starts_with(b"../") {
        return true;
    }
    if !(v.starts_with(b"/") || v.starts_with(b"~/")) {
        return false;
    }
    let path_only = |b: &u8| b"._-~?#%&\\:".contains(b);
    if v.iter().any(path_only) {
        return true;
    }
    let upper = v.iter().filter(|b| b.is_ascii_uppercase()).count();
    let letters = v.iter().filter(|b| b.is_ascii_alphabetic()).count();
    !v.contains(&b'+') && !v.contains(&b'=') && upper * 4 <= letters
}

/// `local@domain.tld`.
fn is_email(v: &[u8]) -> bool {
    let mut it = v.split(|&b| b == b'@');
    let (Some(local), Some(domain), None) = (it.next(), it.next(), it.next()) else {
        return false;
    };
    let labels: Vec<&[u8]> = domain.split(|&b| b == b'.').collect();
    !local.is_empty()
        && local
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"._%+-".contains(b))
        && labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-'))
        && labels
            .last()
            .is_some_and(|t| t.len() >= 2 && t.iter().all(u8::is_ascii_alphabetic))
}

/// Semantic version: `[v]1.2.3[-pre][+build]`.
fn is_semver(v: &[u8]) -> bool {
    let v = v
        .strip_prefix(b"v")
        .or_else(|| v.strip_prefix(b"V"))
        .unwrap_or(v);
    let core_end = v
        .iter()
        .position(|b| *b == b'-' || *b == b'+')
        .unwrap_or(v.len());
    let (core, tail) = v.split_at(core_end);
    let nums: Vec<&[u8]> = core.split(|&b| b == b'.').collect();
    nums.len() == 3
        && nums.iter().all(|n| all_digits(n))
        && (tail.is_empty()
            || (tail.len() > 1
                && tail[1..]
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || b".-+".contains(b))))
}

/// A plain word or a `snake_case` / `CONSTANT_CASE` / `dotted.name` of
/// plain words (see [`not_identifier`] for why).
fn is_words(v: &[u8]) -> bool {
    let single = |w: &[u8]| !w.is_empty() && w.len() <= MAX_WORD && is_word(w);
    if single(v) {
        return true;
    }
    let parts: Vec<&[u8]> = v.split(|&b| b == b'_' || b == b'.').collect();
    let lower = v.iter().all(|b| !b.is_ascii_uppercase());
    let upper = v.iter().all(|b| !b.is_ascii_lowercase());
    parts.len() >= 2 && (lower || upper) && parts.iter().all(|p| single(p))
}

/// Letters only, cased like a word: `word`, `WORD`, `Word`, `camelCase`,
/// `PascalCase`, `sessionId`. Every capital but the first must follow at
/// least two lowercase letters, and the value must end in lowercase, so
/// random mixed-case letters (`AbCdEfGh`, `kQzTbWmR`) are not words.
fn is_word(w: &[u8]) -> bool {
    !w.is_empty() && cased(w) == Some(true)
}

/// Letters only, with each capital but the first after at least two
/// lowercase letters (or all capitals): `None` otherwise, else whether the
/// word ends in lowercase (all capitals count as ending well). Code names
/// (`apiKey`) and words (`sessionId`) share this shape.
pub(super) fn cased(w: &[u8]) -> Option<bool> {
    if !w.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    if w.iter().all(u8::is_ascii_uppercase) {
        return Some(true);
    }
    let mut lower_run = 0;
    for (i, b) in w.iter().enumerate() {
        if b.is_ascii_uppercase() {
            if i > 0 && lower_run < 2 {
                return None;
            }
            lower_run = 0;
        } else {
            lower_run += 1;
        }
    }
    Some(lower_run >= 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(s: &str) -> bool {
        not_identifier(s.as_bytes(), NameClass::Neutral).is_none()
    }

    #[test]
    fn uuids_are_identifiers() {
        for v in [
            "123e4567-e89b-12d3-a456-426614174000",
            "123E4567-E89B-12D3-A456-426614174000",
            "{123e4567-e89b-12d3-a456-426614174000}",
            "urn:uuid:123e4567-e89b-12d3-a456-426614174000",
            "123e4567e89b12d3a456426614174000",
        ] {
            assert!(rejected(v), "{v}");
        }
        assert!(!rejected("123e4567-e89b-12d3-a456-42661417400g"));
    }

    #[test]
    fn hex_digests_and_span_ids_are_identifiers() {
        for n in [16, 32, 40, 56, 64, 96, 128] {
            let v = "a1b2c3d4e5f60789".repeat(8)[..n].to_string();
            assert!(rejected(&v), "{n}");
            assert!(rejected(&v.to_ascii_uppercase()), "{n}");
        }
        assert!(rejected(&format!("sha256:{}", "0f".repeat(32))));
        assert!(rejected(&format!("sha256={}", "0f".repeat(32))));
        // Other lengths of hex are not a known digest.
        assert!(!rejected(&"a1b2c3d4e5f6".repeat(4)[..44]));
    }

    #[test]
    fn trace_and_request_ids_are_identifiers() {
        assert!(rejected("Root=1-5759e988-bd862e3fe1be46a994272793"));
        assert!(rejected("1-5759e988-bd862e3fe1be46a994272793"));
        assert!(rejected(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
        ));
        assert!(rejected(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        ));
        assert!(rejected("00f067aa0ba902b7"));
        assert!(rejected("4442587FB7D0A2F9"));
        assert!(rejected("Q9FN7YS6Y1WQX4DA"));
        // 16 chars with lowercase: not an S3 request id.
        assert!(!rejected("Q9fN7yS6Y1WqX4dA"));
    }

    #[test]
    fn ulids_are_identifiers() {
        assert!(rejected("01ARZ3NDEKTSV4RRFFQ69G5FAV")); // 2016
        assert!(rejected("01hx5zzkbkactav9wevgemmvrz")); // 2024, lowercase
                                                         // Right alphabet, implausible time (first char 7 → year ~10889).
        assert!(!rejected("7ZZZZZZZZZZZZZZZZZZZZZZZZZ"));
        // 'U' is not Crockford.
        assert!(!rejected("01ARZ3NDEKTSV4RRFFQ69G5FAU"));
    }

    #[test]
    fn pod_names_are_identifiers() {
        assert!(rejected("web-api-7d4b9c8f6d-x2k9p"));
        assert!(rejected("nginx-deployment-66b6c48dd5-4jw2p"));
        assert!(rejected("frontend-3428751239-wq8zt"));
        // Vowels in the suffix: not from Kubernetes' alphabet.
        assert!(!rejected("web-api-7d4b9c8f6d-aeiou"));
        assert!(!rejected("Web-api-7d4b9c8f6d-x2k9p"));
    }

    #[test]
    fn numbers_dates_and_versions_are_identifiers() {
        for v in [
            "1234567890123",
            "1716212345.123",
            "-42",
            "10.0.0.1:8080",
            "2024-05-01",
            "2024-05-01T12:34:56.789Z",
            "20240501T123456Z",
            "2024-05-01 12:34:56+02:00",
            "1.2.3",
            "v10.20.30-rc.1+build.5",
            "V2.0.0",
        ] {
            assert!(rejected(v), "{v}");
        }
        assert!(!rejected("v1.2.3x"));
        assert!(!rejected("3000-01-01T00:00:00Zq"));
    }

    #[test]
    fn paths_urls_and_emails_are_identifiers() {
        for v in [
            "/var/log/nginx/access.log",
            "/api/v1/users",
            "/healthz",
            "./config/secrets.yml",
            "../x",
            "~/.aws/credentials",
            "C:\\Users\\me\\key.txt",
            "\\\\server\\share",
            "https://example.org/cb?x=1",
            "s3://bucket/key",
            "alice@corp.example.com",
            "first.last+tag@mail.co",
        ] {
            assert!(rejected(v), "{v}");
        }
        // Base64 secrets can start with '/'.
        assert!(!rejected("/Kq8Lm2Nv7Rt1Yp5Xw3KdZb9aQf0Hc6Je4Ug+Ai"));
        assert!(!rejected("/Kq8LM2NV7RT1YP5XW3KDZB9AQF0HC6JE4UGbAiS"));
        assert!(!rejected("user@host"));
    }

    #[test]
    fn plain_words_are_identifiers() {
        for v in [
            "authorization",
            "hunter",
            "Bearer",
            "REQUIRED",
            "accessToken",
            "SessionId",
            "userId",
            "aws_secret_access_key",
            "AWS_SECRET_ACCESS_KEY",
            "spring.datasource.password",
            "x",
        ] {
            assert!(rejected(v), "{v}");
        }
        for v in [
            "hunter2",
            "correct-horse-battery-staple",
            "authorizationheader",
            "kQzTbWmRfXhY",
            "AbCdEfGhIjKl",
            "Mixed_case_Words",
        ] {
            assert!(!rejected(v), "{v}");
        }
    }

    #[test]
    fn secrets_pass() {
        for v in [
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Lm2Nv7R",
            "django-insecure-k8q2#v9m$zp4r@x7!w1",
            "Kq8Lm2Nv7Rt1Yp5Xw3KdZb9a",
            "s3cr3t-P@ssw0rd!",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
            "4eC39HqLyjWDarjtT1zdp7dc",
        ] {
            assert_eq!(
                not_identifier(v.as_bytes(), NameClass::Neutral),
                Some(Pass::default()),
                "{v}"
            );
        }
        assert!(rejected(""));
        assert!(rejected("  "));
    }

    fn passes_named(v: &str, name: NameClass) -> bool {
        not_identifier(v.as_bytes(), name).is_some()
    }

    #[test]
    fn secret_names_accept_hex_uuids_and_id_shapes() {
        use crate::validate::sample::{random_from, HEX};
        for seed in 1..200 {
            for n in [16, 24, 32, 40, 48, 64, 96, 128] {
                let v = String::from_utf8(random_from(HEX, n, seed)).expect("ascii");
                if n >= 32 {
                    assert!(passes_named(&v, NameClass::Secret), "{v}");
                }
                assert!(
                    !passes_named(&v, NameClass::Neutral) || n == 24 || n == 48,
                    "{v}"
                );
            }
        }
        for v in [
            "98f106a7-4f83-4e52-a161-622be56f4a4b",
            "c3865f7b-fd93-4aeb-acd6-8f937941ad87",
            "Q9FN7YS6Y1WQX4DA",
            "01HX5ZZKBKACTAV9WEVGEMMVRZ",
            "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
        ] {
            assert!(passes_named(v, NameClass::Secret), "{v}");
            assert!(
                !passes_named(v, NameClass::Neutral) || v.starts_with("0x"),
                "{v}"
            );
        }
    }

    #[test]
    fn secret_names_still_reject_filler_words_paths_and_tagged_digests() {
        for v in [
            "aaaa1111bbbb2222cccc3333dddd4444",
            "aa11bb22cc33dd44ee55ff66aa77bb88",
            "deadbeefdeadbeefcafebabecafebabe",
            "11111111-2222-3333-4444-555555555555",
            "required",
            "/run/secrets/client_secret",
            "https://vault.internal/v1/secret",
            "1716212345",
            "2024-05-01T12:34:56Z",
            "sha256:3b8a41e5c24cbba2ee3ff61a1e0a5e6a7c8d9e0f1a2b3c4d5e6f708192a3b4c5",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "o.apiKey",
            "r[4]||n",
        ] {
            assert!(!passes_named(v, NameClass::Secret), "{v}");
        }
    }

    #[test]
    fn names_that_say_not_a_secret_reject_everything() {
        for v in [
            "123e4567-e89b-12d3-a456-426614174000",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Lm2Nv7R",
            "Kq8Lm2Nv7Rt1Yp5Xw3KdZb9a",
        ] {
            assert!(!passes_named(v, NameClass::NotSecret), "{v}");
        }
    }
}
