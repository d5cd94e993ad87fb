//! Macros: all their steps or none, racing macros never half-applied, and only who may
//! write in a chat tags it directly or by macro.

use super::{Desk, code};
use axum::http::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn macros_run_all_their_steps_or_none() {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    desk.online(&ana).await;
    let (requester, id) = desk.queued_requester("mika").await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/capture"),
        &ana,
        None,
    )
    .await;
    desk.ok(
        Method::PUT,
        "/api/desk/quick-replies/bye",
        &ana,
        Some(json!({ "texts": { "en": "Closing now, bye." } })),
    )
    .await;
    desk.ok(
        Method::PUT,
        "/api/desk/macros/wrap-up",
        &ana,
        Some(json!({ "name": "Wrap up", "actions": [
            { "action": "tag", "tag": "solved-by-macro" },
            { "action": "send_quick_reply", "shortcut": "/bye" },
            { "action": "close", "reason": "resolved" }
        ] })),
    )
    .await;
    desk.ok(
        Method::PUT,
        "/api/desk/macros/broken",
        &ana,
        Some(json!({ "name": "Broken", "actions": [
            { "action": "tag", "tag": "never" },
            { "action": "transfer", "to": "nobody" }
        ] })),
    )
    .await;
    let (status, _) = desk
        .call(
            Method::POST,
            &format!("/api/desk/chats/{id}/macros/broken"),
            &ana,
            None,
        )
        .await;
    assert!(!status.is_success());
    let chat = &desk.chats(&ana, "?state=in_progress").await[0];
    assert_eq!(chat["tags"], json!([]), "a refused macro applied a step");
    let done = desk
        .ok(
            Method::POST,
            &format!("/api/desk/chats/{id}/macros/wrap-up"),
            &ana,
            None,
        )
        .await;
    assert_eq!(done["state"], "closed");
    assert_eq!(done["tags"], json!(["solved-by-macro"]));
    let transcript = desk.transcript(&requester, &id).await;
    assert!(transcript.iter().any(|m| m["body"] == "Closing now, bye."));
}

/// Whether a set of tags holds both of the racing macros' tags or neither.
fn both_or_neither(tags: &std::collections::BTreeSet<String>) -> bool {
    tags.contains("race-a") == tags.contains("race-b")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_macros_never_show_half_of_their_steps() {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    desk.online(&ana).await;
    let (_requester, id) = desk.queued_requester("racer").await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/capture"),
        &ana,
        None,
    )
    .await;
    for (macro_id, action) in [("add-both", "tag"), ("remove-both", "untag")] {
        desk.ok(
            Method::PUT,
            &format!("/api/desk/macros/{macro_id}"),
            &ana,
            Some(json!({ "name": macro_id, "actions": [
                { "action": action, "tag": "race-a" },
                { "action": action, "tag": "race-b" }
            ] })),
        )
        .await;
    }
    let desk = Arc::new(desk);
    let mut racers = Vec::new();
    for round in 0..12 {
        let macro_id = if round % 2 == 0 {
            "add-both"
        } else {
            "remove-both"
        };
        let (runner, token, chat_id) = (desk.clone(), ana.clone(), id.clone());
        racers.push(tokio::spawn(async move {
            runner
                .ok(
                    Method::POST,
                    &format!("/api/desk/chats/{chat_id}/macros/{macro_id}"),
                    &token,
                    None,
                )
                .await;
        }));
        // Plain operations on the same chat between the macros' steps.
        let (tagger, token, chat_id) = (desk.clone(), ana.clone(), id.clone());
        racers.push(tokio::spawn(async move {
            tagger
                .ok(
                    Method::POST,
                    &format!("/api/desk/chats/{chat_id}/tags"),
                    &token,
                    Some(json!({ "tag": "other" })),
                )
                .await;
            tagger
                .ok(
                    Method::DELETE,
                    &format!("/api/desk/chats/{chat_id}/tags/other"),
                    &token,
                    None,
                )
                .await;
        }));
    }
    // Readers look at the chat while the macros run: never half a macro.
    let mut readers = Vec::new();
    for _ in 0..4 {
        let (reader, token, chat_id) = (desk.clone(), ana.clone(), id.clone());
        readers.push(tokio::spawn(async move {
            let mut halves = Vec::new();
            for _ in 0..40 {
                let tags = reader
                    .attendance
                    .book(|book| book.record(&chat_id).map(|record| record.tags.clone()))
                    .await
                    .unwrap_or_default();
                if !both_or_neither(&tags) {
                    halves.push(tags);
                }
                let chat = &reader.chats(&token, "?state=in_progress").await[0];
                let listed: std::collections::BTreeSet<String> =
                    serde_json::from_value(chat["tags"].clone()).unwrap();
                if !both_or_neither(&listed) {
                    halves.push(listed);
                }
                tokio::task::yield_now().await;
            }
            halves
        }));
    }
    for racer in racers {
        racer.await.unwrap();
    }
    let mut halves = Vec::new();
    for reader in readers {
        halves.extend(reader.await.unwrap());
    }
    assert!(
        halves.is_empty(),
        "half-applied macros were seen: {halves:?}"
    );
    let tags = desk
        .attendance
        .book(|book| book.record(&id).unwrap().tags.clone())
        .await;
    assert!(
        both_or_neither(&tags),
        "a macro ended half applied: {tags:?}"
    );
    // The durable log, replayed entry by entry, never holds half a macro either.
    let log = desk.store.desk_load().await.unwrap();
    let mut book = match &log.snapshot {
        Some((state, _)) => serde_json::from_str::<ponte::desk::DeskBook>(state).unwrap(),
        None => ponte::desk::DeskBook::new(Default::default()),
    };
    for (seq, text) in &log.ops {
        let op: ponte::desk::DeskOp = serde_json::from_str(text).unwrap();
        let _ = book.apply(&op);
        if let Some(record) = book.record(&id) {
            assert!(
                both_or_neither(&record.tags),
                "the desk log holds half a macro at entry {seq}: {:?}",
                record.tags
            );
        }
    }
    assert_eq!(book.record(&id).unwrap().tags, tags);
}

#[tokio::test]
async fn only_who_may_write_in_a_chat_tags_it_directly_or_by_macro() {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    let bia = desk.attendant("bia", "Bia", 5).await;
    desk.online(&ana).await;
    desk.online(&bia).await;
    let (_, id) = desk.queued_requester("tagged").await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/capture"),
        &ana,
        None,
    )
    .await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/tags"),
        &ana,
        Some(json!({ "tag": "vip" })),
    )
    .await;
    desk.ok(
        Method::PUT,
        "/api/desk/macros/mark",
        &bia,
        Some(json!({ "name": "Mark", "actions": [
            { "action": "tag", "tag": "by-macro" },
            { "action": "untag", "tag": "vip" }
        ] })),
    )
    .await;
    // Bia does not serve the chat: she may not read it, nor touch its tags.
    let (status, _) = desk
        .call(
            Method::GET,
            &format!("/api/desk/chats/{id}/messages"),
            &bia,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for (method, path, body) in [
        (
            Method::POST,
            format!("/api/desk/chats/{id}/tags"),
            Some(json!({ "tag": "spam" })),
        ),
        (
            Method::DELETE,
            format!("/api/desk/chats/{id}/tags/vip"),
            None,
        ),
        (
            Method::POST,
            format!("/api/desk/chats/{id}/macros/mark"),
            None,
        ),
    ] {
        let (status, answer) = desk.call(method.clone(), &path, &bia, body).await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{method} {path}"
        );
    }
    let chat = &desk.chats(&ana, "?state=in_progress").await[0];
    assert_eq!(chat["tags"], json!(["vip"]));
    // Ana, who serves it, runs the macro.
    let done = desk
        .ok(
            Method::POST,
            &format!("/api/desk/chats/{id}/macros/mark"),
            &ana,
            None,
        )
        .await;
    assert_eq!(done["tags"], json!(["by-macro"]));
}
