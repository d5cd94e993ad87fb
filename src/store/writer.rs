//! The single SQLite writer and its group commit.
//!
//! One task owns the only write connection. It runs on its own thread (a current-thread tokio
//! runtime), because it spends its life bouncing between itself and SQLite's worker thread: on
//! the shared runtime every bounce also waited behind request handlers in the scheduler's
//! queues (measured 10-15% lower throughput with 64 concurrent posters). Callers send a [`Command`] with a oneshot reply over a bounded
//! channel; the task takes whatever is queued (up to `max_batch`, optionally lingering
//! `batch_linger` for more), runs every command inside one `BEGIN IMMEDIATE` transaction, commits
//! once, and only then answers. One fsync thus acknowledges a whole batch.
//!
//! A command that is refused (unknown id, version conflict) wrote nothing and does not disturb
//! its neighbours. Multi-statement commands (tickets, updates) run in a savepoint, so even a
//! database error inside one is rolled back alone. Appends, the hot path, are a single atomic
//! statement and skip the savepoint, which saves two of three round trips to SQLite's thread per
//! message; in exchange a database error in an append aborts the whole batch. Whenever the transaction itself fails (disk full, I/O error, a
//! lock held by another process past the busy timeout) nothing of the batch is acknowledged:
//! every caller in it gets the error, and the connection is reopened if its state is unknown.
//!
//! Closing sends a shutdown request; the task refuses new work, finishes everything already
//! queued, closes the connection and ends. Dropping every sender has the same effect.

use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Executor};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::time::{Instant, timeout_at};

use super::prepared::{
    PreparedConversation, PreparedMessage, PreparedStep, PreparedTicket, PreparedToken,
    PreparedUpdate,
};
pub(in crate::store) use super::settle::{Outcome, Reply, Settle, settle_later};
use super::sqlite::accounts::AccountCommand;
use super::sqlite::bridge_writes::BridgeCommand;
use super::sqlite::read_marks::ReadCommand;
use super::sqlite::{leases, writes};
use super::{Appended, Conversation, StepCommitted, StoreError, Ticket, TicketStatus};

/// One write, with the channel its result goes back on.
pub(super) enum Command {
    CreateConversation {
        conversation: PreparedConversation,
        reply: Reply<Conversation>,
    },
    UpdateConversation {
        update: PreparedUpdate,
        reply: Reply<Conversation>,
    },
    Append {
        message: PreparedMessage,
        reply: Reply<Appended>,
    },
    CommitStep {
        step: PreparedStep,
        reply: Reply<StepCommitted>,
    },
    CreateTicket {
        ticket: PreparedTicket,
        reply: Reply<Ticket>,
    },
    AttachTicket {
        number: String,
        conversation_id: String,
        reply: Reply<()>,
    },
    AddTicketTags {
        number: String,
        tags: Vec<String>,
        reply: Reply<Ticket>,
    },
    SetTicketStatus {
        number: String,
        status: TicketStatus,
        reply: Reply<Ticket>,
    },
    SetParameter {
        key: String,
        value: String,
        reply: Reply<()>,
    },
    DeskAppend {
        op: String,
        /// The position the caller expects the log at, when it expects one.
        expected: Option<i64>,
        reply: Reply<i64>,
    },
    DeskSnapshot {
        state: String,
        through: i64,
        reply: Reply<()>,
    },
    InsertToken {
        token: PreparedToken,
        reply: Reply<super::StoredToken>,
    },
    DeleteToken {
        id: String,
        reply: Reply<super::StoredToken>,
    },
    KnowledgeAppend {
        changes: Vec<super::NewKnowledgeChange>,
        reply: Reply<i64>,
    },
    /// The insight recorder's batch, a rating, a gap cluster dismissed or brought back.
    Report(ReportCommand),
    /// The bridge's writes, which carry their own replies.
    Bridge(BridgeCommand),
    /// A side's read position moved forward.
    ReadMark(ReadCommand),
    /// Staff accounts and sessions, which carry their own replies.
    Account(AccountCommand),
    LeaseClaim {
        name: String,
        holder: String,
        ttl_ms: i64,
        now_ms: i64,
        reply: Reply<bool>,
    },
    LeaseRelease {
        name: String,
        holder: String,
        reply: Reply<()>,
    },
}

impl Command {
    /// Whether the command needs a savepoint to be undone alone: true unless it is a single
    /// write statement.
    fn needs_savepoint(&self) -> bool {
        match self {
            Self::Append { .. }
            | Self::DeskAppend { .. }
            | Self::LeaseClaim { .. }
            | Self::LeaseRelease { .. } => false,
            Self::CommitStep { step, .. } => !step.is_single_write(),
            Self::Bridge(command) => command.needs_savepoint(),
            _ => true,
        }
    }

    /// Answers without running: the command will not be written.
    fn fail(self, error: StoreError) {
        // A caller that stopped waiting has nothing to be told.
        let _delivered = match self {
            Self::CreateConversation { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::UpdateConversation { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::Append { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::CommitStep { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::CreateTicket { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::AttachTicket { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::AddTicketTags { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::SetTicketStatus { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::SetParameter { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::DeskAppend { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::DeskSnapshot { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::InsertToken { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::DeleteToken { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::LeaseClaim { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::LeaseRelease { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::KnowledgeAppend { reply, .. } => reply.send(Err(error)).is_ok(),
            Self::Report(ReportCommand::Record { reply, .. }) => reply.send(Err(error)).is_ok(),
            Self::Report(ReportCommand::Rate { reply, .. }) => reply.send(Err(error)).is_ok(),
            Self::Report(ReportCommand::Dismiss { reply, .. }) => reply.send(Err(error)).is_ok(),
            Self::Bridge(command) => {
                command.fail(error);
                true
            }
            Self::ReadMark(command) => {
                command.fail(error);
                true
            }
            Self::Account(command) => {
                command.fail(error);
                true
            }
        };
    }
}

/// The report tables' writes (see `report_log`).
pub(super) enum ReportCommand {
    Record {
        batch: super::ReportBatch,
        reply: Reply<()>,
    },
    Rate {
        rating: super::Rating,
        reply: Reply<bool>,
    },
    Dismiss {
        key: String,
        by: String,
        at_ms: i64,
        dismiss: bool,
        reply: Reply<()>,
    },
}

impl ReportCommand {
    async fn apply(self, connection: &mut sqlx::SqliteConnection) -> (Settle, Outcome) {
        use super::sqlite::reports;
        match self {
            ReportCommand::Record { batch, reply } => {
                settle_later(reply, reports::record(connection, &batch).await)
            }
            ReportCommand::Rate { rating, reply } => {
                settle_later(reply, reports::rate(connection, &rating).await)
            }
            ReportCommand::Dismiss {
                key,
                by,
                at_ms,
                dismiss,
                reply,
            } => settle_later(
                reply,
                reports::dismiss(connection, &key, &by, at_ms, dismiss).await,
            ),
        }
    }
}

#[expect(
    clippy::large_enum_variant,
    reason = "nearly every request is a write; boxing it would allocate once per message"
)]
enum Request {
    Write(Command),
    Shutdown,
}

#[derive(Debug, Clone)]
pub(super) struct WriterConfig {
    pub max_batch: usize,
    pub batch_linger: Duration,
    pub queue_capacity: usize,
}

/// Handle to the writer task; cheap to share behind the store.
pub(super) struct Writer {
    request_tx: mpsc::Sender<Request>,
    // Resolves when the writer thread has finished. A tokio mutex because `close` holds it while
    // waiting, so a second `close` waits for the first one to finish instead of returning early.
    stopped: Mutex<Option<oneshot::Receiver<()>>>,
}

impl Writer {
    /// Starts the writer thread on `connection`; `connect_options` reopens it after a failure.
    pub(super) fn start(
        connection: SqliteConnection,
        connect_options: SqliteConnectOptions,
        config: WriterConfig,
    ) -> Result<Self, StoreError> {
        let (request_tx, request_rx) = mpsc::channel(config.queue_capacity.max(1));
        let (stopped_tx, stopped_rx) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| StoreError::Internal(format!("writer runtime: {error}")))?;
        std::thread::Builder::new()
            .name("ponte-store-writer".into())
            .spawn(move || {
                runtime.block_on(run(connection, connect_options, request_rx, config));
                drop(runtime);
                // Dropped unsent if the thread panics, which `close` reports.
                let _ = stopped_tx.send(());
            })
            .map_err(|error| StoreError::Internal(format!("writer thread: {error}")))?;
        Ok(Self {
            request_tx,
            stopped: Mutex::new(Some(stopped_rx)),
        })
    }

    /// Queues a command and waits until it is committed (or failed).
    pub(super) async fn submit<T>(
        &self,
        command: impl FnOnce(Reply<T>) -> Command,
    ) -> Result<T, StoreError> {
        let (reply_tx, reply_rx) = oneshot::channel();
        self.request_tx
            .send(Request::Write(command(reply_tx)))
            .await
            .map_err(|_| StoreError::Closed)?;
        // A dropped reply means the task ended without answering: it was shut down or crashed.
        reply_rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Finishes queued work and stops the thread. Idempotent.
    pub(super) async fn close(&self) {
        let mut stopped_guard = self.stopped.lock().await;
        let Some(stopped_rx) = stopped_guard.take() else {
            return;
        };
        // Fails only if the task is already gone, which is what we want anyway.
        let _ = self.request_tx.send(Request::Shutdown).await;
        if stopped_rx.await.is_err() {
            tracing::error!("store writer thread panicked");
        }
    }
}

async fn run(
    connection: SqliteConnection,
    connect_options: SqliteConnectOptions,
    mut request_rx: mpsc::Receiver<Request>,
    config: WriterConfig,
) {
    let max_batch = config.max_batch.max(1);
    let mut connection_opt = Some(connection);
    let mut batch: Vec<Command> = Vec::with_capacity(max_batch);

    while let Some(first) = request_rx.recv().await {
        let shutdown = collect(
            first,
            &mut request_rx,
            &mut batch,
            max_batch,
            config.batch_linger,
        )
        .await;
        if shutdown {
            // Refuse new work; what is already queued still comes out of `recv` and is written.
            request_rx.close();
        }
        if batch.is_empty() {
            continue;
        }

        if connection_opt.is_none() {
            match SqliteConnection::connect_with(&connect_options).await {
                Ok(connection) => connection_opt = Some(connection),
                Err(sqlx_error) => {
                    tracing::error!(%sqlx_error, "cannot reopen the store write connection");
                    let error = StoreError::from(sqlx_error);
                    for command in batch.drain(..) {
                        command.fail(error.clone());
                    }
                    continue;
                }
            }
        }
        let Some(connection) = connection_opt.as_mut() else {
            continue;
        };
        let healthy = write_batch(connection, &mut batch).await;
        debug_assert!(batch.is_empty());
        if !healthy {
            // The transaction state is unknown; start the next batch on a fresh connection.
            if let Some(broken) = connection_opt.take() {
                let _ = broken.close_hard().await;
            }
        }
    }

    if let Some(connection) = connection_opt
        && let Err(error) = connection.close().await
    {
        tracing::warn!(%error, "closing the store write connection failed");
    }
    tracing::debug!("store writer stopped");
}

/// Moves `first` and whatever else is queued into `batch`. Returns whether shutdown was asked.
async fn collect(
    first: Request,
    request_rx: &mut mpsc::Receiver<Request>,
    batch: &mut Vec<Command>,
    max_batch: usize,
    linger: Duration,
) -> bool {
    let mut shutdown = false;
    let mut next_opt = Some(first);
    let deadline = Instant::now() + linger;
    while let Some(request) = next_opt.take() {
        match request {
            Request::Write(command) => batch.push(command),
            Request::Shutdown => shutdown = true,
        }
        if batch.len() >= max_batch {
            break;
        }
        next_opt = match request_rx.try_recv() {
            Ok(request) => Some(request),
            Err(mpsc::error::TryRecvError::Disconnected) => None,
            Err(mpsc::error::TryRecvError::Empty) if linger.is_zero() => None,
            Err(mpsc::error::TryRecvError::Empty) => {
                timeout_at(deadline, request_rx.recv()).await.ok().flatten()
            }
        };
    }
    shutdown
}

/// Runs and commits `batch` (leaving it empty) and answers every command.
/// Returns `false` when the connection should be replaced.
async fn write_batch(connection: &mut SqliteConnection, batch: &mut Vec<Command>) -> bool {
    let started = Instant::now();
    let batch_size = batch.len();
    let mut commands = batch.drain(..);

    if let Err(sqlx_error) = connection.execute("BEGIN IMMEDIATE").await {
        let error = StoreError::from(sqlx_error);
        tracing::warn!(%error, batch_size, "store batch could not start");
        commands.for_each(|command| command.fail(error.clone()));
        // BEGIN failing leaves no transaction behind, unless the worker itself is gone.
        return !matches!(error, StoreError::Closed);
    }

    let mut settled: Vec<Settle> = Vec::with_capacity(batch_size);
    let mut abort_error: Option<StoreError> = None;
    for command in commands.by_ref() {
        let guarded = command.needs_savepoint();
        if guarded && let Err(sqlx_error) = connection.execute("SAVEPOINT command").await {
            let error = StoreError::from(sqlx_error);
            command.fail(error.clone());
            abort_error = Some(error);
            break;
        }
        let (settle, outcome) = apply(connection, command).await;
        settled.push(settle);
        let closing = match (guarded, outcome) {
            (true, Outcome::Done) => connection.execute("RELEASE command").await.map(drop),
            (true, Outcome::Refused | Outcome::Failed(_)) => {
                // Undo whatever the command wrote, then drop the savepoint.
                match connection.execute("ROLLBACK TO command").await {
                    Ok(_) => connection.execute("RELEASE command").await.map(drop),
                    Err(error) => Err(error),
                }
            }
            (false, Outcome::Done | Outcome::Refused) => Ok(()),
            (false, Outcome::Failed(error)) => {
                // No savepoint to go back to: the batch cannot be trusted any more.
                abort_error = Some(error);
                break;
            }
        };
        if let Err(error) = closing {
            // Typically SQLite already rolled the whole transaction back (I/O error, disk
            // full); nothing in this batch can be trusted to commit.
            abort_error = Some(StoreError::from(error));
            break;
        }
    }

    if let Some(error) = abort_error {
        tracing::error!(%error, batch_size, "store batch aborted");
        commands.for_each(|command| command.fail(error.clone()));
        let rolled_back = connection.execute("ROLLBACK").await.is_ok();
        for settle in settled {
            settle(Some(error.clone()));
        }
        return rolled_back;
    }
    drop(commands);

    let commit_started = Instant::now();
    match connection.execute("COMMIT").await {
        Ok(_) => {
            tracing::trace!(
                batch_size,
                total_us = started.elapsed().as_micros() as u64,
                commit_us = commit_started.elapsed().as_micros() as u64,
                "store batch committed"
            );
            for settle in settled {
                settle(None);
            }
            true
        }
        Err(sqlx_error) => {
            let error = StoreError::from(sqlx_error);
            tracing::error!(%error, batch_size, "store batch commit failed");
            let rolled_back = connection.execute("ROLLBACK").await.is_ok();
            for settle in settled {
                settle(Some(error.clone()));
            }
            rolled_back
        }
    }
}

/// Runs one command; its answer is held back until the batch's fate is known.
async fn apply(connection: &mut SqliteConnection, command: Command) -> (Settle, Outcome) {
    match command {
        Command::CreateConversation {
            conversation,
            reply,
        } => settle_later(
            reply,
            writes::create_conversation(connection, conversation).await,
        ),
        Command::UpdateConversation { update, reply } => {
            settle_later(reply, writes::update_conversation(connection, update).await)
        }
        Command::Append { message, reply } => {
            settle_later(reply, writes::append_message(connection, message).await)
        }
        Command::CommitStep { step, reply } => {
            settle_later(reply, writes::commit_step(connection, step).await)
        }
        Command::CreateTicket { ticket, reply } => {
            settle_later(reply, writes::create_ticket(connection, ticket).await)
        }
        Command::AttachTicket {
            number,
            conversation_id,
            reply,
        } => settle_later(
            reply,
            writes::attach_ticket(connection, &number, &conversation_id).await,
        ),
        Command::AddTicketTags {
            number,
            tags,
            reply,
        } => settle_later(
            reply,
            writes::add_ticket_tags(connection, &number, &tags).await,
        ),
        Command::SetTicketStatus {
            number,
            status,
            reply,
        } => settle_later(
            reply,
            writes::set_ticket_status(connection, &number, status).await,
        ),
        Command::SetParameter { key, value, reply } => {
            settle_later(reply, writes::set_parameter(connection, &key, &value).await)
        }
        Command::DeskAppend {
            op,
            expected,
            reply,
        } => settle_later(reply, writes::desk_append(connection, &op, expected).await),
        Command::DeskSnapshot {
            state,
            through,
            reply,
        } => settle_later(
            reply,
            writes::desk_snapshot(connection, &state, through).await,
        ),
        Command::InsertToken { token, reply } => {
            settle_later(reply, writes::insert_token(connection, token).await)
        }
        Command::DeleteToken { id, reply } => {
            settle_later(reply, writes::delete_token(connection, &id).await)
        }
        Command::KnowledgeAppend { changes, reply } => settle_later(
            reply,
            super::sqlite::knowledge_log::append(connection, &changes).await,
        ),
        Command::Report(command) => command.apply(connection).await,
        Command::Bridge(command) => command.apply(connection).await,
        Command::ReadMark(command) => command.apply(connection).await,
        Command::Account(command) => command.apply(connection).await,
        Command::LeaseClaim {
            name,
            holder,
            ttl_ms,
            now_ms,
            reply,
        } => settle_later(
            reply,
            leases::claim(connection, &name, &holder, ttl_ms, now_ms).await,
        ),
        Command::LeaseRelease {
            name,
            holder,
            reply,
        } => settle_later(reply, leases::release(connection, &name, &holder).await),
    }
}
