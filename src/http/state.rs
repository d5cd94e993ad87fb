//! The application state shared by every request handler: cheap, cloneable handles to the
//! subsystems. It belongs to the HTTP layer: the services below never see it.

use crate::attendance::Attendance;
use crate::auth::TokenStore;
use crate::jobs::ReindexJobs;
use crate::knowledge::KnowledgeBase;
use crate::llm::hybrid::Hybrid;
use crate::orchestrator::Orchestrator;
use crate::ratelimit::RateLimit;
use std::sync::Arc;

/// Handles to everything a request may need.
#[derive(Clone)]
pub struct AppState {
    pub knowledge: Arc<KnowledgeBase>,
    /// The conversation engine; absent in a search-only server (tests of the index alone).
    pub orchestrator: Option<Arc<Orchestrator>>,
    /// The bearer tokens callers identify with.
    pub auth: Arc<TokenStore>,
    /// Requests per second per token.
    pub rate_limit: Arc<RateLimit>,
    /// Background full reindexes started through the API.
    pub reindex_jobs: Arc<ReindexJobs>,
    /// The human desk; absent where there is no conversation engine.
    pub attendance: Option<Arc<Attendance>>,
    /// Hybrid retrieval (lexical and embeddings) for search, when an embedding model is
    /// configured; kept in step with the documents by the server's refresh worker.
    pub hybrid: Option<Arc<Hybrid>>,
    /// The bridges to external chat services; absent where there is no conversation engine.
    pub bridges: Option<Arc<crate::bridge::service::Bridges>>,
    /// Knowledge changes shared with the other nodes over the store; absent without a store.
    pub knowledge_sync: Option<Arc<crate::knowledge_sync::KnowledgeSync>>,
    /// Whether gap clusters show the requesters' texts (to admins and knowledge managers).
    pub gap_examples: bool,
    /// Staff accounts and their password sign-in sessions; absent without a store.
    pub sessions: Option<Arc<crate::auth::sessions::Sessions>>,
}

impl AppState {
    /// A state with no rate limit and no job yet.
    pub fn new(
        knowledge: Arc<KnowledgeBase>,
        orchestrator: Option<Arc<Orchestrator>>,
        auth: Arc<TokenStore>,
    ) -> Self {
        AppState {
            knowledge,
            orchestrator,
            auth,
            rate_limit: Arc::new(RateLimit::unlimited()),
            reindex_jobs: Arc::new(ReindexJobs::default()),
            attendance: None,
            hybrid: None,
            bridges: None,
            knowledge_sync: None,
            gap_examples: true,
            sessions: None,
        }
    }

    /// The same state searching with `hybrid` retrieval.
    pub fn with_hybrid(mut self, hybrid: Option<Arc<Hybrid>>) -> Self {
        self.hybrid = hybrid;
        self
    }

    /// The same state with the human desk.
    pub fn with_attendance(mut self, attendance: Arc<Attendance>) -> Self {
        self.attendance = Some(attendance);
        self
    }

    /// The same state with the bridges.
    pub fn with_bridges(mut self, bridges: Arc<crate::bridge::service::Bridges>) -> Self {
        self.bridges = Some(bridges);
        self
    }

    /// The same state signing staff in with passwords through `sessions`.
    pub fn with_sessions(mut self, sessions: Arc<crate::auth::sessions::Sessions>) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// The same state sharing knowledge changes with the other nodes through `sync`.
    pub fn with_knowledge_sync(mut self, sync: Arc<crate::knowledge_sync::KnowledgeSync>) -> Self {
        self.knowledge_sync = Some(sync);
        self
    }

    /// The same state showing gap examples or not.
    pub fn with_gap_examples(mut self, on: bool) -> Self {
        self.gap_examples = on;
        self
    }

    /// The conversation engine, or 503 `unavailable`.
    pub fn chat(&self) -> Result<&Arc<Orchestrator>, crate::http::error::ApiError> {
        self.orchestrator
            .as_ref()
            .ok_or(crate::http::error::ApiError::Unavailable)
    }

    /// The desk, or 503 `unavailable`.
    pub fn desk(&self) -> Result<&Arc<Attendance>, crate::http::error::ApiError> {
        self.attendance
            .as_ref()
            .ok_or(crate::http::error::ApiError::Unavailable)
    }

    /// The same state with `rate_limit`.
    pub fn with_rate_limit(mut self, rate_limit: RateLimit) -> Self {
        self.rate_limit = Arc::new(rate_limit);
        self
    }
}
