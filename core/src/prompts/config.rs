//! The site config: what a site owner sets up, validated before it is stored.
//!
//! [`SiteConfig`] is the whole document the admin API accepts. [`PublicSiteConfig`] is the part the
//! widget may see: it never carries origins, endpoints or secrets.

use serde::{Deserialize, Serialize};

use crate::base::error::{ApiError, ErrorCode};
use crate::base::ids::{is_valid_prompt_id, validate_site_id};
use crate::base::locale::Locale;
use crate::base::phone::PhoneRegion;
use crate::base::url::glob;
use crate::prompts::contrast::is_hex_color;
use crate::prompts::hours::BusinessHours;
use crate::prompts::rules::{AnswerIs, Condition, Guardrails, MAX_COOLDOWN_DAYS, MIN_COOLDOWN_DAYS};
#[cfg(feature = "prompt-copy")]
use crate::prompts::rules::CopyVariant;
#[cfg(feature = "prompt-copy")]
use crate::prompts::playbooks::builtin_playbooks;

/// Largest site config accepted, in bytes of JSON.
pub const MAX_CONFIG_BYTES: usize = 64 * 1024;
const MAX_ORIGINS: usize = 32;
const MAX_NAME_LEN: usize = 100;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    pub site: String,
    /// The shop's name as shown to visitors.
    pub name: String,
    /// Exact origins (`scheme://host[:port]`) allowed to load the widget and send events.
    pub origins: Vec<String>,
    #[serde(default)]
    pub widget: WidgetConfig,
}

const MAX_PROMPTS: usize = 16;
const MAX_EXCLUDE_PATHS: usize = 32;
const MAX_COPY_LEN: usize = 600;
const MAX_LABEL_LEN: usize = 60;
#[cfg(feature = "prompt-copy")]
const MAX_CONSENT_VERSION_LEN: usize = 32;
const MAX_CHOICES: usize = 8;
const MAX_CONDITION_DEPTH: usize = 8;
const MAX_CONDITION_NODES: usize = 64;
const MAX_CALLBACK_MINUTES: u32 = 24 * 60;
/// Where `{minutes}` in copy is replaced by `callback_minutes`.
pub const MINUTES_PLACEHOLDER: &str = "{minutes}";

/// Everything the widget needs to render and behave.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WidgetConfig {
    /// The language used when the page's `<html lang>` is not one the widget speaks.
    #[serde(default)]
    pub default_locale: Locale,
    #[serde(default)]
    pub theme: Theme,
    #[serde(default)]
    pub consent: ConsentMode,
    /// IANA time zone of the shop (`Europe/Moscow`); the widget turns "now" into site-local weekday
    /// and minute with it, so that business hours mean the shop's hours, not the visitor's.
    #[serde(default = "WidgetConfig::default_timezone")]
    pub timezone: String,
    #[serde(default)]
    pub business_hours: BusinessHours,
    /// The promise of the callback offer: "we call you within N minutes".
    #[serde(default = "WidgetConfig::default_callback_minutes")]
    pub callback_minutes: u32,
    /// ISO 3166 region assumed for phone numbers typed without a country code.
    #[serde(default = "WidgetConfig::default_region")]
    pub default_region: String,
    /// Path globs where the widget never shows a prompt (checkout, account pages).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_paths: Vec<String>,
    #[serde(default)]
    pub guardrails: Guardrails,
    /// A short, quiet tone when an operator's reply arrives while the chat panel is closed or the
    /// tab hidden. Off unless the site owner turns it on: a page that beeps unasked is exactly
    /// what a good salesperson would not do. The widget plays it only after the visitor has opened
    /// the chat or written (browsers refuse audio before a gesture anyway), at most once per
    /// `chat::panel::CHIME_MIN_INTERVAL_MS`.
    #[serde(default)]
    pub chat_sound: bool,
    /// In priority order: when several are eligible, the first one is shown. Absent means the
    /// built-in playbooks; `[]` means no prompts at all.
    #[cfg_attr(feature = "prompt-copy", serde(default = "builtin_playbooks"))]
    #[cfg_attr(not(feature = "prompt-copy"), serde(default))]
    pub prompts: Vec<PromptDefinition>,
    /// Shortened timing for end-to-end tests. Not a site owner's setting: the worker refuses a
    /// config carrying it (and never serves it) unless its deployment sets
    /// `FLOORWALKER_TEST_TIMING=1`, which only the test harness does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_timing: Option<TestTiming>,
}

/// How much faster than real time the engine and the widget's heuristics run under test.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TestTiming {
    /// Every time floor and time condition is divided by this (rounded up, at least 1 s):
    /// `20` turns the 30 s dwell into 2 s and the 300 s callback floor into 15 s.
    pub time_scale: u32,
}

/// The largest `test_timing.time_scale` accepted.
pub const MAX_TIME_SCALE: u32 = 300;

impl WidgetConfig {
    fn default_timezone() -> String {
        "Europe/Moscow".into()
    }

    fn default_callback_minutes() -> u32 {
        15
    }

    fn default_region() -> String {
        "RU".into()
    }

    /// The dialling rules for numbers typed without `+`. A region without known rules falls back
    /// to Russia's, the market the product starts in; numbers typed with `+` work everywhere.
    pub fn phone_region(&self) -> PhoneRegion {
        PhoneRegion::from_code(&self.default_region).unwrap_or(PhoneRegion::Ru)
    }

    pub fn prompt(&self, id: &str) -> Option<&PromptDefinition> {
        self.prompts.iter().find(|prompt| prompt.id == id)
    }

    /// Whether any prompt's rule depends on operator presence: only then does the widget ask the
    /// worker who is online (one small request per page), so other sites pay nothing for it.
    pub fn needs_operator_presence(&self) -> bool {
        self.prompts.iter().any(|prompt| prompt.when.mentions(&|c| *c == Condition::OperatorOnline))
    }

    /// The text a prompt shows in `locale`, with the after-hours variant and `{minutes}` applied.
    #[cfg(feature = "prompt-copy")]
    pub fn render_copy(&self, prompt: &PromptDefinition, locale: Locale, variant: CopyVariant) -> RenderedCopy {
        let copy = prompt.copy.get(locale);
        let after_hours = copy.after_hours.as_ref().filter(|_| variant == CopyVariant::AfterHours);
        let minutes = self.callback_minutes.to_string();
        let fill = |text: &str| text.replace(MINUTES_PLACEHOLDER, &minutes);
        RenderedCopy {
            title: fill(after_hours.map_or(&copy.title, |a| &a.title)),
            body: fill(after_hours.map_or(&copy.body, |a| &a.body)),
            accept: fill(after_hours.map_or(&copy.accept, |a| &a.accept)),
            dismiss: copy.dismiss.clone(),
            consent: copy.consent.clone(),
        }
    }

    /// Checks everything a site owner can get wrong; the message starts with the field's path
    /// (`prompts[1].copy.en.title: ...`).
    pub fn validate(&self) -> Result<(), ApiError> {
        self.check().map_err(invalid)
    }

    fn check(&self) -> Result<(), String> {
        if !is_hex_color(&self.theme.brand_color) {
            return Err("theme.brand_color: must look like #1f6feb".into());
        }
        if !is_plausible_timezone(&self.timezone) {
            return Err(format!("timezone: {:?} is not an IANA time zone name like \"Europe/Moscow\"", self.timezone));
        }
        self.business_hours.check().map_err(|e| format!("business_hours.{e}"))?;
        if !(1..=MAX_CALLBACK_MINUTES).contains(&self.callback_minutes) {
            return Err(format!("callback_minutes: must be 1-{MAX_CALLBACK_MINUTES}"));
        }
        if !(self.default_region.len() == 2 && self.default_region.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err("default_region: must be a two-letter uppercase region code like \"RU\"".into());
        }
        if self.exclude_paths.len() > MAX_EXCLUDE_PATHS {
            return Err(format!("exclude_paths: at most {MAX_EXCLUDE_PATHS} patterns"));
        }
        for (index, pattern) in self.exclude_paths.iter().enumerate() {
            glob::check(pattern).map_err(|e| format!("exclude_paths[{index}]: {e}"))?;
        }
        self.guardrails.check().map_err(|e| format!("guardrails.{e}"))?;
        if let Some(timing) = self.test_timing {
            if !(1..=MAX_TIME_SCALE).contains(&timing.time_scale) {
                return Err(format!("test_timing.time_scale: must be 1-{MAX_TIME_SCALE}"));
            }
        }
        if self.prompts.len() > MAX_PROMPTS {
            return Err(format!("prompts: at most {MAX_PROMPTS} prompts"));
        }
        for (index, prompt) in self.prompts.iter().enumerate() {
            if self.prompts[..index].iter().any(|earlier| earlier.id == prompt.id) {
                return Err(format!("prompts[{index}].id: {:?} is used twice", prompt.id));
            }
            prompt.check(self).map_err(|e| format!("prompts[{index}].{e}"))?;
        }
        Ok(())
    }
}

impl Default for WidgetConfig {
    fn default() -> Self {
        WidgetConfig {
            default_locale: Locale::default(),
            theme: Theme::default(),
            consent: ConsentMode::default(),
            timezone: WidgetConfig::default_timezone(),
            business_hours: BusinessHours::default(),
            callback_minutes: WidgetConfig::default_callback_minutes(),
            default_region: WidgetConfig::default_region(),
            exclude_paths: Vec::new(),
            guardrails: Guardrails::default(),
            chat_sound: false,
            #[cfg(feature = "prompt-copy")]
            prompts: builtin_playbooks(),
            #[cfg(not(feature = "prompt-copy"))]
            prompts: Vec::new(),
            test_timing: None,
        }
    }
}

/// Final prompt text for the widget to render.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct RenderedCopy {
    pub title: String,
    pub body: String,
    pub accept: String,
    pub dismiss: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentCopy>,
}

/// One thing the widget may say, when, and in which words.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
// Without `prompt-copy` the `copy` field is read past, not refused.
#[cfg_attr(feature = "prompt-copy", serde(deny_unknown_fields))]
pub struct PromptDefinition {
    /// Stable id (`[a-z0-9_-]`), used in events, history and `answer` conditions.
    pub id: String,
    pub kind: PromptKind,
    #[cfg(feature = "prompt-copy")]
    pub copy: Localized<PromptCopy>,
    /// Days a dismissed prompt stays away; `guardrails.default_cooldown_days` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_days: Option<u32>,
    pub when: Condition,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PromptKind {
    /// Collects an email to send a comparison of the viewed products.
    ComparisonEmail,
    /// Collects a phone number for a callback (now, or in a chosen slot after hours).
    Callback,
    /// Asks one multiple-choice question; the chosen `value` becomes an attribute rules can use.
    Question(Question),
    /// Invites the visitor into the live chat.
    ChatInvitation,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub question: Localized<String>,
    pub choices: Vec<Choice>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// Stable value stored as the answer (`0-1`); labels may change, this may not.
    pub value: String,
    pub label: Localized<String>,
}

/// One value per language the widget speaks; both are required so no visitor sees a blank card.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Localized<T> {
    pub ru: T,
    pub en: T,
}

impl<T> Localized<T> {
    pub fn get(&self, locale: Locale) -> &T {
        match locale {
            Locale::Ru => &self.ru,
            Locale::En => &self.en,
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PromptCopy {
    pub title: String,
    /// May contain `{minutes}`, replaced by `callback_minutes`.
    pub body: String,
    pub accept: String,
    pub dismiss: String,
    /// Shown next to the contact field; required for prompts that collect a contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentCopy>,
    /// A callback's words outside business hours, when nobody can call within minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_hours: Option<AfterHoursCopy>,
}

/// The consent text exactly as shown, with the version recorded alongside a lead so that what the
/// visitor agreed to can be proven later.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConsentCopy {
    pub text: String,
    pub consent_version: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AfterHoursCopy {
    pub title: String,
    pub body: String,
    pub accept: String,
}

impl PromptDefinition {
    fn check(&self, config: &WidgetConfig) -> Result<(), String> {
        if !is_valid_prompt_id(&self.id) {
            return Err(format!("id: {:?} must be 1-64 characters of [a-z0-9_-]", self.id));
        }
        if let Some(days) = self.cooldown_days {
            if !(MIN_COOLDOWN_DAYS..=MAX_COOLDOWN_DAYS).contains(&days) {
                return Err(format!("cooldown_days: must be {}-{MAX_COOLDOWN_DAYS}", MIN_COOLDOWN_DAYS));
            }
        }
        if let PromptKind::Question(question) = &self.kind {
            question.check().map_err(|e| format!("kind.question.{e}"))?;
        }
        #[cfg(feature = "prompt-copy")]
        for (locale, copy) in [("ru", &self.copy.ru), ("en", &self.copy.en)] {
            copy.check(&self.kind).map_err(|e| format!("copy.{locale}.{e}"))?;
        }
        let mut nodes = 0;
        check_condition(&self.when, config, 1, &mut nodes).map_err(|e| format!("when{e}"))
    }
}

impl Question {
    fn check(&self) -> Result<(), String> {
        check_text("question.ru", &self.question.ru, MAX_COPY_LEN)?;
        check_text("question.en", &self.question.en, MAX_COPY_LEN)?;
        if !(2..=MAX_CHOICES).contains(&self.choices.len()) {
            return Err(format!("choices: list 2-{MAX_CHOICES} choices"));
        }
        for (index, choice) in self.choices.iter().enumerate() {
            if !is_valid_choice_value(&choice.value) {
                return Err(format!("choices[{index}].value: {:?} must be 1-32 characters of [a-z0-9_+-]", choice.value));
            }
            if self.choices[..index].iter().any(|earlier| earlier.value == choice.value) {
                return Err(format!("choices[{index}].value: {:?} is used twice", choice.value));
            }
            check_text(&format!("choices[{index}].label.ru"), &choice.label.ru, MAX_LABEL_LEN)?;
            check_text(&format!("choices[{index}].label.en"), &choice.label.en, MAX_LABEL_LEN)?;
        }
        Ok(())
    }

    pub fn has_choice(&self, value: &str) -> bool {
        self.choices.iter().any(|choice| choice.value == value)
    }
}

#[cfg(feature = "prompt-copy")]
impl PromptCopy {
    fn check(&self, kind: &PromptKind) -> Result<(), String> {
        check_text("title", &self.title, MAX_COPY_LEN)?;
        check_text("body", &self.body, MAX_COPY_LEN)?;
        check_text("accept", &self.accept, MAX_LABEL_LEN)?;
        check_text("dismiss", &self.dismiss, MAX_LABEL_LEN)?;
        let collects_contact = matches!(kind, PromptKind::ComparisonEmail | PromptKind::Callback);
        match &self.consent {
            Some(consent) => {
                check_text("consent.text", &consent.text, MAX_COPY_LEN)?;
                check_text("consent.consent_version", &consent.consent_version, MAX_CONSENT_VERSION_LEN)?;
            }
            None if collects_contact => {
                return Err("consent: required for a prompt that collects an email or a phone".into());
            }
            None => {}
        }
        match (&self.after_hours, kind) {
            (Some(after), PromptKind::Callback) => {
                check_text("after_hours.title", &after.title, MAX_COPY_LEN)?;
                check_text("after_hours.body", &after.body, MAX_COPY_LEN)?;
                check_text("after_hours.accept", &after.accept, MAX_LABEL_LEN)?;
            }
            (None, PromptKind::Callback) => {
                return Err("after_hours: required for a callback (what to say when nobody can call soon)".into());
            }
            (Some(_), _) => return Err("after_hours: only a callback prompt has after-hours copy".into()),
            (None, _) => {}
        }
        Ok(())
    }
}

/// Errors come back as a path suffix (`.all[1].url_matches: ...`) for the caller to prefix.
fn check_condition(condition: &Condition, config: &WidgetConfig, depth: usize, nodes: &mut usize) -> Result<(), String> {
    *nodes += 1;
    if *nodes > MAX_CONDITION_NODES {
        return Err(format!(": a condition may have at most {MAX_CONDITION_NODES} parts"));
    }
    if depth > MAX_CONDITION_DEPTH {
        return Err(format!(": conditions nest at most {MAX_CONDITION_DEPTH} deep"));
    }
    match condition {
        Condition::All(list) | Condition::Any(list) => {
            let name = if matches!(condition, Condition::All(_)) { "all" } else { "any" };
            if list.is_empty() {
                return Err(format!(".{name}: must list at least one condition"));
            }
            for (index, inner) in list.iter().enumerate() {
                check_condition(inner, config, depth + 1, nodes).map_err(|e| format!(".{name}[{index}]{e}"))?;
            }
            Ok(())
        }
        Condition::Not(inner) => check_condition(inner, config, depth + 1, nodes).map_err(|e| format!(".not{e}")),
        Condition::UrlMatches(pattern) => glob::check(pattern).map_err(|e| format!(".url_matches: {e}")),
        Condition::ProductCategory(category) => {
            check_text("", category, crate::base::text::MAX_CATEGORY_LEN).map_err(|e| format!(".product_category{e}"))
        }
        Condition::PriceBetween(range) => {
            let negative = range.min.is_some_and(|m| m < 0) || range.max.is_some_and(|m| m < 0);
            let inverted = matches!((range.min, range.max), (Some(min), Some(max)) if min > max);
            if range.min.is_none() && range.max.is_none() || negative || inverted {
                return Err(".price_between: give min and/or max, non-negative, min <= max".into());
            }
            Ok(())
        }
        Condition::Answer(AnswerIs { prompt, is }) => {
            let question = config.prompt(prompt).and_then(|definition| match &definition.kind {
                PromptKind::Question(question) => Some(question),
                _ => None,
            });
            match question {
                None => Err(format!(".answer.prompt: {prompt:?} is not a question prompt in this config")),
                Some(question) if !question.has_choice(is) => {
                    Err(format!(".answer.is: {is:?} is not one of the choices of {prompt:?}"))
                }
                Some(_) => Ok(()),
            }
        }
        Condition::ProductsViewedAtLeast(_)
        | Condition::DistinctProductsAtLeast(_)
        | Condition::SameProductViewedAtLeast(_)
        | Condition::ActiveSecondsAtLeast(_)
        | Condition::PagesAtLeast(_)
        | Condition::ExitIntent
        | Condition::ReturningVisitor
        | Condition::OperatorOnline
        | Condition::WithinBusinessHours
        | Condition::Locale(_) => Ok(()),
    }
}

/// Errors as `field: message`, so the caller only prefixes the parent path.
fn check_text(field: &str, value: &str, max: usize) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{field}: must not be empty"));
    }
    if value.chars().count() > max {
        return Err(format!("{field}: must be at most {max} characters"));
    }
    Ok(())
}

fn is_valid_choice_value(value: &str) -> bool {
    (1..=32).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'+'))
}

/// A loose IANA zone check (`Area/Location` or `UTC`): the browser's `Intl` is the real authority,
/// this only catches typos such as offsets or spaces.
fn is_plausible_timezone(zone: &str) -> bool {
    let well_formed = !zone.is_empty()
        && zone.len() <= 64
        && zone.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+'))
        && !zone.starts_with('/')
        && !zone.ends_with('/');
    well_formed && (zone.contains('/') || zone == "UTC")
}


#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    /// `#rrggbb`.
    #[serde(default = "Theme::default_brand_color")]
    pub brand_color: String,
    #[serde(default)]
    pub position: Position,
}

impl Theme {
    fn default_brand_color() -> String {
        "#1f6feb".into()
    }
}

impl Default for Theme {
    fn default() -> Self {
        Theme { brand_color: Theme::default_brand_color(), position: Position::default() }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    #[default]
    BottomRight,
    BottomLeft,
}

/// Whether the widget may store and send anything before the visitor agrees.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConsentMode {
    /// First-party storage and events from the start (legitimate interest).
    #[default]
    Implied,
    /// Nothing stored or sent until `floorwalker('consent', true)` or an interaction with the widget.
    Required,
}

/// What `GET /v1/sites/:site/config` serves to the widget.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct PublicSiteConfig {
    pub site: String,
    pub name: String,
    pub widget: WidgetConfig,
}

impl SiteConfig {
    pub fn public(&self) -> PublicSiteConfig {
        PublicSiteConfig { site: self.site.clone(), name: self.name.clone(), widget: self.widget.clone() }
    }

    /// Checks the whole config; the first problem found is reported with the field it concerns.
    pub fn validate(&self) -> Result<(), ApiError> {
        validate_site_id(&self.site).map_err(|e| invalid(format!("site: {}", e.message)))?;
        let name_len = self.name.trim().chars().count();
        if name_len == 0 || name_len > MAX_NAME_LEN {
            return Err(invalid(format!("name: must be 1-{MAX_NAME_LEN} characters")));
        }
        if self.origins.is_empty() || self.origins.len() > MAX_ORIGINS {
            return Err(invalid(format!("origins: list 1-{MAX_ORIGINS} origins")));
        }
        origins::check_origins(&self.origins)?;
        self.widget.check().map_err(|e| invalid(format!("widget.{e}")))
    }

    /// Whether the config asks for shortened test timing, which only a test deployment may accept
    /// or serve (see [`WidgetConfig::test_timing`]).
    pub fn uses_test_timing(&self) -> bool {
        self.widget.test_timing.is_some()
    }

    /// Whether a request's `Origin` header value may use this site's widget.
    pub fn allows_origin(&self, origin: &str) -> bool {
        normalize_origin(origin).is_some_and(|origin| self.origins.contains(&origin))
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidConfig, message)
}

mod origins;
pub use origins::{normalize_origin, origin_taken};

#[cfg(test)]
mod tests;
