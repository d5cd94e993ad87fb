//! The last message of many conversations on PostgreSQL, in one read: the ids go in as one
//! array (`unnest`), and for each a lateral subquery walks the messages' primary key
//! backwards from the end to the newest `seq` with a body.

use sqlx::Row;
use sqlx::postgres::PgPool;

use super::super::{LastMessage, SenderKind, StoreError};

pub(super) async fn last_messages(
    pool: &PgPool,
    ids: &[String],
    max_chars: u32,
) -> Result<Vec<LastMessage>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT m.conversation_id, m.seq, m.sender_kind, m.sender_id, \
         left(m.body, $2) AS body, char_length(m.body) > $2 AS clipped, m.created_at \
         FROM unnest($1::text[]) AS wanted(id) \
         CROSS JOIN LATERAL ( \
           SELECT conversation_id, seq, sender_kind, sender_id, body, created_at \
           FROM messages WHERE conversation_id = wanted.id AND body <> '' \
           ORDER BY seq DESC LIMIT 1) AS m",
    )
    .bind(ids)
    .bind(i32::try_from(max_chars).unwrap_or(i32::MAX))
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
