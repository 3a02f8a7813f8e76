//! Content sniffing on the first block of an input: compressed and archive
//! formats by magic bytes, binary by a NUL byte, otherwise text. Names are
//! never trusted: a `.log` may be gzip and a `.gz` may be text.

/// How many leading bytes are sniffed.
pub const HEAD: usize = 8192;

/// What an input's first block says it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniff {
    Text,
    /// A NUL byte in the first block and no known container format.
    Binary,
    /// A compressed or archive format, by name (`gzip`, `zstd`, …).
    Container(&'static str),
}

pub fn sniff(head: &[u8]) -> Sniff {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\x1f\x8b", "gzip"),
        (b"\x28\xb5\x2f\xfd", "zstd"),
        (b"BZh", "bzip2"),
        (b"\xfd7zXZ\x00", "xz"),
        (b"PK\x03\x04", "zip"),
    ];
    if let Some((_, name)) = MAGIC.iter().find(|(m, _)| head.starts_with(m)) {
        // "BZh" is also ordinary text; require the block-size digit.
        if *name != "bzip2" || head.get(3).is_some_and(|d| (b'1'..=b'9').contains(d)) {
            return Sniff::Container(name);
        }
    }
    if head.len() >= 262 && &head[257..262] == b"ustar" {
        return Sniff::Container("tar");
    }
    if memchr::memchr(0, &head[..head.len().min(HEAD)]).is_some() {
        return Sniff::Binary;
    }
    Sniff::Text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff(b"\x1f\x8b\x08\x00rest"), Sniff::Container("gzip"));
        assert_eq!(sniff(b"\x28\xb5\x2f\xfd.."), Sniff::Container("zstd"));
        assert_eq!(sniff(b"BZh91AY"), Sniff::Container("bzip2"));
        assert_eq!(sniff(b"BZhello world"), Sniff::Text);
        let mut tar = vec![b'a'; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(sniff(&tar), Sniff::Container("tar"));
        assert_eq!(sniff(b"GET / HTTP/1.1\n"), Sniff::Text);
        assert_eq!(sniff(b"ELF\x00\x01"), Sniff::Binary);
        assert_eq!(sniff(b""), Sniff::Text);
    }
}
