//! The owner's "Install" screen («Установка»): is the widget working, the tag to paste (with a
//! copy button), and the site's allowed origins, each with when the widget last loaded there,
//! plus the origins where the tag was refused, each with a button to allow it.
//!
//! Core decides everything shown here (`prompts::install`: what a typed origin means and why it is
//! refused, in the owner's language; whether a load is recent; the verdict); the worker answers the
//! check with it (`GET sites/:site/install`) and changes one origin at a time (`POST`/`DELETE
//! sites/:site/origins`), so the rest of the config is never sent back from here. The check is
//! polled while the screen is open, so a visit to the shop shows up without a reload; rows are
//! keyed by origin, so a poll never takes the keyboard focus away from a button.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use floorwalker_core::prompts::install::{ago, origin_to_add, InstallCheck, LoadState, OriginInput, OriginProblem, Verdict};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use super::copy::CopyButton;
use crate::notice::Notice;
use crate::i18n::{use_lang, Lang, Pick};
use crate::net;

/// How often the open screen asks for the check again.
const POLL_MS: i32 = 5_000;

/// A refusal shown next to a field: core's problem or, for anything else the server answered, its
/// code in words (both said in the owner's current language).
#[derive(Clone, PartialEq)]
enum FieldError {
    Problem(OriginProblem),
    Other(net::HttpError),
}

impl FieldError {
    fn from_http(error: net::HttpError) -> FieldError {
        OriginProblem::recognise(&error.message).map_or(FieldError::Other(error), FieldError::Problem)
    }

    fn text(&self, lang: Lang) -> String {
        match self {
            FieldError::Problem(problem) => problem.message(lang).to_owned(),
            FieldError::Other(error) => error.said(lang),
        }
    }
}

/// The screen's state and its paths, copied into every handler.
#[derive(Clone, Copy)]
struct Screen {
    check: RwSignal<Option<InstallCheck>>,
    load_error: RwSignal<Option<Notice>>,
    /// A refusal of an "allow" or "remove" button (the add form has its own).
    action_error: RwSignal<Option<FieldError>>,
    busy: RwSignal<bool>,
    install_path: StoredValue<String>,
    origins_path: StoredValue<String>,
}

impl Screen {
    fn refresh(self) {
        let path = self.install_path.get_value();
        spawn_local(async move {
            match net::get::<InstallCheck>(&path).await {
                Ok(check) => {
                    self.check.try_set(Some(check));
                    self.load_error.try_set(None);
                }
                Err(e) => {
                    self.load_error.try_set(Some(Notice::failed("Could not check the installation", "Не удалось проверить установку", e)));
                }
            }
        });
    }

    /// Adds `origin`; `Err` carries the refusal to show.
    async fn add(self, origin: String) -> Result<(), FieldError> {
        let path = self.origins_path.get_value();
        self.busy.set(true);
        let result = net::post::<InstallCheck>(&path, &OriginInput { origin }).await;
        self.busy.try_set(false);
        let check = result.map_err(FieldError::from_http)?;
        self.check.try_set(Some(check));
        Ok(())
    }

    async fn remove(self, origin: String) -> Result<(), FieldError> {
        let query = js_sys::encode_uri_component(&origin).as_string().unwrap_or_default();
        let path = format!("{}?origin={query}", self.origins_path.get_value());
        self.busy.set(true);
        let result = net::delete::<InstallCheck>(&path).await;
        self.busy.try_set(false);
        let check = result.map_err(FieldError::from_http)?;
        self.check.try_set(Some(check));
        Ok(())
    }

    fn listed(self) -> Vec<String> {
        self.check.with_untracked(|c| c.as_ref().map(|c| c.origins.iter().map(|o| o.origin.clone()).collect()).unwrap_or_default())
    }
}

/// Asks for the check every [`POLL_MS`] until the screen is gone.
fn poll(screen: Screen, alive: Arc<AtomicBool>) {
    net::later(POLL_MS, move || {
        if alive.load(Ordering::Relaxed) {
            screen.refresh();
            poll(screen, alive);
        }
    });
}

/// Moves the keyboard focus to the first element `selector` finds.
fn focus_selector(selector: &str) {
    let element = web_sys::window().and_then(|w| w.document()).and_then(|d| d.query_selector(selector).ok().flatten());
    if let Some(element) = element {
        super::copy::call_method(&element, "focus", &js_sys::Array::new());
    }
}

/// Moves the keyboard focus to the element with `id` (a heading with `tabindex=-1`), after a
/// button that had it went away with its row.
fn focus(id: &str) {
    let element = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(id));
    if let Some(element) = element {
        if let Ok(focus) = js_sys::Reflect::get(&element, &"focus".into()).and_then(|f| f.dyn_into::<js_sys::Function>()) {
            let _ = focus.call0(&element);
        }
    }
}

#[component]
pub fn InstallScreen(site: String) -> impl IntoView {
    let lang = use_lang();
    let screen = Screen {
        check: RwSignal::new(None),
        load_error: RwSignal::new(None),
        action_error: RwSignal::new(None),
        busy: RwSignal::new(false),
        install_path: StoredValue::new(net::site_path(&site, "install")),
        origins_path: StoredValue::new(net::site_path(&site, "origins")),
    };
    screen.refresh();
    let alive = Arc::new(AtomicBool::new(true));
    poll(screen, alive.clone());
    on_cleanup(move || alive.store(false, Ordering::Relaxed));

    let loaded = move || screen.check.with(Option::is_some);
    view! {
        <section class="owner-screen install" data-test="install">
            <p class="error" role="alert" data-test="install-load-error">{move || screen.load_error.get().map(|n| n.text(lang.get()))}</p>
            <Show when=loaded fallback=move || view! { <p class="empty">{move || lang.get().pick("Loading…", "Загрузка…")}</p> }>
                <Status screen=screen/>
                <Refused screen=screen/>
                <Tag screen=screen/>
                <Origins screen=screen/>
            </Show>
        </section>
    }
}

/// The verdict: the most urgent thing first, in one sentence, and a button to check again.
#[component]
fn Status(screen: Screen) -> impl IntoView {
    let lang = use_lang();
    // Only a change of verdict re-renders the sentence (and is announced), not every poll.
    let verdict = Memo::new(move |_| screen.check.with(|c| c.as_ref().map(|c| c.verdict)));
    let working_at = Memo::new(move |_| {
        screen.check.with(|c| {
            c.as_ref().and_then(|c| {
                c.origins.iter().filter(|o| o.state == LoadState::Recent).min_by_key(|o| o.loaded_ago_ms).map(|o| o.origin.clone())
            })
        })
    });
    let sentence = move || {
        let lang = lang.get();
        match verdict.get() {
            Some(Verdict::Unlisted) => lang
                .pick(
                    "Your tag is on a site that is not in your list of origins, so the widget does not load there. Allow it below if it is yours.",
                    "Ваш тег стоит на сайте, которого нет в списке адресов, поэтому виджет там не загружается. Если это ваш сайт, разрешите его ниже.",
                )
                .to_owned(),
            Some(Verdict::Working) => format!(
                "{} {}",
                lang.pick("The widget works: it loads on", "Виджет работает: он загружается на"),
                working_at.get().unwrap_or_default()
            ),
            Some(Verdict::Quiet) => lang
                .pick(
                    "The widget has not loaded anywhere in the last day. Check that the tag is still on your pages.",
                    "За последние сутки виджет нигде не загружался. Проверьте, что тег всё ещё стоит на страницах.",
                )
                .to_owned(),
            Some(Verdict::NotSeen) | None => lang
                .pick(
                    "Not seen yet. Paste the tag into your site, then open one of its pages: this check updates by itself.",
                    "Виджет ещё не появлялся. Вставьте тег на сайт и откройте любую его страницу — проверка обновится сама.",
                )
                .to_owned(),
        }
    };
    let class = move || match verdict.get() {
        Some(Verdict::Unlisted) => "verdict bad",
        Some(Verdict::Working) => "verdict good",
        _ => "verdict",
    };
    let data_verdict = move || match verdict.get() {
        Some(Verdict::Unlisted) => "unlisted",
        Some(Verdict::Working) => "working",
        Some(Verdict::Quiet) => "quiet",
        Some(Verdict::NotSeen) | None => "not_seen",
    };
    view! {
        <div class=class data-test="verdict" data-verdict=data_verdict>
            <h2>{move || lang.get().pick("Install check", "Проверка установки")}</h2>
            <p role="status">{sentence}</p>
            <button type="button" data-test="refresh" on:click=move |_| screen.refresh()>
                {move || lang.get().pick("Check again", "Проверить снова")}
            </button>
        </div>
    }
}

/// The origins where the tag was refused, each with a button to allow it.
#[component]
fn Refused(screen: Screen) -> impl IntoView {
    let lang = use_lang();
    let origins = Memo::new(move |_| {
        screen.check.with(|c| c.as_ref().map(|c| c.refused.iter().map(|r| r.origin.clone()).collect::<Vec<_>>()).unwrap_or_default())
    });
    let allow = move |origin: String| {
        screen.action_error.set(None);
        spawn_local(async move {
            match screen.add(origin).await {
                Ok(()) => focus("origins-heading"),
                Err(error) => {
                    screen.action_error.try_set(Some(error));
                }
            }
        });
    };
    view! {
        <Show when=move || !origins.with(Vec::is_empty)>
            <section class="refused" data-test="refused" aria-labelledby="refused-heading">
                <h2 id="refused-heading">{move || lang.get().pick("Refused origins", "Отклонённые адреса")}</h2>
                <p>{move || lang.get().pick(
                    "Pages on these origins asked for your widget, but your list does not include them, so it stays off there. Allow only sites that are yours.",
                    "Страницы этих адресов запрашивали ваш виджет, но их нет в вашем списке, поэтому он там не работает. Разрешайте только свои сайты.",
                )}</p>
                <ul>
                    <For each=move || origins.get() key=|origin: &String| origin.clone() children=move |origin: String| {
                            let name = origin.clone();
                            let seen = Memo::new(move |_| {
                                screen.check.with(|c| c.as_ref().and_then(|c| c.refused.iter().find(|r| r.origin == name).map(|r| (r.count, r.seen_ago_ms))))
                            });
                            let detail = move || {
                                let lang = lang.get();
                                seen.get().map(|(count, ago_ms)| match lang {
                                    Lang::En => format!("refused {count} {}, last {}", if count == 1 { "time" } else { "times" }, ago(ago_ms, lang)),
                                    Lang::Ru => format!("отклонено запросов: {count}, последний {}", ago(ago_ms, lang)),
                                })
                            };
                            let for_button = origin.clone();
                            let label = {
                                let origin = origin.clone();
                                move || format!("{} {origin}", lang.get().pick("Allow this origin:", "Разрешить этот адрес:"))
                            };
                            view! {
                                <li data-test="refused-origin" data-origin=origin.clone()>
                                    <span class="origin-name">{origin.clone()}</span>
                                    <span class="detail" data-test="refused-detail">{detail}</span>
                                    <button type="button" class="primary" data-test="allow-origin" aria-label=label
                                        disabled=move || screen.busy.get() on:click=move |_| allow(for_button.clone())>
                                        {move || lang.get().pick("Allow this origin", "Разрешить этот адрес")}
                                    </button>
                                </li>
                            }
                        }/>
                </ul>
            </section>
        </Show>
    }
}

/// The tag, in a read-only text box (selectable by hand too), and the copy button.
#[component]
fn Tag(screen: Screen) -> impl IntoView {
    let lang = use_lang();
    let tag = Memo::new(move |_| screen.check.with(|c| c.as_ref().map(|c| c.tag.clone()).unwrap_or_default()));
    view! {
        <section class="tag" aria-labelledby="tag-heading">
            <h2 id="tag-heading">{move || lang.get().pick("1. Paste the tag", "1. Вставьте тег")}</h2>
            <label for="install-tag">{move || lang.get().pick(
                "Paste this line before </body> on every page of your site (once, in your theme's footer, is enough).",
                "Вставьте эту строку перед </body> на каждой странице сайта (достаточно один раз — в подвале шаблона).",
            )}</label>
            <textarea id="install-tag" data-test="tag" readonly rows="3" spellcheck="false" prop:value=move || tag.get()></textarea>
            <div class="row">
                <CopyButton text=tag label=("Copy the tag", "Скопировать тег") test="copy-tag" select_id="install-tag" primary=true/>
            </div>
        </section>
    }
}

/// The allowed origins with their last load, a remove button each, and the add form.
#[component]
fn Origins(screen: Screen) -> impl IntoView {
    let lang = use_lang();
    let origins = Memo::new(move |_| {
        screen.check.with(|c| c.as_ref().map(|c| c.origins.iter().map(|o| o.origin.clone()).collect::<Vec<_>>()).unwrap_or_default())
    });
    let typed = RwSignal::new(String::new());
    let field_error = RwSignal::new(None::<FieldError>);
    let remove = move |origin: String| {
        screen.action_error.set(None);
        spawn_local(async move {
            match screen.remove(origin).await {
                Ok(()) => focus("origins-heading"),
                Err(error) => {
                    screen.action_error.try_set(Some(error));
                }
            }
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // Core's verdict at once, in the owner's language; the server checks the same again.
        match origin_to_add(&screen.listed(), &typed.get_untracked()) {
            Err(problem) => field_error.set(Some(FieldError::Problem(problem))),
            Ok(origin) => {
                field_error.set(None);
                spawn_local(async move {
                    match screen.add(origin).await {
                        Ok(()) => {
                            typed.try_set(String::new());
                        }
                        Err(error) => {
                            field_error.try_set(Some(error));
                        }
                    }
                });
            }
        }
    };
    let invalid = move || field_error.with(Option::is_some).to_string();
    view! {
        <section class="origins" aria-labelledby="origins-heading">
            <h2 id="origins-heading" tabindex="-1">{move || lang.get().pick("2. Allow your site's origins", "2. Разрешите адреса сайта")}</h2>
            <p>{move || lang.get().pick(
                "The widget loads only on pages whose origin (scheme, domain and port) is listed here.",
                "Виджет загружается только на страницах, чей адрес (схема, домен и порт) есть в этом списке.",
            )}</p>
            <p class="error" role="alert" data-test="action-error">{move || screen.action_error.get().map(|e| e.text(lang.get()))}</p>
            <ul class="origin-list" data-test="origins">
                <For each=move || origins.get() key=|origin: &String| origin.clone() children=move |origin: String| {
                        let name = origin.clone();
                        let row = Memo::new(move |_| {
                            screen.check.with(|c| c.as_ref().and_then(|c| c.origins.iter().find(|o| o.origin == name).map(|o| (o.state, o.loaded_ago_ms))))
                        });
                        let state = move || match row.get().map(|(state, _)| state) {
                            Some(LoadState::Recent) => "recent",
                            Some(LoadState::Stale) => "stale",
                            _ => "never",
                        };
                        let load = move || {
                            let lang = lang.get();
                            match row.get() {
                                Some((LoadState::Recent, Some(ms))) => format!("✓ {} {}", lang.pick("widget loaded", "виджет загрузился"), ago(ms, lang)),
                                Some((LoadState::Stale, Some(ms))) => format!(
                                    "{} {} — {}",
                                    lang.pick("last loaded", "последняя загрузка"),
                                    ago(ms, lang),
                                    lang.pick("is the tag still there?", "тег всё ещё на месте?")
                                ),
                                _ => lang.pick("no load yet", "загрузок пока не было").to_owned(),
                            }
                        };
                        let for_button = origin.clone();
                        let label = {
                            let origin = origin.clone();
                            move || format!("{}: {origin}", lang.get().pick("Remove", "Удалить"))
                        };
                        // Removing takes the widget off that site at once: asked once more, as
                        // deleting a CRM endpoint is, so a stray Enter cannot do it.
                        let confirming = RwSignal::new(false);
                        let warning = {
                            let origin = origin.clone();
                            move || format!("{} {origin}", lang.get().pick("Visitors lose the widget at once on", "Посетители сразу лишатся виджета на"))
                        };
                        view! {
                            <li data-test="origin" data-origin=origin.clone() data-state=state>
                                <span class="origin-name">{origin.clone()}</span>
                                <span class="load" data-test="origin-load">{load}</span>
                                {move || if confirming.get() {
                                    let for_button = for_button.clone();
                                    view! {
                                        <span class="confirm" role="group" aria-label=warning.clone()>
                                            <span>{warning.clone()}</span>
                                            <button type="button" class="danger" data-test="confirm-remove-origin"
                                                disabled=move || screen.busy.get() on:click=move |_| remove(for_button.clone())>
                                                {move || lang.get().pick("Yes, remove", "Да, удалить")}
                                            </button>
                                            <button type="button" data-test="cancel-remove-origin" on:click=move |_| confirming.set(false)>
                                                {move || lang.get().pick("Cancel", "Отмена")}
                                            </button>
                                        </span>
                                    }.into_any()
                                } else {
                                    view! {
                                        <button type="button" data-test="remove-origin" aria-label=label.clone()
                                            disabled=move || screen.busy.get() on:click=move |_| {
                                                confirming.set(true);
                                                // The question's own button takes the focus the Remove button had.
                                                net::later(0, || focus_selector("[data-test=confirm-remove-origin]"));
                                            }>
                                            {move || lang.get().pick("Remove", "Удалить")}
                                        </button>
                                    }.into_any()
                                }}
                            </li>
                        }
                    }/>
            </ul>
            <form class="add-origin" data-test="add-origin" novalidate on:submit=submit>
                <label for="new-origin">{move || lang.get().pick("Add an origin", "Добавить адрес")}</label>
                <div class="row">
                    <input id="new-origin" type="text" inputmode="url" autocomplete="off" spellcheck="false"
                        placeholder="https://shop.example" aria-describedby="new-origin-hint new-origin-error" aria-invalid=invalid
                        prop:value=move || typed.get()
                        on:input=move |ev| { typed.set(event_target_value(&ev)); field_error.set(None); }/>
                    <button type="submit" data-test="add-origin-submit" disabled=move || screen.busy.get()>
                        {move || lang.get().pick("Add", "Добавить")}
                    </button>
                </div>
                <p id="new-origin-error" class="error" role="alert" data-test="origin-error">{move || field_error.get().map(|e| e.text(lang.get()))}</p>
                <p id="new-origin-hint" class="hint">{move || lang.get().pick(
                    "As in the browser's address bar; a pasted page address is fine, only its origin is kept.",
                    "Как в адресной строке браузера; можно вставить адрес любой страницы — останется только сам сайт.",
                )}</p>
            </form>
        </section>
    }
}
