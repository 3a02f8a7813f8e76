//! TODO
use super::Pass;
pub fn jwt(_s: &[u8]) -> Option<Pass> {
    Some(Pass::default())
}
pub fn itsdangerous(_s: &[u8]) -> Option<Pass> {
    Some(Pass::default())
}
pub fn django_signed(_s: &[u8]) -> Option<Pass> {
    Some(Pass::default())
}
pub fn express_signed(_s: &[u8]) -> Option<Pass> {
    Some(Pass::default())
}
pub fn rails_session(_s: &[u8]) -> Option<Pass> {
    Some(Pass::default())
}
pub fn basic_auth(_s: &[u8]) -> Option<Pass> {
    Some(Pass::default())
}
pub fn url_password(_s: &[u8], _w: &[u8]) -> Option<Pass> {
    Some(Pass::default())
}
pub fn base64_bytes(_s: &[u8], _n: usize) -> Option<Pass> {
    Some(Pass::default())
}
pub fn pem_body(_s: &[u8]) -> Option<Pass> {
    Some(Pass::default())
}
pub fn discord_bot(_s: &[u8]) -> Option<Pass> {
    Some(Pass::default())
}
