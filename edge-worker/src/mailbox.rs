//! The local email provider's mailbox: `GET /v1/mailbox` (list) and `GET /v1/mailbox/:id` (one
//! message: its HTML in a sandboxed frame and its text).
//!
//! Dev-only by construction: it answers only when `EMAIL_PROVIDER=local` AND the request came to a
//! loopback host (127.0.0.1, localhost, [::1]), which a deployed worker never serves. So `make demo`
//! shows it in a browser with no token, while a deployment that forgot to configure a provider
//! still does not expose visitors' addresses. Programs read the same data as JSON through the
//! admin API (`GET /v1/admin/mailbox`), behind the admin token.

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::base::url::is_loopback_host;
use floorwalker_core::outbound::crm::html_escape;
use floorwalker_core::outbound::email::{EmailMessage, EmailProvider, StoredEmail};
use serde::Deserialize;
use worker::{Env, Request, Response};

use crate::http::{self, internal};
use crate::platform::d1::db;
use crate::platform::vars::var;

const MAX_LISTED: u32 = 200;

fn allowed(req: &Request, env: &Env) -> bool {
    let local_provider = var(env, "EMAIL_PROVIDER").as_deref().and_then(EmailProvider::parse) == Some(EmailProvider::Local);
    let loopback = req
        .url()
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .is_some_and(|host| is_loopback_host(&host));
    local_provider && loopback
}

fn refused() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "the mailbox exists only with EMAIL_PROVIDER=local on a loopback address")
}

#[derive(Deserialize)]
struct Row {
    id: String,
    site: String,
    lead: String,
    created_at: f64,
    data: String,
}

/// The newest stored emails, optionally of one lead.
pub async fn stored(env: &Env, lead: Option<&str>, id: Option<&str>) -> Result<Vec<StoredEmail>, ApiError> {
    let rows: Vec<Row> = db(env)?
        .query(
            "SELECT id, site, lead, created_at, data FROM mailbox WHERE (?1 IS NULL OR lead = ?1) AND (?2 IS NULL OR id = ?2) \
             ORDER BY created_at DESC LIMIT ?3",
            &[&lead, &id, &MAX_LISTED],
        )
        .all("reading the mailbox")
        .await?;
    decode(rows)
}

/// The site's stored emails about any of `keys` (lead ids, or conversation ids for transcripts).
pub async fn stored_about(env: &Env, site: &str, keys: &[String]) -> Result<Vec<StoredEmail>, ApiError> {
    let keys = serde_json::to_string(keys).map_err(|e| internal("encoding mailbox keys", e))?;
    let rows: Vec<Row> = db(env)?
        .query(
            "SELECT id, site, lead, created_at, data FROM mailbox WHERE site = ?1 AND lead IN (SELECT value FROM json_each(?2)) \
             ORDER BY created_at",
            &[&site, &keys],
        )
        .all("reading the mailbox")
        .await?;
    decode(rows)
}

fn decode(rows: Vec<Row>) -> Result<Vec<StoredEmail>, ApiError> {
    rows.into_iter()
        .map(|row| {
            let message: EmailMessage = serde_json::from_str(&row.data).map_err(|e| internal("decoding an email", e))?;
            Ok(StoredEmail { id: row.id, site: row.site, lead: row.lead, created_at: row.created_at as u64, message })
        })
        .collect()
}

const STYLE: &str = "font-family:Arial,sans-serif;max-width:900px;margin:24px auto;padding:0 16px;color:#1a1a1a";

pub async fn list(req: &Request, env: &Env) -> Result<Response, ApiError> {
    if !allowed(req, env) {
        return Err(refused());
    }
    let emails = stored(env, None, None).await?;
    let mut rows = String::new();
    for email in &emails {
        rows.push_str(&format!(
            "<tr><td style=\"padding:6px\">{}</td><td style=\"padding:6px\">{}</td><td style=\"padding:6px\"><a href=\"/v1/mailbox/{}\">{}</a></td></tr>",
            html_escape(&floorwalker_core::outbound::webhook::rfc3339(email.created_at)),
            html_escape(&email.message.to),
            html_escape(&email.id),
            html_escape(&email.message.subject),
        ));
    }
    let empty = if emails.is_empty() { "<p>No emails yet.</p>" } else { "" };
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Local mailbox</title></head><body style=\"{STYLE}\">\
         <h1>Local mailbox</h1><p>Emails the local provider would have sent (EMAIL_PROVIDER=local).</p>{empty}\
         <table style=\"border-collapse:collapse\"><tbody>{rows}</tbody></table></body></html>"
    );
    http::html(&html, 200)
}

pub async fn show(req: &Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    if !allowed(req, env) {
        return Err(refused());
    }
    let email = stored(env, None, Some(id))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no email {id:?}")))?;
    let m = &email.message;
    // The email's own HTML runs in a frame with every sandbox restriction (no scripts, no forms,
    // no same-origin); `srcdoc` holds it escaped.
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{subject}</title></head><body style=\"{STYLE}\">\
         <p><a href=\"/v1/mailbox\">&larr; Mailbox</a></p><h1>{subject}</h1>\
         <p>From: {from}<br>To: {to}</p>\
         <iframe sandbox=\"\" title=\"HTML version\" style=\"width:100%;height:720px;border:1px solid #ddd\" srcdoc=\"{body}\"></iframe>\
         <h2>Plain text</h2><pre style=\"white-space:pre-wrap\">{text}</pre></body></html>",
        subject = html_escape(&m.subject),
        from = html_escape(&m.from),
        to = html_escape(&m.to),
        body = html_escape(&m.html),
        text = html_escape(&m.text),
    );
    http::html(&html, 200)
}
