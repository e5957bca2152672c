//! The owner's "Prompts" screen («Подсказки»): the site's languages, hours, time zone, look and
//! guardrails, and each playbook (comparison by email, callback, question, chat invitation) on a
//! form of its own: on/off, the words in each of the site's languages, the conditions as fields
//! (with the engine's floors beside them), the question's choices, the cooldown, and an
//! experiment: other words for some visitors (core's `PromptDefinition::start_experiment` and
//! the moves beside it), each variant's words edited with the same fields as the prompt's own.
//!
//! The form edits a copy of the stored config (core's `SiteConfig`, the one type the worker
//! stores); "Save" sends each changed prompt as a JSON merge patch of only what changed (core's
//! `merge_patch::diff`), then the rest of the config the same way, so changing one word sends one
//! word. Validation is core's, on the server, in the owner's language; its problem names a field,
//! and the message is shown next to that field (or above the button when no field shows it).

use std::sync::Arc;

use floorwalker_core::base::locale::{Locale, Weekday};
use floorwalker_core::base::merge_patch;
use floorwalker_core::insights::experiment::words::arm_label;
use floorwalker_core::prompts::config::experiment::MAX_CHALLENGERS;
use floorwalker_core::prompts::config::{
    active_seconds_floor, distinct_products_floor, Choice, ConsentCopy, Localized, Position, PromptCopy, PromptDefinition, PromptKind,
    Question, SiteConfig,
};
use floorwalker_core::prompts::card::preview_link;
use floorwalker_core::prompts::contrast::is_hex_color;
use floorwalker_core::prompts::form::{self, Field};
use floorwalker_core::prompts::hours::{hhmm, OpeningHours};
use floorwalker_core::prompts::rules::{
    AnswerIs, Condition, MAX_COOLDOWN_DAYS, MAX_PROMPTS_PER_VISIT_CEILING, MIN_COOLDOWN_DAYS, MIN_DWELL_FLOOR_SECONDS,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::preview::Preview;
use crate::i18n::{use_lang, Lang, Pick};
use crate::notice::Notice;
use crate::net;

type Getter = Arc<dyn Fn(&SiteConfig) -> String + Send + Sync>;
type Setter = Arc<dyn Fn(&mut SiteConfig, String) + Send + Sync>;
type GetterFlag = Arc<dyn Fn(&SiteConfig) -> bool + Send + Sync>;
type SetterFlag = Arc<dyn Fn(&mut SiteConfig, bool) + Send + Sync>;

/// A problem the server reported for the last save.
#[derive(Clone, PartialEq)]
struct Problem {
    field: Option<String>,
    message: String,
}

/// The screen's state, shared by every field.
#[derive(Clone, Copy)]
struct Form {
    site: StoredValue<String>,
    /// What the server has (after the last load or save).
    loaded: RwSignal<Option<SiteConfig>>,
    /// What the form shows.
    draft: RwSignal<Option<SiteConfig>>,
    problem: RwSignal<Option<Problem>>,
    saved: RwSignal<bool>,
    busy: RwSignal<bool>,
    /// The paths of the fields on screen, in order: a problem is shown at the first that is its
    /// field or lies under it.
    fields: StoredValue<Vec<String>>,
    lang: RwSignal<Lang>,
}

/// The field a problem is shown at. A condition's path names its place in the `all` list
/// (`when.all[1].active_seconds_at_least`); its field on the form is `when.active_seconds_at_least`.
fn normalized(field: &str) -> String {
    match field.find(".when.all[") {
        Some(at) => {
            let rest = &field[at + ".when.all[".len()..];
            match rest.find("].") {
                Some(close) => format!("{}.when.{}", &field[..at], &rest[close + 2..]),
                None => field.to_owned(),
            }
        }
        None => field.to_owned(),
    }
}

impl Form {
    fn edit(self, change: impl FnOnce(&mut SiteConfig)) {
        self.draft.update(|draft| {
            if let Some(draft) = draft {
                change(draft);
            }
        });
        self.saved.set(false);
    }

    fn register(self, path: &str) {
        let path = path.to_owned();
        self.fields.update_value(|fields| {
            if !fields.contains(&path) {
                fields.push(path.clone());
            }
        });
        let fields = self.fields;
        on_cleanup(move || fields.update_value(|list| list.retain(|p| *p != path)));
    }

    /// The path of the field on screen that shows a problem with `field`, if any.
    fn owner_of(self, field: &str) -> Option<String> {
        let field = normalized(field);
        let under = format!("{field}.");
        self.fields.with_value(|fields| fields.iter().find(|p| **p == field || p.starts_with(&under)).cloned())
    }

    /// The message to show next to the field at `path`, if the last problem is its.
    fn error_at(self, path: &str) -> Option<String> {
        let problem = self.problem.get()?;
        let owner = self.owner_of(problem.field.as_deref()?)?;
        (owner == path).then_some(problem.message)
    }

    fn value(self, get: &Getter) -> String {
        self.draft.with(|draft| draft.as_ref().map(|d| get(d)).unwrap_or_default())
    }
}

fn field_id(path: &str) -> String {
    let id: String = path.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    format!("f-{id}")
}

#[derive(Clone, Copy, PartialEq)]
enum Input {
    Line,
    Text,
    Number,
    Time,
}

/// A hint beside a field, in English and Russian.
type Hint = Option<(String, String)>;

fn same(hint: &str) -> Hint {
    Some((hint.to_owned(), hint.to_owned()))
}

/// A labelled input bound to the draft, with its problem (if any) beneath it and an optional hint.
fn text_field(form: Form, path: String, label: (&'static str, &'static str), input: Input, hint: Hint, get: Getter, set: Setter) -> AnyView {
    form.register(&path);
    let lang = form.lang;
    let id = field_id(&path);
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = if hint.is_some() { format!("{hint_id} {error_id}") } else { error_id.clone() };
    let (p1, p2, p3) = (path.clone(), path.clone(), path);
    let invalid = move || if form.error_at(&p1).is_some() { "true" } else { "false" };
    let value = move || form.value(&get);
    let on_input = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        form.edit(|draft| set(draft, text));
    };
    let control = match input {
        Input::Text => view! {
            <textarea id=id.clone() rows="3" aria-invalid=invalid aria-describedby=described.clone() prop:value=value on:input=on_input></textarea>
        }
        .into_any(),
        other => {
            let kind = match other {
                Input::Number => "number",
                Input::Time => "time",
                _ => "text",
            };
            view! {
                <input id=id.clone() type=kind aria-invalid=invalid aria-describedby=described.clone() prop:value=value on:input=on_input/>
            }
            .into_any()
        }
    };
    view! {
        <div class="field" data-field=p2>
            <label for=id>{move || lang.get().pick(label.0, label.1)}</label>
            {control}
            {hint.map(|(en, ru)| view! { <p class="hint" id=hint_id>{move || if lang.get() == Locale::En { en.clone() } else { ru.clone() }}</p> })}
            <p class="field-error" id=error_id role="alert">{move || form.error_at(&p3)}</p>
        </div>
    }
    .into_any()
}

fn checkbox(form: Form, path: Option<String>, label: (&'static str, &'static str), get: GetterFlag, set: SetterFlag) -> AnyView {
    if let Some(path) = &path {
        form.register(path);
    }
    let lang = form.lang;
    let id = field_id(path.as_deref().unwrap_or(label.0));
    let error_path = path.clone().unwrap_or_default();
    view! {
        <div class="check" data-field=path.unwrap_or_default()>
            <input type="checkbox" id=id.clone()
                prop:checked=move || form.draft.with(|d| d.as_ref().is_some_and(|d| get(d)))
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    form.edit(|draft| set(draft, on));
                }/>
            <label for=id>{move || lang.get().pick(label.0, label.1)}</label>
            <p class="field-error" role="alert">{move || if error_path.is_empty() { None } else { form.error_at(&error_path) }}</p>
        </div>
    }
    .into_any()
}

/// A select of `(value, en, ru)` options.
fn select(form: Form, path: String, label: (&'static str, &'static str), options: Vec<(String, String, String)>, get: Getter, set: Setter) -> AnyView {
    form.register(&path);
    let lang = form.lang;
    let id = field_id(&path);
    let error_id = format!("{id}-error");
    let p1 = path.clone();
    let current = move || form.value(&get);
    view! {
        <div class="field" data-field=path>
            <label for=id.clone()>{move || lang.get().pick(label.0, label.1)}</label>
            <select id=id aria-describedby=error_id.clone() on:change=move |ev| {
                let value = event_target_value(&ev);
                form.edit(|draft| set(draft, value));
            }>
                {options.into_iter().map(|(value, en, ru)| {
                    let (v1, v2) = (value.clone(), value);
                    let current = current.clone();
                    view! { <option value=v1 prop:selected=move || current() == v2>{move || if lang.get() == Locale::En { en.clone() } else { ru.clone() }}</option> }
                }).collect_view()}
            </select>
            <p class="field-error" id=error_id role="alert">{move || form.error_at(&p1)}</p>
        </div>
    }
    .into_any()
}

fn get(f: impl Fn(&SiteConfig) -> String + Send + Sync + 'static) -> Getter {
    Arc::new(f)
}

fn set(f: impl Fn(&mut SiteConfig, String) + Send + Sync + 'static) -> Setter {
    Arc::new(f)
}

fn number(text: &str) -> Option<u32> {
    text.trim().parse().ok()
}

fn language_name(locale: Locale) -> (&'static str, &'static str) {
    match locale {
        Locale::Ru => ("Russian", "Русский"),
        Locale::En => ("English", "Английский"),
    }
}

fn kind_name(kind: &PromptKind) -> (&'static str, &'static str) {
    match kind {
        PromptKind::ComparisonEmail => ("Comparison by email", "Сравнение на почту"),
        PromptKind::Callback => ("Callback", "Обратный звонок"),
        PromptKind::Question(_) => ("Question", "Вопрос"),
        PromptKind::ChatInvitation => ("Chat invitation", "Приглашение в чат"),
    }
}

/// Words for a language the prompt has none in yet: the other language's shape (its consent
/// version, whether it has after-hours words) with every text empty, for the owner to write.
fn blank_like(copy: &PromptCopy) -> PromptCopy {
    PromptCopy {
        title: String::new(),
        body: String::new(),
        accept: String::new(),
        dismiss: String::new(),
        consent: copy.consent.as_ref().map(|c| ConsentCopy { text: String::new(), consent_version: c.consent_version.clone() }),
        after_hours: copy.after_hours.as_ref().map(|_| floorwalker_core::prompts::config::AfterHoursCopy {
            title: String::new(),
            body: String::new(),
            accept: String::new(),
        }),
        answered: Vec::new(),
    }
}

/// The words of `copy` in `locale`, made (empty) if it has none yet.
fn made_in(copy: &mut Localized<PromptCopy>, locale: Locale) -> Option<&mut PromptCopy> {
    if copy.in_locale(locale).is_none() {
        let blank = blank_like(copy.get(locale));
        copy.set(locale, blank);
    }
    copy.in_locale_mut(locale)
}

/// The prompt's words in `locale`, made (empty) if it has none yet.
fn copy_mut(draft: &mut SiteConfig, index: usize, locale: Locale) -> Option<&mut PromptCopy> {
    made_in(&mut draft.widget.prompts.get_mut(index)?.copy, locale)
}

/// Whose words a set of fields edits: the prompt's own, or the `n`th variant's of its experiment.
#[derive(Clone, Copy, PartialEq)]
enum Words {
    Prompt,
    Variant(usize),
}

impl Words {
    /// Where these words sit under the prompt, as the server's problems name them.
    fn path(self, base: &str) -> String {
        match self {
            Words::Prompt => format!("{base}.copy"),
            Words::Variant(n) => format!("{base}.experiment.variants[{n}].copy"),
        }
    }

    /// The words in `locale`. A variant without words of its own (one that changes the timing
    /// only) shows the prompt's: they are what its visitors read.
    fn read(self, draft: &SiteConfig, index: usize, locale: Locale) -> Option<&PromptCopy> {
        let prompt = draft.widget.prompts.get(index)?;
        match self {
            Words::Prompt => prompt.copy.in_locale(locale),
            Words::Variant(n) => prompt.experiment.as_ref()?.variants.get(n)?.copy.as_ref().unwrap_or(&prompt.copy).in_locale(locale),
        }
    }

    /// The words in `locale` to change, made (empty) if there are none yet; a variant without
    /// words of its own gets a copy of the prompt's first, so one changed field changes one field.
    fn write(self, draft: &mut SiteConfig, index: usize, locale: Locale) -> Option<&mut PromptCopy> {
        match self {
            Words::Prompt => copy_mut(draft, index, locale),
            Words::Variant(n) => {
                let prompt = draft.widget.prompts.get_mut(index)?;
                let own = prompt.copy.clone();
                let variant = prompt.experiment.as_mut()?.variants.get_mut(n)?;
                made_in(variant.copy.get_or_insert(own), locale)
            }
        }
    }
}

fn localized_text(value: &Localized<String>, locale: Locale) -> String {
    value.in_locale(locale).cloned().unwrap_or_default()
}

#[component]
pub fn PromptsScreen(site: String) -> impl IntoView {
    let lang = use_lang();
    let form = Form {
        site: StoredValue::new(site.clone()),
        loaded: RwSignal::new(None),
        draft: RwSignal::new(None),
        problem: RwSignal::new(None),
        saved: RwSignal::new(false),
        busy: RwSignal::new(false),
        fields: StoredValue::new(Vec::new()),
        lang,
    };
    let failed = RwSignal::new(None::<Notice>);
    spawn_local(async move {
        match net::get::<SiteConfig>(&format!("/v1/admin/sites/{site}")).await {
            Ok(config) => {
                form.loaded.set(Some(config.clone()));
                form.draft.set(Some(config));
            }
            Err(error) => failed.set(Some(Notice::failed("Could not load the prompts", "Не удалось загрузить подсказки", error))),
        }
    });
    // The prompts' forms are drawn once the config is here; their number never changes on this screen.
    let prompt_count = Memo::new(move |_| form.draft.with(|d| d.as_ref().map(|d| d.widget.prompts.len())));
    view! {
        <section class="owner-screen prompts-screen" data-test="prompts">
            <h2>{move || lang.get().pick("Prompts", "Подсказки")}</h2>
            <p class="lead">{move || lang.get().pick(
                "What the widget says to visitors, and when. Changes reach visitors within a minute of saving.",
                "Что и когда виджет говорит посетителям. Изменения доходят до посетителей в течение минуты после сохранения.")}</p>
            {move || failed.get().map(|notice| view! { <p class="error" role="alert">{move || notice.text(lang.get())}</p> })}
            {move || match prompt_count.get() {
                None => view! { <p class="empty">{move || lang.get().pick("Loading…", "Загрузка…")}</p> }.into_any(),
                Some(count) => view! {
                    <PromptIndex form=form/>
                    <SiteSettings form=form/>
                    {(0..count).map(|index| view! { <PromptForm form=form index=index/> }).collect_view()}
                    <SaveBar form=form/>
                }.into_any(),
            }}
        </section>
    }
}

/// The prompts' names at the top of a long screen, each taking the owner to its form (buttons:
/// the console's own routes live in the URL's fragment, so an in-page link would leave the screen).
#[component]
fn PromptIndex(form: Form) -> impl IntoView {
    let lang = form.lang;
    let prompts = form.loaded.with_untracked(|c| {
        c.as_ref().map(|c| c.widget.prompts.iter().map(|p| (p.id.clone(), kind_name(&p.kind))).collect::<Vec<_>>()).unwrap_or_default()
    });
    let items = prompts
        .into_iter()
        .map(|(id, name)| {
            let state = {
                let id = id.clone();
                move || {
                    let on = form.draft.with(|c| c.as_ref().and_then(|c| c.widget.prompt(&id)).is_some_and(|p| p.enabled));
                    if on { lang.get().pick("on", "вкл.") } else { lang.get().pick("off", "выкл.") }
                }
            };
            // Focus scrolls the heading into view, and a keyboard user goes on from there.
            let go = move |_| focus_soon(format!("[id='prompt-{id}-heading']"));
            view! {
                <li><button type="button" class="link" on:click=go>{move || lang.get().pick(name.0, name.1)}</button>
                    " "<span class="state">"("{state}")"</span></li>
            }
        })
        .collect_view();
    view! {
        <nav class="prompt-index" aria-label=move || lang.get().pick("The prompts on this screen", "Подсказки на этой странице")>
            <ul>{items}</ul>
        </nav>
    }
}

#[component]
fn SaveBar(form: Form) -> impl IntoView {
    let lang = form.lang;
    let dirty = move || form.draft.get() != form.loaded.get();
    let summary = move || {
        let problem = form.problem.get()?;
        let inline = problem.field.as_deref().and_then(|field| form.owner_of(field)).is_some();
        Some(if inline {
            lang.get().pick("Not saved: see the field marked below its input.", "Не сохранено: см. поле с пометкой.").to_owned()
        } else {
            format!("{} {}", lang.get().pick("Not saved:", "Не сохранено:"), problem.message)
        })
    };
    view! {
        <div class="save-bar">
            <button class="primary" type="button" data-test="save" disabled=move || form.busy.get() || !dirty()
                on:click=move |_| spawn_local(save(form))>
                {move || lang.get().pick("Save changes", "Сохранить изменения")}
            </button>
            <span role="status" data-test="saved">{move || (form.saved.get() && !dirty()).then(|| lang.get().pick("Saved.", "Сохранено."))}</span>
            <p class="error" role="alert" data-test="save-error">{summary}</p>
        </div>
    }
}

/// Sends what changed: each changed prompt, then the rest of the config, each as a merge patch of
/// only its changes. Stops at the first problem and shows it.
async fn save(form: Form) {
    let (Some(mut loaded), Some(draft)) = (form.loaded.get_untracked(), form.draft.get_untracked()) else { return };
    let site = form.site.get_value();
    let language = form.lang.get_untracked().code();
    form.busy.set(true);
    form.problem.set(None);
    let fail = |error: net::HttpError| {
        form.problem.set(Some(Problem { field: error.field, message: error.message }));
        form.busy.set(false);
    };
    for prompt in &draft.widget.prompts {
        let Some(before) = loaded.widget.prompt(&prompt.id) else { continue };
        let (Ok(before), Ok(after)) = (serde_json::to_value(before), serde_json::to_value(prompt)) else { continue };
        if let Some(patch) = merge_patch::diff(&before, &after) {
            let path = net::site_path(&site, &format!("prompts/{}", prompt.id));
            match net::patch::<SiteConfig>(&path, &patch, language).await {
                Ok(stored) => {
                    loaded = stored.clone();
                    form.loaded.set(Some(stored));
                }
                Err(error) => return fail(error),
            }
        }
    }
    // The prompts travel on their own routes: a list in a merge patch would be sent whole.
    let without_prompts = |config: &SiteConfig| {
        let mut value = serde_json::to_value(config).unwrap_or_default();
        if let Some(widget) = value.get_mut("widget").and_then(|w| w.as_object_mut()) {
            widget.remove("prompts");
        }
        value
    };
    if let Some(patch) = merge_patch::diff(&without_prompts(&loaded), &without_prompts(&draft)) {
        let path = format!("/v1/admin/sites/{site}");
        match net::patch::<SiteConfig>(&path, &patch, language).await {
            Ok(stored) => form.loaded.set(Some(stored)),
            Err(error) => return fail(error),
        }
    }
    form.busy.set(false);
    form.saved.set(true);
}

#[component]
fn SiteSettings(form: Form) -> impl IntoView {
    let lang = form.lang;
    let locales_field = {
        let locale_box = move |locale: Locale, path: Option<String>| {
            checkbox(
                form,
                path,
                language_name(locale),
                Arc::new(move |d: &SiteConfig| d.locales.contains(&locale)),
                Arc::new(move |d: &mut SiteConfig, on: bool| set_locale(d, locale, on)),
            )
        };
        view! {
            <fieldset data-test="locales">
                <legend>{move || lang.get().pick("The site's languages", "Языки сайта")}</legend>
                <p class="hint">{move || lang.get().pick(
                    "Prompts are written in these languages only. A visitor whose page is in another language sees the default language.",
                    "Подсказки пишутся только на этих языках. Посетитель страницы на другом языке увидит язык по умолчанию.")}</p>
                {locale_box(Locale::Ru, Some("locales".into()))}
                {locale_box(Locale::En, None)}
                {select(form, "widget.default_locale".into(), ("Default language", "Язык по умолчанию"),
                    Locale::ALL.iter().map(|l| (l.code().to_owned(), language_name(*l).0.to_owned(), language_name(*l).1.to_owned())).collect(),
                    get(|d| d.widget.default_locale.code().to_owned()),
                    set(|d, v| if let Some(l) = Locale::from_language_tag(&v) { d.widget.default_locale = l }))}
            </fieldset>
        }
    };
    let days = [
        (Weekday::Mon, "mon", ("Monday", "Понедельник")),
        (Weekday::Tue, "tue", ("Tuesday", "Вторник")),
        (Weekday::Wed, "wed", ("Wednesday", "Среда")),
        (Weekday::Thu, "thu", ("Thursday", "Четверг")),
        (Weekday::Fri, "fri", ("Friday", "Пятница")),
        (Weekday::Sat, "sat", ("Saturday", "Суббота")),
        (Weekday::Sun, "sun", ("Sunday", "Воскресенье")),
    ];
    let hours = days
        .into_iter()
        .map(|(day, key, name)| {
            let open_path = format!("widget.business_hours.{key}.open");
            let close_path = format!("widget.business_hours.{key}.close");
            // A memo: the times' inputs are drawn again only when the day opens or closes, not on
            // every keystroke (which would take the focus away from the field being typed in).
            let is_open = Memo::new(move |_| form.draft.with(|d| d.as_ref().is_some_and(|d| d.widget.business_hours.on(day).is_some())));
            view! {
                <div class="day" data-test=format!("hours-{key}")>
                    {checkbox(form, None, name,
                        Arc::new(move |d: &SiteConfig| d.widget.business_hours.on(day).is_some()),
                        Arc::new(move |d: &mut SiteConfig, on: bool| {
                            *day_mut(d, day) = on.then_some(OpeningHours { open: 9 * 60, close: 18 * 60 });
                        }))}
                    {move || is_open.get().then(|| view! {
                        {text_field(form, open_path.clone(), ("Opens", "Открытие"), Input::Time, None,
                            get(move |d| d.widget.business_hours.on(day).map(|h| hhmm::format(h.open)).unwrap_or_default()),
                            set(move |d, v| if let (Some(minutes), Some(hours)) = (hhmm::parse(&v), day_mut(d, day).as_mut()) { hours.open = minutes }))}
                        {text_field(form, close_path.clone(), ("Closes", "Закрытие"), Input::Time, None,
                            get(move |d| d.widget.business_hours.on(day).map(|h| hhmm::format(h.close)).unwrap_or_default()),
                            set(move |d, v| if let (Some(minutes), Some(hours)) = (hhmm::parse(&v), day_mut(d, day).as_mut()) { hours.close = minutes }))}
                    })}
                </div>
            }
        })
        .collect_view();
    view! {
        <form class="card" data-test="site-settings" on:submit=|ev| ev.prevent_default()>
            <h3>{move || lang.get().pick("Languages, hours and look", "Языки, часы работы и вид")}</h3>
            {locales_field}
            <fieldset data-test="business-hours">
                <legend>{move || lang.get().pick("Business hours", "Часы работы")}</legend>
                {text_field(form, "widget.timezone".into(), ("Time zone", "Часовой пояс"), Input::Line,
                    same("Europe/Moscow, Asia/Almaty, Europe/London…"),
                    get(|d| d.widget.timezone.clone()), set(|d, v| d.widget.timezone = v.trim().to_owned()))}
                <div class="days">{hours}</div>
                {text_field(form, "widget.callback_minutes".into(), ("Call back within (minutes)", "Перезвоним в течение (минут)"), Input::Number, None,
                    get(|d| d.widget.callback_minutes.to_string()),
                    set(|d, v| if let Some(n) = number(&v) { d.widget.callback_minutes = n }))}
            </fieldset>
            <fieldset>
                <legend>{move || lang.get().pick("Look", "Вид")}</legend>
                <div class="colour">
                    {text_field(form, "widget.theme.brand_color".into(), ("Brand colour", "Фирменный цвет"), Input::Line, same("#1f6feb"),
                        get(|d| d.widget.theme.brand_color.clone()), set(|d, v| d.widget.theme.brand_color = v.trim().to_owned()))}
                    <span class="swatch" aria-hidden="true"
                        style=move || form.draft.with(|d| d.as_ref().map(|d| d.widget.theme.brand_color.clone()))
                            .filter(|colour| is_hex_color(colour))
                            .map(|colour| format!("background:{colour}"))
                            .unwrap_or_default()></span>
                </div>
                {select(form, "widget.theme.position".into(), ("Position", "Расположение"), corner_options(None),
                    get(|d| d.widget.theme.position.key().to_owned()),
                    set(|d, v| d.widget.theme.position = Position::from_key(&v).unwrap_or_default()))}
            </fieldset>
            <fieldset>
                <legend>{move || lang.get().pick("How often", "Как часто")}</legend>
                {text_field(form, "widget.guardrails.min_dwell_seconds".into(), ("Seconds on the site before any prompt", "Секунд на сайте до первой подсказки"), Input::Number,
                    floor_hint(MIN_DWELL_FLOOR_SECONDS, "s"),
                    get(|d| d.widget.guardrails.min_dwell_seconds.to_string()),
                    set(|d, v| if let Some(n) = number(&v) { d.widget.guardrails.min_dwell_seconds = n }))}
                {text_field(form, "widget.guardrails.max_prompts_per_visit".into(), ("Prompts per visit, at most", "Подсказок за визит, не больше"), Input::Number,
                    same(&format!("0–{MAX_PROMPTS_PER_VISIT_CEILING}")),
                    get(|d| d.widget.guardrails.max_prompts_per_visit.to_string()),
                    set(|d, v| if let Some(n) = number(&v) { d.widget.guardrails.max_prompts_per_visit = n }))}
                {text_field(form, "widget.guardrails.default_cooldown_days".into(), ("Days before a dismissed prompt returns", "Дней до повтора отклонённой подсказки"), Input::Number,
                    same(&format!("{MIN_COOLDOWN_DAYS}–{MAX_COOLDOWN_DAYS}")),
                    get(|d| d.widget.guardrails.default_cooldown_days.to_string()),
                    set(|d, v| if let Some(n) = number(&v) { d.widget.guardrails.default_cooldown_days = n }))}
            </fieldset>
        </form>
    }
}

/// "The engine's floor: 30 s": the least the engine accepts, shown beside the field.
fn floor_hint(floor: u32, unit: &str) -> Hint {
    let (en, ru) = if unit == "s" { (" s", " с") } else { ("", "") };
    Some((format!("The engine's floor: {floor}{en}"), format!("Порог движка: {floor}{ru}")))
}

fn day_mut(draft: &mut SiteConfig, day: Weekday) -> &mut Option<OpeningHours> {
    let hours = &mut draft.widget.business_hours;
    match day {
        Weekday::Mon => &mut hours.mon,
        Weekday::Tue => &mut hours.tue,
        Weekday::Wed => &mut hours.wed,
        Weekday::Thu => &mut hours.thu,
        Weekday::Fri => &mut hours.fri,
        Weekday::Sat => &mut hours.sat,
        Weekday::Sun => &mut hours.sun,
    }
}

/// Picks or drops a language. A language picked gets (empty) words in every prompt that has none
/// in it, for the owner to write; one dropped keeps its words, stored but not shown.
fn set_locale(draft: &mut SiteConfig, locale: Locale, on: bool) {
    if on {
        if !draft.locales.contains(&locale) {
            draft.locales.push(locale);
            draft.locales.sort_by_key(|l| Locale::ALL.iter().position(|a| a == l));
        }
        for index in 0..draft.widget.prompts.len() {
            copy_mut(draft, index, locale);
            // A variant's words are required in every language the site speaks, as the prompt's.
            for variant in draft.widget.prompts[index].experiment.iter_mut().flat_map(|e| &mut e.variants) {
                if let Some(copy) = &mut variant.copy {
                    made_in(copy, locale);
                }
            }
            if let PromptKind::Question(question) = &mut draft.widget.prompts[index].kind {
                if question.question.in_locale(locale).is_none() {
                    question.question.set(locale, String::new());
                }
                for choice in &mut question.choices {
                    if choice.label.in_locale(locale).is_none() {
                        choice.label.set(locale, String::new());
                    }
                    if let Some(highlight) = &mut choice.highlight {
                        if highlight.note.in_locale(locale).is_none() {
                            highlight.note.set(locale, String::new());
                        }
                    }
                }
            }
        }
    } else if draft.locales.len() > 1 {
        draft.locales.retain(|l| *l != locale);
        if draft.widget.default_locale == locale {
            draft.widget.default_locale = locale.other();
        }
    }
}

#[component]
fn PromptForm(form: Form, index: usize) -> impl IntoView {
    let lang = form.lang;
    let base = format!("widget.prompts[{index}]");
    let (id, kind) = form
        .draft
        .with_untracked(|d| d.as_ref().map(|d| (d.widget.prompts[index].id.clone(), d.widget.prompts[index].kind.clone())))
        .unwrap_or_else(|| (String::new(), PromptKind::ChatInvitation));
    let name = kind_name(&kind);
    let heading_id = format!("prompt-{id}-heading");
    let labelled_by = heading_id.clone();
    let locales = Memo::new(move |_| form.draft.with(|d| d.as_ref().map(|d| d.locales.clone()).unwrap_or_default()));
    let words = {
        let (base, kind) = (base.clone(), kind.clone());
        move || {
            locales
                .get()
                .into_iter()
                .map(|locale| copy_fields(form, index, &base, &kind, locale, Words::Prompt))
                .collect_view()
        }
    };
    let question = matches!(kind, PromptKind::Question(_)).then(|| question_fields(form, index, &base, locales));
    let experiment = experiment_part(form, index, &base, &kind, &id, locales);
    view! {
        <form class="card prompt" data-test=format!("prompt-{id}") aria-labelledby=labelled_by on:submit=|ev| ev.prevent_default()>
            <h3 id=heading_id tabindex="-1">{move || lang.get().pick(name.0, name.1)}</h3>
            {checkbox(form, Some(format!("{base}.enabled")), ("On: the widget may show it", "Включена: виджет может её показать"),
                Arc::new(move |d: &SiteConfig| d.widget.prompts[index].enabled),
                Arc::new(move |d: &mut SiteConfig, on: bool| d.widget.prompts[index].enabled = on))}
            <div class="locales">{words}</div>
            <Preview draft=form.draft index=index lang=form.lang/>
            {on_your_site(form, index, id.clone())}
            {experiment}
            {question}
            {conditions(form, index, &base, &kind)}
            {text_field(form, format!("{base}.cooldown_days"), ("Days before it returns after a dismissal", "Дней до повтора после отказа"), Input::Number,
                same(&format!("{MIN_COOLDOWN_DAYS}–{MAX_COOLDOWN_DAYS}")),
                get(move |d| d.widget.prompts[index].cooldown_days.map(|n| n.to_string()).unwrap_or_default()),
                set(move |d, v| d.widget.prompts[index].cooldown_days = number(&v)))}
            {select(form, format!("{base}.position"), ("Where its card appears on a wide screen", "Где появляется карточка на широком экране"),
                corner_options(Some(("Beside the launcher", "Рядом с кнопкой виджета"))),
                get(move |d| d.widget.prompts[index].position.map(|p| p.key().to_owned()).unwrap_or_default()),
                set(move |d, v| d.widget.prompts[index].position = Position::from_key(&v)))}
        </form>
    }
}

/// Links that open the owner's own site with this card shown at once (core's `preview_link`), in
/// the words saved now: the owner sees it as visitors will without meeting its conditions.
fn on_your_site(form: Form, index: usize, id: String) -> impl IntoView {
    fn at(c: &Option<SiteConfig>, index: usize) -> Option<&PromptDefinition> {
        c.as_ref().and_then(|c| c.widget.prompts.get(index))
    }
    let lang = form.lang;
    let origins = move || form.loaded.with(|c| c.as_ref().map(|c| c.origins.clone()).unwrap_or_default());
    // Visitors' browsers are served only the prompts that are on, and so is the preview.
    let off = move || form.loaded.with(|c| at(c, index).is_some_and(|p| !p.enabled));
    // Compared in place: no copy of either prompt each time the draft changes.
    let unsaved = move || form.draft.with(|draft| form.loaded.with(|loaded| at(draft, index) != at(loaded, index)));
    // One link per origin and language the site writes: the page may not say its own language.
    let locales = move || form.loaded.with(|c| c.as_ref().map(|c| c.locales.clone()).unwrap_or_default());
    let links = move || {
        let locales = locales();
        origins()
            .into_iter()
            .map(|origin| {
                let per_locale = locales
                    .iter()
                    .map(|&locale| {
                        let href = preview_link(&origin, &id, locale);
                        // Each language by its own name, as language pickers do.
                        let name = match locale {
                            Locale::Ru => "Русский",
                            Locale::En => "English",
                        };
                        view! { <a href=href target="_blank" rel="noopener" data-test="on-site-link" hreflang=locale.code() aria-label=format!("{origin} · {name}")>{name}</a> }
                    })
                    .collect_view();
                view! { <li><span class="origin">{origin.clone()}</span>{per_locale}</li> }
            })
            .collect_view()
    };
    // One of the notes below, shown while its condition holds.
    let note = move |shown: bool, test: &'static str, words: (&'static str, &'static str)| {
        shown.then(|| view! { <p class="hint" data-test=test>{move || lang.get().pick(words.0, words.1)}</p> })
    };
    view! {
        <div class="on-site" data-test="on-site">
            <h4>{move || lang.get().pick("See it on your site", "Посмотреть на своём сайте")}</h4>
            <p class="hint">{move || lang.get().pick(
                "Opens your site with this card shown at once, marked as a preview: nothing there is sent or counted.",
                "Откроет ваш сайт сразу с этой карточкой, с пометкой «предпросмотр»: оттуда ничего не отправляется и не учитывается.")}</p>
            {move || note(unsaved(), "on-site-unsaved", (
                "Your site shows the saved words: save to see these changes there.",
                "На сайте видны сохранённые слова: сохраните, чтобы увидеть там эти изменения."))}
            {move || note(off(), "on-site-off", (
                "It is off, so your site does not have it: turn it on and save first (visitors will see it too).",
                "Она выключена, и сайту её не отдают: сначала включите и сохраните (её увидят и посетители)."))}
            {move || note(origins().is_empty(), "on-site-no-origin", (
                "Add your site's address on the Install screen first.",
                "Сначала добавьте адрес сайта на экране «Установка»."))}
            <ul class="links" hidden=off>{links}</ul>
        </div>
    }
}

/// The words of one prompt (or of one variant of its experiment: `which`) in one language.
fn copy_fields(form: Form, index: usize, base: &str, kind: &PromptKind, locale: Locale, which: Words) -> AnyView {
    let lang = form.lang;
    let code = locale.code();
    let at = format!("{}.{code}", which.path(base));
    let text = |name: &'static str, label: (&'static str, &'static str), input: Input, read: fn(&PromptCopy) -> String, write: fn(&mut PromptCopy, String)| {
        text_field(form, format!("{at}.{name}"), label, input, None,
            get(move |d| which.read(d, index, locale).map(read).unwrap_or_default()),
            set(move |d, v| if let Some(copy) = which.write(d, index, locale) { write(copy, v) }))
    };
    let collects_contact = matches!(kind, PromptKind::ComparisonEmail | PromptKind::Callback);
    let callback = matches!(kind, PromptKind::Callback);
    let name = language_name(locale);
    view! {
        <fieldset class="words" data-test=format!("words-{code}")>
            <legend>{move || lang.get().pick(name.0, name.1)}</legend>
            {text("title", ("Title", "Заголовок"), Input::Line, |c| c.title.clone(), |c, v| c.title = v)}
            {text("body", ("Text", "Текст"), Input::Text, |c| c.body.clone(), |c, v| c.body = v)}
            {text("accept", ("Accept button", "Кнопка согласия"), Input::Line, |c| c.accept.clone(), |c, v| c.accept = v)}
            {text("dismiss", ("Dismiss button", "Кнопка отказа"), Input::Line, |c| c.dismiss.clone(), |c, v| c.dismiss = v)}
            {collects_contact.then(|| text("consent.text", ("Consent text beside the field", "Текст согласия у поля"), Input::Text,
                |c| c.consent.as_ref().map(|c| c.text.clone()).unwrap_or_default(),
                |c, v| c.consent.get_or_insert_with(|| ConsentCopy { text: String::new(), consent_version: "v1".into() }).text = v))}
            {callback.then(|| view! {
                {text("after_hours.title", ("Title after hours", "Заголовок в нерабочее время"), Input::Line,
                    |c| c.after_hours.as_ref().map(|a| a.title.clone()).unwrap_or_default(),
                    |c, v| if let Some(a) = &mut c.after_hours { a.title = v })}
                {text("after_hours.body", ("Text after hours", "Текст в нерабочее время"), Input::Text,
                    |c| c.after_hours.as_ref().map(|a| a.body.clone()).unwrap_or_default(),
                    |c, v| if let Some(a) = &mut c.after_hours { a.body = v })}
                {text("after_hours.accept", ("Button after hours", "Кнопка в нерабочее время"), Input::Line,
                    |c| c.after_hours.as_ref().map(|a| a.accept.clone()).unwrap_or_default(),
                    |c, v| if let Some(a) = &mut c.after_hours { a.accept = v })}
            })}
        </fieldset>
    }
    .into_any()
}

/// Moves the focus to the first element `selector` finds once the page has drawn it: a button the
/// owner pressed may be gone after the change it made, and a keyboard user must not be left on
/// nothing.
fn focus_soon(selector: String) {
    net::later(0, move || {
        let element = web_sys::window().and_then(|w| w.document()).and_then(|d| d.query_selector(&selector).ok().flatten());
        if let Some(element) = element.and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok()) {
            let _ = element.focus();
        }
    });
}

/// The prompt's experiment: "Try other words" when none runs; else each variant's words (the
/// same fields as the prompt's), what to do with it (keep its words, remove it), another variant,
/// and stopping. The moves are core's; each that changes the list of variants gives the
/// experiment a new id, so visitors are shuffled afresh and earlier counts stay apart.
fn experiment_part(form: Form, index: usize, base: &str, kind: &PromptKind, id: &str, locales: Memo<Vec<Locale>>) -> AnyView {
    let lang = form.lang;
    let scope = format!("[data-test='experiment-{id}']");
    // Drawn again only when variants come or go, not on every keystroke in their fields.
    let variants = Memo::new(move |_| {
        form.draft.with(|d| {
            d.as_ref()
                .and_then(|d| d.widget.prompts.get(index)?.experiment.as_ref())
                .map(|e| e.variants.iter().map(|v| (v.id.clone(), v.when.is_some())).collect::<Vec<_>>())
        })
    });
    let start = {
        let scope = scope.clone();
        move |_| {
            let (at, nonce) = (net::now_ms(), net::random_id());
            form.edit(|d| {
                let locales = d.locales.clone();
                d.widget.prompts[index].start_experiment(&locales, at, &nonce);
            });
            focus_soon(format!("{scope} .variant input"));
        }
    };
    let add = {
        let scope = scope.clone();
        move |_| {
            let (at, nonce) = (net::now_ms(), net::random_id());
            form.edit(|d| {
                let locales = d.locales.clone();
                d.widget.prompts[index].add_variant(&locales, at, &nonce);
            });
            // The new variant is the last: the row of buttons follows it.
            focus_soon(format!("{scope} .variant:nth-last-child(2) input"));
        }
    };
    let stop = {
        let scope = scope.clone();
        move |_| {
            form.edit(|d| d.widget.prompts[index].experiment = None);
            focus_soon(format!("{scope} [data-test=experiment-start]"));
        }
    };
    let (base, kind) = (base.to_owned(), kind.clone());
    let body = move || match variants.get() {
        None => view! {
            <p class="hint">{move || lang.get().pick(
                "Not sure which words sell better? Show other words to half of the visitors; Results tells you which half accepts more.",
                "Не уверены, какие слова продают лучше? Покажите половине посетителей другие; раздел «Результаты» скажет, какая половина соглашается чаще.")}</p>
            <button type="button" data-test="experiment-start" on:click=start.clone()>{move || lang.get().pick("Try other words", "Попробовать другие слова")}</button>
        }
        .into_any(),
        Some(list) => {
            let count = list.len();
            let blocks = list
                .into_iter()
                .enumerate()
                .map(|(n, (variant, own_timing))| {
                    let corner_path = format!("{base}.experiment.variants[{n}].position");
                    let (base, kind, scope) = (base.clone(), kind.clone(), scope.clone());
                    let (name, keep_name, keep_id, remove_id) = (variant.clone(), variant.clone(), variant.clone(), variant.clone());
                    let words = move || locales.get().into_iter().map(|locale| copy_fields(form, index, &base, &kind, locale, Words::Variant(n))).collect_view();
                    let keep = {
                        let scope = scope.clone();
                        move |_| {
                            form.edit(|d| {
                                d.widget.prompts[index].keep_variant(&keep_id);
                            });
                            focus_soon(format!("{scope} [data-test=experiment-start]"));
                        }
                    };
                    let remove = move |_| {
                        let (at, nonce) = (net::now_ms(), net::random_id());
                        form.edit(|d| d.widget.prompts[index].remove_variant(&remove_id, at, &nonce));
                        focus_soon(format!("{scope} [data-test=experiment-add]"));
                    };
                    view! {
                        <div class="variant" data-test=format!("variant-{variant}")>
                            <h4>{move || arm_label(&name, lang.get())}</h4>
                            <div class="locales">{words}</div>
                            {select(form, corner_path, ("Where its card appears", "Где появляется его карточка"),
                                corner_options(Some(("As the prompt's", "Как у подсказки"))),
                                get(move |d| variant_at(d, index, n).and_then(|v| v.position).map(|p| p.key().to_owned()).unwrap_or_default()),
                                set(move |d, v| if let Some(variant) = d.widget.prompts[index].experiment.as_mut().and_then(|e| e.variants.get_mut(n)) {
                                    variant.position = Position::from_key(&v);
                                }))}
                            <p class="hint">{move || if own_timing {
                                lang.get().pick("Its own timing (set through the API).", "Своё время показа (задано через API).")
                            } else {
                                lang.get().pick("Shown at the same moments as the current words.", "Показывается в те же моменты, что и текущие слова.")
                            }}</p>
                            <div class="row">
                                <button type="button" data-test=format!("experiment-keep-{variant}") on:click=keep>
                                    {move || format!("{} {}", lang.get().pick("Make the prompt as", "Сделать подсказку как"), arm_label(&keep_name, lang.get()))}
                                </button>
                                {(count > 1).then(|| view! {
                                    <button type="button" data-test=format!("experiment-remove-{variant}") on:click=remove>
                                        {move || lang.get().pick("Remove this variant", "Убрать этот вариант")}
                                    </button>
                                })}
                            </div>
                        </div>
                    }
                })
                .collect_view();
            view! {
                <p class="hint">{move || lang.get().pick(
                    "Visitors are split evenly between the current words and each variant, and each always sees the same. Adding or removing a variant starts the count afresh.",
                    "Посетители поровну делятся между текущими словами и каждым вариантом, и каждый всегда видит одно и то же. Добавить или убрать вариант — начать подсчёт заново.")}</p>
                {blocks}
                <div class="row">
                    {(count < MAX_CHALLENGERS).then(|| view! {
                        <button type="button" data-test="experiment-add" on:click=add.clone()>{move || lang.get().pick("Add another variant", "Добавить ещё вариант")}</button>
                    })}
                    <button type="button" data-test="experiment-stop" on:click=stop.clone()>{move || lang.get().pick("Stop the experiment", "Остановить эксперимент")}</button>
                </div>
            }
            .into_any()
        }
    };
    view! {
        <fieldset class="experiment" data-test=format!("experiment-{id}")>
            <legend>{move || lang.get().pick("Experiment", "Эксперимент")}</legend>
            {body}
        </fieldset>
    }
    .into_any()
}

/// The corners a select offers (value, English, Russian), after `unset` (the empty value: no
/// corner of its own) when given.
fn corner_options(unset: Option<(&str, &str)>) -> Vec<(String, String, String)> {
    let unset = unset.map(|(en, ru)| (String::new(), en.to_owned(), ru.to_owned()));
    let corners = Position::ALL.into_iter().map(|corner| {
        let (en, ru) = match corner {
            Position::BottomRight => ("Bottom right", "Справа внизу"),
            Position::BottomLeft => ("Bottom left", "Слева внизу"),
        };
        (corner.key().to_owned(), en.to_owned(), ru.to_owned())
    });
    unset.into_iter().chain(corners).collect()
}

fn variant_at(draft: &SiteConfig, index: usize, n: usize) -> Option<&floorwalker_core::prompts::config::experiment::Variant> {
    draft.widget.prompts.get(index)?.experiment.as_ref()?.variants.get(n)
}

fn question_of(draft: &SiteConfig, index: usize) -> Option<&Question> {
    match &draft.widget.prompts.get(index)?.kind {
        PromptKind::Question(question) => Some(question),
        _ => None,
    }
}

fn question_in(draft: &mut SiteConfig, index: usize) -> Option<&mut Question> {
    match &mut draft.widget.prompts.get_mut(index)?.kind {
        PromptKind::Question(question) => Some(question),
        _ => None,
    }
}

/// A question's wording and its choices, in each of the site's languages.
fn question_fields(form: Form, index: usize, base: &str, locales: Memo<Vec<Locale>>) -> AnyView {
    let lang = form.lang;
    let at = format!("{base}.kind.question");
    let count = Memo::new(move |_| {
        form.draft.with(|d| match d.as_ref().map(|d| &d.widget.prompts[index].kind) {
            Some(PromptKind::Question(q)) => q.choices.len(),
            _ => 0,
        })
    });
    let wording = {
        let at = at.clone();
        move || {
            locales.get().into_iter().map(|locale| {
                let name = language_name(locale);
                text_field(form, format!("{at}.question.{}", locale.code()), ("Question", "Вопрос"), Input::Line, Some((name.0.to_owned(), name.1.to_owned())),
                    get(move |d| question_of(d, index).map(|q| localized_text(&q.question, locale)).unwrap_or_default()),
                    set(move |d, v| if let Some(q) = question_in(d, index) { q.question.set(locale, v) }))
            }).collect_view()
        }
    };
    let choices = move || {
        let at = at.clone();
        (0..count.get()).map(|n| {
            let choice_at = format!("{at}.choices[{n}]");
            let labels = {
                let choice_at = choice_at.clone();
                move || locales.get().into_iter().map(|locale| {
                    let name = language_name(locale);
                    text_field(form, format!("{choice_at}.label.{}", locale.code()), (name.0, name.1), Input::Line, None,
                        get(move |d| question_of(d, index).and_then(|q| q.choices.get(n).map(|c| localized_text(&c.label, locale))).unwrap_or_default()),
                        set(move |d, v| if let Some(choice) = question_in(d, index).and_then(|q| q.choices.get_mut(n)) { choice.label.set(locale, v) }))
                }).collect_view()
            };
            view! {
                <li class="choice" data-test=format!("choice-{n}")>
                    {text_field(form, format!("{choice_at}.value"), ("Stored value", "Значение в данных"), Input::Line, None,
                        get(move |d| question_of(d, index).and_then(|q| q.choices.get(n).map(|c| c.value.clone())).unwrap_or_default()),
                        set(move |d, v| if let Some(choice) = question_in(d, index).and_then(|q| q.choices.get_mut(n)) { choice.value = v.trim().to_owned() }))}
                    {labels}
                    <button type="button" on:click=move |_| form.edit(|d| if let Some(q) = question_in(d, index) { if n < q.choices.len() { q.choices.remove(n); } })>
                        {move || lang.get().pick("Remove this choice", "Убрать вариант")}
                    </button>
                </li>
            }
        }).collect_view()
    };
    let add = move |_| {
        form.edit(|d| {
            let locales = d.locales.clone();
            if let (Some(q), Some((first, rest))) = (question_in(d, index), locales.split_first()) {
                let mut label = Localized::Only(*first, String::new());
                for locale in rest {
                    label.set(*locale, String::new());
                }
                q.choices.push(Choice { value: format!("choice-{}", q.choices.len() + 1), label, highlight: None });
            }
        })
    };
    view! {
        <fieldset data-test="question">
            <legend>{move || lang.get().pick("The question and its choices", "Вопрос и варианты ответа")}</legend>
            {wording}
            <ol class="choices">{choices}</ol>
            <button type="button" data-test="add-choice" on:click=add>{move || lang.get().pick("Add a choice", "Добавить вариант")}</button>
        </fieldset>
    }
    .into_any()
}

/// The conditions as fields: all of them must hold for the prompt to show.
fn conditions(form: Form, index: usize, base: &str, kind: &PromptKind) -> AnyView {
    let lang = form.lang;
    let when = move |d: &SiteConfig| d.widget.prompts[index].when.clone();
    let path = |field: Field| format!("{base}.when.{}", field.key());
    let number_field = |field: Field, label: (&'static str, &'static str), floor: Option<(u32, &'static str)>| {
        text_field(form, path(field), label, Input::Number, floor.and_then(|(floor, unit)| floor_hint(floor, unit)),
            get(move |d| form::number(&when(d), field).map(|n| n.to_string()).unwrap_or_default()),
            set(move |d, v| d.widget.prompts[index].when = form::with_number(&when(d), field, number(&v))))
    };
    let flag = |field: Field, label: (&'static str, &'static str)| {
        checkbox(form, Some(path(field)), label,
            Arc::new(move |d: &SiteConfig| form::has(&when(d), field)),
            Arc::new(move |d: &mut SiteConfig, on: bool| d.widget.prompts[index].when = form::with_flag(&when(d), field, on)))
    };
    let products_floor = distinct_products_floor(kind);
    let answers: Vec<(String, String, String)> = form.draft.with_untracked(|d| {
        let mut options = vec![(String::new(), "Any answer or none".to_owned(), "Любой ответ или без ответа".to_owned())];
        for prompt in d.as_ref().map(|d| d.widget.prompts.as_slice()).unwrap_or_default() {
            if let PromptKind::Question(question) = &prompt.kind {
                for choice in &question.choices {
                    options.push((
                        format!("{}={}", prompt.id, choice.value),
                        format!("{} — {}", question.question.get(Locale::En), choice.label.get(Locale::En)),
                        format!("{} — {}", question.question.get(Locale::Ru), choice.label.get(Locale::Ru)),
                    ));
                }
            }
        }
        options
    });
    let asks_itself = matches!(kind, PromptKind::Question(_));
    view! {
        <fieldset class="conditions" data-test="conditions">
            <legend>{move || lang.get().pick("When it shows (all of these)", "Когда показывать (всё сразу)")}</legend>
            {number_field(Field::DistinctProducts, ("Different products viewed, at least", "Разных товаров просмотрено, не меньше"),
                (products_floor > 0).then_some((products_floor, "")))}
            {number_field(Field::ProductsViewed, ("Product views, at least", "Просмотров товаров, не меньше"), None)}
            {number_field(Field::ActiveSeconds, ("Active seconds on the site, at least", "Активных секунд на сайте, не меньше"),
                Some((active_seconds_floor(kind), "s")))}
            {number_field(Field::Pages, ("Pages this visit, at least", "Страниц за визит, не меньше"), None)}
            {flag(Field::ExitIntent, ("Only when the visitor is about to leave", "Только когда посетитель уходит"))}
            {flag(Field::OperatorOnline, ("Only while an operator is online", "Только когда оператор на связи"))}
            {text_field(form, path(Field::Url), ("Only on pages matching", "Только на страницах"), Input::Line, same("/product/**"),
                get(move |d| form::url(&when(d)).unwrap_or_default()),
                set(move |d, v| {
                    let part = (!v.trim().is_empty()).then(|| Condition::UrlMatches(v.trim().to_owned()));
                    d.widget.prompts[index].when = form::with(&when(d), Field::Url, part);
                }))}
            {select(form, path(Field::Hours), ("Hours", "Время"),
                vec![("".into(), "Any time".into(), "В любое время".into()),
                     ("within".into(), "Within business hours".into(), "В рабочие часы".into()),
                     ("outside".into(), "Outside business hours".into(), "В нерабочее время".into())],
                get(move |d| match form::hours(&when(d)) { Some(true) => "within".into(), Some(false) => "outside".into(), None => String::new() }),
                set(move |d, v| d.widget.prompts[index].when = form::with_hours(&when(d), match v.as_str() { "within" => Some(true), "outside" => Some(false), _ => None })))}
            {(!asks_itself).then(|| select(form, path(Field::Answer), ("Only after the answer", "Только после ответа"), answers,
                get(move |d| form::answer(&when(d)).map(|a| format!("{}={}", a.prompt, a.is)).unwrap_or_default()),
                set(move |d, v| {
                    let part = v.split_once('=').map(|(prompt, is)| Condition::Answer(AnswerIs { prompt: prompt.into(), is: is.into() }));
                    d.widget.prompts[index].when = form::with(&when(d), Field::Answer, part);
                })))}
        </fieldset>
    }
    .into_any()
}
