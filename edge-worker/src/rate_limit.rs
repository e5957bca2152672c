//! Rate limits on the worker's routes: fixed-window counters in D1, one upsert per counter, all of a
//! request's counters in one batch. D1 rather than a Durable Object: it needs no extra binding and
//! one round trip; core's `access::throttle` decides keys, windows and the verdict.

use floorwalker_core::access::throttle::{client_key, rate_limited, verdict, Counter};
use floorwalker_core::base::error::ApiError;
use serde::Deserialize;
use worker::{D1PreparedStatement, Env, Request, Response};

use crate::http::{self, internal};
use crate::platform::d1::{db, Db};
use crate::cors;

/// Whom the request is counted as: its client address as Cloudflare reports it, IPv6 by /64.
pub fn client(req: &Request) -> String {
    client_key(http::header(req, "cf-connecting-ip").as_deref())
}

#[derive(Deserialize)]
struct CountRow {
    count: f64,
}

/// The upsert that counts one hit on `counter`, returning the count; for callers that batch it
/// with their own writes (then [`verdict_of`] reads the results).
pub fn hit_statement(db: &Db, counter: &Counter, now_ms: u64) -> Result<D1PreparedStatement, ApiError> {
    db.query(
        "INSERT INTO rate_limits (key, window, count) VALUES (?1, ?2, 1) \
         ON CONFLICT (key, window) DO UPDATE SET count = count + 1 RETURNING count",
        &[&counter.key, &counter.window(now_ms)],
    )
    .statement("counting requests")
}

/// Counts one hit on every counter, in one D1 batch. `Some(retry_after_s)` when any is over its limit.
pub async fn hit(env: &Env, counters: &[Counter], now_ms: u64) -> Result<Option<u64>, ApiError> {
    let db = db(env)?;
    let statements = counters.iter().map(|counter| hit_statement(&db, counter, now_ms)).collect::<Result<Vec<_>, _>>()?;
    let results = db.batch(statements, "counting requests").await?;
    Ok(verdict_of(counters, &results, now_ms))
}

/// The verdict from the results of the counters' upserts, in the same order as `counters`.
pub fn verdict_of(counters: &[Counter], results: &[worker::D1Result], now_ms: u64) -> Option<u64> {
    let counted: Vec<(&Counter, u32)> = counters
        .iter()
        .zip(results)
        .map(|(counter, result)| {
            let count = result.results::<CountRow>().ok().and_then(|rows| rows.first().map(|row| row.count as u32)).unwrap_or(0);
            (counter, count)
        })
        .collect();
    verdict(&counted, now_ms)
}

/// The 429 answer: `Retry-After` set and, for a page that may read the response (`origin` is
/// one the site allows), exposed to it.
pub fn too_many(retry_after_s: u64, origin: Option<&str>) -> Result<Response, ApiError> {
    let mut response = cors::error_response(&rate_limited(retry_after_s), origin).map_err(|e| internal("building the response", e))?;
    http::set(response.headers_mut(), "retry-after", &retry_after_s.to_string())?;
    if origin.is_some() {
        http::set(response.headers_mut(), "access-control-expose-headers", "retry-after")?;
    }
    Ok(response)
}

/// Counts the hits and, when over a limit, the 429 to answer with instead of handling the request.
pub async fn check(env: &Env, counters: &[Counter], now_ms: u64, origin: Option<&str>) -> Result<Option<Response>, ApiError> {
    match hit(env, counters, now_ms).await? {
        Some(retry_after) => Ok(Some(too_many(retry_after, origin)?)),
        None => Ok(None),
    }
}
