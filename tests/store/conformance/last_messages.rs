//! Conformance check of the last message of many conversations (the attendance list's cards):
//! the newest message with a body, a bodiless event skipped, the body cut to the asked number
//! of characters (not bytes), conversations without a message or unknown left out, repeats
//! answered once, and bad input refused.

use std::collections::BTreeMap;
use std::sync::Arc;

use ponte::store::{LastMessage, NewMessage, SenderKind, Store};
use serde_json::json;

use super::*;

pub async fn last_messages_of_many_conversations(store: &Arc<dyn Store>) {
    let talked = store
        .create_conversation(sample_conversation(&unique_id("requester")))
        .await
        .unwrap();
    let short = store
        .create_conversation(sample_conversation(&unique_id("requester")))
        .await
        .unwrap();
    let silent = store
        .create_conversation(sample_conversation(&unique_id("requester")))
        .await
        .unwrap();

    // A requester's question, the assistant's long answer in Portuguese (multi-byte
    // characters), then a bodiless hand-off event: the answer is the last message.
    store
        .append_message(text_message(
            &talked.id,
            "minha impressora não imprime",
            None,
        ))
        .await
        .unwrap();
    let answer: String = "ação é ".repeat(30);
    store
        .append_message(NewMessage {
            conversation_id: talked.id.clone(),
            sender_kind: SenderKind::Assistant,
            sender_id: None,
            body: answer.clone(),
            payload: None,
            client_message_id: None,
        })
        .await
        .unwrap();
    store
        .append_message(NewMessage {
            conversation_id: talked.id.clone(),
            sender_kind: SenderKind::System,
            sender_id: None,
            body: String::new(),
            payload: Some(json!({"event": "handoff", "group": "desk", "ticket": "T-000001"})),
            client_message_id: None,
        })
        .await
        .unwrap();
    let said = store
        .append_message(text_message(&short.id, "olá", None))
        .await
        .unwrap()
        .message;

    let unknown = unique_id("conv");
    let asked = vec![
        talked.id.clone(),
        short.id.clone(),
        silent.id.clone(),
        unknown.clone(),
        short.id.clone(),
    ];
    let found = by_id(store.last_messages(&asked, 140).await.unwrap());
    assert_eq!(
        found.len(),
        2,
        "one row per conversation with a message, repeats once: {found:?}"
    );
    let last = &found[&talked.id];
    assert_eq!(last.seq, 2, "the bodiless event is skipped");
    assert_eq!(last.sender_kind, SenderKind::Assistant);
    assert_eq!(last.sender_id, None);
    assert_eq!(
        last.body,
        answer.chars().take(140).collect::<String>(),
        "the body is cut at 140 characters, not bytes"
    );
    assert!(last.clipped, "a longer body says it was cut");
    assert_eq!(
        found[&short.id],
        LastMessage {
            conversation_id: short.id.clone(),
            seq: 1,
            sender_kind: SenderKind::Requester,
            sender_id: Some("requester-1".to_string()),
            body: "olá".to_string(),
            clipped: false,
            created_at: said.created_at,
        }
    );
    assert!(!found.contains_key(&silent.id) && !found.contains_key(&unknown));

    // A new message becomes the last one; a body exactly as long as asked is not cut.
    store
        .append_message(text_message(&short.id, "abcde", None))
        .await
        .unwrap();
    let again = by_id(
        store
            .last_messages(std::slice::from_ref(&short.id), 5)
            .await
            .unwrap(),
    );
    assert_eq!(again[&short.id].seq, 2);
    assert_eq!(again[&short.id].body, "abcde");
    assert!(!again[&short.id].clipped);

    assert!(store.last_messages(&[], 140).await.unwrap().is_empty());
    expect_code(
        store
            .last_messages(std::slice::from_ref(&short.id), 0)
            .await,
        "invalid_input",
        "a length of 0",
    );
    expect_code(
        store.last_messages(&[String::new()], 140).await,
        "invalid_input",
        "an empty conversation id",
    );
}

fn by_id(found: Vec<LastMessage>) -> BTreeMap<String, LastMessage> {
    found
        .into_iter()
        .map(|last| (last.conversation_id.clone(), last))
        .collect()
}
