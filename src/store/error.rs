//! What can go wrong in the store: [`StoreError`], its stable codes, and how a database
//! error becomes one.

use std::sync::Arc;

/// Everything that can go wrong in the store. [`code`](StoreError::code) is stable and is what
/// API clients see.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("{entity} {id:?} not found")]
    NotFound { entity: &'static str, id: String },
    #[error("{entity} {id:?} already exists")]
    AlreadyExists { entity: &'static str, id: String },
    #[error(
        "conversation {id:?} was changed by someone else: expected version {expected}, found {actual}"
    )]
    Conflict {
        id: String,
        expected: i64,
        actual: i64,
    },
    #[error("the desk log moved on: expected position {expected}, found {actual}")]
    DeskLogConflict { expected: i64, actual: i64 },
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("unsupported store url scheme {scheme:?}: {reason}")]
    UnsupportedUrl {
        scheme: String,
        reason: &'static str,
    },
    #[error("the store is closed")]
    Closed,
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Database(#[source] Arc<sqlx::Error>),
    /// The database cannot be reached now (refused, timed out, the server going down);
    /// the pool reconnects by itself once it is back.
    #[error("the database is unreachable: {0}")]
    Unavailable(String),
    #[error("internal store error: {0}")]
    Internal(String),
}

impl StoreError {
    /// Stable snake_case code, one per variant.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "not_found",
            Self::AlreadyExists { .. } => "already_exists",
            Self::Conflict { .. } => "conflict",
            Self::DeskLogConflict { .. } => "desk_log_conflict",
            Self::InvalidInput(_) => "invalid_input",
            Self::UnsupportedUrl { .. } => "unsupported_url",
            Self::Closed => "store_closed",
            Self::Corrupt(_) => "corrupt_data",
            Self::Migration(_) => "migration_failed",
            Self::Database(_) => "database",
            Self::Unavailable(_) => "store_unavailable",
            Self::Internal(_) => "internal",
        }
    }

    pub(crate) fn not_found(entity: &'static str, id: &str) -> Self {
        Self::NotFound {
            entity,
            id: id.to_owned(),
        }
    }
}

impl crate::fault::Coded for StoreError {
    /// A missing row is not found, a lost race a conflict, a refused value a bad request;
    /// everything else, a duplicate id included (the server mints the ids), is the server's.
    fn kind(&self) -> crate::fault::ErrorKind {
        use crate::fault::ErrorKind as K;
        match self {
            Self::NotFound { .. } => K::NotFound,
            Self::Conflict { .. } | Self::DeskLogConflict { .. } => K::Conflict,
            Self::InvalidInput(_) => K::BadRequest,
            Self::Unavailable(_) => K::Unavailable,
            _ => K::Internal,
        }
    }

    fn code(&self) -> &'static str {
        StoreError::code(self)
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => Self::Closed,
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
                Self::Unavailable(error.to_string())
            }
            sqlx::Error::Database(ref database) if is_server_going_away(database.code()) => {
                Self::Unavailable(error.to_string())
            }
            other => Self::Database(Arc::new(other)),
        }
    }
}

/// PostgreSQL's codes for a connection that failed or a server shutting down or starting
/// (class 08, `admin_shutdown`, `crash_shutdown`, `cannot_connect_now`).
pub(super) fn is_server_going_away(code: Option<std::borrow::Cow<'_, str>>) -> bool {
    code.is_some_and(|code| code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03"))
}
