//! The embedded SQLite backend: connection setup, migrations and all SQL.
//!
//! The database runs in WAL mode with `synchronous=FULL` (configurable), foreign keys on and a
//! busy timeout. Writes go through the single group-commit writer in `writer`: this file
//! validates them into the types of `prepared`, and the functions of `writes`, which take a
//! `&mut SqliteConnection`, run inside the writer's transaction and never begin or end one
//! themselves. Reads run here, on a separate pool of `query_only` connections, which WAL lets
//! run beside the writer without blocking it; `rows` decodes what both read. The bridge's
//! records have their own three files: `bridge_writes` (with the writer commands that carry
//! them), `bridge_reads` and `bridge_rows`. Migrations live in `migrations/sqlite` and are
//! embedded in the binary.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection, QueryBuilder, Row, Sqlite};

use super::accounts::{check_new_account, check_new_session, check_sha256};
use super::prepared::{
    PreparedBridge, PreparedConversation, PreparedMessage, PreparedOutboxEvent, PreparedReceipt,
    PreparedStep, PreparedTicket, PreparedToken, PreparedUpdate,
};
use super::writer::{Command, Reply, ReportCommand, Writer, WriterConfig};
use super::{
    Appended, Conversation, ConversationFilter, ConversationUpdate, Message, NewConversation,
    NewMessage, NewTicket, Step, StepCommitted, Store, StoreError, StoreOptions, Synchronous,
    Ticket, TicketStatus, check_bridge_file, check_desk_json, check_id, check_lease,
    check_optional_id, check_replay, clamp_limit, clean_tags,
};
use super::{
    AttemptOutcome, BridgeDeadline, BridgeFile, BridgeHealth, BridgeRecord, DeliveryAttempt,
    InboundReceipt, NewOutboxEvent, NewToken, OutboxEvent, OutboxFilter, Replay, StoredToken,
};
use super::{NewAccount, NewSession, SessionIdentity, SignInFailures, StaffAccount};
use accounts::AccountCommand;
use bridge_writes::BridgeCommand;
use rows::{
    conversation_columns, conversation_from_row, message_columns, message_from_row, ticket_columns,
    ticket_from_row, token_from_row,
};

pub(super) mod accounts;
mod bridge_reads;
mod bridge_rows;
pub(super) mod bridge_writes;
pub(super) mod knowledge_log;
mod last_messages;
pub(super) mod leases;
pub(super) mod read_marks;
pub(super) mod reports;
mod rows;
pub(super) mod writes;

static MIGRATOR: Migrator = sqlx::migrate!("src/store/migrations/sqlite");

/// [`Store`] on SQLite. Build it with [`SqliteStore::open`] or [`super::open`].
pub struct SqliteStore {
    read_pool: SqlitePool,
    writer: Writer,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at a `sqlite:` URL and migrates it.
    pub async fn open(url: &str, options: StoreOptions) -> Result<Self, StoreError> {
        let in_memory = is_in_memory(url);
        let parsed = SqliteConnectOptions::from_str(url)
            .map_err(|error| StoreError::InvalidInput(format!("bad sqlite url: {error}")))?;
        let base = parsed
            .busy_timeout(options.busy_timeout)
            .foreign_keys(true)
            .synchronous(match options.synchronous {
                Synchronous::Full => SqliteSynchronous::Full,
                Synchronous::Normal => SqliteSynchronous::Normal,
            });

        let write_options = if in_memory {
            // Every connection must reach the same in-memory database.
            base.clone().shared_cache(true)
        } else {
            create_parent_dir(base.get_filename())?;
            base.clone()
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
        };
        let read_options = if in_memory {
            base.shared_cache(true)
        } else {
            base
        }
        // A reader that tried to write would bypass the writer and its ordering guarantees.
        .pragma("query_only", "ON")
        // Readers map the file (up to 1 GiB) instead of copying each page through a read
        // call: a report walks a hundred thousand rows in random order through the index.
        .pragma("mmap_size", "1073741824");

        let mut write_connection = SqliteConnection::connect_with(&write_options).await?;
        MIGRATOR
            .run(&mut write_connection)
            .await
            .map_err(|error| StoreError::Migration(error.to_string()))?;
        if !in_memory {
            let journal_mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&mut write_connection)
                .await?;
            if !journal_mode.eq_ignore_ascii_case("wal") {
                tracing::warn!(
                    journal_mode,
                    "sqlite is not in WAL mode; reads will block writes"
                );
            }
        }

        let read_pool = SqlitePoolOptions::new()
            .max_connections(options.read_connections.max(1))
            .connect_with(read_options)
            .await?;
        let writer = Writer::start(
            write_connection,
            write_options,
            WriterConfig {
                max_batch: options.max_batch,
                batch_linger: options.batch_linger,
                queue_capacity: options.queue_capacity,
            },
        )?;
        tracing::info!(
            in_memory,
            synchronous = ?options.synchronous,
            max_batch = options.max_batch,
            "sqlite store opened"
        );
        Ok(Self { read_pool, writer })
    }

    /// Queues one of the bridge's writes and waits until it is committed (or failed).
    async fn bridge_write<T>(
        &self,
        command: impl FnOnce(Reply<T>) -> BridgeCommand,
    ) -> Result<T, StoreError> {
        self.writer
            .submit(|reply| Command::Bridge(command(reply)))
            .await
    }

    /// A desk operation appended, at `expected` when given.
    async fn desk_append_at(&self, op: &str, expected: Option<i64>) -> Result<i64, StoreError> {
        check_desk_json(op, "a desk operation")?;
        self.writer
            .submit(|reply| Command::DeskAppend {
                op: op.to_owned(),
                expected,
                reply,
            })
            .await
    }
}

fn is_in_memory(url: &str) -> bool {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    database == ":memory:" || params.split('&').any(|pair| pair == "mode=memory")
}

fn create_parent_dir(path: &Path) -> Result<(), StoreError> {
    let Some(parent) = path.parent() else {
        return Ok(());
    };
    if parent.as_os_str().is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(parent).map_err(|error| {
        StoreError::InvalidInput(format!(
            "cannot create the database directory {}: {error}",
            parent.display()
        ))
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_conversation(&self, new: NewConversation) -> Result<Conversation, StoreError> {
        let conversation = PreparedConversation::new(new)?;
        self.writer
            .submit(|reply| Command::CreateConversation {
                conversation,
                reply,
            })
            .await
    }

    async fn get_conversation(&self, id: &str) -> Result<Option<Conversation>, StoreError> {
        check_id("conversation id", id)?;
        let row = sqlx::query(concat!(
            "SELECT ",
            conversation_columns!(),
            " FROM conversations WHERE id = ?1"
        ))
        .bind(id)
        .fetch_optional(&self.read_pool)
        .await?;
        row.as_ref().map(conversation_from_row).transpose()
    }

    async fn update_conversation(
        &self,
        update: ConversationUpdate,
    ) -> Result<Conversation, StoreError> {
        let update = PreparedUpdate::new(update)?;
        self.writer
            .submit(|reply| Command::UpdateConversation { update, reply })
            .await
    }

    async fn list_conversations(
        &self,
        filter: ConversationFilter,
    ) -> Result<Vec<Conversation>, StoreError> {
        check_optional_id("requester id", filter.requester_id.as_deref())?;
        check_optional_id("queue group", filter.queue_group.as_deref())?;
        let limit = clamp_limit(filter.limit)?;

        let mut query = QueryBuilder::<Sqlite>::new(concat!(
            "SELECT ",
            conversation_columns!(),
            " FROM conversations WHERE 1 = 1"
        ));
        if let Some(requester_id) = filter.requester_id {
            query.push(" AND requester_id = ").push_bind(requester_id);
        }
        if let Some(status) = filter.status {
            query.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(queue_group) = filter.queue_group {
            query.push(" AND queue_group = ").push_bind(queue_group);
        }
        query
            .push(" ORDER BY created_at, id LIMIT ")
            .push_bind(i64::from(limit));
        let rows = query.build().fetch_all(&self.read_pool).await?;
        rows.iter().map(conversation_from_row).collect()
    }

    async fn append_message(&self, new: NewMessage) -> Result<Appended, StoreError> {
        let message = PreparedMessage::new(new)?;
        self.writer
            .submit(|reply| Command::Append { message, reply })
            .await
    }

    async fn commit_step(&self, step: Step) -> Result<StepCommitted, StoreError> {
        let step = PreparedStep::new(step)?;
        self.writer
            .submit(|reply| Command::CommitStep { step, reply })
            .await
    }

    async fn messages_after(
        &self,
        conversation: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        check_id("conversation id", conversation)?;
        if after_seq < 0 {
            return Err(StoreError::InvalidInput(
                "after_seq must not be negative".into(),
            ));
        }
        let page_size = clamp_limit(limit)?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE conversation_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
        ))
        .bind(conversation)
        .bind(after_seq)
        .bind(i64::from(page_size))
        .fetch_all(&self.read_pool)
        .await?;
        if rows.is_empty() {
            // Nothing new, or no such conversation: only the second is an error.
            let exists = sqlx::query("SELECT 1 FROM conversations WHERE id = ?1")
                .bind(conversation)
                .fetch_optional(&self.read_pool)
                .await?
                .is_some();
            if !exists {
                return Err(StoreError::not_found("conversation", conversation));
            }
        }
        rows.iter().map(message_from_row).collect()
    }

    async fn message_by_client_id(
        &self,
        conversation: &str,
        client_message_id: &str,
    ) -> Result<Option<Message>, StoreError> {
        check_id("conversation id", conversation)?;
        let row = sqlx::query(concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE conversation_id = ?1 AND client_message_id = ?2"
        ))
        .bind(conversation)
        .bind(client_message_id)
        .fetch_optional(&self.read_pool)
        .await?;
        row.as_ref().map(message_from_row).transpose()
    }

    async fn last_messages(
        &self,
        conversations: &[String],
        max_chars: u32,
    ) -> Result<Vec<super::LastMessage>, StoreError> {
        super::last_messages::check_max_chars(max_chars)?;
        let ids = super::last_messages::wanted(conversations)?;
        last_messages::last_messages(&self.read_pool, &ids, max_chars).await
    }

    async fn create_ticket(&self, new: NewTicket) -> Result<Ticket, StoreError> {
        let ticket = PreparedTicket::new(new)?;
        self.writer
            .submit(|reply| Command::CreateTicket { ticket, reply })
            .await
    }

    async fn get_ticket(&self, number: &str) -> Result<Option<Ticket>, StoreError> {
        check_id("ticket number", number)?;
        let row = sqlx::query(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM tickets WHERE number = ?1"
        ))
        .bind(number)
        .fetch_optional(&self.read_pool)
        .await?;
        row.as_ref().map(ticket_from_row).transpose()
    }

    async fn open_tickets_for(&self, requester: &str) -> Result<Vec<Ticket>, StoreError> {
        check_id("requester id", requester)?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM tickets WHERE requester_id = ?1 AND status <> 'closed' ORDER BY serial"
        ))
        .bind(requester)
        .fetch_all(&self.read_pool)
        .await?;
        rows.iter().map(ticket_from_row).collect()
    }

    async fn attach_ticket(&self, number: &str, conversation: &str) -> Result<(), StoreError> {
        check_id("ticket number", number)?;
        check_id("conversation id", conversation)?;
        self.writer
            .submit(|reply| Command::AttachTicket {
                number: number.to_owned(),
                conversation_id: conversation.to_owned(),
                reply,
            })
            .await
    }

    async fn add_ticket_tags(&self, number: &str, tags: &[String]) -> Result<Ticket, StoreError> {
        check_id("ticket number", number)?;
        let cleaned_tags = clean_tags(tags)?;
        self.writer
            .submit(|reply| Command::AddTicketTags {
                number: number.to_owned(),
                tags: cleaned_tags,
                reply,
            })
            .await
    }

    async fn set_ticket_status(
        &self,
        number: &str,
        status: TicketStatus,
    ) -> Result<Ticket, StoreError> {
        check_id("ticket number", number)?;
        self.writer
            .submit(|reply| Command::SetTicketStatus {
                number: number.to_owned(),
                status,
                reply,
            })
            .await
    }

    async fn parameters(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let rows = sqlx::query("SELECT key, value FROM parameters")
            .fetch_all(&self.read_pool)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("key")?, row.try_get("value")?)))
            .collect()
    }

    async fn parameter(&self, key: &str) -> Result<Option<String>, StoreError> {
        check_id("parameter key", key)?;
        let value = sqlx::query_scalar("SELECT value FROM parameters WHERE key = ?1")
            .bind(key)
            .fetch_optional(&self.read_pool)
            .await?;
        Ok(value)
    }

    async fn set_parameter(&self, key: &str, value: &str) -> Result<(), StoreError> {
        check_id("parameter key", key)?;
        self.writer
            .submit(|reply| Command::SetParameter {
                key: key.to_owned(),
                value: value.to_owned(),
                reply,
            })
            .await
    }

    async fn desk_append(&self, op: &str) -> Result<i64, StoreError> {
        self.desk_append_at(op, None).await
    }

    async fn desk_append_after(&self, op: &str, expected: i64) -> Result<i64, StoreError> {
        self.desk_append_at(op, Some(expected)).await
    }

    async fn desk_snapshot(&self, state: &str, through: i64) -> Result<(), StoreError> {
        check_desk_json(state, "a desk snapshot")?;
        self.writer
            .submit(|reply| Command::DeskSnapshot {
                state: state.to_owned(),
                through,
                reply,
            })
            .await
    }

    async fn desk_load(&self) -> Result<super::DeskLog, StoreError> {
        let mut connection = self.read_pool.acquire().await?;
        // One read transaction, so the snapshot and the operations agree.
        sqlx::query("BEGIN").execute(&mut *connection).await?;
        let loaded = async {
            let snapshot: Option<(String, i64)> =
                sqlx::query_as("SELECT state, through FROM desk_snapshot WHERE id = 1")
                    .fetch_optional(&mut *connection)
                    .await?;
            let after = snapshot.as_ref().map(|(_, through)| *through).unwrap_or(0);
            let ops: Vec<(i64, String)> =
                sqlx::query_as("SELECT seq, op FROM desk_ops WHERE seq > ?1 ORDER BY seq")
                    .bind(after)
                    .fetch_all(&mut *connection)
                    .await?;
            Ok::<_, StoreError>(super::DeskLog { snapshot, ops })
        }
        .await;
        let _ = sqlx::query("COMMIT").execute(&mut *connection).await;
        loaded
    }

    async fn desk_ops_after(&self, after: i64) -> Result<super::DeskTail, StoreError> {
        let mut connection = self.read_pool.acquire().await?;
        // One read transaction, so the snapshot's position and the operations agree.
        sqlx::query("BEGIN").execute(&mut *connection).await?;
        let read = async {
            let through: Option<i64> =
                sqlx::query_scalar("SELECT through FROM desk_snapshot WHERE id = 1")
                    .fetch_optional(&mut *connection)
                    .await?;
            let ops: Vec<(i64, String)> =
                sqlx::query_as("SELECT seq, op FROM desk_ops WHERE seq > ?1 ORDER BY seq")
                    .bind(after)
                    .fetch_all(&mut *connection)
                    .await?;
            Ok::<_, StoreError>(super::DeskTail {
                snapshot_through: through.unwrap_or(0),
                ops,
            })
        }
        .await;
        let _ = sqlx::query("COMMIT").execute(&mut *connection).await;
        read
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.read_pool).await?;
        Ok(())
    }

    async fn close(&self) {
        // Writes first, so everything queued is committed before the readers go away.
        self.writer.close().await;
        self.read_pool.close().await;
    }

    async fn insert_token(&self, new: NewToken) -> Result<StoredToken, StoreError> {
        let token = PreparedToken::new(new)?;
        self.writer
            .submit(|reply| Command::InsertToken { token, reply })
            .await
    }

    async fn tokens(&self) -> Result<Vec<StoredToken>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, sha256, role, subject, groups, created_at, expires_at FROM api_tokens \
             ORDER BY created_at, id",
        )
        .fetch_all(&self.read_pool)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    async fn token_by_sha256(&self, sha256: &str) -> Result<Option<StoredToken>, StoreError> {
        let row = sqlx::query(
            "SELECT id, sha256, role, subject, groups, created_at, expires_at FROM api_tokens \
             WHERE sha256 = ?1",
        )
        .bind(sha256)
        .fetch_optional(&self.read_pool)
        .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn delete_token(&self, id: &str) -> Result<StoredToken, StoreError> {
        check_id("token id", id)?;
        self.writer
            .submit(|reply| Command::DeleteToken {
                id: id.to_owned(),
                reply,
            })
            .await
    }

    async fn put_account(&self, account: NewAccount) -> Result<StaffAccount, StoreError> {
        check_new_account(&account)?;
        self.writer
            .submit(|reply| Command::Account(AccountCommand::Put { account, reply }))
            .await
    }

    async fn account(&self, username: &str) -> Result<Option<StaffAccount>, StoreError> {
        accounts::account(&self.read_pool, username).await
    }

    async fn accounts(&self) -> Result<Vec<StaffAccount>, StoreError> {
        accounts::accounts(&self.read_pool).await
    }

    async fn delete_account(&self, username: &str) -> Result<StaffAccount, StoreError> {
        check_id("user name", username)?;
        let username = username.to_owned();
        self.writer
            .submit(|reply| Command::Account(AccountCommand::Delete { username, reply }))
            .await
    }

    async fn insert_session(&self, session: NewSession, now_ms: i64) -> Result<(), StoreError> {
        check_new_session(&session)?;
        self.writer
            .submit(|reply| {
                Command::Account(AccountCommand::InsertSession {
                    session,
                    now_ms,
                    reply,
                })
            })
            .await
    }

    async fn session(
        &self,
        sha256: &str,
        now_ms: i64,
    ) -> Result<Option<SessionIdentity>, StoreError> {
        check_sha256(sha256)?;
        accounts::session(&self.read_pool, sha256, now_ms).await
    }

    async fn delete_session(&self, sha256: &str) -> Result<bool, StoreError> {
        check_sha256(sha256)?;
        let sha256 = sha256.to_owned();
        self.writer
            .submit(|reply| Command::Account(AccountCommand::DeleteSession { sha256, reply }))
            .await
    }

    async fn record_sign_in_failure(
        &self,
        keys: &[String],
        at_ms: i64,
        forget_before_ms: i64,
    ) -> Result<(), StoreError> {
        super::accounts::check_failure_keys(keys)?;
        let keys = keys.to_vec();
        self.writer
            .submit(|reply| {
                Command::Account(AccountCommand::RecordFailure {
                    keys,
                    at_ms,
                    forget_before_ms,
                    reply,
                })
            })
            .await
    }

    async fn sign_in_failures(
        &self,
        keys: &[String],
        since_ms: i64,
    ) -> Result<Vec<SignInFailures>, StoreError> {
        super::accounts::check_failure_keys(keys)?;
        accounts::sign_in_failures(&self.read_pool, keys, since_ms).await
    }

    async fn forget_sign_in_failures(&self, keys: &[String]) -> Result<(), StoreError> {
        super::accounts::check_failure_keys(keys)?;
        let keys = keys.to_vec();
        self.writer
            .submit(|reply| Command::Account(AccountCommand::ForgetFailures { keys, reply }))
            .await
    }

    async fn put_bridge(&self, record: BridgeRecord) -> Result<BridgeRecord, StoreError> {
        let bridge = PreparedBridge::new(record)?;
        self.bridge_write(|reply| BridgeCommand::PutBridge { bridge, reply })
            .await
    }

    async fn bridges(&self) -> Result<Vec<BridgeRecord>, StoreError> {
        bridge_reads::bridges(&self.read_pool).await
    }

    async fn set_bridge_enabled(
        &self,
        id: &str,
        enabled: bool,
        reason: Option<&str>,
    ) -> Result<BridgeRecord, StoreError> {
        check_id("bridge id", id)?;
        check_optional_id("disabled reason", reason)?;
        self.bridge_write(|reply| BridgeCommand::SetBridgeEnabled {
            id: id.to_owned(),
            enabled,
            reason: reason.map(str::to_owned),
            reply,
        })
        .await
    }

    async fn delete_bridge(&self, id: &str) -> Result<(), StoreError> {
        check_id("bridge id", id)?;
        self.bridge_write(|reply| BridgeCommand::DeleteBridge {
            id: id.to_owned(),
            reply,
        })
        .await
    }

    async fn enqueue_outbox(&self, events: Vec<(NewOutboxEvent, i64)>) -> Result<(), StoreError> {
        let events = events
            .into_iter()
            .map(|(event, seq)| Ok((PreparedOutboxEvent::new(event)?, seq)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        if events.is_empty() {
            return Ok(());
        }
        self.bridge_write(|reply| BridgeCommand::EnqueueOutbox { events, reply })
            .await
    }

    async fn due_outbox(&self, now: i64, limit: u32) -> Result<Vec<OutboxEvent>, StoreError> {
        let limit = clamp_limit(limit)?;
        bridge_reads::due_outbox(&self.read_pool, now, limit).await
    }

    async fn lane_head(
        &self,
        bridge_id: &str,
        conversation_id: &str,
    ) -> Result<Option<OutboxEvent>, StoreError> {
        check_id("bridge id", bridge_id)?;
        check_id("conversation id", conversation_id)?;
        bridge_reads::lane_head(&self.read_pool, bridge_id, conversation_id).await
    }

    async fn next_outbox_due(&self) -> Result<Option<i64>, StoreError> {
        bridge_reads::next_outbox_due(&self.read_pool).await
    }

    async fn record_attempt(
        &self,
        attempt: DeliveryAttempt,
        outcome: AttemptOutcome,
    ) -> Result<OutboxEvent, StoreError> {
        check_id("outbox event id", &attempt.event_id)?;
        self.bridge_write(|reply| BridgeCommand::RecordAttempt {
            attempt,
            outcome,
            reply,
        })
        .await
    }

    async fn outbox_event(&self, id: &str) -> Result<Option<OutboxEvent>, StoreError> {
        check_id("outbox event id", id)?;
        bridge_reads::outbox_event(&self.read_pool, id).await
    }

    async fn outbox_events(&self, filter: OutboxFilter) -> Result<Vec<OutboxEvent>, StoreError> {
        check_optional_id("bridge id", filter.bridge_id.as_deref())?;
        check_optional_id("conversation id", filter.conversation_id.as_deref())?;
        let limit = clamp_limit(filter.limit)?;
        bridge_reads::outbox_events(&self.read_pool, filter, limit).await
    }

    async fn delivery_attempts(&self, event_id: &str) -> Result<Vec<DeliveryAttempt>, StoreError> {
        check_id("outbox event id", event_id)?;
        bridge_reads::delivery_attempts(&self.read_pool, event_id).await
    }

    async fn replay_outbox(&self, replay: Replay, now: i64) -> Result<u64, StoreError> {
        check_replay(&replay)?;
        self.bridge_write(|reply| BridgeCommand::ReplayOutbox { replay, now, reply })
            .await
    }

    async fn bridge_health(&self, bridge_id: &str) -> Result<BridgeHealth, StoreError> {
        check_id("bridge id", bridge_id)?;
        bridge_reads::bridge_health(&self.read_pool, bridge_id).await
    }

    async fn inbound_receipt(
        &self,
        bridge_id: &str,
        webhook_id: &str,
    ) -> Result<Option<InboundReceipt>, StoreError> {
        check_id("bridge id", bridge_id)?;
        check_id("webhook id", webhook_id)?;
        bridge_reads::inbound_receipt(&self.read_pool, bridge_id, webhook_id).await
    }

    async fn record_inbound(
        &self,
        receipt: InboundReceipt,
        forget_before: i64,
    ) -> Result<InboundReceipt, StoreError> {
        let receipt = PreparedReceipt::new(receipt)?;
        self.bridge_write(|reply| BridgeCommand::RecordInbound {
            receipt,
            forget_before,
            reply,
        })
        .await
    }

    async fn due_deadlines(&self, now: i64) -> Result<Vec<BridgeDeadline>, StoreError> {
        bridge_reads::due_deadlines(&self.read_pool, now).await
    }

    async fn next_deadline(&self) -> Result<Option<i64>, StoreError> {
        bridge_reads::next_deadline(&self.read_pool).await
    }

    async fn clear_deadline(&self, conversation_id: &str) -> Result<(), StoreError> {
        check_id("conversation id", conversation_id)?;
        self.bridge_write(|reply| BridgeCommand::ClearDeadline {
            conversation_id: conversation_id.to_owned(),
            reply,
        })
        .await
    }

    async fn put_bridge_file(&self, file: BridgeFile) -> Result<BridgeFile, StoreError> {
        check_bridge_file(&file)?;
        self.bridge_write(|reply| BridgeCommand::PutFile { file, reply })
            .await
    }

    async fn bridge_file(&self, id: &str) -> Result<Option<BridgeFile>, StoreError> {
        check_id("file id", id)?;
        bridge_reads::bridge_file(&self.read_pool, id).await
    }

    async fn lease_claim(
        &self,
        name: &str,
        holder: &str,
        ttl_ms: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        check_lease(name, holder, ttl_ms)?;
        self.writer
            .submit(|reply| Command::LeaseClaim {
                name: name.to_owned(),
                holder: holder.to_owned(),
                ttl_ms,
                now_ms,
                reply,
            })
            .await
    }

    async fn lease_release(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        check_lease(name, holder, 1)?;
        self.writer
            .submit(|reply| Command::LeaseRelease {
                name: name.to_owned(),
                holder: holder.to_owned(),
                reply,
            })
            .await
    }

    async fn lease_holder(&self, name: &str, now_ms: i64) -> Result<Option<String>, StoreError> {
        check_id("lease name", name)?;
        let holder =
            sqlx::query_scalar("SELECT holder FROM leases WHERE name = ?1 AND expires_at_ms > ?2")
                .bind(name)
                .bind(now_ms)
                .fetch_optional(&self.read_pool)
                .await?;
        Ok(holder)
    }

    async fn append_knowledge_changes(
        &self,
        changes: Vec<super::NewKnowledgeChange>,
    ) -> Result<i64, StoreError> {
        super::knowledge_log::check_knowledge_changes(&changes)?;
        self.writer
            .submit(|reply| Command::KnowledgeAppend { changes, reply })
            .await
    }

    async fn knowledge_changes_after(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<super::KnowledgeChange>, StoreError> {
        knowledge_log::after(&self.read_pool, after_seq, clamp_limit(limit)?).await
    }

    async fn record_report(&self, batch: super::ReportBatch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.writer
            .submit(|reply| Command::Report(ReportCommand::Record { batch, reply }))
            .await
    }

    async fn report_conversations(
        &self,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<super::ReportConversation>, StoreError> {
        reports::conversations(&self.read_pool, since_ms, until_ms).await
    }

    async fn report_conversation(
        &self,
        id: &str,
    ) -> Result<Option<super::ReportConversation>, StoreError> {
        reports::conversation(&self.read_pool, id).await
    }

    async fn report_texts(
        &self,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<super::GapText>, StoreError> {
        reports::texts(&self.read_pool, since_ms, until_ms).await
    }

    async fn report_articles(
        &self,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<super::ReportArticle>, StoreError> {
        reports::articles(&self.read_pool, since_ms, until_ms).await
    }

    async fn report_presence(
        &self,
        until_ms: i64,
    ) -> Result<Vec<super::ReportPresence>, StoreError> {
        reports::presence(&self.read_pool, until_ms).await
    }

    async fn rate_conversation(&self, rating: super::Rating) -> Result<bool, StoreError> {
        let rating = super::report_log::check_rating(rating)?;
        self.writer
            .submit(|reply| Command::Report(ReportCommand::Rate { rating, reply }))
            .await
    }

    async fn dismiss_gap(&self, key: &str, by: &str, dismiss: bool) -> Result<(), StoreError> {
        super::check_id("gap cluster key", key)?;
        let (key, by, at_ms) = (key.to_string(), by.to_string(), super::now_millis());
        self.writer
            .submit(|reply| {
                Command::Report(ReportCommand::Dismiss {
                    key,
                    by,
                    at_ms,
                    dismiss,
                    reply,
                })
            })
            .await
    }

    async fn dismissed_gaps(&self) -> Result<Vec<String>, StoreError> {
        reports::dismissed(&self.read_pool).await
    }

    async fn mark_read(
        &self,
        conversation: &str,
        side: super::ReadSide,
        seq: i64,
    ) -> Result<super::ReadMoved, StoreError> {
        super::read_marks::check_mark(conversation, seq)?;
        let conversation_id = conversation.to_owned();
        self.writer
            .submit(|reply| {
                Command::ReadMark(read_marks::ReadCommand {
                    conversation_id,
                    side,
                    seq,
                    reply,
                })
            })
            .await
    }

    async fn read_marks(&self, conversation: &str) -> Result<super::ReadMarks, StoreError> {
        check_id("conversation id", conversation)?;
        read_marks::marks(&self.read_pool, conversation).await
    }
}
