//! The chat's link to the server: a session token, a conversation once there is something to
//! send, the visitor's socket, and reconnection with core's backoff. Frames in are folded by
//! core's `ChatClient`; what it reports is turned into the view's signals here.

use floorwalker_core::chat::panel::{self as chat_panel, Link};
use floorwalker_core::chat::protocol::{
    Author, ChatClient, ClientEvent, ClientFrame, ConversationStatus, PendingMessage, ServerFrame,
};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use super::{routes, with, Chat};
use crate::net;

impl Chat {

    /// Does whatever the link needs next: a token, a conversation (once there is something to
    /// send), a socket. A failure schedules the next attempt with core's backoff.
    pub(super) fn resume(&self) {
        if self.busy.get() || self.destroyed.get() {
            return;
        }
        if self.ws.borrow().is_some() {
            return;
        }
        self.busy.set(true);
        wasm_bindgen_futures::spawn_local(async {
            let outcome = routes::resume().await;
            with(|chat| {
                chat.busy.set(false);
                match outcome {
                    Ok(()) => {}
                    Err(error) => {
                        net::warn(&format!("floorwalker chat: {error}"));
                        chat.schedule_retry();
                    }
                }
            });
        });
    }

    /// The session's answer: a token, presence and the conversation the server has open.
    pub(crate) fn took_session(&self, session: routes::Session) {
        self.ui.set_operator_online(session.operator_online);
        let mine = {
            let mut stored = self.stored.borrow_mut();
            stored.token = Some(session.token);
            stored.token_expires_at = session.expires_at;
            stored.conversation_id.clone()
        };
        match (mine, session.conversation_id) {
            (Some(mine), Some(theirs)) if mine == theirs => {}
            (_, Some(theirs)) => {
                // Another device of the same person, or storage from before: follow the server.
                {
                    let mut stored = self.stored.borrow_mut();
                    stored.conversation_id = Some(theirs);
                    stored.read_up_to = 0;
                    stored.status = ConversationStatus::Open;
                }
                let pending = self.client.borrow().pending().to_vec();
                self.client.replace(ChatClient::new(Vec::new(), pending));
                self.ui.has_conversation.set(true);
                self.ui.closed.set(false);
            }
            (Some(_), None) => {
                // Ours was closed meanwhile: keep showing it; writing again starts a new one.
                self.stored.borrow_mut().status = ConversationStatus::Closed;
                self.ui.closed.set(true);
            }
            (None, None) => {}
        }
        self.sync();
    }

    pub(crate) fn started_conversation(&self, id: String) {
        {
            let mut stored = self.stored.borrow_mut();
            stored.conversation_id = Some(id);
            stored.status = ConversationStatus::Open;
        }
        self.ui.has_conversation.set(true);
        self.ui.closed.set(false);
        self.sync();
    }

    pub(crate) fn has_pending(&self) -> bool {
        !self.client.borrow().pending().is_empty()
    }

    pub(crate) fn token_usable(&self) -> bool {
        self.stored.borrow().usable_token(net::now_ms()).is_some()
    }

    pub(crate) fn forget_token(&self) {
        self.stored.borrow_mut().token = None;
    }

    /// Opens the visitor's socket for the stored conversation and token.
    pub(crate) fn connect(&self) -> Result<(), String> {
        let (Some(id), Some(token)) = (self.conversation_id(), self.token()) else { return Err("nothing to connect to".into()) };
        let base = self.opts.api_base.replacen("http", "ws", 1);
        let url = format!(
            "{base}/v1/chat/conversations/{}/ws?token={}",
            js_sys::encode_uri_component(&id),
            js_sys::encode_uri_component(&token)
        );
        let ws = web_sys::WebSocket::new(&url).map_err(|e| format!("{e:?}"))?;
        let on_open = Closure::<dyn FnMut(JsValue)>::new(|_| {
            with(|chat| {
                let hello = chat.client.borrow().hello(&chat.client_id);
                chat.send_frame(&hello);
            });
        });
        let on_message = Closure::<dyn FnMut(JsValue)>::new(|event: JsValue| {
            let text = event.unchecked_into::<web_sys::MessageEvent>().data().as_string();
            with(|chat| chat.on_text(text.as_deref().unwrap_or_default()));
        });
        let on_close = Closure::<dyn FnMut(JsValue)>::new(|_| {
            with(|chat| chat.on_drop());
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        self.ws.replace(Some((ws, vec![on_open, on_message, on_close])));
        if self.link.get() != Link::Reconnecting {
            self.set_link(Link::Connecting);
        }
        Ok(())
    }

    pub(super) fn drop_socket(&self) {
        if let Some((ws, _closures)) = self.ws.take() {
            ws.set_onopen(None);
            ws.set_onmessage(None);
            ws.set_onclose(None);
            let _ = ws.close();
        }
    }

    fn on_drop(&self) {
        let welcomed = self.link.get() == Link::Connected;
        self.drop_socket();
        self.ui.typing.set(String::new());
        self.typing_sent.set(false);
        if self.destroyed.get() {
            return;
        }
        // A socket refused before any welcome, again and again, may be a stale token (the browser
        // hides the handshake's status): the next attempt asks for a new one.
        if !welcomed && self.attempt.get() >= 2 {
            self.forget_token();
        }
        self.schedule_retry();
    }

    fn schedule_retry(&self) {
        if self.destroyed.get() {
            return;
        }
        self.set_link(Link::Reconnecting);
        if let Some(timer) = self.retry_timer.take() {
            net::window().clear_timeout_with_handle(timer);
        }
        let attempt = self.attempt.get();
        self.attempt.set(attempt.saturating_add(1));
        let delay = chat_panel::backoff_ms(attempt, net::random_fraction());
        let id = net::later(delay as i32, || {
            with(|chat| {
                chat.retry_timer.set(None);
                chat.resume();
            });
        });
        self.retry_timer.set(id);
    }

    pub fn retry_now(&self) {
        if let Some(timer) = self.retry_timer.take() {
            net::window().clear_timeout_with_handle(timer);
        }
        self.resume();
    }

    pub(super) fn send_frame(&self, frame: &ClientFrame) {
        if let Some((ws, _)) = self.ws.borrow().as_ref() {
            let _ = ws.send_with_str(&net::to_json(frame));
        }
    }

    fn on_text(&self, text: &str) {
        let Some(frame) = net::from_json::<ServerFrame>(text) else {
            net::warn("floorwalker chat: a frame did not parse");
            return;
        };
        let before: Vec<PendingMessage> = self.client.borrow().pending().to_vec();
        let event = self.client.borrow_mut().receive(frame);
        match event {
            ClientEvent::None => {}
            ClientEvent::Messages => {
                let from_operator =
                    self.client.borrow().messages().last().is_some_and(|m| matches!(m.author, Author::Operator { .. }));
                if from_operator {
                    self.ui.typing.set(String::new());
                }
                self.mark_read();
            }
            ClientEvent::SendFailed { client_msg_id, error } => {
                let text = before.iter().find(|p| p.client_msg_id == client_msg_id).map(|p| p.text.clone()).unwrap_or_default();
                self.ui.failed.update(|failed| failed.push((client_msg_id, text, error.message)));
            }
            ClientEvent::SendDeferred { .. } => {
                // Rate limited: the same ids go again a little later.
                net::later(3_000, || {
                    with(|chat| chat.resend_pending());
                });
            }
            ClientEvent::Resync => {
                // A seq was skipped: a fresh hello fetches exactly what is missing.
                self.drop_socket();
                self.resume();
            }
            ClientEvent::Frame(ServerFrame::Welcome(welcome)) => {
                self.attempt.set(0);
                self.set_link(Link::Connected);
                self.ui.set_operator_online(welcome.operator_online);
                self.ui.operator_read.set(welcome.other_read_up_to);
                self.ui.closed.set(welcome.status == ConversationStatus::Closed);
                {
                    let client = self.client.borrow();
                    let mut stored = self.stored.borrow_mut();
                    stored.status = welcome.status;
                    if welcome.reset || stored.read_up_to == 0 || stored.read_up_to > welcome.last_seq {
                        stored.read_up_to = chat_panel::read_marker_for(client.messages(), welcome.unread);
                    }
                }
                self.resend_pending();
                self.mark_read();
            }
            ClientEvent::Frame(ServerFrame::Typing { author: Author::Operator { name }, on }) => {
                let line = if on { format!("{name} {}", chat_panel::copy(self.opts.locale).typing) } else { String::new() };
                self.ui.typing.set(line);
            }
            ClientEvent::Frame(ServerFrame::Read { by: floorwalker_core::chat::protocol::Side::Operator, up_to_seq }) => {
                self.ui.operator_read.set(up_to_seq);
            }
            ClientEvent::Frame(ServerFrame::Presence { operator_online }) => self.ui.set_operator_online(operator_online),
            ClientEvent::Frame(ServerFrame::Closed { .. }) => {
                self.stored.borrow_mut().status = ConversationStatus::Closed;
                self.ui.closed.set(true);
                self.ui.typing.set(String::new());
            }
            ClientEvent::Frame(ServerFrame::Error { error, .. }) => {
                net::warn(&format!("floorwalker chat: {}", error.message));
            }
            ClientEvent::Frame(_) => {}
        }
        self.sync();
    }

    fn resend_pending(&self) {
        let frames = self.client.borrow().resend_pending();
        for frame in frames {
            self.send_frame(&frame);
        }
    }
}
