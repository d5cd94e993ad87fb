//! This node's events on their way to the stream: published in the order they came, with a
//! message id (node id and a counter), up to [`WINDOW`] at once awaiting their acks. An event
//! leaves the queue only once JetStream acknowledged it. When an ack fails (the server is
//! gone, the stream too) or the connection comes back, every event not yet acknowledged is
//! published again in order, and JetStream drops the ones it had stored already (same id
//! within the duplicate window). While NATS is away nothing is sent and the queue holds up to
//! [`CAPACITY`] events; past that the oldest go (a conversation's messages are still in the
//! store, and a notice describes state that can be read again).

use super::{MESSAGE_ID_HEADER, NODE_HEADER};
use async_nats::jetstream::{self, message::PublishMessage};
use bytes::Bytes;
use futures_util::future::BoxFuture;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// Events published and not yet acknowledged, at most.
const WINDOW: usize = 256;

/// Events waiting for NATS, at most.
pub(super) const CAPACITY: usize = 10_000;

/// First pause after a failure; it doubles up to [`MAX_BACKOFF`] while failures go on.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// An event for the other nodes.
pub(super) struct Outgoing {
    pub subject: String,
    pub payload: Bytes,
}

struct Pending {
    subject: String,
    payload: Bytes,
    id: String,
}

type Ack =
    BoxFuture<'static, Result<jetstream::publish::PublishAck, jetstream::context::PublishError>>;

pub(super) struct Relay {
    pub jetstream: jetstream::Context,
    pub stream: jetstream::stream::Config,
    pub client: async_nats::Client,
    pub node: String,
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
        // `acks[i]` is the ack of `queue[i]`; `queue[acks.len()..]` is not sent yet.
        let mut queue: VecDeque<Pending> = VecDeque::new();
        let mut acks: VecDeque<Ack> = VecDeque::new();
        let mut counter: u64 = 0;
        let mut dropped: u64 = 0;
        let mut retry_at: Option<Instant> = None;
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
                while !lost_stream && acks.len() < queue.len().min(WINDOW) {
                    match self.send(&queue[acks.len()]).await {
                        Ok(ack) => acks.push_back(ack),
                        Err(error) => {
                            tracing::debug!(%error, "an event could not be sent to the other nodes yet");
                            retry_at = Some(Instant::now() + backoff);
                            backoff = (backoff * 2).min(MAX_BACKOFF);
                            break;
                        }
                    }
                }
            }
            if retry_at.is_none() && acks.len() < queue.len() && !self.is_connected() {
                // Look again soon: the reconnection may be told before the state shows it.
                retry_at = Some(Instant::now() + MAX_BACKOFF / 4);
            }
            self.backlog.store(queue.len(), Ordering::Relaxed);
            let waiting = retry_at;
            tokio::select! {
                event = incoming.recv() => {
                    let Some(event) = event else { return };
                    counter += 1;
                    if queue.len() == CAPACITY {
                        queue.pop_front();
                        acks.pop_front();
                        dropped += 1;
                        if dropped.is_power_of_two() {
                            tracing::warn!(dropped, "NATS is away too long: the oldest live events were dropped");
                        }
                    }
                    queue.push_back(Pending {
                        subject: event.subject,
                        payload: event.payload,
                        id: format!("{}-{counter}", self.node),
                    });
                }
                ack = next_ack(&mut acks) => {
                    acks.pop_front();
                    match ack {
                        Ok(_) => {
                            queue.pop_front();
                            backoff = MIN_BACKOFF;
                        }
                        Err(error) => {
                            tracing::warn!(%error, waiting = queue.len(), "an event did not reach NATS; it will be sent again");
                            lost_stream = error.kind() == jetstream::context::PublishErrorKind::StreamNotFound;
                            // Everything after it too, in order: JetStream drops the copies.
                            acks.clear();
                            retry_at = Some(Instant::now() + backoff);
                            backoff = (backoff * 2).min(MAX_BACKOFF);
                        }
                    }
                }
                _ = sleep_until(waiting), if waiting.is_some() => retry_at = None,
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

    async fn send(&self, pending: &Pending) -> Result<Ack, jetstream::context::PublishError> {
        let publish = PublishMessage::build()
            .payload(pending.payload.clone())
            .header(NODE_HEADER, self.node.as_str())
            .header(MESSAGE_ID_HEADER, pending.id.as_str());
        let ack = self
            .jetstream
            .send_publish(pending.subject.clone(), publish)
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
