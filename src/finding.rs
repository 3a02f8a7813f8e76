//! The finding: what one located, validated, masked secret looks like when it
//! leaves the scanner. It is the only type that crosses threads to the reporter,
//! and it is built with its secret and context already masked (unless the user
//! asked for raw secrets), so no output format can leak by forgetting a call.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What kind of credential a rule finds (the `kind` field of the contract).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    ApiKey,
    BearerToken,
    Jwt,
    SessionCookie,
    BasicAuth,
    UrlCredential,
    PrivateKey,
    Password,
    GenericSecret,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::ApiKey,
        Kind::BearerToken,
        Kind::Jwt,
        Kind::SessionCookie,
        Kind::BasicAuth,
        Kind::UrlCredential,
        Kind::PrivateKey,
        Kind::Password,
        Kind::GenericSecret,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ApiKey => "api-key",
            Kind::BearerToken => "bearer-token",
            Kind::Jwt => "jwt",
            Kind::SessionCookie => "session-cookie",
            Kind::BasicAuth => "basic-auth",
            Kind::UrlCredential => "url-credential",
            Kind::PrivateKey => "private-key",
            Kind::Password => "password",
            Kind::GenericSecret => "generic-secret",
        }
    }
}

/// How sure leaksweep is that a finding is a real, usable credential.
/// Ordered so that `High > Medium > Low`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// Where inside a HAR capture a finding sits (filled in by the HAR source).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HarLocation {
    /// 0-based index in `log.entries`; null for strings outside the
    /// entries (`pages`, `creator`).
    pub entry: Option<u64>,
    pub field: String,
}

/// One reported secret. Field meanings are the JSON contract; see
/// [`crate::report::json`] for the wire format. (Serialized whole only to
/// a scan's own temporary file, see `report::order`.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The input path as the user named it (`-` for stdin).
    pub path: String,
    /// Path inside an archive, when the finding came from an archive member.
    pub member: Option<String>,
    pub har: Option<HarLocation>,
    /// 1-based line number in the (decompressed) stream.
    pub line: Option<u64>,
    /// 1-based byte column of the secret's first byte.
    pub column: Option<u64>,
    /// 0-based byte offset of the secret's first byte.
    pub offset: Option<u64>,
    pub rule: String,
    pub kind: Kind,
    pub confidence: Confidence,
    /// Masked secret, or the raw secret under `--show-secrets`.
    pub secret: String,
    /// Lowercase hex SHA-256 of the exact secret bytes.
    pub fingerprint: String,
    /// The text around the secret, with every secret in it masked and
    /// control characters escaped.
    pub context: String,
    /// RFC 3339 expiry where the token itself says when it expires.
    pub expires: Option<String>,
    /// When the line holding it was written (Unix seconds), by the line's
    /// own timestamp: the JSON finding's `time`, and `--group-by`'s first
    /// and last seen.
    pub when: Option<i64>,
    /// The host a syslog line names: the JSON finding's `host`, and one of
    /// `--group-by`'s hosts.
    pub host: Option<String>,
    /// For a HAR finding, its entry's `METHOD URL`, secrets masked: the
    /// human format shows it. Not part of the JSON finding.
    pub request: Option<String>,
}

/// Lowercase hex SHA-256 of the secret bytes: lets a baseline or a second
/// tool match findings without ever storing the secret.
pub fn fingerprint(secret: &[u8]) -> String {
    let digest = Sha256::digest(secret);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Formats Unix seconds as an RFC 3339 UTC time (`2024-05-01T12:00:00Z`).
/// Returns `None` for times outside years 1970..=9999, which no real token
/// carries.
pub fn rfc3339(unix: i64) -> Option<String> {
    if !(0..=253_402_300_799).contains(&unix) {
        return None;
    }
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    ))
}

/// Reads back a time [`rfc3339`] wrote (`2024-05-01T12:00:00Z`: UTC,
/// whole seconds) as Unix seconds; `None` for any other shape.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let shape = b.len() == 20
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'Z',
            _ => c.is_ascii_digit(),
        });
    if !shape {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let unix = days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss;
    // A day past the month's end (`02-30`) comes back as another date.
    (rfc3339(unix).as_deref() == Some(s)).then_some(unix)
}

/// Days since 1970-01-01 of a proleptic Gregorian date: the inverse of
/// [`civil_from_days`] (the same algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The calendar year (UTC) of Unix seconds.
pub fn year_of(unix: i64) -> i64 {
    civil_from_days(unix.div_euclid(86_400)).0
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// well-known algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_sha256_hex() {
        assert_eq!(
            fingerprint(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn rfc3339_formats_known_times() {
        assert_eq!(rfc3339(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(
            rfc3339(951_782_400).as_deref(),
            Some("2000-02-29T00:00:00Z")
        );
        assert_eq!(
            rfc3339(1_714_564_800).as_deref(),
            Some("2024-05-01T12:00:00Z")
        );
        assert_eq!(rfc3339(-1), None);
    }

    #[test]
    fn rfc3339_reads_back_what_it_writes() {
        for t in [
            0,
            951_782_400,
            1_714_564_800,
            1_709_164_799,
            253_402_300_799,
        ] {
            let s = rfc3339(t).expect("in range");
            assert_eq!(parse_rfc3339(&s), Some(t), "{s}");
        }
        for bad in [
            "2024-02-30T00:00:00Z",
            "2024-05-01T12:00:00+02:00",
            "2024-05-01 12:00:00Z",
            "2024-13-01T00:00:00Z",
            "",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
