//! The embedded SQLite backend: connection setup, migrations and all SQL.
//!
//! The database runs in WAL mode with `synchronous=FULL` (configurable), foreign keys on and a
//! busy timeout. Writes go through the single group-commit writer in `writer`; the functions
//! here that take a `&mut SqliteConnection` run inside its transaction and never begin or end
//! one themselves. Reads use a separate pool of `query_only` connections, which WAL lets run
//! beside the writer without blocking it. Migrations live in `migrations/sqlite` and are
//! embedded in the binary.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Connection, QueryBuilder, Row, Sqlite};

use super::writer::{Command, Writer, WriterConfig};
use super::{
    Appended, Channel, Conversation, ConversationFilter, ConversationStatus, ConversationUpdate,
    Message, NewConversation, NewMessage, NewTicket, SenderKind, Step, StepCommitted, StepTarget,
    Store, StoreError, StoreOptions, Synchronous, Ticket, TicketStatus, check_id,
    check_optional_id, clamp_limit, clean_tags, now_millis, ticket_number,
};
use super::{NewToken, StoredToken, check_new_token};

static MIGRATOR: Migrator = sqlx::migrate!("src/store/migrations/sqlite");

/// Column list shared by every query that reads a whole conversation.
macro_rules! conversation_columns {
    () => {
        "id, channel, requester_id, language, status, queue_group, ticket_number, \
         machine_state, version, last_seq, created_at, updated_at"
    };
}

macro_rules! message_columns {
    () => {
        "conversation_id, seq, sender_kind, sender_id, body, payload, client_message_id, \
         created_at"
    };
}

macro_rules! ticket_columns {
    () => {
        "number, requester_id, activity_id, contract, group_name, description, status, tags, \
         conversation_id, created_at, updated_at"
    };
}

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
        .pragma("query_only", "ON");

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
        if serde_json::from_str::<serde_json::Value>(op).is_err() {
            return Err(StoreError::InvalidInput(
                "a desk operation must be JSON".to_string(),
            ));
        }
        self.writer
            .submit(|reply| Command::DeskAppend {
                op: op.to_owned(),
                reply,
            })
            .await
    }

    async fn desk_snapshot(&self, state: &str, through: i64) -> Result<(), StoreError> {
        if serde_json::from_str::<serde_json::Value>(state).is_err() {
            return Err(StoreError::InvalidInput(
                "a desk snapshot must be JSON".to_string(),
            ));
        }
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

    async fn close(&self) {
        // Writes first, so everything queued is committed before the readers go away.
        self.writer.close().await;
        self.read_pool.close().await;
    }

    async fn insert_token(&self, new: NewToken) -> Result<StoredToken, StoreError> {
        check_new_token(&new)?;
        let groups_json = encode_json(&new.groups)?;
        self.writer
            .submit(|reply| Command::InsertToken {
                token: PreparedToken { new, groups_json },
                reply,
            })
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

    async fn delete_token(&self, id: &str) -> Result<StoredToken, StoreError> {
        check_id("token id", id)?;
        self.writer
            .submit(|reply| Command::DeleteToken {
                id: id.to_owned(),
                reply,
            })
            .await
    }
}

// ---------------------------------------------------------------------------------------------
// Validated inputs. Validation and JSON encoding happen on the caller's task, so the writer
// spends its time on SQL only.

pub(super) struct PreparedConversation {
    new: NewConversation,
    machine_state_json: String,
}

impl PreparedConversation {
    fn new(new: NewConversation) -> Result<Self, StoreError> {
        check_id("conversation id", &new.id)?;
        check_id("requester id", &new.requester_id)?;
        check_id("language", &new.language)?;
        check_optional_id("queue group", new.queue_group.as_deref())?;
        let machine_state_json = encode_json(&new.machine_state)?;
        Ok(Self {
            new,
            machine_state_json,
        })
    }
}

pub(super) struct PreparedUpdate {
    update: ConversationUpdate,
    machine_state_json: String,
}

impl PreparedUpdate {
    fn new(update: ConversationUpdate) -> Result<Self, StoreError> {
        check_id("conversation id", &update.id)?;
        check_optional_id("queue group", update.queue_group.as_deref())?;
        let machine_state_json = encode_json(&update.machine_state)?;
        Ok(Self {
            update,
            machine_state_json,
        })
    }
}

pub(super) struct PreparedMessage {
    new: NewMessage,
    payload_json: Option<String>,
}

impl PreparedMessage {
    fn new(new: NewMessage) -> Result<Self, StoreError> {
        check_id("conversation id", &new.conversation_id)?;
        check_optional_id("sender id", new.sender_id.as_deref())?;
        check_optional_id("client message id", new.client_message_id.as_deref())?;
        let payload_json = new.payload.as_ref().map(encode_json).transpose()?;
        Ok(Self { new, payload_json })
    }
}

pub(super) enum PreparedTarget {
    Create(PreparedConversation),
    Update(PreparedUpdate),
    Keep(String),
}

pub(super) struct PreparedStep {
    target: PreparedTarget,
    messages: Vec<PreparedMessage>,
}

impl PreparedStep {
    fn new(step: Step) -> Result<Self, StoreError> {
        let id = step.target.id().to_owned();
        if let Some(stranger) = step
            .messages
            .iter()
            .find(|message| message.conversation_id != id)
        {
            return Err(StoreError::InvalidInput(format!(
                "a step of conversation {id:?} cannot append to {:?}",
                stranger.conversation_id
            )));
        }
        let target = match step.target {
            StepTarget::Create(new) => PreparedTarget::Create(PreparedConversation::new(new)?),
            StepTarget::Update(update) => PreparedTarget::Update(PreparedUpdate::new(update)?),
            StepTarget::Keep { id } => {
                check_id("conversation id", &id)?;
                PreparedTarget::Keep(id)
            }
        };
        let messages = step
            .messages
            .into_iter()
            .map(PreparedMessage::new)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { target, messages })
    }
}

pub(super) struct PreparedTicket {
    new: NewTicket,
    tags_json: String,
}

impl PreparedTicket {
    fn new(mut new: NewTicket) -> Result<Self, StoreError> {
        check_id("requester id", &new.requester_id)?;
        check_id("activity id", &new.activity_id)?;
        check_id("contract", &new.contract)?;
        check_id("group", &new.group)?;
        check_optional_id("conversation id", new.conversation_id.as_deref())?;
        new.tags = clean_tags(&new.tags)?;
        let tags_json = encode_json(&new.tags)?;
        Ok(Self { new, tags_json })
    }
}

fn encode_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|error| StoreError::InvalidInput(format!("cannot encode JSON: {error}")))
}

// ---------------------------------------------------------------------------------------------
// Writes. Each runs inside the writer's transaction. Contract with the writer: a refusal
// (not found, conflict, already exists) is decided before anything is written; a database error
// may leave partial writes, which the writer undoes (savepoint or whole batch).

pub(super) async fn create_conversation(
    connection: &mut SqliteConnection,
    prepared: PreparedConversation,
) -> Result<Conversation, StoreError> {
    let PreparedConversation {
        new,
        machine_state_json,
    } = prepared;
    let now = now_millis();
    let inserted = sqlx::query(
        "INSERT INTO conversations (id, channel, requester_id, language, status, queue_group, \
         machine_state, version, last_seq, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, 0, ?8, ?8) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&new.id)
    .bind(new.channel.as_str())
    .bind(&new.requester_id)
    .bind(&new.language)
    .bind(new.status.as_str())
    .bind(&new.queue_group)
    .bind(&machine_state_json)
    .bind(now)
    .execute(&mut *connection)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(StoreError::AlreadyExists {
            entity: "conversation",
            id: new.id,
        });
    }
    Ok(Conversation {
        id: new.id,
        channel: new.channel,
        requester_id: new.requester_id,
        language: new.language,
        status: new.status,
        queue_group: new.queue_group,
        ticket_number: None,
        machine_state: new.machine_state,
        version: 1,
        last_seq: 0,
        created_at: now,
        updated_at: now,
    })
}

pub(super) async fn update_conversation(
    connection: &mut SqliteConnection,
    prepared: PreparedUpdate,
) -> Result<Conversation, StoreError> {
    let PreparedUpdate {
        update,
        machine_state_json,
    } = prepared;
    let updated_row = sqlx::query(concat!(
        "UPDATE conversations SET status = ?3, queue_group = ?4, machine_state = ?5, \
         version = version + 1, updated_at = ?6 WHERE id = ?1 AND version = ?2 RETURNING ",
        conversation_columns!()
    ))
    .bind(&update.id)
    .bind(update.expected_version)
    .bind(update.status.as_str())
    .bind(&update.queue_group)
    .bind(&machine_state_json)
    .bind(now_millis())
    .fetch_optional(&mut *connection)
    .await?;
    if let Some(row) = updated_row {
        return conversation_from_row(&row);
    }
    let actual: Option<i64> = sqlx::query_scalar("SELECT version FROM conversations WHERE id = ?1")
        .bind(&update.id)
        .fetch_optional(&mut *connection)
        .await?;
    match actual {
        None => Err(StoreError::not_found("conversation", &update.id)),
        Some(actual) => Err(StoreError::Conflict {
            id: update.id,
            expected: update.expected_version,
            actual,
        }),
    }
}

/// One statement does the work: it reads `last_seq`, inserts with the next seq (the trigger
/// advances `last_seq`), and skips a client message id already stored. Only when nothing was
/// inserted do we look for the reason, so a refusal never leaves a partial write behind.
pub(super) async fn append_message(
    connection: &mut SqliteConnection,
    prepared: PreparedMessage,
) -> Result<Appended, StoreError> {
    let PreparedMessage { new, payload_json } = prepared;
    let now = now_millis();
    let inserted_seq: Option<i64> = sqlx::query_scalar(
        "INSERT INTO messages (conversation_id, seq, sender_kind, sender_id, body, payload, \
         client_message_id, created_at) \
         SELECT id, last_seq + 1, ?2, ?3, ?4, ?5, ?6, ?7 FROM conversations WHERE id = ?1 \
         ON CONFLICT (conversation_id, client_message_id) WHERE client_message_id IS NOT NULL \
         DO NOTHING RETURNING seq",
    )
    .bind(&new.conversation_id)
    .bind(new.sender_kind.as_str())
    .bind(&new.sender_id)
    .bind(&new.body)
    .bind(&payload_json)
    .bind(&new.client_message_id)
    .bind(now)
    .fetch_optional(&mut *connection)
    .await?;
    if let Some(seq) = inserted_seq {
        return Ok(Appended {
            message: Message {
                conversation_id: new.conversation_id,
                seq,
                sender_kind: new.sender_kind,
                sender_id: new.sender_id,
                body: new.body,
                payload: new.payload,
                client_message_id: new.client_message_id,
                created_at: now,
            },
            duplicate: false,
        });
    }

    if let Some(client_message_id) = &new.client_message_id {
        // Earlier in this transaction counts too, so two copies in one batch store one message.
        let existing = sqlx::query(concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE conversation_id = ?1 AND client_message_id = ?2"
        ))
        .bind(&new.conversation_id)
        .bind(client_message_id)
        .fetch_optional(&mut *connection)
        .await?;
        if let Some(row) = existing {
            let message = message_from_row(&row)?;
            if message.body != new.body {
                tracing::debug!(
                    conversation_id = %new.conversation_id,
                    seq = message.seq,
                    "replayed client message id with a different body; keeping the stored one"
                );
            }
            return Ok(Appended {
                message,
                duplicate: true,
            });
        }
    }
    Err(StoreError::not_found("conversation", &new.conversation_id))
}

/// One conversation step in the writer's transaction (the writer wraps it in a savepoint, so
/// a refusal half-way, such as a version conflict, undoes the appends before it).
pub(super) async fn commit_step(
    connection: &mut SqliteConnection,
    prepared: PreparedStep,
) -> Result<StepCommitted, StoreError> {
    let PreparedStep { target, messages } = prepared;
    let id = match &target {
        PreparedTarget::Create(conversation) => conversation.new.id.clone(),
        PreparedTarget::Update(update) => update.update.id.clone(),
        PreparedTarget::Keep(id) => id.clone(),
    };
    // A replayed input is recognised before anything is written.
    if !matches!(target, PreparedTarget::Create(_))
        && let Some(client_message_id) = messages
            .first()
            .and_then(|first| first.new.client_message_id.as_deref())
    {
        let existing = sqlx::query(concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE conversation_id = ?1 AND client_message_id = ?2"
        ))
        .bind(&id)
        .bind(client_message_id)
        .fetch_optional(&mut *connection)
        .await?;
        if let Some(row) = existing {
            return Ok(StepCommitted {
                conversation: None,
                messages: Vec::new(),
                duplicate: Some(message_from_row(&row)?),
            });
        }
    }
    let mut conversation = match target {
        PreparedTarget::Create(conversation) => {
            Some(create_conversation(connection, conversation).await?)
        }
        PreparedTarget::Update(update) => Some(update_conversation(connection, update).await?),
        PreparedTarget::Keep(_) => None,
    };
    let mut stored = Vec::with_capacity(messages.len());
    for message in messages {
        let appended = append_message(connection, message).await?;
        if appended.duplicate {
            // Only the first message may repeat an input; a later repeat is a caller's bug.
            return Err(StoreError::InvalidInput(format!(
                "client message id {:?} is already stored in conversation {id:?}",
                appended.message.client_message_id.unwrap_or_default()
            )));
        }
        stored.push(appended.message);
    }
    // The appends advanced the row as the trigger does; no need to read it again.
    if let (Some(row), Some(last)) = (conversation.as_mut(), stored.last()) {
        row.last_seq = row.last_seq.max(last.seq);
        row.updated_at = last.created_at;
    }
    Ok(StepCommitted {
        conversation,
        messages: stored,
        duplicate: None,
    })
}

pub(super) async fn create_ticket(
    connection: &mut SqliteConnection,
    prepared: PreparedTicket,
) -> Result<Ticket, StoreError> {
    let PreparedTicket { new, tags_json } = prepared;
    if let Some(conversation_id) = &new.conversation_id {
        ensure_conversation(connection, conversation_id).await?;
    }
    if let Some(request_key) = &new.request_key {
        let existing = sqlx::query(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM tickets WHERE request_key = ?1"
        ))
        .bind(request_key)
        .fetch_optional(&mut *connection)
        .await?;
        if let Some(row) = existing {
            return ticket_from_row(&row);
        }
    }
    // Bumped in the caller's savepoint: if anything below fails the number is given back.
    let serial: i64 = sqlx::query_scalar(
        "UPDATE counters SET value = value + 1 WHERE name = 'ticket' RETURNING value",
    )
    .fetch_one(&mut *connection)
    .await?;
    let number = ticket_number(serial);
    let now = now_millis();
    sqlx::query(
        "INSERT INTO tickets (number, serial, requester_id, activity_id, contract, group_name, \
         description, status, tags, conversation_id, created_at, updated_at, request_key) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12)",
    )
    .bind(&number)
    .bind(serial)
    .bind(&new.requester_id)
    .bind(&new.activity_id)
    .bind(&new.contract)
    .bind(&new.group)
    .bind(&new.description)
    .bind(new.status.as_str())
    .bind(&tags_json)
    .bind(&new.conversation_id)
    .bind(now)
    .bind(&new.request_key)
    .execute(&mut *connection)
    .await?;
    if let Some(conversation_id) = &new.conversation_id {
        link_conversation(connection, conversation_id, &number, now).await?;
    }
    Ok(Ticket {
        number,
        requester_id: new.requester_id,
        activity_id: new.activity_id,
        contract: new.contract,
        group: new.group,
        description: new.description,
        status: new.status,
        tags: new.tags,
        conversation_id: new.conversation_id,
        created_at: now,
        updated_at: now,
    })
}

pub(super) async fn attach_ticket(
    connection: &mut SqliteConnection,
    number: &str,
    conversation_id: &str,
) -> Result<(), StoreError> {
    ensure_conversation(connection, conversation_id).await?;
    let now = now_millis();
    let updated =
        sqlx::query("UPDATE tickets SET conversation_id = ?2, updated_at = ?3 WHERE number = ?1")
            .bind(number)
            .bind(conversation_id)
            .bind(now)
            .execute(&mut *connection)
            .await?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::not_found("ticket", number));
    }
    link_conversation(connection, conversation_id, number, now).await
}

pub(super) async fn add_ticket_tags(
    connection: &mut SqliteConnection,
    number: &str,
    tags: &[String],
) -> Result<Ticket, StoreError> {
    let stored: Option<String> = sqlx::query_scalar("SELECT tags FROM tickets WHERE number = ?1")
        .bind(number)
        .fetch_optional(&mut *connection)
        .await?;
    let Some(stored) = stored else {
        return Err(StoreError::not_found("ticket", number));
    };
    let mut merged = decode_tags(&stored)?;
    for tag in tags {
        if !merged.contains(tag) {
            merged.push(tag.clone());
        }
    }
    let row = sqlx::query(concat!(
        "UPDATE tickets SET tags = ?2, updated_at = ?3 WHERE number = ?1 RETURNING ",
        ticket_columns!()
    ))
    .bind(number)
    .bind(encode_json(&merged)?)
    .bind(now_millis())
    .fetch_one(&mut *connection)
    .await?;
    ticket_from_row(&row)
}

pub(super) async fn set_ticket_status(
    connection: &mut SqliteConnection,
    number: &str,
    status: TicketStatus,
) -> Result<Ticket, StoreError> {
    let row = sqlx::query(concat!(
        "UPDATE tickets SET status = ?2, updated_at = ?3 WHERE number = ?1 RETURNING ",
        ticket_columns!()
    ))
    .bind(number)
    .bind(status.as_str())
    .bind(now_millis())
    .fetch_optional(&mut *connection)
    .await?;
    match row {
        Some(row) => ticket_from_row(&row),
        None => Err(StoreError::not_found("ticket", number)),
    }
}

pub(super) async fn set_parameter(
    connection: &mut SqliteConnection,
    key: &str,
    value: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO parameters (key, value, updated_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(key)
    .bind(value)
    .bind(now_millis())
    .execute(&mut *connection)
    .await?;
    Ok(())
}

pub(super) async fn desk_append(
    connection: &mut SqliteConnection,
    op: &str,
) -> Result<i64, StoreError> {
    let seq: i64 =
        sqlx::query_scalar("INSERT INTO desk_ops (op, created_at) VALUES (?1, ?2) RETURNING seq")
            .bind(op)
            .bind(now_millis())
            .fetch_one(&mut *connection)
            .await?;
    Ok(seq)
}

pub(super) async fn desk_snapshot(
    connection: &mut SqliteConnection,
    state: &str,
    through: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO desk_snapshot (id, state, through, created_at) VALUES (1, ?1, ?2, ?3) \
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, through = excluded.through, \
         created_at = excluded.created_at",
    )
    .bind(state)
    .bind(through)
    .bind(now_millis())
    .execute(&mut *connection)
    .await?;
    sqlx::query("DELETE FROM desk_ops WHERE seq <= ?1")
        .bind(through)
        .execute(&mut *connection)
        .await?;
    Ok(())
}

async fn ensure_conversation(
    connection: &mut SqliteConnection,
    conversation_id: &str,
) -> Result<(), StoreError> {
    let exists = sqlx::query("SELECT 1 FROM conversations WHERE id = ?1")
        .bind(conversation_id)
        .fetch_optional(&mut *connection)
        .await?
        .is_some();
    if exists {
        Ok(())
    } else {
        Err(StoreError::not_found("conversation", conversation_id))
    }
}

/// Points the conversation at its ticket. Not a version change: the state machine does not own
/// this link, so it must not make the machine's next update conflict.
async fn link_conversation(
    connection: &mut SqliteConnection,
    conversation_id: &str,
    number: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE conversations SET ticket_number = ?2, updated_at = ?3 WHERE id = ?1")
        .bind(conversation_id)
        .bind(number)
        .bind(now)
        .execute(&mut *connection)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Row decoding.

fn conversation_from_row(row: &SqliteRow) -> Result<Conversation, StoreError> {
    let machine_state: String = row.try_get("machine_state")?;
    Ok(Conversation {
        id: row.try_get("id")?,
        channel: decode_text::<Channel>(row, "channel")?,
        requester_id: row.try_get("requester_id")?,
        language: row.try_get("language")?,
        status: decode_text::<ConversationStatus>(row, "status")?,
        queue_group: row.try_get("queue_group")?,
        ticket_number: row.try_get("ticket_number")?,
        machine_state: decode_json(&machine_state, "conversations.machine_state")?,
        version: row.try_get("version")?,
        last_seq: row.try_get("last_seq")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn message_from_row(row: &SqliteRow) -> Result<Message, StoreError> {
    let payload: Option<String> = row.try_get("payload")?;
    Ok(Message {
        conversation_id: row.try_get("conversation_id")?,
        seq: row.try_get("seq")?,
        sender_kind: decode_text::<SenderKind>(row, "sender_kind")?,
        sender_id: row.try_get("sender_id")?,
        body: row.try_get("body")?,
        payload: payload
            .as_deref()
            .map(|text| decode_json(text, "messages.payload"))
            .transpose()?,
        client_message_id: row.try_get("client_message_id")?,
        created_at: row.try_get("created_at")?,
    })
}

fn ticket_from_row(row: &SqliteRow) -> Result<Ticket, StoreError> {
    let tags: String = row.try_get("tags")?;
    Ok(Ticket {
        number: row.try_get("number")?,
        requester_id: row.try_get("requester_id")?,
        activity_id: row.try_get("activity_id")?,
        contract: row.try_get("contract")?,
        group: row.try_get("group_name")?,
        description: row.try_get("description")?,
        status: decode_text::<TicketStatus>(row, "status")?,
        tags: decode_tags(&tags)?,
        conversation_id: row.try_get("conversation_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn decode_text<T: FromStr>(row: &SqliteRow, column: &str) -> Result<T, StoreError> {
    let text: String = row.try_get(column)?;
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("unknown value {text:?} in column {column}")))
}

fn decode_json(text: &str, column: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text)
        .map_err(|error| StoreError::Corrupt(format!("invalid JSON in {column}: {error}")))
}

fn decode_tags(text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text)
        .map_err(|error| StoreError::Corrupt(format!("invalid tags in tickets.tags: {error}")))
}

// ---------------------------------------------------------------------------------------------
// Issued bearer tokens (hashes only).

pub(super) struct PreparedToken {
    new: NewToken,
    groups_json: String,
}

pub(super) async fn insert_token(
    connection: &mut SqliteConnection,
    prepared: PreparedToken,
) -> Result<StoredToken, StoreError> {
    let PreparedToken { new, groups_json } = prepared;
    let now = now_millis();
    let inserted = sqlx::query(
        "INSERT INTO api_tokens (id, sha256, role, subject, groups, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
    )
    .bind(&new.id)
    .bind(&new.sha256)
    .bind(&new.role)
    .bind(&new.subject)
    .bind(&groups_json)
    .bind(now)
    .bind(new.expires_at)
    .execute(&mut *connection)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(StoreError::AlreadyExists {
            entity: "token",
            id: new.id,
        });
    }
    Ok(StoredToken {
        id: new.id,
        sha256: new.sha256,
        role: new.role,
        subject: new.subject,
        groups: new.groups,
        created_at: now,
        expires_at: new.expires_at,
    })
}

pub(super) async fn delete_token(
    connection: &mut SqliteConnection,
    id: &str,
) -> Result<StoredToken, StoreError> {
    let row = sqlx::query(
        "DELETE FROM api_tokens WHERE id = ?1 \
         RETURNING id, sha256, role, subject, groups, created_at, expires_at",
    )
    .bind(id)
    .fetch_optional(&mut *connection)
    .await?;
    match row {
        Some(row) => token_from_row(&row),
        None => Err(StoreError::not_found("token", id)),
    }
}

fn token_from_row(row: &SqliteRow) -> Result<StoredToken, StoreError> {
    let groups: String = row.try_get("groups")?;
    Ok(StoredToken {
        id: row.try_get("id")?,
        sha256: row.try_get("sha256")?,
        role: row.try_get("role")?,
        subject: row.try_get("subject")?,
        groups: serde_json::from_str(&groups).map_err(|error| {
            StoreError::Corrupt(format!("invalid groups in api_tokens.groups: {error}"))
        })?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}
