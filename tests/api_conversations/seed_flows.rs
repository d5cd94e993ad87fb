//! The seed flows as a requester meets them through the API: a description that reads like
//! a request, a search by part of a title that several articles share, and rankings that do
//! not depend on the data directory they were built in.

use super::Api;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

/// The text keys the assistant said in an answer.
fn keys(answer: &Value) -> Vec<String> {
    answer["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|message| message["sender_kind"] == "assistant")
        .filter_map(|message| message["payload"]["text_key"].as_str())
        .map(str::to_string)
        .collect()
}

/// The option ids offered last in an answer.
fn offered(answer: &Value) -> Vec<String> {
    answer["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find_map(|message| {
            message["payload"]["options"]
                .as_array()
                .filter(|o| !o.is_empty())
        })
        .map(|options| {
            options
                .iter()
                .map(|option| option["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn assistant_off(api: &Api) {
    let (status, body) = api
        .call(
            Method::PUT,
            "/api/admin/parameters",
            &api.admin,
            Some(json!({ "key": "423", "value": "off" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_description_that_reads_like_a_request_is_the_description() {
    let api = Api::new().await;
    assistant_off(&api).await;
    let id = api.open(&api.ana).await;
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/api/conversations/{id}/options"),
            &api.ana,
            Some(json!({ "option_id": "create_ticket" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer = api
        .say(&api.ana, &id, "Quero falar com um especialista")
        .await;
    assert_eq!(keys(&answer), ["confirm_ticket"], "{answer}");
    let answer = api.say(&api.ana, &id, "sim").await;
    assert!(
        keys(&answer)
            .iter()
            .any(|key| key.starts_with("ticket_created")),
        "{answer}"
    );
    let (_, tickets) = api.call(Method::GET, "/api/tickets", &api.ana, None).await;
    assert_eq!(
        tickets["tickets"][0]["description"], "Quero falar com um especialista",
        "{tickets}"
    );
}

/// Searches the knowledge by `text` in a Smart Chat (assistant off) opened in `language`
/// and returns the option ids offered.
async fn knowledge_search(api: &Api, language: &str, text: &str) -> Vec<String> {
    let (status, opened) = api
        .call(
            Method::POST,
            "/api/conversations",
            &api.ana,
            Some(json!({ "language": language })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let id = opened["conversation"]["id"].as_str().unwrap().to_string();
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/api/conversations/{id}/options"),
            &api.ana,
            Some(json!({ "option_id": "search_knowledge" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    offered(&api.say(&api.ana, &id, text).await)
}

#[tokio::test]
async fn a_part_of_a_title_lists_every_article_whose_title_has_it() {
    let api = Api::new().await;
    assistant_off(&api).await;
    for (language, text, expected) in [
        (
            "pt-BR",
            "senha",
            [
                "article:reset-forgotten-password",
                "article:password-policy",
            ],
        ),
        (
            "pt-BR",
            "VPN",
            ["article:vpn-connect", "article:vpn-troubleshooting"],
        ),
        (
            "en",
            "VPN",
            ["article:vpn-connect", "article:vpn-troubleshooting"],
        ),
        (
            "es",
            "impresora",
            [
                "article:add-network-printer",
                "article:printer-troubleshooting",
            ],
        ),
    ] {
        let offered = knowledge_search(&api, language, text).await;
        for id in expected {
            assert!(
                offered
                    .iter()
                    .any(|option| option.split('.').next() == Some(id)),
                "{language} {text:?}: {id} not among {offered:?}"
            );
        }
    }
}
