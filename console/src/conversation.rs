//! One conversation as the operator answers it: its socket (core's `ChatClient` keeps the messages
//! in seq order exactly once across reconnects), the thread, the reply box, and what the visitor
//! looked at before writing.

use floorwalker_core::chat::conversation::TYPING_TTL_MS;
use floorwalker_core::chat::operator_view::{active_time, source_line, ConversationDetails};
use floorwalker_core::chat::protocol::{
    Author, ChatClient, ClientEvent, ClientFrame, ConversationStatus, MessageAction, ServerFrame, Side,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::Pick;
use crate::net;
use crate::notice::Notice;

/// One conversation's socket and what its frames update.
#[derive(Clone, Copy)]
struct ConversationConnection {
    path: StoredValue<String>,
    socket: StoredValue<Option<web_sys::WebSocket>, LocalStorage>,
    disposed: StoredValue<bool>,
    /// Failed attempts since the socket last opened (core's backoff grows with it).
    attempt: StoredValue<u32>,
    client: StoredValue<ChatClient>,
    messages: RwSignal<Vec<floorwalker_core::chat::protocol::ChatMessage>>,
    visitor_read: RwSignal<u64>,
    typing_stamp: RwSignal<u64>,
    typing_now: RwSignal<bool>,
    closed: RwSignal<bool>,
    online: RwSignal<bool>,
    error: RwSignal<Option<Notice>>,
    details: RwSignal<Option<Result<ConversationDetails, Notice>>>,
    /// Whether the socket opened before: a reopened one may have missed `context` frames.
    opened_before: StoredValue<bool>,
}

impl ConversationConnection {
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
            // The visitor moved on: the panel shows where they are now.
            ClientEvent::Frame(ServerFrame::Context { context }) => self.details.update(|d| {
                if let Some(Ok(details)) = d {
                    details.context = Some(*context);
                }
            }),
            ClientEvent::Frame(ServerFrame::Error { error: e, .. }) => self.error.set(Some(Notice::Refused(net::HttpError::from_api(e)))),
            ClientEvent::SendFailed { error: e, .. } => self.error.set(Some(Notice::failed("Not sent", "Не отправлено", net::HttpError::from_api(e)))),
            ClientEvent::Resync => self.socket.with_value(|ws| if let Some(ws) = ws { let _ = ws.close(); }),
            _ => {}
        }
    }

    /// The visitor panel, read again (the first time, or to catch up after a dropped socket).
    fn load_details(self) {
        let path = self.path.get_value();
        spawn_local(async move {
            let loaded = net::get::<ConversationDetails>(&path).await.map_err(|e| Notice::failed("Could not load the visitor", "Не удалось загрузить посетителя", e));
            self.details.set(Some(loaded));
        });
    }

    fn connect(self) {
        let path = self.path.get_value();
        let ws = net::open::<ServerFrame>(
            &format!("{path}/ws"),
            move || {
                self.attempt.set_value(0);
                self.online.set(true);
                if self.opened_before.get_value() {
                    self.load_details();
                }
                self.opened_before.set_value(true);
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
                net::reconnect_unless_disposed(self.attempt, self.disposed, move || self.connect());
            },
        );
        self.socket.set_value(ws);
    }
}

#[component]
pub fn ConversationView(id: String, mirror: RwSignal<floorwalker_core::chat::conversation_list::HubMirror>) -> impl IntoView {
    let path = format!("/v1/console/conversations/{id}");
    let chat = ConversationConnection {
        path: StoredValue::new(path),
        socket: StoredValue::new_local(None),
        disposed: StoredValue::new(false),
        attempt: StoredValue::new(0),
        client: StoredValue::new(ChatClient::default()),
        messages: RwSignal::new(Vec::new()),
        visitor_read: RwSignal::new(0),
        typing_stamp: RwSignal::new(0),
        typing_now: RwSignal::new(false),
        closed: RwSignal::new(false),
        online: RwSignal::new(false),
        error: RwSignal::new(None),
        details: RwSignal::new(None::<Result<ConversationDetails, Notice>>),
        opened_before: StoredValue::new(false),
    };
    let draft = RwSignal::new(String::new());
    let picker = crate::canned::Picker::new(crate::canned::load(), draft);
    let details = chat.details;
    let last_typing = StoredValue::new(0u64);

    chat.load_details();
    chat.connect();
    on_cleanup(move || {
        chat.disposed.set_value(true);
        chat.socket.with_value(|ws| if let Some(ws) = ws { net::close_for_good(ws) });
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
        picker.typed();
        let now = net::now_ms();
        if now.saturating_sub(last_typing.get_value()) > 2000 {
            last_typing.set_value(now);
            chat.send(&ClientFrame::Typing { on: true });
        }
    };
    // A file from the operator: stored by the worker, then a message both sides see.
    let upload_path = format!("/v1/console/conversations/{id}/files");
    let on_file = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(t).ok()) else { return };
        let Some(file) = input.files().and_then(|files| files.get(0)) else { return };
        input.set_value("");
        let path = format!(
            "{upload_path}?name={}&client_msg_id={}",
            js_sys::encode_uri_component(&file.name()),
            net::random_id()
        );
        chat.error.set(None);
        spawn_local(async move {
            if let Err(e) = net::upload::<serde_json::Value>(&path, &file).await {
                chat.error.set(Some(Notice::failed("The file was not sent", "Файл не отправлен", e)));
            }
        });
    };
    let file_base = format!("/v1/console/conversations/{id}/files/");
    let close = move |_| chat.send(&ClientFrame::Close);
    // Who has it: the list's entry says (the hub keeps every console's copy current).
    let entry_id = id.clone();
    let assignee = Memo::new(move |_| mirror.with(|m| m.conversations().get(&entry_id).and_then(|e| e.assignee.clone())));
    let rated_id = id.clone();
    // A conversation that has left the live list (rated late) still shows its score from the details.
    let stored_rating = move || details.with(|d| d.as_ref().and_then(|r| r.as_ref().ok()).and_then(|d| d.conversation.rating));
    let rating = Memo::new(move |_| mirror.with(|m| m.conversations().get(&rated_id).and_then(|e| e.rating)).or_else(stored_rating));
    let assign_path = format!("/v1/console/conversations/{id}/assign");
    let assign = move |operator_id: Option<String>| {
        let path = assign_path.clone();
        spawn_local(async move {
            let body = match operator_id {
                Some(id) => serde_json::json!({ "operator_id": id }),
                None => serde_json::json!({}),
            };
            if let Err(e) = net::post::<serde_json::Value>(&path, &body).await {
                chat.error.set(Some(Notice::Refused(e)));
            }
        });
    };
    let take = {
        let assign = assign.clone();
        move |_| assign(None)
    };
    let hand_to = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        if !value.is_empty() {
            assign(Some(value));
        }
    };
    let (messages, closed, online, visitor_read, typing_now, error) =
        (chat.messages, chat.closed, chat.online, chat.visitor_read, chat.typing_now, chat.error);
    // Message times are on the shop's clock (its zone comes with the details), as the visitor
    // sees them, in the operator's language.
    let lang = crate::i18n::use_lang();
    let timezone = Memo::new(move |_| details.with(|d| d.as_ref().and_then(|r| r.as_ref().ok()).map(|d| d.timezone.clone())));

    view! {
        <section class="chat" aria-label=move || lang.get().pick("Conversation", "Разговор") data-test="chat" data-conversation=id.clone()
            data-online=move || online.get().to_string()>
            <header>
                <span class="grow">{move || if online.get() { "" } else { lang.get().pick("Offline — reconnecting…", "Нет связи — переподключаемся…") }}</span>
                {move || closed.get().then(|| view! { <span class="closed" data-test="closed-label">{move || lang.get().pick("Closed", "Закрыт")}</span> })}
                {move || rating.get().map(|score| view! {
                    <span class="rated" data-test="rating-label">{move || format!("{} {score} {} 5", lang.get().pick("Rated", "Оценка"), lang.get().pick("of", "из"))}</span>
                })}
                <span class="assignee" data-test="assignee">{move || assignee.get().map(|a| format!("{} {}", lang.get().pick("Taken by", "Взял(а)"), a.name))}</span>
                <button data-test="take" on:click=take disabled=move || closed.get()>{move || lang.get().pick("Take", "Взять")}</button>
                <select data-test="reassign" aria-label=move || lang.get().pick("Hand to an operator", "Передать оператору")
                    on:change=hand_to disabled=move || closed.get() prop:value="">
                    <option value="">{move || lang.get().pick("Hand to…", "Передать…")}</option>
                    {move || mirror.with(|m| m.operators().to_vec()).into_iter().map(|o| view! {
                        <option value=o.operator_id.clone()>{o.name.clone()}</option>
                    }).collect_view()}
                </select>
                <button data-test="close" on:click=close disabled=move || closed.get()>{move || lang.get().pick("Close conversation", "Закрыть разговор")}</button>
            </header>
            <ol class="messages" aria-live="polite">
                <For each=move || messages.get() key=|m| m.seq let:m>
                    {
                        let (class, author) = match &m.author {
                            Author::Visitor => ("msg visitor", "visitor"),
                            Author::Operator { .. } => ("msg operator", "operator"),
                            Author::System => ("msg system", "system"),
                        };
                        let (author_name, action) = (m.author.clone(), m.action);
                        let who = move || match &author_name {
                            Author::Visitor => lang.get().pick("Visitor", "Посетитель").to_owned(),
                            Author::Operator { name } => name.clone(),
                            Author::System => match action {
                                Some(MessageAction::CallbackRequested) => lang.get().pick("Callback requested", "Просит перезвонить").to_owned(),
                                _ => "Floorwalker".to_owned(),
                            },
                        };
                        let at = m.at;
                        let time = move || timezone.get().map(|zone| {
                            let (words, iso) = floorwalker_browser_kit::message_time(&zone, at, lang.get());
                            view! { " " <time data-test="message-time" datetime=iso>{words}</time> }
                        });
                        let file = m.attachment.clone().map(|file| crate::files::shown(&file, &format!("{file_base}{}", file.id)));
                        let text = m.attachment.is_none().then(|| view! { <span data-test="message-text">{m.text.clone()}</span> });
                        view! {
                            <li class=class data-test="message" data-author=author data-seq=m.seq>
                                <div class="who">{who}{time}</div>{text}{file}
                            </li>
                        }
                    }
                </For>
                {move || {
                    let last_own = messages.with(|ms| ms.iter().rev().find(|m| matches!(m.author, Author::Operator { .. })).map(|m| m.seq));
                    last_own.filter(|seq| *seq <= visitor_read.get()).map(|_| view! { <li class="seen" data-test="seen">{move || lang.get().pick("Seen", "Прочитано")}</li> })
                }}
            </ol>
            <div class="typing" data-test="typing" aria-live="polite">{move || typing_now.get().then(|| lang.get().pick("Visitor is typing…", "Посетитель печатает…"))}</div>
            <p class="error" role="alert" data-test="chat-error">{move || error.get().map(|n| n.text(lang.get()))}</p>
            <form class="compose" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); send(); }>
                <input data-test="reply" aria-label=move || lang.get().pick("Reply (/ for canned replies)", "Ответ (/ — готовые ответы)") autocomplete="off"
                    role="combobox" aria-autocomplete="list" aria-controls="canned-list" aria-expanded=move || picker.open().to_string()
                    aria-activedescendant=move || picker.active_id()
                    prop:value=move || draft.get() on:input=on_input disabled=move || closed.get()
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| if picker.key(&ev.key()) { ev.prevent_default(); }/>
                <crate::canned::CannedList picker=picker/>
                <input type="file" id="attach-file" class="file-input" data-test="attach" accept=floorwalker_core::chat::attachment::ACCEPT
                    on:change=on_file disabled=move || closed.get()/>
                <label for="attach-file" class="attach" title=move || lang.get().pick("Send a picture or a PDF", "Отправить картинку или PDF")>
                    {crate::files::paperclip_icon()}<span class="visually-hidden">{move || lang.get().pick("Attach a file", "Прикрепить файл")}</span>
                </label>
                <button class="primary" data-test="send" type="submit" disabled=move || closed.get()>{move || lang.get().pick("Send", "Отправить")}</button>
            </form>
        </section>
        // Focusable: it scrolls on its own when the visitor's history is long, and a keyboard must reach all of it.
        <aside class="side" data-test="context" tabindex="0" aria-label=move || lang.get().pick("Visitor", "Посетитель")>
            {move || match details.get() {
                None => view! { <p class="empty">{move || lang.get().pick("Loading…", "Загрузка…")}</p> }.into_any(),
                Some(Err(notice)) => view! { <p class="error">{move || notice.text(lang.get())}</p> }.into_any(),
                Some(Ok(d)) => view! { <ContextPanel details=d/> }.into_any(),
            }}
        </aside>
    }
}
/// A page as the operator reads it: its title, with its address under it (or the address alone
/// when the page had no title). `test` names it for the tests: `<test>-title`, `<test>-url`.
fn page(context: &floorwalker_core::visitor::context::VisitorContext, url: &str, test: &'static str) -> impl IntoView {
    let title = context.title_of(url).map(str::to_owned);
    let url = url.to_owned();
    view! {
        {title.map(|title| view! { <span class="page-title" data-test=format!("{test}-title")>{title}</span><br/> })}
        <span class="url" data-test=format!("{test}-url")>{url}</span>
    }
}

#[component]
fn ContextPanel(details: ConversationDetails) -> impl IntoView {
    let ConversationDetails { context, previous, callback, leads, prompts, labels, .. } = details;
    let labels = std::sync::Arc::new(labels);
    let lang = crate::i18n::use_lang();
    // A label in the operator's language: their words change with the switch, the visitor's do not.
    let say = move |en: &'static str, ru: &'static str| move || lang.get().pick(en, ru);
    view! {
        <h2>{say("Visitor", "Посетитель")}</h2>
        {match context {
            None => view! { <p class="empty">{say("No context was captured.", "Контекст не записан.")}</p> }.into_any(),
            Some(c) => {
                let first = c.first_touch.clone();
                let last = c.last_touch.clone().filter(|l| Some(l) != first.as_ref());
                view! {
                    <p><strong>{say("Source: ", "Источник: ")}</strong><span data-test="source">{first.as_ref().map_or_else(|| "unknown".to_owned(), source_line)}</span></p>
                    <p><strong>{say("Landing page: ", "Страница входа: ")}</strong><span data-test="landing">{first.as_ref().map(|t| t.landing_page.clone()).unwrap_or_default()}</span></p>
                    {last.map(|l| view! {
                        <p><strong>{say("This visit from: ", "Этот визит из: ")}</strong><span data-test="last-source">{source_line(&l)}</span>" → "{l.landing_page.clone()}</p>
                    })}
                    <p><strong>{say("Now on: ", "Сейчас на: ")}</strong>{page(&c, &c.page_url, "page")}</p>
                    <p>
                        <strong>{say("Pages viewed: ", "Просмотрено страниц: ")}</strong><span data-test="pages-viewed">{c.pages_viewed}</span>" · "
                        <strong>{say("active ", "активно ")}</strong><span data-test="active-time">{active_time(c.active_seconds)}</span>
                        {c.returning.then(|| say(" · returning", " · вернулся"))}
                    </p>
                    <h2>{say("Products viewed", "Просмотренные товары")}</h2>
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
                    {c.products.is_empty().then(|| view! { <p class="empty">{say("None.", "Нет.")}</p> })}
                    {(!c.answers.is_empty()).then(|| view! {
                        <h2>{say("Answers", "Ответы")}</h2>
                        <ul data-test="answers">{c.answers.iter().map(|a| {
                            let (labels, question, value) = (labels.clone(), a.question.clone(), a.answer.clone());
                            // The question as the visitor read it; the choice in the operator's words.
                            view! { <li>{a.question.clone()}": "{move || labels.answer_to(&question, &value, lang.get())}</li> }
                        }).collect_view()}</ul>
                    })}
                    <h2>{say("Recent pages", "Последние страницы")}</h2>
                    <ul data-test="recent-pages">{c.recent_pages.iter().map(|p| view! { <li>{page(&c, p, "recent")}</li> }).collect_view()}</ul>
                }.into_any()
            }
        }}
        <h2>{say("Prompts", "Подсказки")}</h2>
        <ul data-test="prompts">
            {prompts.iter().map(|p| {
                let (answer, accepted, dismissed, shown) = (p.answer.as_ref().map(|a| a.answer.clone()), p.accepted, p.dismissed, p.shown);
                let (prompt, labels) = (p.prompt.clone(), labels.clone());
                let name = {
                    let (prompt, labels) = (prompt.clone(), labels.clone());
                    move || labels.prompt(&prompt, lang.get())
                };
                let what = move || {
                    let l = lang.get();
                    let outcome = match (&answer, accepted, dismissed) {
                        (Some(a), _, _) => format!("{} “{}”", l.pick("answered", "ответ"), labels.answer(&prompt, a, l)),
                        (None, true, _) => l.pick("accepted", "принята").to_owned(),
                        (None, false, true) => l.pick("dismissed", "закрыта").to_owned(),
                        _ => l.pick("no answer", "без ответа").to_owned(),
                    };
                    format!("{} {shown}× · {outcome}", l.pick("shown", "показана"))
                };
                view! { <li data-test="prompt" data-prompt=p.prompt.clone()>{name}" — "{what}</li> }
            }).collect_view()}
        </ul>
        {prompts.is_empty().then(|| view! { <p class="empty">{say("None shown.", "Не показывались.")}</p> })}
        {callback.map(|cb| view! {
            <h2>{say("Callback", "Обратный звонок")}</h2>
            <p data-test="callback-state">
                {cb.contact.clone()}
                {cb.time_slot.clone().map(|slot| format!(" · {slot}"))}
                {let (done, by) = (cb.done_at.is_some(), cb.done_by.clone());
                move || match (done, &by) {
                    (true, Some(by)) => format!(" ({} {by})", lang.get().pick("done by", "выполнил(а)")),
                    (true, None) => lang.get().pick(" (done)", " (выполнено)").to_owned(),
                    _ => lang.get().pick(" (waiting)", " (ждёт)").to_owned(),
                }}
            </p>
        })}
        <h2>{say("Leads", "Заявки")}</h2>
        <ul data-test="leads">{leads.iter().map(|l| {
            let contact = [&l.contact.email, &l.contact.phone, &l.contact.time_slot].into_iter().flatten().cloned().collect::<Vec<_>>().join(" · ");
            let (kind, at) = (l.kind, l.created_at);
            view! { <li data-test="lead">{move || kind.label(lang.get())}": "{contact}" · "{move || crate::clock::shop_time(at, lang.get())}</li> }
        }).collect_view()}</ul>
        {leads.is_empty().then(|| view! { <p class="empty">{say("None.", "Нет.")}</p> })}
        <h2>{say("Earlier conversations", "Прошлые разговоры")}</h2>
        <ul data-test="previous">{previous.iter().map(|p| {
            let (closed, at, rating) = (p.status == ConversationStatus::Closed, p.opened_at, p.rating);
            let status = move || if closed { lang.get().pick("closed", "закрыт") } else { lang.get().pick("open", "открыт") };
            let rated = move || rating.map(|score| format!(" · {} {score}/5", lang.get().pick("rated", "оценка")));
            view! { <li data-test="previous-conversation">{move || crate::clock::shop_time(at, lang.get())}" — "{status}{rated}</li> }
        }).collect_view()}</ul>
        {previous.is_empty().then(|| view! { <p class="empty">{say("None.", "Нет.")}</p> })}
    }
}
