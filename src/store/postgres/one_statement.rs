//! The common step, written as one statement: messages appended to an existing conversation,
//! its row kept or updated, nothing for the bridge. Data-modifying CTEs run in the
//! statement's own implicit transaction, so the step costs one round trip and one commit
//! instead of the seven of [`super::writes::commit_step`] (begin, lock, replay check, update,
//! insert, advance, commit); at the load a busy desk sees, that is what PostgreSQL's
//! throughput turns on.
//!
//! The guarantees are the transactional path's, from the same places: the conversation row's
//! `UPDATE` takes its row lock before the messages are numbered from its `last_seq`, so
//! sequence numbers stay gap-free however many processes write the conversation; a client
//! message id already stored violates the unique index `messages_by_client_id`, which aborts
//! the whole statement. Whatever this path cannot answer itself (an unknown conversation, a
//! version conflict, a repeated client id) it hands back untouched, and the caller takes the
//! transactional path, which tells these apart exactly as before.

use sqlx::{PgPool, Row};

use super::super::prepared::{PreparedMessage, PreparedStep, PreparedTarget};
use super::super::{Appended, Message, StepCommitted, StoreError, now_millis};
use super::rows::{conversation_columns, conversation_from_row};

/// What [`commit`] did.
pub(super) enum Written {
    Done(StepCommitted),
    /// Nothing was written; the transactional path must take the step.
    Declined(PreparedStep),
}

/// Whether [`commit`] can take the step at all: an existing conversation, at least one
/// message, no outbox event and no deadline.
fn eligible(step: &PreparedStep) -> bool {
    !step.messages.is_empty()
        && step.outbox.is_empty()
        && step.deadline.is_none()
        && !matches!(step.target, PreparedTarget::Create(_))
}

/// The messages' columns, one array each, for `unnest`.
#[derive(Default)]
struct Columns {
    sender_kinds: Vec<&'static str>,
    sender_ids: Vec<Option<String>>,
    bodies: Vec<String>,
    payloads: Vec<Option<String>>,
    client_ids: Vec<Option<String>>,
}

/// Appends the step's messages after the row's `last_seq`, numbered by their position.
macro_rules! insert_messages {
    () => {
        "stored AS (INSERT INTO messages (conversation_id, seq, sender_kind, sender_id, body, \
         payload, client_message_id, created_at) SELECT target.id, target.last_seq - $2 + m.ord, \
         m.kind, m.sender, m.body, m.payload, m.client, $3 FROM target, unnest($4::text[], \
         $5::text[], $6::text[], $7::text[], $8::text[]) WITH ORDINALITY \
         AS m(kind, sender, body, payload, client, ord))"
    };
}

/// A kept row: only its `last_seq` (and `updated_at`) moves.
const KEEP: &str = concat!(
    "WITH target AS (UPDATE conversations SET last_seq = last_seq + $2, updated_at = $3 \
     WHERE id = $1 RETURNING id, last_seq), ",
    insert_messages!(),
    " SELECT last_seq FROM target"
);

/// An updated row, at the version the step expects.
const UPDATE: &str = concat!(
    "WITH target AS (UPDATE conversations SET last_seq = last_seq + $2, updated_at = $3, \
     version = version + 1, status = $10, queue_group = $11, machine_state = $12 \
     WHERE id = $1 AND version = $9 RETURNING ",
    conversation_columns!(),
    "), ",
    insert_messages!(),
    " SELECT ",
    conversation_columns!(),
    " FROM target"
);

/// Commits `step` as one statement when it is [`eligible`] and nothing refuses it; hands it
/// back otherwise, with nothing written.
pub(super) async fn commit(pool: &PgPool, step: PreparedStep) -> Result<Written, StoreError> {
    if !eligible(&step) {
        return Ok(Written::Declined(step));
    }
    let count = step.messages.len() as i64;
    let now = now_millis();
    let mut columns = Columns::default();
    for message in &step.messages {
        columns.sender_kinds.push(message.new.sender_kind.as_str());
        columns.sender_ids.push(message.new.sender_id.clone());
        columns.bodies.push(message.new.body.clone());
        columns.payloads.push(message.payload_json.clone());
        columns
            .client_ids
            .push(message.new.client_message_id.clone());
    }
    let (id, sql) = match &step.target {
        PreparedTarget::Keep(id) => (id, KEEP),
        PreparedTarget::Update(prepared) => (&prepared.update.id, UPDATE),
        PreparedTarget::Create(_) => unreachable!("eligible() declines a new conversation"),
    };
    let mut query = sqlx::query(sql)
        .bind(id)
        .bind(count)
        .bind(now)
        .bind(columns.sender_kinds)
        .bind(columns.sender_ids)
        .bind(columns.bodies)
        .bind(columns.payloads)
        .bind(columns.client_ids);
    if let PreparedTarget::Update(prepared) = &step.target {
        query = query
            .bind(prepared.update.expected_version)
            .bind(prepared.update.status.as_str())
            .bind(&prepared.update.queue_group)
            .bind(&prepared.machine_state_json);
    }
    let written = match query.fetch_optional(pool).await {
        Ok(Some(row)) => match &step.target {
            PreparedTarget::Update(_) => {
                let conversation = conversation_from_row(&row)?;
                Ok(Some((conversation.last_seq, Some(conversation))))
            }
            _ => Ok(Some((row.try_get::<i64, _>("last_seq")?, None))),
        },
        Ok(None) => Ok(None),
        Err(error) => Err(error),
    };
    let (last_seq, conversation) = match written {
        Ok(Some(written)) => written,
        // Unknown conversation or version conflict: the transactional path names which.
        Ok(None) => return Ok(Written::Declined(step)),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            return Ok(Written::Declined(step));
        }
        Err(error) => return Err(error.into()),
    };
    let first = last_seq - count + 1;
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
    Ok(Written::Done(StepCommitted {
        conversation,
        messages,
        duplicate: None,
    }))
}

/// One message appended as one statement; handed back, with nothing written, when the
/// transactional path must answer (an unknown conversation, a repeated client id).
pub(super) async fn append(
    pool: &PgPool,
    message: PreparedMessage,
) -> Result<Result<Appended, PreparedMessage>, StoreError> {
    let step = PreparedStep {
        target: PreparedTarget::Keep(message.new.conversation_id.clone()),
        messages: vec![message],
        outbox: Vec::new(),
        deadline: None,
    };
    Ok(match commit(pool, step).await? {
        Written::Done(mut committed) => match committed.messages.pop() {
            Some(message) => Ok(Appended {
                message,
                duplicate: false,
            }),
            None => unreachable!("a committed append stored its message"),
        },
        Written::Declined(mut step) => match step.messages.pop() {
            Some(message) => Err(message),
            None => unreachable!("a declined append hands its message back"),
        },
    })
}
