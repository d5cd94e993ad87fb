//! The SQLite writes of leases: a claim (take, renew or take over after expiry) and a
//! release, each one statement run inside the writer's transaction, so a claim is decided
//! by the row as the committed batches before it left it.

use sqlx::sqlite::SqliteConnection;

use super::super::StoreError;

/// Grants `name` to `holder` until `now_ms + ttl_ms` unless another holder's time still runs.
pub(in crate::store) async fn claim(
    connection: &mut SqliteConnection,
    name: &str,
    holder: &str,
    ttl_ms: i64,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let claimed = sqlx::query(
        "INSERT INTO leases (name, holder, expires_at_ms) VALUES (?1, ?2, ?3) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
         expires_at_ms = excluded.expires_at_ms \
         WHERE leases.holder = excluded.holder OR leases.expires_at_ms <= ?4",
    )
    .bind(name)
    .bind(holder)
    .bind(now_ms.saturating_add(ttl_ms))
    .bind(now_ms)
    .execute(connection)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

/// Deletes `name`'s row if `holder` holds it.
pub(in crate::store) async fn release(
    connection: &mut SqliteConnection,
    name: &str,
    holder: &str,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM leases WHERE name = ?1 AND holder = ?2")
        .bind(name)
        .bind(holder)
        .execute(connection)
        .await?;
    Ok(())
}
