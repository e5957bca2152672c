//! The widget's mount, in headless Chromium (wasm-bindgen-test).

use floorwalker_core::base::locale::Locale;
use floorwalker_core::base::wire;
use floorwalker_core::visitor::session::Session;
use floorwalker_core::prompts::config::{PublicSiteConfig, WidgetConfig};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().and_then(|w| w.document()).expect("a document")
}

fn config(consent_required: bool) -> Vec<u8> {
    let mut widget = WidgetConfig::default();
    widget.theme.brand_color = "#ffd400".into();
    widget.default_locale = Locale::En;
    if consent_required {
        widget.consent = floorwalker_core::prompts::config::ConsentMode::Required;
    }
    let config = PublicSiteConfig { site: "test-shop".into(), name: "Test <Shop>".into(), widget };
    floorwalker_core::base::wire::encode(&config)
}

async fn next_tick() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window().expect("window").set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 20).expect("timer");
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.expect("timer fired");
}

#[wasm_bindgen_test]
async fn mounts_in_an_isolated_shadow_root_and_obeys_commands() {
    // Append, never replace: the test runner reports through elements of its own in the body.
    let own_button = document().create_element("button").expect("button");
    own_button.set_class_name("launcher");
    document().body().expect("body").append_child(&own_button).expect("appended");
    // The API base points nowhere: a failing event send must not disturb the page.
    let widget = floorwalker_widget::start("http://127.0.0.1:9".into(), &config(true), None).expect("widget starts");

    let host = document().query_selector(floorwalker_widget::HOST_TAG).expect("query").expect("host element");
    let shadow = host.shadow_root().expect("an open shadow root");
    let launcher = shadow.query_selector("button.launcher").expect("query").expect("launcher in the shadow root");
    assert_eq!(document().query_selector_all("button.launcher").expect("query").length(), 1, "host DOM untouched but for its own button");

    let style = web_sys::window().expect("window").get_computed_style(&launcher).expect("style").expect("style");
    assert_eq!(style.get_property_value("background-color").expect("bg"), "rgb(255, 212, 0)");
    assert_eq!(style.get_property_value("color").expect("fg"), "rgb(17, 17, 17)", "dark text on a light brand colour");
    assert_eq!(launcher.get_attribute("aria-label").as_deref(), Some("Open assistant"));

    // Under `consent: required` nothing is stored before the visitor agrees...
    let storage = web_sys::window().expect("window").local_storage().expect("storage").expect("storage");
    assert_eq!(storage.get_item("fw:test-shop:visitor").expect("get"), None);
    assert_eq!(storage.get_item("fw:test-shop:state").expect("get"), None);

    // Visitor-supplied names are text, never markup.
    launcher.unchecked_ref::<web_sys::HtmlElement>().click();
    next_tick().await;
    let panel = shadow.query_selector(".panel strong").expect("query").expect("panel open");
    assert_eq!(panel.text_content().as_deref(), Some("Test <Shop>"));
    assert_eq!(launcher.get_attribute("aria-expanded").as_deref(), Some("true"));
    // No chat module to load (no loader here): the panel says so instead of failing silently.
    let state = shadow.query_selector(".panel .chat-state[role=alert]").expect("query").expect("an honest chat state");
    assert!(!state.unchecked_ref::<web_sys::HtmlElement>().hidden(), "the chat state is shown");

    // Escape closes the panel even though no UI module ever loaded, and focus returns to the launcher.
    let close_button = shadow.query_selector(".panel .close").expect("query").expect("a close button");
    assert_eq!(close_button.get_attribute("aria-label").as_deref(), Some("Close"));
    close_button.unchecked_ref::<web_sys::HtmlElement>().focus().expect("focus");
    let init = web_sys::KeyboardEventInit::new();
    init.set_key("Escape");
    init.set_bubbles(true);
    let escape = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).expect("event");
    close_button.dispatch_event(&escape).expect("dispatched");
    next_tick().await;
    assert!(shadow.query_selector(".panel:not([hidden])").expect("query").is_none(), "Escape closes the panel");
    assert_eq!(launcher.get_attribute("aria-expanded").as_deref(), Some("false"));
    assert_eq!(shadow.active_element().as_ref(), Some(&launcher), "focus goes back to the launcher");

    widget.command(js_sys::Array::of1(&"open".into()).into());
    next_tick().await;
    assert!(shadow.query_selector(".panel:not([hidden])").expect("query").is_some(), "floorwalker('open') opens it");
    let close = js_sys::Array::of1(&"close".into());
    widget.command(close.into());
    next_tick().await;
    assert!(shadow.query_selector(".panel:not([hidden])").expect("query").is_none(), "floorwalker('close') closes the panel");

    // ...and interacting with the widget is agreement: the visit is now kept.
    assert!(storage.get_item("fw:test-shop:visitor").expect("get").is_some());
    assert!(storage.get_item("fw:test-shop:state").expect("get").is_some());

    // Withdrawing removes what was kept.
    widget.command(js_sys::Array::of2(&"consent".into(), &false.into()).into());
    assert_eq!(storage.get_item("fw:test-shop:visitor").expect("get"), None);
    assert_eq!(storage.get_item("fw:test-shop:state").expect("get"), None);

    widget.destroy();
    assert!(document().query_selector(floorwalker_widget::HOST_TAG).expect("query").is_none(), "destroy removes the widget");
}

#[wasm_bindgen_test]
fn refuses_a_malformed_config_without_touching_the_page() {
    let before = document().body().expect("body").child_element_count();
    let good = config(false);
    let mut other_version = good.clone();
    other_version[0] += 1;
    let json = br#"{"site":"x","widget":{}}"#;
    for bad in [&good[..good.len() - 1], &other_version, json, b"", &[floorwalker_core::base::wire::VERSION]] {
        assert!(floorwalker_widget::start("http://127.0.0.1:9".into(), bad, None).is_err(), "{bad:?}");
    }
    assert_eq!(document().body().expect("body").child_element_count(), before);
}

#[wasm_bindgen_test]
async fn host_commands_are_safe_with_any_arguments() {
    let widget = floorwalker_widget::start("http://127.0.0.1:9".into(), &config(false), None).expect("widget starts");
    let run = |json: &str| {
        let args = js_sys::JSON::parse(json).expect("JSON args");
        widget.command(args);
    };
    // Throwing and re-entrant host callbacks must not break the widget.
    let thrower = js_sys::Function::new_no_args("throw new Error('host bug')");
    widget.command(js_sys::Array::of3(&"on".into(), &"prompt_shown".into(), &thrower).into());
    for args in [
        r#"["track","added_to_cart",{"sku":"x","qty":2,"gift":true,"nested":{"a":1}}]"#,
        r#"["track",""]"#,
        r#"["track"]"#,
        r#"["identify",{"email":"a@b.ru","user_id":42}]"#,
        r#"["identify",{}]"#,
        r#"["identify","nope"]"#,
        r#"["product",{"sku":"s1","name":"Коляска","price":"24 990","currency":"RUB"}]"#,
        r#"["product",{"name":""}]"#,
        r#"["product",null]"#,
        r#"["on","prompt_shown"]"#,
        r#"["no_such_command",1,2,3]"#,
        r#"[]"#,
        r#"["open"]"#,
        r#"["close"]"#,
        r#"["consent",true]"#,
    ] {
        run(args);
    }
    next_tick().await;
    let storage = web_sys::window().expect("window").local_storage().expect("storage").expect("storage");
    let state = storage.get_item("fw:test-shop:state").expect("get").expect("the session is stored (consent implied)");
    let state: Session = wire::from_text(&state).expect("the session in core's wire form");
    assert_eq!(state.products[0].product.id, "s1", "the JS API product is recorded: {state:?}");
    assert_eq!(state.products[0].product.price.map(|p| p.minor), Some(2_499_000));
    assert_eq!(state.products.len(), 1, "an unnamed product is ignored");
    widget.destroy();
}
