//! Contact details as visitors type them, turned into the one canonical form that the promised email,
//! the operator and every CRM receive: emails with a lowercase domain, phones in E.164.
//!
//! The same functions run in the widget (to show the error next to the field, in the visitor's
//! language, before anything is sent) and in the worker (which trusts nothing the widget checked).

use crate::base::error::{ApiError, ErrorCode};
use crate::base::locale::Locale;
use crate::base::phone::{DialPlan, PhoneRegion};
use crate::base::text::check_len;

/// RFC 5321's limit on a forward path, the longest address any mail server will take.
pub const MAX_EMAIL_LEN: usize = 254;
/// RFC 5321's limit on the part before `@`.
pub const MAX_EMAIL_LOCAL_LEN: usize = 64;
/// E.164 caps a number at 15 digits including the country code.
pub const MAX_E164_DIGITS: usize = 15;
/// What a person plausibly types into a phone field, separators included; anything longer is
/// refused before it is looked at.
pub const MAX_PHONE_INPUT_LEN: usize = 40;
/// A person's name as they'd write it on a form.
pub const MAX_NAME_LEN: usize = 100;
/// Free text: a question, an offline message, a callback topic.
pub const MAX_MESSAGE_LEN: usize = 2000;
/// "Tomorrow after 18:00" and the like.
pub const MAX_TIME_SLOT_LEN: usize = 100;

/// Checks and normalises an email address: trims, lowercases the domain, keeps the local part as
/// typed (it is case-sensitive in principle and some mailboxes are).
///
/// This is a practical check, not RFC 5322: quoted local parts, comments and IP-literal domains are
/// refused because real visitors do not type them and bots do. Non-ASCII addresses (IDN domains such
/// as `почта.рф`, or SMTPUTF8 local parts) are refused too: converting to punycode needs the IDNA
/// tables, which core does not carry, and not every CRM or mail provider accepts them raw.
pub fn normalize_email(input: &str) -> Result<String, ApiError> {
    let email = input.trim();
    let invalid = |why: &str| ApiError::new(ErrorCode::InvalidEmail, format!("email: {why}"));
    if email.is_empty() {
        return Err(invalid("is empty"));
    }
    if email.len() > MAX_EMAIL_LEN {
        return Err(invalid(&format!("is longer than {MAX_EMAIL_LEN} characters")));
    }
    if !email.is_ascii() {
        return Err(invalid("must use Latin letters only (internationalised addresses are not supported)"));
    }
    let (local, domain) = email.split_once('@').ok_or_else(|| invalid("has no @"))?;
    if domain.contains('@') {
        return Err(invalid("has more than one @"));
    }
    if local.is_empty() || local.len() > MAX_EMAIL_LOCAL_LEN {
        return Err(invalid(&format!("the part before @ must be 1-{MAX_EMAIL_LOCAL_LEN} characters")));
    }
    let local_ok = local.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    if !local_ok {
        return Err(invalid("the part before @ has characters an address cannot have"));
    }
    let domain = domain.to_ascii_lowercase();
    if !is_public_domain_name(&domain) {
        return Err(invalid("the part after @ is not a domain like example.com"));
    }
    Ok(format!("{local}@{domain}"))
}

/// `example.com`-shaped: at least two labels of letters, digits and inner hyphens, and a top-level
/// label of letters (or an `xn--` punycode TLD), so `user@localhost` and `a@1.2.3.4` are refused.
fn is_public_domain_name(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let labels_ok = labels.iter().all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    let tld = labels.last().copied().unwrap_or_default();
    let tld_ok = (tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic())) || tld.starts_with("xn--");
    labels.len() >= 2 && labels_ok && tld_ok && domain.len() <= 253
}


/// Normalises a phone number to E.164 (`+79161234567`).
///
/// Accepts digits with the usual separators (spaces, `-`, `.`, `(`, `)`), a leading `+` or `00` for
/// international notation, and national notation for `default_region` (with or without its trunk
/// prefix, or with the country code but no `+`, as in `79161234567`). Letters, extensions and
/// anything else are refused rather than guessed at. Numbers under a country code in the table must
/// have that country's national length; other country codes only get the E.164 bounds (8-15 digits).
pub fn normalize_phone(input: &str, default_region: PhoneRegion) -> Result<String, ApiError> {
    let invalid = |why: &str| ApiError::new(ErrorCode::InvalidPhone, format!("phone: {why}"));
    let text = input.trim();
    if text.is_empty() {
        return Err(invalid("is empty"));
    }
    if text.chars().count() > MAX_PHONE_INPUT_LEN {
        return Err(invalid("is too long"));
    }
    let mut digits = String::new();
    let mut plus = false;
    for (index, c) in text.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if index == 0 => plus = true,
            ' ' | '\u{a0}' | '-' | '.' | '(' | ')' => {}
            _ => return Err(invalid("may contain only digits, spaces, - ( ) and a leading +")),
        }
    }
    if !plus {
        if let Some(rest) = digits.strip_prefix("00") {
            digits = rest.to_owned();
            plus = true;
        }
    }
    if plus {
        return international(&digits).ok_or_else(|| invalid("is not a valid international number"));
    }
    let plan = default_region.plan();
    // Trunk prefix first (`8 916 ...`, `030 ...`), then the bare national number, then the country
    // code typed without `+` (`7916...`), which is the rarest and most ambiguous reading.
    let national = [digits.strip_prefix(plan.trunk_prefix), Some(digits.as_str()), digits.strip_prefix(plan.country_code)]
        .into_iter()
        .flatten()
        .find(|national| plan.national_len.contains(&national.len()) && national_number_ok(&plan, national));
    match national {
        Some(national) => Ok(format!("+{}{national}", plan.country_code)),
        None => Err(invalid("is not a valid number: check the number of digits")),
    }
}

/// Checks `digits` (country code + national number, no `+`) against the dial plans we know.
fn international(digits: &str) -> Option<String> {
    if !(8..=MAX_E164_DIGITS).contains(&digits.len()) || digits.starts_with('0') {
        return None;
    }
    let known = PhoneRegion::ALL.into_iter().map(PhoneRegion::plan).find(|plan| digits.starts_with(plan.country_code));
    match known {
        Some(plan) => {
            let national = &digits[plan.country_code.len()..];
            (plan.national_len.contains(&national.len()) && national_number_ok(&plan, national))
                .then(|| format!("+{digits}"))
        }
        None => Some(format!("+{digits}")),
    }
}

/// National numbers never start with the trunk digit `0`; NANP area codes never start with `1`.
fn national_number_ok(plan: &DialPlan, national: &str) -> bool {
    let first = national.as_bytes().first().copied();
    first.is_some_and(|d| d != b'0' && !(plan.country_code == "1" && d == b'1'))
}

/// A one-line text field (a name, a time slot): trimmed, inner runs of whitespace collapsed, bounded
/// to `max_chars` characters. Returns `None` when nothing but whitespace was given.
pub fn single_line(field: &str, value: &str, max_chars: usize) -> Result<Option<String>, ApiError> {
    check_characters(field, value, false)?;
    let collapsed = value.split_whitespace().collect::<Vec<_>>().join(" ");
    bounded(field, collapsed, max_chars)
}

/// A multi-line text field (a message): trimmed, line endings made `\n`, bounded to `max_chars`.
pub fn multi_line(field: &str, value: &str, max_chars: usize) -> Result<Option<String>, ApiError> {
    check_characters(field, value, true)?;
    let unified = value.replace("\r\n", "\n").replace('\r', "\n");
    bounded(field, unified.trim().to_owned(), max_chars)
}


fn bounded(field: &str, value: String, max_chars: usize) -> Result<Option<String>, ApiError> {
    check_len(field, &value, max_chars)?;
    Ok((!value.is_empty()).then_some(value))
}


/// Control characters break CRM fields and log lines; bidi overrides make a name display as something
/// else in the operator's console or a Telegram alert.
fn check_characters(field: &str, value: &str, multi_line: bool) -> Result<(), ApiError> {
    let bad = value.chars().any(|c| {
        let allowed_control = matches!(c, '\t') || (multi_line && matches!(c, '\n' | '\r'));
        (c.is_control() && !allowed_control) || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    });
    if bad {
        return Err(ApiError::new(ErrorCode::InvalidText, format!("{field}: contains control characters")));
    }
    Ok(())
}

/// Error codes a form can tell a visitor about (each has a [`message`]).
pub const VISITOR_CODES: [ErrorCode; 13] = [
    ErrorCode::InvalidEmail,
    ErrorCode::InvalidPhone,
    ErrorCode::FieldTooLong,
    ErrorCode::MissingField,
    ErrorCode::InvalidText,
    ErrorCode::InvalidConsent,
    ErrorCode::SpamSuspected,
    ErrorCode::SubmittedTooFast,
    ErrorCode::TranscriptAlreadySent,
    ErrorCode::TranscriptAddressLocked,
    ErrorCode::UnsupportedFile,
    ErrorCode::FileTooLarge,
    ErrorCode::TooManyFiles,
];

/// The visitor-facing code named `wire` in an error body (`{"error":{"code":"invalid_email"}}`);
/// `None` for codes a visitor cannot act on. Lets a widget read one field instead of carrying a
/// deserializer for every error code.
pub fn visitor_code(wire: &str) -> Option<ErrorCode> {
    VISITOR_CODES.into_iter().find(|known| message_key(*known).and_then(|k| k.strip_prefix("error.")) == Some(wire))
}

/// The translation key for a validation error code, for widgets that keep their own string tables.
/// The key is stable: it is the code's wire name under `error.`.
pub fn message_key(code: ErrorCode) -> Option<&'static str> {
    Some(match code {
        ErrorCode::InvalidEmail => "error.invalid_email",
        ErrorCode::InvalidPhone => "error.invalid_phone",
        ErrorCode::FieldTooLong => "error.field_too_long",
        ErrorCode::MissingField => "error.missing_field",
        ErrorCode::InvalidText => "error.invalid_text",
        ErrorCode::InvalidConsent => "error.invalid_consent",
        ErrorCode::SpamSuspected => "error.spam_suspected",
        ErrorCode::SubmittedTooFast => "error.submitted_too_fast",
        ErrorCode::InvalidToken => "error.invalid_token",
        ErrorCode::TokenExpired => "error.token_expired",
        ErrorCode::TranscriptAlreadySent => "error.transcript_already_sent",
        ErrorCode::TranscriptAddressLocked => "error.transcript_address_locked",
        ErrorCode::UnsupportedFile => "error.unsupported_file",
        ErrorCode::FileTooLarge => "error.file_too_large",
        ErrorCode::TooManyFiles => "error.too_many_files",
        _ => return None,
    })
}

/// What the widget shows a visitor for a validation error, in their language. The `ApiError`'s own
/// message is for developers (it names the field and the limit, in English); this one is for people.
/// `None` for codes a visitor cannot fix by editing the form.
pub fn message(code: ErrorCode, locale: Locale) -> Option<&'static str> {
    let (ru, en) = match code {
        ErrorCode::InvalidEmail => ("Проверьте адрес почты: например, name@example.ru", "Check the email address, e.g. name@example.com"),
        ErrorCode::InvalidPhone => ("Проверьте номер телефона: например, +7 916 123-45-67", "Check the phone number, e.g. +1 212 555 0123"),
        ErrorCode::FieldTooLong => ("Слишком длинный текст, сократите его", "This text is too long, please shorten it"),
        ErrorCode::MissingField => ("Заполните это поле", "Please fill in this field"),
        ErrorCode::InvalidText => ("В тексте есть недопустимые символы", "The text contains characters that are not allowed"),
        ErrorCode::InvalidConsent => ("Подтвердите согласие, чтобы мы могли выполнить обещанное", "Please confirm your consent so we can do what we promised"),
        ErrorCode::SpamSuspected => ("Не получилось отправить форму, попробуйте ещё раз", "The form could not be sent, please try again"),
        ErrorCode::SubmittedTooFast => ("Слишком быстро — проверьте данные и отправьте ещё раз", "That was too quick: check the form and send it again"),
        ErrorCode::InvalidToken => ("Ссылка недействительна", "This link is not valid"),
        ErrorCode::TokenExpired => ("Срок действия ссылки истёк", "This link has expired"),
        ErrorCode::TranscriptAlreadySent => (
            "Мы уже отправили эту переписку на этот адрес. Повторить можно через несколько минут или после новых сообщений.",
            "We've already sent this conversation to this address. You can ask again in a few minutes or after new messages.",
        ),
        ErrorCode::TranscriptAddressLocked => (
            "Эту переписку можно отправить только на адрес, который вы указали первым.",
            "This conversation can only be sent to the address you gave first.",
        ),
        ErrorCode::UnsupportedFile => ("Можно отправить картинку (PNG, JPEG, GIF, WebP) или PDF", "You can send a picture (PNG, JPEG, GIF, WebP) or a PDF"),
        ErrorCode::FileTooLarge => ("Файл слишком большой: не больше 5 МБ", "The file is too large: 5 MB at most"),
        ErrorCode::TooManyFiles => ("В этот разговор больше нельзя отправлять файлы", "No more files can be sent in this conversation"),
        _ => return None,
    };
    Some(match locale {
        Locale::Ru => ru,
        Locale::En => en,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visitor_codes_by_wire_name() {
        assert_eq!(visitor_code("invalid_email"), Some(ErrorCode::InvalidEmail));
        assert_eq!(visitor_code("submitted_too_fast"), Some(ErrorCode::SubmittedTooFast));
        assert_eq!(visitor_code("internal"), None);
        assert_eq!(visitor_code("invalid_token"), None, "not a form's error");
        assert!(VISITOR_CODES.iter().all(|c| message(*c, Locale::En).is_some()));
    }

    #[test]
    fn emails_are_trimmed_and_domain_lowercased() {
        assert_eq!(normalize_email("  Anna.Petrova+shop@Yandex.RU \n").unwrap(), "Anna.Petrova+shop@yandex.ru");
        assert_eq!(normalize_email("a@b.co").unwrap(), "a@b.co");
        assert_eq!(normalize_email("x_y-z@mail.xn--p1ai").unwrap(), "x_y-z@mail.xn--p1ai");
        assert_eq!(normalize_email("o'neil@sub.example.co.uk").unwrap(), "o'neil@sub.example.co.uk");
    }

    #[test]
    fn garbage_emails_are_refused() {
        let local_65 = format!("{}@example.com", "a".repeat(65));
        let total_255 = format!("a@{}.com", "b".repeat(251));
        for bad in [
            "",
            "   ",
            "plainaddress",
            "@example.com",
            "user@",
            "user@@example.com",
            "a@b@example.com",
            "user@localhost",
            "user@example",
            "user@example.c",
            "user@1.2.3.4",
            "user@[127.0.0.1]",
            "user@-example.com",
            "user@example-.com",
            "user@exa_mple.com",
            "user@example..com",
            ".user@example.com",
            "user.@example.com",
            "us..er@example.com",
            "us er@example.com",
            "\"quoted\"@example.com",
            "user@example.com.",
            "мария@почта.рф",
            "user@почта.рф",
            "mailto:user@example.com",
            "<user@example.com>",
            &local_65,
            &total_255,
        ] {
            let err = normalize_email(bad).expect_err(bad);
            assert_eq!(err.code, ErrorCode::InvalidEmail, "{bad}");
        }
    }

    #[test]
    fn russian_numbers_in_every_usual_notation() {
        for typed in [
            "8 (916) 123-45-67",
            "8-916-123-45-67",
            "+7 916 123 45 67",
            "+7(916)1234567",
            "79161234567",
            "89161234567",
            "916 123 45 67",
            "(916) 123-45-67",
            "8.916.123.45.67",
            " +7\u{a0}916\u{a0}123-45-67 ",
            "007 916 123 45 67",
        ] {
            assert_eq!(normalize_phone(typed, PhoneRegion::Ru).unwrap(), "+79161234567", "{typed}");
        }
    }

    #[test]
    fn regions_are_found_by_their_iso_code() {
        assert_eq!(PhoneRegion::from_code("KZ"), Some(PhoneRegion::Kz));
        assert_eq!(PhoneRegion::from_code("GB"), Some(PhoneRegion::Gb));
        assert_eq!(PhoneRegion::from_code("kz"), None);
        assert_eq!(PhoneRegion::from_code("FR"), None);
        for region in PhoneRegion::ALL {
            let code = serde_json::to_string(&region).expect("serialises");
            assert_eq!(PhoneRegion::from_code(code.trim_matches('"')), Some(region), "{code}");
        }
    }

    #[test]
    fn other_regions() {
        let cases = [
            ("8 (701) 123-45-67", PhoneRegion::Kz, "+77011234567"),
            ("812 123 45 67", PhoneRegion::Ru, "+78121234567"),
            ("8 029 123-45-67", PhoneRegion::By, "+375291234567"),
            ("29 123 45 67", PhoneRegion::By, "+375291234567"),
            ("+375 29 123-45-67", PhoneRegion::Ru, "+375291234567"),
            ("050 123 4567", PhoneRegion::Ua, "+380501234567"),
            ("+380 50 123 4567", PhoneRegion::Us, "+380501234567"),
            ("(212) 555-0123", PhoneRegion::Us, "+12125550123"),
            ("1-212-555-0123", PhoneRegion::Us, "+12125550123"),
            ("416 555 0123", PhoneRegion::Ca, "+14165550123"),
            ("030 1234567", PhoneRegion::De, "+49301234567"),
            ("0151 23456789", PhoneRegion::De, "+4915123456789"),
            // Variable-length plans make `49...` without `+` a national number, not a country code.
            ("49 30 1234567", PhoneRegion::De, "+4949301234567"),
            ("+49 151 23456789", PhoneRegion::Ru, "+4915123456789"),
            ("020 7946 0018", PhoneRegion::Gb, "+442079460018"),
            ("07700 900123", PhoneRegion::Gb, "+447700900123"),
            // A country code outside the table only gets E.164's bounds.
            ("+33 1 23 45 67 89", PhoneRegion::Ru, "+33123456789"),
            ("0033 1 23 45 67 89", PhoneRegion::De, "+33123456789"),
        ];
        for (typed, region, expected) in cases {
            assert_eq!(normalize_phone(typed, region).ok().as_deref(), Some(expected), "{typed} in {region:?}");
        }
    }

    #[test]
    fn bad_phones_are_refused() {
        for bad in [
            "",
            "  ",
            "123",
            // (Ten digits starting with 8 are a valid national number: 812 is St Petersburg.)
            "8 916 123 45",
            "8 916 123 45 678",
            "+7 916 123 45 6",
            "+7 016 123 45 67",
            "+1 112 555 0123",
            "916-CALL-NOW",
            "8 916 123 45 67 доб. 12",
            "+7 916 123 45 67 ext 5",
            "+7 (916) 123+45-67",
            "++79161234567",
            "+1234567890123456",
            "+0 916 123 45 67",
            "8 (916) 123-45-67; DROP TABLE",
            "٨٩١٦١٢٣٤٥٦٧",
            &"9".repeat(41),
        ] {
            let err = normalize_phone(bad, PhoneRegion::Ru).expect_err(bad);
            assert_eq!(err.code, ErrorCode::InvalidPhone, "{bad}");
        }
    }

    #[test]
    fn single_line_text() {
        assert_eq!(single_line("name", "  Анна \t Петрова ", 100).unwrap().as_deref(), Some("Анна Петрова"));
        assert_eq!(single_line("name", "   ", 100).unwrap(), None);
        assert_eq!(single_line("name", &"я".repeat(100), 100).unwrap().map(|s| s.chars().count()), Some(100));
        assert_eq!(single_line("name", &"я".repeat(101), 100).unwrap_err().code, ErrorCode::FieldTooLong);
        assert_eq!(single_line("name", "Anna\nPetrova", 100).unwrap_err().code, ErrorCode::InvalidText);
        assert_eq!(single_line("name", "Anna\u{0}", 100).unwrap_err().code, ErrorCode::InvalidText);
        assert_eq!(single_line("name", "\u{202e}annA", 100).unwrap_err().code, ErrorCode::InvalidText);
        assert!(single_line("name", "x".repeat(101).as_str(), 100).unwrap_err().message.contains("name"));
    }

    #[test]
    fn multi_line_text() {
        assert_eq!(multi_line("message", "  Hi\r\nthere\rfriend\n", 100).unwrap().as_deref(), Some("Hi\nthere\nfriend"));
        assert_eq!(multi_line("message", "\n\n", 100).unwrap(), None);
        assert_eq!(multi_line("message", "bell\u{7}", 100).unwrap_err().code, ErrorCode::InvalidText);
        assert_eq!(multi_line("message", &"a".repeat(2001), MAX_MESSAGE_LEN).unwrap_err().code, ErrorCode::FieldTooLong);
    }

    #[test]
    fn every_validation_code_has_both_languages() {
        // The form codes, and the token codes visitors also meet (an expired or forged link).
        for code in VISITOR_CODES.into_iter().chain([ErrorCode::InvalidToken, ErrorCode::TokenExpired]) {
            let ru = message(code, Locale::Ru).expect("ru");
            let en = message(code, Locale::En).expect("en");
            assert_ne!(ru, en);
            assert!(ru.chars().any(|c| ('а'..='я').contains(&c)), "{ru}");
            let key = message_key(code).expect("key");
            let wire = serde_json::to_value(code).unwrap();
            assert_eq!(key.strip_prefix("error."), wire.as_str());
        }
        assert_eq!(message(ErrorCode::Internal, Locale::Ru), None);
        assert_eq!(message_key(ErrorCode::Internal), None);
    }

    proptest::proptest! {
        #[test]
        fn normalised_phones_are_e164(input in "[0-9+()\\- ]{0,30}") {
            if let Ok(phone) = normalize_phone(&input, PhoneRegion::Ru) {
                proptest::prop_assert!(phone.starts_with('+'));
                let digits = &phone[1..];
                proptest::prop_assert!((8..=15).contains(&digits.len()), "{}", phone);
                proptest::prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()));
                proptest::prop_assert_eq!(normalize_phone(&phone, PhoneRegion::Us).ok(), Some(phone.clone()));
            }
        }

        #[test]
        fn normalised_emails_are_fixed_points(input in "[a-zA-Z0-9.@_+-]{1,40}") {
            if let Ok(email) = normalize_email(&input) {
                proptest::prop_assert_eq!(normalize_email(&email).ok(), Some(email.clone()));
                proptest::prop_assert!(email.len() <= MAX_EMAIL_LEN);
            }
        }
    }
}
