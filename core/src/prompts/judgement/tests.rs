use proptest::prelude::*;

use super::*;
use crate::base::locale::Weekday;
use crate::base::money::{Currency, Money};
use crate::prompts::config::{SiteConfig, TestTiming};
use crate::prompts::rules::{decide, CopyVariant, Decision, EvalInput, HoldReason};
use crate::visitor::event::{ActiveTime, Event, EventData, PageView, ProductView, PromptRef, QuestionAnswered};

const T0: u64 = 1_790_000_000_000;
const DAY_MS: u64 = 24 * 60 * 60 * 1000;
const COMPARE: &str = "compare_by_email";
const QUESTION: &str = "child_age";

/// The widget config the demo shop ships (`demo-site/site.json`): the scenario the product is
/// built around is judged on it, not on a config written for the test.
fn shipped() -> WidgetConfig {
    let site: SiteConfig = serde_json::from_str(include_str!("../../../../demo-site/site.json")).expect("the demo's site.json");
    site.validate().expect("the shipped config is valid");
    site.widget
}

fn product(n: u8, ages: Option<(u16, Option<u16>)>) -> Product {
    Product {
        id: format!("sku-{n}"),
        name: format!("Model {n}"),
        price: Some(Money { minor: 100, currency: Currency::RUB }),
        image: None,
        url: None,
        category: None,
        suits_age: ages.map(|(min_months, max_months)| AgeRange { min_months, max_months }),
    }
}

struct Visit {
    session: Session,
    now: u64,
}

impl Visit {
    fn start() -> Self {
        let mut visit = Visit { session: Session::new(), now: T0 };
        visit.page(0);
        visit
    }

    fn apply(&mut self, data: EventData) {
        self.session.apply(&Event { id: "evt00000001".into(), at: self.now, data });
    }

    fn page(&mut self, n: u8) {
        self.apply(EventData::PageView(PageView { url: format!("https://shop.ru/p/{n}"), title: String::new(), referrer: None }));
    }

    fn view(&mut self, n: u8) {
        self.page(n);
        self.apply(EventData::ProductView(ProductView { product: product(n, None) }));
    }

    fn active(&mut self, seconds: u32) {
        self.now += u64::from(seconds) * 1000;
        self.apply(EventData::ActiveTime(ActiveTime { seconds }));
    }

    fn decide(&self, config: &WidgetConfig, exit_intent: bool) -> Decision {
        let input = EvalInput {
            now: self.now,
            weekday: Weekday::Wed,
            minute_of_day: 12 * 60,
            page_url: "https://shop.ru/p/1".into(),
            locale: Locale::Ru,
            operator_online: false,
            exit_intent,
            visitor: "visitor-1".into(),
        };
        decide(config, &self.session, &input)
    }

    fn show(&mut self, decision: &Decision) {
        if let Decision::Show { prompt, .. } = decision {
            self.apply(EventData::PromptShown(PromptRef { prompt: prompt.clone() }));
        }
    }

    fn answer(&mut self, value: &str) {
        let prompt = QUESTION.to_owned();
        self.apply(EventData::QuestionAnswered(QuestionAnswered { prompt, question: "?".into(), answer: value.into() }));
    }
}

fn show(prompt: &str) -> Decision {
    Decision::Show { prompt: prompt.into(), variant: CopyVariant::Regular }
}

/// The flagship scenario: two products, the question appears by itself, the visitor leaves.
fn question_on_screen() -> (WidgetConfig, Visit) {
    let config = shipped();
    let mut visit = Visit::start();
    visit.view(1);
    visit.view(2);
    visit.active(40);
    let question = visit.decide(&config, false);
    assert_eq!(question, show(QUESTION), "the question comes by itself after two pages");
    visit.show(&question);
    (config, visit)
}

#[test]
fn an_untouched_question_gives_way_to_the_comparison_when_the_visitor_leaves() {
    let (config, mut visit) = question_on_screen();
    assert_eq!(visit.decide(&config, false), Decision::Hold(HoldReason::PromptVisible), "no replacing while they browse");
    let exit = visit.decide(&config, true);
    assert_eq!(exit, show(COMPARE));
    visit.show(&exit);
    assert_eq!(visit.session.visible_prompt.as_deref(), Some(COMPARE));
    assert!(matches!(visit.decide(&config, true), Decision::Hold(_)), "nothing replaces the comparison");
}

#[test]
fn a_question_in_use_is_never_replaced() {
    let (config, mut visit) = question_on_screen();
    visit.session.set_prompt_touched(true);
    assert_eq!(visit.decide(&config, true), Decision::Hold(HoldReason::PromptVisible));
}

#[test]
fn after_an_answer_the_comparison_comes_at_exit() {
    let (config, mut visit) = question_on_screen();
    visit.answer("0-1");
    assert_eq!(visit.session.visible_prompt, None, "the answered card is finished");
    assert_eq!(visit.decide(&config, false), Decision::Hold(HoldReason::NothingEligible));
    assert_eq!(visit.decide(&config, true), show(COMPARE));
}

#[test]
fn priorities_order_eligible_prompts_and_ties_keep_config_order() {
    let mut config = shipped();
    let mut visit = Visit::start();
    visit.view(1);
    visit.view(2);
    visit.active(400);
    // Callback (30) and question (20) are both eligible; the comparison needs exit intent.
    assert_eq!(visit.decide(&config, false), show("callback"));
    config.prompts[2].priority = Some(90);
    assert_eq!(visit.decide(&config, false), show(QUESTION), "an explicit priority wins over config order");
    config.prompts[2].priority = Some(30);
    assert_eq!(visit.decide(&config, false), show("callback"), "a tie keeps config order");
    // Without explicit priorities the kinds' defaults give the built-in order.
    for prompt in &mut config.prompts {
        prompt.priority = None;
    }
    let order: Vec<u8> = config.prompts.iter().map(effective_priority).collect();
    assert!(order.windows(2).all(|pair| pair[0] > pair[1]), "{order:?}");
}

#[test]
fn priority_is_validated_and_optional() {
    let mut config = shipped();
    config.prompts[0].priority = Some(MAX_PRIORITY + 1);
    let error = config.validate().expect_err("too high");
    assert!(error.message.starts_with("prompts[0].priority:"), "{}", error.message);
    config.prompts[0].priority = None;
    config.validate().expect("a config without priorities keeps working");
    let json = serde_json::to_string(&config.prompts[0]).expect("serialises");
    assert!(!json.contains("priority"), "absent stays absent: {json}");
}

#[test]
fn an_answer_picks_the_products_a_comparison_points_out() {
    let config = shipped();
    let products = [product(1, Some((0, Some(48)))), product(2, Some((42, Some(144)))), product(3, None)];
    let answer = |is: &str| vec![AnswerIs { prompt: QUESTION.into(), is: is.into() }];
    let baby = highlighted(&config, &answer("0-1"), &products, Locale::Ru).expect("a highlight");
    assert_eq!(baby.products, ["sku-1"], "a booster from 3.5 years is not for a baby; unknown ages are not promised");
    assert_eq!(baby.note, "Подходит по возрасту");
    let older = highlighted(&config, &answer("3-plus"), &products, Locale::En).expect("a highlight");
    assert_eq!(older.products, ["sku-1", "sku-2"]);
    assert_eq!(older.note, "Suits their age");
    assert_eq!(highlighted(&config, &answer("expecting"), &products, Locale::Ru).map(|h| h.note), Some("С рождения".into()));
    assert_eq!(highlighted(&config, &[], &products, Locale::Ru), None, "no answer, no highlight");
    assert_eq!(highlighted(&config, &answer("0-1"), &products[1..], Locale::Ru), None, "nothing fits, nothing is claimed");
    let stranger = vec![AnswerIs { prompt: "callback".into(), is: "0-1".into() }];
    assert_eq!(highlighted(&config, &stranger, &products, Locale::Ru), None);
}

#[test]
fn an_answer_picks_the_words_a_later_prompt_uses() {
    let config = shipped();
    let compare = config.prompt(COMPARE).expect("the comparison");
    let plain = config.render_copy(&compare.copy, Locale::Ru, CopyVariant::Regular, &[]);
    let expecting = [AnswerIs { prompt: QUESTION.into(), is: "expecting".into() }];
    let for_parents_to_be = config.render_copy(&compare.copy, Locale::Ru, CopyVariant::Regular, &expecting);
    assert_ne!(plain.title, for_parents_to_be.title);
    assert!(for_parents_to_be.body.contains("с рождения"), "{}", for_parents_to_be.body);
    assert_eq!(plain.accept, for_parents_to_be.accept, "only the title and body change");
    let english = config.render_copy(&compare.copy, Locale::En, CopyVariant::Regular, &expecting);
    assert!(english.body.contains("from birth"), "{}", english.body);
    let callback = config.prompt("callback").expect("the callback");
    let after_hours = config.render_copy(&callback.copy, Locale::Ru, CopyVariant::AfterHours, &expecting);
    assert_eq!(after_hours.title, callback.copy.get(Locale::Ru).after_hours.as_ref().expect("after-hours copy").title);
}

#[test]
fn answer_effects_are_validated_with_the_field_named() {
    let mut config = shipped();
    config.prompts[0].copy.in_locale_mut(Locale::En).unwrap().answered[0].answer.is = "teen".into();
    let error = config.validate().expect_err("an unknown choice");
    assert!(error.message.starts_with("prompts[0].copy.en.answered[0].answer.is:"), "{}", error.message);
    let mut config = shipped();
    if let PromptKind::Question(question) = &mut config.prompts[2].kind {
        question.choices[0].highlight.as_mut().expect("a highlight").suits_age = AgeRange { min_months: 5, max_months: Some(1) };
    }
    let error = config.validate().expect_err("an inverted range");
    assert!(error.message.starts_with("prompts[2].kind.question.choices[0].highlight.suits_age:"), "{}", error.message);
}

#[test]
fn the_built_in_comparison_alone_is_a_valid_config() {
    let mut config = shipped();
    config.prompts.retain(|prompt| prompt.id == COMPARE);
    config.validate().expect("words for an absent question stay dormant");
    let mut config = shipped();
    config.prompts[2].kind = PromptKind::ChatInvitation;
    assert!(config.validate().is_err(), "but a prompt of that id that is no question is a mistake");
}

#[test]
fn a_thank_you_closes_itself_after_a_few_seconds() {
    let mut config = shipped();
    assert_eq!(thank_you_ms(&config), THANK_YOU_SECONDS * 1000);
    config.test_timing = Some(TestTiming { time_scale: 60 });
    assert_eq!(thank_you_ms(&config), 1000, "a test deployment shortens it, to one second at least");
}

#[derive(Debug, Clone)]
enum Step {
    Page(u8),
    Product(u8),
    Active(u32),
    Wait(u64),
    /// The engine is asked, with or without exit intent, and what it picks appears.
    Decide(bool),
    Dismiss,
    Answer,
    Touch,
    Chat(bool),
    Typing(bool),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u8..4).prop_map(Step::Page),
        (0u8..4).prop_map(Step::Product),
        (1u32..=120).prop_map(Step::Active),
        prop_oneof![0u64..60_000, 0u64..(2 * 3_600_000), 0u64..(10 * DAY_MS)].prop_map(Step::Wait),
        any::<bool>().prop_map(Step::Decide),
        Just(Step::Dismiss),
        Just(Step::Answer),
        Just(Step::Touch),
        any::<bool>().prop_map(Step::Chat),
        any::<bool>().prop_map(Step::Typing),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// On the shipped config, with two or more products viewed, exit intent always gets the
    /// comparison unless it was already shown this visit, dismissed (within its cooldown) or
    /// accepted, the visit's cap is spent, a guardrail holds everything (chat open, typing, the
    /// dwell), or the visitor is using the card on screen.
    #[test]
    fn exit_intent_after_two_products_gets_the_comparison(steps in prop::collection::vec(step(), 1..80)) {
        let config = shipped();
        let cooldown = u64::from(config.guardrails.default_cooldown_days) * DAY_MS;
        let dwell = u64::from(config.guardrails.min_dwell_seconds);
        let cap = config.guardrails.max_prompts_per_visit as usize;
        let mut visit = Visit::start();
        for step in steps {
            match step {
                Step::Page(n) => visit.page(n),
                Step::Product(n) => visit.view(n),
                Step::Active(seconds) => visit.active(seconds),
                Step::Wait(ms) => visit.now += ms,
                Step::Touch => visit.session.set_prompt_touched(visit.session.visible_prompt.is_some()),
                Step::Chat(open) => visit.session.set_chat_open(open),
                Step::Typing(typing) => visit.session.set_typing_in_form(typing),
                Step::Dismiss | Step::Answer => {
                    if let Some(prompt) = visit.session.visible_prompt.clone() {
                        if matches!(step, Step::Answer) && prompt == QUESTION {
                            visit.answer("1-3");
                        } else if matches!(step, Step::Answer) {
                            visit.apply(EventData::PromptAccepted(PromptRef { prompt }));
                        } else {
                            visit.apply(EventData::PromptDismissed(PromptRef { prompt }));
                        }
                    }
                }
                Step::Decide(exit) => {
                    let (session, now) = (&visit.session, visit.now);
                    let record = session.prompt_record(COMPARE);
                    let held_back = record.is_some_and(|r| {
                        r.accepted_at.is_some() || r.dismissed_at.is_some_and(|at| now < at + cooldown)
                    });
                    let owed = exit
                        && session.products.len() >= 2
                        && !session.chat_open
                        && !session.typing_in_form
                        && !session.visit_expired(now)
                        && u64::from(session.visit_active_seconds) >= dwell
                        && now - session.visit_started_at >= dwell * 1000
                        && !session.shown_this_visit(COMPARE)
                        && !held_back
                        && session.visit_prompts.len() < cap
                        && !(session.visible_prompt.is_some() && session.prompt_touched);
                    let decision = visit.decide(&config, exit);
                    if owed {
                        prop_assert_eq!(&decision, &show(COMPARE));
                    }
                    visit.show(&decision);
                }
            }
        }
    }
}
