//! The knowledge change log's records: every article or activity written or deleted through
//! one node, in the order the store accepted them, so the other nodes sharing the store can
//! apply the same changes to their own sources and index. This module owns the record types,
//! their validation and their text forms; `sqlite::knowledge_log` and
//! `postgres::knowledge_log` own the SQL.
//!
//! Sequence numbers grow in commit order on both backends (SQLite has one writer at a time;
//! PostgreSQL takes them from a locked counter row), so a reader that remembers the last one
//! it read never skips a change committed later with a smaller number.

use super::{StoreError, check_id};
use crate::knowledge::DocKind;

/// What a change did to its document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnowledgeOp {
    /// Created or replaced; the body is the document as JSON.
    Upsert,
    /// Deleted; the body is empty.
    Delete,
}

impl KnowledgeOp {
    pub fn as_str(self) -> &'static str {
        match self {
            KnowledgeOp::Upsert => "upsert",
            KnowledgeOp::Delete => "delete",
        }
    }
}

/// Input of [`Store::append_knowledge_changes`](super::Store::append_knowledge_changes).
#[derive(Debug, Clone, PartialEq)]
pub struct NewKnowledgeChange {
    /// The node that made the change (its followers skip their own).
    pub origin: String,
    pub kind: DocKind,
    pub doc_id: String,
    pub op: KnowledgeOp,
    /// The document as written (JSON) for an upsert; empty for a delete.
    pub body: String,
}

/// One stored change.
#[derive(Debug, Clone, PartialEq)]
pub struct KnowledgeChange {
    pub seq: i64,
    /// When the store accepted it (unix milliseconds).
    pub at_ms: i64,
    pub origin: String,
    pub kind: DocKind,
    pub doc_id: String,
    pub op: KnowledgeOp,
    pub body: String,
}

/// Refuses an empty batch, a blank or oversized origin or document id, and an upsert whose
/// body is not a JSON object. What the body holds beyond that is the reader's business.
pub(crate) fn check_knowledge_changes(changes: &[NewKnowledgeChange]) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Err(StoreError::InvalidInput(
            "a knowledge change batch must hold at least one change".into(),
        ));
    }
    for change in changes {
        check_id("knowledge change origin", &change.origin)?;
        check_id("document id", &change.doc_id)?;
        if change.op == KnowledgeOp::Upsert
            && !serde_json::from_str::<serde_json::Value>(&change.body)
                .is_ok_and(|value| value.is_object())
        {
            return Err(StoreError::InvalidInput(
                "an upserted document must be a JSON object".into(),
            ));
        }
    }
    Ok(())
}

/// Decodes a stored kind.
pub(crate) fn decode_kind(text: &str) -> Result<DocKind, StoreError> {
    match text {
        "article" => Ok(DocKind::Article),
        "activity" => Ok(DocKind::Activity),
        other => Err(StoreError::Corrupt(format!(
            "unknown knowledge change kind {other:?}"
        ))),
    }
}

/// Decodes a stored operation.
pub(crate) fn decode_op(text: &str) -> Result<KnowledgeOp, StoreError> {
    match text {
        "upsert" => Ok(KnowledgeOp::Upsert),
        "delete" => Ok(KnowledgeOp::Delete),
        other => Err(StoreError::Corrupt(format!(
            "unknown knowledge change operation {other:?}"
        ))),
    }
}
