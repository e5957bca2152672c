//! The promised email: "email me a comparison of what I looked at", rendered as HTML and plain text
//! in the visitor's language, and the request each email provider documents for sending it.
//!
//! Rendering is a pure function of the stored lead, so a retried send produces the same message.
//! The HTML is what mail clients render reliably: tables, inline styles, no scripts, no CSS classes.

use serde::{Deserialize, Serialize};

use crate::base::error::{ApiError, ErrorCode};
use crate::base::locale::Locale;
use crate::chat::protocol::Author;
use crate::leads::consent::{ConsentPurpose, ConsentText};
use crate::leads::lead::{Lead, LeadKind};
use crate::outbound::chat_events::TranscriptRequested;
use crate::outbound::crm::{format_money, html_escape};
use crate::outbound::webhook::rfc3339;
use crate::visitor::context::Product;

/// Appended to every product link, so the shop's analytics can attribute the visit to this email.
pub const UTM_PARAMS: [(&str, &str); 3] =
    [("utm_source", "floorwalker"), ("utm_medium", "email"), ("utm_campaign", "comparison")];
/// The version of the wording of the "send me more like this" link; recorded with the consent.
pub const LINK_TEXT_VERSION: &str = "email-v1";
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
        Locale::Ru => format!("Присылайте мне похожие подборки от «{shop_name}»"),
        Locale::En => format!("Send me more picks like this from {shop_name}"),
    };
    ConsentText { purpose: ConsentPurpose::Marketing, text, text_version: LINK_TEXT_VERSION.to_owned() }
}

/// `url` if it is an absolute http(s) URL safe to put in an `href`; anything else (`javascript:`,
/// relative paths, text with quotes or spaces) gets no link at all.
fn safe_http_url(url: &str) -> Option<&str> {
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

/// The products to compare: distinct, most recently viewed first.
fn products(lead: &Lead) -> Vec<&Product> {
    lead.context.products.iter().rev().take(MAX_EMAIL_PRODUCTS).map(|viewed| &viewed.product).collect()
}

/// `2026-09-21` from milliseconds since the Unix epoch.
fn date(ms: u64) -> String {
    rfc3339(ms).chars().take(10).collect()
}

/// Renders the comparison email for a `comparison_email` lead. `from` is the sender as the
/// provider expects it (`Кроха <shop@example.com>`).
pub fn render_comparison(lead: &Lead, shop_name: &str, from: &str, links: &ComparisonLinks) -> Result<EmailMessage, ApiError> {
    if lead.kind != LeadKind::ComparisonEmail {
        return Err(ApiError::new(ErrorCode::InvalidLead, "only comparison_email leads were promised an email"));
    }
    let to = lead
        .contact
        .email
        .clone()
        .ok_or_else(|| ApiError::new(ErrorCode::MissingField, "contact.email: the comparison needs an address"))?;
    let l = lead.locale;
    let subject = match l {
        Locale::Ru => format!("Сравнение товаров, которые вы смотрели в «{shop_name}»"),
        Locale::En => format!("Your comparison from {shop_name}"),
    };
    let greeting = match &lead.contact.name {
        Some(name) => format!("{} {name}!", t(l, "Здравствуйте,", "Hello")),
        None => t(l, "Здравствуйте!", "Hello!").to_owned(),
    };
    let what = match l {
        Locale::Ru => format!("Вы попросили прислать сравнение товаров, которые смотрели на сайте «{shop_name}». Вот оно."),
        Locale::En => format!("You asked {shop_name} to email you a comparison of the products you looked at. Here it is."),
    };
    let why = match l {
        Locale::Ru => format!(
            "Это письмо отправлено один раз, по вашей просьбе на странице {} ({}). Других писем не будет, если вы сами не попросите.",
            lead.page_url,
            date(lead.created_at)
        ),
        Locale::En => format!(
            "This one email was sent because you asked for it on {} ({}). You will get no others unless you ask.",
            lead.page_url,
            date(lead.created_at)
        ),
    };
    let more_text = marketing_link_text(l, shop_name).text;
    let unsubscribe_text = t(l, "Отписаться от писем", "Unsubscribe");
    let products = products(lead);
    let no_price = t(l, "цена не указана", "price not shown");
    let open = t(l, "Открыть товар", "View product");

    // Plain text.
    let mut text = vec![greeting.clone(), String::new(), what.clone(), String::new()];
    for (index, product) in products.iter().enumerate() {
        text.push(format!("{}. {}", index + 1, product.name));
        text.push(format!("   {}", product.price.map_or_else(|| no_price.to_owned(), format_money)));
        if let Some(category) = &product.category {
            text.push(format!("   {category}"));
        }
        if let Some(url) = product.url.as_deref().and_then(safe_http_url) {
            text.push(format!("   {}", with_utm(url)));
        }
        text.push(String::new());
    }
    text.push(why.clone());
    text.push(String::new());
    text.push(format!("{more_text}: {}", links.more_like_this));
    text.push(format!("{unsubscribe_text}: {}", links.unsubscribe));
    let text = text.join("\n");

    // HTML: every piece of visitor- or shop-supplied text goes through `html_escape`.
    let e = |s: &str| html_escape(s);
    let mut rows = String::new();
    for product in &products {
        let link = product.url.as_deref().and_then(safe_http_url).map(with_utm);
        let image = match product.image.as_deref().and_then(safe_http_url) {
            Some(src) => format!(
                r#"<img src="{}" alt="{}" width="96" style="display:block;width:96px;max-width:96px;height:auto;border:0;border-radius:6px">"#,
                e(src),
                e(&product.name)
            ),
            None => String::new(),
        };
        let name = match &link {
            Some(href) => format!(r#"<a href="{}" style="color:#1a1a1a;text-decoration:none;font-weight:bold">{}</a>"#, e(href), e(&product.name)),
            None => format!(r#"<span style="font-weight:bold">{}</span>"#, e(&product.name)),
        };
        let price = product.price.map_or_else(|| no_price.to_owned(), format_money);
        let currency = product.price.map(|p| p.currency.as_str().to_owned()).unwrap_or_default();
        let category = product
            .category
            .as_deref()
            .map(|c| format!(r#"<div style="color:#666666;font-size:13px;padding-top:2px">{}</div>"#, e(c)))
            .unwrap_or_default();
        let button = link
            .map(|href| {
                format!(
                    r#"<div style="padding-top:8px"><a href="{}" style="display:inline-block;padding:6px 12px;background:#1f6feb;color:#ffffff;text-decoration:none;border-radius:4px;font-size:13px">{}</a></div>"#,
                    e(&href),
                    e(open)
                )
            })
            .unwrap_or_default();
        rows.push_str(&format!(
            r#"<tr><td width="110" valign="top" style="padding:12px 8px;border-bottom:1px solid #eeeeee">{image}</td><td valign="top" style="padding:12px 8px;border-bottom:1px solid #eeeeee;font-family:Arial,sans-serif;font-size:15px;color:#1a1a1a">{name}{category}<div style="padding-top:6px;font-size:16px" data-currency="{currency}">{price}</div>{button}</td></tr>"#,
            price = e(&price),
            currency = e(&currency),
        ));
    }
    let paragraph = |s: &str| format!(r#"<p style="margin:0 0 12px 0;font-family:Arial,sans-serif;font-size:15px;color:#1a1a1a">{}</p>"#, e(s));
    let small = |s: &str| format!(r#"<p style="margin:0 0 8px 0;font-family:Arial,sans-serif;font-size:12px;color:#666666">{s}</p>"#);
    let html = format!(
        concat!(
            r#"<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{subject}</title></head>"#,
            r#"<body style="margin:0;padding:0;background:#f4f4f4">"#,
            r#"<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f4f4f4"><tr><td align="center" style="padding:16px">"#,
            r#"<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" style="width:600px;max-width:100%;background:#ffffff;border-radius:8px">"#,
            r#"<tr><td style="padding:24px 24px 8px 24px">{greeting}{what}</td></tr>"#,
            r#"<tr><td style="padding:0 16px"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">{rows}</table></td></tr>"#,
            r#"<tr><td style="padding:16px 24px 24px 24px">{why}{links}</td></tr>"#,
            r#"</table></td></tr></table></body></html>"#
        ),
        lang = t(l, "ru", "en"),
        subject = e(&subject),
        greeting = paragraph(&greeting),
        what = paragraph(&what),
        rows = rows,
        why = small(&e(&why)),
        links = small(&format!(
            r#"<a href="{}" style="color:#1f6feb">{}</a> &middot; <a href="{}" style="color:#666666">{}</a>"#,
            e(&links.more_like_this),
            e(&more_text),
            e(&links.unsubscribe),
            e(unsubscribe_text)
        )),
    );
    Ok(EmailMessage { from: from.to_owned(), to, subject, html, text })
}

/// `2026-09-21 14:05 UTC` from milliseconds since the Unix epoch. The visitor's time zone is not
/// known to the server, so the email says which one it uses.
fn date_time(ms: u64) -> String {
    let stamp = rfc3339(ms);
    format!("{} {} UTC", stamp.get(..10).unwrap_or_default(), stamp.get(11..16).unwrap_or_default())
}

/// Renders the chat transcript a visitor asked for (`POST /v1/chat/conversations/:id/transcript`).
/// Every message, in order, with who wrote it and when; message text is the visitor's and the
/// operators' own, so the HTML part escapes it and keeps its line breaks. `from` as in
/// [`render_comparison`].
pub fn render_transcript(request: &TranscriptRequested, shop_name: &str, from: &str) -> Result<EmailMessage, ApiError> {
    if request.email.trim().is_empty() {
        return Err(ApiError::new(ErrorCode::MissingField, "email: the transcript needs an address"));
    }
    let l = request.locale;
    let transcript = &request.transcript;
    let subject = match l {
        Locale::Ru => format!("Ваша переписка с «{shop_name}»"),
        Locale::En => format!("Your conversation with {shop_name}"),
    };
    let what = match l {
        Locale::Ru => format!("Вы попросили прислать переписку в чате «{shop_name}». Вот она."),
        Locale::En => format!("You asked {shop_name} to email you your chat conversation. Here it is."),
    };
    let why = match l {
        Locale::Ru => format!(
            "Это письмо отправлено один раз, по вашей просьбе в чате ({}). Других писем не будет, если вы сами не попросите.",
            date_time(request.requested_at)
        ),
        Locale::En => format!(
            "This one email was sent because you asked for it in the chat ({}). You will get no others unless you ask.",
            date_time(request.requested_at)
        ),
    };
    let you = t(l, "Вы", "You");
    let author = |author: &Author| match author {
        Author::Visitor => you.to_owned(),
        Author::Operator { name } => name.clone(),
        Author::System => shop_name.to_owned(),
    };
    let empty = t(l, "В переписке пока нет сообщений.", "There are no messages yet.");

    let mut text = vec![t(l, "Здравствуйте!", "Hello!").to_owned(), String::new(), what.clone(), String::new()];
    for message in &transcript.messages {
        text.push(format!("[{}] {}:", date_time(message.at), author(&message.author)));
        text.extend(message.text.lines().map(|line| format!("  {line}")));
        text.push(String::new());
    }
    if transcript.messages.is_empty() {
        text.push(empty.to_owned());
        text.push(String::new());
    }
    text.push(why.clone());
    let text = text.join("\n");

    // HTML: every message, name and the shop's name go through `html_escape`.
    let e = |s: &str| html_escape(s);
    let mut rows = String::new();
    for message in &transcript.messages {
        let background = match message.author {
            Author::Visitor => "#eef4ff",
            Author::Operator { .. } => "#ffffff",
            Author::System => "#f6f6f6",
        };
        let body = message.text.lines().map(html_escape).collect::<Vec<_>>().join("<br>");
        rows.push_str(&format!(
            r#"<tr><td style="padding:8px 12px;border-bottom:1px solid #eeeeee;background:{background};font-family:Arial,sans-serif"><div style="font-size:12px;color:#666666" data-seq="{seq}"><b style="color:#1a1a1a">{who}</b> &middot; {when}</div><div style="font-size:15px;color:#1a1a1a;padding-top:4px">{body}</div></td></tr>"#,
            seq = message.seq,
            who = e(&author(&message.author)),
            when = e(&date_time(message.at)),
        ));
    }
    if transcript.messages.is_empty() {
        rows.push_str(&format!(r#"<tr><td style="padding:8px 12px;font-family:Arial,sans-serif">{}</td></tr>"#, e(empty)));
    }
    let html = format!(
        concat!(
            r#"<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{subject}</title></head>"#,
            r#"<body style="margin:0;padding:0;background:#f4f4f4">"#,
            r#"<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f4f4f4"><tr><td align="center" style="padding:16px">"#,
            r#"<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" style="width:600px;max-width:100%;background:#ffffff;border-radius:8px">"#,
            r#"<tr><td style="padding:24px 24px 8px 24px"><p style="margin:0 0 12px 0;font-family:Arial,sans-serif;font-size:15px;color:#1a1a1a">{what}</p></td></tr>"#,
            r#"<tr><td style="padding:0 16px"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">{rows}</table></td></tr>"#,
            r#"<tr><td style="padding:16px 24px 24px 24px"><p style="margin:0;font-family:Arial,sans-serif;font-size:12px;color:#666666">{why}</p></td></tr>"#,
            r#"</table></td></tr></table></body></html>"#
        ),
        lang = t(l, "ru", "en"),
        subject = e(&subject),
        what = e(&what),
        rows = rows,
        why = e(&why),
    );
    Ok(EmailMessage { from: from.to_owned(), to: request.email.clone(), subject, html, text })
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
            }),
        }),
    }
}

#[cfg(test)]
mod tests;
