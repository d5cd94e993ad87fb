//! A ticket created by chat over HTTP and found in the requester's tickets, owners kept apart.

use super::{Api, assert_error, ticket_number};
use axum::http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn a_requester_creates_a_ticket_by_chat_and_finds_it_in_their_tickets() {
    let api = Api::new().await;
    let (status, opened) = api
        .call(
            Method::POST,
            "/api/conversations",
            &api.ana,
            Some(json!({"language": "pt-BR"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let id = opened["conversation"]["id"].as_str().unwrap().to_string();
    assert_eq!(opened["conversation"]["language"], "pt-BR");
    assert_eq!(opened["conversation"]["status"], "bot");
    let greeting = opened["messages"].as_array().unwrap();
    assert!(!greeting.is_empty(), "{opened}");
    assert_eq!(
        opened["conversation"]["last_seq"],
        greeting.last().unwrap()["seq"]
    );
    let mut keys: Vec<&str> = greeting[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "body",
            "client_message_id",
            "created_at",
            "payload",
            "sender_kind",
            "seq"
        ]
    );

    let answered = api.say(&api.ana, &id, "esqueci minha senha").await;
    assert_eq!(answered["duplicate"], false);
    assert_eq!(answered["messages"][0]["sender_kind"], "requester");
    let (status, view) = api
        .call(
            Method::GET,
            &format!("/api/conversations/{id}"),
            &api.ana,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["requester_id"], "ana");
    assert!(view.get("machine_state").is_none(), "{view}");
    let offered: Vec<&str> = view["machine_view"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|option| option["id"].as_str())
        .collect();
    assert!(offered.contains(&"create_ticket"), "{view}");

    let (status, chosen) = api
        .call(
            Method::POST,
            &format!("/api/conversations/{id}/options"),
            &api.ana,
            Some(json!({"option_id": "create_ticket"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{chosen}");
    assert!(!chosen["messages"].as_array().unwrap().is_empty());
    api.say(
        &api.ana,
        &id,
        "minha senha expirou e não consigo entrar no computador",
    )
    .await;
    let created = api.say(&api.ana, &id, "sim").await;
    let number = ticket_number(&created["messages"])
        .unwrap_or_else(|| panic!("no ticket number in {created}"));

    let (status, tickets) = api.call(Method::GET, "/api/tickets", &api.ana, None).await;
    assert_eq!(status, StatusCode::OK, "{tickets}");
    let numbers: Vec<&str> = tickets["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ticket| ticket["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, [number.as_str()]);

    // Another requester sees none of it.
    let (status, body) = api
        .call(
            Method::GET,
            &format!("/api/conversations/{id}"),
            &api.bruno,
            None,
        )
        .await;
    assert_error(status, &body, 403, "forbidden");
    let (status, body) = api
        .call(
            Method::GET,
            &format!("/api/conversations/{id}/messages"),
            &api.bruno,
            None,
        )
        .await;
    assert_error(status, &body, 403, "forbidden");
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/api/conversations/{id}/messages"),
            &api.bruno,
            Some(json!({"text": "oi"})),
        )
        .await;
    assert_error(status, &body, 403, "forbidden");
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/api/conversations/{id}/options"),
            &api.bruno,
            Some(json!({"option_id": "create_ticket"})),
        )
        .await;
    assert_error(status, &body, 403, "forbidden");
    let (status, tickets) = api
        .call(Method::GET, "/api/tickets", &api.bruno, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{tickets}");
    assert_eq!(tickets["tickets"], json!([]));
}
