//! Staff accounts and sessions on SQLite: the writer commands that keep them (each one
//! statement or a short sequence inside the writer's transaction, in a savepoint) and the
//! reads, which run on the read pool.

use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{Row, SqlitePool};

use super::super::accounts::{
    NewAccount, NewSession, SessionIdentity, SignInFailures, StaffAccount, decode_groups,
};
use super::super::prepared::encode_json;
use super::super::settle::{Outcome, Reply, Settle, settle_later};
use super::super::{StoreError, now_millis};

/// The columns an account is read back from, in order.
macro_rules! account_columns {
    () => {
        "username, password_hash, role, subject, groups, created_at, updated_at"
    };
}

/// One write of the accounts' tables, with the channel its result goes back on.
pub(in crate::store) enum AccountCommand {
    Put {
        account: NewAccount,
        reply: Reply<StaffAccount>,
    },
    Delete {
        username: String,
        reply: Reply<StaffAccount>,
    },
    InsertSession {
        session: NewSession,
        now_ms: i64,
        reply: Reply<()>,
    },
    DeleteSession {
        sha256: String,
        reply: Reply<bool>,
    },
    RecordFailure {
        keys: Vec<String>,
        at_ms: i64,
        forget_before_ms: i64,
        reply: Reply<()>,
    },
    ForgetFailures {
        keys: Vec<String>,
        reply: Reply<()>,
    },
}

impl AccountCommand {
    /// Answers without running: the command will not be written.
    pub(in crate::store) fn fail(self, error: StoreError) {
        // A caller that stopped waiting has nothing to be told.
        let _delivered = match self {
            Self::Put { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::Delete { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::InsertSession { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::DeleteSession { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::RecordFailure { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::ForgetFailures { reply, .. } => reply.send(Err(error)).is_ok(),
        };
    }

    /// Runs the command; its answer is held back until the batch's fate is known.
    pub(in crate::store) async fn apply(
        self,
        connection: &mut SqliteConnection,
    ) -> (Settle, Outcome) {
        match self {
            Self::Put { account, reply } => settle_later(reply, put(connection, account).await),
            Self::Delete { username, reply } => {
                settle_later(reply, delete(connection, &username).await)
            }
            Self::InsertSession {
                session,
                now_ms,
                reply,
            } => settle_later(reply, insert_session(connection, session, now_ms).await),
            Self::DeleteSession { sha256, reply } => {
                settle_later(reply, delete_session(connection, &sha256).await)
            }
            Self::RecordFailure {
                keys,
                at_ms,
                forget_before_ms,
                reply,
            } => settle_later(
                reply,
                record_failure(connection, &keys, at_ms, forget_before_ms).await,
            ),
            Self::ForgetFailures { keys, reply } => {
                settle_later(reply, forget_failures(connection, &keys).await)
            }
        }
    }
}

async fn put(
    connection: &mut SqliteConnection,
    account: NewAccount,
) -> Result<StaffAccount, StoreError> {
    let groups = encode_json(&account.groups)?;
    // A new password signs the account out everywhere.
    sqlx::query(
        "DELETE FROM staff_sessions WHERE username = ?1 AND EXISTS (SELECT 1 FROM \
         staff_accounts WHERE username = ?1 AND password_hash <> ?2)",
    )
    .bind(&account.username)
    .bind(&account.password_hash)
    .execute(&mut *connection)
    .await?;
    let row = sqlx::query(concat!(
        "INSERT INTO staff_accounts (",
        account_columns!(),
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) \
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

async fn delete(
    connection: &mut SqliteConnection,
    username: &str,
) -> Result<StaffAccount, StoreError> {
    sqlx::query("DELETE FROM staff_sessions WHERE username = ?1")
        .bind(username)
        .execute(&mut *connection)
        .await?;
    let row = sqlx::query(concat!(
        "DELETE FROM staff_accounts WHERE username = ?1 RETURNING ",
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

async fn insert_session(
    connection: &mut SqliteConnection,
    session: NewSession,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM staff_sessions WHERE expires_at <= ?1")
        .bind(now_ms)
        .execute(&mut *connection)
        .await?;
    let inserted = sqlx::query(
        "INSERT INTO staff_sessions (id, sha256, username, created_at, expires_at) \
         SELECT ?1, ?2, username, ?4, ?5 FROM staff_accounts WHERE username = ?3",
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

async fn delete_session(
    connection: &mut SqliteConnection,
    sha256: &str,
) -> Result<bool, StoreError> {
    let deleted = sqlx::query("DELETE FROM staff_sessions WHERE sha256 = ?1")
        .bind(sha256)
        .execute(&mut *connection)
        .await?;
    Ok(deleted.rows_affected() > 0)
}

async fn record_failure(
    connection: &mut SqliteConnection,
    keys: &[String],
    at_ms: i64,
    forget_before_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sign_in_failures WHERE at_ms < ?1")
        .bind(forget_before_ms)
        .execute(&mut *connection)
        .await?;
    for key in keys {
        sqlx::query("INSERT INTO sign_in_failures (key, at_ms) VALUES (?1, ?2)")
            .bind(key)
            .bind(at_ms)
            .execute(&mut *connection)
            .await?;
    }
    Ok(())
}

async fn forget_failures(
    connection: &mut SqliteConnection,
    keys: &[String],
) -> Result<(), StoreError> {
    for key in keys {
        sqlx::query("DELETE FROM sign_in_failures WHERE key = ?1")
            .bind(key)
            .execute(&mut *connection)
            .await?;
    }
    Ok(())
}

pub(in crate::store) async fn sign_in_failures(
    pool: &SqlitePool,
    keys: &[String],
    since_ms: i64,
) -> Result<Vec<SignInFailures>, StoreError> {
    let mut found = Vec::new();
    for key in keys {
        let row = sqlx::query(
            "SELECT count(*) AS count, min(at_ms) AS oldest FROM sign_in_failures \
             WHERE key = ?1 AND at_ms >= ?2",
        )
        .bind(key)
        .bind(since_ms)
        .fetch_one(pool)
        .await?;
        let count: i64 = row.try_get("count")?;
        if count > 0 {
            found.push(SignInFailures {
                key: key.clone(),
                count,
                oldest_ms: row.try_get("oldest")?,
            });
        }
    }
    Ok(found)
}

pub(in crate::store) async fn account(
    pool: &SqlitePool,
    username: &str,
) -> Result<Option<StaffAccount>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        account_columns!(),
        " FROM staff_accounts WHERE username = ?1"
    ))
    .bind(username)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(account_from_row).transpose()
}

pub(in crate::store) async fn accounts(pool: &SqlitePool) -> Result<Vec<StaffAccount>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        account_columns!(),
        " FROM staff_accounts ORDER BY username"
    ))
    .fetch_all(pool)
    .await?;
    rows.iter().map(account_from_row).collect()
}

pub(in crate::store) async fn session(
    pool: &SqlitePool,
    sha256: &str,
    now_ms: i64,
) -> Result<Option<SessionIdentity>, StoreError> {
    let row = sqlx::query(
        "SELECT s.id, s.username, a.role, a.subject, a.groups, s.expires_at \
         FROM staff_sessions s JOIN staff_accounts a ON a.username = s.username \
         WHERE s.sha256 = ?1 AND s.expires_at > ?2",
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

fn account_from_row(row: &SqliteRow) -> Result<StaffAccount, StoreError> {
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
