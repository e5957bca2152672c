//! The chat transcript a visitor asked for. The messages are the conversation's own; a visitor's
//! links that are not the shop's are defanged, so the transcript cannot carry someone's link to
//! an inbox as the shop.

use super::links::defang_foreign_links;
use super::{t, EmailMessage, ShopMail};
use crate::base::error::{ApiError, ErrorCode};
use crate::base::locale::Locale;
use crate::chat::protocol::Author;
use crate::outbound::chat_events::TranscriptRequested;
use crate::outbound::crm::html_escape;
use crate::outbound::webhook::rfc3339;

/// `2026-09-21 14:05 UTC` from milliseconds since the Unix epoch. The visitor's time zone is not
/// known to the server, so the email says which one it uses.
fn date_time(ms: u64) -> String {
    let stamp = rfc3339(ms);
    format!("{} {} UTC", stamp.get(..10).unwrap_or_default(), stamp.get(11..16).unwrap_or_default())
}

/// Renders the chat transcript a visitor asked for (`POST /v1/chat/conversations/:id/transcript`).
/// Every message, in order, with who wrote it and when; message text is the visitor's and the
/// operators' own, so the HTML part escapes it and keeps its line breaks. A visitor's links and
/// addresses off the shop's origins are defanged (`evil[.]example`); the operators' are the shop's.
pub fn render_transcript(request: &TranscriptRequested, shop: &ShopMail<'_>) -> Result<EmailMessage, ApiError> {
    let (shop_name, from) = (shop.name, shop.from);
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
        let body = said(message).lines().map(html_escape).collect::<Vec<_>>().join("<br>");
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
    let rows_html = format!(
        concat!(
            r#"<tr><td style="padding:24px 24px 8px 24px"><p style="margin:0 0 12px 0;font-family:Arial,sans-serif;font-size:15px;color:#1a1a1a">{what}</p></td></tr>"#,
            r#"<tr><td style="padding:0 16px"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">{rows}</table></td></tr>"#,
            r#"<tr><td style="padding:16px 24px 24px 24px"><p style="margin:0;font-family:Arial,sans-serif;font-size:12px;color:#666666">{why}</p></td></tr>"#
        ),
        what = e(&what),
        rows = rows,
        why = e(&why),
    );
    let html = super::mail_page(t(l, "ru", "en"), &e(&subject), &rows_html);
    // A one-off reply the visitor asked for, to no list: there is nothing to unsubscribe from.
    Ok(EmailMessage { from: from.to_owned(), to: request.email.clone(), subject, html, text, headers: Vec::new() })
}
