//! The receiver's page (`GET /`): what arrived, newest first, in English or Russian (`?lang=ru`),
//! and a form for an endpoint's signing secret, so that a person trying `make demo` sees each
//! request's event, its `webhook-id`, the answer, whether its signature verifies, and its body.
//!
//! Every value shown comes from a request anyone on this machine could have sent (a visitor's
//! message is in the bodies), so every one is HTML-escaped, and the page runs no script at all
//! (its Content-Security-Policy allows none).

use base64::Engine as _;
use floorwalker_core::base::locale::Locale;
use floorwalker_core::base::url::{path_of, query_pairs, query_param};
use floorwalker_core::outbound::crm::html_escape;

use super::{Received, Signature};

/// Where the page's form sends the secret. Not a path anyone is told to send webhooks to.
const SECRET_PATH: &str = "/_receiver/secrets";
/// A body is shown up to this many characters.
const MAX_SHOWN_CHARS: usize = 64 * 1024;

/// The requests that are the page's own, never recorded as deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Page,
    AddSecret,
    /// What a browser asks for by itself (`/favicon.ico`): answered 404, not recorded.
    Missing,
}

impl Route {
    pub fn of(method: &tiny_http::Method, url: &str) -> Option<Route> {
        let path = path_of(url);
        match (method, path) {
            (tiny_http::Method::Get, "/") => Some(Route::Page),
            (tiny_http::Method::Get, "/favicon.ico") => Some(Route::Missing),
            (tiny_http::Method::Post, SECRET_PATH) => Some(Route::AddSecret),
            _ => None,
        }
    }
}

/// What the page says about the last secret pasted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    SecretAdded,
    SecretRefused,
}

impl Notice {
    fn code(self) -> &'static str {
        match self {
            Notice::SecretAdded => "added",
            Notice::SecretRefused => "refused",
        }
    }
}

/// The page's query: `?lang=ru` and, after the form, `&secret=added|refused`.
pub struct Query {
    pub locale: Locale,
    pub notice: Option<Notice>,
}

impl Query {
    pub fn of(url: &str) -> Query {
        let notice = match query_param(url, "secret").as_deref() {
            Some("added") => Some(Notice::SecretAdded),
            Some("refused") => Some(Notice::SecretRefused),
            _ => None,
        };
        Query { locale: locale_of(query_param(url, "lang")), notice }
    }
}

fn locale_of(tag: Option<String>) -> Locale {
    tag.and_then(|tag| Locale::from_language_tag(&tag)).unwrap_or(Locale::En)
}

/// The form's fields (`application/x-www-form-urlencoded`).
pub struct SecretForm {
    pub secret: Option<String>,
    pub locale: Locale,
}

impl SecretForm {
    pub fn of(body: &[u8]) -> SecretForm {
        let pairs = query_pairs(&format!("?{}", String::from_utf8_lossy(body)));
        let field = |name: &str| pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.trim().to_owned());
        SecretForm { secret: field("secret").filter(|s| !s.is_empty()), locale: locale_of(field("lang")) }
    }
}

/// A Standard Webhooks secret as the console shows it: `whsec_` and base64.
pub fn is_secret(secret: &str) -> bool {
    secret
        .strip_prefix("whsec_")
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .is_some_and(|key| !key.is_empty())
}

/// What the page shows.
pub struct View<'a> {
    /// Oldest first, as recorded.
    pub requests: &'a [Received],
    pub secrets: &'a [String],
    /// How many requests are kept, when that is bounded.
    pub kept: Option<usize>,
    pub webhook_url: &'a str,
    pub locale: Locale,
    pub notice: Option<Notice>,
}

pub fn render(view: &View<'_>) -> String {
    let locale = view.locale;
    let t = |en: &'static str, ru: &'static str| if locale == Locale::Ru { ru } else { en };
    let lang = locale.code();
    let other = locale.other();
    let mut html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body>\
         <header><h1>{h1}</h1><nav aria-label=\"{languages}\">\
         <a href=\"/?lang={other_code}\" hreflang=\"{other_code}\" lang=\"{other_code}\" data-test=\"other-lang\">{other_name}</a></nav></header><main>\
         <p>{send_to} <code class=\"url\" data-test=\"webhook-url\">{url}</code> {answered}</p>",
        title = t("Floorwalker demo: CRM receiver", "Демо Floorwalker: приёмник CRM"),
        h1 = t("CRM receiver", "Приёмник CRM"),
        languages = t("Language", "Язык"),
        other_code = other.code(),
        other_name = if other == Locale::Ru { "Русский" } else { "English" },
        send_to = t("Requests sent to", "Запросы на адрес"),
        url = html_escape(view.webhook_url),
        answered = t(
            "(or any other path here) are answered 200 and listed below, newest first.",
            "(или любой другой путь здесь) получают ответ 200 и показаны ниже, новые сверху."
        ),
    );
    if let Some(kept) = view.kept {
        html.push_str(&format!(
            "<p>{} {kept} {}</p>",
            t("Only the last", "Хранятся только последние"),
            t("are kept, in memory: nothing is written to disk.", "— в памяти: на диск ничего не пишется.")
        ));
    }
    html.push_str(&format!(
        "<section aria-labelledby=\"secret-title\"><h2 id=\"secret-title\">{h2}</h2>\
         <form method=\"post\" action=\"{SECRET_PATH}\"><input type=\"hidden\" name=\"lang\" value=\"{lang}\">\
         <label for=\"secret\">{label}</label>\
         <input id=\"secret\" name=\"secret\" autocomplete=\"off\" spellcheck=\"false\" required data-test=\"secret\">\
         <button type=\"submit\" data-test=\"check\">{button}</button></form>\
         <p role=\"status\" data-test=\"notice\">{notice}</p><p data-test=\"secrets\">{secrets}</p></section>",
        h2 = t("Signature check", "Проверка подписи"),
        label = t(
            "The endpoint's signing secret (whsec_…), shown once by the console",
            "Ключ подписи адреса (whsec_…), который консоль показала один раз"
        ),
        button = t("Check signatures", "Проверять подписи"),
        notice = match view.notice {
            Some(Notice::SecretAdded) => t("The secret is taken: every signature below is checked with it.", "Ключ принят: им проверяются все подписи ниже."),
            Some(Notice::SecretRefused) => t(
                "That is not a signing secret: one starts with whsec_ (copy it from the console).",
                "Это не ключ подписи: он начинается с whsec_ (скопируйте его из консоли)."
            ),
            None => "",
        },
        secrets = if view.secrets.is_empty() {
            t("No secret yet: signatures are not checked.", "Ключа пока нет: подписи не проверяются.").to_owned()
        } else {
            format!(
                "{} {} {}",
                t("Secrets in memory:", "Ключей в памяти:"),
                view.secrets.len(),
                t("(forgotten when the demo stops).", "(забываются, когда демо останавливается).")
            )
        },
    ));
    html.push_str(&format!(
        "<section aria-labelledby=\"received-title\"><h2 id=\"received-title\">{} ({})</h2>\
         <p><a href=\"/?lang={lang}\" data-test=\"refresh\">{}</a></p>",
        t("Received", "Получено"),
        view.requests.len(),
        t("Refresh", "Обновить"),
    ));
    if view.requests.is_empty() {
        html.push_str(&format!(
            "<p data-test=\"empty\">{}</p>",
            t(
                "Nothing has arrived yet. In the console's CRM screen, add an endpoint with the address above and send a test event.",
                "Пока ничего не пришло. На экране CRM в консоли добавьте адрес выше и отправьте проверку."
            )
        ));
    } else {
        html.push_str("<ol class=\"requests\">");
        for request in view.requests.iter().rev() {
            html.push_str(&render_request(request, view.secrets, locale));
        }
        html.push_str("</ol>");
    }
    html.push_str("</section></main></body></html>");
    html
}

fn render_request(request: &Received, secrets: &[String], locale: Locale) -> String {
    let t = |en: &'static str, ru: &'static str| if locale == Locale::Ru { ru } else { en };
    let json = serde_json::from_slice::<serde_json::Value>(&request.body).ok();
    let event = json.as_ref().and_then(|body| body["type"].as_str()).map(str::to_owned);
    let body = match &json {
        Some(value) => serde_json::to_string_pretty(value).unwrap_or_default(),
        None => String::from_utf8_lossy(&request.body).into_owned(),
    };
    let shown: String = body.chars().take(MAX_SHOWN_CHARS).collect();
    let cut = if shown.len() < body.len() { t("\n… (cut: the body is longer)", "\n… (обрезано: тело длиннее)") } else { "" };
    let (signature, signature_code) = match request.signature(secrets) {
        Signature::Valid => (t("signature valid", "подпись верна"), "valid"),
        Signature::Invalid => (t("signature invalid", "подпись неверна"), "invalid"),
        Signature::NotChecked => (t("not checked: paste the secret above", "не проверена: вставьте ключ выше"), "not-checked"),
        Signature::Unsigned => (t("not signed", "без подписи"), "unsigned"),
    };
    let at = floorwalker_core::base::clock::civil(request.at_ms, 0);
    let time = format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", at.year, at.month, at.day, at.hour, at.minute, at.second);
    let iso = format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", at.year, at.month, at.day, at.hour, at.minute, at.second);
    let webhook_id = request.header("webhook-id").unwrap_or("—");
    // A long body scrolls inside its box, which therefore takes the focus: a keyboard scrolls it too.
    format!(
        "<li class=\"request\" data-test=\"request\" data-signature=\"{signature_code}\">\
         <h3 data-test=\"type\">{event}</h3><dl>\
         <dt>{time_label}</dt><dd><time datetime=\"{iso}\">{time}</time></dd>\
         <dt>{request_label}</dt><dd class=\"url\">{method} {path}</dd>\
         <dt>webhook-id</dt><dd class=\"url\" data-test=\"webhook-id\">{webhook_id}</dd>\
         <dt>{answered_label}</dt><dd data-test=\"answered\">{answered}</dd>\
         <dt>{signature_label}</dt><dd class=\"signature {signature_code}\" data-test=\"signature\">{signature}</dd></dl>\
         <pre data-test=\"body\" tabindex=\"0\">{body}{cut}</pre></li>",
        event = match &event {
            Some(event) => html_escape(event),
            None => t("(no type)", "(без типа)").to_owned(),
        },
        time_label = t("Time", "Время"),
        request_label = t("Request", "Запрос"),
        method = html_escape(&request.method),
        path = html_escape(&request.path),
        webhook_id = html_escape(webhook_id),
        answered_label = t("Answered", "Ответ"),
        answered = request.answered,
        signature_label = t("Signature", "Подпись"),
        body = html_escape(&shown),
    )
}

/// An answer of the page's.
pub type Answer = tiny_http::Response<std::io::Cursor<Vec<u8>>>;

/// The page as an answer: no script may run on it, nothing of it is cached.
pub fn html_response(html: String) -> Answer {
    with_headers(
        tiny_http::Response::from_data(html.into_bytes()),
        &[
            ("content-type", "text/html; charset=utf-8"),
            ("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
            ("cache-control", "no-store"),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
        ],
    )
}

/// After the form: back to the page (303, so a reload does not send the secret again).
pub fn back_to_page(locale: Locale, notice: Notice) -> Answer {
    let location = format!("/?lang={}&secret={}", locale.code(), notice.code());
    with_headers(tiny_http::Response::from_data(Vec::new()).with_status_code(303), &[("location", &location), ("cache-control", "no-store")])
}

pub fn not_found() -> Answer {
    tiny_http::Response::from_data(Vec::new()).with_status_code(404)
}

fn with_headers(mut response: Answer, headers: &[(&str, &str)]) -> Answer {
    for (name, value) in headers {
        if let Ok(header) = tiny_http::Header::from_bytes(*name, *value) {
            response = response.with_header(header);
        }
    }
    response
}

/// Readable at 360 px: long ids, URLs and bodies wrap instead of widening the page.
const STYLE: &str = "\
*{box-sizing:border-box}\
body{margin:0 auto;max-width:60rem;padding:12px 16px;font:15px/1.45 system-ui,sans-serif;color:#18181b;background:#fafafa}\
header{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;gap:8px}\
h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:20px 0 8px}h3{font-size:16px;margin:0 0 6px}\
a{color:#1d4ed8}a:focus-visible,button:focus-visible,input:focus-visible,pre:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}\
code,pre{font:13px/1.4 ui-monospace,Menlo,Consolas,monospace}\
.url{overflow-wrap:anywhere}\
form{display:grid;gap:6px;max-width:36rem}\
input{font:inherit;width:100%;padding:6px 8px;border:1px solid #71717a;border-radius:6px}\
button{font:inherit;justify-self:start;padding:6px 12px;border:1px solid #1d4ed8;border-radius:6px;background:#1d4ed8;color:#fff}\
ol.requests{list-style:none;padding:0;margin:0;display:grid;gap:12px}\
.request{background:#fff;border:1px solid #d4d4d8;border-radius:10px;padding:10px 12px;min-width:0}\
dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:2px 12px;margin:0 0 8px}\
dt{color:#52525b}dd{margin:0;min-width:0}\
.signature{font-weight:600}.signature.valid{color:#166534}.signature.invalid{color:#b91c1c}\
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f4f4f5;border-radius:6px;padding:8px;margin:0;max-height:24em;overflow:auto}";

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::receiver::verify_standard_webhook;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    /// The specification's published example, arriving at its own timestamp.
    const AT_MS: u64 = 1_614_265_330_000;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn received(body: &str, headers: &[(&str, &str)]) -> Received {
        Received {
            at: Instant::now(),
            at_ms: AT_MS,
            method: "POST".into(),
            path: "/crm".into(),
            headers: headers.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect(),
            body: body.as_bytes().to_vec(),
            answered: 200,
            answer: "{\"ok\":true}".into(),
            signature_valid: None,
        }
    }

    fn spec_request() -> Received {
        received(
            r#"{"test": 2432232314}"#,
            &[("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"), ("webhook-timestamp", "1614265330"), ("webhook-signature", SPEC_SIGNATURE)],
        )
    }

    fn page(requests: &[Received], secrets: &[String], locale: Locale) -> String {
        render(&View { requests, secrets, kept: Some(200), webhook_url: "http://127.0.0.1:8788/crm", locale, notice: None })
    }

    #[test]
    fn everything_a_request_carries_is_shown_as_text() {
        let hostile = received(
            r#"{"type":"message.created","data":{"text":"<script>window.__pwned=1</script> & \"quotes\""}}"#,
            &[("webhook-id", "msg_<b>bold</b>")],
        );
        let mut odd_path = received("<img src=x onerror=alert(1)>", &[]);
        odd_path.path = "/crm?x=\"><script>alert(1)</script>".into();
        let html = page(&[hostile, odd_path], &[], Locale::En);
        assert!(!html.contains("<script>") && !html.contains("<img") && !html.contains("<b>"), "{html}");
        assert!(html.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt; &amp; \\&quot;quotes\\&quot;"), "{html}");
        assert!(html.contains("msg_&lt;b&gt;bold&lt;/b&gt;"), "{html}");
        assert!(html.contains("/crm?x=&quot;&gt;&lt;script&gt;"), "{html}");
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"), "a body that is not JSON is shown as it came: {html}");
    }

    #[test]
    fn newest_first_with_type_id_answer_and_pretty_body() {
        let older = received(r#"{"type":"test","data":{"endpoint":"local"}}"#, &[("webhook-id", "msg_test_1")]);
        let mut newer = received(r#"{"type":"lead.created"}"#, &[("webhook-id", "msg_2")]);
        newer.answered = 500;
        let html = page(&[older, newer], &[], Locale::En);
        let (lead, test) = (html.find(">lead.created</h3>").expect("the lead"), html.find(">test</h3>").expect("the test"));
        assert!(lead < test, "newest first");
        assert!(html.contains("data-test=\"answered\">500<") && html.contains(">msg_test_1<"), "{html}");
        assert!(html.contains("{\n  &quot;data&quot;: {\n    &quot;endpoint&quot;: &quot;local&quot;\n  },\n  &quot;type&quot;: &quot;test&quot;\n}"), "pretty-printed: {html}");
        assert!(html.contains("Received (2)") && html.contains("Only the last 200"), "{html}");
    }

    #[test]
    fn a_signature_is_valid_invalid_not_checked_or_absent() {
        let secret = vec![SECRET.to_owned()];
        let spec = spec_request();
        assert!(verify_standard_webhook(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", SPEC_SIGNATURE, &spec.body, AT_MS / 1000));
        assert_eq!(spec.signature(&secret), Signature::Valid, "checked as of its arrival, however long ago");
        assert_eq!(spec.signature(&[]), Signature::NotChecked);
        assert_eq!(spec.signature(&["whsec_bm90IHRoZSBzZWNyZXQ=".to_owned()]), Signature::Invalid);
        let mut tampered = spec_request();
        tampered.body = br#"{"test": 1}"#.to_vec();
        assert_eq!(tampered.signature(&secret), Signature::Invalid);
        let unsigned = received("{}", &[]);
        assert_eq!(unsigned.signature(&secret), Signature::Unsigned);
        let html = page(&[spec_request(), unsigned], &secret, Locale::En);
        assert!(html.contains("data-signature=\"valid\"") && html.contains(">signature valid<"), "{html}");
        assert!(html.contains(">not signed<") && html.contains("Secrets in memory: 1"), "{html}");
        let html = page(&[spec_request()], &[], Locale::En);
        assert!(html.contains(">not checked: paste the secret above<") && html.contains("signatures are not checked"), "{html}");
    }

    #[test]
    fn the_page_speaks_english_or_russian() {
        let en = page(&[], &[], Locale::En);
        assert!(en.starts_with("<!doctype html><html lang=\"en\">") && en.contains("CRM receiver") && en.contains("Nothing has arrived yet"));
        assert!(en.contains("href=\"/?lang=ru\" hreflang=\"ru\" lang=\"ru\"") && en.contains(">Русский<"));
        let ru = page(&[spec_request()], &[SECRET.to_owned()], Locale::Ru);
        assert!(ru.contains("<html lang=\"ru\">") && ru.contains("Приёмник CRM") && ru.contains(">подпись верна<"), "{ru}");
        assert!(ru.contains("name=\"lang\" value=\"ru\"") && ru.contains(">English<"), "the form keeps the language: {ru}");
        let refused = render(&View { notice: Some(Notice::SecretRefused), ..View { requests: &[], secrets: &[], kept: None, webhook_url: "u", locale: Locale::Ru, notice: None } });
        assert!(refused.contains("Это не ключ подписи") && !refused.contains("Хранятся только"), "{refused}");
    }

    #[test]
    fn only_the_page_s_own_requests_are_routed_to_it() {
        use tiny_http::Method;
        assert_eq!(Route::of(&Method::Get, "/"), Some(Route::Page));
        assert_eq!(Route::of(&Method::Get, "/?lang=ru&secret=added"), Some(Route::Page));
        assert_eq!(Route::of(&Method::Get, "/favicon.ico"), Some(Route::Missing));
        assert_eq!(Route::of(&Method::Post, SECRET_PATH), Some(Route::AddSecret));
        // Deliveries, whatever their method: a CRM preset may send a GET to its own path.
        for (method, url) in [(Method::Post, "/"), (Method::Post, "/crm"), (Method::Get, "/crm"), (Method::Get, "/crm?x=1")] {
            assert_eq!(Route::of(&method, url), None, "{method} {url}");
        }
        let query = Query::of("/?lang=ru&secret=refused");
        assert_eq!((query.locale, query.notice), (Locale::Ru, Some(Notice::SecretRefused)));
        assert_eq!(Query::of("/").locale, Locale::En);
    }

    #[test]
    fn the_form_takes_only_a_signing_secret() {
        let form = SecretForm::of(b"lang=ru&secret=+whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw%0A");
        assert_eq!((form.secret.as_deref(), form.locale), (Some(SECRET), Locale::Ru));
        assert!(is_secret(SECRET));
        for refused in ["", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_not base64!", "<script>"] {
            assert!(!is_secret(refused), "{refused:?}");
        }
        assert_eq!(SecretForm::of(b"secret=").secret, None);
    }
}
