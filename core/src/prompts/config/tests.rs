use super::*;
use crate::base::locale::Weekday;
use crate::prompts::hours::OpeningHours;

fn config() -> SiteConfig {
    SiteConfig {
        site: "demo".into(),
        name: "Кроха".into(),
        origins: vec!["https://shop.example".into(), "http://127.0.0.1:8787".into()],
        widget: WidgetConfig::default(),
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
        (with(|w| w.business_hours.sun = Some(OpeningHours { open: 0, close: 1441 })), "widget.business_hours.sun:"),
        (with(|w| w.callback_minutes = 0), "widget.callback_minutes:"),
        (with(|w| w.default_region = "ru".into()), "widget.default_region:"),
        (with(|w| w.exclude_paths = vec!["/checkout/**".into(), "cart".into()]), "widget.exclude_paths[1]:"),
        (with(|w| w.guardrails.min_dwell_seconds = 5), "widget.guardrails.min_dwell_seconds:"),
        (with(|w| w.guardrails.max_prompts_per_visit = 10), "widget.guardrails.max_prompts_per_visit:"),
        (with(|w| w.guardrails.default_cooldown_days = 0), "widget.guardrails.default_cooldown_days:"),
        (with(|w| w.prompts[1].id = "compare_by_email".into()), "widget.prompts[1].id:"),
        (with(|w| w.prompts[0].id = "Compare Me".into()), "widget.prompts[0].id:"),
        (with(|w| w.prompts[0].cooldown_days = Some(0)), "widget.prompts[0].cooldown_days:"),
        (with(|w| w.prompts[0].copy.en.title = " ".into()), "widget.prompts[0].copy.en.title:"),
        (with(|w| w.prompts[0].copy.ru.consent = None), "widget.prompts[0].copy.ru.consent:"),
        (with(|w| w.prompts[1].copy.en.after_hours = None), "widget.prompts[1].copy.en.after_hours:"),
        (with(|w| w.prompts[3].copy.ru.after_hours = w.prompts[1].copy.ru.after_hours.clone()), "widget.prompts[3].copy.ru.after_hours:"),
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
    let open = widget.render_copy(callback, Locale::Ru, CopyVariant::Regular, &[]);
    assert!(open.body.contains("в течение 15 минут"), "{}", open.body);
    let closed = widget.render_copy(callback, Locale::En, CopyVariant::AfterHours, &[]);
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
