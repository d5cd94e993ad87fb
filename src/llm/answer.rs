//! Grounded answers: a short answer to the requester's question composed by the model from
//! the top articles the requester may see, citing them as `[article-id]`, streamed as it is
//! written. Only permitted articles reach the prompt: they come from a search filtered by
//! the requester's groups and each is checked again before it is written into the prompt.
//! A citation of anything else (an unknown id, an article not given) is cut out of the
//! stream before the requester sees it; an answer left citing nothing is refused.
//! The first token must come within the first-token budget, the whole answer within the
//! answer budget; otherwise the caller keeps the plain list of articles.
//!
//! In a live conversation ([`LiveAnswers`]) the answer comes after the assistant's own
//! reply, never before or instead of it: its pieces go out as `answer_delta` signals to the
//! conversation's feeds, the finished answer as a stored message with the same
//! `answer_id`, and a failure after pieces went out as an `answer_abandoned` signal.

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

/// Why no answer was added to a conversation.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error(transparent)]
    Chat(#[from] crate::orchestrator::ChatError),
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error(transparent)]
    Knowledge(#[from] KnowledgeError),
    #[error("background task failed: {0}")]
    Join(String),
    #[error("no article the requester may read is near the question")]
    NoArticle,
    #[error("the conversation left the assistant before the answer was complete")]
    ConversationMoved,
}

/// Hub signal carrying one streamed piece: `{"answer_id", "text"}`.
pub const DELTA_SIGNAL: &str = "answer_delta";
/// Hub signal telling a client to drop the pieces of an answer that failed: `{"answer_id"}`.
pub const ABANDONED_SIGNAL: &str = "answer_abandoned";

/// Shortest time between two `answer_delta` signals of one answer: pieces arriving
/// meanwhile travel together.
const DELTA_EVERY: std::time::Duration = std::time::Duration::from_millis(25);

/// A question to answer in a conversation, and who asked it.
#[derive(Debug, Clone)]
pub struct Question {
    pub conversation_id: String,
    pub text: String,
    pub language: Language,
    /// The requester's groups: only articles they may read are given to the model.
    pub groups: Vec<String>,
}

/// What a grounded answer in a live conversation draws on and where it goes: cheap
/// handles, cloned into the task that streams it.
#[derive(Clone)]
pub struct LiveAnswers {
    pub llm: std::sync::Arc<Llm>,
    pub knowledge: std::sync::Arc<KnowledgeBase>,
    /// Hybrid retrieval of the articles, when an embedding model is configured.
    pub hybrid: Option<std::sync::Arc<super::hybrid::Hybrid>>,
    pub store: std::sync::Arc<dyn crate::store::Store>,
    pub hub: std::sync::Arc<crate::live::Hub>,
}

impl LiveAnswers {
    /// The top articles for `question` its requester may read: hybrid when configured
    /// (within its budget), lexical otherwise, and checked once more.
    pub async fn articles(&self, question: &Question) -> Result<Vec<Article>, AnswerError> {
        let articles = match &self.hybrid {
            Some(hybrid) => {
                let mut request = SearchRequest::new(question.text.clone());
                request.groups = question.groups.clone();
                request.language = Some(question.language);
                request.kind = Some(DocKind::Article);
                request.limit = MAX_ARTICLES;
                hybrid
                    .search(request)
                    .await?
                    .into_iter()
                    .filter_map(|hit| match hit.document {
                        Some(Document::Article(article)) => Some(article),
                        _ => None,
                    })
                    .collect()
            }
            None => {
                let knowledge = self.knowledge.clone();
                let (text, language, groups) = (
                    question.text.clone(),
                    question.language,
                    question.groups.clone(),
                );
                tokio::task::spawn_blocking(move || {
                    permitted_articles(&knowledge, &text, language, &groups)
                })
                .await
                .map_err(|error| AnswerError::Join(error.to_string()))??
            }
        };
        Ok(only_permitted(articles, &question.groups))
    }

    /// Answers `question` in its conversation, live. Each piece shown goes to `on_text`
    /// and, as an [`DELTA_SIGNAL`] signal, to whoever follows the conversation; the
    /// finished answer is stored as an assistant message (payload `"event":
    /// "grounded_answer"`, the same `answer_id`, the citations) and published, so a client
    /// replaces the streamed pieces by it. When the answer fails after pieces went out, an
    /// [`ABANDONED_SIGNAL`] tells clients to drop them. `lock` is the conversation's: held
    /// only while the answer is stored and published, so that stays in `seq` order with
    /// the orchestrator's messages. An answer that ends after the conversation left the
    /// assistant (handed to a person, finished) is dropped.
    pub async fn answer(
        &self,
        question: &Question,
        lock: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<crate::store::Message, AnswerError> {
        let articles = self.articles(question).await?;
        if articles.is_empty() {
            return Err(AnswerError::NoArticle);
        }
        let answer_id = crate::orchestrator::new_id();
        let conversation_id = question.conversation_id.as_str();
        // Pieces go to the hub from a forwarder that merges those arriving together, so a
        // fast model sends a few frames rather than one per token (a feed that falls
        // behind the hub's small per-conversation channel would lose signals).
        let (piece_tx, mut piece_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let composing = async move {
            // `piece_tx` goes when this ends: the forwarder then sends the rest and stops.
            let mut forward = |piece: &str| {
                on_text(piece);
                let _ = piece_tx.send(piece.to_string());
            };
            compose(
                &self.llm,
                &question.text,
                question.language,
                &articles,
                &mut forward,
            )
            .await
        };
        let forwarding = async {
            let mut shown_any = false;
            while let Some(mut text) = piece_rx.recv().await {
                while let Ok(more) = piece_rx.try_recv() {
                    text.push_str(&more);
                }
                shown_any = true;
                self.hub.signal(
                    conversation_id,
                    DELTA_SIGNAL,
                    serde_json::json!({ "answer_id": answer_id, "text": text }),
                );
                tokio::time::sleep(DELTA_EVERY).await;
            }
            shown_any
        };
        let (composed, shown_any) = tokio::join!(composing, forwarding);
        let abandon = |error: AnswerError| {
            if shown_any {
                self.hub.signal(
                    conversation_id,
                    ABANDONED_SIGNAL,
                    serde_json::json!({ "answer_id": answer_id }),
                );
            }
            Err(error)
        };
        let answer = match composed {
            Ok(answer) => answer,
            Err(error) => return abandon(error.into()),
        };
        let _guard = match &lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        let still_with_assistant = match self.store.get_conversation(conversation_id).await {
            Ok(conversation) => conversation.is_some_and(|conversation| {
                conversation.status == crate::store::ConversationStatus::Bot
            }),
            Err(error) => return abandon(crate::orchestrator::ChatError::from(error).into()),
        };
        if !still_with_assistant {
            return abandon(AnswerError::ConversationMoved);
        }
        let appended = self
            .store
            .append_message(crate::store::NewMessage {
                conversation_id: conversation_id.to_string(),
                sender_kind: crate::store::SenderKind::Assistant,
                sender_id: None,
                body: answer.text.clone(),
                payload: Some(serde_json::json!({
                    "event": "grounded_answer",
                    "answer_id": answer_id,
                    "citations": answer.citations,
                })),
                client_message_id: None,
            })
            .await;
        let message = match appended {
            Ok(appended) => appended.message,
            Err(error) => return abandon(crate::orchestrator::ChatError::from(error).into()),
        };
        self.hub.publish(&message);
        Ok(message)
    }
}

/// Answers `question` in the requester's conversation (see [`LiveAnswers::answer`]): the
/// pieces go to `on_text` and to the conversation's live feeds as they are written, the
/// finished answer is stored and published. The articles are those `requester`'s groups
/// may read. On any failure nothing is stored and the conversation goes on as it was.
pub async fn answer_in_conversation(
    orchestrator: &crate::orchestrator::Orchestrator,
    knowledge: std::sync::Arc<KnowledgeBase>,
    llm: &std::sync::Arc<Llm>,
    requester: &crate::orchestrator::Requester,
    conversation_id: &str,
    question: &str,
    on_text: &mut (dyn FnMut(&str) + Send),
) -> Result<crate::store::Message, AnswerError> {
    let conversation = orchestrator
        .conversation(requester, conversation_id)
        .await?;
    let answers = LiveAnswers {
        llm: llm.clone(),
        knowledge,
        hybrid: orchestrator.hybrid().cloned(),
        store: orchestrator.store().clone(),
        hub: orchestrator.hub().clone(),
    };
    let question = Question {
        conversation_id: conversation.id.clone(),
        text: question.to_string(),
        language: conversation.language.parse().unwrap_or(Language::PtBr),
        groups: requester.groups.clone(),
    };
    let lock = orchestrator.conversation_lock(&conversation.id);
    answers.answer(&question, Some(lock), on_text).await
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
