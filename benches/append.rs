//! Durable append throughput of the SQLite store under concurrency: 64 tasks append 2,048
//! messages in all into 64 conversations of a fresh database, each task posting its next
//! message only after the previous one was acknowledged (as a client does), with group
//! commit (the default) and with one transaction per message. Criterion's throughput line
//! gives messages per second; `RUST_LOG=store=trace` shows every batch.
//!
//! `cargo bench --bench append`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ponte::store::{
    self as storage, Channel, ConversationStatus, NewConversation, NewMessage, SenderKind, Store,
    StoreOptions,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TASKS: usize = 64;
const MESSAGES: usize = 2_048;

/// A fresh database with one conversation per task.
async fn prepared(dir: &std::path::Path, options: StoreOptions) -> (Arc<dyn Store>, Vec<String>) {
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    let store = storage::open(&url, options).await.expect("open store");
    let mut ids = Vec::with_capacity(TASKS);
    for index in 0..TASKS {
        let conversation = store
            .create_conversation(NewConversation {
                id: format!("bench-{index:05}"),
                channel: Channel::Web,
                requester_id: format!("requester-{index}"),
                language: ponte::lang::Language::PtBr,
                status: ConversationStatus::Chat,
                queue_group: None,
                machine_state: serde_json::json!({"state": "chat"}),
            })
            .await
            .expect("create conversation");
        ids.push(conversation.id);
    }
    (store, ids)
}

/// Appends [`MESSAGES`] from [`TASKS`] tasks; the wall time it took.
async fn append_all(store: &Arc<dyn Store>, ids: &Arc<Vec<String>>, round: u64) -> Duration {
    let started = Instant::now();
    let mut handles = Vec::with_capacity(TASKS);
    for task in 0..TASKS {
        let task_store = store.clone();
        let ids = ids.clone();
        handles.push(tokio::spawn(async move {
            for index in 0..MESSAGES / TASKS {
                let message = NewMessage {
                    conversation_id: ids[task].clone(),
                    sender_kind: SenderKind::Requester,
                    sender_id: Some(format!("requester-{task}")),
                    body: format!("task {task} message {index}: a typical short chat line"),
                    payload: None,
                    client_message_id: Some(format!("r{round}-t{task}-m{index}")),
                };
                task_store.append_message(message).await.expect("append");
            }
        }));
    }
    for handle in handles {
        handle.await.expect("task");
    }
    started.elapsed()
}

fn append(c: &mut Criterion) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut group = c.benchmark_group("append");
    group.throughput(Throughput::Elements(MESSAGES as u64));
    group.sample_size(10);
    let per_message = StoreOptions {
        max_batch: 1,
        ..StoreOptions::default()
    };
    for (name, options) in [
        ("group_commit", StoreOptions::default()),
        ("one_transaction_per_message", per_message),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, ids) = runtime.block_on(prepared(dir.path(), options));
        let ids = Arc::new(ids);
        let mut round = 0;
        group.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    round += 1;
                    total += runtime.block_on(append_all(&store, &ids, round));
                }
                total
            })
        });
        runtime.block_on(store.close());
    }
    group.finish();
}

criterion_group!(benches, append);
criterion_main!(benches);
