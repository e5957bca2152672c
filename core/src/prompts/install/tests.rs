use super::*;
use crate::prompts::config::WidgetConfig;

fn config(origins: &[&str]) -> SiteConfig {
    SiteConfig {
        site: "demo".into(),
        name: "Кроха".into(),
        origins: origins.iter().map(|o| (*o).to_owned()).collect(),
        widget: WidgetConfig::default(),
        locales: crate::base::locale::Locale::ALL.to_vec(),
    }
}

fn sighting(origin: &str, last_seen_at: u64, count: u64) -> OriginSighting {
    OriginSighting { origin: origin.into(), first_seen_at: last_seen_at.saturating_sub(1000), last_seen_at, count }
}

#[test]
fn what_an_owner_types_or_pastes_means_its_origin() {
    for (typed, origin) in [
        ("https://shop.example", "https://shop.example"),
        ("  HTTPS://Shop.Example/  ", "https://shop.example"),
        ("https://shop.example/catalog/strollers?page=2#top", "https://shop.example"),
        ("https://shop.example:443", "https://shop.example"),
        ("http://shop.example:80/", "http://shop.example"),
        ("http://127.0.0.1:8787", "http://127.0.0.1:8787"),
        ("https://shop.example:8443", "https://shop.example:8443"),
        ("http://[::1]:8080/x", "http://[::1]:8080"),
        ("https://xn--80aswg.xn--p1ai", "https://xn--80aswg.xn--p1ai"),
        ("https://shop.example.", "https://shop.example."),
    ] {
        assert_eq!(origin_from_input(typed).as_deref(), Ok(origin), "{typed:?}");
    }
}

#[test]
fn bad_input_is_refused_with_the_reason() {
    let long = format!("https://{}.example", "a".repeat(MAX_SIGHTED_ORIGIN_LEN));
    for (typed, problem) in [
        ("", OriginProblem::Empty),
        ("   ", OriginProblem::Empty),
        (long.as_str(), OriginProblem::TooLong),
        ("shop.example", OriginProblem::NoScheme),
        ("localhost:8080", OriginProblem::NoScheme),
        ("www.shop.example/catalog", OriginProblem::NoScheme),
        ("ftp://shop.example", OriginProblem::NotWeb),
        ("javascript:alert(1)", OriginProblem::NotWeb),
        ("file:///home/olga/shop.html", OriginProblem::NotWeb),
        ("https://магазин.рф", OriginProblem::NotAscii),
        ("https://", OriginProblem::BadHost),
        ("https:///path", OriginProblem::BadHost),
        ("https://shop example", OriginProblem::BadHost),
        ("https://olga:secret@shop.example", OriginProblem::BadHost),
        ("https://shop..example", OriginProblem::BadHost),
        ("https://-shop.example", OriginProblem::BadHost),
        ("https://shop_example.com", OriginProblem::BadHost),
        ("https://<script>", OriginProblem::BadHost),
        ("https://shop.example:", OriginProblem::BadPort),
        ("https://shop.example:0", OriginProblem::BadPort),
        ("https://shop.example:65536", OriginProblem::BadPort),
        ("https://shop.example:80a", OriginProblem::BadPort),
    ] {
        assert_eq!(origin_from_input(typed), Err(problem), "{typed:?}");
    }
}

#[test]
fn every_accepted_origin_is_one_the_config_accepts() {
    for typed in ["https://Shop.Example:443/a", "http://127.0.0.1:9", "http://[::1]:8080", "https://a-b.c-d.example"] {
        let origin = origin_from_input(typed).expect("accepted");
        let mut site = config(&["https://other.example"]);
        site.origins.push(origin.clone());
        site.validate().unwrap_or_else(|e| panic!("{typed:?} -> {origin:?}: {e}"));
        assert!(site.allows_origin(&origin));
    }
}

#[test]
fn every_problem_has_both_languages_and_comes_back_from_the_api_error() {
    for problem in OriginProblem::ALL {
        assert!(!problem.message(Locale::En).is_empty() && !problem.message(Locale::Ru).is_empty());
        assert_ne!(problem.message(Locale::En), problem.message(Locale::Ru), "{problem:?}");
        let error = problem.error();
        assert!((400..500).contains(&error.http_status()), "{problem:?}");
        assert_eq!(OriginProblem::recognise(&error.message), Some(problem));
    }
    assert_eq!(OriginProblem::Taken.error().code, ErrorCode::OriginTaken);
    assert_eq!(OriginProblem::recognise("origins: something else"), None);
    assert_eq!(OriginProblem::recognise("This origin is listed already"), None);
    assert!(OriginProblem::TooMany.message(Locale::En).contains(&MAX_ORIGINS.to_string()));
}

#[test]
fn adding_changes_the_origins_and_nothing_else() {
    let mut site = config(&["https://shop.example"]);
    site.widget.callback_minutes = 7;
    site.widget.timezone = "Asia/Yekaterinburg".into();
    let added = with_origin(&site, "https://m.shop.example/cart").expect("valid").expect("a change");
    assert_eq!(added.origins, vec!["https://shop.example", "https://m.shop.example"]);
    assert_eq!(added.widget, site.widget);
    assert_eq!((added.site.as_str(), added.name.as_str()), ("demo", "Кроха"));
    // Twice is once.
    assert_eq!(with_origin(&added, "HTTPS://m.shop.example"), Ok(None));
    assert_eq!(with_origin(&site, "shop.example"), Err(OriginProblem::NoScheme));
    assert_eq!(origin_to_add(&added.origins, "https://m.shop.example/"), Err(OriginProblem::AlreadyListed));
}

#[test]
fn the_list_is_bounded_and_never_emptied() {
    let full: Vec<String> = (0..MAX_ORIGINS).map(|i| format!("https://s{i}.example")).collect();
    let mut site = config(&[]);
    site.origins = full;
    assert_eq!(with_origin(&site, "https://one-more.example"), Err(OriginProblem::TooMany));
    let one = config(&["https://shop.example"]);
    assert_eq!(without_origin(&one, "https://shop.example/"), Err(OriginProblem::LastOrigin));
    assert_eq!(without_origin(&one, "https://elsewhere.example"), Ok(None));
    let two = config(&["https://shop.example", "https://m.shop.example"]);
    let removed = without_origin(&two, "https://shop.example").expect("valid").expect("a change");
    assert_eq!(removed.origins, vec!["https://m.shop.example"]);
    assert_eq!(removed.widget, two.widget);
}

#[test]
fn the_tag_names_the_worker_and_the_site() {
    assert_eq!(
        script_tag("https://edge.example/", "demo"),
        r#"<script async src="https://edge.example/fw.js" data-site="demo"></script>"#
    );
}

#[test]
fn the_check_tells_recent_loads_from_old_ones_and_unlisted_refusals_first() {
    let now = 100 * RECENT_MS;
    let site = config(&["https://shop.example", "https://m.shop.example", "https://new.shop.example"]);
    let report = OriginReport {
        refused: vec![
            sighting("https://staging.example", now - 5_000, 3),
            sighting("https://old.example", now - 2 * RECENT_MS, 40),
            // Refused before it was listed: history, not a problem any more.
            sighting("https://new.shop.example", now - 60_000, 2),
        ],
        loaded: vec![sighting("https://shop.example", now - 120_000, 9), sighting("https://m.shop.example", now - RECENT_MS - 1, 1)],
    };
    let check = install_check(&site, "https://edge.example", &report, now);
    assert_eq!(check.verdict, Verdict::Unlisted);
    assert_eq!(check.tag, script_tag("https://edge.example", "demo"));
    let states: Vec<(&str, LoadState, Option<u64>)> =
        check.origins.iter().map(|o| (o.origin.as_str(), o.state, o.loaded_ago_ms)).collect();
    assert_eq!(
        states,
        vec![
            ("https://shop.example", LoadState::Recent, Some(120_000)),
            ("https://m.shop.example", LoadState::Stale, Some(RECENT_MS + 1)),
            ("https://new.shop.example", LoadState::Never, None),
        ]
    );
    let refused: Vec<(&str, u64)> = check.refused.iter().map(|r| (r.origin.as_str(), r.seen_ago_ms)).collect();
    assert_eq!(refused, vec![("https://staging.example", 5_000), ("https://old.example", 2 * RECENT_MS)]);

    // Once allowed, the refusals are history and the verdict follows the loads.
    let allowed = with_origin(&site, "https://staging.example").unwrap().unwrap();
    let allowed = with_origin(&allowed, "https://old.example").unwrap().unwrap();
    assert_eq!(install_check(&allowed, "https://edge.example", &report, now).verdict, Verdict::Working);
    let quiet = OriginReport { refused: Vec::new(), loaded: vec![sighting("https://shop.example", now - 3 * RECENT_MS, 1)] };
    assert_eq!(install_check(&site, "https://edge.example", &quiet, now).verdict, Verdict::Quiet);
    assert_eq!(install_check(&site, "https://edge.example", &OriginReport::default(), now).verdict, Verdict::NotSeen);
    // A refusal long ago is listed, but the verdict is the loads'.
    let old_refusal = OriginReport { refused: vec![sighting("https://old.example", now - 2 * RECENT_MS, 1)], loaded: quiet.loaded.clone() };
    let check = install_check(&site, "https://edge.example", &old_refusal, now);
    assert_eq!((check.verdict, check.refused.len()), (Verdict::Quiet, 1));
}

#[test]
fn ago_reads_naturally_in_both_languages() {
    let minute = 60_000;
    for (ms, en, ru) in [
        (0, "just now", "только что"),
        (59_999, "just now", "только что"),
        (minute, "1 min ago", "1 мин назад"),
        (59 * minute, "59 min ago", "59 мин назад"),
        (60 * minute, "1 h ago", "1 ч назад"),
        (24 * 60 * minute, "1 day ago", "1 дн. назад"),
        (5 * 24 * 60 * minute, "5 days ago", "5 дн. назад"),
    ] {
        assert_eq!((ago(ms, Locale::En).as_str(), ago(ms, Locale::Ru).as_str()), (en, ru), "{ms}");
    }
}

#[test]
fn the_check_round_trips_as_json() {
    let check = install_check(&config(&["https://shop.example"]), "https://edge.example", &OriginReport::default(), 1);
    let json = serde_json::to_string(&check).expect("JSON");
    assert!(json.contains(r#""verdict":"not_seen""#) && json.contains(r#""state":"never""#), "{json}");
    assert_eq!(serde_json::from_str::<InstallCheck>(&json).expect("parsed"), check);
    assert!(serde_json::from_str::<OriginInput>(r#"{"origin":"x","extra":1}"#).is_err());
}
