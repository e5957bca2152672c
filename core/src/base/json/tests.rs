use proptest::prelude::*;

use super::*;
use crate::base::error::{ApiError, ErrorCode};
use crate::base::locale::Locale;
use crate::base::money::{Currency, Money};

/// `value` written as serde_json writes it, and read back from serde_json's text.
pub(crate) fn same_as_serde<T>(value: &T)
where
    T: ToJson + FromJson + serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let serde_text = serde_json::to_string(value).unwrap();
    assert_eq!(to_json(value), serde_text);
    assert_eq!(from_json::<T>(&serde_text).as_ref(), Some(value), "{serde_text}");
    let pretty = serde_json::to_string_pretty(value).unwrap();
    assert_eq!(from_json::<T>(&pretty).as_ref(), Some(value), "{pretty}");
}

/// A write-only type (the UI modules send it; the worker reads it with serde): `value` written as
/// serde_json writes it, and serde reads that text back as `value`.
pub(crate) fn writes_as_serde<T>(value: &T)
where
    T: ToJson + serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let text = to_json(value);
    assert_eq!(text, serde_json::to_string(value).unwrap());
    assert_eq!(&serde_json::from_str::<T>(&text).unwrap(), value);
}

#[test]
fn values_parse_as_json_says() {
    assert_eq!(parse(" null "), Some(Value::Null));
    assert_eq!(parse("[true,false, -1.5e3 ,0]"), Some(Value::Arr(vec![
        Value::Bool(true),
        Value::Bool(false),
        Value::Num("-1.5e3"),
        Value::Num("0"),
    ])));
    let object = parse(r#"{"a":{"b":[]},"c":"d"}"#).unwrap();
    assert_eq!(object.get("c"), Some(&Value::Str("d".into())));
    assert_eq!(object.get("a").and_then(|a| a.get("b")), Some(&Value::Arr(vec![])));
    assert_eq!(object.get("x"), None);
    assert_eq!(parse("{}"), Some(Value::Obj(vec![])));
}

#[test]
fn malformed_text_is_refused() {
    for text in [
        "", "nul", "[1,]", "[1 2]", "{\"a\"}", "{\"a\":1,}", "{a:1}", "01", "1.", "-", "1e", ".5", "\"abc", "\"\\x\"",
        "\"a\u{1}b\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\u12\"", "[1] 2", "[",
    ] {
        assert_eq!(parse(text), None, "{text:?}");
    }
    let deep = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 2);
    assert_eq!(parse(&deep), None);
    let fine = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
    assert!(parse(&fine).is_some());
}

#[test]
fn strings_unescape_and_escape_as_serde_does() {
    assert_eq!(from_json::<String>(r#""a\"\\\/\b\f\n\r\t\u0041\u00e9\ud83d\ude00""#).unwrap(), "a\"\\/\u{8}\u{c}\n\r\tAé😀");
    for text in ["", "plain", "«Коляска» 😀", "quote \" backslash \\ slash /", "\u{0}\u{1f}\u{7f}\n\r\t\u{8}\u{c}\u{2028}"] {
        same_as_serde(&text.to_owned());
    }
}

#[test]
fn integers_are_exact_and_out_of_range_ones_refused() {
    for n in [0u64, 9, 10, u64::from(u32::MAX), (1 << 53) + 1, u64::MAX] {
        same_as_serde(&n);
    }
    for n in [0i64, -1, 42, i64::MIN, i64::MAX] {
        same_as_serde(&n);
    }
    same_as_serde(&u16::MAX);
    assert_eq!(from_json::<u64>("18446744073709551616"), None);
    assert_eq!(from_json::<u64>("-1"), None);
    assert_eq!(from_json::<u64>("1.0"), None);
    assert_eq!(from_json::<u64>("1e3"), None);
    assert_eq!(from_json::<u16>("65536"), None);
    assert_eq!(from_json::<i64>("-9223372036854775809"), None);
    assert_eq!(from_json::<u8>("\"1\""), None);
}

#[test]
fn options_lists_and_absent_fields() {
    same_as_serde(&Some(vec![Some(1u32), None]));
    same_as_serde(&Vec::<String>::new());
    let object = parse(r#"{"n":null}"#).unwrap();
    assert_eq!(field::<Option<u64>>(&object, "n"), Some(None));
    assert_eq!(field::<Option<u64>>(&object, "missing"), Some(None));
    assert_eq!(field::<Vec<u64>>(&object, "missing"), None, "a field without a default is required");
    assert_eq!(field::<bool>(&object, "missing"), None);
    assert_eq!(field_or_default::<Vec<u64>>(&object, "missing"), Some(vec![]));
    assert_eq!(field_or_default::<bool>(&object, "missing"), Some(false));
    assert_eq!(field_or_default::<u64>(&object, "n"), None, "null is not a default");
    assert_eq!(field::<u64>(&object, "n"), None);
    assert_eq!(field::<u64>(&Value::Arr(vec![]), "missing"), None, "not an object");
}

#[test]
fn enums_money_and_errors_match_serde() {
    for locale in [Locale::Ru, Locale::En] {
        same_as_serde(&locale);
    }
    for code in <ErrorCode as JsonEnum>::ALL {
        same_as_serde(code);
    }
    assert_eq!(from_json::<ErrorCode>("\"no_such_code\""), None);
    same_as_serde(&Money { minor: -1250, currency: Currency::RUB });
    same_as_serde(&ApiError::new(ErrorCode::RateLimited, "slow down"));
    same_as_serde(&ApiError { field: Some("contact.email".into()), ..ApiError::new(ErrorCode::InvalidEmail, "no @") });
    assert_eq!(snake_case("TranscriptAddressLocked"), "transcript_address_locked");
}

proptest! {
    #[test]
    fn any_string_survives_and_matches_serde(text in any::<String>()) {
        let written = to_json(&text);
        prop_assert_eq!(&written, &serde_json::to_string(&text).unwrap());
        prop_assert_eq!(from_json::<String>(&written), Some(text));
    }

    #[test]
    fn any_text_parses_as_serde_json_does(text in "[ -~]{0,40}") {
        // What serde_json takes as a value, this parser takes; what it refuses, this refuses.
        prop_assert_eq!(parse(&text).is_some(), serde_json::from_str::<serde_json::Value>(&text).is_ok(), "{}", text);
    }
}
