//! Privacy operations on one visitor, behind the admin API (`crate::admin` routes and authorizes):
//!
//! - `GET  /v1/admin/sites/:site/visitors/export?visitor=|email=|phone=[&events_offset=]` → JSON of
//!   everything held about the visitor (or every visitor who gave that contact): events (one page),
//!   leads, consent changes, conversations with their messages (from the Durable Objects), emails,
//!   deliveries; plus the consent proofs earlier erasures kept for that contact.
//! - `POST /v1/admin/sites/:site/visitors/erase` `{"visitor"|"email"|"phone": "..."}` → erases each
//!   visitor id across D1 and the Durable Objects, keeps what `core::outbound::privacy::KEPT` lists,
//!   and announces `visitor.erased` to subscribed endpoints through the outbox.
//!
//! Core decides (who the subject is, what is kept, the proof, the event); this module finds rows
//! and removes them.

mod erase;
mod export;

pub use erase::erase;
pub use export::export;

use floorwalker_core::base::error::ApiError;
use floorwalker_core::outbound::privacy::{visitor_ids, Subject, SubjectQuery};
use serde::Deserialize;
use worker::Env;

use crate::http::internal;
use crate::platform::d1::{db, Db};
use crate::settings;

#[derive(Deserialize)]
struct VisitorRow {
    visitor: String,
}

/// The subject of a request and the visitor ids it leads to. A contact leads to everyone who gave
/// it: in a lead, in the chat's callback form, or as the address of a chat transcript.
async fn resolve(env: &Env, site: &str, query: &SubjectQuery) -> Result<(Subject, Vec<String>), ApiError> {
    let region = settings::load(env, site).await?.phone_region;
    let subject = query.subject(region)?;
    let Some(contact) = subject.contact() else {
        let ids = visitor_ids(&subject, Vec::new())?;
        return Ok((subject, ids));
    };
    // Emails compare without case: the same person may have typed the domain (or the local part,
    // which no provider treats as case-sensitive in practice) differently on two forms.
    let rows: Vec<VisitorRow> = db(env)?
        .query(
            "SELECT visitor FROM leads WHERE site = ?1 \
               AND (lower(json_extract(data, '$.contact.email')) = lower(?2) OR json_extract(data, '$.contact.phone') = ?2) \
             UNION SELECT c.visitor_id AS visitor FROM chat_callbacks b JOIN chat_conversations c ON c.id = b.conversation_id \
               WHERE b.site = ?1 AND lower(b.contact) = lower(?2) \
             UNION SELECT c.visitor_id AS visitor FROM mailbox m JOIN chat_conversations c ON c.id = m.lead \
               WHERE m.site = ?1 AND lower(m.to_addr) = lower(?2) \
             UNION SELECT json_extract(data, '$.data.transcript.owner.visitor_id') AS visitor FROM outbox_events \
               WHERE site = ?1 AND type = 'transcript.requested' AND lower(json_extract(data, '$.data.email')) = lower(?2) \
             LIMIT 1000",
            &[&site, &contact],
        )
        .all("finding who gave the contact")
        .await?;
    let ids = visitor_ids(&subject, rows.into_iter().map(|row| row.visitor).collect())?;
    Ok((subject, ids))
}

#[derive(Deserialize)]
struct IdRow {
    id: String,
}

/// What one visitor id has in D1: lead ids, conversation ids, and the ids of outbox events about
/// the visitor (their leads' and conversations' events; `visitor.erased` itself excluded).
struct Holdings {
    lead_ids: Vec<String>,
    conversation_ids: Vec<String>,
    event_ids: Vec<String>,
}

impl Holdings {
    /// Lead and conversation ids: the mailbox's `lead` column holds either.
    fn mail_keys(&self) -> Vec<String> {
        self.lead_ids.iter().chain(&self.conversation_ids).cloned().collect()
    }
}

fn json_list(ids: &[String]) -> Result<String, ApiError> {
    serde_json::to_string(ids).map_err(|e| internal("encoding ids", e))
}

async fn holdings(db: &Db, site: &str, visitor: &str) -> Result<Holdings, ApiError> {
    const DOING: &str = "finding the visitor's rows";
    let lead_ids: Vec<IdRow> =
        db.query("SELECT id FROM leads WHERE site = ?1 AND visitor = ?2 ORDER BY created_at, id", &[&site, &visitor]).all(DOING).await?;
    let conversation_ids: Vec<IdRow> = db
        .query("SELECT id FROM chat_conversations WHERE site = ?1 AND visitor_id = ?2 ORDER BY opened_at, id", &[&site, &visitor])
        .all(DOING)
        .await?;
    let lead_ids: Vec<String> = lead_ids.into_iter().map(|r| r.id).collect();
    let event_ids: Vec<IdRow> = db
        .query(
            "SELECT id FROM outbox_events WHERE site = ?1 AND type != 'visitor.erased' AND ( \
               json_extract(data, '$.data.visitor') = ?2 \
               OR json_extract(data, '$.data.visitor_id') = ?2 \
               OR json_extract(data, '$.data.transcript.owner.visitor_id') = ?2 \
               OR json_extract(data, '$.data.lead') IN (SELECT value FROM json_each(?3))) \
             ORDER BY created_at, id",
            &[&site, &visitor, &json_list(&lead_ids)?],
        )
        .all(DOING)
        .await?;
    Ok(Holdings {
        lead_ids,
        conversation_ids: conversation_ids.into_iter().map(|r| r.id).collect(),
        event_ids: event_ids.into_iter().map(|r| r.id).collect(),
    })
}
