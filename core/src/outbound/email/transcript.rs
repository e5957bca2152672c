//! The chat transcript a visitor asked for. The messages are the conversation's own; a visitor's
//! links that are not the shop's are defanged, so the transcript cannot carry someone's link to
//! an inbox as the shop.

use super::branding::MAIL_TEXT;
use super::links::defang_foreign_links;
use super::{html_lines, quoted, t, EmailMessage, ShopMail};
use crate::base::error::{ApiError, ErrorCode};
use crate::base::locale::Locale;
use crate::chat::protocol::Author;
use crate::outbound::chat_events::TranscriptRequested;
use crate::outbound::crm::html_escape;

/// Renders the chat transcript a visitor asked for (`POST /v1/chat/conversations/:id/transcript`).
/// Every message, in order, with who wrote it and when; message text is the visitor's and the
/// operators' own, so the HTML part escapes it and keeps its line breaks. A visitor's links and
/// addresses off the shop's origins are defanged (`evil[.]example`); the operators' are the shop's.
/// Times are the site's (`shop.clock`), its zone named once, under the messages.
pub fn render_transcript(request: &TranscriptRequested, shop: &ShopMail<'_>) -> Result<EmailMessage, ApiError> {
    let (shop_name, from) = (shop.name, shop.from);
    if request.email.trim().is_empty() {
        return Err(ApiError::new(ErrorCode::MissingField, "email: the transcript needs an address"));
    }
    let l = request.locale;
    let transcript = &request.transcript;
    let clock = shop.clock;
    let date_time = |ms: u64| format!("{}, {}", clock.date(ms, l), clock.time(ms));
    let subject = shop.subject(
        l,
        match l {
            Locale::Ru => format!("Ваша переписка с магазином {}", quoted(shop_name)),
            Locale::En => format!("Your conversation with {shop_name}"),
        },
    );
    let what = match l {
        Locale::Ru => "Спасибо, что написали нам. Как вы и просили, присылаем всю переписку из чата — по порядку, слово в слово.".to_owned(),
        Locale::En => "Thank you for writing to us. As you asked, here is the whole chat conversation, in order and word for word.".to_owned(),
    };
    let zone = match l {
        Locale::Ru => format!("Время указано по часовому поясу магазина: {}.", clock.zone),
        Locale::En => format!("Times are in the shop's time zone, {}.", clock.zone),
    };
    let why = match l {
        Locale::Ru => format!(
            "Мы прислали это письмо один раз, потому что вы попросили об этом в чате {}. Других писем не будет, если вы сами не попросите.",
            clock.date_time(request.requested_at, l)
        ),
        Locale::En => format!(
            "We sent this one email because you asked for it in the chat on {}. You will get no others unless you ask.",
            clock.date_time(request.requested_at, l)
        ),
    };
    let (sign_off_html, sign_off_text) = super::sign_off(l, shop);
    let you = t(l, "Вы", "You");
    let author = |author: &Author| match author {
        Author::Visitor => you.to_owned(),
        Author::Operator { name } => name.clone(),
        Author::System => shop_name.to_owned(),
    };
    let empty = t(l, "В переписке пока нет сообщений.", "There are no messages yet.");
    let said = |message: &crate::chat::protocol::ChatMessage| match message.author {
        Author::Visitor => defang_foreign_links(&message.text, &shop.links),
        Author::Operator { .. } | Author::System => message.text.clone(),
    };

    let mut text = vec![t(l, "Здравствуйте!", "Hello!").to_owned(), String::new(), what.clone(), String::new()];
    for message in &transcript.messages {
        text.push(format!("[{}] {}:", date_time(message.at), author(&message.author)));
        let words = said(message);
        text.extend(words.lines().map(|line| format!("  {line}")));
        text.push(String::new());
    }
    if transcript.messages.is_empty() {
        text.push(empty.to_owned());
        text.push(String::new());
    }
    text.push(zone.clone());
    text.push(String::new());
    text.extend(sign_off_text.iter().cloned());
    text.push(String::new());
    text.push(why.clone());
    let text = text.join("\n");

    // HTML: every message, name and the shop's name go through `html_escape`.
    let e = |s: &str| html_escape(s);
    let mut rows = String::new();
    for message in &transcript.messages {
        let background = match message.author {
            Author::Visitor => shop.look.tint.as_str(),
            Author::Operator { .. } => "#ffffff",
            Author::System => "#f6f6f6",
        };
        let body = html_lines(&said(message));
        rows.push_str(&format!(
            r#"<tr><td style="padding:8px 12px;border-bottom:1px solid #eeeeee;background:{background};font-family:Arial,sans-serif"><div style="font-size:12px;color:#595959" data-seq="{seq}"><b style="color:{MAIL_TEXT}">{who}</b> &middot; {when}</div><div style="font-size:15px;color:{MAIL_TEXT};padding-top:4px">{body}</div></td></tr>"#,
            seq = message.seq,
            who = e(&author(&message.author)),
            when = e(&date_time(message.at)),
        ));
    }
    if transcript.messages.is_empty() {
        rows.push_str(&format!(r#"<tr><td style="padding:8px 12px;font-family:Arial,sans-serif">{}</td></tr>"#, e(empty)));
    }
    let rows_html = format!(
        concat!(
            r#"<tr><td style="padding:24px 24px 8px 24px"><p style="margin:0 0 12px 0;font-family:Arial,sans-serif;font-size:15px;color:{text}">{greeting}</p><p style="margin:0 0 12px 0;font-family:Arial,sans-serif;font-size:15px;color:{text}">{what}</p></td></tr>"#,
            r#"<tr><td style="padding:0 16px"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">{rows}</table></td></tr>"#,
            r#"<tr><td style="padding:8px 24px 0 24px"><p style="margin:0;font-family:Arial,sans-serif;font-size:12px;color:#595959">{zone}</p></td></tr>"#,
            "{sign_off}",
            r#"<tr><td style="padding:16px 24px 24px 24px"><p style="margin:0;font-family:Arial,sans-serif;font-size:12px;color:#595959">{why}</p></td></tr>"#
        ),
        text = MAIL_TEXT,
        greeting = e(t(l, "Здравствуйте!", "Hello!")),
        what = e(&what),
        rows = rows,
        zone = e(&zone),
        sign_off = sign_off_html,
        why = e(&why),
    );
    let html = super::mail_page(t(l, "ru", "en"), &e(&subject), shop, &rows_html);
    // A one-off reply the visitor asked for, to no list: there is nothing to unsubscribe from.
    let reply_to = shop.look.reply_to.clone();
    Ok(EmailMessage { from: from.to_owned(), to: request.email.clone(), subject, html, text, reply_to, headers: Vec::new() })
}
