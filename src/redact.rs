//! The one masking function every output path uses, and the escaping of log
//! text before it reaches a terminal or a report. A secret is shown as its
//! public prefix (`ghp_`, `AKIA`) plus at most a quarter of the rest, never
//! more than 4 characters, then `…(redacted)`.

use crate::finding::Kind;

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
