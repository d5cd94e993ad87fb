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

/// Failed sign-ins are counted per key within a window whichever store handle recorded them,
/// the oldest counted is told, old ones are forgotten as new ones come, a key's failures can
/// be forgotten alone, and malformed keys are refused.
pub async fn sign_in_failures_counted_and_forgotten(store: &Arc<dyn Store>) {
    let user = format!("user:{}", digest());
    let address = unique_id("addr:10.0.0.");
    let both = [user.clone(), address.clone()];
    for at in [1_000, 2_000, 3_000] {
        store.record_sign_in_failure(&both, at, 0).await.unwrap();
    }
    store
        .record_sign_in_failure(std::slice::from_ref(&address), 4_000, 0)
        .await
        .unwrap();
    let counted = |found: Vec<ponte::store::SignInFailures>| {
        let mut found: Vec<(String, i64, i64)> = found
            .into_iter()
            .map(|failures| (failures.key, failures.count, failures.oldest_ms))
            .collect();
        found.sort();
        found
    };
    let mut expected = vec![(user.clone(), 3, 1_000), (address.clone(), 4, 1_000)];
    expected.sort();
    assert_eq!(
        counted(store.sign_in_failures(&both, 0).await.unwrap()),
        expected
    );
    // Only those inside the window count, and the oldest of them is told.
    let mut expected = vec![(user.clone(), 2, 2_000), (address.clone(), 3, 2_000)];
    expected.sort();
    assert_eq!(
        counted(store.sign_in_failures(&both, 2_000).await.unwrap()),
        expected
    );
    // A key without failures is not listed.
    let fresh = [format!("user:{}", digest())];
    assert!(store.sign_in_failures(&fresh, 0).await.unwrap().is_empty());
    // A success forgets the user name's failures, not the address's.
    store
        .forget_sign_in_failures(std::slice::from_ref(&user))
        .await
        .unwrap();
    assert_eq!(
        counted(store.sign_in_failures(&both, 0).await.unwrap()),
        vec![(address.clone(), 4, 1_000)]
    );
    // Recording forgets what is older than asked, for every key.
    store
        .record_sign_in_failure(std::slice::from_ref(&user), 5_000, 3_500)
        .await
        .unwrap();
    let mut expected = vec![(user.clone(), 1, 5_000), (address.clone(), 1, 4_000)];
    expected.sort();
    assert_eq!(
        counted(store.sign_in_failures(&both, 0).await.unwrap()),
        expected
    );
    for bad in [String::new(), "k".repeat(101), "user:\nx".to_string()] {
        let keys = [bad];
        let what = format!("key {:?}", keys[0]);
        expect_code(
            store.record_sign_in_failure(&keys, 1, 0).await,
            "invalid_input",
            &what,
        );
        expect_code(
            store.sign_in_failures(&keys, 0).await,
            "invalid_input",
            &what,
        );
        expect_code(
            store.forget_sign_in_failures(&keys).await,
            "invalid_input",
            &what,
        );
    }
}
