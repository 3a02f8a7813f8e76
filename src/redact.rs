//! The one masking function every output path uses, and the escaping of log
//! text before it reaches a terminal or a report. A secret is shown as its
//! public prefix (`ghp_`, `AKIA`) plus at most a quarter of the rest, never
//! more than 4 characters, then `…(redacted)`. Text shown around a finding
//! is scrubbed too: no credential-shaped value in it is shown, reported or
//! not.

use std::ops::Range;

use crate::finding::Kind;
use crate::validate::entropy::shannon;
use crate::validate::names::{self, NameClass};

/// Marker appended to every masked secret.
pub const MARK: &str = "…(redacted)";

/// Masks a secret found by a rule of kind `kind`: a password shows no
/// character at all (a few characters of a short, human-chosen password
/// narrow a guess too much); any other kind as [`mask`].
pub fn mask_kind(kind: Kind, secret: &[u8], prefix_len: usize) -> String {
    match kind {
        Kind::Password => MARK.to_string(),
        _ => mask(secret, prefix_len),
    }
}

/// Masks `secret`, keeping its first `prefix_len` bytes (the token's public
/// prefix) and at most `min(rest / 4, 4)` more.
pub fn mask(secret: &[u8], prefix_len: usize) -> String {
    let prefix_len = prefix_len.min(secret.len());
    let rest = secret.len() - prefix_len;
    let shown = prefix_len + (rest / 4).min(4);
    let mut out = escape(&secret[..shown]);
    out.push_str(MARK);
    out
}

/// Escapes bytes for display: printable ASCII and non-control Unicode stay,
/// control characters become `\t`, `\n`, `\r`, `\x1b`, bidirectional
/// overrides become `\u{202e}`, and invalid UTF-8 becomes `\xNN`. Log text can
/// then neither move a terminal's cursor nor reorder what a reader sees.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_char(&mut out, c);
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

fn push_char(out: &mut String, c: char) {
    match c {
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\\' => out.push('\\'),
        c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if is_invisible_control(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        c => out.push(c),
    }
}

/// C1 controls, bidi embedding/override/isolate marks and zero-width
/// characters: harmless bytes in a log, misleading on a screen.
fn is_invisible_control(c: char) -> bool {
    matches!(c as u32,
        0x80..=0x9f | 0x200b..=0x200f | 0x202a..=0x202e | 0x2066..=0x2069 | 0xfeff)
}

/// `text` escaped for display with every credential-shaped value in it
/// masked whole: the value of a secret-bearing name (`password=…`,
/// `"api_key": "…"`, `Authorization: Token …`) and every long run mixing
/// upper case, lower case and digits at high randomness. Context lines
/// hold neighbours no rule reported (below `--min-confidence`, on the
/// `allow` list, the tail of a secret cut at an escape); those must not
/// leak either. Hex ids and digests stay readable unless a secret name
/// carries them.
pub fn scrub(text: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for v in credential_shaped(text) {
        if v.start < at {
            continue;
        }
        out.push_str(&escape(&text[at..v.start]));
        out.push_str(MARK);
        at = v.end;
    }
    out.push_str(&escape(&text[at..]));
    out
}

/// Shortest run [`scrub`] judges by randomness alone.
const RANDOM_RUN: usize = 20;

/// The ranges [`scrub`] masks, sorted by start.
fn credential_shaped(text: &[u8]) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    // Values after a separator (`=`, `:`, `=>`) or an `Authorization`
    // scheme, judged by the name before them.
    for (i, &b) in text.iter().enumerate() {
        let after = match b {
            b'=' | b':' => i + 1,
            b' ' | b'\t' if scheme_before(&text[..i]) => i + 1,
            _ => continue,
        };
        let v = value_at(text, after);
        if v.is_empty() {
            continue;
        }
        let whole = &text[..v.end];
        if names::class_of(whole, &text[v.clone()]) == NameClass::Secret {
            found.push(v);
        }
    }
    // Long random-looking runs, whatever precedes them.
    let mut i = 0;
    while i < text.len() {
        let len = text[i..].iter().take_while(|&&b| is_run_byte(b)).count();
        if len >= RANDOM_RUN && random_looking(&text[i..i + len]) {
            found.push(i..i + len);
        }
        i += len.max(1);
    }
    found.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    found
}

/// Whether `head` ends with an `Authorization` scheme word.
fn scheme_before(head: &[u8]) -> bool {
    let word = head
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    let w = &head[head.len() - word..];
    [
        &b"Bearer"[..],
        b"bearer",
        b"BEARER",
        b"Token",
        b"token",
        b"Basic",
        b"basic",
    ]
    .contains(&w)
}

/// The value starting at `from` (past blanks and one opening quote, JSON's
/// escaped ones too) up to the next delimiter.
fn value_at(text: &[u8], from: usize) -> Range<usize> {
    let mut start = from;
    while start < text.len() && matches!(text[start], b' ' | b'\t' | b'>') {
        start += 1;
    }
    if text[start..].starts_with(b"\\\"") {
        start += 2;
    } else if start < text.len() && matches!(text[start], b'"' | b'\'') {
        start += 1;
    }
    let len = text[start..]
        .iter()
        .take_while(|&&b| !b" \t\r\n\"'&;,<>(){}[]|\\".contains(&b))
        .count();
    start..start + len
}

fn is_run_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'_' | b'~' | b'=' | b'-')
}

/// Upper case, lower case and digits, at more than 3.5 bits a character:
/// how keys and tokens look, and not ids, words or hex digests.
fn random_looking(run: &[u8]) -> bool {
    run.iter().any(u8::is_ascii_uppercase)
        && run.iter().any(u8::is_ascii_lowercase)
        && run.iter().any(u8::is_ascii_digit)
        && shannon(run) > 3.5
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_prefix_and_a_quarter_capped_at_four() {
        assert_eq!(
            mask(b"ghp_Xk12345678901234567890123456789012", 4),
            "ghp_Xk12…(redacted)"
        );
        assert_eq!(mask(b"hunter2", 0), "h…(redacted)");
        assert_eq!(mask(b"abc", 0), "…(redacted)");
        assert_eq!(mask(b"ghp_", 9), "ghp_…(redacted)");
    }

    #[test]
    fn scrub_masks_credential_shaped_values_only() {
        let cases: &[(&str, &str)] = &[
            (
                "user=ops password=Summer2024! next",
                "user=ops password=…(redacted) next",
            ),
            (
                r#"{"api_key": "k-1234abcd"}"#,
                r#"{"api_key": "…(redacted)"}"#,
            ),
            (
                r#"{\"secret\":\"s3cr3tvalue\"}"#,
                r#"{\"secret\":\"…(redacted)\"}"#,
            ),
            (
                "Authorization: Token 0123abcd",
                "Authorization: Token …(redacted)",
            ),
            ("blob Zq8rT2kLw9xYv3Bn7Mc1Hd end", "blob …(redacted) end"),
            // Ids, digests, words and paths stay readable.
            (
                "trace_id=e308056b8478bb48a2f70b44f9f75c58 GET /api/v1/orders/12345 ok",
                "trace_id=e308056b8478bb48a2f70b44f9f75c58 GET /api/v1/orders/12345 ok",
            ),
            (
                "pod=orders-api-c6fljs9dw9-v9h24 at 12:00:07",
                "pod=orders-api-c6fljs9dw9-v9h24 at 12:00:07",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(scrub(text.as_bytes()), *want, "{text}");
        }
    }

    #[test]
    fn passwords_show_no_character() {
        assert_eq!(mask_kind(Kind::Password, b"Summer2024!", 0), "…(redacted)");
        assert_eq!(
            mask_kind(Kind::ApiKey, b"Summer2024!", 0),
            mask(b"Summer2024!", 0)
        );
    }

    #[test]
    fn escape_neutralises_terminal_tricks() {
        assert_eq!(escape(b"a\x1b[31mb\tc"), "a\\x1b[31mb\\tc");
        assert_eq!(escape("x\u{202e}y".as_bytes()), "x\\u{202e}y");
        assert_eq!(escape(b"\xff\xfeok"), "\\xff\\xfeok");
        assert_eq!(escape("caf\u{e9}".as_bytes()), "caf\u{e9}");
    }
}
