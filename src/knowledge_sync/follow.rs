//! The follower: reads the changes appended to the knowledge log since the position this node
//! applied, keeps the last change of each document, drops those this node made itself (already
//! applied here), and applies the rest to this node's sources and index. A change that cannot
//! be applied as written (a body that is not a valid document, a kind or id that disagrees with
//! its row) is skipped with a warning and never blocks the ones after it; a failure of this
//! node (disk, index) stops the batch, which is tried again whole on the next tick (applying a
//! change twice is harmless).

use super::{KnowledgeSync, blocking, portable};
use crate::knowledge::{Document, KnowledgeBase, KnowledgeError};
use crate::store::{KnowledgeChange, KnowledgeOp, MAX_PAGE, StoreError};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::watch;

/// How often a node looks for the other nodes' knowledge changes.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(1);

/// Why following the log failed this time (it is tried again on the next tick).
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error("reading the knowledge log: {0}")]
    Store(#[from] StoreError),
    #[error("applying a knowledge change: {0}")]
    Knowledge(#[from] KnowledgeError),
}

/// What became of one change.
enum Outcome {
    Applied,
    /// Already as the change says (a replay after a restart).
    Unchanged,
    /// Not applicable as written; the reason.
    Skipped(String),
}

impl KnowledgeSync {
    /// Follows the log every [`FOLLOW_EVERY`] until `stop_rx` says stop.
    pub async fn follow(self: std::sync::Arc<Self>, mut stop_rx: watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval(FOLLOW_EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = stop_rx.wait_for(|stop| *stop) => return,
            }
            if let Err(error) = self.catch_up().await {
                tracing::warn!(%error, "following the knowledge log failed; trying again shortly");
            }
        }
    }

    /// Applies every change the other nodes made since the last call; how many changed
    /// something here.
    pub async fn catch_up(&self) -> Result<usize, FollowError> {
        let mut position = self.turn.lock().await;
        self.apply_pending(&mut position).await
    }

    /// [`catch_up`](Self::catch_up) with the turn already held.
    pub(super) async fn apply_pending(&self, position: &mut i64) -> Result<usize, FollowError> {
        let mut pending: Vec<KnowledgeChange> = Vec::new();
        let mut after = *position;
        loop {
            let page = self.store.knowledge_changes_after(after, MAX_PAGE).await?;
            let full = page.len() == MAX_PAGE as usize;
            match page.last() {
                Some(last) => after = last.seq,
                None => break,
            }
            pending.extend(page);
            if !full {
                break;
            }
        }
        if pending.is_empty() {
            return Ok(0);
        }
        let latest = latest_of_others(pending, &self.origin);
        let knowledge = self.knowledge.clone();
        let applied = blocking(move || {
            let applied = apply_all(&knowledge, &latest)?;
            knowledge.set_log_position(after)?;
            Ok(applied)
        })
        .await?;
        *position = after;
        if applied > 0 {
            tracing::info!(
                applied,
                position = after,
                "knowledge changes of other nodes applied"
            );
        }
        Ok(applied)
    }
}

/// The last change of each document, in log order, leaving out documents whose last change
/// is this node's own (this node applied it before appending it, and nothing came after).
fn latest_of_others(changes: Vec<KnowledgeChange>, origin: &str) -> Vec<KnowledgeChange> {
    let mut last_of: HashMap<(&'static str, String), usize> = HashMap::new();
    for (index, change) in changes.iter().enumerate() {
        last_of.insert((change.kind.tag(), change.doc_id.clone()), index);
    }
    let mut keep: Vec<usize> = last_of.into_values().collect();
    keep.sort_unstable();
    let mut slots: Vec<Option<KnowledgeChange>> = changes.into_iter().map(Some).collect();
    keep.into_iter()
        .filter_map(|index| slots[index].take())
        .filter(|change| change.origin != origin)
        .collect()
}

/// Applies `changes` in order; how many changed something.
fn apply_all(
    knowledge: &KnowledgeBase,
    changes: &[KnowledgeChange],
) -> Result<usize, KnowledgeError> {
    let mut applied = 0;
    for change in changes {
        match apply(knowledge, change)? {
            Outcome::Applied => applied += 1,
            Outcome::Unchanged => {}
            Outcome::Skipped(reason) => tracing::warn!(
                seq = change.seq,
                kind = change.kind.tag(),
                id = %change.doc_id,
                origin = %change.origin,
                %reason,
                "knowledge change skipped"
            ),
        }
    }
    Ok(applied)
}

/// Applies one change as the API would have on this node.
fn apply(knowledge: &KnowledgeBase, change: &KnowledgeChange) -> Result<Outcome, KnowledgeError> {
    match change.op {
        KnowledgeOp::Delete => match knowledge.delete(change.kind, &change.doc_id) {
            Ok(_) => Ok(Outcome::Applied),
            Err(KnowledgeError::UnknownId(_)) => Ok(Outcome::Unchanged),
            Err(KnowledgeError::Invalid(reason) | KnowledgeError::Corrupt(reason)) => {
                Ok(Outcome::Skipped(reason))
            }
            Err(error) => Err(error),
        },
        KnowledgeOp::Upsert => {
            let document: Document = match serde_json::from_str(&change.body) {
                Ok(document) => document,
                Err(error) => {
                    return Ok(Outcome::Skipped(format!(
                        "the body is not a document: {error}"
                    )));
                }
            };
            if document.kind() != change.kind || document.id() != change.doc_id {
                return Ok(Outcome::Skipped(format!(
                    "the body is {} {:?}, not the row's document",
                    document.kind().tag(),
                    document.id()
                )));
            }
            let document = portable(&document);
            let current = knowledge.get(change.kind, &change.doc_id)?;
            if current.as_ref().map(portable).as_ref() == Some(&document) {
                return Ok(Outcome::Unchanged);
            }
            match knowledge.upsert(document) {
                Ok(_) => Ok(Outcome::Applied),
                Err(KnowledgeError::Invalid(reason) | KnowledgeError::Corrupt(reason)) => {
                    Ok(Outcome::Skipped(reason))
                }
                Err(error) => Err(error),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::DocKind;

    fn change(seq: i64, origin: &str, id: &str, op: KnowledgeOp) -> KnowledgeChange {
        KnowledgeChange {
            seq,
            at_ms: 0,
            origin: origin.to_string(),
            kind: DocKind::Article,
            doc_id: id.to_string(),
            op,
            body: String::new(),
        }
    }

    #[test]
    fn the_last_change_of_each_document_wins_and_own_last_changes_are_left_out() {
        let changes = vec![
            change(1, "b", "x", KnowledgeOp::Upsert),
            change(2, "me", "x", KnowledgeOp::Upsert),
            change(3, "me", "y", KnowledgeOp::Upsert),
            change(4, "b", "y", KnowledgeOp::Delete),
            change(5, "b", "z", KnowledgeOp::Upsert),
        ];
        let kept: Vec<(i64, String)> = latest_of_others(changes, "me")
            .into_iter()
            .map(|change| (change.seq, change.doc_id))
            .collect();
        // x: this node's own write came last and stands; y: the other node's delete came
        // after this node's write, so it applies here too.
        assert_eq!(kept, vec![(4, "y".to_string()), (5, "z".to_string())]);
    }
}
