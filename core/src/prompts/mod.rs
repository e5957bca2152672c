//! When the widget speaks up and what it says: the site config (schema and validation, business
//! hours, colour contrast), the rule engine with its guardrails, the built-in playbooks and the
//! prompt card the UI renders.

pub mod card;
pub mod config;
pub mod contrast;
pub mod hours;
#[cfg(feature = "prompt-copy")]
pub mod playbooks;
pub mod rules;
mod wire;
