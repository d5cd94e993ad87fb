//! The desk book's side tools: contacts and blocks, tags, unread markers,
//! quick replies (with expansion), macros (with an all-or-nothing plan),
//! attachments (allow-list, size limits, who may read) and analyst links
//! with analyst chats. The mutating functions are called by `apply` only;
//! the queries are public.
//!
//! Rules decided here:
//! - Blocking is keyed by requester id and needs no contact record; it
//!   refuses new chats, requester messages and outbound starts.
//! - Tags: only who may write in the chat (its responsible or a current
//!   participant) adds or removes them, directly or through a macro.
//! - Unread: a requester message marks the chat unread for its responsible
//!   and participants, or for the queue while waiting (the first person to
//!   take it inherits it); `MarkRead` clears it for one person.
//! - Quick replies: a person sees the shared ones and their own. Language
//!   fallback: exact tag, then same primary language (`pt` for `pt-BR`),
//!   then the first stored language.
//! - Macros: the plan runs every step on a clone of the book; one failing
//!   step fails the whole plan and nothing is applied. The planned desk
//!   operations are then applied as one `DeskOp::Macro` (`apply_all`): on a
//!   copy that replaces the book only when every step succeeded.
//! - Readers of a conversation: its requester and whoever is or was its
//!   responsible or participant (analyst chats: its two analysts).

use super::book::{AnalystChat, Applied, ChatState, DeskBook};
use super::ops::{
    Attachment, Contact, Macro, MacroAction, MacroStep, QuickReply, Who, check_media,
};
use super::{DeskError, DeskOp, PersonId, PersonKind};

impl DeskBook {
    pub(super) fn upsert_contact(&mut self, contact: &Contact) -> Result<(), DeskError> {
        if contact.id.trim().is_empty() {
            return Err(DeskError::InvalidId);
        }
        if let Some(p) = &contact.project_id
            && self.desk.project(p).is_none()
        {
            return Err(DeskError::UnknownProject(p.clone()));
        }
        self.contacts.insert(contact.id.clone(), contact.clone());
        Ok(())
    }

    pub(super) fn block_contact(
        &mut self,
        id: &str,
        blocked: bool,
        by: &str,
        now_ms: u64,
    ) -> Result<(), DeskError> {
        if id.trim().is_empty() {
            return Err(DeskError::InvalidId);
        }
        self.person_or_err(by)?;
        if blocked {
            self.blocked
                .entry(id.to_string())
                .or_insert(super::BlockMark {
                    by: by.to_string(),
                    since_ms: now_ms,
                });
        } else {
            self.blocked.remove(id);
        }
        Ok(())
    }

    pub(super) fn tag(&mut self, id: &str, tag: &str, by: &str, on: bool) -> Result<(), DeskError> {
        let rec = self.record_or_err(id)?;
        self.person_or_err(by)?;
        if !rec.is_member(by) {
            return Err(DeskError::NotParticipant {
                chat: id.to_string(),
                person: by.to_string(),
            });
        }
        let tag = tag.trim();
        if tag.is_empty() {
            return Err(DeskError::InvalidTag);
        }
        if let Some(rec) = self.chats.get_mut(id) {
            if on {
                rec.tags.insert(tag.to_string());
            } else {
                rec.tags.remove(tag);
            }
        }
        Ok(())
    }

    pub(super) fn message_from_requester(&mut self, id: &str) -> Result<(), DeskError> {
        let rec = self.record_or_err(id)?;
        if rec.state.is_finished() {
            return Err(DeskError::AlreadyClosed(id.to_string()));
        }
        self.not_blocked(&rec.requester)?;
        if let Some(rec) = self.chats.get_mut(id) {
            if rec.state == ChatState::Queued {
                rec.queue_unread = true;
            } else {
                let members = rec.responsible.iter().chain(rec.participants.iter());
                let members: Vec<PersonId> = members.cloned().collect();
                rec.unread_by.extend(members);
            }
        }
        Ok(())
    }

    pub(super) fn mark_read(&mut self, id: &str, person: &str) -> Result<(), DeskError> {
        self.record_or_err(id)?;
        if let Some(rec) = self.chats.get_mut(id) {
            rec.unread_by.remove(person);
        }
        Ok(())
    }

    /// Conversations with an unread requester message for `person`.
    pub fn unread_for(&self, person: &str) -> Vec<String> {
        self.chats
            .values()
            .filter(|r| r.unread_by.contains(person))
            .map(|r| r.conversation_id.clone())
            .collect()
    }

    /// The alert on the chat icon.
    pub fn has_unread(&self, person: &str) -> bool {
        self.chats.values().any(|r| r.unread_by.contains(person))
    }

    /// Conversations with a requester message someone serving them has not read.
    pub fn unread_by_anyone(&self) -> Vec<String> {
        self.chats
            .values()
            .filter(|r| !r.unread_by.is_empty())
            .map(|r| r.conversation_id.clone())
            .collect()
    }

    /// Waiting conversations with an unread requester message.
    pub fn unread_in_queue(&self) -> Vec<String> {
        self.chats
            .values()
            .filter(|r| r.queue_unread)
            .map(|r| r.conversation_id.clone())
            .collect()
    }

    // ----- quick replies ---------------------------------------------------

    /// `/` followed by one or more of `[a-z0-9_-]`.
    pub fn valid_shortcut(shortcut: &str) -> bool {
        shortcut.strip_prefix('/').is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        })
    }

    pub(super) fn upsert_quick_reply(&mut self, qr: &QuickReply) -> Result<(), DeskError> {
        if !Self::valid_shortcut(&qr.shortcut) {
            return Err(DeskError::InvalidShortcut(qr.shortcut.clone()));
        }
        if qr.texts.values().all(|t| t.trim().is_empty()) {
            return Err(DeskError::EmptyQuickReply);
        }
        if let Some(owner) = &qr.owner {
            self.person_or_err(owner)?;
        }
        self.quick_replies.insert(qr.shortcut.clone(), qr.clone());
        Ok(())
    }

    pub(super) fn delete_quick_reply(&mut self, shortcut: &str) -> Result<(), DeskError> {
        self.quick_replies
            .remove(shortcut)
            .map(|_| ())
            .ok_or_else(|| DeskError::UnknownQuickReply(shortcut.to_string()))
    }

    pub fn quick_reply(&self, shortcut: &str) -> Option<&QuickReply> {
        self.quick_replies.get(shortcut)
    }

    /// Every quick reply, shared and personal, by shortcut.
    pub fn quick_replies(&self) -> impl Iterator<Item = &QuickReply> {
        self.quick_replies.values()
    }

    /// Quick replies `person` may use: shared ones and their own.
    pub fn quick_replies_for(&self, person: &str) -> Vec<&QuickReply> {
        let visible = |q: &&QuickReply| q.owner.as_deref().is_none_or(|o| o == person);
        self.quick_replies.values().filter(visible).collect()
    }

    /// If `text` is exactly a shortcut visible to `person`, its text in
    /// `language` (fallback: same primary language, then any).
    pub fn expand(&self, person: &str, text: &str, language: &str) -> Option<String> {
        let qr = self.quick_replies.get(text.trim())?;
        if qr.owner.as_deref().is_some_and(|o| o != person) {
            return None;
        }
        let usable = |(_, t): &(&String, &String)| !t.trim().is_empty();
        let primary = |tag: &str| tag.split('-').next().unwrap_or("").to_ascii_lowercase();
        let wanted = primary(language);
        qr.texts
            .iter()
            .filter(usable)
            .find(|(l, _)| l.eq_ignore_ascii_case(language))
            .or_else(|| {
                let mut same = qr.texts.iter().filter(usable);
                same.find(|(l, _)| primary(l) == wanted)
            })
            .or_else(|| qr.texts.iter().find(usable))
            .map(|(_, t)| t.clone())
    }

    // ----- macros ----------------------------------------------------------

    pub(super) fn upsert_macro(&mut self, m: &Macro) -> Result<(), DeskError> {
        if m.id.trim().is_empty() {
            return Err(DeskError::InvalidId);
        }
        for action in &m.actions {
            if let MacroAction::SendQuickReply { shortcut } = action
                && !Self::valid_shortcut(shortcut)
            {
                return Err(DeskError::InvalidShortcut(shortcut.clone()));
            }
        }
        self.macros.insert(m.id.clone(), m.clone());
        Ok(())
    }

    pub(super) fn delete_macro(&mut self, id: &str) -> Result<(), DeskError> {
        self.macros
            .remove(id)
            .map(|_| ())
            .ok_or_else(|| DeskError::UnknownMacro(id.to_string()))
    }

    /// Every macro, by id.
    pub fn macros(&self) -> impl Iterator<Item = (&String, &Macro)> {
        self.macros.iter()
    }

    pub fn macro_by_id(&self, id: &str) -> Option<&Macro> {
        self.macros.get(id)
    }

    /// The concrete steps of running macro `macro_id` on a conversation as
    /// `person`, validated by applying them in order on a clone: either
    /// every step is valid (apply the ops and send the texts in order) or
    /// the first error is returned and nothing is planned.
    pub fn plan_macro(
        &self,
        macro_id: &str,
        conversation_id: &str,
        person: &str,
        language: &str,
        now_ms: u64,
    ) -> Result<Vec<MacroStep>, DeskError> {
        let m = self
            .macros
            .get(macro_id)
            .ok_or_else(|| DeskError::UnknownMacro(macro_id.to_string()))?;
        let mut sim = self.clone();
        let conv = conversation_id.to_string();
        let by = person.to_string();
        let mut steps = Vec::with_capacity(m.actions.len());
        for action in &m.actions {
            let op = match action {
                MacroAction::Tag { tag } => DeskOp::Tag {
                    conversation_id: conv.clone(),
                    tag: tag.clone(),
                    by: by.clone(),
                },
                MacroAction::Untag { tag } => DeskOp::Untag {
                    conversation_id: conv.clone(),
                    tag: tag.clone(),
                    by: by.clone(),
                },
                MacroAction::Transfer { to } => DeskOp::Transfer {
                    conversation_id: conv.clone(),
                    from: by.clone(),
                    to: to.clone(),
                    now_ms,
                },
                MacroAction::Close { reason } => DeskOp::Close {
                    conversation_id: conv.clone(),
                    by: by.clone(),
                    reason: reason.clone(),
                    closing_message: None,
                    now_ms,
                },
                MacroAction::SendQuickReply { shortcut } => {
                    let text = sim
                        .expand(person, shortcut, language)
                        .ok_or_else(|| DeskError::UnknownQuickReply(shortcut.clone()))?;
                    let rec = sim.record_or_err(conversation_id)?;
                    if rec.state.is_finished() {
                        return Err(DeskError::AlreadyClosed(conv));
                    }
                    if !rec.is_member(person) {
                        return Err(DeskError::NotParticipant {
                            chat: conv,
                            person: by,
                        });
                    }
                    steps.push(MacroStep::Say { text });
                    continue;
                }
            };
            sim.apply(&op)?;
            steps.push(MacroStep::Op { op });
        }
        Ok(steps)
    }

    /// Applies `ops` in order, all of them or none: they run on a copy of the book that
    /// replaces it only when every one succeeded, so a refused step leaves the book as it
    /// was. Returns what each step implies, in order.
    pub fn apply_all(&mut self, ops: &[DeskOp]) -> Result<Vec<Applied>, DeskError> {
        let mut trial = self.clone();
        let applied = ops
            .iter()
            .map(|op| trial.apply(op))
            .collect::<Result<Vec<_>, _>>()?;
        *self = trial;
        Ok(applied)
    }

    // ----- attachments -----------------------------------------------------

    pub(super) fn add_attachment(&mut self, a: &Attachment) -> Result<(), DeskError> {
        if a.id.trim().is_empty() {
            return Err(DeskError::InvalidId);
        }
        if self.attachments.contains_key(&a.id) {
            return Err(DeskError::DuplicateAttachment(a.id.clone()));
        }
        let kind = check_media(&a.content_type, a.size)?;
        if kind != a.kind {
            return Err(DeskError::UnsupportedMediaType(a.content_type.clone()));
        }
        if let Some(rec) = self.chats.get(&a.conversation_id)
            && rec.state.is_finished()
        {
            return Err(DeskError::AlreadyClosed(a.conversation_id.clone()));
        }
        let requester = Who::Requester(a.uploader.clone());
        let person = Who::Person(a.uploader.clone());
        if !self.may_read_conversation(&requester, &a.conversation_id)
            && !self.may_read_conversation(&person, &a.conversation_id)
        {
            if !self.chats.contains_key(&a.conversation_id)
                && !self.analyst_chats.contains_key(&a.conversation_id)
            {
                return Err(DeskError::UnknownConversation(a.conversation_id.clone()));
            }
            return Err(DeskError::NotParticipant {
                chat: a.conversation_id.clone(),
                person: a.uploader.clone(),
            });
        }
        self.attachments.insert(a.id.clone(), a.clone());
        Ok(())
    }

    pub fn attachment(&self, id: &str) -> Option<&Attachment> {
        self.attachments.get(id)
    }

    /// May `who` read the attachment `id` (i.e. its conversation)?
    pub fn may_read_attachment(&self, who: &Who, id: &str) -> bool {
        self.attachments
            .get(id)
            .is_some_and(|a| self.may_read_conversation(who, &a.conversation_id))
    }

    /// The requester, the responsible, current and former participants of
    /// a service conversation; the two analysts of an analyst chat.
    pub fn may_read_conversation(&self, who: &Who, conversation_id: &str) -> bool {
        if let Some(rec) = self.chats.get(conversation_id) {
            return match who {
                Who::Requester(id) => rec.requester == *id,
                Who::Person(id) => rec.was_member(id),
            };
        }
        match (self.analyst_chats.get(conversation_id), who) {
            (Some(c), Who::Person(id)) => c.from == *id || c.to == *id,
            _ => false,
        }
    }

    // ----- analyst links ---------------------------------------------------

    pub(super) fn link(&mut self, analyst: &str, other: &str, on: bool) -> Result<(), DeskError> {
        self.person_or_err(analyst)?;
        self.person_or_err(other)?;
        if on {
            self.links
                .entry(analyst.to_string())
                .or_default()
                .insert(other.to_string());
        } else if let Some(set) = self.links.get_mut(analyst) {
            set.remove(other);
            if set.is_empty() {
                self.links.remove(analyst);
            }
        }
        Ok(())
    }

    /// Both are analysts and each linked the other.
    /// Whether `person` may write in conversation `id` now: the responsible or a current
    /// participant of a chat, or one of the two analysts of an internal chat. `None` when
    /// the desk knows no such conversation.
    pub fn may_write(&self, person: &str, id: &str) -> Option<bool> {
        self.chats
            .get(id)
            .map(|record| record.is_member(person))
            .or_else(|| {
                self.analyst_chats
                    .get(id)
                    .map(|chat| chat.from == person || chat.to == person)
            })
    }

    pub fn may_chat(&self, a: &str, b: &str) -> bool {
        let analyst = |id: &str| {
            self.desk
                .person(id)
                .is_some_and(|p| p.kind == PersonKind::Analyst)
        };
        let linked = |x: &str, y: &str| self.links.get(x).is_some_and(|s| s.contains(y));
        a != b && analyst(a) && analyst(b) && linked(a, b) && linked(b, a)
    }

    pub(super) fn start_analyst_chat(
        &mut self,
        id: &str,
        from: &str,
        to: &str,
        now_ms: u64,
    ) -> Result<(), DeskError> {
        if id.trim().is_empty() {
            return Err(DeskError::InvalidId);
        }
        if self.chats.contains_key(id) || self.analyst_chats.contains_key(id) {
            return Err(DeskError::DuplicateChat(id.to_string()));
        }
        if !self.may_chat(from, to) {
            return Err(DeskError::NotLinked(from.to_string(), to.to_string()));
        }
        let chat = AnalystChat {
            conversation_id: id.to_string(),
            from: from.to_string(),
            to: to.to_string(),
            started_ms: now_ms,
        };
        self.analyst_chats.insert(id.to_string(), chat);
        Ok(())
    }
}
