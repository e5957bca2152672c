//! The owner's cockpit: one module per screen, each a thin form over the admin routes that an
//! owner's session reaches for its own site (`net::site_path`). Decisions (validation, defaults,
//! what a change means) stay in core; a screen shows core's answer in the owner's language.

pub mod canned;
pub mod copy;
pub mod email;
pub mod endpoints;
pub mod install;
pub mod leads;
pub mod preview;
pub mod prompts;
pub mod results;
pub mod team;
