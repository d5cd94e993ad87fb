//! SQLite's knowledge change log: appending a batch inside the writer's transaction (the one
//! writer numbers changes in commit order) and reading the changes after a sequence number.

use sqlx::Row;
use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};

use super::super::knowledge_log::{KnowledgeChange, NewKnowledgeChange, decode_kind, decode_op};
use super::super::{StoreError, now_millis};

/// Appends `changes` in order; the sequence number of the last one.
pub(in crate::store) async fn append(
    connection: &mut SqliteConnection,
    changes: &[NewKnowledgeChange],
) -> Result<i64, StoreError> {
    let at_ms = now_millis();
    let mut last = 0;
    for change in changes {
        last = sqlx::query_scalar(
            "INSERT INTO knowledge_changes (at_ms, origin, kind, doc_id, op, body) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING seq",
        )
        .bind(at_ms)
        .bind(&change.origin)
        .bind(change.kind.tag())
        .bind(&change.doc_id)
        .bind(change.op.as_str())
        .bind(&change.body)
        .fetch_one(&mut *connection)
        .await?;
    }
    Ok(last)
}

/// The changes with `seq > after`, in order, at most `limit`.
pub(in crate::store) async fn after(
    pool: &SqlitePool,
    after: i64,
    limit: u32,
) -> Result<Vec<KnowledgeChange>, StoreError> {
    let rows = sqlx::query(
        "SELECT seq, at_ms, origin, kind, doc_id, op, body FROM knowledge_changes \
         WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(change_from_row).collect()
}

fn change_from_row(row: &SqliteRow) -> Result<KnowledgeChange, StoreError> {
    Ok(KnowledgeChange {
        seq: row.try_get("seq")?,
        at_ms: row.try_get("at_ms")?,
        origin: row.try_get("origin")?,
        kind: decode_kind(row.try_get("kind")?)?,
        doc_id: row.try_get("doc_id")?,
        op: decode_op(row.try_get("op")?)?,
        body: row.try_get("body")?,
    })
}
