//! The human desk as a running service: the pure [`DeskBook`] behind one async lock, made
//! durable and connected to the conversations.
//!
//! - **Write-ahead log** (`log`). Every [`DeskOp`] is applied to the book (which validates
//!   it and changes nothing when it refuses) and then appended to the store's desk log, at
//!   the position the book was at, before the caller hears it succeeded. The book is rebuilt
//!   at start from the latest snapshot plus the operations after it; a snapshot is taken
//!   every [`SNAPSHOT_EVERY`] operations. If the append fails, the book is rebuilt from the
//!   store, so memory never runs ahead of disk.
//! - **Several nodes** share the log: each applies what the others logged (before each of
//!   its own operations, and every [`CATCH_UP_EVERY`] in [`follow`]) without carrying it out
//!   again; an operation that finds the log moved on is tried again on the new state, so of
//!   two nodes capturing one chat, one wins and the other hears the chat is taken.
//! - **Notices.** What an operation implies for the conversation is carried out after it
//!   is durable: an attendant joining or leaving and a close go to the conversation's
//!   machine (the requester sees who joined and the filled status dot); queue positions and
//!   the candidates of manual routing are signalled live to the requester; every operation
//!   is announced on the staff feed, both on the live [`EventBus`] (`notices`).
//! - **Hooks** (`hooks`). As the orchestrator's [`DeskHooks`], it queues handed-off
//!   conversations, marks requester messages unread, and refuses blocked contacts.
//! - Unread markers from requester messages are logged only when a message changes them
//!   (the first one after a read), not once per message. Logs written before they were
//!   logged at all are helped at start: on that node, chats whose last message is the
//!   requester's are marked unread again.
//!
//! The lost-chat timer lives in [`timer`] and the adoption of orphaned hand-offs in
//! [`orphans`] (each run under a lease, on one node), attachment files in [`files`], the
//! desk's [`Clock`] in [`clock`].

pub mod clock;
pub mod files;
mod hooks;
mod log;
mod notices;
pub mod orphans;
mod texts;
pub mod timer;
mod writing;
pub use log::{CATCH_UP_EVERY, MAX_ATTEMPTS, follow};
pub use writing::WriteError;

pub use clock::Clock;

use self::log::{Inner, Logging, load_book};
use crate::desk::{Applied, DeskBook, DeskError, DeskOp, MacroStep, Project, Who};
use crate::live::{EventBus, StaffNotice};
use crate::orchestrator::{DeskHooks, Orchestrator};
use crate::store::{self, Store, StoreError};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
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

impl crate::fault::Coded for AttendanceError {
    fn kind(&self) -> crate::fault::ErrorKind {
        match self {
            AttendanceError::Desk(error) => error.kind(),
            AttendanceError::Store(error) => error.kind(),
            AttendanceError::Chat(error) => error.kind(),
            AttendanceError::Corrupt { .. } | AttendanceError::Io(_) => {
                crate::fault::ErrorKind::Internal
            }
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AttendanceError::Desk(error) => error.code(),
            AttendanceError::Store(error) => error.code(),
            AttendanceError::Chat(error) => error.code(),
            AttendanceError::Corrupt { .. } => "corrupt_log",
            AttendanceError::Io(_) => "io_error",
        }
    }
}

/// The desk service.
pub struct Attendance {
    inner: Mutex<Inner>,
    store: Arc<dyn Store>,
    chat: Arc<Orchestrator>,
    /// Where queue positions and other notices go to the requester, and desk events to the
    /// staff: the orchestrator's bus.
    bus: Arc<dyn EventBus>,
    clock: Clock,
    attachments_dir: PathBuf,
    /// Wakes the lost-chat timer when a chat is queued.
    pub(crate) wake: Notify,
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
        let attendance = Arc::new(Attendance {
            inner: Mutex::new(inner),
            store,
            bus: chat.bus().clone(),
            chat: chat.clone(),
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
        orphans::adopt_at_start(&attendance).await?;
        Ok(attendance)
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

    /// Tells the reports a person answered `text` in the chat now (the first time counts),
    /// and which article it sent when it links to one.
    pub(crate) fn record_answer(&self, conversation_id: &str, text: &str) {
        let article_sent = self.chat.knowledge().article_linked(text);
        self.chat
            .insight()
            .record(crate::insight::facts::attendant_message(
                conversation_id,
                self.now_ms() as i64,
                article_sent,
            ));
    }

    /// Reads the book.
    pub async fn book<T>(&self, read: impl FnOnce(&DeskBook) -> T) -> T {
        read(&self.inner.lock().await.book)
    }

    /// The staff feed: one event per desk operation or change.
    pub fn subscribe_staff(&self) -> broadcast::Receiver<Arc<StaffNotice>> {
        self.bus.subscribe_staff()
    }

    /// Applies `op`, logs it durably, then carries out what it implies.
    pub async fn execute(&self, op: DeskOp) -> Result<Applied, AttendanceError> {
        let applied = self.execute_quietly(&op, Logging::Always).await?;
        self.carry_out(&op, &applied).await;
        Ok(applied)
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
        let language = conversation.language;
        let now_ms = self.now_ms();
        let (steps, applied) = {
            let mut inner = self.inner.lock().await;
            self.change_and_log(&mut inner, true, |book| {
                let steps =
                    book.plan_macro(macro_id, conversation_id, person, language.tag(), now_ms)?;
                let ops: Vec<DeskOp> = steps
                    .iter()
                    .filter_map(|step| match step {
                        MacroStep::Op { op } => Some(op.clone()),
                        MacroStep::Say { .. } => None,
                    })
                    .collect();
                // A macro of texts only changes nothing in the book: nothing to log.
                if ops.is_empty() {
                    return Ok((None, (steps, Vec::new())));
                }
                let applied = book.apply_all(&ops)?;
                let op = DeskOp::Macro {
                    conversation_id: conversation_id.to_string(),
                    macro_id: macro_id.to_string(),
                    by: person.to_string(),
                    ops,
                };
                Ok((Some(op), (steps, applied)))
            })
            .await?
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
                    match self
                        .chat
                        .staff_message(conversation_id, person, text, None, None)
                        .await
                    {
                        Ok(_) => self.record_answer(conversation_id, text),
                        Err(error) => {
                            first_failure.get_or_insert(error);
                        }
                    }
                }
            }
        }
        match first_failure {
            Some(error) => Err(error.into()),
            None => Ok(()),
        }
    }

    /// Marks unread, after a restart, the chats whose newest message is the requester's: in
    /// this node's book only, for logs written before unread markers were logged (logging
    /// it would mark unread, on every node, what was read since).
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
                let _ = self.execute_quietly(&op, Logging::Never).await;
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

/// How long the lost-chat timer waits at most between two looks (it is also woken when a
/// chat is queued).
pub const TIMER_IDLE: Duration = Duration::from_secs(60);
