//! The records the store keeps and takes: conversations, messages, steps, tickets, the desk
//! log and issued tokens, with the closed sets of values stored as text (`Channel`,
//! `ConversationStatus`, `SenderKind`, `TicketStatus`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::StoreError;
#[cfg(doc)]
use super::{MAX_PAGE, Store};
use crate::lang::Language;

/// Declares a closed set of values stored as text, with one spelling used everywhere:
/// database, JSON and `Display`.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = StoreError;

            fn from_str(text: &str) -> Result<Self, StoreError> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(StoreError::InvalidInput(format!(
                        concat!("unknown ", stringify!($name), " {:?}"),
                        text
                    ))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Where the requester is talking from; stored as its conversation tag (`web`).
pub use crate::channel::Channel;

text_enum!(
    /// Who is handling a conversation: the assistant, the queue, a person, nobody any more,
    /// or (`bridged`) an external chat service the conversation was handed to, which neither
    /// queues it on nor serves it from Ponte's desk.
    ConversationStatus {
        Bot => "bot",
        Queued => "queued",
        Chat => "chat",
        Finished => "finished",
        Bridged => "bridged",
    }
);

text_enum!(
    /// Who wrote a message.
    SenderKind {
        Requester => "requester",
        Assistant => "assistant",
        Attendant => "attendant",
        System => "system",
    }
);

text_enum!(
    /// Life cycle of a ticket; everything but `Closed` counts as open.
    TicketStatus { Open => "open", InProgress => "in_progress", Closed => "closed" }
);

/// A stored conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: String,
    #[serde(with = "crate::channel::conversation_spelling")]
    pub channel: Channel,
    pub requester_id: String,
    /// Serialized as its BCP 47 tag such as `pt-BR`.
    pub language: Language,
    pub status: ConversationStatus,
    pub queue_group: Option<String>,
    /// The ticket attached to this conversation; maintained by the ticket methods.
    pub ticket_number: Option<String>,
    /// The serialized conversation state machine; the store never looks inside.
    pub machine_state: serde_json::Value,
    /// Starts at 1 and grows with every [`Store::update_conversation`].
    pub version: i64,
    /// Sequence number of the newest message, 0 before the first one.
    pub last_seq: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Conversation {
    /// An update that keeps everything as it is, expecting the current version; change the
    /// fields that should move and pass it to [`Store::update_conversation`].
    pub fn to_update(&self) -> ConversationUpdate {
        ConversationUpdate {
            id: self.id.clone(),
            expected_version: self.version,
            status: self.status,
            queue_group: self.queue_group.clone(),
            machine_state: self.machine_state.clone(),
        }
    }
}

/// Input of [`Store::create_conversation`]. The caller mints the id (UUID or ULID).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewConversation {
    pub id: String,
    #[serde(with = "crate::channel::conversation_spelling")]
    pub channel: Channel,
    pub requester_id: String,
    pub language: Language,
    pub status: ConversationStatus,
    pub queue_group: Option<String>,
    pub machine_state: serde_json::Value,
}

/// Input of [`Store::update_conversation`]: the new values of the version-controlled fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationUpdate {
    pub id: String,
    pub expected_version: i64,
    pub status: ConversationStatus,
    pub queue_group: Option<String>,
    pub machine_state: serde_json::Value,
}

/// Filters of [`Store::list_conversations`]; unset filters match everything.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationFilter {
    pub requester_id: Option<String>,
    pub status: Option<ConversationStatus>,
    pub queue_group: Option<String>,
    /// At most this many (clamped to [`MAX_PAGE`]); 0 is invalid.
    pub limit: u32,
}

impl Default for ConversationFilter {
    fn default() -> Self {
        Self {
            requester_id: None,
            status: None,
            queue_group: None,
            limit: 100,
        }
    }
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub conversation_id: String,
    /// 1, 2, 3, ... within the conversation, without gaps.
    pub seq: i64,
    pub sender_kind: SenderKind,
    pub sender_id: Option<String>,
    pub body: String,
    /// Structured extras (options offered, article cards, ...).
    pub payload: Option<serde_json::Value>,
    pub client_message_id: Option<String>,
    pub created_at: i64,
}

/// Input of [`Store::append_message`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewMessage {
    pub conversation_id: String,
    pub sender_kind: SenderKind,
    pub sender_id: Option<String>,
    pub body: String,
    pub payload: Option<serde_json::Value>,
    /// Idempotency key, unique within the conversation.
    pub client_message_id: Option<String>,
}

/// Result of [`Store::append_message`].
#[derive(Debug, Clone, PartialEq)]
pub struct Appended {
    pub message: Message,
    /// `true` when the client message id was already stored and nothing new was written.
    pub duplicate: bool,
}

/// What happens to the conversation row in a [`Step`].
#[derive(Debug, Clone, PartialEq)]
pub enum StepTarget {
    /// Created, as [`Store::create_conversation`] would.
    Create(NewConversation),
    /// Updated, as [`Store::update_conversation`] would.
    Update(ConversationUpdate),
    /// Left as it is (only messages are appended).
    Keep { id: String },
}

impl StepTarget {
    /// The conversation the step is about.
    pub fn id(&self) -> &str {
        match self {
            StepTarget::Create(new) => &new.id,
            StepTarget::Update(update) => &update.id,
            StepTarget::Keep { id } => id,
        }
    }
}

/// Input of [`Store::commit_step`]: one conversation's change and the messages it adds.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub target: StepTarget,
    /// Appended in this order; each must belong to the target conversation.
    pub messages: Vec<NewMessage>,
    /// Events for external chat services caused by this step, put in the outbox in the same
    /// transaction; each must belong to the target conversation.
    pub outbox: Vec<super::NewOutboxEvent>,
    /// An accept deadline to set (replacing the conversation's previous one) with the step.
    pub deadline: Option<super::BridgeDeadline>,
}

/// Result of [`Store::commit_step`].
#[derive(Debug, Clone, PartialEq)]
pub struct StepCommitted {
    /// The conversation after the step, when the step created or updated it (`None` for
    /// [`StepTarget::Keep`] and for a duplicate: the row did not change).
    pub conversation: Option<Conversation>,
    /// The messages stored, with their sequence numbers, in order (empty for a duplicate).
    pub messages: Vec<Message>,
    /// The first message repeated a stored client message id: this is the stored message,
    /// and nothing was written.
    pub duplicate: Option<Message>,
}

/// A stored ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ticket {
    /// Human-readable, sequential: `T-000001`.
    pub number: String,
    pub requester_id: String,
    pub activity_id: String,
    pub contract: String,
    pub group: String,
    pub description: String,
    /// `open`, `in_progress` or `closed`.
    #[schema(value_type = String)]
    pub status: TicketStatus,
    pub tags: Vec<String>,
    pub conversation_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What [`Store::desk_load`] returns: the snapshot (JSON and the last operation it covers),
/// then the later operations as `(seq, JSON)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeskLog {
    pub snapshot: Option<(String, i64)>,
    pub ops: Vec<(i64, String)>,
}

/// What [`Store::desk_ops_after`] returns: the operations after the asked position as
/// `(seq, JSON)`, and the last operation the stored snapshot covers (0 without one).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeskTail {
    pub snapshot_through: i64,
    pub ops: Vec<(i64, String)>,
}

/// Input of [`Store::create_ticket`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTicket {
    pub requester_id: String,
    pub activity_id: String,
    pub contract: String,
    pub group: String,
    pub description: String,
    pub status: TicketStatus,
    pub tags: Vec<String>,
    pub conversation_id: Option<String>,
    /// Idempotency key: creating a ticket with a key already used returns that ticket.
    #[serde(default)]
    pub request_key: Option<String>,
}

/// A bearer token issued through the API, as stored: the SHA-256 of the secret (64 lowercase
/// hex digits) and whom it identifies. The role is stored as text; the store does not interpret
/// it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredToken {
    /// Stable, non-secret name of the token, to list and revoke it by.
    pub id: String,
    pub sha256: String,
    pub role: String,
    pub subject: String,
    pub groups: Vec<String>,
    pub created_at: i64,
    /// Unix milliseconds after which the token is refused; `None`: it does not expire.
    pub expires_at: Option<i64>,
}

/// Input of [`Store::insert_token`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewToken {
    pub id: String,
    pub sha256: String,
    pub role: String,
    pub subject: String,
    pub groups: Vec<String>,
    pub expires_at: Option<i64>,
}
