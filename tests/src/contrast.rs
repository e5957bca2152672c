//! WCAG contrast of the widget's text, computed from the browser's own styles (the chat panel's
//! and the prompt cards' tests share it).

use serde_json::Value;

use crate::browser::{Browser, WIDGET_ROOT as SHADOW};

/// `rgb(r, g, b)` / `rgba(r, g, b, a)` as `getComputedStyle` gives them.
fn parse_rgb(css: &str) -> Option<(u8, u8, u8, f64)> {
    let inner = css.trim().strip_prefix("rgba(").or_else(|| css.trim().strip_prefix("rgb("))?.strip_suffix(')')?;
    let parts: Vec<f64> = inner.split([',', ' ', '/']).filter(|p| !p.is_empty()).map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let channel = |i: usize| parts.get(i).map(|v| v.round().clamp(0.0, 255.0) as u8);
    Some((channel(0)?, channel(1)?, channel(2)?, parts.get(3).copied().unwrap_or(1.0)))
}

/// The colour as seen: `(r, g, b)` drawn with `opacity` over the white panel.
fn over_white(r: u8, g: u8, b: u8, opacity: f64) -> (u8, u8, u8) {
    let mix = |c: u8| (f64::from(c) * opacity + 255.0 * (1.0 - opacity)).round() as u8;
    (mix(r), mix(g), mix(b))
}

/// For each named element of the panel that is present: its text colour, the first opaque
/// background behind it (walking up through the shadow root to the host) and the opacity it is
/// drawn with. `::placeholder` entries read the pseudo-element's colour.
const COLOURS: &str = "
    const opaque = c => !/^rgba\\(.*,\\s*0\\)$/.test(c) && c !== 'transparent';
    const up = e => e.parentElement || (e.getRootNode() && e.getRootNode().host) || null;
    const out = [];
    for (const [name, selector, pseudo] of arguments[0]) {
        const el = root.querySelector(selector);
        if (!el) continue;
        let bg = 'rgb(255, 255, 255)', opacity = 1;
        for (let e = el; e; e = up(e)) {
            opacity *= parseFloat(getComputedStyle(e).opacity);
        }
        for (let e = el; e; e = up(e)) {
            const c = getComputedStyle(e).backgroundColor;
            if (opaque(c)) { bg = c; break; }
        }
        out.push([name, getComputedStyle(el, pseudo || null).color, bg, opacity]);
    }
    return out;";

/// Measures the listed elements and asserts WCAG AA (4.5:1) for each; returns the names measured.
pub async fn assert_contrast(browser: &Browser, brand: &str, elements: &[(&str, &str, &str)]) -> Vec<String> {
    use floorwalker_core::prompts::contrast::{contrast_ratio, luminance_of, WCAG_AA_TEXT};
    let list: Vec<Value> = elements.iter().map(|(n, s, p)| serde_json::json!([n, s, p])).collect();
    let measured = browser.eval(&format!("{SHADOW} {COLOURS}"), vec![Value::Array(list)]).await;
    let mut names = Vec::new();
    let mut failures = Vec::new();
    for row in measured.as_array().expect("rows") {
        let name = row[0].as_str().unwrap_or_default().to_owned();
        let (fg, bg) = (row[1].as_str().unwrap_or_default(), row[2].as_str().unwrap_or_default());
        let opacity = row[3].as_f64().unwrap_or(1.0);
        let (fr, fg_g, fb, fa) = parse_rgb(fg).unwrap_or_else(|| panic!("{name}: colour {fg:?}"));
        let (br, bg_g, bb, _) = parse_rgb(bg).unwrap_or_else(|| panic!("{name}: background {bg:?}"));
        // Text with its own alpha is drawn over its background; the element's opacity over white.
        let blend = |f: u8, b: u8| (f64::from(f) * fa + f64::from(b) * (1.0 - fa)).round() as u8;
        let (fr, fg_g, fb) = over_white(blend(fr, br), blend(fg_g, bg_g), blend(fb, bb), opacity);
        let (br, bg_g, bb) = over_white(br, bg_g, bb, opacity);
        let ratio = contrast_ratio(luminance_of(fr, fg_g, fb), luminance_of(br, bg_g, bb));
        eprintln!("{brand} {name}: {fg} on {bg} (opacity {opacity}) = {ratio:.2}:1");
        if ratio < WCAG_AA_TEXT {
            failures.push(format!("{name}: {fg} on {bg} (opacity {opacity}) is {ratio:.2}:1"));
        }
        names.push(name);
    }
    assert!(failures.is_empty(), "brand {brand}: below WCAG AA 4.5:1: {failures:?}");
    names
}
