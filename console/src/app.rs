//! The console's frame: logging in, then the top bar, the conversation list and the callback
//! queue, kept current from the site hub's notifications (core's `HubMirror` decides what each one
//! changes), beside the conversation the operator chose (`conversation.rs`).
//!
//! State lives in signals; sockets live in local stored values (they are not `Send`), touched only
//! from event callbacks. Every element a test (or a person with a screen reader) needs to find has
//! a stable `data-test` hook; the end-to-end suite (`tests/tests/console.rs`) uses only those.

use floorwalker_core::chat::conversation_list::HubMirror;
use floorwalker_core::chat::hub::{ConnectionStatus, ConsoleFrame, ConversationEntry, HubNotification};
use floorwalker_core::chat::operator_view::{CallbackEntry, OperatorProfile};
use floorwalker_core::chat::protocol::ConversationStatus;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::conversation::ConversationView;
use crate::net;

#[component]
pub fn App() -> impl IntoView {
    let me = RwSignal::new(None::<OperatorProfile>);
    let checked = RwSignal::new(false);
    spawn_local(async move {
        if let Ok(operator) = net::get::<OperatorProfile>("/v1/console/me").await {
            me.set(Some(operator));
        }
        checked.set(true);
    });
    view! {
        {move || match me.get() {
            Some(operator) => view! { <Console operator=operator me=me/> }.into_any(),
            None if checked.get() => view! { <Login me=me/> }.into_any(),
            None => view! { <p class="empty">"Loading…"</p> }.into_any(),
        }}
    }
}

#[component]
fn Login(me: RwSignal<Option<OperatorProfile>>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = serde_json::json!({"email": email.get_untracked(), "password": password.get_untracked()});
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match net::post::<OperatorProfile>("/v1/console/login", &body).await {
                Ok(operator) => me.set(Some(operator)),
                Err(e) => {
                    error.set(Some(format!("Could not log in: {}", e.message)));
                    busy.set(false);
                }
            }
        });
    };
    view! {
        <form class="login" data-test="login" on:submit=submit>
            <h1>"Floorwalker console"</h1>
            <label>"Email" <input id="email" type="email" autocomplete="username" required
                on:input=move |ev| email.set(event_target_value(&ev)) prop:value=move || email.get()/></label>
            <label>"Password" <input id="password" type="password" autocomplete="current-password" required
                on:input=move |ev| password.set(event_target_value(&ev)) prop:value=move || password.get()/></label>
            <button class="primary" type="submit" id="login" disabled=move || busy.get()>"Log in"</button>
            <p class="error" role="alert" data-test="login-error">{move || error.get()}</p>
        </form>
    }
}

/// The socket to the site's hub and what its notifications keep current.
#[derive(Clone, Copy)]
struct HubConnection {
    socket: StoredValue<Option<web_sys::WebSocket>, LocalStorage>,
    disposed: StoredValue<bool>,
    /// Failed attempts since the socket last opened (core's backoff grows with it).
    attempt: StoredValue<u32>,
    status: RwSignal<ConnectionStatus>,
    connected: RwSignal<bool>,
    mirror: RwSignal<HubMirror>,
    alert: RwSignal<Option<String>>,
    /// Who is logged in: cleared when the session turns out to be over (logged out elsewhere,
    /// disabled, removed, a new password), which brings back the login form.
    me: RwSignal<Option<OperatorProfile>>,
}

impl HubConnection {
    fn load_callbacks(self) {
        spawn_local(async move {
            if let Ok(list) = net::get::<Vec<CallbackEntry>>("/v1/console/callbacks").await {
                self.mirror.update(|mirror| mirror.set_callbacks(list));
            }
        })
    }

    fn on_notification(self, notification: HubNotification) {
        let reaction = self.mirror.try_update(|mirror| mirror.apply(notification)).unwrap_or_default();
        if let Some(alert) = reaction.alert {
            self.alert.set(Some(alert.text()));
        }
        if reaction.reload_callbacks {
            self.load_callbacks();
        }
    }

    fn connect(self) {
        let away = self.status.get_untracked() == ConnectionStatus::Away;
        let path = if away { "/v1/console/ws?status=away" } else { "/v1/console/ws" };
        let ws = net::open::<HubNotification>(
            path,
            move || {
                self.attempt.set_value(0);
                self.connected.set(true);
            },
            move |notification| self.on_notification(notification),
            move || {
                self.connected.set(false);
                self.reconnect_if_still_signed_in();
            },
        );
        self.socket.set_value(ws);
    }

    /// A closed hub socket may mean the session ended (the server closes revoked sessions'
    /// sockets): then back to the login form, else reconnect.
    fn reconnect_if_still_signed_in(self) {
        spawn_local(async move {
            match net::get::<OperatorProfile>("/v1/console/me").await {
                Err(error) if error.status == 401 => self.me.set(None),
                _ => net::reconnect_unless_disposed(self.attempt, self.disposed, move || self.connect()),
            }
        });
    }

    fn send(self, frame: &ConsoleFrame) {
        self.socket.with_value(|ws| if let Some(ws) = ws { net::send_json(ws, frame) });
    }
}

#[component]
fn Console(operator: OperatorProfile, me: RwSignal<Option<OperatorProfile>>) -> impl IntoView {
    let hub = HubConnection {
        socket: StoredValue::new_local(None),
        disposed: StoredValue::new(false),
        attempt: StoredValue::new(0),
        status: RwSignal::new(ConnectionStatus::Online),
        connected: RwSignal::new(false),
        mirror: RwSignal::new(HubMirror::new()),
        alert: RwSignal::new(None),
        me,
    };
    let selected = RwSignal::new(None::<String>);
    let current = Memo::new(move |_| selected.get());
    hub.connect();
    on_cleanup(move || {
        hub.disposed.set_value(true);
        hub.socket.with_value(|ws| if let Some(ws) = ws { let _ = ws.close(); });
    });

    // The tab title counts what waits for an answer.
    Effect::new(move |_| {
        let title = hub.mirror.with(HubMirror::tab_title);
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            document.set_title(&title);
        }
    });

    let status = hub.status;
    let toggle = move |_| {
        let next = if status.get_untracked() == ConnectionStatus::Online { ConnectionStatus::Away } else { ConnectionStatus::Online };
        status.set(next);
        hub.send(&ConsoleFrame::Status { status: next });
    };
    let logout = move |_| {
        spawn_local(async move {
            let _ = net::post::<serde_json::Value>("/v1/console/logout", &serde_json::json!({})).await;
            me.set(None);
        });
    };
    let (mirror, alert, connected) = (hub.mirror, hub.alert, hub.connected);
    view! {
        <div class="console" data-test="console">
        <div class="top">
            <strong>"Floorwalker"</strong>
            <span class="grow" data-test="operator-name">{operator.name.clone()}</span>
            <span class=move || if status.get() == ConnectionStatus::Online { "presence online" } else { "presence away" }
                data-test="presence" data-presence=move || if status.get() == ConnectionStatus::Online { "online" } else { "away" }>
                {move || if status.get() == ConnectionStatus::Online { "● Online" } else { "● Away" }}
            </span>
            <button data-test="presence-toggle" on:click=toggle>{move || if status.get() == ConnectionStatus::Online { "Go away" } else { "Go online" }}</button>
            <span data-test="connection" data-connected=move || connected.get().to_string()>{move || if connected.get() { "" } else { "reconnecting…" }}</span>
            <span title="operators online" data-test="operators-online">
                {move || format!("{} online", mirror.with(HubMirror::operators_online))}
            </span>
            <button data-test="logout" on:click=logout>"Log out"</button>
        </div>
        {move || alert.get().map(|text| view! {
            <div class="alert" role="status" data-test="alert">{text}" " <button on:click=move |_| alert.set(None)>"Dismiss"</button></div>
        })}
        <div class="layout">
            <div class="left">
                <CallbackQueue hub=hub selected=selected/>
                <h2 class="heading">"Conversations"</h2>
                <ul class="list" data-test="conversations" aria-label="Conversations">
                    <For each=move || mirror.with(|m| m.conversations().ordered().into_iter().cloned().collect::<Vec<_>>()) key=|e| (e.conversation_id.clone(), e.revision) let:entry>
                        <ConversationRow entry=entry selected=selected alert=alert/>
                    </For>
                    {move || mirror.with(|m| m.conversations().is_empty()).then(|| view! { <li class="empty">"No conversations yet."</li> })}
                </ul>
            </div>
            {move || match current.get() {
                Some(id) => view! { <ConversationView id=id/> }.into_any(),
                None => view! {
                    <section class="chat"><p class="empty">"Choose a conversation."</p></section>
                    <aside class="side"></aside>
                }.into_any(),
            }}
        </div>
        </div>
    }
}

#[component]
fn ConversationRow(entry: ConversationEntry, selected: RwSignal<Option<String>>, alert: RwSignal<Option<String>>) -> impl IntoView {
    let id = entry.conversation_id.clone();
    let current = id.clone();
    let status = if entry.status == ConversationStatus::Closed { "closed" } else { "open" };
    view! {
        <li data-test="conversation" data-conversation=entry.conversation_id.clone() data-status=status>
            <button aria-current=move || (selected.get().as_deref() == Some(current.as_str())).to_string()
                on:click=move |_| { selected.set(Some(id.clone())); alert.set(None); }>
                <span class="label" data-test="label">{entry.visitor_label.clone()}</span>
                {(entry.unread_by_operator > 0).then(|| view! { <span class="badge unread" data-test="unread">{entry.unread_by_operator}</span> })}
                {entry.callback_requested.then(|| view! { <span class="flag" data-test="callback-flag">"callback"</span> })}
                {(entry.status == ConversationStatus::Closed).then(|| view! { <span class="closed" data-test="closed">"closed"</span> })}
                <div class="preview" data-test="preview">{entry.preview.clone()}</div>
            </button>
        </li>
    }
}
#[component]
fn CallbackQueue(hub: HubConnection, selected: RwSignal<Option<String>>) -> impl IntoView {
    let mirror = hub.mirror;
    view! {
        <section class="callbacks" data-test="callbacks" aria-label="Callback requests">
            <h2 class="heading">"Callback requests"</h2>
            <ul>
                <For each=move || mirror.with(|m| m.callbacks().to_vec()) key=|c| (c.conversation_id.clone(), c.requested_at) let:cb>
                    {
                        let id = cb.conversation_id.clone();
                        let open = id.clone();
                        view! {
                            <li data-test="callback" data-conversation=cb.conversation_id.clone()>
                                <strong data-test="callback-contact">{cb.contact.clone()}</strong>
                                {cb.time_slot.clone().map(|slot| view! { " · " <span data-test="callback-time">{slot}</span> })}
                                <div class="meta">{cb.visitor_label.clone().unwrap_or_default()}" · "{date_time(cb.requested_at)}</div>
                                <button data-test="callback-open" on:click=move |_| selected.set(Some(open.clone()))>"Open"</button>" "
                                <button class="done" data-test="callback-done" on:click=move |_| {
                                    let id = id.clone();
                                    spawn_local(async move {
                                        let done = net::post::<serde_json::Value>(&format!("/v1/console/callbacks/{id}/done"), &serde_json::json!({})).await;
                                        if done.is_ok() {
                                            mirror.update(|m| m.callback_done(&id));
                                        }
                                        hub.load_callbacks();
                                    });
                                }>"Done"</button>
                            </li>
                        }
                    }
                </For>
            </ul>
            {move || mirror.with(|m| m.callbacks().is_empty()).then(|| view! { <p class="empty">"None waiting."</p> })}
        </section>
    }
}

pub(crate) fn date_time(ms: u64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    String::from(date.to_locale_string("en-GB", &wasm_bindgen::JsValue::UNDEFINED))
}
