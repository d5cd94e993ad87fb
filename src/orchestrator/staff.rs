//! The orchestrator's side of the human desk: the hooks through which it tells the desk
//! about hand-offs and requester messages ([`DeskHooks`], called after the conversation's
//! lock is released, so the desk may call back at once), and the inputs that come from
//! people rather than the requester: an attendant's message, an attendant joining or leaving,
//! a close, an outbound conversation and an analysts' internal conversation. Each goes
//! through the same write-ahead path as the requester's inputs.

use super::{
    ChatError, Orchestrator, Outcome, Requester, Target, envelope_of, machine_error, new_id,
};
use crate::conversation::{self, Event, MachineError};
use crate::lang::Language;
use crate::store::{
    self, Channel, ConversationStatus, NewConversation, NewMessage, SenderKind, Step, StepTarget,
};
use std::sync::{Arc, Weak};

/// What the desk must hear from the conversations.
#[async_trait::async_trait]
pub trait DeskHooks: Send + Sync {
    /// The assistant handed the conversation to `group`: queue it for a person.
    async fn handed_off(&self, conversation: &store::Conversation, group: &str);
    /// The requester wrote in a conversation a person serves or will serve (unread marker).
    async fn requester_wrote(&self, conversation_id: &str);
    /// Whether the desk blocked this requester.
    async fn is_blocked(&self, requester: &str) -> bool;
    /// Whether someone is there to read the conversation now (its attendant online, or
    /// anyone online for a chat still queued); `None` when the desk does not hold it.
    async fn someone_present(&self, conversation_id: &str) -> Option<bool>;
}

impl Orchestrator {
    /// Connects the desk (once; later calls are ignored).
    pub fn set_desk(&self, desk: Weak<dyn DeskHooks>) {
        let _ = self.desk.set(desk);
    }

    fn desk(&self) -> Option<Arc<dyn DeskHooks>> {
        self.desk.get().and_then(Weak::upgrade)
    }

    pub(super) async fn someone_present(&self, conversation_id: &str) -> Option<bool> {
        self.desk()?.someone_present(conversation_id).await
    }

    pub(super) async fn refuse_blocked(&self, requester: &str) -> Result<(), ChatError> {
        match self.desk() {
            Some(desk) if desk.is_blocked(requester).await => Err(ChatError::Blocked),
            _ => Ok(()),
        }
    }

    /// Tells the desk what a requester input led to (called without the lock held).
    pub(super) async fn after_input(&self, outcome: &Outcome) {
        let Some(desk) = self.desk() else {
            return;
        };
        if let Some(group) = &outcome.handoff {
            desk.handed_off(&outcome.conversation, group).await;
        } else if !outcome.duplicate
            && matches!(
                outcome.conversation.status,
                ConversationStatus::Queued | ConversationStatus::Chat
            )
        {
            desk.requester_wrote(&outcome.conversation.id).await;
        }
    }

    /// A stored conversation, whoever owns it (the desk checks who may read it).
    pub async fn conversation_by_id(
        &self,
        conversation_id: &str,
    ) -> Result<store::Conversation, ChatError> {
        self.store
            .get_conversation(conversation_id)
            .await?
            .ok_or_else(|| ChatError::UnknownConversation(conversation_id.to_string()))
    }

    /// Feeds an event from the desk (attendant joined or left, presence, closed) to the
    /// conversation's machine. A conversation without a machine (an analysts' chat) or a
    /// machine that does not expect the event is left as it is.
    pub async fn staff_event(
        &self,
        conversation_id: &str,
        event: Event,
    ) -> Result<Option<Outcome>, ChatError> {
        let lock = self.lock_for(conversation_id);
        let _guard = lock.lock().await;
        let record = self.conversation_by_id(conversation_id).await?;
        let Ok(envelope) = envelope_of(&record) else {
            return Ok(None);
        };
        let language = envelope.machine.language();
        let params = self.params().await?;
        let transition = match envelope.machine.step(&params, event) {
            Ok(transition) => transition,
            Err(MachineError::UnexpectedEvent { .. }) => return Ok(None),
            Err(error) => return Err(machine_error(error, language)),
        };
        self.carry_out(
            Target::Existing(record),
            Vec::new(),
            envelope,
            transition,
            &params,
        )
        .await
        .map(Some)
    }

    /// Stores a message from a person (`person_id`, shown as `name`) in a conversation and
    /// tells the machine someone is present. A repeated `client_message_id` is a no-op.
    pub async fn staff_message(
        &self,
        conversation_id: &str,
        person_id: &str,
        text: &str,
        payload: Option<serde_json::Value>,
        client_message_id: Option<String>,
    ) -> Result<Outcome, ChatError> {
        let text =
            conversation::clean_text(text).map_err(|error| machine_error(error, Language::En))?;
        let lock = self.lock_for(conversation_id);
        let _guard = lock.lock().await;
        let record = self.conversation_by_id(conversation_id).await?;
        if record.status == ConversationStatus::Finished {
            return Err(ChatError::Machine {
                error: MachineError::ConversationFinished,
                reply: None,
            });
        }
        let message = NewMessage {
            conversation_id: conversation_id.to_string(),
            sender_kind: SenderKind::Attendant,
            sender_id: Some(person_id.to_string()),
            body: text,
            payload,
            client_message_id,
        };
        // The message and what it tells the machine (someone is present) are one step.
        let stepped = match envelope_of(&record) {
            Ok(envelope) => {
                let params = self.params().await?;
                envelope
                    .machine
                    .step(&params, Event::AttendantMessage)
                    .ok()
                    .map(|transition| (envelope, transition, params))
            }
            // An analysts' chat has no machine.
            Err(_) => None,
        };
        if let Some((envelope, transition, params)) = stepped {
            return self
                .carry_out(
                    Target::Existing(record),
                    vec![message],
                    envelope,
                    transition,
                    &params,
                )
                .await;
        }
        // Not a live chat for the machine (yet): the message is stored all the same.
        let committed = self
            .commit(Step {
                target: StepTarget::Keep {
                    id: record.id.clone(),
                },
                messages: vec![message],
                outbox: Vec::new(),
                deadline: None,
            })
            .await?;
        if let Some(stored) = committed.duplicate {
            return Ok(Outcome {
                conversation: record,
                messages: vec![stored],
                duplicate: true,
                handoff: None,
            });
        }
        Ok(Outcome {
            conversation: record,
            messages: committed.messages,
            duplicate: false,
            handoff: None,
        })
    }

    /// Posts an assistant message outside the machine (a desk notice such as a lost chat),
    /// once: `key` makes a repeat a no-op.
    pub async fn notify(
        &self,
        conversation_id: &str,
        text: String,
        payload: serde_json::Value,
        key: String,
    ) -> Result<store::Message, ChatError> {
        let lock = self.lock_for(conversation_id);
        let _guard = lock.lock().await;
        let appended = self
            .store
            .append_message(NewMessage {
                conversation_id: conversation_id.to_string(),
                sender_kind: SenderKind::Assistant,
                sender_id: None,
                body: text,
                payload: Some(payload),
                client_message_id: Some(key),
            })
            .await?;
        if !appended.duplicate {
            self.bus.publish_message(&appended.message);
        }
        Ok(appended.message)
    }

    /// Stores a requester message that is not text for the machine (an attachment note),
    /// publishes it and tells the desk.
    pub async fn requester_note(
        &self,
        conversation_id: &str,
        requester: &str,
        text: &str,
        payload: serde_json::Value,
    ) -> Result<store::Message, ChatError> {
        self.refuse_blocked(requester).await?;
        let message = {
            let lock = self.lock_for(conversation_id);
            let _guard = lock.lock().await;
            let appended = self
                .store
                .append_message(NewMessage {
                    conversation_id: conversation_id.to_string(),
                    sender_kind: SenderKind::Requester,
                    sender_id: Some(requester.to_string()),
                    body: text.to_string(),
                    payload: Some(payload),
                    client_message_id: None,
                })
                .await?;
            self.bus.publish_message(&appended.message);
            appended.message
        };
        if let Some(desk) = self.desk() {
            desk.requester_wrote(conversation_id).await;
        }
        Ok(message)
    }

    /// Opens a conversation that an attendant starts with `requester`: live from the start.
    pub async fn open_outbound(
        &self,
        requester: &Requester,
        channel: Channel,
        language: Language,
        attendant_name: &str,
    ) -> Result<Outcome, ChatError> {
        self.refuse_blocked(&requester.id).await?;
        let opened = Event::OutboundOpened {
            language,
            requester: requester.id.clone(),
            attendant: attendant_name.to_string(),
        };
        self.start(
            requester,
            channel,
            language,
            opened,
            ConversationStatus::Chat,
        )
        .await
    }

    /// Opens an internal conversation between two analysts: no machine, no assistant.
    pub async fn open_internal(&self, from: &str) -> Result<store::Conversation, ChatError> {
        Ok(self
            .store
            .create_conversation(NewConversation {
                id: new_id(),
                channel: Channel::Web,
                requester_id: from.to_string(),
                language: Language::En,
                status: ConversationStatus::Chat,
                queue_group: None,
                machine_state: serde_json::json!({ "internal": true }),
            })
            .await?)
    }
}
