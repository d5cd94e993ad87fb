//! The application state shared by every request handler: cheap, cloneable handles to the
//! subsystems.

use crate::auth::TokenStore;
use crate::knowledge::KnowledgeBase;
use crate::orchestrator::Orchestrator;
use std::sync::Arc;

/// Handles to everything a request may need.
#[derive(Clone)]
pub struct AppState {
    pub knowledge: Arc<KnowledgeBase>,
    /// The conversation engine; absent in a search-only server (tests of the index alone).
    pub orchestrator: Option<Arc<Orchestrator>>,
    /// The bearer tokens callers identify with.
    pub auth: Arc<TokenStore>,
}
