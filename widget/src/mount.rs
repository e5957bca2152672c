//! Creating the widget's host element and shadow root, and mounting the Leptos view inside it.

use std::rc::Rc;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use crate::app::{App, ChatLoad, Ui};
use crate::browser::Context;
use crate::ui;

/// The id of the element the widget adds to the host page; everything else is in its shadow root.
pub const HOST_ELEMENT_ID: &str = "floorwalker-root";

pub struct Mounted {
    pub app: Rc<App>,
    host: web_sys::Element,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.app.stop();
        self.host.remove();
    }
}

pub fn mount(context: Context) -> Result<Mounted, JsValue> {
    let document = context.window.document().ok_or("no document")?;
    if document.get_element_by_id(HOST_ELEMENT_ID).is_some() {
        return Err("the widget is already on this page".into());
    }
    let host = document.create_element("div")?;
    host.set_id(HOST_ELEMENT_ID);
    let shadow = host.attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))?;
    document.body().ok_or("no body")?.append_child(&host)?;
    let ui = Ui {
        open: RwSignal::new(false),
        prompt: RwSignal::new(None),
        announce: RwSignal::new(String::new()),
        chat: RwSignal::new(ChatLoad::NotLoaded),
        unread: RwSignal::new(0),
    };
    let widget = &context.config.widget;
    let (locale, brand, position, name) =
        (context.locale, widget.theme.brand_color.clone(), widget.theme.position, context.config.name.clone());
    let app = App::start(context, ui);
    app.shadow.replace(Some(shadow.clone()));
    // Leptos only appends children to the parent it is given, which a ShadowRoot supports.
    leptos::mount::mount_to(shadow.unchecked_into(), move || ui::widget(ui, locale, brand, position, name)).forget();
    Ok(Mounted { app, host })
}
