//! This node's events on their way to the stream, in the order they came, gathered into
//! batches: one NATS message (one publish, one ack, one delivery to each node) carries every
//! event that arrived within [`LINGER`] of the previous batch, so the cost per event falls as
//! the load rises, and an event on a quiet node still leaves at once, alone. At most
//! [`WINDOW`] batches await their acks; each has a message id (node id and a counter) and is
//! never changed once sent. A batch leaves the queue only once JetStream acknowledged it.
//! When an ack fails (the server is gone, the stream too) or the connection comes back, every
//! batch not yet acknowledged is published again in order, and JetStream drops the ones it
//! had stored already (same id within the duplicate window). While NATS is away nothing is
//! sent and the queue holds up to [`CAPACITY`] events; past that the oldest batches go (a
//! conversation's messages are still in the store, and a notice describes state that can be
//! read again).

use super::{MESSAGE_ID_HEADER, NODE_HEADER};
use async_nats::jetstream::{self, message::PublishMessage};
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::future::BoxFuture;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// Batches published and not yet acknowledged, at most: few, so that what comes meanwhile
/// gathers into the next batch instead of leaving as many small messages.
const WINDOW: usize = 4;

/// How long the newest batch may wait for more events when the previous one left less than
/// this ago: under steady traffic a node publishes at most one batch per `LINGER` (an ack
/// comes back far sooner than events stop coming, so the window alone would send nearly
/// every event on its own); after a quiet spell the first event leaves at once.
const LINGER: Duration = Duration::from_millis(1);

/// Events in one batch, at most.
const BATCH_EVENTS: usize = 512;

/// Payload bytes of one batch, at most (NATS refuses messages over its `max_payload`, 1 MiB
/// by default); an event larger than this leaves alone.
const BATCH_BYTES: usize = 256 * 1024;

/// Events waiting for NATS, at most.
pub(super) const CAPACITY: usize = 10_000;

/// First pause after a failure; it doubles up to [`MAX_BACKOFF`] while failures go on.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// One event for the other nodes, serialized as an element of a batch's JSON array.
pub(super) struct Outgoing {
    pub entry: Bytes,
}

/// Events that leave as one NATS message: their JSON array.
#[derive(Debug)]
struct Batch {
    entries: Vec<Bytes>,
    bytes: usize,
    id: String,
    /// Set when first sent: from then on the batch does not change (a copy sent again must
    /// be the same message for JetStream to drop it).
    payload: Option<Bytes>,
}

impl Batch {
    fn new(id: String) -> Batch {
        Batch {
            entries: Vec::new(),
            bytes: 2,
            id,
            payload: None,
        }
    }

    /// Whether `entry` may join this batch.
    fn takes(&self, entry: &Bytes) -> bool {
        self.payload.is_none()
            && (self.entries.is_empty()
                || (self.entries.len() < BATCH_EVENTS
                    && self.bytes + 1 + entry.len() <= BATCH_BYTES))
    }

    fn push(&mut self, entry: Bytes) {
        self.bytes += entry.len() + usize::from(!self.entries.is_empty());
        self.entries.push(entry);
    }

    /// The JSON array of the entries, made once.
    fn payload(&mut self) -> Bytes {
        self.payload
            .get_or_insert_with(|| {
                let mut payload = BytesMut::with_capacity(self.bytes);
                payload.put_u8(b'[');
                for (index, entry) in self.entries.iter().enumerate() {
                    if index > 0 {
                        payload.put_u8(b',');
                    }
                    payload.put_slice(entry);
                }
                payload.put_u8(b']');
                payload.freeze()
            })
            .clone()
    }
}

/// The batches not yet acknowledged, oldest first, and how many events they hold.
#[derive(Debug, Default)]
struct Queue {
    batches: VecDeque<Batch>,
    events: usize,
    /// Batches made so far: the counter of the next message id.
    made: u64,
    /// Events dropped because NATS was away too long.
    dropped: u64,
}

impl Queue {
    /// Adds `entry` to the newest batch not yet sent, or to a new one; past [`CAPACITY`]
    /// events the oldest batch goes, and whether it did is returned so that the caller
    /// forgets the ack it awaited for it.
    fn push(&mut self, node: &str, entry: Bytes) -> bool {
        let mut gone = false;
        if self.events >= CAPACITY
            && let Some(oldest) = self.batches.pop_front()
        {
            self.events -= oldest.entries.len();
            self.dropped += oldest.entries.len() as u64;
            gone = true;
            tracing::warn!(
                dropped = self.dropped,
                "NATS is away too long: the oldest live events were dropped"
            );
        }
        if !self.batches.back().is_some_and(|batch| batch.takes(&entry)) {
            self.made += 1;
            self.batches
                .push_back(Batch::new(format!("{node}-{}", self.made)));
        }
        if let Some(batch) = self.batches.back_mut() {
            batch.push(entry);
        }
        self.events += 1;
        gone
    }

    /// Forgets the oldest batch, acknowledged.
    fn acknowledged(&mut self) {
        if let Some(batch) = self.batches.pop_front() {
            self.events -= batch.entries.len();
        }
    }
}

type Ack =
    BoxFuture<'static, Result<jetstream::publish::PublishAck, jetstream::context::PublishError>>;

pub(super) struct Relay {
    pub jetstream: jetstream::Context,
    pub stream: jetstream::stream::Config,
    pub client: async_nats::Client,
    pub node: String,
    /// The subject of this node's batches.
    pub subject: String,
    /// How many events wait for an ack (for `/health`).
    pub backlog: Arc<AtomicUsize>,
}

impl Relay {
    pub(super) async fn run(
        self,
        mut incoming: mpsc::UnboundedReceiver<Outgoing>,
        mut connected: watch::Receiver<u64>,
    ) {
        connected.mark_unchanged();
        // `acks[i]` is the ack of `queue.batches[i]`; the batches after `acks.len()` are not
        // sent yet.
        let mut queue = Queue::default();
        let mut acks: VecDeque<Ack> = VecDeque::new();
        let mut retry_at: Option<Instant> = None;
        // When the last batch left, and until when the newest one waits for company.
        let mut last_sent: Option<Instant> = None;
        let mut linger_at: Option<Instant> = None;
        let mut backoff = MIN_BACKOFF;
        // Set when an ack said the stream is gone: get or create it before sending again.
        let mut lost_stream = false;
        loop {
            if retry_at.is_none() && self.is_connected() {
                if lost_stream {
                    lost_stream = !self.recreate_stream().await;
                    if lost_stream {
                        retry_at = Some(Instant::now() + backoff);
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
                while !lost_stream && acks.len() < queue.batches.len().min(WINDOW) {
                    let index = acks.len();
                    if let Some(at) = linger_until(&queue, index, last_sent) {
                        linger_at = Some(at);
                        break;
                    }
                    let batch = &mut queue.batches[index];
                    match self.send(batch).await {
                        Ok(ack) => {
                            acks.push_back(ack);
                            last_sent = Some(Instant::now());
                        }
                        Err(error) => {
                            tracing::debug!(%error, "events could not be sent to the other nodes yet");
                            retry_at = Some(Instant::now() + backoff);
                            backoff = (backoff * 2).min(MAX_BACKOFF);
                            break;
                        }
                    }
                }
            }
            if retry_at.is_none() && acks.len() < queue.batches.len() && !self.is_connected() {
                // Look again soon: the reconnection may be told before the state shows it.
                retry_at = Some(Instant::now() + MAX_BACKOFF / 4);
            }
            self.backlog.store(queue.events, Ordering::Relaxed);
            let waiting = retry_at;
            let lingering = linger_at.take();
            tokio::select! {
                event = incoming.recv() => {
                    let Some(event) = event else { return };
                    // Everything already waiting joins the same batch.
                    let mut next = Some(event);
                    while let Some(event) = next {
                        if queue.push(&self.node, event.entry) && !acks.is_empty() {
                            acks.pop_front();
                        }
                        next = incoming.try_recv().ok();
                    }
                }
                ack = next_ack(&mut acks) => {
                    acks.pop_front();
                    match ack {
                        Ok(_) => {
                            queue.acknowledged();
                            backoff = MIN_BACKOFF;
                        }
                        Err(error) => {
                            tracing::warn!(%error, waiting = queue.events, "events did not reach NATS; they will be sent again");
                            lost_stream = error.kind() == jetstream::context::PublishErrorKind::StreamNotFound;
                            // Everything after it too, in order: JetStream drops the copies.
                            acks.clear();
                            retry_at = Some(Instant::now() + backoff);
                            backoff = (backoff * 2).min(MAX_BACKOFF);
                        }
                    }
                }
                _ = sleep_until(waiting), if waiting.is_some() => retry_at = None,
                _ = sleep_until(lingering), if lingering.is_some() => {}
                changed = connected.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    // Back: what was in flight may be lost with the old connection.
                    acks.clear();
                    retry_at = None;
                    backoff = MIN_BACKOFF;
                }
            }
        }
    }

    fn is_connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    async fn send(&self, batch: &mut Batch) -> Result<Ack, jetstream::context::PublishError> {
        let publish = PublishMessage::build()
            .payload(batch.payload())
            .header(NODE_HEADER, self.node.as_str())
            .header(MESSAGE_ID_HEADER, batch.id.as_str());
        let ack = self
            .jetstream
            .send_publish(self.subject.clone(), publish)
            .await?;
        Ok(ack.into_future())
    }

    /// Whether the stream is there (again).
    async fn recreate_stream(&self) -> bool {
        match self
            .jetstream
            .get_or_create_stream(self.stream.clone())
            .await
        {
            Ok(_) => true,
            Err(error) => {
                tracing::warn!(%error, "the live stream cannot be made yet");
                false
            }
        }
    }
}

/// Until when the batch at `index`, next to send, waits for more events: only the newest
/// batch, not yet full and never sent, while the previous one left less than [`LINGER`] ago.
fn linger_until(queue: &Queue, index: usize, last_sent: Option<Instant>) -> Option<Instant> {
    let batch = &queue.batches[index];
    let newest = index + 1 == queue.batches.len();
    let open = batch.payload.is_none() && batch.entries.len() < BATCH_EVENTS;
    let until = last_sent? + LINGER;
    (newest && open && Instant::now() < until).then_some(until)
}

/// The first ack in flight; never, when none is.
async fn next_ack(
    acks: &mut VecDeque<Ack>,
) -> Result<jetstream::publish::PublishAck, jetstream::context::PublishError> {
    match acks.front_mut() {
        Some(ack) => ack.await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(text: &str) -> Bytes {
        Bytes::from(format!("{text:?}"))
    }

    #[test]
    fn events_waiting_together_leave_as_one_json_array_in_order() {
        let mut queue = Queue::default();
        for text in ["a", "b", "c"] {
            assert!(!queue.push("n", entry(text)));
        }
        assert_eq!(queue.batches.len(), 1);
        assert_eq!(queue.events, 3);
        let batch = &mut queue.batches[0];
        assert_eq!(batch.id, "n-1");
        let payload = batch.payload();
        assert_eq!(&payload[..], br#"["a","b","c"]"#);
        assert_eq!(batch.bytes, payload.len());
        let parsed: Vec<String> = serde_json::from_slice(&payload).unwrap();
        assert_eq!(parsed, ["a", "b", "c"]);
    }

    #[test]
    fn a_batch_once_sent_never_changes_and_later_events_start_the_next() {
        let mut queue = Queue::default();
        queue.push("n", entry("a"));
        let sent = queue.batches[0].payload();
        queue.push("n", entry("b"));
        assert_eq!(queue.batches.len(), 2);
        assert_eq!(queue.batches[0].payload(), sent);
        assert_eq!(queue.batches[1].id, "n-2");
        queue.acknowledged();
        assert_eq!(queue.events, 1);
        assert_eq!(&queue.batches[0].payload()[..], br#"["b"]"#);
    }

    #[test]
    fn a_batch_holds_at_most_its_event_count_and_bytes_but_a_large_event_still_leaves() {
        let mut queue = Queue::default();
        for index in 0..BATCH_EVENTS + 1 {
            queue.push("n", entry(&index.to_string()));
        }
        assert_eq!(queue.batches.len(), 2);
        assert_eq!(queue.batches[0].entries.len(), BATCH_EVENTS);

        let mut queue = Queue::default();
        let half = "x".repeat(BATCH_BYTES / 2);
        queue.push("n", entry(&half));
        queue.push("n", entry(&half));
        assert_eq!(
            queue.batches.len(),
            2,
            "two halves and their quotes overflow"
        );
        let huge = "y".repeat(BATCH_BYTES * 2);
        queue.push("n", entry(&huge));
        assert_eq!(queue.batches.len(), 3);
        for batch in &mut queue.batches {
            let bytes = batch.bytes;
            assert_eq!(batch.payload().len(), bytes);
        }
    }

    #[test]
    fn only_the_newest_open_batch_lingers_and_only_right_after_a_send() {
        let mut queue = Queue::default();
        queue.push("n", entry("a"));
        let now = Instant::now();
        // After a quiet spell (or at start) the first event leaves at once.
        assert_eq!(linger_until(&queue, 0, None), None);
        assert_eq!(linger_until(&queue, 0, Some(now - LINGER * 2)), None);
        assert_eq!(linger_until(&queue, 0, Some(now)), Some(now + LINGER));
        // A batch sealed by a send (being sent again) or followed by another leaves at once.
        queue.batches[0].payload();
        queue.push("n", entry("b"));
        assert_eq!(linger_until(&queue, 0, Some(now)), None);
        assert_eq!(linger_until(&queue, 1, Some(now)), Some(now + LINGER));
        // A full one too.
        for index in 1..BATCH_EVENTS {
            queue.push("n", entry(&index.to_string()));
        }
        assert_eq!(queue.batches[1].entries.len(), BATCH_EVENTS);
        assert_eq!(linger_until(&queue, 1, Some(now)), None);
    }

    #[test]
    fn past_capacity_the_oldest_batch_goes_and_the_count_stays_bounded() {
        let mut queue = Queue::default();
        let mut gone = false;
        for index in 0..CAPACITY {
            gone |= queue.push("n", entry(&index.to_string()));
            if index % BATCH_EVENTS == 0 {
                // Sent: the next events start another batch.
                let last = queue.batches.len() - 1;
                queue.batches[last].payload();
            }
        }
        assert_eq!((gone, queue.events), (false, CAPACITY));
        assert!(queue.push("n", entry("late")));
        assert!(queue.events <= CAPACITY);
        assert!(queue.dropped > 0);
        assert_eq!(queue.events as u64 + queue.dropped, CAPACITY as u64 + 1);
        let oldest: Vec<String> = serde_json::from_slice(&queue.batches[0].payload()).unwrap();
        assert_ne!(oldest[0], "0", "the oldest events went first");
    }
}
