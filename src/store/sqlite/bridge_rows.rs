//! Reading the bridge's rows back: the column list of a whole outbox event and the decoding
//! of bridge, outbox, attempt, receipt, deadline and file rows into their records. Shared by the
//! bridge reads and the bridge writes, which answer with the row they wrote.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::super::prepared::decode_json;
use super::super::{
    BridgeDeadline, BridgeFile, BridgeRecord, DeliveryAttempt, InboundReceipt, OutboxEvent,
    OutboxStatus, StoreError,
};

/// Column list shared by every query that reads a whole outbox event.
macro_rules! outbox_columns {
    () => {
        "position, id, bridge_id, conversation_id, event_type, seq, data, created_at, status, \
         attempts, next_attempt_at, last_error, delivered_at"
    };
}

macro_rules! bridge_columns {
    () => {
        "id, config, enabled, disabled_reason, updated_at"
    };
}

pub(super) use {bridge_columns, outbox_columns};

pub(super) fn bridge_from_row(row: &SqliteRow) -> Result<BridgeRecord, StoreError> {
    let config: String = row.try_get("config")?;
    Ok(BridgeRecord {
        id: row.try_get("id")?,
        config: decode_json(&config, "bridges.config")?,
        enabled: row.try_get("enabled")?,
        disabled_reason: row.try_get("disabled_reason")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) fn outbox_from_row(row: &SqliteRow) -> Result<OutboxEvent, StoreError> {
    let data: String = row.try_get("data")?;
    let status: String = row.try_get("status")?;
    let attempts: i64 = row.try_get("attempts")?;
    Ok(OutboxEvent {
        position: row.try_get("position")?,
        id: row.try_get("id")?,
        bridge_id: row.try_get("bridge_id")?,
        conversation_id: row.try_get("conversation_id")?,
        event_type: row.try_get("event_type")?,
        seq: row.try_get("seq")?,
        data: decode_json(&data, "outbox.data")?,
        created_at: row.try_get("created_at")?,
        status: status
            .parse::<OutboxStatus>()
            .map_err(|_| StoreError::Corrupt(format!("unknown outbox status {status:?}")))?,
        attempts: narrow(attempts, "outbox.attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        last_error: row.try_get("last_error")?,
        delivered_at: row.try_get("delivered_at")?,
    })
}

pub(super) fn attempt_from_row(row: &SqliteRow) -> Result<DeliveryAttempt, StoreError> {
    let attempt: i64 = row.try_get("attempt")?;
    let status_code: Option<i64> = row.try_get("status_code")?;
    Ok(DeliveryAttempt {
        event_id: row.try_get("event_id")?,
        attempt: narrow(attempt, "delivery_attempts.attempt")?,
        at: row.try_get("at")?,
        status_code: status_code
            .map(|code| narrow(code, "delivery_attempts.status_code"))
            .transpose()?,
        latency_ms: row.try_get("latency_ms")?,
        error: row.try_get("error")?,
    })
}

pub(super) fn receipt_from_row(row: &SqliteRow) -> Result<InboundReceipt, StoreError> {
    let status: i64 = row.try_get("status")?;
    let body: String = row.try_get("body")?;
    Ok(InboundReceipt {
        bridge_id: row.try_get("bridge_id")?,
        webhook_id: row.try_get("webhook_id")?,
        status: narrow(status, "inbound_receipts.status")?,
        body: decode_json(&body, "inbound_receipts.body")?,
        received_at: row.try_get("received_at")?,
    })
}

pub(super) fn deadline_from_row(row: &SqliteRow) -> Result<BridgeDeadline, StoreError> {
    Ok(BridgeDeadline {
        conversation_id: row.try_get("conversation_id")?,
        bridge_id: row.try_get("bridge_id")?,
        due_at: row.try_get("due_at")?,
    })
}

pub(super) fn file_from_row(row: &SqliteRow) -> Result<BridgeFile, StoreError> {
    let origin: String = row.try_get("origin")?;
    let size: i64 = row.try_get("size")?;
    Ok(BridgeFile {
        id: row.try_get("id")?,
        conversation_id: row.try_get("conversation_id")?,
        bridge_id: row.try_get("bridge_id")?,
        origin: origin
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("unknown file origin {origin:?}")))?,
        file_name: row.try_get("file_name")?,
        content_type: row.try_get("content_type")?,
        kind: row.try_get("kind")?,
        size: narrow(size, "bridge_files.size")?,
        source_url: row.try_get("source_url")?,
        created_at: row.try_get("created_at")?,
    })
}

/// An integer column read into the narrower type of its record.
fn narrow<T: TryFrom<i64>>(value: i64, column: &str) -> Result<T, StoreError> {
    T::try_from(value).map_err(|_| StoreError::Corrupt(format!("{value} out of range in {column}")))
}
