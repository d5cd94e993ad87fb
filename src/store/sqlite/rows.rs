//! Reading rows back: the column lists every query of a whole row selects, and the decoding
//! of a row into a record. Shared by the reads in `sqlite` and the writes in `writes`, which
//! answer with the row they wrote.

use std::str::FromStr;

use crate::lang::Language;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::super::prepared::{decode_json, decode_tags};
use super::super::{
    Channel, Conversation, ConversationStatus, Message, SenderKind, StoreError, StoredToken,
    Ticket, TicketStatus,
};

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

pub(super) use {conversation_columns, message_columns, ticket_columns};

pub(super) fn conversation_from_row(row: &SqliteRow) -> Result<Conversation, StoreError> {
    let machine_state: String = row.try_get("machine_state")?;
    Ok(Conversation {
        id: row.try_get("id")?,
        channel: decode_text::<Channel>(row, "channel")?,
        requester_id: row.try_get("requester_id")?,
        language: decode_language(row)?,
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

pub(super) fn message_from_row(row: &SqliteRow) -> Result<Message, StoreError> {
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

pub(super) fn ticket_from_row(row: &SqliteRow) -> Result<Ticket, StoreError> {
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

/// A conversation's language, parsed once here. A tag no language answers to (which Ponte
/// never writes) is read as pt-BR, the language a conversation opened without one gets,
/// and logged: the conversation stays readable rather than failing every request on it.
fn decode_language(row: &SqliteRow) -> Result<Language, StoreError> {
    let tag: String = row.try_get("language")?;
    Ok(tag.parse().unwrap_or_else(|_| {
        tracing::warn!(%tag, "unreadable conversation language, read as pt-BR");
        Language::PtBr
    }))
}

fn decode_text<T: FromStr>(row: &SqliteRow, column: &str) -> Result<T, StoreError> {
    let text: String = row.try_get(column)?;
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("unknown value {text:?} in column {column}")))
}

pub(super) fn token_from_row(row: &SqliteRow) -> Result<StoredToken, StoreError> {
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
