//! The last message of many conversations on SQLite, in one read: the ids go in as one JSON
//! array (`json_each`, so any number binds as one parameter), and for each the newest `seq`
//! with a body is found by walking the messages' primary key backwards from its end.

use sqlx::Row;
use sqlx::sqlite::SqlitePool;

use super::super::{LastMessage, SenderKind, StoreError};

pub(super) async fn last_messages(
    pool: &SqlitePool,
    ids: &[String],
    max_chars: u32,
) -> Result<Vec<LastMessage>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let wanted = serde_json::to_string(ids)
        .map_err(|error| StoreError::InvalidInput(format!("conversation ids: {error}")))?;
    let rows = sqlx::query(
        "SELECT m.conversation_id, m.seq, m.sender_kind, m.sender_id, \
         substr(m.body, 1, ?2) AS body, length(m.body) > ?2 AS clipped, m.created_at \
         FROM json_each(?1) AS wanted \
         JOIN messages AS m ON m.conversation_id = wanted.value AND m.seq = ( \
           SELECT seq FROM messages WHERE conversation_id = wanted.value AND body <> '' \
           ORDER BY seq DESC LIMIT 1)",
    )
    .bind(wanted)
    .bind(i64::from(max_chars))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let kind: String = row.try_get("sender_kind")?;
            Ok(LastMessage {
                conversation_id: row.try_get("conversation_id")?,
                seq: row.try_get("seq")?,
                sender_kind: kind.parse::<SenderKind>().map_err(|_| {
                    StoreError::Corrupt(format!("unknown value {kind:?} in column sender_kind"))
                })?,
                sender_id: row.try_get("sender_id")?,
                body: row.try_get("body")?,
                clipped: row.try_get("clipped")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect()
}
