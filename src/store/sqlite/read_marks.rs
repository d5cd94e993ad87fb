//! Read marks on SQLite: the writer command that moves a side's position (read the row and
//! the conversation's last `seq`, decide, then one upsert, all inside the writer's
//! transaction, so no other write comes between) and the read, on the read pool.

use sqlx::sqlite::{SqliteConnection, SqlitePool};
use sqlx::{Executor, Row, Sqlite};

use super::super::read_marks::{ReadMarks, ReadMoved, ReadSide, decide};
use super::super::settle::{Outcome, Reply, Settle, settle_later};
use super::super::{StoreError, now_millis};

/// The conversation's last `seq` and its marks, or `None` for an unknown conversation.
const CURRENT: &str = "SELECT c.last_seq, coalesce(r.requester_seq, 0), \
     coalesce(r.attendant_seq, 0) FROM conversations c \
     LEFT JOIN conversation_reads r ON r.conversation_id = c.id WHERE c.id = ?1";

/// A read mark to write, with the channel its result goes back on.
pub(in crate::store) struct ReadCommand {
    pub(in crate::store) conversation_id: String,
    pub(in crate::store) side: ReadSide,
    pub(in crate::store) seq: i64,
    pub(in crate::store) reply: Reply<ReadMoved>,
}

impl ReadCommand {
    /// Answers without running: the command will not be written.
    pub(in crate::store) fn fail(self, error: StoreError) {
        // A caller that stopped waiting has nothing to be told.
        let _ = self.reply.send(Err(error));
    }

    /// Runs the command; its answer is held back until the batch's fate is known.
    pub(in crate::store) async fn apply(
        self,
        connection: &mut SqliteConnection,
    ) -> (Settle, Outcome) {
        let result = mark(connection, &self.conversation_id, self.side, self.seq).await;
        settle_later(self.reply, result)
    }
}

async fn current<'e>(
    executor: impl Executor<'e, Database = Sqlite>,
    conversation_id: &str,
) -> Result<(i64, ReadMarks), StoreError> {
    let row = sqlx::query(CURRENT)
        .bind(conversation_id)
        .fetch_optional(executor)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            entity: "conversation",
            id: conversation_id.to_string(),
        })?;
    let marks = ReadMarks {
        requester_seq: row.try_get(1)?,
        attendant_seq: row.try_get(2)?,
    };
    Ok((row.try_get(0)?, marks))
}

/// Refusals (unknown conversation, past the last message) come before any write.
async fn mark(
    connection: &mut SqliteConnection,
    conversation_id: &str,
    side: ReadSide,
    seq: i64,
) -> Result<ReadMoved, StoreError> {
    let (last_seq, marks) = current(&mut *connection, conversation_id).await?;
    let Some(next) = decide(marks, last_seq, side, seq)? else {
        return Ok(ReadMoved {
            marks,
            moved: false,
        });
    };
    sqlx::query(
        "INSERT INTO conversation_reads (conversation_id, requester_seq, attendant_seq, \
         updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (conversation_id) DO UPDATE SET \
         requester_seq = excluded.requester_seq, attendant_seq = excluded.attendant_seq, \
         updated_at = excluded.updated_at",
    )
    .bind(conversation_id)
    .bind(next.requester_seq)
    .bind(next.attendant_seq)
    .bind(now_millis())
    .execute(&mut *connection)
    .await?;
    Ok(ReadMoved {
        marks: next,
        moved: true,
    })
}

/// Both positions of a conversation.
pub(in crate::store) async fn marks(
    pool: &SqlitePool,
    conversation_id: &str,
) -> Result<ReadMarks, StoreError> {
    Ok(current(pool, conversation_id).await?.1)
}
