//! The site config: what a site owner sets up, validated before it is stored.
//!
//! [`SiteConfig`] is the whole document the admin API accepts. [`PublicSiteConfig`] is the part the
//! widget may see: it never carries origins, endpoints or secrets.

use serde::{Deserialize, Serialize};

use crate::base::error::{ApiError, ErrorCode, Invalid, Rule, Unit};
use crate::base::ids::{is_valid_prompt_id, validate_site_id};
use crate::base::locale::Locale;
use crate::base::phone::PhoneRegion;
use crate::base::url::glob;
use crate::prompts::contrast::is_hex_color;
use crate::prompts::hours::BusinessHours;
use crate::prompts::judgement::{Highlight, MAX_PRIORITY};
use crate::prompts::rules::{
    AnswerIs, Condition, Guardrails, CALLBACK_MIN_ACTIVE_SECONDS, COMPARISON_MIN_DISTINCT_PRODUCTS, MAX_COOLDOWN_DAYS,
    MIN_COOLDOWN_DAYS, MIN_DWELL_FLOOR_SECONDS,
};
#[cfg(feature = "prompt-copy")]
use crate::prompts::rules::CopyVariant;
#[cfg(feature = "prompt-copy")]
use crate::prompts::playbooks::builtin_playbooks;

/// Largest site config accepted, in bytes of JSON.
pub const MAX_CONFIG_BYTES: usize = 64 * 1024;
/// Origins one site may list.
pub const MAX_ORIGINS: usize = 32;
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
    /// The languages the shop writes its prompts in, the ones its owner picked: an English-only
    /// shop lists `["en"]` and writes English only. Copy is required in these and only these;
    /// words in another language are kept (for the day it is picked again) but never shown.
    /// Absent in configs written before the choice existed, which had to carry both.
    #[serde(default = "SiteConfig::default_locales")]
    pub locales: Vec<Locale>,
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
        let asks = |when: &Condition| when.mentions(&|c| *c == Condition::OperatorOnline);
        self.prompts.iter().any(|prompt| {
            asks(&prompt.when) || prompt.experiment.iter().flat_map(|e| &e.variants).filter_map(|v| v.when.as_ref()).any(asks)
        })
    }

    /// The text a prompt's `copy` (its own, or an experiment arm's: `PromptDefinition::copy_of_arm`)
    /// shows in `locale`, with the after-hours variant, the words for the visitor's `answers` (the
    /// first [`AnsweredCopy`] that matches, regular variant only) and `{minutes}` applied.
    #[cfg(feature = "prompt-copy")]
    pub fn render_copy(&self, copy: &Localized<PromptCopy>, locale: Locale, variant: CopyVariant, answers: &[AnswerIs]) -> RenderedCopy {
        let copy = copy.get(locale);
        let after_hours = copy.after_hours.as_ref().filter(|_| variant == CopyVariant::AfterHours);
        let answered = copy.answered.iter().find(|a| variant == CopyVariant::Regular && answers.contains(&a.answer));
        let minutes = self.callback_minutes.to_string();
        let fill = |text: &str| text.replace(MINUTES_PLACEHOLDER, &minutes);
        let (title, body) = match (after_hours, answered) {
            (Some(after), _) => (&after.title, &after.body),
            (None, Some(answered)) => (&answered.title, &answered.body),
            (None, None) => (&copy.title, &copy.body),
        };
        RenderedCopy {
            title: fill(title),
            body: fill(body),
            accept: fill(after_hours.map_or(&copy.accept, |a| &a.accept)),
            dismiss: copy.dismiss.clone(),
            consent: copy.consent.clone(),
        }
    }

    /// Checks everything a site owner can get wrong, with copy required in both languages; the
    /// message starts with the field's path (`prompts[1].copy.en.title: ...`). A whole site config
    /// is checked against its own languages ([`SiteConfig::validate`]).
    pub fn validate(&self) -> Result<(), ApiError> {
        self.check(&Locale::ALL).map_err(|problem| problem.to_api_error(ErrorCode::InvalidConfig, Locale::En))
    }

    /// The first problem, its field relative to the widget config, for a site that speaks `locales`.
    pub fn check(&self, locales: &[Locale]) -> Result<(), Invalid> {
        if !is_hex_color(&self.theme.brand_color) {
            return Err(Invalid::new("theme.brand_color", Rule::Format { example: "#1f6feb" }));
        }
        if !is_plausible_timezone(&self.timezone) {
            return Err(Invalid::new("timezone", Rule::Format { example: "Europe/Moscow" }));
        }
        self.business_hours.check().map_err(|e| e.under("business_hours"))?;
        if !(1..=MAX_CALLBACK_MINUTES).contains(&self.callback_minutes) {
            return Err(Invalid::new("callback_minutes", between(1, MAX_CALLBACK_MINUTES, Unit::Minutes)));
        }
        if !(self.default_region.len() == 2 && self.default_region.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err(Invalid::new("default_region", Rule::Format { example: "RU" }));
        }
        if !locales.contains(&self.default_locale) {
            return Err(Invalid::new("default_locale", Rule::NotASiteLocale { locale: self.default_locale }));
        }
        if self.exclude_paths.len() > MAX_EXCLUDE_PATHS {
            return Err(Invalid::new("exclude_paths", Rule::Count { min: 0, max: MAX_EXCLUDE_PATHS }));
        }
        for (index, pattern) in self.exclude_paths.iter().enumerate() {
            glob::check(pattern).map_err(|e| Invalid::new(format!("exclude_paths[{index}]"), Rule::Detail(e)))?;
        }
        self.guardrails.check().map_err(|e| e.under("guardrails"))?;
        if let Some(timing) = self.test_timing {
            if !(1..=MAX_TIME_SCALE).contains(&timing.time_scale) {
                return Err(Invalid::new("test_timing.time_scale", between(1, MAX_TIME_SCALE, Unit::Count)));
            }
        }
        if self.prompts.len() > MAX_PROMPTS {
            return Err(Invalid::new("prompts", Rule::Count { min: 0, max: MAX_PROMPTS }));
        }
        for (index, prompt) in self.prompts.iter().enumerate() {
            if self.prompts[..index].iter().any(|earlier| earlier.id == prompt.id) {
                return Err(Invalid::new(format!("prompts[{index}].id"), Rule::Duplicate { value: prompt.id.clone() }));
            }
            prompt.check(self, locales).map_err(|e| e.under(&format!("prompts[{index}]")))?;
        }
        // Answers other prompts' words refer to, once every question is known to be sound. Words
        // for a question the config does not have stay dormant: a site that keeps the built-in
        // comparison but drops the built-in question must not be refused for it.
        #[cfg(feature = "prompt-copy")]
        for (index, prompt) in self.prompts.iter().enumerate() {
            let variants = prompt.experiment.iter().flat_map(|e| e.variants.iter().enumerate());
            let copies = std::iter::once((format!("prompts[{index}].copy"), &prompt.copy)).chain(variants.filter_map(|(n, variant)| {
                Some((format!("prompts[{index}].experiment.variants[{n}].copy"), variant.copy.as_ref()?))
            }));
            for (path, copy) in copies {
                for &locale in locales {
                    let Some(copy) = copy.in_locale(locale) else { continue };
                    let present = copy.answered.iter().enumerate().filter(|(_, a)| self.prompt(&a.answer.prompt).is_some());
                    for (n, answered) in present {
                        check_condition(&Condition::Answer(answered.answer.clone()), self, 1, &mut 0)
                            .map_err(|e| e.under(&format!("{path}.{}.answered[{n}]", locale.code())))?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Only the words in `locales`: what the widget may show (see [`SiteConfig::locales`]).
    #[cfg(feature = "prompt-copy")]
    fn keep_locales(&mut self, locales: &[Locale]) {
        for prompt in &mut self.prompts {
            prompt.copy.keep(locales);
            for variant in prompt.experiment.iter_mut().flat_map(|e| &mut e.variants) {
                if let Some(copy) = &mut variant.copy {
                    copy.keep(locales);
                }
            }
            if let PromptKind::Question(question) = &mut prompt.kind {
                question.question.keep(locales);
                for choice in &mut question.choices {
                    choice.label.keep(locales);
                    if let Some(highlight) = &mut choice.highlight {
                        highlight.note.keep(locales);
                    }
                }
            }
        }
    }
}

fn between(min: u32, max: u32, unit: Unit) -> Rule {
    Rule::Between { min: u64::from(min), max: u64::from(max), unit }
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
    /// Which card matters more (0-100, higher first): when several are eligible, and whether one
    /// may replace an untouched card at exit intent. By kind when absent (see
    /// `judgement::default_priority`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
    /// Days a dismissed prompt stays away; `guardrails.default_cooldown_days` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_days: Option<u32>,
    pub when: Condition,
    /// Off: kept with its words and rules, but never served to the widget (the owner's on/off
    /// switch; absent means on).
    #[serde(default = "on", skip_serializing_if = "is_on")]
    pub enabled: bool,
    /// Other words or timing for some visitors, to learn which sells better (see [`experiment`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<Experiment>,
    /// The corner its card appears in on wider screens; beside the launcher
    /// (`widget.theme.position`) when absent. On a phone every card is a sheet across the bottom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
}

fn on() -> bool {
    true
}

fn is_on(enabled: &bool) -> bool {
    *enabled
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
    /// What this answer makes a later comparison point out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highlight: Option<Highlight>,
}

/// One value per language the site speaks: `{"ru": …, "en": …}`, or one of them for a site that
/// speaks one language. Never none (a value with no words at all is refused while reading), so
/// [`Localized::get`] always has something to show: the words in the asked language, else the
/// other's, and no visitor sees a blank card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Localized<T> {
    Both { ru: T, en: T },
    Only(Locale, T),
}

impl<T> Localized<T> {
    /// The words in `locale`, else in the other language.
    pub fn get(&self, locale: Locale) -> &T {
        match self {
            Localized::Both { ru, en } => match locale {
                Locale::Ru => ru,
                Locale::En => en,
            },
            Localized::Only(_, value) => value,
        }
    }

    /// The words written in `locale`, if any.
    pub fn in_locale(&self, locale: Locale) -> Option<&T> {
        match self {
            Localized::Both { .. } => Some(self.get(locale)),
            Localized::Only(only, value) => (*only == locale).then_some(value),
        }
    }

    pub fn in_locale_mut(&mut self, locale: Locale) -> Option<&mut T> {
        match self {
            Localized::Both { ru, en } => Some(match locale {
                Locale::Ru => ru,
                Locale::En => en,
            }),
            Localized::Only(only, value) => (*only == locale).then_some(value),
        }
    }

    /// Writes the words for `locale`, keeping the other language's.
    pub fn set(&mut self, locale: Locale, value: T)
    where
        T: Clone,
    {
        let other = self.in_locale(locale.other()).cloned();
        *self = match (locale, other) {
            (Locale::Ru, Some(en)) => Localized::Both { ru: value, en },
            (Locale::En, Some(ru)) => Localized::Both { ru, en: value },
            (_, None) => Localized::Only(locale, value),
        };
    }

    /// Keeps only the words in `locales` (all of them, if none of `locales` has words).
    pub fn keep(&mut self, locales: &[Locale])
    where
        T: Clone,
    {
        if let Localized::Both { ru, en } = self {
            match (locales.contains(&Locale::Ru), locales.contains(&Locale::En)) {
                (true, false) => *self = Localized::Only(Locale::Ru, ru.clone()),
                (false, true) => *self = Localized::Only(Locale::En, en.clone()),
                _ => {}
            }
        }
    }

    /// The same languages, each one's words turned into something else.
    pub fn map<U>(&self, f: impl Fn(&T) -> U) -> Localized<U> {
        match self {
            Localized::Both { ru, en } => Localized::Both { ru: f(ru), en: f(en) },
            Localized::Only(locale, value) => Localized::Only(*locale, f(value)),
        }
    }

    /// Each language's words, in `Locale::ALL` order.
    pub fn each(&self) -> impl Iterator<Item = (Locale, &T)> {
        Locale::ALL.into_iter().filter_map(move |locale| self.in_locale(locale).map(|value| (locale, value)))
    }

    /// Checks the words of every language in `locales`; the field of a problem is the language
    /// (`en.title`), a language without words is [`Rule::MissingLocale`].
    fn check_each(&self, locales: &[Locale], check: impl Fn(&T) -> Result<(), Invalid>) -> Result<(), Invalid> {
        for &locale in locales {
            let value = self.in_locale(locale).ok_or_else(|| Invalid::new(locale.code(), Rule::MissingLocale { locale }))?;
            check(value).map_err(|e| e.under(locale.code()))?;
        }
        Ok(())
    }
}

impl<T: Serialize> Serialize for Localized<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        for (locale, value) in self.each() {
            map.serialize_entry(locale.code(), value)?;
        }
        map.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Localized<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Written<T> {
            ru: Option<T>,
            en: Option<T>,
        }
        let written = Written::<T>::deserialize(deserializer)?;
        match (written.ru, written.en) {
            (Some(ru), Some(en)) => Ok(Localized::Both { ru, en }),
            (Some(ru), None) => Ok(Localized::Only(Locale::Ru, ru)),
            (None, Some(en)) => Ok(Localized::Only(Locale::En, en)),
            (None, None) => Err(serde::de::Error::custom("words in at least one language: {\"en\": …} or {\"ru\": …}")),
        }
    }
}

impl PromptDefinition {
    fn check(&self, config: &WidgetConfig, locales: &[Locale]) -> Result<(), Invalid> {
        if !is_valid_prompt_id(&self.id) {
            return Err(Invalid::new("id", Rule::Format { example: "callback (a-z, 0-9, _ and -)" }));
        }
        if self.priority.is_some_and(|priority| priority > MAX_PRIORITY) {
            return Err(Invalid::new("priority", between(0, MAX_PRIORITY.into(), Unit::Count)));
        }
        if let Some(days) = self.cooldown_days {
            if !(MIN_COOLDOWN_DAYS..=MAX_COOLDOWN_DAYS).contains(&days) {
                return Err(Invalid::new("cooldown_days", between(MIN_COOLDOWN_DAYS, MAX_COOLDOWN_DAYS, Unit::Days)));
            }
        }
        if let PromptKind::Question(question) = &self.kind {
            question.check(locales).map_err(|e| e.under("kind.question"))?;
        }
        #[cfg(feature = "prompt-copy")]
        self.copy.check_each(locales, |copy| copy.check(&self.kind)).map_err(|e| e.under("copy"))?;
        check_when(&self.when, &self.kind, config).map_err(|e| e.under("when"))?;
        if let Some(experiment) = &self.experiment {
            experiment.check(self, config, locales).map_err(|e| e.under("experiment"))?;
        }
        Ok(())
    }
}

/// A prompt's `when` (or a variant's): a sound condition that respects the floors of `kind`.
fn check_when(when: &Condition, kind: &PromptKind, config: &WidgetConfig) -> Result<(), Invalid> {
    check_condition(when, config, 1, &mut 0)?;
    check_floors(when, kind)
}

/// The thresholds the owner's form shows as fields (the condition itself, or the parts of a
/// top-level `all`) may not promise less than the engine's own floors: a callback after 60 s
/// would silently wait 300 s, so the form says so instead of storing a number that lies.
fn check_floors(when: &Condition, kind: &PromptKind) -> Result<(), Invalid> {
    let parts: Vec<(String, &Condition)> = match when {
        Condition::All(parts) => parts.iter().enumerate().map(|(i, part)| (format!("all[{i}]"), part)).collect(),
        single => vec![(String::new(), single)],
    };
    for (path, part) in parts {
        let field = |name: &str| if path.is_empty() { name.to_owned() } else { format!("{path}.{name}") };
        match part {
            Condition::ActiveSecondsAtLeast(seconds) => {
                let floor = active_seconds_floor(kind);
                if *seconds < floor {
                    return Err(Invalid::new(field("active_seconds_at_least"), Rule::BelowFloor { floor: floor.into(), unit: Unit::Seconds }));
                }
            }
            Condition::DistinctProductsAtLeast(products) => {
                let floor = distinct_products_floor(kind);
                if *products < floor {
                    return Err(Invalid::new(field("distinct_products_at_least"), Rule::BelowFloor { floor: floor.into(), unit: Unit::Count }));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The least active time a prompt of `kind` can wait for: the engine's minimum dwell, and for a
/// callback its own longer floor (`rules::CALLBACK_MIN_ACTIVE_SECONDS`).
pub fn active_seconds_floor(kind: &PromptKind) -> u32 {
    match kind {
        PromptKind::Callback => CALLBACK_MIN_ACTIVE_SECONDS,
        _ => MIN_DWELL_FLOOR_SECONDS,
    }
}

/// The fewest distinct products a prompt of `kind` can ask for: a comparison needs two, the rest
/// nothing.
pub fn distinct_products_floor(kind: &PromptKind) -> u32 {
    match kind {
        PromptKind::ComparisonEmail => COMPARISON_MIN_DISTINCT_PRODUCTS as u32,
        _ => 0,
    }
}

impl Question {
    fn check(&self, locales: &[Locale]) -> Result<(), Invalid> {
        self.question.check_each(locales, |q| check_text(q, MAX_COPY_LEN)).map_err(|e| e.under("question"))?;
        if !(2..=MAX_CHOICES).contains(&self.choices.len()) {
            return Err(Invalid::new("choices", Rule::Count { min: 2, max: MAX_CHOICES }));
        }
        for (index, choice) in self.choices.iter().enumerate() {
            let at = format!("choices[{index}]");
            if !is_valid_choice_value(&choice.value) {
                return Err(Invalid::new(format!("{at}.value"), Rule::Format { example: "0-1 (a-z, 0-9, _, + and -)" }));
            }
            if self.choices[..index].iter().any(|earlier| earlier.value == choice.value) {
                return Err(Invalid::new(format!("{at}.value"), Rule::Duplicate { value: choice.value.clone() }));
            }
            choice.label.check_each(locales, |label| check_text(label, MAX_LABEL_LEN)).map_err(|e| e.under(&format!("{at}.label")))?;
            if let Some(highlight) = &choice.highlight {
                highlight.check(locales).map_err(|e| e.under(&format!("{at}.highlight")))?;
            }
        }
        Ok(())
    }

    pub fn has_choice(&self, value: &str) -> bool {
        self.choices.iter().any(|choice| choice.value == value)
    }
}

/// Errors come back with the field relative to `condition` (`all[1].url_matches`), for the
/// caller to put under its own path.
fn check_condition(condition: &Condition, config: &WidgetConfig, depth: usize, nodes: &mut usize) -> Result<(), Invalid> {
    *nodes += 1;
    if *nodes > MAX_CONDITION_NODES {
        return Err(Invalid::new("", Rule::TooComplex { max: MAX_CONDITION_NODES }));
    }
    if depth > MAX_CONDITION_DEPTH {
        return Err(Invalid::new("", Rule::TooComplex { max: MAX_CONDITION_DEPTH }));
    }
    match condition {
        Condition::All(list) | Condition::Any(list) => {
            let name = if matches!(condition, Condition::All(_)) { "all" } else { "any" };
            if list.is_empty() {
                return Err(Invalid::new(name, Rule::Count { min: 1, max: MAX_CONDITION_NODES }));
            }
            for (index, inner) in list.iter().enumerate() {
                check_condition(inner, config, depth + 1, nodes).map_err(|e| e.under(&format!("{name}[{index}]")))?;
            }
            Ok(())
        }
        Condition::Not(inner) => check_condition(inner, config, depth + 1, nodes).map_err(|e| e.under("not")),
        Condition::UrlMatches(pattern) => glob::check(pattern).map_err(|e| Invalid::new("url_matches", Rule::Detail(e))),
        Condition::ProductCategory(category) => {
            check_text(category, crate::base::text::MAX_CATEGORY_LEN).map_err(|e| e.under("product_category"))
        }
        Condition::PriceBetween(range) => {
            let negative = range.min.is_some_and(|m| m < 0) || range.max.is_some_and(|m| m < 0);
            let inverted = matches!((range.min, range.max), (Some(min), Some(max)) if min > max);
            if range.min.is_none() && range.max.is_none() || negative || inverted {
                return Err(Invalid::new("price_between", Rule::Detail("give min and/or max, non-negative, min <= max".into())));
            }
            Ok(())
        }
        Condition::Answer(AnswerIs { prompt, is }) => {
            let question = config.prompt(prompt).and_then(|definition| match &definition.kind {
                PromptKind::Question(question) => Some(question),
                _ => None,
            });
            match question {
                None => Err(Invalid::new("answer.prompt", Rule::UnknownQuestion { prompt: prompt.clone() })),
                Some(question) if !question.has_choice(is) => {
                    Err(Invalid::new("answer.is", Rule::UnknownChoice { prompt: prompt.clone(), value: is.clone() }))
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

/// A text's own problem, with an empty field for the caller to name.
fn check_text(value: &str, max: usize) -> Result<(), Invalid> {
    if value.trim().is_empty() {
        return Err(Invalid::new("", Rule::Empty));
    }
    if value.chars().count() > max {
        return Err(Invalid::new("", Rule::TooLong { max }));
    }
    Ok(())
}

/// [`check_text`] for the field `field`.
#[cfg(feature = "prompt-copy")]
fn check_field(field: &str, value: &str, max: usize) -> Result<(), Invalid> {
    check_text(value, max).map_err(|e| e.under(field))
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

impl Position {
    /// Both corners, in the order forms list them.
    pub const ALL: [Position; 2] = [Position::BottomRight, Position::BottomLeft];

    /// The config's name for it (`bottom_right`), as forms and the docs write it.
    pub fn key(self) -> &'static str {
        match self {
            Position::BottomRight => "bottom_right",
            Position::BottomLeft => "bottom_left",
        }
    }

    /// The corner named `key` ([`Position::key`]).
    pub fn from_key(key: &str) -> Option<Position> {
        Position::ALL.into_iter().find(|p| p.key() == key)
    }
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
    fn default_locales() -> Vec<Locale> {
        Locale::ALL.to_vec()
    }

    /// What the widget may see: no origins, and only the words in the site's languages (the
    /// widget shows the visitor's language if the site speaks it, else the other one).
    pub fn public(&self) -> PublicSiteConfig {
        let mut widget = self.widget.clone();
        widget.prompts.retain(|prompt| prompt.enabled);
        #[cfg(feature = "prompt-copy")]
        widget.keep_locales(&self.locales);
        PublicSiteConfig { site: self.site.clone(), name: self.name.clone(), widget }
    }

    /// Checks the whole config; the first problem found is reported with the field it concerns
    /// (in English: the admin API's language).
    pub fn validate(&self) -> Result<(), ApiError> {
        self.validate_in(Locale::En)
    }

    /// [`SiteConfig::validate`] with the message in `locale`, for an owner's console.
    pub fn validate_in(&self, locale: Locale) -> Result<(), ApiError> {
        validate_site_id(&self.site).map_err(|e| invalid(format!("site: {}", e.message)))?;
        let name_len = self.name.trim().chars().count();
        if name_len == 0 || name_len > MAX_NAME_LEN {
            return Err(Invalid::new("name", between(1, MAX_NAME_LEN as u32, Unit::Characters)).to_api_error(ErrorCode::InvalidConfig, locale));
        }
        if self.origins.is_empty() || self.origins.len() > MAX_ORIGINS {
            return Err(invalid(format!("origins: list 1-{MAX_ORIGINS} origins")));
        }
        origins::check_origins(&self.origins)?;
        self.check().map_err(|problem| problem.to_api_error(ErrorCode::InvalidConfig, locale))
    }

    /// The languages and the widget config, the part an owner edits in the console.
    pub fn check(&self) -> Result<(), Invalid> {
        if self.locales.is_empty() || self.locales.len() > Locale::ALL.len() {
            return Err(Invalid::new("locales", Rule::Count { min: 1, max: Locale::ALL.len() }));
        }
        if let Some(twice) = self.locales.iter().enumerate().find(|(i, l)| self.locales[..*i].contains(l)) {
            return Err(Invalid::new("locales", Rule::Duplicate { value: twice.1.code().into() }));
        }
        self.widget.check(&self.locales).map_err(|e| e.under("widget"))
    }

    /// This config with a JSON merge patch applied (`base::merge_patch`, RFC 7396): what `PATCH
    /// /v1/admin/sites/:site` stores, once the result validates. The patch names only what
    /// changes; a list (`origins`, `prompts`) is replaced whole, so one prompt is patched on its
    /// own ([`SiteConfig::patched_prompt`]).
    #[cfg(feature = "prompt-copy")]
    pub fn patched(&self, patch: &serde_json::Value, locale: Locale) -> Result<SiteConfig, ApiError> {
        let mut document = serde_json::to_value(self).map_err(|e| invalid(e.to_string()))?;
        crate::base::merge_patch::apply(&mut document, patch);
        serde_json::from_value(document)
            .map_err(|e| Invalid::new("", Rule::Detail(e.to_string())).to_api_error(ErrorCode::InvalidConfig, locale))
    }

    /// This config with a merge patch applied to its prompt `id` only: `PATCH
    /// /v1/admin/sites/:site/prompts/:id` with `{"copy": {"en": {"title": "…"}}}` changes that title
    /// and nothing else. `not_found` for a prompt the config does not have; the id itself is the
    /// prompt's address and does not change.
    #[cfg(feature = "prompt-copy")]
    pub fn patched_prompt(&self, id: &str, patch: &serde_json::Value, locale: Locale) -> Result<SiteConfig, ApiError> {
        let index = self
            .widget
            .prompts
            .iter()
            .position(|prompt| prompt.id == id)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("the site has no prompt {id:?}")))?;
        let field = format!("widget.prompts[{index}]");
        let refuse = |rule: Rule, under: &str| Invalid::new(under, rule).to_api_error(ErrorCode::InvalidConfig, locale);
        if patch.get("id").is_some_and(|new| new.as_str() != Some(id)) {
            return Err(refuse(Rule::Detail("a prompt's id is its address and does not change".into()), &format!("{field}.id")));
        }
        let mut prompt = serde_json::to_value(&self.widget.prompts[index]).map_err(|e| invalid(e.to_string()))?;
        crate::base::merge_patch::apply(&mut prompt, patch);
        let prompt: PromptDefinition = serde_json::from_value(prompt).map_err(|e| refuse(Rule::Detail(e.to_string()), &field))?;
        let mut config = self.clone();
        config.widget.prompts[index] = prompt;
        Ok(config)
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

/// The revision of a stored config: an entity tag derived from its stored text, so any change
/// gives a new one. `GET /v1/admin/sites/:site` sends it as `ETag`; a `PUT` with `If-Match` is
/// refused when the config changed after it was read (two people editing, the second would
/// silently undo the first).
pub fn revision_tag(stored: &str) -> String {
    let digest = crate::base::crypto::sha256(stored.as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether an `If-Match` header value allows changing the config stored as `stored`: `*`, or
/// one of its listed tags is the current one (a weak `W/` tag compares by its value).
pub fn if_match_allows(if_match: &str, stored: &str) -> bool {
    let current = revision_tag(stored);
    if_match.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/") == current)
}

/// The refusal of a change made to a config that changed after it was read.
pub fn changed_meanwhile() -> ApiError {
    ApiError::new(ErrorCode::PreconditionFailed, "the site's config changed after it was read; read it again and redo the change")
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidConfig, message)
}

mod copy;
pub mod experiment;
mod origins;
pub use copy::{AfterHoursCopy, AnsweredCopy, ConsentCopy, PromptCopy, RenderedCopy};
pub use experiment::{Experiment, Variant};
pub use origins::{normalize_origin, origin_taken};

#[cfg(test)]
mod tests;
#[cfg(all(test, feature = "prompt-copy"))]
mod reference;
