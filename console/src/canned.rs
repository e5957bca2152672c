//! The reply box's canned replies: `/` and a few letters list the shop's replies (core's
//! `chat::canned::matching`) in a listbox under the box; arrows move, Enter or Tab puts the reply
//! in the box (to edit or send), Escape closes the list. The box is an ARIA combobox, so a screen
//! reader announces the list and the highlighted reply.

use floorwalker_core::chat::canned::{matching, CannedReplies, CannedReply};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::{use_lang, Pick};
use crate::net;

/// The site's replies, read once for the reply box.
pub fn load() -> RwSignal<Vec<CannedReply>> {
    let replies = RwSignal::new(Vec::new());
    spawn_local(async move {
        if let Ok(list) = net::get::<CannedReplies>("/v1/console/canned-replies").await {
            replies.try_set(list.replies);
        }
    });
    replies
}

/// The state of the list for one reply box.
#[derive(Clone, Copy)]
pub struct Picker {
    replies: RwSignal<Vec<CannedReply>>,
    draft: RwSignal<String>,
    highlighted: RwSignal<usize>,
    /// Escape closes the list until the draft changes.
    closed_for: RwSignal<Option<String>>,
}

impl Picker {
    pub fn new(replies: RwSignal<Vec<CannedReply>>, draft: RwSignal<String>) -> Picker {
        Picker { replies, draft, highlighted: RwSignal::new(0), closed_for: RwSignal::new(None) }
    }

    fn found(&self) -> Vec<CannedReply> {
        let draft = self.draft.get();
        if self.closed_for.get().as_deref() == Some(draft.as_str()) {
            return Vec::new();
        }
        self.replies.with(|replies| matching(replies, &draft).map(|found| found.into_iter().cloned().collect()).unwrap_or_default())
    }

    pub fn open(&self) -> bool {
        !self.found().is_empty()
    }

    /// Handles a key in the reply box; `true` when it was the list's (the box must not act on it).
    pub fn key(&self, key: &str) -> bool {
        let found = self.found();
        if found.is_empty() {
            return false;
        }
        let last = found.len() - 1;
        let at = self.highlighted.get_untracked().min(last);
        match key {
            "ArrowDown" => self.highlighted.set(if at == last { 0 } else { at + 1 }),
            "ArrowUp" => self.highlighted.set(if at == 0 { last } else { at - 1 }),
            "Enter" | "Tab" => self.choose(&found[at]),
            "Escape" => self.closed_for.set(Some(self.draft.get_untracked())),
            _ => return false,
        }
        true
    }

    fn choose(&self, reply: &CannedReply) {
        self.draft.set(reply.text.clone());
        self.highlighted.set(0);
    }

    /// Call when the operator typed: a new search starts at its first reply.
    pub fn typed(&self) {
        self.highlighted.set(0);
    }

    /// The id of the highlighted option, for the box's `aria-activedescendant`.
    pub fn active_id(&self) -> Option<String> {
        self.open().then(|| format!("canned-{}", self.highlighted.get()))
    }
}

/// The list under the reply box (empty, and hidden, unless the draft is a search).
#[component]
pub fn CannedList(picker: Picker) -> impl IntoView {
    let lang = use_lang();
    view! {
        <ul id="canned-list" class="canned" role="listbox" data-test="canned-list" hidden=move || !picker.open()
            aria-label=move || lang.get().pick("Canned replies", "Готовые ответы")>
            {move || picker.found().into_iter().enumerate().map(|(i, reply)| {
                let chosen = reply.clone();
                view! {
                    <li id=format!("canned-{i}") role="option" data-test="canned-option" data-shortcut=reply.shortcut.clone()
                        aria-selected=move || (picker.highlighted.get() == i).to_string()
                        // mousedown, not click: the reply box keeps its focus.
                        on:mousedown=move |ev| { ev.prevent_default(); picker.choose(&chosen); }>
                        <strong>"/"{reply.shortcut.clone()}</strong>" "<span>{reply.text.clone()}</span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
