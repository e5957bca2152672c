//! Site configs in D1.

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::prompts::config::{changed_meanwhile, SiteConfig};
use floorwalker_core::base::ids::validate_site_id;
use worker::{D1PreparedStatement, D1Result, Env};

use crate::http::internal;
use crate::platform::d1::{changes, db, Db};
use crate::platform::random::random_bytes;

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
    write(env, config, None, now_ms).await.map(|_| ())
}

/// The config of `site` with its stored text, whose [`revision_tag`] is the config's revision.
pub async fn require_stored(env: &Env, site: &str) -> Result<(SiteConfig, String), ApiError> {
    validate_site_id(site)?;
    let stored: Option<String> = db(env)?.query(LOAD_SQL, &[&site]).first_column("config", LOADING).await?;
    let stored = stored.ok_or_else(|| unknown(site))?;
    Ok((decode(&stored)?, stored))
}

/// Stores `config` only if the site's config is still `previous` (its stored text): `false`, and
/// nothing changed, when someone stored another meanwhile.
pub async fn store_over(env: &Env, previous: &str, config: &SiteConfig, now_ms: u64) -> Result<bool, ApiError> {
    write(env, config, Some(previous), now_ms).await
}

/// How often a read-change-store is redone when others keep storing in between, and the most it
/// waits before the next try (times the attempts so far, jittered so the writers spread out).
const UPDATE_ATTEMPTS: u64 = 12;
const UPDATE_BACKOFF_MS: u64 = 15;

/// Reads the site's config, applies `change` and stores the result, redoing all three when someone
/// stored another config in between, so that two changes made at the same time (an origin added
/// on the Install screen while a prompt is saved) both land instead of the second undoing the
/// first. `change` validates; its error is the answer, and `None` from it means nothing to store
/// (the stored config is the answer).
pub async fn update(
    env: &Env,
    site: &str,
    change: impl Fn(&SiteConfig) -> Result<Option<SiteConfig>, ApiError>,
) -> Result<SiteConfig, ApiError> {
    for attempt in 1..=UPDATE_ATTEMPTS {
        let (stored, text) = require_stored(env, site).await?;
        let Some(changed) = change(&stored)? else { return Ok(stored) };
        if store_over(env, &text, &changed, crate::http::now_ms()).await? {
            return Ok(changed);
        }
        let wait = UPDATE_BACKOFF_MS * attempt * u64::from(random_bytes::<1>()?[0]) / 255;
        worker::Delay::from(std::time::Duration::from_millis(wait)).await;
    }
    Err(changed_meanwhile())
}

/// The config, its origins and their index in one batch; with `previous`, only over that stored
/// text (`Ok(false)` when it was not the stored one).
async fn write(env: &Env, config: &SiteConfig, previous: Option<&str>, now_ms: u64) -> Result<bool, ApiError> {
    const DOING: &str = "storing the config";
    let db = db(env)?;
    refuse_origins_of_other_sites(&db, config).await?;
    let json = serde_json::to_string(config).map_err(|e| internal("encoding the config", e))?;
    let site = config.site.as_str();
    let config_row = match previous {
        None => db.query(
            "INSERT INTO sites (id, config, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at",
            &[&site, &json, &now_ms],
        ),
        Some(previous) => {
            db.query("UPDATE sites SET config = ?2, updated_at = ?3 WHERE id = ?1 AND config = ?4", &[&site, &json, &now_ms, &previous])
        }
    };
    // The origins follow the config only where it is now this one (the batch is one transaction,
    // so a refused conditional update leaves the origins as they were).
    let mut statements = vec![
        config_row.statement(DOING)?,
        db.query("DELETE FROM site_origins WHERE site = ?1 AND (SELECT config FROM sites WHERE id = ?1) = ?2", &[&site, &json])
            .statement(DOING)?,
    ];
    for origin in &config.origins {
        statements.push(
            db.query(
                "INSERT INTO site_origins (origin, site) SELECT ?1, ?2 WHERE (SELECT config FROM sites WHERE id = ?2) = ?3",
                &[origin, &site, &json],
            )
            .statement(DOING)?,
        );
    }
    let results = db.batch(statements, DOING).await?;
    Ok(results.first().is_some_and(|result| changes(result) > 0))
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
