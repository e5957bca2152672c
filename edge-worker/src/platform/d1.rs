//! The `DB` binding (D1) with typed parameters and one error path.
//!
//! ```ignore
//! let leads: Vec<LeadRow> = db.query("SELECT data FROM leads WHERE site = ?1 LIMIT ?2", &[&site, &limit]).all("listing leads").await?;
//! ```
//!
//! A failure to bind or to run becomes core's `internal` error worded with what was being done
//! (`"listing leads failed; please retry"`), logged once. workers-rs's `query!` would still leave
//! a `map_err` at every call, and its `D1Type::Integer` is an `i32`, too small for the
//! millisecond timestamps most rows carry.

use floorwalker_core::base::error::ApiError;
use floorwalker_core::outbound::delivery::DeliveryState;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result, Env};

use crate::http::internal;

/// The name of the D1 binding in wrangler.toml.
const BINDING: &str = "DB";

/// The worker's database.
pub struct Db(D1Database);

/// Opens the `DB` binding.
pub fn db(env: &Env) -> Result<Db, ApiError> {
    env.d1(BINDING).map(Db).map_err(|e| internal("opening D1", e))
}

/// A value a statement can bind: text, a number, or NULL for `None`.
pub trait Param {
    fn to_js(&self) -> JsValue;
}

impl Param for str {
    fn to_js(&self) -> JsValue {
        JsValue::from_str(self)
    }
}

impl Param for String {
    fn to_js(&self) -> JsValue {
        JsValue::from_str(self)
    }
}

/// D1 takes JS numbers: exact up to 2^53, far beyond any timestamp, count or limit stored here.
impl Param for u64 {
    fn to_js(&self) -> JsValue {
        JsValue::from_f64(*self as f64)
    }
}

impl Param for u32 {
    fn to_js(&self) -> JsValue {
        JsValue::from_f64(f64::from(*self))
    }
}

impl Param for u16 {
    fn to_js(&self) -> JsValue {
        JsValue::from_f64(f64::from(*self))
    }
}

/// Stored as the integers 1 and 0.
impl Param for bool {
    fn to_js(&self) -> JsValue {
        JsValue::from_f64(if *self { 1.0 } else { 0.0 })
    }
}

/// A delivery's `state` column holds core's names for the states, never literals of ours.
impl Param for DeliveryState {
    fn to_js(&self) -> JsValue {
        JsValue::from_str(self.as_str())
    }
}

impl<T: Param> Param for Option<T> {
    fn to_js(&self) -> JsValue {
        self.as_ref().map_or(JsValue::NULL, Param::to_js)
    }
}

impl<T: Param + ?Sized> Param for &T {
    fn to_js(&self) -> JsValue {
        (**self).to_js()
    }
}

/// One SQL statement and its parameters, not yet run.
pub struct Query<'a> {
    db: &'a D1Database,
    sql: &'a str,
    params: Vec<JsValue>,
}

impl Db {
    /// The statement `sql` with `params` bound to `?1`, `?2`, ... in order.
    pub fn query<'a>(&'a self, sql: &'a str, params: &[&dyn Param]) -> Query<'a> {
        Query { db: &self.0, sql, params: params.iter().map(|param| param.to_js()).collect() }
    }

    /// Runs `statements` in one transaction (all or nothing).
    pub async fn batch(&self, statements: Vec<D1PreparedStatement>, doing: &str) -> Result<Vec<D1Result>, ApiError> {
        self.try_batch(statements).await.map_err(|e| internal(doing, e))
    }

    /// [`Db::batch`] for callers that handle a failed transaction themselves (a primary key
    /// taken by a concurrent request is an answer, not a fault).
    pub async fn try_batch(&self, statements: Vec<D1PreparedStatement>) -> worker::Result<Vec<D1Result>> {
        count_round_trip();
        self.0.batch(statements).await
    }
}

impl Query<'_> {
    /// The bound statement, for [`Db::batch`] or to inspect a failure (`.run()`).
    pub fn statement(self, doing: &str) -> Result<D1PreparedStatement, ApiError> {
        self.db.prepare(self.sql).bind(&self.params).map_err(|e| internal(doing, e))
    }

    /// The first row, if any.
    pub async fn first<T: DeserializeOwned>(self, doing: &str) -> Result<Option<T>, ApiError> {
        count_round_trip();
        self.statement(doing)?.first(None).await.map_err(|e| internal(doing, e))
    }

    /// One column of the first row, if there is a row.
    pub async fn first_column<T: DeserializeOwned>(self, column: &str, doing: &str) -> Result<Option<T>, ApiError> {
        count_round_trip();
        self.statement(doing)?.first(Some(column)).await.map_err(|e| internal(doing, e))
    }

    /// Every row.
    pub async fn all<T: DeserializeOwned>(self, doing: &str) -> Result<Vec<T>, ApiError> {
        count_round_trip();
        self.statement(doing)?.all().await.and_then(|result| result.results()).map_err(|e| internal(doing, e))
    }

    /// Runs a statement that returns no rows.
    pub async fn run(self, doing: &str) -> Result<(), ApiError> {
        count_round_trip();
        self.statement(doing)?.run().await.map_err(|e| internal(doing, e))?;
        Ok(())
    }

    /// Runs a statement that returns no rows and says how many rows it changed.
    pub async fn run_counting(self, doing: &str) -> Result<u64, ApiError> {
        count_round_trip();
        let result = self.statement(doing)?.run().await.map_err(|e| internal(doing, e))?;
        Ok(changes(&result))
    }
}

fn count_round_trip() {
    super::tally::count(super::tally::Tally::D1RoundTrip);
}

/// How many rows a statement changed (0 when D1 does not say).
pub fn changes(result: &D1Result) -> u64 {
    result.meta().ok().flatten().and_then(|meta| meta.changes).map_or(0, |n| n as u64)
}

/// The rows one statement of a [`Db::batch`] returned.
pub fn rows<T: DeserializeOwned>(result: &D1Result, doing: &str) -> Result<Vec<T>, ApiError> {
    result.results().map_err(|e| internal(doing, e))
}
