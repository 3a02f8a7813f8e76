//! Deny-lists for values that match a rule's shape but are not credentials:
//! documentation examples, template variables, masked or redacted values
//! ([`is_placeholder`]), vendors' documented sample credentials
//! ([`is_documented`]) and values they document as public ([`is_public`],
//! for generic rules only), identifiers that look random but are not secrets
//! ([`not_identifier`], in the `identifier` submodule) and code
//! ([`is_code`]).
//!
//! Every check here is applied to every rule by default, long base64 bodies
//! (PEM keys, encrypted cookies) included, so each is chosen so that a real
//! random token trips it only with negligible probability. Words that real
//! tokens carry on purpose (`test`, `fake`, `live`, `prod`, `demo`: Stripe's
//! `sk_test_` keys are real keys) are never reasons to reject.

mod code;
mod documented;
mod identifier;

pub use code::is_code;
pub use documented::{is_documented, is_public, Documented, DOCUMENTED, DOCUMENTED_JWT_PAYLOADS};
pub use identifier::not_identifier;

/// Values up to this length are treated as API-token-sized: in random data
/// a run of 6 identical characters is a ~10⁻⁸ event there, so such a run
/// means filler. Longer values (base64 of binary: PEM keys, session tokens)
/// legitimately hold `AAAAAAAA` runs of zero bytes.
const SHORT: usize = 64;
/// Minimum length of an ascending/descending run that marks filler.
const SEQUENCE: usize = 8;
/// Minimum length of a run of one repeated character that marks filler.
const RUN: usize = 6;

/// Whole values (compared case-insensitively, after trimming quotes) that
/// name a secret instead of being one, or stand for "no value".
const WHOLE_WORDS: &[&str] = &[
    "xxx",
    "secret",
    "password",
    "passwd",
    "pass",
    "pwd",
    "token",
    "null",
    "nil",
    "undefined",
    "none",
    "true",
    "false",
    "n/a",
    "key",
    "apikey",
    "api_key",
    "api-key",
    "access_token",
    "auth_token",
    "secret_key",
    "client_secret",
    "private_key",
    "mypassword",
    "mysecret",
    "mytoken",
];

/// Substrings (case-insensitive) that only documentation, templates and
/// masking produce. All are 7+ characters, or contain a byte outside the
/// base64 alphabets, so random data does not hit them.
const MARKERS_CI: &[&str] = &[
    "example",
    "changeme",
    "change_me",
    "change-me",
    "redacted",
    "placeholder",
    "replace_me",
    "replace-me",
    "replaceme",
    "insert_",
    "insert-",
    "[filtered]",
];

/// Short substrings matched only in their natural spellings (lower, UPPER,
/// Title), which keeps their chance in random base62/base64 negligible.
const MARKERS_WORD: &[&str] = &["dummy", "sample"];

/// Literal filler substrings: masking and truncation.
const MARKERS_EXACT: &[&str] = &[
    "xxxx",
    "XXXX",
    "****",
    "....",
    "\u{2026}",
    "\u{2022}\u{2022}",
];

/// What may follow `your` in a `your_api_key`-style placeholder.
const YOUR_WORDS: &[&str] = &[
    "key", "token", "secret", "pass", "api", "access", "app", "client", "auth", "private",
];

/// Whether `secret` is a placeholder, example, template variable or masked
/// value rather than a credential. See the module docs for the ground rules.
pub fn is_placeholder(secret: &[u8]) -> bool {
    let v = trim_value(secret);
    if v.is_empty() {
        return true;
    }
    is_whole_word(v)
        || is_whole_variable(v)
        || has_template(v)
        || has_marker(v)
        || has_your(v)
        || is_filler(v)
        || has_sequence(v, SEQUENCE)
        || v.ends_with(b"...")
}

/// Strips surrounding whitespace and one layer of matching quotes, which
/// rules sometimes capture along with the value.
pub(crate) fn trim_value(v: &[u8]) -> &[u8] {
    let v = v.trim_ascii();
    match (v.first(), v.last()) {
        (Some(&a), Some(&b)) if v.len() >= 2 && a == b && matches!(a, b'"' | b'\'' | b'`') => {
            v[1..v.len() - 1].trim_ascii()
        }
        _ => v,
    }
}

fn is_whole_word(v: &[u8]) -> bool {
    WHOLE_WORDS
        .iter()
        .any(|w| v.eq_ignore_ascii_case(w.as_bytes()))
}

fn is_ident(v: &[u8]) -> bool {
    matches!(v.first(), Some(b) if b.is_ascii_alphabetic() || *b == b'_')
        && v.iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// The whole value is one variable reference: `$VAR`, `%VAR%`, `:var`,
/// `{var}`, `{ var }`, `[FILTERED]`, `[hidden]`.
fn is_whole_variable(v: &[u8]) -> bool {
    let inner = |open: u8, close: u8| -> Option<&[u8]> {
        (v.len() >= 3 && v[0] == open && v[v.len() - 1] == close)
            .then(|| v[1..v.len() - 1].trim_ascii())
    };
    let sigil = |s: u8| v.len() >= 2 && v[0] == s && is_ident(&v[1..]);
    sigil(b'$')
        || sigil(b':')
        || inner(b'%', b'%').is_some_and(is_ident)
        || inner(b'{', b'}').is_some_and(is_ident)
        || inner(b'[', b']').is_some_and(|w| {
            !w.is_empty()
                && w.iter()
                    .all(|b| b.is_ascii_alphabetic() || b" _-".contains(b))
        })
}

/// Template syntax anywhere in the value: `${…}`, `{{…}}`, `#{…}`, `<%…`,
/// `%s`, `%(name)s`, `<name>`.
fn has_template(v: &[u8]) -> bool {
    let after =
        |open: &[u8], close: &[u8]| find(v, open).is_some_and(|i| find(&v[i..], close).is_some());
    after(b"${", b"}")
        || after(b"{{", b"}}")
        || after(b"#{", b"}")
        || find(v, b"<%").is_some()
        || find(v, b"%s").is_some()
        || after(b"%(", b")s")
        || has_angle_name(v)
}

/// `<TOKEN>`, `<your key here>`, `<api-key>`: a short name in angle brackets.
fn has_angle_name(v: &[u8]) -> bool {
    v.iter()
        .enumerate()
        .filter(|(_, &b)| b == b'<')
        .any(|(i, _)| {
            let rest = &v[i + 1..];
            let name_len = rest
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || b" _.-".contains(b))
                .count();
            (1..=40).contains(&name_len) && rest.get(name_len) == Some(&b'>')
        })
}

fn has_marker(v: &[u8]) -> bool {
    let lower = v.to_ascii_lowercase();
    MARKERS_CI
        .iter()
        .any(|m| find(&lower, m.as_bytes()).is_some())
        || MARKERS_WORD.iter().any(|m| contains_spelling(v, m))
        || MARKERS_EXACT
            .iter()
            .any(|m| find(v, m.as_bytes()).is_some())
}

/// `your_api_key`, `YOUR-TOKEN`, `YourSecret`, `yourkey`, `your_password`.
fn has_your(v: &[u8]) -> bool {
    ["your", "YOUR", "Your"].iter().any(|your| {
        let mut from = 0;
        while let Some(i) = find(&v[from..], your.as_bytes()) {
            let rest = &v[from + i + your.len()..];
            let follows_word = YOUR_WORDS.iter().any(|w| {
                rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w.as_bytes())
            });
            if matches!(rest.first(), Some(b'_' | b'-')) || follows_word {
                return true;
            }
            from += i + 1;
        }
        false
    })
}

/// Masked or filler values: at most two distinct bytes (`********`,
/// `abababab`), a short unit repeated (`abcabcabc`), or a long run of one
/// byte (`sk_live_000000000000`). For long values a run must cover a quarter
/// of the value, see [`SHORT`].
fn is_filler(v: &[u8]) -> bool {
    let run = longest_run(v);
    distinct_at_most(v, 2)
        || is_periodic(v)
        || (run >= RUN && (v.len() <= SHORT || run * 4 >= v.len()))
}

fn distinct_at_most(v: &[u8], n: usize) -> bool {
    let mut seen = [false; 256];
    let mut count = 0;
    for &b in v {
        if !seen[b as usize] {
            seen[b as usize] = true;
            count += 1;
            if count > n {
                return false;
            }
        }
    }
    true
}

fn longest_run(v: &[u8]) -> usize {
    let (mut best, mut cur) = (0, 0);
    for (i, &b) in v.iter().enumerate() {
        cur = if i > 0 && v[i - 1] == b { cur + 1 } else { 1 };
        best = best.max(cur);
    }
    best
}

/// The value is a unit of at most 16 bytes repeated at least three times.
fn is_periodic(v: &[u8]) -> bool {
    let n = v.len();
    n >= 6 && (1..=(n / 3).min(16)).any(|p| v[p..].iter().zip(v).all(|(a, b)| a == b))
}

/// An ascending or descending run of `min` consecutive digits or letters of
/// one case (`12345678`, `abcdefgh`, `ZYXWVUTS`; digits wrap, `7890123`).
fn has_sequence(v: &[u8], min: usize) -> bool {
    let (mut up, mut down) = (1, 1);
    for w in v.windows(2) {
        up = if successor(w[0]) == Some(w[1]) {
            up + 1
        } else {
            1
        };
        down = if successor(w[1]) == Some(w[0]) {
            down + 1
        } else {
            1
        };
        if up >= min || down >= min {
            return true;
        }
    }
    false
}

fn successor(b: u8) -> Option<u8> {
    match b {
        b'9' => Some(b'0'),
        b'0'..=b'8' | b'a'..=b'y' | b'A'..=b'Y' => Some(b + 1),
        _ => None,
    }
}

pub(crate) fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    if n.is_empty() || n.len() > h.len() {
        return None;
    }
    memchr::memmem::find(h, n)
}

/// `word`, `WORD` or `Word` occurs in `h` (`word` given in lowercase).
fn contains_spelling(h: &[u8], word: &str) -> bool {
    let upper = word.to_ascii_uppercase();
    let mut title = word.to_string();
    if let Some(first) = title.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    [word, upper.as_str(), title.as_str()]
        .iter()
        .any(|s| find(h, s.as_bytes()).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::validate::sample::{random_from, B62, B64};

    fn ph(s: &str) -> bool {
        is_placeholder(s.as_bytes())
    }

    #[test]
    fn documentation_examples_are_placeholders() {
        assert!(ph("AKIAIOSFODNN7EXAMPLE"));
        assert!(ph("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
        assert!(ph("my-example-token"));
        assert!(ph("changeme"));
        assert!(ph("ChangeMe123"));
        assert!(ph("REDACTED"));
        assert!(ph("<redacted>"));
        assert!(ph("ghp_Xk…(redacted)"));
        assert!(ph("placeholder_value"));
        assert!(ph("dummy-key-1"));
        assert!(ph("SAMPLE_TOKEN_1"));
        assert!(ph("insert_key_here"));
        assert!(ph("REPLACE_ME"));
        assert!(ph("replaceme"));
        assert!(ph("[FILTERED]"));
        assert!(ph("[hidden]"));
    }

    #[test]
    fn your_key_style_values_are_placeholders() {
        for v in [
            "your_api_key",
            "YOUR_API_KEY",
            "your-token",
            "yourkey",
            "YourSecret",
            "yourpassword",
            "sk_live_your_key_here",
            "<your key here>",
        ] {
            assert!(ph(v), "{v}");
        }
        // "your" followed by something else is not a reason.
        assert!(!ph("kq7YourzT3mB9xLw2"));
    }

    #[test]
    fn template_variables_are_placeholders() {
        for v in [
            "${API_KEY}",
            "prefix-${TOKEN}-suffix",
            "$API_KEY",
            "$password",
            "%API_KEY%",
            ":password",
            "{password}",
            "{ password }",
            "{{ api_key }}",
            "{{token}}",
            "#{secret}",
            "<%= ENV['KEY'] %>",
            "<TOKEN>",
            "<api-key>",
            "%s",
            "%(password)s",
        ] {
            assert!(ph(v), "{v}");
        }
    }

    #[test]
    fn no_value_words_are_placeholders() {
        for v in [
            "null",
            "NULL",
            "None",
            "undefined",
            "true",
            "False",
            "xxx",
            "secret",
            "Password",
            "passwd",
            "token",
            "nil",
            "N/A",
            "\"null\"",
            "  'none' ",
            "",
        ] {
            assert!(ph(v), "{v:?}");
        }
    }

    #[test]
    fn masked_and_filler_values_are_placeholders() {
        for v in [
            "********",
            "****abcd",
            "sk_live_****************1234",
            "xxxx-xxxx",
            "AKIAXXXXXXXXXXXXXXXX",
            "ghp_....",
            "sk-ant-api03-...",
            "••••••",
            "sk_live_000000000000000000000000",
            "ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "abababab",
            "abcabcabcabc",
            "Secret1Secret1Secret1",
            "aaaaaa",
            "xy",
        ] {
            assert!(ph(v), "{v}");
        }
    }

    #[test]
    fn sequences_are_placeholders() {
        for v in [
            "12345678",
            "0123456789",
            "1234567890",
            "abcdefgh",
            "ABCDEFGHIJ",
            "87654321",
            "zyxwvuts",
            "sk_live_abcdefghijklmnop",
            "token-98765432-x",
        ] {
            assert!(ph(v), "{v}");
        }
        // Seven is not enough; mixed classes do not chain.
        assert!(!ph("k1234567q"));
        assert!(!ph("wxyzABCD"));
    }

    #[test]
    fn real_looking_tokens_are_not_placeholders() {
        for v in [
            "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
            "sk_live_51HqLyjWDarjtT1zdp7dcQz",
            "rk_prod_Zq8Lm2Nv7Rt1Yp5Xw3Kd",
            "fake_but_real_prefix_9fK2mQ7xLp",
            "demo_live_k8Q2vX9mZp4R",
            "test",
            "xoxb-2634159206-5823470123-Kq8Lm2Nv7Rt1Yp5Xw3KdZb9a",
            "hunter2",
            "correct-horse-battery-staple",
            "s3cr3t-P@ssw0rd!",
        ] {
            assert!(!ph(v), "{v}");
        }
    }

    #[test]
    fn random_tokens_are_not_placeholders() {
        for seed in 1..500 {
            let a = random_from(B62, 40, seed);
            assert!(!is_placeholder(&a), "{}", String::from_utf8_lossy(&a));
            let b = random_from(B64, 88, seed);
            assert!(!is_placeholder(&b), "{}", String::from_utf8_lossy(&b));
        }
    }

    #[test]
    fn long_binary_base64_with_zero_runs_is_not_filler() {
        // OpenSSH key bodies hold runs of 'A' (zero bytes).
        let body = format!(
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABlwAAAAdzc2gtcn{}",
            String::from_utf8(random_from(B64, 300, 7)).expect("ascii")
        );
        assert!(!ph(&body));
        let pem = format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\\n{body}\\n-----END OPENSSH PRIVATE KEY-----"
        );
        assert!(!ph(&pem));
        // The same run in a token-sized value is filler.
        assert!(ph("b3BlbnNzAAAAAAAAAAABlwAAAAdzc2gtcn"));
    }

    #[test]
    fn helpers() {
        assert_eq!(trim_value(b" \"abc\" "), b"abc");
        assert_eq!(trim_value(b"'a'"), b"a");
        assert_eq!(trim_value(b"\"abc'"), b"\"abc'");
        assert_eq!(longest_run(b"abbbcc"), 3);
        assert_eq!(longest_run(b""), 0);
        assert!(is_periodic(b"xyzxyzxyz"));
        assert!(!is_periodic(b"xyzxyzxy1"));
        assert!(contains_spelling(b"aDUMMYb", "dummy"));
        assert!(contains_spelling(b"aDummyb", "dummy"));
        assert!(!contains_spelling(b"aDuMmYb", "dummy"));
    }
}
