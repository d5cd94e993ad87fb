//! Upgrading a database made by earlier releases: migration 0005 rebuilds the conversations
//! table (to accept the `bridged` status) and must keep every conversation, message and ticket,
//! their links, and the trigger that advances `last_seq`.

use ponte::store::{self as storage, ConversationStatus, StoreOptions, TicketStatus};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Row};

use super::conformance::text_message;

/// The migrations of the release before the bridge (0001 to 0004), applied to a new file.
async fn old_database(path: &std::path::Path) -> SqliteConnection {
    let source =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/migrations/sqlite");
    let old = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&source).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if name.as_str() < "0005" {
            std::fs::copy(entry.path(), old.path().join(&name)).unwrap();
        }
    }
    let migrator = Migrator::new(old.path()).await.unwrap();
    assert_eq!(migrator.iter().count(), 4);
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .foreign_keys(true);
    let mut connection = SqliteConnection::connect_with(&options).await.unwrap();
    migrator.run(&mut connection).await.unwrap();
    connection
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrading_keeps_conversations_messages_and_tickets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ponte.db");
    let mut old = old_database(&path).await;
    let script = [
        "INSERT INTO conversations (id, channel, requester_id, language, status, queue_group, \
         machine_state, version, last_seq, created_at, updated_at) VALUES \
         ('c1', 'web', 'maria', 'pt-BR', 'chat', 'infra', '{\"s\":1}', 4, 0, 10, 10), \
         ('c2', 'web', 'joao', 'pt-BR', 'finished', NULL, '{}', 1, 0, 20, 20)",
        "INSERT INTO messages (conversation_id, seq, sender_kind, sender_id, body, payload, \
         client_message_id, created_at) VALUES \
         ('c1', 1, 'requester', 'maria', 'oi', NULL, 'm1', 11), \
         ('c1', 2, 'assistant', NULL, 'olá', '{\"cards\":[]}', NULL, 12), \
         ('c2', 1, 'requester', 'joao', 'tchau', NULL, NULL, 21)",
        "UPDATE counters SET value = 1 WHERE name = 'ticket'",
        "INSERT INTO tickets (number, serial, requester_id, activity_id, contract, group_name, \
         description, status, tags, conversation_id, created_at, updated_at, request_key) VALUES \
         ('T-000001', 1, 'maria', 'general-request', 'default', 'infra', 'sem rede', \
          'in_progress', '[\"rede\"]', 'c1', 13, 13, 'c1:1')",
        "UPDATE conversations SET ticket_number = 'T-000001' WHERE id = 'c1'",
    ];
    for statement in script {
        sqlx::query(statement).execute(&mut old).await.unwrap();
    }
    old.close().await.unwrap();

    let url = format!("sqlite://{}", path.display());
    let store = storage::open(&url, StoreOptions::default()).await.unwrap();
    let c1 = store.get_conversation("c1").await.unwrap().unwrap();
    assert_eq!(c1.status, ConversationStatus::Chat);
    assert_eq!(c1.queue_group.as_deref(), Some("infra"));
    assert_eq!(c1.ticket_number.as_deref(), Some("T-000001"));
    assert_eq!(c1.machine_state, serde_json::json!({"s": 1}));
    assert_eq!((c1.version, c1.last_seq, c1.created_at), (4, 2, 10));
    let c2 = store.get_conversation("c2").await.unwrap().unwrap();
    assert_eq!((c2.status, c2.last_seq), (ConversationStatus::Finished, 1));
    let messages = store.messages_after("c1", 0, 10).await.unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].payload, Some(serde_json::json!({"cards": []})));
    assert_eq!(store.messages_after("c2", 0, 10).await.unwrap().len(), 1);
    let ticket = store.get_ticket("T-000001").await.unwrap().unwrap();
    assert_eq!(ticket.status, TicketStatus::InProgress);
    assert_eq!(ticket.conversation_id.as_deref(), Some("c1"));

    // The new status is accepted, the trigger still advances last_seq, and the
    // idempotency index still holds.
    let mut update = c1.to_update();
    update.status = ConversationStatus::Bridged;
    let bridged = store.update_conversation(update).await.unwrap();
    assert_eq!(bridged.status, ConversationStatus::Bridged);
    let appended = store
        .append_message(text_message("c1", "ainda aí?", None))
        .await
        .unwrap();
    assert_eq!(appended.message.seq, 3);
    assert_eq!(
        store
            .get_conversation("c1")
            .await
            .unwrap()
            .unwrap()
            .last_seq,
        3
    );
    let replay = store
        .append_message(text_message("c1", "oi", Some("m1")))
        .await
        .unwrap();
    assert!(replay.duplicate);
    store.close().await;

    // Every reference still points at its row, and the schema is whole.
    let mut check = SqliteConnection::connect(&url).await.unwrap();
    let dangling = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&mut check)
        .await
        .unwrap();
    assert!(
        dangling.is_empty(),
        "{} dangling references",
        dangling.len()
    );
    let integrity: String = sqlx::query("PRAGMA integrity_check")
        .fetch_one(&mut check)
        .await
        .unwrap()
        .get(0);
    assert_eq!(integrity, "ok");
    let objects: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE tbl_name IN ('conversations', 'messages') \
         AND type IN ('index', 'trigger') AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&mut check)
    .await
    .unwrap();
    assert_eq!(
        objects,
        [
            "conversations_by_requester",
            "conversations_by_status",
            "messages_advance_last_seq",
            "messages_by_client_id",
        ]
    );
    check.close().await.unwrap();
}
