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
mod tests {
    use super::*;
    use crate::base::money::{Currency, Money};
    use crate::leads::lead::tests::lead;
    use crate::visitor::context::ViewedProduct;

    fn links() -> ComparisonLinks {
        ComparisonLinks {
            more_like_this: "https://edge.example/v1/consent/abc.def".into(),
            unsubscribe: "https://edge.example/v1/consent/ghi.jkl".into(),
        }
    }

    fn viewed(id: &str, name: &str, minor: i64, url: Option<&str>, image: Option<&str>) -> ViewedProduct {
        ViewedProduct {
            product: Product {
                id: id.into(),
                name: name.into(),
                price: Some(Money { minor, currency: Currency::RUB }),
                image: image.map(Into::into),
                url: url.map(Into::into),
                category: Some("Коляски".into()),
            },
            views: 1,
            last_viewed_at: 0,
        }
    }

    fn comparison_lead(locale: Locale) -> Lead {
        let mut lead = lead(LeadKind::ComparisonEmail);
        lead.locale = locale;
        lead.context.products = vec![
            viewed("s1", "Коляска Vento 3 в 1", 2_499_000, Some("https://shop.example/p/s1?color=red#reviews"), Some("https://shop.example/i/s1.jpg")),
            viewed("s2", "Alto <Lux> & \"Co\"", 3_150_050, Some("javascript:alert(1)"), Some("javascript:alert(2)")),
        ];
        lead
    }

    #[test]
    fn utm_links_keep_the_query_and_fragment() {
        assert_eq!(
            with_utm("https://shop.example/p/1"),
            "https://shop.example/p/1?utm_source=floorwalker&utm_medium=email&utm_campaign=comparison"
        );
        assert_eq!(
            with_utm("https://shop.example/p/1?color=red&utm_source=ads&UTM_MEDIUM=cpc#top"),
            "https://shop.example/p/1?color=red&utm_source=floorwalker&utm_medium=email&utm_campaign=comparison#top"
        );
    }

    #[test]
    fn russian_email_lists_exactly_the_products_with_prices_and_links() {
        let email = render_comparison(&comparison_lead(Locale::Ru), "Кроха", "Кроха <shop@example.com>", &links()).unwrap();
        assert_eq!(email.to, "Anna@yandex.ru");
        assert_eq!(email.from, "Кроха <shop@example.com>");
        assert_eq!(email.subject, "Сравнение товаров, которые вы смотрели в «Кроха»");
        assert!(email.html.starts_with("<!DOCTYPE html><html lang=\"ru\">"));
        // Most recently viewed first.
        let first = email.html.find("Alto &lt;Lux&gt; &amp; &quot;Co&quot;").unwrap();
        let second = email.html.find("Коляска Vento 3 в 1").unwrap();
        assert!(first < second);
        assert!(email.html.contains("24 990 ₽"));
        assert!(email.html.contains("31 500,50 ₽"));
        assert!(email.html.contains(r#"data-currency="RUB""#));
        assert!(email.html.contains(
            r#"href="https://shop.example/p/s1?color=red&amp;utm_source=floorwalker&amp;utm_medium=email&amp;utm_campaign=comparison#reviews""#
        ));
        assert!(email.html.contains(r#"<img src="https://shop.example/i/s1.jpg""#));
        assert!(email.html.contains("Коляски"));
        assert!(email.html.contains("Это письмо отправлено один раз"));
        assert!(email.html.contains(r#"href="https://edge.example/v1/consent/abc.def""#));
        assert!(email.html.contains("Присылайте мне похожие подборки от «Кроха»"));
        assert!(email.html.contains("Отписаться"));
        assert!(email.text.contains("1. Alto <Lux> & \"Co\"\n   31 500,50 ₽"));
        assert!(email.text.contains("https://shop.example/p/s1?color=red&utm_source=floorwalker&utm_medium=email&utm_campaign=comparison#reviews"));
        assert!(email.text.contains("Отписаться от писем: https://edge.example/v1/consent/ghi.jkl"));
    }

    #[test]
    fn nothing_unsafe_reaches_the_html() {
        let mut lead = comparison_lead(Locale::En);
        lead.contact.name = Some("<script>alert(1)</script>".into());
        let email = render_comparison(&lead, "Shop \"<b>\"", "shop@example.com", &links()).unwrap();
        for bad in ["<script", "javascript:", "<b>", "<Lux>"] {
            assert!(!email.html.contains(bad), "{bad} in {}", email.html);
        }
        assert!(email.html.contains("Hello &lt;script&gt;alert(1)&lt;/script&gt;!"));
        assert!(!email.html.contains("class="), "inline styles only");
        assert!(!email.text.contains("javascript:"));
    }

    #[test]
    fn english_email() {
        let email = render_comparison(&comparison_lead(Locale::En), "Kroha", "shop@example.com", &links()).unwrap();
        assert_eq!(email.subject, "Your comparison from Kroha");
        assert!(email.html.starts_with("<!DOCTYPE html><html lang=\"en\">"));
        assert!(email.html.contains("This one email was sent because you asked for it on https://shop.example/p/s2 (2026-09-21)"));
        assert!(email.html.contains("Send me more picks like this from Kroha"));
        assert!(email.text.starts_with("Hello Анна!\n\nYou asked Kroha to email you a comparison"));
        assert!(email.text.contains("Unsubscribe: https://edge.example/v1/consent/ghi.jkl"));
    }

    #[test]
    fn only_comparison_leads_get_it() {
        let callback = lead(LeadKind::Callback);
        assert_eq!(render_comparison(&callback, "Kroha", "a@b.ru", &links()).unwrap_err().code, ErrorCode::InvalidLead);
    }

    #[test]
    fn link_text_is_the_consent_wording() {
        let text = marketing_link_text(Locale::En, "Kroha");
        assert_eq!(text.purpose, ConsentPurpose::Marketing);
        assert!(text.validate("marketing").is_ok());
    }

    fn message() -> EmailMessage {
        EmailMessage {
            from: "Kroha <shop@example.com>".into(),
            to: "anna@example.com".into(),
            subject: "Your comparison".into(),
            html: "<p>hi</p>".into(),
            text: "hi".into(),
        }
    }

    #[test]
    fn resend_request_matches_the_documented_shape() {
        let request = provider_request(EmailProvider::Resend, None, "re_123", "outbound", "dlv_1", &message()).unwrap();
        assert_eq!(request.url, "https://api.resend.com/emails");
        assert!(request.headers.contains(&("authorization".into(), "Bearer re_123".into())));
        assert!(request.headers.contains(&("content-type".into(), "application/json".into())));
        assert!(request.headers.contains(&("idempotency-key".into(), "dlv_1".into())));
        assert_eq!(
            serde_json::to_value(&request.body).unwrap(),
            serde_json::json!({"from": "Kroha <shop@example.com>", "to": ["anna@example.com"], "subject": "Your comparison",
                               "html": "<p>hi</p>", "text": "hi"})
        );
        assert!(!format!("{request:?}").contains("re_123"));
    }

    #[test]
    fn postmark_request_matches_the_documented_shape() {
        let request =
            provider_request(EmailProvider::Postmark, Some("http://127.0.0.1:9/"), "pm-token", "outbound", "dlv_1", &message()).unwrap();
        assert_eq!(request.url, "http://127.0.0.1:9/email");
        assert!(request.headers.contains(&("x-postmark-server-token".into(), "pm-token".into())));
        assert!(request.headers.contains(&("accept".into(), "application/json".into())));
        assert_eq!(
            serde_json::to_value(&request.body).unwrap(),
            serde_json::json!({"From": "Kroha <shop@example.com>", "To": "anna@example.com", "Subject": "Your comparison",
                               "HtmlBody": "<p>hi</p>", "TextBody": "hi", "MessageStream": "outbound"})
        );
        assert_eq!(provider_request(EmailProvider::Postmark, None, "", "outbound", "d", &message()).unwrap_err().code, ErrorCode::InvalidConfig);
        assert!(provider_request(EmailProvider::Local, None, "k", "outbound", "d", &message()).is_err());
        assert_eq!(EmailProvider::parse(" Resend "), Some(EmailProvider::Resend));
        assert_eq!(EmailProvider::parse("smtp"), None);
    }

    fn transcript_request(locale: Locale) -> TranscriptRequested {
        use crate::chat::conversation::{ConversationOwner, Transcript};
        use crate::chat::protocol::{message_id, ChatMessage};
        let message = |seq: u64, author: Author, text: &str| ChatMessage {
            seq,
            id: message_id("conv-0001", seq),
            author,
            text: text.into(),
            at: 1_790_000_000_000 + seq * 60_000,
            client_msg_id: None,
            action: None,
        };
        TranscriptRequested {
            site: "demo".into(),
            email: "anna@example.com".into(),
            requested_at: 1_790_000_600_000,
            transcript: Transcript {
                conversation_id: "conv-0001".into(),
                owner: ConversationOwner { site: "demo".into(), visitor_id: "visitor-0001".into(), user_id: None },
                visitor_label: "Visitor".into(),
                opened_at: 1_790_000_000_000,
                closed_at: 1_790_000_600_000,
                messages: vec![
                    message(1, Author::Visitor, "Is <b>Orsa</b> in stock? \"Grey\" & black\nSecond line"),
                    message(2, Author::Operator { name: "Анна <admin>".into() }, "Yes, both."),
                    message(3, Author::System, "<script>alert(1)</script>"),
                ],
            },
            locale,
        }
    }

    #[test]
    fn transcript_email_has_every_message_in_order_and_escapes_html() {
        let email = render_transcript(&transcript_request(Locale::En), "Kroha & Co", "Kroha <shop@kroha.example>").unwrap();
        assert_eq!(email.to, "anna@example.com");
        assert_eq!(email.from, "Kroha <shop@kroha.example>");
        assert_eq!(email.subject, "Your conversation with Kroha & Co");
        // Plain text: as written, in order, with authors and times.
        let first = email.text.find("Is <b>Orsa</b> in stock?").expect("first message");
        let second = email.text.find("Yes, both.").expect("second message");
        let third = email.text.find("<script>alert(1)</script>").expect("the notice");
        assert!(first < second && second < third, "{}", email.text);
        assert!(email.text.contains("[2026-09-21 14:14 UTC] You:"), "{}", email.text);
        assert!(email.text.contains("] Анна <admin>:"));
        assert!(email.text.contains("  Second line"));
        // HTML: no markup from messages, names or the shop survives unescaped.
        assert!(!email.html.contains("<script>") && !email.html.contains("<b>Orsa") && !email.html.contains("<admin>"));
        assert!(email.html.contains("Is &lt;b&gt;Orsa&lt;/b&gt; in stock? &quot;Grey&quot; &amp; black<br>Second line"));
        assert!(email.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(email.html.contains("Анна &lt;admin&gt;"));
        assert!(email.html.contains("<title>Your conversation with Kroha &amp; Co</title>"));
        let seqs: Vec<usize> = (1..=3).map(|n| email.html.find(&format!("data-seq=\"{n}\"")).expect("a row per message")).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn transcript_email_in_russian_and_for_an_empty_chat() {
        let mut request = transcript_request(Locale::Ru);
        let email = render_transcript(&request, "Кроха", "").unwrap();
        assert_eq!(email.subject, "Ваша переписка с «Кроха»");
        assert!(email.text.contains("] Вы:") && email.html.contains("lang=\"ru\""));
        request.transcript.messages.clear();
        let empty = render_transcript(&request, "Кроха", "").unwrap();
        assert!(empty.text.contains("В переписке пока нет сообщений."));
        request.email = " ".into();
        assert_eq!(render_transcript(&request, "Кроха", "").unwrap_err().code, ErrorCode::MissingField);
    }
}
