//! Live context: while a visitor's conversation is open, what they do next on the site (a page,
//! a product, an answer) reaches the operators through the conversation's own object and sockets
//! (`ConversationCall::Context`), not by anyone polling. Called after the events are stored, and
//! after a lead (its contact names the visitor from then on).

use floorwalker_core::base::error::ApiError;
use floorwalker_core::chat::offline::contact_label;
use floorwalker_core::leads::lead::Lead;
use floorwalker_core::visitor::context::VisitorContext;
use serde::Deserialize;
use worker::{D1PreparedStatement, D1Result, Env};

use super::protocol::{self, expect_reply, ConversationCall, ConversationReply};
use crate::http::internal;
use crate::platform::d1::{db, rows, Db};

#[derive(Deserialize)]
struct OpenRow {
    id: String,
    #[serde(default)]
    context: Option<String>,
}

const OPEN_SQL: &str =
    "SELECT id, context FROM chat_conversations WHERE site = ?1 AND visitor_id = ?2 AND status = 'open' ORDER BY opened_at DESC LIMIT 1";
const FINDING: &str = "finding the visitor's open conversation";

/// Whether the visitor has an open conversation, for a caller that batches the question with its
/// own reads (a lead) and calls [`visitor_moved`] only when there is one to tell.
pub fn open_conversation_statement(db: &Db, site: &str, visitor: &str) -> Result<D1PreparedStatement, ApiError> {
    db.query(OPEN_SQL, &[&site, &visitor]).statement(FINDING)
}

/// What an [`open_conversation_statement`] found.
pub fn has_open_conversation(result: &D1Result) -> Result<bool, ApiError> {
    Ok(!rows::<OpenRow>(result, FINDING)?.is_empty())
}

#[derive(Deserialize)]
struct LeadRow {
    data: String,
}

/// Tells the visitor's open conversation, if any, where they are now. The conversation's row
/// keeps the newest context too, so a console opened (or reloaded) later reads it.
pub async fn visitor_moved(env: &Env, site: &str, visitor: &str) -> Result<(), ApiError> {
    let db = db(env)?;
    let open: Option<OpenRow> = db.query(OPEN_SQL, &[&site, &visitor]).first(FINDING).await?;
    let Some(open) = open else { return Ok(()) };
    let before: Option<VisitorContext> = open.context.as_deref().and_then(|c| serde_json::from_str(c).ok());
    let locale = before.as_ref().map(|c| c.locale).unwrap_or_default();
    let mut context = super::context::from_events(env, site, visitor, locale).await?;
    // Answers the widget sent with the chat's start and the events do not hold stay known.
    if let Some(before) = before {
        for answer in before.answers {
            if !context.answers.iter().any(|a| a.question == answer.question) {
                context.answers.push(answer);
            }
        }
        context.first_touch = context.first_touch.or(before.first_touch);
    }
    let visitor_label = contact_of(env, site, visitor).await?;
    let stored = serde_json::to_string(&context).map_err(|e| internal("encoding a context", e))?;
    db.query("UPDATE chat_conversations SET context = ?2 WHERE id = ?1", &[&open.id, &stored]).run("keeping the context").await?;
    let reply = protocol::conversation(env, &open.id)?.ask(&ConversationCall::Context { context: Box::new(context), visitor_label }).await?;
    expect_reply!(reply, ConversationReply::Done => ())
}

/// The contact the visitor gave last (their name, email or phone in their newest lead): how
/// operators know them once they said who they are.
pub async fn contact_of(env: &Env, site: &str, visitor: &str) -> Result<Option<String>, ApiError> {
    let latest: Option<LeadRow> = db(env)?
        .query("SELECT data FROM leads WHERE site = ?1 AND visitor = ?2 ORDER BY created_at DESC LIMIT 1", &[&site, &visitor])
        .first("reading the visitor's last lead")
        .await?;
    Ok(latest.and_then(|row| serde_json::from_str::<Lead>(&row.data).ok()).and_then(|lead| contact_label(&lead.contact)))
}
