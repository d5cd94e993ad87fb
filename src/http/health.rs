//! `GET /health`: liveness, what the knowledge index holds and how the node's dependencies
//! stand (the store, and NATS when live events cross nodes); and the gate that answers 503
//! `nats_unavailable` to API writes while NATS is away.
//!
//! A lost dependency is reported, never papered over: `/health` answers 503 with `status`
//! `degraded` and names which one is down, writes needing it answer 503 with a stable code
//! (`store_unavailable` through the store's errors, `nats_unavailable` here) so clients retry
//! (client message ids make a retried post a no-op), and all of it clears on its own once the
//! server is back: the store's pool and the NATS client reconnect by themselves.

use crate::http::error::ApiError;
use crate::http::state::AppState;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How long the store's ping may take before the store counts as unavailable.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health))
}

/// Liveness, the serving index generation and the dependencies; 503 when one is down.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "`{status: ok, version, index, store, nats}`", body = Health),
              (status = 503, description = "`status: degraded`: the store or NATS is unavailable", body = Health)))]
async fn health(State(state): State<AppState>) -> Response {
    let generation = state.knowledge.generation();
    let store = match &state.orchestrator {
        None => DependencyStatus::Off,
        Some(chat) => match tokio::time::timeout(PING_TIMEOUT, chat.store().ping()).await {
            Ok(Ok(())) => DependencyStatus::Ok,
            Ok(Err(error)) => {
                tracing::warn!(%error, "health: the store is unavailable");
                DependencyStatus::Unavailable
            }
            Err(_) => {
                tracing::warn!("health: the store did not answer in time");
                DependencyStatus::Unavailable
            }
        },
    };
    let link = state
        .orchestrator
        .as_ref()
        .and_then(|chat| chat.bus().link());
    let nats = NatsHealth {
        status: match link {
            None => DependencyStatus::Off,
            Some(link) if link.connected => DependencyStatus::Ok,
            Some(_) => DependencyStatus::Unavailable,
        },
        backlog: link.map_or(0, |link| link.backlog as u64),
    };
    let degraded = [store, nats.status].contains(&DependencyStatus::Unavailable);
    let body = Health {
        status: if degraded { "degraded" } else { "ok" },
        version: env!("CARGO_PKG_VERSION"),
        index: IndexSummary {
            generation: generation.name.clone(),
            documents: generation.num_docs(),
        },
        store: StoreHealth { status: store },
        nats,
    };
    let status = if degraded {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (status, Json(body)).into_response()
}

/// Liveness and the dependencies: `ok` when every configured one is up, else `degraded`.
#[derive(Debug, Serialize, ToSchema)]
struct Health {
    /// `ok` or `degraded`.
    #[schema(value_type = String)]
    status: &'static str,
    #[schema(value_type = String)]
    version: &'static str,
    index: IndexSummary,
    store: StoreHealth,
    nats: NatsHealth,
}

/// How a dependency stands: `off` when this node does not use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum DependencyStatus {
    Ok,
    Unavailable,
    Off,
}

/// The conversation store (SQLite or PostgreSQL).
#[derive(Debug, Serialize, ToSchema)]
struct StoreHealth {
    status: DependencyStatus,
}

/// NATS, which carries live events between nodes.
#[derive(Debug, Serialize, ToSchema)]
struct NatsHealth {
    status: DependencyStatus,
    /// Live events of this node waiting for NATS to acknowledge them.
    backlog: u64,
}

/// The serving knowledge index.
#[derive(Debug, Serialize, ToSchema)]
struct IndexSummary {
    generation: String,
    documents: u64,
}

/// Answers an API write (any method but `GET`, `HEAD` and `OPTIONS` under `/api/`) with 503
/// `nats_unavailable` while this node has lost NATS: what it wrote could not reach the other
/// nodes. Reads go on.
pub async fn writes_need_nats(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let reads = [Method::GET, Method::HEAD, Method::OPTIONS];
    let write = !reads.contains(request.method()) && request.uri().path().starts_with("/api/");
    let nats_lost = || {
        state
            .orchestrator
            .as_ref()
            .and_then(|chat| chat.bus().link())
            .is_some_and(|link| !link.connected)
    };
    if write && nats_lost() {
        return ApiError::NatsUnavailable.into_response();
    }
    next.run(request).await
}
