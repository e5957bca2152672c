//! Per-site delivery settings (`core::outbound::delivery::SiteDelivery`) in D1.

use floorwalker_core::base::error::ApiError;
use floorwalker_core::outbound::delivery::SiteDelivery;
use wasm_bindgen::JsValue;
use worker::Env;

use crate::http::internal;
use crate::sites;

/// The site's settings, or the defaults when the owner has not set any.
pub async fn load(env: &Env, site: &str) -> Result<SiteDelivery, ApiError> {
    let stored: Option<String> = sites::db(env)?
        .prepare("SELECT settings FROM site_delivery WHERE site = ?1")
        .bind(&[JsValue::from_str(site)])
        .map_err(|e| internal("loading delivery settings", e))?
        .first(Some("settings"))
        .await
        .map_err(|e| internal("loading delivery settings", e))?;
    match stored {
        Some(json) => serde_json::from_str(&json).map_err(|e| internal("decoding delivery settings", e)),
        None => Ok(SiteDelivery::default()),
    }
}

pub async fn store(env: &Env, site: &str, settings: &SiteDelivery, now_ms: u64) -> Result<(), ApiError> {
    let json = serde_json::to_string(settings).map_err(|e| internal("encoding delivery settings", e))?;
    sites::db(env)?
        .prepare(
            "INSERT INTO site_delivery (site, settings, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (site) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
        )
        .bind(&[JsValue::from_str(site), JsValue::from_str(&json), JsValue::from_f64(now_ms as f64)])
        .map_err(|e| internal("storing delivery settings", e))?
        .run()
        .await
        .map_err(|e| internal("storing delivery settings", e))?;
    Ok(())
}
