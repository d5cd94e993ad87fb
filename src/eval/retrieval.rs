//! `ponte eval retrieval`: hit@1, hit@5 and MRR@10 of the knowledge search over a JSONL
//! article dump and a JSONL query set, overall, per language and per query kind, with the
//! latency of each query (search and re-ranking, measured in-process).

use super::quantile;
use crate::knowledge::index::Generation;
use crate::knowledge::ingest::{IngestError, read_jsonl_articles};
use crate::knowledge::search::{Hit, SearchRequest, search};
use crate::knowledge::{DocKind, Document, KnowledgeError};
use crate::lang::Language;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// One labelled query.
#[derive(Debug, Clone, Deserialize)]
pub struct QueryRow {
    pub query: String,
    pub expected_id: String,
    #[serde(default)]
    pub acceptable_ids: Vec<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
}

impl QueryRow {
    fn is_hit(&self, id: &str) -> bool {
        id == self.expected_id || self.acceptable_ids.iter().any(|ok| ok == id)
    }
}

/// Metrics over a set of queries.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Metrics {
    pub queries: usize,
    pub hit_at_1: f64,
    pub hit_at_5: f64,
    pub mrr_at_10: f64,
}

#[derive(Debug, Default, Clone)]
struct Tally {
    queries: usize,
    hits_1: usize,
    hits_5: usize,
    reciprocal: f64,
}

impl Tally {
    fn add(&mut self, rank: Option<usize>) {
        self.queries += 1;
        if let Some(rank) = rank {
            if rank == 1 {
                self.hits_1 += 1;
            }
            if rank <= 5 {
                self.hits_5 += 1;
            }
            if rank <= 10 {
                self.reciprocal += 1.0 / rank as f64;
            }
        }
    }

    fn metrics(&self) -> Metrics {
        let n = self.queries.max(1) as f64;
        Metrics {
            queries: self.queries,
            hit_at_1: self.hits_1 as f64 / n,
            hit_at_5: self.hits_5 as f64 / n,
            mrr_at_10: self.reciprocal / n,
        }
    }
}

/// The outcome of a retrieval evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct RetrievalReport {
    pub articles: usize,
    pub overall: Metrics,
    pub per_language: BTreeMap<String, Metrics>,
    pub per_kind: BTreeMap<String, Metrics>,
    pub p50_us: u64,
    pub p99_us: u64,
    pub skipped_rows: Vec<IngestError>,
    /// Up to 20 queries whose expected article was not ranked first.
    pub misses: Vec<Miss>,
}

/// A query whose expected article was not first.
#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    pub query: String,
    pub kind: String,
    pub expected_id: String,
    pub got_id: Option<String>,
    pub rank: Option<usize>,
}

impl RetrievalReport {
    /// The last line of `--json`, exactly as DESIGN.md fixes it.
    pub fn json_line(&self) -> String {
        serde_json::json!({
            "queries": self.overall.queries,
            "hit_at_1": round4(self.overall.hit_at_1),
            "hit_at_5": round4(self.overall.hit_at_5),
            "mrr_at_10": round4(self.overall.mrr_at_10),
            "p50_us": self.p50_us,
            "p99_us": self.p99_us,
        })
        .to_string()
    }

    /// A human-readable table.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let row = |name: &str, m: &Metrics| {
            format!(
                "{name:<16} {:>7} {:>7.4} {:>7.4} {:>7.4}\n",
                m.queries, m.hit_at_1, m.hit_at_5, m.mrr_at_10
            )
        };
        out.push_str(&format!("articles indexed: {}\n", self.articles));
        out.push_str(&format!(
            "{:<16} {:>7} {:>7} {:>7} {:>7}\n",
            "", "queries", "hit@1", "hit@5", "MRR@10"
        ));
        out.push_str(&row("overall", &self.overall));
        for (language, metrics) in &self.per_language {
            out.push_str(&row(&format!("lang {language}"), metrics));
        }
        for (kind, metrics) in &self.per_kind {
            out.push_str(&row(&format!("kind {kind}"), metrics));
        }
        out.push_str(&format!(
            "latency per query: p50 {} us, p99 {} us\n",
            self.p50_us, self.p99_us
        ));
        for skipped in &self.skipped_rows {
            out.push_str(&format!("skipped {skipped}\n"));
        }
        out
    }
}

fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

/// Reads the query rows, naming the line of any malformed one.
pub fn read_queries(path: &Path) -> Result<Vec<QueryRow>, KnowledgeError> {
    let text = std::fs::read_to_string(path).map_err(|error| KnowledgeError::io(path, error))?;
    let mut rows = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: QueryRow = serde_json::from_str(line).map_err(|error| {
            KnowledgeError::Invalid(format!("{}:{}: {error}", path.display(), index + 1))
        })?;
        rows.push(row);
    }
    Ok(rows)
}

/// Indexes the articles of `articles_path` in memory and runs every query of
/// `queries_path`, calling `progress` after each query.
pub fn evaluate_files(
    articles_path: &Path,
    queries_path: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<RetrievalReport, KnowledgeError> {
    let (articles, skipped_rows) = read_jsonl_articles(articles_path)?;
    if articles.is_empty() {
        return Err(KnowledgeError::EmptyCorpus {
            skipped: skipped_rows.len(),
        });
    }
    let queries = read_queries(queries_path)?;
    let documents: Vec<Document> = articles.into_iter().map(Document::Article).collect();
    let mut report = evaluate(&documents, &queries, progress)?;
    report.skipped_rows = skipped_rows;
    Ok(report)
}

/// Runs `queries` against an in-memory index of `documents`.
pub fn evaluate(
    documents: &[Document],
    queries: &[QueryRow],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<RetrievalReport, KnowledgeError> {
    evaluate_ranked(documents, queries, progress, &mut |_, hits| hits)
}

/// [`evaluate`] with `rerank` reordering each query's lexical hits (the `--llm` path); its
/// time counts in the latency.
pub fn evaluate_ranked(
    documents: &[Document],
    queries: &[QueryRow],
    progress: &mut dyn FnMut(usize, usize),
    rerank: &mut dyn FnMut(&SearchRequest, Vec<Hit>) -> Vec<Hit>,
) -> Result<RetrievalReport, KnowledgeError> {
    let generation = Generation::in_memory(documents)?;
    let mut overall = Tally::default();
    let mut per_language: BTreeMap<String, Tally> = BTreeMap::new();
    let mut per_kind: BTreeMap<String, Tally> = BTreeMap::new();
    let mut latencies = Vec::with_capacity(queries.len());
    let mut misses = Vec::new();
    for (done, row) in queries.iter().enumerate() {
        let mut request = SearchRequest::new(row.query.clone());
        request.kind = Some(DocKind::Article);
        request.with_documents = false;
        request.language = row
            .language
            .as_deref()
            .and_then(|tag| tag.parse::<Language>().ok());
        let started = Instant::now();
        let hits = rerank(&request, search(&generation, &request)?);
        latencies.push(started.elapsed().as_micros() as u64);
        let rank = hits
            .iter()
            .position(|hit| row.is_hit(&hit.id))
            .map(|index| index + 1);
        overall.add(rank);
        let language = row
            .language
            .clone()
            .unwrap_or_else(|| "unknown".to_string());
        per_language.entry(language).or_default().add(rank);
        let kind = row.kind.clone().unwrap_or_else(|| "unknown".to_string());
        per_kind.entry(kind.clone()).or_default().add(rank);
        if rank != Some(1) && misses.len() < 20 {
            misses.push(Miss {
                query: row.query.clone(),
                kind,
                expected_id: row.expected_id.clone(),
                got_id: hits.first().map(|hit| hit.id.clone()),
                rank,
            });
        }
        progress(done + 1, queries.len());
    }
    Ok(RetrievalReport {
        articles: documents.len(),
        overall: overall.metrics(),
        per_language: per_language
            .into_iter()
            .map(|(key, tally)| (key, tally.metrics()))
            .collect(),
        per_kind: per_kind
            .into_iter()
            .map(|(key, tally)| (key, tally.metrics()))
            .collect(),
        p50_us: quantile(&latencies, 0.5),
        p99_us: quantile(&latencies, 0.99),
        skipped_rows: Vec::new(),
        misses,
    })
}
