//! The `FILES` binding (R2): the chat's attachments. Objects carry their served `Content-Type`
//! and `Content-Disposition` as HTTP metadata, so a download needs nothing else.

use floorwalker_core::base::error::ApiError;
use worker::{Bucket, Env, HttpMetadata};

use crate::http::internal;

/// The name of the R2 binding in wrangler.toml.
const BINDING: &str = "FILES";
/// Keys deleted per listing page when a prefix goes (R2 lists at most 1000).
const PAGE: u32 = 1000;

fn bucket(env: &Env) -> Result<Bucket, ApiError> {
    env.bucket(BINDING).map_err(|e| internal("opening file storage", e))
}

/// A stored file: its bytes and how it is served.
pub struct StoredFile {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
    pub content_disposition: Option<String>,
}

pub async fn put(env: &Env, key: &str, bytes: Vec<u8>, content_type: &str, content_disposition: &str) -> Result<(), ApiError> {
    let metadata = HttpMetadata {
        content_type: Some(content_type.to_owned()),
        content_disposition: Some(content_disposition.to_owned()),
        ..HttpMetadata::default()
    };
    bucket(env)?.put(key, bytes).http_metadata(metadata).execute().await.map_err(|e| internal("storing a file", e))?;
    Ok(())
}

pub async fn get(env: &Env, key: &str) -> Result<Option<StoredFile>, ApiError> {
    let Some(object) = bucket(env)?.get(key).execute().await.map_err(|e| internal("reading a file", e))? else {
        return Ok(None);
    };
    let metadata = object.http_metadata();
    let Some(body) = object.body() else { return Ok(None) };
    let bytes = body.bytes().await.map_err(|e| internal("reading a file", e))?;
    Ok(Some(StoredFile { bytes, content_type: metadata.content_type, content_disposition: metadata.content_disposition }))
}

pub async fn delete(env: &Env, key: &str) -> Result<(), ApiError> {
    bucket(env)?.delete(key).await.map_err(|e| internal("deleting a file", e))
}

/// Deletes every object under `prefix`; returns how many went.
pub async fn delete_prefix(env: &Env, prefix: &str) -> Result<u64, ApiError> {
    let bucket = bucket(env)?;
    let mut deleted = 0;
    loop {
        let listed = bucket.list().prefix(prefix).limit(PAGE).execute().await.map_err(|e| internal("listing files", e))?;
        let keys: Vec<String> = listed.objects().iter().map(|o| o.key()).collect();
        if keys.is_empty() {
            return Ok(deleted);
        }
        deleted += keys.len() as u64;
        bucket.delete_multiple(keys).await.map_err(|e| internal("deleting files", e))?;
        if !listed.truncated() {
            return Ok(deleted);
        }
    }
}
