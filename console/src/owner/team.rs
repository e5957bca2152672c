//! The owner's "Team" screen («Команда»): who works on the site (role, enabled or not, live
//! sessions), inviting someone with a one-time link, disabling, enabling, removing, and a
//! password-reset link. Every rule (owners invite operators, a site keeps an enabled owner, a
//! reset needs every site of the account) is the server's, from core; this screen shows its
//! answers in the owner's language.

use floorwalker_core::access::accounts::{MemberView, Role, SignedIn};
use floorwalker_core::access::links::{InviteView, IssuedLink, LinkPurpose, NewInvite};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::copy::CopyButton;
use crate::i18n::{use_lang, Lang, Pick};
use crate::notice::Notice;
use crate::net::{self, HttpError};


/// The server's refusal in the owner's language, where the status says enough; its own words
/// (core's, in English) otherwise.
pub(crate) fn explain(error: HttpError) -> Notice {
    match error.status {
        409 => Notice::Said("This email is already on the team.", "Этот адрес уже в команде."),
        410 => Notice::Said("This link no longer works: ask the site's owner for a new one.", "Ссылка больше не работает: попросите владельца сайта прислать новую."),
        _ => Notice::Refused(error),
    }
}

fn role_name(lang: Lang, role: Role) -> &'static str {
    match role {
        Role::Owner => lang.pick("Owner", "Владелец"),
        Role::Operator => lang.pick("Operator", "Оператор"),
    }
}

fn origin() -> String {
    web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default()
}

use wasm_bindgen::JsCast;

#[component]
pub fn TeamScreen(site: String) -> impl IntoView {
    let lang = use_lang();
    let site = StoredValue::new(site);
    let members = RwSignal::new(Vec::<MemberView>::new());
    let invites = RwSignal::new(Vec::<InviteView>::new());
    let loaded = RwSignal::new(false);
    let me = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<Notice>);
    let issued = RwSignal::new(None::<IssuedLink>);
    let confirm_remove = RwSignal::new(None::<String>);
    let email = RwSignal::new(String::new());
    let busy = RwSignal::new(false);

    let path = move |rest: &str| net::site_path(&site.get_value(), rest);
    let reload = move || {
        spawn_local(async move {
            match net::get::<Vec<MemberView>>(&path("operators")).await {
                Ok(list) => members.set(list),
                Err(e) => error.set(Some(explain(e))),
            }
            if let Ok(list) = net::get::<Vec<InviteView>>(&path("invites")).await {
                invites.set(list);
            }
            loaded.set(true);
        })
    };
    spawn_local(async move {
        if let Ok(signed_in) = net::get::<SignedIn>("/v1/console/me").await {
            me.set(Some(signed_in.profile.id));
        }
    });
    reload();
    // The owner leaves to send an invitation and comes back once it is accepted: the list is
    // read again whenever the console's window gets the focus back.
    let refresh = leptos::prelude::window_event_listener(leptos::ev::focus, move |_| reload());
    on_cleanup(move || refresh.remove());

    let invite = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = NewInvite { email: email.get_untracked(), role: Role::Operator, expires_in_s: None };
        busy.set(true);
        error.set(None);
        issued.set(None);
        spawn_local(async move {
            match net::post::<IssuedLink>(&path("invites"), &body).await {
                Ok(link) => {
                    issued.set(Some(link));
                    email.set(String::new());
                    reload();
                }
                Err(e) => error.set(Some(explain(e))),
            }
            busy.set(false);
        });
    };

    // One action on one member: POST/DELETE, then the list again; a link is shown once. A 403
    // on the owner's own site can only be the rule the action runs into (`refused`, in the
    // owner's language): the last owner, or a person who also works on another site.
    let act = move |method: &'static str, rest: String, refused: Option<(&'static str, &'static str)>| {
        error.set(None);
        spawn_local(async move {
            let url = path(&rest);
            let answer = match method {
                "DELETE" => net::delete::<serde_json::Value>(&url).await,
                _ => net::post::<serde_json::Value>(&url, &serde_json::json!({})).await,
            };
            match answer {
                Ok(value) => {
                    if let Ok(link) = serde_json::from_value::<IssuedLink>(value) {
                        issued.set(Some(link));
                    }
                }
                Err(e) => {
                    error.set(Some(match refused {
                        Some((en, ru)) if e.status == 403 => Notice::Said(en, ru),
                        _ => explain(e),
                    }))
                }
            }
            confirm_remove.set(None);
            reload();
        });
    };

    let issued_view = move || {
        issued.get().map(|link| {
            let url = format!("{}{}", origin(), link.path);
            let url_for_copy = url.clone();
            let l = lang.get();
            let lead = match link.purpose {
                LinkPurpose::Invite => l.pick("Invitation for", "Приглашение для"),
                LinkPurpose::Reset => l.pick("New-password link for", "Ссылка для нового пароля:"),
            };
            let rule = l.pick(
                "Send it to them yourself. It works once, until {until}, and is shown only now: we keep no copy of it.",
                "Отправьте её сами. Она сработает один раз, до {until}, и показана только сейчас: мы не храним её копию.",
            )
            .replace("{until}", &crate::clock::shop_date_time(link.expires_at, l));
            view! {
                <div class="issued" role="status" data-test="issued-link" data-purpose={link.purpose.as_str()}>
                    <p><strong>{lead}" "{link.email.clone()}</strong></p>
                    <p>{rule}</p>
                    <div class="copy-row">
                        <label class="visually-hidden" for="issued-url">{l.pick("The link", "Ссылка")}</label>
                        <input id="issued-url" readonly data-test="issued-url" prop:value=url
                            on:focus=move |ev| { if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) { input.select(); } }/>
                        <CopyButton text=Signal::stored(url_for_copy) label=("Copy", "Копировать") test="copy-link" select_id="issued-url"/>
                    </div>
                </div>
            }
        })
    };

    let member_row = move |m: MemberView| {
        let l = lang.get();
        let id = m.id.clone();
        let is_me = me.get().as_deref() == Some(m.id.as_str());
        let disabled = m.disabled_at.is_some();
        let name = m.name.clone();
        let (toggle_label, toggle_rest) = if disabled {
            (l.pick("Enable", "Включить"), format!("operators/{id}/enable"))
        } else {
            (l.pick("Disable", "Отключить"), format!("operators/{id}/disable"))
        };
        let reset_rest = format!("operators/{id}/reset-link");
        let remove_rest = format!("operators/{id}");
        let id_confirm = id.clone();
        let id_ask = id.clone();
        let sessions = m.active_sessions;
        view! {
            <li class="member" data-test="member" data-email={m.email.clone()} data-status={if disabled { "disabled" } else { "active" }}>
                <div class="who">
                    <strong>{m.name.clone()}</strong>
                    {is_me.then(|| view! { <span class="you">{l.pick(" (you)", " (вы)")}</span> })}
                    <span class="email">{m.email.clone()}</span>
                </div>
                <div class="meta">
                    <span>{role_name(l, m.role)}</span>" · "
                    <span class={if disabled { "status off" } else { "status on" }} data-test="member-status">
                        {if disabled { l.pick("Disabled", "Отключён") } else { l.pick("Active", "Активен") }}
                    </span>" · "
                    <span>{l.pick("sessions: ", "сессий: ")}{sessions}</span>
                </div>
                <div class="actions">
                    <button type="button" data-test="member-toggle" aria-label={format!("{toggle_label}: {name}")}
                        on:click=move |_| act("POST", toggle_rest.clone(), Some(("A site keeps at least one enabled owner: add another owner first.", "На сайте должен остаться хотя бы один включённый владелец: сначала добавьте другого.")))>{toggle_label}</button>
                    <button type="button" data-test="member-reset" aria-label={format!("{}: {name}", l.pick("New-password link", "Ссылка для пароля"))}
                        on:click=move |_| act("POST", reset_rest.clone(), Some(("This person also works on another site: they change their password themselves.", "Этот человек работает и на другом сайте: пароль он меняет сам.")))>{l.pick("New-password link", "Ссылка для пароля")}</button>
                    <button type="button" class="danger" data-test="member-remove" aria-label={format!("{}: {name}", l.pick("Remove", "Удалить"))}
                        on:click=move |_| confirm_remove.set(Some(id_ask.clone()))>{l.pick("Remove", "Удалить")}</button>
                </div>
                {move || (confirm_remove.get().as_deref() == Some(id_confirm.as_str())).then(|| {
                    let remove_rest = remove_rest.clone();
                    view! {
                        <div class="confirm" role="group" aria-label=lang.get().pick("Confirm removal", "Подтвердите удаление")>
                            <span>{lang.get().pick("Remove from the site? Their sessions end now.", "Убрать с сайта? Их сессии закончатся сразу.")}</span>
                            <button type="button" class="danger" data-test="member-remove-confirm"
                                on:click=move |_| act("DELETE", remove_rest.clone(), Some(("A site keeps at least one enabled owner: add another owner first.", "На сайте должен остаться хотя бы один включённый владелец: сначала добавьте другого.")))>{lang.get().pick("Yes, remove", "Да, удалить")}</button>
                            <button type="button" on:click=move |_| confirm_remove.set(None)>{lang.get().pick("Cancel", "Отмена")}</button>
                        </div>
                    }
                })}
            </li>
        }
    };

    let invite_row = move |i: InviteView| {
        let l = lang.get();
        let now = net::now_ms();
        let pending = i.pending(now);
        let state = if i.used_at.is_some() {
            l.pick("Accepted", "Принято").to_owned()
        } else if i.revoked_at.is_some() {
            l.pick("Withdrawn", "Отозвано").to_owned()
        } else if pending {
            format!("{} {}", l.pick("Waiting, until", "Ждёт, до"), crate::clock::shop_date_time(i.expires_at, l))
        } else {
            l.pick("Expired", "Истекло").to_owned()
        };
        let rest = format!("invites/{}", i.id);
        let email = i.email.clone();
        view! {
            <li class="invite" data-test="invite" data-email={i.email.clone()} data-pending={pending.to_string()}>
                <div class="who"><strong>{i.email.clone()}</strong></div>
                <div class="meta"><span>{role_name(l, i.role)}</span>" · "<span>{state}</span></div>
                {pending.then(|| view! {
                    <div class="actions">
                        <button type="button" data-test="invite-withdraw" aria-label={format!("{}: {email}", l.pick("Withdraw", "Отозвать"))}
                            on:click=move |_| act("DELETE", rest.clone(), None)>{l.pick("Withdraw", "Отозвать")}</button>
                    </div>
                })}
            </li>
        }
    };

    view! {
        <section class="owner-screen team" data-test="team">
            <h2>{move || lang.get().pick("Team", "Команда")}</h2>
            <p class="hint">{move || lang.get().pick(
                "Operators answer chats; owners run the site. Invite someone with a one-time link: they choose their own password.",
                "Операторы отвечают в чате, владельцы управляют сайтом. Пригласите человека одноразовой ссылкой: пароль он выберет сам.")}</p>
            <form class="invite-form" data-test="invite-form" on:submit=invite>
                <label for="invite-email">{move || lang.get().pick("Email of the person to invite", "Почта человека, которого приглашаете")}</label>
                <div class="copy-row">
                    <input id="invite-email" type="email" required autocomplete="off" data-test="invite-email"
                        on:input=move |ev| email.set(event_target_value(&ev)) prop:value=move || email.get()/>
                    <button class="primary" type="submit" data-test="invite-submit" disabled=move || busy.get()>
                        {move || lang.get().pick("Create invite link", "Создать приглашение")}
                    </button>
                </div>
            </form>
            {issued_view}
            <p class="error" role="alert" data-test="team-error">{move || error.get().map(|n| n.text(lang.get()))}</p>
            <h3>{move || lang.get().pick("Members", "Участники")}</h3>
            <ul class="people" data-test="members">
                {move || members.get().into_iter().map(member_row).collect_view()}
            </ul>
            {move || (loaded.get() && members.with(Vec::is_empty)).then(|| view! { <p class="empty">{lang.get().pick("No one yet.", "Пока никого.")}</p> })}
            <h3>{move || lang.get().pick("Invitations", "Приглашения")}</h3>
            <ul class="people" data-test="invites">
                {move || invites.get().into_iter().map(invite_row).collect_view()}
            </ul>
            {move || (loaded.get() && invites.with(Vec::is_empty)).then(|| view! { <p class="empty">{lang.get().pick("None sent.", "Пока не отправляли.")}</p> })}
            <super::canned::CannedEditor site=site/>
        </section>
    }
}
