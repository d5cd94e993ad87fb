//! Chat operations of [`Desk`]: enqueue and (re)routing by mode, position
//! and ETA lookups with the fan-out lists, manual choice and decline,
//! capture, transfer and close. Each keeps the per-person active counter
//! consistent (assign/capture/choose +1, transfer moves one, decline/close
//! -1) and re-indexes the people it touches. Every unassigned chat waits in
//! its project's line of its channel's queue whatever the mode; a declined
//! chat goes back to its old place (its sequence number), not to the tail.

use super::{
    Channel, Chat, ChatQueue, ChatStatus, CloseOutcome, Desk, DeskError, PersonId, PositionUpdate,
    QueueStatus, RollingAverage, Routed, RoutingMode, RoutingOutcome, estimate_wait_ms, line_name,
};

impl Desk {
    // ----- chats -----------------------------------------------------------

    pub fn chat(&self, id: &str) -> Option<&Chat> {
        self.state.chats.get(id)
    }

    pub fn responsible(&self, chat: &str) -> Option<&PersonId> {
        self.chat(chat).and_then(Chat::responsible)
    }

    pub fn queue_len(&self, queue: &str) -> usize {
        self.state.queues.get(queue).map_or(0, ChatQueue::len)
    }

    /// Waiting chats in every line.
    pub fn waiting_len(&self) -> usize {
        self.state.queues.values().map(ChatQueue::len).sum()
    }

    /// People online who may serve the chats of `line`: online (not paused)
    /// on its channel's queue and, when its project has a service group,
    /// members of that group. Read from the line's head chat.
    fn line_online(&self, line: &str) -> usize {
        let head = self
            .state
            .queues
            .get(line)
            .and_then(|q| q.iter().next())
            .and_then(|entry| self.state.chats.get(&entry.chat_id));
        let Some(head) = head else {
            return 0;
        };
        let queue = self.state.config.queues.queue_of(head.channel);
        let group = self
            .project(&head.project_id)
            .and_then(|p| p.service_group.as_deref());
        self.index.online_count(queue, group)
    }

    /// Rolling average handle time of `queue` (or the configured default).
    pub fn avg_handle_ms(&self, queue: &str) -> u64 {
        self.state
            .handle_times
            .get(queue)
            .and_then(RollingAverage::average_ms)
            .unwrap_or(self.state.config.default_handle_ms)
    }

    /// ETA for `position` in line `queue` (formula in `queue`).
    pub fn eta_ms(&self, queue: &str, position: usize) -> Option<u64> {
        estimate_wait_ms(position, self.avg_handle_ms(queue), self.line_online(queue))
    }

    /// Position (1-based) and ETA of a waiting chat: O(log n).
    pub fn position(&self, chat: &str) -> Result<QueueStatus, DeskError> {
        let c = self.chat_or_err(chat)?;
        let position = match c.status {
            ChatStatus::Waiting => self
                .state
                .queues
                .get(&c.queue)
                .and_then(|q| q.position(c.seq)),
            ChatStatus::Active { .. } => None,
        }
        .ok_or_else(|| DeskError::NotQueued(chat.to_string()))?;
        Ok(QueueStatus {
            position,
            eta_ms: self.eta_ms(&c.queue, position),
        })
    }

    /// Updates for the chats of `queue` from 1-based position `from` on.
    pub fn updates_from(&self, queue: &str, from: usize) -> Vec<PositionUpdate> {
        let Some(q) = self.state.queues.get(queue) else {
            return Vec::new();
        };
        let aht = self.avg_handle_ms(queue);
        let online = self.line_online(queue);
        q.from_position(from)
            .map(|(position, e)| PositionUpdate {
                chat_id: e.chat_id.clone(),
                position,
                eta_ms: estimate_wait_ms(position, aht, online),
            })
            .collect()
    }

    /// A new chat: routed by the mode of its project's service group.
    pub fn enqueue(
        &mut self,
        chat_id: &str,
        project_id: &str,
        channel: Channel,
        now_ms: u64,
    ) -> Result<Routed, DeskError> {
        if self.state.chats.contains_key(chat_id) {
            return Err(DeskError::DuplicateChat(chat_id.to_string()));
        }
        self.project_or_err(project_id)?;
        let seq = self.state.next_seq;
        self.state.next_seq += 1;
        let chat = Chat {
            id: chat_id.to_string(),
            project_id: project_id.to_string(),
            channel,
            queue: line_name(self.state.config.queues.queue_of(channel), project_id),
            seq,
            enqueued_ms: now_ms,
            status: ChatStatus::Waiting,
            declined: Vec::new(),
        };
        self.state.chats.insert(chat.id.clone(), chat);
        self.route(chat_id, false, now_ms)
    }

    /// Creates `chat_id` directly active with `person`, bypassing the queue
    /// (outbound conversations and a reopen straight to the closer; used by
    /// the desk book). `person` must be online on `channel` and not full.
    pub fn start_active(
        &mut self,
        chat_id: &str,
        project_id: &str,
        channel: Channel,
        person: &str,
        now_ms: u64,
    ) -> Result<(), DeskError> {
        if self.state.chats.contains_key(chat_id) {
            return Err(DeskError::DuplicateChat(chat_id.to_string()));
        }
        self.project_or_err(project_id)?;
        self.check_can_take(person, channel)?;
        let seq = self.state.next_seq;
        self.state.next_seq += 1;
        let chat = Chat {
            id: chat_id.to_string(),
            project_id: project_id.to_string(),
            channel,
            queue: line_name(self.state.config.queues.queue_of(channel), project_id),
            seq,
            enqueued_ms: now_ms,
            status: ChatStatus::Waiting,
            declined: Vec::new(),
        };
        self.state.chats.insert(chat.id.clone(), chat);
        self.assign(chat_id, person, now_ms);
        Ok(())
    }

    /// Routes a waiting chat again (e.g. after someone came online).
    pub fn reroute(&mut self, chat_id: &str, now_ms: u64) -> Result<Routed, DeskError> {
        self.waiting_or_err(chat_id)?;
        self.route(chat_id, true, now_ms)
    }

    fn waiting_or_err(&self, chat_id: &str) -> Result<&Chat, DeskError> {
        let chat = self.chat_or_err(chat_id)?;
        match chat.status {
            ChatStatus::Waiting => Ok(chat),
            ChatStatus::Active { .. } => Err(DeskError::AlreadyCaptured(chat_id.to_string())),
        }
    }

    /// Routes a `Waiting` chat; `in_queue` says whether it is already queued.
    fn route(&mut self, chat_id: &str, in_queue: bool, now_ms: u64) -> Result<Routed, DeskError> {
        let chat = self.chat_or_err(chat_id)?.clone();
        let project = self.project_or_err(&chat.project_id)?;
        let mode = self
            .state
            .config
            .routing
            .mode_for(project.service_group.as_deref());
        if mode == RoutingMode::Automatic
            && let Some((person, tier)) =
                self.automatic_choice(&chat.project_id, chat.channel, &chat.declined)?
        {
            let updates = if in_queue {
                self.dequeue(&chat)
            } else {
                Vec::new()
            };
            self.assign(chat_id, &person, now_ms);
            return Ok(Routed {
                outcome: RoutingOutcome::Assigned { person, tier },
                updates,
            });
        }
        let mut updates = Vec::new();
        if !in_queue {
            let queue = self.state.queues.entry(chat.queue.clone()).or_default();
            let position = queue.insert(chat.seq, chat.id.clone());
            if position < queue.len() {
                updates = self.updates_from(&chat.queue, position + 1);
            }
        }
        let QueueStatus { position, eta_ms } = self.position(chat_id)?;
        let outcome = match mode {
            RoutingMode::Queue => RoutingOutcome::Queued { position, eta_ms },
            RoutingMode::Manual => {
                let candidates =
                    self.manual_candidates(&chat.project_id, chat.channel, &chat.declined)?;
                if candidates.is_empty() {
                    RoutingOutcome::NoOneAvailable { position, eta_ms }
                } else {
                    RoutingOutcome::Candidates {
                        candidates,
                        position,
                        eta_ms,
                    }
                }
            }
            RoutingMode::Automatic => RoutingOutcome::NoOneAvailable { position, eta_ms },
        };
        Ok(Routed { outcome, updates })
    }

    /// Removes a waiting chat from its queue; returns the updates for the
    /// chats behind it.
    fn dequeue(&mut self, chat: &Chat) -> Vec<PositionUpdate> {
        let removed = self
            .state
            .queues
            .get_mut(&chat.queue)
            .and_then(|q| q.remove(chat.seq));
        match removed {
            Some(position) => self.updates_from(&chat.queue, position),
            None => Vec::new(),
        }
    }

    fn assign(&mut self, chat_id: &str, person: &str, now_ms: u64) {
        if let Some(chat) = self.state.chats.get_mut(chat_id) {
            let started_ms = match chat.status {
                ChatStatus::Active { started_ms, .. } => started_ms,
                ChatStatus::Waiting => now_ms,
            };
            chat.status = ChatStatus::Active {
                responsible: person.to_string(),
                since_ms: now_ms,
                started_ms,
            };
        }
        self.change_load(person, 1, now_ms);
    }

    fn change_load(&mut self, person: &str, delta: i32, now_ms: u64) {
        let load = self.state.load.entry(person.to_string()).or_default();
        load.active = load.active.saturating_add_signed(delta);
        load.idle_since_ms = now_ms;
        self.reindex(person);
    }

    /// Checks that `person` may take a chat on `channel` now.
    fn check_can_take(&self, person: &str, channel: Channel) -> Result<(), DeskError> {
        let p = self.person_or_err(person)?;
        let online = self
            .state
            .presence
            .get(person)
            .is_some_and(|pr| pr.is_online(channel));
        if !p.channels.contains(&channel) || !online {
            return Err(DeskError::NotOnline(channel));
        }
        if self.active_chats(person) >= p.max_chats {
            return Err(DeskError::AttendantFull(person.to_string()));
        }
        Ok(())
    }

    /// Manual-mode candidates for a waiting chat (without who declined).
    pub fn candidates(&self, chat_id: &str) -> Result<Vec<PersonId>, DeskError> {
        let chat = self.waiting_or_err(chat_id)?;
        self.manual_candidates(&chat.project_id, chat.channel, &chat.declined)
    }

    /// Manual mode: the requester's choice, validated and assigned.
    pub fn choose(
        &mut self,
        chat_id: &str,
        person: &str,
        now_ms: u64,
    ) -> Result<Vec<PositionUpdate>, DeskError> {
        let chat = self.waiting_or_err(chat_id)?.clone();
        self.check_can_take(person, chat.channel)?;
        if !self.candidates(chat_id)?.iter().any(|c| c == person) {
            return Err(DeskError::NotEligible(person.to_string()));
        }
        let updates = self.dequeue(&chat);
        self.assign(chat_id, person, now_ms);
        Ok(updates)
    }

    /// The responsible declines the chat: capacity freed, the person is
    /// excluded from it, the chat returns to its old place in the queue and
    /// is routed again.
    pub fn decline(
        &mut self,
        chat_id: &str,
        person: &str,
        now_ms: u64,
    ) -> Result<Routed, DeskError> {
        let chat = self.chat_or_err(chat_id)?;
        if chat.responsible().map(String::as_str) != Some(person) {
            return Err(DeskError::NotResponsible {
                chat: chat_id.to_string(),
                person: person.to_string(),
            });
        }
        if let Some(chat) = self.state.chats.get_mut(chat_id) {
            chat.status = ChatStatus::Waiting;
            chat.declined.push(person.to_string());
        }
        self.change_load(person, -1, now_ms);
        self.route(chat_id, false, now_ms)
    }

    /// An attendant captures a waiting chat, in any order.
    pub fn capture(
        &mut self,
        chat_id: &str,
        attendant: &str,
        now_ms: u64,
    ) -> Result<Vec<PositionUpdate>, DeskError> {
        let chat = self.waiting_or_err(chat_id)?.clone();
        self.check_can_take(attendant, chat.channel)?;
        let updates = self.dequeue(&chat);
        self.assign(chat_id, attendant, now_ms);
        Ok(updates)
    }

    /// Moves an active chat to another person (online there, not full).
    pub fn transfer(&mut self, chat_id: &str, to: &str, now_ms: u64) -> Result<(), DeskError> {
        let chat = self.chat_or_err(chat_id)?;
        let channel = chat.channel;
        let from = chat
            .responsible()
            .cloned()
            .ok_or_else(|| DeskError::NotActive(chat_id.to_string()))?;
        if from == to {
            return Ok(());
        }
        self.check_can_take(to, channel)?;
        self.change_load(&from, -1, now_ms);
        self.assign(chat_id, to, now_ms);
        Ok(())
    }

    /// Ends a chat: an active one frees its responsible's seat and feeds the
    /// queue's average handle time; a waiting one leaves the queue.
    pub fn close(&mut self, chat_id: &str, now_ms: u64) -> Result<CloseOutcome, DeskError> {
        let chat = self.chat_or_err(chat_id)?.clone();
        let outcome = match &chat.status {
            ChatStatus::Waiting => CloseOutcome {
                handle_ms: None,
                updates: self.dequeue(&chat),
            },
            ChatStatus::Active {
                responsible,
                started_ms,
                ..
            } => {
                let handle_ms = now_ms.saturating_sub(*started_ms);
                let window = self.state.config.handle_time_window;
                self.state
                    .handle_times
                    .entry(chat.queue.clone())
                    .or_default()
                    .record(handle_ms, window);
                self.change_load(responsible, -1, now_ms);
                CloseOutcome {
                    handle_ms: Some(handle_ms),
                    updates: Vec::new(),
                }
            }
        };
        self.state.chats.remove(chat_id);
        Ok(outcome)
    }
}
