//! The bridges over HTTP: the admin API that defines bridges and watches their deliveries,
//! and the inbound endpoint external desks post their signed events to.
//!
//! - `GET /api/admin/bridges` → every bridge (secrets counted, never shown) with its health
//! - `PUT /api/admin/bridges/{id}` → defines or replaces a bridge; `DELETE` removes it
//! - `POST /api/admin/bridges/{id}/enable` and `/disable` → deliveries on or off
//! - `GET /api/admin/bridges/{id}/deliveries?status=&since=&until=&limit=` → its events
//! - `GET /api/admin/bridges/{id}/deliveries/{event_id}` → one event with every attempt
//! - `POST /api/admin/bridges/{id}/replay` `{event_id}` or `{since, until}` → delivered or
//!   dead events back to pending, keeping their `webhook-id`
//! - `POST /api/bridges/{id}/events` → an external desk's event, Standard Webhooks signed
//! - `GET /api/bridges/{id}/files/{file_id}?expires=&signature=` → a requester's file, by
//!   the signed link its `message.created` carried

use super::{Json, Path, Query};
use crate::bridge::config::{BridgeConfig, BridgeView};
use crate::bridge::service::Bridges;
use crate::bridge::signature::{self, Refusal};
use crate::bridge::{BridgeError, InboundEvent, InboundSink};
use crate::http::auth::{Admins, Authorized};
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::{
    BridgeHealth, DeliveryAttempt, OutboxEvent, OutboxFilter, OutboxStatus, Replay,
};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_bridges))
        .routes(routes!(put_bridge, get_bridge, delete_bridge))
        .routes(routes!(enable_bridge))
        .routes(routes!(disable_bridge))
        .routes(routes!(list_deliveries))
        .routes(routes!(get_delivery))
        .routes(routes!(replay))
        .routes(routes!(receive_event))
        .routes(routes!(download_file))
}

fn bridges(state: &AppState) -> Result<&Arc<Bridges>, ApiError> {
    state.bridges.as_ref().ok_or(ApiError::Unavailable)
}

impl From<BridgeError> for ApiError {
    fn from(error: BridgeError) -> Self {
        match error {
            BridgeError::Store(error) => error.into(),
            other => ApiError::Bridge(other),
        }
    }
}

/// A bridge as an admin sees it: its definition without secrets, whether it delivers, and
/// its health.
#[derive(Debug, Serialize, ToSchema)]
struct BridgeState {
    #[serde(flatten)]
    bridge: BridgeView,
    enabled: bool,
    /// Why deliveries stopped (`gone` after a 410, `admin`).
    disabled_reason: Option<String>,
    health: BridgeHealth,
}

async fn state_of(bridges: &Bridges, id: &str) -> Result<BridgeState, ApiError> {
    let held = bridges
        .get(id)
        .ok_or_else(|| ApiError::Bridge(BridgeError::UnknownBridge(id.to_string())))?;
    let health = bridges.store().bridge_health(id).await?;
    Ok(BridgeState {
        bridge: held.config.view(),
        enabled: held.enabled,
        disabled_reason: held.disabled_reason,
        health,
    })
}

#[derive(Debug, Serialize, ToSchema)]
struct BridgeList {
    bridges: Vec<BridgeState>,
}

/// Every bridge with its health.
#[utoipa::path(get, path = "/api/admin/bridges", tag = "bridges",
    responses((status = 200, body = BridgeList), (status = 403, description = "`forbidden`")))]
async fn list_bridges(
    State(state): State<AppState>,
    _admin: Authorized<Admins>,
) -> Result<axum::Json<BridgeList>, ApiError> {
    let bridges = bridges(&state)?;
    let mut list = Vec::new();
    for held in bridges.all() {
        list.push(state_of(bridges, &held.config.id).await?);
    }
    Ok(axum::Json(BridgeList { bridges: list }))
}

/// Defines or replaces a bridge. Secrets are `whsec_` + base64; several per direction are
/// accepted at once so they can be rotated without downtime. They are never shown again.
#[utoipa::path(put, path = "/api/admin/bridges/{id}", tag = "bridges",
    params(("id" = String, Path, description = "bridge id")),
    request_body = BridgeConfig,
    responses((status = 200, body = BridgeState),
              (status = 422, description = "`invalid_bridge`")))]
async fn put_bridge(
    State(state): State<AppState>,
    _admin: Authorized<Admins>,
    Path(id): Path<String>,
    Json(config): Json<BridgeConfig>,
) -> Result<axum::Json<BridgeState>, ApiError> {
    crate::http::error::check_id("bridge id", &id)?;
    let bridges = bridges(&state)?;
    bridges.put(config, &id).await?;
    Ok(axum::Json(state_of(bridges, &id).await?))
}

/// One bridge with its health.
#[utoipa::path(get, path = "/api/admin/bridges/{id}", tag = "bridges",
    params(("id" = String, Path, description = "bridge id")),
    responses((status = 200, body = BridgeState), (status = 404, description = "`unknown_bridge`")))]
async fn get_bridge(
    State(state): State<AppState>,
    _admin: Authorized<Admins>,
    Path(id): Path<String>,
) -> Result<axum::Json<BridgeState>, ApiError> {
    Ok(axum::Json(state_of(bridges(&state)?, &id).await?))
}

/// Removes a bridge; its events and attempts stay on record.
#[utoipa::path(delete, path = "/api/admin/bridges/{id}", tag = "bridges",
    params(("id" = String, Path, description = "bridge id")),
    responses((status = 200, body = Deleted), (status = 404, description = "`unknown_bridge`")))]
async fn delete_bridge(
    State(state): State<AppState>,
    _admin: Authorized<Admins>,
    Path(id): Path<String>,
) -> Result<axum::Json<Deleted>, ApiError> {
    bridges(&state)?.delete(&id).await?;
    Ok(axum::Json(Deleted { deleted: id }))
}

/// The bridge removed.
#[derive(Debug, Serialize, ToSchema)]
struct Deleted {
    deleted: String,
}

/// Turns a bridge's deliveries on (after a 410 or an admin's stop).
#[utoipa::path(post, path = "/api/admin/bridges/{id}/enable", tag = "bridges",
    params(("id" = String, Path, description = "bridge id")),
    responses((status = 200, body = BridgeState), (status = 404, description = "`unknown_bridge`")))]
async fn enable_bridge(
    State(state): State<AppState>,
    _admin: Authorized<Admins>,
    Path(id): Path<String>,
) -> Result<axum::Json<BridgeState>, ApiError> {
    switch(&state, &id, true, None).await
}

/// Stops a bridge's deliveries; its events wait, and its new hand-offs go to Ponte's desk.
#[utoipa::path(post, path = "/api/admin/bridges/{id}/disable", tag = "bridges",
    params(("id" = String, Path, description = "bridge id")),
    responses((status = 200, body = BridgeState), (status = 404, description = "`unknown_bridge`")))]
async fn disable_bridge(
    State(state): State<AppState>,
    _admin: Authorized<Admins>,
    Path(id): Path<String>,
) -> Result<axum::Json<BridgeState>, ApiError> {
    switch(&state, &id, false, Some("admin")).await
}

/// Turns a bridge's deliveries on or off and answers its state.
async fn switch(
    state: &AppState,
    id: &str,
    enabled: bool,
    reason: Option<&str>,
) -> Result<axum::Json<BridgeState>, ApiError> {
    let bridges = bridges(state)?;
    bridges.set_enabled(id, enabled, reason).await?;
    Ok(axum::Json(state_of(bridges, id).await?))
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct DeliveryQuery {
    /// `pending`, `delivered` or `dead`.
    status: Option<String>,
    conversation_id: Option<String>,
    /// Created at or after (unix ms).
    since: Option<i64>,
    /// Created before (unix ms).
    until: Option<i64>,
    limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
struct DeliveryList {
    events: Vec<OutboxEvent>,
}

/// A bridge's events, newest first.
#[utoipa::path(get, path = "/api/admin/bridges/{id}/deliveries", tag = "bridges",
    params(("id" = String, Path, description = "bridge id"), DeliveryQuery),
    responses((status = 200, body = DeliveryList)))]
async fn list_deliveries(
    State(state): State<AppState>,
    _admin: Authorized<Admins>,
    Path(id): Path<String>,
    Query(query): Query<DeliveryQuery>,
) -> Result<axum::Json<DeliveryList>, ApiError> {
    let bridges = bridges(&state)?;
    let status = match query.status.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<OutboxStatus>()
                .map_err(|error| ApiError::BadRequest(error.to_string()))?,
        ),
    };
    let events = bridges
        .store()
        .outbox_events(OutboxFilter {
            bridge_id: Some(id),
            conversation_id: query.conversation_id,
            status,
            since: query.since,
            until: query.until,
            limit: query.limit.unwrap_or(100),
        })
        .await?;
    Ok(axum::Json(DeliveryList { events }))
}

#[derive(Debug, Serialize, ToSchema)]
struct DeliveryDetail {
    event: OutboxEvent,
    attempts: Vec<DeliveryAttempt>,
}

/// One event with every attempt (status, latency, error).
#[utoipa::path(get, path = "/api/admin/bridges/{id}/deliveries/{event_id}", tag = "bridges",
    params(("id" = String, Path, description = "bridge id"),
           ("event_id" = String, Path, description = "the webhook-id")),
    responses((status = 200, body = DeliveryDetail), (status = 404, description = "`not_found`")))]
async fn get_delivery(
    State(state): State<AppState>,
    _admin: Authorized<Admins>,
    Path((id, event_id)): Path<(String, String)>,
) -> Result<axum::Json<DeliveryDetail>, ApiError> {
    let store = bridges(&state)?.store();
    let event = store
        .outbox_event(&event_id)
        .await?
        .filter(|event| event.bridge_id == id)
        .ok_or(ApiError::NotFound {
            what: "event",
            id: event_id.clone(),
        })?;
    let attempts = store.delivery_attempts(&event_id).await?;
    Ok(axum::Json(DeliveryDetail { event, attempts }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReplayRequest {
    /// One event, by its webhook-id...
    event_id: Option<String>,
    /// ... or every delivered or dead event created in [since, until) (unix ms).
    since: Option<i64>,
    until: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
struct Replayed {
    replayed: u64,
}

/// Delivers events again: delivered or dead ones go back to pending, keeping their
/// `webhook-id` (the receiver deduplicates).
#[utoipa::path(post, path = "/api/admin/bridges/{id}/replay", tag = "bridges",
    params(("id" = String, Path, description = "bridge id")),
    request_body = ReplayRequest,
    responses((status = 200, body = Replayed), (status = 400, description = "`bad_request`")))]
async fn replay(
    State(state): State<AppState>,
    _admin: Authorized<Admins>,
    Path(id): Path<String>,
    Json(request): Json<ReplayRequest>,
) -> Result<axum::Json<Replayed>, ApiError> {
    let bridges = bridges(&state)?;
    if bridges.get(&id).is_none() {
        return Err(BridgeError::UnknownBridge(id).into());
    }
    let replay = match (request.event_id, request.since, request.until) {
        (Some(event_id), None, None) => {
            let belongs = bridges
                .store()
                .outbox_event(&event_id)
                .await?
                .is_some_and(|event| event.bridge_id == id);
            if !belongs {
                return Err(ApiError::NotFound {
                    what: "event",
                    id: event_id,
                });
            }
            Replay::One { event_id }
        }
        (None, Some(since), Some(until)) if since < until => Replay::Range {
            bridge_id: id,
            since,
            until,
        },
        _ => {
            return Err(ApiError::BadRequest(
                "give either `event_id` or `since` < `until`".to_string(),
            ));
        }
    };
    let replayed = bridges
        .store()
        .replay_outbox(replay, crate::store::now_millis())
        .await?;
    bridges.wake_dispatcher();
    Ok(axum::Json(Replayed { replayed }))
}

/// The answer to an inbound event.
#[derive(Debug, Serialize, ToSchema)]
struct Received {
    #[schema(value_type = Object)]
    #[serde(flatten)]
    result: serde_json::Value,
}

fn header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, BridgeError> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .ok_or(BridgeError::BadHeader(name))
}

/// An external desk's event (`agent.accepted`, `agent.message`, `conversation.closed`,
/// `handoff.failed`), signed with one of the bridge's inbound secrets. A repeated
/// `webhook-id` gets the first answer and changes nothing; 2xx only once it is stored.
#[utoipa::path(post, path = "/api/bridges/{id}/events", tag = "bridges",
    security(()),
    params(("id" = String, Path, description = "bridge id")),
    request_body(content = Object, description = "`{type, timestamp, data}`"),
    responses((status = 200, body = Received),
              (status = 401, description = "`bad_signature`, `stale_timestamp`"),
              (status = 400, description = "`bad_webhook_header`"),
              (status = 404, description = "`unknown_bridge`, `unknown_conversation`"),
              (status = 409, description = "`conversation_closed`, `not_bridged`, `bridge_disabled`"),
              (status = 422, description = "`invalid_event`")))]
async fn receive_event(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<Received>, ApiError> {
    let bridges = bridges(&state)?;
    let config = bridges.inbound_config(&id)?;
    let webhook_id = header(&headers, "webhook-id")?;
    let timestamp: i64 = header(&headers, "webhook-timestamp")?
        .parse()
        .map_err(|_| BridgeError::BadHeader("webhook-timestamp"))?;
    let signature_header = header(&headers, "webhook-signature")?;
    let now = crate::store::now_millis() / 1000;
    signature::verify(
        &config.inbound_secrets,
        webhook_id,
        timestamp,
        &body,
        signature_header,
        now,
    )
    .map_err(|refusal| match refusal {
        Refusal::Stale => BridgeError::StaleTimestamp,
        Refusal::BadSignature => BridgeError::BadSignature,
    })?;
    crate::http::error::check_id("webhook-id", webhook_id)?;
    let event = InboundEvent::parse(&body).map_err(BridgeError::InvalidEvent)?;
    let result = bridges.receive(&id, webhook_id, event).await?;
    Ok(axum::Json(Received { result }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct FileLink {
    /// Unix milliseconds after which the link no longer works.
    expires: i64,
    /// URL-safe base64 HMAC-SHA256 under the bridge's outbound secret.
    signature: String,
}

/// A requester's file in a conversation handed to the bridge, for its external desk: the
/// link comes signed in the `message.created` event and works until it expires.
#[utoipa::path(get, path = "/api/bridges/{id}/files/{file_id}", tag = "bridges",
    security(()),
    params(("id" = String, Path, description = "bridge id"),
           ("file_id" = String, Path, description = "file id"),
           FileLink),
    responses((status = 200, description = "the file, with its own Content-Type", body = Vec<u8>, content_type = "application/octet-stream"),
              (status = 401, description = "`bad_signature` (a wrong or expired link)"),
              (status = 404, description = "`unknown_bridge`")))]
async fn download_file(
    State(state): State<AppState>,
    Path((id, file_id)): Path<(String, String)>,
    Query(link): Query<FileLink>,
) -> Result<axum::response::Response, ApiError> {
    let bridges = bridges(&state)?;
    let held = bridges
        .get(&id)
        .ok_or_else(|| BridgeError::UnknownBridge(id.clone()))?;
    crate::http::error::check_id("file id", &file_id)?;
    if !crate::bridge::files::link_verifies(
        &held.config.link_secrets(),
        &id,
        &file_id,
        link.expires,
        &link.signature,
        crate::store::now_millis(),
    ) {
        return Err(BridgeError::BadSignature.into());
    }
    // A signed link names a file the bridge was sent; anything else reads as a bad link.
    let file = bridges
        .store()
        .bridge_file(&file_id)
        .await?
        .filter(|file| file.bridge_id == id && file.origin == crate::store::FileOrigin::Requester)
        .ok_or(BridgeError::BadSignature)?;
    let settings = bridges.file_settings().ok_or(ApiError::Unavailable)?;
    let bytes = crate::attendance::files::read(&settings.dir, &file.id).await?;
    Ok(super::attachments::file_response(
        bytes,
        &file.content_type,
        &file.file_name,
    ))
}
