use super::*;

#[test]
fn a_condition_knows_what_it_reads_at_any_depth() {
    let online = |c: &Condition| *c == Condition::OperatorOnline;
    assert!(!Condition::ExitIntent.mentions(&online));
    assert!(Condition::OperatorOnline.mentions(&online));
    let nested = Condition::All(vec![
        Condition::PagesAtLeast(2),
        Condition::Any(vec![Condition::ExitIntent, Condition::Not(Box::new(Condition::OperatorOnline))]),
    ]);
    assert!(nested.mentions(&online));
    assert!(!Condition::All(vec![Condition::PagesAtLeast(2), Condition::ExitIntent]).mentions(&online));
}
use crate::base::money::Money;
use crate::visitor::context::Product;
use crate::visitor::event::{ActiveTime, Event, EventData, PageView, ProductView, PromptRef, QuestionAnswered};

const T0: u64 = 1_790_000_000_000;

/// A visitor driven by a fake clock: every step moves time forward and applies an event.
struct Visit {
    session: Session,
    now: u64,
    page: String,
}

impl Visit {
    fn start() -> Self {
        let mut visit = Visit { session: Session::new(), now: T0, page: String::new() };
        visit.open("https://shop.ru/");
        visit
    }

    fn apply(&mut self, data: EventData) {
        self.session.apply(&Event { id: "evt00000001".into(), at: self.now, data });
    }

    fn open(&mut self, url: &str) {
        self.page = url.into();
        self.apply(EventData::PageView(PageView { url: url.into(), title: String::new(), referrer: None }));
    }

    fn wait_active(&mut self, seconds: u32) {
        self.now += u64::from(seconds) * 1000;
        self.apply(EventData::ActiveTime(ActiveTime { seconds }));
    }

    fn view(&mut self, id: &str, category: &str, price: i64) {
        self.open(&format!("https://shop.ru/product/{id}/"));
        self.apply(EventData::ProductView(ProductView {
            product: Product {
                id: id.into(),
                name: id.into(),
                price: Some(Money { minor: price, currency: Currency::RUB }),
                image: None,
                url: None,
                category: Some(category.into()),
                suits_age: None,
            },
        }));
    }

    fn prompt(&mut self, make: fn(PromptRef) -> EventData, id: &str) {
        self.apply(make(PromptRef { prompt: id.into() }));
    }

    fn input(&self) -> EvalInput {
        EvalInput {
            now: self.now,
            weekday: Weekday::Tue,
            minute_of_day: 12 * 60,
            page_url: self.page.clone(),
            locale: Locale::Ru,
            operator_online: false,
            exit_intent: false,
            visitor: "visitor-1".into(),
        }
    }

    fn exit(&self) -> EvalInput {
        EvalInput { exit_intent: true, ..self.input() }
    }
}

fn holds(condition: Condition, visit: &Visit, input: &EvalInput) -> bool {
    evaluate(&condition, &WidgetConfig::default(), &visit.session, input)
}

/// A browsing visitor: two strollers viewed, one of them twice, 60 s active.
fn browsing() -> Visit {
    let mut visit = Visit::start();
    visit.view("nordika", "strollers", 3_490_000);
    visit.wait_active(30);
    visit.view("puffin", "strollers", 5_990_000);
    visit.view("nordika", "strollers", 3_490_000);
    visit.wait_active(30);
    visit
}

#[test]
fn product_conditions() {
    let visit = browsing();
    let input = visit.input();
    assert!(holds(Condition::ProductsViewedAtLeast(3), &visit, &input));
    assert!(!holds(Condition::ProductsViewedAtLeast(4), &visit, &input));
    assert!(holds(Condition::DistinctProductsAtLeast(2), &visit, &input));
    assert!(!holds(Condition::DistinctProductsAtLeast(3), &visit, &input));
    assert!(holds(Condition::SameProductViewedAtLeast(2), &visit, &input));
    assert!(!holds(Condition::SameProductViewedAtLeast(3), &visit, &input));
    assert!(holds(Condition::ProductCategory("Strollers".into()), &visit, &input));
    assert!(!holds(Condition::ProductCategory("car-seats".into()), &visit, &input));
    let range = |min, max, currency| Condition::PriceBetween(PriceRange { min, max, currency });
    assert!(holds(range(Some(5_000_000), None, None), &visit, &input));
    assert!(holds(range(None, Some(3_490_000), Some(Currency::RUB)), &visit, &input));
    assert!(!holds(range(Some(3_500_000), Some(5_000_000), None), &visit, &input));
    let usd = Currency::try_from("USD".to_owned()).unwrap();
    assert!(!holds(range(Some(0), None, Some(usd)), &visit, &input));
}

#[test]
fn time_page_and_moment_conditions() {
    let visit = browsing();
    let input = visit.input();
    assert!(holds(Condition::ActiveSecondsAtLeast(60), &visit, &input));
    assert!(!holds(Condition::ActiveSecondsAtLeast(61), &visit, &input));
    assert!(holds(Condition::PagesAtLeast(4), &visit, &input));
    assert!(!holds(Condition::PagesAtLeast(5), &visit, &input));
    assert!(!holds(Condition::ExitIntent, &visit, &input));
    assert!(holds(Condition::ExitIntent, &visit, &visit.exit()));
    assert!(holds(Condition::UrlMatches("/product/*".into()), &visit, &input));
    assert!(!holds(Condition::UrlMatches("/catalog/**".into()), &visit, &input));
    assert!(!holds(Condition::ReturningVisitor, &visit, &input));
    assert!(!holds(Condition::OperatorOnline, &visit, &input));
    assert!(holds(Condition::OperatorOnline, &visit, &EvalInput { operator_online: true, ..input.clone() }));
    assert!(holds(Condition::WithinBusinessHours, &visit, &input));
    assert!(!holds(Condition::WithinBusinessHours, &visit, &EvalInput { weekday: Weekday::Sun, ..input.clone() }));
    assert!(!holds(Condition::WithinBusinessHours, &visit, &EvalInput { minute_of_day: 22 * 60, ..input.clone() }));
    assert!(holds(Condition::Locale(Locale::Ru), &visit, &input));
    assert!(!holds(Condition::Locale(Locale::En), &visit, &input));
}

#[test]
fn returning_answers_and_combinators() {
    let mut visit = browsing();
    visit.apply(EventData::QuestionAnswered(QuestionAnswered {
        prompt: "child_age".into(),
        question: "Сколько лет ребёнку?".into(),
        answer: "0-1".into(),
    }));
    visit.now += VISIT_GAP;
    visit.open("https://shop.ru/");
    let input = visit.input();
    let answer = |is: &str| Condition::Answer(AnswerIs { prompt: "child_age".into(), is: is.into() });
    assert!(holds(Condition::ReturningVisitor, &visit, &input));
    assert!(holds(answer("0-1"), &visit, &input));
    assert!(!holds(answer("1-3"), &visit, &input));
    assert!(holds(Condition::All(vec![answer("0-1"), Condition::ReturningVisitor]), &visit, &input));
    assert!(!holds(Condition::All(vec![answer("0-1"), Condition::ExitIntent]), &visit, &input));
    assert!(holds(Condition::Any(vec![answer("1-3"), Condition::ReturningVisitor]), &visit, &input));
    assert!(!holds(Condition::Any(vec![answer("1-3"), Condition::ExitIntent]), &visit, &input));
    assert!(holds(Condition::Not(Box::new(Condition::ExitIntent)), &visit, &input));
    // Pages and active time count the current visit only; products are remembered.
    assert!(!holds(Condition::PagesAtLeast(2), &visit, &input));
    assert!(!holds(Condition::ActiveSecondsAtLeast(1), &visit, &input));
    assert!(holds(Condition::DistinctProductsAtLeast(2), &visit, &input));
}

const VISIT_GAP: u64 = crate::visitor::session::VISIT_TIMEOUT_MS + 1;

#[test]
fn comparison_on_exit_after_two_products() {
    let config = WidgetConfig::default();
    let visit = browsing();
    // Without exit intent the gentler question is what fits this moment.
    assert_eq!(decide(&config, &visit.session, &visit.input()).prompt(), Some("child_age"));
    assert_eq!(
        decide(&config, &visit.session, &visit.exit()),
        Decision::Show { prompt: "compare_by_email".into(), variant: CopyVariant::Regular }
    );
    let mut one_product = Visit::start();
    one_product.view("nordika", "strollers", 1);
    one_product.wait_active(60);
    let verdicts = explain(&config, &one_product.session, &one_product.exit());
    assert_eq!(verdicts[0], ("compare_by_email".into(), PromptVerdict::NothingToCompare));
}

#[test]
fn no_prompt_before_minimum_dwell() {
    let config = WidgetConfig::default();
    let mut visit = Visit::start();
    visit.view("a", "strollers", 1);
    visit.view("b", "strollers", 1);
    visit.wait_active(20);
    assert_eq!(decide(&config, &visit.session, &visit.exit()), Decision::Hold(HoldReason::DwellTooShort));
    // Wall time alone is not enough: a background tab is not a visitor who stayed.
    visit.now += 60_000;
    assert_eq!(decide(&config, &visit.session, &visit.exit()), Decision::Hold(HoldReason::DwellTooShort));
    visit.wait_active(10);
    assert_eq!(decide(&config, &visit.session, &visit.exit()).prompt(), Some("compare_by_email"));
    // Active time alone is not enough either (a forged or buggy timer).
    let mut hasty = Visit::start();
    hasty.view("a", "strollers", 1);
    hasty.view("b", "strollers", 1);
    hasty.apply(EventData::ActiveTime(ActiveTime { seconds: 600 }));
    hasty.now += 20_000;
    assert_eq!(decide(&config, &hasty.session, &hasty.exit()), Decision::Hold(HoldReason::DwellTooShort));
    // A config cannot lower the floor.
    let mut eager = WidgetConfig::default();
    eager.guardrails.min_dwell_seconds = 0;
    assert_eq!(decide(&eager, &hasty.session, &hasty.exit()), Decision::Hold(HoldReason::DwellTooShort));
}

#[test]
fn the_clock_free_guardrails_answer_alone_exactly_as_decide_does() {
    let config = WidgetConfig::default();
    let mut visit = Visit::start();
    visit.view("a", "strollers", 1);
    visit.view("b", "strollers", 1);
    let at = |visit: &Visit| (visit.now, visit.exit().page_url);
    let (now, url) = at(&visit);
    assert_eq!(hold(&config, &visit.session, now, &url, false), Some(HoldReason::DwellTooShort));
    visit.wait_active(40);
    let (now, url) = at(&visit);
    assert_eq!(hold(&config, &visit.session, now, &url, false), None, "past the dwell only the rules remain");
    assert_eq!(decide(&config, &visit.session, &visit.exit()).prompt(), Some("compare_by_email"));
    visit.session.set_chat_open(true);
    assert_eq!(hold(&config, &visit.session, now, &url, false), Some(HoldReason::ChatOpen));
    assert_eq!(decide(&config, &visit.session, &visit.exit()), Decision::Hold(HoldReason::ChatOpen));
}

#[test]
fn callback_needs_five_active_minutes_and_switches_copy_after_hours() {
    let mut config = WidgetConfig::default();
    // A careless owner rule: callback for anyone who viewed a product.
    config.prompts[1].when = Condition::DistinctProductsAtLeast(1);
    let mut visit = Visit::start();
    visit.view("orsa", "car-seats", 2_000_000);
    visit.wait_active(299);
    let callback_verdict = |visit: &Visit| explain(&config, &visit.session, &visit.input())[1].1;
    assert_eq!(callback_verdict(&visit), PromptVerdict::CallbackTooEarly);
    visit.wait_active(1);
    assert_eq!(callback_verdict(&visit), PromptVerdict::Eligible);
    let default = WidgetConfig::default();
    let input = visit.input();
    // The question (2 pages, a product) is lower in priority than the callback.
    assert_eq!(
        decide(&default, &visit.session, &input),
        Decision::Show { prompt: "callback".into(), variant: CopyVariant::Regular }
    );
    let night = EvalInput { minute_of_day: 23 * 60, ..input.clone() };
    assert_eq!(
        decide(&default, &visit.session, &night),
        Decision::Show { prompt: "callback".into(), variant: CopyVariant::AfterHours }
    );
    let night_with_operator = EvalInput { operator_online: true, ..night };
    assert_eq!(
        decide(&default, &visit.session, &night_with_operator),
        Decision::Show { prompt: "callback".into(), variant: CopyVariant::Regular }
    );
}

#[test]
fn one_prompt_at_a_time_and_a_cap_per_visit() {
    let config = WidgetConfig::default();
    let mut visit = browsing();
    visit.prompt(EventData::PromptShown, "compare_by_email");
    assert_eq!(decide(&config, &visit.session, &visit.exit()), Decision::Hold(HoldReason::PromptVisible));
    visit.prompt(EventData::PromptDismissed, "compare_by_email");
    // Once per visit: the comparison does not come back on the next exit intent.
    assert_eq!(explain(&config, &visit.session, &visit.exit())[0].1, PromptVerdict::CoolingDown {
        until: visit.now + 7 * DAY_MS
    });
    visit.wait_active(300);
    assert_eq!(decide(&config, &visit.session, &visit.input()).prompt(), Some("callback"));
    visit.prompt(EventData::PromptShown, "callback");
    visit.prompt(EventData::PromptDismissed, "callback");
    visit.open("https://shop.ru/catalog/");
    visit.wait_active(120);
    let online = EvalInput { operator_online: true, ..visit.input() };
    assert_eq!(explain(&config, &visit.session, &online)[3].1, PromptVerdict::Eligible);
    assert_eq!(decide(&config, &visit.session, &online), Decision::Hold(HoldReason::VisitCapReached));
    // A new visit resets the cap (but not the dismissals).
    visit.now += VISIT_GAP;
    visit.open("https://shop.ru/catalog/");
    visit.open("https://shop.ru/about/");
    visit.open("https://shop.ru/delivery/");
    visit.wait_active(120);
    let online = EvalInput { operator_online: true, ..visit.input() };
    assert_eq!(decide(&config, &visit.session, &online).prompt(), Some("child_age"));
}

#[test]
fn dismissed_prompts_cool_down_and_accepted_ones_never_return() {
    let config = WidgetConfig::default();
    let mut visit = browsing();
    visit.prompt(EventData::PromptShown, "compare_by_email");
    visit.prompt(EventData::PromptDismissed, "compare_by_email");
    let dismissed_at = visit.now;
    // Six days later, a new visit with a new exit intent: still quiet.
    visit.now = dismissed_at + 6 * DAY_MS;
    visit.open("https://shop.ru/");
    visit.wait_active(40);
    assert_eq!(decide(&config, &visit.session, &visit.exit()), Decision::Hold(HoldReason::NothingEligible));
    visit.now = dismissed_at + 7 * DAY_MS;
    visit.open("https://shop.ru/");
    visit.wait_active(40);
    assert_eq!(decide(&config, &visit.session, &visit.exit()).prompt(), Some("compare_by_email"));
    visit.prompt(EventData::PromptShown, "compare_by_email");
    visit.prompt(EventData::PromptAccepted, "compare_by_email");
    visit.now += 400 * DAY_MS;
    visit.open("https://shop.ru/");
    visit.wait_active(40);
    assert_eq!(explain(&config, &visit.session, &visit.exit())[0].1, PromptVerdict::Accepted);
    // A per-prompt override shortens (or lengthens) the wait.
    let mut short = WidgetConfig::default();
    short.prompts[0].cooldown_days = Some(1);
    let mut other = browsing();
    other.prompt(EventData::PromptShown, "compare_by_email");
    other.prompt(EventData::PromptDismissed, "compare_by_email");
    other.now += DAY_MS + VISIT_GAP;
    other.open("https://shop.ru/");
    other.wait_active(40);
    assert_eq!(decide(&short, &other.session, &other.exit()).prompt(), Some("compare_by_email"));
}

#[test]
fn answered_questions_are_not_asked_again() {
    let config = WidgetConfig::default();
    let mut visit = browsing();
    assert_eq!(explain(&config, &visit.session, &visit.input())[2].1, PromptVerdict::Eligible);
    visit.apply(EventData::QuestionAnswered(QuestionAnswered {
        prompt: "child_age".into(),
        question: "?".into(),
        answer: "expecting".into(),
    }));
    assert_eq!(explain(&config, &visit.session, &visit.input())[2].1, PromptVerdict::Accepted);
}

#[test]
fn chat_typing_and_excluded_paths_silence_everything() {
    let config = WidgetConfig { exclude_paths: vec!["/checkout/**".into()], ..WidgetConfig::default() };
    let mut visit = browsing();
    visit.session.set_chat_open(true);
    assert_eq!(decide(&config, &visit.session, &visit.exit()), Decision::Hold(HoldReason::ChatOpen));
    visit.session.set_chat_open(false);
    visit.session.set_typing_in_form(true);
    assert_eq!(decide(&config, &visit.session, &visit.exit()), Decision::Hold(HoldReason::TypingInForm));
    visit.session.set_typing_in_form(false);
    let checkout = EvalInput { page_url: "https://shop.ru/checkout/step-2?x=1".into(), ..visit.exit() };
    assert_eq!(decide(&config, &visit.session, &checkout), Decision::Hold(HoldReason::ExcludedPath));
    assert_eq!(decide(&config, &visit.session, &visit.exit()).prompt(), Some("compare_by_email"));
}

#[test]
fn a_stale_session_waits_for_the_next_visit() {
    let config = WidgetConfig::default();
    let visit = browsing();
    let later = EvalInput { now: visit.now + VISIT_GAP, ..visit.exit() };
    assert_eq!(decide(&config, &visit.session, &later), Decision::Hold(HoldReason::DwellTooShort));
    assert_eq!(decide(&config, &Session::new(), &visit.exit()), Decision::Hold(HoldReason::DwellTooShort));
}

#[test]
fn condition_json_shape() {
    let condition: Condition = serde_json::from_str(
        r#"{"any":[{"all":["exit_intent",{"distinct_products_at_least":2}]},{"not":"returning_visitor"},
            {"product_category":"car-seats"},{"price_between":{"min":1,"max":2}},{"url_matches":"/product/*"},
            "operator_online","within_business_hours",{"locale":"en"},{"answer":{"prompt":"child_age","is":"0-1"}},
            {"products_viewed_at_least":2},{"same_product_viewed_at_least":2},{"active_seconds_at_least":300},
            {"pages_at_least":3}]}"#,
    )
    .unwrap();
    let Condition::Any(list) = &condition else { panic!("not an any") };
    assert_eq!(list.len(), 13);
    let json = serde_json::to_value(&condition).unwrap();
    assert_eq!(json["any"][0]["all"][0], "exit_intent");
    assert_eq!(serde_json::from_value::<Condition>(json).unwrap(), condition);
    assert!(serde_json::from_str::<Condition>(r#"{"price_between":{"minimum":1}}"#).is_err());
    assert!(serde_json::from_str::<Condition>(r#""mind_reading""#).is_err());
}
