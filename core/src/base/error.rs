//! The error shape every HTTP endpoint returns, so that clients (widget, console, CRMs) can branch
//! on a stable machine code and show the message to a person.

use serde::{Deserialize, Serialize};

use crate::base::locale::Locale;

/// A stable, machine-readable error code. Serialised in `snake_case`.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidJson,
    InvalidSite,
    InvalidEvent,
    InvalidConfig,
    UnsupportedVersion,
    PayloadTooLarge,
    UnknownSite,
    OriginNotAllowed,
    Unauthorized,
    NotFound,
    MethodNotAllowed,
    UnsupportedMediaType,
    RateLimited,
    /// A chat frame that is not valid JSON, has an unknown `type`, or breaks a field rule.
    BadFrame,
    /// A chat message longer than `chat::protocol::MAX_MESSAGE_CHARS` after normalisation.
    MessageTooLong,
    /// A chat message with nothing left after trimming and stripping control characters.
    EmptyMessage,
    /// Authenticated, but this party may not do that (a visitor closing a conversation).
    Forbidden,
    /// The conversation was closed; the widget starts a new one instead.
    ConversationClosed,
    /// An email address that is not a deliverable-looking `local@domain.tld`.
    InvalidEmail,
    /// A phone number that cannot be normalised to E.164.
    InvalidPhone,
    /// A text field longer than its limit.
    FieldTooLong,
    /// A field the kind of form requires is absent or empty.
    MissingField,
    /// Text with control or direction-override characters.
    InvalidText,
    /// A lead request that is malformed beyond a single field (ids, kinds, fields the form never collects).
    InvalidLead,
    /// Consent absent, for another purpose than the form's promise, or marketing not given separately.
    InvalidConsent,
    /// The honeypot field was filled: a bot, refused without storing anything.
    SpamSuspected,
    /// Submitted faster than a person can fill the form.
    SubmittedTooFast,
    /// A signed link token that is malformed, forged or for another site.
    InvalidToken,
    /// A signed link token that was genuine but is too old.
    TokenExpired,
    /// A webhook endpoint URL pointing at a private, loopback, link-local or metadata address.
    EndpointNotAllowed,
    /// A webhook whose signature or timestamp does not verify.
    InvalidSignature,
    /// The same conversation was emailed to the same address a few minutes ago and nothing new
    /// was said since (`outbound::chat_events::TranscriptLog`).
    TranscriptAlreadySent,
    /// The conversation's transcript goes only to the first address it was asked for: the form
    /// must not be a way to mail the shop's chat to anyone (`outbound::chat_events::TranscriptLog`).
    TranscriptAddressLocked,
    /// A site config listing an origin that another site already has (an origin belongs to one site).
    OriginTaken,
    /// The visitor context a chat start carries is out of bounds (a price no shop has, more
    /// products than the widget sends).
    InvalidContext,
    /// An account with this email exists already (it joins a site with its own password).
    AccountExists,
    /// A change made to something that changed after the caller read it (`If-Match` no longer
    /// matches): read it again and redo the change.
    PreconditionFailed,
    /// A query string the route cannot read (an unknown lead kind, a date that is not YYYY-MM-DD).
    InvalidQuery,
    /// A deal a CRM reported is malformed (amount, currency, ids).
    InvalidDeal,
    /// A conversation's rating outside 1-5.
    InvalidRating,
    /// A chat attachment that is not one of the kinds the chat takes (by its content:
    /// `chat::attachment::FileKind`), or empty.
    UnsupportedFile,
    /// A chat attachment over `chat::attachment::MAX_ATTACHMENT_BYTES`.
    FileTooLarge,
    /// The conversation holds `chat::attachment::MAX_ATTACHMENTS_PER_CONVERSATION` files already.
    TooManyFiles,
    /// A fault on our side (storage unavailable, ...), never caused by the request's content.
    Internal,
}

impl ErrorCode {
    /// The HTTP status that goes with the code. Everything a client can cause is a 4xx.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidJson
            | ErrorCode::InvalidSite
            | ErrorCode::InvalidEvent
            | ErrorCode::InvalidConfig
            | ErrorCode::UnsupportedVersion
            | ErrorCode::BadFrame
            | ErrorCode::MessageTooLong
            | ErrorCode::EmptyMessage
            | ErrorCode::InvalidEmail
            | ErrorCode::InvalidPhone
            | ErrorCode::FieldTooLong
            | ErrorCode::MissingField
            | ErrorCode::InvalidText
            | ErrorCode::InvalidLead
            | ErrorCode::InvalidConsent
            | ErrorCode::InvalidToken
            | ErrorCode::InvalidContext
            | ErrorCode::EndpointNotAllowed
            | ErrorCode::InvalidQuery
            | ErrorCode::InvalidDeal
            | ErrorCode::InvalidRating => 400,
            ErrorCode::Unauthorized | ErrorCode::InvalidSignature => 401,
            // Gone: the link was real once; asking again will not help.
            ErrorCode::TokenExpired => 410,
            // Understood but refused on its merits, so the widget can tell it from a malformed request.
            ErrorCode::SpamSuspected | ErrorCode::SubmittedTooFast => 422,
            ErrorCode::OriginNotAllowed | ErrorCode::Forbidden => 403,
            ErrorCode::NotFound | ErrorCode::UnknownSite => 404,
            ErrorCode::MethodNotAllowed => 405,
            // A conflict with the state of the conversation or of another site, not a malformed request.
            ErrorCode::ConversationClosed | ErrorCode::TranscriptAddressLocked | ErrorCode::OriginTaken | ErrorCode::AccountExists => 409,
            ErrorCode::PreconditionFailed => 412,
            ErrorCode::PayloadTooLarge | ErrorCode::FileTooLarge => 413,
            ErrorCode::UnsupportedMediaType | ErrorCode::UnsupportedFile => 415,
            ErrorCode::TooManyFiles => 409,
            ErrorCode::RateLimited | ErrorCode::TranscriptAlreadySent => 429,
            ErrorCode::Internal => 503,
        }
    }
}

impl ErrorCode {
    /// Whether the server's message says what in the input was wrong (`id must be …`), which the
    /// code's own words cannot: a screen shows it after them.
    pub fn message_names_the_input(self) -> bool {
        matches!(
            self,
            ErrorCode::InvalidConfig
                | ErrorCode::InvalidEmail
                | ErrorCode::InvalidPhone
                | ErrorCode::FieldTooLong
                | ErrorCode::MissingField
                | ErrorCode::InvalidText
                | ErrorCode::InvalidQuery
                | ErrorCode::InvalidDeal
                | ErrorCode::EndpointNotAllowed
        )
    }

    /// What the code means to a person at the console (an owner, an operator), in `locale`: the
    /// server's `message` is for developers and in English, and a screen shows this instead where
    /// the error is not about one field (a field's problem is worded by core's validation).
    pub fn for_people(self, locale: Locale) -> &'static str {
        let (en, ru) = match self {
            ErrorCode::InvalidJson | ErrorCode::BadFrame | ErrorCode::InvalidQuery => {
                ("the request was not understood; reload the page and try again", "запрос не понят; обновите страницу и попробуйте снова")
            }
            ErrorCode::InvalidSite | ErrorCode::UnknownSite => ("this site does not exist (any more)", "такого сайта нет (или он удалён)"),
            ErrorCode::InvalidEvent | ErrorCode::InvalidContext => ("the visitor's data was refused", "данные посетителя отклонены"),
            ErrorCode::InvalidConfig => ("a setting is not valid", "одна из настроек неверна"),
            ErrorCode::UnsupportedVersion => ("this page is out of date: reload it", "страница устарела: обновите её"),
            ErrorCode::PayloadTooLarge => ("that is too much to save at once", "это слишком много, чтобы сохранить за раз"),
            ErrorCode::OriginNotAllowed => ("this page's address is not allowed to do that", "с этого адреса так нельзя"),
            ErrorCode::Unauthorized => ("your session has ended: log in again", "сеанс закончился: войдите снова"),
            ErrorCode::NotFound => ("it is not there (any more)", "этого нет (или уже удалено)"),
            ErrorCode::MethodNotAllowed | ErrorCode::UnsupportedMediaType => {
                ("this page is out of date: reload it", "страница устарела: обновите её")
            }
            ErrorCode::RateLimited => ("too many tries in a short time: wait a minute and try again", "слишком много попыток подряд: подождите минуту и попробуйте снова"),
            ErrorCode::MessageTooLong | ErrorCode::FieldTooLong => ("the text is too long", "текст слишком длинный"),
            ErrorCode::EmptyMessage => ("there is nothing to send", "нечего отправить"),
            ErrorCode::Forbidden => ("you may not do that on this site", "на этом сайте вам это недоступно"),
            ErrorCode::ConversationClosed => ("this conversation is closed", "этот разговор закрыт"),
            ErrorCode::InvalidEmail => ("that does not look like an email address", "это не похоже на адрес почты"),
            ErrorCode::InvalidPhone => ("that does not look like a phone number", "это не похоже на номер телефона"),
            ErrorCode::MissingField => ("a required field is empty", "обязательное поле не заполнено"),
            ErrorCode::InvalidText => ("the text has characters that cannot be saved", "в тексте есть символы, которые нельзя сохранить"),
            ErrorCode::InvalidLead | ErrorCode::InvalidDeal => ("the request was refused as malformed", "запрос отклонён как неверный"),
            ErrorCode::InvalidConsent => ("the consent given does not cover this", "данное согласие этого не покрывает"),
            ErrorCode::InvalidRating => ("a rating is a score from 1 to 5", "оценка — число от 1 до 5"),
            ErrorCode::UnsupportedFile => ("only pictures (PNG, JPEG, GIF, WebP) and PDF files can be sent", "можно отправить только картинку (PNG, JPEG, GIF, WebP) или PDF"),
            ErrorCode::FileTooLarge => ("the file is too large: at most 5 MB", "файл слишком большой: не больше 5 МБ"),
            ErrorCode::TooManyFiles => ("this conversation cannot take more files", "в этот разговор больше нельзя отправлять файлы"),
            ErrorCode::SpamSuspected | ErrorCode::SubmittedTooFast => ("refused as automated", "отклонено как автоматическое"),
            ErrorCode::InvalidToken => ("the link is not valid", "ссылка недействительна"),
            ErrorCode::TokenExpired => ("the link has expired: ask for a new one", "срок ссылки истёк: попросите новую"),
            ErrorCode::EndpointNotAllowed => {
                ("that address is private (local network, loopback): use a public https address", "это внутренний адрес (локальная сеть): укажите публичный https-адрес")
            }
            ErrorCode::InvalidSignature => ("the signature does not verify", "подпись не сходится"),
            ErrorCode::TranscriptAlreadySent => ("it was sent a few minutes ago", "это уже отправлено несколько минут назад"),
            ErrorCode::TranscriptAddressLocked => ("it goes only to the address first given", "это отправляется только на первый указанный адрес"),
            ErrorCode::OriginTaken => ("another site already uses this address", "этот адрес уже занят другим сайтом"),
            ErrorCode::AccountExists => ("an account with this email exists already", "учётная запись с этой почтой уже есть"),
            ErrorCode::PreconditionFailed => {
                ("someone else changed this meanwhile: reload and make your change again", "кто-то изменил это тем временем: обновите страницу и повторите")
            }
            ErrorCode::Internal => ("our side is unavailable right now: try again in a minute", "у нас временная неполадка: попробуйте через минуту"),
        };
        match locale {
            Locale::En => en,
            Locale::Ru => ru,
        }
    }
}

/// `{"error": {"code": "...", "message": "..."}}` on the wire.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// The field the error is about, as a path into the request (`widget.prompts[1].copy.en.title`),
    /// so that a form can show the message next to that field. Absent for errors about no one field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into(), field: None }
    }

    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }
}

/// How a check reports a mistake: in words, as the worker answers ([`ApiError`]), or as a bare
/// [`Refused`], for a check whose caller needs only to know that the worker would refuse. A check
/// written once over `E: Mistake` serves both; built for [`Refused`], its words (their
/// `format!`s) are never reached and leave the build (issue 16: the widget checks each event before
/// queuing it, and the words of `EventBatch::validate` cost its first load ~1.6 KB brotli).
pub trait Mistake: Sized {
    /// A mistake with `code`; `words` are asked for only by a mistake that keeps them.
    fn new(code: ErrorCode, words: impl FnOnce() -> String) -> Self;
    /// The same mistake, its words prefixed by `prefix()` (`events[3]: `).
    fn within(self, prefix: impl FnOnce() -> String) -> Self;
}

impl Mistake for ApiError {
    fn new(code: ErrorCode, words: impl FnOnce() -> String) -> Self {
        ApiError::new(code, words())
    }

    fn within(self, prefix: impl FnOnce() -> String) -> Self {
        ApiError { message: prefix() + &self.message, ..self }
    }
}

/// A mistake without words: only its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused(pub ErrorCode);

impl Mistake for Refused {
    fn new(code: ErrorCode, _words: impl FnOnce() -> String) -> Self {
        Refused(code)
    }

    fn within(self, _prefix: impl FnOnce() -> String) -> Self {
        self
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// One field a person got wrong in a form or a document: where ([`Invalid::field`], a path such
/// as `prompts[1].copy.en.title`) and which rule it breaks. The words are chosen only when the
/// error is shown ([`Invalid::message`]), in the language of the person who will read them, so the
/// same check serves the admin API (English) and the owner's console (the owner's language).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: String,
    pub rule: Rule,
}

/// What a unit of a number is, for the words around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Seconds,
    Minutes,
    Days,
    Characters,
}

/// The validation vocabulary: each rule a field can break, with what the message needs to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// Blank or only spaces.
    Empty,
    /// Longer than `max` characters.
    TooLong { max: usize },
    /// A number outside `min..=max`.
    Between { min: u64, max: u64, unit: Unit },
    /// A threshold below what the engine would wait for anyway: the engine's floor.
    BelowFloor { floor: u64, unit: Unit },
    /// A list with fewer than `min` or more than `max` items.
    Count { min: usize, max: usize },
    /// A value given twice where each must be unique.
    Duplicate { value: String },
    /// Not in the expected form; `example` shows a good value.
    Format { example: &'static str },
    /// Opening hours that close before they open.
    HoursOrder,
    /// Words missing in a language the site speaks.
    MissingLocale { locale: Locale },
    /// A language that is not among the site's languages.
    NotASiteLocale { locale: Locale },
    /// A prompt that collects a contact needs consent text next to the field.
    ConsentRequired,
    /// A callback needs words for when nobody can call soon.
    AfterHoursRequired,
    /// Only a callback has after-hours words.
    AfterHoursNotAllowed,
    /// A rule refers to a question this config does not have.
    UnknownQuestion { prompt: String },
    /// A rule refers to an answer that is not one of the question's choices.
    UnknownChoice { prompt: String, value: String },
    /// A condition nested too deep or with too many parts.
    TooComplex { max: usize },
    /// A setting only a test deployment accepts.
    TestOnly,
    /// Something more specific, described in English only (a path pattern's exact fault).
    Detail(String),
}

impl Invalid {
    pub fn new(field: impl Into<String>, rule: Rule) -> Self {
        Invalid { field: field.into(), rule }
    }

    /// The same problem seen from the parent: `copy.en.title` under `prompts[1]` is
    /// `prompts[1].copy.en.title`; `[2].url_matches` under `when.all` is `when.all[2].url_matches`.
    pub fn under(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_owned()
        } else if self.field.starts_with('[') || parent.is_empty() {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }

    /// What is wrong, in `locale`, without the field's path.
    pub fn message(&self, locale: Locale) -> String {
        self.rule.message(locale)
    }

    /// As an API error with `code`: the message starts with the field's path (`field: message`), as
    /// every config error always has, and the path travels apart too, for a form to place it.
    pub fn to_api_error(&self, code: ErrorCode, locale: Locale) -> ApiError {
        if self.field.is_empty() {
            return ApiError::new(code, self.message(locale));
        }
        let mut error = ApiError::new(code, format!("{}: {}", self.field, self.message(locale)));
        error.field = Some(self.field.clone());
        error
    }
}

impl Unit {
    fn words(self, n: u64, locale: Locale) -> &'static str {
        match (self, locale) {
            (Unit::Count, _) => "",
            (Unit::Seconds, Locale::En) => " s",
            (Unit::Seconds, Locale::Ru) => " с",
            (Unit::Minutes, Locale::En) => " min",
            (Unit::Minutes, Locale::Ru) => " мин",
            (Unit::Days, Locale::En) => if n == 1 { " day" } else { " days" },
            (Unit::Days, Locale::Ru) => " дн.",
            (Unit::Characters, Locale::En) => " characters",
            (Unit::Characters, Locale::Ru) => " символов",
        }
    }
}

fn language_name(locale: Locale, in_locale: Locale) -> &'static str {
    match (locale, in_locale) {
        (Locale::Ru, Locale::En) => "Russian",
        (Locale::En, Locale::En) => "English",
        (Locale::Ru, Locale::Ru) => "русском",
        (Locale::En, Locale::Ru) => "английском",
    }
}

impl Rule {
    pub fn message(&self, locale: Locale) -> String {
        let en = locale == Locale::En;
        match self {
            Rule::Empty => if en { "must not be empty".into() } else { "заполните это поле".into() },
            Rule::TooLong { max } => {
                if en { format!("must be at most {max} characters") } else { format!("не длиннее {max} символов") }
            }
            Rule::Between { min, max, unit } => {
                let (from, to) = (unit.words(*min, locale), unit.words(*max, locale));
                if en { format!("must be {min}{from} to {max}{to}") } else { format!("от {min}{from} до {max}{to}") }
            }
            Rule::BelowFloor { floor, unit } => {
                let unit = unit.words(*floor, locale);
                if en {
                    format!("below the engine's floor: at least {floor}{unit} (the engine never speaks up sooner)")
                } else {
                    format!("меньше порога движка: не меньше {floor}{unit} (раньше подсказка не появится)")
                }
            }
            Rule::Count { min, max } => {
                if en { format!("list {min} to {max} items") } else { format!("от {min} до {max} вариантов") }
            }
            Rule::Duplicate { value } => {
                if en { format!("{value:?} is used twice") } else { format!("«{value}» встречается дважды") }
            }
            Rule::Format { example } => {
                if en { format!("should look like {example}") } else { format!("ожидается значение вида {example}") }
            }
            Rule::HoursOrder => {
                if en { "opening time must be before closing time".into() } else { "время открытия должно быть раньше закрытия".into() }
            }
            Rule::MissingLocale { locale: missing } => {
                if en {
                    format!("write it in {} too, or take {} out of the site's languages", language_name(*missing, locale), language_name(*missing, locale))
                } else {
                    format!("напишите текст и на {} языке или уберите этот язык из языков сайта", language_name(*missing, locale))
                }
            }
            Rule::NotASiteLocale { locale: other } => {
                if en {
                    format!("{} is not one of the site's languages", language_name(*other, locale))
                } else {
                    format!("этого языка ({}) нет среди языков сайта", match other { Locale::Ru => "русский", Locale::En => "английский" })
                }
            }
            Rule::ConsentRequired => {
                if en { "required for a prompt that collects an email or a phone".into() } else { "нужен текст согласия: подсказка просит почту или телефон".into() }
            }
            Rule::AfterHoursRequired => {
                if en {
                    "required for a callback (what to say when nobody can call soon)".into()
                } else {
                    "нужен текст для нерабочего времени (когда позвонить быстро некому)".into()
                }
            }
            Rule::AfterHoursNotAllowed => {
                if en { "only a callback prompt has after-hours copy".into() } else { "текст для нерабочего времени бывает только у обратного звонка".into() }
            }
            Rule::UnknownQuestion { prompt } => {
                if en { format!("{prompt:?} is not a question prompt in this config") } else { format!("вопроса «{prompt}» нет среди подсказок") }
            }
            Rule::UnknownChoice { prompt, value } => {
                if en {
                    format!("{value:?} is not one of the choices of {prompt:?}")
                } else {
                    format!("у вопроса «{prompt}» нет варианта «{value}»")
                }
            }
            Rule::TooComplex { max } => {
                if en { format!("too complex: at most {max}") } else { format!("слишком сложное условие: не больше {max}") }
            }
            Rule::TestOnly => {
                if en {
                    "accepted only by a test deployment (FLOORWALKER_TEST_TIMING=1)".into()
                } else {
                    "принимается только тестовой установкой (FLOORWALKER_TEST_TIMING=1)".into()
                }
            }
            Rule::Detail(detail) => if en { detail.clone() } else { format!("неверное значение: {detail}") },
        }
    }
}

/// The envelope an error travels in.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    pub error: ApiError,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_are_4xx() {
        for code in [
            ErrorCode::InvalidJson,
            ErrorCode::InvalidSite,
            ErrorCode::InvalidEvent,
            ErrorCode::InvalidConfig,
            ErrorCode::UnsupportedVersion,
            ErrorCode::PayloadTooLarge,
            ErrorCode::UnknownSite,
            ErrorCode::OriginNotAllowed,
            ErrorCode::Unauthorized,
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::UnsupportedMediaType,
            ErrorCode::RateLimited,
            ErrorCode::BadFrame,
            ErrorCode::MessageTooLong,
            ErrorCode::EmptyMessage,
            ErrorCode::Forbidden,
            ErrorCode::ConversationClosed,
            ErrorCode::InvalidEmail,
            ErrorCode::InvalidPhone,
            ErrorCode::FieldTooLong,
            ErrorCode::MissingField,
            ErrorCode::InvalidText,
            ErrorCode::InvalidLead,
            ErrorCode::InvalidConsent,
            ErrorCode::SpamSuspected,
            ErrorCode::SubmittedTooFast,
            ErrorCode::InvalidToken,
            ErrorCode::TokenExpired,
            ErrorCode::EndpointNotAllowed,
            ErrorCode::InvalidSignature,
            ErrorCode::TranscriptAlreadySent,
            ErrorCode::TranscriptAddressLocked,
            ErrorCode::OriginTaken,
            ErrorCode::InvalidContext,
        ] {
            assert!((400..500).contains(&code.http_status()), "{code:?}");
        }
    }

    #[test]
    fn every_code_has_words_for_people_in_both_languages() {
        let all: Vec<ErrorCode> = serde_json::from_str(
            r#"["invalid_json","invalid_site","invalid_event","invalid_config","unsupported_version","payload_too_large",
            "unknown_site","origin_not_allowed","unauthorized","not_found","method_not_allowed","unsupported_media_type",
            "rate_limited","bad_frame","message_too_long","empty_message","forbidden","conversation_closed","invalid_email",
            "invalid_phone","field_too_long","missing_field","invalid_text","invalid_lead","invalid_consent","spam_suspected",
            "submitted_too_fast","invalid_token","token_expired","endpoint_not_allowed","invalid_signature",
            "transcript_already_sent","transcript_address_locked","origin_taken","invalid_context","account_exists",
            "precondition_failed","invalid_query","invalid_deal","unsupported_file","file_too_large","too_many_files","internal"]"#,
        )
        .expect("every code by its wire name");
        for code in all {
            let (en, ru) = (code.for_people(Locale::En), code.for_people(Locale::Ru));
            assert!(!en.is_empty() && en.is_ascii(), "{code:?}: {en}");
            assert!(ru.chars().any(|c| ('а'..='я').contains(&c.to_lowercase().next().unwrap_or(c))), "{code:?}: {ru}");
            for words in [en, ru] {
                assert!(!words.contains('_') && !words.contains("HTTP"), "no developer's words for people: {code:?}: {words}");
            }
        }
    }

    #[test]
    fn wire_shape() {
        let body = ErrorBody { error: ApiError::new(ErrorCode::UnknownSite, "no such site") };
        let json = serde_json::to_string(&body).unwrap();
        assert_eq!(json, r#"{"error":{"code":"unknown_site","message":"no such site"}}"#);
    }

    #[test]
    fn contact_codes_on_the_wire() {
        assert_eq!(serde_json::to_string(&ErrorCode::FieldTooLong).unwrap(), r#""field_too_long""#);
        assert_eq!(serde_json::to_string(&ErrorCode::SubmittedTooFast).unwrap(), r#""submitted_too_fast""#);
        assert_eq!(ErrorCode::TokenExpired.http_status(), 410);
        assert_eq!(ErrorCode::SpamSuspected.http_status(), 422);
        assert_eq!(ErrorCode::InvalidSignature.http_status(), 401);
    }
}
