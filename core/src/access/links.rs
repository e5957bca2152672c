//! One-time links: an owner's invitation to work on a site, and a password reset. Both are a
//! random token handed to one person out of band (the owner copies the link to them); whoever
//! opens it sets a password (or, invited with an email that already has an account, proves the
//! password they have) and is signed in.
//!
//! - The token is 192 random bits (`fwl_` + 48 hex characters). Only its SHA-256 is stored, so a
//!   copy of the database holds no usable link; a fast hash is enough because the token is
//!   random, not a password (nothing to guess from a dictionary).
//! - The link carries the token in the URL's fragment (`/console/#link=fwl_…`): browsers never send
//!   a fragment to a server, so it stays out of access logs, proxies and `Referer` headers; the
//!   console's script reads it and posts it in a body.
//! - A link is used once (claimed in the same D1 batch that acts on it), expires (an invite after
//!   7 days, or sooner if the owner says so; a reset after 24 hours), can be withdrawn, and is
//!   bound to its site: an invite for one shop never joins another.
//!
//! Why a reset link rather than a one-time password the owner reads out: with a link the owner
//! never holds a working credential of the person (who may also work for another shop with the
//! same account), nothing usable travels or lingers in a chat or email once it is used, the
//! person chooses a password only they know, and an unused link simply expires. A generated
//! password would stay valid until changed, and "change it after the first login" is a promise
//! nothing enforces.

use serde::{Deserialize, Serialize};

use crate::access::accounts::{check_name, check_password, Actor, Role, SignedIn};
use crate::access::throttle::{Counter, Limit};
use crate::base::crypto::sha256;
use crate::base::error::{ApiError, ErrorCode};
use crate::base::ids::client_id_from_bytes;
use crate::leads::contact::normalize_email;

const HOUR_MS: u64 = 3_600_000;
const DAY_MS: u64 = 24 * HOUR_MS;

/// Every token starts with this, so a link pasted into the wrong box is recognisable.
pub const TOKEN_PREFIX: &str = "fwl_";
/// Random bytes in a token (192 bits).
pub const TOKEN_BYTES: usize = 24;
/// An invitation's default (and longest) life: a week covers a weekend and a holiday-ish delay.
pub const INVITE_TTL_MS: u64 = 7 * DAY_MS;
/// The shortest an owner may ask for (a test deployment may go down to a second).
pub const MIN_INVITE_TTL_MS: u64 = HOUR_MS;
/// A password reset's life: the person is usually waiting for it.
pub const RESET_TTL_MS: u64 = DAY_MS;
/// Pending invitations a site may have at once: a team, not a mailing list.
pub const MAX_PENDING_INVITES: u32 = 50;
/// Looking links up or using them, per client address in 15 minutes. A token cannot be guessed
/// (192 bits), so this only keeps a script from making the worker hash and query in a loop; a
/// link's use is also counted as a login attempt of its email (`accounts::login_counters`).
pub const LINKS_PER_CLIENT: Limit = Limit::new(30, 900);

/// The counter a link's lookup or use hits.
pub fn link_counter(client: &str) -> Counter {
    Counter::new("link-client", &[client], LINKS_PER_CLIENT)
}

/// What a link is for.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LinkPurpose {
    /// Join a site (with a new account or the email's existing one).
    Invite,
    /// Choose a new password for an existing account.
    Reset,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Invite => "invite",
            LinkPurpose::Reset => "reset",
        }
    }

    pub fn parse(text: &str) -> Option<LinkPurpose> {
        match text {
            "invite" => Some(LinkPurpose::Invite),
            "reset" => Some(LinkPurpose::Reset),
            _ => None,
        }
    }
}

/// A new token from `TOKEN_BYTES` random bytes (the caller's CSPRNG).
pub fn token_from_bytes(bytes: &[u8; TOKEN_BYTES]) -> String {
    format!("{TOKEN_PREFIX}{}", client_id_from_bytes(bytes))
}

/// The stored form of a token (hex SHA-256), after checking its shape, so nothing else (a
/// megabyte, a typo) is ever hashed or looked up.
pub fn token_hash(token: &str) -> Result<String, ApiError> {
    let invalid = || ApiError::new(ErrorCode::InvalidToken, "this link is not valid: copy the whole link");
    let hex = token.trim().strip_prefix(TOKEN_PREFIX).ok_or_else(invalid)?;
    if hex.len() != TOKEN_BYTES * 2 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(invalid());
    }
    Ok(client_id_from_bytes(&sha256(token.trim().as_bytes())))
}

/// The console path that opens a link (the token in the fragment, see the module's docs).
pub fn link_path(token: &str) -> String {
    format!("/console/#link={token}")
}

/// The token in a console location's fragment (`#link=…`), if it holds one.
pub fn token_in_fragment(fragment: &str) -> Option<&str> {
    let token = fragment.trim_start_matches('#').strip_prefix("link=")?;
    (!token.is_empty()).then_some(token)
}

/// `POST /v1/admin/sites/:site/invites` `{email, role?, expires_in_s?}`.
#[derive(Deserialize, Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NewInvite {
    pub email: String,
    #[serde(default)]
    pub role: Role,
    /// Sooner than the default week, if the owner wants (at least an hour).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_s: Option<u64>,
}

/// A [`NewInvite`] after its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedInvite {
    pub email: String,
    pub role: Role,
    pub ttl_ms: u64,
}

impl NewInvite {
    /// `test_deployment` (`FLOORWALKER_TEST_TIMING=1`) lets an invitation last as little as a
    /// second, so the tests can watch one expire.
    pub fn validate(self, actor: &Actor<'_>, test_deployment: bool) -> Result<CheckedInvite, ApiError> {
        let email = normalize_email(&self.email)?.to_lowercase();
        actor.may_grant(self.role)?;
        let min = if test_deployment { 1000 } else { MIN_INVITE_TTL_MS };
        let ttl_ms = match self.expires_in_s {
            None => INVITE_TTL_MS,
            Some(s) if (min..=INVITE_TTL_MS).contains(&s.saturating_mul(1000)) => s * 1000,
            Some(_) => {
                return Err(ApiError::new(
                    ErrorCode::InvalidConfig,
                    format!("expires_in_s: {}-{} seconds", min / 1000, INVITE_TTL_MS / 1000),
                ))
            }
        };
        Ok(CheckedInvite { email, role: self.role, ttl_ms })
    }
}

impl Actor<'_> {
    /// Which roles this actor may hand out. Owners invite operators; a new owner is made with the
    /// admin token (`make owner`), so an owner's compromised session cannot mint more owners
    /// who would outlive its revocation.
    pub fn may_grant(&self, role: Role) -> Result<(), ApiError> {
        match (self, role) {
            (Actor::Admin, _) | (Actor::Owner { .. }, Role::Operator) => Ok(()),
            (Actor::Owner { .. }, Role::Owner) => {
                Err(ApiError::new(ErrorCode::Forbidden, "owners invite operators; a new owner is added with the admin token"))
            }
        }
    }
}

/// A link as stored, as the worker reads it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLink {
    pub purpose: LinkPurpose,
    pub site: String,
    pub email: String,
    pub role: Role,
    pub expires_at: u64,
    pub used_at: Option<u64>,
    pub revoked_at: Option<u64>,
}

impl StoredLink {
    /// Whether the link may be used at `now`. Used, withdrawn and expired links are all "gone"
    /// (410), each saying why, so the person knows to ask the owner for a new one.
    pub fn check(&self, now: u64) -> Result<(), ApiError> {
        let gone = |why: &str| Err(ApiError::new(ErrorCode::TokenExpired, why.to_owned()));
        if self.used_at.is_some() {
            return gone("this link has been used already: ask the site's owner for a new one");
        }
        if self.revoked_at.is_some() {
            return gone("this link was withdrawn: ask the site's owner for a new one");
        }
        if now >= self.expires_at {
            return gone("this link has expired: ask the site's owner for a new one");
        }
        Ok(())
    }

    /// A link is for its own site only: the page sends the site it showed, and another one is
    /// refused (the token does not become a key to the next shop).
    pub fn check_site(&self, requested: Option<&str>) -> Result<(), ApiError> {
        match requested {
            Some(site) if site != self.site => {
                Err(ApiError::new(ErrorCode::Forbidden, format!("this link is for site {:?}, not {site:?}", self.site)))
            }
            _ => Ok(()),
        }
    }
}

/// What the link's page is shown before anything is done: enough to say "you are invited to
/// shop X as an operator" and to ask for either a new name and password or the existing one.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct LinkView {
    pub purpose: LinkPurpose,
    pub site: String,
    /// The shop's name (its config's `name`): an invitation names the shop, not its id. Empty
    /// when the site has no config yet.
    #[serde(default)]
    pub site_name: String,
    pub email: String,
    pub role: Role,
    pub expires_at: u64,
    /// The email has an account already (invite: join with its password; reset: always true).
    pub account_exists: bool,
}

/// `POST /v1/console/links/lookup` `{token}`: the token in the body, never in a URL.
#[derive(Deserialize, Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LinkLookup {
    pub token: String,
}

/// `POST /v1/console/links/accept` `{token, password, name?, site?}`.
#[derive(Deserialize, Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AcceptLink {
    pub token: String,
    pub password: String,
    /// A new account's name (shown to visitors in the chat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The site the page showed; another site than the link's is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
}

/// What using a link does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acceptance {
    /// An invite for a new email: an account with this name and password, a membership.
    NewAccount { name: String, password: String },
    /// An invite for an email with an account: a membership, once `password` proves it is theirs.
    ExistingAccount { password: String },
    /// A reset: the account's new password (every session of it ends).
    NewPassword { password: String },
}

/// Decides what using `link` does, given whether its email has an account now. The link itself
/// (used, expired, site) is checked first.
pub fn acceptance(link: &StoredLink, account_exists: bool, body: &AcceptLink, now: u64) -> Result<Acceptance, ApiError> {
    link.check(now)?;
    link.check_site(body.site.as_deref())?;
    match (link.purpose, account_exists) {
        (LinkPurpose::Invite, false) => {
            let name = check_name(body.name.as_deref().unwrap_or_default())?;
            check_password(&body.password)?;
            Ok(Acceptance::NewAccount { name, password: body.password.clone() })
        }
        // The password is checked against the stored one, not for its length: it may predate a rule.
        (LinkPurpose::Invite, true) if body.password.is_empty() => {
            Err(ApiError::new(ErrorCode::MissingField, "password: the one you log in with"))
        }
        (LinkPurpose::Invite, true) => Ok(Acceptance::ExistingAccount { password: body.password.clone() }),
        (LinkPurpose::Reset, true) => {
            check_password(&body.password)?;
            Ok(Acceptance::NewPassword { password: body.password.clone() })
        }
        (LinkPurpose::Reset, false) => Err(ApiError::new(ErrorCode::TokenExpired, "this account no longer exists")),
    }
}

/// What a used link answers: the session it started (the cookie rides along).
pub type Accepted = SignedIn;

/// An invitation as the owner's list shows it: never the token (shown once, kept hashed).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct InviteView {
    pub id: String,
    pub site: String,
    pub email: String,
    pub role: Role,
    pub created_at: u64,
    pub expires_at: u64,
    #[serde(default)]
    pub used_at: Option<u64>,
    #[serde(default)]
    pub revoked_at: Option<u64>,
}

impl InviteView {
    /// Still usable at `now`.
    pub fn pending(&self, now: u64) -> bool {
        self.used_at.is_none() && self.revoked_at.is_none() && now < self.expires_at
    }
}

/// A new link as its creator sees it, once: the token and the console path that opens it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct IssuedLink {
    pub id: String,
    pub purpose: LinkPurpose,
    pub site: String,
    pub email: String,
    pub expires_at: u64,
    pub token: String,
    /// `/console/#link=<token>`, to put after the worker's origin.
    pub path: String,
}

/// A site's member as the last-owner rule sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub id: String,
    pub role: Role,
    pub active: bool,
}

/// A site keeps at least one enabled owner: disabling or removing `target` is refused when they
/// are the last one (an owner locking themselves out would leave a shop nobody can run but the
/// admin token). Anyone else may always be disabled or removed.
pub fn keeps_an_owner(members: &[Standing], target: &str) -> Result<(), ApiError> {
    let is_active_owner = |m: &Standing| m.active && m.role == Role::Owner;
    let target_is_owner = members.iter().any(|m| m.id == target && is_active_owner(m));
    let others = members.iter().filter(|m| m.id != target && is_active_owner(m)).count();
    if target_is_owner && others == 0 {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "a site keeps at least one enabled owner: this is its last one (add another owner first)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
