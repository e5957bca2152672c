//! Per-site settings in D1: delivery (`core::delivery::SiteDelivery`), retention
//! (`core::upkeep::retention::SiteRetention`) and the shop's mail (`core::outbound::email::MailSettings`,
//! read here, edited through `mail_settings`).

use floorwalker_core::base::error::ApiError;
use floorwalker_core::outbound::delivery::SiteDelivery;
use floorwalker_core::outbound::email::MailSettings;
use floorwalker_core::upkeep::retention::SiteRetention;
use worker::{D1PreparedStatement, D1Result, Env};

use crate::http::internal;
use crate::platform::d1::{db, rows, Db};

/// The site's settings, or the defaults when the owner has not set any.
pub async fn load(env: &Env, site: &str) -> Result<SiteDelivery, ApiError> {
    let db = db(env)?;
    let result = db.batch(vec![load_statement(&db, site)?], LOADING).await?;
    loaded(result.first().ok_or_else(|| internal(LOADING, "no result"))?)
}

const LOADING: &str = "loading delivery settings";
const LOADING_MAIL: &str = "loading email settings";

/// The site's stored email settings, or the defaults.
pub async fn mail(env: &Env, site: &str) -> Result<MailSettings, ApiError> {
    let db = db(env)?;
    let result = db.batch(vec![mail_statement(&db, site)?], LOADING_MAIL).await?;
    mail_loaded(result.first().ok_or_else(|| internal(LOADING_MAIL, "no result"))?)
}

/// The statement [`load`] runs, for a caller that batches it with its own reads; [`loaded`]
/// reads its result.
pub fn load_statement(db: &Db, site: &str) -> Result<D1PreparedStatement, ApiError> {
    db.query("SELECT settings FROM site_delivery WHERE site = ?1", &[&site]).statement(LOADING)
}

/// The settings a [`load_statement`] found, or the defaults.
pub fn loaded(result: &D1Result) -> Result<SiteDelivery, ApiError> {
    stored_or_default(result, LOADING)
}

/// The statement [`mail`] runs, for a caller that batches it with its own reads; [`mail_loaded`]
/// reads its result.
pub fn mail_statement(db: &Db, site: &str) -> Result<D1PreparedStatement, ApiError> {
    db.query("SELECT settings FROM site_mail WHERE site = ?1", &[&site]).statement(LOADING_MAIL)
}

/// The email settings a [`mail_statement`] found, or the defaults.
pub fn mail_loaded(result: &D1Result) -> Result<MailSettings, ApiError> {
    stored_or_default(result, LOADING_MAIL)
}

/// The `settings` column's JSON of the one row a statement found, or the owner's choice not made yet.
fn stored_or_default<T: serde::de::DeserializeOwned + Default>(result: &D1Result, doing: &str) -> Result<T, ApiError> {
    #[derive(serde::Deserialize)]
    struct Row {
        settings: String,
    }
    match rows::<Row>(result, doing)?.first() {
        Some(row) => serde_json::from_str(&row.settings).map_err(|e| internal(doing, e)),
        None => Ok(T::default()),
    }
}

pub async fn store(env: &Env, site: &str, settings: &SiteDelivery, now_ms: u64) -> Result<(), ApiError> {
    let json = serde_json::to_string(settings).map_err(|e| internal("encoding delivery settings", e))?;
    db(env)?
        .query(
            "INSERT INTO site_delivery (site, settings, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (site) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
            &[&site, &json, &now_ms],
        )
        .run("storing delivery settings")
        .await
}

/// The site's own retention periods and idle close (`core::upkeep::retention::SiteRetention`),
/// or the defaults when the owner has chosen none.
pub async fn retention(env: &Env, site: &str) -> Result<SiteRetention, ApiError> {
    let stored: Option<String> = db(env)?
        .query("SELECT settings FROM site_retention WHERE site = ?1", &[&site])
        .first_column("settings", "loading retention settings")
        .await?;
    match stored {
        Some(json) => serde_json::from_str(&json).map_err(|e| internal("decoding retention settings", e)),
        None => Ok(SiteRetention::default()),
    }
}

pub async fn store_retention(env: &Env, site: &str, settings: &SiteRetention, now_ms: u64) -> Result<(), ApiError> {
    let json = serde_json::to_string(settings).map_err(|e| internal("encoding retention settings", e))?;
    db(env)?
        .query(
            "INSERT INTO site_retention (site, settings, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (site) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
            &[&site, &json, &now_ms],
        )
        .run("storing retention settings")
        .await
}
