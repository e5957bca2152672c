use super::*;
use crate::prompts::config::experiment::Variant;
use crate::base::locale::Locale;

fn close(actual: f64, expected: f64, what: &str) {
    let tolerance = 1e-6 * expected.abs().max(1.0);
    assert!((actual - expected).abs() <= tolerance, "{what}: {actual} against {expected}");
}

/// z and two-sided p of (converted, shown) of the control against a challenger, from
///
/// ```sh
/// python3 -c 'import math
/// for xa,na,xb,nb in [(10,100,15,100),(0,120,3,110),(5,20,1,25),(500,10000,560,10000),(4900,100000,5200,100000),
///                     (200,1000,150,1000),(1,3,2,5),(30000,1000000,30500,1000000)]:
///     p=(xa+xb)/(na+nb); se=math.sqrt(p*(1-p)*(1/na+1/nb)); z=(xb/nb-xa/na)/se
///     print(xa, na, xb, nb, repr(z), repr(math.erfc(abs(z)/math.sqrt(2))))'
/// ```
const Z_TABLE: [(u64, u64, u64, u64, f64, f64); 8] = [
    (10, 100, 15, 100, 1.0690449676496971, 0.2850494074026129),
    (0, 120, 3, 110, 1.8209830243607468, 0.06860943736582924),
    (5, 20, 1, 25, -2.0592194189509323, 0.03947322372463645),
    (500, 10000, 560, 10000, 1.8937529756356748, 0.058257806033516255),
    (4900, 100000, 5200, 100000, 3.0634661314266203, 0.002187889692779946),
    (200, 1000, 150, 1000, -2.9424494316825, 0.0032562696284120633),
    (1, 3, 2, 5, 0.18856180831641278, 0.8504362683123464),
    (30000, 1000000, 30500, 1000000, 2.064250616030825, 0.038993960652596034),
];

#[test]
fn the_z_test_matches_the_reference_computation() {
    for (xa, na, xb, nb, z, p) in Z_TABLE {
        let (actual_z, actual_p) = two_proportion_z(xa, na, xb, nb).expect("both arms shown");
        close(actual_z, z, &format!("z of {xa}/{na} against {xb}/{nb}"));
        close(actual_p, p, &format!("p of {xa}/{na} against {xb}/{nb}"));
    }
    assert_eq!(two_proportion_z(0, 0, 1, 10), None);
    assert_eq!(two_proportion_z(0, 50, 0, 70), Some((0.0, 1.0)), "nobody converted: nothing to tell apart");
    assert_eq!(two_proportion_z(50, 50, 70, 70), Some((0.0, 1.0)));
}

/// `python3 -c 'import math; [print(repr(x), repr(math.erfc(x))) for x in [0.0,1e-9,0.3,1.0,1.4999,1.5,2.0,3.3,6.0,10.0,-0.7,-2.5]]'`
#[test]
fn erfc_matches_pythons_to_the_last_digits_that_matter() {
    let table = [
        (0.0, 1.0),
        (1e-09, 0.9999999988716208),
        (0.3, 0.6713732405408726),
        (1.0, 0.15729920705028513),
        (1.4999, 0.03390674833770473),
        (1.5, 0.033894853524689274),
        (2.0, 0.004677734981047265),
        (3.3, 3.0577097964381654e-06),
        (6.0, 2.1519736712498916e-17),
        (10.0, 2.088487583762545e-45),
        (-0.7, 1.6778011938374184),
        (-2.5, 1.999593047982555),
    ];
    for (x, expected) in table {
        let relative = (erfc(x) - expected).abs() / expected;
        assert!(relative < 1e-12, "erfc({x}) = {} against {expected}", erfc(x));
    }
}

/// `python3 -c 'from statistics import NormalDist; [print(q, repr(NormalDist().inv_cdf(q))) for q in [0.975,0.8,1-0.025/2,1-0.05/6,0.5,0.001]]'`
#[test]
fn normal_quantiles_match_the_reference() {
    let table = [
        (0.975, 1.9599639845400536),
        (0.8, 0.8416212335729144),
        (0.9875, 2.2414027276049464),
        (1.0 - 0.05 / 6.0, 2.3939797998185104),
        (0.5, 0.0),
        (0.001, -3.090232306167813),
    ];
    for (q, z) in table {
        assert!((normal_quantile(q) - z).abs() < 1e-9, "quantile {q}: {} against {z}", normal_quantile(q));
    }
}

/// The same formula in Python, quantiles from `statistics.NormalDist().inv_cdf`:
///
/// ```sh
/// python3 -c 'from statistics import NormalDist; import math
/// N=NormalDist()
/// def need(p1,alpha):
///     p2=min(p1*1.2,1.0); m=(p1+p2)/2
///     num=N.inv_cdf(1-alpha/2)*math.sqrt(2*m*(1-m))+N.inv_cdf(0.8)*math.sqrt(p1*(1-p1)+p2*(1-p2))
///     return math.ceil(num*num/(p2-p1)**2)
/// [print(p1, a, need(p1,a)) for p1,a in [(0.05,0.05),(0.05,0.025),(0.1,0.05),(0.02,0.05/3),(0.5,0.05)]]'
/// ```
#[test]
fn visitors_needed_is_the_standard_sample_size_for_a_fifth_more() {
    for (baseline, alpha, needed) in [(0.05, 0.05, 8158), (0.05, 0.025, 9880), (0.1, 0.05, 3841), (0.02, 0.05 / 3.0, 28156), (0.5, 0.05, 388)] {
        assert_eq!(visitors_needed(baseline, alpha), needed, "baseline {baseline}, alpha {alpha}");
    }
    assert_eq!(visitors_needed(0.0, ALPHA), 0, "no lift of nothing");
    assert_eq!(visitors_needed(1.0, ALPHA), 0);
}

/// `p=x/n; c=(p+z*z/(2*n))/(1+z*z/n); h=z/(1+z*z/n)*math.sqrt(p*(1-p)/n+z*z/(4*n*n))` with
/// `z=1.959963984540054`, printing `max(c-h,0)` and `min(c+h,1)`.
#[test]
fn wilson_intervals_match_the_reference() {
    let table = [
        (0, 10, 0.0, 0.2775327998628892),
        (1, 10, 0.017876213095072868, 0.4041500267952385),
        (50, 100, 0.4038315303659956, 0.5961684696340044),
        (3, 1000, 0.0010207838811386186, 0.008783014053503173),
        (10, 10, 0.7224672001371107, 0.9999999999999999),
    ];
    for (converted, shown, low, high) in table {
        let rate = wilson(converted, shown).expect("shown");
        close(rate.low, low, &format!("low of {converted}/{shown}"));
        close(rate.high, high, &format!("high of {converted}/{shown}"));
        assert!(rate.low <= rate.rate && rate.rate <= rate.high);
    }
    assert_eq!(wilson(0, 0), None);
}

fn experiment(variants: &[&str]) -> Experiment {
    Experiment {
        id: "spring".into(),
        variants: variants.iter().map(|id| Variant { id: (*id).into(), copy: None, when: None, position: None }).collect(),
    }
}

fn arm(variant: &str, converted: u64, shown: u64) -> ArmCounts {
    ArmCounts { variant: variant.into(), visitors: shown * 4, shown, converted }
}

/// An experiment whose challenger `id` shows the card after `seconds` of activity instead.
fn timing(id: &str, seconds: u32) -> Experiment {
    let when = Some(crate::prompts::rules::Condition::ActiveSecondsAtLeast(seconds));
    Experiment { id: "spring".into(), variants: vec![Variant { id: id.into(), copy: None, when, position: None }] }
}

#[test]
fn a_timing_experiment_is_judged_per_visitor_and_a_words_experiment_per_view() {
    // The earlier card reaches four times the visitors; half the share of them accepts, yet
    // twice as many visitors accept in all.
    let counts = |variant: &str, visitors, shown, converted| ArmCounts { variant: variant.into(), visitors, shown, converted };
    let arms = [counts(CONTROL, 2000, 200, 60), counts("early", 2000, 800, 120)];

    let by_timing = results(&timing("early", 60), &arms);
    assert_eq!(by_timing.base, Base::Visitors);
    let Verdict::Winner { variant, lift: Some(lift) } = &by_timing.verdict else { panic!("{by_timing:?}") };
    assert_eq!(variant, "early");
    close(*lift, 1.0, "the lift per visitor");
    close(by_timing.arms[1].rate.expect("a rate").rate, 0.06, "the early arm's rate");
    assert_eq!(words::verdict(&by_timing, Locale::En), "Variant early wins: +100\u{a0}% accepted per visitor. Keep it in the prompt.");
    assert_eq!(words::verdict(&by_timing, Locale::Ru), "Вариант early лучше: +100\u{a0}% согласий на посетителя. Оставьте его в подсказке.");

    // The same numbers for other words: the card itself is judged, and the control's converts better.
    let by_words = results(&experiment(&["early"]), &arms);
    assert_eq!(by_words.base, Base::Shown);
    assert_eq!(by_words.verdict, Verdict::ControlWins, "{by_words:?}");

    // A day rolled up before the audience was counted cannot say more than its visitors.
    let unknown_audience = results(&timing("early", 60), &[counts(CONTROL, 0, 200, 60), counts("early", 0, 800, 120)]);
    assert!(unknown_audience.arms.iter().all(|arm| arm.counts.converted == 0 && arm.rate.is_none()), "{unknown_audience:?}");
    assert_eq!(unknown_audience.verdict, Verdict::TooEarly);
}

#[test]
fn too_early_until_every_arm_was_shown_a_hundred_times_and_someone_converted() {
    let two = experiment(&["short"]);
    assert_eq!(results(&two, &[]).verdict, Verdict::TooEarly);
    assert_eq!(results(&two, &[arm(CONTROL, 5, 1000), arm("short", 90, 99)]).verdict, Verdict::TooEarly);
    assert_eq!(results(&two, &[arm(CONTROL, 0, 1000), arm("short", 0, 1000)]).verdict, Verdict::TooEarly);
    assert_ne!(results(&two, &[arm(CONTROL, 0, 100), arm("short", 1, 100)]).verdict, Verdict::TooEarly);
}

#[test]
fn a_challenger_that_converts_better_beyond_chance_wins_with_its_lift() {
    // 4900/100000 against 5200/100000: p 0.0022.
    let result = results(&experiment(&["short"]), &[arm(CONTROL, 4900, 100_000), arm("short", 5200, 100_000)]);
    let Verdict::Winner { variant, lift: Some(lift) } = &result.verdict else { panic!("{:?}", result.verdict) };
    assert_eq!(variant, "short");
    close(*lift, 5200.0 / 4900.0 - 1.0, "lift");
    assert_eq!(result.arms.iter().map(|a| a.counts.variant.as_str()).collect::<Vec<_>>(), [CONTROL, "short"]);
    assert_eq!(result.arms[0].vs_control, None);
}

#[test]
fn bonferroni_asks_more_of_each_challenger_when_there_are_several() {
    // p 0.039 alone is a win; one of three challengers needs p below 0.05 / 3.
    let counts = [arm(CONTROL, 30_000, 1_000_000), arm("a", 30_500, 1_000_000)];
    assert!(matches!(results(&experiment(&["a"]), &counts).verdict, Verdict::Winner { .. }));
    let three = [&counts[..], &[arm("b", 30_000, 1_000_000), arm("c", 30_000, 1_000_000)]].concat();
    let result = results(&experiment(&["a", "b", "c"]), &three);
    let comparison = result.arms[1].vs_control.expect("a against the control");
    close(comparison.p_adjusted, 3.0 * 0.038993960652596034, "adjusted p");
    // 3 % with 3 challengers: alpha 0.05 / 3 per comparison.
    assert_eq!(result.verdict, Verdict::NoDifferenceYet { visitors_needed: visitors_needed(0.03, ALPHA / 3.0) });
}

#[test]
fn the_control_wins_only_when_every_challenger_loses_to_it() {
    // 20 % against 15 % and 14 %, each arm past the 2,038 the plan asks for.
    let lose = [arm(CONTROL, 420, 2100), arm("a", 315, 2100), arm("b", 294, 2100)];
    assert_eq!(results(&experiment(&["a", "b"]), &lose).verdict, Verdict::ControlWins);
    let one_unclear = [arm(CONTROL, 420, 2100), arm("a", 315, 2100), arm("b", 410, 2100)];
    assert!(matches!(results(&experiment(&["a", "b"]), &one_unclear).verdict, Verdict::NoDifferenceYet { .. }));
}

#[test]
fn a_look_before_the_planned_sample_decides_only_on_overwhelming_evidence() {
    let two = experiment(&["short"]);
    // 20 % against 15 % after 1,000 each: p 0.0034, a verdict at 0.05 but not at the interim 0.001.
    let early = [arm(CONTROL, 200, 1000), arm("short", 150, 1000)];
    let result = results(&two, &early);
    let p = result.arms[1].vs_control.expect("short against the control").p_adjusted;
    assert!(p < ALPHA && p > INTERIM_ALPHA, "{p}");
    let needed = visitors_needed(0.2, ALPHA);
    assert!(needed > 1000, "{needed}");
    assert_eq!(result.verdict, Verdict::NoDifferenceYet { visitors_needed: needed });
    // The same rates once every arm has the planned sample: now it is decided.
    let planned = [arm(CONTROL, needed / 5, needed), arm("short", needed * 3 / 20, needed)];
    assert_eq!(results(&two, &planned).verdict, Verdict::ControlWins);
    // Overwhelming evidence decides at any look: 20 % against 10 % after 1,000 each.
    let clear = [arm(CONTROL, 200, 1000), arm("short", 100, 1000)];
    assert_eq!(results(&two, &clear).verdict, Verdict::ControlWins);
}

/// Peeking every day at the interim boundary, then at 0.05 at the plan, keeps false winners rare:
/// 400 experiments of two identical arms (10 %), looked at after each 200 shown per arm up to the
/// planned sample, declare a winner in at most 5 % + sampling slack of them.
#[test]
fn daily_looks_at_two_identical_arms_rarely_find_a_winner() {
    let two = experiment(&["same"]);
    let needed = visitors_needed(0.1, ALPHA);
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut draw = || {
        // xorshift64*: a fixed, dependency-free stream.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut false_winners = 0;
    for _ in 0..400 {
        let (mut a, mut b, mut shown) = (0u64, 0u64, 0u64);
        let mut decided = false;
        while shown < needed && !decided {
            for _ in 0..200 {
                a += u64::from(draw() < 0.1);
                b += u64::from(draw() < 0.1);
            }
            shown += 200;
            decided = matches!(results(&two, &[arm(CONTROL, a, shown), arm("same", b, shown)]).verdict, Verdict::Winner { .. } | Verdict::ControlWins);
        }
        false_winners += u32::from(decided);
    }
    assert!(false_winners <= 28, "{false_winners} of 400 identical experiments found a difference");
}

#[test]
fn the_best_significant_challenger_wins_and_a_control_without_conversions_has_no_lift() {
    let counts = [arm(CONTROL, 0, 500), arm("a", 20, 500), arm("b", 40, 500)];
    assert_eq!(results(&experiment(&["a", "b"]), &counts).verdict, Verdict::Winner { variant: "b".into(), lift: None });
}

#[test]
fn rows_are_summed_per_arm_and_arms_the_experiment_no_longer_has_are_left_out() {
    let rows = [arm(CONTROL, 3, 50), arm("gone", 40, 60), arm(CONTROL, 2, 70), arm("short", 9, 8)];
    let result = results(&experiment(&["short"]), &rows);
    assert_eq!(result.arms[0].counts, arm(CONTROL, 5, 120));
    assert_eq!(result.arms[1].counts, arm("short", 8, 8), "never more converted than shown");
    assert_eq!(result.arms.len(), 2);
}

#[test]
fn the_answer_reads_as_the_console_expects() {
    let result = results(&experiment(&["short"]), &[arm(CONTROL, 4900, 100_000), arm("short", 5200, 100_000)]);
    let json = serde_json::to_value(PromptExperiment { prompt: "callback".into(), result }).expect("JSON");
    assert_eq!(json["prompt"], "callback");
    assert_eq!(json["experiment"], "spring");
    assert_eq!(json["arms"][1]["variant"], "short");
    assert_eq!(json["arms"][1]["shown"], 100_000);
    assert!(json["arms"][1]["rate"]["low"].is_number() && json["arms"][1]["vs_control"]["p_adjusted"].is_number());
    assert_eq!(json["verdict"]["winner"]["variant"], "short");
    assert_eq!(serde_json::to_value(Verdict::TooEarly).expect("JSON"), "too_early");
    assert_eq!(serde_json::to_value(Verdict::ControlWins).expect("JSON"), "control_wins");
    assert_eq!(serde_json::to_value(Verdict::NoDifferenceYet { visitors_needed: 8158 }).expect("JSON"), serde_json::json!({"no_difference_yet": {"visitors_needed": 8158}}));
}

#[test]
fn the_answer_has_each_running_experiment_from_its_own_rows() {
    let mut config = WidgetConfig::default();
    config.prompts[1].experiment = Some(experiment(&["short"]));
    let query = FunnelQuery::from_pairs([], Day::parse("2026-12-02").expect("a day")).expect("the default range");
    let row = |prompt: &str, experiment: &str, counts: ArmCounts| ArmRow { prompt: prompt.into(), experiment: experiment.into(), counts };
    let rows = [
        row("callback", "spring", arm(CONTROL, 10, 200)),
        row("callback", "spring", arm("short", 30, 200)),
        row("callback", "winter", arm(CONTROL, 99, 100)),
        row("compare_by_email", "spring", arm(CONTROL, 1, 2)),
    ];
    let answer = experiments(&config, &query, &rows, 1);
    assert_eq!((answer.from, answer.to, answer.days_missing), (query.from, query.to, 1));
    assert_eq!(answer.experiments.len(), 1, "only the prompts that run one");
    let callback = &answer.experiments[0];
    assert_eq!(callback.prompt, "callback");
    let shown: Vec<(u64, u64)> = callback.result.arms.iter().map(|a| (a.counts.converted, a.counts.shown)).collect();
    assert_eq!(shown, [(10, 200), (30, 200)], "an earlier experiment's arms are not this one's");
    assert!(matches!(callback.result.verdict, Verdict::Winner { .. }));
    let json: ArmRow = serde_json::from_str(r#"{"prompt":"callback","experiment":"spring","variant":"short","visitors":12,"shown":3,"converted":1}"#).expect("a summed row");
    assert_eq!(json, row("callback", "spring", arm("short", 1, 3)));
}
