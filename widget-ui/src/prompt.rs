//! Prompt cards: the comparison and callback forms, the question and the chat invitation.
//!
//! The first-load widget decides when a card appears and hands it over as a
//! [`PromptCard`](floorwalker_core::prompts::card::PromptCard) (core's wire form) with the site config (as
//! served, for the prompt's words); this module only draws it and submits its form. `on_event(name, detail)` tells the widget what the visitor did:
//! `"accept"`, `"dismiss"`, `"close"` (the finished card closed, by the visitor or by itself after
//! its thank-you), `"chat"` (the invitation accepted), `"answer"` (detail: `[question, answer]`),
//! `"lead"` (a lead went in), `"touch"` (the visitor went into the card: focus, tap or typing);
//! and asks `"context"`, answered with the visitor context (wire form), for the lead.
//!
//! The card never takes focus when it appears (the widget announces it). On a phone it starts as a
//! compact sheet (at most about a third of the screen: title, products or choices, the actions);
//! the visitor opens the form with its accept button, and only then does focus move into it.

use floorwalker_core::base::wire;
use floorwalker_core::leads::consent::ConsentText;
use floorwalker_core::leads::contact::{self, normalize_email, normalize_phone};
use floorwalker_core::leads::lead::{Contact, LeadKind, LeadRequest};
use floorwalker_core::prompts::card::{card_copy, shop_price, slot_label, success_text, PromptCard};
use floorwalker_core::prompts::config::{Position, PromptKind, PublicSiteConfig, RenderedCopy};
use floorwalker_core::prompts::judgement::{highlighted, Highlighted};
use floorwalker_core::visitor::context::{Product, VisitorContext};
use leptos::either::EitherOf3;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use crate::net::{self, FormError};
use crate::form::Status;

/// The card's own rules; the fields and buttons are styled by the widget's stylesheet, as the
/// chat's forms are. A card whose `data-corner` is not the launcher's (the prompt's `position`, or
/// an experiment arm's) is fixed to that corner on screens over 480 px, level with where it stands
/// beside the launcher; a phone's sheet is the same whatever the corner.
const STYLE: &str = include_str!("prompt.css");

/// A card on screen, as the widget holds it; `destroy()` removes it.
#[wasm_bindgen]
pub struct PromptHandle {
    /// The card's `UnmountHandle`, only ever dropped: boxed as `Any` so that the view keeps its
    /// own type. Erasing it with `into_any()` would compile a rebuild of the whole card that
    /// nothing calls (issue 16: ~7 KB of wasm for the form alone).
    mounted: Option<Box<dyn std::any::Any>>,
    title: String,
}

#[wasm_bindgen]
impl PromptHandle {
    pub fn destroy(&mut self) {
        self.mounted.take();
    }

    /// The card's title, for the widget's live region.
    #[wasm_bindgen(getter)]
    pub fn title(&self) -> String {
        self.title.clone()
    }
}

/// Draws `card` (a `PromptCard` in core's wire form) into `container`, an element of the widget's shadow
/// root, in the words `config` (the public site config as served) gives its prompt. See the module
/// docs for `on_event`.
#[wasm_bindgen]
pub fn mount_prompt(
    container: web_sys::HtmlElement,
    card: &[u8],
    config: JsValue,
    on_event: js_sys::Function,
) -> Result<PromptHandle, JsValue> {
    let card: PromptCard = wire::decode(card).ok_or("mount_prompt: not a prompt card")?;
    let config: PublicSiteConfig = net::site_config(&config)?;
    let definition = config.widget.prompt(&card.prompt).ok_or("mount_prompt: the prompt is not in the config")?;
    // The words and corner of the visitor's arm when the prompt has an experiment (the engine
    // judged its timing), borrowed from the config.
    let arm = definition.arm_index(&card.visitor);
    let copy = config.widget.render_copy(definition.copy_of_arm(arm), card.locale, card.variant, &card.answers);
    let title = copy.title.clone();
    let events = Events(on_event);
    let products = card
        .products
        .iter()
        .map(|product| ShownProduct {
            price: product.price.map(|price| shop_price(price, &config.widget)).unwrap_or_default(),
            product: product.clone(),
        })
        .collect();
    let highlight = highlighted(&config.widget, &card.answers, &card.products, card.locale);
    // Its own corner when that is not the launcher's (the prompt's `position`, or the visitor's arm's).
    let corner = definition.corner_of_arm(arm).filter(|corner| *corner != config.widget.theme.position);
    let mounted = leptos::mount::mount_to(container, move || {
        view! {
            <style>{STYLE}</style>
            {card_view(card, copy, events, Shown { products, highlight, corner })}
        }
    });
    Ok(PromptHandle { mounted: Some(Box::new(mounted)), title })
}

/// What a comparison card lists: each product with its price as the shop writes it, and the ones
/// the visitor's answers point out.
struct Shown {
    products: Vec<ShownProduct>,
    highlight: Option<Highlighted>,
    corner: Option<Position>,
}

struct ShownProduct {
    product: Product,
    price: String,
}

/// The widget's `on_event`, shared by the card's closures.
#[derive(Clone)]
struct Events(js_sys::Function);

impl Events {
    fn send(&self, name: &str, detail: &JsValue) -> JsValue {
        self.0.call2(&JsValue::NULL, &JsValue::from_str(name), detail).unwrap_or_else(|error| {
            web_sys::console::warn_2(&"floorwalker prompt: on_event threw".into(), &error);
            JsValue::NULL
        })
    }

    fn tell(&self, name: &str, prompt: &str) {
        self.send(name, &JsValue::from_str(prompt));
    }

    fn visitor_context(&self) -> Option<VisitorContext> {
        net::visitor_context(&self.send("context", &JsValue::NULL))
    }
}

fn card_view(card: PromptCard, copy: RenderedCopy, events: Events, shown: Shown) -> impl IntoView {
    let text = card_copy(card.locale);
    let status = RwSignal::new(Status::Editing);
    let id = card.prompt.clone();
    let corner = shown.corner.map(Position::key);
    // A phone shows the compact sheet until the visitor opens the form (CSS: only at ≤ 480 px).
    let compact = RwSignal::new(true);
    let touched = StoredValue::new(false);
    let touch = {
        let (id, events) = (id.clone(), events.clone());
        move || {
            if !touched.get_value() {
                touched.set_value(true);
                events.tell("touch", &id);
            }
        }
    };
    let (touch_focus, touch_pointer) = (touch.clone(), touch);
    let close = {
        let (id, events) = (id.clone(), events.clone());
        move || {
            let done = matches!(status.get_untracked(), Status::Done(_));
            events.tell(if done { "close" } else { "dismiss" }, &id);
        }
    };
    let close_button = close.clone();
    let close_ref = NodeRef::<leptos::html::Button>::new();
    let on_key = move |event: leptos::ev::KeyboardEvent| {
        if event.key() == "Escape" {
            close();
        }
    };
    // One enum of the three bodies rather than `into_any()`: nothing redraws the body, and an
    // `AnyView` compiles a rebuild of each that would never run.
    let body = match &card.kind {
        PromptKind::ComparisonEmail | PromptKind::Callback => {
            EitherOf3::A(contact_form(&card, &copy, status, events.clone(), close_ref, shown, compact))
        }
        PromptKind::Question(question) => {
            let asked = question.question.get(card.locale).clone();
            let choices = question
                .choices
                .iter()
                .map(|choice| {
                    let (value, label, asked) = (choice.value.clone(), choice.label.get(card.locale).clone(), asked.clone());
                    let (events, id, close_after) = (events.clone(), id.clone(), card.thank_you_ms);
                    view! {
                        <button type="button" class="choice" on:click=move |_| {
                            let answer = js_sys::Array::of2(&JsValue::from_str(&asked), &JsValue::from_str(&value));
                            events.send("answer", &answer);
                            status.set(Status::Done(text.answered.to_owned()));
                            // The thank-you closes itself: a finished card must not stand in the
                            // way of what comes next. The widget ignores it if the card is gone.
                            let (events, id) = (events.clone(), id.clone());
                            net::later(i32::try_from(close_after).unwrap_or(i32::MAX), move || events.tell("close", &id));
                        }>{label}</button>
                    }
                })
                .collect_view();
            EitherOf3::B(view! {
                <fieldset class="choices">
                    <legend>{asked.clone()}</legend>
                    {choices}
                </fieldset>
            })
        }
        PromptKind::ChatInvitation => {
            let (accept, id, events) = (copy.accept.clone(), id.clone(), events.clone());
            EitherOf3::C(view! {
                <button type="button" class="primary brand" on:click=move |_| events.tell("chat", &id)>{accept}</button>
            })
        }
    };
    let dismiss = {
        let (id, events) = (id.clone(), events.clone());
        move |_| events.tell("dismiss", &id)
    };
    view! {
        <section class="prompt" class:compact=move || compact.get() data-corner=corner role="dialog" aria-modal="false"
            aria-labelledby="fw-title" aria-describedby="fw-body" data-prompt=id on:keydown=on_key
            on:focusin=move |_| touch_focus() on:pointerdown=move |_| touch_pointer()>
            <button type="button" class="close x" aria-label=text.close node_ref=close_ref on:click=move |_| close_button()>"×"</button>
            {card.preview.then(|| view! { <p class="preview-note">{text.preview}</p> })}
            <h2 id="fw-title">{copy.title.clone()}</h2>
            {move || match status.get() {
                Status::Done(message) => Some(view! { <p class="done" role="status">{message}</p> }),
                _ => None,
            }}
            <div class="body" hidden=move || matches!(status.get(), Status::Done(_))>
                <p id="fw-body">{copy.body.clone()}</p>
                {body}
                <button type="button" class="secondary" on:click=dismiss>{copy.dismiss.clone()}</button>
            </div>
        </section>
    }
}

/// The email (comparison) or phone (callback) form, with its one consent text.
fn contact_form(
    card: &PromptCard,
    copy: &RenderedCopy,
    status: RwSignal<Status>,
    events: Events,
    close: NodeRef<leptos::html::Button>,
    shown: Shown,
    compact: RwSignal<bool>,
) -> impl IntoView {
    let locale = card.locale;
    let text = card_copy(locale);
    let lead_kind = card.lead_kind().unwrap_or(LeadKind::ComparisonEmail);
    let value = RwSignal::new(String::new());
    let honeypot = RwSignal::new(String::new());
    let slots: Vec<String> = card.slots.iter().map(|slot| slot_label(locale, slot)).collect();
    let slot = RwSignal::new(slots.first().cloned().unwrap_or_default());
    // Reused while the visitor retries the same input, so a retry never makes a second lead.
    let attempt = StoredValue::new((net::random_id(), String::new()));
    let accepted = StoredValue::new(false);
    let consent = copy.consent.clone();
    let consent_text = consent.as_ref().map(|c| c.text.clone()).unwrap_or_default();
    let (prompt, shown_at, region, minutes, preview) = (card.prompt.clone(), card.shown_at, card.region, card.callback_minutes, card.preview);
    let (api_base, site, visitor) = (card.api_base.clone(), card.site.clone(), card.visitor.clone());
    let accept_label = copy.accept.clone();

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
        if preview {
            let promise = success_text(locale, lead_kind, &normalized, minutes, chosen_slot.as_deref());
            status.set(Status::Done(format!("{} {promise}", text.preview_sent)));
            focus_if_inside(close);
            return;
        }
        let fingerprint = format!("{normalized}|{}", chosen_slot.clone().unwrap_or_default());
        let key = attempt.with_value(|(key, last)| (last == &fingerprint).then(|| key.clone()));
        let key = key.unwrap_or_else(|| {
            let key = net::random_id();
            attempt.set_value((key.clone(), fingerprint));
            key
        });
        let Some(consent) = consent.clone() else { return };
        let Some(context) = events.visitor_context() else {
            status.set(Status::Failed(text.unavailable.to_owned()));
            return;
        };
        if !accepted.get_value() {
            accepted.set_value(true);
            events.tell("accept", &prompt);
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
            submitted_at: net::now_ms(),
            idempotency_key: key,
            consent: ConsentText { purpose: lead_kind.consent_purpose(), text: consent.text, text_version: consent.consent_version },
            marketing_consent: None,
            context,
            locale,
            page_url,
        };
        status.set(Status::Sending);
        let (api_base, prompt, events) = (api_base.clone(), prompt.clone(), events.clone());
        wasm_bindgen_futures::spawn_local(async move {
            match net::submit_lead(&api_base, &request).await {
                Ok(()) => {
                    status.set(Status::Done(success_text(locale, lead_kind, &normalized, minutes, chosen_slot.as_deref())));
                    focus_if_inside(close);
                    events.tell("lead", &prompt);
                }
                Err(FormError::Refused(code)) => {
                    status.set(Status::Failed(contact::message(code, locale).unwrap_or(text.unavailable).to_owned()));
                }
                Err(FormError::Unavailable) => status.set(Status::Failed(text.unavailable.to_owned())),
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
    // The fields are written by the visitor only: their signals follow them (`on:input`,
    // `on:change`; a select starts on its first option, as `slot` does) and nothing writes a field
    // back, so no `prop:value` effect is bound (issue 16: 1.4 KB brotli of the cards module).
    let slot_field = (!slots.is_empty()).then(|| {
        let options = slots.into_iter().map(|label| view! { <option value=label.clone()>{label.clone()}</option> }).collect_view();
        view! {
            <label for="fw-slot">{text.slot_label}</label>
            <select id="fw-slot" on:change=move |ev| slot.set(event_target_value(&ev))>
                {options}
            </select>
        }
    });
    let field = NodeRef::<leptos::html::Input>::new();
    // The visitor opens the form on a phone: now, and only now, focus goes into it.
    let expand = move |_| {
        compact.set(false);
        net::later(0, move || {
            if let Some(input) = field.get_untracked() {
                let _ = input.focus();
            }
        });
    };
    let expand_label = copy.accept.clone();
    view! {
        {(!shown.products.is_empty()).then(|| product_list(shown))}
        <button type="button" class="primary brand expand" aria-expanded="false" on:click=expand>{expand_label}</button>
        <form novalidate on:submit=submit>
            {slot_field}
            <label for="fw-contact">{label}</label>
            <input id="fw-contact" node_ref=field type=input_type autocomplete=autocomplete inputmode=input_mode required
                aria-describedby="fw-consent fw-error"
                aria-invalid=move || matches!(status.get(), Status::Invalid(_)).to_string()
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    if matches!(status.get_untracked(), Status::Invalid(_)) {
                        status.set(Status::Editing);
                    }
                }/>
            <div class="hp" aria-hidden="true">
                <label>{text.honeypot}
                    <input name="website" tabindex="-1" autocomplete="off"
                        on:input=move |ev| honeypot.set(event_target_value(&ev))/>
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

/// After a card's form is done its fields are hidden; focus goes to the card's close button rather
/// than being dropped on the page, if it was inside the widget at all.
fn focus_if_inside(close: NodeRef<leptos::html::Button>) {
    let Some(button) = close.get_untracked() else { return };
    let root = button.get_root_node();
    if root.dyn_ref::<web_sys::ShadowRoot>().and_then(web_sys::ShadowRoot::active_element).is_some() {
        let _ = button.focus();
    }
}

fn product_list(shown: Shown) -> impl IntoView {
    let Shown { products, highlight, .. } = shown;
    let items = products
        .into_iter()
        .map(|ShownProduct { product, price }| {
            let fits = highlight.as_ref().filter(|h| h.products.contains(&product.id)).map(|h| h.note.clone());
            let fitting = fits.is_some();
            view! {
                <li class:fits=fitting>
                    {product.image.map(|src| view! { <img src=src alt="" width="44" height="44" loading="lazy"/> })}
                    <span class="name">{product.name}{fits.map(|note| view! { <span class="fit">{note}</span> })}</span>
                    <span class="price">{price}</span>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="products">{items}</ul> }
}
