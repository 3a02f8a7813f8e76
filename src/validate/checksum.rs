//! TODO
use super::Pass;
pub fn github_crc32(_s: &[u8]) -> Option<Pass> {
    Some(Pass::default())
}
