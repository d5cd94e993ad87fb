//! Group commit on PostgreSQL for the common step: messages appended to an existing
//! conversation, its row kept or updated, nothing for the bridge. Such steps go to one task
//! which writes whatever has arrived as one statement (data-modifying CTEs) in its own
//! implicit transaction: while one batch commits, the next gathers, so under load a WAL flush
//! and a round trip carry dozens of steps, and alone a step still costs one round trip
//! instead of the seven of [`super::writes::commit_step`] (begin, lock, replay check, update,
//! insert, advance, commit).
//!
//! The guarantees are the transactional path's, from the same places: each conversation
//! row's `UPDATE` takes its row lock before its messages are numbered from its `last_seq`,
//! so sequence numbers stay gap-free however many processes write the conversation (a batch
//! holds one step per conversation; a second waits for the next batch); a client message id
//! already stored violates the unique index `messages_by_client_id`, which aborts the whole
//! statement. What a batch cannot answer itself it hands back untouched, with nothing
//! written, and each caller takes the transactional path, which tells the cases apart
//! exactly as before: a step whose row did not match (an unknown conversation, a version
//! conflict), and every step of a batch the server refused (a repeated client id, a
//! deadlock with another node's writes). An error that leaves unknown whether the batch
//! committed (the connection lost mid-statement) is answered as that error, never retried.

use std::collections::{HashMap, HashSet};

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use super::super::error::is_server_going_away;
use super::super::prepared::{PreparedStep, PreparedTarget};
use super::super::{Conversation, Message, StepCommitted, StoreError, now_millis};
use super::rows::{conversation_columns, conversation_from_row};

/// Most steps in one statement.
const MAX_BATCH: usize = 256;

/// Steps that may wait for the writer before their senders wait too.
const QUEUE: usize = 4096;

/// What became of a step sent to [`GroupCommit::commit`].
pub(super) enum Written {
    Done(StepCommitted),
    /// Nothing was written; the transactional path must take the step.
    Declined(PreparedStep),
}

/// The handle of the writing task; it stops when every handle is dropped.
pub(super) struct GroupCommit {
    sender: mpsc::Sender<Request>,
}

struct Request {
    step: PreparedStep,
    reply: oneshot::Sender<Result<Written, StoreError>>,
}

impl GroupCommit {
    /// Starts the writing task on `pool`.
    pub(super) fn start(pool: PgPool) -> GroupCommit {
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, receiver));
        GroupCommit { sender }
    }

    /// Commits `step` with whatever else is waiting, when it is [`eligible`]; hands it back
    /// otherwise, or when the batch could not take it, with nothing written.
    pub(super) async fn commit(&self, step: PreparedStep) -> Result<Written, StoreError> {
        if !eligible(&step) {
            return Ok(Written::Declined(step));
        }
        let (reply, answer) = oneshot::channel();
        if let Err(refused) = self.sender.send(Request { step, reply }).await {
            // The writer is gone (the store is closing): the transactional path says so.
            return Ok(Written::Declined(refused.0.step));
        }
        answer.await.unwrap_or_else(|_| {
            Err(StoreError::Internal(
                "the group commit writer stopped with a step in hand".into(),
            ))
        })
    }
}

/// Whether a step can go in a batch: an existing conversation, at least one message, no
/// outbox event and no deadline.
fn eligible(step: &PreparedStep) -> bool {
    !step.messages.is_empty()
        && step.outbox.is_empty()
        && step.deadline.is_none()
        && !matches!(step.target, PreparedTarget::Create(_))
}

fn conversation_of(step: &PreparedStep) -> &str {
    match &step.target {
        PreparedTarget::Keep(id) => id,
        PreparedTarget::Update(update) => &update.update.id,
        PreparedTarget::Create(conversation) => &conversation.new.id,
    }
}

async fn run(pool: PgPool, mut receiver: mpsc::Receiver<Request>) {
    // A step of a conversation the batch already holds waits for the next one.
    let mut held_over: Option<Request> = None;
    loop {
        let first = match held_over.take() {
            Some(request) => request,
            None => match receiver.recv().await {
                Some(request) => request,
                None => return,
            },
        };
        let mut conversations = HashSet::from([conversation_of(&first.step).to_string()]);
        let mut batch = vec![first];
        let mut yielded = false;
        while batch.len() < MAX_BATCH {
            let request = match receiver.try_recv() {
                Ok(request) => request,
                // Once, let the tasks that are about to send do so: a step in flight joins
                // this batch rather than waiting for the next commit.
                Err(_) if !yielded => {
                    yielded = true;
                    tokio::task::yield_now().await;
                    continue;
                }
                Err(_) => break,
            };
            if !conversations.insert(conversation_of(&request.step).to_string()) {
                held_over = Some(request);
                break;
            }
            batch.push(request);
        }
        write(&pool, batch).await;
    }
}

/// The statement of a batch. `$1`..`$6` are the steps (conversation, message count, expected
/// version or null to keep the row, status, queue group, machine state), `$7`..`$13` the
/// messages (conversation, position in its step from 1, sender kind, sender, body, payload,
/// client id), `$14` the time. Input columns are prefixed `in_` so that the returned columns
/// are the row's.
const BATCH: &str = concat!(
    "WITH input AS (SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::text[], \
     $5::text[], $6::text[]) AS i(in_id, in_count, in_expected, in_status, in_queue_group, \
     in_state)), \
     target AS (UPDATE conversations SET last_seq = last_seq + in_count, updated_at = $14, \
     version = CASE WHEN in_expected IS NULL THEN version ELSE version + 1 END, \
     status = CASE WHEN in_expected IS NULL THEN status ELSE in_status END, \
     queue_group = CASE WHEN in_expected IS NULL THEN queue_group ELSE in_queue_group END, \
     machine_state = CASE WHEN in_expected IS NULL THEN machine_state ELSE in_state END \
     FROM input WHERE id = in_id AND (in_expected IS NULL OR version = in_expected) \
     RETURNING in_count, ",
    conversation_columns!(),
    "), stored AS (INSERT INTO messages (conversation_id, seq, sender_kind, sender_id, body, \
     payload, client_message_id, created_at) \
     SELECT target.id, target.last_seq - target.in_count + m.position, m.kind, m.sender, \
     m.body, m.payload, m.client, $14 FROM target JOIN unnest($7::text[], $8::int8[], \
     $9::text[], $10::text[], $11::text[], $12::text[], $13::text[]) \
     AS m(conversation, position, kind, sender, body, payload, client) \
     ON m.conversation = target.id) \
     SELECT ",
    conversation_columns!(),
    " FROM target"
);

/// The columns of a batch's steps and messages, one array each, for `unnest`.
#[derive(Default)]
struct Columns<'a> {
    ids: Vec<&'a str>,
    counts: Vec<i64>,
    expected: Vec<Option<i64>>,
    statuses: Vec<Option<&'static str>>,
    queue_groups: Vec<Option<&'a str>>,
    states: Vec<Option<&'a str>>,
    message_conversations: Vec<&'a str>,
    positions: Vec<i64>,
    kinds: Vec<&'static str>,
    senders: Vec<Option<&'a str>>,
    bodies: Vec<&'a str>,
    payloads: Vec<Option<&'a str>>,
    clients: Vec<Option<&'a str>>,
}

impl<'a> Columns<'a> {
    fn of(batch: &'a [Request]) -> Columns<'a> {
        let mut columns = Columns::default();
        for request in batch {
            let step = &request.step;
            let id = conversation_of(step);
            columns.ids.push(id);
            columns.counts.push(step.messages.len() as i64);
            match &step.target {
                PreparedTarget::Update(prepared) => {
                    columns
                        .expected
                        .push(Some(prepared.update.expected_version));
                    columns.statuses.push(Some(prepared.update.status.as_str()));
                    columns
                        .queue_groups
                        .push(prepared.update.queue_group.as_deref());
                    columns.states.push(Some(&prepared.machine_state_json));
                }
                _ => {
                    columns.expected.push(None);
                    columns.statuses.push(None);
                    columns.queue_groups.push(None);
                    columns.states.push(None);
                }
            }
            for (position, message) in (1..).zip(&step.messages) {
                columns.message_conversations.push(id);
                columns.positions.push(position);
                columns.kinds.push(message.new.sender_kind.as_str());
                columns.senders.push(message.new.sender_id.as_deref());
                columns.bodies.push(&message.new.body);
                columns.payloads.push(message.payload_json.as_deref());
                columns
                    .clients
                    .push(message.new.client_message_id.as_deref());
            }
        }
        columns
    }
}

/// Writes `batch` and answers each of its senders.
async fn write(pool: &PgPool, batch: Vec<Request>) {
    let now = now_millis();
    let written = {
        let columns = Columns::of(&batch);
        sqlx::query(BATCH)
            .bind(columns.ids)
            .bind(columns.counts)
            .bind(columns.expected)
            .bind(columns.statuses)
            .bind(columns.queue_groups)
            .bind(columns.states)
            .bind(columns.message_conversations)
            .bind(columns.positions)
            .bind(columns.kinds)
            .bind(columns.senders)
            .bind(columns.bodies)
            .bind(columns.payloads)
            .bind(columns.clients)
            .bind(now)
            .fetch_all(pool)
            .await
    };
    let rows = match written {
        Ok(rows) => rows,
        // The server refused the statement, so nothing of it was written: every step goes
        // the transactional way, which answers each exactly.
        Err(sqlx::Error::Database(error)) if !is_server_going_away(error.code()) => {
            tracing::debug!(steps = batch.len(), %error, "a batch was refused; its steps go one by one");
            for request in batch {
                let _ = request.reply.send(Ok(Written::Declined(request.step)));
            }
            return;
        }
        Err(error) => {
            let error = StoreError::from(error);
            for request in batch {
                let _ = request.reply.send(Err(error.clone()));
            }
            return;
        }
    };
    let mut updated: HashMap<String, Conversation> = HashMap::with_capacity(rows.len());
    for row in &rows {
        match conversation_from_row(row) {
            Ok(conversation) => {
                updated.insert(conversation.id.clone(), conversation);
            }
            Err(error) => {
                // Committed, but unreadable: say so rather than guess.
                for request in batch {
                    let _ = request.reply.send(Err(error.clone()));
                }
                return;
            }
        }
    }
    for request in batch {
        let reply = match updated.remove(conversation_of(&request.step)) {
            Some(conversation) => Ok(Written::Done(committed(request.step, conversation, now))),
            None => Ok(Written::Declined(request.step)),
        };
        let _ = request.reply.send(reply);
    }
}

/// What a committed step stored: its messages numbered up to the row's new `last_seq`, and
/// the row when the step updated it.
fn committed(step: PreparedStep, conversation: Conversation, now: i64) -> StepCommitted {
    let count = step.messages.len() as i64;
    let first = conversation.last_seq - count + 1;
    let messages = step
        .messages
        .into_iter()
        .zip(first..)
        .map(|(prepared, seq)| Message {
            conversation_id: prepared.new.conversation_id,
            seq,
            sender_kind: prepared.new.sender_kind,
            sender_id: prepared.new.sender_id,
            body: prepared.new.body,
            payload: prepared.new.payload,
            client_message_id: prepared.new.client_message_id,
            created_at: now,
        })
        .collect();
    StepCommitted {
        conversation: matches!(step.target, PreparedTarget::Update(_)).then_some(conversation),
        messages,
        duplicate: None,
    }
}
