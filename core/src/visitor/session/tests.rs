use super::*;
use crate::base::money::{Currency, Money};
use crate::visitor::event::{ActiveTime, ProductView};

const T0: u64 = 1_790_000_000_000;

fn event(at: u64, data: EventData) -> Event {
    Event { id: "evt00000001".into(), at, data }
}

fn page(at: u64, url: &str, referrer: Option<&str>) -> Event {
    event(
        at,
        EventData::PageView(PageView { url: url.into(), title: String::new(), referrer: referrer.map(Into::into) }),
    )
}

fn product_view(at: u64, id: &str, price: i64) -> Event {
    event(
        at,
        EventData::ProductView(ProductView {
            product: Product {
                id: id.into(),
                name: format!("Товар {id}"),
                price: Some(Money { minor: price, currency: Currency::RUB }),
                image: None,
                url: None,
                category: Some("strollers".into()),
                suits_age: None,
            },
        }),
    )
}

fn prompt_event(at: u64, make: fn(PromptRef) -> EventData, prompt: &str) -> Event {
    event(at, make(PromptRef { prompt: prompt.into() }))
}

#[test]
fn touch_parsing_reads_campaign_tags_and_click_ids() {
    let view = PageView {
        url: "https://shop.ru/catalog/?utm_source=yandex&utm_medium=cpc&utm_campaign=%D0%BA%D0%BE%D0%BB%D1%8F%D1%81%D0%BA%D0%B8&utm_content=banner+1&utm_term=%D0%B0%D0%B2%D1%82%D0%BE%D0%BA%D1%80%D0%B5%D1%81%D0%BB%D0%BE&yclid=123&gclid=abc#x".into(),
        title: String::new(),
        referrer: Some("https://yandex.ru/search/?text=x".into()),
    };
    let touch = touch_from_page_view(&view, T0);
    assert_eq!(touch.utm_source.as_deref(), Some("yandex"));
    assert_eq!(touch.utm_medium.as_deref(), Some("cpc"));
    assert_eq!(touch.utm_campaign.as_deref(), Some("коляски"));
    assert_eq!(touch.utm_content.as_deref(), Some("banner 1"));
    assert_eq!(touch.utm_term.as_deref(), Some("автокресло"));
    assert_eq!(touch.yclid.as_deref(), Some("123"));
    assert_eq!(touch.gclid.as_deref(), Some("abc"));
    assert_eq!(touch.referrer.as_deref(), Some("https://yandex.ru/search/?text=x"));
    assert_eq!(touch.at, T0);
    assert!(touch_is_attributed(&touch));
}

#[test]
fn internal_referrers_are_not_sources() {
    assert!(!is_external_referrer("https://shop.ru/catalog/", "https://shop.ru/product/x/"));
    assert!(!is_external_referrer("https://www.shop.ru/", "https://SHOP.ru/product/x/"));
    assert!(!is_external_referrer("", "https://shop.ru/"));
    assert!(is_external_referrer("https://google.com/", "https://shop.ru/"));
    assert!(is_external_referrer("android-app://com.google.android.gm/", "https://shop.ru/"));
    assert!(is_external_referrer("https://shop.ru.evil.com/", "https://shop.ru/"));
    let internal =
        PageView { url: "https://shop.ru/b".into(), title: String::new(), referrer: Some("https://shop.ru/a".into()) };
    let touch = touch_from_page_view(&internal, T0);
    assert_eq!(touch.referrer, None);
    assert!(!touch_is_attributed(&touch));
}

#[test]
fn first_touch_stays_and_last_touch_moves_only_on_attributed_visits() {
    let mut session = Session::new();
    session.apply(&page(T0, "https://shop.ru/?utm_source=vk&utm_campaign=spring", None));
    session.apply(&page(T0 + 1_000, "https://shop.ru/catalog/", Some("https://shop.ru/")));
    assert_eq!(session.last_touch.as_ref().and_then(|t| t.utm_source.as_deref()), Some("vk"));

    // A direct visit the next day does not overwrite the campaign that brought them.
    session.apply(&page(T0 + 86_400_000, "https://shop.ru/", None));
    assert_eq!(session.last_touch.as_ref().and_then(|t| t.utm_source.as_deref()), Some("vk"));

    session.apply(&page(T0 + 2 * 86_400_000, "https://shop.ru/p/1", Some("https://www.google.com/")));
    assert_eq!(session.first_touch.as_ref().and_then(|t| t.utm_campaign.as_deref()), Some("spring"));
    let last = session.last_touch.as_ref().unwrap();
    assert_eq!(last.referrer.as_deref(), Some("https://www.google.com/"));
    assert_eq!(last.utm_source, None);
    assert_eq!(last.landing_page, "https://shop.ru/p/1");
}

#[test]
fn a_direct_first_visit_still_records_the_landing_page() {
    let mut session = Session::new();
    session.apply(&page(T0, "https://shop.ru/product/x/", None));
    let first = session.first_touch.as_ref().unwrap();
    assert_eq!(first.landing_page, "https://shop.ru/product/x/");
    assert!(!touch_is_attributed(first));
    session.apply(&page(T0 + 1_000, "https://shop.ru/?gclid=g1", None));
    assert_eq!(session.last_touch.as_ref().and_then(|t| t.gclid.as_deref()), Some("g1"));
    assert_eq!(session.first_touch.as_ref().map(|t| t.landing_page.as_str()), Some("https://shop.ru/product/x/"));
}

#[test]
fn page_views_ignore_consecutive_repeats_of_the_same_url() {
    let mut session = Session::new();
    session.apply(&page(T0, "https://shop.ru/a", None));
    session.apply(&page(T0 + 10, "https://shop.ru/a", None));
    session.apply(&page(T0 + 20, "https://shop.ru/a#reviews", None));
    session.apply(&page(T0 + 30, "https://shop.ru/b", None));
    session.apply(&page(T0 + 40, "https://shop.ru/a", None));
    assert_eq!(session.pages_viewed, 3);
    assert_eq!(session.recent_pages, ["https://shop.ru/a", "https://shop.ru/b", "https://shop.ru/a"]);
    // The same page in a new visit is a new page view.
    assert_eq!(session.visit_pages_viewed, 3);
    session.apply(&page(T0 + 40 + VISIT_TIMEOUT_MS + 1, "https://shop.ru/a", None));
    assert_eq!((session.pages_viewed, session.visit_pages_viewed), (4, 1));
}

#[test]
fn products_are_distinct_by_id_with_view_counts_and_fresh_prices() {
    let mut session = Session::new();
    session.apply(&product_view(T0, "a", 100));
    session.apply(&product_view(T0 + 1, "b", 200));
    session.apply(&product_view(T0 + 2, "a", 90));
    assert_eq!(session.products.len(), 2);
    assert_eq!(session.product_views(), 3);
    assert_eq!(session.most_views_of_one_product(), 2);
    let last = session.products.last().unwrap();
    assert_eq!((last.product.id.as_str(), last.views, last.last_viewed_at), ("a", 2, T0 + 2));
    assert_eq!(last.product.price.unwrap().minor, 90);
}

#[test]
fn visits_and_active_time() {
    let mut session = Session::new();
    assert!(session.visit_expired(T0));
    session.apply(&page(T0, "https://shop.ru/", None));
    session.apply(&event(T0 + 15_000, EventData::ActiveTime(ActiveTime { seconds: 15 })));
    session.apply(&event(T0 + 30_000, EventData::ActiveTime(ActiveTime { seconds: 10 })));
    assert_eq!((session.visits, session.active_seconds, session.visit_active_seconds), (1, 25, 25));
    assert!(!session.is_returning());
    // Just under 30 minutes of silence keeps the visit going.
    session.apply(&event(T0 + 30_000 + VISIT_TIMEOUT_MS, EventData::ActiveTime(ActiveTime { seconds: 5 })));
    assert_eq!(session.visits, 1);
    let later = T0 + 30_000 + 2 * VISIT_TIMEOUT_MS + 1;
    session.apply(&page(later, "https://shop.ru/", None));
    assert_eq!((session.visits, session.visit_started_at), (2, later));
    assert_eq!((session.active_seconds, session.visit_active_seconds), (30, 0));
    assert!(session.is_returning());
}

#[test]
fn an_event_from_the_past_does_not_rewind_time() {
    let mut session = Session::new();
    session.apply(&page(T0, "https://shop.ru/", None));
    session.apply(&page(T0 - 60_000, "https://shop.ru/a", None));
    assert_eq!((session.visits, session.last_event_at), (1, T0));
}

#[test]
fn prompt_history_and_visibility() {
    let mut session = Session::new();
    session.apply(&page(T0, "https://shop.ru/", None));
    session.apply(&prompt_event(T0 + 1, EventData::PromptShown, "callback"));
    assert_eq!(session.visible_prompt.as_deref(), Some("callback"));
    assert!(session.shown_this_visit("callback"));
    session.apply(&prompt_event(T0 + 2, EventData::PromptDismissed, "callback"));
    assert_eq!(session.visible_prompt, None);
    let record = session.prompt_record("callback").unwrap();
    assert_eq!((record.shown, record.last_shown_at, record.dismissed_at), (1, Some(T0 + 1), Some(T0 + 2)));

    session.apply(&prompt_event(T0 + 3, EventData::PromptShown, "compare"));
    session.apply(&page(T0 + 4, "https://shop.ru/next", None));
    assert_eq!(session.visible_prompt, None, "navigation closes the card");

    session.apply(&event(
        T0 + 5,
        EventData::QuestionAnswered(QuestionAnswered {
            prompt: "child_age".into(),
            question: "Сколько лет ребёнку?".into(),
            answer: "1-4".into(),
        }),
    ));
    assert_eq!(session.answer_to("child_age"), Some("1-4"));
    assert_eq!(session.prompt_record("child_age").and_then(|r| r.accepted_at), Some(T0 + 5));
    assert_eq!(session.visit_prompts, ["callback", "compare"]);
}

#[test]
fn transient_flags_are_not_stored() {
    let mut session = Session::new();
    session.set_chat_open(true);
    session.set_typing_in_form(true);
    let json = serde_json::to_string(&session).unwrap();
    let back: Session = serde_json::from_str(&json).unwrap();
    assert!(!back.chat_open && !back.typing_in_form);
}

#[test]
fn storage_round_trip_and_stale_formats() {
    let mut session = Session::new();
    session.apply(&page(T0, "https://shop.ru/?utm_source=vk", None));
    session.apply(&product_view(T0 + 1, "a", 100));
    let stored: Session = serde_json::from_str(&serde_json::to_string(&session).unwrap()).unwrap();
    assert_eq!(Session::from_storage(stored), session);
    let old: Session = serde_json::from_str(r#"{"v":0,"visits":9}"#).unwrap();
    assert_eq!(Session::from_storage(old), Session::new());
    let empty: Session = serde_json::from_str("{}").unwrap();
    assert_eq!(empty.visits, 0);
}

#[test]
fn every_list_is_bounded() {
    let mut session = Session::new();
    for i in 0..500u64 {
        let at = T0 + i * 1_000;
        session.apply(&page(at, &format!("https://shop.ru/p/{i}?utm_source=s{i}"), Some("https://ya.ru/")));
        session.apply(&product_view(at, &format!("sku-{i}"), 100));
        session.apply(&prompt_event(at, EventData::PromptShown, &format!("prompt-{i}")));
        session.apply(&event(
            at,
            EventData::QuestionAnswered(QuestionAnswered {
                prompt: format!("q-{i}"),
                question: "?".into(),
                answer: "a".into(),
            }),
        ));
    }
    assert_eq!(session.recent_pages.len(), MAX_RECENT_PAGES);
    assert_eq!(session.products.len(), MAX_PRODUCTS);
    assert_eq!(session.products.last().map(|p| p.product.id.as_str()), Some("sku-499"));
    assert_eq!(session.answers.len(), MAX_ANSWERS);
    assert_eq!(session.prompt_history.len(), MAX_PROMPT_HISTORY);
    assert_eq!(session.visit_prompts.len(), MAX_VISIT_PROMPTS);
    assert_eq!(session.pages_viewed, 500);
    assert!(serde_json::to_string(&session).unwrap().len() < 64 * 1024);

    let context = session.context(Locale::Ru, "https://shop.ru/p/499");
    assert_eq!(context.recent_pages.len(), MAX_CONTEXT_PAGES);
    assert_eq!(context.products.len(), MAX_CONTEXT_PRODUCTS);
    assert_eq!(context.answers.len(), MAX_CONTEXT_ANSWERS);
    assert_eq!(context.products.last().map(|p| p.product.id.as_str()), Some("sku-499"));
    assert_eq!(context.pages_viewed, 500);
}

#[test]
fn context_summarises_the_session() {
    let mut session = Session::new();
    session.apply(&page(T0, "https://shop.ru/?utm_source=vk", None));
    session.apply(&product_view(T0 + 1, "a", 100));
    session.apply(&event(T0 + 2, EventData::ActiveTime(ActiveTime { seconds: 42 })));
    let context = session.context(Locale::En, "https://shop.ru/p/a");
    assert_eq!(context.pages_viewed, 1);
    assert_eq!(context.active_seconds, 42);
    assert_eq!(context.products.len(), 1);
    assert!(!context.returning);
    assert_eq!(context.locale, Locale::En);
    assert_eq!(context.page_url, "https://shop.ru/p/a");
    assert_eq!(context.first_touch.and_then(|t| t.utm_source).as_deref(), Some("vk"));
}
