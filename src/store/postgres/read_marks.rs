//! Read marks on PostgreSQL: a side's position is moved by one upsert that keeps the
//! furthest of the stored and the new position (`GREATEST`), so two nodes marking at once
//! never move it back; the refusals (unknown conversation, past its last message) are decided
//! by a read before it, which stays true because a conversation's `last_seq` only grows.

use sqlx::Row;
use sqlx::postgres::PgPool;

use super::super::read_marks::{ReadMarks, ReadMoved, ReadSide, decide};
use super::super::{StoreError, now_millis};

/// The conversation's last `seq` and its marks; [`StoreError::NotFound`] when unknown.
async fn current(pool: &PgPool, conversation_id: &str) -> Result<(i64, ReadMarks), StoreError> {
    let row = sqlx::query(
        "SELECT c.last_seq, coalesce(r.requester_seq, 0) AS requester_seq, \
         coalesce(r.attendant_seq, 0) AS attendant_seq FROM conversations c \
         LEFT JOIN conversation_reads r ON r.conversation_id = c.id WHERE c.id = $1",
    )
    .bind(conversation_id)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        entity: "conversation",
        id: conversation_id.to_string(),
    })?;
    let marks = ReadMarks {
        requester_seq: row.try_get("requester_seq")?,
        attendant_seq: row.try_get("attendant_seq")?,
    };
    Ok((row.try_get("last_seq")?, marks))
}

pub(super) async fn mark(
    pool: &PgPool,
    conversation_id: &str,
    side: ReadSide,
    seq: i64,
) -> Result<ReadMoved, StoreError> {
    let (last_seq, marks) = current(pool, conversation_id).await?;
    let Some(next) = decide(marks, last_seq, side, seq)? else {
        return Ok(ReadMoved {
            marks,
            moved: false,
        });
    };
    let row = sqlx::query(
        "INSERT INTO conversation_reads (conversation_id, requester_seq, attendant_seq, \
         updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (conversation_id) DO UPDATE SET \
         requester_seq = GREATEST(conversation_reads.requester_seq, excluded.requester_seq), \
         attendant_seq = GREATEST(conversation_reads.attendant_seq, excluded.attendant_seq), \
         updated_at = excluded.updated_at RETURNING requester_seq, attendant_seq",
    )
    .bind(conversation_id)
    .bind(next.requester_seq)
    .bind(next.attendant_seq)
    .bind(now_millis())
    .fetch_one(pool)
    .await?;
    Ok(ReadMoved {
        marks: ReadMarks {
            requester_seq: row.try_get("requester_seq")?,
            attendant_seq: row.try_get("attendant_seq")?,
        },
        moved: true,
    })
}

/// Both positions of a conversation.
pub(super) async fn marks(pool: &PgPool, conversation_id: &str) -> Result<ReadMarks, StoreError> {
    Ok(current(pool, conversation_id).await?.1)
}
