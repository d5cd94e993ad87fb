//! `GET /health`: liveness plus what the knowledge index holds.

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health))
}

/// Liveness and the serving index generation.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "`{status, version, index}`")))]
async fn health(State(state): State<AppState>) -> Json<Value> {
    let generation = state.knowledge.generation();
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "index": { "generation": generation.name, "documents": generation.num_docs() },
    }))
}
