//! Conformance checks on leases: one holder at a time (also when many claim at once), renewal
//! by the holder, take-over once the holder's time ran out, and a release that frees the
//! lease at once. Times are the caller's clock, given explicitly, so nothing here sleeps.

use std::sync::Arc;

use ponte::store::{Store, StoreError};

use super::*;

pub async fn leases_exclusive_renewed_and_taken_over(store: &Arc<dyn Store>) {
    let name = unique_id("lease");
    let (ana, bia) = (unique_id("node-ana"), unique_id("node-bia"));
    assert_eq!(store.lease_holder(&name, 1_000).await.unwrap(), None);
    assert!(
        store.lease_claim(&name, &ana, 100, 1_000).await.unwrap(),
        "a free lease is granted"
    );
    assert_eq!(
        store.lease_holder(&name, 1_099).await.unwrap().as_deref(),
        Some(ana.as_str()),
        "the holder is shown until its claim runs out"
    );
    assert_eq!(
        store.lease_holder(&name, 1_100).await.unwrap(),
        None,
        "an expired claim holds nothing"
    );
    assert!(
        !store.lease_claim(&name, &bia, 100, 1_050).await.unwrap(),
        "a held lease is refused to another holder"
    );
    assert!(
        store.lease_claim(&name, &ana, 100, 1_080).await.unwrap(),
        "the holder renews"
    );
    assert!(
        !store.lease_claim(&name, &bia, 100, 1_150).await.unwrap(),
        "a renewal moves the expiry on"
    );
    assert!(
        store.lease_claim(&name, &bia, 100, 1_180).await.unwrap(),
        "an expired lease is taken over"
    );
    assert!(
        !store.lease_claim(&name, &ana, 100, 1_190).await.unwrap(),
        "the old holder cannot renew a lease taken over"
    );

    // Many claiming at once: exactly one wins.
    let contested = unique_id("lease");
    let claims = (0..16).map(|index| {
        let store = store.clone();
        let contested = contested.clone();
        tokio::spawn(async move {
            let holder = format!("node-{index}");
            store
                .lease_claim(&contested, &holder, 10_000, 5_000)
                .await
                .unwrap()
        })
    });
    let mut granted = 0;
    for claim in claims.collect::<Vec<_>>() {
        if claim.await.unwrap() {
            granted += 1;
        }
    }
    assert_eq!(granted, 1, "one of many simultaneous claims is granted");

    for bad in [
        store.lease_claim(&name, &ana, 0, 1_000).await,
        store.lease_claim("", &ana, 100, 1_000).await,
        store.lease_claim(&name, "", 100, 1_000).await,
    ] {
        assert!(
            matches!(bad, Err(StoreError::InvalidInput(_))),
            "a bad claim is refused: {bad:?}"
        );
    }
}

pub async fn leases_release_frees_at_once(store: &Arc<dyn Store>) {
    let name = unique_id("lease");
    let (ana, bia) = (unique_id("node-ana"), unique_id("node-bia"));
    assert!(store.lease_claim(&name, &ana, 60_000, 1_000).await.unwrap());
    store.lease_release(&name, &bia).await.unwrap();
    assert!(
        !store.lease_claim(&name, &bia, 60_000, 1_001).await.unwrap(),
        "only the holder's release frees a lease"
    );
    store.lease_release(&name, &ana).await.unwrap();
    assert_eq!(store.lease_holder(&name, 1_002).await.unwrap(), None);
    assert!(
        store.lease_claim(&name, &bia, 60_000, 1_002).await.unwrap(),
        "a released lease is free long before its time ran out"
    );
    // Releasing what one does not hold (any more) is harmless.
    store.lease_release(&name, &ana).await.unwrap();
    store
        .lease_release(&unique_id("lease"), &ana)
        .await
        .unwrap();
    assert!(
        !store.lease_claim(&name, &ana, 60_000, 1_003).await.unwrap(),
        "a stale release leaves the new holder alone"
    );
}
