//! The shop's own alert when a visitor in the chat has waited unanswered (`conversation.waiting`):
//! to the address the owner set for alerts ([`MailSettings::alert_to`]), in the owner's language.
//! Who waits, since when (the shop's clock), what they wrote, whether anyone is online, and a
//! link to the inbox when the deployment knows its public address.
//!
//! [`MailSettings::alert_to`]: super::MailSettings::alert_to

use super::branding::MAIL_TEXT;
use super::links::defang_foreign_links;
use super::{html_lines, t, EmailMessage, ShopMail};
use crate::base::error::{ApiError, ErrorCode};
use crate::base::locale::Locale;
use crate::chat::conversation::ConversationWaiting;
use crate::leads::contact::normalize_email;
use crate::outbound::crm::html_escape;

/// Renders the alert for `waiting` to `to`, in `l`. `inbox` is the console's address
/// (`<PUBLIC_BASE_URL>/console/`), linked when known. The visitor's words are escaped and their
/// links off the shop's origins defanged, as in every email that quotes a visitor.
pub fn render_waiting_alert(waiting: &ConversationWaiting, to: &str, shop: &ShopMail<'_>, l: Locale, inbox: Option<&str>) -> Result<EmailMessage, ApiError> {
    let to = normalize_email(to).map_err(|_| ApiError::new(ErrorCode::InvalidConfig, "alert_to is not an email address"))?;
    let who = waiting.visitor_label.trim();
    let subject = shop.subject(
        l,
        match l {
            Locale::Ru => format!("Посетитель ждёт ответа в чате: {who}"),
            Locale::En => format!("A visitor is waiting in the chat: {who}"),
        },
    );
    let since = match l {
        Locale::Ru => format!("{who} ждёт ответа с {}.", shop.clock.date_time(waiting.waiting_since, l)),
        Locale::En => format!("{who} has been waiting for an answer since {}.", shop.clock.date_time(waiting.waiting_since, l)),
    };
    let nobody = waiting.nobody_online(l);
    let said: Vec<String> = waiting.messages.iter().map(|m| defang_foreign_links(&m.text, &shop.links)).collect();
    let open = t(l, "Открыть входящие", "Open the inbox");

    let mut text = vec![since.clone(), String::new()];
    text.extend(said.iter().flat_map(|m| m.lines().map(|line| format!("> {line}")).chain([String::new()])));
    text.extend(nobody.map(str::to_owned));
    if let Some(inbox) = inbox {
        text.push(format!("{open}: {inbox}"));
    }
    let text = text.join("\n");

    let e = |s: &str| html_escape(s);
    let quotes: String = said
        .iter()
        .map(|m| {
            format!(
                r#"<div style="border-left:3px solid #dddddd;padding:4px 12px;margin:0 0 8px 0;font-size:14px;color:#333333" data-said="true">{}</div>"#,
                html_lines(m)
            )
        })
        .collect();
    let nobody_html = nobody.map(|n| format!(r#"<p style="margin:12px 0 0 0;font-weight:bold" data-nobody="true">{}</p>"#, e(n))).unwrap_or_default();
    let button = inbox
        .map(|inbox| {
            format!(
                r#"<p style="margin:16px 0 0 0"><a href="{href}" style="background:{bg};color:{fg};padding:10px 16px;border-radius:6px;text-decoration:none;font-weight:bold">{open}</a></p>"#,
                href = e(inbox),
                bg = e(&shop.look.color),
                fg = shop.look.on_color,
                open = e(open),
            )
        })
        .unwrap_or_default();
    let rows = format!(
        r#"<tr><td style="padding:24px;font-family:Arial,sans-serif;font-size:15px;color:{MAIL_TEXT}"><p style="margin:0 0 12px 0">{since}</p>{quotes}{nobody_html}{button}</td></tr>"#,
        since = e(&since),
    );
    let html = super::mail_page(t(l, "ru", "en"), &e(&subject), shop, &rows);
    Ok(EmailMessage { from: shop.from.to_owned(), to, subject, html, text, reply_to: None, headers: Vec::new() })
}
