//! The `matrix` bridge kind: Ponte as a Matrix application service. Each handed-off
//! conversation gets a private room (alias `#ponte_<conversation_id>`, state
//! `org.ponte.conversation`) with the bridge's agents invited; the requester's side is posted
//! there by Ponte's sender user ([`MatrixTransport`], over [`MatrixClient`]), and what the
//! agents do in the room comes back through the homeserver's application-service transactions
//! ([`handle_transaction`]), which become [`InboundEvent`](crate::bridge::InboundEvent)s for the
//! bridge's [`InboundSink`](crate::bridge::InboundSink). [`registration_yaml`] writes the
//! registration file the homeserver needs.
//!
//! Everything is idempotent on ids the other side keeps: room creation on the alias, messages
//! on transaction ids derived from the outbox event id, inbound events on Matrix event ids.

mod appservice;
mod client;
mod registration;
mod render;
mod transport;

pub use appservice::{check_token, handle_transaction, request_token};
pub use client::{ApiError, CONVERSATION_STATE, MatrixClient, NewRoom, localpart};
pub use registration::registration_yaml;
pub use render::{alias_localpart, room_name};
pub use transport::MatrixTransport;

use crate::bridge::BridgeError;
use crate::bridge::config::{BridgeConfig, BridgeKind, MatrixSettings};
use crate::fault::{Coded, ErrorKind};

/// Why a homeserver transaction (or a Matrix bridge operation) was refused; each has a stable
/// code, an HTTP status and the Matrix `errcode` the homeserver expects.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    /// The transaction carried no token.
    #[error("the transaction carries no hs_token")]
    MissingToken,
    /// The transaction's token is not the bridge's `hs_token`.
    #[error("the transaction's token is not this bridge's hs_token")]
    UnknownToken,
    /// The body is not a transaction.
    #[error("malformed transaction: {0}")]
    Malformed(String),
    /// The bridge is not a usable `matrix` bridge.
    #[error("not a matrix bridge: {0}")]
    NotMatrix(String),
    /// The homeserver did not answer a lookup the transaction needs; it retries.
    #[error("homeserver lookup failed: {0}")]
    Homeserver(#[from] ApiError),
    /// The inbound sink could not take an event for a passing reason; the homeserver retries.
    #[error("the inbound sink failed: {0}")]
    Sink(#[source] BridgeError),
}

impl MatrixError {
    /// The HTTP status to answer the homeserver with.
    pub fn status(&self) -> u16 {
        match self {
            MatrixError::MissingToken => 401,
            MatrixError::UnknownToken => 403,
            MatrixError::Malformed(_) => 400,
            MatrixError::NotMatrix(_) => 404,
            MatrixError::Homeserver(_) | MatrixError::Sink(_) => 500,
        }
    }

    /// The Matrix error code of the answer body.
    pub fn errcode(&self) -> &'static str {
        match self {
            MatrixError::MissingToken => "M_UNAUTHORIZED",
            MatrixError::UnknownToken => "M_FORBIDDEN",
            MatrixError::Malformed(_) => "M_BAD_JSON",
            MatrixError::NotMatrix(_) => "M_NOT_FOUND",
            MatrixError::Homeserver(_) | MatrixError::Sink(_) => "M_UNKNOWN",
        }
    }

    /// The answer body: `{"errcode", "error", "code"}` (`code` is Ponte's stable code).
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({
            "errcode": self.errcode(),
            "error": self.to_string(),
            "code": self.code(),
        })
    }
}

impl Coded for MatrixError {
    fn kind(&self) -> ErrorKind {
        match self {
            MatrixError::MissingToken => ErrorKind::Unauthorized,
            MatrixError::UnknownToken => ErrorKind::Forbidden,
            MatrixError::Malformed(_) => ErrorKind::BadRequest,
            MatrixError::NotMatrix(_) => ErrorKind::NotFound,
            MatrixError::Homeserver(_) | MatrixError::Sink(_) => ErrorKind::Internal,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            MatrixError::MissingToken => "missing_token",
            MatrixError::UnknownToken => "unknown_token",
            MatrixError::Malformed(_) => "malformed_transaction",
            MatrixError::NotMatrix(_) => "not_matrix_bridge",
            MatrixError::Homeserver(_) => "homeserver_unavailable",
            MatrixError::Sink(_) => "sink_failed",
        }
    }
}

/// A bridge's Matrix settings, if it is a `matrix` bridge that has them.
pub fn settings(bridge: &BridgeConfig) -> Result<&MatrixSettings, MatrixError> {
    if bridge.kind != BridgeKind::Matrix {
        return Err(MatrixError::NotMatrix(format!(
            "bridge {:?} is of another kind",
            bridge.id
        )));
    }
    bridge.matrix.as_ref().ok_or_else(|| {
        MatrixError::NotMatrix(format!("bridge {:?} has no matrix settings", bridge.id))
    })
}

/// Whether a sink's refusal is for a passing reason (retrying the transaction may succeed) as
/// opposed to a refusal that would be the same on every retry.
fn is_transient(error: &BridgeError) -> bool {
    matches!(
        error.kind(),
        ErrorKind::Internal | ErrorKind::Unavailable | ErrorKind::Timeout | ErrorKind::RateLimited
    )
}
