//! The `SiteHub` Durable Object: one per site. Operators' console sockets (hibernating, tagged
//! `console`) and the live list of conversations. Core's `hub::SiteHub` decides what each change
//! means; this object persists the list (one SQLite row per conversation) and rebuilds the
//! connection set from the sockets' attachments after hibernation. Its calls are
//! `protocol::HubCall`; its table is `store::EntryTable`.

use std::cell::RefCell;

use floorwalker_core::access::accounts::{Revocation, SESSION_ENDED_CLOSE_CODE};
use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::chat::hub::{
    ConnectionStatus, ConsoleFrame, ConversationEntry, HubNotification, HubOutcome, SiteHub as HubState,
};
use floorwalker_core::chat::conversation::hub_feed::HubPace;
use floorwalker_core::chat::protocol::{ConversationStatus, SitePresence};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State, WebSocket, WebSocketIncomingMessage, WebSocketPair};

use super::protocol::{self, expect_reply, ConversationCall, ConversationReply, HubCall, HubReply};
use super::store::EntryTable;
use super::Who;
use crate::http::internal;

/// Conversations told of a presence change at once (see `carry_out`).
const PRESENCE_CALLS_IN_FLIGHT: usize = 16;

#[derive(Serialize, Deserialize, Debug, Clone)]
struct HubConnection {
    id: String,
    operator_id: String,
    name: String,
    status: ConnectionStatus,
    /// The console session that opened it (absent on sockets opened before sessions were recorded).
    #[serde(default)]
    session_id: Option<String>,
    /// Closed by a revocation: no longer counted, even if the runtime still lists the socket.
    #[serde(default)]
    revoked: bool,
    /// The hub's site (empty on sockets opened before it was recorded).
    #[serde(default)]
    site: String,
}

#[durable_object]
pub struct SiteHub {
    state: State,
    env: Env,
    hub: RefCell<Option<HubState>>,
    /// How many conversations send lines, hence the pace they are asked to keep (in memory: a
    /// hub that wakes up counts afresh, starting at the interval).
    pace: RefCell<HubPace>,
    /// Its site, as the sockets' attachments name it: the presence changes are recorded under it.
    site: RefCell<String>,
}

impl DurableObject for SiteHub {
    fn new(state: State, env: Env) -> Self {
        if let Err(error) = EntryTable::open(state.storage().sql()).create() {
            worker::console_error!("opening the hub's list: {error}");
        }
        SiteHub { state, env, hub: RefCell::new(None), pace: RefCell::default(), site: RefCell::new(String::new()) }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let call = match protocol::read_call::<HubCall>(&mut req).await {
            Ok(call) => call,
            Err(error) => return protocol::answer::<HubReply>(Err(error)),
        };
        let reply = match call {
            HubCall::Connect { who, status, site } => return protocol::answer_upgrade(self.accept(who, status, site).await),
            HubCall::Entry(entry) => self.entry(entry).await,
            HubCall::Online => Ok(HubReply::Presence(SitePresence { operator_online: self.with_hub(|hub| hub.any_operator_online()) })),
            HubCall::Snapshot => Ok(HubReply::Snapshot(self.with_hub(|hub| hub.snapshot()))),
            HubCall::Broadcast(notification) => {
                self.broadcast(&[notification]);
                Ok(HubReply::Done)
            }
            HubCall::Revoke { revocation, conversations } => self.revoke(revocation, conversations).await,
            HubCall::Forget { conversation_ids } => self.forget(&conversation_ids).await,
        };
        protocol::answer(reply)
    }

    async fn websocket_message(&self, ws: WebSocket, message: WebSocketIncomingMessage) -> Result<()> {
        let Ok(Some(mut connection)) = ws.deserialize_attachment::<HubConnection>() else { return Ok(()) };
        if connection.revoked {
            return Ok(());
        }
        let WebSocketIncomingMessage::String(text) = message else { return Ok(()) };
        let frame = floorwalker_core::chat::protocol::check_frame_size(text.len())
            .and_then(|()| serde_json::from_str::<ConsoleFrame>(&text).map_err(floorwalker_core::chat::protocol::bad_frame));
        match frame {
            Ok(ConsoleFrame::Ping) => send(&ws, &HubNotification::Pong),
            Ok(ConsoleFrame::Status { status }) => {
                connection.status = status;
                // Unrecorded, the status holds until the object hibernates, then reads as before.
                if let Err(error) = ws.serialize_attachment(&connection) {
                    worker::console_error!("remembering a console's status: {error}");
                }
                let outcome = self.with_hub(|hub| hub.set_status(&connection.id, status));
                self.carry_out(outcome).await;
            }
            Err(error) => {
                if let Ok(text) = serde_json::to_string(&floorwalker_core::chat::protocol::ServerFrame::error(error)) {
                    let _ = ws.send_with_str(&text);
                }
            }
        }
        Ok(())
    }

    async fn websocket_close(&self, ws: WebSocket, _code: usize, _reason: String, _was_clean: bool) -> Result<()> {
        self.gone(&ws).await;
        let _ = ws.close(Some(1000), Some("bye"));
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, _error: worker::Error) -> Result<()> {
        self.gone(&ws).await;
        Ok(())
    }
}

impl SiteHub {
    /// Runs `f` on the hub state, rebuilding it from storage and live sockets after a wake-up.
    fn with_hub<T>(&self, f: impl FnOnce(&mut HubState) -> T) -> T {
        let mut slot = self.hub.borrow_mut();
        let hub = slot.get_or_insert_with(|| {
            let mut hub = HubState::new();
            let table = EntryTable::open(self.state.storage().sql());
            // An unreadable list starts empty; each conversation's next change brings its line back.
            let entries = table.all().map_err(|e| worker::console_error!("loading the hub's list: {e}")).unwrap_or_default();
            let stored: Vec<String> = entries.iter().map(|e| e.conversation_id.clone()).collect();
            // All taken as stored; `forget_closed` below drops what expired while the hub slept.
            for entry in entries {
                hub.upsert(entry, 0);
            }
            hub.forget_closed(crate::http::now_ms());
            // Rows the list no longer holds (past their time, or evicted by its size) go too.
            let gone: Vec<String> = stored.into_iter().filter(|id| hub.entry(id).is_none()).collect();
            if let Err(error) = table.delete(&gone) {
                worker::console_error!("pruning the hub's list: {error}");
            }
            for ws in self.state.get_websockets() {
                if let Ok(Some(c)) = ws.deserialize_attachment::<HubConnection>() {
                    self.note_site(&c.site);
                    if !c.revoked {
                        hub.connect(&c.id, &c.operator_id, &c.name, c.status);
                    }
                }
            }
            hub
        });
        f(hub)
    }

    fn note_site(&self, site: &str) {
        if !site.is_empty() && *self.site.borrow() != site {
            *self.site.borrow_mut() = site.to_owned();
        }
    }

    async fn accept(&self, who: Who, status: ConnectionStatus, site: String) -> std::result::Result<Response, ApiError> {
        let Who::Operator { operator_id, name, session_id } = who else {
            return Err(ApiError::new(ErrorCode::Forbidden, "the console's list is for operators"));
        };
        self.note_site(&site);
        // Load the state before the new socket exists, so a rebuild does not count it twice.
        self.with_hub(|_| ());
        let pair = WebSocketPair::new().map_err(|e| internal("creating a socket", e))?;
        self.state.accept_websocket_with_tags(&pair.server, &["console"]);
        let connection = HubConnection { id: crate::platform::random::random_id()?, operator_id, name, status, session_id, revoked: false, site };
        pair.server.serialize_attachment(&connection).map_err(|e| internal("remembering a socket", e))?;
        let outcome = self.with_hub(|hub| hub.connect(&connection.id, &connection.operator_id, &connection.name, status));
        send(&pair.server, &self.with_hub(|hub| hub.snapshot()));
        self.carry_out(outcome).await;
        Response::from_websocket(pair.client).map_err(|e| internal("answering the upgrade", e))
    }

    async fn entry(&self, entry: ConversationEntry) -> std::result::Result<HubReply, ApiError> {
        let now = crate::http::now_ms();
        let pace_ms = self.pace.borrow_mut().heard(&entry.conversation_id, now);
        let outcome = self.with_hub(|hub| hub.upsert(entry.clone(), now));
        if !outcome.to_consoles.is_empty() {
            EntryTable::open(self.state.storage().sql()).put(&entry)?;
        }
        self.carry_out(outcome).await;
        // Each change is also when closed conversations whose time in the list is over leave it
        // (no alarm of its own): the list, its rows and every console's copy stay bounded.
        self.forget_closed().await;
        Ok(HubReply::Paced { pace_ms })
    }

    /// Drops closed conversations past their `listed_until` from the list, its rows and the consoles.
    async fn forget_closed(&self) {
        let (removed, outcome) = self.with_hub(|hub| hub.forget_closed(crate::http::now_ms()));
        if removed.is_empty() {
            return;
        }
        if let Err(error) = EntryTable::open(self.state.storage().sql()).delete(&removed) {
            worker::console_error!("pruning the hub's list: {error}");
        }
        self.carry_out(outcome).await;
    }

    /// Closes the console sockets `revocation` covers, then has `conversations` and every open
    /// conversation in the list close the operator's sockets in them (after the reply: the
    /// caller's session is already dead, and the conversations need not hold up its answer). A
    /// conversation nobody wrote in yet is not in the list, hence the caller's ids.
    async fn revoke(&self, revocation: Revocation, conversations: Vec<String>) -> std::result::Result<HubReply, ApiError> {
        for ws in self.state.get_websockets_with_tag("console") {
            let Ok(Some(mut connection)) = ws.deserialize_attachment::<HubConnection>() else { continue };
            if connection.revoked || !revocation.covers(&connection.operator_id, connection.session_id.as_deref()) {
                continue;
            }
            connection.revoked = true;
            if let Err(error) = ws.serialize_attachment(&connection) {
                worker::console_error!("marking a revoked console socket: {error}");
            }
            let _ = ws.close(Some(SESSION_ENDED_CLOSE_CODE), Some("session ended"));
            let outcome = self.with_hub(|hub| hub.disconnect(&connection.id));
            self.carry_out(outcome).await;
        }
        let mut open = conversations;
        open.extend(self.open_conversations());
        open.sort();
        open.dedup();
        let call = ConversationCall::Revoke(revocation);
        let env = self.env.clone();
        self.state.wait_until(async move {
            for id in open {
                let told = match protocol::conversation(&env, &id) {
                    Ok(conversation) => conversation.ask(&call).await.and_then(|reply| expect_reply!(reply, ConversationReply::Done => ())),
                    Err(e) => Err(e),
                };
                if let Err(error) = told {
                    worker::console_error!("closing revoked sockets in conversation {id}: {error}");
                }
            }
        });
        Ok(HubReply::Done)
    }

    fn open_conversations(&self) -> Vec<String> {
        self.with_hub(|hub| {
            hub.list().into_iter().filter(|e| e.status == ConversationStatus::Open).map(|e| e.conversation_id.clone()).collect()
        })
    }

    async fn forget(&self, conversation_ids: &[String]) -> std::result::Result<HubReply, ApiError> {
        EntryTable::open(self.state.storage().sql()).remove(conversation_ids)?;
        let outcome = self.with_hub(|hub| hub.forget(conversation_ids));
        self.carry_out(outcome).await;
        Ok(HubReply::Done)
    }

    async fn gone(&self, ws: &WebSocket) {
        if let Ok(Some(connection)) = ws.deserialize_attachment::<HubConnection>() {
            self.note_site(&connection.site);
            let outcome = self.with_hub(|hub| hub.disconnect(&connection.id));
            self.carry_out(outcome).await;
        }
    }

    fn broadcast(&self, notifications: &[HubNotification]) {
        if notifications.is_empty() {
            return;
        }
        let sockets: Vec<WebSocket> = self
            .state
            .get_websockets_with_tag("console")
            .into_iter()
            .filter(|ws| !matches!(ws.deserialize_attachment::<HubConnection>(), Ok(Some(c)) if c.revoked))
            .collect();
        for notification in notifications {
            if let Ok(text) = serde_json::to_string(notification) {
                for ws in &sockets {
                    let _ = ws.send_with_str(&text);
                }
            }
        }
    }

    /// Tells consoles, and, when "anyone online" flipped, every open conversation.
    async fn carry_out(&self, outcome: HubOutcome) {
        self.broadcast(&outcome.to_consoles);
        if let Some(online) = outcome.operator_online {
            self.record_presence(online);
            let open = self.open_conversations();
            let call = ConversationCall::Presence(SitePresence { operator_online: online });
            let env = self.env.clone();
            self.state.wait_until(async move {
                // Side by side, a bounded number at a time: one slow conversation object does not
                // hold back the others' "we're here", and a site with hundreds open does not open
                // hundreds of calls at once.
                futures_util::stream::iter(open)
                    .for_each_concurrent(PRESENCE_CALLS_IN_FLIGHT, |id| {
                        let (env, call) = (&env, &call);
                        async move {
                            let told = match protocol::conversation(env, &id) {
                                Ok(conversation) => {
                                    conversation.ask(call).await.and_then(|reply| expect_reply!(reply, ConversationReply::Done => ()))
                                }
                                Err(e) => Err(e),
                            };
                            if let Err(error) = told {
                                worker::console_error!("telling conversation {id} about presence: {error}");
                            }
                        }
                    })
                    .await;
            });
        }
    }
}

impl SiteHub {
    /// Records that the site's "anyone online" flipped, in D1 (after the answer): the funnel
    /// replays a day's prompts with who was online then (`insights::rollup::ShopTimeline`).
    fn record_presence(&self, online: bool) {
        let site = self.site.borrow().clone();
        if site.is_empty() {
            return;
        }
        let env = self.env.clone();
        let at = crate::http::now_ms();
        self.state.wait_until(async move {
            let recorded = match crate::platform::d1::db(&env) {
                Ok(db) => {
                    db.query("INSERT OR REPLACE INTO presence_changes (site, at, online) VALUES (?1, ?2, ?3)", &[&site, &at, &online])
                        .run("recording a presence change")
                        .await
                }
                Err(e) => Err(e),
            };
            if let Err(error) = recorded {
                worker::console_error!("recording a presence change: {error}");
            }
        });
    }
}

fn send(ws: &WebSocket, notification: &HubNotification) {
    if let Ok(text) = serde_json::to_string(notification) {
        let _ = ws.send_with_str(&text);
    }
}
