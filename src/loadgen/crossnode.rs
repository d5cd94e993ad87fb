//! `ponte bench crossnode`: how long a message takes to cross from one node to another. Chats
//! are opened and handed to a person through node A; each has a WebSocket on node B; messages
//! are posted through A one at a time and each is timed from the moment A acknowledged it to
//! the moment B's socket delivered it (at-least-once on the wire, once on the socket).

use super::{Connection, open_websocket_after, read_frame};
use crate::latency::Latencies;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::BufReader;

/// What the cross-node run does.
#[derive(Debug, Clone)]
pub struct CrossNodeOptions {
    /// Where messages are posted.
    pub post: SocketAddr,
    /// Where they are listened for.
    pub listen: SocketAddr,
    pub admin_token: String,
    pub conversations: usize,
    pub messages: usize,
}

/// The figures of a cross-node run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CrossNodeReport {
    pub conversations: usize,
    pub posted: usize,
    pub delivered: usize,
    /// Frames delivered more than once on one socket (must be 0).
    pub duplicates: usize,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

/// (conversation index, seq) → when B delivered it, and how often.
type Arrivals = Arc<Mutex<HashMap<(usize, i64), (Instant, usize)>>>;

/// Runs the cross-node measurement.
pub async fn cross_node(options: CrossNodeOptions) -> anyhow::Result<CrossNodeReport> {
    let mut node_a = Connection::open(options.post).await?;
    let mut chats = Vec::new();
    for index in 0..options.conversations.max(1) {
        chats.push(
            node_a
                .queued_chat(&options.admin_token, &format!("crossnode-{index}"))
                .await?,
        );
    }
    let arrivals: Arrivals = Arc::default();
    let mut listeners = Vec::new();
    for (index, (id, token, last_seq)) in chats.iter().enumerate() {
        let socket = open_websocket_after(options.listen, id, token, *last_seq).await?;
        let arrivals = arrivals.clone();
        listeners.push(tokio::spawn(async move {
            let mut reader = BufReader::new(socket);
            while let Ok((opcode, payload)) = read_frame(&mut reader).await {
                if opcode == 0x8 {
                    break;
                }
                if opcode != 0x1 {
                    continue;
                }
                let at = Instant::now();
                let Ok(frame) = serde_json::from_slice::<Value>(&payload) else {
                    continue;
                };
                if let Some(seq) = frame["message"]["seq"].as_i64() {
                    let mut arrivals = arrivals.lock().unwrap_or_else(|p| p.into_inner());
                    arrivals.entry((index, seq)).or_insert((at, 0)).1 += 1;
                }
            }
        }));
    }
    // Let every socket settle before the clock starts.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut acknowledged = Vec::with_capacity(options.messages);
    for n in 0..options.messages {
        let index = n % chats.len();
        let (id, token, _) = &chats[index];
        let body =
            json!({ "text": format!("crossing {n}"), "client_message_id": format!("cross-{n}") });
        let path = format!("/api/conversations/{id}/messages");
        let (status, answer) = node_a.request("POST", &path, token, Some(&body)).await?;
        let at = Instant::now();
        anyhow::ensure!(status == 200, "posting answered {status}: {answer}");
        let seq = answer["messages"][0]["seq"].as_i64().unwrap_or_default();
        acknowledged.push(((index, seq), at));
    }
    // Whatever has not crossed within two seconds counts as not delivered.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for listener in listeners {
        listener.abort();
    }
    let arrivals = arrivals.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let mut latencies = Vec::new();
    let mut duplicates = 0;
    for (key, acked_at) in &acknowledged {
        if let Some((arrived, count)) = arrivals.get(key) {
            latencies.push(arrived.saturating_duration_since(*acked_at).as_micros() as u64);
            duplicates += count - 1;
        }
    }
    let histogram: Latencies = latencies.iter().copied().collect();
    Ok(CrossNodeReport {
        conversations: chats.len(),
        posted: acknowledged.len(),
        delivered: latencies.len(),
        duplicates,
        p50_us: histogram.quantile(0.5),
        p99_us: histogram.quantile(0.99),
        max_us: histogram.max(),
    })
}
