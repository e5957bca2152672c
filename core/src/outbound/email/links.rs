//! Where the links and images of the shop's mail may point: the site's own origins, and hosts its
//! owner lists (an image CDN, a second shop domain). Anything else a request or a visitor's
//! message carries never becomes a link or an image in mail sent as the shop.

use crate::base::error::{ApiError, ErrorCode};
use crate::base::url::host_of;
use crate::prompts::config::normalize_origin;

/// Hosts an owner may list for the shop's mail.
pub const MAX_MAIL_LINK_HOSTS: usize = 20;

/// The places a site's mail may link to.
#[derive(Debug, Clone, Copy)]
pub struct MailLinks<'a> {
    /// The site's origins (`SiteConfig::origins`, already normalised).
    pub origins: &'a [String],
    /// Extra hosts the owner listed (`SiteDelivery::mail_link_hosts`), reached over https only.
    pub hosts: &'a [String],
}

/// `url`'s `scheme://host[:port]`, or `None` for anything but a plain absolute http(s) URL.
/// A URL with credentials (`https://shop.example@evil.example/`) has no origin here: no shop
/// links like that, and readers are fooled by them.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains(['@', '\\']) || url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    normalize_origin(&format!("{scheme}://{authority}"))
}

impl MailLinks<'_> {
    /// Whether `url` may be a link or an image in the shop's mail.
    pub fn allows(&self, url: &str) -> bool {
        let Some(origin) = origin_of(url) else { return false };
        if url.chars().any(|c| matches!(c, '"' | '\'' | '<' | '>')) {
            return false;
        }
        if self.origins.contains(&origin) {
            return true;
        }
        origin.strip_prefix("https://").is_some_and(|host| self.hosts.iter().any(|listed| listed == host))
    }

    /// Whether a bare host written in text (`shop.example`, `www.shop.example:8080`) is one of
    /// the site's or the owner's.
    fn allows_host(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        let bare = host.split(':').next().unwrap_or_default();
        self.hosts.iter().any(|listed| *listed == bare)
            || self.origins.iter().any(|origin| host_of(origin).is_some_and(|own| own == host || own.split(':').next() == Some(bare)))
    }
}

/// Checks the owner's list of extra mail hosts: plain lowercase host names with a dot, each once.
pub fn check_mail_link_hosts(hosts: &[String]) -> Result<(), ApiError> {
    let invalid = |why: String| Err(ApiError::new(ErrorCode::InvalidConfig, why));
    if hosts.len() > MAX_MAIL_LINK_HOSTS {
        return invalid(format!("mail_link_hosts: at most {MAX_MAIL_LINK_HOSTS} hosts"));
    }
    for (index, host) in hosts.iter().enumerate() {
        let labels_ok = host.split('.').all(|label| {
            !label.is_empty() && !label.starts_with('-') && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
        if host.len() > 253 || !host.contains('.') || !labels_ok {
            return invalid(format!("mail_link_hosts: {host:?} is not a lowercase host name like \"img.shop.example\""));
        }
        if hosts[..index].contains(host) {
            return invalid(format!("mail_link_hosts: {host:?} is listed twice"));
        }
    }
    Ok(())
}

/// What a mail client would turn into a link in `token`: its host (`evil.example` in
/// `https://evil.example/pay`, `evil.example/pay`, `www.evil.example`, `billing@evil.example`).
fn linkable_host(token: &str) -> Option<String> {
    if token.contains("://") {
        return host_of(token).or_else(|| Some(String::new()));
    }
    let after_at = token.rsplit_once('@').map_or(token, |(_, host)| host);
    let host = after_at.split(['/', '?', '#']).next().unwrap_or_default();
    let name = host.split(':').next().unwrap_or_default();
    let labels: Vec<&str> = name.split('.').collect();
    let top = labels.last().copied().unwrap_or_default();
    let is_domain = labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'))
        && top.chars().count() >= 2
        && top.chars().all(char::is_alphabetic);
    is_domain.then(|| host.to_owned())
}

/// A visitor's words made safe to mail as the shop: every link or address that is not the
/// site's own is defanged (`https[:]//evil[.]example/pay`), so no mail client makes it clickable.
/// The words themselves stay as written.
pub fn defang_foreign_links(text: &str, links: &MailLinks<'_>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let core = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '/');
        let foreign = match linkable_host(core) {
            None => false,
            Some(host) if core.contains("://") => !links.allows(core) || host.is_empty(),
            Some(host) => !links.allows_host(&host),
        };
        if foreign {
            out.push_str(&word.replace("://", "[:]//").replace('.', "[.]").replace('@', "[at]"));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_whitespace() {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}
