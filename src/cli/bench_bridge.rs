//! `ponte bench bridge` (feature `devtools`): the bridge's dispatcher against a real HTTP
//! receiver on loopback, in one process over a temporary SQLite store. Events are committed
//! the way a requester's messages in a bridged chat are (a step with its message and its
//! `message.created` event in one transaction), spread over conversations, at a paced rate or
//! as fast as they commit; the report gives events delivered per second and the latency from
//! commit (the event's `timestamp`) to receipt, and counts lost and duplicated events. An
//! optional outage phase makes the receiver answer 503 while events keep coming, then
//! recovers with live traffic going on, and measures how long the backlog takes to drain.

use crate::bridge::config::{BridgeConfig, BridgeKind, Routes};
use crate::bridge::signature::Secret;
use crate::config::Config;
use crate::latency::Latencies;
use crate::store::{
    Channel, ConversationStatus, NewConversation, NewMessage, NewOutboxEvent, OutboundType,
    SenderKind, Step, StepTarget, Store,
};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub events: usize,
    pub conversations: usize,
    /// Events per second offered (0: as fast as they commit).
    pub rate: u32,
    /// Seconds of receiver outage in the second phase (0: no outage phase).
    pub outage_secs: u64,
    /// Events committed during the outage.
    pub outage_events: usize,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub events: usize,
    pub conversations: usize,
    pub offered_rate: u32,
    pub seconds: f64,
    pub events_per_second: f64,
    pub commit_to_receipt_p50_ms: u64,
    pub commit_to_receipt_p99_ms: u64,
    pub commit_to_receipt_max_ms: u64,
    pub lost: usize,
    pub duplicated: usize,
    pub outage: Option<OutageReport>,
}

#[derive(Debug, Serialize)]
pub struct OutageReport {
    pub outage_secs: u64,
    pub queued: usize,
    /// From the receiver's recovery to the last queued event received.
    pub drain_ms: u64,
    pub lost: usize,
    pub duplicated: usize,
}

/// One receipt: the event's id, when it was committed and when it arrived (unix ms).
#[derive(Clone)]
struct Receipt {
    id: String,
    committed_ms: i64,
    received_ms: i64,
}

#[derive(Clone)]
struct Receiver {
    down: Arc<AtomicBool>,
    receipts: Arc<Mutex<Vec<Receipt>>>,
}

async fn receive(
    axum::extract::State(receiver): axum::extract::State<Receiver>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::http::StatusCode {
    if receiver.down.load(Ordering::SeqCst) {
        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
    }
    let received_ms = crate::store::now_millis();
    let id = headers
        .get("webhook-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let committed_ms = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|value| value["timestamp"].as_str().and_then(parse_rfc3339))
        .unwrap_or(received_ms);
    receiver.receipts.lock().unwrap().push(Receipt {
        id,
        committed_ms,
        received_ms,
    });
    axum::http::StatusCode::NO_CONTENT
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (what the bridge writes) to unix milliseconds.
fn parse_rfc3339(text: &str) -> Option<i64> {
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second, millis) = (
        number(11..13)?,
        number(14..16)?,
        number(17..19)?,
        number(20..23)?,
    );
    // Days from civil (proleptic Gregorian).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + hour * 3600 + minute * 60 + second) * 1000) + millis)
}

pub async fn run(config: &Config, options: Options) -> anyhow::Result<Report> {
    let dir = std::env::temp_dir().join(format!("ponte-bench-bridge-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let mut config = config.clone();
    config.data_dir = dir.clone();
    config.database_url = format!("sqlite://{}", dir.join("ponte.db").display());
    config.bridges.clear();
    let app = crate::app::AppBuilder::new(config).build().await?;
    let state = app.state().clone();
    let bridges = state.bridges.clone().expect("the app has bridges");
    let store = bridges.store().clone();

    let receiver = Receiver {
        down: Arc::new(AtomicBool::new(false)),
        receipts: Arc::new(Mutex::new(Vec::new())),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}/hook", listener.local_addr()?);
    let router = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(receiver.clone());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    bridges
        .put(
            BridgeConfig {
                id: "bench".into(),
                kind: BridgeKind::Webhook,
                endpoint,
                outbound_secrets: vec![Secret::generate()],
                inbound_secrets: vec![Secret::generate()],
                routes: Routes::default(),
                accept_deadline_secs: 120,
                allow_private: true,
                attachment_hosts: Vec::new(),
                matrix: None,
            },
            "bench",
        )
        .await?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let dispatcher = tokio::spawn(crate::bridge::dispatch::run(
        bridges.clone(),
        bridges.settings().clone(),
        stop_rx,
    ));

    let conversations = open_conversations(&store, options.conversations.max(1), "c").await?;
    let started = Instant::now();
    let committed = produce(
        &bridges,
        &store,
        &conversations,
        options.events,
        options.rate,
    )
    .await?;
    wait_for(&receiver, &committed, Duration::from_secs(600)).await;
    let seconds = started.elapsed().as_secs_f64();
    let receipts = receiver.receipts.lock().unwrap().clone();
    let (lost, duplicated) = tally(&receipts, &committed);
    let mut latencies = Latencies::new();
    for receipt in receipts.iter().filter(|r| committed.contains(&r.id)) {
        latencies.record((receipt.received_ms - receipt.committed_ms).max(0) as u64);
    }

    let outage = if options.outage_secs > 0 {
        receiver.down.store(true, Ordering::SeqCst);
        let outage_conversations =
            open_conversations(&store, options.conversations.max(1), "o").await?;
        let rate = (options.outage_events as f64 / options.outage_secs as f64).ceil() as u32;
        let queued = produce(
            &bridges,
            &store,
            &outage_conversations,
            options.outage_events,
            rate.max(1),
        )
        .await?;
        receiver.down.store(false, Ordering::SeqCst);
        let recovered = Instant::now();
        // Live traffic goes on after the recovery: a new conversation's message a second.
        let live_store = store.clone();
        let live_bridges = bridges.clone();
        let live = tokio::spawn(async move {
            for n in 0.. {
                if let Ok(fresh) = open_conversations(&live_store, 1, &format!("l{n}")).await {
                    let _ = produce(&live_bridges, &live_store, &fresh, 1, 0).await;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        wait_for(&receiver, &queued, Duration::from_secs(900)).await;
        let drain_ms = recovered.elapsed().as_millis() as u64;
        live.abort();
        let receipts = receiver.receipts.lock().unwrap().clone();
        let (lost, duplicated) = tally(&receipts, &queued);
        Some(OutageReport {
            outage_secs: options.outage_secs,
            queued: queued.len(),
            drain_ms,
            lost,
            duplicated,
        })
    } else {
        None
    };

    let _ = stop_tx.send(true);
    let _ = dispatcher.await;
    server.abort();
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Report {
        events: committed.len(),
        conversations: options.conversations,
        offered_rate: options.rate,
        seconds,
        events_per_second: committed.len() as f64 / seconds,
        commit_to_receipt_p50_ms: latencies.quantile(0.5),
        commit_to_receipt_p99_ms: latencies.quantile(0.99),
        commit_to_receipt_max_ms: latencies.max(),
        lost,
        duplicated,
        outage,
    })
}

async fn open_conversations(
    store: &Arc<dyn Store>,
    count: usize,
    prefix: &str,
) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        let id = format!("{prefix}-{}", crate::orchestrator::new_id());
        store
            .create_conversation(NewConversation {
                id: id.clone(),
                channel: Channel::Web,
                requester_id: "bench".into(),
                language: crate::lang::Language::En,
                status: ConversationStatus::Bridged,
                queue_group: Some("service-desk".into()),
                machine_state: serde_json::json!({}),
            })
            .await?;
        ids.push(id);
    }
    Ok(ids)
}

/// Commits `events` messages with their `message.created` event, round-robin over the
/// conversations, one producer per conversation, at `rate` per second overall (0: no pacing).
/// Returns the ids of the events committed.
async fn produce(
    bridges: &Arc<crate::bridge::service::Bridges>,
    store: &Arc<dyn Store>,
    conversations: &[String],
    events: usize,
    rate: u32,
) -> anyhow::Result<HashSet<String>> {
    let producers = conversations.len().min(events.max(1));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (index, conversation) in conversations.iter().take(producers).enumerate() {
        let store = store.clone();
        let bridges = bridges.clone();
        let conversation = conversation.clone();
        let mine: Vec<usize> = (index..events).step_by(producers).collect();
        tasks.spawn(async move {
            let mut ids = Vec::with_capacity(mine.len());
            for n in mine {
                if rate > 0 {
                    let due = started + Duration::from_secs_f64(n as f64 / f64::from(rate));
                    tokio::time::sleep_until(due.into()).await;
                }
                let id = crate::orchestrator::webhook_id();
                store
                    .commit_step(Step {
                        target: StepTarget::Keep {
                            id: conversation.clone(),
                        },
                        messages: vec![NewMessage {
                            conversation_id: conversation.clone(),
                            sender_kind: SenderKind::Requester,
                            sender_id: Some("bench".into()),
                            body: format!("message {n}"),
                            payload: None,
                            client_message_id: None,
                        }],
                        outbox: vec![NewOutboxEvent {
                            id: id.clone(),
                            bridge_id: "bench".into(),
                            conversation_id: conversation.clone(),
                            event_type: OutboundType::MessageCreated.as_str().into(),
                            data: serde_json::json!({
                                "message": {"sender": "requester", "text": format!("message {n}")}
                            }),
                            message_index: Some(0),
                        }],
                        deadline: None,
                    })
                    .await?;
                // What a step does once it wrote events: hints the lane to the dispatcher.
                crate::orchestrator::BridgeRouter::outbox_written(
                    bridges.as_ref(),
                    vec![("bench".to_string(), conversation.clone())],
                );
                ids.push(id);
            }
            anyhow::Ok(ids)
        });
    }
    let mut committed = HashSet::new();
    while let Some(done) = tasks.join_next().await {
        committed.extend(done??);
    }
    Ok(committed)
}

async fn wait_for(receiver: &Receiver, events: &HashSet<String>, limit: Duration) {
    let started = Instant::now();
    loop {
        let got: HashSet<String> = receiver
            .receipts
            .lock()
            .unwrap()
            .iter()
            .filter(|receipt| events.contains(&receipt.id))
            .map(|receipt| receipt.id.clone())
            .collect();
        if got.len() >= events.len() || started.elapsed() > limit {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// (lost, duplicated) among `events`: never received, or received more than once.
fn tally(receipts: &[Receipt], events: &HashSet<String>) -> (usize, usize) {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for receipt in receipts {
        if events.contains(&receipt.id) {
            *counts.entry(receipt.id.as_str()).or_default() += 1;
        }
    }
    let lost = events.len() - counts.len();
    let duplicated = counts.values().filter(|count| **count > 1).count();
    (lost, duplicated)
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_read_back_as_written() {
        for ms in [0i64, 951_782_400_123, 1_796_530_553_236] {
            assert_eq!(
                super::parse_rfc3339(&crate::bridge::wire::rfc3339(ms)),
                Some(ms)
            );
        }
    }
}
