//! The built-in playbooks: what a good salesperson in a baby shop would say, and when. A site that
//! configures nothing gets these; RU is the primary language, EN a faithful, equally warm version.

use crate::prompts::config::{
    AfterHoursCopy, Choice, ConsentCopy, Localized, PromptCopy, PromptDefinition, PromptKind, Question,
};
use crate::prompts::rules::Condition;

/// Consent text versions: bump when the wording changes, so stored leads keep pointing at the text
/// the visitor actually saw.
pub const COMPARISON_CONSENT_VERSION: &str = "comparison-email-2025-01";
pub const CALLBACK_CONSENT_VERSION: &str = "callback-2025-01";

/// In priority order: an exit-intent comparison beats everything, a chat invitation comes last.
pub fn builtin_playbooks() -> Vec<PromptDefinition> {
    vec![comparison_by_email(), callback(), child_age_question(), chat_invitation()]
}

fn text(ru: &str, en: &str) -> Localized<String> {
    Localized { ru: ru.into(), en: en.into() }
}

/// Someone who compared two or more models and is now leaving is still deciding: offer to take the
/// comparison home rather than letting them lose their tabs.
fn comparison_by_email() -> PromptDefinition {
    let consent = |text: &str| Some(ConsentCopy { text: text.into(), consent_version: COMPARISON_CONSENT_VERSION.into() });
    PromptDefinition {
        id: "compare_by_email".into(),
        kind: PromptKind::ComparisonEmail,
        copy: Localized {
            ru: PromptCopy {
                title: "Сравнить спокойно, без спешки?".into(),
                body: "Вы посмотрели несколько моделей. Пришлём их сравнение на почту: цены, вес, размеры и наши \
                       заметки из шоурума — чтобы можно было спокойно обсудить дома."
                    .into(),
                accept: "Прислать сравнение".into(),
                dismiss: "Не нужно".into(),
                consent: consent(
                    "Отправляя адрес, вы соглашаетесь получить одно письмо со сравнением. Никаких рассылок.",
                ),
                after_hours: None,
            },
            en: PromptCopy {
                title: "Compare them at your own pace?".into(),
                body: "You've looked at a few models. We can email you a side-by-side comparison — prices, weight, \
                       sizes and our notes from the showroom — so you can talk it over at home."
                    .into(),
                accept: "Email me the comparison".into(),
                dismiss: "No, thanks".into(),
                consent: consent("By sending your address you agree to receive this one comparison email. No newsletters."),
                after_hours: None,
            },
        },
        cooldown_days: None,
        when: Condition::All(vec![Condition::ExitIntent, Condition::DistinctProductsAtLeast(2)]),
    }
}

/// Five minutes of real attention on a product means a real question; a voice answers it fastest.
fn callback() -> PromptDefinition {
    let consent = |text: &str| Some(ConsentCopy { text: text.into(), consent_version: CALLBACK_CONSENT_VERSION.into() });
    PromptDefinition {
        id: "callback".into(),
        kind: PromptKind::Callback,
        copy: Localized {
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
            },
        },
        cooldown_days: None,
        when: Condition::All(vec![Condition::DistinctProductsAtLeast(1), Condition::ActiveSecondsAtLeast(300)]),
    }
}

/// Strollers, car seats and cribs all depend on the child's age; asking once saves the visitor from
/// reading about the wrong group, and the answer lets other rules speak to them precisely.
fn child_age_question() -> PromptDefinition {
    let choice = |value: &str, ru: &str, en: &str| Choice { value: value.into(), label: text(ru, en) };
    PromptDefinition {
        id: "child_age".into(),
        kind: PromptKind::Question(Question {
            question: text("Сколько лет ребёнку?", "How old is your child?"),
            choices: vec![
                choice("expecting", "Ждём малыша", "We're expecting"),
                choice("0-1", "До года", "Under 1"),
                choice("1-3", "От года до трёх", "1 to 3 years"),
                choice("3-plus", "Старше трёх", "Over 3"),
            ],
        }),
        copy: Localized {
            ru: PromptCopy {
                title: "Подскажем, что подойдёт".into(),
                body: "Один вопрос — и мы покажем то, что подходит по возрасту.".into(),
                accept: "Ответить".into(),
                dismiss: "Не сейчас".into(),
                consent: None,
                after_hours: None,
            },
            en: PromptCopy {
                title: "Let us point you the right way".into(),
                body: "One quick question, and we'll show you what suits your child's age.".into(),
                accept: "Answer".into(),
                dismiss: "Not now".into(),
                consent: None,
                after_hours: None,
            },
        },
        cooldown_days: Some(30),
        when: Condition::All(vec![Condition::PagesAtLeast(2), Condition::DistinctProductsAtLeast(1)]),
    }
}

/// Only when someone is actually there to answer, and only for a visitor who is clearly browsing.
fn chat_invitation() -> PromptDefinition {
    PromptDefinition {
        id: "chat_invitation".into(),
        kind: PromptKind::ChatInvitation,
        copy: Localized {
            ru: PromptCopy {
                title: "Мы на связи".into(),
                body: "Если что-то непонятно в моделях или доставке — напишите, консультант ответит прямо здесь.".into(),
                accept: "Написать".into(),
                dismiss: "Позже".into(),
                consent: None,
                after_hours: None,
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
            },
        },
        cooldown_days: None,
        when: Condition::All(vec![
            Condition::OperatorOnline,
            Condition::PagesAtLeast(3),
            Condition::ActiveSecondsAtLeast(120),
        ]),
    }
}
