//! An operator's answer to a message left after hours: the answer, then the visitor's own message
//! quoted under it with when it was written (the shop's clock), so the email stands on its own.

use super::branding::MAIL_TEXT;
use super::links::defang_foreign_links;
use super::{html_lines, quoted, t, EmailMessage, ShopMail};
use crate::base::error::ApiError;
use crate::base::locale::Locale;
use crate::chat::offline::{reply_address, OfflineReply};
use crate::leads::lead::Lead;
use crate::outbound::crm::html_escape;

/// Renders `reply` to the offline message `lead`, to the address the visitor gave in it (see
/// [`reply_address`]), in the visitor's language. Both texts are escaped in the HTML part; the
/// visitor's links off the shop's origins are defanged, as in the transcript.
pub fn render_offline_reply(lead: &Lead, reply: &OfflineReply, shop: &ShopMail<'_>) -> Result<EmailMessage, ApiError> {
    let to = reply_address(lead)?;
    let l = lead.locale;
    let clock = shop.clock;
    let subject = shop.subject(
        l,
        match l {
            Locale::Ru => format!("Ответ на ваше сообщение магазину {}", quoted(shop.name)),
            Locale::En => format!("A reply to your message to {}", shop.name.trim()),
        },
    );
    let asked = match l {
        Locale::Ru => format!("Вы писали нам {}:", clock.date_time(lead.created_at, l)),
        Locale::En => format!("You wrote to us on {}:", clock.date_time(lead.created_at, l)),
    };
    let theirs = defang_foreign_links(lead.contact.message.as_deref().unwrap_or_default(), &shop.links);
    let (sign_off_html, sign_off_text) = super::sign_off(l, shop);
    let greeting = t(l, "Здравствуйте!", "Hello!");

    let mut text = vec![greeting.to_owned(), String::new(), reply.text.clone(), String::new(), format!("— {}", reply.author), String::new()];
    text.push(asked.clone());
    text.extend(theirs.lines().map(|line| format!("> {line}")));
    text.push(String::new());
    text.extend(sign_off_text.iter().cloned());
    let text = text.join("\n");

    let e = |s: &str| html_escape(s);
    let rows = format!(
        concat!(
            r#"<tr><td style="padding:24px 24px 8px 24px;font-family:Arial,sans-serif;font-size:15px;color:{text}">"#,
            r#"<p style="margin:0 0 12px 0">{greeting}</p><p style="margin:0 0 12px 0" data-reply="{seq}">{reply}</p>"#,
            r#"<p style="margin:0 0 12px 0;color:#595959">&mdash; {author}</p></td></tr>"#,
            r#"<tr><td style="padding:0 24px"><div style="border-left:3px solid #dddddd;padding:4px 12px;font-family:Arial,sans-serif;color:#595959">"#,
            r#"<div style="font-size:12px">{asked}</div><div style="font-size:14px;padding-top:4px" data-quoted="true">{theirs}</div></div></td></tr>"#,
            "{sign_off}"
        ),
        text = MAIL_TEXT,
        greeting = e(greeting),
        seq = reply.seq,
        reply = html_lines(&reply.text),
        author = e(&reply.author),
        asked = e(&asked),
        theirs = html_lines(&theirs),
        sign_off = sign_off_html,
    );
    let html = super::mail_page(t(l, "ru", "en"), &e(&subject), shop, &rows);
    Ok(EmailMessage { from: shop.from.to_owned(), to, subject, html, text, reply_to: shop.look.reply_to.clone(), headers: Vec::new() })
}
