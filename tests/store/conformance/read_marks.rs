//! Conformance checks on read marks: each side's position starts at 0, moves forward only,
//! never past the conversation's last message, survives as written for the other side, and
//! many marks at once keep the furthest; unknown conversations and negative positions are
//! refused.

use std::sync::Arc;

use ponte::store::{ReadMarks, ReadSide, Store};

use super::*;

pub async fn read_marks_move_forward_only(store: &Arc<dyn Store>) {
    let conversation = store
        .create_conversation(sample_conversation("requester-reads"))
        .await
        .unwrap();
    let id = conversation.id;
    assert_eq!(
        store.read_marks(&id).await.unwrap(),
        ReadMarks::default(),
        "nothing is read before anyone reads"
    );
    for body in ["a", "b", "c"] {
        store
            .append_message(text_message(&id, body, None))
            .await
            .unwrap();
    }
    let moved = store.mark_read(&id, ReadSide::Requester, 2).await.unwrap();
    assert!(moved.moved, "a first mark moves");
    assert_eq!(
        moved.marks,
        ReadMarks {
            requester_seq: 2,
            attendant_seq: 0
        }
    );
    let back = store.mark_read(&id, ReadSide::Requester, 1).await.unwrap();
    assert!(!back.moved, "an older mark changes nothing");
    assert_eq!(back.marks.requester_seq, 2, "a position never goes back");
    let same = store.mark_read(&id, ReadSide::Requester, 2).await.unwrap();
    assert!(!same.moved, "the same mark again changes nothing");
    let staff = store.mark_read(&id, ReadSide::Attendant, 3).await.unwrap();
    assert!(staff.moved);
    assert_eq!(
        store.read_marks(&id).await.unwrap(),
        ReadMarks {
            requester_seq: 2,
            attendant_seq: 3
        },
        "each side keeps its own position"
    );
    expect_code(
        store.mark_read(&id, ReadSide::Requester, 4).await,
        "invalid_input",
        "a mark past the last message",
    );
    expect_code(
        store.mark_read(&id, ReadSide::Attendant, -1).await,
        "invalid_input",
        "a negative mark",
    );
    let unknown = unique_id("conv");
    expect_code(
        store.mark_read(&unknown, ReadSide::Requester, 0).await,
        "not_found",
        "a mark of an unknown conversation",
    );
    expect_code(
        store.read_marks(&unknown).await,
        "not_found",
        "the marks of an unknown conversation",
    );
    assert_eq!(
        store.read_marks(&id).await.unwrap(),
        ReadMarks {
            requester_seq: 2,
            attendant_seq: 3
        },
        "refused marks wrote nothing"
    );

    // Many marks at once, in any order: the furthest stays.
    for _ in 0..5 {
        store
            .append_message(text_message(&id, "more", None))
            .await
            .unwrap();
    }
    let marks = (1..=8).rev().map(|seq| {
        let store = store.clone();
        let id = id.clone();
        tokio::spawn(async move { store.mark_read(&id, ReadSide::Requester, seq).await })
    });
    for mark in marks {
        mark.await.unwrap().unwrap();
    }
    assert_eq!(store.read_marks(&id).await.unwrap().requester_seq, 8);
}
