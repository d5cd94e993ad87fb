//! The human desk's pure domain core: the shared types (people, projects,
//! channels, chats, configuration, errors) and [`Desk`], the in-memory state
//! with its operations (people and projects, presence, enqueue and routing,
//! capture, choose, decline, transfer, close). No I/O, no clock: every
//! operation that depends on time takes `now_ms` (milliseconds since epoch),
//! so it is deterministic. `Desk` serializes as its [`DeskState`] only; the
//! routing index is derived and rebuilt on deserialization.
//!
//! Submodules: `chats` (the chat operations on `Desk`), `presence` (states, pause reasons, time accounting),
//! `queue` (queues, positions, ETA), `routing` (modes, tiers, candidates,
//! availability index), `bench` (routing benchmark), and the replayable
//! desk book on top of `Desk`: `ops` (the operation log vocabulary), `book`
//! (`DeskBook`, chat records, `apply`), `lifecycle` (chat operations of the
//! book), `tools` (contacts, tags, unread, quick replies, macros,
//! attachments, analyst links) and `listing` (attendance list, contact
//! search, the lost-chat timer).
//!
//! Capacity: `active` counts the chats a person is responsible for, over all
//! channels; full means `active >= max_chats`. Assign, capture and choose add
//! one; transfer moves one; decline and close remove one. Both kinds of
//! person (attendant, analyst) may serve chats; the kind is informational.
//! Every unassigned chat waits, whatever the mode, in its project's line of
//! its channel's queue, so queue positions and captures work in every mode
//! and count only the chats of that project.

#[cfg(feature = "devtools")]
pub mod bench;
pub mod book;
#[cfg(test)]
mod book_tests;
mod chats;
mod lifecycle;
pub mod listing;
pub mod ops;
pub mod presence;
pub mod queue;
#[cfg(test)]
mod queue_tests;
#[cfg(test)]
mod replay_tests;
pub mod routing;
#[cfg(test)]
mod tests;
pub mod tools;
#[cfg(test)]
mod tools_tests;

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use book::{
    AnalystChat, Applied, BlockMark, BookConfig, ChatRecord, ChatState, DeskBook, Notice,
};
pub use listing::{ListFilter, fold};
pub use ops::{
    Attachment, AttachmentKind, Contact, ContractStatus, DeskOp, Macro, MacroAction, MacroStep,
    Origin, QuickReply, ReasonLabels, Who, kind_for,
};
pub use presence::{PauseReasons, PersonPresence, PresenceClock, PresenceState};
pub use queue::{
    ChatQueue, PositionUpdate, QueueEntry, QueueMap, QueueStatus, RollingAverage, estimate_wait_ms,
    line_name,
};
pub use routing::{Routed, RoutingConfig, RoutingMode, RoutingOutcome, Tier};

use routing::RoutingIndex;

pub type PersonId = String;
pub type ProjectId = String;
pub type ChatId = String;

/// A channel a chat comes in through (serialized as the desk spells it, `web_chat`).
pub use crate::channel::Channel;

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum PersonKind {
    Attendant,
    Analyst,
}

/// An attendant or analyst.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub id: PersonId,
    pub name: String,
    pub kind: PersonKind,
    pub groups: Vec<String>,
    /// Channels this person may serve.
    pub channels: Vec<Channel>,
    pub max_chats: u32,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, utoipa::ToSchema)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    pub owner: Option<PersonId>,
    pub assistant: Option<PersonId>,
    pub service_group: Option<String>,
}

/// Load of one person, the first two parts of the routing order key.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct Load {
    pub active: u32,
    /// Last time the person came online from offline, got or lost a chat.
    pub idle_since_ms: u64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ChatStatus {
    /// In its line (see [`Chat::queue`]).
    Waiting,
    /// With `responsible` since `since_ms`; `started_ms` is the first
    /// assignment (handle time runs from there, across transfers).
    Active {
        responsible: PersonId,
        since_ms: u64,
        started_ms: u64,
    },
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Chat {
    pub id: ChatId,
    pub project_id: ProjectId,
    pub channel: Channel,
    /// The line it waits in ([`line_name`]: its channel's queue and its
    /// project); chats stored before lines existed keep the channel queue.
    pub queue: String,
    /// Order in the queue (desk-wide, increasing).
    pub seq: u64,
    pub enqueued_ms: u64,
    pub status: ChatStatus,
    /// People who declined it: never offered or listed again.
    pub declined: Vec<PersonId>,
}

impl Chat {
    pub fn responsible(&self) -> Option<&PersonId> {
        match &self.status {
            ChatStatus::Active { responsible, .. } => Some(responsible),
            ChatStatus::Waiting => None,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DeskConfig {
    pub pause_reasons: PauseReasons,
    pub queues: QueueMap,
    pub routing: RoutingConfig,
    /// Handle time assumed before a queue has closed any chat.
    pub default_handle_ms: u64,
    /// Number of closed chats in the rolling average handle time.
    pub handle_time_window: usize,
}

impl Default for DeskConfig {
    fn default() -> Self {
        DeskConfig {
            pause_reasons: PauseReasons::new(["break", "lunch", "meeting", "training"]),
            queues: QueueMap::default(),
            routing: RoutingConfig::default(),
            default_handle_ms: 5 * 60 * 1000,
            handle_time_window: 50,
        }
    }
}

#[derive(thiserror::Error, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum DeskError {
    #[error("unknown person {0}")]
    UnknownPerson(PersonId),
    #[error("unknown project {0}")]
    UnknownProject(ProjectId),
    #[error("unknown chat {0}")]
    UnknownChat(ChatId),
    #[error("chat {0} already exists")]
    DuplicateChat(ChatId),
    #[error("channel {0} is not enabled for this person")]
    ChannelNotEnabled(Channel),
    #[error("a pause needs a reason")]
    PauseReasonRequired,
    #[error("unknown pause reason {0}")]
    UnknownPauseReason(String),
    #[error("{0} is full")]
    AttendantFull(PersonId),
    #[error("not online on {0}")]
    NotOnline(Channel),
    #[error("{0} is not eligible for this chat")]
    NotEligible(PersonId),
    #[error("chat {0} is already taken")]
    AlreadyCaptured(ChatId),
    #[error("chat {0} is not queued")]
    NotQueued(ChatId),
    #[error("chat {0} is not active")]
    NotActive(ChatId),
    #[error("{person} is not responsible for chat {chat}")]
    NotResponsible { chat: ChatId, person: PersonId },
    // ----- desk book (see `book`) -----
    #[error("unknown conversation {0}")]
    UnknownConversation(ChatId),
    #[error("contact {0} is blocked")]
    ContactBlocked(String),
    #[error("closing needs a reason")]
    CloseReasonRequired,
    #[error("unknown close reason {0}")]
    UnknownCloseReason(String),
    /// A reason label in another language, blank or too long.
    #[error("{0}")]
    InvalidReasonLabel(String),
    #[error("{person} is not in conversation {chat}")]
    NotParticipant { chat: ChatId, person: PersonId },
    #[error("the responsible leaves only by transfer or close")]
    ResponsibleCannotLeave,
    #[error("{0} and {1} are not mutually linked analysts")]
    NotLinked(PersonId, PersonId),
    #[error("unknown quick reply {0}")]
    UnknownQuickReply(String),
    #[error("a quick reply needs at least one text")]
    EmptyQuickReply,
    #[error("unknown macro {0}")]
    UnknownMacro(String),
    #[error("invalid shortcut {0}")]
    InvalidShortcut(String),
    #[error("invalid tag")]
    InvalidTag,
    #[error("invalid id")]
    InvalidId,
    #[error("unsupported media type {0}")]
    UnsupportedMediaType(String),
    #[error("attachment of {size} bytes exceeds {limit}")]
    AttachmentTooLarge { size: u64, limit: u64 },
    #[error("attachment {0} already exists")]
    DuplicateAttachment(String),
    #[error("conversation {0} is already closed")]
    AlreadyClosed(ChatId),
    #[error("conversation {0} is not closed")]
    NotClosed(ChatId),
    #[error("conversation {0} is not waiting")]
    NotWaiting(ChatId),
}

impl DeskError {
    /// Stable snake_case code for APIs and logs.
    pub fn code(&self) -> &'static str {
        match self {
            DeskError::UnknownPerson(_) => "unknown_person",
            DeskError::UnknownProject(_) => "unknown_project",
            DeskError::UnknownChat(_) => "unknown_chat",
            DeskError::DuplicateChat(_) => "duplicate_chat",
            DeskError::ChannelNotEnabled(_) => "channel_not_enabled",
            DeskError::PauseReasonRequired => "pause_reason_required",
            DeskError::UnknownPauseReason(_) => "unknown_pause_reason",
            DeskError::AttendantFull(_) => "attendant_full",
            DeskError::NotOnline(_) => "not_online",
            DeskError::NotEligible(_) => "not_eligible",
            DeskError::AlreadyCaptured(_) => "already_captured",
            DeskError::NotQueued(_) => "not_queued",
            DeskError::NotActive(_) => "not_active",
            DeskError::NotResponsible { .. } => "not_responsible",
            DeskError::UnknownConversation(_) => "unknown_conversation",
            DeskError::ContactBlocked(_) => "contact_blocked",
            DeskError::CloseReasonRequired => "close_reason_required",
            DeskError::UnknownCloseReason(_) => "unknown_close_reason",
            DeskError::InvalidReasonLabel(_) => "invalid_reason_label",
            DeskError::NotParticipant { .. } => "not_participant",
            DeskError::ResponsibleCannotLeave => "responsible_cannot_leave",
            DeskError::NotLinked(..) => "not_linked",
            DeskError::UnknownQuickReply(_) => "unknown_quick_reply",
            DeskError::EmptyQuickReply => "empty_quick_reply",
            DeskError::UnknownMacro(_) => "unknown_macro",
            DeskError::InvalidShortcut(_) => "invalid_shortcut",
            DeskError::InvalidTag => "invalid_tag",
            DeskError::InvalidId => "invalid_id",
            DeskError::UnsupportedMediaType(_) => "unsupported_media_type",
            DeskError::AttachmentTooLarge { .. } => "attachment_too_large",
            DeskError::DuplicateAttachment(_) => "duplicate_attachment",
            DeskError::AlreadyClosed(_) => "already_closed",
            DeskError::NotClosed(_) => "not_closed",
            DeskError::NotWaiting(_) => "not_waiting",
        }
    }
}

impl crate::fault::Coded for DeskError {
    /// Each variant states its kind: what it names is unknown, what was sent is refused,
    /// or the desk's state does not allow it now.
    fn kind(&self) -> crate::fault::ErrorKind {
        use crate::fault::ErrorKind as K;
        match self {
            DeskError::UnknownPerson(_)
            | DeskError::UnknownProject(_)
            | DeskError::UnknownChat(_)
            | DeskError::UnknownConversation(_)
            | DeskError::UnknownQuickReply(_)
            | DeskError::UnknownMacro(_) => K::NotFound,
            DeskError::ChannelNotEnabled(_)
            | DeskError::PauseReasonRequired
            | DeskError::UnknownPauseReason(_)
            | DeskError::CloseReasonRequired
            | DeskError::UnknownCloseReason(_)
            | DeskError::InvalidReasonLabel(_)
            | DeskError::EmptyQuickReply
            | DeskError::InvalidShortcut(_)
            | DeskError::InvalidTag
            | DeskError::InvalidId => K::Unprocessable,
            DeskError::ContactBlocked(_) => K::Forbidden,
            DeskError::UnsupportedMediaType(_) => K::UnsupportedMedia,
            DeskError::AttachmentTooLarge { .. } => K::TooLarge,
            DeskError::DuplicateChat(_)
            | DeskError::AttendantFull(_)
            | DeskError::NotOnline(_)
            | DeskError::NotEligible(_)
            | DeskError::AlreadyCaptured(_)
            | DeskError::NotQueued(_)
            | DeskError::NotActive(_)
            | DeskError::NotResponsible { .. }
            | DeskError::NotParticipant { .. }
            | DeskError::ResponsibleCannotLeave
            | DeskError::NotLinked(..)
            | DeskError::DuplicateAttachment(_)
            | DeskError::AlreadyClosed(_)
            | DeskError::NotClosed(_)
            | DeskError::NotWaiting(_) => K::Conflict,
        }
    }

    fn code(&self) -> &'static str {
        DeskError::code(self)
    }
}

/// What closing a chat did.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CloseOutcome {
    /// Handle time of an active chat (fed to the rolling average); `None`
    /// for a chat closed while waiting (abandoned).
    pub handle_ms: Option<u64>,
    /// Waiting chats whose position changed (abandoned chat only).
    pub updates: Vec<PositionUpdate>,
}

/// The persistent state of a desk: what `Desk` serializes as.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct DeskState {
    pub config: DeskConfig,
    pub people: BTreeMap<PersonId, Person>,
    pub projects: BTreeMap<ProjectId, Project>,
    pub presence: BTreeMap<PersonId, PersonPresence>,
    pub load: BTreeMap<PersonId, Load>,
    pub chats: HashMap<ChatId, Chat>,
    pub queues: BTreeMap<String, ChatQueue>,
    pub handle_times: BTreeMap<String, RollingAverage>,
    pub next_seq: u64,
}

/// The in-memory desk: state plus the derived routing index.
#[derive(Clone, Debug, Default)]
pub struct Desk {
    state: DeskState,
    index: RoutingIndex,
}

impl Serialize for Desk {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.state.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Desk {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        DeskState::deserialize(d).map(Desk::from_state)
    }
}

impl Desk {
    pub fn new(config: DeskConfig) -> Self {
        Desk::from_state(DeskState {
            config,
            ..DeskState::default()
        })
    }

    /// Rebuilds the routing index from a persisted state.
    pub fn from_state(state: DeskState) -> Self {
        let mut desk = Desk {
            state,
            index: RoutingIndex::default(),
        };
        let ids: Vec<PersonId> = desk.state.people.keys().cloned().collect();
        for id in ids {
            desk.reindex(&id);
        }
        desk
    }

    pub fn state(&self) -> &DeskState {
        &self.state
    }

    /// Replaces the routing modes and the pause reasons.
    pub fn configure(
        &mut self,
        routing: RoutingConfig,
        pause_reasons: PauseReasons,
        queues: Option<QueueMap>,
    ) {
        self.state.config.routing = routing;
        self.state.config.pause_reasons = pause_reasons;
        if let Some(queues) = queues {
            self.state.config.queues = queues;
        }
    }

    pub fn config(&self) -> &DeskConfig {
        &self.state.config
    }

    // ----- people and projects -------------------------------------------

    /// Adds or replaces a person; channels no longer enabled go offline.
    pub fn upsert_person(&mut self, person: Person, now_ms: u64) {
        let id = person.id.clone();
        if let Some(presence) = self.state.presence.get_mut(&id) {
            for ch in Channel::ALL {
                if !person.channels.contains(&ch) {
                    let cfg = &self.state.config;
                    let _ = presence.apply(
                        &person.channels,
                        &cfg.queues,
                        &cfg.pause_reasons,
                        ch,
                        PresenceState::Offline,
                        now_ms,
                    );
                }
            }
        }
        self.state.people.insert(id.clone(), person);
        self.state.load.entry(id.clone()).or_default();
        self.reindex(&id);
    }

    /// Adds or replaces a project; owner and assistant must be known people.
    pub fn upsert_project(&mut self, project: Project) -> Result<(), DeskError> {
        for id in project.owner.iter().chain(project.assistant.iter()) {
            self.person_or_err(id)?;
        }
        self.state.projects.insert(project.id.clone(), project);
        Ok(())
    }

    pub fn person(&self, id: &str) -> Option<&Person> {
        self.state.people.get(id)
    }

    pub fn project(&self, id: &str) -> Option<&Project> {
        self.state.projects.get(id)
    }

    fn person_or_err(&self, id: &str) -> Result<&Person, DeskError> {
        self.state
            .people
            .get(id)
            .ok_or_else(|| DeskError::UnknownPerson(id.to_string()))
    }

    fn project_or_err(&self, id: &str) -> Result<&Project, DeskError> {
        self.state
            .projects
            .get(id)
            .ok_or_else(|| DeskError::UnknownProject(id.to_string()))
    }

    fn chat_or_err(&self, id: &str) -> Result<&Chat, DeskError> {
        self.state
            .chats
            .get(id)
            .ok_or_else(|| DeskError::UnknownChat(id.to_string()))
    }

    fn reindex(&mut self, id: &str) {
        match self.state.people.get(id) {
            Some(person) => {
                let load = self.state.load.get(id).cloned().unwrap_or_default();
                self.index.update(
                    person,
                    self.state.presence.get(id),
                    &load,
                    &self.state.config.queues,
                );
            }
            None => self.index.remove(id),
        }
    }

    // ----- presence --------------------------------------------------------

    /// Sets `person` to `state` on `channel` (see `presence` for the rules
    /// and the propagation over channels sharing a queue).
    pub fn set_presence(
        &mut self,
        person: &str,
        channel: Channel,
        state: PresenceState,
        now_ms: u64,
    ) -> Result<(), DeskError> {
        let p = self
            .state
            .people
            .get(person)
            .ok_or_else(|| DeskError::UnknownPerson(person.to_string()))?;
        let cfg = &self.state.config;
        // Work on a copy so that a refused change leaves no trace (not even
        // an empty presence entry): the desk book relies on atomic ops.
        let mut presence = self.state.presence.get(person).cloned().unwrap_or_default();
        let came_in = presence.apply(
            &p.channels,
            &cfg.queues,
            &cfg.pause_reasons,
            channel,
            state,
            now_ms,
        )?;
        self.state.presence.insert(p.id.clone(), presence);
        if came_in {
            self.state
                .load
                .entry(person.to_string())
                .or_default()
                .idle_since_ms = now_ms;
        }
        self.reindex(person);
        Ok(())
    }

    pub fn presence(&self, person: &str) -> Option<&PersonPresence> {
        self.state.presence.get(person)
    }

    /// `(channels online, channels enabled)` of a person.
    pub fn channel_counts(&self, person: &str) -> Result<(u32, u32), DeskError> {
        let p = self.person_or_err(person)?;
        let presence = self.state.presence.get(person).cloned().unwrap_or_default();
        Ok(presence.channel_counts(&p.channels))
    }

    pub fn active_chats(&self, person: &str) -> u32 {
        self.state.load.get(person).map_or(0, |l| l.active)
    }

    pub fn is_full(&self, person: &str) -> bool {
        self.person(person)
            .is_some_and(|p| self.active_chats(person) >= p.max_chats)
    }
}
