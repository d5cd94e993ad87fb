//! `--llm` on `ponte eval retrieval` and `ponte eval intents`: the same measurements with
//! the configured language model in the loop, exactly as the assistant uses it (the same
//! prompts, budgets and breaker), so an operator sees what a real endpoint adds in
//! quality and costs in latency. It also counts the calls and why any failed: a failed
//! call keeps the lexical result, as in production.

use crate::eval::retrieval::{self, QueryRow, RetrievalReport};
use crate::intent::{IntentError, IntentReport, LabeledRow, Review, TrainOptions};
use crate::knowledge::search::{Hit, SearchRequest};
use crate::knowledge::{DocKind, Document, KnowledgeError};
use crate::lang::Language;
use crate::llm::embed::{EmbeddingStore, SyncReport, fuse};
use crate::llm::rerank::choose_among;
use crate::llm::{Llm, LlmError};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Lexical hits this close to the first (score ratio) make a query worth re-ranking.
const CLOSE_SCORE_RATIO: f32 = 0.9;
/// Hits offered to the re-ranker.
const RERANK_TOP: usize = 5;

/// How the language model was used during an evaluation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LlmUsage {
    /// Chat calls made (re-ranking).
    pub rerank_calls: usize,
    /// Of those, how many changed the lexical answer.
    pub changed: usize,
    /// Query embeddings requested.
    pub embed_calls: usize,
    /// Failed calls by error code (the lexical result stood).
    pub failures: BTreeMap<String, usize>,
    /// Document embeddings computed up front.
    pub documents_embedded: Option<SyncReport>,
}

impl LlmUsage {
    fn failed(&mut self, error: &LlmError) {
        *self.failures.entry(error.code().to_string()).or_default() += 1;
    }

    /// One line for the text report.
    pub fn render(&self) -> String {
        format!(
            "language model: {} re-ranking calls ({} changed the answer), {} query embeddings, failures {:?}{}\n",
            self.rerank_calls,
            self.changed,
            self.embed_calls,
            self.failures,
            self.documents_embedded
                .as_ref()
                .map(|sync| format!(", {} documents embedded", sync.computed))
                .unwrap_or_default()
        )
    }
}

/// A runtime for the evaluations, which are otherwise synchronous.
fn runtime() -> Result<tokio::runtime::Runtime, std::io::Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// `ponte eval retrieval --llm`: lexical search, fused with the nearest articles by
/// embedding when an embedding model is configured, then a re-ranking call on queries whose
/// first hits are close.
pub fn evaluate_retrieval(
    llm: Arc<Llm>,
    documents: &[Document],
    queries: &[QueryRow],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(RetrievalReport, LlmUsage), KnowledgeError> {
    let runtime = runtime().map_err(|error| KnowledgeError::io("tokio runtime", error))?;
    let mut usage = LlmUsage::default();
    let embeddings = match &llm.config().embed_model {
        Some(model) => {
            let mut store = EmbeddingStore {
                model: model.clone(),
                ..Default::default()
            };
            match runtime.block_on(store.sync(&llm, documents)) {
                Ok(report) => {
                    usage.documents_embedded = Some(report);
                    Some(store)
                }
                Err(error) => {
                    usage.failed(&error);
                    tracing::warn!(%error, "document embeddings failed; lexical ranking only");
                    None
                }
            }
        }
        None => None,
    };
    let by_id: HashMap<&str, &Document> = documents
        .iter()
        .map(|document| (document.id(), document))
        .collect();
    let report = retrieval::evaluate_ranked(documents, queries, progress, &mut |request, hits| {
        runtime.block_on(rerank_hits(
            &llm,
            embeddings.as_ref(),
            &by_id,
            request,
            hits,
            &mut usage,
        ))
    })?;
    Ok((report, usage))
}

async fn rerank_hits(
    llm: &Llm,
    embeddings: Option<&EmbeddingStore>,
    by_id: &HashMap<&str, &Document>,
    request: &SearchRequest,
    mut hits: Vec<Hit>,
    usage: &mut LlmUsage,
) -> Vec<Hit> {
    if let Some(store) = embeddings {
        usage.embed_calls += 1;
        let budget = llm.config().rerank_budget;
        let embedded = tokio::time::timeout(budget, llm.embed(vec![request.text.clone()]))
            .await
            .unwrap_or(Err(LlmError::Timeout(budget)));
        match embedded {
            Ok(vectors) => {
                let allowed = |stored: &str| {
                    stored.starts_with("article:")
                        && stored
                            .strip_prefix("article:")
                            .and_then(|id| by_id.get(id))
                            .is_some_and(|document| document.visibility().allows(&request.groups))
                };
                let near: Vec<String> = store
                    .nearest(&vectors[0], request.limit, &allowed)
                    .into_iter()
                    .filter_map(|(stored, _)| stored.strip_prefix("article:").map(str::to_string))
                    .collect();
                let lexical: Vec<String> = hits.iter().map(|hit| hit.id.clone()).collect();
                hits = fuse(&lexical, &near)
                    .into_iter()
                    .take(request.limit)
                    .filter_map(|id| {
                        hits.iter().find(|hit| hit.id == id).cloned().or_else(|| {
                            by_id.get(id.as_str()).map(|document| Hit {
                                id: id.clone(),
                                kind: DocKind::Article,
                                title: document.title(Language::En).to_string(),
                                score: 0.0,
                                lexical: 0.0,
                                title_similarity: 0.0,
                                title_part: false,
                                semantic: None,
                                document: None,
                            })
                        })
                    })
                    .collect();
            }
            Err(error) => usage.failed(&error),
        }
    }
    let close = hits.len() > 1 && hits[1].score >= hits[0].score * CLOSE_SCORE_RATIO;
    if !close {
        return hits;
    }
    let top = hits.len().min(RERANK_TOP);
    let options: Vec<String> = hits[..top]
        .iter()
        .map(|hit| match by_id.get(hit.id.as_str()) {
            Some(Document::Article(article)) => {
                let summary: String = article.summary.chars().take(200).collect();
                format!("knowledge article: {} ({summary})", article.title)
            }
            _ => format!("knowledge article: {}", hit.title),
        })
        .collect();
    usage.rerank_calls += 1;
    let language = request.language.unwrap_or(Language::En);
    match choose_among(llm, &request.text, language, &options).await {
        Ok(Some(index)) if index > 0 => {
            usage.changed += 1;
            let chosen = hits.remove(index);
            hits.insert(0, chosen);
        }
        Ok(_) => {}
        Err(error) => usage.failed(&error),
    }
    hits
}

/// The `--llm` reviewer of `ponte eval intents`: the model picks among the classifier's
/// best labels, or says none fits.
struct LlmReview<'a> {
    llm: &'a Llm,
    runtime: &'a tokio::runtime::Runtime,
    usage: &'a mut LlmUsage,
}

impl Review for LlmReview<'_> {
    fn review(&mut self, text: &str, labels: &[(String, f32)]) -> Option<Option<String>> {
        if labels.is_empty() {
            return None;
        }
        let options: Vec<String> = labels
            .iter()
            .map(|(label, _)| format!("intent: {}", label.replace(['_', '-'], " ")))
            .collect();
        let language = Language::detect(text).unwrap_or(Language::En);
        self.usage.rerank_calls += 1;
        match self
            .runtime
            .block_on(choose_among(self.llm, text, language, &options))
        {
            Ok(Some(index)) => {
                if index > 0 {
                    self.usage.changed += 1;
                }
                Some(Some(labels[index].0.clone()))
            }
            Ok(None) => {
                self.usage.changed += 1;
                Some(None)
            }
            Err(error) => {
                self.usage.failed(&error);
                None
            }
        }
    }
}

/// `ponte eval intents --llm`: the classifier's hesitant rows (validation and test) are
/// re-ranked by the model.
pub fn evaluate_intents(
    llm: Arc<Llm>,
    train: &[LabeledRow],
    val: &[LabeledRow],
    test: &[LabeledRow],
    oos_train: bool,
    progress: &mut dyn FnMut(&str),
) -> Result<(IntentReport, LlmUsage), IntentError> {
    let runtime = runtime().map_err(|source| IntentError::Io {
        path: "tokio runtime".into(),
        source,
    })?;
    let mut usage = LlmUsage::default();
    let mut review = LlmReview {
        llm: &llm,
        runtime: &runtime,
        usage: &mut usage,
    };
    let report = crate::intent::evaluate_reviewed(
        train,
        val,
        test,
        oos_train,
        &TrainOptions::default(),
        progress,
        Some(&mut review),
    )?;
    Ok((report, usage))
}

/// [`evaluate_retrieval`] on the JSONL files of `ponte eval retrieval`.
pub fn evaluate_retrieval_files(
    llm: Arc<Llm>,
    articles_path: &std::path::Path,
    queries_path: &std::path::Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(RetrievalReport, LlmUsage), KnowledgeError> {
    let (articles, skipped_rows) = crate::knowledge::ingest::read_jsonl_articles(articles_path)?;
    if articles.is_empty() {
        return Err(KnowledgeError::EmptyCorpus {
            skipped: skipped_rows.len(),
        });
    }
    let queries = retrieval::read_queries(queries_path)?;
    let documents: Vec<Document> = articles.into_iter().map(Document::Article).collect();
    let (mut report, usage) = evaluate_retrieval(llm, &documents, &queries, progress)?;
    report.skipped_rows = skipped_rows;
    Ok((report, usage))
}
