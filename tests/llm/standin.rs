//! A stand-in for an OpenAI-compatible endpoint: a real HTTP server on loopback speaking
//! `/v1/chat/completions` (plain and `stream: true` as server-sent events ending with
//! `data: [DONE]`) and `/v1/embeddings`, scripted per test (well-behaved, slow, failing,
//! malformed, breaking mid-stream; chunks paced like tokens; embeddings computed by a
//! test's own function) and recording every prompt and every embedded text it received.
//! Also used by `examples/llm_overhead.rs` to measure the plumbing on a release build.

#![allow(dead_code)]

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the stand-in answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Behaviour {
    /// Answers at once (streams in small chunks).
    Good,
    /// Waits this long before the answer (streams: before the first chunk).
    Slow(Duration),
    /// HTTP 500 with an OpenAI-style error body.
    Fail,
    /// HTTP 200 whose body (or first event) is not valid JSON.
    Malformed,
    /// Streams: this many good chunks, then an event that is not valid JSON (a stream
    /// that breaks after the requester saw part of it). Otherwise as `Good`.
    BreakAfter(usize),
}

type Replier = Arc<dyn Fn(&str) -> String + Send + Sync>;
type Embedder = Arc<dyn Fn(&str) -> Vec<f32> + Send + Sync>;

struct Shared {
    behaviour: Mutex<Behaviour>,
    reply: Mutex<Replier>,
    embedder: Mutex<Embedder>,
    /// Pause between two streamed chunks.
    pace: Mutex<Duration>,
    prompts: Mutex<Vec<String>>,
    embedded: Mutex<Vec<String>>,
}

/// A running stand-in; it stops when dropped (its task is aborted).
pub struct StandIn {
    pub base_url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StandIn {
    /// Binds 127.0.0.1:0 and serves until dropped. Replies `{"choice": 1}` by default.
    pub async fn start() -> StandIn {
        let shared = Arc::new(Shared {
            behaviour: Mutex::new(Behaviour::Good),
            reply: Mutex::new(Arc::new(|_: &str| "{\"choice\": 1}".to_string())),
            embedder: Mutex::new(Arc::new(vector_of)),
            pace: Mutex::new(Duration::ZERO),
            prompts: Mutex::new(Vec::new()),
            embedded: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/embeddings", post(embeddings))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        StandIn {
            base_url: format!("http://{address}/v1"),
            shared,
            task,
        }
    }

    pub fn behave(&self, behaviour: Behaviour) {
        *self.shared.behaviour.lock().unwrap() = behaviour;
    }

    /// The chat reply, computed from the whole prompt (system and user text).
    pub fn reply_with(&self, reply: impl Fn(&str) -> String + Send + Sync + 'static) {
        *self.shared.reply.lock().unwrap() = Arc::new(reply);
    }

    /// The embedding of each text (by default [`vector_of`]).
    pub fn embed_with(&self, embedder: impl Fn(&str) -> Vec<f32> + Send + Sync + 'static) {
        *self.shared.embedder.lock().unwrap() = Arc::new(embedder);
    }

    /// Waits `pace` between two streamed chunks, as a model writing token by token.
    pub fn pace(&self, pace: Duration) {
        *self.shared.pace.lock().unwrap() = pace;
    }

    /// Every chat prompt received (its messages' text joined), in order.
    pub fn prompts(&self) -> Vec<String> {
        self.shared.prompts.lock().unwrap().clone()
    }

    /// Every text sent for embedding, in order.
    pub fn embedded(&self) -> Vec<String> {
        self.shared.embedded.lock().unwrap().clone()
    }

    pub fn forget(&self) {
        self.shared.prompts.lock().unwrap().clear();
        self.shared.embedded.lock().unwrap().clear();
    }
}

fn behaviour(shared: &Shared) -> Behaviour {
    *shared.behaviour.lock().unwrap()
}

fn failure() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"error":{"message":"stand-in failure","type":"server_error","param":null,"code":null}}"#,
    )
        .into_response()
}

fn malformed() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"choices": [ {"index": oops"#,
    )
        .into_response()
}

async fn chat(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let prompt: String = request["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|message| message["content"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    shared.prompts.lock().unwrap().push(prompt.clone());
    let reply = (shared.reply.lock().unwrap().clone())(&prompt);
    let stream = request["stream"].as_bool() == Some(true);
    let model = request["model"].as_str().unwrap_or("stand-in").to_string();
    match behaviour(&shared) {
        Behaviour::Fail => return failure(),
        Behaviour::Malformed if !stream => return malformed(),
        Behaviour::Slow(delay) if !stream => tokio::time::sleep(delay).await,
        _ => {}
    }
    if !stream {
        return axum::Json(json!({
            "id": "chatcmpl-standin",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [{
                "index": 0,
                "message": { "role": "assistant", "content": reply },
                "finish_reason": "stop"
            }]
        }))
        .into_response();
    }
    let delay = match behaviour(&shared) {
        Behaviour::Slow(delay) => delay,
        _ => Duration::ZERO,
    };
    let malformed = behaviour(&shared) == Behaviour::Malformed;
    let break_after = match behaviour(&shared) {
        Behaviour::BreakAfter(chunks) => Some(chunks),
        _ => None,
    };
    let pace = *shared.pace.lock().unwrap();
    // Pieces of a few characters, as a model streams tokens.
    let mut events: Vec<String> = Vec::new();
    if malformed {
        events.push("data: {\"choices\": [oops\n\n".to_string());
    }
    let characters: Vec<char> = reply.chars().collect();
    for (index, piece) in characters.chunks(4).enumerate() {
        if break_after == Some(index) {
            events.push("data: {\"choices\": [oops\n\n".to_string());
            break;
        }
        let piece: String = piece.iter().collect();
        let chunk = json!({
            "id": "chatcmpl-standin",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [{ "index": 0, "delta": { "content": piece }, "finish_reason": null }]
        });
        events.push(format!("data: {chunk}\n\n"));
    }
    events.push("data: [DONE]\n\n".to_string());
    let body = futures_util::stream::unfold((events, 0usize), move |(events, next)| async move {
        if next >= events.len() {
            return None;
        }
        if next == 0 && !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if next > 0 && !pace.is_zero() {
            tokio::time::sleep(pace).await;
        }
        let bytes = Bytes::from(events[next].clone());
        Some((Ok::<_, std::convert::Infallible>(bytes), (events, next + 1)))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from_stream(body))
        .unwrap()
}

/// A deterministic bag-of-words vector: texts sharing words are close.
pub fn vector_of(text: &str) -> Vec<f32> {
    let mut vector = vec![0.0f32; 64];
    for word in text
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| word.len() > 2)
    {
        let bucket = word.bytes().fold(7u32, |hash, byte| {
            hash.wrapping_mul(31).wrapping_add(byte as u32)
        });
        vector[(bucket % 64) as usize] += 1.0;
    }
    vector[63] += 0.01;
    vector
}

async fn embeddings(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let inputs: Vec<String> = match &request["input"] {
        Value::String(text) => vec![text.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|item| item.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    shared
        .embedded
        .lock()
        .unwrap()
        .extend(inputs.iter().cloned());
    match behaviour(&shared) {
        Behaviour::Fail => return failure(),
        Behaviour::Malformed => return malformed(),
        Behaviour::Slow(delay) => tokio::time::sleep(delay).await,
        Behaviour::Good | Behaviour::BreakAfter(_) => {}
    }
    let embedder = shared.embedder.lock().unwrap().clone();
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, text)| json!({ "object": "embedding", "index": index, "embedding": embedder(text) }))
        .collect();
    axum::Json(json!({
        "object": "list",
        "model": request["model"],
        "data": data,
        "usage": { "prompt_tokens": 0, "total_tokens": 0 }
    }))
    .into_response()
}
