//! Admin-only endpoints: issuing bearer tokens and reading and setting the chat parameters.
//! Any other role answers 403 `forbidden`.
//!
//! - `POST /api/admin/tokens` `{role, subject, groups?}` → 201 `{token}` (shown once; only its
//!   hash is kept)
//! - `GET /api/admin/parameters` → `{parameters: [{key, value, default, meaning}]}`
//! - `PUT /api/admin/parameters` `{key, value}` → `{key, value}`; a value the parameter cannot
//!   take answers 422 `invalid_parameter` and changes nothing

use super::Json;
use crate::auth::{Authenticated, Role};
use crate::error::ApiError;
use crate::parameters::{self, PARAMETERS};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/tokens", post(issue_token))
        .route(
            "/api/admin/parameters",
            get(list_parameters).put(set_parameter),
        )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    role: Role,
    subject: String,
    #[serde(default)]
    groups: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Issued {
    token: String,
}

async fn issue_token(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Json(request): Json<TokenRequest>,
) -> Result<(StatusCode, axum::Json<Issued>), ApiError> {
    identity.require(&[Role::Admin])?;
    let token = state
        .auth
        .issue(request.role, request.subject, request.groups)?;
    Ok((StatusCode::CREATED, axum::Json(Issued { token })))
}

#[derive(Debug, Serialize)]
struct ParameterView {
    key: &'static str,
    value: String,
    default: &'static str,
    meaning: &'static str,
}

#[derive(Debug, Serialize)]
struct ParameterList {
    parameters: Vec<ParameterView>,
}

async fn list_parameters(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
) -> Result<axum::Json<ParameterList>, ApiError> {
    identity.require(&[Role::Admin])?;
    let orchestrator = state.orchestrator.as_ref().ok_or(ApiError::Unavailable)?;
    let effective = parameters::effective(&orchestrator.store().parameters().await?);
    let parameters = PARAMETERS
        .iter()
        .map(|parameter| ParameterView {
            key: parameter.key,
            value: effective
                .get(parameter.key)
                .cloned()
                .unwrap_or_else(|| parameter.default.to_string()),
            default: parameter.default,
            meaning: parameter.meaning,
        })
        .collect();
    Ok(axum::Json(ParameterList { parameters }))
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct SetParameter {
    key: String,
    value: String,
}

async fn set_parameter(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Json(request): Json<SetParameter>,
) -> Result<axum::Json<SetParameter>, ApiError> {
    identity.require(&[Role::Admin])?;
    let orchestrator = state.orchestrator.as_ref().ok_or(ApiError::Unavailable)?;
    parameters::validate(&request.key, &request.value)
        .map_err(|error| ApiError::InvalidParameter(error.to_string()))?;
    orchestrator
        .store()
        .set_parameter(&request.key, &request.value)
        .await?;
    Ok(axum::Json(request))
}
