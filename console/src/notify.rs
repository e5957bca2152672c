//! The console asks for attention when the hub announces something (core's `Alert`: a new
//! conversation, a callback request, a message left after hours): a short tone, and while the tab
//! is hidden a desktop notification. The browser's permission for those is asked only from the
//! operator's own click (browsers ignore, and people resent, a request nobody asked for).

use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

/// `granted`, `denied`, `default` (not asked yet) or `unsupported`.
pub fn permission() -> String {
    let supported = web_sys::window().is_some_and(|w| js_sys::Reflect::has(&w, &JsValue::from_str("Notification")).unwrap_or(false));
    if !supported {
        return "unsupported".to_owned();
    }
    match web_sys::Notification::permission() {
        web_sys::NotificationPermission::Granted => "granted",
        web_sys::NotificationPermission::Denied => "denied",
        _ => "default",
    }
    .to_owned()
}

/// Asks for the permission (call from a click) and answers what the person chose.
pub async fn ask() -> String {
    if permission() != "default" {
        return permission();
    }
    if let Ok(promise) = web_sys::Notification::request_permission() {
        let _ = JsFuture::from(promise).await;
    }
    permission()
}

/// A tone, and a desktop notification when the tab is not in front and notifications are allowed.
pub fn announce(text: &str) {
    tone();
    let hidden = web_sys::window().and_then(|w| w.document()).is_some_and(|d| d.hidden());
    if hidden && permission() == "granted" {
        let options = web_sys::NotificationOptions::new();
        options.set_body(text);
        options.set_tag("floorwalker-console");
        let _ = web_sys::Notification::new_with_options("Floorwalker", &options);
    }
}

/// 150 ms at 880 Hz, quietly. Browsers allow sound once the person has interacted with the page
/// (they logged in); before that the context stays suspended and nothing is heard.
fn tone() {
    let Ok(context) = web_sys::AudioContext::new() else { return };
    let (Ok(oscillator), Ok(gain)) = (context.create_oscillator(), context.create_gain()) else { return };
    oscillator.frequency().set_value(880.0);
    gain.gain().set_value(0.05);
    let now = context.current_time();
    let wired = oscillator
        .connect_with_audio_node(&gain)
        .and_then(|_| gain.connect_with_audio_node(&context.destination()))
        .and_then(|_| oscillator.start())
        .and_then(|()| oscillator.stop_with_when(now + 0.15));
    if wired.is_err() {
        let _ = context.close();
    }
}
