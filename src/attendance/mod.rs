//! The human desk as a running service: the pure [`DeskBook`] behind one async lock, made
//! durable and connected to the conversations.
//!
//! - **Write-ahead log.** Every [`DeskOp`] is applied to the book (which validates it and
//!   changes nothing when it refuses) and then appended to the store's desk log before the
//!   caller hears it succeeded. The book is rebuilt at start from the latest snapshot plus
//!   the operations after it; a snapshot is taken every [`SNAPSHOT_EVERY`] operations. If the
//!   append fails, the book is rebuilt from the store, so memory never runs ahead of disk.
//! - **Notices.** What an operation implies for the conversation is carried out after it
//!   is durable: an attendant joining or leaving and a close go to the conversation's
//!   machine (the requester sees who joined and the filled status dot); queue positions and
//!   the candidates of manual routing are signalled live to the requester; every operation
//!   is announced on the staff feed.
//! - **Hooks.** As the orchestrator's [`DeskHooks`], it queues handed-off conversations,
//!   marks requester messages unread, and refuses blocked contacts.
//! - Unread markers from requester messages are kept in memory only (they are not worth a
//!   disk write per message); after a restart, chats whose last message is the requester's
//!   are marked unread again.
//!
//! The lost-chat timer lives in [`timer`], attachment files in [`files`].

pub mod files;
mod texts;
pub mod timer;

use crate::conversation::Event;
use crate::desk::{
    Applied, BookConfig, Channel, DeskBook, DeskError, DeskOp, MacroStep, Notice, Origin, Project,
    RoutingOutcome, Who,
};
use crate::lang::Language;
use crate::live::Hub;
use crate::orchestrator::{DeskHooks, Orchestrator};
use crate::store::{self, Store, StoreError};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{Mutex, Notify, broadcast};

/// Operations between two snapshots of the book.
pub const SNAPSHOT_EVERY: i64 = 500;

/// The project a conversation is queued under when its contact names none.
pub const DEFAULT_PROJECT: &str = "default";

/// Why a desk call failed.
#[derive(Debug, thiserror::Error)]
pub enum AttendanceError {
    #[error(transparent)]
    Desk(#[from] DeskError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Chat(#[from] crate::orchestrator::ChatError),
    #[error("the desk log holds an unreadable operation {seq}: {reason}")]
    Corrupt { seq: i64, reason: String },
    #[error("{0}")]
    Io(String),
}

/// Milliseconds since the epoch, following tokio's monotonic clock from a wall-clock base.
/// Tests move it forward with [`Clock::advance`] (tokio's paused time cannot be used with a
/// database whose pool has timeouts: the runtime would skip ahead while waiting on it).
#[derive(Debug, Clone)]
pub struct Clock {
    base_ms: u64,
    start: tokio::time::Instant,
    offset_ms: Arc<std::sync::atomic::AtomicU64>,
}

impl Clock {
    pub fn new() -> Self {
        Clock {
            base_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|elapsed| elapsed.as_millis() as u64)
                .unwrap_or(0),
            start: tokio::time::Instant::now(),
            offset_ms: Default::default(),
        }
    }

    pub fn now_ms(&self) -> u64 {
        self.base_ms
            + self.start.elapsed().as_millis() as u64
            + self.offset_ms.load(std::sync::atomic::Ordering::Acquire)
    }

    /// A separate clock `by` later (a process started after a long stop, in tests).
    pub fn shifted(&self, by: Duration) -> Clock {
        Clock {
            base_ms: self.now_ms() + by.as_millis() as u64,
            start: tokio::time::Instant::now(),
            offset_ms: Default::default(),
        }
    }

    /// Moves this clock (and every copy of it) forward.
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as u64, std::sync::atomic::Ordering::AcqRel);
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

struct Inner {
    book: DeskBook,
    /// The last logged operation and the one the snapshot covers.
    last_seq: i64,
    snapshot_seq: i64,
}

/// The desk service.
pub struct Attendance {
    inner: Mutex<Inner>,
    store: Arc<dyn Store>,
    chat: Arc<Orchestrator>,
    hub: Arc<Hub>,
    staff: broadcast::Sender<serde_json::Value>,
    clock: Clock,
    attachments_dir: PathBuf,
    /// Wakes the lost-chat timer when a chat is queued.
    pub(crate) wake: Notify,
}

fn corrupt(seq: i64, error: impl std::fmt::Display) -> AttendanceError {
    AttendanceError::Corrupt {
        seq,
        reason: error.to_string(),
    }
}

/// Rebuilds the book from the store's snapshot and log.
async fn load_book(store: &dyn Store) -> Result<Inner, AttendanceError> {
    let log = store.desk_load().await?;
    let (mut book, snapshot_seq) = match log.snapshot {
        Some((state, through)) => (
            serde_json::from_str::<DeskBook>(&state).map_err(|error| corrupt(through, error))?,
            through,
        ),
        None => (DeskBook::new(BookConfig::default()), 0),
    };
    let mut last_seq = snapshot_seq;
    for (seq, text) in log.ops {
        let op: DeskOp = serde_json::from_str(&text).map_err(|error| corrupt(seq, error))?;
        if let Err(error) = book.apply(&op) {
            // Only applied operations are logged, so replaying one cannot fail; if it does,
            // the log was written by another version: say so and go on with the rest.
            tracing::warn!(seq, %error, "a logged desk operation no longer applies");
        }
        last_seq = seq;
    }
    Ok(Inner {
        book,
        last_seq,
        snapshot_seq,
    })
}

impl Attendance {
    /// Loads the desk from `chat`'s store, connects it to the orchestrator, makes sure the
    /// default project exists, and marks unread what the requester wrote last.
    pub async fn open(
        chat: Arc<Orchestrator>,
        attachments_dir: PathBuf,
        clock: Clock,
    ) -> Result<Arc<Attendance>, AttendanceError> {
        let store = chat.store().clone();
        let inner = load_book(store.as_ref()).await?;
        let (staff, _) = broadcast::channel(1024);
        let attendance = Arc::new(Attendance {
            inner: Mutex::new(inner),
            store,
            hub: chat.hub().clone(),
            chat: chat.clone(),
            staff,
            clock,
            attachments_dir,
            wake: Notify::new(),
        });
        let hooks: Arc<dyn DeskHooks> = attendance.clone();
        chat.set_desk(Arc::downgrade(&hooks));
        if attendance
            .book(|book| book.desk().project(DEFAULT_PROJECT).is_none())
            .await
        {
            attendance
                .execute(DeskOp::UpsertProject {
                    project: Project {
                        id: DEFAULT_PROJECT.to_string(),
                        name: "Service desk".to_string(),
                        owner: None,
                        assistant: None,
                        service_group: None,
                    },
                })
                .await?;
        }
        attendance.restore_unread().await?;
        attendance.adopt_orphans().await?;
        Ok(attendance)
    }

    /// Queues the conversations handed to people that the desk never heard of (the process
    /// stopped between the hand-off and the desk's log write).
    async fn adopt_orphans(&self) -> Result<(), AttendanceError> {
        let filter = store::ConversationFilter {
            status: Some(store::ConversationStatus::Queued),
            limit: store::MAX_PAGE,
            ..Default::default()
        };
        for conversation in self.store.list_conversations(filter).await? {
            let known = self
                .book(|book| book.record(&conversation.id).is_some())
                .await;
            if !known {
                let group = conversation.queue_group.clone().unwrap_or_default();
                self.handed_off(&conversation, &group).await;
            }
        }
        Ok(())
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    pub fn orchestrator(&self) -> &Arc<Orchestrator> {
        &self.chat
    }

    pub fn attachments_dir(&self) -> &PathBuf {
        &self.attachments_dir
    }

    /// Reads the book.
    pub async fn book<T>(&self, read: impl FnOnce(&DeskBook) -> T) -> T {
        read(&self.inner.lock().await.book)
    }

    /// The staff feed: one JSON object per desk operation or change.
    pub fn subscribe_staff(&self) -> broadcast::Receiver<serde_json::Value> {
        self.staff.subscribe()
    }

    /// Applies `op`, logs it durably, then carries out what it implies.
    pub async fn execute(&self, op: DeskOp) -> Result<Applied, AttendanceError> {
        let applied = self.execute_quietly(&op, true).await?;
        self.carry_out(&op, &applied).await;
        Ok(applied)
    }

    /// Applies and (when `durable`) logs `op`, without carrying out its notices.
    async fn execute_quietly(
        &self,
        op: &DeskOp,
        durable: bool,
    ) -> Result<Applied, AttendanceError> {
        let mut inner = self.inner.lock().await;
        let applied = inner.book.apply(op)?;
        if !durable {
            return Ok(applied);
        }
        self.log(&mut inner, op).await?;
        Ok(applied)
    }

    /// Appends `op`, already applied to the book, to the desk log (and takes a snapshot
    /// when one is due). The caller holds the lock from the apply to the end of this call,
    /// so the log's order is the book's.
    async fn log(&self, inner: &mut Inner, op: &DeskOp) -> Result<(), AttendanceError> {
        let text = serde_json::to_string(op).map_err(|error| corrupt(0, error))?;
        match self.store.desk_append(&text).await {
            Ok(seq) => inner.last_seq = seq,
            Err(error) => {
                // The book ran ahead of the log: rebuild it from what is stored.
                tracing::error!(%error, "desk log append failed; reloading the desk");
                if let Ok(reloaded) = load_book(self.store.as_ref()).await {
                    *inner = reloaded;
                }
                return Err(error.into());
            }
        }
        if inner.last_seq - inner.snapshot_seq >= SNAPSHOT_EVERY {
            match serde_json::to_string(&inner.book) {
                Ok(state) => match self.store.desk_snapshot(&state, inner.last_seq).await {
                    Ok(()) => inner.snapshot_seq = inner.last_seq,
                    Err(error) => {
                        tracing::warn!(%error, "desk snapshot failed; the log keeps everything")
                    }
                },
                Err(error) => tracing::warn!(%error, "desk snapshot not serializable"),
            }
        }
        Ok(())
    }

    /// Runs macro `macro_id` on a conversation as `person`: all its steps or none. Under
    /// the desk's one lock the macro is planned (every step checked in order on a copy of
    /// the book), its desk operations are applied as one [`DeskOp::Macro`] and logged as
    /// one entry, so no other operation lands between two of its steps. Once that is
    /// durable, its steps are carried out in their order: each operation's notices, each
    /// text sent to the conversation.
    pub async fn run_macro(
        &self,
        conversation_id: &str,
        macro_id: &str,
        person: &str,
    ) -> Result<(), AttendanceError> {
        let conversation = self.chat.conversation_by_id(conversation_id).await?;
        let language: Language = conversation.language.parse().unwrap_or(Language::En);
        let now_ms = self.now_ms();
        let (steps, applied) = {
            let mut inner = self.inner.lock().await;
            let steps =
                inner
                    .book
                    .plan_macro(macro_id, conversation_id, person, language.tag(), now_ms)?;
            let ops: Vec<DeskOp> = steps
                .iter()
                .filter_map(|step| match step {
                    MacroStep::Op { op } => Some(op.clone()),
                    MacroStep::Say { .. } => None,
                })
                .collect();
            // A macro of texts only changes nothing in the book: nothing to log.
            let applied = if ops.is_empty() {
                Vec::new()
            } else {
                let applied = inner.book.apply_all(&ops)?;
                let op = DeskOp::Macro {
                    conversation_id: conversation_id.to_string(),
                    macro_id: macro_id.to_string(),
                    by: person.to_string(),
                    ops,
                };
                self.log(&mut inner, &op).await?;
                applied
            };
            (steps, applied)
        };
        let mut applied_steps = applied.iter();
        let mut first_failure = None;
        for step in &steps {
            match step {
                MacroStep::Op { op } => {
                    if let Some(applied) = applied_steps.next() {
                        self.carry_out(op, applied).await;
                    }
                }
                MacroStep::Say { text } => {
                    // The desk steps are committed: a text that cannot be sent is reported,
                    // but the later steps are still carried out.
                    if let Err(error) = self
                        .chat
                        .staff_message(conversation_id, person, text, None, None)
                        .await
                    {
                        first_failure.get_or_insert(error);
                    }
                }
            }
        }
        match first_failure {
            Some(error) => Err(error.into()),
            None => Ok(()),
        }
    }

    /// Tells the requester, the machine and the staff what `op` changed.
    async fn carry_out(&self, op: &DeskOp, applied: &Applied) {
        let mut announcement = serde_json::to_value(op).unwrap_or_default();
        if let Some(object) = announcement.as_object_mut() {
            object.insert("type".to_string(), json!("desk"));
        }
        let _ = self.staff.send(announcement);
        if matches!(
            op,
            DeskOp::Enqueue { .. } | DeskOp::Reopen { .. } | DeskOp::Decline { .. }
        ) {
            self.wake.notify_one();
        }
        for update in &applied.updates {
            self.hub.signal(
                &update.chat_id,
                "queue_position",
                json!({ "position": update.position, "eta_ms": update.eta_ms }),
            );
        }
        if let Some(routing) = &applied.routing
            && let Some(conversation_id) = conversation_of(op)
        {
            self.signal_routing(conversation_id, routing).await;
        }
        for notice in &applied.notices {
            if let Err(error) = self.carry_out_notice(notice).await {
                tracing::warn!(%error, ?notice, "a desk notice could not be carried out");
            }
        }
    }

    async fn signal_routing(&self, conversation_id: &str, routing: &RoutingOutcome) {
        match routing {
            RoutingOutcome::Queued { position, eta_ms }
            | RoutingOutcome::NoOneAvailable { position, eta_ms } => self.hub.signal(
                conversation_id,
                "queue_position",
                json!({ "position": position, "eta_ms": eta_ms }),
            ),
            RoutingOutcome::Candidates {
                candidates,
                position,
                eta_ms,
            } => {
                let people = self
                    .book(|book| {
                        candidates
                            .iter()
                            .filter_map(|id| book.desk().person(id))
                            .map(|person| json!({ "id": person.id, "name": person.name }))
                            .collect::<Vec<_>>()
                    })
                    .await;
                self.hub.signal(
                    conversation_id,
                    "specialists",
                    json!({ "candidates": people, "position": position, "eta_ms": eta_ms }),
                );
            }
            RoutingOutcome::Assigned { .. } => {}
        }
    }

    async fn person_name(&self, person: &str) -> String {
        self.book(|book| {
            book.desk()
                .person(person)
                .map(|person| person.name.clone())
                .unwrap_or_else(|| person.to_string())
        })
        .await
    }

    async fn carry_out_notice(&self, notice: &Notice) -> Result<(), AttendanceError> {
        match notice {
            Notice::AttendantJoined {
                conversation_id,
                person,
            } => {
                let name = self.person_name(person).await;
                self.hub.signal(
                    conversation_id,
                    "attendant",
                    json!({ "id": person, "name": name, "status": "online" }),
                );
                self.chat
                    .staff_event(conversation_id, Event::AttendantJoined { name })
                    .await?;
            }
            Notice::BackInQueue { conversation_id } => {
                self.chat
                    .staff_event(conversation_id, Event::AttendantLeft)
                    .await?;
                if let Ok(status) = self
                    .book(|book| book.desk().position(conversation_id))
                    .await
                {
                    self.hub.signal(
                        conversation_id,
                        "queue_position",
                        json!({ "position": status.position, "eta_ms": status.eta_ms }),
                    );
                }
            }
            Notice::ParticipantJoined {
                conversation_id,
                person,
            }
            | Notice::ParticipantLeft {
                conversation_id,
                person,
            } => {
                let name = self.person_name(person).await;
                let joined = matches!(notice, Notice::ParticipantJoined { .. });
                self.hub.signal(
                    conversation_id,
                    "participant",
                    json!({ "id": person, "name": name, "joined": joined }),
                );
            }
            Notice::Closed {
                conversation_id,
                closing_message,
            } => {
                if let Some(text) = closing_message
                    .as_deref()
                    .filter(|text| !text.trim().is_empty())
                {
                    let by = self
                        .book(|book| {
                            book.record(conversation_id)
                                .and_then(|r| r.closed_by.clone())
                        })
                        .await
                        .unwrap_or_default();
                    self.chat
                        .staff_message(conversation_id, &by, text, None, None)
                        .await?;
                }
                self.chat
                    .staff_event(conversation_id, Event::Closed)
                    .await?;
            }
            Notice::Lost { conversation_id } => {
                timer::finish_lost(self, conversation_id).await?;
            }
        }
        Ok(())
    }

    /// Marks unread, after a restart, the chats whose newest message is the requester's.
    async fn restore_unread(&self) -> Result<(), AttendanceError> {
        let open: Vec<String> = self
            .book(|book| {
                book.list(&Default::default())
                    .into_iter()
                    .filter(|record| !record.state.is_finished())
                    .map(|record| record.conversation_id.clone())
                    .collect()
            })
            .await;
        for conversation_id in open {
            let Some(conversation) = self.store.get_conversation(&conversation_id).await? else {
                continue;
            };
            if conversation.last_seq == 0 {
                continue;
            }
            let last = self
                .store
                .messages_after(&conversation_id, conversation.last_seq - 1, 1)
                .await?;
            if last
                .first()
                .is_some_and(|message| message.sender_kind == store::SenderKind::Requester)
            {
                let op = DeskOp::MessageFromRequester {
                    conversation_id,
                    now_ms: self.now_ms(),
                };
                let _ = self.execute_quietly(&op, false).await;
            }
        }
        Ok(())
    }

    /// Whether `who` may read the conversation (its requester, anyone who served it, or
    /// one of the two analysts of an internal chat).
    pub async fn may_read(&self, who: &Who, conversation_id: &str) -> bool {
        self.book(|book| book.may_read_conversation(who, conversation_id))
            .await
    }

    /// Whether an admin may supervise the conversation: any chat of the desk, but not the
    /// analysts' internal chats (no attendant sees those either).
    pub async fn may_supervise(&self, conversation_id: &str) -> bool {
        self.book(|book| book.record(conversation_id).is_some())
            .await
    }

    /// The project a requester's conversations are queued under.
    async fn project_for(&self, requester: &str) -> String {
        self.book(|book| {
            book.contact(requester)
                .and_then(|contact| contact.project_id.clone())
                .filter(|project| book.desk().project(project).is_some())
                .unwrap_or_else(|| DEFAULT_PROJECT.to_string())
        })
        .await
    }
}

fn conversation_of(op: &DeskOp) -> Option<&str> {
    match op {
        DeskOp::Enqueue {
            conversation_id, ..
        }
        | DeskOp::Reroute {
            conversation_id, ..
        }
        | DeskOp::Decline {
            conversation_id, ..
        }
        | DeskOp::Reopen {
            conversation_id, ..
        } => Some(conversation_id),
        _ => None,
    }
}

fn channel_of(channel: store::Channel) -> Channel {
    match channel {
        store::Channel::Web => Channel::WebChat,
        store::Channel::WhatsApp => Channel::WhatsApp,
    }
}

#[async_trait::async_trait]
impl DeskHooks for Attendance {
    async fn handed_off(&self, conversation: &store::Conversation, _group: &str) {
        let op = DeskOp::Enqueue {
            conversation_id: conversation.id.clone(),
            requester: conversation.requester_id.clone(),
            project_id: self.project_for(&conversation.requester_id).await,
            channel: channel_of(conversation.channel),
            now_ms: self.now_ms(),
            origin: Origin::Assistant,
        };
        if let Err(error) = self.execute(op).await {
            tracing::warn!(conversation = %conversation.id, %error, "could not queue a handed-off chat");
            return;
        }
        // The ticket the hand-off opened, so the attendance list finds the chat by it. The
        // store keeps it on the conversation row (the outcome's copy predates it).
        let ticket = match self.store.get_conversation(&conversation.id).await {
            Ok(Some(stored)) => stored.ticket_number,
            _ => None,
        };
        if let Some(number) = ticket {
            let op = DeskOp::SetTicket {
                conversation_id: conversation.id.clone(),
                number,
            };
            if let Err(error) = self.execute(op).await {
                tracing::warn!(conversation = %conversation.id, %error, "could not record the chat's ticket");
            }
        }
    }

    async fn requester_wrote(&self, conversation_id: &str) {
        let op = DeskOp::MessageFromRequester {
            conversation_id: conversation_id.to_string(),
            now_ms: self.now_ms(),
        };
        if self.execute_quietly(&op, false).await.is_ok() {
            let _ = self
                .staff
                .send(json!({ "type": "unread", "conversation_id": conversation_id }));
        }
    }

    async fn is_blocked(&self, requester: &str) -> bool {
        self.book(|book| book.is_blocked(requester)).await
    }

    async fn someone_present(&self, conversation_id: &str) -> Option<bool> {
        self.book(|book| book.desk().someone_present_for(conversation_id))
            .await
    }
}

/// How long the lost-chat timer waits at most between two looks (it is also woken when a
/// chat is queued).
pub const TIMER_IDLE: Duration = Duration::from_secs(60);
