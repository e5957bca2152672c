//! The visitor's context as everyone downstream sees it: operators in the console, the CRM in a
//! lead, the promised email. One summary, built from the session, so no one asks twice.

use serde::{Deserialize, Serialize};

use crate::base::locale::Locale;
use crate::base::money::Money;

/// A product as the widget detected it on a page (JSON-LD, microdata, OpenGraph, data attributes
/// or the JS API).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Product {
    /// SKU or other stable id; the same product seen twice has the same id.
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

/// Where a visit came from: one "touch" (first or last).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct Touch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_medium: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_campaign: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_term: Option<String>,
    /// Google Ads click id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gclid: Option<String>,
    /// Yandex Direct click id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yclid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    pub landing_page: String,
    /// Milliseconds since the Unix epoch.
    pub at: u64,
}

/// A product the visitor looked at, with how often and when last.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ViewedProduct {
    pub product: Product,
    pub views: u32,
    pub last_viewed_at: u64,
}

/// The answer to a question prompt (e.g. "How old is your child?").
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub question: String,
    pub answer: String,
}

/// What a lead, a chat and a CRM record carry about the visitor.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct VisitorContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_touch: Option<Touch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_touch: Option<Touch>,
    pub pages_viewed: u32,
    /// Most recent last, bounded.
    #[serde(default)]
    pub recent_pages: Vec<String>,
    /// Distinct products, most recently viewed last.
    #[serde(default)]
    pub products: Vec<ViewedProduct>,
    pub active_seconds: u32,
    #[serde(default)]
    pub answers: Vec<Answer>,
    pub returning: bool,
    pub locale: Locale,
    /// The page the visitor is on now.
    pub page_url: String,
}
