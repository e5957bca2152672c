//! The prompt engine: which prompt, if any, the widget shows now.
//!
//! Pure and deterministic: everything time-dependent arrives in [`EvalInput`] (the adapter's clock,
//! and the site-local weekday and minute the browser computes with `Intl`, so core needs no time-zone
//! database). Site owners write declarative [`Condition`]s; the guardrails below hold whatever a
//! config says, because a widget that nags costs the shop more than a missed lead.
//!
//! Guardrails, in the order they are checked:
//! - nothing on an excluded path, while the chat is open, or while the visitor types in a page form;
//! - one prompt on screen at a time;
//! - no prompt before the minimum dwell: the current visit must have lasted that long by the clock
//!   **and** the visitor must have been active that long. Both, because wall time alone counts a tab
//!   left in the background, and active time alone trusts a single timer in the page;
//! - at most N prompts per visit, each prompt at most once per visit;
//! - an accepted (or answered) prompt never again; a dismissed one not within its cooldown;
//! - a callback offer never before [`CALLBACK_MIN_ACTIVE_SECONDS`] of active time this visit, and a
//!   comparison never with fewer than two distinct products to compare.

use serde::{Deserialize, Serialize};

use crate::base::locale::{Locale, Weekday};
use crate::base::money::Currency;
use crate::base::url::{glob, path_of};
use crate::prompts::config::{PromptDefinition, PromptKind, WidgetConfig};
use crate::visitor::session::Session;

/// The shortest dwell any config can ask for: "never a pop-up 20 seconds after arrival".
pub const MIN_DWELL_FLOOR_SECONDS: u32 = 30;
/// The most prompts one visit can see, whatever the config says.
pub const MAX_PROMPTS_PER_VISIT_CEILING: u32 = 3;
/// The shortest cooldown after a dismissal, whatever the config says.
pub const MIN_COOLDOWN_DAYS: u32 = 1;
/// A callback offer needs this much active time in the visit: it is for people who are clearly
/// choosing, not for someone who just arrived.
pub const CALLBACK_MIN_ACTIVE_SECONDS: u32 = 300;
/// A comparison needs something to compare.
pub const COMPARISON_MIN_DISTINCT_PRODUCTS: usize = 2;
const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// A declarative condition over the session and the moment, as written in the site config.
/// Externally tagged in `snake_case`: `{"all":[...]}`, `{"pages_at_least":3}`, `"exit_intent"`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
    /// Product views in total, repeats included (all visits).
    ProductsViewedAtLeast(u32),
    /// Distinct products viewed (all visits).
    DistinctProductsAtLeast(u32),
    /// Some single product viewed at least this often: the visitor keeps coming back to it.
    SameProductViewedAtLeast(u32),
    /// Some viewed product is in this category (case-insensitive).
    ProductCategory(String),
    /// Some viewed product has a price in this range.
    PriceBetween(PriceRange),
    /// Active seconds in the current visit.
    ActiveSecondsAtLeast(u32),
    /// Pages viewed in the current visit.
    PagesAtLeast(u32),
    /// The widget has just detected that the visitor is about to leave.
    ExitIntent,
    /// The current page's path matches this glob (`*` within a segment, `**` across segments).
    UrlMatches(String),
    ReturningVisitor,
    OperatorOnline,
    WithinBusinessHours,
    Locale(Locale),
    /// The visitor answered question prompt `prompt` with choice `is`.
    Answer(AnswerIs),
}

impl Condition {
    /// Whether the condition reads anything for which `pred` holds, at any depth.
    pub fn mentions(&self, pred: &impl Fn(&Condition) -> bool) -> bool {
        pred(self)
            || match self {
                Condition::All(parts) | Condition::Any(parts) => parts.iter().any(|part| part.mentions(pred)),
                Condition::Not(inner) => inner.mentions(pred),
                _ => false,
            }
    }
}

/// Inclusive bounds in minor units (kopecks). Products without a price never match; with a
/// `currency`, only products priced in it do.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PriceRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AnswerIs {
    pub prompt: String,
    pub is: String,
}

/// What the adapter knows at the moment it asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalInput {
    /// Milliseconds since the Unix epoch, on the same clock as the events' `at`.
    pub now: u64,
    /// Site-local weekday and minute of the day (0–1439) in the config's `timezone`.
    pub weekday: Weekday,
    pub minute_of_day: u16,
    /// The page the visitor is on.
    pub page_url: String,
    pub locale: Locale,
    pub operator_online: bool,
    /// Exit intent was detected just now (this evaluation is its reaction).
    pub exit_intent: bool,
}

/// Which copy a prompt shows: a callback promises a call within minutes only when someone can make it.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CopyVariant {
    Regular,
    AfterHours,
}

/// The engine's answer.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Show { prompt: String, variant: CopyVariant },
    Hold(HoldReason),
}

impl Decision {
    pub fn prompt(&self) -> Option<&str> {
        match self {
            Decision::Show { prompt, .. } => Some(prompt),
            Decision::Hold(_) => None,
        }
    }
}

/// Why nothing is shown now.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    ExcludedPath,
    ChatOpen,
    TypingInForm,
    PromptVisible,
    /// The visit has not lasted long enough (or has ended: the next event starts a new one).
    DwellTooShort,
    VisitCapReached,
    /// Every prompt is held back by its own verdict (see [`explain`]).
    NothingEligible,
}

/// One prompt's standing at the moment, for debugging and tests.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PromptVerdict {
    Eligible,
    Accepted,
    CoolingDown { until: u64 },
    ShownThisVisit,
    CallbackTooEarly,
    NothingToCompare,
    ConditionNotMet,
}

/// Picks the prompt to show now: the first eligible one in config order, after the guardrails.
pub fn decide(config: &WidgetConfig, session: &Session, input: &EvalInput) -> Decision {
    if let Some(reason) = hold_reason(config, session, input) {
        return Decision::Hold(reason);
    }
    let facts = Facts::new(config, session, input);
    config
        .prompts
        .iter()
        .find(|prompt| verdict(prompt, &facts) == PromptVerdict::Eligible)
        .map_or(Decision::Hold(HoldReason::NothingEligible), |prompt| Decision::Show {
            prompt: prompt.id.clone(),
            variant: copy_variant(prompt, &facts),
        })
}

/// Each prompt's verdict, ignoring the visit-wide guardrails that [`decide`] checks first.
pub fn explain(config: &WidgetConfig, session: &Session, input: &EvalInput) -> Vec<(String, PromptVerdict)> {
    let facts = Facts::new(config, session, input);
    config.prompts.iter().map(|prompt| (prompt.id.clone(), verdict(prompt, &facts))).collect()
}

/// Evaluates one condition now.
pub fn evaluate(condition: &Condition, config: &WidgetConfig, session: &Session, input: &EvalInput) -> bool {
    Facts::new(config, session, input).holds(condition)
}

/// The dwell a config effectively gets, in seconds.
pub fn effective_min_dwell_seconds(config: &WidgetConfig) -> u32 {
    scaled(config, config.guardrails.min_dwell_seconds.max(MIN_DWELL_FLOOR_SECONDS))
}

/// Whether the widget should fetch its UI module (the cards) ahead of any card: once the visit is
/// two thirds of the way to the minimum dwell, before which no card can appear. Visitors who leave
/// sooner never download it; a card picked later (on exit intent, when every millisecond counts)
/// appears without waiting for the network.
pub fn should_preload_ui(config: &WidgetConfig, session: &Session) -> bool {
    !config.prompts.is_empty()
        && session.visit_active_seconds.saturating_mul(3) >= effective_min_dwell_seconds(config).saturating_mul(2)
}

/// The active time a callback offer effectively needs, in seconds.
pub fn effective_callback_min_active_seconds(config: &WidgetConfig) -> u32 {
    scaled(config, CALLBACK_MIN_ACTIVE_SECONDS)
}

/// How much faster than real time this config runs: 1 unless it carries `test_timing`, which only
/// a test deployment of the worker accepts and serves.
pub fn time_scale(config: &WidgetConfig) -> u32 {
    config.test_timing.map_or(1, |timing| timing.time_scale.clamp(1, crate::prompts::config::MAX_TIME_SCALE))
}

/// `seconds` of real time under the config's time scale, rounded up.
pub fn scaled(config: &WidgetConfig, seconds: u32) -> u32 {
    seconds.div_ceil(time_scale(config))
}

pub fn effective_max_prompts_per_visit(config: &WidgetConfig) -> u32 {
    config.guardrails.max_prompts_per_visit.min(MAX_PROMPTS_PER_VISIT_CEILING)
}

/// How long a dismissed prompt stays away, in days.
pub fn effective_cooldown_days(config: &WidgetConfig, prompt: &PromptDefinition) -> u32 {
    prompt.cooldown_days.unwrap_or(config.guardrails.default_cooldown_days).max(MIN_COOLDOWN_DAYS)
}

fn hold_reason(config: &WidgetConfig, session: &Session, input: &EvalInput) -> Option<HoldReason> {
    hold(config, session, input.now, &input.page_url)
}

/// The guardrails that hold every prompt back whatever the rules say (excluded page, chat open,
/// typing, a card up, dwell, cap). They need neither the site's clock nor operator presence, so a
/// caller can ask this first and skip gathering the rest of [`EvalInput`] (the widget's site-local
/// time costs a time-zone lookup in the browser). `decide` applies the same checks.
pub fn hold(config: &WidgetConfig, session: &Session, now: u64, page_url: &str) -> Option<HoldReason> {
    let path = path_of(page_url);
    if config.exclude_paths.iter().any(|pattern| glob::matches(pattern, path)) {
        return Some(HoldReason::ExcludedPath);
    }
    if session.chat_open {
        return Some(HoldReason::ChatOpen);
    }
    if session.typing_in_form {
        return Some(HoldReason::TypingInForm);
    }
    if session.visible_prompt.is_some() && !session.visit_expired(now) {
        return Some(HoldReason::PromptVisible);
    }
    let min_dwell = effective_min_dwell_seconds(config);
    let visit_ms = now.saturating_sub(session.visit_started_at);
    if session.visit_expired(now)
        || session.visit_active_seconds < min_dwell
        || visit_ms < u64::from(min_dwell) * 1000
    {
        return Some(HoldReason::DwellTooShort);
    }
    let shown = u32::try_from(session.visit_prompts.len()).unwrap_or(u32::MAX);
    if shown >= effective_max_prompts_per_visit(config) {
        return Some(HoldReason::VisitCapReached);
    }
    None
}

fn verdict(prompt: &PromptDefinition, facts: &Facts<'_>) -> PromptVerdict {
    let session = facts.session;
    if let Some(record) = session.prompt_record(&prompt.id) {
        if record.accepted_at.is_some() {
            return PromptVerdict::Accepted;
        }
        if let Some(dismissed_at) = record.dismissed_at {
            let until = dismissed_at
                .saturating_add(u64::from(effective_cooldown_days(facts.config, prompt)).saturating_mul(DAY_MS));
            if facts.input.now < until {
                return PromptVerdict::CoolingDown { until };
            }
        }
    }
    if session.answer_to(&prompt.id).is_some() {
        return PromptVerdict::Accepted;
    }
    if session.shown_this_visit(&prompt.id) {
        return PromptVerdict::ShownThisVisit;
    }
    match prompt.kind {
        PromptKind::Callback if session.visit_active_seconds < effective_callback_min_active_seconds(facts.config) => {
            return PromptVerdict::CallbackTooEarly;
        }
        PromptKind::ComparisonEmail if session.products.len() < COMPARISON_MIN_DISTINCT_PRODUCTS => {
            return PromptVerdict::NothingToCompare;
        }
        _ => {}
    }
    if facts.holds(&prompt.when) {
        PromptVerdict::Eligible
    } else {
        PromptVerdict::ConditionNotMet
    }
}

fn copy_variant(prompt: &PromptDefinition, facts: &Facts<'_>) -> CopyVariant {
    match prompt.kind {
        PromptKind::Callback if !(facts.within_business_hours || facts.input.operator_online) => {
            CopyVariant::AfterHours
        }
        _ => CopyVariant::Regular,
    }
}

struct Facts<'a> {
    config: &'a WidgetConfig,
    session: &'a Session,
    input: &'a EvalInput,
    within_business_hours: bool,
}

impl<'a> Facts<'a> {
    fn new(config: &'a WidgetConfig, session: &'a Session, input: &'a EvalInput) -> Self {
        let within_business_hours = config.business_hours.is_open(input.weekday, input.minute_of_day);
        Facts { config, session, input, within_business_hours }
    }

    fn holds(&self, condition: &Condition) -> bool {
        let session = self.session;
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        match condition {
            Condition::All(conditions) => conditions.iter().all(|c| self.holds(c)),
            Condition::Any(conditions) => conditions.iter().any(|c| self.holds(c)),
            Condition::Not(condition) => !self.holds(condition),
            Condition::ProductsViewedAtLeast(n) => session.product_views() >= *n,
            Condition::DistinctProductsAtLeast(n) => count(session.products.len()) >= *n,
            Condition::SameProductViewedAtLeast(n) => session.most_views_of_one_product() >= *n,
            Condition::ProductCategory(category) => session.products.iter().any(|viewed| {
                viewed.product.category.as_deref().is_some_and(|c| c.trim().eq_ignore_ascii_case(category.trim()))
            }),
            Condition::PriceBetween(range) => session.products.iter().any(|viewed| {
                viewed.product.price.is_some_and(|price| {
                    range.currency.is_none_or(|currency| currency == price.currency)
                        && range.min.is_none_or(|min| price.minor >= min)
                        && range.max.is_none_or(|max| price.minor <= max)
                })
            }),
            Condition::ActiveSecondsAtLeast(n) => session.visit_active_seconds >= scaled(self.config, *n),
            Condition::PagesAtLeast(n) => session.visit_pages_viewed >= *n,
            Condition::ExitIntent => self.input.exit_intent,
            Condition::UrlMatches(pattern) => glob::matches(pattern, path_of(&self.input.page_url)),
            Condition::ReturningVisitor => session.is_returning(),
            Condition::OperatorOnline => self.input.operator_online,
            Condition::WithinBusinessHours => self.within_business_hours,
            Condition::Locale(locale) => self.input.locale == *locale,
            Condition::Answer(AnswerIs { prompt, is }) => session.answer_to(prompt) == Some(is.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_condition_knows_what_it_reads_at_any_depth() {
        let online = |c: &Condition| *c == Condition::OperatorOnline;
        assert!(!Condition::ExitIntent.mentions(&online));
        assert!(Condition::OperatorOnline.mentions(&online));
        let nested = Condition::All(vec![
            Condition::PagesAtLeast(2),
            Condition::Any(vec![Condition::ExitIntent, Condition::Not(Box::new(Condition::OperatorOnline))]),
        ]);
        assert!(nested.mentions(&online));
        assert!(!Condition::All(vec![Condition::PagesAtLeast(2), Condition::ExitIntent]).mentions(&online));
    }
    use crate::base::money::Money;
    use crate::visitor::context::Product;
    use crate::visitor::event::{ActiveTime, Event, EventData, PageView, ProductView, PromptRef, QuestionAnswered};

    const T0: u64 = 1_790_000_000_000;

    /// A visitor driven by a fake clock: every step moves time forward and applies an event.
    struct Visit {
        session: Session,
        now: u64,
        page: String,
    }

    impl Visit {
        fn start() -> Self {
            let mut visit = Visit { session: Session::new(), now: T0, page: String::new() };
            visit.open("https://shop.ru/");
            visit
        }

        fn apply(&mut self, data: EventData) {
            self.session.apply(&Event { id: "evt00000001".into(), at: self.now, data });
        }

        fn open(&mut self, url: &str) {
            self.page = url.into();
            self.apply(EventData::PageView(PageView { url: url.into(), title: String::new(), referrer: None }));
        }

        fn wait_active(&mut self, seconds: u32) {
            self.now += u64::from(seconds) * 1000;
            self.apply(EventData::ActiveTime(ActiveTime { seconds }));
        }

        fn view(&mut self, id: &str, category: &str, price: i64) {
            self.open(&format!("https://shop.ru/product/{id}/"));
            self.apply(EventData::ProductView(ProductView {
                product: Product {
                    id: id.into(),
                    name: id.into(),
                    price: Some(Money { minor: price, currency: Currency::RUB }),
                    image: None,
                    url: None,
                    category: Some(category.into()),
                },
            }));
        }

        fn prompt(&mut self, make: fn(PromptRef) -> EventData, id: &str) {
            self.apply(make(PromptRef { prompt: id.into() }));
        }

        fn input(&self) -> EvalInput {
            EvalInput {
                now: self.now,
                weekday: Weekday::Tue,
                minute_of_day: 12 * 60,
                page_url: self.page.clone(),
                locale: Locale::Ru,
                operator_online: false,
                exit_intent: false,
            }
        }

        fn exit(&self) -> EvalInput {
            EvalInput { exit_intent: true, ..self.input() }
        }
    }

    fn holds(condition: Condition, visit: &Visit, input: &EvalInput) -> bool {
        evaluate(&condition, &WidgetConfig::default(), &visit.session, input)
    }

    /// A browsing visitor: two strollers viewed, one of them twice, 60 s active.
    fn browsing() -> Visit {
        let mut visit = Visit::start();
        visit.view("nordika", "strollers", 3_490_000);
        visit.wait_active(30);
        visit.view("puffin", "strollers", 5_990_000);
        visit.view("nordika", "strollers", 3_490_000);
        visit.wait_active(30);
        visit
    }

    #[test]
    fn product_conditions() {
        let visit = browsing();
        let input = visit.input();
        assert!(holds(Condition::ProductsViewedAtLeast(3), &visit, &input));
        assert!(!holds(Condition::ProductsViewedAtLeast(4), &visit, &input));
        assert!(holds(Condition::DistinctProductsAtLeast(2), &visit, &input));
        assert!(!holds(Condition::DistinctProductsAtLeast(3), &visit, &input));
        assert!(holds(Condition::SameProductViewedAtLeast(2), &visit, &input));
        assert!(!holds(Condition::SameProductViewedAtLeast(3), &visit, &input));
        assert!(holds(Condition::ProductCategory("Strollers".into()), &visit, &input));
        assert!(!holds(Condition::ProductCategory("car-seats".into()), &visit, &input));
        let range = |min, max, currency| Condition::PriceBetween(PriceRange { min, max, currency });
        assert!(holds(range(Some(5_000_000), None, None), &visit, &input));
        assert!(holds(range(None, Some(3_490_000), Some(Currency::RUB)), &visit, &input));
        assert!(!holds(range(Some(3_500_000), Some(5_000_000), None), &visit, &input));
        let usd = Currency::try_from("USD".to_owned()).unwrap();
        assert!(!holds(range(Some(0), None, Some(usd)), &visit, &input));
    }

    #[test]
    fn time_page_and_moment_conditions() {
        let visit = browsing();
        let input = visit.input();
        assert!(holds(Condition::ActiveSecondsAtLeast(60), &visit, &input));
        assert!(!holds(Condition::ActiveSecondsAtLeast(61), &visit, &input));
        assert!(holds(Condition::PagesAtLeast(4), &visit, &input));
        assert!(!holds(Condition::PagesAtLeast(5), &visit, &input));
        assert!(!holds(Condition::ExitIntent, &visit, &input));
        assert!(holds(Condition::ExitIntent, &visit, &visit.exit()));
        assert!(holds(Condition::UrlMatches("/product/*".into()), &visit, &input));
        assert!(!holds(Condition::UrlMatches("/catalog/**".into()), &visit, &input));
        assert!(!holds(Condition::ReturningVisitor, &visit, &input));
        assert!(!holds(Condition::OperatorOnline, &visit, &input));
        assert!(holds(Condition::OperatorOnline, &visit, &EvalInput { operator_online: true, ..input.clone() }));
        assert!(holds(Condition::WithinBusinessHours, &visit, &input));
        assert!(!holds(Condition::WithinBusinessHours, &visit, &EvalInput { weekday: Weekday::Sun, ..input.clone() }));
        assert!(!holds(Condition::WithinBusinessHours, &visit, &EvalInput { minute_of_day: 22 * 60, ..input.clone() }));
        assert!(holds(Condition::Locale(Locale::Ru), &visit, &input));
        assert!(!holds(Condition::Locale(Locale::En), &visit, &input));
    }

    #[test]
    fn returning_answers_and_combinators() {
        let mut visit = browsing();
        visit.apply(EventData::QuestionAnswered(QuestionAnswered {
            prompt: "child_age".into(),
            question: "Сколько лет ребёнку?".into(),
            answer: "0-1".into(),
        }));
        visit.now += VISIT_GAP;
        visit.open("https://shop.ru/");
        let input = visit.input();
        let answer = |is: &str| Condition::Answer(AnswerIs { prompt: "child_age".into(), is: is.into() });
        assert!(holds(Condition::ReturningVisitor, &visit, &input));
        assert!(holds(answer("0-1"), &visit, &input));
        assert!(!holds(answer("1-3"), &visit, &input));
        assert!(holds(Condition::All(vec![answer("0-1"), Condition::ReturningVisitor]), &visit, &input));
        assert!(!holds(Condition::All(vec![answer("0-1"), Condition::ExitIntent]), &visit, &input));
        assert!(holds(Condition::Any(vec![answer("1-3"), Condition::ReturningVisitor]), &visit, &input));
        assert!(!holds(Condition::Any(vec![answer("1-3"), Condition::ExitIntent]), &visit, &input));
        assert!(holds(Condition::Not(Box::new(Condition::ExitIntent)), &visit, &input));
        // Pages and active time count the current visit only; products are remembered.
        assert!(!holds(Condition::PagesAtLeast(2), &visit, &input));
        assert!(!holds(Condition::ActiveSecondsAtLeast(1), &visit, &input));
        assert!(holds(Condition::DistinctProductsAtLeast(2), &visit, &input));
    }

    const VISIT_GAP: u64 = crate::visitor::session::VISIT_TIMEOUT_MS + 1;

    #[test]
    fn comparison_on_exit_after_two_products() {
        let config = WidgetConfig::default();
        let visit = browsing();
        // Without exit intent the gentler question is what fits this moment.
        assert_eq!(decide(&config, &visit.session, &visit.input()).prompt(), Some("child_age"));
        assert_eq!(
            decide(&config, &visit.session, &visit.exit()),
            Decision::Show { prompt: "compare_by_email".into(), variant: CopyVariant::Regular }
        );
        let mut one_product = Visit::start();
        one_product.view("nordika", "strollers", 1);
        one_product.wait_active(60);
        let verdicts = explain(&config, &one_product.session, &one_product.exit());
        assert_eq!(verdicts[0], ("compare_by_email".into(), PromptVerdict::NothingToCompare));
    }

    #[test]
    fn no_prompt_before_minimum_dwell() {
        let config = WidgetConfig::default();
        let mut visit = Visit::start();
        visit.view("a", "strollers", 1);
        visit.view("b", "strollers", 1);
        visit.wait_active(20);
        assert_eq!(decide(&config, &visit.session, &visit.exit()), Decision::Hold(HoldReason::DwellTooShort));
        // Wall time alone is not enough: a background tab is not a visitor who stayed.
        visit.now += 60_000;
        assert_eq!(decide(&config, &visit.session, &visit.exit()), Decision::Hold(HoldReason::DwellTooShort));
        visit.wait_active(10);
        assert_eq!(decide(&config, &visit.session, &visit.exit()).prompt(), Some("compare_by_email"));
        // Active time alone is not enough either (a forged or buggy timer).
        let mut hasty = Visit::start();
        hasty.view("a", "strollers", 1);
        hasty.view("b", "strollers", 1);
        hasty.apply(EventData::ActiveTime(ActiveTime { seconds: 600 }));
        hasty.now += 20_000;
        assert_eq!(decide(&config, &hasty.session, &hasty.exit()), Decision::Hold(HoldReason::DwellTooShort));
        // A config cannot lower the floor.
        let mut eager = WidgetConfig::default();
        eager.guardrails.min_dwell_seconds = 0;
        assert_eq!(decide(&eager, &hasty.session, &hasty.exit()), Decision::Hold(HoldReason::DwellTooShort));
    }

    #[test]
    fn the_clock_free_guardrails_answer_alone_exactly_as_decide_does() {
        let config = WidgetConfig::default();
        let mut visit = Visit::start();
        visit.view("a", "strollers", 1);
        visit.view("b", "strollers", 1);
        let at = |visit: &Visit| (visit.now, visit.exit().page_url);
        let (now, url) = at(&visit);
        assert_eq!(hold(&config, &visit.session, now, &url), Some(HoldReason::DwellTooShort));
        visit.wait_active(40);
        let (now, url) = at(&visit);
        assert_eq!(hold(&config, &visit.session, now, &url), None, "past the dwell only the rules remain");
        assert_eq!(decide(&config, &visit.session, &visit.exit()).prompt(), Some("compare_by_email"));
        visit.session.set_chat_open(true);
        assert_eq!(hold(&config, &visit.session, now, &url), Some(HoldReason::ChatOpen));
        assert_eq!(decide(&config, &visit.session, &visit.exit()), Decision::Hold(HoldReason::ChatOpen));
    }

    #[test]
    fn callback_needs_five_active_minutes_and_switches_copy_after_hours() {
        let mut config = WidgetConfig::default();
        // A careless owner rule: callback for anyone who viewed a product.
        config.prompts[1].when = Condition::DistinctProductsAtLeast(1);
        let mut visit = Visit::start();
        visit.view("orsa", "car-seats", 2_000_000);
        visit.wait_active(299);
        let callback_verdict = |visit: &Visit| explain(&config, &visit.session, &visit.input())[1].1;
        assert_eq!(callback_verdict(&visit), PromptVerdict::CallbackTooEarly);
        visit.wait_active(1);
        assert_eq!(callback_verdict(&visit), PromptVerdict::Eligible);
        let default = WidgetConfig::default();
        let input = visit.input();
        // The question (2 pages, a product) is lower in priority than the callback.
        assert_eq!(
            decide(&default, &visit.session, &input),
            Decision::Show { prompt: "callback".into(), variant: CopyVariant::Regular }
        );
        let night = EvalInput { minute_of_day: 23 * 60, ..input.clone() };
        assert_eq!(
            decide(&default, &visit.session, &night),
            Decision::Show { prompt: "callback".into(), variant: CopyVariant::AfterHours }
        );
        let night_with_operator = EvalInput { operator_online: true, ..night };
        assert_eq!(
            decide(&default, &visit.session, &night_with_operator),
            Decision::Show { prompt: "callback".into(), variant: CopyVariant::Regular }
        );
    }

    #[test]
    fn one_prompt_at_a_time_and_a_cap_per_visit() {
        let config = WidgetConfig::default();
        let mut visit = browsing();
        visit.prompt(EventData::PromptShown, "compare_by_email");
        assert_eq!(decide(&config, &visit.session, &visit.exit()), Decision::Hold(HoldReason::PromptVisible));
        visit.prompt(EventData::PromptDismissed, "compare_by_email");
        // Once per visit: the comparison does not come back on the next exit intent.
        assert_eq!(explain(&config, &visit.session, &visit.exit())[0].1, PromptVerdict::CoolingDown {
            until: visit.now + 7 * DAY_MS
        });
        visit.wait_active(300);
        assert_eq!(decide(&config, &visit.session, &visit.input()).prompt(), Some("callback"));
        visit.prompt(EventData::PromptShown, "callback");
        visit.prompt(EventData::PromptDismissed, "callback");
        visit.open("https://shop.ru/catalog/");
        visit.wait_active(120);
        let online = EvalInput { operator_online: true, ..visit.input() };
        assert_eq!(explain(&config, &visit.session, &online)[3].1, PromptVerdict::Eligible);
        assert_eq!(decide(&config, &visit.session, &online), Decision::Hold(HoldReason::VisitCapReached));
        // A new visit resets the cap (but not the dismissals).
        visit.now += VISIT_GAP;
        visit.open("https://shop.ru/catalog/");
        visit.open("https://shop.ru/about/");
        visit.open("https://shop.ru/delivery/");
        visit.wait_active(120);
        let online = EvalInput { operator_online: true, ..visit.input() };
        assert_eq!(decide(&config, &visit.session, &online).prompt(), Some("child_age"));
    }

    #[test]
    fn dismissed_prompts_cool_down_and_accepted_ones_never_return() {
        let config = WidgetConfig::default();
        let mut visit = browsing();
        visit.prompt(EventData::PromptShown, "compare_by_email");
        visit.prompt(EventData::PromptDismissed, "compare_by_email");
        let dismissed_at = visit.now;
        // Six days later, a new visit with a new exit intent: still quiet.
        visit.now = dismissed_at + 6 * DAY_MS;
        visit.open("https://shop.ru/");
        visit.wait_active(40);
        assert_eq!(decide(&config, &visit.session, &visit.exit()), Decision::Hold(HoldReason::NothingEligible));
        visit.now = dismissed_at + 7 * DAY_MS;
        visit.open("https://shop.ru/");
        visit.wait_active(40);
        assert_eq!(decide(&config, &visit.session, &visit.exit()).prompt(), Some("compare_by_email"));
        visit.prompt(EventData::PromptShown, "compare_by_email");
        visit.prompt(EventData::PromptAccepted, "compare_by_email");
        visit.now += 400 * DAY_MS;
        visit.open("https://shop.ru/");
        visit.wait_active(40);
        assert_eq!(explain(&config, &visit.session, &visit.exit())[0].1, PromptVerdict::Accepted);
        // A per-prompt override shortens (or lengthens) the wait.
        let mut short = WidgetConfig::default();
        short.prompts[0].cooldown_days = Some(1);
        let mut other = browsing();
        other.prompt(EventData::PromptShown, "compare_by_email");
        other.prompt(EventData::PromptDismissed, "compare_by_email");
        other.now += DAY_MS + VISIT_GAP;
        other.open("https://shop.ru/");
        other.wait_active(40);
        assert_eq!(decide(&short, &other.session, &other.exit()).prompt(), Some("compare_by_email"));
    }

    #[test]
    fn answered_questions_are_not_asked_again() {
        let config = WidgetConfig::default();
        let mut visit = browsing();
        assert_eq!(explain(&config, &visit.session, &visit.input())[2].1, PromptVerdict::Eligible);
        visit.apply(EventData::QuestionAnswered(QuestionAnswered {
            prompt: "child_age".into(),
            question: "?".into(),
            answer: "expecting".into(),
        }));
        assert_eq!(explain(&config, &visit.session, &visit.input())[2].1, PromptVerdict::Accepted);
    }

    #[test]
    fn chat_typing_and_excluded_paths_silence_everything() {
        let config = WidgetConfig { exclude_paths: vec!["/checkout/**".into()], ..WidgetConfig::default() };
        let mut visit = browsing();
        visit.session.set_chat_open(true);
        assert_eq!(decide(&config, &visit.session, &visit.exit()), Decision::Hold(HoldReason::ChatOpen));
        visit.session.set_chat_open(false);
        visit.session.set_typing_in_form(true);
        assert_eq!(decide(&config, &visit.session, &visit.exit()), Decision::Hold(HoldReason::TypingInForm));
        visit.session.set_typing_in_form(false);
        let checkout = EvalInput { page_url: "https://shop.ru/checkout/step-2?x=1".into(), ..visit.exit() };
        assert_eq!(decide(&config, &visit.session, &checkout), Decision::Hold(HoldReason::ExcludedPath));
        assert_eq!(decide(&config, &visit.session, &visit.exit()).prompt(), Some("compare_by_email"));
    }

    #[test]
    fn a_stale_session_waits_for_the_next_visit() {
        let config = WidgetConfig::default();
        let visit = browsing();
        let later = EvalInput { now: visit.now + VISIT_GAP, ..visit.exit() };
        assert_eq!(decide(&config, &visit.session, &later), Decision::Hold(HoldReason::DwellTooShort));
        assert_eq!(decide(&config, &Session::new(), &visit.exit()), Decision::Hold(HoldReason::DwellTooShort));
    }

    #[test]
    fn condition_json_shape() {
        let condition: Condition = serde_json::from_str(
            r#"{"any":[{"all":["exit_intent",{"distinct_products_at_least":2}]},{"not":"returning_visitor"},
                {"product_category":"car-seats"},{"price_between":{"min":1,"max":2}},{"url_matches":"/product/*"},
                "operator_online","within_business_hours",{"locale":"en"},{"answer":{"prompt":"child_age","is":"0-1"}},
                {"products_viewed_at_least":2},{"same_product_viewed_at_least":2},{"active_seconds_at_least":300},
                {"pages_at_least":3}]}"#,
        )
        .unwrap();
        let Condition::Any(list) = &condition else { panic!("not an any") };
        assert_eq!(list.len(), 13);
        let json = serde_json::to_value(&condition).unwrap();
        assert_eq!(json["any"][0]["all"][0], "exit_intent");
        assert_eq!(serde_json::from_value::<Condition>(json).unwrap(), condition);
        assert!(serde_json::from_str::<Condition>(r#"{"price_between":{"minimum":1}}"#).is_err());
        assert!(serde_json::from_str::<Condition>(r#""mind_reading""#).is_err());
    }
}

#[cfg(test)]
mod test_timing {
    use super::*;
    use crate::prompts::config::TestTiming;

    #[test]
    fn the_ui_module_is_fetched_only_once_a_card_is_near() {
        let config = WidgetConfig::default();
        let mut session = Session { visit_active_seconds: MIN_DWELL_FLOOR_SECONDS * 2 / 3 - 1, ..Session::default() };
        assert!(!should_preload_ui(&config, &session), "a visitor who leaves early downloads no cards");
        session.visit_active_seconds = MIN_DWELL_FLOOR_SECONDS * 2 / 3;
        assert!(should_preload_ui(&config, &session));
        let silent = WidgetConfig { prompts: Vec::new(), ..WidgetConfig::default() };
        assert!(!should_preload_ui(&silent, &session), "a site without prompts never needs them");
        let fast = WidgetConfig { test_timing: Some(TestTiming { time_scale: 20 }), ..WidgetConfig::default() };
        session.visit_active_seconds = 2;
        assert!(should_preload_ui(&fast, &session), "scaled like the dwell it anticipates");
    }

    #[test]
    fn floors_are_real_unless_a_test_deployment_scales_them() {
        let strict = WidgetConfig::default();
        assert_eq!(strict.test_timing, None, "no config has test timing by default");
        assert_eq!(effective_min_dwell_seconds(&strict), MIN_DWELL_FLOOR_SECONDS);
        assert_eq!(effective_callback_min_active_seconds(&strict), CALLBACK_MIN_ACTIVE_SECONDS);
        let fast = WidgetConfig { test_timing: Some(TestTiming { time_scale: 20 }), ..WidgetConfig::default() };
        assert_eq!(effective_min_dwell_seconds(&fast), 2);
        assert_eq!(effective_callback_min_active_seconds(&fast), 15);
        assert_eq!(scaled(&fast, 1), 1, "never below one second");
        fast.validate().unwrap();
        for bad in [0, crate::prompts::config::MAX_TIME_SCALE + 1] {
            let config = WidgetConfig { test_timing: Some(TestTiming { time_scale: bad }), ..WidgetConfig::default() };
            assert!(config.validate().is_err(), "time_scale {bad}");
        }
    }
}

#[cfg(test)]
mod properties {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::base::money::Money;
    use crate::visitor::context::Product;
    use crate::visitor::event::{ActiveTime, Event, EventData, PageView, ProductView, PromptRef};

    const T0: u64 = 1_790_000_000_000;

    #[derive(Debug, Clone)]
    enum Step {
        Page(u8),
        Product(u8),
        Active(u32),
        Wait(u64),
        Decide { exit: bool, online: bool, minute: u16 },
        Dismiss,
        Accept,
        Chat(bool),
        Typing(bool),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0u8..6).prop_map(Step::Page),
            (0u8..6).prop_map(Step::Product),
            (1u32..=600).prop_map(Step::Active),
            prop_oneof![0u64..120_000, 0u64..(3 * 3_600_000), 0u64..(10 * DAY_MS)].prop_map(Step::Wait),
            (any::<bool>(), any::<bool>(), 0u16..1440).prop_map(|(exit, online, minute)| Step::Decide {
                exit,
                online,
                minute
            }),
            Just(Step::Dismiss),
            Just(Step::Accept),
            any::<bool>().prop_map(Step::Chat),
            any::<bool>().prop_map(Step::Typing),
        ]
    }

    fn condition() -> impl Strategy<Value = Condition> {
        let leaf = prop_oneof![
            Just(Condition::ExitIntent),
            Just(Condition::OperatorOnline),
            Just(Condition::WithinBusinessHours),
            Just(Condition::ReturningVisitor),
            (0u32..4).prop_map(Condition::DistinctProductsAtLeast),
            (0u32..4).prop_map(Condition::PagesAtLeast),
            (0u32..200).prop_map(Condition::ActiveSecondsAtLeast),
            Just(Condition::UrlMatches("/p/*".into())),
        ];
        leaf.prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..3).prop_map(Condition::All),
                prop::collection::vec(inner.clone(), 1..3).prop_map(Condition::Any),
                inner.prop_map(|c| Condition::Not(Box::new(c))),
            ]
        })
    }

    /// The default playbooks with arbitrary (even invalid) guardrails, cooldowns and conditions: the
    /// engine's guarantees must not depend on the config being sensible.
    fn config() -> impl Strategy<Value = WidgetConfig> {
        (0u32..120, 0u32..8, 0u32..10, prop::collection::vec((condition(), prop::option::of(0u32..5)), 4)).prop_map(
            |(dwell, cap, cooldown, prompts)| {
                let mut config = WidgetConfig::default();
                config.guardrails.min_dwell_seconds = dwell;
                config.guardrails.max_prompts_per_visit = cap;
                config.guardrails.default_cooldown_days = cooldown;
                for (prompt, (when, cooldown_days)) in config.prompts.iter_mut().zip(prompts) {
                    prompt.when = when;
                    prompt.cooldown_days = cooldown_days;
                }
                config
            },
        )
    }

    fn event(now: u64, data: EventData) -> Event {
        Event { id: "evt00000001".into(), at: now, data }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn guardrails_hold_for_any_visitor_and_config(config in config(), steps in prop::collection::vec(step(), 1..120)) {
            let mut session = Session::new();
            let mut now = T0;
            let mut page = "https://shop.ru/".to_owned();
            let mut dismissed: BTreeMap<String, u64> = BTreeMap::new();
            session.apply(&event(now, EventData::PageView(PageView { url: page.clone(), title: String::new(), referrer: None })));
            for step in steps {
                match step {
                    Step::Page(n) => {
                        page = format!("https://shop.ru/p/{n}");
                        session.apply(&event(now, EventData::PageView(PageView { url: page.clone(), title: String::new(), referrer: None })));
                    }
                    Step::Product(n) => session.apply(&event(now, EventData::ProductView(ProductView {
                        product: Product { id: format!("sku-{n}"), name: "x".into(), price: Some(Money { minor: 100, currency: Currency::RUB }), image: None, url: None, category: None },
                    }))),
                    Step::Active(seconds) => {
                        now += u64::from(seconds) * 1000;
                        session.apply(&event(now, EventData::ActiveTime(ActiveTime { seconds })));
                    }
                    Step::Wait(ms) => now += ms,
                    Step::Chat(open) => session.set_chat_open(open),
                    Step::Typing(typing) => session.set_typing_in_form(typing),
                    Step::Dismiss | Step::Accept => {
                        if let Some(prompt) = session.visible_prompt.clone() {
                            let data = PromptRef { prompt: prompt.clone() };
                            if matches!(step, Step::Dismiss) {
                                dismissed.insert(prompt, now);
                                session.apply(&event(now, EventData::PromptDismissed(data)));
                            } else {
                                session.apply(&event(now, EventData::PromptAccepted(data)));
                            }
                        }
                    }
                    Step::Decide { exit, online, minute } => {
                        let input = EvalInput { now, weekday: Weekday::Wed, minute_of_day: minute, page_url: page.clone(), locale: Locale::Ru, operator_online: online, exit_intent: exit };
                        let decision = decide(&config, &session, &input);
                        prop_assert_eq!(&decision, &decide(&config, &session.clone(), &input.clone()), "decide is deterministic");
                        if let Decision::Show { prompt, .. } = decision {
                            prop_assert!(session.visible_prompt.is_none() || session.visit_expired(now), "two prompts at once");
                            prop_assert!(!session.chat_open && !session.typing_in_form);
                            prop_assert!(session.visit_active_seconds >= MIN_DWELL_FLOOR_SECONDS, "active dwell");
                            prop_assert!(now - session.visit_started_at >= u64::from(MIN_DWELL_FLOOR_SECONDS) * 1000, "wall-clock dwell");
                            let definition = config.prompt(&prompt).expect("shown prompts come from the config");
                            if definition.kind == PromptKind::Callback {
                                prop_assert!(session.visit_active_seconds >= CALLBACK_MIN_ACTIVE_SECONDS, "callback too early");
                            }
                            if let Some(&at) = dismissed.get(&prompt) {
                                let cooldown = u64::from(definition.cooldown_days.unwrap_or(config.guardrails.default_cooldown_days).max(1)) * DAY_MS;
                                prop_assert!(now >= at + cooldown, "{} returned within its cooldown", prompt);
                            }
                            prop_assert!(session.prompt_record(&prompt).is_none_or(|r| r.accepted_at.is_none()), "accepted prompt returned");
                            session.apply(&event(now, EventData::PromptShown(PromptRef { prompt: prompt.clone() })));
                            let cap = config.guardrails.max_prompts_per_visit.min(MAX_PROMPTS_PER_VISIT_CEILING);
                            prop_assert!(session.visit_prompts.len() <= cap as usize, "per-visit cap");
                        }
                    }
                }
            }
        }
    }
}
