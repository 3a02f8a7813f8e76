//! Redacting a HAR: the capture stays valid JSON with the same entries.
//! Only the JSON strings that hold a secret are rewritten: the secret's
//! bytes in the string's value become the marker (a percent-encoded secret
//! in its encoded form), and a base64 body is decoded, redacted and encoded
//! again. A string without escapes keeps every other byte as it was; one
//! with escapes is encoded again (the same value, perhaps other escapes).

use std::io::{self, Read, Write};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::{text, Fit, Redactor};
use crate::har::{self, Redaction};

/// Copies a HAR stream redacted. It is spooled to an unlinked temporary
/// file and mapped: the walk needs the whole document, memory does not.
pub fn copy(r: &mut Redactor, reader: &mut dyn Read, out: &mut dyn Write) -> io::Result<()> {
    let mut tmp = tempfile::tempfile()?;
    let len = io::copy(reader, &mut tmp)?;
    let map = if len == 0 {
        None
    } else {
        // SAFETY: a private, read-only mapping of an unlinked temporary
        // file that only this function holds: nothing can change it.
        Some(unsafe { memmap2::Mmap::map(&tmp)? })
    };
    let raw: &[u8] = map.as_deref().unwrap_or_default();
    let min = r.min_confidence;
    // Collected first (they are few: only secrets), written once the walk
    // has shown the whole document is a HAR.
    let mut found = Vec::new();
    let walked = har::redactions(
        r.engine,
        raw,
        &|m| m.outcome.confidence >= min,
        &mut |batch| found.extend(batch),
    );
    match walked {
        Ok(true) => {}
        // Valid JSON, but not a HAR: plain text.
        Ok(false) => return text::stream(r, &mut &raw[..], out, Fit::Free),
        Err(e) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "HAR is not valid JSON ({} at byte {}): it cannot be rewritten as a HAR",
                    e.what, e.at
                ),
            ))
        }
    }
    let mut written = 0;
    write_strings(r, raw, &found, &mut written, out)?;
    out.write_all(&raw[written..])
}

/// Writes the bytes up to and including each string that holds a secret
/// (`found` is in file order, grouped by string), that string rewritten.
fn write_strings(
    r: &mut Redactor,
    raw: &[u8],
    found: &[Redaction],
    written: &mut usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut rest = found;
    while let Some(first) = rest.first() {
        let string = first.at.string.clone();
        let n = rest.iter().take_while(|x| x.at.string == string).count();
        let (group, tail) = rest.split_at(n);
        rest = tail;
        if string.start < *written {
            continue;
        }
        out.write_all(&raw[*written..string.start])?;
        out.write_all(&rewrite(r, raw, group))?;
        *written = string.end;
    }
    Ok(())
}

/// The new body of one JSON string, its secrets replaced.
fn rewrite(r: &mut Redactor, raw: &[u8], group: &[Redaction]) -> Vec<u8> {
    let first = &group[0].at;
    let value = har::string_value(raw, first.string.clone(), first.escaped);
    if group.iter().any(|x| x.at.base64) {
        let Some(body) = har::base64_text(&value) else {
            return raw[first.string.clone()].to_vec();
        };
        let spans: Vec<&Redaction> = group.iter().filter(|x| x.at.base64).collect();
        let body = splice(r, &body, &spans, false);
        return STANDARD.encode(body).into_bytes();
    }
    let spans: Vec<&Redaction> = group.iter().collect();
    if first.escaped {
        har::string_body(&splice(r, &value, &spans, false))
    } else {
        splice(r, &value, &spans, true)
    }
}

/// `value` with each span (sorted by start; overlapping ones merged)
/// replaced by its marker, JSON-escaped when `escape_marker`.
fn splice(r: &mut Redactor, value: &[u8], spans: &[&Redaction], escape_marker: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut at = 0;
    let mut i = 0;
    while i < spans.len() {
        let first = spans[i];
        let start = first.at.span.start.min(value.len()).max(at);
        let mut end = first.at.span.end.min(value.len());
        i += 1;
        while i < spans.len() && spans[i].at.span.start < end {
            end = end.max(spans[i].at.span.end.min(value.len()));
            i += 1;
        }
        if end <= start {
            continue;
        }
        out.extend_from_slice(&value[at..start]);
        let mut marker = r.marker(first.rule, &first.secret).into_bytes();
        marker.extend(std::iter::repeat_n(
            b'\n',
            memchr::memchr_iter(b'\n', &value[start..end]).count(),
        ));
        if escape_marker {
            out.extend_from_slice(&har::string_body(&marker));
        } else {
            out.extend_from_slice(&marker);
        }
        r.count(first.rule);
        at = end;
    }
    out.extend_from_slice(&value[at..]);
    out
}
