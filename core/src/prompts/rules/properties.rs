use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::base::money::Money;
use crate::prompts::config::{Experiment, Variant};
use crate::prompts::judgement::outranks;
use crate::visitor::context::Product;
use crate::visitor::event::{ActiveTime, Event, EventData, PageView, ProductView, PromptRef};

const T0: u64 = 1_790_000_000_000;

#[derive(Debug, Clone)]
enum Step {
    Page(u8),
    Product(u8),
    Active(u32),
    Wait(u64),
    Decide { exit: bool, online: bool, minute: u16 },
    Dismiss,
    Accept,
    Chat(bool),
    Typing(bool),
    /// The visitor touches the card on screen (focus, tap, typing).
    Touch,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u8..6).prop_map(Step::Page),
        (0u8..6).prop_map(Step::Product),
        (1u32..=600).prop_map(Step::Active),
        prop_oneof![0u64..120_000, 0u64..(3 * 3_600_000), 0u64..(10 * DAY_MS)].prop_map(Step::Wait),
        (any::<bool>(), any::<bool>(), 0u16..1440).prop_map(|(exit, online, minute)| Step::Decide {
            exit,
            online,
            minute
        }),
        Just(Step::Dismiss),
        Just(Step::Accept),
        any::<bool>().prop_map(Step::Chat),
        any::<bool>().prop_map(Step::Typing),
        Just(Step::Touch),
    ]
}

fn condition() -> impl Strategy<Value = Condition> {
    let leaf = prop_oneof![
        Just(Condition::ExitIntent),
        Just(Condition::OperatorOnline),
        Just(Condition::WithinBusinessHours),
        Just(Condition::ReturningVisitor),
        (0u32..4).prop_map(Condition::DistinctProductsAtLeast),
        (0u32..4).prop_map(Condition::PagesAtLeast),
        (0u32..200).prop_map(Condition::ActiveSecondsAtLeast),
        Just(Condition::UrlMatches("/p/*".into())),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..3).prop_map(Condition::All),
            prop::collection::vec(inner.clone(), 1..3).prop_map(Condition::Any),
            inner.prop_map(|c| Condition::Not(Box::new(c))),
        ]
    })
}

/// Some prompts' experiments: up to three challengers, each with its own timing or none.
fn experiment() -> impl Strategy<Value = Option<Experiment>> {
    let variants = prop::collection::vec(prop::option::of(condition()), 1..=3);
    prop::option::of(variants.prop_map(|whens| Experiment {
        id: "exp".into(),
        variants: whens
            .into_iter()
            .enumerate()
            .map(|(n, when)| Variant { id: format!("v{n}"), copy: None, when, position: None })
            .collect(),
    }))
}

/// The default playbooks with arbitrary (even invalid) guardrails, cooldowns, conditions and
/// experiments: the engine's guarantees must not depend on the config being sensible, nor on the
/// arm a visitor is in.
fn config() -> impl Strategy<Value = WidgetConfig> {
    let prompt = (condition(), prop::option::of(0u32..5), prop::option::of(0u8..=120), experiment());
    (0u32..120, 0u32..8, 0u32..10, prop::collection::vec(prompt, 4)).prop_map(|(dwell, cap, cooldown, prompts)| {
        let mut config = WidgetConfig::default();
        config.guardrails.min_dwell_seconds = dwell;
        config.guardrails.max_prompts_per_visit = cap;
        config.guardrails.default_cooldown_days = cooldown;
        for (prompt, (when, cooldown_days, priority, experiment)) in config.prompts.iter_mut().zip(prompts) {
            prompt.when = when;
            prompt.cooldown_days = cooldown_days;
            prompt.priority = priority;
            prompt.experiment = experiment;
        }
        config
    })
}

fn event(now: u64, data: EventData) -> Event {
    Event { id: "evt00000001".into(), at: now, data }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn guardrails_hold_for_any_visitor_and_config(
        config in config(),
        visitor in "[0-9a-f]{32}",
        steps in prop::collection::vec(step(), 1..120),
    ) {
        let mut session = Session::new();
        let mut now = T0;
        let mut page = "https://shop.ru/".to_owned();
        let mut dismissed: BTreeMap<String, u64> = BTreeMap::new();
        session.apply(&event(now, EventData::PageView(PageView { url: page.clone(), title: String::new(), referrer: None })));
        for step in steps {
            match step {
                Step::Page(n) => {
                    page = format!("https://shop.ru/p/{n}");
                    session.apply(&event(now, EventData::PageView(PageView { url: page.clone(), title: String::new(), referrer: None })));
                }
                Step::Product(n) => session.apply(&event(now, EventData::ProductView(ProductView {
                    product: Product { id: format!("sku-{n}"), name: "x".into(), price: Some(Money { minor: 100, currency: Currency::RUB }), image: None, url: None, category: None, suits_age: None },
                }))),
                Step::Active(seconds) => {
                    now += u64::from(seconds) * 1000;
                    session.apply(&event(now, EventData::ActiveTime(ActiveTime { seconds })));
                }
                Step::Wait(ms) => now += ms,
                Step::Chat(open) => session.set_chat_open(open),
                Step::Typing(typing) => session.set_typing_in_form(typing),
                Step::Touch => session.set_prompt_touched(session.visible_prompt.is_some()),
                Step::Dismiss | Step::Accept => {
                    if let Some(prompt) = session.visible_prompt.clone() {
                        let data = PromptRef { prompt: prompt.clone() };
                        if matches!(step, Step::Dismiss) {
                            dismissed.insert(prompt, now);
                            session.apply(&event(now, EventData::PromptDismissed(data)));
                        } else {
                            session.apply(&event(now, EventData::PromptAccepted(data)));
                        }
                    }
                }
                Step::Decide { exit, online, minute } => {
                    let input = EvalInput { now, weekday: Weekday::Wed, minute_of_day: minute, page_url: page.clone(), locale: Locale::Ru, operator_online: online, exit_intent: exit, visitor: visitor.clone() };
                    let decision = decide(&config, &session, &input);
                    prop_assert_eq!(&decision, &decide(&config, &session.clone(), &input.clone()), "decide is deterministic");
                    if let Decision::Show { prompt, .. } = decision {
                        let definition = config.prompt(&prompt).expect("shown prompts come from the config");
                        prop_assert!(evaluate(definition.when_for(&visitor), &config, &session, &input), "{} shown against its arm's timing", prompt);
                        // One card at a time: a card on screen is only ever replaced, at exit
                        // intent, while untouched, by a prompt that outranks it.
                        if let Some(visible) = session.visible_prompt.as_deref().filter(|_| !session.visit_expired(now)) {
                            prop_assert!(exit && !session.prompt_touched, "{} replaced {} without exit intent or while in use", prompt, visible);
                            prop_assert!(outranks(&config, definition, visible), "{} does not outrank {}", prompt, visible);
                        }
                        prop_assert!(!session.chat_open && !session.typing_in_form);
                        prop_assert!(session.visit_active_seconds >= MIN_DWELL_FLOOR_SECONDS, "active dwell");
                        prop_assert!(now - session.visit_started_at >= u64::from(MIN_DWELL_FLOOR_SECONDS) * 1000, "wall-clock dwell");
                        if definition.kind == PromptKind::Callback {
                            prop_assert!(session.visit_active_seconds >= CALLBACK_MIN_ACTIVE_SECONDS, "callback too early");
                        }
                        if let Some(&at) = dismissed.get(&prompt) {
                            let cooldown = u64::from(definition.cooldown_days.unwrap_or(config.guardrails.default_cooldown_days).max(1)) * DAY_MS;
                            prop_assert!(now >= at + cooldown, "{} returned within its cooldown", prompt);
                        }
                        prop_assert!(session.prompt_record(&prompt).is_none_or(|r| r.accepted_at.is_none()), "accepted prompt returned");
                        session.apply(&event(now, EventData::PromptShown(PromptRef { prompt: prompt.clone() })));
                        let cap = config.guardrails.max_prompts_per_visit.min(MAX_PROMPTS_PER_VISIT_CEILING);
                        prop_assert!(session.visit_prompts.len() <= cap as usize, "per-visit cap");
                    }
                }
            }
        }
    }
}
