//! Shannon entropy, judged against what the value's own alphabet and length
//! allow.
//!
//! A raw bound in bits per character is unfair across alphabets: a perfectly
//! random hex digest tops out at 4 bits, a base64 string at 6, and a 20-char
//! string at log2(20) ≈ 4.32 whatever its alphabet, because it cannot hold
//! more than 20 distinct symbols. Rules state one bound on the base64 scale;
//! [`passes`] rescales it to the value in hand.

/// Bits per character of the base64 alphabet: the scale rule bounds use.
pub const BASE64_BITS: f64 = 6.0;

/// Shannon entropy of `bytes`, in bits per byte: `-Σ p(b)·log2 p(b)` over
/// the byte frequencies. 0 for an empty or one-symbol input.
pub fn shannon(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0usize; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let n = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// The alphabet a value is drawn from, as far as its bytes tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Charset {
    /// `[0-9a-fA-F]` only: 16 symbols, at most 4 bits. Digits-only values
    /// land here too, so they can reach at most log2(10)/4 ≈ 83 % of it.
    Hex,
    /// `[0-9A-Za-z]` only: 62 symbols, ≈ 5.95 bits.
    Alphanumeric,
    /// Anything else (base64, base64url, passwords with punctuation): scored
    /// as the 64-symbol base64 alphabet, 6 bits.
    Base64OrOther,
}

impl Charset {
    /// Detects the narrowest of the three alphabets that holds every byte.
    pub fn of(bytes: &[u8]) -> Charset {
        if bytes.iter().all(u8::is_ascii_hexdigit) {
            Charset::Hex
        } else if bytes.iter().all(u8::is_ascii_alphanumeric) {
            Charset::Alphanumeric
        } else {
            Charset::Base64OrOther
        }
    }

    /// log2 of the alphabet size: the entropy of a long random value.
    pub fn bits(self) -> f64 {
        match self {
            Charset::Hex => 4.0,
            Charset::Alphanumeric => 62f64.log2(),
            Charset::Base64OrOther => BASE64_BITS,
        }
    }
}

/// The most entropy a value of this alphabet and length can show:
/// `min(log2(|charset|), log2(len))`, since `len` characters hold at most
/// `len` distinct symbols.
pub fn max_bits(secret: &[u8]) -> f64 {
    if secret.is_empty() {
        return 0.0;
    }
    Charset::of(secret).bits().min((secret.len() as f64).log2())
}

/// Whether `secret` is random enough for a rule whose bound is `min` bits
/// per character on the base64 scale.
///
/// The bound is rescaled to what this value could reach at best:
///
/// ```text
/// passes ⇔ shannon(secret) ≥ min · min(log2|charset|, log2 len) / 6
/// ```
///
/// so `min` is really a fraction of the achievable maximum (4.5 → 75 %).
/// On average a random 40-char hex digest shows ≈ 3.7 of 4 bits (92 %), a
/// random 40-char base64 or base62 string ≈ 4.8 of log2 40 ≈ 5.3 bits
/// (90 %): both pass a 4.5 bound with a wide margin (99.9 % of them stay
/// above 81 %), while `aaaaaaaabbbbbbbb` (1 of 4 bits, 25 %) fails it.
/// Very short random values scatter more (20 hex chars: 84 % on average),
/// so bounds above ~4.5 suit only long tokens.
/// A value shorter than two bytes has no measurable entropy and passes only
/// a bound of 0.
pub fn passes(secret: &[u8], min: f64) -> bool {
    if min <= 0.0 {
        return true;
    }
    if secret.len() < 2 {
        return false;
    }
    let bound = min * max_bits(secret) / BASE64_BITS;
    shannon(secret) + 1e-9 >= bound
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::validate::sample::{random_from, B62, B64, HEX};

    #[test]
    fn shannon_of_simple_inputs() {
        assert_eq!(shannon(b""), 0.0);
        assert_eq!(shannon(b"aaaa"), 0.0);
        assert!((shannon(b"ab") - 1.0).abs() < 1e-12);
        assert!((shannon(b"abcd") - 2.0).abs() < 1e-12);
        assert!((shannon(b"aaaaaaaabbbbbbbb") - 1.0).abs() < 1e-12);
        let all: Vec<u8> = (0..=255u8).collect();
        assert!((shannon(&all) - 8.0).abs() < 1e-9);
    }

    #[test]
    fn charset_detection() {
        assert_eq!(Charset::of(b"deadBEEF0123"), Charset::Hex);
        assert_eq!(Charset::of(b"0123456789"), Charset::Hex);
        assert_eq!(Charset::of(b"abcxyz0123"), Charset::Alphanumeric);
        assert_eq!(Charset::of(b"ab+/cd=="), Charset::Base64OrOther);
        assert_eq!(Charset::of(b"ab-_cd"), Charset::Base64OrOther);
        assert_eq!(Charset::of(b"p@ss w0rd!"), Charset::Base64OrOther);
        assert!((Charset::Alphanumeric.bits() - 5.954).abs() < 0.001);
    }

    #[test]
    fn max_bits_is_capped_by_length_and_charset() {
        assert_eq!(max_bits(b""), 0.0);
        // 40 hex chars: the 16-symbol alphabet is the cap.
        assert_eq!(max_bits(&random_from(HEX, 40, 1)), 4.0);
        // 20 base64 chars: log2(20) < 6 is the cap.
        let v = random_from(B64, 20, 2);
        assert!((max_bits(&v) - 20f64.log2()).abs() < 1e-12);
        // 128 base64 chars: the alphabet is the cap.
        assert_eq!(max_bits(&random_from(B64, 128, 3)), 6.0);
    }

    #[test]
    fn random_hex_and_base64_pass_the_same_bound() {
        for seed in 1..50 {
            let hex = random_from(HEX, 40, seed);
            let b64 = random_from(B64, 40, seed);
            let b62 = random_from(B62, 40, seed);
            assert!(passes(&hex, 4.5), "{}", String::from_utf8_lossy(&hex));
            assert!(passes(&b64, 4.5), "{}", String::from_utf8_lossy(&b64));
            assert!(passes(&b62, 4.5), "{}", String::from_utf8_lossy(&b62));
        }
    }

    #[test]
    fn short_random_strings_are_not_penalised_for_their_length() {
        for seed in 1..50 {
            let v = random_from(B62, 20, seed);
            // Raw entropy of 20 chars is below 4.5, yet the value is random.
            assert!(shannon(&v) < 4.5);
            assert!(passes(&v, 4.5), "{}", String::from_utf8_lossy(&v));
        }
    }

    #[test]
    fn low_entropy_values_fail() {
        assert!(!passes(b"aaaaaaaabbbbbbbb", 4.5));
        assert!(!passes(b"aaaaaaaaaaaaaaaaaaaaaaaa", 1.0));
        assert!(!passes(b"passwordpasswordpassword", 4.5));
        assert!(!passes(b"1111111111222222222233333333334444444444", 4.0));
    }

    #[test]
    fn degenerate_inputs_and_bounds() {
        assert!(passes(b"", 0.0));
        assert!(!passes(b"", 1.0));
        assert!(!passes(b"a", 0.5));
        assert!(passes(b"aaaa", 0.0));
        // A bound above 6 is unreachable by design.
        assert!(!passes(&random_from(B64, 200, 9), 6.5));
    }
}
