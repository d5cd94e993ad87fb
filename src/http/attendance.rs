//! Working chats: the attendance list (queued / in progress / closed, with search by
//! ticket, contact and attendant, unread markers and the chat-icon alert), capture,
//! decline, transfer, invite by `@name`, leave, close with a reason and a closing message,
//! reopen, tags, reading and searching a transcript, writing (a quick reply's shortcut is
//! expanded), running a macro, outbound conversations and analysts' internal chats; and
//! the requester's side of routing: their queue position and the specialists they may pick.

use super::desk::{DeskViewer, desk_viewer, staff_person};
use super::{Json, Path, Query};
use crate::attendance::Attendance;
use crate::auth::{Analysts, Authenticated, Authorized, Identity, Requesters, Role, Staff};
use crate::conversation::MAX_TEXT_CHARS;
use crate::desk::{ChatState, DeskError, DeskOp, ListFilter, Who};
use crate::error::ApiError;
use crate::lang::Language;
use crate::orchestrator::Requester;
use crate::state::AppState;
use crate::store::{self, Channel};
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_chats))
        .routes(routes!(alert))
        .routes(routes!(capture))
        .routes(routes!(decline))
        .routes(routes!(transfer))
        .routes(routes!(invite))
        .routes(routes!(leave))
        .routes(routes!(close))
        .routes(routes!(reopen))
        .routes(routes!(add_tag))
        .routes(routes!(remove_tag))
        .routes(routes!(mark_read))
        .routes(routes!(transcript, write))
        .routes(routes!(run_macro))
        .routes(routes!(outbound))
        .routes(routes!(analyst_chat))
        .routes(routes!(queue_status))
        .routes(routes!(choose_specialist))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    /// queued, in_progress, closed or lost.
    state: Option<ChatState>,
    attendant: Option<String>,
    ticket: Option<String>,
    contact: Option<String>,
}

fn record_view(
    book: &crate::desk::DeskBook,
    record: &crate::desk::ChatRecord,
    viewer: &DeskViewer,
) -> Value {
    let mut view = serde_json::to_value(record).unwrap_or_default();
    let unread_by_viewer = match viewer {
        DeskViewer::Person(person) => record.unread_by.contains(person),
        DeskViewer::Supervisor => !record.unread_by.is_empty(),
    };
    let unread = unread_by_viewer || (record.state == ChatState::Queued && record.queue_unread);
    view["unread"] = json!(unread);
    if let Some(contact) = book.contact(&record.requester) {
        view["contact"] = json!({
            "name": contact.name,
            "contract": contact.contract,
            "contract_status": contact.contract_status,
        });
    }
    view["blocked"] = json!(book.is_blocked(&record.requester));
    if record.state == ChatState::Queued
        && let Ok(status) = book.desk().position(&record.conversation_id)
    {
        view["position"] = json!(status.position);
        view["eta_ms"] = json!(status.eta_ms);
    }
    view
}

/// The attendance list (staff; admins supervise it, `unread` then meaning unread by anyone).
#[utoipa::path(get, path = "/api/desk/chats", tag = "attendance",
    params(("state" = Option<String>, Query, description = "queued, in_progress, closed or lost"),
           ("attendant" = Option<String>, Query, description = "responsible or participant"),
           ("ticket" = Option<String>, Query, description = "ticket number"),
           ("contact" = Option<String>, Query, description = "contact name, e-mail or id")),
    responses((status = 200, description = "`{chats}` with `unread`, `contact`, `position`")))]
async fn list_chats(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<Value>, ApiError> {
    let desk = state.desk()?;
    let viewer = desk_viewer(desk, &identity).await?;
    let filter = ListFilter {
        state: query.state,
        attendant: query.attendant,
        ticket: query.ticket,
        contact_query: query.contact,
    };
    let chats = desk
        .book(|book| {
            book.list(&filter)
                .into_iter()
                .map(|record| record_view(book, record, &viewer))
                .collect::<Vec<_>>()
        })
        .await;
    Ok(axum::Json(json!({ "chats": chats })))
}

/// The alert on the chat icon: which conversations have unread requester messages (for an
/// admin, unread by anyone).
#[utoipa::path(get, path = "/api/desk/alert", tag = "attendance",
    responses((status = 200, description = "`{alert, unread, queue_unread}`")))]
async fn alert(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
) -> Result<axum::Json<Value>, ApiError> {
    let desk = state.desk()?;
    let viewer = desk_viewer(desk, &identity).await?;
    let view = desk
        .book(|book| {
            let unread = match &viewer {
                DeskViewer::Person(person) => book.unread_for(person),
                DeskViewer::Supervisor => book.unread_by_anyone(),
            };
            json!({
                "alert": !unread.is_empty(),
                "unread": unread,
                "queue_unread": book.unread_in_queue(),
            })
        })
        .await;
    Ok(axum::Json(view))
}

/// One chat as the caller sees it after an action.
async fn chat_view(desk: &Attendance, id: &str, viewer: &str) -> Value {
    let viewer = DeskViewer::Person(viewer.to_string());
    desk.book(|book| {
        book.record(id)
            .map(|record| record_view(book, record, &viewer))
            .unwrap_or(Value::Null)
    })
    .await
}

/// Runs the operation `make(caller, now_ms)` on chat `id` as the calling staff member and
/// answers with the chat as they see it.
async fn act_as(
    state: &AppState,
    identity: &Identity,
    id: &str,
    make: impl FnOnce(String, u64) -> DeskOp,
) -> Result<axum::Json<Value>, ApiError> {
    let desk = state.desk()?;
    let person = staff_person(desk, identity).await?;
    let op = make(person.clone(), desk.now_ms());
    act(desk, op, id, &person).await
}

async fn act(
    desk: &Arc<Attendance>,
    op: DeskOp,
    id: &str,
    viewer: &str,
) -> Result<axum::Json<Value>, ApiError> {
    desk.execute(op).await?;
    Ok(axum::Json(chat_view(desk, id, viewer).await))
}

/// Takes a chat from the queue (any chat, in any order).
#[utoipa::path(post, path = "/api/desk/chats/{id}/capture", tag = "attendance",
    params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, description = "the chat"), (status = 409, description = "`already_captured`, `attendant_full`, `not_online`")))]
async fn capture(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    act_as(&state, &identity, &id, |person, now_ms| DeskOp::Capture {
        conversation_id: id.clone(),
        person,
        now_ms,
    })
    .await
}

/// The chosen or offered person cannot take the chat: it is offered to someone else.
#[utoipa::path(post, path = "/api/desk/chats/{id}/decline", tag = "attendance",
    params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, description = "the chat")))]
async fn decline(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    act_as(&state, &identity, &id, |person, now_ms| DeskOp::Decline {
        conversation_id: id.clone(),
        person,
        now_ms,
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ToBody {
    to: String,
}

/// Hands the chat to another person; the transcript stays.
#[utoipa::path(post, path = "/api/desk/chats/{id}/transfer", tag = "attendance",
    params(("id" = String, Path, description = "conversation id")),
    request_body(content = Object, description = "`{to}`"),
    responses((status = 200, description = "the chat")))]
async fn transfer(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Staff>,
    Path(id): Path<String>,
    Json(body): Json<ToBody>,
) -> Result<axum::Json<Value>, ApiError> {
    act_as(&state, &identity, &id, |person, now_ms| DeskOp::Transfer {
        conversation_id: id.clone(),
        from: person,
        to: body.to,
        now_ms,
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteBody {
    /// `@name` or the person's id.
    name: String,
}

/// Invites an online colleague by `@name` (or id) into the chat.
#[utoipa::path(post, path = "/api/desk/chats/{id}/invite", tag = "attendance",
    params(("id" = String, Path, description = "conversation id")),
    request_body(content = Object, description = "`{name: \"@ana\"}`"),
    responses((status = 200, description = "the chat"), (status = 404, description = "`unknown_person`")))]
async fn invite(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Staff>,
    Path(id): Path<String>,
    Json(body): Json<InviteBody>,
) -> Result<axum::Json<Value>, ApiError> {
    let desk = state.desk()?;
    let person = staff_person(desk, &identity).await?;
    let wanted = body.name.trim().trim_start_matches('@').to_string();
    let invitee = desk
        .book(|book| {
            let people = &book.desk().state().people;
            if people.contains_key(&wanted) {
                return Some(wanted.clone());
            }
            let folded = crate::desk::fold(&wanted);
            people
                .values()
                .find(|person| crate::desk::fold(&person.name) == folded)
                .map(|person| person.id.clone())
        })
        .await
        .ok_or_else(|| ApiError::Desk(DeskError::UnknownPerson(wanted.clone())))?;
    let op = DeskOp::Invite {
        conversation_id: id.clone(),
        by: person.clone(),
        invitee,
        now_ms: desk.now_ms(),
    };
    act(desk, op, &id, &person).await
}

/// Leaves a chat one was invited to.
#[utoipa::path(post, path = "/api/desk/chats/{id}/leave", tag = "attendance",
    params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, description = "the chat"), (status = 409, description = "`responsible_cannot_leave`")))]
async fn leave(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    act_as(&state, &identity, &id, |person, now_ms| DeskOp::Leave {
        conversation_id: id.clone(),
        person,
        now_ms,
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseBody {
    reason: String,
    closing_message: Option<String>,
}

/// Closes the chat with a required reason; the closing message goes to the requester.
#[utoipa::path(post, path = "/api/desk/chats/{id}/close", tag = "attendance",
    params(("id" = String, Path, description = "conversation id")),
    request_body(content = Object, description = "`{reason, closing_message?}`"),
    responses((status = 200, description = "the chat"), (status = 422, description = "`close_reason_required`, `unknown_close_reason`")))]
async fn close(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Staff>,
    Path(id): Path<String>,
    Json(body): Json<CloseBody>,
) -> Result<axum::Json<Value>, ApiError> {
    identity.require(super::desk::STAFF)?;
    if body
        .closing_message
        .as_ref()
        .is_some_and(|text| text.chars().count() > MAX_TEXT_CHARS)
    {
        return Err(ApiError::TextTooLong(format!(
            "the closing message is longer than {MAX_TEXT_CHARS} characters"
        )));
    }
    act_as(&state, &identity, &id, |person, now_ms| DeskOp::Close {
        conversation_id: id.clone(),
        by: person,
        reason: body.reason,
        closing_message: body.closing_message,
        now_ms,
    })
    .await
}

/// Reopens a closed chat: straight to the caller when they have room, else to the queue.
#[utoipa::path(post, path = "/api/desk/chats/{id}/reopen", tag = "attendance",
    params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, description = "the chat"), (status = 409, description = "`not_closed`")))]
async fn reopen(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    act_as(&state, &identity, &id, |person, now_ms| DeskOp::Reopen {
        conversation_id: id.clone(),
        by: person,
        now_ms,
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TagBody {
    tag: String,
}

/// Tags the chat (its responsible and invited people, as for writing in it).
#[utoipa::path(post, path = "/api/desk/chats/{id}/tags", tag = "attendance",
    params(("id" = String, Path, description = "conversation id")),
    request_body(content = Object, description = "`{tag}`"),
    responses((status = 200, description = "the chat"), (status = 403, description = "`forbidden`"), (status = 422, description = "`invalid_tag`")))]
async fn add_tag(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Staff>,
    Path(id): Path<String>,
    Json(body): Json<TagBody>,
) -> Result<axum::Json<Value>, ApiError> {
    crate::error::check_id("tag", &body.tag)?;
    let desk = state.desk()?;
    let person = staff_person(desk, &identity).await?;
    check_writer(desk, &person, &id).await?;
    let op = DeskOp::Tag {
        conversation_id: id.clone(),
        tag: body.tag,
        by: person.clone(),
    };
    act(desk, op, &id, &person).await
}

/// Removes a tag (the same people as tagging).
#[utoipa::path(delete, path = "/api/desk/chats/{id}/tags/{tag}", tag = "attendance",
    params(("id" = String, Path, description = "conversation id"), ("tag" = String, Path, description = "the tag")),
    responses((status = 200, description = "the chat"), (status = 403, description = "`forbidden`")))]
async fn remove_tag(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path((id, tag)): Path<(String, String)>,
) -> Result<axum::Json<Value>, ApiError> {
    let desk = state.desk()?;
    let person = staff_person(desk, &identity).await?;
    check_writer(desk, &person, &id).await?;
    let op = DeskOp::Untag {
        conversation_id: id.clone(),
        tag,
        by: person.clone(),
    };
    act(desk, op, &id, &person).await
}

/// Marks the chat read for the caller (clears its unread marker).
#[utoipa::path(post, path = "/api/desk/chats/{id}/read", tag = "attendance",
    params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, description = "the chat")))]
async fn mark_read(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    act_as(&state, &identity, &id, |person, now_ms| DeskOp::MarkRead {
        conversation_id: id.clone(),
        person,
        now_ms,
    })
    .await
}

#[derive(Debug, Deserialize)]
struct TranscriptQuery {
    after: Option<i64>,
    limit: Option<u32>,
    /// Only messages containing this text (accents and case ignored).
    q: Option<String>,
}

/// The caller may read conversation `id` (serves or served it, or an analysts' chat of
/// theirs; an admin, any chat of the desk); 403 otherwise, 404 when it does not exist.
async fn check_reader(desk: &Attendance, viewer: &DeskViewer, id: &str) -> Result<(), ApiError> {
    desk.orchestrator().conversation_by_id(id).await?;
    let may = match viewer {
        DeskViewer::Person(person) => desk.may_read(&Who::Person(person.clone()), id).await,
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

/// The caller may act in chat `id` as in writing there (its responsible or an invited
/// person; either analyst of an internal chat); 403 otherwise, 404 when the desk does not
/// know it.
async fn check_writer(desk: &Attendance, person: &str, id: &str) -> Result<(), ApiError> {
    match desk.book(|book| book.may_write(person, id)).await {
        Some(true) => Ok(()),
        Some(false) => Err(ApiError::Forbidden(
            "only the responsible and invited people may act in this chat".to_string(),
        )),
        None => Err(ApiError::NotFound {
            what: "chat",
            id: id.to_string(),
        }),
    }
}

/// A conversation's transcript for the people serving it and for admins; `q` searches
/// inside it.
#[utoipa::path(get, path = "/api/desk/chats/{id}/messages", tag = "attendance",
    params(("id" = String, Path, description = "conversation id"),
           ("after" = Option<i64>, Query, description = "last sequence number seen"),
           ("limit" = Option<u32>, Query, description = "page size"),
           ("q" = Option<String>, Query, description = "search inside the conversation")),
    responses((status = 200, description = "`{messages}`"), (status = 403, description = "`forbidden`")))]
async fn transcript(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
    Query(query): Query<TranscriptQuery>,
) -> Result<axum::Json<Value>, ApiError> {
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
                messages.push(super::conversations::MessageView::from(message));
            }
        }
        if !full || messages.len() >= limit as usize || needle.is_none() {
            break;
        }
    }
    messages.truncate(limit as usize);
    Ok(axum::Json(json!({ "messages": messages })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WriteBody {
    text: String,
    client_message_id: Option<String>,
}

/// Writes in the chat as the caller; a text that is exactly a quick reply's shortcut is
/// sent as that reply in the conversation's language.
#[utoipa::path(post, path = "/api/desk/chats/{id}/messages", tag = "attendance",
    params(("id" = String, Path, description = "conversation id")),
    request_body(content = Object, description = "`{text, client_message_id?}`"),
    responses((status = 200, description = "`{duplicate, messages}`"), (status = 403, description = "`forbidden`")))]
async fn write(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Staff>,
    Path(id): Path<String>,
    Json(body): Json<WriteBody>,
) -> Result<axum::Json<Value>, ApiError> {
    let desk = state.desk()?;
    let person = staff_person(desk, &identity).await?;
    check_writer(desk, &person, &id).await?;
    let conversation = desk.orchestrator().conversation_by_id(&id).await?;
    let language: Language = conversation.language.parse().unwrap_or(Language::En);
    let text = desk
        .book(|book| book.expand(&person, body.text.trim(), language.tag()))
        .await
        .unwrap_or(body.text);
    let outcome = desk
        .orchestrator()
        .staff_message(&id, &person, &text, None, body.client_message_id)
        .await?;
    let _ = desk
        .execute(DeskOp::MarkRead {
            conversation_id: id.clone(),
            person,
            now_ms: desk.now_ms(),
        })
        .await;
    let messages: Vec<_> = outcome
        .messages
        .into_iter()
        .map(super::conversations::MessageView::from)
        .collect();
    Ok(axum::Json(
        json!({ "duplicate": outcome.duplicate, "messages": messages }),
    ))
}

/// Runs a macro on the chat: all its steps or none (the people who may write in it).
#[utoipa::path(post, path = "/api/desk/chats/{id}/macros/{macro_id}", tag = "attendance",
    params(("id" = String, Path, description = "conversation id"), ("macro_id" = String, Path, description = "macro id")),
    responses((status = 200, description = "the chat"), (status = 403, description = "`forbidden`"), (status = 404, description = "`unknown_macro`")))]
async fn run_macro(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path((id, macro_id)): Path<(String, String)>,
) -> Result<axum::Json<Value>, ApiError> {
    let desk = state.desk()?;
    let person = staff_person(desk, &identity).await?;
    check_writer(desk, &person, &id).await?;
    desk.run_macro(&id, &macro_id, &person).await?;
    Ok(axum::Json(chat_view(desk, &id, &person).await))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutboundBody {
    requester: String,
    #[serde(default)]
    channel: Option<Channel>,
    language: Option<String>,
    text: Option<String>,
}

/// Starts a conversation with a contact; the caller is responsible from the start.
#[utoipa::path(post, path = "/api/desk/outbound", tag = "attendance",
    request_body(content = Object, description = "`{requester, channel?, language?, text?}`"),
    responses((status = 201, description = "the chat"), (status = 403, description = "`contact_blocked`")))]
async fn outbound(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Staff>,
    Json(body): Json<OutboundBody>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    crate::error::check_id("requester", &body.requester)?;
    let desk = state.desk()?;
    let person = staff_person(desk, &identity).await?;
    let language = match body.language.as_deref() {
        Some(tag) => tag
            .parse::<Language>()
            .map_err(|error| ApiError::BadRequest(error.to_string()))?,
        None => Language::PtBr,
    };
    let channel = body.channel.unwrap_or(Channel::Web);
    let (name, project, online) = desk
        .book(|book| {
            let name = book
                .desk()
                .person(&person)
                .map(|p| p.name.clone())
                .unwrap_or_default();
            let project = book
                .contact(&body.requester)
                .and_then(|contact| contact.project_id.clone())
                .unwrap_or_else(|| crate::attendance::DEFAULT_PROJECT.to_string());
            let desk_channel = desk_channel_of(channel);
            let online = book
                .desk()
                .presence(&person)
                .is_some_and(|presence| presence.is_online(desk_channel));
            (name, project, online)
        })
        .await;
    if !online {
        return Err(ApiError::Desk(DeskError::NotOnline(desk_channel_of(
            channel,
        ))));
    }
    if desk.book(|book| book.is_blocked(&body.requester)).await {
        return Err(ApiError::ContactBlocked);
    }
    let requester = Requester {
        id: body.requester.clone(),
        groups: Vec::new(),
    };
    let opened = desk
        .orchestrator()
        .open_outbound(&requester, channel, language, &name)
        .await?;
    let id = opened.conversation.id.clone();
    desk.execute(DeskOp::StartOutbound {
        conversation_id: id.clone(),
        person: person.clone(),
        requester: body.requester,
        channel: desk_channel_of(channel),
        project_id: project,
        now_ms: desk.now_ms(),
    })
    .await?;
    if let Some(text) = body.text.filter(|text| !text.trim().is_empty()) {
        desk.orchestrator()
            .staff_message(&id, &person, &text, None, None)
            .await?;
    }
    Ok((
        StatusCode::CREATED,
        axum::Json(chat_view(desk, &id, &person).await),
    ))
}

/// Opens a chat between two analysts who linked each other.
#[utoipa::path(post, path = "/api/desk/analyst-chats", tag = "attendance",
    request_body(content = Object, description = "`{to}`"),
    responses((status = 201, description = "`{conversation_id, from, to}`"), (status = 409, description = "`not_linked`")))]
async fn analyst_chat(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Analysts>,
    Json(body): Json<ToBody>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    identity.require(&[Role::Analyst])?;
    let desk = state.desk()?;
    let person = staff_person(desk, &identity).await?;
    if !desk.book(|book| book.may_chat(&person, &body.to)).await {
        return Err(ApiError::Desk(DeskError::NotLinked(person, body.to)));
    }
    let conversation = desk.orchestrator().open_internal(&person).await?;
    desk.execute(DeskOp::StartAnalystChat {
        conversation_id: conversation.id.clone(),
        from: person.clone(),
        to: body.to.clone(),
        now_ms: desk.now_ms(),
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "conversation_id": conversation.id, "from": person, "to": body.to })),
    ))
}

/// The requester's conversation, checked to be theirs.
async fn own_chat(state: &AppState, identity: &Identity, id: &str) -> Result<(), ApiError> {
    identity.require(&[Role::Requester])?;
    let chat = state.orchestrator.as_ref().ok_or(ApiError::Unavailable)?;
    let who = Requester {
        id: identity.subject.clone(),
        groups: identity.groups.clone(),
    };
    chat.conversation(&who, id).await?;
    Ok(())
}

/// Where the requester's chat stands: its state, queue position and estimated wait, the
/// person serving it, or the specialists they may pick (manual routing).
#[utoipa::path(get, path = "/api/conversations/{id}/queue", tag = "conversations",
    params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, description = "`{state, position?, eta_ms?, responsible?, candidates?}`")))]
async fn queue_status(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    own_chat(&state, &identity, &id).await?;
    let desk = state.desk()?;
    let view = desk
        .book(|book| {
            let Some(record) = book.record(&id) else {
                return json!({ "state": "bot" });
            };
            let mut view = json!({ "state": record.state });
            if let Ok(status) = book.desk().position(&id) {
                view["position"] = json!(status.position);
                view["eta_ms"] = json!(status.eta_ms);
            }
            if let Some(person) = record
                .responsible
                .as_ref()
                .and_then(|p| book.desk().person(p))
            {
                view["responsible"] = json!({ "id": person.id, "name": person.name });
            }
            if let Ok(candidates) = book.desk().candidates(&id) {
                view["candidates"] = json!(
                    candidates
                        .iter()
                        .filter_map(|p| book.desk().person(p))
                        .map(|p| json!({ "id": p.id, "name": p.name }))
                        .collect::<Vec<_>>()
                );
            }
            view
        })
        .await;
    Ok(axum::Json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChooseBody {
    person: String,
}

/// Manual routing: the requester picks one of the offered specialists.
#[utoipa::path(post, path = "/api/conversations/{id}/specialist", tag = "conversations",
    params(("id" = String, Path, description = "conversation id")),
    request_body(content = Object, description = "`{person}`"),
    responses((status = 200, description = "`{state, responsible}`"), (status = 409, description = "`not_eligible`")))]
async fn choose_specialist(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Requesters>,
    Path(id): Path<String>,
    Json(body): Json<ChooseBody>,
) -> Result<axum::Json<Value>, ApiError> {
    own_chat(&state, &identity, &id).await?;
    let desk = state.desk()?;
    desk.execute(DeskOp::Choose {
        conversation_id: id.clone(),
        person: body.person.clone(),
        now_ms: desk.now_ms(),
    })
    .await?;
    queue_status(State(state), Authenticated(identity), Path(id)).await
}

fn desk_channel_of(channel: Channel) -> crate::desk::Channel {
    match channel {
        Channel::Web => crate::desk::Channel::WebChat,
        Channel::WhatsApp => crate::desk::Channel::WhatsApp,
    }
}
