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
    #[error("the token has expired")]
    TokenExpired,
    /// An id the API accepts (document, token subject, group, tag, shortcut, ...) that is
    /// blank, too long or holds control characters.
    #[error("{0}")]
    InvalidId(String),
    #[error("this endpoint does not take this method")]
    MethodNotAllowed,
    #[error("the request took too long and was abandoned")]
    RequestTimeout,
    /// A live-feed route called without a WebSocket upgrade.
    #[error("this endpoint speaks WebSocket only: {0}")]
    WebSocketRequired(String),
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
    #[error("{0}")]
    Desk(crate::desk::DeskError),
    #[error("this contact is blocked; new messages are not accepted")]
    ContactBlocked,
    #[error("guest chat is off on this server: the portal must sign the requester in")]
    GuestChatDisabled,
    #[error("too many requests for this token; retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
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
            TokenExpired => (StatusCode::UNAUTHORIZED, "token_expired", "auth"),
            InvalidId(_) => (StatusCode::BAD_REQUEST, "invalid_id", "invalid_request"),
            MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "invalid_request",
            ),
            RequestTimeout => (StatusCode::REQUEST_TIMEOUT, "request_timeout", "internal"),
            WebSocketRequired(_) => (
                StatusCode::BAD_REQUEST,
                "websocket_required",
                "invalid_request",
            ),
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
            Desk(error) => (desk_status(error.code()), error.code(), "invalid_request"),
            ContactBlocked => (StatusCode::FORBIDDEN, "contact_blocked", "auth"),
            GuestChatDisabled => (StatusCode::FORBIDDEN, "guest_chat_disabled", "auth"),
            RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited", "rate_limit"),
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
        let retry_after = match &self {
            ApiError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
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
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// Checks an id the API accepts: 400 `invalid_id` when it is blank, longer than
/// [`crate::store::MAX_ID_LEN`] bytes or holds control characters. The store applies the same
/// rule; checking at the door names the field and keeps oversized ids from file names.
pub fn check_id(field: &str, value: &str) -> Result<(), ApiError> {
    crate::store::check_id(field, value).map_err(|error| match error {
        crate::store::StoreError::InvalidInput(reason) => ApiError::InvalidId(reason),
        other => ApiError::InvalidId(other.to_string()),
    })
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

/// The HTTP status of a desk error code.
fn desk_status(code: &str) -> StatusCode {
    match code {
        "contact_blocked" => StatusCode::FORBIDDEN,
        "attachment_too_large" => StatusCode::PAYLOAD_TOO_LARGE,
        "unsupported_media_type" => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        code if code.starts_with("unknown_") && !code.ends_with("_reason") => StatusCode::NOT_FOUND,
        code if code.starts_with("invalid_")
            || code.ends_with("_required")
            || code.ends_with("_reason")
            || code.starts_with("empty_")
            || code == "channel_not_enabled" =>
        {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        _ => StatusCode::CONFLICT,
    }
}

impl From<crate::desk::DeskError> for ApiError {
    fn from(error: crate::desk::DeskError) -> Self {
        ApiError::Desk(error)
    }
}

impl From<crate::attendance::AttendanceError> for ApiError {
    fn from(error: crate::attendance::AttendanceError) -> Self {
        use crate::attendance::AttendanceError as A;
        match error {
            A::Desk(error) => ApiError::Desk(error),
            A::Store(error) => error.into(),
            A::Chat(error) => error.into(),
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
            C::Blocked => ApiError::ContactBlocked,
            other @ (C::Corrupt(_) | C::Join(_)) => ApiError::Internal(other.to_string()),
        }
    }
}
