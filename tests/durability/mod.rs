//! Durability against a real process: `ponte serve` is killed with SIGKILL while requesters
//! post, restarted on the same data directory, and every message whose post was
//! acknowledged must be stored exactly once, in the order it was acknowledged, with gap-free
//! sequence numbers.

mod half_processed;

use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;

const ADMIN: &str = "durability-admin-token";

/// Per conversation, the client ids whose posts were acknowledged, with their seq, in order.
type Acknowledged = HashMap<String, Vec<(String, i64)>>;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `ponte serve` on `data_dir` and `port` with the bundled knowledge and intents, `admin` as
/// the admin token, quiet; callers add their own settings before spawning.
pub fn serve_command(data_dir: &Path, port: u16, admin: &str) -> Command {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_ponte"));
    command
        .arg("serve")
        .env("PONTE_DATA_DIR", data_dir)
        .env("PONTE_KNOWLEDGE_DIR", repo.join("knowledge-index"))
        .env("PONTE_INTENTS_DIR", repo.join("intents"))
        .env("PONTE_LISTEN", format!("127.0.0.1:{port}"))
        .env("PONTE_ADMIN_TOKEN", admin)
        .env("PONTE_LOG", "warn")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

fn start(data_dir: &Path, port: u16) -> Child {
    serve_command(data_dir, port, ADMIN)
        .spawn()
        .expect("ponte serve starts")
}

/// One HTTP/1.1 request on its own connection; `None` when the server is unreachable or
/// the connection broke before a full answer (as when it is killed).
pub async fn http(
    port: u16,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Option<(u16, Value)> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    let text = String::from_utf8(response).ok()?;
    let (head, payload) = text.split_once("\r\n\r\n")?;
    let status: u16 = head.split(' ').nth(1)?.parse().ok()?;
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())
                .flatten()
        })
        .unwrap_or(payload.len());
    if payload.len() < length {
        return None;
    }
    let json = serde_json::from_str(&payload[..length]).unwrap_or(Value::Null);
    Some((status, json))
}

pub async fn wait_ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some((200, _)) = http(port, "GET", "/health", "", None).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("ponte serve did not become ready on port {port}");
}

async fn requester_token(port: u16, subject: &str) -> String {
    let (status, body) = http(
        port,
        "POST",
        "/api/admin/tokens",
        ADMIN,
        Some(json!({ "role": "requester", "subject": subject })),
    )
    .await
    .expect("token issued");
    assert_eq!(status, 201, "{body}");
    body["token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_message_survives_sigkill_once_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = start(dir.path(), port);
    wait_ready(port).await;

    const CONVERSATIONS: usize = 6;
    let mut conversations = Vec::new();
    for index in 0..CONVERSATIONS {
        let token = requester_token(port, &format!("requester-{index}")).await;
        let (status, body) = http(
            port,
            "POST",
            "/api/conversations",
            &token,
            Some(json!({ "language": "en" })),
        )
        .await
        .unwrap();
        assert_eq!(status, 201, "{body}");
        conversations.push((
            body["conversation"]["id"].as_str().unwrap().to_string(),
            token,
        ));
    }

    // Each conversation posts in a loop; acknowledged client ids are recorded in order.
    let acknowledged: Arc<Mutex<Acknowledged>> = Arc::default();
    let mut posters = Vec::new();
    for (id, token) in conversations.clone() {
        let acknowledged = acknowledged.clone();
        posters.push(tokio::spawn(async move {
            for n in 0.. {
                let client_id = format!("{id}-{n}");
                let body = json!({ "text": format!("message number {n}"), "client_message_id": client_id });
                match http(port, "POST", &format!("/api/conversations/{id}/messages"), &token, Some(body)).await {
                    Some((200, answer)) => {
                        let seq = answer["messages"][0]["seq"].as_i64().unwrap();
                        acknowledged.lock().await.entry(id.clone()).or_default().push((client_id, seq));
                    }
                    _ => return,
                }
            }
        }));
    }
    // Let the load run, then kill the server without warning.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill().expect("SIGKILL");
    server.wait().unwrap();
    for poster in posters {
        let _ = poster.await;
    }
    let acknowledged = acknowledged.lock().await.clone();
    let total: usize = acknowledged.values().map(Vec::len).sum();
    assert!(
        total >= CONVERSATIONS,
        "the load acknowledged {total} messages before the kill"
    );
    eprintln!("{total} messages acknowledged before SIGKILL");

    let port = free_port();
    let mut server = start(dir.path(), port);
    wait_ready(port).await;
    for (index, (id, _)) in conversations.iter().enumerate() {
        let token = requester_token(port, &format!("requester-{index}")).await;
        let mut stored = Vec::new();
        let mut after = 0;
        loop {
            let (status, body) = http(
                port,
                "GET",
                &format!("/api/conversations/{id}/messages?after={after}&limit=1000"),
                &token,
                None,
            )
            .await
            .unwrap();
            assert_eq!(status, 200, "{body}");
            let page = body["messages"].as_array().unwrap().clone();
            if page.is_empty() {
                break;
            }
            after = page.last().unwrap()["seq"].as_i64().unwrap();
            stored.extend(page);
        }
        let seqs: Vec<i64> = stored.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
        let expected: Vec<i64> = (1..=seqs.len() as i64).collect();
        assert_eq!(seqs, expected, "sequence numbers have no gap");
        let client_ids: Vec<&str> = stored
            .iter()
            .filter_map(|m| m["client_message_id"].as_str())
            .collect();
        for (client_id, seq) in acknowledged.get(id).into_iter().flatten() {
            let copies = client_ids.iter().filter(|c| *c == client_id).count();
            assert_eq!(copies, 1, "acknowledged {client_id} is stored exactly once");
            let at = stored
                .iter()
                .find(|m| m["client_message_id"] == client_id.as_str())
                .unwrap();
            assert_eq!(
                at["seq"].as_i64(),
                Some(*seq),
                "{client_id} kept the seq it was acknowledged with"
            );
        }
        // Acknowledged order is stored order.
        let acknowledged_order: Vec<&str> = acknowledged
            .get(id)
            .into_iter()
            .flatten()
            .map(|(client_id, _)| client_id.as_str())
            .collect();
        let stored_order: Vec<&str> = client_ids
            .iter()
            .copied()
            .filter(|c| acknowledged_order.contains(c))
            .collect();
        assert_eq!(stored_order, acknowledged_order);
    }
    server.kill().unwrap();
    server.wait().unwrap();
}
