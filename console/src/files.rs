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
                <span aria-hidden="true">"📄 "</span>{label}
            </a>
        }
        .into_any()
    }
}
