//! The visitor context an operator sees: what the widget sent when the chat started, or else
//! core's session folded over the visitor's stored events (the same fold the widget runs).

use floorwalker_core::base::error::ApiError;
use floorwalker_core::base::locale::Locale;
use floorwalker_core::visitor::context::VisitorContext;
use floorwalker_core::visitor::event::{Event, EventData};
use floorwalker_core::visitor::session::Session;
use serde::Deserialize;
use worker::Env;

use crate::platform::d1::db;

/// Most events folded into a context (the newest are what matter; the session bounds itself).
const MAX_EVENTS: u32 = 2000;

#[derive(Deserialize)]
struct Row {
    id: String,
    at: f64,
    data: String,
}

/// What the visitor's stored events come to.
pub struct Folded {
    /// Core's session folded over them.
    pub session: Session,
    /// The last page they viewed.
    pub page_url: String,
    /// Every page view's address and title, in order (for `VisitorContext::title_pages`).
    pub views: Vec<(String, String)>,
}

impl Folded {
    pub fn view_titles(&self) -> impl Iterator<Item = (&str, &str)> {
        self.views.iter().map(|(url, title)| (url.as_str(), title.as_str()))
    }
}

/// Folds the visitor's stored events (the newest [`MAX_EVENTS`]).
pub async fn session_from_events(env: &Env, site: &str, visitor: &str) -> Result<Folded, ApiError> {
    let rows: Vec<Row> = db(env)?
        .query(
            "SELECT id, at, data FROM (SELECT id, at, data FROM events WHERE site = ?1 AND visitor = ?2 ORDER BY at DESC LIMIT ?3) \
             ORDER BY at, id",
            &[&site, &visitor, &MAX_EVENTS],
        )
        .all("reading the visitor's events")
        .await?;
    let mut folded = Folded { session: Session::new(), page_url: String::new(), views: Vec::new() };
    for row in rows {
        let Ok(data) = serde_json::from_str::<EventData>(&row.data) else { continue };
        if let EventData::PageView(view) = &data {
            folded.page_url = view.url.clone();
            folded.views.push((view.url.clone(), view.title.clone()));
        }
        folded.session.apply(&Event { id: row.id, at: row.at as u64, data });
    }
    Ok(folded)
}

pub async fn from_events(env: &Env, site: &str, visitor: &str, locale: Locale) -> Result<VisitorContext, ApiError> {
    let folded = session_from_events(env, site, visitor).await?;
    let mut context = folded.session.context(locale, &folded.page_url);
    context.title_pages(folded.view_titles());
    Ok(context)
}

