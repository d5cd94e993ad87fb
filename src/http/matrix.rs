//! The homeserver's side of a Matrix bridge: Ponte registered as an application service
//! whose URL is `/api/bridges/{id}/matrix`. The homeserver pushes room events in
//! transactions (idempotent by transaction id; every event is applied once by its event id)
//! and pings; its questions about users and aliases get the API's 404 (Ponte creates its
//! rooms itself). Answers follow the Matrix error format (`{errcode, error}`), and the
//! `hs_token` is checked on every call.

use super::Path;
use crate::bridge::BridgeKind;
use crate::bridge::matrix::{self, MatrixError};
use crate::http::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(transaction))
        .routes(routes!(ping))
}

/// The homeserver's success answer: an empty object.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
struct Applied {}

fn matrix_error(error: MatrixError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(error.body())).into_response()
}

fn not_found(what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "errcode": "M_NOT_FOUND", "error": what })),
    )
        .into_response()
}

fn token(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    matrix::request_token(
        headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok()),
        query,
    )
}

/// The bridge `id`, if it is an enabled bridge of kind matrix.
fn bridge_of(state: &AppState, id: &str) -> Option<crate::bridge::BridgeConfig> {
    let config = state.bridges.as_ref()?.inbound_config(id).ok()?;
    (config.kind == BridgeKind::Matrix).then_some(config)
}

/// A transaction of room events from the homeserver. 200 `{}` once every event is applied;
/// 500 when one could not be (the homeserver sends the same transaction again).
#[utoipa::path(put, path = "/api/bridges/{id}/matrix/_matrix/app/v1/transactions/{txn_id}",
    tag = "bridges", security(()),
    params(("id" = String, Path, description = "bridge id"),
           ("txn_id" = String, Path, description = "the homeserver's transaction id")),
    request_body(content = Object, description = "`{events: [...]}`"),
    responses((status = 200, description = "`{}`; errors in the Matrix format `{errcode, error}`: 401 `M_UNAUTHORIZED`, 403 `M_FORBIDDEN`, 500 (the homeserver retries)", body = Applied)))]
async fn transaction(
    State(state): State<AppState>,
    Path((id, txn_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(config) = bridge_of(&state, &id) else {
        return not_found("no such matrix bridge");
    };
    let Some(bridges) = state.bridges.as_ref() else {
        return not_found("no bridges on this server");
    };
    let client = match bridges.matrix_client(&config) {
        Ok(client) => client,
        Err(error) => return matrix_error(MatrixError::Sink(error)),
    };
    let token = token(&headers, query.as_deref());
    match matrix::handle_transaction(
        &config,
        token.as_deref(),
        &txn_id,
        &body,
        bridges.as_ref(),
        &client,
    )
    .await
    {
        Ok(()) => Json(Applied {}).into_response(),
        Err(error) => matrix_error(error),
    }
}

/// The homeserver checks the application service is there.
#[utoipa::path(post, path = "/api/bridges/{id}/matrix/_matrix/app/v1/ping", tag = "bridges",
    security(()),
    params(("id" = String, Path, description = "bridge id")),
    responses((status = 200, description = "`{}`; 403 `M_FORBIDDEN` in the Matrix format for a wrong token", body = Applied)))]
async fn ping(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(config) = bridge_of(&state, &id) else {
        return not_found("no such matrix bridge");
    };
    match matrix::check_token(&config, token(&headers, query.as_deref()).as_deref()) {
        Ok(()) => Json(Applied {}).into_response(),
        Err(error) => matrix_error(error),
    }
}
