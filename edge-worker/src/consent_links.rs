//! `GET|POST /v1/consent/:token`: the one-click links in the promised email ("send me more like
//! this", "unsubscribe"). Core verifies the signed token and decides the current state; a change is
//! recorded once (the change id is derived from the state it moves from) together with its
//! `consent.updated` outbox rows, in one D1 batch. The answer is a small page in the visitor's
//! language where everything shown is escaped.
//!
//! GET acts as well as POST because the issue asks for one-click links; POST is what RFC 8058
//! one-click unsubscribe from mail clients uses.

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::base::locale::Locale;
use floorwalker_core::leads::consent::{
    change_id, claimed_site, is_granted, verify_link, ConsentPurpose, ConsentUpdated, LinkAction,
};
use floorwalker_core::leads::lead::Lead;
use floorwalker_core::outbound::crm::html_escape;
use floorwalker_core::outbound::email::marketing_link_text;
use floorwalker_core::outbound::webhook::WebhookEvent;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{Env, Headers, Request, Response};

use crate::http::{self, internal};
use crate::timing::secret;
use crate::{endpoints, outbox, sites};

pub async fn follow(req: &Request, env: &Env, token: &str) -> Result<Response, ApiError> {
    match apply(req, env, token).await {
        Ok((locale, shop, action)) => page(locale, 200, &done_text(locale, &shop, action)),
        Err(e) if e.code == ErrorCode::Internal => Err(e),
        Err(e) => {
            // The lead's language is unknown when the token is bad: say it in both.
            let text = match e.code {
                ErrorCode::TokenExpired => "Срок действия ссылки истёк. / This link has expired.",
                _ => "Ссылка недействительна. / This link is not valid.",
            };
            page(Locale::Ru, e.http_status(), text)
        }
    }
}

#[derive(Deserialize)]
struct ChangeRow {
    data: String,
}

async fn apply(req: &Request, env: &Env, token: &str) -> Result<(Locale, String, LinkAction), ApiError> {
    let invalid = || ApiError::new(ErrorCode::InvalidToken, "the link is not valid");
    let site = claimed_site(token).ok_or_else(invalid)?;
    let link_secret = secret(env, "LINK_SECRET").ok_or_else(|| internal("verifying a link", "LINK_SECRET is not set"))?;
    let now = http::now_ms();
    let claims = verify_link(link_secret.as_bytes(), &site, token, now)?;
    let db = sites::db(env)?;
    let lead_json: Option<String> = db
        .prepare("SELECT data FROM leads WHERE id = ?1 AND site = ?2")
        .bind(&[JsValue::from_str(&claims.lead), JsValue::from_str(&site)])
        .map_err(|e| internal("loading the lead", e))?
        .first(Some("data"))
        .await
        .map_err(|e| internal("loading the lead", e))?;
    let lead: Lead = lead_json
        .ok_or_else(invalid)
        .and_then(|json| serde_json::from_str(&json).map_err(|e| internal("decoding the lead", e)))?;
    let shop = sites::load(env, &site).await?.map_or_else(|| site.clone(), |c| c.name);
    let locale = lead.locale;

    let rows: Vec<ChangeRow> = db
        .prepare("SELECT data FROM consent_changes WHERE lead = ?1 AND purpose = 'marketing' ORDER BY at")
        .bind(&[JsValue::from_str(&lead.id)])
        .map_err(|e| internal("loading consent changes", e))?
        .all()
        .await
        .map_err(|e| internal("loading consent changes", e))?
        .results()
        .map_err(|e| internal("loading consent changes", e))?;
    let changes: Vec<ConsentUpdated> =
        rows.iter().map(|r| serde_json::from_str(&r.data)).collect::<Result<_, _>>().map_err(|e| internal("decoding consent", e))?;
    let wanted = claims.action == LinkAction::MarketingOptIn;
    if is_granted(ConsentPurpose::Marketing, lead.marketing_consent.as_ref(), &changes) == wanted {
        // Already so: clicking twice records nothing and sends nothing.
        return Ok((locale, shop, claims.action));
    }
    let page_url = req.url().map(|u| format!("{}{}", u.origin().ascii_serialization(), u.path())).unwrap_or_default();
    let update = ConsentUpdated::from_link(&claims, marketing_link_text(locale, &shop), locale, &page_url, now);
    let data = serde_json::to_string(&update).map_err(|e| internal("encoding consent", e))?;
    let mut statements = vec![db
        .prepare("INSERT INTO consent_changes (id, site, lead, purpose, granted, at, data) VALUES (?1, ?2, ?3, 'marketing', ?4, ?5, ?6)")
        .bind(&[
            JsValue::from_str(&change_id(&lead.id, ConsentPurpose::Marketing, wanted, changes.len())),
            JsValue::from_str(&site),
            JsValue::from_str(&lead.id),
            JsValue::from_f64(if wanted { 1.0 } else { 0.0 }),
            JsValue::from_f64(now as f64),
            JsValue::from_str(&data),
        ])
        .map_err(|e| internal("recording consent", e))?];
    let event = WebhookEvent::ConsentUpdated(update);
    let targets = outbox::endpoint_targets(&endpoints::active(env, &site).await?, &event);
    let (more, ids) = outbox::event_statements(&db, &site, &event, &targets, None, now)?;
    statements.extend(more);
    if db.batch(statements).await.is_err() {
        // A concurrent click recorded the same change (primary key): nothing more to do.
        return Ok((locale, shop, claims.action));
    }
    outbox::enqueue(env, &ids).await;
    Ok((locale, shop, claims.action))
}

fn done_text(locale: Locale, shop: &str, action: LinkAction) -> String {
    match (locale, action) {
        (Locale::Ru, LinkAction::MarketingOptIn) => format!("Готово: «{shop}» будет присылать вам похожие подборки. Отписаться можно по ссылке в любом письме."),
        (Locale::En, LinkAction::MarketingOptIn) => format!("Done: {shop} will send you more picks like this. Every email has an unsubscribe link."),
        (Locale::Ru, LinkAction::Unsubscribe) => format!("Вы отписались: «{shop}» больше не будет присылать вам подборки."),
        (Locale::En, LinkAction::Unsubscribe) => format!("You are unsubscribed: {shop} will not send you any more picks."),
    }
}

fn page(locale: Locale, status: u16, text: &str) -> Result<Response, ApiError> {
    let lang = match locale {
        Locale::Ru => "ru",
        Locale::En => "en",
    };
    let html = format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>Floorwalker</title></head><body style=\"font-family:Arial,sans-serif;max-width:480px;margin:48px auto;padding:0 16px;color:#1a1a1a\">\
         <p style=\"font-size:18px;line-height:1.4\">{}</p></body></html>",
        html_escape(text)
    );
    html_response(&html, status)
}

/// An HTML page that runs nothing and leaks nothing (the URL holds a token).
pub fn html_response(html: &str, status: u16) -> Result<Response, ApiError> {
    let headers = Headers::new();
    for (name, value) in [
        ("content-type", "text/html; charset=utf-8"),
        ("cache-control", "no-store"),
        ("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; img-src https: http:; frame-src 'self'"),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
    ] {
        http::set(&headers, name, value)?;
    }
    Ok(Response::ok(html).map_err(|e| internal("building the page", e))?.with_status(status).with_headers(headers))
}
