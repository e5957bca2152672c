//! Reading a product from the shop's own page for the comparison email: fetched from the site's
//! origin, parsed by core (`visitor::product::page`), cached in D1 (`product_pages`).
//!
//! D1 rather than the Cache API: the Cache API does nothing on `*.workers.dev` hosts and keeps a
//! copy per data centre, while the queue consumer runs wherever; D1 is one copy, bounded by
//! pruning on write, and the tests and the admin can see it.
//!
//! A page on the worker's own origin (the demo shop, served from the worker's static assets) is
//! read through the `ASSETS` binding, not over the network: a worker fetching its own hostname is
//! not a plain subrequest in production, and this path is the same locally and deployed. Any
//! other origin goes over the network, through the endpoint SSRF guard (https, public hosts, ports
//! 443/8443; loopback and private ranges only where the site allows private endpoints, i.e. local
//! development), with redirects followed only within the page's origin.

use std::collections::HashMap;
use std::time::Duration;

use floorwalker_core::base::error::ApiError;
use floorwalker_core::outbound::email::links::origin_of;
use floorwalker_core::outbound::email::{cached_page, page_answer, PageAnswer, PageRead, MAX_PAGE_REDIRECTS, PAGE_KEEP_MS};
use floorwalker_core::outbound::endpoint::check_endpoint_url;
use floorwalker_core::visitor::product::page::{read_product_page, PublishedProduct, MAX_PRODUCT_PAGE_BYTES};
use floorwalker_core::visitor::product::resolve_url;
use futures_util::future::{select, Either};
use serde::Deserialize;
use worker::{AbortController, D1PreparedStatement, D1Result, Delay, Env, Fetch, Headers, Method, Request, RequestInit, RequestRedirect, Response};

use crate::http::{internal, now_ms};
use crate::platform::d1::{db, rows, Db};

/// Where and how pages are read for one delivery.
pub struct Reader<'a> {
    pub env: &'a Env,
    pub site: &'a str,
    /// The worker's own public origin, whose pages are its static assets.
    pub own_origin: Option<String>,
    /// The site's `allow_private_endpoints` (local development).
    pub allow_private: bool,
    /// The longest one page may take.
    pub timeout_ms: u64,
}

#[derive(Deserialize)]
struct CachedRow {
    url: String,
    read_at: f64,
    data: Option<String>,
}

/// Cached reads by page URL: when each was read and what it published.
pub type CachedPages = HashMap<String, (u64, Option<PublishedProduct>)>;

const LOOKING_UP: &str = "reading the product page cache";

/// The statement that looks up the cache of `urls` of `site`, for a caller that batches it with
/// its own reads; [`looked_up_pages`] reads its result.
pub fn lookup_statement(db: &Db, site: &str, urls: &[String]) -> Result<D1PreparedStatement, ApiError> {
    let list = serde_json::to_string(urls).map_err(|e| internal("listing product pages", e))?;
    db.query("SELECT url, read_at, data FROM product_pages WHERE site = ?1 AND url IN (SELECT value FROM json_each(?2))", &[&site, &list])
        .statement(LOOKING_UP)
}

/// The cached reads a [`lookup_statement`] found.
pub fn looked_up_pages(result: &D1Result) -> Result<CachedPages, ApiError> {
    Ok(rows::<CachedRow>(result, LOOKING_UP)?
        .into_iter()
        .map(|row| (row.url, (row.read_at as u64, row.data.and_then(|json| serde_json::from_str::<PublishedProduct>(&json).ok()))))
        .collect())
}

/// Rows pruned per write: the cache stays bounded without a sweep of its own.
const PRUNE_BATCH: u32 = 50;

impl Reader<'_> {
    /// The products `urls` publish, in their order: from the cache when fresh, else read now; an
    /// old cached read stands in only when the page cannot be reached. `looked_up` is the cache as
    /// a caller already read it ([`lookup_statement`]); without it, one query reads it for all.
    pub async fn read_all(&self, urls: &[String], looked_up: Option<&CachedPages>) -> Result<Vec<PageRead>, ApiError> {
        let now = now_ms();
        let read_now;
        let cached = match looked_up {
            Some(cached) => cached,
            None => {
                let db = db(self.env)?;
                let result = db.batch(vec![lookup_statement(&db, self.site, urls)?], LOOKING_UP).await?;
                read_now = looked_up_pages(result.first().ok_or_else(|| internal(LOOKING_UP, "no result"))?)?;
                &read_now
            }
        };
        let mut reads = Vec::with_capacity(urls.len());
        for url in urls {
            reads.push(self.read(url, cached.get(url).cloned(), now).await?);
        }
        Ok(reads)
    }

    async fn read(&self, url: &str, cached: Option<(u64, Option<PublishedProduct>)>, now: u64) -> Result<PageRead, ApiError> {
        let (fresh, stale) = cached_page(cached, now);
        if let Some(read) = fresh {
            return Ok(read);
        }
        let read = match self.fetch(url).await {
            Fetched::Page(html) => match read_product_page(&html, url, |text| serde_json::from_str(text).ok()) {
                Some(product) => PageRead::Published(Box::new(product)),
                None => PageRead::Gone(format!("{url} publishes no product (schema.org JSON-LD or microdata)")),
            },
            Fetched::Gone(why) => PageRead::Gone(why),
            Fetched::Unreachable(why) => {
                return Ok(stale.map_or(PageRead::Unreachable(why), |product| PageRead::Published(Box::new(product))));
            }
        };
        self.remember(url, &read, now).await?;
        Ok(read)
    }

    async fn remember(&self, url: &str, read: &PageRead, now: u64) -> Result<(), ApiError> {
        let data = match read {
            PageRead::Published(product) => Some(serde_json::to_string(product).map_err(|e| internal("encoding a product", e))?),
            _ => None,
        };
        let db = db(self.env)?;
        let statements = vec![
            db.query(
                "INSERT INTO product_pages (site, url, read_at, data) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (site, url) DO UPDATE SET read_at = excluded.read_at, data = excluded.data",
                &[&self.site, &url, &now, &data],
            )
            .statement("caching a product page")?,
            db.query(
                "DELETE FROM product_pages WHERE rowid IN (SELECT rowid FROM product_pages WHERE read_at < ?1 LIMIT ?2)",
                &[&now.saturating_sub(PAGE_KEEP_MS), &PRUNE_BATCH],
            )
            .statement("pruning the product page cache")?,
        ];
        db.batch(statements, "caching a product page").await.map(|_| ())
    }

    /// The page's HTML, following redirects within its origin.
    async fn fetch(&self, url: &str) -> Fetched {
        let Some(origin) = origin_of(url) else {
            return Fetched::Gone(format!("{url} is not an http(s) page"));
        };
        let own = self.own_origin.as_deref().and_then(origin_of).is_some_and(|own| own == origin);
        if !own {
            if let Err(e) = check_endpoint_url(url, self.allow_private) {
                return Fetched::Gone(format!("{url} cannot be read: {}", e.message));
            }
        }
        let mut current = url.to_owned();
        for _ in 0..=MAX_PAGE_REDIRECTS {
            let response = match self.get(&current, own).await {
                Ok(response) => response,
                Err(why) => return Fetched::Unreachable(format!("{current}: {why}")),
            };
            let mut response = response;
            let status = response.status_code();
            match page_answer(status) {
                PageAnswer::Read => {
                    let html_type = response.headers().get("content-type").ok().flatten().is_some_and(|t| t.to_ascii_lowercase().contains("html"));
                    if !html_type {
                        return Fetched::Gone(format!("{current} is not an HTML page"));
                    }
                    let mut bytes = response.bytes().await.unwrap_or_default();
                    bytes.truncate(MAX_PRODUCT_PAGE_BYTES);
                    return Fetched::Page(String::from_utf8_lossy(&bytes).into_owned());
                }
                PageAnswer::Redirect => {
                    let location = response.headers().get("location").ok().flatten().unwrap_or_default();
                    match resolve_url(&current, &location).filter(|next| origin_of(next).as_deref() == Some(origin.as_str())) {
                        Some(next) => current = next,
                        None => return Fetched::Gone(format!("{current} redirects off the site")),
                    }
                }
                PageAnswer::Gone => return Fetched::Gone(format!("{current} answered HTTP {status}")),
                PageAnswer::Unreachable => return Fetched::Unreachable(format!("{current} answered HTTP {status}")),
            }
        }
        Fetched::Gone(format!("{url} redirects too often"))
    }

    /// One GET, raced against the timeout.
    async fn get(&self, url: &str, own: bool) -> Result<Response, String> {
        let headers = Headers::new();
        let _ = headers.set("accept", "text/html");
        let _ = headers.set("user-agent", "Floorwalker (reads product pages for the comparison email)");
        let mut init = RequestInit::new();
        init.with_method(Method::Get).with_headers(headers).with_redirect(RequestRedirect::Manual);
        let request = Request::new_with_init(url, &init).map_err(|e| format!("invalid request: {e}"))?;
        let controller = AbortController::default();
        let signal = controller.signal();
        let exchange = async {
            if own {
                self.env.assets("ASSETS")?.fetch_request(request).await
            } else {
                Fetch::Request(request).send_with_signal(&signal).await
            }
        };
        futures_util::pin_mut!(exchange);
        match select(exchange, Delay::from(Duration::from_millis(self.timeout_ms))).await {
            Either::Left((Ok(response), _)) => Ok(response),
            Either::Left((Err(e), _)) => Err(e.to_string()),
            Either::Right(((), _)) => {
                controller.abort();
                Err(format!("no answer within {} ms", self.timeout_ms))
            }
        }
    }
}

enum Fetched {
    Page(String),
    Gone(String),
    Unreachable(String),
}
