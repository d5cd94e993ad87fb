//! The last message of each of many conversations, for the attendance list's cards: the newest
//! message that says something (a bodiless event, such as the hand-off, is skipped), its body
//! cut to a few characters. This module owns the record type, the input checks and the
//! portable fallback of [`Store::last_messages`](super::Store::last_messages);
//! `sqlite::last_messages` and `postgres::last_messages` own the one query each backend runs
//! (a backward walk of the `(conversation_id, seq)` primary key per conversation).

use std::collections::BTreeSet;

use super::{SenderKind, Store, StoreError, check_id};

/// Most conversations one call may name.
pub const MAX_LAST_MESSAGES: usize = 10_000;

/// The newest message with a body of one conversation, its body cut to the asked length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastMessage {
    pub conversation_id: String,
    pub seq: i64,
    pub sender_kind: SenderKind,
    pub sender_id: Option<String>,
    /// The first `max_chars` characters of the body.
    pub body: String,
    /// The body was longer than `max_chars` characters.
    pub clipped: bool,
    pub created_at: i64,
}

/// The ids to look up, checked, without repeats, in order.
pub(crate) fn wanted(conversations: &[String]) -> Result<Vec<String>, StoreError> {
    if conversations.len() > MAX_LAST_MESSAGES {
        return Err(StoreError::InvalidInput(format!(
            "at most {MAX_LAST_MESSAGES} conversations at a time"
        )));
    }
    let mut seen = BTreeSet::new();
    let mut ids = Vec::with_capacity(conversations.len());
    for id in conversations {
        check_id("conversation id", id)?;
        if seen.insert(id.as_str()) {
            ids.push(id.clone());
        }
    }
    Ok(ids)
}

/// Refuses a length of 0 (nothing of the body would be left).
pub(crate) fn check_max_chars(max_chars: u32) -> Result<(), StoreError> {
    if max_chars == 0 {
        return Err(StoreError::InvalidInput(
            "max_chars must be at least 1".to_string(),
        ));
    }
    Ok(())
}

/// What the trait's default does, through the other methods: pages back from each
/// conversation's last message until one has a body. Correct on any store, but one round trip
/// or more per conversation; the backends answer in one query.
pub(crate) async fn one_by_one<S: Store + ?Sized>(
    store: &S,
    conversations: &[String],
    max_chars: u32,
) -> Result<Vec<LastMessage>, StoreError> {
    check_max_chars(max_chars)?;
    const PAGE: i64 = 50;
    let mut found = Vec::new();
    for id in wanted(conversations)? {
        let Some(conversation) = store.get_conversation(&id).await? else {
            continue;
        };
        let mut end = conversation.last_seq;
        while end > 0 {
            let start = (end - PAGE).max(0);
            let page = store
                .messages_after(&id, start, u32::try_from(end - start).unwrap_or(1))
                .await?;
            if let Some(message) = page.into_iter().rev().find(|m| !m.body.is_empty()) {
                let clipped = message.body.chars().count() > max_chars as usize;
                found.push(LastMessage {
                    conversation_id: message.conversation_id,
                    seq: message.seq,
                    sender_kind: message.sender_kind,
                    sender_id: message.sender_id,
                    body: message.body.chars().take(max_chars as usize).collect(),
                    clipped,
                    created_at: message.created_at,
                });
                break;
            }
            end = start;
        }
    }
    Ok(found)
}
