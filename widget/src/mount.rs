//! Creating the widget's host element and shadow root, and mounting the Leptos view inside it.

use std::rc::Rc;

use wasm_bindgen::prelude::*;

use crate::browser::Context;
use crate::ui::{self, WidgetState};

/// The id of the element the widget adds to the host page; everything else is in its shadow root.
pub const HOST_ELEMENT_ID: &str = "floorwalker-root";

pub struct Mounted {
    pub state: WidgetState,
    host: web_sys::Element,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.host.remove();
    }
}

pub fn mount(context: Rc<Context>) -> Result<Mounted, JsValue> {
    let document = context.window.document().ok_or("no document")?;
    if document.get_element_by_id(HOST_ELEMENT_ID).is_some() {
        return Err("the widget is already on this page".into());
    }
    let host = document.create_element("div")?;
    host.set_id(HOST_ELEMENT_ID);
    let shadow = host.attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))?;
    document.body().ok_or("no body")?.append_child(&host)?;
    let state = WidgetState::new();
    let view_state = state.clone();
    // Leptos only appends children to the parent it is given, which a ShadowRoot supports.
    leptos::mount::mount_to(shadow.unchecked_into(), move || ui::widget(context, view_state)).forget();
    Ok(Mounted { state, host })
}
