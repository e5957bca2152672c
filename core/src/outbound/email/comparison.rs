//! The comparison email, built from what the shop's own pages publish. The lead only says which
//! pages (its products' URLs, each on one of the site's origins); the worker reads each page and
//! the email shows the page's name, price, image, link and attributes. Nothing the request says
//! about a product, and no text the visitor typed, reaches the email.

use super::links::{origin_of, MailLinks};
use super::{safe_http_url, t, with_utm, ComparisonLinks, EmailMessage, ShopMail, MAX_EMAIL_PRODUCTS};
use crate::base::error::{ApiError, ErrorCode};
use crate::base::locale::Locale;
use crate::base::url::without_fragment;
use crate::leads::lead::{Lead, LeadKind};
use crate::outbound::crm::{format_money, html_escape};
use crate::outbound::webhook::rfc3339;
use crate::visitor::product::page::{AttributeName, Availability, PublishedProduct};

/// Rows of the side-by-side table beyond price, brand, availability and rating.
pub const MAX_TABLE_ATTRIBUTES: usize = 12;

/// The pages a comparison email is read from: the lead's products' URLs, most recently viewed
/// first, each page once, at most [`MAX_EMAIL_PRODUCTS`]. A product URL off the site's origins is
/// refused (400): the shop mails only what its own pages publish. Products without a URL are
/// skipped; a lead left with no page is refused too.
pub fn comparison_pages(lead: &Lead, origins: &[String]) -> Result<Vec<String>, ApiError> {
    let mut pages: Vec<String> = Vec::new();
    for viewed in lead.context.products.iter().rev() {
        let Some(url) = viewed.product.url.as_deref() else { continue };
        let on_site = origin_of(url).is_some_and(|origin| origins.contains(&origin)) && safe_http_url(url).is_some();
        if !on_site {
            return Err(ApiError::new(
                ErrorCode::InvalidLead,
                format!("context.products: {url:?} is not a page of this site; a comparison email shows only the site's own product pages"),
            ));
        }
        let page = without_fragment(url).to_owned();
        if !pages.contains(&page) && pages.len() < MAX_EMAIL_PRODUCTS {
            pages.push(page);
        }
    }
    if pages.is_empty() {
        return Err(ApiError::new(ErrorCode::InvalidLead, "context.products: a comparison email needs at least one product page of this site"));
    }
    Ok(pages)
}

/// What reading one product page gave.
#[derive(Debug, Clone, PartialEq)]
pub enum PageRead {
    /// The page publishes this product (read now, or recently enough from the cache).
    Published(Box<PublishedProduct>),
    /// The page answered, but publishes no product any more (404, 410, no product markup).
    Gone(String),
    /// The page could not be read now (network error, 5xx, timeout) and nothing usable is cached.
    Unreachable(String),
}

/// What the email delivery does with the pages read.
#[derive(Debug, Clone, PartialEq)]
pub enum ComparisonPlan {
    /// Send, with these products (in the lead's order).
    Send(Vec<PublishedProduct>),
    /// Try again later on the delivery schedule: a comparison missing a product the visitor
    /// looked at is worse than one that comes an hour later. After the schedule's last retry the
    /// delivery is parked as failed (replayable), like any other.
    Retry(String),
    /// Nothing to send: no page publishes any of the products. Parked as failed, with the reason.
    Park(String),
}

pub fn plan_comparison(reads: Vec<PageRead>) -> ComparisonPlan {
    let mut products = Vec::new();
    let mut gone = Vec::new();
    for read in reads {
        match read {
            PageRead::Published(product) => products.push(*product),
            PageRead::Gone(why) => gone.push(why),
            PageRead::Unreachable(why) => return ComparisonPlan::Retry(why),
        }
    }
    if products.is_empty() {
        return ComparisonPlan::Park(format!("no product page publishes a product any more: {}", gone.join("; ")));
    }
    ComparisonPlan::Send(products)
}

/// A page read this recently is used as read: prices change, but not by the minute, and a
/// comparison sent twice in an hour need not fetch the shop's pages twice.
pub const PAGE_FRESH_MS: u64 = 60 * 60 * 1000;
/// How long a read page is kept: used when the page cannot be read now (an outage), then deleted.
pub const PAGE_KEEP_MS: u64 = 7 * 24 * 60 * 60 * 1000;
/// Redirects followed when reading a page, each only within the page's own origin.
pub const MAX_PAGE_REDIRECTS: usize = 3;

/// What a product page's HTTP status means for the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAnswer {
    /// 200: read it.
    Read,
    /// 301, 302, 303, 307, 308: follow it if it stays on the page's origin.
    Redirect,
    /// 404, 410 and other client errors: the page publishes nothing for us.
    Gone,
    /// 408, 429, 5xx and anything unexpected: try again later.
    Unreachable,
}

pub fn page_answer(status: u16) -> PageAnswer {
    match status {
        200 => PageAnswer::Read,
        301 | 302 | 303 | 307 | 308 => PageAnswer::Redirect,
        408 | 425 | 429 => PageAnswer::Unreachable,
        400..=499 => PageAnswer::Gone,
        _ => PageAnswer::Unreachable,
    }
}

/// What a cached read of a page is good for at `now`: `Some(read)` to use without fetching when
/// fresh; `None` to fetch again. `stale` is the cached read to fall back on if the fetch cannot
/// reach the page (only a product, never a "gone", and only within [`PAGE_KEEP_MS`]).
pub fn cached_page(cached: Option<(u64, Option<PublishedProduct>)>, now: u64) -> (Option<PageRead>, Option<PublishedProduct>) {
    let Some((read_at, product)) = cached else { return (None, None) };
    let age = now.saturating_sub(read_at);
    if age < PAGE_FRESH_MS {
        let read = match product {
            Some(product) => PageRead::Published(Box::new(product)),
            None => PageRead::Gone("the page published no product when last read".to_owned()),
        };
        return (Some(read), None);
    }
    (None, product.filter(|_| age < PAGE_KEEP_MS))
}

fn availability_text(availability: Availability, l: Locale) -> &'static str {
    match availability {
        Availability::InStock => t(l, "В наличии", "In stock"),
        Availability::OutOfStock => t(l, "Нет в наличии", "Out of stock"),
        Availability::PreOrder => t(l, "Предзаказ", "Pre-order"),
        Availability::BackOrder => t(l, "Под заказ", "Back order"),
        Availability::LimitedAvailability => t(l, "Осталось мало", "Limited availability"),
        Availability::SoldOut => t(l, "Распродано", "Sold out"),
        Availability::Discontinued => t(l, "Снят с продажи", "Discontinued"),
        Availability::OnlineOnly => t(l, "Только онлайн", "Online only"),
        Availability::InStoreOnly => t(l, "Только в магазине", "In store only"),
    }
}

fn attribute_label(name: &AttributeName, l: Locale) -> String {
    match name {
        AttributeName::Weight => t(l, "Вес", "Weight").to_owned(),
        AttributeName::Width => t(l, "Ширина", "Width").to_owned(),
        AttributeName::Height => t(l, "Высота", "Height").to_owned(),
        AttributeName::Depth => t(l, "Глубина", "Depth").to_owned(),
        AttributeName::Size => t(l, "Размер", "Size").to_owned(),
        AttributeName::Color => t(l, "Цвет", "Colour").to_owned(),
        AttributeName::Material => t(l, "Материал", "Material").to_owned(),
        AttributeName::Named(name) => name.clone(),
    }
}

/// One row of the comparison: a label and each product's value (`None`: the page does not say).
struct Row {
    label: String,
    values: Vec<Option<String>>,
}

/// The side-by-side rows, each shown only when at least one page gives a value.
fn rows(products: &[PublishedProduct], l: Locale) -> Vec<Row> {
    let column = |f: &dyn Fn(&PublishedProduct) -> Option<String>| products.iter().map(f).collect::<Vec<_>>();
    let mut rows = vec![
        Row { label: t(l, "Цена", "Price").to_owned(), values: column(&|p| p.product.price.map(format_money)) },
        Row { label: t(l, "Бренд", "Brand").to_owned(), values: column(&|p| p.brand.clone()) },
        Row { label: t(l, "Наличие", "Availability").to_owned(), values: column(&|p| p.availability.map(|a| availability_text(a, l).to_owned())) },
        Row {
            label: t(l, "Рейтинг", "Rating").to_owned(),
            values: column(&|p| {
                p.rating.as_ref().map(|r| format!("{} / {}{}", r.value, r.best, r.count.map(|c| format!(" ({c})")).unwrap_or_default()))
            }),
        },
    ];
    let mut names: Vec<&AttributeName> = Vec::new();
    for product in products {
        for attribute in &product.attributes {
            if !names.contains(&&attribute.name) && names.len() < MAX_TABLE_ATTRIBUTES {
                names.push(&attribute.name);
            }
        }
    }
    for name in names {
        let values = column(&|p| p.attributes.iter().find(|a| &a.name == name).map(|a| a.value.clone()));
        rows.push(Row { label: attribute_label(name, l), values });
    }
    rows.retain(|row| row.values.iter().any(Option::is_some));
    rows
}

/// `2026-09-21` from milliseconds since the Unix epoch.
fn date(ms: u64) -> String {
    rfc3339(ms).chars().take(10).collect()
}

/// The product's link: the page's own URL for it when the mail may link there, else the page it
/// was read from (on the site's origin).
fn product_link(product: &PublishedProduct, links: &MailLinks<'_>) -> Option<String> {
    [product.product.url.as_deref(), Some(product.page_url.as_str())]
        .into_iter()
        .flatten()
        .find(|url| links.allows(url) && safe_http_url(url).is_some())
        .map(with_utm)
}

/// Renders the comparison email for a `comparison_email` lead from the products its pages
/// publish (see [`plan_comparison`]). The lead gives only the address, the language and the date.
pub fn render_comparison(
    lead: &Lead,
    products: &[PublishedProduct],
    shop: &ShopMail<'_>,
    links: &ComparisonLinks,
) -> Result<EmailMessage, ApiError> {
    if lead.kind != LeadKind::ComparisonEmail {
        return Err(ApiError::new(ErrorCode::InvalidLead, "only comparison_email leads were promised an email"));
    }
    let to = lead
        .contact
        .email
        .clone()
        .ok_or_else(|| ApiError::new(ErrorCode::MissingField, "contact.email: the comparison needs an address"))?;
    let (l, shop_name) = (lead.locale, shop.name);
    let subject = match l {
        Locale::Ru => format!("Сравнение товаров, которые вы смотрели в «{shop_name}»"),
        Locale::En => format!("Your comparison from {shop_name}"),
    };
    // No name from the form: whoever submits it chooses that text, and the mail goes out as the shop.
    let greeting = t(l, "Здравствуйте!", "Hello!").to_owned();
    let what = match l {
        Locale::Ru => format!("Вы попросили прислать сравнение товаров, которые смотрели на сайте «{shop_name}». Вот оно."),
        Locale::En => format!("You asked {shop_name} to email you a comparison of the products you looked at. Here it is."),
    };
    // The page is named only when it is one of the shop's own.
    let page = Some(lead.page_url.as_str()).filter(|url| shop.links.allows(url));
    let why = match (l, page) {
        (Locale::Ru, Some(page)) => format!(
            "Это письмо отправлено один раз, по вашей просьбе на странице {page} ({}). Других писем не будет, если вы сами не попросите.",
            date(lead.created_at)
        ),
        (Locale::Ru, None) => format!(
            "Это письмо отправлено один раз, по вашей просьбе на сайте «{shop_name}» ({}). Других писем не будет, если вы сами не попросите.",
            date(lead.created_at)
        ),
        (Locale::En, Some(page)) => format!(
            "This one email was sent because you asked for it on {page} ({}). You will get no others unless you ask.",
            date(lead.created_at)
        ),
        (Locale::En, None) => format!(
            "This one email was sent because you asked for it on {shop_name}'s site ({}). You will get no others unless you ask.",
            date(lead.created_at)
        ),
    };
    let more_text = super::marketing_link_text(l, shop_name).text;
    let unsubscribe_text = t(l, "Отписаться от писем", "Unsubscribe");
    let no_price = t(l, "цена не указана", "price not shown");
    let open = t(l, "Открыть товар", "View product");
    let rows = rows(products, l);

    // Plain text: each product with everything its page says.
    let mut text = vec![greeting.clone(), String::new(), what.clone(), String::new()];
    for (index, product) in products.iter().enumerate() {
        let p = &product.product;
        text.push(format!("{}. {}", index + 1, p.name));
        text.push(format!("   {}", p.price.map_or_else(|| no_price.to_owned(), format_money)));
        if let Some(category) = &p.category {
            text.push(format!("   {category}"));
        }
        for row in rows.iter().skip(1) {
            if let Some(Some(value)) = row.values.get(index) {
                text.push(format!("   {}: {value}", row.label));
            }
        }
        if let Some(link) = product_link(product, &shop.links) {
            text.push(format!("   {link}"));
        }
        text.push(String::new());
    }
    text.push(why.clone());
    text.push(String::new());
    text.push(format!("{more_text}: {}", links.more_like_this));
    text.push(format!("{unsubscribe_text}: {}", links.unsubscribe));
    let text = text.join("\n");

    // HTML: every piece of text goes through `html_escape`; links and images only where the
    // shop's mail may point.
    let e = |s: &str| html_escape(s);
    let mut cards = String::new();
    for (index, product) in products.iter().enumerate() {
        let p = &product.product;
        let link = product_link(product, &shop.links);
        let image = match p.image.as_deref().filter(|src| shop.links.allows(src)).and_then(safe_http_url) {
            Some(src) => format!(
                r#"<img src="{}" alt="{}" width="96" style="display:block;width:96px;max-width:96px;height:auto;border:0;border-radius:6px">"#,
                e(src),
                e(&p.name)
            ),
            None => String::new(),
        };
        let number = format!("{}. ", index + 1);
        let name = match &link {
            Some(href) => format!(
                r#"{number}<a href="{}" style="color:#1a1a1a;text-decoration:none;font-weight:bold">{}</a>"#,
                e(href),
                e(&p.name)
            ),
            None => format!(r#"{number}<span style="font-weight:bold">{}</span>"#, e(&p.name)),
        };
        let price = p.price.map_or_else(|| no_price.to_owned(), format_money);
        let currency = p.price.map(|m| m.currency.as_str().to_owned()).unwrap_or_default();
        let category = p
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
        cards.push_str(&format!(
            r#"<tr><td width="110" valign="top" style="padding:12px 8px;border-bottom:1px solid #eeeeee">{image}</td><td valign="top" style="padding:12px 8px;border-bottom:1px solid #eeeeee;font-family:Arial,sans-serif;font-size:15px;color:#1a1a1a">{name}{category}<div style="padding-top:6px;font-size:16px" data-currency="{currency}">{price}</div>{button}</td></tr>"#,
            price = e(&price),
            currency = e(&currency),
        ));
    }
    let table = if products.len() >= 2 { comparison_table(&rows, products.len(), l) } else { String::new() };
    let paragraph = |s: &str| format!(r#"<p style="margin:0 0 12px 0;font-family:Arial,sans-serif;font-size:15px;color:#1a1a1a">{}</p>"#, e(s));
    let small = |s: &str| format!(r#"<p style="margin:0 0 8px 0;font-family:Arial,sans-serif;font-size:12px;color:#666666">{s}</p>"#);
    let rows_html = format!(
        concat!(
            r#"<tr><td style="padding:24px 24px 8px 24px">{greeting}{what}</td></tr>"#,
            r#"<tr><td style="padding:0 16px"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">{cards}</table></td></tr>"#,
            "{table}",
            r#"<tr><td style="padding:16px 24px 24px 24px">{why}{links}</td></tr>"#
        ),
        greeting = paragraph(&greeting),
        what = paragraph(&what),
        cards = cards,
        table = table,
        why = small(&e(&why)),
        links = small(&format!(
            r#"<a href="{}" style="color:#1f6feb">{}</a> &middot; <a href="{}" style="color:#666666">{}</a>"#,
            e(&links.more_like_this),
            e(&more_text),
            e(&links.unsubscribe),
            e(unsubscribe_text)
        )),
    );
    let html = super::mail_page(t(l, "ru", "en"), &e(&subject), &rows_html);
    let headers = super::list_unsubscribe_headers(&links.unsubscribe, None);
    Ok(EmailMessage { from: shop.from.to_owned(), to, subject, html, text, headers })
}

/// The side-by-side table: one column per product (numbered as in the list above it), one row
/// per thing any of the pages says; a dash where a page says nothing.
fn comparison_table(rows: &[Row], columns: usize, l: Locale) -> String {
    let cell = "padding:6px 8px;border-bottom:1px solid #eeeeee;font-family:Arial,sans-serif;font-size:13px;color:#1a1a1a;vertical-align:top";
    let mut html = format!(r#"<tr><th scope="col" style="{cell};text-align:left;color:#666666">{}</th>"#, html_escape(t(l, "Сравнение", "Side by side")));
    for column in 1..=columns {
        html.push_str(&format!(r#"<th scope="col" style="{cell};text-align:left">{column}</th>"#));
    }
    html.push_str("</tr>");
    for row in rows {
        html.push_str(&format!(r#"<tr><th scope="row" style="{cell};text-align:left;font-weight:normal;color:#666666">{}</th>"#, html_escape(&row.label)));
        for value in &row.values {
            html.push_str(&format!(r#"<td style="{cell}">{}</td>"#, html_escape(value.as_deref().unwrap_or("—"))));
        }
        html.push_str("</tr>");
    }
    format!(
        r#"<tr><td style="padding:16px"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" data-comparison="side-by-side">{html}</table></td></tr>"#
    )
}
