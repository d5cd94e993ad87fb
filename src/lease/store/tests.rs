//! Two nodes' [`StoreLease`]s over one real SQLite file: one holds while the other waits,
//! a drop or a close hands the lease over at once, a holder whose lease was taken over or
//! that cannot renew reports it lost, and a name is held once within a process.

use super::*;
use crate::lease::{LOST_CHATS, RESUME};

const TTL: Duration = Duration::from_millis(600);
/// Far more than any hand-over here should take.
const PATIENCE: Duration = Duration::from_secs(10);

async fn sqlite(dir: &tempfile::TempDir) -> Arc<dyn Store> {
    let url = format!("sqlite://{}", dir.path().join("ponte.db").display());
    crate::store::open(&url, Default::default()).await.unwrap()
}

#[tokio::test]
async fn one_node_holds_and_renews_while_the_other_waits_then_a_drop_hands_over() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir).await;
    let ana = StoreLease::new(store.clone(), "ana", TTL);
    let bia = StoreLease::new(store.clone(), "bia", TTL);
    assert_ne!(ana.holder(), bia.holder());

    let held = ana.acquire(LOST_CHATS).await;
    assert!(bia.try_acquire(LOST_CHATS).await.is_none());
    let waiting = tokio::spawn({
        let bia = bia.clone();
        async move { bia.acquire(LOST_CHATS).await }
    });
    // Three TTLs: without renewals the lease would have expired and been taken twice over.
    tokio::time::sleep(TTL * 3).await;
    assert!(
        !waiting.is_finished(),
        "the lease was taken from a live holder"
    );
    assert!(held.is_held());

    drop(held);
    let taken = tokio::time::timeout(PATIENCE, waiting)
        .await
        .expect("the waiting node never got the released lease")
        .unwrap();
    assert!(taken.is_held());
    assert!(ana.try_acquire(LOST_CHATS).await.is_none());
    // Other names are free all along.
    assert!(ana.try_acquire(RESUME).await.is_some());
    store.close().await;
}

#[tokio::test]
async fn a_holder_whose_lease_was_taken_over_reports_it_lost() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir).await;
    let ana = StoreLease::new(store.clone(), "ana", TTL);
    let mut held = ana.acquire(LOST_CHATS).await;
    // Another node whose clock says the lease ran out (as if `ana` had stopped renewing).
    let later = crate::store::now_millis() + 60_000;
    assert!(
        store
            .lease_claim(LOST_CHATS, "intruder", 60_000, later)
            .await
            .unwrap()
    );
    tokio::time::timeout(TTL, held.lost())
        .await
        .expect("the holder did not notice the take-over");
    assert!(!held.is_held());
    // Its row is left to the new holder.
    let bia = StoreLease::new(store.clone(), "bia", TTL);
    assert!(bia.try_acquire(LOST_CHATS).await.is_none());
    store.close().await;
}

#[tokio::test]
async fn a_holder_that_cannot_renew_reports_lost_before_its_ttl_ends() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir).await;
    let ana = StoreLease::new(store.clone(), "ana", TTL);
    let mut held = ana.acquire(LOST_CHATS).await;
    tokio::time::sleep(TTL / 2).await;
    assert!(held.is_held());
    // Every renewal fails from now on: the loss is reported two thirds of a TTL after the
    // last renewal that succeeded (a third of a TTL ago at most), well within a TTL.
    store.close().await;
    tokio::time::timeout(TTL, held.lost())
        .await
        .expect("a holder that cannot renew still believed it held");
    assert!(!held.is_held());
}

#[tokio::test]
async fn closing_releases_at_once_and_a_name_is_held_once_per_process() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir).await;
    let ana = StoreLease::new(store.clone(), "ana", Duration::from_secs(60));
    let bia = StoreLease::new(store.clone(), "bia", Duration::from_secs(60));
    let held = ana.acquire(RESUME).await;
    assert!(
        ana.try_acquire(RESUME).await.is_none(),
        "a second holding of one name in one process"
    );
    assert!(bia.try_acquire(RESUME).await.is_none());
    ana.close().await;
    assert!(!held.is_held(), "a closed lease store still holds");
    assert!(
        bia.try_acquire(RESUME).await.is_some(),
        "a closed node's lease was not released"
    );
    assert!(ana.try_acquire(LOST_CHATS).await.is_none());
    store.close().await;
}

#[tokio::test]
async fn a_lease_of_a_process_of_this_host_that_is_gone_is_taken_over_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir).await;
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let gone_pid = child.id();
    child.wait().unwrap();
    let long = 60_000;
    let claim = |name: &'static str, holder: String| {
        let store = store.clone();
        async move {
            assert!(
                store
                    .lease_claim(name, &holder, long, now_millis())
                    .await
                    .unwrap()
            );
        }
    };
    claim(
        LOST_CHATS,
        format!("ghost-000000@{}#{gone_pid}", host_name()),
    )
    .await;
    // This process under another holder id: alive.
    claim(
        RESUME,
        format!("twin-000000@{}#{}", host_name(), std::process::id()),
    )
    .await;
    // Another host: nothing is known of its processes.
    claim(
        crate::lease::ORPHANS,
        format!("far-000000@elsewhere#{gone_pid}"),
    )
    .await;

    let ana = StoreLease::new(store.clone(), "ana", TTL);
    assert!(
        ana.try_acquire(LOST_CHATS).await.is_some(),
        "the lease of a killed process waits out its TTL"
    );
    assert!(ana.try_acquire(RESUME).await.is_none());
    assert!(ana.try_acquire(crate::lease::ORPHANS).await.is_none());
    store.close().await;
}
