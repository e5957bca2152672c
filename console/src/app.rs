//! The console's frame: logging in, then one top bar (the sections this person's role opens,
//! the language, who is signed in, logging out) above the section chosen. The section is the
//! location's hash (`#install`), so a reload, the back button and a shared link keep it.
//!
//! Operators see their chats; owners see their chats and every screen about their site. The
//! server decides what each role may do (`/v1/admin/sites/<site>/…` admits an owner's session for
//! its own site only); the navigation only leaves out what would be refused.

use floorwalker_core::access::accounts::{Role, SignedIn};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;

use crate::i18n::{provide_lang, use_lang, Lang, LangSwitch, Pick};
use crate::inbox::Inbox;
use crate::net;
use crate::notice::Notice;
use crate::owner;

#[component]
pub fn App() -> impl IntoView {
    provide_lang();
    let me = RwSignal::new(None::<SignedIn>);
    let checked = RwSignal::new(false);
    // A one-time link (`#link=…`: an invitation, a password reset) opens its own page first.
    let link = RwSignal::new(crate::join::token_in_location());
    spawn_local(async move {
        if let Ok(signed_in) = net::get::<SignedIn>("/v1/console/me").await {
            me.set(Some(signed_in));
        }
        checked.set(true);
    });
    let lang = use_lang();
    view! {
        {move || match me.get() {
            _ if link.with(Option::is_some) => {
                let token = link.get().unwrap_or_default();
                view! { <crate::join::LinkPage token=token me=me link=link/> }.into_any()
            }
            Some(signed_in) => view! { <Frame signed_in=signed_in me=me/> }.into_any(),
            None if checked.get() => view! { <Login me=me/> }.into_any(),
            None => view! { <p class="empty">{move || lang.get().pick("Loading…", "Загрузка…")}</p> }.into_any(),
        }}
    }
}

#[component]
fn Login(me: RwSignal<Option<SignedIn>>) -> impl IntoView {
    let lang = use_lang();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<Notice>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = serde_json::json!({"email": email.get_untracked(), "password": password.get_untracked()});
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match net::post::<SignedIn>("/v1/console/login", &body).await {
                Ok(signed_in) => me.set(Some(signed_in)),
                Err(e) => {
                    error.set(Some(match e.status {
                        401 => Notice::Said("Wrong email or password.", "Неверная почта или пароль."),
                        _ => Notice::failed("Could not log in", "Не удалось войти", e),
                    }));
                    busy.set(false);
                }
            }
        });
    };
    view! {
        <main class="login-page">
        <form class="login" data-test="login" on:submit=submit>
            <h1>{move || lang.get().pick("Floorwalker console", "Консоль Floorwalker")}</h1>
            <label>{move || lang.get().pick("Email", "Эл. почта")} <input id="email" type="email" autocomplete="username" required
                on:input=move |ev| email.set(event_target_value(&ev)) prop:value=move || email.get()/></label>
            <label>{move || lang.get().pick("Password", "Пароль")} <input id="password" type="password" autocomplete="current-password" required
                on:input=move |ev| password.set(event_target_value(&ev)) prop:value=move || password.get()/></label>
            <button class="primary" type="submit" id="login" disabled=move || busy.get()>{move || lang.get().pick("Log in", "Войти")}</button>
            <p class="error" role="alert" data-test="login-error">{move || error.get().map(|n| n.text(lang.get()))}</p>
            <LangSwitch/>
        </form>
        </main>
    }
}

/// The console's sections. `Inbox` is every role's first screen; the rest are the owner's.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Section {
    Inbox,
    Install,
    Prompts,
    Email,
    Endpoints,
    Leads,
    Results,
    Team,
}

impl Section {
    const ALL: [Section; 8] = [
        Section::Inbox,
        Section::Install,
        Section::Prompts,
        Section::Email,
        Section::Endpoints,
        Section::Leads,
        Section::Results,
        Section::Team,
    ];

    pub fn hash(self) -> &'static str {
        match self {
            Section::Inbox => "inbox",
            Section::Install => "install",
            Section::Prompts => "prompts",
            Section::Email => "email",
            Section::Endpoints => "crm",
            Section::Leads => "leads",
            Section::Results => "results",
            Section::Team => "team",
        }
    }

    pub fn title(self, lang: Lang) -> &'static str {
        match self {
            Section::Inbox => lang.pick("Inbox", "Входящие"),
            Section::Install => lang.pick("Install", "Установка"),
            Section::Prompts => lang.pick("Prompts", "Подсказки"),
            Section::Email => lang.pick("Email", "Письма"),
            Section::Endpoints => lang.pick("CRM", "CRM"),
            Section::Leads => lang.pick("Leads", "Заявки"),
            Section::Results => lang.pick("Results", "Результаты"),
            Section::Team => lang.pick("Team", "Команда"),
        }
    }

    fn for_role(role: Role) -> Vec<Section> {
        match role {
            Role::Owner => Section::ALL.to_vec(),
            Role::Operator => vec![Section::Inbox],
        }
    }

    /// The section a location hash names, if this role may open it.
    fn from_hash(hash: &str, role: Role) -> Section {
        let name = hash.trim_start_matches('#');
        Section::for_role(role).into_iter().find(|s| s.hash() == name).unwrap_or(Section::Inbox)
    }
}

fn current_hash() -> String {
    web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default()
}

#[component]
fn Frame(signed_in: SignedIn, me: RwSignal<Option<SignedIn>>) -> impl IntoView {
    let lang = use_lang();
    crate::clock::set_shop_zone(&signed_in.site_timezone);
    let role = signed_in.role;
    let site = signed_in.profile.site.clone();
    let section = RwSignal::new(Section::from_hash(&current_hash(), role));
    // The hash follows the section and the section follows the hash (back button, typed links).
    let on_hash = Closure::<dyn Fn()>::new(move || section.set(Section::from_hash(&current_hash(), role)));
    if let Some(window) = web_sys::window() {
        let _ = window.add_event_listener_with_callback("hashchange", on_hash.as_ref().unchecked_ref());
    }
    on_hash.forget();
    let logout = move |_| {
        spawn_local(async move {
            let _ = net::post::<serde_json::Value>("/v1/console/logout", &serde_json::json!({})).await;
            me.set(None);
        });
    };
    let sections = Section::for_role(role);
    let show_nav = sections.len() > 1;
    let site_for_view = site.clone();
    let local_receiver = signed_in.local_receiver.clone();
    view! {
        <header class="top">
            <strong>"Floorwalker"</strong>
            // The shop as its owner knows it; the id (what the tag and the API use) on hover.
            <span class="site" data-test="site" title=site.clone()>
                {if signed_in.site_name.is_empty() { site.clone() } else { signed_in.site_name.clone() }}
            </span>
            {show_nav.then(|| view! {
                <nav class="sections" aria-label=move || lang.get().pick("Sections", "Разделы") data-test="nav">
                    {sections.iter().map(|&s| view! {
                        <a href=format!("#{}", s.hash()) data-test=format!("nav-{}", s.hash())
                            aria-current=move || if section.get() == s { "page" } else { "false" }>
                            {move || s.title(lang.get())}
                        </a>
                    }).collect_view()}
                </nav>
            })}
            <span class="grow"></span>
            <span data-test="operator-name">{signed_in.profile.name.clone()}</span>
            <LangSwitch/>
            <button data-test="logout" on:click=logout>{move || lang.get().pick("Log out", "Выйти")}</button>
        </header>
        <main class="screen" data-test=move || format!("screen-{}", section.get().hash())>
            <h1 class="visually-hidden">{move || section.get().title(lang.get())}</h1>
            {move || {
                let site = site_for_view.clone();
                match section.get() {
                    Section::Inbox => view! { <Inbox me=me/> }.into_any(),
                    Section::Install => view! { <owner::install::InstallScreen site=site/> }.into_any(),
                    Section::Prompts => view! { <owner::prompts::PromptsScreen site=site/> }.into_any(),
                    Section::Email => view! { <owner::email::EmailScreen site=site/> }.into_any(),
                    Section::Endpoints => view! { <owner::endpoints::EndpointsScreen site=site local_receiver=local_receiver.clone()/> }.into_any(),
                    Section::Leads => view! { <owner::leads::LeadsScreen site=site/> }.into_any(),
                    Section::Results => view! { <owner::results::ResultsScreen site=site/> }.into_any(),
                    Section::Team => view! { <owner::team::TeamScreen site=site/> }.into_any(),
                }
            }}
        </main>
    }
}
