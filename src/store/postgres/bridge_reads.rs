//! The bridge's PostgreSQL reads, on the pool: bridge definitions, the lane heads the
//! dispatcher may attempt, outbox listings, attempts, health figures, inbound receipts,
//! accept deadlines and the files that crossed a bridge. Each is one statement, so it sees one
//! committed state.

use sqlx::postgres::PgPool;
use sqlx::{Postgres, QueryBuilder, Row};

use super::super::{
    BridgeDeadline, BridgeFile, BridgeHealth, BridgeRecord, DeliveryAttempt, InboundReceipt,
    OutboxEvent, OutboxFilter, StoreError,
};
use super::rows::{
    attempt_from_row, bridge_columns, bridge_from_row, deadline_from_row, file_from_row,
    outbox_columns, outbox_from_row, receipt_from_row,
};

/// The lane heads of enabled bridges: of every (bridge, conversation) with a pending event,
/// its lowest pending position. The minimum per lane is one ordered pass over the partial
/// index `outbox_pending_by_lane` (index only), then one seek per head.
macro_rules! lane_heads {
    () => {
        " FROM (SELECT MIN(position) AS head FROM outbox WHERE status = 'pending' \
           GROUP BY bridge_id, conversation_id) h \
         JOIN outbox o ON o.position = h.head \
         JOIN bridges b ON b.id = o.bridge_id AND b.enabled \
         WHERE o.status = 'pending'"
    };
}

pub(super) async fn bridges(pool: &PgPool) -> Result<Vec<BridgeRecord>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        bridge_columns!(),
        " FROM bridges ORDER BY id COLLATE \"C\""
    ))
    .fetch_all(pool)
    .await?;
    rows.iter().map(bridge_from_row).collect()
}

pub(super) async fn due_outbox(
    pool: &PgPool,
    now: i64,
    limit: u32,
) -> Result<Vec<OutboxEvent>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT o.position, o.id, o.bridge_id, o.conversation_id, o.event_type, o.seq, o.data, \
         o.created_at, o.status, o.attempts, o.next_attempt_at, o.last_error, o.delivered_at",
        lane_heads!(),
        " AND o.next_attempt_at <= $1 ORDER BY o.next_attempt_at, o.position LIMIT $2"
    ))
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(outbox_from_row).collect()
}

/// The oldest pending event of one lane, due or not.
pub(super) async fn lane_head(
    pool: &PgPool,
    bridge_id: &str,
    conversation_id: &str,
) -> Result<Option<OutboxEvent>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        outbox_columns!(),
        " FROM outbox WHERE status = 'pending' AND bridge_id = $1 AND conversation_id = $2 \
         ORDER BY position LIMIT 1"
    ))
    .bind(bridge_id)
    .bind(conversation_id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(outbox_from_row).transpose()
}

pub(super) async fn next_outbox_due(pool: &PgPool) -> Result<Option<i64>, StoreError> {
    let due: Option<i64> =
        sqlx::query_scalar(concat!("SELECT MIN(o.next_attempt_at)", lane_heads!()))
            .fetch_one(pool)
            .await?;
    Ok(due)
}

pub(super) async fn outbox_event(
    pool: &PgPool,
    id: &str,
) -> Result<Option<OutboxEvent>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        outbox_columns!(),
        " FROM outbox WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(outbox_from_row).transpose()
}

/// `limit` is already clamped by the caller.
pub(super) async fn outbox_events(
    pool: &PgPool,
    filter: OutboxFilter,
    limit: u32,
) -> Result<Vec<OutboxEvent>, StoreError> {
    let mut query = QueryBuilder::<Postgres>::new(concat!(
        "SELECT ",
        outbox_columns!(),
        " FROM outbox WHERE 1 = 1"
    ));
    if let Some(bridge_id) = filter.bridge_id {
        query.push(" AND bridge_id = ").push_bind(bridge_id);
    }
    if let Some(conversation_id) = filter.conversation_id {
        query
            .push(" AND conversation_id = ")
            .push_bind(conversation_id);
    }
    if let Some(status) = filter.status {
        query.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(since) = filter.since {
        query.push(" AND created_at >= ").push_bind(since);
    }
    if let Some(until) = filter.until {
        query.push(" AND created_at < ").push_bind(until);
    }
    query
        .push(" ORDER BY position DESC LIMIT ")
        .push_bind(i64::from(limit));
    let rows = query.build().fetch_all(pool).await?;
    rows.iter().map(outbox_from_row).collect()
}

pub(super) async fn delivery_attempts(
    pool: &PgPool,
    event_id: &str,
) -> Result<Vec<DeliveryAttempt>, StoreError> {
    let rows = sqlx::query(
        "SELECT event_id, attempt, at, status_code, latency_ms, error FROM delivery_attempts \
         WHERE event_id = $1 ORDER BY attempt",
    )
    .bind(event_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(attempt_from_row).collect()
}

/// A success is an attempt the receiver answered 2xx; every other attempt is a failure.
pub(super) async fn bridge_health(
    pool: &PgPool,
    bridge_id: &str,
) -> Result<BridgeHealth, StoreError> {
    let row = sqlx::query(
        "WITH attempts AS ( \
           SELECT a.at, COALESCE(a.status_code BETWEEN 200 AND 299, FALSE) AS success \
           FROM delivery_attempts a JOIN outbox o ON o.id = a.event_id WHERE o.bridge_id = $1), \
         last AS (SELECT MAX(at) AS success_at FROM attempts WHERE success) \
         SELECT (SELECT success_at FROM last) AS last_success_at, \
           (SELECT MAX(at) FROM attempts WHERE NOT success) AS last_failure_at, \
           (SELECT COUNT(*) FROM attempts WHERE NOT success \
              AND at > COALESCE((SELECT success_at FROM last), -1)) AS failures, \
           (SELECT COUNT(*) FROM outbox WHERE bridge_id = $1 AND status = 'pending') AS backlog, \
           (SELECT COUNT(*) FROM outbox WHERE bridge_id = $1 AND status = 'dead') AS dead",
    )
    .bind(bridge_id)
    .fetch_one(pool)
    .await?;
    let count = |column: &str| -> Result<u64, StoreError> {
        let value: i64 = row.try_get(column)?;
        Ok(u64::try_from(value).unwrap_or(0))
    };
    Ok(BridgeHealth {
        last_success_at: row.try_get("last_success_at")?,
        last_failure_at: row.try_get("last_failure_at")?,
        failures_since_success: count("failures")?,
        backlog: count("backlog")?,
        dead: count("dead")?,
    })
}

pub(super) async fn inbound_receipt(
    pool: &PgPool,
    bridge_id: &str,
    webhook_id: &str,
) -> Result<Option<InboundReceipt>, StoreError> {
    let row = sqlx::query(
        "SELECT bridge_id, webhook_id, status, body, received_at FROM inbound_receipts \
         WHERE bridge_id = $1 AND webhook_id = $2",
    )
    .bind(bridge_id)
    .bind(webhook_id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(receipt_from_row).transpose()
}

pub(super) async fn due_deadlines(
    pool: &PgPool,
    now: i64,
) -> Result<Vec<BridgeDeadline>, StoreError> {
    let rows = sqlx::query(
        "SELECT conversation_id, bridge_id, due_at FROM bridge_deadlines WHERE due_at <= $1 \
         ORDER BY due_at, conversation_id COLLATE \"C\"",
    )
    .bind(now)
    .fetch_all(pool)
    .await?;
    rows.iter().map(deadline_from_row).collect()
}

pub(super) async fn next_deadline(pool: &PgPool) -> Result<Option<i64>, StoreError> {
    let due: Option<i64> = sqlx::query_scalar("SELECT MIN(due_at) FROM bridge_deadlines")
        .fetch_one(pool)
        .await?;
    Ok(due)
}

pub(super) async fn bridge_file(pool: &PgPool, id: &str) -> Result<Option<BridgeFile>, StoreError> {
    let row = sqlx::query(
        "SELECT id, conversation_id, bridge_id, origin, file_name, content_type, kind, size, \
         source_url, created_at FROM bridge_files WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(file_from_row).transpose()
}
