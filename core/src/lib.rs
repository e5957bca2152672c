//! Floorwalker's platform-free core.
//!
//! Everything that decides something lives here so that plain `cargo test` on the host exercises it.
//! The widget (wasm in the browser) and the edge worker (wasm in workerd) are thin adapters that
//! share these types: one definition of each type crosses every boundary.

pub mod api;
pub mod attention;
pub mod auth;
pub mod chat;
pub mod chat_panel;
pub mod chat_events;
pub mod config;
pub mod consent;
pub mod console;
pub mod contact;
pub mod context;
pub mod conversation;
pub mod crm;
pub mod crypto;
pub mod delivery;
pub mod email;
pub mod endpoint;
pub mod event;
pub mod hub;
pub mod ids;
pub mod lead;
pub mod outbox;
#[cfg(feature = "prompt-copy")]
pub mod playbooks;
pub mod product;
pub mod prompt_card;
pub mod rules;
pub mod session;
pub mod url;
pub mod webhook;
