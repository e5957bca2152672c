//! Who may do what: signed visitor tokens, identity verification, operator passwords and sessions.

pub mod auth;
