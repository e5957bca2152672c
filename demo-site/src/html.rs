//! Small HTML helpers: the one escaping function, price formatting, JSON-LD.

/// Escapes text for use in HTML element content and in quoted attribute values.
/// Every piece of catalog text goes through this function before it reaches a page.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// Russian-style rouble price: `24990` -> `"24 990 ₽"`.
///
/// Plain spaces are used (wrapping is prevented in CSS with `white-space: nowrap`)
/// so that the text on the page is easy to match for tools reading it.
pub fn price(rub: u32) -> String {
    let digits = rub.to_string();
    let mut out = String::with_capacity(digits.len() + 6);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(d);
    }
    out.push_str(" ₽");
    out
}

/// Schema.org price string: `24990` -> `"24990.00"`.
pub fn schema_price(rub: u32) -> String {
    format!("{rub}.00")
}

/// Serialises JSON-LD into a `<script>` element. `</` is written as `<\/` (a valid
/// JSON escape) so that no string value can close the script element early.
pub fn json_ld(value: &serde_json::Value) -> String {
    let json = value.to_string().replace("</", "<\\/");
    format!("<script type=\"application/ld+json\">{json}</script>")
}

/// `href` value for a phone number: `+7 495 120-45-67` -> `tel:+74951204567`.
pub fn tel(phone: &str) -> String {
    let digits: String = phone
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    format!("tel:{digits}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_all_html_specials() {
        assert_eq!(
            esc(r#"<a href="x" title='y'>Tom & Jerry</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jerry&lt;/a&gt;"
        );
        assert_eq!(esc("Коляска «Кроха» — 3 в 1"), "Коляска «Кроха» — 3 в 1");
        assert_eq!(esc("&amp;"), "&amp;amp;");
        assert_eq!(esc(""), "");
    }

    #[test]
    fn formats_prices_russian_style() {
        assert_eq!(price(24990), "24 990 ₽");
        assert_eq!(price(8990), "8 990 ₽");
        assert_eq!(price(64990), "64 990 ₽");
        assert_eq!(price(1_234_567), "1 234 567 ₽");
        assert_eq!(price(390), "390 ₽");
        assert_eq!(price(0), "0 ₽");
        assert_eq!(schema_price(24990), "24990.00");
    }

    #[test]
    fn json_ld_cannot_break_out_of_its_script() {
        let v = serde_json::json!({ "name": "</script><script>alert(1)</script>", "x": "a</b" });
        let tag = json_ld(&v);
        let inner = tag
            .strip_prefix("<script type=\"application/ld+json\">")
            .and_then(|s| s.strip_suffix("</script>"))
            .unwrap_or_default();
        assert!(!inner.contains("</"), "{inner}");
        let back: serde_json::Value = serde_json::from_str(inner).unwrap_or_default();
        assert_eq!(back, v);
    }

    #[test]
    fn phone_links() {
        assert_eq!(tel("+7 495 120-45-67"), "tel:+74951204567");
    }
}
