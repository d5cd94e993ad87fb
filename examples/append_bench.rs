//! Durable append throughput and acknowledgement latency of the SQLite store.
//!
//! Appends `--messages` messages from `--tasks` concurrent tasks (each posting its next message
//! only after the previous one was acknowledged, like a client would) into a fresh database in a
//! temp dir, and prints messages per second and p50/p99/max acknowledgement latency.
//!
//! ```text
//! cargo run --release --example append_bench                      # group commit, synchronous=FULL
//! cargo run --release --example append_bench -- --no-group-commit # one transaction per message
//! options: --messages N (50000) --tasks N (64) --conversations N (= tasks)
//!          --synchronous full|normal (full) --max-batch N (512) --linger-us N (0)
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use ponte::store::{
    self as storage, Channel, ConversationStatus, NewConversation, NewMessage, SenderKind,
    StoreOptions, Synchronous,
};

struct Args {
    messages: usize,
    tasks: usize,
    conversations: usize,
    options: StoreOptions,
}

fn parse_args() -> Result<Args, String> {
    let mut messages = 50_000;
    let mut tasks = 64;
    let mut conversations = None;
    let mut options = StoreOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--messages" => messages = value()?.parse().map_err(|e| format!("{e}"))?,
            "--tasks" => tasks = value()?.parse().map_err(|e| format!("{e}"))?,
            "--conversations" => {
                conversations = Some(value()?.parse().map_err(|e| format!("{e}"))?)
            }
            "--synchronous" => {
                options.synchronous = value()?.parse::<Synchronous>().map_err(|e| e.to_string())?
            }
            "--max-batch" => options.max_batch = value()?.parse().map_err(|e| format!("{e}"))?,
            "--linger-us" => {
                options.batch_linger =
                    Duration::from_micros(value()?.parse().map_err(|e| format!("{e}"))?)
            }
            "--no-group-commit" => options.max_batch = 1,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if tasks == 0 || messages == 0 {
        return Err("--tasks and --messages must be positive".into());
    }
    Ok(Args {
        messages,
        tasks,
        conversations: conversations.unwrap_or(tasks).max(1),
        options,
    })
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    // RUST_LOG=store=trace shows every batch: its size, its total and its commit time.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("append_bench: {message}");
            std::process::exit(2);
        }
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = storage::open(&url, args.options.clone())
        .await
        .expect("open store");

    let mut conversation_ids = Vec::with_capacity(args.conversations);
    for index in 0..args.conversations {
        let conversation = store
            .create_conversation(NewConversation {
                id: format!("bench-{index:05}"),
                channel: Channel::Web,
                requester_id: format!("requester-{index}"),
                language: "pt-BR".into(),
                status: ConversationStatus::Chat,
                queue_group: None,
                machine_state: serde_json::json!({"state": "chat"}),
            })
            .await
            .expect("create conversation");
        conversation_ids.push(conversation.id);
    }
    let conversation_ids = Arc::new(conversation_ids);

    let started = Instant::now();
    let mut handles = Vec::with_capacity(args.tasks);
    for task in 0..args.tasks {
        // Spread the remainder so exactly `messages` are posted.
        let share = args.messages / args.tasks + usize::from(task < args.messages % args.tasks);
        let task_store = store.clone();
        let conversation_ids = conversation_ids.clone();
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(share);
            for index in 0..share {
                let conversation_id = &conversation_ids[(task + index) % conversation_ids.len()];
                let message = NewMessage {
                    conversation_id: conversation_id.clone(),
                    sender_kind: SenderKind::Requester,
                    sender_id: Some(format!("requester-{task}")),
                    body: format!("task {task} message {index}: a typical short chat line"),
                    payload: None,
                    client_message_id: Some(format!("t{task}-m{index}")),
                };
                let posted = Instant::now();
                task_store.append_message(message).await.expect("append");
                latencies.push(posted.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::with_capacity(args.messages);
    for handle in handles {
        latencies.extend(handle.await.expect("task"));
    }
    let elapsed = started.elapsed();
    store.close().await;

    latencies.sort_unstable();
    let mode = if args.options.max_batch == 1 {
        "one transaction per message".to_owned()
    } else {
        format!(
            "group commit (max batch {}, linger {:?})",
            args.options.max_batch, args.options.batch_linger
        )
    };
    println!(
        "{} messages, {} tasks, {} conversations, synchronous={:?}, {mode}",
        latencies.len(),
        args.tasks,
        args.conversations,
        args.options.synchronous
    );
    println!(
        "elapsed {:.2} s, {:.0} messages/s, ack latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}
