//! The API's error type: one enum, one table of stable snake_case codes, the one map from
//! an error's kind (`crate::fault::ErrorKind`) to its HTTP status, the conversions from the
//! domain and service errors, and the JSON body `{ "message", "code", "type" }`. Server-side
//! failures are logged in full and answered with a generic message.

use crate::fault::{Coded, ErrorKind};
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
    /// The requester tried to end a chat Ponte's desk holds.
    #[error("{0}")]
    DeskChat(String),
    #[error("{what} {id:?} was not found")]
    NotFound { what: &'static str, id: String },
    /// A report's period that cannot be read (see `insight::period`).
    #[error("{0}")]
    InvalidPeriod(String),
    /// The requester rated this conversation before: a rating is given once.
    #[error("this conversation was rated already")]
    AlreadyRated,
    /// A rating of a conversation that has not ended.
    #[error("a conversation is rated once it has ended")]
    ConversationOpen,
    #[error("{0}")]
    Desk(crate::desk::DeskError),
    /// A bridge's inbound event or definition refused.
    #[error("{0}")]
    Bridge(crate::bridge::BridgeError),
    #[error("this contact is blocked; new messages are not accepted")]
    ContactBlocked,
    #[error("guest chat is off on this server: the portal must sign the requester in")]
    GuestChatDisabled,
    /// The widget's pre-chat form without a name, while the form is on.
    #[error("a name is required to start a chat")]
    NameRequired,
    #[error("the name is longer than {max} characters")]
    NameTooLong { max: usize },
    #[error("{0}")]
    InvalidEmail(String),
    /// A read position past the conversation's last message, or negative.
    #[error("{0}")]
    SeqOutOfRange(String),
    #[error("too many requests for this token; retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// A staff sign-in with an unknown user name or a wrong password (not saying which).
    #[error("the user name or the password is wrong")]
    InvalidCredentials,
    /// Staff sign-in held back after too many failed attempts.
    #[error("too many failed sign-in attempts; retry after {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: u64 },
    /// A password the policy refuses.
    #[error("{0}")]
    WeakPassword(String),
    /// A write made with the session cookie that did not come from Ponte's own pages.
    #[error("{0}")]
    CrossSiteRefused(&'static str),
    #[error("the request body is larger than the limit")]
    PayloadTooLarge,
    #[error("this endpoint does not exist")]
    UnknownRoute,
    #[error("this service is not available on this server")]
    Unavailable,
    #[error("the knowledge index is not available")]
    IndexUnavailable,
    /// The database cannot be reached now; nothing was written. Retry shortly.
    #[error("the database cannot be reached now; nothing was written, retry shortly")]
    StoreUnavailable,
    /// This node lost NATS, which carries what it writes to the other nodes. Retry shortly.
    #[error("this node cannot reach NATS now; nothing was written, retry shortly")]
    NatsUnavailable,
    #[error("internal error: {0}")]
    Internal(String),
}

/// The error body every endpoint answers with.
#[derive(Debug, Serialize, serde::Deserialize, PartialEq, utoipa::ToSchema)]
pub struct ErrorBody {
    pub message: String,
    pub code: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// The HTTP status of each kind of error: the one map from kinds to statuses.
pub fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
        ErrorKind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::UnsupportedMedia => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorKind::Timeout => StatusCode::REQUEST_TIMEOUT,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl Coded for ApiError {
    fn kind(&self) -> ErrorKind {
        use ApiError::*;
        match self {
            BadRequest(_) | MalformedJson(_) | EmptyText(_) | InvalidId(_) => ErrorKind::BadRequest,
            InvalidPeriod(_) | SeqOutOfRange(_) => ErrorKind::BadRequest,
            NameRequired | NameTooLong { .. } | InvalidEmail(_) => ErrorKind::Unprocessable,
            AlreadyRated | ConversationOpen => ErrorKind::Conflict,
            WebSocketRequired(_) | InvalidEvent(_) => ErrorKind::BadRequest,
            TextTooLong(_) | PayloadTooLarge => ErrorKind::TooLarge,
            InvalidDocument(_) | InvalidParameter(_) => ErrorKind::Unprocessable,
            Unauthorized(_) | TokenExpired => ErrorKind::Unauthorized,
            Forbidden(_) | ContactBlocked | GuestChatDisabled => ErrorKind::Forbidden,
            MethodNotAllowed => ErrorKind::MethodNotAllowed,
            RequestTimeout => ErrorKind::Timeout,
            OptionNotOffered(_) | ChatDisabled(_) | ConversationFinished(_) => ErrorKind::Conflict,
            UnexpectedEvent(_) | Conflict(_) | DeskChat(_) => ErrorKind::Conflict,
            TicketNotFound(_) | NotFound { .. } | UnknownRoute => ErrorKind::NotFound,
            Desk(error) => error.kind(),
            Bridge(error) => crate::fault::Coded::kind(error),
            RateLimited { .. } | TooManyAttempts { .. } => ErrorKind::RateLimited,
            InvalidCredentials => ErrorKind::Unauthorized,
            WeakPassword(_) => ErrorKind::Unprocessable,
            CrossSiteRefused(_) => ErrorKind::Forbidden,
            Unavailable | IndexUnavailable => ErrorKind::Unavailable,
            StoreUnavailable | NatsUnavailable => ErrorKind::Unavailable,
            Internal(_) => ErrorKind::Internal,
        }
    }

    /// The one table of codes. Codes are stable: clients match on them.
    fn code(&self) -> &'static str {
        use ApiError::*;
        match self {
            BadRequest(_) => "bad_request",
            MalformedJson(_) => "malformed_json",
            EmptyText(_) => "empty_text",
            TextTooLong(_) => "text_too_long",
            InvalidDocument(_) => "invalid_document",
            Unauthorized(_) => "unauthorized",
            TokenExpired => "token_expired",
            InvalidId(_) => "invalid_id",
            MethodNotAllowed => "method_not_allowed",
            RequestTimeout => "request_timeout",
            WebSocketRequired(_) => "websocket_required",
            Forbidden(_) => "forbidden",
            InvalidParameter(_) => "invalid_parameter",
            OptionNotOffered(_) => "option_not_offered",
            ChatDisabled(_) => "chat_disabled",
            ConversationFinished(_) => "conversation_finished",
            TicketNotFound(_) => "ticket_not_found",
            UnexpectedEvent(_) => "unexpected_event",
            InvalidEvent(_) => "invalid_event",
            Conflict(_) => "conflict",
            DeskChat(_) => "desk_chat",
            NotFound { .. } => "not_found",
            InvalidPeriod(_) => "invalid_period",
            AlreadyRated => "already_rated",
            ConversationOpen => "conversation_open",
            Desk(error) => error.code(),
            Bridge(error) => crate::fault::Coded::code(error),
            ContactBlocked => "contact_blocked",
            GuestChatDisabled => "guest_chat_disabled",
            NameRequired => "name_required",
            NameTooLong { .. } => "name_too_long",
            InvalidEmail(_) => "invalid_email",
            SeqOutOfRange(_) => "seq_out_of_range",
            RateLimited { .. } => "rate_limited",
            InvalidCredentials => "invalid_credentials",
            TooManyAttempts { .. } => "too_many_attempts",
            WeakPassword(_) => "weak_password",
            CrossSiteRefused(_) => "cross_site_refused",
            PayloadTooLarge => "payload_too_large",
            UnknownRoute => "unknown_route",
            Unavailable => "unavailable",
            IndexUnavailable => "index_unavailable",
            StoreUnavailable => "store_unavailable",
            NatsUnavailable => "nats_unavailable",
            Internal(_) => "internal",
        }
    }
}

impl ApiError {
    /// `(status, code, type)`: the status from the error's kind, its stable code, and the
    /// broad `type` of the body: `auth` for who may call, `rate_limit`, `internal` for the
    /// server's side, `invalid_request` for the rest. A desk error is always about the
    /// request (`invalid_request`), a blocked contact included.
    pub fn describe(&self) -> (StatusCode, &'static str, &'static str) {
        let kind = self.kind();
        let family = match (self, kind) {
            (ApiError::Desk(_), _) => "invalid_request",
            (_, ErrorKind::Unauthorized | ErrorKind::Forbidden) => "auth",
            (_, ErrorKind::RateLimited) => "rate_limit",
            (_, ErrorKind::Timeout | ErrorKind::Unavailable | ErrorKind::Internal) => "internal",
            _ => "invalid_request",
        };
        (status(kind), self.code(), family)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, kind) = self.describe();
        let retry_after = match &self {
            ApiError::RateLimited { retry_after_secs }
            | ApiError::TooManyAttempts { retry_after_secs } => Some(*retry_after_secs),
            ApiError::StoreUnavailable | ApiError::NatsUnavailable => Some(1),
            _ => None,
        };
        // A lost dependency is no internal secret: the client is told which, to retry.
        let lost_dependency =
            matches!(self, ApiError::StoreUnavailable | ApiError::NatsUnavailable);
        let message = if lost_dependency {
            tracing::warn!(code, "request refused: a dependency is unavailable");
            self.to_string()
        } else if status.is_server_error() {
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
            S::Unavailable(reason) => {
                tracing::warn!(%reason, "the store is unavailable");
                ApiError::StoreUnavailable
            }
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
            C::NotBridged(id) => ApiError::Bridge(crate::bridge::BridgeError::NotBridged(id)),
            C::DeskChat(_) => ApiError::DeskChat(error.to_string()),
            other @ (C::Corrupt(_) | C::Join(_)) => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<crate::auth::AuthError> for ApiError {
    fn from(error: crate::auth::AuthError) -> Self {
        use crate::auth::AuthError as A;
        match error {
            A::Unauthorized(reason) => ApiError::Unauthorized(reason),
            A::TokenExpired => ApiError::TokenExpired,
            A::Forbidden(reason) => ApiError::Forbidden(reason),
            A::InvalidId(reason) => ApiError::InvalidId(reason),
            A::Internal(reason) => ApiError::Internal(reason),
            A::InvalidCredentials => ApiError::InvalidCredentials,
            A::TooManyAttempts { retry_after_secs } => {
                ApiError::TooManyAttempts { retry_after_secs }
            }
            A::WeakPassword(reason) => ApiError::WeakPassword(reason),
            A::Store(error) => error.into(),
        }
    }
}

impl From<crate::guest::ProfileError> for ApiError {
    fn from(error: crate::guest::ProfileError) -> Self {
        use crate::guest::ProfileError as P;
        match error {
            P::NameRequired => ApiError::NameRequired,
            P::NameTooLong => ApiError::NameTooLong {
                max: crate::guest::MAX_NAME_CHARS,
            },
            P::InvalidEmail(_) => ApiError::InvalidEmail(error.to_string()),
        }
    }
}

impl From<crate::ratelimit::RateLimited> for ApiError {
    fn from(error: crate::ratelimit::RateLimited) -> Self {
        ApiError::RateLimited {
            retry_after_secs: error.retry_after_secs,
        }
    }
}

impl From<crate::jobs::JobError> for ApiError {
    fn from(error: crate::jobs::JobError) -> Self {
        match error {
            crate::jobs::JobError::Running { .. } => ApiError::Conflict(error.to_string()),
        }
    }
}

#[cfg(test)]
#[path = "error_codes_tests.rs"]
mod codes_tests;

impl From<crate::insight::PeriodError> for ApiError {
    fn from(error: crate::insight::PeriodError) -> Self {
        ApiError::InvalidPeriod(error.0)
    }
}
