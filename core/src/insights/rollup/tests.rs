use proptest::prelude::*;

use super::*;
use crate::base::money::{Currency, Money};
use crate::prompts::config::SiteConfig;
use crate::visitor::context::Product;
use crate::visitor::event::{ActiveTime, ExitIntent, ExitTrigger, ProductView, PromptRef};

const T0: u64 = 1_790_000_000_000;
const COMPARE: &str = "compare_by_email";
const CHILD_AGE: &str = "child_age";

/// The demo shop's shipped config (`demo-site/site.json`, the built-in playbooks).
fn shipped() -> WidgetConfig {
    let site: SiteConfig = serde_json::from_str(include_str!("../../../../demo-site/site.json")).expect("the demo's site.json");
    site.widget
}

struct Script {
    events: Vec<DayEvent>,
    visitor: String,
    device: Option<Device>,
    language: Option<String>,
    at: u64,
}

impl Script {
    fn new() -> Script {
        Script { events: Vec::new(), visitor: String::new(), device: None, language: None, at: T0 }
    }

    fn visitor(&mut self, id: &str, device: Option<Device>, language: Option<&str>) -> &mut Script {
        self.visitor = id.to_owned();
        self.device = device;
        self.language = language.map(str::to_owned);
        self
    }

    fn push(&mut self, data: EventData) -> &mut Script {
        self.at += 1000;
        let n = self.events.len();
        let event = Event { id: format!("evt{n:08}"), at: self.at, data };
        self.events.push(DayEvent { visitor: self.visitor.clone(), device: self.device, language: self.language.clone(), event });
        self
    }

    fn page(&mut self, url: &str, referrer: Option<&str>) -> &mut Script {
        self.push(EventData::PageView(PageView { url: url.into(), title: String::new(), referrer: referrer.map(str::to_owned) }))
    }

    fn product(&mut self, n: u8) -> &mut Script {
        self.page(&format!("https://shop.ru/p/{n}"), None);
        let product = Product {
            id: format!("sku-{n}"),
            name: format!("Model {n}"),
            price: Some(Money { minor: 100, currency: Currency::RUB }),
            image: None,
            url: None,
            category: None,
            suits_age: None,
        };
        self.push(EventData::ProductView(ProductView { product }))
    }

    fn prompt(&mut self, what: fn(PromptRef) -> EventData, prompt: &str) -> &mut Script {
        self.push(what(PromptRef { prompt: prompt.into() }))
    }
}

/// A day of `events`, `leads` and `chats` on `shop`'s clock, without earlier history.
fn day_of(events: Vec<DayEvent>, leads: &[DayLead], chats: &[DayChat], shop: &ShopTimeline) -> DayInput {
    DayInput { events, earlier: Vec::new(), leads: leads.to_vec(), chats: chats.to_vec(), shop: shop.clone() }
}

/// The day's visitors: the site rows' (a prompt's rows count its audience again).
fn site_visitors(rows: &[RollupRow]) -> u64 {
    rows.iter().filter(|r| r.segment.prompt == SITE_ROW).map(|r| r.counts.visitors).sum()
}

fn row<'a>(rows: &'a [RollupRow], prompt: &str, source: &str) -> &'a Counts {
    let found: Vec<&RollupRow> = rows.iter().filter(|r| r.segment.prompt == prompt && r.segment.source == source).collect();
    assert_eq!(found.len(), 1, "one row for {prompt:?}/{source:?} in {rows:#?}");
    &found[0].counts
}

/// Three visitors, scripted: every stage of every row is what they did, exactly.
#[test]
fn a_scripted_day_is_counted_exactly() {
    let mut s = Script::new();
    // A: from a Yandex campaign on a phone, two products, leaves: the comparison is eligible,
    // shown, accepted; a lead that reached the CRM.
    s.visitor("visitor-a", Some(Device::Mobile), Some("ru"))
        .page("https://shop.ru/?utm_source=Yandex&utm_medium=cpc", Some("https://ya.ru/"))
        .product(1)
        .product(2)
        .push(EventData::ExitIntent(ExitIntent { trigger: ExitTrigger::PointerTop }))
        .prompt(EventData::PromptShown, COMPARE)
        .prompt(EventData::PromptAccepted, COMPARE);
    // B: from Google on a desktop: two pages and a product make the question eligible; shown
    // and dismissed. The comparison never was (one product, no exit).
    s.visitor("visitor-b", Some(Device::Desktop), Some("en"))
        .page("https://shop.ru/", Some("https://www.google.com/search?q=x"))
        .product(3)
        .prompt(EventData::PromptShown, CHILD_AGE)
        .prompt(EventData::PromptDismissed, CHILD_AGE);
    // C: typed the address, opened the chat, nothing else.
    s.visitor("visitor-c", None, None).page("https://shop.ru/", None).push(EventData::ChatOpened);
    // B's second tab: a long stay, still no second product; active time alone changes nothing.
    s.visitor("visitor-b", Some(Device::Desktop), Some("en")).push(EventData::ActiveTime(ActiveTime { seconds: 600 }));

    let leads = [
        DayLead { visitor: "visitor-a".into(), prompt: Some(COMPARE.into()), delivered: true },
        DayLead { visitor: "visitor-gone".into(), prompt: None, delivered: false },
    ];
    let chats = [DayChat { visitor: "visitor-c".into(), answered: true }, DayChat { visitor: "visitor-c".into(), answered: false }];
    let rows = fold_day(&shipped(), day_of(s.events.clone(), &leads, &chats, &ShopTimeline::default()));

    let a = row(&rows, COMPARE, "yandex");
    assert_eq!((a.eligible, a.shown, a.accepted, a.dismissed, a.leads, a.delivered), (1, 1, 1, 0, 1, 1));
    let b = row(&rows, CHILD_AGE, "google.com");
    assert_eq!((b.eligible, b.shown, b.accepted, b.dismissed, b.leads), (1, 1, 0, 1, 0));
    // A was eligible for the question too (two pages, a product) and never saw it.
    let a_question = row(&rows, CHILD_AGE, "yandex");
    assert_eq!((a_question.eligible, a_question.shown), (1, 0));
    assert_eq!(row(&rows, COMPARE, "google.com").eligible, 0, "B never had two products");
    // The callback needs five active minutes and a product: B got them.
    assert_eq!(row(&rows, "callback", "google.com").eligible, 1);

    let site_c = row(&rows, SITE_ROW, DIRECT);
    assert_eq!((site_c.visitors, site_c.chat_opens, site_c.chats, site_c.chats_answered), (1, 1, 2, 1), "two started, one answered");
    let devices: Vec<(&str, &str, &str)> = rows
        .iter()
        .filter(|r| r.segment.prompt == SITE_ROW && r.counts.visitors > 0)
        .map(|r| (r.segment.source.as_str(), r.segment.device.as_str(), r.segment.locale.as_str()))
        .collect();
    assert_eq!(devices, [("direct", "unknown", "unknown"), ("google.com", "desktop", "en"), ("yandex", "mobile", "ru")]);
    // A lead of a visitor without events that day is counted, in the unknown segment.
    let gone = row(&rows, SITE_ROW, UNKNOWN);
    assert_eq!((gone.visitors, gone.leads, gone.delivered), (0, 1, 0));
    assert_eq!(site_visitors(&rows), 3);
    // Each enabled prompt's audience is every visitor of the day.
    let shipped = shipped();
    for prompt in shipped.prompts.iter().filter(|p| p.enabled) {
        let audience: u64 = rows.iter().filter(|r| r.segment.prompt == prompt.id).map(|r| r.counts.visitors).sum();
        assert_eq!(audience, 3, "{}", prompt.id);
    }
}

#[test]
fn earlier_days_hold_a_prompt_back_as_the_widget_remembers_them() {
    const HOUR_MS: u64 = 3_600_000;
    let mut s = Script::new();
    s.visitor("visitor-a", None, None).product(1).product(2).push(EventData::ExitIntent(ExitIntent { trigger: ExitTrigger::TabHidden }));
    let earlier = |visitor: &str, what: fn(PromptRef) -> EventData, ago_ms: u64| DayEvent {
        visitor: visitor.into(),
        device: None,
        language: None,
        event: Event { id: format!("old{ago_ms}"), at: T0 - ago_ms, data: what(PromptRef { prompt: COMPARE.into() }) },
    };
    let compare_after = |history: Vec<DayEvent>| {
        let rows = fold_day(&shipped(), DayInput { events: s.events.clone(), earlier: history, ..DayInput::default() });
        (*row(&rows, COMPARE, DIRECT), site_visitors(&rows))
    };
    let (fresh, _) = compare_after(Vec::new());
    assert_eq!((fresh.visitors, fresh.eligible, fresh.shown), (1, 1, 0), "two products and exit intent: eligible");

    let (dismissed, _) = compare_after(vec![earlier("visitor-a", EventData::PromptShown, 2 * HOUR_MS), earlier("visitor-a", EventData::PromptDismissed, HOUR_MS)]);
    assert_eq!((dismissed.visitors, dismissed.eligible, dismissed.shown, dismissed.dismissed), (1, 0, 0, 0), "within its cooldown, and the earlier events are not counted");

    let (long_ago, _) = compare_after(vec![earlier("visitor-a", EventData::PromptDismissed, 400 * DAY_MS)]);
    assert_eq!(long_ago.eligible, 1, "the longest cooldown is over");

    let (accepted, _) = compare_after(vec![earlier("visitor-a", EventData::PromptAccepted, 400 * DAY_MS)]);
    assert_eq!(accepted.eligible, 0, "an accepted prompt never again");

    let (_, visitors) = compare_after(vec![earlier("visitor-b", EventData::PromptDismissed, HOUR_MS)]);
    assert_eq!(visitors, 1, "the history of a visitor not seen that day adds nobody");
}

#[test]
fn a_lost_shown_event_does_not_break_the_funnel() {
    let mut s = Script::new();
    // Accepted without a recorded `prompt_shown`, for a prompt whose condition never held.
    s.visitor("visitor-a", None, None).page("https://shop.ru/", None).prompt(EventData::PromptAccepted, COMPARE);
    let rows = fold_day(&shipped(), day_of(s.events, &[], &[], &ShopTimeline::default()));
    let c = row(&rows, COMPARE, DIRECT);
    assert_eq!((c.eligible, c.shown, c.accepted), (1, 1, 1));
}

#[test]
fn rare_sources_are_summed_as_other() {
    let mut s = Script::new();
    for n in 0..(MAX_SOURCES_PER_DAY + 30) {
        s.visitor(&format!("visitor-{n:04}"), None, None).page(&format!("https://shop.ru/?utm_source=s{n:04}"), None);
    }
    // Two visitors of one source: it is among the kept whatever the order.
    s.visitor("visitor-x1", None, None).page("https://shop.ru/?utm_source=zz-popular", None);
    s.visitor("visitor-x2", None, None).page("https://shop.ru/?utm_source=zz-popular", None);
    let rows = fold_day(&shipped(), day_of(s.events, &[], &[], &ShopTimeline::default()));
    let sources: BTreeSet<&str> = rows.iter().map(|r| r.segment.source.as_str()).collect();
    assert_eq!(sources.len(), MAX_SOURCES_PER_DAY + 1);
    assert!(sources.contains(OTHER) && sources.contains("zz-popular"));
    assert_eq!(site_visitors(&rows), MAX_SOURCES_PER_DAY as u64 + 32);
}

#[test]
fn device_and_language_come_from_the_request() {
    let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";
    let pixel = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36";
    let tab = "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 Chrome/120 Safari/537.36";
    let desktop = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36";
    assert_eq!(Device::from_request(Some(iphone), None), Some(Device::Mobile));
    assert_eq!(Device::from_request(Some(pixel), None), Some(Device::Mobile));
    assert_eq!(Device::from_request(Some(tab), None), Some(Device::Tablet));
    assert_eq!(Device::from_request(Some(desktop), None), Some(Device::Desktop));
    assert_eq!(Device::from_request(Some(desktop), Some("?1")), Some(Device::Mobile));
    assert_eq!(Device::from_request(None, None), None);
    assert_eq!(language_of(Some("ru-RU,ru;q=0.9,en-US;q=0.8")), Some("ru".into()));
    assert_eq!(language_of(Some("en;q=0.5, de-CH")), Some("de".into()));
    assert_eq!(language_of(Some("*")), None);
    assert_eq!(language_of(Some("x-klingon")), None);
    assert_eq!(language_of(None), None);
}

#[test]
fn sources_are_short_labels() {
    let view = |url: &str, referrer: Option<&str>| PageView { url: url.into(), title: String::new(), referrer: referrer.map(str::to_owned) };
    assert_eq!(source_of(&view("https://shop.ru/?utm_source=VK", None)), "vk");
    assert_eq!(source_of(&view("https://shop.ru/", Some("https://www.google.com/"))), "google.com");
    assert_eq!(source_of(&view("https://shop.ru/a", Some("https://shop.ru/"))), DIRECT);
    assert_eq!(source_of(&view(&format!("https://shop.ru/?utm_source={}", "x".repeat(300)), None)).chars().count(), MAX_SOURCE_LEN);
}

#[test]
fn days_settle_and_then_never_change() {
    let day = Day::of_ms(T0);
    assert!(!is_final(day, day.end_ms()));
    assert!(is_final(day, day.plus(SETTLE_DAYS).end_ms()));
    let now = day.end_ms() + 1000;
    assert!(!needs_refresh(day, now - 1000, false, now, REFRESH_MS), "fresh");
    assert!(needs_refresh(day, now - REFRESH_MS, false, now, REFRESH_MS), "stale for the cron");
    assert!(!needs_refresh(day, now - REFRESH_MS, false, now, READ_REFRESH_MS), "not for a read: the cron will");
    assert!(needs_refresh(day, now - READ_REFRESH_MS, false, now, READ_REFRESH_MS), "no cron ran");
    assert!(!needs_refresh(day, 0, true, now + 365 * DAY_MS, REFRESH_MS), "final is final");
    assert!(needs_refresh(day, now, false, day.plus(SETTLE_DAYS).end_ms(), READ_REFRESH_MS), "the last roll-up after it settled");
    // The cron (every 5 minutes) must find today stale, not miss it by a hair.
    const { assert!(REFRESH_MS < 5 * 60 * 1000) };
}

#[test]
fn due_days_are_the_missing_and_the_stale_newest_first() {
    let today = Day::of_ms(T0);
    let now = T0;
    let range = (today.0 - 5..=today.0 + 1).map(Day);
    let rolled = [
        Rolled { day: today, rolled_at: now - 1000, is_final: false },
        Rolled { day: today.plus(-1), rolled_at: now - REFRESH_MS, is_final: false },
        Rolled { day: today.plus(-4), rolled_at: 0, is_final: true },
    ];
    let due = due_days(range.clone(), &rolled, Some(today.plus(-4)), now, REFRESH_MS);
    assert_eq!(due, [today.plus(-1), today.plus(-2), today.plus(-3)]);
    let on_read = due_days(range.clone(), &rolled, Some(today.plus(-4)), now, READ_REFRESH_MS);
    assert_eq!(on_read, [today.plus(-2), today.plus(-3)], "a read leaves the merely stale to the cron");
    assert!(due_days(range, &rolled, None, now, REFRESH_MS).is_empty(), "no events, nothing to roll up");
}

fn arb_event() -> impl Strategy<Value = EventData> {
    prop_oneof![
        (0u8..4).prop_map(|n| EventData::PageView(PageView {
            url: format!("https://shop.ru/p/{n}?utm_source=s{}", n % 2),
            title: String::new(),
            referrer: None
        })),
        (0u8..4).prop_map(|n| EventData::ProductView(ProductView {
            product: Product {
                id: format!("sku-{n}"),
                name: "x".into(),
                price: None,
                image: None,
                url: None,
                category: None,
                suits_age: None
            }
        })),
        Just(EventData::ExitIntent(ExitIntent { trigger: ExitTrigger::TabHidden })),
        (1u32..400).prop_map(|seconds| EventData::ActiveTime(ActiveTime { seconds })),
        (0usize..3, 0u8..3).prop_map(|(p, what)| {
            let prompt = PromptRef { prompt: [COMPARE, CHILD_AGE, "callback"][p].into() };
            match what {
                0 => EventData::PromptShown(prompt),
                1 => EventData::PromptAccepted(prompt),
                _ => EventData::PromptDismissed(prompt),
            }
        }),
        Just(EventData::ChatOpened),
    ]
}

#[test]
fn a_prompt_with_an_experiment_has_its_rows_split_by_arm_and_summing_to_the_same() {
    let mut with_experiment = shipped();
    let compare = with_experiment.prompts.iter_mut().find(|p| p.id == COMPARE).expect("the comparison");
    compare.experiment = Some(serde_json::from_value(serde_json::json!({"id": "spring", "variants": [{"id": "words"}]})).expect("an experiment"));
    let experiment = compare.experiment.clone().expect("set");
    let mut s = Script::new();
    for n in 0..40 {
        s.visitor(&format!("visitor-{n:02}"), None, None).product(1).product(2).push(EventData::ExitIntent(ExitIntent { trigger: ExitTrigger::TabHidden }));
        s.prompt(EventData::PromptShown, COMPARE);
        if n % 3 == 0 {
            s.prompt(EventData::PromptAccepted, COMPARE);
        }
    }
    let leads = [DayLead { visitor: "visitor-gone".into(), prompt: Some(COMPARE.into()), delivered: true }];
    let split = fold_day(&with_experiment, day_of(s.events.clone(), &leads, &[], &ShopTimeline::default()));
    let whole = fold_day(&shipped(), day_of(s.events.clone(), &leads, &[], &ShopTimeline::default()));

    for r in &split {
        if r.segment.prompt == COMPARE {
            assert_eq!(r.segment.experiment, "spring");
            assert!(["control", "words"].contains(&r.segment.variant.as_str()), "{r:?}");
        } else {
            assert_eq!((r.segment.experiment.as_str(), r.segment.variant.as_str()), ("", ""), "{r:?}");
        }
    }
    let per_arm = |arm: &str| {
        let mut counts = Counts::default();
        split.iter().filter(|r| r.segment.prompt == COMPARE && r.segment.variant == arm).for_each(|r| counts.add(&r.counts));
        counts
    };
    let in_arm = |arm: usize| (0..40).filter(|n| experiment.arm_of(&format!("visitor-{n:02}")) == arm).count() as u64;
    let (control, words) = (per_arm("control"), per_arm("words"));
    assert_eq!((control.shown, words.shown), (in_arm(0), in_arm(1)));
    assert_eq!((control.visitors, words.visitors), (in_arm(0), in_arm(1)), "each arm's audience is its visitors of the day");
    assert!(control.shown > 0 && words.shown > 0, "both arms have visitors");
    let gone_arm = experiment.arm_name(experiment.arm_of("visitor-gone"));
    assert_eq!(per_arm(gone_arm).leads, 1, "a lead counts in its visitor's arm even without their events");

    let mut total = control;
    total.add(&words);
    let mut unsplit = Counts::default();
    whole.iter().filter(|r| r.segment.prompt == COMPARE).for_each(|r| unsplit.add(&r.counts));
    assert_eq!(total, unsplit);

    // What the worker sums per arm is what the results read.
    let arms: Vec<crate::insights::experiment::ArmCounts> = ["control", "words"]
        .map(|arm| crate::insights::experiment::ArmCounts { variant: arm.into(), visitors: per_arm(arm).visitors, shown: per_arm(arm).shown, converted: per_arm(arm).accepted })
        .into();
    let result = crate::insights::experiment::results(&experiment, &arms);
    assert_eq!(result.arms.iter().map(|a| a.counts.shown).sum::<u64>(), 40);
}

proptest! {
    /// Whatever the visitors did, in whatever order the rows arrived: the stages are monotone,
    /// every visitor is counted once, and the fold does not depend on the storage order.
    #[test]
    fn the_fold_is_monotone_complete_and_order_free(
        script in prop::collection::vec((0u8..6, arb_event()), 1..80),
        seed in any::<u64>(),
    ) {
        let events: Vec<DayEvent> = script.iter().enumerate().map(|(i, (v, data))| DayEvent {
            visitor: format!("visitor-{v}"),
            device: None,
            language: None,
            event: Event { id: format!("evt{i:08}"), at: T0 + i as u64 * 1000, data: data.clone() },
        }).collect();
        let rows = fold_day(&shipped(), day_of(events.clone(), &[], &[], &ShopTimeline::default()));
        for r in &rows {
            prop_assert!(r.counts.accepted <= r.counts.shown && r.counts.shown <= r.counts.eligible, "{r:?}");
            prop_assert!(r.counts.dismissed <= r.counts.eligible);
        }
        let visitors: BTreeSet<&str> = events.iter().map(|e| e.visitor.as_str()).collect();
        prop_assert_eq!(site_visitors(&rows), visitors.len() as u64);
        let mut shuffled = events;
        let len = shuffled.len();
        let mut state = seed | 1;
        for i in (1..len).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(fold_day(&shipped(), day_of(shuffled, &[], &[], &ShopTimeline::default())), rows);
    }
}

/// A visitor who reads three pages for two minutes: what the chat invitation asks of a visit.
fn three_pages_for_two_minutes(s: &mut Script, visitor: &str) {
    s.visitor(visitor, None, None).page("https://shop.ru/", None).page("https://shop.ru/a", None).page("https://shop.ru/b", None);
    s.push(EventData::ActiveTime(ActiveTime { seconds: 130 }));
}

#[test]
fn the_chat_invitation_is_eligible_only_while_an_operator_was_online() {
    const INVITATION: &str = "chat_invitation";
    let mut s = Script::new();
    three_pages_for_two_minutes(&mut s, "visitor-a");
    let eligible = |shop: &ShopTimeline| {
        let rows = fold_day(&shipped(), day_of(s.events.clone(), &[], &[], shop));
        rows.iter().filter(|r| r.segment.prompt == INVITATION).map(|r| r.counts.eligible).sum::<u64>()
    };
    assert_eq!(eligible(&ShopTimeline::default()), 0, "nobody online all day");
    let online_all_day = ShopTimeline { online_before: true, ..ShopTimeline::default() };
    assert_eq!(eligible(&online_all_day), 1);
    // Anna logged in after the visit had ended and out before it began: neither counts.
    let after = ShopTimeline { presence: vec![(s.at + 60_000, true)], ..ShopTimeline::default() };
    assert_eq!(eligible(&after), 0, "online only after the visit");
    let before = ShopTimeline { online_before: true, presence: vec![(T0 - 60_000, false)], ..ShopTimeline::default() };
    assert_eq!(eligible(&before), 0, "offline before the visit began");
    // Online from the visit's last event on: the moment the engine looked, she was there.
    let at_the_end = ShopTimeline { presence: vec![(T0 + 1000, false), (s.at, true)], ..ShopTimeline::default() };
    assert_eq!(eligible(&at_the_end), 1);
}

#[test]
fn business_hours_are_read_on_the_shops_clock() {
    use crate::prompts::hours::OpeningHours;
    use crate::prompts::rules::Condition;
    // T0 is a Monday, 14:13 UTC: 17:13 in Moscow, inside 16:00-20:00; in UTC it is outside.
    let mut config = shipped();
    config.business_hours.mon = Some(OpeningHours { open: 16 * 60, close: 20 * 60 });
    let question = config.prompts.iter_mut().find(|p| p.id == CHILD_AGE).expect("the question");
    question.when = Condition::All(vec![Condition::WithinBusinessHours, Condition::PagesAtLeast(1)]);
    let mut s = Script::new();
    s.visitor("visitor-a", None, None).page("https://shop.ru/", None);
    let eligible = |shop: &ShopTimeline| {
        let rows = fold_day(&config, day_of(s.events.clone(), &[], &[], shop));
        rows.iter().filter(|r| r.segment.prompt == CHILD_AGE).map(|r| r.counts.eligible).sum::<u64>()
    };
    assert_eq!(eligible(&ShopTimeline::fixed(0)), 0, "14:13 in UTC is before opening");
    assert_eq!(eligible(&ShopTimeline::fixed(180)), 1, "17:13 in Moscow is open");
    // New York (-4 in September) is at 10:13: closed again.
    assert_eq!(eligible(&ShopTimeline::fixed(-240)), 0);
    // A clock that moved an hour on in the middle of the day, before the visit: the later offset counts.
    let (before, steps) = ShopTimeline::offsets_from([(T0 - 7_200_000, 120), (T0 - 3_600_000, 120), (T0, 180), (T0 + 3_600_000, 180)]);
    assert_eq!((before, steps.clone()), (120, vec![(T0, 180)]));
    assert_eq!(eligible(&ShopTimeline { offset_before: before, offsets: steps, ..ShopTimeline::default() }), 1, "16:13 then 17:13: open");
}

#[test]
fn a_timeline_steps_at_its_moments() {
    let shop = ShopTimeline { offset_before: 120, offsets: vec![(100, 180)], online_before: false, presence: vec![(10, true), (20, false)] };
    assert_eq!([shop.offset_at(99), shop.offset_at(100), shop.offset_at(5_000)], [120, 180, 180]);
    assert_eq!([shop.online_at(9), shop.online_at(10), shop.online_at(19), shop.online_at(20)], [false, true, true, false]);
    assert_eq!(ShopTimeline::offsets_from(std::iter::empty()), (0, vec![]));
}
