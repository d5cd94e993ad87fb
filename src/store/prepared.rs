//! Validated inputs of the writes, shared by both backends. Validation and JSON encoding
//! happen on the caller's task, before any SQL: the store builds a `Prepared*` value and its
//! backend writes it (SQLite through its writer, PostgreSQL in a transaction). The JSON
//! decoding of stored text columns lives here too, since both backends store JSON as text.

use super::{
    BridgeDeadline, BridgeRecord, ConversationUpdate, InboundReceipt, NewConversation, NewMessage,
    NewOutboxEvent, NewTicket, NewToken, Step, StepTarget, StoreError, check_id, check_new_token,
    check_optional_id, clean_tags,
};

pub(in crate::store) struct PreparedConversation {
    pub(in crate::store) new: NewConversation,
    pub(in crate::store) machine_state_json: String,
}

impl PreparedConversation {
    pub(in crate::store) fn new(new: NewConversation) -> Result<Self, StoreError> {
        check_id("conversation id", &new.id)?;
        check_id("requester id", &new.requester_id)?;
        check_optional_id("queue group", new.queue_group.as_deref())?;
        let machine_state_json = encode_json(&new.machine_state)?;
        Ok(Self {
            new,
            machine_state_json,
        })
    }
}

pub(in crate::store) struct PreparedUpdate {
    pub(in crate::store) update: ConversationUpdate,
    pub(in crate::store) machine_state_json: String,
}

impl PreparedUpdate {
    pub(in crate::store) fn new(update: ConversationUpdate) -> Result<Self, StoreError> {
        check_id("conversation id", &update.id)?;
        check_optional_id("queue group", update.queue_group.as_deref())?;
        let machine_state_json = encode_json(&update.machine_state)?;
        Ok(Self {
            update,
            machine_state_json,
        })
    }
}

pub(in crate::store) struct PreparedMessage {
    pub(in crate::store) new: NewMessage,
    pub(in crate::store) payload_json: Option<String>,
}

impl PreparedMessage {
    pub(in crate::store) fn new(new: NewMessage) -> Result<Self, StoreError> {
        check_id("conversation id", &new.conversation_id)?;
        check_optional_id("sender id", new.sender_id.as_deref())?;
        check_optional_id("client message id", new.client_message_id.as_deref())?;
        let payload_json = new.payload.as_ref().map(encode_json).transpose()?;
        Ok(Self { new, payload_json })
    }
}

pub(in crate::store) enum PreparedTarget {
    Create(PreparedConversation),
    Update(PreparedUpdate),
    Keep(String),
}

pub(in crate::store) struct PreparedStep {
    pub(in crate::store) target: PreparedTarget,
    pub(in crate::store) messages: Vec<PreparedMessage>,
    pub(in crate::store) outbox: Vec<PreparedOutboxEvent>,
    pub(in crate::store) deadline: Option<BridgeDeadline>,
}

impl PreparedStep {
    /// A step that writes one statement only (a message appended to a kept conversation, no
    /// outbox event, no deadline): like a plain append, it needs no savepoint to be undone
    /// alone.
    pub(in crate::store) fn is_single_write(&self) -> bool {
        matches!(self.target, PreparedTarget::Keep(_))
            && self.messages.len() <= 1
            && self.outbox.is_empty()
            && self.deadline.is_none()
    }

    pub(in crate::store) fn new(step: Step) -> Result<Self, StoreError> {
        let id = step.target.id().to_owned();
        if let Some(stranger) = step
            .messages
            .iter()
            .find(|message| message.conversation_id != id)
        {
            return Err(StoreError::InvalidInput(format!(
                "a step of conversation {id:?} cannot append to {:?}",
                stranger.conversation_id
            )));
        }
        let target = match step.target {
            StepTarget::Create(new) => PreparedTarget::Create(PreparedConversation::new(new)?),
            StepTarget::Update(update) => PreparedTarget::Update(PreparedUpdate::new(update)?),
            StepTarget::Keep { id } => {
                check_id("conversation id", &id)?;
                PreparedTarget::Keep(id)
            }
        };
        let messages = step
            .messages
            .into_iter()
            .map(PreparedMessage::new)
            .collect::<Result<Vec<_>, _>>()?;
        let outbox = step
            .outbox
            .into_iter()
            .map(|event| {
                if event.conversation_id != id {
                    return Err(StoreError::InvalidInput(format!(
                        "a step of conversation {id:?} cannot put an event of {:?} in the outbox",
                        event.conversation_id
                    )));
                }
                if let Some(index) = event.message_index
                    && index >= messages.len()
                {
                    return Err(StoreError::InvalidInput(format!(
                        "outbox event {:?} is about message {index} of a step of {} messages",
                        event.id,
                        messages.len()
                    )));
                }
                PreparedOutboxEvent::new(event)
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(deadline) = &step.deadline {
            check_deadline(deadline)?;
            if deadline.conversation_id != id {
                return Err(StoreError::InvalidInput(format!(
                    "a step of conversation {id:?} cannot set the deadline of {:?}",
                    deadline.conversation_id
                )));
            }
        }
        Ok(Self {
            target,
            messages,
            outbox,
            deadline: step.deadline,
        })
    }
}

/// An outbox event with its ids checked and its data encoded.
pub(in crate::store) struct PreparedOutboxEvent {
    pub(in crate::store) event: NewOutboxEvent,
    pub(in crate::store) data_json: String,
}

impl PreparedOutboxEvent {
    pub(in crate::store) fn new(event: NewOutboxEvent) -> Result<Self, StoreError> {
        check_id("outbox event id", &event.id)?;
        check_id("bridge id", &event.bridge_id)?;
        check_id("conversation id", &event.conversation_id)?;
        check_id("event type", &event.event_type)?;
        let data_json = encode_json(&event.data)?;
        Ok(Self { event, data_json })
    }
}

pub(in crate::store) fn check_deadline(deadline: &BridgeDeadline) -> Result<(), StoreError> {
    check_id("conversation id", &deadline.conversation_id)?;
    check_id("bridge id", &deadline.bridge_id)
}

/// A bridge definition with its id checked and its config encoded.
pub(in crate::store) struct PreparedBridge {
    pub(in crate::store) record: BridgeRecord,
    pub(in crate::store) config_json: String,
}

impl PreparedBridge {
    pub(in crate::store) fn new(record: BridgeRecord) -> Result<Self, StoreError> {
        check_id("bridge id", &record.id)?;
        check_optional_id("disabled reason", record.disabled_reason.as_deref())?;
        let config_json = encode_json(&record.config)?;
        Ok(Self {
            record,
            config_json,
        })
    }
}

/// An inbound receipt with its ids checked and its body encoded.
pub(in crate::store) struct PreparedReceipt {
    pub(in crate::store) receipt: InboundReceipt,
    pub(in crate::store) body_json: String,
}

impl PreparedReceipt {
    pub(in crate::store) fn new(receipt: InboundReceipt) -> Result<Self, StoreError> {
        check_id("bridge id", &receipt.bridge_id)?;
        check_id("webhook id", &receipt.webhook_id)?;
        let body_json = encode_json(&receipt.body)?;
        Ok(Self { receipt, body_json })
    }
}

pub(in crate::store) struct PreparedTicket {
    pub(in crate::store) new: NewTicket,
    pub(in crate::store) tags_json: String,
}

impl PreparedTicket {
    pub(in crate::store) fn new(mut new: NewTicket) -> Result<Self, StoreError> {
        check_id("requester id", &new.requester_id)?;
        check_id("activity id", &new.activity_id)?;
        check_id("contract", &new.contract)?;
        check_id("group", &new.group)?;
        check_optional_id("conversation id", new.conversation_id.as_deref())?;
        new.tags = clean_tags(&new.tags)?;
        let tags_json = encode_json(&new.tags)?;
        Ok(Self { new, tags_json })
    }
}

pub(in crate::store) struct PreparedToken {
    pub(in crate::store) new: NewToken,
    pub(in crate::store) groups_json: String,
}

impl PreparedToken {
    pub(in crate::store) fn new(new: NewToken) -> Result<Self, StoreError> {
        check_new_token(&new)?;
        let groups_json = encode_json(&new.groups)?;
        Ok(Self { new, groups_json })
    }
}

pub(in crate::store) fn encode_json<T: serde::Serialize + ?Sized>(
    value: &T,
) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|error| StoreError::InvalidInput(format!("cannot encode JSON: {error}")))
}

pub(in crate::store) fn decode_json(
    text: &str,
    column: &str,
) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text)
        .map_err(|error| StoreError::Corrupt(format!("invalid JSON in {column}: {error}")))
}

pub(in crate::store) fn decode_tags(text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text)
        .map_err(|error| StoreError::Corrupt(format!("invalid tags in tickets.tags: {error}")))
}
