//! The owner's canned replies, on the Team screen: the answers the team gives again and again,
//! each with the shortcut operators type after `/` in the reply box. Saved as a whole list
//! (`PUT …/canned-replies`); core normalises and checks it, and a problem shows at its row.

use floorwalker_core::chat::canned::{CannedReplies, CannedReply, MAX_REPLIES, MAX_SHORTCUT_CHARS};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::{use_lang, Pick};
use crate::net;
use crate::notice::Notice;

/// One row being edited; `key` keeps a row's inputs when another row goes.
#[derive(Clone)]
struct Row {
    key: u32,
    shortcut: RwSignal<String>,
    text: RwSignal<String>,
}

#[component]
pub fn CannedEditor(site: StoredValue<String>) -> impl IntoView {
    let lang = use_lang();
    let rows = RwSignal::new(Vec::<Row>::new());
    let next_key = StoredValue::new(0u32);
    let notice = RwSignal::new(None::<Notice>);
    // The row a refusal is about (`replies[2].…`), to mark it.
    let refused_row = RwSignal::new(None::<u32>);
    // Until the stored list arrives nothing can be added or saved: the list would replace a row
    // typed meanwhile, and saving would overwrite the stored replies with the few typed.
    let loaded = RwSignal::new(false);
    let new_row = move |reply: CannedReply| {
        next_key.update_value(|k| *k += 1);
        Row { key: next_key.get_value(), shortcut: RwSignal::new(reply.shortcut), text: RwSignal::new(reply.text) }
    };
    let path = move || net::site_path(&site.get_value(), "canned-replies");
    let fill = move |list: CannedReplies| rows.set(list.replies.into_iter().map(new_row).collect());
    spawn_local(async move {
        match net::get::<CannedReplies>(&path()).await {
            Ok(list) => {
                fill(list);
                loaded.set(true);
            }
            Err(e) => notice.set(Some(Notice::failed("Could not load the canned replies", "Не удалось загрузить готовые ответы", e))),
        }
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let list = CannedReplies {
            replies: rows.get_untracked().iter().map(|r| CannedReply { shortcut: r.shortcut.get_untracked(), text: r.text.get_untracked() }).collect(),
        };
        notice.set(None);
        refused_row.set(None);
        spawn_local(async move {
            match net::put::<CannedReplies>(&path(), &list).await {
                Ok(stored) => {
                    fill(stored);
                    notice.set(Some(Notice::Said("Saved.", "Сохранено.")));
                }
                Err(e) => {
                    let index = e.field.as_deref().and_then(row_of);
                    refused_row.set(index.and_then(|i| rows.with_untracked(|rows| rows.get(i).map(|row| row.key))));
                    notice.set(Some(Notice::failed("Not saved", "Не сохранено", e)));
                }
            }
        });
    };
    let add = move |_| {
        rows.update(|rows| rows.push(new_row(CannedReply { shortcut: String::new(), text: String::new() })));
        // The new row's shortcut is where the owner types next.
        net::later(0, move || {
            let last = web_sys::window().and_then(|w| w.document()).and_then(|d| d.query_selector("[data-test=canned-row]:last-of-type input").ok().flatten());
            if let Some(input) = last {
                let _ = js_sys::Reflect::get(&input, &"focus".into())
                    .ok()
                    .and_then(|f| wasm_bindgen::JsCast::dyn_into::<js_sys::Function>(f).ok())
                    .map(|focus| focus.call0(&input));
            }
        });
    };
    view! {
        <section class="canned-editor" aria-labelledby="canned-heading" data-test="canned-editor" aria-busy=move || (!loaded.get()).to_string()>
            <h3 id="canned-heading">{move || lang.get().pick("Canned replies", "Готовые ответы")}</h3>
            <p class="muted">{move || lang.get().pick(
                "Answers your team gives again and again. In a chat, type / and the first letters of the shortcut, then Enter.",
                "Ответы, которые команда даёт снова и снова. В чате наберите / и первые буквы сокращения, затем Enter.")}</p>
            <form on:submit=save>
                <ol class="canned-rows">
                    <For each=move || rows.get() key=|row: &Row| row.key let:row>
                        {
                            let remove_key = row.key;
                            view! {
                                <li data-test="canned-row" class:refused=move || refused_row.get() == Some(remove_key)>
                                    <label>
                                        <span>{move || lang.get().pick("Shortcut", "Сокращение")}</span>
                                        <input type="text" data-test="canned-shortcut" maxlength=MAX_SHORTCUT_CHARS.to_string() autocomplete="off"
                                            prop:value=move || row.shortcut.get() on:input=move |ev| row.shortcut.set(event_target_value(&ev))/>
                                    </label>
                                    <label class="grow">
                                        <span>{move || lang.get().pick("Reply", "Ответ")}</span>
                                        <textarea rows="2" data-test="canned-text"
                                            prop:value=move || row.text.get() on:input=move |ev| row.text.set(event_target_value(&ev))></textarea>
                                    </label>
                                    <button type="button" data-test="canned-remove"
                                        on:click=move |_| rows.update(|rows| rows.retain(|r| r.key != remove_key))>
                                        {move || lang.get().pick("Remove", "Удалить")}
                                    </button>
                                </li>
                            }
                        }
                    </For>
                </ol>
                <div class="row">
                    <button type="button" data-test="canned-add" on:click=add disabled=move || !loaded.get() || rows.with(|r| r.len() >= MAX_REPLIES)>
                        {move || lang.get().pick("Add a reply", "Добавить ответ")}
                    </button>
                    <button type="submit" class="primary" data-test="canned-save" disabled=move || !loaded.get()>{move || lang.get().pick("Save replies", "Сохранить ответы")}</button>
                    <span role="status" data-test="canned-notice">{move || notice.get().map(|n| n.text(lang.get()))}</span>
                </div>
            </form>
        </section>
    }
}

/// `replies[2].text` → 2.
fn row_of(field: &str) -> Option<usize> {
    field.strip_prefix("replies[")?.split(']').next()?.parse().ok()
}
