//! CRM presets: one webhook event turned into the request each target documents. Pure mapping; the
//! delivery worker serialises [`CrmRequest::body`] as JSON, adds [`CrmRequest::headers_for`] (which
//! signs the exact bytes for `generic`) and sends it under the retry policy in `webhook`.

use serde::Serialize;

use crate::base::error::{ApiError, ErrorCode};
use crate::base::locale::Locale;
use crate::base::money::Money;
use crate::leads::lead::Lead;
use crate::outbound::endpoint::{Endpoint, Preset};
use crate::outbound::webhook::{signed_headers, Envelope, WebhookEvent, WebhookSecret};
use crate::visitor::context::Touch;

/// Telegram refuses messages longer than this (characters after entity parsing).
pub const TELEGRAM_MAX_CHARS: usize = 4096;
/// Products listed in CRM comments and alerts: the most recently viewed.
const TOP_PRODUCTS: usize = 5;

/// One HTTP request to a receiver.
pub struct CrmRequest {
    pub method: &'static str,
    /// May contain a credential (Bitrix24 webhook code, Telegram bot token): never log it.
    pub url: String,
    /// Headers that do not depend on the body (authorization, content type).
    pub headers: Vec<(String, String)>,
    pub body: CrmBody,
    /// Standard Webhooks signing, for `generic` endpoints.
    pub signing: Option<Signing>,
}

pub struct Signing {
    pub msg_id: String,
    pub secrets: Vec<WebhookSecret>,
}

impl std::fmt::Debug for CrmRequest {
    /// Names only: the URL and header values can hold credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("CrmRequest").field("method", &self.method).field("headers", &names).finish_non_exhaustive()
    }
}

impl CrmRequest {
    /// All headers for one attempt. Signing happens per attempt with the attempt's time, as
    /// Standard Webhooks receivers check `webhook-timestamp` against their clock.
    pub fn headers_for(&self, body: &[u8], now_s: u64) -> Vec<(String, String)> {
        let mut headers = self.headers.clone();
        if let Some(signing) = &self.signing {
            for (name, value) in signed_headers(&signing.msg_id, now_s, body, &signing.secrets) {
                headers.push((name.to_owned(), value));
            }
        }
        headers
    }
}

/// The JSON bodies, one per preset.
#[derive(Serialize, Debug, Clone, PartialEq)]
#[serde(untagged)]
pub enum CrmBody {
    Envelope(Box<Envelope>),
    Bitrix24(Box<BitrixLeadAdd>),
    AmoCrm(Vec<AmoLead>),
    HubSpot(HubSpotSubmission),
    Telegram(TelegramMessage),
}

/// What to do with an event for one endpoint.
#[derive(Debug)]
pub enum Mapped {
    Send(Box<CrmRequest>),
    /// The endpoint does not take this event (filtered out, disabled, or the preset has no use for it).
    Skip,
}

/// Maps `event` for `endpoint`. `owner_locale` is the language of the texts the site owner reads;
/// `secret` looks up a worker secret by name (amoCRM token, Telegram bot token).
pub fn map_event(
    endpoint: &Endpoint,
    event: &WebhookEvent,
    owner_locale: Locale,
    secret: &dyn Fn(&str) -> Option<String>,
) -> Result<Mapped, ApiError> {
    if !endpoint.wants(event.event_type()) {
        return Ok(Mapped::Skip);
    }
    let base = endpoint.base_url();
    let json = || vec![("content-type".to_owned(), "application/json".to_owned())];
    let lookup = |name: &str| {
        secret(name)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidConfig, format!("worker secret {name} is not set")))
    };
    let lead = match event {
        WebhookEvent::LeadCreated(lead) => Some(lead),
        _ => None,
    };
    let request = match (&endpoint.preset, lead) {
        (Preset::Generic, _) => CrmRequest {
            method: "POST",
            url: base.to_owned(),
            headers: json(),
            body: CrmBody::Envelope(Box::new(event.envelope())),
            signing: Some(Signing { msg_id: event.message_id(), secrets: endpoint.signing_secrets()? }),
        },
        // CRMs get one record per lead: callback.requested would duplicate it, consent changes
        // have no place in a lead form.
        (_, None) => return Ok(Mapped::Skip),
        (Preset::Bitrix24, Some(lead)) => CrmRequest {
            method: "POST",
            url: format!("{base}/crm.lead.add.json"),
            headers: json(),
            body: CrmBody::Bitrix24(Box::new(bitrix24(lead, owner_locale))),
            signing: None,
        },
        (Preset::Amocrm { token_secret }, Some(lead)) => {
            let mut headers = json();
            headers.push(("authorization".to_owned(), format!("Bearer {}", lookup(token_secret)?)));
            CrmRequest {
                method: "POST",
                url: format!("{base}/api/v4/leads/complex"),
                headers,
                body: CrmBody::AmoCrm(vec![amocrm(lead, owner_locale)]),
                signing: None,
            }
        }
        (Preset::Hubspot { portal_id, form_guid }, Some(lead)) => CrmRequest {
            method: "POST",
            url: format!("{base}/submissions/v3/integration/submit/{portal_id}/{form_guid}"),
            headers: json(),
            body: CrmBody::HubSpot(hubspot(lead)),
            signing: None,
        },
        (Preset::Telegram { chat_id, bot_token_secret }, Some(lead)) => CrmRequest {
            method: "POST",
            url: format!("{base}/bot{}/sendMessage", lookup(bot_token_secret)?),
            headers: json(),
            body: CrmBody::Telegram(TelegramMessage {
                chat_id: chat_id.clone(),
                text: telegram_text(lead, owner_locale),
                parse_mode: "HTML",
            }),
            signing: None,
        },
    };
    Ok(Mapped::Send(Box::new(request)))
}

/// `24 990 ₽`, `1 299,50 $`: grouped thousands and a decimal comma, the way the owner's staff read
/// prices. Assumes two minor digits per major unit, true of every currency the shops we serve use.
pub fn format_money(money: Money) -> String {
    let sign = if money.minor < 0 { "-" } else { "" };
    let abs = money.minor.unsigned_abs();
    let digits = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(' ');
        }
        grouped.push(d);
    }
    let cents = if abs.is_multiple_of(100) { String::new() } else { format!(",{:02}", abs % 100) };
    let symbol = match money.currency.as_str() {
        "RUB" => "₽",
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "KZT" => "₸",
        "UAH" => "₴",
        "BYN" => "Br",
        other => other,
    };
    format!("{sign}{grouped}{cents} {symbol}")
}

/// Escapes text for Telegram's HTML parse mode and for CRM fields rendered as HTML.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

fn t(locale: Locale, ru: &'static str, en: &'static str) -> &'static str {
    match locale {
        Locale::Ru => ru,
        Locale::En => en,
    }
}

/// The touch that brought the visitor: first touch is what the marketing spend bought.
fn source_touch(lead: &Lead) -> Option<&Touch> {
    lead.context.first_touch.as_ref().or(lead.context.last_touch.as_ref())
}

/// `yandex / cpc / strollers_spring`, or the referrer, or nothing.
fn source_line(lead: &Lead) -> Option<String> {
    let touch = source_touch(lead)?;
    let utm: Vec<&str> =
        [&touch.utm_source, &touch.utm_medium, &touch.utm_campaign].into_iter().flatten().map(String::as_str).collect();
    if utm.is_empty() {
        touch.referrer.clone()
    } else {
        Some(utm.join(" / "))
    }
}

/// Lead title: `Обратный звонок: Анна, +79161234567`.
fn title(lead: &Lead, locale: Locale) -> String {
    let who: Vec<&str> =
        [&lead.contact.name, &lead.contact.phone, &lead.contact.email].into_iter().flatten().map(String::as_str).collect();
    format!("{}: {}", lead.kind.label(locale), who.join(", "))
}

/// Plain-text lines about the lead (products with prices, answers, message, consent), unescaped.
fn detail_lines(lead: &Lead, locale: Locale) -> Vec<String> {
    let mut lines = Vec::new();
    let products: Vec<_> = lead.context.products.iter().rev().take(TOP_PRODUCTS).collect();
    if !products.is_empty() {
        lines.push(t(locale, "Товары:", "Products:").to_owned());
        for viewed in products {
            let price = viewed.product.price.map(|p| format!(" — {}", format_money(p))).unwrap_or_default();
            lines.push(format!("• {}{price}", viewed.product.name));
        }
    }
    for answer in &lead.context.answers {
        lines.push(format!("{} {}", answer.question, answer.answer));
    }
    if let Some(slot) = &lead.contact.time_slot {
        lines.push(format!("{} {slot}", t(locale, "Удобное время:", "Preferred time:")));
    }
    if let Some(message) = &lead.contact.message {
        lines.push(format!("{} {message}", t(locale, "Сообщение:", "Message:")));
    }
    lines
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct BitrixLeadAdd {
    pub fields: BitrixFields,
    pub params: BitrixParams,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct BitrixFields {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phone: Vec<BitrixMultiField>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub email: Vec<BitrixMultiField>,
    pub source_id: &'static str,
    pub source_description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utm_source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utm_medium: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utm_campaign: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utm_content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utm_term: Option<String>,
    pub comments: String,
    /// Bitrix24's external-system id pair: lets the owner find (and dedupe) retried deliveries.
    pub originator_id: &'static str,
    pub origin_id: String,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct BitrixMultiField {
    #[serde(rename = "VALUE")]
    pub value: String,
    #[serde(rename = "VALUE_TYPE")]
    pub value_type: &'static str,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct BitrixParams {
    #[serde(rename = "REGISTER_SONET_EVENT")]
    pub register_sonet_event: &'static str,
}

fn bitrix24(lead: &Lead, locale: Locale) -> BitrixLeadAdd {
    let work = |value: &String| BitrixMultiField { value: value.clone(), value_type: "WORK" };
    let touch = source_touch(lead);
    let utm = |get: fn(&Touch) -> &Option<String>| touch.and_then(|t| get(t).clone());
    let mut comments: Vec<String> = detail_lines(lead, locale).iter().map(|l| html_escape(l)).collect();
    comments.push(format!("{} {}", t(locale, "Страница:", "Page:"), html_escape(&lead.page_url)));
    BitrixLeadAdd {
        fields: BitrixFields {
            title: title(lead, locale),
            name: lead.contact.name.clone(),
            phone: lead.contact.phone.iter().map(work).collect(),
            email: lead.contact.email.iter().map(work).collect(),
            source_id: "WEB",
            source_description: match source_line(lead) {
                Some(source) => format!("Floorwalker: {source}"),
                None => "Floorwalker".to_owned(),
            },
            utm_source: utm(|t| &t.utm_source),
            utm_medium: utm(|t| &t.utm_medium),
            utm_campaign: utm(|t| &t.utm_campaign),
            utm_content: utm(|t| &t.utm_content),
            utm_term: utm(|t| &t.utm_term),
            comments: comments.join("\n"),
            originator_id: "floorwalker",
            origin_id: lead.id.clone(),
        },
        params: BitrixParams { register_sonet_event: "Y" },
    }
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct AmoLead {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_fields_values: Vec<AmoField>,
    /// Echoed back in amoCRM's response, tying the created ids to our lead.
    pub request_id: String,
    #[serde(rename = "_embedded")]
    pub embedded: AmoEmbedded,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct AmoEmbedded {
    pub contacts: Vec<AmoContact>,
    pub tags: Vec<AmoTag>,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct AmoContact {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    pub custom_fields_values: Vec<AmoField>,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct AmoField {
    pub field_code: &'static str,
    pub values: Vec<AmoValue>,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct AmoValue {
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enum_code: Option<&'static str>,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct AmoTag {
    pub name: String,
}

fn amocrm(lead: &Lead, locale: Locale) -> AmoLead {
    let field = |code, value: &String, enum_code| AmoField {
        field_code: code,
        values: vec![AmoValue { value: value.clone(), enum_code }],
    };
    let mut contact_fields = Vec::new();
    if let Some(phone) = &lead.contact.phone {
        contact_fields.push(field("PHONE", phone, Some("WORK")));
    }
    if let Some(email) = &lead.contact.email {
        contact_fields.push(field("EMAIL", email, Some("WORK")));
    }
    let mut lead_fields = Vec::new();
    if let Some(touch) = source_touch(lead) {
        for (code, value) in [
            ("UTM_SOURCE", &touch.utm_source),
            ("UTM_MEDIUM", &touch.utm_medium),
            ("UTM_CAMPAIGN", &touch.utm_campaign),
            ("UTM_CONTENT", &touch.utm_content),
            ("UTM_TERM", &touch.utm_term),
            ("GCLID", &touch.gclid),
            ("YCLID", &touch.yclid),
            ("REFERRER", &touch.referrer),
        ] {
            if let Some(value) = value {
                lead_fields.push(field(code, value, None));
            }
        }
    }
    // amoCRM's budget is whole units of the account currency: the product the visitor looked at last.
    let price = lead.context.products.last().and_then(|v| v.product.price).map(|p| p.minor / 100);
    AmoLead {
        name: title(lead, locale),
        price,
        custom_fields_values: lead_fields,
        request_id: lead.id.clone(),
        embedded: AmoEmbedded {
            contacts: vec![AmoContact { first_name: lead.contact.name.clone(), custom_fields_values: contact_fields }],
            tags: vec![AmoTag { name: "floorwalker".into() }, AmoTag { name: lead.kind.as_str().into() }],
        },
    }
}

#[derive(Serialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HubSpotSubmission {
    /// Milliseconds since the Unix epoch, as a string (HubSpot's format).
    pub submitted_at: String,
    pub fields: Vec<HubSpotField>,
    pub context: HubSpotContext,
    pub legal_consent_options: HubSpotLegalConsent,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HubSpotField {
    /// `0-1` is the contact object.
    pub object_type_id: &'static str,
    pub name: &'static str,
    pub value: String,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HubSpotContext {
    pub page_uri: String,
    pub page_name: String,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct HubSpotLegalConsent {
    pub consent: HubSpotConsent,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HubSpotConsent {
    pub consent_to_process: bool,
    /// The exact consent text the visitor saw.
    pub text: String,
}

fn hubspot(lead: &Lead) -> HubSpotSubmission {
    let contact = &lead.contact;
    let fields = [
        ("email", &contact.email),
        ("phone", &contact.phone),
        ("firstname", &contact.name),
        ("message", &contact.message),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some(HubSpotField { object_type_id: "0-1", name, value: value.clone()? }))
    .collect();
    // The page has no stored title; the product the visitor was looking at names it best.
    let page_name = lead.context.products.last().map_or_else(|| lead.page_url.clone(), |v| v.product.name.clone());
    HubSpotSubmission {
        submitted_at: lead.created_at.to_string(),
        fields,
        context: HubSpotContext { page_uri: lead.page_url.clone(), page_name },
        legal_consent_options: HubSpotLegalConsent {
            consent: HubSpotConsent { consent_to_process: true, text: lead.consent.given.text.clone() },
        },
    }
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct TelegramMessage {
    /// A numeric id (as a string) or `@channelname`; the Bot API takes both.
    pub chat_id: String,
    pub text: String,
    pub parse_mode: &'static str,
}

/// A short alert: what was promised, the contact, top products with prices, the source.
fn telegram_text(lead: &Lead, locale: Locale) -> String {
    let mut lines = vec![format!("<b>{}</b>", html_escape(lead.kind.label(locale)))];
    for (label, value) in [
        (t(locale, "Имя:", "Name:"), &lead.contact.name),
        (t(locale, "Телефон:", "Phone:"), &lead.contact.phone),
        ("Email:", &lead.contact.email),
    ] {
        if let Some(value) = value {
            lines.push(format!("{label} {}", html_escape(value)));
        }
    }
    lines.extend(detail_lines(lead, locale).iter().map(|l| html_escape(l)));
    if let Some(source) = source_line(lead) {
        lines.push(format!("{} {}", t(locale, "Источник:", "Source:"), html_escape(&source)));
    }
    lines.push(html_escape(&lead.page_url));
    truncate_html(&lines.join("\n"), TELEGRAM_MAX_CHARS)
}

/// Cuts escaped text to `max_chars` characters (an ellipsis included) without splitting an
/// `&entity;`. Tags are only ever on the first line, which is short, so they are never split.
fn truncate_html(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    if let Some(amp) = cut.rfind('&') {
        if !cut[amp..].contains(';') {
            cut.truncate(amp);
        }
    }
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::money::Currency;
    use crate::leads::consent::{ConsentPurpose, ConsentSource, ConsentUpdated};
    use crate::leads::lead::LeadKind;
    use crate::leads::lead::tests::lead;
    use crate::outbound::webhook::{verify, EventType};
    use serde_json::{json, Value};

    fn endpoint(preset: Preset, url: &str) -> Endpoint {
        Endpoint {
            id: "crm".into(),
            url: url.into(),
            secrets: vec![WebhookSecret::generate([5; 32])],
            events: None,
            preset,
            enabled: true,
        }
    }

    fn secrets(name: &str) -> Option<String> {
        match name {
            "AMO_TOKEN" => Some("amo-token-value".into()),
            "TG_TOKEN" => Some("123456:ABC-def".into()),
            _ => None,
        }
    }

    fn send(endpoint: &Endpoint, event: &WebhookEvent) -> CrmRequest {
        match map_event(endpoint, event, Locale::Ru, &secrets).unwrap() {
            Mapped::Send(request) => *request,
            Mapped::Skip => panic!("skipped"),
        }
    }

    fn body(request: &CrmRequest) -> Value {
        serde_json::to_value(&request.body).unwrap()
    }

    fn callback() -> WebhookEvent {
        WebhookEvent::LeadCreated(lead(LeadKind::Callback))
    }

    #[test]
    fn money() {
        let rub = |minor| format_money(Money { minor, currency: Currency::RUB });
        assert_eq!(rub(2_499_000), "24 990 ₽");
        assert_eq!(rub(0), "0 ₽");
        assert_eq!(rub(99_900), "999 ₽");
        assert_eq!(rub(100_000_000), "1 000 000 ₽");
        assert_eq!(rub(12_345), "123,45 ₽");
        assert_eq!(rub(-150_000), "-1 500 ₽");
        let usd = Money { minor: 129_950, currency: Currency::try_from("USD".to_owned()).unwrap() };
        assert_eq!(format_money(usd), "1 299,50 $");
        let chf = Money { minor: 100, currency: Currency::try_from("CHF".to_owned()).unwrap() };
        assert_eq!(format_money(chf), "1 CHF");
    }

    #[test]
    fn generic_is_the_signed_envelope() {
        let event = callback();
        let endpoint = endpoint(Preset::Generic, "https://hooks.example.com/fw");
        let request = send(&endpoint, &event);
        assert_eq!(request.url, "https://hooks.example.com/fw");
        let json = body(&request);
        assert_eq!(json["type"], "lead.created");
        assert_eq!(json["data"]["kind"], "callback");
        let bytes = serde_json::to_vec(&request.body).unwrap();
        let headers = request.headers_for(&bytes, 1_790_000_100);
        let get = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(get("webhook-id"), event.message_id());
        assert_eq!(get("content-type"), "application/json");
        verify(&endpoint.signing_secrets().unwrap(), &get("webhook-id"), &get("webhook-timestamp"), &get("webhook-signature"), &bytes, 1_790_000_100)
            .unwrap();
    }

    #[test]
    fn bitrix24_crm_lead_add() {
        let request = send(&endpoint(Preset::Bitrix24, "https://portal.bitrix24.ru/rest/1/abc123/"), &callback());
        assert_eq!(request.method, "POST");
        assert_eq!(request.url, "https://portal.bitrix24.ru/rest/1/abc123/crm.lead.add.json");
        let json = body(&request);
        let fields = &json["fields"];
        assert_eq!(fields["TITLE"], "Обратный звонок: Анна, +79161234567");
        assert_eq!(fields["NAME"], "Анна");
        assert_eq!(fields["PHONE"], json!([{"VALUE": "+79161234567", "VALUE_TYPE": "WORK"}]));
        assert!(fields.get("EMAIL").is_none());
        assert_eq!(fields["SOURCE_ID"], "WEB");
        assert_eq!(fields["SOURCE_DESCRIPTION"], "Floorwalker: yandex / cpc / strollers_spring");
        assert_eq!(fields["UTM_SOURCE"], "yandex");
        assert_eq!(fields["UTM_MEDIUM"], "cpc");
        assert_eq!(fields["UTM_CAMPAIGN"], "strollers_spring");
        assert_eq!(fields["UTM_CONTENT"], "ad42");
        assert_eq!(fields["UTM_TERM"], "коляска 3 в 1");
        assert_eq!(fields["ORIGIN_ID"], lead(LeadKind::Callback).id.as_str());
        assert_eq!(json["params"], json!({"REGISTER_SONET_EVENT": "Y"}));
        let comments = fields["COMMENTS"].as_str().unwrap();
        assert!(comments.contains("• Коляска Alto &lt;Lux&gt; — 31 500 ₽\n• Коляска Vento 3 в 1 — 24 990 ₽"), "{comments}");
        assert!(comments.contains("Удобное время: после 18:00"), "{comments}");
        assert!(comments.contains("Страница: https://shop.example/p/s2"), "{comments}");

        let email_lead = send(&endpoint(Preset::Bitrix24, "https://portal.bitrix24.ru/rest/1/abc123"), &WebhookEvent::LeadCreated(lead(LeadKind::ComparisonEmail)));
        assert_eq!(email_lead.url, "https://portal.bitrix24.ru/rest/1/abc123/crm.lead.add.json");
        assert_eq!(body(&email_lead)["fields"]["EMAIL"], json!([{"VALUE": "Anna@yandex.ru", "VALUE_TYPE": "WORK"}]));
    }

    #[test]
    fn amocrm_complex_lead() {
        let request = send(&endpoint(Preset::Amocrm { token_secret: "AMO_TOKEN".into() }, "https://shop.amocrm.ru/"), &callback());
        assert_eq!(request.url, "https://shop.amocrm.ru/api/v4/leads/complex");
        assert!(request.headers.contains(&("authorization".into(), "Bearer amo-token-value".into())));
        let json = body(&request);
        assert!(json.is_array());
        let lead_json = &json[0];
        assert_eq!(lead_json["name"], "Обратный звонок: Анна, +79161234567");
        assert_eq!(lead_json["price"], 31_500);
        assert_eq!(
            lead_json["_embedded"]["contacts"],
            json!([{"first_name": "Анна", "custom_fields_values": [
                {"field_code": "PHONE", "values": [{"value": "+79161234567", "enum_code": "WORK"}]}
            ]}])
        );
        assert_eq!(lead_json["_embedded"]["tags"], json!([{"name": "floorwalker"}, {"name": "callback"}]));
        assert_eq!(lead_json["custom_fields_values"][0], json!({"field_code": "UTM_SOURCE", "values": [{"value": "yandex"}]}));
        assert!(!format!("{request:?}").contains("amo-token-value"));

        let email = send(&endpoint(Preset::Amocrm { token_secret: "AMO_TOKEN".into() }, "https://shop.amocrm.ru"), &WebhookEvent::LeadCreated(lead(LeadKind::OfflineMessage)));
        assert_eq!(
            body(&email)[0]["_embedded"]["contacts"][0]["custom_fields_values"],
            json!([{"field_code": "EMAIL", "values": [{"value": "anna@yandex.ru", "enum_code": "WORK"}]}])
        );
        assert!(body(&email)[0]["_embedded"]["contacts"][0].get("first_name").is_none());
    }

    #[test]
    fn missing_worker_secret_is_a_config_error() {
        let amo = endpoint(Preset::Amocrm { token_secret: "NOT_SET".into() }, "https://shop.amocrm.ru");
        assert_eq!(map_event(&amo, &callback(), Locale::Ru, &secrets).unwrap_err().code, ErrorCode::InvalidConfig);
        let tg = endpoint(Preset::Telegram { chat_id: "1".into(), bot_token_secret: "NOT_SET".into() }, "");
        assert_eq!(map_event(&tg, &callback(), Locale::Ru, &secrets).unwrap_err().code, ErrorCode::InvalidConfig);
    }

    #[test]
    fn hubspot_forms_submission() {
        let preset = Preset::Hubspot { portal_id: "123456".into(), form_guid: "0a1b2c3d-0000-4a4a-8b8b-0123456789ab".into() };
        let request = send(&endpoint(preset, ""), &WebhookEvent::LeadCreated(lead(LeadKind::OfflineMessage)));
        assert_eq!(
            request.url,
            "https://api.hsforms.com/submissions/v3/integration/submit/123456/0a1b2c3d-0000-4a4a-8b8b-0123456789ab"
        );
        assert_eq!(
            body(&request),
            json!({
                "submittedAt": "1790000000000",
                "fields": [
                    {"objectTypeId": "0-1", "name": "email", "value": "anna@yandex.ru"},
                    {"objectTypeId": "0-1", "name": "message", "value": "Есть ли в наличии синяя?"}
                ],
                "context": {"pageUri": "https://shop.example/p/s2", "pageName": "Коляска Alto <Lux>"},
                "legalConsentOptions": {"consent": {
                    "consentToProcess": true, "text": "Согласен получить одно письмо со сравнением"
                }}
            })
        );
    }

    #[test]
    fn telegram_alert() {
        let preset = Preset::Telegram { chat_id: "-1001234567890".into(), bot_token_secret: "TG_TOKEN".into() };
        let request = send(&endpoint(preset, ""), &callback());
        assert_eq!(request.url, "https://api.telegram.org/bot123456:ABC-def/sendMessage");
        assert!(!format!("{request:?}").contains("ABC-def"));
        let json = body(&request);
        assert_eq!(json["chat_id"], "-1001234567890");
        assert_eq!(json["parse_mode"], "HTML");
        assert_eq!(
            json["text"],
            "<b>Обратный звонок</b>\nИмя: Анна\nТелефон: +79161234567\nТовары:\n• Коляска Alto &lt;Lux&gt; — 31 500 ₽\n\
             • Коляска Vento 3 в 1 — 24 990 ₽\nУдобное время: после 18:00\nИсточник: yandex / cpc / strollers_spring\n\
             https://shop.example/p/s2"
        );
    }

    #[test]
    fn telegram_escapes_everything_the_visitor_wrote_and_fits_the_limit() {
        let mut lead = lead(LeadKind::OfflineMessage);
        lead.contact.name = Some("<a href=\"x\">Bob</a> & co".into());
        lead.contact.message = Some("&<>".repeat(700));
        let text = telegram_text(&lead, Locale::En);
        assert!(text.starts_with("<b>Offline message</b>\nName: &lt;a href=&quot;x&quot;&gt;Bob&lt;/a&gt; &amp; co\n"), "{text}");
        assert_eq!(text.matches('<').count(), 2, "only our own <b></b>");
        assert!(text.chars().count() <= TELEGRAM_MAX_CHARS);
        assert!(text.ends_with('…'));
        let before_ellipsis = text.trim_end_matches('…');
        let tail = &before_ellipsis[before_ellipsis.rfind('&').unwrap_or(0)..];
        assert!(tail.contains(';') || !tail.starts_with('&'), "entity split: {tail}");
        assert_eq!(truncate_html("&amp;&amp;", 7), "&amp;…");
        assert_eq!(truncate_html("short", 10), "short");
    }

    #[test]
    fn presets_skip_what_they_cannot_use() {
        let consent = WebhookEvent::ConsentUpdated(ConsentUpdated {
            site: "demo".into(),
            lead: "lead_1".into(),
            purpose: ConsentPurpose::Marketing,
            granted: false,
            source: ConsentSource::EmailLink,
            at: 1,
            record: None,
        });
        let requested = WebhookEvent::CallbackRequested(lead(LeadKind::Callback));
        for preset in [
            Preset::Bitrix24,
            Preset::Amocrm { token_secret: "AMO_TOKEN".into() },
            Preset::Telegram { chat_id: "1".into(), bot_token_secret: "TG_TOKEN".into() },
        ] {
            let e = endpoint(preset, "https://crm.example.com");
            for event in [&consent, &requested] {
                assert!(matches!(map_event(&e, event, Locale::Ru, &secrets).unwrap(), Mapped::Skip));
            }
        }
        let generic = endpoint(Preset::Generic, "https://hooks.example.com");
        assert_eq!(body(&send(&generic, &consent))["type"], "consent.updated");
        let filtered = Endpoint { events: Some(vec![EventType::ConsentUpdated]), ..generic.clone() };
        assert!(matches!(map_event(&filtered, &callback(), Locale::Ru, &secrets).unwrap(), Mapped::Skip));
        let disabled = Endpoint { enabled: false, ..generic };
        assert!(matches!(map_event(&disabled, &consent, Locale::Ru, &secrets).unwrap(), Mapped::Skip));
    }
}
