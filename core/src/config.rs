//! The site config: what a site owner sets up, validated before it is stored.
//!
//! [`SiteConfig`] is the whole document the admin API accepts. [`PublicSiteConfig`] is the part the
//! widget may see: it never carries origins, endpoints or secrets.

use serde::{Deserialize, Serialize};

use crate::api::{ApiError, ErrorCode};
use crate::ids::validate_site_id;

/// Largest site config accepted, in bytes of JSON.
pub const MAX_CONFIG_BYTES: usize = 64 * 1024;
const MAX_ORIGINS: usize = 32;
const MAX_NAME_LEN: usize = 100;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    pub site: String,
    /// The shop's name as shown to visitors.
    pub name: String,
    /// Exact origins (`scheme://host[:port]`) allowed to load the widget and send events.
    pub origins: Vec<String>,
    #[serde(default)]
    pub widget: WidgetConfig,
}

/// Everything the widget needs to render and behave.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct WidgetConfig {
    /// The language used when the page's `<html lang>` is not one the widget speaks.
    #[serde(default)]
    pub default_locale: Locale,
    #[serde(default)]
    pub theme: Theme,
    #[serde(default)]
    pub consent: ConsentMode,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    Ru,
    En,
}

impl Locale {
    /// Picks the widget's language from a BCP 47 tag such as the page's `<html lang="en-GB">`.
    pub fn from_language_tag(tag: &str) -> Option<Locale> {
        let primary = tag.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        match primary.as_str() {
            "ru" => Some(Locale::Ru),
            "en" => Some(Locale::En),
            _ => None,
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    /// `#rrggbb`.
    #[serde(default = "Theme::default_brand_color")]
    pub brand_color: String,
    #[serde(default)]
    pub position: Position,
}

impl Theme {
    fn default_brand_color() -> String {
        "#1f6feb".into()
    }
}

impl Default for Theme {
    fn default() -> Self {
        Theme { brand_color: Theme::default_brand_color(), position: Position::default() }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    #[default]
    BottomRight,
    BottomLeft,
}

/// Whether the widget may store and send anything before the visitor agrees.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConsentMode {
    /// First-party storage and events from the start (legitimate interest).
    #[default]
    Implied,
    /// Nothing stored or sent until `floorwalker('consent', true)` or an interaction with the widget.
    Required,
}

/// What `GET /v1/sites/:site/config` serves to the widget.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct PublicSiteConfig {
    pub site: String,
    pub name: String,
    pub widget: WidgetConfig,
}

impl SiteConfig {
    pub fn public(&self) -> PublicSiteConfig {
        PublicSiteConfig { site: self.site.clone(), name: self.name.clone(), widget: self.widget.clone() }
    }

    /// Checks the whole config; the first problem found is reported with the field it concerns.
    pub fn validate(&self) -> Result<(), ApiError> {
        validate_site_id(&self.site).map_err(|e| invalid(format!("site: {}", e.message)))?;
        let name_len = self.name.trim().chars().count();
        if name_len == 0 || name_len > MAX_NAME_LEN {
            return Err(invalid(format!("name: must be 1-{MAX_NAME_LEN} characters")));
        }
        if self.origins.is_empty() || self.origins.len() > MAX_ORIGINS {
            return Err(invalid(format!("origins: list 1-{MAX_ORIGINS} origins")));
        }
        for origin in &self.origins {
            if normalize_origin(origin).as_deref() != Some(origin.as_str()) {
                return Err(invalid(format!(
                    "origins: {origin:?} is not a lowercase origin like \"https://shop.example\" (no path, no trailing slash)"
                )));
            }
        }
        if !is_hex_color(&self.widget.theme.brand_color) {
            return Err(invalid("widget.theme.brand_color: must look like #1f6feb"));
        }
        Ok(())
    }

    /// Whether a request's `Origin` header value may use this site's widget.
    pub fn allows_origin(&self, origin: &str) -> bool {
        normalize_origin(origin).is_some_and(|origin| self.origins.iter().any(|allowed| *allowed == origin))
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidConfig, message)
}

/// `scheme://host[:port]` in lowercase, or `None` if `origin` is not a plain http(s) origin.
pub fn normalize_origin(origin: &str) -> Option<String> {
    let lower = origin.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"))?;
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || rest.starts_with('[') => (host, Some(port)),
        _ => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    (host_ok && port_ok).then_some(lower)
}

fn is_hex_color(value: &str) -> bool {
    value.len() == 7 && value.starts_with('#') && value[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> SiteConfig {
        SiteConfig {
            site: "demo".into(),
            name: "Кроха".into(),
            origins: vec!["https://shop.example".into(), "http://127.0.0.1:8787".into()],
            widget: WidgetConfig::default(),
        }
    }

    #[test]
    fn minimal_json_gets_defaults() {
        let parsed: SiteConfig =
            serde_json::from_str(r#"{"site":"demo","name":"Кроха","origins":["https://shop.example"]}"#).unwrap();
        assert_eq!(parsed.widget.theme.brand_color, "#1f6feb");
        assert_eq!(parsed.widget.consent, ConsentMode::Implied);
        assert_eq!(parsed.widget.default_locale, Locale::Ru);
        parsed.validate().unwrap();
    }

    #[test]
    fn unknown_fields_are_typos_and_refused() {
        let err = serde_json::from_str::<SiteConfig>(
            r##"{"site":"demo","name":"x","origins":["https://a.b"],"widget":{"theme":{"brand_colour":"#000000"}}}"##,
        )
        .unwrap_err();
        assert!(err.to_string().contains("brand_colour"), "{err}");
    }

    #[test]
    fn refuses_bad_configs() {
        let bad = [
            SiteConfig { site: "Demo!".into(), ..config() },
            SiteConfig { name: "  ".into(), ..config() },
            SiteConfig { origins: vec![], ..config() },
            SiteConfig { origins: vec!["https://shop.example/".into()], ..config() },
            SiteConfig { origins: vec!["https://Shop.example".into()], ..config() },
            SiteConfig { origins: vec!["ftp://shop.example".into()], ..config() },
            SiteConfig { origins: vec!["https://shop.example:80a".into()], ..config() },
            SiteConfig {
                widget: WidgetConfig { theme: Theme { brand_color: "red".into(), ..Theme::default() }, ..WidgetConfig::default() },
                ..config()
            },
        ];
        for config in bad {
            assert_eq!(config.validate().expect_err("must be refused").code, ErrorCode::InvalidConfig, "{config:?}");
        }
    }

    #[test]
    fn origin_check_is_exact() {
        let config = config();
        assert!(config.allows_origin("https://shop.example"));
        assert!(config.allows_origin("HTTPS://SHOP.EXAMPLE"));
        assert!(config.allows_origin("http://127.0.0.1:8787"));
        assert!(!config.allows_origin("http://127.0.0.1:8788"));
        assert!(!config.allows_origin("https://shop.example.evil.com"));
        assert!(!config.allows_origin("https://evilshop.example"));
        assert!(!config.allows_origin("null"));
        assert!(!config.allows_origin(""));
    }

    #[test]
    fn public_config_hides_origins() {
        let public = serde_json::to_value(config().public()).unwrap();
        assert!(public.get("origins").is_none());
        assert_eq!(public["name"], "Кроха");
    }

    #[test]
    fn locale_from_html_lang() {
        assert_eq!(Locale::from_language_tag("en-GB"), Some(Locale::En));
        assert_eq!(Locale::from_language_tag("RU"), Some(Locale::Ru));
        assert_eq!(Locale::from_language_tag("de"), None);
        assert_eq!(Locale::from_language_tag(""), None);
    }
}

/// The text colour (`#ffffff` or `#111111`) with the higher WCAG contrast against `background`
/// (`#rrggbb`), so any brand colour yields a readable launcher.
pub fn readable_text_on(background: &str) -> &'static str {
    let channel = |i: usize| {
        let value = background.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).unwrap_or(0);
        let c = f64::from(value) / 255.0;
        if c <= 0.039_28 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    let luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    let contrast_with_white = 1.05 / (luminance + 0.05);
    let contrast_with_dark = (luminance + 0.05) / (0.0065 + 0.05); // #111111 has luminance ≈ 0.0065
    if contrast_with_white >= contrast_with_dark { "#ffffff" } else { "#111111" }
}

#[cfg(test)]
mod contrast_tests {
    use super::readable_text_on;

    #[test]
    fn picks_the_readable_side() {
        assert_eq!(readable_text_on("#000000"), "#ffffff");
        assert_eq!(readable_text_on("#1f6feb"), "#ffffff");
        assert_eq!(readable_text_on("#ffffff"), "#111111");
        assert_eq!(readable_text_on("#ffd400"), "#111111");
    }
}
