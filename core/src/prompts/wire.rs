//! The prompts domain's wire forms (`base::wire`). The public site config: what `GET
//! /v1/sites/:site/config?wire=1` serves and the widget's modules decode; the prompts' words
//! travel as one section per prompt, so that the first load (built without `prompt-copy`) skips
//! them unread and the UI modules read them. The prompt card: how the widget hands a card to the
//! cards module. Fields go in declaration order.

use crate::base::locale::Locale;
use crate::base::wire::{Reader, Wire, Writer};
use crate::prompts::config::{
    AfterHoursCopy, Choice, ConsentCopy, ConsentMode, Experiment, Localized, Position, PromptCopy, PromptDefinition,
    PromptKind, PublicSiteConfig, Question, TestTiming, Theme, Variant, WidgetConfig,
};
use crate::prompts::card::PromptCard;
use crate::prompts::config::AnsweredCopy;
use crate::prompts::judgement::Highlight;
use crate::prompts::hours::{BusinessHours, CallSlot, OpeningHours};
use crate::prompts::rules::{AnswerIs, Condition, CopyVariant, Guardrails, PriceRange};
use crate::{wire_enum, wire_struct};

wire_struct!(PublicSiteConfig { site, name, widget });
wire_struct!(WidgetConfig {
    default_locale,
    theme,
    consent,
    timezone,
    business_hours,
    callback_minutes,
    default_region,
    exclude_paths,
    guardrails,
    chat_sound,
    prompts,
    test_timing,
});
wire_struct!(Theme { brand_color, position });
wire_enum!(Position { BottomRight, BottomLeft });
wire_enum!(ConsentMode { Implied, Required });
wire_struct!(BusinessHours { mon, tue, wed, thu, fri, sat, sun });
wire_struct!(OpeningHours { open, close });
wire_struct!(Guardrails { min_dwell_seconds, max_prompts_per_visit, default_cooldown_days });
wire_struct!(TestTiming { time_scale });
wire_struct!(Question { question, choices });
wire_struct!(Choice { value, label, highlight });
wire_struct!(Highlight { suits_age, note });
wire_struct!(PromptCopy { title, body, accept, dismiss, consent, after_hours, answered });
wire_struct!(AnsweredCopy { answer, title, body });
wire_struct!(ConsentCopy { text, consent_version });
wire_struct!(AfterHoursCopy { title, body, accept });
wire_struct!(PriceRange { min, max, currency });
wire_struct!(AnswerIs { prompt, is });
wire_struct!(Experiment { id, variants });
wire_struct!(PromptCard {
    prompt,
    kind,
    variant,
    locale,
    products,
    slots,
    shown_at,
    callback_minutes,
    region,
    answers,
    thank_you_ms,
    api_base,
    site,
    visitor,
    preview,
});
wire_enum!(CopyVariant { Regular, AfterHours });
wire_struct!(CallSlot { day, from, to, today });

impl PublicSiteConfig {
    /// The config from its wire form without its prompts (and `test_timing`, which follows them):
    /// `prompts` empty, `test_timing` none, the rest as [`decode`](crate::base::wire::decode)
    /// reads it. For the chat panel, which needs none of them: decoding the prompts' rules would be
    /// code in its module for nothing. The bytes past `chat_sound` are not looked at. Inline, so it
    /// is compiled only into the module that calls it: compiled into core, its decoders moved the
    /// first load's functions about (same size, 78 B brotli more).
    #[inline]
    pub fn decode_without_prompts(bytes: &[u8]) -> Option<PublicSiteConfig> {
        crate::base::wire::decode_leading(bytes, |input| {
            Some(PublicSiteConfig {
                site: Wire::take(input)?,
                name: Wire::take(input)?,
                widget: WidgetConfig {
                    default_locale: Wire::take(input)?,
                    theme: Wire::take(input)?,
                    consent: Wire::take(input)?,
                    timezone: Wire::take(input)?,
                    business_hours: Wire::take(input)?,
                    callback_minutes: Wire::take(input)?,
                    default_region: Wire::take(input)?,
                    exclude_paths: Wire::take(input)?,
                    guardrails: Wire::take(input)?,
                    chat_sound: Wire::take(input)?,
                    prompts: Vec::new(),
                    test_timing: None,
                },
            })
        })
    }
}

/// Both languages, always: a language the site does not write in carries the other's words, so
/// the widget shows a visitor whose page is in that language the words the shop wrote (with the
/// widget's own labels in the visitor's language) and the form stays as it was before sites
/// picked their languages.
impl<T: Wire> Wire for Localized<T> {
    fn put(&self, out: &mut Writer) {
        self.get(Locale::Ru).put(out);
        self.get(Locale::En).put(out);
    }
    fn take(input: &mut Reader<'_>) -> Option<Self> {
        Some(Localized::Both { ru: T::take(input)?, en: T::take(input)? })
    }
}

impl Wire for PromptDefinition {
    fn put(&self, out: &mut Writer) {
        self.id.put(out);
        self.kind.put(out);
        self.priority.put(out);
        #[cfg(feature = "prompt-copy")]
        out.section_with(|card| {
            self.copy.put(card);
            self.position.put(card);
        });
        // Only a worker built with the words serves this form; this arm keeps the layout.
        #[cfg(not(feature = "prompt-copy"))]
        out.bytes(&[]);
        self.cooldown_days.put(out);
        self.when.put(out);
        self.experiment.put(out);
    }
    fn take(input: &mut Reader<'_>) -> Option<Self> {
        let id = String::take(input)?;
        let kind = PromptKind::take(input)?;
        let priority = Wire::take(input)?;
        let (copy, position) = take_card_section(input)?;
        #[cfg(not(feature = "prompt-copy"))]
        let () = copy;
        Some(PromptDefinition {
            id,
            kind,
            #[cfg(feature = "prompt-copy")]
            copy,
            priority,
            cooldown_days: Wire::take(input)?,
            when: Wire::take(input)?,
            // Prompts that are off are not served (`SiteConfig::public`).
            enabled: true,
            experiment: Wire::take(input)?,
            position,
        })
    }
}

/// What only the cards module draws with, a prompt's or an arm's words and corner, travels as one
/// section that the first load (built without `prompt-copy`) skips unread: it decides when a card
/// appears, not how it looks, and its size budget is tight. Its `position` stays `None` there.
#[cfg(feature = "prompt-copy")]
fn take_card_section<T: Wire>(input: &mut Reader<'_>) -> Option<(T, Option<Position>)> {
    let mut card = input.section()?;
    let words = T::take(&mut card)?;
    let position = Wire::take(&mut card)?;
    card.is_done().then_some((words, position))
}

#[cfg(not(feature = "prompt-copy"))]
fn take_card_section(input: &mut Reader<'_>) -> Option<((), Option<Position>)> {
    input.section()?;
    Some(((), None))
}

/// Like a prompt's, a variant's words and corner travel as a section the first load skips unread.
impl Wire for Variant {
    fn put(&self, out: &mut Writer) {
        self.id.put(out);
        #[cfg(feature = "prompt-copy")]
        out.section_with(|card| {
            self.copy.put(card);
            self.position.put(card);
        });
        #[cfg(not(feature = "prompt-copy"))]
        out.bytes(&[]);
        self.when.put(out);
    }
    fn take(input: &mut Reader<'_>) -> Option<Self> {
        let id = String::take(input)?;
        let (copy, position) = take_card_section(input)?;
        #[cfg(not(feature = "prompt-copy"))]
        let () = copy;
        Some(Variant {
            id,
            #[cfg(feature = "prompt-copy")]
            copy,
            when: Wire::take(input)?,
            position,
        })
    }
}

impl Wire for PromptKind {
    fn put(&self, out: &mut Writer) {
        match self {
            PromptKind::ComparisonEmail => out.tag(0),
            PromptKind::Callback => out.tag(1),
            PromptKind::Question(question) => {
                out.tag(2);
                question.put(out);
            }
            PromptKind::ChatInvitation => out.tag(3),
        }
    }
    fn take(input: &mut Reader<'_>) -> Option<Self> {
        Some(match input.tag()? {
            0 => PromptKind::ComparisonEmail,
            1 => PromptKind::Callback,
            2 => PromptKind::Question(Question::take(input)?),
            3 => PromptKind::ChatInvitation,
            _ => return None,
        })
    }
}

impl Wire for Condition {
    fn put(&self, out: &mut Writer) {
        use Condition as C;
        match self {
            C::All(parts) => (0, parts).put_tagged(out),
            C::Any(parts) => (1, parts).put_tagged(out),
            C::Not(inner) => (2, inner).put_tagged(out),
            C::ProductsViewedAtLeast(n) => (3, n).put_tagged(out),
            C::DistinctProductsAtLeast(n) => (4, n).put_tagged(out),
            C::SameProductViewedAtLeast(n) => (5, n).put_tagged(out),
            C::ProductCategory(category) => (6, category).put_tagged(out),
            C::PriceBetween(range) => (7, range).put_tagged(out),
            C::ActiveSecondsAtLeast(n) => (8, n).put_tagged(out),
            C::PagesAtLeast(n) => (9, n).put_tagged(out),
            C::ExitIntent => out.tag(10),
            C::UrlMatches(glob) => (11, glob).put_tagged(out),
            C::ReturningVisitor => out.tag(12),
            C::OperatorOnline => out.tag(13),
            C::WithinBusinessHours => out.tag(14),
            C::Locale(locale) => (15, locale).put_tagged(out),
            C::Answer(answer) => (16, answer).put_tagged(out),
        }
    }
    fn take(input: &mut Reader<'_>) -> Option<Self> {
        use Condition as C;
        Some(match input.tag()? {
            0 => C::All(Wire::take(input)?),
            1 => C::Any(Wire::take(input)?),
            2 => C::Not(Wire::take(input)?),
            3 => C::ProductsViewedAtLeast(Wire::take(input)?),
            4 => C::DistinctProductsAtLeast(Wire::take(input)?),
            5 => C::SameProductViewedAtLeast(Wire::take(input)?),
            6 => C::ProductCategory(Wire::take(input)?),
            7 => C::PriceBetween(Wire::take(input)?),
            8 => C::ActiveSecondsAtLeast(Wire::take(input)?),
            9 => C::PagesAtLeast(Wire::take(input)?),
            10 => C::ExitIntent,
            11 => C::UrlMatches(Wire::take(input)?),
            12 => C::ReturningVisitor,
            13 => C::OperatorOnline,
            14 => C::WithinBusinessHours,
            15 => C::Locale(Wire::take(input)?),
            16 => C::Answer(Wire::take(input)?),
            _ => return None,
        })
    }
}

/// A variant's index followed by its one field.
trait PutTagged {
    fn put_tagged(self, out: &mut Writer);
}

impl<T: Wire> PutTagged for (u8, &T) {
    fn put_tagged(self, out: &mut Writer) {
        out.tag(self.0);
        self.1.put(out);
    }
}

#[cfg(all(test, feature = "prompt-copy"))]
mod tests {
    use super::*;
    use crate::base::wire::{decode, encode, VERSION};
    use crate::prompts::config::SiteConfig;

    fn demo() -> PublicSiteConfig {
        let mut config: SiteConfig = serde_json::from_value(serde_json::json!({
            "site": "demo", "name": "Кроха", "origins": ["https://shop.example"],
            "widget": {
                "business_hours": {"mon": {"open": 540, "close": 1260}},
                "exclude_paths": ["/checkout/**"],
                "test_timing": {"time_scale": 20},
                "theme": {"brand_color": "#ffd400", "position": "bottom_left"},
                "consent": "required", "default_locale": "en", "chat_sound": true,
            }
        }))
        .expect("a site config");
        // The built-in playbooks cover every prompt kind; one more rule covers every condition.
        config.widget.prompts[0].when = serde_json::from_value(serde_json::json!({"all": [
            {"any": [{"not": "exit_intent"}, {"products_viewed_at_least": 3}, {"distinct_products_at_least": 2}]},
            {"same_product_viewed_at_least": 2}, {"product_category": "Коляски"},
            {"price_between": {"min": -5, "max": 1_000_000, "currency": "RUB"}}, {"price_between": {}},
            {"active_seconds_at_least": 30}, {"pages_at_least": 2}, {"url_matches": "/product/**"},
            "returning_visitor", "operator_online", "within_business_hours", {"locale": "ru"},
            {"answer": {"prompt": "q", "is": "a"}}
        ]}))
        .expect("a condition");
        config.widget.prompts[1].experiment = Some(serde_json::from_value(serde_json::json!({"id": "spring", "variants": [
            {"id": "words", "copy": {
                "ru": {"title": "Т", "body": "Б", "accept": "Да", "dismiss": "Нет", "consent": {"text": "С", "consent_version": "v2"},
                       "after_hours": {"title": "Т2", "body": "Б2", "accept": "А2"}},
                "en": {"title": "T", "body": "B", "accept": "Yes", "dismiss": "No", "consent": {"text": "C", "consent_version": "v2"},
                       "after_hours": {"title": "T2", "body": "B2", "accept": "A2"}}}},
            {"id": "timing", "when": {"all": ["exit_intent", {"active_seconds_at_least": 300}]}}
        ]})).expect("an experiment"));
        config.public()
    }

    #[test]
    fn the_public_config_survives_the_wire() {
        let config = demo();
        assert!(config.widget.prompts.iter().any(|p| matches!(p.kind, PromptKind::Question(_))));
        assert!(config.widget.prompts.iter().any(|p| {
            let ru = p.copy.get(Locale::Ru);
            ru.consent.is_some() && ru.after_hours.is_some()
        }));
        let bytes = encode(&config);
        assert_eq!(decode::<PublicSiteConfig>(&bytes), Some(config.clone()));
        let json = serde_json::to_vec(&config).expect("JSON");
        assert!(bytes.len() < json.len(), "{} bytes against {} of JSON", bytes.len(), json.len());
    }

    #[test]
    fn a_one_language_site_reaches_the_widget_in_its_language_whatever_the_page_says() {
        let mut config: SiteConfig = serde_json::from_value(serde_json::json!({
            "site": "demo", "name": "Baby", "origins": ["https://shop.example"], "locales": ["en"],
            "widget": {"default_locale": "en"}
        }))
        .expect("a site config");
        config.validate().expect("English only is a whole config");
        let english = config.widget.prompts[1].copy.get(Locale::En).title.clone();
        // Russian words written earlier stay stored, but the widget never sees them.
        let words = config.widget.prompts[0].copy.get(Locale::Ru).clone();
        config.widget.prompts[1].copy.set(Locale::Ru, words);
        let served: PublicSiteConfig = decode(&encode(&config.public())).expect("the wire form");
        let callback = &served.widget.prompts[1].copy;
        assert_eq!((&callback.get(Locale::Ru).title, &callback.get(Locale::En).title), (&english, &english));
        let PromptKind::Question(question) = &served.widget.prompts[2].kind else { panic!("the question") };
        assert_eq!(question.question.get(Locale::Ru), "How old is your child?");
    }

    #[test]
    fn the_chat_reads_the_config_up_to_its_prompts() {
        let config = demo();
        let bytes = encode(&config);
        let mut without = config.clone();
        without.widget.prompts.clear();
        without.widget.test_timing = None;
        assert!(!config.widget.prompts.is_empty() && config.widget.test_timing.is_some());
        assert_eq!(PublicSiteConfig::decode_without_prompts(&bytes), Some(without));
        let mut other = bytes.clone();
        other[0] = VERSION + 1;
        assert_eq!(PublicSiteConfig::decode_without_prompts(&other), None);
        assert_eq!(PublicSiteConfig::decode_without_prompts(&bytes[..12]), None);
    }

    #[test]
    fn a_damaged_config_is_refused_not_misread() {
        let bytes = encode(&demo());
        for len in (0..bytes.len()).step_by(7) {
            assert_eq!(decode::<PublicSiteConfig>(&bytes[..len]), None, "cut at {len}");
        }
        let mut other = bytes.clone();
        other[0] = VERSION + 1;
        assert_eq!(decode::<PublicSiteConfig>(&other), None);
    }

    #[test]
    fn a_prompt_card_survives_the_wire() {
        let card: PromptCard = serde_json::from_value(serde_json::json!({
            "prompt": "callback", "kind": "callback", "variant": "after_hours", "locale": "ru",
            "products": [{"id": "orsa", "name": "Orsa", "price": {"minor": 100, "currency": "RUB"}}],
            "slots": [{"day": "sun", "from": 540, "to": 720, "today": false}],
            "shown_at": 1_700_000_000_000u64, "callback_minutes": 15, "region": "KZ",
            "api_base": "https://edge.example", "site": "demo", "visitor": "v1"
        }))
        .expect("a prompt card");
        assert_eq!(decode::<PromptCard>(&encode(&card)), Some(card));
    }

    /// The wire form of version 4 (3 plus the prompts' and arms' corners, in their card sections),
    /// pinned: a change to any type's encoding must come with a new `VERSION` (widgets in browsers'
    /// caches ask for the version they were built for). Written out here rather than taken from
    /// the built-in playbooks, which change with the product.
    #[test]
    fn version_4_is_pinned() {
        let config: SiteConfig = serde_json::from_value(serde_json::json!({
            "site": "demo", "name": "Кроха", "origins": ["https://shop.example"],
            "widget": {"prompts": [{
                "id": "q", "kind": {"question": {"question": {"ru": "Для кого?", "en": "For whom?"},
                    "choices": [{"value": "0-1", "label": {"ru": "0–1", "en": "0-1"}}]}},
                "copy": {"ru": {"title": "Т", "body": "Б", "accept": "Да", "dismiss": "Нет",
                                "consent": {"text": "С", "consent_version": "v1"}},
                         "en": {"title": "T", "body": "B", "accept": "Yes", "dismiss": "No",
                                "after_hours": {"title": "T2", "body": "B2", "accept": "A2"}}},
                "cooldown_days": 3,
                "when": {"all": [{"pages_at_least": 2}, {"not": {"price_between": {"min": -1, "currency": "RUB"}}}]},
                "experiment": {"id": "e1", "variants": [
                    {"id": "words", "copy": {"en": {"title": "T3", "body": "B3", "accept": "Y3", "dismiss": "N3"}}},
                    {"id": "timing", "when": "exit_intent"},
                    {"id": "corner", "position": "bottom_right"}
                ]},
                "position": "bottom_left"
            }]}
        }))
        .expect("a site config");
        let bytes = encode(&config.public());
        let digest = crate::base::crypto::base64_encode(&crate::base::crypto::sha256(&bytes));
        assert_eq!(VERSION, 4, "a new version: pin its digest here");
        assert_eq!(digest, "lMeqVF0zsWexvIvmAxLrVBaxXMiAHzhcEGZsmAztuP8=", "the wire form changed without a new base::wire::VERSION");
    }
}
