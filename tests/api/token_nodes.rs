//! Issued tokens across two nodes over one SQLite file, each with its own store: a token
//! issued through one node's admin API is accepted by the other at once, and once revoked on
//! the first it is refused by the other within two seconds, as an unknown token is.

use crate::assistant::{shared, sqlite};
use crate::common::TestApp;
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use ponte::auth::Role;
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const ADMIN: &str = "token-nodes-admin";

/// How soon a revocation on one node must reach the other.
const REFUSED_WITHIN: Duration = Duration::from_secs(2);

async fn node(dir: &Path) -> axum::Router {
    let app = TestApp::builder(shared().knowledge.clone())
        .matcher(shared().matcher.clone())
        .data_dir(dir)
        .store(sqlite(dir).await)
        .without_desk()
        .build()
        .await;
    // The configured admin token, the same on every node.
    app.register(ADMIN, Role::Admin, "root", &[]);
    app.router()
}

async fn call(
    node: &axum::Router,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.map(|b| b.to_string()).unwrap_or_default()))
        .unwrap();
    let response = node.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_issued_on_one_node_works_on_the_other_until_revoked_there() {
    let dir = tempfile::tempdir().unwrap();
    let a = node(dir.path()).await;
    let b = node(dir.path()).await;
    let (status, unknown) = call(&b, "GET", "/api/tickets", &"0".repeat(64), None).await;
    assert_eq!(status, 401, "{unknown}");

    let (status, issued) = call(
        &a,
        "POST",
        "/api/admin/tokens",
        ADMIN,
        Some(json!({ "role": "requester", "subject": "rosa" })),
    )
    .await;
    assert_eq!(status, 201, "{issued}");
    let rosa = issued["token"].as_str().unwrap().to_string();
    let id = issued["id"].as_str().unwrap().to_string();

    // B never saw it issued, and takes it at once, again and again.
    for _ in 0..3 {
        let (status, answer) = call(&b, "GET", "/api/tickets", &rosa, None).await;
        assert_eq!(status, 200, "{answer}");
    }

    let (status, revoked) = call(
        &a,
        "DELETE",
        &format!("/api/admin/tokens/{id}"),
        ADMIN,
        None,
    )
    .await;
    assert_eq!(status, 200, "{revoked}");
    let (status, _) = call(&a, "GET", "/api/tickets", &rosa, None).await;
    assert_eq!(status, 401, "the revoking node refuses it at once");

    let deadline = Instant::now() + REFUSED_WITHIN;
    let refused = loop {
        let (status, answer) = call(&b, "GET", "/api/tickets", &rosa, None).await;
        if status != 200 {
            break (status, answer);
        }
        assert!(
            Instant::now() < deadline,
            "the token revoked on A is still taken by B after {REFUSED_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(refused.0, 401, "{}", refused.1);
    assert_eq!(refused.1["code"], unknown["code"], "{}", refused.1);
    assert_eq!(refused.1["code"], "unauthorized");
}
