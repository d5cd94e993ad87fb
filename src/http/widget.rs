//! What the portal widget needs before it has a token: an anonymous guest session.
//!
//! - `POST /api/widget/session` `{name?, email?}` (the body is optional) → 201 `{token,
//!   requester_id}`: a new guest requester who sees public knowledge only. The widget keeps
//!   the token in the browser, so a reload or a server restart resumes the same conversation.
//!   When guest chat is off (`PONTE_GUEST_CHAT=false`) it answers 403 `guest_chat_disabled`,
//!   and the portal passes its signed-in user's requester token to the widget instead
//!   (`data-token`). A name (and e-mail) given, from the widget's pre-chat form, becomes the
//!   guest's contact in the desk, so attendants see a person; a name is required with an
//!   e-mail, and always while the pre-chat form is on (parameter `prechat_form`). A refused
//!   form is 422: `name_required`, `name_too_long` (more than 80 characters) or
//!   `invalid_email`.
//! - `GET /api/widget/config` → 200 `{attachments: [{content_type, kind, max_bytes}],
//!   prechat_form, max_name_chars}`: what the widget needs to know before sending a file (the
//!   allowed types and each one's size limit, the same rules the upload applies), so it can
//!   refuse a file without sending it, and whether it asks a guest's name first.

use crate::desk::{Contact, ContractStatus, DeskOp};
use crate::guest::{GuestProfile, MAX_NAME_CHARS};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
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
    /// Whether a guest gives their name (required) and e-mail (optional) before the chat.
    prechat_form: bool,
    /// The longest name a guest may give, in characters.
    max_name_chars: usize,
}

/// Whether the pre-chat form is on (parameter `prechat_form`; off when unset or unreadable).
async fn prechat_form(state: &AppState) -> bool {
    let Ok(chat) = state.chat() else {
        return false;
    };
    match chat.store().parameter("prechat_form").await {
        Ok(Some(value)) => crate::parameters::flag("prechat_form", &value).unwrap_or(false),
        Ok(None) => false,
        Err(error) => {
            tracing::warn!(%error, "the pre-chat form's parameter could not be read");
            false
        }
    }
}

/// What the widget checks before sending a file (the allowed types and their size limits)
/// and whether it asks a guest's name first.
#[utoipa::path(get, path = "/api/widget/config", tag = "widget", security(()),
    responses((status = 200, description = "`{attachments: [{content_type, kind, max_bytes}], prechat_form, max_name_chars}`", body = WidgetConfig)))]
async fn widget_config(State(state): State<AppState>) -> axum::Json<WidgetConfig> {
    let attachments = crate::desk::ops::ALLOWED_MEDIA
        .iter()
        .map(|(content_type, kind)| AttachmentRule {
            content_type,
            kind: *kind,
            max_bytes: kind.max_bytes(),
        })
        .collect();
    axum::Json(WidgetConfig {
        attachments,
        prechat_form: prechat_form(&state).await,
        max_name_chars: MAX_NAME_CHARS,
    })
}

/// What a guest says about themself in the pre-chat form.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct GuestBody {
    /// Required while the pre-chat form is on; at most 80 characters.
    name: Option<String>,
    email: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct GuestSession {
    token: String,
    requester_id: String,
}

/// Starts an anonymous guest session for the portal widget, with the guest's name and e-mail
/// when the pre-chat form gave them.
#[utoipa::path(post, path = "/api/widget/session", tag = "widget", security(()),
    request_body(content = Option<GuestBody>, description = "optional: the pre-chat form"),
    responses((status = 201, description = "`{token, requester_id}`", body = GuestSession),
        (status = 403, description = "`guest_chat_disabled`", body = ErrorBody),
        (status = 422, description = "`name_required`, `name_too_long`, `invalid_email`", body = ErrorBody)))]
async fn guest_session(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, axum::Json<GuestSession>), ApiError> {
    let body: GuestBody = if body.iter().all(u8::is_ascii_whitespace) {
        GuestBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|error| ApiError::MalformedJson(error.to_string()))?
    };
    let profile = match (body.name.as_deref(), body.email.as_deref()) {
        (Some(name), email) => Some(GuestProfile::new(name, email)?),
        // A contact is a name: an e-mail alone would name nobody.
        (None, Some(_)) => return Err(ApiError::NameRequired),
        (None, None) if prechat_form(&state).await => return Err(ApiError::NameRequired),
        (None, None) => None,
    };
    let (token, requester_id) = state
        .auth
        .issue_guest()
        .ok_or(ApiError::GuestChatDisabled)??;
    if let (Some(profile), Ok(desk)) = (profile, state.desk()) {
        let contact = Contact {
            id: requester_id.clone(),
            name: profile.name,
            email: profile.email,
            phone: None,
            project_id: None,
            contract: None,
            contract_status: ContractStatus::Active,
        };
        desk.execute(DeskOp::UpsertContact { contact }).await?;
    }
    Ok((
        StatusCode::CREATED,
        axum::Json(GuestSession {
            token,
            requester_id,
        }),
    ))
}
