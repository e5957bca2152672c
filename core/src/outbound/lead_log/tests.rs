use super::*;
use crate::leads::lead::tests::{lead, NOW};
use crate::visitor::context::Touch;

fn query(pairs: &[(&str, &str)]) -> Result<LeadFilter, ApiError> {
    LeadQuery::from_pairs(pairs.iter().copied()).filter()
}

#[test]
fn dates_are_utc_days() {
    assert_eq!(day_start_ms("1970-01-01"), None, "years before 2000 are no lead's");
    assert_eq!(day_start_ms("2026-12-01"), Some(1_796_083_200_000));
    assert_eq!(rfc3339(day_start_ms("2024-02-29").unwrap()), "2024-02-29T00:00:00.000Z");
    assert_eq!(rfc3339(day_start_ms("2000-03-01").unwrap()), "2000-03-01T00:00:00.000Z");
    for bad in ["2025-02-29", "2026-13-01", "2026-00-10", "2026-1-01", "01.12.2026", "2026-12-01T00", ""] {
        assert_eq!(day_start_ms(bad), None, "{bad}");
    }
}

#[test]
fn the_filter_reads_its_query_and_refuses_what_it_cannot_read() {
    let all = query(&[("limit", "5"), ("q", "  ")]).unwrap();
    assert!(all.matches(&lead(LeadKind::Callback)) && all.matches(&lead(LeadKind::ChatContact)));
    let e = |pairs: &[(&str, &str)]| query(pairs).unwrap_err();
    assert_eq!(e(&[("kind", "phone_call")]).code, ErrorCode::InvalidQuery);
    assert_eq!(e(&[("kind", "phone_call")]).code.http_status(), 400);
    assert!(e(&[("from", "2026/12/01")]).message.starts_with("from:"));
    assert!(e(&[("to", "yesterday")]).message.starts_with("to:"));
    assert!(e(&[("from", "2026-12-02"), ("to", "2026-12-01")]).message.contains("after"));
    let long = "x".repeat(201);
    assert!(e(&[("q", long.as_str())]).message.starts_with("q:"));
    // One day, both ends inclusive.
    let day = query(&[("from", "2026-12-01"), ("to", "2026-12-01")]).unwrap();
    assert_eq!((day.from_ms, day.until_ms), (1_796_083_200_000, 1_796_083_200_000 + DAY_MS));
}

#[test]
fn kind_dates_prompt_source_and_words_each_narrow_the_list() {
    let callback = lead(LeadKind::Callback);
    let mut chat = lead(LeadKind::ChatContact);
    chat.prompt = None;
    chat.context.first_touch = None;
    let only = |pairs: &[(&str, &str)]| {
        let f = query(pairs).unwrap();
        [&callback, &chat].into_iter().filter(|l| f.matches(l)).map(|l| l.kind).collect::<Vec<_>>()
    };
    assert_eq!(only(&[("kind", "callback")]), vec![LeadKind::Callback]);
    assert_eq!(only(&[("prompt", "compare-2")]), vec![LeadKind::Callback]);
    assert_eq!(only(&[("prompt", "compare")]), vec![], "a prompt is matched exactly");
    assert_eq!(only(&[("source", "YANDEX")]), vec![LeadKind::Callback]);
    assert_eq!(only(&[("source", "direct")]), vec![LeadKind::ChatContact]);
    assert_eq!(only(&[("q", "анна 18:00")]), vec![LeadKind::Callback], "every word, any field, any case");
    assert_eq!(only(&[("q", "+7 916 123")]), vec![LeadKind::Callback, LeadKind::ChatContact], "a phone by its digits");
    assert_eq!(only(&[("q", "visitor01")]).len(), 2);
    assert_eq!(only(&[("q", "nobody")]), vec![]);
    // NOW is 2026-09-21 (UTC).
    assert_eq!(rfc3339(NOW), "2026-09-21T14:13:20.000Z");
    assert_eq!(only(&[("from", "2026-09-21"), ("to", "2026-09-21")]).len(), 2);
    assert_eq!(only(&[("from", "2026-09-22")]), vec![]);
    assert_eq!(only(&[("to", "2026-09-20")]), vec![]);
}

#[test]
fn the_source_is_the_first_touch_in_one_line() {
    let mut l = lead(LeadKind::Callback);
    assert_eq!(lead_source(&l), "yandex / cpc / strollers_spring");
    l.context.first_touch = None;
    l.context.last_touch = Some(Touch { referrer: Some("https://www.google.com/".into()), landing_page: "https://shop.example/".into(), ..Touch::default() });
    assert_eq!(lead_source(&l), "www.google.com");
    l.context.last_touch = None;
    assert_eq!(lead_source(&l), "direct");
}

#[test]
fn cells_that_a_spreadsheet_would_run_are_defused_and_every_cell_is_quoted() {
    assert_eq!(csv_cell("Анна"), "\"Анна\"");
    assert_eq!(csv_cell("=HYPERLINK(\"http://evil\",\"x\")"), "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\"");
    for risky in ["+7916", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
        assert!(csv_cell(risky).starts_with("\"'"), "{risky:?}");
    }
    assert_eq!(csv_cell("a,b\nc"), "\"a,b\nc\"");
    assert_eq!(csv_cell(" =x"), "\" =x\"", "only the first character counts");
}

#[test]
fn a_row_has_every_column_and_the_consent_text_word_for_word() {
    let mut l = lead(LeadKind::Callback);
    l.contact.name = Some("=cmd|' /C calc'!A0".into());
    assert!(csv_header().starts_with("\u{feff}\"id\",\"created_at\""));
    assert!(csv_header().ends_with("\"visitor\"\r\n"));
    let row = csv_row(&l);
    assert!(row.ends_with("\r\n"));
    assert_eq!(row.matches("\",\"").count(), CSV_COLUMNS.len() - 1, "{row}");
    assert!(row.contains("\"'=cmd|' /C calc'!A0\""), "{row}");
    assert!(row.contains("\"'+79161234567\""), "{row}");
    assert!(row.contains("\"Согласен получить одно письмо со сравнением\",\"v3\",\"no\""), "{row}");
    assert!(row.contains(&format!("\"{}\",\"2026-09-21T14:13:20.000Z\",\"callback\",\"compare-2\"", l.id)), "{row}");
    assert!(row.contains("\"yandex / cpc / strollers_spring\""));
}

#[test]
fn kinds_and_purposes_read_and_write_their_wire_names() {
    for kind in LeadKind::ALL {
        let wire = serde_json::to_value(kind).unwrap();
        assert_eq!(wire, kind.as_str());
        assert_eq!(LeadKind::parse(kind.as_str()), Some(kind));
        let purpose = kind.consent_purpose();
        assert_eq!(serde_json::to_value(purpose).unwrap(), purpose.as_str());
    }
    assert_eq!(serde_json::to_value(crate::leads::consent::ConsentPurpose::Marketing).unwrap(), "marketing");
    assert_eq!(LeadKind::parse("Callback"), None);
}
