//! Who may work on which site. An account is one person: one email, one password, one name shown
//! to visitors. A membership puts an account on a site with a role; the same email can be an
//! operator on two sites and an owner can own several. Sessions belong to an account AND a site,
//! so disabling someone on one site ends their work there and nowhere else.
//!
//! The decisions here are the admin API's today (`/v1/admin/sites/:site/operators`, `api-keys`)
//! and the owner's screens' later: every rule takes the [`Actor`], so an owner's request goes
//! through the same checks as the admin token's.

use serde::{Deserialize, Serialize};

use crate::access::throttle::{Counter, Limit};
use crate::base::crypto::sha256;
use crate::base::error::{ApiError, ErrorCode};
use crate::base::ids::client_id_from_bytes;
use crate::chat::operator_view::OperatorProfile;
use crate::leads::contact::normalize_email;

/// The shortest password an account may have.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest: PBKDF2 hashes a long key once per iteration, so a megabyte "password" would be
/// a way to burn CPU.
pub const MAX_PASSWORD_CHARS: usize = 256;
/// The longest name (shown to visitors in the chat).
pub const MAX_NAME_CHARS: usize = 60;
/// The close code of a console or conversation socket whose session was revoked (logout, a
/// disabled or deleted member, a new password). The console goes back to its login form.
pub const SESSION_ENDED_CLOSE_CODE: u16 = 4001;

/// Login attempts per email, right or wrong, in 15 minutes: a person mistypes a few times; a
/// guesser is stopped long before the 25th try. Counted before the password is checked, so a
/// throttled attempt costs no hashing either.
pub const LOGIN_PER_EMAIL: Limit = Limit::new(10, 900);
/// Login attempts per client address (IPv6 by /64) in 15 minutes, over all emails: room for an
/// office of operators behind one NAT, not for a sweep through a list of emails.
pub const LOGIN_PER_CLIENT: Limit = Limit::new(60, 900);
const _: () = assert!(LOGIN_PER_EMAIL.max < 25 && LOGIN_PER_CLIENT.max > LOGIN_PER_EMAIL.max, "stop a guesser; let an office in");

/// The counters a login attempt hits. The email is counted by its SHA-256, so the counters'
/// table holds no address (and no `|` from an exotic local part can shift the key).
pub fn login_counters(email: &str, client: &str) -> [Counter; 2] {
    let email_key = client_id_from_bytes(&sha256(email.trim().to_lowercase().as_bytes()));
    [Counter::new("login-email", &[&email_key], LOGIN_PER_EMAIL), Counter::new("login-client", &[client], LOGIN_PER_CLIENT)]
}

/// What a member may do on a site.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything about the site: its settings, its members, its keys; and its chats.
    Owner,
    /// Answers chats.
    #[default]
    Operator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Operator => "operator",
        }
    }

    /// The stored column's value; anything else is not a role.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "owner" => Some(Role::Owner),
            "operator" => Some(Role::Operator),
            _ => None,
        }
    }
}

/// `POST /v1/admin/sites/:site/operators`: a member for the site. The password is for a new
/// account only: an email that already has an account joins with the password it has.
#[derive(Deserialize, Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    pub email: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default)]
    pub role: Role,
}

/// A [`NewMember`] after its checks: the email normalised, the name trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedMember {
    pub email: String,
    pub name: String,
    pub password: Option<String>,
    pub role: Role,
}

impl NewMember {
    pub fn validate(self) -> Result<CheckedMember, ApiError> {
        let email = normalize_email(&self.email)?.to_lowercase();
        let name = check_name(&self.name)?;
        if let Some(password) = &self.password {
            check_password(password)?;
        }
        Ok(CheckedMember { email, name, password: self.password, role: self.role })
    }
}

/// A display name: 1-60 characters after trimming, on one line.
pub fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::new(ErrorCode::FieldTooLong, format!("name: 1-{MAX_NAME_CHARS} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::new(ErrorCode::InvalidText, "name: one line, no control characters"));
    }
    Ok(name.to_owned())
}

pub fn check_password(password: &str) -> Result<(), ApiError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(ApiError::new(ErrorCode::InvalidConfig, format!("password: at least {MIN_PASSWORD_CHARS} characters")));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(ApiError::new(ErrorCode::FieldTooLong, format!("password: at most {MAX_PASSWORD_CHARS} characters")));
    }
    Ok(())
}

/// How a new member gets their account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Joining {
    /// No account has the email: create one with this password.
    NewAccount { password: String },
    /// The email has an account (on another site): add a membership; its password stays.
    ExistingAccount,
}

/// Decides [`Joining`]. A password given for an existing account is refused rather than
/// ignored (whoever typed it would expect it to work) or applied (the owner of one site would
/// be setting the password of a person who works on another).
pub fn joining(account_exists: bool, password: Option<&str>) -> Result<Joining, ApiError> {
    match (account_exists, password) {
        (false, Some(password)) => {
            check_password(password)?;
            Ok(Joining::NewAccount { password: password.to_owned() })
        }
        (false, None) => Err(ApiError::new(ErrorCode::MissingField, "password: required for a new account")),
        (true, None) => Ok(Joining::ExistingAccount),
        (true, Some(_)) => Err(ApiError::new(
            ErrorCode::AccountExists,
            "this email already has an account with its own password: add it without a password and it joins this site",
        )),
    }
}

/// Who acts on accounts: the admin token (bootstrap and automation, every site), or an owner
/// signed in to the console (the sites they own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor<'a> {
    Admin,
    Owner { owned_sites: &'a [String] },
}

impl Actor<'_> {
    pub fn manages(&self, site: &str) -> bool {
        match self {
            Actor::Admin => true,
            Actor::Owner { owned_sites } => owned_sites.iter().any(|s| s == site),
        }
    }

    /// Site-level actions (list, add, disable, remove a member; list and revoke API keys).
    pub fn require_site(&self, site: &str) -> Result<(), ApiError> {
        if self.manages(site) {
            Ok(())
        } else {
            Err(ApiError::new(ErrorCode::Forbidden, format!("you do not own site {site:?}")))
        }
    }

    /// Account-wide actions (a new password, which every site's sessions share): the actor must
    /// manage every site the account works on, or the owner of one shop could take over a
    /// person's access to another shop.
    pub fn require_account(&self, account_sites: &[String]) -> Result<(), ApiError> {
        match account_sites.iter().find(|site| !self.manages(site)) {
            None => Ok(()),
            Some(_) => Err(ApiError::new(
                ErrorCode::Forbidden,
                "this person also works on a site you do not own: they change their password themselves",
            )),
        }
    }
}

/// One of an account's memberships, as login sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSite {
    pub site: String,
    pub role: Role,
    pub active: bool,
}

/// The site a new session works on: the one asked for, else the account's first active
/// membership (by site id). A refusal reads like a wrong password, so a login never tells a
/// stranger which sites an account is on.
pub fn session_site(memberships: &[MemberSite], requested: Option<&str>) -> Result<MemberSite, ApiError> {
    let mut active: Vec<&MemberSite> = memberships.iter().filter(|m| m.active).collect();
    active.sort_by(|a, b| a.site.cmp(&b.site));
    let chosen = match requested {
        Some(site) => active.into_iter().find(|m| m.site == site),
        None => active.into_iter().next(),
    };
    chosen.cloned().ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "wrong email or password"))
}

/// What `POST /v1/console/login` and `GET /v1/console/me` answer: who is signed in, on which site
/// (`profile.site`), in which role there, and every site the account can switch to
/// (`POST /v1/console/site`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    #[serde(flatten)]
    pub profile: OperatorProfile,
    pub role: Role,
    pub sites: Vec<String>,
    /// The shop's name on `profile.site` (its config's `name`), for the console's header: the
    /// owner knows their shop by its name, not by its id. Empty when the site has no config yet.
    #[serde(default)]
    pub site_name: String,
    /// The shop's IANA time zone (its config's `widget.timezone`): the console shows every time
    /// on the shop's clock, as its visitors and its CRM see them, wherever the person sits.
    #[serde(default)]
    pub site_timezone: String,
    /// Only an owner's, and only on a worker started by `make demo`: the CRM receiver running on
    /// the same machine, which the CRM screen offers so that trying the CRM hand-off needs no
    /// receiver of one's own. Absent on a deployed worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_receiver: Option<LocalReceiver>,
}

impl SignedIn {
    /// Who is signed in; what comes from the site's config and the deployment
    /// ([`SignedIn::site_name`], [`SignedIn::site_timezone`], [`SignedIn::local_receiver`]) is
    /// added by the caller that has read them.
    pub fn new(profile: OperatorProfile, role: Role, sites: Vec<String>) -> SignedIn {
        SignedIn { profile, role, sites, site_name: String::new(), site_timezone: String::new(), local_receiver: None }
    }
}

/// A webhook receiver on the worker's own machine (`make demo` runs one beside the worker), named
/// by the deployment (`DEMO_CRM_RECEIVER`), never by a request.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct LocalReceiver {
    /// Where an endpoint sends to: the URL the CRM screen puts in its address field.
    pub webhook_url: String,
    /// The receiver's page listing what arrived (its root).
    pub page_url: String,
}

impl LocalReceiver {
    /// The receiver whose webhook URL is `url`, or `None` unless it is an `http(s)` URL on
    /// loopback: the var describes a receiver beside a local worker, and a link the console shows
    /// must never be a `javascript:` one or lead off this machine.
    pub fn from_webhook_url(url: &str) -> Option<LocalReceiver> {
        let url = url.trim();
        crate::base::url::validate_http_url(ErrorCode::InvalidConfig, "DEMO_CRM_RECEIVER", url).ok()?;
        let host = crate::base::url::host_of(url)?;
        if !crate::base::url::is_loopback_host(&host) {
            return None;
        }
        let scheme = if url.starts_with("https://") { "https" } else { "http" };
        Some(LocalReceiver { webhook_url: url.to_owned(), page_url: format!("{scheme}://{host}/") })
    }
}

/// A site's member as the admin API lists it. Other sites the person works on are not shown:
/// they are other owners' business.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct MemberView {
    /// The account's id: the same on every site, and the `operator_id` in chat frames.
    pub id: String,
    pub site: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// When they joined this site (ms since the epoch).
    pub created_at: u64,
    /// Set while disabled on this site.
    #[serde(default)]
    pub disabled_at: Option<u64>,
    /// Unexpired, unrevoked sessions on this site.
    #[serde(default)]
    pub active_sessions: u32,
}

/// An API key as the admin API lists it: never the key, which is shown once and kept hashed.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyView {
    pub id: String,
    pub site: String,
    pub name: String,
    pub created_at: u64,
    #[serde(default)]
    pub revoked_at: Option<u64>,
}

/// Which live sockets to close: every one of an operator's (disabled, removed, new password), or
/// only one session's (logout), on the site whose hub receives it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub operator_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

impl Revocation {
    /// Whether a socket opened by `operator_id` under `session_id` must close. A socket that does
    /// not know its session (opened before sockets recorded it) closes with any of its
    /// operator's: ending too much is the safe side.
    pub fn covers(&self, operator_id: &str, session_id: Option<&str>) -> bool {
        operator_id == self.operator_id
            && match (&self.session_id, session_id) {
                (Some(revoked), Some(socket)) => revoked == socket,
                _ => true,
            }
    }
}

#[cfg(test)]
mod tests;
