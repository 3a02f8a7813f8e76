//! Credentials in URL userinfo: `scheme://user:password@host`.

use super::{percent_decode, Pass};
use crate::validate::placeholder::{self, is_placeholder};

/// Whole passwords that stand for "a password goes here" in URLs.
const URL_PASSWORD_WORDS: &[&str] = &["pass", "password", "passwd", "pwd", "pw", "mypass"];
/// RFC 2606 / RFC 6761 documentation names, and stand-ins for "a host".
const EXAMPLE_DOMAINS: &[&str] = &["example.com", "example.org", "example.net"];
const EXAMPLE_HOSTS: &[&str] = &["host", "hostname", "domain.com", "domain.tld", "server.com"];
const YOUR_HOST_WORDS: &[&str] = &[
    "-", "_", "domain", "host", "server", "company", "db", "app", "site", "cluster", "instance",
    "account", "project", "org", "name",
];

/// The password of `scheme://user:pass@host`; `whole` is the whole match
/// (it holds the host). Rejects passwords shorter than 3 bytes (after
/// percent-decoding), placeholders (`password`, `pass`, `****`, `$VAR`,
/// `${VAR}`, `<pass>`, `%s`, `{password}`, …) and documentation hosts
/// (`example.com/.org/.net` and their subdomains, `*.example`, `*.invalid`,
/// `host`, `hostname`, `domain.com`, `your-host…`, templated hosts).
/// `localhost` and private addresses are kept: credentials for them are
/// still credentials, and often reused.
pub fn url_password(secret: &[u8], whole: &[u8]) -> Option<Pass> {
    let decoded = percent_decode(secret);
    let placeholder_like = |p: &[u8]| {
        is_placeholder(p)
            || URL_PASSWORD_WORDS
                .iter()
                .any(|w| p.eq_ignore_ascii_case(w.as_bytes()))
    };
    if decoded.len() < 3 || placeholder_like(secret) || placeholder_like(&decoded) {
        return None;
    }
    match url_host(secret, whole) {
        Some(host) if is_example_host(host) => None,
        _ => Some(Pass::default()),
    }
}

/// The host after `<secret>@` in `whole`, else after the last `@` of the
/// authority that follows `://`.
fn url_host<'a>(secret: &[u8], whole: &'a [u8]) -> Option<&'a [u8]> {
    let at = (0..whole.len())
        .find(|&i| whole[i..].starts_with(secret) && whole.get(i + secret.len()) == Some(&b'@'))
        .map(|i| i + secret.len())
        .or_else(|| {
            let start = placeholder::find(whole, b"://")? + 3;
            let end = whole[start..]
                .iter()
                .position(|b| b"/?#".contains(b) || b.is_ascii_whitespace())
                .map_or(whole.len(), |e| start + e);
            whole[start..end]
                .iter()
                .rposition(|&b| b == b'@')
                .map(|a| start + a)
        })?;
    let rest = &whole[at + 1..];
    let end = if rest.first() == Some(&b'[') {
        rest.iter()
            .position(|&b| b == b']')
            .map_or(rest.len(), |e| e + 1)
    } else {
        rest.iter()
            .position(|b| b"/?#:;,\"'>\\)]}".contains(b) || b.is_ascii_whitespace())
            .unwrap_or(rest.len())
    };
    Some(&rest[..end])
}

fn is_example_host(host: &[u8]) -> bool {
    let h = host.to_ascii_lowercase();
    let h = h.strip_suffix(b".").unwrap_or(&h);
    let under = |d: &str| h == d.as_bytes() || h.ends_with(format!(".{d}").as_bytes());
    let your = h.strip_prefix(b"your").is_some_and(|rest| {
        YOUR_HOST_WORDS
            .iter()
            .any(|w| rest.starts_with(w.as_bytes()))
    });
    EXAMPLE_DOMAINS.iter().any(|d| under(d))
        || under("example")
        || under("invalid")
        || EXAMPLE_HOSTS.iter().any(|e| h == e.as_bytes())
        || your
        || h.iter().any(|b| b"<>{}$%*".contains(b))
        || placeholder::find(h, b"xxx").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_password_rejects_placeholders() {
        let check = |pass: &str| {
            let whole = format!("postgres://app:{pass}@db.internal:5432/main");
            url_password(pass.as_bytes(), whole.as_bytes()).is_some()
        };
        assert!(check("Zq8Lm2Nv7Rt1"));
        assert!(check("p%40ss%2Fw0rd"));
        for p in [
            "password",
            "PASSWORD",
            "pass",
            "pwd",
            "****",
            "$DB_PASS",
            "${DB_PASS}",
            "<pass>",
            "%s",
            "{password}",
            "ab",
            "%41%42",
            "changeme",
            "xxx",
        ] {
            assert!(!check(p), "{p}");
        }
    }

    #[test]
    fn url_password_rejects_example_hosts_but_keeps_localhost() {
        let check =
            |whole: &str, pass: &str| url_password(pass.as_bytes(), whole.as_bytes()).is_some();
        let p = "Zq8Lm2Nv7Rt1";
        for host in [
            "example.com",
            "db.example.com",
            "EXAMPLE.ORG",
            "example.net.",
            "api.example",
            "thing.invalid",
            "host",
            "hostname",
            "domain.com",
            "yourdomain.com",
            "your-db-host",
            "${DB_HOST}",
            "<host>",
        ] {
            let whole = format!("mysql://root:{p}@{host}:3306/x");
            assert!(!check(&whole, p), "{host}");
        }
        for host in [
            "localhost",
            "127.0.0.1",
            "db",
            "[::1]",
            "examples.io",
            "myexample.com",
        ] {
            let whole = format!("redis://:{p}@{host}/0");
            assert!(check(&whole, p), "{host}");
        }
    }

    #[test]
    fn url_host_is_found() {
        assert_eq!(
            url_host(b"pw1", b"https://u:pw1@h.io/x"),
            Some(&b"h.io"[..])
        );
        assert_eq!(
            url_host(b"pw1", b"amqp://u:pw1@h.io:5672"),
            Some(&b"h.io"[..])
        );
        assert_eq!(url_host(b"pw1", b"x://u:pw1@[::1]:80"), Some(&b"[::1]"[..]));
        // Secret not followed by '@' in whole: fall back to the authority.
        assert_eq!(
            url_host(b"zz", b"https://u:p%40w@h.io/a@b"),
            Some(&b"h.io"[..])
        );
        assert_eq!(url_host(b"zz", b"no url here"), None);
        // No host at all: the password alone decides.
        assert!(url_password(b"Zq8Lm2Nv", b"Zq8Lm2Nv").is_some());
    }
}
