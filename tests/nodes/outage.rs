//! A node that loses PostgreSQL or NATS for ten seconds: `/health` names what is missing,
//! writes answer 503 with a stable code (never an in-memory stand-in), every message it had
//! acknowledged is still stored exactly once, and it recovers on its own when the server is
//! reachable again, without a restart.

use super::{Cluster, Node, eventually, expect_body, live};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;

/// The health of `node`: (HTTP status, body).
async fn health(node: &Node) -> (u16, Value) {
    node.call("GET", "/health", "", None).await
}

/// Waits until `node`'s health reports `dependency` with `status`, and the HTTP status
/// matches (503 while anything is unavailable).
async fn wait_health(node: &Node, dependency: &str, status: &str, within: Duration) {
    let what = format!("{} reports {dependency} {status}", node.name);
    eventually(within, &what, || async {
        let (code, body) = health(node).await;
        let expected_code = if status == "ok" { 200 } else { 503 };
        (code == expected_code && body[dependency]["status"] == status).then_some(())
    })
    .await;
}

/// Posts until one answer is a 503 with `code`; panics with the last answer after 15 s.
async fn wait_refused(node: &Node, token: &str, id: &str, code: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let mut n = 0;
    loop {
        n += 1;
        let answer = node
            .call(
                "POST",
                &format!("/api/conversations/{id}/messages"),
                token,
                Some(json!({ "text": "are you there?", "client_message_id": format!("probe-{code}-{n}") })),
            )
            .await;
        if answer.0 == 503 && answer.1["code"] == code {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} did not refuse writes with {code} within 15 s; last answer {answer:?}",
            node.name
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_loses_postgres_or_nats_says_so_refuses_writes_and_recovers() {
    let Some(cluster) = Cluster::new().await else {
        return;
    };
    let a = cluster.node("A").await;
    let b = cluster.node("B").await;
    let (token, id) = a.conversation("patient").await;

    // A requester keeps posting through A, retrying a refused post with the same client id.
    let acknowledged: Arc<Mutex<Vec<(String, i64)>>> = Arc::default();
    let running = Arc::new(AtomicBool::new(true));
    let poster = {
        let (acknowledged, running) = (acknowledged.clone(), running.clone());
        let (port, token, id) = (a.port, token.clone(), id.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while running.load(Ordering::SeqCst) {
                let client_id = format!("steady-{n}");
                let body = json!({ "text": format!("steady {n}"), "client_message_id": client_id });
                let path = format!("/api/conversations/{id}/messages");
                match crate::durability::http(port, "POST", &path, &token, Some(body)).await {
                    Some((200, answer)) => {
                        let seq = answer["messages"][0]["seq"].as_i64().unwrap();
                        acknowledged.lock().await.push((client_id, seq));
                        n += 1;
                    }
                    _ => tokio::time::sleep(Duration::from_millis(200)).await,
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;

    // PostgreSQL out of reach for ten seconds.
    a.postgres.cut().await;
    wait_health(&a, "store", "unavailable", Duration::from_secs(15)).await;
    wait_refused(&a, &token, &id, "store_unavailable").await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    a.postgres.restore();
    wait_health(&a, "store", "ok", Duration::from_secs(30)).await;

    // NATS out of reach for ten seconds.
    a.nats.cut().await;
    wait_health(&a, "nats", "unavailable", Duration::from_secs(15)).await;
    wait_refused(&a, &token, &id, "nats_unavailable").await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    a.nats.restore();
    wait_health(&a, "nats", "ok", Duration::from_secs(30)).await;

    // Recovered: a post through A is stored and reaches a reader on B live.
    running.store(false, Ordering::SeqCst);
    poster.await.unwrap();
    let before = b.messages(&token, &id).await.last().map_or(0, |m| m.0);
    let mut socket = live(&b, &id, &token, before).await;
    let answer = eventually(Duration::from_secs(15), "A takes posts again", || async {
        let (status, answer) = a
            .call(
                "POST",
                &format!("/api/conversations/{id}/messages"),
                &token,
                Some(json!({ "text": "back again", "client_message_id": "back-again" })),
            )
            .await;
        (status == 200).then_some(answer)
    })
    .await;
    let seq = answer["messages"][0]["seq"].as_i64().unwrap();
    assert!(seq > before);
    assert_eq!(expect_body(&mut socket, before, "back again").await, seq);

    // Nothing acknowledged was lost or doubled.
    let acknowledged = acknowledged.lock().await.clone();
    assert!(!acknowledged.is_empty());
    let stored = b.messages(&token, &id).await;
    let seqs: Vec<i64> = stored.iter().map(|m| m.0).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    let by_client: HashMap<&str, Vec<i64>> =
        stored
            .iter()
            .fold(HashMap::new(), |mut map, (seq, client, _)| {
                map.entry(client.as_str()).or_default().push(*seq);
                map
            });
    for (client_id, seq) in &acknowledged {
        assert_eq!(by_client.get(client_id.as_str()), Some(&vec![*seq]));
    }
}
