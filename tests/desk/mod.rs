//! The human desk through the HTTP API, in-process over the bundled knowledge base and a
//! real SQLite file: routing in each mode with 3 attendants and 20 requesters, presence
//! rules, working a chat (capture, transfer, invite, leave, close with a reason, reopen,
//! tags, quick replies, macros, unread markers and the alert), blocking, outbound and
//! analyst chats, attachments and who may read them, the lost-chat timer across
//! restarts, and two nodes sharing one desk.

mod access;
mod chat;
mod contacts;
mod desk_log;
mod lost;
mod macros;
mod nodes;
mod offline_notice;
mod routing;

use crate::assistant::shared;
use crate::common::TestApp;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use ponte::attendance::{Attendance, Clock};
use ponte::auth::{Role, TokenStore};
use ponte::store::Store;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

pub struct Desk {
    pub dir: tempfile::TempDir,
    pub app: axum::Router,
    pub store: Arc<dyn Store>,
    pub auth: Arc<TokenStore>,
    pub attendance: Arc<Attendance>,
    pub admin: String,
}

pub async fn sqlite_at(path: &std::path::Path) -> Arc<dyn Store> {
    let url = format!("sqlite://{}", path.join("ponte.db").display());
    ponte::store::open(&url, Default::default()).await.unwrap()
}

impl Desk {
    pub async fn new() -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let store = sqlite_at(dir.path()).await;
        Desk::on(dir, store, Clock::new()).await
    }

    pub async fn on(dir: tempfile::TempDir, store: Arc<dyn Store>, clock: Clock) -> Desk {
        Desk::over(
            shared().knowledge.clone(),
            shared().matcher.clone(),
            dir,
            store,
            clock,
        )
        .await
    }

    /// A desk over a knowledge base and matcher of its own (a test that writes documents
    /// and must not change what the other tests match against).
    pub async fn over(
        knowledge: Arc<ponte::knowledge::KnowledgeBase>,
        matcher: Arc<ponte::assistant::Matcher>,
        dir: tempfile::TempDir,
        store: Arc<dyn Store>,
        clock: Clock,
    ) -> Desk {
        // The desk keeps its attachments in `<data dir>/attachments`, as the server does.
        let app = TestApp::builder(knowledge)
            .matcher(matcher)
            .data_dir(dir.path())
            .store(store.clone())
            .clock(clock)
            .build()
            .await;
        app.register("admin-secret", Role::Admin, "root", &[]);
        let auth = app.state().auth.clone();
        let attendance = app.state().attendance.clone().unwrap();
        Desk {
            dir,
            app: app.router(),
            store,
            auth,
            attendance,
            admin: "admin-secret".to_string(),
        }
    }

    pub async fn raw(
        &self,
        method: Method,
        uri: &str,
        token: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Vec<u8>) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, bytes.to_vec())
    }

    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let bytes = body
            .map(|b| serde_json::to_vec(&b).unwrap())
            .unwrap_or_default();
        let (status, answer) = self
            .raw(method, uri, token, "application/json", bytes)
            .await;
        let value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
        (status, value)
    }

    /// Calls and asserts success.
    pub async fn ok(&self, method: Method, uri: &str, token: &str, body: Option<Value>) -> Value {
        let (status, answer) = self.call(method.clone(), uri, token, body).await;
        assert!(status.is_success(), "{method} {uri}: {status} {answer}");
        answer
    }

    pub fn token(&self, role: Role, subject: &str) -> String {
        self.auth.issue(role, subject, Vec::new()).unwrap()
    }

    pub async fn configure(&self, mode: &str) {
        self.ok(
            Method::PUT,
            "/api/desk/config",
            &self.admin,
            Some(json!({
                "routing": { "default": mode, "by_group": {} },
                "pause_reasons": ["break", "lunch"],
                "close_reasons": ["resolved", "no_response"],
            })),
        )
        .await;
    }

    /// Registers an attendant (web chat, `max_chats`) and returns their token.
    pub async fn attendant(&self, id: &str, name: &str, max_chats: u32) -> String {
        self.ok(
            Method::PUT,
            &format!("/api/desk/people/{id}"),
            &self.admin,
            Some(
                json!({ "name": name, "kind": "attendant", "groups": ["desk"],
                         "channels": ["web_chat", "whatsapp"], "max_chats": max_chats }),
            ),
        )
        .await;
        self.token(Role::Attendant, id)
    }

    pub async fn online(&self, token: &str) {
        self.ok(
            Method::PUT,
            "/api/desk/presence",
            token,
            Some(json!({ "channel": "web_chat", "state": "online" })),
        )
        .await;
    }

    /// A requester who asks for a person: returns (token, conversation id).
    pub async fn queued_requester(&self, subject: &str) -> (String, String) {
        let token = self.token(Role::Requester, subject);
        let opened = self
            .ok(
                Method::POST,
                "/api/conversations",
                &token,
                Some(json!({ "language": "en" })),
            )
            .await;
        let id = opened["conversation"]["id"].as_str().unwrap().to_string();
        self.ok(
            Method::POST,
            &format!("/api/conversations/{id}/messages"),
            &token,
            Some(json!({ "text": "tell me a joke about penguins" })),
        )
        .await;
        self.ok(
            Method::POST,
            &format!("/api/conversations/{id}/options"),
            &token,
            Some(json!({ "option_id": "talk_to_attendant" })),
        )
        .await;
        (token, id)
    }

    pub async fn chats(&self, token: &str, query: &str) -> Vec<Value> {
        let answer = self
            .ok(Method::GET, &format!("/api/desk/chats{query}"), token, None)
            .await;
        answer["chats"].as_array().unwrap().clone()
    }

    pub async fn transcript(&self, token: &str, id: &str) -> Vec<Value> {
        let answer = self
            .ok(
                Method::GET,
                &format!("/api/conversations/{id}/messages?after=0"),
                token,
                None,
            )
            .await;
        answer["messages"].as_array().unwrap().clone()
    }
}

fn code(answer: &Value) -> &str {
    answer["code"].as_str().unwrap_or_default()
}
