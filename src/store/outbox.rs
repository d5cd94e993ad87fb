//! The records of the bridge to external chat services: bridge definitions, the
//! transactional outbox of events to deliver, every delivery attempt, the receipts of inbound
//! events (deduplication by `webhook-id`) and the durable accept deadlines of hand-offs.
//!
//! An outbox event is written in the same transaction as the step that causes it (see
//! [`Step::outbox`](super::Step::outbox)); nothing is ever sent from memory. Events of one
//! *lane*, a (bridge, conversation) pair, are delivered in `position` order: the dispatcher
//! only ever sees the oldest pending event of a lane ([`Store::due_outbox`]).

use serde::{Deserialize, Serialize};

#[cfg(doc)]
use super::Store;

/// The outbound event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum OutboundType {
    /// A conversation is handed to the bridge: requester, language, channel, ticket,
    /// transcript so far, what the assistant understood and showed.
    #[serde(rename = "handoff.requested")]
    HandoffRequested,
    /// A requester's message (text or attachment links) after the hand-off.
    #[serde(rename = "message.created")]
    MessageCreated,
    /// The requester left before anyone accepted.
    #[serde(rename = "handoff.cancelled")]
    HandoffCancelled,
    /// The conversation ended (closed by the requester or by Ponte).
    #[serde(rename = "conversation.closed")]
    ConversationClosed,
}

impl OutboundType {
    pub const ALL: [OutboundType; 4] = [
        OutboundType::HandoffRequested,
        OutboundType::MessageCreated,
        OutboundType::HandoffCancelled,
        OutboundType::ConversationClosed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboundType::HandoffRequested => "handoff.requested",
            OutboundType::MessageCreated => "message.created",
            OutboundType::HandoffCancelled => "handoff.cancelled",
            OutboundType::ConversationClosed => "conversation.closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// A bridge as stored: its definition (secrets included, as the bridge module's JSON) and
/// whether deliveries run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BridgeRecord {
    pub id: String,
    /// The bridge's definition as JSON (kind, endpoint, secrets, routes...).
    pub config: serde_json::Value,
    pub enabled: bool,
    /// Why deliveries stopped (`gone` after a 410, `admin`...), when `enabled` is false.
    pub disabled_reason: Option<String>,
    /// Unix milliseconds.
    pub updated_at: i64,
}

/// An event to put in the outbox with a step.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutboxEvent {
    /// The `webhook-id`: unique, kept on every retry (the receiver's idempotency key).
    pub id: String,
    pub bridge_id: String,
    pub conversation_id: String,
    /// `handoff.requested`, `message.created`, `handoff.cancelled`, `conversation.closed`.
    pub event_type: String,
    /// The event's `data` object as the bridge module built it.
    pub data: serde_json::Value,
    /// Which message of the step the event is about (an index into
    /// [`Step::messages`](super::Step::messages)): its sequence number becomes the event's
    /// `seq`. Without one, `seq` is the conversation's last sequence number after the step.
    pub message_index: Option<usize>,
}

/// Where an outbox event stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for its turn or its next attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed (or it was given up): kept for replay.
    Dead,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Delivered => "delivered",
            OutboxStatus::Dead => "dead",
        }
    }
}

impl std::str::FromStr for OutboxStatus {
    type Err = super::StoreError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "pending" => Ok(OutboxStatus::Pending),
            "delivered" => Ok(OutboxStatus::Delivered),
            "dead" => Ok(OutboxStatus::Dead),
            other => Err(super::StoreError::InvalidInput(format!(
                "unknown outbox status {other:?}"
            ))),
        }
    }
}

/// A stored outbox event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OutboxEvent {
    /// Global insertion order; within a lane, the delivery order.
    pub position: i64,
    /// The `webhook-id`.
    pub id: String,
    pub bridge_id: String,
    pub conversation_id: String,
    pub event_type: String,
    /// The conversation's sequence number the event is at (a receiver sees gaps by it).
    pub seq: i64,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// Unix milliseconds; the body's `timestamp`.
    pub created_at: i64,
    pub status: OutboxStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// Unix milliseconds: not attempted before.
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
}

/// Who sent a file across a bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileOrigin {
    /// The requester uploaded it in a chat handed to the bridge.
    Requester,
    /// The external desk's agent linked it; Ponte fetched it.
    Agent,
}

impl FileOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            FileOrigin::Requester => "requester",
            FileOrigin::Agent => "agent",
        }
    }
}

impl std::str::FromStr for FileOrigin {
    type Err = super::StoreError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "requester" => Ok(FileOrigin::Requester),
            "agent" => Ok(FileOrigin::Agent),
            other => Err(super::StoreError::InvalidInput(format!(
                "unknown file origin {other:?}"
            ))),
        }
    }
}

/// A file that crossed a bridge (its bytes are stored apart, under the same id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BridgeFile {
    /// Server-made, hex.
    pub id: String,
    pub conversation_id: String,
    pub bridge_id: String,
    pub origin: FileOrigin,
    pub file_name: String,
    pub content_type: String,
    /// `image`, `video`, `audio` or `file`.
    pub kind: String,
    pub size: u64,
    /// Where an agent's file was fetched from.
    pub source_url: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// One delivery attempt, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeliveryAttempt {
    pub event_id: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Unix milliseconds when it started.
    pub at: i64,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    /// Why it failed (timeout, connection refused, status...), when it did.
    pub error: Option<String>,
}

/// What an attempt leads to, recorded with it in one write ([`Store::record_attempt`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered,
    /// Try again at this time (unix milliseconds).
    Retry {
        next_attempt_at: i64,
    },
    /// Give up: the event is dead-lettered.
    Dead,
}

/// Which outbox events to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutboxFilter {
    pub bridge_id: Option<String>,
    pub conversation_id: Option<String>,
    pub status: Option<OutboxStatus>,
    /// Created at or after (unix milliseconds).
    pub since: Option<i64>,
    /// Created before (unix milliseconds).
    pub until: Option<i64>,
    /// Clamped to the store's page size.
    pub limit: u32,
}

/// Which events to deliver again ([`Store::replay_outbox`]): dead or delivered ones go back
/// to pending with their attempts reset, keeping their `webhook-id`; or, for a bridge that
/// answers again after failing, its pending events waiting for a later retry become due now
/// (their attempts kept).
#[derive(Debug, Clone, PartialEq)]
pub enum Replay {
    One {
        event_id: String,
    },
    Range {
        bridge_id: String,
        since: i64,
        until: i64,
    },
    /// The bridge's pending events due after `now` become due at `now`.
    Hasten {
        bridge_id: String,
    },
}

/// A bridge's delivery health.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BridgeHealth {
    /// Unix milliseconds of the last 2xx.
    pub last_success_at: Option<i64>,
    /// Unix milliseconds of the last failed attempt.
    pub last_failure_at: Option<i64>,
    /// Failed attempts since the last success.
    pub failures_since_success: u64,
    /// Pending events.
    pub backlog: u64,
    /// Dead-lettered events.
    pub dead: u64,
}

/// The answer given to an inbound event, kept so a repeat gets the same answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundReceipt {
    pub bridge_id: String,
    pub webhook_id: String,
    pub status: u16,
    pub body: serde_json::Value,
    /// Unix milliseconds.
    pub received_at: i64,
}

/// A hand-off's accept deadline, written with the step that requests the hand-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeDeadline {
    pub conversation_id: String,
    pub bridge_id: String,
    /// Unix milliseconds.
    pub due_at: i64,
}
