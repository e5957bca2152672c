//! Plain vars and secrets from the environment (`wrangler secret put`, `[vars]`, or `--var` in
//! tests and the demo).
//!
//! One rule for every name: an empty value is the same as none. Keys that sign or authorize
//! (visitor tokens, operator sessions, the admin token) must also be at least
//! [`MIN_KEY_CHARS`] long: a guessable key would make every token forgeable. Core keeps its own,
//! stricter floor where it owns the signing (`leads::consent::MIN_LINK_SECRET_LEN` for email links).

use floorwalker_core::outbound::delivery::Timing;
use worker::Env;

/// The shortest value [`key`] accepts.
pub const MIN_KEY_CHARS: usize = 16;

/// A plain var, if set and not empty.
pub fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name).map(|v| v.to_string()).ok().filter(|s| !s.is_empty())
}

/// A secret, or a plain var of that name, if set and not empty.
pub fn secret(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
        .filter(|s| !s.is_empty())
}

/// Why a signing key cannot be used. Each caller words it for its own audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyProblem {
    Unset,
    TooShort,
}

/// A secret used as a signing or bearer key: set, and at least [`MIN_KEY_CHARS`] long.
pub fn key(env: &Env, name: &str) -> Result<String, KeyProblem> {
    let value = secret(env, name).ok_or(KeyProblem::Unset)?;
    if value.len() < MIN_KEY_CHARS {
        return Err(KeyProblem::TooShort);
    }
    Ok(value)
}

/// Whether the deployment runs on test timing (`FLOORWALKER_TEST_TIMING=1`, passed by the e2e
/// harness and the benchmarks with `--var`, never set in production). Only then may a site config
/// shorten the prompt engine's time floors, the delivery schedule run fast, or a test inject faults.
pub fn test_timing(env: &Env) -> bool {
    var(env, "FLOORWALKER_TEST_TIMING").as_deref() == Some("1")
}

/// The delivery schedule's time scale.
pub fn delivery_timing(env: &Env) -> Timing {
    if test_timing(env) {
        Timing::TEST
    } else {
        Timing::PRODUCTION
    }
}
