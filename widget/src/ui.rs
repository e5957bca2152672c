//! What the visitor sees: the launcher, the panel and prompt cards. Styles live inside the shadow
//! root; every string from the config or the page is a text node or an attribute, never markup.

use floorwalker_core::config::{readable_text_on, CallSlot, Locale, Position, PromptKind, RenderedCopy, Weekday};
use floorwalker_core::chat_panel::badge;
use floorwalker_core::consent::ConsentText;
use floorwalker_core::contact::{self, normalize_email, normalize_phone, PhoneRegion};
use floorwalker_core::context::Product;
use floorwalker_core::lead::{Contact, LeadKind, LeadRequest};
use leptos::prelude::*;

use crate::app::{self, ChatLoad, Shown, Ui};
use crate::browser;
use crate::transport::{self, LeadError};

const STYLE: &str = include_str!("widget.css");

/// The widget's own words (the prompts' words come from the site config).
struct Copy {
    open_label: &'static str,
    close_label: &'static str,
    chat_loading: &'static str,
    chat_failed: &'static str,
    unread: &'static str,
    email_label: &'static str,
    phone_label: &'static str,
    slot_label: &'static str,
    sending: &'static str,
    retry: &'static str,
    unavailable: &'static str,
    honeypot: &'static str,
}

fn copy(locale: Locale) -> Copy {
    match locale {
        Locale::Ru => Copy {
            open_label: "Открыть помощника",
            close_label: "Закрыть",
            chat_loading: "Загружаем чат…",
            chat_failed: "Чат сейчас недоступен. Попробуйте открыть его ещё раз чуть позже.",
            unread: "новых сообщений",
            email_label: "Ваша почта",
            phone_label: "Ваш телефон",
            slot_label: "Когда позвонить",
            sending: "Отправляем…",
            retry: "Попробовать ещё раз",
            unavailable: "Не получилось отправить. Всё, что вы ввели, сохранилось — попробуйте ещё раз чуть позже.",
            honeypot: "Оставьте это поле пустым",
        },
        Locale::En => Copy {
            open_label: "Open assistant",
            close_label: "Close",
            chat_loading: "Loading the chat…",
            chat_failed: "The chat is not available right now. Please try opening it again in a moment.",
            unread: "new messages",
            email_label: "Your email",
            phone_label: "Your phone number",
            slot_label: "When to call",
            sending: "Sending…",
            retry: "Try again",
            unavailable: "We couldn't send that. Everything you typed is still here — please try again in a moment.",
            honeypot: "Leave this field empty",
        },
    }
}

/// What the visitor is told will happen, once the lead is in.
fn success_text(locale: Locale, kind: LeadKind, contact: &str, minutes: u32, slot: Option<&str>) -> String {
    match (locale, kind, slot) {
        (Locale::Ru, LeadKind::ComparisonEmail, _) => format!("Пришлём сравнение на {contact} в течение минуты."),
        (Locale::En, LeadKind::ComparisonEmail, _) => format!("We'll email the comparison to {contact} in a minute."),
        (Locale::Ru, _, Some(slot)) => format!("Позвоним на {contact}: {slot}."),
        (Locale::En, _, Some(slot)) => format!("We'll call {contact}: {slot}."),
        (Locale::Ru, _, None) => format!("Позвоним на {contact} в течение {minutes} минут."),
        (Locale::En, _, None) => format!("We'll call {contact} within {minutes} minutes."),
    }
}

fn answered_text(locale: Locale) -> &'static str {
    match locale {
        Locale::Ru => "Спасибо! Учтём это в подсказках.",
        Locale::En => "Thank you! We'll keep that in mind.",
    }
}

fn slot_label(locale: Locale, slot: &CallSlot) -> String {
    let days_ru = ["пн", "вт", "ср", "чт", "пт", "сб", "вс"];
    let days_en = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let index = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun]
        .iter()
        .position(|d| *d == slot.day)
        .unwrap_or(0);
    let day = match (locale, slot.today) {
        (Locale::Ru, true) => "сегодня",
        (Locale::En, true) => "today",
        (Locale::Ru, false) => days_ru[index],
        (Locale::En, false) => days_en[index],
    };
    let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
    format!("{day} {}–{}", hm(slot.from), hm(slot.to))
}

pub fn widget(ui: Ui, locale: Locale, brand_color: String, position: Position, shop_name: String) -> impl IntoView {
    let text = copy(locale);
    let on_brand = readable_text_on(&brand_color);
    let vars = format!("--fw-brand:{brand_color};--fw-on-brand:{on_brand}");
    let side = match position {
        Position::BottomRight => "fw right",
        Position::BottomLeft => "fw left",
    };
    let lang = match locale {
        Locale::Ru => "ru",
        Locale::En => "en",
    };
    let open = ui.open;
    let toggle = move |_| {
        app::with(|app| {
            app.grant_consent();
            app.set_open(!open.get_untracked());
        });
    };
    view! {
        <style>{STYLE}</style>
        <div class=side lang=lang style=vars>
            <div class="sr" role="status" aria-live="polite">{move || ui.announce.get()}</div>
            {move || ui.prompt.get().map(|shown| prompt_card(shown, locale))}
            // Always in the DOM (hidden when closed), so the chat module mounted inside keeps its state.
            <section class="panel" role="dialog" aria-label=shop_name.clone() hidden=move || !open.get()>
                <header class="brand">
                    <strong>{shop_name.clone()}</strong>
                    <button class="close" aria-label=text.close_label on:click=move |_| {
                        app::with(|app| app.set_open(false));
                    }>"×"</button>
                </header>
                <div class="chat"></div>
                <p class="chat-state" hidden=move || ui.chat.get() == ChatLoad::Ready
                    role=move || if ui.chat.get() == ChatLoad::Failed { "alert" } else { "status" }.to_owned()>
                    {move || if ui.chat.get() == ChatLoad::Failed { text.chat_failed } else { text.chat_loading }.to_owned()}
                </p>
            </section>
            <button
                class="launcher brand"
                aria-label=move || match badge(u64::from(ui.unread.get())) {
                    Some(count) => format!("{} ({count} {})", text.open_label, text.unread),
                    None => text.open_label.to_owned(),
                }
                aria-expanded=move || open.get().to_string()
                on:click=toggle
            >
                <span class="badge" aria-hidden="true" hidden=move || open.get() || ui.unread.get() == 0>
                    {move || badge(u64::from(ui.unread.get())).unwrap_or_default()}
                </span>
                <svg viewBox="0 0 24 24" width="26" height="26" aria-hidden="true">
                    <path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/>
                </svg>
            </button>
        </div>
    }
}

/// A form's progress.
#[derive(Clone, PartialEq)]
enum Status {
    Editing,
    /// The input does not pass the client-side check; the message says why.
    Invalid(String),
    Sending,
    /// The server refused or was unreachable; the message says so, the input stays.
    Failed(String),
    Done(String),
}

/// What a card needs from the config, read once when it appears.
struct Card {
    kind: PromptKind,
    copy: RenderedCopy,
    minutes: u32,
    region: PhoneRegion,
    api_base: String,
    site: String,
    visitor: String,
}

fn card_data(shown: &Shown, locale: Locale) -> Option<Card> {
    app::with(|app| {
        let config = &app.cx.config;
        let definition = config.widget.prompt(&shown.id)?;
        let region = match config.widget.default_region.as_str() {
            "KZ" => PhoneRegion::Kz,
            "BY" => PhoneRegion::By,
            "UA" => PhoneRegion::Ua,
            "US" => PhoneRegion::Us,
            "CA" => PhoneRegion::Ca,
            "DE" => PhoneRegion::De,
            "GB" => PhoneRegion::Gb,
            _ => PhoneRegion::Ru,
        };
        Some(Card {
            kind: definition.kind.clone(),
            copy: config.widget.render_copy(definition, locale, shown.variant),
            minutes: config.widget.callback_minutes,
            region,
            api_base: app.cx.api_base.clone(),
            site: config.site.clone(),
            visitor: app.cx.visitor.clone(),
        })
    })
    .flatten()
}

fn prompt_card(shown: Shown, locale: Locale) -> AnyView {
    let Some(card) = card_data(&shown, locale) else { return ().into_any() };
    let text = copy(locale);
    let status = RwSignal::new(Status::Editing);
    let id = shown.id.clone();
    let close = {
        let id = id.clone();
        move || {
            let done = matches!(status.get_untracked(), Status::Done(_));
            app::with(|app| if done { app.close_prompt() } else { app.dismiss(&id) });
        }
    };
    let close_button = close.clone();
    let on_key = move |event: leptos::ev::KeyboardEvent| {
        if event.key() == "Escape" {
            close();
        }
    };
    let title = card.copy.title.clone();
    let data_prompt = id.clone();
    let dismiss_label = card.copy.dismiss.clone();
    let body = match &card.kind {
        PromptKind::ComparisonEmail | PromptKind::Callback => contact_form(&shown, &card, locale, status).into_any(),
        PromptKind::Question(question) => {
            let asked = question.question.get(locale).clone();
            let choices = question
                .choices
                .iter()
                .map(|choice| {
                    let (value, label, asked, id) = (choice.value.clone(), choice.label.get(locale).clone(), asked.clone(), id.clone());
                    view! {
                        <button type="button" class="choice" on:click=move |_| {
                            app::with(|app| app.answer(&id, &asked, &value));
                            status.set(Status::Done(answered_text(locale).to_owned()));
                        }>{label}</button>
                    }
                })
                .collect_view();
            view! {
                <fieldset class="choices">
                    <legend>{asked.clone()}</legend>
                    {choices}
                </fieldset>
            }
            .into_any()
        }
        PromptKind::ChatInvitation => {
            let accept = card.copy.accept.clone();
            let id = id.clone();
            view! {
                <button type="button" class="primary brand" on:click=move |_| {
                    app::with(|app| {
                        app.accept(&id);
                        app.close_prompt();
                        app.set_open(true);
                    });
                }>{accept}</button>
            }
            .into_any()
        }
    };
    view! {
        <section class="prompt" role="dialog" aria-modal="false" aria-labelledby="fw-title" aria-describedby="fw-body"
            data-prompt=data_prompt on:keydown=on_key>
            <button type="button" class="close x" aria-label=text.close_label on:click=move |_| close_button()>"×"</button>
            <h2 id="fw-title">{title}</h2>
            {move || match status.get() {
                Status::Done(message) => view! {
                    <p class="done" role="status">{message}</p>
                }.into_any(),
                _ => ().into_any(),
            }}
            <div class="body" hidden=move || matches!(status.get(), Status::Done(_))>
                <p id="fw-body">{card.copy.body.clone()}</p>
                {body}
                <button type="button" class="secondary" on:click=move |_| {
                    app::with(|app| app.dismiss(&id));
                }>{dismiss_label}</button>
            </div>
        </section>
    }
    .into_any()
}

/// The email (comparison) or phone (callback) form, with its one consent text.
fn contact_form(shown: &Shown, card: &Card, locale: Locale, status: RwSignal<Status>) -> impl IntoView {
    let text = copy(locale);
    let lead_kind = match card.kind {
        PromptKind::Callback => LeadKind::Callback,
        _ => LeadKind::ComparisonEmail,
    };
    let value = RwSignal::new(String::new());
    let honeypot = RwSignal::new(String::new());
    let slots: Vec<String> = shown.slots.iter().map(|slot| slot_label(locale, slot)).collect();
    let slot = RwSignal::new(slots.first().cloned().unwrap_or_default());
    // Reused while the visitor retries the same input, so a retry never makes a second lead.
    let attempt = StoredValue::new((browser::random_id(), String::new()));
    let accepted = StoredValue::new(false);
    let consent = card.copy.consent.clone();
    let consent_text = consent.as_ref().map(|c| c.text.clone()).unwrap_or_default();
    let (prompt, shown_at, region, minutes) = (shown.id.clone(), shown.shown_at, card.region, card.minutes);
    let (api_base, site, visitor) = (card.api_base.clone(), card.site.clone(), card.visitor.clone());
    let accept_label = card.copy.accept.clone();

    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if status.get_untracked() == Status::Sending {
            return;
        }
        let typed = value.get_untracked();
        let normalized = match lead_kind {
            LeadKind::Callback => normalize_phone(&typed, region),
            _ => normalize_email(&typed),
        };
        let normalized = match normalized {
            Ok(normalized) => normalized,
            Err(error) => {
                let message = contact::message(error.code, locale).unwrap_or(text.unavailable);
                status.set(Status::Invalid(message.to_owned()));
                return;
            }
        };
        let chosen_slot = Some(slot.get_untracked()).filter(|s| !s.is_empty());
        let fingerprint = format!("{normalized}|{}", chosen_slot.clone().unwrap_or_default());
        let key = attempt.with_value(|(key, last)| (last == &fingerprint).then(|| key.clone()));
        let key = key.unwrap_or_else(|| {
            let key = browser::random_id();
            attempt.set_value((key.clone(), fingerprint));
            key
        });
        let Some(consent) = consent.clone() else { return };
        let Some(context) = app::with(|app| app.visitor_context()).flatten() else { return };
        if !accepted.get_value() {
            accepted.set_value(true);
            let prompt = prompt.clone();
            app::with(|app| app.accept(&prompt));
        }
        let page_url = context.page_url.clone();
        let contact = match lead_kind {
            LeadKind::Callback => Contact { phone: Some(typed), time_slot: chosen_slot.clone(), ..Contact::default() },
            _ => Contact { email: Some(typed), ..Contact::default() },
        };
        let request = LeadRequest {
            site: site.clone(),
            visitor: visitor.clone(),
            kind: lead_kind,
            prompt: Some(prompt.clone()),
            contact,
            honeypot: honeypot.get_untracked(),
            form_shown_at: shown_at,
            submitted_at: browser::now_ms(),
            idempotency_key: key,
            consent: ConsentText { purpose: lead_kind.consent_purpose(), text: consent.text, text_version: consent.consent_version },
            marketing_consent: None,
            context,
            locale,
            page_url,
        };
        status.set(Status::Sending);
        let (api_base, prompt) = (api_base.clone(), prompt.clone());
        wasm_bindgen_futures::spawn_local(async move {
            match transport::submit_lead(&api_base, &request).await {
                Ok(()) => {
                    status.set(Status::Done(success_text(locale, lead_kind, &normalized, minutes, chosen_slot.as_deref())));
                    app::with(|app| {
                        app.focus_close();
                        app.emit("lead_submitted", &prompt);
                    });
                }
                Err(LeadError::Refused(code)) => {
                    status.set(Status::Failed(contact::message(code, locale).unwrap_or(text.unavailable).to_owned()));
                }
                Err(LeadError::Unavailable) => status.set(Status::Failed(text.unavailable.to_owned())),
            }
        });
    };

    let (label, input_type, autocomplete, input_mode) = match lead_kind {
        LeadKind::Callback => (text.phone_label, "tel", "tel", "tel"),
        _ => (text.email_label, "email", "email", "email"),
    };
    let error = move || match status.get() {
        Status::Invalid(message) | Status::Failed(message) => Some(message),
        _ => None,
    };
    let slot_field = (!slots.is_empty()).then(|| {
        let options = slots.into_iter().map(|label| view! { <option value=label.clone()>{label.clone()}</option> }).collect_view();
        view! {
            <label for="fw-slot">{text.slot_label}</label>
            <select id="fw-slot" on:change=move |ev| slot.set(event_target_value(&ev)) prop:value=move || slot.get()>
                {options}
            </select>
        }
    });
    let products = shown.products.clone();
    view! {
        {(!products.is_empty()).then(|| product_list(products, locale))}
        <form novalidate on:submit=submit>
            {slot_field}
            <label for="fw-contact">{label}</label>
            <input id="fw-contact" type=input_type autocomplete=autocomplete inputmode=input_mode required
                aria-describedby="fw-consent fw-error"
                aria-invalid=move || matches!(status.get(), Status::Invalid(_)).to_string()
                prop:value=move || value.get()
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    if matches!(status.get_untracked(), Status::Invalid(_)) {
                        status.set(Status::Editing);
                    }
                }/>
            <div class="hp" aria-hidden="true">
                <label>{text.honeypot}
                    <input name="website" tabindex="-1" autocomplete="off"
                        prop:value=move || honeypot.get() on:input=move |ev| honeypot.set(event_target_value(&ev))/>
                </label>
            </div>
            <p id="fw-consent" class="consent">{consent_text}</p>
            <p id="fw-error" class="error" role="alert">{error}</p>
            <button type="submit" class="primary brand" aria-busy=move || (status.get() == Status::Sending).to_string()>
                {move || match status.get() {
                    Status::Sending => text.sending.to_owned(),
                    Status::Failed(_) => text.retry.to_owned(),
                    _ => accept_label.clone(),
                }}
            </button>
        </form>
    }
}

fn product_list(products: Vec<Product>, locale: Locale) -> impl IntoView {
    let items = products
        .into_iter()
        .map(|product| {
            let price = product.price.map(|price| price.display(locale)).unwrap_or_default();
            view! {
                <li>
                    {product.image.map(|src| view! { <img src=src alt="" width="44" height="44" loading="lazy"/> })}
                    <span class="name">{product.name}</span>
                    <span class="price">{price}</span>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="products">{items}</ul> }
}
