//! Checksums that token issuers build into their tokens. A passing checksum
//! is strong evidence of a real token (a random body passes with
//! probability 2⁻³²), so it raises confidence to high.

use super::Pass;
use crate::finding::Confidence;

/// The base62 alphabet of GitHub / npm tokens, digits first.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Random characters in a classic GitHub / npm token body.
const RANDOM_LEN: usize = 30;
/// Checksum characters that follow them.
const CHECKSUM_LEN: usize = 6;

/// The 6-character checksum GitHub appends to the 30 random characters of a
/// classic token: CRC-32 (IEEE) of those characters, written in base62
/// (`0-9A-Za-z`) and left-padded with `0`. `crc32 < 62⁶`, so 6 characters
/// always suffice.
pub fn github_checksum(random30: &[u8]) -> String {
    let mut n = crc32fast::hash(random30);
    let mut digits = [b'0'; CHECKSUM_LEN];
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    digits.iter().map(|&b| b as char).collect()
}

/// Validates a classic GitHub (`ghp_ gho_ ghu_ ghs_ ghr_`) or npm (`npm_`)
/// token: after the last `_` come exactly 36 base62 characters, 30 random
/// and 6 checksum. Passes with high confidence when the checksum matches,
/// rejects otherwise (including any other shape).
///
/// The prefix is not checked: the rule's regex names the prefixes it wants,
/// and new prefixes with the same scheme then need no code change.
pub fn github_crc32(secret: &[u8]) -> Option<Pass> {
    let underscore = secret.iter().rposition(|&b| b == b'_')?;
    let body = &secret[underscore + 1..];
    if underscore == 0
        || body.len() != RANDOM_LEN + CHECKSUM_LEN
        || !body.iter().all(u8::is_ascii_alphanumeric)
    {
        return None;
    }
    let (random, check) = body.split_at(RANDOM_LEN);
    (github_checksum(random).as_bytes() == check).then_some(Pass {
        confidence: Some(Confidence::High),
        expires: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RANDOM: &str = "Xk9qLm2ZpR7tVbN4wYc8dEfG1hJ3sA";

    fn token(prefix: &str, random: &str) -> String {
        format!("{prefix}_{random}{}", github_checksum(random.as_bytes()))
    }

    #[test]
    fn checksum_is_six_base62_chars_of_crc32() {
        let c = github_checksum(RANDOM.as_bytes());
        assert_eq!(c.len(), 6);
        assert!(c.bytes().all(|b| b.is_ascii_alphanumeric()));
        // Decode it back and compare with crc32 directly.
        let decoded = c.bytes().fold(0u64, |n, b| {
            let d = BASE62.iter().position(|&x| x == b).expect("base62") as u64;
            n * 62 + d
        });
        assert_eq!(decoded, u64::from(crc32fast::hash(RANDOM.as_bytes())));
    }

    #[test]
    fn checksum_of_known_values() {
        // Values computed independently with Python's zlib.crc32.
        assert_eq!(github_checksum(b""), "000000"); // crc 0: all padding
        assert_eq!(github_checksum(b"a"), "4GEHKN"); // 0xe8b7be43
        assert_eq!(github_checksum(b"123456789"), "3jZRME"); // 0xcbf43926
        assert_eq!(github_checksum(RANDOM.as_bytes()), "21ZpHq"); // 0x6e99e9d6
    }

    #[test]
    fn valid_tokens_pass_with_high_confidence() {
        for prefix in ["ghp", "gho", "ghu", "ghs", "ghr", "npm"] {
            let t = token(prefix, RANDOM);
            assert_eq!(t.len(), 40);
            let pass = github_crc32(t.as_bytes()).expect("valid token");
            assert_eq!(pass.confidence, Some(Confidence::High));
            assert_eq!(pass.expires, None);
        }
    }

    #[test]
    fn corrupted_tokens_fail() {
        let t = token("ghp", RANDOM);
        // Flip one random character.
        let mut bad = t.clone().into_bytes();
        bad[10] = if bad[10] == b'a' { b'b' } else { b'a' };
        assert_eq!(github_crc32(&bad), None);
        // Flip one checksum character.
        let mut bad = t.clone().into_bytes();
        bad[39] = if bad[39] == b'0' { b'1' } else { b'0' };
        assert_eq!(github_crc32(&bad), None);
        // A random-looking body with a made-up checksum.
        assert_eq!(
            github_crc32(b"ghp_Xk9qLm2ZpR7tVbN4wYc8dEfG1hJ3sAabcdef"),
            None
        );
    }

    #[test]
    fn wrong_shapes_fail() {
        let t = token("ghp", RANDOM);
        assert_eq!(github_crc32(&t.as_bytes()[..39]), None);
        assert_eq!(github_crc32(format!("{t}x").as_bytes()), None);
        assert_eq!(github_crc32(t.replace('_', "").as_bytes()), None);
        assert_eq!(github_crc32(&t.as_bytes()[3..]), None); // "_" + body
        assert_eq!(github_crc32(b""), None);
        let with_dash = format!("ghp_{}-{}", &RANDOM[..29], github_checksum(b"x"));
        assert_eq!(github_crc32(with_dash.as_bytes()), None);
    }
}
