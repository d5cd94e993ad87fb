//! The conversation REST API and its access rules, in-process through the router over the
//! bundled knowledge base and a real SQLite file: a ticket created by chat over HTTP, owners
//! kept apart, missing tokens and wrong roles, malformed input, unknown ids, replayed client
//! message ids, paging after a sequence number, and admin parameters.

mod access;
mod marks;
mod messages;
mod parameters;
mod seed_flows;
mod tickets;

use crate::assistant::{shared, sqlite};
use crate::common::TestApp;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use ponte::auth::Role;
use ponte::store::Store;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

/// A router with a conversation engine, an admin token and two requester tokens.
struct Api {
    _dir: tempfile::TempDir,
    app: axum::Router,
    store: Arc<dyn Store>,
    admin: String,
    ana: String,
    bruno: String,
}

impl Api {
    async fn new() -> Api {
        let dir = tempfile::tempdir().unwrap();
        let store = sqlite(dir.path()).await;
        let app = TestApp::builder(shared().knowledge.clone())
            .matcher(shared().matcher.clone())
            .data_dir(dir.path())
            .store(store.clone())
            .without_desk()
            .build()
            .await;
        app.register("admin-secret", Role::Admin, "root", &[]);
        let auth = &app.state().auth;
        let ana = auth.issue(Role::Requester, "ana", Vec::new()).unwrap();
        let bruno = auth.issue(Role::Requester, "bruno", Vec::new()).unwrap();
        Api {
            _dir: dir,
            app: app.router(),
            store,
            admin: "admin-secret".to_string(),
            ana,
            bruno,
        }
    }

    /// Sends a request with an optional bearer token and raw body; returns status and JSON.
    async fn raw(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(bytes) => {
                request = request.header("content-type", "application/json");
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        let response = self
            .app
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or_else(|error| {
            panic!(
                "{uri}: body is not JSON ({error}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        (status, value)
    }

    async fn call(
        &self,
        method: Method,
        uri: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.raw(
            method,
            uri,
            Some(token),
            body.map(|value| serde_json::to_vec(&value).unwrap()),
        )
        .await
    }

    /// Opens a Portuguese conversation for `token`; returns its id.
    async fn open(&self, token: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/conversations",
                token,
                Some(json!({"language": "pt-BR", "channel": "web"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["conversation"]["id"].as_str().unwrap().to_string()
    }

    async fn say(&self, token: &str, id: &str, text: &str) -> Value {
        let (status, body) = self
            .call(
                Method::POST,
                &format!("/api/conversations/{id}/messages"),
                token,
                Some(json!({ "text": text })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{text:?}: {body}");
        body
    }
}

/// Asserts an error response: status, stable code, and the three-key body.
#[track_caller]
fn assert_error(status: StatusCode, body: &Value, expected: u16, code: &str) {
    assert_eq!(status.as_u16(), expected, "{body}");
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap_or_else(|| panic!("{body}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "message", "type"], "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(!body["message"].as_str().unwrap().is_empty(), "{body}");
}

/// The first `T-NNNNNN` ticket number in the messages' bodies.
fn ticket_number(messages: &Value) -> Option<String> {
    messages.as_array()?.iter().find_map(|message| {
        let body = message["body"].as_str()?;
        body.match_indices("T-").find_map(|(at, _)| {
            let digits = body.get(at + 2..at + 8)?;
            digits
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| format!("T-{digits}"))
        })
    })
}

fn seqs(messages: &Value) -> Vec<i64> {
    messages
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message["seq"].as_i64().unwrap())
        .collect()
}
