//! The DOM listeners and the one-second interval: what the browser reports, handed to the other
//! parts (attention and tracking, the chat panel's launcher). Listeners are passive and removed
//! by `App::stop`.

use wasm_bindgen::prelude::*;

use super::{with, App};
use crate::browser::later;

pub(super) type Listener = (web_sys::EventTarget, &'static str, bool, Closure<dyn FnMut(web_sys::Event)>);

impl App {
    pub(super) fn observe(&self) {
        let window: web_sys::EventTarget = self.cx.window.clone().into();
        let Some(document) = self.cx.document() else { return };
        let document: web_sys::EventTarget = document.into();
        for kind in ["pointerdown", "keydown", "wheel", "touchstart", "mousemove"] {
            self.listen(&document, kind, true, |app, _| {
                app.attend(|attention, now| {
                    attention.input(now);
                    Default::default()
                });
            });
        }
        self.listen(&window, "scroll", false, |app, _| {
            let y = app.cx.window.scroll_y().unwrap_or(0.0);
            app.attend(|attention, now| attention.scrolled(now, y));
        });
        self.listen(&document, "mouseout", false, |app, event| {
            let Some(event) = event.dyn_ref::<web_sys::MouseEvent>() else { return };
            let (left_window, y) = (event.related_target().is_none(), f64::from(event.client_y()));
            app.attend(|attention, now| attention.pointer_out(now, left_window, y));
        });
        self.listen(&document, "visibilitychange", false, |app, _| {
            let hidden = app.cx.document().is_some_and(|d| d.hidden());
            if hidden {
                // What is queued goes by beacon now: a hidden tab may never run again.
                app.flush(true);
                app.save();
            }
            app.attend(|attention, now| attention.visibility(now, hidden));
        });
        self.listen(&window, "pagehide", false, |app, _| {
            app.flush(true);
            app.save();
        });
        self.listen(&window, "popstate", false, |app, _| app.route_changed(true));
        // Dispatched by the loader's pushState/replaceState hook, after the page's own call returned.
        self.listen(&window, "floorwalker:navigate", false, |_, _| {
            later(0, || {
                with(|app| app.route_changed(false));
            });
        });
        self.listen(&document, "focusin", true, |app, event| {
            app.typing.set(event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|e| is_typing_field(&e)));
        });
        self.listen(&document, "focusout", true, |app, _| app.typing.set(false));

        let tick = Closure::<dyn FnMut()>::new(|| {
            with(|app| app.tick());
        });
        let id = self
            .cx
            .window
            .set_interval_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), 1000)
            .ok();
        self.interval.set(id);
        // Lives as long as the page: the interval is cleared in `stop`, the closure is tiny.
        tick.forget();
    }

    /// The launcher toggles the panel (touching it is consent); × and Escape close it, also
    /// before the chat's module has loaded.
    pub fn listen_to_shell(&self) {
        let launcher: web_sys::EventTarget = self.shell.launcher.clone().into();
        self.listen(&launcher, "click", false, |app, _| {
            app.grant_consent();
            app.set_open(!app.open.get());
        });
        let close: web_sys::EventTarget = self.shell.close.clone().into();
        self.listen(&close, "click", false, |app, _| app.set_open(false));
        let panel: web_sys::EventTarget = self.shell.panel.clone().into();
        self.listen(&panel, "keydown", false, |app, event| {
            if event.dyn_ref::<web_sys::KeyboardEvent>().is_some_and(|key| key.key() == "Escape") {
                app.set_open(false);
            }
        });
    }

    /// Clears the interval and removes every listener.
    pub(super) fn stop_listening(&self) {
        if let Some(id) = self.interval.take() {
            self.cx.window.clear_interval_with_handle(id);
        }
        for (target, kind, capture, closure) in self.listeners.take() {
            let _ = target.remove_event_listener_with_callback_and_bool(kind, closure.as_ref().unchecked_ref(), capture);
        }
    }

    fn listen(&self, target: &web_sys::EventTarget, kind: &'static str, capture: bool, handler: fn(&App, &web_sys::Event)) {
        let closure = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
            with(|app| handler(app, &event));
        });
        let options = web_sys::AddEventListenerOptions::new();
        options.set_passive(true);
        options.set_capture(capture);
        if target
            .add_event_listener_with_callback_and_add_event_listener_options(kind, closure.as_ref().unchecked_ref(), &options)
            .is_ok()
        {
            if let Ok(mut listeners) = self.listeners.try_borrow_mut() {
                listeners.push((target.clone(), kind, capture, closure));
            }
        }
    }
}

/// A host-page field the visitor types into: text inputs, textareas, contenteditable.
fn is_typing_field(element: &web_sys::Element) -> bool {
    match element.tag_name().to_ascii_lowercase().as_str() {
        "textarea" => true,
        "input" => !matches!(
            element.get_attribute("type").unwrap_or_default().to_ascii_lowercase().as_str(),
            "button" | "submit" | "reset" | "checkbox" | "radio" | "range" | "color" | "file" | "image" | "hidden"
        ),
        _ => element.dyn_ref::<web_sys::HtmlElement>().is_some_and(|e| e.is_content_editable()),
    }
}
