//! The token registry: every token this process knows, by hash, and whom each identifies.
//! Tokens come from configuration ([`TokenStore::load`]), from `PONTE_ADMIN_TOKEN` at start
//! ([`TokenStore::register`]), or are issued by an admin ([`TokenStore::issue_stored`]).
//! Issued tokens are kept durably behind [`IssuedTokens`] (the store's `tokens` table: hash,
//! stable id, optional expiry) and loaded back at start ([`TokenStore::restore`]), so their
//! holders survive a restart; revoking one ([`TokenStore::revoke`]) and its expiry take
//! effect at once on the node that revokes.
//!
//! Several nodes share the store, so for issued tokens the in-memory table is a cache of
//! it ([`TokenStore::read_through`]): a token this node does not know is looked up in the
//! store (so one issued on another node works at once; an unknown token is not remembered,
//! the next use looks again), and an issued token whose last look is older than
//! [`RECHECK_AFTER`] is looked up again before it is accepted, so a revocation on another
//! node takes effect here within about that long. Configured tokens and `PONTE_ADMIN_TOKEN`
//! live in memory only, as before.

use super::{AuthError, ConfiguredToken, Hash, Identity, Role, TokenError, hash, parse_hash};
use crate::store::{NewToken, Store, StoreError, StoredToken};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// How long an issued token is accepted on one look at the store: the most a revocation on
/// another node takes to reach this one.
pub const RECHECK_AFTER: Duration = Duration::from_secs(1);

/// The durable part of the token registry: where the tokens issued through the API are
/// kept so that they outlive the process, shared by every node. Every [`Store`] is one (its
/// `tokens` table). The registry's in-memory table caches it (see the module).
#[async_trait]
pub trait IssuedTokens: Send + Sync {
    /// Keeps a newly issued token; fails when its id or hash is taken.
    async fn keep(&self, token: NewToken) -> Result<StoredToken, StoreError>;
    /// Every kept token.
    async fn all(&self) -> Result<Vec<StoredToken>, StoreError>;
    /// The kept token whose SHA-256 is `sha256` (lowercase hex), if any.
    async fn find(&self, sha256: &str) -> Result<Option<StoredToken>, StoreError>;
    /// Forgets the token `id` and returns what was kept; not found when unknown.
    async fn forget(&self, id: &str) -> Result<StoredToken, StoreError>;
}

#[async_trait]
impl<S: Store + ?Sized> IssuedTokens for S {
    async fn keep(&self, token: NewToken) -> Result<StoredToken, StoreError> {
        Store::insert_token(self, token).await
    }

    async fn all(&self) -> Result<Vec<StoredToken>, StoreError> {
        Store::tokens(self).await
    }

    async fn find(&self, sha256: &str) -> Result<Option<StoredToken>, StoreError> {
        Store::token_by_sha256(self, sha256).await
    }

    async fn forget(&self, id: &str) -> Result<StoredToken, StoreError> {
        Store::delete_token(self, id).await
    }
}

/// A shared [`IssuedTokens`] the registry reads through to.
struct Shared<S: ?Sized>(Arc<S>);

#[async_trait]
impl<S: IssuedTokens + ?Sized> IssuedTokens for Shared<S> {
    async fn keep(&self, token: NewToken) -> Result<StoredToken, StoreError> {
        self.0.keep(token).await
    }

    async fn all(&self) -> Result<Vec<StoredToken>, StoreError> {
        self.0.all().await
    }

    async fn find(&self, sha256: &str) -> Result<Option<StoredToken>, StoreError> {
        self.0.find(sha256).await
    }

    async fn forget(&self, id: &str) -> Result<StoredToken, StoreError> {
        self.0.forget(id).await
    }
}

/// One known token: whom it identifies and, for tokens issued through the API, its stored id
/// and expiry (unix milliseconds) and when the store last said it was there.
#[derive(Debug, Clone)]
struct Known {
    identity: Identity,
    id: Option<String>,
    expires_at: Option<i64>,
    seen_at: Option<Instant>,
}

impl Known {
    /// What the store keeps of an issued token, or `None` for a row this version cannot
    /// read (an unknown role or a bad hash).
    fn from_record(record: StoredToken) -> Option<(Hash, Known)> {
        let role = serde_json::from_value::<Role>(serde_json::Value::String(record.role));
        let (Ok(role), Some(digest)) = (role, parse_hash(&record.sha256)) else {
            tracing::warn!(id = %record.id, "stored token skipped: unknown role or bad hash");
            return None;
        };
        let known = Known {
            identity: Identity {
                role,
                subject: record.subject,
                groups: record.groups,
            },
            id: Some(record.id),
            expires_at: record.expires_at,
            seen_at: Some(Instant::now()),
        };
        Some((digest, known))
    }

    /// An issued token not confirmed by the store for [`RECHECK_AFTER`].
    fn needs_a_look(&self) -> bool {
        self.id.is_some()
            && self
                .seen_at
                .is_none_or(|seen_at| seen_at.elapsed() >= RECHECK_AFTER)
    }
}

/// A token just issued through the API: the plaintext, shown once, and what the store keeps.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub record: StoredToken,
}

/// The token registry: the known tokens, by hash. Cheap to share behind an `Arc`.
#[derive(Default)]
pub struct TokenStore {
    tokens: Mutex<HashMap<Hash, Known>>,
    /// Where issued tokens are looked up (several nodes share it); absent without a store.
    issued: OnceLock<Arc<dyn IssuedTokens>>,
    /// Signs the widget's anonymous guests; absent when guest chat is off.
    guests: std::sync::OnceLock<crate::guest::GuestKey>,
}

impl std::fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenStore")
            .field("tokens", &self.len())
            .field("read_through", &self.issued.get().is_some())
            .finish()
    }
}

impl TokenStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Looks issued tokens up in `store` (shared with the other nodes): one this node does
    /// not know, and one not confirmed for [`RECHECK_AFTER`]. Set once, at start.
    pub fn read_through<S: IssuedTokens + ?Sized + 'static>(&self, store: Arc<S>) {
        let _ = self.issued.set(Arc::new(Shared(store)));
    }

    /// Mints a random token (32 bytes from the OS, hex) for `subject`, known to this process
    /// only (tests of the router alone); returns the plaintext, which is not kept. The API
    /// issues with [`issue_stored`](Self::issue_stored).
    pub fn issue(
        &self,
        role: Role,
        subject: impl Into<String>,
        groups: Vec<String>,
    ) -> Result<String, AuthError> {
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
    pub async fn issue_stored<S: IssuedTokens + ?Sized>(
        &self,
        store: &S,
        identity: Identity,
        expires_at: Option<i64>,
    ) -> Result<IssuedToken, AuthError> {
        check_names(&identity.subject, &identity.groups)?;
        let token = random_hex::<32>()?;
        let digest = hash(&token);
        let record = store
            .keep(NewToken {
                id: format!("tok_{}", random_hex::<8>()?),
                sha256: hex::encode(digest),
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
                seen_at: Some(Instant::now()),
            },
        );
        Ok(IssuedToken { token, record })
    }

    /// Loads every token issued through the API from `store` (at start); returns how many.
    /// A stored row this version cannot read (an unknown role) is skipped with a warning.
    pub async fn restore<S: IssuedTokens + ?Sized>(&self, store: &S) -> Result<usize, AuthError> {
        let stored = store.all().await?;
        let mut tokens = self.lock();
        let mut count = 0;
        for (digest, known) in stored.into_iter().filter_map(Known::from_record) {
            tokens.insert(digest, known);
            count += 1;
        }
        Ok(count)
    }

    /// Revokes the issued token `id`: deleted from the store, then refused from now on.
    pub async fn revoke<S: IssuedTokens + ?Sized>(
        &self,
        store: &S,
        id: &str,
    ) -> Result<StoredToken, AuthError> {
        let record = store.forget(id).await?;
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
                (None, Some(hex)) => parse_hash(hex).ok_or_else(|| TokenError::BadHash {
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
                seen_at: None,
            },
        );
    }

    /// The identity of `token`, if it is known and not expired.
    pub async fn verify(&self, token: &str) -> Option<Identity> {
        self.check(token).await.ok()
    }

    /// The identity of `token`: [`AuthError::Unauthorized`] when it is unknown (or revoked),
    /// [`AuthError::TokenExpired`] once its expiry has passed. An issued token this node
    /// does not know, or has not seen in the store for [`RECHECK_AFTER`], is looked up there
    /// first (see the module); a store that cannot answer then refuses with its error.
    pub async fn check(&self, token: &str) -> Result<Identity, AuthError> {
        let unknown = || AuthError::Unauthorized("the token is not valid");
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
        let known = match (self.cached(&presented), self.issued.get()) {
            (Some(known), source) if source.is_none() || !known.needs_a_look() => known,
            (_, None) => return Err(unknown()),
            (_, Some(source)) => self
                .look_up(source.as_ref(), &presented)
                .await?
                .ok_or_else(unknown)?,
        };
        if known
            .expires_at
            .is_some_and(|expires_at| crate::store::now_millis() >= expires_at)
        {
            return Err(AuthError::TokenExpired);
        }
        Ok(known.identity)
    }

    /// The cached entry for `presented`, if any.
    fn cached(&self, presented: &Hash) -> Option<Known> {
        let tokens = self.lock();
        // The map is keyed by the SHA-256 of the token, so a lookup's timing can only tell
        // about digests, never about the secret; the final comparison is constant-time all the
        // same. Lookups stay O(1) however many requesters hold tokens.
        let (stored, known) = tokens.get_key_value(presented)?;
        bool::from(stored[..].ct_eq(&presented[..])).then(|| known.clone())
    }

    /// Asks `source` for the issued token `presented` and caches the answer: the token, or
    /// its absence (a cached issued token that is gone was revoked on another node).
    async fn look_up(
        &self,
        source: &dyn IssuedTokens,
        presented: &Hash,
    ) -> Result<Option<Known>, AuthError> {
        let found = source.find(&hex::encode(presented)).await?;
        let mut tokens = self.lock();
        match found.and_then(Known::from_record) {
            Some((digest, known)) if digest == *presented => {
                tokens.insert(digest, known.clone());
                Ok(Some(known))
            }
            _ => {
                // Only an issued token is forgotten: a configured one with the same hash
                // (never stored) stays.
                if tokens
                    .get(presented)
                    .is_some_and(|known| known.id.is_some())
                {
                    tokens.remove(presented);
                }
                Ok(None)
            }
        }
    }

    /// Lets the widget start guest chats signed with `key`.
    pub fn allow_guests(&self, key: crate::guest::GuestKey) {
        let _ = self.guests.set(key);
    }

    /// A new guest requester `(token, subject)`, or `None` when guest chat is off.
    pub fn issue_guest(&self) -> Option<Result<(String, String), AuthError>> {
        let key = self.guests.get()?;
        Some(
            key.issue().map_err(|error| {
                AuthError::Internal(format!("no randomness for a guest: {error}"))
            }),
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
pub(super) fn random_hex<const N: usize>() -> Result<String, AuthError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|error| AuthError::Internal(format!("no randomness for a token: {error}")))?;
    Ok(hex::encode(bytes))
}

/// A token's subject and groups are ids: not blank, bounded, no control characters.
pub(super) fn check_names(subject: &str, groups: &[String]) -> Result<(), AuthError> {
    let check = |field: &str, value: &str| {
        crate::store::check_id(field, value).map_err(|error| match error {
            StoreError::InvalidInput(reason) => AuthError::InvalidId(reason),
            other => AuthError::InvalidId(other.to_string()),
        })
    };
    check("subject", subject)?;
    for group in groups {
        check("group", group)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::token_hash_hex;
    use super::*;

    #[tokio::test]
    async fn issued_tokens_verify_and_others_do_not() {
        let store = TokenStore::new();
        let token = store
            .issue(Role::Requester, "maria", vec!["rh".into()])
            .unwrap();
        assert_eq!(token.len(), 64);
        let identity = store.verify(&token).await.unwrap();
        assert_eq!(identity.subject, "maria");
        assert_eq!(identity.role, Role::Requester);
        assert!(store.verify("nope").await.is_none());
        assert!(store.verify(&token[..63]).await.is_none());
    }

    #[tokio::test]
    async fn configured_tokens_load_by_plaintext_or_hash() {
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
        assert_eq!(store.verify("alpha").await.unwrap().role, Role::Admin);
        assert_eq!(
            store.verify("beta").await.unwrap().role,
            Role::KnowledgeManager
        );
        let bad = ConfiguredToken {
            token: Some("x".into()),
            sha256: Some(token_hash_hex("x")),
            role: Role::Admin,
            subject: "s".into(),
            groups: vec![],
        };
        assert!(store.load(&[bad]).is_err());
    }
}
