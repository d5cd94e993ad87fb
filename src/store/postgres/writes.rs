//! The PostgreSQL writes of conversations, messages and steps. Each function runs on a
//! connection inside a transaction its caller began and commits; a refusal returned from here
//! is followed by a rollback, so nothing it wrote stays. Concurrency with other processes comes
//! from row locks, not from a single writer: an append locks its conversation row
//! (`FOR UPDATE`) before it reads `last_seq` or looks for its client message id, so sequence
//! numbers are gap-free and a client message id is stored once however many processes write
//! the same conversation at once.

use sqlx::postgres::PgConnection;

use super::super::prepared::{
    PreparedConversation, PreparedMessage, PreparedStep, PreparedTarget, PreparedUpdate,
};
use super::super::{Appended, Conversation, Message, StepCommitted, StoreError, now_millis};
use super::bridge_writes;
use super::rows::{conversation_columns, conversation_from_row, message_columns, message_from_row};

pub(super) async fn create_conversation(
    connection: &mut PgConnection,
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
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, 0, $8, $8) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&new.id)
    .bind(new.channel.conversation_tag())
    .bind(&new.requester_id)
    .bind(new.language.tag())
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
    connection: &mut PgConnection,
    prepared: PreparedUpdate,
) -> Result<Conversation, StoreError> {
    let PreparedUpdate {
        update,
        machine_state_json,
    } = prepared;
    let updated_row = sqlx::query(concat!(
        "UPDATE conversations SET status = $3, queue_group = $4, machine_state = $5, \
         version = version + 1, updated_at = $6 WHERE id = $1 AND version = $2 RETURNING ",
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
    let actual: Option<i64> = sqlx::query_scalar("SELECT version FROM conversations WHERE id = $1")
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

/// Locks the conversation row until the transaction ends and returns its `last_seq`; `None`
/// for an unknown conversation. Every writer of a conversation's messages takes this lock
/// first, so what it reads next (stored client ids, `last_seq`) cannot change under it.
async fn lock_conversation(
    connection: &mut PgConnection,
    conversation_id: &str,
) -> Result<Option<i64>, StoreError> {
    let last_seq =
        sqlx::query_scalar("SELECT last_seq FROM conversations WHERE id = $1 FOR UPDATE")
            .bind(conversation_id)
            .fetch_optional(&mut *connection)
            .await?;
    Ok(last_seq)
}

/// Appends one message to a conversation whose row this transaction has locked, at
/// `last_seq + 1`, and advances the row. A client message id already stored comes back as a
/// duplicate, with nothing written.
async fn append_locked(
    connection: &mut PgConnection,
    prepared: PreparedMessage,
    last_seq: i64,
) -> Result<Appended, StoreError> {
    let PreparedMessage { new, payload_json } = prepared;
    if let Some(client_message_id) = &new.client_message_id
        && let Some(message) =
            stored_by_client_id(connection, &new.conversation_id, client_message_id).await?
    {
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
    let now = now_millis();
    let seq = last_seq + 1;
    sqlx::query(
        "INSERT INTO messages (conversation_id, seq, sender_kind, sender_id, body, payload, \
         client_message_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&new.conversation_id)
    .bind(seq)
    .bind(new.sender_kind.as_str())
    .bind(&new.sender_id)
    .bind(&new.body)
    .bind(&payload_json)
    .bind(&new.client_message_id)
    .bind(now)
    .execute(&mut *connection)
    .await?;
    sqlx::query("UPDATE conversations SET last_seq = $2, updated_at = $3 WHERE id = $1")
        .bind(&new.conversation_id)
        .bind(seq)
        .bind(now)
        .execute(&mut *connection)
        .await?;
    Ok(Appended {
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
    })
}

pub(super) async fn append_message(
    connection: &mut PgConnection,
    prepared: PreparedMessage,
) -> Result<Appended, StoreError> {
    let conversation_id = prepared.new.conversation_id.clone();
    let Some(last_seq) = lock_conversation(connection, &conversation_id).await? else {
        return Err(StoreError::not_found("conversation", &conversation_id));
    };
    append_locked(connection, prepared, last_seq).await
}

async fn stored_by_client_id(
    connection: &mut PgConnection,
    conversation_id: &str,
    client_message_id: &str,
) -> Result<Option<Message>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        message_columns!(),
        " FROM messages WHERE conversation_id = $1 AND client_message_id = $2"
    ))
    .bind(conversation_id)
    .bind(client_message_id)
    .fetch_optional(&mut *connection)
    .await?;
    row.as_ref().map(message_from_row).transpose()
}

/// One conversation step; the caller's transaction makes it all or nothing.
pub(super) async fn commit_step(
    connection: &mut PgConnection,
    prepared: PreparedStep,
) -> Result<StepCommitted, StoreError> {
    let PreparedStep {
        target,
        messages,
        outbox,
        deadline,
    } = prepared;
    let id = match &target {
        PreparedTarget::Create(conversation) => conversation.new.id.clone(),
        PreparedTarget::Update(update) => update.update.id.clone(),
        PreparedTarget::Keep(id) => id.clone(),
    };
    // The conversation row is locked (or created) before anything else: its `last_seq`.
    let mut last_seq = 0;
    let locks = !matches!(target, PreparedTarget::Create(_))
        && (matches!(target, PreparedTarget::Update(_))
            || !messages.is_empty()
            || !outbox.is_empty());
    if locks {
        let Some(seq) = lock_conversation(connection, &id).await? else {
            return Err(StoreError::not_found("conversation", &id));
        };
        last_seq = seq;
        // A replayed input is recognised before anything is written.
        if let Some(duplicate) = replayed_input(connection, &id, &messages).await? {
            return Ok(duplicate);
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
        let appended = append_locked(connection, message, last_seq).await?;
        if appended.duplicate {
            // Only the first message may repeat an input; a later repeat is a caller's bug.
            return Err(StoreError::InvalidInput(format!(
                "client message id {:?} is already stored in conversation {id:?}",
                appended.message.client_message_id.unwrap_or_default()
            )));
        }
        last_seq = appended.message.seq;
        stored.push(appended.message);
    }
    if let (Some(row), Some(last)) = (conversation.as_mut(), stored.last()) {
        row.last_seq = last.seq;
        row.updated_at = last.created_at;
    }
    if !outbox.is_empty() {
        let now = now_millis();
        for event in &outbox {
            // `PreparedStep::new` checked the index against the step's messages.
            let seq = event
                .event
                .message_index
                .and_then(|index| stored.get(index))
                .map_or(last_seq, |message| message.seq);
            bridge_writes::insert_outbox_event(connection, event, seq, now).await?;
        }
    }
    if let Some(deadline) = &deadline {
        bridge_writes::upsert_deadline(connection, deadline).await?;
    }
    Ok(StepCommitted {
        conversation,
        messages: stored,
        duplicate: None,
    })
}

/// The step's answer when its first message repeats a stored client message id.
async fn replayed_input(
    connection: &mut PgConnection,
    id: &str,
    messages: &[PreparedMessage],
) -> Result<Option<StepCommitted>, StoreError> {
    let Some(client_message_id) = messages
        .first()
        .and_then(|first| first.new.client_message_id.as_deref())
    else {
        return Ok(None);
    };
    let stored = stored_by_client_id(connection, id, client_message_id).await?;
    Ok(stored.map(|message| StepCommitted {
        conversation: None,
        messages: Vec::new(),
        duplicate: Some(message),
    }))
}
