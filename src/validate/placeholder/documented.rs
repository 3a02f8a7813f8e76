//! Credentials that vendors publish in their documentation as samples.
//! They are format-valid (Stripe's docs key passes every check a live key
//! does), they end up in logs through copied curl commands, tutorials and
//! test fixtures, and they grant nothing: whatever rule matched one, it is
//! not a finding.
//!
//! This is the one place they are listed, each with where it is published.
//! Add an entry only for a value a vendor documents as its example. Beside
//! them, [`PUBLIC_PREFIXES`]: prefixes of values their issuer documents as
//! public, which generic rules pass over.

/// One documented sample credential.
pub struct Documented {
    pub value: &'static str,
    /// What it is, in a few words.
    pub what: &'static str,
    /// Where the vendor publishes it.
    pub source: &'static str,
}

/// Exact sample values.
pub const DOCUMENTED: &[Documented] = &[
    Documented {
        value: "AKIAIOSFODNN7EXAMPLE",
        what: "AWS access key id",
        source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html",
    },
    Documented {
        value: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        what: "AWS secret access key",
        source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html",
    },
    Documented {
        value: "AKIAI44QH8DHBEXAMPLE",
        what: "AWS access key id (second example)",
        source: "https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-files.html",
    },
    Documented {
        value: "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
        what: "AWS secret access key (second example)",
        source: "https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-files.html",
    },
    Documented {
        value: "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        what: "Stripe secret key of the API reference examples",
        source: "https://docs.stripe.com/api/authentication",
    },
    Documented {
        value: "pk_test_TYooMQauvdEDq54NiTphI7jx",
        what: "Stripe publishable key paired with sk_test_4eC39…",
        source: "https://docs.stripe.com/js",
    },
    Documented {
        value: "sk_test_BQokikJOvBiI2HlWgH4olfQ2",
        what: "Stripe secret key of the API reference examples",
        source: "https://docs.stripe.com/api/authentication",
    },
    Documented {
        value: "pk_test_6pRNASCoBOKtIshFeQd4XMUh",
        what: "Stripe publishable key paired with sk_test_BQokik…",
        source: "https://docs.stripe.com/js",
    },
    Documented {
        value: "gho_16C7e42F292c6912E7710c838347Ae178B4a",
        what: "GitHub OAuth app access token",
        source: "https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps",
    },
    Documented {
        value: "ghu_16C7e42F292c6912E7710c838347Ae178B4a",
        what: "GitHub App user access token",
        source: "https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app",
    },
    Documented {
        value: "ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498",
        what: "GitHub App refresh token",
        source: "https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens",
    },
    Documented {
        value: "ghs_16C7e42F292c6912E7710c838347Ae178B4a",
        what: "GitHub App installation access token",
        source: "https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app",
    },
    Documented {
        value: "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        what: "GitHub personal access token (the docs' sample body with the PAT prefix)",
        source: "https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/managing-your-personal-access-tokens",
    },
    Documented {
        value: "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
        what: "Slack bot token of the oauth.v2.access example response",
        source: "https://api.slack.com/methods/oauth.v2.access",
    },
    Documented {
        value: "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe",
        what: "Google API key",
        source: "https://cloud.google.com/docs/authentication/api-keys",
    },
    Documented {
        value: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        what: "jwt.io debugger's default token (HS256, secret 'your-256-bit-secret')",
        source: "https://jwt.io/",
    },
    Documented {
        value: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiYWRtaW4iOnRydWUsImlhdCI6MTUxNjIzOTAyMn0.KMUFsIDTnFmyG3nMiGM6H9FNFUROf3wh7SmqJp-QV30",
        what: "jwt.io debugger's default token, current version (HS256)",
        source: "https://jwt.io/",
    },
];

/// JWT payloads (the middle, base64url part) of documentation examples:
/// jwt.io's "John Doe" claims, whatever header and signature they are
/// shown with (the debugger re-signs them for each algorithm and key).
pub const DOCUMENTED_JWT_PAYLOADS: &[Documented] = &[
    Documented {
        value: "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ",
        what: r#"{"sub":"1234567890","name":"John Doe","iat":1516239022}"#,
        source: "https://jwt.io/",
    },
    Documented {
        value: "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiYWRtaW4iOnRydWUsImlhdCI6MTUxNjIzOTAyMn0",
        what: r#"{"sub":"1234567890","name":"John Doe","admin":true,"iat":1516239022}"#,
        source: "https://jwt.io/",
    },
];

/// Prefixes of values their issuer documents as public: meant for browsers
/// and apps, so they sit in page requests and client logs by design.
/// Generic context rules (`access_token=`, `api_key:`) do not report them;
/// a rule written for the family still may.
pub const PUBLIC_PREFIXES: &[Documented] = &[
    Documented {
        value: "pk.eyJ",
        what: "Mapbox public token",
        source: "https://docs.mapbox.com/help/dive-deeper/access-tokens/",
    },
    Documented {
        value: "pk_live_",
        what: "Stripe publishable key",
        source: "https://docs.stripe.com/keys",
    },
    Documented {
        value: "pk_test_",
        what: "Stripe publishable test key",
        source: "https://docs.stripe.com/keys",
    },
    Documented {
        value: "NRJS-",
        what: "New Relic browser key",
        source: "https://docs.newrelic.com/docs/apis/intro-apis/new-relic-api-keys/",
    },
    Documented {
        value: "link-sandbox-",
        what: "Plaid Link token (client-side, expires in hours)",
        source: "https://plaid.com/docs/api/link/#linktokencreate",
    },
    Documented {
        value: "link-development-",
        what: "Plaid Link token (client-side, expires in hours)",
        source: "https://plaid.com/docs/api/link/#linktokencreate",
    },
    Documented {
        value: "link-production-",
        what: "Plaid Link token (client-side, expires in hours)",
        source: "https://plaid.com/docs/api/link/#linktokencreate",
    },
];

/// Whether `v` (trimmed of quotes) starts with a prefix of
/// [`PUBLIC_PREFIXES`].
pub fn is_public(v: &[u8]) -> bool {
    let v = super::trim_value(v);
    PUBLIC_PREFIXES
        .iter()
        .any(|d| v.starts_with(d.value.as_bytes()))
}

/// Whether `v` (trimmed of quotes) is a documented sample credential, or a
/// JWT carrying a documented sample payload.
pub fn is_documented(v: &[u8]) -> bool {
    let v = super::trim_value(v);
    if DOCUMENTED.iter().any(|d| d.value.as_bytes() == v) {
        return true;
    }
    let mut parts = v.split(|b| *b == b'.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(_), None) if h.starts_with(b"eyJ") => DOCUMENTED_JWT_PAYLOADS
            .iter()
            .any(|d| d.value.as_bytes() == p),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_prefixes_match_only_at_the_start() {
        assert!(is_public(b"pk.eyJ1IjoiYWNtZSIsImEiOiJjbHgifQ.abc"));
        assert!(is_public(
            b"\"link-sandbox-6f1c2a4e-0d2b-4c4a-9b1e-3f0a1b2c3d4e\""
        ));
        assert!(!is_public(b"sk.eyJ1IjoiYWNtZSIsImEiOiJjbHgifQ.abc"));
        assert!(!is_public(b"xpk_live_51H8abc"));
        assert!(!is_public(
            b"access-sandbox-6f1c2a4e-0d2b-4c4a-9b1e-3f0a1b2c3d4e"
        ));
    }

    #[test]
    fn every_entry_is_matched_and_sourced() {
        for d in DOCUMENTED {
            assert!(is_documented(d.value.as_bytes()), "{}", d.value);
            assert!(d.source.starts_with("https://"), "{}", d.value);
            assert!(!d.what.is_empty());
        }
        for d in DOCUMENTED_JWT_PAYLOADS {
            assert!(d.source.starts_with("https://"));
        }
    }

    #[test]
    fn documented_jwt_payloads_match_under_any_signature() {
        let t = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.c2lnbmVkIHdpdGggYW5vdGhlciBrZXk";
        assert!(is_documented(t.as_bytes()));
        assert!(is_documented(format!("\"{t}\"").as_bytes()));
    }

    #[test]
    fn near_misses_are_not_documented() {
        assert!(!is_documented(b"sk_test_4eC39HqLyjWDarjtT1zdp7dd"));
        assert!(!is_documented(b"sk_live_4eC39HqLyjWDarjtT1zdp7dc"));
        assert!(!is_documented(
            b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
        ));
        assert!(!is_documented(b""));
    }
}
