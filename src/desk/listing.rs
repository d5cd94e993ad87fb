//! Read-only views of the [`DeskBook`] for the attendance screen and the
//! lost-chat timer: the filtered, sorted chat list, the contact search
//! (case- and accent-insensitive substring) and the lost deadlines.
//!
//! List order: queued chats first, in queue order (desk sequence, then
//! arrival); then chats in progress by capture time (oldest first); then
//! finished chats (closed and lost) newest first. Ties break by id.
//!
//! Lost-chat timer: a waiting chat is lost `lost_after_ms` after it last
//! entered the queue (`ChatRecord::waiting_since`). The caller applies
//! `MarkLost`, tags the chat's ticket `chat-perdido` (or opens one tagged
//! `origem-chat` and `chat-perdido` when it has none) and applies
//! `SetTicket`; `lost_without_ticket` lists the chats where a crash
//! interrupted that sequence.

use serde::{Deserialize, Serialize};

use super::PersonId;
use super::book::{ChatRecord, ChatState, DeskBook};
use super::ops::Contact;

/// Filters of the attendance list; `None` means "any".
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct ListFilter {
    pub state: Option<ChatState>,
    /// Responsible or current participant.
    pub attendant: Option<PersonId>,
    pub ticket: Option<String>,
    /// Substring of the contact's name, email or id (case and accents
    /// ignored); chats without a contact match on the requester id.
    pub contact_query: Option<String>,
}

/// Lowercases and strips the accents of Latin letters (Portuguese,
/// Spanish, French...), for case- and accent-insensitive matching.
pub fn fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => 'a',
            'ç' | 'ć' | 'č' => 'c',
            'è' | 'é' | 'ê' | 'ë' | 'ē' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'ī' => 'i',
            'ñ' | 'ń' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => 'o',
            'ù' | 'ú' | 'û' | 'ü' | 'ū' => 'u',
            'ý' | 'ÿ' => 'y',
            other => other,
        })
        .collect()
}

fn contact_matches(contact: &Contact, folded_query: &str) -> bool {
    let fields = [
        Some(contact.name.as_str()),
        contact.email.as_deref(),
        Some(contact.id.as_str()),
        contact.phone.as_deref(),
    ];
    fields
        .into_iter()
        .flatten()
        .any(|f| fold(f).contains(folded_query))
}

impl DeskBook {
    fn matches(&self, rec: &ChatRecord, f: &ListFilter, query: Option<&str>) -> bool {
        f.state.is_none_or(|s| rec.state == s)
            && f.attendant.as_deref().is_none_or(|a| rec.is_member(a))
            && f.ticket
                .as_deref()
                .is_none_or(|t| [&rec.ticket, &rec.lost_ticket].contains(&&Some(t.to_string())))
            && query.is_none_or(|q| match self.contacts.get(&rec.requester) {
                Some(c) => contact_matches(c, q),
                None => fold(&rec.requester).contains(q),
            })
    }

    /// The attendance list, filtered and sorted (see the module doc).
    pub fn list(&self, filter: &ListFilter) -> Vec<&ChatRecord> {
        let query = filter.contact_query.as_deref().map(|q| fold(q.trim()));
        let mut out: Vec<&ChatRecord> = self
            .chats
            .values()
            .filter(|r| self.matches(r, filter, query.as_deref()))
            .collect();
        let key = |r: &ChatRecord| -> (u8, u64, u64) {
            match r.state {
                ChatState::Queued => {
                    let seq = self.desk.chat(&r.conversation_id).map_or(0, |c| c.seq);
                    (0, seq, r.queued_at)
                }
                ChatState::InProgress => (1, r.captured_at.unwrap_or(0), 0),
                ChatState::Closed | ChatState::Lost => (2, u64::MAX - r.closed_at.unwrap_or(0), 0),
            }
        };
        out.sort_by(|a, b| {
            key(a)
                .cmp(&key(b))
                .then_with(|| a.conversation_id.cmp(&b.conversation_id))
        });
        out
    }

    /// Contacts whose name, email, id or phone contains `query` (case and
    /// accents ignored), by name then id. An empty query lists everyone.
    pub fn search_contacts(&self, query: &str) -> Vec<&Contact> {
        let q = fold(query.trim());
        let mut out: Vec<&Contact> = self
            .contacts
            .values()
            .filter(|c| contact_matches(c, &q))
            .collect();
        out.sort_by(|a, b| {
            fold(&a.name)
                .cmp(&fold(&b.name))
                .then_with(|| a.id.cmp(&b.id))
        });
        out
    }

    /// `(conversation, deadline)` of every waiting chat, earliest first.
    pub fn lost_deadlines(&self, lost_after_ms: u64) -> Vec<(String, u64)> {
        let mut out: Vec<(String, u64)> = self
            .chats
            .values()
            .filter(|r| r.state == ChatState::Queued)
            .filter_map(|r| {
                let since = r.waiting_since?;
                Some((
                    r.conversation_id.clone(),
                    since.saturating_add(lost_after_ms),
                ))
            })
            .collect();
        out.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        out
    }

    /// Waiting chats whose deadline is at or before `now_ms`.
    pub fn due_lost(&self, now_ms: u64, lost_after_ms: u64) -> Vec<String> {
        self.lost_deadlines(lost_after_ms)
            .into_iter()
            .take_while(|(_, d)| *d <= now_ms)
            .map(|(id, _)| id)
            .collect()
    }

    /// Lost chats still without a ticket (finish them after a restart).
    pub fn lost_without_ticket(&self) -> Vec<String> {
        self.chats
            .values()
            .filter(|r| r.state == ChatState::Lost && r.lost_ticket.is_none())
            .map(|r| r.conversation_id.clone())
            .collect()
    }
}
