//! The bridge to external human chat services: a hand-off routed to a bridge leaves Ponte as
//! signed events (Standard Webhooks 1.0) through a transactional outbox, and the external
//! desk's answers come back as signed inbound events. This module owns the bridge's
//! definition ([`config`]), the wire contract ([`wire`]: event types and bodies, both
//! directions), the signatures ([`signature`]), the delivery of one event over HTTP
//! ([`transport`], with the address guard of [`guard`] and the retry schedule of
//! [`schedule`]), files in both directions ([`files`]), and the native Matrix adapter
//! ([`matrix`]).
//!
//! What a kind needs to plug in is small: a [`Transport`] that delivers one outbox event and
//! never retries by itself, and an [`InboundSink`] it hands the external desk's events to.

pub mod config;
pub mod dispatch;
pub mod files;
pub mod guard;
pub mod matrix;
pub mod schedule;
pub mod service;
pub mod signature;
pub mod transport;
pub mod wire;

pub use config::{BridgeConfig, BridgeKind, Routes};
pub use wire::{AttachmentLink, InboundEvent, OutboundType};

use async_trait::async_trait;
use std::time::Duration;

/// One outbox event ready to leave: its `webhook-id`, type and the exact body bytes (the same
/// on every attempt).
#[derive(Debug, Clone)]
pub struct OutgoingEvent {
    pub id: String,
    pub event_type: OutboundType,
    pub conversation_id: String,
    /// The conversation's sequence number the event is at.
    pub seq: i64,
    /// `{"type", "timestamp", "data"}` serialised once.
    pub body: Vec<u8>,
}

/// What one attempt to deliver gave.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptResult {
    /// The receiver took it (2xx).
    Delivered { status: u16 },
    /// The receiver is gone for good (410): the bridge is disabled.
    Gone { status: u16 },
    /// Anything else: a status (3xx, 4xx, 5xx), a timeout, a refused or dropped connection,
    /// an address the guard refused. `retry_after` is the receiver's `Retry-After`, if any.
    Failed {
        status: Option<u16>,
        error: String,
        retry_after: Option<Duration>,
    },
}

/// An attempt's result and how long it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub result: AttemptResult,
    pub latency: Duration,
}

/// Delivers one event of a bridge to its external service. Implementations make exactly one
/// attempt (the dispatcher owns retries and order) and must be idempotent on `event.id`.
#[async_trait]
pub trait Transport: Send + Sync {
    async fn deliver(&self, bridge: &BridgeConfig, event: &OutgoingEvent) -> Attempt;
}

/// Why an inbound event was refused; each has a stable code.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error("unknown bridge {0:?}")]
    UnknownBridge(String),
    #[error("bridge {0:?} is disabled")]
    Disabled(String),
    #[error("the signature does not match any of the bridge's secrets")]
    BadSignature,
    #[error("the webhook timestamp is more than 5 minutes off")]
    StaleTimestamp,
    #[error("missing or malformed header {0}")]
    BadHeader(&'static str),
    #[error("invalid event: {0}")]
    InvalidEvent(String),
    #[error("unknown conversation {0:?}")]
    UnknownConversation(String),
    #[error("conversation {0:?} is not handed to this bridge")]
    NotBridged(String),
    #[error("conversation {0:?} is closed")]
    ConversationClosed(String),
    #[error("attachment refused: {0}")]
    Attachment(String),
    /// An allowed attachment link could not be fetched now (the desk may send it again).
    #[error("attachment not fetched: {0}")]
    AttachmentUnavailable(String),
    #[error("invalid bridge definition: {0}")]
    InvalidConfig(String),
    /// A repeated event refused the first time: the same refusal again.
    #[error("{message}")]
    Repeated {
        kind: crate::fault::ErrorKind,
        code: &'static str,
        message: String,
    },
    #[error(transparent)]
    Chat(#[from] crate::orchestrator::ChatError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl crate::fault::Coded for BridgeError {
    fn kind(&self) -> crate::fault::ErrorKind {
        use crate::fault::ErrorKind as K;
        match self {
            BridgeError::UnknownBridge(_) | BridgeError::UnknownConversation(_) => K::NotFound,
            BridgeError::BadSignature | BridgeError::StaleTimestamp => K::Unauthorized,
            BridgeError::Disabled(_)
            | BridgeError::NotBridged(_)
            | BridgeError::ConversationClosed(_) => K::Conflict,
            BridgeError::BadHeader(_) => K::BadRequest,
            BridgeError::InvalidEvent(_)
            | BridgeError::Attachment(_)
            | BridgeError::InvalidConfig(_) => K::Unprocessable,
            BridgeError::AttachmentUnavailable(_) => K::Unavailable,
            BridgeError::Repeated { kind, .. } => *kind,
            BridgeError::Chat(error) => error.kind(),
            BridgeError::Store(error) => error.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            BridgeError::UnknownBridge(_) => "unknown_bridge",
            BridgeError::Disabled(_) => "bridge_disabled",
            BridgeError::BadSignature => "bad_signature",
            BridgeError::StaleTimestamp => "stale_timestamp",
            BridgeError::BadHeader(_) => "bad_webhook_header",
            BridgeError::InvalidEvent(_) => "invalid_event",
            BridgeError::UnknownConversation(_) => "unknown_conversation",
            BridgeError::NotBridged(_) => "not_bridged",
            BridgeError::ConversationClosed(_) => "conversation_closed",
            BridgeError::Attachment(_) => "attachment_refused",
            BridgeError::AttachmentUnavailable(_) => "attachment_unavailable",
            BridgeError::InvalidConfig(_) => "invalid_bridge",
            BridgeError::Repeated { code, .. } => code,
            BridgeError::Chat(error) => crate::fault::Coded::code(error),
            BridgeError::Store(error) => error.code(),
        }
    }
}

/// Where a kind hands the external desk's events: applies one event to its conversation,
/// once. `dedup_key` identifies the event at the source (`webhook-id`, a Matrix event id); a
/// repeat gets the first answer and changes nothing.
#[async_trait]
pub trait InboundSink: Send + Sync {
    async fn receive(
        &self,
        bridge_id: &str,
        dedup_key: &str,
        event: InboundEvent,
    ) -> Result<serde_json::Value, BridgeError>;
}
