//! [`DeskBook`]: everything the human desk stores (the routing [`Desk`],
//! contacts and blocks, one [`ChatRecord`] per conversation, unread markers,
//! quick replies, macros, attachments, analyst links and analyst chats),
//! changed only by [`DeskBook::apply`] with a [`DeskOp`]. The caller appends
//! each op to a write-ahead log before (or right after) applying it; after a
//! restart, replaying the log on a fresh book (or on a deserialized snapshot
//! plus the ops logged after it) rebuilds the exact same state.
//!
//! Atomicity: `apply` either succeeds or leaves the book unchanged. Every
//! operation validates everything it can first, then calls at most one
//! fallible `Desk` operation (itself atomic), then performs infallible
//! updates of the book's own maps. Only successfully applied ops belong in
//! the log; a failed op must not be logged.
//!
//! States, and their product names: the bot stage happens before the desk
//! and has no record here; [`ChatState::Queued`] is "queue" (waiting in its
//! project's line of a channel queue, also while manual-mode candidates are offered);
//! [`ChatState::InProgress`] is "chat"; [`ChatState::Closed`] and
//! [`ChatState::Lost`] are both "finished" (lost: nobody took it in time; the
//! caller tags its ticket `chat-perdido`, or opens one tagged `origem-chat`
//! and `chat-perdido` when it has none).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::ops::{Attachment, Contact, ConversationId, Macro, Origin, QuickReply, RequesterId};
use super::{
    Channel, ChatStatus, Desk, DeskConfig, DeskError, DeskOp, PersonId, PositionUpdate, ProjectId,
    RoutingOutcome,
};

/// Configuration of the book: the desk's plus the close reasons.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct BookConfig {
    pub desk: DeskConfig,
    /// Reasons a person may give when closing (`Close.reason`).
    pub close_reasons: Vec<String>,
}

impl Default for BookConfig {
    fn default() -> Self {
        BookConfig {
            desk: DeskConfig::default(),
            close_reasons: ["resolved", "no_response", "duplicate", "out_of_scope"]
                .map(String::from)
                .to_vec(),
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ChatState {
    /// Product name "queue".
    Queued,
    /// Product name "chat".
    InProgress,
    /// Product name "finished".
    Closed,
    /// Product name "finished" (lost: never taken in time).
    Lost,
}

impl ChatState {
    pub fn is_finished(self) -> bool {
        matches!(self, ChatState::Closed | ChatState::Lost)
    }
}

/// A change of responsible, kept for the transcript.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TransferMark {
    pub by: PersonId,
    pub from: PersonId,
    pub to: PersonId,
    pub at_ms: u64,
}

/// Everything the book knows about one service conversation.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ChatRecord {
    pub conversation_id: ConversationId,
    pub requester: RequesterId,
    pub project_id: ProjectId,
    pub channel: Channel,
    pub origin: Origin,
    pub state: ChatState,
    /// Current responsible (the last one once finished).
    pub responsible: Option<PersonId>,
    /// Invited people currently in the conversation (not responsible).
    pub participants: BTreeSet<PersonId>,
    /// People who were responsible or participant and no longer are.
    pub former_participants: BTreeSet<PersonId>,
    pub tags: BTreeSet<String>,
    /// The ticket the chat was opened with (by the hand-off).
    pub ticket: Option<String>,
    /// The ticket opened because nobody took the chat in time.
    #[serde(default)]
    pub lost_ticket: Option<String>,
    pub close_reason: Option<String>,
    pub closing_message: Option<String>,
    pub closed_by: Option<PersonId>,
    /// Arrival (or reopen) time.
    pub queued_at: u64,
    /// First assignment since arrival (or reopen).
    pub captured_at: Option<u64>,
    pub closed_at: Option<u64>,
    /// When it last entered the queue; `None` while not waiting. The
    /// lost-chat timer runs from here.
    pub waiting_since: Option<u64>,
    /// A requester message arrived while waiting and nobody read it yet;
    /// inherited as unread by whoever takes the chat.
    pub queue_unread: bool,
    /// People with an unread requester message here.
    pub unread_by: BTreeSet<PersonId>,
    pub transfers: Vec<TransferMark>,
    pub reopened: u32,
}

impl ChatRecord {
    /// Responsible or current participant.
    pub fn is_member(&self, person: &str) -> bool {
        self.responsible.as_deref() == Some(person) || self.participants.contains(person)
    }

    /// Member now or before (may read the history).
    pub fn was_member(&self, person: &str) -> bool {
        self.is_member(person) || self.former_participants.contains(person)
    }
}

/// Who blocked a contact, and when.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct BlockMark {
    pub by: PersonId,
    pub since_ms: u64,
}

/// An internal conversation between two mutually linked analysts.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AnalystChat {
    pub conversation_id: ConversationId,
    pub from: PersonId,
    pub to: PersonId,
    pub started_ms: u64,
}

/// Something the caller must tell the requester (or the conversation).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "notice", rename_all = "snake_case")]
pub enum Notice {
    /// `person` is now responsible ("attendant joined").
    AttendantJoined {
        conversation_id: ConversationId,
        person: PersonId,
    },
    /// The chat went back to the queue (decline, reopen to the queue).
    BackInQueue { conversation_id: ConversationId },
    ParticipantJoined {
        conversation_id: ConversationId,
        person: PersonId,
    },
    ParticipantLeft {
        conversation_id: ConversationId,
        person: PersonId,
    },
    /// Tell the requester the chat is closed (with the closing message).
    Closed {
        conversation_id: ConversationId,
        closing_message: Option<String>,
    },
    /// Tell the requester nobody could take the chat; open the ticket.
    Lost { conversation_id: ConversationId },
}

/// What the caller must do after a successful `apply`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct Applied {
    /// Routing outcome of an enqueue, reroute, decline or reopen.
    pub routing: Option<RoutingOutcome>,
    /// Waiting chats whose queue position changed: fan out to requesters.
    pub updates: Vec<PositionUpdate>,
    pub notices: Vec<Notice>,
    /// Handle time of a chat closed while active.
    pub handle_ms: Option<u64>,
}

impl Applied {
    /// What a run of operations implies, in their order: every update and notice, the
    /// last routing outcome and handle time.
    pub fn merged(steps: Vec<Applied>) -> Applied {
        let mut all = Applied::default();
        for step in steps {
            if step.routing.is_some() {
                all.routing = step.routing;
            }
            if step.handle_ms.is_some() {
                all.handle_ms = step.handle_ms;
            }
            all.updates.extend(step.updates);
            all.notices.extend(step.notices);
        }
        all
    }
}

/// Refuses a label in a language we do not speak, a blank or overlong label.
fn check_labels(labels: &super::ops::ReasonLabels) -> Result<(), DeskError> {
    use super::ops::{LABEL_LANGUAGES, MAX_LABEL_CHARS};
    for (reason, by_language) in labels {
        for (language, label) in by_language {
            if !LABEL_LANGUAGES.contains(&language.as_str()) {
                return Err(DeskError::InvalidReasonLabel(format!(
                    "the label of {reason:?} is in {language:?}, not one of pt-BR, es, en"
                )));
            }
            let chars = label.trim().chars().count();
            if chars == 0 || chars > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
                return Err(DeskError::InvalidReasonLabel(format!(
                    "the {language} label of {reason:?} must have 1 to {MAX_LABEL_CHARS} characters and no control characters"
                )));
            }
        }
    }
    Ok(())
}

/// The human desk's whole stored state. Serialize it as a snapshot.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct DeskBook {
    pub(super) close_reasons: Vec<String>,
    /// The pause and close reasons' labels per language (older snapshots have none).
    #[serde(default)]
    pub(super) reason_labels: super::ops::ReasonLabels,
    pub(super) desk: Desk,
    pub(super) contacts: BTreeMap<RequesterId, Contact>,
    pub(super) blocked: BTreeMap<RequesterId, BlockMark>,
    pub(super) chats: BTreeMap<ConversationId, ChatRecord>,
    pub(super) analyst_chats: BTreeMap<ConversationId, AnalystChat>,
    pub(super) quick_replies: BTreeMap<String, QuickReply>,
    pub(super) macros: BTreeMap<String, Macro>,
    pub(super) attachments: BTreeMap<String, Attachment>,
    /// analyst -> people that analyst linked.
    pub(super) links: BTreeMap<PersonId, BTreeSet<PersonId>>,
}

impl DeskBook {
    pub fn new(config: BookConfig) -> Self {
        DeskBook {
            close_reasons: config.close_reasons,
            desk: Desk::new(config.desk),
            ..DeskBook::default()
        }
    }

    /// The routing desk (read-only: change it through `apply`).
    pub fn desk(&self) -> &Desk {
        &self.desk
    }

    pub fn close_reasons(&self) -> &[String] {
        &self.close_reasons
    }

    /// The labels of the reasons that exist now, per language.
    pub fn reason_labels(&self) -> &super::ops::ReasonLabels {
        &self.reason_labels
    }

    pub fn record(&self, conversation_id: &str) -> Option<&ChatRecord> {
        self.chats.get(conversation_id)
    }

    pub fn analyst_chat(&self, conversation_id: &str) -> Option<&AnalystChat> {
        self.analyst_chats.get(conversation_id)
    }

    pub fn contact(&self, id: &str) -> Option<&Contact> {
        self.contacts.get(id)
    }

    /// Whether new messages of `requester` must be refused.
    pub fn is_blocked(&self, requester: &str) -> bool {
        self.blocked.contains_key(requester)
    }

    pub(super) fn record_or_err(&self, id: &str) -> Result<&ChatRecord, DeskError> {
        self.chats
            .get(id)
            .ok_or_else(|| DeskError::UnknownConversation(id.to_string()))
    }

    pub(super) fn person_or_err(&self, id: &str) -> Result<(), DeskError> {
        match self.desk.person(id) {
            Some(_) => Ok(()),
            None => Err(DeskError::UnknownPerson(id.to_string())),
        }
    }

    pub(super) fn not_blocked(&self, requester: &str) -> Result<(), DeskError> {
        if self.is_blocked(requester) {
            return Err(DeskError::ContactBlocked(requester.to_string()));
        }
        Ok(())
    }

    /// Applies one op atomically; see the module doc.
    pub fn apply(&mut self, op: &DeskOp) -> Result<Applied, DeskError> {
        use DeskOp as O;
        let none = |r: Result<(), DeskError>| r.map(|()| Applied::default());
        match op {
            O::Configure {
                routing,
                pause_reasons,
                close_reasons,
                queues,
                labels,
            } => {
                if close_reasons.iter().any(|reason| reason.trim().is_empty())
                    || pause_reasons.iter().any(|reason| reason.trim().is_empty())
                {
                    return Err(DeskError::CloseReasonRequired);
                }
                if let Some(labels) = labels {
                    check_labels(labels)?;
                    // Kept as shown: without the blanks around them.
                    self.reason_labels = labels
                        .iter()
                        .map(|(reason, by_language)| {
                            let trimmed = by_language
                                .iter()
                                .map(|(language, label)| {
                                    (language.clone(), label.trim().to_owned())
                                })
                                .collect();
                            (reason.clone(), trimmed)
                        })
                        .collect();
                }
                // A removed reason's labels go with it.
                self.reason_labels.retain(|reason, _| {
                    pause_reasons.contains(reason) || close_reasons.contains(reason)
                });
                self.desk.configure(
                    routing.clone(),
                    super::PauseReasons::new(pause_reasons.iter().cloned()),
                    queues.clone(),
                );
                self.close_reasons = close_reasons.clone();
                Ok(Applied::default())
            }
            O::UpsertPerson { person, now_ms } => {
                if person.id.trim().is_empty() {
                    return Err(DeskError::InvalidId);
                }
                self.desk.upsert_person(person.clone(), *now_ms);
                Ok(Applied::default())
            }
            O::UpsertProject { project } => none(self.desk.upsert_project(project.clone())),
            O::SetPresence {
                person,
                channel,
                state,
                now_ms,
            } => none(
                self.desk
                    .set_presence(person, *channel, state.clone(), *now_ms),
            ),
            O::UpsertContact { contact } => none(self.upsert_contact(contact)),
            O::BlockContact {
                id,
                blocked,
                by,
                now_ms,
            } => none(self.block_contact(id, *blocked, by, *now_ms)),
            O::Enqueue {
                conversation_id,
                requester,
                project_id,
                channel,
                now_ms,
                origin,
            } => self.enqueue(
                conversation_id,
                requester,
                project_id,
                *channel,
                *origin,
                *now_ms,
            ),
            O::Reroute {
                conversation_id,
                now_ms,
            } => self.reroute(conversation_id, *now_ms),
            O::Choose {
                conversation_id,
                person,
                now_ms,
            } => self.choose(conversation_id, person, *now_ms),
            O::Decline {
                conversation_id,
                person,
                now_ms,
            } => self.decline(conversation_id, person, *now_ms),
            O::Capture {
                conversation_id,
                person,
                now_ms,
            } => self.capture(conversation_id, person, *now_ms),
            O::Transfer {
                conversation_id,
                from,
                to,
                now_ms,
            } => self.transfer(conversation_id, from, to, *now_ms),
            O::Invite {
                conversation_id,
                by,
                invitee,
                ..
            } => self.invite(conversation_id, by, invitee),
            O::Leave {
                conversation_id,
                person,
                ..
            } => self.leave(conversation_id, person),
            O::Close {
                conversation_id,
                by,
                reason,
                closing_message,
                now_ms,
            } => self.close(conversation_id, by, reason, closing_message, *now_ms),
            O::Reopen {
                conversation_id,
                by,
                now_ms,
            } => self.reopen(conversation_id, by, *now_ms),
            O::MarkLost {
                conversation_id,
                now_ms,
            } => self.mark_lost(conversation_id, *now_ms),
            O::SetTicket {
                conversation_id,
                number,
            } => none(self.set_ticket(conversation_id, number)),
            O::StartOutbound {
                conversation_id,
                person,
                requester,
                channel,
                project_id,
                now_ms,
            } => self.start_outbound(
                conversation_id,
                person,
                requester,
                *channel,
                project_id,
                *now_ms,
            ),
            O::Tag {
                conversation_id,
                tag,
                by,
            } => none(self.tag(conversation_id, tag, by, true)),
            O::Untag {
                conversation_id,
                tag,
                by,
            } => none(self.tag(conversation_id, tag, by, false)),
            O::MessageFromRequester {
                conversation_id, ..
            } => none(self.message_from_requester(conversation_id)),
            O::MarkRead {
                conversation_id,
                person,
                ..
            } => none(self.mark_read(conversation_id, person)),
            O::UpsertQuickReply { quick_reply } => none(self.upsert_quick_reply(quick_reply)),
            O::DeleteQuickReply { shortcut } => none(self.delete_quick_reply(shortcut)),
            O::UpsertMacro { macro_ } => none(self.upsert_macro(macro_)),
            O::DeleteMacro { id } => none(self.delete_macro(id)),
            O::AddAttachment { attachment } => none(self.add_attachment(attachment)),
            O::LinkContact { analyst, other } => none(self.link(analyst, other, true)),
            O::UnlinkContact { analyst, other } => none(self.link(analyst, other, false)),
            O::StartAnalystChat {
                conversation_id,
                from,
                to,
                now_ms,
            } => none(self.start_analyst_chat(conversation_id, from, to, *now_ms)),
            O::Macro { ops, .. } => self.apply_all(ops).map(Applied::merged),
        }
    }

    /// Brings a record in line with its `Desk` chat after a desk operation:
    /// state, responsible (the old one becomes a former participant),
    /// capture time, waiting time and unread inheritance. Returns the
    /// notice for a new responsible or a return to the queue.
    pub(super) fn sync(&mut self, conversation_id: &str, now_ms: u64) -> Option<Notice> {
        let status = self.desk.chat(conversation_id).map(|c| c.status.clone())?;
        let rec = self.chats.get_mut(conversation_id)?;
        let id = conversation_id.to_string();
        match status {
            ChatStatus::Active { responsible, .. } => {
                let was_active = rec.state == ChatState::InProgress;
                rec.state = ChatState::InProgress;
                rec.waiting_since = None;
                rec.captured_at.get_or_insert(now_ms);
                if rec.responsible.as_ref() == Some(&responsible) && was_active {
                    return None;
                }
                if let Some(old) = rec.responsible.replace(responsible.clone())
                    && old != responsible
                {
                    rec.former_participants.insert(old);
                }
                rec.participants.remove(&responsible);
                rec.former_participants.remove(&responsible);
                if rec.queue_unread {
                    rec.queue_unread = false;
                    rec.unread_by.insert(responsible.clone());
                }
                Some(Notice::AttendantJoined {
                    conversation_id: id,
                    person: responsible,
                })
            }
            ChatStatus::Waiting => {
                let was_waiting = rec.state == ChatState::Queued;
                rec.state = ChatState::Queued;
                rec.waiting_since.get_or_insert(now_ms);
                if let Some(old) = rec.responsible.take() {
                    rec.unread_by.remove(&old);
                    rec.former_participants.insert(old);
                }
                (!was_waiting).then_some(Notice::BackInQueue {
                    conversation_id: id,
                })
            }
        }
    }
}
