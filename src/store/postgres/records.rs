//! The PostgreSQL writes of tickets, the desk log and tokens. Like `writes`, each runs inside
//! its caller's transaction, which rolls back on a refusal. Ticket numbers and desk log
//! positions come from rows of `counters` locked (`FOR UPDATE`) by the transaction that uses
//! them: numbers are unique and gap-free across processes, and a rollback gives a number back.

use sqlx::postgres::PgConnection;

use super::super::prepared::{PreparedTicket, PreparedToken, decode_tags, encode_json};
use super::super::{DeskLog, DeskTail, StoreError, StoredToken, Ticket, now_millis, ticket_number};
use super::rows::{ticket_columns, ticket_from_row, token_columns, token_from_row};

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
         created_at = excluded.created_at WHERE excluded.through > desk_snapshot.through",
    )
    .bind(state)
    .bind(through)
    .bind(now_millis())
    .execute(&mut *connection)
    .await?;
    // Covered by this snapshot or by a later one that stays.
    sqlx::query("DELETE FROM desk_ops WHERE seq <= $1")
        .bind(through)
        .execute(&mut *connection)
        .await?;
    Ok(())
}

/// The latest snapshot and the operations after it, read in one `REPEATABLE READ` snapshot
/// of the database so the two agree.
pub(super) async fn desk_load(connection: &mut PgConnection) -> Result<DeskLog, StoreError> {
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *connection)
        .await?;
    let snapshot: Option<(String, i64)> =
        sqlx::query_as("SELECT state, through FROM desk_snapshot WHERE id = 1")
            .fetch_optional(&mut *connection)
            .await?;
    let after = snapshot.as_ref().map(|(_, through)| *through).unwrap_or(0);
    let ops: Vec<(i64, String)> =
        sqlx::query_as("SELECT seq, op FROM desk_ops WHERE seq > $1 ORDER BY seq")
            .bind(after)
            .fetch_all(&mut *connection)
            .await?;
    Ok(DeskLog { snapshot, ops })
}

/// The operations after `after` and the snapshot's position, read in one `REPEATABLE READ`
/// snapshot of the database so the two agree.
pub(super) async fn desk_ops_after(
    connection: &mut PgConnection,
    after: i64,
) -> Result<DeskTail, StoreError> {
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *connection)
        .await?;
    let through: Option<i64> = sqlx::query_scalar("SELECT through FROM desk_snapshot WHERE id = 1")
        .fetch_optional(&mut *connection)
        .await?;
    let ops: Vec<(i64, String)> =
        sqlx::query_as("SELECT seq, op FROM desk_ops WHERE seq > $1 ORDER BY seq")
            .bind(after)
            .fetch_all(&mut *connection)
            .await?;
    Ok(DeskTail {
        snapshot_through: through.unwrap_or(0),
        ops,
    })
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
