//! `/v1/console/offline/*`: messages left after hours in the operators' inbox (core's
//! `chat::offline` decides what is listed, what may be answered and to which address). An answer
//! is stored, then leaves through the outbox like every event: the email to the visitor (the
//! `message.created` with the email target, its lead id in the delivery's `extra`) and the signed
//! webhook to each subscribed CRM, all in the batch that stores it.

use std::collections::BTreeMap;

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::chat::hub::HubNotification;
use floorwalker_core::access::throttle::offline_reply_counters;
use floorwalker_core::chat::offline::{next_seq, reply_address, OfflineMessage, OfflineReply, ReplyRequest, MAX_LISTED, MAX_REPLY_BYTES};
use floorwalker_core::outbound::chat_events::offline_reply_event;
use floorwalker_core::leads::lead::{Lead, LeadKind};
use floorwalker_core::outbound::delivery::Target;
use serde::Deserialize;
use worker::{Env, Request, Response};

use super::protocol::{self, HubCall};
use super::session::{authenticate, require_own_origin};
use crate::http::{self, internal, now_ms};
use crate::platform::d1::db;
use crate::{endpoints, outbox, rate_limit};

#[derive(Deserialize)]
struct LeadRow {
    data: String,
    #[serde(default)]
    done_at: Option<f64>,
    #[serde(default)]
    done_by: Option<String>,
}

#[derive(Deserialize)]
struct ReplyRow {
    lead: String,
    seq: f64,
    author_name: String,
    text: String,
    created_at: f64,
}

impl ReplyRow {
    fn reply(self) -> OfflineReply {
        OfflineReply { seq: self.seq as u64, author: self.author_name, text: self.text, at: self.created_at as u64 }
    }
}

async fn replies(env: &Env, site: &str, leads: &[&str]) -> Result<Vec<ReplyRow>, ApiError> {
    let ids = serde_json::to_string(leads).map_err(|e| internal("encoding ids", e))?;
    db(env)?
        .query(
            "SELECT lead, seq, author_name, text, created_at FROM lead_replies WHERE site = ?1 AND lead IN (SELECT value FROM json_each(?2)) ORDER BY lead, seq",
            &[&site, &ids],
        )
        .all("reading answers")
        .await
}

/// `GET /v1/console/offline`: the site's messages left after hours still to handle, oldest first.
pub async fn list(req: Request, env: &Env) -> Result<Response, ApiError> {
    let operator = authenticate(&req, env).await?.operator;
    let rows: Vec<LeadRow> = db(env)?
        .query(
            "SELECT data, done_at, done_by FROM leads WHERE site = ?1 AND kind = ?2 AND done_at IS NULL ORDER BY created_at LIMIT ?3",
            &[&operator.site, &LeadKind::OfflineMessage.as_str(), &MAX_LISTED],
        )
        .all("listing messages left after hours")
        .await?;
    let leads: Vec<(Lead, &LeadRow)> = rows.iter().filter_map(|row| Some((serde_json::from_str::<Lead>(&row.data).ok()?, row))).collect();
    let ids: Vec<&str> = leads.iter().map(|(lead, _)| lead.id.as_str()).collect();
    let mut answers: BTreeMap<String, Vec<OfflineReply>> = BTreeMap::new();
    for row in replies(env, &operator.site, &ids).await? {
        answers.entry(row.lead.clone()).or_default().push(row.reply());
    }
    let messages: Vec<OfflineMessage> = leads
        .iter()
        .filter_map(|(lead, row)| {
            let own = answers.remove(&lead.id).unwrap_or_default();
            OfflineMessage::of(lead, own, row.done_at.map(|at| at as u64), row.done_by.clone())
        })
        .collect();
    http::json(&messages, 200)
}

/// The site's offline message `id` with its answers; 404 for anything else (another site's, another
/// kind of lead, an unknown or malformed id), so nothing is learnt about other sites.
async fn own_message(env: &Env, site: &str, id: &str) -> Result<(Lead, OfflineMessage), ApiError> {
    let not_found = || ApiError::new(ErrorCode::NotFound, "there is no such message on your site");
    floorwalker_core::base::ids::validate_client_id("message", id).map_err(|_| not_found())?;
    let row: Option<LeadRow> = db(env)?
        .query("SELECT data, done_at, done_by FROM leads WHERE id = ?1 AND site = ?2 AND kind = ?3", &[&id, &site, &LeadKind::OfflineMessage.as_str()])
        .first("reading the message")
        .await?;
    let row = row.ok_or_else(not_found)?;
    let lead: Lead = serde_json::from_str(&row.data).map_err(|e| internal("decoding a lead", e))?;
    let own = replies(env, site, &[id]).await?.into_iter().map(ReplyRow::reply).collect();
    let message = OfflineMessage::of(&lead, own, row.done_at.map(|at| at as u64), row.done_by).ok_or_else(not_found)?;
    Ok((lead, message))
}

/// `POST /v1/console/offline/:lead/reply` with `{"text"}`: answers by email, to the address the
/// visitor gave in that message. Answers the message as it now stands.
pub async fn reply(mut req: Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    require_own_origin(&req)?;
    let operator = authenticate(&req, env).await?.operator;
    let (lead, mut message) = own_message(env, &operator.site, id).await?;
    let request: ReplyRequest = http::read_json(&mut req, MAX_REPLY_BYTES).await?;
    let text = request.text()?;
    reply_address(&lead)?;
    let now = now_ms();
    if let Some(refusal) = rate_limit::check(env, &offline_reply_counters(&operator.site, &operator.id, &lead.id), now, None).await? {
        return Ok(refusal);
    }
    let answer = OfflineReply { seq: next_seq(&message.replies), author: operator.name.clone(), text, at: now };
    let event = offline_reply_event(&lead, &answer);
    let db = db(env)?;
    let mut statements = vec![db
        .query(
            "INSERT INTO lead_replies (lead, seq, site, author_id, author_name, text, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            &[&lead.id, &answer.seq, &lead.site, &operator.id, &answer.author, &answer.text, &now],
        )
        .statement("storing the answer")?];
    let mut targets = outbox::endpoint_targets(&endpoints::active(env, &lead.site).await?, &event);
    targets.push(Target::Email);
    let (more, queued) = outbox::event_statements(&db, &lead.site, &event, &targets, Some(lead.id.as_str()), now, 0)?;
    statements.extend(more);
    if let Err(e) = db.try_batch(statements).await {
        // Two operators answering the same message at the same instant: one seq, one wins.
        worker::console_error!("answering {}: {e}", lead.id);
        return Err(ApiError::new(ErrorCode::Internal, "the answer was not stored (another answer came in at the same moment): send it again"));
    }
    outbox::enqueue(env, &queued).await;
    message.replies.push(answer);
    tell_consoles(env, &operator.site, &lead.id).await;
    http::json(&message, 201)
}

/// `POST /v1/console/offline/:lead/done`: handled (answered, or called back); it leaves every
/// operator's inbox. Marking it again changes nothing.
pub async fn done(req: Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    require_own_origin(&req)?;
    let operator = authenticate(&req, env).await?.operator;
    let (_, mut message) = own_message(env, &operator.site, id).await?;
    if message.done_at.is_none() {
        let now = now_ms();
        db(env)?
            .query(
                "UPDATE leads SET done_at = ?3, done_by = ?4 WHERE id = ?1 AND site = ?2 AND done_at IS NULL",
                &[&id, &operator.site, &now, &operator.name],
            )
            .run("marking the message done")
            .await?;
        message.done_at = Some(now);
        message.done_by = Some(operator.name.clone());
        tell_consoles(env, &operator.site, id).await;
    }
    http::json(&message, 200)
}

/// Every console of the site fetches its messages again. Best effort: the change is stored, and
/// a console that missed it sees it on its next fetch.
async fn tell_consoles(env: &Env, site: &str, lead_id: &str) {
    let notification = HubNotification::OfflineMessageChanged { lead_id: lead_id.to_owned() };
    if let Err(error) = announce(env, site, notification).await {
        worker::console_error!("telling consoles about {lead_id}: {error}");
    }
}

/// Tells the site's consoles (the hub broadcasts to each).
pub async fn announce(env: &Env, site: &str, notification: HubNotification) -> Result<(), ApiError> {
    let reply = protocol::hub(env, site)?.ask(&HubCall::Broadcast(notification)).await?;
    protocol::expect_reply!(reply, protocol::HubReply::Done => ())
}
