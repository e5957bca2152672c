//! A prompt card as the widget hands it to its UI module, and the card's own words.
//!
//! The first-load widget decides (the rules engine) and the UI module, loaded only when a card is
//! about to appear, draws. [`PromptCard`] is what the deciding side knows and the drawing side
//! needs (which prompt, which variant, which products), so the UI module needs neither the rules
//! nor the session. The prompt's words come from the site config, rendered by the UI module: the
//! first load reads the config without them (core's `prompt-copy` feature).

use serde::{Deserialize, Serialize};

use crate::base::locale::{Locale, Weekday};
use crate::base::money::Money;
use crate::base::phone::PhoneRegion;
use crate::leads::lead::LeadKind;
use crate::prompts::config::{PromptKind, WidgetConfig};
use crate::prompts::hours::{BusinessHours, CallSlot};
use crate::prompts::rules::{AnswerIs, CopyVariant};
use crate::visitor::context::Product;
use crate::visitor::session::Session;

/// A comparison compares at most this many products: the last ones viewed.
pub const MAX_COMPARED: usize = 4;
/// A callback outside business hours offers at most this many slots of this many minutes.
pub const CALLBACK_SLOTS: usize = 4;
pub const CALLBACK_SLOT_MINUTES: u16 = 180;

/// A card to show, handed from the widget to the cards module in its wire form (`base::wire`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct PromptCard {
    /// The prompt's id in the site config.
    pub prompt: String,
    pub kind: PromptKind,
    /// Which words the engine chose (after hours, a callback offers a slot instead of minutes).
    pub variant: CopyVariant,
    pub locale: Locale,
    /// For a comparison: the products to compare, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<Product>,
    /// For a callback outside business hours: the slots to offer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slots: Vec<CallSlot>,
    /// When the card appeared (ms since the epoch): leads report it, and the server uses it to
    /// tell a person from a bot that submits at once.
    pub shown_at: u64,
    /// The callback promise: "we call you within N minutes".
    pub callback_minutes: u32,
    /// Where a phone number typed without `+` is assumed to be.
    pub region: PhoneRegion,
    /// The visitor's answers to question prompts: they pick the words (`answered` copy) and the
    /// products a comparison points out (a choice's `highlight`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<AnswerIs>,
    /// How long a thank-you stays before the card closes itself, in milliseconds.
    #[serde(default = "default_thank_you_ms")]
    pub thank_you_ms: u32,
    /// The worker's origin, for `POST /v1/leads`.
    pub api_base: String,
    pub site: String,
    pub visitor: String,
    /// Shown because the owner asked to see it on the site ([`preview_link`]), not because the
    /// engine chose it: the card says so, records nothing and sends no lead.
    #[serde(default)]
    pub preview: bool,
}

fn default_thank_you_ms() -> u32 {
    crate::prompts::judgement::THANK_YOU_SECONDS * 1000
}

/// The fragment that asks the widget to show one prompt's card at once, as a preview.
const PREVIEW_FRAGMENT: &str = "fw-preview=";

/// A page of the owner's site that opens with `prompt`'s card shown at once, as a preview: the
/// owner sees the saved words as visitors will, without meeting the card's conditions. A fragment,
/// so the shop's server never sees it; anyone may open such a link, and all it shows is the
/// shop's own card, which records nothing.
///
/// The link names its language: the owner previews the words of one locale, and a page that does
/// not say its own language (`<html lang>`) would otherwise show the site's default one, as if
/// the change had not been saved.
pub fn preview_link(origin: &str, prompt: &str, locale: Locale) -> String {
    format!("{}/#{PREVIEW_FRAGMENT}{prompt}&{PREVIEW_LOCALE}{}", origin.trim_end_matches('/'), locale.code())
}

const PREVIEW_LOCALE: &str = "fw-lang=";

/// The prompt a page's URL asks to preview ([`preview_link`]), if any.
pub fn preview_requested(url: &str) -> Option<&str> {
    fragment_value(url, PREVIEW_FRAGMENT).filter(|id| !id.is_empty())
}

/// The language a preview link asks for, when it names one the widget speaks.
pub fn preview_locale(url: &str) -> Option<Locale> {
    preview_requested(url)?;
    Locale::ALL.into_iter().find(|l| fragment_value(url, PREVIEW_LOCALE) == Some(l.code()))
}

fn fragment_value<'a>(url: &'a str, key: &str) -> Option<&'a str> {
    let (_, fragment) = url.split_once('#')?;
    fragment.split('&').find_map(|part| part.strip_prefix(key))
}

/// A price as the shop's own pages write it: by the site's language, not the visitor's, so an
/// English visitor on a Russian shop reads «44 990 ₽» on the card as on the page.
pub fn shop_price(price: Money, config: &WidgetConfig) -> String {
    price.display(config.default_locale)
}

impl PromptCard {
    /// The lead this card's form makes, if it has one.
    pub fn lead_kind(&self) -> Option<LeadKind> {
        match self.kind {
            PromptKind::ComparisonEmail => Some(LeadKind::ComparisonEmail),
            PromptKind::Callback => Some(LeadKind::Callback),
            PromptKind::Question(_) | PromptKind::ChatInvitation => None,
        }
    }
}

/// The products a card of `kind` shows: for a comparison, the last [`MAX_COMPARED`] viewed,
/// oldest first; none for the other kinds.
pub fn compared_products(kind: &PromptKind, session: &Session) -> Vec<Product> {
    if !matches!(kind, PromptKind::ComparisonEmail) {
        return Vec::new();
    }
    let skip = session.products.len().saturating_sub(MAX_COMPARED);
    session.products[skip..].iter().map(|viewed| viewed.product.clone()).collect()
}

/// What the owner's preview of a comparison card shows: two of the shop's own products, from
/// `viewed` (its visitors' product views, newest first), so the owner judges the card on their
/// catalogue. Two of one category when the views hold such a pair (a comparison of two strollers,
/// not of a stroller and a thermos), else the two newest; fewer than two when the shop has had
/// fewer views (the preview then shows its examples).
pub fn preview_products(viewed: impl IntoIterator<Item = Product>) -> Vec<Product> {
    let mut distinct: Vec<Product> = Vec::new();
    for product in viewed {
        if distinct.len() < PREVIEW_LOOKS_AT && !distinct.iter().any(|seen| seen.id == product.id) {
            distinct.push(product);
        }
    }
    let same_category = distinct.iter().enumerate().find_map(|(i, first)| {
        let category = first.category.as_ref()?;
        let second = distinct[i + 1..].iter().position(|other| other.category.as_ref() == Some(category))?;
        Some([i, i + 1 + second])
    });
    let [first, second] = same_category.unwrap_or([0, 1]);
    [first, second].iter().filter_map(|&i| distinct.get(i).cloned()).collect()
}

/// How many distinct products [`preview_products`] looks through for a pair of one category.
const PREVIEW_LOOKS_AT: usize = 20;

/// The call slots a card offers: for a callback after hours (nobody can call within the promised
/// minutes), windows on the shop's next open day, at the site-local `weekday` and `minute_of_day`;
/// none otherwise.
pub fn offered_slots(
    kind: &PromptKind,
    variant: CopyVariant,
    hours: &BusinessHours,
    weekday: Weekday,
    minute_of_day: u16,
) -> Vec<CallSlot> {
    match (kind, variant) {
        (PromptKind::Callback, CopyVariant::AfterHours) => {
            hours.next_slots(weekday, minute_of_day, CALLBACK_SLOT_MINUTES, CALLBACK_SLOTS)
        }
        _ => Vec::new(),
    }
}

/// The card's own words (the prompt's words come from the site config).
pub struct CardCopy {
    pub close: &'static str,
    pub email_label: &'static str,
    pub phone_label: &'static str,
    pub slot_label: &'static str,
    pub sending: &'static str,
    pub retry: &'static str,
    pub unavailable: &'static str,
    pub honeypot: &'static str,
    pub answered: &'static str,
    /// Over a preview card (`PromptCard::preview`).
    pub preview: &'static str,
    /// Before what a visitor would read once a preview's form is "sent".
    pub preview_sent: &'static str,
}

pub fn card_copy(locale: Locale) -> CardCopy {
    match locale {
        Locale::Ru => CardCopy {
            close: "Закрыть",
            email_label: "Ваша почта",
            phone_label: "Ваш телефон",
            slot_label: "Когда позвонить",
            sending: "Отправляем…",
            retry: "Попробовать ещё раз",
            unavailable: "Не получилось отправить. Всё, что вы ввели, сохранилось — попробуйте ещё раз чуть позже.",
            honeypot: "Оставьте это поле пустым",
            answered: "Спасибо! Учтём это в подсказках.",
            preview: "Предпросмотр: отсюда ничего не отправляется и не учитывается.",
            preview_sent: "Предпросмотр, ничего не отправлено. Посетитель увидел бы:",
        },
        Locale::En => CardCopy {
            close: "Close",
            email_label: "Your email",
            phone_label: "Your phone number",
            slot_label: "When to call",
            sending: "Sending…",
            retry: "Try again",
            unavailable: "We couldn't send that. Everything you typed is still here — please try again in a moment.",
            honeypot: "Leave this field empty",
            answered: "Thank you! We'll keep that in mind.",
            preview: "Preview: nothing here is sent or counted.",
            preview_sent: "Preview, nothing was sent. A visitor would read:",
        },
    }
}

/// What the visitor is told will happen once the lead is in: exactly the promise, nothing more.
pub fn success_text(locale: Locale, kind: LeadKind, contact: &str, minutes: u32, slot: Option<&str>) -> String {
    match (locale, kind, slot) {
        (Locale::Ru, LeadKind::ComparisonEmail, _) => format!("Пришлём сравнение на {contact} в течение минуты."),
        (Locale::En, LeadKind::ComparisonEmail, _) => format!("We'll email the comparison to {contact} in a minute."),
        (Locale::Ru, _, Some(slot)) => format!("Позвоним на {contact}: {slot}."),
        (Locale::En, _, Some(slot)) => format!("We'll call {contact}: {slot}."),
        (Locale::Ru, _, None) => format!("Позвоним на {contact} в течение {minutes} минут."),
        (Locale::En, _, None) => format!("We'll call {contact} within {minutes} minutes."),
    }
}

/// A call slot as the visitor reads it: "сегодня 18:00–21:00", "Mon 09:00–12:00".
pub fn slot_label(locale: Locale, slot: &CallSlot) -> String {
    const DAYS: [Weekday; 7] =
        [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];
    const RU: [&str; 7] = ["пн", "вт", "ср", "чт", "пт", "сб", "вс"];
    const EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let index = DAYS.iter().position(|d| *d == slot.day).unwrap_or(0);
    let day = match (locale, slot.today) {
        (Locale::Ru, true) => "сегодня",
        (Locale::En, true) => "today",
        (Locale::Ru, false) => RU[index],
        (Locale::En, false) => EN[index],
    };
    let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
    format!("{day} {}–{}", hm(slot.from), hm(slot.to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewed(id: &str, category: Option<&str>) -> Product {
        Product { id: id.into(), name: format!("Product {id}"), price: None, image: None, url: None, category: category.map(Into::into), suits_age: None }
    }

    fn ids(products: &[Product]) -> Vec<&str> {
        products.iter().map(|p| p.id.as_str()).collect()
    }

    #[test]
    fn the_preview_compares_two_of_the_shops_products_of_one_category_when_it_can() {
        let views = [
            viewed("thermos", Some("Термосы")),
            viewed("puffin", Some("Коляски")),
            viewed("thermos", Some("Термосы")),
            viewed("vento", Some("Коляски")),
        ];
        // The thermos was seen twice but has no partner of its category; the strollers do.
        assert_eq!(ids(&preview_products(views)), ["puffin", "vento"]);
        assert_eq!(ids(&preview_products([viewed("a", None), viewed("b", Some("x")), viewed("c", None)])), ["a", "b"]);
        assert_eq!(ids(&preview_products([viewed("a", Some("x")), viewed("a", Some("x"))])), ["a"], "one product is no comparison");
        assert!(preview_products(Vec::new()).is_empty());
    }

    fn card(kind: PromptKind) -> PromptCard {
        PromptCard {
            prompt: "callback".into(),
            kind,
            variant: CopyVariant::AfterHours,
            locale: Locale::En,
            products: Vec::new(),
            slots: vec![CallSlot { day: Weekday::Tue, from: 9 * 60, to: 12 * 60, today: false }],
            shown_at: 1_700_000_000_000,
            callback_minutes: 15,
            region: PhoneRegion::Kz,
            answers: Vec::new(),
            thank_you_ms: 4000,
            api_base: "https://edge.example".into(),
            site: "shop".into(),
            visitor: "v".repeat(32),
            preview: false,
        }
    }

    #[test]
    fn a_preview_link_names_the_prompt_in_a_fragment_and_the_widget_reads_it_back() {
        let link = preview_link("https://shop.example/", "compare_by_email", Locale::En);
        assert_eq!(link, "https://shop.example/#fw-preview=compare_by_email&fw-lang=en");
        assert_eq!(preview_requested(&link), Some("compare_by_email"));
        assert_eq!(preview_locale(&link), Some(Locale::En));
        assert_eq!(preview_locale(&preview_link("https://shop.example", "callback", Locale::Ru)), Some(Locale::Ru));
        assert_eq!(preview_locale("https://shop.example/#fw-preview=callback"), None, "no language named: the page's own");
        assert_eq!(preview_locale("https://shop.example/#fw-preview=callback&fw-lang=de"), None);
        assert_eq!(preview_locale("https://shop.example/#fw-lang=en"), None, "only a preview picks a language");
        assert_eq!(preview_requested("https://shop.example/p?x=1#top&fw-preview=callback"), Some("callback"));
        assert_eq!(preview_requested("https://shop.example/?fw-preview=callback"), None, "the query is the shop's, not ours");
        assert_eq!(preview_requested("https://shop.example/#fw-preview="), None);
        assert_eq!(preview_requested("https://shop.example/#top"), None);
    }

    #[test]
    fn a_preview_card_crosses_the_module_boundary_in_wire_form() {
        let card = PromptCard { preview: true, ..card(PromptKind::ComparisonEmail) };
        let bytes = crate::base::wire::encode(&card);
        assert_eq!(crate::base::wire::decode::<PromptCard>(&bytes), Some(card));
    }

    #[test]
    fn a_card_crosses_the_module_boundary_as_json_unchanged() {
        let card = card(PromptKind::Callback);
        let text = serde_json::to_string(&card).expect("serialises");
        assert!(text.contains(r#""region":"KZ""#), "{text}");
        assert!(text.contains(r#""variant":"after_hours""#), "{text}");
        assert!(text.contains(r#""slots":[{"day":"tue","from":540,"to":720,"today":false}]"#), "{text}");
        assert_eq!(serde_json::from_str::<PromptCard>(&text).expect("parses"), card);
    }

    #[test]
    fn a_card_shows_prices_as_the_shop_writes_them_in_any_language() {
        use crate::base::money::Currency;
        let price = Money { minor: 4_499_000, currency: Currency::RUB };
        let russian_shop = WidgetConfig::default();
        assert_eq!(shop_price(price, &russian_shop), "44\u{a0}990\u{a0}₽", "an English visitor reads the page's «44 990 ₽»");
        let english_shop = WidgetConfig { default_locale: Locale::En, ..WidgetConfig::default() };
        assert_eq!(shop_price(price, &english_shop), "₽44,990");
    }

    #[test]
    fn only_the_contact_prompts_make_a_lead() {
        assert_eq!(card(PromptKind::Callback).lead_kind(), Some(LeadKind::Callback));
        assert_eq!(card(PromptKind::ComparisonEmail).lead_kind(), Some(LeadKind::ComparisonEmail));
        assert_eq!(card(PromptKind::ChatInvitation).lead_kind(), None);
    }

    #[test]
    fn a_comparison_shows_the_last_four_products_viewed_oldest_first() {
        use crate::visitor::event::{Event, EventData, ProductView};
        let mut session = Session::default();
        let product = |n: u64| Product {
            id: format!("SKU-{n}"),
            name: format!("Product {n}"),
            price: None,
            image: None,
            url: None,
            category: None,
            suits_age: None,
        };
        for n in 1..=6 {
            let at = 1_790_000_000_000 + n * 1_000;
            session.apply(&Event { id: format!("evt{n:08}"), at, data: EventData::ProductView(ProductView { product: product(n) }) });
        }
        let ids = |kind: &PromptKind| compared_products(kind, &session).into_iter().map(|p| p.id).collect::<Vec<_>>();
        assert_eq!(ids(&PromptKind::ComparisonEmail), ["SKU-3", "SKU-4", "SKU-5", "SKU-6"]);
        assert!(ids(&PromptKind::Callback).is_empty());
        assert!(ids(&PromptKind::ChatInvitation).is_empty());
        assert!(compared_products(&PromptKind::ComparisonEmail, &Session::default()).is_empty());
    }

    #[test]
    fn only_a_callback_after_hours_offers_slots() {
        let hours = BusinessHours::default();
        // Saturday 22:00: the demo shop is closed on Sunday, so Monday's morning windows.
        let slots = offered_slots(&PromptKind::Callback, CopyVariant::AfterHours, &hours, Weekday::Sat, 22 * 60);
        assert_eq!(slots, hours.next_slots(Weekday::Sat, 22 * 60, CALLBACK_SLOT_MINUTES, CALLBACK_SLOTS));
        assert!(!slots.is_empty() && slots.len() <= CALLBACK_SLOTS);
        assert!(slots.iter().all(|slot| slot.day == Weekday::Mon && slot.to - slot.from <= CALLBACK_SLOT_MINUTES));
        assert!(offered_slots(&PromptKind::Callback, CopyVariant::Regular, &hours, Weekday::Sat, 22 * 60).is_empty());
        assert!(offered_slots(&PromptKind::ComparisonEmail, CopyVariant::AfterHours, &hours, Weekday::Sat, 22 * 60).is_empty());
    }

    #[test]
    fn the_success_text_repeats_the_promise_and_nothing_else() {
        let email = success_text(Locale::En, LeadKind::ComparisonEmail, "a@b.example", 15, None);
        assert_eq!(email, "We'll email the comparison to a@b.example in a minute.");
        assert_eq!(success_text(Locale::Ru, LeadKind::Callback, "+77011234567", 15, None), "Позвоним на +77011234567 в течение 15 минут.");
        assert_eq!(success_text(Locale::En, LeadKind::Callback, "+1", 15, Some("today 18:00–21:00")), "We'll call +1: today 18:00–21:00.");
    }

    #[test]
    fn slots_read_as_a_day_and_a_time_range() {
        let tuesday = CallSlot { day: Weekday::Tue, from: 9 * 60, to: 12 * 60 + 30, today: false };
        assert_eq!(slot_label(Locale::En, &tuesday), "Tue 09:00–12:30");
        assert_eq!(slot_label(Locale::Ru, &tuesday), "вт 09:00–12:30");
        let tonight = CallSlot { today: true, from: 18 * 60, to: 21 * 60, ..tuesday };
        assert_eq!(slot_label(Locale::Ru, &tonight), "сегодня 18:00–21:00");
    }
}
