//! JSON Merge Patch (RFC 7396): how a partial change travels. A patch names only what changes:
//! `{"copy": {"en": {"title": "Call me"}}}` changes one title and leaves every other word as it
//! was; `null` removes a member; anything that is not an object (a string, a number, a list)
//! replaces the value whole. The owner's console sends [`diff`] of what it loaded and what the
//! owner left in the form, so changing one word sends one word; the worker [`apply`]s it to the
//! stored document and validates the result as a whole.

use serde_json::{Map, Value};

/// Applies `patch` to `target` in place (RFC 7396, section 2).
pub fn apply(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(members) = target {
        for (key, change) in changes {
            if change.is_null() {
                members.remove(key);
            } else {
                apply(members.entry(key.clone()).or_insert(Value::Null), change);
            }
        }
    }
}

/// The smallest patch that turns `old` into `new`, or `None` when they are equal. Objects are
/// compared member by member; any other value that differs is sent whole. A `null` inside `new`
/// cannot be expressed by a merge patch (it means "remove"); the documents it is used for leave
/// absent values out rather than writing `null`.
pub fn diff(old: &Value, new: &Value) -> Option<Value> {
    if old == new {
        return None;
    }
    let (Value::Object(old), Value::Object(new)) = (old, new) else {
        return Some(new.clone());
    };
    let mut patch = Map::new();
    for (key, value) in new {
        match old.get(key) {
            Some(before) => {
                if let Some(change) = diff(before, value) {
                    patch.insert(key.clone(), change);
                }
            }
            None => {
                patch.insert(key.clone(), value.clone());
            }
        }
    }
    for key in old.keys().filter(|key| !new.contains_key(*key)) {
        patch.insert(key.clone(), Value::Null);
    }
    Some(Value::Object(patch))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn the_rfc_examples() {
        // RFC 7396, appendix A (a selection).
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "b"}), json!({"b": "c"}), json!({"a": "b", "b": "c"})),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (json!({"a": "b", "b": "c"}), json!({"a": null}), json!({"b": "c"})),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": {"b": "c"}}), json!({"a": {"b": "d", "c": null}}), json!({"a": {"b": "d"}})),
            (json!({"a": [{"b": "c"}]}), json!({"a": [1]}), json!({"a": [1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a": "b"}), json!(["c"]), json!(["c"])),
            (json!({"e": null}), json!({"a": 1}), json!({"e": null, "a": 1})),
            (json!([1, 2]), json!({"a": "b", "c": null}), json!({"a": "b"})),
            (json!({}), json!({"a": {"bb": {"ccc": null}}}), json!({"a": {"bb": {}}})),
        ];
        for (target, patch, expected) in cases {
            let mut result = target.clone();
            apply(&mut result, &patch);
            assert_eq!(result, expected, "{target} + {patch}");
        }
    }

    #[test]
    fn one_changed_word_is_a_patch_of_one_word() {
        let old = json!({"id": "callback", "copy": {"ru": {"title": "Позвонить?", "body": "…"}, "en": {"title": "Call?", "body": "…"}}});
        let mut new = old.clone();
        new["copy"]["en"]["title"] = json!("Call you?");
        assert_eq!(diff(&old, &new), Some(json!({"copy": {"en": {"title": "Call you?"}}})));
        let mut english_only = old.clone();
        english_only["copy"].as_object_mut().unwrap().remove("ru");
        assert_eq!(diff(&old, &english_only), Some(json!({"copy": {"ru": null}})));
        assert_eq!(diff(&old, &old), None);
    }

    /// JSON without `null`s (which a merge patch cannot set), nested a few levels.
    fn document() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            "[a-z ]{0,6}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map("[a-d]", inner, 0..5)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn applying_the_diff_gives_the_new_document(old in document(), new in document()) {
            let mut patched = old.clone();
            if let Some(patch) = diff(&old, &new) {
                apply(&mut patched, &patch);
            }
            prop_assert_eq!(patched, new);
        }

        #[test]
        fn a_diff_names_nothing_that_did_not_change(old in document(), new in document()) {
            // Applying the diff twice changes nothing more: it holds only the changes.
            if let Some(patch) = diff(&old, &new) {
                let mut once = old.clone();
                apply(&mut once, &patch);
                let mut twice = once.clone();
                apply(&mut twice, &patch);
                prop_assert_eq!(twice, once);
            }
        }
    }
}
