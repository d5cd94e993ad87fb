//! Staff accounts and sessions on PostgreSQL: the writes, each in the caller's transaction,
//! and the reads, on the pool.

use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{PgPool, Row};

use super::super::accounts::{
    NewAccount, NewSession, SessionIdentity, SignInFailures, StaffAccount, decode_groups,
};
use super::super::prepared::encode_json;
use super::super::{StoreError, now_millis};

/// The columns an account is read back from, in order.
macro_rules! account_columns {
    () => {
        "username, password_hash, role, subject, groups, created_at, updated_at"
    };
}

pub(super) async fn put(
    connection: &mut PgConnection,
    account: NewAccount,
) -> Result<StaffAccount, StoreError> {
    let groups = encode_json(&account.groups)?;
    // A new password signs the account out everywhere.
    sqlx::query(
        "DELETE FROM staff_sessions WHERE username = $1 AND EXISTS (SELECT 1 FROM \
         staff_accounts WHERE username = $1 AND password_hash <> $2)",
    )
    .bind(&account.username)
    .bind(&account.password_hash)
    .execute(&mut *connection)
    .await?;
    let row = sqlx::query(concat!(
        "INSERT INTO staff_accounts (",
        account_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $6) \
         ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, \
         role = excluded.role, subject = excluded.subject, groups = excluded.groups, \
         updated_at = excluded.updated_at RETURNING ",
        account_columns!(),
        ""
    ))
    .bind(&account.username)
    .bind(&account.password_hash)
    .bind(&account.role)
    .bind(&account.subject)
    .bind(&groups)
    .bind(now_millis())
    .fetch_one(&mut *connection)
    .await?;
    account_from_row(&row)
}

pub(super) async fn delete(
    connection: &mut PgConnection,
    username: &str,
) -> Result<StaffAccount, StoreError> {
    sqlx::query("DELETE FROM staff_sessions WHERE username = $1")
        .bind(username)
        .execute(&mut *connection)
        .await?;
    let row = sqlx::query(concat!(
        "DELETE FROM staff_accounts WHERE username = $1 RETURNING ",
        account_columns!(),
        ""
    ))
    .bind(username)
    .fetch_optional(&mut *connection)
    .await?;
    match row {
        Some(row) => account_from_row(&row),
        None => Err(StoreError::not_found("account", username)),
    }
}

pub(super) async fn insert_session(
    connection: &mut PgConnection,
    session: NewSession,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM staff_sessions WHERE expires_at <= $1")
        .bind(now_ms)
        .execute(&mut *connection)
        .await?;
    let inserted = sqlx::query(
        "INSERT INTO staff_sessions (id, sha256, username, created_at, expires_at) \
         SELECT $1, $2, username, $4, $5 FROM staff_accounts WHERE username = $3",
    )
    .bind(&session.id)
    .bind(&session.sha256)
    .bind(&session.username)
    .bind(now_ms)
    .bind(session.expires_at)
    .execute(&mut *connection)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(StoreError::not_found("account", &session.username));
    }
    Ok(())
}

pub(super) async fn delete_session(
    connection: &mut PgConnection,
    sha256: &str,
) -> Result<bool, StoreError> {
    let deleted = sqlx::query("DELETE FROM staff_sessions WHERE sha256 = $1")
        .bind(sha256)
        .execute(&mut *connection)
        .await?;
    Ok(deleted.rows_affected() > 0)
}

pub(super) async fn account(
    pool: &PgPool,
    username: &str,
) -> Result<Option<StaffAccount>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        account_columns!(),
        " FROM staff_accounts WHERE username = $1"
    ))
    .bind(username)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(account_from_row).transpose()
}

pub(super) async fn accounts(pool: &PgPool) -> Result<Vec<StaffAccount>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        account_columns!(),
        " FROM staff_accounts ORDER BY username COLLATE \"C\""
    ))
    .fetch_all(pool)
    .await?;
    rows.iter().map(account_from_row).collect()
}

pub(super) async fn session(
    pool: &PgPool,
    sha256: &str,
    now_ms: i64,
) -> Result<Option<SessionIdentity>, StoreError> {
    let row = sqlx::query(
        "SELECT s.id, s.username, a.role, a.subject, a.groups, s.expires_at \
         FROM staff_sessions s JOIN staff_accounts a ON a.username = s.username \
         WHERE s.sha256 = $1 AND s.expires_at > $2",
    )
    .bind(sha256)
    .bind(now_ms)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let groups: String = row.try_get("groups")?;
    Ok(Some(SessionIdentity {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        role: row.try_get("role")?,
        subject: row.try_get("subject")?,
        groups: decode_groups(&groups, "staff_accounts")?,
        expires_at: row.try_get("expires_at")?,
    }))
}

fn account_from_row(row: &PgRow) -> Result<StaffAccount, StoreError> {
    let groups: String = row.try_get("groups")?;
    Ok(StaffAccount {
        username: row.try_get("username")?,
        password_hash: row.try_get("password_hash")?,
        role: row.try_get("role")?,
        subject: row.try_get("subject")?,
        groups: decode_groups(&groups, "staff_accounts")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Records one failure under each of `keys` at `at_ms`, forgetting those before
/// `forget_before_ms`.
pub(super) async fn record_failure(
    connection: &mut PgConnection,
    keys: &[String],
    at_ms: i64,
    forget_before_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sign_in_failures WHERE at_ms < $1")
        .bind(forget_before_ms)
        .execute(&mut *connection)
        .await?;
    sqlx::query("INSERT INTO sign_in_failures (key, at_ms) SELECT unnest($1::text[]), $2")
        .bind(keys)
        .bind(at_ms)
        .execute(&mut *connection)
        .await?;
    Ok(())
}

pub(super) async fn forget_failures(pool: &PgPool, keys: &[String]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sign_in_failures WHERE key = ANY($1)")
        .bind(keys)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn sign_in_failures(
    pool: &PgPool,
    keys: &[String],
    since_ms: i64,
) -> Result<Vec<SignInFailures>, StoreError> {
    let rows = sqlx::query(
        "SELECT key, count(*) AS count, min(at_ms) AS oldest FROM sign_in_failures \
         WHERE key = ANY($1) AND at_ms >= $2 GROUP BY key ORDER BY key",
    )
    .bind(keys)
    .bind(since_ms)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(SignInFailures {
                key: row.try_get("key")?,
                count: row.try_get("count")?,
                oldest_ms: row.try_get("oldest")?,
            })
        })
        .collect()
}
