//! Ponte: a chatbot bridge and virtual-assistant orchestrator for service-desk portals.
//!
//! # Layout
//! - [`cli`]: the command line (`serve`, `reindex`, `ask`, `eval`); parses and prints only.
//! - [`config`]: typed settings from a TOML file, the environment and flags.
//! - [`telemetry`]: structured logging.
//! - [`lang`]: the three end-user languages and a small detector.
//! - [`intent`]: the dialogue-control intent classifier (n-gram features, softmax model).
//! - [`conversation`]: the pure conversation state machine and the end-user texts.
//! - [`desk`]: the human desk's pure domain: people, presence, routing, queues, chat records,
//!   contacts, tools, all driven by replayable operations.
//! - [`attendance`]: the desk as a service: the book made durable by a write-ahead log,
//!   connected to the conversations, the lost-chat timer and attachment files.
//! - [`assistant`]: the intents on disk and the matcher that turns text into an understanding.
//! - [`knowledge`]: articles and activities, their sources and the tantivy index.
//! - [`store`]: persistence behind the `Store` trait (SQLite with WAL and group commit).
//! - [`parameters`]: the numbered chat parameters, defaults and validation.
//! - [`llm`]: the optional language model (re-ranking, grounded answers, embeddings) on a
//!   strict budget behind a circuit breaker.
//! - [`orchestrator`]: the one place composing store, matcher and conversation machine.
//! - [`chat`]: `ponte chat`, the assistant in a terminal.
//! - [`eval`]: the evaluation engines behind `ponte eval`.
//! - [`auth`]: roles, bearer tokens (stored hashed) and the `Authenticated` extractor.
//! - [`error`]: the API error enum and its table of stable codes.
//! - [`http`]: the routers, one per resource, and our extractors.
//! - [`ratelimit`]: the per-token request rate limit.
//! - [`jobs`]: background reindexes started through the API, with progress and errors.
//! - [`state`]: the shared handles given to every handler.
//! - [`server`]: runs the router and background workers on a listener until shutdown.
//! - [`shutdown`]: the Ctrl-C / SIGTERM signal.
//! - [`loadgen`]: `ponte bench load`, an HTTP load generator for a running server.
//! - [`progress`]: progress bars on a terminal, plain lines otherwise.

pub mod assistant;
pub mod attendance;
pub mod auth;
pub mod chat;
pub mod cli;
pub mod config;
pub mod conversation;
pub mod desk;
pub mod error;
pub mod eval;
pub mod guest;
pub mod http;
pub mod intent;
pub mod jobs;
pub mod knowledge;
pub mod lang;
pub mod live;
pub mod llm;
pub mod loadgen;
pub mod orchestrator;
pub mod pages;
pub mod parameters;
pub mod progress;
pub mod ratelimit;
pub mod server;
pub mod shutdown;
pub mod state;
pub mod store;
pub mod telemetry;
