//! Messages: replayed client message ids stored once, concurrent duplicates processed once,
//! and paging after a sequence number.

use super::{Api, assert_error, seqs};
use axum::http::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn a_replayed_client_message_id_is_stored_once() {
    let api = Api::new().await;
    let id = api.open(&api.ana).await;
    let uri = format!("/api/conversations/{id}/messages");
    let post = json!({"text": "esqueci minha senha", "client_message_id": "c-1"});
    let (status, first) = api
        .call(Method::POST, &uri, &api.ana, Some(post.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["duplicate"], false);
    assert_eq!(first["messages"][0]["client_message_id"], "c-1");
    let count = api.store.messages_after(&id, 0, 1000).await.unwrap().len();

    let (status, again) = api.call(Method::POST, &uri, &api.ana, Some(post)).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["messages"].as_array().unwrap().len(), 1, "{again}");
    assert_eq!(again["messages"][0]["seq"], first["messages"][0]["seq"]);
    let stored = api.store.messages_after(&id, 0, 1000).await.unwrap();
    assert_eq!(stored.len(), count, "the replay stored something");
    let with_key = stored
        .iter()
        .filter(|message| message.client_message_id.as_deref() == Some("c-1"))
        .count();
    assert_eq!(with_key, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_duplicate_posts_are_processed_once() {
    let api = Arc::new(Api::new().await);
    let id = api.open(&api.ana).await;
    let opened = api.store.messages_after(&id, 0, 1000).await.unwrap();
    let requester_count = |messages: &[ponte::store::Message]| {
        messages
            .iter()
            .filter(|message| message.sender_kind == ponte::store::SenderKind::Requester)
            .count()
    };
    let uri = format!("/api/conversations/{id}/messages");
    let post = json!({"text": "esqueci minha senha", "client_message_id": "same-key"});
    let posts = (0..12).map(|_| {
        let api = api.clone();
        let uri = uri.clone();
        let post = post.clone();
        tokio::spawn(async move { api.call(Method::POST, &uri, &api.ana, Some(post)).await })
    });
    let mut originals = 0;
    let mut seqs = std::collections::HashSet::new();
    for answer in futures_util::future::join_all(posts).await {
        let (status, body) = answer.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["duplicate"] == false {
            originals += 1;
        }
        seqs.insert(body["messages"][0]["seq"].as_i64().unwrap());
    }
    assert_eq!(originals, 1, "exactly one post may be the original");
    assert_eq!(
        seqs.len(),
        1,
        "every answer names the same stored message: {seqs:?}"
    );
    let stored = api.store.messages_after(&id, 0, 1000).await.unwrap();
    let with_key = stored
        .iter()
        .filter(|message| message.client_message_id.as_deref() == Some("same-key"))
        .count();
    assert_eq!(with_key, 1);
    assert_eq!(requester_count(&stored), requester_count(&opened) + 1);
    assert!(
        stored.len() > opened.len() + 1,
        "the assistant did not answer"
    );
    let seqs: Vec<i64> = stored.iter().map(|message| message.seq).collect();
    assert_eq!(
        seqs,
        (1..=stored.len() as i64).collect::<Vec<_>>(),
        "gap-free"
    );
}

#[tokio::test]
async fn messages_after_a_sequence_number_are_exactly_the_later_ones_in_order() {
    let api = Api::new().await;
    let id = api.open(&api.ana).await;
    api.say(&api.ana, &id, "esqueci minha senha").await;
    api.say(&api.ana, &id, "obrigado").await;
    let uri = format!("/api/conversations/{id}/messages");
    let (status, all) = api.call(Method::GET, &uri, &api.ana, None).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let every = seqs(&all["messages"]);
    assert!(every.len() >= 4, "{all}");
    assert_eq!(every, (1..=every.len() as i64).collect::<Vec<_>>());

    let after = every[1];
    let (status, later) = api
        .call(Method::GET, &format!("{uri}?after={after}"), &api.ana, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{later}");
    assert_eq!(seqs(&later["messages"]), every[2..].to_vec());
    let (_, page) = api
        .call(
            Method::GET,
            &format!("{uri}?after={after}&limit=1"),
            &api.ana,
            None,
        )
        .await;
    assert_eq!(seqs(&page["messages"]), [every[2]]);
    let (_, none) = api
        .call(
            Method::GET,
            &format!("{uri}?after={}", every.last().unwrap()),
            &api.ana,
            None,
        )
        .await;
    assert_eq!(none["messages"], json!([]));
    let (status, body) = api
        .call(Method::GET, &format!("{uri}?after=abc"), &api.ana, None)
        .await;
    assert_error(status, &body, 400, "bad_request");
}
