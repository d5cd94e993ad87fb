//! Nodes and their dependencies, with a private `nats-server -js` that the tests stop and
//! start again (skipped, saying so, where no `nats-server` is installed):
//! - what a node publishes while NATS is away reaches the other node once it is back, in
//!   order and once (JetStream, a retry queue and message ids);
//! - while NATS is away `/health` says so with 503 and API writes answer 503
//!   `nats_unavailable`; both clear on their own when it is back, and writes cross again;
//! - `serve` refuses to start, naming which, when the configured NATS or PostgreSQL does not
//!   answer.

use super::{ANA, Server, WAIT, expect_exactly};
use ponte::live::nats::NatsBus;
use ponte::live::{Delivery, EventBus, FeedEvent, StaffEvent};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// A `nats-server` with JetStream on a free port and its own store directory, which outlives
/// a stop (as a server's disk does).
struct PrivateNats {
    binary: PathBuf,
    port: u16,
    store: tempfile::TempDir,
    child: Option<Child>,
}

impl PrivateNats {
    /// `None` when `nats-server` is not on the `PATH`.
    async fn start() -> Option<PrivateNats> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let binary = std::env::split_paths(&path)
            .map(|dir| dir.join("nats-server"))
            .find(|candidate| candidate.is_file())?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut nats = PrivateNats {
            binary,
            port,
            store: tempfile::tempdir().unwrap(),
            child: None,
        };
        nats.resume().await;
        Some(nats)
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Stops the server (SIGTERM, as a restart does): clients see the connection drop.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = std::time::Instant::now() + WAIT;
            while child.try_wait().ok().flatten().is_none() {
                if std::time::Instant::now() > deadline {
                    let _ = child.kill();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Starts it again on the same port and store; returns once it takes connections.
    async fn resume(&mut self) {
        let child = Command::new(&self.binary)
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(self.store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "nats-server did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A bus on `nats`, retried while the fresh server readies JetStream.
async fn bus(nats: &PrivateNats, prefix: &str) -> Arc<NatsBus> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match NatsBus::connect(&nats.url(), prefix).await {
            Ok(bus) => return bus,
            Err(error) if tokio::time::Instant::now() < deadline => {
                println!("retrying: {error}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(error) => panic!("{error}"),
        }
    }
}

/// Waits until `condition` holds, polling.
async fn until(what: &str, mut condition: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !condition().await {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn unread(id: &str) -> StaffEvent {
    StaffEvent::Unread {
        conversation_id: id.to_string(),
    }
}

async fn next_staff(
    receiver: &mut broadcast::Receiver<Arc<ponte::live::StaffNotice>>,
) -> StaffEvent {
    let notice = tokio::time::timeout(WAIT, receiver.recv())
        .await
        .expect("a staff event in time")
        .unwrap();
    notice.event.clone()
}

fn message(seq: i64) -> ponte::store::Message {
    ponte::store::Message {
        conversation_id: "c-outage".to_string(),
        seq,
        sender_kind: ponte::store::SenderKind::Requester,
        sender_id: None,
        body: format!("message {seq}"),
        payload: None,
        client_message_id: None,
        created_at: seq,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_published_while_nats_is_away_reach_the_other_node_once_it_is_back() {
    let Some(mut nats) = PrivateNats::start().await else {
        println!("skipped: no nats-server on the PATH");
        return;
    };
    let a = bus(&nats, "outage").await;
    let b = bus(&nats, "outage").await;
    let mut staff = b.subscribe_staff();
    let mut conversation = b.subscribe("c-outage");

    a.publish_staff(unread("before"));
    assert_eq!(next_staff(&mut staff).await, unread("before"));

    nats.stop();
    until("A sees NATS gone", async || !a.link().unwrap().connected).await;
    for index in 0..5 {
        a.publish_staff(unread(&format!("during-{index}")));
        a.publish_message(&message(index + 1));
        a.publish(
            "c-outage",
            FeedEvent::QueuePosition {
                position: 5 - index as usize,
                eta_ms: None,
            },
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(staff.is_empty(), "nothing can cross while NATS is away");
    assert!(a.link().unwrap().backlog >= 15, "{:?}", a.link());

    nats.resume().await;
    for index in 0..5 {
        assert_eq!(
            next_staff(&mut staff).await,
            unread(&format!("during-{index}"))
        );
    }
    let mut seqs = Vec::new();
    let mut positions = Vec::new();
    while seqs.len() < 5 || positions.len() < 5 {
        let delivery = tokio::time::timeout(WAIT, conversation.recv())
            .await
            .unwrap_or_else(|_| panic!("got {seqs:?} and {positions:?}"))
            .unwrap();
        match delivery {
            Delivery::Message(message) => seqs.push(message.seq),
            Delivery::Signal(signal) => match &*signal {
                FeedEvent::QueuePosition { position, .. } => positions.push(*position),
                other => panic!("{other:?}"),
            },
        }
    }
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    assert_eq!(positions, [5, 4, 3, 2, 1]);
    until("A's backlog drains", async || {
        a.link().unwrap().backlog == 0
    })
    .await;
    // Once each: no copy follows.
    a.publish_staff(unread("after"));
    assert_eq!(next_staff(&mut staff).await, unread("after"));
    assert!(staff.is_empty());
    assert!(conversation.is_empty());
}

/// `GET /health` on a node: its status and body.
async fn health(server: &Server) -> (u16, Value) {
    let (status, body) = server.raw("GET", "/health", ANA, None).await;
    (status, serde_json::from_str(&body).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_nats_health_says_so_and_writes_answer_503_until_it_is_back() {
    let Some(mut nats) = PrivateNats::start().await else {
        println!("skipped: no nats-server on the PATH");
        return;
    };
    // Wait for JetStream before the nodes start (they refuse to start without it).
    drop(bus(&nats, "ponte").await);
    let dir = tempfile::tempdir().unwrap();
    let url = nats.url();
    let a = Server::start_node(dir.path(), Some((url.as_str(), "ponte"))).await;
    let b = Server::start_node(dir.path(), Some((url.as_str(), "ponte"))).await;
    let (status, body) = health(&a).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["store"]["status"], "ok");
    assert_eq!(body["nats"]["status"], "ok");
    assert!(body["index"]["generation"].is_string(), "{body}");
    let id = a.open().await;

    nats.stop();
    until("health reports NATS unavailable", async || {
        health(&a).await.0 == 503
    })
    .await;
    let (_, body) = health(&a).await;
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["nats"]["status"], "unavailable", "{body}");
    assert_eq!(body["store"]["status"], "ok", "{body}");
    let path = format!("/api/conversations/{id}/messages");
    let (status, body) = a
        .raw(
            "POST",
            &path,
            ANA,
            Some(json!({ "text": "oi", "client_message_id": "m1" })),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["code"], "nats_unavailable", "{body}");
    // Reads go on.
    let stored = a.stored(&id).await;

    nats.resume().await;
    until("health is ok again", async || health(&a).await.0 == 200).await;
    until("node B is back too", async || health(&b).await.0 == 200).await;
    let mut socket = b.connect(&id, *stored.last().unwrap()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The client retries with the same id: stored once, and it crosses to B.
    let (status, body) = a
        .raw(
            "POST",
            &path,
            ANA,
            Some(json!({ "text": "oi", "client_message_id": "m1" })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let after = a.stored(&id).await;
    assert!(after.len() > stored.len());
    expect_exactly(&mut socket, stored.len() as i64 + 1, *after.last().unwrap()).await;
    socket.close(None).await.unwrap();
    a.stop().await;
    b.stop().await;
}

/// `ponte serve` with `variable` set to `url`: its exit status and stderr.
fn serve_with(variable: &str, url: &str) -> (std::process::ExitStatus, String) {
    let cwd = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let output = crate::common::ponte(cwd.path())
        .arg("serve")
        .env("PONTE_LISTEN", "127.0.0.1:0")
        .env(variable, url)
        .output()
        .expect("running ponte serve");
    println!("{variable}: refused after {:?}", started.elapsed());
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The one line `ponte` prints for the error it exits with.
fn error_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("error:"))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    lines[0]
}

#[test]
fn serve_refuses_to_start_naming_the_configured_dependency_that_does_not_answer() {
    // Nothing listens on a port just freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (status, stderr) = serve_with("PONTE_NATS_URL", &format!("nats://127.0.0.1:{port}"));
    assert!(!status.success(), "{stderr}");
    assert!(
        error_line(&stderr).contains("NATS is unreachable at nats://127.0.0.1:"),
        "{stderr}"
    );

    let (status, stderr) = serve_with(
        "PONTE_DATABASE_URL",
        &format!("postgres://ponte:s3cret@127.0.0.1:{port}/ponte"),
    );
    assert!(!status.success(), "{stderr}");
    let line = error_line(&stderr);
    assert!(
        line.contains("the database at postgres://ponte:***@127.0.0.1:")
            && line.contains("is unreachable"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");
}

/// One event at a time from A to B, each awaited: all arrive, in order, once. Prints the
/// median and the slowest crossing (a measurement, not asserted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_cross_one_by_one_in_order_and_the_crossing_time_is_reported() {
    let Some(nats) = PrivateNats::start().await else {
        println!("skipped: no nats-server on the PATH");
        return;
    };
    let a = bus(&nats, "latency").await;
    let b = bus(&nats, "latency").await;
    let mut staff = b.subscribe_staff();
    let mut times = Vec::new();
    for index in 0..200 {
        let started = std::time::Instant::now();
        a.publish_staff(unread(&format!("c{index}")));
        assert_eq!(next_staff(&mut staff).await, unread(&format!("c{index}")));
        times.push(started.elapsed());
    }
    assert!(staff.is_empty());
    times.sort();
    println!(
        "cross-node delivery over JetStream: median {:?}, p99 {:?}, max {:?}",
        times[times.len() / 2],
        times[times.len() * 99 / 100],
        times[times.len() - 1]
    );
}

/// A burst published at once crosses whole and in order, gathered into a few NATS messages
/// (one publish, one ack and one delivery per batch instead of per event).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_crosses_in_order_as_a_few_batches() {
    let Some(nats) = PrivateNats::start().await else {
        println!("skipped: no nats-server on the PATH");
        return;
    };
    let a = bus(&nats, "burst").await;
    let b = bus(&nats, "burst").await;
    let mut staff = b.subscribe_staff();
    const EVENTS: usize = 1000;
    for index in 0..EVENTS {
        a.publish_staff(unread(&format!("c{index}")));
    }
    for index in 0..EVENTS {
        assert_eq!(next_staff(&mut staff).await, unread(&format!("c{index}")));
    }
    until("A's backlog drains", async || {
        a.link().unwrap().backlog == 0
    })
    .await;
    assert!(staff.is_empty(), "once each");
    let client = async_nats::connect(nats.url()).await.unwrap();
    let mut stream = async_nats::jetstream::new(client)
        .get_stream("BURST_LIVE")
        .await
        .unwrap();
    let stored = stream.info().await.unwrap().state.messages;
    assert!(
        (1..=(EVENTS / 10) as u64).contains(&stored),
        "{EVENTS} events took {stored} NATS messages"
    );
    println!("{EVENTS} events crossed in {stored} NATS messages");
}
