//! The desk's write-ahead log appends at the position the book was at: an operation applied
//! on a book the log has moved past (another writer appended meanwhile, as a second node
//! would) is refused, nothing of it is logged, and the book is rebuilt from the log.

use super::Desk;
use ponte::attendance::AttendanceError;
use ponte::desk::{DeskOp, Project};
use ponte::store::StoreError;

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

#[tokio::test]
async fn an_operation_on_a_book_the_log_moved_past_is_refused_and_the_book_reloaded() {
    let desk = Desk::new().await;
    let before = desk.store.desk_load().await.unwrap().ops;
    // Another writer logs an operation this desk's book has not applied.
    let their_op = serde_json::to_string(&project("theirs")).unwrap();
    let their_seq = desk.store.desk_append(&their_op).await.unwrap();

    let refused = desk.attendance.execute(project("ours")).await;
    assert!(
        matches!(
            refused,
            Err(AttendanceError::Store(StoreError::DeskLogConflict { actual, .. }))
                if actual == their_seq
        ),
        "{refused:?}"
    );
    // Nothing of ours was appended, and the book now holds what the log holds.
    let after = desk.store.desk_load().await.unwrap().ops;
    assert_eq!(after.len(), before.len() + 1, "{after:?}");
    assert_eq!(after.last().unwrap(), &(their_seq, their_op));
    let (has_ours, has_theirs) = desk
        .attendance
        .book(|book| {
            (
                book.desk().project("ours").is_some(),
                book.desk().project("theirs").is_some(),
            )
        })
        .await;
    assert!(!has_ours && has_theirs);

    // Tried again on the rebuilt book, it is logged after theirs.
    desk.attendance.execute(project("ours")).await.unwrap();
    let logged = desk.store.desk_load().await.unwrap().ops;
    assert_eq!(logged.len(), before.len() + 2);
    assert!(logged.last().unwrap().0 > their_seq);
    assert!(
        desk.attendance
            .book(|book| book.desk().project("ours").is_some())
            .await
    );
}
