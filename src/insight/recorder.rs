//! The recorder: the requester's and the desk's paths hand it what happened (a
//! [`ReportBatch`] each) without waiting, and one background task writes them to the store
//! in batches, off the hot path. [`Recorder::flush`] waits until everything handed over
//! before it is written, so a report asked for on this node sees its own node's facts.
//!
//! The queue is bounded ([`CAPACITY`] facts): when the store cannot keep up (or is down for
//! long), the newest facts are dropped and counted rather than slowing conversations down.
//! A write that fails is tried again [`ATTEMPTS`] times, a little later each time. Facts
//! still queued when the process dies are lost: the reports are statistics of the
//! conversations, which themselves are stored durably before anyone is answered.

use crate::store::{ReportBatch, Store};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How many facts may wait to be written.
pub const CAPACITY: usize = 100_000;

/// Most facts written in one transaction.
pub const BATCH_FACTS: usize = 4_096;

/// How many times a failing write is tried.
pub const ATTEMPTS: u32 = 4;

/// How long the writer gathers facts after the first of a batch (a flush cuts it short):
/// a busy conversation's texts within it become one merged row, and the store sees a few
/// writes a second instead of one per message.
pub const LINGER: Duration = Duration::from_millis(50);

enum Entry {
    Facts(ReportBatch),
    Flush(oneshot::Sender<()>),
}

/// Hands facts to the store in the background. Cheap to share.
pub struct Recorder {
    store: Arc<dyn Store>,
    sender: OnceLock<mpsc::UnboundedSender<Entry>>,
    /// Facts handed over and not yet written (bounds the queue).
    queued: Arc<AtomicUsize>,
    dropped: AtomicU64,
    /// Off: facts are dropped at once (the reports then show nothing new).
    on: bool,
}

impl Recorder {
    pub fn new(store: Arc<dyn Store>) -> Recorder {
        Recorder {
            store,
            sender: OnceLock::new(),
            queued: Arc::new(AtomicUsize::new(0)),
            dropped: AtomicU64::new(0),
            on: true,
        }
    }

    /// A recorder that records nothing (`PONTE_RECORD_REPORTS=false`).
    pub fn off(store: Arc<dyn Store>) -> Recorder {
        Recorder {
            on: false,
            ..Recorder::new(store)
        }
    }

    /// The writer task's queue, started on first use (it needs a runtime).
    fn sender(&self) -> Option<&mpsc::UnboundedSender<Entry>> {
        if let Some(sender) = self.sender.get() {
            return Some(sender);
        }
        let handle = tokio::runtime::Handle::try_current().ok()?;
        Some(self.sender.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            handle.spawn(write_loop(
                self.store.clone(),
                receiver,
                self.queued.clone(),
            ));
            sender
        }))
    }

    /// Hands `facts` over; returns at once. Dropped (and counted) when the queue is full.
    pub fn record(&self, facts: impl Into<ReportBatch>) {
        let batch = facts.into();
        let size = batch.len();
        if size == 0 || !self.on {
            return;
        }
        if self.queued.load(Ordering::Relaxed) + size > CAPACITY {
            let before = self.dropped.fetch_add(size as u64, Ordering::Relaxed);
            if before == 0 || (before / 10_000) != ((before + size as u64) / 10_000) {
                tracing::warn!(
                    dropped = before + size as u64,
                    "report facts dropped: the store does not keep up"
                );
            }
            return;
        }
        let Some(sender) = self.sender() else {
            return;
        };
        self.queued.fetch_add(size, Ordering::Relaxed);
        if sender.send(Entry::Facts(batch)).is_err() {
            self.queued.fetch_sub(size, Ordering::Relaxed);
        }
    }

    /// Waits until everything recorded before this call is written (or given up on).
    pub async fn flush(&self) {
        let Some(sender) = self.sender() else {
            return;
        };
        let (done, written) = oneshot::channel();
        if sender.send(Entry::Flush(done)).is_ok() {
            let _ = written.await;
        }
    }

    /// Facts dropped because the queue was full, since start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Writes what arrives, gathering what comes within [`LINGER`] of the first into one batch.
async fn write_loop(
    store: Arc<dyn Store>,
    mut receiver: mpsc::UnboundedReceiver<Entry>,
    queued: Arc<AtomicUsize>,
) {
    while let Some(first) = receiver.recv().await {
        let mut gathering = Gathering::default();
        let mut flushes = Vec::new();
        let deadline = tokio::time::Instant::now() + LINGER;
        let mut next = Some(first);
        while let Some(entry) = next.take() {
            match entry {
                Entry::Facts(facts) => gathering.add(facts),
                Entry::Flush(done) => flushes.push(done),
            }
            if gathering.facts < BATCH_FACTS && flushes.is_empty() {
                next = tokio::time::timeout_at(deadline, receiver.recv())
                    .await
                    .ok()
                    .flatten();
            } else if gathering.facts < BATCH_FACTS {
                // Someone waits: write what has come, no lingering.
                next = receiver.try_recv().ok();
            }
        }
        if gathering.facts > 0 {
            write(store.as_ref(), gathering.batch).await;
            queued.fetch_sub(gathering.facts, Ordering::Relaxed);
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// A batch being gathered: each conversation's partial rows merged into one as they come
/// (see [`crate::store::ReportUpdate::merge`]), the other facts kept in their order.
#[derive(Default)]
struct Gathering {
    batch: ReportBatch,
    /// Where each conversation's row is in the batch.
    rows: HashMap<String, usize>,
    /// Facts handed over (before merging).
    facts: usize,
}

impl Gathering {
    fn add(&mut self, facts: ReportBatch) {
        self.facts += facts.len();
        for update in facts.conversations {
            match self.rows.get(&update.conversation_id) {
                Some(&at) => self.batch.conversations[at].merge(update),
                None => {
                    self.rows.insert(
                        update.conversation_id.clone(),
                        self.batch.conversations.len(),
                    );
                    self.batch.conversations.push(update);
                }
            }
        }
        self.batch.texts.extend(facts.texts);
        self.batch.articles.extend(facts.articles);
        self.batch.presence.extend(facts.presence);
    }
}

async fn write(store: &dyn Store, batch: ReportBatch) {
    let mut pause = Duration::from_millis(100);
    for attempt in 1..=ATTEMPTS {
        match store.record_report(batch.clone()).await {
            Ok(()) => return,
            Err(error) if attempt < ATTEMPTS => {
                tracing::warn!(%error, attempt, "writing report facts failed; trying again");
                tokio::time::sleep(pause).await;
                pause *= 4;
            }
            Err(error) => {
                tracing::error!(%error, facts = batch.len(), "report facts lost");
            }
        }
    }
}
