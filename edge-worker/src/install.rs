//! The owner's Install screen's routes (core's `prompts::install` decides; this reads and stores):
//! `GET sites/:site/install` (the tag, each listed origin's last load, the refused origins) and
//! adding or removing one origin (`POST sites/:site/origins {origin}`,
//! `DELETE sites/:site/origins?origin=`). A change to the origins reads the stored config and
//! stores it back with only its origins changed: `PUT sites/:site` replaces the whole config, and
//! the screen must not carry (and so clobber) the prompts or anything else.

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::prompts::config::SiteConfig;
use floorwalker_core::prompts::install::{install_check, with_origin, without_origin, OriginInput, OriginProblem};
use worker::{Env, Request, Response};

use crate::{chat, http, sightings, sites};

/// `GET /v1/admin/sites/:site/install`.
pub async fn check(req: &Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    let config = sites::require(env, site).await?;
    answer(req, env, &config).await
}

/// `POST /v1/admin/sites/:site/origins` `{"origin"}`: adds it (what a person typed or pasted,
/// normalised by core; twice is once) and answers the fresh install check.
pub async fn add(req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    let input: OriginInput = http::read_json(req, 1024).await?;
    let changed = change_origins(env, site, |config| with_origin(config, &input.origin)).await?;
    answer(req, env, &changed).await
}

/// `DELETE /v1/admin/sites/:site/origins?origin=`: removes it (never the last one).
pub async fn remove(req: &Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    let origin = http::query_param(req, "origin")
        .ok_or_else(|| ApiError::new(ErrorCode::MissingField, "name the origin to remove: ?origin=https://shop.example"))?;
    let changed = change_origins(env, site, |config| without_origin(config, &origin)).await?;
    answer(req, env, &changed).await
}

/// The stored config with only its origins changed by `change` (redone over a config someone else
/// stored meanwhile, so a prompt saved at the same moment is kept).
async fn change_origins(
    env: &Env,
    site: &str,
    change: impl Fn(&SiteConfig) -> Result<Option<SiteConfig>, OriginProblem>,
) -> Result<SiteConfig, ApiError> {
    let changed = sites::update(env, site, |config| {
        let changed = change(config).map_err(OriginProblem::error)?;
        // The whole config's rules still hold (they did when it was stored; the origins are core's).
        changed.iter().try_for_each(SiteConfig::validate)?;
        Ok(changed)
    });
    changed.await.map_err(|e| {
        // The other site's id is not this owner's business.
        if e.code == ErrorCode::OriginTaken { OriginProblem::Taken.error() } else { e }
    })
}

async fn answer(req: &Request, env: &Env, config: &SiteConfig) -> Result<Response, ApiError> {
    let now = http::now_ms();
    let report = sightings::load(env, &config.site, now).await?;
    http::json(&install_check(config, &chat::own_origin(req)?, &report, now), 200)
}
