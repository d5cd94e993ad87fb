//! The bridge's SQLite writes, and the writer commands that carry them: bridge definitions,
//! outbox events (also written by `writes::commit_step`), delivery attempts, replays, inbound
//! receipts, accept deadlines and the files that crossed a bridge. Like `writes`, each runs inside the writer's transaction and
//! decides a refusal before writing, or runs in the writer's savepoint.

use sqlx::sqlite::SqliteConnection;

use super::super::prepared::{PreparedBridge, PreparedOutboxEvent, PreparedReceipt};
use super::super::settle::{Outcome, Reply, Settle, settle_later};
use super::super::{
    AttemptOutcome, BridgeDeadline, BridgeFile, BridgeRecord, DeliveryAttempt, InboundReceipt,
    OutboxEvent, Replay, StoreError, now_millis,
};
use super::bridge_rows::{
    bridge_columns, bridge_from_row, outbox_columns, outbox_from_row, receipt_from_row,
};

/// One bridge write, with the channel its result goes back on. Each runs in a savepoint but
/// [`BridgeCommand::RecordAttempt`], the dispatcher's hot path, whose refusal comes before it
/// writes anything and whose writes cannot be refused ([`BridgeCommand::needs_savepoint`]).
pub(in crate::store) enum BridgeCommand {
    PutBridge {
        bridge: PreparedBridge,
        reply: Reply<BridgeRecord>,
    },
    SetBridgeEnabled {
        id: String,
        enabled: bool,
        reason: Option<String>,
        reply: Reply<BridgeRecord>,
    },
    DeleteBridge {
        id: String,
        reply: Reply<()>,
    },
    EnqueueOutbox {
        events: Vec<(PreparedOutboxEvent, i64)>,
        reply: Reply<()>,
    },
    RecordAttempt {
        attempt: DeliveryAttempt,
        outcome: AttemptOutcome,
        reply: Reply<OutboxEvent>,
    },
    ReplayOutbox {
        replay: Replay,
        now: i64,
        reply: Reply<u64>,
    },
    RecordInbound {
        receipt: PreparedReceipt,
        forget_before: i64,
        reply: Reply<InboundReceipt>,
    },
    ClearDeadline {
        conversation_id: String,
        reply: Reply<()>,
    },
    PutFile {
        file: BridgeFile,
        reply: Reply<BridgeFile>,
    },
}

impl BridgeCommand {
    /// Whether the command needs a savepoint to be undone alone.
    pub(in crate::store) fn needs_savepoint(&self) -> bool {
        !matches!(self, Self::RecordAttempt { .. })
    }

    /// Answers without running: the command will not be written.
    pub(in crate::store) fn fail(self, error: StoreError) {
        // A caller that stopped waiting has nothing to be told.
        let _delivered = match self {
            Self::PutBridge { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::SetBridgeEnabled { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::DeleteBridge { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::EnqueueOutbox { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::RecordAttempt { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::ReplayOutbox { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::RecordInbound { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::ClearDeadline { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::PutFile { reply, .. } => reply.send(Err(error)).is_ok(),
        };
    }

    /// Runs the command; its answer is held back until the batch's fate is known.
    pub(in crate::store) async fn apply(
        self,
        connection: &mut SqliteConnection,
    ) -> (Settle, Outcome) {
        match self {
            Self::PutBridge { bridge, reply } => {
                settle_later(reply, put_bridge(connection, bridge).await)
            }
            Self::SetBridgeEnabled {
                id,
                enabled,
                reason,
                reply,
            } => settle_later(
                reply,
                set_bridge_enabled(connection, &id, enabled, reason.as_deref()).await,
            ),
            Self::DeleteBridge { id, reply } => {
                settle_later(reply, delete_bridge(connection, &id).await)
            }
            Self::EnqueueOutbox { events, reply } => {
                settle_later(reply, enqueue_outbox(connection, events).await)
            }
            Self::RecordAttempt {
                attempt,
                outcome,
                reply,
            } => settle_later(reply, record_attempt(connection, attempt, outcome).await),
            Self::ReplayOutbox { replay, now, reply } => {
                settle_later(reply, replay_outbox(connection, &replay, now).await)
            }
            Self::RecordInbound {
                receipt,
                forget_before,
                reply,
            } => settle_later(
                reply,
                record_inbound(connection, receipt, forget_before).await,
            ),
            Self::ClearDeadline {
                conversation_id,
                reply,
            } => settle_later(reply, clear_deadline(connection, &conversation_id).await),
            Self::PutFile { file, reply } => settle_later(reply, put_file(connection, file).await),
        }
    }
}

async fn put_bridge(
    connection: &mut SqliteConnection,
    prepared: PreparedBridge,
) -> Result<BridgeRecord, StoreError> {
    let PreparedBridge {
        mut record,
        config_json,
    } = prepared;
    record.updated_at = now_millis();
    sqlx::query(
        "INSERT INTO bridges (id, config, enabled, disabled_reason, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (id) DO UPDATE SET config = excluded.config, enabled = excluded.enabled, \
         disabled_reason = excluded.disabled_reason, updated_at = excluded.updated_at",
    )
    .bind(&record.id)
    .bind(&config_json)
    .bind(record.enabled)
    .bind(&record.disabled_reason)
    .bind(record.updated_at)
    .execute(&mut *connection)
    .await?;
    Ok(record)
}

/// Turning deliveries on forgets why they were off.
async fn set_bridge_enabled(
    connection: &mut SqliteConnection,
    id: &str,
    enabled: bool,
    reason: Option<&str>,
) -> Result<BridgeRecord, StoreError> {
    let reason = if enabled { None } else { reason };
    let row = sqlx::query(concat!(
        "UPDATE bridges SET enabled = ?2, disabled_reason = ?3, updated_at = ?4 WHERE id = ?1 \
         RETURNING ",
        bridge_columns!()
    ))
    .bind(id)
    .bind(enabled)
    .bind(reason)
    .bind(now_millis())
    .fetch_optional(&mut *connection)
    .await?;
    match row {
        Some(row) => bridge_from_row(&row),
        None => Err(StoreError::not_found("bridge", id)),
    }
}

async fn delete_bridge(connection: &mut SqliteConnection, id: &str) -> Result<(), StoreError> {
    let deleted = sqlx::query("DELETE FROM bridges WHERE id = ?1")
        .bind(id)
        .execute(&mut *connection)
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(StoreError::not_found("bridge", id));
    }
    Ok(())
}

async fn enqueue_outbox(
    connection: &mut SqliteConnection,
    events: Vec<(PreparedOutboxEvent, i64)>,
) -> Result<(), StoreError> {
    let now = now_millis();
    for (event, seq) in &events {
        insert_outbox_event(connection, event, *seq, now).await?;
    }
    Ok(())
}

/// Puts one event in the outbox, pending and due at once. A `webhook-id` already stored is
/// refused (the caller's savepoint undoes the events before it).
pub(super) async fn insert_outbox_event(
    connection: &mut SqliteConnection,
    prepared: &PreparedOutboxEvent,
    seq: i64,
    now: i64,
) -> Result<(), StoreError> {
    let event = &prepared.event;
    let inserted = sqlx::query(
        "INSERT INTO outbox (id, bridge_id, conversation_id, event_type, seq, data, created_at, \
         status, attempts, next_attempt_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', 0, ?7) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&event.id)
    .bind(&event.bridge_id)
    .bind(&event.conversation_id)
    .bind(&event.event_type)
    .bind(seq)
    .bind(&prepared.data_json)
    .bind(now)
    .execute(&mut *connection)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(StoreError::AlreadyExists {
            entity: "outbox event",
            id: event.id.clone(),
        });
    }
    Ok(())
}

/// Sets a conversation's accept deadline, replacing the one it had.
pub(super) async fn upsert_deadline(
    connection: &mut SqliteConnection,
    deadline: &BridgeDeadline,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO bridge_deadlines (conversation_id, bridge_id, due_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (conversation_id) DO UPDATE SET bridge_id = excluded.bridge_id, \
         due_at = excluded.due_at",
    )
    .bind(&deadline.conversation_id)
    .bind(&deadline.bridge_id)
    .bind(deadline.due_at)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// The attempt is stored under its own number, or under the event's next free one when that
/// number is taken (after a replay reset `attempts`, the history goes on numbering).
async fn record_attempt(
    connection: &mut SqliteConnection,
    attempt: DeliveryAttempt,
    outcome: AttemptOutcome,
) -> Result<OutboxEvent, StoreError> {
    // The update comes first: an unknown event is refused before anything is written, and
    // the insert after it cannot be refused (its number is one past the event's last), so
    // the command needs no savepoint.
    let (status, next_attempt_at, delivered_at, last_error) = match outcome {
        AttemptOutcome::Delivered => ("delivered", None, Some(now_millis()), None),
        AttemptOutcome::Retry { next_attempt_at } => (
            "pending",
            Some(next_attempt_at),
            None,
            attempt.error.as_deref(),
        ),
        AttemptOutcome::Dead => ("dead", None, None, attempt.error.as_deref()),
    };
    let row = sqlx::query(concat!(
        "UPDATE outbox SET attempts = attempts + 1, status = ?2, \
         next_attempt_at = COALESCE(?3, next_attempt_at), last_error = ?4, delivered_at = ?5 \
         WHERE id = ?1 RETURNING ",
        outbox_columns!()
    ))
    .bind(&attempt.event_id)
    .bind(status)
    .bind(next_attempt_at)
    .bind(last_error)
    .bind(delivered_at)
    .fetch_optional(&mut *connection)
    .await?;
    let Some(row) = row else {
        return Err(StoreError::not_found("outbox event", &attempt.event_id));
    };
    // Written already: a row that cannot be read back fails the batch instead of being a
    // refusal that would leave the update in place.
    let event = outbox_from_row(&row)
        .map_err(|error| StoreError::Internal(format!("outbox row after an attempt: {error}")))?;
    sqlx::query(
        "INSERT INTO delivery_attempts (event_id, attempt, at, status_code, latency_ms, error) \
         SELECT ?1, max(?2, COALESCE(MAX(attempt), 0) + 1), ?3, ?4, ?5, ?6 \
         FROM delivery_attempts WHERE event_id = ?1",
    )
    .bind(&attempt.event_id)
    .bind(i64::from(attempt.attempt))
    .bind(attempt.at)
    .bind(attempt.status_code.map(i64::from))
    .bind(attempt.latency_ms)
    .bind(&attempt.error)
    .execute(&mut *connection)
    .await?;
    Ok(event)
}

/// Only dead or delivered events move (pending ones, for [`Replay::Hasten`]); an unknown
/// event of [`Replay::One`] is refused.
async fn replay_outbox(
    connection: &mut SqliteConnection,
    replay: &Replay,
    now: i64,
) -> Result<u64, StoreError> {
    macro_rules! replayed {
        () => {
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?1, \
             last_error = NULL, delivered_at = NULL WHERE status IN ('dead', 'delivered')"
        };
    }
    let replayed = match replay {
        Replay::One { event_id } => {
            let known = sqlx::query("SELECT 1 FROM outbox WHERE id = ?1")
                .bind(event_id)
                .fetch_optional(&mut *connection)
                .await?
                .is_some();
            if !known {
                return Err(StoreError::not_found("outbox event", event_id));
            }
            sqlx::query(concat!(replayed!(), " AND id = ?2"))
                .bind(now)
                .bind(event_id)
                .execute(&mut *connection)
                .await?
        }
        Replay::Range {
            bridge_id,
            since,
            until,
        } => {
            sqlx::query(concat!(
                replayed!(),
                " AND bridge_id = ?2 AND created_at >= ?3 AND created_at < ?4"
            ))
            .bind(now)
            .bind(bridge_id)
            .bind(since)
            .bind(until)
            .execute(&mut *connection)
            .await?
        }
        Replay::Hasten { bridge_id } => {
            sqlx::query(
                "UPDATE outbox SET next_attempt_at = ?1 \
                 WHERE bridge_id = ?2 AND status = 'pending' AND next_attempt_at > ?1",
            )
            .bind(now)
            .bind(bridge_id)
            .execute(&mut *connection)
            .await?
        }
    };
    Ok(replayed.rows_affected())
}

/// Forgets the old receipts first, so a receipt older than `forget_before` is not kept.
async fn record_inbound(
    connection: &mut SqliteConnection,
    prepared: PreparedReceipt,
    forget_before: i64,
) -> Result<InboundReceipt, StoreError> {
    let PreparedReceipt { receipt, body_json } = prepared;
    sqlx::query("DELETE FROM inbound_receipts WHERE received_at < ?1")
        .bind(forget_before)
        .execute(&mut *connection)
        .await?;
    let row = sqlx::query(
        "INSERT INTO inbound_receipts (bridge_id, webhook_id, status, body, received_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (bridge_id, webhook_id) DO UPDATE SET bridge_id = bridge_id \
         RETURNING bridge_id, webhook_id, status, body, received_at",
    )
    .bind(&receipt.bridge_id)
    .bind(&receipt.webhook_id)
    .bind(i64::from(receipt.status))
    .bind(&body_json)
    .bind(receipt.received_at)
    .fetch_one(&mut *connection)
    .await?;
    receipt_from_row(&row)
}

async fn clear_deadline(
    connection: &mut SqliteConnection,
    conversation_id: &str,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM bridge_deadlines WHERE conversation_id = ?1")
        .bind(conversation_id)
        .execute(&mut *connection)
        .await?;
    Ok(())
}

async fn put_file(
    connection: &mut SqliteConnection,
    file: BridgeFile,
) -> Result<BridgeFile, StoreError> {
    let size = i64::try_from(file.size)
        .map_err(|_| StoreError::InvalidInput(format!("file size {} too large", file.size)))?;
    let inserted = sqlx::query(
        "INSERT INTO bridge_files (id, conversation_id, bridge_id, origin, file_name, \
         content_type, kind, size, source_url, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&file.id)
    .bind(&file.conversation_id)
    .bind(&file.bridge_id)
    .bind(file.origin.as_str())
    .bind(&file.file_name)
    .bind(&file.content_type)
    .bind(&file.kind)
    .bind(size)
    .bind(&file.source_url)
    .bind(file.created_at)
    .execute(&mut *connection)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(StoreError::AlreadyExists {
            entity: "bridge file",
            id: file.id,
        });
    }
    Ok(file)
}
