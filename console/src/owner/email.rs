//! The owner's "Email" screen («Письма»): who the shop's mail comes from, where replies go, its
//! logo and colour; a live preview of each kind of email (rendered by the worker with the same
//! core renderer as the real ones, shown in a sandboxed frame); and "send me a test" per kind,
//! which goes to the owner's own address only.
//!
//! Field problems are core's (`MailSettings::problems`), worded in the owner's language under
//! the field, before anything is sent; the server checks again.

use floorwalker_core::base::locale::Locale;
use floorwalker_core::outbound::email::branding::{
    MailField, MailPreview, MailPreviewRequest, MailProblem, MailSettingsView, MailTestRequest, MailTestSent,
};
use floorwalker_core::outbound::email::{MailKind, MailSettings};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::{use_lang, Pick};
use crate::notice::Notice;
use crate::net;

/// The form's text, one signal per field (a blank field is the default).
#[derive(Clone, Copy)]
struct Form {
    sender_name: RwSignal<String>,
    reply_to: RwSignal<String>,
    logo_url: RwSignal<String>,
    brand_color: RwSignal<String>,
    alert_to: RwSignal<String>,
}

impl Form {
    fn new() -> Form {
        Form {
            sender_name: RwSignal::new(String::new()),
            reply_to: RwSignal::new(String::new()),
            logo_url: RwSignal::new(String::new()),
            brand_color: RwSignal::new(String::new()),
            alert_to: RwSignal::new(String::new()),
        }
    }

    fn fill(self, settings: &MailSettings) {
        self.sender_name.set(settings.sender_name.clone().unwrap_or_default());
        self.reply_to.set(settings.reply_to.clone().unwrap_or_default());
        self.logo_url.set(settings.logo_url.clone().unwrap_or_default());
        self.brand_color.set(settings.brand_color.clone().unwrap_or_default());
        self.alert_to.set(settings.alert_to.clone().unwrap_or_default());
    }

    /// The settings as typed (tracked: a preview follows every keystroke).
    fn settings(self) -> MailSettings {
        self.read(|s| s.get())
    }

    fn settings_untracked(self) -> MailSettings {
        self.read(|s| s.get_untracked())
    }

    fn read(self, get: impl Fn(RwSignal<String>) -> String) -> MailSettings {
        let field = |s: RwSignal<String>| Some(get(s)).filter(|v| !v.trim().is_empty());
        MailSettings {
            sender_name: field(self.sender_name),
            reply_to: field(self.reply_to),
            logo_url: field(self.logo_url),
            brand_color: field(self.brand_color),
            alert_to: field(self.alert_to),
            alert_confirmed: None,
        }
        .normalized()
    }
}

/// The problem with `field` among `problems`, in `lang`.
fn problem_text(problems: &[MailProblem], field: MailField, lang: Locale) -> Option<String> {
    problems.iter().find(|p| p.field == field).map(|p| p.text(lang))
}

/// A server refusal names its field first (`logo_url: …`): shown under that field, in the
/// owner's language.
fn field_of(message: &str) -> Option<MailField> {
    let name = message.split(':').next()?;
    [MailField::SenderName, MailField::ReplyTo, MailField::LogoUrl, MailField::BrandColor, MailField::AlertTo].into_iter().find(|f| f.as_str() == name)
}

#[component]
pub fn EmailScreen(site: String) -> impl IntoView {
    let lang = use_lang();
    let form = Form::new();
    let view_state = RwSignal::new(None::<MailSettingsView>);
    let load_error = RwSignal::new(None::<Notice>);
    let server_problem = RwSignal::new(None::<MailField>);
    let saved = RwSignal::new(None::<Notice>);
    let saving = RwSignal::new(false);
    let show_problems = RwSignal::new(false);

    let path = net::site_path(&site, "email");
    {
        let path = path.clone();
        spawn_local(async move {
            match net::get::<MailSettingsView>(&path).await {
                Ok(view) => {
                    form.fill(&view.settings);
                    view_state.set(Some(view));
                }
                Err(e) => load_error.set(Some(Notice::failed("Could not load the email settings", "Не удалось загрузить настройки почты", e))),
            }
        });
    }

    let problems = Memo::new(move |_| form.settings().problems());
    let error_for = move |field: MailField| {
        let lang = lang.get();
        let local = problem_text(&problems.get(), field, lang).filter(|_| show_problems.get());
        local.or_else(|| (server_problem.get() == Some(field)).then(|| MailProblem { field }.text(lang)))
    };

    let save = {
        let path = path.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            show_problems.set(true);
            saved.set(None);
            server_problem.set(None);
            if !problems.get_untracked().is_empty() {
                return;
            }
            let settings = form.settings_untracked();
            let path = path.clone();
            saving.set(true);
            spawn_local(async move {
                match net::put::<MailSettingsView>(&path, &settings).await {
                    Ok(view) => {
                        form.fill(&view.settings);
                        view_state.set(Some(view));
                        saved.set(Some(Notice::Said("Saved.", "Сохранено.")));
                    }
                    Err(e) => match field_of(&e.message) {
                        Some(field) => server_problem.set(Some(field)),
                        None => saved.set(Some(Notice::failed("Not saved", "Не сохранено", e))),
                    },
                }
                saving.set(false);
            });
        }
    };

    let field = move |id: &'static str, field: MailField, label: (&'static str, &'static str), hint: (&'static str, &'static str), kind: &'static str, value: RwSignal<String>, placeholder: Signal<String>| {
        let error_id = format!("{id}-error");
        let hint_id = format!("{id}-hint");
        let described = format!("{hint_id} {error_id}");
        view! {
            <div class="field" data-test=format!("field-{}", field.as_str())>
                <label for=id>{move || lang.get().pick(label.0, label.1)}</label>
                <input id=id type=kind prop:value=move || value.get() placeholder=move || placeholder.get()
                    aria-describedby=described
                    aria-invalid=move || if error_for(field).is_some() { "true" } else { "false" }
                    on:input=move |ev| { value.set(event_target_value(&ev)); saved.set(None); server_problem.set(None); }/>
                <p class="hint" id=hint_id>{move || lang.get().pick(hint.0, hint.1)}</p>
                <p class="error" id=error_id role="alert" data-test=format!("error-{}", field.as_str())>{move || error_for(field)}</p>
            </div>
        }
    };
    let default_name = Signal::derive(move || view_state.get().map(|v| v.default_sender_name).unwrap_or_default());
    let default_color = Signal::derive(move || view_state.get().map(|v| v.default_brand_color).unwrap_or_default());
    let no_placeholder = Signal::derive(String::new);
    let logo_placeholder = Signal::derive(|| "https://".to_owned());
    let swatch = move || {
        let typed = form.brand_color.get();
        if floorwalker_core::prompts::contrast::is_hex_color(typed.trim()) { typed.trim().to_ascii_lowercase() } else { default_color.get() }
    };

    view! {
        <section class="owner-screen email-screen" data-test="email">
            <h2>{move || lang.get().pick("Email", "Письма")}</h2>
            <p class="lede">{move || lang.get().pick(
                "The emails your visitors ask for — a comparison of the products they looked at, a chat transcript — come from your shop, in your colours.",
                "Письма, которые просят ваши посетители, — сравнение товаров, переписка из чата — приходят от вашего магазина, в ваших цветах.")}</p>
            <p class="error" role="alert">{move || load_error.get().map(|n| n.text(lang.get()))}</p>
            <form class="email-form" data-test="email-form" on:submit=save novalidate=true>
                {field("sender-name", MailField::SenderName, ("Sender's name", "Имя отправителя"),
                    ("Empty: your shop's name.", "Если пусто — название магазина."), "text", form.sender_name, default_name)}
                {field("reply-to", MailField::ReplyTo, ("Reply-to address", "Адрес для ответов"),
                    ("Where your visitors' replies go. Empty: the emails do not invite a reply.", "Сюда придут ответы посетителей. Если пусто — письма не предлагают ответить."),
                    "email", form.reply_to, no_placeholder)}
                {field("logo-url", MailField::LogoUrl, ("Logo (image address)", "Логотип (адрес картинки)"),
                    ("An https:// address; shown 40 px high at the top of each email.", "Адрес https://; логотип высотой 40 px в начале каждого письма."),
                    "url", form.logo_url, logo_placeholder)}
                <div class="color-row">
                    {field("brand-color", MailField::BrandColor, ("Brand colour", "Фирменный цвет"),
                        ("Like #e4572e. Empty: the widget's colour. Text on it is chosen to stay readable.", "Например, #e4572e. Если пусто — цвет виджета. Текст на нём подбирается так, чтобы читался."),
                        "text", form.brand_color, default_color)}
                    <span class="swatch" aria-hidden="true" style=move || format!("background:{}", swatch())></span>
                </div>
                {field("alert-to", MailField::AlertTo, ("Alerts for the team", "Оповещения для команды"),
                    ("When a visitor in the chat has waited for an answer (90 s by default, or at once with nobody online), this address hears of it: up to 30 emails an hour. Empty: no alert emails.",
                     "Когда посетитель в чате ждёт ответа (по умолчанию 90 с, или сразу, если никого нет в сети), на этот адрес придёт письмо: не больше 30 в час. Если пусто — без писем."),
                    "email", form.alert_to, no_placeholder)}
                <AlertStatus site=site.clone() view_state=view_state/>
                <p class="from" data-test="email-from">
                    {move || lang.get().pick("Emails come from: ", "Отправитель писем: ")}
                    <strong>{move || view_state.get().map(|v| v.from).unwrap_or_default()}</strong>
                </p>
                <div class="actions">
                    <button class="primary" type="submit" data-test="email-save" disabled=move || saving.get()>
                        {move || lang.get().pick("Save", "Сохранить")}
                    </button>
                    <span role="status" data-test="email-saved">{move || saved.get().map(|n| n.text(lang.get()))}</span>
                </div>
            </form>
            <Preview site=site.clone() form=form problems=problems/>
            <Tests site=site view_state=view_state/>
        </section>
    }
}

/// Whether the saved alert address is confirmed; if not, that a link went to it (or can go again).
/// Alerts quote visitors, so they go nowhere until the address's owner follows the link.
#[component]
fn AlertStatus(site: String, view_state: RwSignal<Option<MailSettingsView>>) -> impl IntoView {
    let lang = use_lang();
    let sending = RwSignal::new(false);
    let failed = RwSignal::new(None::<Notice>);
    let path = net::site_path(&site, "email/alert-link");
    let again = move |_| {
        let path = path.clone();
        sending.set(true);
        failed.set(None);
        spawn_local(async move {
            match net::post::<MailSettingsView>(&path, &serde_json::json!({})).await {
                Ok(view) => view_state.set(Some(view)),
                Err(e) => failed.set(Some(Notice::failed("The link was not sent", "Ссылка не отправлена", e))),
            }
            sending.set(false);
        });
    };
    view! {
        <div class="alert-status" data-test="alert-status" role="status">
            {move || {
                let view = view_state.get()?;
                let l = lang.get();
                if let Some(to) = view.settings.alert_address() {
                    return Some(view! { <p class="ok">{format!("{} {to}", l.pick("Confirmed: alerts go to", "Подтверждено: оповещения приходят на"))}</p> }.into_any());
                }
                let to = view.settings.alert_unconfirmed()?.to_owned();
                let said = match (view.alert_link_sent, l) {
                    (true, Locale::En) => format!("Not confirmed yet: we have just emailed a link to {to}. Alerts start once it is followed."),
                    (true, Locale::Ru) => format!("Ещё не подтверждено: мы отправили ссылку на {to}. Оповещения начнутся, когда её откроют."),
                    (false, Locale::En) => format!("Not confirmed yet: alerts to {to} start once the link we emailed there is followed."),
                    (false, Locale::Ru) => format!("Ещё не подтверждено: оповещения на {to} начнутся, когда откроют ссылку из нашего письма."),
                };
                Some(view! {
                    <p class="pending">{said}</p>
                    <button type="button" data-test="alert-link-again" on:click=again.clone() disabled=move || sending.get()>
                        {move || lang.get().pick("Send the link again", "Отправить ссылку ещё раз")}
                    </button>
                }.into_any())
            }}
            <p class="error" role="alert">{move || failed.get().map(|n| n.text(lang.get()))}</p>
        </div>
    }
}

/// The preview: a kind and a language, the email rendered with the form's current values.
#[component]
fn Preview(site: String, form: Form, problems: Memo<Vec<MailProblem>>) -> impl IntoView {
    let lang = use_lang();
    let kind = RwSignal::new(MailKind::Comparison);
    let mail_lang = RwSignal::new(lang.get_untracked());
    let preview = RwSignal::new(None::<MailPreview>);
    let failed = RwSignal::new(None::<Notice>);
    // Every change asks again after a short pause; only the newest answer is shown.
    let generation = StoredValue::new(0u32);
    let path = net::site_path(&site, "email/preview");
    Effect::new(move |_| {
        let settings = form.settings();
        let (kind, locale) = (kind.get(), mail_lang.get());
        if !problems.get().is_empty() {
            return;
        }
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        let path = path.clone();
        net::later(300, move || {
            if generation.get_value() != mine {
                return;
            }
            spawn_local(async move {
                let body = MailPreviewRequest { kind, locale, settings };
                match net::post::<MailPreview>(&path, &body).await {
                    Ok(answer) if generation.get_value() == mine => {
                        failed.set(None);
                        preview.set(Some(answer));
                    }
                    Ok(_) => {}
                    Err(e) => failed.set(Some(Notice::failed("No preview", "Предпросмотра нет", e))),
                }
            });
        });
    });
    let kind_button = move |k: MailKind| {
        view! {
            <button type="button" data-test=format!("preview-kind-{}", k.as_str()) aria-pressed=move || if kind.get() == k { "true" } else { "false" }
                on:click=move |_| kind.set(k)>{move || k.label(lang.get())}</button>
        }
    };
    let lang_button = move |l: Locale, name: &'static str| {
        view! {
            <button type="button" data-test=format!("preview-lang-{name}") aria-pressed=move || if mail_lang.get() == l { "true" } else { "false" }
                on:click=move |_| mail_lang.set(l)>{name.to_uppercase()}</button>
        }
    };
    view! {
        <section class="preview" aria-labelledby="preview-title" data-test="email-preview">
            <h3 id="preview-title">{move || lang.get().pick("Preview", "Как выглядит письмо")}</h3>
            <div class="toggles">
                <div role="group" aria-label=move || lang.get().pick("Kind of email", "Вид письма")>
                    {MailKind::ALL.into_iter().map(kind_button).collect_view()}
                </div>
                <div role="group" aria-label=move || lang.get().pick("Language of the email", "Язык письма")>
                    {lang_button(Locale::Ru, "ru")}{lang_button(Locale::En, "en")}
                </div>
            </div>
            <p class="error" role="alert">{move || failed.get().map(|n| n.text(lang.get()))}</p>
            {move || preview.get().map(|p| view! {
                <dl class="envelope">
                    <dt>{move || lang.get().pick("From", "От")}</dt><dd data-test="preview-from">{p.from.clone()}</dd>
                    <dt>{move || lang.get().pick("Subject", "Тема")}</dt><dd data-test="preview-subject">{p.subject.clone()}</dd>
                </dl>
                // Every sandbox restriction: the email's HTML runs no script and reaches nothing.
                <iframe class="mail-frame" sandbox="" data-test="preview-frame"
                    title=move || lang.get().pick("The email as a visitor sees it", "Письмо так, как его увидит посетитель")
                    srcdoc=p.html.clone()></iframe>
            })}
        </section>
    }
}

/// "Send me a test" per kind: to the owner's own address, with the saved settings.
#[component]
fn Tests(site: String, view_state: RwSignal<Option<MailSettingsView>>) -> impl IntoView {
    let lang = use_lang();
    let result = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    let path = net::site_path(&site, "email/test");
    let send = move |kind: MailKind| {
        let path = path.clone();
        busy.set(true);
        result.set(None);
        spawn_local(async move {
            let l = lang.get_untracked();
            let body = MailTestRequest { kind, locale: Some(l) };
            match net::post::<MailTestSent>(&path, &body).await {
                Ok(sent) => result.set(Some((true, format!("{} {}", l.pick("Sent to", "Отправлено на"), sent.to)))),
                Err(e) if e.status == 429 => result.set(Some((
                    false,
                    l.pick("That is ten tests this hour; try again later.", "Это уже десять тестов за час; попробуйте позже.").to_owned(),
                ))),
                Err(e) => result.set(Some((false, format!("{}: {}.", l.pick("Not sent", "Не отправлено"), e.said(l))))),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="tests" aria-labelledby="tests-title" data-test="email-tests">
            <h3 id="tests-title">{move || lang.get().pick("Send me a test", "Прислать мне тестовое письмо")}</h3>
            <p>{move || match view_state.get().and_then(|v| v.test_to) {
                Some(to) => format!("{} {to}{}", lang.get().pick("A test goes to your own address,", "Тест придёт на ваш адрес,"), lang.get().pick(", with the saved settings.", ", с сохранёнными настройками.")),
                None => lang.get().pick("A test goes to your own address, with the saved settings.", "Тест придёт на ваш адрес, с сохранёнными настройками.").to_owned(),
            }}</p>
            <div class="actions">
                {MailKind::ALL.into_iter().map(|kind| {
                    let send = send.clone();
                    view! {
                        <button type="button" data-test=format!("email-test-{}", kind.as_str()) disabled=move || busy.get()
                            on:click=move |_| send(kind)>{move || kind.label(lang.get())}</button>
                    }
                }).collect_view()}
            </div>
            <p role="status" data-test="email-test-result" class=move || match result.get() { Some((false, _)) => "error", _ => "ok" }>
                {move || result.get().map(|(_, text)| text)}
            </p>
        </section>
    }
}
