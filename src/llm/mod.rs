//! The optional language model: one OpenAI-compatible endpoint (OpenAI, Azure, vLLM, a
//! llama.cpp server, Ollama) reached through async-openai. This module owns its settings
//! (the API key never appears in `Debug` or logs), the client wrapper that puts every call
//! behind a time budget and the circuit [`breaker`], and the three uses: [`rerank`] of
//! ambiguous or near-threshold matches, [`answer`]s grounded in permitted articles and
//! streamed, and [`embed`]dings for hybrid retrieval.
//!
//! Ponte never needs it: every caller keeps the lexical result when a call is refused,
//! slow, failing or malformed.

pub mod answer;
pub mod breaker;
pub mod embed;
pub mod hybrid;
pub mod rerank;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
    ChatCompletionRequestUserMessage, CreateChatCompletionRequest, CreateChatCompletionRequestArgs,
};
use async_openai::types::embeddings::{CreateEmbeddingRequestArgs, EmbeddingInput};
use breaker::Breaker;
use futures_util::StreamExt;
use std::fmt;
use std::time::{Duration, Instant};

/// Default budget of a re-ranking call.
pub const DEFAULT_RERANK_BUDGET_MS: u64 = 300;
/// Default budget until the first streamed token of an answer.
pub const DEFAULT_FIRST_TOKEN_MS: u64 = 1_500;
/// Default budget of a whole streamed answer.
pub const DEFAULT_ANSWER_MS: u64 = 20_000;
/// Default budget of one embeddings request.
pub const DEFAULT_EMBED_TIMEOUT_MS: u64 = 30_000;
/// Default budget of the query embedding in a hybrid search.
pub const DEFAULT_HYBRID_BUDGET_MS: u64 = 150;
/// Default failures in a row that open the breaker.
pub const DEFAULT_BREAKER_FAILURES: u32 = 3;
/// Default time the open breaker refuses calls.
pub const DEFAULT_BREAKER_COOLDOWN_MS: u64 = 30_000;
/// Default chat model.
pub const DEFAULT_CHAT_MODEL: &str = "gpt-4o-mini";

/// Settings of the endpoint. Present only when a base URL is configured.
#[derive(Clone)]
pub struct LlmConfig {
    /// The API base, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`.
    pub base_url: String,
    pub api_key: Option<String>,
    pub chat_model: String,
    /// Embeddings are used only when an embedding model is named.
    pub embed_model: Option<String>,
    pub rerank_budget: Duration,
    pub first_token_budget: Duration,
    pub answer_budget: Duration,
    pub embed_timeout: Duration,
    /// How long a live search waits for its query's embedding before it keeps the lexical
    /// ranking alone.
    pub hybrid_budget: Duration,
    pub breaker_failures: u32,
    pub breaker_cooldown: Duration,
}

impl LlmConfig {
    /// Settings for `base_url` with every default.
    pub fn new(base_url: impl Into<String>) -> LlmConfig {
        LlmConfig {
            base_url: base_url.into(),
            api_key: None,
            chat_model: DEFAULT_CHAT_MODEL.to_string(),
            embed_model: None,
            rerank_budget: Duration::from_millis(DEFAULT_RERANK_BUDGET_MS),
            first_token_budget: Duration::from_millis(DEFAULT_FIRST_TOKEN_MS),
            answer_budget: Duration::from_millis(DEFAULT_ANSWER_MS),
            embed_timeout: Duration::from_millis(DEFAULT_EMBED_TIMEOUT_MS),
            hybrid_budget: Duration::from_millis(DEFAULT_HYBRID_BUDGET_MS),
            breaker_failures: DEFAULT_BREAKER_FAILURES,
            breaker_cooldown: Duration::from_millis(DEFAULT_BREAKER_COOLDOWN_MS),
        }
    }
}

impl fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmConfig")
            .field("base_url", &crate::telemetry::redact_url(&self.base_url))
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("chat_model", &self.chat_model)
            .field("embed_model", &self.embed_model)
            .field("rerank_budget", &self.rerank_budget)
            .field("first_token_budget", &self.first_token_budget)
            .field("answer_budget", &self.answer_budget)
            .field("embed_timeout", &self.embed_timeout)
            .field("hybrid_budget", &self.hybrid_budget)
            .field("breaker_failures", &self.breaker_failures)
            .field("breaker_cooldown", &self.breaker_cooldown)
            .finish()
    }
}

/// Why a language-model call gave nothing usable. Every caller falls back on the lexical
/// result; none of these reaches a requester.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the language-model breaker is open")]
    CircuitOpen,
    #[error("the language model did not answer within {0:?}")]
    Timeout(Duration),
    #[error("language-model endpoint error: {0}")]
    Endpoint(String),
    #[error("unusable language-model output: {0}")]
    Malformed(String),
    #[error("no embedding model is configured")]
    NoEmbeddingModel,
}

impl LlmError {
    /// A stable snake_case code for logs and reports.
    pub fn code(&self) -> &'static str {
        match self {
            LlmError::CircuitOpen => "circuit_open",
            LlmError::Timeout(_) => "timeout",
            LlmError::Endpoint(_) => "endpoint_error",
            LlmError::Malformed(_) => "malformed",
            LlmError::NoEmbeddingModel => "no_embedding_model",
        }
    }
}

impl crate::fault::Coded for LlmError {
    /// The model is optional: a model that is off, slow or failing is unavailable; output
    /// that cannot be used is the server's own failure.
    fn kind(&self) -> crate::fault::ErrorKind {
        use crate::fault::ErrorKind as K;
        match self {
            LlmError::Malformed(_) => K::Internal,
            LlmError::CircuitOpen
            | LlmError::Timeout(_)
            | LlmError::Endpoint(_)
            | LlmError::NoEmbeddingModel => K::Unavailable,
        }
    }

    fn code(&self) -> &'static str {
        LlmError::code(self)
    }
}

/// The endpoint, its settings and its breaker. Share it behind an `Arc`.
pub struct Llm {
    client: Client<OpenAIConfig>,
    config: LlmConfig,
    breaker: Breaker,
}

impl fmt::Debug for Llm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Llm")
            .field("config", &self.config)
            .field("breaker", &self.breaker.state())
            .finish()
    }
}

/// A chat prompt: the instructions and the requester's part.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub system: String,
    pub user: String,
    pub max_tokens: u32,
}

impl Llm {
    pub fn new(config: LlmConfig) -> Llm {
        let mut openai = OpenAIConfig::new().with_api_base(config.base_url.trim_end_matches('/'));
        // Local servers take any key; async-openai sends none when it is empty.
        openai = openai.with_api_key(config.api_key.clone().unwrap_or_default());
        Llm {
            client: Client::with_config(openai),
            breaker: Breaker::new(config.breaker_failures, config.breaker_cooldown),
            config,
        }
    }

    pub fn config(&self) -> &LlmConfig {
        &self.config
    }

    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    fn request(&self, prompt: &Prompt) -> Result<CreateChatCompletionRequest, LlmError> {
        let messages: Vec<ChatCompletionRequestMessage> = vec![
            ChatCompletionRequestSystemMessage::from(prompt.system.as_str()).into(),
            ChatCompletionRequestUserMessage::from(prompt.user.as_str()).into(),
        ];
        CreateChatCompletionRequestArgs::default()
            .model(self.config.chat_model.clone())
            .messages(messages)
            .max_completion_tokens(prompt.max_tokens)
            .temperature(0.0)
            .build()
            .map_err(|error| LlmError::Malformed(error.to_string()))
    }

    /// One chat completion, all of it within `budget`.
    pub async fn complete(&self, prompt: &Prompt, budget: Duration) -> Result<String, LlmError> {
        let permit = self.breaker.admit().ok_or(LlmError::CircuitOpen)?;
        let request = self.request(prompt)?;
        let chat = self.client.chat();
        let result = match tokio::time::timeout(budget, chat.create(request)).await {
            Err(_) => Err(LlmError::Timeout(budget)),
            Ok(Err(error)) => Err(endpoint_error(error)),
            Ok(Ok(response)) => response
                .choices
                .into_iter()
                .next()
                .and_then(|choice| choice.message.content)
                .ok_or_else(|| LlmError::Malformed("the completion has no content".to_string())),
        };
        report(permit, &result);
        result
    }

    /// A streamed chat completion: `on_token` gets each piece of text as it arrives. The
    /// first piece must come within the first-token budget, the whole within the answer
    /// budget. Returns the complete text.
    pub async fn stream(
        &self,
        prompt: &Prompt,
        on_token: &mut (dyn FnMut(&str) + Send),
    ) -> Result<String, LlmError> {
        let permit = self.breaker.admit().ok_or(LlmError::CircuitOpen)?;
        let result = self.stream_admitted(prompt, on_token).await;
        report(permit, &result);
        result
    }

    async fn stream_admitted(
        &self,
        prompt: &Prompt,
        on_token: &mut (dyn FnMut(&str) + Send),
    ) -> Result<String, LlmError> {
        let request = self.request(prompt)?;
        let started = Instant::now();
        let first_deadline = started + self.config.first_token_budget;
        let answer_deadline = started + self.config.answer_budget;
        let chat = self.client.chat();
        let mut stream =
            match tokio::time::timeout_at(first_deadline.into(), chat.create_stream(request)).await
            {
                Err(_) => return Err(LlmError::Timeout(self.config.first_token_budget)),
                Ok(Err(error)) => return Err(endpoint_error(error)),
                Ok(Ok(stream)) => stream,
            };
        let mut text = String::new();
        loop {
            let (deadline, budget) = if text.is_empty() {
                (first_deadline, self.config.first_token_budget)
            } else {
                (answer_deadline, self.config.answer_budget)
            };
            let next = match tokio::time::timeout_at(deadline.into(), stream.next()).await {
                Err(_) => return Err(LlmError::Timeout(budget)),
                Ok(None) => break,
                Ok(Some(Err(error))) => return Err(endpoint_error(error)),
                Ok(Some(Ok(chunk))) => chunk,
            };
            for choice in next.choices {
                if let Some(piece) = choice.delta.content
                    && !piece.is_empty()
                {
                    on_token(&piece);
                    text.push_str(&piece);
                }
            }
        }
        if text.trim().is_empty() {
            return Err(LlmError::Malformed(
                "the stream carried no text".to_string(),
            ));
        }
        Ok(text)
    }

    /// Embeddings of `texts`, in order, within the embedding timeout.
    pub async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, LlmError> {
        let model = self
            .config
            .embed_model
            .clone()
            .ok_or(LlmError::NoEmbeddingModel)?;
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let permit = self.breaker.admit().ok_or(LlmError::CircuitOpen)?;
        let count = texts.len();
        let request = CreateEmbeddingRequestArgs::default()
            .model(model)
            .input(EmbeddingInput::StringArray(texts))
            .build()
            .map_err(|error| LlmError::Malformed(error.to_string()))?;
        let budget = self.config.embed_timeout;
        let embeddings = self.client.embeddings();
        let result = match tokio::time::timeout(budget, embeddings.create(request)).await {
            Err(_) => Err(LlmError::Timeout(budget)),
            Ok(Err(error)) => Err(endpoint_error(error)),
            Ok(Ok(response)) => {
                let mut vectors = vec![Vec::new(); count];
                for item in response.data {
                    if let Some(slot) = vectors.get_mut(item.index as usize) {
                        *slot = item.embedding;
                    }
                }
                let dimension = vectors.first().map(Vec::len).unwrap_or_default();
                if dimension == 0 || vectors.iter().any(|v| v.len() != dimension) {
                    Err(LlmError::Malformed(format!(
                        "expected {count} embeddings of one dimension"
                    )))
                } else {
                    Ok(vectors)
                }
            }
        };
        report(permit, &result);
        result
    }
}

/// Tells the breaker how a call went: a refusal to use the output (malformed) is the
/// endpoint's fault as much as an error is.
fn report<T>(permit: breaker::Permit<'_>, result: &Result<T, LlmError>) {
    match result {
        Ok(_) => permit.succeed(),
        Err(error) => {
            tracing::warn!(code = error.code(), %error, "language model call failed");
            permit.fail()
        }
    }
}

fn endpoint_error(error: async_openai::error::OpenAIError) -> LlmError {
    match error {
        async_openai::error::OpenAIError::JSONDeserialize(error, _) => {
            LlmError::Malformed(error.to_string())
        }
        other => LlmError::Endpoint(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_key() {
        let mut config = LlmConfig::new("https://user:pw@llm.example/v1");
        config.api_key = Some("sk-secret-123".to_string());
        let shown = format!("{:?}", Llm::new(config));
        assert!(!shown.contains("sk-secret-123"), "{shown}");
        assert!(!shown.contains(":pw@"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }
}
