//! [`ConversationStore`] over a Durable Object's SQLite database (`state.storage().sql()`).
//!
//! Schema (per Conversation object; `prefix` lets the self-check keep scratch copies apart):
//!
//! ```sql
//! messages (seq INTEGER PRIMARY KEY, side TEXT, author TEXT NOT NULL, text TEXT NOT NULL,
//!           at INTEGER NOT NULL, client_msg_id TEXT, action TEXT)  -- action: JSON, see [`Extra`]
//!   UNIQUE (side, client_msg_id) WHERE client_msg_id IS NOT NULL;  INDEX (side, seq)
//! state (key TEXT PRIMARY KEY, value TEXT NOT NULL)   -- JSON values, each key and type in [`state`]
//! outbox (id TEXT PRIMARY KEY, type TEXT NOT NULL, payload TEXT NOT NULL, created_at INTEGER NOT NULL)
//! ```
//!
//! and per SiteHub object ([`EntryTable`]):
//!
//! ```sql
//! entries (id TEXT PRIMARY KEY, revision INTEGER NOT NULL, entry TEXT NOT NULL)  -- JSON ConversationEntry
//! ```
//!
//! The seq is the row id: SQLite's `INTEGER PRIMARY KEY` plus "the next seq is last + 1" computed
//! in the same synchronous call, so seqs are gapless by construction (core re-checks it anyway).
//!
//! A [`SqlStore`] keeps what core reads on every message (the meta, the last message, the read
//! markers, the unread counts) in memory after the first read, written through: the object is the
//! only writer of its storage and runs one event at a time, so the copy is the truth as long as the
//! store lives. It lives as long as the object's loaded logic; an erasure drops both.

use std::cell::RefCell;
use std::marker::PhantomData;

use floorwalker_core::base::error::ApiError;
use floorwalker_core::chat::attachment::Attachment;
use floorwalker_core::chat::conversation::ConversationMeta;
use floorwalker_core::chat::conversation::store::{ConversationStore, NewMessage};
use floorwalker_core::chat::hub::ConversationEntry;
use floorwalker_core::chat::protocol::{message_id, Author, ChatMessage, MessageAction, Side};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use worker::{SqlStorage, SqlStorageValue};

use crate::http::internal;

/// One value in a Conversation's `state` table: its key and the type stored under it.
pub struct StateKey<T> {
    key: &'static str,
    value: PhantomData<fn() -> T>,
}

impl<T> Clone for StateKey<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for StateKey<T> {}

impl<T> StateKey<T> {
    const fn new(key: &'static str) -> Self {
        StateKey { key, value: PhantomData }
    }
}

/// Everything a Conversation keeps in its `state` table, named once.
pub mod state {
    use floorwalker_core::chat::conversation::{ConversationMeta, TokenBucket};
    use floorwalker_core::chat::protocol::Side;
    use floorwalker_core::outbound::chat_events::TranscriptLog;
    use floorwalker_core::visitor::context::VisitorContext;

    use super::{ConversationSettings, StateKey};

    /// Written once by the init call; its absence means "no such conversation".
    pub const SETTINGS: StateKey<ConversationSettings> = StateKey::new("settings");
    pub const META: StateKey<ConversationMeta> = StateKey::new("meta");
    /// The visitor context the conversation started with (goes out with `conversation.closed`).
    pub const CONTEXT: StateKey<VisitorContext> = StateKey::new("context");
    /// The visitor's message rate limit, kept across hibernation.
    pub const RATE_LIMIT: StateKey<TokenBucket> = StateKey::new("bucket");
    /// The hub's last word on whether any operator is online.
    pub const OPERATOR_ONLINE: StateKey<bool> = StateKey::new("operator_online");
    /// When to check that the visitor got an answer.
    pub const REPLY_AT: StateKey<u64> = StateKey::new("reply_at");
    /// Whether the team was alerted of this conversation's wait (decided once, under the site's
    /// hourly cap), so a retried flush neither counts it twice nor alerts twice.
    pub const TEAM_ALERTED: StateKey<bool> = StateKey::new("team_alerted");
    /// Transcripts sent by email (one per address and window).
    pub const TRANSCRIPT_LOG: StateKey<TranscriptLog> = StateKey::new("transcripts_sent");

    /// How far each side has read.
    pub const fn read_marker(side: Side) -> StateKey<u64> {
        match side {
            Side::Visitor => StateKey::new("read:visitor"),
            Side::Operator => StateKey::new("read:operator"),
        }
    }
}

/// A conversation's own settings, stored once by the init call.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ConversationSettings {
    pub conversation_id: String,
    pub site: String,
    pub locale: floorwalker_core::base::locale::Locale,
    pub reply_wait_ms: u64,
    /// The site's silence before the conversation closes itself (objects set up before it existed
    /// read the default).
    #[serde(default = "default_idle_close_ms")]
    pub idle_close_ms: u64,
}

fn default_idle_close_ms() -> u64 {
    floorwalker_core::chat::conversation::DEFAULT_IDLE_CLOSE_MS
}

pub struct SqlStore {
    sql: SqlStorage,
    conversation_id: String,
    prefix: &'static str,
    cache: RefCell<Cache>,
    /// Off only for the self-check's run of the contract against SQLite itself.
    cached: bool,
}

/// What a store has read or written of its own rows (`None`: not read yet).
#[derive(Default)]
struct Cache {
    meta: Option<ConversationMeta>,
    last: Option<Option<ChatMessage>>,
    markers: [Option<u64>; 2],
    /// `count_by_after` answers, (author, after_seq, count), kept current by `append`; a handful
    /// at most (the operators' unread, the visitor's, whether an operator answered).
    counts: Vec<(Side, u64, u64)>,
}

const MAX_CACHED_COUNTS: usize = 4;

fn side_index(side: Side) -> usize {
    match side {
        Side::Visitor => 0,
        Side::Operator => 1,
    }
}

#[derive(Deserialize)]
struct MessageRow {
    seq: f64,
    author: String,
    text: String,
    at: f64,
    client_msg_id: Option<String>,
    action: Option<String>,
}

/// What a message's `action` column holds: a system notice's action (`"offer_callback"`, as every
/// row before files did), or a participant's file (`{"attachment":{...}}`). One column for both:
/// a message is never both, and no object needs a schema change.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Extra {
    Action(MessageAction),
    File { attachment: Attachment },
}

#[derive(Deserialize)]
struct ValueRow {
    value: String,
}

#[derive(Deserialize)]
struct CountRow {
    n: f64,
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Visitor => "visitor",
        Side::Operator => "operator",
    }
}

impl SqlStore {
    /// Opens the store; the tables must exist (see [`SqlStore::create_tables`]).
    pub fn open(sql: SqlStorage, conversation_id: &str, prefix: &'static str) -> SqlStore {
        SqlStore { sql, conversation_id: conversation_id.to_owned(), prefix, cache: RefCell::default(), cached: true }
    }

    /// The same store reading every value from SQLite each time (the self-check holds both to the
    /// contract: the tables themselves, and the copy kept in memory).
    pub fn uncached(self) -> SqlStore {
        SqlStore { cached: false, ..self }
    }

    fn remember(&self, f: impl FnOnce(&mut Cache)) {
        if self.cached {
            f(&mut self.cache.borrow_mut());
        }
    }

    /// Whether the tables exist: an object that was never set up has none, and must not write any
    /// (a request for a random conversation id would otherwise leave storage behind).
    pub fn tables_exist(sql: &SqlStorage, prefix: &'static str) -> Result<bool, ApiError> {
        let rows: Vec<CountRow> = sql
            .exec("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?", vec![format!("{prefix}state").into()])
            .and_then(|cursor| cursor.to_array())
            .map_err(|e| internal("reading conversation storage", e))?;
        Ok(rows.first().is_some_and(|row| row.n > 0.0))
    }

    /// Creates the tables if they are missing (by the init call, the only one that may).
    pub fn create_tables(sql: SqlStorage, prefix: &'static str) -> Result<(), ApiError> {
        let store = SqlStore::open(sql, "", prefix);
        let p = prefix;
        for statement in [
            format!(
                "CREATE TABLE IF NOT EXISTS {p}messages (seq INTEGER PRIMARY KEY, side TEXT, author TEXT NOT NULL, \
                 text TEXT NOT NULL, at INTEGER NOT NULL, client_msg_id TEXT, action TEXT)"
            ),
            format!("CREATE UNIQUE INDEX IF NOT EXISTS {p}messages_key ON {p}messages (side, client_msg_id) WHERE client_msg_id IS NOT NULL"),
            format!("CREATE INDEX IF NOT EXISTS {p}messages_side ON {p}messages (side, seq)"),
            format!("CREATE TABLE IF NOT EXISTS {p}state (key TEXT PRIMARY KEY, value TEXT NOT NULL)"),
            format!("CREATE TABLE IF NOT EXISTS {p}outbox (id TEXT PRIMARY KEY, type TEXT NOT NULL, payload TEXT NOT NULL, created_at INTEGER NOT NULL)"),
        ] {
            store.exec(&statement, vec![])?;
        }
        Ok(())
    }

    fn exec(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Result<worker::SqlCursor, ApiError> {
        self.sql.exec(query, bindings).map_err(|e| internal("conversation storage", e))
    }

    fn rows<T: DeserializeOwned>(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Result<Vec<T>, ApiError> {
        self.exec(query, bindings)?.to_array().map_err(|e| internal("reading conversation storage", e))
    }

    /// A value from the `state` table.
    pub fn get<T: DeserializeOwned>(&self, key: StateKey<T>) -> Result<Option<T>, ApiError> {
        let p = self.prefix;
        let rows: Vec<ValueRow> = self.rows(&format!("SELECT value FROM {p}state WHERE key = ?"), vec![key.key.into()])?;
        rows.into_iter()
            .next()
            .map(|row| serde_json::from_str(&row.value).map_err(|e| internal("decoding conversation state", e)))
            .transpose()
    }

    pub fn put<T: Serialize>(&self, key: StateKey<T>, value: &T) -> Result<(), ApiError> {
        let p = self.prefix;
        let json = serde_json::to_string(value).map_err(|e| internal("encoding conversation state", e))?;
        self.exec(
            &format!("INSERT INTO {p}state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
            vec![key.key.into(), json.into()],
        )?;
        Ok(())
    }

    pub fn delete<T>(&self, key: StateKey<T>) -> Result<(), ApiError> {
        let p = self.prefix;
        self.exec(&format!("DELETE FROM {p}state WHERE key = ?"), vec![key.key.into()])?;
        Ok(())
    }

    /// Records an event for the CRM in the same storage as the message, so neither exists without
    /// the other; `outbox::flush` moves it to D1.
    pub fn enqueue(&self, id: &str, kind: &str, payload: &str, now: u64) -> Result<(), ApiError> {
        let p = self.prefix;
        self.exec(
            &format!("INSERT OR IGNORE INTO {p}outbox (id, type, payload, created_at) VALUES (?, ?, ?, ?)"),
            vec![id.into(), kind.into(), payload.into(), (now as i64).into()],
        )?;
        Ok(())
    }

    pub fn pending_events(&self, limit: u32) -> Result<Vec<(String, String, String, u64)>, ApiError> {
        #[derive(Deserialize)]
        struct Row {
            id: String,
            r#type: String,
            payload: String,
            created_at: f64,
        }
        let p = self.prefix;
        let rows: Vec<Row> = self.rows(
            &format!("SELECT id, type, payload, created_at FROM {p}outbox ORDER BY created_at, id LIMIT ?"),
            vec![i64::from(limit).into()],
        )?;
        Ok(rows.into_iter().map(|r| (r.id, r.r#type, r.payload, r.created_at as u64)).collect())
    }

    /// Whether any event waits in the outbox.
    pub fn has_pending_events(&self) -> Result<bool, ApiError> {
        let p = self.prefix;
        let rows: Vec<CountRow> = self.rows(&format!("SELECT COUNT(*) AS n FROM (SELECT 1 FROM {p}outbox LIMIT 1)"), vec![])?;
        Ok(rows.first().is_some_and(|row| row.n > 0.0))
    }

    /// Deletes handled events in one statement (the ids as one JSON array: no bound-parameter limit).
    pub fn forget_events(&self, ids: &[String]) -> Result<(), ApiError> {
        if ids.is_empty() {
            return Ok(());
        }
        let p = self.prefix;
        let ids = serde_json::to_string(ids).map_err(|e| internal("encoding event ids", e))?;
        self.exec(&format!("DELETE FROM {p}outbox WHERE id IN (SELECT value FROM json_each(?))"), vec![ids.into()])?;
        Ok(())
    }

    /// Deletes every message, state value and pending event (a privacy erasure); returns how many
    /// messages there were. The tables stay, empty: the object reads as "no such conversation".
    pub fn erase_all(&self) -> Result<u64, ApiError> {
        let p = self.prefix;
        let rows: Vec<CountRow> = self.rows(&format!("SELECT COUNT(*) AS n FROM {p}messages"), vec![])?;
        for table in ["messages", "state", "outbox"] {
            self.exec(&format!("DELETE FROM {p}{table}"), vec![])?;
        }
        *self.cache.borrow_mut() = Cache::default();
        Ok(rows.first().map_or(0, |r| r.n as u64))
    }

    fn decode(&self, row: MessageRow) -> Result<ChatMessage, ApiError> {
        let author: Author = serde_json::from_str(&row.author).map_err(|e| internal("decoding a message author", e))?;
        let extra: Option<Extra> = row
            .action
            .map(|a| serde_json::from_str(&a).map_err(|e| internal("decoding a message action", e)))
            .transpose()?;
        let (action, attachment) = match extra {
            Some(Extra::Action(action)) => (Some(action), None),
            Some(Extra::File { attachment }) => (None, Some(attachment)),
            None => (None, None),
        };
        let seq = row.seq as u64;
        Ok(ChatMessage {
            seq,
            id: message_id(&self.conversation_id, seq),
            author,
            text: row.text,
            at: row.at as u64,
            client_msg_id: row.client_msg_id,
            action,
            attachment,
        })
    }

    fn select(&self, tail: &str, bindings: Vec<SqlStorageValue>) -> Result<Vec<ChatMessage>, ApiError> {
        let p = self.prefix;
        let rows: Vec<MessageRow> =
            self.rows(&format!("SELECT seq, author, text, at, client_msg_id, action FROM {p}messages {tail}"), bindings)?;
        rows.into_iter().map(|row| self.decode(row)).collect()
    }
}

impl ConversationStore for SqlStore {
    fn meta(&self) -> Result<ConversationMeta, ApiError> {
        if let Some(meta) = &self.cache.borrow().meta {
            return Ok(meta.clone());
        }
        let meta = self.get(state::META)?.ok_or_else(|| internal("reading the conversation", "not initialised"))?;
        self.remember(|c| c.meta = Some(meta.clone()));
        Ok(meta)
    }

    fn set_meta(&mut self, meta: &ConversationMeta) -> Result<(), ApiError> {
        self.put(state::META, meta)?;
        self.remember(|c| c.meta = Some(meta.clone()));
        Ok(())
    }

    fn append(&mut self, message: NewMessage) -> Result<ChatMessage, ApiError> {
        let seq = self.last_message()?.map_or(0, |m| m.seq) + 1;
        let author = serde_json::to_string(&message.author).map_err(|e| internal("encoding a message", e))?;
        let extra = match (&message.attachment, message.action) {
            (Some(attachment), _) => Some(Extra::File { attachment: attachment.clone() }),
            (None, Some(action)) => Some(Extra::Action(action)),
            (None, None) => None,
        };
        let action = extra.map(|e| serde_json::to_string(&e)).transpose().map_err(|e| internal("encoding a message", e))?;
        let p = self.prefix;
        self.exec(
            &format!("INSERT INTO {p}messages (seq, side, author, text, at, client_msg_id, action) VALUES (?, ?, ?, ?, ?, ?, ?)"),
            vec![
                (seq as i64).into(),
                message.author.side().map(side_name).into(),
                author.into(),
                message.text.as_str().into(),
                (message.at as i64).into(),
                message.client_msg_id.clone().into(),
                action.into(),
            ],
        )?;
        let stored = message.stored_as(&self.conversation_id, seq);
        self.remember(|cache| {
            cache.last = Some(Some(stored.clone()));
            if let Some(side) = stored.author.side() {
                for (author, after, count) in &mut cache.counts {
                    if *author == side && seq > *after {
                        *count += 1;
                    }
                }
            }
        });
        Ok(stored)
    }

    fn find_by_client_msg_id(&self, side: Side, client_msg_id: &str) -> Result<Option<ChatMessage>, ApiError> {
        Ok(self.select("WHERE side = ? AND client_msg_id = ?", vec![side_name(side).into(), client_msg_id.into()])?.pop())
    }

    fn messages_after(&self, after_seq: u64) -> Result<Vec<ChatMessage>, ApiError> {
        self.select("WHERE seq > ? ORDER BY seq", vec![(after_seq.min(i64::MAX as u64) as i64).into()])
    }

    fn last_message(&self) -> Result<Option<ChatMessage>, ApiError> {
        if let Some(last) = &self.cache.borrow().last {
            return Ok(last.clone());
        }
        let last = self.select("ORDER BY seq DESC LIMIT 1", vec![])?.pop();
        self.remember(|c| c.last = Some(last.clone()));
        Ok(last)
    }

    fn read_marker(&self, side: Side) -> Result<u64, ApiError> {
        if let Some(marker) = self.cache.borrow().markers[side_index(side)] {
            return Ok(marker);
        }
        let marker = self.get(state::read_marker(side))?.unwrap_or(0);
        self.remember(|c| c.markers[side_index(side)] = Some(marker));
        Ok(marker)
    }

    fn set_read_marker(&mut self, side: Side, up_to_seq: u64) -> Result<(), ApiError> {
        self.put(state::read_marker(side), &up_to_seq)?;
        self.remember(|c| c.markers[side_index(side)] = Some(up_to_seq));
        Ok(())
    }

    fn count_by_after(&self, author: Side, after_seq: u64) -> Result<u64, ApiError> {
        let cached = self.cache.borrow().counts.iter().find(|(a, after, _)| *a == author && *after == after_seq).map(|c| c.2);
        if let Some(count) = cached {
            return Ok(count);
        }
        let p = self.prefix;
        let rows: Vec<CountRow> = self.rows(
            &format!("SELECT COUNT(*) AS n FROM {p}messages WHERE side = ? AND seq > ?"),
            vec![side_name(author).into(), (after_seq.min(i64::MAX as u64) as i64).into()],
        )?;
        let count = rows.first().map_or(0, |r| r.n as u64);
        self.remember(|cache| {
            if cache.counts.len() >= MAX_CACHED_COUNTS {
                cache.counts.remove(0);
            }
            cache.counts.push((author, after_seq, count));
        });
        Ok(count)
    }
}

/// A SiteHub's live list: one row per conversation, its newest entry.
pub struct EntryTable {
    sql: SqlStorage,
}

#[derive(Deserialize)]
struct EntryRow {
    entry: String,
}

impl EntryTable {
    /// Opens the table; it must exist (see [`EntryTable::create`]).
    pub fn open(sql: SqlStorage) -> EntryTable {
        EntryTable { sql }
    }

    /// Deletes the rows of conversations the list no longer holds.
    pub fn delete(&self, conversation_ids: &[String]) -> Result<(), ApiError> {
        for id in conversation_ids {
            self.sql.exec("DELETE FROM entries WHERE id = ?", vec![id.as_str().into()]).map_err(|e| internal("pruning the hub's list", e))?;
        }
        Ok(())
    }

    /// Creates the table if it is missing (once per object start; cheap when it exists).
    pub fn create(&self) -> Result<(), ApiError> {
        self.sql
            .exec("CREATE TABLE IF NOT EXISTS entries (id TEXT PRIMARY KEY, revision INTEGER NOT NULL, entry TEXT NOT NULL)", None)
            .map_err(|e| internal("creating the hub table", e))?;
        Ok(())
    }

    /// Every stored entry; a row that no longer decodes is skipped (and logged).
    pub fn all(&self) -> Result<Vec<ConversationEntry>, ApiError> {
        let rows: Vec<EntryRow> = self
            .sql
            .exec("SELECT entry FROM entries", None)
            .and_then(|cursor| cursor.to_array())
            .map_err(|e| internal("reading the hub's list", e))?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                serde_json::from_str(&row.entry).map_err(|e| worker::console_error!("skipping a hub entry: {e}")).ok()
            })
            .collect())
    }

    pub fn remove(&self, conversation_ids: &[String]) -> Result<(), ApiError> {
        for id in conversation_ids {
            self.sql.exec("DELETE FROM entries WHERE id = ?", vec![id.as_str().into()]).map_err(|e| internal("erasing from the hub's list", e))?;
        }
        Ok(())
    }

    pub fn put(&self, entry: &ConversationEntry) -> Result<(), ApiError> {
        let json = serde_json::to_string(entry).map_err(|e| internal("encoding an entry", e))?;
        self.sql
            .exec(
                "INSERT INTO entries (id, revision, entry) VALUES (?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET revision = excluded.revision, entry = excluded.entry",
                vec![entry.conversation_id.as_str().into(), (entry.revision as i64).into(), json.into()],
            )
            .map_err(|e| internal("storing the hub's list", e))?;
        Ok(())
    }
}
