//! `docs/config-reference.md` against the config's types, so the reference cannot drift.
//!
//! The field names come from exhaustive destructuring ([`fields!`]) and the values of each enum
//! from exhaustive matches ([`variants!`]): a field or a variant added to a config type does not
//! compile here until it is named, and then fails until the reference documents it. The
//! serialised configs (the built-in playbooks and the reference's own example) catch a serde
//! rename the names alone would miss.

use std::collections::BTreeSet;

use serde_json::Value;

use super::*;
use crate::prompts::hours::OpeningHours;
use crate::prompts::rules::PriceRange;
use crate::visitor::context::AgeRange;

const REFERENCE: &str = include_str!("../../../../docs/config-reference.md");

/// The field names of a struct, as a compile-time exhaustive list.
macro_rules! fields {
    ($ty:ident { $($field:ident),* $(,)? }) => {{
        #[allow(dead_code)]
        fn exhaustive(value: &$ty) {
            let $ty { $($field: _),* } = value;
        }
        vec![$(stringify!($field)),*]
    }};
}

/// The variant names of an enum in the config's spelling (snake_case), exhaustively.
macro_rules! variants {
    ($ty:ident { $($variant:ident),* $(,)? }) => {{
        #[allow(dead_code)]
        fn exhaustive(value: &$ty) {
            match value {
                $($ty::$variant { .. } => {})*
            }
        }
        vec![$(snake_case(stringify!($variant))),*]
    }};
}

fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn under(prefix: &str, names: Vec<&str>) -> Vec<String> {
    names.into_iter().map(|name| format!("{prefix}{name}")).collect()
}

/// Every leaf path of the config as the reference writes it, from the types.
fn paths_from_types() -> BTreeSet<String> {
    let mut paths = Vec::new();
    for field in fields!(SiteConfig { site, name, origins, widget, locales }) {
        match field {
            "widget" => {}
            "origins" | "locales" => paths.push(format!("{field}[]")),
            other => paths.push(other.to_owned()),
        }
    }
    let widget = fields!(WidgetConfig {
        default_locale,
        theme,
        consent,
        timezone,
        business_hours,
        callback_minutes,
        default_region,
        exclude_paths,
        guardrails,
        chat_sound,
        prompts,
        test_timing,
    });
    for field in widget {
        match field {
            "theme" => paths.extend(under("widget.theme.", fields!(Theme { brand_color, position }))),
            "business_hours" => {
                let days = fields!(BusinessHours { mon, tue, wed, thu, fri, sat, sun });
                assert_eq!(days, ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "the reference writes <day> for these");
                paths.extend(under("widget.business_hours.<day>.", fields!(OpeningHours { open, close })));
            }
            "guardrails" => paths.extend(under(
                "widget.guardrails.",
                fields!(Guardrails { min_dwell_seconds, max_prompts_per_visit, default_cooldown_days }),
            )),
            "test_timing" => paths.extend(under("widget.test_timing.", fields!(TestTiming { time_scale }))),
            "exclude_paths" => paths.push("widget.exclude_paths[]".into()),
            "prompts" => {
                paths.push("widget.prompts[]".into());
                paths.extend(prompt_paths("widget.prompts[]."));
            }
            other => paths.push(format!("widget.{other}")),
        }
    }
    paths.into_iter().collect()
}

fn prompt_paths(prefix: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for field in fields!(PromptDefinition { id, kind, copy, priority, cooldown_days, when, enabled, experiment, position }) {
        match field {
            "kind" => {
                paths.push(format!("{prefix}kind"));
                paths.extend(question_paths(&format!("{prefix}kind.question.")));
            }
            "copy" => paths.extend(copy_paths(&format!("{prefix}copy.<lang>."))),
            "experiment" => {
                for part in fields!(Experiment { id, variants }) {
                    match part {
                        "variants" => {
                            let variant = format!("{prefix}experiment.variants[]");
                            paths.push(variant.clone());
                            for part in fields!(Variant { id, copy, when, position }) {
                                match part {
                                    "copy" => paths.extend(copy_paths(&format!("{variant}.copy.<lang>."))),
                                    other => paths.push(format!("{variant}.{other}")),
                                }
                            }
                        }
                        other => paths.push(format!("{prefix}experiment.{other}")),
                    }
                }
            }
            other => paths.push(format!("{prefix}{other}")),
        }
    }
    paths
}

fn question_paths(prefix: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for field in fields!(Question { question, choices }) {
        match field {
            "question" => paths.push(format!("{prefix}question.<lang>")),
            _ => {
                let choice = format!("{prefix}choices[]");
                paths.push(choice.clone());
                for part in fields!(Choice { value, label, highlight }) {
                    match part {
                        "label" => paths.push(format!("{choice}.label.<lang>")),
                        "highlight" => {
                            for part in fields!(Highlight { suits_age, note }) {
                                match part {
                                    "note" => paths.push(format!("{choice}.highlight.note.<lang>")),
                                    _ => paths.extend(under(&format!("{choice}.highlight.suits_age."), fields!(AgeRange { min_months, max_months }))),
                                }
                            }
                        }
                        other => paths.push(format!("{choice}.{other}")),
                    }
                }
            }
        }
    }
    paths
}

fn copy_paths(prefix: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for field in fields!(PromptCopy { title, body, accept, dismiss, consent, after_hours, answered }) {
        match field {
            "consent" => paths.extend(under(&format!("{prefix}consent."), fields!(ConsentCopy { text, consent_version }))),
            "after_hours" => paths.extend(under(&format!("{prefix}after_hours."), fields!(AfterHoursCopy { title, body, accept }))),
            "answered" => {
                paths.push(format!("{prefix}answered[]"));
                for part in fields!(AnsweredCopy { answer, title, body }) {
                    match part {
                        "answer" => paths.extend(under(&format!("{prefix}answered[].answer."), fields!(AnswerIs { prompt, is }))),
                        other => paths.push(format!("{prefix}answered[].{other}")),
                    }
                }
            }
            other => paths.push(format!("{prefix}{other}")),
        }
    }
    paths
}

/// The first cell of each row of the table under `heading`, without its backticks.
fn table(heading: &str) -> Vec<(String, String)> {
    let section = REFERENCE.split(&format!("\n## {heading}\n")).nth(1).unwrap_or_else(|| panic!("the reference has a section {heading:?}"));
    let section = section.split("\n## ").next().unwrap_or_default();
    section
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let first = line.trim_start_matches("| `");
            let (key, rest) = first.split_once('`').expect("a first cell in backticks");
            (key.to_owned(), rest.to_owned())
        })
        .collect()
}

/// The reference's complete example.
fn example() -> SiteConfig {
    let block = REFERENCE.split("```json\n").nth(1).and_then(|rest| rest.split("\n```").next()).expect("the reference's json example");
    serde_json::from_str(block).unwrap_or_else(|e| panic!("the reference's example does not read: {e}"))
}

/// The documented paths a serialised config uses; a condition's inside is the conditions table's.
fn paths_in(value: &Value, path: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let key = match key.as_str() {
                    "ru" | "en" => "<lang>",
                    "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun" if path.ends_with("business_hours") => "<day>",
                    other => other,
                };
                let next = if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") };
                if next.ends_with(".when") {
                    out.insert(next);
                } else {
                    paths_in(inner, &next, out);
                }
            }
        }
        Value::Array(items) => {
            out.insert(format!("{path}[]"));
            for item in items {
                if item.is_object() {
                    paths_in(item, &format!("{path}[]"), out);
                }
            }
        }
        _ => {
            out.insert(path.to_owned());
        }
    }
}

fn documented_fields() -> BTreeSet<String> {
    table("Fields").into_iter().map(|(path, _)| path).collect()
}

#[test]
fn every_field_of_the_config_types_is_in_the_reference_and_nothing_else() {
    let documented = documented_fields();
    let typed = paths_from_types();
    let missing: Vec<_> = typed.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&typed).collect();
    assert!(missing.is_empty(), "docs/config-reference.md lacks these fields: {missing:?}");
    assert!(unknown.is_empty(), "docs/config-reference.md lists fields the config does not have: {unknown:?}");
}

#[test]
fn the_serialised_configs_use_only_documented_paths() {
    let documented = documented_fields();
    let builtin = SiteConfig {
        site: "shop".into(),
        name: "Shop".into(),
        origins: vec!["https://shop.example".into()],
        widget: WidgetConfig::default(),
        locales: Locale::ALL.to_vec(),
    };
    for (what, config) in [("the built-in playbooks", builtin), ("the reference's example", example())] {
        let mut used = BTreeSet::new();
        paths_in(&serde_json::to_value(&config).expect("a config serialises"), "", &mut used);
        let undocumented: Vec<_> = used.difference(&documented).collect();
        assert!(undocumented.is_empty(), "{what} serialise paths the reference does not list: {undocumented:?}");
    }
}

#[test]
fn the_reference_example_is_a_valid_config_using_every_field_an_owner_sets() {
    let config = example();
    config.validate().unwrap_or_else(|e| panic!("the reference's example is refused: {}", e.message));
    let mut used = BTreeSet::new();
    paths_in(&serde_json::to_value(&config).expect("a config serialises"), "", &mut used);
    let unused: Vec<_> = documented_fields()
        .into_iter()
        // Test timing is the harness's, not an owner's.
        .filter(|path| !used.contains(path) && !path.starts_with("widget.test_timing"))
        .collect();
    assert!(unused.is_empty(), "the reference's example should show these fields too: {unused:?}");
}

#[test]
fn every_value_of_the_config_enums_is_documented_on_its_row() {
    let rows: Vec<(String, String)> = table("Fields");
    let row = |path: &str| rows.iter().find(|(p, _)| p == path).map(|(_, rest)| rest.clone()).unwrap_or_default();
    let cases: [(&str, Vec<String>); 7] = [
        ("locales[]", variants!(Locale { Ru, En })),
        ("widget.default_locale", variants!(Locale { Ru, En })),
        ("widget.theme.position", variants!(Position { BottomRight, BottomLeft })),
        ("widget.prompts[].position", variants!(Position { BottomRight, BottomLeft })),
        ("widget.prompts[].experiment.variants[].position", variants!(Position { BottomRight, BottomLeft })),
        ("widget.consent", variants!(ConsentMode { Implied, Required })),
        ("widget.prompts[].kind", variants!(PromptKind { ComparisonEmail, Callback, Question, ChatInvitation })),
    ];
    for (path, values) in cases {
        let text = row(path);
        for value in values {
            assert!(text.contains(&format!("`{value}`")), "the reference's row {path} does not name `{value}`");
        }
    }
}

#[test]
fn every_condition_is_documented_with_an_example_that_reads_as_itself() {
    let names = variants!(Condition {
        All,
        Any,
        Not,
        ProductsViewedAtLeast,
        DistinctProductsAtLeast,
        SameProductViewedAtLeast,
        ProductCategory,
        PriceBetween,
        ActiveSecondsAtLeast,
        PagesAtLeast,
        ExitIntent,
        UrlMatches,
        ReturningVisitor,
        OperatorOnline,
        WithinBusinessHours,
        Locale,
        Answer,
    });
    let rows = table("Conditions");
    let documented: Vec<String> = rows.iter().map(|(name, _)| name.clone()).collect();
    assert_eq!(documented, names, "the conditions table lists exactly the conditions, in the type's order");
    for (name, rest) in rows {
        let example = rest.split('`').nth(1).unwrap_or_else(|| panic!("the row {name} has an example in backticks"));
        let condition: Condition = serde_json::from_str(example).unwrap_or_else(|e| panic!("the example of {name} does not read: {e}"));
        let written = serde_json::to_value(&condition).expect("a condition serialises");
        let tag = written.as_str().map(str::to_owned).or_else(|| written.as_object().and_then(|m| m.keys().next().cloned()));
        assert_eq!(tag.as_deref(), Some(name.as_str()), "the example of {name} is a condition of another kind");
    }
    // The price range's fields are documented in the price_between row.
    let price = rows_text("Conditions", "price_between");
    for field in fields!(PriceRange { min, max, currency }) {
        assert!(price.contains(&format!("`{field}`")), "the price_between row does not explain `{field}`");
    }
}

fn rows_text(heading: &str, key: &str) -> String {
    table(heading).into_iter().find(|(k, _)| k == key).map(|(_, rest)| rest).unwrap_or_default()
}
