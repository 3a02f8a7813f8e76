//! PEM private key blocks, as they appear in logs: with real newlines, with
//! the two-character escape `\n` (JSON, env dumps, stack traces), or folded
//! onto one line with spaces.

use super::{Pass, STD};
use crate::finding::Confidence;
use base64::Engine;

/// Fewest base64 body characters of a real key: the smallest EC key is
/// well above this; `...` or `<key here>` bodies are far below.
const MIN_BODY: usize = 64;

/// A whole `-----BEGIN … PRIVATE KEY-----` … `-----END … PRIVATE KEY-----`
/// block with the same label at both ends. Header lines (`Proc-Type:`,
/// `DEK-Info:`, PGP armor headers) are skipped; everything else must be
/// base64, at least 64 characters of it.
///
/// Confidence: medium for encrypted keys (`ENCRYPTED` in the label, a
/// `Proc-Type: 4,ENCRYPTED` header, or an OpenSSH key whose cipher is not
/// `none`), since they are useless without the passphrase; high otherwise.
///
/// The body is not required to decode: a key whose `+` became a space in a
/// form-encoded log line is still a leaked key.
pub fn pem_body(secret: &[u8]) -> Option<Pass> {
    let text = unescape(secret);
    let text = std::str::from_utf8(&text).ok()?;
    let after_begin = &text[text.find("-----BEGIN ")? + 11..];
    let label_len = after_begin.find("-----")?;
    let label = &after_begin[..label_len];
    if !label.contains("PRIVATE KEY") || label.contains('\n') {
        return None;
    }
    let rest = &after_begin[label_len + 5..];
    let end = rest.find("-----END ")?;
    if !rest[end + 9..].starts_with(&format!("{label}-----")) {
        return None;
    }
    let (b64, proc_encrypted) = body_base64(&rest[..end])?;
    if b64.len() < MIN_BODY {
        return None;
    }
    let encrypted = proc_encrypted
        || label.contains("ENCRYPTED")
        || (label.contains("OPENSSH") && openssh_encrypted(&b64));
    Some(Pass {
        confidence: Some(if encrypted {
            Confidence::Medium
        } else {
            Confidence::High
        }),
        expires: None,
    })
}

/// Turns `\n`, `\r`, `\t` escapes (any number of backslashes, for doubly
/// escaped JSON) into whitespace and `\/` into `/`; drops other backslashes.
fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' {
            out.push(s[i]);
            i += 1;
            continue;
        }
        while s.get(i) == Some(&b'\\') {
            i += 1;
        }
        match s.get(i) {
            Some(b'n' | b'r') => out.push(b'\n'),
            Some(b't') => out.push(b' '),
            Some(b'/') => out.push(b'/'),
            _ => continue,
        }
        i += 1;
    }
    out
}

/// The base64 characters of a PEM body, and whether a `Proc-Type` header
/// says `ENCRYPTED`. A token holding `:` is a header key: on a multi-line
/// body its whole line is the header; on a folded one-line body, its value
/// is the next token. Any other token must be base64, or the body is not a
/// key (`...`, `<redacted>`, prose).
fn body_base64(body: &str) -> Option<(String, bool)> {
    let multiline = body.trim().contains('\n');
    let mut b64 = String::new();
    let mut encrypted = false;
    for line in body.lines() {
        let mut tokens = line.split_ascii_whitespace();
        while let Some(tok) = tokens.next() {
            if tok.contains(':') {
                let value = match (multiline, tok.ends_with(':')) {
                    (true, _) => tokens.by_ref().collect::<Vec<_>>().join(" "),
                    (false, true) => tokens.next().unwrap_or("").to_string(),
                    (false, false) => String::new(),
                };
                if tok.starts_with("Proc-Type")
                    && (tok.contains("ENCRYPTED") || value.contains("ENCRYPTED"))
                {
                    encrypted = true;
                }
                continue;
            }
            if !tok
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
            {
                return None;
            }
            b64.push_str(tok);
        }
    }
    Some((b64, encrypted))
}

/// An OpenSSH key (`openssh-key-v1\0`, then a length-prefixed cipher name)
/// whose cipher is not `none`. Only the first 48 bytes are decoded.
fn openssh_encrypted(b64: &str) -> bool {
    let n = b64.len().min(64) / 4 * 4;
    let Ok(raw) = STD.decode(&b64.as_bytes()[..n]) else {
        return false;
    };
    let Some(rest) = raw.strip_prefix(b"openssh-key-v1\0") else {
        return false;
    };
    let Some(len) = rest.get(..4).and_then(|l| <[u8; 4]>::try_from(l).ok()) else {
        return false;
    };
    let len = u32::from_be_bytes(len) as usize;
    rest.get(4..4 + len).is_some_and(|name| name != b"none")
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;

    fn body(n: usize) -> String {
        std_pad(&bytes(n, 11))
    }

    fn wrap(lines: &str, label: &str, nl: &str) -> String {
        format!("-----BEGIN {label}-----{nl}{lines}{nl}-----END {label}-----")
    }

    fn folded(b64: &str, nl: &str) -> String {
        b64.as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).expect("ascii"))
            .collect::<Vec<_>>()
            .join(nl)
    }

    #[test]
    fn plain_keys_are_high() {
        for label in [
            "RSA PRIVATE KEY",
            "PRIVATE KEY",
            "EC PRIVATE KEY",
            "DSA PRIVATE KEY",
        ] {
            let k = wrap(&folded(&body(300), "\n"), label, "\n");
            let p = pem_body(k.as_bytes()).expect(label);
            assert_eq!(p.confidence, Some(Confidence::High), "{label}");
        }
        let crlf = wrap(&folded(&body(300), "\r\n"), "PRIVATE KEY", "\r\n");
        assert!(pem_body(crlf.as_bytes()).is_some());
    }

    #[test]
    fn escaped_and_folded_keys() {
        let b = body(300);
        // Literal backslash-n, as in JSON.
        let k = wrap(&folded(&b, "\\n"), "RSA PRIVATE KEY", "\\n");
        assert!(!k.contains('\n'));
        assert!(pem_body(k.as_bytes()).is_some());
        // Doubly escaped, with escaped slashes.
        let k = wrap(&folded(&b, "\\\\n"), "PRIVATE KEY", "\\\\n").replace('/', "\\/");
        assert!(pem_body(k.as_bytes()).is_some());
        // Folded onto one line with spaces.
        let k = wrap(&folded(&b, " "), "PRIVATE KEY", " ");
        assert!(pem_body(k.as_bytes()).is_some());
        // Surrounding log text.
        let k = format!(
            "key=\"{}\" user=x",
            wrap(&folded(&b, "\\n"), "PRIVATE KEY", "\\n")
        );
        assert!(pem_body(k.as_bytes()).is_some());
    }

    #[test]
    fn encrypted_keys_are_medium() {
        let b = folded(&body(300), "\n");
        let k = wrap(&b, "ENCRYPTED PRIVATE KEY", "\n");
        assert_eq!(
            pem_body(k.as_bytes()).and_then(|p| p.confidence),
            Some(Confidence::Medium)
        );
        let legacy =
            format!("Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\n{b}");
        let k = wrap(&legacy, "RSA PRIVATE KEY", "\n");
        assert_eq!(
            pem_body(k.as_bytes()).and_then(|p| p.confidence),
            Some(Confidence::Medium)
        );
        // The same headers in a one-line, space-folded key.
        let one_line = wrap(&legacy.replace('\n', " "), "RSA PRIVATE KEY", " ");
        assert_eq!(
            pem_body(one_line.as_bytes()).and_then(|p| p.confidence),
            Some(Confidence::Medium)
        );
    }

    fn openssh(cipher: &str) -> String {
        let mut raw = b"openssh-key-v1\0".to_vec();
        raw.extend((cipher.len() as u32).to_be_bytes());
        raw.extend(cipher.as_bytes());
        raw.extend(bytes(400, 5));
        wrap(&folded(&std_pad(&raw), "\n"), "OPENSSH PRIVATE KEY", "\n")
    }

    #[test]
    fn openssh_cipher_decides() {
        let plain = pem_body(openssh("none").as_bytes()).expect("plain openssh");
        assert_eq!(plain.confidence, Some(Confidence::High));
        let enc = pem_body(openssh("aes256-ctr").as_bytes()).expect("encrypted openssh");
        assert_eq!(enc.confidence, Some(Confidence::Medium));
    }

    #[test]
    fn pgp_block_with_armor_headers() {
        let b = folded(&body(400), "\n");
        let k = wrap(
            &format!("Version: GnuPG v2\nComment: made for a test\n\n{b}\n=Ab3d"),
            "PGP PRIVATE KEY BLOCK",
            "\n",
        );
        assert_eq!(
            pem_body(k.as_bytes()).and_then(|p| p.confidence),
            Some(Confidence::High)
        );
    }

    #[test]
    fn rejects_non_keys() {
        let b = folded(&body(300), "\n");
        // Public keys and certificates are not secrets.
        assert!(pem_body(wrap(&b, "PUBLIC KEY", "\n").as_bytes()).is_none());
        assert!(pem_body(wrap(&b, "CERTIFICATE", "\n").as_bytes()).is_none());
        // Placeholder or short bodies.
        for filler in [
            "...",
            "<your key here>",
            "MIIEvQIBADANBg...snip...",
            "MIIBOgIBAAJBAKj34GkxFhD9",
        ] {
            assert!(
                pem_body(wrap(filler, "PRIVATE KEY", "\n").as_bytes()).is_none(),
                "{filler}"
            );
        }
        // Mismatched or missing END.
        let k = format!("-----BEGIN RSA PRIVATE KEY-----\n{b}\n-----END PRIVATE KEY-----");
        assert!(pem_body(k.as_bytes()).is_none());
        let k = format!("-----BEGIN RSA PRIVATE KEY-----\n{b}\n");
        assert!(pem_body(k.as_bytes()).is_none());
        assert!(pem_body(b"").is_none());
        assert!(pem_body(b"-----BEGIN PRIVATE KEY").is_none());
    }

    #[test]
    fn unescape_handles_backslashes() {
        assert_eq!(unescape(br"a\nb\\nc\/d\te\x"), b"a\nb\nc/d ex");
        assert_eq!(unescape(b"trailing\\"), b"trailing");
    }
}
