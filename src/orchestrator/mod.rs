//! The orchestrator: the one place that composes the subsystems. For each requester input
//! it loads the conversation, asks the matcher what the text means, steps the pure state
//! machine, stores the new state *before* carrying out the effects (so a restart re-issues
//! a pending effect instead of losing it), then performs the effects against the store
//! (messages, tickets, hand-off) and feeds their results back into the machine.
//! Inputs to one conversation are serialised; different conversations run in parallel.
//! Every message is published to the live [`Hub`] right after it is stored, under the
//! conversation's lock, so live subscribers see each conversation's messages in `seq` order.
//! With a language model and grounded answers on, a requester's question is followed, once
//! its reply is published and the lock released, by an answer streamed in the background
//! (see [`crate::llm::answer::LiveAnswers`]).

use crate::assistant::Matcher;
use crate::conversation::{
    self, ChatStatus, Effect, Event, Expecting, MachineError, TicketSummary, Understanding, texts,
};
use crate::knowledge::{DocKind, Document, KnowledgeBase};
use crate::lang::Language;
use crate::live::Hub;
use crate::parameters;
use crate::store::{
    self, Channel, ConversationStatus, ConversationUpdate, NewConversation, NewMessage, NewTicket,
    SenderKind, Step, StepTarget, Store, StoreError, TicketStatus,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

mod staff;
pub use staff::DeskHooks;

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
        }
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
    store: Arc<dyn Store>,
    knowledge: Arc<KnowledgeBase>,
    matcher: RwLock<Arc<Matcher>>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Where every stored message is published for live delivery.
    hub: Arc<Hub>,
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
            store,
            knowledge,
            matcher: RwLock::new(matcher),
            locks: Mutex::new(HashMap::new()),
            hub: Arc::new(Hub::new()),
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
    /// [`crate::llm::answer::LiveAnswers`]). The reply itself is never held for it.
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

    /// Publishes to `hub` instead of the orchestrator's own.
    pub fn with_hub(mut self, hub: Arc<Hub>) -> Self {
        self.hub = hub;
        self
    }

    /// The hub every stored message is published to.
    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
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

    /// Opens a conversation for `requester` and runs its greeting.
    pub async fn open(
        &self,
        requester: &Requester,
        channel: Channel,
        language: Language,
    ) -> Result<Outcome, ChatError> {
        self.refuse_blocked(&requester.id).await?;
        let outcome = self.open_inner(requester, channel, language).await?;
        self.after_input(&outcome).await;
        Ok(outcome)
    }

    async fn open_inner(
        &self,
        requester: &Requester,
        channel: Channel,
        language: Language,
    ) -> Result<Outcome, ChatError> {
        let opened = Event::Opened {
            language,
            requester: requester.id.clone(),
        };
        self.start(
            requester,
            channel,
            language,
            opened,
            ConversationStatus::Bot,
        )
        .await
    }

    /// Creates a conversation whose machine starts with `first` (an opening event) and
    /// runs it.
    async fn start(
        &self,
        requester: &Requester,
        channel: Channel,
        language: Language,
        first: Event,
        status: ConversationStatus,
    ) -> Result<Outcome, ChatError> {
        let params = self.params().await?;
        let transition = conversation::Conversation::new()
            .step(&params, first)
            .map_err(|error| machine_error(error, language))?;
        let envelope = Envelope {
            machine: conversation::Conversation::new(),
            groups: requester.groups.clone(),
        };
        let new = NewConversation {
            id: new_id(),
            channel,
            requester_id: requester.id.clone(),
            language: language.tag().to_string(),
            status,
            queue_group: None,
            machine_state: to_json(&envelope)?,
        };
        let lock = self.lock_for(&new.id);
        let _guard = lock.lock().await;
        self.carry_out(Target::New(new), Vec::new(), envelope, transition, &params)
            .await
    }

    /// Posts requester text; `client_message_id` makes a retried post a no-op.
    pub async fn post(
        &self,
        requester: &Requester,
        conversation_id: &str,
        text: &str,
        client_message_id: Option<String>,
    ) -> Result<Outcome, ChatError> {
        self.refuse_blocked(&requester.id).await?;
        let (outcome, question) = self
            .post_inner(requester, conversation_id, text, client_message_id)
            .await?;
        self.after_input(&outcome).await;
        if let Some(question) = question {
            self.spawn_answer(question);
        }
        Ok(outcome)
    }

    /// Streams a grounded answer to `question` in the background, after the input's lock
    /// was released: the assistant's own reply is already stored and published.
    fn spawn_answer(&self, question: crate::llm::answer::Question) {
        let Some(llm) = self.llm.clone().filter(|_| self.grounded_answers) else {
            return;
        };
        let answers = crate::llm::answer::LiveAnswers {
            llm,
            knowledge: self.knowledge.clone(),
            hybrid: self.hybrid.clone(),
            store: self.store.clone(),
            hub: self.hub.clone(),
        };
        let lock = self.lock_for(&question.conversation_id);
        tokio::spawn(async move {
            match answers.answer(&question, Some(lock), &mut |_| {}).await {
                Ok(message) => tracing::debug!(
                    conversation = %question.conversation_id,
                    seq = message.seq,
                    "grounded answer stored"
                ),
                Err(error) => tracing::info!(
                    conversation = %question.conversation_id,
                    %error,
                    "no grounded answer; the assistant's reply stands"
                ),
            }
        });
    }

    async fn post_inner(
        &self,
        requester: &Requester,
        conversation_id: &str,
        text: &str,
        client_message_id: Option<String>,
    ) -> Result<(Outcome, Option<crate::llm::answer::Question>), ChatError> {
        let lock = self.lock_for(conversation_id);
        let _guard = lock.lock().await;
        let (record, envelope) = self.load(requester, conversation_id).await?;
        // A replayed post is answered from the store before any work: the conversation may
        // have moved on (even finished) since the original was acknowledged.
        if let Some(client_id) = &client_message_id
            && let Some(stored) = self
                .store
                .message_by_client_id(&record.id, client_id)
                .await?
        {
            return Ok((
                Outcome {
                    conversation: record,
                    messages: vec![stored],
                    duplicate: true,
                    handoff: None,
                },
                None,
            ));
        }
        let language = envelope.machine.language();
        let params = self.params().await?;
        let expecting = envelope.machine.expecting();
        let understanding = match expecting {
            Expecting::HumanChat | Expecting::Nothing => Understanding::Fallback,
            _ => {
                self.understand(text, language, &envelope.groups, expecting)
                    .await?
            }
        };
        // A question the assistant answers with articles, or cannot place at all, may be
        // answered from the articles by the language model, after the reply.
        let is_question = match (&understanding, expecting) {
            (Understanding::Articles { hits }, _) => !hits.is_empty(),
            (Understanding::Fallback, Expecting::FreeText | Expecting::ArticleTitle) => true,
            _ => false,
        };
        let event = Event::RequesterText {
            text: text.to_string(),
            understanding,
        };
        // With people, the machine hears first whether anyone is there to read the text
        // (parameter 447 answers a requester who writes into the void).
        let presence = match expecting {
            Expecting::HumanChat => self.someone_present(&record.id).await,
            _ => None,
        };
        // Validate before storing anything: a refused input leaves no trace.
        let transition = match presence {
            Some(online) => {
                let noticed = envelope
                    .machine
                    .step(&params, Event::AttendantPresence { online })
                    .map_err(|error| machine_error(error, language))?;
                let written = noticed
                    .conversation
                    .step(&params, event)
                    .map_err(|error| machine_error(error, language))?;
                conversation::Transition {
                    conversation: written.conversation,
                    effects: noticed.effects.into_iter().chain(written.effects).collect(),
                }
            }
            None => envelope
                .machine
                .step(&params, event)
                .map_err(|error| machine_error(error, language))?,
        };
        let groups = envelope.groups.clone();
        let input = requester_message(
            &record.id,
            requester,
            text.to_string(),
            None,
            client_message_id,
        );
        let outcome = self
            .carry_out(
                Target::Existing(record),
                vec![input],
                envelope,
                transition,
                &params,
            )
            .await?;
        if outcome.duplicate {
            // Another node stored the same client id between the check above and now.
            return Ok((outcome, None));
        }
        let still_with_assistant =
            outcome.handoff.is_none() && outcome.conversation.status == ConversationStatus::Bot;
        let question =
            (is_question && still_with_assistant).then(|| crate::llm::answer::Question {
                conversation_id: outcome.conversation.id.clone(),
                text: text.to_string(),
                language,
                groups,
            });
        Ok((outcome, question))
    }

    /// Chooses one of the options offered last.
    pub async fn choose(
        &self,
        requester: &Requester,
        conversation_id: &str,
        option_id: &str,
    ) -> Result<Outcome, ChatError> {
        self.refuse_blocked(&requester.id).await?;
        let outcome = self
            .choose_inner(requester, conversation_id, option_id)
            .await?;
        self.after_input(&outcome).await;
        Ok(outcome)
    }

    async fn choose_inner(
        &self,
        requester: &Requester,
        conversation_id: &str,
        option_id: &str,
    ) -> Result<Outcome, ChatError> {
        let lock = self.lock_for(conversation_id);
        let _guard = lock.lock().await;
        let (record, envelope) = self.load(requester, conversation_id).await?;
        let language = envelope.machine.language();
        let params = self.params().await?;
        let label = envelope
            .machine
            .offers()
            .iter()
            .find(|offer| offer.id == option_id)
            .map(|offer| texts::render_label(offer, language));
        let transition = envelope
            .machine
            .step(
                &params,
                Event::OptionChosen {
                    option_id: option_id.to_string(),
                },
            )
            .map_err(|error| machine_error(error, language))?;
        let chosen = requester_message(
            &record.id,
            requester,
            label.unwrap_or_else(|| option_id.to_string()),
            Some(json!({ "option": option_id })),
            None,
        );
        self.carry_out(
            Target::Existing(record),
            vec![chosen],
            envelope,
            transition,
            &params,
        )
        .await
    }

    /// Re-issues whatever a conversation was waiting for when the process stopped (a ticket
    /// half created, a list half fetched) and asks its current question again.
    pub async fn resume(&self, conversation_id: &str) -> Result<Outcome, ChatError> {
        let lock = self.lock_for(conversation_id);
        let _guard = lock.lock().await;
        let record = self
            .store
            .get_conversation(conversation_id)
            .await?
            .ok_or_else(|| ChatError::UnknownConversation(conversation_id.to_string()))?;
        let envelope = envelope_of(&record)?;
        let language = envelope.machine.language();
        let params = self.params().await?;
        let transition = envelope
            .machine
            .step(&params, Event::Resumed)
            .map_err(|error| machine_error(error, language))?;
        self.carry_out(
            Target::Existing(record),
            Vec::new(),
            envelope,
            transition,
            &params,
        )
        .await
    }

    /// Resumes every conversation that was waiting on an effect (call once at start).
    pub async fn resume_pending(&self) -> Result<usize, ChatError> {
        let mut resumed = 0;
        let filter = store::ConversationFilter {
            status: Some(ConversationStatus::Bot),
            limit: store::MAX_PAGE,
            ..Default::default()
        };
        for record in self.store.list_conversations(filter).await? {
            let Ok(envelope) = envelope_of(&record) else {
                continue;
            };
            if envelope.machine.state().waiting_for_effect() {
                match self.resume(&record.id).await {
                    Ok(_) => resumed += 1,
                    Err(error) => {
                        tracing::warn!(conversation = %record.id, %error, "could not resume")
                    }
                }
            }
        }
        Ok(resumed)
    }

    /// The stored conversation, checked to belong to `requester`.
    pub async fn conversation(
        &self,
        requester: &Requester,
        conversation_id: &str,
    ) -> Result<store::Conversation, ChatError> {
        Ok(self.load(requester, conversation_id).await?.0)
    }

    /// What the conversation offers now and its status, for a client that (re)connects.
    pub async fn machine_view(
        &self,
        requester: &Requester,
        conversation_id: &str,
    ) -> Result<serde_json::Value, ChatError> {
        let (_, envelope) = self.load(requester, conversation_id).await?;
        let language = envelope.machine.language();
        Ok(json!({
            "state": envelope.machine.state().name(),
            "status": envelope.machine.status(),
            "ticket": envelope.machine.ticket(),
            "options": offers_json(envelope.machine.offers(), language),
        }))
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
        if record.requester_id != requester.id {
            return Err(ChatError::NotYours);
        }
        let envelope = envelope_of(&record)?;
        Ok((record, envelope))
    }

    async fn understand(
        &self,
        text: &str,
        language: Language,
        groups: &[String],
        expecting: Expecting,
    ) -> Result<Understanding, ChatError> {
        let matcher = self.matcher();
        let input = crate::llm::rerank::OwnedInput {
            text: text.to_string(),
            language,
            groups: groups.to_vec(),
            expecting,
        };
        let (decision, input) = {
            let matcher = matcher.clone();
            tokio::task::spawn_blocking(move || (matcher.decide(&input.as_input()), input))
                .await
                .map_err(|error| ChatError::Join(error.to_string()))?
        };
        let decision = decision?;
        Ok(match &self.llm {
            Some(llm) => crate::llm::rerank::refine(llm, &matcher, input, decision).await,
            None => decision.understanding,
        })
    }

    /// Carries out a transition and the ones its effects lead to, until nothing is pending.
    ///
    /// Each step is one atomic write ([`Store::commit_step`]): the machine's new state, the
    /// input's own message (`input`, with the first step only) and every reply of the step
    /// are stored together or not at all, then published. Effects with a result (a ticket
    /// to create, tickets to list or attach) run only after their step is durable, and
    /// their result is the next step's event; the state that waits for one is what
    /// start-up resumes ([`Orchestrator::resume_pending`]), and each is idempotent. So a
    /// crash anywhere leaves either the input unstored (the client's retry runs it) or the
    /// input processed with its replies, never a half.
    async fn carry_out(
        &self,
        target: Target,
        input: Vec<NewMessage>,
        mut envelope: Envelope,
        first: conversation::Transition,
        params: &conversation::Params,
    ) -> Result<Outcome, ChatError> {
        let mut record = target;
        let mut input = input;
        let mut messages = Vec::new();
        let mut handoff = None;
        let mut transition = first;
        loop {
            envelope.machine = transition.conversation.clone();
            let language = envelope.machine.language();
            let id = record.id().to_string();
            let mut status = status_of(envelope.machine.status());
            let mut queue_group = record.queue_group().cloned();
            let mut replies: Vec<NewMessage> = Vec::new();
            let mut shown = Vec::new();
            let mut actions = Vec::new();
            for effect in transition.effects {
                match effect {
                    Effect::Handoff { group, ticket } => {
                        handoff = Some(group.clone());
                        status = ConversationStatus::Queued;
                        queue_group = Some(group.clone());
                        shown.push(json!({
                            "event": "handoff", "group": group, "ticket": ticket,
                        }));
                    }
                    // A hand-off in the same step decides the status; the machine's own
                    // status applies otherwise.
                    Effect::SetStatus(chat_status) => {
                        if status != ConversationStatus::Queued || chat_status != ChatStatus::Bot {
                            status = status_of(chat_status);
                        }
                    }
                    Effect::Say(reply) => {
                        let body = texts::render_text(reply.text_key, &reply.args, language);
                        let mut payload = json!({
                            "text_key": reply.text_key,
                            "options": offers_json(&reply.options, language),
                        });
                        // A reply about a ticket names it, for the client's ticket display.
                        if let Some((_, number)) = reply
                            .args
                            .iter()
                            .find(|(arg, _)| *arg == texts::Arg::Ticket)
                        {
                            payload["ticket"] = json!(number);
                        }
                        replies.push(assistant_message(&id, body, payload));
                    }
                    // Display events for the client (the article card, its collapse, the
                    // portal page to open) travel as bodiless assistant messages after the
                    // step's replies.
                    Effect::ShowArticle { article_id } => {
                        let article = self.article_card(&article_id, &envelope.groups)?;
                        shown.push(json!({ "event": "show_article", "article": article }));
                    }
                    Effect::CollapseArticle { article_id } => {
                        shown
                            .push(json!({ "event": "collapse_article", "article_id": article_id }));
                    }
                    Effect::OpenUrl { url } => {
                        shown.push(json!({ "event": "open_url", "url": url }));
                    }
                    action @ (Effect::CreateTicket(_)
                    | Effect::ListOpenTickets { .. }
                    | Effect::AttachTicket { .. }) => actions.push(action),
                    Effect::Forward { .. } => {}
                }
            }
            let machine_state = to_json(&envelope)?;
            let step_messages: Vec<NewMessage> = input
                .drain(..)
                .chain(replies)
                .chain(
                    shown
                        .into_iter()
                        .map(|payload| assistant_message(&id, String::new(), payload)),
                )
                .collect();
            let step_target = match &record {
                Target::New(new) => Some(StepTarget::Create(NewConversation {
                    status,
                    queue_group,
                    machine_state,
                    ..new.clone()
                })),
                Target::Existing(stored) => {
                    // A step that changed nothing (a message forwarded in a live chat)
                    // only appends.
                    let unchanged = status == stored.status
                        && queue_group == stored.queue_group
                        && machine_state == stored.machine_state;
                    match (unchanged, step_messages.is_empty()) {
                        (true, true) => None,
                        (true, false) => Some(StepTarget::Keep { id: id.clone() }),
                        (false, _) => Some(StepTarget::Update(ConversationUpdate {
                            id: id.clone(),
                            expected_version: stored.version,
                            status,
                            queue_group,
                            machine_state,
                        })),
                    }
                }
            };
            if let Some(step_target) = step_target {
                let committed = self
                    .commit(Step {
                        target: step_target,
                        messages: step_messages,
                    })
                    .await?;
                if let Some(stored) = committed.duplicate {
                    // Another node stored the same client id between our check and now.
                    return Ok(Outcome {
                        conversation: record.into_existing()?,
                        messages: vec![stored],
                        duplicate: true,
                        handoff: None,
                    });
                }
                let conversation = match committed.conversation {
                    Some(conversation) => conversation,
                    // A kept row only moved its last sequence number.
                    None => {
                        let mut conversation = record.into_existing()?;
                        if let Some(last) = committed.messages.last() {
                            conversation.last_seq = conversation.last_seq.max(last.seq);
                        }
                        conversation
                    }
                };
                record = Target::Existing(conversation);
                messages.extend(committed.messages);
            }
            debug_assert!(actions.len() <= 1, "one effect with a result per step");
            let mut follow_up = None;
            for action in actions {
                follow_up = Some(self.perform(record.existing()?, action).await?);
            }
            let Some(event) = follow_up else {
                return Ok(Outcome {
                    conversation: record.into_existing()?,
                    messages,
                    duplicate: false,
                    handoff,
                });
            };
            transition = envelope
                .machine
                .step(params, event)
                .map_err(|error| machine_error(error, language))?;
        }
    }

    /// Commits one step and publishes the messages it stored, in order, to the live hub.
    async fn commit(&self, step: Step) -> Result<store::StepCommitted, ChatError> {
        let committed = self.store.commit_step(step).await?;
        for message in &committed.messages {
            self.hub.publish(message);
        }
        Ok(committed)
    }

    /// Performs an effect that has a result (after the step asking for it is durable) and
    /// returns the event that reports it to the machine.
    async fn perform(
        &self,
        conversation: &store::Conversation,
        effect: Effect,
    ) -> Result<Event, ChatError> {
        Ok(match effect {
            Effect::CreateTicket(new) => {
                let created = self
                    .store
                    .create_ticket(NewTicket {
                        requester_id: new.requester.clone(),
                        activity_id: new.activity_id.clone(),
                        contract: new.contract.clone(),
                        group: new.group.clone(),
                        description: new.description.clone(),
                        status: TicketStatus::Open,
                        tags: new.tags.clone(),
                        conversation_id: Some(conversation.id.clone()),
                        request_key: Some(format!("{}:{}", conversation.id, new.request_seq)),
                    })
                    .await;
                match created {
                    Ok(ticket) => Event::TicketCreated {
                        number: ticket.number,
                    },
                    Err(error) => {
                        tracing::error!(%error, "ticket creation failed");
                        Event::EffectFailed
                    }
                }
            }
            Effect::ListOpenTickets { preferred_activity } => {
                match self
                    .store
                    .open_tickets_for(&conversation.requester_id)
                    .await
                {
                    Ok(mut tickets) => {
                        // The matched activity's tickets first, newest first within.
                        tickets.sort_by_key(|ticket| {
                            (
                                Some(&ticket.activity_id) != preferred_activity.as_ref(),
                                std::cmp::Reverse(ticket.created_at),
                            )
                        });
                        Event::OpenTickets {
                            tickets: tickets
                                .into_iter()
                                .map(|ticket| TicketSummary {
                                    subject: subject_of(&ticket.description),
                                    number: ticket.number,
                                    activity_id: Some(ticket.activity_id),
                                    group: Some(ticket.group),
                                })
                                .collect(),
                        }
                    }
                    Err(error) => {
                        tracing::error!(%error, "listing tickets failed");
                        Event::EffectFailed
                    }
                }
            }
            Effect::AttachTicket { number } => {
                let owned = self
                    .store
                    .get_ticket(&number)
                    .await?
                    .is_some_and(|ticket| ticket.requester_id == conversation.requester_id);
                if !owned {
                    Event::EffectFailed
                } else {
                    match self.store.attach_ticket(&number, &conversation.id).await {
                        Ok(()) => Event::TicketAttached { number },
                        Err(error) => {
                            tracing::error!(%error, "attaching the ticket failed");
                            Event::EffectFailed
                        }
                    }
                }
            }
            other => {
                debug_assert!(false, "{other:?} has no result");
                Event::EffectFailed
            }
        })
    }

    fn article_card(
        &self,
        article_id: &str,
        groups: &[String],
    ) -> Result<serde_json::Value, ChatError> {
        let document = self.knowledge.get(DocKind::Article, article_id)?;
        Ok(match document {
            Some(Document::Article(article)) if article.visibility.allows(groups) => json!({
                "id": article.id,
                "title": article.title,
                "summary": article.summary,
                "url": article.url,
            }),
            _ => json!({ "id": article_id }),
        })
    }
}

/// Where the first step of [`Orchestrator::carry_out`] writes.
enum Target {
    /// A stored conversation, updated.
    Existing(store::Conversation),
    /// A conversation created by the step.
    New(NewConversation),
}

impl Target {
    fn id(&self) -> &str {
        match self {
            Target::Existing(conversation) => &conversation.id,
            Target::New(new) => &new.id,
        }
    }

    /// The stored conversation: a new one exists once its first step is committed.
    fn existing(&self) -> Result<&store::Conversation, ChatError> {
        match self {
            Target::Existing(conversation) => Ok(conversation),
            Target::New(new) => Err(not_created(&new.id)),
        }
    }

    fn into_existing(self) -> Result<store::Conversation, ChatError> {
        match self {
            Target::Existing(conversation) => Ok(conversation),
            Target::New(new) => Err(not_created(&new.id)),
        }
    }

    fn queue_group(&self) -> Option<&String> {
        match self {
            Target::Existing(conversation) => conversation.queue_group.as_ref(),
            Target::New(new) => new.queue_group.as_ref(),
        }
    }
}

fn not_created(id: &str) -> ChatError {
    ChatError::Corrupt(format!("conversation {id} was not created"))
}

/// What the requester sent (text, or the label of a chosen option), to store with the step
/// it causes.
fn requester_message(
    conversation_id: &str,
    requester: &Requester,
    body: String,
    payload: Option<serde_json::Value>,
    client_message_id: Option<String>,
) -> NewMessage {
    NewMessage {
        conversation_id: conversation_id.to_string(),
        sender_kind: SenderKind::Requester,
        sender_id: Some(requester.id.clone()),
        body,
        payload,
        client_message_id,
    }
}

fn assistant_message(
    conversation_id: &str,
    body: String,
    payload: serde_json::Value,
) -> NewMessage {
    NewMessage {
        conversation_id: conversation_id.to_string(),
        sender_kind: SenderKind::Assistant,
        sender_id: None,
        body,
        payload: Some(payload),
        client_message_id: None,
    }
}

fn offers_json(offers: &[conversation::Offer], language: Language) -> serde_json::Value {
    serde_json::Value::Array(
        offers
            .iter()
            .map(|offer| json!({ "id": offer.id, "label": texts::render_label(offer, language) }))
            .collect(),
    )
}

fn subject_of(description: &str) -> String {
    let line = description.lines().next().unwrap_or_default();
    let mut subject: String = line.chars().take(80).collect();
    if line.chars().count() > 80 {
        subject.push('…');
    }
    subject
}

fn machine_error(error: MachineError, language: Language) -> ChatError {
    let reply = error
        .user_reply()
        .map(|reply| texts::render(&reply, language));
    ChatError::Machine { error, reply }
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
