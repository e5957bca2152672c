//! The console's views. State lives in signals; sockets and the core `ChatClient` live in local
//! stored values (they are not `Send`), touched only from event callbacks.

use floorwalker_core::chat::{Author, ChatClient, ClientEvent, ClientFrame, ConversationStatus, MessageAction, ServerFrame, Side};
use floorwalker_core::context::VisitorContext;
use floorwalker_core::conversation::TYPING_TTL_MS;
use floorwalker_core::hub::{ConnectionStatus, ConsoleFrame, ConversationEntry, HubNotification, OperatorPresence, Presence};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};

use crate::net;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Operator {
    pub id: String,
    pub site: String,
    pub email: String,
    pub name: String,
}

#[derive(Deserialize, Debug, Clone, PartialEq)]
struct Callback {
    conversation_id: String,
    contact: String,
    requested_at: f64,
    #[serde(default)]
    visitor_label: Option<String>,
}

#[component]
pub fn App() -> impl IntoView {
    let me = RwSignal::new(None::<Operator>);
    let checked = RwSignal::new(false);
    spawn_local(async move {
        if let Ok(operator) = net::get::<Operator>("/v1/console/me").await {
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
fn Login(me: RwSignal<Option<Operator>>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = serde_json::json!({"email": email.get_untracked(), "password": password.get_untracked()});
        spawn_local(async move {
            match net::post::<Operator>("/v1/console/login", &body).await {
                Ok(operator) => me.set(Some(operator)),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    view! {
        <form class="login" on:submit=submit>
            <h1>"Floorwalker console"</h1>
            <label>"Email" <input id="email" type="email" autocomplete="username" required
                on:input=move |ev| email.set(event_target_value(&ev)) prop:value=move || email.get()/></label>
            <label>"Password" <input id="password" type="password" autocomplete="current-password" required
                on:input=move |ev| password.set(event_target_value(&ev)) prop:value=move || password.get()/></label>
            <button class="primary" type="submit" id="login">"Log in"</button>
            <p class="error" role="alert">{move || error.get()}</p>
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
        list.sort_by(|a, b| b.updated_at.cmp(&a.updated_at));
    });
}

#[component]
fn Console(operator: Operator, me: RwSignal<Option<Operator>>) -> impl IntoView {
    let entries = RwSignal::new(Vec::<ConversationEntry>::new());
    let operators = RwSignal::new(Vec::<OperatorPresence>::new());
    let status = RwSignal::new(ConnectionStatus::Online);
    let connected = RwSignal::new(false);
    let alert = RwSignal::new(None::<String>);
    let selected = RwSignal::new(None::<String>);
    let callbacks = RwSignal::new(Vec::<Callback>::new());
    let hub = StoredValue::new_local(None::<web_sys::WebSocket>);
    let disposed = StoredValue::new(false);

    let load_callbacks = move || {
        spawn_local(async move {
            if let Ok(list) = net::get::<Vec<Callback>>("/v1/console/callbacks").await {
                callbacks.set(list);
            }
        })
    };
    load_callbacks();

    fn connect(
        hub: StoredValue<Option<web_sys::WebSocket>, LocalStorage>,
        disposed: StoredValue<bool>,
        status: RwSignal<ConnectionStatus>,
        connected: RwSignal<bool>,
        entries: RwSignal<Vec<ConversationEntry>>,
        operators: RwSignal<Vec<OperatorPresence>>,
        alert: RwSignal<Option<String>>,
        load_callbacks: impl Fn() + Copy + 'static,
    ) {
        let away = status.get_untracked() == ConnectionStatus::Away;
        let path = if away { "/v1/console/ws?status=away" } else { "/v1/console/ws" };
        let ws = net::open::<HubNotification>(
            path,
            move || connected.set(true),
            move |notification| match notification {
                HubNotification::Snapshot { operators: ops, conversations } => {
                    operators.set(ops);
                    entries.set(conversations);
                }
                HubNotification::ConversationOpened { entry } => {
                    alert.set(Some(format!("New conversation: {}", entry.visitor_label)));
                    upsert(entries, entry);
                }
                HubNotification::CallbackRequested { entry } => {
                    alert.set(Some(format!("Callback requested: {}", entry.visitor_label)));
                    upsert(entries, entry);
                    load_callbacks();
                }
                HubNotification::ConversationUpdated { entry } => upsert(entries, entry),
                HubNotification::OperatorPresence(p) => operators.update(|list| {
                    list.retain(|o| o.operator_id != p.operator_id);
                    if p.presence != Presence::Offline {
                        list.push(p);
                    }
                }),
                HubNotification::CallbackDone { .. } => load_callbacks(),
                HubNotification::Pong => {}
            },
            move || {
                connected.set(false);
                if !disposed.get_value() {
                    net::later(2000, move || {
                        if !disposed.get_value() {
                            connect(hub, disposed, status, connected, entries, operators, alert, load_callbacks);
                        }
                    });
                }
            },
        );
        hub.set_value(ws);
    }
    connect(hub, disposed, status, connected, entries, operators, alert, load_callbacks);
    on_cleanup(move || {
        disposed.set_value(true);
        hub.with_value(|ws| if let Some(ws) = ws { let _ = ws.close(); });
    });

    // The tab title counts what waits for an answer.
    Effect::new(move |_| {
        let unread: u64 = entries.with(|list| list.iter().filter(|e| e.status == ConversationStatus::Open).map(|e| e.unread_by_operator).sum());
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            document.set_title(&if unread > 0 { format!("({unread}) Floorwalker console") } else { "Floorwalker console".into() });
        }
    });

    let toggle = move |_| {
        let next = if status.get_untracked() == ConnectionStatus::Online { ConnectionStatus::Away } else { ConnectionStatus::Online };
        status.set(next);
        hub.with_value(|ws| if let Some(ws) = ws { net::send_json(ws, &ConsoleFrame::Status { status: next }) });
    };
    let logout = move |_| {
        spawn_local(async move {
            let _ = net::post::<serde_json::Value>("/v1/console/logout", &serde_json::json!({})).await;
            me.set(None);
        });
    };
    let name = operator.name.clone();
    view! {
        <div class="top">
            <strong>"Floorwalker"</strong>
            <span class="grow">{name}</span>
            <span class=move || if status.get() == ConnectionStatus::Online { "presence online" } else { "presence away" } id="presence">
                {move || if status.get() == ConnectionStatus::Online { "● Online" } else { "● Away" }}
            </span>
            <button id="presence-toggle" on:click=toggle>{move || if status.get() == ConnectionStatus::Online { "Go away" } else { "Go online" }}</button>
            <span>{move || if connected.get() { "" } else { "reconnecting…" }}</span>
            <span title="operators online">{move || format!("{} online", operators.with(|o| o.iter().filter(|p| p.presence == Presence::Online).count()))}</span>
            <button on:click=logout>"Log out"</button>
        </div>
        {move || alert.get().map(|text| view! {
            <div class="alert" role="status">{text}" " <button on:click=move |_| alert.set(None)>"Dismiss"</button></div>
        })}
        <div class="layout">
            <ul class="list" id="conversations" aria-label="Conversations">
                <For each=move || entries.get() key=|e| (e.conversation_id.clone(), e.revision) let:entry>
                    {
                        let id = entry.conversation_id.clone();
                        let current = id.clone();
                        let attr = id.clone();
                        view! {
                            <li data-conversation=attr>
                                <button aria-current=move || (selected.get().as_deref() == Some(current.as_str())).to_string()
                                    on:click=move |_| { selected.set(Some(id.clone())); alert.set(None); }>
                                    <span class="label">{entry.visitor_label.clone()}</span>
                                    {(entry.unread_by_operator > 0).then(|| view! { <span class="badge unread">{entry.unread_by_operator}</span> })}
                                    {entry.callback_requested.then(|| view! { <span class="flag">"callback"</span> })}
                                    {(entry.status == ConversationStatus::Closed).then(|| view! { <span class="closed">"closed"</span> })}
                                    <div class="preview">{entry.preview.clone()}</div>
                                </button>
                            </li>
                        }
                    }
                </For>
                {move || entries.with(|e| e.is_empty()).then(|| view! { <li class="empty">"No conversations yet."</li> })}
            </ul>
            {move || match selected.get() {
                Some(id) => view! { <ConversationView id=id/> }.into_any(),
                None => view! { <section class="chat"><p class="empty">"Choose a conversation."</p></section><aside class="side">
                    <CallbackQueue callbacks=callbacks selected=selected load=load_callbacks/></aside> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn CallbackQueue(callbacks: RwSignal<Vec<Callback>>, selected: RwSignal<Option<String>>, load: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    view! {
        <h2>"Callback requests"</h2>
        <ul class="callbacks" id="callbacks">
            <For each=move || callbacks.get() key=|c| c.conversation_id.clone() let:cb>
                {
                    let id = cb.conversation_id.clone();
                    let open = id.clone();
                    view! {
                        <li>
                            <strong>{cb.contact.clone()}</strong>" "{cb.visitor_label.clone().unwrap_or_default()}" "
                            <button on:click=move |_| selected.set(Some(open.clone()))>"Open"</button>" "
                            <button class="done" on:click=move |_| {
                                let id = id.clone();
                                spawn_local(async move {
                                    let _ = net::post::<serde_json::Value>(&format!("/v1/console/callbacks/{id}/done"), &serde_json::json!({})).await;
                                    load();
                                });
                            }>"Done"</button>
                        </li>
                    }
                }
            </For>
        </ul>
        {move || callbacks.with(|c| c.is_empty()).then(|| view! { <p class="empty">"None waiting."</p> })}
    }
}

#[derive(Deserialize, Debug, Clone, PartialEq, Default)]
struct Details {
    #[serde(default)]
    context: Option<VisitorContext>,
    #[serde(default)]
    previous: Vec<serde_json::Value>,
    #[serde(default)]
    leads: Vec<serde_json::Value>,
    #[serde(default)]
    callback: Option<serde_json::Value>,
}

#[component]
fn ConversationView(id: String) -> impl IntoView {
    let messages = RwSignal::new(Vec::<floorwalker_core::chat::ChatMessage>::new());
    let visitor_read = RwSignal::new(0u64);
    let typing_seen = RwSignal::new(0u64);
    let typing_now = RwSignal::new(false);
    let closed = RwSignal::new(false);
    let online = RwSignal::new(false);
    let draft = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let details = RwSignal::new(None::<Details>);
    let client = StoredValue::new(ChatClient::default());
    let socket = StoredValue::new_local(None::<web_sys::WebSocket>);
    let disposed = StoredValue::new(false);
    let last_typing = StoredValue::new(0u64);

    let path = format!("/v1/console/conversations/{id}");
    spawn_local({
        let path = path.clone();
        async move {
            if let Ok(d) = net::get::<Details>(&path).await {
                details.set(Some(d));
            }
        }
    });

    fn mark_read(socket: StoredValue<Option<web_sys::WebSocket>, LocalStorage>, client: StoredValue<ChatClient>) {
        let last = client.with_value(|c| c.last_seq());
        socket.with_value(|ws| if let Some(ws) = ws { net::send_json(ws, &ClientFrame::Read { up_to_seq: last }) });
    }

    #[allow(clippy::too_many_arguments)]
    fn connect(
        path: String,
        attempt: u32,
        socket: StoredValue<Option<web_sys::WebSocket>, LocalStorage>,
        disposed: StoredValue<bool>,
        client: StoredValue<ChatClient>,
        messages: RwSignal<Vec<floorwalker_core::chat::ChatMessage>>,
        visitor_read: RwSignal<u64>,
        typing: (RwSignal<u64>, RwSignal<bool>),
        closed: RwSignal<bool>,
        online: RwSignal<bool>,
        error: RwSignal<Option<String>>,
    ) {
        let reconnect_path = path.clone();
        let ws = net::open::<ServerFrame>(
            &format!("{path}/ws"),
            move || {
                online.set(true);
                let hello = client.with_value(|c| c.hello("console"));
                let pending = client.with_value(|c| c.resend_pending());
                socket.with_value(|ws| {
                    if let Some(ws) = ws {
                        net::send_json(ws, &hello);
                        for frame in pending {
                            net::send_json(ws, &frame);
                        }
                    }
                });
            },
            move |frame: ServerFrame| {
                let event = client.try_update_value(|c| c.receive(frame)).unwrap_or(ClientEvent::None);
                match event {
                    ClientEvent::Messages => {
                        messages.set(client.with_value(|c| c.messages().to_vec()));
                        if messages.with_untracked(|m| m.last().is_some_and(|m| m.author == Author::Visitor)) {
                            typing.1.set(false);
                        }
                        mark_read(socket, client);
                    }
                    ClientEvent::Frame(ServerFrame::Welcome(welcome)) => {
                        messages.set(client.with_value(|c| c.messages().to_vec()));
                        visitor_read.set(welcome.other_read_up_to);
                        closed.set(welcome.status == ConversationStatus::Closed);
                        mark_read(socket, client);
                    }
                    ClientEvent::Frame(ServerFrame::Typing { author: Author::Visitor, on }) => {
                        let stamp = net::now_ms();
                        typing.0.set(stamp);
                        typing.1.set(on);
                        if on {
                            net::later(TYPING_TTL_MS as i32, move || {
                                if typing.0.get_untracked() == stamp {
                                    typing.1.set(false);
                                }
                            });
                        }
                    }
                    ClientEvent::Frame(ServerFrame::Read { by: Side::Visitor, up_to_seq }) => visitor_read.set(up_to_seq),
                    ClientEvent::Frame(ServerFrame::Closed { .. }) => closed.set(true),
                    ClientEvent::Frame(ServerFrame::Error { error: e, .. }) => error.set(Some(e.message)),
                    ClientEvent::SendFailed { error: e, .. } => error.set(Some(e.message)),
                    ClientEvent::Resync => socket.with_value(|ws| if let Some(ws) = ws { let _ = ws.close(); }),
                    _ => {}
                }
            },
            move || {
                online.set(false);
                if !disposed.get_value() {
                    let delay = (500 * 2i32.pow(attempt.min(4))).min(10_000);
                    let path = reconnect_path.clone();
                    net::later(delay, move || {
                        if !disposed.get_value() {
                            connect(path, attempt + 1, socket, disposed, client, messages, visitor_read, typing, closed, online, error);
                        }
                    });
                }
            },
        );
        socket.set_value(ws);
    }
    connect(path, 0, socket, disposed, client, messages, visitor_read, (typing_seen, typing_now), closed, online, error);
    on_cleanup(move || {
        disposed.set_value(true);
        socket.with_value(|ws| if let Some(ws) = ws { let _ = ws.close(); });
    });

    let send = move || {
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        let frame = client.try_update_value(|c| c.send(&net::random_id(), &text));
        socket.with_value(|ws| if let (Some(ws), Some(frame)) = (ws, frame) { net::send_json(ws, &frame) });
        draft.set(String::new());
        last_typing.set_value(0);
    };
    let on_input = move |ev| {
        draft.set(event_target_value(&ev));
        let now = net::now_ms();
        if now.saturating_sub(last_typing.get_value()) > 2000 {
            last_typing.set_value(now);
            socket.with_value(|ws| if let Some(ws) = ws { net::send_json(ws, &ClientFrame::Typing { on: true }) });
        }
    };
    let close = move |_| socket.with_value(|ws| if let Some(ws) = ws { net::send_json(ws, &ClientFrame::Close) });

    view! {
        <section class="chat" aria-label="Conversation">
            <header>
                <span class="grow">{move || if online.get() { "" } else { "Offline — reconnecting…" }}</span>
                {move || closed.get().then(|| view! { <span class="closed" id="closed-label">"Closed"</span> })}
                <button id="close-conversation" on:click=close disabled=move || closed.get()>"Close conversation"</button>
            </header>
            <ol class="messages" id="messages" aria-live="polite">
                <For each=move || messages.get() key=|m| m.seq let:m>
                    {
                        let class = match &m.author {
                            Author::Visitor => "msg visitor",
                            Author::Operator { .. } => "msg operator",
                            Author::System => "msg system",
                        };
                        let who = match &m.author {
                            Author::Visitor => "Visitor".to_owned(),
                            Author::Operator { name } => name.clone(),
                            Author::System => match m.action {
                                Some(MessageAction::CallbackRequested) => "Callback requested".to_owned(),
                                _ => "Floorwalker".to_owned(),
                            },
                        };
                        view! { <li class=class data-seq=m.seq><div class="who">{who}</div>{m.text.clone()}</li> }
                    }
                </For>
                {move || {
                    let last_own = messages.with(|ms| ms.iter().rev().find(|m| matches!(m.author, Author::Operator { .. })).map(|m| m.seq));
                    last_own.filter(|seq| *seq <= visitor_read.get()).map(|_| view! { <li class="seen" id="seen">"Seen"</li> })
                }}
            </ol>
            <div class="typing" id="visitor-typing" aria-live="polite">{move || typing_now.get().then_some("Visitor is typing…")}</div>
            <p class="error" role="alert">{move || error.get()}</p>
            <form class="compose" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); send(); }>
                <input id="reply" aria-label="Reply" autocomplete="off" prop:value=move || draft.get() on:input=on_input disabled=move || closed.get()/>
                <button class="primary" id="send" type="submit" disabled=move || closed.get()>"Send"</button>
            </form>
        </section>
        <aside class="side" id="context" aria-label="Visitor">
            {move || details.get().map(|d| view! { <ContextPanel details=d/> })}
        </aside>
    }
}

fn money(minor: i64, currency: &str) -> String {
    format!("{}.{:02} {currency}", minor / 100, (minor % 100).abs())
}

#[component]
fn ContextPanel(details: Details) -> impl IntoView {
    let context = details.context.clone();
    let touch = |t: &floorwalker_core::context::Touch| {
        let source = [t.utm_source.as_deref(), t.utm_medium.as_deref(), t.utm_campaign.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" / ");
        let source = if source.is_empty() { t.referrer.clone().unwrap_or_else(|| "direct".into()) } else { source };
        format!("{source} → {}", t.landing_page)
    };
    view! {
        <h2>"Visitor"</h2>
        {context.map(|c| {
            let first = c.first_touch.as_ref().map(touch).unwrap_or_else(|| "unknown".into());
            let last = c.last_touch.as_ref().map(touch);
            let active = format!("{}:{:02}", c.active_seconds / 60, c.active_seconds % 60);
            view! {
                <p><strong>"Source: "</strong><span id="source">{first}</span></p>
                {last.map(|l| view! { <p><strong>"Last visit from: "</strong>{l}</p> })}
                <p><strong>"Now on: "</strong>{c.page_url.clone()}</p>
                <p><strong>"Pages viewed: "</strong>{c.pages_viewed}" · "<strong>"active "</strong>{active}
                    {c.returning.then_some(" · returning")}</p>
                <h2>"Products viewed"</h2>
                <ul id="products">
                    {c.products.iter().map(|p| {
                        let price = p.product.price.map(|m| money(m.minor, m.currency.as_str())).unwrap_or_default();
                        view! { <li>{p.product.name.clone()}" — "{price}{(p.views > 1).then(|| format!(" (×{})", p.views))}</li> }
                    }).collect_view()}
                </ul>
                {(!c.answers.is_empty()).then(|| view! {
                    <h2>"Answers"</h2>
                    <ul>{c.answers.iter().map(|a| view! { <li>{a.question.clone()}": "{a.answer.clone()}</li> }).collect_view()}</ul>
                })}
                <h2>"Recent pages"</h2>
                <ul>{c.recent_pages.iter().map(|p| view! { <li>{p.clone()}</li> }).collect_view()}</ul>
            }
        })}
        {details.callback.clone().map(|cb| view! {
            <h2>"Callback"</h2><p>{cb["contact"].as_str().unwrap_or_default().to_owned()}{cb["done_at"].is_null().then_some(" (waiting)")}</p>
        })}
        <h2>"Leads"</h2>
        <ul id="leads">{details.leads.iter().map(|l| view! {
            <li>{l["kind"].as_str().unwrap_or("lead").to_owned()}" "{l["email"].as_str().or(l["phone"].as_str()).unwrap_or_default().to_owned()}</li>
        }).collect_view()}</ul>
        <h2>"Earlier conversations"</h2>
        <ul id="previous">{details.previous.iter().map(|p| view! {
            <li>{p["id"].as_str().unwrap_or_default().to_owned()}" — "{p["status"].as_str().unwrap_or_default().to_owned()}</li>
        }).collect_view()}</ul>
    }
}
