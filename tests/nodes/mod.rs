//! Several real `ponte serve` processes serving one desk: one PostgreSQL schema and one NATS
//! server between them, as `.ci/run` runs them (`PONTE_TEST_POSTGRES_URL` and
//! `PONTE_TEST_NATS_URL`; without either, every test here says it skipped and passes).
//! Each node reaches PostgreSQL and NATS through its own [`Relay`], a TCP relay the test can
//! cut, so that losing a dependency can be played without stopping the shared servers that
//! other tests use at the same time.

mod outage;
mod signin;
mod story;

use crate::durability::{free_port, http, serve_command, wait_ready};
use crate::store::postgres::{Schema, fresh_schema};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::AbortHandle;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub const ADMIN: &str = "nodes-admin-token";

/// A TCP relay from a local port to `target`; [`Relay::cut`] drops every connection and
/// refuses new ones until [`Relay::restore`].
pub struct Relay {
    pub port: u16,
    cut: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
}

impl Relay {
    pub async fn start(target: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let connections: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let accept = {
            let cut = cut.clone();
            let connections = connections.clone();
            tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if cut.load(Ordering::SeqCst) {
                        drop(inbound);
                        continue;
                    }
                    let relayed = tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(target).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    let mut open = connections.lock().await;
                    open.retain(|handle| !handle.is_finished());
                    open.push(relayed.abort_handle());
                }
            })
            .abort_handle()
        };
        Relay {
            port,
            cut,
            connections,
            accept,
        }
    }

    /// Drops every open connection and refuses new ones.
    pub async fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for handle in self.connections.lock().await.drain(..) {
            handle.abort();
        }
    }

    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// `host:port` of a URL such as `postgres://user@host:port/db` or `nats://host:port`.
fn authority(url: &str) -> (String, String, String) {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (user, rest) = match rest.split_once('@') {
        Some((user, rest)) => (format!("{user}@"), rest),
        None => (String::new(), rest),
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let host = rest[..end].to_string();
    (format!("{scheme}://{user}"), host, rest[end..].to_string())
}

fn resolve(host: &str) -> SocketAddr {
    use std::net::ToSocketAddrs;
    host.to_socket_addrs()
        .expect("resolve")
        .next()
        .expect("an address")
}

/// The shared servers, a fresh schema, and a relay to each per node.
pub struct Cluster {
    postgres_url: String,
    nats_url: String,
    nats_prefix: String,
    _schema: Schema,
}

impl Cluster {
    /// `None` (with the reason printed) unless both servers are named.
    pub async fn new() -> Option<Cluster> {
        let postgres = std::env::var("PONTE_TEST_POSTGRES_URL").unwrap_or_default();
        let nats = std::env::var("PONTE_TEST_NATS_URL").unwrap_or_default();
        if postgres.is_empty() || nats.is_empty() {
            println!("skipped: several nodes need PONTE_TEST_POSTGRES_URL and PONTE_TEST_NATS_URL");
            return None;
        }
        let (postgres_url, schema) = fresh_schema(&postgres).await;
        Some(Cluster {
            postgres_url,
            nats_url: nats,
            nats_prefix: crate::common::nats_prefix(),
            _schema: schema,
        })
    }

    /// Starts a node whose PostgreSQL and NATS connections go through relays of its own.
    pub async fn node(&self, name: &str) -> Node {
        let (scheme, host, tail) = authority(&self.postgres_url);
        let postgres = Relay::start(resolve(&host)).await;
        let store_url = format!("{scheme}127.0.0.1:{}{tail}", postgres.port);
        let (scheme, host, tail) = authority(&self.nats_url);
        let nats = Relay::start(resolve(&host)).await;
        let nats_url = format!("{scheme}127.0.0.1:{}{tail}", nats.port);
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
        let child = serve_command(dir.path(), port, ADMIN)
            .env("PONTE_DATABASE_URL", store_url)
            .env("PONTE_NATS_URL", nats_url)
            .env("PONTE_NATS_PREFIX", &self.nats_prefix)
            .env("PONTE_LEASE_TTL_MS", "2000")
            .env("PONTE_LOG", "warn")
            .stderr(Stdio::from(log))
            .spawn()
            .expect("ponte serve starts");
        wait_ready(port).await;
        Node {
            name: name.to_string(),
            port,
            child: Some(child),
            postgres,
            nats,
            dir,
        }
    }
}

/// One `ponte serve` process.
pub struct Node {
    pub name: String,
    pub port: u16,
    child: Option<Child>,
    pub postgres: Relay,
    pub nats: Relay,
    dir: tempfile::TempDir,
}

impl Node {
    /// One request; panics when the node does not answer.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        match http(self.port, method, path, token, body).await {
            Some(answer) => answer,
            None => panic!(
                "node {} did not answer {method} {path}; its log:\n{}",
                self.name,
                self.log()
            ),
        }
    }

    /// A request that must succeed (2xx); its body.
    pub async fn ok(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
        let (status, answer) = self.call(method, path, token, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path} on node {} answered {status}: {answer}",
            self.name
        );
        answer
    }

    /// What the node wrote on stderr.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// SIGKILL: no graceful stop, no lease released.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().unwrap();
        }
    }

    /// A token issued through this node's admin API.
    pub async fn token(&self, role: &str, subject: &str) -> String {
        let answer = self
            .ok(
                "POST",
                "/api/admin/tokens",
                ADMIN,
                Some(json!({ "role": role, "subject": subject })),
            )
            .await;
        answer["token"].as_str().unwrap().to_string()
    }

    /// Registers attendant `id` in the desk and returns a token for them.
    pub async fn attendant(&self, id: &str, name: &str) -> String {
        self.ok(
            "PUT",
            &format!("/api/desk/people/{id}"),
            ADMIN,
            Some(
                json!({ "name": name, "kind": "attendant", "groups": ["desk"],
                         "channels": ["web_chat"], "max_chats": 50 }),
            ),
        )
        .await;
        self.token("attendant", id).await
    }

    pub async fn online(&self, token: &str) {
        self.ok(
            "PUT",
            "/api/desk/presence",
            token,
            Some(json!({ "channel": "web_chat", "state": "online" })),
        )
        .await;
    }

    /// A requester's conversation, opened here; (token, id).
    pub async fn conversation(&self, subject: &str) -> (String, String) {
        let token = self.token("requester", subject).await;
        let opened = self
            .ok(
                "POST",
                "/api/conversations",
                &token,
                Some(json!({ "language": "en" })),
            )
            .await;
        let id = opened["conversation"]["id"].as_str().unwrap().to_string();
        (token, id)
    }

    /// A requester who asked for a person here: (token, conversation id).
    pub async fn queued(&self, subject: &str) -> (String, String) {
        let (token, id) = self.conversation(subject).await;
        self.ok(
            "POST",
            &format!("/api/conversations/{id}/messages"),
            &token,
            Some(json!({ "text": "tell me a joke about penguins" })),
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

    /// Every stored message of conversation `id`, read through this node: (seq, client id, body).
    pub async fn messages(&self, token: &str, id: &str) -> Vec<(i64, String, String)> {
        let mut stored = Vec::new();
        let mut after = 0;
        loop {
            let answer = self
                .ok(
                    "GET",
                    &format!("/api/conversations/{id}/messages?after={after}&limit=1000"),
                    token,
                    None,
                )
                .await;
            let page = answer["messages"].as_array().unwrap().clone();
            let Some(last) = page.last() else {
                return stored;
            };
            after = last["seq"].as_i64().unwrap();
            for message in page {
                stored.push((
                    message["seq"].as_i64().unwrap(),
                    message["client_message_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    message["body"].as_str().unwrap_or_default().to_string(),
                ));
            }
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls `check` every 100 ms until it gives `Some`, or panics after `within`.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// A WebSocket on conversation `id`'s live feed through `node`, after `after`.
pub async fn live(node: &Node, id: &str, token: &str, after: i64) -> Socket {
    let mut request = format!(
        "ws://127.0.0.1:{}/api/conversations/{id}/live?after={after}",
        node.port
    )
    .into_client_request()
    .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

/// The next message frame's (seq, body); panics when none comes within 10 s.
async fn next_message(socket: &mut Socket) -> (i64, String) {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a live frame within 10 s")
            .expect("the socket is open")
            .unwrap();
        if let WsMessage::Text(text) = frame {
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["type"] == "message" {
                let message = &value["message"];
                return (
                    message["seq"].as_i64().unwrap(),
                    message["body"].as_str().unwrap_or_default().to_string(),
                );
            }
        }
    }
}

/// Reads frames until one carries `body`; asserts the seqs it saw rise by one from `after`.
pub async fn expect_body(socket: &mut Socket, after: i64, body: &str) -> i64 {
    let mut last = after;
    loop {
        let (seq, text) = next_message(socket).await;
        assert_eq!(seq, last + 1, "a gap or a duplicate before {body:?}");
        last = seq;
        if text == body {
            return seq;
        }
    }
}
