use super::*;
use crate::prompts::config::TestTiming;

#[test]
fn the_ui_module_is_fetched_only_once_a_card_is_near() {
    let config = WidgetConfig::default();
    let mut session = Session { visit_active_seconds: MIN_DWELL_FLOOR_SECONDS * 2 / 3 - 1, ..Session::default() };
    assert!(!should_preload_ui(&config, &session), "a visitor who leaves early downloads no cards");
    session.visit_active_seconds = MIN_DWELL_FLOOR_SECONDS * 2 / 3;
    assert!(should_preload_ui(&config, &session));
    let silent = WidgetConfig { prompts: Vec::new(), ..WidgetConfig::default() };
    assert!(!should_preload_ui(&silent, &session), "a site without prompts never needs them");
    let fast = WidgetConfig { test_timing: Some(TestTiming { time_scale: 20 }), ..WidgetConfig::default() };
    session.visit_active_seconds = 2;
    assert!(should_preload_ui(&fast, &session), "scaled like the dwell it anticipates");
}

#[test]
fn floors_are_real_unless_a_test_deployment_scales_them() {
    let strict = WidgetConfig::default();
    assert_eq!(strict.test_timing, None, "no config has test timing by default");
    assert_eq!(effective_min_dwell_seconds(&strict), MIN_DWELL_FLOOR_SECONDS);
    assert_eq!(effective_callback_min_active_seconds(&strict), CALLBACK_MIN_ACTIVE_SECONDS);
    let fast = WidgetConfig { test_timing: Some(TestTiming { time_scale: 20 }), ..WidgetConfig::default() };
    assert_eq!(effective_min_dwell_seconds(&fast), 2);
    assert_eq!(effective_callback_min_active_seconds(&fast), 15);
    assert_eq!(scaled(&fast, 1), 1, "never below one second");
    fast.validate().unwrap();
    for bad in [0, crate::prompts::config::MAX_TIME_SCALE + 1] {
        let config = WidgetConfig { test_timing: Some(TestTiming { time_scale: bad }), ..WidgetConfig::default() };
        assert!(config.validate().is_err(), "time_scale {bad}");
    }
}
