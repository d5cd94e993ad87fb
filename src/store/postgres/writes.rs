//! The PostgreSQL writes of conversations, messages, steps, tickets, parameters, the desk log
//! and tokens. Each function runs on a connection inside a transaction its caller began and
//! commits; a refusal returned from here is followed by a rollback, so nothing it wrote stays.
//! Concurrency with other processes comes from row locks, not from a single writer: an append
//! locks its conversation row (`FOR UPDATE`) before it reads `last_seq` or looks for its
//! client message id, and a ticket locks the `ticket` counter row, so sequence numbers and
//! ticket numbers are gap-free and unique however many processes write at once.

use sqlx::postgres::PgConnection;

use super::super::prepared::{
    PreparedConversation, PreparedMessage, PreparedStep, PreparedTarget, PreparedTicket,
    PreparedToken, PreparedUpdate, decode_tags, encode_json,
};
use super::super::{
    Appended, Conversation, Message, StepCommitted, StoreError, StoredToken, Ticket, now_millis,
    ticket_number,
};
use super::bridge_writes;
use super::rows::{
    conversation_columns, conversation_from_row, message_columns, message_from_row, ticket_columns,
    ticket_from_row, token_columns, token_from_row,
};

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

pub(super) async fn create_ticket(
    connection: &mut PgConnection,
    prepared: PreparedTicket,
) -> Result<Ticket, StoreError> {
    let PreparedTicket { new, tags_json } = prepared;
    if let Some(conversation_id) = &new.conversation_id {
        ensure_conversation(connection, conversation_id).await?;
    }
    // The counter row's lock orders ticket creations: the request key is looked up after it,
    // so a concurrent creation with the same key is seen, and a rollback gives the number back.
    let serial: i64 =
        sqlx::query_scalar("SELECT value + 1 FROM counters WHERE name = 'ticket' FOR UPDATE")
            .fetch_one(&mut *connection)
            .await?;
    if let Some(request_key) = &new.request_key {
        let existing = sqlx::query(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM tickets WHERE request_key = $1"
        ))
        .bind(request_key)
        .fetch_optional(&mut *connection)
        .await?;
        if let Some(row) = existing {
            return ticket_from_row(&row);
        }
    }
    sqlx::query("UPDATE counters SET value = $1 WHERE name = 'ticket'")
        .bind(serial)
        .execute(&mut *connection)
        .await?;
    let number = ticket_number(serial);
    let now = now_millis();
    sqlx::query(
        "INSERT INTO tickets (number, serial, requester_id, activity_id, contract, group_name, \
         description, status, tags, conversation_id, created_at, updated_at, request_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12)",
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
    connection: &mut PgConnection,
    number: &str,
    conversation_id: &str,
) -> Result<(), StoreError> {
    ensure_conversation(connection, conversation_id).await?;
    let now = now_millis();
    let updated =
        sqlx::query("UPDATE tickets SET conversation_id = $2, updated_at = $3 WHERE number = $1")
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
    connection: &mut PgConnection,
    number: &str,
    tags: &[String],
) -> Result<Ticket, StoreError> {
    // Locked, so two concurrent additions both land.
    let stored: Option<String> =
        sqlx::query_scalar("SELECT tags FROM tickets WHERE number = $1 FOR UPDATE")
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
        "UPDATE tickets SET tags = $2, updated_at = $3 WHERE number = $1 RETURNING ",
        ticket_columns!()
    ))
    .bind(number)
    .bind(encode_json(&merged)?)
    .bind(now_millis())
    .fetch_one(&mut *connection)
    .await?;
    ticket_from_row(&row)
}

/// Appends a desk operation; with `expected`, only when the log is at that position. The
/// `desk` counter row is locked first, so no other append lands between check and insert.
pub(super) async fn desk_append(
    connection: &mut PgConnection,
    op: &str,
    expected: Option<i64>,
) -> Result<i64, StoreError> {
    let given: i64 =
        sqlx::query_scalar("SELECT value FROM counters WHERE name = 'desk' FOR UPDATE")
            .fetch_one(&mut *connection)
            .await?;
    if let Some(expected) = expected {
        let through: Option<i64> =
            sqlx::query_scalar("SELECT through FROM desk_snapshot WHERE id = 1")
                .fetch_optional(&mut *connection)
                .await?;
        let actual = given.max(through.unwrap_or(0));
        if actual != expected {
            return Err(StoreError::DeskLogConflict { expected, actual });
        }
    }
    let seq = given + 1;
    sqlx::query("UPDATE counters SET value = $1 WHERE name = 'desk'")
        .bind(seq)
        .execute(&mut *connection)
        .await?;
    sqlx::query("INSERT INTO desk_ops (seq, op, created_at) VALUES ($1, $2, $3)")
        .bind(seq)
        .bind(op)
        .bind(now_millis())
        .execute(&mut *connection)
        .await?;
    Ok(seq)
}

pub(super) async fn desk_snapshot(
    connection: &mut PgConnection,
    state: &str,
    through: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO desk_snapshot (id, state, through, created_at) VALUES (1, $1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, through = excluded.through, \
         created_at = excluded.created_at",
    )
    .bind(state)
    .bind(through)
    .bind(now_millis())
    .execute(&mut *connection)
    .await?;
    sqlx::query("DELETE FROM desk_ops WHERE seq <= $1")
        .bind(through)
        .execute(&mut *connection)
        .await?;
    Ok(())
}

async fn ensure_conversation(
    connection: &mut PgConnection,
    conversation_id: &str,
) -> Result<(), StoreError> {
    let exists = sqlx::query("SELECT 1 FROM conversations WHERE id = $1")
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

/// Points the conversation at its ticket. Not a version change (see the SQLite backend).
async fn link_conversation(
    connection: &mut PgConnection,
    conversation_id: &str,
    number: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE conversations SET ticket_number = $2, updated_at = $3 WHERE id = $1")
        .bind(conversation_id)
        .bind(number)
        .bind(now)
        .execute(&mut *connection)
        .await?;
    Ok(())
}

pub(super) async fn insert_token(
    connection: &mut PgConnection,
    prepared: PreparedToken,
) -> Result<StoredToken, StoreError> {
    let PreparedToken { new, groups_json } = prepared;
    let now = now_millis();
    let inserted = sqlx::query(
        "INSERT INTO api_tokens (id, sha256, role, subject, groups, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
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
    connection: &mut PgConnection,
    id: &str,
) -> Result<StoredToken, StoreError> {
    let row = sqlx::query(concat!(
        "DELETE FROM api_tokens WHERE id = $1 RETURNING ",
        token_columns!()
    ))
    .bind(id)
    .fetch_optional(&mut *connection)
    .await?;
    match row {
        Some(row) => token_from_row(&row),
        None => Err(StoreError::not_found("token", id)),
    }
}
