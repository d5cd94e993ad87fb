//! The requester's conversations and tickets over REST. Every route needs a requester token;
//! the requester is the token's subject and their groups are the token's groups, so a
//! requester only ever reaches their own conversations (another's answers 403 `forbidden`,
//! an unknown id 404 `not_found`). Without a conversation engine (a search-only server) the
//! routes answer 503 `unavailable`.
//!
//! - `POST /api/conversations` `{language?, channel?}` → 201 `{conversation, messages}`
//! - `GET /api/conversations/{id}` → the conversation, `machine_view` (offers, status) and
//!   `read` (how far each side has read, see [`super::marks`])
//! - `POST /api/conversations/{id}/messages` `{text, client_message_id?}` →
//!   `{duplicate, messages}`
//! - `GET /api/conversations/{id}/messages?after=N&limit=M` → `{messages}` with `seq > N`
//! - `POST /api/conversations/{id}/options` `{option_id}` → `{messages}`
//! - `GET /api/tickets` → `{tickets}`: the requester's open tickets

use super::{Json, Path, Query};
use crate::auth::{Identity, Role};
use crate::http::auth::Authenticated;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::lang::Language;
use crate::orchestrator::{Orchestrator, Outcome, Requester};
use crate::store::{self, Channel};
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open))
        .routes(routes!(show))
        .routes(routes!(post_message, messages))
        .routes(routes!(choose))
        .routes(routes!(leave))
        .routes(routes!(tickets))
}

/// Default page size of `GET .../messages`.
const DEFAULT_PAGE: u32 = 100;

/// A message as clients see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub seq: i64,
    /// `requester`, `assistant`, `attendant` or `system`.
    #[schema(value_type = String)]
    pub sender_kind: store::SenderKind,
    pub body: String,
    /// Structured extras (options offered, article cards, an attachment, ...).
    pub payload: Option<serde_json::Value>,
    pub client_message_id: Option<String>,
    pub created_at: i64,
}

impl From<store::Message> for MessageView {
    fn from(message: store::Message) -> Self {
        MessageView {
            seq: message.seq,
            sender_kind: message.sender_kind,
            body: message.body,
            payload: message.payload,
            client_message_id: message.client_message_id,
            created_at: message.created_at,
        }
    }
}

/// How far each side has read (the `seq` of the last message each has seen; 0: nothing).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadView {
    pub requester_seq: i64,
    /// The desk's side: whoever serves the chat.
    pub attendant_seq: i64,
}

impl From<store::ReadMarks> for ReadView {
    fn from(marks: store::ReadMarks) -> Self {
        ReadView {
            requester_seq: marks.requester_seq,
            attendant_seq: marks.attendant_seq,
        }
    }
}

/// A conversation in short.
#[derive(Debug, Serialize, ToSchema)]
struct ConversationSummary {
    id: String,
    /// `bot`, `queued`, `chat`, `bridged` (handed to an external chat service) or
    /// `finished`.
    #[schema(value_type = String)]
    status: store::ConversationStatus,
    #[schema(value_type = String)]
    language: Language,
    last_seq: i64,
}

/// A stored conversation without its internal machine state.
#[derive(Debug, Serialize, ToSchema)]
struct ConversationView {
    id: String,
    /// `web` or `whatsapp`.
    #[serde(serialize_with = "crate::channel::conversation_spelling::serialize")]
    #[schema(value_type = String)]
    channel: Channel,
    requester_id: String,
    #[schema(value_type = String)]
    language: Language,
    /// `bot`, `queued`, `chat`, `bridged` (handed to an external chat service) or
    /// `finished`.
    #[schema(value_type = String)]
    status: store::ConversationStatus,
    queue_group: Option<String>,
    ticket_number: Option<String>,
    version: i64,
    last_seq: i64,
    created_at: i64,
    updated_at: i64,
    /// What the assistant offers now (options, status).
    machine_view: serde_json::Value,
    /// How far each side has read: the requester's marks of delivered and read messages
    /// survive a reload.
    read: ReadView,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct OpenBody {
    /// pt-BR (default), es or en.
    language: Option<String>,
    /// `web` (default) or `whatsapp`.
    channel: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
struct Opened {
    conversation: ConversationSummary,
    messages: Vec<MessageView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PostBody {
    text: String,
    /// 1 to 200 bytes; a retry with the same id changes nothing.
    client_message_id: Option<String>,
}

/// What posting a message produced.
#[derive(Debug, Serialize, ToSchema)]
pub struct Posted {
    /// The `client_message_id` was seen before: nothing new happened.
    pub duplicate: bool,
    pub messages: Vec<MessageView>,
}

impl From<Outcome> for Posted {
    fn from(outcome: Outcome) -> Self {
        Posted {
            duplicate: outcome.duplicate,
            messages: views(outcome),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct OptionBody {
    option_id: String,
}

/// Messages, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageList {
    pub messages: Vec<MessageView>,
}

#[derive(Debug, Deserialize)]
struct Page {
    after: Option<i64>,
    limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
struct Tickets {
    tickets: Vec<store::Ticket>,
}

/// The engine and the requester behind a requester token.
fn requester(
    state: &AppState,
    identity: Identity,
) -> Result<(Arc<Orchestrator>, Requester), ApiError> {
    identity.require(&[Role::Requester])?;
    let orchestrator = state.orchestrator.clone().ok_or(ApiError::Unavailable)?;
    Ok((
        orchestrator,
        Requester {
            id: identity.subject,
            groups: identity.groups,
        },
    ))
}

fn views(outcome: Outcome) -> Vec<MessageView> {
    outcome
        .messages
        .into_iter()
        .map(MessageView::from)
        .collect()
}

/// Opens a conversation for the calling requester and runs the greeting.
#[utoipa::path(post, path = "/api/conversations", tag = "conversations",
    request_body = OpenBody,
    responses((status = 201, description = "`{conversation, messages}`", body = Opened), (status = 403, description = "`forbidden`")))]
async fn open(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Json(body): Json<OpenBody>,
) -> Result<(StatusCode, axum::Json<Opened>), ApiError> {
    let (chat, who) = requester(&state, identity)?;
    let language = match body.language.as_deref() {
        Some(tag) => tag
            .parse::<Language>()
            .map_err(|error| ApiError::BadRequest(error.to_string()))?,
        None => Language::PtBr,
    };
    let channel = match body.channel.as_deref() {
        // The message store errors gave before channels had one type.
        Some(name) => name
            .parse::<Channel>()
            .map_err(|error| ApiError::BadRequest(format!("invalid input: {error}")))?,
        None => Channel::Web,
    };
    let outcome = chat.open(&who, channel, language).await?;
    let record = &outcome.conversation;
    let conversation = ConversationSummary {
        id: record.id.clone(),
        status: record.status,
        language: record.language,
        last_seq: outcome
            .messages
            .last()
            .map_or(record.last_seq, |message| message.seq.max(record.last_seq)),
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(Opened {
            conversation,
            messages: views(outcome),
        }),
    ))
}

/// One of the caller's conversations with what the assistant offers now.
#[utoipa::path(get, path = "/api/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, description = "the conversation and `machine_view`", body = ConversationView), (status = 404, description = "`not_found`")))]
async fn show(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<ConversationView>, ApiError> {
    let (chat, who) = requester(&state, identity)?;
    let record = chat.conversation(&who, &id).await?;
    let machine_view = chat.machine_view(&who, &id).await?;
    let read = chat.store().read_marks(&id).await?.into();
    Ok(axum::Json(ConversationView {
        id: record.id,
        channel: record.channel,
        requester_id: record.requester_id,
        language: record.language,
        status: record.status,
        queue_group: record.queue_group,
        ticket_number: record.ticket_number,
        version: record.version,
        last_seq: record.last_seq,
        created_at: record.created_at,
        updated_at: record.updated_at,
        machine_view,
        read,
    }))
}

/// Posts the requester's text; a `client_message_id` makes a retry harmless.
#[utoipa::path(post, path = "/api/conversations/{id}/messages", tag = "conversations",
    params(("id" = String, Path, description = "conversation id")),
    request_body = PostBody,
    responses((status = 200, description = "`{duplicate, messages}`", body = Posted), (status = 400, description = "`empty_text`"),
              (status = 413, description = "`text_too_long`"), (status = 409, description = "`conversation_finished`")))]
async fn post_message(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
    Json(body): Json<PostBody>,
) -> Result<axum::Json<Posted>, ApiError> {
    let (chat, who) = requester(&state, identity)?;
    if let Some(key) = &body.client_message_id
        && (key.is_empty() || key.len() > 200)
    {
        return Err(ApiError::BadRequest(
            "client_message_id must have 1 to 200 bytes".to_string(),
        ));
    }
    let outcome = chat
        .post(&who, &id, &body.text, body.client_message_id)
        .await?;
    Ok(axum::Json(Posted::from(outcome)))
}

/// Chooses one of the options the assistant offered.
#[utoipa::path(post, path = "/api/conversations/{id}/options", tag = "conversations",
    params(("id" = String, Path, description = "conversation id")),
    request_body = OptionBody,
    responses((status = 200, description = "`{messages}`", body = MessageList), (status = 409, description = "`option_not_offered`")))]
async fn choose(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
    Json(body): Json<OptionBody>,
) -> Result<axum::Json<MessageList>, ApiError> {
    let (chat, who) = requester(&state, identity)?;
    let outcome = chat.choose(&who, &id, &body.option_id).await?;
    Ok(axum::Json(MessageList {
        messages: views(outcome),
    }))
}

/// The requester ends the conversation (with the assistant, or waiting for or talking to an
/// external desk, which is told). A chat Ponte's own desk holds is closed by its attendant:
/// 409 `desk_chat`.
#[utoipa::path(post, path = "/api/conversations/{id}/close", tag = "conversations",
    params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, description = "`{messages}`", body = MessageList),
              (status = 409, description = "`desk_chat`, `conversation_finished`")))]
async fn leave(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<MessageList>, ApiError> {
    let (chat, who) = requester(&state, identity)?;
    let outcome = chat.leave(&who, &id).await?;
    Ok(axum::Json(MessageList {
        messages: views(outcome),
    }))
}

/// The transcript after sequence number `after`.
#[utoipa::path(get, path = "/api/conversations/{id}/messages", tag = "conversations",
    params(("id" = String, Path, description = "conversation id"),
           ("after" = Option<i64>, Query, description = "last sequence number seen"),
           ("limit" = Option<u32>, Query, description = "page size")),
    responses((status = 200, description = "`{messages}`", body = MessageList)))]
async fn messages(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
    Query(page): Query<Page>,
) -> Result<axum::Json<MessageList>, ApiError> {
    let (chat, who) = requester(&state, identity)?;
    // Ownership first: another requester's id answers 403 before anything is read.
    chat.conversation(&who, &id).await?;
    let after = page.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::BadRequest(
            "`after` must not be negative".to_string(),
        ));
    }
    let limit = page.limit.unwrap_or(DEFAULT_PAGE).clamp(1, store::MAX_PAGE);
    let messages = chat.store().messages_after(&id, after, limit).await?;
    Ok(axum::Json(MessageList {
        messages: messages.into_iter().map(MessageView::from).collect(),
    }))
}

/// The caller's open tickets.
#[utoipa::path(get, path = "/api/tickets", tag = "conversations",
    responses((status = 200, description = "`{tickets}`", body = Tickets)))]
async fn tickets(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
) -> Result<axum::Json<Tickets>, ApiError> {
    let (chat, who) = requester(&state, identity)?;
    let tickets = chat.store().open_tickets_for(&who.id).await?;
    Ok(axum::Json(Tickets { tickets }))
}
