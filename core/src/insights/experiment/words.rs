//! An experiment's results in the owner's words, English and Russian: each arm's name and rate,
//! and the verdict as something to do ("Variant B wins: +23 % accepted. Make it the prompt's
//! words."). The numbers are formatted here, not in the console, so that they are tested and
//! read the same wherever they are shown.

use super::{ArmResult, Base, ExperimentResult, Rate, Verdict, MIN_PER_ARM};
use crate::base::locale::Locale;
use crate::prompts::config::experiment::CONTROL;

/// An arm as the owner knows it: the control is the prompt as it is now (its words, timing and
/// corner, whichever the variants change); a variant is
/// "Variant B" (a one-letter id in capitals, as the console names them), else its id as written.
pub fn arm_label(variant: &str, locale: Locale) -> String {
    if variant == CONTROL {
        return pick(locale, "As it is now", "Как сейчас").to_owned();
    }
    format!("{} {}", pick(locale, "Variant", "Вариант"), variant_name(variant))
}

/// `b` → `B`; a longer id stays as it is.
fn variant_name(variant: &str) -> String {
    if variant.chars().count() == 1 {
        variant.to_uppercase()
    } else {
        variant.to_owned()
    }
}

/// A share as a percentage with one decimal: `4.1 %` (`4,1 %` in Russian), a no-break space
/// before the sign.
pub fn percent(share: f64, locale: Locale) -> String {
    let number = format!("{:.1}", share * 100.0).replace('.', &locale.decimal_separator().to_string());
    format!("{number}\u{a0}%")
}

/// A rate with its 95 % interval: `4.1 % (3.2–5.3 %)`.
pub fn rate_with_interval(rate: &Rate, locale: Locale) -> String {
    let bare = |share: f64| format!("{:.1}", share * 100.0).replace('.', &locale.decimal_separator().to_string());
    format!("{} ({}–{})", percent(rate.rate, locale), bare(rate.low), percent(rate.high, locale))
}

/// An arm's rate as the table shows it, `—` before it was shown to anyone.
pub fn arm_rate(arm: &ArmResult, locale: Locale) -> String {
    arm.rate.as_ref().map_or_else(|| "—".to_owned(), |rate| rate_with_interval(rate, locale))
}

/// `n` rounded up to two significant digits (2,353 → 2,400): an estimate said as one, and a
/// rounding that never promises an answer sooner than the computation does.
pub fn about(n: u64) -> u64 {
    let mut unit = 1u64;
    while n / unit >= 100 {
        unit *= 10;
    }
    n.div_ceil(unit) * unit
}

/// The words a verdict uses for what an experiment tries and counts, by its [`Base`].
struct Terms {
    /// What each arm needs: `views` of the card, or `visitors`.
    counted: &'static str,
    /// How the lift is measured.
    accepted: &'static str,
    /// What a winner becomes.
    adopt: &'static str,
    control_wins: &'static str,
    /// What matters little when nothing differs.
    tried: &'static str,
    nobody: &'static str,
}

fn terms(base: Base, locale: Locale) -> Terms {
    match (base, locale) {
        (Base::Shown, Locale::En) => Terms {
            counted: "views",
            accepted: "accepted",
            adopt: "Make it the prompt's words.",
            control_wins: "The current words win. Stop the experiment and keep them.",
            tried: "The words matter little here",
            nobody: "the current words were accepted by nobody",
        },
        (Base::Shown, Locale::Ru) => Terms {
            counted: "показов",
            accepted: "согласий",
            adopt: "Сделайте его словами подсказки.",
            control_wins: "Текущие слова лучше. Остановите эксперимент и оставьте их.",
            tried: "Слова здесь мало что решают",
            nobody: "текущие слова не принял никто",
        },
        (Base::Visitors, Locale::En) => Terms {
            counted: "visitors",
            accepted: "accepted per visitor",
            adopt: "Keep it in the prompt.",
            control_wins: "The prompt as it is wins. Stop the experiment and keep it.",
            tried: "The timing matters little here",
            nobody: "nobody accepted the prompt as it is",
        },
        (Base::Visitors, Locale::Ru) => Terms {
            counted: "посетителей",
            accepted: "согласий на посетителя",
            adopt: "Оставьте его в подсказке.",
            control_wins: "Подсказка как есть лучше. Остановите эксперимент и оставьте её.",
            tried: "Время показа здесь мало что решает",
            nobody: "подсказку как есть не принял никто",
        },
    }
}

/// The verdict as the owner reads it, ending with what to do.
pub fn verdict(result: &ExperimentResult, locale: Locale) -> String {
    let fewest = result.arms.iter().map(|arm| arm.counts.base(result.base)).min().unwrap_or(0);
    let t = terms(result.base, locale);
    let (counted, accepted) = (t.counted, t.accepted);
    match &result.verdict {
        Verdict::Winner { variant, lift } => {
            let name = variant_name(variant);
            let (adopt, nobody) = (t.adopt, t.nobody);
            match (lift, locale) {
                (Some(lift), Locale::En) => format!("Variant {name} wins: {:+.0}\u{a0}% {accepted}. {adopt}", lift * 100.0),
                (Some(lift), Locale::Ru) => format!("Вариант {name} лучше: {:+.0}\u{a0}% {accepted}. {adopt}", lift * 100.0),
                (None, Locale::En) => format!("Variant {name} wins: {nobody}. {adopt}"),
                (None, Locale::Ru) => format!("Вариант {name} лучше: {nobody}. {adopt}"),
            }
        }
        Verdict::ControlWins => t.control_wins.to_owned(),
        Verdict::NoDifferenceYet { visitors_needed } if fewest >= *visitors_needed => {
            let (had, tried) = (locale.grouped(fewest), t.tried);
            match locale {
                Locale::En => format!(
                    "No difference: each variant had {had} {counted}, enough to see a fifth more accepted. {tried}; stop the experiment."
                ),
                Locale::Ru => format!(
                    "Разницы нет: у каждого варианта {had} {counted}, этого хватило бы, чтобы увидеть на пятую часть больше согласий. {tried}; остановите эксперимент."
                ),
            }
        }
        Verdict::NoDifferenceYet { visitors_needed } => {
            let (needed, so_far) = (locale.grouped(about(*visitors_needed)), locale.grouped(fewest));
            match locale {
                Locale::En => format!("No difference yet: each variant needs about {needed} {counted}; so far {so_far}."),
                Locale::Ru => format!("Разницы пока нет: каждому варианту нужно около {needed} {counted}, пока {so_far}."),
            }
        }
        Verdict::TooEarly if fewest < MIN_PER_ARM => {
            let so_far = locale.grouped(fewest);
            match locale {
                Locale::En => format!("Too early: every variant needs {MIN_PER_ARM} {counted} first; so far {so_far}."),
                Locale::Ru => format!("Рано судить: каждому варианту нужно сначала {MIN_PER_ARM} {counted}, пока {so_far}."),
            }
        }
        Verdict::TooEarly => pick(locale, "Too early: nobody has accepted yet.", "Рано судить: пока никто не согласился.").to_owned(),
    }
}

/// The verdict's kind, for the page's `data-verdict` (tests, styles): `winner`, `control_wins`,
/// `no_difference_yet`, `too_early`.
pub fn verdict_kind(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Winner { .. } => "winner",
        Verdict::ControlWins => "control_wins",
        Verdict::NoDifferenceYet { .. } => "no_difference_yet",
        Verdict::TooEarly => "too_early",
    }
}

fn pick(locale: Locale, en: &'static str, ru: &'static str) -> &'static str {
    match locale {
        Locale::En => en,
        Locale::Ru => ru,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{results, ArmCounts};
    use super::*;
    use crate::prompts::config::experiment::{Experiment, Variant};

    fn experiment() -> Experiment {
        Experiment { id: "spring".into(), variants: vec![Variant { id: "b".into(), copy: None, when: None, position: None }] }
    }

    fn judged(control: (u64, u64), b: (u64, u64)) -> ExperimentResult {
        let arm = |variant: &str, (converted, shown): (u64, u64)| ArmCounts { variant: variant.into(), visitors: shown * 3, shown, converted };
        results(&experiment(), &[arm(CONTROL, control), arm("b", b)])
    }

    #[test]
    fn arms_and_rates_read_as_the_owner_expects() {
        assert_eq!(arm_label(CONTROL, Locale::En), "As it is now");
        assert_eq!(arm_label("b", Locale::Ru), "Вариант B");
        assert_eq!(arm_label("short-title", Locale::En), "Variant short-title");
        let rate = Rate { rate: 0.041, low: 0.0324, high: 0.0529 };
        assert_eq!(rate_with_interval(&rate, Locale::En), "4.1\u{a0}% (3.2–5.3\u{a0}%)");
        assert_eq!(rate_with_interval(&rate, Locale::Ru), "4,1\u{a0}% (3,2–5,3\u{a0}%)");
        assert_eq!(Locale::En.grouped(2400), "2,400");
        assert_eq!(Locale::Ru.grouped(1_234_567), "1\u{a0}234\u{a0}567");
        assert_eq!(Locale::En.grouped(640), "640");
    }

    #[test]
    fn about_rounds_up_to_two_significant_digits() {
        for (n, rounded) in [(0, 0), (7, 7), (99, 99), (100, 100), (2353, 2400), (2400, 2400), (2401, 2500), (98_001, 99_000), (99_001, 100_000)] {
            assert_eq!(about(n), rounded, "{n}");
        }
    }

    #[test]
    fn each_verdict_says_what_to_do() {
        let winner = judged((6, 120), (30, 120));
        assert_eq!(verdict_kind(&winner.verdict), "winner");
        assert_eq!(verdict(&winner, Locale::En), "Variant B wins: +400\u{a0}% accepted. Make it the prompt's words.");
        assert_eq!(verdict(&winner, Locale::Ru), "Вариант B лучше: +400\u{a0}% согласий. Сделайте его словами подсказки.");

        let control = judged((30, 120), (6, 120));
        assert_eq!(verdict(&control, Locale::En), "The current words win. Stop the experiment and keep them.");

        let early = judged((3, 64), (1, 120));
        assert_eq!(verdict(&early, Locale::En), "Too early: every variant needs 100 views first; so far 64.");
        assert_eq!(verdict(&judged((0, 150), (0, 150)), Locale::Ru), "Рано судить: пока никто не согласился.");

        let waiting = judged((32, 640), (35, 700));
        let Verdict::NoDifferenceYet { visitors_needed } = waiting.verdict else { panic!("{waiting:?}") };
        let expected = Locale::En.grouped(about(visitors_needed));
        assert_eq!(verdict(&waiting, Locale::En), format!("No difference yet: each variant needs about {expected} views; so far 640."));
        assert!(verdict(&waiting, Locale::Ru).contains("пока 640"));

        // Enough views and still nothing: stop.
        let n = 20_000;
        let done = judged((n / 20, n), (n / 20 + 10, n));
        assert_eq!(verdict_kind(&done.verdict), "no_difference_yet");
        assert!(verdict(&done, Locale::En).starts_with("No difference: each variant had 20,000 views"), "{}", verdict(&done, Locale::En));
    }
}
