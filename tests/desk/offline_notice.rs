//! Parameter 447: a requester who writes while nobody is there to read gets the offline
//! notice once per offline period, in the conversation's language; an empty 447 sends none.

use super::Desk;
use axum::http::Method;
use serde_json::{Value, json};

/// Posts `text` and returns the text keys of what the assistant said after it.
async fn post(desk: &Desk, token: &str, id: &str, text: &str) -> Vec<String> {
    let answer = desk
        .ok(
            Method::POST,
            &format!("/api/conversations/{id}/messages"),
            token,
            Some(json!({ "text": text })),
        )
        .await;
    answer["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|message| message["sender_kind"] == "assistant")
        .map(|message| {
            message["payload"]["text_key"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

fn bodies(transcript: &[Value], key: &str) -> Vec<String> {
    transcript
        .iter()
        .filter(|message| message["payload"]["text_key"] == key)
        .map(|message| message["body"].as_str().unwrap().to_string())
        .collect()
}

async fn set_parameter(desk: &Desk, key: &str, value: &str) {
    desk.ok(
        Method::PUT,
        "/api/admin/parameters",
        &desk.admin,
        Some(json!({ "key": key, "value": value })),
    )
    .await;
}

async fn presence(desk: &Desk, token: &str, state: &str) {
    desk.ok(
        Method::PUT,
        "/api/desk/presence",
        token,
        Some(json!({ "channel": "web_chat", "state": state })),
    )
    .await;
}

#[tokio::test]
async fn a_queued_requester_writing_to_nobody_gets_the_447_notice_once_per_offline_period() {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    let (token, id) = desk.queued_requester("ivo").await;

    // Nobody is online: the first message gets the notice, the second does not.
    assert_eq!(post(&desk, &token, &id, "hello?").await, ["offline_notice"]);
    assert!(post(&desk, &token, &id, "anyone there?").await.is_empty());
    let transcript = desk.transcript(&token, &id).await;
    assert_eq!(
        bodies(&transcript, "offline_notice"),
        [
            "No attendant is available right now. Your message has been saved and will be answered as soon as possible."
        ]
    );

    // Someone comes online: no notice. They leave again: a new offline period, one notice.
    presence(&desk, &ana, "online").await;
    assert!(post(&desk, &token, &id, "still waiting").await.is_empty());
    presence(&desk, &ana, "offline").await;
    assert_eq!(
        post(&desk, &token, &id, "hello again?").await,
        ["offline_notice"]
    );
    assert!(post(&desk, &token, &id, "...").await.is_empty());
}

#[tokio::test]
async fn the_attendant_of_a_live_chat_going_offline_brings_the_custom_447_text_in_the_requester_language()
 {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    set_parameter(&desk, "447", "Estamos fora do ar; voltamos logo.").await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    presence(&desk, &ana, "online").await;
    let (token, id) = desk.queued_requester("ivo").await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/capture"),
        &ana,
        None,
    )
    .await;
    assert!(post(&desk, &token, &id, "hi Ana").await.is_empty());
    presence(&desk, &ana, "offline").await;
    assert_eq!(post(&desk, &token, &id, "Ana?").await, ["offline_custom"]);
    let transcript = desk.transcript(&token, &id).await;
    assert_eq!(
        bodies(&transcript, "offline_custom"),
        ["Estamos fora do ar; voltamos logo."]
    );
}

#[tokio::test]
async fn an_empty_447_sends_no_notice_and_the_default_speaks_portuguese_to_a_pt_br_chat() {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    desk.attendant("ana", "Ana", 5).await;
    set_parameter(&desk, "447", "").await;
    let (token, id) = desk.queued_requester("ivo").await;
    assert!(post(&desk, &token, &id, "hello?").await.is_empty());

    set_parameter(&desk, "447", "default").await;
    // A pt-BR requester with the assistant off (423): a ticket, queued for a person.
    set_parameter(&desk, "423", "off").await;
    let requester = desk.token(ponte::auth::Role::Requester, "bia");
    let opened = desk
        .ok(
            Method::POST,
            "/api/conversations",
            &requester,
            Some(json!({ "language": "pt-BR" })),
        )
        .await;
    let conversation = opened["conversation"]["id"].as_str().unwrap().to_string();
    desk.ok(
        Method::POST,
        &format!("/api/conversations/{conversation}/options"),
        &requester,
        Some(json!({ "option_id": "create_ticket" })),
    )
    .await;
    for text in ["Minha impressora não imprime", "sim"] {
        desk.ok(
            Method::POST,
            &format!("/api/conversations/{conversation}/messages"),
            &requester,
            Some(json!({ "text": text })),
        )
        .await;
    }
    let view = desk
        .ok(
            Method::GET,
            &format!("/api/conversations/{conversation}"),
            &requester,
            None,
        )
        .await;
    assert_eq!(view["status"], "queued", "{view}");
    assert_eq!(
        post(&desk, &requester, &conversation, "alô?").await,
        ["offline_notice"]
    );
    let transcript = desk.transcript(&requester, &conversation).await;
    assert_eq!(
        bodies(&transcript, "offline_notice"),
        [
            "No momento não há atendente disponível. Sua mensagem foi registrada e será respondida assim que possível."
        ]
    );
}
