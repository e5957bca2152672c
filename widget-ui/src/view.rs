//! The panel's DOM. Every message is a text node (`{text}` in a view), never markup.

use floorwalker_core::base::error::ErrorCode;
use floorwalker_core::base::locale::Locale;
use floorwalker_core::chat::panel::{self as chat_panel, copy, panel_mode, Availability, ContactForm, PanelMode};
use floorwalker_core::chat::protocol::{Author, ChatMessage, MessageAction, PendingMessage};
use floorwalker_core::leads::consent::ConsentText;
use floorwalker_core::leads::contact::{self, normalize_email, normalize_phone};
use floorwalker_core::leads::lead::LeadRequest;
use floorwalker_core::visitor::context::VisitorContext;
use leptos::prelude::*;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use crate::chat::{routes, with, Ui};
use crate::form::Status;
use crate::lazy::{IntoLazy, Lazy};
use crate::rows::Rows;
use crate::net::{self, FormError};

/// The panel's styles (shipped as they are, so the reasons live here). `.fwc` fills the panel's
/// column: the conversation (`.log`, basis 0) takes what the footer (composer or form) leaves and
/// scrolls; a form taller than the panel scrolls itself rather than slip under its edge. The
/// placeholder colour is set, not left to the browser, whose default grey may be too faint for
/// 4.5:1. Files: the picker is its label (focus lands on the hidden input and shows on the
/// label); pictures are thumbnails that open the full size. (No comments in the file itself: it
/// ships as it is.)
const STYLE: &str = include_str!("chat.css");

/// The panel. `timezone` is the shop's (message times are on its clock); `touch_screen` leaves
/// out the keyboard hint.
pub fn panel(ui: Ui, locale: Locale, timezone: String, touch_screen: bool) -> impl IntoView {
    let text = copy(locale);
    let timezone = StoredValue::new(timezone);
    let mode = move || {
        let under_way = ui.has_conversation.get() && !ui.closed.get();
        panel_mode(ui.operator_online(), ui.within_hours.get(), under_way)
    };
    // The one memo on the mode (a `bool`: a memo of its own type would cost the module its code).
    let offline = Memo::new(move |_| matches!(mode(), PanelMode::Offline(_)));
    // What sits under the conversation: the composer, the leave-a-message form (nobody can answer)
    // or the contact form the visitor chose under the server's callback offer. One at a time, so
    // a form is never half hidden under the composer. The offline form is kept when only the
    // reason changes (closing time passing while the visitor types keeps what they typed, and focus).
    // It depends on `offer_form` only in the chat mode, so nothing read while offline redraws it.
    let footer = move || {
        if offline.get() {
            Footer::Offline
        } else if ui.offer_form.get() {
            Footer::Offer
        } else {
            Footer::Composer
        }
    };
    // The footer shown last (`Footer as u8`; none yet: `u8::MAX`), for [`footer_changed`].
    let shown_footer = AtomicU8::new(u8::MAX);
    let draft = RwSignal::new(String::new());
    // Empty when there is nothing to say (a `String` signal, as the others: see `Ui::typing`).
    let error = RwSignal::new(String::new());
    let greeting = move || {
        let empty = ui.messages.with(Vec::is_empty) && ui.pending.with(Vec::is_empty);
        empty.then(|| chat_panel::greeting(mode(), locale)).flatten()
    };
    let offer_open = Memo::new(move |_| ui.messages.with(|m| chat_panel::callback_offer_open(m)));
    // `Owner::new`, not `Default` (a derived default is code of its own; 61 B brotli).
    #[allow(clippy::unwrap_or_default)]
    let rows_owner = Owner::current().unwrap_or_else(Owner::new);
    let row_view: Arc<dyn Fn(Row) -> Lazy + Send + Sync> = Arc::new(move |row| match row {
        Row::Message(m) => message(m, ui, locale, timezone, offer_open).lazy(),
        Row::Pending(p) => view! {
            <li class="m mine pending" data-pending=p.client_msg_id>
                <p class="t">{p.text}</p>
                <span class="meta">{text.sending}</span>
            </li>
        }
        .lazy(),
        Row::Failed((_, words, reason)) => view! {
            <li class="m mine failed">
                <p class="t">{words}</p>
                <span class="meta">{text.failed}": "{reason}</span>
            </li>
        }
        .lazy(),
    });
    view! {
        <style>{STYLE}</style>
        <div class="fwc" on:keydown=move |ev: leptos::ev::KeyboardEvent| {
            if ev.key() == "Escape" {
                with(|chat| chat.request_close());
            }
        }>
            <p class="link" role="status">
                {text_of(move || ui.link_notice.get())}
                {when(move || ui.reconnecting.get(), move || view! {
                    " "
                    <button type="button" class="retry" on:click=move |_| {
                        with(|chat| chat.retry_now());
                    }>{text.retry_now}</button>
                }.lazy())}
            </p>
            // The live region is a div wrapping a plain list: `role=log` on the `ol` itself would
            // take the list's role away from its items.
            <div class="log" role="log" aria-live="polite" aria-relevant="additions" aria-label=text.title tabindex="0">
                <ol class="msgs">
                    {when(move || greeting().is_some(), move || view! { <li class="m sys">{text.empty}</li> }.lazy())}
                    // One keyed list for the three kinds of row (see `rows.rs`).
                    {move || {
                        keep_in_sight();
                        Rows { items: rows(ui), child: row_view.clone(), owner: rows_owner.clone() }
                    }}
                </ol>
            </div>
            <p class="typing">{text_of(move || ui.typing.get())}</p>
            {when(move || ui.closed.get(), move || view! {
                <p class="note closed">{text.closed}</p>
                {rating(locale)}
            }.lazy())}
            {when(move || chat_panel::offers_transcript(ui.has_conversation.get(), ui.messages.with(Vec::len)), move || transcript(locale).lazy())}
            {switch(move || Some(match footer_changed(footer(), &shown_footer) {
                Footer::Offline => {
                    let note = text_of(move || match mode() {
                        PanelMode::Offline(Availability::AfterHours) => text.after_hours,
                        _ => text.nobody_online,
                    }.to_owned());
                    view! {
                        <div class="offline">
                            <p class="note" id="fwc-offline">{note}</p>
                            {contact_form(ContactForm::OfflineMessage, locale, ui)}
                        </div>
                    }
                    .lazy()
                }
                Footer::Offer => view! {
                    <div class="offline offer">
                        {contact_form(ContactForm::CallbackOffer, locale, ui)}
                        <button type="button" class="secondary" on:click=move |_| ui.offer_form.set(false)>{text.back_to_chat}</button>
                    </div>
                }
                .lazy(),
                Footer::Composer => composer(locale, draft, error, touch_screen, ui.has_conversation).lazy(),
            }))}
        </div>
    }
}

/// A row of the conversation's list: a message, a pending one, or one the server refused.
#[derive(Clone)]
enum Row {
    Message(ChatMessage),
    Pending(PendingMessage),
    Failed((String, String, String)),
}

impl Row {
    /// Unique across the three kinds (a message by its seq, the others by their client id).
    fn key(&self) -> String {
        match self {
            Row::Message(m) => format!("m{}", m.seq),
            Row::Pending(p) => format!("p{}", p.client_msg_id),
            Row::Failed(f) => format!("f{}", f.0),
        }
    }
}

/// The list in the order it is shown, each row with its key: messages, then pending, then failed.
fn rows(ui: Ui) -> Vec<(String, Row)> {
    let mut rows: Vec<Row> = ui.messages.with(|m| m.iter().cloned().map(Row::Message).collect());
    ui.pending.with(|p| rows.extend(p.iter().cloned().map(Row::Pending)));
    ui.failed.with(|f| rows.extend(f.iter().cloned().map(Row::Failed)));
    rows.into_iter().map(|row| (row.key(), row)).collect()
}

/// `<Show>` without its types: `child` while `shown()` is true, built again each time it turns
/// true. Every call site shares one instantiation (a memo of `bool`, an `Option<Lazy>`), where
/// each `<Show>` instantiated its own render effect, state and drop glue.
fn when(shown: impl Fn() -> bool + Send + Sync + 'static, child: impl Fn() -> Lazy + Send + Sync + 'static) -> impl IntoView {
    when_erased(Box::new(shown), Box::new(child))
}

fn when_erased(shown: Box<dyn Fn() -> bool + Send + Sync>, child: Box<dyn Fn() -> Lazy + Send + Sync>) -> impl IntoView {
    let shown = Memo::new(move |_| shown());
    switch(move || shown.get().then(&child))
}

/// A reactive part of the view that is replaced whole: [`when`]'s and the footer's, one render
/// effect between them (the closure's type erased, as [`text_of`]'s).
fn switch(f: impl Fn() -> Option<Lazy> + Send + Sync + 'static) -> Arc<dyn Fn() -> Option<Lazy> + Send + Sync> {
    Arc::new(f)
}

/// A reactive text (or text property) without its closure's type: tachys renders `Arc<dyn Fn() ->
/// T>` as it does a closure, so every binding of one output type shares one instantiation of the
/// render effect (its build, rebuild and drop glue) where each closure instantiated its own.
fn text_of(f: impl Fn() -> String + Send + Sync + 'static) -> Arc<dyn Fn() -> String + Send + Sync> {
    Arc::new(f)
}

/// A reactive attribute: its value, or `None` for no attribute. One output type for the `aria-*`
/// flags ([`flag`]) and the boolean attributes ([`present`]), so one render effect for both.
type AttrFn = Arc<dyn Fn() -> Option<&'static str> + Send + Sync>;

/// A reactive `"true"`/`"false"` attribute (`aria-*`).
fn flag(f: impl Fn() -> bool + Send + Sync + 'static) -> AttrFn {
    Arc::new(move || Some(if f() { "true" } else { "false" }))
}

/// A reactive boolean attribute (`hidden`, `disabled`): there (empty) or not.
fn present(f: impl Fn() -> bool + Send + Sync + 'static) -> AttrFn {
    Arc::new(move || f().then_some(""))
}

/// `now`, the footer about to be drawn; when it replaces another (not at mount), focus follows
/// the field into it while the panel is open (here, not in an effect of its own: one effect
/// type fewer in the module).
fn footer_changed(now: Footer, shown: &AtomicU8) -> Footer {
    keep_in_sight();
    let before = shown.swap(now as u8, Ordering::Relaxed);
    if before != u8::MAX && before != now as u8 {
        net::later(0, || {
            with(|chat| chat.focus_input());
        });
    }
    now
}

/// The newest message stays in sight when messages come and when a form takes room from the log:
/// the log scrolls to its end once this render's changes are in the page (a microtask, as the
/// effect that did it before; called from the rows' and the footer's renders, so the module has
/// no effect type of its own).
fn keep_in_sight() {
    wasm_bindgen_futures::spawn_local(async {
        if let Some(log) = crate::chat::shadow_query(".fwc .log") {
            log.set_scroll_top(log.scroll_height());
        }
    });
}

/// What sits under the conversation (see [`panel`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Footer {
    Composer,
    Offline,
    Offer,
}

fn message(m: ChatMessage, ui: Ui, locale: Locale, timezone: StoredValue<String>, offer_open: Memo<bool>) -> impl IntoView {
    let text = copy(locale);
    let seq = m.seq;
    let mine = m.author == Author::Visitor;
    let (class, who, who_class) = match &m.author {
        Author::Visitor => ("m mine", text.you.to_owned(), "who sr"),
        Author::Operator { name } => ("m theirs", name.clone(), "who"),
        Author::System => ("m sys", String::new(), "who sr"),
    };
    let seen = move || mine && ui.messages.with(|all| chat_panel::seen_marker(all, ui.operator_read.get())) == Some(seq);
    // The button under the server's offer, until the visitor has left a contact.
    let offer = (m.action == Some(MessageAction::OfferCallback)).then(|| {
        when(move || offer_open.get(), move || view! {
            <button type="button" class="secondary" on:click=move |_| ui.offer_form.set(true)>{text.leave_contact}</button>
        }.lazy())
    });
    // On the shop's clock (the site's time zone), as the operator sees it in the console.
    let (time, iso) = timezone.with_value(|zone| net::message_time(zone, m.at, locale));
    // A file: a picture inline (a link to the full size), a document a link, named and sized.
    let file = m.attachment.clone().and_then(|file| {
        let (api_base, conversation, token) = conversation_route()?;
        let href = routes::file_url(&api_base, &conversation?, &file.id, &token?);
        let label = format!("{} · {}", file.name, file.size_words());
        Some(if file.kind.is_image() {
            let src = href.clone();
            view! { <a class="file" href=href target="_blank" rel="noopener"><img src=src alt=file.name.clone()/><span class="fname">{label}</span></a> }.lazy()
        } else {
            view! { <a class="file" href=href target="_blank" rel="noopener">{label}</a> }.lazy()
        })
    });
    let words = m.attachment.is_none().then(|| view! { <p class="t">{m.text}</p> });
    view! {
        <li class=class data-seq=seq>
            <span class=who_class>{who}</span>
            {words}{file}
            {offer}
            <span class="meta"><time datetime=iso>{time}</time>
                {when(seen, move || view! { " · "<span class="seen">{text.seen}</span> }.lazy())}
            </span>
        </li>
    }
}

/// Sends the file the visitor picked; its message arrives over the socket like any other.
fn attach(ev: leptos::ev::Event, locale: Locale, error: RwSignal<String>) {
    use wasm_bindgen::JsCast;
    let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
    let Some(file) = input.files().and_then(|files| files.get(0)) else { return };
    input.set_value("");
    let Some((api_base, Some(conversation), Some(token))) = conversation_route() else {
        return;
    };
    error.set(String::new());
    wasm_bindgen_futures::spawn_local(async move {
        let said = match routes::upload(&api_base, &conversation, &token, &file, &net::random_id()).await {
            Ok(()) => return,
            Err(FormError::Refused(code)) => contact::message(code, locale),
            Err(FormError::Unavailable) => None,
        };
        error.set(said.unwrap_or(copy(locale).attach_failed).to_owned());
    });
}

fn composer(locale: Locale, draft: RwSignal<String>, error: RwSignal<String>, touch_screen: bool, has_conversation: RwSignal<bool>) -> impl IntoView {
    let text = copy(locale);
    let hint = chat_panel::composer_hint(touch_screen, locale);
    let described = if hint.is_some() { "fwc-hint fwc-error" } else { "fwc-error" };
    let submit = move || {
        let typed = draft.get_untracked();
        match with(|chat| chat.send_text(&typed)) {
            Some(Ok(())) => {
                draft.set(String::new());
                error.set(String::new());
            }
            Some(Err(ErrorCode::EmptyMessage)) | None => {}
            Some(Err(code)) => {
                let code = if code == ErrorCode::MessageTooLong { ErrorCode::FieldTooLong } else { code };
                error.set(contact::message(code, locale).unwrap_or_default().to_owned());
            }
        }
    };
    view! {
        <form class="composer" on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            submit();
        }>
            <label for="fwc-input" class="sr">{text.input_label}</label>
            <textarea id="fwc-input" rows="2" placeholder=text.placeholder aria-describedby=described
                prop:value=text_of(move || draft.get())
                on:input=move |ev| {
                    draft.set(event_target_value(&ev));
                    with(|chat| chat.typing(true));
                }
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        submit();
                    }
                }></textarea>
            // Files go into a conversation under way (the visitor has written first).
            {when(move || has_conversation.get(), move || view! {
                <input type="file" id="fwc-file" class="file-input" accept=floorwalker_core::chat::attachment::ACCEPT on:change=move |ev| attach(ev, locale, error)/>
                <label for="fwc-file" class="attach" title=text.attach><span aria-hidden="true">"+"</span><span class="sr">{text.attach}</span></label>
            }.lazy())}
            <button type="submit" class="send brand">{text.send}</button>
            {hint.map(|hint| view! { <p id="fwc-hint" class="hint">{hint}</p> })}
            <p id="fwc-error" class="error" role="alert">{text_of(move || error.get())}</p>
        </form>
    }
}

/// The leave-a-message form (nobody online) or the contact form after the server's callback
/// offer. Both go to `POST /v1/leads` with their own consent text; the offer also flags the
/// conversation for operators.
fn contact_form(form: ContactForm, locale: Locale, ui: Ui) -> impl IntoView {
    let text = copy(locale);
    let offline = form == ContactForm::OfflineMessage;
    let status = RwSignal::new(Status::Editing);
    let shown_at = net::now_ms();
    // Reused while the visitor retries the same input, so a retry never makes a second lead.
    let attempt = StoredValue::new((net::random_id(), String::new()));
    let consent: ConsentText = form.consent(locale);
    let consent_text = consent.text.clone();
    let prefix = if offline { "fwc-off" } else { "fwc-offer" };
    let (contact_id, message_id, error_id, consent_id) =
        (format!("{prefix}-contact"), format!("{prefix}-message"), format!("{prefix}-error"), format!("{prefix}-consent"));
    let contact_selector = format!("#{contact_id}");
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if status.get_untracked() == Status::Sending {
            return;
        }
        let Some((api_base, site, visitor, region, context, token, conversation)) = with(|chat| {
            (
                chat.opts.api_base.clone(),
                chat.opts.config.site.clone(),
                chat.opts.visitor.clone(),
                chat.opts.region,
                chat.context(),
                chat.token(),
                chat.conversation_id(),
            )
        }) else {
            return;
        };
        // The fields are read as they are (nothing but typing sets them: no signal and binding each).
        let fields = ev.target().and_then(|target| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(target).ok());
        let typed = field_value(fields.as_ref(), &contact_selector);
        let said = field_value(fields.as_ref(), "textarea");
        let honeypot = field_value(fields.as_ref(), "[name=website]");
        let invalid = |code: ErrorCode| status.set(Status::Invalid(contact::message(code, locale).unwrap_or_default().to_owned()));
        if typed.trim().is_empty() || (offline && said.trim().is_empty()) {
            return invalid(ErrorCode::MissingField);
        }
        let checked = if typed.contains('@') { normalize_email(&typed) } else { normalize_phone(&typed, region) };
        if let Err(error) = checked {
            return invalid(error.code);
        }
        with(|chat| chat.interacted());
        let fingerprint = format!("{typed}|{said}");
        let key = attempt.with_value(|(key, last)| (last == &fingerprint).then(|| key.clone())).unwrap_or_else(|| {
            let key = net::random_id();
            attempt.set_value((key.clone(), fingerprint));
            key
        });
        let page_url = net::window().location().href().unwrap_or_default();
        let context = context.unwrap_or_else(|| VisitorContext {
            first_touch: None,
            last_touch: None,
            pages_viewed: 1,
            recent_pages: Vec::new(),
            products: Vec::new(),
            active_seconds: 0,
            answers: Vec::new(),
            returning: false,
            locale,
            page_url: page_url.clone(),
            page_titles: Vec::new(),
        });
        let lead_contact = form.contact(&typed, &said);
        let (email, phone) = (lead_contact.email.clone(), lead_contact.phone.clone());
        let request = LeadRequest {
            site,
            visitor,
            kind: form.lead_kind(),
            prompt: None,
            contact: lead_contact,
            honeypot,
            form_shown_at: shown_at,
            submitted_at: net::now_ms(),
            idempotency_key: key,
            consent: form.consent(locale),
            marketing_consent: None,
            context,
            locale,
            page_url,
        };
        status.set(Status::Sending);
        wasm_bindgen_futures::spawn_local(async move {
            match net::submit_lead(&api_base, &request).await {
                Ok(()) => {
                    let flagged = match (offline, conversation, token) {
                        (false, Some(conversation), Some(token)) => {
                            routes::request_callback(&api_base, &conversation, token, email, phone).await
                        }
                        _ => false,
                    };
                    if flagged {
                        // The conversation's own notice ("Thank you! We will get back to you at …")
                        // arrives in the log: that is the one thank-you; the composer comes back.
                        ui.offer_form.set(false);
                    } else {
                        if !offline {
                            net::warn("floorwalker chat: the conversation was not flagged for a callback");
                        }
                        status.set(Status::Done(if offline { text.offline_done } else { text.contact_done }.to_owned()));
                    }
                }
                Err(FormError::Refused(code)) => {
                    status.set(Status::Failed(contact::message(code, locale).unwrap_or(text.load_failed).to_owned()))
                }
                Err(FormError::Unavailable) => status.set(Status::Failed(copy(locale).load_failed.to_owned())),
            }
        });
    };
    let error = error_text(status);
    let described = format!("{consent_id} {error_id}");
    let message_field = offline.then(|| {
        let (id, described) = (message_id.clone(), described.clone());
        view! {
            <label for=id.clone()>{text.message_label}</label>
            <textarea id=id rows="3" aria-describedby=described required
></textarea>
        }
    });
    view! {
        {when(move || matches!(status.get(), Status::Done(_)), move || view! {
            <p class="done" role="status">{done_text(status)}</p>
        }.lazy())}
        <form novalidate class="lead" hidden=present(move || matches!(status.get(), Status::Done(_))) on:submit=submit>
            {message_field}
            <label for=contact_id.clone()>{text.contact_label}</label>
            <input id=contact_id type="text" autocomplete="email" inputmode="email" required aria-describedby=described
                aria-invalid=invalid_flag(status)
                on:input=editing_again(status)/>
            <div class="hp" aria-hidden="true">
                <label>"website"
                    <input name="website" tabindex="-1" autocomplete="off"/>
                </label>
            </div>
            <p id=consent_id class="consent">{consent_text}</p>
            <p id=error_id class="error" role="alert">{error}</p>
            <button type="submit" class="primary brand" aria-busy=busy_flag(status)>
                {text_of(move || if status.get() == Status::Sending {
                    text.sending.to_owned()
                } else if offline {
                    text.leave_message.to_owned()
                } else {
                    text.leave_contact.to_owned()
                })}
            </button>
        </form>
    }
}

/// A form's bindings to its status, one closure type each for the three forms: the words when
/// done, the words when invalid or failed (the rating is never invalid), `aria-invalid`, `aria-busy`.
fn done_text(status: RwSignal<Status>) -> Arc<dyn Fn() -> String + Send + Sync> {
    text_of(move || match status.get() {
        Status::Done(message) => message,
        _ => String::new(),
    })
}

fn error_text(status: RwSignal<Status>) -> Arc<dyn Fn() -> String + Send + Sync> {
    text_of(move || match status.get() {
        Status::Invalid(message) | Status::Failed(message) => message,
        _ => String::new(),
    })
}

fn invalid_flag(status: RwSignal<Status>) -> AttrFn {
    flag(move || matches!(status.get(), Status::Invalid(_)))
}

fn busy_flag(status: RwSignal<Status>) -> AttrFn {
    flag(move || status.get() == Status::Sending)
}

/// What a conversation's own routes need (`routes::file_url`, `upload`, `rate`, the transcript):
/// the API's base, the conversation and the token; `None` without a chat.
fn conversation_route() -> Option<(String, Option<String>, Option<String>)> {
    with(|chat| (chat.opts.api_base.clone(), chat.conversation_id(), chat.token()))
}

/// A field's input handler: typing again clears its "invalid" (one handler type for the forms'
/// fields, which are read when the form is sent).
fn editing_again(status: RwSignal<Status>) -> impl FnMut(leptos::ev::Event) + Clone + 'static {
    move |_| {
        if matches!(status.get_untracked(), Status::Invalid(_)) {
            status.set(Status::Editing);
        }
    }
}

/// The value of the field `selector` finds in `form` (empty without one).
fn field_value(form: Option<&web_sys::Element>, selector: &str) -> String {
    form.and_then(|form| form.query_selector(selector).ok().flatten())
        .and_then(|field| js_sys::Reflect::get(&field, &"value".into()).ok())
        .and_then(|value| value.as_string())
        .unwrap_or_default()
}

/// "How was this conversation?" once it has closed: five buttons, 1 to 5. One click sends the
/// score (`POST /v1/chat/conversations/:id/rating`); the chosen one stays pressed and the others
/// are done with. Nothing takes focus: the question sits under the closing note until answered.
fn rating(locale: Locale) -> impl IntoView {
    let text = copy(locale);
    // The score chosen, 0 for none (a `u64` signal, a type the panel has already: see `Ui::typing`).
    let chosen = RwSignal::new(0u64);
    let status = RwSignal::new(Status::Editing);
    let rate = move |score: u8| {
        if matches!(status.get_untracked(), Status::Sending | Status::Done(_)) {
            return;
        }
        let Some((api_base, Some(conversation), Some(token))) = conversation_route()
        else {
            return status.set(Status::Failed(text.rating_failed.to_owned()));
        };
        chosen.set(u64::from(score));
        status.set(Status::Sending);
        wasm_bindgen_futures::spawn_local(async move {
            match routes::rate(&api_base, &conversation, token, score).await {
                Ok(()) => status.set(Status::Done(text.rating_thanks.to_owned())),
                Err(_) => {
                    chosen.set(0);
                    status.set(Status::Failed(text.rating_failed.to_owned()));
                }
            }
        });
    };
    let answered = move || matches!(status.get(), Status::Sending | Status::Done(_));
    view! {
        <div class="rating" role="group" aria-labelledby="fwc-rate-q" aria-describedby="fwc-rate-scale">
            <p id="fwc-rate-q" class="rate-q">{text.rating_question}</p>
            <div class="rate-row">
                {(1..=5u8).map(|score| view! {
                    <button type="button" class="rate" data-score=score
                        aria-label=format!("{score} {} 5", text.rating_of)
                        aria-pressed=flag(move || chosen.get() == u64::from(score))
                        disabled=present(move || answered() && chosen.get() != u64::from(score))
                        on:click=move |_| rate(score)>{score}</button>
                }).collect_view()}
            </div>
            <p id="fwc-rate-scale" class="rate-scale">{text.rating_scale}</p>
            <p class="done" role="status">{done_text(status)}</p>
            <p class="error" role="alert">{error_text(status)}</p>
        </div>
    }
}

/// "Email me this conversation": a toggle that reveals an email field. The address goes only to
/// `POST /v1/chat/conversations/:id/transcript` (token and address: no lead is made of it).
fn transcript(locale: Locale) -> impl IntoView {
    let text = copy(locale);
    let expanded = RwSignal::new(false);
    let status = RwSignal::new(Status::Editing);
    let on_toggle = move |_| {
        let open = !expanded.get_untracked();
        expanded.set(open);
        if open {
            status.set(Status::Editing);
            net::later(0, || crate::chat::focus("#fwc-tr-email"));
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if status.get_untracked() == Status::Sending {
            return;
        }
        let failed = move |code: Option<ErrorCode>| code.and_then(|c| contact::message(c, locale)).unwrap_or(text.transcript_failed).to_owned();
        // The field is read as it is, and found by its id (no node refs: a type each).
        let fields = ev.target().and_then(|target| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(target).ok());
        let address = match chat_panel::transcript_email(&field_value(fields.as_ref(), "#fwc-tr-email")) {
            Ok(address) => address,
            Err(code) => return status.set(Status::Invalid(failed(Some(code)))),
        };
        let Some((api_base, conversation, token)) = conversation_route() else {
            return;
        };
        let (Some(conversation), Some(token)) = (conversation, token) else {
            return status.set(Status::Failed(failed(None)));
        };
        status.set(Status::Sending);
        wasm_bindgen_futures::spawn_local(async move {
            match routes::request_transcript(&api_base, &conversation, token, address.clone()).await {
                Ok(()) => {
                    status.set(Status::Done(chat_panel::transcript_sent(&address, locale)));
                    expanded.set(false);
                    if let Some(field) = fields.and_then(|form| form.query_selector("#fwc-tr-email").ok().flatten()) {
                        let _ = js_sys::Reflect::set(&field, &"value".into(), &"".into());
                    }
                    // The field and its button are hidden now: focus goes back to the action.
                    crate::chat::focus("[aria-controls=fwc-tr-form]");
                }
                Err(FormError::Refused(code)) => status.set(Status::Failed(failed(Some(code)))),
                Err(FormError::Unavailable) => status.set(Status::Failed(failed(None))),
            }
        });
    };
    let error = error_text(status);
    view! {
        <div class="transcript">
            <button type="button" class="secondary" aria-controls="fwc-tr-form"
                aria-expanded=flag(move || expanded.get()) on:click=on_toggle>{text.transcript_action}</button>
            <p id="fwc-tr-status" class="done" role="status">
                {done_text(status)}
            </p>
            <form id="fwc-tr-form" novalidate hidden=present(move || !expanded.get()) on:submit=submit>
                <label for="fwc-tr-email">{text.transcript_label}</label>
                <div class="tr-row">
                    <input id="fwc-tr-email" type="email" autocomplete="email" inputmode="email" required
                        aria-describedby="fwc-tr-purpose fwc-tr-error"
                        aria-invalid=invalid_flag(status)
                        on:input=editing_again(status)/>
                    <button type="submit" class="send brand" aria-busy=busy_flag(status)>
                        {text_of(move || if status.get() == Status::Sending { text.sending } else { text.transcript_send }.to_owned())}
                    </button>
                </div>
                <p id="fwc-tr-purpose" class="consent">{text.transcript_purpose}</p>
                <p id="fwc-tr-error" class="error" role="alert">{error}</p>
            </form>
        </div>
    }
}
