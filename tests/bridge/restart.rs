//! The bridge across a crash of the real process: `ponte serve` is killed with SIGKILL while
//! deliveries are in flight and restarted on the same data. Every event reaches the external
//! desk (at least once, always under its one `webhook-id`), no event is sent under a second
//! id, and an accept deadline that falls while the process is dead fires exactly once after
//! the restart.

use super::handoff::{ExternalDesk, Reply};
use crate::durability::{free_port, serve_command, wait_ready};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ADMIN: &str = "bridge-restart-admin";

struct Node {
    port: u16,
    http: reqwest::Client,
}

impl Node {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Option<(u16, Value)> {
        let mut request = self
            .http
            .request(
                method.parse().unwrap(),
                format!("http://127.0.0.1:{}{path}", self.port),
            )
            .bearer_auth(token)
            .timeout(Duration::from_secs(10));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.json().await.unwrap_or(Value::Null)))
    }

    async fn ok(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
        let (status, value) = self
            .call(method, path, token, body)
            .await
            .expect("ponte answers");
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {value}"
        );
        value
    }

    /// A requester handed to the bridge: (token, conversation id).
    async fn handed_off(&self, subject: &str) -> (String, String) {
        let issued = self
            .ok(
                "POST",
                "/api/admin/tokens",
                ADMIN,
                Some(json!({"role": "requester", "subject": subject})),
            )
            .await;
        let token = issued["token"].as_str().unwrap().to_string();
        let opened = self
            .ok(
                "POST",
                "/api/conversations",
                &token,
                Some(json!({"language": "en"})),
            )
            .await;
        let id = opened["conversation"]["id"].as_str().unwrap().to_string();
        self.ok(
            "POST",
            &format!("/api/conversations/{id}/messages"),
            &token,
            Some(json!({"text": "my badge reader beeps red at the turnstile"})),
        )
        .await;
        self.ok(
            "POST",
            &format!("/api/conversations/{id}/options"),
            &token,
            Some(json!({"option_id": "talk_to_attendant"})),
        )
        .await;
        (token, id)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_loses_no_event_sends_none_under_a_second_id_and_the_deadline_fires_once() {
    // A slow desk: deliveries are in flight when the process dies.
    let desk = ExternalDesk::start(Arc::new(|_, _| {
        Reply::Slow(Duration::from_millis(150), 200)
    }))
    .await;
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("ponte.toml");
    std::fs::write(
        &config,
        "[bridge_delivery]\nretry_delays_ms = [0, 100, 200, 400, 800, 1600, 3200, 6400]\ntimeout_ms = 2000\n",
    )
    .unwrap();
    let port = free_port();
    let start = || {
        serve_command(data.path(), port, ADMIN)
            .env("PONTE_CONFIG", &config)
            .spawn()
            .expect("ponte serve starts")
    };
    let mut child = start();
    wait_ready(port).await;
    let node = Node {
        port,
        http: reqwest::Client::new(),
    };
    node.ok(
        "PUT",
        "/api/admin/bridges/desk",
        ADMIN,
        Some(json!({
            "kind": "webhook",
            "endpoint": desk.url,
            "outbound_secrets": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
            "inbound_secrets": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
            "routes": {"groups": ["service-desk"]},
            "accept_deadline_secs": 3,
            "allow_private": true,
        })),
    )
    .await;

    // Five conversations handed off, each followed by acknowledged messages.
    let mut acknowledged: HashMap<String, Vec<i64>> = HashMap::new();
    let mut tokens = HashMap::new();
    for n in 0..5 {
        let (token, id) = node.handed_off(&format!("req{n}")).await;
        for line in 0..8 {
            let posted = node
                .ok(
                    "POST",
                    &format!("/api/conversations/{id}/messages"),
                    &token,
                    Some(json!({"text": format!("line {line}")})),
                )
                .await;
            acknowledged
                .entry(id.clone())
                .or_default()
                .push(posted["messages"][0]["seq"].as_i64().unwrap());
        }
        tokens.insert(id, token);
    }
    // Killed with deliveries in flight and most events still queued.
    let delivered_before = desk.delivered().len();
    child.kill().unwrap();
    child.wait().unwrap();
    let expected_events = acknowledged
        .values()
        .map(|seqs| seqs.len() + 1)
        .sum::<usize>();
    assert!(
        delivered_before < expected_events,
        "the kill came too late to test anything ({delivered_before} of {expected_events} delivered)"
    );
    // The accept deadlines (3 s) fall while the process is dead.
    tokio::time::sleep(Duration::from_secs(4)).await;

    let mut child = start();
    wait_ready(port).await;
    let started = Instant::now();
    loop {
        let delivered: HashSet<String> = desk.delivered().into_iter().map(|got| got.id).collect();
        if delivered.len() >= expected_events {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "only {} of {expected_events} events delivered",
            delivered.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Every acknowledged message left once as message.created, under one id, in order.
    let delivered = desk.delivered();
    let mut by_content: HashMap<(String, String, i64), HashSet<String>> = HashMap::new();
    for got in &delivered {
        let data = &got.value["data"];
        by_content
            .entry((
                data["conversation_id"].as_str().unwrap().to_string(),
                got.value["type"].as_str().unwrap().to_string(),
                data["seq"].as_i64().unwrap(),
            ))
            .or_default()
            .insert(got.id.clone());
    }
    for (key, ids) in &by_content {
        assert_eq!(ids.len(), 1, "{key:?} was sent under several ids: {ids:?}");
    }
    for (id, seqs) in &acknowledged {
        for seq in seqs {
            assert!(
                by_content.contains_key(&(id.clone(), "message.created".into(), *seq)),
                "message {seq} of {id} never reached the desk"
            );
        }
        assert!(
            by_content
                .keys()
                .any(|(c, kind, _)| c == id && kind == "handoff.requested")
        );
        let lane: Vec<i64> = delivered
            .iter()
            .filter(|got| got.value["data"]["conversation_id"] == id.as_str())
            .map(|got| got.value["data"]["seq"].as_i64().unwrap())
            .collect();
        assert!(
            lane.windows(2).all(|pair| pair[0] <= pair[1]),
            "lane {id} out of order: {lane:?}"
        );
    }

    // Nobody accepted: each deadline fell while the process was dead and fired once after.
    for (id, token) in &tokens {
        let started = Instant::now();
        loop {
            let view = node
                .ok("GET", &format!("/api/conversations/{id}"), token, None)
                .await;
            if view["status"] == "queued" {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{id} did not fall back: {view}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    for (id, token) in &tokens {
        let messages = node
            .ok(
                "GET",
                &format!("/api/conversations/{id}/messages?after=0"),
                token,
                None,
            )
            .await;
        let told = messages["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| {
                m["body"]
                    .as_str()
                    .unwrap()
                    .starts_with("We couldn't reach the external support team")
            })
            .count();
        assert_eq!(told, 1, "{id}: the fallback was announced {told} times");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
