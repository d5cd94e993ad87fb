//! Conformance checks on conversations: the round trip, updates with their version
//! conflicts (also concurrent), and the list filters.

use std::sync::Arc;

use ponte::store::{Channel, ConversationFilter, ConversationStatus, Store, StoreError};
use serde_json::json;

use super::*;

pub async fn conversation_roundtrip(store: &Arc<dyn Store>) {
    let mut new = sample_conversation(&unique_id("requester"));
    new.channel = Channel::WhatsApp;
    new.language = ponte::lang::Language::Es;
    let created = store.create_conversation(new.clone()).await.unwrap();
    assert_eq!(created.id, new.id);
    assert_eq!(created.channel, Channel::WhatsApp);
    assert_eq!(created.requester_id, new.requester_id);
    assert_eq!(created.language, ponte::lang::Language::Es);
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
            limit: ponte::store::MAX_PAGE,
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
