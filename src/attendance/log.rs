//! The desk's write-ahead log, shared by every node over one store. Every operation is
//! applied to the book, which validates it, then appended to the store's desk log at the
//! position the book was at, before the caller hears it succeeded. The append names that
//! position (`Store::desk_append_after`), so two nodes can never both log an operation on
//! the same state: the second one's append finds the log moved on.
//!
//! Before each operation the node catches up: it applies what other nodes logged after its
//! position, without carrying any of it out again (the node that logged an operation told
//! the conversation and the staff). Then it applies and appends its own. When the append
//! finds the log moved on meanwhile, the book (which holds the operation the log does not)
//! is rebuilt from the store and the operation tried again on the new state, at most
//! [`MAX_ATTEMPTS`] times: a capture of a chat another node took in between then fails as
//! any capture of a taken chat does. Between operations, [`follow`] catches up every
//! [`CATCH_UP_EVERY`], so an idle node sees what others did within about that long.
//!
//! The book is rebuilt at start from the latest snapshot plus the operations after it. A
//! snapshot is taken every [`SNAPSHOT_EVERY`] operations by whichever node logs the one that
//! makes it due; the store keeps the one that covers most, and a node whose next operations
//! were dropped with another node's snapshot loads that snapshot instead.

use super::{Attendance, AttendanceError, SNAPSHOT_EVERY};
use crate::desk::{Applied, BookConfig, DeskBook, DeskOp};
use crate::store::{Store, StoreError};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How many times an operation is tried when other nodes keep logging before it.
pub const MAX_ATTEMPTS: usize = 5;

/// How often a node reads what the other nodes logged, when nothing else made it look.
pub const CATCH_UP_EVERY: Duration = Duration::from_millis(500);

/// The book and where it stands in the log.
pub(super) struct Inner {
    pub(super) book: DeskBook,
    /// The last logged operation (the log's position the book is at) and the one the
    /// newest snapshot this node knows of covers.
    pub(super) last_seq: i64,
    pub(super) snapshot_seq: i64,
    /// The book may hold an operation the log does not (an append failed and the reload
    /// after it too): the next catch-up rebuilds it.
    pub(super) stale: bool,
}

/// When an applied operation is logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Logging {
    /// Always.
    Always,
    /// Only when it changed the chat's unread markers: a requester message marks the chat
    /// unread once, the next ones until somebody reads it change nothing and cost no write.
    WhenUnreadChanged,
    /// Never: a change of this node's book only (the unread markers restored at start).
    Never,
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
    let (book, snapshot_seq) = match log.snapshot {
        Some((state, through)) => (
            serde_json::from_str::<DeskBook>(&state).map_err(|error| corrupt(through, error))?,
            through,
        ),
        None => (DeskBook::new(BookConfig::default()), 0),
    };
    let mut inner = Inner {
        book,
        last_seq: snapshot_seq,
        snapshot_seq,
        stale: false,
    };
    for (seq, text) in log.ops {
        inner.replay(seq, &text)?;
    }
    Ok(inner)
}

impl Inner {
    /// Applies logged operation `seq` (JSON) to the book; returns it.
    fn replay(&mut self, seq: i64, text: &str) -> Result<DeskOp, AttendanceError> {
        let op: DeskOp = serde_json::from_str(text).map_err(|error| corrupt(seq, error))?;
        if let Err(error) = self.book.apply(&op) {
            // Only applied operations are logged, so replaying one cannot fail; if it does,
            // the log was written by another version: say so and go on with the rest.
            tracing::warn!(seq, %error, "a logged desk operation no longer applies");
        }
        self.last_seq = seq;
        Ok(op)
    }
}

/// What a requester message can change: the chat's unread markers.
fn unread_marks(book: &DeskBook, op: &DeskOp) -> Option<(bool, BTreeSet<String>)> {
    let DeskOp::MessageFromRequester {
        conversation_id, ..
    } = op
    else {
        return None;
    };
    book.record(conversation_id)
        .map(|record| (record.queue_unread, record.unread_by.clone()))
}

/// Whether a node that learns of `op` must wake its lost-chat timer: a chat started waiting.
pub(super) fn queues_a_chat(op: &DeskOp) -> bool {
    match op {
        DeskOp::Enqueue { .. } | DeskOp::Reopen { .. } | DeskOp::Decline { .. } => true,
        DeskOp::Macro { ops, .. } => ops.iter().any(queues_a_chat),
        _ => false,
    }
}

impl Attendance {
    /// Applies `op` on the book caught up with the log and logs it (as `logging` says),
    /// without carrying out its notices.
    pub(super) async fn execute_quietly(
        &self,
        op: &DeskOp,
        logging: Logging,
    ) -> Result<Applied, AttendanceError> {
        let mut inner = self.inner.lock().await;
        // A requester's message (most of the traffic) changes the log rarely: it is applied
        // on the book as it stands, and only a write finding the log moved on catches up.
        let catch_up_first = !matches!(logging, Logging::WhenUnreadChanged);
        self.change_and_log(&mut inner, catch_up_first, |book| {
            let before = unread_marks(book, op);
            let applied = book.apply(op)?;
            let logged = match logging {
                Logging::Always => true,
                Logging::WhenUnreadChanged => unread_marks(book, op) != before,
                Logging::Never => false,
            };
            Ok((logged.then(|| op.clone()), applied))
        })
        .await
    }

    /// Runs `change` on the book caught up with the log, then logs the operation it returns
    /// (none: it changed nothing worth logging). `change` applies that operation itself and
    /// changes nothing when it fails. When another node logged first, the book is rebuilt
    /// and `change` runs again on the new state, at most [`MAX_ATTEMPTS`] times in all. The
    /// caller holds the lock throughout, so the log's order is this book's. Without
    /// `catch_up_first`, the first attempt runs on the book as it stands (no store read when
    /// nothing is logged); the append's expected position still guards the log.
    pub(super) async fn change_and_log<T>(
        &self,
        inner: &mut Inner,
        catch_up_first: bool,
        mut change: impl FnMut(&mut DeskBook) -> Result<(Option<DeskOp>, T), AttendanceError>,
    ) -> Result<T, AttendanceError> {
        let mut attempt = 1;
        loop {
            if catch_up_first || attempt > 1 {
                self.catch_up_locked(inner).await?;
            }
            let (op, result) = change(&mut inner.book)?;
            let Some(op) = op else {
                return Ok(result);
            };
            match self.append(inner, &op).await {
                Ok(()) => return Ok(result),
                Err(AttendanceError::Store(StoreError::DeskLogConflict { .. }))
                    if attempt < MAX_ATTEMPTS =>
                {
                    tracing::debug!(attempt, "another node logged first; trying again");
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Appends `op`, already applied to the book, to the desk log at the book's position
    /// (and takes a snapshot when one is due). When the append fails, the book holds an
    /// operation the log does not: it is rebuilt from the store.
    async fn append(&self, inner: &mut Inner, op: &DeskOp) -> Result<(), AttendanceError> {
        let text = serde_json::to_string(op).map_err(|error| corrupt(0, error))?;
        match self.store.desk_append_after(&text, inner.last_seq).await {
            Ok(seq) => inner.last_seq = seq,
            Err(error) => {
                if !matches!(error, StoreError::DeskLogConflict { .. }) {
                    tracing::error!(%error, "desk log append failed; reloading the desk");
                }
                self.reload(inner).await;
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

    /// Rebuilds the book from the store; when that fails too, the next catch-up tries again.
    async fn reload(&self, inner: &mut Inner) {
        match load_book(self.store.as_ref()).await {
            Ok(reloaded) => {
                *inner = reloaded;
                // Whatever the other nodes queued is in it now.
                self.wake.notify_one();
            }
            Err(error) => {
                tracing::warn!(%error, "the desk could not be reloaded; trying again later");
                inner.stale = true;
            }
        }
    }

    /// Applies what other nodes logged after this book's position, without carrying it out.
    pub async fn catch_up(&self) -> Result<(), AttendanceError> {
        let mut inner = self.inner.lock().await;
        self.catch_up_locked(&mut inner).await
    }

    /// Reads the book after catching up with what other nodes logged: for a request that
    /// found no trace of something another node may have just logged (a person registered
    /// there a moment ago), so that it is not refused on a stale view.
    pub async fn book_fresh<T>(
        &self,
        read: impl FnOnce(&DeskBook) -> T,
    ) -> Result<T, AttendanceError> {
        let mut inner = self.inner.lock().await;
        self.catch_up_locked(&mut inner).await?;
        Ok(read(&inner.book))
    }

    async fn catch_up_locked(&self, inner: &mut Inner) -> Result<(), AttendanceError> {
        if inner.stale {
            *inner = load_book(self.store.as_ref()).await?;
            self.wake.notify_one();
            return Ok(());
        }
        let tail = self.store.desk_ops_after(inner.last_seq).await?;
        if tail.snapshot_through > inner.last_seq {
            // Operations this book never saw were dropped with another node's snapshot.
            *inner = load_book(self.store.as_ref()).await?;
            self.wake.notify_one();
            return Ok(());
        }
        inner.snapshot_seq = inner.snapshot_seq.max(tail.snapshot_through);
        let mut queued = false;
        for (seq, text) in tail.ops {
            let op = inner.replay(seq, &text)?;
            queued |= queues_a_chat(&op);
        }
        // The lost-chat timer may run on this node: a chat queued elsewhere has a deadline.
        if queued {
            self.wake.notify_one();
        }
        Ok(())
    }
}

/// Keeps `attendance` caught up with what other nodes log, every [`CATCH_UP_EVERY`], until
/// `stop` turns true.
pub async fn follow(attendance: Arc<Attendance>, mut stop: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(CATCH_UP_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        if let Err(error) = attendance.catch_up().await {
            tracing::warn!(%error, "the desk could not catch up with the log; trying again");
        }
    }
}
