//! Attachments: images, videos, audio and files sent in a conversation by its requester or
//! by the people serving it. The body is the file itself (its `Content-Type` decides the
//! kind, from an allow-list, each kind with its size limit); it is written to disk, recorded
//! in the desk and announced in the conversation as a message carrying the attachment. Only
//! the conversation's participants may download it: anyone else gets 403, whether or not the
//! attachment exists.

use super::{Path, Query};
use crate::attendance::files;
use crate::auth::{Identity, Role};
use crate::desk::ops::check_media;
use crate::desk::{Attachment, DeskOp, Who};
use crate::http::auth::Authenticated;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::orchestrator::Requester;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The largest attachment body (the video limit).
pub const MAX_ATTACHMENT_BYTES: usize = crate::desk::ops::MAX_VIDEO_BYTES as usize;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .routes(routes!(download))
}

#[derive(Debug, Deserialize)]
struct UploadQuery {
    /// The file's name as shown to the other party.
    name: Option<String>,
}

/// Who is calling, as the desk names participants.
async fn who(state: &AppState, identity: &Identity, id: &str) -> Result<Who, ApiError> {
    match identity.role {
        Role::Requester => {
            let chat = state.orchestrator.as_ref().ok_or(ApiError::Unavailable)?;
            let requester = Requester {
                id: identity.subject.clone(),
                groups: identity.groups.clone(),
            };
            chat.conversation(&requester, id).await?;
            Ok(Who::Requester(identity.subject.clone()))
        }
        Role::Attendant | Role::Analyst => Ok(Who::Person(identity.subject.clone())),
        _ => Err(ApiError::Forbidden(
            "attachments belong to the conversation's participants".to_string(),
        )),
    }
}

/// A name safe to show and to put in a header: no path, no control characters.
fn clean_name(name: Option<String>) -> String {
    let name = name.unwrap_or_default();
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(120)
        .collect();
    if cleaned.trim().is_empty() {
        "attachment".to_string()
    } else {
        cleaned.trim().to_string()
    }
}

/// Sends a file in the conversation (its participants only).
#[utoipa::path(post, path = "/api/conversations/{id}/attachments", tag = "attachments",
    params(("id" = String, Path, description = "conversation id"),
           ("name" = Option<String>, Query, description = "file name")),
    request_body(content = Vec<u8>, description = "the file; its Content-Type decides the kind", content_type = "application/octet-stream"),
    responses((status = 201, description = "`{attachment, message}`", body = Uploaded),
              (status = 413, description = "`attachment_too_large`"),
              (status = 415, description = "`unsupported_media_type`")))]
async fn upload(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, axum::Json<Uploaded>), ApiError> {
    let desk = state.desk()?;
    let who = who(&state, &identity, &id).await?;
    let may = match &who {
        Who::Requester(_) => true,
        Who::Person(person) => {
            desk.book(|book| book.may_write(person, &id) == Some(true))
                .await
        }
    };
    if !may {
        return Err(ApiError::Forbidden(
            "only the conversation's participants may send files in it".to_string(),
        ));
    }
    if body.is_empty() {
        return Err(ApiError::EmptyText("the file is empty".to_string()));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let kind = check_media(&content_type, body.len() as u64)?;
    let attachment_id = crate::orchestrator::new_id().replace('-', "");
    files::write(desk.attachments_dir(), &attachment_id, &body).await?;
    let uploader = match &who {
        Who::Requester(id) | Who::Person(id) => id.clone(),
    };
    let attachment = Attachment {
        id: attachment_id.clone(),
        conversation_id: id.clone(),
        uploader: uploader.clone(),
        file_name: clean_name(query.name),
        content_type: content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase(),
        size: body.len() as u64,
        kind,
        now_ms: desk.now_ms(),
    };
    desk.execute(DeskOp::AddAttachment {
        attachment: attachment.clone(),
    })
    .await?;
    let payload = json!({ "attachment": attachment });
    let text = format!("📎 {}", attachment.file_name);
    let chat = desk.orchestrator();
    let message = match &who {
        Who::Person(person) => chat
            .staff_message(&id, person, &text, Some(payload), None)
            .await?
            .messages
            .into_iter()
            .next(),
        Who::Requester(requester) => {
            Some(chat.requester_note(&id, requester, &text, payload).await?)
        }
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(Uploaded {
            attachment,
            message: message.map(super::conversations::MessageView::from),
        }),
    ))
}

/// A file sent: the desk's record of it and the message announcing it.
#[derive(Debug, Serialize, ToSchema)]
struct Uploaded {
    attachment: Attachment,
    message: Option<super::conversations::MessageView>,
}

/// Downloads an attachment (the conversation's participants, and admins supervising).
#[utoipa::path(get, path = "/api/attachments/{id}", tag = "attachments",
    params(("id" = String, Path, description = "attachment id")),
    responses((status = 200, description = "the file, with its own Content-Type", body = Vec<u8>, content_type = "application/octet-stream"),
              (status = 403, description = "`forbidden`")))]
async fn download(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let desk = state.desk()?;
    // `None`: an admin supervising the desk, who may read what any chat of it holds.
    let who = match identity.role {
        Role::Requester => Some(Who::Requester(identity.subject.clone())),
        Role::Attendant | Role::Analyst => Some(Who::Person(identity.subject.clone())),
        Role::Admin => None,
        _ => {
            return Err(ApiError::Forbidden(
                "attachments belong to the conversation's participants".to_string(),
            ));
        }
    };
    let attachment = desk
        .book(|book| {
            let attachment = book.attachment(&id)?;
            let may = match &who {
                Some(who) => book.may_read_attachment(who, &id),
                None => book.record(&attachment.conversation_id).is_some(),
            };
            may.then(|| attachment.clone())
        })
        .await
        .ok_or_else(|| ApiError::Forbidden("this attachment is not yours to read".to_string()))?;
    let bytes = files::read(desk.attachments_dir(), &attachment.id).await?;
    let disposition = format!("attachment; filename=\"{}\"", attachment.file_name);
    Ok((
        [
            (header::CONTENT_TYPE, attachment.content_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    )
        .into_response())
}
