//! The owner's funnel, `GET /v1/admin/sites/:site/funnel?from=&to=&by=`, the experiments'
//! results, `GET /v1/admin/sites/:site/experiments?from=&to=`, and the daily rollups both
//! read (core::insights). A day is folded from D1 (its events by `received_at`, its leads and
//! their CRM deliveries, its conversations) once when first needed, again while it may still
//! change (by the cron, every five minutes), and never after it is final. The cron keeps every
//! site's recent days fresh and back-fills history; a read rolls up at most a few days itself
//! (missing ones, or today when no cron has run for ten minutes),
//! so its cost does not depend on how much traffic a year held: the sums are one indexed range
//! of the rollup table, grouped in SQL.

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::insights::day::Day;
use floorwalker_core::insights::experiment::{self, ArmRow, ARM_SUMS};
use floorwalker_core::insights::funnel::{combine, FirstResponse, FunnelQuery, PromptRevenue, Satisfaction, Summed};
use floorwalker_core::insights::rollup::{
    due_days, fold_day, is_final, DayChat, DayEvent, DayInput, DayLead, Device, Rolled, RollupRow, ShopTimeline, HISTORY_KINDS, READ_REFRESH_MS, REFRESH_MS,
};
use floorwalker_core::leads::lead::Lead;
use floorwalker_core::outbound::delivery::DeliveryState;
use floorwalker_core::outbound::webhook::WebhookEvent;
use floorwalker_core::prompts::config::SiteConfig;
use floorwalker_core::upkeep::retention::RetentionPolicy;
use floorwalker_core::visitor::event::{Event, EventData};
use serde::Deserialize;
use worker::{Env, Request, Response};

use crate::http::{self, internal};
use crate::platform::d1::{db, rows, Db};
use crate::sites;

/// Days a read rolls up itself; the rest wait for the cron (the answer says how many).
const ROLLUPS_PER_READ: usize = 3;
/// Events read per round trip while folding a day.
const EVENT_PAGE: u32 = 5000;
/// Visitors whose earlier prompt events one query reads (a JSON list bound as one parameter).
const VISITORS_PER_QUERY: usize = 500;
/// Rollup rows per INSERT statement (one JSON parameter each).
const ROWS_PER_INSERT: usize = 500;
/// The cron stops starting new days after this long, or after this many days: a day costs about
/// six D1 queries (more for a busy day's events or visitors), and an invocation has 50 on the free plan.
const CRON_BUDGET_MS: u64 = 10_000;
const CRON_DAYS: u32 = 8;
/// Sites the cron visits per run.
const CRON_SITES: u32 = 1000;

/// A read's range (`?from=&to=`, the funnel's rules) with the days it may roll up itself rolled
/// up: the site's config, the query, and how many days of the range are still missing.
async fn read_range(req: &Request, env: &Env, site: &str) -> Result<(SiteConfig, Db, FunnelQuery, u32), ApiError> {
    let config = sites::require(env, site).await?;
    let now = http::now_ms();
    let url = req.url().map_err(|e| ApiError::new(ErrorCode::InvalidQuery, format!("bad URL: {e}")))?;
    let pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let query = FunnelQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), Day::of_ms(now))?;
    let db = db(env)?;
    let due = due(&db, site, query.days(), now, READ_REFRESH_MS).await?;
    for day in due.iter().take(ROLLUPS_PER_READ) {
        roll_up(&db, &config, *day, now).await?;
    }
    let rolled = rolled(&db, site, query.from, query.to).await?;
    let missing = due.iter().skip(ROLLUPS_PER_READ).filter(|day| !rolled.iter().any(|r| r.day == **day)).count() as u32;
    Ok((config, db, query, missing))
}

/// `GET /v1/admin/sites/:site/experiments?from=&to=`: each running experiment's arms summed from
/// the rollups, judged by core.
pub async fn experiments(req: &Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    let (config, db, query, missing) = read_range(req, env, site).await?;
    let sql = format!(
        "SELECT json_object('prompt', prompt, 'experiment', experiment, 'variant', variant, {ARM_SUMS}) AS row FROM funnel_rollups \
         WHERE site = ?1 AND experiment != '' AND day BETWEEN ?2 AND ?3 GROUP BY prompt, experiment, variant"
    );
    let rows: Vec<ArmRow> = json_rows(
        db.query(&sql, &[&site, &(query.from.0 as u64), &(query.to.0 as u64)])
        .all("summing the experiments")
        .await?,
    )?;
    http::json(&experiment::experiments(&config.widget, &query, &rows, missing), 200)
}

/// `GET /v1/admin/sites/:site/funnel`.
pub async fn funnel(req: &Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    const DOING: &str = "reading the funnel";
    let (config, db, query, missing) = read_range(req, env, site).await?;

    let key = query.by.map_or("''", |by| by.key_sql());
    let counts: String = floorwalker_core::insights::rollup::Counts::COLUMNS.iter().map(|c| format!(", '{c}', SUM({c})")).collect();
    let sql = format!(
        "SELECT json_object('prompt', prompt, 'key', {key}{counts}) AS row FROM funnel_rollups \
         WHERE site = ?1 AND day BETWEEN ?2 AND ?3 GROUP BY prompt, {key}"
    );
    let (from, to) = (query.from.0 as u64, query.to.0 as u64);
    let (opened_from, opened_to) = (query.from.start_ms(), Day(query.to.0 + 1).start_ms());
    // One round trip: the rollups, the deals, the median first response of the range's
    // answered conversations (the lower middle one; `chat_conversations_by_site_opened`) and
    // their visitors' ratings.
    let results = db
        .batch(
            vec![
                db.query(&sql, &[&site, &from, &to]).statement(DOING)?,
                db.query(
                    "SELECT json_object('prompt', prompt, 'currency', currency, 'amount_minor', SUM(amount_minor), 'deals', COUNT(*)) AS row \
                     FROM deals WHERE site = ?1 AND lead_day BETWEEN ?2 AND ?3 GROUP BY prompt, currency",
                    &[&site, &from, &to],
                )
                .statement(DOING)?,
                db.query(
                    "WITH answered AS (SELECT first_reply_at - opened_at AS ms FROM chat_conversations \
                     WHERE site = ?1 AND opened_at >= ?2 AND opened_at < ?3 AND first_reply_at IS NOT NULL) \
                     SELECT json_object('median_ms', ms, 'conversations', (SELECT COUNT(*) FROM answered)) AS row FROM answered \
                     ORDER BY ms LIMIT 1 OFFSET (SELECT (COUNT(*) - 1) / 2 FROM answered)",
                    &[&site, &opened_from, &opened_to],
                )
                .statement(DOING)?,
                db.query(
                    "SELECT json_object('ratings', COUNT(rating), 'sum', COALESCE(SUM(rating), 0), 'satisfied', COUNT(CASE WHEN rating >= 4 THEN 1 END)) AS row \
                     FROM chat_conversations WHERE site = ?1 AND opened_at >= ?2 AND opened_at < ?3",
                    &[&site, &opened_from, &opened_to],
                )
                .statement(DOING)?,
            ],
            DOING,
        )
        .await?;
    let [rows, revenue, first_response, satisfaction] = [0, 1, 2, 3].map(|i| results.get(i).map(|r| rows::<JsonRow>(r, DOING)).transpose());
    let rows: Vec<Summed> = json_rows(rows?.unwrap_or_default())?;
    let revenue: Vec<PromptRevenue> = json_rows(revenue?.unwrap_or_default())?;
    let first_response: Vec<FirstResponse> = json_rows(first_response?.unwrap_or_default())?;
    let configured: Vec<String> = config.widget.prompts.iter().map(|p| p.id.clone()).collect();
    let mut funnel = combine(&query, &rows, &revenue, &configured, missing);
    funnel.first_response = first_response.into_iter().next();
    let satisfaction: Vec<Satisfaction> = json_rows(satisfaction?.unwrap_or_default())?;
    funnel.satisfaction = satisfaction.into_iter().find(|s| s.ratings > 0);
    http::json(&funnel, 200)
}

#[derive(Deserialize)]
struct JsonRow {
    row: String,
}

/// Rows the query built as JSON text (`json_object`), read as core's types: SQLite writes its
/// integers as integers, so no number goes through a float on the way.
fn json_rows<T: serde::de::DeserializeOwned>(rows: Vec<JsonRow>) -> Result<Vec<T>, ApiError> {
    rows.iter().map(|r| serde_json::from_str(&r.row).map_err(|e| internal("decoding a funnel row", e))).collect()
}

#[derive(Deserialize)]
struct RolledRow {
    day: f64,
    rolled_at: f64,
    #[serde(rename = "final")]
    is_final: f64,
}

async fn rolled(db: &Db, site: &str, from: Day, to: Day) -> Result<Vec<Rolled>, ApiError> {
    let rows: Vec<RolledRow> = db
        .query(
            "SELECT day, rolled_at, final FROM funnel_days WHERE site = ?1 AND day BETWEEN ?2 AND ?3",
            &[&site, &(from.0 as u64), &(to.0 as u64)],
        )
        .all("reading rolled-up days")
        .await?;
    Ok(rows.into_iter().map(|r| Rolled { day: Day(r.day as i64), rolled_at: r.rolled_at as u64, is_final: r.is_final != 0.0 }).collect())
}

/// The days of `range` to roll up now (core's `due_days`), newest first.
async fn due(db: &Db, site: &str, range: impl DoubleEndedIterator<Item = Day> + Clone, now: u64, max_age_ms: u64) -> Result<Vec<Day>, ApiError> {
    let days: Vec<Day> = range.clone().collect();
    let (Some(from), Some(to)) = (days.first(), days.last()) else { return Ok(Vec::new()) };
    let rolled = rolled(db, site, *from, *to).await?;
    let first: Option<Option<f64>> = db
        .query("SELECT MIN(received_at) AS first FROM events WHERE site = ?1", &[&site])
        .first_column("first", "finding the first event")
        .await?;
    Ok(due_days(range, &rolled, first.flatten().map(|ms| Day::of_ms(ms as u64)), now, max_age_ms))
}

#[derive(Deserialize)]
struct EventRow {
    id: String,
    visitor: String,
    at: f64,
    received_at: f64,
    data: String,
    device: Option<String>,
    language: Option<String>,
}

#[derive(Deserialize)]
struct LeadRow {
    data: String,
}

#[derive(Deserialize)]
struct EventIdRow {
    event: String,
}

#[derive(Deserialize)]
struct ChatRow {
    visitor_id: String,
    answered: f64,
}

/// Folds one day of `config`'s site from D1 and replaces its rollup rows, in one batch.
async fn roll_up(db: &Db, config: &SiteConfig, day: Day, now: u64) -> Result<usize, ApiError> {
    let site = config.site.as_str();
    let (start, end) = (day.start_ms(), day.end_ms());
    let mut events = Vec::new();
    let mut after: (u64, String) = (0, String::new());
    loop {
        let page: Vec<EventRow> = db
            .query(
                "SELECT id, visitor, at, received_at, data, device, language FROM events \
                 WHERE site = ?1 AND received_at >= ?2 AND received_at < ?3 \
                 AND (received_at > ?4 OR (received_at = ?4 AND id > ?5)) ORDER BY received_at, id LIMIT ?6",
                &[&site, &start, &end, &after.0, &after.1, &EVENT_PAGE],
            )
            .all("reading a day's events")
            .await?;
        let full = page.len() as u32 == EVENT_PAGE;
        for row in page {
            after = (row.received_at as u64, row.id.clone());
            // An event this build cannot read (a newer type) is left out of the day, not fatal to it.
            events.extend(day_event(row));
        }
        if !full {
            break;
        }
    }
    let event_count = events.len();

    let lead_rows: Vec<LeadRow> = db
        .query("SELECT data FROM leads WHERE site = ?1 AND created_at >= ?2 AND created_at < ?3", &[&site, &start, &end])
        .all("reading a day's leads")
        .await?;
    let leads: Vec<(Lead, String)> = lead_rows
        .iter()
        .filter_map(|row| serde_json::from_str::<Lead>(&row.data).ok())
        .map(|lead| {
            let id = WebhookEvent::LeadCreated(lead.clone()).message_id();
            (lead, id)
        })
        .collect();
    let ids = serde_json::to_string(&leads.iter().map(|(_, id)| id).collect::<Vec<_>>()).map_err(|e| internal("encoding ids", e))?;
    let delivered: Vec<EventIdRow> = db
        .query(
            "SELECT DISTINCT event FROM deliveries WHERE event IN (SELECT value FROM json_each(?1)) \
             AND target LIKE 'endpoint:%' AND state = ?2",
            &[&ids, &DeliveryState::Delivered],
        )
        .all("reading a day's deliveries")
        .await?;
    let day_leads: Vec<DayLead> = leads
        .into_iter()
        .map(|(lead, id)| DayLead { visitor: lead.visitor, prompt: lead.prompt, delivered: delivered.iter().any(|d| d.event == id) })
        .collect();
    let chats: Vec<ChatRow> = db
        .query(
            "SELECT visitor_id, first_reply_at IS NOT NULL AS answered FROM chat_conversations WHERE site = ?1 AND opened_at >= ?2 AND opened_at < ?3",
            &[&site, &start, &end],
        )
        .all("reading a day's conversations")
        .await?;
    let chats: Vec<DayChat> = chats.into_iter().map(|c| DayChat { visitor: c.visitor_id, answered: c.answered != 0.0 }).collect();

    let earlier = prompt_history(db, site, &events, start).await?;
    let shop = shop_timeline(db, config, day).await?;
    let rows = fold_day(&config.widget, DayInput { events, earlier, leads: day_leads, chats, shop });
    write(db, site, day, &rows, is_final(day, now), now, event_count).await?;
    Ok(rows.len())
}

/// The prompt events ([`HISTORY_KINDS`]) the visitors of `events` sent before `before_ms`, still
/// kept: what the widget remembers of them when their day starts. One query per
/// [`VISITORS_PER_QUERY`] visitors, each an index range of theirs.
async fn prompt_history(db: &Db, site: &str, events: &[DayEvent], before_ms: u64) -> Result<Vec<DayEvent>, ApiError> {
    let mut visitors: Vec<&str> = events.iter().map(|e| e.visitor.as_str()).collect();
    visitors.sort_unstable();
    visitors.dedup();
    let kinds = serde_json::to_string(&HISTORY_KINDS).map_err(|e| internal("encoding kinds", e))?;
    let mut history = Vec::new();
    for chunk in visitors.chunks(VISITORS_PER_QUERY) {
        let ids = serde_json::to_string(chunk).map_err(|e| internal("encoding visitors", e))?;
        let page: Vec<EventRow> = db
            .query(
                // `+received_at`: by each visitor's index entries (site, visitor, at), never by a
                // range of arrival times, which would scan every earlier event of the site.
                "SELECT id, visitor, at, received_at, data, device, language FROM events \
                 WHERE site = ?1 AND visitor IN (SELECT value FROM json_each(?2)) AND +received_at < ?3 \
                 AND type IN (SELECT value FROM json_each(?4))",
                &[&site, &ids, &before_ms, &kinds],
            )
            .all("reading the visitors' earlier prompts")
            .await?;
        history.extend(page.into_iter().filter_map(day_event));
    }
    Ok(history)
}

/// A stored event as the fold reads it; `None` for one this build cannot read (a newer type).
fn day_event(row: EventRow) -> Option<DayEvent> {
    let data = serde_json::from_str::<EventData>(&row.data).ok()?;
    Some(DayEvent {
        visitor: row.visitor,
        device: row.device.as_deref().and_then(Device::parse),
        language: row.language,
        event: Event { id: row.id, at: row.at as u64, data },
    })
}

/// The shop through `day`: its clock's offset at each hour (the runtime's zone data; a zone it
/// does not know reads as UTC) and the presence changes its hub recorded, with the last before.
async fn shop_timeline(db: &Db, config: &SiteConfig, day: Day) -> Result<ShopTimeline, ApiError> {
    const HOUR_MS: u64 = 3_600_000;
    let zone = &config.widget.timezone;
    let hours = (0..=24).map(|h| day.start_ms() + h * HOUR_MS);
    let (offset_before, offsets) = ShopTimeline::offsets_from(hours.map(|at| (at, crate::platform::zone::offset_minutes(zone, at).unwrap_or(0))));
    let changes: Vec<PresenceRow> = db
        .query(
            "SELECT at, online FROM presence_changes WHERE site = ?1 AND at < ?3 AND at >= \
             (SELECT COALESCE(MAX(at), 0) FROM presence_changes WHERE site = ?1 AND at < ?2) ORDER BY at",
            &[&config.site.as_str(), &day.start_ms(), &day.end_ms()],
        )
        .all("reading a day's presence changes")
        .await?;
    let mut changes: Vec<(u64, bool)> = changes.into_iter().map(|row| (row.at as u64, row.online != 0.0)).collect();
    let online_before = match changes.first() {
        Some((at, online)) if *at < day.start_ms() => {
            let online = *online;
            changes.remove(0);
            online
        }
        _ => false,
    };
    Ok(ShopTimeline { offset_before, offsets, online_before, presence: changes })
}

#[derive(Deserialize)]
struct PresenceRow {
    at: f64,
    online: f64,
}

async fn write(db: &Db, site: &str, day: Day, rows: &[RollupRow], is_final: bool, now: u64, events: usize) -> Result<(), ApiError> {
    const DOING: &str = "writing a day's rollup";
    let day_n = day.0 as u64;
    let columns = floorwalker_core::insights::rollup::Counts::COLUMNS;
    let names = columns.join(", ");
    let values: String = columns.iter().map(|c| format!(", json_extract(value, '$.{c}')")).collect();
    let insert = format!(
        "INSERT INTO funnel_rollups (site, day, prompt, experiment, variant, source, device, locale, {names}) \
         SELECT ?1, ?2, json_extract(value, '$.prompt'), json_extract(value, '$.experiment'), json_extract(value, '$.variant'), \
         json_extract(value, '$.source'), json_extract(value, '$.device'), json_extract(value, '$.locale'){values} FROM json_each(?3)"
    );
    let mut statements = vec![db.query("DELETE FROM funnel_rollups WHERE site = ?1 AND day = ?2", &[&site, &day_n]).statement(DOING)?];
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let json = serde_json::to_string(chunk).map_err(|e| internal("encoding rollup rows", e))?;
        statements.push(db.query(&insert, &[&site, &day_n, &json]).statement(DOING)?);
    }
    statements.push(
        db.query(
            "INSERT OR REPLACE INTO funnel_days (site, day, rolled_at, final, events) VALUES (?1, ?2, ?3, ?4, ?5)",
            &[&site, &day_n, &now, &is_final, &(events as u64)],
        )
        .statement(DOING)?,
    );
    db.batch(statements, DOING).await?;
    Ok(())
}

#[derive(Deserialize)]
struct SiteRow {
    config: String,
}

/// The cron's part: every site's due days (today's refresh, days that settled, history not rolled
/// up yet within the events' retention), newest first, until the time budget is spent. Answers
/// how many days it rolled up.
pub async fn run(env: &Env, now: u64) -> Result<u32, ApiError> {
    let started = http::now_ms();
    let db = db(env)?;
    let sites: Vec<SiteRow> = db.query("SELECT config FROM sites ORDER BY id LIMIT ?1", &[&CRON_SITES]).all("listing sites").await?;
    let keep_days = (RetentionPolicy::default().events_days as i64).max(1);
    let today = Day::of_ms(now);
    let mut rolled = 0;
    for row in sites {
        let Ok(config) = serde_json::from_str::<SiteConfig>(&row.config) else { continue };
        let range = (today.0 - keep_days..=today.0).map(Day);
        for day in due(&db, &config.site, range, now, REFRESH_MS).await? {
            if rolled >= CRON_DAYS || http::now_ms().saturating_sub(started) > CRON_BUDGET_MS {
                return Ok(rolled);
            }
            roll_up(&db, &config, day, now).await?;
            rolled += 1;
        }
    }
    Ok(rolled)
}

/// The scheduled run: logs one line, never fails the invocation.
pub async fn scheduled(env: &Env) {
    match run(env, http::now_ms()).await {
        Ok(0) => {}
        Ok(n) => worker::console_log!("funnel: rolled up {n} days"),
        Err(error) => worker::console_error!("funnel: {error}"),
    }
}

/// `POST /v1/admin/funnel/run`: the cron's part now (admin token only), answered with how many
/// days it rolled up; for a back-fill after an import, and for tests.
pub async fn run_now(env: &Env) -> Result<Response, ApiError> {
    http::json(&serde_json::json!({"rolled_up": run(env, http::now_ms()).await?}), 200)
}
