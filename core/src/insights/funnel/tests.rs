use proptest::prelude::*;

use super::*;

fn today() -> Day {
    Day::parse("2026-12-02").unwrap()
}

fn query(pairs: &[(&str, &str)]) -> Result<FunnelQuery, ApiError> {
    FunnelQuery::from_pairs(pairs.iter().copied(), today())
}

#[test]
fn the_query_has_sane_defaults_and_refuses_nonsense() {
    let q = query(&[]).unwrap();
    assert_eq!((q.from.to_string(), q.to.to_string(), q.by), ("2026-11-03".into(), "2026-12-02".into(), None));
    assert_eq!(q.len(), 30);
    let q = query(&[("from", "2026-09-04"), ("to", "2026-12-02"), ("by", "source")]).unwrap();
    assert_eq!((q.len(), q.by), (90, Some(Dimension::Source)));
    assert_eq!(query(&[("to", "2027-01-01")]).unwrap().to, today(), "the future is today");
    for bad in [
        vec![("from", "2026-12-03"), ("to", "2026-12-01")],
        vec![("from", "yesterday")],
        vec![("by", "visitor")],
        vec![("from", "2024-01-01")],
    ] {
        assert_eq!(query(&bad).unwrap_err().code, ErrorCode::InvalidQuery, "{bad:?}");
    }
}

fn summed(prompt: &str, key: &str, counts: Counts) -> Summed {
    Summed { prompt: prompt.into(), key: key.into(), counts }
}

#[test]
fn prompts_come_in_config_order_with_rates_and_revenue() {
    let q = query(&[("by", "day")]).unwrap();
    let c = |eligible, shown, accepted, leads, delivered| Counts { eligible, shown, accepted, leads, delivered, ..Counts::default() };
    let day = |d: &str| Day::parse(d).unwrap().0.to_string();
    let rows = vec![
        summed("compare_by_email", &day("2026-12-01"), c(10, 5, 2, 2, 1)),
        summed("compare_by_email", &day("2026-12-02"), c(10, 5, 1, 1, 1)),
        summed("old_prompt", &day("2026-12-01"), c(3, 3, 0, 0, 0)),
        summed("", &day("2026-12-01"), Counts { visitors: 40, chats: 2, leads: 1, ..Counts::default() }),
    ];
    let rub = Currency::try_from("RUB".to_owned()).unwrap();
    let revenue = vec![
        PromptRevenue { prompt: "compare_by_email".into(), revenue: Revenue { currency: rub, amount_minor: 4_499_000, deals: 1 } },
        PromptRevenue { prompt: "".into(), revenue: Revenue { currency: rub, amount_minor: 10_000, deals: 1 } },
    ];
    let configured = vec!["callback".to_owned(), "compare_by_email".to_owned()];
    let f = combine(&q, &rows, &revenue, &configured, 2);
    let ids: Vec<(&str, bool)> = f.prompts.iter().map(|p| (p.prompt.as_str(), p.configured)).collect();
    assert_eq!(ids, [("callback", true), ("compare_by_email", true), ("old_prompt", false)]);
    let compare = &f.prompts[1];
    assert_eq!((compare.counts.eligible, compare.counts.shown, compare.counts.accepted, compare.counts.leads), (20, 10, 3, 3));
    assert_eq!(compare.rates.shown_of_eligible, Some(0.5));
    assert_eq!(compare.rates.accepted_of_shown, Some(0.3));
    assert_eq!(compare.rates.leads_of_accepted, Some(1.0));
    assert_eq!(compare.revenue, vec![Revenue { currency: rub, amount_minor: 4_499_000, deals: 1 }]);
    let days: Vec<&str> = compare.groups.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(days, ["2026-12-01", "2026-12-02"]);
    assert_eq!(f.prompts[0].rates, Rates::default(), "no numbers yet: no rates, not zeros");
    assert_eq!((f.site.visitors, f.site.chats, f.site.leads, f.site.delivered), (40, 2, 4, 2));
    assert_eq!(f.revenue[0].amount_minor, 4_509_000);
    assert_eq!(f.days_missing, 2);
    assert_eq!(f.first_response, None, "the worker adds it from the conversations");
}

fn arb_counts() -> impl Strategy<Value = Counts> {
    (0u64..50, 0u64..50, 0u64..50, 0u64..10, 0u64..10).prop_map(|(visitors, eligible, shown, leads, delivered)| Counts {
        visitors,
        eligible,
        shown: shown.min(eligible),
        accepted: (shown.min(eligible)) / 2,
        leads,
        delivered: delivered.min(leads),
        ..Counts::default()
    })
}

proptest! {
    /// Splitting never changes the totals: each prompt's groups sum to its total, whichever the
    /// dimension, and the totals are the same with or without one.
    #[test]
    fn groups_sum_to_the_totals(rows in prop::collection::vec((0usize..3, 0usize..4, arb_counts()), 0..40)) {
        let prompts = ["", "a", "b"];
        let keys = ["direct", "vk", "ya.ru", "other"];
        let rows: Vec<Summed> = rows.into_iter().map(|(p, k, c)| summed(prompts[p], keys[k], c)).collect();
        let split = combine(&query(&[("by", "source")]).unwrap(), &rows, &[], &["a".into()], 0);
        let whole = combine(&query(&[]).unwrap(), &rows, &[], &["a".into()], 0);
        prop_assert_eq!(split.site, whole.site);
        for (p, w) in split.prompts.iter().zip(&whole.prompts) {
            prop_assert_eq!(p.counts, w.counts);
            let mut sum = Counts::default();
            for g in &p.groups { sum.add(&g.counts); }
            prop_assert_eq!(sum, p.counts);
            prop_assert!(w.groups.is_empty());
        }
        let mut site = Counts::default();
        for g in &split.site_groups { site.add(&g.counts); }
        prop_assert_eq!(site, split.site);
    }
}

#[test]
fn a_first_response_reads_as_a_duration() {
    use crate::base::locale::Locale;
    let words = |ms: u64, locale| FirstResponse { median_ms: ms, conversations: 3 }.median_words(locale);
    assert_eq!(words(44_200, Locale::En), "45 s", "a started second counts");
    assert_eq!(words(125_000, Locale::En), "2 min 05 s");
    assert_eq!(words(125_000, Locale::Ru), "2 мин 05 с");
    assert_eq!(words(4_200_000, Locale::En), "1 h 10 min");
}

#[test]
fn satisfaction_reads_as_an_average_and_a_share_of_fours_and_fives() {
    use crate::base::locale::Locale;
    let twelve = Satisfaction { ratings: 12, sum: 52, satisfied: 10 };
    assert_eq!(twelve.words(Locale::En), "4.3 of 5, 83 % satisfied (12 ratings)");
    assert_eq!(twelve.words(Locale::Ru), "4,3 из 5, довольны 83 % (оценок: 12)");
    assert_eq!(Satisfaction { ratings: 1, sum: 4, satisfied: 1 }.words(Locale::En), "4.0 of 5, 100 % satisfied (1 rating)");
    // 2.25 rounds half up to 2.3.
    assert_eq!(Satisfaction { ratings: 4, sum: 9, satisfied: 0 }.words(Locale::En), "2.3 of 5, 0 % satisfied (4 ratings)");
    // 5, 3 and 3: 3.67 rounds to 3.7.
    assert_eq!(Satisfaction { ratings: 3, sum: 11, satisfied: 1 }.words(Locale::Ru), "3,7 из 5, довольны 33 % (оценок: 3)");
}
