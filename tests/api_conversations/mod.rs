//! The conversation REST API and its access rules, in-process through the router over the
//! bundled knowledge base and a real SQLite file: a ticket created by chat over HTTP, owners
//! kept apart, missing tokens and wrong roles, malformed input, unknown ids, replayed client
//! message ids, paging after a sequence number, and admin parameters.

mod seed_flows;

use crate::assistant::{orchestrator, shared, sqlite};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use ponte::auth::{Identity, Role, TokenStore};
use ponte::state::AppState;
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
        let auth = Arc::new(TokenStore::new());
        auth.register(
            "admin-secret",
            Identity {
                role: Role::Admin,
                subject: "root".to_string(),
                groups: Vec::new(),
            },
        )
        .unwrap();
        let ana = auth.issue(Role::Requester, "ana", Vec::new()).unwrap();
        let bruno = auth.issue(Role::Requester, "bruno", Vec::new()).unwrap();
        let state = AppState::new(
            shared().knowledge.clone(),
            Some(Arc::new(orchestrator(store.clone()))),
            auth,
        );
        Api {
            _dir: dir,
            app: ponte::http::router(state),
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

#[tokio::test]
async fn a_requester_creates_a_ticket_by_chat_and_finds_it_in_their_tickets() {
    let api = Api::new().await;
    let (status, opened) = api
        .call(
            Method::POST,
            "/api/conversations",
            &api.ana,
            Some(json!({"language": "pt-BR"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let id = opened["conversation"]["id"].as_str().unwrap().to_string();
    assert_eq!(opened["conversation"]["language"], "pt-BR");
    assert_eq!(opened["conversation"]["status"], "bot");
    let greeting = opened["messages"].as_array().unwrap();
    assert!(!greeting.is_empty(), "{opened}");
    assert_eq!(
        opened["conversation"]["last_seq"],
        greeting.last().unwrap()["seq"]
    );
    let mut keys: Vec<&str> = greeting[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "body",
            "client_message_id",
            "created_at",
            "payload",
            "sender_kind",
            "seq"
        ]
    );

    let answered = api.say(&api.ana, &id, "esqueci minha senha").await;
    assert_eq!(answered["duplicate"], false);
    assert_eq!(answered["messages"][0]["sender_kind"], "requester");
    let (status, view) = api
        .call(
            Method::GET,
            &format!("/api/conversations/{id}"),
            &api.ana,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["requester_id"], "ana");
    assert!(view.get("machine_state").is_none(), "{view}");
    let offered: Vec<&str> = view["machine_view"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|option| option["id"].as_str())
        .collect();
    assert!(offered.contains(&"create_ticket"), "{view}");

    let (status, chosen) = api
        .call(
            Method::POST,
            &format!("/api/conversations/{id}/options"),
            &api.ana,
            Some(json!({"option_id": "create_ticket"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{chosen}");
    assert!(!chosen["messages"].as_array().unwrap().is_empty());
    api.say(
        &api.ana,
        &id,
        "minha senha expirou e não consigo entrar no computador",
    )
    .await;
    let created = api.say(&api.ana, &id, "sim").await;
    let number = ticket_number(&created["messages"])
        .unwrap_or_else(|| panic!("no ticket number in {created}"));

    let (status, tickets) = api.call(Method::GET, "/api/tickets", &api.ana, None).await;
    assert_eq!(status, StatusCode::OK, "{tickets}");
    let numbers: Vec<&str> = tickets["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ticket| ticket["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, [number.as_str()]);

    // Another requester sees none of it.
    let (status, body) = api
        .call(
            Method::GET,
            &format!("/api/conversations/{id}"),
            &api.bruno,
            None,
        )
        .await;
    assert_error(status, &body, 403, "forbidden");
    let (status, body) = api
        .call(
            Method::GET,
            &format!("/api/conversations/{id}/messages"),
            &api.bruno,
            None,
        )
        .await;
    assert_error(status, &body, 403, "forbidden");
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/api/conversations/{id}/messages"),
            &api.bruno,
            Some(json!({"text": "oi"})),
        )
        .await;
    assert_error(status, &body, 403, "forbidden");
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/api/conversations/{id}/options"),
            &api.bruno,
            Some(json!({"option_id": "create_ticket"})),
        )
        .await;
    assert_error(status, &body, 403, "forbidden");
    let (status, tickets) = api
        .call(Method::GET, "/api/tickets", &api.bruno, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{tickets}");
    assert_eq!(tickets["tickets"], json!([]));
}

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
async fn a_replayed_client_message_id_is_stored_once() {
    let api = Api::new().await;
    let id = api.open(&api.ana).await;
    let uri = format!("/api/conversations/{id}/messages");
    let post = json!({"text": "esqueci minha senha", "client_message_id": "c-1"});
    let (status, first) = api
        .call(Method::POST, &uri, &api.ana, Some(post.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["duplicate"], false);
    assert_eq!(first["messages"][0]["client_message_id"], "c-1");
    let count = api.store.messages_after(&id, 0, 1000).await.unwrap().len();

    let (status, again) = api.call(Method::POST, &uri, &api.ana, Some(post)).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["messages"].as_array().unwrap().len(), 1, "{again}");
    assert_eq!(again["messages"][0]["seq"], first["messages"][0]["seq"]);
    let stored = api.store.messages_after(&id, 0, 1000).await.unwrap();
    assert_eq!(stored.len(), count, "the replay stored something");
    let with_key = stored
        .iter()
        .filter(|message| message.client_message_id.as_deref() == Some("c-1"))
        .count();
    assert_eq!(with_key, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_duplicate_posts_are_processed_once() {
    let api = Arc::new(Api::new().await);
    let id = api.open(&api.ana).await;
    let opened = api.store.messages_after(&id, 0, 1000).await.unwrap();
    let requester_count = |messages: &[ponte::store::Message]| {
        messages
            .iter()
            .filter(|message| message.sender_kind == ponte::store::SenderKind::Requester)
            .count()
    };
    let uri = format!("/api/conversations/{id}/messages");
    let post = json!({"text": "esqueci minha senha", "client_message_id": "same-key"});
    let posts = (0..12).map(|_| {
        let api = api.clone();
        let uri = uri.clone();
        let post = post.clone();
        tokio::spawn(async move { api.call(Method::POST, &uri, &api.ana, Some(post)).await })
    });
    let mut originals = 0;
    let mut seqs = std::collections::HashSet::new();
    for answer in futures_util::future::join_all(posts).await {
        let (status, body) = answer.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["duplicate"] == false {
            originals += 1;
        }
        seqs.insert(body["messages"][0]["seq"].as_i64().unwrap());
    }
    assert_eq!(originals, 1, "exactly one post may be the original");
    assert_eq!(
        seqs.len(),
        1,
        "every answer names the same stored message: {seqs:?}"
    );
    let stored = api.store.messages_after(&id, 0, 1000).await.unwrap();
    let with_key = stored
        .iter()
        .filter(|message| message.client_message_id.as_deref() == Some("same-key"))
        .count();
    assert_eq!(with_key, 1);
    assert_eq!(requester_count(&stored), requester_count(&opened) + 1);
    assert!(
        stored.len() > opened.len() + 1,
        "the assistant did not answer"
    );
    let seqs: Vec<i64> = stored.iter().map(|message| message.seq).collect();
    assert_eq!(
        seqs,
        (1..=stored.len() as i64).collect::<Vec<_>>(),
        "gap-free"
    );
}

#[tokio::test]
async fn messages_after_a_sequence_number_are_exactly_the_later_ones_in_order() {
    let api = Api::new().await;
    let id = api.open(&api.ana).await;
    api.say(&api.ana, &id, "esqueci minha senha").await;
    api.say(&api.ana, &id, "obrigado").await;
    let uri = format!("/api/conversations/{id}/messages");
    let (status, all) = api.call(Method::GET, &uri, &api.ana, None).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let every = seqs(&all["messages"]);
    assert!(every.len() >= 4, "{all}");
    assert_eq!(every, (1..=every.len() as i64).collect::<Vec<_>>());

    let after = every[1];
    let (status, later) = api
        .call(Method::GET, &format!("{uri}?after={after}"), &api.ana, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{later}");
    assert_eq!(seqs(&later["messages"]), every[2..].to_vec());
    let (_, page) = api
        .call(
            Method::GET,
            &format!("{uri}?after={after}&limit=1"),
            &api.ana,
            None,
        )
        .await;
    assert_eq!(seqs(&page["messages"]), [every[2]]);
    let (_, none) = api
        .call(
            Method::GET,
            &format!("{uri}?after={}", every.last().unwrap()),
            &api.ana,
            None,
        )
        .await;
    assert_eq!(none["messages"], json!([]));
    let (status, body) = api
        .call(Method::GET, &format!("{uri}?after=abc"), &api.ana, None)
        .await;
    assert_error(status, &body, 400, "bad_request");
}

#[tokio::test]
async fn admins_read_and_set_parameters_and_bad_values_change_nothing() {
    let api = Api::new().await;
    let (status, list) = api
        .call(Method::GET, "/api/admin/parameters", &api.admin, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let value_of = |list: &Value, key: &str| {
        list["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|parameter| parameter["key"] == key)
            .map(|parameter| parameter["value"].as_str().unwrap().to_string())
    };
    assert_eq!(value_of(&list, "lost_chat_minutes").as_deref(), Some("30"));

    let (status, body) = api
        .call(
            Method::PUT,
            "/api/admin/parameters",
            &api.admin,
            Some(json!({"key": "lost_chat_minutes", "value": "0"})),
        )
        .await;
    assert_error(status, &body, 422, "invalid_parameter");
    let (status, body) = api
        .call(
            Method::PUT,
            "/api/admin/parameters",
            &api.admin,
            Some(json!({"key": "no_such_key", "value": "1"})),
        )
        .await;
    assert_error(status, &body, 422, "invalid_parameter");
    assert_eq!(
        api.store.parameter("lost_chat_minutes").await.unwrap(),
        None
    );
    assert_eq!(api.store.parameters().await.unwrap().len(), 0);

    let (status, body) = api
        .call(
            Method::PUT,
            "/api/admin/parameters",
            &api.admin,
            Some(json!({"key": "lost_chat_minutes", "value": "45"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, list) = api
        .call(Method::GET, "/api/admin/parameters", &api.admin, None)
        .await;
    assert_eq!(value_of(&list, "lost_chat_minutes").as_deref(), Some("45"));

    // Chat off: opening is refused with the machine's code.
    let (status, _) = api
        .call(
            Method::PUT,
            "/api/admin/parameters",
            &api.admin,
            Some(json!({"key": "299", "value": "off"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = api
        .call(
            Method::POST,
            "/api/conversations",
            &api.ana,
            Some(json!({})),
        )
        .await;
    assert_error(status, &body, 409, "chat_disabled");
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
