//! What the portal widget needs before it has a token: an anonymous guest session.
//!
//! - `POST /api/widget/session` → 201 `{token, requester_id}`: a new guest requester who sees
//!   public knowledge only. The widget keeps the token in the browser, so a reload or a
//!   server restart resumes the same conversation. When guest chat is off
//!   (`PONTE_GUEST_CHAT=false`) it answers 403 `guest_chat_disabled`, and the portal passes
//!   its signed-in user's requester token to the widget instead (`data-token`).

use crate::http::error::ApiError;
use crate::http::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(guest_session))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct GuestSession {
    token: String,
    requester_id: String,
}

/// Starts an anonymous guest session for the portal widget.
#[utoipa::path(post, path = "/api/widget/session", tag = "widget", security(()),
    responses((status = 201, description = "`{token, requester_id}`", body = GuestSession),
        (status = 403, description = "`guest_chat_disabled`")))]
async fn guest_session(
    State(state): State<AppState>,
) -> Result<(StatusCode, axum::Json<GuestSession>), ApiError> {
    let (token, requester_id) = state
        .auth
        .issue_guest()
        .ok_or(ApiError::GuestChatDisabled)??;
    Ok((
        StatusCode::CREATED,
        axum::Json(GuestSession {
            token,
            requester_id,
        }),
    ))
}
