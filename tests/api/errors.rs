//! Every error answer carries our `{message, code, type}` body with a stable code, also where
//! the answer comes from the framework rather than a handler: a body over the limit declared
//! by `Content-Length`, a method the route does not take, a path parameter that is not UTF-8,
//! and a plain GET on a WebSocket route.

use crate::desk::Desk;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use ponte::auth::Role;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Sends `request` and asserts our error body: JSON, the three keys, `status` and `code`.
#[track_caller]
fn assert_ours(
    what: &str,
    status: StatusCode,
    content_type: &str,
    body: &[u8],
    expected: (u16, &str),
) {
    let text = String::from_utf8_lossy(body);
    assert_eq!(status.as_u16(), expected.0, "{what}: {text}");
    assert!(
        content_type.starts_with("application/json"),
        "{what}: answered {content_type:?}: {text}"
    );
    let value: Value = serde_json::from_slice(body).unwrap_or_else(|_| panic!("{what}: {text}"));
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("{what}: {text}"));
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "message", "type"], "{what}: {text}");
    assert_eq!(value["code"], expected.1, "{what}: {text}");
    assert!(
        !value["message"].as_str().unwrap().is_empty(),
        "{what}: {text}"
    );
}

async fn send(desk: &Desk, request: Request<Body>) -> (StatusCode, String, Vec<u8>) {
    let response = desk.app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, bytes.to_vec())
}

fn request(method: Method, uri: &str, token: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framework_errors_answer_with_our_body_and_a_stable_code() {
    let desk = Desk::new().await;
    let requester = desk.token(Role::Requester, "rui");
    let opened = desk
        .ok(
            Method::POST,
            "/api/conversations",
            &requester,
            Some(json!({ "language": "en" })),
        )
        .await;
    let id = opened["conversation"]["id"].as_str().unwrap().to_string();
    let text = "a".repeat(ponte::http::MAX_BODY_BYTES + 1024);
    let oversized = serde_json::to_vec(&json!({ "text": text })).unwrap();

    // Over the limit, declared by Content-Length: refused before the body is read.
    let declared = request(
        Method::POST,
        &format!("/api/conversations/{id}/messages"),
        &requester,
    )
    .header(header::CONTENT_TYPE, "application/json")
    .header(header::CONTENT_LENGTH, oversized.len())
    .body(Body::from(oversized.clone()))
    .unwrap();
    let (status, content_type, body) = send(&desk, declared).await;
    assert_ours(
        "declared oversized body",
        status,
        &content_type,
        &body,
        (413, "payload_too_large"),
    );
    // The same body chunked gets the same answer.
    let chunks = futures_util::stream::iter(
        oversized
            .chunks(16 * 1024)
            .map(|chunk| Ok::<_, std::io::Error>(chunk.to_vec()))
            .collect::<Vec<_>>(),
    );
    let chunked = request(
        Method::POST,
        &format!("/api/conversations/{id}/messages"),
        &requester,
    )
    .header(header::CONTENT_TYPE, "application/json")
    .body(Body::from_stream(chunks))
    .unwrap();
    let (status, content_type, body) = send(&desk, chunked).await;
    assert_ours(
        "chunked oversized body",
        status,
        &content_type,
        &body,
        (413, "payload_too_large"),
    );

    // A method the route does not take.
    for (method, uri) in [
        (Method::DELETE, "/api/conversations".to_string()),
        (Method::PUT, format!("/api/conversations/{id}/messages")),
        (Method::PATCH, "/api/admin/parameters".to_string()),
    ] {
        let what = format!("{method} {uri}");
        let (status, content_type, body) = send(
            &desk,
            request(method, &uri, &requester)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_ours(
            &what,
            status,
            &content_type,
            &body,
            (405, "method_not_allowed"),
        );
    }

    // A path parameter that is not UTF-8.
    for uri in [
        "/api/knowledge/articles/%FF%FE".to_string(),
        "/api/conversations/%C3%28/messages".to_string(),
    ] {
        let (status, content_type, body) = send(
            &desk,
            request(Method::GET, &uri, &requester)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_ours(&uri, status, &content_type, &body, (400, "invalid_id"));
    }

    // A plain GET (no upgrade) on the WebSocket routes, by callers who may use them.
    let attendant = desk.attendant("ana", "Ana", 3).await;
    for (uri, token) in [
        (format!("/api/conversations/{id}/live"), &requester),
        (
            format!("/api/conversations/{id}/live?token={requester}"),
            &requester,
        ),
        ("/api/desk/live".to_string(), &attendant),
    ] {
        let (status, content_type, body) = send(
            &desk,
            request(Method::GET, &uri, token)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_ours(
            &uri,
            status,
            &content_type,
            &body,
            (400, "websocket_required"),
        );
    }
}
