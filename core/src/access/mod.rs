//! Who may do what: signed visitor tokens, identity verification, operator passwords and sessions
//! (`auth`); accounts, their memberships of sites and roles, revocation (`accounts`); one-time
//! invitation and password-reset links (`links`); and how
//! often (rate limits, `throttle`).

pub mod accounts;
pub mod auth;
pub mod links;
pub mod public_limits;
pub mod throttle;
