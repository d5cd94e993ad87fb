//! Ponte's integration tests, in one binary (one link, one process): a module per
//! feature, shared helpers in `common`.

mod api;
mod api_conversations;
mod api_knowledge;
mod assistant;
mod bridge;
mod common;
mod config;
mod desk;
mod durability;
mod eval;
mod knowledge;
mod lease;
mod live;
mod llm;
mod nodes;
mod reports;
mod store;
mod web;
