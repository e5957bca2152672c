//! Messages left after hours in the inbox: the queue beside the conversations, and one message as
//! the operator handles it (its text and contact, the answers sent, an answer by email, "done").
//! The list lives in the hub mirror (core's `HubMirror::offline`), fetched again whenever the hub
//! says it changed; what is answerable and where an answer goes is the server's (core's
//! `chat::offline`).

use floorwalker_core::chat::conversation_list::HubMirror;
use floorwalker_core::chat::offline::{OfflineMessage, MAX_REPLY_CHARS};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::{use_lang, Pick};
use crate::notice::Notice;
use crate::net;

/// Fetches the site's messages left after hours into the mirror.
pub fn load(mirror: RwSignal<HubMirror>) {
    spawn_local(async move {
        if let Ok(list) = net::get::<Vec<OfflineMessage>>("/v1/console/offline").await {
            mirror.update(|m| m.set_offline(list));
        }
    });
}

/// The queue in the inbox's left column.
#[component]
pub fn OfflineQueue(mirror: RwSignal<HubMirror>, selected: RwSignal<Option<String>>, on_open: Callback<()>) -> impl IntoView {
    let lang = use_lang();
    view! {
        <section class="callbacks offline" data-test="offline-messages" aria-labelledby="offline-heading">
            <h2 class="heading" id="offline-heading">{move || lang.get().pick("Messages left after hours", "Сообщения в нерабочее время")}</h2>
            <ul>
                <For each=move || mirror.with(|m| m.offline().to_vec()) key=|m| (m.lead_id.clone(), m.replies.len()) let:message>
                    {
                        let id = message.lead_id.clone();
                        let current = id.clone();
                        let answered = !message.replies.is_empty();
                        view! {
                            <li data-test="offline-message" data-lead=message.lead_id.clone() data-answered=answered.to_string()>
                                <button class="row" aria-current=move || (selected.get().as_deref() == Some(current.as_str())).to_string()
                                    on:click=move |_| { selected.set(Some(id.clone())); on_open.run(()); }>
                                    <strong data-test="offline-contact">{message.visitor_label.clone()}</strong>
                                    {answered.then(|| view! { " " <span class="flag" data-test="offline-answered">{move || lang.get().pick("answered", "есть ответ")}</span> })}
                                    <div class="snippet" data-test="offline-preview">{floorwalker_core::chat::hub::preview(message.text())}</div>
                                    <div class="meta">{let at = message.received_at; move || crate::clock::shop_time(at, lang.get())}</div>
                                </button>
                            </li>
                        }
                    }
                </For>
            </ul>
            {move || mirror.with(|m| m.offline().is_empty()).then(|| view! { <p class="empty">{move || lang.get().pick("None waiting.", "Нет новых.")}</p> })}
        </section>
    }
}

/// One message left after hours, opened.
#[component]
pub fn OfflineView(id: String, mirror: RwSignal<HubMirror>, selected: RwSignal<Option<String>>) -> impl IntoView {
    let lang = use_lang();
    let draft = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<Notice>);
    let sent = RwSignal::new(None::<Notice>);
    let lookup = id.clone();
    let message = Memo::new(move |_| mirror.with(|m| m.offline().iter().find(|o| o.lead_id == lookup).cloned()));
    let reply_path = format!("/v1/console/offline/{id}/reply");
    let done_path = format!("/v1/console/offline/{id}/done");

    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            error.set(Some(Notice::Said("Write the answer first.", "Сначала напишите ответ.")));
            return;
        }
        busy.set(true);
        error.set(None);
        sent.set(None);
        let path = reply_path.clone();
        spawn_local(async move {
            match net::post::<OfflineMessage>(&path, &serde_json::json!({ "text": text })).await {
                Ok(updated) => {
                    let to = updated.contact.email.clone().unwrap_or_default();
                    mirror.update(|m| m.offline_changed(updated));
                    draft.set(String::new());
                    sent.set(Some(Notice::SaidAbout("Sent by email to", "Отправлено на почту", to)));
                }
                Err(e) => error.set(Some(Notice::Refused(e))),
            }
            busy.set(false);
        });
    };
    let done = move |_| {
        let path = done_path.clone();
        busy.set(true);
        spawn_local(async move {
            match net::post::<OfflineMessage>(&path, &serde_json::json!({})).await {
                Ok(updated) => {
                    mirror.update(|m| m.offline_changed(updated));
                    selected.set(None);
                }
                Err(e) => error.set(Some(Notice::Refused(e))),
            }
            busy.set(false);
        });
    };

    view! {
        <section class="chat offline-view" data-test="offline-view" data-lead=id.clone() aria-labelledby="offline-view-heading">
            {move || match message.get() {
                None => view! { <p class="empty">{move || lang.get().pick("This message was handled.", "Это сообщение уже обработано.")}</p> }.into_any(),
                Some(m) => {
                    let email = m.contact.email.clone();
                    let phone = m.contact.phone.clone();
                    let can_email = m.can_email;
                    view! {
                        <header>
                            <h2 class="grow" id="offline-view-heading" data-test="offline-title">{m.visitor_label.clone()}</h2>
                            <button data-test="offline-done" on:click=done.clone() disabled=move || busy.get()>
                                {move || lang.get().pick("Mark done", "Готово")}
                            </button>
                        </header>
                        <div class="offline-body">
                            <dl class="facts">
                                {email.clone().map(|e| view! { <dt>{move || lang.get().pick("Email", "Почта")}</dt><dd data-test="offline-email">{e}</dd> })}
                                {phone.clone().map(|p| view! { <dt>{move || lang.get().pick("Phone", "Телефон")}</dt><dd data-test="offline-phone">{p}</dd> })}
                                <dt>{move || lang.get().pick("Received", "Получено")}</dt><dd>{let at = m.received_at; move || crate::clock::shop_time(at, lang.get())}</dd>
                                <dt>{move || lang.get().pick("Page", "Страница")}</dt><dd class="url">{m.page_url.clone()}</dd>
                            </dl>
                            <ol class="messages">
                                <li class="msg visitor" data-test="offline-text">
                                    <div class="who">{m.visitor_label.clone()}</div>
                                    <span>{m.text().to_owned()}</span>
                                </li>
                                {m.replies.iter().map(|r| view! {
                                    <li class="msg operator" data-test="offline-reply" data-seq=r.seq>
                                        <div class="who">{r.author.clone()}" · "{let at = r.at; move || crate::clock::shop_time(at, lang.get())}</div>
                                        <span>{r.text.clone()}</span>
                                    </li>
                                }).collect_view()}
                            </ol>
                        </div>
                        <p class="error" role="alert" data-test="offline-error">{move || error.get().map(|n| n.text(lang.get()))}</p>
                        <p class="sent" role="status" data-test="offline-sent">{move || sent.get().map(|n| n.text(lang.get()))}</p>
                        {if can_email {
                            view! {
                                <form class="compose offline-compose" on:submit=send.clone()>
                                    <textarea data-test="offline-reply-text" rows="4" maxlength=MAX_REPLY_CHARS.to_string()
                                        aria-label=move || lang.get().pick("Answer by email", "Ответ по почте")
                                        prop:value=move || draft.get() on:input=move |ev| draft.set(event_target_value(&ev))></textarea>
                                    <button class="primary" type="submit" data-test="offline-send" disabled=move || busy.get()>
                                        {move || lang.get().pick("Send by email", "Ответить письмом")}
                                    </button>
                                </form>
                            }.into_any()
                        } else {
                            view! {
                                <p class="note" data-test="offline-call">
                                    {move || lang.get().pick("No email was left: call the visitor back, then mark the message done.", "Почту не оставили: перезвоните и отметьте сообщение как готовое.")}
                                </p>
                            }.into_any()
                        }}
                    }.into_any()
                }
            }}
        </section>
    }
}
