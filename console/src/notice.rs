//! What a screen tells the person after they did something (it failed, it worked), kept as what it
//! is rather than as text, so that switching the console's language words it again.

use std::sync::Arc;

use crate::i18n::{Lang, Pick};
use crate::net::HttpError;

#[derive(Clone)]
pub enum Notice {
    /// Words of the console's own, in both languages.
    Said(&'static str, &'static str),
    /// "<what failed>: <why>", the why worded from the server's error code ([`HttpError::said`]).
    Failed { what: (&'static str, &'static str), error: HttpError },
    /// The server's refusal alone, worded for people.
    Refused(HttpError),
    /// Words of the console's own followed by a value that is not translated (an address, a name).
    SaidAbout(&'static str, &'static str, String),
    /// Anything else, worded on each showing.
    Worded(Arc<dyn Fn(Lang) -> String + Send + Sync>),
}

impl Notice {
    pub fn failed(what_en: &'static str, what_ru: &'static str, error: HttpError) -> Notice {
        Notice::Failed { what: (what_en, what_ru), error }
    }

    pub fn text(&self, lang: Lang) -> String {
        match self {
            Notice::Said(en, ru) => lang.pick(en, ru).to_owned(),
            Notice::Failed { what: (en, ru), error } => format!("{}: {}.", lang.pick(en, ru), error.said(lang)),
            Notice::Refused(error) => capitalised(&error.said(lang)) + ".",
            Notice::SaidAbout(en, ru, value) => format!("{} {value}", lang.pick(en, ru)),
            Notice::Worded(words) => words(lang),
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}
