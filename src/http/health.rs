//! `GET /health`: liveness plus what the knowledge index holds.

use crate::http::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health))
}

/// Liveness and the serving index generation.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "`{status, version, index}`", body = Health)))]
async fn health(State(state): State<AppState>) -> Json<Health> {
    let generation = state.knowledge.generation();
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        index: IndexSummary {
            generation: generation.name.clone(),
            documents: generation.num_docs(),
        },
    })
}

/// Liveness: always `ok` when it answers.
#[derive(Debug, Serialize, ToSchema)]
struct Health {
    #[schema(value_type = String)]
    status: &'static str,
    #[schema(value_type = String)]
    version: &'static str,
    index: IndexSummary,
}

/// The serving knowledge index.
#[derive(Debug, Serialize, ToSchema)]
struct IndexSummary {
    generation: String,
    documents: u64,
}
