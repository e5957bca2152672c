//! Who may do what: signed visitor tokens, identity verification, operator passwords and sessions
//! (`auth`); accounts, their memberships of sites and roles, revocation (`accounts`); and how
//! often (rate limits, `throttle`).

pub mod accounts;
pub mod auth;
pub mod throttle;
