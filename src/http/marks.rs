//! What each side of a conversation sees of the other besides its messages: who is typing
//! and how far each side has read. Both sides call the same routes, the requester with their
//! token (their own conversation only) and the people serving the chat with theirs.
//!
//! - `POST /api/conversations/{id}/typing` → `{until_ms}`: the caller is typing. Nothing is
//!   stored: the conversation's live listeners get `{"type":"typing","who","name","until_ms"}`
//!   and the staff feed `{"type":"typing","conversation_id","who","name","until_ms"}`, on
//!   every node (at least once). `who` is `requester` or `attendant`; `name` is the
//!   attendant's name, or the requester's contact name when they gave one (else null). A
//!   client sends it at most every few seconds while its person types and hides the other
//!   side's after [`TYPING_SHOWN_MS`] without a new one, or when their message arrives.
//!   The requester may always call it; staff only in a chat they serve (its responsible or
//!   an invited person), else 403 `forbidden`.
//! - `POST /api/conversations/{id}/read` `{seq}` → `{requester_seq, attendant_seq}`: the
//!   caller's side has seen every message up to `seq`. A side's position only moves forward
//!   (an older `seq` changes nothing) and is durable; when it moves, the live listeners get
//!   `{"type":"read","who","seq"}` and the staff feed `{"type":"read","conversation_id","who",
//!   "seq"}`. A `seq` past the last message (or negative) is 400 `seq_out_of_range`. Staff
//!   who served or serve the chat may mark it; reading it to its last message also clears
//!   their unread marker.
//! - `GET /api/conversations/{id}/read` → `{requester_seq, attendant_seq}` (also in the
//!   requester's `GET /api/conversations/{id}` as `read`), so the marks survive a reload.
//!
//! An unknown conversation is 404 `not_found`; another requester's is 403 `forbidden`.

use super::conversations::ReadView;
use super::desk::staff_person;
use super::{Json, Path};
use crate::auth::{Identity, Role};
use crate::desk::{DeskOp, Who};
use crate::http::auth::Authenticated;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::state::AppState;
use crate::live::{FeedEvent, Side, StaffEvent};
use crate::orchestrator::{Orchestrator, Requester};
use crate::store::{self, ReadSide};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(typing))
        .routes(routes!(mark_read, read_marks))
}

/// How long a typing event is shown without a new one (the `until_ms` it carries is this far
/// ahead of the server's clock).
pub const TYPING_SHOWN_MS: u64 = 5_000;

/// Who calls about a conversation, once checked.
pub(super) enum Party {
    Requester(Requester),
    /// A staff member (person id) who serves the chat or served it, as the call needs.
    Staff(String),
    /// An admin supervising the desk.
    Supervisor,
}

/// What the call needs of staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Need {
    /// Acting in the chat: its responsible or an invited person.
    Act,
    /// Reading it as one of its people: anyone who served or serves it.
    Read,
    /// Reading it: as [`Need::Read`], or an admin supervising the desk.
    Supervise,
}

fn forbidden() -> ApiError {
    ApiError::Forbidden("only the people serving this conversation may do this".to_string())
}

/// The caller of a call about conversation `id`, checked: its requester, or staff as `need`
/// says. An unknown conversation is 404 `not_found` before anything else is checked.
pub(super) async fn party(
    state: &AppState,
    identity: Identity,
    id: &str,
    need: Need,
) -> Result<(Arc<Orchestrator>, store::Conversation, Party), ApiError> {
    let chat = state.chat()?.clone();
    match identity.role {
        Role::Requester => {
            let who = Requester {
                id: identity.subject,
                groups: identity.groups,
            };
            let conversation = chat.conversation(&who, id).await?;
            Ok((chat, conversation, Party::Requester(who)))
        }
        Role::Attendant | Role::Analyst => {
            let conversation = chat.conversation_by_id(id).await?;
            let desk = state.desk()?;
            let person = staff_person(desk, &identity).await?;
            let may = match need {
                Need::Act => desk
                    .book(|book| book.may_write(&person, id))
                    .await
                    .unwrap_or(false),
                Need::Read | Need::Supervise => {
                    desk.may_read(&Who::Person(person.clone()), id).await
                }
            };
            if !may {
                return Err(forbidden());
            }
            Ok((chat, conversation, Party::Staff(person)))
        }
        Role::Admin if need == Need::Supervise => {
            let conversation = chat.conversation_by_id(id).await?;
            if !state.desk()?.may_supervise(id).await {
                return Err(forbidden());
            }
            Ok((chat, conversation, Party::Supervisor))
        }
        _ => Err(forbidden()),
    }
}

/// The requester's contact name, when the desk knows one.
pub(super) async fn contact_name(state: &AppState, requester: &str) -> Option<String> {
    let desk = state.desk().ok()?;
    desk.book(|book| book.contact(requester).map(|contact| contact.name.clone()))
        .await
        .filter(|name| !name.trim().is_empty())
}

/// A staff member's name in the desk (their id when the desk does not know it).
async fn person_name(state: &AppState, person: &str) -> String {
    let Ok(desk) = state.desk() else {
        return person.to_string();
    };
    desk.book(|book| book.desk().person(person).map(|found| found.name.clone()))
        .await
        .unwrap_or_else(|| person.to_string())
}

#[derive(Debug, Serialize, ToSchema)]
struct TypingShown {
    /// Until when (unix milliseconds, the server's clock) the other side shows it.
    until_ms: u64,
}

/// The caller is typing: the other side is told at once (nothing is stored).
#[utoipa::path(post, path = "/api/conversations/{id}/typing", tag = "conversations",
    params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, description = "`{until_ms}`", body = TypingShown),
              (status = 403, description = "`forbidden`", body = ErrorBody),
              (status = 404, description = "`not_found`", body = ErrorBody),
              (status = 409, description = "`conversation_finished`", body = ErrorBody)))]
async fn typing(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<TypingShown>, ApiError> {
    let (chat, conversation, party) = party(&state, identity, &id, Need::Act).await?;
    if conversation.status == store::ConversationStatus::Finished {
        return Err(ApiError::ConversationFinished(
            "this conversation has ended".to_string(),
        ));
    }
    let (who, name) = match &party {
        Party::Requester(requester) => (Side::Requester, contact_name(&state, &requester.id).await),
        Party::Staff(person) => (Side::Attendant, Some(person_name(&state, person).await)),
        Party::Supervisor => return Err(forbidden()),
    };
    let until_ms = crate::store::now_millis().max(0) as u64 + TYPING_SHOWN_MS;
    let bus = chat.bus();
    bus.publish(
        &id,
        FeedEvent::Typing {
            who,
            name: name.clone(),
            until_ms,
        },
    );
    bus.publish_staff(StaffEvent::Typing {
        conversation_id: id,
        who,
        name,
        until_ms,
    });
    Ok(axum::Json(TypingShown { until_ms }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReadBody {
    /// The last message the caller's side has seen.
    seq: i64,
}

/// The caller's side has read the conversation up to `seq` (forward only).
#[utoipa::path(post, path = "/api/conversations/{id}/read", tag = "conversations",
    params(("id" = String, Path, description = "conversation id")),
    request_body = ReadBody,
    responses((status = 200, description = "`{requester_seq, attendant_seq}`", body = ReadView),
              (status = 400, description = "`seq_out_of_range`", body = ErrorBody),
              (status = 403, description = "`forbidden`", body = ErrorBody),
              (status = 404, description = "`not_found`", body = ErrorBody)))]
async fn mark_read(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
    Json(body): Json<ReadBody>,
) -> Result<axum::Json<ReadView>, ApiError> {
    let (chat, conversation, party) = party(&state, identity, &id, Need::Read).await?;
    let side = match party {
        Party::Requester(_) => ReadSide::Requester,
        Party::Staff(_) => ReadSide::Attendant,
        Party::Supervisor => return Err(forbidden()),
    };
    // `last_seq` only grows: a `seq` within it now stays within it.
    if body.seq < 0 || body.seq > conversation.last_seq {
        return Err(ApiError::SeqOutOfRange(format!(
            "seq must be from 0 to the last message's ({}), not {}",
            conversation.last_seq, body.seq
        )));
    }
    let moved = chat.store().mark_read(&id, side, body.seq).await?;
    if moved.moved {
        let (who, seq) = (Side::from(side), moved.marks.of(side));
        chat.bus().publish(&id, FeedEvent::Read { who, seq });
        chat.bus().publish_staff(StaffEvent::Read {
            conversation_id: id.clone(),
            who,
            seq,
        });
    }
    if let Party::Staff(person) = &party
        && body.seq >= conversation.last_seq
    {
        clear_unread(&state, &id, person).await;
    }
    Ok(axum::Json(moved.marks.into()))
}

/// Clears `person`'s unread marker of chat `id` when it is set: they have read it all.
async fn clear_unread(state: &AppState, id: &str, person: &str) {
    let Ok(desk) = state.desk() else {
        return;
    };
    let unread = desk
        .book(|book| {
            book.record(id)
                .is_some_and(|record| record.unread_by.contains(person))
        })
        .await;
    if !unread {
        return;
    }
    let op = DeskOp::MarkRead {
        conversation_id: id.to_string(),
        person: person.to_string(),
        now_ms: desk.now_ms(),
    };
    // The read position is stored: a marker left set is only a stale dot on their list.
    if let Err(error) = desk.execute(op).await {
        tracing::debug!(%error, "the reader's unread marker was not cleared");
    }
}

/// How far each side has read.
#[utoipa::path(get, path = "/api/conversations/{id}/read", tag = "conversations",
    params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, description = "`{requester_seq, attendant_seq}`", body = ReadView),
              (status = 403, description = "`forbidden`", body = ErrorBody),
              (status = 404, description = "`not_found`", body = ErrorBody)))]
async fn read_marks(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<ReadView>, ApiError> {
    let (chat, _, _) = party(&state, identity, &id, Need::Supervise).await?;
    Ok(axum::Json(chat.store().read_marks(&id).await?.into()))
}
