//! The assistant end to end through the orchestrator, a real SQLite file, the bundled
//! knowledge base and intents: every flow of DESIGN.md A and B in the three languages,
//! fallback and ambiguity, a restart in the middle of a ticket creation, and requesters
//! kept apart.

mod determinism;
mod encoder;
mod flows;
mod matcher;
mod restart;
mod understanding;

use async_trait::async_trait;
use ponte::assistant::{Matcher, load_intents};
use ponte::knowledge::index::rebuild;
use ponte::knowledge::{KnowledgeBase, Sources};
use ponte::orchestrator::{Orchestrator, Outcome, Requester};
use ponte::store::{self, Store, StoreOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The bundled knowledge base and the matcher trained on it, built once per test binary.
/// Its sources are a copy of `knowledge-index/`, so a test that writes a document through
/// it can never change the repository's.
pub struct Shared {
    _dir: tempfile::TempDir,
    _sources: tempfile::TempDir,
    pub knowledge: Arc<KnowledgeBase>,
    pub matcher: Arc<Matcher>,
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let copy = tempfile::tempdir().unwrap();
        crate::common::copy_dir(&repo().join("knowledge-index"), copy.path());
        let sources = Sources::new(copy.path());
        rebuild(dir.path(), &sources, &mut |_| {}).unwrap();
        let knowledge = Arc::new(KnowledgeBase::open(dir.path(), Some(sources)).unwrap());
        let intents = load_intents(&repo().join("intents")).unwrap();
        let matcher =
            Arc::new(Matcher::build(&intents, knowledge.clone(), Default::default()).unwrap());
        Shared {
            _dir: dir,
            _sources: copy,
            knowledge,
            matcher,
        }
    })
}

/// A SQLite store in a file of its own.
pub async fn sqlite(dir: &Path) -> Arc<dyn Store> {
    let url = format!("sqlite://{}", dir.join("ponte.db").display());
    store::open(&url, StoreOptions::default()).await.unwrap()
}

pub fn orchestrator(store: Arc<dyn Store>) -> Orchestrator {
    let shared = shared();
    Orchestrator::new(store, shared.knowledge.clone(), shared.matcher.clone())
}

pub fn requester(id: &str) -> Requester {
    Requester {
        id: id.to_string(),
        groups: Vec::new(),
    }
}

/// Opens a conversation and creates a ticket through it the way a requester would: the
/// problem, "create a ticket", the description, then the confirmation. Returns the
/// conversation id and the last outcome.
pub async fn ticket_by_chat(
    chat: &Orchestrator,
    who: &Requester,
    language: ponte::lang::Language,
    [problem, description, yes]: [&str; 3],
) -> (String, Outcome) {
    let opened = chat
        .open(who, ponte::store::Channel::Web, language)
        .await
        .unwrap();
    let id = opened.conversation.id.clone();
    chat.post(who, &id, problem, None).await.unwrap();
    chat.choose(who, &id, "create_ticket").await.unwrap();
    chat.post(who, &id, description, None).await.unwrap();
    let created = chat.post(who, &id, yes, None).await.unwrap();
    (id, created)
}

/// The ids of the options offered by the last assistant message that offered any.
pub fn offered(outcome: &Outcome) -> Vec<String> {
    outcome
        .messages
        .iter()
        .rev()
        .filter_map(|message| message.payload.as_ref())
        .filter_map(|payload| payload.get("options").and_then(|o| o.as_array()))
        .find(|options| !options.is_empty())
        .map(|options| {
            options
                .iter()
                .filter_map(|option| option["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The text keys of the assistant's messages, in order.
pub fn keys(outcome: &Outcome) -> Vec<String> {
    outcome
        .messages
        .iter()
        .filter_map(|message| message.payload.as_ref())
        .filter_map(|payload| payload.get("text_key").and_then(|k| k.as_str()))
        .map(str::to_string)
        .collect()
}

/// Everything the assistant said, joined.
pub fn said(outcome: &Outcome) -> String {
    outcome
        .messages
        .iter()
        .filter(|message| message.sender_kind == store::SenderKind::Assistant)
        .map(|message| message.body.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A store that delegates to another and can be told to stall ticket creation forever
/// (before or after the ticket is written), to cut an orchestrator off mid-effect as a crash
/// would.
pub struct Stalling {
    pub inner: Arc<dyn Store>,
    pub stall_before_create: bool,
    pub stall_after_create: bool,
}

#[async_trait]
impl Store for Stalling {
    async fn create_conversation(
        &self,
        new: store::NewConversation,
    ) -> Result<store::Conversation, store::StoreError> {
        self.inner.create_conversation(new).await
    }
    async fn get_conversation(
        &self,
        id: &str,
    ) -> Result<Option<store::Conversation>, store::StoreError> {
        self.inner.get_conversation(id).await
    }
    async fn update_conversation(
        &self,
        update: store::ConversationUpdate,
    ) -> Result<store::Conversation, store::StoreError> {
        self.inner.update_conversation(update).await
    }
    async fn list_conversations(
        &self,
        filter: store::ConversationFilter,
    ) -> Result<Vec<store::Conversation>, store::StoreError> {
        self.inner.list_conversations(filter).await
    }
    async fn append_message(
        &self,
        new: store::NewMessage,
    ) -> Result<store::Appended, store::StoreError> {
        self.inner.append_message(new).await
    }
    async fn commit_step(
        &self,
        step: store::Step,
    ) -> Result<store::StepCommitted, store::StoreError> {
        self.inner.commit_step(step).await
    }
    async fn messages_after(
        &self,
        conversation: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<store::Message>, store::StoreError> {
        self.inner
            .messages_after(conversation, after_seq, limit)
            .await
    }
    async fn create_ticket(
        &self,
        new: store::NewTicket,
    ) -> Result<store::Ticket, store::StoreError> {
        if self.stall_before_create {
            std::future::pending::<()>().await;
        }
        let ticket = self.inner.create_ticket(new).await?;
        if self.stall_after_create {
            std::future::pending::<()>().await;
        }
        Ok(ticket)
    }
    async fn message_by_client_id(
        &self,
        conversation: &str,
        client_message_id: &str,
    ) -> Result<Option<store::Message>, store::StoreError> {
        self.inner
            .message_by_client_id(conversation, client_message_id)
            .await
    }
    async fn get_ticket(&self, number: &str) -> Result<Option<store::Ticket>, store::StoreError> {
        self.inner.get_ticket(number).await
    }
    async fn open_tickets_for(
        &self,
        requester: &str,
    ) -> Result<Vec<store::Ticket>, store::StoreError> {
        self.inner.open_tickets_for(requester).await
    }
    async fn attach_ticket(
        &self,
        number: &str,
        conversation: &str,
    ) -> Result<(), store::StoreError> {
        self.inner.attach_ticket(number, conversation).await
    }
    async fn add_ticket_tags(
        &self,
        number: &str,
        tags: &[String],
    ) -> Result<store::Ticket, store::StoreError> {
        self.inner.add_ticket_tags(number, tags).await
    }
    async fn set_ticket_status(
        &self,
        number: &str,
        status: store::TicketStatus,
    ) -> Result<store::Ticket, store::StoreError> {
        self.inner.set_ticket_status(number, status).await
    }
    async fn parameters(
        &self,
    ) -> Result<std::collections::BTreeMap<String, String>, store::StoreError> {
        self.inner.parameters().await
    }
    async fn parameter(&self, key: &str) -> Result<Option<String>, store::StoreError> {
        self.inner.parameter(key).await
    }
    async fn set_parameter(&self, key: &str, value: &str) -> Result<(), store::StoreError> {
        self.inner.set_parameter(key, value).await
    }
    async fn desk_append(&self, op: &str) -> Result<i64, store::StoreError> {
        self.inner.desk_append(op).await
    }
    async fn desk_append_after(&self, op: &str, expected: i64) -> Result<i64, store::StoreError> {
        self.inner.desk_append_after(op, expected).await
    }
    async fn desk_snapshot(&self, state: &str, through: i64) -> Result<(), store::StoreError> {
        self.inner.desk_snapshot(state, through).await
    }
    async fn desk_load(&self) -> Result<store::DeskLog, store::StoreError> {
        self.inner.desk_load().await
    }
    async fn close(&self) {
        self.inner.close().await
    }
    async fn ping(&self) -> Result<(), store::StoreError> {
        self.inner.ping().await
    }
    async fn insert_token(
        &self,
        new: store::NewToken,
    ) -> Result<store::StoredToken, store::StoreError> {
        self.inner.insert_token(new).await
    }
    async fn tokens(&self) -> Result<Vec<store::StoredToken>, store::StoreError> {
        self.inner.tokens().await
    }
    async fn delete_token(&self, id: &str) -> Result<store::StoredToken, store::StoreError> {
        self.inner.delete_token(id).await
    }
    async fn put_account(&self, account: store::NewAccount) -> Result<store::StaffAccount, E> {
        self.inner.put_account(account).await
    }
    async fn account(&self, username: &str) -> Result<Option<store::StaffAccount>, E> {
        self.inner.account(username).await
    }
    async fn accounts(&self) -> Result<Vec<store::StaffAccount>, E> {
        self.inner.accounts().await
    }
    async fn delete_account(&self, username: &str) -> Result<store::StaffAccount, E> {
        self.inner.delete_account(username).await
    }
    async fn insert_session(&self, session: store::NewSession, now_ms: i64) -> Result<(), E> {
        self.inner.insert_session(session, now_ms).await
    }
    async fn session(
        &self,
        sha256: &str,
        now_ms: i64,
    ) -> Result<Option<store::SessionIdentity>, E> {
        self.inner.session(sha256, now_ms).await
    }
    async fn delete_session(&self, sha256: &str) -> Result<bool, E> {
        self.inner.delete_session(sha256).await
    }
    async fn record_sign_in_failure(&self, keys: &[String], at: i64, before: i64) -> Result<(), E> {
        self.inner.record_sign_in_failure(keys, at, before).await
    }
    async fn sign_in_failures(
        &self,
        keys: &[String],
        since: i64,
    ) -> Result<Vec<store::SignInFailures>, E> {
        self.inner.sign_in_failures(keys, since).await
    }
    async fn forget_sign_in_failures(&self, keys: &[String]) -> Result<(), E> {
        self.inner.forget_sign_in_failures(keys).await
    }
    async fn put_bridge(&self, record: store::BridgeRecord) -> Result<store::BridgeRecord, E> {
        self.inner.put_bridge(record).await
    }
    async fn bridges(&self) -> Result<Vec<store::BridgeRecord>, E> {
        self.inner.bridges().await
    }
    async fn set_bridge_enabled(
        &self,
        id: &str,
        enabled: bool,
        reason: Option<&str>,
    ) -> Result<store::BridgeRecord, E> {
        self.inner.set_bridge_enabled(id, enabled, reason).await
    }
    async fn delete_bridge(&self, id: &str) -> Result<(), E> {
        self.inner.delete_bridge(id).await
    }
    async fn enqueue_outbox(&self, events: Vec<(store::NewOutboxEvent, i64)>) -> Result<(), E> {
        self.inner.enqueue_outbox(events).await
    }
    async fn due_outbox(&self, now: i64, limit: u32) -> Result<Vec<store::OutboxEvent>, E> {
        self.inner.due_outbox(now, limit).await
    }
    async fn lane_head(
        &self,
        bridge_id: &str,
        conversation_id: &str,
    ) -> Result<Option<store::OutboxEvent>, E> {
        self.inner.lane_head(bridge_id, conversation_id).await
    }
    async fn next_outbox_due(&self) -> Result<Option<i64>, E> {
        self.inner.next_outbox_due().await
    }
    async fn record_attempt(
        &self,
        attempt: store::DeliveryAttempt,
        outcome: store::AttemptOutcome,
    ) -> Result<store::OutboxEvent, E> {
        self.inner.record_attempt(attempt, outcome).await
    }
    async fn outbox_event(&self, id: &str) -> Result<Option<store::OutboxEvent>, E> {
        self.inner.outbox_event(id).await
    }
    async fn outbox_events(
        &self,
        filter: store::OutboxFilter,
    ) -> Result<Vec<store::OutboxEvent>, E> {
        self.inner.outbox_events(filter).await
    }
    async fn delivery_attempts(&self, event_id: &str) -> Result<Vec<store::DeliveryAttempt>, E> {
        self.inner.delivery_attempts(event_id).await
    }
    async fn replay_outbox(&self, replay: store::Replay, now: i64) -> Result<u64, E> {
        self.inner.replay_outbox(replay, now).await
    }
    async fn bridge_health(&self, bridge_id: &str) -> Result<store::BridgeHealth, E> {
        self.inner.bridge_health(bridge_id).await
    }
    async fn inbound_receipt(
        &self,
        bridge_id: &str,
        webhook_id: &str,
    ) -> Result<Option<store::InboundReceipt>, E> {
        self.inner.inbound_receipt(bridge_id, webhook_id).await
    }
    async fn record_inbound(
        &self,
        receipt: store::InboundReceipt,
        forget_before: i64,
    ) -> Result<store::InboundReceipt, E> {
        self.inner.record_inbound(receipt, forget_before).await
    }
    async fn due_deadlines(&self, now: i64) -> Result<Vec<store::BridgeDeadline>, E> {
        self.inner.due_deadlines(now).await
    }
    async fn next_deadline(&self) -> Result<Option<i64>, E> {
        self.inner.next_deadline().await
    }
    async fn clear_deadline(&self, conversation_id: &str) -> Result<(), E> {
        self.inner.clear_deadline(conversation_id).await
    }
    async fn put_bridge_file(&self, file: store::BridgeFile) -> Result<store::BridgeFile, E> {
        self.inner.put_bridge_file(file).await
    }
    async fn bridge_file(&self, id: &str) -> Result<Option<store::BridgeFile>, E> {
        self.inner.bridge_file(id).await
    }
    async fn lease_claim(
        &self,
        name: &str,
        holder: &str,
        ttl_ms: i64,
        now_ms: i64,
    ) -> Result<bool, E> {
        self.inner.lease_claim(name, holder, ttl_ms, now_ms).await
    }
    async fn lease_release(&self, name: &str, holder: &str) -> Result<(), E> {
        self.inner.lease_release(name, holder).await
    }
    async fn lease_holder(&self, name: &str, now_ms: i64) -> Result<Option<String>, E> {
        self.inner.lease_holder(name, now_ms).await
    }
    async fn append_knowledge_changes(
        &self,
        changes: Vec<store::NewKnowledgeChange>,
    ) -> Result<i64, E> {
        self.inner.append_knowledge_changes(changes).await
    }
    async fn knowledge_changes_after(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<store::KnowledgeChange>, E> {
        self.inner.knowledge_changes_after(after_seq, limit).await
    }
    async fn record_report(&self, batch: store::ReportBatch) -> Result<(), E> {
        self.inner.record_report(batch).await
    }
    async fn report_conversations(
        &self,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<store::ReportConversation>, E> {
        self.inner.report_conversations(since_ms, until_ms).await
    }
    async fn report_conversation(&self, id: &str) -> Result<Option<store::ReportConversation>, E> {
        self.inner.report_conversation(id).await
    }
    async fn report_texts(&self, since_ms: i64, until_ms: i64) -> Result<Vec<store::GapText>, E> {
        self.inner.report_texts(since_ms, until_ms).await
    }
    async fn report_articles(
        &self,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<store::ReportArticle>, E> {
        self.inner.report_articles(since_ms, until_ms).await
    }
    async fn report_presence(&self, until_ms: i64) -> Result<Vec<store::ReportPresence>, E> {
        self.inner.report_presence(until_ms).await
    }
    async fn rate_conversation(&self, rating: store::Rating) -> Result<bool, E> {
        self.inner.rate_conversation(rating).await
    }
    async fn dismiss_gap(&self, key: &str, by: &str, dismiss: bool) -> Result<(), E> {
        self.inner.dismiss_gap(key, by, dismiss).await
    }
    async fn dismissed_gaps(&self) -> Result<Vec<String>, E> {
        self.inner.dismissed_gaps().await
    }
    async fn mark_read(
        &self,
        conversation: &str,
        side: store::ReadSide,
        seq: i64,
    ) -> Result<store::ReadMoved, E> {
        self.inner.mark_read(conversation, side, seq).await
    }
    async fn read_marks(&self, conversation: &str) -> Result<store::ReadMarks, E> {
        self.inner.read_marks(conversation).await
    }
}

type E = store::StoreError;
