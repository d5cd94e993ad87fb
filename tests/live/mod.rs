//! Live delivery against a real server on port 0 over a SQLite file: a WebSocket sees the
//! messages posted over REST in order; a client that reconnects with the last `seq` it saw
//! gets exactly what it missed, no gap and no duplicate, also after the server restarted on
//! the same file; the SSE fallback carries the same ids; another requester is refused; with
//! two nodes over one file and NATS between them (`PONTE_TEST_NATS_URL`), a message posted
//! through one reaches a WebSocket on the other, once and in order. `dependencies`: nodes
//! losing NATS (a private `nats-server`) and refusing to start without NATS or PostgreSQL.

mod dependencies;

use crate::assistant::{shared, sqlite};
use crate::common::TestApp;
use futures_util::StreamExt;
use ponte::auth::Role;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};

const ANA: &str = "ana-live-token";
const BRUNO: &str = "bruno-live-token";
const WAIT: Duration = Duration::from_secs(10);

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// A server on 127.0.0.1:0 over `dir`'s SQLite file, with two requester tokens.
struct Server {
    address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(dir: &Path) -> Server {
        Server::start_node(dir, None).await
    }

    /// One node of several over the same SQLite file, live events crossing over NATS.
    async fn start_node(dir: &Path, nats: Option<(&str, &str)>) -> Server {
        let mut builder = TestApp::builder(shared().knowledge.clone())
            .matcher(shared().matcher.clone())
            .data_dir(dir)
            .store(sqlite(dir).await)
            .without_desk();
        if let Some((url, prefix)) = nats {
            builder = builder.nats(url, prefix);
        }
        let app = builder.build().await;
        for (token, subject) in [(ANA, "ana"), (BRUNO, "bruno")] {
            app.register(token, Role::Requester, subject, &[]);
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.serve(listener, async move {
            let _ = stopped.await;
        }));
        Server {
            address,
            stop: Some(stop),
            task,
        }
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("the server did not stop")
            .unwrap()
            .unwrap();
    }

    /// One HTTP/1.1 request (`Connection: close`); the status and the raw body.
    async fn raw(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, String) {
        let mut stream = TcpStream::connect(self.address).await.unwrap();
        let body = body.map(|value| value.to_string()).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {token}\r\n\
             content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            self.address,
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        tokio::time::timeout(WAIT, stream.read_to_end(&mut response))
            .await
            .unwrap()
            .unwrap();
        let response = String::from_utf8(response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, body.to_string())
    }

    async fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
        let (status, body) = self.raw(method, path, token, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {body}"
        );
        serde_json::from_str(&body).unwrap()
    }

    /// Opens a conversation for Ana; its id.
    async fn open(&self) -> String {
        let opened = self
            .call(
                "POST",
                "/api/conversations",
                ANA,
                Some(json!({"language": "pt-BR"})),
            )
            .await;
        opened["conversation"]["id"].as_str().unwrap().to_string()
    }

    async fn say(&self, id: &str, text: &str) {
        self.call(
            "POST",
            &format!("/api/conversations/{id}/messages"),
            ANA,
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// Every stored seq of the conversation, from REST.
    async fn stored(&self, id: &str) -> Vec<i64> {
        let page = self
            .call(
                "GET",
                &format!("/api/conversations/{id}/messages?limit=1000"),
                ANA,
                None,
            )
            .await;
        page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|message| message["seq"].as_i64().unwrap())
            .collect()
    }

    /// A WebSocket on `/live?after=N`, the token in the header.
    async fn connect(&self, id: &str, after: i64) -> Socket {
        let mut request = format!(
            "ws://{}/api/conversations/{id}/live?after={after}",
            self.address
        )
        .into_client_request()
        .unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {ANA}").parse().unwrap());
        let (socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        socket
    }
}

/// The next message frame's seq (pings skipped); `None` when nothing comes within `wait`.
async fn next_seq(socket: &mut Socket, wait: Duration) -> Option<i64> {
    loop {
        let frame = tokio::time::timeout(wait, socket.next()).await.ok()?;
        match frame.expect("the socket closed").unwrap() {
            WsMessage::Text(text) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(value["type"], "message", "{value}");
                let message = &value["message"];
                for field in ["sender_kind", "body", "created_at"] {
                    assert!(!message[field].is_null(), "{field} missing: {value}");
                }
                return Some(message["seq"].as_i64().unwrap());
            }
            WsMessage::Ping(_) | WsMessage::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// Reads frames up to and including `last`; asserts they are exactly `from..=last`, then that
/// nothing more (a duplicate) follows.
async fn expect_exactly(socket: &mut Socket, from: i64, last: i64) {
    let mut seen = Vec::new();
    while seen.last() != Some(&last) {
        match next_seq(socket, WAIT).await {
            Some(seq) => seen.push(seq),
            None => panic!("waited for {from}..={last}, got {seen:?}"),
        }
    }
    assert_eq!(seen, (from..=last).collect::<Vec<_>>());
    assert_eq!(next_seq(socket, Duration::from_millis(300)).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_posted_through_one_node_reaches_a_websocket_on_another_once_and_in_order() {
    let Ok(url) = std::env::var("PONTE_TEST_NATS_URL") else {
        println!("skipped: PONTE_TEST_NATS_URL is not set");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let prefix = crate::common::nats_prefix();
    let a = Server::start_node(dir.path(), Some((&url, &prefix))).await;
    let b = Server::start_node(dir.path(), Some((&url, &prefix))).await;
    let id = a.open().await;
    let greeting = *a.stored(&id).await.last().unwrap();
    // Watching through node B; writing through node A.
    let mut socket = b.connect(&id, greeting).await;
    // The feed on B is in place once it answers; then A writes.
    tokio::time::sleep(Duration::from_millis(200)).await;
    a.say(&id, "esqueci minha senha").await;
    let after_first = *a.stored(&id).await.last().unwrap();
    assert!(after_first > greeting);
    expect_exactly(&mut socket, greeting + 1, after_first).await;
    a.say(&id, "obrigado").await;
    let last = *a.stored(&id).await.last().unwrap();
    assert!(last > after_first);
    expect_exactly(&mut socket, after_first + 1, last).await;
    socket.close(None).await.unwrap();
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_resumes_after_the_last_seq_without_gap_or_duplicate_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let id = server.open().await;
    let greeting = *server.stored(&id).await.last().unwrap();
    assert!(greeting >= 1);

    // From the start: the stored greeting, then what is posted while connected, in order.
    let mut socket = server.connect(&id, 0).await;
    expect_exactly(&mut socket, 1, greeting).await;
    server.say(&id, "esqueci minha senha").await;
    let seen = *server.stored(&id).await.last().unwrap();
    assert!(seen > greeting);
    expect_exactly(&mut socket, greeting + 1, seen).await;

    // Disconnected: what is posted meanwhile comes on reconnecting after the last seen.
    socket.close(None).await.unwrap();
    drop(socket);
    server.say(&id, "obrigado").await;
    server.say(&id, "oi").await;
    let missed = *server.stored(&id).await.last().unwrap();
    assert!(missed > seen);
    let mut socket = server.connect(&id, seen).await;
    expect_exactly(&mut socket, seen + 1, missed).await;
    socket.close(None).await.unwrap();
    drop(socket);

    // Missed again, then the server restarts on the same file.
    server.say(&id, "esqueci minha senha").await;
    let before_restart = *server.stored(&id).await.last().unwrap();
    assert!(before_restart > missed);
    server.stop().await;
    let server = Server::start(dir.path()).await;
    let mut socket = server.connect(&id, missed).await;
    expect_exactly(&mut socket, missed + 1, before_restart).await;
    // And live again on the new server.
    server.say(&id, "obrigado").await;
    let stored = server.stored(&id).await;
    assert_eq!(stored, (1..=stored.len() as i64).collect::<Vec<_>>());
    let last = *stored.last().unwrap();
    assert!(last > before_restart);
    expect_exactly(&mut socket, before_restart + 1, last).await;

    // Stopping the server ends the socket instead of waiting for it.
    server.stop().await;
    let end = tokio::time::timeout(WAIT, socket.next()).await.unwrap();
    assert!(
        matches!(end, None | Some(Ok(WsMessage::Close(_))) | Some(Err(_))),
        "{end:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_may_come_in_the_query_and_another_requester_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let id = server.open().await;
    let greeting = *server.stored(&id).await.last().unwrap();

    let url = |token: &str| {
        format!(
            "ws://{}/api/conversations/{id}/live?after=0&token={token}",
            server.address
        )
    };
    let (mut socket, _) = tokio_tungstenite::connect_async(url(ANA)).await.unwrap();
    expect_exactly(&mut socket, 1, greeting).await;

    for (token, status) in [(BRUNO, 403), ("not-a-token", 401)] {
        match tokio_tungstenite::connect_async(url(token)).await {
            Err(tungstenite::Error::Http(response)) => {
                assert_eq!(response.status().as_u16(), status)
            }
            other => panic!("{token}: {other:?}"),
        }
    }
    // Header tokens too, and the SSE route.
    let mut request = format!("ws://{}/api/conversations/{id}/live", server.address)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {BRUNO}").parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status().as_u16(), 403),
        other => panic!("{other:?}"),
    }
    let (status, body) = server
        .raw(
            "GET",
            &format!("/api/conversations/{id}/events"),
            BRUNO,
            None,
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("\"forbidden\""), "{body}");
    server.stop().await;
}

/// Reads SSE events from a raw HTTP stream until `last`; their `id:` lines.
async fn sse_ids(stream: &mut TcpStream, buffer: &mut String, last: i64) -> Vec<i64> {
    let mut ids = Vec::new();
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            if event.contains("event: message") {
                let id: i64 = event
                    .lines()
                    .find_map(|line| line.strip_prefix("id: "))
                    .unwrap()
                    .parse()
                    .unwrap();
                let data = event
                    .lines()
                    .find_map(|line| line.strip_prefix("data: "))
                    .unwrap();
                let value: Value = serde_json::from_str(data).unwrap();
                assert_eq!(value["message"]["seq"], id, "{event}");
                ids.push(id);
                if id == last {
                    return ids;
                }
            }
        }
        let mut chunk = [0u8; 4096];
        let read = tokio::time::timeout(WAIT, stream.read(&mut chunk))
            .await
            .unwrap_or_else(|_| panic!("waited for {last}, got {ids:?}"))
            .unwrap();
        assert!(read > 0, "the stream ended; got {ids:?}");
        buffer.push_str(&String::from_utf8_lossy(&chunk[..read]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_sent_events_carry_each_seq_once_and_honour_last_event_id() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let id = server.open().await;
    server.say(&id, "esqueci minha senha").await;
    let first = *server.stored(&id).await.last().unwrap();

    let mut stream = TcpStream::connect(server.address).await.unwrap();
    // `after=1` in the query; the Last-Event-ID header wins.
    let request = format!(
        "GET /api/conversations/{id}/events?after=1 HTTP/1.1\r\nhost: x\r\n\
         authorization: Bearer {ANA}\r\nlast-event-id: 2\r\naccept: text/event-stream\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buffer = String::new();
    let ids = sse_ids(&mut stream, &mut buffer, first).await;
    assert!(buffer.is_empty() || !buffer.contains("event: message"));
    assert_eq!(ids, (3..=first).collect::<Vec<_>>());
    let head = ids.first().copied();
    assert_eq!(head, Some(3));

    // Live: what is posted next, once each.
    server.say(&id, "obrigado").await;
    let last = *server.stored(&id).await.last().unwrap();
    assert!(last > first);
    let ids = sse_ids(&mut stream, &mut buffer, last).await;
    assert_eq!(ids, (first + 1..=last).collect::<Vec<_>>());
    drop(stream);
    server.stop().await;
}
