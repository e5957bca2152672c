//! The page a one-time link opens (`/console/#link=<token>`, core's `access::links`): an
//! invitation to work on a site, or a password reset. It asks the server what the link is for,
//! then for a name and a new password (a new account), the existing password (an email that
//! already has an account joins with it), or a new password (a reset), and signs the person in.
//! The token never leaves the page but in a request body.

use floorwalker_core::access::accounts::{Role, SignedIn, MIN_PASSWORD_CHARS};
use floorwalker_core::access::links::{token_in_fragment, AcceptLink, LinkLookup, LinkPurpose, LinkView};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::{use_lang, LangSwitch, Pick};
use crate::net;
use crate::notice::Notice;
use crate::owner::team::explain;

/// The link token in the page's location, if it was opened from one.
pub fn token_in_location() -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    token_in_fragment(&hash).map(str::to_owned)
}

#[component]
pub fn LinkPage(token: String, me: RwSignal<Option<SignedIn>>, link: RwSignal<Option<String>>) -> impl IntoView {
    let lang = use_lang();
    let token = StoredValue::new(token);
    let view_of = RwSignal::new(None::<LinkView>);
    let refused = RwSignal::new(None::<Notice>);
    let error = RwSignal::new(None::<Notice>);
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    spawn_local(async move {
        match net::post::<LinkView>("/v1/console/links/lookup", &LinkLookup { token: token.get_value() }).await {
            Ok(found) => view_of.set(Some(found)),
            Err(e) => refused.set(Some(explain(e))),
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(found) = view_of.get_untracked() else { return };
        let new_account = found.purpose == LinkPurpose::Invite && !found.account_exists;
        let body = AcceptLink {
            token: token.get_value(),
            password: password.get_untracked(),
            name: new_account.then(|| name.get_untracked()),
            site: Some(found.site.clone()),
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match net::post::<SignedIn>("/v1/console/links/accept", &body).await {
                Ok(signed_in) => {
                    // The token leaves the address bar (and the history entry) once used.
                    if let Some(window) = web_sys::window() {
                        let _ = window.location().set_hash("inbox");
                    }
                    link.set(None);
                    me.set(Some(signed_in));
                }
                Err(e) => {
                    error.set(Some(explain(e)));
                    busy.set(false);
                }
            }
        });
    };
    let form = move || {
        let found = view_of.get()?;
        let l = lang.get();
        let shop = if found.site_name.is_empty() { found.site.clone() } else { found.site_name.clone() };
        let role = match found.role {
            Role::Owner => l.pick("as an owner", "владельцем"),
            Role::Operator => l.pick("as an operator", "оператором"),
        };
        let (title, lead) = match (found.purpose, found.account_exists) {
            (LinkPurpose::Invite, false) => (
                l.pick("Join the team", "Вход в команду"),
                format!("{} «{}» {role}. {}", l.pick("You are invited to work on", "Вас приглашают работать на сайте"), shop,
                    l.pick("Choose the name visitors will see and a password.", "Выберите имя, которое увидят посетители, и пароль.")),
            ),
            (LinkPurpose::Invite, true) => (
                l.pick("Join the team", "Вход в команду"),
                format!("{} «{}» {role}. {}", l.pick("You are invited to work on", "Вас приглашают работать на сайте"), shop,
                    l.pick("This email already has an account: enter its password to join.", "У этого адреса уже есть учётная запись: введите её пароль.")),
            ),
            (LinkPurpose::Reset, _) => (
                l.pick("A new password", "Новый пароль"),
                l.pick("Choose a new password. Every session of your account ends.", "Выберите новый пароль. Все ваши сессии закончатся.").to_owned(),
            ),
        };
        let new_account = found.purpose == LinkPurpose::Invite && !found.account_exists;
        let existing = found.purpose == LinkPurpose::Invite && found.account_exists;
        let until = format!("{} {}", l.pick("The link works until", "Ссылка действует до"), when(l, found.expires_at));
        let min = MIN_PASSWORD_CHARS.to_string();
        Some(view! {
            <h1>{title}</h1>
            <p data-test="link-lead">{lead}</p>
            <p class="hint">{until}</p>
            <label>{l.pick("Email", "Почта")}
                <input id="link-email" type="email" autocomplete="username" readonly prop:value={found.email.clone()} data-test="link-email"/></label>
            {new_account.then(|| view! {
                <label>{l.pick("Your name", "Ваше имя")}
                    <input id="link-name" type="text" autocomplete="name" required maxlength="60" data-test="link-name"
                        on:input=move |ev| name.set(event_target_value(&ev)) prop:value=move || name.get()/></label>
            })}
            <label>{if existing { l.pick("Your password", "Ваш пароль") } else { l.pick("New password (at least 10 characters)", "Новый пароль (не короче 10 символов)") }}
                <input id="link-password" type="password" required data-test="link-password"
                    autocomplete={if existing { "current-password" } else { "new-password" }}
                    minlength={if existing { "1".to_owned() } else { min }}
                    on:input=move |ev| password.set(event_target_value(&ev)) prop:value=move || password.get()/></label>
            <button class="primary" type="submit" data-test="link-submit" disabled=move || busy.get()>
                {if existing { l.pick("Join", "Присоединиться") } else { l.pick("Save and log in", "Сохранить и войти") }}
            </button>
        })
    };
    view! {
        <main class="login-page">
            <form class="login" data-test="link-page" on:submit=submit>
                {form}
                {move || refused.get().map(|why| view! {
                    <h1>{lang.get().pick("This link does not work", "Ссылка не работает")}</h1>
                    <p data-test="link-refused">{why.text(lang.get())}</p>
                    <p><a href="#" on:click=move |_| link.set(None)>{lang.get().pick("Go to the login page", "Перейти ко входу")}</a></p>
                })}
                {move || (view_of.get().is_none() && refused.get().is_none()).then(|| view! { <p>{lang.get().pick("Checking the link…", "Проверяем ссылку…")}</p> })}
                <p class="error" role="alert" data-test="link-error">{move || error.get().map(|n| n.text(lang.get()))}</p>
                <LangSwitch/>
            </form>
        </main>
    }
}

/// The link's end on the reader's own clock ("3 December 2026, 14:05"): before signing in the
/// shop's zone is not known, and the person acts on their own time anyway.
fn when(lang: crate::i18n::Lang, ms: u64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    let options = js_sys::Object::new();
    // In the reader's own zone, named: the owner's screen shows the same instant on the shop's clock.
    for (key, value) in [("day", "numeric"), ("month", "long"), ("year", "numeric"), ("hour", "2-digit"), ("minute", "2-digit"), ("timeZoneName", "short")] {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    }
    String::from(date.to_locale_string(lang.pick("en-GB", "ru-RU"), &options))
}
