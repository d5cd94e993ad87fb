//! Staff accounts and their sign-in sessions, as the store keeps them: who may sign in with
//! a user name and password (the password's Argon2id hash, never the password) and the
//! identity a session of theirs carries, and each signed-in browser (the SHA-256 of its
//! cookie's secret). Hashing and checking passwords is `crate::auth::password`'s; this
//! module only checks that what is kept is well formed.

use super::{StoreError, check_id};
use serde::{Deserialize, Serialize};

/// Input of [`super::Store::put_account`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub username: String,
    /// A PHC string (`$argon2id$...`).
    pub password_hash: String,
    /// The role's name, as on a token (`attendant`, `admin`...).
    pub role: String,
    /// The staff id the account acts as (the desk's person id).
    pub subject: String,
    pub groups: Vec<String>,
}

/// A kept account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffAccount {
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub subject: String,
    pub groups: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Input of [`super::Store::insert_session`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// A stable, non-secret name of the session.
    pub id: String,
    /// SHA-256 of the cookie's secret, 64 lowercase hex digits.
    pub sha256: String,
    pub username: String,
    /// Unix milliseconds from which the session is refused.
    pub expires_at: i64,
}

/// A live session and whom it identifies now (its account's current role and groups).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionIdentity {
    pub id: String,
    pub username: String,
    pub role: String,
    pub subject: String,
    pub groups: Vec<String>,
    pub expires_at: i64,
}

/// Failed sign-ins under one key within a window: how many, and when the oldest was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInFailures {
    pub key: String,
    pub count: i64,
    /// Unix milliseconds of the oldest failure counted.
    pub oldest_ms: i64,
}

/// Longest key of a failed sign-in (`user:` and a SHA-256, or `addr:` and an address).
const MAX_FAILURE_KEY_LEN: usize = 100;

/// Refuses keys of failed sign-ins that are empty, too long or hold control characters.
pub(crate) fn check_failure_keys(keys: &[String]) -> Result<(), StoreError> {
    for key in keys {
        if key.is_empty() || key.len() > MAX_FAILURE_KEY_LEN || key.chars().any(char::is_control) {
            return Err(StoreError::InvalidInput(format!(
                "a sign-in failure key must be 1 to {MAX_FAILURE_KEY_LEN} bytes without \
                 control characters"
            )));
        }
    }
    Ok(())
}

/// Longest PHC string kept (an Argon2id hash is about 100 bytes).
const MAX_HASH_LEN: usize = 512;

pub(in crate::store) fn check_new_account(account: &NewAccount) -> Result<(), StoreError> {
    check_id("user name", &account.username)?;
    check_id("account role", &account.role)?;
    check_id("account subject", &account.subject)?;
    for group in &account.groups {
        check_id("account group", group)?;
    }
    if !account.password_hash.starts_with('$') || account.password_hash.len() > MAX_HASH_LEN {
        return Err(StoreError::InvalidInput(
            "a password hash must be a PHC string".into(),
        ));
    }
    Ok(())
}

pub(in crate::store) fn check_new_session(session: &NewSession) -> Result<(), StoreError> {
    check_id("session id", &session.id)?;
    check_id("user name", &session.username)?;
    check_sha256(&session.sha256)
}

pub(in crate::store) fn check_sha256(sha256: &str) -> Result<(), StoreError> {
    let well_formed = sha256.len() == 64
        && sha256
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
    if well_formed {
        Ok(())
    } else {
        Err(StoreError::InvalidInput(
            "a session hash must be 64 lowercase hex digits".into(),
        ))
    }
}

pub(in crate::store) fn decode_groups(text: &str, table: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text)
        .map_err(|error| StoreError::Corrupt(format!("invalid groups in {table}.groups: {error}")))
}
