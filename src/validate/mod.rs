//! Validators: the confirm step after a rule's regex matched. They are pure
//! functions of the secret bytes (and the whole regex match, for rules whose
//! judgement needs the surrounding structure), so each is unit-tested alone.
//!
//! A validator either rejects a candidate (it is not a credential: a
//! placeholder, a UUID, a token whose checksum fails) or passes it, possibly
//! setting the confidence and an expiry that the token itself states.

pub mod checksum;
pub mod cookie_name;
pub mod entropy;
pub mod names;
pub mod placeholder;
pub mod structure;

use std::fmt;
use std::str::FromStr;

use crate::finding::Confidence;

/// A named check a rule can list in its `validators` array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validator {
    /// GitHub classic / npm token: CRC32 of the random part, base62, last 6 chars.
    GithubCrc32,
    /// JWS: header and payload decode to JSON objects, header has `alg`.
    Jwt,
    /// itsdangerous / Flask session: payload (JSON or `.`-prefixed zlib JSON),
    /// plausible timestamp, 27-char signature.
    Itsdangerous,
    /// Django `signing.dumps` value: `payload:base62-ts:signature`.
    DjangoSigned,
    /// Express / cookie-parser signed value: `s:<value>.<43-char sig>`.
    ExpressSigned,
    /// Rails session cookie: `data--iv--tag` (encrypted) or `data--40hex` (signed).
    RailsSession,
    /// HTTP Basic credentials: base64 of printable `user:pass`.
    BasicAuth,
    /// The password part of `scheme://user:pass@host` is not a placeholder
    /// and the host is not an example host.
    UrlPassword,
    /// The value decodes as standard base64 to exactly 64 bytes (Azure keys).
    Base64Bytes64,
    /// The value (possibly percent-encoded) decodes as base64 to 32 bytes
    /// (HMAC-SHA256 signatures such as Azure SAS `sig=`).
    Base64Bytes32,
    /// Rejects values shaped like identifiers that look random but are not
    /// secrets: UUIDs, hex digests, trace/request ids, pod names, numbers,
    /// paths, words. For generic (context-keyword) rules.
    NotIdentifier,
    /// PEM private key block: base64 body of at least 64 chars; `ENCRYPTED`
    /// keys are lowered to medium confidence.
    PemBody,
    /// Discord bot token: first part is base64 of a numeric snowflake id.
    DiscordBot,
    /// itsdangerous, Django `signing.dumps` or Rails `MessageVerifier`
    /// token outside a cookie, by structure; expiry only where it says.
    SignedToken,
    /// The same formats (and Rails encrypted values) as a cookie value of
    /// any name; expiry from the framework's default session lifetime.
    SignedCookie,
    /// A cookie whose name is in the session class and not a tracking,
    /// preference or CSRF cookie, with a random-looking value.
    SessionCookieName,
    /// Rejects values logged under a name that says they are no secret
    /// (`password_hash`, `csrf_token`, see [`names`]) and values that are
    /// code; no judgement of the value's shape. For generic rules whose
    /// values may be plain words (form passwords).
    SecretName,
}

const NAMES: &[(Validator, &str)] = &[
    (Validator::GithubCrc32, "github-crc32"),
    (Validator::Jwt, "jwt"),
    (Validator::Itsdangerous, "itsdangerous"),
    (Validator::DjangoSigned, "django-signed"),
    (Validator::ExpressSigned, "express-signed"),
    (Validator::RailsSession, "rails-session"),
    (Validator::BasicAuth, "basic-auth"),
    (Validator::UrlPassword, "url-password"),
    (Validator::Base64Bytes64, "base64-bytes-64"),
    (Validator::Base64Bytes32, "base64-bytes-32"),
    (Validator::NotIdentifier, "not-identifier"),
    (Validator::PemBody, "pem-body"),
    (Validator::DiscordBot, "discord-bot"),
    (Validator::SignedToken, "signed-token"),
    (Validator::SignedCookie, "signed-cookie"),
    (Validator::SessionCookieName, "session-cookie-name"),
    (Validator::SecretName, "secret-name"),
];

impl Validator {
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(v, _)| *v == self)
            .map(|(_, n)| *n)
            .unwrap_or("?")
    }
}

impl fmt::Display for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Validator {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NAMES
            .iter()
            .find(|(_, n)| *n == s)
            .map(|(v, _)| *v)
            .ok_or_else(|| {
                let known: Vec<&str> = NAMES.iter().map(|(_, n)| *n).collect();
                format!("unknown validator '{s}' (known: {})", known.join(", "))
            })
    }
}

/// What a rule asks of its candidates beyond the regex.
#[derive(Clone, Debug, PartialEq)]
pub struct Checks {
    pub validators: Vec<Validator>,
    /// Minimum Shannon entropy, in bits per character, as it would be
    /// measured on a base64-alphabet value; see [`entropy::passes`].
    pub min_entropy: Option<f64>,
    /// Apply the placeholder deny-list (on by default).
    pub placeholder: bool,
    /// The rule's own confidence, before validators adjust it.
    pub confidence: Confidence,
}

/// The verdict on a candidate that passed every check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub confidence: Confidence,
    /// Unix seconds at which the token stops being valid, where it says.
    pub expires: Option<i64>,
}

/// One validator's opinion of a candidate it did not reject.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    /// Replaces the rule's confidence when set.
    pub confidence: Option<Confidence>,
    pub expires: Option<i64>,
}

/// Runs every check of a rule on a candidate. `secret` is the capture group,
/// `whole` the whole regex match (which contains `secret`).
/// Returns `None` when the candidate is rejected. A vendor's documented
/// sample credential is rejected by every rule.
pub fn validate(checks: &Checks, secret: &[u8], whole: &[u8]) -> Option<Outcome> {
    if checks.placeholder && placeholder::is_placeholder(secret) {
        return None;
    }
    if placeholder::is_documented(secret) {
        return None;
    }
    // A generic rule reads "a credential" off the name only; a value its
    // issuer publishes for browsers is none.
    if checks.validators.iter().any(|v| v.generic()) && placeholder::is_public(secret) {
        return None;
    }
    if let Some(min) = checks.min_entropy {
        if !entropy::passes(secret, min) {
            return None;
        }
    }
    let mut outcome = Outcome {
        confidence: checks.confidence,
        expires: None,
    };
    for v in &checks.validators {
        let pass = run(*v, secret, whole)?;
        if let Some(c) = pass.confidence {
            outcome.confidence = c;
        }
        if pass.expires.is_some() {
            outcome.expires = pass.expires;
        }
    }
    Some(outcome)
}

fn run(v: Validator, secret: &[u8], whole: &[u8]) -> Option<Pass> {
    match v {
        Validator::GithubCrc32 => checksum::github_crc32(secret),
        Validator::Jwt => structure::jwt(secret),
        Validator::Itsdangerous => structure::itsdangerous(secret),
        Validator::DjangoSigned => structure::django_signed(secret),
        Validator::ExpressSigned => structure::express_signed(secret),
        Validator::RailsSession => structure::rails_session(secret),
        Validator::BasicAuth => structure::basic_auth(secret),
        Validator::UrlPassword => structure::url_password(secret, whole),
        Validator::Base64Bytes64 => structure::base64_bytes(secret, 64),
        Validator::Base64Bytes32 => structure::base64_bytes(secret, 32),
        Validator::NotIdentifier => {
            placeholder::not_identifier(secret, names::class_of(whole, secret))
        }
        Validator::SecretName => secret_name(secret, whole),
        Validator::PemBody => structure::pem_body(secret),
        Validator::DiscordBot => structure::discord_bot(secret),
        Validator::SignedToken => structure::signed_token(secret),
        Validator::SignedCookie => structure::signed_cookie(secret),
        Validator::SessionCookieName => cookie_name::session_cookie(secret, whole),
    }
}

/// See [`Validator::SecretName`].
fn secret_name(secret: &[u8], whole: &[u8]) -> Option<Pass> {
    let named_not_secret = names::class_of(whole, secret) == names::NameClass::NotSecret;
    let v = placeholder::trim_value(secret);
    (!named_not_secret && !placeholder::is_code(v)).then(Pass::default)
}

impl Validator {
    /// Whether a rule listing this validator is a generic context rule,
    /// which loses ties to a rule that knows the token's format.
    pub fn generic(self) -> bool {
        matches!(self, Validator::NotIdentifier | Validator::SecretName)
    }
}

/// Test data shared by the validators' unit tests.
#[cfg(test)]
pub(crate) mod sample {
    /// Deterministic pseudo-random bytes from an alphabet (xorshift), so
    /// tests need no random crate and never flake.
    pub fn random_from(alphabet: &[u8], len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                alphabet[(x % alphabet.len() as u64) as usize]
            })
            .collect()
    }

    pub const HEX: &[u8] = b"0123456789abcdef";
    pub const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    pub const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_validator_name_round_trips() {
        for (v, n) in NAMES {
            assert_eq!(n.parse::<Validator>(), Ok(*v));
            assert_eq!(v.name(), *n);
        }
        assert!("nope".parse::<Validator>().is_err());
    }
}
