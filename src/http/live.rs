//! Live delivery of a conversation's messages to its owner (a requester token).
//!
//! - `GET /api/conversations/{id}/live?after=N` — WebSocket. The server sends JSON text frames
//!   `{"type":"message","message":{seq,sender_kind,body,payload,client_message_id,created_at}}`
//!   and a ping every 30 s; it reads only to notice the client closing. Notices that are not
//!   messages come as their own frames (`queue_position`, `attendant`, `typing`, `read`, ...;
//!   see [`FeedEvent`](crate::live::FeedEvent) and [`super::marks`]).
//! - `GET /api/conversations/{id}/events?after=N` — Server-Sent Events, the fallback:
//!   `event: message`, `id: <seq>`, `data: <the same JSON>`. A `Last-Event-ID` header (what a
//!   browser's `EventSource` sends when it reconnects) takes precedence over `after`.
//!
//! Both deliver every message with `seq > N` exactly once and in order, first the stored ones,
//! then live ones (one [`Feed`] behind both), so a client that reconnects with the last `seq`
//! it saw gets exactly what it missed, also across a server restart.
//!
//! The token comes in `Authorization: Bearer <token>` or, since a browser cannot set headers
//! on a WebSocket or an `EventSource`, in `?token=`. Another requester's conversation answers
//! 403 `forbidden` before any upgrade.

use super::conversations::MessageView;
use super::{Path, Query};
use crate::auth::{Identity, Role};
use crate::desk::Who;
use crate::http::auth::Authenticated;
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::live::{Feed, Live};
use crate::orchestrator::Requester;
use crate::store::Message;
use axum::extract::ws::{self, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(live))
        .routes(routes!(events))
}

/// How often the server pings a WebSocket client (and comments an SSE stream).
pub const PING_EVERY: Duration = Duration::from_secs(30);

// WebSocket buffers, set explicitly: tungstenite's defaults (128 KiB write buffer, a read
// buffer that grows to 128 KiB, 64 MiB messages) cost about 128 KiB per connection, which
// would make 10,000 idle conversations cost more than a gigabyte. The client only sends
// control frames here, so the read side can be tiny; the write side holds a few messages, and
// a client that does not read fills it, errors, and resumes later from its last `seq`.
const READ_BUFFER: usize = 4 * 1024;
const WRITE_BUFFER: usize = 8 * 1024;
const MAX_WRITE_BUFFER: usize = 256 * 1024;
const MAX_CLIENT_MESSAGE: usize = 4 * 1024;

#[derive(Debug, Deserialize)]
struct LiveQuery {
    after: Option<i64>,
}

/// One frame (WebSocket) or `data:` (SSE).
#[derive(Serialize)]
struct Frame {
    #[serde(rename = "type")]
    kind: &'static str,
    message: MessageView,
}

fn frame_json(message: Message) -> String {
    serde_json::to_string(&Frame {
        kind: "message",
        message: MessageView::from(message),
    })
    .unwrap_or_default()
}

/// The caller, from `?token=` when given, else from the `Authorization` header.
pub(super) struct LiveAuth(pub(super) Identity);

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

impl FromRequestParts<AppState> for LiveAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Query(query) = Query::<TokenQuery>::from_request_parts(parts, state).await?;
        match query.token {
            Some(token) => {
                let identity = state.auth.check(&token).await?;
                state.rate_limit.check(&crate::auth::hash(&token))?;
                Ok(LiveAuth(identity))
            }
            None => {
                let Authenticated(identity) =
                    Authenticated::from_request_parts(parts, state).await?;
                Ok(LiveAuth(identity))
            }
        }
    }
}

/// A WebSocket upgrade; a plain request (no `Upgrade` header) is 400 `websocket_required`.
/// Take it as `Result<Upgrade, ApiError>` and unwrap it after the caller's checks, so that who
/// may call is answered first.
pub(super) struct Upgrade(pub(super) WebSocketUpgrade);

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        WebSocketUpgrade::from_request_parts(parts, state)
            .await
            .map(Upgrade)
            .map_err(|rejection| ApiError::WebSocketRequired(rejection.body_text()))
    }
}

/// Checks the caller owns the conversation and subscribes a feed after `after`.
async fn feed_for(
    state: &AppState,
    identity: Identity,
    id: &str,
    after: i64,
) -> Result<Feed, ApiError> {
    identity.require(&[Role::Requester, Role::Attendant, Role::Analyst, Role::Admin])?;
    let chat = state.orchestrator.clone().ok_or(ApiError::Unavailable)?;
    if identity.role == Role::Requester {
        let who = Requester {
            id: identity.subject,
            groups: identity.groups,
        };
        chat.conversation(&who, id).await?;
    } else {
        // Staff read what they serve or served; admins supervise every chat of the desk.
        chat.conversation_by_id(id).await?;
        let desk = state.desk()?;
        let may = match identity.role {
            Role::Admin => desk.may_supervise(id).await,
            _ => desk.may_read(&Who::Person(identity.subject), id).await,
        };
        if !may {
            return Err(ApiError::Forbidden(
                "only the people serving this conversation may follow it".to_string(),
            ));
        }
    }
    if after < 0 {
        return Err(ApiError::BadRequest(
            "`after` must not be negative".to_string(),
        ));
    }
    Ok(Feed::new(
        chat.bus().as_ref(),
        chat.store().clone(),
        id,
        after,
    ))
}

/// WebSocket of the conversation's messages after `after`, exactly once and in order.
#[utoipa::path(get, path = "/api/conversations/{id}/live", tag = "live",
    params(("id" = String, Path, description = "conversation id"),
           ("after" = Option<i64>, Query, description = "last sequence number seen"),
           ("token" = Option<String>, Query, description = "bearer token, for browsers")),
    responses((status = 101, description = "switching to WebSocket"), (status = 403, description = "`forbidden`")))]
async fn live(
    State(state): State<AppState>,
    LiveAuth(identity): LiveAuth,
    Path(id): Path<String>,
    Query(query): Query<LiveQuery>,
    upgrade: Result<Upgrade, ApiError>,
) -> Result<Response, ApiError> {
    let feed = feed_for(&state, identity, &id, query.after.unwrap_or(0)).await?;
    let Upgrade(upgrade) = upgrade?;
    Ok(small_buffers(upgrade)
        .on_upgrade(move |socket| serve_socket(socket, feed))
        .into_response())
}

/// An upgrade with the explicit small buffers every live socket uses.
pub(super) fn small_buffers(upgrade: WebSocketUpgrade) -> WebSocketUpgrade {
    upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
}

async fn serve_socket(mut socket: WebSocket, mut feed: Feed) {
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        tokio::select! {
            next = feed.next_live() => match next {
                Ok(Some(live)) => {
                    let text = match live {
                        Live::Message(message) => frame_json(message),
                        Live::Signal(signal) => signal.to_frame(),
                    };
                    if socket.send(ws::Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    tracing::warn!(%error, "live feed failed; closing the socket");
                    let _ = socket
                        .send(ws::Message::Close(Some(ws::CloseFrame {
                            code: 1011,
                            reason: "internal error; reconnect with after=<last seq>".into(),
                        })))
                        .await;
                    return;
                }
            },
            _ = ping.tick() => {
                if socket.send(ws::Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(ws::Message::Close(_))) => return,
                Some(Ok(_)) => {}
            },
        }
    }
    let _ = socket.send(ws::Message::Close(None)).await;
}

/// Server-Sent Events fallback of the same feed; `Last-Event-ID` resumes.
#[utoipa::path(get, path = "/api/conversations/{id}/events", tag = "live",
    params(("id" = String, Path, description = "conversation id"),
           ("after" = Option<i64>, Query, description = "last sequence number seen"),
           ("token" = Option<String>, Query, description = "bearer token, for browsers")),
    responses((status = 200, description = "`text/event-stream` of conversation events", body = String, content_type = "text/event-stream"),
              (status = 403, description = "`forbidden`")))]
async fn events(
    State(state): State<AppState>,
    LiveAuth(identity): LiveAuth,
    Path(id): Path<String>,
    Query(query): Query<LiveQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let last_event_id = match headers.get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|text| text.trim().parse::<i64>().ok())
                .ok_or_else(|| {
                    ApiError::BadRequest("Last-Event-ID must be a sequence number".to_string())
                })?,
        ),
        None => None,
    };
    let after = last_event_id.or(query.after).unwrap_or(0);
    let feed = feed_for(&state, identity, &id, after).await?;
    let stream = futures_util::stream::unfold(Some(feed), |feed| async move {
        let mut feed = feed?;
        match feed.next_live().await {
            Ok(Some(Live::Message(message))) => {
                let event = Event::default()
                    .event("message")
                    .id(message.seq.to_string())
                    .data(frame_json(message));
                Some((Ok::<_, Infallible>(event), Some(feed)))
            }
            Ok(Some(Live::Signal(signal))) => {
                // No id: a signal is not a place to resume from.
                let event = Event::default()
                    .event(signal.kind())
                    .data(signal.to_frame());
                Some((Ok::<_, Infallible>(event), Some(feed)))
            }
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(%error, "live feed failed; ending the event stream");
                // The client reconnects with Last-Event-ID and resumes.
                Some((Ok(Event::default().event("error").data("internal")), None))
            }
        }
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(PING_EVERY))
        .into_response())
}
