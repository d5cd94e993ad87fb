//! The orchestrator: the one place that composes the subsystems. For each requester input
//! it loads the conversation, asks the matcher what the text means, steps the pure state
//! machine, stores the new state *before* carrying out the effects (so a restart re-issues
//! a pending effect instead of losing it), then performs the effects against the store
//! (messages, tickets, hand-off) and feeds their results back into the machine.
//! Inputs to one conversation are serialised; different conversations run in parallel.
//! Every message is published on the live [`EventBus`] right after it is stored, under the
//! conversation's lock, so live subscribers see each conversation's messages in `seq` order.
//! With a language model and grounded answers on, a requester's question is followed, once
//! its reply is published and the lock released, by an answer streamed in the background
//! (see [`answers::LiveAnswers`]).
//!
//! This module owns the orchestrator's handles and shared helpers; the requester's inputs are
//! in `inputs`, carrying out a transition in `step`, the desk's side in `staff`.

use crate::assistant::Matcher;
use crate::conversation::{self, ChatStatus, MachineError, texts};
use crate::knowledge::KnowledgeBase;
use crate::lang::Language;
use crate::lease::{Lease, LocalLease};
use crate::live::{EventBus, LocalBus};
use crate::parameters;
use crate::store::{self, ConversationStatus, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

pub mod answers;
mod bridged;
mod inputs;
mod staff;
mod step;
pub use bridged::{BridgeInput, BridgeRoute, BridgeRouter, webhook_id};
pub use staff::DeskHooks;
use step::Target;

/// Who is talking: the requester's id and the groups that decide what they may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    pub id: String,
    #[serde(default)]
    pub groups: Vec<String>,
}

/// What the store keeps as a conversation's machine state: the machine's own state plus
/// the requester's groups (needed again for every later match).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Envelope {
    machine: conversation::Conversation,
    groups: Vec<String>,
}

/// Why an input was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("conversation {0:?} not found")]
    UnknownConversation(String),
    #[error("this conversation belongs to another requester")]
    NotYours,
    #[error("{error}")]
    Machine {
        error: MachineError,
        /// What the requester should read, in their language.
        reply: Option<String>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Knowledge(#[from] crate::knowledge::KnowledgeError),
    #[error("stored conversation state is unreadable: {0}")]
    Corrupt(String),
    #[error("background task failed: {0}")]
    Join(String),
    /// The requester is blocked by the desk: new messages are refused (nothing is deleted).
    #[error("this contact is blocked; new messages are not accepted")]
    Blocked,
    /// The requester tried to end a chat Ponte's own desk holds.
    #[error("conversation {0:?} is held by the desk: its attendant closes it")]
    DeskChat(String),
    /// A bridge reported about a conversation that is not handed to it.
    #[error("conversation {0:?} is not handed to this bridge")]
    NotBridged(String),
}

impl ChatError {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            ChatError::UnknownConversation(_) => "unknown_conversation",
            ChatError::NotYours => "forbidden",
            ChatError::Machine { error, .. } => error.code(),
            ChatError::Store(error) => error.code(),
            ChatError::Knowledge(_) => "index_error",
            ChatError::Corrupt(_) => "corrupt_state",
            ChatError::Join(_) => "internal",
            ChatError::Blocked => "contact_blocked",
            ChatError::NotBridged(_) => "not_bridged",
            ChatError::DeskChat(_) => "desk_chat",
        }
    }
}

impl crate::fault::Coded for ChatError {
    fn kind(&self) -> crate::fault::ErrorKind {
        use crate::fault::ErrorKind as K;
        match self {
            ChatError::UnknownConversation(_) => K::NotFound,
            ChatError::NotYours | ChatError::Blocked => K::Forbidden,
            ChatError::NotBridged(_) | ChatError::DeskChat(_) => K::Conflict,
            ChatError::Machine { error, .. } => error.kind(),
            ChatError::Store(error) => error.kind(),
            ChatError::Knowledge(error) => error.kind(),
            ChatError::Corrupt(_) | ChatError::Join(_) => K::Internal,
        }
    }

    fn code(&self) -> &'static str {
        ChatError::code(self)
    }
}

/// The result of one input: the stored conversation after it and every message it added
/// (the requester's own first, when there is one).
#[derive(Debug, Clone)]
pub struct Outcome {
    pub conversation: store::Conversation,
    pub messages: Vec<store::Message>,
    /// The input repeated a client message id already stored: nothing was done again.
    pub duplicate: bool,
    /// The input handed the conversation to this group of people.
    pub handoff: Option<String>,
}

/// Composes the store, the matcher and the conversation machine.
pub struct Orchestrator {
    /// The human desk, told about hand-offs and requester messages in human chats.
    desk: std::sync::OnceLock<std::sync::Weak<dyn staff::DeskHooks>>,
    /// The bridges to external chat services, asked where each hand-off goes.
    bridges: std::sync::OnceLock<std::sync::Weak<dyn bridged::BridgeRouter>>,
    store: Arc<dyn Store>,
    knowledge: Arc<KnowledgeBase>,
    matcher: RwLock<Arc<Matcher>>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Where every stored message and live notice is published.
    bus: Arc<dyn EventBus>,
    /// Whether this node may run the work that runs on one node only (start-up resume).
    lease: Arc<dyn Lease>,
    /// The resume lease taken at start, until [`Orchestrator::keep_resuming`] holds it on.
    resume_held: std::sync::Mutex<Option<crate::lease::Held>>,
    /// The chat parameters as last read, and when: read once a second at most rather than
    /// once per message (another node's change is seen within that second; this node's at
    /// once, see [`Orchestrator::forget_parameters`]).
    parameters: Mutex<Option<(std::time::Instant, conversation::Params)>>,
    /// The optional language model that re-ranks hesitant matches.
    llm: Option<Arc<crate::llm::Llm>>,
    /// Whether the language model also answers questions from the articles, streamed.
    grounded_answers: bool,
    /// Hybrid retrieval for those answers, when an embedding model is configured.
    hybrid: Option<Arc<crate::llm::hybrid::Hybrid>>,
    /// Where what happens to conversations goes for the reports.
    insight: Arc<crate::insight::Recorder>,
}

/// How long read parameters are trusted.
const PARAMETERS_TTL: std::time::Duration = std::time::Duration::from_secs(1);

fn status_of(status: ChatStatus) -> ConversationStatus {
    match status {
        ChatStatus::NotStarted | ChatStatus::Bot => ConversationStatus::Bot,
        ChatStatus::WaitingForAttendant => ConversationStatus::Queued,
        ChatStatus::Online => ConversationStatus::Chat,
        ChatStatus::Finished => ConversationStatus::Finished,
    }
}

impl Orchestrator {
    pub fn new(
        store: Arc<dyn Store>,
        knowledge: Arc<KnowledgeBase>,
        matcher: Arc<Matcher>,
    ) -> Self {
        Orchestrator {
            desk: std::sync::OnceLock::new(),
            bridges: std::sync::OnceLock::new(),
            insight: Arc::new(crate::insight::Recorder::new(store.clone())),
            store,
            knowledge,
            matcher: RwLock::new(matcher),
            locks: Mutex::new(HashMap::new()),
            bus: Arc::new(LocalBus::new()),
            lease: Arc::new(LocalLease),
            resume_held: std::sync::Mutex::new(None),
            parameters: Mutex::new(None),
            llm: None,
            grounded_answers: false,
            hybrid: None,
        }
    }

    /// Lets `llm` re-rank the matches the matcher hesitates on, within its budget.
    pub fn with_llm(mut self, llm: Option<Arc<crate::llm::Llm>>) -> Self {
        self.llm = llm;
        self
    }

    /// With a language model (see [`Orchestrator::with_llm`]), follows the assistant's reply
    /// to a question (articles listed, or nothing found) with an answer grounded in the
    /// articles the requester may read, streamed to the conversation's live feeds (see
    /// [`answers::LiveAnswers`]). The reply itself is never held for it.
    pub fn with_grounded_answers(mut self, on: bool) -> Self {
        self.grounded_answers = on;
        self
    }

    /// Finds the articles of grounded answers by hybrid retrieval.
    pub fn with_hybrid(mut self, hybrid: Option<Arc<crate::llm::hybrid::Hybrid>>) -> Self {
        self.hybrid = hybrid;
        self
    }

    /// The hybrid retrieval grounded answers use, if any.
    pub fn hybrid(&self) -> Option<&Arc<crate::llm::hybrid::Hybrid>> {
        self.hybrid.as_ref()
    }

    /// The lock that serialises a conversation's inputs (and keeps its messages published
    /// in `seq` order): for work that stores a message outside an input, such as an answer.
    pub fn conversation_lock(&self, conversation_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.lock_for(conversation_id)
    }

    /// Publishes on `bus` instead of the orchestrator's own in-process one.
    pub fn with_bus(mut self, bus: Arc<dyn EventBus>) -> Self {
        self.bus = bus;
        self
    }

    /// The bus every stored message is published on (the desk publishes there too).
    pub fn bus(&self) -> &Arc<dyn EventBus> {
        &self.bus
    }

    /// Takes leases from `lease` instead of the in-process one that always holds.
    pub fn with_lease(mut self, lease: Arc<dyn Lease>) -> Self {
        self.lease = lease;
        self
    }

    /// Where the work that must run on one node takes its lease (the desk's timer too).
    pub fn lease(&self) -> &Arc<dyn Lease> {
        &self.lease
    }

    /// Records what happens to conversations for the reports (`true`, the default) or not.
    pub fn with_reports(mut self, on: bool) -> Self {
        if !on {
            self.insight = Arc::new(crate::insight::Recorder::off(self.store.clone()));
        }
        self
    }

    /// The knowledge base the assistant answers from.
    pub fn knowledge(&self) -> &Arc<KnowledgeBase> {
        &self.knowledge
    }

    /// The recorder of report facts.
    pub fn insight(&self) -> &Arc<crate::insight::Recorder> {
        &self.insight
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Replaces the matcher (after a reindex changed the catalogue).
    pub fn set_matcher(&self, matcher: Arc<Matcher>) {
        *self.matcher.write().unwrap_or_else(|p| p.into_inner()) = matcher;
    }

    /// Retrains the matcher when the knowledge base changed since it was trained (an
    /// activity added, edited or removed must be recognised at once). Returns whether it
    /// retrained. Training takes a fraction of a second and runs off the async threads.
    pub async fn retrain_if_stale(&self) -> Result<bool, crate::assistant::MatcherError> {
        let current = self.matcher();
        if !current.is_stale() {
            return Ok(false);
        }
        let fresh = tokio::task::spawn_blocking(move || current.retrained())
            .await
            .map_err(|error| {
                crate::assistant::MatcherError::Knowledge(
                    crate::knowledge::KnowledgeError::Invalid(error.to_string()),
                )
            })??;
        self.set_matcher(Arc::new(fresh));
        tracing::info!("matcher retrained on the changed catalogue");
        Ok(true)
    }

    fn matcher(&self) -> Arc<Matcher> {
        self.matcher
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn lock_for(&self, conversation_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        if locks.len() > 10_000 {
            locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        }
        locks
            .entry(conversation_id.to_string())
            .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(())))
            .clone()
    }

    async fn params(&self) -> Result<conversation::Params, ChatError> {
        if let Some((read_at, params)) = &*self.parameters.lock().unwrap_or_else(|p| p.into_inner())
            && read_at.elapsed() < PARAMETERS_TTL
        {
            return Ok(params.clone());
        }
        let params = parameters::to_params(&self.store.parameters().await?);
        *self.parameters.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((std::time::Instant::now(), params.clone()));
        Ok(params)
    }

    /// Drops the cached parameters (after this node changed one).
    pub fn forget_parameters(&self) {
        *self.parameters.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    async fn load(
        &self,
        requester: &Requester,
        conversation_id: &str,
    ) -> Result<(store::Conversation, Envelope), ChatError> {
        let record = self
            .store
            .get_conversation(conversation_id)
            .await?
            .ok_or_else(|| ChatError::UnknownConversation(conversation_id.to_string()))?;
        let envelope = owned(requester, &record)?;
        Ok((record, envelope))
    }
}

fn machine_error(error: MachineError, language: Language) -> ChatError {
    let reply = error
        .user_reply()
        .map(|reply| texts::render(&reply, language));
    ChatError::Machine { error, reply }
}

/// The machine of `record`, when `requester` owns it.
fn owned(requester: &Requester, record: &store::Conversation) -> Result<Envelope, ChatError> {
    if record.requester_id != requester.id {
        return Err(ChatError::NotYours);
    }
    envelope_of(record)
}

fn envelope_of(record: &store::Conversation) -> Result<Envelope, ChatError> {
    serde_json::from_value(record.machine_state.clone())
        .map_err(|error| ChatError::Corrupt(error.to_string()))
}

fn to_json(envelope: &Envelope) -> Result<serde_json::Value, ChatError> {
    serde_json::to_value(envelope).map_err(|error| ChatError::Corrupt(error.to_string()))
}

/// A new random conversation id (UUID v4 form, from the OS's randomness).
pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // Extremely unlikely; fall back to time and a counter, still unique per process.
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes[..8].copy_from_slice(&(nanos as u64).to_le_bytes());
        bytes[8..].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
