//! The knowledge API, in-process through the router over a temporary copy of the fixture
//! knowledge base: search through the caller's groups, the activity catalogue, knowledge
//! managers writing and deleting documents (and everyone else refused), background reindex
//! jobs with per-file errors, the per-token rate limit, the OpenAPI document kept in step
//! with the routes, and knowledge changes reaching every node sharing a store.

mod articles;
mod nodes;
mod reindex;
mod routes;

use crate::common::{TestApp, TestKb};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use ponte::auth::Role;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

struct Api {
    fixture: Arc<TestKb>,
    app: axum::Router,
    manager: String,
    finance: String,
    requester: String,
}

impl Api {
    fn new() -> Api {
        Api::with_rate_limit(0)
    }

    /// `per_second` requests per token (0: unlimited).
    fn with_rate_limit(per_second: u32) -> Api {
        let fixture = Arc::new(TestKb::fixture());
        // The knowledge base must outlive the router; TestKb owns the directories.
        let knowledge = Arc::new(
            ponte::knowledge::KnowledgeBase::open(&fixture.index_dir(), Some(fixture.sources()))
                .unwrap(),
        );
        let app = TestApp::search_only(knowledge)
            .rate_limit(per_second)
            .build_now();
        let register = |token: &str, role: Role, subject: &str, groups: &[&str]| {
            app.register(token, role, subject, groups);
            token.to_string()
        };
        let manager = register("kim-secret", Role::KnowledgeManager, "kim", &[]);
        let finance = register("fin-secret", Role::Requester, "fiona", &["finance"]);
        let requester = register("rita-secret", Role::Requester, "rita", &[]);
        Api {
            fixture,
            app: app.router(),
            manager,
            finance,
            requester,
        }
    }

    async fn raw(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> (StatusCode, axum::http::HeaderMap, Value) {
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
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, headers, value)
    }

    async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (status, _, value) = self
            .raw(
                method,
                uri,
                token,
                body.map(|body| serde_json::to_vec(&body).unwrap()),
            )
            .await;
        (status, value)
    }

    async fn search_ids(&self, token: Option<&str>, q: &str) -> Vec<String> {
        let uri = format!(
            "/api/knowledge/search?q={}&lang=en",
            crate::common::encode(q)
        );
        let (status, body) = self.call(Method::GET, &uri, token, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hit| hit["id"].as_str().unwrap().to_string())
            .collect()
    }
}

fn certificate(title: &str) -> Value {
    json!({
        "title": title,
        "language": "en",
        "summary": "Certificates expire every year.",
        "body": "Open the certificate manager, select the expired one and renew it.",
        "tags": ["certificate"],
        "url": "https://portal.example.com/kb/kb-cert"
    })
}
