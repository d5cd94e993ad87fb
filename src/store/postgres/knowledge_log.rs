//! PostgreSQL's knowledge change log. Several processes append at once, so sequence numbers
//! come from the `knowledge` counter row, locked until the appending transaction ends: a
//! later number is never visible before an earlier one, and a reader following the log by
//! "after the last number I read" misses nothing.

use sqlx::Row;
use sqlx::postgres::{PgConnection, PgPool, PgRow};

use super::super::knowledge_log::{KnowledgeChange, NewKnowledgeChange, decode_kind, decode_op};
use super::super::{StoreError, now_millis};

/// Appends `changes` in order inside the caller's transaction; the sequence number of the
/// last one.
pub(super) async fn append(
    connection: &mut PgConnection,
    changes: &[NewKnowledgeChange],
) -> Result<i64, StoreError> {
    let given: i64 =
        sqlx::query_scalar("SELECT value FROM counters WHERE name = 'knowledge' FOR UPDATE")
            .fetch_one(&mut *connection)
            .await?;
    let at_ms = now_millis();
    let mut seq = given;
    for change in changes {
        seq += 1;
        sqlx::query(
            "INSERT INTO knowledge_changes (seq, at_ms, origin, kind, doc_id, op, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(seq)
        .bind(at_ms)
        .bind(&change.origin)
        .bind(change.kind.tag())
        .bind(&change.doc_id)
        .bind(change.op.as_str())
        .bind(&change.body)
        .execute(&mut *connection)
        .await?;
    }
    sqlx::query("UPDATE counters SET value = $1 WHERE name = 'knowledge'")
        .bind(seq)
        .execute(&mut *connection)
        .await?;
    Ok(seq)
}

/// The changes with `seq > after`, in order, at most `limit`.
pub(super) async fn after(
    pool: &PgPool,
    after: i64,
    limit: u32,
) -> Result<Vec<KnowledgeChange>, StoreError> {
    let rows = sqlx::query(
        "SELECT seq, at_ms, origin, kind, doc_id, op, body FROM knowledge_changes \
         WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(change_from_row).collect()
}

fn change_from_row(row: &PgRow) -> Result<KnowledgeChange, StoreError> {
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
