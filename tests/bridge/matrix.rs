//! The Matrix bridge against a real Synapse (`.ci/synapse.sh`, which `.ci/run` starts): Ponte's
//! application-service endpoint is served on 127.0.0.1:18009 by a minimal router that calls
//! `handle_transaction` with a recording sink; an agent user registered through Synapse's
//! shared-secret admin API plays the desk through the client API. Skipped (with a printed
//! line) when `PONTE_SYNAPSE_URL` is not set.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header::AUTHORIZATION};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use ponte::bridge::config::{BridgeConfig, BridgeKind, MatrixSettings};
use ponte::bridge::matrix::{self, MatrixClient, MatrixTransport};
use ponte::bridge::wire::outbound_body;
use ponte::bridge::{
    AttachmentLink, AttemptResult, BridgeError, InboundEvent, InboundSink, OutboundType,
    OutgoingEvent, Transport,
};
use ponte::store::StoreError;
use serde_json::{Value, json};

pub(super) const BRIDGE_ID: &str = "matrix-test";
pub(super) const AS_ADDR: &str = "127.0.0.1:18009";

/// The application service's port is fixed by the registration Synapse loaded: one test at a
/// time serves it.
pub(super) static AS_PORT: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const AS_PREFIX: &str = "/api/bridges/matrix-test/matrix";

/// What Synapse's environment gives the test.
pub(super) struct Synapse {
    pub(super) url: String,
    pub(super) as_token: String,
    pub(super) hs_token: String,
    shared_secret: String,
}

impl Synapse {
    pub(super) fn from_env() -> Option<Synapse> {
        let url = std::env::var("PONTE_SYNAPSE_URL").ok()?;
        let var = |name: &str| {
            std::env::var(name)
                .unwrap_or_else(|_| panic!("PONTE_SYNAPSE_URL is set but {name} is not"))
        };
        Some(Synapse {
            url: url.trim_end_matches('/').to_string(),
            as_token: var("PONTE_SYNAPSE_AS_TOKEN"),
            hs_token: var("PONTE_SYNAPSE_HS_TOKEN"),
            shared_secret: var("PONTE_SYNAPSE_SHARED_SECRET"),
        })
    }
}

/// A sink that records every call and applies each dedup key once, as the real one does;
/// it can be told to fail once on an agent message with a given text.
#[derive(Default)]
struct RecordingSink {
    calls: Mutex<Vec<(String, bool)>>,
    applied: Mutex<Vec<(String, InboundEvent)>>,
    fail_once_on: Mutex<Option<String>>,
}

impl RecordingSink {
    fn applied_for(&self, conversation_id: &str) -> Vec<(String, InboundEvent)> {
        self.applied
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, event)| event.conversation_id() == conversation_id)
            .cloned()
            .collect()
    }

    fn calls_for(&self, key: &str) -> Vec<bool> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, failed)| *failed)
            .collect()
    }
}

#[async_trait::async_trait]
impl InboundSink for RecordingSink {
    async fn receive(
        &self,
        bridge_id: &str,
        dedup_key: &str,
        event: InboundEvent,
    ) -> Result<Value, BridgeError> {
        assert_eq!(bridge_id, BRIDGE_ID);
        {
            let mut fail = self.fail_once_on.lock().unwrap();
            if let InboundEvent::AgentMessage { text, .. } = &event
                && fail.as_deref() == Some(text.as_str())
            {
                *fail = None;
                self.calls.lock().unwrap().push((dedup_key.into(), true));
                return Err(BridgeError::Store(StoreError::Closed));
            }
        }
        self.calls.lock().unwrap().push((dedup_key.into(), false));
        let mut applied = self.applied.lock().unwrap();
        if !applied.iter().any(|(key, _)| key == dedup_key) {
            applied.push((dedup_key.into(), event));
        }
        Ok(json!({"accepted": true}))
    }
}

/// The application-service endpoint's state.
struct Endpoint {
    bridge: BridgeConfig,
    sink: Arc<RecordingSink>,
    client: MatrixClient,
    /// Every transaction received: its id and its events' ids.
    transactions: Mutex<Vec<(String, Vec<String>)>>,
}

impl Endpoint {
    fn transactions_with(&self, event_id: &str) -> Vec<String> {
        self.transactions
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, events)| events.iter().any(|id| id == event_id))
            .map(|(txn, _)| txn.clone())
            .collect()
    }
}

fn matrix_error(error: matrix::MatrixError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap();
    (status, Json(error.body())).into_response()
}

async fn transaction(
    State(endpoint): State<Arc<Endpoint>>,
    Path(txn_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = matrix::request_token(
        headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()),
        query.as_deref(),
    );
    let event_ids = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|value| value.get("events").and_then(Value::as_array).cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|event| {
            event
                .get("event_id")
                .and_then(Value::as_str)
                .map(String::from)
        })
        .collect();
    endpoint
        .transactions
        .lock()
        .unwrap()
        .push((txn_id.clone(), event_ids));
    match matrix::handle_transaction(
        &endpoint.bridge,
        token.as_deref(),
        &txn_id,
        &body,
        endpoint.sink.as_ref(),
        &endpoint.client,
    )
    .await
    {
        Ok(()) => Json(json!({})).into_response(),
        Err(error) => matrix_error(error),
    }
}

async fn ping(
    State(endpoint): State<Arc<Endpoint>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let token = matrix::request_token(
        headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()),
        query.as_deref(),
    );
    match matrix::check_token(&endpoint.bridge, token.as_deref()) {
        Ok(()) => Json(json!({})).into_response(),
        Err(error) => matrix_error(error),
    }
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"errcode": "M_NOT_FOUND", "error": "nothing here"})),
    )
        .into_response()
}

/// Polls `check` until it gives something, or fails the test after 30 s.
async fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A user of the homeserver acting through the client API with its own token.
pub(super) struct Agent {
    http: reqwest::Client,
    base: String,
    pub(super) user_id: String,
    token: String,
}

impl Agent {
    /// Registers a user through Synapse's shared-secret admin API (HMAC-SHA1 over nonce,
    /// user, password and admin flag).
    pub(super) async fn register(
        synapse: &Synapse,
        http: &reqwest::Client,
        username: &str,
        name: &str,
    ) -> Agent {
        let url = format!("{}/_synapse/admin/v1/register", synapse.url);
        let nonce: Value = http.get(&url).send().await.unwrap().json().await.unwrap();
        let nonce = nonce["nonce"].as_str().unwrap().to_string();
        let password = "correct horse battery staple";
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(synapse.shared_secret.as_bytes()).unwrap();
        mac.update(format!("{nonce}\0{username}\0{password}\0notadmin").as_bytes());
        let mac = hex::encode(mac.finalize().into_bytes());
        let response = http
            .post(&url)
            .json(&json!({
                "nonce": nonce, "username": username, "password": password,
                "displayname": name, "admin": false, "mac": mac,
            }))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{:?}",
            response.text().await
        );
        let answer: Value = response.json().await.unwrap();
        Agent {
            http: http.clone(),
            base: synapse.url.clone(),
            user_id: answer["user_id"].as_str().unwrap().into(),
            token: answer["access_token"].as_str().unwrap().into(),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}/_matrix/client/v3/{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {value}");
        value
    }

    pub(super) async fn invited_rooms(&self) -> Vec<String> {
        let sync = self
            .call(reqwest::Method::GET, "sync?timeout=0", None)
            .await;
        sync["rooms"]["invite"]
            .as_object()
            .map(|rooms| rooms.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub(super) async fn join(&self, room_id: &str) {
        self.call(
            reqwest::Method::POST,
            &format!("join/{room_id}"),
            Some(json!({})),
        )
        .await;
    }

    pub(super) async fn say(&self, room_id: &str, txn: &str, text: &str) -> String {
        self.send(room_id, txn, json!({"msgtype": "m.text", "body": text}))
            .await
    }

    pub(super) async fn send(&self, room_id: &str, txn: &str, content: Value) -> String {
        let answer = self
            .call(
                reqwest::Method::PUT,
                &format!("rooms/{room_id}/send/m.room.message/{txn}"),
                Some(content),
            )
            .await;
        answer["event_id"].as_str().unwrap().to_string()
    }

    /// Uploads a file to the homeserver's media repository: its `mxc://` URI.
    pub(super) async fn upload(&self, name: &str, content_type: &str, bytes: Vec<u8>) -> String {
        let response = self
            .http
            .post(format!(
                "{}/_matrix/media/v3/upload?filename={name}",
                self.base
            ))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "upload: {status} {value}");
        value["content_uri"].as_str().unwrap().to_string()
    }

    pub(super) async fn leave(&self, room_id: &str) {
        self.call(
            reqwest::Method::POST,
            &format!("rooms/{room_id}/leave"),
            Some(json!({})),
        )
        .await;
    }

    /// The bodies of the room's messages sent by `sender`, oldest first.
    pub(super) async fn bodies_from(&self, room_id: &str, sender: &str) -> Vec<String> {
        let page = self
            .call(
                reqwest::Method::GET,
                &format!("rooms/{room_id}/messages?dir=b&limit=500"),
                None,
            )
            .await;
        let mut bodies: Vec<String> = page["chunk"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|event| event["type"] == "m.room.message" && event["sender"] == sender)
            .filter_map(|event| event["content"]["body"].as_str().map(String::from))
            .collect();
        bodies.reverse();
        bodies
    }

    pub(super) async fn membership(&self, room_id: &str, user_id: &str) -> String {
        let member = self
            .call(
                reqwest::Method::GET,
                &format!("rooms/{room_id}/state/m.room.member/{user_id}"),
                None,
            )
            .await;
        member["membership"].as_str().unwrap().to_string()
    }
}

fn event(
    id: &str,
    event_type: OutboundType,
    conversation_id: &str,
    seq: i64,
    data: Value,
) -> OutgoingEvent {
    OutgoingEvent {
        id: id.into(),
        event_type,
        conversation_id: conversation_id.into(),
        seq,
        body: outbound_body(event_type, 1_700_000_000_000, seq, conversation_id, &data),
    }
}

async fn delivered(transport: &MatrixTransport, bridge: &BridgeConfig, event: &OutgoingEvent) {
    let attempt = transport.deliver(bridge, event).await;
    assert_eq!(
        attempt.result,
        AttemptResult::Delivered { status: 200 },
        "{} {}",
        event.event_type.as_str(),
        event.id
    );
}

fn count(bodies: &[String], needle: &str) -> usize {
    bodies.iter().filter(|body| body.contains(needle)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_goes_through_a_synapse_room_and_back() {
    let Some(synapse) = Synapse::from_env() else {
        println!("skipped: PONTE_SYNAPSE_URL is not set");
        return;
    };
    let _port = AS_PORT.lock().await;
    let run = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let http = reqwest::Client::new();
    let agent = Agent::register(&synapse, &http, &format!("agent{run}"), "Ana Agent").await;
    let conversation_id = format!("it{run}");

    let bridge = BridgeConfig {
        id: BRIDGE_ID.into(),
        kind: BridgeKind::Matrix,
        endpoint: synapse.url.clone(),
        outbound_secrets: vec![],
        inbound_secrets: vec![],
        routes: Default::default(),
        accept_deadline_secs: 120,
        allow_private: true,
        attachment_hosts: vec![],
        matrix: Some(MatrixSettings {
            as_token: synapse.as_token.clone(),
            hs_token: synapse.hs_token.clone(),
            server_name: "localhost".into(),
            sender_localpart: "ponte".into(),
            agents: vec![agent.user_id.clone()],
        }),
    };
    bridge.validate().unwrap();
    let ponte_user = "@ponte:localhost";

    // Ponte's application-service endpoint.
    let sink = Arc::new(RecordingSink::default());
    let endpoint = Arc::new(Endpoint {
        bridge: bridge.clone(),
        sink: sink.clone(),
        client: MatrixClient::for_bridge(http.clone(), &bridge).unwrap(),
        transactions: Mutex::default(),
    });
    let router = Router::new()
        .route(
            &format!("{AS_PREFIX}/_matrix/app/v1/transactions/{{txn}}"),
            put(transaction),
        )
        .route(&format!("{AS_PREFIX}/_matrix/app/v1/ping"), post(ping))
        .fallback(not_found)
        .with_state(endpoint.clone());
    let listener = tokio::net::TcpListener::bind(AS_ADDR)
        .await
        .unwrap_or_else(|error| panic!("the AS endpoint needs {AS_ADDR}: {error}"));
    let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    // The homeserver reaches the endpoint (and retries anything it still holds for it).
    let ping = http
        .post(format!(
            "{}/_matrix/client/v1/appservice/{BRIDGE_ID}/ping",
            synapse.url
        ))
        .bearer_auth(&synapse.as_token)
        .json(&json!({"transaction_id": format!("ping{run}")}))
        .send()
        .await
        .unwrap();
    assert!(ping.status().is_success(), "{:?}", ping.text().await);

    // handoff.requested, delivered twice by this node and once by a node with no cache:
    // one room, the agent invited once, the transcript posted once.
    let transport = MatrixTransport::new(http.clone());
    let handoff = event(
        &format!("{conversation_id}-e1"),
        OutboundType::HandoffRequested,
        &conversation_id,
        3,
        json!({
            "requester": {"id": "u-42", "name": "Maria"},
            "language": "pt-BR",
            "channel": "web",
            "group": "service-desk",
            "ticket": "T-000123",
            "transcript": [
                {"seq": 1, "sender": "requester", "text": "Minha impressora não imprime", "at": "2023-11-14T22:13:20Z"},
                {"seq": 2, "sender": "assistant", "text": "Vou chamar alguém do suporte.", "at": "2023-11-14T22:13:21Z"},
            ],
            "understanding": {"summary": "printer offline", "extra": [1, 2]},
        }),
    );
    delivered(&transport, &bridge, &handoff).await;
    delivered(&transport, &bridge, &handoff).await;
    delivered(&MatrixTransport::new(http.clone()), &bridge, &handoff).await;

    let room_id = endpoint
        .client
        .resolve_alias(&format!("#ponte_{conversation_id}:localhost"))
        .await
        .unwrap()
        .expect("the conversation's alias resolves");
    assert_eq!(
        endpoint.client.conversation_of(&room_id).await.unwrap(),
        Some(conversation_id.clone())
    );
    assert_eq!(agent.invited_rooms().await, vec![room_id.clone()]);
    // Ponte's own user, through the client API with the as_token.
    let ponte = Agent {
        http: http.clone(),
        base: synapse.url.clone(),
        user_id: ponte_user.into(),
        token: synapse.as_token.clone(),
    };
    assert_eq!(ponte.membership(&room_id, &agent.user_id).await, "invite");

    // The agent joins: AgentAccepted with its display name.
    agent.join(&room_id).await;
    let accepted = wait_for("AgentAccepted", || {
        sink.applied_for(&conversation_id)
            .into_iter()
            .find(|(_, event)| matches!(event, InboundEvent::AgentAccepted { .. }))
    })
    .await;
    assert_eq!(
        accepted.1,
        InboundEvent::AgentAccepted {
            conversation_id: conversation_id.clone(),
            agent: "Ana Agent".into()
        }
    );
    let ponte_bodies = agent.bodies_from(&room_id, ponte_user).await;
    assert_eq!(
        count(&ponte_bodies, "Maria: Minha impressora não imprime"),
        1,
        "{ponte_bodies:?}"
    );
    assert_eq!(
        count(&ponte_bodies, "Language: pt-BR · Group: service-desk"),
        1,
        "{ponte_bodies:?}"
    );

    // The agent writes: AgentMessage under the Matrix event id.
    let hello = agent.say(&room_id, "t1", "Olá Maria, sou a Ana.").await;
    let message = wait_for("the agent's message", || {
        sink.applied_for(&conversation_id)
            .into_iter()
            .find(|(key, _)| *key == hello)
    })
    .await;
    assert_eq!(
        message.1,
        InboundEvent::AgentMessage {
            conversation_id: conversation_id.clone(),
            external_id: hello.clone(),
            agent: Some("Ana Agent".into()),
            text: "Olá Maria, sou a Ana.".into(),
            attachments: vec![],
        }
    );

    // message.created, delivered twice: in the room once.
    let created = event(
        &format!("{conversation_id}-e2"),
        OutboundType::MessageCreated,
        &conversation_id,
        5,
        json!({"message": {"seq": 5, "text": "Ainda estou aqui", "attachments": [
            {"url": "https://files.example.org/print.png", "name": "print.png", "content_type": "image/png"}
        ]}}),
    );
    delivered(&transport, &bridge, &created).await;
    delivered(&transport, &bridge, &created).await;
    let ponte_bodies = agent.bodies_from(&room_id, ponte_user).await;
    assert_eq!(
        count(
            &ponte_bodies,
            "Maria: Ainda estou aqui\n📎 print.png (image/png): https://files.example.org/print.png"
        ),
        1,
        "{ponte_bodies:?}"
    );

    // Another node (no caches) finds the room and the requester's name through the homeserver.
    let later = event(
        &format!("{conversation_id}-e2b"),
        OutboundType::MessageCreated,
        &conversation_id,
        6,
        json!({"message": {"seq": 6, "text": "Obrigada", "attachments": []}}),
    );
    delivered(&MatrixTransport::new(http.clone()), &bridge, &later).await;
    let ponte_bodies = agent.bodies_from(&room_id, ponte_user).await;
    assert_eq!(
        count(&ponte_bodies, "Maria: Obrigada"),
        1,
        "{ponte_bodies:?}"
    );

    // A forged transaction (wrong hs_token) and one without a token are refused.
    let forged = json!({"events": [{
        "type": "m.room.message", "room_id": room_id, "event_id": "$forged", "sender": agent.user_id,
        "content": {"msgtype": "m.text", "body": "!close forged"},
    }]});
    for (token, status, errcode) in [
        (Some("not-the-hs-token"), 403, "M_FORBIDDEN"),
        (None, 401, "M_UNAUTHORIZED"),
    ] {
        let mut request = http
            .put(format!(
                "http://{AS_ADDR}{AS_PREFIX}/_matrix/app/v1/transactions/forged{run}"
            ))
            .json(&forged);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errcode"], errcode);
    }
    assert!(sink.calls_for("$forged").is_empty());

    // The sink fails once: the transaction fails, Synapse retries it with the same id and the
    // same event, and the sink ends up with the event once.
    *sink.fail_once_on.lock().unwrap() = Some("Pode tentar de novo?".into());
    let retried = agent.say(&room_id, "t2", "Pode tentar de novo?").await;
    wait_for("the retried event", || {
        sink.applied_for(&conversation_id)
            .into_iter()
            .find(|(key, _)| *key == retried)
    })
    .await;
    assert_eq!(sink.calls_for(&retried), vec![true, false]);
    let transactions = endpoint.transactions_with(&retried);
    assert!(transactions.len() >= 2, "{transactions:?}");
    assert!(
        transactions.iter().all(|txn| *txn == transactions[0]),
        "the homeserver retries the same transaction: {transactions:?}"
    );

    // A picture: AgentMessage with the homeserver's download link.
    let picture = agent
        .send(
            &room_id,
            "t4",
            json!({"msgtype": "m.image", "body": "screen.png", "url": "mxc://localhost/PonteTestMedia",
                   "info": {"mimetype": "image/png"}}),
        )
        .await;
    let message = wait_for("the agent's picture", || {
        sink.applied_for(&conversation_id)
            .into_iter()
            .find(|(key, _)| *key == picture)
    })
    .await;
    assert_eq!(
        message.1,
        InboundEvent::AgentMessage {
            conversation_id: conversation_id.clone(),
            external_id: picture.clone(),
            agent: Some("Ana Agent".into()),
            text: String::new(),
            attachments: vec![AttachmentLink {
                url: format!(
                    "{}/_matrix/client/v1/media/download/localhost/PonteTestMedia",
                    synapse.url
                ),
                name: Some("screen.png".into()),
                content_type: Some("image/png".into()),
            }],
        }
    );

    // `!close resolved`: ConversationClosed with the reason.
    let close = agent.say(&room_id, "t3", "!close resolved").await;
    let closed = wait_for("ConversationClosed", || {
        sink.applied_for(&conversation_id)
            .into_iter()
            .find(|(key, _)| *key == close)
    })
    .await;
    assert_eq!(
        closed.1,
        InboundEvent::ConversationClosed {
            conversation_id: conversation_id.clone(),
            reason: Some("resolved".into())
        }
    );

    // Every event the sink applied is the room's, each once.
    let applied = sink.applied_for(&conversation_id);
    let mut keys: HashMap<&str, usize> = HashMap::new();
    for (key, _) in &applied {
        *keys.entry(key.as_str()).or_default() += 1;
    }
    assert!(keys.values().all(|n| *n == 1), "{applied:?}");
    assert_eq!(
        applied.len(),
        5,
        "accepted, three messages, closed: {applied:?}"
    );

    // conversation.closed, delivered twice: one notice, and Ponte leaves the room.
    let closing = event(
        &format!("{conversation_id}-e3"),
        OutboundType::ConversationClosed,
        &conversation_id,
        9,
        json!({"reason": "resolved"}),
    );
    delivered(&transport, &bridge, &closing).await;
    delivered(&transport, &bridge, &closing).await;
    let ponte_bodies = agent.bodies_from(&room_id, ponte_user).await;
    assert_eq!(
        count(&ponte_bodies, "The conversation was closed."),
        1,
        "{ponte_bodies:?}"
    );
    assert_eq!(agent.membership(&room_id, ponte_user).await, "leave");

    // A second conversation: the only agent joins, then leaves: ConversationClosed
    // ("agents_left").
    let second = format!("{conversation_id}b");
    let handoff = event(
        &format!("{second}-e1"),
        OutboundType::HandoffRequested,
        &second,
        1,
        json!({"requester": {"id": "u-7"}, "language": "en", "channel": "web", "group": "g",
               "ticket": null, "transcript": []}),
    );
    delivered(&transport, &bridge, &handoff).await;
    let second_room = endpoint
        .client
        .resolve_alias(&format!("#ponte_{second}:localhost"))
        .await
        .unwrap()
        .expect("the second conversation's alias resolves");
    assert_ne!(second_room, room_id);
    agent.join(&second_room).await;
    wait_for("the second AgentAccepted", || {
        sink.applied_for(&second)
            .into_iter()
            .find(|(_, event)| matches!(event, InboundEvent::AgentAccepted { .. }))
    })
    .await;
    agent.leave(&second_room).await;
    let left = wait_for("agents_left", || {
        sink.applied_for(&second)
            .into_iter()
            .find(|(_, event)| matches!(event, InboundEvent::ConversationClosed { .. }))
    })
    .await;
    assert_eq!(
        left.1,
        InboundEvent::ConversationClosed {
            conversation_id: second.clone(),
            reason: Some("agents_left".into())
        }
    );

    // A third: cancelled before anyone joined, delivered twice; Ponte leaves.
    let third = format!("{conversation_id}c");
    let handoff = event(
        &format!("{third}-e1"),
        OutboundType::HandoffRequested,
        &third,
        1,
        json!({"requester": {"id": "u-8", "name": "Lu"}, "language": "es", "group": "g",
               "ticket": null, "transcript": []}),
    );
    delivered(&transport, &bridge, &handoff).await;
    let cancelled = event(
        &format!("{third}-e2"),
        OutboundType::HandoffCancelled,
        &third,
        2,
        json!({}),
    );
    delivered(&transport, &bridge, &cancelled).await;
    delivered(&transport, &bridge, &cancelled).await;
    let third_room = endpoint
        .client
        .resolve_alias(&format!("#ponte_{third}:localhost"))
        .await
        .unwrap()
        .expect("the third conversation's alias resolves");
    assert_eq!(ponte.membership(&third_room, ponte_user).await, "leave");
    let ponte_bodies = ponte.bodies_from(&third_room, ponte_user).await;
    assert_eq!(
        count(&ponte_bodies, "The requester left before anyone joined."),
        1,
        "{ponte_bodies:?}"
    );

    server.abort();
}
