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
    /// Whether the visitor has touched the card on screen (focus, tap, typing): a card in use
    /// never gives way to another. Transient like the two above; a new card starts untouched.
    #[serde(skip)]
    pub prompt_touched: bool,
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
                self.prompt_touched = false;
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

    /// The widget reports that the visitor touched the card on screen.
    pub fn set_prompt_touched(&mut self, touched: bool) {
        self.prompt_touched = touched;
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
            page_titles: Vec::new(),
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
        suits_age: product.suits_age,
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
mod tests;
