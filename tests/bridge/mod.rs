//! The bridge's wire against real HTTP peers on loopback: the webhook transport's deliveries
//! and how it classifies what a receiver does ([`transport`]), and the Standard Webhooks
//! reference implementation (Python `standardwebhooks`) checking our signatures both ways
//! ([`standardwebhooks`]). [`Receiver`] is the loopback receiver both use. The hand-off end
//! to end against a scriptable loopback desk ([`handoff`]), and files both ways with a
//! loopback file host ([`files`]); the Matrix application service against a real Synapse
//! ([`matrix`]).

mod files;
mod handoff;
mod matrix;
mod matrix_ponte;
mod restart;
mod standardwebhooks;
mod transport;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use ponte::bridge::signature::Secret;
use ponte::bridge::{BridgeConfig, BridgeKind, OutboundType, OutgoingEvent, Routes};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// One request as the receiver got it.
#[derive(Debug, Clone)]
pub struct Captured {
    pub method: String,
    /// Path and query.
    pub uri: String,
    /// Lower-case names; the last value of a repeated header.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    /// The client's address and port: one per TCP connection.
    pub peer: SocketAddr,
}

type Respond = fn(&str) -> Response;

#[derive(Clone)]
struct ReceiverState {
    captured: Arc<Mutex<Vec<Captured>>>,
    respond: Respond,
}

/// A real HTTP server on 127.0.0.1 that records every request and answers with what
/// `respond` makes of its path. Stops when dropped.
pub struct Receiver {
    pub addr: SocketAddr,
    captured: Arc<Mutex<Vec<Captured>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start(respond: Respond) -> Receiver {
        let captured = Arc::new(Mutex::new(Vec::new()));
        let state = ReceiverState {
            captured: captured.clone(),
            respond,
        };
        let app = axum::Router::new().fallback(record).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        Receiver {
            addr,
            captured,
            task,
        }
    }

    /// `http://127.0.0.1:port{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.captured.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record(
    State(state): State<ReceiverState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                value.to_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let path = parts.uri.path().to_string();
    state.captured.lock().unwrap().push(Captured {
        method: parts.method.to_string(),
        uri: parts.uri.to_string(),
        headers,
        body: body.to_vec(),
        peer,
    });
    (state.respond)(&path)
}

/// A response of `status` with the given headers and an empty body.
pub fn answer(status: u16, headers: &[(&str, &str)]) -> Response {
    let mut response = Response::builder().status(status);
    for (name, value) in headers {
        response = response.header(*name, *value);
    }
    response.body(Body::empty()).unwrap()
}

/// A webhook bridge to `endpoint` signing with `secrets`.
pub fn bridge(endpoint: &str, secrets: Vec<Secret>, allow_private: bool) -> BridgeConfig {
    BridgeConfig {
        id: "desk".into(),
        kind: BridgeKind::Webhook,
        endpoint: endpoint.into(),
        outbound_secrets: secrets,
        inbound_secrets: vec![Secret::generate()],
        routes: Routes::default(),
        accept_deadline_secs: 120,
        allow_private,
        attachment_hosts: Vec::new(),
        matrix: None,
    }
}

/// A `message.created` event with a real outbound body.
pub fn event(id: &str) -> OutgoingEvent {
    let body = ponte::bridge::wire::outbound_body(
        OutboundType::MessageCreated,
        1_765_000_000_000,
        3,
        "conv_1",
        &serde_json::json!({"text": "Mon écran reste noir", "author": "requester"}),
    );
    OutgoingEvent {
        id: id.into(),
        event_type: OutboundType::MessageCreated,
        conversation_id: "conv_1".into(),
        seq: 3,
        body,
    }
}

/// Unix seconds now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
