//! Ids the API accepts are bounded: an oversized article or activity id, token subject or
//! group, tag, shortcut or person group is a 400 `invalid_id` (or 422 `invalid_document`
//! inside a document), never a 500 and never stored.

use crate::common::{TestKb, app_state};
use crate::desk::Desk;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use ponte::auth::Role;
use serde_json::{Value, json};
use tower::ServiceExt;

#[track_caller]
fn assert_code(what: &str, status: StatusCode, body: &Value, expected: (u16, &str)) {
    assert_eq!(status.as_u16(), expected.0, "{what}: {body}");
    assert_eq!(body["code"], expected.1, "{what}: {body}");
}

async fn call(
    app: &axum::Router,
    method: Method,
    uri: &str,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// The names of every file under `dir`.
fn file_names(dir: &std::path::Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            names.extend(file_names(&entry.path()));
        } else {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_document_ids_are_refused_before_any_file_is_written() {
    let fixture = TestKb::fixture();
    let sources = fixture.sources_dir.path().to_path_buf();
    let state = app_state(fixture.kb);
    let editor = state
        .auth
        .issue(Role::KnowledgeManager, "kim", Vec::new())
        .unwrap();
    let app = ponte::http::router(state);
    let long = "a".repeat(300);
    let article = json!({ "title": "Long", "language": "en", "body": "Body." });
    let (status, body) = call(
        &app,
        Method::PUT,
        &format!("/api/knowledge/articles/{long}"),
        &editor,
        article.clone(),
    )
    .await;
    assert_code(
        "a 300-character article id",
        status,
        &body,
        (400, "invalid_id"),
    );
    let (status, body) = call(
        &app,
        Method::PUT,
        &format!("/api/knowledge/activities/{long}"),
        &editor,
        json!({ "name": { "en": "Long" } }),
    )
    .await;
    assert_code(
        "a 300-character activity id",
        status,
        &body,
        (400, "invalid_id"),
    );
    // 200 bytes of two-byte characters are 100 characters: the bound is on the file name.
    let accented = "é".repeat(101);
    let (status, body) = call(
        &app,
        Method::PUT,
        &format!(
            "/api/knowledge/articles/{}",
            crate::common::encode(&accented)
        ),
        &editor,
        article.clone(),
    )
    .await;
    assert_code("a 202-byte article id", status, &body, (400, "invalid_id"));
    // Inside a document: an oversized tag or visibility group.
    let mut tagged = article.clone();
    tagged["tags"] = json!([long]);
    let (status, body) = call(
        &app,
        Method::PUT,
        "/api/knowledge/articles/kb-tagged",
        &editor,
        tagged,
    )
    .await;
    assert_code(
        "a 300-character tag",
        status,
        &body,
        (422, "invalid_document"),
    );
    let mut grouped = article.clone();
    grouped["visibility"] = json!([long]);
    let (status, body) = call(
        &app,
        Method::PUT,
        "/api/knowledge/articles/kb-grouped",
        &editor,
        grouped,
    )
    .await;
    assert_code(
        "a 300-character group",
        status,
        &body,
        (422, "invalid_document"),
    );
    let written = file_names(&sources);
    assert!(
        written.iter().all(|name| name.len() < 200),
        "an oversized file name was written: {written:?}"
    );
    // An id at the bound is fine.
    let at_bound = "b".repeat(ponte::store::MAX_ID_LEN);
    let (status, body) = call(
        &app,
        Method::PUT,
        &format!("/api/knowledge/articles/{at_bound}"),
        &editor,
        article,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_names_in_tokens_and_the_desk_are_refused() {
    let desk = Desk::new().await;
    let long = "x".repeat(300);
    for (what, request) in [
        (
            "a 100,000-character subject",
            json!({ "role": "requester", "subject": "s".repeat(100_000) }),
        ),
        (
            "a 300-character group",
            json!({ "role": "requester", "subject": "ok", "groups": [long] }),
        ),
        (
            "a blank subject",
            json!({ "role": "requester", "subject": "  " }),
        ),
    ] {
        let (status, body) = desk
            .call(
                Method::POST,
                "/api/admin/tokens",
                &desk.admin,
                Some(request),
            )
            .await;
        assert_code(what, status, &body, (400, "invalid_id"));
    }

    let ana = desk.attendant("ana", "Ana", 3).await;
    let (status, body) = desk
        .call(
            Method::PUT,
            &format!("/api/desk/quick-replies/{long}"),
            &ana,
            Some(json!({ "texts": { "en": "Hello" } })),
        )
        .await;
    assert_code(
        "a 300-character shortcut",
        status,
        &body,
        (400, "invalid_id"),
    );
    let (status, body) = desk
        .call(
            Method::PUT,
            "/api/desk/people/bia",
            &desk.admin,
            Some(
                json!({ "name": "Bia", "kind": "attendant", "groups": [long],
                         "channels": ["web_chat"], "max_chats": 2 }),
            ),
        )
        .await;
    assert_code(
        "a 300-character person group",
        status,
        &body,
        (400, "invalid_id"),
    );
    let (status, body) = desk
        .call(
            Method::POST,
            "/api/desk/chats/some-chat/tags",
            &ana,
            Some(json!({ "tag": long })),
        )
        .await;
    assert_code("a 300-character tag", status, &body, (400, "invalid_id"));
    let (status, body) = desk
        .call(
            Method::PUT,
            &format!("/api/desk/macros/{long}"),
            &ana,
            Some(json!({ "name": "m", "actions": [] })),
        )
        .await;
    assert_code(
        "a 300-character macro id",
        status,
        &body,
        (400, "invalid_id"),
    );
}
