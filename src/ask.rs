//! `ponte ask` without the printing: the ranked articles and activities for one text, the
//! assistant's decision on it (timed), and on request an answer grounded in the permitted
//! articles, streamed piece by piece to the caller.

use crate::assistant::{Decision, MatchInput};
use crate::config::Config;
use crate::knowledge::{DocKind, Hit, KnowledgeBase, SearchRequest};
use crate::lang::Language;
use crate::llm::Llm;
use crate::llm::answer::GroundedAnswer;
use std::sync::Arc;
use std::time::Instant;

/// What to ask about.
pub struct AskQuery {
    pub text: String,
    /// The requester's groups (public documents are always visible).
    pub groups: Vec<String>,
    /// The requester's language; detected from the text when absent.
    pub language: Option<Language>,
    /// Only articles or only activities.
    pub kind: Option<DocKind>,
    pub limit: usize,
}

/// The answer to an [`AskQuery`].
pub struct Asked {
    pub text: String,
    pub request: SearchRequest,
    pub hits: Vec<Hit>,
    pub decision: Decision,
    /// How long the assistant's decision took.
    pub decision_us: u128,
    /// The language the decision was made in (the request's, or pt-BR).
    pub language: Language,
    pub knowledge: Arc<KnowledgeBase>,
}

/// Searches the configured knowledge base and asks the configured intents' matcher.
pub fn ask(config: &Config, query: AskQuery) -> anyhow::Result<Asked> {
    if query.text.trim().is_empty() {
        anyhow::bail!("the text to ask about is empty");
    }
    let knowledge = crate::app::open_knowledge(config)?;
    let mut request = SearchRequest::new(query.text.clone());
    request.groups = query
        .groups
        .into_iter()
        .filter(|group| !group.is_empty())
        .collect();
    request.language = query.language.or_else(|| Language::detect(&query.text));
    request.kind = query.kind;
    request.limit = query.limit.clamp(1, 100);
    let hits = knowledge.search(&request)?;
    let knowledge = Arc::new(knowledge);
    let matcher = crate::app::train_matcher(config, knowledge.clone())?;
    let started = Instant::now();
    let language = request.language.unwrap_or(Language::PtBr);
    let decision = matcher.decide(&MatchInput {
        text: &query.text,
        language,
        groups: &request.groups,
        expecting: crate::conversation::Expecting::FreeText,
    })?;
    let decision_us = started.elapsed().as_micros();
    Ok(Asked {
        text: query.text,
        request,
        hits,
        decision,
        decision_us,
        language,
        knowledge,
    })
}

/// A grounded answer as it streamed: the answer or why there is none, and its timings.
pub struct StreamedAnswer {
    pub answer: Result<GroundedAnswer, crate::llm::LlmError>,
    pub first_token_ms: Option<u128>,
    pub total_ms: u128,
}

/// Composes an answer to `asked` grounded in the articles its requester may read; every
/// piece of text goes to `on_text` as it arrives.
pub fn grounded_answer(
    llm: &Llm,
    asked: &Asked,
    on_text: &mut (dyn FnMut(&str) + Send),
) -> anyhow::Result<StreamedAnswer> {
    let articles = crate::llm::answer::permitted_articles(
        &asked.knowledge,
        &asked.text,
        asked.language,
        &asked.request.groups,
    )?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let started = Instant::now();
    let mut first_token_ms = None;
    let mut forward = |piece: &str| {
        first_token_ms.get_or_insert_with(|| started.elapsed().as_millis());
        on_text(piece);
    };
    let answer = runtime.block_on(crate::llm::answer::compose(
        llm,
        &asked.text,
        asked.language,
        &articles,
        &mut forward,
    ));
    Ok(StreamedAnswer {
        answer,
        first_token_ms,
        total_ms: started.elapsed().as_millis(),
    })
}
