//! CRM presets: one webhook event turned into the request each target documents. Pure mapping; the
//! delivery worker serialises [`CrmRequest::body`] as JSON, adds [`CrmRequest::headers_for`] (which
//! signs the exact bytes for `generic`) and sends it under the retry policy in `webhook`.

use serde::{Deserialize, Serialize};

use crate::base::error::{ApiError, ErrorCode};
use crate::base::locale::Locale;
use crate::base::money::Money;
use crate::leads::lead::Lead;
use crate::outbound::chat_events::ConversationWaiting;
use crate::outbound::endpoint::{check_crm_secret_name, Endpoint, Preset};
use crate::outbound::webhook::{signed_headers, AttemptResult, Envelope, WebhookEvent, WebhookSecret};
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

impl Signing {
    /// `headers` plus, when there is signing, the Standard Webhooks signature of `body` at `now_s`
    /// (a delivery's attempt and the owner's test event sign alike).
    pub fn headers(headers: &[(String, String)], signing: Option<&Signing>, body: &[u8], now_s: u64) -> Vec<(String, String)> {
        let mut headers = headers.to_vec();
        if let Some(signing) = signing {
            for (name, value) in signed_headers(&signing.msg_id, now_s, body, &signing.secrets) {
                headers.push((name.to_owned(), value));
            }
        }
        headers
    }
}

impl CrmRequest {
    /// All headers for one attempt. Signing happens per attempt with the attempt's time, as
    /// Standard Webhooks receivers check `webhook-timestamp` against their clock.
    pub fn headers_for(&self, body: &[u8], now_s: u64) -> Vec<(String, String)> {
        Signing::headers(&self.headers, self.signing.as_ref(), body, now_s)
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
    // Defence in depth: `Endpoint::validate` refused such names when the endpoint was stored.
    let lookup = |name: &str| {
        check_crm_secret_name(name)?;
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
        // A Telegram chat is where the shop's people hear of a lead at once, and of a visitor
        // who has waited in the chat with nobody answering.
        (Preset::Telegram { chat_id, bot_token_secret }, _) => {
            let text = match event {
                WebhookEvent::LeadCreated(lead) => telegram_text(lead, owner_locale),
                WebhookEvent::ConversationWaiting(waiting) => waiting_telegram_text(waiting, owner_locale),
                _ => return Ok(Mapped::Skip),
            };
            CrmRequest {
                method: "POST",
                url: format!("{base}/bot{}/sendMessage", lookup(bot_token_secret)?),
                headers: json(),
                body: CrmBody::Telegram(TelegramMessage { chat_id: chat_id.clone(), text, parse_mode: "HTML" }),
                signing: None,
            }
        }
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

/// Which amoCRM deal one of our leads became. amoCRM's own webhooks name only its deal, so this
/// is what lets a deal won there count for the lead (and its prompt) here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmoDealLink {
    pub lead: String,
    /// amoCRM's deal id, written as its webhooks write it (decimal digits).
    pub amocrm_deal: String,
}

/// The most of amoCRM's answer that is read: the answer for our one lead is about a hundred bytes.
pub const MAX_AMO_ANSWER_BYTES: usize = 16 * 1024;

/// One element of amoCRM's answer to `POST /api/v4/leads/complex`:
/// `[{"id": 9774766, "contact_id": 12117258, "company_id": null, "request_id": ["…"], "merged": false}]`.
/// `merged: true` (amoCRM's duplicate control joined the lead to a deal it already had) still
/// names the deal the lead is now part of, so it is read the same.
#[derive(Deserialize)]
struct AmoComplexAdded {
    id: u64,
    #[serde(default)]
    request_id: Vec<String>,
}

impl AmoDealLink {
    /// From an attempt's answer: `Some` only for `lead.created` answered 2xx with amoCRM's
    /// documented shape naming a deal. Our preset sends one lead per request with our lead id as
    /// its `request_id`, which amoCRM echoes: the element naming our lead is ours; a single
    /// element naming no request is ours too (we sent one). Anything else (another receiver's
    /// answer, an element naming another request, junk) says nothing.
    pub fn from_answer(event: &WebhookEvent, result: &AttemptResult) -> Option<AmoDealLink> {
        let WebhookEvent::LeadCreated(lead) = event else { return None };
        let AttemptResult::Response { status: 200..=299, body, .. } = result else { return None };
        if body.len() > MAX_AMO_ANSWER_BYTES {
            return None;
        }
        let added: Vec<AmoComplexAdded> = serde_json::from_slice(body).ok()?;
        let ours = match added.as_slice() {
            [only] if only.request_id.is_empty() => Some(only),
            all => all.iter().find(|a| a.request_id.contains(&lead.id)),
        }?;
        (ours.id > 0).then(|| AmoDealLink { lead: lead.id.clone(), amocrm_deal: ours.id.to_string() })
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

/// The alert for a visitor waiting unanswered: who, for how long, what they wrote, and whether
/// anyone is online to answer.
fn waiting_telegram_text(waiting: &ConversationWaiting, locale: Locale) -> String {
    let minutes = waiting.at.saturating_sub(waiting.waiting_since) / 60_000;
    let waited = match (minutes, locale) {
        (0, Locale::Ru) => "меньше минуты".to_owned(),
        (0, Locale::En) => "under a minute".to_owned(),
        (m, Locale::Ru) => format!("{m} мин"),
        (m, Locale::En) => format!("{m} min"),
    };
    let mut lines = vec![
        format!("<b>{}</b>", t(locale, "Посетитель ждёт ответа в чате", "A visitor is waiting for an answer in the chat")),
        format!("{} · {} {waited}", html_escape(&waiting.visitor_label), t(locale, "ждёт", "waiting")),
    ];
    lines.extend(waiting.messages.iter().map(|m| format!("«{}»", html_escape(&m.text))));
    lines.extend(waiting.nobody_online(locale).map(str::to_owned));
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
mod tests;
