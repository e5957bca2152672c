use std::borrow::Cow;

use proptest::prelude::*;

use super::*;
use crate::base::crypto::sha256;
use crate::base::ids::client_id_from_bytes;
use crate::prompts::config::SiteConfig;
use crate::prompts::rules::{explain, EvalInput, PromptVerdict};
use crate::visitor::event::{ActiveTime, Event, EventData, PageView};
use crate::visitor::session::Session;

const IDS: usize = 100_000;

/// Visitor ids as the widget makes them (`browser::random_id`: 16 random bytes as hex), here
/// from a hash so the test is repeatable.
fn visitor_ids() -> impl Iterator<Item = String> {
    (0..IDS as u32).map(|n| client_id_from_bytes(&sha256(&n.to_le_bytes())[..16]))
}

/// Each arm's share of `ids`, as a fraction of the total.
fn shares(experiment: &str, arms: usize, ids: impl Iterator<Item = String>) -> Vec<f64> {
    let mut counts = vec![0u64; arms];
    let mut total = 0u64;
    for id in ids {
        counts[assign(experiment, &id, arms)] += 1;
        total += 1;
    }
    counts.into_iter().map(|count| count as f64 / total as f64).collect()
}

#[test]
fn every_arm_gets_its_share_within_one_percent_over_100000_visitors() {
    for arms in 2..=4 {
        let even = 1.0 / arms as f64;
        for (what, share) in [
            ("random ids", shares("spring-words", arms, visitor_ids())),
            // Ids that differ only in their last characters, the worst case for FNV on its own.
            ("sequential ids", shares("spring-words", arms, (0..IDS).map(|n| format!("visitor-{n:08}")))),
        ] {
            let worst = share.iter().map(|s| (s - even).abs()).fold(0.0, f64::max);
            println!("{arms} arms, {what}: shares {share:.4?}, worst off by {worst:.4}");
            assert!(worst < 0.01, "{arms} arms over {what}: {share:?}");
        }
    }
}

#[test]
fn two_experiments_shuffle_visitors_independently() {
    // The joint shares of two 2-arm experiments' arms: independent assignments put a quarter in
    // each cell, and their correlation (phi) is near zero.
    let mut cells = [[0u64; 2]; 2];
    for id in visitor_ids() {
        cells[assign("spring-words", &id, 2)][assign("spring-words-2", &id, 2)] += 1;
    }
    let n = IDS as f64;
    let [[a, b], [c, d]] = cells.map(|row| row.map(|count| count as f64));
    let phi = (a * d - b * c) / ((a + b) * (c + d) * (a + c) * (b + d)).sqrt();
    println!("joint shares {:.4?}, phi {phi:.5}", cells.map(|row| row.map(|count| count as f64 / n)));
    assert!(phi.abs() < 0.01, "phi {phi}");
    for count in cells.iter().flatten() {
        assert!((*count as f64 / n - 0.25).abs() < 0.005, "{cells:?}");
    }
}

proptest! {
    #[test]
    fn the_same_visitor_always_lands_in_the_same_arm(experiment in "[a-z0-9_-]{1,32}", visitor in "\\PC{0,64}", arms in 1usize..=4) {
        let arm = assign(&experiment, &visitor, arms);
        prop_assert!(arm < arms);
        prop_assert_eq!(arm, assign(&experiment, &visitor, arms));
        prop_assert_eq!(assign(&experiment, &visitor, 1), 0);
    }
}

#[test]
fn the_ids_are_not_run_together() {
    // ("ab", "c") and ("a", "bc") are different pairs; among enough visitors some differ.
    let differ = (0..64).filter(|n| assign("ab", &format!("c{n}"), 4) != assign("a", &format!("bc{n}"), 4)).count();
    assert!(differ > 16, "{differ}");
}

fn experiment_json(variants: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"id": "spring", "variants": variants})
}

/// A site with the built-in playbooks.
fn site() -> SiteConfig {
    serde_json::from_value(serde_json::json!({"site": "demo", "name": "Кроха", "origins": ["https://shop.example"]})).expect("a site")
}

fn site_with(prompt: usize, experiment: serde_json::Value) -> Result<SiteConfig, String> {
    let mut config = site();
    config.widget.prompts[prompt].experiment = Some(serde_json::from_value(experiment).map_err(|e| e.to_string())?);
    config.validate().map(|()| config).map_err(|e| e.message)
}

#[test]
fn an_experiment_is_refused_naming_the_field() {
    let words = serde_json::json!({"title": "T", "body": "B", "accept": "A", "dismiss": "D"});
    let cases = [
        (0, serde_json::json!({"id": "Spring!", "variants": [{"id": "a"}]}), "widget.prompts[0].experiment.id:"),
        (0, serde_json::json!({"id": "x".repeat(33), "variants": [{"id": "a"}]}), "widget.prompts[0].experiment.id:"),
        (0, experiment_json(serde_json::json!([])), "widget.prompts[0].experiment.variants:"),
        (0, experiment_json(serde_json::json!([{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}])), "widget.prompts[0].experiment.variants:"),
        (2, experiment_json(serde_json::json!([{"id": "short", "when": "exit_intent"}, {"id": "Long"}])), "widget.prompts[2].experiment.variants[1].id:"),
        (2, experiment_json(serde_json::json!([{"id": "control"}])), "widget.prompts[2].experiment.variants[0].id:"),
        (2, experiment_json(serde_json::json!([{"id": "a"}, {"id": "a"}])), "widget.prompts[2].experiment.variants[1].id:"),
        (3, experiment_json(serde_json::json!([{"id": "a", "copy": {"en": words}}])), "widget.prompts[3].experiment.variants[0].copy.ru:"),
        (
            1,
            experiment_json(serde_json::json!([{"id": "sooner", "when": {"all": ["exit_intent", {"active_seconds_at_least": 60}]}}])),
            "widget.prompts[1].experiment.variants[0].when.all[1].active_seconds_at_least:",
        ),
        (
            0,
            experiment_json(serde_json::json!([{"id": "a", "when": {"answer": {"prompt": "nope", "is": "0-1"}}}])),
            "widget.prompts[0].experiment.variants[0].when.answer.prompt:",
        ),
        // A callback's challenger still needs its consent and after-hours words.
        (1, experiment_json(serde_json::json!([{"id": "a", "copy": {"ru": words, "en": words}}])), "widget.prompts[1].experiment.variants[0].copy.ru.consent:"),
    ];
    for (prompt, experiment, field) in cases {
        let refused = site_with(prompt, experiment.clone()).expect_err(&format!("{experiment} must be refused"));
        assert!(refused.starts_with(field), "{experiment}: {refused}");
    }
    let err = serde_json::from_value::<Experiment>(experiment_json(serde_json::json!([{"id": "a", "position": "top_middle"}])));
    assert!(err.is_err(), "a corner the widget has not got");
    let err = serde_json::from_value::<Experiment>(experiment_json(serde_json::json!([{"id": "a", "priority": 99}])));
    assert!(err.is_err(), "an arm changes words, timing and corner only");
}

fn two_arms() -> PromptDefinition {
    let mut config = site_with(
        3,
        experiment_json(serde_json::json!([{
            "id": "early",
            "copy": {"ru": {"title": "Вопрос?", "body": "Б", "accept": "Да", "dismiss": "Нет"},
                     "en": {"title": "A question?", "body": "B", "accept": "Yes", "dismiss": "No"}},
            "when": {"all": ["operator_online", {"pages_at_least": 1}, {"active_seconds_at_least": 30}]}
        }])),
    )
    .expect("a valid experiment");
    config.widget.prompts.remove(3)
}

/// A visitor in `arm` of `prompt`'s experiment.
fn visitor_in(prompt: &PromptDefinition, arm: &str) -> String {
    visitor_ids().find(|id| prompt.arm_for(id) == Some(arm)).expect("some visitor in each arm")
}

#[test]
fn a_visitor_sees_their_arm_of_the_prompt() {
    let prompt = two_arms();
    let control = visitor_in(&prompt, CONTROL);
    let (seen, arm) = prompt.for_visitor(&control);
    assert!(matches!(seen, Cow::Borrowed(_)), "the control is the prompt itself");
    assert_eq!((arm, seen.when_for(&control)), (Some(CONTROL), &prompt.when));

    let early = visitor_in(&prompt, "early");
    let (seen, arm) = prompt.for_visitor(&early);
    assert_eq!(arm, Some("early"));
    assert_eq!(seen.copy.get(Locale::En).title, "A question?");
    assert_eq!(&seen.when, prompt.when_for(&early));
    assert_ne!(seen.when, prompt.when);
    let PromptDefinition { id, kind, priority, cooldown_days, enabled, .. } = seen.into_owned();
    assert_eq!((id, kind, priority, cooldown_days, enabled), (prompt.id.clone(), prompt.kind.clone(), prompt.priority, prompt.cooldown_days, prompt.enabled));

    let mut without = prompt.clone();
    without.experiment = None;
    assert_eq!(without.arm_for(&early), None);
    assert!(matches!(without.for_visitor(&early), (Cow::Borrowed(_), None)));
}

#[test]
fn the_engine_judges_a_prompt_by_the_timing_of_the_visitors_arm() {
    let prompt = two_arms();
    let config = WidgetConfig { prompts: vec![prompt.clone()], ..site().widget };
    let mut session = Session::new();
    let t0 = 1_790_000_000_000;
    let page = "https://shop.example/p/1".to_owned();
    session.apply(&Event { id: "evt00000001".into(), at: t0, data: EventData::PageView(PageView { url: page.clone(), title: String::new(), referrer: None }) });
    session.apply(&Event { id: "evt00000002".into(), at: t0 + 40_000, data: EventData::ActiveTime(ActiveTime { seconds: 40 }) });
    let verdict = |arm: &str| {
        let input = EvalInput {
            now: t0 + 40_000,
            weekday: crate::base::locale::Weekday::Wed,
            minute_of_day: 12 * 60,
            page_url: page.clone(),
            locale: Locale::Ru,
            operator_online: true,
            exit_intent: false,
            visitor: visitor_in(&prompt, arm),
        };
        explain(&config, &session, &input)[0].1
    };
    // The control waits for three pages and two minutes; the challenger asks sooner.
    assert_eq!(verdict(CONTROL), PromptVerdict::ConditionNotMet);
    assert_eq!(verdict("early"), PromptVerdict::Eligible);
    assert!(config.needs_operator_presence(), "a challenger's timing that reads presence asks for it");
}

#[test]
fn a_one_language_site_serves_its_challengers_words_in_its_language() {
    let mut config = SiteConfig { locales: vec![Locale::En], ..site() };
    config.widget.default_locale = Locale::En;
    config.widget.prompts[3] = two_arms();
    let public = config.public();
    let variant = &public.widget.prompts[3].experiment.as_ref().expect("served").variants[0];
    assert_eq!(variant.copy.as_ref().expect("words").in_locale(Locale::Ru), None);
}

#[test]
fn a_fresh_id_names_the_prompt_and_the_day_and_always_fits() {
    // 2026-03-05 12:00 UTC.
    let at = crate::base::clock::days_from_civil(2026, 3, 5) as u64 * 86_400_000 + 12 * 3_600_000;
    assert_eq!(Experiment::fresh_id("callback", at, "9F3A21c0ffee"), "callback-20260305-9f3a21");
    let long = "a_prompt_id_much_longer_than_thirty_two_characters_allow";
    let id = Experiment::fresh_id(long, at, "deadbeefdeadbeef");
    assert_eq!(id, "a_prompt_id_much-20260305-deadbe");
    assert!(is_valid_experiment_id(&id), "{id}");
    // Two nonces, two experiments, on the same prompt and day.
    assert_ne!(Experiment::fresh_id("callback", at, "aaaaaa"), Experiment::fresh_id("callback", at, "aaaaab"));
}

#[test]
fn starting_an_experiment_gives_variant_b_the_prompts_words_in_the_sites_languages() {
    let mut config = site();
    config.locales = vec![Locale::En];
    config.widget.default_locale = Locale::En;
    let before = config.widget.prompts[0].clone();
    let prompt = &mut config.widget.prompts[0];
    prompt.start_experiment(&config.locales, 0, "abcdef0123");
    let experiment = prompt.experiment.clone().expect("an experiment");
    assert_eq!(experiment.id, format!("{}-19700101-abcdef", &before.id[..before.id.len().min(STEM_LEN)]));
    assert_eq!(experiment.variants.len(), 1);
    let b = &experiment.variants[0];
    assert_eq!((b.id.as_str(), b.when.as_ref()), (FIRST_VARIANT, None), "the prompt's own timing");
    assert_eq!(b.copy, Some(Localized::Only(Locale::En, before.copy.get(Locale::En).clone())), "English only, as the site speaks");
    // What was there is otherwise untouched, and the config is valid as it is.
    assert_eq!(PromptDefinition { experiment: None, ..prompt.clone() }, before);
    assert_eq!(config.validate().map_err(|e| e.message), Ok(()));
}

#[test]
fn adding_and_removing_variants_gives_a_new_id_each_time_and_the_last_one_stops_it() {
    let mut prompt = site().widget.prompts[0].clone();
    let locales = [Locale::Ru, Locale::En];
    assert!(prompt.add_variant(&locales, 0, "111111"), "adding starts an experiment when none runs");
    let ids = |p: &PromptDefinition| p.experiment.as_ref().map(|e| e.variants.iter().map(|v| v.id.clone()).collect::<Vec<_>>());
    assert_eq!(ids(&prompt), Some(vec!["b".to_owned()]));
    assert!(prompt.add_variant(&locales, 0, "222222"));
    assert!(prompt.add_variant(&locales, 0, "333333"));
    assert!(!prompt.add_variant(&locales, 0, "444444"), "three challengers at most");
    assert_eq!(ids(&prompt), Some(vec!["b".to_owned(), "c".to_owned(), "d".to_owned()]));
    assert!(prompt.experiment.as_ref().is_some_and(|e| e.id.ends_with("333333")));
    prompt.remove_variant("c", 0, "555555");
    assert_eq!(ids(&prompt), Some(vec!["b".to_owned(), "d".to_owned()]));
    assert!(prompt.experiment.as_ref().is_some_and(|e| e.id.ends_with("555555")), "a changed list is a new experiment");
    // The next letter free is taken again.
    assert!(prompt.add_variant(&locales, 0, "666666"));
    assert_eq!(ids(&prompt), Some(vec!["b".to_owned(), "d".to_owned(), "c".to_owned()]));
    prompt.remove_variant("nope", 0, "777777");
    assert!(prompt.experiment.as_ref().is_some_and(|e| e.id.ends_with("666666")), "nothing removed, nothing restarted");
    for id in ["b", "d", "c"] {
        prompt.remove_variant(id, 0, "888888");
    }
    assert_eq!(prompt.experiment, None);
}

#[test]
fn keeping_a_variant_makes_its_words_the_prompts_and_ends_the_experiment() {
    let mut prompt = two_arms();
    let before = prompt.clone();
    assert!(!prompt.keep_variant("nope"));
    assert_eq!(prompt, before, "no such variant, nothing changed");
    let early = prompt.experiment.as_ref().unwrap().variants[0].clone();
    assert!(prompt.keep_variant("early"));
    assert_eq!(prompt.experiment, None);
    assert_eq!(Some(&prompt.copy), early.copy.as_ref());
    assert_eq!(Some(&prompt.when), early.when.as_ref(), "what won was its timing too");
    assert_eq!((&prompt.id, &prompt.kind, prompt.cooldown_days), (&before.id, &before.kind, before.cooldown_days));

    // A variant with words in one language only: the other language keeps the prompt's.
    let mut prompt = before.clone();
    let english = prompt.copy.get(Locale::En).clone();
    let mut russian = prompt.copy.get(Locale::Ru).clone();
    russian.title = "Другой вопрос?".into();
    let experiment = prompt.experiment.as_mut().unwrap();
    experiment.variants[0].copy = Some(Localized::Only(Locale::Ru, russian.clone()));
    experiment.variants[0].when = None;
    assert!(prompt.keep_variant("early"));
    assert_eq!(prompt.copy, Localized::Both { ru: russian, en: english });
    assert_eq!(prompt.when, before.when, "no timing of its own: the prompt's stays");
    assert_eq!(prompt.position, None, "no corner of its own: the prompt's stays");
}

/// An arm that moves the card: visitors in it see the prompt in the other corner, with the
/// control's words and timing; the control's visitors see the prompt's own corner; keeping the arm
/// makes its corner the prompt's.
#[test]
fn a_corner_arm_moves_only_the_card() {
    let mut prompt = two_arms();
    prompt.position = Some(Position::BottomRight);
    let experiment = prompt.experiment.as_mut().unwrap();
    experiment.variants.push(Variant { id: "left".into(), copy: None, when: None, position: Some(Position::BottomLeft) });
    let (control, left) = (visitor_in(&prompt, CONTROL), visitor_in(&prompt, "left"));
    assert_eq!(prompt.for_visitor(&control).0.position, Some(Position::BottomRight));
    let (seen, arm) = prompt.for_visitor(&left);
    assert_eq!((arm, seen.position), (Some("left"), Some(Position::BottomLeft)));
    assert_eq!((&seen.copy, &seen.when), (&prompt.copy, &prompt.when), "the control's words and timing");
    // An arm with words but no corner shows the prompt's corner.
    assert_eq!(prompt.for_visitor(&visitor_in(&prompt, "early")).0.position, Some(Position::BottomRight));
    // The cards module reads a visitor's words and corner borrowed: the same as the arm's prompt.
    for visitor in [control, left, visitor_in(&prompt, "early")] {
        let (seen, arm) = (prompt.for_visitor(&visitor).0, prompt.arm_index(&visitor));
        assert_eq!((prompt.copy_of_arm(arm), prompt.corner_of_arm(arm)), (&seen.copy, seen.position));
    }

    let before = prompt.clone();
    assert!(prompt.keep_variant("left"));
    assert_eq!(prompt.position, Some(Position::BottomLeft));
    assert_eq!((&prompt.copy, &prompt.when, prompt.experiment.is_none()), (&before.copy, &before.when, true));

    // Serde and the config's names agree, both ways.
    for corner in Position::ALL {
        assert_eq!(serde_json::to_value(corner).unwrap(), serde_json::json!(corner.key()));
        assert_eq!(Position::from_key(corner.key()), Some(corner));
    }
    assert_eq!(Position::from_key("top_middle"), None);
}

#[test]
fn an_arm_as_the_preview_draws_it() {
    let prompt = two_arms();
    assert!(matches!(prompt.as_arm(0), Cow::Borrowed(_)));
    assert!(matches!(prompt.as_arm(2), Cow::Borrowed(_)), "an arm it does not have is the control");
    assert_eq!(prompt.as_arm(1).copy.get(Locale::En).title, "A question?");
    let early = visitor_in(&prompt, "early");
    assert_eq!(prompt.as_arm(1), prompt.for_visitor(&early).0);
}
