//! One-time links (core's `access::links`): an owner invites someone to work on the site, or
//! sends a member a password-reset link; the person opens `/console/#link=<token>` and the console
//! looks the link up and uses it here.
//!
//! Owner side (routed by `crate::admin`, for the admin token or an owner's session on its site):
//! `GET|POST /v1/admin/sites/:site/invites`, `DELETE …/invites/:id`, `POST …/operators/:id/reset-link`.
//! Invitee side (no session; the token is the credential, sent in a body so no URL holds it):
//! `POST /v1/console/links/lookup` `{token}` and `POST /v1/console/links/accept`.
//!
//! A link is claimed in the same D1 batch that acts on it (`UPDATE … WHERE used_at IS NULL …`,
//! then every other statement guarded on that claim), so two uses racing each other cannot both
//! win, and a use that fails (the email became a member meanwhile) leaves the link unused.

use floorwalker_core::access::accounts::{login_counters, Actor, Revocation, Role, SignedIn};
use floorwalker_core::access::auth::{hash_password, verify_password, DEFAULT_PASSWORD_ITERATIONS};
use floorwalker_core::access::links::{
    acceptance, link_counter, link_path, token_from_bytes, token_hash, AcceptLink, Acceptance, InviteView, IssuedLink, LinkLookup,
    LinkPurpose, LinkView, NewInvite, StoredLink, MAX_PENDING_INVITES, RESET_TTL_MS, TOKEN_BYTES,
};
use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::base::ids::validate_client_id;
use serde::Deserialize;
use worker::{Env, Request, Response};

use super::members::{account_sites, member, taken_or_internal};
use super::session::{active_sites, require_own_origin, revoke_sockets, start_session, Operator};
use crate::http::{self, internal, now_ms};
use crate::platform::d1::{changes, db};
use crate::platform::random::{random_bytes, random_id};
use crate::platform::vars::test_timing;
use crate::{rate_limit, sites};

/// Who made a link: the owner's account id, or `admin` for the admin token.
pub fn created_by(owner_account: Option<&str>) -> String {
    owner_account.unwrap_or("admin").to_owned()
}

#[derive(Deserialize)]
struct InviteRow {
    id: String,
    site: String,
    email: String,
    role: String,
    created_at: f64,
    expires_at: f64,
    used_at: Option<f64>,
    revoked_at: Option<f64>,
}

impl InviteRow {
    fn view(self) -> InviteView {
        InviteView {
            id: self.id,
            site: self.site,
            email: self.email,
            role: Role::parse(&self.role).unwrap_or_default(),
            created_at: self.created_at as u64,
            expires_at: self.expires_at as u64,
            used_at: self.used_at.map(|at| at as u64),
            revoked_at: self.revoked_at.map(|at| at as u64),
        }
    }
}

const INVITE_SELECT: &str =
    "SELECT id, site, email, role, created_at, expires_at, used_at, revoked_at FROM access_links WHERE site = ?1 AND purpose = 'invite'";

/// `GET /v1/admin/sites/:site/invites`: the site's invitations, newest first (the pending ones and
/// those used, withdrawn or expired until they are pruned), never their tokens.
pub async fn list_invites(actor: Actor<'_>, env: &Env, site: &str) -> Result<Response, ApiError> {
    actor.require_site(site)?;
    sites::require(env, site).await?;
    let sql = format!("{INVITE_SELECT} ORDER BY created_at DESC, id LIMIT 200");
    let rows: Vec<InviteRow> = db(env)?.query(&sql, &[&site]).all("listing invitations").await?;
    http::json(&rows.into_iter().map(InviteRow::view).collect::<Vec<_>>(), 200)
}

/// A new token and its stored hash.
fn new_token() -> Result<(String, String), ApiError> {
    let token = token_from_bytes(&random_bytes::<TOKEN_BYTES>()?);
    let hash = token_hash(&token)?;
    Ok((token, hash))
}

/// `POST /v1/admin/sites/:site/invites` `{email, role?, expires_in_s?}` → 201 with the token and
/// the console path, shown this once. An earlier pending invitation of the same email to the
/// same site is withdrawn: the newest link is the one that works.
pub async fn create_invite(actor: Actor<'_>, by: &str, req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    actor.require_site(site)?;
    sites::require(env, site).await?;
    let body: NewInvite = http::read_json(req, 4096).await?;
    let invite = body.validate(&actor, test_timing(env))?;
    let db = db(env)?;
    let member: Option<String> = db
        .query(
            "SELECT a.id FROM site_members m JOIN accounts a ON a.id = m.account_id WHERE m.site = ?1 AND a.email = ?2",
            &[&site, &invite.email],
        )
        .first_column("id", "checking the membership")
        .await?;
    if member.is_some() {
        return Err(ApiError::new(ErrorCode::AccountExists, "this email is a member of this site already"));
    }
    let now = now_ms();
    let pending: Option<f64> = db
        .query(
            "SELECT COUNT(*) AS n FROM access_links WHERE site = ?1 AND purpose = 'invite' AND used_at IS NULL \
             AND revoked_at IS NULL AND expires_at > ?2",
            &[&site, &now],
        )
        .first_column("n", "counting invitations")
        .await?;
    if pending.unwrap_or(0.0) as u32 >= MAX_PENDING_INVITES {
        return Err(ApiError::new(
            ErrorCode::InvalidConfig,
            format!("at most {MAX_PENDING_INVITES} invitations may wait at once: withdraw some first"),
        ));
    }
    let (token, hash) = new_token()?;
    let id = random_id()?;
    let expires_at = now + invite.ttl_ms;
    let statements = vec![
        db.query(
            "UPDATE access_links SET revoked_at = ?3 WHERE site = ?1 AND email = ?2 AND purpose = 'invite' \
             AND used_at IS NULL AND revoked_at IS NULL",
            &[&site, &invite.email, &now],
        )
        .statement("withdrawing older invitations")?,
        db.query(
            "INSERT INTO access_links (id, token_hash, purpose, site, email, role, created_by, created_at, expires_at) \
             VALUES (?1, ?2, 'invite', ?3, ?4, ?5, ?6, ?7, ?8)",
            &[&id, &hash, &site, &invite.email, &invite.role.as_str(), &by, &now, &expires_at],
        )
        .statement("storing the invitation")?,
    ];
    db.batch(statements, "storing the invitation").await?;
    let issued =
        IssuedLink { id, purpose: LinkPurpose::Invite, site: site.to_owned(), email: invite.email, expires_at, path: link_path(&token), token };
    http::json(&issued, 201)
}

/// `DELETE /v1/admin/sites/:site/invites/:id`: the link stops working; the row stays (withdrawn)
/// for the list until pruned.
pub async fn withdraw_invite(actor: Actor<'_>, env: &Env, site: &str, id: &str) -> Result<Response, ApiError> {
    actor.require_site(site)?;
    validate_client_id("invite", id)?;
    let db = db(env)?;
    db.query(
        "UPDATE access_links SET revoked_at = ?3 WHERE site = ?1 AND id = ?2 AND purpose = 'invite' AND used_at IS NULL AND revoked_at IS NULL",
        &[&site, &id, &now_ms()],
    )
    .run("withdrawing the invitation")
    .await?;
    let sql = format!("{INVITE_SELECT} AND id = ?2");
    let row: Option<InviteRow> = db.query(&sql, &[&site, &id]).first("reading the invitation").await?;
    let row = row.ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("site {site:?} has no invitation {id:?}")))?;
    http::json(&row.view(), 200)
}

/// `POST /v1/admin/sites/:site/operators/:id/reset-link` → 201 with a password-reset link for the
/// member (a day, once). The password is the account's on every site, so the actor must manage
/// every site the account works on (core's `Actor::require_account`), as for setting one. Nothing
/// changes until the link is used; then every session of the account ends.
pub async fn reset_link(actor: Actor<'_>, by: &str, env: &Env, site: &str, id: &str) -> Result<Response, ApiError> {
    actor.require_site(site)?;
    let person = member(env, site, id).await?;
    actor.require_account(&account_sites(env, id).await?)?;
    let (token, hash) = new_token()?;
    let link_id = random_id()?;
    let now = now_ms();
    let expires_at = now + RESET_TTL_MS;
    let db = db(env)?;
    let statements = vec![
        db.query(
            "UPDATE access_links SET revoked_at = ?2 WHERE account_id = ?1 AND purpose = 'reset' AND used_at IS NULL AND revoked_at IS NULL",
            &[&id, &now],
        )
        .statement("withdrawing older reset links")?,
        db.query(
            "INSERT INTO access_links (id, token_hash, purpose, site, email, role, account_id, created_by, created_at, expires_at) \
             VALUES (?1, ?2, 'reset', ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            &[&link_id, &hash, &site, &person.email, &person.role.as_str(), &id, &by, &now, &expires_at],
        )
        .statement("storing the reset link")?,
    ];
    db.batch(statements, "storing the reset link").await?;
    let issued =
        IssuedLink { id: link_id, purpose: LinkPurpose::Reset, site: site.to_owned(), email: person.email, expires_at, path: link_path(&token), token };
    http::json(&issued, 201)
}

// ---- The invitee's side ----

#[derive(Deserialize)]
struct LinkRow {
    purpose: String,
    site: String,
    email: String,
    role: String,
    account_id: Option<String>,
    expires_at: f64,
    used_at: Option<f64>,
    revoked_at: Option<f64>,
}

impl LinkRow {
    fn stored(&self) -> StoredLink {
        StoredLink {
            // The column's CHECK admits these two only.
            purpose: LinkPurpose::parse(&self.purpose).unwrap_or(LinkPurpose::Invite),
            site: self.site.clone(),
            email: self.email.clone(),
            role: Role::parse(&self.role).unwrap_or_default(),
            expires_at: self.expires_at as u64,
            used_at: self.used_at.map(|at| at as u64),
            revoked_at: self.revoked_at.map(|at| at as u64),
        }
    }
}

#[derive(Deserialize)]
struct AccountRow {
    id: String,
    email: String,
    password_hash: String,
}

/// Counts the caller and reads the link a token names: `NotFound` for a token nobody issued.
async fn load(req: &Request, env: &Env, token: &str) -> Result<Result<(String, LinkRow), Response>, ApiError> {
    if let Some(refusal) = rate_limit::check(env, &[link_counter(&rate_limit::client(req))], now_ms(), None).await? {
        return Ok(Err(refusal));
    }
    let hash = token_hash(token)?;
    let row: Option<LinkRow> = db(env)?
        .query(
            "SELECT purpose, site, email, role, account_id, expires_at, used_at, revoked_at FROM access_links WHERE token_hash = ?1",
            &[&hash],
        )
        .first("reading the link")
        .await?;
    let row = row.ok_or_else(|| ApiError::new(ErrorCode::NotFound, "there is no such link: copy the whole link, or ask for a new one"))?;
    Ok(Ok((hash, row)))
}

/// The account a link acts on: a reset's own account, an invite's email's account if it has one.
async fn account_of(env: &Env, row: &LinkRow) -> Result<Option<AccountRow>, ApiError> {
    let db = db(env)?;
    let select = "SELECT id, email, name, password_hash FROM accounts";
    match (LinkPurpose::parse(&row.purpose), &row.account_id) {
        (Some(LinkPurpose::Reset), Some(id)) => db.query(&format!("{select} WHERE id = ?1"), &[id]).first("reading the account").await,
        _ => db.query(&format!("{select} WHERE email = ?1"), &[&row.email]).first("reading the account").await,
    }
}

/// `POST /v1/console/links/lookup` `{token}` → what the link is for (core's `LinkView`), or why
/// it no longer works (410).
pub async fn lookup(mut req: Request, env: &Env) -> Result<Response, ApiError> {
    require_own_origin(&req)?;
    let body: LinkLookup = http::read_json(&mut req, 1024).await?;
    let (_, row) = match load(&req, env, &body.token).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(refusal),
    };
    let link = row.stored();
    link.check(now_ms())?;
    let account_exists = account_of(env, &row).await?.is_some();
    let site_name = crate::sites::load(env, &link.site).await?.map(|config| config.name).unwrap_or_default();
    let view = LinkView { purpose: link.purpose, site: link.site, site_name, email: link.email, role: link.role, expires_at: link.expires_at, account_exists };
    http::json(&view, 200)
}

/// `POST /v1/console/links/accept` `{token, password, name?, site?}`: uses the link (core's
/// `acceptance` decides what that means) and signs the person in on the link's site (200 with
/// core's `SignedIn` and the session cookie). A second use is 410; another site 403; a wrong
/// password for an existing account 401, counted like a login.
pub async fn accept(mut req: Request, env: &Env) -> Result<Response, ApiError> {
    require_own_origin(&req)?;
    let body: AcceptLink = http::read_json(&mut req, 4096).await?;
    let (hash, row) = match load(&req, env, &body.token).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(refusal),
    };
    let link = row.stored();
    let account = account_of(env, &row).await?;
    let now = now_ms();
    let what = acceptance(&link, account.is_some(), &body, now)?;
    let db = db(env)?;
    let claim = random_id()?;
    let claim_statement = db
        .query(
            "UPDATE access_links SET used_at = ?2, claim = ?3 WHERE token_hash = ?1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?2",
            &[&hash, &now, &claim],
        )
        .statement("claiming the link")?;
    // Every other statement of the batch acts only if the claim above took (?1 hash, ?2 claim).
    const CLAIMED: &str = "EXISTS (SELECT 1 FROM access_links WHERE token_hash = ?1 AND claim = ?2)";
    let add_membership = format!(
        "INSERT INTO site_members (site, account_id, role, created_at) SELECT ?3, ?4, ?5, ?6 WHERE {CLAIMED}"
    );
    let mut revoke_everywhere = None;
    let account_id = match what {
        Acceptance::NewAccount { name, password } => {
            let id = format!("op-{}", random_id()?);
            let password_hash = hash_password(&password, &random_bytes::<16>()?, DEFAULT_PASSWORD_ITERATIONS);
            let statements = vec![
                claim_statement,
                db.query(
                    &format!("INSERT INTO accounts (id, email, name, password_hash, created_at) SELECT ?3, ?4, ?5, ?6, ?7 WHERE {CLAIMED}"),
                    &[&hash, &claim, &id, &link.email, &name, &password_hash, &now],
                )
                .statement("creating the account")?,
                db.query(&add_membership, &[&hash, &claim, &link.site, &id, &link.role.as_str(), &now]).statement("adding the member")?,
            ];
            claimed(db.try_batch(statements).await, "creating the account")?;
            id
        }
        Acceptance::ExistingAccount { password } => {
            let account = account.ok_or_else(|| internal("joining", "the account vanished"))?;
            if let Some(refusal) = rate_limit::check(env, &login_counters(&account.email, &rate_limit::client(&req)), now, None).await? {
                return Ok(refusal);
            }
            if !verify_password(&password, &account.password_hash) {
                return Err(ApiError::new(ErrorCode::Unauthorized, "wrong password for this email's account"));
            }
            let statements = vec![
                claim_statement,
                db.query(&add_membership, &[&hash, &claim, &link.site, &account.id, &link.role.as_str(), &now]).statement("adding the member")?,
            ];
            claimed(db.try_batch(statements).await, "joining the site")?;
            account.id
        }
        Acceptance::NewPassword { password } => {
            let account = account.ok_or_else(|| internal("resetting", "the account vanished"))?;
            let password_hash = hash_password(&password, &random_bytes::<16>()?, DEFAULT_PASSWORD_ITERATIONS);
            let statements = vec![
                claim_statement,
                db.query(
                    &format!("UPDATE accounts SET password_hash = ?4, password_changed_at = ?5 WHERE id = ?3 AND {CLAIMED}"),
                    &[&hash, &claim, &account.id, &password_hash, &now],
                )
                .statement("setting the password")?,
                db.query(
                    &format!("UPDATE account_sessions SET revoked_at = ?4 WHERE account_id = ?3 AND revoked_at IS NULL AND {CLAIMED}"),
                    &[&hash, &claim, &account.id, &now],
                )
                .statement("ending the account's sessions")?,
            ];
            claimed(db.try_batch(statements).await, "setting the password")?;
            revoke_everywhere = Some(account.id.clone());
            account.id
        }
    };
    if let Some(id) = revoke_everywhere {
        for site in account_sites(env, &id).await? {
            revoke_sockets(env, &site, Revocation { operator_id: id.clone(), session_id: None }).await?;
        }
    }
    sign_in(env, &account_id, &link.site).await
}

/// The batch's outcome: its first statement is the claim, which took or the link was used
/// meanwhile (410). A taken email or membership rolled the whole batch back (409).
fn claimed(results: worker::Result<Vec<worker::D1Result>>, doing: &str) -> Result<(), ApiError> {
    let results = results.map_err(|e| taken_or_internal(e, doing))?;
    if results.first().map(changes) != Some(1) {
        return Err(ApiError::new(ErrorCode::TokenExpired, "this link has been used already: ask the site's owner for a new one"));
    }
    Ok(())
}

/// A session for `account_id` on `site`, if its membership there is enabled.
async fn sign_in(env: &Env, account_id: &str, site: &str) -> Result<Response, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        email: String,
        name: String,
        role: String,
    }
    let row: Option<Row> = db(env)?
        .query(
            "SELECT a.email, a.name, m.role FROM accounts a JOIN site_members m ON m.account_id = a.id \
             WHERE a.id = ?1 AND m.site = ?2 AND a.disabled_at IS NULL AND m.disabled_at IS NULL",
            &[&account_id, &site],
        )
        .first("reading the membership")
        .await?;
    let row = row.ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, format!("your access to site {site:?} is disabled")))?;
    let sites = active_sites(env, account_id).await?;
    let profile = Operator { id: account_id.to_owned(), site: site.to_owned(), email: row.email, name: row.name };
    start_session(env, SignedIn::new(profile, Role::parse(&row.role).unwrap_or_default(), sites)).await
}
