//! The one error model of the crate: every domain and service error says what kind of
//! failure it is ([`ErrorKind`]) and its stable snake_case code ([`Coded`]). The kind is all
//! the outer layers need to answer: the HTTP layer maps each kind to one status, in one
//! place (`crate::http::error`); logs and the command line print the code. Nothing here
//! knows about HTTP.

/// What kind of failure an error is, fine enough that each kind has one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request is malformed: unreadable, missing or out-of-range input.
    BadRequest,
    /// The request is well formed but its content is refused (a bad value, a missing reason).
    Unprocessable,
    /// The request or one of its parts is larger than allowed.
    TooLarge,
    /// The content type is not one that is accepted.
    UnsupportedMedia,
    /// The caller is not identified: no credential, an unknown or an expired one.
    Unauthorized,
    /// The caller is identified but may not do this.
    Forbidden,
    /// What the request names does not exist (or is not the caller's to see).
    NotFound,
    /// The operation does not take this method.
    MethodNotAllowed,
    /// The request took too long and was abandoned.
    Timeout,
    /// The request does not fit the current state (already taken, not waiting, running).
    Conflict,
    /// Too many requests; retry later.
    RateLimited,
    /// A service this request needs is off or not ready.
    Unavailable,
    /// A failure of the server itself: a bug, a broken store, a lost task.
    Internal,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 13] = [
        ErrorKind::BadRequest,
        ErrorKind::Unprocessable,
        ErrorKind::TooLarge,
        ErrorKind::UnsupportedMedia,
        ErrorKind::Unauthorized,
        ErrorKind::Forbidden,
        ErrorKind::NotFound,
        ErrorKind::MethodNotAllowed,
        ErrorKind::Timeout,
        ErrorKind::Conflict,
        ErrorKind::RateLimited,
        ErrorKind::Unavailable,
        ErrorKind::Internal,
    ];

    /// A stable name, for records that keep an error (the bridge's inbound receipts).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::Unprocessable => "unprocessable",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::UnsupportedMedia => "unsupported_media",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::MethodNotAllowed => "method_not_allowed",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Conflict => "conflict",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// Whether the failure is on the server's side (a retry may succeed).
    pub fn is_server_side(self) -> bool {
        matches!(
            self,
            ErrorKind::Timeout | ErrorKind::Unavailable | ErrorKind::Internal
        )
    }
}

/// An error that says its kind and its stable code.
pub trait Coded {
    /// What kind of failure this is.
    fn kind(&self) -> ErrorKind;
    /// The stable snake_case code clients and logs match on.
    fn code(&self) -> &'static str;
}
