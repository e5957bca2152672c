//! The owner's "Results" screen («Результаты»): does it sell? Per prompt, the funnel of the chosen
//! days (eligible → shown → accepted → lead → in the CRM) with each step's share and the revenue
//! the CRM reported, optionally split by day, source, device or language; the site's visitors and
//! chats; each prompt's experiment, arm against arm, with its verdict; and the tokens a CRM
//! reports deals with. The numbers and what they mean are core's (`insights`, the verdict's words
//! `insights::experiment::words`); this screen only lays them out, as cards that fit a 360 px phone.

use floorwalker_core::base::money::Money;
use floorwalker_core::chat::operator_view::PanelLabels;
use floorwalker_core::prompts::config::SiteConfig;
use floorwalker_core::insights::deals::{DealToken, NewDealToken};
use floorwalker_core::insights::experiment::{words, Base, Experiments, PromptExperiment};
use floorwalker_core::insights::funnel::{Dimension, Funnel, PromptFunnel, Revenue};
use floorwalker_core::insights::rollup::Counts;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::copy::{reveal, CopyButton};
use crate::notice::Notice;
use crate::i18n::{use_lang, Lang, Pick};
use crate::net;

/// The ranges offered, in days up to today.
const RANGES: [u32; 4] = [7, 30, 90, 365];

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "—".to_owned(), |s| format!("{:.0} %", s * 100.0))
}

fn money(revenue: &[Revenue], lang: Lang) -> String {
    if revenue.is_empty() {
        return "—".to_owned();
    }
    revenue.iter().map(|r| Money { minor: r.amount_minor, currency: r.currency }.display(lang)).collect::<Vec<_>>().join(" + ")
}

fn dimension_label(by: Dimension, lang: Lang) -> &'static str {
    match by {
        Dimension::Day => lang.pick("day", "дням"),
        Dimension::Source => lang.pick("source", "источникам"),
        Dimension::Device => lang.pick("device", "устройствам"),
        Dimension::Locale => lang.pick("language", "языкам"),
    }
}

fn key_label(key: &str, lang: Lang) -> String {
    match key {
        "direct" => lang.pick("direct", "прямые заходы").to_owned(),
        "other" => lang.pick("other", "другие").to_owned(),
        "unknown" => lang.pick("unknown", "неизвестно").to_owned(),
        "mobile" => lang.pick("phone", "телефон").to_owned(),
        "tablet" => lang.pick("tablet", "планшет").to_owned(),
        "desktop" => lang.pick("computer", "компьютер").to_owned(),
        other => other.to_owned(),
    }
}

/// The steps of one prompt's funnel: (label, count, share of the step before).
fn steps(c: &Counts, p: &PromptFunnel, lang: Lang) -> Vec<(&'static str, u64, Option<String>, &'static str)> {
    vec![
        (lang.pick("Eligible", "Подходили"), c.eligible, None, "eligible"),
        (lang.pick("Shown", "Показано"), c.shown, Some(percent(p.rates.shown_of_eligible)), "shown"),
        (lang.pick("Accepted", "Приняли"), c.accepted, Some(percent(p.rates.accepted_of_shown)), "accepted"),
        (lang.pick("Leads", "Заявки"), c.leads, Some(percent(p.rates.leads_of_accepted)), "leads"),
        (lang.pick("In the CRM", "В CRM"), c.delivered, Some(percent(p.rates.delivered_of_leads)), "delivered"),
    ]
}

#[component]
pub fn ResultsScreen(site: String) -> impl IntoView {
    let lang = use_lang();
    let site = StoredValue::new(site);
    let days = RwSignal::new(30u32);
    let by = RwSignal::new(None::<Dimension>);
    let funnel = RwSignal::new(None::<Funnel>);
    let experiments = RwSignal::new(None::<Experiments>);
    let error = RwSignal::new(None::<Notice>);
    let experiments_error = RwSignal::new(None::<Notice>);
    let load = move || {
        let (n, split) = (days.get_untracked(), by.get_untracked());
        let today = floorwalker_core::insights::day::Day::of_ms(js_sys::Date::now() as u64);
        // The experiments are counted over the funnel's days, so the two never disagree.
        let range = format!("from={}&to={today}", today.plus(1 - i64::from(n)));
        let experiments_query = format!("experiments?{range}");
        spawn_local(async move {
            let mut query = format!("funnel?{range}");
            if let Some(split) = split {
                query.push_str(&format!("&by={}", split.as_str()));
            }
            match net::get::<Funnel>(&net::site_path(&site.get_value(), &query)).await {
                Ok(answer) => {
                    funnel.set(Some(answer));
                    error.set(None);
                }
                Err(e) => error.set(Some(Notice::failed("Could not load the results", "Не удалось загрузить результаты", e))),
            }
        });
        spawn_local(async move {
            match net::get::<Experiments>(&net::site_path(&site.get_value(), &experiments_query)).await {
                Ok(answer) => {
                    experiments.set(Some(answer));
                    experiments_error.set(None);
                }
                Err(e) => experiments_error.set(Some(Notice::failed("Could not load the experiments", "Не удалось загрузить эксперименты", e))),
            }
        });
    };
    load();
    // The prompts by their names (a card's title, a question's question), not their ids.
    let labels = RwSignal::new(PanelLabels::default());
    provide_context(labels);
    spawn_local(async move {
        if let Ok(config) = net::get::<SiteConfig>(&format!("/v1/admin/sites/{}", site.get_value())).await {
            labels.try_set(PanelLabels::of(&config.widget));
        }
    });
    view! {
        <section class="owner-screen results" data-test="results">
            <h2>{move || lang.get().pick("Results", "Результаты")}</h2>
            <form class="filters card" data-test="results-filters" aria-label=move || lang.get().pick("Which numbers", "Какие цифры")
                on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); load(); }>
                <label>
                    <span>{move || lang.get().pick("Period", "Период")}</span>
                    <select name="days" data-test="results-days" on:change=move |ev| {
                        days.set(event_target_value(&ev).parse().unwrap_or(30));
                        load();
                    }>
                        {RANGES.into_iter().map(|n| view! {
                            <option value=n.to_string() selected=move || days.get() == n>
                                {move || format!("{} {n} {}", lang.get().pick("last", "последние"), lang.get().pick("days", "дн."))}
                            </option>
                        }).collect_view()}
                    </select>
                </label>
                <label>
                    <span>{move || lang.get().pick("Split by", "Разбить по")}</span>
                    <select name="by" data-test="results-by" on:change=move |ev| {
                        by.set(Dimension::parse(&event_target_value(&ev)));
                        load();
                    }>
                        <option value="" selected=move || by.get().is_none()>{move || lang.get().pick("nothing", "не разбивать")}</option>
                        {Dimension::ALL.into_iter().map(|d| view! {
                            <option value=d.as_str() selected=move || by.get() == Some(d)>{move || dimension_label(d, lang.get())}</option>
                        }).collect_view()}
                    </select>
                </label>
            </form>
            <p class="error" role="alert" data-test="results-error">{move || error.get().map(|n| n.text(lang.get()))}</p>
            {move || funnel.get().map(|f| view! { <FunnelView funnel=f/> })}
            <ExperimentsView experiments=experiments error=experiments_error/>
            <DealTokens site=site/>
        </section>
    }
}

#[component]
fn FunnelView(funnel: Funnel) -> impl IntoView {
    let lang = use_lang();
    let site = funnel.site;
    let first_response = funnel.first_response;
    let satisfaction = funnel.satisfaction;
    let revenue = funnel.revenue.clone();
    let missing = funnel.days_missing;
    let split = funnel.by.is_some();
    let site_groups = funnel.site_groups.clone();
    view! {
        <section class="card site-totals" data-test="site-totals">
            <h3>{move || lang.get().pick("The whole site", "Весь сайт")}</h3>
            <dl class="facts">
                <dt>{move || lang.get().pick("Visitors (per day)", "Посетители (по дням)")}</dt><dd data-test="total-visitors">{site.visitors}</dd>
                <dt>{move || lang.get().pick("Leads, in the CRM", "Заявки, в CRM")}</dt><dd data-test="total-leads">{format!("{}, {}", site.leads, site.delivered)}</dd>
                <dt>{move || lang.get().pick("Chat opened, chats", "Открыли чат, чатов")}</dt><dd data-test="total-chats">{format!("{}, {}", site.chat_opens, site.chats)}</dd>
                <dt>{move || lang.get().pick("Chats answered", "Чатов с ответом")}</dt><dd data-test="chats-answered">{site.chats_answered}</dd>
                <dt>{move || lang.get().pick("First answer (median)", "Первый ответ (медиана)")}</dt>
                <dd data-test="first-response">{move || match first_response {
                    Some(first) => first.median_words(lang.get()),
                    None => lang.get().pick("no answered chat yet", "пока ни одного ответа").to_owned(),
                }}</dd>
                <dt>{move || lang.get().pick("Chat rating", "Оценка чатов")}</dt>
                <dd data-test="satisfaction">{move || match satisfaction {
                    Some(rated) => rated.words(lang.get()),
                    None => lang.get().pick("no rating yet", "пока без оценок").to_owned(),
                }}</dd>
                <dt>{move || lang.get().pick("Revenue from the CRM", "Выручка по данным CRM")}</dt><dd data-test="total-revenue">{move || money(&revenue, lang.get())}</dd>
            </dl>
            {split.then(|| view! {
                <ul class="groups" data-test="site-groups">
                    {site_groups.into_iter().map(|g| {
                        let (key, visitors) = (g.key, g.counts.visitors);
                        view! { <li><span>{move || key_label(&key, lang.get())}</span><span>{visitors}</span></li> }
                    }).collect_view()}
                </ul>
            })}
            {(missing > 0).then(|| view! {
                <p class="muted" data-test="days-missing">{move || format!("{} {missing}", lang.get().pick(
                    "Days not counted yet (counted within minutes):", "Ещё не подсчитано дней (будут через несколько минут):"))}</p>
            })}
        </section>
        <ul class="cards funnel-list" data-test="funnel-list">
            {funnel.prompts.into_iter().map(|p| view! { <PromptCard prompt=p/> }).collect_view()}
        </ul>
    }
}

#[component]
fn PromptCard(prompt: PromptFunnel) -> impl IntoView {
    let lang = use_lang();
    let id = prompt.prompt.clone();
    let counts = prompt.counts;
    let revenue = prompt.revenue.clone();
    let groups = prompt.groups.clone();
    let configured = prompt.configured;
    let (labelled_by, heading) = (format!("funnel-{id}"), format!("funnel-{id}"));
    view! {
        <li class="card funnel" data-test="funnel-prompt" data-prompt=id.clone() aria-labelledby=labelled_by>
            <h3 id=heading title=id.clone()>{prompt_name(id.clone())}
                {(!configured).then(|| view! { <span class="tag">{move || lang.get().pick("removed", "удалена")}</span> })}
            </h3>
            <ol class="steps">
                {move || steps(&counts, &prompt, lang.get()).into_iter().map(|(label, n, share, test)| view! {
                    <li data-test=format!("step-{test}")>
                        <span class="label">{label}</span>
                        <strong class="n">{n}</strong>
                        <span class="share muted">{share.unwrap_or_default()}</span>
                    </li>
                }).collect_view()}
            </ol>
            <p data-test="prompt-revenue"><span>{move || lang.get().pick("Revenue: ", "Выручка: ")}</span>{move || money(&revenue, lang.get())}</p>
            {(!groups.is_empty()).then(|| view! {
                <table class="groups">
                    <thead><tr>
                        <th scope="col">{move || lang.get().pick("Group", "Группа")}</th>
                        <th scope="col">{move || lang.get().pick("Eligible", "Подходили")}</th>
                        <th scope="col">{move || lang.get().pick("Shown", "Показано")}</th>
                        <th scope="col">{move || lang.get().pick("Accepted", "Приняли")}</th>
                        <th scope="col">{move || lang.get().pick("Leads", "Заявки")}</th>
                    </tr></thead>
                    <tbody>
                        {groups.into_iter().map(|g| {
                            let (key, c) = (g.key, g.counts);
                            view! {
                                <tr>
                                    <th scope="row">{move || key_label(&key, lang.get())}</th>
                                    <td>{c.eligible}</td><td>{c.shown}</td><td>{c.accepted}</td><td>{c.leads}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        </li>
    }
}

/// Each prompt's experiment: its arms (shown, accepted, rate with its interval) and the verdict,
/// in words that say what to do; or, when none runs, one line on what an experiment is and where
/// to start one.
#[component]
fn ExperimentsView(experiments: RwSignal<Option<Experiments>>, error: RwSignal<Option<Notice>>) -> impl IntoView {
    let lang = use_lang();
    let list = move || experiments.get().map(|answer| answer.experiments);
    view! {
        <section class="card experiments" data-test="experiments" aria-labelledby="experiments-heading">
            <h3 id="experiments-heading">{move || lang.get().pick("Experiments", "Эксперименты")}</h3>
            <p class="error" role="alert" data-test="experiments-error">{move || error.get().map(|n| n.text(lang.get()))}</p>
            {move || match list() {
                None => None,
                Some(list) if list.is_empty() => Some(view! {
                    <p class="muted" data-test="experiments-none">
                        {move || lang.get().pick(
                            "An experiment shows some visitors other words for a prompt and tells you which words sell better. Start one on ",
                            "Эксперимент показывает части посетителей другие слова подсказки и говорит, какие продают лучше. Начать можно в разделе ")}
                        <a href="#prompts">{move || lang.get().pick("Prompts", "Подсказки")}</a>
                        {move || lang.get().pick(": \"Try other words\".", ": «Попробовать другие слова».")}
                    </p>
                }.into_any()),
                Some(list) => Some(view! {
                    <ul class="experiment-list">
                        {list.into_iter().map(|experiment| view! { <ExperimentCard experiment=experiment/> }).collect_view()}
                    </ul>
                }.into_any()),
            }}
        </section>
    }
}

#[component]
fn ExperimentCard(experiment: PromptExperiment) -> impl IntoView {
    let lang = use_lang();
    let PromptExperiment { prompt, result } = experiment;
    let (heading, labelled_by) = (format!("experiment-{prompt}"), format!("experiment-{prompt}"));
    let experiment_id = result.experiment.clone();
    let kind = words::verdict_kind(&result.verdict);
    let arms = result.arms.clone();
    let acts = matches!(kind, "winner" | "control_wins");
    // A timing experiment is judged on the arms' visitors (core's Base): the table shows them.
    let per_visitor = result.base == Base::Visitors;
    view! {
        <li class="experiment" data-test="experiment" data-prompt=prompt.clone() data-experiment=experiment_id aria-labelledby=labelled_by>
            <h4 id=heading title=prompt.clone()>{prompt_name(prompt.clone())}</h4>
            <table class="arms">
                <thead><tr>
                    <th scope="col">{move || lang.get().pick("Variant", "Вариант")}</th>
                    {per_visitor.then(|| view! { <th scope="col">{move || lang.get().pick("Visitors", "Посетители")}</th> })}
                    <th scope="col">{move || lang.get().pick("Shown", "Показано")}</th>
                    <th scope="col">{move || lang.get().pick("Accepted", "Приняли")}</th>
                    <th scope="col">{move || if per_visitor {
                        lang.get().pick("Per visitor (95 % range)", "На посетителя (95 % интервал)")
                    } else {
                        lang.get().pick("Rate (95 % range)", "Доля (95 % интервал)")
                    }}</th>
                </tr></thead>
                <tbody>
                    {arms.into_iter().map(|arm| {
                        let (variant, name) = (arm.counts.variant.clone(), arm.counts.variant.clone());
                        let (visitors, shown, converted) = (arm.counts.visitors, arm.counts.shown, arm.counts.converted);
                        view! {
                            <tr data-test="arm" data-variant=variant>
                                <th scope="row">{move || words::arm_label(&name, lang.get())}</th>
                                {per_visitor.then(|| view! { <td data-test="arm-visitors">{move || lang.get().grouped(visitors)}</td> })}
                                <td>{move || lang.get().grouped(shown)}</td>
                                <td>{move || lang.get().grouped(converted)}</td>
                                <td data-test="arm-rate">{move || words::arm_rate(&arm, lang.get())}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <p class="verdict" data-test="verdict" data-verdict=kind>{move || words::verdict(&result, lang.get())}</p>
            {acts.then(|| view! {
                <p><a href="#prompts" data-test="experiment-act">{move || lang.get().pick("Open the prompt's form", "Открыть форму подсказки")}</a></p>
            })}
        </li>
    }
}

/// The tokens a CRM reports won deals with: created with a name (the address to call shown once,
/// with a copy button), listed, revoked.
#[component]
fn DealTokens(site: StoredValue<String>) -> impl IntoView {
    let lang = use_lang();
    let tokens = RwSignal::new(Vec::<DealToken>::new());
    let created = RwSignal::new(None::<NewDealToken>);
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<Notice>);
    let load = move || {
        spawn_local(async move {
            match net::get::<Vec<DealToken>>(&net::site_path(&site.get_value(), "deal-tokens")).await {
                Ok(list) => tokens.set(list),
                Err(e) => error.set(Some(Notice::failed("Could not load the tokens", "Не удалось загрузить токены", e))),
            }
        });
    };
    load();
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = serde_json::json!({"name": name.get_untracked()});
        spawn_local(async move {
            match net::post::<NewDealToken>(&net::site_path(&site.get_value(), "deal-tokens"), &body).await {
                Ok(token) => {
                    created.set(Some(token));
                    name.set(String::new());
                    error.set(None);
                    load();
                }
                Err(e) => error.set(Some(Notice::failed("No token was created", "Токен не создан", e))),
            }
        });
    };
    let revoke = move |id: String| {
        spawn_local(async move {
            match net::delete::<serde_json::Value>(&net::site_path(&site.get_value(), &format!("deal-tokens/{id}"))).await {
                Ok(_) => load(),
                Err(e) => error.set(Some(Notice::failed("The token was not revoked", "Токен не отозван", e))),
            }
        });
    };
    view! {
        <section class="card deal-tokens" data-test="deal-tokens">
            <h3>{move || lang.get().pick("Deals from your CRM", "Сделки из CRM")}</h3>
            <p class="muted">{move || lang.get().pick(
                "Your CRM calls this address when a deal is won (lead, deal, amount, currency), so each prompt shows its revenue. Setup for Bitrix24 and amoCRM: docs/leads-and-webhooks.md.",
                "CRM вызывает этот адрес, когда сделка выиграна (заявка, сделка, сумма, валюта), и у каждой подсказки видна выручка. Настройка для Битрикс24 и amoCRM: docs/leads-and-webhooks.md.")}</p>
            <form class="add" on:submit=create data-test="deal-token-form">
                <label>
                    <span>{move || lang.get().pick("Name (which CRM)", "Название (какая CRM)")}</span>
                    <input type="text" name="name" maxlength="100" data-test="deal-token-name"
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                </label>
                <button type="submit" class="primary" data-test="deal-token-create">{move || lang.get().pick("Create a token", "Создать токен")}</button>
            </form>
            <p class="error" role="alert">{move || error.get().map(|n| n.text(lang.get()))}</p>
            {move || created.get().map(|token| {
                let url = token.url.clone();
                view! {
                    <div class="secret" data-test="deal-token-url" role="status" tabindex="-1" node_ref=reveal()>
                        <p>{move || lang.get().pick("Shown once — copy it into the CRM now:", "Показывается один раз — скопируйте в CRM сейчас:")}</p>
                        <code>{token.url.clone()}</code>
                        <CopyButton text=Signal::stored(url) label=("Copy", "Копировать") test="copy-deal-url"/>
                    </div>
                }
            })}
            <ul class="tokens" data-test="deal-token-list">
                {move || tokens.get().into_iter().map(|t| {
                    let id = t.id.clone();
                    let revoked = t.revoked_at;
                    let last_call = t.last_call.clone();
                    let refused = last_call.as_ref().is_some_and(|call| call.refused.is_some() || call.skipped > 0);
                    view! {
                        <li data-test="deal-token">
                            <span>{t.name.clone()}</span>
                            <span class="muted">{move || crate::clock::shop_date_time(t.created_at, lang.get())}</span>
                            <span class="last-call" class:warn=refused data-test="deal-token-last-call">{move || match &last_call {
                                None => lang.get().pick("No call yet", "Вызовов ещё не было").to_owned(),
                                Some(call) => format!(
                                    "{} {}: {}",
                                    lang.get().pick("Last call", "Последний вызов"),
                                    crate::clock::shop_date_time(call.at, lang.get()),
                                    call.words(lang.get()),
                                ),
                            }}</span>
                            {match revoked {
                                Some(at) => view! { <span class="muted">{move || lang.get().pick("revoked ", "отозван ")}{move || crate::clock::shop_date_time(at, lang.get())}</span> }.into_any(),
                                None => view! {
                                    <button type="button" data-test="deal-token-revoke" on:click=move |_| revoke(id.clone())>
                                        {move || lang.get().pick("Revoke", "Отозвать")}
                                    </button>
                                }.into_any(),
                            }}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// A prompt's name in the owner's language, its id until the config is read (or for a prompt
/// since removed).
fn prompt_name(id: String) -> impl Fn() -> String {
    let lang = use_lang();
    let labels = use_context::<RwSignal<PanelLabels>>();
    move || labels.map_or_else(|| id.clone(), |labels| labels.with(|labels| labels.prompt(&id, lang.get())))
}
