//! The promised email: "email me a comparison of what I looked at", rendered as HTML and plain text
//! in the visitor's language, and the request each email provider documents for sending it.
//!
//! Rendering is a pure function of its inputs: the stored lead or transcript request, and for the
//! comparison the products the shop's pages publish (`comparison`). Links and images point only
//! where the shop's mail may (`links`). The HTML is what mail clients render reliably: tables, inline styles, no scripts, no CSS classes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::base::error::{ApiError, ErrorCode};
use crate::base::locale::Locale;
use crate::base::url::{host_of, is_loopback_host};
use crate::leads::consent::{ConsentPurpose, ConsentText};

mod alert;
pub mod branding;
mod comparison;
pub mod links;
mod reply;
pub mod sample;
mod transcript;

pub use alert::{render_alert_confirmation, render_waiting_alert, AlertLinkClaims, ALERT_LINKS_PER_HOUR};
pub use branding::{MailClock, MailKind, MailLook, MailSettings};
pub use comparison::{
    cached_page, comparison_page_urls, comparison_pages, marked_products, page_answer, plan_comparison, render_comparison, render_comparison_mail, ComparisonMail, ComparisonPlan,
    PageAnswer, PageRead, MAX_PAGE_REDIRECTS, MAX_TABLE_ATTRIBUTES, PAGE_FRESH_MS, PAGE_KEEP_MS,
};
pub use links::MailLinks;
pub use reply::render_offline_reply;
pub use transcript::render_transcript;

/// Appended to every product link, so the shop's analytics can attribute the visit to this email.
pub const UTM_PARAMS: [(&str, &str); 3] =
    [("utm_source", "floorwalker"), ("utm_medium", "email"), ("utm_campaign", "comparison")];
/// The version of the wording of the "send me more like this" link; recorded with the consent.
/// v2: the Russian wording names the shop as «магазин «…»» (v1 declined the name badly).
pub const LINK_TEXT_VERSION: &str = "email-v2";
/// Products shown: the most recently viewed first. A comparison of more is a catalogue.
pub const MAX_EMAIL_PRODUCTS: usize = 6;

/// One email, ready for a provider.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct EmailMessage {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    /// Where a reply goes, when the owner gave an address for replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Extra mail headers (the RFC 8058 one-click unsubscribe pair), in Postmark's `{Name, Value}`
    /// shape, which is also how the local mailbox keeps them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<EmailHeader>,
}

/// One mail header the provider adds to the message.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct EmailHeader {
    pub name: String,
    pub value: String,
}

/// RFC 8058 one-click unsubscribe: mail clients show an "Unsubscribe" button that POSTs
/// `List-Unsubscribe=One-Click` to the https URL (never a GET, which scanners prefetch). A
/// `mailto:` address is offered too when the shop has one for it.
pub fn list_unsubscribe_headers(unsubscribe_url: &str, mailto: Option<&str>) -> Vec<EmailHeader> {
    let mut value = format!("<{unsubscribe_url}>");
    if let Some(address) = mailto {
        value.push_str(&format!(", <mailto:{address}?subject=unsubscribe>"));
    }
    vec![
        EmailHeader { name: "List-Unsubscribe".to_owned(), value },
        EmailHeader { name: "List-Unsubscribe-Post".to_owned(), value: "List-Unsubscribe=One-Click".to_owned() },
    ]
}

/// An email the local provider kept (the admin API's mailbox listing).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct StoredEmail {
    pub id: String,
    pub site: String,
    pub lead: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: u64,
    pub message: EmailMessage,
}

/// The signed one-click links the email carries (see `consent::sign_link`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComparisonLinks {
    pub more_like_this: String,
    pub unsubscribe: String,
}

/// Who the mail is from, how it looks, whose clock it keeps and where its links may point.
#[derive(Debug, Clone, Copy)]
pub struct ShopMail<'a> {
    /// The shop's name as the site config gives it.
    pub name: &'a str,
    /// The sender as the provider expects it (`Кроха <shop@example.com>`; see `MailSettings::from`).
    pub from: &'a str,
    pub links: MailLinks<'a>,
    /// The shop's logo and colours, and the reply address.
    pub look: &'a MailLook,
    /// Dates and times are the site's local ones.
    pub clock: MailClock<'a>,
    /// The owner's test of this kind of email: marked as such in the subject and at the top.
    pub test: bool,
}

impl ShopMail<'_> {
    /// The subject, marked when this is the owner's test.
    fn subject(&self, l: Locale, subject: String) -> String {
        if self.test {
            format!("{} {subject}", t(l, "[Тест]", "[Test]"))
        } else {
            subject
        }
    }
}

/// Plain text as mail HTML: each line escaped, lines joined by `<br>`.
pub(crate) fn html_lines(text: &str) -> String {
    text.lines().map(crate::outbound::crm::html_escape).collect::<Vec<_>>().join("<br>")
}

/// The shop's name in running Russian text: «Кроха» after a noun that declines in its place
/// («магазина «Кроха»»), since the name itself cannot be declined safely. A name already in
/// quotes keeps its own.
pub(crate) fn quoted(name: &str) -> String {
    let name = name.trim();
    if name.starts_with(['«', '"', '\'', '„', '“']) {
        name.to_owned()
    } else {
        format!("«{name}»")
    }
}

/// The page every email of the shop is: a grey background and a white 600 px card that opens
/// with the shop's band (its logo, or its name, on its colour) and holds `rows` (`<tr>`
/// elements), in tables with inline styles, which is what mail clients render alike. `subject`
/// is already escaped.
fn mail_page(lang: &str, subject: &str, shop: &ShopMail<'_>, rows: &str) -> String {
    use crate::outbound::crm::html_escape as e;
    let look = shop.look;
    let name = if look.shop_name.is_empty() { shop.name } else { look.shop_name.as_str() };
    let band = match look.logo_url.as_deref().and_then(safe_http_url) {
        Some(logo) => format!(
            r#"<img src="{}" alt="{}" height="40" style="display:block;height:40px;width:auto;max-width:240px;border:0">"#,
            e(logo),
            e(name)
        ),
        None => format!(
            r#"<span style="font-family:Arial,sans-serif;font-size:20px;font-weight:bold;color:{}">{}</span>"#,
            look.on_color,
            e(name)
        ),
    };
    let test = if shop.test {
        let l = if lang == "ru" { Locale::Ru } else { Locale::En };
        format!(
            r#"<tr><td data-test-notice="true" style="padding:10px 24px;background:#fff4ce;font-family:Arial,sans-serif;font-size:13px;color:#1a1a1a">{}</td></tr>"#,
            e(t(
                l,
                "Это тестовое письмо: так его увидит покупатель. Товары и сообщения в нём — примеры, ссылки подписки не действуют.",
                "This is a test: it is what a shopper would see. Its products and messages are examples; its subscription links do nothing."
            ))
        )
    } else {
        String::new()
    };
    format!(
        concat!(
            r#"<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{subject}</title></head>"#,
            r#"<body style="margin:0;padding:0;background:#f4f4f4">"#,
            r#"<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f4f4f4"><tr><td align="center" style="padding:16px">"#,
            r#"<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" style="width:600px;max-width:100%;background:#ffffff;border-radius:8px">"#,
            r#"<tr><td data-brand="{color}" style="padding:16px 24px;background:{color};border-radius:8px 8px 0 0">{band}</td></tr>"#,
            "{test}{rows}",
            r#"</table></td></tr></table></body></html>"#
        ),
        lang = lang,
        subject = subject,
        color = look.color,
        band = band,
        test = test,
        rows = rows,
    )
}

/// The closing lines every email of the shop ends its message with: an invitation to reply when
/// the owner gave an address for replies, and the shop's signature. (HTML, already escaped.)
fn sign_off(l: Locale, shop: &ShopMail<'_>) -> (String, Vec<String>) {
    use crate::outbound::crm::html_escape as e;
    let mut lines = Vec::new();
    if shop.look.reply_to.is_some() {
        lines.push(
            t(
                l,
                "Если захотите что-то уточнить или посоветоваться — просто ответьте на это письмо, мы с радостью поможем.",
                "If you would like to ask anything or talk it over, just reply to this email: we will be glad to help.",
            )
            .to_owned(),
        );
    }
    let signature = match l {
        Locale::Ru => format!("С заботой, команда магазина {}", quoted(shop.name)),
        Locale::En => format!("Warm regards, the {} team", shop.name.trim()),
    };
    lines.push(signature);
    let html = lines
        .iter()
        .map(|line| format!(r#"<p style="margin:0 0 12px 0;font-family:Arial,sans-serif;font-size:15px;color:#1a1a1a">{}</p>"#, e(line)))
        .collect::<String>();
    (format!(r#"<tr><td style="padding:16px 24px 0 24px">{html}</td></tr>"#), lines)
}

fn t(locale: Locale, ru: &'static str, en: &'static str) -> &'static str {
    match locale {
        Locale::Ru => ru,
        Locale::En => en,
    }
}

/// The wording of the "send me more like this" link. Clicking it grants marketing consent in
/// exactly these words, so the email and the consent record must use this one function.
pub fn marketing_link_text(locale: Locale, shop_name: &str) -> ConsentText {
    let text = match locale {
        Locale::Ru => format!("Присылайте мне похожие подборки от магазина {}", quoted(shop_name)),
        Locale::En => format!("Send me more picks like this from {shop_name}"),
    };
    ConsentText { purpose: ConsentPurpose::Marketing, text, text_version: LINK_TEXT_VERSION.to_owned() }
}

/// Where the links in an email (the signed consent links) point: the configured public URL of the
/// worker; without one, the origin the request came in on, but only in loopback development.
/// Anywhere else the Host header is whatever the sender wrote, so a forged one would put the
/// shop's signed links on the forger's host: refused as a configuration error.
pub fn email_link_base(configured: Option<&str>, request_origin: &str) -> Result<String, ApiError> {
    if let Some(base) = configured.map(str::trim).filter(|base| !base.is_empty()) {
        return Ok(base.trim_end_matches('/').to_owned());
    }
    if host_of(request_origin).is_some_and(|host| is_loopback_host(&host)) {
        return Ok(request_origin.trim_end_matches('/').to_owned());
    }
    Err(ApiError::new(
        ErrorCode::InvalidConfig,
        format!("PUBLIC_BASE_URL is not set: email links are built from a request's Host only on loopback, not for {request_origin}"),
    ))
}

/// `url` if it is an absolute http(s) URL safe to put in an `href`; anything else (`javascript:`,
/// relative paths, text with quotes or spaces) gets no link at all.
pub(crate) fn safe_http_url(url: &str) -> Option<&str> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let http = lower.starts_with("https://") || lower.starts_with("http://");
    let clean = !url.chars().any(|c| c.is_control() || c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '\\'));
    (http && clean).then_some(url)
}

/// The product URL with this email's UTM parameters, replacing any it already had and keeping the
/// rest of the query and the fragment.
pub fn with_utm(url: &str) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((head, frag)) => (head, Some(frag)),
        None => (url, None),
    };
    let (path, query) = before_fragment.split_once('?').unwrap_or((before_fragment, ""));
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let name = p.split('=').next().unwrap_or_default();
            !UTM_PARAMS.iter().any(|(utm, _)| utm.eq_ignore_ascii_case(name))
        })
        .collect();
    let utm: Vec<String> = UTM_PARAMS.iter().map(|(name, value)| format!("{name}={value}")).collect();
    params.extend(utm.iter().map(String::as_str));
    let mut out = format!("{path}?{}", params.join("&"));
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// Where emails go. Keys are worker secrets, never config.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EmailProvider {
    /// Stored in D1 and shown at the local mailbox page: demos and tests, offline.
    Local,
    /// `POST https://api.resend.com/emails`.
    Resend,
    /// `POST https://api.postmarkapp.com/email`.
    Postmark,
}

impl EmailProvider {
    pub fn parse(name: &str) -> Option<EmailProvider> {
        match name.trim().to_ascii_lowercase().as_str() {
            "local" => Some(EmailProvider::Local),
            "resend" => Some(EmailProvider::Resend),
            "postmark" => Some(EmailProvider::Postmark),
            _ => None,
        }
    }

    /// The documented API base.
    pub fn default_base(self) -> &'static str {
        match self {
            EmailProvider::Local => "",
            EmailProvider::Resend => "https://api.resend.com",
            EmailProvider::Postmark => "https://api.postmarkapp.com",
        }
    }
}

/// Resend's documented send-email body.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ResendEmail {
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub html: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Resend documents custom headers as an object of name → value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

/// Postmark's documented single-email body.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct PostmarkEmail {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub html_body: String,
    pub text_body: String,
    pub message_stream: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Postmark documents custom headers as an array of `{Name, Value}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<EmailHeader>,
}

#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(untagged)]
pub enum EmailBody {
    Resend(ResendEmail),
    Postmark(PostmarkEmail),
}

/// One HTTP request to a provider. The headers carry the key: never log them.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: EmailBody,
}

impl std::fmt::Debug for EmailRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailRequest").field("url", &self.url).finish_non_exhaustive()
    }
}

/// The request that sends `message` through `provider`. `base` overrides the API base (a test
/// double); `idempotency_key` (the delivery id) lets Resend drop a resend of the same email.
pub fn provider_request(
    provider: EmailProvider,
    base: Option<&str>,
    api_key: &str,
    message_stream: &str,
    idempotency_key: &str,
    message: &EmailMessage,
) -> Result<EmailRequest, ApiError> {
    if api_key.is_empty() {
        return Err(ApiError::new(ErrorCode::InvalidConfig, "the email provider's API key is not set"));
    }
    let base = base.unwrap_or(provider.default_base()).trim_end_matches('/');
    let json = ("content-type".to_owned(), "application/json".to_owned());
    match provider {
        EmailProvider::Local => Err(ApiError::new(ErrorCode::InvalidConfig, "the local provider sends nothing over HTTP")),
        EmailProvider::Resend => Ok(EmailRequest {
            url: format!("{base}/emails"),
            headers: vec![
                ("authorization".to_owned(), format!("Bearer {api_key}")),
                json,
                ("idempotency-key".to_owned(), idempotency_key.to_owned()),
            ],
            body: EmailBody::Resend(ResendEmail {
                from: message.from.clone(),
                to: vec![message.to.clone()],
                subject: message.subject.clone(),
                html: message.html.clone(),
                text: message.text.clone(),
                reply_to: message.reply_to.clone(),
                headers: message.headers.iter().map(|h| (h.name.clone(), h.value.clone())).collect(),
            }),
        }),
        EmailProvider::Postmark => Ok(EmailRequest {
            url: format!("{base}/email"),
            headers: vec![
                ("accept".to_owned(), "application/json".to_owned()),
                json,
                ("x-postmark-server-token".to_owned(), api_key.to_owned()),
            ],
            body: EmailBody::Postmark(PostmarkEmail {
                from: message.from.clone(),
                to: message.to.clone(),
                subject: message.subject.clone(),
                html_body: message.html.clone(),
                text_body: message.text.clone(),
                message_stream: message_stream.to_owned(),
                reply_to: message.reply_to.clone(),
                headers: message.headers.clone(),
            }),
        }),
    }
}

#[cfg(test)]
mod tests;
