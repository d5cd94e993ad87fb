//! Chat lifecycle operations of [`DeskBook`] (called by `apply` only):
//! enqueue, reroute, choose, decline, capture, transfer, invite, leave,
//! close, reopen, lost, ticket and outbound start. Each validates first,
//! then runs at most one fallible `Desk` call, then updates the record.
//!
//! Rules decided here:
//! - A blocked contact cannot enqueue, be reopened or be contacted
//!   (`contact_blocked`); blocking closes nothing.
//! - Transfer: `from` must be responsible or a participant; the old
//!   responsible becomes a former participant, a participant who transfers
//!   stays a participant. The record (tags, transcript side) stays.
//! - Invite: `by` must be a member; the invitee must be online (not paused)
//!   on the chat's channel; participants do not count against capacity.
//! - Leave: participants only; the responsible leaves by transfer or close
//!   (`responsible_cannot_leave`).
//! - Close: a member closes an active chat, any known person a waiting one;
//!   the reason must be one of the configured close reasons.
//! - Reopen (closed chats only, not lost ones): straight to `by` when `by`
//!   is online on the channel and not full, else back to routing as a new
//!   arrival (which, in automatic mode, may assign someone at once).

use super::book::{Applied, ChatRecord, ChatState, DeskBook, Notice, TransferMark};
use super::ops::Origin;
use super::{Channel, DeskError, Routed};

impl DeskBook {
    fn routed(&mut self, id: &str, routed: Routed, now_ms: u64) -> Applied {
        let notice = self.sync(id, now_ms);
        Applied {
            routing: Some(routed.outcome),
            updates: routed.updates,
            notices: notice.into_iter().collect(),
            handle_ms: None,
        }
    }

    fn taken(&mut self, id: &str, updates: Vec<super::PositionUpdate>, now_ms: u64) -> Applied {
        let notice = self.sync(id, now_ms);
        Applied {
            updates,
            notices: notice.into_iter().collect(),
            ..Applied::default()
        }
    }

    fn new_record(
        id: &str,
        requester: &str,
        project_id: &str,
        channel: Channel,
        origin: Origin,
        now_ms: u64,
    ) -> ChatRecord {
        ChatRecord {
            conversation_id: id.to_string(),
            requester: requester.to_string(),
            project_id: project_id.to_string(),
            channel,
            origin,
            state: ChatState::Queued,
            responsible: None,
            participants: Default::default(),
            former_participants: Default::default(),
            tags: Default::default(),
            ticket: None,
            lost_ticket: None,
            close_reason: None,
            closing_message: None,
            closed_by: None,
            queued_at: now_ms,
            captured_at: None,
            closed_at: None,
            waiting_since: Some(now_ms),
            queue_unread: false,
            unread_by: Default::default(),
            transfers: Vec::new(),
            reopened: 0,
        }
    }

    fn fresh_id(&self, id: &str) -> Result<(), DeskError> {
        if id.trim().is_empty() {
            return Err(DeskError::InvalidId);
        }
        if self.chats.contains_key(id) || self.analyst_chats.contains_key(id) {
            return Err(DeskError::DuplicateChat(id.to_string()));
        }
        Ok(())
    }

    pub(super) fn enqueue(
        &mut self,
        id: &str,
        requester: &str,
        project_id: &str,
        channel: Channel,
        origin: Origin,
        now_ms: u64,
    ) -> Result<Applied, DeskError> {
        self.fresh_id(id)?;
        self.not_blocked(requester)?;
        let routed = self.desk.enqueue(id, project_id, channel, now_ms)?;
        let rec = Self::new_record(id, requester, project_id, channel, origin, now_ms);
        self.chats.insert(id.to_string(), rec);
        Ok(self.routed(id, routed, now_ms))
    }

    pub(super) fn reroute(&mut self, id: &str, now_ms: u64) -> Result<Applied, DeskError> {
        self.record_or_err(id)?;
        let routed = self.desk.reroute(id, now_ms)?;
        Ok(self.routed(id, routed, now_ms))
    }

    pub(super) fn choose(
        &mut self,
        id: &str,
        who: &str,
        now_ms: u64,
    ) -> Result<Applied, DeskError> {
        self.record_or_err(id)?;
        let updates = self.desk.choose(id, who, now_ms)?;
        Ok(self.taken(id, updates, now_ms))
    }

    pub(super) fn capture(
        &mut self,
        id: &str,
        who: &str,
        now_ms: u64,
    ) -> Result<Applied, DeskError> {
        self.record_or_err(id)?;
        let updates = self.desk.capture(id, who, now_ms)?;
        Ok(self.taken(id, updates, now_ms))
    }

    pub(super) fn decline(
        &mut self,
        id: &str,
        who: &str,
        now_ms: u64,
    ) -> Result<Applied, DeskError> {
        self.record_or_err(id)?;
        let routed = self.desk.decline(id, who, now_ms)?;
        if let Some(rec) = self.chats.get_mut(id) {
            // Re-entering the queue restarts the lost-chat timer.
            rec.waiting_since = None;
        }
        Ok(self.routed(id, routed, now_ms))
    }

    /// `person` must be responsible or participant of an in-progress chat.
    fn member_or_err(&self, id: &str, person: &str) -> Result<&ChatRecord, DeskError> {
        let rec = self.record_or_err(id)?;
        if rec.state.is_finished() {
            return Err(DeskError::AlreadyClosed(id.to_string()));
        }
        if rec.state != ChatState::InProgress {
            return Err(DeskError::NotActive(id.to_string()));
        }
        if !rec.is_member(person) {
            return Err(DeskError::NotParticipant {
                chat: id.to_string(),
                person: person.to_string(),
            });
        }
        Ok(rec)
    }

    pub(super) fn transfer(
        &mut self,
        id: &str,
        from: &str,
        to: &str,
        now_ms: u64,
    ) -> Result<Applied, DeskError> {
        let rec = self.member_or_err(id, from)?;
        let old = rec.responsible.clone().unwrap_or_default();
        self.desk.transfer(id, to, now_ms)?;
        if old != to
            && let Some(rec) = self.chats.get_mut(id)
        {
            rec.transfers.push(TransferMark {
                by: from.to_string(),
                from: old,
                to: to.to_string(),
                at_ms: now_ms,
            });
        }
        Ok(self.taken(id, Vec::new(), now_ms))
    }

    pub(super) fn invite(
        &mut self,
        id: &str,
        by: &str,
        invitee: &str,
    ) -> Result<Applied, DeskError> {
        let rec = self.member_or_err(id, by)?;
        let channel = rec.channel;
        if rec.is_member(invitee) {
            return Ok(Applied::default());
        }
        self.person_or_err(invitee)?;
        let online = self
            .desk
            .presence(invitee)
            .is_some_and(|p| p.is_online(channel));
        if !online {
            return Err(DeskError::NotOnline(channel));
        }
        if let Some(rec) = self.chats.get_mut(id) {
            rec.participants.insert(invitee.to_string());
            rec.former_participants.remove(invitee);
        }
        Ok(Applied {
            notices: vec![Notice::ParticipantJoined {
                conversation_id: id.to_string(),
                person: invitee.to_string(),
            }],
            ..Applied::default()
        })
    }

    pub(super) fn leave(&mut self, id: &str, person: &str) -> Result<Applied, DeskError> {
        let rec = self.member_or_err(id, person)?;
        if rec.responsible.as_deref() == Some(person) {
            return Err(DeskError::ResponsibleCannotLeave);
        }
        if let Some(rec) = self.chats.get_mut(id) {
            rec.participants.remove(person);
            rec.unread_by.remove(person);
            rec.former_participants.insert(person.to_string());
        }
        Ok(Applied {
            notices: vec![Notice::ParticipantLeft {
                conversation_id: id.to_string(),
                person: person.to_string(),
            }],
            ..Applied::default()
        })
    }

    pub(super) fn check_close_reason(&self, reason: &str) -> Result<(), DeskError> {
        if reason.trim().is_empty() {
            return Err(DeskError::CloseReasonRequired);
        }
        if !self.close_reasons.iter().any(|r| r == reason) {
            return Err(DeskError::UnknownCloseReason(reason.to_string()));
        }
        Ok(())
    }

    pub(super) fn close(
        &mut self,
        id: &str,
        by: &str,
        reason: &str,
        closing_message: &Option<String>,
        now_ms: u64,
    ) -> Result<Applied, DeskError> {
        let rec = self.record_or_err(id)?;
        match rec.state {
            ChatState::Closed | ChatState::Lost => {
                return Err(DeskError::AlreadyClosed(id.to_string()));
            }
            ChatState::InProgress => {
                self.member_or_err(id, by)?;
            }
            ChatState::Queued => self.person_or_err(by)?,
        }
        self.check_close_reason(reason)?;
        let outcome = self.desk.close(id, now_ms)?;
        if let Some(rec) = self.chats.get_mut(id) {
            rec.state = ChatState::Closed;
            rec.waiting_since = None;
            rec.queue_unread = false;
            rec.unread_by.clear();
            rec.close_reason = Some(reason.to_string());
            rec.closing_message = closing_message.clone();
            rec.closed_by = Some(by.to_string());
            rec.closed_at = Some(now_ms);
        }
        Ok(Applied {
            updates: outcome.updates,
            handle_ms: outcome.handle_ms,
            notices: vec![Notice::Closed {
                conversation_id: id.to_string(),
                closing_message: closing_message.clone(),
            }],
            routing: None,
        })
    }

    pub(super) fn reopen(&mut self, id: &str, by: &str, now_ms: u64) -> Result<Applied, DeskError> {
        let rec = self.record_or_err(id)?;
        if rec.state != ChatState::Closed {
            return Err(DeskError::NotClosed(id.to_string()));
        }
        self.person_or_err(by)?;
        self.not_blocked(&rec.requester)?;
        let (project, channel) = (rec.project_id.clone(), rec.channel);
        let direct = self
            .desk
            .start_active(id, &project, channel, by, now_ms)
            .is_ok();
        let routed = if direct {
            None
        } else {
            Some(self.desk.enqueue(id, &project, channel, now_ms)?)
        };
        if let Some(rec) = self.chats.get_mut(id) {
            if let Some(old) = rec.responsible.take() {
                rec.former_participants.insert(old);
            }
            rec.former_participants
                .extend(std::mem::take(&mut rec.participants));
            rec.state = ChatState::Queued;
            rec.reopened += 1;
            rec.queued_at = now_ms;
            rec.waiting_since = None;
            rec.captured_at = None;
            rec.closed_at = None;
            rec.closed_by = None;
            rec.close_reason = None;
            rec.closing_message = None;
        }
        match routed {
            Some(r) => Ok(self.routed(id, r, now_ms)),
            None => Ok(self.taken(id, Vec::new(), now_ms)),
        }
    }

    pub(super) fn mark_lost(&mut self, id: &str, now_ms: u64) -> Result<Applied, DeskError> {
        if self.record_or_err(id)?.state != ChatState::Queued {
            return Err(DeskError::NotWaiting(id.to_string()));
        }
        let outcome = self.desk.close(id, now_ms)?;
        if let Some(rec) = self.chats.get_mut(id) {
            rec.state = ChatState::Lost;
            rec.waiting_since = None;
            rec.closed_at = Some(now_ms);
        }
        Ok(Applied {
            updates: outcome.updates,
            notices: vec![Notice::Lost {
                conversation_id: id.to_string(),
            }],
            ..Applied::default()
        })
    }

    pub(super) fn set_ticket(&mut self, id: &str, number: &str) -> Result<(), DeskError> {
        self.record_or_err(id)?;
        if let Some(rec) = self.chats.get_mut(id) {
            // A lost chat's ticket is the one opened for losing it; before that, it is the
            // ticket the chat came with.
            if rec.state == ChatState::Lost {
                rec.lost_ticket = Some(number.to_string());
            } else {
                rec.ticket = Some(number.to_string());
            }
        }
        Ok(())
    }

    pub(super) fn start_outbound(
        &mut self,
        id: &str,
        person: &str,
        requester: &str,
        channel: Channel,
        project_id: &str,
        now_ms: u64,
    ) -> Result<Applied, DeskError> {
        self.fresh_id(id)?;
        self.not_blocked(requester)?;
        self.desk
            .start_active(id, project_id, channel, person, now_ms)?;
        let rec = Self::new_record(id, requester, project_id, channel, Origin::Outbound, now_ms);
        self.chats.insert(id.to_string(), rec);
        Ok(self.taken(id, Vec::new(), now_ms))
    }
}
