//! Routing: the routing mode per service group, the outcome of routing a
//! chat, the in-memory availability index and the two selection rules
//! (automatic tiers and manual candidates).
//!
//! Availability: a person is available on a channel when online (not paused)
//! there and not full (`active < max_chats`). The index keeps, per channel
//! and per (group, channel), a `BTreeSet` of available people ordered by
//! `(active chats, idle since, id)`, so "fewest active, then longest idle,
//! then id" is the first element: O(log n) to maintain, O(1) to read. It is
//! derived data: never serialized, rebuilt from the state on load.
//!
//! Automatic tiers: project owner, project assistant, the project's service
//! group, everyone else. Service-group exclusivity (decided here): when the
//! project has a service group, only members of that group serve it; the
//! owner and the assistant keep tiers 1 and 2 only if they are members, and
//! the "everyone else" tier is not used. Without a service group the tiers
//! are owner, assistant, everyone. People who declined the chat are skipped.
//!
//! Manual candidates: the people linked to the project (owner, assistant,
//! members of its service group, with the same exclusivity rule), available
//! on the chat's channel and not among those who declined it; listed owner,
//! assistant, then members in the automatic order.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::queue::{PositionUpdate, QueueMap};
use super::{Channel, ChatId, Desk, DeskError, Load, Person, PersonId, PersonPresence, Project};

/// How chats of a service group are routed.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, Default, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RoutingMode {
    /// The requester picks among the available linked specialists.
    Manual,
    /// The desk assigns by tiers and load.
    #[default]
    Automatic,
    /// First come first served; attendants capture chats.
    Queue,
}

/// Routing mode per service group, with a default for the rest (and for
/// projects without a service group).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, utoipa::ToSchema)]
pub struct RoutingConfig {
    pub default: RoutingMode,
    pub by_group: BTreeMap<String, RoutingMode>,
}

impl RoutingConfig {
    pub fn mode_for(&self, service_group: Option<&str>) -> RoutingMode {
        service_group
            .and_then(|g| self.by_group.get(g).copied())
            .unwrap_or(self.default)
    }
}

/// Which automatic tier picked the person (declared in tier order).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Owner,
    Assistant,
    ServiceGroup,
    Everyone,
}

/// The result of routing a chat.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RoutingOutcome {
    /// Automatic mode: the chat is now active with `person`.
    Assigned { person: PersonId, tier: Tier },
    /// Manual mode: the requester picks one (the chat waits in its queue).
    Candidates {
        candidates: Vec<PersonId>,
        position: usize,
        eta_ms: Option<u64>,
    },
    /// Queue mode: the chat waits to be captured.
    Queued {
        position: usize,
        eta_ms: Option<u64>,
    },
    /// Automatic or manual mode with nobody available: it stays queued.
    NoOneAvailable {
        position: usize,
        eta_ms: Option<u64>,
    },
}

/// A routing outcome plus the other waiting chats whose position changed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Routed {
    pub outcome: RoutingOutcome,
    pub updates: Vec<PositionUpdate>,
}

/// Order key of an available person: fewest active, longest idle, id.
type Slot = (u32, u64, PersonId);

#[derive(Clone, Debug, Default)]
struct Entry {
    slot: Slot,
    groups: Vec<String>,
    available_on: Vec<Channel>,
    online_queues: Vec<String>,
}

/// Availability index (derived, rebuilt on load).
#[derive(Clone, Debug, Default)]
pub(crate) struct RoutingIndex {
    by_channel: HashMap<Channel, BTreeSet<Slot>>,
    by_group: HashMap<String, HashMap<Channel, BTreeSet<Slot>>>,
    online_by_queue: HashMap<String, HashSet<PersonId>>,
    /// The same per (queue, group), for the lines of projects with a group.
    online_by_group_queue: HashMap<(String, String), HashSet<PersonId>>,
    entries: HashMap<PersonId, Entry>,
}

impl RoutingIndex {
    pub(crate) fn remove(&mut self, id: &str) {
        let Some(entry) = self.entries.remove(id) else {
            return;
        };
        for ch in &entry.available_on {
            if let Some(set) = self.by_channel.get_mut(ch) {
                set.remove(&entry.slot);
            }
            for g in &entry.groups {
                if let Some(set) = self.by_group.get_mut(g).and_then(|m| m.get_mut(ch)) {
                    set.remove(&entry.slot);
                }
            }
        }
        for q in &entry.online_queues {
            if let Some(set) = self.online_by_queue.get_mut(q) {
                set.remove(id);
            }
            for g in &entry.groups {
                if let Some(set) = self.online_by_group_queue.get_mut(&(q.clone(), g.clone())) {
                    set.remove(id);
                }
            }
        }
    }

    /// Re-indexes one person from their current person, presence and load.
    pub(crate) fn update(
        &mut self,
        person: &Person,
        presence: Option<&PersonPresence>,
        load: &Load,
        queues: &QueueMap,
    ) {
        self.remove(&person.id);
        let mut online: Vec<Channel> = person
            .channels
            .iter()
            .copied()
            .filter(|c| presence.is_some_and(|p| p.is_online(*c)))
            .collect();
        online.sort();
        online.dedup();
        let mut online_queues: Vec<String> = online
            .iter()
            .map(|c| queues.queue_of(*c).to_string())
            .collect();
        online_queues.sort();
        online_queues.dedup();
        let available_on = if load.active >= person.max_chats {
            Vec::new()
        } else {
            online
        };
        let mut groups = person.groups.clone();
        groups.sort();
        groups.dedup();
        let slot: Slot = (load.active, load.idle_since_ms, person.id.clone());
        for ch in &available_on {
            self.by_channel.entry(*ch).or_default().insert(slot.clone());
            for g in &groups {
                self.by_group
                    .entry(g.clone())
                    .or_default()
                    .entry(*ch)
                    .or_default()
                    .insert(slot.clone());
            }
        }
        for q in &online_queues {
            self.online_by_queue
                .entry(q.clone())
                .or_default()
                .insert(person.id.clone());
            for g in &groups {
                self.online_by_group_queue
                    .entry((q.clone(), g.clone()))
                    .or_default()
                    .insert(person.id.clone());
            }
        }
        let entry = Entry {
            slot,
            groups,
            available_on,
            online_queues,
        };
        self.entries.insert(person.id.clone(), entry);
    }

    pub(crate) fn is_available(&self, id: &str, channel: Channel) -> bool {
        self.entries
            .get(id)
            .is_some_and(|e| e.available_on.contains(&channel))
    }

    fn available(&self, channel: Channel) -> impl Iterator<Item = &PersonId> {
        self.by_channel
            .get(&channel)
            .into_iter()
            .flat_map(|s| s.iter().map(|slot| &slot.2))
    }

    fn available_in_group(&self, group: &str, channel: Channel) -> impl Iterator<Item = &PersonId> {
        self.by_group
            .get(group)
            .and_then(|m| m.get(&channel))
            .into_iter()
            .flat_map(|s| s.iter().map(|slot| &slot.2))
    }

    /// Distinct people online (not paused) on some channel of `queue`, only
    /// the members of `group` when one is given.
    pub(crate) fn online_count(&self, queue: &str, group: Option<&str>) -> usize {
        match group {
            None => self.online_by_queue.get(queue).map_or(0, HashSet::len),
            Some(g) => self
                .online_by_group_queue
                .get(&(queue.to_string(), g.to_string()))
                .map_or(0, HashSet::len),
        }
    }
}

impl Desk {
    /// Owner and assistant of `project` as far as the exclusivity rule lets
    /// them serve it, in tier order.
    fn linked_leads<'a>(&self, project: &'a Project) -> Vec<(&'a PersonId, Tier)> {
        let allowed = |id: &PersonId| match &project.service_group {
            None => true,
            Some(g) => self
                .state
                .people
                .get(id)
                .is_some_and(|p| p.groups.contains(g)),
        };
        let mut leads = Vec::with_capacity(2);
        if let Some(owner) = project.owner.as_ref().filter(|o| allowed(o)) {
            leads.push((owner, Tier::Owner));
        }
        if let Some(assistant) = project.assistant.as_ref().filter(|a| allowed(a)) {
            leads.push((assistant, Tier::Assistant));
        }
        leads
    }

    /// The automatic choice for a chat of `project_id` on `channel`, skipping
    /// `declined`; `None` when nobody is available. Read-only.
    pub fn automatic_choice(
        &self,
        project_id: &str,
        channel: Channel,
        declined: &[PersonId],
    ) -> Result<Option<(PersonId, Tier)>, DeskError> {
        let project = self.project_or_err(project_id)?;
        let ok = |id: &PersonId| !declined.contains(id);
        for (id, tier) in self.linked_leads(project) {
            if ok(id) && self.index.is_available(id, channel) {
                return Ok(Some((id.clone(), tier)));
            }
        }
        let pick = match &project.service_group {
            Some(g) => self
                .index
                .available_in_group(g, channel)
                .find(|id| ok(id))
                .map(|id| (id.clone(), Tier::ServiceGroup)),
            None => self
                .index
                .available(channel)
                .find(|id| ok(id))
                .map(|id| (id.clone(), Tier::Everyone)),
        };
        Ok(pick)
    }

    /// The tier `person` has for chats of `project` (`None`: they may not
    /// serve it, the service group being exclusive).
    fn tier_of(&self, person: &Person, project: &Project) -> Option<Tier> {
        if let Some((_, tier)) = self
            .linked_leads(project)
            .into_iter()
            .find(|(id, _)| **id == person.id)
        {
            return Some(tier);
        }
        match &project.service_group {
            Some(g) => person.groups.contains(g).then_some(Tier::ServiceGroup),
            None => Some(Tier::Everyone),
        }
    }

    /// The waiting chats to route again now that `person` is available:
    /// those in automatic mode that `person` may serve on a channel where
    /// they are available, in the order `person` ranks for them (chats of
    /// projects they own, assist, serve as service group, then the rest),
    /// first come first served within a rank; then the manual-mode chats
    /// that now list `person` among their candidates. Queue-mode chats wait
    /// to be captured. Read-only.
    pub fn waiting_for(&self, person: &str) -> Vec<ChatId> {
        let Some(p) = self.state.people.get(person) else {
            return Vec::new();
        };
        let mut automatic: Vec<(Tier, u64, ChatId)> = Vec::new();
        let mut manual: Vec<(u64, ChatId)> = Vec::new();
        for line in self.state.queues.values() {
            for entry in line.iter() {
                let Some(chat) = self.state.chats.get(&entry.chat_id) else {
                    continue;
                };
                let Some(project) = self.state.projects.get(&chat.project_id) else {
                    continue;
                };
                if chat.declined.contains(&p.id) || !self.index.is_available(person, chat.channel) {
                    continue;
                }
                let Some(tier) = self.tier_of(p, project) else {
                    continue;
                };
                let mode = self
                    .state
                    .config
                    .routing
                    .mode_for(project.service_group.as_deref());
                match mode {
                    RoutingMode::Automatic => automatic.push((tier, chat.seq, chat.id.clone())),
                    RoutingMode::Manual if tier != Tier::Everyone => {
                        manual.push((chat.seq, chat.id.clone()))
                    }
                    RoutingMode::Manual | RoutingMode::Queue => {}
                }
            }
        }
        automatic.sort();
        manual.sort();
        automatic
            .into_iter()
            .map(|(_, _, id)| id)
            .chain(manual.into_iter().map(|(_, id)| id))
            .collect()
    }

    /// Manual-mode candidates for a chat of `project_id` on `channel`,
    /// without those in `declined`. Read-only.
    pub fn manual_candidates(
        &self,
        project_id: &str,
        channel: Channel,
        declined: &[PersonId],
    ) -> Result<Vec<PersonId>, DeskError> {
        let project = self.project_or_err(project_id)?;
        let mut out: Vec<PersonId> = Vec::new();
        let push = |id: &PersonId, out: &mut Vec<PersonId>| {
            if !declined.contains(id) && !out.contains(id) && self.index.is_available(id, channel) {
                out.push(id.clone());
            }
        };
        for (id, _) in self.linked_leads(project) {
            push(id, &mut out);
        }
        if let Some(g) = &project.service_group {
            for id in self.index.available_in_group(g, channel) {
                push(id, &mut out);
            }
        }
        Ok(out)
    }
}
