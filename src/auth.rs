//! Identity and roles: who is calling, and what they may do.
//!
//! Every API call but `/health` carries `Authorization: Bearer <token>`. A token maps to an
//! [`Identity`]: a [`Role`], a subject (the requester or staff id) and the groups that decide
//! which knowledge the subject may see. Tokens come from configuration
//! ([`TokenStore::load`]), from `PONTE_ADMIN_TOKEN` at start, or are issued by an admin
//! (`POST /api/admin/tokens`, [`TokenStore::issue_stored`]). Issued tokens are kept in the
//! store (hash, stable id, optional expiry) and loaded back at start
//! ([`TokenStore::restore`]), so their holders survive a restart; revoking one
//! ([`TokenStore::revoke`]) and its expiry take effect at once, because every check reads the
//! in-memory table the store write updates.
//!
//! Only the SHA-256 hash of a token is kept. A presented token is hashed and compared with
//! every stored hash in constant time, without stopping at the first match, so the time a
//! check takes says nothing about how close a guess was.
//!
//! [`Authenticated`] is the extractor: it answers 401 `unauthorized` when the header is
//! missing or the token unknown, 401 `token_expired` after its expiry. [`Identity::require`]
//! answers 403 `forbidden` for a role outside the allowed set; [`Authorized`] is the same check
//! as an extractor, so that it runs before the request body is read.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

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
    /// `Ok` when the caller's role is one of `allowed`, else 403 `forbidden`.
    pub fn require(&self, allowed: &[Role]) -> Result<(), ApiError> {
        require(self, allowed)
    }
}

/// `Ok` when `identity`'s role is one of `allowed`, else 403 `forbidden`.
pub fn require(identity: &Identity, allowed: &[Role]) -> Result<(), ApiError> {
    if allowed.contains(&identity.role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "the role {} may not use this endpoint",
            identity.role.as_str()
        )))
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

/// The SHA-256 of a token: how tokens are stored and how the rate limit keys them.
pub type Hash = [u8; 32];

/// The SHA-256 of `token`.
pub fn hash(token: &str) -> Hash {
    Sha256::digest(token.as_bytes()).into()
}

/// Equality of two hashes whose time does not depend on where they differ.
fn constant_time_eq(a: &Hash, b: &Hash) -> bool {
    let mut difference = 0u8;
    for (x, y) in a.iter().zip(b.iter()) {
        difference |= x ^ y;
    }
    // Keep the compiler from turning the loop into an early exit.
    std::hint::black_box(difference) == 0
}

/// 64 hex digits as 32 bytes (a SHA-256, an HMAC-SHA256, a key).
pub(crate) fn parse_hex(text: &str) -> Option<Hash> {
    let text = text.trim();
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (index, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[index * 2..index * 2 + 2], 16).ok()?;
    }
    Some(out)
}

/// Lowercase hex of `bytes`.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

/// The SHA-256 of `token` as 64 lowercase hex digits (what a tokens file stores).
pub fn token_hash_hex(token: &str) -> String {
    to_hex(&hash(token))
}

/// One known token: whom it identifies and, for tokens issued through the API, its stored id
/// and expiry (unix milliseconds).
#[derive(Debug, Clone)]
struct Known {
    identity: Identity,
    id: Option<String>,
    expires_at: Option<i64>,
}

/// A token just issued through the API: the plaintext, shown once, and what the store keeps.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub record: crate::store::StoredToken,
}

/// The known tokens, by hash. Cheap to share behind an `Arc`.
#[derive(Debug, Default)]
pub struct TokenStore {
    tokens: Mutex<HashMap<Hash, Known>>,
    /// Signs the widget's anonymous guests; absent when guest chat is off.
    guests: std::sync::OnceLock<crate::guest::GuestKey>,
}

impl TokenStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Mints a random token (32 bytes from the OS, hex) for `subject`, known to this process
    /// only (tests of the router alone); returns the plaintext, which is not kept. The API
    /// issues with [`issue_stored`](Self::issue_stored).
    pub fn issue(
        &self,
        role: Role,
        subject: impl Into<String>,
        groups: Vec<String>,
    ) -> Result<String, ApiError> {
        let subject = subject.into();
        check_names(&subject, &groups)?;
        let token = random_hex::<32>()?;
        self.insert(
            hash(&token),
            Identity {
                role,
                subject,
                groups,
            },
        );
        Ok(token)
    }

    /// Mints a random token for `subject` and stores its hash with a new stable id and the
    /// optional expiry (unix milliseconds) before it can be used: it survives restarts.
    pub async fn issue_stored(
        &self,
        store: &dyn crate::store::Store,
        identity: Identity,
        expires_at: Option<i64>,
    ) -> Result<IssuedToken, ApiError> {
        check_names(&identity.subject, &identity.groups)?;
        let token = random_hex::<32>()?;
        let digest = hash(&token);
        let record = store
            .insert_token(crate::store::NewToken {
                id: format!("tok_{}", random_hex::<8>()?),
                sha256: to_hex(&digest),
                role: identity.role.as_str().to_string(),
                subject: identity.subject.clone(),
                groups: identity.groups.clone(),
                expires_at,
            })
            .await?;
        self.lock().insert(
            digest,
            Known {
                identity,
                id: Some(record.id.clone()),
                expires_at,
            },
        );
        Ok(IssuedToken { token, record })
    }

    /// Loads every token issued through the API from `store` (at start); returns how many.
    /// A stored row this version cannot read (an unknown role) is skipped with a warning.
    pub async fn restore(&self, store: &dyn crate::store::Store) -> Result<usize, ApiError> {
        let stored = store.tokens().await?;
        let mut tokens = self.lock();
        let mut count = 0;
        for record in stored {
            let role = serde_json::from_value::<Role>(serde_json::Value::String(record.role));
            let (Ok(role), Some(digest)) = (role, parse_hex(&record.sha256)) else {
                tracing::warn!(id = %record.id, "stored token skipped: unknown role or bad hash");
                continue;
            };
            tokens.insert(
                digest,
                Known {
                    identity: Identity {
                        role,
                        subject: record.subject,
                        groups: record.groups,
                    },
                    id: Some(record.id),
                    expires_at: record.expires_at,
                },
            );
            count += 1;
        }
        Ok(count)
    }

    /// Revokes the issued token `id`: deleted from the store, then refused from now on.
    pub async fn revoke(
        &self,
        store: &dyn crate::store::Store,
        id: &str,
    ) -> Result<crate::store::StoredToken, ApiError> {
        let record = store.delete_token(id).await?;
        self.lock()
            .retain(|_, known| known.id.as_deref() != Some(record.id.as_str()));
        Ok(record)
    }

    /// Registers a known plaintext token (e.g. `PONTE_ADMIN_TOKEN`).
    pub fn register(&self, token: &str, identity: Identity) -> Result<(), TokenError> {
        if token.is_empty() || identity.subject.trim().is_empty() {
            return Err(TokenError::Empty);
        }
        self.insert(hash(token), identity);
        Ok(())
    }

    /// Registers every configured token; on an invalid entry nothing is registered.
    pub fn load(&self, configured: &[ConfiguredToken]) -> Result<usize, TokenError> {
        let mut entries = Vec::with_capacity(configured.len());
        for entry in configured {
            let digest = match (&entry.token, &entry.sha256) {
                (Some(token), None) if !token.is_empty() => hash(token),
                (None, Some(hex)) => parse_hex(hex).ok_or_else(|| TokenError::BadHash {
                    subject: entry.subject.clone(),
                })?,
                (Some(_), None) => return Err(TokenError::Empty),
                _ => {
                    return Err(TokenError::Ambiguous {
                        subject: entry.subject.clone(),
                    });
                }
            };
            if entry.subject.trim().is_empty() {
                return Err(TokenError::Empty);
            }
            entries.push((
                digest,
                Identity {
                    role: entry.role,
                    subject: entry.subject.clone(),
                    groups: entry.groups.clone(),
                },
            ));
        }
        let count = entries.len();
        for (digest, identity) in entries {
            self.insert(digest, identity);
        }
        Ok(count)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Hash, Known>> {
        self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn insert(&self, digest: Hash, identity: Identity) {
        self.lock().insert(
            digest,
            Known {
                identity,
                id: None,
                expires_at: None,
            },
        );
    }

    /// The identity of `token`, if it is known and not expired.
    pub fn verify(&self, token: &str) -> Option<Identity> {
        self.check(token).ok()
    }

    /// The identity of `token`: 401 `unauthorized` when it is unknown (or revoked), 401
    /// `token_expired` once its expiry has passed.
    pub fn check(&self, token: &str) -> Result<Identity, ApiError> {
        let unknown = || ApiError::Unauthorized("the token is not valid");
        if token.starts_with(crate::guest::PREFIX) {
            let subject = self
                .guests
                .get()
                .and_then(|key| key.verify(token))
                .ok_or_else(unknown)?;
            return Ok(Identity {
                role: Role::Requester,
                subject,
                groups: Vec::new(),
            });
        }
        let presented = hash(token);
        let tokens = self.lock();
        // The map is keyed by the SHA-256 of the token, so a lookup's timing can only tell
        // about digests, never about the secret; the final comparison is constant-time all the
        // same. Lookups stay O(1) however many requesters hold tokens.
        let (stored, known) = tokens.get_key_value(&presented).ok_or_else(unknown)?;
        if !constant_time_eq(stored, &presented) {
            return Err(unknown());
        }
        if known
            .expires_at
            .is_some_and(|expires_at| crate::store::now_millis() >= expires_at)
        {
            return Err(ApiError::TokenExpired);
        }
        Ok(known.identity.clone())
    }

    /// Lets the widget start guest chats signed with `key`.
    pub fn allow_guests(&self, key: crate::guest::GuestKey) {
        let _ = self.guests.set(key);
    }

    /// A new guest requester `(token, subject)`, or `None` when guest chat is off.
    pub fn issue_guest(&self) -> Option<Result<(String, String), ApiError>> {
        let key = self.guests.get()?;
        Some(
            key.issue()
                .map_err(|error| ApiError::Internal(format!("no randomness for a guest: {error}"))),
        )
    }

    /// How many tokens are known.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `N` random bytes from the OS, as lowercase hex.
fn random_hex<const N: usize>() -> Result<String, ApiError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|error| ApiError::Internal(format!("no randomness for a token: {error}")))?;
    Ok(to_hex(&bytes))
}

/// A token's subject and groups are ids: not blank, bounded, no control characters.
fn check_names(subject: &str, groups: &[String]) -> Result<(), ApiError> {
    crate::error::check_id("subject", subject)?;
    for group in groups {
        crate::error::check_id("group", group)?;
    }
    Ok(())
}

/// The caller's identity, from `Authorization: Bearer <token>`; 401 `unauthorized` otherwise.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Identity);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or(ApiError::Unauthorized(
                "the Authorization header is missing",
            ))?;
        let value = header
            .to_str()
            .map_err(|_| ApiError::Unauthorized("the Authorization header is not text"))?;
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => {
                return Err(ApiError::Unauthorized(
                    "the Authorization header is not `Bearer <token>`",
                ));
            }
        };
        let identity = state.auth.check(token)?;
        state.rate_limit.check(&hash(token))?;
        Ok(Authenticated(identity))
    }
}

/// A closed set of roles allowed on a route, as a type: see [`Authorized`].
pub trait Roles: Send + Sync + 'static {
    const ALLOWED: &'static [Role];
}

/// Declares marker types implementing [`Roles`].
macro_rules! roles {
    ($($(#[$meta:meta])* $name:ident = [$($role:ident),+];)+) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, Copy)]
            pub struct $name;

            impl Roles for $name {
                const ALLOWED: &'static [Role] = &[$(Role::$role),+];
            }
        )+
    };
}

roles! {
    /// Admins only.
    Admins = [Admin];
    /// Who may edit knowledge.
    Editors = [KnowledgeManager, Admin];
    /// People who work chats.
    Staff = [Attendant, Analyst];
    /// Staff or admin.
    StaffOrAdmins = [Attendant, Analyst, Admin];
    /// Analysts only.
    Analysts = [Analyst];
    /// Requesters only.
    Requesters = [Requester];
}

/// The caller's identity when their role is one of `R::ALLOWED`: 401 as [`Authenticated`],
/// then 403 `forbidden`. Being an extractor of the request head, it runs before any body
/// extractor, so a caller who may not use a route learns that first, whatever they sent.
#[derive(Debug, Clone)]
pub struct Authorized<R: Roles> {
    pub identity: Identity,
    roles: std::marker::PhantomData<R>,
}

impl<R: Roles> FromRequestParts<AppState> for Authorized<R> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Authenticated(identity) = Authenticated::from_request_parts(parts, state).await?;
        identity.require(R::ALLOWED)?;
        Ok(Authorized {
            identity,
            roles: std::marker::PhantomData,
        })
    }
}

/// The caller's identity when a valid bearer token is given, `None` when no Authorization
/// header is sent (an anonymous caller); a header with an unknown token is still 401.
#[derive(Debug, Clone)]
pub struct MaybeAuthenticated(pub Option<Identity>);

impl FromRequestParts<AppState> for MaybeAuthenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if !parts.headers.contains_key(AUTHORIZATION) {
            return Ok(MaybeAuthenticated(None));
        }
        let Authenticated(identity) = Authenticated::from_request_parts(parts, state).await?;
        Ok(MaybeAuthenticated(Some(identity)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_others_do_not() {
        let store = TokenStore::new();
        let token = store
            .issue(Role::Requester, "maria", vec!["rh".into()])
            .unwrap();
        assert_eq!(token.len(), 64);
        let identity = store.verify(&token).unwrap();
        assert_eq!(identity.subject, "maria");
        assert_eq!(identity.role, Role::Requester);
        assert!(store.verify("nope").is_none());
        assert!(store.verify(&token[..63]).is_none());
    }

    #[test]
    fn configured_tokens_load_by_plaintext_or_hash() {
        let store = TokenStore::new();
        let configured: Vec<ConfiguredToken> = toml::from_str::<HashMap<String, Vec<_>>>(&format!(
            "tokens = [\n{{ token = \"alpha\", role = \"admin\", subject = \"root\" }},\n\
             {{ sha256 = \"{}\", role = \"knowledge_manager\", subject = \"kim\" }}]",
            token_hash_hex("beta")
        ))
        .unwrap()
        .remove("tokens")
        .unwrap();
        assert_eq!(store.load(&configured).unwrap(), 2);
        assert_eq!(store.verify("alpha").unwrap().role, Role::Admin);
        assert_eq!(store.verify("beta").unwrap().role, Role::KnowledgeManager);
        let bad = ConfiguredToken {
            token: Some("x".into()),
            sha256: Some(token_hash_hex("x")),
            role: Role::Admin,
            subject: "s".into(),
            groups: vec![],
        };
        assert!(store.load(&[bad]).is_err());
    }

    #[test]
    fn require_refuses_other_roles() {
        let identity = Identity {
            role: Role::Requester,
            subject: "s".into(),
            groups: vec![],
        };
        assert!(identity.require(&[Role::Requester]).is_ok());
        let error = identity.require(&[Role::Admin]).unwrap_err();
        assert_eq!(error.describe().1, "forbidden");
    }
}
