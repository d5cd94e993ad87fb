//! Staff accounts and their sessions: an account is created and changed in place, a session
//! identifies its account as it is now, expires, ends on sign-out, on a new password and
//! with its account, and malformed input is refused.

use std::sync::Arc;

use ponte::store::{NewAccount, NewSession, Store};

use super::{expect_code, unique_id};

fn account(username: &str, hash: &str, role: &str) -> NewAccount {
    NewAccount {
        username: username.to_string(),
        password_hash: hash.to_string(),
        role: role.to_string(),
        subject: format!("{username}-person"),
        groups: vec!["ti".to_string()],
    }
}

fn session(username: &str, sha256: &str, expires_at: i64) -> NewSession {
    NewSession {
        id: unique_id("ses"),
        sha256: sha256.to_string(),
        username: username.to_string(),
        expires_at,
    }
}

/// A 64-hex-digit stand-in for a session secret's hash, distinct per call.
fn digest() -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(unique_id("secret").as_bytes()))
}

pub async fn accounts_and_sessions(store: &Arc<dyn Store>) {
    let username = unique_id("ana");
    let now = 1_000_000;
    let created = store
        .put_account(account(&username, "$argon2id$first", "attendant"))
        .await
        .expect("a new account is kept");
    assert_eq!(created.role, "attendant");
    assert_eq!(
        store.account(&username).await.unwrap(),
        Some(created.clone()),
        "an account reads back as kept"
    );
    assert!(
        store
            .accounts()
            .await
            .unwrap()
            .iter()
            .any(|listed| listed.username == username),
        "the list holds the new account"
    );

    // A session identifies its account as the account is now.
    let first = digest();
    store
        .insert_session(session(&username, &first, now + 60_000), now)
        .await
        .expect("a session of an existing account is kept");
    let changed = store
        .put_account(account(&username, "$argon2id$first", "admin"))
        .await
        .unwrap();
    assert_eq!(
        changed.created_at, created.created_at,
        "a change keeps the creation time"
    );
    let found = store
        .session(&first, now)
        .await
        .unwrap()
        .expect("the session is live");
    assert_eq!(
        found.role, "admin",
        "a session carries the account's current role"
    );
    assert_eq!(found.username, username);
    assert_eq!(found.groups, vec!["ti".to_string()]);
    assert_eq!(
        store.session(&first, now + 60_000).await.unwrap(),
        None,
        "a session is refused from its expiry on"
    );

    // A new password ends the account's sessions; the same one does not.
    let second = digest();
    store
        .insert_session(session(&username, &second, now + 60_000), now)
        .await
        .unwrap();
    store
        .put_account(account(&username, "$argon2id$first", "admin"))
        .await
        .unwrap();
    assert!(
        store.session(&second, now).await.unwrap().is_some(),
        "same password, session kept"
    );
    store
        .put_account(account(&username, "$argon2id$second", "admin"))
        .await
        .unwrap();
    assert_eq!(
        store.session(&second, now).await.unwrap(),
        None,
        "a new password signs out"
    );

    // Sign-out forgets one session; a new session prunes the expired ones.
    let third = digest();
    store
        .insert_session(session(&username, &third, now + 60_000), now)
        .await
        .unwrap();
    assert!(
        store.delete_session(&third).await.unwrap(),
        "a live session is deleted"
    );
    assert!(
        !store.delete_session(&third).await.unwrap(),
        "a second sign-out finds nothing"
    );

    // A session of an unknown account is refused; deleting the account ends its sessions.
    expect_code(
        store
            .insert_session(session(&unique_id("nobody"), &digest(), now + 1), now)
            .await,
        "not_found",
        "a session of an unknown account",
    );
    let fourth = digest();
    store
        .insert_session(session(&username, &fourth, now + 60_000), now)
        .await
        .unwrap();
    let deleted = store.delete_account(&username).await.unwrap();
    assert_eq!(deleted.username, username);
    assert_eq!(
        store.session(&fourth, now).await.unwrap(),
        None,
        "deleting an account ends its sessions"
    );
    assert_eq!(store.account(&username).await.unwrap(), None);
    expect_code(
        store.delete_account(&username).await,
        "not_found",
        "deleting twice",
    );

    // Malformed input changes nothing.
    expect_code(
        store
            .put_account(account(" ", "$argon2id$x", "admin"))
            .await,
        "invalid_input",
        "a blank user name",
    );
    expect_code(
        store
            .put_account(account(&unique_id("bob"), "plain", "admin"))
            .await,
        "invalid_input",
        "a hash that is not a PHC string",
    );
    expect_code(
        store.session("abc", now).await,
        "invalid_input",
        "a short session hash",
    );
}
