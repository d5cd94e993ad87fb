//! The hand-off to an external desk end to end, over real sockets: Ponte served on a
//! loopback port (dispatcher and deadlines running as in `ponte serve`), a scriptable HTTP
//! receiver standing for the external desk, and the desk's answers posted signed to
//! `/api/bridges/{id}/events`. What the requester sees is read through the API.

use crate::assistant::shared;
use crate::common::TestApp;
use axum::extract::{Request, State};
use axum::response::Response;
use ponte::auth::Role;
use ponte::bridge::signature::{self, Secret};
use ponte::config::BridgeDelivery;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const ADMIN: &str = "bridge-admin";
pub const GROUP: &str = "service-desk";

/// What the external desk does with each attempt of an event: `script(event_id, attempt)`.
type Script = Arc<dyn Fn(&str, u32) -> Reply + Send + Sync>;

#[derive(Clone, Copy, Debug)]
pub enum Reply {
    Status(u16),
    /// Answers after this long (longer than the transport's timeout: a timeout).
    Slow(Duration, u16),
}

/// One request the external desk received.
#[derive(Debug, Clone)]
pub struct Got {
    pub id: String,
    pub timestamp: i64,
    pub signature: String,
    pub body: Vec<u8>,
    pub value: Value,
    pub answered: u16,
}

#[derive(Clone)]
struct DeskState {
    got: Arc<Mutex<Vec<Got>>>,
    attempts: Arc<Mutex<HashMap<String, u32>>>,
    script: Script,
}

/// The external desk: a real HTTP server on loopback.
pub struct ExternalDesk {
    pub url: String,
    got: Arc<Mutex<Vec<Got>>>,
    task: tokio::task::JoinHandle<()>,
}

impl ExternalDesk {
    pub async fn start(script: Script) -> ExternalDesk {
        let got = Arc::new(Mutex::new(Vec::new()));
        let state = DeskState {
            got: got.clone(),
            attempts: Arc::new(Mutex::new(HashMap::new())),
            script,
        };
        let app = axum::Router::new().fallback(receive).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        ExternalDesk { url, got, task }
    }

    pub fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    /// The events answered 2xx, in the order they were received.
    pub fn delivered(&self) -> Vec<Got> {
        self.got()
            .into_iter()
            .filter(|got| (200..300).contains(&got.answered))
            .collect()
    }
}

impl Drop for ExternalDesk {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(State(state): State<DeskState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap()
        .to_vec();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let id = header("webhook-id");
    let attempt = {
        let mut attempts = state.attempts.lock().unwrap();
        let count = attempts.entry(id.clone()).or_default();
        *count += 1;
        *count
    };
    let reply = (state.script)(&id, attempt);
    let status = match reply {
        Reply::Status(status) => status,
        Reply::Slow(wait, status) => {
            tokio::time::sleep(wait).await;
            status
        }
    };
    state.got.lock().unwrap().push(Got {
        id,
        timestamp: header("webhook-timestamp").parse().unwrap_or_default(),
        signature: header("webhook-signature"),
        value: serde_json::from_slice(&body).unwrap_or(Value::Null),
        body,
        answered: status,
    });
    Response::builder()
        .status(status)
        .body(axum::body::Body::empty())
        .unwrap()
}

/// Ponte served on loopback with a webhook bridge to `desk`.
pub struct Ponte {
    pub base: String,
    pub http: reqwest::Client,
    pub outbound: Secret,
    pub inbound: Secret,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<()>>,
}

impl Ponte {
    pub async fn start(delivery: BridgeDelivery) -> Ponte {
        let app = TestApp::builder(shared().knowledge.clone())
            .matcher(shared().matcher.clone())
            .bridge_delivery(delivery)
            .build()
            .await;
        app.register(ADMIN, Role::Admin, "root", &[]);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(async move {
            app.serve(listener, async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Ponte {
            base,
            http: reqwest::Client::new(),
            outbound: Secret::generate(),
            inbound: Secret::generate(),
            stop: Some(stop),
            served: Some(served),
        }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(served) = self.served.take() {
            let _ = served.await;
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let value = response.json().await.unwrap_or(Value::Null);
        (status, value)
    }

    pub async fn ok(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
        let (status, value) = self.call(method, path, token, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {value}"
        );
        value
    }

    /// Defines the webhook bridge `desk` to `url`, taking hand-offs to the default group.
    pub async fn bridge(&self, url: &str, accept_deadline_secs: u64) -> Value {
        self.ok(
            "PUT",
            "/api/admin/bridges/desk",
            ADMIN,
            Some(json!({
                "kind": "webhook",
                "endpoint": url,
                "outbound_secrets": [self.outbound.expose()],
                "inbound_secrets": [self.inbound.expose()],
                "routes": { "groups": [GROUP] },
                "accept_deadline_secs": accept_deadline_secs,
                "allow_private": true,
                "attachment_hosts": ["files.example.com"],
            })),
        )
        .await
    }

    /// A requester who could not be helped and asked for a person: returns (token, id).
    pub async fn handed_off(&self, subject: &str, language: &str) -> (String, String) {
        let issued = self
            .ok(
                "POST",
                "/api/admin/tokens",
                ADMIN,
                Some(json!({ "role": "requester", "subject": subject })),
            )
            .await;
        let token = issued["token"].as_str().unwrap().to_string();
        let opened = self
            .ok(
                "POST",
                "/api/conversations",
                &token,
                Some(json!({ "language": language })),
            )
            .await;
        let id = opened["conversation"]["id"].as_str().unwrap().to_string();
        self.ok(
            "POST",
            &format!("/api/conversations/{id}/messages"),
            &token,
            Some(json!({ "text": "my badge reader beeps red at the turnstile" })),
        )
        .await;
        self.ok(
            "POST",
            &format!("/api/conversations/{id}/options"),
            &token,
            Some(json!({ "option_id": "talk_to_attendant" })),
        )
        .await;
        (token, id)
    }

    /// Posts an event of the external desk, signed with `secret`.
    pub async fn inbound(
        &self,
        webhook_id: &str,
        body: Value,
        secret: &Secret,
        timestamp: i64,
    ) -> (u16, Value) {
        let bytes = serde_json::to_vec(&body).unwrap();
        self.inbound_raw(webhook_id, bytes, secret, timestamp).await
    }

    pub async fn inbound_raw(
        &self,
        webhook_id: &str,
        bytes: Vec<u8>,
        secret: &Secret,
        timestamp: i64,
    ) -> (u16, Value) {
        let signature = secret.sign(webhook_id, timestamp, &bytes);
        let response = self
            .http
            .post(format!("{}/api/bridges/desk/events", self.base))
            .header("content-type", "application/json")
            .header("webhook-id", webhook_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn conversation(&self, token: &str, id: &str) -> Value {
        self.ok("GET", &format!("/api/conversations/{id}"), token, None)
            .await
    }

    pub async fn messages(&self, token: &str, id: &str) -> Vec<Value> {
        let answer = self
            .ok(
                "GET",
                &format!("/api/conversations/{id}/messages?after=0"),
                token,
                None,
            )
            .await;
        answer["messages"].as_array().unwrap().clone()
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn event(kind: &str, data: Value) -> Value {
    json!({ "type": kind, "timestamp": "2026-12-06T00:00:00Z", "data": data })
}

/// Waits until `check` holds, polling; panics with `what` after `limit`.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn quick_retries() -> BridgeDelivery {
    BridgeDelivery {
        retry_delays_ms: Some(vec![0, 30, 60, 90, 120, 150]),
        timeout_ms: Some(400),
    }
}

pub fn always(status: u16) -> Script {
    Arc::new(move |_, _| Reply::Status(status))
}

#[tokio::test]
async fn a_requester_is_served_by_the_external_desk_from_hand_off_to_close() {
    let desk = ExternalDesk::start(always(204)).await;
    let ponte = Ponte::start(quick_retries()).await;
    ponte.bridge(&desk.url, 120).await;
    let (token, id) = ponte.handed_off("maria", "pt-BR").await;

    // The hand-off left as a signed `handoff.requested`, and the chat waits there.
    eventually(Duration::from_secs(10), "handoff.requested", || async {
        !desk.delivered().is_empty()
    })
    .await;
    let handoff = desk.delivered()[0].clone();
    assert!(handoff.id.starts_with("msg_"), "{}", handoff.id);
    assert_eq!(
        signature::verify(
            std::slice::from_ref(&ponte.outbound),
            &handoff.id,
            handoff.timestamp,
            &handoff.body,
            &handoff.signature,
            now()
        ),
        Ok(())
    );
    assert_eq!(handoff.value["type"], "handoff.requested");
    let data = &handoff.value["data"];
    assert_eq!(data["conversation_id"], id.as_str());
    assert_eq!(data["language"], "pt-BR");
    assert_eq!(data["group"], GROUP);
    assert_eq!(data["requester"]["id"], "maria");
    let transcript = data["transcript"].as_array().unwrap();
    assert!(
        transcript.iter().any(|line| line["sender"] == "requester"
            && line["text"].as_str().unwrap().contains("badge reader")),
        "{transcript:?}"
    );
    assert!(
        data["understanding"]["last_question"]
            .as_str()
            .is_some_and(|text| text.contains("badge reader")),
        "{data}"
    );
    assert!(data["seq"].as_i64().unwrap() >= transcript.last().unwrap()["seq"].as_i64().unwrap());
    let view = ponte.conversation(&token, &id).await;
    assert_eq!(view["status"], "bridged");
    assert_eq!(view["machine_view"]["status"], "waiting_for_attendant");

    // While nobody accepted, the requester's text is forwarded, not answered.
    let before = ponte.messages(&token, &id).await.len();
    ponte
        .ok(
            "POST",
            &format!("/api/conversations/{id}/messages"),
            &token,
            Some(json!({"text": "alguém aí?"})),
        )
        .await;
    let after = ponte.messages(&token, &id).await;
    assert_eq!(
        after.len(),
        before + 1,
        "the assistant stays silent: {after:?}"
    );

    // An agent accepts: the requester sees the name and the filled status.
    let (status, _) = ponte
        .inbound(
            "evt_accept",
            event(
                "agent.accepted",
                json!({"conversation_id": id, "agent": {"name": "Ana"}}),
            ),
            &ponte.inbound,
            now(),
        )
        .await;
    assert_eq!(status, 200);
    let view = ponte.conversation(&token, &id).await;
    assert_eq!(view["machine_view"]["status"], "online");
    assert_eq!(view["machine_view"]["attendant"], "Ana");
    let texts: Vec<String> = ponte
        .messages(&token, &id)
        .await
        .iter()
        .map(|m| m["body"].as_str().unwrap().to_string())
        .collect();
    assert!(
        texts.iter().any(|text| text == "Ana entrou na conversa."),
        "{texts:?}"
    );

    // The agent writes; a repeat (same webhook-id, or same message id) is stored once.
    let message = event(
        "agent.message",
        json!({"conversation_id": id, "id": "ext-1", "agent": {"name": "Ana"}, "text": "Olá Maria, vou verificar."}),
    );
    let (status, first) = ponte
        .inbound("evt_m1", message.clone(), &ponte.inbound, now())
        .await;
    assert_eq!(status, 200, "{first}");
    let (status, again) = ponte
        .inbound("evt_m1", message.clone(), &ponte.inbound, now())
        .await;
    assert_eq!((status, &again), (200, &first));
    let (status, _) = ponte
        .inbound("evt_m1_retry", message, &ponte.inbound, now())
        .await;
    assert_eq!(status, 200);
    let from_agent: Vec<Value> = ponte
        .messages(&token, &id)
        .await
        .into_iter()
        .filter(|m| m["sender_kind"] == "attendant")
        .collect();
    assert_eq!(from_agent.len(), 1, "{from_agent:?}");
    assert_eq!(from_agent[0]["body"], "Olá Maria, vou verificar.");

    // The requester answers: it leaves as message.created, after the hand-off, in order.
    let posted = ponte
        .ok(
            "POST",
            &format!("/api/conversations/{id}/messages"),
            &token,
            Some(json!({"text": "obrigada!"})),
        )
        .await;
    let seq = posted["messages"][0]["seq"].as_i64().unwrap();
    eventually(Duration::from_secs(10), "message.created", || async {
        desk.delivered()
            .iter()
            .any(|got| got.value["data"]["seq"] == seq)
    })
    .await;
    let delivered = desk.delivered();
    let created: Vec<&Got> = delivered
        .iter()
        .filter(|got| got.value["type"] == "message.created")
        .collect();
    assert_eq!(created.len(), 2, "{delivered:?}");
    assert_eq!(created[0].value["data"]["message"]["text"], "alguém aí?");
    assert_eq!(created[1].value["data"]["message"]["text"], "obrigada!");
    let seqs: Vec<i64> = delivered
        .iter()
        .map(|got| got.value["data"]["seq"].as_i64().unwrap())
        .collect();
    assert!(
        seqs.windows(2).all(|pair| pair[0] < pair[1]),
        "in order: {seqs:?}"
    );

    // The agent closes: the requester is told; anything after is 409 conversation_closed.
    let (status, _) = ponte
        .inbound(
            "evt_close",
            event(
                "conversation.closed",
                json!({"conversation_id": id, "reason": "resolved"}),
            ),
            &ponte.inbound,
            now(),
        )
        .await;
    assert_eq!(status, 200);
    let view = ponte.conversation(&token, &id).await;
    assert_eq!(view["status"], "finished");
    let last = ponte.messages(&token, &id).await.last().unwrap().clone();
    assert_eq!(
        last["body"],
        "Esta conversa foi encerrada. Obrigada pelo contato!"
    );
    let (status, refused) = ponte
        .inbound(
            "evt_late",
            event(
                "agent.message",
                json!({"conversation_id": id, "id": "ext-2", "text": "mais uma coisa"}),
            ),
            &ponte.inbound,
            now(),
        )
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("conversation_closed"))
    );
    // Nothing went back to the desk that closed it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        desk.got()
            .iter()
            .all(|got| got.value["type"] != "conversation.closed")
    );
    ponte.stop().await;
}

#[tokio::test]
async fn the_requester_leaving_before_anyone_accepts_cancels_the_hand_off() {
    let desk = ExternalDesk::start(always(200)).await;
    let ponte = Ponte::start(quick_retries()).await;
    ponte.bridge(&desk.url, 120).await;
    let (token, id) = ponte.handed_off("leo", "en").await;
    ponte
        .ok(
            "POST",
            &format!("/api/conversations/{id}/close"),
            &token,
            None,
        )
        .await;
    eventually(Duration::from_secs(10), "handoff.cancelled", || async {
        desk.delivered()
            .iter()
            .any(|got| got.value["type"] == "handoff.cancelled")
    })
    .await;
    let kinds: Vec<String> = desk
        .delivered()
        .iter()
        .map(|got| got.value["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["handoff.requested", "handoff.cancelled"]);
    ponte.stop().await;
}

#[tokio::test]
async fn faults_at_the_receiver_lose_nothing_duplicate_nothing_and_keep_each_conversations_order() {
    // Each event: a 500, a 503 asking to wait, a timeout, then accepted.
    let script: Script = Arc::new(|_, attempt| match attempt {
        1 => Reply::Status(500),
        2 => Reply::Status(503),
        3 => Reply::Slow(Duration::from_millis(700), 200),
        _ => Reply::Status(200),
    });
    let desk = ExternalDesk::start(script).await;
    let ponte = Ponte::start(quick_retries()).await;
    ponte.bridge(&desk.url, 120).await;
    let mut expected: HashMap<String, usize> = HashMap::new();
    for n in 0..4 {
        let (token, id) = ponte.handed_off(&format!("req{n}"), "es").await;
        for line in 0..3 {
            ponte
                .ok(
                    "POST",
                    &format!("/api/conversations/{id}/messages"),
                    &token,
                    Some(json!({"text": format!("mensaje {line}")})),
                )
                .await;
        }
        expected.insert(id, 4);
    }
    let total: usize = expected.values().sum();
    eventually(Duration::from_secs(60), "every event delivered", || async {
        desk.delivered().len() >= total
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let delivered = desk.delivered();
    assert_eq!(delivered.len(), total, "no event delivered twice");
    let mut ids: Vec<&str> = delivered.iter().map(|got| got.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "one webhook-id per event");
    // The same webhook-id always carried the same body.
    let mut bodies: HashMap<&str, &Vec<u8>> = HashMap::new();
    let got = desk.got();
    for attempt in &got {
        let first = bodies.entry(attempt.id.as_str()).or_insert(&attempt.body);
        assert_eq!(
            *first, &attempt.body,
            "event {} changed between attempts",
            attempt.id
        );
    }
    // Per conversation: every event, in sequence order, and no event attempted before the
    // previous one was delivered.
    for (id, count) in &expected {
        let lane: Vec<&Got> = got
            .iter()
            .filter(|g| g.value["data"]["conversation_id"] == id.as_str())
            .collect();
        let seqs: Vec<i64> = lane
            .iter()
            .map(|g| g.value["data"]["seq"].as_i64().unwrap())
            .collect();
        assert!(
            seqs.windows(2).all(|pair| pair[0] <= pair[1]),
            "lane {id} out of order: {seqs:?}"
        );
        let delivered_here = lane.iter().filter(|g| g.answered == 200).count();
        assert_eq!(delivered_here, *count, "lane {id}");
    }
    // Every attempt is on record.
    let listed = ponte
        .ok(
            "GET",
            "/api/admin/bridges/desk/deliveries?status=delivered&limit=100",
            ADMIN,
            None,
        )
        .await;
    assert_eq!(listed["events"].as_array().unwrap().len(), total);
    let one = &listed["events"][0]["id"];
    let detail = ponte
        .ok(
            "GET",
            &format!(
                "/api/admin/bridges/desk/deliveries/{}",
                one.as_str().unwrap()
            ),
            ADMIN,
            None,
        )
        .await;
    let attempts = detail["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 4, "{detail}");
    assert_eq!(attempts[0]["status_code"], 500);
    assert_eq!(attempts[2]["status_code"], Value::Null);
    assert!(
        attempts[2]["error"].as_str().unwrap().contains("timeout"),
        "{detail}"
    );
    let health = ponte
        .ok("GET", "/api/admin/bridges/desk", ADMIN, None)
        .await;
    assert_eq!(health["health"]["backlog"], 0);
    assert!(health["health"]["last_success_at"].as_i64().is_some());
    ponte.stop().await;
}

#[tokio::test]
async fn nobody_accepting_in_time_falls_back_to_the_desk_once() {
    let desk = ExternalDesk::start(always(202)).await;
    let ponte = Ponte::start(quick_retries()).await;
    ponte.bridge(&desk.url, 1).await;
    let (token, id) = ponte.handed_off("ines", "es").await;
    eventually(Duration::from_secs(10), "the fallback", || async {
        ponte.conversation(&token, &id).await["status"] == "queued"
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let told: Vec<Value> = ponte
        .messages(&token, &id)
        .await
        .into_iter()
        .filter(|m| {
            m["body"]
                .as_str()
                .unwrap()
                .starts_with("No pudimos comunicarnos")
        })
        .collect();
    assert_eq!(told.len(), 1, "told once");
    // Ponte's own desk has the chat now.
    let chats = ponte.ok("GET", "/api/desk/chats", ADMIN, None).await;
    assert!(
        chats["chats"]
            .as_array()
            .unwrap()
            .iter()
            .any(|chat| chat["conversation_id"] == id.as_str()),
        "{chats}"
    );
    // The external desk's accept comes too late.
    let (status, refused) = ponte
        .inbound(
            "evt_late_accept",
            event(
                "agent.accepted",
                json!({"conversation_id": id, "agent": {"name": "Ana"}}),
            ),
            &ponte.inbound,
            now(),
        )
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("not_bridged"))
    );
    ponte.stop().await;
}

#[tokio::test]
async fn an_exhausted_delivery_fails_the_hand_off_and_a_410_disables_the_bridge() {
    let desk = ExternalDesk::start(always(500)).await;
    let ponte = Ponte::start(quick_retries()).await;
    ponte.bridge(&desk.url, 120).await;
    let (token, id) = ponte.handed_off("ana", "en").await;
    eventually(
        Duration::from_secs(15),
        "the fallback after exhaustion",
        || async { ponte.conversation(&token, &id).await["status"] == "queued" },
    )
    .await;
    assert_eq!(desk.got().len(), 6, "one attempt per delay of the schedule");
    let dead = ponte
        .ok(
            "GET",
            "/api/admin/bridges/desk/deliveries?status=dead",
            ADMIN,
            None,
        )
        .await;
    assert_eq!(dead["events"].as_array().unwrap().len(), 1);
    let health = ponte
        .ok("GET", "/api/admin/bridges/desk", ADMIN, None)
        .await;
    assert_eq!(health["health"]["dead"], 1);
    assert_eq!(health["health"]["failures_since_success"], 6);

    let gone = ExternalDesk::start(always(410)).await;
    ponte.bridge(&gone.url, 120).await;
    let (_, second) = ponte.handed_off("bia", "en").await;
    eventually(Duration::from_secs(10), "the bridge disabled", || async {
        ponte
            .ok("GET", "/api/admin/bridges/desk", ADMIN, None)
            .await["enabled"]
            == false
    })
    .await;
    let state = ponte
        .ok("GET", "/api/admin/bridges/desk", ADMIN, None)
        .await;
    assert_eq!(state["disabled_reason"], "gone");
    assert_eq!(gone.got().len(), 1, "no retry to a gone receiver");
    // New hand-offs go to Ponte's own desk while the bridge is off.
    let (third_token, third) = ponte.handed_off("caio", "en").await;
    let view = ponte.conversation(&third_token, &third).await;
    assert_eq!(view["status"], "queued");
    assert_ne!(second, third);
    ponte.stop().await;
}

#[tokio::test]
async fn inbound_events_are_refused_with_stable_codes_and_stored_once() {
    let desk = ExternalDesk::start(always(200)).await;
    let ponte = Ponte::start(quick_retries()).await;
    ponte.bridge(&desk.url, 120).await;
    let (token, id) = ponte.handed_off("rui", "en").await;
    let accept = event(
        "agent.accepted",
        json!({"conversation_id": id, "agent": {"name": "Ana"}}),
    );

    // A bad signature, a skewed timestamp.
    let (status, body) = ponte
        .inbound("e1", accept.clone(), &Secret::generate(), now())
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("bad_signature"))
    );
    let (status, body) = ponte
        .inbound("e2", accept.clone(), &ponte.inbound, now() - 301)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("stale_timestamp"))
    );
    // A missing header.
    let response = ponte
        .http
        .post(format!("{}/api/bridges/desk/events", ponte.base))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(
        response.json::<Value>().await.unwrap()["code"],
        "bad_webhook_header"
    );
    // An unknown bridge.
    let response = ponte
        .http
        .post(format!("{}/api/bridges/nowhere/events", ponte.base))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(
        response.json::<Value>().await.unwrap()["code"],
        "unknown_bridge"
    );
    // Malformed, invalid UTF-8, unknown type, missing fields.
    for bytes in [
        b"{not json".to_vec(),
        vec![0xff, 0xfe, 0x7b],
        serde_json::to_vec(&event("agent.dance", json!({"conversation_id": id}))).unwrap(),
    ] {
        let (status, body) = ponte.inbound_raw("e3", bytes, &ponte.inbound, now()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("invalid_event")),
            "{body}"
        );
    }
    // Oversized.
    let huge = event(
        "agent.message",
        json!({"conversation_id": id, "id": "big", "text": "x".repeat(300 * 1024)}),
    );
    let (status, body) = ponte.inbound("e4", huge, &ponte.inbound, now()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    // Unknown conversation; a conversation not handed to this bridge.
    let (status, body) = ponte
        .inbound(
            "e5",
            event(
                "agent.accepted",
                json!({"conversation_id": "nope", "agent": {"name": "A"}}),
            ),
            &ponte.inbound,
            now(),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("unknown_conversation"))
    );
    let other = ponte
        .ok(
            "POST",
            "/api/conversations",
            &token,
            Some(json!({"language": "en"})),
        )
        .await;
    let other_id = other["conversation"]["id"].as_str().unwrap();
    let (status, body) = ponte
        .inbound(
            "e6",
            event(
                "agent.accepted",
                json!({"conversation_id": other_id, "agent": {"name": "A"}}),
            ),
            &ponte.inbound,
            now(),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (409, Some("not_bridged")));
    // A repeated refusal gets the same answer.
    let (status, again) = ponte
        .inbound(
            "e6",
            event(
                "agent.accepted",
                json!({"conversation_id": other_id, "agent": {"name": "A"}}),
            ),
            &ponte.inbound,
            now(),
        )
        .await;
    assert_eq!((status, again["code"].as_str()), (409, Some("not_bridged")));
    // An attachment from a host the bridge does not allow.
    let (status, body) = ponte
        .inbound("e7", event("agent.message", json!({"conversation_id": id, "id": "f1", "attachments": [{"url": "https://evil.example.net/x.png", "content_type": "image/png"}]})), &ponte.inbound, now())
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("attachment_refused"))
    );
    // After all that, nothing was stored.
    assert!(
        ponte
            .messages(&token, &id)
            .await
            .iter()
            .all(|m| m["sender_kind"] != "attendant")
    );

    // A rotated secret: both the old and the new one are taken during the rotation.
    let new = Secret::generate();
    let desk_url = desk.url.clone();
    ponte
        .ok(
            "PUT",
            "/api/admin/bridges/desk",
            ADMIN,
            Some(json!({
                "kind": "webhook",
                "endpoint": desk_url,
                "outbound_secrets": [ponte.outbound.expose()],
                "inbound_secrets": [ponte.inbound.expose(), new.expose()],
                "routes": { "groups": [GROUP] },
                "allow_private": true,
                "attachment_hosts": ["files.example.com"],
            })),
        )
        .await;
    let (status, _) = ponte.inbound("e8", accept.clone(), &new, now()).await;
    assert_eq!(status, 200);
    let (status, _) = ponte
        .inbound("e9", event("agent.message", json!({"conversation_id": id, "id": "f2", "agent": {"name": "Ana"}, "text": "Olá, Maria"})), &ponte.inbound, now())
        .await;
    assert_eq!(status, 200);
    let shown: Vec<Value> = ponte
        .messages(&token, &id)
        .await
        .into_iter()
        .filter(|m| m["sender_kind"] == "attendant")
        .collect();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0]["body"], "Olá, Maria");
    // The API never shows a secret.
    let listed = ponte.ok("GET", "/api/admin/bridges", ADMIN, None).await;
    let text = listed.to_string();
    assert!(!text.contains("whsec_"), "{text}");
    assert_eq!(listed["bridges"][0]["inbound_secrets"], 2);
    ponte.stop().await;
}

#[tokio::test]
async fn a_receiver_that_answers_again_gets_the_waiting_retries_at_once() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let down = Arc::new(AtomicBool::new(true));
    let flag = down.clone();
    let desk = ExternalDesk::start(Arc::new(move |_, _| {
        if flag.load(Ordering::SeqCst) {
            Reply::Status(503)
        } else {
            Reply::Status(204)
        }
    }))
    .await;
    // After a failure the next retry is a minute away.
    let ponte = Ponte::start(BridgeDelivery {
        retry_delays_ms: Some(vec![0, 60_000, 60_000]),
        timeout_ms: Some(2_000),
    })
    .await;
    ponte.bridge(&desk.url, 120).await;
    let (_, waiting) = ponte.handed_off("first", "en").await;
    eventually(Duration::from_secs(10), "the first attempt", || async {
        !desk.got().is_empty()
    })
    .await;
    // The receiver is back; a new hand-off succeeds at its first attempt, and the waiting
    // one follows at once instead of a minute later.
    down.store(false, Ordering::SeqCst);
    let (_, fresh) = ponte.handed_off("second", "en").await;
    eventually(
        Duration::from_secs(10),
        "both hand-offs delivered",
        || async {
            let delivered = desk.delivered();
            [&waiting, &fresh].iter().all(|id| {
                delivered
                    .iter()
                    .any(|got| got.value["data"]["conversation_id"] == id.as_str())
            })
        },
    )
    .await;
    ponte.stop().await;
}
