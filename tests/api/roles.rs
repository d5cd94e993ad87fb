//! Who may call comes before what was sent: every route of the OpenAPI route table that a
//! requester may not use answers a requester 403 `forbidden` whatever the body, here `{}`
//! (which misses every required field), instead of naming the missing fields.

use crate::desk::Desk;
use axum::http::Method;
use ponte::auth::Role;
use serde_json::json;

/// The routes open to a requester (or to anyone); every other route is for staff, knowledge
/// managers or admins.
const REQUESTER_ROUTES: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/api/knowledge/search"),
    ("GET", "/api/activities"),
    ("GET", "/api/knowledge/articles/{id}"),
    ("GET", "/api/knowledge/activities/{id}"),
    ("POST", "/api/conversations"),
    ("GET", "/api/conversations/{id}"),
    ("POST", "/api/conversations/{id}/messages"),
    ("GET", "/api/conversations/{id}/messages"),
    ("POST", "/api/conversations/{id}/options"),
    ("POST", "/api/conversations/{id}/close"),
    ("POST", "/api/conversations/{id}/rating"),
    ("GET", "/api/conversations/{id}/live"),
    ("GET", "/api/conversations/{id}/events"),
    ("POST", "/api/conversations/{id}/typing"),
    ("POST", "/api/conversations/{id}/read"),
    ("GET", "/api/conversations/{id}/read"),
    ("GET", "/api/conversations/{id}/transcript"),
    ("GET", "/api/conversations/{id}/queue"),
    ("POST", "/api/conversations/{id}/specialist"),
    ("POST", "/api/conversations/{id}/attachments"),
    ("GET", "/api/attachments/{id}"),
    ("GET", "/api/tickets"),
    ("POST", "/api/widget/session"),
    ("GET", "/api/widget/config"),
    // Who the caller is, whoever it is; signing in and out needs no token (the sign-in
    // tests, `api::signin`, check them).
    ("GET", "/api/auth/session"),
    ("POST", "/api/auth/sign-in"),
    ("POST", "/api/auth/sign-out"),
];

/// The routes of external chat services: they authenticate by a Standard Webhooks signature
/// (webhook bridges) or by the homeserver's token (Matrix), never by a bearer token, and are
/// checked by the bridge tests (`bridge::handoff`, `bridge::matrix`).
const SIGNED_ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/bridges/{id}/events"),
    ("GET", "/api/bridges/{id}/files/{file_id}"),
    ("POST", "/api/bridges/{id}/matrix/_matrix/app/v1/ping"),
    (
        "PUT",
        "/api/bridges/{id}/matrix/_matrix/app/v1/transactions/{txn_id}",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requester_gets_403_from_every_other_route_whatever_the_body() {
    let desk = Desk::new().await;
    let requester = desk.token(Role::Requester, "rita");
    let api = ponte::http::openapi();
    let mut checked = Vec::new();
    let mut wrong = Vec::new();
    for (path, item) in &api.paths.paths {
        let operations = [
            ("GET", &item.get),
            ("PUT", &item.put),
            ("POST", &item.post),
            ("DELETE", &item.delete),
            ("PATCH", &item.patch),
        ];
        for (method, operation) in operations {
            if operation.is_none()
                || REQUESTER_ROUTES.contains(&(method, path.as_str()))
                || SIGNED_ROUTES.contains(&(method, path.as_str()))
            {
                continue;
            }
            let uri = path
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        "x"
                    } else {
                        segment
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let (status, body) = desk
                .call(
                    Method::from_bytes(method.as_bytes()).unwrap(),
                    &uri,
                    &requester,
                    Some(json!({})),
                )
                .await;
            if status != 403 || body["code"] != "forbidden" {
                wrong.push(format!("{method} {path}: {status} {body}"));
            }
            checked.push(format!("{method} {path}"));
        }
    }
    assert!(wrong.is_empty(), "not refused first:\n{}", wrong.join("\n"));
    assert!(
        checked.len() >= 40,
        "only {} routes checked: {checked:?}",
        checked.len()
    );
}
