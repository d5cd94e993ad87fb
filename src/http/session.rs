//! Staff sign-in with a user name and password, and the accounts behind it. Signing in sets
//! the session cookie (`ponte_session`: `HttpOnly`, `Secure`, `SameSite=Strict`, 12 hours),
//! which every route then accepts in place of a bearer token from Ponte's own pages (see
//! `crate::http::auth`); bearer tokens stay for the API. The sessions and the attempt limits
//! are `crate::auth::sessions`'s.
//!
//! - `POST /api/auth/sign-in` `{username, password}` → `{username, role, subject, groups,
//!   expires_at}` and the cookie; 401 `invalid_credentials` (unknown name or wrong password
//!   alike), 429 `too_many_attempts` with `Retry-After`
//! - `POST /api/auth/sign-out` → `{ended}` and the cookie cleared (also when it had ended)
//! - `GET /api/auth/session` → who the caller is (cookie or token), to pages deciding whether
//!   to show the sign-in form
//! - `GET /api/admin/accounts`, `PUT /api/admin/accounts/{username}` `{password?, role,
//!   subject, groups?}`, `DELETE /api/admin/accounts/{username}` (admins): a new password must
//!   have at least 10 characters (422 `weak_password`) and ends the account's sessions

use super::{Json, Path};
use crate::auth::Role;
use crate::auth::sessions::{SESSION_TTL, Sessions};
use crate::http::auth::{Admins, Authenticated, Authorized, SESSION_COOKIE, session_secret};
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::StaffAccount;
use axum::extract::{ConnectInfo, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in))
        .routes(routes!(sign_out))
        .routes(routes!(session))
        .routes(routes!(list_accounts))
        .routes(routes!(put_account, delete_account))
}

/// The address the request came from, when the server knows it (`ponte serve` does; a
/// router called in process does not).
struct ClientAddress(Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip());
        Ok(ClientAddress(address))
    }
}

fn sessions(state: &AppState) -> Result<&Arc<Sessions>, ApiError> {
    state.sessions.as_ref().ok_or(ApiError::Unavailable)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SignInRequest {
    username: String,
    password: String,
}

/// Who a signed-in caller is.
#[derive(Debug, Serialize, ToSchema)]
struct SessionView {
    /// The account's user name; absent for a bearer token.
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    /// `attendant`, `analyst`, `knowledge_manager`, `admin` (or `requester` for a token).
    role: String,
    subject: String,
    groups: Vec<String>,
    /// Unix milliseconds the session ends at; absent for a bearer token.
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
}

/// Signs a staff member in with a user name and password: sets the session cookie.
#[utoipa::path(post, path = "/api/auth/sign-in", tag = "auth", security(()),
    request_body(content = SignInRequest, description = "`{username, password}`"),
    responses((status = 200, description = "signed in; the session cookie is set", body = SessionView),
              (status = 401, description = "`invalid_credentials`"),
              (status = 429, description = "`too_many_attempts`, with `Retry-After`"),
              (status = 503, description = "`unavailable`: no store on this server")))]
async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    Json(request): Json<SignInRequest>,
) -> Result<Response, ApiError> {
    let signed_in = sessions(&state)?
        .sign_in(&request.username, &request.password, client)
        .await?;
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
        signed_in.secret,
        SESSION_TTL.as_secs()
    );
    let view = SessionView {
        username: Some(signed_in.username),
        role: signed_in.identity.role.as_str().to_owned(),
        subject: signed_in.identity.subject,
        groups: signed_in.identity.groups,
        expires_at: Some(signed_in.expires_at),
    };
    let mut response = axum::Json(view).into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|error| ApiError::Internal(error.to_string()))?,
    );
    Ok(response)
}

/// What signing out did.
#[derive(Debug, Serialize, ToSchema)]
struct SignedOut {
    /// Whether a live session was ended (false when there was none).
    ended: bool,
}

/// Ends the caller's session and clears the cookie; also answers when there was none.
#[utoipa::path(post, path = "/api/auth/sign-out", tag = "auth", security(()),
    responses((status = 200, description = "signed out; the cookie is cleared", body = SignedOut)))]
async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let mut ended = false;
    if let (Some(secret), Some(sessions)) = (session_secret(&headers), state.sessions.as_ref()) {
        ended = sessions.sign_out(&secret).await?;
    }
    let cleared =
        format!("{SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
    let mut response = axum::Json(SignedOut { ended }).into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_str(&cleared).map_err(|error| ApiError::Internal(error.to_string()))?,
    );
    Ok(response)
}

/// Who the caller is: from the session cookie or a bearer token.
#[utoipa::path(get, path = "/api/auth/session", tag = "auth",
    responses((status = 200, description = "the caller", body = SessionView),
              (status = 401, description = "`unauthorized`: not signed in")))]
async fn session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Authenticated(identity): Authenticated,
) -> Result<axum::Json<SessionView>, ApiError> {
    let bearer = headers.contains_key(axum::http::header::AUTHORIZATION);
    let from_cookie = match session_secret(&headers) {
        Some(secret) if !bearer => Some(sessions(&state)?.identify(&secret).await?),
        _ => None,
    };
    let expires_at = from_cookie.as_ref().map(|session| session.expires_at);
    Ok(axum::Json(SessionView {
        username: from_cookie.map(|session| session.username),
        role: identity.role.as_str().to_owned(),
        subject: identity.subject,
        groups: identity.groups,
        expires_at,
    }))
}

/// An account as the API shows it: never its password hash.
#[derive(Debug, Serialize, ToSchema)]
struct AccountView {
    username: String,
    role: String,
    subject: String,
    groups: Vec<String>,
    created_at: i64,
    updated_at: i64,
}

impl From<StaffAccount> for AccountView {
    fn from(account: StaffAccount) -> Self {
        AccountView {
            username: account.username,
            role: account.role,
            subject: account.subject,
            groups: account.groups,
            created_at: account.created_at,
            updated_at: account.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
struct AccountList {
    accounts: Vec<AccountView>,
}

/// The staff accounts that sign in with a password, by user name.
#[utoipa::path(get, path = "/api/admin/accounts", tag = "admin",
    responses((status = 200, description = "`{accounts}`", body = AccountList),
              (status = 403, description = "`forbidden`")))]
async fn list_accounts(
    State(state): State<AppState>,
    _admin: Authorized<Admins>,
) -> Result<axum::Json<AccountList>, ApiError> {
    let accounts = sessions(&state)?.accounts().await?;
    Ok(axum::Json(AccountList {
        accounts: accounts.into_iter().map(AccountView::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AccountRequest {
    /// Required for a new account; a new one ends the account's sessions.
    password: Option<String>,
    /// `attendant`, `analyst`, `knowledge_manager` or `admin`.
    #[schema(value_type = String)]
    role: Role,
    /// The staff id the account acts as (the desk's person id).
    subject: String,
    #[serde(default)]
    groups: Vec<String>,
}

/// Creates or changes a staff account.
#[utoipa::path(put, path = "/api/admin/accounts/{username}", tag = "admin",
    params(("username" = String, Path, description = "the user name to sign in with")),
    request_body(content = AccountRequest, description = "`{password?, role, subject, groups?}`"),
    responses((status = 200, description = "the account", body = AccountView),
              (status = 400, description = "`invalid_id`, `bad_request`"),
              (status = 422, description = "`weak_password`"),
              (status = 403, description = "`forbidden`")))]
async fn put_account(
    State(state): State<AppState>,
    _admin: Authorized<Admins>,
    Path(username): Path<String>,
    Json(request): Json<AccountRequest>,
) -> Result<axum::Json<AccountView>, ApiError> {
    if request.role == Role::Requester {
        return Err(ApiError::BadRequest(
            "requesters sign in through the portal, not with a staff account".to_string(),
        ));
    }
    let account = sessions(&state)?
        .put_account(
            &username,
            request.password.as_deref(),
            request.role,
            &request.subject,
            request.groups,
        )
        .await?;
    Ok(axum::Json(account.into()))
}

/// Deletes a staff account and ends its sessions.
#[utoipa::path(delete, path = "/api/admin/accounts/{username}", tag = "admin",
    params(("username" = String, Path, description = "the user name")),
    responses((status = 200, description = "the deleted account", body = AccountView),
              (status = 404, description = "`not_found`"), (status = 403, description = "`forbidden`")))]
async fn delete_account(
    State(state): State<AppState>,
    _admin: Authorized<Admins>,
    Path(username): Path<String>,
) -> Result<axum::Json<AccountView>, ApiError> {
    let account = sessions(&state)?.delete_account(&username).await?;
    Ok(axum::Json(account.into()))
}
