//! Staff sign-in with a user name and password, and the sessions it opens. An account
//! (kept by the store, its password as an Argon2id hash: see [`super::password`]) carries
//! the identity a token would: a role, a subject and groups. Signing in checks the password
//! and opens a session: a random secret handed to the browser once (the HTTP layer puts it
//! in a cookie), of which the store keeps only the SHA-256, with an expiry. Each request
//! presenting the secret is identified by the account as it is now, so a changed role or
//! groups take effect at once, and a changed password or a deleted account ends its
//! sessions on every node.
//!
//! Guessing is slowed down: after [`MAX_FAILURES`] failed attempts within
//! [`FAILURE_WINDOW`] for one user name, or from one client address, further attempts are
//! refused (`too_many_attempts`, with the seconds to wait) until the oldest failure leaves
//! the window. The failures are kept by the store, so the count is the same on every node
//! (a user name is kept as its SHA-256).

use super::registry::{check_names, random_hex};
use super::{AuthError, Identity, Role, password};
use crate::store::{
    NewAccount, NewSession, SignInFailures, StaffAccount, Store, StoreError, now_millis,
};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// How long a session lasts from sign-in.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);
/// Failed attempts allowed per user name, and per client address, within [`FAILURE_WINDOW`].
pub const MAX_FAILURES: usize = 5;
/// The window failed attempts are counted in.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// A session just opened: the secret (given to the browser, never kept) and whom it is.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub secret: String,
    pub username: String,
    pub identity: Identity,
    /// Unix milliseconds from which the session is refused.
    pub expires_at: i64,
}

/// A live session: whose it is and whom it identifies now.
#[derive(Debug, Clone)]
pub struct Session {
    pub username: String,
    pub identity: Identity,
    /// Unix milliseconds from which the session is refused.
    pub expires_at: i64,
}

/// Accounts, sign-in and sessions over the store shared by every node.
pub struct Sessions {
    store: Arc<dyn Store>,
}

impl Sessions {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Sessions { store }
    }

    /// Checks `username`'s password and opens a session; `invalid_credentials` for an
    /// unknown name or a wrong password alike, `too_many_attempts` while guessing is held
    /// back (see the module).
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<SignedIn, AuthError> {
        let keys = attempt_keys(username, client);
        let failed_before = self.hold_back(&keys).await?;
        let account = match crate::store::check_id("user name", username) {
            Ok(()) => self.store.account(username).await?,
            Err(_) => None,
        };
        let kept = account
            .as_ref()
            .map(|account| account.password_hash.clone());
        let offered = password.to_owned();
        let matches =
            tokio::task::spawn_blocking(move || password::verify(&offered, kept.as_deref()))
                .await
                .map_err(|error| AuthError::Internal(format!("password check: {error}")))?;
        let account = match (matches, account) {
            (true, Some(account)) => account,
            _ => {
                let now = now_millis();
                self.store
                    .record_sign_in_failure(&keys, now, now - window_ms())
                    .await?;
                return Err(AuthError::InvalidCredentials);
            }
        };
        // A success clears the name's failures; with none counted there is nothing to write.
        if failed_before.iter().any(|failures| failures.key == keys[0]) {
            self.store.forget_sign_in_failures(&keys[..1]).await?;
        }
        let identity = identity_of(&account)?;
        let secret = random_hex::<32>()?;
        let expires_at = now_millis() + SESSION_TTL.as_millis() as i64;
        self.store
            .insert_session(
                NewSession {
                    id: format!("ses_{}", random_hex::<8>()?),
                    sha256: super::token_hash_hex(&secret),
                    username: account.username.clone(),
                    expires_at,
                },
                now_millis(),
            )
            .await?;
        Ok(SignedIn {
            secret,
            username: account.username,
            identity,
            expires_at,
        })
    }

    /// Who the session with `secret` is now; `unauthorized` once it has ended.
    pub async fn identify(&self, secret: &str) -> Result<Session, AuthError> {
        let found = self
            .store
            .session(&super::token_hash_hex(secret), now_millis())
            .await?;
        let Some(session) = found else {
            return Err(AuthError::Unauthorized(
                "the session has ended or is unknown: sign in again",
            ));
        };
        let role = parse_role(&session.role)?;
        Ok(Session {
            username: session.username,
            identity: Identity {
                role,
                subject: session.subject,
                groups: session.groups,
            },
            expires_at: session.expires_at,
        })
    }

    /// Ends the session with `secret`; whether there was one.
    pub async fn sign_out(&self, secret: &str) -> Result<bool, AuthError> {
        Ok(self
            .store
            .delete_session(&super::token_hash_hex(secret))
            .await?)
    }

    /// Creates or changes the account `username`. A new account needs a `password`; an
    /// existing one keeps its password when none is given (a new one ends its sessions).
    pub async fn put_account(
        &self,
        username: &str,
        password: Option<&str>,
        role: Role,
        subject: &str,
        groups: Vec<String>,
    ) -> Result<StaffAccount, AuthError> {
        check_names(username, &[])?;
        check_names(subject, &groups)?;
        let password_hash = match password {
            Some(password) => {
                password::check_policy(username, password)
                    .map_err(|weak| AuthError::WeakPassword(weak.0))?;
                let password = password.to_owned();
                tokio::task::spawn_blocking(move || password::hash(&password))
                    .await
                    .map_err(|error| AuthError::Internal(format!("password hash: {error}")))?
                    .map_err(AuthError::Internal)?
            }
            None => match self.store.account(username).await? {
                Some(account) => account.password_hash,
                None => {
                    return Err(AuthError::WeakPassword(
                        "a new account needs a password".into(),
                    ));
                }
            },
        };
        Ok(self
            .store
            .put_account(NewAccount {
                username: username.to_owned(),
                password_hash,
                role: role.as_str().to_owned(),
                subject: subject.to_owned(),
                groups,
            })
            .await?)
    }

    /// Every account, by user name.
    pub async fn accounts(&self) -> Result<Vec<StaffAccount>, AuthError> {
        Ok(self.store.accounts().await?)
    }

    /// Deletes the account `username` and ends its sessions.
    pub async fn delete_account(&self, username: &str) -> Result<StaffAccount, AuthError> {
        check_names(username, &[])?;
        Ok(self.store.delete_account(username).await?)
    }

    /// `too_many_attempts` when any of `keys` has used up its failures in the window;
    /// otherwise the failures counted under them.
    async fn hold_back(&self, keys: &[String]) -> Result<Vec<SignInFailures>, AuthError> {
        let now = now_millis();
        let window = window_ms();
        let failures = self.store.sign_in_failures(keys, now - window).await?;
        let wait_ms = failures
            .iter()
            .filter(|failures| failures.count >= MAX_FAILURES as i64)
            .map(|failures| window - (now - failures.oldest_ms))
            .max()
            .unwrap_or(0);
        if wait_ms <= 0 {
            Ok(failures)
        } else {
            Err(AuthError::TooManyAttempts {
                retry_after_secs: (wait_ms as u64).div_ceil(1000).max(1),
            })
        }
    }
}

fn window_ms() -> i64 {
    FAILURE_WINDOW.as_millis() as i64
}

/// The user name's key first (cleared by a success), then the client address's.
fn attempt_keys(username: &str, client: Option<IpAddr>) -> Vec<String> {
    let name = username.trim().to_lowercase();
    let mut keys = vec![format!("user:{}", super::token_hash_hex(&name))];
    if let Some(address) = client {
        keys.push(format!("addr:{address}"));
    }
    keys
}

fn parse_role(role: &str) -> Result<Role, AuthError> {
    serde_json::from_value::<Role>(serde_json::Value::String(role.to_owned())).map_err(|_| {
        AuthError::Store(StoreError::Corrupt(format!(
            "an account has the unknown role {role:?}"
        )))
    })
}

fn identity_of(account: &StaffAccount) -> Result<Identity, AuthError> {
    Ok(Identity {
        role: parse_role(&account.role)?,
        subject: account.subject.clone(),
        groups: account.groups.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A success forgets the name's failures, so the name may fail again afresh; without
    /// it, three failures before and three after would hold the right password back.
    #[tokio::test]
    async fn a_success_clears_the_names_failures() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("ponte.db").display());
        let store = crate::store::open(&url, Default::default()).await.unwrap();
        let sessions = Sessions::new(store.clone());
        let right = "senha muito segura";
        sessions
            .put_account("ana", Some(right), Role::Attendant, "ana", Vec::new())
            .await
            .unwrap();
        for round in 0..2 {
            for attempt in 0..3 {
                let failed = sessions
                    .sign_in("ana", &format!("palpite {attempt}"), None)
                    .await;
                assert!(
                    matches!(failed, Err(AuthError::InvalidCredentials)),
                    "round {round}, attempt {attempt}: {failed:?}"
                );
            }
            let signed_in = sessions.sign_in("ana", right, None).await;
            assert!(signed_in.is_ok(), "round {round}: {:?}", signed_in.err());
            let kept = store
                .sign_in_failures(&attempt_keys("ana", None), 0)
                .await
                .unwrap();
            assert!(kept.is_empty(), "round {round}: {kept:?}");
        }
    }
}
