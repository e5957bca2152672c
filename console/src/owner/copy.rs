//! "Copy" for what a screen shows once or wants pasted elsewhere (the tag, a signing secret, an
//! invitation link, a deal token's URL): one button, and a status line that says whether it worked
//! and then clears, so a "Copied" from a minute ago never vouches for a later copy.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};

use crate::i18n::{use_lang, Pick};
use crate::net;

/// How long "Copied" stays: long enough to be read (and announced), short enough not to linger.
const SHOWN_MS: i32 = 3000;

/// A copy button for `text` and its status line (`data-test=copy-status`). `select_id` names the
/// text box holding the same text: where the clipboard is refused it is selected, so Ctrl+C works.
#[component]
pub fn CopyButton(
    #[prop(into)] text: Signal<String>,
    label: (&'static str, &'static str),
    test: &'static str,
    #[prop(optional)] select_id: Option<&'static str>,
    #[prop(optional)] primary: bool,
) -> impl IntoView {
    let lang = use_lang();
    let copied = RwSignal::new(None::<bool>);
    // Which click the status belongs to: an older click's timer must not clear a newer status.
    let clicks = StoredValue::new(0u32);
    let copy = move |_| {
        copied.set(None);
        clicks.update_value(|n| *n += 1);
        let click = clicks.get_value();
        spawn_local(async move {
            let ok = to_clipboard(&text.get_untracked(), select_id).await;
            copied.try_set(Some(ok));
            net::later(SHOWN_MS, move || {
                if clicks.try_get_value() == Some(click) {
                    copied.try_set(None);
                }
            });
        });
    };
    let status = move || {
        let lang = lang.get();
        match (copied.get(), select_id) {
            (Some(true), _) => lang.pick("Copied", "Скопировано"),
            (Some(false), Some(_)) => lang.pick("Could not copy: it is selected, press Ctrl+C", "Не удалось скопировать: текст выделен, нажмите Ctrl+C"),
            (Some(false), None) => lang.pick("Could not copy: select it and copy by hand", "Не удалось скопировать: выделите и скопируйте вручную"),
            (None, _) => "",
        }
    };
    view! {
        <button type="button" class:primary=primary data-test=test on:click=copy>{move || lang.get().pick(label.0, label.1)}</button>
        <span role="status" class="copy-status" data-test="copy-status" data-copied=move || copied.get().map(|ok| ok.to_string())>{status}</span>
    }
}

/// Copies `text` with the asynchronous clipboard API (reached by reflection: no unstable web-sys
/// feature); where that is missing or refused, selects the element `select_id` and tries the older
/// copy command. `true` when the text was copied.
pub async fn to_clipboard(text: &str, select_id: Option<&str>) -> bool {
    let Some(window) = web_sys::window() else { return false };
    let clipboard = js_sys::Reflect::get(&window.navigator(), &"clipboard".into()).ok().filter(|c| !c.is_undefined());
    if let Some(clipboard) = clipboard {
        let promise = call_method(&clipboard, "writeText", &js_sys::Array::of1(&text.into())).and_then(|p| p.dyn_into::<js_sys::Promise>().ok());
        if let Some(promise) = promise {
            if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
                return true;
            }
        }
    }
    let (Some(document), Some(id)) = (window.document(), select_id) else { return false };
    let Some(element) = document.get_element_by_id(id) else { return false };
    call_method(&element, "select", &js_sys::Array::new());
    call_method(&document, "execCommand", &js_sys::Array::of1(&"copy".into())).and_then(|ok| ok.as_bool()).unwrap_or(false)
}

/// Calls `target.name(args…)` if the browser has it; the value it returned.
pub fn call_method(target: &JsValue, name: &str, args: &js_sys::Array) -> Option<JsValue> {
    let method = js_sys::Reflect::get(target, &name.into()).ok()?.dyn_into::<js_sys::Function>().ok()?;
    method.apply(target, args).ok()
}

/// For what is shown once (a secret, a token): once it is on the page it is scrolled to the middle
/// of the view and focused (its element needs `tabindex="-1"`), so it is seen and announced
/// wherever the owner had scrolled to.
pub fn reveal() -> NodeRef<leptos::html::Div> {
    let node = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let Some(element) = node.get() else { return };
        let element: &JsValue = element.as_ref();
        let centre = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&centre, &"block".into(), &"center".into());
        call_method(element, "scrollIntoView", &js_sys::Array::of1(&centre));
        let no_scroll = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&no_scroll, &"preventScroll".into(), &JsValue::TRUE);
        call_method(element, "focus", &js_sys::Array::of1(&no_scroll));
    });
    node
}
