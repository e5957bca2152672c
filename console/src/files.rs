//! A file in a conversation as the console shows it: a picture inline (a link to the full size),
//! anything else a link with its name and size. `href` is the console's download route.

use floorwalker_core::chat::attachment::Attachment;
use leptos::prelude::*;

pub fn shown(file: &Attachment, href: &str) -> AnyView {
    let label = format!("{} · {}", file.name, file.size_words());
    if file.kind.is_image() {
        view! {
            <a class="file" data-test="attachment" href=href.to_owned() target="_blank" rel="noopener">
                <img src=href.to_owned() alt=file.name.clone() loading="lazy"/>
                <span class="file-name">{label}</span>
            </a>
        }
        .into_any()
    } else {
        view! {
            <a class="file" data-test="attachment" href=href.to_owned() target="_blank" rel="noopener" download=file.name.clone()>
                {document_icon()}{label}
            </a>
        }
        .into_any()
    }
}

/// Icons drawn as SVG, not emoji: a machine without an emoji font (headless Chromium, many Linux
/// desktops) shows emoji as empty boxes.
pub fn paperclip_icon() -> impl IntoView {
    view! {
        <svg class="icon" aria-hidden="true" viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
            <path d="M20 11.5l-8 8a5 5 0 0 1-7-7l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7L9.7 17.2a1.7 1.7 0 0 1-2.4-2.4L14.5 7.6"/>
        </svg>
    }
}

fn document_icon() -> impl IntoView {
    view! {
        <svg class="icon" aria-hidden="true" viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round">
            <path d="M6 2.5h8l4.5 4.5v14.5H6z"/>
            <path d="M14 2.5V7h4.5"/>
        </svg>
    }
}
