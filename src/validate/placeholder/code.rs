//! Values that are program code, not data. Minified JavaScript in HAR
//! response bodies and source lines in tracebacks assign to fields named
//! like secrets all the time (`password:function(a){…}`,
//! `this.password=r[4]||n`, `e.apiKey=o.apiKey`,
//! `'SIGNING_KEY': settings.SECRET_KEY`); the "value" there is an
//! expression. Generic context rules reject it.

/// Whether `v` (a trimmed candidate value) reads as an expression: a
/// function literal, an arrow, a `||` / `&&` operator, a call or an index
/// on an identifier, or a member chain of identifier words (`o.apiKey`,
/// `process.env.API_KEY`).
pub fn is_code(v: &[u8]) -> bool {
    if v.starts_with(b"function") && matches!(v.get(8), None | Some(b'(' | b' ' | b'*' | b'{')) {
        return true;
    }
    if has(v, b"=>") || has(v, b"||") || has(v, b"&&") {
        return true;
    }
    let lead = leading_chain(v);
    if lead > 0 {
        match (v.get(lead), v.get(lead + 1)) {
            // A call: `getenv(`, `r.get("X")`, `f(a)`, `x()`.
            (Some(b'('), None) => return true,
            (Some(b'('), Some(n)) if ident_start(*n) || b"\"')`".contains(n) => return true,
            // An index: `r[4]`, `e["key"]`, `env['X']`.
            (Some(b'['), Some(n)) if n.is_ascii_digit() || b"\"'".contains(n) => return true,
            _ => {}
        }
    }
    lead == v.len() && is_member_chain(v)
}

fn has(v: &[u8], n: &[u8]) -> bool {
    memchr::memmem::find(v, n).is_some()
}

fn ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'$'
}

fn ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// Length of the `ident(.ident)*` that `v` starts with (0 when none).
fn leading_chain(v: &[u8]) -> usize {
    let mut i = 0;
    loop {
        if !v.get(i).copied().is_some_and(ident_start) {
            return i.saturating_sub(1);
        }
        i += v[i..].iter().take_while(|b| ident_byte(**b)).count();
        if v.get(i) != Some(&b'.') {
            return i;
        }
        i += 1;
    }
}

/// `a.b.c` where every part is a minified name (one or two characters) or
/// a word in any programmer's case, and the last is a word of at least
/// three letters: `o.apiKey`, `this.state.password`, `settings.SECRET_KEY`.
/// A random token's dotted parts carry digits and mixed case that no
/// word has.
fn is_member_chain(v: &[u8]) -> bool {
    let parts: Vec<&[u8]> = v.split(|b| *b == b'.').collect();
    let word = |p: &[u8]| {
        p.len() >= 3
            && p.split(|b| *b == b'_')
                .all(|w| !w.is_empty() && is_cased_word(w))
    };
    let short = |p: &[u8]| {
        (1..=2).contains(&p.len()) && p.iter().all(|b| ident_byte(*b)) && ident_start(p[0])
    };
    parts.len() >= 2
        && parts.iter().all(|p| word(p) || short(p))
        && parts.last().is_some_and(|p| word(p))
}

/// Letters only, as a programmer writes a word: `state`, `STATE`,
/// `apiKey`, `ApiKey` (every capital but the first after two lowercase
/// letters, or all capitals).
fn is_cased_word(w: &[u8]) -> bool {
    super::identifier::cased(w).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_are_code() {
        for v in [
            "function(a){return",
            "function",
            "r[4]||n",
            "x[1]",
            "o.apiKey",
            "t.options.apiKey",
            "this.password",
            "this.state.password",
            "e.target.value",
            "settings.SECRET_KEY",
            "process.env.API_KEY",
            "os.environ.get(",
            "getPassword()",
            "env['SECRET']",
            "a=>a.token",
            "n&&n.secret",
            "Rails.application.secret_key_base",
        ] {
            assert!(is_code(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn secrets_are_not_code() {
        for v in [
            "Kq8Lm2Nv7Rt1Yp5Xw3KdZb9a",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
            "2vUOMmRW12GQVjxtw8JUFcmL25zydj7G3.HqZFxfQJE",
            "zIWA1SFA6MM8SLbgxIYT.8ORUAugNAZpqRgrcu6hYVpxuoANwzpSuF0LhMGL",
            "s3cr3t-P@ssw0rd!",
            "Summer(2024)",
            "correct-horse-battery-staple",
            "django-insecure-k8q2#v9m$zp4r@x7!w1",
            "base64:Zk3q9TnW1pR4xY7bC2vM8sL5dJ0hG6fA3eK9uQ1iO2w=",
            "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
        ] {
            assert!(!is_code(v.as_bytes()), "{v}");
        }
    }
}
