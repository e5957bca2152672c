//! A prompt's rule as the owner's form shows it: one field per kind of condition (products viewed,
//! active time, pages, exit intent, URL, hours, operator online, an answer), all of which must
//! hold. The rule stays the config's [`Condition`]; a field reads and writes its one part of the
//! top-level `all` in place, so the parts the form does not show (`any`, `not`, prices…) and the
//! order of the rest are kept, and a field the owner did not touch changes nothing.

use crate::prompts::rules::{AnswerIs, Condition};

/// The kinds of condition the form has a field for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `distinct_products_at_least`
    DistinctProducts,
    /// `products_viewed_at_least`
    ProductsViewed,
    /// `active_seconds_at_least`
    ActiveSeconds,
    /// `pages_at_least`
    Pages,
    /// `exit_intent`
    ExitIntent,
    /// `url_matches`
    Url,
    /// `within_business_hours`, or `{"not": "within_business_hours"}`
    Hours,
    /// `operator_online`
    OperatorOnline,
    /// `answer`
    Answer,
}

impl Field {
    pub const ALL: [Field; 9] = [
        Field::DistinctProducts,
        Field::ProductsViewed,
        Field::ActiveSeconds,
        Field::Pages,
        Field::ExitIntent,
        Field::Url,
        Field::Hours,
        Field::OperatorOnline,
        Field::Answer,
    ];

    /// The field a condition fills, if the form shows it.
    pub fn of(condition: &Condition) -> Option<Field> {
        Some(match condition {
            Condition::DistinctProductsAtLeast(_) => Field::DistinctProducts,
            Condition::ProductsViewedAtLeast(_) => Field::ProductsViewed,
            Condition::ActiveSecondsAtLeast(_) => Field::ActiveSeconds,
            Condition::PagesAtLeast(_) => Field::Pages,
            Condition::ExitIntent => Field::ExitIntent,
            Condition::UrlMatches(_) => Field::Url,
            Condition::WithinBusinessHours => Field::Hours,
            Condition::Not(inner) if **inner == Condition::WithinBusinessHours => Field::Hours,
            Condition::OperatorOnline => Field::OperatorOnline,
            Condition::Answer(_) => Field::Answer,
            _ => return None,
        })
    }

    /// The config's name of the condition, the last part of a problem's path (`when.all[1].active_seconds_at_least`).
    pub fn key(self) -> &'static str {
        match self {
            Field::DistinctProducts => "distinct_products_at_least",
            Field::ProductsViewed => "products_viewed_at_least",
            Field::ActiveSeconds => "active_seconds_at_least",
            Field::Pages => "pages_at_least",
            Field::ExitIntent => "exit_intent",
            Field::Url => "url_matches",
            Field::Hours => "within_business_hours",
            Field::OperatorOnline => "operator_online",
            Field::Answer => "answer",
        }
    }
}

/// The conditions that must all hold: the parts of a top-level `all`, or the one condition.
pub fn parts(when: &Condition) -> Vec<Condition> {
    match when {
        Condition::All(parts) => parts.clone(),
        single => vec![single.clone()],
    }
}

/// Where `field`'s part sits among [`parts`], with the part.
pub fn find(when: &Condition, field: Field) -> Option<(usize, Condition)> {
    parts(when).into_iter().enumerate().find(|(_, part)| Field::of(part) == Some(field))
}

/// The path of `field`'s part under the prompt's `when`, as validation names it: `when.all[1]` or
/// `when` (a rule of one condition); `None` when the rule has no such part.
pub fn path(when: &Condition, field: Field) -> Option<String> {
    let (index, _) = find(when, field)?;
    Some(match when {
        Condition::All(_) => format!("when.all[{index}].{}", field.key()),
        _ => format!("when.{}", field.key()),
    })
}

/// A number field's value (`None` when the rule has no such part).
pub fn number(when: &Condition, field: Field) -> Option<u32> {
    match find(when, field)?.1 {
        Condition::DistinctProductsAtLeast(n)
        | Condition::ProductsViewedAtLeast(n)
        | Condition::ActiveSecondsAtLeast(n)
        | Condition::PagesAtLeast(n) => Some(n),
        _ => None,
    }
}

/// Whether a yes/no part (exit intent, operator online) is in the rule.
pub fn has(when: &Condition, field: Field) -> bool {
    find(when, field).is_some()
}

/// The URL pattern, if any.
pub fn url(when: &Condition) -> Option<String> {
    match find(when, Field::Url)?.1 {
        Condition::UrlMatches(pattern) => Some(pattern),
        _ => None,
    }
}

/// The hours part: `Some(true)` within business hours, `Some(false)` outside them, `None` any time.
pub fn hours(when: &Condition) -> Option<bool> {
    find(when, Field::Hours).map(|(_, part)| part == Condition::WithinBusinessHours)
}

/// The answer the rule waits for, if any.
pub fn answer(when: &Condition) -> Option<AnswerIs> {
    match find(when, Field::Answer)?.1 {
        Condition::Answer(answer) => Some(answer),
        _ => None,
    }
}

/// `when` with `field`'s part replaced by `part` where it was, added at the end if it was not, or
/// removed for `None`. A rule of one condition becomes an `all` when a second part is added, and
/// an `all` keeps its shape when parts are removed.
pub fn with(when: &Condition, field: Field, part: Option<Condition>) -> Condition {
    let mut list = parts(when);
    let at = list.iter().position(|existing| Field::of(existing) == Some(field));
    match (at, part) {
        (Some(index), Some(part)) => list[index] = part,
        (Some(index), None) => {
            list.remove(index);
        }
        (None, Some(part)) => list.push(part),
        (None, None) => return when.clone(),
    }
    match (when, list.len()) {
        (Condition::All(_), _) => Condition::All(list),
        (_, 1) => list.remove(0),
        _ => Condition::All(list),
    }
}

/// [`with`] for a number field: `None` removes the part.
pub fn with_number(when: &Condition, field: Field, value: Option<u32>) -> Condition {
    let part = value.and_then(|n| match field {
        Field::DistinctProducts => Some(Condition::DistinctProductsAtLeast(n)),
        Field::ProductsViewed => Some(Condition::ProductsViewedAtLeast(n)),
        Field::ActiveSeconds => Some(Condition::ActiveSecondsAtLeast(n)),
        Field::Pages => Some(Condition::PagesAtLeast(n)),
        _ => None,
    });
    with(when, field, part)
}

/// [`with`] for a yes/no field.
pub fn with_flag(when: &Condition, field: Field, on: bool) -> Condition {
    let part = match field {
        Field::ExitIntent => Condition::ExitIntent,
        Field::OperatorOnline => Condition::OperatorOnline,
        _ => return when.clone(),
    };
    with(when, field, on.then_some(part))
}

/// [`with`] for the hours: see [`hours`].
pub fn with_hours(when: &Condition, within: Option<bool>) -> Condition {
    let part = within.map(|within| {
        if within {
            Condition::WithinBusinessHours
        } else {
            Condition::Not(Box::new(Condition::WithinBusinessHours))
        }
    });
    with(when, Field::Hours, part)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn shipped_question() -> Condition {
        Condition::All(vec![Condition::PagesAtLeast(2), Condition::DistinctProductsAtLeast(1)])
    }

    #[test]
    fn fields_read_and_write_their_own_part_in_place() {
        let when = shipped_question();
        assert_eq!(number(&when, Field::Pages), Some(2));
        assert_eq!(number(&when, Field::ActiveSeconds), None);
        assert_eq!(path(&when, Field::DistinctProducts).as_deref(), Some("when.all[1].distinct_products_at_least"));
        // Changing one keeps the order of the rest.
        let more = with_number(&when, Field::Pages, Some(3));
        assert_eq!(more, Condition::All(vec![Condition::PagesAtLeast(3), Condition::DistinctProductsAtLeast(1)]));
        // Adding goes at the end; removing leaves the rest.
        let timed = with_number(&more, Field::ActiveSeconds, Some(60));
        assert_eq!(path(&timed, Field::ActiveSeconds).as_deref(), Some("when.all[2].active_seconds_at_least"));
        assert_eq!(with_number(&timed, Field::ActiveSeconds, None), more);
        // Hours: within, outside, any time.
        let outside = with_hours(&when, Some(false));
        assert_eq!(hours(&outside), Some(false));
        assert_eq!(hours(&with_hours(&outside, Some(true))), Some(true));
        assert_eq!(with_hours(&outside, None), when);
        // A rule of one condition grows into an `all` and back.
        let single = Condition::OperatorOnline;
        let two = with_flag(&single, Field::ExitIntent, true);
        assert_eq!(two, Condition::All(vec![Condition::OperatorOnline, Condition::ExitIntent]));
        assert_eq!(path(&single, Field::OperatorOnline).as_deref(), Some("when.operator_online"));
        assert_eq!(with_flag(&two, Field::ExitIntent, false), Condition::All(vec![Condition::OperatorOnline]));
        // Parts the form does not show are kept.
        let rich = Condition::All(vec![Condition::Any(vec![Condition::ReturningVisitor]), Condition::ExitIntent]);
        assert_eq!(with_flag(&rich, Field::OperatorOnline, true), Condition::All(vec![
            Condition::Any(vec![Condition::ReturningVisitor]),
            Condition::ExitIntent,
            Condition::OperatorOnline
        ]));
        assert_eq!(url(&with(&rich, Field::Url, Some(Condition::UrlMatches("/p/**".into())))).as_deref(), Some("/p/**"));
    }

    fn part() -> impl Strategy<Value = Condition> {
        prop_oneof![
            (0u32..1000).prop_map(Condition::DistinctProductsAtLeast),
            (0u32..1000).prop_map(Condition::ActiveSecondsAtLeast),
            (0u32..1000).prop_map(Condition::PagesAtLeast),
            Just(Condition::ExitIntent),
            Just(Condition::OperatorOnline),
            Just(Condition::WithinBusinessHours),
            Just(Condition::ReturningVisitor),
            "/[a-z]{1,5}".prop_map(Condition::UrlMatches),
        ]
    }

    proptest! {
        /// Writing back the value a field shows changes nothing, so an untouched form is no change.
        #[test]
        fn writing_back_what_a_field_shows_changes_nothing(list in prop::collection::vec(part(), 1..6)) {
            let mut seen = Vec::new();
            let list: Vec<Condition> = list.into_iter().filter(|p| {
                let field = Field::of(p);
                let fresh = field.is_none() || !seen.contains(&field);
                seen.push(field);
                fresh
            }).collect();
            let when = Condition::All(list);
            for field in [Field::DistinctProducts, Field::ActiveSeconds, Field::Pages] {
                prop_assert_eq!(with_number(&when, field, number(&when, field)), when.clone());
            }
            for field in [Field::ExitIntent, Field::OperatorOnline] {
                prop_assert_eq!(with_flag(&when, field, has(&when, field)), when.clone());
            }
            prop_assert_eq!(with_hours(&when, hours(&when)), when.clone());
        }

        /// A field changes only its own part: every other part stays, in order.
        #[test]
        fn a_field_changes_only_its_part(list in prop::collection::vec(part(), 1..6), n in 0u32..1000) {
            let when = Condition::All(list);
            let changed = with_number(&when, Field::Pages, Some(n));
            let others = |c: &Condition| parts(c).into_iter().filter(|p| Field::of(p) != Some(Field::Pages)).collect::<Vec<_>>();
            let before = others(&when);
            let after = others(&changed);
            prop_assert_eq!(before, after);
            prop_assert_eq!(number(&changed, Field::Pages), Some(n));
        }
    }
}
