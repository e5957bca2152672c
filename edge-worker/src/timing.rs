//! Deploy-level switches read from the environment.
//!
//! `FLOORWALKER_TEST_TIMING=1` is passed by the e2e harness and the benchmarks with `--var`, never
//! set in production. Other features (prompt timing) read the same variable through
//! [`test_timing`], so there is one definition of what "test timing" means.

use floorwalker_core::outbound::delivery::Timing;
use worker::Env;

/// Whether the deployment runs on test timing.
pub fn test_timing(env: &Env) -> bool {
    env.var("FLOORWALKER_TEST_TIMING").map(|v| v.to_string() == "1").unwrap_or(false)
}

/// The delivery schedule's time scale.
pub fn delivery_timing(env: &Env) -> Timing {
    if test_timing(env) {
        Timing::TEST
    } else {
        Timing::PRODUCTION
    }
}

/// A secret, or a plain var of that name (`wrangler dev --var` in tests and the demo).
pub fn secret(env: &Env, name: &str) -> Option<String> {
    env.secret(name).map(|s| s.to_string()).or_else(|_| env.var(name).map(|v| v.to_string())).ok().filter(|s| !s.is_empty())
}

/// A plain var, if set and not empty.
pub fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name).map(|v| v.to_string()).ok().filter(|s| !s.is_empty())
}

/// Bytes from the platform's CSPRNG (`crypto.getRandomValues`).
pub fn random_bytes<const N: usize>() -> Result<[u8; N], floorwalker_core::base::error::ApiError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| crate::http::internal("drawing random bytes", e))?;
    Ok(bytes)
}

/// Retry jitter in thousandths, -100..=100.
pub fn jitter_permille() -> i32 {
    random_bytes::<2>().map(|b| i32::from(u16::from_le_bytes(b) % 201) - 100).unwrap_or(0)
}
