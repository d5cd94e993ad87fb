//! Running the HTTP server: takes a bound listener and a shutdown future (so tests bind
//! port 0 and stop it themselves), runs the background workers (index refresh, lost-chat
//! timer, orphan adoption and resume, each under its lease, the desk following what other
//! nodes log, embeddings kept in step for hybrid search, the bridges' dispatcher and accept
//! deadlines, the follower of the other nodes' knowledge changes), and stops in order:
//! workers first, then the live feeds (WebSocket and SSE streams end), then the HTTP server,
//! which drains in-flight requests.

use crate::http;
use crate::http::state::AppState;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How often the server checks whether another process swapped in a new index (and
/// retrains the matcher when the catalogue changed, and forgets idle rate-limit keys).
const INDEX_REFRESH_EVERY: Duration = Duration::from_millis(500);

/// Serves `state` on `listener` until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let refresher = tokio::spawn(refresh_index(state.clone(), stop_rx.clone()));
    let lost_chats = state
        .attendance
        .clone()
        .map(|desk| tokio::spawn(crate::attendance::timer::run(desk, stop_rx.clone())));
    let orphans = state
        .attendance
        .clone()
        .map(|desk| tokio::spawn(crate::attendance::orphans::run(desk, stop_rx.clone())));
    let resume = state
        .orchestrator
        .clone()
        .map(|chat| tokio::spawn(chat.keep_resuming(stop_rx.clone())));
    let desk_follower = state
        .attendance
        .clone()
        .map(|desk| tokio::spawn(crate::attendance::follow(desk, stop_rx.clone())));
    let embeddings = state
        .hybrid
        .clone()
        .map(|hybrid| tokio::spawn(keep_embeddings(hybrid, stop_rx.clone())));
    let bridge_tasks = state.bridges.clone().map(|bridges| {
        let settings = bridges.settings().clone();
        let idle = settings.idle;
        (
            tokio::spawn(crate::bridge::dispatch::run(
                bridges.clone(),
                settings,
                stop_rx.clone(),
            )),
            tokio::spawn(crate::bridge::dispatch::run_deadlines(
                bridges,
                idle,
                stop_rx.clone(),
            )),
        )
    });
    let knowledge_follower = state
        .knowledge_sync
        .clone()
        .map(|sync| tokio::spawn(sync.follow(stop_rx.clone())));
    let bus = state.orchestrator.as_ref().map(|chat| chat.bus().clone());
    let app = http::router_with(state, crate::pages::router());
    let mut http_stop_rx = stop_rx;
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = http_stop_rx.wait_for(|stop| *stop).await;
    });
    let signal = tokio::spawn(async move {
        shutdown.await;
        // Live feeds end first: an open event stream would otherwise hold up the drain.
        if let Some(bus) = bus {
            bus.close();
        }
        let _ = stop_tx.send(true);
    });
    let result = served.await;
    signal.abort();
    let _ = refresher.await;
    for once in [lost_chats, orphans, resume].into_iter().flatten() {
        let _ = once.await;
    }
    if let Some(follower) = desk_follower {
        let _ = follower.await;
    }
    if let Some(embeddings) = embeddings {
        let _ = embeddings.await;
    }
    if let Some(follower) = knowledge_follower {
        let _ = follower.await;
    }
    if let Some((dispatcher, deadlines)) = bridge_tasks {
        let _ = dispatcher.await;
        let _ = deadlines.await;
    }
    tracing::info!("server stopped");
    result
}

/// Keeps the hybrid search's embeddings in step with the served documents: at start (new
/// or changed documents since `embeddings.json` was written), after a reindex, an upsert or
/// a delete. Each sync sends only what changed; search stays lexical for the rest.
async fn keep_embeddings(
    hybrid: std::sync::Arc<crate::llm::hybrid::Hybrid>,
    mut stop_rx: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(INDEX_REFRESH_EVERY);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop_rx.wait_for(|stop| *stop) => return,
        }
        tokio::select! {
            _ = hybrid.sync_if_stale() => {}
            _ = stop_rx.wait_for(|stop| *stop) => return,
        }
    }
}

async fn refresh_index(state: AppState, mut stop_rx: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(INDEX_REFRESH_EVERY);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop_rx.wait_for(|stop| *stop) => return,
        }
        let knowledge = state.knowledge.clone();
        match tokio::task::spawn_blocking(move || knowledge.refresh()).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => {
                tracing::warn!(%error, "index refresh failed; the old index keeps serving")
            }
            Err(error) => tracing::warn!(%error, "index refresh task failed"),
        }
        // A changed catalogue (a swap, or an article or activity written through the API)
        // must be recognised by the assistant too.
        if let Some(chat) = &state.orchestrator
            && let Err(error) = chat.retrain_if_stale().await
        {
            tracing::warn!(%error, "retraining the matcher failed; the previous one keeps serving");
        }
        state.rate_limit.prune();
    }
}
