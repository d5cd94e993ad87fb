//! A chat's transcript for the people serving it (and admins supervising the desk), with
//! search inside it, and staff writing in a chat (the attendance service checks who may
//! and expands a quick reply's shortcut; see [`Attendance::write`]). A chat still waiting in
//! the queue may be read, before capturing it, by anyone who could capture it (a person of
//! the desk who serves its channel): the console previews what the requester and the
//! assistant said.

use super::conversations::{MessageList, MessageView, Posted};
use super::desk::{DeskViewer, desk_viewer, staff_person};
use super::{Json, Path, Query};
use crate::attendance::Attendance;
use crate::desk::{ChatState, DeskBook, Who};
use crate::http::auth::{Authenticated, Authorized, Staff};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::state::AppState;
use crate::store;
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(transcript, write))
}

#[derive(Debug, Deserialize)]
struct TranscriptQuery {
    after: Option<i64>,
    limit: Option<u32>,
    /// Only messages containing this text (accents and case ignored).
    q: Option<String>,
}

/// The caller may read conversation `id` (serves or served it, could capture it from the
/// queue, or an analysts' chat of theirs; an admin, any chat of the desk); 403 otherwise, 404
/// when it does not exist.
async fn check_reader(desk: &Attendance, viewer: &DeskViewer, id: &str) -> Result<(), ApiError> {
    desk.orchestrator().conversation_by_id(id).await?;
    let may = match viewer {
        DeskViewer::Person(person) => {
            desk.may_read(&Who::Person(person.clone()), id).await
                || desk.book(|book| may_preview(book, person, id)).await
        }
        DeskViewer::Supervisor => desk.may_supervise(id).await,
    };
    if may {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only the people serving this conversation may read it".to_string(),
        ))
    }
}

/// Whether `person` may preview chat `id`: it waits in the queue and they serve its channel,
/// so they could capture it.
fn may_preview(book: &DeskBook, person: &str, id: &str) -> bool {
    let Some(record) = book.record(id) else {
        return false;
    };
    record.state == ChatState::Queued
        && book
            .desk()
            .person(person)
            .is_some_and(|someone| someone.channels.contains(&record.channel))
}

/// A conversation's transcript for the people serving it, those who could capture it from
/// the queue, and admins; `q` searches inside it.
#[utoipa::path(get, path = "/api/desk/chats/{id}/messages", tag = "attendance",
    params(("id" = String, Path, description = "conversation id"),
           ("after" = Option<i64>, Query, description = "last sequence number seen"),
           ("limit" = Option<u32>, Query, description = "page size"),
           ("q" = Option<String>, Query, description = "search inside the conversation")),
    responses((status = 200, description = "`{messages}`", body = MessageList),
              (status = 403, description = "`forbidden`", body = ErrorBody)))]
async fn transcript(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
    Query(query): Query<TranscriptQuery>,
) -> Result<axum::Json<MessageList>, ApiError> {
    let desk = state.desk()?;
    let viewer = desk_viewer(desk, &identity).await?;
    check_reader(desk, &viewer, &id).await?;
    let store = desk.orchestrator().store();
    let mut messages = Vec::new();
    let mut after = query.after.unwrap_or(0).max(0);
    let limit = query.limit.unwrap_or(200).clamp(1, store::MAX_PAGE);
    let needle = query.q.as_deref().map(crate::desk::fold);
    loop {
        let page = store.messages_after(&id, after, store::MAX_PAGE).await?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.seq;
        let full = page.len() as u32 == store::MAX_PAGE;
        for message in page {
            let keep = needle
                .as_ref()
                .is_none_or(|needle| crate::desk::fold(&message.body).contains(needle.as_str()));
            if keep {
                messages.push(MessageView::from(message));
            }
        }
        if !full || messages.len() >= limit as usize || needle.is_none() {
            break;
        }
    }
    messages.truncate(limit as usize);
    Ok(axum::Json(MessageList { messages }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct WriteBody {
    text: String,
    client_message_id: Option<String>,
}

/// Writes in the chat as the caller; a text that is exactly a quick reply's shortcut is
/// sent as that reply in the conversation's language.
#[utoipa::path(post, path = "/api/desk/chats/{id}/messages", tag = "attendance",
    params(("id" = String, Path, description = "conversation id")),
    request_body = WriteBody,
    responses((status = 200, description = "`{duplicate, messages}`", body = Posted),
              (status = 403, description = "`forbidden`", body = ErrorBody)))]
async fn write(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Staff>,
    Path(id): Path<String>,
    Json(body): Json<WriteBody>,
) -> Result<axum::Json<Posted>, ApiError> {
    let desk = state.desk()?;
    let person = staff_person(desk, &identity).await?;
    let outcome = desk
        .write(&person, &id, &body.text, body.client_message_id)
        .await?;
    Ok(axum::Json(Posted::from(outcome)))
}
