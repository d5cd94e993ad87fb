//! Attachments: images, videos, audio and files sent in a conversation by its requester or
//! by the people serving it. The body is the file itself (its `Content-Type` decides the
//! kind, from an allow-list, each kind with its size limit); it is written to disk, recorded
//! in the desk and announced in the conversation as a message carrying the attachment. Only
//! the conversation's participants may download it: anyone else gets 403, whether or not the
//! attachment exists.
//!
//! In a conversation handed to an external desk through a bridge, a requester's file is not
//! the desk's: it is recorded as a bridge file and leaves in a `message.created` event with a
//! signed download link; the external agent's files, fetched by the bridge, are downloaded
//! here by the requester like any other.

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
            let chat = state.chat()?;
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
    crate::desk::ops::clean_file_name(&name.unwrap_or_default())
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
    if identity.role == Role::Requester
        && let Some(uploaded) =
            bridged_upload(&state, &identity, &id, &query, &headers, &body).await?
    {
        return Ok((StatusCode::CREATED, axum::Json(uploaded)));
    }
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
    let content_type = media_type(&headers);
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
        content_type,
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

/// A requester's file in a conversation handed to a bridge (`None` when it is not): stored,
/// recorded as the bridge's, and announced with the event that links it.
async fn bridged_upload(
    state: &AppState,
    identity: &Identity,
    id: &str,
    query: &UploadQuery,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Option<Uploaded>, ApiError> {
    let (Some(chat), Some(bridges)) = (state.orchestrator.as_ref(), state.bridges.as_ref()) else {
        return Ok(None);
    };
    let requester = Requester {
        id: identity.subject.clone(),
        groups: identity.groups.clone(),
    };
    let Some(bridge_id) = chat.bridge_of(&requester, id).await? else {
        return Ok(None);
    };
    let settings = bridges.file_settings().ok_or(ApiError::Unavailable)?;
    if body.is_empty() {
        return Err(ApiError::EmptyText("the file is empty".to_string()));
    }
    let content_type = media_type(headers);
    let kind = check_media(&content_type, body.len() as u64)?;
    let file = crate::store::BridgeFile {
        id: crate::orchestrator::new_id().replace('-', ""),
        conversation_id: id.to_string(),
        bridge_id,
        origin: crate::store::FileOrigin::Requester,
        file_name: clean_name(query.name.clone()),
        content_type,
        kind: crate::bridge::files::kind_name(kind).to_string(),
        size: body.len() as u64,
        source_url: None,
        created_at: crate::store::now_millis(),
    };
    files::write(&settings.dir, &file.id, body).await?;
    let file = chat.store().put_bridge_file(file).await?;
    let attachment = Attachment {
        id: file.id.clone(),
        conversation_id: file.conversation_id.clone(),
        uploader: identity.subject.clone(),
        file_name: file.file_name.clone(),
        content_type: file.content_type.clone(),
        size: file.size,
        kind,
        now_ms: file.created_at.max(0) as u64,
    };
    let payload = json!({ "attachment": attachment });
    let message = chat.requester_file(&requester, &file, payload).await?;
    Ok(Some(Uploaded {
        attachment,
        message: Some(super::conversations::MessageView::from(message)),
    }))
}

/// The body's type as sent (`application/octet-stream` without one), lower case, without
/// parameters.
fn media_type(headers: &HeaderMap) -> String {
    crate::desk::ops::media_essence(
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("application/octet-stream"),
    )
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
    if let Some(desk) = state.attendance.as_ref() {
        let attachment = desk
            .book(|book| {
                let attachment = book.attachment(&id)?;
                let may = match &who {
                    Some(who) => book.may_read_attachment(who, &id),
                    None => book.record(&attachment.conversation_id).is_some(),
                };
                may.then(|| attachment.clone())
            })
            .await;
        if let Some(attachment) = attachment {
            let bytes = files::read(desk.attachments_dir(), &attachment.id).await?;
            return Ok(file_response(
                bytes,
                &attachment.content_type,
                &attachment.file_name,
            ));
        }
    }
    if let Some(response) = bridged_download(&state, &identity, who.as_ref(), &id).await? {
        return Ok(response);
    }
    Err(ApiError::Forbidden(
        "this attachment is not yours to read".to_string(),
    ))
}

/// A file that crossed a bridge, for its conversation's requester (or an admin); `None`
/// when there is no such file or it is not the caller's.
async fn bridged_download(
    state: &AppState,
    identity: &Identity,
    who: Option<&Who>,
    id: &str,
) -> Result<Option<Response>, ApiError> {
    let (Some(chat), Some(bridges)) = (state.orchestrator.as_ref(), state.bridges.as_ref()) else {
        return Ok(None);
    };
    let Some(settings) = bridges.file_settings() else {
        return Ok(None);
    };
    if crate::store::check_id("attachment id", id).is_err() {
        return Ok(None);
    }
    let Some(file) = chat.store().bridge_file(id).await? else {
        return Ok(None);
    };
    let may = match who {
        None => true,
        Some(Who::Requester(_)) => {
            let requester = Requester {
                id: identity.subject.clone(),
                groups: identity.groups.clone(),
            };
            chat.conversation(&requester, &file.conversation_id)
                .await
                .is_ok()
        }
        Some(Who::Person(_)) => false,
    };
    if !may {
        return Ok(None);
    }
    let bytes = files::read(&settings.dir, &file.id).await?;
    Ok(Some(file_response(
        bytes,
        &file.content_type,
        &file.file_name,
    )))
}

/// A file's bytes as a download: its own type, its name, never sniffed.
pub(super) fn file_response(bytes: Vec<u8>, content_type: &str, file_name: &str) -> Response {
    let disposition = format!("attachment; filename=\"{file_name}\"");
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    )
        .into_response()
}
