//! The operator console: log in, say whether you are taking chats, see every open conversation
//! live (unread counts, new-conversation alerts, callback requests), answer, and see what the
//! visitor looked at before writing. A thin browser adapter over core: the hub's notifications
//! (`hub::HubNotification`) drive the list; core's `ChatClient` keeps each conversation's
//! messages in seq order exactly once across reconnects.
//!
//! Everything a visitor wrote is inserted as text nodes (Leptos escapes it); nothing is HTML.

mod net;
mod view;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
pub fn main() {
    leptos::mount::mount_to_body(view::App);
}
