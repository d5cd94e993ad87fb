//! Ponte: a chatbot bridge and virtual-assistant orchestrator for service-desk portals.
//!
//! # Layout
//! - [`app`]: the composition root: builds the app from `Config` and serves it on a listener.
//! - [`cli`]: the command line (`serve`, `reindex`, `ask`, `chat`, `eval`, `bench`); parses
//!   and prints only.
//! - [`ask`]: `ponte ask` without the printing: hits, decision, grounded answer.
//! - [`latency`]: latency quantiles from an HDR histogram, for reports.
//! - [`config`]: typed settings from a TOML file, the environment and flags.
//! - [`telemetry`]: structured logging and hiding secrets of logged URLs.
//! - [`lang`]: the three end-user languages and a small detector.
//! - [`channel`]: where a requester talks from (web chat, WhatsApp), one type for every layer.
//! - [`encoder`]: the optional local sentence encoder (multilingual USE v3 weights read from
//!   a directory) whose vectors join the intent classifier's features.
//! - [`intent`]: the dialogue-control intent classifier (n-gram features, softmax model).
//! - [`conversation`]: the pure conversation state machine and the end-user texts.
//! - [`desk`]: the human desk's pure domain: people, presence, routing, queues, chat records,
//!   contacts, tools, all driven by replayable operations.
//! - [`attendance`]: the desk as a service: the book made durable by a write-ahead log,
//!   connected to the conversations, the lost-chat timer and attachment files.
//! - [`assistant`]: the intents on disk and the matcher that turns text into an understanding.
//! - [`knowledge`]: articles and activities, their sources and the tantivy index.
//! - [`knowledge_sync`]: knowledge kept in step across nodes through the store's change log.
//! - [`store`]: persistence behind the `Store` trait (SQLite with WAL and group commit).
//! - [`parameters`]: the numbered chat parameters, defaults and validation.
//! - [`llm`]: the optional language model (re-ranking, composing grounded answers,
//!   embeddings) on a strict budget behind a circuit breaker; no orchestration, no config.
//! - [`orchestrator`]: the one place composing store, matcher and conversation machine;
//!   its `answers` streams grounded answers into live conversations.
//! - [`live`]: the live event bus (conversation and staff events) and the exactly-once feed.
//! - [`lease`]: leases for work that must run on one node, kept in the shared store.
//! - [`chat`]: `ponte chat`, the assistant in a terminal.
//! - [`eval`]: the evaluation engines behind `ponte eval`.
//! - [`fault`]: the one error model: every error's kind and stable code.
//! - [`bridge`]: the bridge to external chat services: signed webhooks both ways, the
//!   outbox's delivery, the Matrix adapter.
//! - [`guest`]: signed tokens of the widget's anonymous guests.
//! - [`auth`]: roles, identities and the token registry (tokens stored hashed; issued ones
//!   kept durably behind `IssuedTokens`).
//! - [`http`]: the routers, one per resource, our extractors (`http::auth`), the API error
//!   with the one map from error kinds to statuses (`http::error`).
//! - [`ratelimit`]: the per-token request rate limit.
//! - [`jobs`]: background reindexes started through the API, with progress and errors.
//! - [`http::state`]: the shared handles given to every handler.
//! - [`pages`]: the web pages of `src/web/` (HTML and assets, outside the API document).
//! - [`server`]: runs the router and background workers on a listener until shutdown.
//! - [`shutdown`]: the Ctrl-C / SIGTERM signal.
//! - `loadgen` (feature `devtools`): `ponte bench load`, an HTTP load generator for a
//!   running server.
//! - [`progress`]: progress bars on a terminal, plain lines otherwise.

pub mod app;
pub mod ask;
pub mod assistant;
pub mod attendance;
pub mod auth;
pub mod bridge;
pub mod channel;
pub mod chat;
pub mod cli;
pub mod config;
pub mod conversation;
pub mod desk;
pub mod encoder;
pub mod eval;
pub mod fault;
pub mod guest;
pub mod http;
pub mod insight;
pub mod intent;
pub mod jobs;
pub mod knowledge;
pub mod knowledge_sync;
pub mod lang;
pub mod latency;
pub mod lease;
pub mod live;
pub mod llm;
#[cfg(feature = "devtools")]
pub mod loadgen;
pub mod orchestrator;
pub mod pages;
pub mod parameters;
pub mod progress;
pub mod ratelimit;
pub mod server;
pub mod shutdown;
pub mod store;
pub mod telemetry;
