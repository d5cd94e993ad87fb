//! How a write command's answer is held back until its batch commits: the reply channel, the
//! deferred answer, and what a command's result means for the transaction. The writer and
//! every module with write commands share these.

use tokio::sync::oneshot;

use super::StoreError;

pub(in crate::store) type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// Deferred answer of a command that ran; called with the commit's error, if any.
pub(in crate::store) type Settle = Box<dyn FnOnce(Option<StoreError>) + Send>;

/// How a command went, as far as the transaction is concerned.
pub(in crate::store) enum Outcome {
    Done,
    /// Refused before writing anything (not found, conflict, ...): the transaction is intact.
    Refused,
    /// A database error: the command may have written part of its work.
    Failed(StoreError),
}

pub(in crate::store) fn settle_later<T: Send + 'static>(
    reply: Reply<T>,
    result: Result<T, StoreError>,
) -> (Settle, Outcome) {
    let outcome = match &result {
        Ok(_) => Outcome::Done,
        // Decided before any write (see the contract in `sqlite::writes`), or while reading.
        Err(
            StoreError::NotFound { .. }
            | StoreError::AlreadyExists { .. }
            | StoreError::Conflict { .. }
            | StoreError::DeskLogConflict { .. }
            | StoreError::InvalidInput(_)
            | StoreError::Corrupt(_),
        ) => Outcome::Refused,
        Err(error) => Outcome::Failed(error.clone()),
    };
    let settle: Settle = Box::new(move |commit_error: Option<StoreError>| {
        let outcome = match (commit_error, result) {
            // Written but not committed: the caller must not believe it is stored.
            (Some(error), Ok(_)) => Err(error),
            // Failed on its own (and was rolled back), or committed: report as is.
            (_, result) => result,
        };
        let _ = reply.send(outcome);
    });
    (settle, outcome)
}
