//! On a phone the launcher keeps off the page's text. A fixed button in a corner of a 360 px
//! screen sits on whatever the page has there (on the demo's product page, the availability line),
//! so on narrow screens the widget looks under the launcher once a second, when the page has moved,
//! and lifts it along its edge to the lowest spot with no text under it (or leaves it where it was
//! when there is none). Wider screens have margins to spare; there it stays put.

use std::cell::Cell;

use floorwalker_core::base::text::decimal;
use wasm_bindgen::JsCast;

use super::App;

/// Screens this wide or narrower get the placement (the cards' phone layout starts here too).
const NARROW_MAX_WIDTH: f64 = 480.0;
/// How far each try lifts the launcher, in CSS pixels.
const LIFT_STEP: f64 = 32.0;
/// The highest lift tried, as a share of the viewport's height.
const MAX_LIFT_SHARE: f64 = 0.5;
/// Points sampled per side of the launcher's box when looking for text under it.
const SAMPLES: u32 = 4;

thread_local! {
    /// Where the page was (scroll, width, height) when the launcher was last placed.
    static PLACED_FOR: Cell<Option<(f64, f64, f64)>> = const { Cell::new(None) };
}

impl App {
    pub(super) fn keep_launcher_off_text(&self) {
        let window = &self.cx.window;
        let size = |value: Result<wasm_bindgen::JsValue, _>| value.ok().and_then(|v| v.as_f64()).unwrap_or(0.0);
        let page = (window.scroll_y().unwrap_or(0.0), size(window.inner_width()), size(window.inner_height()));
        if PLACED_FOR.get() == Some(page) {
            return;
        }
        PLACED_FOR.set(Some(page));
        let launcher = &self.shell.launcher;
        let _ = launcher.remove_attribute("style");
        let (Some(document), true) = (self.cx.document(), page.1 <= NARROW_MAX_WIDTH) else { return };
        let home = launcher.get_bounding_client_rect();
        let mut lift = 0.0;
        while lift <= page.2 * MAX_LIFT_SHARE {
            let top = home.top() - lift;
            if !text_under(&document, &self.shell.host, home.left(), top, home.width(), home.height()) {
                if lift > 0.0 {
                    // Whole pixels (steps of LIFT_STEP): no float formatting in the first load.
                    let _ = launcher.set_attribute("style", &["transform:translateY(-", &decimal(lift as u64), "px)"].concat());
                }
                return;
            }
            lift += LIFT_STEP;
        }
    }
}

/// Whether any of the page's text (outside the widget) has a line box inside the rectangle.
fn text_under(document: &web_sys::Document, host: &web_sys::Element, left: f64, top: f64, width: f64, height: f64) -> bool {
    let Ok(range) = document.create_range() else { return false };
    let inside = |r: &web_sys::DomRect| {
        r.width() > 0.0 && r.left() < left + width && r.right() > left && r.top() < top + height && r.bottom() > top
    };
    let step = |n: u32, of: f64| (f64::from(n) + 0.5) * of / f64::from(SAMPLES);
    for (i, j) in (0..SAMPLES).flat_map(|i| (0..SAMPLES).map(move |j| (i, j))) {
        let (x, y) = (left + step(i, width), top + step(j, height));
        for element in document.elements_from_point(x as f32, y as f32).iter() {
            let Ok(element) = element.dyn_into::<web_sys::Element>() else { continue };
            if element == *host {
                continue;
            }
            let children = element.child_nodes();
            for index in 0..children.length() {
                let Some(node) = children.item(index) else { continue };
                let is_text = node.node_type() == web_sys::Node::TEXT_NODE
                    && node.text_content().is_some_and(|text| !text.trim().is_empty());
                if !is_text || range.select_node_contents(&node).is_err() {
                    continue;
                }
                let Some(rects) = range.get_client_rects() else { continue };
                if (0..rects.length()).filter_map(|n| rects.get(n)).any(|rect| inside(&rect)) {
                    return true;
                }
            }
        }
    }
    false
}
