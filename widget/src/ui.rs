//! What the visitor sees. Styles live inside the shadow root and reset inherited ones.

use std::rc::Rc;

use floorwalker_core::config::{readable_text_on, Locale, Position};
use leptos::prelude::*;

use crate::browser::Context;

#[derive(Clone)]
pub struct WidgetState {
    open: RwSignal<bool>,
}

impl WidgetState {
    pub fn new() -> Self {
        WidgetState { open: RwSignal::new(false) }
    }

    pub fn set_open(&self, open: bool) {
        self.open.set(open);
    }
}

const STYLE: &str = include_str!("widget.css");

struct Copy {
    open_label: &'static str,
    close_label: &'static str,
    greeting: &'static str,
}

fn copy(locale: Locale) -> Copy {
    match locale {
        Locale::Ru => Copy {
            open_label: "Открыть помощника",
            close_label: "Закрыть",
            greeting: "Здравствуйте! Если нужна помощь с выбором — мы рядом.",
        },
        Locale::En => Copy {
            open_label: "Open assistant",
            close_label: "Close",
            greeting: "Hello! If you need a hand choosing, we are here.",
        },
    }
}

pub fn widget(context: Rc<Context>, state: WidgetState) -> impl IntoView {
    let theme = &context.config.widget.theme;
    let text = copy(context.locale);
    let brand_style = format!("background:{};color:{}", theme.brand_color, readable_text_on(&theme.brand_color));
    let side = match theme.position {
        Position::BottomRight => "fw right",
        Position::BottomLeft => "fw left",
    };
    let open = state.open;
    let shop_name = context.config.name.clone();
    let header_style = brand_style.clone();
    view! {
        <style>{STYLE}</style>
        <div class=side lang=match context.locale { Locale::Ru => "ru", Locale::En => "en" }>
            <Show when=move || open.get()>
                <section class="panel" role="dialog" aria-label=shop_name.clone()>
                    <header style=header_style.clone()>
                        <strong>{shop_name.clone()}</strong>
                        <button class="close" aria-label=text.close_label on:click=move |_| open.set(false)>"×"</button>
                    </header>
                    <p aria-live="polite">{text.greeting}</p>
                </section>
            </Show>
            <button
                class="launcher"
                style=brand_style
                aria-label=text.open_label
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)
            >
                <svg viewBox="0 0 24 24" width="26" height="26" aria-hidden="true">
                    <path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/>
                </svg>
            </button>
        </div>
    }
}
