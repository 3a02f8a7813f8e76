//! Session cookies known by their name: the one table of cookie names
//! that carry a login (Google account cookies, Shibboleth, names with
//! `sess`, `auth`, `token`, `sid`) and of the tracking and preference
//! cookies that look like them but grant nothing (`_ga`, `NID`, `lang`,
//! `ai_session`, `_hjSessionUser_…`, CSRF tokens). A cookie is reported
//! when its name is in the session class, not in the quiet class, and its
//! value looks random.

use super::Pass;

/// Name fragments of session cookies, matched case-insensitively anywhere
/// in the name (see [`is_session_name`] for the exceptions).
const SESSION_PARTS: &[&str] = &["sess", "auth", "token", "sid"];

/// Session cookies whose names hold none of [`SESSION_PARTS`] (exact,
/// case-sensitive, or a prefix when the entry ends with `*`).
const SESSION_NAMES: &[&str] = &[
    ".AspNetCore.Cookies",
    ".AspNetCore.Identity.Application",
    "wordpress_logged_in_*",
    "wordpress_sec_*",
    "li_at",
    "iPlanetDirectoryPro",
    "LOGIN_INFO",
];

/// Tracking, analytics, consent and preference cookies, and CSRF tokens
/// (which authenticate nothing on their own): never reported, even where
/// the name holds a session fragment (`ai_session`, `_uetsid`,
/// `AMP_TOKEN`, `_pin_unauth`, `_hjSessionUser_…`, `XSRF-TOKEN`). Exact
/// or `*`-prefix, case-sensitive.
const QUIET_NAMES: &[&str] = &[
    // Google Analytics / Ads, Google's non-login cookies.
    "_ga",
    "_ga_*",
    "_gid",
    "_gat*",
    "_gcl_*",
    "__utm*",
    "AMP_*",
    "NID",
    "AEC",
    "SOCS",
    "CONSENT",
    "1P_JAR",
    // Other analytics and ads.
    "_fbp",
    "_fbc",
    "_hj*",
    "ajs_*",
    "amp_*",
    "ai_session",
    "ai_user",
    "ai_authUser",
    "_uetsid",
    "_uetvid",
    "_clck",
    "_clsk",
    "_pin_unauth",
    "__stripe_sid",
    "__stripe_mid",
    "mp_*",
    "_pk_*",
    // Consent and preferences.
    "OptanonConsent",
    "OptanonAlertBoxClosed",
    "cookieconsent_status",
    "consent",
    "lang",
    "language",
    "locale",
    "theme",
    "timezone",
];

/// Session cookies that rules of their own judge, with checks made for
/// their id format (`session-id-cookie`, `java-session-id`,
/// `django-session-id`): left to them, so one cookie gets one verdict.
const OWNED_NAMES: &[&str] = &[
    "session",
    "sessionid",
    "SESSIONID",
    "PHPSESSID",
    "ASP.NET_SessionId",
    "JSESSIONID",
];

/// Name fragments (case-insensitive) of cookies that hold a one-time
/// check or a preference, not a login, even under a session-like name:
/// CSRF tokens, OAuth `state` / `nonce` values, redirect targets, consent
/// and preference flags (`oauth_state`, `next-auth.callback-url`,
/// `auth_redirect`, `session_prefs`).
const QUIET_PARTS: &[&str] = &[
    "csrf", "xsrf", "nonce", "state", "redirect", "callback", "consent", "pref",
];

/// Shortest value taken for a random session id: 16 characters (Google's
/// HSID and SSID are 17; PHP's shortest ids are 22).
const MIN_VALUE: usize = 16;
/// Longest value: browsers cap a cookie at 4096 bytes.
const MAX_VALUE: usize = 4096;

/// `secret` is a cookie value and `whole` the regex match `…name=value…`
/// it came from. Passes when the name is a session cookie's and the value
/// looks random.
pub fn session_cookie(secret: &[u8], whole: &[u8]) -> Option<Pass> {
    let name = cookie_name(whole)?;
    let owned = OWNED_NAMES.iter().any(|n| name == n.as_bytes());
    let ok = is_session_name(name) && !is_quiet_name(name) && !owned && looks_random(secret);
    ok.then(Pass::default)
}

/// The cookie name in `whole`: the text before its first `=`, without the
/// separator the match starts with (`;`, space, quote, comma).
fn cookie_name(whole: &[u8]) -> Option<&[u8]> {
    let eq = whole.iter().position(|&b| b == b'=')?;
    let name = &whole[..eq];
    let start = name
        .iter()
        .position(|b| !matches!(b, b';' | b',' | b'"' | b'\'') && !b.is_ascii_whitespace())?;
    Some(&name[start..])
}

fn has_part(name: &[u8], part: &str) -> bool {
    let part = part.as_bytes();
    name.windows(part.len())
        .any(|w| w.eq_ignore_ascii_case(part))
}

/// Where a session fragment occurs at `i` but is part of another word:
/// `sid` in `sidebar` / `inside` / `residence`, `auth` in `author`.
fn is_word_exception(name: &[u8], part: &str, i: usize) -> bool {
    let next = name.get(i + part.len()).map(u8::to_ascii_lowercase);
    match part {
        "sid" => next == Some(b'e'),
        "auth" => {
            let rest = &name[i + part.len()..];
            rest.len() >= 2 && rest[..2].eq_ignore_ascii_case(b"or")
        }
        _ => false,
    }
}

/// In the session class: a listed name, or a name holding a session
/// fragment that is not part of another word.
pub fn is_session_name(name: &[u8]) -> bool {
    if SESSION_NAMES.iter().any(|p| name_matches(name, p)) {
        return true;
    }
    SESSION_PARTS.iter().any(|part| {
        let p = part.as_bytes();
        (0..name.len().saturating_sub(p.len() - 1)).any(|i| {
            name[i..i + p.len()].eq_ignore_ascii_case(p) && !is_word_exception(name, part, i)
        })
    })
}

/// In the quiet class: tracking, consent, preference, CSRF or OAuth state.
pub fn is_quiet_name(name: &[u8]) -> bool {
    QUIET_NAMES.iter().any(|p| name_matches(name, p))
        || QUIET_PARTS.iter().any(|part| has_part(name, part))
}

/// Exact match, or prefix match for an entry ending in `*`.
fn name_matches(name: &[u8], entry: &str) -> bool {
    match entry.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix.as_bytes()),
        None => name == entry.as_bytes(),
    }
}

/// A random-looking cookie value: 16 to 4096 characters of the cookie
/// alphabet, mixing at least two of lower case, upper case and digits with
/// at least four letters, and not an identifier, flag, URL, e-mail or
/// JSON (`session_start=1715677964101`, `auth_redirect=%2Fdashboard`,
/// `auth_state=%7B%22next%22…`, a UUID request id). Entropy is the rule's
/// `min_entropy`.
pub fn looks_random(v: &[u8]) -> bool {
    if !(MIN_VALUE..=MAX_VALUE).contains(&v.len()) {
        return false;
    }
    let cookie_octet = |b: &u8| b.is_ascii_graphic() && !matches!(b, b'"' | b',' | b';' | b'\\');
    if !v.iter().all(cookie_octet) {
        return false;
    }
    let lower = v.iter().filter(|b| b.is_ascii_lowercase()).count();
    let upper = v.iter().filter(|b| b.is_ascii_uppercase()).count();
    let digit = v.iter().filter(|b| b.is_ascii_digit()).count();
    let classes = [lower, upper, digit].iter().filter(|&&n| n > 0).count();
    if classes < 2 || lower + upper < 4 {
        return false;
    }
    let structured = ["://", "%3a%2f%2f", "%7b", "%22", "%40", "@", "{", "|"]
        .iter()
        .any(|m| has_part(v, m))
        || v.first() == Some(&b'/')
        || v.starts_with(b"%2F")
        || is_uuid(v);
    !structured
}

fn is_uuid(v: &[u8]) -> bool {
    v.len() == 36
        && v.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::sample::{random_from, B62, B64, HEX};

    fn pair(name: &str, value: &str) -> bool {
        let whole = format!("; {name}={value};");
        session_cookie(value.as_bytes(), whole.as_bytes()).is_some()
    }

    #[test]
    fn google_account_cookies_are_sessions() {
        for name in [
            "SID",
            "HSID",
            "SSID",
            "APISID",
            "SAPISID",
            "__Secure-1PSID",
            "__Secure-3PSID",
            "__Secure-1PSIDTS",
            "__Secure-3PSIDCC",
            "__Secure-1PAPISID",
            "SIDCC",
            "LSID",
            "__Host-1PLSID",
            "__Host-3PLSID",
        ] {
            assert!(is_session_name(name.as_bytes()), "{name}");
            assert!(!is_quiet_name(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn framework_session_names() {
        for name in [
            "_shibsession_64656661756c7468747470733a2f2f",
            "PHPSESSID",
            "connect.sid",
            "sessionid",
            "auth_token",
            "authToken",
            "remember_user_token",
            "next-auth.session-token",
            "__Secure-next-auth.session-token",
            "SSESS4e5b0ccba7ab5c5e7e8f1e3c6f7d1a2b",
            "_oauth2_proxy",
            "AUTH_SESSION_ID",
            ".AspNetCore.Cookies",
            "wordpress_logged_in_0123456789abcdef",
            "sid_guard",
            "SMSESSION",
        ] {
            assert!(is_session_name(name.as_bytes()), "{name}");
            assert!(!is_quiet_name(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn tracking_preference_and_csrf_names_are_quiet() {
        // Not session names at all.
        for name in [
            "_ga",
            "_gid",
            "_fbp",
            "NID",
            "lang",
            "theme",
            "consent",
            "sidebar_collapsed",
            "author_pref",
            "inside_eu",
        ] {
            assert!(
                !is_session_name(name.as_bytes()) || is_quiet_name(name.as_bytes()),
                "{name}"
            );
        }
        // Session-looking names of trackers, and CSRF tokens.
        for name in [
            "ai_session",
            "_hjSessionUser_3127649",
            "_hjSession_3127649",
            "_uetsid",
            "__stripe_sid",
            "AMP_TOKEN",
            "_pin_unauth",
            "csrftoken",
            "XSRF-TOKEN",
            "__Host-csrf-token",
            "ai_authUser",
            "oauth_state",
            "next-auth.callback-url",
            "__Secure-next-auth.nonce",
            "auth_redirect",
            "session_prefs",
        ] {
            assert!(is_quiet_name(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn random_values_pass_and_structured_ones_do_not() {
        let b64 = String::from_utf8(random_from(B64, 34, 7)).expect("ascii");
        let b62 = String::from_utf8(random_from(B62, 17, 8)).expect("ascii");
        let hex = String::from_utf8(random_from(HEX, 32, 9)).expect("ascii");
        for v in [&b64, &b62, &hex] {
            assert!(looks_random(v.as_bytes()), "{v}");
        }
        assert!(looks_random(
            b"g.a000kQjx3Vt9hZQ2mWf7Lr0pYc8sN1uE5oKdT6bGyHiJ4lA"
        ));
        for v in [
            "deleted",
            "true",
            "1715677964101",
            "1715677964101|1715677964101",
            "2b1f6f1e-3c55-4f0e-9a7e-4c3cf4c1d0aa",
            "%2Fdashboard%2Fsettings%3Ftab%3D2",
            "https%3A%2F%2Fshop.example.com%2Fcart",
            "%7B%22next%22%3A%22%2Fhome%22%7D",
            "jrivera%40acme.io%7C2024",
            "authenticated_user_preference",
            "AAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(!looks_random(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn cookie_pairs() {
        let v = String::from_utf8(random_from(B64, 34, 3)).expect("ascii");
        assert!(pair("SAPISID", &v));
        assert!(pair("_shibsession_64656661756c74", &v));
        assert!(!pair("_ga", &v));
        assert!(!pair("OptanonConsent", &v));
        assert!(!pair("sid", "1"));
        // Names with rules of their own.
        assert!(pair("PHPSESSIDX", &v));
        assert!(!pair("PHPSESSID", &v));
        assert!(!pair("JSESSIONID", &v));
        assert!(cookie_name(b"Cookie: x").is_none());
        assert_eq!(cookie_name(b"; \"SID=abc"), Some(&b"SID"[..]));
    }
}
