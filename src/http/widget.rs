//! What the portal widget needs before it has a token: an anonymous guest session.
//!
//! - `POST /api/widget/session` → 201 `{token, requester_id}`: a new guest requester who sees
//!   public knowledge only. The widget keeps the token in the browser, so a reload or a
//!   server restart resumes the same conversation. When guest chat is off
//!   (`PONTE_GUEST_CHAT=false`) it answers 403 `guest_chat_disabled`, and the portal passes
//!   its signed-in user's requester token to the widget instead (`data-token`).
//! - `GET /api/widget/config` → 200 `{attachments: [{content_type, kind, max_bytes}]}`: what
//!   the widget needs to know before sending a file (the allowed types and each one's size
//!   limit, the same rules the upload applies), so it can refuse a file without sending it.

use crate::http::error::ApiError;
use crate::http::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(guest_session))
        .routes(routes!(widget_config))
}

/// A type of file the requester may send, and its size limit.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct AttachmentRule {
    content_type: &'static str,
    kind: crate::desk::AttachmentKind,
    max_bytes: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct WidgetConfig {
    /// The allow-listed file types; any other is refused with 415 `unsupported_media_type`,
    /// a larger file with 413 `attachment_too_large`.
    attachments: Vec<AttachmentRule>,
}

/// What the widget checks before sending a file: the allowed types and their size limits.
#[utoipa::path(get, path = "/api/widget/config", tag = "widget", security(()),
    responses((status = 200, description = "`{attachments: [{content_type, kind, max_bytes}]}`", body = WidgetConfig)))]
async fn widget_config() -> axum::Json<WidgetConfig> {
    let attachments = crate::desk::ops::ALLOWED_MEDIA
        .iter()
        .map(|(content_type, kind)| AttachmentRule {
            content_type,
            kind: *kind,
            max_bytes: kind.max_bytes(),
        })
        .collect();
    axum::Json(WidgetConfig { attachments })
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
