//! The bridge's PostgreSQL writes: bridge definitions, outbox events (also written by
//! `writes::commit_step`), delivery attempts, replays, inbound receipts, accept deadlines and
//! the files that crossed a bridge. Like `writes`, each runs inside its caller's transaction,
//! which rolls back on any error, so a refusal never leaves part of its work behind.

use sqlx::postgres::PgConnection;

use super::super::prepared::{PreparedBridge, PreparedOutboxEvent, PreparedReceipt};
use super::super::{
    AttemptOutcome, BridgeDeadline, BridgeFile, BridgeRecord, DeliveryAttempt, InboundReceipt,
    OutboxEvent, Replay, StoreError, now_millis,
};
use super::rows::{
    bridge_columns, bridge_from_row, outbox_columns, outbox_from_row, receipt_from_row,
};

pub(super) async fn put_bridge(
    connection: &mut PgConnection,
    prepared: PreparedBridge,
) -> Result<BridgeRecord, StoreError> {
    let PreparedBridge {
        mut record,
        config_json,
    } = prepared;
    record.updated_at = now_millis();
    sqlx::query(
        "INSERT INTO bridges (id, config, enabled, disabled_reason, updated_at) \
         VALUES ($1, $2, $3, $4, $5) \
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
pub(super) async fn set_bridge_enabled(
    connection: &mut PgConnection,
    id: &str,
    enabled: bool,
    reason: Option<&str>,
) -> Result<BridgeRecord, StoreError> {
    let reason = if enabled { None } else { reason };
    let row = sqlx::query(concat!(
        "UPDATE bridges SET enabled = $2, disabled_reason = $3, updated_at = $4 WHERE id = $1 \
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

pub(super) async fn delete_bridge(
    connection: &mut PgConnection,
    id: &str,
) -> Result<(), StoreError> {
    let deleted = sqlx::query("DELETE FROM bridges WHERE id = $1")
        .bind(id)
        .execute(&mut *connection)
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(StoreError::not_found("bridge", id));
    }
    Ok(())
}

pub(super) async fn enqueue_outbox(
    connection: &mut PgConnection,
    events: Vec<(PreparedOutboxEvent, i64)>,
) -> Result<(), StoreError> {
    let now = now_millis();
    for (event, seq) in &events {
        insert_outbox_event(connection, event, *seq, now).await?;
    }
    Ok(())
}

/// Puts one event in the outbox, pending and due at once. A `webhook-id` already stored is
/// refused (the caller's rollback undoes the events before it).
pub(super) async fn insert_outbox_event(
    connection: &mut PgConnection,
    prepared: &PreparedOutboxEvent,
    seq: i64,
    now: i64,
) -> Result<(), StoreError> {
    let event = &prepared.event;
    let inserted = sqlx::query(
        "INSERT INTO outbox (id, bridge_id, conversation_id, event_type, seq, data, created_at, \
         status, attempts, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $7) ON CONFLICT (id) DO NOTHING",
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
    connection: &mut PgConnection,
    deadline: &BridgeDeadline,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO bridge_deadlines (conversation_id, bridge_id, due_at) VALUES ($1, $2, $3) \
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
/// number is taken. The update comes first and locks the event's row, so two attempts of one
/// event recorded at once are numbered one after the other.
pub(super) async fn record_attempt(
    connection: &mut PgConnection,
    attempt: DeliveryAttempt,
    outcome: AttemptOutcome,
) -> Result<OutboxEvent, StoreError> {
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
        "UPDATE outbox SET attempts = attempts + 1, status = $2, \
         next_attempt_at = COALESCE($3, next_attempt_at), last_error = $4, delivered_at = $5 \
         WHERE id = $1 RETURNING ",
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
    let event = outbox_from_row(&row)?;
    sqlx::query(
        "INSERT INTO delivery_attempts (event_id, attempt, at, status_code, latency_ms, error) \
         SELECT $1, GREATEST($2, COALESCE(MAX(attempt), 0) + 1), $3, $4, $5, $6 \
         FROM delivery_attempts WHERE event_id = $1",
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
pub(super) async fn replay_outbox(
    connection: &mut PgConnection,
    replay: &Replay,
    now: i64,
) -> Result<u64, StoreError> {
    macro_rules! replayed {
        () => {
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1, \
             last_error = NULL, delivered_at = NULL WHERE status IN ('dead', 'delivered')"
        };
    }
    let replayed = match replay {
        Replay::One { event_id } => {
            let known = sqlx::query("SELECT 1 FROM outbox WHERE id = $1")
                .bind(event_id)
                .fetch_optional(&mut *connection)
                .await?
                .is_some();
            if !known {
                return Err(StoreError::not_found("outbox event", event_id));
            }
            sqlx::query(concat!(replayed!(), " AND id = $2"))
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
                " AND bridge_id = $2 AND created_at >= $3 AND created_at < $4"
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
                "UPDATE outbox SET next_attempt_at = $1 \
                 WHERE bridge_id = $2 AND status = 'pending' AND next_attempt_at > $1",
            )
            .bind(now)
            .bind(bridge_id)
            .execute(&mut *connection)
            .await?
        }
    };
    Ok(replayed.rows_affected())
}

/// Forgets the old receipts first, so a receipt older than `forget_before` is not kept; a
/// receipt already stored under the same id is kept and returned.
pub(super) async fn record_inbound(
    connection: &mut PgConnection,
    prepared: PreparedReceipt,
    forget_before: i64,
) -> Result<InboundReceipt, StoreError> {
    let PreparedReceipt { receipt, body_json } = prepared;
    sqlx::query("DELETE FROM inbound_receipts WHERE received_at < $1")
        .bind(forget_before)
        .execute(&mut *connection)
        .await?;
    let row = sqlx::query(
        "INSERT INTO inbound_receipts (bridge_id, webhook_id, status, body, received_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (bridge_id, webhook_id) \
         DO UPDATE SET bridge_id = inbound_receipts.bridge_id \
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

pub(super) async fn clear_deadline(
    connection: &mut PgConnection,
    conversation_id: &str,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM bridge_deadlines WHERE conversation_id = $1")
        .bind(conversation_id)
        .execute(&mut *connection)
        .await?;
    Ok(())
}

pub(super) async fn put_file(
    connection: &mut PgConnection,
    file: BridgeFile,
) -> Result<BridgeFile, StoreError> {
    let size = i64::try_from(file.size)
        .map_err(|_| StoreError::InvalidInput(format!("file size {} too large", file.size)))?;
    let inserted = sqlx::query(
        "INSERT INTO bridge_files (id, conversation_id, bridge_id, origin, file_name, \
         content_type, kind, size, source_url, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING",
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
