//! How the shop's mail looks and who it is from: the owner's email settings
//! (`GET|PUT /v1/admin/sites/:site/email`), their validation with a message per field in the
//! owner's language, and what the renderers draw with them ([`MailLook`], [`MailClock`]).
//!
//! The sender's name defaults to the shop's name, never the deployment's (`EMAIL_FROM` names the
//! platform, which a visitor never asked to hear from). The address stays the deployment's or the
//! site's `email_from`: only a domain verified with the provider may send.

use serde::{Deserialize, Serialize};

use crate::base::error::{ApiError, ErrorCode};
use crate::base::locale::Locale;
use crate::leads::contact::normalize_email;
use crate::outbound::webhook::rfc3339;
use crate::prompts::contrast::{contrast_ratio, is_hex_color, readable_text_on, relative_luminance, WCAG_AA_TEXT};

pub const MAX_SENDER_NAME: usize = 80;
pub const MAX_LOGO_URL: usize = 500;
/// The colour of the shop's mail when neither the owner nor the widget's theme gives one.
pub const DEFAULT_MAIL_COLOR: &str = "#1f6feb";
/// Body text on white and on the highlight tint.
pub const MAIL_TEXT: &str = "#1a1a1a";

/// The owner's email settings for one site. Every field is optional: absent, the shop's name, the
/// widget's brand colour and no logo are used.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// The name the emails come from (`Кроха`); the shop's name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_name: Option<String>,
    /// Where a visitor's reply goes (`Reply-To`); the emails invite a reply only when it is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// The shop's logo at the top of every email: an https image URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// `#rrggbb`: the header band, buttons, links and the highlight of differences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand_color: Option<String>,
    /// Where the shop's staff hear of a visitor waiting in the chat unanswered
    /// (`conversation.waiting`); no alert email when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_to: Option<String>,
    /// The alert address its owner confirmed by the emailed link (see `alert::AlertLinkClaims`).
    /// Only the worker sets it: [`normalized`](Self::normalized) drops what a request says.
    /// Alerts go out only while it equals `alert_to`, so a mistyped address never gets a
    /// visitor's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_confirmed: Option<String>,
}

/// Which setting a problem is about; the console puts the message under that field.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MailField {
    SenderName,
    ReplyTo,
    LogoUrl,
    BrandColor,
    AlertTo,
}

impl MailField {
    pub fn as_str(self) -> &'static str {
        match self {
            MailField::SenderName => "sender_name",
            MailField::ReplyTo => "reply_to",
            MailField::LogoUrl => "logo_url",
            MailField::BrandColor => "brand_color",
            MailField::AlertTo => "alert_to",
        }
    }
}

/// One thing wrong with the settings, worded for the owner in either language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailProblem {
    pub field: MailField,
}

impl MailProblem {
    /// What to fix, in the owner's language (each field has one rule, so the field says it).
    pub fn text(self, locale: Locale) -> String {
        match (self.field, locale) {
            (MailField::SenderName, Locale::En) => format!(
                "The sender's name: up to {MAX_SENDER_NAME} characters, on one line, without @, quotes or angle brackets."
            ),
            (MailField::SenderName, Locale::Ru) => {
                format!("Имя отправителя: до {MAX_SENDER_NAME} символов, в одну строку, без @, кавычек и угловых скобок.")
            }
            (MailField::ReplyTo, Locale::En) => "The reply address must be an email address like shop@example.com.".to_owned(),
            (MailField::ReplyTo, Locale::Ru) => "Адрес для ответов должен быть адресом почты, например shop@example.com.".to_owned(),
            (MailField::LogoUrl, Locale::En) => {
                format!("The logo must be an image address starting with https:// (up to {MAX_LOGO_URL} characters, no spaces).")
            }
            (MailField::LogoUrl, Locale::Ru) => {
                format!("Логотип — адрес картинки, начинающийся с https:// (до {MAX_LOGO_URL} символов, без пробелов).")
            }
            (MailField::BrandColor, Locale::En) => "The brand colour must look like #e4572e.".to_owned(),
            (MailField::BrandColor, Locale::Ru) => "Фирменный цвет записывается так: #e4572e.".to_owned(),
            (MailField::AlertTo, Locale::En) => "Alerts go to an email address like team@example.com.".to_owned(),
            (MailField::AlertTo, Locale::Ru) => "Оповещения приходят на адрес почты, например team@example.com.".to_owned(),
        }
    }
}

fn trimmed(value: &Option<String>) -> Option<String> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

impl MailSettings {
    /// The settings as stored: blanks become absent (a cleared form field means "the default"),
    /// the address and colour are lower-cased.
    pub fn normalized(&self) -> MailSettings {
        MailSettings {
            sender_name: trimmed(&self.sender_name),
            reply_to: trimmed(&self.reply_to).map(|a| a.to_ascii_lowercase()),
            logo_url: trimmed(&self.logo_url),
            brand_color: trimmed(&self.brand_color).map(|c| c.to_ascii_lowercase()),
            alert_to: trimmed(&self.alert_to).map(|a| a.to_ascii_lowercase()),
            alert_confirmed: None,
        }
    }

    /// The settings a request asks for, stored over `stored`: the confirmation stands while the
    /// address stays the one confirmed, and `also_confirmed` (the requesting owner's own login
    /// address, which needs no link) confirms itself.
    pub fn saved_over(&self, stored: &MailSettings, also_confirmed: Option<&str>) -> MailSettings {
        let mut saved = self.normalized();
        let known = [stored.alert_confirmed.as_deref(), also_confirmed.map(str::trim)];
        saved.alert_confirmed = saved
            .alert_to
            .clone()
            .filter(|to| known.iter().flatten().any(|confirmed| confirmed.eq_ignore_ascii_case(to)));
        saved
    }

    /// Where the team's alerts go: the alert address once its link was followed, else nowhere.
    pub fn alert_address(&self) -> Option<&str> {
        self.alert_to.as_deref().filter(|to| self.alert_confirmed.as_deref() == Some(*to))
    }

    /// An alert address still waiting for its link to be followed.
    pub fn alert_unconfirmed(&self) -> Option<&str> {
        self.alert_to.as_deref().filter(|_| self.alert_address().is_none())
    }

    /// Every field that breaks its rule (checked on the normalised settings).
    pub fn problems(&self) -> Vec<MailProblem> {
        let s = self.normalized();
        let mut problems = Vec::new();
        let mut flag = |bad: bool, field| {
            if bad {
                problems.push(MailProblem { field });
            }
        };
        flag(s.sender_name.as_deref().is_some_and(|name| !sender_name_ok(name)), MailField::SenderName);
        flag(s.reply_to.as_deref().is_some_and(|address| normalize_email(address).is_err()), MailField::ReplyTo);
        flag(s.logo_url.as_deref().is_some_and(|url| !logo_url_ok(url)), MailField::LogoUrl);
        flag(s.brand_color.as_deref().is_some_and(|c| !is_hex_color(c)), MailField::BrandColor);
        flag(s.alert_to.as_deref().is_some_and(|address| normalize_email(address).is_err()), MailField::AlertTo);
        problems
    }

    /// 400 `invalid_config` naming the first field that breaks its rule (English, for API users;
    /// the console words [`problems`](Self::problems) in the owner's language).
    pub fn validate(&self) -> Result<(), ApiError> {
        match self.problems().first() {
            Some(problem) => Err(ApiError::new(ErrorCode::InvalidConfig, format!("{}: {}", problem.field.as_str(), problem.text(Locale::En)))),
            None => Ok(()),
        }
    }

    /// The `From` of the shop's mail: the sender's name (the owner's, else the name the site's
    /// `email_from` gives, else the shop's) with the address of `site_from` or, failing that, the
    /// deployment's `EMAIL_FROM`. The deployment's own name is never used.
    pub fn sender(&self, shop_name: &str, site_from: Option<&str>, deployment_from: &str) -> String {
        let s = self.normalized();
        let (site_name, site_address) = site_from.map(split_mailbox).unwrap_or((None, None));
        let address = site_address.or_else(|| split_mailbox(deployment_from).1).unwrap_or_default();
        let name = s.sender_name.or(site_name).unwrap_or_else(|| shop_name.trim().to_owned());
        let name: String = name.chars().filter(|c| !c.is_control()).collect();
        if address.is_empty() {
            return name;
        }
        // RFC 5322: a display name with specials is a quoted string.
        let plain = name.chars().all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | '\'' | '!' | '&' | '+'));
        if plain {
            format!("{name} <{address}>")
        } else {
            format!("\"{}\" <{address}>", name.replace('\\', "\\\\").replace('"', "\\\""))
        }
    }
}

/// `Кроха <shop@x.ru>` → (`Кроха`, `shop@x.ru`); `shop@x.ru` → (None, `shop@x.ru`).
fn split_mailbox(from: &str) -> (Option<String>, Option<String>) {
    let from = from.trim();
    match (from.rfind('<'), from.ends_with('>')) {
        (Some(open), true) => {
            let name = from[..open].trim().trim_matches('"').trim();
            let address = from[open + 1..from.len() - 1].trim();
            ((!name.is_empty()).then(|| name.to_owned()), (!address.is_empty()).then(|| address.to_owned()))
        }
        _ => (None, (!from.is_empty()).then(|| from.to_owned())),
    }
}

fn sender_name_ok(name: &str) -> bool {
    name.chars().count() <= MAX_SENDER_NAME && !name.chars().any(|c| c.is_control() || matches!(c, '@' | '<' | '>' | '"' | '\\'))
}

fn logo_url_ok(url: &str) -> bool {
    let rest = url.get(..8).filter(|head| head.eq_ignore_ascii_case("https://")).map(|_| &url[8..]);
    let host = rest.and_then(|r| r.split(['/', '?', '#']).next()).unwrap_or_default();
    url.len() <= MAX_LOGO_URL
        && !host.is_empty()
        && !host.contains(['@', '\\'])
        && !url.chars().any(|c| c.is_control() || c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '\\'))
}

/// What the renderers draw with: the shop's name, logo and colours, each colour checked against
/// the text on it (WCAG AA, 4.5:1).
#[derive(Debug, Clone, PartialEq)]
pub struct MailLook {
    pub shop_name: String,
    pub logo_url: Option<String>,
    /// The brand colour: the header band and the buttons.
    pub color: String,
    /// Text on `color`: white, near-black or black, whichever reads.
    pub on_color: &'static str,
    /// Links and headings on white: the brand colour, darkened until it reads on white.
    pub accent: String,
    /// The background of a highlighted difference: the brand colour faded towards white, light
    /// enough for [`MAIL_TEXT`] to read on it.
    pub tint: String,
    /// Set: the emails invite the visitor to reply.
    pub reply_to: Option<String>,
}

impl MailLook {
    /// `site_color` is the widget theme's brand colour, used when the owner set none for mail.
    pub fn new(shop_name: &str, settings: &MailSettings, site_color: Option<&str>) -> MailLook {
        let s = settings.normalized();
        let color = s
            .brand_color
            .filter(|c| is_hex_color(c))
            .or_else(|| site_color.filter(|c| is_hex_color(c)).map(str::to_ascii_lowercase))
            .unwrap_or_else(|| DEFAULT_MAIL_COLOR.to_owned());
        MailLook {
            shop_name: shop_name.trim().to_owned(),
            logo_url: s.logo_url.filter(|url| logo_url_ok(url)),
            on_color: readable_text_on(&color),
            accent: readable_on_white(&color),
            tint: mix_with_white(&color, 0.14),
            color,
            reply_to: s.reply_to.filter(|a| normalize_email(a).is_ok()),
        }
    }
}

fn channels(hex: &str) -> [u8; 3] {
    let c = |i: usize| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0);
    [c(1), c(3), c(5)]
}

fn hex([r, g, b]: [u8; 3]) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// `color` darkened in small steps (hue kept) until it has 4.5:1 against white.
pub fn readable_on_white(color: &str) -> String {
    let mut rgb = channels(color);
    for _ in 0..64 {
        let candidate = hex(rgb);
        if relative_luminance(&candidate).is_some_and(|l| contrast_ratio(1.0, l) >= WCAG_AA_TEXT) {
            return candidate;
        }
        rgb = rgb.map(|c| (f64::from(c) * 0.92) as u8);
    }
    MAIL_TEXT.to_owned()
}

/// `color` at `share` over white.
fn mix_with_white(color: &str, share: f64) -> String {
    hex(channels(color).map(|c| (255.0 - (255.0 - f64::from(c)) * share).round() as u8))
}

/// The site's clock for dates and times in its mail: the site's IANA zone (the widget config's
/// `timezone`) and its offset from UTC at the moment written about. Core has no time-zone
/// database; the worker computes the offset with `Intl` (as the widget does in the browser).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailClock<'a> {
    pub zone: &'a str,
    pub offset_minutes: i32,
}

impl MailClock<'_> {
    pub const UTC: MailClock<'static> = MailClock { zone: "UTC", offset_minutes: 0 };

    fn local(&self, ms: u64) -> (u32, usize, u32, String) {
        let local = (ms as i64).saturating_add(i64::from(self.offset_minutes) * 60_000).max(0) as u64;
        let stamp = rfc3339(local);
        let year = stamp[..4].parse().unwrap_or(1970);
        let month = stamp[5..7].parse::<usize>().unwrap_or(1).clamp(1, 12);
        let day = stamp[8..10].parse().unwrap_or(1);
        (year, month, day, stamp[11..16].to_owned())
    }

    /// `21 сентября 2026` / `21 September 2026`.
    pub fn date(&self, ms: u64, locale: Locale) -> String {
        let (year, month, day, _) = self.local(ms);
        let name = match locale {
            Locale::Ru => RU_MONTHS[month - 1],
            Locale::En => EN_MONTHS[month - 1],
        };
        format!("{day} {name} {year}")
    }

    /// `14:05`.
    pub fn time(&self, ms: u64) -> String {
        self.local(ms).3
    }

    /// `21 сентября 2026, 14:05 (Europe/Moscow)`: the zone is named, so a reader elsewhere knows.
    pub fn date_time(&self, ms: u64, locale: Locale) -> String {
        format!("{}, {} ({})", self.date(ms, locale), self.time(ms), self.zone)
    }
}

const RU_MONTHS: [&str; 12] =
    ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"];
const EN_MONTHS: [&str; 12] =
    ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/// The kinds of email the shop sends, each of which the owner can preview and send a test of.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// The comparison promised by the comparison card.
    Comparison,
    /// The chat transcript a visitor asked for.
    Transcript,
}

impl MailKind {
    pub const ALL: [MailKind; 2] = [MailKind::Comparison, MailKind::Transcript];

    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Comparison => "comparison",
            MailKind::Transcript => "transcript",
        }
    }

    /// The kind's name in the owner's console.
    pub fn label(self, locale: Locale) -> &'static str {
        match (self, locale) {
            (MailKind::Comparison, Locale::En) => "Product comparison",
            (MailKind::Comparison, Locale::Ru) => "Сравнение товаров",
            (MailKind::Transcript, Locale::En) => "Chat transcript",
            (MailKind::Transcript, Locale::Ru) => "Переписка из чата",
        }
    }
}

/// `POST /v1/admin/sites/:site/email/test`: which kind, in which language. The address is never
/// the caller's to choose: a test goes to the logged-in owner's own.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MailTestRequest {
    pub kind: MailKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<Locale>,
}

/// `POST /v1/admin/sites/:site/email/preview`: the email as it would look with `settings`
/// (unsaved form values), rendered by the same code as the real ones.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MailPreviewRequest {
    pub kind: MailKind,
    pub locale: Locale,
    #[serde(default)]
    pub settings: MailSettings,
}

/// What the preview and the test answer: the email as rendered.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct MailPreview {
    pub from: String,
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// `GET|PUT /v1/admin/sites/:site/email`: the settings, and what they come to.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct MailSettingsView {
    pub settings: MailSettings,
    /// The `From` the shop's mail carries with these settings.
    pub from: String,
    /// What an empty field means: the shop's name, the widget's colour.
    pub default_sender_name: String,
    pub default_brand_color: String,
    /// Where a test goes: the logged-in owner's own address (absent for the admin token, which
    /// has no address and so cannot send tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_to: Option<String>,
    /// The kinds of email there are to preview and test.
    pub kinds: Vec<MailKind>,
    /// Set when this answer just emailed a confirmation link to the (new) alert address.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub alert_link_sent: bool,
}

/// What `POST /v1/admin/sites/:site/email/test` answers: where the test went and what it was.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct MailTestSent {
    pub kind: MailKind,
    pub to: String,
    pub from: String,
    pub subject: String,
}

/// How many test emails one owner may send, per site: enough to try every kind in both languages
/// a few times, too few to make the shop's sender a spam cannon.
pub const MAIL_TESTS_PER_HOUR: u32 = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_each_bad_field_in_both_languages() {
        let bad = MailSettings {
            sender_name: Some("Shop <support@bank.example>".into()),
            reply_to: Some("not an address".into()),
            logo_url: Some("http://shop.example/logo.png".into()),
            brand_color: Some("red".into()),
            alert_to: Some("team@".into()),
            alert_confirmed: None,
        };
        let fields: Vec<MailField> = bad.problems().iter().map(|p| p.field).collect();
        assert_eq!(fields, vec![MailField::SenderName, MailField::ReplyTo, MailField::LogoUrl, MailField::BrandColor, MailField::AlertTo]);
        let error = bad.validate().unwrap_err();
        assert_eq!((error.code, error.http_status()), (ErrorCode::InvalidConfig, 400));
        assert!(error.message.starts_with("sender_name: "));
        for problem in bad.problems() {
            assert_ne!(problem.text(Locale::Ru), problem.text(Locale::En));
            assert!(problem.text(Locale::Ru).chars().any(|c| ('а'..='я').contains(&c)));
        }
        for logo in ["javascript:alert(1)", "https://", "https://a.example/x y.png", "https://a.example/\"onerror=x", "https://u@evil.example/"] {
            let settings = MailSettings { logo_url: Some(logo.into()), ..MailSettings::default() };
            assert_eq!(settings.problems().len(), 1, "{logo}");
        }
        let good = MailSettings {
            sender_name: Some("  Кроха — детский магазин ".into()),
            reply_to: Some(" Hello@Kroha.Example ".into()),
            logo_url: Some("https://cdn.kroha.example/logo.png".into()),
            brand_color: Some("#E4572E".into()),
            alert_to: Some(" Team@Kroha.Example ".into()),
            alert_confirmed: Some("team@kroha.example".into()),
        };
        assert!(good.validate().is_ok());
        let n = good.normalized();
        assert_eq!(n.sender_name.as_deref(), Some("Кроха — детский магазин"));
        assert_eq!(n.reply_to.as_deref(), Some("hello@kroha.example"));
        assert_eq!(n.brand_color.as_deref(), Some("#e4572e"));
        assert_eq!(n.alert_confirmed, None, "a request cannot confirm an address itself");
        let blank = MailSettings { sender_name: Some("  ".into()), ..MailSettings::default() };
        assert_eq!(blank.normalized(), MailSettings::default(), "a cleared field means the default");
    }

    #[test]
    fn alerts_go_only_to_an_address_its_owner_confirmed() {
        let asked = |to: &str| MailSettings { alert_to: Some(to.into()), ..MailSettings::default() };
        let nothing = MailSettings::default();
        let typo = asked("tema@kroha.example").saved_over(&nothing, Some("olga@kroha.example"));
        assert_eq!((typo.alert_address(), typo.alert_unconfirmed()), (None, Some("tema@kroha.example")), "a new address waits for its link");
        let own = asked(" Olga@Kroha.Example ").saved_over(&nothing, Some("olga@kroha.example"));
        assert_eq!(own.alert_address(), Some("olga@kroha.example"), "the owner's own login address needs no link");
        let confirmed = MailSettings { alert_confirmed: Some("team@kroha.example".into()), ..asked("team@kroha.example") };
        let kept = MailSettings { sender_name: Some("Кроха".into()), ..asked("team@kroha.example") }.saved_over(&confirmed, None);
        assert_eq!(kept.alert_address(), Some("team@kroha.example"), "editing another field keeps the confirmation");
        let moved = asked("sales@kroha.example").saved_over(&confirmed, None);
        assert_eq!(moved.alert_address(), None, "a changed address is confirmed again");
        let forged = MailSettings { alert_confirmed: Some("x@evil.example".into()), ..asked("x@evil.example") }.saved_over(&nothing, None);
        assert_eq!(forged.alert_address(), None, "a request's own confirmation is ignored");
        assert_eq!(asked("team@kroha.example").alert_address(), None);
    }

    #[test]
    fn the_sender_is_the_shop_never_the_platform() {
        let none = MailSettings::default();
        let deployment = "Floorwalker demo <no-reply@floorwalker.invalid>";
        assert_eq!(none.sender("Кроха", None, deployment), "Кроха <no-reply@floorwalker.invalid>");
        assert_eq!(none.sender("Кроха", Some("Магазин Кроха <shop@kroha.example>"), deployment), "Магазин Кроха <shop@kroha.example>");
        assert_eq!(none.sender("Кроха", Some("shop@kroha.example"), deployment), "Кроха <shop@kroha.example>");
        let named = MailSettings { sender_name: Some("Анна из «Крохи»".into()), ..MailSettings::default() };
        assert_eq!(named.sender("Кроха", Some("shop@kroha.example"), deployment), "\"Анна из «Крохи»\" <shop@kroha.example>");
        assert_eq!(none.sender("Kroha, Inc.", None, "a@b.example"), "\"Kroha, Inc.\" <a@b.example>");
        assert!(!none.sender("Кроха", None, deployment).contains("Floorwalker"));
    }

    #[test]
    fn colours_read_on_what_they_sit_on() {
        for color in ["#e4572e", "#ffeb3b", "#1f6feb", "#000000", "#ffffff", "#3d8b3d", "#7a7a7a"] {
            let look = MailLook::new("Shop", &MailSettings { brand_color: Some(color.into()), ..MailSettings::default() }, None);
            let lum = |c: &str| relative_luminance(c).unwrap();
            assert!(contrast_ratio(lum(&look.color), lum(look.on_color)) >= WCAG_AA_TEXT, "{color} button text");
            assert!(contrast_ratio(1.0, lum(&look.accent)) >= WCAG_AA_TEXT, "{color} accent {}", look.accent);
            assert!(contrast_ratio(lum(&look.tint), lum(MAIL_TEXT)) >= WCAG_AA_TEXT, "{color} tint {}", look.tint);
        }
        let kroha = MailLook::new("Кроха", &MailSettings::default(), Some("#E4572E"));
        assert_eq!(kroha.color, "#e4572e", "the widget's colour when the owner set none for mail");
        assert_eq!(MailLook::new("x", &MailSettings::default(), None).color, DEFAULT_MAIL_COLOR);
    }

    #[test]
    fn the_clock_writes_the_sites_local_time_and_names_the_zone() {
        // 2026-09-21T11:05:00Z is 14:05 in Moscow (UTC+3).
        let at = 1_789_988_700_000;
        let moscow = MailClock { zone: "Europe/Moscow", offset_minutes: 180 };
        assert_eq!(rfc3339(at), "2026-09-21T11:05:00.000Z");
        assert_eq!(moscow.date_time(at, Locale::Ru), "21 сентября 2026, 14:05 (Europe/Moscow)");
        assert_eq!(moscow.date_time(at, Locale::En), "21 September 2026, 14:05 (Europe/Moscow)");
        let samoa = MailClock { zone: "Pacific/Apia", offset_minutes: 13 * 60 };
        assert_eq!(samoa.date(at, Locale::En), "22 September 2026", "the local date, not the UTC one");
        assert_eq!(MailClock::UTC.time(at), "11:05");
    }
}
