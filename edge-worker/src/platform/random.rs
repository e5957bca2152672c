//! The one CSPRNG: `getrandom`'s `wasm_js` backend, which is `crypto.getRandomValues` (see
//! `.cargo/config.toml`). workerd always has it; if it ever failed, the request fails with an
//! `internal` error rather than carrying on with predictable ids or keys.

use floorwalker_core::base::error::ApiError;

use crate::http::internal;

/// `N` bytes from the platform's CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], ApiError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| internal("drawing random bytes", e))?;
    Ok(bytes)
}

/// 128 random bits as 32 hex characters (a valid client id).
pub fn random_id() -> Result<String, ApiError> {
    Ok(floorwalker_core::base::ids::client_id_from_bytes(&random_bytes::<16>()?))
}

/// Retry jitter in thousandths, -100..=100 (none if the CSPRNG fails: jitter only spreads load).
pub fn jitter_permille() -> i32 {
    random_bytes::<2>().map(|b| i32::from(u16::from_le_bytes(b) % 201) - 100).unwrap_or(0)
}
