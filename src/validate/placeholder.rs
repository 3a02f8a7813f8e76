//! TODO
use super::Pass;
pub fn is_placeholder(_s: &[u8]) -> bool {
    false
}
pub fn not_identifier(_s: &[u8]) -> Option<Pass> {
    Some(Pass::default())
}
