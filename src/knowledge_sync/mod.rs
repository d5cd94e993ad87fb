//! Knowledge kept in step across the nodes that share one store. Every node keeps its own
//! source files and its own tantivy index; what a node changes through the API (a document
//! written or deleted, or the documents a reindex found changed in its files) it first applies
//! to its own sources and index, as a single node does, and then appends to the store's
//! knowledge change log. Every node follows that log about once a second (`follow`) and
//! applies the other nodes' changes to its own sources and index the way the API would, so a
//! later full rebuild on any node keeps them. The position a node has applied is kept in its
//! index directory: a restarted node goes on from there and gets every change made while it
//! was down.
//!
//! One lock per node, the turn, orders its use of the log: a local write holds it from its
//! change to its append, the follower from its read to its last apply, a reindex throughout.
//! So when the follower reads a batch, every change this node made is either already in it or
//! made after it was applied, and the last change of a document in log order wins on every node.

mod follow;

pub use follow::{FOLLOW_EVERY, FollowError};

use crate::knowledge::index::{Progress, ReindexReport};
use crate::knowledge::{DocKind, Document, KnowledgeBase, KnowledgeError};
use crate::store::{KnowledgeOp, NewKnowledgeChange, Store};
use std::collections::BTreeMap;
use std::sync::Arc;

/// This node's side of the shared knowledge: its writes announced, the others' applied.
pub struct KnowledgeSync {
    store: Arc<dyn Store>,
    knowledge: Arc<KnowledgeBase>,
    /// Who this process is in the log: its follower skips its own changes.
    origin: String,
    /// The turn (see the module documentation), holding the last log position applied.
    turn: tokio::sync::Mutex<i64>,
}

impl KnowledgeSync {
    /// Shares `knowledge`'s changes through `store`, going on from the log position its data
    /// directory recorded (the beginning when there is none).
    pub fn new(
        store: Arc<dyn Store>,
        knowledge: Arc<KnowledgeBase>,
    ) -> Result<KnowledgeSync, KnowledgeError> {
        let position = knowledge.log_position()?;
        Ok(KnowledgeSync {
            store,
            knowledge,
            origin: crate::orchestrator::new_id(),
            turn: tokio::sync::Mutex::new(position),
        })
    }

    /// This node's name in the change log.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Writes `document` here and announces it; whether it replaced one, and what was stored.
    pub async fn upsert(&self, document: Document) -> Result<(bool, Document), KnowledgeError> {
        let _turn = self.turn.lock().await;
        let knowledge = self.knowledge.clone();
        let (existed, stored) = blocking(move || {
            let existed = knowledge.get(document.kind(), document.id())?.is_some();
            knowledge.upsert(document).map(|stored| (existed, stored))
        })
        .await?;
        self.announce(vec![upserted(&self.origin, &stored)?])
            .await?;
        Ok((existed, stored))
    }

    /// Deletes a document here and announces it; the deleted document.
    pub async fn delete(&self, kind: DocKind, id: &str) -> Result<Document, KnowledgeError> {
        let _turn = self.turn.lock().await;
        let knowledge = self.knowledge.clone();
        let lookup = id.to_string();
        let deleted = blocking(move || knowledge.delete(kind, &lookup)).await?;
        self.announce(vec![deleted_change(&self.origin, kind, id)])
            .await?;
        Ok(deleted)
    }

    /// A full rebuild from this node's sources, then every document it added, changed or
    /// removed announced (blocking: run it on a blocking thread of the runtime). The other
    /// nodes' pending changes are applied first, so what the rebuild finds changed is what
    /// changed in this node's files.
    pub fn rebuild_and_announce(
        &self,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ReindexReport, KnowledgeError> {
        let runtime = tokio::runtime::Handle::current();
        let mut position = self.turn.blocking_lock();
        if let Err(error) = runtime.block_on(self.apply_pending(&mut position)) {
            tracing::warn!(%error, "could not apply the other nodes' knowledge changes before a reindex");
        }
        let before = documents(&self.knowledge)?;
        let report = self.knowledge.rebuild(progress)?;
        let after = documents(&self.knowledge)?;
        let changes = differences(&self.origin, &before, &after)?;
        if !changes.is_empty() {
            let count = changes.len();
            runtime.block_on(self.announce(changes))?;
            tracing::info!(
                changes = count,
                "knowledge changes of a reindex shared with the other nodes"
            );
        }
        Ok(report)
    }

    /// Appends `changes` to the log; a failure leaves them applied here only, and says so.
    async fn announce(&self, changes: Vec<NewKnowledgeChange>) -> Result<(), KnowledgeError> {
        match self.store.append_knowledge_changes(changes).await {
            Ok(_) => Ok(()),
            Err(error) => {
                tracing::warn!(%error, "a knowledge change could not be shared with the other nodes");
                Err(KnowledgeError::NotShared(error.to_string()))
            }
        }
    }
}

/// Runs blocking knowledge work off the async threads; a panic there stays a panic.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, KnowledgeError> + Send + 'static,
) -> Result<T, KnowledgeError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => Err(KnowledgeError::io(
            "knowledge task",
            std::io::Error::other(error.to_string()),
        )),
    }
}

/// A document as the log carries it: where its file lives is each node's own business.
fn portable(document: &Document) -> Document {
    let mut document = document.clone();
    match &mut document {
        Document::Article(article) => article.source_path = None,
        Document::Activity(activity) => activity.source_path = None,
    }
    document
}

fn upserted(origin: &str, document: &Document) -> Result<NewKnowledgeChange, KnowledgeError> {
    let body = serde_json::to_string(&portable(document))
        .map_err(|error| KnowledgeError::Corrupt(error.to_string()))?;
    Ok(NewKnowledgeChange {
        origin: origin.to_string(),
        kind: document.kind(),
        doc_id: document.id().to_string(),
        op: KnowledgeOp::Upsert,
        body,
    })
}

fn deleted_change(origin: &str, kind: DocKind, id: &str) -> NewKnowledgeChange {
    NewKnowledgeChange {
        origin: origin.to_string(),
        kind,
        doc_id: id.to_string(),
        op: KnowledgeOp::Delete,
        body: String::new(),
    }
}

type Documents = BTreeMap<(&'static str, String), Document>;

/// Every document served now, by kind and id, without file locations.
fn documents(knowledge: &KnowledgeBase) -> Result<Documents, KnowledgeError> {
    let generation = knowledge.generation();
    let mut all = BTreeMap::new();
    for kind in [DocKind::Article, DocKind::Activity] {
        for document in generation.all(kind)? {
            all.insert((kind.tag(), document.id().to_string()), portable(&document));
        }
    }
    Ok(all)
}

/// What turns `before` into `after`: the documents added or changed, then those removed.
fn differences(
    origin: &str,
    before: &Documents,
    after: &Documents,
) -> Result<Vec<NewKnowledgeChange>, KnowledgeError> {
    let mut changes = Vec::new();
    for (key, document) in after {
        if before.get(key) != Some(document) {
            changes.push(upserted(origin, document)?);
        }
    }
    for (key, document) in before {
        if !after.contains_key(key) {
            changes.push(deleted_change(origin, document.kind(), &key.1));
        }
    }
    Ok(changes)
}
