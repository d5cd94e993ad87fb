//! Durable storage for conversations, messages, tickets and parameters.
//!
//! Everything the rest of Ponte persists goes through the object-safe [`Store`] trait, so the
//! application holds an `Arc<dyn Store>` and never sees SQL. [`open`] picks the backend from the
//! URL scheme: `sqlite:` is the embedded default (WAL, one group-commit writer, a read pool);
//! PostgreSQL will get its own module and migrations and must pass the same [`conformance`]
//! suite. This module owns the trait, the record types, input validation and [`StoreError`] with
//! its stable codes; `sqlite` owns the SQL, `writer` owns batching and group commit.
//!
//! Timestamps are unix milliseconds (`i64`), assigned by the store when a row is written.

pub mod conformance;
pub mod sqlite;
mod writer;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use sqlite::SqliteStore;

/// Most rows a single listing call returns; larger limits are clamped to this.
pub const MAX_PAGE: u32 = 1000;

/// Longest identifier (conversation id, requester id, client message id, ...) the store accepts.
pub const MAX_ID_LEN: usize = 200;

/// The storage backend behind Ponte.
///
/// Every method is safe to call concurrently. Writes are acknowledged only after their
/// transaction has committed; reads see every acknowledged write.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Stores a new conversation with `version` 1 and `last_seq` 0.
    /// Fails with [`StoreError::AlreadyExists`] when the id is taken.
    async fn create_conversation(&self, new: NewConversation) -> Result<Conversation, StoreError>;

    async fn get_conversation(&self, id: &str) -> Result<Option<Conversation>, StoreError>;

    /// Replaces status, queue group and machine state if the stored version still equals
    /// `update.expected_version`, then increments the version. Fails with
    /// [`StoreError::Conflict`] when another writer got there first.
    async fn update_conversation(
        &self,
        update: ConversationUpdate,
    ) -> Result<Conversation, StoreError>;

    /// Conversations matching every filter that is set, oldest first.
    async fn list_conversations(
        &self,
        filter: ConversationFilter,
    ) -> Result<Vec<Conversation>, StoreError>;

    /// Appends a message with the next per-conversation sequence number. With a
    /// `client_message_id` already stored in that conversation, returns the stored message and
    /// `duplicate: true` instead of writing a second one.
    async fn append_message(&self, new: NewMessage) -> Result<Appended, StoreError>;

    /// Commits one step of a conversation in a single transaction: the conversation created,
    /// updated (with the version check of [`update_conversation`](Store::update_conversation))
    /// or kept, and every message of `step.messages` appended in order. Either all of it is
    /// stored or none of it. When the first message carries a client message id already
    /// stored, nothing is written and [`StepCommitted::duplicate`] holds the stored message.
    async fn commit_step(&self, step: Step) -> Result<StepCommitted, StoreError>;

    /// Messages with `seq > after_seq`, in sequence order, at most `limit` (clamped to
    /// [`MAX_PAGE`]). Fails with [`StoreError::NotFound`] for an unknown conversation.
    async fn messages_after(
        &self,
        conversation: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError>;

    /// The message of `conversation` stored with `client_message_id`, if any: lets a caller
    /// recognise a replayed post before doing any work for it.
    async fn message_by_client_id(
        &self,
        conversation: &str,
        client_message_id: &str,
    ) -> Result<Option<Message>, StoreError>;

    /// Allocates the next ticket number (`T-000001`, `T-000002`, ...) in the same transaction as
    /// the insert, so numbers have no gaps and no duplicates. A ticket created with a
    /// conversation is attached to it as [`attach_ticket`](Store::attach_ticket) would.
    async fn create_ticket(&self, new: NewTicket) -> Result<Ticket, StoreError>;

    async fn get_ticket(&self, number: &str) -> Result<Option<Ticket>, StoreError>;

    /// The requester's tickets that are not closed, oldest first.
    async fn open_tickets_for(&self, requester: &str) -> Result<Vec<Ticket>, StoreError>;

    /// Links a ticket and a conversation both ways: the ticket's `conversation_id` and the
    /// conversation's `ticket_number`. Does not change the conversation's version.
    async fn attach_ticket(&self, number: &str, conversation: &str) -> Result<(), StoreError>;

    /// Adds the tags the ticket does not have yet, keeping the existing order.
    async fn add_ticket_tags(&self, number: &str, tags: &[String]) -> Result<Ticket, StoreError>;

    async fn set_ticket_status(
        &self,
        number: &str,
        status: TicketStatus,
    ) -> Result<Ticket, StoreError>;

    /// Every stored parameter (numbered ones as `"299"`, `"315"`, ... and named settings).
    /// Defaults are the caller's business: a parameter that was never set is absent.
    async fn parameters(&self) -> Result<BTreeMap<String, String>, StoreError>;

    async fn parameter(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Inserts or replaces a parameter.
    async fn set_parameter(&self, key: &str, value: &str) -> Result<(), StoreError>;

    /// Appends one desk operation (JSON) to the desk's write-ahead log; returns its sequence
    /// number. It is durable when this returns.
    async fn desk_append(&self, op: &str) -> Result<i64, StoreError>;

    /// Saves a snapshot of the whole desk taken after operation `through`, replacing the
    /// previous one, and drops the operations it covers.
    async fn desk_snapshot(&self, state: &str, through: i64) -> Result<(), StoreError>;

    /// The latest snapshot and every operation after it, in order.
    async fn desk_load(&self) -> Result<DeskLog, StoreError>;

    /// Finishes every write already accepted, stops the writer and closes all connections.
    /// Later calls fail with [`StoreError::Closed`]. Calling it twice is harmless.
    async fn close(&self);

    /// Stores an issued bearer token: its SHA-256, never the token. Fails with
    /// [`StoreError::AlreadyExists`] when the id or the hash is taken.
    async fn insert_token(&self, new: NewToken) -> Result<StoredToken, StoreError>;

    /// Every stored token, oldest first, expired ones included (expiry is the caller's call).
    async fn tokens(&self) -> Result<Vec<StoredToken>, StoreError>;

    /// Deletes the token named `id` and returns it; [`StoreError::NotFound`] when there is none.
    async fn delete_token(&self, id: &str) -> Result<StoredToken, StoreError>;
}

/// Opens the backend named by the URL scheme and applies its pending migrations.
///
/// * `sqlite://relative/path.db`, `sqlite:///absolute/path.db`: a file, created (with its
///   parent directory) when missing.
/// * `sqlite::memory:`: a private in-memory database that lives until [`Store::close`]; for tests.
pub async fn open(url: &str, options: StoreOptions) -> Result<Arc<dyn Store>, StoreError> {
    let scheme = url.split_once(':').map(|(scheme, _)| scheme).unwrap_or("");
    match scheme {
        "sqlite" => {
            let store = SqliteStore::open(url, options).await?;
            Ok(Arc::new(store))
        }
        "postgres" | "postgresql" => Err(StoreError::UnsupportedUrl {
            scheme: scheme.to_owned(),
            reason: "the PostgreSQL backend is not built yet; use sqlite:",
        }),
        _ => Err(StoreError::UnsupportedUrl {
            // Only the scheme is echoed: the rest of a URL may carry credentials.
            scheme: scheme.chars().take(32).collect(),
            reason: "expected a sqlite: URL",
        }),
    }
}

/// Tuning knobs shared by the backends. `Default` is what `ponte serve` uses.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// SQLite `synchronous` pragma. `Full` makes every acknowledged write survive power loss;
    /// `Normal` in WAL mode survives a process crash but may lose the last commits on power loss.
    pub synchronous: Synchronous,
    /// How long a connection waits for a lock held by another process before failing.
    pub busy_timeout: Duration,
    /// Connections in the read pool.
    pub read_connections: u32,
    /// Most writes committed in one transaction. `1` turns group commit off (one transaction
    /// per write), which is only useful for comparison.
    pub max_batch: usize,
    /// How long the writer waits for more work after the first queued write before committing.
    /// Zero commits whatever is queued at once; the batch still grows to the number of writes
    /// that arrived during the previous commit, which is what makes group commit pay off.
    pub batch_linger: Duration,
    /// Writes that may wait for the writer before senders are made to wait (back-pressure).
    pub queue_capacity: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            synchronous: Synchronous::Full,
            busy_timeout: Duration::from_secs(5),
            read_connections: 4,
            max_batch: 512,
            batch_linger: Duration::ZERO,
            queue_capacity: 4096,
        }
    }
}

/// Durability level of a commit (SQLite `PRAGMA synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    Full,
    Normal,
}

impl FromStr for Synchronous {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "full" => Ok(Self::Full),
            "normal" => Ok(Self::Normal),
            _ => Err(StoreError::InvalidInput(format!(
                "synchronous must be `full` or `normal`, not {text:?}"
            ))),
        }
    }
}

/// Everything that can go wrong in the store. [`code`](StoreError::code) is stable and is what
/// API clients see.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("{entity} {id:?} not found")]
    NotFound { entity: &'static str, id: String },
    #[error("{entity} {id:?} already exists")]
    AlreadyExists { entity: &'static str, id: String },
    #[error(
        "conversation {id:?} was changed by someone else: expected version {expected}, found {actual}"
    )]
    Conflict {
        id: String,
        expected: i64,
        actual: i64,
    },
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("unsupported store url scheme {scheme:?}: {reason}")]
    UnsupportedUrl {
        scheme: String,
        reason: &'static str,
    },
    #[error("the store is closed")]
    Closed,
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Database(#[source] Arc<sqlx::Error>),
    #[error("internal store error: {0}")]
    Internal(String),
}

impl StoreError {
    /// Stable snake_case code, one per variant.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "not_found",
            Self::AlreadyExists { .. } => "already_exists",
            Self::Conflict { .. } => "conflict",
            Self::InvalidInput(_) => "invalid_input",
            Self::UnsupportedUrl { .. } => "unsupported_url",
            Self::Closed => "store_closed",
            Self::Corrupt(_) => "corrupt_data",
            Self::Migration(_) => "migration_failed",
            Self::Database(_) => "database",
            Self::Internal(_) => "internal",
        }
    }

    pub(crate) fn not_found(entity: &'static str, id: &str) -> Self {
        Self::NotFound {
            entity,
            id: id.to_owned(),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => Self::Closed,
            other => Self::Database(Arc::new(other)),
        }
    }
}

/// Declares a closed set of values stored as text, with one spelling used everywhere:
/// database, JSON and `Display`.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = StoreError;

            fn from_str(text: &str) -> Result<Self, StoreError> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(StoreError::InvalidInput(format!(
                        concat!("unknown ", stringify!($name), " {:?}"),
                        text
                    ))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

text_enum!(
    /// Where the requester is talking from.
    Channel { Web => "web", WhatsApp => "whatsapp" }
);

text_enum!(
    /// Who is handling a conversation: the assistant, the queue, a person, or nobody any more.
    ConversationStatus { Bot => "bot", Queued => "queued", Chat => "chat", Finished => "finished" }
);

text_enum!(
    /// Who wrote a message.
    SenderKind {
        Requester => "requester",
        Assistant => "assistant",
        Attendant => "attendant",
        System => "system",
    }
);

text_enum!(
    /// Life cycle of a ticket; everything but `Closed` counts as open.
    TicketStatus { Open => "open", InProgress => "in_progress", Closed => "closed" }
);

/// A stored conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: String,
    pub channel: Channel,
    pub requester_id: String,
    /// BCP 47 tag such as `pt-BR`.
    pub language: String,
    pub status: ConversationStatus,
    pub queue_group: Option<String>,
    /// The ticket attached to this conversation; maintained by the ticket methods.
    pub ticket_number: Option<String>,
    /// The serialized conversation state machine; the store never looks inside.
    pub machine_state: serde_json::Value,
    /// Starts at 1 and grows with every [`Store::update_conversation`].
    pub version: i64,
    /// Sequence number of the newest message, 0 before the first one.
    pub last_seq: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Conversation {
    /// An update that keeps everything as it is, expecting the current version; change the
    /// fields that should move and pass it to [`Store::update_conversation`].
    pub fn to_update(&self) -> ConversationUpdate {
        ConversationUpdate {
            id: self.id.clone(),
            expected_version: self.version,
            status: self.status,
            queue_group: self.queue_group.clone(),
            machine_state: self.machine_state.clone(),
        }
    }
}

/// Input of [`Store::create_conversation`]. The caller mints the id (UUID or ULID).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewConversation {
    pub id: String,
    pub channel: Channel,
    pub requester_id: String,
    pub language: String,
    pub status: ConversationStatus,
    pub queue_group: Option<String>,
    pub machine_state: serde_json::Value,
}

/// Input of [`Store::update_conversation`]: the new values of the version-controlled fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationUpdate {
    pub id: String,
    pub expected_version: i64,
    pub status: ConversationStatus,
    pub queue_group: Option<String>,
    pub machine_state: serde_json::Value,
}

/// Filters of [`Store::list_conversations`]; unset filters match everything.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationFilter {
    pub requester_id: Option<String>,
    pub status: Option<ConversationStatus>,
    pub queue_group: Option<String>,
    /// At most this many (clamped to [`MAX_PAGE`]); 0 is invalid.
    pub limit: u32,
}

impl Default for ConversationFilter {
    fn default() -> Self {
        Self {
            requester_id: None,
            status: None,
            queue_group: None,
            limit: 100,
        }
    }
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub conversation_id: String,
    /// 1, 2, 3, ... within the conversation, without gaps.
    pub seq: i64,
    pub sender_kind: SenderKind,
    pub sender_id: Option<String>,
    pub body: String,
    /// Structured extras (options offered, article cards, ...).
    pub payload: Option<serde_json::Value>,
    pub client_message_id: Option<String>,
    pub created_at: i64,
}

/// Input of [`Store::append_message`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewMessage {
    pub conversation_id: String,
    pub sender_kind: SenderKind,
    pub sender_id: Option<String>,
    pub body: String,
    pub payload: Option<serde_json::Value>,
    /// Idempotency key, unique within the conversation.
    pub client_message_id: Option<String>,
}

/// Result of [`Store::append_message`].
#[derive(Debug, Clone, PartialEq)]
pub struct Appended {
    pub message: Message,
    /// `true` when the client message id was already stored and nothing new was written.
    pub duplicate: bool,
}

/// What happens to the conversation row in a [`Step`].
#[derive(Debug, Clone, PartialEq)]
pub enum StepTarget {
    /// Created, as [`Store::create_conversation`] would.
    Create(NewConversation),
    /// Updated, as [`Store::update_conversation`] would.
    Update(ConversationUpdate),
    /// Left as it is (only messages are appended).
    Keep { id: String },
}

impl StepTarget {
    /// The conversation the step is about.
    pub fn id(&self) -> &str {
        match self {
            StepTarget::Create(new) => &new.id,
            StepTarget::Update(update) => &update.id,
            StepTarget::Keep { id } => id,
        }
    }
}

/// Input of [`Store::commit_step`]: one conversation's change and the messages it adds.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub target: StepTarget,
    /// Appended in this order; each must belong to the target conversation.
    pub messages: Vec<NewMessage>,
}

/// Result of [`Store::commit_step`].
#[derive(Debug, Clone, PartialEq)]
pub struct StepCommitted {
    /// The conversation after the step, when the step created or updated it (`None` for
    /// [`StepTarget::Keep`] and for a duplicate: the row did not change).
    pub conversation: Option<Conversation>,
    /// The messages stored, with their sequence numbers, in order (empty for a duplicate).
    pub messages: Vec<Message>,
    /// The first message repeated a stored client message id: this is the stored message,
    /// and nothing was written.
    pub duplicate: Option<Message>,
}

/// A stored ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    /// Human-readable, sequential: `T-000001`.
    pub number: String,
    pub requester_id: String,
    pub activity_id: String,
    pub contract: String,
    pub group: String,
    pub description: String,
    pub status: TicketStatus,
    pub tags: Vec<String>,
    pub conversation_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What [`Store::desk_load`] returns: the snapshot (JSON and the last operation it covers),
/// then the later operations as `(seq, JSON)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeskLog {
    pub snapshot: Option<(String, i64)>,
    pub ops: Vec<(i64, String)>,
}

/// Input of [`Store::create_ticket`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTicket {
    pub requester_id: String,
    pub activity_id: String,
    pub contract: String,
    pub group: String,
    pub description: String,
    pub status: TicketStatus,
    pub tags: Vec<String>,
    pub conversation_id: Option<String>,
    /// Idempotency key: creating a ticket with a key already used returns that ticket.
    #[serde(default)]
    pub request_key: Option<String>,
}

/// Formats the counter value of a ticket as its number.
pub fn ticket_number(serial: i64) -> String {
    format!("T-{serial:06}")
}

pub(crate) fn now_millis() -> i64 {
    let elapsed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
}

/// Rejects empty, oversized or control-character identifiers.
pub(crate) fn check_id(field: &str, value: &str) -> Result<(), StoreError> {
    if value.trim().is_empty() {
        return Err(StoreError::InvalidInput(format!(
            "{field} must not be empty"
        )));
    }
    if value.len() > MAX_ID_LEN {
        return Err(StoreError::InvalidInput(format!(
            "{field} is longer than {MAX_ID_LEN} bytes"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(StoreError::InvalidInput(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(())
}

pub(crate) fn check_optional_id(field: &str, value: Option<&str>) -> Result<(), StoreError> {
    match value {
        Some(value) => check_id(field, value),
        None => Ok(()),
    }
}

/// Validates tags and drops repeats, keeping the first occurrence.
pub(crate) fn clean_tags(tags: &[String]) -> Result<Vec<String>, StoreError> {
    let mut cleaned: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        check_id("tag", tag)?;
        if !cleaned.contains(tag) {
            cleaned.push(tag.clone());
        }
    }
    Ok(cleaned)
}

pub(crate) fn clamp_limit(limit: u32) -> Result<u32, StoreError> {
    if limit == 0 {
        return Err(StoreError::InvalidInput("limit must be at least 1".into()));
    }
    Ok(limit.min(MAX_PAGE))
}

/// A bearer token issued through the API, as stored: the SHA-256 of the secret (64 lowercase
/// hex digits) and whom it identifies. The role is stored as text; the store does not interpret
/// it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredToken {
    /// Stable, non-secret name of the token, to list and revoke it by.
    pub id: String,
    pub sha256: String,
    pub role: String,
    pub subject: String,
    pub groups: Vec<String>,
    pub created_at: i64,
    /// Unix milliseconds after which the token is refused; `None`: it does not expire.
    pub expires_at: Option<i64>,
}

/// Input of [`Store::insert_token`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewToken {
    pub id: String,
    pub sha256: String,
    pub role: String,
    pub subject: String,
    pub groups: Vec<String>,
    pub expires_at: Option<i64>,
}

/// Rejects a token whose hash is not 64 lowercase hex digits or whose names are not ids.
pub(crate) fn check_new_token(new: &NewToken) -> Result<(), StoreError> {
    check_id("token id", &new.id)?;
    check_id("token role", &new.role)?;
    check_id("token subject", &new.subject)?;
    for group in &new.groups {
        check_id("token group", group)?;
    }
    let hex = new.sha256.len() == 64
        && new
            .sha256
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
    if !hex {
        return Err(StoreError::InvalidInput(
            "a token hash must be 64 lowercase hex digits".into(),
        ));
    }
    Ok(())
}
