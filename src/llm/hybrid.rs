//! Hybrid retrieval for live search: the lexical ranking fused (reciprocal-rank fusion) with
//! the documents nearest to the query's embedding. This module owns the vectors a serving
//! process searches (loaded from `embeddings.json`, kept in step with the served documents:
//! only new or changed ones are sent to the endpoint) and the search that uses them.
//!
//! The lexical search runs at once, beside the embedding call; the call has the hybrid
//! budget, and on a timeout, an error, malformed output or an open breaker the lexical
//! ranking is returned unchanged. Only documents the caller may read are fused in: the
//! nearest are taken among the visible ones, and each one the lexical search did not bring
//! is read from the index and checked again before it is returned.

use super::embed::{self, EmbedError, EmbeddingStore, SyncReport, fuse};
use super::{Llm, LlmError};
use crate::knowledge::{
    DocKind, Document, Hit, KnowledgeBase, KnowledgeError, SearchRequest, Visibility,
};
use crate::lang::Language;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// After a failed sync, how long before the next attempt (the breaker protects the live
/// calls meanwhile; this keeps a dead endpoint from being asked every refresh tick).
const RETRY_SYNC_AFTER: Duration = Duration::from_secs(30);

/// The vectors searched, and what the documents looked like when they were taken.
#[derive(Debug, Default)]
struct Vectors {
    store: EmbeddingStore,
    /// Who may read each document, by store key, as of the last sync.
    visibility: HashMap<String, Visibility>,
}

/// Where the vectors stand against the served documents.
#[derive(Debug, Default)]
struct SyncState {
    /// The knowledge base version the vectors match.
    synced_version: Option<u64>,
    failed_at: Option<Instant>,
}

/// Hybrid search over one knowledge base with one embedding model.
pub struct Hybrid {
    llm: Arc<Llm>,
    knowledge: Arc<KnowledgeBase>,
    vectors: RwLock<Arc<Vectors>>,
    sync_state: Mutex<SyncState>,
    /// One sync at a time.
    syncing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Hybrid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hybrid")
            .field("documents", &self.documents())
            .finish()
    }
}

impl Hybrid {
    /// A hybrid search when `llm` names an embedding model; `None` otherwise. Searches are
    /// lexical until the first [`Hybrid::sync`].
    pub fn new(llm: Arc<Llm>, knowledge: Arc<KnowledgeBase>) -> Option<Hybrid> {
        llm.config().embed_model.as_ref()?;
        Some(Hybrid {
            llm,
            knowledge,
            vectors: RwLock::new(Arc::new(Vectors::default())),
            sync_state: Mutex::new(SyncState::default()),
            syncing: tokio::sync::Mutex::new(()),
        })
    }

    /// How many documents have a vector now.
    pub fn documents(&self) -> usize {
        self.current().store.entries.len()
    }

    fn current(&self) -> Arc<Vectors> {
        self.vectors
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether the served documents changed since the vectors were last brought in line
    /// (and a failed attempt is not too recent).
    pub fn is_stale(&self) -> bool {
        let state = self.sync_state.lock().unwrap_or_else(|p| p.into_inner());
        state.synced_version != Some(self.knowledge.version())
            && state
                .failed_at
                .is_none_or(|failed| failed.elapsed() >= RETRY_SYNC_AFTER)
    }

    /// Brings the vectors in line with the served documents: loads `embeddings.json` the
    /// first time, embeds only what is new or changed, drops what is gone, and saves the
    /// file beside the index. What was embedded before a failure is kept (each vector
    /// matches its document's text); the rest is retried later.
    pub async fn sync(&self) -> Result<SyncReport, EmbedError> {
        let _one_at_a_time = self.syncing.lock().await;
        let version = self.knowledge.version();
        let model = self
            .llm
            .config()
            .embed_model
            .clone()
            .ok_or(LlmError::NoEmbeddingModel)?;
        let knowledge = self.knowledge.clone();
        let previous = self.current();
        let loaded = previous.store.model == model;
        let (documents, mut store) = tokio::task::spawn_blocking(move || {
            let generation = knowledge.generation();
            let mut documents = generation.all(DocKind::Article)?;
            documents.extend(generation.all(DocKind::Activity)?);
            let store = match (loaded, knowledge.root()) {
                (true, _) => previous.store.clone(),
                (false, Some(root)) => EmbeddingStore::load(&embed::store_path(root), &model)?,
                (false, None) => EmbeddingStore {
                    model,
                    ..Default::default()
                },
            };
            Ok::<_, KnowledgeError>((documents, store))
        })
        .await
        .map_err(|error| KnowledgeError::Invalid(error.to_string()))??;
        let result = store.sync(&self.llm, &documents).await;
        let visibility = documents
            .iter()
            .map(|document| {
                (
                    embed::key(document.kind(), document.id()),
                    document.visibility().clone(),
                )
            })
            .collect();
        let store = Arc::new(Vectors { store, visibility });
        *self.vectors.write().unwrap_or_else(|p| p.into_inner()) = store.clone();
        let saved = match (self.knowledge.root(), &result) {
            (Some(root), Ok(report)) if report.computed > 0 || report.removed > 0 => {
                let path = embed::store_path(root);
                tokio::task::spawn_blocking(move || store.store.save(&path))
                    .await
                    .map_err(|error| KnowledgeError::Invalid(error.to_string()))?
            }
            _ => Ok(()),
        };
        let mut state = self.sync_state.lock().unwrap_or_else(|p| p.into_inner());
        match (&result, &saved) {
            (Ok(_), Ok(())) => {
                state.synced_version = Some(version);
                state.failed_at = None;
            }
            _ => state.failed_at = Some(Instant::now()),
        }
        drop(state);
        saved?;
        Ok(result?)
    }

    /// [`Hybrid::sync`] when [`Hybrid::is_stale`]; failures are logged (search stays lexical
    /// for what has no vector).
    pub async fn sync_if_stale(&self) {
        if !self.is_stale() {
            return;
        }
        match self.sync().await {
            Ok(report) if report.computed > 0 || report.removed > 0 => tracing::info!(
                computed = report.computed,
                reused = report.reused,
                removed = report.removed,
                "embeddings brought up to date"
            ),
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "embeddings not updated; hybrid search uses what it has")
            }
        }
    }

    /// Ranked documents for `request`: the lexical ranking fused with the nearest visible
    /// documents by embedding, or the lexical ranking alone when the query's embedding does
    /// not come within the hybrid budget.
    pub async fn search(&self, request: SearchRequest) -> Result<Vec<Hit>, KnowledgeError> {
        let vectors = self.current();
        let knowledge = self.knowledge.clone();
        let lexical_request = request.clone();
        // Started at once: it runs while the query is embedded.
        let lexical = tokio::task::spawn_blocking(move || knowledge.search(&lexical_request));
        if vectors.store.entries.is_empty() {
            return join_error(lexical.await);
        }
        let budget = self.llm.config().hybrid_budget;
        let text: String = request
            .text
            .chars()
            .take(crate::knowledge::search::MAX_QUERY_CHARS)
            .collect();
        let (lexical, embedded) = tokio::join!(
            lexical,
            tokio::time::timeout(budget, self.llm.embed(vec![text]))
        );
        let hits = join_error(lexical)?;
        let query = match embedded {
            Ok(Ok(mut vectors)) if !vectors.is_empty() => vectors.swap_remove(0),
            Ok(Ok(_)) => return Ok(hits),
            Ok(Err(error)) => {
                tracing::info!(code = error.code(), %error, "hybrid search kept the lexical ranking");
                return Ok(hits);
            }
            Err(_) => {
                tracing::info!(
                    budget_ms = budget.as_millis() as u64,
                    "query embedding too slow; hybrid search kept the lexical ranking"
                );
                return Ok(hits);
            }
        };
        self.fused(&vectors, &request, &query, hits).await
    }

    async fn fused(
        &self,
        vectors: &Vectors,
        request: &SearchRequest,
        query: &[f32],
        hits: Vec<Hit>,
    ) -> Result<Vec<Hit>, KnowledgeError> {
        let wanted_kind = request.kind.map(|kind| format!("{}:", kind.tag()));
        let allowed = |key: &str| {
            wanted_kind
                .as_ref()
                .is_none_or(|prefix| key.starts_with(prefix))
                && vectors
                    .visibility
                    .get(key)
                    .is_some_and(|visibility| visibility.allows(&request.groups))
        };
        let nearest = vectors.store.nearest(query, request.limit, &allowed);
        let similarity: HashMap<&str, f32> = nearest
            .iter()
            .map(|(key, cosine)| (key.as_str(), *cosine))
            .collect();
        let lexical_keys: Vec<String> = hits
            .iter()
            .map(|hit| embed::key(hit.kind, &hit.id))
            .collect();
        let semantic_keys: Vec<String> = nearest.iter().map(|(key, _)| key.clone()).collect();
        let order: Vec<String> = fuse(&lexical_keys, &semantic_keys)
            .into_iter()
            .take(request.limit)
            .collect();
        let mut by_key: HashMap<String, Hit> = lexical_keys.into_iter().zip(hits).collect();
        // The documents only the embeddings brought: read from the index and checked again.
        let missing: Vec<String> = order
            .iter()
            .filter(|key| !by_key.contains_key(*key))
            .cloned()
            .collect();
        let knowledge = self.knowledge.clone();
        let groups = request.groups.clone();
        let language = request.language.unwrap_or(Language::En);
        let with_documents = request.with_documents;
        let found = if missing.is_empty() {
            Ok(Ok(Vec::new()))
        } else {
            tokio::task::spawn_blocking(move || {
                let mut found = Vec::new();
                for key in missing {
                    let Some((kind, id)) = split_key(&key) else {
                        continue;
                    };
                    let Some(document) = knowledge.get(kind, id)? else {
                        continue;
                    };
                    if !document.visibility().allows(&groups) {
                        continue;
                    }
                    found.push((key, semantic_hit(document, language, with_documents)));
                }
                Ok::<_, KnowledgeError>(found)
            })
            .await
        };
        by_key.extend(join_error(found)?);
        Ok(order
            .into_iter()
            .filter_map(|key| {
                let mut hit = by_key.remove(&key)?;
                hit.semantic = similarity.get(key.as_str()).copied();
                Some(hit)
            })
            .collect())
    }
}

fn join_error<T>(
    joined: Result<Result<T, KnowledgeError>, tokio::task::JoinError>,
) -> Result<T, KnowledgeError> {
    joined.map_err(|error| KnowledgeError::Invalid(format!("search task failed: {error}")))?
}

fn split_key(key: &str) -> Option<(DocKind, &str)> {
    let (tag, id) = key.split_once(':')?;
    let kind = match tag {
        "article" => DocKind::Article,
        "activity" => DocKind::Activity,
        _ => return None,
    };
    Some((kind, id))
}

/// A hit found by its embedding alone: no lexical score.
fn semantic_hit(document: Document, language: Language, with_document: bool) -> Hit {
    Hit {
        id: document.id().to_string(),
        kind: document.kind(),
        title: document.title(language).to_string(),
        score: 0.0,
        lexical: 0.0,
        title_similarity: 0.0,
        title_part: false,
        semantic: None,
        document: with_document.then_some(document),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_back_into_kind_and_id() {
        let key = embed::key(DocKind::Article, "vpn:setup.en");
        assert_eq!(split_key(&key), Some((DocKind::Article, "vpn:setup.en")));
        assert_eq!(split_key("other:x"), None);
    }
}
