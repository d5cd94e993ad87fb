//! Working chats: the attendance list (queued / in progress / closed, with search by
//! ticket, contact and attendant, unread markers, each chat's last message for its card, and
//! the chat-icon alert) and what staff do
//! to one chat: capture, decline, transfer, invite by `@name`, leave, close with a reason
//! and a closing message, reopen, mark read, tags and macros. Every such action answers
//! with the chat as the caller sees it ([`ChatView`]).
//!
//! The seven actions that only build one desk operation from the caller, the path's chat
//! and at most a small body are rows of one table ([`ACTIONS`]) served by one handler,
//! [`chat_action`]; each row routes and documents its path. The transcript and writing are
//! in [`super::transcripts`], outbound and analysts' chats and the requester's side of
//! routing in [`super::outbound`].

use super::desk::{DeskViewer, desk_viewer, staff_person};
use super::doc::{Doc, Schemas, schema_of};
use super::{Json, Path, Query};
use crate::attendance::{Attendance, WriteError};
use crate::auth::Identity;
use crate::conversation::MAX_TEXT_CHARS;
use crate::desk::{ChatRecord, ChatState, ContractStatus, DeskBook, DeskError, DeskOp, ListFilter};
use crate::http::auth::{Authenticated, Authorized, Staff};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::state::AppState;
use crate::store::{LastMessage, SenderKind};
use axum::extract::{FromRequest, Request, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::path::{HttpMethod, PathsBuilder};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::new()
        .routes(routes!(list_chats))
        .routes(routes!(alert))
        .routes(routes!(invite))
        .routes(routes!(add_tag))
        .routes(routes!(remove_tag))
        .routes(routes!(run_macro));
    for row in ACTIONS {
        router = router.routes(action_route(row));
    }
    router
}

impl From<WriteError> for ApiError {
    fn from(error: WriteError) -> Self {
        match error {
            WriteError::NotAWriter => ApiError::Forbidden(error.to_string()),
            WriteError::UnknownChat(id) => ApiError::NotFound { what: "chat", id },
            WriteError::Attendance(error) => error.into(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    /// queued, in_progress, closed or lost.
    state: Option<ChatState>,
    attendant: Option<String>,
    ticket: Option<String>,
    contact: Option<String>,
}

/// The contact behind a chat, in short.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactSummary {
    name: String,
    contract: Option<String>,
    /// `active` or `blocked`.
    #[schema(value_type = String)]
    contract_status: ContractStatus,
}

/// One chat as a staff member (or a supervising admin) sees it: the desk's record plus
/// what depends on the viewer and on the rest of the desk.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatView {
    /// The desk's record: conversation, requester, project, channel, state, responsible,
    /// participants, tags, tickets, close reason, times, transfers.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    record: ChatRecord,
    /// Unread by the viewer (by anyone, for a supervisor), or unread while queued.
    unread: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    contact: Option<ContactSummary>,
    blocked: bool,
    /// Place in its queue, while queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<usize>,
    /// Estimated wait while queued (null when the desk cannot estimate it yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    eta_ms: Option<Option<u64>>,
    /// The newest message that says something (absent before the first one).
    #[serde(skip_serializing_if = "Option::is_none")]
    last_message: Option<LastMessageView>,
}

/// How many characters of a last message a card shows.
pub const CARD_CHARS: u32 = 140;

/// A chat's last message as its card in the list shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LastMessageView {
    /// The body on one line, cut to [`CARD_CHARS`] characters (ending in `…` when cut).
    body: String,
    /// `requester`, `assistant`, `attendant` or `system`.
    #[schema(value_type = String)]
    sender_kind: SenderKind,
    /// The person who wrote it, for an attendant's message.
    #[serde(skip_serializing_if = "Option::is_none")]
    sender_id: Option<String>,
    /// Unix milliseconds.
    created_at: i64,
}

impl From<LastMessage> for LastMessageView {
    fn from(last: LastMessage) -> Self {
        let mut body = last.body.split_whitespace().collect::<Vec<_>>().join(" ");
        if last.clipped {
            body.push('…');
        }
        LastMessageView {
            body,
            sender_kind: last.sender_kind,
            sender_id: last
                .sender_id
                .filter(|_| last.sender_kind == SenderKind::Attendant),
            created_at: last.created_at,
        }
    }
}

/// Gives each of `views` its last message, read in one store query for all of them.
async fn with_last_messages(desk: &Attendance, views: &mut [ChatView]) -> Result<(), ApiError> {
    if views.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = views
        .iter()
        .map(|view| view.record.conversation_id.clone())
        .collect();
    let mut found: std::collections::HashMap<String, LastMessage> = desk
        .orchestrator()
        .store()
        .last_messages(&ids, CARD_CHARS)
        .await?
        .into_iter()
        .map(|last| (last.conversation_id.clone(), last))
        .collect();
    for view in views {
        view.last_message = found
            .remove(&view.record.conversation_id)
            .map(LastMessageView::from);
    }
    Ok(())
}

/// `record` as `viewer` sees it.
pub(super) fn chat_view_of(book: &DeskBook, record: &ChatRecord, viewer: &DeskViewer) -> ChatView {
    let unread_by_viewer = match viewer {
        DeskViewer::Person(person) => record.unread_by.contains(person),
        DeskViewer::Supervisor => !record.unread_by.is_empty(),
    };
    let unread = unread_by_viewer || (record.state == ChatState::Queued && record.queue_unread);
    let contact = book
        .contact(&record.requester)
        .map(|contact| ContactSummary {
            name: contact.name.clone(),
            contract: contact.contract.clone(),
            contract_status: contact.contract_status,
        });
    let place = (record.state == ChatState::Queued)
        .then(|| book.desk().position(&record.conversation_id).ok())
        .flatten();
    ChatView {
        record: record.clone(),
        unread,
        contact,
        blocked: book.is_blocked(&record.requester),
        position: place.as_ref().map(|status| status.position),
        eta_ms: place.map(|status| status.eta_ms),
        last_message: None,
    }
}

#[derive(Debug, Serialize, ToSchema)]
struct ChatList {
    chats: Vec<ChatView>,
}

/// The attendance list (staff; admins supervise it, `unread` then meaning unread by anyone).
#[utoipa::path(get, path = "/api/desk/chats", tag = "attendance",
    params(("state" = Option<String>, Query, description = "queued, in_progress, closed or lost"),
           ("attendant" = Option<String>, Query, description = "responsible or participant"),
           ("ticket" = Option<String>, Query, description = "ticket number"),
           ("contact" = Option<String>, Query, description = "contact name, e-mail or id")),
    responses((status = 200, description = "`{chats}` with `unread`, `contact`, `position`, `last_message`", body = ChatList)))]
async fn list_chats(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<ChatList>, ApiError> {
    let desk = state.desk()?;
    let viewer = desk_viewer(desk, &identity).await?;
    let filter = ListFilter {
        state: query.state,
        attendant: query.attendant,
        ticket: query.ticket,
        contact_query: query.contact,
    };
    let mut chats = desk
        .book(|book| {
            book.list(&filter)
                .into_iter()
                .map(|record| chat_view_of(book, record, &viewer))
                .collect::<Vec<_>>()
        })
        .await;
    with_last_messages(desk, &mut chats).await?;
    Ok(axum::Json(ChatList { chats }))
}

#[derive(Debug, Serialize, ToSchema)]
struct Alert {
    alert: bool,
    /// Conversations with unread requester messages.
    unread: Vec<String>,
    /// Queued conversations with unread requester messages.
    queue_unread: Vec<String>,
}

/// The alert on the chat icon: which conversations have unread requester messages (for an
/// admin, unread by anyone).
#[utoipa::path(get, path = "/api/desk/alert", tag = "attendance",
    responses((status = 200, description = "`{alert, unread, queue_unread}`", body = Alert)))]
async fn alert(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
) -> Result<axum::Json<Alert>, ApiError> {
    let desk = state.desk()?;
    let viewer = desk_viewer(desk, &identity).await?;
    let view = desk
        .book(|book| {
            let unread = match &viewer {
                DeskViewer::Person(person) => book.unread_for(person),
                DeskViewer::Supervisor => book.unread_by_anyone(),
            };
            Alert {
                alert: !unread.is_empty(),
                unread,
                queue_unread: book.unread_in_queue(),
            }
        })
        .await;
    Ok(axum::Json(view))
}

/// One chat as staff member `viewer` sees it after an action (null if the desk forgot it).
/// The action is done: a failure to read the last message leaves it out rather than failing.
pub(super) async fn chat_view(desk: &Attendance, id: &str, viewer: &str) -> Option<ChatView> {
    let viewer = DeskViewer::Person(viewer.to_string());
    let mut view = desk
        .book(|book| {
            book.record(id)
                .map(|record| chat_view_of(book, record, &viewer))
        })
        .await?;
    if let Err(error) = with_last_messages(desk, std::slice::from_mut(&mut view)).await {
        tracing::warn!(conversation = %id, %error, "could not read the chat's last message");
    }
    Some(view)
}

/// Applies `op` and answers with chat `id` as `viewer` sees it.
async fn act(
    desk: &Attendance,
    op: DeskOp,
    id: &str,
    viewer: &str,
) -> Result<axum::Json<Option<ChatView>>, ApiError> {
    desk.execute(op).await?;
    Ok(axum::Json(chat_view(desk, id, viewer).await))
}

/// An action of the table: which desk operation it builds.
#[derive(Debug, Clone, Copy)]
enum Action {
    Capture,
    Decline,
    Transfer,
    Leave,
    Close,
    Reopen,
    MarkRead,
}

/// One row of [`ACTIONS`]: `POST /api/desk/chats/{id}/{segment}`.
struct ActionRow {
    action: Action,
    segment: &'static str,
    operation_id: &'static str,
    summary: &'static str,
    errors: &'static [(u16, &'static str)],
}

/// The chat actions that only build one desk operation.
const ACTIONS: &[ActionRow] = &[
    ActionRow {
        action: Action::Capture,
        segment: "capture",
        operation_id: "capture",
        summary: "Takes a chat from the queue (any chat, in any order).",
        errors: &[(409, "`already_captured`, `attendant_full`, `not_online`")],
    },
    ActionRow {
        action: Action::Decline,
        segment: "decline",
        operation_id: "decline",
        summary: "The chosen or offered person cannot take the chat: it is offered to someone else.",
        errors: &[],
    },
    ActionRow {
        action: Action::Transfer,
        segment: "transfer",
        operation_id: "transfer",
        summary: "Hands the chat to another person; the transcript stays.",
        errors: &[],
    },
    ActionRow {
        action: Action::Leave,
        segment: "leave",
        operation_id: "leave",
        summary: "Leaves a chat one was invited to.",
        errors: &[(409, "`responsible_cannot_leave`")],
    },
    ActionRow {
        action: Action::Close,
        segment: "close",
        operation_id: "close",
        summary: "Closes the chat with a required reason; the closing message goes to the requester.",
        errors: &[(422, "`close_reason_required`, `unknown_close_reason`")],
    },
    ActionRow {
        action: Action::Reopen,
        segment: "reopen",
        operation_id: "reopen",
        summary: "Reopens a closed chat: straight to the caller when they have room, else to the queue.",
        errors: &[(409, "`not_closed`")],
    },
    ActionRow {
        action: Action::MarkRead,
        segment: "read",
        operation_id: "mark_read",
        summary: "Marks the chat read for the caller (clears its unread marker).",
        errors: &[],
    },
];

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ToBody {
    /// The other person's id.
    pub(super) to: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CloseBody {
    reason: String,
    closing_message: Option<String>,
}

/// `row`'s route: its handler and its documentation.
fn action_route(row: &'static ActionRow) -> UtoipaMethodRouter<AppState> {
    let mut schemas = Schemas::new();
    let request = match row.action {
        Action::Transfer => Some(schema_of::<ToBody>(&mut schemas)),
        Action::Close => Some(schema_of::<CloseBody>(&mut schemas)),
        _ => None,
    };
    let chat = schema_of::<ChatView>(&mut schemas);
    let operation = Doc {
        operation_id: row.operation_id,
        tag: "attendance",
        summary: row.summary,
        path_params: &[("id", "conversation id")],
        request,
        success: vec![(200, "the chat", chat)],
        errors: row.errors,
    }
    .operation(&mut schemas);
    let path = format!("/api/desk/chats/{{id}}/{}", row.segment);
    let paths = PathsBuilder::new()
        .path(
            path,
            super::doc::path_item(vec![(HttpMethod::Post, operation)]),
        )
        .build();
    let handler =
        move |State(state): State<AppState>,
              Authenticated(identity): Authenticated,
              Path(id): Path<String>,
              request: Request| { chat_action(row.action, state, identity, id, request) };
    (schemas, paths, axum::routing::post(handler))
}

/// Builds an action's desk operation from the chat, the caller and the time.
type OpBuilder = Box<dyn FnOnce(String, String, u64) -> DeskOp + Send>;

/// Runs `action` on chat `id` as the calling staff member and answers with the chat as they
/// see it. An action with a body checks the caller's role before reading it, so a caller
/// who may not act learns that first, whatever they sent.
async fn chat_action(
    action: Action,
    state: AppState,
    identity: Identity,
    id: String,
    request: Request,
) -> Result<axum::Json<Option<ChatView>>, ApiError> {
    let make: OpBuilder = match action {
        Action::Transfer => {
            identity.require(super::desk::STAFF)?;
            let Json(ToBody { to }) = Json::from_request(request, &state).await?;
            Box::new(|conversation_id, from, now_ms| DeskOp::Transfer {
                conversation_id,
                from,
                to,
                now_ms,
            })
        }
        Action::Close => {
            identity.require(super::desk::STAFF)?;
            let Json(CloseBody {
                reason,
                closing_message,
            }) = Json::from_request(request, &state).await?;
            if closing_message
                .as_ref()
                .is_some_and(|text| text.chars().count() > MAX_TEXT_CHARS)
            {
                return Err(ApiError::TextTooLong(format!(
                    "the closing message is longer than {MAX_TEXT_CHARS} characters"
                )));
            }
            Box::new(|conversation_id, by, now_ms| DeskOp::Close {
                conversation_id,
                by,
                reason,
                closing_message,
                now_ms,
            })
        }
        Action::Capture => Box::new(|conversation_id, person, now_ms| DeskOp::Capture {
            conversation_id,
            person,
            now_ms,
        }),
        Action::Decline => Box::new(|conversation_id, person, now_ms| DeskOp::Decline {
            conversation_id,
            person,
            now_ms,
        }),
        Action::Leave => Box::new(|conversation_id, person, now_ms| DeskOp::Leave {
            conversation_id,
            person,
            now_ms,
        }),
        Action::Reopen => Box::new(|conversation_id, by, now_ms| DeskOp::Reopen {
            conversation_id,
            by,
            now_ms,
        }),
        Action::MarkRead => Box::new(|conversation_id, person, now_ms| DeskOp::MarkRead {
            conversation_id,
            person,
            now_ms,
        }),
    };
    let desk = state.desk()?;
    let person = staff_person(desk, &identity).await?;
    let op = make(id.clone(), person.clone(), desk.now_ms());
    act(desk, op, &id, &person).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct InviteBody {
    /// `@name` or the person's id.
    name: String,
}

/// Invites an online colleague by `@name` (or id) into the chat.
#[utoipa::path(post, path = "/api/desk/chats/{id}/invite", tag = "attendance",
    params(("id" = String, Path, description = "conversation id")),
    request_body = InviteBody,
    responses((status = 200, description = "the chat", body = ChatView),
              (status = 404, description = "`unknown_person`", body = ErrorBody)))]
async fn invite(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Staff>,
    Path(id): Path<String>,
    Json(body): Json<InviteBody>,
) -> Result<axum::Json<Option<ChatView>>, ApiError> {
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TagBody {
    tag: String,
}

/// Tags the chat (its responsible and invited people, as for writing in it).
#[utoipa::path(post, path = "/api/desk/chats/{id}/tags", tag = "attendance",
    params(("id" = String, Path, description = "conversation id")),
    request_body = TagBody,
    responses((status = 200, description = "the chat", body = ChatView),
              (status = 403, description = "`forbidden`", body = ErrorBody),
              (status = 422, description = "`invalid_tag`", body = ErrorBody)))]
async fn add_tag(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Staff>,
    Path(id): Path<String>,
    Json(body): Json<TagBody>,
) -> Result<axum::Json<Option<ChatView>>, ApiError> {
    crate::http::error::check_id("tag", &body.tag)?;
    let desk = state.desk()?;
    let person = staff_person(desk, &identity).await?;
    desk.check_writer(&person, &id).await?;
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
    responses((status = 200, description = "the chat", body = ChatView),
              (status = 403, description = "`forbidden`", body = ErrorBody)))]
async fn remove_tag(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path((id, tag)): Path<(String, String)>,
) -> Result<axum::Json<Option<ChatView>>, ApiError> {
    let desk = state.desk()?;
    let person = staff_person(desk, &identity).await?;
    desk.check_writer(&person, &id).await?;
    let op = DeskOp::Untag {
        conversation_id: id.clone(),
        tag,
        by: person.clone(),
    };
    act(desk, op, &id, &person).await
}

/// Runs a macro on the chat: all its steps or none (the people who may write in it).
#[utoipa::path(post, path = "/api/desk/chats/{id}/macros/{macro_id}", tag = "attendance",
    params(("id" = String, Path, description = "conversation id"), ("macro_id" = String, Path, description = "macro id")),
    responses((status = 200, description = "the chat", body = ChatView),
              (status = 403, description = "`forbidden`", body = ErrorBody),
              (status = 404, description = "`unknown_macro`", body = ErrorBody)))]
async fn run_macro(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path((id, macro_id)): Path<(String, String)>,
) -> Result<axum::Json<Option<ChatView>>, ApiError> {
    let desk = state.desk()?;
    let person = staff_person(desk, &identity).await?;
    desk.check_writer(&person, &id).await?;
    desk.run_macro(&id, &macro_id, &person).await?;
    Ok(axum::Json(chat_view(desk, &id, &person).await))
}
