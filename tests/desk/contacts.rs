//! Contacts and outbound work: a blocked contact refused, outbound and analyst chats, and an
//! outbound conversation announcing its attendant once.

use super::{Desk, code};
use axum::http::{Method, StatusCode};
use ponte::auth::Role;
use serde_json::json;

#[tokio::test]
async fn a_blocked_contact_is_refused_and_keeps_everything() {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    desk.online(&ana).await;
    let (requester, id) = desk.queued_requester("spammer").await;
    desk.ok(
        Method::PUT,
        "/api/desk/contacts/spammer",
        &ana,
        Some(json!({ "name": "Sam Pérez", "email": "sam@example.com", "contract": "gold", "contract_status": "blocked" })),
    )
    .await;
    let before = desk.transcript(&requester, &id).await.len();
    desk.ok(
        Method::PUT,
        "/api/desk/contacts/spammer/block",
        &ana,
        Some(json!({ "blocked": true })),
    )
    .await;
    let (status, answer) = desk
        .call(
            Method::POST,
            &format!("/api/conversations/{id}/messages"),
            &requester,
            Some(json!({ "text": "buy now" })),
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::FORBIDDEN, "contact_blocked")
    );
    let (status, _) = desk
        .call(
            Method::POST,
            "/api/conversations",
            &requester,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(desk.transcript(&requester, &id).await.len(), before);
    // Contact search ignores accents and case and shows the contract status.
    let found = desk
        .ok(Method::GET, "/api/desk/contacts?q=perez", &ana, None)
        .await;
    assert_eq!(found["contacts"][0]["id"], "spammer");
    assert_eq!(found["contacts"][0]["contract_status"], "blocked");
    assert_eq!(found["contacts"][0]["blocked"], true);
    let listed = desk.chats(&ana, "?contact=PÉREZ").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["contact"]["contract_status"], "blocked");
    // Unblocked, they may write again.
    desk.ok(
        Method::PUT,
        "/api/desk/contacts/spammer/block",
        &ana,
        Some(json!({ "blocked": false })),
    )
    .await;
    desk.ok(
        Method::POST,
        &format!("/api/conversations/{id}/messages"),
        &requester,
        Some(json!({ "text": "sorry" })),
    )
    .await;
}

#[tokio::test]
async fn outbound_and_analyst_chats() {
    let desk = Desk::new().await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    let (status, answer) = desk
        .call(
            Method::POST,
            "/api/desk/outbound",
            &ana,
            Some(json!({ "requester": "lia", "language": "es", "text": "Hola Lía, ¿sigue el problema?" })),
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::CONFLICT, "not_online")
    );
    desk.online(&ana).await;
    let started = desk
        .ok(
            Method::POST,
            "/api/desk/outbound",
            &ana,
            Some(json!({ "requester": "lia", "language": "es", "text": "Hola Lía, ¿sigue el problema?" })),
        )
        .await;
    assert_eq!(started["state"], "in_progress");
    assert_eq!(started["responsible"], "ana");
    let id = started["conversation_id"].as_str().unwrap();
    let lia = desk.token(Role::Requester, "lia");
    let transcript = desk.transcript(&lia, id).await;
    assert_eq!(
        transcript.last().unwrap()["body"],
        "Hola Lía, ¿sigue el problema?"
    );
    // Lia's answer goes to Ana, not to the assistant.
    let answered = desk
        .ok(
            Method::POST,
            &format!("/api/conversations/{id}/messages"),
            &lia,
            Some(json!({ "text": "sí, todavía" })),
        )
        .await;
    assert_eq!(
        answered["messages"].as_array().unwrap().len(),
        1,
        "{answered}"
    );
    assert_eq!(
        desk.ok(Method::GET, "/api/desk/alert", &ana, None).await["alert"],
        true
    );

    // Analysts chat only when each linked the other.
    for (id, name) in [("dan", "Dan"), ("eva", "Eva")] {
        desk.ok(
            Method::PUT,
            &format!("/api/desk/people/{id}"),
            &desk.admin,
            Some(json!({ "name": name, "kind": "analyst", "groups": [], "channels": ["web_chat"], "max_chats": 3 })),
        )
        .await;
    }
    let dan = desk.token(Role::Analyst, "dan");
    let eva = desk.token(Role::Analyst, "eva");
    desk.ok(Method::PUT, "/api/desk/links/eva", &dan, None)
        .await;
    let (status, answer) = desk
        .call(
            Method::POST,
            "/api/desk/analyst-chats",
            &dan,
            Some(json!({ "to": "eva" })),
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::CONFLICT, "not_linked")
    );
    desk.ok(Method::PUT, "/api/desk/links/dan", &eva, None)
        .await;
    let chat = desk
        .ok(
            Method::POST,
            "/api/desk/analyst-chats",
            &dan,
            Some(json!({ "to": "eva" })),
        )
        .await;
    let chat_id = chat["conversation_id"].as_str().unwrap();
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{chat_id}/messages"),
        &dan,
        Some(json!({ "text": "can you look at T-000001?" })),
    )
    .await;
    let seen = desk
        .ok(
            Method::GET,
            &format!("/api/desk/chats/{chat_id}/messages"),
            &eva,
            None,
        )
        .await;
    assert_eq!(seen["messages"][0]["body"], "can you look at T-000001?");
    let (status, _) = desk
        .call(
            Method::GET,
            &format!("/api/desk/chats/{chat_id}/messages"),
            &ana,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_outbound_conversation_announces_its_attendant_once() {
    let desk = Desk::new().await;
    let ana = desk.attendant("ana", "Ana Souza", 5).await;
    desk.online(&ana).await;
    let started = desk
        .ok(
            Method::POST,
            "/api/desk/outbound",
            &ana,
            Some(json!({ "requester": "lia", "language": "pt-BR", "text": "Oi Lia, tudo certo?" })),
        )
        .await;
    let id = started["conversation_id"].as_str().unwrap();
    let lia = desk.token(Role::Requester, "lia");
    let bodies: Vec<String> = desk
        .transcript(&lia, id)
        .await
        .iter()
        .map(|m| m["body"].as_str().unwrap().to_string())
        .collect();
    let joined = bodies
        .iter()
        .filter(|body| body.as_str() == "Ana Souza entrou na conversa.")
        .count();
    assert_eq!(joined, 1, "{bodies:?}");
    assert_eq!(bodies.last().unwrap(), "Oi Lia, tudo certo?");
}
