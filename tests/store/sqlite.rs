//! The SQLite backend: the conformance suite on a real database file, plus what only a file
//! can show (reopening, WAL on disk, commits visible to another connection).

use std::sync::Arc;

use super::conformance::{self, sample_conversation, sample_ticket, text_message};
use ponte::store::{self as storage, Store, StoreError, StoreOptions, Synchronous};
use sqlx::Connection;
use sqlx::sqlite::SqliteConnection;
use tempfile::TempDir;

async fn file_store() -> (Arc<dyn Store>, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("ponte.db").display());
    let store = storage::open(&url, StoreOptions::default()).await.unwrap();
    (store, dir)
}

mod file {
    use super::file_store;
    crate::store::conformance::store_conformance_tests!(file_store());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_in_memory() {
    let store = storage::open("sqlite::memory:", StoreOptions::default())
        .await
        .unwrap();
    conformance::run_all(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_without_group_commit_and_with_linger() {
    // The batching knobs change throughput, never behaviour.
    for options in [
        StoreOptions {
            max_batch: 1,
            ..StoreOptions::default()
        },
        StoreOptions {
            batch_linger: std::time::Duration::from_millis(2),
            synchronous: Synchronous::Normal,
            ..StoreOptions::default()
        },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("ponte.db").display());
        let store = storage::open(&url, options).await.unwrap();
        conformance::run_all(store).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopening_the_file_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    // A missing parent directory is created too.
    let url = format!("sqlite://{}", dir.path().join("data/ponte.db").display());

    let store = storage::open(&url, StoreOptions::default()).await.unwrap();
    let conversation = store
        .create_conversation(sample_conversation("maria"))
        .await
        .unwrap();
    let mut messages = Vec::new();
    for index in 0..3 {
        let client_id = format!("m{index}");
        let appended = store
            .append_message(text_message(
                &conversation.id,
                &format!("oi {index}"),
                Some(&client_id),
            ))
            .await
            .unwrap();
        messages.push(appended.message);
    }
    let ticket = store
        .create_ticket(sample_ticket("maria", Some(&conversation.id)))
        .await
        .unwrap();
    assert_eq!(
        ticket.number, "T-000001",
        "a fresh database starts at T-000001"
    );
    let mut update = store
        .get_conversation(&conversation.id)
        .await
        .unwrap()
        .unwrap()
        .to_update();
    update.machine_state = serde_json::json!({"state": "waiting"});
    let updated = store.update_conversation(update).await.unwrap();
    store.set_parameter("316", "service-desk").await.unwrap();
    store.close().await;

    let reopened = storage::open(&url, StoreOptions::default()).await.unwrap();
    assert_eq!(
        reopened.get_conversation(&conversation.id).await.unwrap(),
        Some(updated)
    );
    assert_eq!(
        reopened
            .messages_after(&conversation.id, 0, 100)
            .await
            .unwrap(),
        messages
    );
    assert_eq!(
        reopened.get_ticket(&ticket.number).await.unwrap(),
        Some(ticket)
    );
    assert_eq!(
        reopened.parameter("316").await.unwrap().as_deref(),
        Some("service-desk")
    );

    // Counters carry on where they were, and idempotency survives the restart.
    let replay = reopened
        .append_message(text_message(&conversation.id, "oi 0", Some("m0")))
        .await
        .unwrap();
    assert!(replay.duplicate);
    assert_eq!(replay.message, messages[0]);
    let next = reopened
        .append_message(text_message(&conversation.id, "de volta", None))
        .await
        .unwrap();
    assert_eq!(next.message.seq, 4);
    let next_ticket = reopened
        .create_ticket(sample_ticket("maria", None))
        .await
        .unwrap();
    assert_eq!(next_ticket.number, "T-000002");
    reopened.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_are_committed_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ponte.db");
    let store = storage::open(
        &format!("sqlite://{}", path.display()),
        StoreOptions::default(),
    )
    .await
    .unwrap();
    let conversation = store
        .create_conversation(sample_conversation("joão"))
        .await
        .unwrap();
    let appended = store
        .append_message(text_message(&conversation.id, "durável?", None))
        .await
        .unwrap();

    // Another connection, as another process would open it, sees the acknowledged message
    // while the store is still running: it was committed before the acknowledgement.
    let mut outsider = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let journal_mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut outsider)
        .await
        .unwrap();
    assert_eq!(journal_mode, "wal");
    let body: String =
        sqlx::query_scalar("SELECT body FROM messages WHERE conversation_id = ?1 AND seq = ?2")
            .bind(&conversation.id)
            .bind(appended.message.seq)
            .fetch_one(&mut outsider)
            .await
            .unwrap();
    assert_eq!(body, "durável?");
    outsider.close().await.unwrap();
    store.close().await;
}

#[tokio::test]
async fn unsupported_urls_are_refused_without_echoing_secrets() {
    // postgres: URLs open the PostgreSQL store (tests/store/postgres.rs).
    for url in ["mysql://root:s3cret@localhost/ponte", "ponte.db"] {
        let error = match storage::open(url, StoreOptions::default()).await {
            Ok(_) => panic!("{url} must be refused"),
            Err(error) => error,
        };
        assert!(
            matches!(error, StoreError::UnsupportedUrl { .. }),
            "{url}: {error}"
        );
        assert_eq!(error.code(), "unsupported_url");
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }
}

#[test]
fn error_codes_are_stable() {
    let codes: Vec<&str> = [
        StoreError::NotFound {
            entity: "ticket",
            id: "T-1".into(),
        },
        StoreError::AlreadyExists {
            entity: "conversation",
            id: "c".into(),
        },
        StoreError::Conflict {
            id: "c".into(),
            expected: 1,
            actual: 2,
        },
        StoreError::InvalidInput("x".into()),
        StoreError::UnsupportedUrl {
            scheme: "x".into(),
            reason: "y",
        },
        StoreError::Closed,
        StoreError::Corrupt("x".into()),
        StoreError::Migration("x".into()),
        StoreError::Database(Arc::new(sqlx::Error::RowNotFound)),
        StoreError::Internal("x".into()),
    ]
    .iter()
    .map(StoreError::code)
    .collect();
    assert_eq!(
        codes,
        [
            "not_found",
            "already_exists",
            "conflict",
            "invalid_input",
            "unsupported_url",
            "store_closed",
            "corrupt_data",
            "migration_failed",
            "database",
            "internal",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_commits_the_writes_it_already_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("ponte.db").display());
    // A long linger holds the writes in the writer's hands when close arrives.
    let options = StoreOptions {
        batch_linger: std::time::Duration::from_millis(300),
        ..StoreOptions::default()
    };
    let store = storage::open(&url, options).await.unwrap();
    let conversation = store
        .create_conversation(sample_conversation("ana"))
        .await
        .unwrap();
    let mut pending = Vec::new();
    for index in 0..20 {
        let task_store = store.clone();
        let message = text_message(&conversation.id, &format!("m{index}"), None);
        pending.push(tokio::spawn(async move {
            task_store.append_message(message).await
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    store.close().await;
    for task in pending {
        task.await
            .unwrap()
            .expect("a write queued before close is committed, not dropped");
    }

    let reopened = storage::open(&url, StoreOptions::default()).await.unwrap();
    let stored = reopened
        .messages_after(&conversation.id, 0, 100)
        .await
        .unwrap();
    assert_eq!(stored.len(), 20);
    reopened.close().await;
}

/// Opens a second connection to the store's file, as another process would.
async fn outsider(path: &std::path::Path) -> SqliteConnection {
    SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_append_takes_down_only_unacknowledged_work() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ponte.db");
    let store = storage::open(
        &format!("sqlite://{}", path.display()),
        StoreOptions::default(),
    )
    .await
    .unwrap();
    let conversation = store
        .create_conversation(sample_conversation("ana"))
        .await
        .unwrap();
    // Fault injection: the database itself refuses one message mid-batch.
    let mut outside = outsider(&path).await;
    sqlx::query(
        "CREATE TRIGGER fail_boom BEFORE INSERT ON messages WHEN NEW.body = 'boom' \
         BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
    )
    .execute(&mut outside)
    .await
    .unwrap();

    let mut tasks = Vec::new();
    for index in 0..64 {
        let task_store = store.clone();
        let body = if index == 32 {
            "boom".to_owned()
        } else {
            format!("m{index}")
        };
        let message = text_message(&conversation.id, &body, Some(&format!("c{index}")));
        tasks.push(tokio::spawn(async move {
            (body, task_store.append_message(message).await)
        }));
    }
    let mut acknowledged = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (body, Ok(appended)) => acknowledged.push((appended.message.seq, body)),
            (body, Err(error)) => {
                assert_eq!(error.code(), "database", "{body}: {error}");
            }
        }
    }
    assert!(!acknowledged.iter().any(|(_, body)| body == "boom"));
    acknowledged.sort();

    let stored: Vec<(i64, String)> = store
        .messages_after(&conversation.id, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|message| (message.seq, message.body))
        .collect();
    assert_eq!(
        stored, acknowledged,
        "exactly the acknowledged messages are stored, at their acknowledged seqs"
    );
    let seqs: Vec<i64> = stored.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(
        seqs,
        (1..=stored.len() as i64).collect::<Vec<_>>(),
        "no gaps"
    );

    // The writer recovered: the next append continues the sequence.
    let next = store
        .append_message(text_message(&conversation.id, "after", None))
        .await
        .unwrap();
    assert_eq!(next.message.seq, stored.len() as i64 + 1);
    outside.close().await.unwrap();
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_ticket_rolls_back_alone_and_leaves_no_gap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ponte.db");
    let store = storage::open(
        &format!("sqlite://{}", path.display()),
        StoreOptions::default(),
    )
    .await
    .unwrap();
    let mut outside = outsider(&path).await;
    sqlx::query(
        "CREATE TRIGGER fail_boom BEFORE INSERT ON tickets WHEN NEW.description = 'boom' \
         BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
    )
    .execute(&mut outside)
    .await
    .unwrap();

    let mut tasks = Vec::new();
    for index in 0..20 {
        let task_store = store.clone();
        let mut ticket = sample_ticket("ana", None);
        if index == 10 {
            ticket.description = "boom".into();
        }
        tasks.push(tokio::spawn(async move {
            task_store.create_ticket(ticket).await
        }));
    }
    let mut numbers = Vec::new();
    let mut failures = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(ticket) => numbers.push(ticket.number),
            Err(error) => {
                assert_eq!(error.code(), "database", "{error}");
                failures += 1;
            }
        }
    }
    assert_eq!(
        failures, 1,
        "only the failing ticket fails; its batch neighbours commit"
    );
    numbers.sort();
    let expected: Vec<String> = (1..=19).map(storage::ticket_number).collect();
    assert_eq!(numbers, expected, "the failed ticket gave its number back");
    outside.close().await.unwrap();
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_held_by_another_process_fails_the_write_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ponte.db");
    let options = StoreOptions {
        busy_timeout: std::time::Duration::from_millis(100),
        ..StoreOptions::default()
    };
    let store = storage::open(&format!("sqlite://{}", path.display()), options)
        .await
        .unwrap();
    let conversation = store
        .create_conversation(sample_conversation("ana"))
        .await
        .unwrap();

    let mut outside = outsider(&path).await;
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut outside)
        .await
        .unwrap();
    let blocked = store
        .append_message(text_message(&conversation.id, "blocked", Some("c1")))
        .await;
    let error = blocked.expect_err("the write lock is taken");
    assert_eq!(error.code(), "database", "{error}");
    sqlx::query("COMMIT").execute(&mut outside).await.unwrap();

    // Reads never waited on that lock, and the retry is stored once, as the first message.
    let retried = store
        .append_message(text_message(&conversation.id, "blocked", Some("c1")))
        .await
        .unwrap();
    assert!(!retried.duplicate, "the failed attempt stored nothing");
    assert_eq!(retried.message.seq, 1);
    outside.close().await.unwrap();
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_append_at_a_stale_position_is_refused_and_appends_nothing() {
    let (store, _dir) = file_store().await;
    assert!(matches!(
        store.desk_append_after(r#"{"op":"a"}"#, 1).await,
        Err(StoreError::DeskLogConflict {
            expected: 1,
            actual: 0
        })
    ));
    let first = store.desk_append_after(r#"{"op":"a"}"#, 0).await.unwrap();
    // Another writer appends: the position the first writer knows is stale.
    let second = store.desk_append(r#"{"op":"b"}"#).await.unwrap();
    let refused = store.desk_append_after(r#"{"op":"c"}"#, first).await;
    assert!(
        matches!(
            refused,
            Err(StoreError::DeskLogConflict { expected, actual })
                if expected == first && actual == second
        ),
        "{refused:?}"
    );
    let seqs = |log: storage::DeskLog| log.ops.into_iter().map(|(seq, _)| seq).collect::<Vec<_>>();
    assert_eq!(seqs(store.desk_load().await.unwrap()), [first, second]);

    // A snapshot drops the operations it covers but does not move the position.
    store.desk_snapshot("{}", second).await.unwrap();
    assert!(matches!(
        store.desk_append_after(r#"{"op":"c"}"#, first).await,
        Err(StoreError::DeskLogConflict { .. })
    ));
    let third = store
        .desk_append_after(r#"{"op":"c"}"#, second)
        .await
        .unwrap();
    assert!(third > second);
    assert_eq!(seqs(store.desk_load().await.unwrap()), [third]);
}
