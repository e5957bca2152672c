//! The owner's email settings and tests: `GET|PUT /v1/admin/sites/:site/email`,
//! `POST /v1/admin/sites/:site/email/preview` and `POST /v1/admin/sites/:site/email/test`
//! (reached through `admin::route`, so by the admin token or the site owner's console session).
//! Decisions are core's (`outbound::email::branding`, `sample`); this module stores, reads the
//! site's clock through `Intl`, and sends.
//!
//! A test goes only to the logged-in owner's own address, never one the request names: the
//! endpoint cannot be used to mail strangers as the shop. It is rate-limited per owner and site.
//!
//! The team's alert address quotes visitors, so it is used only once confirmed: a new address
//! (other than the saving owner's own) gets a link (`POST /v1/admin/sites/:site/email/alert-link`
//! sends it again), and `GET|POST /v1/mail/alert-confirm/:token` is the page whose button
//! confirms it. Like the consent links, only the POST changes anything (mail scanners GET).

use floorwalker_core::access::accounts::Role;
use floorwalker_core::access::throttle::{Counter, Limit};
use floorwalker_core::base::error::{ApiError, ErrorCode};
use floorwalker_core::outbound::delivery::SiteDelivery;
use floorwalker_core::outbound::email::branding::{
    MailPreview, MailPreviewRequest, MailSettingsView, MailTestRequest, MailTestSent, MAIL_TESTS_PER_HOUR,
};
use floorwalker_core::outbound::email::sample::{render_sample, SampleMail};
use floorwalker_core::outbound::email::{
    email_link_base, render_alert_confirmation, AlertLinkClaims, EmailMessage, MailClock, MailKind, MailLinks, MailLook, MailSettings, ShopMail, ALERT_LINKS_PER_HOUR,
};
use floorwalker_core::outbound::webhook::AttemptResult;
use floorwalker_core::prompts::config::SiteConfig;
use floorwalker_core::visitor::product::page::PublishedProduct;
use serde::Deserialize;
use worker::{Env, Request, Response};

use crate::chat::session::{self, Signed};
use crate::outgoing::{provider_email, send, Prepared};
use crate::http::{self, internal, now_ms};
use crate::platform::d1::db;
use crate::platform::random::random_id;
use crate::platform::vars::var;
use crate::{rate_limit, settings, sites};

const MAX_BODY: usize = 4096;
/// How long a test email may take to reach the provider.
const SEND_TIMEOUT_MS: u64 = 10_000;

async fn store(env: &Env, site: &str, settings: &MailSettings) -> Result<(), ApiError> {
    let json = serde_json::to_string(settings).map_err(|e| internal("encoding email settings", e))?;
    db(env)?
        .query(
            "INSERT INTO site_mail (site, settings, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (site) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
            &[&site, &json, &now_ms()],
        )
        .run("storing email settings")
        .await
}

/// Everything a renderer needs about the shop that is not the email's content: the sender, the
/// look and the site's clock at the moment the email is about.
pub struct Branded {
    pub from: String,
    pub look: MailLook,
    pub zone: String,
    pub offset_minutes: Option<i32>,
}

impl Branded {
    pub fn with(env: &Env, config: &SiteConfig, delivery: &SiteDelivery, mail: &MailSettings, at_ms: u64) -> Branded {
        let deployment_from = var(env, "EMAIL_FROM").unwrap_or_default();
        let zone = config.widget.timezone.clone();
        Branded {
            from: mail.sender(&config.name, delivery.email_from.as_deref(), &deployment_from),
            look: MailLook::new(&config.name, mail, Some(&config.widget.theme.brand_color)),
            offset_minutes: crate::platform::zone::offset_minutes(&zone, at_ms),
            zone,
        }
    }

    /// The shop as the renderers take it. A zone `Intl` does not know is written as UTC, and
    /// named so.
    pub fn shop<'a>(&'a self, config: &'a SiteConfig, hosts: &'a [String], test: bool) -> ShopMail<'a> {
        let clock = match self.offset_minutes {
            Some(offset_minutes) => MailClock { zone: &self.zone, offset_minutes },
            None => MailClock::UTC,
        };
        ShopMail {
            name: &config.name,
            from: &self.from,
            links: MailLinks { origins: &config.origins, hosts },
            look: &self.look,
            clock,
            test,
        }
    }
}

/// The owner's console session behind the request, when the caller is one (not the admin token).
async fn owner_session(req: &Request, env: &Env) -> Result<Option<Signed>, ApiError> {
    if http::header(req, "authorization").is_some_and(|h| !h.is_empty()) || http::header(req, "cookie").is_none() {
        return Ok(None);
    }
    let signed = session::authenticate(req, env).await?;
    Ok((signed.role == Role::Owner).then_some(signed))
}

async fn view(req: &Request, env: &Env, config: &SiteConfig, mail: MailSettings) -> Result<Response, ApiError> {
    let delivery = settings::load(env, &config.site).await?;
    let owner = owner_session(req, env).await?;
    answer(env, config, &delivery, mail, owner, false)
}

/// The settings as the screen shows them; `owner` is the console session behind the request, if any
/// (a test goes to its address).
fn answer(env: &Env, config: &SiteConfig, delivery: &SiteDelivery, mail: MailSettings, owner: Option<Signed>, alert_link_sent: bool) -> Result<Response, ApiError> {
    let branded = Branded::with(env, config, delivery, &mail, now_ms());
    let test_to = owner.map(|signed| signed.operator.email);
    let view = MailSettingsView {
        settings: mail,
        from: branded.from,
        default_sender_name: config.name.clone(),
        default_brand_color: config.widget.theme.brand_color.clone(),
        test_to,
        kinds: MailKind::ALL.to_vec(),
        alert_link_sent,
    };
    http::json(&view, 200)
}

/// `GET /v1/admin/sites/:site/email`.
pub async fn show(req: &Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    let config = sites::require(env, site).await?;
    view(req, env, &config, settings::mail(env, site).await?).await
}

fn as_config_error(e: ApiError) -> ApiError {
    if e.code == ErrorCode::InvalidJson {
        ApiError::new(ErrorCode::InvalidConfig, e.message)
    } else {
        e
    }
}

/// `PUT /v1/admin/sites/:site/email`: the whole settings object; a blank field is the default.
pub async fn put(req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    let config = sites::require(env, site).await?;
    let mail: MailSettings = http::read_json(req, MAX_BODY).await.map_err(as_config_error)?;
    mail.validate()?;
    let stored = settings::mail(env, site).await?;
    let owner = owner_session(req, env).await?;
    let mail = mail.saved_over(&stored, owner.as_ref().map(|signed| signed.operator.email.as_str()));
    store(env, site, &mail).await?;
    let delivery = settings::load(env, site).await?;
    // A link per new address; past the hourly cap the settings still save, and the console offers
    // to send it again later.
    let new_address = mail.alert_unconfirmed().is_some_and(|to| stored.alert_to.as_deref() != Some(to));
    let sent = new_address && send_alert_link(req, env, &config, &delivery, &mail).await?.is_none();
    answer(env, &config, &delivery, mail, owner, sent)
}

/// `POST /v1/admin/sites/:site/email/alert-link`: the confirmation link again, to the alert address
/// waiting for it (404 when there is none to confirm; 429 past the hourly cap).
pub async fn resend_alert_link(req: &Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    let config = sites::require(env, site).await?;
    let mail = settings::mail(env, site).await?;
    if mail.alert_unconfirmed().is_none() {
        return Err(ApiError::new(ErrorCode::NotFound, "there is no unconfirmed alert address to send a link to"));
    }
    let delivery = settings::load(env, site).await?;
    if let Some(refusal) = send_alert_link(req, env, &config, &delivery, &mail).await? {
        return Ok(refusal);
    }
    answer(env, &config, &delivery, mail, owner_session(req, env).await?, true)
}

/// Emails the unconfirmed alert address of `mail` the link that confirms it; the 429 to answer
/// instead when the site has asked [`ALERT_LINKS_PER_HOUR`] times this hour.
async fn send_alert_link(req: &Request, env: &Env, config: &SiteConfig, delivery: &SiteDelivery, mail: &MailSettings) -> Result<Option<Response>, ApiError> {
    let Some(to) = mail.alert_unconfirmed() else { return Ok(None) };
    let now = now_ms();
    let counters = [Counter::new("alert-link", &[&config.site], Limit::new(ALERT_LINKS_PER_HOUR, 3600))];
    if let Some(refusal) = rate_limit::check(env, &counters, now, None).await? {
        return Ok(Some(refusal));
    }
    let link_secret = crate::platform::vars::secret(env, "LINK_SECRET").ok_or_else(|| internal("signing an alert link", "LINK_SECRET is not set"))?;
    let token = AlertLinkClaims { site: config.site.clone(), address: to.to_owned(), issued_at: now }.sign(link_secret.as_bytes())?;
    // As every emailed link: PUBLIC_BASE_URL, or the request's origin on loopback only (never a forged Host).
    let base = email_link_base(var(env, "PUBLIC_BASE_URL").as_deref(), &crate::chat::own_origin(req)?)?;
    let link = format!("{base}/v1/mail/alert-confirm/{token}");
    let branded = Branded::with(env, config, delivery, mail, now);
    let email = render_alert_confirmation(to, &link, &branded.shop(config, &delivery.mail_link_hosts, false), delivery.owner_locale)?;
    send_now(env, &config.site, ALERT_LINK_MAIL, &format!("alert-{}", random_id()?), email).await?;
    Ok(None)
}

/// The local mailbox's `lead` column for a confirmation link (it is about no lead).
pub const ALERT_LINK_MAIL: &str = "alert-confirm";

/// `GET|POST /v1/mail/alert-confirm/:token`: a GET shows what the link does, with a button; the
/// POST confirms the address, if it is still the site's alert address. Rate-limited per client
/// like the consent links.
pub async fn follow_alert_link(req: &Request, env: &Env, token: &str) -> Result<Response, ApiError> {
    use floorwalker_core::base::locale::Locale;
    use crate::consent_links::{page, too_many_links};
    if let Some(refusal) = too_many_links(req, env).await? {
        return Ok(refusal);
    }
    let link_secret = crate::platform::vars::secret(env, "LINK_SECRET").ok_or_else(|| internal("checking an alert link", "LINK_SECRET is not set"))?;
    let claims = match AlertLinkClaims::verify(link_secret.as_bytes(), token, now_ms()) {
        Ok(claims) => claims,
        Err(e) => {
            let text = match e.code {
                ErrorCode::TokenExpired => "Срок действия ссылки истёк: отправьте её заново на экране «Почта». / This link has expired: send it again from the Email screen.",
                _ => "Ссылка недействительна. / This link is not valid.",
            };
            return page(Locale::Ru, e.http_status(), text, None);
        }
    };
    let Some(config) = sites::load(env, &claims.site).await? else {
        return page(Locale::Ru, 404, "Ссылка недействительна. / This link is not valid.", None);
    };
    let locale = settings::load(env, &claims.site).await?.owner_locale;
    let mut mail = settings::mail(env, &claims.site).await?;
    let t = |ru: String, en: String| if locale == Locale::Ru { ru } else { en };
    let (shop, to) = (&config.name, &claims.address);
    if mail.alert_to.as_deref() != Some(to.as_str()) {
        let text = t(format!("Этот адрес больше не указан для оповещений магазина «{shop}»: подтверждать нечего."), format!("This address is no longer {shop}'s alert address: there is nothing to confirm."));
        return page(locale, 409, &text, None);
    }
    if req.method() != worker::Method::Post {
        let question = t(format!("Получать на {to} оповещения магазина «{shop}» о посетителях, которые ждут ответа в чате?"), format!("Get {shop}'s alerts about visitors waiting in the chat at {to}?"));
        let button = if locale == Locale::Ru { "Да, подтверждаю" } else { "Yes, confirm" };
        return page(locale, 200, &question, Some(button));
    }
    if mail.alert_address().is_none() {
        mail.alert_confirmed = Some(to.clone());
        store(env, &claims.site, &mail).await?;
    }
    page(locale, 200, &t(format!("Готово: оповещения магазина «{shop}» будут приходить на {to}."), format!("Done: {shop}'s alerts will come to {to}.")), None)
}

/// Hands `email` to the provider now (or, with no provider, to the local mailbox under `about`).
async fn send_now(env: &Env, site: &str, about: &str, id: &str, email: EmailMessage) -> Result<(), ApiError> {
    match provider_email(env, id, email) {
        Prepared::Local(message) => {
            let data = serde_json::to_string(&message).map_err(|e| internal("encoding an email", e))?;
            db(env)?
                .query(
                    "INSERT INTO mailbox (id, site, lead, to_addr, subject, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    &[&id, &site, &about, &message.to, &message.subject, &data, &now_ms()],
                )
                .run("storing an email")
                .await
        }
        Prepared::Http(request) => match send(request, SEND_TIMEOUT_MS).await {
            AttemptResult::Response { status, .. } if (200..300).contains(&status) => Ok(()),
            AttemptResult::Response { status, .. } => Err(ApiError::new(ErrorCode::Internal, format!("the email provider refused it: HTTP {status}"))),
            other => Err(ApiError::new(ErrorCode::Internal, format!("the email provider could not be reached: {other:?}"))),
        },
        Prepared::Park(why) | Prepared::Wait(why) | Prepared::Skip(why) => {
            Err(ApiError::new(ErrorCode::InvalidConfig, format!("the email cannot be sent: {why}")))
        }
    }
}

#[derive(Deserialize)]
struct PageRow {
    data: String,
}

/// The shop's own most recently read product pages, for a sample comparison of real products.
async fn recent_products(env: &Env, site: &str) -> Result<Vec<PublishedProduct>, ApiError> {
    let rows: Vec<PageRow> = db(env)?
        .query("SELECT data FROM product_pages WHERE site = ?1 AND data IS NOT NULL ORDER BY read_at DESC LIMIT 3", &[&site])
        .all("reading product pages")
        .await?;
    Ok(rows.iter().filter_map(|row| serde_json::from_str(&row.data).ok()).collect())
}

/// The sample of one kind with `mail` settings, as the owner would receive it.
async fn render(
    req: &Request,
    env: &Env,
    config: &SiteConfig,
    mail: &MailSettings,
    kind: MailKind,
    locale: floorwalker_core::base::locale::Locale,
    to: &str,
    owner_name: &str,
) -> Result<EmailMessage, ApiError> {
    let delivery = settings::load(env, &config.site).await?;
    let now = now_ms();
    let branded = Branded::with(env, config, &delivery, mail, now);
    let shop = branded.shop(config, &delivery.mail_link_hosts, true);
    let origin = crate::chat::own_origin(req)?;
    let link_base = var(env, "PUBLIC_BASE_URL").unwrap_or_else(|| origin.clone());
    let site_origin = config.origins.first().cloned().unwrap_or(origin);
    let sample = SampleMail { kind, locale, to, owner_name, now_ms: now, origin: &site_origin, link_base: &link_base };
    let products = if kind == MailKind::Comparison { recent_products(env, &config.site).await? } else { Vec::new() };
    render_sample(&sample, &config.site, &shop, products)
}

/// `POST /v1/admin/sites/:site/email/preview` `{kind, locale, settings}`: the sample rendered with
/// the form's unsaved settings (400 for settings that would not save).
pub async fn preview(req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    let config = sites::require(env, site).await?;
    let body: MailPreviewRequest = http::read_json(req, MAX_BODY).await.map_err(as_config_error)?;
    body.settings.validate()?;
    let owner = owner_session(req, env).await?;
    let (to, name) = owner.map(|s| (s.operator.email, s.operator.name)).unwrap_or_else(|| ("you@example.com".into(), String::new()));
    let email = render(req, env, &config, &body.settings, body.kind, body.locale, &to, &name).await?;
    let preview =
        MailPreview { from: email.from, to: email.to, reply_to: email.reply_to, subject: email.subject, html: email.html, text: email.text };
    http::json(&preview, 200)
}

/// `POST /v1/admin/sites/:site/email/test` `{kind, locale?}`: one test of that kind with the saved
/// settings, to the logged-in owner's own address. 403 for the admin token (it has no address),
/// 429 past [`MAIL_TESTS_PER_HOUR`].
pub async fn test(req: &mut Request, env: &Env, site: &str) -> Result<Response, ApiError> {
    let config = sites::require(env, site).await?;
    let body: MailTestRequest = http::read_json(req, MAX_BODY).await.map_err(as_config_error)?;
    let Some(owner) = owner_session(req, env).await? else {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "a test email goes to the logged-in owner's own address: send it from the owner's console session",
        ));
    };
    let now = now_ms();
    let counters = [Counter::new("mail-test", &[site, &owner.operator.id], Limit::new(MAIL_TESTS_PER_HOUR, 3600))];
    if let Some(refusal) = rate_limit::check(env, &counters, now, None).await? {
        return Ok(refusal);
    }
    let mail = settings::mail(env, site).await?;
    let delivery = settings::load(env, site).await?;
    let locale = body.locale.unwrap_or(delivery.owner_locale);
    let email = render(req, env, &config, &mail, body.kind, locale, &owner.operator.email, &owner.operator.name).await?;
    let id = format!("test-{}", random_id()?);
    // The mailbox's `lead` column says what it was: the owner's test of this kind.
    send_now(env, site, &format!("test:{}", body.kind.as_str()), &id, email.clone()).await?;
    http::json(&MailTestSent { kind: body.kind, to: email.to, from: email.from, subject: email.subject }, 202)
}
