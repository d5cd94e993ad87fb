//! Durable storage for conversations, messages, tickets and parameters.
//!
//! Everything the rest of Ponte persists goes through the object-safe [`Store`] trait, so the
//! application holds an `Arc<dyn Store>` and never sees SQL. [`open`] picks the backend from the
//! URL scheme: `sqlite:` is the embedded default (WAL, one group-commit writer, a read pool);
//! `postgres:` is for several processes sharing one database (a pool, one transaction per
//! write). Both pass the same conformance suite (under `tests/store/conformance/`). This module
//! owns the trait, the options and input validation; `records` owns the record types, `error`
//! owns [`StoreError`] with its stable codes, `prepared` the validated inputs both backends
//! write, `sqlite` and `postgres` own their SQL, `writer` owns SQLite's batching and group
//! commit.
//!
//! Timestamps are unix milliseconds (`i64`), assigned by the store when a row is written.

pub mod accounts;
mod error;
mod knowledge_log;
mod last_messages;
mod outbox;
pub mod postgres;
mod prepared;
mod read_marks;
mod records;
mod report_log;
mod settle;
pub mod sqlite;
mod writer;

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

pub use accounts::{NewAccount, NewSession, SessionIdentity, SignInFailures, StaffAccount};
pub use error::StoreError;
pub use knowledge_log::{KnowledgeChange, KnowledgeOp, NewKnowledgeChange};
pub use last_messages::{LastMessage, MAX_LAST_MESSAGES};
pub use outbox::*;
pub use postgres::PostgresStore;
pub use read_marks::{ReadMarks, ReadMoved, ReadSide};
pub use records::*;
pub use report_log::{
    ArticleUse, Followed, GapReason, GapText, MAX_COMMENT, MAX_GAP_TEXT, Rating, ReportArticle,
    ReportBatch, ReportConversation, ReportPresence, ReportText, ReportUpdate, clip_text,
};
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
    /// or kept, every message of `step.messages` appended in order, the events of
    /// `step.outbox` put in the outbox (pending, due at once) and `step.deadline` set. Either
    /// all of it is stored or none of it. When the first message carries a client message id
    /// already stored, nothing is written and [`StepCommitted::duplicate`] holds the stored
    /// message.
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

    // The last message of many conversations, for the attendance list (see `last_messages`).

    /// The newest message with a body of each of `conversations` (a bodiless event is
    /// skipped), its body cut to `max_chars` characters, in no particular order; a
    /// conversation without one, or unknown, is left out. Both backends answer in one query;
    /// the default pages back through each conversation.
    async fn last_messages(
        &self,
        conversations: &[String],
        max_chars: u32,
    ) -> Result<Vec<LastMessage>, StoreError> {
        last_messages::one_by_one(self, conversations, max_chars).await
    }

    /// The conversation an input is about and, when `client_message_id` is given and already
    /// stored there, that message (the input is a replay). A backend across a network answers
    /// both in one round trip.
    async fn conversation_for_input(
        &self,
        id: &str,
        client_message_id: Option<&str>,
    ) -> Result<Option<(Conversation, Option<Message>)>, StoreError> {
        let Some(conversation) = self.get_conversation(id).await? else {
            return Ok(None);
        };
        let replayed = match client_message_id {
            Some(client_message_id) => self.message_by_client_id(id, client_message_id).await?,
            None => None,
        };
        Ok(Some((conversation, replayed)))
    }

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

    /// Appends one desk operation like [`desk_append`](Store::desk_append), but only at the
    /// position the caller expects: `expected` is the sequence number of the last operation
    /// it applied its own on (0 for an empty log). When the log moved on (another writer
    /// appended since), nothing is appended and it fails with
    /// [`StoreError::DeskLogConflict`]. The log's position is the greatest sequence number it
    /// ever gave, or the operation its snapshot covers when that is greater; a snapshot does
    /// not move it.
    async fn desk_append_after(&self, op: &str, expected: i64) -> Result<i64, StoreError>;

    /// Saves a snapshot of the whole desk taken after operation `through`, replacing the
    /// previous one, and drops the operations it covers. A snapshot never replaces one that
    /// covers more (several nodes may each take one): then nothing changes.
    async fn desk_snapshot(&self, state: &str, through: i64) -> Result<(), StoreError>;

    /// The latest snapshot and every operation after it, in order.
    async fn desk_load(&self) -> Result<DeskLog, StoreError>;

    /// Every operation after `after`, in order, and the operation the stored snapshot
    /// covers, read together: how a node that holds the desk up to `after` catches up with
    /// what other nodes logged. When `snapshot_through` is past `after`, the operations in
    /// between were dropped with that snapshot and the reader must [`desk_load`](Store::desk_load).
    /// The default reads the whole log; the backends read only the tail.
    async fn desk_ops_after(&self, after: i64) -> Result<DeskTail, StoreError> {
        let log = self.desk_load().await?;
        Ok(DeskTail {
            snapshot_through: log.snapshot.map(|(_, through)| through).unwrap_or(0),
            ops: log
                .ops
                .into_iter()
                .filter(|(seq, _)| *seq > after)
                .collect(),
        })
    }

    /// Finishes every write already accepted, stops the writer and closes all connections.
    /// Later calls fail with [`StoreError::Closed`]. Calling it twice is harmless.
    async fn close(&self);

    /// A cheap round trip to the database: [`StoreError::Unavailable`] (or another error)
    /// when it cannot answer now. What `/health` reports.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Stores an issued bearer token: its SHA-256, never the token. Fails with
    /// [`StoreError::AlreadyExists`] when the id or the hash is taken.
    async fn insert_token(&self, new: NewToken) -> Result<StoredToken, StoreError>;

    /// Every stored token, oldest first, expired ones included (expiry is the caller's call).
    async fn tokens(&self) -> Result<Vec<StoredToken>, StoreError>;

    /// The stored token whose SHA-256 is `sha256` (64 lowercase hex digits), if any: how a
    /// node learns of a token another node issued. The default reads every token; the
    /// backends look the one up.
    async fn token_by_sha256(&self, sha256: &str) -> Result<Option<StoredToken>, StoreError> {
        Ok(self
            .tokens()
            .await?
            .into_iter()
            .find(|token| token.sha256 == sha256))
    }

    /// Deletes the token named `id` and returns it; [`StoreError::NotFound`] when there is none.
    async fn delete_token(&self, id: &str) -> Result<StoredToken, StoreError>;

    // Staff accounts and their sessions (see `accounts`).

    /// Creates the account or replaces its password hash, role, subject and groups (keeping
    /// when it was created). A new password hash deletes the account's sessions: a changed
    /// password signs it out everywhere.
    async fn put_account(&self, account: NewAccount) -> Result<StaffAccount, StoreError>;

    /// The account named `username`, if any.
    async fn account(&self, username: &str) -> Result<Option<StaffAccount>, StoreError>;

    /// Every account, by user name.
    async fn accounts(&self) -> Result<Vec<StaffAccount>, StoreError>;

    /// Deletes the account and its sessions; [`StoreError::NotFound`] when there is none.
    async fn delete_account(&self, username: &str) -> Result<StaffAccount, StoreError>;

    /// Keeps a new session of an existing account (not found otherwise), and forgets every
    /// session that expired by `now_ms`.
    async fn insert_session(&self, session: NewSession, now_ms: i64) -> Result<(), StoreError>;

    /// The session whose secret's SHA-256 is `sha256`, with its account's identity, when it
    /// has not expired by `now_ms`.
    async fn session(
        &self,
        sha256: &str,
        now_ms: i64,
    ) -> Result<Option<SessionIdentity>, StoreError>;

    /// Forgets the session whose secret's SHA-256 is `sha256`; whether there was one.
    async fn delete_session(&self, sha256: &str) -> Result<bool, StoreError>;

    /// Records one failed sign-in at `at_ms` under each of `keys`, and forgets every failure
    /// from before `forget_before_ms`. Shared by every node, so guessing is held back alike
    /// whichever node the attempts reach.
    async fn record_sign_in_failure(
        &self,
        keys: &[String],
        at_ms: i64,
        forget_before_ms: i64,
    ) -> Result<(), StoreError>;

    /// The failed sign-ins since `since_ms` under each of `keys` that has any.
    async fn sign_in_failures(
        &self,
        keys: &[String],
        since_ms: i64,
    ) -> Result<Vec<SignInFailures>, StoreError>;

    /// Forgets every failed sign-in under `keys`.
    async fn forget_sign_in_failures(&self, keys: &[String]) -> Result<(), StoreError>;

    /// Inserts or replaces a bridge's definition (keeping `enabled` as given).
    async fn put_bridge(&self, record: BridgeRecord) -> Result<BridgeRecord, StoreError>;

    /// Every stored bridge, by id.
    async fn bridges(&self) -> Result<Vec<BridgeRecord>, StoreError>;

    /// Turns a bridge's deliveries on or off, with the reason when off;
    /// [`StoreError::NotFound`] for an unknown bridge.
    async fn set_bridge_enabled(
        &self,
        id: &str,
        enabled: bool,
        reason: Option<&str>,
    ) -> Result<BridgeRecord, StoreError>;

    /// Deletes a bridge's definition (its events and attempts stay, for the record).
    async fn delete_bridge(&self, id: &str) -> Result<(), StoreError>;

    /// Puts events in the outbox outside a step (each with its `seq` given), in one
    /// transaction. Events inside a conversation step go through [`Step::outbox`].
    async fn enqueue_outbox(&self, events: Vec<(NewOutboxEvent, i64)>) -> Result<(), StoreError>;

    /// The events to attempt now: of every lane (bridge, conversation) with a pending event,
    /// its oldest pending event, when its `next_attempt_at <= now` and its bridge is enabled;
    /// oldest first, at most `limit`. A later event of a lane never comes before an earlier
    /// one is delivered or dead.
    async fn due_outbox(&self, now: i64, limit: u32) -> Result<Vec<OutboxEvent>, StoreError>;

    /// The oldest pending event of one lane (bridge, conversation), due or not: how a
    /// dispatcher goes on with a lane whose head it just delivered, without looking at every
    /// lane again.
    async fn lane_head(
        &self,
        bridge_id: &str,
        conversation_id: &str,
    ) -> Result<Option<OutboxEvent>, StoreError>;

    /// The earliest `next_attempt_at` of a lane head of an enabled bridge, if any: when the
    /// dispatcher should look again.
    async fn next_outbox_due(&self) -> Result<Option<i64>, StoreError>;

    /// Records one attempt and its outcome in one write: delivered, retried at a time, or
    /// dead-lettered. Returns the event after it.
    async fn record_attempt(
        &self,
        attempt: DeliveryAttempt,
        outcome: AttemptOutcome,
    ) -> Result<OutboxEvent, StoreError>;

    async fn outbox_event(&self, id: &str) -> Result<Option<OutboxEvent>, StoreError>;

    /// Events matching every filter that is set, newest first.
    async fn outbox_events(&self, filter: OutboxFilter) -> Result<Vec<OutboxEvent>, StoreError>;

    /// Every attempt of one event, in order.
    async fn delivery_attempts(&self, event_id: &str) -> Result<Vec<DeliveryAttempt>, StoreError>;

    /// Puts dead or delivered events back to pending, due now, attempts reset; returns how
    /// many. Pending events are left as they are, but for [`Replay::Hasten`], which makes a
    /// bridge's pending events waiting for a later retry due at `now` (attempts kept).
    async fn replay_outbox(&self, replay: Replay, now: i64) -> Result<u64, StoreError>;

    /// A bridge's delivery health.
    async fn bridge_health(&self, bridge_id: &str) -> Result<BridgeHealth, StoreError>;

    /// The receipt of an inbound event already answered, if any.
    async fn inbound_receipt(
        &self,
        bridge_id: &str,
        webhook_id: &str,
    ) -> Result<Option<InboundReceipt>, StoreError>;

    /// Keeps the answer given to an inbound event (a second receipt of the same id keeps the
    /// first) and forgets receipts older than `forget_before` (unix milliseconds).
    async fn record_inbound(
        &self,
        receipt: InboundReceipt,
        forget_before: i64,
    ) -> Result<InboundReceipt, StoreError>;

    /// Accept deadlines due at or before `now`, oldest first.
    async fn due_deadlines(&self, now: i64) -> Result<Vec<BridgeDeadline>, StoreError>;

    /// The earliest deadline, if any.
    async fn next_deadline(&self) -> Result<Option<i64>, StoreError>;

    /// Removes a conversation's deadline (accepted, failed or fired). Removing none is fine.
    async fn clear_deadline(&self, conversation_id: &str) -> Result<(), StoreError>;

    /// Records a file that crossed a bridge; [`StoreError::AlreadyExists`] when its id is taken.
    async fn put_bridge_file(&self, file: BridgeFile) -> Result<BridgeFile, StoreError>;

    /// A file that crossed a bridge, by id.
    async fn bridge_file(&self, id: &str) -> Result<Option<BridgeFile>, StoreError>;

    /// Claims lease `name` for `holder` until `now_ms + ttl_ms`, in one atomic write: granted
    /// (`true`) when nobody holds it, when `holder` already does (a renewal, which moves the
    /// expiry on) or when its holder's time ran out (`expires_at_ms <= now_ms`); refused
    /// (`false`, nothing written) while another holder's time runs. `now_ms` is the caller's
    /// clock, so the nodes sharing a store must keep their clocks within a small part of the
    /// TTL of each other.
    async fn lease_claim(
        &self,
        name: &str,
        holder: &str,
        ttl_ms: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Frees lease `name` at once if `holder` holds it; another holder's claim is left alone.
    async fn lease_release(&self, name: &str, holder: &str) -> Result<(), StoreError>;

    /// Who holds lease `name` at `now_ms` (an expired claim holds nothing), if anyone.
    async fn lease_holder(&self, name: &str, now_ms: i64) -> Result<Option<String>, StoreError>;

    /// Appends knowledge changes to the shared change log, in order and in one transaction;
    /// returns the sequence number of the last. Numbers grow in commit order, so a reader
    /// that goes on from the last number it read never skips a change.
    async fn append_knowledge_changes(
        &self,
        changes: Vec<NewKnowledgeChange>,
    ) -> Result<i64, StoreError>;

    /// Knowledge changes with `seq > after_seq`, in order, at most `limit` (clamped to
    /// [`MAX_PAGE`]).
    async fn knowledge_changes_after(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<KnowledgeChange>, StoreError>;
    /// Writes one batch of the insight recorder in one transaction: each conversation's
    /// partial row merged into its report row (see `report_log` for the rules), the texts,
    /// article uses and presence changes appended.
    async fn record_report(&self, batch: ReportBatch) -> Result<(), StoreError>;

    /// The report rows of the conversations opened in `[since_ms, until_ms)`.
    async fn report_conversations(
        &self,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<ReportConversation>, StoreError>;

    /// One conversation's report row, if anything was recorded about it.
    async fn report_conversation(&self, id: &str)
    -> Result<Option<ReportConversation>, StoreError>;

    /// The gap texts recorded in `[since_ms, until_ms)`, in the order they were recorded,
    /// each with what followed in its conversation.
    async fn report_texts(&self, since_ms: i64, until_ms: i64) -> Result<Vec<GapText>, StoreError>;

    /// The article uses recorded in `[since_ms, until_ms)`.
    async fn report_articles(
        &self,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<ReportArticle>, StoreError>;

    /// Every presence change before `until_ms`, oldest first.
    async fn report_presence(&self, until_ms: i64) -> Result<Vec<ReportPresence>, StoreError>;

    /// Stores a satisfaction rating; `false` (nothing written) when the conversation was
    /// rated before. [`StoreError::InvalidInput`] outside 1..=5 or for an oversized comment.
    async fn rate_conversation(&self, rating: Rating) -> Result<bool, StoreError>;

    /// Dismisses gap cluster `key` (`dismiss`) or brings it back; either is idempotent.
    async fn dismiss_gap(&self, key: &str, by: &str, dismiss: bool) -> Result<(), StoreError>;

    /// The keys of the dismissed gap clusters.
    async fn dismissed_gaps(&self) -> Result<Vec<String>, StoreError>;

    // Read marks: how far each side of a conversation has read it (see `read_marks`).

    /// Moves `side`'s read position of `conversation` forward to `seq`, in one atomic write;
    /// a `seq` at or below where it stands changes nothing (`moved: false`). Fails with
    /// [`StoreError::NotFound`] for an unknown conversation and [`StoreError::InvalidInput`]
    /// for a negative `seq` or one past the conversation's last message.
    async fn mark_read(
        &self,
        conversation: &str,
        side: ReadSide,
        seq: i64,
    ) -> Result<ReadMoved, StoreError>;

    /// Both read positions of `conversation` (zeros before anything was read);
    /// [`StoreError::NotFound`] for an unknown conversation.
    async fn read_marks(&self, conversation: &str) -> Result<ReadMarks, StoreError>;
}

/// Opens the backend named by the URL scheme and applies its pending migrations.
///
/// * `sqlite://relative/path.db`, `sqlite:///absolute/path.db`: a file, created (with its
///   parent directory) when missing.
/// * `sqlite::memory:`: a private in-memory database that lives until [`Store::close`]; for tests.
/// * `postgres://user@host/database`, `postgresql://...`: a PostgreSQL database (any
///   connection parameter sqlx understands, e.g. `options=-c search_path=...`).
pub async fn open(url: &str, options: StoreOptions) -> Result<Arc<dyn Store>, StoreError> {
    let scheme = url.split_once(':').map(|(scheme, _)| scheme).unwrap_or("");
    match scheme {
        "sqlite" => {
            let store = SqliteStore::open(url, options).await?;
            Ok(Arc::new(store))
        }
        "postgres" | "postgresql" => {
            let store = PostgresStore::open(url, options).await?;
            Ok(Arc::new(store))
        }
        _ => Err(StoreError::UnsupportedUrl {
            // Only the scheme is echoed: the rest of a URL may carry credentials.
            scheme: scheme.chars().take(32).collect(),
            reason: "expected a sqlite: or postgres: URL",
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
    /// Connections in the PostgreSQL pool: reads, and writes outside the group commit.
    pub pool_connections: u32,
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
            pool_connections: 8,
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

/// Rejects a desk operation or snapshot that is not JSON; `what` names it in the message.
pub(crate) fn check_desk_json(text: &str, what: &str) -> Result<(), StoreError> {
    if serde_json::from_str::<serde_json::Value>(text).is_err() {
        return Err(StoreError::InvalidInput(format!("{what} must be JSON")));
    }
    Ok(())
}

/// Checks the ids a replay names.
pub(crate) fn check_replay(replay: &Replay) -> Result<(), StoreError> {
    match replay {
        Replay::One { event_id } => check_id("outbox event id", event_id),
        Replay::Range { bridge_id, .. } | Replay::Hasten { bridge_id } => {
            check_id("bridge id", bridge_id)
        }
    }
}

/// Checks a lease's name and holder and refuses a TTL that is not positive.
pub(crate) fn check_lease(name: &str, holder: &str, ttl_ms: i64) -> Result<(), StoreError> {
    check_id("lease name", name)?;
    check_id("lease holder", holder)?;
    if ttl_ms <= 0 {
        return Err(StoreError::InvalidInput(
            "a lease's ttl must be at least 1 ms".to_string(),
        ));
    }
    Ok(())
}

/// Checks a bridge file's ids and refuses an empty file.
pub(crate) fn check_bridge_file(file: &BridgeFile) -> Result<(), StoreError> {
    check_id("file id", &file.id)?;
    check_id("conversation id", &file.conversation_id)?;
    check_id("bridge id", &file.bridge_id)?;
    if file.size == 0 {
        return Err(StoreError::InvalidInput(
            "a file is never empty".to_string(),
        ));
    }
    Ok(())
}
