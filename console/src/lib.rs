//! The console: operators' chats and owners' cockpit. Log in, say whether you are taking chats, see every open conversation
//! live (unread counts, new-conversation alerts, callback requests), answer, and see what the
//! visitor looked at before writing. A thin browser adapter over core, with no rules of its own:
//! core's `HubMirror` folds the hub's notifications into the list (the hub's own list rules);
//! core's `ChatClient` keeps each conversation's messages in seq order exactly once across
//! reconnects; both sockets come back after core's reconnection backoff.
//!
//! Everything a visitor wrote is inserted as text nodes (Leptos escapes it); nothing is HTML.

mod app;
mod canned;
mod clock;
mod conversation;
mod files;
mod i18n;
mod inbox;
mod join;
mod net;
mod notice;
mod notify;
mod offline;
mod owner;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
pub fn main() {
    leptos::mount::mount_to_body(app::App);
}
