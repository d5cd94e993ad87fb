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
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue_token))
        .routes(routes!(list_parameters, set_parameter))
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

/// Issues a bearer token; the plaintext is shown once.
#[utoipa::path(post, path = "/api/admin/tokens", tag = "admin",
    request_body(content = Object, description = "`{role, subject, groups?}`"),
    responses((status = 201, description = "`{token}`"), (status = 403, description = "`forbidden`")))]
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

/// The chat parameters with their values, defaults and meanings.
#[utoipa::path(get, path = "/api/admin/parameters", tag = "admin",
    responses((status = 200, description = "`{parameters}`"), (status = 403, description = "`forbidden`")))]
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

/// Sets one chat parameter.
#[utoipa::path(put, path = "/api/admin/parameters", tag = "admin",
    request_body(content = Object, description = "`{key, value}`"),
    responses((status = 200, description = "`{key, value}`"), (status = 422, description = "`invalid_parameter`")))]
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
    orchestrator.forget_parameters();
    Ok(axum::Json(request))
}
