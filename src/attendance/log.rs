//! The desk's write-ahead log: every operation is applied to the book, which validates it,
//! then appended to the store's desk log at the position the book was at, before the caller
//! hears it succeeded. The append names that position (`Store::desk_append_after`): if the
//! log moved on meanwhile, nothing is appended, the book is rebuilt from the store and the
//! operation fails, so the book never runs ahead of the log nor applies an operation on a
//! state the log does not have. In one process the position always matches, since every
//! append happens under the desk's lock; with several nodes, the check is what keeps two
//! writers from interleaving. The book is rebuilt at start from the latest snapshot plus the
//! operations after it; a snapshot is taken every [`SNAPSHOT_EVERY`] operations.

use super::{Attendance, AttendanceError, SNAPSHOT_EVERY};
use crate::desk::{Applied, BookConfig, DeskBook, DeskOp};
use crate::store::Store;

/// The book and where it stands in the log.
pub(super) struct Inner {
    pub(super) book: DeskBook,
    /// The last logged operation (the log's position the book is at) and the one the
    /// snapshot covers.
    pub(super) last_seq: i64,
    pub(super) snapshot_seq: i64,
}

fn corrupt(seq: i64, error: impl std::fmt::Display) -> AttendanceError {
    AttendanceError::Corrupt {
        seq,
        reason: error.to_string(),
    }
}

/// Rebuilds the book from the store's snapshot and log.
pub(super) async fn load_book(store: &dyn Store) -> Result<Inner, AttendanceError> {
    let log = store.desk_load().await?;
    let (mut book, snapshot_seq) = match log.snapshot {
        Some((state, through)) => (
            serde_json::from_str::<DeskBook>(&state).map_err(|error| corrupt(through, error))?,
            through,
        ),
        None => (DeskBook::new(BookConfig::default()), 0),
    };
    let mut last_seq = snapshot_seq;
    for (seq, text) in log.ops {
        let op: DeskOp = serde_json::from_str(&text).map_err(|error| corrupt(seq, error))?;
        if let Err(error) = book.apply(&op) {
            // Only applied operations are logged, so replaying one cannot fail; if it does,
            // the log was written by another version: say so and go on with the rest.
            tracing::warn!(seq, %error, "a logged desk operation no longer applies");
        }
        last_seq = seq;
    }
    Ok(Inner {
        book,
        last_seq,
        snapshot_seq,
    })
}

impl Attendance {
    /// Applies and (when `durable`) logs `op`, without carrying out its notices.
    pub(super) async fn execute_quietly(
        &self,
        op: &DeskOp,
        durable: bool,
    ) -> Result<Applied, AttendanceError> {
        let mut inner = self.inner.lock().await;
        let applied = inner.book.apply(op)?;
        if !durable {
            return Ok(applied);
        }
        self.log(&mut inner, op).await?;
        Ok(applied)
    }

    /// Appends `op`, already applied to the book, to the desk log (and takes a snapshot
    /// when one is due). The caller holds the lock from the apply to the end of this call,
    /// so the log's order is the book's. The append expects the log where the book is
    /// (`inner.last_seq`): under the lock, in one process, it always is.
    pub(super) async fn log(&self, inner: &mut Inner, op: &DeskOp) -> Result<(), AttendanceError> {
        let text = serde_json::to_string(op).map_err(|error| corrupt(0, error))?;
        match self.store.desk_append_after(&text, inner.last_seq).await {
            Ok(seq) => inner.last_seq = seq,
            Err(error) => {
                // The book ran ahead of the log (the append failed, or another writer moved
                // the log on): rebuild it from what is stored.
                tracing::error!(%error, "desk log append failed; reloading the desk");
                if let Ok(reloaded) = load_book(self.store.as_ref()).await {
                    *inner = reloaded;
                }
                return Err(error.into());
            }
        }
        if inner.last_seq - inner.snapshot_seq >= SNAPSHOT_EVERY {
            match serde_json::to_string(&inner.book) {
                Ok(state) => match self.store.desk_snapshot(&state, inner.last_seq).await {
                    Ok(()) => inner.snapshot_seq = inner.last_seq,
                    Err(error) => {
                        tracing::warn!(%error, "desk snapshot failed; the log keeps everything")
                    }
                },
                Err(error) => tracing::warn!(%error, "desk snapshot not serializable"),
            }
        }
        Ok(())
    }
}
