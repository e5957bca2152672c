//! The owner's "CRM" screen: the site's endpoints (add one with a form per preset, see its
//! signing secret once, send it a test event, rotate and retire secrets, delete it) and the
//! delivery log (every attempt, filtered by state, replay of failed deliveries).
//!
//! Everything shown comes from the admin routes as core's types (`EndpointView`,
//! `EndpointSecret`, `TestDelivery`, `DeliveryView`); what a test event is, and every rule an
//! endpoint must follow, is core's and comes back as the server's message. On `make demo` the
//! form also offers the demo's own receiver (`SignedIn::local_receiver`).

use floorwalker_core::access::accounts::LocalReceiver;
use floorwalker_core::outbound::delivery::{DeliveryState, DeliveryView, EndpointInput, EndpointSecret, EndpointView};
use floorwalker_core::outbound::endpoint::Preset;
use floorwalker_core::outbound::test_event::TestDelivery;
use floorwalker_core::outbound::webhook::{AttemptRecord, AttemptStatus, EventType};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::copy::{reveal, CopyButton};
use crate::i18n::{use_lang, Lang, Pick};
use crate::notice::Notice;
use crate::net;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum PresetKind {
    Generic,
    Bitrix24,
    Amocrm,
    Hubspot,
    Telegram,
}

impl PresetKind {
    const ALL: [PresetKind; 5] = [PresetKind::Generic, PresetKind::Bitrix24, PresetKind::Amocrm, PresetKind::Hubspot, PresetKind::Telegram];

    fn name(self) -> &'static str {
        match self {
            PresetKind::Generic => "generic",
            PresetKind::Bitrix24 => "bitrix24",
            PresetKind::Amocrm => "amocrm",
            PresetKind::Hubspot => "hubspot",
            PresetKind::Telegram => "telegram",
        }
    }

    fn of(preset: &Preset) -> PresetKind {
        match preset {
            Preset::Generic => PresetKind::Generic,
            Preset::Bitrix24 => PresetKind::Bitrix24,
            Preset::Amocrm { .. } => PresetKind::Amocrm,
            Preset::Hubspot { .. } => PresetKind::Hubspot,
            Preset::Telegram { .. } => PresetKind::Telegram,
        }
    }

    fn label(self, lang: Lang) -> &'static str {
        match self {
            PresetKind::Generic => lang.pick("Webhook (Standard Webhooks, signed)", "Вебхук (Standard Webhooks, с подписью)"),
            PresetKind::Bitrix24 => "Bitrix24",
            PresetKind::Amocrm => "amoCRM",
            PresetKind::Hubspot => "HubSpot",
            PresetKind::Telegram => "Telegram",
        }
    }

    /// What the URL field means for this preset.
    fn url_hint(self, lang: Lang) -> &'static str {
        match self {
            PresetKind::Generic => lang.pick("Your receiver's https address", "Адрес вашего приёмника (https)"),
            PresetKind::Bitrix24 => {
                lang.pick("The incoming webhook's address, https://portal.bitrix24.ru/rest/1/CODE/", "Адрес входящего вебхука, https://portal.bitrix24.ru/rest/1/КОД/")
            }
            PresetKind::Amocrm => lang.pick("Your account's address, https://shop.amocrm.ru", "Адрес аккаунта, https://shop.amocrm.ru"),
            PresetKind::Hubspot | PresetKind::Telegram => {
                lang.pick("Leave empty for the official API", "Оставьте пустым для официального API")
            }
        }
    }

    fn parse(name: &str) -> PresetKind {
        PresetKind::ALL.into_iter().find(|k| k.name() == name).unwrap_or(PresetKind::Generic)
    }
}

fn state_label(state: DeliveryState, lang: Lang) -> &'static str {
    match state {
        DeliveryState::Pending => lang.pick("pending", "в очереди"),
        DeliveryState::Delivered => lang.pick("delivered", "доставлено"),
        DeliveryState::Failed => lang.pick("failed", "не доставлено"),
    }
}

fn attempt_label(status: AttemptStatus, lang: Lang) -> &'static str {
    match status {
        AttemptStatus::Delivered => lang.pick("delivered", "доставлено"),
        AttemptStatus::Failed => lang.pick("failed", "ошибка"),
        AttemptStatus::EndpointGone => lang.pick("gone (410): endpoint disabled", "удалён (410): адрес отключён"),
        AttemptStatus::Timeout => lang.pick("timed out", "нет ответа"),
        AttemptStatus::ConnectionError => lang.pick("connection error", "ошибка соединения"),
    }
}

/// One attempt on one line: status, response code, latency; the body (as text) below.
#[component]
fn Attempt(attempt: AttemptRecord) -> impl IntoView {
    let lang = use_lang();
    let ok = attempt.status == AttemptStatus::Delivered;
    let code = attempt.response_code.map(|c| c.to_string()).unwrap_or_else(|| "—".into());
    let body = attempt.response_body.clone().or(attempt.error.clone());
    view! {
        <div class=if ok { "attempt ok" } else { "attempt bad" } data-test="attempt" data-code=code.clone() data-status=format!("{:?}", attempt.status)>
            <span>{move || crate::clock::shop_date_time(attempt.at, lang.get())}</span>" · "
            <strong>{move || attempt_label(attempt.status, lang.get())}</strong>" · "
            <span>{move || lang.get().pick("code", "код")}" "<span data-test="code">{code.clone()}</span></span>" · "
            <span data-test="latency">{attempt.latency_ms}" "{move || lang.get().pick("ms", "мс")}</span>
            {body.map(|body| view! { <pre class="body" data-test="body">{body}</pre> })}
        </div>
    }
}

#[component]
pub fn EndpointsScreen(site: String, local_receiver: Option<LocalReceiver>) -> impl IntoView {
    let lang = use_lang();
    let endpoints = RwSignal::new(Vec::<EndpointView>::new());
    let error = RwSignal::new(None::<Notice>);
    let secret = RwSignal::new(None::<EndpointSecret>);
    let log_reload = RwSignal::new(0u32);
    let site = StoredValue::new(site);

    let reload = move || {
        spawn_local(async move {
            match net::get::<Vec<EndpointView>>(&net::site_path(&site.get_value(), "endpoints")).await {
                Ok(list) => endpoints.set(list),
                Err(e) => error.set(Some(Notice::failed("Could not load the endpoints", "Не удалось загрузить адреса", e))),
            }
        });
    };
    reload();

    view! {
        <section class="owner-screen" data-test="endpoints">
            <h2>{move || lang.get().pick("CRM endpoints", "Передача в CRM")}</h2>
            <p class="hint">{move || lang.get().pick(
                "Every lead, chat message and consent change is sent to these addresses, signed, and retried until it arrives.",
                "Каждая заявка, сообщение чата и изменение согласия уходят на эти адреса с подписью и повторяются, пока не дойдут.")}</p>
            <p class="error" role="alert" data-test="endpoints-error">{move || error.get().map(|n| n.text(lang.get()))}</p>
            {move || secret.get().map(|shown| view! { <SecretOnce shown=shown secret=secret/> })}
            <ul class="cards" data-test="endpoint-list">
                {move || {
                    let list = endpoints.get();
                    if list.is_empty() {
                        return view! { <li class="empty">{move || lang.get().pick("No endpoints yet: add one below.", "Адресов пока нет: добавьте ниже.")}</li> }.into_any();
                    }
                    list.into_iter().map(|endpoint| view! {
                        <EndpointCard endpoint=endpoint site=site secret=secret error=error on_change=Callback::new(move |()| { reload(); log_reload.update(|n| *n += 1); })/>
                    }).collect_view().into_any()
                }}
            </ul>
            <AddEndpoint site=site secret=secret local_receiver=local_receiver on_added=Callback::new(move |()| reload())/>
            <DeliveryLog site=site reload=log_reload/>
        </section>
    }
}

/// The secret of a new endpoint or a rotation: shown this once, with a copy button.
#[component]
fn SecretOnce(shown: EndpointSecret, secret: RwSignal<Option<EndpointSecret>>) -> impl IntoView {
    let lang = use_lang();
    let value = shown.secret.clone();
    view! {
        <div class="secret-once" role="region" aria-labelledby="secret-title" data-test="secret-once" tabindex="-1"
            // Shown where the owner's eyes are not (at the top of a list they scrolled past):
            // brought into view and focused, so it is seen and read out before it is gone.
            node_ref=reveal()>
            <h3 id="secret-title">{move || lang.get().pick("Signing secret for ", "Ключ подписи для ")}<span>{shown.endpoint.id.clone()}</span></h3>
            <p>{move || lang.get().pick(
                "Copy it into your receiver now: it is shown only this once. Every request is signed with it (Standard Webhooks).",
                "Скопируйте его в приёмник сейчас: он показывается только один раз. Им подписан каждый запрос (Standard Webhooks).")}</p>
            <code class="secret" id="secret-value" data-test="secret">{shown.secret.clone()}</code>
            <div class="row">
                <CopyButton text=Signal::stored(value) label=("Copy", "Скопировать") test="copy-secret" primary=true/>
                <button type="button" data-test="hide-secret" on:click=move |_| secret.set(None)>{move || lang.get().pick("I have saved it", "Я сохранил ключ")}</button>
            </div>
        </div>
    }
}

#[component]
fn EndpointCard(
    endpoint: EndpointView,
    site: StoredValue<String>,
    secret: RwSignal<Option<EndpointSecret>>,
    error: RwSignal<Option<Notice>>,
    on_change: Callback<()>,
) -> impl IntoView {
    let lang = use_lang();
    let id = StoredValue::new(endpoint.id.clone());
    let tested = RwSignal::new(None::<Result<TestDelivery, Notice>>);
    let busy = RwSignal::new(false);
    let confirm_delete = RwSignal::new(false);
    let path = move |rest: &str| net::site_path(&site.get_value(), &format!("endpoints/{}{rest}", id.get_value()));
    let test = move |_| {
        busy.set(true);
        tested.set(None);
        spawn_local(async move {
            let result = net::post::<TestDelivery>(&path("/test"), &serde_json::json!({})).await;
            tested.set(Some(result.map_err(|e| Notice::failed("The test was not sent", "Проверка не отправлена", e))));
            busy.set(false);
        });
    };
    let rotate = move |_| {
        spawn_local(async move {
            match net::post::<EndpointSecret>(&path("/rotate"), &serde_json::json!({})).await {
                Ok(shown) => {
                    secret.set(Some(shown));
                    on_change.run(());
                }
                Err(e) => error.set(Some(Notice::failed("Could not add a secret", "Не удалось добавить ключ", e))),
            }
        });
    };
    let retire = move |_| {
        spawn_local(async move {
            match net::post::<EndpointView>(&path("/retire"), &serde_json::json!({})).await {
                Ok(_) => on_change.run(()),
                Err(e) => error.set(Some(Notice::failed("Could not retire the old secrets", "Не удалось отозвать старые ключи", e))),
            }
        });
    };
    let delete = move |_| {
        spawn_local(async move {
            match net::delete::<serde_json::Value>(&path("")).await {
                Ok(_) => on_change.run(()),
                Err(e) => error.set(Some(Notice::failed("Could not delete the endpoint", "Не удалось удалить адрес", e))),
            }
        });
    };
    let kind = PresetKind::of(&endpoint.preset);
    let events = endpoint.events.clone().map(|list| list.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", "));
    let secrets = endpoint.active_secrets;
    let enabled = endpoint.enabled;
    let reason = endpoint.disabled_reason.clone();
    view! {
        <li class="card" data-test="endpoint" data-id=endpoint.id.clone()>
            <h3>{endpoint.id.clone()}" "<span class="muted">{move || kind.label(lang.get())}</span></h3>
            <dl class="facts">
                <dt>{move || lang.get().pick("Address", "Адрес")}</dt><dd class="url">{if endpoint.url.is_empty() { "—".to_owned() } else { endpoint.url.clone() }}</dd>
                <dt>{move || lang.get().pick("Events", "События")}</dt>
                <dd>{move || events.clone().unwrap_or_else(|| lang.get().pick("all", "все").to_owned())}</dd>
                <dt>{move || lang.get().pick("Active secrets", "Действующих ключей")}</dt><dd data-test="active-secrets">{secrets}</dd>
                <dt>{move || lang.get().pick("State", "Состояние")}</dt>
                <dd data-test="endpoint-state">{move || if enabled { lang.get().pick("on", "включён").to_owned() } else {
                    format!("{}{}", lang.get().pick("off", "выключен"), reason.clone().map(|r| format!(": {r}")).unwrap_or_default())
                }}</dd>
            </dl>
            <div class="row">
                <button type="button" class="primary" data-test="send-test" on:click=test disabled=move || busy.get()>
                    {move || if busy.get() { lang.get().pick("Sending…", "Отправка…") } else { lang.get().pick("Send a test event", "Отправить проверку") }}
                </button>
                <button type="button" data-test="rotate" on:click=rotate>{move || lang.get().pick("Add a new secret", "Новый ключ")}</button>
                {(secrets > 1).then(|| view! {
                    <button type="button" data-test="retire" on:click=retire>{move || lang.get().pick("Retire old secrets", "Отозвать старые ключи")}</button>
                })}
                {move || if confirm_delete.get() {
                    view! {
                        <span class="confirm" role="group" aria-label=move || lang.get().pick("Confirm deletion", "Подтвердите удаление")>
                            <span>{move || lang.get().pick("Delete this endpoint?", "Удалить этот адрес?")}</span>" "
                            <button type="button" class="danger" data-test="delete-confirm" on:click=delete>{move || lang.get().pick("Delete", "Удалить")}</button>
                            <button type="button" on:click=move |_| confirm_delete.set(false)>{move || lang.get().pick("Cancel", "Отмена")}</button>
                        </span>
                    }.into_any()
                } else {
                    view! { <button type="button" data-test="delete" on:click=move |_| confirm_delete.set(true)>{move || lang.get().pick("Delete…", "Удалить…")}</button> }.into_any()
                }}
            </div>
            <div class="test-result" role="status" data-test="test-result">
                {move || tested.get().map(|result| match result {
                    Ok(delivery) => view! {
                        <p>{move || lang.get().pick("Test event sent:", "Проверка отправлена:")}</p>
                        <Attempt attempt=delivery.attempt/>
                        <p class="muted">{move || lang.get().pick(
                            "A test is shown here only: it is not a lead, so it is not in the delivery log and cannot be replayed.",
                            "Проверка видна только здесь: это не заявка, поэтому её нет в журнале доставки и её нельзя повторить.")}</p>
                    }.into_any(),
                    Err(notice) => view! { <p class="error">{move || notice.text(lang.get())}</p> }.into_any(),
                })}
            </div>
        </li>
    }
}

/// The form: an id, the preset, and the fields that preset needs.
#[component]
fn AddEndpoint(
    site: StoredValue<String>,
    secret: RwSignal<Option<EndpointSecret>>,
    local_receiver: Option<LocalReceiver>,
    on_added: Callback<()>,
) -> impl IntoView {
    let lang = use_lang();
    let id = RwSignal::new(String::new());
    let kind = RwSignal::new(PresetKind::Generic);
    let url = RwSignal::new(String::new());
    let token_secret = RwSignal::new(String::new());
    let portal_id = RwSignal::new(String::new());
    let form_guid = RwSignal::new(String::new());
    let chat_id = RwSignal::new(String::new());
    let events = RwSignal::new(Vec::<EventType>::new());
    let error = RwSignal::new(None::<Notice>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let trimmed = |s: RwSignal<String>| s.get_untracked().trim().to_owned();
        let preset = match kind.get_untracked() {
            PresetKind::Generic => Preset::Generic,
            PresetKind::Bitrix24 => Preset::Bitrix24,
            PresetKind::Amocrm => Preset::Amocrm { token_secret: trimmed(token_secret) },
            PresetKind::Hubspot => Preset::Hubspot { portal_id: trimmed(portal_id), form_guid: trimmed(form_guid) },
            PresetKind::Telegram => Preset::Telegram { chat_id: trimmed(chat_id), bot_token_secret: trimmed(token_secret) },
        };
        let chosen = events.get_untracked();
        let input = EndpointInput {
            id: trimmed(id),
            url: trimmed(url),
            // Nothing ticked: every event (CRM presets take leads only, whatever is ticked).
            events: (kind.get_untracked() == PresetKind::Generic && !chosen.is_empty()).then_some(chosen),
            preset,
            enabled: true,
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match net::post::<EndpointSecret>(&net::site_path(&site.get_value(), "endpoints"), &input).await {
                Ok(shown) => {
                    secret.set(Some(shown));
                    for field in [id, url, token_secret, portal_id, form_guid, chat_id] {
                        field.set(String::new());
                    }
                    events.set(Vec::new());
                    on_added.run(());
                }
                Err(e) => error.set(Some(Notice::failed("The endpoint was not added", "Адрес не добавлен", e))),
            }
            busy.set(false);
        });
    };
    let text_field = move |field: RwSignal<String>, name: &'static str, label: Signal<&'static str>, hint: Option<Signal<&'static str>>| {
        let hint_id = format!("{name}-hint");
        let described = hint.is_some().then(|| hint_id.clone());
        view! {
            <label>
                <span>{move || label.get()}</span>
                <input name=name data-test=format!("field-{name}") aria-describedby=described
                    prop:value=move || field.get() on:input=move |ev| field.set(event_target_value(&ev))/>
                {hint.map(|hint| view! { <small id=hint_id>{move || hint.get()}</small> })}
            </label>
        }
    };
    view! {
        <form class="card add" data-test="add-endpoint" on:submit=submit aria-labelledby="add-endpoint-title">
            <h3 id="add-endpoint-title">{move || lang.get().pick("Add an endpoint", "Добавить адрес")}</h3>
            {local_receiver.map(|receiver| {
                let LocalReceiver { webhook_url, page_url } = receiver;
                let use_it = move |_| {
                    kind.set(PresetKind::Generic);
                    url.set(webhook_url.clone());
                    // A newcomer trying the demo should be one click from "Add".
                    if id.get_untracked().trim().is_empty() {
                        id.set("local".to_owned());
                    }
                };
                view! {
                    <div class="local-receiver" data-test="local-receiver">
                        <p>{move || lang.get().pick(
                            "A CRM receiver is running on this machine (make demo's): it lists every request it gets and checks its signature.",
                            "На этой машине работает приёмник CRM (из make demo): он показывает каждый полученный запрос и проверяет подпись.")}</p>
                        <div class="row">
                            <button type="button" data-test="use-local-receiver" on:click=use_it>{move || lang.get().pick("Use it", "Использовать")}</button>
                            <a data-test="local-receiver-page" target="_blank" rel="noopener noreferrer"
                                href=move || format!("{page_url}?lang={}", lang.get().pick("en", "ru"))>
                                {move || lang.get().pick("Open its page", "Открыть его страницу")}
                            </a>
                        </div>
                    </div>
                }
            })}
            {text_field(id, "id", Signal::derive(move || lang.get().pick("Name (a-z, 0-9, - and _)", "Имя (a-z, 0-9, - и _)")), None)}
            <label>
                <span>{move || lang.get().pick("Where to", "Куда")}</span>
                <select name="preset" data-test="field-preset" prop:value=move || kind.get().name() on:change=move |ev| kind.set(PresetKind::parse(&event_target_value(&ev)))>
                    {PresetKind::ALL.into_iter().map(|k| view! {
                        <option value=k.name() selected=move || kind.get() == k>{move || k.label(lang.get())}</option>
                    }).collect_view()}
                </select>
            </label>
            {text_field(url, "url", Signal::derive(move || lang.get().pick("Address", "Адрес")), Some(Signal::derive(move || kind.get().url_hint(lang.get()))))}
            {move || match kind.get() {
                PresetKind::Amocrm => text_field(token_secret, "token_secret",
                    Signal::derive(move || lang.get().pick("Name of the worker secret with the token", "Имя секрета воркера с токеном")),
                    Some(Signal::derive(move || lang.get().pick("e.g. CRM_AMO_TOKEN_SHOP, set with npx wrangler secret put", "например CRM_AMO_TOKEN_SHOP, задаётся через npx wrangler secret put")))).into_any(),
                PresetKind::Hubspot => view! {
                    {text_field(portal_id, "portal_id", Signal::derive(move || lang.get().pick("Portal id (digits)", "Portal id (цифры)")), None)}
                    {text_field(form_guid, "form_guid", Signal::derive(move || lang.get().pick("Form GUID", "GUID формы")), None)}
                }.into_any(),
                PresetKind::Telegram => view! {
                    <p class="hint" data-test="telegram-takes">{move || lang.get().pick(
                        "This chat gets each lead, and an alert when a visitor in the chat has waited for an answer (90 s by default, or at once when no operator is online).",
                        "В этот чат придёт каждая заявка и оповещение, когда посетитель в чате ждёт ответа (по умолчанию 90 с, или сразу, если никого из операторов нет в сети).",
                    )}</p>
                    {text_field(chat_id, "chat_id", Signal::derive(move || lang.get().pick("Chat id or @channel", "Id чата или @канал")), None)}
                    {text_field(token_secret, "bot_token_secret",
                        Signal::derive(move || lang.get().pick("Name of the worker secret with the bot token", "Имя секрета воркера с токеном бота")),
                        Some(Signal::derive(move || lang.get().pick("e.g. CRM_TG_BOT_SHOP", "например CRM_TG_BOT_SHOP"))))}
                }.into_any(),
                PresetKind::Generic => view! {
                    <fieldset class="events">
                        <legend>{move || lang.get().pick("Events (none ticked: all)", "События (ничего не отмечено: все)")}</legend>
                        {EventType::ALL.into_iter().map(|event| view! {
                            <label class="check">
                                <input type="checkbox" data-test=format!("event-{}", event.as_str())
                                    prop:checked=move || events.get().contains(&event)
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        events.update(|list| { list.retain(|e| *e != event); if on { list.push(event); } });
                                    }/>
                                " "{event.as_str()}
                            </label>
                        }).collect_view()}
                    </fieldset>
                }.into_any(),
                PresetKind::Bitrix24 => ().into_any(),
            }}
            <button type="submit" class="primary" data-test="add" disabled=move || busy.get()>{move || lang.get().pick("Add", "Добавить")}</button>
            <p class="error" role="alert" data-test="add-error">{move || error.get().map(|n| n.text(lang.get()))}</p>
        </form>
    }
}

/// The delivery log: newest first, every attempt, filtered by state; failed ones can be replayed.
#[component]
fn DeliveryLog(site: StoredValue<String>, reload: RwSignal<u32>) -> impl IntoView {
    let lang = use_lang();
    let state = RwSignal::new(None::<DeliveryState>);
    let deliveries = RwSignal::new(Vec::<DeliveryView>::new());
    let error = RwSignal::new(None::<Notice>);
    let notice = RwSignal::new(None::<Notice>);
    let load = move || {
        let filter = state.get_untracked().map(|s| format!("&state={}", s.as_str())).unwrap_or_default();
        spawn_local(async move {
            match net::get::<Vec<DeliveryView>>(&net::site_path(&site.get_value(), &format!("deliveries?limit=100{filter}"))).await {
                Ok(list) => {
                    deliveries.set(list);
                    error.set(None);
                }
                Err(e) => error.set(Some(Notice::failed("Could not load the log", "Не удалось загрузить журнал", e))),
            }
        });
    };
    Effect::new(move |_| {
        reload.get();
        state.get();
        load();
    });
    let replay = move |id: String| {
        spawn_local(async move {
            match net::post::<serde_json::Value>(&net::site_path(&site.get_value(), &format!("deliveries/{id}/replay")), &serde_json::json!({})).await {
                Ok(_) => {
                    notice.set(Some(Notice::Said("Sent again: it is pending until the receiver answers.", "Отправлено снова: ждёт ответа получателя.")));
                    load();
                }
                Err(e) => error.set(Some(Notice::failed("Could not replay", "Не удалось повторить", e))),
            }
        });
    };
    view! {
        <section class="log" aria-labelledby="log-title" data-test="delivery-log">
            <h2 id="log-title">{move || lang.get().pick("Delivery log", "Журнал доставки")}</h2>
            <div class="row">
                <label class="inline">
                    <span>{move || lang.get().pick("Show", "Показать")}</span>
                    <select data-test="state-filter" on:change=move |ev| state.set(DeliveryState::parse(&event_target_value(&ev)))>
                        <option value="" selected=move || state.get().is_none()>{move || lang.get().pick("all", "все")}</option>
                        {[DeliveryState::Failed, DeliveryState::Pending, DeliveryState::Delivered].into_iter().map(|s| view! {
                            <option value=s.as_str() selected=move || state.get() == Some(s)>{move || state_label(s, lang.get())}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button type="button" data-test="refresh-log" on:click=move |_| load()>{move || lang.get().pick("Refresh", "Обновить")}</button>
            </div>
            <p role="status" data-test="log-notice">{move || notice.get().map(|n| n.text(lang.get()))}</p>
            <p class="error" role="alert">{move || error.get().map(|n| n.text(lang.get()))}</p>
            <ul class="cards">
                {move || {
                    let list = deliveries.get();
                    if list.is_empty() {
                        return view! { <li class="empty">{move || lang.get().pick("Nothing here.", "Здесь пусто.")}</li> }.into_any();
                    }
                    list.into_iter().map(|d| {
                        let DeliveryView { id, event_type, target, state: delivery_state, attempts, created_at, last_error, .. } = d;
                        let failed = delivery_state == DeliveryState::Failed;
                        let replayed = id.clone();
                        let target_attr = target.clone();
                        view! {
                            <li class="card delivery" data-test="delivery" data-id=id data-state=delivery_state.as_str() data-target=target_attr>
                                <div class="row">
                                    <strong>{event_type.as_str()}</strong>
                                    <span class="muted">{target}</span>
                                    <span class=format!("state {}", delivery_state.as_str())>{move || state_label(delivery_state, lang.get())}</span>
                                    <span class="muted">{move || crate::clock::shop_date_time(created_at, lang.get())}</span>
                                </div>
                                {last_error.filter(|_| failed).map(|e| view! { <p class="error-text">{e}</p> })}
                                <div class="attempts">{attempts.into_iter().map(|a| view! { <Attempt attempt=a/> }).collect_view()}</div>
                                {failed.then(|| view! {
                                    <button type="button" class="primary" data-test="replay" on:click=move |_| replay(replayed.clone())>
                                        {move || lang.get().pick("Replay", "Повторить")}
                                    </button>
                                })}
                            </li>
                        }
                    }).collect_view().into_any()
                }}
            </ul>
        </section>
    }
}
