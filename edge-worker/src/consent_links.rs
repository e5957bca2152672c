//! `GET|POST /v1/consent/:token`: the one-click links in the promised email ("send me more like
//! this", "unsubscribe"). Core verifies the signed token and decides the current state; a change is
//! recorded once (the change id is derived from the state it moves from) together with its
//! `consent.updated` outbox rows, in one D1 batch. The answer is a small page in the visitor's
//! language where everything shown is escaped.
//!
//! Only POST changes consent. Mail scanners and link previews GET every link in an email, so a
//! GET only shows what the link would do, with a button (a form that POSTs back to the same URL).
//! POST is also what RFC 8058 one-click unsubscribe from mail clients sends
//! (`List-Unsubscribe=One-Click`); its body says nothing the token does not, so it is not read.

use floorwalker_core::access::public_limits::PublicRoute;
use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::base::locale::Locale;
use floorwalker_core::leads::consent::{
    change_id, claimed_site, is_granted, verify_link, ConsentPurpose, ConsentUpdated, LinkAction, LinkClaims,
};
use floorwalker_core::leads::lead::Lead;
use floorwalker_core::outbound::crm::html_escape;
use floorwalker_core::outbound::email::marketing_link_text;
use floorwalker_core::outbound::webhook::WebhookEvent;
use serde::Deserialize;
use worker::{Env, Method, Request, Response};

use crate::http::{self, internal};
use crate::platform::d1::db;
use crate::platform::vars::secret;
use crate::{endpoints, outbox, rate_limit, sites};

/// The 429 page for a client following emailed links too fast (per client address, counted
/// before any token is checked: a guesser gets a page, not a database); `None` within the limit.
/// The consent links and the alert address's link share the count.
pub(crate) async fn too_many_links(req: &Request, env: &Env) -> Result<Option<Response>, ApiError> {
    let counters = PublicRoute::Consent.counters("", &rate_limit::client(req), None);
    let Some(retry_after_s) = rate_limit::hit(env, &counters, http::now_ms()).await? else { return Ok(None) };
    let text = format!("Слишком много запросов; повторите через {retry_after_s} с. / Too many requests; try again in {retry_after_s} s.");
    let mut response = page(Locale::Ru, 429, &text, None)?;
    http::set(response.headers_mut(), "retry-after", &retry_after_s.to_string())?;
    Ok(Some(response))
}

pub async fn follow(req: &Request, env: &Env, token: &str) -> Result<Response, ApiError> {
    if let Some(refusal) = too_many_links(req, env).await? {
        return Ok(refusal);
    }
    let outcome = match req.method() {
        Method::Post => apply(req, env, token).await.map(|link| (link, true)),
        _ => load(env, token).await.map(|(link, _, _)| (link, false)),
    };
    match outcome {
        Ok((link, true)) => page(link.locale, 200, &done_text(link.locale, &link.shop, link.action), None),
        Ok((link, false)) => {
            let (question, button) = confirm_text(link.locale, &link.shop, link.action);
            page(link.locale, 200, &question, Some(button))
        }
        Err(e) if e.code == ErrorCode::Internal => Err(e),
        Err(e) => {
            // The lead's language is unknown when the token is bad: say it in both.
            let text = match e.code {
                ErrorCode::TokenExpired => "Срок действия ссылки истёк. / This link has expired.",
                _ => "Ссылка недействительна. / This link is not valid.",
            };
            page(Locale::Ru, e.http_status(), text, None)
        }
    }
}

/// What a verified link is about.
struct Link {
    locale: Locale,
    shop: String,
    action: LinkAction,
}

#[derive(Deserialize)]
struct ChangeRow {
    data: String,
}

/// Verifies the token and loads its lead; changes nothing.
async fn load(env: &Env, token: &str) -> Result<(Link, LinkClaims, Lead), ApiError> {
    let invalid = || ApiError::new(ErrorCode::InvalidToken, "the link is not valid");
    let site = claimed_site(token).ok_or_else(invalid)?;
    let link_secret = secret(env, "LINK_SECRET").ok_or_else(|| internal("verifying a link", "LINK_SECRET is not set"))?;
    let now = http::now_ms();
    let claims = verify_link(link_secret.as_bytes(), &site, token, now)?;
    let db = db(env)?;
    let lead_json: Option<String> = db
        .query("SELECT data FROM leads WHERE id = ?1 AND site = ?2", &[&claims.lead, &site])
        .first_column("data", "loading the lead")
        .await?;
    let lead: Lead = lead_json
        .ok_or_else(invalid)
        .and_then(|json| serde_json::from_str(&json).map_err(|e| internal("decoding the lead", e)))?;
    let shop = sites::load(env, &site).await?.map_or_else(|| site.clone(), |c| c.name);
    Ok((Link { locale: lead.locale, shop, action: claims.action }, claims, lead))
}

async fn apply(req: &Request, env: &Env, token: &str) -> Result<Link, ApiError> {
    let (link, claims, lead) = load(env, token).await?;
    let (locale, shop, site, now) = (link.locale, &link.shop, &claims.site, http::now_ms());
    let db = db(env)?;
    let rows: Vec<ChangeRow> = db
        .query("SELECT data FROM consent_changes WHERE lead = ?1 AND purpose = 'marketing' ORDER BY at", &[&lead.id])
        .all("loading consent changes")
        .await?;
    let changes: Vec<ConsentUpdated> =
        rows.iter().map(|r| serde_json::from_str(&r.data)).collect::<Result<_, _>>().map_err(|e| internal("decoding consent", e))?;
    let wanted = claims.action == LinkAction::MarketingOptIn;
    if is_granted(ConsentPurpose::Marketing, lead.marketing_consent.as_ref(), &changes) == wanted {
        // Already so: clicking twice records nothing and sends nothing.
        return Ok(link);
    }
    let page_url = req.url().map(|u| format!("{}{}", u.origin().ascii_serialization(), u.path())).unwrap_or_default();
    let update = ConsentUpdated::from_link(&claims, marketing_link_text(locale, shop), locale, &page_url, now);
    let data = serde_json::to_string(&update).map_err(|e| internal("encoding consent", e))?;
    let mut statements = vec![db
        .query(
            "INSERT INTO consent_changes (id, site, lead, purpose, granted, at, data) VALUES (?1, ?2, ?3, 'marketing', ?4, ?5, ?6)",
            &[&change_id(&lead.id, ConsentPurpose::Marketing, wanted, changes.len()), &site, &lead.id, &wanted, &now, &data],
        )
        .statement("recording consent")?];
    let event = WebhookEvent::ConsentUpdated(update);
    let targets = outbox::endpoint_targets(&endpoints::active(env, site).await?, &event);
    let (more, ids) = outbox::event_statements(&db, site, &event, &targets, None, now, 0)?;
    statements.extend(more);
    if db.try_batch(statements).await.is_err() {
        // A concurrent click recorded the same change (primary key): nothing more to do.
        return Ok(link);
    }
    outbox::enqueue(env, &ids).await;
    Ok(link)
}

/// The GET page's question and its button's label.
fn confirm_text(locale: Locale, shop: &str, action: LinkAction) -> (String, &'static str) {
    match (locale, action) {
        (Locale::Ru, LinkAction::MarketingOptIn) => (format!("Присылать вам похожие подборки от магазина «{shop}»?"), "Да, присылайте"),
        (Locale::En, LinkAction::MarketingOptIn) => (format!("Get more picks like this from {shop}?"), "Yes, send them"),
        (Locale::Ru, LinkAction::Unsubscribe) => (format!("Отписаться от писем магазина «{shop}»?"), "Отписаться"),
        (Locale::En, LinkAction::Unsubscribe) => (format!("Unsubscribe from {shop} emails?"), "Unsubscribe"),
    }
}

fn done_text(locale: Locale, shop: &str, action: LinkAction) -> String {
    match (locale, action) {
        (Locale::Ru, LinkAction::MarketingOptIn) => format!("Готово: магазин «{shop}» будет присылать вам похожие подборки. Отписаться можно по ссылке в любом письме."),
        (Locale::En, LinkAction::MarketingOptIn) => format!("Done: {shop} will send you more picks like this. Every email has an unsubscribe link."),
        (Locale::Ru, LinkAction::Unsubscribe) => format!("Вы отписались: магазин «{shop}» больше не будет присылать вам подборки."),
        (Locale::En, LinkAction::Unsubscribe) => format!("You are unsubscribed: {shop} will not send you any more picks."),
    }
}

/// The page: `text` as its heading and, when asked, a button that POSTs back to this same URL
/// (the form has no `action`, so the token never appears in the page).
pub(crate) fn page(locale: Locale, status: u16, text: &str, button: Option<&str>) -> Result<Response, ApiError> {
    let lang = match locale {
        Locale::Ru => "ru",
        Locale::En => "en",
    };
    let form = button.map_or_else(String::new, |label| {
        format!(
            "<form method=\"post\"><button type=\"submit\" style=\"font-size:16px;padding:10px 20px;border:0;border-radius:6px;\
             background:#1f6feb;color:#ffffff;cursor:pointer\">{}</button></form>",
            html_escape(label)
        )
    });
    let html = format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title}</title></head><body style=\"font-family:Arial,sans-serif;max-width:480px;margin:48px auto;padding:0 16px;color:#1a1a1a\">\
         <main><h1 style=\"font-size:20px;line-height:1.4;font-weight:normal\">{title}</h1>{form}</main></body></html>",
        title = html_escape(text)
    );
    http::html(&html, status)
}
