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

/// Writes what arrives, gathering whatever queued meanwhile into one batch.
async fn write_loop(
    store: Arc<dyn Store>,
    mut receiver: mpsc::UnboundedReceiver<Entry>,
    queued: Arc<AtomicUsize>,
) {
    while let Some(first) = receiver.recv().await {
        let mut batch = ReportBatch::default();
        let mut flushes = Vec::new();
        let mut next = Some(first);
        while let Some(entry) = next.take() {
            match entry {
                Entry::Facts(facts) => append(&mut batch, facts),
                Entry::Flush(done) => flushes.push(done),
            }
            if batch.len() < BATCH_FACTS {
                next = receiver.try_recv().ok();
            }
        }
        let size = batch.len();
        if size > 0 {
            write(store.as_ref(), batch).await;
            queued.fetch_sub(size, Ordering::Relaxed);
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

fn append(batch: &mut ReportBatch, facts: ReportBatch) {
    batch.conversations.extend(facts.conversations);
    batch.texts.extend(facts.texts);
    batch.articles.extend(facts.articles);
    batch.presence.extend(facts.presence);
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
