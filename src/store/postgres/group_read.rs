//! Group read on PostgreSQL for the read every requester input starts with: the
//! conversation's row and whether the post's client message id is already stored. Such reads
//! go to one task which asks for whatever has arrived in one statement: while one batch is
//! answered, the next gathers, so under load one round trip carries dozens of reads instead
//! of one each, and a read that arrives alone is asked alone.
//!
//! Each read still sees the committed row as of its statement, exactly as a read of its own
//! would: nothing is cached, so another node's writes are seen as soon as they are committed.

use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use tokio::sync::{mpsc, oneshot};

use super::super::{Conversation, StoreError};
use super::rows::{conversation_columns, conversation_from_row};

/// Most reads in one statement.
const MAX_BATCH: usize = 256;

/// Reads that may wait for the reader before their senders wait too.
const QUEUE: usize = 4096;

/// A conversation's row and the sequence number of the message already stored under the
/// client message id asked about, if any.
pub(super) type Found = Option<(Conversation, Option<i64>)>;

/// The handle of the reading task; it stops when every handle is dropped.
pub(super) struct GroupRead {
    sender: mpsc::Sender<Request>,
}

struct Request {
    id: String,
    client_message_id: Option<String>,
    reply: oneshot::Sender<Result<Found, StoreError>>,
}

impl GroupRead {
    /// Starts the reading task on `pool`.
    pub(super) fn start(pool: PgPool) -> GroupRead {
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, receiver));
        GroupRead { sender }
    }

    /// Reads conversation `id` with whatever else is waiting.
    pub(super) async fn read(
        &self,
        id: &str,
        client_message_id: Option<&str>,
    ) -> Result<Found, StoreError> {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            id: id.to_string(),
            client_message_id: client_message_id.map(str::to_string),
            reply,
        };
        // The store holds the only sender, so the reader stops only if it failed.
        let stopped = || StoreError::Internal("the group reader stopped".into());
        self.sender.send(request).await.map_err(|_| stopped())?;
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }
}

async fn run(pool: PgPool, mut receiver: mpsc::Receiver<Request>) {
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        let mut yielded = false;
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(request) => batch.push(request),
                // Once, let the tasks that are about to ask do so.
                Err(_) if !yielded => {
                    yielded = true;
                    tokio::task::yield_now().await;
                }
                Err(_) => break,
            }
        }
        if batch.len() == 1
            && let Some(single) = batch.pop()
        {
            let found = read_one(&pool, &single.id, single.client_message_id.as_deref()).await;
            let _ = single.reply.send(found);
        } else {
            read_many(&pool, batch).await;
        }
    }
}

/// One read, alone: a plain lookup by key (the batch statement measured slower for one).
async fn read_one(
    pool: &PgPool,
    id: &str,
    client_message_id: Option<&str>,
) -> Result<Found, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        conversation_columns!(),
        ", (SELECT seq FROM messages WHERE conversation_id = $1 \
         AND client_message_id = $2) AS replayed_seq FROM conversations WHERE id = $1"
    ))
    .bind(id)
    .bind(client_message_id)
    .fetch_optional(pool)
    .await?;
    row.map(|row| Ok((conversation_from_row(&row)?, row.try_get("replayed_seq")?)))
        .transpose()
}

/// The statement of a batch: `$1` the conversation ids, `$2` the client message ids (null
/// where none), one row per read that found its conversation, `in_position` (from 1) naming
/// the read.
const BATCH: &str = concat!(
    "SELECT ",
    conversation_columns!(),
    ", in_position, (SELECT seq FROM messages WHERE conversation_id = in_id \
     AND client_message_id = in_client) AS replayed_seq \
     FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS i(in_id, in_client, in_position) \
     JOIN conversations ON id = in_id"
);

/// Reads `batch` in one statement and answers each of its senders.
async fn read_many(pool: &PgPool, batch: Vec<Request>) {
    let ids: Vec<&str> = batch.iter().map(|request| request.id.as_str()).collect();
    let clients: Vec<Option<&str>> = batch
        .iter()
        .map(|request| request.client_message_id.as_deref())
        .collect();
    let rows = sqlx::query(BATCH)
        .bind(ids)
        .bind(clients)
        .fetch_all(pool)
        .await;
    let answers = rows
        .map_err(StoreError::from)
        .and_then(|rows| answers_of(&rows, batch.len()));
    let answers: Vec<Result<Found, StoreError>> = match answers {
        Ok(answers) => answers.into_iter().map(Ok).collect(),
        Err(error) => batch.iter().map(|_| Err(error.clone())).collect(),
    };
    for (request, answer) in batch.into_iter().zip(answers) {
        let _ = request.reply.send(answer);
    }
}

/// What each of `count` reads found, by the position the rows name.
fn answers_of(rows: &[PgRow], count: usize) -> Result<Vec<Found>, StoreError> {
    let mut answers: Vec<Found> = vec![None; count];
    for row in rows {
        let position: i64 = row.try_get("in_position")?;
        let answer = usize::try_from(position - 1)
            .ok()
            .and_then(|index| answers.get_mut(index))
            .ok_or_else(|| StoreError::Internal(format!("a read at position {position}")))?;
        *answer = Some((conversation_from_row(row)?, row.try_get("replayed_seq")?));
    }
    Ok(answers)
}
