//! Grounded answers: a short answer to the requester's question composed by the model from
//! the top articles the requester may see, citing them as `[article-id]`, streamed as it is
//! written. Only permitted articles reach the prompt: they come from a search filtered by
//! the requester's groups and each is checked again before it is written into the prompt.
//! A citation of anything else (an unknown id, an article not given) is cut out of the
//! stream before the requester sees it; an answer left citing nothing is refused.
//! The first token must come within the first-token budget, the whole answer within the
//! answer budget; otherwise the caller keeps the plain list of articles.
//!
//! This is the model's side only: the prompt, the citation filter, composing. Answering in a
//! live conversation (signals, storing, the conversation's lock) is the orchestrator's
//! (the orchestrator's `answers` module).

use super::{Llm, LlmError, Prompt};
use crate::knowledge::{Article, DocKind, Document, KnowledgeBase, KnowledgeError, SearchRequest};
use crate::lang::Language;
use serde::Serialize;
use std::collections::HashSet;

/// Articles given to the model.
pub const MAX_ARTICLES: usize = 3;
/// Characters of each article's body given to the model.
const BODY_CHARS: usize = 1_500;

/// One article an answer cites.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Citation {
    pub id: String,
    pub title: String,
    pub url: Option<String>,
}

/// A finished answer: its text (citation markers included) and the articles it cites.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroundedAnswer {
    pub text: String,
    pub citations: Vec<Citation>,
}

/// The heading of the cited articles under an answer, in the requester's language.
pub fn sources_heading(language: Language) -> &'static str {
    match language {
        Language::PtBr => "Fontes",
        Language::Es => "Fuentes",
        Language::En => "Sources",
    }
}

/// Said when no answer could be composed and the plain list of articles is shown instead.
pub fn unavailable_notice(language: Language) -> &'static str {
    match language {
        Language::PtBr => "Não foi possível compor uma resposta agora; veja os artigos abaixo.",
        Language::Es => "No fue posible redactar una respuesta ahora; vea los artículos abajo.",
        Language::En => "An answer could not be composed right now; see the articles below.",
    }
}

/// The top articles for `question` that a requester in `groups` may read (blocking).
pub fn permitted_articles(
    knowledge: &KnowledgeBase,
    question: &str,
    language: Language,
    groups: &[String],
) -> Result<Vec<Article>, KnowledgeError> {
    let mut request = SearchRequest::new(question);
    request.groups = groups.to_vec();
    request.language = Some(language);
    request.kind = Some(DocKind::Article);
    request.limit = MAX_ARTICLES;
    let mut articles = Vec::new();
    for hit in knowledge.search(&request)? {
        if let Some(Document::Article(article)) = hit.document {
            articles.push(article);
        }
    }
    Ok(only_permitted(articles, groups))
}

/// `articles` less any the requester may not read: the last gate before a prompt.
pub fn only_permitted(articles: Vec<Article>, groups: &[String]) -> Vec<Article> {
    articles
        .into_iter()
        .filter(|article| article.visibility.allows(groups))
        .collect()
}

/// The prompt for an answer to `question` from `articles`.
pub fn prompt(question: &str, language: Language, articles: &[Article]) -> Prompt {
    let answer_language = match language {
        Language::PtBr => "Brazilian Portuguese",
        Language::Es => "Spanish",
        Language::En => "English",
    };
    let mut user = String::from("Articles:\n");
    for article in articles {
        let body: String = article.body.chars().take(BODY_CHARS).collect();
        user.push_str(&format!(
            "\n[{}] {}\n{}\n{}\n",
            article.id, article.title, article.summary, body
        ));
    }
    user.push_str(&format!(
        "\nQuestion: {}\n",
        question
            .chars()
            .take(crate::knowledge::search::MAX_QUERY_CHARS)
            .collect::<String>()
    ));
    Prompt {
        system: format!(
            "You are a service-desk assistant. Answer the question in {answer_language} in at \
             most four sentences, using only the articles given. After each statement cite \
             the article it comes from by its id in square brackets, e.g. [{}]. If the \
             articles do not answer the question, say so briefly.",
            articles
                .first()
                .map(|article| article.id.as_str())
                .unwrap_or("article-id")
        ),
        user,
        max_tokens: 300,
    }
}

/// Cuts citations of ids outside the permitted set out of streamed text. Text is held
/// back from an opening `[` until its `]` shows whether it is a permitted citation, so a
/// forbidden id never reaches the requester, not even half of one.
#[derive(Debug)]
pub struct CitationFilter {
    permitted: HashSet<String>,
    held: String,
    cited: Vec<String>,
}

/// Longest text held back waiting for a `]`: longer is not a citation.
const MAX_MARKER: usize = 160;

impl CitationFilter {
    pub fn new(permitted: impl IntoIterator<Item = String>) -> CitationFilter {
        CitationFilter {
            permitted: permitted.into_iter().collect(),
            held: String::new(),
            cited: Vec::new(),
        }
    }

    /// Takes the next streamed piece; returns what may be shown now.
    pub fn push(&mut self, piece: &str) -> String {
        let mut shown = String::new();
        for character in piece.chars() {
            if self.held.is_empty() {
                if character == '[' {
                    self.held.push(character);
                } else {
                    shown.push(character);
                }
                continue;
            }
            self.held.push(character);
            if character == ']' {
                let marker = std::mem::take(&mut self.held);
                let id = marker[1..marker.len() - 1].trim();
                if self.permitted.contains(id) {
                    if !self.cited.iter().any(|cited| cited == id) {
                        self.cited.push(id.to_string());
                    }
                    shown.push_str(&marker);
                } else if looks_like_id(id) {
                    tracing::warn!(marker = %marker, "citation outside the permitted articles cut");
                } else {
                    // Plain bracketed text, not a citation.
                    shown.push_str(&marker);
                }
            } else if character == '[' || self.held.len() > MAX_MARKER {
                // Not one marker: release what was held but the new opening bracket.
                let released = std::mem::take(&mut self.held);
                let (before, last) = released.split_at(released.len() - character.len_utf8());
                shown.push_str(before);
                if character == '[' {
                    self.held.push_str(last);
                } else {
                    shown.push_str(last);
                }
            }
        }
        shown
    }

    /// The end of the stream: releases held text that turned out not to be a marker.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }

    /// The permitted ids cited so far, in order of first citation.
    pub fn cited(&self) -> &[String] {
        &self.cited
    }
}

/// A citation marker holds one id-like token (letters, digits, `-`, `_`, `.`).
fn looks_like_id(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Composes an answer to `question` from `articles` (already permitted), streaming the
/// shown text to `on_text`. Fails, with nothing more shown, when the model is unavailable,
/// slow or cites none of the articles.
pub async fn compose(
    llm: &Llm,
    question: &str,
    language: Language,
    articles: &[Article],
    on_text: &mut (dyn FnMut(&str) + Send),
) -> Result<GroundedAnswer, LlmError> {
    if articles.is_empty() {
        return Err(LlmError::Malformed(
            "no article to ground an answer in".to_string(),
        ));
    }
    let prompt = prompt(question, language, articles);
    let mut filter = CitationFilter::new(articles.iter().map(|article| article.id.clone()));
    let mut text = String::new();
    let mut forward = |piece: &str| {
        let shown = filter.push(piece);
        if !shown.is_empty() {
            on_text(&shown);
            text.push_str(&shown);
        }
    };
    llm.stream(&prompt, &mut forward).await?;
    let rest = filter.finish();
    if !rest.is_empty() {
        on_text(&rest);
        text.push_str(&rest);
    }
    let citations: Vec<Citation> = filter
        .cited()
        .iter()
        .filter_map(|id| articles.iter().find(|article| &article.id == id))
        .map(|article| Citation {
            id: article.id.clone(),
            title: article.title.clone(),
            url: article.url.clone(),
        })
        .collect();
    if citations.is_empty() {
        return Err(LlmError::Malformed(
            "the answer cites none of the articles given".to_string(),
        ));
    }
    Ok(GroundedAnswer {
        text: text.trim().to_string(),
        citations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filtered(pieces: &[&str]) -> (String, Vec<String>) {
        let mut filter = CitationFilter::new(["vpn-setup.en".to_string(), "mfa".to_string()]);
        let mut shown: String = pieces.iter().map(|piece| filter.push(piece)).collect();
        shown.push_str(&filter.finish());
        (shown, filter.cited().to_vec())
    }

    #[test]
    fn keeps_permitted_citations_even_split_across_pieces() {
        let (shown, cited) = filtered(&["Install the client [vpn", "-setup.en] and ", "[mfa]."]);
        assert_eq!(shown, "Install the client [vpn-setup.en] and [mfa].");
        assert_eq!(cited, ["vpn-setup.en", "mfa"]);
    }

    #[test]
    fn cuts_citations_of_anything_else() {
        let (shown, cited) = filtered(&["See [payroll-system-access.pt-BR] or [vpn-setup.en]."]);
        assert_eq!(shown, "See  or [vpn-setup.en].");
        assert_eq!(cited, ["vpn-setup.en"]);
    }

    #[test]
    fn plain_brackets_and_unclosed_ones_are_text() {
        let (shown, cited) = filtered(&["Press [Ctrl + Alt] then [", "[mfa] and [open"]);
        assert_eq!(shown, "Press [Ctrl + Alt] then [[mfa] and [open");
        assert_eq!(cited, ["mfa"]);
    }
}
