//! Admin-only endpoints: issuing, listing and revoking bearer tokens and reading and setting
//! the chat parameters. Any other role answers 403 `forbidden`, before the body is read.
//!
//! - `POST /api/admin/tokens` `{role, subject, groups?, expires_in_seconds? | expires_at?}` →
//!   201 `{token, id, role, subject, groups, created_at, expires_at}` (the token is shown once;
//!   only its hash is stored, so it survives restarts)
//! - `GET /api/admin/tokens` → `{tokens: [{id, role, subject, groups, created_at, expires_at,
//!   expired}]}`, never a secret
//! - `DELETE /api/admin/tokens/{id}` → the revoked token; its holder gets 401 from then on
//! - `GET /api/admin/parameters` → `{parameters: [{key, value, default, meaning}]}`
//! - `PUT /api/admin/parameters` `{key, value}` → `{key, value}`; a value the parameter cannot
//!   take answers 422 `invalid_parameter` and changes nothing

use super::{Json, Path};
use crate::auth::{Identity, Role};
use crate::http::auth::{Admins, Authorized};
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::parameters::{self, PARAMETERS};
use crate::store::StoredToken;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue_token, list_tokens))
        .routes(routes!(revoke_token))
        .routes(routes!(list_parameters, set_parameter))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    /// `requester`, `attendant`, `analyst`, `knowledge_manager` or `admin`.
    #[schema(value_type = String)]
    role: Role,
    subject: String,
    #[serde(default)]
    groups: Vec<String>,
    /// The token is refused this many seconds after it is issued.
    expires_in_seconds: Option<u64>,
    /// The token is refused from this instant on (unix milliseconds).
    expires_at: Option<i64>,
}

/// A stored token as the API shows it: everything but the secret, which is never stored.
#[derive(Debug, Serialize, ToSchema)]
struct TokenView {
    id: String,
    role: String,
    subject: String,
    groups: Vec<String>,
    created_at: i64,
    expires_at: Option<i64>,
    expired: bool,
}

impl From<StoredToken> for TokenView {
    fn from(record: StoredToken) -> Self {
        let expired = record
            .expires_at
            .is_some_and(|expires_at| crate::store::now_millis() >= expires_at);
        TokenView {
            id: record.id,
            role: record.role,
            subject: record.subject,
            groups: record.groups,
            created_at: record.created_at,
            expires_at: record.expires_at,
            expired,
        }
    }
}

/// A newly issued token: the secret, shown once, and the stored record.
#[derive(Debug, Serialize, ToSchema)]
struct Issued {
    token: String,
    #[serde(flatten)]
    view: TokenView,
}

/// The store issued tokens live in: the conversation engine's.
fn token_store(state: &AppState) -> Result<&dyn crate::store::Store, ApiError> {
    let orchestrator = state.chat()?;
    Ok(orchestrator.store().as_ref())
}

/// When a requested token expires (unix milliseconds): at most one of the two forms, in the
/// future.
fn expiry(request: &TokenRequest) -> Result<Option<i64>, ApiError> {
    let now = crate::store::now_millis();
    let expires_at = match (request.expires_in_seconds, request.expires_at) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "give at most one of `expires_in_seconds` and `expires_at`".to_string(),
            ));
        }
        (Some(seconds), None) => {
            let millis = i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
            Some(now.saturating_add(millis))
        }
        (None, at) => at,
    };
    match expires_at {
        Some(at) if at <= now => Err(ApiError::BadRequest(
            "the expiry must be in the future".to_string(),
        )),
        other => Ok(other),
    }
}

/// Issues a bearer token, stored hashed so it survives restarts; the plaintext is shown once.
#[utoipa::path(post, path = "/api/admin/tokens", tag = "admin",
    request_body(content = TokenRequest, description = "`{role, subject, groups?, expires_in_seconds? | expires_at? (unix ms)}`"),
    responses((status = 201, description = "`{token, id, role, subject, groups, created_at, expires_at}`", body = Issued),
              (status = 400, description = "`invalid_id`, `bad_request`"), (status = 403, description = "`forbidden`")))]
async fn issue_token(
    State(state): State<AppState>,
    _admin: Authorized<Admins>,
    Json(request): Json<TokenRequest>,
) -> Result<(StatusCode, axum::Json<Issued>), ApiError> {
    let expires_at = expiry(&request)?;
    let identity = Identity {
        role: request.role,
        subject: request.subject,
        groups: request.groups,
    };
    let issued = state
        .auth
        .issue_stored(token_store(&state)?, identity, expires_at)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Issued {
            token: issued.token,
            view: issued.record.into(),
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
struct TokenList {
    tokens: Vec<TokenView>,
}

/// The tokens issued through the API, oldest first, without secrets.
#[utoipa::path(get, path = "/api/admin/tokens", tag = "admin",
    responses((status = 200, description = "`{tokens: [{id, role, subject, groups, created_at, expires_at, expired}]}`", body = TokenList),
              (status = 403, description = "`forbidden`")))]
async fn list_tokens(
    State(state): State<AppState>,
    _admin: Authorized<Admins>,
) -> Result<axum::Json<TokenList>, ApiError> {
    let stored = token_store(&state)?.tokens().await?;
    Ok(axum::Json(TokenList {
        tokens: stored.into_iter().map(TokenView::from).collect(),
    }))
}

/// Revokes an issued token: its holder gets 401 from the moment this answers.
#[utoipa::path(delete, path = "/api/admin/tokens/{id}", tag = "admin",
    params(("id" = String, Path, description = "the token's id, as returned at issue")),
    responses((status = 200, description = "the revoked token", body = TokenView), (status = 404, description = "`not_found`"),
              (status = 403, description = "`forbidden`")))]
async fn revoke_token(
    State(state): State<AppState>,
    _admin: Authorized<Admins>,
    Path(id): Path<String>,
) -> Result<axum::Json<TokenView>, ApiError> {
    let revoked = state.auth.revoke(token_store(&state)?, &id).await?;
    Ok(axum::Json(revoked.into()))
}

#[derive(Debug, Serialize, ToSchema)]
struct ParameterView {
    #[schema(value_type = String)]
    key: &'static str,
    value: String,
    #[schema(value_type = String)]
    default: &'static str,
    #[schema(value_type = String)]
    meaning: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
struct ParameterList {
    parameters: Vec<ParameterView>,
}

/// The chat parameters with their values, defaults and meanings.
#[utoipa::path(get, path = "/api/admin/parameters", tag = "admin",
    responses((status = 200, description = "`{parameters}`", body = ParameterList), (status = 403, description = "`forbidden`")))]
async fn list_parameters(
    State(state): State<AppState>,
    _admin: Authorized<Admins>,
) -> Result<axum::Json<ParameterList>, ApiError> {
    let orchestrator = state.chat()?;
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

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SetParameter {
    key: String,
    value: String,
}

/// Sets one chat parameter.
#[utoipa::path(put, path = "/api/admin/parameters", tag = "admin",
    request_body = SetParameter,
    responses((status = 200, description = "`{key, value}`", body = SetParameter), (status = 422, description = "`invalid_parameter`")))]
async fn set_parameter(
    State(state): State<AppState>,
    _admin: Authorized<Admins>,
    Json(request): Json<SetParameter>,
) -> Result<axum::Json<SetParameter>, ApiError> {
    let orchestrator = state.chat()?;
    parameters::validate(&request.key, &request.value)
        .map_err(|error| ApiError::InvalidParameter(error.to_string()))?;
    orchestrator
        .store()
        .set_parameter(&request.key, &request.value)
        .await?;
    orchestrator.forget_parameters();
    Ok(axum::Json(request))
}
