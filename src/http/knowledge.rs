//! `GET /api/knowledge/search`: ranked articles and activities for a text. Until requests
//! carry an identity, a caller is an anonymous requester: only public documents are found.

use super::Query;
use crate::error::ApiError;
use crate::knowledge::search::MAX_QUERY_CHARS;
use crate::knowledge::{DocKind, Hit, SearchRequest};
use crate::lang::Language;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/knowledge/search", get(search))
}

#[derive(Debug, Deserialize)]
struct SearchParams {
    q: Option<String>,
    lang: Option<String>,
    kind: Option<DocKind>,
    limit: Option<usize>,
}

#[derive(Debug, Serialize)]
struct SearchResponse {
    query: String,
    hits: Vec<Hit>,
}

async fn search(
    State(state): State<AppState>,
    Query(params): Query<SearchParams>,
) -> Result<Json<SearchResponse>, ApiError> {
    let text = params.q.unwrap_or_default();
    if text.trim().is_empty() {
        return Err(ApiError::EmptyText("the query `q` is empty".to_string()));
    }
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::TextTooLong(format!(
            "the query is longer than {MAX_QUERY_CHARS} characters"
        )));
    }
    let language = match params.lang.as_deref() {
        Some(tag) => Some(
            tag.parse::<Language>()
                .map_err(|error| ApiError::BadRequest(error.to_string()))?,
        ),
        None => None,
    };
    let mut request = SearchRequest::new(text.clone());
    request.language = language;
    request.kind = params.kind;
    request.limit = params.limit.unwrap_or(10).clamp(1, 50);
    let knowledge = state.knowledge.clone();
    let hits = tokio::task::spawn_blocking(move || knowledge.search(&request)).await??;
    Ok(Json(SearchResponse { query: text, hits }))
}
