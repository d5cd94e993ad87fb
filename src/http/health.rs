//! `GET /health`: liveness plus what the knowledge index holds.

use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

async fn health(State(state): State<AppState>) -> Json<Value> {
    let generation = state.knowledge.generation();
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "index": { "generation": generation.name, "documents": generation.num_docs() },
    }))
}
