//! Identity and roles: who is calling, and what they may do. The token domain, with no web
//! framework in it: the HTTP extractors that read a bearer token live in `crate::http::auth`.
//!
//! Every API call but `/health` carries `Authorization: Bearer <token>`. A token maps to an
//! [`Identity`]: a [`Role`], a subject (the requester or staff id) and the groups that decide
//! which knowledge the subject may see. The tokens a process knows are kept by the token
//! registry ([`TokenStore`], in [`registry`]): tokens from configuration, from
//! `PONTE_ADMIN_TOKEN` at start, and tokens an admin issues, whose durable part lives behind
//! [`IssuedTokens`].
//!
//! Only the SHA-256 hash of a token is kept. A presented token is hashed and its digest
//! compared in constant time, so the time a check takes says nothing about how close a
//! guess was. A refused token is [`AuthError::Unauthorized`] or [`AuthError::TokenExpired`];
//! a role outside the allowed set is [`AuthError::Forbidden`].

pub mod password;
pub mod registry;
pub mod sessions;

use crate::fault::{Coded, ErrorKind};
use crate::store::StoreError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use registry::{IssuedToken, IssuedTokens, TokenStore};

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Talks to the assistant; sees only their own conversations and tickets.
    Requester,
    /// Answers chats handed over by the assistant.
    Attendant,
    /// Works tickets.
    Analyst,
    /// Edits the knowledge base.
    KnowledgeManager,
    /// Reads and sets parameters and issues tokens.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Requester => "requester",
            Role::Attendant => "attendant",
            Role::Analyst => "analyst",
            Role::KnowledgeManager => "knowledge_manager",
            Role::Admin => "admin",
        }
    }
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub role: Role,
    /// The requester or staff id the token was issued to.
    pub subject: String,
    /// Knowledge groups the subject belongs to.
    #[serde(default)]
    pub groups: Vec<String>,
}

impl Identity {
    /// `Ok` when the caller's role is one of `allowed`, else `forbidden`.
    pub fn require(&self, allowed: &[Role]) -> Result<(), AuthError> {
        require(self, allowed)
    }
}

/// `Ok` when `identity`'s role is one of `allowed`, else `forbidden`.
pub fn require(identity: &Identity, allowed: &[Role]) -> Result<(), AuthError> {
    if allowed.contains(&identity.role) {
        Ok(())
    } else {
        Err(AuthError::Forbidden(format!(
            "the role {} may not use this endpoint",
            identity.role.as_str()
        )))
    }
}

/// Why a caller or a token was refused, or a token could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No token, an unknown or a revoked one; the text says which.
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("the token has expired")]
    TokenExpired,
    /// The caller's role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// A subject or group that is not a valid id.
    #[error("{0}")]
    InvalidId(String),
    /// Something inside the server failed: the operating system gave no random bytes, or a
    /// password worker stopped before answering.
    #[error("{0}")]
    Internal(String),
    /// A user name without an account or a wrong password: the answer does not say which.
    #[error("the user name or the password is wrong")]
    InvalidCredentials,
    /// Sign-in is held back after too many failed attempts.
    #[error("too many failed sign-in attempts; retry after {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: u64 },
    /// A password the policy refuses, or a new account without one.
    #[error("{0}")]
    WeakPassword(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Coded for AuthError {
    fn kind(&self) -> ErrorKind {
        match self {
            AuthError::Unauthorized(_) | AuthError::TokenExpired => ErrorKind::Unauthorized,
            AuthError::InvalidCredentials => ErrorKind::Unauthorized,
            AuthError::TooManyAttempts { .. } => ErrorKind::RateLimited,
            AuthError::WeakPassword(_) => ErrorKind::Unprocessable,
            AuthError::Forbidden(_) => ErrorKind::Forbidden,
            AuthError::InvalidId(_) => ErrorKind::BadRequest,
            AuthError::Internal(_) => ErrorKind::Internal,
            AuthError::Store(error) => error.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AuthError::Unauthorized(_) => "unauthorized",
            AuthError::TokenExpired => "token_expired",
            AuthError::Forbidden(_) => "forbidden",
            AuthError::InvalidId(_) => "invalid_id",
            AuthError::Internal(_) => "internal",
            AuthError::InvalidCredentials => "invalid_credentials",
            AuthError::TooManyAttempts { .. } => "too_many_attempts",
            AuthError::WeakPassword(_) => "weak_password",
            AuthError::Store(error) => error.code(),
        }
    }
}

/// A token as written in the tokens file: the plaintext `token` or its `sha256` (64 hex
/// digits; preferred, so the file holds no secret), and whom it identifies. `Debug` never
/// shows the plaintext.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfiguredToken {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub sha256: Option<String>,
    pub role: Role,
    pub subject: String,
    #[serde(default)]
    pub groups: Vec<String>,
}

impl std::fmt::Debug for ConfiguredToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfiguredToken")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("sha256", &self.sha256)
            .field("role", &self.role)
            .field("subject", &self.subject)
            .field("groups", &self.groups)
            .finish()
    }
}

/// Why a configured token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token for {subject:?}: give exactly one of `token` and `sha256`")]
    Ambiguous { subject: String },
    #[error("token for {subject:?}: `sha256` must be 64 hexadecimal digits")]
    BadHash { subject: String },
    #[error("a token must not be empty and its subject must not be blank")]
    Empty,
}

impl Coded for TokenError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::BadRequest
    }

    fn code(&self) -> &'static str {
        match self {
            TokenError::Ambiguous { .. } => "ambiguous_token",
            TokenError::BadHash { .. } => "bad_token_hash",
            TokenError::Empty => "empty_token",
        }
    }
}

/// The SHA-256 of a token: how tokens are stored and how the rate limit keys them.
pub type Hash = [u8; 32];

/// The SHA-256 of `token`.
pub fn hash(token: &str) -> Hash {
    Sha256::digest(token.as_bytes()).into()
}

/// 64 hex digits (surrounding blanks ignored) as the 32 bytes of a SHA-256.
fn parse_hash(text: &str) -> Option<Hash> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut out).ok()?;
    Some(out)
}

/// The SHA-256 of `token` as 64 lowercase hex digits (what a tokens file stores).
pub fn token_hash_hex(token: &str) -> String {
    hex::encode(hash(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn require_refuses_other_roles() {
        let identity = Identity {
            role: Role::Requester,
            subject: "s".into(),
            groups: vec![],
        };
        assert!(identity.require(&[Role::Requester]).is_ok());
        let error = identity.require(&[Role::Admin]).unwrap_err();
        assert_eq!(error.code(), "forbidden");
    }

    #[test]
    fn hashes_read_back_from_hex() {
        let digest = hash("alpha");
        assert_eq!(
            parse_hash(&format!(" {} ", hex::encode(digest))),
            Some(digest)
        );
        assert_eq!(
            parse_hash(&hex::encode(digest).to_uppercase()),
            Some(digest)
        );
        assert_eq!(parse_hash("abc"), None);
        assert_eq!(parse_hash(&"zz".repeat(32)), None);
    }
}
