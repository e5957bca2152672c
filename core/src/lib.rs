//! Floorwalker's platform-free core.
//!
//! Everything that decides something lives here so that plain `cargo test` on the host exercises it.
//! The widget (wasm in the browser) and the edge worker (wasm in workerd) are thin adapters that
//! share these types: one definition of each type crosses every boundary.
//!
//! The modules are grouped by domain. A domain may use the domains listed before it, never one
//! after it (`tests/domains.rs` fails on any import cycle between domains):
//!
//! | domain | what it decides |
//! |---|---|
//! | [`base`] | the shared vocabulary: API errors, ids, crypto, URLs, text limits, locale, money, phone regions |
//! | [`visitor`] | visitor events, the session folded from them, product detection, the visitor context |
//! | [`leads`] | lead validation, contact normalisation (email, E.164), consent scoped to one purpose |
//! | [`prompts`] | the site config, business hours, colour contrast, the prompt engine, playbooks, the prompt card |
//! | [`chat`] | the chat protocol, conversation and site-hub state machines, the operators' live list, the chat panel, the operator view |
//! | [`access`] | visitor tokens, identity verification, operator passwords and sessions |
//! | [`outbound`] | webhooks, endpoints, CRM presets, the delivery log, emails, chat events for the CRM |
//! | [`insights`] | the owner's numbers: the funnel per prompt folded into daily rollups, deals reported back by the CRM |
//! | [`upkeep`] | what is kept and for how long (the retention policy per table), the bounded pruner |

pub mod base;
pub mod visitor;
pub mod leads;
pub mod prompts;
pub mod chat;
pub mod access;
pub mod outbound;
pub mod insights;
pub mod upkeep;
