//! The `SiteHub` Durable Object: one per site. Operators' console sockets (hibernating, tagged
//! `console`) and the live list of conversations. Core's `hub::SiteHub` decides what each change
//! means; this object persists the list (one SQLite row per conversation) and rebuilds the
//! connection set from the sockets' attachments after hibernation.
//!
//! Schema: `entries (id TEXT PRIMARY KEY, revision INTEGER NOT NULL, entry TEXT NOT NULL)`.

use std::cell::RefCell;

use floorwalker_core::api::{ApiError, ErrorCode};
use floorwalker_core::chat::ConversationStatus;
use floorwalker_core::hub::{ConnectionStatus, ConsoleFrame, ConversationEntry, HubNotification, HubOutcome, SiteHub as HubState};
use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Method, Request, Response, Result, State, WebSocket, WebSocketIncomingMessage, WebSocketPair};

use super::conversation::Presence;
use super::WHO_HEADER;
use crate::http::internal;

/// What the worker tells the hub about a console connecting.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ConsoleOperator {
    pub operator_id: String,
    pub name: String,
    #[serde(default = "online")]
    pub status: ConnectionStatus,
}

fn online() -> ConnectionStatus {
    ConnectionStatus::Online
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct HubConnection {
    id: String,
    operator_id: String,
    name: String,
    status: ConnectionStatus,
}

#[derive(Deserialize)]
struct EntryRow {
    entry: String,
}

#[durable_object]
pub struct SiteHub {
    state: State,
    env: Env,
    hub: RefCell<Option<HubState>>,
}

impl DurableObject for SiteHub {
    fn new(state: State, env: Env) -> Self {
        let created = state
            .storage()
            .sql()
            .exec("CREATE TABLE IF NOT EXISTS entries (id TEXT PRIMARY KEY, revision INTEGER NOT NULL, entry TEXT NOT NULL)", None);
        if let Err(error) = created {
            worker::console_error!("creating the hub table: {error}");
        }
        SiteHub { state, env, hub: RefCell::new(None) }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let path = req.path();
        let result = match (req.method(), path.as_str()) {
            (Method::Get, "/ws") => self.accept(&req).await,
            (Method::Post, "/entry") => self.entry(&mut req).await,
            (Method::Get, "/online") => {
                let online = self.with_hub(|hub| hub.any_operator_online());
                crate::http::json(&Presence { operator_online: online }, 200)
            }
            (Method::Get, "/snapshot") => crate::http::json(&self.with_hub(|hub| hub.snapshot()), 200),
            (Method::Post, "/broadcast") => {
                let notification: std::result::Result<HubNotification, ApiError> = req.json().await.map_err(|e| internal("reading /broadcast", e));
                match notification {
                    Ok(notification) => {
                        self.broadcast(&[notification]);
                        crate::http::json(&serde_json::json!({"ok": true}), 200)
                    }
                    Err(e) => Err(e),
                }
            }
            _ => Err(ApiError::new(ErrorCode::NotFound, format!("no hub route {path}"))),
        };
        result.or_else(|e| super::error_json(&e))
    }

    async fn websocket_message(&self, ws: WebSocket, message: WebSocketIncomingMessage) -> Result<()> {
        let Ok(Some(mut connection)) = ws.deserialize_attachment::<HubConnection>() else { return Ok(()) };
        let WebSocketIncomingMessage::String(text) = message else { return Ok(()) };
        let frame = floorwalker_core::chat::check_frame_size(text.len())
            .and_then(|()| serde_json::from_str::<ConsoleFrame>(&text).map_err(floorwalker_core::chat::bad_frame));
        match frame {
            Ok(ConsoleFrame::Ping) => send(&ws, &HubNotification::Pong),
            Ok(ConsoleFrame::Status { status }) => {
                connection.status = status;
                let _ = ws.serialize_attachment(&connection);
                let outcome = self.with_hub(|hub| hub.set_status(&connection.id, status));
                self.carry_out(outcome).await;
            }
            Err(error) => {
                if let Ok(text) = serde_json::to_string(&floorwalker_core::chat::ServerFrame::error(error)) {
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
            let rows: Vec<EntryRow> = self
                .state
                .storage()
                .sql()
                .exec("SELECT entry FROM entries", None)
                .and_then(|c| c.to_array())
                .unwrap_or_default();
            for row in rows {
                if let Ok(entry) = serde_json::from_str::<ConversationEntry>(&row.entry) {
                    hub.upsert(entry);
                }
            }
            for ws in self.state.get_websockets() {
                if let Ok(Some(c)) = ws.deserialize_attachment::<HubConnection>() {
                    hub.connect(&c.id, &c.operator_id, &c.name, c.status);
                }
            }
            hub
        });
        f(hub)
    }

    async fn accept(&self, req: &Request) -> std::result::Result<Response, ApiError> {
        let operator: ConsoleOperator = crate::http::header(req, WHO_HEADER)
            .and_then(|json| serde_json::from_str(&json).ok())
            .ok_or_else(|| internal("opening a console socket", "no operator"))?;
        // Load the state before the new socket exists, so a rebuild does not count it twice.
        self.with_hub(|_| ());
        let pair = WebSocketPair::new().map_err(|e| internal("creating a socket", e))?;
        self.state.accept_websocket_with_tags(&pair.server, &["console"]);
        let connection = HubConnection {
            id: crate::platform::random::random_id()?,
            operator_id: operator.operator_id.clone(),
            name: operator.name.clone(),
            status: operator.status,
        };
        pair.server.serialize_attachment(&connection).map_err(|e| internal("remembering a socket", e))?;
        let outcome = self.with_hub(|hub| hub.connect(&connection.id, &operator.operator_id, &operator.name, operator.status));
        send(&pair.server, &self.with_hub(|hub| hub.snapshot()));
        self.carry_out(outcome).await;
        Response::from_websocket(pair.client).map_err(|e| internal("answering the upgrade", e))
    }

    async fn entry(&self, req: &mut Request) -> std::result::Result<Response, ApiError> {
        let entry: ConversationEntry = req.json().await.map_err(|e| internal("reading /entry", e))?;
        let outcome = self.with_hub(|hub| hub.upsert(entry.clone()));
        if !outcome.to_consoles.is_empty() {
            let json = serde_json::to_string(&entry).map_err(|e| internal("encoding an entry", e))?;
            self.state
                .storage()
                .sql()
                .exec(
                    "INSERT INTO entries (id, revision, entry) VALUES (?, ?, ?) \
                     ON CONFLICT (id) DO UPDATE SET revision = excluded.revision, entry = excluded.entry",
                    vec![entry.conversation_id.as_str().into(), (entry.revision as i64).into(), json.into()],
                )
                .map_err(|e| internal("storing the list", e))?;
        }
        self.carry_out(outcome).await;
        crate::http::json(&serde_json::json!({"ok": true}), 200)
    }

    async fn gone(&self, ws: &WebSocket) {
        if let Ok(Some(connection)) = ws.deserialize_attachment::<HubConnection>() {
            let outcome = self.with_hub(|hub| hub.disconnect(&connection.id));
            self.carry_out(outcome).await;
        }
    }

    fn broadcast(&self, notifications: &[HubNotification]) {
        if notifications.is_empty() {
            return;
        }
        let sockets = self.state.get_websockets_with_tag("console");
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
            let open: Vec<String> = self.with_hub(|hub| {
                hub.list().into_iter().filter(|e| e.status == ConversationStatus::Open).map(|e| e.conversation_id.clone()).collect()
            });
            let body = serde_json::to_string(&Presence { operator_online: online }).unwrap_or_default();
            let env = self.env.clone();
            self.state.wait_until(async move {
                for id in open {
                    let told: std::result::Result<serde_json::Value, ApiError> = match super::conversation_stub(&env, &id) {
                        Ok(stub) => super::call(&stub, Method::Post, "/presence", &[], Some(body.clone())).await,
                        Err(e) => Err(e),
                    };
                    if let Err(error) = told {
                        worker::console_error!("telling conversation {id} about presence: {error}");
                    }
                }
            });
        }
    }
}

fn send(ws: &WebSocket, notification: &HubNotification) {
    if let Ok(text) = serde_json::to_string(notification) {
        let _ = ws.send_with_str(&text);
    }
}
