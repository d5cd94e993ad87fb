//! Ponte's integration tests, in one binary (one link, one process): a module per
//! feature, shared helpers in `common`.

mod api;
mod api_conversations;
mod assistant;
mod common;
mod config;
mod durability;
mod eval;
mod knowledge;
mod live;
mod llm;
mod store;
