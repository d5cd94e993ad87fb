//! Reading PostgreSQL rows back: the column lists every query of a whole row selects, and the
//! decoding of conversation, message, ticket, token, bridge, outbox, attempt, receipt,
//! deadline and file rows into their records. Every integer column is a `BIGINT` (read as
//! `i64`, then narrowed to the record's type) and every JSON column is text, so the records
//! come back exactly as the SQLite backend returns them.

use std::str::FromStr;

use sqlx::Row;
use sqlx::postgres::PgRow;

use super::super::prepared::{decode_json, decode_tags};
use super::super::{
    BridgeDeadline, BridgeFile, BridgeRecord, Channel, Conversation, ConversationStatus,
    DeliveryAttempt, InboundReceipt, Message, OutboxEvent, OutboxStatus, SenderKind, StoreError,
    StoredToken, Ticket, TicketStatus,
};
use crate::lang::Language;

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

macro_rules! token_columns {
    () => {
        "id, sha256, role, subject, groups, created_at, expires_at"
    };
}

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

pub(super) use {
    bridge_columns, conversation_columns, message_columns, outbox_columns, ticket_columns,
    token_columns,
};

pub(super) fn conversation_from_row(row: &PgRow) -> Result<Conversation, StoreError> {
    let machine_state: String = row.try_get("machine_state")?;
    let tag: String = row.try_get("language")?;
    // As in SQLite: a tag no language answers to is read as pt-BR rather than failing.
    let language = tag.parse().unwrap_or_else(|_| {
        tracing::warn!(%tag, "unreadable conversation language, read as pt-BR");
        Language::PtBr
    });
    Ok(Conversation {
        id: row.try_get("id")?,
        channel: decode_text::<Channel>(row, "channel")?,
        requester_id: row.try_get("requester_id")?,
        language,
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

pub(super) fn message_from_row(row: &PgRow) -> Result<Message, StoreError> {
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

pub(super) fn ticket_from_row(row: &PgRow) -> Result<Ticket, StoreError> {
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

pub(super) fn token_from_row(row: &PgRow) -> Result<StoredToken, StoreError> {
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

pub(super) fn bridge_from_row(row: &PgRow) -> Result<BridgeRecord, StoreError> {
    let config: String = row.try_get("config")?;
    Ok(BridgeRecord {
        id: row.try_get("id")?,
        config: decode_json(&config, "bridges.config")?,
        enabled: row.try_get("enabled")?,
        disabled_reason: row.try_get("disabled_reason")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) fn outbox_from_row(row: &PgRow) -> Result<OutboxEvent, StoreError> {
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

pub(super) fn attempt_from_row(row: &PgRow) -> Result<DeliveryAttempt, StoreError> {
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

pub(super) fn receipt_from_row(row: &PgRow) -> Result<InboundReceipt, StoreError> {
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

pub(super) fn deadline_from_row(row: &PgRow) -> Result<BridgeDeadline, StoreError> {
    Ok(BridgeDeadline {
        conversation_id: row.try_get("conversation_id")?,
        bridge_id: row.try_get("bridge_id")?,
        due_at: row.try_get("due_at")?,
    })
}

pub(super) fn file_from_row(row: &PgRow) -> Result<BridgeFile, StoreError> {
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

fn decode_text<T: FromStr>(row: &PgRow, column: &str) -> Result<T, StoreError> {
    let text: String = row.try_get(column)?;
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("unknown value {text:?} in column {column}")))
}

/// A `BIGINT` column read into the narrower type of its record.
fn narrow<T: TryFrom<i64>>(value: i64, column: &str) -> Result<T, StoreError> {
    T::try_from(value).map_err(|_| StoreError::Corrupt(format!("{value} out of range in {column}")))
}
