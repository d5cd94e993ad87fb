//! Presence of people on the desk: the per-channel state (offline, online,
//! paused with a configured reason), the configurable list of pause reasons,
//! the time accounting (time online and time paused, per channel and per
//! person) and the transition rules, including the propagation of a pause
//! or a resume over the channels that share a queue. Pure: time comes in as
//! `now_ms` and nothing here reads a clock.
//!
//! Transition rules (decided here, relied upon by routing):
//! - Going online or pausing on a channel the person is not enabled for is
//!   `channel_not_enabled`; going offline on such a channel is a no-op, so a
//!   caller can always clean up.
//! - A pause needs a non-empty reason (`pause_reason_required`) that is in
//!   [`PauseReasons`] (`unknown_pause_reason`), and the channel must not be
//!   offline (`not_online`): one pauses from work, not from home.
//! - Invariant: within one queue, every channel of a person that is not
//!   offline has the same state. So pausing a channel pauses every non-offline
//!   channel of that person sharing its queue, and going online on a channel
//!   (from offline or from a pause) resumes every paused channel sharing its
//!   queue. Channels that are offline stay offline: the person decides which
//!   channels to open. Going offline touches only the channel named.
//! - Per-person time is wall time: a person is "online" while at least one
//!   channel is online, else "paused" while at least one is paused, so two
//!   channels online at once do not count twice.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::queue::QueueMap;
use super::{Channel, DeskError};

/// The state of one channel (or of a whole person, see [`PersonPresence`]).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PresenceState {
    #[default]
    Offline,
    Online,
    Paused {
        reason: String,
    },
}

impl PresenceState {
    /// Online and not paused: may receive chats.
    pub fn is_online(&self) -> bool {
        matches!(self, PresenceState::Online)
    }

    pub fn is_offline(&self) -> bool {
        matches!(self, PresenceState::Offline)
    }

    pub fn is_paused(&self) -> bool {
        matches!(self, PresenceState::Paused { .. })
    }
}

static OFFLINE: PresenceState = PresenceState::Offline;

/// The configured reasons a person may give when pausing.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct PauseReasons(pub Vec<String>);

impl PauseReasons {
    pub fn new<I, S>(reasons: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        PauseReasons(reasons.into_iter().map(Into::into).collect())
    }

    pub fn contains(&self, reason: &str) -> bool {
        self.0.iter().any(|r| r == reason)
    }

    /// `pause_reason_required` for an empty reason, `unknown_pause_reason`
    /// for one that is not configured.
    pub fn validate(&self, reason: &str) -> Result<(), DeskError> {
        if reason.trim().is_empty() {
            return Err(DeskError::PauseReasonRequired);
        }
        if !self.contains(reason) {
            return Err(DeskError::UnknownPauseReason(reason.to_string()));
        }
        Ok(())
    }
}

/// A state plus the time accumulated in each state up to `since_ms`; the
/// open interval `[since_ms, now_ms)` is added when asked with a `now_ms`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct PresenceClock {
    pub state: PresenceState,
    pub since_ms: u64,
    pub online_ms: u64,
    pub paused_ms: u64,
}

impl PresenceClock {
    /// Closes the open interval at `now_ms` (a clock going backwards adds 0).
    fn settle(&mut self, now_ms: u64) {
        let elapsed = now_ms.saturating_sub(self.since_ms);
        match self.state {
            PresenceState::Online => self.online_ms += elapsed,
            PresenceState::Paused { .. } => self.paused_ms += elapsed,
            PresenceState::Offline => {}
        }
        self.since_ms = self.since_ms.max(now_ms);
    }

    fn switch(&mut self, state: PresenceState, now_ms: u64) {
        if self.state != state {
            self.settle(now_ms);
            self.state = state;
        }
    }

    /// Total time online, including the open interval up to `now_ms`.
    pub fn online_ms_at(&self, now_ms: u64) -> u64 {
        let open = if self.state.is_online() {
            now_ms.saturating_sub(self.since_ms)
        } else {
            0
        };
        self.online_ms + open
    }

    /// Total time paused, including the open interval up to `now_ms`.
    pub fn paused_ms_at(&self, now_ms: u64) -> u64 {
        let open = if self.state.is_paused() {
            now_ms.saturating_sub(self.since_ms)
        } else {
            0
        };
        self.paused_ms + open
    }
}

/// Presence of one person: one clock per channel and one for the person.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct PersonPresence {
    pub channels: BTreeMap<Channel, PresenceClock>,
    pub overall: PresenceClock,
}

impl PersonPresence {
    /// State on `channel` (offline when never set).
    pub fn state(&self, channel: Channel) -> &PresenceState {
        self.channels
            .get(&channel)
            .map(|c| &c.state)
            .unwrap_or(&OFFLINE)
    }

    pub fn is_online(&self, channel: Channel) -> bool {
        self.state(channel).is_online()
    }

    /// Wall time the person was online on at least one channel.
    pub fn time_online_ms(&self, now_ms: u64) -> u64 {
        self.overall.online_ms_at(now_ms)
    }

    /// Wall time the person was paused (and online nowhere).
    pub fn time_paused_ms(&self, now_ms: u64) -> u64 {
        self.overall.paused_ms_at(now_ms)
    }

    pub fn channel_time_online_ms(&self, channel: Channel, now_ms: u64) -> u64 {
        self.channels
            .get(&channel)
            .map_or(0, |c| c.online_ms_at(now_ms))
    }

    pub fn channel_time_paused_ms(&self, channel: Channel, now_ms: u64) -> u64 {
        self.channels
            .get(&channel)
            .map_or(0, |c| c.paused_ms_at(now_ms))
    }

    /// `(online, enabled)`: channels online (not paused) among those enabled.
    pub fn channel_counts(&self, enabled: &[Channel]) -> (u32, u32) {
        let online = enabled.iter().filter(|c| self.is_online(**c)).count();
        (online as u32, enabled.len() as u32)
    }

    /// Applies `target` on `channel` with the module's rules; returns whether
    /// the person went from overall offline to present (online or paused).
    pub(crate) fn apply(
        &mut self,
        enabled: &[Channel],
        queues: &QueueMap,
        reasons: &PauseReasons,
        channel: Channel,
        target: PresenceState,
        now_ms: u64,
    ) -> Result<bool, DeskError> {
        let is_enabled = enabled.contains(&channel);
        match &target {
            PresenceState::Offline => {
                if !is_enabled && self.state(channel).is_offline() {
                    return Ok(false);
                }
                self.set(channel, PresenceState::Offline, now_ms);
            }
            PresenceState::Online | PresenceState::Paused { .. } => {
                if !is_enabled {
                    return Err(DeskError::ChannelNotEnabled(channel));
                }
                if let PresenceState::Paused { reason } = &target {
                    reasons.validate(reason)?;
                    if self.state(channel).is_offline() {
                        return Err(DeskError::NotOnline(channel));
                    }
                }
                let queue = queues.queue_of(channel);
                let siblings: Vec<Channel> = enabled
                    .iter()
                    .copied()
                    .filter(|c| *c != channel && queues.queue_of(*c) == queue)
                    .filter(|c| !self.state(*c).is_offline())
                    .collect();
                self.set(channel, target.clone(), now_ms);
                for sibling in siblings {
                    self.set(sibling, target.clone(), now_ms);
                }
            }
        }
        let was_offline = self.overall.state.is_offline();
        let overall = self.derive_overall();
        self.overall.switch(overall, now_ms);
        Ok(was_offline && !self.overall.state.is_offline())
    }

    fn set(&mut self, channel: Channel, state: PresenceState, now_ms: u64) {
        let clock = self
            .channels
            .entry(channel)
            .or_insert_with(|| PresenceClock {
                since_ms: now_ms,
                ..PresenceClock::default()
            });
        clock.switch(state, now_ms);
    }

    fn derive_overall(&self) -> PresenceState {
        let states = || self.channels.values().map(|c| &c.state);
        if states().any(PresenceState::is_online) {
            PresenceState::Online
        } else if let Some(paused) = states().find(|s| s.is_paused()) {
            paused.clone()
        } else {
            PresenceState::Offline
        }
    }
}

impl super::Desk {
    /// Whether someone is there to read a chat now (what parameter 447 is about): its
    /// responsible online on the chat's channel, or, while it waits, anyone online on that
    /// channel (paused is away). `None` for a chat the desk does not know.
    pub fn someone_present_for(&self, chat_id: &str) -> Option<bool> {
        let chat = self.chat(chat_id)?;
        let online = |person: &str| {
            self.presence(person)
                .is_some_and(|presence| presence.is_online(chat.channel))
        };
        Some(match chat.responsible() {
            Some(responsible) => online(responsible),
            None => self.state().people.keys().any(|person| online(person)),
        })
    }
}
