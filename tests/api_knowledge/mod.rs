//! The knowledge API, in-process through the router over a temporary copy of the fixture
//! knowledge base: search through the caller's groups, the activity catalogue, knowledge
//! managers writing and deleting documents (and everyone else refused), background reindex
//! jobs with per-file errors, the per-token rate limit, and the OpenAPI document kept in
//! step with the routes.

use crate::common::TestKb;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use ponte::auth::{Identity, Role, TokenStore};
use ponte::ratelimit::RateLimit;
use ponte::state::AppState;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
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
        Api::with_rate_limit(RateLimit::unlimited())
    }

    fn with_rate_limit(limit: RateLimit) -> Api {
        let fixture = Arc::new(TestKb::fixture());
        let auth = Arc::new(TokenStore::new());
        let register = |token: &str, role: Role, subject: &str, groups: &[&str]| {
            auth.register(
                token,
                Identity {
                    role,
                    subject: subject.to_string(),
                    groups: groups.iter().map(|group| group.to_string()).collect(),
                },
            )
            .unwrap();
            token.to_string()
        };
        let manager = register("kim-secret", Role::KnowledgeManager, "kim", &[]);
        let finance = register("fin-secret", Role::Requester, "fiona", &["finance"]);
        let requester = register("rita-secret", Role::Requester, "rita", &[]);
        // The knowledge base must outlive the router; TestKb owns the directories.
        let knowledge = Arc::new(
            ponte::knowledge::KnowledgeBase::open(&fixture.index_dir(), Some(fixture.sources()))
                .unwrap(),
        );
        let state = AppState::new(knowledge, None, auth).with_rate_limit(limit);
        Api {
            fixture,
            app: ponte::http::router(state),
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

#[tokio::test]
async fn search_shows_what_the_callers_groups_allow() {
    let api = Api::new();
    let payroll = "payroll reports for the finance team";
    assert!(
        !api.search_ids(None, payroll)
            .await
            .contains(&"kb-payroll.en".to_string())
    );
    assert!(
        !api.search_ids(Some(&api.requester), payroll)
            .await
            .contains(&"kb-payroll.en".to_string())
    );
    assert_eq!(
        api.search_ids(Some(&api.finance), payroll)
            .await
            .first()
            .map(String::as_str),
        Some("kb-payroll.en")
    );
    // A header with an unknown token is refused, not treated as anonymous.
    let (status, body) = api
        .call(
            Method::GET,
            "/api/knowledge/search?q=payroll",
            Some("forged"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "unauthorized");
}

#[tokio::test]
async fn a_knowledge_manager_writes_and_deletes_articles_and_others_may_not() {
    let api = Api::new();
    let uri = "/api/knowledge/articles/kb-cert.en";
    let title = "Renew an expired certificate";

    let (status, body) = api
        .call(
            Method::PUT,
            uri,
            Some(&api.requester),
            Some(certificate(title)),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (status, _) = api
        .call(Method::PUT, uri, None, Some(certificate(title)))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_ne!(
        api.search_ids(None, title)
            .await
            .first()
            .map(String::as_str),
        Some("kb-cert.en")
    );

    let (status, body) = api
        .call(
            Method::PUT,
            uri,
            Some(&api.manager),
            Some(certificate(title)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["id"], "kb-cert.en");
    assert_eq!(
        api.search_ids(None, title)
            .await
            .first()
            .map(String::as_str),
        Some("kb-cert.en")
    );
    // Written to the sources, so a full rebuild keeps it.
    let source = api
        .fixture
        .sources_dir
        .path()
        .join(body["source_path"].as_str().unwrap());
    assert!(std::fs::read_to_string(&source).unwrap().contains(title));

    let (status, body) = api
        .call(
            Method::PUT,
            uri,
            Some(&api.manager),
            Some(certificate("Renew a certificate that expired")),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = api.call(Method::GET, uri, Some(&api.requester), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["title"], "Renew a certificate that expired");

    let (status, _) = api
        .call(Method::DELETE, uri, Some(&api.requester), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = api
        .call(Method::DELETE, uri, Some(&api.manager), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!source.exists());
    assert!(
        !api.search_ids(None, title)
            .await
            .contains(&"kb-cert.en".to_string())
    );
    let (status, body) = api
        .call(Method::DELETE, uri, Some(&api.manager), None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[tokio::test]
async fn bad_documents_are_refused_and_change_nothing() {
    let api = Api::new();
    let before = api.search_ids(None, "printer").await;
    let uri = "/api/knowledge/articles/kb-printer.en";
    let cases: Vec<(Vec<u8>, StatusCode, &str)> = vec![
        (
            b"{\"title\": ".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            vec![b'{', 0xff, 0xfe, b'}'],
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            b"[1, 2]".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_document",
        ),
        (
            serde_json::to_vec(&json!({"language": "en", "body": "no title"})).unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_document",
        ),
        (
            serde_json::to_vec(&json!({"id": "another", "title": "T", "language": "en"})).unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_document",
        ),
        (
            serde_json::to_vec(&json!({"title": "  ", "language": "en"})).unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_document",
        ),
        (
            serde_json::to_vec(&json!({"title": "x".repeat(300 * 1024), "language": "en"}))
                .unwrap(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (body, expected, code) in cases {
        let (status, _, answer) = api
            .raw(Method::PUT, uri, Some(&api.manager), Some(body))
            .await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (expected, Some(code)),
            "{answer}"
        );
    }
    assert_eq!(api.search_ids(None, "printer").await, before);
    let (status, body) = api
        .call(
            Method::GET,
            "/api/knowledge/articles/nope",
            Some(&api.manager),
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[tokio::test]
async fn a_group_only_article_is_unknown_to_outsiders_by_id() {
    let api = Api::new();
    let uri = "/api/knowledge/articles/kb-payroll.en";
    let (status, _) = api.call(Method::GET, uri, Some(&api.requester), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api.call(Method::GET, uri, Some(&api.finance), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = api
        .call(
            Method::GET,
            "/api/knowledge/articles",
            Some(&api.manager),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body["articles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == "kb-payroll.en")
    );
    let (status, _) = api
        .call(
            Method::GET,
            "/api/knowledge/articles",
            Some(&api.finance),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn activities_are_listed_by_visibility_and_editable_by_managers() {
    let api = Api::new();
    let names = |body: &Value| -> Vec<String> {
        body["activities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|activity| activity["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (status, body) = api.call(Method::GET, "/api/activities", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(names(&body), vec!["kb-badge-replacement".to_string()]);

    let vault = json!({
        "name": {"en": "Vault access", "pt-BR": "Acesso ao cofre"},
        "examples": {"en": ["open the vault"]},
        "visibility": ["finance"]
    });
    let (status, body) = api
        .call(
            Method::PUT,
            "/api/knowledge/activities/vault-access",
            Some(&api.manager),
            Some(vault),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, body) = api
        .call(Method::GET, "/api/activities", Some(&api.requester), None)
        .await;
    assert!(!names(&body).contains(&"vault-access".to_string()));
    let (_, body) = api
        .call(Method::GET, "/api/activities", Some(&api.finance), None)
        .await;
    assert!(names(&body).contains(&"vault-access".to_string()));
    let (status, _) = api
        .call(
            Method::DELETE,
            "/api/knowledge/activities/vault-access",
            Some(&api.manager),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = api
        .call(Method::GET, "/api/activities", Some(&api.finance), None)
        .await;
    assert!(!names(&body).contains(&"vault-access".to_string()));
}

async fn wait_for_job(api: &Api, id: &str) -> Value {
    for _ in 0..200 {
        let (status, body) = api
            .call(
                Method::GET,
                &format!("/api/knowledge/reindex/{id}"),
                Some(&api.manager),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["state"] != "running" {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the reindex {id} did not finish");
}

#[tokio::test]
async fn a_background_reindex_reports_progress_and_per_file_errors() {
    let api = Api::new();
    let broken = api.fixture.sources_dir.path().join("articles/en/broken.md");
    std::fs::write(&broken, "+++\nid = \"kb-broken\"\ntitle = \n+++\nbody\n").unwrap();
    let (status, body) = api
        .call(
            Method::POST,
            "/api/knowledge/reindex",
            Some(&api.requester),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let (status, started) = api
        .call(
            Method::POST,
            "/api/knowledge/reindex",
            Some(&api.manager),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    let id = started["id"].as_str().unwrap();
    let done = wait_for_job(&api, id).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["phase"], "done");
    assert!(done["files_total"].as_u64().unwrap() >= 10, "{done}");
    assert_eq!(done["files_scanned"], done["files_total"]);
    assert_eq!(done["documents_indexed"], done["documents_total"]);
    let errors = done["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{done}");
    // Named as documents name their files, relative to the sources: nothing of the
    // server's directories reaches the client.
    assert_eq!(errors[0]["file"], "articles/en/broken.md");
    assert_eq!(errors[0]["line"], 3);
    assert!(!errors[0]["reason"].as_str().unwrap().is_empty());
    // The rebuilt index serves (the good documents are all there).
    assert_eq!(
        api.search_ids(None, "printer")
            .await
            .first()
            .map(String::as_str),
        Some("kb-printer.en")
    );
    let (status, list) = api
        .call(
            Method::GET,
            "/api/knowledge/reindex",
            Some(&api.manager),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["jobs"][0]["id"], id);
    let (status, body) = api
        .call(
            Method::GET,
            "/api/knowledge/reindex/nope",
            Some(&api.manager),
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[tokio::test]
async fn a_failed_reindex_says_why_and_the_old_index_keeps_serving() {
    let api = Api::new();
    let articles = api.fixture.sources_dir.path().join("articles");
    let activities = api.fixture.sources_dir.path().join("activities");
    std::fs::remove_dir_all(&articles).unwrap();
    std::fs::remove_dir_all(&activities).unwrap();
    std::fs::create_dir_all(articles.join("en")).unwrap();
    std::fs::write(articles.join("en/only.md"), "not an article").unwrap();
    let (status, started) = api
        .call(
            Method::POST,
            "/api/knowledge/reindex",
            Some(&api.manager),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let done = wait_for_job(&api, started["id"].as_str().unwrap()).await;
    assert_eq!(done["state"], "failed", "{done}");
    assert!(
        done["failure"].as_str().unwrap().contains("no article"),
        "{done}"
    );
    assert_eq!(done["errors"].as_array().unwrap().len(), 1, "{done}");
    assert_eq!(
        api.search_ids(None, "printer")
            .await
            .first()
            .map(String::as_str),
        Some("kb-printer.en")
    );
}

#[tokio::test]
async fn the_rate_limit_is_per_token_and_says_when_to_retry() {
    let api = Api::with_rate_limit(RateLimit::per_second(2));
    let uri = "/api/activities";
    let mut refused = None;
    for _ in 0..10 {
        let (status, headers, body) = api.raw(Method::GET, uri, Some(&api.requester), None).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some((headers, body));
            break;
        }
        assert_eq!(status, StatusCode::OK);
    }
    let (headers, body) = refused.expect("a burst of 10 requests at 2/s was never limited");
    assert_eq!(body["code"], "rate_limited");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    // Another token is not held back by the noisy one.
    let (status, _, _) = api.raw(Method::GET, uri, Some(&api.finance), None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_served_routes() {
    let api = Api::new();
    let (status, spec) = api.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(spec, serde_json::to_value(ponte::http::openapi()).unwrap());
    let paths = spec["paths"].as_object().unwrap();
    for expected in [
        "/health",
        "/api/knowledge/search",
        "/api/knowledge/articles/{id}",
        "/api/knowledge/reindex",
        "/api/conversations",
        "/api/conversations/{id}/messages",
        "/api/conversations/{id}/live",
        "/api/admin/parameters",
    ] {
        assert!(paths.contains_key(expected), "{expected} is not documented");
    }
    // Every documented operation is routed: nothing answers `unknown_route` or 405.
    let mut operations = 0;
    for (path, item) in paths {
        let concrete = path.replace("{id}", "some-id");
        for method in item.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let (status, body) = api.call(method.clone(), &concrete, None, None).await;
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert_ne!(body["code"], "unknown_route", "{method} {path}");
            operations += 1;
        }
    }
    assert!(operations >= 20, "{operations}");
    // And an undocumented one is not.
    let (status, body) = api.call(Method::GET, "/api/undocumented", None, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_route"))
    );
}

/// Routes are only ever declared through `utoipa_axum::routes!`, so none can be served
/// without being documented.
#[test]
fn every_route_is_declared_through_the_openapi_router() {
    let http = crate::common::repo().join("src/http");
    for entry in std::fs::read_dir(&http).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let plain_routes = text
            .match_indices(".route(")
            .filter(|(at, _)| {
                !text[at + ".route(".len()..]
                    .trim_start()
                    .starts_with("\"/openapi.json\"")
            })
            .count();
        assert_eq!(
            plain_routes,
            0,
            "{} declares an undocumented route",
            path.display()
        );
    }
}
