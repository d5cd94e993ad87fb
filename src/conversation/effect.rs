//! What goes out of the conversation machine: replies with the options offered, and the work the
//! orchestrator must do (open, list or attach tickets, queue the chat for a person, set the
//! status shown to both parties, show or open an article).

use serde::{Deserialize, Serialize};

use super::catalog::{Arg, TextKey};
use crate::lang::Language;

/// The tag every ticket opened from chat carries.
pub const TICKET_TAG_CHAT: &str = "origem-chat";

/// A message to the requester: a text key with its arguments, and the options offered with it.
/// [`texts::render`](super::texts::render) turns it into a string in the conversation language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub text_key: TextKey,
    pub args: Vec<(Arg, String)>,
    pub options: Vec<Offer>,
}

impl Reply {
    pub fn new(text_key: TextKey) -> Self {
        Reply {
            text_key,
            args: Vec::new(),
            options: Vec::new(),
        }
    }

    pub fn arg(mut self, arg: Arg, value: impl Into<String>) -> Self {
        self.args.push((arg, value.into()));
        self
    }

    pub fn options(mut self, options: Vec<Offer>) -> Self {
        self.options = options;
        self
    }
}

/// One option offered to the requester: a stable id to send back in
/// [`Event::OptionChosen`](super::Event::OptionChosen) and a label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    pub id: String,
    pub label_key: TextKey,
    pub label_args: Vec<(Arg, String)>,
}

impl Offer {
    pub fn new(id: impl Into<String>, label_key: TextKey) -> Self {
        Offer {
            id: id.into(),
            label_key,
            label_args: Vec::new(),
        }
    }

    pub fn arg(mut self, arg: Arg, value: impl Into<String>) -> Self {
        self.label_args.push((arg, value.into()));
        self
    }
}

/// The chat status both parties see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatStatus {
    /// Not opened yet.
    NotStarted,
    /// The assistant or Smart Chat is answering.
    Bot,
    /// Queued for a person, or the person is away: hollow green dot.
    WaitingForAttendant,
    /// Both parties present: filled green dot.
    Online,
    Finished,
}

/// A ticket to open from chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTicket {
    pub requester: String,
    pub language: Language,
    /// The identified activity, else parameter 317.
    pub activity_id: String,
    /// The activity's contract, else parameter 315.
    pub contract: String,
    /// The activity's group, else parameter 316.
    pub group: String,
    pub description: String,
    /// Always contains [`TICKET_TAG_CHAT`].
    pub tags: Vec<String>,
    /// Per-conversation sequence of the draft: (conversation id, request_seq) is an idempotency
    /// key, so re-issuing after a restart or a retry never opens the ticket twice.
    pub request_seq: u32,
}

/// Work for the orchestrator, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    /// Post a message from the assistant.
    Say(Reply),
    /// Open a ticket; answer with `TicketCreated` or `EffectFailed`.
    CreateTicket(NewTicket),
    /// List the requester's own open tickets; answer with `OpenTickets` or `EffectFailed`.
    ListOpenTickets {
        preferred_activity: Option<String>,
    },
    /// Link the chat to one of the requester's tickets; answer with `TicketAttached`.
    AttachTicket {
        number: String,
    },
    /// Queue the chat for a person of `group` (conversation state "queued"). With
    /// `bridgeable`, the orchestrator may route it to an external chat service
    /// ([`Event::BridgeRouted`](super::Event::BridgeRouted)); a fallback from a failed
    /// bridge is not bridgeable.
    Handoff {
        group: String,
        ticket: Option<String>,
        bridgeable: bool,
    },
    /// Send the hand-off to external chat service `bridge` (`handoff.requested`).
    BridgeHandoff {
        bridge: String,
        group: String,
        ticket: Option<String>,
    },
    /// The chat handed to `bridge` ended on Ponte's side: `handoff.cancelled` when no agent
    /// had accepted, `conversation.closed` otherwise.
    BridgeEnded {
        bridge: String,
        accepted: bool,
    },
    /// The requester's (cleaned) text goes to the person handling the chat, not to the bot.
    Forward {
        text: String,
    },
    SetStatus(ChatStatus),
    /// Expand an article card in the chat.
    ShowArticle {
        article_id: String,
    },
    /// Collapse it back to the list.
    CollapseArticle {
        article_id: String,
    },
    /// Open the article's portal page.
    OpenUrl {
        url: String,
    },
}
