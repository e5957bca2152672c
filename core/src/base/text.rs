//! Length limits shared by several domains, and the length checks every validator uses.

use crate::base::error::{ApiError, ErrorCode, Mistake};

/// Longest URL or referrer kept.
pub const MAX_URL_LEN: usize = 2048;
/// Longest product id (SKU) kept.
pub const MAX_PRODUCT_ID_LEN: usize = 128;
/// Longest product name kept.
pub const MAX_PRODUCT_NAME_LEN: usize = 256;
/// Longest product category kept.
pub const MAX_CATEGORY_LEN: usize = 64;

/// Bounds the length of an opaque string (an id, a URL) without altering it.
pub fn check_len(field: &str, value: &str, max_chars: usize) -> Result<(), ApiError> {
    check_len_as(ErrorCode::FieldTooLong, field, value, max_chars)
}

/// [`check_len`] for a validator that reports every mistake with one code (an invalid event).
pub fn check_len_as(code: ErrorCode, field: &str, value: &str, max_chars: usize) -> Result<(), ApiError> {
    len_within(code, field, value, max_chars)
}

/// [`check_len_as`] for any [`Mistake`].
pub fn len_within<E: Mistake>(code: ErrorCode, field: &str, value: &str, max_chars: usize) -> Result<(), E> {
    if value.chars().count() > max_chars {
        return Err(E::new(code, || format!("{field}: at most {max_chars} characters")));
    }
    Ok(())
}

/// `n` in decimal. The widget's first load writes its few numbers with this rather than
/// `format!`/`to_string`, so it carries no `core::fmt` (issue 16: ~2 KB of wasm).
pub fn decimal(mut n: u64) -> String {
    let mut digits = Vec::new();
    loop {
        digits.push(b'0' + (n % 10) as u8);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits.iter().rev().map(|&d| char::from(d)).collect()
}

/// The number `text` writes in decimal digits only (no sign, no spaces); `None` for anything else
/// or past `u64`. One small loop where `str::parse` is a body per integer type (issue 16: two of
/// them were ~0.8 KB of the widget's first load).
pub fn parse_digits(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    text.bytes().try_fold(0u64, |n, b| {
        let digit = b.checked_sub(b'0').filter(|d| *d < 10)?;
        n.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// `value` cut to at most `max` characters (never in the middle of a character).
pub fn truncate_chars(value: &str, max: usize) -> String {
    match value.char_indices().nth(max) {
        Some((cut, _)) => value[..cut].to_owned(),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_digits_reads_digits_only() {
        assert_eq!(parse_digits("0"), Some(0));
        assert_eq!(parse_digits("09"), Some(9));
        assert_eq!(parse_digits("18446744073709551615"), Some(u64::MAX));
        for bad in ["", "18446744073709551616", "+5", "-1", "1 2", "1.5", "١"] {
            assert_eq!(parse_digits(bad), None, "{bad}");
        }
    }

    #[test]
    fn decimal_writes_what_to_string_writes() {
        for n in [0, 1, 9, 10, 99, 100, 12_345, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate_chars("коляска", 3), "кол");
        assert_eq!(truncate_chars("abc", 10), "abc");
    }
}
