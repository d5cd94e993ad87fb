//! Access and input rules: missing tokens and wrong roles, malformed input and unknown ids,
//! and the routes without a conversation engine.

use super::{Api, assert_error};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use ponte::auth::Role;
use serde_json::{Value, json};
use tower::ServiceExt;

#[tokio::test]
async fn tokens_and_roles_are_enforced() {
    let api = Api::new().await;
    // No token, a wrong token, a wrong scheme.
    let (status, body) = api.raw(Method::GET, "/api/tickets", None, None).await;
    assert_error(status, &body, 401, "unauthorized");
    let (status, body) = api
        .raw(Method::GET, "/api/tickets", Some("not-a-token"), None)
        .await;
    assert_error(status, &body, 401, "unauthorized");
    let (status, body) = api
        .raw(
            Method::POST,
            "/api/conversations",
            None,
            Some(b"{}".to_vec()),
        )
        .await;
    assert_error(status, &body, 401, "unauthorized");

    // A requester on admin routes.
    for (method, uri, payload) in [
        (Method::GET, "/api/admin/parameters", None),
        (
            Method::PUT,
            "/api/admin/parameters",
            Some(json!({"key": "299", "value": "off"})),
        ),
        (
            Method::POST,
            "/api/admin/tokens",
            Some(json!({"role": "admin", "subject": "ana"})),
        ),
    ] {
        let (status, body) = api.call(method, uri, &api.ana, payload).await;
        assert_error(status, &body, 403, "forbidden");
    }
    // An admin on requester routes.
    let (status, body) = api
        .call(Method::GET, "/api/tickets", &api.admin, None)
        .await;
    assert_error(status, &body, 403, "forbidden");

    // An admin issues a token that then works for its role only.
    let (status, issued) = api
        .call(
            Method::POST,
            "/api/admin/tokens",
            &api.admin,
            Some(json!({"role": "requester", "subject": "carla", "groups": ["rh"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let carla = issued["token"].as_str().unwrap().to_string();
    assert_eq!(carla.len(), 64);
    let (status, body) = api.call(Method::GET, "/api/tickets", &carla, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, issued) = api
        .call(
            Method::POST,
            "/api/admin/tokens",
            &api.admin,
            Some(json!({"role": "analyst", "subject": "dora"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let dora = issued["token"].as_str().unwrap().to_string();
    let (status, body) = api.call(Method::GET, "/api/tickets", &dora, None).await;
    assert_error(status, &body, 403, "forbidden");
}

#[tokio::test]
async fn bad_input_gets_a_stable_code_and_stores_nothing() {
    let api = Api::new().await;
    let id = api.open(&api.ana).await;
    let messages_uri = format!("/api/conversations/{id}/messages");
    let stored = |api: &Api| {
        let store = api.store.clone();
        let id = id.clone();
        async move { store.messages_after(&id, 0, 1000).await.unwrap().len() }
    };
    let before = stored(&api).await;

    let (status, body) = api
        .raw(
            Method::POST,
            &messages_uri,
            Some(&api.ana),
            Some(b"{\"text\": ".to_vec()),
        )
        .await;
    assert_error(status, &body, 400, "malformed_json");
    let (status, body) = api
        .raw(
            Method::POST,
            &messages_uri,
            Some(&api.ana),
            Some(b"{\"text\": \"ol\xff\xfe\"}".to_vec()),
        )
        .await;
    assert_error(status, &body, 400, "malformed_json");
    let (status, body) = api
        .call(
            Method::POST,
            &messages_uri,
            &api.ana,
            Some(json!({"text": "  "})),
        )
        .await;
    assert_error(status, &body, 400, "empty_text");
    let (status, body) = api
        .call(
            Method::POST,
            &messages_uri,
            &api.ana,
            Some(json!({"text": "a".repeat(4001)})),
        )
        .await;
    assert_error(status, &body, 413, "text_too_long");
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/api/conversations/{id}/options"),
            &api.ana,
            Some(json!({"option_id": "no_such_option"})),
        )
        .await;
    assert_error(status, &body, 409, "option_not_offered");
    assert_eq!(stored(&api).await, before, "a refused input left a trace");

    // Unknown conversation ids.
    let unknown = "00000000-0000-4000-8000-000000000000";
    for (method, uri, payload) in [
        (Method::GET, format!("/api/conversations/{unknown}"), None),
        (
            Method::GET,
            format!("/api/conversations/{unknown}/messages?after=0"),
            None,
        ),
        (
            Method::POST,
            format!("/api/conversations/{unknown}/messages"),
            Some(json!({"text": "oi"})),
        ),
        (
            Method::POST,
            format!("/api/conversations/{unknown}/options"),
            Some(json!({"option_id": "create_ticket"})),
        ),
    ] {
        let (status, body) = api.call(method, &uri, &api.ana, payload).await;
        assert_error(status, &body, 404, "not_found");
    }
    let (status, body) = api
        .call(
            Method::POST,
            "/api/conversations",
            &api.ana,
            Some(json!({"language": "klingon"})),
        )
        .await;
    assert_error(status, &body, 400, "bad_request");
}

#[tokio::test]
async fn without_a_conversation_engine_the_routes_answer_unavailable() {
    let fixture = crate::common::TestKb::fixture();
    let state = crate::common::app_state(fixture.kb);
    let token = state
        .auth
        .issue(Role::Requester, "ana", Vec::new())
        .unwrap();
    let app = ponte::http::router(state);
    let request = Request::get("/api/tickets")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_error(status, &body, 503, "unavailable");
}
