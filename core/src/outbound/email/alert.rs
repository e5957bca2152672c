//! The shop's own alert when a visitor in the chat has waited unanswered (`conversation.waiting`):
//! to the address the owner set for alerts ([`MailSettings::alert_to`]), in the owner's language.
//! Who waits, since when (the shop's clock), what they wrote, whether anyone is online, and a
//! link to the inbox when the deployment knows its public address.
//!
//! [`MailSettings::alert_to`]: super::MailSettings::alert_to

use super::branding::MAIL_TEXT;
use crate::base::crypto::{seal, unseal};
use crate::leads::consent::check_link_secret;
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

/// How long the link that confirms an alert address works.
pub const ALERT_LINK_TTL_MS: u64 = 7 * 24 * 60 * 60 * 1000;
/// Confirmation emails per site per hour: an owner retyping an address, not a mailer.
pub const ALERT_LINKS_PER_HOUR: u32 = 5;
/// Keeps these MACs apart from every other use of the link secret.
const ALERT_LINK_DOMAIN: &[u8] = b"floorwalker.alert-confirm.v1\n";
const MAX_ALERT_TOKEN_LEN: usize = 600;

/// What the link that confirms an alert address says: this site's alerts may go to `address`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertLinkClaims {
    pub site: String,
    /// Normalised (`contact::normalize_email`), so it compares with the stored `alert_to`.
    pub address: String,
    pub issued_at: u64,
}

impl AlertLinkClaims {
    /// Lines, since neither a site id nor a normalised address holds a line break.
    fn payload(&self) -> String {
        format!("{}\n{}\n{}", self.site, self.address, self.issued_at)
    }

    /// Sealed with `LINK_SECRET` (`base::crypto::seal`) under this kind's own domain.
    pub fn sign(&self, secret: &[u8]) -> Result<String, ApiError> {
        check_link_secret(secret)?;
        Ok(seal(secret, ALERT_LINK_DOMAIN, self.payload().as_bytes()))
    }

    /// Checks a token from the link: genuine (constant-time), and not older than
    /// [`ALERT_LINK_TTL_MS`]. Whether it still names the site's alert address is the caller's
    /// question (a link for an address since replaced confirms nothing).
    pub fn verify(secret: &[u8], token: &str, now_ms: u64) -> Result<AlertLinkClaims, ApiError> {
        check_link_secret(secret)?;
        let invalid = || ApiError::new(ErrorCode::InvalidToken, "the link is not valid");
        let payload = unseal(secret, ALERT_LINK_DOMAIN, token, MAX_ALERT_TOKEN_LEN).ok_or_else(invalid)?;
        let text = String::from_utf8(payload).map_err(|_| invalid())?;
        let mut lines = text.split('\n');
        let (Some(site), Some(address), Some(issued_at), None) = (lines.next(), lines.next(), lines.next(), lines.next()) else {
            return Err(invalid());
        };
        let issued_at: u64 = issued_at.parse().map_err(|_| invalid())?;
        if issued_at > now_ms.saturating_add(60_000) {
            return Err(invalid());
        }
        if now_ms.saturating_sub(issued_at) > ALERT_LINK_TTL_MS {
            return Err(ApiError::new(ErrorCode::TokenExpired, "the link has expired"));
        }
        Ok(AlertLinkClaims { site: site.to_owned(), address: address.to_owned(), issued_at })
    }
}

/// The email that asks the owner of `to` whether the shop's alerts may go there, with `link` (the
/// page whose button confirms). Says who asked, so a stranger who gets it by mistake knows to
/// ignore it; nothing about any visitor is in it.
pub fn render_alert_confirmation(to: &str, link: &str, shop: &ShopMail<'_>, l: Locale) -> Result<EmailMessage, ApiError> {
    let to = normalize_email(to).map_err(|_| ApiError::new(ErrorCode::InvalidConfig, "alert_to is not an email address"))?;
    let subject = shop.subject(l, t(l, "Подтвердите адрес для оповещений из чата", "Confirm the address for chat alerts").to_owned());
    let ask = match l {
        Locale::Ru => format!(
            "Владелец магазина «{}» указал этот адрес, чтобы получать оповещения, когда посетитель ждёт ответа в чате. Оповещения начнут приходить после подтверждения.",
            shop.name
        ),
        Locale::En => format!(
            "The owner of {} gave this address for alerts when a visitor waits for an answer in the chat. Alerts start once you confirm.",
            shop.name
        ),
    };
    let ignore = t(l, "Если вы не ждали этого письма, просто удалите его: без подтверждения ничего не придёт.", "If you did not expect this email, delete it: nothing is sent here without confirmation.");
    let confirm = t(l, "Подтвердить адрес", "Confirm the address");
    let text = format!("{ask}\n\n{confirm}: {link}\n\n{ignore}");
    let e = |s: &str| html_escape(s);
    let rows = format!(
        r#"<tr><td style="padding:24px;font-family:Arial,sans-serif;font-size:15px;color:{MAIL_TEXT}"><p style="margin:0 0 16px 0">{ask}</p><p style="margin:0 0 16px 0"><a href="{href}" style="background:{bg};color:{fg};padding:10px 16px;border-radius:6px;text-decoration:none;font-weight:bold" data-confirm="true">{confirm}</a></p><p style="margin:0;font-size:13px;color:#555555">{ignore}</p></td></tr>"#,
        ask = e(&ask),
        href = e(link),
        bg = e(&shop.look.color),
        fg = shop.look.on_color,
        confirm = e(confirm),
        ignore = e(ignore),
    );
    let html = super::mail_page(t(l, "ru", "en"), &e(&subject), shop, &rows);
    Ok(EmailMessage { from: shop.from.to_owned(), to, subject, html, text, reply_to: None, headers: Vec::new() })
}

#[cfg(test)]
mod link_tests {
    use super::*;

    const SECRET: &[u8] = b"a-link-secret-of-thirty-two-bytes!!";

    fn claims(at: u64) -> AlertLinkClaims {
        AlertLinkClaims { site: "demo".into(), address: "team@kroha.example".into(), issued_at: at }
    }

    #[test]
    fn a_link_confirms_only_what_it_was_signed_for() {
        let token = claims(1_000).sign(SECRET).unwrap();
        assert_eq!(AlertLinkClaims::verify(SECRET, &token, 2_000).unwrap(), claims(1_000));
        assert_eq!(AlertLinkClaims::verify(b"another-secret-of-thirty-two-bytes!", &token, 2_000).unwrap_err().code, ErrorCode::InvalidToken);
        let (payload, mac) = token.split_once('.').unwrap();
        let forged = crate::base::crypto::base64url_encode(b"demo\nx@evil.example\n1000");
        assert_eq!(AlertLinkClaims::verify(SECRET, &format!("{forged}.{mac}"), 2_000).unwrap_err().code, ErrorCode::InvalidToken);
        assert_eq!(AlertLinkClaims::verify(SECRET, payload, 2_000).unwrap_err().code, ErrorCode::InvalidToken);
        assert_eq!(AlertLinkClaims::verify(SECRET, &"a".repeat(700), 2_000).unwrap_err().code, ErrorCode::InvalidToken);
        assert_eq!(AlertLinkClaims::verify(SECRET, &token, 1_000 + ALERT_LINK_TTL_MS + 1).unwrap_err().code, ErrorCode::TokenExpired);
        assert_eq!(AlertLinkClaims::verify(SECRET, &claims(10_000_000).sign(SECRET).unwrap(), 1_000).unwrap_err().code, ErrorCode::InvalidToken, "from the future");
        let consent = crate::leads::consent::sign_link(
            SECRET,
            &crate::leads::consent::LinkClaims { site: "demo".into(), lead: "lead_1".into(), action: crate::leads::consent::LinkAction::Unsubscribe, issued_at: 1_000 },
        )
        .unwrap();
        assert!(AlertLinkClaims::verify(SECRET, &consent, 2_000).is_err(), "a consent link is not an alert link");
        assert_eq!(claims(1_000).sign(b"too short").unwrap_err().code, ErrorCode::Internal, "a short LINK_SECRET fails closed");
        assert_eq!(AlertLinkClaims::verify(b"too short", &token, 2_000).unwrap_err().code, ErrorCode::Internal);
    }
}
