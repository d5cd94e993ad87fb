//! The API's error type: one enum, one table of stable snake_case codes, one mapping to
//! HTTP statuses, and the JSON body `{ "message", "code", "type" }`. Server-side failures
//! are logged in full and answered with a generic message.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Everything an API call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("{0}")]
    EmptyText(String),
    #[error("{0}")]
    TextTooLong(String),
    #[error("{0}")]
    InvalidDocument(String),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    InvalidParameter(String),
    /// A requester input the conversation machine refused; the message is the localized
    /// reply the requester should read.
    #[error("{0}")]
    OptionNotOffered(String),
    #[error("{0}")]
    ChatDisabled(String),
    #[error("{0}")]
    ConversationFinished(String),
    #[error("{0}")]
    TicketNotFound(String),
    #[error("{0}")]
    UnexpectedEvent(String),
    #[error("{0}")]
    InvalidEvent(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{what} {id:?} was not found")]
    NotFound { what: &'static str, id: String },
    #[error("the request body is larger than the limit")]
    PayloadTooLarge,
    #[error("this endpoint does not exist")]
    UnknownRoute,
    #[error("this service is not available on this server")]
    Unavailable,
    #[error("the knowledge index is not available")]
    IndexUnavailable,
    #[error("internal error: {0}")]
    Internal(String),
}

/// The error body every endpoint answers with.
#[derive(Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct ErrorBody {
    pub message: String,
    pub code: String,
    #[serde(rename = "type")]
    pub kind: String,
}

impl ApiError {
    /// `(status, code, type)`: the one table of codes. Codes are stable: clients match on them.
    pub fn describe(&self) -> (StatusCode, &'static str, &'static str) {
        use ApiError::*;
        match self {
            BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request", "invalid_request"),
            MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json", "invalid_request"),
            EmptyText(_) => (StatusCode::BAD_REQUEST, "empty_text", "invalid_request"),
            TextTooLong(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "text_too_long",
                "invalid_request",
            ),
            InvalidDocument(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_document",
                "invalid_request",
            ),
            Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", "auth"),
            Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "auth"),
            InvalidParameter(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_parameter",
                "invalid_request",
            ),
            OptionNotOffered(_) => (
                StatusCode::CONFLICT,
                "option_not_offered",
                "invalid_request",
            ),
            ChatDisabled(_) => (StatusCode::CONFLICT, "chat_disabled", "invalid_request"),
            ConversationFinished(_) => (
                StatusCode::CONFLICT,
                "conversation_finished",
                "invalid_request",
            ),
            TicketNotFound(_) => (StatusCode::NOT_FOUND, "ticket_not_found", "invalid_request"),
            UnexpectedEvent(_) => (StatusCode::CONFLICT, "unexpected_event", "invalid_request"),
            InvalidEvent(_) => (StatusCode::BAD_REQUEST, "invalid_event", "invalid_request"),
            Conflict(_) => (StatusCode::CONFLICT, "conflict", "invalid_request"),
            NotFound { .. } => (StatusCode::NOT_FOUND, "not_found", "invalid_request"),
            PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "invalid_request",
            ),
            UnknownRoute => (StatusCode::NOT_FOUND, "unknown_route", "invalid_request"),
            Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", "internal"),
            IndexUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "index_unavailable",
                "internal",
            ),
            Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, kind) = self.describe();
        let message = if status.is_server_error() {
            tracing::error!(error = %self, code, "request failed");
            "an internal error occurred; it has been logged".to_string()
        } else {
            self.to_string()
        };
        let body = ErrorBody {
            message,
            code: code.to_string(),
            kind: kind.to_string(),
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

impl From<crate::knowledge::KnowledgeError> for ApiError {
    fn from(error: crate::knowledge::KnowledgeError) -> Self {
        use crate::knowledge::KnowledgeError as K;
        match error {
            K::UnknownId(id) => ApiError::NotFound {
                what: "document",
                id,
            },
            K::Invalid(reason) => ApiError::InvalidDocument(reason),
            K::NoIndex(_) => ApiError::IndexUnavailable,
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(error: tokio::task::JoinError) -> Self {
        ApiError::Internal(error.to_string())
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(error: crate::store::StoreError) -> Self {
        use crate::store::StoreError as S;
        match error {
            S::NotFound { entity, id } => ApiError::NotFound { what: entity, id },
            S::Conflict { .. } => ApiError::Conflict(error.to_string()),
            S::InvalidInput(reason) => ApiError::BadRequest(reason),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<crate::orchestrator::ChatError> for ApiError {
    fn from(error: crate::orchestrator::ChatError) -> Self {
        use crate::conversation::MachineError as M;
        use crate::orchestrator::ChatError as C;
        match error {
            C::UnknownConversation(id) => ApiError::NotFound {
                what: "conversation",
                id,
            },
            C::NotYours => ApiError::Forbidden(error.to_string()),
            C::Machine { error, reply } => {
                let message = reply.unwrap_or_else(|| error.to_string());
                match error {
                    M::EmptyText => ApiError::EmptyText(message),
                    M::TextTooLong { .. } => ApiError::TextTooLong(message),
                    M::OptionNotOffered { .. } => ApiError::OptionNotOffered(message),
                    M::ChatDisabled => ApiError::ChatDisabled(message),
                    M::ConversationFinished => ApiError::ConversationFinished(message),
                    M::TicketNotFound { .. } => ApiError::TicketNotFound(message),
                    M::UnexpectedEvent { .. } => {
                        tracing::warn!(%error, "input refused by the conversation machine");
                        ApiError::UnexpectedEvent(message)
                    }
                    M::InvalidEvent { .. } => ApiError::InvalidEvent(message),
                }
            }
            C::Store(error) => error.into(),
            C::Knowledge(error) => error.into(),
            other @ (C::Corrupt(_) | C::Join(_)) => ApiError::Internal(other.to_string()),
        }
    }
}
