//! Conformance checks on what several nodes sharing one store rely on: the desk log's tail
//! after a position read with the snapshot's position, a snapshot that never replaces one
//! covering more, and an issued token found by its hash.

use std::sync::Arc;

use ponte::store::{DeskTail, NewToken, Store, StoreError};
use sha2::Digest;

use super::*;

pub async fn desk_tail_and_snapshots_of_several_writers(store: &Arc<dyn Store>) {
    let ops = [r#"{"op":"a"}"#, r#"{"op":"b"}"#, r#"{"op":"c"}"#];
    let mut seqs = Vec::new();
    for op in ops {
        seqs.push(store.desk_append(op).await.unwrap());
    }
    let (a, b, c) = (seqs[0], seqs[1], seqs[2]);
    assert_eq!(
        store.desk_ops_after(a).await.unwrap(),
        DeskTail {
            snapshot_through: 0,
            ops: vec![(b, ops[1].to_string()), (c, ops[2].to_string())],
        },
        "the operations after a position, in order"
    );
    assert!(store.desk_ops_after(c).await.unwrap().ops.is_empty());

    // Two writers snapshot; the later call covers less and changes nothing.
    store.desk_snapshot(r#"{"state":"c"}"#, c).await.unwrap();
    store.desk_snapshot(r#"{"state":"a"}"#, a).await.unwrap();
    let loaded = store.desk_load().await.unwrap();
    assert_eq!(
        loaded.snapshot,
        Some((r#"{"state":"c"}"#.to_string(), c)),
        "a snapshot replaced one that covers more"
    );
    assert!(loaded.ops.is_empty(), "{loaded:?}");
    // A reader at `a` learns that what followed was dropped with the snapshot.
    let tail = store.desk_ops_after(a).await.unwrap();
    assert_eq!(tail.snapshot_through, c);
    assert!(tail.ops.is_empty());

    // The position is where the snapshot left it.
    assert!(matches!(
        store.desk_append_after(r#"{"op":"x"}"#, a).await,
        Err(StoreError::DeskLogConflict { actual, .. }) if actual == c
    ));
    let d = store.desk_append_after(r#"{"op":"d"}"#, c).await.unwrap();
    assert!(d > c);
    assert_eq!(
        store.desk_ops_after(c).await.unwrap(),
        DeskTail {
            snapshot_through: c,
            ops: vec![(d, r#"{"op":"d"}"#.to_string())],
        }
    );
}

pub async fn token_found_by_hash(store: &Arc<dyn Store>) {
    let id = unique_id("tok");
    let sha256 = hex::encode(sha2::Sha256::digest(id.as_bytes()));
    let stored = store
        .insert_token(NewToken {
            id: id.clone(),
            sha256: sha256.clone(),
            role: "attendant".into(),
            subject: "ana".into(),
            groups: vec!["desk".into()],
            expires_at: None,
        })
        .await
        .unwrap();
    assert_eq!(
        store.token_by_sha256(&sha256).await.unwrap(),
        Some(stored),
        "a stored token is found by its hash"
    );
    let other = hex::encode(sha2::Sha256::digest(b"never stored"));
    assert_eq!(store.token_by_sha256(&other).await.unwrap(), None);
    store.delete_token(&id).await.unwrap();
    assert_eq!(
        store.token_by_sha256(&sha256).await.unwrap(),
        None,
        "a deleted token is not found"
    );
}
