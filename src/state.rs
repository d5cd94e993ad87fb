//! The application state shared by every request handler: cheap, cloneable handles to the
//! subsystems.

use crate::knowledge::KnowledgeBase;
use std::sync::Arc;

/// Handles to everything a request may need.
#[derive(Clone)]
pub struct AppState {
    pub knowledge: Arc<KnowledgeBase>,
}
