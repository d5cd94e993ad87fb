//! The live event bus: the seam every live event crosses on its way from where it happens to
//! whoever follows it. [`EventBus`] names it; [`LocalBus`] is today's implementation, inside
//! one process: one bounded tokio `broadcast` channel per watched conversation and one for the
//! staff. With several nodes, an implementation carries the same events between processes
//! (a subject per conversation and one for the staff on a message broker, say) and fans them
//! out locally the same way, so nothing above this seam changes.
//!
//! Two streams travel on it:
//! - **Conversation events** ([`Delivery`]): every stored message, published right after the
//!   store committed it, under the conversation's lock (so in `seq` order), and the notices
//!   that are not part of the transcript ([`FeedEvent`]: queue position, the attendant
//!   joining, a streamed answer, a side typing or having read...). A conversation's channel
//!   exists only while someone listens to it.
//! - **Staff events** ([`StaffEvent`]): every desk operation and unread marker, and who is
//!   typing or has read where, for the desk consoles.
//!
//! Delivery inside a process is at most once and a slow receiver lags (between nodes it is at
//! least once, see [`nats`](super::nats)): a [`Feed`](super::Feed) recovers the
//! messages it missed from the store, and a notice describes state the REST API can always
//! read again, so a bus never needs to be durable. Events are typed; each serializes to
//! exactly the JSON frame the WebSocket and SSE clients receive ([`FeedEvent::to_frame`],
//! [`StaffEvent::to_frame`]), which is also what a bus between nodes would carry.

use crate::desk::DeskOp;
use crate::store::Message;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Slots per conversation channel. A lagging receiver recovers from the store, so this only
/// trades memory (the channel allocates every slot up front, for every watched conversation)
/// against store re-reads for a burst of messages.
pub const CHANNEL_CAPACITY: usize = 16;

/// Slots of the staff channel (a console that falls further behind is told how many it
/// missed).
pub const STAFF_CAPACITY: usize = 1024;

/// A notice about a conversation that is not a stored message. Its frame is
/// `{"type": <kind>, ...fields}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FeedEvent {
    /// The requester's place in the queue and the estimated wait.
    QueuePosition {
        position: usize,
        eta_ms: Option<u64>,
    },
    /// Manual routing: the people the requester may pick, and the place in the queue.
    Specialists {
        candidates: Vec<Specialist>,
        position: usize,
        eta_ms: Option<u64>,
    },
    /// The attendant who took the chat.
    Attendant {
        id: String,
        name: String,
        status: AttendantStatus,
    },
    /// Another person joined or left the chat.
    Participant {
        id: String,
        name: String,
        joined: bool,
    },
    /// One streamed piece of a grounded answer.
    AnswerDelta { answer_id: String, text: String },
    /// A grounded answer failed after pieces went out: drop them.
    AnswerAbandoned { answer_id: String },
    /// One side is typing: show it until `until_ms` (unix milliseconds; a client keeps its
    /// own few seconds, clocks differ) unless another comes or its message arrives. Never
    /// stored; at least once between nodes, which shows the same thing twice.
    Typing {
        who: Side,
        /// The typist as the other side knows them (the attendant's name; the requester's
        /// contact name, when they gave one).
        name: Option<String>,
        until_ms: u64,
    },
    /// One side has read the conversation up to `seq` (it only ever grows).
    Read { who: Side, seq: i64 },
}

/// A side of a conversation, in the typing and read events: the requester, or the desk's
/// people serving it (an attendant or an analyst), who share one read position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Requester,
    Attendant,
}

impl From<crate::store::ReadSide> for Side {
    fn from(side: crate::store::ReadSide) -> Self {
        match side {
            crate::store::ReadSide::Requester => Side::Requester,
            crate::store::ReadSide::Attendant => Side::Attendant,
        }
    }
}

/// A person offered by manual routing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Specialist {
    pub id: String,
    pub name: String,
}

/// How an attendant joined a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttendantStatus {
    Online,
}

impl FeedEvent {
    /// The frame's `type` (also the SSE event name).
    pub fn kind(&self) -> &'static str {
        match self {
            FeedEvent::QueuePosition { .. } => "queue_position",
            FeedEvent::Specialists { .. } => "specialists",
            FeedEvent::Attendant { .. } => "attendant",
            FeedEvent::Participant { .. } => "participant",
            FeedEvent::AnswerDelta { .. } => "answer_delta",
            FeedEvent::AnswerAbandoned { .. } => "answer_abandoned",
            FeedEvent::Typing { .. } => "typing",
            FeedEvent::Read { .. } => "read",
        }
    }

    /// The JSON frame sent to clients: `{"type": <kind>, ...fields}`, keys in sorted order.
    pub fn to_frame(&self) -> String {
        sorted_json(self)
    }
}

/// An event of the staff feed. Its frame is `{"type": ..., ...fields}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StaffEvent {
    /// A desk operation, as logged: `{"type": "desk", "op": ..., ...its fields}`.
    Desk(DeskOp),
    /// The requester wrote in a chat a person serves.
    Unread { conversation_id: String },
    /// Someone is typing in a conversation (see [`FeedEvent::Typing`]).
    Typing {
        conversation_id: String,
        who: Side,
        name: Option<String>,
        until_ms: u64,
    },
    /// A side read a conversation up to `seq` (see [`FeedEvent::Read`]).
    Read {
        conversation_id: String,
        who: Side,
        seq: i64,
    },
    /// This receiver fell behind and missed `missed` events (told by the receiving side).
    Lagged { missed: u64 },
}

impl StaffEvent {
    /// The JSON frame sent to staff consoles, keys in sorted order.
    pub fn to_frame(&self) -> String {
        sorted_json(self)
    }
}

/// A staff event as the bus carries it: the event and its frame, serialized once when it is
/// published however many consoles receive it.
#[derive(Debug, PartialEq)]
pub struct StaffNotice {
    pub event: StaffEvent,
    pub frame: String,
}

impl From<StaffEvent> for StaffNotice {
    fn from(event: StaffEvent) -> Self {
        let frame = event.to_frame();
        StaffNotice { event, frame }
    }
}

/// Through a `serde_json::Value`, whose objects keep their keys sorted: the frames keep the
/// exact spelling they had when they were built as values.
fn sorted_json(event: &impl Serialize) -> String {
    serde_json::to_value(event)
        .map(|value| value.to_string())
        .unwrap_or_default()
}

/// What a conversation's subscription receives: a pointer, so that the slots every watched
/// conversation allocates up front stay small (about 50 bytes each instead of a message).
#[derive(Debug, Clone)]
pub enum Delivery {
    Message(Arc<Message>),
    Signal(Arc<FeedEvent>),
}

/// Where live events are published and subscribed to. See the module documentation.
///
/// Subscriptions are local `broadcast` receivers: an implementation between nodes receives
/// from its broker and re-broadcasts locally, keeping one broker subscription per watched
/// conversation per node however many clients watch it.
pub trait EventBus: Send + Sync + 'static {
    /// Sends a stored message to the current subscribers of its conversation (none: nothing
    /// to do).
    fn publish_message(&self, message: &Message);

    /// Sends a notice to whoever follows `conversation_id` now (nobody: dropped).
    fn publish(&self, conversation_id: &str, event: FeedEvent);

    /// A receiver of what is published for `conversation_id` from now on. Once the bus is
    /// closed, a receiver that is already closed.
    fn subscribe(&self, conversation_id: &str) -> broadcast::Receiver<Delivery>;

    /// Sends an event to every staff subscriber.
    fn publish_staff(&self, event: StaffEvent);

    /// A receiver of the staff events published from now on.
    fn subscribe_staff(&self) -> broadcast::Receiver<Arc<StaffNotice>>;

    /// Ends every conversation subscription and every later one: the server is stopping, and
    /// long-lived event streams must not hold up its graceful shutdown. Publishing afterwards
    /// does nothing. (The staff stream is not affected.)
    fn close(&self);

    /// How the link to the other nodes stands; `None` for a bus inside one process.
    fn link(&self) -> Option<Link> {
        None
    }
}

/// The state of a bus's link to the other nodes (what `/health` reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// Whether the broker is reachable now.
    pub connected: bool,
    /// Events of this node not yet acknowledged by the broker.
    pub backlog: usize,
}

/// The in-process bus: one broadcast channel per watched conversation, created on the
/// first subscription and dropped once no receiver is left, and one staff channel.
#[derive(Debug)]
pub struct LocalBus {
    channels: Mutex<HashMap<String, broadcast::Sender<Delivery>>>,
    /// Set by [`EventBus::close`]: the server is stopping.
    closed: AtomicBool,
    staff: broadcast::Sender<Arc<StaffNotice>>,
}

impl Default for LocalBus {
    fn default() -> Self {
        LocalBus {
            channels: Mutex::default(),
            closed: AtomicBool::new(false),
            staff: broadcast::channel(STAFF_CAPACITY).0,
        }
    }
}

impl LocalBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many conversations have a channel now (for tests and metrics).
    pub fn channels(&self) -> usize {
        self.channels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// Whether somebody on this node listens to `conversation_id` now.
    pub fn watched(&self, conversation_id: &str) -> bool {
        self.channels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(conversation_id)
            .is_some_and(|sender| sender.receiver_count() > 0)
    }

    /// Whether somebody on this node listens to the staff feed now.
    pub fn staff_watched(&self) -> bool {
        self.staff.receiver_count() > 0
    }

    fn send(&self, conversation_id: &str, delivery: impl FnOnce() -> Delivery) {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sender) = channels.get(conversation_id)
            && sender.send(delivery()).is_err()
        {
            // Every receiver is gone.
            channels.remove(conversation_id);
        }
    }
}

impl EventBus for LocalBus {
    fn publish_message(&self, message: &Message) {
        self.send(&message.conversation_id, || {
            Delivery::Message(Arc::new(message.clone()))
        });
    }

    fn publish(&self, conversation_id: &str, event: FeedEvent) {
        self.send(conversation_id, || Delivery::Signal(Arc::new(event)));
    }

    fn subscribe(&self, conversation_id: &str) -> broadcast::Receiver<Delivery> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if self.closed.load(Ordering::SeqCst) {
            // A receiver whose sender is already gone: its feed ends at once.
            return broadcast::channel(1).1;
        }
        // Channels whose receivers all went away without a later publish would otherwise
        // stay; sweep them now and then (amortised: only when the map is large).
        if channels.len() >= 1024 && channels.len().is_power_of_two() {
            channels.retain(|_, sender| sender.receiver_count() > 0);
        }
        if let Some(sender) = channels.get(conversation_id) {
            return sender.subscribe();
        }
        let (sender, receiver) = broadcast::channel(CHANNEL_CAPACITY);
        channels.insert(conversation_id.to_string(), sender);
        receiver
    }

    fn publish_staff(&self, event: StaffEvent) {
        // No subscriber: nobody to tell.
        let _ = self.staff.send(Arc::new(event.into()));
    }

    fn subscribe_staff(&self) -> broadcast::Receiver<Arc<StaffNotice>> {
        self.staff.subscribe()
    }

    fn close(&self) {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        self.closed.store(true, Ordering::SeqCst);
        channels.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The frames are those the feeds sent when they were built with `json!`.
    #[test]
    fn events_serialize_to_the_frames_clients_know() {
        let frame = |event: FeedEvent| -> serde_json::Value {
            serde_json::from_str(&event.to_frame()).unwrap()
        };
        assert_eq!(
            frame(FeedEvent::QueuePosition {
                position: 2,
                eta_ms: None
            }),
            json!({ "type": "queue_position", "position": 2, "eta_ms": null })
        );
        assert_eq!(
            FeedEvent::AnswerDelta {
                answer_id: "a".into(),
                text: "Hi".into()
            }
            .to_frame(),
            r#"{"answer_id":"a","text":"Hi","type":"answer_delta"}"#
        );
        assert_eq!(
            frame(FeedEvent::Attendant {
                id: "ana".into(),
                name: "Ana".into(),
                status: AttendantStatus::Online
            }),
            json!({ "type": "attendant", "id": "ana", "name": "Ana", "status": "online" })
        );
        let op = DeskOp::DeleteMacro { id: "m".into() };
        let mut announced = serde_json::to_value(&op).unwrap();
        announced["type"] = json!("desk");
        assert_eq!(
            StaffEvent::Desk(op.clone()).to_frame(),
            announced.to_string()
        );
        assert_eq!(
            StaffEvent::Unread {
                conversation_id: "c".into()
            }
            .to_frame(),
            r#"{"conversation_id":"c","type":"unread"}"#
        );
        assert_eq!(
            StaffEvent::Lagged { missed: 3 }.to_frame(),
            r#"{"missed":3,"type":"lagged"}"#
        );
        assert_eq!(
            frame(FeedEvent::Typing {
                who: Side::Attendant,
                name: Some("Ana".into()),
                until_ms: 7
            }),
            json!({ "type": "typing", "who": "attendant", "name": "Ana", "until_ms": 7 })
        );
        assert_eq!(
            FeedEvent::Read {
                who: Side::Requester,
                seq: 4
            }
            .to_frame(),
            r#"{"seq":4,"type":"read","who":"requester"}"#
        );
        assert_eq!(
            StaffEvent::Typing {
                conversation_id: "c".into(),
                who: Side::Requester,
                name: None,
                until_ms: 9
            }
            .to_frame(),
            r#"{"conversation_id":"c","name":null,"type":"typing","until_ms":9,"who":"requester"}"#
        );
        assert_eq!(
            StaffEvent::Read {
                conversation_id: "c".into(),
                who: Side::Attendant,
                seq: 2
            }
            .to_frame(),
            r#"{"conversation_id":"c","seq":2,"type":"read","who":"attendant"}"#
        );
        // What a bus between nodes would carry comes back as it went.
        let event = StaffEvent::Desk(op);
        let back: StaffEvent = serde_json::from_str(&event.to_frame()).unwrap();
        assert_eq!(back, event);
        for event in [
            FeedEvent::Typing {
                who: Side::Requester,
                name: None,
                until_ms: 1,
            },
            FeedEvent::Read {
                who: Side::Attendant,
                seq: 3,
            },
            FeedEvent::AnswerAbandoned {
                answer_id: "a".into(),
            },
            FeedEvent::Specialists {
                candidates: vec![Specialist {
                    id: "b".into(),
                    name: "B".into(),
                }],
                position: 1,
                eta_ms: Some(5),
            },
        ] {
            let value: serde_json::Value = serde_json::from_str(&event.to_frame()).unwrap();
            assert_eq!(value["type"], event.kind());
            let back: FeedEvent = serde_json::from_value(value).unwrap();
            assert_eq!(back, event);
        }
    }

    #[tokio::test]
    async fn staff_events_reach_every_subscriber_and_close_spares_them() {
        let bus = LocalBus::new();
        bus.publish_staff(StaffEvent::Lagged { missed: 0 });
        let mut first = bus.subscribe_staff();
        let mut second = bus.subscribe_staff();
        bus.close();
        bus.publish_staff(StaffEvent::Unread {
            conversation_id: "c".into(),
        });
        for receiver in [&mut first, &mut second] {
            let event = receiver.recv().await.unwrap();
            assert_eq!(
                event.event,
                StaffEvent::Unread {
                    conversation_id: "c".into()
                }
            );
        }
    }
}
