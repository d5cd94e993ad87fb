//! The SQLite writes. Each runs inside the writer's transaction and never begins or ends one
//! itself. Contract with the writer: a refusal (not found, conflict, already exists) is decided
//! before anything is written; a database error may leave partial writes, which the writer
//! undoes (savepoint or whole batch).

use sqlx::sqlite::SqliteConnection;

use super::super::prepared::{
    PreparedConversation, PreparedMessage, PreparedStep, PreparedTarget, PreparedTicket,
    PreparedToken, PreparedUpdate, decode_tags, encode_json,
};
use super::super::{
    Appended, Conversation, Message, StepCommitted, StoreError, StoredToken, Ticket, TicketStatus,
    now_millis, ticket_number,
};
use super::bridge_writes;
use super::rows::{
    conversation_columns, conversation_from_row, message_columns, message_from_row, ticket_columns,
    ticket_from_row, token_from_row,
};

pub(in crate::store) async fn create_conversation(
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

pub(in crate::store) async fn update_conversation(
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
pub(in crate::store) async fn append_message(
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
        let existing =
            stored_by_client_id(connection, &new.conversation_id, client_message_id).await?;
        if let Some(message) = existing {
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

/// The conversation's `last_seq` as this transaction sees it (after the step's appends).
async fn step_last_seq(
    connection: &mut SqliteConnection,
    conversation_id: &str,
) -> Result<i64, StoreError> {
    let last_seq: Option<i64> =
        sqlx::query_scalar("SELECT last_seq FROM conversations WHERE id = ?1")
            .bind(conversation_id)
            .fetch_optional(&mut *connection)
            .await?;
    last_seq.ok_or_else(|| StoreError::not_found("conversation", conversation_id))
}

/// The message of `conversation_id` stored with `client_message_id`, earlier in this
/// transaction included.
async fn stored_by_client_id(
    connection: &mut SqliteConnection,
    conversation_id: &str,
    client_message_id: &str,
) -> Result<Option<Message>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        message_columns!(),
        " FROM messages WHERE conversation_id = ?1 AND client_message_id = ?2"
    ))
    .bind(conversation_id)
    .bind(client_message_id)
    .fetch_optional(&mut *connection)
    .await?;
    row.as_ref().map(message_from_row).transpose()
}

/// One conversation step in the writer's transaction (the writer wraps it in a savepoint, so
/// a refusal half-way, such as a version conflict, undoes the appends before it).
pub(in crate::store) async fn commit_step(
    connection: &mut SqliteConnection,
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
    // A replayed input is recognised before anything is written.
    if !matches!(target, PreparedTarget::Create(_))
        && let Some(client_message_id) = messages
            .first()
            .and_then(|first| first.new.client_message_id.as_deref())
        && let Some(stored) = stored_by_client_id(connection, &id, client_message_id).await?
    {
        return Ok(StepCommitted {
            conversation: None,
            messages: Vec::new(),
            duplicate: Some(stored),
        });
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
    if !outbox.is_empty() {
        let last_seq = match &conversation {
            Some(row) => row.last_seq,
            None => step_last_seq(connection, &id).await?,
        };
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

pub(in crate::store) async fn create_ticket(
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

pub(in crate::store) async fn attach_ticket(
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

pub(in crate::store) async fn add_ticket_tags(
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

pub(in crate::store) async fn set_ticket_status(
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

pub(in crate::store) async fn set_parameter(
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

/// Appends a desk operation; with `expected`, only when the log is at that position (see
/// [`Store::desk_append_after`](crate::store::Store::desk_append_after)). The check and the
/// insert are in the batch's one transaction, so nothing can land between them.
pub(in crate::store) async fn desk_append(
    connection: &mut SqliteConnection,
    op: &str,
    expected: Option<i64>,
) -> Result<i64, StoreError> {
    if let Some(expected) = expected {
        // AUTOINCREMENT keeps the greatest `seq` ever given in `sqlite_sequence`, also after
        // a snapshot dropped the operations it covers.
        let actual: i64 = sqlx::query_scalar(
            "SELECT MAX( \
               COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'desk_ops'), 0), \
               COALESCE((SELECT through FROM desk_snapshot WHERE id = 1), 0))",
        )
        .fetch_one(&mut *connection)
        .await?;
        if actual != expected {
            return Err(StoreError::DeskLogConflict { expected, actual });
        }
    }
    let seq: i64 =
        sqlx::query_scalar("INSERT INTO desk_ops (op, created_at) VALUES (?1, ?2) RETURNING seq")
            .bind(op)
            .bind(now_millis())
            .fetch_one(&mut *connection)
            .await?;
    Ok(seq)
}

pub(in crate::store) async fn desk_snapshot(
    connection: &mut SqliteConnection,
    state: &str,
    through: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO desk_snapshot (id, state, through, created_at) VALUES (1, ?1, ?2, ?3) \
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, through = excluded.through, \
         created_at = excluded.created_at WHERE excluded.through > desk_snapshot.through",
    )
    .bind(state)
    .bind(through)
    .bind(now_millis())
    .execute(&mut *connection)
    .await?;
    // Covered by this snapshot or by a later one that stays.
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

// Issued bearer tokens (hashes only).

pub(in crate::store) async fn insert_token(
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

pub(in crate::store) async fn delete_token(
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
