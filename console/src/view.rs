//! The console's views. State lives in signals; sockets and the core `ChatClient` live in local
//! stored values (they are not `Send`), touched only from event callbacks.
//!
//! Every element a test (or a person with a screen reader) needs to find has a stable
//! `data-test` hook; the end-to-end suite (`tests/tests/console.rs`) uses only those.

use floorwalker_core::chat::conversation::TYPING_TTL_MS;
use floorwalker_core::chat::hub::{
    ConnectionStatus, ConsoleFrame, ConversationEntry, HubNotification, OperatorAvailability, OperatorPresence,
};
use floorwalker_core::chat::operator_view::{
    active_time, source_line, CallbackEntry, ConversationDetails, OperatorProfile,
};
use floorwalker_core::chat::protocol::{
    Author, ChatClient, ClientEvent, ClientFrame, ConversationStatus, MessageAction, ServerFrame, Side,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

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

fn upsert(entries: RwSignal<Vec<ConversationEntry>>, entry: ConversationEntry) {
    entries.update(|list| {
        match list.iter_mut().find(|e| e.conversation_id == entry.conversation_id) {
            Some(existing) if existing.revision >= entry.revision => {}
            Some(existing) => *existing = entry,
            None => list.push(entry),
        }
        list.sort_by_key(|e| std::cmp::Reverse(e.updated_at));
    });
}

/// What the hub socket's frames update.
#[derive(Clone, Copy)]
struct HubState {
    socket: StoredValue<Option<web_sys::WebSocket>, LocalStorage>,
    disposed: StoredValue<bool>,
    status: RwSignal<ConnectionStatus>,
    connected: RwSignal<bool>,
    entries: RwSignal<Vec<ConversationEntry>>,
    operators: RwSignal<Vec<OperatorPresence>>,
    alert: RwSignal<Option<String>>,
    callbacks: RwSignal<Vec<CallbackEntry>>,
}

impl HubState {
    fn load_callbacks(self) {
        spawn_local(async move {
            if let Ok(list) = net::get::<Vec<CallbackEntry>>("/v1/console/callbacks").await {
                self.callbacks.set(list);
            }
        })
    }

    fn on_notification(self, notification: HubNotification) {
        match notification {
            HubNotification::Snapshot { operators, conversations } => {
                self.operators.set(operators);
                self.entries.set(conversations);
                // Whatever happened while disconnected.
                self.load_callbacks();
            }
            HubNotification::ConversationOpened { entry } => {
                self.alert.set(Some(format!("New conversation: {}", entry.visitor_label)));
                upsert(self.entries, entry);
            }
            HubNotification::CallbackRequested { entry } => {
                self.alert.set(Some(format!("Callback requested: {}", entry.visitor_label)));
                upsert(self.entries, entry);
                self.load_callbacks();
            }
            HubNotification::ConversationUpdated { entry } => upsert(self.entries, entry),
            HubNotification::OperatorPresence(p) => self.operators.update(|list| {
                list.retain(|o| o.operator_id != p.operator_id);
                if p.presence != OperatorAvailability::Offline {
                    list.push(p);
                }
            }),
            HubNotification::CallbackDone { conversation_id, .. } => {
                self.callbacks.update(|list| list.retain(|c| c.conversation_id != conversation_id));
                self.load_callbacks();
            }
            HubNotification::Pong => {}
        }
    }

    fn connect(self) {
        let away = self.status.get_untracked() == ConnectionStatus::Away;
        let path = if away { "/v1/console/ws?status=away" } else { "/v1/console/ws" };
        let ws = net::open::<HubNotification>(
            path,
            move || self.connected.set(true),
            move |notification| self.on_notification(notification),
            move || {
                self.connected.set(false);
                if !self.disposed.get_value() {
                    net::later(2000, move || {
                        if !self.disposed.get_value() {
                            self.connect();
                        }
                    });
                }
            },
        );
        self.socket.set_value(ws);
    }

    fn send(self, frame: &ConsoleFrame) {
        self.socket.with_value(|ws| if let Some(ws) = ws { net::send_json(ws, frame) });
    }
}

#[component]
fn Console(operator: OperatorProfile, me: RwSignal<Option<OperatorProfile>>) -> impl IntoView {
    let hub = HubState {
        socket: StoredValue::new_local(None),
        disposed: StoredValue::new(false),
        status: RwSignal::new(ConnectionStatus::Online),
        connected: RwSignal::new(false),
        entries: RwSignal::new(Vec::new()),
        operators: RwSignal::new(Vec::new()),
        alert: RwSignal::new(None),
        callbacks: RwSignal::new(Vec::new()),
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
        let unread: u64 = hub.entries.with(|list| list.iter().filter(|e| e.status == ConversationStatus::Open).map(|e| e.unread_by_operator).sum());
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            document.set_title(&if unread > 0 { format!("({unread}) Floorwalker console") } else { "Floorwalker console".into() });
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
    let (entries, alert, operators, connected) = (hub.entries, hub.alert, hub.operators, hub.connected);
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
                {move || format!("{} online", operators.with(|o| o.iter().filter(|p| p.presence == OperatorAvailability::Online).count()))}
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
                    <For each=move || entries.get() key=|e| (e.conversation_id.clone(), e.revision) let:entry>
                        <ConversationRow entry=entry selected=selected alert=alert/>
                    </For>
                    {move || entries.with(|e| e.is_empty()).then(|| view! { <li class="empty">"No conversations yet."</li> })}
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

fn date_time(ms: u64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    String::from(date.to_locale_string("en-GB", &wasm_bindgen::JsValue::UNDEFINED))
}

#[component]
fn CallbackQueue(hub: HubState, selected: RwSignal<Option<String>>) -> impl IntoView {
    let callbacks = hub.callbacks;
    view! {
        <section class="callbacks" data-test="callbacks" aria-label="Callback requests">
            <h2 class="heading">"Callback requests"</h2>
            <ul>
                <For each=move || callbacks.get() key=|c| (c.conversation_id.clone(), c.requested_at) let:cb>
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
                                            callbacks.update(|list| list.retain(|c| c.conversation_id != id));
                                        }
                                        hub.load_callbacks();
                                    });
                                }>"Done"</button>
                            </li>
                        }
                    }
                </For>
            </ul>
            {move || callbacks.with(|c| c.is_empty()).then(|| view! { <p class="empty">"None waiting."</p> })}
        </section>
    }
}

/// What one conversation's socket updates.
#[derive(Clone, Copy)]
struct ChatState {
    path: StoredValue<String>,
    socket: StoredValue<Option<web_sys::WebSocket>, LocalStorage>,
    disposed: StoredValue<bool>,
    client: StoredValue<ChatClient>,
    messages: RwSignal<Vec<floorwalker_core::chat::protocol::ChatMessage>>,
    visitor_read: RwSignal<u64>,
    typing_stamp: RwSignal<u64>,
    typing_now: RwSignal<bool>,
    closed: RwSignal<bool>,
    online: RwSignal<bool>,
    error: RwSignal<Option<String>>,
}

impl ChatState {
    fn send(self, frame: &ClientFrame) {
        self.socket.with_value(|ws| if let Some(ws) = ws { net::send_json(ws, frame) });
    }

    fn mark_read(self) {
        let last = self.client.with_value(|c| c.last_seq());
        if last > 0 {
            self.send(&ClientFrame::Read { up_to_seq: last });
        }
    }

    fn on_frame(self, frame: ServerFrame) {
        let event = self.client.try_update_value(|c| c.receive(frame)).unwrap_or(ClientEvent::None);
        match event {
            ClientEvent::Messages => {
                self.messages.set(self.client.with_value(|c| c.messages().to_vec()));
                if self.messages.with_untracked(|m| m.last().is_some_and(|m| m.author == Author::Visitor)) {
                    self.typing_now.set(false);
                }
                self.mark_read();
            }
            ClientEvent::Frame(ServerFrame::Welcome(welcome)) => {
                self.messages.set(self.client.with_value(|c| c.messages().to_vec()));
                self.visitor_read.set(welcome.other_read_up_to);
                self.closed.set(welcome.status == ConversationStatus::Closed);
                self.mark_read();
            }
            ClientEvent::Frame(ServerFrame::Typing { author: Author::Visitor, on }) => {
                let stamp = net::now_ms();
                self.typing_stamp.set(stamp);
                self.typing_now.set(on);
                if on {
                    net::later(TYPING_TTL_MS as i32, move || {
                        if self.typing_stamp.get_untracked() == stamp {
                            self.typing_now.set(false);
                        }
                    });
                }
            }
            ClientEvent::Frame(ServerFrame::Read { by: Side::Visitor, up_to_seq }) => self.visitor_read.set(up_to_seq),
            ClientEvent::Frame(ServerFrame::Closed { .. }) => self.closed.set(true),
            ClientEvent::Frame(ServerFrame::Error { error: e, .. }) => self.error.set(Some(e.message)),
            ClientEvent::SendFailed { error: e, .. } => self.error.set(Some(e.message)),
            ClientEvent::Resync => self.socket.with_value(|ws| if let Some(ws) = ws { let _ = ws.close(); }),
            _ => {}
        }
    }

    fn connect(self, attempt: u32) {
        let path = self.path.get_value();
        let ws = net::open::<ServerFrame>(
            &format!("{path}/ws"),
            move || {
                self.online.set(true);
                let hello = self.client.with_value(|c| c.hello(&format!("console-{}", net::random_id())));
                let pending = self.client.with_value(|c| c.resend_pending());
                self.send(&hello);
                for frame in pending {
                    self.send(&frame);
                }
            },
            move |frame: ServerFrame| self.on_frame(frame),
            move || {
                self.online.set(false);
                if !self.disposed.get_value() {
                    let delay = (500 * 2i32.pow(attempt.min(4))).min(10_000);
                    net::later(delay, move || {
                        if !self.disposed.get_value() {
                            self.connect(attempt + 1);
                        }
                    });
                }
            },
        );
        self.socket.set_value(ws);
    }
}

#[component]
fn ConversationView(id: String) -> impl IntoView {
    let path = format!("/v1/console/conversations/{id}");
    let chat = ChatState {
        path: StoredValue::new(path.clone()),
        socket: StoredValue::new_local(None),
        disposed: StoredValue::new(false),
        client: StoredValue::new(ChatClient::default()),
        messages: RwSignal::new(Vec::new()),
        visitor_read: RwSignal::new(0),
        typing_stamp: RwSignal::new(0),
        typing_now: RwSignal::new(false),
        closed: RwSignal::new(false),
        online: RwSignal::new(false),
        error: RwSignal::new(None),
    };
    let draft = RwSignal::new(String::new());
    let details = RwSignal::new(None::<Result<ConversationDetails, String>>);
    let last_typing = StoredValue::new(0u64);

    spawn_local(async move {
        let loaded = net::get::<ConversationDetails>(&path).await.map_err(|e| e.message);
        details.set(Some(loaded));
    });
    chat.connect(0);
    on_cleanup(move || {
        chat.disposed.set_value(true);
        chat.socket.with_value(|ws| if let Some(ws) = ws { let _ = ws.close(); });
    });

    let send = move || {
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        if let Some(frame) = chat.client.try_update_value(|c| c.send(&net::random_id(), &text)) {
            chat.send(&frame);
        }
        draft.set(String::new());
        last_typing.set_value(0);
    };
    let on_input = move |ev| {
        draft.set(event_target_value(&ev));
        let now = net::now_ms();
        if now.saturating_sub(last_typing.get_value()) > 2000 {
            last_typing.set_value(now);
            chat.send(&ClientFrame::Typing { on: true });
        }
    };
    let close = move |_| chat.send(&ClientFrame::Close);
    let (messages, closed, online, visitor_read, typing_now, error) =
        (chat.messages, chat.closed, chat.online, chat.visitor_read, chat.typing_now, chat.error);

    view! {
        <section class="chat" aria-label="Conversation" data-test="chat" data-conversation=id.clone()
            data-online=move || online.get().to_string()>
            <header>
                <span class="grow">{move || if online.get() { "" } else { "Offline — reconnecting…" }}</span>
                {move || closed.get().then(|| view! { <span class="closed" data-test="closed-label">"Closed"</span> })}
                <button data-test="close" on:click=close disabled=move || closed.get()>"Close conversation"</button>
            </header>
            <ol class="messages" aria-live="polite">
                <For each=move || messages.get() key=|m| m.seq let:m>
                    {
                        let (class, author) = match &m.author {
                            Author::Visitor => ("msg visitor", "visitor"),
                            Author::Operator { .. } => ("msg operator", "operator"),
                            Author::System => ("msg system", "system"),
                        };
                        let who = match &m.author {
                            Author::Visitor => "Visitor".to_owned(),
                            Author::Operator { name } => name.clone(),
                            Author::System => match m.action {
                                Some(MessageAction::CallbackRequested) => "Callback requested".to_owned(),
                                _ => "Floorwalker".to_owned(),
                            },
                        };
                        view! {
                            <li class=class data-test="message" data-author=author data-seq=m.seq>
                                <div class="who">{who}</div><span data-test="message-text">{m.text.clone()}</span>
                            </li>
                        }
                    }
                </For>
                {move || {
                    let last_own = messages.with(|ms| ms.iter().rev().find(|m| matches!(m.author, Author::Operator { .. })).map(|m| m.seq));
                    last_own.filter(|seq| *seq <= visitor_read.get()).map(|_| view! { <li class="seen" data-test="seen">"Seen"</li> })
                }}
            </ol>
            <div class="typing" data-test="typing" aria-live="polite">{move || typing_now.get().then_some("Visitor is typing…")}</div>
            <p class="error" role="alert" data-test="chat-error">{move || error.get()}</p>
            <form class="compose" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); send(); }>
                <input data-test="reply" aria-label="Reply" autocomplete="off" prop:value=move || draft.get() on:input=on_input disabled=move || closed.get()/>
                <button class="primary" data-test="send" type="submit" disabled=move || closed.get()>"Send"</button>
            </form>
        </section>
        <aside class="side" data-test="context" aria-label="Visitor">
            {move || match details.get() {
                None => view! { <p class="empty">"Loading…"</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error">{message}</p> }.into_any(),
                Some(Ok(d)) => view! { <ContextPanel details=d/> }.into_any(),
            }}
        </aside>
    }
}

#[component]
fn ContextPanel(details: ConversationDetails) -> impl IntoView {
    let ConversationDetails { context, previous, callback, leads, prompts, .. } = details;
    let locale = context.as_ref().map_or(floorwalker_core::base::locale::Locale::En, |c| c.locale);
    view! {
        <h2>"Visitor"</h2>
        {match context {
            None => view! { <p class="empty">"No context was captured."</p> }.into_any(),
            Some(c) => {
                let first = c.first_touch.clone();
                let last = c.last_touch.clone().filter(|l| Some(l) != first.as_ref());
                view! {
                    <p><strong>"Source: "</strong><span data-test="source">{first.as_ref().map_or_else(|| "unknown".to_owned(), source_line)}</span></p>
                    <p><strong>"Landing page: "</strong><span data-test="landing">{first.as_ref().map(|t| t.landing_page.clone()).unwrap_or_default()}</span></p>
                    {last.map(|l| view! {
                        <p><strong>"This visit from: "</strong><span data-test="last-source">{source_line(&l)}</span>" → "{l.landing_page.clone()}</p>
                    })}
                    <p><strong>"Now on: "</strong><span data-test="page-url">{c.page_url.clone()}</span></p>
                    <p>
                        <strong>"Pages viewed: "</strong><span data-test="pages-viewed">{c.pages_viewed}</span>" · "
                        <strong>"active "</strong><span data-test="active-time">{active_time(c.active_seconds)}</span>
                        {c.returning.then_some(" · returning")}
                    </p>
                    <h2>"Products viewed"</h2>
                    <ul data-test="products">
                        {c.products.iter().map(|p| {
                            let price = p.product.price.map(|m| m.display(c.locale)).unwrap_or_default();
                            view! {
                                <li data-test="product">
                                    <span data-test="product-name">{p.product.name.clone()}</span>" — "
                                    <span data-test="product-price">{price}</span>
                                    {(p.views > 1).then(|| format!(" (×{})", p.views))}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    {c.products.is_empty().then(|| view! { <p class="empty">"None."</p> })}
                    {(!c.answers.is_empty()).then(|| view! {
                        <h2>"Answers"</h2>
                        <ul data-test="answers">{c.answers.iter().map(|a| view! { <li>{a.question.clone()}": "{a.answer.clone()}</li> }).collect_view()}</ul>
                    })}
                    <h2>"Recent pages"</h2>
                    <ul data-test="recent-pages">{c.recent_pages.iter().map(|p| view! { <li>{p.clone()}</li> }).collect_view()}</ul>
                }.into_any()
            }
        }}
        <h2>"Prompts"</h2>
        <ul data-test="prompts">
            {prompts.iter().map(|p| {
                let what = match (&p.answer, p.accepted, p.dismissed) {
                    (Some(a), _, _) => format!("answered “{}”", a.answer),
                    (None, true, _) => "accepted".to_owned(),
                    (None, false, true) => "dismissed".to_owned(),
                    _ => "no answer".to_owned(),
                };
                view! { <li data-test="prompt">{p.prompt.clone()}" — shown "{p.shown}"× · "{what}</li> }
            }).collect_view()}
        </ul>
        {prompts.is_empty().then(|| view! { <p class="empty">"None shown."</p> })}
        {callback.map(|cb| view! {
            <h2>"Callback"</h2>
            <p data-test="callback-state">
                {cb.contact.clone()}
                {cb.time_slot.clone().map(|slot| format!(" · {slot}"))}
                {match (&cb.done_at, &cb.done_by) {
                    (Some(_), Some(by)) => format!(" (done by {by})"),
                    (Some(_), None) => " (done)".to_owned(),
                    _ => " (waiting)".to_owned(),
                }}
            </p>
        })}
        <h2>"Leads"</h2>
        <ul data-test="leads">{leads.iter().map(|l| {
            let contact = [&l.contact.email, &l.contact.phone, &l.contact.time_slot].into_iter().flatten().cloned().collect::<Vec<_>>().join(" · ");
            view! { <li data-test="lead">{l.kind.label(locale)}": "{contact}" · "{date_time(l.created_at)}</li> }
        }).collect_view()}</ul>
        {leads.is_empty().then(|| view! { <p class="empty">"None."</p> })}
        <h2>"Earlier conversations"</h2>
        <ul data-test="previous">{previous.iter().map(|p| {
            let status = if p.status == ConversationStatus::Closed { "closed" } else { "open" };
            view! { <li data-test="previous-conversation">{date_time(p.opened_at)}" — "{status}</li> }
        }).collect_view()}</ul>
        {previous.is_empty().then(|| view! { <p class="empty">"None."</p> })}
    }
}
