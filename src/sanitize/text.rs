//! Redacting a text stream: every byte is copied as it was except the bytes
//! of each secret, which become a marker. A secret that spans lines (a PEM
//! block) keeps its line breaks after the marker, so line numbers hold.

use std::io::{self, Read, Write};

use super::{Fit, Redactor};
use crate::scan::chunk::{fills, StreamError};

/// Copies `reader` to `out` with every secret replaced. A read error ends
/// the copy (what was read before it has been written) and is returned.
/// With [`Fit::Same`] the copy has exactly the input's length.
pub fn stream(
    r: &mut Redactor,
    reader: &mut dyn Read,
    out: &mut dyn Write,
    fit: Fit,
) -> io::Result<()> {
    // Stream offset up to which `out` has been written.
    let mut written = 0u64;
    let mut failed = None;
    let read = fills(r.engine, reader, &mut |fill| {
        if failed.is_some() {
            return;
        }
        let at = |i: usize| fill.base + i as u64;
        let mut write = || -> io::Result<()> {
            let own = fill.owned.clone();
            for m in fill.all {
                // A match inside a secret already replaced is skipped.
                if !own.contains(&m.secret.start) || at(m.secret.start) < written || !r.wants(m) {
                    continue;
                }
                let from = usize::try_from(written.saturating_sub(fill.base)).unwrap_or(usize::MAX);
                out.write_all(&fill.buf[from..m.secret.start])?;
                let raw = &fill.buf[m.secret.clone()];
                r.replace(m.rule, m.bytes(fill.buf), raw, fit, out)?;
                written = at(m.secret.end);
            }
            let from = usize::try_from(written.saturating_sub(fill.base)).unwrap_or(usize::MAX);
            if from < own.end {
                out.write_all(&fill.buf[from..own.end])?;
                written = at(own.end);
            }
            Ok(())
        };
        if let Err(e) = write() {
            failed = Some(e);
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    read.map(drop).map_err(|StreamError { error, .. }| error)
}
