//! The results of a prompt's experiment: each arm's conversion with its 95 % interval, each
//! challenger against the control, and one verdict an owner can act on.
//!
//! - Conversion is accepted of those shown the card while the arms differ only in words or
//!   corner: every arm's card then reaches the same visitors, and the card is what is judged. Once
//!   some arm changes when the card appears, arms reach different numbers of visitors, and a
//!   timing that reaches more must be credited for it: conversion is then accepted of the arm's
//!   visitors ([`Base`]).
//! - Each arm's rate has a Wilson score interval: unlike the textbook `p ± 1.96·√(p(1-p)/n)` it
//!   stays inside 0-100 % and is honest for small samples and rates near zero, which is where a
//!   shop's prompts live.
//! - A challenger against the control is a two-sided two-proportion z-test with the pooled rate;
//!   its p-value is multiplied by the number of challengers (Bonferroni), so three challengers do
//!   not give three chances at a lucky winner.
//! - The verdict: [`Verdict::TooEarly`] until every arm's base reached [`MIN_PER_ARM`] and
//!   someone converted (the normal approximation is not to be trusted before that); then
//!   [`Verdict::Winner`] for the best challenger that beats the control at [`ALPHA`],
//!   [`Verdict::ControlWins`] when every challenger loses to it, else
//!   (until every arm reaches the planned sample, both need [`INTERIM_ALPHA`]: the owner may look
//!   every day, and each look at [`ALPHA`] would be another chance at a lucky winner), else
//!   [`Verdict::NoDifferenceYet`] with the visitors each arm needs to detect a lift of
//!   [`MIN_DETECTABLE_LIFT`] (the standard sample size for two proportions at [`ALPHA`], Bonferroni
//!   corrected like the test, and power [`POWER`]).
//!
//! The counts come from the funnel's rollups: a visitor-day counts once in `visitors` (of the
//! prompt's arm), in `shown` if shown the card, and in `converted` if they accepted it (or
//! answered the question).

use serde::{Deserialize, Serialize};

use crate::insights::day::Day;
use crate::insights::funnel::FunnelQuery;
use crate::prompts::config::experiment::{Experiment, CONTROL};
use crate::prompts::config::WidgetConfig;

/// The significance level of the verdict, for all challengers together.
pub const ALPHA: f64 = 0.05;
/// The power `visitors_needed` is computed for: an 80 % chance of seeing a real lift.
pub const POWER: f64 = 0.8;
/// The smallest lift worth knowing about, relative to the control's rate: 20 % (a 5 % rate against
/// 6 %). Smaller lifts exist, but a shop rarely has the visitors to see them, and an owner asked
/// to wait for half a million visitors stops listening.
pub const MIN_DETECTABLE_LIFT: f64 = 0.2;
/// Every arm's base (shown, or visitors) reaches this before any verdict.
pub const MIN_PER_ARM: u64 = 100;
/// The significance a verdict needs before every arm reaches the planned sample
/// (`visitors_needed`): the Haybittle-Peto boundary. The Results screen can be looked at every
/// day, and a verdict at [`ALPHA`] on each look would give a lucky arm many chances; interim looks
/// at 0.001 leave the final test its 0.05 almost whole.
pub const INTERIM_ALPHA: f64 = 0.001;
/// The 95 % two-sided normal quantile, for the intervals.
const Z_95: f64 = 1.959_963_984_540_054;

/// One arm's numbers, as summed from the rollups.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ArmCounts {
    /// `control` or the variant's id.
    pub variant: String,
    /// Visitor-days in the arm while the prompt was enabled: its audience.
    #[serde(default)]
    pub visitors: u64,
    pub shown: u64,
    /// Accepted (or answered) of those shown.
    pub converted: u64,
}

impl ArmCounts {
    /// What the arm's conversion is counted against.
    pub fn base(&self, base: Base) -> u64 {
        match base {
            Base::Shown => self.shown,
            Base::Visitors => self.visitors,
        }
    }
}

/// What an experiment's conversion is counted against (see the module's notes).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Base {
    /// Accepted of those shown the card: the arms differ in words or corner only.
    #[default]
    Shown,
    /// Accepted of the arm's visitors: some arm changes when the card appears.
    Visitors,
}

impl Base {
    pub fn of(experiment: &Experiment) -> Base {
        if experiment.variants.iter().any(|variant| variant.when.is_some()) {
            Base::Visitors
        } else {
            Base::Shown
        }
    }
}

/// A share with its 95 % Wilson interval, all as fractions (0.0-1.0).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub rate: f64,
    pub low: f64,
    pub high: f64,
}

/// A challenger against the control.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// Positive when the challenger converts better.
    pub z: f64,
    /// Two-sided, for this comparison alone.
    pub p_value: f64,
    /// Multiplied by the number of challengers (at most 1): what the verdict compares to [`ALPHA`].
    pub p_adjusted: f64,
    /// The challenger's rate relative to the control's (`0.25`: a quarter better); `None` while the
    /// control converted nobody.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lift: Option<f64>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ArmResult {
    #[serde(flatten)]
    pub counts: ArmCounts,
    /// `None` before the arm was shown to anyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Rate>,
    /// Against the control; `None` for the control itself or while either arm was shown to nobody.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vs_control: Option<Comparison>,
}

/// What the owner is told.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// This challenger converts better than the control, beyond chance.
    Winner {
        variant: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lift: Option<f64>,
    },
    /// Every challenger converts worse than the control, beyond chance: keep the prompt as it is.
    ControlWins,
    /// No difference beyond chance yet. `visitors_needed`: shown per arm, in total, to detect a
    /// [`MIN_DETECTABLE_LIFT`] over the control; once every arm has that many, a lift that big is
    /// unlikely and the experiment can stop.
    NoDifferenceYet { visitors_needed: u64 },
    /// Some arm's base is under [`MIN_PER_ARM`], or nobody converted yet.
    TooEarly,
}

/// One experiment's results.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ExperimentResult {
    pub experiment: String,
    /// What the rates are counted against.
    #[serde(default)]
    pub base: Base,
    /// The control first, then the variants in the config's order.
    pub arms: Vec<ArmResult>,
    pub verdict: Verdict,
}

/// One prompt's experiment in the owner's answer.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct PromptExperiment {
    pub prompt: String,
    #[serde(flatten)]
    pub result: ExperimentResult,
}

/// What `GET /v1/admin/sites/:site/experiments?from=&to=` answers (the funnel's range, 30 days
/// by default): every experiment the config runs, counted over those days.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Experiments {
    pub from: Day,
    pub to: Day,
    /// Days of the range that are not rolled up yet; their numbers are not in the counts.
    pub days_missing: u32,
    pub experiments: Vec<PromptExperiment>,
}

/// One arm's counts as the worker sums them from the rollups over a range
/// (`GROUP BY prompt, experiment, variant`, `converted` the sum of `accepted`).
/// [`ARM_SUMS`] is what it selects.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ArmRow {
    pub prompt: String,
    pub experiment: String,
    #[serde(flatten)]
    pub counts: ArmCounts,
}

/// The sums of the rollup columns an [`ArmRow`] is read from, as SQL (one per field).
pub const ARM_SUMS: &str = "'visitors', SUM(visitors), 'shown', SUM(shown), 'converted', SUM(accepted)";

/// The owner's answer: the results of every experiment `config` runs now, in the config's order,
/// each from the rows of its own prompt and experiment id (an earlier experiment of the same
/// prompt is left out).
pub fn experiments(config: &WidgetConfig, query: &FunnelQuery, rows: &[ArmRow], days_missing: u32) -> Experiments {
    let experiments = config
        .prompts
        .iter()
        .filter_map(|prompt| {
            let experiment = prompt.experiment.as_ref()?;
            let counts: Vec<ArmCounts> =
                rows.iter().filter(|row| row.prompt == prompt.id && row.experiment == experiment.id).map(|row| row.counts.clone()).collect();
            Some(PromptExperiment { prompt: prompt.id.clone(), result: results(experiment, &counts) })
        })
        .collect();
    Experiments { from: query.from, to: query.to, days_missing, experiments }
}

/// The results of `experiment` from its arms' `counts` (in any order; an arm without counts
/// has none yet, counts of an arm the experiment no longer has are left out).
pub fn results(experiment: &Experiment, counts: &[ArmCounts]) -> ExperimentResult {
    let names = std::iter::once(CONTROL).chain(experiment.variants.iter().map(|variant| variant.id.as_str()));
    let mut arms: Vec<ArmCounts> = names
        .map(|name| {
            let mut arm = ArmCounts { variant: name.to_owned(), visitors: 0, shown: 0, converted: 0 };
            for row in counts.iter().filter(|row| row.variant == name) {
                arm.visitors += row.visitors;
                arm.shown += row.shown;
                // Monotone like the funnel: a lost `prompt_shown` must not make a rate exceed 100 %.
                arm.converted += row.converted.min(row.shown);
            }
            arm
        })
        .collect();
    let base = Base::of(experiment);
    if base == Base::Visitors {
        // A day rolled up before prompts' rows counted their audience has none: its conversions
        // cannot be judged against it.
        for arm in &mut arms {
            arm.converted = arm.converted.min(arm.visitors);
        }
    }
    let control = arms[0].clone();
    let challengers = (arms.len() - 1).max(1) as f64;
    let arms: Vec<ArmResult> = arms
        .into_iter()
        .enumerate()
        .map(|(index, counts)| ArmResult {
            rate: wilson(counts.converted, counts.base(base)),
            vs_control: (index > 0).then(|| compare(&control, &counts, base, challengers)).flatten(),
            counts,
        })
        .collect();
    let verdict = verdict(&arms, base, challengers);
    ExperimentResult { experiment: experiment.id.clone(), base, arms, verdict }
}

fn verdict(arms: &[ArmResult], base: Base, challengers: f64) -> Verdict {
    let converted: u64 = arms.iter().map(|arm| arm.counts.converted).sum();
    if converted == 0 || arms.iter().any(|arm| arm.counts.base(base) < MIN_PER_ARM) {
        return Verdict::TooEarly;
    }
    let rate = |arm: &ArmResult| arm.counts.converted as f64 / arm.counts.base(base) as f64;
    // The control's rate is the baseline; while it converted nobody, the arms' pooled rate.
    let total: u64 = arms.iter().map(|arm| arm.counts.base(base)).sum();
    let baseline = if arms[0].counts.converted > 0 { rate(&arms[0]) } else { converted as f64 / total as f64 };
    let needed = visitors_needed(baseline, ALPHA / challengers);
    // The owner may look every day: before the planned sample only overwhelming evidence decides.
    let alpha = if arms.iter().all(|arm| arm.counts.base(base) >= needed) { ALPHA } else { INTERIM_ALPHA };
    let significant = |arm: &&ArmResult| arm.vs_control.is_some_and(|c| c.p_adjusted < alpha);
    let winner = arms[1..]
        .iter()
        .filter(significant)
        .filter(|arm| arm.vs_control.is_some_and(|c| c.z > 0.0))
        .max_by(|a, b| rate(a).total_cmp(&rate(b)));
    if let Some(winner) = winner {
        return Verdict::Winner { variant: winner.counts.variant.clone(), lift: winner.vs_control.and_then(|c| c.lift) };
    }
    if arms[1..].iter().all(|arm| significant(&arm) && arm.vs_control.is_some_and(|c| c.z < 0.0)) {
        return Verdict::ControlWins;
    }
    Verdict::NoDifferenceYet { visitors_needed: needed }
}

/// `converted` of `shown` with its 95 % Wilson score interval; `None` when `shown` is 0.
pub fn wilson(converted: u64, shown: u64) -> Option<Rate> {
    if shown == 0 {
        return None;
    }
    let n = shown as f64;
    let p = converted.min(shown) as f64 / n;
    let z2 = Z_95 * Z_95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z_95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // The interval always holds the rate; rounding must not say otherwise at 0 or 100 %.
    Some(Rate { rate: p, low: (centre - half).clamp(0.0, p), high: (centre + half).clamp(p, 1.0) })
}

/// The pooled two-proportion z-test of `challenger` against `control` on `base`, its p-value
/// Bonferroni corrected for `challengers`; `None` when either arm's base is empty.
fn compare(control: &ArmCounts, challenger: &ArmCounts, base: Base, challengers: f64) -> Option<Comparison> {
    let (control_base, challenger_base) = (control.base(base), challenger.base(base));
    let (z, p_value) = two_proportion_z(control.converted, control_base, challenger.converted, challenger_base)?;
    let control_rate = control.converted as f64 / control_base as f64;
    let lift = (control.converted > 0).then(|| (challenger.converted as f64 / challenger_base as f64) / control_rate - 1.0);
    Some(Comparison { z, p_value, p_adjusted: (p_value * challengers).min(1.0), lift })
}

/// The z statistic of rate b against rate a (positive when b is higher) with the pooled rate, and
/// its two-sided p-value. `None` when either sample is empty. When nobody or everybody converted in
/// both, there is no difference to see: z 0, p 1.
pub fn two_proportion_z(converted_a: u64, shown_a: u64, converted_b: u64, shown_b: u64) -> Option<(f64, f64)> {
    if shown_a == 0 || shown_b == 0 {
        return None;
    }
    let (na, nb) = (shown_a as f64, shown_b as f64);
    let (pa, pb) = (converted_a as f64 / na, converted_b as f64 / nb);
    let pooled = (converted_a + converted_b) as f64 / (na + nb);
    let se = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
    if se == 0.0 {
        return Some((0.0, 1.0));
    }
    let z = (pb - pa) / se;
    Some((z, erfc(z.abs() / std::f64::consts::SQRT_2)))
}

/// Visitors per arm to detect a [`MIN_DETECTABLE_LIFT`] over `baseline` with a two-sided test at
/// `alpha` and power [`POWER`]:
/// `n = (z(1-α/2)·√(2·p̄(1-p̄)) + z(power)·√(p1(1-p1) + p2(1-p2)))² / (p2-p1)²`, with
/// `p2 = p1·(1 + lift)` (at most 1) and `p̄` their mean, rounded up. 0 when no lift is possible
/// (a baseline of 0 or 100 %).
pub fn visitors_needed(baseline: f64, alpha: f64) -> u64 {
    let p1 = baseline.clamp(0.0, 1.0);
    let p2 = (p1 * (1.0 + MIN_DETECTABLE_LIFT)).min(1.0);
    if p2 - p1 <= 0.0 {
        return 0;
    }
    let mean = (p1 + p2) / 2.0;
    let numerator = normal_quantile(1.0 - alpha / 2.0) * (2.0 * mean * (1.0 - mean)).sqrt()
        + normal_quantile(POWER) * (p1 * (1.0 - p1) + p2 * (1.0 - p2)).sqrt();
    (numerator * numerator / ((p2 - p1) * (p2 - p1))).ceil() as u64
}

/// The standard normal distribution function.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// The `q` quantile of the standard normal distribution (0 < q < 1), by bisection on
/// [`normal_cdf`]: the few quantiles the sample size needs do not deserve a rational
/// approximation of their own.
pub fn normal_quantile(q: f64) -> f64 {
    let (mut low, mut high) = (-40.0_f64, 40.0_f64);
    for _ in 0..100 {
        let mid = (low + high) / 2.0;
        if normal_cdf(mid) < q {
            low = mid;
        } else {
            high = mid;
        }
    }
    (low + high) / 2.0
}

/// The complementary error function, to about 1e-14 relative everywhere (checked against
/// Python's `math.erfc` in the tests). Below 1.5 the series
/// `erf(x) = 2/√π · e^(-x²) · Σ 2ⁿ·x^(2n+1) / (1·3·…·(2n+1))`, whose terms are all positive (no
/// cancellation), and `1 - erf`; from 1.5 on, where `1 - erf` would lose digits, the continued
/// fraction `erfc(x) = e^(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))`, evaluated from
/// its 200th term back.
pub fn erfc(x: f64) -> f64 {
    const FRAC_1_SQRT_PI: f64 = 0.564_189_583_547_756_3;
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 1.5 {
        let (mut term, mut sum, mut n) = (x, x, 0.0);
        loop {
            n += 1.0;
            term *= 2.0 * x * x / (2.0 * n + 1.0);
            sum += term;
            if term <= sum * 1e-17 {
                break;
            }
        }
        return 1.0 - 2.0 * FRAC_1_SQRT_PI * (-x * x).exp() * sum;
    }
    let mut fraction = x;
    for k in (1..=200).rev() {
        fraction = x + f64::from(k) / 2.0 / fraction;
    }
    FRAC_1_SQRT_PI * (-x * x).exp() / fraction
}

pub mod words;

#[cfg(test)]
mod tests;
