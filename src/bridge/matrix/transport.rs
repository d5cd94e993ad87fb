//! [`MatrixTransport`]: the [`Transport`] of `matrix` bridges. One delivery is one attempt
//! and idempotent on the outbox event id: `handoff.requested` creates the conversation's room
//! under its deterministic alias (an alias already taken means an earlier attempt or another
//! node created it: the room is looked up and used), then posts the transcript and the details
//! under transaction ids `{event.id}.0`, `{event.id}.1`…; `message.created` posts the
//! requester's message under `{event.id}`; `handoff.cancelled` and `conversation.closed` post
//! a notice and leave the room. The homeserver deduplicates sends by transaction id, so a
//! retried delivery posts nothing twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{Value, json};

use super::client::{ApiError, MatrixClient, NewRoom};
use super::render;
use crate::bridge::config::BridgeConfig;
use crate::bridge::{Attempt, AttemptResult, OutboundType, OutgoingEvent, Transport};

/// The settings a cached client was built from.
type Fingerprint = (String, String, String, String);

/// Delivers outbox events of `matrix` bridges to their homeservers.
pub struct MatrixTransport {
    http: reqwest::Client,
    clients: Mutex<HashMap<String, (Fingerprint, Arc<MatrixClient>)>>,
    /// Requester names by room, read from the rooms' conversation state.
    requesters: Mutex<HashMap<String, String>>,
}

impl MatrixTransport {
    /// A transport over `http` (its timeouts and TLS settings apply; each request also has
    /// its own timeout).
    pub fn new(http: reqwest::Client) -> Self {
        MatrixTransport {
            http,
            clients: Mutex::default(),
            requesters: Mutex::default(),
        }
    }

    /// The client of a bridge, built once per bridge and rebuilt when its settings change.
    pub fn client(&self, bridge: &BridgeConfig) -> Result<Arc<MatrixClient>, ApiError> {
        let settings = super::settings(bridge).map_err(|error| local_error(error.to_string()))?;
        let fingerprint = (
            bridge.endpoint.clone(),
            settings.as_token.clone(),
            settings.server_name.clone(),
            settings.sender_localpart.clone(),
        );
        let mut clients = self.clients.lock().expect("client cache lock");
        if let Some((known, client)) = clients.get(&bridge.id)
            && *known == fingerprint
        {
            return Ok(client.clone());
        }
        let client = Arc::new(
            MatrixClient::new(self.http.clone(), &bridge.endpoint, settings)
                .map_err(|error| local_error(error.to_string()))?,
        );
        clients.insert(bridge.id.clone(), (fingerprint, client.clone()));
        Ok(client)
    }

    async fn attempt(&self, bridge: &BridgeConfig, event: &OutgoingEvent) -> Result<(), ApiError> {
        let client = self.client(bridge)?;
        let body: Value = serde_json::from_slice(&event.body)
            .map_err(|error| local_error(format!("the event body is not JSON: {error}")))?;
        let data = body.get("data").cloned().unwrap_or(Value::Null);
        match event.event_type {
            OutboundType::HandoffRequested => {
                let agents = &super::settings(bridge)
                    .map_err(|error| local_error(error.to_string()))?
                    .agents;
                self.hand_off(&client, event, &data, agents).await
            }
            OutboundType::MessageCreated => self.message(&client, event, &data).await,
            OutboundType::HandoffCancelled => self.close(&client, event, &data, true).await,
            OutboundType::ConversationClosed => self.close(&client, event, &data, false).await,
        }
    }

    async fn hand_off(
        &self,
        client: &MatrixClient,
        event: &OutgoingEvent,
        data: &Value,
        agents: &[String],
    ) -> Result<(), ApiError> {
        let conversation_id = &event.conversation_id;
        let alias_localpart = render::alias_localpart(conversation_id);
        let requester = render::requester_name(data);
        let name = render::room_name(data);
        let room = NewRoom {
            alias_localpart: &alias_localpart,
            name: &name,
            topic: Some("Ponte hand-off"),
            invite: agents,
            conversation: json!({"conversation_id": conversation_id, "requester": requester}),
        };
        let room_id = match client.create_room(&room).await {
            Ok(room_id) => room_id,
            Err(error) if error.is("M_ROOM_IN_USE") => {
                let alias = client.alias(&alias_localpart);
                let room_id = client.resolve_alias(&alias).await?.ok_or_else(|| {
                    local_error(format!("{alias} is taken but resolves to nothing"))
                })?;
                let owner = client.conversation_of(&room_id).await?;
                if owner.as_deref() != Some(conversation_id.as_str()) {
                    client.forget_alias(&alias);
                    return Err(local_error(format!(
                        "{alias} belongs to a room of another conversation"
                    )));
                }
                room_id
            }
            Err(error) => return Err(error),
        };
        self.requesters
            .lock()
            .expect("requester cache lock")
            .insert(room_id.clone(), requester);
        let mut index = 0;
        for body in render::transcript_messages(data) {
            let txn_id = format!("{}.{index}", event.id);
            client
                .send_message(&room_id, &txn_id, &render::text_content(&body))
                .await?;
            index += 1;
        }
        let txn_id = format!("{}.{index}", event.id);
        client
            .send_message(
                &room_id,
                &txn_id,
                &render::notice_content(&render::details_line(data)),
            )
            .await?;
        Ok(())
    }

    /// The conversation's room, through its alias; an error if there is none (the hand-off
    /// was not delivered yet).
    async fn room_of(
        &self,
        client: &MatrixClient,
        conversation_id: &str,
    ) -> Result<(String, String), ApiError> {
        let alias = client.alias(&render::alias_localpart(conversation_id));
        match client.resolve_alias(&alias).await? {
            Some(room_id) => Ok((alias, room_id)),
            None => Err(local_error(format!(
                "no room for conversation {conversation_id:?} (alias {alias} is unknown)"
            ))),
        }
    }

    async fn requester_of(&self, client: &MatrixClient, room_id: &str, data: &Value) -> String {
        if data.pointer("/requester").is_some() {
            return render::requester_name(data);
        }
        if let Some(name) = self
            .requesters
            .lock()
            .expect("requester cache lock")
            .get(room_id)
        {
            return name.clone();
        }
        let name = match client.room_state(room_id).await {
            Ok(Some(state)) => state
                .get("requester")
                .and_then(Value::as_str)
                .filter(|name| !name.trim().is_empty())
                .map(str::to_string),
            _ => None,
        };
        match name {
            Some(name) => {
                self.requesters
                    .lock()
                    .expect("requester cache lock")
                    .insert(room_id.to_string(), name.clone());
                name
            }
            None => "Requester".to_string(),
        }
    }

    async fn message(
        &self,
        client: &MatrixClient,
        event: &OutgoingEvent,
        data: &Value,
    ) -> Result<(), ApiError> {
        let (alias, room_id) = self.room_of(client, &event.conversation_id).await?;
        let requester = self.requester_of(client, &room_id, data).await;
        let body = render::requester_message(&requester, data);
        match client
            .send_message(&room_id, &event.id, &render::text_content(&body))
            .await
        {
            Ok(_) => Ok(()),
            Err(error) => {
                if error.is("M_FORBIDDEN") || error.is("M_NOT_FOUND") {
                    client.forget_alias(&alias);
                }
                Err(error)
            }
        }
    }

    async fn close(
        &self,
        client: &MatrixClient,
        event: &OutgoingEvent,
        data: &Value,
        cancelled: bool,
    ) -> Result<(), ApiError> {
        let (_, room_id) = self.room_of(client, &event.conversation_id).await?;
        let notice = render::notice_content(&render::closing_notice(cancelled, data));
        match client.send_message(&room_id, &event.id, &notice).await {
            Ok(_) => {}
            // Not in the room any more: an earlier attempt posted the notice and left.
            Err(error) if error.is("M_FORBIDDEN") => return Ok(()),
            Err(error) => return Err(error),
        }
        match client.leave_room(&room_id).await {
            Ok(()) => Ok(()),
            Err(error) if error.is("M_FORBIDDEN") || error.is("M_NOT_FOUND") => Ok(()),
            Err(error) => Err(error),
        }
    }
}

#[async_trait]
impl Transport for MatrixTransport {
    async fn deliver(&self, bridge: &BridgeConfig, event: &OutgoingEvent) -> Attempt {
        let started = Instant::now();
        let result = match self.attempt(bridge, event).await {
            Ok(()) => AttemptResult::Delivered { status: 200 },
            Err(error) => AttemptResult::Failed {
                status: error.status,
                error: error.to_string(),
                retry_after: error.retry_after,
            },
        };
        Attempt {
            result,
            latency: started.elapsed(),
        }
    }
}

/// A failure found on Ponte's side (no homeserver status).
fn local_error(message: String) -> ApiError {
    ApiError {
        status: None,
        errcode: None,
        message,
        retry_after: None::<Duration>,
    }
}
