//! The lost-chat timer with two nodes over one SQLite file. Node A queues a chat nobody
//! takes and holds the timer's lease; node B's clock is 31 minutes ahead, so the chat is
//! already lost by B's reckoning, but while A lives B does not run the timer and nothing is
//! marked lost. Then A dies: its runtime is shut down without a graceful stop, so its leases
//! are not released and run out after their TTL. B takes the timer over and the chat is
//! lost exactly once: one ticket, one notice to the requester. Stopping B gracefully
//! releases every lease it holds.

use crate::assistant::shared;
use crate::common::TestApp;
use crate::desk::Desk;
use ponte::attendance::Clock;
use ponte::auth::Role;
use ponte::lease::{LOST_CHATS, ORPHANS, RESUME};
use ponte::store::Store;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const TTL_MS: u64 = 1_500;
const PATIENCE: Duration = Duration::from_secs(20);

async fn sqlite(dir: &Path) -> Arc<dyn Store> {
    let url = format!("sqlite://{}", dir.join("ponte.db").display());
    ponte::store::open(&url, Default::default()).await.unwrap()
}

/// Who holds lease `name` now, read from the `leases` table itself.
async fn holder(dir: &Path, name: &str) -> Option<String> {
    let url = format!("sqlite://{}?mode=ro", dir.join("ponte.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let holder = sqlx::query_scalar::<_, String>(
        "SELECT holder FROM leases WHERE name = ?1 AND expires_at_ms > ?2",
    )
    .bind(name)
    .bind(now_ms())
    .fetch_optional(&pool)
    .await
    .unwrap();
    pool.close().await;
    holder
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Waits until `check` holds, or fails with `what`.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn lost_tickets(store: &Arc<dyn Store>, requester: &str) -> Vec<ponte::store::Ticket> {
    store
        .open_tickets_for(requester)
        .await
        .unwrap()
        .into_iter()
        .filter(|ticket| ticket.tags.iter().any(|tag| tag == "chat-perdido"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_two_nodes_the_timer_runs_on_one_and_the_survivor_fires_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();

    // Node A lives on a runtime of its own: shutting that runtime down is its death.
    let runtime_a = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // Built on a thread that blocks on A's runtime (the build's future is not `Send`).
    let (built_tx, built_rx) = tokio::sync::oneshot::channel();
    std::thread::spawn({
        let handle = runtime_a.handle().clone();
        let path = path.clone();
        move || {
            let app = handle.block_on(async move {
                let store = sqlite(&path).await;
                TestApp::builder(shared().knowledge.clone())
                    .matcher(shared().matcher.clone())
                    .data_dir(&path)
                    .store(store)
                    .node_name("node-a")
                    .lease_ttl_ms(TTL_MS)
                    .build()
                    .await
            });
            let _ = built_tx.send(app);
        }
    });
    let app_a = built_rx.await.unwrap();
    app_a.register("admin-secret", Role::Admin, "root", &[]);
    let desk_a = Desk {
        app: app_a.router(),
        store: app_a.state().orchestrator.as_ref().unwrap().store().clone(),
        auth: app_a.state().auth.clone(),
        attendance: app_a.state().attendance.clone().unwrap(),
        admin: "admin-secret".to_string(),
        dir,
    };
    desk_a.configure("queue").await;
    let (_requester, id) = desk_a.queued_requester("late").await;
    runtime_a.spawn(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let _ = app_a.serve(listener, std::future::pending()).await;
    });
    eventually("node A holds the lost-chat lease", || async {
        holder(&path, LOST_CHATS)
            .await
            .is_some_and(|holder| holder.starts_with("node-a-"))
    })
    .await;

    // Node B, 31 minutes ahead: the chat is past its deadline there.
    let store_b = sqlite(&path).await;
    let app_b = TestApp::builder(shared().knowledge.clone())
        .matcher(shared().matcher.clone())
        .data_dir(&path)
        .store(store_b.clone())
        .clock(Clock::new().shifted(Duration::from_secs(31 * 60)))
        .node_name("node-b")
        .lease_ttl_ms(TTL_MS)
        .build()
        .await;
    let (stop_b, stopped_b) = tokio::sync::oneshot::channel::<()>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let served_b = tokio::spawn(app_b.serve(listener, async move {
        let _ = stopped_b.await;
    }));

    // Both alive for two TTLs: B never holds the timer, so nothing is lost.
    tokio::time::sleep(Duration::from_millis(2 * TTL_MS)).await;
    assert!(
        holder(&path, LOST_CHATS)
            .await
            .is_some_and(|holder| holder.starts_with("node-a-")),
        "the timer's lease left a live node"
    );
    assert!(
        lost_tickets(&store_b, "late").await.is_empty(),
        "a node that does not hold the lease ran the timer"
    );

    // What the requester was told before (the hand-off's message names its ticket too).
    let told_before = store_b
        .messages_after(&id, 0, 1000)
        .await
        .unwrap()
        .last()
        .map_or(0, |message| message.seq);

    // A dies without releasing anything.
    runtime_a.shutdown_background();
    eventually(
        "node B takes the timer over and the chat is lost",
        || async { !lost_tickets(&store_b, "late").await.is_empty() },
    )
    .await;
    for name in [LOST_CHATS, RESUME, ORPHANS] {
        eventually(&format!("node B holds {name}"), || async {
            holder(&path, name)
                .await
                .is_some_and(|holder| holder.starts_with("node-b-"))
        })
        .await;
    }
    // Another TTL: still one ticket, and the requester was told once.
    tokio::time::sleep(Duration::from_millis(TTL_MS)).await;
    let tickets = lost_tickets(&store_b, "late").await;
    assert_eq!(tickets.len(), 1, "the chat was lost more than once");
    assert_eq!(tickets[0].conversation_id.as_deref(), Some(id.as_str()));
    let notices = store_b
        .messages_after(&id, told_before, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|message| message.body.contains(&tickets[0].number))
        .count();
    assert_eq!(notices, 1, "the requester was not told exactly once");

    // A graceful stop of B releases its leases at once.
    stop_b.send(()).unwrap();
    tokio::time::timeout(PATIENCE, served_b)
        .await
        .expect("node B did not stop")
        .unwrap()
        .unwrap();
    for name in [LOST_CHATS, RESUME, ORPHANS] {
        assert_eq!(
            holder(&path, name).await,
            None,
            "{name} still held after a graceful stop"
        );
    }
    drop(desk_a);
}
