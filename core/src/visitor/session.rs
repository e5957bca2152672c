//! The visitor's accumulated state on one site, and how events fold into it.
//!
//! The widget keeps a [`Session`] in first-party storage across page loads, so every list in it is
//! bounded: a visitor who browses all day must not grow storage without limit. Time comes only from
//! the events themselves (`Event::at`), which keeps [`Session::apply`] deterministic.

use serde::{Deserialize, Serialize};

use crate::base::locale::Locale;
use crate::base::text::{truncate_chars, MAX_CATEGORY_LEN, MAX_PRODUCT_ID_LEN, MAX_PRODUCT_NAME_LEN, MAX_URL_LEN};
use crate::base::url::{host_of, query_param, without_fragment};
use crate::visitor::context::{Answer, Product, Touch, ViewedProduct, VisitorContext};
use crate::visitor::event::{Event, EventData, PageView, PromptRef, QuestionAnswered};

/// Inactivity after which the next event starts a new visit (the analytics industry's convention).
pub const VISIT_TIMEOUT_MS: u64 = 30 * 60 * 1000;
/// Distinct products remembered; the least recently viewed is forgotten first.
pub const MAX_PRODUCTS: usize = 50;
/// Recent page URLs remembered.
pub const MAX_RECENT_PAGES: usize = 20;
/// Answers remembered (one per question prompt).
pub const MAX_ANSWERS: usize = 20;
/// Prompts with a remembered history; the least recently shown is forgotten first.
pub const MAX_PROMPT_HISTORY: usize = 32;
/// Prompt ids remembered as shown in the current visit.
pub const MAX_VISIT_PROMPTS: usize = 16;
/// Products and pages handed on in a [`VisitorContext`]: enough for an operator or a CRM card.
pub const MAX_CONTEXT_PRODUCTS: usize = 20;
pub const MAX_CONTEXT_PAGES: usize = 10;
/// Answers handed on in a [`VisitorContext`], the most recent; a lead accepts no more than this.
pub const MAX_CONTEXT_ANSWERS: usize = 10;
/// Longest attribution value kept (a utm tag, a click id).
pub const MAX_TOUCH_VALUE_LEN: usize = 256;
/// The storage format written by this build; a different one is discarded by [`Session::from_storage`].
pub const SESSION_FORMAT_VERSION: u32 = 1;

/// What the site knows about one visitor, across visits.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[serde(default)]
pub struct Session {
    /// Storage format, [`SESSION_FORMAT_VERSION`].
    pub v: u32,
    /// Visits so far; `> 1` means a returning visitor.
    pub visits: u32,
    /// When the current visit started (ms since the epoch, visitor's clock).
    pub visit_started_at: u64,
    /// The latest event time seen; the gap to the next event decides whether a new visit starts.
    pub last_event_at: u64,
    /// Page views across all visits.
    pub pages_viewed: u32,
    /// Page views in the current visit: what prompt conditions use.
    pub visit_pages_viewed: u32,
    /// Most recent last.
    pub recent_pages: Vec<String>,
    /// The page of the current visit's last page view (without fragment), to ignore SPA
    /// `replaceState` repeats of the same URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_page: Option<String>,
    /// Distinct products by id, most recently viewed last.
    pub products: Vec<ViewedProduct>,
    /// Active seconds across all visits.
    pub active_seconds: u32,
    /// Active seconds in the current visit: what prompt conditions and the dwell guardrail use.
    pub visit_active_seconds: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_touch: Option<Touch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_touch: Option<Touch>,
    pub answers: Vec<PromptAnswer>,
    pub prompt_history: Vec<PromptRecord>,
    /// Prompt ids shown in the current visit, in order.
    pub visit_prompts: Vec<String>,
    /// The prompt on screen now, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visible_prompt: Option<String>,
    /// Transient page state, set by the widget and never stored: a reload starts with the chat
    /// closed and no form focused.
    #[serde(skip)]
    pub chat_open: bool,
    #[serde(skip)]
    pub typing_in_form: bool,
}

/// The answer to a question prompt, remembered under the prompt's id so rules can refer to it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PromptAnswer {
    pub prompt: String,
    #[serde(flatten)]
    pub answer: Answer,
    pub at: u64,
}

/// Everything that happened to one prompt for this visitor.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PromptRecord {
    pub prompt: String,
    pub shown: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_shown_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dismissed_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<u64>,
}

impl PromptRecord {
    fn new(prompt: &str) -> Self {
        PromptRecord { prompt: prompt.to_owned(), shown: 0, last_shown_at: None, dismissed_at: None, accepted_at: None }
    }

    fn last_activity(&self) -> u64 {
        [self.last_shown_at, self.dismissed_at, self.accepted_at].into_iter().flatten().max().unwrap_or(0)
    }
}

impl Session {
    pub fn new() -> Self {
        Session { v: SESSION_FORMAT_VERSION, ..Session::default() }
    }

    /// Reads a stored session; anything unreadable or from another format version yields a fresh
    /// session, because a visitor must never see a broken widget over stale storage.
    pub fn from_storage(stored: Session) -> Self {
        if stored.v == SESSION_FORMAT_VERSION {
            let mut session = stored;
            session.enforce_bounds();
            session
        } else {
            Session::new()
        }
    }

    /// Folds one event into the session. Events are applied in the order the widget observed them;
    /// an event stamped earlier than the last one (clock adjustments) never moves time backwards.
    pub fn apply(&mut self, event: &Event) {
        self.v = SESSION_FORMAT_VERSION;
        self.note_activity(event.at);
        let at = self.last_event_at;
        match &event.data {
            EventData::PageView(view) => self.apply_page_view(view, at),
            EventData::ProductView(view) => self.apply_product_view(&view.product, at),
            EventData::ActiveTime(active) => {
                self.active_seconds = self.active_seconds.saturating_add(active.seconds);
                self.visit_active_seconds = self.visit_active_seconds.saturating_add(active.seconds);
            }
            EventData::PromptShown(PromptRef { prompt }) => {
                let record = self.record_mut(prompt);
                record.shown = record.shown.saturating_add(1);
                record.last_shown_at = Some(at);
                if !self.visit_prompts.contains(prompt) {
                    self.visit_prompts.push(prompt.clone());
                    keep_last(&mut self.visit_prompts, MAX_VISIT_PROMPTS);
                }
                self.visible_prompt = Some(prompt.clone());
            }
            EventData::PromptDismissed(PromptRef { prompt }) => {
                self.record_mut(prompt).dismissed_at = Some(at);
                self.hide_prompt(prompt);
            }
            EventData::PromptAccepted(PromptRef { prompt }) => self.accept(prompt, at),
            EventData::QuestionAnswered(answered) => self.apply_answer(answered, at),
            // Exit intent reaches the rules through `EvalInput` at the moment it happens; the others
            // matter to the server and the CRM, not to when the widget speaks up.
            EventData::ExitIntent(_)
            | EventData::Track(_)
            | EventData::Identify(_)
            | EventData::Consent(_)
            | EventData::ChatOpened => {}
        }
    }

    /// The widget reports that its chat panel opened or closed.
    pub fn set_chat_open(&mut self, open: bool) {
        self.chat_open = open;
    }

    /// The widget reports that a host-page form field gained or lost focus.
    pub fn set_typing_in_form(&mut self, typing: bool) {
        self.typing_in_form = typing;
    }

    pub fn is_returning(&self) -> bool {
        self.visits > 1
    }

    /// Whether the current visit is over: the next event will start a new one.
    pub fn visit_expired(&self, now: u64) -> bool {
        self.visits == 0 || now.saturating_sub(self.last_event_at) > VISIT_TIMEOUT_MS
    }

    /// Total product views, repeats included.
    pub fn product_views(&self) -> u32 {
        self.products.iter().fold(0u32, |sum, viewed| sum.saturating_add(viewed.views))
    }

    /// Views of the product looked at most often: `>= 2` means the visitor came back to one.
    pub fn most_views_of_one_product(&self) -> u32 {
        self.products.iter().map(|viewed| viewed.views).max().unwrap_or(0)
    }

    pub fn prompt_record(&self, prompt: &str) -> Option<&PromptRecord> {
        self.prompt_history.iter().find(|record| record.prompt == prompt)
    }

    /// The chosen value of question prompt `prompt`, if answered.
    pub fn answer_to(&self, prompt: &str) -> Option<&str> {
        self.answers.iter().find(|answer| answer.prompt == prompt).map(|answer| answer.answer.answer.as_str())
    }

    pub fn shown_this_visit(&self, prompt: &str) -> bool {
        self.visit_prompts.iter().any(|shown| shown == prompt)
    }

    /// The summary handed to operators, leads and the CRM.
    pub fn context(&self, locale: Locale, page_url: &str) -> VisitorContext {
        let skip_pages = self.recent_pages.len().saturating_sub(MAX_CONTEXT_PAGES);
        let skip_products = self.products.len().saturating_sub(MAX_CONTEXT_PRODUCTS);
        let skip_answers = self.answers.len().saturating_sub(MAX_CONTEXT_ANSWERS);
        VisitorContext {
            first_touch: self.first_touch.clone(),
            last_touch: self.last_touch.clone(),
            pages_viewed: self.pages_viewed,
            recent_pages: self.recent_pages[skip_pages..].to_vec(),
            products: self.products[skip_products..].to_vec(),
            active_seconds: self.active_seconds,
            answers: self.answers[skip_answers..].iter().map(|answer| answer.answer.clone()).collect(),
            returning: self.is_returning(),
            locale,
            page_url: truncate_chars(page_url, MAX_URL_LEN),
        }
    }

    fn note_activity(&mut self, at: u64) {
        if self.visit_expired(at) {
            self.visits = self.visits.saturating_add(1);
            self.visit_started_at = at;
            self.visit_active_seconds = 0;
            self.visit_pages_viewed = 0;
            self.visit_prompts.clear();
            self.visible_prompt = None;
            self.current_page = None;
        }
        self.last_event_at = self.last_event_at.max(at);
    }

    fn apply_page_view(&mut self, view: &PageView, at: u64) {
        let page = truncate_chars(without_fragment(&view.url), MAX_URL_LEN);
        if self.current_page.as_deref() == Some(page.as_str()) {
            return;
        }
        self.current_page = Some(page.clone());
        self.pages_viewed = self.pages_viewed.saturating_add(1);
        self.visit_pages_viewed = self.visit_pages_viewed.saturating_add(1);
        self.recent_pages.push(page);
        keep_last(&mut self.recent_pages, MAX_RECENT_PAGES);
        // A prompt card does not follow the visitor to the next page: moving on is an answer too.
        self.visible_prompt = None;
        let touch = touch_from_page_view(view, at);
        if self.first_touch.is_none() {
            self.first_touch = Some(touch.clone());
        }
        if self.last_touch.is_none() || touch_is_attributed(&touch) {
            self.last_touch = Some(touch);
        }
    }

    fn apply_product_view(&mut self, product: &Product, at: u64) {
        let product = bounded_product(product);
        let views = match self.products.iter().position(|viewed| viewed.product.id == product.id) {
            Some(index) => self.products.remove(index).views.saturating_add(1),
            None => 1,
        };
        // Re-inserted at the end: the freshest price and name win, and eviction drops the stalest.
        self.products.push(ViewedProduct { product, views, last_viewed_at: at });
        keep_last(&mut self.products, MAX_PRODUCTS);
    }

    fn apply_answer(&mut self, answered: &QuestionAnswered, at: u64) {
        let answer = Answer {
            question: truncate_chars(&answered.question, crate::visitor::event::MAX_QUESTION_LEN),
            answer: truncate_chars(&answered.answer, crate::visitor::event::MAX_ANSWER_LEN),
        };
        self.answers.retain(|existing| existing.prompt != answered.prompt);
        self.answers.push(PromptAnswer { prompt: answered.prompt.clone(), answer, at });
        keep_last(&mut self.answers, MAX_ANSWERS);
        // Answering is the question prompt's acceptance: it must never be asked again.
        self.accept(&answered.prompt, at);
    }

    fn accept(&mut self, prompt: &str, at: u64) {
        self.record_mut(prompt).accepted_at = Some(at);
        self.hide_prompt(prompt);
    }

    fn hide_prompt(&mut self, prompt: &str) {
        if self.visible_prompt.as_deref() == Some(prompt) {
            self.visible_prompt = None;
        }
    }

    fn record_mut(&mut self, prompt: &str) -> &mut PromptRecord {
        let index = match self.prompt_history.iter().position(|record| record.prompt == prompt) {
            Some(index) => index,
            None => {
                if self.prompt_history.len() >= MAX_PROMPT_HISTORY {
                    // Forget the prompt touched longest ago; a config rarely has more than a few.
                    if let Some(stalest) = (0..self.prompt_history.len())
                        .min_by_key(|&i| self.prompt_history[i].last_activity())
                    {
                        self.prompt_history.remove(stalest);
                    }
                }
                self.prompt_history.push(PromptRecord::new(prompt));
                self.prompt_history.len() - 1
            }
        };
        &mut self.prompt_history[index]
    }

    /// Re-applies the bounds to a session read from storage, which anyone with devtools can edit.
    fn enforce_bounds(&mut self) {
        keep_last(&mut self.recent_pages, MAX_RECENT_PAGES);
        keep_last(&mut self.products, MAX_PRODUCTS);
        keep_last(&mut self.answers, MAX_ANSWERS);
        keep_last(&mut self.prompt_history, MAX_PROMPT_HISTORY);
        keep_last(&mut self.visit_prompts, MAX_VISIT_PROMPTS);
    }
}

fn keep_last<T>(list: &mut Vec<T>, max: usize) {
    if list.len() > max {
        list.drain(..list.len() - max);
    }
}

fn bounded_product(product: &Product) -> Product {
    let bound_url = |url: &Option<String>| url.as_deref().map(|url| truncate_chars(url, MAX_URL_LEN));
    Product {
        id: truncate_chars(&product.id, MAX_PRODUCT_ID_LEN),
        name: truncate_chars(&product.name, MAX_PRODUCT_NAME_LEN),
        price: product.price,
        image: bound_url(&product.image),
        url: bound_url(&product.url),
        category: product.category.as_deref().map(|category| truncate_chars(category, MAX_CATEGORY_LEN)),
    }
}

/// The attribution a page view carries: campaign parameters from its URL and the referrer when it
/// is another site. Internal referrers (navigation within the shop) are dropped, so a touch with no
/// fields but the landing page is a direct visit.
pub fn touch_from_page_view(view: &PageView, at: u64) -> Touch {
    let param = |name: &str| query_param(&view.url, name).map(|value| truncate_chars(&value, MAX_TOUCH_VALUE_LEN));
    let referrer = view
        .referrer
        .as_deref()
        .filter(|referrer| is_external_referrer(referrer, &view.url))
        .map(|referrer| truncate_chars(referrer, MAX_URL_LEN));
    Touch {
        utm_source: param("utm_source"),
        utm_medium: param("utm_medium"),
        utm_campaign: param("utm_campaign"),
        utm_content: param("utm_content"),
        utm_term: param("utm_term"),
        gclid: param("gclid"),
        yclid: param("yclid"),
        referrer,
        landing_page: truncate_chars(&view.url, MAX_URL_LEN),
        at,
    }
}

/// Whether a touch says where the visitor came from (campaign tags, a click id or another site),
/// as opposed to a direct visit or a click inside the shop.
pub fn touch_is_attributed(touch: &Touch) -> bool {
    [
        &touch.utm_source,
        &touch.utm_medium,
        &touch.utm_campaign,
        &touch.utm_content,
        &touch.utm_term,
        &touch.gclid,
        &touch.yclid,
        &touch.referrer,
    ]
    .iter()
    .any(|value| value.is_some())
}

/// A referrer on another host than the page. `www.` is ignored so that `www.shop.ru` → `shop.ru`
/// counts as internal navigation, not as a new campaign.
pub fn is_external_referrer(referrer: &str, page_url: &str) -> bool {
    let strip_www = |host: String| host.strip_prefix("www.").map(str::to_owned).unwrap_or(host);
    match (host_of(referrer), host_of(page_url)) {
        (Some(referrer_host), Some(page_host)) => strip_www(referrer_host) != strip_www(page_host),
        (Some(_), None) => true,
        (None, _) => false,
    }
}

#[cfg(test)]
mod tests {
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
}
