//! Live delivery: the event bus every live event crosses ([`bus`]; between nodes over NATS,
//! [`nats`]) and the exactly-once feed of a conversation built on it.
//!
//! The orchestrator publishes every message ([`EventBus::publish_message`]) right after the
//! store committed it, while it still holds the conversation's lock, so a conversation's
//! messages are published in `seq` order. The in-process [`LocalBus`] keeps one bounded tokio
//! `broadcast` channel per conversation that has subscribers; it is created on the first
//! [`EventBus::subscribe`] and dropped once no receiver is left.
//!
//! A [`Feed`] turns the bus and the store into "every message after N, each exactly once":
//! it subscribes *first*, then reads the store after N (paged), remembers the last `seq` it
//! handed out and from then on forwards live messages, skipping any `seq` at or below it. A
//! message committed before the subscription is in the store read; one committed after it is
//! in the channel; one in both is skipped the second time. When the receiver lags (the channel
//! overflowed) or a live message is not the next `seq`, the feed reads the store again after
//! the last `seq` it handed out, so a slow client never sees a gap. Because the store is the
//! source of truth, a client resuming after a server restart gets the same guarantee.
//!
//! Besides messages, a conversation's channel carries signals ([`FeedEvent`]s): short-lived
//! notices that are not part of the transcript (the requester's queue position and estimated
//! wait, the attendant joining, one side typing, one side having read up to a `seq`). They
//! are delivered to whoever listens at that moment and never replayed; the state they
//! describe can always be read again through the REST API (typing is not state: it is simply
//! gone after a few seconds).

pub mod bus;
pub mod nats;

pub use bus::{
    AttendantStatus, CHANNEL_CAPACITY, Delivery, EventBus, FeedEvent, Link, LocalBus,
    STAFF_CAPACITY, Side, Specialist, StaffEvent, StaffNotice,
};

use crate::store::{Message, Store, StoreError};
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::broadcast::{self, error::RecvError};

/// Page size of the store reads of a [`Feed`].
const PAGE: u32 = 200;

/// What a conversation's channel (and a [`Feed`]) delivers.
#[derive(Debug, Clone)]
pub enum Live {
    Message(Message),
    Signal(Arc<FeedEvent>),
}

/// Every message of one conversation after a sequence number, each exactly once, in order:
/// first from the store, then live. See the module documentation.
pub struct Feed {
    store: Arc<dyn Store>,
    receiver: broadcast::Receiver<Delivery>,
    conversation_id: String,
    /// The last `seq` handed out (or the `after` asked for).
    last: i64,
    /// Read from the store, not yet handed out.
    backlog: VecDeque<Message>,
    /// Whether the store has nothing after `last` that the channel will not bring.
    caught_up: bool,
}

impl Feed {
    /// Subscribes at once (before anything is read from the store).
    pub fn new(
        bus: &dyn EventBus,
        store: Arc<dyn Store>,
        conversation_id: &str,
        after: i64,
    ) -> Feed {
        let receiver = bus.subscribe(conversation_id);
        Feed {
            store,
            receiver,
            conversation_id: conversation_id.to_string(),
            last: after.max(0),
            backlog: VecDeque::new(),
            caught_up: false,
        }
    }

    /// The last `seq` handed out.
    pub fn last_seq(&self) -> i64 {
        self.last
    }

    /// The next message, skipping signals; `None` when the bus closed. Cancel-safe.
    pub async fn next(&mut self) -> Result<Option<Message>, StoreError> {
        loop {
            match self.next_live().await? {
                Some(Live::Message(message)) => return Ok(Some(message)),
                Some(Live::Signal(_)) => continue,
                None => return Ok(None),
            }
        }
    }

    /// The next message or signal; `None` when the bus closed. Cancel-safe (usable in
    /// `select!`): nothing is lost when the future is dropped before it completes.
    pub async fn next_live(&mut self) -> Result<Option<Live>, StoreError> {
        loop {
            if let Some(message) = self.backlog.pop_front() {
                if message.seq > self.last {
                    self.last = message.seq;
                    return Ok(Some(Live::Message(message)));
                }
                continue;
            }
            if !self.caught_up {
                let page = self
                    .store
                    .messages_after(&self.conversation_id, self.last, PAGE)
                    .await?;
                self.caught_up = page.len() < PAGE as usize;
                self.backlog.extend(page);
                continue;
            }
            match self.receiver.recv().await {
                Ok(Delivery::Signal(signal)) => return Ok(Some(Live::Signal(signal))),
                Ok(Delivery::Message(message)) if message.seq <= self.last => continue,
                Ok(Delivery::Message(message)) if message.seq == self.last + 1 => {
                    self.last = message.seq;
                    return Ok(Some(Live::Message(Arc::unwrap_or_clone(message))));
                }
                // A gap (a message was missed) or an overflow: the store has them all.
                Ok(_) | Err(RecvError::Lagged(_)) => self.caught_up = false,
                Err(RecvError::Closed) => return Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{self, Channel, ConversationStatus, NewConversation, NewMessage};
    use std::time::Duration;

    async fn fixture() -> (tempfile::TempDir, Arc<dyn Store>) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("live.db").display());
        let store = store::open(&url, Default::default()).await.unwrap();
        store
            .create_conversation(NewConversation {
                id: "c".to_string(),
                channel: Channel::Web,
                requester_id: "ana".to_string(),
                language: crate::lang::Language::En,
                status: ConversationStatus::Bot,
                queue_group: None,
                machine_state: serde_json::json!({}),
            })
            .await
            .unwrap();
        (dir, store)
    }

    async fn append(store: &Arc<dyn Store>, body: &str) -> Message {
        store
            .append_message(NewMessage {
                conversation_id: "c".to_string(),
                sender_kind: store::SenderKind::Requester,
                sender_id: None,
                body: body.to_string(),
                payload: None,
                client_message_id: None,
            })
            .await
            .unwrap()
            .message
    }

    async fn take(feed: &mut Feed, count: usize) -> Vec<i64> {
        let mut seqs = Vec::new();
        for _ in 0..count {
            let next = tokio::time::timeout(Duration::from_secs(5), feed.next());
            seqs.push(next.await.unwrap().unwrap().unwrap().seq);
        }
        seqs
    }

    async fn quiet(feed: &mut Feed) -> bool {
        tokio::time::timeout(Duration::from_millis(100), feed.next())
            .await
            .is_err()
    }

    #[tokio::test]
    async fn a_message_both_stored_and_published_is_delivered_once() {
        let (_dir, store) = fixture().await;
        let hub = LocalBus::new();
        let mut stored = Vec::new();
        for body in ["a", "b", "c"] {
            stored.push(append(&store, body).await);
        }
        // Subscribed after 1..=3 were committed but before they were published (the race
        // the orchestrator's commit-then-publish order allows).
        let mut feed = Feed::new(&hub, store.clone(), "c", 0);
        let fourth = append(&store, "d").await;
        for message in stored.iter().skip(1).chain([&fourth]) {
            hub.publish_message(message);
        }
        assert_eq!(take(&mut feed, 4).await, [1, 2, 3, 4]);
        assert!(quiet(&mut feed).await);
        let fifth = append(&store, "e").await;
        hub.publish_message(&fifth);
        hub.publish_message(&fifth);
        assert_eq!(take(&mut feed, 1).await, [5]);
        assert!(quiet(&mut feed).await);
    }

    #[tokio::test]
    async fn a_lagging_receiver_recovers_every_message_from_the_store() {
        let (_dir, store) = fixture().await;
        let hub = LocalBus::new();
        let mut feed = Feed::new(&hub, store.clone(), "c", 0);
        assert!(quiet(&mut feed).await);
        let burst = CHANNEL_CAPACITY * 3;
        for index in 0..burst {
            let message = append(&store, &index.to_string()).await;
            hub.publish_message(&message);
        }
        let seqs = take(&mut feed, burst).await;
        assert_eq!(seqs, (1..=burst as i64).collect::<Vec<_>>());
        assert!(quiet(&mut feed).await);
        assert_eq!(feed.last_seq(), burst as i64);
    }

    #[tokio::test]
    async fn a_gap_in_the_live_messages_is_filled_from_the_store() {
        let (_dir, store) = fixture().await;
        let hub = LocalBus::new();
        let mut feed = Feed::new(&hub, store.clone(), "c", 0);
        assert!(quiet(&mut feed).await);
        append(&store, "unpublished").await;
        let second = append(&store, "published").await;
        hub.publish_message(&second);
        assert_eq!(take(&mut feed, 2).await, [1, 2]);
    }

    #[tokio::test]
    async fn channels_go_when_their_receivers_do_and_close_ends_feeds() {
        let (_dir, store) = fixture().await;
        let hub = LocalBus::new();
        let receiver = hub.subscribe("c");
        assert_eq!(hub.channels(), 1);
        drop(receiver);
        let message = append(&store, "a").await;
        hub.publish_message(&message);
        assert_eq!(hub.channels(), 0);

        let mut feed = Feed::new(&hub, store.clone(), "c", 0);
        assert_eq!(take(&mut feed, 1).await, [1]);
        hub.close();
        assert!(feed.next().await.unwrap().is_none());
        let mut later = Feed::new(&hub, store.clone(), "c", 0);
        assert_eq!(take(&mut later, 1).await, [1]);
        assert!(later.next().await.unwrap().is_none());
        assert_eq!(hub.channels(), 0);
    }
}
