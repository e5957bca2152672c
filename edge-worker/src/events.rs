//! `POST /v1/events`: a batch of visitor events, validated by core and stored in D1.
//!
//! The hottest route, so its rate limit costs no extra round trip: the counters' upserts go in
//! the same D1 batch as the events, and each insert is guarded by the counters, so a batch over a
//! limit counts and stores nothing.

use floorwalker_core::access::public_limits::PublicRoute;
use floorwalker_core::access::throttle::Counter;
use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::base::wire;
use floorwalker_core::visitor::OLDEST_BATCH_VERSION;
use floorwalker_core::prompts::card::preview_products;
use floorwalker_core::insights::rollup::{language_of, Device};
use floorwalker_core::visitor::event::{Event, EventBatch, EventData, MAX_BATCH_BYTES, StoredEvent};
use serde::Deserialize;
use worker::{Env, Request, Response};

use crate::http::{self, internal};
use crate::platform::d1::{db, Param};
use crate::{chat, cors, rate_limit, sites};

pub async fn ingest(mut req: Request, env: &Env) -> Result<Response, ApiError> {
    let origin = http::header(&req, "origin")
        .ok_or_else(|| ApiError::new(ErrorCode::OriginNotAllowed, "events are accepted only from a browser page (Origin header)"))?;
    // `?wire=N`: the widget's compact form (core's `base::wire`), in the version it was built for;
    // JSON otherwise, for people and tools.
    // Versions back to OLDEST_BATCH_VERSION too: a tab opened before a release keeps sending in
    // the form its widget was built for, and its visitor's events must not be lost for it.
    let readable = |version: &str| version.parse::<u8>().is_ok_and(|v| (OLDEST_BATCH_VERSION..=wire::VERSION).contains(&v));
    let batch: EventBatch = match http::query_param(&req, "wire") {
        None => http::read_json(&mut req, MAX_BATCH_BYTES).await?,
        Some(version) if readable(&version) => {
            let bytes = http::read_bytes(&mut req, MAX_BATCH_BYTES).await?;
            EventBatch::from_wire(&bytes).ok_or_else(|| ApiError::new(ErrorCode::InvalidJson, format!("the body is not an event batch in wire form version {version}")))?
        }
        Some(version) => {
            return Err(ApiError::new(
                ErrorCode::UnsupportedVersion,
                format!("wire form version {version:?} is not read; this worker reads versions {OLDEST_BATCH_VERSION} to {}", wire::VERSION),
            ))
        }
    };
    let now = http::now_ms();
    batch.validate_received(now)?;
    let config = sites::require(env, &batch.site).await?;
    let counters = PublicRoute::Events.counters(&batch.site, &rate_limit::client(&req), Some(&batch.visitor));
    if !config.allows_origin(&origin) {
        // Counted too, so a flood from a foreign page is refused with 429, not recorded refusal by refusal.
        if let Some(retry_after_s) = rate_limit::hit(env, &counters, now).await? {
            return rate_limit::too_many(retry_after_s, None);
        }
        cors::require_listed(env, &config, &origin).await?;
    }
    // Classes only (core::insights::rollup), for the owner's funnel; the headers are not kept.
    let request = RequestClass {
        device: Device::from_request(http::header(&req, "user-agent").as_deref(), http::header(&req, "sec-ch-ua-mobile").as_deref()),
        language: language_of(http::header(&req, "accept-language").as_deref()),
    };
    let stored = match store(env, &batch, &request, &counters, now).await? {
        Stored::Refused { retry_after_s } => return rate_limit::too_many(retry_after_s, Some(&origin)),
        Stored::New(stored) => stored,
    };
    // A visitor in a chat who moved on: the operators see it now (`chat::live`). A failure there
    // loses nothing (the events are stored; the next batch or a reload brings it).
    if stored > 0 && batch.events.iter().any(|e| e.data.moves_context()) {
        if let Err(e) = chat::live::visitor_moved(env, &batch.site, &batch.visitor).await {
            worker::console_error!("live context: {}", e.message);
        }
    }
    let mut response = http::json(&serde_json::json!({"accepted": batch.events.len(), "stored": stored}), 202)?;
    cors::allow_origin(&mut response, &origin)?;
    Ok(response)
}

/// What the funnel keeps of the request that carried a batch.
struct RequestClass {
    device: Option<Device>,
    language: Option<String>,
}

enum Stored {
    /// How many events were new (a retried batch's are skipped).
    New(usize),
    /// Over a limit: nothing was stored.
    Refused { retry_after_s: u64 },
}

/// Counts the request on `counters` and inserts the batch, in one D1 transaction. Events already
/// stored (a retried batch) are skipped; when any counter is over its limit none is inserted.
async fn store(env: &Env, batch: &EventBatch, request: &RequestClass, counters: &[Counter], received_at: u64) -> Result<Stored, ApiError> {
    const DOING: &str = "storing events";
    let db = db(env)?;
    let mut statements = counters.iter().map(|counter| rate_limit::hit_statement(&db, counter, received_at)).collect::<Result<Vec<_>, _>>()?;
    // ?11.. : (key, window, max) of each counter; the insert happens only if none is over.
    let guard: String = (0..counters.len())
        .map(|i| {
            let n = 11 + 3 * i;
            format!(" AND NOT EXISTS (SELECT 1 FROM rate_limits WHERE key = ?{n} AND window = ?{} AND count > ?{})", n + 1, n + 2)
        })
        .collect();
    let sql = format!(
        "INSERT OR IGNORE INTO events (site, id, visitor, session, type, at, received_at, data, device, language) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 WHERE 1{guard}"
    );
    let windows: Vec<u64> = counters.iter().map(|counter| counter.window(received_at)).collect();
    let device = request.device.map(Device::as_str);
    for event in &batch.events {
        let data = serde_json::to_string(&event.data).map_err(|e| internal("encoding an event", e))?;
        let kind = event.data.kind();
        let mut params: Vec<&dyn Param> =
            vec![&batch.site, &event.id, &batch.visitor, &batch.session, &kind, &event.at, &received_at, &data, &device, &request.language];
        for (counter, window) in counters.iter().zip(&windows) {
            params.extend([&counter.key as &dyn Param, window, &counter.limit.max]);
        }
        statements.push(db.query(&sql, &params).statement(DOING)?);
    }
    let results = db.batch(statements, DOING).await?;
    let (counted, inserted) = results.split_at(counters.len());
    if let Some(retry_after_s) = rate_limit::verdict_of(counters, counted, received_at) {
        return Ok(Stored::Refused { retry_after_s });
    }
    let mut written = 0;
    for result in inserted {
        if let Ok(Some(meta)) = result.meta() {
            written += meta.changes.unwrap_or(0);
        }
    }
    Ok(Stored::New(written))
}

#[derive(Deserialize)]
struct EventRow {
    id: String,
    visitor: String,
    session: String,
    at: f64,
    received_at: f64,
    data: String,
}

/// Which stored events to read back, and in which order.
pub struct EventPage<'a> {
    pub site: &'a str,
    pub visitor: Option<&'a str>,
    /// Newest first (the admin listing) or oldest first (an export, page by page).
    pub newest_first: bool,
    pub limit: u32,
    pub offset: u32,
}

/// Stored events as core's type (the admin listing, a visitor's export).
pub async fn stored(env: &Env, page: EventPage<'_>) -> Result<Vec<StoredEvent>, ApiError> {
    let sql = if page.newest_first {
        "SELECT id, visitor, session, at, received_at, data FROM events \
         WHERE site = ?1 AND (?2 IS NULL OR visitor = ?2) ORDER BY at DESC, id LIMIT ?3 OFFSET ?4"
    } else {
        "SELECT id, visitor, session, at, received_at, data FROM events \
         WHERE site = ?1 AND (?2 IS NULL OR visitor = ?2) ORDER BY at, id LIMIT ?3 OFFSET ?4"
    };
    let rows: Vec<EventRow> =
        db(env)?.query(sql, &[&page.site, &page.visitor, &page.limit, &page.offset]).all("listing events").await?;
    rows.into_iter()
        .map(|row| {
            let data = serde_json::from_str(&row.data).map_err(|e| internal("decoding a stored event", e))?;
            Ok(StoredEvent {
                visitor: row.visitor,
                session: row.session,
                received_at: row.received_at as u64,
                event: Event { id: row.id, at: row.at as u64, data },
            })
        })
        .collect()
}

/// How many of the newest product views [`recent_products`] reads.
const PRODUCT_VIEWS_READ: u32 = 40;

/// `GET /v1/admin/sites/:site/products/recent`: two of the shop's own products, from its
/// visitors' latest product views (core's `preview_products`), for the owner's card preview.
pub async fn recent_products(env: &Env, site: &str) -> Result<Response, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        data: String,
    }
    sites::require(env, site).await?;
    // `events_by_site_received` walks back from the newest until enough product views are found.
    let rows: Vec<Row> = db(env)?
        .query(
            "SELECT data FROM events WHERE site = ?1 AND type = 'product_view' ORDER BY received_at DESC LIMIT ?2",
            &[&site, &PRODUCT_VIEWS_READ],
        )
        .all("reading product views")
        .await?;
    let viewed = rows.iter().filter_map(|row| match serde_json::from_str(&row.data) {
        Ok(EventData::ProductView(view)) => Some(view.product),
        _ => None,
    });
    http::json(&preview_products(viewed), 200)
}
