//! The token registry: every token this process knows, by hash, and whom each identifies.
//! Tokens come from configuration ([`TokenStore::load`]), from `PONTE_ADMIN_TOKEN` at start
//! ([`TokenStore::register`]), or are issued by an admin ([`TokenStore::issue_stored`]).
//! Issued tokens are kept durably behind [`IssuedTokens`] (the store's `tokens` table: hash,
//! stable id, optional expiry) and loaded back at start ([`TokenStore::restore`]), so their
//! holders survive a restart; revoking one ([`TokenStore::revoke`]) and its expiry take
//! effect at once, because every check reads the in-memory table the durable write updates.

use super::{AuthError, ConfiguredToken, Hash, Identity, Role, TokenError, hash, parse_hash};
use crate::store::{NewToken, Store, StoreError, StoredToken};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use subtle::ConstantTimeEq;

/// The durable part of the token registry: where the tokens issued through the API are
/// kept so that they outlive the process. Every [`Store`] is one (its `tokens` table).
///
/// Today one process serves every request, so the registry's in-memory table, filled from
/// here at start and updated on each write, is the truth every check reads. With several
/// nodes it becomes a cache: a token issued or revoked on one node must reach the others
/// (a notification of each change, or a read through to this table on a miss and on a
/// timer) before "revoked at once" holds across nodes, and the expiry stays checked on
/// each use.
#[async_trait]
pub trait IssuedTokens: Send + Sync {
    /// Keeps a newly issued token; fails when its id or hash is taken.
    async fn keep(&self, token: NewToken) -> Result<StoredToken, StoreError>;
    /// Every kept token.
    async fn all(&self) -> Result<Vec<StoredToken>, StoreError>;
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

    async fn forget(&self, id: &str) -> Result<StoredToken, StoreError> {
        Store::delete_token(self, id).await
    }
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
    pub record: StoredToken,
}

/// The token registry: the known tokens, by hash. Cheap to share behind an `Arc`.
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
        for record in stored {
            let role = serde_json::from_value::<Role>(serde_json::Value::String(record.role));
            let (Ok(role), Some(digest)) = (role, parse_hash(&record.sha256)) else {
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
            },
        );
    }

    /// The identity of `token`, if it is known and not expired.
    pub fn verify(&self, token: &str) -> Option<Identity> {
        self.check(token).ok()
    }

    /// The identity of `token`: [`AuthError::Unauthorized`] when it is unknown (or revoked),
    /// [`AuthError::TokenExpired`] once its expiry has passed.
    pub fn check(&self, token: &str) -> Result<Identity, AuthError> {
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
        let tokens = self.lock();
        // The map is keyed by the SHA-256 of the token, so a lookup's timing can only tell
        // about digests, never about the secret; the final comparison is constant-time all the
        // same. Lookups stay O(1) however many requesters hold tokens.
        let (stored, known) = tokens.get_key_value(&presented).ok_or_else(unknown)?;
        if !bool::from(stored[..].ct_eq(&presented[..])) {
            return Err(unknown());
        }
        if known
            .expires_at
            .is_some_and(|expires_at| crate::store::now_millis() >= expires_at)
        {
            return Err(AuthError::TokenExpired);
        }
        Ok(known.identity.clone())
    }

    /// Lets the widget start guest chats signed with `key`.
    pub fn allow_guests(&self, key: crate::guest::GuestKey) {
        let _ = self.guests.set(key);
    }

    /// A new guest requester `(token, subject)`, or `None` when guest chat is off.
    pub fn issue_guest(&self) -> Option<Result<(String, String), AuthError>> {
        let key = self.guests.get()?;
        Some(key.issue().map_err(|error| {
            AuthError::NoRandomness(format!("no randomness for a guest: {error}"))
        }))
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
fn random_hex<const N: usize>() -> Result<String, AuthError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|error| AuthError::NoRandomness(format!("no randomness for a token: {error}")))?;
    Ok(hex::encode(bytes))
}

/// A token's subject and groups are ids: not blank, bounded, no control characters.
fn check_names(subject: &str, groups: &[String]) -> Result<(), AuthError> {
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
}
