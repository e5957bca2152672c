//! When the widget speaks up and what it says: the site config (schema and validation, business
//! hours, colour contrast), the rule engine with its guardrails, the salesperson's judgement
//! (priorities, giving way at exit intent, what answers change), the built-in playbooks, the
//! prompt card the UI renders, where the site's tag was seen (`sightings`), and what the owner's
//! Install screen shows and accepts (`install`).

pub mod card;
pub mod config;
pub mod contrast;
pub mod form;
pub mod hours;
pub mod install;
pub mod judgement;
#[cfg(feature = "prompt-copy")]
pub mod playbooks;
pub mod rules;
pub mod sightings;
mod wire;
