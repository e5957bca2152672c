use super::*;
use crate::base::locale::Weekday;
use crate::prompts::hours::OpeningHours;

fn config() -> SiteConfig {
    SiteConfig {
        site: "demo".into(),
        name: "Кроха".into(),
        origins: vec!["https://shop.example".into(), "http://127.0.0.1:8787".into()],
        widget: WidgetConfig::default(),
        locales: Locale::ALL.to_vec(),
    }
}

#[test]
fn presence_is_fetched_only_for_sites_whose_rules_read_it() {
    let mut widget = WidgetConfig::default();
    assert!(widget.needs_operator_presence(), "the built-in chat invitation waits for an operator");
    widget.prompts.retain(|prompt| prompt.kind != PromptKind::ChatInvitation);
    assert!(!widget.needs_operator_presence());
    widget.prompts[0].when = Condition::Not(Box::new(Condition::OperatorOnline));
    assert!(widget.needs_operator_presence(), "an offer for when nobody is online reads it too");
}

#[test]
fn minimal_json_gets_defaults() {
    let parsed: SiteConfig =
        serde_json::from_str(r#"{"site":"demo","name":"Кроха","origins":["https://shop.example"]}"#).unwrap();
    assert_eq!(parsed.widget.theme.brand_color, "#1f6feb");
    assert_eq!(parsed.widget.consent, ConsentMode::Implied);
    assert_eq!(parsed.widget.default_locale, Locale::Ru);
    parsed.validate().unwrap();
}

#[test]
fn unknown_fields_are_typos_and_refused() {
    let err = serde_json::from_str::<SiteConfig>(
        r##"{"site":"demo","name":"x","origins":["https://a.b"],"widget":{"theme":{"brand_colour":"#000000"}}}"##,
    )
    .unwrap_err();
    assert!(err.to_string().contains("brand_colour"), "{err}");
}

#[test]
fn refuses_bad_configs() {
    let bad = [
        SiteConfig { site: "Demo!".into(), ..config() },
        SiteConfig { name: "  ".into(), ..config() },
        SiteConfig { origins: vec![], ..config() },
        SiteConfig { origins: vec!["https://shop.example/".into()], ..config() },
        SiteConfig { origins: vec!["https://Shop.example".into()], ..config() },
        SiteConfig { origins: vec!["ftp://shop.example".into()], ..config() },
        SiteConfig { origins: vec!["https://shop.example:80a".into()], ..config() },
        SiteConfig {
            widget: WidgetConfig { theme: Theme { brand_color: "red".into(), ..Theme::default() }, ..WidgetConfig::default() },
            ..config()
        },
    ];
    for config in bad {
        assert_eq!(config.validate().expect_err("must be refused").code, ErrorCode::InvalidConfig, "{config:?}");
    }
}

#[test]
fn origin_check_is_exact() {
    let config = config();
    assert!(config.allows_origin("https://shop.example"));
    assert!(config.allows_origin("HTTPS://SHOP.EXAMPLE"));
    assert!(config.allows_origin("http://127.0.0.1:8787"));
    assert!(!config.allows_origin("http://127.0.0.1:8788"));
    assert!(!config.allows_origin("https://shop.example.evil.com"));
    assert!(!config.allows_origin("https://evilshop.example"));
    assert!(!config.allows_origin("null"));
    assert!(!config.allows_origin(""));
}

#[test]
fn chat_sound_is_off_unless_asked_for_and_reaches_the_widget() {
    let parsed: SiteConfig =
        serde_json::from_str(r#"{"site":"demo","name":"Кроха","origins":["https://shop.example"]}"#).unwrap();
    assert!(!parsed.widget.chat_sound, "off by default");
    let on: SiteConfig =
        serde_json::from_str(r#"{"site":"demo","name":"x","origins":["https://a.b"],"widget":{"chat_sound":true}}"#).unwrap();
    assert!(on.widget.chat_sound);
    on.validate().unwrap();
    // The widget reads it from the public config.
    assert_eq!(serde_json::to_value(on.public()).unwrap()["widget"]["chat_sound"], true);
    for bad in [r#""yes""#, "1", "null"] {
        let json = format!(r#"{{"site":"demo","name":"x","origins":["https://a.b"],"widget":{{"chat_sound":{bad}}}}}"#);
        assert!(serde_json::from_str::<SiteConfig>(&json).is_err(), "{bad} is not a boolean");
    }
}

#[test]
fn public_config_hides_origins() {
    let public = serde_json::to_value(config().public()).unwrap();
    assert!(public.get("origins").is_none());
    assert_eq!(public["name"], "Кроха");
}

#[test]
fn default_config_has_the_playbooks_validates_and_round_trips() {
    let widget = WidgetConfig::default();
    let ids: Vec<&str> = widget.prompts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["compare_by_email", "callback", "child_age", "chat_invitation"]);
    widget.validate().unwrap();
    config().validate().unwrap();
    let json = serde_json::to_string(&config()).unwrap();
    assert!(json.len() < MAX_CONFIG_BYTES);
    let back: SiteConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, config());
    // A config that leaves the new fields out gets exactly the defaults.
    let minimal: WidgetConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(minimal, WidgetConfig::default());
    let silent: WidgetConfig = serde_json::from_str(r#"{"prompts":[]}"#).unwrap();
    assert!(silent.prompts.is_empty());
    silent.validate().unwrap();
}

#[test]
fn prompt_and_condition_wire_shapes() {
    let json = r#"{"id":"strollers_compare","kind":"comparison_email",
        "copy":{"ru":{"title":"Т","body":"Б","accept":"Да","dismiss":"Нет","consent":{"text":"Согласие","consent_version":"v1"}},
                "en":{"title":"T","body":"B","accept":"Yes","dismiss":"No","consent":{"text":"Consent","consent_version":"v1"}}},
        "cooldown_days":14,
        "when":{"all":["exit_intent",{"distinct_products_at_least":2},{"url_matches":"/product/**"},
                       {"not":{"answer":{"prompt":"child_age","is":"3-plus"}}},
                       {"price_between":{"min":1000000,"currency":"RUB"}},{"locale":"ru"}]}}"#;
    let prompt: PromptDefinition = serde_json::from_str(json).unwrap();
    let mut widget = WidgetConfig::default();
    widget.prompts.insert(0, prompt);
    widget.validate().unwrap();
    let question = serde_json::to_value(&widget.prompt("child_age").unwrap().kind).unwrap();
    assert_eq!(question["question"]["choices"][1]["value"], "0-1");
    assert_eq!(question["question"]["question"]["ru"], "Сколько лет ребёнку?");
}

#[test]
fn widget_validation_names_the_field() {
    let with = |edit: fn(&mut WidgetConfig)| {
        let mut widget = WidgetConfig::default();
        edit(&mut widget);
        SiteConfig { widget, ..config() }.validate().expect_err("must be refused").message
    };
    let cases: Vec<(String, &str)> = vec![
        (with(|w| w.timezone = "GMT+3".into()), "widget.timezone:"),
        (with(|w| w.business_hours.mon = Some(OpeningHours { open: 600, close: 540 })), "widget.business_hours.mon:"),
        (with(|w| w.business_hours.sun = Some(OpeningHours { open: 0, close: 1441 })), "widget.business_hours.sun.close:"),
        (with(|w| w.callback_minutes = 0), "widget.callback_minutes:"),
        (with(|w| w.default_region = "ru".into()), "widget.default_region:"),
        (with(|w| w.exclude_paths = vec!["/checkout/**".into(), "cart".into()]), "widget.exclude_paths[1]:"),
        (with(|w| w.guardrails.min_dwell_seconds = 5), "widget.guardrails.min_dwell_seconds:"),
        (with(|w| w.guardrails.max_prompts_per_visit = 10), "widget.guardrails.max_prompts_per_visit:"),
        (with(|w| w.guardrails.default_cooldown_days = 0), "widget.guardrails.default_cooldown_days:"),
        (with(|w| w.prompts[1].id = "compare_by_email".into()), "widget.prompts[1].id:"),
        (with(|w| w.prompts[0].id = "Compare Me".into()), "widget.prompts[0].id:"),
        (with(|w| w.prompts[0].cooldown_days = Some(0)), "widget.prompts[0].cooldown_days:"),
        (with(|w| w.prompts[0].copy.in_locale_mut(Locale::En).unwrap().title = " ".into()), "widget.prompts[0].copy.en.title:"),
        (with(|w| w.prompts[0].copy.in_locale_mut(Locale::Ru).unwrap().consent = None), "widget.prompts[0].copy.ru.consent:"),
        (with(|w| w.prompts[1].copy.in_locale_mut(Locale::En).unwrap().after_hours = None), "widget.prompts[1].copy.en.after_hours:"),
        (with(|w| w.prompts[3].copy.in_locale_mut(Locale::Ru).unwrap().after_hours = w.prompts[1].copy.get(Locale::Ru).after_hours.clone()), "widget.prompts[3].copy.ru.after_hours:"),
        (
            with(|w| {
                if let PromptKind::Question(q) = &mut w.prompts[2].kind {
                    q.choices[1].value = "expecting".into();
                }
            }),
            "widget.prompts[2].kind.question.choices[1].value:",
        ),
        (
            with(|w| {
                if let PromptKind::Question(q) = &mut w.prompts[2].kind {
                    q.choices.truncate(1);
                }
            }),
            "widget.prompts[2].kind.question.choices:",
        ),
        (
            with(|w| w.prompts[3].when = Condition::All(vec![Condition::OperatorOnline, Condition::UrlMatches("x".into())])),
            "widget.prompts[3].when.all[1].url_matches:",
        ),
        (with(|w| w.prompts[3].when = Condition::Any(vec![])), "widget.prompts[3].when.any:"),
        (
            with(|w| {
                w.prompts[3].when =
                    Condition::Not(Box::new(Condition::Answer(AnswerIs { prompt: "callback".into(), is: "x".into() })))
            }),
            "widget.prompts[3].when.not.answer.prompt:",
        ),
        (
            with(|w| {
                w.prompts[3].when = Condition::Answer(AnswerIs { prompt: "child_age".into(), is: "teen".into() })
            }),
            "widget.prompts[3].when.answer.is:",
        ),
        (
            with(|w| {
                w.prompts[3].when = Condition::PriceBetween(crate::prompts::rules::PriceRange { min: Some(5), max: Some(1), currency: None })
            }),
            "widget.prompts[3].when.price_between:",
        ),
        (
            with(|w| {
                let mut deep = Condition::ExitIntent;
                for _ in 0..MAX_CONDITION_DEPTH {
                    deep = Condition::Not(Box::new(deep));
                }
                w.prompts[3].when = deep;
            }),
            "widget.prompts[3].when",
        ),
    ];
    for (message, path) in cases {
        assert!(message.starts_with(path), "{message:?} should start with {path:?}");
    }
}

#[test]
fn business_hours_and_copy_rendering() {
    let widget = WidgetConfig::default();
    assert!(widget.business_hours.is_open(Weekday::Mon, 9 * 60));
    assert!(!widget.business_hours.is_open(Weekday::Mon, 21 * 60));
    assert!(!widget.business_hours.is_open(Weekday::Sun, 12 * 60));
    assert_eq!(Weekday::from_js_day(0), Some(Weekday::Sun));
    assert_eq!(Weekday::from_js_day(7), None);
    let callback = widget.prompt("callback").unwrap();
    let open = widget.render_copy(&callback.copy, Locale::Ru, CopyVariant::Regular, &[]);
    assert!(open.body.contains("в течение 15 минут"), "{}", open.body);
    let closed = widget.render_copy(&callback.copy, Locale::En, CopyVariant::AfterHours, &[]);
    assert_eq!(closed.accept, "Choose a time");
    assert_eq!(closed.dismiss, "I'm fine, thanks");
    assert_eq!(closed.consent.map(|c| c.consent_version), Some(crate::prompts::playbooks::CALLBACK_CONSENT_VERSION.to_owned()));
}

#[test]
fn locale_from_html_lang() {
    assert_eq!(Locale::from_language_tag("en-GB"), Some(Locale::En));
    assert_eq!(Locale::from_language_tag("RU"), Some(Locale::Ru));
    assert_eq!(Locale::from_language_tag("de"), None);
    assert_eq!(Locale::from_language_tag(""), None);
}

#[test]
fn an_origin_listed_twice_is_refused_naming_it() {
    let twice = SiteConfig { origins: vec!["https://shop.example".into(), "https://shop.example".into()], ..config() };
    let err = twice.validate().expect_err("a repeated origin");
    assert_eq!(err.code, ErrorCode::InvalidConfig);
    assert!(err.message.contains("\"https://shop.example\" is listed twice"), "{}", err.message);
    let taken = origin_taken("https://shop.example", "other");
    assert_eq!((taken.code, taken.http_status()), (ErrorCode::OriginTaken, 409));
    assert!(taken.message.contains("\"other\""), "{}", taken.message);
}

fn english_only() -> SiteConfig {
    serde_json::from_value(serde_json::json!({
        "site": "shop", "name": "Baby Things", "origins": ["https://shop.example"], "locales": ["en"],
        "widget": {"default_locale": "en", "prompts": [{
            "id": "callback", "kind": "callback",
            "copy": {"en": {"title": "Would a call help?", "body": "We call within {minutes} minutes.", "accept": "Call me",
                            "dismiss": "No, thanks", "consent": {"text": "One call about your question.", "consent_version": "v1"},
                            "after_hours": {"title": "We'll call later", "body": "Pick a time.", "accept": "Choose a time"}}},
            "when": {"all": [{"distinct_products_at_least": 1}, {"active_seconds_at_least": 300}]}
        }]}
    }))
    .expect("an English-only config")
}

#[test]
fn an_english_only_shop_writes_english_only() {
    let config = english_only();
    config.validate().expect("English only is a whole config");
    // Written back as it was read: no Russian appears.
    let json = serde_json::to_value(&config).unwrap();
    assert_eq!(json["locales"], serde_json::json!(["en"]));
    assert!(json["widget"]["prompts"][0]["copy"].get("ru").is_none(), "{json}");
    assert_eq!(serde_json::from_value::<SiteConfig>(json).unwrap(), config);
    // The widget falls back to the words the shop wrote, whatever the visitor's language.
    let copy = &config.widget.prompts[0].copy;
    assert_eq!(copy.get(Locale::Ru).title, "Would a call help?");
    assert_eq!(copy.in_locale(Locale::Ru), None);
    // Picking Russian too makes the Russian words required, named by their field, in the owner's language.
    let both = SiteConfig { locales: vec![Locale::En, Locale::Ru], ..config.clone() };
    let error = both.validate_in(Locale::Ru).expect_err("no Russian words yet");
    assert_eq!(error.field.as_deref(), Some("widget.prompts[0].copy.ru"));
    assert!(error.message.starts_with("widget.prompts[0].copy.ru: напишите текст"), "{}", error.message);
    assert!(both.validate().expect_err("in English").message.contains("write it in Russian too"));
    // The widget's default language must be one the site speaks.
    let mut russian_default = config.clone();
    russian_default.widget.default_locale = Locale::Ru;
    assert_eq!(russian_default.validate().expect_err("a default it does not speak").field.as_deref(), Some("widget.default_locale"));
    for locales in [vec![], vec![Locale::En, Locale::En]] {
        assert_eq!(SiteConfig { locales, ..config.clone() }.validate().expect_err("bad list").field.as_deref(), Some("locales"));
    }
    // Words with no language at all are not words.
    let none = serde_json::from_value::<Localized<String>>(serde_json::json!({}));
    assert!(none.is_err());
    assert!(serde_json::from_value::<Localized<String>>(serde_json::json!({"de": "Hallo"})).is_err());
}

#[test]
fn a_language_the_site_does_not_speak_is_kept_but_never_served() {
    let mut config = english_only();
    let words = config.widget.prompts[0].copy.get(Locale::En).clone();
    config.widget.prompts[0].copy.set(Locale::Ru, words);
    config.widget.prompts[0].copy.in_locale_mut(Locale::Ru).unwrap().title = "Перезвонить?".into();
    config.validate().expect("stored Russian words do not need to be complete or shown");
    assert!(serde_json::to_value(&config).unwrap()["widget"]["prompts"][0]["copy"]["ru"].is_object(), "kept");
    let public = config.public();
    assert_eq!(public.widget.prompts[0].copy.in_locale(Locale::Ru), None, "never served");
    assert_eq!(public.widget.prompts[0].copy.get(Locale::Ru).title, "Would a call help?");
}

#[test]
fn thresholds_below_the_engines_floors_are_refused_with_the_floor() {
    let with_when = |index: usize, when: serde_json::Value| {
        let mut config = config();
        config.widget.prompts[index].when = serde_json::from_value(when).unwrap();
        config.validate_in(Locale::Ru)
    };
    let error = with_when(1, serde_json::json!({"all": [{"distinct_products_at_least": 1}, {"active_seconds_at_least": 60}]}))
        .expect_err("a callback after a minute");
    assert_eq!(error.field.as_deref(), Some("widget.prompts[1].when.all[1].active_seconds_at_least"));
    assert!(error.message.contains("не меньше 300 с"), "{}", error.message);
    let error = with_when(0, serde_json::json!({"all": ["exit_intent", {"distinct_products_at_least": 1}]})).expect_err("nothing to compare");
    assert_eq!(error.field.as_deref(), Some("widget.prompts[0].when.all[1].distinct_products_at_least"));
    let error = with_when(3, serde_json::json!({"active_seconds_at_least": 10})).expect_err("sooner than the dwell");
    assert_eq!(error.field.as_deref(), Some("widget.prompts[3].when.active_seconds_at_least"));
    assert!(error.message.contains("30"), "{}", error.message);
    // At the floor is fine, and so is a threshold inside `any`/`not`, which the form does not show.
    with_when(1, serde_json::json!({"all": [{"distinct_products_at_least": 1}, {"active_seconds_at_least": 300}]})).unwrap();
    with_when(3, serde_json::json!({"all": ["operator_online", {"not": {"active_seconds_at_least": 10}}]})).unwrap();
    let mut dwell = config();
    dwell.widget.guardrails.min_dwell_seconds = 20;
    let error = dwell.validate().expect_err("a dwell below the floor");
    assert_eq!(error.field.as_deref(), Some("widget.guardrails.min_dwell_seconds"));
    assert!(error.message.contains("at least 30 s"), "{}", error.message);
}

#[test]
fn every_problem_reads_in_both_languages() {
    use crate::base::error::{Rule, Unit};
    let rules = [
        Rule::Empty,
        Rule::TooLong { max: 60 },
        Rule::Between { min: 1, max: 365, unit: Unit::Days },
        Rule::BelowFloor { floor: 300, unit: Unit::Seconds },
        Rule::Count { min: 2, max: 8 },
        Rule::Duplicate { value: "x".into() },
        Rule::Format { example: "09:00" },
        Rule::HoursOrder,
        Rule::MissingLocale { locale: Locale::Ru },
        Rule::NotASiteLocale { locale: Locale::En },
        Rule::ConsentRequired,
        Rule::AfterHoursRequired,
        Rule::AfterHoursNotAllowed,
        Rule::UnknownQuestion { prompt: "q".into() },
        Rule::UnknownChoice { prompt: "q".into(), value: "v".into() },
        Rule::TooComplex { max: 8 },
        Rule::TestOnly,
        Rule::Detail("x".into()),
    ];
    for rule in rules {
        let (en, ru) = (rule.message(Locale::En), rule.message(Locale::Ru));
        assert!(!en.is_empty() && en != ru, "{rule:?}");
        assert!(ru.chars().any(|c| ('а'..='я').contains(&c)), "{rule:?}: {ru}");
    }
}

#[test]
fn a_patch_to_one_prompt_changes_that_and_nothing_else() {
    let config = config();
    let patch = serde_json::json!({"copy": {"en": {"title": "Shall we call you?"}}});
    let patched = config.patched_prompt("callback", &patch, Locale::En).expect("a valid patch");
    patched.validate().unwrap();
    assert_eq!(patched.widget.prompts[1].copy.get(Locale::En).title, "Shall we call you?");
    let mut expected = config.clone();
    expected.widget.prompts[1].copy.in_locale_mut(Locale::En).unwrap().title = "Shall we call you?".into();
    assert_eq!(patched, expected, "one word changed, every other one as it was");
    // A patch from the console: the diff of what it loaded and what the owner left in the form.
    let before = serde_json::to_value(&config.widget.prompts[1]).unwrap();
    let after = serde_json::to_value(&expected.widget.prompts[1]).unwrap();
    let diff = crate::base::merge_patch::diff(&before, &after).unwrap();
    assert_eq!(diff, patch);
    // Unknown prompts, renames, typos and nonsense are refused, not stored.
    assert_eq!(config.patched_prompt("nope", &patch, Locale::En).unwrap_err().code, ErrorCode::NotFound);
    let rename = config.patched_prompt("callback", &serde_json::json!({"id": "call"}), Locale::En).unwrap_err();
    assert_eq!(rename.field.as_deref(), Some("widget.prompts[1].id"));
    let typo = config.patched_prompt("callback", &serde_json::json!({"copy": {"en": {"titel": "x"}}}), Locale::En).unwrap_err();
    assert_eq!((typo.code, typo.field.as_deref()), (ErrorCode::InvalidConfig, Some("widget.prompts[1]")));
    assert!(config.patched_prompt("callback", &serde_json::json!({"cooldown_days": "soon"}), Locale::En).is_err());
    // Taking a language out of one prompt's words.
    let english = config.patched_prompt("callback", &serde_json::json!({"copy": {"ru": null}}), Locale::En).unwrap();
    assert_eq!(english.widget.prompts[1].copy.in_locale(Locale::Ru), None);
    assert!(english.validate().is_err(), "the site still speaks Russian");
    SiteConfig { locales: vec![Locale::En], widget: WidgetConfig { default_locale: Locale::En, ..english.widget.clone() }, ..english }
        .validate()
        .expect("and is fine once it does not");
}

#[test]
fn a_patch_to_the_site_keeps_what_it_does_not_name() {
    let config = config();
    let patched = config
        .patched(&serde_json::json!({"widget": {"business_hours": {"sun": {"open": "10:00", "close": "18:00"}}, "timezone": "Asia/Almaty"}}), Locale::En)
        .expect("a valid patch");
    assert_eq!(patched.widget.business_hours.sun, Some(OpeningHours { open: 600, close: 1080 }));
    assert_eq!(patched.widget.business_hours.mon, config.widget.business_hours.mon);
    assert_eq!(patched.widget.timezone, "Asia/Almaty");
    assert_eq!(patched.widget.prompts, config.widget.prompts);
    let closed = patched.patched(&serde_json::json!({"widget": {"business_hours": {"sun": null}}}), Locale::En).unwrap();
    assert_eq!(closed.widget.business_hours.sun, None);
    let bad = config.patched(&serde_json::json!({"widget": {"business_hours": {"mon": {"open": "25:00", "close": "26:00"}}}}), Locale::En);
    assert_eq!(bad.unwrap_err().code, ErrorCode::InvalidConfig);
}

#[test]
fn a_revision_tag_changes_with_the_stored_text_and_if_match_compares_it() {
    let stored = serde_json::to_string(&config()).unwrap();
    let mut changed = config();
    changed.name = "Кроха и Ко".into();
    let changed = serde_json::to_string(&changed).unwrap();
    let tag = revision_tag(&stored);
    assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() == 26, "a strong tag: {tag}");
    assert_eq!(tag, revision_tag(&stored), "the same text, the same tag");
    assert_ne!(tag, revision_tag(&changed));
    assert!(if_match_allows(&tag, &stored));
    assert!(if_match_allows(&format!("W/{tag}"), &stored));
    assert!(if_match_allows(&format!("\"0\", {tag}"), &stored), "any listed tag");
    assert!(if_match_allows("*", &stored));
    assert!(!if_match_allows(&tag, &changed), "read before the change: refused");
    assert!(!if_match_allows("", &stored));
    assert_eq!(changed_meanwhile().http_status(), 412);
}
