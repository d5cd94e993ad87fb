//! Embeddings for hybrid retrieval: a vector per article (title, summary, opening of the
//! body) and per activity (its names and example phrases in every language), kept in
//! `embeddings.json` next to the index generations and keyed by document and a hash of the
//! embedded text, so a reindex asks the endpoint only for documents that changed. A query
//! is embedded at search time; its nearest documents the requester may read are fused with
//! the lexical ranking (reciprocal-rank fusion). Without an embedding model, or when the
//! endpoint fails, the lexical ranking is used as it is.

use super::{Llm, LlmError};
use crate::knowledge::{DocKind, Document, KnowledgeError};
use crate::lang::Language;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Texts per embeddings request.
pub const BATCH: usize = 32;
/// Characters of a document embedded.
const TEXT_CHARS: usize = 2_000;
/// Rank constant of reciprocal-rank fusion (the usual 60).
const RRF_K: f32 = 60.0;

/// The file of embeddings beside the index generations in `index_dir`.
pub fn store_path(index_dir: &Path) -> PathBuf {
    index_dir.join("embeddings.json")
}

/// One document's vector and the hash of the text it was computed from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    pub hash: String,
    pub vector: Vec<f32>,
}

/// Every document's embedding, for one model.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EmbeddingStore {
    pub model: String,
    /// By [`key`] of the document.
    pub entries: BTreeMap<String, Entry>,
}

/// What a [`EmbeddingStore::sync`] did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SyncReport {
    /// Documents whose text was new or changed, embedded now.
    pub computed: usize,
    /// Documents whose stored vector still fits their text.
    pub reused: usize,
    /// Stored vectors of documents that are gone.
    pub removed: usize,
}

/// The store key of a document: `article:<id>` or `activity:<id>`.
pub fn key(kind: DocKind, id: &str) -> String {
    format!("{}:{id}", kind.tag())
}

/// The text embedded for a document.
pub fn document_text(document: &Document) -> String {
    let text = match document {
        Document::Article(article) => {
            format!("{}\n{}\n{}", article.title, article.summary, article.body)
        }
        Document::Activity(activity) => {
            let mut parts = Vec::new();
            for language in Language::ALL {
                parts.extend(activity.name.get(language).cloned());
                parts.extend(activity.description.get(language).cloned());
                parts.extend(
                    activity
                        .examples
                        .get(language)
                        .into_iter()
                        .flatten()
                        .cloned(),
                );
            }
            parts.join("\n")
        }
    };
    text.chars().take(TEXT_CHARS).collect()
}

fn hash(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

impl EmbeddingStore {
    /// The stored embeddings for `model`; empty when there are none or they are another
    /// model's (its vectors do not compare with this one's).
    pub fn load(path: &Path, model: &str) -> Result<EmbeddingStore, KnowledgeError> {
        let empty = EmbeddingStore {
            model: model.to_string(),
            entries: BTreeMap::new(),
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(empty),
            Err(error) => return Err(KnowledgeError::io(path, error)),
        };
        match serde_json::from_str::<EmbeddingStore>(&text) {
            Ok(store) if store.model == model => Ok(store),
            Ok(_) => Ok(empty),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "unreadable embeddings recomputed");
                Ok(empty)
            }
        }
    }

    /// Writes the store atomically (a temporary file renamed over the old one).
    pub fn save(&self, path: &Path) -> Result<(), KnowledgeError> {
        let json =
            serde_json::to_vec(self).map_err(|error| KnowledgeError::Corrupt(error.to_string()))?;
        let temporary = path.with_extension("json.tmp");
        std::fs::write(&temporary, json).map_err(|error| KnowledgeError::io(&temporary, error))?;
        std::fs::rename(&temporary, path).map_err(|error| KnowledgeError::io(path, error))
    }

    /// Brings the store in line with `documents`: embeds only the new or changed ones,
    /// drops the vectors of documents that are gone.
    pub async fn sync(
        &mut self,
        llm: &Llm,
        documents: &[Document],
    ) -> Result<SyncReport, LlmError> {
        let mut report = SyncReport::default();
        let mut wanted: HashMap<String, String> = HashMap::new();
        let mut missing: Vec<(String, String, String)> = Vec::new();
        for document in documents {
            let key = key(document.kind(), document.id());
            let text = document_text(document);
            let digest = hash(&text);
            match self.entries.get(&key) {
                Some(entry) if entry.hash == digest => report.reused += 1,
                _ => missing.push((key.clone(), digest.clone(), text)),
            }
            wanted.insert(key, digest);
        }
        let before = self.entries.len();
        self.entries.retain(|key, _| wanted.contains_key(key));
        report.removed = before - self.entries.len();
        for batch in missing.chunks(BATCH) {
            let texts = batch.iter().map(|(_, _, text)| text.clone()).collect();
            let vectors = llm.embed(texts).await?;
            for ((key, digest, _), vector) in batch.iter().zip(vectors) {
                self.entries.insert(
                    key.clone(),
                    Entry {
                        hash: digest.clone(),
                        vector: normalised(vector),
                    },
                );
                report.computed += 1;
            }
        }
        Ok(report)
    }

    /// The `limit` stored documents nearest to `query` (cosine) among those `allowed`
    /// accepts (by key), nearest first.
    pub fn nearest(
        &self,
        query: &[f32],
        limit: usize,
        allowed: &dyn Fn(&str) -> bool,
    ) -> Vec<(String, f32)> {
        let query = normalised(query.to_vec());
        let mut scored: Vec<(String, f32)> = self
            .entries
            .iter()
            .filter(|(_, entry)| entry.vector.len() == query.len())
            .filter(|(key, _)| allowed(key))
            .map(|(key, entry)| (key.clone(), dot(&query, &entry.vector)))
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored.truncate(limit);
        scored
    }
}

/// Why the stored embeddings could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error(transparent)]
    Knowledge(#[from] KnowledgeError),
}

/// Brings `embeddings.json` in `index_dir` up to date with `documents` (after a reindex):
/// only new or changed documents are sent to the endpoint. On failure the file keeps what
/// it had.
pub async fn refresh(
    llm: &Llm,
    index_dir: &Path,
    documents: &[Document],
) -> Result<SyncReport, EmbedError> {
    let model = llm
        .config()
        .embed_model
        .clone()
        .ok_or(LlmError::NoEmbeddingModel)?;
    let path = store_path(index_dir);
    let mut store = EmbeddingStore::load(&path, &model)?;
    let report = store.sync(llm, documents).await?;
    store.save(&path)?;
    Ok(report)
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn normalised(mut vector: Vec<f32>) -> Vec<f32> {
    let norm = dot(&vector, &vector).sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|value| *value /= norm);
    }
    vector
}

/// Reciprocal-rank fusion of two rankings of ids: each id scores `1/(60 + rank)` in each
/// list it is in; the highest total first.
pub fn fuse(lexical: &[String], semantic: &[String]) -> Vec<String> {
    let mut scores: HashMap<&str, f32> = HashMap::new();
    for list in [lexical, semantic] {
        for (rank, id) in list.iter().enumerate() {
            *scores.entry(id.as_str()).or_default() += 1.0 / (RRF_K + rank as f32 + 1.0);
        }
    }
    let mut fused: Vec<(&str, f32)> = scores.into_iter().collect();
    // Ties keep the lexical order.
    let lexical_rank = |id: &str| lexical.iter().position(|other| other == id);
    fused.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then_with(|| lexical_rank(a.0).cmp(&lexical_rank(b.0)))
    });
    fused.into_iter().map(|(id, _)| id.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fusion_rewards_agreement() {
        let lexical = ["a", "b", "c"].map(String::from);
        let semantic = ["b", "d", "a"].map(String::from);
        assert_eq!(fuse(&lexical, &semantic), ["b", "a", "d", "c"]);
    }

    #[test]
    fn nearest_respects_the_filter() {
        let mut store = EmbeddingStore::default();
        for (key, vector) in [("article:a", vec![1.0, 0.0]), ("article:b", vec![0.9, 0.1])] {
            store.entries.insert(
                key.to_string(),
                Entry {
                    hash: String::new(),
                    vector: normalised(vector),
                },
            );
        }
        let near = store.nearest(&[1.0, 0.0], 5, &|key| key != "article:a");
        assert_eq!(near.len(), 1);
        assert_eq!(near[0].0, "article:b");
    }
}
