//! A site's members and API keys, for the admin API (routed by `crate::admin`, see
//! docs/accounts-and-access.md) and, later, the owner's screens: every function takes core's
//! `Actor`, which the admin token makes `Actor::Admin` and an owner's session will make
//! `Actor::Owner`. Disabling, removing or re-passwording someone ends their sessions and closes
//! their live sockets at once (`session::revoke_sockets`). A site's last enabled owner can be
//! neither disabled nor removed (core's `links::keeps_an_owner`).

use floorwalker_core::access::accounts::{check_password, joining, Actor, ApiKeyView, Joining, MemberView, NewMember, Revocation, Role};
use floorwalker_core::access::links::{keeps_an_owner, Standing};
use floorwalker_core::access::auth::{hash_password, DEFAULT_PASSWORD_ITERATIONS};
use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::base::ids::{client_id_from_bytes, validate_client_id};
use serde::Deserialize;
use worker::{Env, Request, Response};

use super::session::revoke_sockets;
use crate::http::{self, internal, now_ms};
use crate::platform::d1::db;
use crate::platform::random::{random_bytes, random_id};
use crate::sites;

#[derive(Deserialize)]
struct MemberRow {
    id: String,
    site: String,
    email: String,
    name: String,
    role: String,
    created_at: f64,
    disabled_at: Option<f64>,
    active_sessions: f64,
}

impl MemberRow {
    fn view(self) -> MemberView {
        MemberView {
            id: self.id,
            site: self.site,
            email: self.email,
            name: self.name,
            role: Role::parse(&self.role).unwrap_or_default(),
            created_at: self.created_at as u64,
            disabled_at: self.disabled_at.map(|at| at as u64),
            active_sessions: self.active_sessions as u32,
        }
    }
}

const MEMBER_SELECT: &str = "SELECT a.id, m.site, a.email, a.name, m.role, m.created_at, m.disabled_at, \
     (SELECT COUNT(*) FROM account_sessions s WHERE s.account_id = a.id AND s.site = m.site AND s.revoked_at IS NULL \
      AND s.expires_at > ?2) AS active_sessions \
     FROM site_members m JOIN accounts a ON a.id = m.account_id WHERE m.site = ?1";

/// `GET /v1/admin/sites/:site/operators`: the site's members, oldest first.
pub async fn list(actor: Actor<'_>, env: &Env, site: &str) -> Result<Response, ApiError> {
    actor.require_site(site)?;
    sites::require(env, site).await?;
    let sql = format!("{MEMBER_SELECT} ORDER BY m.created_at, a.id");
    let rows: Vec<MemberRow> = db(env)?.query(&sql, &[&site, &now_ms()]).all("listing members").await?;
    http::json(&rows.into_iter().map(MemberRow::view).collect::<Vec<_>>(), 200)
}

pub(super) async fn member(env: &Env, site: &str, id: &str) -> Result<MemberView, ApiError> {
    validate_client_id("operator", id)?;
    let sql = format!("{MEMBER_SELECT} AND a.id = ?3");
    let row: Option<MemberRow> = db(env)?.query(&sql, &[&site, &now_ms(), &id]).first("reading a member").await?;
    row.map(MemberRow::view).ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("site {site:?} has no operator {id:?}")))
}

/// `GET /v1/admin/sites/:site/operators/:id`.
pub async fn show(actor: Actor<'_>, env: &Env, site: &str, id: &str) -> Result<Response, ApiError> {
    actor.require_site(site)?;
    http::json(&member(env, site, id).await?, 200)
}

/// `POST /v1/admin/sites/:site/operators` `{email, name, password?, role?}` → the member (201). A
/// new email gets an account with the password; an email with an account (on another site) joins
/// this site with the password it has, and a password given for it is refused (409).
pub async fn create(actor: Actor<'_>, req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    actor.require_site(site)?;
    sites::require(env, site).await?;
    let body: NewMember = http::read_json(req, 4096).await?;
    let new = body.validate()?;
    let existing: Option<String> =
        db(env)?.query("SELECT id FROM accounts WHERE email = ?1", &[&new.email]).first_column("id", "finding the account").await?;
    let now = now_ms();
    let db = db(env)?;
    let add_membership = "INSERT INTO site_members (site, account_id, role, created_at) VALUES (?1, ?2, ?3, ?4)";
    let id = match joining(existing.is_some(), new.password.as_deref())? {
        Joining::NewAccount { password } => {
            let id = format!("op-{}", random_id()?);
            let hash = hash_password(&password, &random_bytes::<16>()?, DEFAULT_PASSWORD_ITERATIONS);
            let statements = vec![
                db.query(
                    "INSERT INTO accounts (id, email, name, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    &[&id, &new.email, &new.name, &hash, &now],
                )
                .statement("creating the account")?,
                db.query(add_membership, &[&site, &id, &new.role.as_str(), &now]).statement("adding the member")?,
            ];
            db.try_batch(statements).await.map_err(|e| taken_or_internal(e, "creating the account"))?;
            id
        }
        Joining::ExistingAccount => {
            let id = existing.unwrap_or_default();
            db.query(add_membership, &[&site, &id, &new.role.as_str(), &now])
                .statement("adding the member")?
                .run()
                .await
                .map_err(|e| taken_or_internal(e, "adding the member"))?;
            id
        }
    };
    http::json(&member(env, site, &id).await?, 201)
}

/// A UNIQUE or PRIMARY KEY conflict is a request for what exists (the email's account raced us,
/// or the account is a member of the site already).
pub(super) fn taken_or_internal(error: worker::Error, doing: &str) -> ApiError {
    let text = error.to_string();
    if text.contains("UNIQUE") || text.contains("PRIMARY KEY") {
        ApiError::new(ErrorCode::AccountExists, "this email is a member of this site already")
    } else {
        internal(doing, text)
    }
}

/// `POST .../operators/:id/disable`: no login, no session, no live socket on this site until
/// enabled again; the person's other sites are untouched.
pub async fn disable(actor: Actor<'_>, env: &Env, site: &str, id: &str) -> Result<Response, ApiError> {
    actor.require_site(site)?;
    member(env, site, id).await?;
    keeps_an_owner(&standings(env, site).await?, id)?;
    let now = now_ms();
    db(env)?
        .query("UPDATE site_members SET disabled_at = ?3 WHERE site = ?1 AND account_id = ?2 AND disabled_at IS NULL", &[&site, &id, &now])
        .run("disabling the member")
        .await?;
    end_sessions_on(env, site, id).await?;
    http::json(&member(env, site, id).await?, 200)
}

/// `POST .../operators/:id/enable`: they may log in again (old sessions stay ended).
pub async fn enable(actor: Actor<'_>, env: &Env, site: &str, id: &str) -> Result<Response, ApiError> {
    actor.require_site(site)?;
    member(env, site, id).await?;
    db(env)?
        .query("UPDATE site_members SET disabled_at = NULL WHERE site = ?1 AND account_id = ?2", &[&site, &id])
        .run("enabling the member")
        .await?;
    http::json(&member(env, site, id).await?, 200)
}

/// `DELETE .../operators/:id`: off the site, sessions there ended, sockets closed. An account
/// left with no site is deleted with it (its email can be added afresh later).
pub async fn remove(actor: Actor<'_>, env: &Env, site: &str, id: &str) -> Result<Response, ApiError> {
    actor.require_site(site)?;
    member(env, site, id).await?;
    keeps_an_owner(&standings(env, site).await?, id)?;
    end_sessions_on(env, site, id).await?;
    let db = db(env)?;
    let statements = vec![
        db.query("DELETE FROM site_members WHERE site = ?1 AND account_id = ?2", &[&site, &id]).statement("removing the member")?,
        db.query(
            "DELETE FROM account_sessions WHERE account_id = ?1 AND NOT EXISTS (SELECT 1 FROM site_members WHERE account_id = ?1)",
            &[&id],
        )
        .statement("forgetting the account's sessions")?,
        db.query("DELETE FROM accounts WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM site_members WHERE account_id = ?1)", &[&id])
            .statement("deleting an account with no site")?,
    ];
    db.batch(statements, "removing the member").await?;
    let remaining: Option<String> =
        db.query("SELECT id FROM accounts WHERE id = ?1", &[&id]).first_column("id", "checking the account").await?;
    http::json(&serde_json::json!({"removed": true, "account_deleted": remaining.is_none()}), 200)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPassword {
    password: String,
}

/// `PUT .../operators/:id/password` `{password}`: a new password for the account. It is the same
/// on every site, so the actor must manage every site the account works on; every session of
/// the account ends and every live socket closes, on every site.
pub async fn reset_password(actor: Actor<'_>, req: &mut Request, env: &Env, site: &str, id: &str) -> Result<Response, ApiError> {
    actor.require_site(site)?;
    member(env, site, id).await?;
    let body: NewPassword = http::read_json(req, 4096).await?;
    check_password(&body.password)?;
    let sites = account_sites(env, id).await?;
    actor.require_account(&sites)?;
    let now = now_ms();
    let hash = hash_password(&body.password, &random_bytes::<16>()?, DEFAULT_PASSWORD_ITERATIONS);
    let db = db(env)?;
    let statements = vec![
        db.query("UPDATE accounts SET password_hash = ?2, password_changed_at = ?3 WHERE id = ?1", &[&id, &hash, &now])
            .statement("setting the password")?,
        db.query("UPDATE account_sessions SET revoked_at = ?2 WHERE account_id = ?1 AND revoked_at IS NULL", &[&id, &now])
            .statement("ending the account's sessions")?,
    ];
    db.batch(statements, "setting the password").await?;
    for site in &sites {
        revoke_sockets(env, site, Revocation { operator_id: id.to_owned(), session_id: None }).await?;
    }
    http::json(&serde_json::json!({"ok": true, "sessions_ended": true}), 200)
}

pub(super) async fn account_sites(env: &Env, id: &str) -> Result<Vec<String>, ApiError> {
    #[derive(Deserialize)]
    struct SiteRow {
        site: String,
    }
    let rows: Vec<SiteRow> =
        db(env)?.query("SELECT site FROM site_members WHERE account_id = ?1", &[&id]).all("listing the account's sites").await?;
    Ok(rows.into_iter().map(|r| r.site).collect())
}

/// Every member of `site` with role and whether enabled, for core's last-owner rule.
async fn standings(env: &Env, site: &str) -> Result<Vec<Standing>, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        account_id: String,
        role: String,
        disabled_at: Option<f64>,
    }
    let rows: Vec<Row> =
        db(env)?.query("SELECT account_id, role, disabled_at FROM site_members WHERE site = ?1", &[&site]).all("listing the site's owners").await?;
    Ok(rows
        .into_iter()
        .map(|r| Standing { role: Role::parse(&r.role).unwrap_or_default(), active: r.disabled_at.is_none(), id: r.account_id })
        .collect())
}

/// Ends the member's sessions on `site` and closes their sockets there.
async fn end_sessions_on(env: &Env, site: &str, id: &str) -> Result<(), ApiError> {
    db(env)?
        .query(
            "UPDATE account_sessions SET revoked_at = ?3 WHERE account_id = ?1 AND site = ?2 AND revoked_at IS NULL",
            &[&id, &site, &now_ms()],
        )
        .run("ending the member's sessions")
        .await?;
    revoke_sockets(env, site, Revocation { operator_id: id.to_owned(), session_id: None }).await
}

// ---- API keys (CRMs answering into the chat: `POST /v1/conversations/:id/messages`) ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    name: String,
}

/// `POST /v1/admin/sites/:site/api-keys` `{name}` → `{id, site, name, key}` (the key is shown once).
pub async fn create_api_key(actor: Actor<'_>, req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    actor.require_site(site)?;
    sites::require(env, site).await?;
    let body: NewKey = http::read_json(req, 4096).await?;
    let name = floorwalker_core::access::accounts::check_name(&body.name)?;
    let id = random_id()?;
    let key = format!("{}{}", super::api::API_KEY_PREFIX, client_id_from_bytes(&random_bytes::<24>()?));
    db(env)?
        .query(
            "INSERT INTO chat_api_keys (id, site, name, key_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            &[&id, &site, &name, &super::api::hash_key(&key), &now_ms()],
        )
        .run("creating the API key")
        .await?;
    http::json(&serde_json::json!({"id": id, "site": site, "name": name, "key": key}), 201)
}

#[derive(Deserialize)]
struct KeyRow {
    id: String,
    site: String,
    name: String,
    created_at: f64,
    revoked_at: Option<f64>,
}

impl KeyRow {
    fn view(self) -> ApiKeyView {
        ApiKeyView {
            id: self.id,
            site: self.site,
            name: self.name,
            created_at: self.created_at as u64,
            revoked_at: self.revoked_at.map(|at| at as u64),
        }
    }
}

/// `GET /v1/admin/sites/:site/api-keys`: every key, revoked ones included, never the key itself.
pub async fn list_api_keys(actor: Actor<'_>, env: &Env, site: &str) -> Result<Response, ApiError> {
    actor.require_site(site)?;
    sites::require(env, site).await?;
    let rows: Vec<KeyRow> = db(env)?
        .query("SELECT id, site, name, created_at, revoked_at FROM chat_api_keys WHERE site = ?1 ORDER BY created_at, id", &[&site])
        .all("listing API keys")
        .await?;
    http::json(&rows.into_iter().map(KeyRow::view).collect::<Vec<_>>(), 200)
}

/// `DELETE /v1/admin/sites/:site/api-keys/:id`: refused from the next request on; the row stays
/// (with `revoked_at`) so the list shows what was revoked when.
pub async fn revoke_api_key(actor: Actor<'_>, env: &Env, site: &str, id: &str) -> Result<Response, ApiError> {
    actor.require_site(site)?;
    validate_client_id("api key", id)?;
    let db = db(env)?;
    db.query("UPDATE chat_api_keys SET revoked_at = ?3 WHERE site = ?1 AND id = ?2 AND revoked_at IS NULL", &[&site, &id, &now_ms()])
        .run("revoking the API key")
        .await?;
    let row: Option<KeyRow> = db
        .query("SELECT id, site, name, created_at, revoked_at FROM chat_api_keys WHERE site = ?1 AND id = ?2", &[&site, &id])
        .first("reading the API key")
        .await?;
    let row = row.ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("site {site:?} has no API key {id:?}")))?;
    http::json(&row.view(), 200)
}
