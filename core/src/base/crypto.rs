//! The few primitives every signed thing is built from (webhook signatures, visitor tokens,
//! signed links): HMAC-SHA256 and base64.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    Sha256::digest(data).into()
}

/// Standard base64 with padding (what Standard Webhooks uses).
pub fn base64_encode(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

/// URL-safe base64 without padding (for tokens and links).
pub fn base64url_encode(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok()
}

/// A signed link's token: `base64url(payload).base64url(HMAC-SHA256(secret, domain ‖ payload))`.
/// `domain` keeps one kind of link from passing for another under the same secret.
pub fn seal(secret: &[u8], domain: &[u8], payload: &[u8]) -> String {
    format!("{}.{}", base64url_encode(payload), base64url_encode(&domain_mac(secret, domain, payload)))
}

/// The payload of a token [`seal`]ed under `domain`, when its MAC is genuine (compared in
/// constant time); `None` for anything else, including a token longer than `max_len`.
pub fn unseal(secret: &[u8], domain: &[u8], token: &str, max_len: usize) -> Option<Vec<u8>> {
    if token.len() > max_len {
        return None;
    }
    let (payload_b64, mac_b64) = token.split_once('.')?;
    let payload = base64url_decode(payload_b64)?;
    let mac = base64url_decode(mac_b64)?;
    constant_time_eq(&mac, &domain_mac(secret, domain, &payload)).then_some(payload)
}

fn domain_mac(secret: &[u8], domain: &[u8], payload: &[u8]) -> [u8; 32] {
    hmac_sha256(secret, &[domain, payload].concat())
}

/// Compares two secrets without an early exit, so response timing does not reveal how much of a
/// token matched. (The length is not secret: tokens have a fixed length.)
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn base64_round_trips() {
        assert_eq!(base64_encode(b"hi?"), "aGk/");
        assert_eq!(base64url_encode(b"hi?"), "aGk_");
        assert_eq!(base64_decode("aGk/").as_deref(), Some(&b"hi?"[..]));
        assert_eq!(base64url_decode("aGk_").as_deref(), Some(&b"hi?"[..]));
        assert_eq!(base64_decode("not base64!"), None);
    }
}
