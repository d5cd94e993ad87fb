//! The orchestrator's side of the bridge to external chat services: which hand-offs go to a
//! bridge ([`BridgeRouter`], asked in the same step as the hand-off, so the step that queues
//! a chat for an external desk also writes its `handoff.requested` event and its accept
//! deadline), the outbox events a step causes, and the inputs that come from a bridge (an
//! agent accepting, writing, closing; the hand-off acknowledged or failed; the accept
//! deadline). Each input goes through the same write-ahead path as the requester's.

use std::sync::{Arc, Weak};
use std::time::Duration;

use serde_json::json;

use super::{ChatError, Envelope, Orchestrator, Outcome, Target, envelope_of, machine_error};
use crate::conversation::{self, Effect, Event, HandoffPhase, MachineError, State};
use crate::store::{self, BridgeDeadline, ConversationStatus, NewMessage, NewOutboxEvent};

/// Where a hand-off goes when a bridge takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeRoute {
    pub bridge: String,
    /// How long the external desk has to accept before the chat falls back to Ponte's desk.
    pub accept_deadline: Duration,
}

/// Decides which hand-offs leave for an external chat service.
#[async_trait::async_trait]
pub trait BridgeRouter: Send + Sync {
    /// The enabled bridge that takes a hand-off to `group`, if any.
    async fn route(&self, group: &str) -> Option<BridgeRoute>;

    /// Events were just put in the outbox of these lanes (bridge, conversation): deliver
    /// them now rather than at the next look.
    fn outbox_written(&self, lanes: Vec<(String, String)>);
}

/// What a bridge reports about a conversation handed to it.
#[derive(Debug, Clone, PartialEq)]
pub enum BridgeInput {
    /// The external service acknowledged `handoff.requested` (its first 2xx).
    Initiated,
    /// An agent took the chat.
    Accepted { agent: String },
    /// An agent wrote: stored as an attendant message (an accept when none came before).
    Message {
        agent: String,
        /// The message's id at the source: a repeat is stored once.
        external_id: String,
        text: String,
        payload: Option<serde_json::Value>,
    },
    /// The external service closed the chat.
    Closed { reason: Option<String> },
    /// The external service cannot take the chat, or its delivery was exhausted.
    Failed,
    /// Nobody accepted in time.
    DeadlinePassed,
}

impl Orchestrator {
    /// Connects the bridges (once; later calls are ignored).
    pub fn set_bridges(&self, router: Weak<dyn BridgeRouter>) {
        let _ = self.bridges.set(router);
    }

    /// Tells the bridges that a step put events in the outbox of these lanes.
    pub(super) fn outbox_written(&self, lanes: Vec<(String, String)>) {
        if let Some(router) = self.router() {
            router.outbox_written(lanes);
        }
    }

    fn router(&self) -> Option<Arc<dyn BridgeRouter>> {
        self.bridges.get().and_then(Weak::upgrade)
    }

    /// Routes a bridgeable hand-off of `transition` to a bridge, within the same step: the
    /// machine goes on to [`State::Bridged`] and the desk never hears of the chat.
    pub(super) async fn route_handoff(
        &self,
        transition: conversation::Transition,
        params: &conversation::Params,
    ) -> Result<(conversation::Transition, Option<BridgeRoute>), ChatError> {
        let Some(group) = transition.effects.iter().find_map(|effect| match effect {
            Effect::Handoff {
                group,
                bridgeable: true,
                ..
            } => Some(group.clone()),
            _ => None,
        }) else {
            return Ok((transition, None));
        };
        let Some(router) = self.router() else {
            return Ok((transition, None));
        };
        let Some(route) = router.route(&group).await else {
            return Ok((transition, None));
        };
        let language = transition.conversation.language();
        let routed = transition
            .conversation
            .step(
                params,
                Event::BridgeRouted {
                    bridge: route.bridge.clone(),
                },
            )
            .map_err(|error| machine_error(error, language))?;
        let mut effects: Vec<Effect> = transition
            .effects
            .into_iter()
            .filter(|effect| !matches!(effect, Effect::Handoff { .. }))
            .collect();
        effects.extend(routed.effects);
        Ok((
            conversation::Transition {
                conversation: routed.conversation,
                effects,
            },
            Some(route),
        ))
    }

    /// Applies what a bridge reports to the conversation it was handed, as one step under
    /// the conversation's lock. Reports that no longer apply (a deadline after an accept, an
    /// acknowledgement after a fallback) change nothing and give `None`.
    pub async fn bridge_input(
        &self,
        bridge_id: &str,
        conversation_id: &str,
        input: BridgeInput,
    ) -> Result<Option<Outcome>, ChatError> {
        let (outcome, awaited_accept) = {
            let lock = self.lock_for(conversation_id);
            let _guard = lock.lock().await;
            let record = self.conversation_by_id(conversation_id).await?;
            let before = accepted_agent(&record);
            // Whether an accept deadline may still be set for the chat.
            let awaited_accept = record.status == ConversationStatus::Bridged && before.is_none();
            let outcome = self.bridge_step(bridge_id, record, input).await?;
            // The agent who took the chat, as the desk announces its attendants: the
            // requester's client shows the name with the online status.
            if let Some(agent) = outcome
                .as_ref()
                .and_then(|outcome| accepted_agent(&outcome.conversation))
                .filter(|agent| before.as_ref() != Some(agent))
            {
                self.bus.publish(
                    conversation_id,
                    crate::live::FeedEvent::Attendant {
                        id: format!("{bridge_id}:{agent}"),
                        name: agent,
                        status: crate::live::AttendantStatus::Online,
                    },
                );
            }
            (outcome, awaited_accept)
        };
        if let Some(outcome) = &outcome {
            let still_awaited = outcome.conversation.status == ConversationStatus::Bridged
                && accepted_agent(&outcome.conversation).is_none();
            if awaited_accept && !still_awaited {
                // Accepted, fallen back or ended: the deadline has nothing left to do.
                self.store.clear_deadline(conversation_id).await?;
            }
            self.after_input(outcome).await;
        }
        Ok(outcome)
    }

    /// The requester ends a conversation with the assistant or with an external desk
    /// (which gets `handoff.cancelled` or `conversation.closed`). A chat of Ponte's own
    /// desk is its attendant's to close.
    pub async fn leave(
        &self,
        requester: &super::Requester,
        conversation_id: &str,
    ) -> Result<Outcome, ChatError> {
        let lock = self.lock_for(conversation_id);
        let _guard = lock.lock().await;
        let (record, envelope) = self.load(requester, conversation_id).await?;
        let language = envelope.machine.language();
        match record.status {
            ConversationStatus::Queued | ConversationStatus::Chat => {
                return Err(ChatError::DeskChat(conversation_id.to_string()));
            }
            ConversationStatus::Finished => {
                return Err(machine_error(MachineError::ConversationFinished, language));
            }
            ConversationStatus::Bot | ConversationStatus::Bridged => {}
        }
        let params = self.params().await?;
        let transition = envelope
            .machine
            .step(&params, Event::Closed)
            .map_err(|error| machine_error(error, language))?;
        let outcome = self
            .carry_out(
                Target::Existing(record),
                Vec::new(),
                envelope,
                transition,
                &params,
            )
            .await?;
        self.store.clear_deadline(conversation_id).await?;
        Ok(outcome)
    }

    /// The bridge a requester's conversation is handed to, if any (what an upload checks
    /// before it stores a file for the external desk).
    pub async fn bridge_of(
        &self,
        requester: &super::Requester,
        conversation_id: &str,
    ) -> Result<Option<String>, ChatError> {
        let (_, envelope) = self.load(requester, conversation_id).await?;
        Ok(envelope.machine.state().bridge().map(str::to_string))
    }

    /// A requester's file in a conversation handed to a bridge: the message that shows it
    /// and the `message.created` that links it to the external desk, in one step. The file
    /// is already stored and recorded; `file.bridge_id` must still be where the
    /// conversation is handed (else `not_bridged`: it fell back meanwhile).
    pub async fn requester_file(
        &self,
        requester: &super::Requester,
        file: &store::BridgeFile,
        payload: serde_json::Value,
    ) -> Result<store::Message, ChatError> {
        self.refuse_blocked(&requester.id).await?;
        let conversation_id = file.conversation_id.as_str();
        let lock = self.lock_for(conversation_id);
        let _guard = lock.lock().await;
        let (record, envelope) = self.load(requester, conversation_id).await?;
        if envelope.machine.state().bridge() != Some(file.bridge_id.as_str()) {
            return Err(ChatError::NotBridged(conversation_id.to_string()));
        }
        let text = format!("📎 {}", file.file_name);
        let committed = self
            .commit(store::Step {
                target: store::StepTarget::Keep {
                    id: record.id.clone(),
                },
                messages: vec![NewMessage {
                    conversation_id: record.id.clone(),
                    sender_kind: store::SenderKind::Requester,
                    sender_id: Some(requester.id.clone()),
                    body: text.clone(),
                    payload: Some(payload),
                    client_message_id: None,
                }],
                outbox: vec![NewOutboxEvent {
                    id: webhook_id(),
                    bridge_id: file.bridge_id.clone(),
                    conversation_id: record.id.clone(),
                    event_type: store::OutboundType::MessageCreated.as_str().to_string(),
                    data: json!({ "message": {
                        "sender": "requester",
                        "text": text,
                        "attachments": [{
                            "id": file.id,
                            "name": file.file_name,
                            "content_type": file.content_type,
                            "size": file.size,
                        }],
                    } }),
                    message_index: Some(0),
                }],
                deadline: None,
            })
            .await?;
        self.outbox_written(vec![(file.bridge_id.clone(), record.id.clone())]);
        committed
            .messages
            .into_iter()
            .next()
            .ok_or_else(|| ChatError::Corrupt("a file's step stored no message".to_string()))
    }

    async fn bridge_step(
        &self,
        bridge_id: &str,
        record: store::Conversation,
        input: BridgeInput,
    ) -> Result<Option<Outcome>, ChatError> {
        let conversation_id = record.id.clone();
        let conversation_id = conversation_id.as_str();
        let envelope = envelope_of(&record)?;
        let state = envelope.machine.state().clone();
        let handed_here = state.bridge() == Some(bridge_id);
        let internal = matches!(input, BridgeInput::Initiated | BridgeInput::DeadlinePassed);
        if !handed_here {
            // The dispatcher's and the deadline's reports are about a hand-off that may have
            // moved on; the external desk's are refused.
            if internal {
                return Ok(None);
            }
            return Err(match state {
                State::Finished => ChatError::Machine {
                    error: MachineError::ConversationFinished,
                    reply: None,
                },
                _ => ChatError::NotBridged(conversation_id.to_string()),
            });
        }
        let accepted = matches!(
            state,
            State::Bridged {
                phase: HandoffPhase::Accepted { .. },
                ..
            }
        );
        let (events, message) = match input {
            BridgeInput::Initiated => (vec![Event::HandoffInitiated], None),
            BridgeInput::Accepted { agent } => (vec![Event::AttendantJoined { name: agent }], None),
            BridgeInput::Message {
                agent,
                external_id,
                text,
                payload,
            } => {
                let mut events = Vec::new();
                if !accepted {
                    events.push(Event::AttendantJoined {
                        name: agent.clone(),
                    });
                }
                events.push(Event::AttendantMessage);
                let text = conversation::clean_text(&text)
                    .map_err(|error| machine_error(error, envelope.machine.language()))?;
                let message = NewMessage {
                    conversation_id: conversation_id.to_string(),
                    sender_kind: store::SenderKind::Attendant,
                    sender_id: Some(agent),
                    body: text,
                    payload,
                    client_message_id: Some(format!("bridge:{bridge_id}:{external_id}")),
                };
                (events, Some(message))
            }
            BridgeInput::Closed { .. } => (vec![Event::BridgeClosed], None),
            BridgeInput::Failed => (vec![Event::HandoffFailed { deadline: false }], None),
            BridgeInput::DeadlinePassed => (vec![Event::HandoffFailed { deadline: true }], None),
        };
        // A repeated agent message changes nothing.
        if let Some(message) = &message
            && let Some(key) = &message.client_message_id
            && let Some(stored) = self
                .store
                .message_by_client_id(conversation_id, key)
                .await?
        {
            return Ok(Some(Outcome {
                conversation: record,
                messages: vec![stored],
                duplicate: true,
                handoff: None,
            }));
        }
        let params = self.params().await?;
        let language = envelope.machine.language();
        let mut transition = conversation::Transition {
            conversation: envelope.machine.clone(),
            effects: Vec::new(),
        };
        for event in events {
            let next = transition
                .conversation
                .step(&params, event)
                .map_err(|error| machine_error(error, language))?;
            transition.conversation = next.conversation;
            transition.effects.extend(next.effects);
        }
        if transition.conversation == envelope.machine && message.is_none() {
            return Ok(None);
        }
        self.carry_out(
            Target::Existing(record),
            message.into_iter().collect(),
            envelope,
            transition,
            &params,
        )
        .await
        .map(Some)
    }
}

/// The external agent who accepted the chat, if any.
fn accepted_agent(conversation: &store::Conversation) -> Option<String> {
    match envelope_of(conversation).ok()?.machine.state() {
        State::Bridged {
            phase: HandoffPhase::Accepted { agent },
            ..
        } => Some(agent.clone()),
        _ => None,
    }
}

/// The outbox events and the deadline one step causes, gathered while its effects are
/// carried out.
#[derive(Default)]
pub(super) struct BridgeWrites {
    pub outbox: Vec<NewOutboxEvent>,
    pub deadline: Option<BridgeDeadline>,
}

impl BridgeWrites {
    /// `handoff.requested`: who, in which language and channel, for which group and ticket;
    /// the transcript is added from the stored messages when the event is sent.
    pub fn handoff(
        &mut self,
        record: &Target,
        envelope: &Envelope,
        bridge: &str,
        group: &str,
        ticket: Option<&str>,
        route: &BridgeRoute,
    ) {
        let conversation_id = record.id().to_string();
        let machine = &envelope.machine;
        self.outbox.push(NewOutboxEvent {
            id: webhook_id(),
            bridge_id: bridge.to_string(),
            conversation_id: conversation_id.clone(),
            event_type: store::OutboundType::HandoffRequested.as_str().to_string(),
            data: json!({
                "requester": { "id": machine.requester(), "groups": envelope.groups },
                "language": machine.language().tag(),
                "channel": record.channel().as_str(),
                "group": group,
                "ticket": ticket,
            }),
            message_index: None,
        });
        let accept_deadline = route.accept_deadline;
        self.deadline = Some(BridgeDeadline {
            conversation_id,
            bridge_id: bridge.to_string(),
            due_at: store::now_millis() + accept_deadline.as_millis() as i64,
        });
    }

    /// `message.created` for the step's first message (the requester's input).
    pub fn message(&mut self, conversation_id: &str, bridge: &str, text: &str) {
        self.outbox.push(NewOutboxEvent {
            id: webhook_id(),
            bridge_id: bridge.to_string(),
            conversation_id: conversation_id.to_string(),
            event_type: store::OutboundType::MessageCreated.as_str().to_string(),
            data: json!({ "message": { "sender": "requester", "text": text, "attachments": [] } }),
            message_index: Some(0),
        });
    }

    /// `handoff.cancelled` (no agent had accepted) or `conversation.closed`.
    pub fn ended(&mut self, conversation_id: &str, bridge: &str, accepted: bool) {
        let (event_type, reason) = if accepted {
            (
                store::OutboundType::ConversationClosed,
                "closed_by_requester",
            )
        } else {
            (store::OutboundType::HandoffCancelled, "requester_left")
        };
        self.outbox.push(NewOutboxEvent {
            id: webhook_id(),
            bridge_id: bridge.to_string(),
            conversation_id: conversation_id.to_string(),
            event_type: event_type.as_str().to_string(),
            data: json!({ "reason": reason }),
            message_index: None,
        });
    }
}

/// A new `webhook-id`: `msg_` and a random UUID's hex.
pub fn webhook_id() -> String {
    format!("msg_{}", super::new_id().replace('-', ""))
}
