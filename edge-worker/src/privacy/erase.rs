//! `POST /v1/admin/sites/:site/visitors/erase`: each visitor id the subject leads to is erased.
//!
//! Per visitor id, in this order, so that a failure part-way leaves something a retry can find:
//! 1. the conversations' Durable Objects forget everything (found through D1's rows, which are
//!    still there if this step fails) and the site's hub drops them from the live list;
//! 2. ONE D1 batch: the consent proofs and the erasure log are written, every row about the
//!    visitor deleted (deliveries a receiver already has keep their row, not their payload), and
//!    `visitor.erased` put in the outbox with its deliveries. All or nothing;
//! 3. the deliveries are enqueued.
//!
//! A repeat finds nothing, changes nothing and announces nothing: erasure is idempotent.

use floorwalker_core::base::error::ApiError;
use floorwalker_core::leads::consent::ConsentUpdated;
use floorwalker_core::leads::lead::Lead;
use floorwalker_core::outbound::delivery::DeliveryState;
use floorwalker_core::outbound::privacy::{
    delivery_fate, kept, visitor_hash, ConsentProof, DeliveryFate, ErasureReport, Found, SubjectQuery, VisitorErased, VisitorErasure,
};
use floorwalker_core::outbound::webhook::WebhookEvent;
use serde::Deserialize;
use worker::{D1PreparedStatement, Env, Request, Response};

use super::{holdings, json_list, resolve, Holdings};
use crate::chat::protocol::{self, expect_reply, ConversationCall, ConversationReply, HubCall, HubReply};
use crate::http::{self, internal, now_ms};
use crate::platform::d1::{db, Db};
use crate::{endpoints, outbox, sites};

const MAX_BODY: usize = 4096;

pub async fn erase(req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    sites::require(env, site).await?;
    let query: SubjectQuery = http::read_json(req, MAX_BODY).await?;
    let (subject, visitor_ids) = resolve(env, site, &query).await?;
    let mut visitors = Vec::with_capacity(visitor_ids.len());
    for visitor in &visitor_ids {
        visitors.push(erase_visitor(env, site, visitor).await?);
    }
    http::json(&ErasureReport { site: site.to_owned(), subject, visitors, kept: kept() }, 200)
}

#[derive(Deserialize)]
struct CountRow {
    n: f64,
}

#[derive(Deserialize)]
struct DataRow {
    data: String,
}

#[derive(Deserialize)]
struct StateRow {
    state: String,
}

async fn erase_visitor(env: &Env, site: &str, visitor: &str) -> Result<VisitorErasure, ApiError> {
    let db = db(env)?;
    let held = holdings(&db, site, visitor).await?;
    let events: Option<f64> = db
        .query("SELECT COUNT(*) AS n FROM events WHERE site = ?1 AND visitor = ?2", &[&site, &visitor])
        .first::<CountRow>("counting the visitor's events")
        .await?
        .map(|row| row.n);
    let emails: Option<f64> = db
        .query("SELECT COUNT(*) AS n FROM mailbox WHERE site = ?1 AND lead IN (SELECT value FROM json_each(?2))", &[&site, &json_list(&held.mail_keys())?])
        .first::<CountRow>("counting the visitor's emails")
        .await?
        .map(|row| row.n);
    let found = Found {
        events: events.unwrap_or(0.0) as u64,
        lead_ids: held.lead_ids.clone(),
        conversation_ids: held.conversation_ids.clone(),
        emails: emails.unwrap_or(0.0) as u64,
        outbox_events: held.event_ids.len() as u64,
    };
    let mut erasure = VisitorErasure { visitor_id: visitor.to_owned(), ..VisitorErasure::default() };
    if found.is_empty() {
        return Ok(erasure);
    }
    erasure.messages = erase_conversations(env, site, &held.conversation_ids).await?;
    let now = now_ms();
    let proofs = consent_proofs(&db, site, visitor, &held, now).await?;
    let states: Vec<StateRow> = db
        .query("SELECT state FROM deliveries WHERE event IN (SELECT value FROM json_each(?1))", &[&json_list(&held.event_ids)?])
        .all("reading the visitor's deliveries")
        .await?;
    for row in &states {
        match DeliveryState::parse(&row.state).map(delivery_fate) {
            Some(DeliveryFate::KeepWithoutPayload) => erasure.deliveries_kept += 1,
            _ => erasure.deliveries_deleted += 1,
        }
    }
    erasure.events = found.events;
    erasure.leads = held.lead_ids.len() as u64;
    erasure.conversations = held.conversation_ids.len() as u64;
    erasure.emails = found.emails;
    erasure.consents_kept = proofs.len() as u64;

    let event = WebhookEvent::VisitorErased(VisitorErased {
        site: site.to_owned(),
        visitor_id: visitor.to_owned(),
        lead_ids: held.lead_ids.clone(),
        conversation_ids: held.conversation_ids.clone(),
        erased_at: now,
    });
    erasure.announced = Some(event.message_id());
    let mut statements = removal_statements(&db, site, visitor, &held, &proofs, now)?;
    statements.push(log_statement(&db, site, visitor, &erasure, now)?);
    let targets = outbox::endpoint_targets(&endpoints::active(env, site).await?, &event);
    let (announce, queued) = outbox::event_statements(&db, site, &event, &targets, None, now, 0)?;
    statements.extend(announce);
    db.batch(statements, "erasing the visitor").await?;
    outbox::enqueue(env, &queued).await;
    Ok(erasure)
}

/// Empties each conversation's object, then drops them from the hub's list. Returns how many
/// messages were deleted.
async fn erase_conversations(env: &Env, site: &str, conversation_ids: &[String]) -> Result<u64, ApiError> {
    let mut messages = 0;
    for id in conversation_ids {
        let reply = protocol::conversation(env, id)?.ask(&ConversationCall::Erase).await?;
        messages += expect_reply!(reply, ConversationReply::Erased { messages } => messages)?;
    }
    if !conversation_ids.is_empty() {
        let reply = protocol::hub(env, site)?.ask(&HubCall::Forget { conversation_ids: conversation_ids.to_vec() }).await?;
        expect_reply!(reply, HubReply::Done => ())?;
    }
    Ok(messages)
}

async fn consent_proofs(db: &Db, site: &str, visitor: &str, held: &Holdings, now: u64) -> Result<Vec<ConsentProof>, ApiError> {
    let leads: Vec<DataRow> = db
        .query("SELECT data FROM leads WHERE site = ?1 AND visitor = ?2", &[&site, &visitor])
        .all("reading the visitor's leads")
        .await?;
    let changes: Vec<DataRow> = db
        .query("SELECT data FROM consent_changes WHERE lead IN (SELECT value FROM json_each(?1))", &[&json_list(&held.lead_ids)?])
        .all("reading the visitor's consent changes")
        .await?;
    let changes: Vec<ConsentUpdated> =
        changes.iter().map(|row| serde_json::from_str(&row.data)).collect::<Result<_, _>>().map_err(|e| internal("decoding consent", e))?;
    leads
        .iter()
        .map(|row| {
            let lead: Lead = serde_json::from_str(&row.data).map_err(|e| internal("decoding a lead", e))?;
            let own: Vec<ConsentUpdated> = changes.iter().filter(|change| change.lead == lead.id).cloned().collect();
            Ok(ConsentProof::of(&lead, &own, now))
        })
        .collect()
}

/// Every statement that removes the visitor's rows (and writes the consent proofs kept instead).
fn removal_statements(
    db: &Db,
    site: &str,
    visitor: &str,
    held: &Holdings,
    proofs: &[ConsentProof],
    now: u64,
) -> Result<Vec<D1PreparedStatement>, ApiError> {
    const DOING: &str = "erasing the visitor";
    let (leads, conversations, events, mail) =
        (json_list(&held.lead_ids)?, json_list(&held.conversation_ids)?, json_list(&held.event_ids)?, json_list(&held.mail_keys())?);
    let mut statements = Vec::new();
    for proof in proofs {
        let data = serde_json::to_string(proof).map_err(|e| internal("encoding a consent proof", e))?;
        statements.push(
            db.query(
                "INSERT OR REPLACE INTO erased_consents (lead, site, email_hash, phone_hash, erased_at, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                &[&proof.lead, &site, &proof.email_hash, &proof.phone_hash, &now, &data],
            )
            .statement(DOING)?,
        );
    }
    // Counters keyed by the visitor (`access::throttle::Counter`: `<scope>|<site>|<visitor>`).
    let rate_key = format!("|{site}|{visitor}");
    let sql: [(&str, &[&dyn crate::platform::d1::Param]); 14] = [
        ("DELETE FROM consent_changes WHERE lead IN (SELECT value FROM json_each(?1))", &[&leads]),
        ("DELETE FROM lead_replies WHERE lead IN (SELECT value FROM json_each(?1))", &[&leads]),
        // A deal the CRM reported for one of them goes too; the funnel's rollups name no one.
        ("DELETE FROM deals WHERE lead IN (SELECT value FROM json_each(?1))", &[&leads]),
        // And which amoCRM deal each became (read from amoCRM's answer, like the attempts below).
        ("DELETE FROM amocrm_deals WHERE lead IN (SELECT value FROM json_each(?1))", &[&leads]),
        ("DELETE FROM leads WHERE site = ?1 AND visitor = ?2", &[&site, &visitor]),
        ("DELETE FROM events WHERE site = ?1 AND visitor = ?2", &[&site, &visitor]),
        ("DELETE FROM chat_callbacks WHERE conversation_id IN (SELECT value FROM json_each(?1))", &[&conversations]),
        ("DELETE FROM chat_conversations WHERE site = ?1 AND visitor_id = ?2", &[&site, &visitor]),
        ("DELETE FROM mailbox WHERE site = ?1 AND lead IN (SELECT value FROM json_each(?2))", &[&site, &mail]),
        // Attempts may hold a receiver's answer echoing the payload.
        ("DELETE FROM delivery_attempts WHERE delivery IN (SELECT id FROM deliveries WHERE event IN (SELECT value FROM json_each(?1)))", &[&events]),
        // privacy::delivery_fate: only what a receiver acknowledged stays.
        ("DELETE FROM deliveries WHERE event IN (SELECT value FROM json_each(?1)) AND state != ?2", &[&events, &DeliveryState::Delivered]),
        // The kept rows' payload becomes privacy::ErasedPayload ({"type", "erased_at"}).
        (
            "UPDATE outbox_events SET data = json_object('type', type, 'erased_at', ?2) WHERE id IN (SELECT value FROM json_each(?1)) \
             AND EXISTS (SELECT 1 FROM deliveries d WHERE d.event = outbox_events.id)",
            &[&events, &now],
        ),
        (
            "DELETE FROM outbox_events WHERE id IN (SELECT value FROM json_each(?1)) \
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event = outbox_events.id)",
            &[&events],
        ),
        ("DELETE FROM rate_limits WHERE substr(key, -length(?1)) = ?1", &[&rate_key]),
    ];
    for (query, params) in sql {
        statements.push(db.query(query, params).statement(DOING)?);
    }
    Ok(statements)
}

/// The erasure log's row: the counts, the visitor id only as a hash.
fn log_statement(db: &Db, site: &str, visitor: &str, erasure: &VisitorErasure, now: u64) -> Result<D1PreparedStatement, ApiError> {
    let hash = visitor_hash(site, visitor);
    let logged = VisitorErasure { visitor_id: hash.clone(), ..erasure.clone() };
    let data = serde_json::to_string(&logged).map_err(|e| internal("encoding the erasure log", e))?;
    let id = erasure.announced.clone().unwrap_or_else(|| format!("{hash}:{now}"));
    db.query(
        "INSERT OR IGNORE INTO visitor_erasures (id, site, visitor_hash, erased_at, data) VALUES (?1, ?2, ?3, ?4, ?5)",
        &[&id, &site, &hash, &now, &data],
    )
    .statement("logging the erasure")
}
