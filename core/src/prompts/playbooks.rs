//! The built-in playbooks: what a good salesperson in a baby shop would say, and when. A site that
//! configures nothing gets these; RU is the primary language, EN a faithful, equally warm version.

use crate::prompts::config::{
    AfterHoursCopy, AnsweredCopy, Choice, ConsentCopy, Localized, PromptCopy, PromptDefinition, PromptKind, Question,
};
use crate::prompts::judgement::Highlight;
use crate::prompts::rules::{AnswerIs, Condition};
use crate::base::locale::Locale;
use crate::visitor::context::AgeRange;

/// Consent text versions: bump when the wording changes, so stored leads keep pointing at the text
/// the visitor actually saw.
pub const COMPARISON_CONSENT_VERSION: &str = "comparison-email-2025-01";
pub const CALLBACK_CONSENT_VERSION: &str = "callback-2025-01";

/// In priority order: an exit-intent comparison beats everything (and replaces an untouched question
/// on the way out), a chat invitation comes last.
pub fn builtin_playbooks() -> Vec<PromptDefinition> {
    vec![comparison_by_email(), callback(), child_age_question(), chat_invitation()]
}

fn text(ru: &str, en: &str) -> Localized<String> {
    Localized::Both { ru: ru.into(), en: en.into() }
}

/// Someone who compared two or more models and is now leaving is still deciding: offer to take the
/// comparison home rather than letting them lose their tabs.
fn comparison_by_email() -> PromptDefinition {
    let consent = |text: &str| Some(ConsentCopy { text: text.into(), consent_version: COMPARISON_CONSENT_VERSION.into() });
    PromptDefinition {
        id: "compare_by_email".into(),
        kind: PromptKind::ComparisonEmail,
        copy: Localized::Both {
            ru: PromptCopy {
                title: "Сравнить спокойно, без спешки?".into(),
                body: "Вы посмотрели несколько моделей. Пришлём их сравнение на почту: цены, вес, размеры и другие \
                       характеристики рядом, с выделенными отличиями — чтобы можно было спокойно обсудить дома."
                    .into(),
                accept: "Прислать сравнение".into(),
                dismiss: "Не нужно".into(),
                consent: consent(
                    "Отправляя адрес, вы соглашаетесь получить одно письмо со сравнением. Никаких рассылок.",
                ),
                after_hours: None,
                answered: answered_comparison_copy(Locale::Ru),
            },
            en: PromptCopy {
                title: "Compare them at your own pace?".into(),
                body: "You've looked at a few models. We can email you a side-by-side comparison — prices, weight, \
                       sizes and the other specs, with the differences highlighted — so you can talk it over at home."
                    .into(),
                accept: "Email me the comparison".into(),
                dismiss: "No, thanks".into(),
                consent: consent("By sending your address you agree to receive this one comparison email. No newsletters."),
                after_hours: None,
                answered: answered_comparison_copy(Locale::En),
            },
        },
        priority: Some(40),
        cooldown_days: None,
        when: Condition::All(vec![Condition::ExitIntent, Condition::DistinctProductsAtLeast(2)]),
        enabled: true,
        experiment: None,
        position: None,
    }
}

/// The comparison's words once the visitor has told the child's age: the card then marks the
/// models that suit it (see the question's highlights), and says so.
fn answered_comparison_copy(locale: Locale) -> Vec<AnsweredCopy> {
    let answer = |is: &str| AnswerIs { prompt: CHILD_AGE.into(), is: is.into() };
    let (expecting_title, expecting_body, title, body) = match locale {
        Locale::Ru => (
            "Сравнить спокойно, пока есть время?",
            "До появления малыша выбирать лучше без спешки. Пришлём на почту сравнение моделей, которые вы \
             смотрели: цены, вес, размеры и другие характеристики рядом. То, что подходит с рождения, мы отметим.",
            "Сравнить то, что подходит по возрасту?",
            "Пришлём на почту сравнение моделей, которые вы смотрели: цены, вес, размеры и другие \
             характеристики рядом. То, что подходит вашему ребёнку по возрасту, мы отметим.",
        ),
        Locale::En => (
            "Compare them while there's time?",
            "Before the baby arrives is the best time to choose calmly. We can email you a side-by-side comparison \
             of the models you've looked at — prices, weight, sizes and the other specs. We'll mark the ones \
             suitable from birth.",
            "Compare what suits your child's age?",
            "We can email you a side-by-side comparison of the models you've looked at — prices, weight, sizes and \
             the other specs. We'll mark the ones that suit your child's age.",
        ),
    };
    let mut copy = vec![AnsweredCopy { answer: answer("expecting"), title: expecting_title.into(), body: expecting_body.into() }];
    for is in ["0-1", "1-3", "3-plus"] {
        copy.push(AnsweredCopy { answer: answer(is), title: title.into(), body: body.into() });
    }
    copy
}

/// The id of the built-in question about the child's age; answers to it are keyed by it.
pub const CHILD_AGE: &str = "child_age";

/// Five minutes of real attention on a product means a real question; a voice answers it fastest.
fn callback() -> PromptDefinition {
    let consent = |text: &str| Some(ConsentCopy { text: text.into(), consent_version: CALLBACK_CONSENT_VERSION.into() });
    PromptDefinition {
        id: "callback".into(),
        kind: PromptKind::Callback,
        copy: Localized::Both {
            ru: PromptCopy {
                title: "Хотите, мы позвоним?".into(),
                body: "Если проще обсудить голосом — оставьте номер. Специалист перезвонит в течение {minutes} минут \
                       и ответит на вопросы о моделях, которые вы смотрели."
                    .into(),
                accept: "Перезвоните мне".into(),
                dismiss: "Спасибо, я сам".into(),
                consent: consent("Оставляя номер, вы соглашаетесь на один звонок по вашему вопросу."),
                after_hours: Some(AfterHoursCopy {
                    title: "Позвоним, когда вам удобно".into(),
                    body: "Сейчас мы уже не на связи, но с радостью поможем. Выберите удобное время — специалист \
                           позвонит и ответит на вопросы о моделях, которые вы смотрели."
                        .into(),
                    accept: "Выбрать время".into(),
                }),
                answered: Vec::new(),
            },
            en: PromptCopy {
                title: "Would a quick call help?".into(),
                body: "If it's easier to talk it through, leave your number and a specialist will call you within \
                       {minutes} minutes about the models you've been looking at."
                    .into(),
                accept: "Call me back".into(),
                dismiss: "I'm fine, thanks".into(),
                consent: consent("By leaving your number you agree to one call about your question."),
                after_hours: Some(AfterHoursCopy {
                    title: "We'll call when it suits you".into(),
                    body: "We're away right now, but we'd be glad to help. Pick a time and a specialist will call \
                           you about the models you've been looking at."
                        .into(),
                    accept: "Choose a time".into(),
                }),
                answered: Vec::new(),
            },
        },
        priority: Some(30),
        cooldown_days: None,
        when: Condition::All(vec![Condition::DistinctProductsAtLeast(1), Condition::ActiveSecondsAtLeast(300)]),
        enabled: true,
        experiment: None,
        position: None,
    }
}

/// Strollers, car seats and cribs all depend on the child's age; asking once saves the visitor from
/// reading about the wrong group, and the answer lets other rules speak to them precisely.
fn child_age_question() -> PromptDefinition {
    // What each answer makes a later comparison point out: the products whose pages say they suit
    // that age (schema.org `audience`), so the shop never recommends what does not fit.
    let choice = |value: &str, ru: &str, en: &str, (min_months, max_months): (u16, Option<u16>)| Choice {
        value: value.into(),
        label: text(ru, en),
        highlight: Some(Highlight {
            suits_age: AgeRange { min_months, max_months },
            note: if min_months == 0 && max_months == Some(0) {
                text("С рождения", "From birth")
            } else {
                text("Подходит по возрасту", "Suits their age")
            },
        }),
    };
    PromptDefinition {
        id: CHILD_AGE.into(),
        kind: PromptKind::Question(Question {
            question: text("Сколько лет ребёнку?", "How old is your child?"),
            choices: vec![
                choice("expecting", "Ждём малыша", "We're expecting", (0, Some(0))),
                choice("0-1", "До года", "Under 1", (0, Some(12))),
                choice("1-3", "От года до трёх", "1 to 3 years", (12, Some(36))),
                choice("3-plus", "Старше трёх", "Over 3", (36, None)),
            ],
        }),
        copy: Localized::Both {
            ru: PromptCopy {
                title: "Подскажем, что подойдёт".into(),
                body: "Один вопрос — и мы покажем то, что подходит по возрасту.".into(),
                accept: "Ответить".into(),
                dismiss: "Не сейчас".into(),
                consent: None,
                after_hours: None,
                answered: Vec::new(),
            },
            en: PromptCopy {
                title: "Let us point you the right way".into(),
                body: "One quick question, and we'll show you what suits your child's age.".into(),
                accept: "Answer".into(),
                dismiss: "Not now".into(),
                consent: None,
                after_hours: None,
                answered: Vec::new(),
            },
        },
        priority: Some(20),
        cooldown_days: Some(30),
        when: Condition::All(vec![Condition::PagesAtLeast(2), Condition::DistinctProductsAtLeast(1)]),
        enabled: true,
        experiment: None,
        position: None,
    }
}

/// Only when someone is actually there to answer, and only for a visitor who is clearly browsing.
fn chat_invitation() -> PromptDefinition {
    PromptDefinition {
        id: "chat_invitation".into(),
        kind: PromptKind::ChatInvitation,
        copy: Localized::Both {
            ru: PromptCopy {
                title: "Мы на связи".into(),
                body: "Если что-то непонятно в моделях или доставке — напишите, консультант ответит прямо здесь.".into(),
                accept: "Написать".into(),
                dismiss: "Позже".into(),
                consent: None,
                after_hours: None,
                answered: Vec::new(),
            },
            en: PromptCopy {
                title: "We're here if you need us".into(),
                body: "If anything about the models or delivery is unclear, drop us a line — a consultant will answer \
                       right here."
                    .into(),
                accept: "Start a chat".into(),
                dismiss: "Maybe later".into(),
                consent: None,
                after_hours: None,
                answered: Vec::new(),
            },
        },
        priority: Some(10),
        cooldown_days: None,
        when: Condition::All(vec![
            Condition::OperatorOnline,
            Condition::PagesAtLeast(3),
            Condition::ActiveSecondsAtLeast(120),
        ]),
        enabled: true,
        experiment: None,
        position: None,
    }
}
