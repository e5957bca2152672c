//! Site configs in D1.

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::prompts::config::SiteConfig;
use floorwalker_core::base::ids::validate_site_id;
use worker::{D1PreparedStatement, D1Result, Env};

use crate::http::internal;
use crate::platform::d1::{db, Db};

const LOAD_SQL: &str = "SELECT config FROM sites WHERE id = ?1";
const LOADING: &str = "querying the site";

/// The stored config of `site`, or `None` when there is no such site.
pub async fn load(env: &Env, site: &str) -> Result<Option<SiteConfig>, ApiError> {
    validate_site_id(site)?;
    let stored: Option<String> = db(env)?.query(LOAD_SQL, &[&site]).first_column("config", LOADING).await?;
    stored.map(|json| decode(&json)).transpose()
}

/// The statement [`load`] runs, for a caller that batches it with its own (a rate limit's
/// counters); [`loaded`] reads its result.
pub fn load_statement(db: &Db, site: &str) -> Result<D1PreparedStatement, ApiError> {
    validate_site_id(site)?;
    db.query(LOAD_SQL, &[&site]).statement(LOADING)
}

/// The config a [`load_statement`] found, if any.
pub fn loaded(result: &D1Result) -> Result<Option<SiteConfig>, ApiError> {
    #[derive(serde::Deserialize)]
    struct Row {
        config: String,
    }
    let rows: Vec<Row> = result.results().map_err(|e| internal(LOADING, e))?;
    rows.first().map(|row| decode(&row.config)).transpose()
}

fn decode(json: &str) -> Result<SiteConfig, ApiError> {
    serde_json::from_str(json).map_err(|e| internal("decoding a stored config", e))
}

/// The config of `site`, or `unknown_site`.
pub async fn require(env: &Env, site: &str) -> Result<SiteConfig, ApiError> {
    load(env, site).await?.ok_or_else(|| unknown(site))
}

/// The answer for a site that does not exist.
pub fn unknown(site: &str) -> ApiError {
    ApiError::new(ErrorCode::UnknownSite, format!("there is no site {site:?}"))
}

pub async fn any_site_allows(env: &Env, origin: &str) -> Result<bool, ApiError> {
    let Some(origin) = floorwalker_core::prompts::config::normalize_origin(origin) else {
        return Ok(false);
    };
    let site: Option<String> = db(env)?
        .query("SELECT site FROM site_origins WHERE origin = ?1 LIMIT 1", &[&origin])
        .first_column("site", "querying origins")
        .await?;
    Ok(site.is_some())
}

/// Stores a config that has already been validated, replacing the site's previous one.
pub async fn store(env: &Env, config: &SiteConfig, now_ms: u64) -> Result<(), ApiError> {
    const DOING: &str = "storing the config";
    let db = db(env)?;
    refuse_origins_of_other_sites(&db, config).await?;
    let json = serde_json::to_string(config).map_err(|e| internal("encoding the config", e))?;
    let site = config.site.as_str();
    let mut statements = vec![
        db.query(
            "INSERT INTO sites (id, config, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at",
            &[&site, &json, &now_ms],
        )
        .statement(DOING)?,
        db.query("DELETE FROM site_origins WHERE site = ?1", &[&site]).statement(DOING)?,
    ];
    for origin in &config.origins {
        statements.push(db.query("INSERT INTO site_origins (origin, site) VALUES (?1, ?2)", &[origin, &site]).statement(DOING)?);
    }
    db.batch(statements, DOING).await?;
    Ok(())
}

/// `origin_taken` when another site already lists one of the config's origins.
async fn refuse_origins_of_other_sites(db: &Db, config: &SiteConfig) -> Result<(), ApiError> {
    #[derive(serde::Deserialize)]
    struct Claim {
        origin: String,
        site: String,
    }
    let origins = serde_json::to_string(&config.origins).map_err(|e| internal("encoding the origins", e))?;
    let claim: Option<Claim> = db
        .query(
            "SELECT origin, site FROM site_origins WHERE site <> ?1 AND origin IN (SELECT value FROM json_each(?2)) LIMIT 1",
            &[&config.site, &origins],
        )
        .first("checking the origins")
        .await?;
    claim.map_or(Ok(()), |claim| Err(floorwalker_core::prompts::config::origin_taken(&claim.origin, &claim.site)))
}
