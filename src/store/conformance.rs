//! The backend-agnostic conformance suite: what every [`Store`] must do, checked through the
//! trait only.
//!
//! Each check is a public async function taking a store; [`run_all`] runs them in order on one
//! store, and [`store_conformance_tests!`](crate::store_conformance_tests) turns each into its own
//! `#[tokio::test]` on a fresh store, so a backend's test file is one macro call. The checks use
//! fresh ids and compare only what they wrote, so they can share a store; the ticket-number
//! checks assume no one else creates tickets while they run. Assertion messages say which
//! guarantee broke.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::json;

use super::NewToken;
use super::{
    Channel, ConversationFilter, ConversationStatus, NewConversation, NewMessage, NewTicket,
    SenderKind, Step, StepTarget, Store, StoreError, TicketStatus,
};
use sha2::Digest;

/// Runs every check, in order, on one store, then closes it (the last check is about closing).
pub async fn run_all(store: Arc<dyn Store>) {
    conversation_roundtrip(&store).await;
    conversation_update_and_conflict(&store).await;
    conversation_concurrent_updates(&store).await;
    list_conversations_filters(&store).await;
    messages_sequence_and_paging(&store).await;
    idempotent_append_sequential(&store).await;
    idempotent_append_concurrent(&store).await;
    message_found_by_client_id(&store).await;
    step_commits_all_or_nothing(&store).await;
    ordering_across_concurrent_conversations(&store).await;
    concurrent_appends_to_one_conversation(&store).await;
    tickets_lifecycle(&store).await;
    ticket_request_key_is_idempotent(&store).await;
    ticket_numbers_concurrent(&store).await;
    parameters_roundtrip(&store).await;
    tokens_roundtrip(&store).await;
    invalid_input_rejected(&store).await;
    closed_store_rejects_calls(&store).await;
}

/// One `#[tokio::test]` per conformance check, each on a fresh store.
///
/// `$make_store` is an expression evaluating to a future of `(Arc<dyn Store>, guard)`; the guard
/// (a temp dir, a schema name, ...) is kept alive until the test ends.
#[macro_export]
macro_rules! store_conformance_tests {
    ($make_store:expr) => {
        $crate::store_conformance_tests!(@each $make_store;
            conversation_roundtrip,
            conversation_update_and_conflict,
            conversation_concurrent_updates,
            list_conversations_filters,
            messages_sequence_and_paging,
            idempotent_append_sequential,
            idempotent_append_concurrent,
            message_found_by_client_id,
            step_commits_all_or_nothing,
            ordering_across_concurrent_conversations,
            concurrent_appends_to_one_conversation,
            tickets_lifecycle,
            ticket_request_key_is_idempotent,
            ticket_numbers_concurrent,
            parameters_roundtrip,
            desk_log_roundtrip,
            tokens_roundtrip,
            invalid_input_rejected,
            closed_store_rejects_calls,
        );
    };
    (@each $make_store:expr; $($check:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (store, _guard) = $make_store.await;
                $crate::store::conformance::$check(&store).await;
                store.close().await;
            }
        )+
    };
}

/// The desk log keeps operations in order, a snapshot drops the ones it covers, and what is
/// not JSON is refused without touching the log.
pub async fn desk_log_roundtrip(store: &Arc<dyn Store>) {
    let ops = [
        r#"{"op":"a","n":1}"#,
        r#"{"op":"b","n":2}"#,
        r#"{"op":"c","n":3}"#,
    ];
    let mut seqs = Vec::new();
    for op in ops {
        seqs.push(store.desk_append(op).await.unwrap());
    }
    assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]), "{seqs:?}");
    let loaded = store.desk_load().await.unwrap();
    let tail: Vec<(i64, String)> = seqs
        .iter()
        .zip(ops)
        .map(|(seq, op)| (*seq, op.to_string()))
        .collect();
    assert!(loaded.ops.ends_with(&tail), "{loaded:?}");

    assert!(matches!(
        store.desk_append("not json").await,
        Err(StoreError::InvalidInput(_))
    ));
    store
        .desk_snapshot(r#"{"state":"after b"}"#, seqs[1])
        .await
        .unwrap();
    let loaded = store.desk_load().await.unwrap();
    assert_eq!(
        loaded.snapshot,
        Some((r#"{"state":"after b"}"#.to_string(), seqs[1]))
    );
    assert_eq!(loaded.ops, vec![(seqs[2], ops[2].to_string())]);
    // Sequence numbers are never reused after the covered operations are dropped.
    let next = store.desk_append(r#"{"op":"d"}"#).await.unwrap();
    assert!(next > seqs[2]);
}

/// A fresh id: unique within the process and across runs on the same database.
pub fn unique_id(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static RUN: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    let run = RUN.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos())
            .unwrap_or(0)
    });
    // Zero-padded so ids sort in creation order.
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{run:x}-{count:08}")
}

pub fn sample_conversation(requester_id: &str) -> NewConversation {
    NewConversation {
        id: unique_id("conv"),
        channel: Channel::Web,
        requester_id: requester_id.to_owned(),
        language: "pt-BR".into(),
        status: ConversationStatus::Bot,
        queue_group: None,
        machine_state: json!({"state": "greeting", "slots": {"name": "Ana"}, "turns": [1, 2]}),
    }
}

pub fn text_message(conversation_id: &str, body: &str, client_id: Option<&str>) -> NewMessage {
    NewMessage {
        conversation_id: conversation_id.to_owned(),
        sender_kind: SenderKind::Requester,
        sender_id: Some("requester-1".into()),
        body: body.to_owned(),
        payload: None,
        client_message_id: client_id.map(str::to_owned),
    }
}

pub fn sample_ticket(requester_id: &str, conversation_id: Option<&str>) -> NewTicket {
    NewTicket {
        requester_id: requester_id.to_owned(),
        activity_id: "general-request".into(),
        contract: "default".into(),
        group: "service-desk".into(),
        description: "A impressora do 3º andar não imprime".into(),
        status: TicketStatus::Open,
        tags: vec!["origem-chat".into()],
        conversation_id: conversation_id.map(str::to_owned),
        request_key: None,
    }
}

/// A stored client message id is found again; another id or conversation finds nothing.
pub async fn message_found_by_client_id(store: &Arc<dyn Store>) {
    let conversation = store
        .create_conversation(sample_conversation(&unique_id("lookup")))
        .await
        .unwrap();
    let stored = store
        .append_message(text_message(&conversation.id, "hello", Some("client-7")))
        .await
        .unwrap()
        .message;
    let found = store
        .message_by_client_id(&conversation.id, "client-7")
        .await
        .unwrap();
    assert_eq!(found, Some(stored));
    assert_eq!(
        store
            .message_by_client_id(&conversation.id, "client-8")
            .await
            .unwrap(),
        None
    );
}

/// A conversation step (the row created or updated, messages appended) is stored whole or
/// not at all: a version conflict leaves no message behind, a replayed first message writes
/// nothing, and a committed step's messages follow each other with the row's `last_seq`.
pub async fn step_commits_all_or_nothing(store: &Arc<dyn Store>) {
    let new = sample_conversation(&unique_id("step"));
    let id = new.id.clone();
    let created = store
        .commit_step(Step {
            target: StepTarget::Create(new),
            messages: vec![text_message(&id, "greeting", None)],
        })
        .await
        .unwrap();
    let conversation = created.conversation.expect("a created row is returned");
    assert_eq!(conversation.last_seq, 1);
    assert_eq!(created.messages.len(), 1);

    let mut update = conversation.to_update();
    update.machine_state = serde_json::json!({ "step": 2 });
    let committed = store
        .commit_step(Step {
            target: StepTarget::Update(update.clone()),
            messages: vec![
                text_message(&id, "input", Some("input-1")),
                text_message(&id, "reply", None),
            ],
        })
        .await
        .unwrap();
    let after = committed.conversation.expect("an updated row is returned");
    assert_eq!(after.version, conversation.version + 1);
    assert_eq!(after.last_seq, 3);
    let seqs: Vec<i64> = committed.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [2, 3]);
    assert_eq!(
        store.get_conversation(&id).await.unwrap(),
        Some(after.clone())
    );

    // The same update again is a conflict: none of its messages may stay.
    let conflict = store
        .commit_step(Step {
            target: StepTarget::Update(update),
            messages: vec![
                text_message(&id, "input", Some("input-2")),
                text_message(&id, "reply", None),
            ],
        })
        .await;
    assert!(
        matches!(conflict, Err(StoreError::Conflict { .. })),
        "{conflict:?}"
    );
    assert_eq!(store.messages_after(&id, 0, 100).await.unwrap().len(), 3);
    assert_eq!(
        store.message_by_client_id(&id, "input-2").await.unwrap(),
        None,
        "a refused step stores nothing"
    );

    // A replayed input: the stored message comes back and nothing is written.
    let mut next = after.to_update();
    next.machine_state = serde_json::json!({ "step": 3 });
    let replay = store
        .commit_step(Step {
            target: StepTarget::Update(next),
            messages: vec![
                text_message(&id, "input", Some("input-1")),
                text_message(&id, "reply again", None),
            ],
        })
        .await
        .unwrap();
    assert_eq!(replay.duplicate.map(|m| m.seq), Some(2));
    assert!(replay.messages.is_empty());
    assert_eq!(store.get_conversation(&id).await.unwrap(), Some(after));

    // Keep: only messages; an unknown conversation or a stranger's message is refused.
    let kept = store
        .commit_step(Step {
            target: StepTarget::Keep { id: id.clone() },
            messages: vec![text_message(&id, "forwarded", None)],
        })
        .await
        .unwrap();
    assert_eq!(kept.conversation, None);
    assert_eq!(kept.messages[0].seq, 4);
    let unknown = store
        .commit_step(Step {
            target: StepTarget::Keep {
                id: unique_id("missing"),
            },
            messages: vec![],
        })
        .await;
    assert!(unknown.is_ok(), "keeping nothing of nothing writes nothing");
    let unknown = store
        .commit_step(Step {
            target: StepTarget::Keep {
                id: "missing-step".into(),
            },
            messages: vec![text_message("missing-step", "x", None)],
        })
        .await;
    assert!(
        matches!(unknown, Err(StoreError::NotFound { .. })),
        "{unknown:?}"
    );
    let stranger = store
        .commit_step(Step {
            target: StepTarget::Keep { id: id.clone() },
            messages: vec![text_message("elsewhere", "x", None)],
        })
        .await;
    assert!(
        matches!(stranger, Err(StoreError::InvalidInput(_))),
        "{stranger:?}"
    );
}

/// A ticket created twice with the same request key is created once: the second call
/// returns the first ticket, and the counter does not move.
pub async fn ticket_request_key_is_idempotent(store: &Arc<dyn Store>) {
    let requester = unique_id("idem-requester");
    let mut new = sample_ticket(&requester, None);
    new.request_key = Some(unique_id("conversation-x:1"));
    let first = store.create_ticket(new.clone()).await.unwrap();
    let again = store.create_ticket(new.clone()).await.unwrap();
    assert_eq!(first.number, again.number);
    assert_eq!(store.open_tickets_for(&requester).await.unwrap().len(), 1);
    new.request_key = Some(unique_id("conversation-x:2"));
    let other = store.create_ticket(new).await.unwrap();
    assert_ne!(other.number, first.number);
}

fn serial_of(number: &str) -> i64 {
    let digits = number
        .strip_prefix("T-")
        .unwrap_or_else(|| panic!("ticket number {number:?} must start with T-"));
    assert_eq!(
        digits.len(),
        6,
        "ticket number {number:?} must have 6 digits"
    );
    digits
        .parse()
        .unwrap_or_else(|_| panic!("ticket number {number:?} must end in digits"))
}

fn expect_code<T: std::fmt::Debug>(result: Result<T, StoreError>, code: &str, what: &str) {
    match result {
        Ok(value) => panic!("{what}: expected error {code}, got Ok({value:?})"),
        Err(error) => assert_eq!(error.code(), code, "{what}: wrong error {error}"),
    }
}

pub async fn conversation_roundtrip(store: &Arc<dyn Store>) {
    let mut new = sample_conversation(&unique_id("requester"));
    new.channel = Channel::WhatsApp;
    new.language = "es".into();
    let created = store.create_conversation(new.clone()).await.unwrap();
    assert_eq!(created.id, new.id);
    assert_eq!(created.channel, Channel::WhatsApp);
    assert_eq!(created.requester_id, new.requester_id);
    assert_eq!(created.language, "es");
    assert_eq!(created.status, ConversationStatus::Bot);
    assert_eq!(created.queue_group, None);
    assert_eq!(created.ticket_number, None);
    assert_eq!(created.machine_state, new.machine_state);
    assert_eq!(created.version, 1, "a new conversation starts at version 1");
    assert_eq!(created.last_seq, 0, "a new conversation has no messages");
    assert!(
        created.created_at > 1_600_000_000_000,
        "timestamps are unix millis"
    );
    assert_eq!(created.created_at, created.updated_at);

    let fetched = store.get_conversation(&created.id).await.unwrap();
    assert_eq!(
        fetched.as_ref(),
        Some(&created),
        "stored conversation reads back equal"
    );

    let missing = store.get_conversation(&unique_id("conv")).await.unwrap();
    assert_eq!(missing, None, "unknown conversation id reads as None");

    let mut twin = new.clone();
    twin.requester_id = "someone-else".into();
    expect_code(
        store.create_conversation(twin).await,
        "already_exists",
        "creating a conversation with a taken id",
    );
    let after = store.get_conversation(&created.id).await.unwrap();
    assert_eq!(
        after,
        Some(created),
        "a rejected duplicate leaves the original as it was"
    );
}

pub async fn conversation_update_and_conflict(store: &Arc<dyn Store>) {
    let created = store
        .create_conversation(sample_conversation(&unique_id("requester")))
        .await
        .unwrap();

    let mut update = created.to_update();
    update.status = ConversationStatus::Queued;
    update.queue_group = Some("service-desk".into());
    update.machine_state = json!({"state": "queued", "position": 3});
    let updated = store.update_conversation(update).await.unwrap();
    assert_eq!(updated.version, 2, "an update bumps the version");
    assert_eq!(updated.status, ConversationStatus::Queued);
    assert_eq!(updated.queue_group.as_deref(), Some("service-desk"));
    assert_eq!(
        updated.machine_state,
        json!({"state": "queued", "position": 3})
    );
    assert_eq!(updated.created_at, created.created_at);
    assert!(updated.updated_at >= created.updated_at);
    assert_eq!(
        store.get_conversation(&created.id).await.unwrap().as_ref(),
        Some(&updated)
    );

    let stale = store.update_conversation(created.to_update()).await;
    match stale {
        Err(StoreError::Conflict {
            expected, actual, ..
        }) => assert_eq!((expected, actual), (1, 2), "conflict reports both versions"),
        other => panic!("a stale version must conflict, got {other:?}"),
    }
    assert_eq!(
        store.get_conversation(&created.id).await.unwrap().as_ref(),
        Some(&updated),
        "a conflicting update changes nothing"
    );

    let mut unknown = updated.to_update();
    unknown.id = unique_id("conv");
    expect_code(
        store.update_conversation(unknown).await,
        "not_found",
        "updating an unknown conversation",
    );

    // Messages move last_seq, not the version: appending must not make the machine conflict.
    store
        .append_message(text_message(&created.id, "olá", None))
        .await
        .unwrap();
    let with_message = store.get_conversation(&created.id).await.unwrap().unwrap();
    assert_eq!(
        with_message.version, 2,
        "appending a message keeps the version"
    );
    assert_eq!(with_message.last_seq, 1);
    let mut next = updated.to_update();
    next.status = ConversationStatus::Chat;
    let chatting = store.update_conversation(next).await.unwrap();
    assert_eq!(chatting.version, 3);
    assert_eq!(
        chatting.last_seq, 1,
        "the update returns the current last_seq"
    );
}

pub async fn conversation_concurrent_updates(store: &Arc<dyn Store>) {
    let created = store
        .create_conversation(sample_conversation(&unique_id("requester")))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for writer in 0..10 {
        let task_store = store.clone();
        let mut update = created.to_update();
        update.machine_state = json!({"winner": writer});
        tasks.push(tokio::spawn(async move {
            task_store.update_conversation(update).await
        }));
    }
    let mut winners = Vec::new();
    let mut conflicts = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(conversation) => winners.push(conversation),
            Err(StoreError::Conflict { .. }) => conflicts += 1,
            Err(other) => panic!("concurrent update failed unexpectedly: {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one of ten racing updates wins");
    assert_eq!(conflicts, 9, "the other nine conflict");
    let stored = store.get_conversation(&created.id).await.unwrap().unwrap();
    assert_eq!(stored, winners[0], "the stored state is the winner's");
    assert_eq!(stored.version, 2);
}

pub async fn list_conversations_filters(store: &Arc<dyn Store>) {
    let requester = unique_id("requester");
    let group = unique_id("group");
    let mut created = Vec::new();
    for (status, queue_group) in [
        (ConversationStatus::Bot, None),
        (ConversationStatus::Queued, None),
        (ConversationStatus::Queued, Some(group.clone())),
    ] {
        let mut new = sample_conversation(&requester);
        new.status = status;
        new.queue_group = queue_group;
        created.push(store.create_conversation(new).await.unwrap());
    }
    store
        .create_conversation(sample_conversation(&unique_id("requester")))
        .await
        .unwrap();

    let mine = store
        .list_conversations(ConversationFilter {
            requester_id: Some(requester.clone()),
            ..ConversationFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        mine, created,
        "by requester: all of theirs, oldest first, no one else's"
    );

    let queued = store
        .list_conversations(ConversationFilter {
            requester_id: Some(requester.clone()),
            status: Some(ConversationStatus::Queued),
            ..ConversationFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(queued, created[1..].to_vec(), "by requester and status");

    let all_queued = store
        .list_conversations(ConversationFilter {
            status: Some(ConversationStatus::Queued),
            limit: super::MAX_PAGE,
            ..ConversationFilter::default()
        })
        .await
        .unwrap();
    assert!(
        all_queued
            .iter()
            .all(|conversation| conversation.status == ConversationStatus::Queued)
    );
    assert!(all_queued.contains(&created[2]), "by status alone");

    let in_group = store
        .list_conversations(ConversationFilter {
            queue_group: Some(group),
            ..ConversationFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(in_group, vec![created[2].clone()], "by queue group");

    let first_two = store
        .list_conversations(ConversationFilter {
            requester_id: Some(requester.clone()),
            limit: 2,
            ..ConversationFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        first_two,
        created[..2].to_vec(),
        "the limit keeps the oldest"
    );

    let finished = store
        .list_conversations(ConversationFilter {
            requester_id: Some(requester.clone()),
            status: Some(ConversationStatus::Finished),
            ..ConversationFilter::default()
        })
        .await
        .unwrap();
    assert!(finished.is_empty());

    expect_code(
        store
            .list_conversations(ConversationFilter {
                requester_id: Some(requester),
                limit: 0,
                ..ConversationFilter::default()
            })
            .await,
        "invalid_input",
        "listing with limit 0",
    );
}

pub async fn messages_sequence_and_paging(store: &Arc<dyn Store>) {
    let conversation = store
        .create_conversation(sample_conversation(&unique_id("requester")))
        .await
        .unwrap();
    let senders = [
        SenderKind::Requester,
        SenderKind::Assistant,
        SenderKind::Attendant,
        SenderKind::System,
        SenderKind::Requester,
    ];
    let mut appended = Vec::new();
    for (index, sender_kind) in senders.into_iter().enumerate() {
        let new = NewMessage {
            conversation_id: conversation.id.clone(),
            sender_kind,
            sender_id: (sender_kind != SenderKind::System).then(|| format!("sender-{index}")),
            body: format!("mensagem {index} — ação"),
            payload: (index == 1).then(|| {
                json!({"options": [{"id": "ticket", "label": "Abrir chamado"}, {"id": "resume"}]})
            }),
            client_message_id: None,
        };
        let result = store.append_message(new.clone()).await.unwrap();
        assert!(!result.duplicate);
        assert_eq!(result.message.seq, index as i64 + 1, "seq is 1, 2, 3, ...");
        assert_eq!(result.message.sender_kind, sender_kind);
        assert_eq!(result.message.sender_id, new.sender_id);
        assert_eq!(result.message.body, new.body);
        assert_eq!(result.message.payload, new.payload);
        appended.push(result.message);
    }

    let all = store
        .messages_after(&conversation.id, 0, 100)
        .await
        .unwrap();
    assert_eq!(all, appended, "stored messages read back equal, in order");

    let page = store.messages_after(&conversation.id, 2, 2).await.unwrap();
    assert_eq!(
        page,
        appended[2..4].to_vec(),
        "resume after seq 2, two at a time"
    );

    let none = store.messages_after(&conversation.id, 5, 10).await.unwrap();
    assert!(none.is_empty(), "nothing after the newest message");

    let stored = store
        .get_conversation(&conversation.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.last_seq, 5);
    assert!(stored.updated_at >= conversation.updated_at);

    let unknown = unique_id("conv");
    expect_code(
        store
            .append_message(text_message(&unknown, "x", None))
            .await,
        "not_found",
        "appending to an unknown conversation",
    );
    expect_code(
        store.messages_after(&unknown, 0, 10).await,
        "not_found",
        "reading an unknown conversation",
    );
    expect_code(
        store.messages_after(&conversation.id, -1, 10).await,
        "invalid_input",
        "negative after_seq",
    );
    expect_code(
        store.messages_after(&conversation.id, 0, 0).await,
        "invalid_input",
        "limit 0",
    );
}

pub async fn idempotent_append_sequential(store: &Arc<dyn Store>) {
    let conversation = store
        .create_conversation(sample_conversation(&unique_id("requester")))
        .await
        .unwrap();
    let first = store
        .append_message(text_message(&conversation.id, "primeira", Some("client-1")))
        .await
        .unwrap();
    assert!(!first.duplicate);
    assert_eq!(first.message.seq, 1);
    assert_eq!(first.message.client_message_id.as_deref(), Some("client-1"));

    let replay = store
        .append_message(text_message(
            &conversation.id,
            "outra coisa",
            Some("client-1"),
        ))
        .await
        .unwrap();
    assert!(
        replay.duplicate,
        "a replayed client id is reported as duplicate"
    );
    assert_eq!(
        replay.message, first.message,
        "the replay returns the stored message"
    );

    let second = store
        .append_message(text_message(&conversation.id, "segunda", Some("client-2")))
        .await
        .unwrap();
    assert_eq!(
        second.message.seq, 2,
        "a replay does not consume a sequence number"
    );

    let stored = store
        .messages_after(&conversation.id, 0, 100)
        .await
        .unwrap();
    assert_eq!(stored, vec![first.message, second.message]);

    // Client ids are unique per conversation, not globally.
    let other = store
        .create_conversation(sample_conversation(&unique_id("requester")))
        .await
        .unwrap();
    let elsewhere = store
        .append_message(text_message(&other.id, "primeira", Some("client-1")))
        .await
        .unwrap();
    assert!(!elsewhere.duplicate);
    assert_eq!(elsewhere.message.seq, 1);
}

pub async fn idempotent_append_concurrent(store: &Arc<dyn Store>) {
    let conversation = store
        .create_conversation(sample_conversation(&unique_id("requester")))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for attempt in 0..50 {
        let task_store = store.clone();
        let new = text_message(
            &conversation.id,
            &format!("attempt {attempt}"),
            Some("same-client-id"),
        );
        tasks.push(tokio::spawn(
            async move { task_store.append_message(new).await },
        ));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap().unwrap());
    }
    let originals: Vec<_> = results.iter().filter(|result| !result.duplicate).collect();
    assert_eq!(
        originals.len(),
        1,
        "exactly one of 50 racing posts is stored"
    );
    let original = originals[0].message.clone();
    assert!(
        results.iter().all(|result| result.message == original),
        "every racing post gets the stored message back"
    );
    let stored = store
        .messages_after(&conversation.id, 0, 100)
        .await
        .unwrap();
    assert_eq!(stored, vec![original]);
    let after = store
        .get_conversation(&conversation.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.last_seq, 1);
}

pub async fn ordering_across_concurrent_conversations(store: &Arc<dyn Store>) {
    const CONVERSATIONS: usize = 20;
    const MESSAGES: usize = 100;
    let mut tasks = Vec::new();
    for _ in 0..CONVERSATIONS {
        let task_store = store.clone();
        tasks.push(tokio::spawn(async move {
            let conversation = task_store
                .create_conversation(sample_conversation(&unique_id("requester")))
                .await
                .unwrap();
            for index in 0..MESSAGES {
                let client_id = format!("c{index}");
                let result = task_store
                    .append_message(text_message(
                        &conversation.id,
                        &format!("message {index}"),
                        Some(&client_id),
                    ))
                    .await
                    .unwrap();
                assert_eq!(
                    result.message.seq,
                    index as i64 + 1,
                    "acknowledged seq follows posting order"
                );
            }
            conversation.id
        }));
    }
    for task in tasks {
        let conversation_id = task.await.unwrap();
        let all = store
            .messages_after(&conversation_id, 0, 1000)
            .await
            .unwrap();
        assert_eq!(all.len(), MESSAGES);
        for (index, message) in all.iter().enumerate() {
            assert_eq!(message.seq, index as i64 + 1, "no gap, no duplicate");
            assert_eq!(
                message.body,
                format!("message {index}"),
                "stored in posting order"
            );
        }
        // A client resuming page by page sees exactly the same sequence.
        let mut resumed = Vec::new();
        let mut last_seen = 0;
        loop {
            let page = store
                .messages_after(&conversation_id, last_seen, 30)
                .await
                .unwrap();
            let Some(last) = page.last() else { break };
            last_seen = last.seq;
            resumed.extend(page);
        }
        assert_eq!(resumed, all, "paging by last seen seq loses nothing");
    }
}

pub async fn concurrent_appends_to_one_conversation(store: &Arc<dyn Store>) {
    let conversation = store
        .create_conversation(sample_conversation(&unique_id("requester")))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for poster in 0..8 {
        let task_store = store.clone();
        let conversation_id = conversation.id.clone();
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for index in 0..25 {
                let body = format!("poster {poster} message {index}");
                let result = task_store
                    .append_message(text_message(&conversation_id, &body, None))
                    .await
                    .unwrap();
                acked.push((result.message.seq, body));
            }
            acked
        }));
    }
    let mut acked = Vec::new();
    for task in tasks {
        acked.extend(task.await.unwrap());
    }
    acked.sort();
    let seqs: Vec<i64> = acked.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(
        seqs,
        (1..=200).collect::<Vec<_>>(),
        "200 posts take seqs 1..=200"
    );
    let stored = store
        .messages_after(&conversation.id, 0, 1000)
        .await
        .unwrap();
    let stored_pairs: Vec<(i64, String)> = stored
        .into_iter()
        .map(|message| (message.seq, message.body))
        .collect();
    assert_eq!(stored_pairs, acked, "each acknowledged seq holds that post");
}

pub async fn tickets_lifecycle(store: &Arc<dyn Store>) {
    let requester = unique_id("requester");
    let conversation = store
        .create_conversation(sample_conversation(&requester))
        .await
        .unwrap();

    let mut new = sample_ticket(&requester, Some(&conversation.id));
    new.tags = vec!["origem-chat".into(), "origem-chat".into(), "urgente".into()];
    let first = store.create_ticket(new.clone()).await.unwrap();
    let first_serial = serial_of(&first.number);
    assert!(first_serial >= 1);
    assert_eq!(first.requester_id, requester);
    assert_eq!(first.activity_id, new.activity_id);
    assert_eq!(first.contract, new.contract);
    assert_eq!(first.group, new.group);
    assert_eq!(first.description, new.description);
    assert_eq!(first.status, TicketStatus::Open);
    assert_eq!(
        first.tags,
        vec!["origem-chat", "urgente"],
        "tags are deduplicated"
    );
    assert_eq!(
        first.conversation_id.as_deref(),
        Some(conversation.id.as_str())
    );
    assert_eq!(
        store.get_ticket(&first.number).await.unwrap().as_ref(),
        Some(&first),
        "stored ticket reads back equal"
    );
    let linked = store
        .get_conversation(&conversation.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(linked.ticket_number.as_deref(), Some(first.number.as_str()));
    assert_eq!(
        linked.version, conversation.version,
        "linking a ticket keeps the version"
    );

    let mut in_progress = sample_ticket(&requester, None);
    in_progress.status = TicketStatus::InProgress;
    let second = store.create_ticket(in_progress).await.unwrap();
    assert_eq!(
        serial_of(&second.number),
        first_serial + 1,
        "numbers are sequential"
    );
    let someone_else = store
        .create_ticket(sample_ticket(&unique_id("requester"), None))
        .await
        .unwrap();

    let open = store.open_tickets_for(&requester).await.unwrap();
    assert_eq!(
        open,
        vec![first.clone(), second.clone()],
        "open and in progress, oldest first"
    );

    let closed = store
        .set_ticket_status(&second.number, TicketStatus::Closed)
        .await
        .unwrap();
    assert_eq!(closed.status, TicketStatus::Closed);
    let open = store.open_tickets_for(&requester).await.unwrap();
    assert_eq!(open, vec![first.clone()], "closed tickets are not open");

    let tagged = store
        .add_ticket_tags(&first.number, &["chat-perdido".into(), "urgente".into()])
        .await
        .unwrap();
    assert_eq!(tagged.tags, vec!["origem-chat", "urgente", "chat-perdido"]);
    assert_eq!(
        store.get_ticket(&first.number).await.unwrap().unwrap().tags,
        tagged.tags
    );

    // Resuming a ticket in a new conversation links both ways.
    let resumed_in = store
        .create_conversation(sample_conversation(&requester))
        .await
        .unwrap();
    store
        .attach_ticket(&second.number, &resumed_in.id)
        .await
        .unwrap();
    let attached = store.get_ticket(&second.number).await.unwrap().unwrap();
    assert_eq!(
        attached.conversation_id.as_deref(),
        Some(resumed_in.id.as_str())
    );
    let resumed_after = store
        .get_conversation(&resumed_in.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        resumed_after.ticket_number.as_deref(),
        Some(second.number.as_str())
    );

    let unknown_number = "T-999999";
    assert_eq!(store.get_ticket(unknown_number).await.unwrap(), None);
    expect_code(
        store.attach_ticket(unknown_number, &resumed_in.id).await,
        "not_found",
        "attaching an unknown ticket",
    );
    expect_code(
        store.attach_ticket(&first.number, &unique_id("conv")).await,
        "not_found",
        "attaching to an unknown conversation",
    );
    expect_code(
        store.add_ticket_tags(unknown_number, &["x".into()]).await,
        "not_found",
        "tagging an unknown ticket",
    );
    expect_code(
        store
            .set_ticket_status(unknown_number, TicketStatus::Closed)
            .await,
        "not_found",
        "closing an unknown ticket",
    );
    expect_code(
        store.add_ticket_tags(&first.number, &[" ".into()]).await,
        "invalid_input",
        "a blank tag",
    );
    expect_code(
        store
            .create_ticket(sample_ticket(&requester, Some(&unique_id("conv"))))
            .await,
        "not_found",
        "a ticket for an unknown conversation",
    );
    // The failed creations above must not have used up a number.
    let next = store
        .create_ticket(sample_ticket(&requester, None))
        .await
        .unwrap();
    assert_eq!(
        serial_of(&next.number),
        serial_of(&someone_else.number) + 1,
        "a failed creation leaves no gap"
    );
}

pub async fn ticket_numbers_concurrent(store: &Arc<dyn Store>) {
    let requester = unique_id("requester");
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let task_store = store.clone();
        let new = sample_ticket(&requester, None);
        tasks.push(tokio::spawn(
            async move { task_store.create_ticket(new).await },
        ));
    }
    let mut serials = BTreeSet::new();
    for task in tasks {
        let ticket = task.await.unwrap().unwrap();
        assert!(
            serials.insert(serial_of(&ticket.number)),
            "ticket numbers are unique"
        );
    }
    let first = *serials.first().unwrap();
    let last = *serials.last().unwrap();
    assert_eq!(
        last - first + 1,
        50,
        "50 concurrent tickets take 50 consecutive numbers"
    );
    assert_eq!(store.open_tickets_for(&requester).await.unwrap().len(), 50);
}

pub async fn parameters_roundtrip(store: &Arc<dyn Store>) {
    let named = unique_id("setting");
    store.set_parameter("299", "on").await.unwrap();
    store.set_parameter("447", "").await.unwrap();
    store
        .set_parameter(&named, "Atendente indisponível — volte já")
        .await
        .unwrap();
    let all = store.parameters().await.unwrap();
    assert_eq!(all.get("299").map(String::as_str), Some("on"));
    assert_eq!(
        all.get("447").map(String::as_str),
        Some(""),
        "an empty value is a value"
    );
    assert_eq!(
        all.get(&named).map(String::as_str),
        Some("Atendente indisponível — volte já")
    );

    store.set_parameter("299", "off").await.unwrap();
    assert_eq!(
        store.parameter("299").await.unwrap().as_deref(),
        Some("off"),
        "set replaces"
    );
    assert_eq!(store.parameter(&unique_id("missing")).await.unwrap(), None);
    expect_code(
        store.set_parameter("", "x").await,
        "invalid_input",
        "an empty parameter key",
    );
}

/// Issued tokens are stored by hash with whom they identify, listed without secrets, refused
/// twice under one id or hash, and gone once deleted.
pub async fn tokens_roundtrip(store: &Arc<dyn Store>) {
    let id = unique_id("tok");
    let sha256: String = sha2::Sha256::digest(id.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let new = NewToken {
        id: id.clone(),
        sha256: sha256.clone(),
        role: "requester".into(),
        subject: "maria".into(),
        groups: vec!["rh".into(), "ti".into()],
        expires_at: Some(4_102_444_800_000),
    };
    let stored = store.insert_token(new.clone()).await.unwrap();
    assert_eq!(stored.id, id);
    assert_eq!(stored.groups, ["rh", "ti"]);
    assert_eq!(stored.expires_at, Some(4_102_444_800_000));
    assert!(stored.created_at > 0);
    let listed = store.tokens().await.unwrap();
    assert_eq!(
        listed.iter().find(|token| token.id == id),
        Some(&stored),
        "a stored token is listed as it was stored"
    );

    let mut same_hash = new.clone();
    same_hash.id = unique_id("tok");
    expect_code(
        store.insert_token(same_hash).await,
        "already_exists",
        "a second token with the same hash",
    );
    let mut same_id = new.clone();
    same_id.sha256 = "f".repeat(64);
    expect_code(
        store.insert_token(same_id).await,
        "already_exists",
        "a second token with the same id",
    );
    let mut plaintext = new.clone();
    plaintext.id = unique_id("tok");
    plaintext.sha256 = "not-a-hash".into();
    expect_code(
        store.insert_token(plaintext).await,
        "invalid_input",
        "a token stored without its hash",
    );
    let mut long_subject = new.clone();
    long_subject.id = unique_id("tok");
    long_subject.sha256 = "e".repeat(64);
    long_subject.subject = "s".repeat(super::MAX_ID_LEN + 1);
    expect_code(
        store.insert_token(long_subject).await,
        "invalid_input",
        "an oversized token subject",
    );

    let deleted = store.delete_token(&id).await.unwrap();
    assert_eq!(deleted, stored);
    assert!(
        store
            .tokens()
            .await
            .unwrap()
            .iter()
            .all(|token| token.id != id),
        "a deleted token is not listed"
    );
    expect_code(
        store.delete_token(&id).await,
        "not_found",
        "deleting a token twice",
    );
}

pub async fn invalid_input_rejected(store: &Arc<dyn Store>) {
    let mut blank_id = sample_conversation("requester");
    blank_id.id = "  ".into();
    expect_code(
        store.create_conversation(blank_id).await,
        "invalid_input",
        "a blank conversation id",
    );
    let mut control = sample_conversation("requester");
    control.requester_id = "bad\nid".into();
    expect_code(
        store.create_conversation(control).await,
        "invalid_input",
        "a requester id with a newline",
    );
    expect_code(
        store.get_conversation("").await,
        "invalid_input",
        "getting an empty id",
    );

    let conversation = store
        .create_conversation(sample_conversation(&unique_id("requester")))
        .await
        .unwrap();
    let long_client_id = "x".repeat(super::MAX_ID_LEN + 1);
    expect_code(
        store
            .append_message(text_message(&conversation.id, "x", Some(&long_client_id)))
            .await,
        "invalid_input",
        "an oversized client message id",
    );
    let stored = store.messages_after(&conversation.id, 0, 10).await.unwrap();
    assert!(stored.is_empty(), "rejected input stores nothing");
}

pub async fn closed_store_rejects_calls(store: &Arc<dyn Store>) {
    let conversation = store
        .create_conversation(sample_conversation(&unique_id("requester")))
        .await
        .unwrap();
    store.close().await;
    expect_code(
        store
            .append_message(text_message(&conversation.id, "late", None))
            .await,
        "store_closed",
        "appending after close",
    );
    expect_code(
        store.get_conversation(&conversation.id).await,
        "store_closed",
        "reading after close",
    );
    // A second close is harmless.
    store.close().await;
}
