//! The owner's "Leads" screen: the list with search and filters (kind, dates, prompt, source),
//! the CSV export of what the filters show, and a lead's page with its context and its consent
//! record (the exact words the visitor agreed to), from which one visitor's data is exported or
//! erased (after a confirm step).
//!
//! The filters are sent as they are typed; what they match is core's (`outbound::lead_log`),
//! for the list and the CSV alike. Everything a visitor typed is shown as text.

use floorwalker_core::chat::operator_view::active_time;
use floorwalker_core::leads::consent::{ConsentPurpose, ConsentRecord};
use floorwalker_core::leads::lead::{Lead, LeadKind};
use floorwalker_core::outbound::crm::format_money;
use floorwalker_core::outbound::lead_log::lead_source;
use floorwalker_core::outbound::privacy::ErasureReport;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::notice::Notice;
use crate::i18n::{use_lang, Lang, Pick};
use crate::net;

const KINDS: [LeadKind; 5] = [LeadKind::ComparisonEmail, LeadKind::Callback, LeadKind::QuestionAnswer, LeadKind::OfflineMessage, LeadKind::ChatContact];

fn purpose_label(purpose: ConsentPurpose, lang: Lang) -> &'static str {
    match purpose {
        ConsentPurpose::ComparisonEmail => lang.pick("one email with the comparison", "одно письмо со сравнением"),
        ConsentPurpose::Callback => lang.pick("one call back", "один обратный звонок"),
        ConsentPurpose::QuestionAnswer => lang.pick("one reply to the answer", "один ответ на вопрос"),
        ConsentPurpose::OfflineMessage => lang.pick("a reply to the message", "ответ на сообщение"),
        ConsentPurpose::ChatTranscript => lang.pick("the chat's copy and follow-up", "копия чата и ответ по нему"),
        ConsentPurpose::Marketing => lang.pick("news and offers", "новости и предложения"),
    }
}

/// The filters as typed.
#[derive(Clone, Default, PartialEq)]
struct Filters {
    q: String,
    kind: String,
    from: String,
    to: String,
    prompt: String,
    source: String,
}

impl Filters {
    /// `q=…&kind=…`, each value URI-encoded, empty ones left out.
    fn query(&self) -> String {
        [("q", &self.q), ("kind", &self.kind), ("from", &self.from), ("to", &self.to), ("prompt", &self.prompt), ("source", &self.source)]
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| format!("{k}={}", String::from(js_sys::encode_uri_component(v.trim()))))
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn who(lead: &Lead) -> String {
    lead.contact.name.clone().or(lead.contact.email.clone()).or(lead.contact.phone.clone()).unwrap_or_else(|| "—".into())
}

fn contact_line(lead: &Lead) -> String {
    [&lead.contact.phone, &lead.contact.email].into_iter().flatten().cloned().collect::<Vec<_>>().join(", ")
}

#[component]
pub fn LeadsScreen(site: String) -> impl IntoView {
    let lang = use_lang();
    let site = StoredValue::new(site);
    let filters = RwSignal::new(Filters::default());
    let applied = RwSignal::new(Filters::default());
    let leads = RwSignal::new(Vec::<Lead>::new());
    let loaded = RwSignal::new(false);
    let error = RwSignal::new(None::<Notice>);
    let open = RwSignal::new(None::<Lead>);
    let notice = RwSignal::new(None::<Notice>);
    let load = move || {
        let query = applied.get_untracked().query();
        spawn_local(async move {
            let path = net::site_path(&site.get_value(), &format!("leads?limit=200&{query}"));
            match net::get::<Vec<Lead>>(&path).await {
                Ok(list) => {
                    leads.set(list);
                    error.set(None);
                }
                Err(e) => error.set(Some(Notice::failed("Could not load the leads", "Не удалось загрузить заявки", e))),
            }
            loaded.set(true);
        });
    };
    load();
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        applied.set(filters.get_untracked());
        load();
    };
    let reset = move |_| {
        filters.set(Filters::default());
        applied.set(Filters::default());
        load();
    };
    let csv_href = move || {
        let query = applied.get().query();
        net::site_path(&site.get_value(), &format!("leads.csv{}{query}", if query.is_empty() { "" } else { "?" }))
    };
    let field = move |name: &'static str, label: Signal<&'static str>, kind: &'static str, get: fn(&Filters) -> String, set: fn(&mut Filters, String)| {
        view! {
            <label>
                <span>{move || label.get()}</span>
                <input type=kind name=name data-test=format!("filter-{name}")
                    prop:value=move || get(&filters.get()) on:input=move |ev| { let v = event_target_value(&ev); filters.update(|f| set(f, v)); }/>
            </label>
        }
    };
    view! {
        <section class="owner-screen" data-test="leads">
            {move || match open.get() {
                Some(lead) => view! {
                    <LeadPage lead=lead site=site on_back=Callback::new(move |erased: Option<Notice>| {
                        open.set(None);
                        notice.set(erased);
                        load();
                    })/>
                }.into_any(),
                None => view! {
                    <h2>{move || lang.get().pick("Leads", "Заявки")}</h2>
                    <form class="filters card" role="search" data-test="lead-filters" on:submit=apply
                        aria-label=move || lang.get().pick("Find leads", "Поиск заявок")>
                        {field("q", Signal::derive(move || lang.get().pick("Search: name, email, phone, message", "Поиск: имя, почта, телефон, сообщение")), "search",
                            |f| f.q.clone(), |f, v| f.q = v)}
                        <label>
                            <span>{move || lang.get().pick("Kind", "Тип")}</span>
                            <select name="kind" data-test="filter-kind" on:change=move |ev| { let v = event_target_value(&ev); filters.update(|f| f.kind = v); }>
                                <option value="" selected=move || filters.get().kind.is_empty()>{move || lang.get().pick("any", "любой")}</option>
                                {KINDS.into_iter().map(|k| view! {
                                    <option value=k.as_str() selected=move || filters.get().kind == k.as_str()>{move || k.label(lang.get())}</option>
                                }).collect_view()}
                            </select>
                        </label>
                        {field("from", Signal::derive(move || lang.get().pick("From (UTC)", "С (UTC)")), "date", |f| f.from.clone(), |f, v| f.from = v)}
                        {field("to", Signal::derive(move || lang.get().pick("To (UTC)", "По (UTC)")), "date", |f| f.to.clone(), |f, v| f.to = v)}
                        {field("prompt", Signal::derive(move || lang.get().pick("Prompt id", "Id подсказки")), "text", |f| f.prompt.clone(), |f, v| f.prompt = v)}
                        {field("source", Signal::derive(move || lang.get().pick("Source (utm, site, direct)", "Источник (utm, сайт, direct)")), "text",
                            |f| f.source.clone(), |f, v| f.source = v)}
                        <div class="row">
                            <button type="submit" class="primary" data-test="apply-filters">{move || lang.get().pick("Show", "Показать")}</button>
                            <button type="button" data-test="reset-filters" on:click=reset>{move || lang.get().pick("Reset", "Сбросить")}</button>
                            <a class="button" data-test="csv" href=csv_href download="">{move || lang.get().pick("Download CSV", "Скачать CSV")}</a>
                        </div>
                    </form>
                    <p role="status" data-test="leads-notice">{move || notice.get().map(|n| n.text(lang.get()))}</p>
                    <p class="error" role="alert" data-test="leads-error">{move || error.get().map(|n| n.text(lang.get()))}</p>
                    <p class="muted" data-test="leads-count">{move || loaded.get().then(|| format!("{}: {}", lang.get().pick("Shown", "Показано"), leads.get().len()))}</p>
                    <ul class="cards lead-list" data-test="lead-list">
                        {move || {
                            let list = leads.get();
                            if list.is_empty() && loaded.get() {
                                return view! { <li class="empty">{move || lang.get().pick("No leads match.", "Подходящих заявок нет.")}</li> }.into_any();
                            }
                            list.into_iter().map(|lead| {
                                let kind = lead.kind;
                                let source = lead_source(&lead);
                                let chosen = lead.clone();
                                view! {
                                    <li class="card lead-row" data-test="lead-row" data-id=lead.id.clone()>
                                        <button type="button" class="link" data-test="open-lead" on:click=move |_| open.set(Some(chosen.clone()))>
                                            <span class="name" data-test="lead-name">{who(&lead)}</span>
                                        </button>
                                        <span class="muted">{move || kind.label(lang.get())}</span>
                                        <span>{contact_line(&lead)}</span>
                                        <span class="muted">{move || crate::clock::shop_date_time(lead.created_at, lang.get())}</span>
                                        <span class="muted">{source}</span>
                                        {lead.prompt.clone().map(|p| view! { <span class="tag">{p}</span> })}
                                    </li>
                                }
                            }).collect_view().into_any()
                        }}
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Consent(record: ConsentRecord, title: Signal<&'static str>) -> impl IntoView {
    let lang = use_lang();
    let purpose = record.given.purpose;
    view! {
        <section class="card consent" data-test="consent">
            <h3>{move || title.get()}</h3>
            <blockquote data-test="consent-text" lang=match record.locale { floorwalker_core::base::locale::Locale::Ru => "ru", floorwalker_core::base::locale::Locale::En => "en" }>
                {record.given.text.clone()}
            </blockquote>
            <dl class="facts">
                <dt>{move || lang.get().pick("For", "Цель")}</dt><dd>{move || purpose_label(purpose, lang.get())}</dd>
                <dt>{move || lang.get().pick("Text version", "Версия текста")}</dt><dd data-test="consent-version">{record.given.text_version.clone()}</dd>
                <dt>{move || lang.get().pick("Given", "Дано")}</dt><dd>{move || crate::clock::shop_date_time(record.granted_at, lang.get())}</dd>
                <dt>{move || lang.get().pick("On the page", "На странице")}</dt><dd class="url">{record.page_url.clone()}</dd>
            </dl>
        </section>
    }
}

/// One lead: contact, context, consent; export or erase the visitor.
#[component]
fn LeadPage(lead: Lead, site: StoredValue<String>, on_back: Callback<Option<Notice>>) -> impl IntoView {
    let lang = use_lang();
    let confirm = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<Notice>);
    let visitor = StoredValue::new(lead.visitor.clone());
    let export_href = net::site_path(
        &site.get_value(),
        &format!("visitors/export?visitor={}", String::from(js_sys::encode_uri_component(&lead.visitor))),
    );
    let erase = move |_| {
        busy.set(true);
        spawn_local(async move {
            let body = serde_json::json!({"visitor": visitor.get_value()});
            match net::post::<ErasureReport>(&net::site_path(&site.get_value(), "visitors/erase"), &body).await {
                Ok(report) => {
                    let leads: u64 = report.visitors.iter().map(|v| v.leads).sum();
                    let events: u64 = report.visitors.iter().map(|v| v.events).sum();
                    let visitor = visitor.get_value();
                    on_back.run(Some(Notice::Worded(std::sync::Arc::new(move |l: Lang| {
                        format!(
                            "{} {visitor}: {} {leads}, {} {events}.",
                            l.pick("Erased visitor", "Удалены данные посетителя"),
                            l.pick("leads", "заявок"),
                            l.pick("events", "событий"),
                        )
                    }))));
                }
                Err(e) => {
                    error.set(Some(Notice::failed("Nothing was erased", "Ничего не удалено", e)));
                    busy.set(false);
                }
            }
        });
    };
    let c = lead.context.clone();
    let kind = lead.kind;
    let source = lead_source(&lead);
    let marketing = lead.marketing_consent.clone();
    let contact = lead.contact.clone();
    let rows: Vec<(Signal<&'static str>, Option<String>, &'static str)> = vec![
        (Signal::derive(move || lang.get().pick("Name", "Имя")), contact.name.clone(), "name"),
        (Signal::derive(move || lang.get().pick("Email", "Почта")), contact.email.clone(), "email"),
        (Signal::derive(move || lang.get().pick("Phone", "Телефон")), contact.phone.clone(), "phone"),
        (Signal::derive(move || lang.get().pick("When to call", "Когда звонить")), contact.time_slot.clone(), "time-slot"),
        (Signal::derive(move || lang.get().pick("Message", "Сообщение")), contact.message.clone(), "message"),
        (Signal::derive(move || lang.get().pick("Prompt", "Подсказка")), lead.prompt.clone(), "prompt"),
    ];
    view! {
        <div class="lead-page" data-test="lead-page" data-id=lead.id.clone()>
            <button type="button" data-test="back" on:click=move |_| on_back.run(None)>{move || lang.get().pick("← All leads", "← Все заявки")}</button>
            <h2><span data-test="lead-title">{who(&lead)}</span>" · "<span class="muted">{move || kind.label(lang.get())}</span></h2>
            <p class="muted">{move || crate::clock::shop_date_time(lead.created_at, lang.get())}" · "{lead.id.clone()}</p>
            <section class="card" data-test="lead-contact">
                <h3>{move || lang.get().pick("Contact", "Контакт")}</h3>
                <dl class="facts">
                    {rows.into_iter().filter_map(|(label, value, test)| value.map(|v| view! {
                        <dt>{move || label.get()}</dt><dd class="pre" data-test=format!("lead-{test}")>{v}</dd>
                    })).collect_view()}
                </dl>
            </section>
            <section class="card" data-test="lead-context">
                <h3>{move || lang.get().pick("What the visitor did", "Что делал посетитель")}</h3>
                <dl class="facts">
                    <dt>{move || lang.get().pick("Source", "Источник")}</dt><dd data-test="lead-source">{source}</dd>
                    {c.first_touch.clone().map(|t| view! {
                        <dt>{move || lang.get().pick("Landing page", "Страница входа")}</dt><dd class="url">{t.landing_page}</dd>
                    })}
                    <dt>{move || lang.get().pick("Page of the lead", "Страница заявки")}</dt><dd class="url">{lead.page_url.clone()}</dd>
                    <dt>{move || lang.get().pick("Pages viewed", "Просмотрено страниц")}</dt><dd>{c.pages_viewed}</dd>
                    <dt>{move || lang.get().pick("Active time", "Активное время")}</dt><dd>{active_time(c.active_seconds)}</dd>
                    <dt>{move || lang.get().pick("Returning", "Возвращался")}</dt>
                    <dd>{move || if c.returning { lang.get().pick("yes", "да") } else { lang.get().pick("no", "нет") }}</dd>
                </dl>
                {(!c.products.is_empty()).then(|| view! {
                    <h4>{move || lang.get().pick("Products viewed", "Смотрел товары")}</h4>
                    <ul data-test="lead-products">{c.products.iter().map(|p| view! {
                        <li>{p.product.name.clone()}{p.product.price.map(|m| format!(" — {}", format_money(m)))}{format!(" ×{}", p.views)}</li>
                    }).collect_view()}</ul>
                })}
                {(!c.answers.is_empty()).then(|| view! {
                    <h4>{move || lang.get().pick("Answers", "Ответы")}</h4>
                    <ul>{c.answers.iter().map(|a| view! { <li>{a.question.clone()}": "{a.answer.clone()}</li> }).collect_view()}</ul>
                })}
            </section>
            <Consent record=lead.consent.clone() title=Signal::derive(move || lang.get().pick("Consent: the exact words agreed to", "Согласие: дословно, с чем согласился"))/>
            {marketing.map(|record| view! {
                <Consent record=record title=Signal::derive(move || lang.get().pick("Consent to news and offers", "Согласие на новости и предложения"))/>
            })}
            <section class="card danger-zone" data-test="visitor-data">
                <h3>{move || lang.get().pick("This visitor's data", "Данные этого посетителя")}</h3>
                <p class="muted">{move || lang.get().pick("Visitor id", "Id посетителя")}": "{lead.visitor.clone()}</p>
                <div class="row">
                    <a class="button" data-test="export-visitor" href=export_href download=format!("visitor-{}.json", lead.visitor)>
                        {move || lang.get().pick("Export everything (JSON)", "Выгрузить всё (JSON)")}
                    </a>
                    {move || if confirm.get() {
                        view! {
                            <div class="confirm" role="group" aria-labelledby="erase-question" data-test="erase-confirm-step">
                                <p id="erase-question">{move || lang.get().pick(
                                    "Erase everything about this visitor: events, leads, chats, emails? The consent proof is kept (hashed). This cannot be undone.",
                                    "Удалить всё об этом посетителе: события, заявки, чаты, письма? Доказательство согласия сохранится (в виде хэша). Отменить нельзя.")}</p>
                                <button type="button" class="danger" data-test="erase-confirm" on:click=erase disabled=move || busy.get()>
                                    {move || lang.get().pick("Erase", "Удалить")}
                                </button>
                                <button type="button" data-test="erase-cancel" on:click=move |_| confirm.set(false)>{move || lang.get().pick("Cancel", "Отмена")}</button>
                            </div>
                        }.into_any()
                    } else {
                        view! { <button type="button" class="danger" data-test="erase" on:click=move |_| confirm.set(true)>{move || lang.get().pick("Erase…", "Удалить…")}</button> }.into_any()
                    }}
                </div>
                <p class="error" role="alert">{move || error.get().map(|n| n.text(lang.get()))}</p>
            </section>
        </div>
    }
}
