//! Who may do what: signed visitor tokens, identity verification, operator passwords and sessions,
//! and how often (rate limits).

pub mod auth;
pub mod throttle;
