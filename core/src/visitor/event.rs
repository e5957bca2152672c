//! Visitor events: what the widget observed, in the versioned shape it sends to `POST /v1/events`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::base::error::{ApiError, ErrorCode, Mistake};
use crate::base::ids::{client_id_within, is_valid_prompt_id, site_id_within, MAX_PROMPT_ID_LEN};
use crate::base::text::{len_within, MAX_CATEGORY_LEN, MAX_PRODUCT_ID_LEN, MAX_PRODUCT_NAME_LEN, MAX_URL_LEN};
use crate::base::url::http_url_within;
use crate::visitor::context::Product;

/// The batch format version this build reads and writes. A batch with another `v` is refused with
/// `unsupported_version`, so an old widget cached somewhere never has its data misread.
pub const EVENT_BATCH_VERSION: u32 = 1;
/// Most events one batch may carry.
pub const MAX_EVENTS_PER_BATCH: usize = 50;
/// Largest request body accepted for a batch, in bytes.
pub const MAX_BATCH_BYTES: usize = 64 * 1024;
/// Longest page title kept.
pub const MAX_TITLE_LEN: usize = 512;
/// Most active seconds one event may add: the widget reports at least every few minutes, so a
/// larger number means a stuck timer or a forged event, and would let one event unlock every prompt.
pub const MAX_ACTIVE_SECONDS_PER_EVENT: u32 = 600;
/// Longest question text and answer value kept.
pub const MAX_QUESTION_LEN: usize = 256;
pub const MAX_ANSWER_LEN: usize = 128;
/// Bounds of a custom `track` event: a short name and a small flat map.
pub const MAX_TRACK_NAME_LEN: usize = 64;
pub const MAX_TRACK_PROPS: usize = 20;
pub const MAX_TRACK_KEY_LEN: usize = 64;
pub const MAX_TRACK_VALUE_LEN: usize = 256;
/// How far ahead of the server's clock an event's `at` may be. Visitors' clocks are often off,
/// by hours when set to the wrong time zone (up to 14 h fast), and their events still count; an
/// event dated further ahead is forged or broken, and would sit on top of every newest-first
/// listing for as long as its date is ahead.
pub const MAX_EVENT_AHEAD_MS: u64 = 24 * 60 * 60 * 1000;
/// Bounds of the `identify` fields.
pub const MAX_IDENTITY_FIELD_LEN: usize = 254;

/// What the widget sends: a batch of events from one visitor's session on one site.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    /// Format version, [`EVENT_BATCH_VERSION`].
    pub v: u32,
    pub site: String,
    /// Random id kept in first-party storage for the visit's lifetime on this site.
    pub visitor: String,
    /// Random id for this visit.
    pub session: String,
    pub events: Vec<Event>,
}

/// One observation, with a client-generated id that makes re-sending the same batch harmless.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    /// Milliseconds since the Unix epoch, by the visitor's clock.
    pub at: u64,
    #[serde(flatten)]
    pub data: EventData,
}

/// The kinds of observation. Tagged by `type` on the wire.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventData {
    PageView(PageView),
    ProductView(ProductView),
    /// Seconds the visitor was actually present (tab visible, recent input) since the last report.
    ActiveTime(ActiveTime),
    ExitIntent(ExitIntent),
    PromptShown(PromptRef),
    PromptAccepted(PromptRef),
    PromptDismissed(PromptRef),
    QuestionAnswered(QuestionAnswered),
    /// A custom event from the host page: `floorwalker('track', name, props)`.
    Track(Track),
    /// The host page tells who the visitor is: `floorwalker('identify', {...})`.
    Identify(Identify),
    Consent(Consent),
    ChatOpened,
}

impl EventData {
    /// The wire name of the event type, as stored alongside the event.
    /// Whether an operator in a chat with the visitor should see this at once: a new page, a
    /// product or an answer changes what they are talking about; time ticks and prompts shown do not.
    pub fn moves_context(&self) -> bool {
        matches!(self, EventData::PageView(_) | EventData::ProductView(_) | EventData::QuestionAnswered(_))
    }

    pub fn kind(&self) -> &'static str {
        match self {
            EventData::PageView(_) => "page_view",
            EventData::ProductView(_) => "product_view",
            EventData::ActiveTime(_) => "active_time",
            EventData::ExitIntent(_) => "exit_intent",
            EventData::PromptShown(_) => "prompt_shown",
            EventData::PromptAccepted(_) => "prompt_accepted",
            EventData::PromptDismissed(_) => "prompt_dismissed",
            EventData::QuestionAnswered(_) => "question_answered",
            EventData::Track(_) => "track",
            EventData::Identify(_) => "identify",
            EventData::Consent(_) => "consent",
            EventData::ChatOpened => "chat_opened",
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct PageView {
    pub url: String,
    #[serde(default)]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
}

/// Wrapped rather than flattened: a product's `id` would collide with the event's own `id`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ProductView {
    pub product: Product,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveTime {
    pub seconds: u32,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitIntent {
    pub trigger: ExitTrigger,
}

/// How the widget concluded the visitor is about to leave.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ExitTrigger {
    /// The pointer left through the top edge, towards the tabs or the address bar (desktop).
    PointerTop,
    /// A quick scroll up, the mobile gesture before reaching for the address bar.
    FastScrollUp,
    BackNavigation,
    TabHidden,
}

/// Which configured prompt an event is about.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PromptRef {
    pub prompt: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct QuestionAnswered {
    pub prompt: String,
    /// The question as it was shown, in the visitor's language.
    pub question: String,
    /// The chosen value (the choice's stable `value`, not its translated label).
    pub answer: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Track {
    pub name: String,
    /// Flat and ordered, so that stored events compare and hash the same everywhere.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub props: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct Identify {
    /// The host site's own id for the visitor (its customer id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Consent {
    pub granted: bool,
}

/// An event as the admin API returns it: the event with who sent it and when it arrived.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub visitor: String,
    pub session: String,
    /// Milliseconds since the Unix epoch, by the server's clock.
    pub received_at: u64,
    pub event: Event,
}

impl EventBatch {
    /// Checks everything the server must not trust: version, ids, sizes and URL shapes.
    pub fn validate(&self) -> Result<(), ApiError> {
        self.check()
    }

    /// [`EventBatch::validate`] for any [`Mistake`]: the widget checks each event with it before
    /// queuing it ([`crate::visitor::event_queue::EventQueue::push`]), without the words.
    pub fn check<E: Mistake>(&self) -> Result<(), E> {
        if self.v != EVENT_BATCH_VERSION {
            return Err(E::new(ErrorCode::UnsupportedVersion, || {
                format!("event batch version {} is not supported (expected {EVENT_BATCH_VERSION})", self.v)
            }));
        }
        site_id_within(&self.site)?;
        client_id_within("visitor", &self.visitor)?;
        client_id_within("session", &self.session)?;
        if self.events.is_empty() {
            return Err(invalid(|| "a batch needs at least one event".into()));
        }
        if self.events.len() > MAX_EVENTS_PER_BATCH {
            return Err(invalid(|| format!("a batch holds at most {MAX_EVENTS_PER_BATCH} events, got {}", self.events.len())));
        }
        for (index, event) in self.events.iter().enumerate() {
            event.check().map_err(|e: E| e.within(|| format!("events[{index}]: ")))?;
        }
        Ok(())
    }

    /// [`EventBatch::validate`], and on the server (`now_ms` by its clock) also each event's `at`
    /// at most [`MAX_EVENT_AHEAD_MS`] ahead. Like every other mistake, one such event refuses the
    /// whole batch (400 `invalid_event`, naming it), so a batch is stored whole or not at all.
    pub fn validate_received(&self, now_ms: u64) -> Result<(), ApiError> {
        self.validate()?;
        let latest = now_ms.saturating_add(MAX_EVENT_AHEAD_MS);
        match self.events.iter().position(|event| event.at > latest) {
            Some(index) => Err(invalid(|| {
                format!(
                    "events[{index}]: at is {} ms since the epoch, more than a day ahead of the server's clock ({now_ms})",
                    self.events[index].at
                )
            })),
            None => Ok(()),
        }
    }
}

impl Event {
    fn check<E: Mistake>(&self) -> Result<(), E> {
        client_id_within("id", &self.id)?;
        match &self.data {
            EventData::PageView(view) => {
                http_url_within(ErrorCode::InvalidEvent, "url", &view.url)?;
                if let Some(referrer) = &view.referrer {
                    // Referrers may legitimately be any scheme (android-app://...), only bound the size.
                    check_event_len("referrer", referrer, MAX_URL_LEN)?;
                }
                check_event_len("title", &view.title, MAX_TITLE_LEN)
            }
            EventData::ProductView(ProductView { product }) => check_product(product),
            EventData::ActiveTime(ActiveTime { seconds }) => {
                if (1..=MAX_ACTIVE_SECONDS_PER_EVENT).contains(seconds) {
                    Ok(())
                } else {
                    Err(invalid(|| format!("seconds must be 1-{MAX_ACTIVE_SECONDS_PER_EVENT}, got {seconds}")))
                }
            }
            EventData::ExitIntent(_) | EventData::Consent(_) | EventData::ChatOpened => Ok(()),
            EventData::PromptShown(PromptRef { prompt })
            | EventData::PromptAccepted(PromptRef { prompt })
            | EventData::PromptDismissed(PromptRef { prompt }) => check_prompt_id(prompt),
            EventData::QuestionAnswered(answered) => {
                check_prompt_id(&answered.prompt)?;
                check_event_len("question", &answered.question, MAX_QUESTION_LEN)?;
                check_non_empty("answer", &answered.answer)?;
                check_event_len("answer", &answered.answer, MAX_ANSWER_LEN)
            }
            EventData::Track(track) => {
                check_non_empty("name", &track.name)?;
                check_event_len("name", &track.name, MAX_TRACK_NAME_LEN)?;
                if track.props.len() > MAX_TRACK_PROPS {
                    return Err(invalid(|| format!("props holds at most {MAX_TRACK_PROPS} entries")));
                }
                for (key, value) in &track.props {
                    check_non_empty("props key", key)?;
                    check_event_len("props key", key, MAX_TRACK_KEY_LEN)?;
                    // `props.{key}`: the field's name is words too, made only where they are.
                    check_event_len(key, value, MAX_TRACK_VALUE_LEN).map_err(|e: E| e.within(|| "props.".into()))?;
                }
                Ok(())
            }
            EventData::Identify(identify) => {
                let fields = [
                    ("user_id", &identify.user_id),
                    ("email", &identify.email),
                    ("phone", &identify.phone),
                    ("name", &identify.name),
                ];
                if fields.iter().all(|(_, value)| value.is_none()) {
                    return Err(invalid(|| "identify needs at least one of user_id, email, phone, name".into()));
                }
                for (field, value) in fields {
                    if let Some(value) = value {
                        check_non_empty(field, value)?;
                        check_event_len(field, value, MAX_IDENTITY_FIELD_LEN)?;
                    }
                }
                Ok(())
            }
        }
    }
}

fn check_product<E: Mistake>(product: &Product) -> Result<(), E> {
    check_non_empty("product.id", &product.id)?;
    check_event_len("product.id", &product.id, MAX_PRODUCT_ID_LEN)?;
    check_non_empty("product.name", &product.name)?;
    check_event_len("product.name", &product.name, MAX_PRODUCT_NAME_LEN)?;
    if let Some(category) = &product.category {
        check_event_len("product.category", category, MAX_CATEGORY_LEN)?;
    }
    if let Some(url) = &product.url {
        http_url_within(ErrorCode::InvalidEvent, "product.url", url)?;
    }
    if let Some(image) = &product.image {
        http_url_within(ErrorCode::InvalidEvent, "product.image", image)?;
    }
    if product.price.is_some_and(|price| price.minor < 0) {
        return Err(invalid(|| "product.price must not be negative".into()));
    }
    Ok(())
}

fn check_prompt_id<E: Mistake>(prompt: &str) -> Result<(), E> {
    if is_valid_prompt_id(prompt) {
        Ok(())
    } else {
        Err(invalid(|| format!("prompt must be 1-{MAX_PROMPT_ID_LEN} characters of [a-z0-9_-]")))
    }
}

fn check_non_empty<E: Mistake>(field: &str, value: &str) -> Result<(), E> {
    if value.trim().is_empty() {
        return Err(invalid(|| format!("{field} must not be empty")));
    }
    Ok(())
}

/// An event's field within its length limit; too long is an invalid event like any other mistake.
fn check_event_len<E: Mistake>(field: &str, value: &str, max: usize) -> Result<(), E> {
    len_within(ErrorCode::InvalidEvent, field, value, max)
}

fn invalid<E: Mistake>(words: impl FnOnce() -> String) -> E {
    E::new(ErrorCode::InvalidEvent, words)
}


#[cfg(test)]
mod tests {
    use super::*;

    fn page_view(url: &str) -> Event {
        Event {
            id: "evt00000001".into(),
            at: 1_790_000_000_000,
            data: EventData::PageView(PageView { url: url.into(), title: "Коляска".into(), referrer: None }),
        }
    }

    fn batch(events: Vec<Event>) -> EventBatch {
        EventBatch { v: 1, site: "demo".into(), visitor: "visitor01".into(), session: "session01".into(), events }
    }

    #[test]
    fn wire_format_is_flat_and_tagged() {
        let json = serde_json::to_value(page_view("https://shop.example/p/1")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id":"evt00000001","at":1_790_000_000_000u64,"type":"page_view",
                "url":"https://shop.example/p/1","title":"Коляска"})
        );
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, page_view("https://shop.example/p/1"));
    }

    #[test]
    fn valid_batch_passes() {
        batch(vec![page_view("http://127.0.0.1:8787/product/x/")]).validate().unwrap();
    }

    #[test]
    fn unknown_event_type_does_not_parse() {
        let err = serde_json::from_str::<Event>(r#"{"id":"evt00000001","at":1,"type":"mind_read"}"#);
        assert!(err.is_err());
    }

    #[test]
    fn refuses_bad_batches() {
        let cases: Vec<(EventBatch, ErrorCode)> = vec![
            (EventBatch { v: 2, ..batch(vec![page_view("https://a.b/")]) }, ErrorCode::UnsupportedVersion),
            (EventBatch { site: "Bad Site".into(), ..batch(vec![page_view("https://a.b/")]) }, ErrorCode::InvalidSite),
            (EventBatch { visitor: "x".into(), ..batch(vec![page_view("https://a.b/")]) }, ErrorCode::InvalidEvent),
            (batch(vec![]), ErrorCode::InvalidEvent),
            (batch(vec![page_view("https://a.b/"); MAX_EVENTS_PER_BATCH + 1]), ErrorCode::InvalidEvent),
            (batch(vec![page_view("javascript:alert(1)")]), ErrorCode::InvalidEvent),
            (batch(vec![page_view("https:///nohost")]), ErrorCode::InvalidEvent),
            (batch(vec![page_view(&format!("https://a.b/{}", "x".repeat(MAX_URL_LEN)))]), ErrorCode::InvalidEvent),
        ];
        for (batch, code) in cases {
            assert_eq!(batch.validate().expect_err("must be refused").code, code, "{batch:?}");
        }
    }

    #[test]
    fn an_event_more_than_a_day_ahead_of_the_server_refuses_the_batch() {
        let now = 1_790_000_000_000;
        let at = |at: u64| Event { at, ..page_view("https://a.b/") };
        let ahead = |ms: u64| batch(vec![at(now), at(now + ms)]);
        ahead(0).validate_received(now).unwrap();
        ahead(MAX_EVENT_AHEAD_MS).validate_received(now).unwrap();
        for far in [MAX_EVENT_AHEAD_MS + 1, 10 * 365 * MAX_EVENT_AHEAD_MS, u64::MAX - now] {
            let err = ahead(far).validate_received(now).expect_err("too far ahead");
            assert_eq!(err.code, ErrorCode::InvalidEvent);
            assert!(err.message.starts_with("events[1]: at is"), "{}", err.message);
        }
        // The widget checks without a server clock; the bound is the server's.
        ahead(u64::MAX - now).validate().unwrap();
        // Late events (a batch sent after being offline) are fine.
        batch(vec![at(1)]).validate_received(now).unwrap();
    }

    #[test]
    fn error_names_the_offending_event() {
        let err = batch(vec![page_view("https://a.b/"), page_view("ftp://a.b/")]).validate().unwrap_err();
        assert!(err.message.starts_with("events[1]:"), "{}", err.message);
    }

    fn event(data: EventData) -> Event {
        Event { id: "evt00000001".into(), at: 1_790_000_000_000, data }
    }

    fn product(id: &str) -> Product {
        Product {
            id: id.into(),
            name: "Коляска Nordika City Lite".into(),
            price: Some(crate::base::money::Money { minor: 3_490_000, currency: crate::base::money::Currency::RUB }),
            image: None,
            url: Some("https://shop.example/product/nordika-city-lite/".into()),
            category: Some("strollers".into()),
            suits_age: None,
        }
    }

    #[test]
    fn visitor_events_have_snake_case_tags_and_round_trip() {
        let cases = [
            (EventData::ProductView(ProductView { product: product("sku-1") }), "product_view"),
            (EventData::ActiveTime(ActiveTime { seconds: 15 }), "active_time"),
            (EventData::ExitIntent(ExitIntent { trigger: ExitTrigger::FastScrollUp }), "exit_intent"),
            (EventData::PromptShown(PromptRef { prompt: "callback".into() }), "prompt_shown"),
            (EventData::PromptAccepted(PromptRef { prompt: "callback".into() }), "prompt_accepted"),
            (EventData::PromptDismissed(PromptRef { prompt: "callback".into() }), "prompt_dismissed"),
            (
                EventData::QuestionAnswered(QuestionAnswered {
                    prompt: "child_age".into(),
                    question: "Сколько лет ребёнку?".into(),
                    answer: "0-1".into(),
                }),
                "question_answered",
            ),
            (
                EventData::Track(Track {
                    name: "add_to_cart".into(),
                    props: BTreeMap::from([("sku".into(), "sku-1".into())]),
                }),
                "track",
            ),
            (EventData::Identify(Identify { email: Some("a@b.ru".into()), ..Identify::default() }), "identify"),
            (EventData::Consent(Consent { granted: true }), "consent"),
            (EventData::ChatOpened, "chat_opened"),
        ];
        for (data, tag) in cases {
            assert_eq!(data.kind(), tag);
            let event = event(data);
            let json = serde_json::to_value(&event).unwrap();
            assert_eq!(json["type"], tag);
            assert_eq!(json["id"], "evt00000001");
            let back: Event = serde_json::from_value(json).unwrap();
            assert_eq!(back, event);
            event.check::<ApiError>().unwrap();
        }
    }

    #[test]
    fn exact_wire_shapes() {
        let json = serde_json::to_value(event(EventData::ExitIntent(ExitIntent { trigger: ExitTrigger::PointerTop })))
            .unwrap();
        assert_eq!(json, serde_json::json!({"id":"evt00000001","at":1_790_000_000_000u64,"type":"exit_intent","trigger":"pointer_top"}));
        let parsed: Event = serde_json::from_str(
            r#"{"id":"evt00000001","at":5,"type":"product_view","product":{"id":"sku-1","name":"Кресло","price":{"minor":100,"currency":"rub"}}}"#,
        )
        .unwrap();
        let EventData::ProductView(view) = parsed.data else { panic!("not a product view") };
        assert_eq!(view.product.price.unwrap().currency.as_str(), "RUB");
        let chat: Event = serde_json::from_str(r#"{"id":"evt00000001","at":5,"type":"chat_opened"}"#).unwrap();
        assert_eq!(chat.data, EventData::ChatOpened);
    }

    #[test]
    fn refuses_bad_visitor_events() {
        let long = |n: usize| "x".repeat(n + 1);
        let bad = [
            EventData::ActiveTime(ActiveTime { seconds: 0 }),
            EventData::ActiveTime(ActiveTime { seconds: MAX_ACTIVE_SECONDS_PER_EVENT + 1 }),
            EventData::ProductView(ProductView { product: Product { id: String::new(), ..product("x") } }),
            EventData::ProductView(ProductView { product: Product { id: long(MAX_PRODUCT_ID_LEN), ..product("x") } }),
            EventData::ProductView(ProductView { product: Product { name: long(MAX_PRODUCT_NAME_LEN), ..product("x") } }),
            EventData::ProductView(ProductView {
                product: Product { url: Some("javascript:alert(1)".into()), ..product("x") },
            }),
            EventData::ProductView(ProductView { product: Product { image: Some("/img.jpg".into()), ..product("x") } }),
            EventData::ProductView(ProductView {
                product: Product { category: Some(long(MAX_CATEGORY_LEN)), ..product("x") },
            }),
            EventData::ProductView(ProductView {
                product: Product {
                    price: Some(crate::base::money::Money { minor: -1, currency: crate::base::money::Currency::RUB }),
                    ..product("x")
                },
            }),
            EventData::PromptShown(PromptRef { prompt: "Bad Id".into() }),
            EventData::PromptDismissed(PromptRef { prompt: String::new() }),
            EventData::QuestionAnswered(QuestionAnswered {
                prompt: "child_age".into(),
                question: "q".into(),
                answer: " ".into(),
            }),
            EventData::QuestionAnswered(QuestionAnswered {
                prompt: "child_age".into(),
                question: long(MAX_QUESTION_LEN),
                answer: "0-1".into(),
            }),
            EventData::Track(Track { name: String::new(), props: BTreeMap::new() }),
            EventData::Track(Track { name: long(MAX_TRACK_NAME_LEN), props: BTreeMap::new() }),
            EventData::Track(Track {
                name: "t".into(),
                props: (0..=MAX_TRACK_PROPS).map(|i| (format!("k{i}"), "v".into())).collect(),
            }),
            EventData::Track(Track { name: "t".into(), props: BTreeMap::from([("k".into(), long(MAX_TRACK_VALUE_LEN))]) }),
            EventData::Track(Track { name: "t".into(), props: BTreeMap::from([(long(MAX_TRACK_KEY_LEN), "v".into())]) }),
            EventData::Identify(Identify::default()),
            EventData::Identify(Identify { email: Some(long(MAX_IDENTITY_FIELD_LEN)), ..Identify::default() }),
        ];
        for data in bad {
            let err = event(data.clone()).check::<ApiError>().expect_err(&format!("{data:?} must be refused"));
            assert_eq!(err.code, ErrorCode::InvalidEvent);
        }
    }

    #[test]
    fn unknown_exit_trigger_does_not_parse() {
        let err = serde_json::from_str::<Event>(r#"{"id":"evt00000001","at":1,"type":"exit_intent","trigger":"telepathy"}"#);
        assert!(err.is_err());
    }
}
