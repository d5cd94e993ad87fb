//! Query building and re-ranking. A text is analysed with every language's stemmer and
//! matched (BM25) against titles, summaries and bodies, plus unstemmed title terms; query
//! words missing from the title vocabulary are looked up as fuzzy terms (one edit,
//! transpositions included). The best candidates are then re-ranked with string
//! similarity against the title (strsim), and the requester's language is preferred.
//! Visibility is a filter inside the query, so a document a requester may not read is
//! never scored, collected or returned.

use super::analyzers::{Analyzers, fold, tokens};
use super::generation::{Generation, SegmentKeys};
use super::schema::{Fields, PUBLIC};
use super::{DocKind, Document, KnowledgeError};
use crate::lang::Language;
use serde::Serialize;
use std::cell::RefCell;
use std::sync::Arc;
use tantivy::collector::TopDocs;
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, TermQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{TantivyDocument, Term};

/// Decoding a stored document lives with the generation it is read from.
pub use super::generation::payload;

/// Longest query text considered, in characters; the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 1_000;
/// Most distinct words of a query that are matched.
const MAX_QUERY_TOKENS: usize = 48;
/// Most query words looked up as fuzzy terms (each costs an automaton walk).
const MAX_FUZZY_TERMS: usize = 4;
/// Candidates collected by BM25 before re-ranking.
const CANDIDATES: usize = 40;

/// Field weights and re-ranking factors.
#[derive(Debug, Clone, Copy)]
pub struct Weights {
    pub title: f32,
    pub summary: f32,
    pub body: f32,
    pub title_plain: f32,
    pub fuzzy: f32,
    pub tags: f32,
    /// Weight of a matching word pair of the query in the body's opening.
    pub pairs: f32,
    /// Weight of the title similarity in the final score (BM25 is normalised to 0..1).
    pub title_similarity: f32,
    /// Bonus for a document in the requester's language.
    pub same_language: f32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            title: 3.0,
            summary: 1.5,
            body: 1.0,
            title_plain: 1.5,
            fuzzy: 1.5,
            tags: 0.5,
            pairs: 0.7,
            title_similarity: 0.6,
            same_language: 0.35,
        }
    }
}

/// One search: the text, who asks, and what they want back.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub text: String,
    /// The requester's groups; public documents are always visible.
    pub groups: Vec<String>,
    /// The requester's language, preferred in the ranking when known.
    pub language: Option<Language>,
    /// Only this kind of document, or both.
    pub kind: Option<DocKind>,
    pub limit: usize,
    pub weights: Weights,
    /// Load each hit's full document (off only for bulk evaluation, which needs ids).
    pub with_documents: bool,
}

impl SearchRequest {
    pub fn new(text: impl Into<String>) -> Self {
        SearchRequest {
            text: text.into(),
            groups: Vec::new(),
            language: None,
            kind: None,
            limit: 10,
            weights: Weights::default(),
            with_documents: true,
        }
    }
}

/// One ranked document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Hit {
    pub id: String,
    pub kind: DocKind,
    pub title: String,
    pub score: f32,
    /// The BM25 part of the score, normalised by the best candidate's.
    pub lexical: f32,
    /// Similarity of the query to the title, 0..1.
    pub title_similarity: f32,
    /// Every word of the query is a word of the title: the query is (a part of) the title.
    #[serde(skip)]
    pub title_part: bool,
    /// Cosine similarity of the query's embedding to the document's, when a hybrid search
    /// (see `crate::llm::hybrid`) found it among the nearest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub semantic: Option<f32>,
    /// The full document, when the request asked for it: an article or an activity with
    /// its `kind`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub document: Option<Document>,
}

thread_local! {
    static ANALYZERS: RefCell<Analyzers> = RefCell::new(Analyzers::default());
}

fn dedup(mut words: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    words.retain(|word| seen.insert(word.clone()));
    words.truncate(MAX_QUERY_TOKENS);
    words
}

fn boosted(query: Box<dyn Query>, boost: f32) -> (Occur, Box<dyn Query>) {
    (Occur::Should, Box::new(BoostQuery::new(query, boost)))
}

fn term(field: tantivy::schema::Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

/// Runs `request` against one generation.
pub fn search(
    generation: &Generation,
    request: &SearchRequest,
) -> Result<Vec<Hit>, KnowledgeError> {
    let text: String = request.text.chars().take(MAX_QUERY_CHARS).collect();
    let fields = &generation.fields;
    let searcher = generation.reader.searcher();
    let weights = request.weights;

    let (plain_words, stemmed_words) = ANALYZERS.with(|cell| {
        let mut analyzers = cell.borrow_mut();
        let plain_words = dedup(tokens(&mut analyzers.plain, &text));
        let stemmed_words = analyzers
            .stemmed
            .iter_mut()
            .map(|analyzer| dedup(tokens(analyzer, &text)))
            .collect::<Vec<_>>();
        (plain_words, stemmed_words)
    });
    if plain_words.is_empty() {
        return Ok(Vec::new());
    }
    let text_folded = fold(&text);

    let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (language_fields, words) in fields.per_language.iter().zip(&stemmed_words) {
        // A known language narrows the stemmed fields to its own: other languages' documents
        // are still reachable through the unstemmed title terms.
        if request
            .language
            .is_some_and(|language| language != language_fields.language)
        {
            continue;
        }
        for word in words {
            should.push(boosted(term(language_fields.title, word), weights.title));
            should.push(boosted(
                term(language_fields.summary, word),
                weights.summary,
            ));
            should.push(boosted(term(language_fields.body, word), weights.body));
        }
    }
    let mut fuzzy_terms = 0;
    for word in &plain_words {
        let title_term = Term::from_field_text(fields.title_plain, word);
        should.push(boosted(term(fields.title_plain, word), weights.title_plain));
        should.push(boosted(term(fields.tags, word), weights.tags));
        // A word no document contains (in any language's stemmed form) is likely a typo:
        // look it up in titles within one edit. Known words never pay for a fuzzy query.
        if fuzzy_terms < MAX_FUZZY_TERMS
            && word.chars().count() >= 4
            && searcher.doc_freq(&title_term)? == 0
            && !known_anywhere(&searcher, fields, &stems_of(word))?
        {
            fuzzy_terms += 1;
            let fuzzy = FuzzyTermQuery::new(title_term, 1, true);
            should.push(boosted(Box::new(fuzzy), weights.fuzzy));
        }
    }

    // Word pairs: a sentence taken from an article matches its own wording pair by pair.
    if plain_words.len() >= 3 {
        let folded: Vec<&str> = folded_query_words(&text_folded);
        for pair in folded.windows(2).take(MAX_QUERY_TOKENS) {
            let token = format!("{}_{}", pair[0], pair[1]);
            should.push(boosted(term(fields.body_pairs, &token), weights.pairs));
        }
    }

    let mut clauses: Vec<(Occur, Box<dyn Query>)> =
        vec![(Occur::Must, Box::new(BooleanQuery::new(should)))];
    clauses.push((Occur::Must, visibility_filter(fields, &request.groups)));
    if let Some(kind) = request.kind {
        clauses.push((
            Occur::Must,
            Box::new(ConstScoreQuery::new(term(fields.kind, kind.tag()), 0.0)),
        ));
    }
    let query = BooleanQuery::new(clauses);
    let top = searcher.search(
        &query,
        &TopDocs::with_limit(CANDIDATES.max(request.limit)).order_by_score(),
    )?;
    let Some(best) = top.first().map(|(score, _)| *score) else {
        return Ok(Vec::new());
    };

    let folded_query = text_folded;
    let profile = QueryProfile::new(&folded_query);
    let mut segments: Vec<Option<Arc<SegmentKeys>>> = vec![None; searcher.segment_readers().len()];
    let mut ranked = Vec::with_capacity(top.len());
    for (score, address) in top {
        let segment = address.segment_ord as usize;
        let keys = match &segments[segment] {
            Some(keys) => keys.clone(),
            None => {
                let keys = generation.segment_keys(&searcher.segment_readers()[segment])?;
                segments[segment] = Some(keys.clone());
                keys
            }
        };
        let mut id = String::new();
        let mut kind = DocKind::Article;
        let mut similarity: f32 = 0.0;
        let mut title_part = false;
        let mut in_language = false;
        for key in keys.of(address.doc_id) {
            if id.is_empty() {
                id = key.id.clone();
                kind = key.kind;
            }
            similarity = similarity.max(profile.similarity(&key.folded_title));
            title_part |= profile.is_part_of(&key.folded_title);
            in_language |= request.language.is_some() && key.language == request.language;
        }
        let lexical = if best > 0.0 { score / best } else { 0.0 };
        let mut final_score = lexical + weights.title_similarity * similarity;
        if in_language {
            final_score += weights.same_language;
        }
        ranked.push((
            final_score,
            lexical,
            similarity,
            title_part,
            id,
            kind,
            address,
        ));
    }
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.4.cmp(&b.4)));
    ranked.truncate(request.limit);

    let mut hits = Vec::with_capacity(ranked.len());
    for (score, lexical, similarity, title_part, id, kind, address) in ranked {
        let (kind, title, document) = if request.with_documents {
            let stored: TantivyDocument = searcher.doc(address)?;
            let document = payload(fields, &stored)?;
            // Defence in depth: the filter above already excluded what the groups may not see.
            if !document.visibility().allows(&request.groups) {
                continue;
            }
            let title = document
                .title(request.language.unwrap_or(Language::En))
                .to_string();
            (document.kind(), title, Some(document))
        } else {
            (kind, String::new(), None)
        };
        hits.push(Hit {
            id,
            kind,
            title,
            score,
            lexical,
            title_similarity: similarity,
            title_part,
            semantic: None,
            document,
        });
    }
    Ok(hits)
}

/// How much the (folded) query looks like the (folded) title, 0..1: 1 for the same text,
/// high for a contiguous part of the title or the title with a typo, low otherwise.
pub fn title_similarity(query: &str, title: &str) -> f32 {
    QueryProfile::new(query).similarity(title)
}

/// A folded query prepared once for comparing with many titles.
pub struct QueryProfile<'a> {
    text: &'a str,
    padded: String,
    chars: usize,
    words: Vec<&'a str>,
}

/// Queries longer than this many words are compared with titles word by word, exactly;
/// edit distances only pay off for short, title-like queries.
const FUZZY_COMPARE_MAX_WORDS: usize = 10;

impl<'a> QueryProfile<'a> {
    pub fn new(text: &'a str) -> Self {
        QueryProfile {
            text,
            padded: format!(" {text} "),
            chars: text.chars().count(),
            words: text.split(' ').filter(|word| !word.is_empty()).collect(),
        }
    }

    /// Whether every word of the query is a word of the title, or one edit away from one
    /// (a plural, a typo) for words of four letters or more.
    pub fn is_part_of(&self, title: &str) -> bool {
        !self.words.is_empty()
            && self.words.len() <= FUZZY_COMPARE_MAX_WORDS
            && self.words.iter().all(|word| {
                title
                    .split(' ')
                    .any(|candidate| same_word(word, candidate, true))
            })
    }

    pub fn similarity(&self, title: &str) -> f32 {
        if self.words.is_empty() || title.is_empty() {
            return 0.0;
        }
        if self.text == title {
            return 1.0;
        }
        let query_len = self.chars as f32;
        let title_len = title.chars().count() as f32;
        let mut score: f32 = 0.0;
        if title_len > query_len && format!(" {title} ").contains(&self.padded) {
            // A whole-word part of the title: the larger the part, the closer.
            score = score.max(0.55 + 0.4 * (query_len / title_len));
        }
        // The whole-text edit similarity can only reach 0.75 when the lengths are close.
        if (query_len - title_len).abs() <= 0.25 * query_len.max(title_len) {
            let distance = strsim::osa_distance(self.text, title) as f32;
            let edit = 1.0 - distance / query_len.max(title_len);
            if edit >= 0.75 {
                score = score.max(edit * 0.95);
            }
        }
        // Word by word: the share of query words that appear (or nearly appear) in the title.
        let title_words: Vec<&str> = title.split(' ').collect();
        let fuzzy = self.words.len() <= FUZZY_COMPARE_MAX_WORDS;
        let matched = self
            .words
            .iter()
            .filter(|word| {
                title_words
                    .iter()
                    .any(|candidate| same_word(word, candidate, fuzzy))
            })
            .count() as f32;
        let coverage = matched / self.words.len() as f32;
        let precision = matched / title_words.len() as f32;
        score.max(0.5 * coverage + 0.3 * precision)
    }
}

/// The same word, or with `fuzzy` one edit away (a plural, a typo) for words of four
/// letters or more.
fn same_word(word: &str, candidate: &str, fuzzy: bool) -> bool {
    word == candidate
        || (fuzzy
            && word.len() >= 4
            && word.len().abs_diff(candidate.len()) <= 1
            && strsim::osa_distance(word, candidate) <= 1)
}

/// A word stemmed alone in each language (only for words that may be typos: most query
/// words never need it).
fn stems_of(word: &str) -> Vec<String> {
    ANALYZERS.with(|cell| {
        let mut analyzers = cell.borrow_mut();
        analyzers
            .stemmed
            .iter_mut()
            .map(|analyzer| tokens(analyzer, word).pop().unwrap_or_default())
            .collect()
    })
}

fn folded_query_words(folded: &str) -> Vec<&str> {
    folded.split(' ').filter(|word| !word.is_empty()).collect()
}

/// Whether a word, given as its stem in each language, occurs in any title, summary or
/// body of that language.
fn known_anywhere(
    searcher: &tantivy::Searcher,
    fields: &Fields,
    stems: &[String],
) -> Result<bool, KnowledgeError> {
    for (language_fields, stem) in fields.per_language.iter().zip(stems) {
        for field in [
            language_fields.title,
            language_fields.summary,
            language_fields.body,
        ] {
            if searcher.doc_freq(&Term::from_field_text(field, stem))? > 0 {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

fn visibility_filter(fields: &Fields, groups: &[String]) -> Box<dyn Query> {
    let mut allowed: Vec<(Occur, Box<dyn Query>)> =
        vec![(Occur::Should, term(fields.visibility, PUBLIC))];
    for group in groups {
        if group != PUBLIC {
            allowed.push((Occur::Should, term(fields.visibility, group)));
        }
    }
    Box::new(ConstScoreQuery::new(
        Box::new(BooleanQuery::new(allowed)),
        0.0,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_orders_exact_part_and_typo_above_unrelated() {
        let title = "connect to the corporate vpn";
        assert_eq!(title_similarity(title, title), 1.0);
        let part = title_similarity("corporate vpn", title);
        let typo = title_similarity("conect to the corporate vpn", title);
        let other = title_similarity("printer jam", title);
        assert!(part > 0.6, "{part}");
        assert!(typo > 0.85, "{typo}");
        assert!(other < 0.2, "{other}");
    }
}
