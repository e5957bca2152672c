//! A live preview of a prompt's card, drawn by the real cards: the very UI module (`fw-ui`)
//! wasm (widget-ui) that visitors' browsers load, found by its content-hashed name in the loader
//! (`/fw.js`), imported once, and handed the owner's draft in core's wire form as the widget
//! would hand it (`mount_prompt(container, card, config, on_event)`). It draws inside a shadow root
//! with the widget's own stylesheet and the owner's brand colour, in the language and at the width
//! chosen beside it. The preview is `inert`: nothing in it can be focused or submitted.

use floorwalker_core::base::locale::{Locale, Weekday};
use floorwalker_core::base::money::{Currency, Money};
use floorwalker_core::base::wire;
use floorwalker_core::insights::experiment::words::arm_label;
use floorwalker_core::prompts::card::PromptCard;
use floorwalker_core::prompts::config::{Position, PromptKind, SiteConfig};
use floorwalker_core::prompts::contrast::{is_hex_color, readable_text_on};
use floorwalker_core::prompts::judgement::thank_you_ms;
use floorwalker_core::prompts::rules::CopyVariant;
use floorwalker_core::visitor::context::Product;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::i18n::{Lang, Pick};
use crate::net;

/// The widget's stylesheet (the shadow root's), so the card looks as it does on the shop; then the
/// preview's own rules: the card sits in the page's flow instead of over the shop's corner.
const WIDGET_STYLE: &str = include_str!("../../../widget/src/widget.css");
// `.fw.right`/`.fw.left` too: the widget's corner offsets (20 px from the page's edge) are two
// classes strong, and would shift the card out of its stage.
const PREVIEW_STYLE: &str = ".fw,.fw.right,.fw.left{position:relative;bottom:auto;right:auto;left:auto;z-index:auto}\
    .fw .prompt,.fw .cards>*{position:relative;bottom:auto;left:auto;right:auto;width:100%;max-width:100%;box-sizing:border-box;animation:none}";

thread_local! {
    /// The imported cards module (its exports), once loaded.
    static MODULE: std::cell::RefCell<Option<JsValue>> = const { std::cell::RefCell::new(None) };
    /// What the card tells the widget (accept, dismiss…) goes nowhere; it asks for the visitor
    /// context only before a lead, and the preview has none to give. One for every card drawn.
    static ON_EVENT: Closure<dyn Fn(JsValue, JsValue) -> JsValue> =
        Closure::new(|_: JsValue, _: JsValue| JsValue::NULL);
}

/// `fw-ui-<hash>.js` and `.wasm`, as the loader names them.
fn module_names(loader: &str) -> Option<(String, String)> {
    let find = |ext: &str| {
        loader.match_indices("fw-ui-").find_map(|(at, _)| {
            let rest = &loader[at + "fw-ui-".len()..];
            let hash: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
            rest[hash.len()..].starts_with(ext).then(|| format!("fw-ui-{hash}{ext}"))
        })
    };
    Some((find(".js")?, find(".wasm")?))
}

async fn cards_module() -> Result<JsValue, JsValue> {
    if let Some(module) = MODULE.with(|m| m.borrow().clone()) {
        return Ok(module);
    }
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str("/fw.js")).await?.dyn_into()?;
    let loader = JsFuture::from(response.text()?).await?.as_string().unwrap_or_default();
    let (glue, wasm) = module_names(&loader).ok_or("the loader names no cards module")?;
    let import = js_sys::Function::new_with_args("url", "return import(url)");
    let module = JsFuture::from(js_sys::Promise::from(import.call1(&JsValue::NULL, &JsValue::from_str(&format!("/w/{glue}")))?)).await?;
    let init: js_sys::Function = js_sys::Reflect::get(&module, &"default".into())?.dyn_into()?;
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"module_or_path".into(), &JsValue::from_str(&format!("/w/{wasm}")))?;
    JsFuture::from(js_sys::Promise::from(init.call1(&JsValue::NULL, &options)?)).await?;
    MODULE.with(|m| *m.borrow_mut() = Some(module.clone()));
    Ok(module)
}

/// Two example products a comparison card can show, while the shop has no product views of its own.
fn sample_products(locale: Locale) -> Vec<Product> {
    let product = |id: &str, name: &str, minor: i64| Product {
        id: id.into(),
        name: name.into(),
        price: Some(Money { minor, currency: Currency::RUB }),
        image: None,
        url: None,
        category: None,
        suits_age: None,
    };
    match locale {
        Locale::Ru => vec![product("a", "Коляска Puffin 3 в 1", 4_499_000), product("b", "Коляска Vento 3 в 1", 2_499_000)],
        Locale::En => vec![product("a", "Puffin 3-in-1 stroller", 4_499_000), product("b", "Vento 3-in-1 stroller", 2_499_000)],
    }
}

/// The bytes the widget would hand the cards module: the card and the site config as served
/// (this prompt on, whatever its switch says, so an owner can look before turning it on), the
/// prompt as experiment arm `arm` shows it (0: the current words). The arm's words are drawn as
/// the prompt's, without the experiment, so the cards module does not pick an arm of its own for
/// the preview's visitor.
fn inputs(draft: &SiteConfig, index: usize, locale: Locale, after_hours: bool, arm: usize, shop_products: &[Product]) -> Option<Drawing> {
    let mut config = draft.clone();
    let prompt = config.widget.prompts.get_mut(index)?;
    *prompt = prompt.as_arm(arm).into_owned();
    prompt.experiment = None;
    // The stage is drawn in the card's own corner (the prompt's, or the arm's), as the launcher's:
    // the module then draws the card in place rather than fixed to a corner of the console's window.
    if let Some(corner) = prompt.position.take() {
        config.widget.theme.position = corner;
    }
    prompt.enabled = true;
    let (id, kind) = (prompt.id.clone(), prompt.kind.clone());
    let public = config.public();
    let callback = matches!(kind, PromptKind::Callback);
    let variant = if callback && after_hours { CopyVariant::AfterHours } else { CopyVariant::Regular };
    let card = PromptCard {
        prompt: id,
        products: match kind {
            PromptKind::ComparisonEmail if shop_products.len() >= 2 => shop_products.to_vec(),
            PromptKind::ComparisonEmail => sample_products(locale),
            _ => Vec::new(),
        },
        slots: if variant == CopyVariant::AfterHours {
            // Slots on the next open day, as a visitor late on a Sunday evening would see them.
            config.widget.business_hours.next_slots(Weekday::Sun, 23 * 60, floorwalker_core::prompts::card::CALLBACK_SLOT_MINUTES, floorwalker_core::prompts::card::CALLBACK_SLOTS)
        } else {
            Vec::new()
        },
        kind,
        variant,
        locale,
        shown_at: 0,
        callback_minutes: config.widget.callback_minutes,
        region: config.widget.phone_region(),
        answers: Vec::new(),
        thank_you_ms: thank_you_ms(&config.widget),
        // Nowhere: the preview is inert, and were it not, a form could not reach a real route.
        api_base: "https://preview.invalid".into(),
        site: config.site.clone(),
        visitor: "preview".into(),
        // Drawn as visitors see it: the on-site preview's note would only be in the way here.
        preview: false,
    };
    let brand = Some(config.widget.theme.brand_color.clone()).filter(|c| is_hex_color(c)).unwrap_or_else(|| "#1f6feb".into());
    let position = config.widget.theme.position;
    Some(Drawing { card: wire::encode(&card), config: wire::encode(&public), brand, position })
}

/// What one drawing of the card is made from.
#[derive(Clone, PartialEq)]
struct Drawing {
    card: Vec<u8>,
    config: Vec<u8>,
    brand: String,
    /// The card's corner (its own, else the launcher's): the card is drawn on that side, as on the
    /// shop's page.
    position: Position,
}

/// The shop's own products for a comparison card (`GET …/products/recent`); empty until read,
/// or when the shop has had fewer than two product views (the examples are drawn then).
fn shop_products(site: &str) -> RwSignal<Vec<Product>> {
    let products = RwSignal::new(Vec::new());
    let path = net::site_path(site, "products/recent");
    spawn_local(async move {
        if let Ok(found) = net::get::<Vec<Product>>(&path).await {
            products.try_set(found);
        }
    });
    products
}

/// The preview of prompt `index` of the draft, with its language, width and (for a callback)
/// after-hours choices.
#[component]
pub fn Preview(draft: RwSignal<Option<SiteConfig>>, index: usize, lang: RwSignal<Lang>) -> impl IntoView {
    let locale = RwSignal::new(draft.with_untracked(|d| d.as_ref().map(|d| d.widget.default_locale)).unwrap_or_default());
    let phone = RwSignal::new(false);
    let after_hours = RwSignal::new(false);
    let callback = draft.with_untracked(|d| d.as_ref().is_some_and(|d| matches!(d.widget.prompts[index].kind, PromptKind::Callback)));
    let host = NodeRef::<leptos::html::Div>::new();
    let failed = RwSignal::new(false);
    // What the card is drawn from: it is drawn again only when these change.
    let products = match draft.with_untracked(|d| d.as_ref().map(|d| d.site.clone())) {
        Some(site) if matches!(draft.with_untracked(|d| d.as_ref().map(|d| d.widget.prompts[index].kind.clone())), Some(PromptKind::ComparisonEmail)) => shop_products(&site),
        _ => RwSignal::new(Vec::new()),
    };
    // The experiment's arms by name, the control first; the arm drawn (an arm that went away is the control).
    let arms = Memo::new(move |_| {
        draft.with(|d| {
            let experiment = d.as_ref().and_then(|d| d.widget.prompts.get(index)?.experiment.as_ref());
            experiment.map(|e| (0..e.arms()).map(|arm| e.arm_name(arm).to_owned()).collect::<Vec<_>>()).unwrap_or_default()
        })
    });
    let chosen_arm = RwSignal::new(0usize);
    let arm = Memo::new(move |_| if chosen_arm.get() < arms.with(Vec::len) { chosen_arm.get() } else { 0 });
    let drawn_from = Memo::new(move |_| {
        products.with(|products| draft.with(|d| d.as_ref().and_then(|d| inputs(d, index, locale.get(), after_hours.get(), arm.get(), products))))
    });
    let at_left = move || drawn_from.with(|d| d.as_ref().is_some_and(|d| d.position == Position::BottomLeft));
    let handle = StoredValue::new_local(None::<JsValue>);
    // Which drawing is wanted: a draw waits for the cards module, and an older one (the examples,
    // before the shop's products arrived) must not land over a newer one.
    let wanted = StoredValue::new(0u32);
    Effect::new(move |_| {
        let Some(drawing) = drawn_from.get() else { return };
        let Some(host) = host.get() else { return };
        wanted.update_value(|n| *n += 1);
        let mine = wanted.get_value();
        spawn_local(async move {
            match draw(&host, &drawing, handle, move || wanted.try_get_value() == Some(mine)).await {
                Ok(()) => failed.set(false),
                Err(error) => {
                    web_sys::console::warn_2(&"floorwalker console: the preview did not draw".into(), &error);
                    failed.set(true);
                }
            }
        });
    });
    let locales = move || draft.with(|d| d.as_ref().map(|d| d.locales.clone()).unwrap_or_default());
    view! {
        <div class="preview" data-test=format!("preview-{index}")>
            <div class="preview-controls" role="group" aria-label=move || lang.get().pick("Preview", "Предпросмотр")>
                <strong>{move || lang.get().pick("Preview", "Предпросмотр")}</strong>
                {move || locales().into_iter().map(|l| view! {
                    <button type="button" aria-pressed=move || if locale.get() == l { "true" } else { "false" }
                        on:click=move |_| locale.set(l)>{l.code().to_uppercase()}</button>
                }).collect_view()}
                <button type="button" aria-pressed=move || if phone.get() { "true" } else { "false" } on:click=move |_| phone.update(|p| *p = !*p)>
                    {move || lang.get().pick("Phone width", "Ширина телефона")}
                </button>
                {callback.then(|| view! {
                    <button type="button" aria-pressed=move || if after_hours.get() { "true" } else { "false" } on:click=move |_| after_hours.update(|a| *a = !*a)>
                        {move || lang.get().pick("After hours", "Нерабочее время")}
                    </button>
                })}
                {move || arms.get().into_iter().enumerate().map(|(n, name)| {
                    let test = format!("preview-arm-{name}");
                    view! {
                        <button type="button" data-test=test aria-pressed=move || if arm.get() == n { "true" } else { "false" }
                            on:click=move |_| chosen_arm.set(n)>{move || arm_label(&name, lang.get())}</button>
                    }
                }).collect_view()}
            </div>
            <div class="preview-stage" class:phone=move || phone.get() class:at-left=at_left>
                <div class="preview-host" node_ref=host inert=true></div>
            </div>
            {move || failed.get().then(|| view! { <p class="hint">{move || lang.get().pick(
                "The preview is not available right now (the widget's files are not built?).",
                "Предпросмотр сейчас недоступен (файлы виджета не собраны?).")}</p> })}
        </div>
    }
}

/// Draws the card into `host`'s shadow root, replacing the card drawn before.
async fn draw(
    host: &web_sys::HtmlDivElement,
    drawing: &Drawing,
    handle: StoredValue<Option<JsValue>, LocalStorage>,
    still_wanted: impl Fn() -> bool,
) -> Result<(), JsValue> {
    let Drawing { card, config, brand, position } = drawing;
    let module = cards_module().await?;
    if !still_wanted() {
        return Ok(());
    }
    if let Some(previous) = handle.get_value() {
        if let Ok(destroy) = js_sys::Reflect::get(&previous, &"destroy".into()).and_then(|f| f.dyn_into::<js_sys::Function>()) {
            let _ = destroy.call0(&previous);
        }
    }
    let root = match host.shadow_root() {
        Some(root) => root,
        None => host.attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))?,
    };
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    root.set_inner_html("");
    let style = document.create_element("style")?;
    style.set_text_content(Some(&format!("{WIDGET_STYLE}{PREVIEW_STYLE}")));
    root.append_child(&style)?;
    let frame = document.create_element("div")?;
    frame.set_class_name(match position {
        Position::BottomRight => "fw right",
        Position::BottomLeft => "fw left",
    });
    frame.set_attribute("style", &format!("--fw-brand:{brand};--fw-on-brand:{}", readable_text_on(brand)))?;
    let cards = document.create_element("div")?;
    cards.set_class_name("cards");
    frame.append_child(&cards)?;
    root.append_child(&frame)?;
    let mount: js_sys::Function = js_sys::Reflect::get(&module, &"mount_prompt".into())?.dyn_into()?;
    let args = ON_EVENT.with(|on_event| {
        js_sys::Array::of4(&cards, &js_sys::Uint8Array::from(&card[..]), &js_sys::Uint8Array::from(&config[..]), on_event.as_ref())
    });
    let mounted = mount.apply(&JsValue::NULL, &args)?;
    handle.set_value(Some(mounted));
    Ok(())
}
