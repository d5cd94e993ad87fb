//! Who may read a chat: only participants read a conversation and its attachments, and an
//! admin supervises what attendants see.

use super::Desk;
use axum::http::{Method, StatusCode};
use ponte::auth::Role;
use serde_json::{Value, json};

#[tokio::test]
async fn only_participants_read_a_conversation_and_its_attachments() {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    let bia = desk.attendant("bia", "Bia", 5).await;
    desk.online(&ana).await;
    desk.online(&bia).await;
    let (requester, id) = desk.queued_requester("nina").await;
    let stranger = desk.token(Role::Requester, "stranger");
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/capture"),
        &ana,
        None,
    )
    .await;

    let png = b"\x89PNG\r\n\x1a\nnot really an image".to_vec();
    let (status, body) = desk
        .raw(
            Method::POST,
            &format!("/api/conversations/{id}/attachments?name=../../screen.png"),
            &requester,
            "image/png",
            png.clone(),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let uploaded: Value = serde_json::from_slice(&body).unwrap();
    let attachment = uploaded["attachment"]["id"].as_str().unwrap().to_string();
    assert_eq!(uploaded["attachment"]["file_name"], "screen.png");
    assert_eq!(uploaded["attachment"]["kind"], "image");

    // Refused kinds and sizes.
    let (status, body) = desk
        .raw(
            Method::POST,
            &format!("/api/conversations/{id}/attachments?name=x.exe"),
            &requester,
            "application/x-msdownload",
            b"MZ".to_vec(),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let (status, _) = desk
        .raw(
            Method::POST,
            &format!("/api/conversations/{id}/attachments?name=big.png"),
            &requester,
            "image/png",
            vec![0u8; 11 * 1024 * 1024],
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _) = desk
        .raw(
            Method::POST,
            &format!("/api/conversations/{id}/attachments?name=x.png"),
            &stranger,
            "image/png",
            png.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let download = format!("/api/attachments/{attachment}");
    for (token, allowed) in [
        (&requester, true),
        (&ana, true),
        (&bia, false),
        (&stranger, false),
    ] {
        let (status, body) = desk
            .raw(
                Method::GET,
                &download,
                token,
                "application/json",
                Vec::new(),
            )
            .await;
        if allowed {
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body, png);
        } else {
            assert_eq!(status, StatusCode::FORBIDDEN);
        }
    }
    // Nor may outsiders read the transcript or follow it live; Ana, who serves it, may (after
    // a transfer she still may read the history).
    for (path, token, expected) in [
        (
            format!("/api/desk/chats/{id}/messages"),
            &bia,
            StatusCode::FORBIDDEN,
        ),
        (
            format!("/api/conversations/{id}/messages"),
            &stranger,
            StatusCode::FORBIDDEN,
        ),
        (
            format!("/api/conversations/{id}/events"),
            &bia,
            StatusCode::FORBIDDEN,
        ),
        (
            format!("/api/desk/chats/{id}/messages"),
            &ana,
            StatusCode::OK,
        ),
    ] {
        let (status, _) = desk.call(Method::GET, &path, token, None).await;
        assert_eq!(status, expected, "GET {path}");
    }
}

#[tokio::test]
async fn an_admin_supervises_what_attendants_see() {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    desk.online(&ana).await;
    let (_, served) = desk.queued_requester("served").await;
    let (_, waiting) = desk.queued_requester("waiting").await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{served}/capture"),
        &ana,
        None,
    )
    .await;
    let admin = desk.admin.clone();

    // The attendance list, every chat and its transcript.
    let listed = desk.chats(&admin, "").await;
    let ids: Vec<&str> = listed
        .iter()
        .map(|chat| chat["conversation_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![waiting.as_str(), served.as_str()]);
    assert_eq!(listed[0]["position"], 1);
    for id in [&served, &waiting] {
        let transcript = desk
            .ok(
                Method::GET,
                &format!("/api/desk/chats/{id}/messages"),
                &admin,
                None,
            )
            .await;
        assert!(
            transcript["messages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["body"] == "tell me a joke about penguins"),
            "{transcript}"
        );
    }
    desk.ok(Method::GET, "/api/desk/alert", &admin, None).await;

    // Quick replies: shared ones are managed; a personal one needs a person.
    desk.ok(
        Method::PUT,
        "/api/desk/quick-replies/mine",
        &ana,
        Some(json!({ "texts": { "en": "Ana's own." }, "personal": true })),
    )
    .await;
    desk.ok(
        Method::PUT,
        "/api/desk/quick-replies/hello",
        &admin,
        Some(json!({ "texts": { "en": "Hello!" } })),
    )
    .await;
    let replies = desk
        .ok(Method::GET, "/api/desk/quick-replies", &admin, None)
        .await;
    let shortcuts: Vec<&str> = replies["quick_replies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|reply| reply["shortcut"].as_str().unwrap())
        .collect();
    assert_eq!(shortcuts, vec!["/hello", "/mine"]);
    let (status, _) = desk
        .call(
            Method::PUT,
            "/api/desk/quick-replies/own",
            &admin,
            Some(json!({ "texts": { "en": "x" }, "personal": true })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    desk.ok(
        Method::DELETE,
        "/api/desk/quick-replies/hello",
        &admin,
        None,
    )
    .await;
    desk.ok(Method::GET, "/api/desk/macros", &admin, None).await;

    // Acting in a chat needs a person of the desk.
    for path in [
        format!("/api/desk/chats/{waiting}/capture"),
        format!("/api/desk/chats/{served}/messages"),
    ] {
        let (status, _) = desk
            .call(Method::POST, &path, &admin, Some(json!({ "text": "hi" })))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "POST {path}");
    }
}
