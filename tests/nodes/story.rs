//! The story of two nodes serving one desk: a requester on node A and an attendant on node
//! B talk live both ways; two attendants on different nodes race to capture one chat and
//! exactly one wins; node A is killed under load, every acknowledged message is then stored
//! exactly once and the requester carries on through node B with no gap; a lost-chat
//! deadline that falls while A is dead fires exactly once, on B.

use super::{ADMIN, Cluster, Node, eventually, expect_body, live};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

async fn last_seq(node: &Node, token: &str, id: &str) -> i64 {
    node.messages(token, id)
        .await
        .last()
        .map_or(0, |(seq, _, _)| *seq)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_serve_one_desk_live_both_ways_and_survive_a_sigkill() {
    let Some(cluster) = Cluster::new().await else {
        return;
    };
    // A starts first, so it holds the once-only work (the lost-chat timer); B stands by.
    let mut a = cluster.node("A").await;
    let b = cluster.node("B").await;
    a.ok(
        "PUT",
        "/api/desk/config",
        ADMIN,
        Some(json!({
            "routing": { "default": "queue", "by_group": {} },
            "pause_reasons": ["break"],
            "close_reasons": ["resolved"],
        })),
    )
    .await;
    // Tokens issued through A work on B at once: they live in the shared store.
    let ana = a.attendant("ana", "Ana Souza").await;
    let bia = a.attendant("bia", "Bia Lima").await;
    b.online(&ana).await;
    a.online(&bia).await;

    // A requester asks for a person through A; B's queue shows the chat within a second or so.
    let (requester, id) = a.queued("rafa").await;
    eventually(
        Duration::from_secs(5),
        "B lists the queued chat",
        || async {
            let (status, answer) = b.call("GET", "/api/desk/chats", &ana, None).await;
            (status == 200 && answer.to_string().contains(&id)).then_some(())
        },
    )
    .await;

    // Ana (on B) and Bia (on A) capture it at the same moment: exactly one wins.
    let capture = format!("/api/desk/chats/{id}/capture");
    let (on_b, on_a) = tokio::join!(
        b.call("POST", &capture, &ana, None),
        a.call("POST", &capture, &bia, None)
    );
    let mut statuses = [on_b.0, on_a.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [200, 409],
        "B answered {on_b:?}, A answered {on_a:?}"
    );
    let winner = if on_b.0 == 200 { &ana } else { &bia };
    eventually(
        Duration::from_secs(5),
        "B knows who serves the chat",
        || async {
            let (status, answer) = b
                .call("GET", "/api/desk/chats?state=in_progress", winner, None)
                .await;
            (status == 200 && answer.to_string().contains(&id)).then_some(())
        },
    )
    .await;

    // Live both ways: the requester's socket on A, the attendant's on B.
    let start = last_seq(&a, &requester, &id).await;
    let mut requester_socket = live(&a, &id, &requester, start).await;
    let mut attendant_socket = live(&b, &id, winner, start).await;
    a.ok(
        "POST",
        &format!("/api/conversations/{id}/messages"),
        &requester,
        Some(json!({ "text": "my screen stays black" })),
    )
    .await;
    let seen = expect_body(&mut attendant_socket, start, "my screen stays black").await;
    b.ok(
        "POST",
        &format!("/api/desk/chats/{id}/messages"),
        winner,
        Some(json!({ "text": "let us restart it together" })),
    )
    .await;
    expect_body(&mut attendant_socket, seen, "let us restart it together").await;
    expect_body(&mut requester_socket, start, "let us restart it together").await;

    // A chat nobody takes: its deadline (one minute) falls while A, the timer's node, is dead.
    a.ok(
        "PUT",
        "/api/admin/parameters",
        ADMIN,
        Some(json!({ "key": "lost_chat_minutes", "value": "1" })),
    )
    .await;
    let (forgotten, forgotten_id) = a.queued("forgotten").await;
    let queued_at = std::time::Instant::now();

    // Load on A: requesters post with client ids; what A acknowledged is recorded in order.
    let mut conversations = vec![(requester.clone(), id.clone())];
    for index in 0..3 {
        conversations.push(a.conversation(&format!("loaded-{index}")).await);
    }
    type Acknowledged = HashMap<String, Vec<(String, i64)>>;
    let acknowledged: Arc<Mutex<Acknowledged>> = Arc::default();
    let port = a.port;
    let mut posters = Vec::new();
    for (token, id) in conversations.clone() {
        let acknowledged = acknowledged.clone();
        posters.push(tokio::spawn(async move {
            for n in 0.. {
                let client_id = format!("{id}-{n}");
                let body = json!({ "text": format!("load {n}"), "client_message_id": client_id });
                let path = format!("/api/conversations/{id}/messages");
                match crate::durability::http(port, "POST", &path, &token, Some(body)).await {
                    Some((200, answer)) => {
                        let seq = answer["messages"][0]["seq"].as_i64().unwrap();
                        let mut acknowledged = acknowledged.lock().await;
                        acknowledged
                            .entry(id.clone())
                            .or_default()
                            .push((client_id, seq));
                    }
                    _ => return,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    a.kill();
    for poster in posters {
        let _ = poster.await;
    }
    let acknowledged = acknowledged.lock().await.clone();
    let total: usize = acknowledged.values().map(Vec::len).sum();
    assert!(total >= conversations.len(), "only {total} acknowledged");
    eprintln!("{total} messages acknowledged by node A before SIGKILL");

    // Through B: every acknowledged message once, at its seq, the seqs gap-free; a retried
    // post is recognised; the requester goes on with the next seq.
    for (token, id) in &conversations {
        let stored = b.messages(token, id).await;
        let seqs: Vec<i64> = stored.iter().map(|(seq, _, _)| *seq).collect();
        assert_eq!(
            seqs,
            (1..=seqs.len() as i64).collect::<Vec<_>>(),
            "gap in {id}"
        );
        let by_client: HashMap<&str, Vec<i64>> =
            stored
                .iter()
                .fold(HashMap::new(), |mut map, (seq, client, _)| {
                    map.entry(client.as_str()).or_default().push(*seq);
                    map
                });
        for (client_id, seq) in acknowledged.get(id).into_iter().flatten() {
            assert_eq!(
                by_client.get(client_id.as_str()),
                Some(&vec![*seq]),
                "acknowledged {client_id} at seq {seq} is not stored exactly once there"
            );
        }
        if let Some((client_id, seq)) = acknowledged.get(id).and_then(|list| list.last()) {
            let again = b
                .ok(
                    "POST",
                    &format!("/api/conversations/{id}/messages"),
                    token,
                    Some(json!({ "text": "retried", "client_message_id": client_id })),
                )
                .await;
            assert_eq!(again["messages"][0]["seq"].as_i64(), Some(*seq));
        }
    }
    let last = last_seq(&b, &requester, &id).await;
    let mut resumed = live(&b, &id, &requester, last).await;
    let next = b
        .ok(
            "POST",
            &format!("/api/conversations/{id}/messages"),
            &requester,
            Some(json!({ "text": "still there?", "client_message_id": "after-the-kill" })),
        )
        .await;
    assert_eq!(next["messages"][0]["seq"].as_i64(), Some(last + 1));
    expect_body(&mut resumed, last, "still there?").await;

    // The forgotten chat: lost exactly once, by B, after its minute.
    let lost = eventually(
        Duration::from_secs(90),
        "B finds the forgotten chat lost",
        || async {
            let (_, answer) = b.call("GET", "/api/tickets", &forgotten, None).await;
            let tickets = answer["tickets"].as_array().cloned().unwrap_or_default();
            let lost: Vec<Value> = tickets
                .into_iter()
                .filter(|ticket| ticket["tags"].to_string().contains("chat-perdido"))
                .collect();
            (!lost.is_empty()).then_some(lost)
        },
    )
    .await;
    assert!(
        queued_at.elapsed() >= Duration::from_secs(60),
        "lost before its minute"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, answer) = b.call("GET", "/api/tickets", &forgotten, None).await;
    let count = answer["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|ticket| ticket["tags"].to_string().contains("chat-perdido"))
        .count();
    assert_eq!(
        (lost.len(), count),
        (1, 1),
        "the lost chat fired more than once"
    );
    let chats = b.ok("GET", "/api/desk/chats?state=lost", &ana, None).await;
    assert!(chats.to_string().contains(&forgotten_id), "{chats}");
}
