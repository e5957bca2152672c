//! The visitor context's wire form (`base::wire`): how the widget hands the context to its UI
//! modules, which attach it to a lead or a new conversation; and the session's, how the widget
//! keeps it in `localStorage` (`wire::to_text`), read back on every page load without a JSON
//! decoder in the first load (issue 16); and the event batch's, how the widget sends events
//! (`POST /v1/events?wire=N`) without a JSON encoder. Fields go in declaration order.

use crate::visitor::context::{AgeRange, Answer, Product, Touch, ViewedProduct, VisitorContext};
use crate::base::wire::{Reader, Wire, Writer};
use crate::visitor::event::{
    ActiveTime, Consent, Event, EventBatch, EventData, ExitIntent, ExitTrigger, Identify, PageView, ProductView, PromptRef,
    QuestionAnswered, Track,
};
use crate::visitor::session::{PromptAnswer, PromptRecord, Session};
use crate::{wire_enum, wire_struct};

// Without `page_titles`: the widget has none to send (the worker fills them in).
wire_struct!(VisitorContext {
    first_touch,
    last_touch,
    pages_viewed,
    recent_pages,
    products,
    active_seconds,
    answers,
    returning,
    locale,
    page_url,
} ..Default);
wire_struct!(Touch { utm_source, utm_medium, utm_campaign, utm_content, utm_term, gclid, yclid, referrer, landing_page, at });
wire_struct!(ViewedProduct { product, views, last_viewed_at });
wire_struct!(Product { id, name, price, image, url, category, suits_age });
wire_struct!(AgeRange { min_months, max_months });
wire_struct!(Answer { question, answer });
// The page's transient state (chat open, typing, a touched card) is never stored: a reload starts
// without it.
wire_struct!(Session {
    v,
    visits,
    visit_started_at,
    last_event_at,
    pages_viewed,
    visit_pages_viewed,
    recent_pages,
    current_page,
    products,
    active_seconds,
    visit_active_seconds,
    first_touch,
    last_touch,
    answers,
    prompt_history,
    visit_prompts,
    visible_prompt,
} ..Default);
wire_struct!(PromptAnswer { prompt, answer, at });

wire_struct!(EventBatch { v, site, visitor, session, events });

/// The oldest wire version whose event batches the worker still reads: a visitor's open tab keeps
/// the widget it loaded across a release, and its batches must not be refused until it reloads.
/// Raise it to `base::wire::VERSION` when the batch's own layout changes (pinned in the tests).
pub const OLDEST_BATCH_VERSION: u8 = 2;

impl EventBatch {
    /// A batch in the wire form of any version the worker still reads ([`OLDEST_BATCH_VERSION`]).
    pub fn from_wire(bytes: &[u8]) -> Option<EventBatch> {
        crate::base::wire::decode_since(bytes, OLDEST_BATCH_VERSION)
    }
}
wire_struct!(Event { id, at, data });
wire_struct!(PageView { url, title, referrer });
wire_struct!(ProductView { product });
wire_struct!(ActiveTime { seconds });
wire_struct!(ExitIntent { trigger });
wire_enum!(ExitTrigger { PointerTop, FastScrollUp, BackNavigation, TabHidden });
wire_struct!(PromptRef { prompt });
wire_struct!(QuestionAnswered { prompt, question, answer });
wire_struct!(Track { name, props });
wire_struct!(Identify { user_id, email, phone, name });
wire_struct!(Consent { granted });

/// An event type is its variant's index, then its fields.
impl Wire for EventData {
    fn put(&self, out: &mut Writer) {
        match self {
            EventData::PageView(data) => {
                out.tag(0);
                data.put(out);
            }
            EventData::ProductView(data) => {
                out.tag(1);
                data.put(out);
            }
            EventData::ActiveTime(data) => {
                out.tag(2);
                data.put(out);
            }
            EventData::ExitIntent(data) => {
                out.tag(3);
                data.put(out);
            }
            EventData::PromptShown(data) => {
                out.tag(4);
                data.put(out);
            }
            EventData::PromptAccepted(data) => {
                out.tag(5);
                data.put(out);
            }
            EventData::PromptDismissed(data) => {
                out.tag(6);
                data.put(out);
            }
            EventData::QuestionAnswered(data) => {
                out.tag(7);
                data.put(out);
            }
            EventData::Track(data) => {
                out.tag(8);
                data.put(out);
            }
            EventData::Identify(data) => {
                out.tag(9);
                data.put(out);
            }
            EventData::Consent(data) => {
                out.tag(10);
                data.put(out);
            }
            EventData::ChatOpened => out.tag(11),
        }
    }
    fn take(input: &mut Reader<'_>) -> Option<Self> {
        Some(match input.tag()? {
            0 => EventData::PageView(Wire::take(input)?),
            1 => EventData::ProductView(Wire::take(input)?),
            2 => EventData::ActiveTime(Wire::take(input)?),
            3 => EventData::ExitIntent(Wire::take(input)?),
            4 => EventData::PromptShown(Wire::take(input)?),
            5 => EventData::PromptAccepted(Wire::take(input)?),
            6 => EventData::PromptDismissed(Wire::take(input)?),
            7 => EventData::QuestionAnswered(Wire::take(input)?),
            8 => EventData::Track(Wire::take(input)?),
            9 => EventData::Identify(Wire::take(input)?),
            10 => EventData::Consent(Wire::take(input)?),
            11 => EventData::ChatOpened,
            _ => return None,
        })
    }
}
wire_struct!(PromptRecord { prompt, shown, last_shown_at, dismissed_at, accepted_at });

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::locale::Locale;
    use crate::base::money::{Currency, Money};
    use crate::base::wire::{decode, encode};

    #[test]
    fn a_visitor_context_survives_the_wire() {
        let product = Product {
            id: "orsa".into(),
            name: "Коляска Orsa".into(),
            price: Some(Money { minor: 4_599_000, currency: Currency::RUB }),
            image: None,
            url: Some("https://shop.example/p/orsa".into()),
            category: Some("Коляски".into()),
            suits_age: Some(AgeRange { min_months: 0, max_months: Some(36) }),
        };
        let touch = Touch { utm_source: Some("ya".into()), landing_page: "https://shop.example/".into(), at: 7, ..Touch::default() };
        let context = VisitorContext {
            first_touch: Some(touch.clone()),
            last_touch: None,
            pages_viewed: 3,
            recent_pages: vec!["https://shop.example/".into()],
            products: vec![ViewedProduct { product, views: 2, last_viewed_at: 1_700_000_000_000 }],
            active_seconds: 95,
            answers: vec![Answer { question: "age".into(), answer: "0-1".into() }],
            returning: true,
            locale: Locale::En,
            page_url: "https://shop.example/p/orsa".into(),
            page_titles: Vec::new(),
        };
        assert_eq!(decode::<VisitorContext>(&encode(&context)), Some(context));
    }

    /// A batch holding one event of every type.
    fn every_event_type() -> EventBatch {
        use crate::visitor::event::*;
        let product = Product { id: "orsa".into(), name: "Orsa".into(), price: None, image: None, url: None, category: None, suits_age: None };
        let data = vec![
            EventData::PageView(PageView { url: "https://shop.example/".into(), title: "Shop".into(), referrer: Some("https://ya.ru/".into()) }),
            EventData::ProductView(ProductView { product }),
            EventData::ActiveTime(ActiveTime { seconds: 5 }),
            EventData::ExitIntent(ExitIntent { trigger: ExitTrigger::TabHidden }),
            EventData::PromptShown(PromptRef { prompt: "p".into() }),
            EventData::PromptAccepted(PromptRef { prompt: "p".into() }),
            EventData::PromptDismissed(PromptRef { prompt: "p".into() }),
            EventData::QuestionAnswered(QuestionAnswered { prompt: "p".into(), question: "q".into(), answer: "a".into() }),
            EventData::Track(Track { name: "t".into(), props: [("k".to_owned(), "v".to_owned())].into() }),
            EventData::Identify(Identify { email: Some("a@b.example".into()), ..Identify::default() }),
            EventData::Consent(Consent { granted: false }),
            EventData::ChatOpened,
        ];
        let events = data.into_iter().enumerate().map(|(i, data)| Event { id: format!("{i:032x}"), at: 7, data }).collect();
        EventBatch { v: EVENT_BATCH_VERSION, site: "demo".into(), visitor: "v".repeat(32), session: "s".repeat(32), events }
    }

    #[test]
    fn every_event_type_survives_the_wire() {
        let batch = every_event_type();
        assert_eq!(decode::<EventBatch>(&encode(&batch)), Some(batch));
        assert_eq!(decode::<EventData>(&[crate::base::wire::VERSION, 12]), None, "an unknown event type");
    }

    #[test]
    fn a_stored_session_survives_the_text_form_without_its_page_state() {
        use crate::base::wire::{from_text, to_text};
        use crate::visitor::session::{PromptAnswer, PromptRecord, Session};
        let mut session = Session::new();
        session.visits = 2;
        session.recent_pages = vec!["https://shop.example/p/orsa".into()];
        session.current_page = Some("https://shop.example/p/orsa".into());
        session.answers = vec![PromptAnswer { prompt: "child_age".into(), answer: Answer { question: "age".into(), answer: "0-1".into() }, at: 9 }];
        session.prompt_history = vec![PromptRecord { prompt: "child_age".into(), shown: 1, last_shown_at: Some(8), dismissed_at: None, accepted_at: Some(9) }];
        session.visible_prompt = Some("child_age".into());
        let stored = session.clone();
        session.chat_open = true;
        session.typing_in_form = true;
        session.prompt_touched = true;
        assert_eq!(from_text::<Session>(&to_text(&session)), Some(stored));
    }

    /// Open tabs send batches in this form across a release, and batches of versions back to
    /// `OLDEST_BATCH_VERSION` are read as they stand: a change of the batch's layout must raise
    /// that version and re-pin this.
    #[test]
    fn the_event_batch_layout_is_pinned_and_older_versions_still_read() {
        use super::OLDEST_BATCH_VERSION;
        let batch = every_event_type();
        let mut bytes = encode(&batch);
        let digest = crate::base::crypto::base64_encode(&crate::base::crypto::sha256(&bytes[1..]));
        assert_eq!(OLDEST_BATCH_VERSION, 2, "a new oldest version: pin the batch's digest here");
        assert_eq!(digest, "UgY5M/1kT/Dtkp/+RssczP7ibSZlumItoCnfaVUxawA=", "the event batch's layout changed: raise OLDEST_BATCH_VERSION");
        bytes[0] = OLDEST_BATCH_VERSION;
        assert_eq!(EventBatch::from_wire(&bytes), Some(batch.clone()));
        bytes[0] = OLDEST_BATCH_VERSION - 1;
        assert_eq!(EventBatch::from_wire(&bytes), None);
    }

    /// Visitors' browsers keep their session in this form across releases, and text written
    /// back to `base::wire::OLDEST_TEXT_VERSION` is read as it stands: a change of the session's
    /// layout must raise that version (its history is then lost once) and re-pin this.
    #[test]
    fn the_stored_session_layout_is_pinned() {
        use crate::base::wire::OLDEST_TEXT_VERSION;
        let mut session = Session::new();
        session.visits = 2;
        session.recent_pages = vec!["https://shop.example/".into()];
        session.prompt_history = vec![PromptRecord { prompt: "callback".into(), shown: 1, last_shown_at: Some(8), dismissed_at: Some(9), accepted_at: None }];
        let body = &encode(&session)[1..];
        let digest = crate::base::crypto::base64_encode(&crate::base::crypto::sha256(body));
        assert_eq!(OLDEST_TEXT_VERSION, 2, "a new oldest version: pin the session's digest here");
        assert_eq!(digest, "DyS+Z06D9C/Bdv5eFOt/dnGhcUiOS+eJwuLwAxvN5Oo=", "the session's layout changed: raise base::wire::OLDEST_TEXT_VERSION");
    }
}
