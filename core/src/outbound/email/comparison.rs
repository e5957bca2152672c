//! The comparison email, built from what the shop's own pages publish. The lead only says which
//! pages (its products' URLs, each on one of the site's origins); the worker reads each page and
//! the email shows the page's name, price, image, link and attributes. Nothing the request says
//! about a product, and no text the visitor typed, reaches the email.

use super::links::{origin_of, MailLinks};
use super::branding::MAIL_TEXT;
use super::{quoted, safe_http_url, t, with_utm, ComparisonLinks, EmailMessage, ShopMail, MAX_EMAIL_PRODUCTS};
use crate::base::error::{ApiError, ErrorCode};
use crate::base::locale::Locale;
use crate::base::url::without_fragment;
use crate::leads::lead::{Lead, LeadKind};
use crate::visitor::context::VisitorContext;
use crate::outbound::crm::{format_money, html_escape};
use crate::prompts::config::{PromptKind, WidgetConfig};
use crate::prompts::judgement::{highlighted, Highlighted};
use crate::prompts::rules::AnswerIs;
use crate::visitor::product::page::{AttributeName, Availability, PublishedProduct};

/// Rows of the side-by-side table beyond price, brand, availability and rating.
pub const MAX_TABLE_ATTRIBUTES: usize = 12;

/// The pages a comparison email is read from: the lead's products' URLs, most recently viewed
/// first, each page once, at most [`MAX_EMAIL_PRODUCTS`]. A product URL off the site's origins is
/// refused (400): the shop mails only what its own pages publish. Products without a URL are
/// skipped; a lead left with no page is refused too.
pub fn comparison_pages(lead: &Lead, origins: &[String]) -> Result<Vec<String>, ApiError> {
    for viewed in &lead.context.products {
        let Some(url) = viewed.product.url.as_deref() else { continue };
        let on_site = origin_of(url).is_some_and(|origin| origins.contains(&origin)) && safe_http_url(url).is_some();
        if !on_site {
            return Err(ApiError::new(
                ErrorCode::InvalidLead,
                format!("context.products: {url:?} is not a page of this site; a comparison email shows only the site's own product pages"),
            ));
        }
    }
    let pages = comparison_page_urls(&lead.context);
    if pages.is_empty() {
        return Err(ApiError::new(ErrorCode::InvalidLead, "context.products: a comparison email needs at least one product page of this site"));
    }
    Ok(pages)
}

/// The pages [`comparison_pages`] reads for these viewed products, before any check: what the
/// request for a lead looks up in the page cache together with its other reads.
pub fn comparison_page_urls(context: &VisitorContext) -> Vec<String> {
    let mut pages: Vec<String> = Vec::new();
    for url in context.products.iter().rev().filter_map(|viewed| viewed.product.url.as_deref()) {
        let page = without_fragment(url).to_owned();
        if !pages.contains(&page) && pages.len() < MAX_EMAIL_PRODUCTS {
            pages.push(page);
        }
    }
    pages
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

impl Row {
    /// Whether the products differ here: two values that are not the same text (ignoring case and
    /// spacing), or a value on one page where another says nothing.
    fn differs(&self) -> bool {
        let norm = |v: &Option<String>| v.as_deref().map(|s| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase());
        let first = self.values.first().map(norm).unwrap_or_default();
        self.values.len() > 1 && self.values.iter().any(|v| norm(v) != first)
    }
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
                p.rating.as_ref().map(|r| {
                    let count = r.count.map(|c| match l {
                        Locale::Ru => format!(" ({c} {})", reviews_ru(c)),
                        Locale::En => format!(" ({c} {})", if c == 1 { "review" } else { "reviews" }),
                    });
                    format!("{} / {}{}", r.value, r.best, count.unwrap_or_default())
                })
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

/// «отзыв», «отзыва», «отзывов» for `n`.
fn reviews_ru(n: u64) -> &'static str {
    match (n % 10, n % 100) {
        (1, m) if m != 11 => "отзыв",
        (2..=4, m) if !(12..=14).contains(&m) => "отзыва",
        _ => "отзывов",
    }
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

/// A comparison email's addressing: to whom, in which language, and where and when it was asked
/// for. A lead gives these ([`render_comparison`]); the owner's test gives its own.
#[derive(Debug, Clone, Copy)]
pub struct ComparisonMail<'a> {
    pub to: &'a str,
    pub locale: Locale,
    /// The page the visitor asked on (named only when it is one of the shop's own).
    pub asked_on: &'a str,
    /// Milliseconds since the Unix epoch.
    pub asked_at: u64,
    /// The products the visitor's answers point out (the card promised to mark them), with the
    /// note beside each (`prompts::judgement::highlighted` over the pages' products).
    pub marked: Option<&'a Highlighted>,
}

/// What the lead's answers point out among `products` (the pages' own), as the card did: a
/// lead's context keeps each answer with the question as shown, which names the question prompt
/// in the site's config.
pub fn marked_products(config: &WidgetConfig, lead: &Lead, products: &[PublishedProduct]) -> Option<Highlighted> {
    let answers: Vec<AnswerIs> = lead
        .context
        .answers
        .iter()
        .filter_map(|answer| {
            let prompt = config.prompts.iter().find(|p| match &p.kind {
                PromptKind::Question(q) => q.question.each().any(|(_, text)| *text == answer.question),
                _ => false,
            })?;
            Some(AnswerIs { prompt: prompt.id.clone(), is: answer.answer.clone() })
        })
        .collect();
    let viewed: Vec<crate::visitor::context::Product> = products.iter().map(|p| p.product.clone()).collect();
    highlighted(config, &answers, &viewed, lead.locale)
}

/// Renders the comparison email for a `comparison_email` lead from the products its pages
/// publish (see [`plan_comparison`]). The lead gives only the address, the language and the date;
/// `marked`, what its answers point out among those products.
pub fn render_comparison(
    lead: &Lead,
    products: &[PublishedProduct],
    shop: &ShopMail<'_>,
    links: &ComparisonLinks,
    marked: Option<&Highlighted>,
) -> Result<EmailMessage, ApiError> {
    if lead.kind != LeadKind::ComparisonEmail {
        return Err(ApiError::new(ErrorCode::InvalidLead, "only comparison_email leads were promised an email"));
    }
    let to = lead
        .contact
        .email
        .as_deref()
        .ok_or_else(|| ApiError::new(ErrorCode::MissingField, "contact.email: the comparison needs an address"))?;
    let mail = ComparisonMail { to, locale: lead.locale, asked_on: &lead.page_url, asked_at: lead.created_at, marked };
    render_comparison_mail(&mail, products, shop, links)
}

/// The comparison email: a warm note from the shop, each product with its picture, price and
/// link, and, for two or more, the side-by-side table of everything their pages say with the
/// differences highlighted. Every piece of page text is escaped.
pub fn render_comparison_mail(
    mail: &ComparisonMail<'_>,
    products: &[PublishedProduct],
    shop: &ShopMail<'_>,
    links: &ComparisonLinks,
) -> Result<EmailMessage, ApiError> {
    let (l, shop_name, look) = (mail.locale, shop.name.trim(), shop.look);
    let several = products.len() >= 2;
    let subject = shop.subject(
        l,
        match l {
            Locale::Ru => format!("Сравнение товаров из магазина {}", quoted(shop_name)),
            Locale::En => format!("Your comparison from {shop_name}"),
        },
    );
    // No name from the form: whoever submits it chooses that text, and the mail goes out as the shop.
    let greeting = t(l, "Здравствуйте!", "Hello!").to_owned();
    let what = match (l, several) {
        (Locale::Ru, true) => "Спасибо, что заглянули к нам. Как и обещали, присылаем сравнение товаров, которые вы смотрели: \
                               всё, что о них сказано на наших страницах, стоит рядом, а отличия выделены цветом."
            .to_owned(),
        (Locale::Ru, false) => "Спасибо, что заглянули к нам. Как и обещали, присылаем товар, который вы смотрели, \
                                со всем, что о нём сказано на нашей странице."
            .to_owned(),
        (Locale::En, true) => "Thank you for stopping by. As promised, here is the comparison of the products you looked at: \
                               everything our pages say about them, side by side, with the differences highlighted."
            .to_owned(),
        (Locale::En, false) => "Thank you for stopping by. As promised, here is the product you looked at, \
                                with everything our page says about it."
            .to_owned(),
    };
    // The page is named only when it is one of the shop's own.
    let page = Some(mail.asked_on).filter(|url| shop.links.allows(url));
    let when = shop.clock.date_time(mail.asked_at, l);
    let why = match (l, page) {
        (Locale::Ru, Some(page)) => format!(
            "Мы прислали это письмо один раз, потому что вы попросили об этом {when} на странице {page}. Других писем не будет, если вы сами не попросите."
        ),
        (Locale::Ru, None) => format!(
            "Мы прислали это письмо один раз, потому что вы попросили об этом {when} на сайте магазина {}. Других писем не будет, если вы сами не попросите.",
            quoted(shop_name)
        ),
        (Locale::En, Some(page)) => {
            format!("We sent this one email because you asked for it on {page} on {when}. You will get no others unless you ask.")
        }
        (Locale::En, None) => {
            format!("We sent this one email because you asked for it on {shop_name}'s site on {when}. You will get no others unless you ask.")
        }
    };
    let more_text = super::marketing_link_text(l, shop_name).text;
    let unsubscribe_text = t(l, "Отписаться от писем", "Unsubscribe");
    let no_price = t(l, "цена не указана", "price not shown");
    let open = t(l, "Посмотреть на сайте", "See it on our site");
    let rows = rows(products, l);
    let (sign_off_html, sign_off_text) = super::sign_off(l, shop);

    let mark = |product: &PublishedProduct| {
        mail.marked.filter(|m| m.products.contains(&product.product.id)).map(|m| m.note.trim()).filter(|note| !note.is_empty())
    };
    // Plain text: each product with everything its page says, differences marked.
    let mut text = vec![greeting.clone(), String::new(), what.clone(), String::new()];
    for (index, product) in products.iter().enumerate() {
        let p = &product.product;
        text.push(format!("{}. {}", index + 1, p.name));
        if let Some(note) = mark(product) {
            text.push(format!("   ✓ {note}"));
        }
        text.push(format!("   {}", p.price.map_or_else(|| no_price.to_owned(), format_money)));
        if let Some(category) = &p.category {
            text.push(format!("   {category}"));
        }
        for row in rows.iter().skip(1) {
            if let Some(Some(value)) = row.values.get(index) {
                let mark = if several && row.differs() { " *" } else { "" };
                text.push(format!("   {}: {value}{mark}", row.label));
            }
        }
        if let Some(link) = product_link(product, &shop.links) {
            text.push(format!("   {link}"));
        }
        text.push(String::new());
    }
    if several {
        text.push(t(l, "* — здесь товары отличаются.", "* where the products differ.").to_owned());
        text.push(String::new());
    }
    text.extend(sign_off_text.iter().cloned());
    text.push(String::new());
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
                r#"{number}<a href="{}" style="color:{MAIL_TEXT};text-decoration:none;font-weight:bold">{}</a>"#,
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
            .map(|c| format!(r#"<div style="color:#595959;font-size:13px;padding-top:2px">{}</div>"#, e(c)))
            .unwrap_or_default();
        let badge = mark(product)
            .map(|note| {
                format!(
                    r#"<div data-marked="true" style="padding-top:4px;font-size:13px;font-weight:bold;color:{}">&#10003; {}</div>"#,
                    look.accent,
                    e(note)
                )
            })
            .unwrap_or_default();
        let button = link
            .map(|href| {
                format!(
                    r#"<div style="padding-top:8px"><a href="{}" style="display:inline-block;padding:8px 14px;background:{};color:{};text-decoration:none;border-radius:4px;font-size:13px;font-weight:bold">{}</a></div>"#,
                    e(&href),
                    look.color,
                    look.on_color,
                    e(open)
                )
            })
            .unwrap_or_default();
        // No picture, no picture column: an empty 110 px gap reads as a broken image.
        let image = if image.is_empty() {
            String::new()
        } else {
            format!(r#"<td width="110" valign="top" style="padding:12px 8px;border-bottom:1px solid #eeeeee">{image}</td>"#)
        };
        cards.push_str(&format!(
            r#"<tr>{image}<td valign="top" style="padding:12px 8px;border-bottom:1px solid #eeeeee;font-family:Arial,sans-serif;font-size:15px;color:{MAIL_TEXT}">{name}{badge}{category}<div style="padding-top:6px;font-size:16px" data-currency="{currency}">{price}</div>{button}</td></tr>"#,
            price = e(&price),
            currency = e(&currency),
        ));
    }
    let table = if several { comparison_table(&rows, products, shop, l) } else { String::new() };
    let paragraph = |s: &str| format!(r#"<p style="margin:0 0 12px 0;font-family:Arial,sans-serif;font-size:15px;color:{MAIL_TEXT}">{}</p>"#, e(s));
    let small = |s: &str| format!(r#"<p style="margin:0 0 8px 0;font-family:Arial,sans-serif;font-size:12px;color:#595959">{s}</p>"#);
    let rows_html = format!(
        concat!(
            r#"<tr><td style="padding:24px 24px 8px 24px">{greeting}{what}</td></tr>"#,
            r#"<tr><td style="padding:0 16px"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">{cards}</table></td></tr>"#,
            "{table}{sign_off}",
            r#"<tr><td style="padding:16px 24px 24px 24px">{why}{links}</td></tr>"#
        ),
        greeting = paragraph(&greeting),
        what = paragraph(&what),
        cards = cards,
        table = table,
        sign_off = sign_off_html,
        why = small(&e(&why)),
        links = small(&format!(
            r#"<a href="{}" style="color:{}">{}</a> &middot; <a href="{}" style="color:#595959">{}</a>"#,
            e(&links.more_like_this),
            look.accent,
            e(&more_text),
            e(&links.unsubscribe),
            e(unsubscribe_text)
        )),
    );
    let html = super::mail_page(t(l, "ru", "en"), &e(&subject), shop, &rows_html);
    let headers = super::list_unsubscribe_headers(&links.unsubscribe, None);
    Ok(EmailMessage { from: shop.from.to_owned(), to: mail.to.to_owned(), subject, html, text, reply_to: look.reply_to.clone(), headers })
}

/// The side-by-side table: one column per product (numbered and named as in the list above it),
/// one row per thing any of the pages says; a dash where a page says nothing. A row where the
/// products differ is highlighted: tinted in the shop's colour and bold (so not by colour alone),
/// with its label marked.
fn comparison_table(rows: &[Row], products: &[PublishedProduct], shop: &ShopMail<'_>, l: Locale) -> String {
    let look = shop.look;
    let cell = format!("padding:6px 8px;border-bottom:1px solid #eeeeee;font-family:Arial,sans-serif;font-size:13px;color:{MAIL_TEXT};vertical-align:top");
    let mut html = String::from("<tr>");
    html.push_str(&format!(r#"<td style="{cell}"></td>"#));
    for (index, product) in products.iter().enumerate() {
        html.push_str(&format!(
            r#"<th scope="col" style="{cell};text-align:left;font-weight:bold">{}. {}</th>"#,
            index + 1,
            html_escape(&product.product.name)
        ));
    }
    html.push_str("</tr>");
    for row in rows {
        let differs = row.differs();
        let (row_style, mark) = if differs {
            (format!(";background:{};font-weight:bold", look.tint), format!(r#" <span style="color:{}">&#9679;</span>"#, look.accent))
        } else {
            (String::new(), String::new())
        };
        html.push_str(&format!(
            r#"<tr data-differs="{differs}"><th scope="row" style="{cell};text-align:left;font-weight:normal;color:#595959{row_style}">{}{mark}</th>"#,
            html_escape(&row.label)
        ));
        for value in &row.values {
            html.push_str(&format!(r#"<td style="{cell}{row_style}">{}</td>"#, html_escape(value.as_deref().unwrap_or("—"))));
        }
        html.push_str("</tr>");
    }
    let legend = t(l, "Цветом и жирным выделено то, чем товары отличаются.", "Highlighted in colour and bold: where the products differ.");
    format!(
        r#"<tr><td style="padding:16px"><p style="margin:0 0 8px 8px;font-family:Arial,sans-serif;font-size:13px;color:#595959"><span style="color:{accent}">&#9679;</span> {legend}</p><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" data-comparison="side-by-side">{html}</table></td></tr>"#,
        accent = look.accent,
        legend = html_escape(legend),
    )
}
