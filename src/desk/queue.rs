//! Waiting chats: the configurable mapping channel -> queue name, the FIFO
//! queue itself with O(log n) position lookups, the rolling average handle
//! time per queue and the estimated-wait (ETA) formula, plus the position
//! updates a caller fans out when a chat leaves or re-enters a queue.
//!
//! Chats wait in lines: one per project within each channel queue
//! ([`line_name`]). A project's chats share its routing mode and the people
//! who may serve them, so a position counts only the chats ahead in that
//! line, never those of another project (possibly in another mode) that
//! happen to come in through the same channel.
//!
//! A queue is a `VecDeque` of entries sorted by a desk-wide, monotonically
//! increasing sequence number given at enqueue time. The 1-based position of
//! a chat is a binary search on that number: O(log n), no scan. Removing from
//! the middle moves the shorter side of the deque (a memmove of small
//! entries); the chats behind it all change position, so the fan-out list is
//! O(entries behind) by nature.
//!
//! ETA formula: `eta_ms = ceil(position * avg_handle_ms / online)`, where
//! `online` is the number of distinct people online (not paused) on at least
//! one channel of that queue who may serve the line's project (members of its
//! service group when it has one), and `avg_handle_ms` is the rolling average
//! of the last `window` handle times of chats closed from that line (or the
//! configured default before the first sample). The reasoning: each online
//! person frees a seat about once per handle time, so a seat frees about
//! every `avg_handle_ms / online`, and the chat at position `p` waits for `p`
//! of them. With nobody online the ETA is unknown (`None`).

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::{Channel, ChatId};

/// Channel -> queue name. A channel not listed has its own queue, named
/// after the channel (`web_chat`, `whatsapp`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct QueueMap(pub BTreeMap<Channel, String>);

impl QueueMap {
    pub fn queue_of(&self, channel: Channel) -> &str {
        self.0
            .get(&channel)
            .map(String::as_str)
            .unwrap_or(channel.as_str())
    }
}

/// The name of the line where chats of `project` wait in channel queue
/// `queue` (see the module doc).
pub fn line_name(queue: &str, project: &str) -> String {
    format!("{queue}/{project}")
}

/// One waiting chat in a queue.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct QueueEntry {
    pub seq: u64,
    pub chat_id: ChatId,
}

/// A FIFO queue of waiting chats, ordered by sequence number.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct ChatQueue {
    entries: VecDeque<QueueEntry>,
}

impl ChatQueue {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The chats in order, head first.
    pub fn iter(&self) -> impl Iterator<Item = &QueueEntry> {
        self.entries.iter()
    }

    /// 1-based position of the chat with sequence number `seq`: O(log n).
    pub fn position(&self, seq: u64) -> Option<usize> {
        self.entries
            .binary_search_by_key(&seq, |e| e.seq)
            .ok()
            .map(|i| i + 1)
    }

    /// Inserts at the place its `seq` gives (the tail for a new chat, its
    /// old place for a chat coming back); returns its 1-based position.
    pub fn insert(&mut self, seq: u64, chat_id: ChatId) -> usize {
        let entry = QueueEntry { seq, chat_id };
        match self.entries.back() {
            Some(last) if last.seq > seq => {
                let i = self
                    .entries
                    .binary_search_by_key(&seq, |e| e.seq)
                    .unwrap_or_else(|i| i);
                self.entries.insert(i, entry);
                i + 1
            }
            _ => {
                self.entries.push_back(entry);
                self.entries.len()
            }
        }
    }

    /// Removes the chat with `seq`; returns the 1-based position it had.
    pub fn remove(&mut self, seq: u64) -> Option<usize> {
        let i = self.entries.binary_search_by_key(&seq, |e| e.seq).ok()?;
        self.entries.remove(i);
        Some(i + 1)
    }

    /// Chats at 1-based positions `from..`, with their positions.
    pub fn from_position(&self, from: usize) -> impl Iterator<Item = (usize, &QueueEntry)> {
        self.entries
            .iter()
            .enumerate()
            .skip(from.saturating_sub(1))
            .map(|(i, e)| (i + 1, e))
    }
}

/// A chat whose queue position changed, for the live update to its requester.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PositionUpdate {
    pub chat_id: ChatId,
    pub position: usize,
    pub eta_ms: Option<u64>,
}

/// Where a waiting chat stands.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct QueueStatus {
    pub position: usize,
    pub eta_ms: Option<u64>,
}

/// Average of the last `window` samples, O(1) per sample.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct RollingAverage {
    samples: VecDeque<u64>,
    sum: u64,
}

impl RollingAverage {
    pub fn record(&mut self, sample_ms: u64, window: usize) {
        self.samples.push_back(sample_ms);
        self.sum = self.sum.saturating_add(sample_ms);
        while self.samples.len() > window.max(1) {
            if let Some(old) = self.samples.pop_front() {
                self.sum = self.sum.saturating_sub(old);
            }
        }
    }

    pub fn average_ms(&self) -> Option<u64> {
        (!self.samples.is_empty()).then(|| self.sum / self.samples.len() as u64)
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

/// The ETA formula of this module: `ceil(position * avg_handle_ms / online)`,
/// `None` when nobody is online.
pub fn estimate_wait_ms(position: usize, avg_handle_ms: u64, online: usize) -> Option<u64> {
    if online == 0 {
        return None;
    }
    let total = position as u128 * avg_handle_ms as u128;
    let eta = total.div_ceil(online as u128);
    Some(u64::try_from(eta).unwrap_or(u64::MAX))
}
