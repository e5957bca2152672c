//! `GET /v1/admin/sites/:site/visitors/export`: everything held about a visitor, as JSON.

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::leads::consent::ConsentUpdated;
use floorwalker_core::leads::lead::Lead;
use floorwalker_core::outbound::privacy::{
    contact_hash, next_offset, ConsentProof, ConversationExport, DeliveryExport, Export, SubjectQuery, VisitorExport,
    MAX_EXPORT_EVENTS, MAX_EXPORT_MESSAGES,
};
use floorwalker_core::visitor::context::VisitorContext;
use serde::Deserialize;
use worker::{Env, Request, Response};

use super::{holdings, json_list, resolve, Holdings};
use crate::chat::protocol::{self, expect_reply, ConversationCall, ConversationReply};
use crate::delivery_log::DeliveryRow;
use crate::events::{self, EventPage};
use crate::http::{self, internal};
use crate::platform::d1::{db, Db};
use crate::{mailbox, sites};

/// `?visitor=|email=|phone=` as core's [`SubjectQuery`] (unknown parameters refused), and the
/// events page's `events_offset`.
fn read_query(req: &Request) -> Result<(SubjectQuery, u32), ApiError> {
    let bad = |message: String| ApiError::new(ErrorCode::MissingField, message);
    let url = req.url().map_err(|e| internal("reading the URL", e))?;
    let mut fields = serde_json::Map::new();
    let mut events_offset = 0;
    for (name, value) in url.query_pairs() {
        if name == "events_offset" {
            events_offset = value.parse().map_err(|_| bad(format!("events_offset must be a whole number, not {value:?}")))?;
        } else {
            fields.insert(name.into_owned(), serde_json::Value::String(value.into_owned()));
        }
    }
    let subject = serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| bad(format!("bad query: {e}")))?;
    Ok((subject, events_offset))
}

pub async fn export(req: &Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    sites::require(env, site).await?;
    let (query, events_offset) = read_query(req)?;
    let (subject, visitor_ids) = resolve(env, site, &query).await?;
    let db = db(env)?;
    let mut visitors = Vec::with_capacity(visitor_ids.len());
    for visitor in &visitor_ids {
        visitors.push(visitor_export(env, &db, site, visitor, events_offset).await?);
    }
    let kept_consents = match subject.contact() {
        Some(contact) => kept_consents(&db, site, contact).await?,
        None => Vec::new(),
    };
    // Nothing held and nothing kept is an empty export, not a 404: "we hold nothing" is the answer.
    http::json(&Export { site: site.to_owned(), subject, visitors: visitors.into_iter().filter(|v| !v.is_empty()).collect(), kept_consents }, 200)
}

async fn visitor_export(env: &Env, db: &Db, site: &str, visitor: &str, events_offset: u32) -> Result<VisitorExport, ApiError> {
    let held = holdings(db, site, visitor).await?;
    let events = events::stored(
        env,
        EventPage { site, visitor: Some(visitor), newest_first: false, limit: MAX_EXPORT_EVENTS, offset: events_offset },
    )
    .await?;
    let next_events_offset = next_offset(events_offset, events.len(), MAX_EXPORT_EVENTS);
    Ok(VisitorExport {
        visitor_id: visitor.to_owned(),
        events,
        next_events_offset,
        leads: leads(db, site, visitor).await?,
        consent_changes: consent_changes(db, &held).await?,
        conversations: conversations(env, db, site, visitor).await?,
        emails: mailbox::stored_about(env, site, &held.mail_keys()).await?,
        deliveries: deliveries(db, &held).await?,
    })
}

#[derive(Deserialize)]
struct DataRow {
    data: String,
}

fn decode_rows<T: serde::de::DeserializeOwned>(rows: Vec<DataRow>, what: &str) -> Result<Vec<T>, ApiError> {
    rows.iter().map(|row| serde_json::from_str(&row.data).map_err(|e| internal(what, e))).collect()
}

async fn leads(db: &Db, site: &str, visitor: &str) -> Result<Vec<Lead>, ApiError> {
    let rows = db
        .query("SELECT data FROM leads WHERE site = ?1 AND visitor = ?2 ORDER BY created_at, id", &[&site, &visitor])
        .all("exporting leads")
        .await?;
    decode_rows(rows, "decoding a lead")
}

async fn consent_changes(db: &Db, held: &Holdings) -> Result<Vec<ConsentUpdated>, ApiError> {
    let rows = db
        .query("SELECT data FROM consent_changes WHERE lead IN (SELECT value FROM json_each(?1)) ORDER BY at", &[&json_list(&held.lead_ids)?])
        .all("exporting consent changes")
        .await?;
    decode_rows(rows, "decoding a consent change")
}

async fn kept_consents(db: &Db, site: &str, contact: &str) -> Result<Vec<ConsentProof>, ApiError> {
    let hash = contact_hash(site, contact);
    let rows = db
        .query(
            "SELECT data FROM erased_consents WHERE site = ?1 AND (email_hash = ?2 OR phone_hash = ?2) ORDER BY erased_at, lead",
            &[&site, &hash],
        )
        .all("exporting kept consents")
        .await?;
    decode_rows(rows, "decoding a consent proof")
}

#[derive(Deserialize)]
struct ConversationRow {
    id: String,
    status: String,
    opened_at: f64,
    closed_at: Option<f64>,
    visitor_label: Option<String>,
    context: Option<String>,
    callback_contact: Option<String>,
}

async fn conversations(env: &Env, db: &Db, site: &str, visitor: &str) -> Result<Vec<ConversationExport>, ApiError> {
    let rows: Vec<ConversationRow> = db
        .query(
            "SELECT c.id, c.status, c.opened_at, c.closed_at, c.visitor_label, c.context, b.contact AS callback_contact \
             FROM chat_conversations c LEFT JOIN chat_callbacks b ON b.conversation_id = c.id \
             WHERE c.site = ?1 AND c.visitor_id = ?2 ORDER BY c.opened_at, c.id",
            &[&site, &visitor],
        )
        .all("exporting conversations")
        .await?;
    let mut exported = Vec::with_capacity(rows.len());
    for row in rows {
        let reply = protocol::conversation(env, &row.id)?.ask(&ConversationCall::Export).await?;
        let transcript = expect_reply!(reply, ConversationReply::Exported(transcript) => transcript)?;
        let mut messages = transcript.map(|t| t.messages).unwrap_or_default();
        let messages_truncated = messages.len() > MAX_EXPORT_MESSAGES;
        messages.truncate(MAX_EXPORT_MESSAGES);
        let context: Option<VisitorContext> =
            row.context.as_deref().map(serde_json::from_str).transpose().map_err(|e| internal("decoding a conversation's context", e))?;
        exported.push(ConversationExport {
            id: row.id,
            status: row.status,
            opened_at: row.opened_at as u64,
            closed_at: row.closed_at.map(|at| at as u64),
            visitor_label: row.visitor_label,
            context,
            callback_contact: row.callback_contact,
            messages,
            messages_truncated,
        });
    }
    Ok(exported)
}

async fn deliveries(db: &Db, held: &Holdings) -> Result<Vec<DeliveryExport>, ApiError> {
    let rows: Vec<DeliveryRow> = db
        .query(
            "SELECT d.id, d.event, e.type, d.target, d.state, d.created_at, d.delivered_at, d.last_error \
             FROM deliveries d JOIN outbox_events e ON e.id = d.event \
             WHERE d.event IN (SELECT value FROM json_each(?1)) ORDER BY d.created_at, d.id",
            &[&json_list(&held.event_ids)?],
        )
        .all("exporting deliveries")
        .await?;
    rows.into_iter()
        .map(|row| {
            let (event_type, state) = row.decoded()?;
            Ok(DeliveryExport {
                id: row.id,
                event_id: row.event,
                event_type,
                target: row.target,
                state,
                created_at: row.created_at as u64,
                delivered_at: row.delivered_at.map(|at| at as u64),
            })
        })
        .collect()
}
