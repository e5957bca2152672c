//! Canned replies: the answers a shop gives again and again (delivery times, the returns policy,
//! the showroom's address), written once by the owner and put into the reply box by typing `/`
//! and a few letters of the reply's shortcut. Each reply is what a message may be (the chat's own
//! normalisation and length), so inserting one never produces a message the server refuses.

use serde::{Deserialize, Serialize};

use crate::base::error::{ApiError, ErrorCode};
use crate::chat::protocol::normalize_message_text;

/// Replies per site: enough for a shop's common questions, few enough to scan in a list.
pub const MAX_REPLIES: usize = 50;
pub const MAX_SHORTCUT_CHARS: usize = 24;
/// The body of `PUT …/canned-replies` at most (50 replies of 2,000 characters, in JSON).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// What starts a search in the reply box.
pub const TRIGGER: char = '/';

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CannedReply {
    /// What the operator types after `/`: `[a-z0-9а-яё_-]`, unique on the site.
    pub shortcut: String,
    pub text: String,
}

/// `GET`/`PUT /v1/admin/sites/:site/canned-replies`, `GET /v1/console/canned-replies`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct CannedReplies {
    pub replies: Vec<CannedReply>,
}

impl CannedReplies {
    /// The list as it is stored: shortcuts lower-cased, texts normalised like a message; a
    /// problem names its field (`replies[2].shortcut`).
    pub fn normalised(self) -> Result<CannedReplies, ApiError> {
        if self.replies.len() > MAX_REPLIES {
            return Err(invalid("replies", format!("at most {MAX_REPLIES} replies")));
        }
        let mut replies: Vec<CannedReply> = Vec::with_capacity(self.replies.len());
        for (i, reply) in self.replies.into_iter().enumerate() {
            let shortcut = reply.shortcut.trim().to_lowercase();
            let shaped = (1..=MAX_SHORTCUT_CHARS).contains(&shortcut.chars().count())
                && shortcut.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | 'а'..='я' | 'ё'));
            if !shaped {
                return Err(invalid(
                    &format!("replies[{i}].shortcut"),
                    format!("a shortcut is 1-{MAX_SHORTCUT_CHARS} letters, digits, - or _"),
                ));
            }
            if replies.iter().any(|r| r.shortcut == shortcut) {
                return Err(invalid(&format!("replies[{i}].shortcut"), format!("the shortcut {shortcut:?} is used twice")));
            }
            let text = normalize_message_text(&reply.text).map_err(|e| invalid(&format!("replies[{i}].text"), e.message))?;
            replies.push(CannedReply { shortcut, text });
        }
        Ok(CannedReplies { replies })
    }
}

fn invalid(field: &str, message: String) -> ApiError {
    let mut error = ApiError::new(ErrorCode::InvalidConfig, message);
    error.field = Some(field.to_owned());
    error
}

/// The replies a draft asks for: `None` unless it is `/` and a search (no spaces yet: the operator
/// is still choosing), else those whose shortcut starts with the search, then those whose
/// shortcut or text contains it, each group in the owner's order.
pub fn matching<'a>(replies: &'a [CannedReply], draft: &str) -> Option<Vec<&'a CannedReply>> {
    let search = draft.strip_prefix(TRIGGER)?;
    if search.chars().any(char::is_whitespace) {
        return None;
    }
    let search = search.to_lowercase();
    let starts: Vec<&CannedReply> = replies.iter().filter(|r| r.shortcut.starts_with(&search)).collect();
    let contains = replies
        .iter()
        .filter(|r| !r.shortcut.starts_with(&search) && (r.shortcut.contains(&search) || r.text.to_lowercase().contains(&search)));
    Some(starts.into_iter().chain(contains).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(shortcut: &str, text: &str) -> CannedReply {
        CannedReply { shortcut: shortcut.into(), text: text.into() }
    }

    #[test]
    fn a_list_is_stored_normalised_and_a_problem_names_its_field() {
        let list = CannedReplies { replies: vec![reply(" Доставка ", "  Доставим завтра.\r\nПо Москве — бесплатно. "), reply("return", "14 days.")] };
        let stored = list.normalised().expect("valid");
        assert_eq!(stored.replies[0], reply("доставка", "Доставим завтра.\nПо Москве — бесплатно."));
        let field = |list: Vec<CannedReply>| CannedReplies { replies: list }.normalised().expect_err("refused").field;
        assert_eq!(field(vec![reply("a b", "x")]), Some("replies[0].shortcut".into()));
        assert_eq!(field(vec![reply("", "x")]), Some("replies[0].shortcut".into()));
        assert_eq!(field(vec![reply("a", "x"), reply("A", "y")]), Some("replies[1].shortcut".into()), "the same once lower-cased");
        assert_eq!(field(vec![reply("a", " \u{202E} ")]), Some("replies[0].text".into()), "nothing left to send");
        assert_eq!(field(vec![reply("a", &"x".repeat(2001))]), Some("replies[0].text".into()));
        assert_eq!(field((0..=MAX_REPLIES).map(|i| reply(&format!("r{i}"), "x")).collect()), Some("replies".into()));
    }

    #[test]
    fn slash_and_letters_find_replies_by_shortcut_first_then_by_words() {
        let replies = [reply("delivery", "We deliver tomorrow."), reply("returns", "Returns within 14 days."), reply("hours", "Open daily, delivery included.")];
        let found = |draft: &str| matching(&replies, draft).map(|found| found.iter().map(|r| r.shortcut.as_str()).collect::<Vec<_>>());
        assert_eq!(found("hello"), None, "not a search");
        assert_eq!(found("/"), Some(vec!["delivery", "returns", "hours"]), "everything, in the owner's order");
        assert_eq!(found("/de"), Some(vec!["delivery", "hours"]), "the shortcut's start first, then the words");
        assert_eq!(found("/RET"), Some(vec!["returns"]));
        assert_eq!(found("/xyz"), Some(vec![]));
        assert_eq!(found("/de "), None, "a space: the operator is writing, not choosing");
    }
}
