//! Console sessions: login, logout, switching site, the check every console route makes, and
//! revocation. A session is one account on one site (`account_sessions`); it holds while the
//! session row is unrevoked and unexpired, the account enabled and its membership of the site
//! enabled, so disabling or removing a member ends their HTTP access at once. Their live sockets
//! are closed by [`revoke_sockets`]: the site's hub closes its console sockets and tells every
//! open conversation to close that operator's.
//!
//! The cookie is HttpOnly, Secure, SameSite=Strict, `__Host-`; state-changing requests and
//! sockets must come from the worker's own origin (the console is served from it).

use floorwalker_core::access::accounts::{login_counters, session_site, LocalReceiver, MemberSite, Revocation, Role, SignedIn};
use floorwalker_core::access::auth::{
    clear_session_cookie, cookie_value, issue_operator_session, session_cookie, verify_login, verify_operator_session, OperatorSession,
    OPERATOR_SESSION_COOKIE,
};
use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::chat::operator_view::OperatorProfile;
use serde::Deserialize;
use worker::{Env, Request, Response};

use super::protocol::{self, expect_reply, HubCall, HubReply};
use super::{Who, OPERATOR_SESSION_TTL_MS};
use crate::http::{self, now_ms};
use crate::platform::d1::db;
use crate::platform::random::random_id;
use crate::platform::vars::var;
use crate::rate_limit;

/// The logged-in operator: core's type, the one the console reads.
pub type Operator = OperatorProfile;

/// A checked session: who, on which site, in which role.
pub struct Signed {
    pub operator: Operator,
    pub session_id: String,
    pub role: Role,
}

impl Signed {
    /// Who this session's sockets and calls speak for.
    pub fn who(&self) -> Who {
        Who::Operator { operator_id: self.operator.id.clone(), name: self.operator.name.clone(), session_id: Some(self.session_id.clone()) }
    }
}

fn session_secret(env: &Env) -> Result<Vec<u8>, ApiError> {
    super::signing_key(env, "OPERATOR_SESSION_SECRET")
}

/// Requests that change something, and WebSockets, must come from the console itself.
pub fn require_own_origin(req: &Request) -> Result<(), ApiError> {
    let own = super::own_origin(req)?;
    match http::header(req, "origin") {
        Some(origin) if origin == own => Ok(()),
        Some(origin) => Err(ApiError::new(ErrorCode::OriginNotAllowed, format!("the console API answers only {own}, not {origin}"))),
        None => Err(ApiError::new(ErrorCode::OriginNotAllowed, "the console API needs an Origin header")),
    }
}

#[derive(Deserialize)]
struct SessionRow {
    id: String,
    site: String,
    email: String,
    name: String,
    role: String,
}

/// The session behind the request's cookie, or `unauthorized`.
pub async fn authenticate(req: &Request, env: &Env) -> Result<Signed, ApiError> {
    let unauthorized = || ApiError::new(ErrorCode::Unauthorized, "log in to the console first");
    let cookies = http::header(req, "cookie").unwrap_or_default();
    let token = cookie_value(&cookies, OPERATOR_SESSION_COOKIE).filter(|t| !t.is_empty()).ok_or_else(unauthorized)?;
    let now = now_ms();
    let session = verify_operator_session(&session_secret(env)?, token, now)?;
    let row: Option<SessionRow> = db(env)?
        .query(
            "SELECT a.id, s.site, a.email, a.name, m.role FROM account_sessions s \
             JOIN accounts a ON a.id = s.account_id \
             JOIN site_members m ON m.account_id = s.account_id AND m.site = s.site \
             WHERE s.id = ?1 AND s.account_id = ?2 AND s.revoked_at IS NULL AND s.expires_at > ?3 \
             AND a.disabled_at IS NULL AND m.disabled_at IS NULL",
            &[&session.session_id, &session.operator_id, &now],
        )
        .first("checking the session")
        .await?;
    let row = row.ok_or_else(unauthorized)?;
    Ok(Signed {
        role: Role::parse(&row.role).unwrap_or_default(),
        operator: Operator { id: row.id, site: row.site, email: row.email, name: row.name },
        session_id: session.session_id,
    })
}

/// `GET /v1/console/me`.
pub async fn me(req: &Request, env: &Env) -> Result<Response, ApiError> {
    let signed = authenticate(req, env).await?;
    let sites = active_sites(env, &signed.operator.id).await?;
    let signed_in = SignedIn::new(signed.operator, signed.role, sites);
    http::json(&with_shop(env, signed_in).await?, 200)
}

/// `signed_in` with its shop's name and clock ([`SignedIn::site_name`], [`SignedIn::site_timezone`]),
/// and for an owner the demo's local CRM receiver, if this worker was started with one.
async fn with_shop(env: &Env, mut signed_in: SignedIn) -> Result<SignedIn, ApiError> {
    if let Some(config) = crate::sites::load(env, &signed_in.profile.site).await? {
        signed_in.site_name = config.name;
        signed_in.site_timezone = config.widget.timezone;
    }
    if signed_in.role == Role::Owner {
        signed_in.local_receiver = var(env, "DEMO_CRM_RECEIVER").and_then(|url| LocalReceiver::from_webhook_url(&url));
    }
    Ok(signed_in)
}

pub(super) async fn active_sites(env: &Env, account_id: &str) -> Result<Vec<String>, ApiError> {
    #[derive(Deserialize)]
    struct SiteRow {
        site: String,
    }
    let rows: Vec<SiteRow> = db(env)?
        .query("SELECT site FROM site_members WHERE account_id = ?1 AND disabled_at IS NULL ORDER BY site", &[&account_id])
        .all("listing the account's sites")
        .await?;
    Ok(rows.into_iter().map(|r| r.site).collect())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    email: String,
    password: String,
    /// The site to work on; the account's first one when absent.
    #[serde(default)]
    site: Option<String>,
}

/// One row per membership (none for an account without one), all in ONE query whether or not
/// the email is known, so the lookup costs the same either way.
#[derive(Deserialize)]
struct LoginRow {
    id: String,
    email: String,
    name: String,
    password_hash: String,
    site: Option<String>,
    role: Option<String>,
    member_disabled_at: Option<f64>,
}

/// `POST /v1/console/login` `{email, password, site?}`. Throttled per email and per client (429
/// with `Retry-After`, before any hashing); the password check does the same work for an unknown
/// email (core's `verify_login`); a refusal never says which part was wrong.
pub async fn login(mut req: Request, env: &Env) -> Result<Response, ApiError> {
    require_own_origin(&req)?;
    let body: LoginRequest = http::read_json(&mut req, 4096).await?;
    let email = body.email.trim().to_lowercase();
    if let Some(refusal) = rate_limit::check(env, &login_counters(&email, &rate_limit::client(&req)), now_ms(), None).await? {
        return Ok(refusal);
    }
    let rows: Vec<LoginRow> = db(env)?
        .query(
            "SELECT a.id, a.email, a.name, a.password_hash, m.site, m.role, m.disabled_at AS member_disabled_at \
             FROM accounts a LEFT JOIN site_members m ON m.account_id = a.id WHERE a.email = ?1 AND a.disabled_at IS NULL",
            &[&email],
        )
        .all("logging in")
        .await?;
    let wrong = || ApiError::new(ErrorCode::Unauthorized, "wrong email or password");
    if !verify_login(&body.password, rows.first().map(|r| r.password_hash.as_str())) {
        return Err(wrong());
    }
    let account = rows.first().ok_or_else(wrong)?;
    let memberships: Vec<MemberSite> = rows
        .iter()
        .filter_map(|r| {
            Some(MemberSite { site: r.site.clone()?, role: Role::parse(r.role.as_deref()?)?, active: r.member_disabled_at.is_none() })
        })
        .collect();
    let chosen = session_site(&memberships, body.site.as_deref())?;
    let operator = Operator { id: account.id.clone(), site: chosen.site.clone(), email: account.email.clone(), name: account.name.clone() };
    let sites = memberships.iter().filter(|m| m.active).map(|m| m.site.clone()).collect::<std::collections::BTreeSet<_>>();
    let signed_in = SignedIn::new(operator, chosen.role, sites.into_iter().collect());
    start_session(env, signed_in).await
}

/// Stores a new session for `signed_in` and answers with it and its cookie.
pub(super) async fn start_session(env: &Env, signed_in: SignedIn) -> Result<Response, ApiError> {
    let signed_in = with_shop(env, signed_in).await?;
    let now = now_ms();
    let session =
        OperatorSession { session_id: random_id()?, operator_id: signed_in.profile.id.clone(), expires_at: now + OPERATOR_SESSION_TTL_MS };
    let token = issue_operator_session(&session_secret(env)?, &session)?;
    db(env)?
        .query(
            "INSERT INTO account_sessions (id, account_id, site, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            &[&session.session_id, &session.operator_id, &signed_in.profile.site, &now, &session.expires_at],
        )
        .run("storing the session")
        .await?;
    let mut response = http::json(&signed_in, 200)?;
    http::set(response.headers_mut(), "set-cookie", &session_cookie(&token, OPERATOR_SESSION_TTL_MS / 1000))?;
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SwitchRequest {
    site: String,
}

/// `POST /v1/console/site` `{site}`: work on another of the account's sites. The current
/// session ends (its sockets close) and a new one starts on the other site.
pub async fn switch_site(mut req: Request, env: &Env) -> Result<Response, ApiError> {
    require_own_origin(&req)?;
    let signed = authenticate(&req, env).await?;
    let body: SwitchRequest = http::read_json(&mut req, 1024).await?;
    #[derive(Deserialize)]
    struct RoleRow {
        role: String,
    }
    let membership: Option<RoleRow> = db(env)?
        .query(
            "SELECT role FROM site_members WHERE account_id = ?1 AND site = ?2 AND disabled_at IS NULL",
            &[&signed.operator.id, &body.site],
        )
        .first("reading the membership")
        .await?;
    let role = membership
        .and_then(|m| Role::parse(&m.role))
        .ok_or_else(|| ApiError::new(ErrorCode::Forbidden, format!("you do not work on site {:?}", body.site)))?;
    end_session(env, &signed.operator.site, &signed.operator.id, &signed.session_id).await?;
    let sites = active_sites(env, &signed.operator.id).await?;
    let profile = Operator { site: body.site, ..signed.operator };
    start_session(env, SignedIn::new(profile, role, sites)).await
}

/// `POST /v1/console/logout`: the session row is revoked and its live sockets closed.
pub async fn logout(req: Request, env: &Env) -> Result<Response, ApiError> {
    require_own_origin(&req)?;
    let cookies = http::header(&req, "cookie").unwrap_or_default();
    if let Some(token) = cookie_value(&cookies, OPERATOR_SESSION_COOKIE) {
        if let Ok(session) = verify_operator_session(&session_secret(env)?, token, now_ms()) {
            #[derive(Deserialize)]
            struct SiteRow {
                site: String,
            }
            let row: Option<SiteRow> = db(env)?
                .query("SELECT site FROM account_sessions WHERE id = ?1 AND account_id = ?2", &[&session.session_id, &session.operator_id])
                .first("reading the session")
                .await?;
            if let Some(row) = row {
                end_session(env, &row.site, &session.operator_id, &session.session_id).await?;
            }
        }
    }
    let mut response = http::json(&serde_json::json!({"ok": true}), 200)?;
    http::set(response.headers_mut(), "set-cookie", &clear_session_cookie())?;
    Ok(response)
}

async fn end_session(env: &Env, site: &str, operator_id: &str, session_id: &str) -> Result<(), ApiError> {
    db(env)?
        .query("UPDATE account_sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL", &[&session_id, &now_ms()])
        .run("ending the session")
        .await?;
    revoke_sockets(env, site, Revocation { operator_id: operator_id.to_owned(), session_id: Some(session_id.to_owned()) }).await
}

/// How many of a site's open conversations a revocation reaches (the newest); idle ones are
/// closed over time, so a site has far fewer.
const MAX_CONVERSATIONS_REVOKED: u32 = 1000;

/// Closes the live sockets `revocation` covers on `site`: the hub's console sockets now, each open
/// conversation's operator sockets right after (the hub tells them).
pub async fn revoke_sockets(env: &Env, site: &str, revocation: Revocation) -> Result<(), ApiError> {
    #[derive(Deserialize)]
    struct IdRow {
        id: String,
    }
    let open: Vec<IdRow> = db(env)?
        .query(
            "SELECT id FROM chat_conversations WHERE site = ?1 AND status = 'open' ORDER BY opened_at DESC LIMIT ?2",
            &[&site, &MAX_CONVERSATIONS_REVOKED],
        )
        .all("listing open conversations")
        .await?;
    let call = HubCall::Revoke { revocation, conversations: open.into_iter().map(|row| row.id).collect() };
    let reply = protocol::hub(env, site)?.ask(&call).await?;
    expect_reply!(reply, HubReply::Done => ())
}
