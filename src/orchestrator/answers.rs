//! Grounded answers in a live conversation, composed by the language model
//! (`crate::llm::answer`) from the articles the requester may read. The answer comes after
//! the assistant's own reply, never before or instead of it: its pieces go out as
//! `answer_delta` signals to the conversation's feeds, the finished answer as a stored
//! message with the same `answer_id`, and a failure after pieces went out as an
//! `answer_abandoned` signal.

use super::{ChatError, Orchestrator, Requester, new_id};
use crate::knowledge::{Article, DocKind, Document, KnowledgeBase, KnowledgeError, SearchRequest};
use crate::lang::Language;
use crate::llm::answer::{MAX_ARTICLES, compose, only_permitted, permitted_articles};
use crate::llm::{Llm, LlmError};
use std::sync::Arc;

/// Why no answer was added to a conversation.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error(transparent)]
    Chat(#[from] ChatError),
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

/// Signal carrying one streamed piece: `{"answer_id", "text"}`.
pub const DELTA_SIGNAL: &str = "answer_delta";
/// Signal telling a client to drop the pieces of an answer that failed: `{"answer_id"}`.
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
    pub llm: Arc<Llm>,
    pub knowledge: Arc<KnowledgeBase>,
    /// Hybrid retrieval of the articles, when an embedding model is configured.
    pub hybrid: Option<Arc<crate::llm::hybrid::Hybrid>>,
    pub store: Arc<dyn crate::store::Store>,
    pub bus: Arc<dyn crate::live::EventBus>,
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
        lock: Option<Arc<tokio::sync::Mutex<()>>>,
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<crate::store::Message, AnswerError> {
        let articles = self.articles(question).await?;
        if articles.is_empty() {
            return Err(AnswerError::NoArticle);
        }
        let answer_id = new_id();
        let conversation_id = question.conversation_id.as_str();
        // Pieces go to the bus from a forwarder that merges those arriving together, so a
        // fast model sends a few frames rather than one per token (a feed that falls
        // behind the bus's small per-conversation channel would lose signals).
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
                self.bus.publish(
                    conversation_id,
                    crate::live::FeedEvent::AnswerDelta {
                        answer_id: answer_id.clone(),
                        text,
                    },
                );
                tokio::time::sleep(DELTA_EVERY).await;
            }
            shown_any
        };
        let (composed, shown_any) = tokio::join!(composing, forwarding);
        let abandon = |error: AnswerError| {
            if shown_any {
                self.bus.publish(
                    conversation_id,
                    crate::live::FeedEvent::AnswerAbandoned {
                        answer_id: answer_id.clone(),
                    },
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
            Err(error) => return abandon(ChatError::from(error).into()),
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
            Err(error) => return abandon(ChatError::from(error).into()),
        };
        self.bus.publish_message(&message);
        Ok(message)
    }
}

/// Answers `question` in the requester's conversation (see [`LiveAnswers::answer`]): the
/// pieces go to `on_text` and to the conversation's live feeds as they are written, the
/// finished answer is stored and published. The articles are those `requester`'s groups
/// may read. On any failure nothing is stored and the conversation goes on as it was.
pub async fn answer_in_conversation(
    orchestrator: &Orchestrator,
    knowledge: Arc<KnowledgeBase>,
    llm: &Arc<Llm>,
    requester: &Requester,
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
        bus: orchestrator.bus().clone(),
    };
    let question = Question {
        conversation_id: conversation.id.clone(),
        text: question.to_string(),
        language: conversation.language,
        groups: requester.groups.clone(),
    };
    let lock = orchestrator.conversation_lock(&conversation.id);
    answers.answer(&question, Some(lock), on_text).await
}
