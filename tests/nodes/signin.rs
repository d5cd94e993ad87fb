//! Guessing a staff password is held back by the count of all nodes together: failures on
//! one node count on the other.

use super::{ADMIN, Cluster, Node};
use serde_json::{Value, json};

async fn sign_in(node: &Node, username: &str, password: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/api/auth/sign-in", node.port))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn failed_sign_ins_on_one_node_count_on_the_other() {
    let Some(cluster) = Cluster::new().await else {
        return;
    };
    let a = cluster.node("a").await;
    let b = cluster.node("b").await;
    let account =
        json!({ "password": "senha muito segura", "role": "attendant", "subject": "ana" });
    a.ok(
        "PUT",
        "/api/admin/accounts/ana",
        ADMIN,
        Some(account.clone()),
    )
    .await;
    // Five wrong guesses for ana, spread over both nodes.
    for attempt in 0..5 {
        let node = if attempt % 2 == 0 { &a } else { &b };
        let (status, body) = sign_in(node, "ana", &format!("palpite {attempt}")).await;
        assert_eq!(status, 401, "attempt {attempt} on {}: {body}", node.name);
    }
    // Either node now holds even the right password back.
    for node in [&a, &b] {
        let (status, body) = sign_in(node, "ana", "senha muito segura").await;
        assert_eq!(
            (status, body["code"].as_str()),
            (429, Some("too_many_attempts")),
            "on {}: {body}",
            node.name
        );
    }
}
