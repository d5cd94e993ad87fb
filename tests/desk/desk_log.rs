//! The desk's write-ahead log appends at the position the book was at: before an operation,
//! the desk applies what another writer (a second node) logged meanwhile, so its own
//! operation is decided on that state and logged after it; a snapshot another writer took
//! over operations this desk never applied is loaded instead of them.

use super::Desk;
use ponte::attendance::SNAPSHOT_EVERY;
use ponte::desk::{DeskOp, Project};

fn project(id: &str) -> DeskOp {
    DeskOp::UpsertProject {
        project: Project {
            id: id.to_string(),
            name: id.to_uppercase(),
            owner: None,
            assistant: None,
            service_group: None,
        },
    }
}

async fn has_project(desk: &Desk, id: &str) -> bool {
    desk.attendance
        .book(|book| book.desk().project(id).is_some())
        .await
}

#[tokio::test]
async fn an_operation_after_another_writers_is_decided_on_it_and_logged_after_it() {
    let desk = Desk::new().await;
    // Another writer logs an operation this desk's book has not applied.
    let their_op = serde_json::to_string(&project("theirs")).unwrap();
    let their_seq = desk.store.desk_append(&their_op).await.unwrap();
    assert!(!has_project(&desk, "theirs").await);

    desk.attendance.execute(project("ours")).await.unwrap();
    let logged = desk.store.desk_load().await.unwrap().ops;
    let (last_seq, last_op) = logged.last().unwrap();
    assert!(*last_seq > their_seq);
    assert_eq!(last_op, &serde_json::to_string(&project("ours")).unwrap());
    assert_eq!(logged[logged.len() - 2], (their_seq, their_op));
    assert!(has_project(&desk, "ours").await && has_project(&desk, "theirs").await);
}

#[tokio::test]
async fn a_snapshot_another_writer_took_is_loaded_in_place_of_the_operations_it_dropped() {
    let desk = Desk::new().await;
    // Another writer logs enough operations for a snapshot, takes it (the operations it
    // covers are dropped) and logs one more.
    let mut book = desk.attendance.book(|book| book.clone()).await;
    let mut through = 0;
    for n in 0..SNAPSHOT_EVERY {
        let op = project(&format!("p{n}"));
        book.apply(&op).unwrap();
        through = desk
            .store
            .desk_append(&serde_json::to_string(&op).unwrap())
            .await
            .unwrap();
    }
    desk.store
        .desk_snapshot(&serde_json::to_string(&book).unwrap(), through)
        .await
        .unwrap();
    desk.store
        .desk_append(&serde_json::to_string(&project("after")).unwrap())
        .await
        .unwrap();

    desk.attendance.catch_up().await.unwrap();
    assert!(has_project(&desk, "p0").await);
    assert!(has_project(&desk, &format!("p{}", SNAPSHOT_EVERY - 1)).await);
    assert!(has_project(&desk, "after").await);
    // And its own operations go on after them.
    desk.attendance.execute(project("ours")).await.unwrap();
    assert!(has_project(&desk, "ours").await);
}
