//! What comes into the conversation machine: the requester's input (already understood by the
//! matcher), the results of effects the orchestrator performed, and what attendants do.

use serde::{Deserialize, Serialize};

use crate::lang::Language;

/// A dialogue-control intent recognised by the matcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlIntent {
    CreateTicket,
    ResumeTicket,
    TalkToAttendant,
    Greeting,
    Thanks,
    Goodbye,
    Help,
    Yes,
    No,
    Cancel,
}

impl ControlIntent {
    pub const ALL: [ControlIntent; 10] = [
        ControlIntent::CreateTicket,
        ControlIntent::ResumeTicket,
        ControlIntent::TalkToAttendant,
        ControlIntent::Greeting,
        ControlIntent::Thanks,
        ControlIntent::Goodbye,
        ControlIntent::Help,
        ControlIntent::Yes,
        ControlIntent::No,
        ControlIntent::Cancel,
    ];
}

/// A catalogue activity the matcher found for the requester's text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityHit {
    pub id: String,
    pub name: String,
    /// The activity's own contract, overriding parameter 315.
    pub contract: Option<String>,
    /// The activity's own group, overriding parameter 316.
    pub group: Option<String>,
    pub score: f32,
}

/// A knowledge article the matcher found, already filtered to what the requester may see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleHit {
    pub id: String,
    pub title: String,
    pub summary: String,
    /// Portal page opened by the "view" action; when empty, "view" is not offered.
    pub url: String,
    pub score: f32,
}

/// One of a few close readings of an ambiguous text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Candidate {
    Intent { intent: ControlIntent },
    Activity { activity: ActivityHit },
    Article { article: ArticleHit },
}

/// What the matcher made of one requester text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Understanding {
    /// A dialogue-control intent. The machine trusts it: the threshold is the matcher's job.
    Control {
        intent: ControlIntent,
        confidence: f32,
    },
    /// Catalogue activities, the best first (the highest score is used).
    Activities { hits: Vec<ActivityHit> },
    /// Knowledge articles the requester may see, the best first.
    Articles { hits: Vec<ArticleHit> },
    /// Two or three close candidates: the requester is asked which one.
    Ambiguous { candidates: Vec<Candidate> },
    /// Nothing recognised.
    Fallback,
}

/// One of the requester's own open tickets, as listed by the orchestrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketSummary {
    pub number: String,
    pub subject: String,
    pub activity_id: Option<String>,
    /// The ticket's group; a resumed ticket is queued there (else parameter 316).
    pub group: Option<String>,
}

/// Everything the machine reacts to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The requester opened the chat.
    Opened {
        language: Language,
        requester: String,
    },
    /// An attendant started the conversation with the requester (outbound): it begins live,
    /// with that attendant, and no assistant.
    OutboundOpened {
        language: Language,
        requester: String,
        attendant: String,
    },
    /// The requester wrote something; the matcher already ran on it.
    RequesterText {
        text: String,
        understanding: Understanding,
    },
    /// The requester clicked (or the channel resolved) one of the offered options.
    OptionChosen {
        option_id: String,
    },
    /// Answer to [`Effect::CreateTicket`](super::Effect::CreateTicket).
    TicketCreated {
        number: String,
    },
    /// Answer to [`Effect::ListOpenTickets`](super::Effect::ListOpenTickets): only the
    /// requester's own open tickets.
    OpenTickets {
        tickets: Vec<TicketSummary>,
    },
    /// Answer to [`Effect::AttachTicket`](super::Effect::AttachTicket).
    TicketAttached {
        number: String,
    },
    /// The pending effect (create, list or attach) failed; the requester is told and may retry.
    EffectFailed,
    /// The orchestrator reloaded the conversation (e.g. after a restart) and asks for the
    /// current question again and for the pending effect to be re-issued.
    Resumed,
    AttendantJoined {
        name: String,
    },
    AttendantLeft,
    /// Whether an attendant of the chat's queue is online (drives parameter 447).
    AttendantPresence {
        online: bool,
    },
    /// An attendant wrote in the chat (the message itself is stored by the orchestrator).
    AttendantMessage,
    /// Either party closed the chat.
    Closed,
    /// The queued hand-off goes to external chat service `bridge` instead of Ponte's desk
    /// (the orchestrator routes it in the same step as the hand-off).
    BridgeRouted {
        bridge: String,
    },
    /// The external service acknowledged the hand-off (its first 2xx).
    HandoffInitiated,
    /// The hand-off failed: the peer said so, its delivery was exhausted, or (`deadline`)
    /// nobody accepted in time. A missed deadline after an accept is no failure.
    HandoffFailed {
        deadline: bool,
    },
    /// The external service closed the chat.
    BridgeClosed,
}

impl Event {
    /// A stable name for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Opened { .. } => "opened",
            Event::OutboundOpened { .. } => "outbound_opened",
            Event::RequesterText { .. } => "requester_text",
            Event::OptionChosen { .. } => "option_chosen",
            Event::TicketCreated { .. } => "ticket_created",
            Event::OpenTickets { .. } => "open_tickets",
            Event::TicketAttached { .. } => "ticket_attached",
            Event::EffectFailed => "effect_failed",
            Event::Resumed => "resumed",
            Event::AttendantJoined { .. } => "attendant_joined",
            Event::BridgeRouted { .. } => "bridge_routed",
            Event::HandoffInitiated => "handoff_initiated",
            Event::HandoffFailed { .. } => "handoff_failed",
            Event::BridgeClosed => "bridge_closed",
            Event::AttendantLeft => "attendant_left",
            Event::AttendantPresence { .. } => "attendant_presence",
            Event::AttendantMessage => "attendant_message",
            Event::Closed => "closed",
        }
    }
}
