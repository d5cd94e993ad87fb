//! The PostgreSQL backend: connection pool, migrations and the [`Store`] methods.
//!
//! There is no single writer here: every write runs in its own transaction on a pooled
//! connection (`READ COMMITTED`), and row locks keep what must stay ordered ordered when
//! several Ponte processes share the database: an append locks its conversation row before it
//! takes `last_seq + 1` or looks for its client message id, ticket numbers and desk log
//! positions come from locked counter rows, and the unique indexes back each of these up. Input
//! is validated by the same `prepared` types the SQLite store uses, before any SQL. This file
//! owns opening, closing and the trait; `writes` holds the writes of conversations, messages
//! and steps, `records` those of tickets, the desk log and tokens, `bridge_writes` and
//! `bridge_reads` the bridge's, and `rows` the decoding. Migrations live in `migrations/postgres` and are embedded
//! in the binary.

use std::collections::BTreeMap;
use std::str::FromStr;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, QueryBuilder, Row};

use super::Step;
use super::prepared::{
    PreparedBridge, PreparedConversation, PreparedMessage, PreparedOutboxEvent, PreparedReceipt,
    PreparedStep, PreparedTarget, PreparedTicket, PreparedToken, PreparedUpdate,
};
use super::{
    Appended, AttemptOutcome, BridgeDeadline, BridgeFile, BridgeHealth, BridgeRecord, Conversation,
    ConversationFilter, ConversationUpdate, DeliveryAttempt, DeskLog, InboundReceipt, Message,
    NewConversation, NewMessage, NewOutboxEvent, NewTicket, NewToken, OutboxEvent, OutboxFilter,
    Replay, StepCommitted, Store, StoreError, StoreOptions, StoredToken, Ticket, TicketStatus,
    check_bridge_file, check_desk_json, check_id, check_lease, check_optional_id, check_replay,
    clamp_limit, clean_tags,
};
use super::{NewAccount, NewSession, SessionIdentity, SignInFailures, StaffAccount};
use rows::{
    conversation_columns, conversation_from_row, message_columns, message_from_row, ticket_columns,
    ticket_from_row, token_columns, token_from_row,
};

mod accounts;
mod bridge_reads;
mod bridge_writes;
mod group_commit;
mod group_read;
mod knowledge_log;
mod last_messages;
mod leases;
mod read_marks;
mod records;
mod reports;
mod rows;
mod writes;

static MIGRATOR: Migrator = sqlx::migrate!("src/store/migrations/postgres");

/// Runs `$body` with `$connection` bound to a fresh transaction's connection; commits when it
/// returns `Ok`, rolls back (undoing every write of the body) when it returns `Err`.
macro_rules! in_transaction {
    ($store:expr, |$connection:ident| $body:expr) => {{
        let mut transaction = $store.pool.begin().await?;
        let $connection = &mut *transaction;
        match $body {
            Ok(value) => {
                transaction.commit().await?;
                Ok(value)
            }
            Err(error) => {
                // Dropping the transaction would roll back too; this just does it now.
                let _ = transaction.rollback().await;
                Err(error)
            }
        }
    }};
}

/// [`Store`] on PostgreSQL. Build it with [`PostgresStore::open`] or [`super::open`].
pub struct PostgresStore {
    pool: PgPool,
    /// The writer of the common steps (see [`group_commit`]).
    group: group_commit::GroupCommit,
    /// The reader of the conversation each input starts from (see [`group_read`]).
    reads: group_read::GroupRead,
}

impl PostgresStore {
    /// Connects to a `postgres://` or `postgresql://` URL and applies pending migrations.
    /// `options.busy_timeout` becomes the sessions' `lock_timeout`; the pool holds up to
    /// `options.pool_connections` connections.
    pub async fn open(url: &str, options: StoreOptions) -> Result<Self, StoreError> {
        // The parser's message may quote the URL, password included: it is not passed on.
        let connect = PgConnectOptions::from_str(url).map_err(|_| {
            StoreError::InvalidInput("bad postgres url (it could not be parsed)".into())
        })?;
        let lock_timeout = format!("{}ms", options.busy_timeout.as_millis().max(1));
        let connect = connect.options([("lock_timeout", lock_timeout.as_str())]);
        // A server that refuses or does not answer fails the open in seconds, not after the
        // pool's default half minute of retries.
        let pool = PgPoolOptions::new()
            .max_connections(options.pool_connections.max(1))
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect_with(connect)
            .await?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|error| StoreError::Migration(error.to_string()))?;
        tracing::info!("postgres store opened");
        let group = group_commit::GroupCommit::start(pool.clone());
        let reads = group_read::GroupRead::start(pool.clone());
        Ok(Self { pool, group, reads })
    }

    async fn desk_append_at(&self, op: &str, expected: Option<i64>) -> Result<i64, StoreError> {
        check_desk_json(op, "a desk operation")?;
        in_transaction!(self, |connection| records::desk_append(
            connection, op, expected
        )
        .await)
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn create_conversation(&self, new: NewConversation) -> Result<Conversation, StoreError> {
        let conversation = PreparedConversation::new(new)?;
        in_transaction!(self, |connection| {
            writes::create_conversation(connection, conversation).await
        })
    }

    async fn get_conversation(&self, id: &str) -> Result<Option<Conversation>, StoreError> {
        check_id("conversation id", id)?;
        let row = sqlx::query(concat!(
            "SELECT ",
            conversation_columns!(),
            " FROM conversations WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(conversation_from_row).transpose()
    }

    async fn update_conversation(
        &self,
        update: ConversationUpdate,
    ) -> Result<Conversation, StoreError> {
        let update = PreparedUpdate::new(update)?;
        in_transaction!(self, |connection| {
            writes::update_conversation(connection, update).await
        })
    }

    async fn list_conversations(
        &self,
        filter: ConversationFilter,
    ) -> Result<Vec<Conversation>, StoreError> {
        check_optional_id("requester id", filter.requester_id.as_deref())?;
        check_optional_id("queue group", filter.queue_group.as_deref())?;
        let limit = clamp_limit(filter.limit)?;
        let mut query = QueryBuilder::<Postgres>::new(concat!(
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
        // COLLATE "C": ids compare byte by byte, as in SQLite.
        query
            .push(" ORDER BY created_at, id COLLATE \"C\" LIMIT ")
            .push_bind(i64::from(limit));
        let rows = query.build().fetch_all(&self.pool).await?;
        rows.iter().map(conversation_from_row).collect()
    }

    async fn append_message(&self, new: NewMessage) -> Result<Appended, StoreError> {
        let message = PreparedMessage::new(new)?;
        let step = PreparedStep {
            target: PreparedTarget::Keep(message.new.conversation_id.clone()),
            messages: vec![message],
            outbox: Vec::new(),
            deadline: None,
        };
        let message = match self.group.commit(step).await? {
            group_commit::Written::Done(mut committed) => {
                if let Some(message) = committed.messages.pop() {
                    return Ok(Appended {
                        message,
                        duplicate: false,
                    });
                }
                return Err(StoreError::Internal(
                    "a committed append stored nothing".into(),
                ));
            }
            group_commit::Written::Declined(mut step) => match step.messages.pop() {
                Some(message) => message,
                None => {
                    return Err(StoreError::Internal(
                        "a declined append lost its message".into(),
                    ));
                }
            },
        };
        in_transaction!(self, |connection| {
            writes::append_message(connection, message).await
        })
    }

    async fn commit_step(&self, step: Step) -> Result<StepCommitted, StoreError> {
        let step = PreparedStep::new(step)?;
        let step = match self.group.commit(step).await? {
            group_commit::Written::Done(committed) => return Ok(committed),
            group_commit::Written::Declined(step) => step,
        };
        in_transaction!(self, |connection| writes::commit_step(connection, step)
            .await)
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
            " FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        ))
        .bind(conversation)
        .bind(after_seq)
        .bind(i64::from(page_size))
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            // Nothing new, or no such conversation: only the second is an error.
            let exists = sqlx::query("SELECT 1 FROM conversations WHERE id = $1")
                .bind(conversation)
                .fetch_optional(&self.pool)
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
            " FROM messages WHERE conversation_id = $1 AND client_message_id = $2"
        ))
        .bind(conversation)
        .bind(client_message_id)
        .fetch_optional(&self.pool)
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
        last_messages::last_messages(&self.pool, &ids, max_chars).await
    }

    async fn conversation_for_input(
        &self,
        id: &str,
        client_message_id: Option<&str>,
    ) -> Result<Option<(Conversation, Option<Message>)>, StoreError> {
        check_id("conversation id", id)?;
        // The replay, rare, is read whole only when the one read finds one.
        let Some((conversation, replayed_seq)) = self.reads.read(id, client_message_id).await?
        else {
            return Ok(None);
        };
        let replayed = match (replayed_seq, client_message_id) {
            (Some(_), Some(client_message_id)) => {
                self.message_by_client_id(id, client_message_id).await?
            }
            _ => None,
        };
        Ok(Some((conversation, replayed)))
    }

    async fn create_ticket(&self, new: NewTicket) -> Result<Ticket, StoreError> {
        let ticket = PreparedTicket::new(new)?;
        in_transaction!(self, |connection| records::create_ticket(
            connection, ticket
        )
        .await)
    }

    async fn get_ticket(&self, number: &str) -> Result<Option<Ticket>, StoreError> {
        check_id("ticket number", number)?;
        let row = sqlx::query(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM tickets WHERE number = $1"
        ))
        .bind(number)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(ticket_from_row).transpose()
    }

    async fn open_tickets_for(&self, requester: &str) -> Result<Vec<Ticket>, StoreError> {
        check_id("requester id", requester)?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM tickets WHERE requester_id = $1 AND status <> 'closed' ORDER BY serial"
        ))
        .bind(requester)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ticket_from_row).collect()
    }

    async fn attach_ticket(&self, number: &str, conversation: &str) -> Result<(), StoreError> {
        check_id("ticket number", number)?;
        check_id("conversation id", conversation)?;
        in_transaction!(self, |connection| {
            records::attach_ticket(connection, number, conversation).await
        })
    }

    async fn add_ticket_tags(&self, number: &str, tags: &[String]) -> Result<Ticket, StoreError> {
        check_id("ticket number", number)?;
        let tags = clean_tags(tags)?;
        in_transaction!(self, |connection| {
            records::add_ticket_tags(connection, number, &tags).await
        })
    }

    async fn set_ticket_status(
        &self,
        number: &str,
        status: TicketStatus,
    ) -> Result<Ticket, StoreError> {
        check_id("ticket number", number)?;
        let row = sqlx::query(concat!(
            "UPDATE tickets SET status = $2, updated_at = $3 WHERE number = $1 RETURNING ",
            ticket_columns!()
        ))
        .bind(number)
        .bind(status.as_str())
        .bind(super::now_millis())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => ticket_from_row(&row),
            None => Err(StoreError::not_found("ticket", number)),
        }
    }

    async fn parameters(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let rows = sqlx::query("SELECT key, value FROM parameters")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("key")?, row.try_get("value")?)))
            .collect()
    }

    async fn parameter(&self, key: &str) -> Result<Option<String>, StoreError> {
        check_id("parameter key", key)?;
        let value = sqlx::query_scalar("SELECT value FROM parameters WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(value)
    }

    async fn set_parameter(&self, key: &str, value: &str) -> Result<(), StoreError> {
        check_id("parameter key", key)?;
        sqlx::query(
            "INSERT INTO parameters (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
             updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(value)
        .bind(super::now_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn desk_append(&self, op: &str) -> Result<i64, StoreError> {
        self.desk_append_at(op, None).await
    }

    async fn desk_append_after(&self, op: &str, expected: i64) -> Result<i64, StoreError> {
        self.desk_append_at(op, Some(expected)).await
    }

    async fn desk_snapshot(&self, state: &str, through: i64) -> Result<(), StoreError> {
        check_desk_json(state, "a desk snapshot")?;
        in_transaction!(self, |connection| {
            records::desk_snapshot(connection, state, through).await
        })
    }

    async fn desk_load(&self) -> Result<DeskLog, StoreError> {
        in_transaction!(self, |connection| records::desk_load(connection).await)
    }

    async fn desk_ops_after(&self, after: i64) -> Result<super::DeskTail, StoreError> {
        in_transaction!(self, |connection| records::desk_ops_after(
            connection, after
        )
        .await)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        // Waits for the connections in use to come back; later calls fail with `Closed`.
        self.pool.close().await;
    }

    async fn insert_token(&self, new: NewToken) -> Result<StoredToken, StoreError> {
        let token = PreparedToken::new(new)?;
        in_transaction!(self, |connection| records::insert_token(connection, token)
            .await)
    }

    async fn tokens(&self) -> Result<Vec<StoredToken>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM api_tokens ORDER BY created_at, id COLLATE \"C\""
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    async fn token_by_sha256(&self, sha256: &str) -> Result<Option<StoredToken>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM api_tokens WHERE sha256 = $1"
        ))
        .bind(sha256)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn delete_token(&self, id: &str) -> Result<StoredToken, StoreError> {
        check_id("token id", id)?;
        in_transaction!(self, |connection| records::delete_token(connection, id)
            .await)
    }

    async fn put_account(&self, account: NewAccount) -> Result<StaffAccount, StoreError> {
        super::accounts::check_new_account(&account)?;
        in_transaction!(self, |connection| accounts::put(connection, account).await)
    }

    async fn account(&self, username: &str) -> Result<Option<StaffAccount>, StoreError> {
        accounts::account(&self.pool, username).await
    }

    async fn accounts(&self) -> Result<Vec<StaffAccount>, StoreError> {
        accounts::accounts(&self.pool).await
    }

    async fn delete_account(&self, username: &str) -> Result<StaffAccount, StoreError> {
        check_id("user name", username)?;
        in_transaction!(self, |connection| accounts::delete(connection, username)
            .await)
    }

    async fn insert_session(&self, session: NewSession, now_ms: i64) -> Result<(), StoreError> {
        super::accounts::check_new_session(&session)?;
        in_transaction!(self, |connection| {
            accounts::insert_session(connection, session, now_ms).await
        })
    }

    async fn session(
        &self,
        sha256: &str,
        now_ms: i64,
    ) -> Result<Option<SessionIdentity>, StoreError> {
        super::accounts::check_sha256(sha256)?;
        accounts::session(&self.pool, sha256, now_ms).await
    }

    async fn delete_session(&self, sha256: &str) -> Result<bool, StoreError> {
        super::accounts::check_sha256(sha256)?;
        in_transaction!(self, |connection| accounts::delete_session(
            connection, sha256
        )
        .await)
    }

    async fn record_sign_in_failure(
        &self,
        keys: &[String],
        at_ms: i64,
        forget_before_ms: i64,
    ) -> Result<(), StoreError> {
        super::accounts::check_failure_keys(keys)?;
        in_transaction!(self, |connection| accounts::record_failure(
            connection,
            keys,
            at_ms,
            forget_before_ms
        )
        .await)
    }

    async fn sign_in_failures(
        &self,
        keys: &[String],
        since_ms: i64,
    ) -> Result<Vec<SignInFailures>, StoreError> {
        super::accounts::check_failure_keys(keys)?;
        accounts::sign_in_failures(&self.pool, keys, since_ms).await
    }

    async fn forget_sign_in_failures(&self, keys: &[String]) -> Result<(), StoreError> {
        super::accounts::check_failure_keys(keys)?;
        accounts::forget_failures(&self.pool, keys).await
    }

    async fn put_bridge(&self, record: BridgeRecord) -> Result<BridgeRecord, StoreError> {
        let bridge = PreparedBridge::new(record)?;
        in_transaction!(self, |connection| {
            bridge_writes::put_bridge(connection, bridge).await
        })
    }

    async fn bridges(&self) -> Result<Vec<BridgeRecord>, StoreError> {
        bridge_reads::bridges(&self.pool).await
    }

    async fn set_bridge_enabled(
        &self,
        id: &str,
        enabled: bool,
        reason: Option<&str>,
    ) -> Result<BridgeRecord, StoreError> {
        check_id("bridge id", id)?;
        check_optional_id("disabled reason", reason)?;
        in_transaction!(self, |connection| {
            bridge_writes::set_bridge_enabled(connection, id, enabled, reason).await
        })
    }

    async fn delete_bridge(&self, id: &str) -> Result<(), StoreError> {
        check_id("bridge id", id)?;
        in_transaction!(self, |connection| {
            bridge_writes::delete_bridge(connection, id).await
        })
    }

    async fn enqueue_outbox(&self, events: Vec<(NewOutboxEvent, i64)>) -> Result<(), StoreError> {
        let events = events
            .into_iter()
            .map(|(event, seq)| Ok((PreparedOutboxEvent::new(event)?, seq)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        if events.is_empty() {
            return Ok(());
        }
        in_transaction!(self, |connection| {
            bridge_writes::enqueue_outbox(connection, events).await
        })
    }

    async fn due_outbox(&self, now: i64, limit: u32) -> Result<Vec<OutboxEvent>, StoreError> {
        let limit = clamp_limit(limit)?;
        bridge_reads::due_outbox(&self.pool, now, limit).await
    }

    async fn lane_head(
        &self,
        bridge_id: &str,
        conversation_id: &str,
    ) -> Result<Option<OutboxEvent>, StoreError> {
        check_id("bridge id", bridge_id)?;
        check_id("conversation id", conversation_id)?;
        bridge_reads::lane_head(&self.pool, bridge_id, conversation_id).await
    }

    async fn next_outbox_due(&self) -> Result<Option<i64>, StoreError> {
        bridge_reads::next_outbox_due(&self.pool).await
    }

    async fn record_attempt(
        &self,
        attempt: DeliveryAttempt,
        outcome: AttemptOutcome,
    ) -> Result<OutboxEvent, StoreError> {
        check_id("outbox event id", &attempt.event_id)?;
        in_transaction!(self, |connection| {
            bridge_writes::record_attempt(connection, attempt, outcome).await
        })
    }

    async fn outbox_event(&self, id: &str) -> Result<Option<OutboxEvent>, StoreError> {
        check_id("outbox event id", id)?;
        bridge_reads::outbox_event(&self.pool, id).await
    }

    async fn outbox_events(&self, filter: OutboxFilter) -> Result<Vec<OutboxEvent>, StoreError> {
        check_optional_id("bridge id", filter.bridge_id.as_deref())?;
        check_optional_id("conversation id", filter.conversation_id.as_deref())?;
        let limit = clamp_limit(filter.limit)?;
        bridge_reads::outbox_events(&self.pool, filter, limit).await
    }

    async fn delivery_attempts(&self, event_id: &str) -> Result<Vec<DeliveryAttempt>, StoreError> {
        check_id("outbox event id", event_id)?;
        bridge_reads::delivery_attempts(&self.pool, event_id).await
    }

    async fn replay_outbox(&self, replay: Replay, now: i64) -> Result<u64, StoreError> {
        check_replay(&replay)?;
        in_transaction!(self, |connection| {
            bridge_writes::replay_outbox(connection, &replay, now).await
        })
    }

    async fn bridge_health(&self, bridge_id: &str) -> Result<BridgeHealth, StoreError> {
        check_id("bridge id", bridge_id)?;
        bridge_reads::bridge_health(&self.pool, bridge_id).await
    }

    async fn inbound_receipt(
        &self,
        bridge_id: &str,
        webhook_id: &str,
    ) -> Result<Option<InboundReceipt>, StoreError> {
        check_id("bridge id", bridge_id)?;
        check_id("webhook id", webhook_id)?;
        bridge_reads::inbound_receipt(&self.pool, bridge_id, webhook_id).await
    }

    async fn record_inbound(
        &self,
        receipt: InboundReceipt,
        forget_before: i64,
    ) -> Result<InboundReceipt, StoreError> {
        let receipt = PreparedReceipt::new(receipt)?;
        in_transaction!(self, |connection| {
            bridge_writes::record_inbound(connection, receipt, forget_before).await
        })
    }

    async fn due_deadlines(&self, now: i64) -> Result<Vec<BridgeDeadline>, StoreError> {
        bridge_reads::due_deadlines(&self.pool, now).await
    }

    async fn next_deadline(&self) -> Result<Option<i64>, StoreError> {
        bridge_reads::next_deadline(&self.pool).await
    }

    async fn clear_deadline(&self, conversation_id: &str) -> Result<(), StoreError> {
        check_id("conversation id", conversation_id)?;
        in_transaction!(self, |connection| {
            bridge_writes::clear_deadline(connection, conversation_id).await
        })
    }

    async fn put_bridge_file(&self, file: BridgeFile) -> Result<BridgeFile, StoreError> {
        check_bridge_file(&file)?;
        in_transaction!(self, |connection| bridge_writes::put_file(connection, file)
            .await)
    }

    async fn bridge_file(&self, id: &str) -> Result<Option<BridgeFile>, StoreError> {
        check_id("file id", id)?;
        bridge_reads::bridge_file(&self.pool, id).await
    }

    async fn lease_claim(
        &self,
        name: &str,
        holder: &str,
        ttl_ms: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        check_lease(name, holder, ttl_ms)?;
        leases::claim(&self.pool, name, holder, ttl_ms, now_ms).await
    }

    async fn lease_release(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        check_lease(name, holder, 1)?;
        leases::release(&self.pool, name, holder).await
    }

    async fn lease_holder(&self, name: &str, now_ms: i64) -> Result<Option<String>, StoreError> {
        check_id("lease name", name)?;
        let holder =
            sqlx::query_scalar("SELECT holder FROM leases WHERE name = $1 AND expires_at_ms > $2")
                .bind(name)
                .bind(now_ms)
                .fetch_optional(&self.pool)
                .await?;
        Ok(holder)
    }

    async fn append_knowledge_changes(
        &self,
        changes: Vec<super::NewKnowledgeChange>,
    ) -> Result<i64, StoreError> {
        super::knowledge_log::check_knowledge_changes(&changes)?;
        in_transaction!(self, |connection| knowledge_log::append(
            connection, &changes
        )
        .await)
    }

    async fn knowledge_changes_after(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<super::KnowledgeChange>, StoreError> {
        knowledge_log::after(&self.pool, after_seq, clamp_limit(limit)?).await
    }

    async fn record_report(&self, batch: super::ReportBatch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        in_transaction!(self, |connection| reports::record(connection, &batch).await)
    }

    async fn report_conversations(
        &self,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<super::ReportConversation>, StoreError> {
        reports::conversations(&self.pool, since_ms, until_ms).await
    }

    async fn report_conversation(
        &self,
        id: &str,
    ) -> Result<Option<super::ReportConversation>, StoreError> {
        reports::conversation(&self.pool, id).await
    }

    async fn report_texts(
        &self,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<super::GapText>, StoreError> {
        reports::texts(&self.pool, since_ms, until_ms).await
    }

    async fn report_articles(
        &self,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<super::ReportArticle>, StoreError> {
        reports::articles(&self.pool, since_ms, until_ms).await
    }

    async fn report_presence(
        &self,
        until_ms: i64,
    ) -> Result<Vec<super::ReportPresence>, StoreError> {
        reports::presence(&self.pool, until_ms).await
    }

    async fn rate_conversation(&self, rating: super::Rating) -> Result<bool, StoreError> {
        let rating = super::report_log::check_rating(rating)?;
        let mut connection = self.pool.acquire().await?;
        reports::rate(&mut connection, &rating).await
    }

    async fn dismiss_gap(&self, key: &str, by: &str, dismiss: bool) -> Result<(), StoreError> {
        super::check_id("gap cluster key", key)?;
        let mut connection = self.pool.acquire().await?;
        reports::dismiss(&mut connection, key, by, super::now_millis(), dismiss).await
    }

    async fn dismissed_gaps(&self) -> Result<Vec<String>, StoreError> {
        reports::dismissed(&self.pool).await
    }

    async fn mark_read(
        &self,
        conversation: &str,
        side: super::ReadSide,
        seq: i64,
    ) -> Result<super::ReadMoved, StoreError> {
        super::read_marks::check_mark(conversation, seq)?;
        read_marks::mark(&self.pool, conversation, side, seq).await
    }

    async fn read_marks(&self, conversation: &str) -> Result<super::ReadMarks, StoreError> {
        check_id("conversation id", conversation)?;
        read_marks::marks(&self.pool, conversation).await
    }
}
