//! The prompt engine: which prompt, if any, the widget shows now.
//!
//! Pure and deterministic: everything time-dependent arrives in [`EvalInput`] (the adapter's clock,
//! and the site-local weekday and minute the browser computes with `Intl`, so core needs no time-zone
//! database). Site owners write declarative [`Condition`]s; the guardrails below hold whatever a
//! config says, because a widget that nags costs the shop more than a missed lead.
//!
//! Guardrails, in the order they are checked:
//! - nothing on an excluded path, while the chat is open, or while the visitor types in a page form;
//! - one prompt on screen at a time; a card the visitor has not touched gives way at exit intent (the
//!   last chance) to an eligible prompt of higher priority (see [`crate::prompts::judgement`]);
//! - no prompt before the minimum dwell: the current visit must have lasted that long by the clock
//!   **and** the visitor must have been active that long. Both, because wall time alone counts a tab
//!   left in the background, and active time alone trusts a single timer in the page;
//! - at most N prompts per visit, each prompt at most once per visit;
//! - an accepted (or answered) prompt never again; a dismissed one not within its cooldown;
//! - a callback offer never before [`CALLBACK_MIN_ACTIVE_SECONDS`] of active time this visit, and a
//!   comparison never with fewer than two distinct products to compare.
//!
//! A prompt with an experiment is judged by the `when` of the visitor's arm
//! ([`PromptDefinition::when_for`]); everything above still holds for every arm.

use serde::{Deserialize, Serialize};

use crate::base::error::{Invalid, Rule, Unit};
use crate::base::locale::{Locale, Weekday};
use crate::base::money::Currency;
use crate::base::url::{glob, path_of};
use crate::prompts::config::{PromptDefinition, PromptKind, WidgetConfig};
use crate::prompts::judgement::{effective_priority, may_yield, outranks};
use crate::visitor::session::Session;

/// The shortest dwell any config can ask for: "never a pop-up 20 seconds after arrival".
pub const MIN_DWELL_FLOOR_SECONDS: u32 = 30;
/// The most prompts one visit can see, whatever the config says.
pub const MAX_PROMPTS_PER_VISIT_CEILING: u32 = 3;
/// The shortest cooldown after a dismissal, whatever the config says.
pub const MIN_COOLDOWN_DAYS: u32 = 1;
/// Longest cooldown a config may ask for.
pub const MAX_COOLDOWN_DAYS: u32 = 365;
/// Longest dwell a config may ask for before the first prompt.
pub const MAX_MIN_DWELL_SECONDS: u32 = 3600;
/// A callback offer needs this much active time in the visit: it is for people who are clearly
/// choosing, not for someone who just arrived.
pub const CALLBACK_MIN_ACTIVE_SECONDS: u32 = 300;
/// A comparison needs something to compare.
pub const COMPARISON_MIN_DISTINCT_PRODUCTS: usize = 2;
const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// Limits on how often the widget speaks up. The engine also applies hard floors and ceilings of
/// its own (the constants above), so these can make the widget quieter, never pushier.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Guardrails {
    #[serde(default = "Guardrails::default_min_dwell_seconds")]
    pub min_dwell_seconds: u32,
    #[serde(default = "Guardrails::default_max_prompts_per_visit")]
    pub max_prompts_per_visit: u32,
    #[serde(default = "Guardrails::default_cooldown_days")]
    pub default_cooldown_days: u32,
}

impl Guardrails {
    fn default_min_dwell_seconds() -> u32 {
        30
    }

    fn default_max_prompts_per_visit() -> u32 {
        2
    }

    fn default_cooldown_days() -> u32 {
        7
    }

    pub(crate) fn check(&self) -> Result<(), Invalid> {
        if self.min_dwell_seconds < MIN_DWELL_FLOOR_SECONDS {
            let floor = Rule::BelowFloor { floor: MIN_DWELL_FLOOR_SECONDS.into(), unit: Unit::Seconds };
            return Err(Invalid::new("min_dwell_seconds", floor));
        }
        if self.min_dwell_seconds > MAX_MIN_DWELL_SECONDS {
            let range = Rule::Between { min: MIN_DWELL_FLOOR_SECONDS.into(), max: MAX_MIN_DWELL_SECONDS.into(), unit: Unit::Seconds };
            return Err(Invalid::new("min_dwell_seconds", range));
        }
        if self.max_prompts_per_visit > MAX_PROMPTS_PER_VISIT_CEILING {
            let range = Rule::Between { min: 0, max: MAX_PROMPTS_PER_VISIT_CEILING.into(), unit: Unit::Count };
            return Err(Invalid::new("max_prompts_per_visit", range));
        }
        if !(MIN_COOLDOWN_DAYS..=MAX_COOLDOWN_DAYS).contains(&self.default_cooldown_days) {
            let range = Rule::Between { min: MIN_COOLDOWN_DAYS.into(), max: MAX_COOLDOWN_DAYS.into(), unit: Unit::Days };
            return Err(Invalid::new("default_cooldown_days", range));
        }
        Ok(())
    }
}

impl Default for Guardrails {
    fn default() -> Self {
        Guardrails {
            min_dwell_seconds: Guardrails::default_min_dwell_seconds(),
            max_prompts_per_visit: Guardrails::default_max_prompts_per_visit(),
            default_cooldown_days: Guardrails::default_cooldown_days(),
        }
    }
}

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
    /// The visitor's id: which arm of a prompt's experiment they are in (its timing is theirs).
    pub visitor: String,
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

/// Picks the prompt to show now, after the guardrails: the eligible one of highest priority (config
/// order breaks ties). With a card on screen that may give way (exit intent, untouched), only a
/// prompt that outranks it; the widget then replaces that card.
pub fn decide(config: &WidgetConfig, session: &Session, input: &EvalInput) -> Decision {
    if let Some(reason) = hold_reason(config, session, input) {
        return Decision::Hold(reason);
    }
    let facts = Facts::new(config, session, input);
    let on_screen = session.visible_prompt.as_deref().filter(|_| !session.visit_expired(input.now));
    let mut best: Option<&PromptDefinition> = None;
    for prompt in &config.prompts {
        let better = best.is_none_or(|best| effective_priority(prompt) > effective_priority(best));
        if better
            && on_screen.is_none_or(|visible| outranks(config, prompt, visible))
            && verdict(prompt, &facts) == PromptVerdict::Eligible
        {
            best = Some(prompt);
        }
    }
    match (best, on_screen) {
        (Some(prompt), _) => Decision::Show { prompt: prompt.id.clone(), variant: copy_variant(prompt, &facts) },
        (None, Some(_)) => Decision::Hold(HoldReason::PromptVisible),
        (None, None) => Decision::Hold(HoldReason::NothingEligible),
    }
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
    hold(config, session, input.now, &input.page_url, input.exit_intent)
}

/// The guardrails that hold every prompt back whatever the rules say (excluded page, chat open,
/// typing, a card up that may not give way, dwell, cap). They need neither the site's clock nor
/// operator presence, so a caller can ask this first and skip gathering the rest of [`EvalInput`]
/// (the widget's site-local time costs a time-zone lookup in the browser). `decide` applies the
/// same checks.
pub fn hold(config: &WidgetConfig, session: &Session, now: u64, page_url: &str, exit_intent: bool) -> Option<HoldReason> {
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
    if session.visible_prompt.is_some() && !session.visit_expired(now) && !may_yield(session, exit_intent) {
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
    // Only the condition is the visitor's arm's: every check above is the prompt's own, whatever
    // the arm, so a variant changes when a card may come, never how often or how soon.
    if facts.holds(prompt.when_for(&facts.input.visitor)) {
        PromptVerdict::Eligible
    } else {
        PromptVerdict::ConditionNotMet
    }
}

fn copy_variant(prompt: &PromptDefinition, facts: &Facts<'_>) -> CopyVariant {
    variant_for(&prompt.kind, facts.within_business_hours || facts.input.operator_online)
}

/// The words a `kind` of card uses at this moment of the shop's week (a preview asks outside the
/// engine's decision, and must say what a visitor would read now).
pub fn copy_variant_at(config: &WidgetConfig, kind: &PromptKind, weekday: Weekday, minute_of_day: u16, operator_online: bool) -> CopyVariant {
    variant_for(kind, config.business_hours.is_open(weekday, minute_of_day) || operator_online)
}

/// After hours, with nobody to call back now, a callback offers a slot instead of minutes.
fn variant_for(kind: &PromptKind, someone_answers: bool) -> CopyVariant {
    match kind {
        PromptKind::Callback if !someone_answers => CopyVariant::AfterHours,
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
mod tests;

#[cfg(test)]
mod test_timing;

#[cfg(test)]
mod properties;
