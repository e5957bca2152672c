//! The operator's chats: the top bar's presence, the conversation list and the callback queue,
//! kept current from the site hub's notifications (core's `HubMirror` decides what each one
//! changes), beside the conversation the operator chose (`conversation.rs`).
//!
//! State lives in signals; sockets live in local stored values (they are not `Send`), touched only
//! from event callbacks. Every element a test (or a person with a screen reader) needs to find has
//! a stable `data-test` hook; the end-to-end suite (`tests/tests/console.rs`) uses only those.

use floorwalker_core::chat::conversation_list::{Alert, HubMirror};
use floorwalker_core::chat::hub::{ConnectionStatus, ConsoleFrame, HubNotification};
use floorwalker_core::access::accounts::SignedIn;
use floorwalker_core::chat::offline::visitor_label_in;
use floorwalker_core::chat::operator_view::CallbackEntry;
use floorwalker_core::chat::protocol::ConversationStatus;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::conversation::ConversationView;
use crate::i18n::Pick;
use crate::net;

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
    /// The last announcement, worded in the operator's language whenever it is shown.
    alert: RwSignal<Option<Alert>>,
    /// Who is logged in: cleared when the session turns out to be over (logged out elsewhere,
    /// disabled, removed, a new password), which brings back the login form.
    me: RwSignal<Option<SignedIn>>,
    /// The operator's language, for announcements made from socket callbacks (outside any owner).
    lang: RwSignal<crate::i18n::Lang>,
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
            crate::notify::announce(&alert_text(&alert, self.lang.get_untracked()));
            self.alert.set(Some(alert));
        }
        if reaction.reload_callbacks {
            self.load_callbacks();
        }
        if reaction.reload_offline {
            crate::offline::load(self.mirror);
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
            let answer = net::get::<SignedIn>("/v1/console/me").await;
            // Logged out meanwhile (and perhaps in again): this inbox is gone and decides nothing.
            if self.disposed.try_with_value(|d| *d).unwrap_or(true) {
                return;
            }
            match answer {
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
pub fn Inbox(me: RwSignal<Option<SignedIn>>) -> impl IntoView {
    let hub = HubConnection {
        socket: StoredValue::new_local(None),
        disposed: StoredValue::new(false),
        attempt: StoredValue::new(0),
        status: RwSignal::new(ConnectionStatus::Online),
        connected: RwSignal::new(false),
        mirror: RwSignal::new(HubMirror::new()),
        alert: RwSignal::new(None),
        me,
        lang: crate::i18n::use_lang(),
    };
    let selected = RwSignal::new(None::<String>);
    let current = Memo::new(move |_| selected.get());
    // A message left after hours, opened instead of a conversation (one or the other).
    let selected_offline = RwSignal::new(None::<String>);
    let current_offline = Memo::new(move |_| selected_offline.get());
    Effect::new(move |_| {
        if selected.get().is_some() {
            selected_offline.set(None);
        }
    });
    let opened_offline = Callback::new(move |()| selected.set(None));
    hub.connect();
    on_cleanup(move || {
        hub.disposed.set_value(true);
        hub.socket.with_value(|ws| if let Some(ws) = ws { net::close_for_good(ws) });
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
    let (mirror, alert, connected) = (hub.mirror, hub.alert, hub.connected);
    let lang = crate::i18n::use_lang();
    let notify_permission = RwSignal::new(crate::notify::permission());
    view! {
        <div class="console" data-test="console">
        <div class="toolbar">
            <span class=move || if status.get() == ConnectionStatus::Online { "presence online" } else { "presence away" }
                data-test="presence" data-presence=move || if status.get() == ConnectionStatus::Online { "online" } else { "away" }>
                {move || if status.get() == ConnectionStatus::Online { lang.get().pick("● Online", "● На связи") } else { lang.get().pick("● Away", "● Отошёл") }}
            </span>
            <button data-test="presence-toggle" on:click=toggle>{move || if status.get() == ConnectionStatus::Online { lang.get().pick("Go away", "Отойти") } else { lang.get().pick("Go online", "Вернуться") }}</button>
            <span data-test="connection" data-connected=move || connected.get().to_string()>{move || if connected.get() { "" } else { lang.get().pick("reconnecting…", "переподключение…") }}</span>
            <span class="grow"></span>
            {move || (notify_permission.get() == "default").then(|| view! {
                <button data-test="notify" on:click=move |_| spawn_local(async move { notify_permission.set(crate::notify::ask().await) })>
                    {move || lang.get().pick("Turn on notifications", "Включить уведомления")}
                </button>
            })}
            <span title="operators online" data-test="operators-online">
                {move || {
                    let n = mirror.with(HubMirror::operators_online);
                    match lang.get() {
                        crate::i18n::Lang::En => format!("{n} online"),
                        crate::i18n::Lang::Ru => format!("на связи: {n}"),
                    }
                }}
            </span>
        </div>
        {move || alert.get().map(|shown| view! {
            <div class="alert" role="status" data-test="alert">{move || alert_text(&shown, lang.get())}" " <button on:click=move |_| alert.set(None)>{move || lang.get().pick("Dismiss", "Скрыть")}</button></div>
        })}
        <div class="layout">
            <div class="left">
                <crate::offline::OfflineQueue mirror=hub.mirror selected=selected_offline on_open=opened_offline/>
                <CallbackQueue hub=hub selected=selected/>
                <h2 class="heading">{move || lang.get().pick("Conversations", "Разговоры")}</h2>
                <ul class="list" data-test="conversations" aria-label="Conversations">
                    <For each=move || mirror.with(|m| m.conversations().ordered().into_iter().map(|e| e.conversation_id.clone()).collect::<Vec<_>>()) key=|id| id.clone() let:id>
                        <ConversationRow id=id mirror=mirror selected=selected alert=alert/>
                    </For>
                    {move || mirror.with(|m| m.conversations().is_empty()).then(|| view! { <li class="empty">{move || lang.get().pick("No conversations yet.", "Разговоров пока нет.")}</li> })}
                </ul>
            </div>
            {move || match (current.get(), current_offline.get()) {
                (_, Some(id)) => view! {
                    <crate::offline::OfflineView id=id mirror=mirror selected=selected_offline/>
                    <aside class="side"></aside>
                }.into_any(),
                (Some(id), None) => view! { <ConversationView id=id mirror=mirror/> }.into_any(),
                (None, None) => view! {
                    <section class="chat"><p class="empty">{move || lang.get().pick("Choose a conversation.", "Выберите разговор.")}</p></section>
                    <aside class="side"></aside>
                }.into_any(),
            }}
        </div>
        </div>
    }
}

/// One conversation in the list. The row is keyed by the conversation alone and redraws only its
/// contents as the conversation changes, so the button an operator has focused or is clicking
/// stays the same element while messages arrive.
#[component]
fn ConversationRow(id: String, mirror: RwSignal<HubMirror>, selected: RwSignal<Option<String>>, alert: RwSignal<Option<Alert>>) -> impl IntoView {
    let lang = crate::i18n::use_lang();
    let entry = {
        let id = id.clone();
        Memo::new(move |_| mirror.with(|m| m.conversations().get(&id).cloned()))
    };
    let closed = move || entry.with(|e| e.as_ref().is_some_and(|e| e.status == ConversationStatus::Closed));
    let (current, attribute) = (id.clone(), id.clone());
    view! {
        <li data-test="conversation" data-conversation=attribute data-status=move || if closed() { "closed" } else { "open" }>
            <button aria-current=move || (selected.get().as_deref() == Some(current.as_str())).to_string()
                on:click=move |_| { selected.set(Some(id.clone())); alert.set(None); }>
                {move || entry.get().map(|entry| view! {
                    <span class="label" data-test="label">{let label = entry.visitor_label.clone(); move || visitor_label_in(&label, lang.get()).into_owned()}</span>
                    {(entry.unread_by_operator > 0).then(|| view! { <span class="badge unread" data-test="unread">{entry.unread_by_operator}</span> })}
                    {entry.callback_requested.then(|| view! { <span class="flag" data-test="callback-flag">{move || lang.get().pick("callback", "перезвонить")}</span> })}
                    {entry.assignee.clone().map(|a| view! { <span class="taken" data-test="assignee">{a.name}</span> })}
                    {(entry.status == ConversationStatus::Closed).then(|| view! { <span class="closed" data-test="closed">{move || lang.get().pick("closed", "закрыт")}</span> })}
                    {entry.rating.map(|score| view! { <span class="flag rated" data-test="rating">{move || format!("{} {score}/5", lang.get().pick("rated", "оценка"))}</span> })}
                    <div class="preview" data-test="preview">{entry.preview.clone()}</div>
                })}
            </button>
        </li>
    }
}
#[component]
fn CallbackQueue(hub: HubConnection, selected: RwSignal<Option<String>>) -> impl IntoView {
    let mirror = hub.mirror;
    let lang = crate::i18n::use_lang();
    view! {
        <section class="callbacks" data-test="callbacks" aria-labelledby="callbacks-heading">
            <h2 class="heading" id="callbacks-heading">{move || lang.get().pick("Callback requests", "Просьбы перезвонить")}</h2>
            <ul>
                <For each=move || mirror.with(|m| m.callbacks().to_vec()) key=|c| (c.conversation_id.clone(), c.requested_at) let:cb>
                    {
                        let id = cb.conversation_id.clone();
                        let open = id.clone();
                        view! {
                            <li data-test="callback" data-conversation=cb.conversation_id.clone()>
                                <strong data-test="callback-contact">{cb.contact.clone()}</strong>
                                {cb.time_slot.clone().map(|slot| view! { " · " <span data-test="callback-time">{slot}</span> })}
                                <div class="meta">{let label = cb.visitor_label.clone().unwrap_or_default(); move || visitor_label_in(&label, lang.get()).into_owned()}" · "{move || crate::clock::shop_time(cb.requested_at, lang.get())}</div>
                                <button data-test="callback-open" on:click=move |_| selected.set(Some(open.clone()))>{move || lang.get().pick("Open", "Открыть")}</button>" "
                                <button class="done" data-test="callback-done" on:click=move |_| {
                                    let id = id.clone();
                                    spawn_local(async move {
                                        let done = net::post::<serde_json::Value>(&format!("/v1/console/callbacks/{id}/done"), &serde_json::json!({})).await;
                                        if done.is_ok() {
                                            mirror.update(|m| m.callback_done(&id));
                                        }
                                        hub.load_callbacks();
                                    });
                                }>{move || lang.get().pick("Done", "Готово")}</button>
                            </li>
                        }
                    }
                </For>
            </ul>
            {move || mirror.with(|m| m.callbacks().is_empty()).then(|| view! { <p class="empty">{move || lang.get().pick("None waiting.", "Нет новых.")}</p> })}
        </section>
    }
}

/// An announcement in the operator's language.
fn alert_text(alert: &Alert, lang: crate::i18n::Lang) -> String {
    let (what, who) = match alert {
        Alert::NewConversation { visitor_label } => (lang.pick("New conversation", "Новый разговор"), visitor_label),
        Alert::CallbackRequested { visitor_label } => (lang.pick("Callback requested", "Просят перезвонить"), visitor_label),
        Alert::OfflineMessage { visitor_label } => (lang.pick("Message left after hours", "Сообщение в нерабочее время"), visitor_label),
    };
    format!("{what}: {}", visitor_label_in(who, lang))
}

