//! Conformance checks on messages: sequence numbers and paging, idempotent appends by
//! client message id (sequential and concurrent), lookups by client id, atomic steps, and
//! ordering under concurrency.

use std::sync::Arc;

use ponte::store::{NewMessage, SenderKind, Step, StepTarget, Store, StoreError};
use serde_json::json;

use super::*;

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
    assert_eq!(found, Some(stored.clone()));
    assert_eq!(
        store
            .message_by_client_id(&conversation.id, "client-8")
            .await
            .unwrap(),
        None
    );
    // The conversation an input is about comes with the replayed message, if any.
    let (row, replayed) = store
        .conversation_for_input(&conversation.id, Some("client-7"))
        .await
        .unwrap()
        .expect("the conversation exists");
    assert_eq!(
        (row.id.as_str(), row.last_seq),
        (conversation.id.as_str(), 1)
    );
    assert_eq!(replayed, Some(stored));
    for fresh in [Some("client-8"), None] {
        let (_, replayed) = store
            .conversation_for_input(&conversation.id, fresh)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(replayed, None, "{fresh:?} is not a replay");
    }
    assert!(
        store
            .conversation_for_input("no-such-conversation", Some("client-7"))
            .await
            .unwrap()
            .is_none()
    );
}

/// Many inputs starting at once (as under load, when a store may answer them together) each
/// get their own conversation and their own replay: none is handed another's row, another's
/// replayed message, or nothing when its conversation exists.
pub async fn concurrent_inputs_read_their_own_conversation(store: &Arc<dyn Store>) {
    let mut conversations = Vec::new();
    for index in 0..24 {
        let conversation = store
            .create_conversation(sample_conversation(&unique_id("input")))
            .await
            .unwrap();
        let mut stored = None;
        // Each conversation gets a different number of messages, so rows tell apart.
        for seq in 0..=index % 4 {
            let client = format!("client-{index}-{seq}");
            stored = Some(
                store
                    .append_message(text_message(&conversation.id, "hi", Some(&client)))
                    .await
                    .unwrap()
                    .message,
            );
        }
        conversations.push((conversation.id, stored.unwrap()));
    }
    let mut reads = Vec::new();
    for round in 0..3 {
        for (id, last) in &conversations {
            let store = store.clone();
            let (id, last) = (id.clone(), last.clone());
            reads.push(tokio::spawn(async move {
                let asked = match round {
                    0 => last.client_message_id.clone(),
                    1 => Some("never-sent".to_string()),
                    _ => None,
                };
                let found = store
                    .conversation_for_input(&id, asked.as_deref())
                    .await
                    .unwrap();
                let (row, replayed) = found.expect("the conversation exists");
                assert_eq!((row.id.as_str(), row.last_seq), (id.as_str(), last.seq));
                assert_eq!(replayed, (round == 0).then_some(last), "round {round}");
            }));
        }
        let store = store.clone();
        reads.push(tokio::spawn(async move {
            let unknown = unique_id("no-such-conversation");
            assert!(
                store
                    .conversation_for_input(&unknown, Some("client-0-0"))
                    .await
                    .unwrap()
                    .is_none()
            );
        }));
    }
    for read in reads {
        read.await.unwrap();
    }
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
            outbox: Vec::new(),
            deadline: None,
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
            outbox: Vec::new(),
            deadline: None,
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
            outbox: Vec::new(),
            deadline: None,
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
            outbox: Vec::new(),
            deadline: None,
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
            outbox: Vec::new(),
            deadline: None,
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
            outbox: Vec::new(),
            deadline: None,
        })
        .await;
    assert!(unknown.is_ok(), "keeping nothing of nothing writes nothing");
    let unknown = store
        .commit_step(Step {
            target: StepTarget::Keep {
                id: "missing-step".into(),
            },
            messages: vec![text_message("missing-step", "x", None)],
            outbox: Vec::new(),
            deadline: None,
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
            outbox: Vec::new(),
            deadline: None,
        })
        .await;
    assert!(
        matches!(stranger, Err(StoreError::InvalidInput(_))),
        "{stranger:?}"
    );
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

/// Steps of several messages racing on one conversation, some keeping its row and some
/// updating it at the version they read: every step's messages take consecutive sequence
/// numbers in their order, with no gap between steps; an update that lost the race is a
/// conflict with nothing written; a step repeating a stored client id is that duplicate.
pub async fn concurrent_steps_to_one_conversation(store: &Arc<dyn Store>) {
    let conversation = store
        .create_conversation(sample_conversation(&unique_id("requester")))
        .await
        .unwrap();
    let id = conversation.id.clone();
    let mut tasks = Vec::new();
    for writer in 0..6 {
        let store = store.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            let mut committed = Vec::new();
            let mut conflicts = 0;
            for step in 0..10 {
                let bodies: Vec<String> = (0..3)
                    .map(|part| format!("writer {writer} step {step} part {part}"))
                    .collect();
                let messages = bodies
                    .iter()
                    .enumerate()
                    .map(|(part, body)| {
                        let client = format!("w{writer}-s{step}");
                        text_message(&id, body, (part == 0).then_some(client.as_str()))
                    })
                    .collect();
                let target = if step % 2 == 0 {
                    StepTarget::Keep { id: id.clone() }
                } else {
                    let current = store.get_conversation(&id).await.unwrap().unwrap();
                    let mut update = current.to_update();
                    update.machine_state = json!({ "writer": writer, "step": step });
                    StepTarget::Update(update)
                };
                let result = store
                    .commit_step(Step {
                        target,
                        messages,
                        outbox: Vec::new(),
                        deadline: None,
                    })
                    .await;
                match result {
                    Ok(step) => {
                        assert!(
                            step.duplicate.is_none(),
                            "fresh client ids are not duplicates"
                        );
                        let seqs: Vec<i64> = step.messages.iter().map(|m| m.seq).collect();
                        assert_eq!(
                            seqs,
                            (seqs[0]..seqs[0] + 3).collect::<Vec<_>>(),
                            "a step's messages are consecutive"
                        );
                        committed.extend(step.messages.into_iter().map(|m| (m.seq, m.body)));
                    }
                    Err(StoreError::Conflict { .. }) => conflicts += 1,
                    Err(error) => panic!("a racing step failed: {error}"),
                }
            }
            (committed, conflicts)
        }));
    }
    let mut acked = Vec::new();
    for task in tasks {
        let (committed, _conflicts) = task.await.unwrap();
        acked.extend(committed);
    }
    acked.sort();
    let seqs: Vec<i64> = acked.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(
        seqs,
        (1..=acked.len() as i64).collect::<Vec<_>>(),
        "committed steps leave no gap"
    );
    assert!(acked.len() >= 6 * 5 * 3, "every kept step commits");
    let stored: Vec<(i64, String)> = store
        .messages_after(&id, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|message| (message.seq, message.body))
        .collect();
    assert_eq!(stored, acked, "each acknowledged seq holds that message");
    let after = store.get_conversation(&id).await.unwrap().unwrap();
    assert_eq!(after.last_seq, acked.len() as i64);
    // A replayed step answers with what is stored and writes nothing.
    let replay = store
        .commit_step(Step {
            target: StepTarget::Keep { id: id.clone() },
            messages: vec![
                text_message(&id, "another body", Some("w0-s0")),
                text_message(&id, "a reply", None),
            ],
            outbox: Vec::new(),
            deadline: None,
        })
        .await
        .unwrap();
    let duplicate = replay.duplicate.expect("the replay is recognised");
    assert_eq!(duplicate.body, "writer 0 step 0 part 0");
    assert!(replay.messages.is_empty());
    let unchanged = store.get_conversation(&id).await.unwrap().unwrap();
    assert_eq!(
        unchanged.last_seq, after.last_seq,
        "a replay writes nothing"
    );
}
