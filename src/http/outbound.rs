//! Chats the desk starts (an outbound conversation with a contact, an internal chat between
//! two linked analysts) and the requester's side of routing: where their chat stands in
//! the queue, and picking one of the offered specialists (manual routing).

use super::attendance::{ChatView, ToBody, chat_view};
use super::desk::staff_person;
use super::{Json, Path};
use crate::auth::{Identity, Role};
use crate::channel::Channel;
use crate::desk::{ChatState, DeskError, DeskOp};
use crate::http::auth::{Analysts, Authenticated, Authorized, Requesters, Staff};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::state::AppState;
use crate::lang::Language;
use crate::orchestrator::Requester;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(outbound))
        .routes(routes!(analyst_chat))
        .routes(routes!(queue_status))
        .routes(routes!(choose_specialist))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct OutboundBody {
    requester: String,
    /// `web` (default) or `whatsapp`.
    #[serde(
        default,
        deserialize_with = "crate::channel::conversation_spelling::option::deserialize"
    )]
    #[schema(value_type = Option<String>)]
    channel: Option<Channel>,
    /// pt-BR (default), es or en.
    language: Option<String>,
    /// A first message from the caller.
    text: Option<String>,
}

/// Starts a conversation with a contact; the caller is responsible from the start.
#[utoipa::path(post, path = "/api/desk/outbound", tag = "attendance",
    request_body = OutboundBody,
    responses((status = 201, description = "the chat", body = ChatView),
              (status = 403, description = "`contact_blocked`", body = ErrorBody)))]
async fn outbound(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Staff>,
    Json(body): Json<OutboundBody>,
) -> Result<(StatusCode, axum::Json<Option<ChatView>>), ApiError> {
    crate::http::error::check_id("requester", &body.requester)?;
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
            let online = book
                .desk()
                .presence(&person)
                .is_some_and(|presence| presence.is_online(channel));
            (name, project, online)
        })
        .await;
    if !online {
        return Err(ApiError::Desk(DeskError::NotOnline(channel)));
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
        channel,
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

#[derive(Debug, Serialize, ToSchema)]
struct AnalystChat {
    conversation_id: String,
    from: String,
    to: String,
}

/// Opens a chat between two analysts who linked each other.
#[utoipa::path(post, path = "/api/desk/analyst-chats", tag = "attendance",
    request_body = ToBody,
    responses((status = 201, description = "`{conversation_id, from, to}`", body = AnalystChat),
              (status = 409, description = "`not_linked`", body = ErrorBody)))]
async fn analyst_chat(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Analysts>,
    Json(body): Json<ToBody>,
) -> Result<(StatusCode, axum::Json<AnalystChat>), ApiError> {
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
        axum::Json(AnalystChat {
            conversation_id: conversation.id,
            from: person,
            to: body.to,
        }),
    ))
}

/// The requester's conversation, checked to be theirs.
async fn own_chat(state: &AppState, identity: &Identity, id: &str) -> Result<(), ApiError> {
    identity.require(&[Role::Requester])?;
    let chat = state.chat()?;
    let who = Requester {
        id: identity.subject.clone(),
        groups: identity.groups.clone(),
    };
    chat.conversation(&who, id).await?;
    Ok(())
}

/// A person of the desk as a requester sees them.
#[derive(Debug, Serialize, ToSchema)]
struct PersonName {
    id: String,
    name: String,
}

/// Who holds a requester's chat: the assistant (`bot`), else its state in the desk.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum Stand {
    Bot,
    Queued,
    InProgress,
    Closed,
    Lost,
}

impl From<ChatState> for Stand {
    fn from(state: ChatState) -> Self {
        match state {
            ChatState::Queued => Stand::Queued,
            ChatState::InProgress => Stand::InProgress,
            ChatState::Closed => Stand::Closed,
            ChatState::Lost => Stand::Lost,
        }
    }
}

/// Where a requester's chat stands.
#[derive(Debug, Serialize, ToSchema)]
struct QueueStatus {
    state: Stand,
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<usize>,
    /// Present with `position`; null when the desk cannot estimate the wait yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    eta_ms: Option<Option<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    responsible: Option<PersonName>,
    /// The specialists the requester may pick (manual routing, while waiting).
    #[serde(skip_serializing_if = "Option::is_none")]
    candidates: Option<Vec<PersonName>>,
}

/// Where the requester's chat stands: its state, queue position and estimated wait, the
/// person serving it, or the specialists they may pick (manual routing).
#[utoipa::path(get, path = "/api/conversations/{id}/queue", tag = "conversations",
    params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, description = "`{state, position?, eta_ms?, responsible?, candidates?}`", body = QueueStatus)))]
async fn queue_status(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<QueueStatus>, ApiError> {
    own_chat(&state, &identity, &id).await?;
    let desk = state.desk()?;
    let view = desk
        .book(|book| {
            let Some(record) = book.record(&id) else {
                return QueueStatus {
                    state: Stand::Bot,
                    position: None,
                    eta_ms: None,
                    responsible: None,
                    candidates: None,
                };
            };
            let name_of = |person: &crate::desk::Person| PersonName {
                id: person.id.clone(),
                name: person.name.clone(),
            };
            let place = book.desk().position(&id).ok();
            QueueStatus {
                state: record.state.into(),
                position: place.as_ref().map(|status| status.position),
                eta_ms: place.map(|status| status.eta_ms),
                responsible: record
                    .responsible
                    .as_ref()
                    .and_then(|p| book.desk().person(p))
                    .map(name_of),
                candidates: book.desk().candidates(&id).ok().map(|candidates| {
                    candidates
                        .iter()
                        .filter_map(|p| book.desk().person(p))
                        .map(name_of)
                        .collect()
                }),
            }
        })
        .await;
    Ok(axum::Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SpecialistBody {
    person: String,
}

/// Manual routing: the requester picks one of the offered specialists.
#[utoipa::path(post, path = "/api/conversations/{id}/specialist", tag = "conversations",
    params(("id" = String, Path, description = "conversation id")),
    request_body = SpecialistBody,
    responses((status = 200, description = "`{state, responsible}`", body = QueueStatus),
              (status = 409, description = "`not_eligible`", body = ErrorBody)))]
async fn choose_specialist(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Requesters>,
    Path(id): Path<String>,
    Json(body): Json<SpecialistBody>,
) -> Result<axum::Json<QueueStatus>, ApiError> {
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
