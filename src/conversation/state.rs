//! The serialisable conversation: which step the chat is at, with everything that step needs,
//! and what was last offered to the requester. It is the only input the machine keeps between
//! events, so storing it and loading it back after a restart resumes the chat exactly.

use serde::{Deserialize, Serialize};

use super::effect::{ChatStatus, Offer};
use super::event::{ActivityHit, ArticleHit, Candidate, TicketSummary};
use crate::lang::Language;

/// The catalogue activity a flow is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRef {
    pub id: String,
    pub name: String,
    pub contract: Option<String>,
    pub group: Option<String>,
}

impl From<&ActivityHit> for ActivityRef {
    fn from(hit: &ActivityHit) -> Self {
        ActivityRef {
            id: hit.id.clone(),
            name: hit.name.clone(),
            contract: hit.contract.clone(),
            group: hit.group.clone(),
        }
    }
}

/// A ticket being prepared in the chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketDraft {
    pub activity: Option<ActivityRef>,
    pub description: String,
    /// Opened to reach a person ("talk to an attendant"): no confirmation is asked.
    pub for_attendant: bool,
    /// Idempotency sequence, see [`NewTicket::request_seq`](super::NewTicket::request_seq).
    pub request_seq: u32,
}

/// The step a conversation is at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum State {
    /// Created, `Opened` not received yet.
    NotStarted,
    /// The assistant or Smart Chat waits for free text (or a menu option).
    Idle,
    /// Smart Chat asked for an activity name.
    AwaitingActivityQuery,
    /// Smart Chat asked for an article title.
    AwaitingArticleQuery,
    /// An activity was found: "create a new ticket" or "resume one of my open tickets".
    ActivityFound {
        activity: ActivityRef,
    },
    /// Collecting the description of a new ticket.
    AwaitingDescription {
        activity: Option<ActivityRef>,
        for_attendant: bool,
    },
    /// Asking yes / no before opening the ticket.
    ConfirmingTicket {
        draft: TicketDraft,
    },
    /// `CreateTicket` issued, waiting for `TicketCreated`.
    CreatingTicket {
        draft: TicketDraft,
    },
    /// `ListOpenTickets` issued, waiting for `OpenTickets`. `wanted` is a number the requester
    /// typed ("resume ticket 1234").
    ListingTickets {
        activity: Option<ActivityRef>,
        wanted: Option<String>,
    },
    /// The requester's open tickets are offered.
    ChoosingTicket {
        activity: Option<ActivityRef>,
        tickets: Vec<TicketSummary>,
    },
    /// The requester has no open tickets: offered to create one.
    NoOpenTickets {
        activity: Option<ActivityRef>,
    },
    /// `AttachTicket` issued, waiting for `TicketAttached`.
    AttachingTicket {
        number: String,
        group: Option<String>,
    },
    /// Articles are offered.
    ChoosingArticle {
        articles: Vec<ArticleHit>,
        query: String,
    },
    /// One article is expanded with "view" and "close".
    ViewingArticle {
        articles: Vec<ArticleHit>,
        query: String,
        article_id: String,
    },
    /// The matcher was unsure: the requester is asked which candidate they meant.
    Disambiguating {
        candidates: Vec<Candidate>,
        text: String,
    },
    /// The assistant could not answer `text` and offered a person (or a ticket) and resuming.
    FallbackOffered {
        text: Option<String>,
    },
    /// Queued for a person of `group`.
    Queued {
        group: String,
        ticket: Option<String>,
    },
    /// A person is in the chat.
    Live {
        group: String,
        ticket: Option<String>,
        attendant: String,
    },
    /// Handed to an external chat service through bridge `bridge`: the assistant stays
    /// silent and the requester's text is forwarded there.
    Bridged {
        group: String,
        ticket: Option<String>,
        bridge: String,
        phase: HandoffPhase,
    },
    Finished,
}

/// How far a hand-off to an external chat service got: requested (the event is in the
/// outbox), initiated (the service acknowledged it), accepted (an agent took the chat).
/// Completed is [`State::Finished`]; failed goes back to [`State::Queued`] on Ponte's desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum HandoffPhase {
    Requested,
    Initiated,
    Accepted { agent: String },
}

impl State {
    /// A stable name for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            State::NotStarted => "not_started",
            State::Idle => "idle",
            State::AwaitingActivityQuery => "awaiting_activity_query",
            State::AwaitingArticleQuery => "awaiting_article_query",
            State::ActivityFound { .. } => "activity_found",
            State::AwaitingDescription { .. } => "awaiting_description",
            State::ConfirmingTicket { .. } => "confirming_ticket",
            State::CreatingTicket { .. } => "creating_ticket",
            State::ListingTickets { .. } => "listing_tickets",
            State::ChoosingTicket { .. } => "choosing_ticket",
            State::NoOpenTickets { .. } => "no_open_tickets",
            State::AttachingTicket { .. } => "attaching_ticket",
            State::ChoosingArticle { .. } => "choosing_article",
            State::ViewingArticle { .. } => "viewing_article",
            State::Disambiguating { .. } => "disambiguating",
            State::FallbackOffered { .. } => "fallback_offered",
            State::Queued { .. } => "queued",
            State::Live { .. } => "live",
            State::Bridged { .. } => "bridged",
            State::Finished => "finished",
        }
    }

    /// Whether a person has (or is about to have) the chat: requester text is forwarded to
    /// them and not interpreted.
    pub fn with_people(&self) -> bool {
        matches!(
            self,
            State::Queued { .. } | State::Live { .. } | State::Bridged { .. }
        )
    }

    /// The bridge the chat is handed to, if any.
    pub fn bridge(&self) -> Option<&str> {
        match self {
            State::Bridged { bridge, .. } => Some(bridge),
            _ => None,
        }
    }

    /// Whether an effect's answer is awaited.
    pub fn waiting_for_effect(&self) -> bool {
        matches!(
            self,
            State::CreatingTicket { .. }
                | State::ListingTickets { .. }
                | State::AttachingTicket { .. }
        )
    }
}

/// What kind of requester text the current step expects, so the orchestrator knows which
/// matcher to run (or none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expecting {
    /// No requester text is accepted (not opened yet, or finished).
    Nothing,
    /// Free text: run the full matcher (intents, activities, articles).
    FreeText,
    /// An activity name: search the catalogue.
    ActivityName,
    /// An article title or part of one: search the knowledge base.
    ArticleTitle,
    /// A ticket description: only control intents (cancel...) and activities matter.
    Description,
    /// Yes or no: only control intents matter.
    Confirmation,
    /// One of the offered options (free text still starts a new search).
    Choice,
    /// An effect is pending: only control intents matter.
    Wait,
    /// A person has the chat: no matching, the text is forwarded.
    HumanChat,
}

/// One chat with one requester. Serialise it between events; it is all the machine needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub(super) language: Language,
    pub(super) requester: String,
    pub(super) state: State,
    pub(super) status: ChatStatus,
    /// The options offered by the latest reply that had any say; only these may be chosen.
    pub(super) offers: Vec<Offer>,
    /// The ticket this chat is linked to (created or resumed).
    pub(super) ticket: Option<String>,
    /// Last known presence of the attendant side; `None` when unknown.
    pub(super) attendant_online: Option<bool>,
    /// The 447 notice was posted during the current offline period.
    pub(super) offline_notice_sent: bool,
    /// Drafts started so far, for [`TicketDraft::request_seq`].
    pub(super) drafts: u32,
}

impl Default for Conversation {
    fn default() -> Self {
        Self::new()
    }
}

impl Conversation {
    /// A conversation waiting for [`Event::Opened`](super::Event::Opened).
    pub fn new() -> Self {
        Conversation {
            language: Language::En,
            requester: String::new(),
            state: State::NotStarted,
            status: ChatStatus::NotStarted,
            offers: Vec::new(),
            ticket: None,
            attendant_online: None,
            offline_notice_sent: false,
            drafts: 0,
        }
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn language(&self) -> Language {
        self.language
    }

    pub fn requester(&self) -> &str {
        &self.requester
    }

    pub fn status(&self) -> ChatStatus {
        self.status
    }

    /// The options the requester may choose now.
    pub fn offers(&self) -> &[Offer] {
        &self.offers
    }

    /// The ticket the chat is linked to, once created or resumed.
    pub fn ticket(&self) -> Option<&str> {
        self.ticket.as_deref()
    }

    /// The attendant in the chat, if any.
    pub fn attendant(&self) -> Option<&str> {
        match &self.state {
            State::Live { attendant, .. } => Some(attendant),
            State::Bridged {
                phase: HandoffPhase::Accepted { agent },
                ..
            } => Some(agent),
            _ => None,
        }
    }

    /// What kind of requester text the current step expects.
    pub fn expecting(&self) -> Expecting {
        match &self.state {
            State::NotStarted | State::Finished => Expecting::Nothing,
            State::Idle => Expecting::FreeText,
            State::AwaitingActivityQuery => Expecting::ActivityName,
            State::AwaitingArticleQuery => Expecting::ArticleTitle,
            State::AwaitingDescription { .. } => Expecting::Description,
            State::ConfirmingTicket { .. } => Expecting::Confirmation,
            State::CreatingTicket { .. }
            | State::ListingTickets { .. }
            | State::AttachingTicket { .. } => Expecting::Wait,
            State::ActivityFound { .. }
            | State::ChoosingTicket { .. }
            | State::NoOpenTickets { .. }
            | State::ChoosingArticle { .. }
            | State::ViewingArticle { .. }
            | State::Disambiguating { .. }
            | State::FallbackOffered { .. } => Expecting::Choice,
            State::Queued { .. } | State::Live { .. } | State::Bridged { .. } => {
                Expecting::HumanChat
            }
        }
    }
}
