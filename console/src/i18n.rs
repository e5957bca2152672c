//! The console's language: English or Russian, the person's choice, kept in `localStorage` and
//! first guessed from the browser. Every text in the console is written in both, side by side,
//! where it is used: `lang.get().pick("Install", "Установка")`.

use floorwalker_core::base::locale::Locale;
use leptos::prelude::*;

pub type Lang = Locale;

const STORAGE_KEY: &str = "floorwalker-console-lang";

/// Picks the text in this language.
pub trait Pick {
    fn pick(self, en: &'static str, ru: &'static str) -> &'static str;
}

impl Pick for Locale {
    fn pick(self, en: &'static str, ru: &'static str) -> &'static str {
        match self {
            Locale::En => en,
            Locale::Ru => ru,
        }
    }
}

fn stored() -> Option<Lang> {
    let storage = web_sys::window()?.local_storage().ok()??;
    let value = storage.get_item(STORAGE_KEY).ok()??;
    Locale::from_language_tag(&value)
}

fn from_browser() -> Lang {
    web_sys::window()
        .and_then(|w| w.navigator().language())
        .and_then(|tag| Locale::from_language_tag(&tag))
        .unwrap_or(Locale::En)
}

fn tag(lang: Lang) -> &'static str {
    match lang {
        Locale::En => "en",
        Locale::Ru => "ru",
    }
}

/// Makes the language available to every component below; the page's `lang` follows it.
pub fn provide_lang() {
    let lang = RwSignal::new(stored().unwrap_or_else(from_browser));
    Effect::new(move |_| {
        let value = tag(lang.get());
        if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
            let _ = root.set_attribute("lang", value);
        }
        if let Some(Ok(Some(storage))) = web_sys::window().map(|w| w.local_storage()) {
            let _ = storage.set_item(STORAGE_KEY, value);
        }
    });
    provide_context(lang);
}

pub fn use_lang() -> RwSignal<Lang> {
    use_context::<RwSignal<Lang>>().unwrap_or_else(|| RwSignal::new(Locale::En))
}

/// The language choice: one button naming the other language. Its accessible name starts with
/// the visible "RU"/"EN", so speech control users can say what they see (axe-core's
/// label-content-name-mismatch).
#[component]
pub fn LangSwitch() -> impl IntoView {
    let lang = use_lang();
    view! {
        <button type="button" class="lang" data-test="lang"
            aria-label=move || lang.get().pick("RU — язык: русский", "EN — language: English")
            on:click=move |_| lang.update(|l| *l = if *l == Locale::En { Locale::Ru } else { Locale::En })>
            {move || lang.get().pick("RU", "EN")}
        </button>
    }
}
