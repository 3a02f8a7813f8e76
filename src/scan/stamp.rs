//! When and where a log line was written, from the line itself: its
//! timestamp (ISO 8601 / RFC 3339, the combined log format's
//! `[10/Oct/2000:13:55:36 -0700]`, or syslog's `Oct 10 13:55:36`) and, for
//! syslog lines, the host field that follows it. Used by `--group-by
//! secret` for first and last seen.
//!
//! A timestamp without a zone is taken as UTC. A syslog (RFC 3164) stamp
//! has no year: it is taken in the current year, or the one before when
//! that would put it in the future.

use std::ops::Range;
use std::sync::OnceLock;

use regex_automata::meta::Regex;

/// How far into a line a timestamp is looked for.
const PREFIX: usize = 160;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // ok: a fixed pattern, not input; it compiles, or the unit tests fail.
        Regex::builder()
            .syntax(regex_automata::util::syntax::Config::new().utf8(false).unicode(false))
            .build(concat!(
                // ISO 8601 / RFC 3339 (also RFC 5424 syslog), optional zone.
                r"(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})[T ](?P<ih>\d{2}):(?P<imi>\d{2}):(?P<is>\d{2})",
                r"(?:[.,]\d{1,9})?(?P<iz>Z|[+-]\d{2}:?\d{2})?",
                // Combined log format.
                r"|\[(?P<cd>\d{2})/(?P<cm>[A-Z][a-z]{2})/(?P<cy>\d{4}):(?P<ch>\d{2}):(?P<cmi>\d{2}):(?P<cs>\d{2}) (?P<cz>[+-]\d{4})\]",
                // RFC 3164 syslog, at the line's start, then the host.
                r"|^(?:<\d{1,3}>)?(?P<sm>[A-Z][a-z]{2}) (?P<sd>[ \d]\d) (?P<sh>\d{2}):(?P<smi>\d{2}):(?P<ss>\d{2}) (?P<host>[A-Za-z0-9][A-Za-z0-9._-]{0,253}) ",
            ))
            .expect("the timestamp pattern compiles") // ok: a constant pattern, not input; every stamp unit test compiles it.
    })
}

/// The line's time (Unix seconds) and, for a syslog line, where in `line`
/// its host field is.
pub fn of_line(line: &[u8], now: i64) -> (Option<i64>, Option<Range<usize>>) {
    let line = &line[..line.len().min(PREFIX)];
    let re = pattern();
    let mut caps = re.create_captures();
    re.captures(line, &mut caps);
    if !caps.is_match() {
        return (None, None);
    }
    let num = |name: &str| -> Option<i64> {
        let span = caps.get_group_by_name(name)?;
        std::str::from_utf8(&line[span.range()])
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    let text = |name: &str| -> Option<&str> {
        caps.get_group_by_name(name)
            .and_then(|s| std::str::from_utf8(&line[s.range()]).ok())
    };
    let month = |name: &str| -> Option<i64> {
        let m = text(name)?;
        MONTHS.iter().position(|x| *x == m).map(|i| i as i64 + 1)
    };
    if caps.get_group_by_name("iy").is_some() {
        let offset = zone(text("iz"));
        let t = unix(
            num("iy"),
            num("im"),
            num("id"),
            num("ih"),
            num("imi"),
            num("is"),
        );
        return (t.map(|t| t - offset), None);
    }
    if caps.get_group_by_name("cy").is_some() {
        let offset = zone(text("cz"));
        let t = unix(
            num("cy"),
            month("cm"),
            num("cd"),
            num("ch"),
            num("cmi"),
            num("cs"),
        );
        return (t.map(|t| t - offset), None);
    }
    let host = caps.get_group_by_name("host").map(|s| s.range());
    let at = |year: i64| {
        unix(
            Some(year),
            month("sm"),
            num("sd"),
            num("sh"),
            num("smi"),
            num("ss"),
        )
    };
    let this_year = crate::finding::year_of(now);
    let t = match at(this_year) {
        // A day later than now is last year's (clocks differ by hours).
        Some(t) if t > now + 86_400 => at(this_year - 1),
        t => t,
    };
    (t, host)
}

/// Seconds east of UTC of a `Z`, `+hh:mm` or `+hhmm` zone (0 when absent).
fn zone(z: Option<&str>) -> i64 {
    let Some(z) = z.filter(|z| *z != "Z") else {
        return 0;
    };
    let digits: String = z.chars().filter(char::is_ascii_digit).collect();
    let (Ok(h), Ok(m)) = (
        digits.get(..2).unwrap_or("0").parse::<i64>(),
        digits.get(2..4).unwrap_or("0").parse::<i64>(),
    ) else {
        return 0;
    };
    let secs = h * 3600 + m * 60;
    if z.starts_with('-') {
        -secs
    } else {
        secs
    }
}

/// Unix seconds of a UTC civil time, when every part is there and valid.
fn unix(
    y: Option<i64>,
    m: Option<i64>,
    d: Option<i64>,
    hh: Option<i64>,
    mm: Option<i64>,
    ss: Option<i64>,
) -> Option<i64> {
    let (y, m, d, hh, mm, ss) = (y?, m?, d?, hh?, mm?, ss?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-05-01T12:00:00Z.
    const T: i64 = 1_714_564_800;

    #[test]
    fn reads_the_common_log_timestamps() {
        let now = T + 3600;
        for (line, want) in [
            (&b"2024-05-01T12:00:00Z INFO x"[..], T),
            (b"2024-05-01 14:00:00,123+02:00 x", T),
            (b"{\"ts\":\"2024-05-01T12:00:00.5Z\",\"msg\":\"x\"}", T),
            (
                b"10.0.0.1 - - [01/May/2024:08:00:00 -0400] \"GET / HTTP/1.1\"",
                T,
            ),
            (b"<34>May  1 12:00:00 web-01 sshd[7]: x", T),
        ] {
            assert_eq!(
                of_line(line, now).0,
                Some(want),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
        let line = b"May  1 12:00:00 web-01.example.com app: x";
        let host = of_line(line, now).1.expect("a host");
        assert_eq!(&line[host], b"web-01.example.com");
        assert_eq!(of_line(b"no time here", now), (None, None));
        assert_eq!(of_line(b"2024-13-01T00:00:00Z bad month", now).0, None);
    }

    #[test]
    fn a_syslog_stamp_after_now_is_last_year() {
        // Dec 31 seen on 2024-05-01: 2023-12-31.
        let t = of_line(b"Dec 31 00:00:00 h x", T).0.expect("a time");
        assert_eq!(
            crate::finding::rfc3339(t).as_deref(),
            Some("2023-12-31T00:00:00Z")
        );
    }
}
