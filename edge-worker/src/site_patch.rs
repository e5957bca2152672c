//! A site's config through the admin API: `GET` (with its revision as `ETag`), `PUT` (whole,
//! `If-Match` honoured), and `PATCH /v1/admin/sites/:site` and `PATCH /v1/admin/sites/:site/prompts/:id`: partial changes
//! to a site's config as JSON merge patches (RFC 7396, core's `base::merge_patch`). The owner's
//! console sends only what the owner changed, so changing one word of one prompt changes that
//! word: the stored config is read, patched, validated whole by core and stored. Problems name
//! their field and are worded in the caller's language (`Accept-Language`: Russian or English).

use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::base::locale::Locale;
use floorwalker_core::prompts::config::{changed_meanwhile, if_match_allows, revision_tag, SiteConfig, MAX_CONFIG_BYTES};
use worker::{Env, Request, Response};

use crate::http;
use crate::platform::vars::test_timing;
use crate::sites;

/// `GET /v1/admin/sites/:site`: the config, its revision in `ETag`.
pub async fn show(env: &Env, site: &str) -> Result<Response, ApiError> {
    let (config, stored) = sites::require_stored(env, site).await?;
    let response = http::json(&config, 200)?;
    http::set(response.headers(), "etag", &revision_tag(&stored))?;
    Ok(response)
}

/// `PUT /v1/admin/sites/:site`: the whole config. With `If-Match` (the `ETag` of a `GET`), only
/// over the config that was read: 412 when it changed since, so an editor that sends the whole
/// document never undoes a change it did not see.
pub async fn put_site(req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    let locale = language(req);
    let if_match = http::header(req, "if-match");
    let config: SiteConfig = http::read_json(req, MAX_CONFIG_BYTES).await.map_err(as_config_error)?;
    acceptable(&config, site, locale, test_timing(env))?;
    match if_match {
        None => sites::store(env, &config, http::now_ms()).await?,
        Some(if_match) => {
            let (_, stored) = sites::require_stored(env, site).await?;
            if !if_match_allows(&if_match, &stored) || !sites::store_over(env, &stored, &config, http::now_ms()).await? {
                return Err(changed_meanwhile());
            }
        }
    }
    http::json(&config, 200)
}

fn as_config_error(e: ApiError) -> ApiError {
    if e.code == ErrorCode::InvalidJson { ApiError::new(ErrorCode::InvalidConfig, e.message) } else { e }
}

/// `PATCH /v1/admin/sites/:site`: a merge patch of the whole config (languages, hours, time zone,
/// theme, guardrails…). Lists are replaced whole, so a prompt is patched on its own route.
pub async fn patch_site(req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    let locale = language(req);
    let patch: serde_json::Value = read_patch(req).await?;
    store(env, site, locale, |stored| stored.patched(&patch, locale)).await
}

/// `PATCH /v1/admin/sites/:site/prompts/:id`: a merge patch of one prompt
/// (`{"copy": {"en": {"title": "…"}}}`); 404 for a prompt the site does not have.
pub async fn patch_prompt(req: &mut Request, env: &Env, site: &str, id: &str) -> Result<Response, ApiError> {
    let locale = language(req);
    let patch: serde_json::Value = read_patch(req).await?;
    store(env, site, locale, |stored| stored.patched_prompt(id, &patch, locale)).await
}

async fn read_patch(req: &mut Request) -> Result<serde_json::Value, ApiError> {
    let patch: serde_json::Value = http::read_json(req, MAX_CONFIG_BYTES).await.map_err(as_config_error)?;
    if !patch.is_object() {
        return Err(ApiError::new(ErrorCode::InvalidConfig, "a merge patch is a JSON object naming what changes"));
    }
    Ok(patch)
}

/// The patched config, stored once it validates; the patch is applied again over a config someone
/// stored meanwhile (a merge patch names only what it changes, so both changes land).
async fn store(
    env: &Env,
    site: &str,
    locale: Locale,
    patched: impl Fn(&SiteConfig) -> Result<SiteConfig, ApiError>,
) -> Result<Response, ApiError> {
    let testing = test_timing(env);
    let stored = sites::update(env, site, |stored| {
        let config = patched(stored)?;
        acceptable(&config, site, locale, testing)?;
        Ok(Some(config))
    });
    http::json(&stored.await?, 200)
}

/// Whether `config` may be stored for `site`: valid, test timing only on a test deployment, and
/// within the size limit.
pub fn acceptable(config: &SiteConfig, site: &str, locale: Locale, test_deployment: bool) -> Result<(), ApiError> {
    if config.site != site {
        return Err(ApiError::new(ErrorCode::InvalidConfig, format!("site: the config's site is {:?}, the URL's {site:?}", config.site)));
    }
    config.validate_in(locale)?;
    if config.uses_test_timing() && !test_deployment {
        return Err(ApiError::new(
            ErrorCode::InvalidConfig,
            "widget.test_timing: accepted only by a test deployment (FLOORWALKER_TEST_TIMING=1)",
        ));
    }
    let size = serde_json::to_vec(config).map_or(usize::MAX, |json| json.len());
    if size > MAX_CONFIG_BYTES {
        return Err(ApiError::new(ErrorCode::PayloadTooLarge, format!("the config would be {size} bytes; at most {MAX_CONFIG_BYTES}")));
    }
    Ok(())
}

/// The language for the problems' words: the first of `Accept-Language` the console speaks,
/// else English (the admin API's language).
fn language(req: &Request) -> Locale {
    http::header(req, "accept-language")
        .unwrap_or_default()
        .split(',')
        .find_map(|tag| Locale::from_language_tag(tag.split(';').next().unwrap_or_default()))
        .unwrap_or(Locale::En)
}
