//! Working a chat (capture, transfer, invite, tags, unread markers, close with a reason)
//! and the desk surviving a restart from its log.

use super::{Desk, code, sqlite_at};
use axum::http::{Method, StatusCode};
use ponte::attendance::Clock;
use ponte::auth::Role;
use serde_json::{Value, json};

#[tokio::test]
async fn working_a_chat_transfer_invite_tags_unread_and_close_with_a_reason() {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    let ana = desk.attendant("ana", "Ana Souza", 5).await;
    let bia = desk.attendant("bia", "Bia Lima", 5).await;
    desk.online(&ana).await;
    desk.online(&bia).await;
    let (requester, id) = desk.queued_requester("rafa").await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/capture"),
        &ana,
        None,
    )
    .await;

    // The requester writes: unread for Ana, the alert lights up; reading clears it.
    desk.ok(
        Method::POST,
        &format!("/api/conversations/{id}/messages"),
        &requester,
        Some(json!({ "text": "my laptop will not start" })),
    )
    .await;
    let alert = desk.ok(Method::GET, "/api/desk/alert", &ana, None).await;
    assert_eq!(alert["alert"], true);
    assert_eq!(alert["unread"][0], id.as_str());
    assert_eq!(
        desk.chats(&ana, "?state=in_progress").await[0]["unread"],
        true
    );
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/read"),
        &ana,
        None,
    )
    .await;
    assert_eq!(
        desk.ok(Method::GET, "/api/desk/alert", &ana, None).await["alert"],
        false
    );

    // Quick reply: the shortcut is sent as its text in the conversation's language.
    desk.ok(
        Method::PUT,
        "/api/desk/quick-replies/hello",
        &ana,
        Some(json!({ "texts": { "en": "Hello! How can I help?", "pt-BR": "Olá! Como posso ajudar?" } })),
    )
    .await;
    let sent = desk
        .ok(
            Method::POST,
            &format!("/api/desk/chats/{id}/messages"),
            &ana,
            Some(json!({ "text": "/hello" })),
        )
        .await;
    assert_eq!(sent["messages"][0]["body"], "Hello! How can I help?");
    let transcript = desk.transcript(&requester, &id).await;
    assert_eq!(transcript.last().unwrap()["body"], "Hello! How can I help?");
    assert_eq!(transcript.last().unwrap()["sender_kind"], "attendant");

    // Tags, invite by @name, leave, transfer.
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/tags"),
        &ana,
        Some(json!({ "tag": "hardware" })),
    )
    .await;
    let invited = desk
        .ok(
            Method::POST,
            &format!("/api/desk/chats/{id}/invite"),
            &ana,
            Some(json!({ "name": "@Bia Lima" })),
        )
        .await;
    assert_eq!(invited["participants"], json!(["bia"]));
    let search = desk
        .ok(
            Method::GET,
            &format!("/api/desk/chats/{id}/messages?q=LAPTOP"),
            &bia,
            None,
        )
        .await;
    assert_eq!(search["messages"].as_array().unwrap().len(), 1);
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/leave"),
        &bia,
        None,
    )
    .await;
    let (status, answer) = desk
        .call(
            Method::POST,
            &format!("/api/desk/chats/{id}/leave"),
            &ana,
            None,
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::CONFLICT, "responsible_cannot_leave")
    );
    let moved = desk
        .ok(
            Method::POST,
            &format!("/api/desk/chats/{id}/transfer"),
            &ana,
            Some(json!({ "to": "bia" })),
        )
        .await;
    assert_eq!(moved["responsible"], "bia");
    assert_eq!(moved["tags"], json!(["hardware"]));
    // The transcript stays whole for the new responsible.
    let seen = desk
        .ok(
            Method::GET,
            &format!("/api/desk/chats/{id}/messages"),
            &bia,
            None,
        )
        .await;
    assert!(seen["messages"].as_array().unwrap().len() >= transcript.len());

    // Close: a reason is required, then the closing message reaches the requester.
    let (status, answer) = desk
        .call(
            Method::POST,
            &format!("/api/desk/chats/{id}/close"),
            &bia,
            Some(json!({ "reason": "" })),
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::UNPROCESSABLE_ENTITY, "close_reason_required")
    );
    let (status, answer) = desk
        .call(
            Method::POST,
            &format!("/api/desk/chats/{id}/close"),
            &bia,
            Some(json!({ "reason": "because" })),
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_close_reason")
    );
    let closed = desk
        .ok(
            Method::POST,
            &format!("/api/desk/chats/{id}/close"),
            &bia,
            Some(json!({ "reason": "resolved", "closing_message": "Glad it works again. Bye!" })),
        )
        .await;
    assert_eq!(closed["state"], "closed");
    let transcript = desk.transcript(&requester, &id).await;
    let bodies: Vec<&str> = transcript
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert!(bodies.contains(&"Glad it works again. Bye!"), "{bodies:?}");
    let (status, answer) = desk
        .call(
            Method::POST,
            &format!("/api/conversations/{id}/messages"),
            &requester,
            Some(json!({ "text": "thanks" })),
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::CONFLICT, "conversation_finished")
    );
    assert_eq!(desk.chats(&ana, "?state=closed").await.len(), 1);
    // Search the attendance list by the ticket the hand-off opened.
    let ticket = closed["ticket"]
        .as_str()
        .expect("the chat knows its ticket");
    let found = desk.chats(&ana, &format!("?ticket={ticket}")).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["conversation_id"], id.as_str());
    assert!(desk.chats(&ana, "?ticket=T-999999").await.is_empty());
}

#[tokio::test]
async fn the_desk_survives_a_restart_from_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_at(dir.path()).await;
    let desk = Desk::on(dir, store, Clock::new()).await;
    desk.configure("queue").await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    desk.online(&ana).await;
    let (_, first) = desk.queued_requester("r1").await;
    let (_, second) = desk.queued_requester("r2").await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{first}/capture"),
        &ana,
        None,
    )
    .await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{first}/tags"),
        &ana,
        Some(json!({ "tag": "vip" })),
    )
    .await;
    let before = desk.chats(&ana, "").await;
    let Desk { dir, store, .. } = desk;
    store.close().await;
    let store = sqlite_at(dir.path()).await;
    let desk = Desk::on(dir, store, Clock::new()).await;
    let ana = desk.token(Role::Attendant, "ana");
    let after = desk.chats(&ana, "").await;
    let strip = |chats: &[Value]| -> Vec<Value> {
        chats
            .iter()
            .map(|chat| {
                let mut chat = chat.clone();
                chat.as_object_mut().unwrap().remove("eta_ms");
                chat
            })
            .collect()
    };
    assert_eq!(strip(&after), strip(&before));
    assert_eq!(after[0]["conversation_id"], second.as_str());
}
