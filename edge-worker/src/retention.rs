//! The retention cron: prunes what `core::upkeep` says is due, one bounded step at a time
//! (`Pruner`), and reports what it pruned. Runs in the same scheduled invocation as the delivery
//! sweeper; `POST /v1/admin/retention/run` runs it at once.
//!
//! Every step is one `DELETE ... WHERE rowid IN (SELECT rowid ... LIMIT n)` on the index of the
//! column the age is read from (migration 0040), except closed conversations: each one's Durable
//! Object erases its own storage first, then its D1 rows go in one batch.

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::outbound::delivery::DeliveryState;
use floorwalker_core::upkeep::pruning::{PruneLimits, PruneReport, PruneTask, Pruner};
use floorwalker_core::upkeep::retention::{Kept, RetentionPolicy, SiteRetention, DAY_MS};
use serde::Deserialize;
use worker::{Env, Request, Response};

use crate::http::{self, internal, now_ms};
use crate::platform::d1::{db, Db};
use crate::platform::vars::test_timing;
use crate::{chat, settings, sites};

/// Sites with their own periods read per run (more would be a deployment of its own).
const MAX_SITES_WITH_OWN_PERIODS: u32 = 1000;

#[derive(Deserialize)]
struct SettingsRow {
    site: String,
    settings: String,
}

/// The sites whose owners chose their own pruning periods.
async fn own_periods(db: &Db) -> Result<Vec<(String, SiteRetention)>, ApiError> {
    let rows: Vec<SettingsRow> = db
        .query("SELECT site, settings FROM site_retention ORDER BY site LIMIT ?1", &[&MAX_SITES_WITH_OWN_PERIODS])
        .all("reading retention settings")
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let own = serde_json::from_str::<SiteRetention>(&row.settings).map_err(|e| worker::console_error!("site {} retention: {e}", row.site)).ok()?;
            own.overrides_pruning().then_some((row.site, own))
        })
        .collect())
}

/// One run of the pruner as if the clock read `now` (`now_ms()` but for the admin API's test
/// clock, which moves with the real one so the time budget still holds).
pub async fn run(env: &Env, now: u64) -> Result<PruneReport, ApiError> {
    let offset = now.saturating_sub(now_ms());
    let clock = || now_ms() + offset;
    let db = db(env)?;
    let mut pruner = Pruner::new(&RetentionPolicy::default(), &own_periods(&db).await?, now, PruneLimits::default());
    while let Some(task) = pruner.next(clock()).cloned() {
        match step(env, &db, &task).await {
            Ok(removed) => pruner.done(removed),
            Err(error) => {
                worker::console_error!("retention: {} failed, left for the next run: {error}", task.kind.as_str());
                pruner.failed();
            }
        }
    }
    Ok(pruner.finish(clock()))
}

/// The scheduled run: logs its one line, never fails the invocation.
pub async fn scheduled(env: &Env) {
    match run(env, now_ms()).await {
        Ok(report) => worker::console_log!("{}", report.summary()),
        Err(error) => worker::console_error!("retention: {error}"),
    }
}

/// The rows of one step: `?1` the cutoff, `?2` the limit, then the kind's own parameters.
async fn step(env: &Env, db: &Db, task: &PruneTask) -> Result<u64, ApiError> {
    let except = serde_json::to_string(&task.except).map_err(|e| internal("encoding sites", e))?;
    let site = task.site.as_deref();
    // Per-site kinds: `?3` one site (or every site) and `?4` the sites left to their own step.
    const SITE: &str = "AND (?3 IS NULL OR site = ?3) AND site NOT IN (SELECT value FROM json_each(?4))";
    let doing = format!("pruning {}", task.kind.as_str());
    let (cutoff, limit) = (&task.cutoff, &task.limit);
    let query = match task.kind {
        Kept::ClosedConversations => return closed_conversations(env, db, task, &except).await,
        Kept::Events => {
            // The presence changes serve only the replay of the events' days, so they go with them.
            let sql = format!("DELETE FROM presence_changes WHERE rowid IN (SELECT rowid FROM presence_changes WHERE at < ?1 {SITE} LIMIT ?2)");
            db.query(&sql, &[cutoff, limit, &site, &except]).run("pruning presence changes").await?;
            let sql = format!("DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE received_at < ?1 {SITE} LIMIT ?2)");
            return db.query(&sql, &[cutoff, limit, &site, &except]).run_counting(&doing).await;
        }
        Kept::Leads => {
            let sql = format!("DELETE FROM leads WHERE rowid IN (SELECT rowid FROM leads WHERE created_at < ?1 {SITE} LIMIT ?2)");
            return db.query(&sql, &[cutoff, limit, &site, &except]).run_counting(&doing).await;
        }
        Kept::DeliveredDeliveries | Kept::FailedDeliveries => {
            let state = if task.kind == Kept::DeliveredDeliveries { DeliveryState::Delivered } else { DeliveryState::Failed };
            let sql = "DELETE FROM deliveries WHERE rowid IN (SELECT rowid FROM deliveries WHERE state = ?3 AND updated_at < ?1 LIMIT ?2)";
            db.query(sql, &[cutoff, limit, &state])
        }
        Kept::OutboxEvents => db.query(
            "DELETE FROM outbox_events WHERE rowid IN (SELECT rowid FROM outbox_events e WHERE e.created_at < ?1 \
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event = e.id) LIMIT ?2)",
            &[cutoff, limit],
        ),
        Kept::Mailbox => db.query("DELETE FROM mailbox WHERE rowid IN (SELECT rowid FROM mailbox WHERE created_at < ?1 LIMIT ?2)", &[cutoff, limit]),
        Kept::RateLimits => {
            db.query("DELETE FROM rate_limits WHERE rowid IN (SELECT rowid FROM rate_limits WHERE window < ?1 LIMIT ?2)", &[cutoff, limit])
        }
        Kept::OperatorSessions => db.query(
            "DELETE FROM account_sessions WHERE rowid IN (SELECT rowid FROM account_sessions WHERE expires_at < ?1 LIMIT ?2)",
            &[cutoff, limit],
        ),
        // A day's rows go whole: `?1` is a time, the rollups' day its day number.
        Kept::FunnelRollups => {
            let day = task.cutoff / DAY_MS;
            let days = db
                .query("DELETE FROM funnel_days WHERE rowid IN (SELECT rowid FROM funnel_days WHERE day < ?1 LIMIT ?2)", &[&day, limit])
                .run_counting(&doing)
                .await?;
            let rows = db
                .query("DELETE FROM funnel_rollups WHERE rowid IN (SELECT rowid FROM funnel_rollups WHERE day < ?1 LIMIT ?2)", &[&day, limit])
                .run_counting(&doing)
                .await?;
            return Ok(days.max(rows));
        }
        Kept::Deals => db.query("DELETE FROM deals WHERE rowid IN (SELECT rowid FROM deals WHERE reported_at < ?1 LIMIT ?2)", &[cutoff, limit]),
        Kept::AccessLinks => db.query(
            "DELETE FROM access_links WHERE rowid IN (SELECT rowid FROM access_links WHERE expires_at < ?1 LIMIT ?2)",
            &[cutoff, limit],
        ),
    };
    query.run_counting(&doing).await
}

#[derive(Deserialize)]
struct IdRow {
    id: String,
}

/// Closed conversations past their period: each object erases its storage, then their D1 rows
/// (the conversation and its callback request) go in one batch. One that fails stays for the
/// next run.
async fn closed_conversations(env: &Env, db: &Db, task: &PruneTask, except: &str) -> Result<u64, ApiError> {
    let rows: Vec<IdRow> = db
        .query(
            "SELECT id FROM chat_conversations WHERE status = 'closed' AND closed_at < ?1 \
             AND (?3 IS NULL OR site = ?3) AND site NOT IN (SELECT value FROM json_each(?4)) ORDER BY closed_at LIMIT ?2",
            &[&task.cutoff, &task.limit, &task.site.as_deref(), &except],
        )
        .all("finding conversations to prune")
        .await?;
    let mut statements = Vec::new();
    for row in &rows {
        if let Err(error) = chat::erase_conversation_storage(env, &row.id).await {
            worker::console_error!("retention: conversation {} kept for the next run: {error}", row.id);
            continue;
        }
        const DOING: &str = "pruning a conversation";
        statements.push(db.query("DELETE FROM chat_callbacks WHERE conversation_id = ?1", &[&row.id]).statement(DOING)?);
        statements.push(db.query("DELETE FROM chat_conversations WHERE id = ?1", &[&row.id]).statement(DOING)?);
    }
    let erased = statements.len() as u64 / 2;
    if !statements.is_empty() {
        db.batch(statements, "pruning conversations").await?;
    }
    // A step that found a full page but erased fewer still reports the page as full, so the
    // pruner goes on with the rest rather than stopping at one unreachable object.
    Ok(if rows.len() as u64 == u64::from(task.limit) { u64::from(task.limit).max(erased) } else { erased })
}

#[derive(Deserialize)]
struct RunQuery {
    #[serde(default)]
    at: Option<u64>,
}

/// `POST /v1/admin/retention/run[?at=ms]`: one run now, answered with its report. `at` (prune as
/// if the clock read that time) only on a test deployment (`FLOORWALKER_TEST_TIMING=1`).
pub async fn run_now(req: &Request, env: &Env) -> Result<Response, ApiError> {
    let query: RunQuery = req.query().map_err(|e| ApiError::new(ErrorCode::InvalidConfig, format!("bad query: {e}")))?;
    let now = match query.at {
        Some(_) if !test_timing(env) => {
            return Err(ApiError::new(ErrorCode::Forbidden, "at: only a test deployment (FLOORWALKER_TEST_TIMING=1) moves the clock"))
        }
        Some(at) => at,
        None => now_ms(),
    };
    let report = run(env, now).await?;
    worker::console_log!("{} (admin)", report.summary());
    http::json(&report, 200)
}

/// `GET /v1/admin/sites/:site/retention`.
pub async fn show(env: &Env, site: &str) -> Result<Response, ApiError> {
    sites::require(env, site).await?;
    http::json(&settings::retention(env, site).await?, 200)
}

/// `PUT /v1/admin/sites/:site/retention` with a `SiteRetention`.
pub async fn put(req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    sites::require(env, site).await?;
    let own: SiteRetention = http::read_json(req, 4096)
        .await
        .map_err(|e| if e.code == ErrorCode::InvalidJson { ApiError::new(ErrorCode::InvalidConfig, e.message) } else { e })?;
    own.validate(test_timing(env))?;
    settings::store_retention(env, site, &own, now_ms()).await?;
    http::json(&own, 200)
}
