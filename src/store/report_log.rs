//! The reports' records: what the insight recorder writes as conversations go (a partial row
//! per conversation, merged into its report row; requester texts the assistant could not
//! place well; article displays; presence changes), what the reports read back, and the
//! requester's satisfaction rating. This module owns the record types, their validation and
//! the merge rules; `sqlite::reports` and `postgres::reports` own the SQL.
//!
//! Merge rules of a conversation's row (the same upsert on both backends): a "when it first
//! happened" column (opened, hand-off, ticket, queued, accepted, first response, lost) keeps
//! its first value; a "where it ended" column (group, project, attendant, close) takes the
//! newest; counters (texts, fallbacks, transfers) add up; flags (outbound, bridged) stay set.

use super::StoreError;

/// Longest stored requester text of a gap; longer texts are cut (on a character boundary).
pub const MAX_GAP_TEXT: usize = 500;

/// Longest satisfaction comment.
pub const MAX_COMMENT: usize = 1_000;

/// A partial report row of one conversation: `None` and zero change nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportUpdate {
    pub conversation_id: String,
    pub opened_at: Option<i64>,
    pub channel: Option<String>,
    pub language: Option<String>,
    pub outbound: bool,
    pub texts: i64,
    pub fallbacks: i64,
    pub handoff_at: Option<i64>,
    pub group: Option<String>,
    pub bridged: bool,
    pub ticket_at: Option<i64>,
    pub activity_id: Option<String>,
    pub queued_at: Option<i64>,
    pub project: Option<String>,
    pub accepted_at: Option<i64>,
    pub attendant: Option<String>,
    pub first_response_at: Option<i64>,
    pub transfers: i64,
    pub lost_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub close_reason: Option<String>,
    pub handle_ms: Option<i64>,
    /// The first article an attendant sent (pasted its portal address).
    pub article_sent: Option<String>,
}

impl ReportUpdate {
    /// Folds `later` (an update of the same conversation that came after this one) into
    /// this one, by the same rules as [`UPSERT_CONVERSATION`]: writing the merged update
    /// gives the row writing both in turn would.
    pub fn merge(&mut self, later: ReportUpdate) {
        fn first<T>(kept: &mut Option<T>, later: Option<T>) {
            if kept.is_none() {
                *kept = later;
            }
        }
        fn last<T>(kept: &mut Option<T>, later: Option<T>) {
            if later.is_some() {
                *kept = later;
            }
        }
        first(&mut self.opened_at, later.opened_at);
        first(&mut self.channel, later.channel);
        first(&mut self.language, later.language);
        self.outbound |= later.outbound;
        self.texts += later.texts;
        self.fallbacks += later.fallbacks;
        first(&mut self.handoff_at, later.handoff_at);
        last(&mut self.group, later.group);
        self.bridged |= later.bridged;
        first(&mut self.ticket_at, later.ticket_at);
        first(&mut self.activity_id, later.activity_id);
        first(&mut self.queued_at, later.queued_at);
        last(&mut self.project, later.project);
        first(&mut self.accepted_at, later.accepted_at);
        last(&mut self.attendant, later.attendant);
        first(&mut self.first_response_at, later.first_response_at);
        self.transfers += later.transfers;
        first(&mut self.lost_at, later.lost_at);
        last(&mut self.closed_at, later.closed_at);
        last(&mut self.close_reason, later.close_reason);
        last(&mut self.handle_ms, later.handle_ms);
        first(&mut self.article_sent, later.article_sent);
    }
}

/// A conversation's whole report row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportConversation {
    pub row: ReportUpdate,
    pub rating: Option<i64>,
    pub comment: Option<String>,
    pub rated_at: Option<i64>,
}

/// Why a requester text is a knowledge-gap candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GapReason {
    /// The assistant recognised nothing.
    Fallback,
    /// Two or three close readings: the requester had to pick.
    Ambiguous,
    /// A search the requester asked for found nothing.
    NoHit,
    /// Articles were shown; whether they helped shows in what followed (a hand-off or a
    /// ticket after them makes the text a gap).
    Answered,
}

impl GapReason {
    pub const ALL: [GapReason; 4] = [
        GapReason::Fallback,
        GapReason::Ambiguous,
        GapReason::NoHit,
        GapReason::Answered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GapReason::Fallback => "fallback",
            GapReason::Ambiguous => "ambiguous",
            GapReason::NoHit => "no_hit",
            GapReason::Answered => "answered",
        }
    }

    pub fn parse(text: &str) -> Result<GapReason, StoreError> {
        GapReason::ALL
            .into_iter()
            .find(|reason| reason.as_str() == text)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown gap reason {text:?}")))
    }
}

/// A requester text recorded for the knowledge gaps.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportText {
    pub conversation_id: String,
    pub at_ms: i64,
    pub language: String,
    pub reason: GapReason,
    pub score: Option<f64>,
    pub text: String,
}

/// What followed in a conversation, as the knowledge gaps read it beside each text: when it
/// went to a person or a ticket, the ticket's activity and the group it was handed to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Followed {
    pub handoff_at: Option<i64>,
    pub ticket_at: Option<i64>,
    pub activity_id: Option<String>,
    pub group: Option<String>,
    /// The first article an attendant sent.
    pub article_sent: Option<String>,
}

/// A recorded gap text read back with what followed in its conversation (all default when
/// nothing was recorded about the conversation).
#[derive(Debug, Clone, PartialEq)]
pub struct GapText {
    pub text: ReportText,
    pub followed: Followed,
}

/// What happened to an article in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArticleUse {
    /// Listed among the assistant's answers.
    Shown,
    /// Expanded in the chat.
    Opened,
    /// Its portal page opened.
    Viewed,
}

impl ArticleUse {
    pub fn as_str(self) -> &'static str {
        match self {
            ArticleUse::Shown => "shown",
            ArticleUse::Opened => "opened",
            ArticleUse::Viewed => "viewed",
        }
    }

    pub fn parse(text: &str) -> Result<ArticleUse, StoreError> {
        match text {
            "shown" => Ok(ArticleUse::Shown),
            "opened" => Ok(ArticleUse::Opened),
            "viewed" => Ok(ArticleUse::Viewed),
            other => Err(StoreError::Corrupt(format!(
                "unknown article use {other:?}"
            ))),
        }
    }
}

/// One article event.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportArticle {
    pub article_id: String,
    pub conversation_id: String,
    pub at_ms: i64,
    pub kind: ArticleUse,
}

/// An attendant's presence on a channel changed (`state`: online, paused or offline).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportPresence {
    pub attendant: String,
    pub channel: String,
    pub at_ms: i64,
    pub state: String,
    /// The pause reason.
    pub reason: Option<String>,
}

/// What one write of the recorder holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportBatch {
    pub conversations: Vec<ReportUpdate>,
    pub texts: Vec<ReportText>,
    pub articles: Vec<ReportArticle>,
    pub presence: Vec<ReportPresence>,
}

impl ReportBatch {
    pub fn is_empty(&self) -> bool {
        self.conversations.is_empty()
            && self.texts.is_empty()
            && self.articles.is_empty()
            && self.presence.is_empty()
    }

    pub fn len(&self) -> usize {
        self.conversations.len() + self.texts.len() + self.articles.len() + self.presence.len()
    }
}

impl From<ReportUpdate> for ReportBatch {
    /// A batch of one conversation's partial row.
    fn from(update: ReportUpdate) -> ReportBatch {
        ReportBatch {
            conversations: vec![update],
            ..ReportBatch::default()
        }
    }
}

/// A satisfaction rating: 1 to 5 and an optional comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Rating {
    pub conversation_id: String,
    pub rating: i64,
    pub comment: Option<String>,
    pub at_ms: i64,
}

/// Refuses a rating outside 1..=5 or an oversized comment; a blank comment is none.
pub(crate) fn check_rating(mut rating: Rating) -> Result<Rating, StoreError> {
    if !(1..=5).contains(&rating.rating) {
        return Err(StoreError::InvalidInput(
            "a rating is a whole number from 1 to 5".into(),
        ));
    }
    if let Some(comment) = &rating.comment {
        if comment.chars().count() > MAX_COMMENT {
            return Err(StoreError::InvalidInput(format!(
                "a comment holds at most {MAX_COMMENT} characters"
            )));
        }
        if comment.trim().is_empty() {
            rating.comment = None;
        }
    }
    Ok(rating)
}

/// `text` cut to [`MAX_GAP_TEXT`] characters.
pub fn clip_text(text: &str) -> String {
    match text.char_indices().nth(MAX_GAP_TEXT) {
        Some((cut, _)) => text[..cut].to_string(),
        None => text.to_string(),
    }
}

// The SQL, the same on both backends (numbered `$n` parameters, `excluded`, COALESCE).

pub(crate) const UPSERT_CONVERSATION: &str = "\
INSERT INTO report_conversations (id, opened_at, channel, language, outbound, texts, fallbacks, \
    handoff_at, group_name, bridged, ticket_at, activity_id, queued_at, project, accepted_at, \
    attendant, first_response_at, transfers, lost_at, closed_at, close_reason, handle_ms, \
    article_sent) \
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
    $20, $21, $22, $23) \
ON CONFLICT (id) DO UPDATE SET \
    opened_at = COALESCE(report_conversations.opened_at, excluded.opened_at), \
    channel = COALESCE(report_conversations.channel, excluded.channel), \
    language = COALESCE(report_conversations.language, excluded.language), \
    outbound = CASE WHEN excluded.outbound > report_conversations.outbound \
        THEN excluded.outbound ELSE report_conversations.outbound END, \
    texts = report_conversations.texts + excluded.texts, \
    fallbacks = report_conversations.fallbacks + excluded.fallbacks, \
    handoff_at = COALESCE(report_conversations.handoff_at, excluded.handoff_at), \
    group_name = COALESCE(excluded.group_name, report_conversations.group_name), \
    bridged = CASE WHEN excluded.bridged > report_conversations.bridged \
        THEN excluded.bridged ELSE report_conversations.bridged END, \
    ticket_at = COALESCE(report_conversations.ticket_at, excluded.ticket_at), \
    activity_id = COALESCE(report_conversations.activity_id, excluded.activity_id), \
    queued_at = COALESCE(report_conversations.queued_at, excluded.queued_at), \
    project = COALESCE(excluded.project, report_conversations.project), \
    accepted_at = COALESCE(report_conversations.accepted_at, excluded.accepted_at), \
    attendant = COALESCE(excluded.attendant, report_conversations.attendant), \
    first_response_at = COALESCE(report_conversations.first_response_at, \
        excluded.first_response_at), \
    transfers = report_conversations.transfers + excluded.transfers, \
    lost_at = COALESCE(report_conversations.lost_at, excluded.lost_at), \
    closed_at = COALESCE(excluded.closed_at, report_conversations.closed_at), \
    close_reason = COALESCE(excluded.close_reason, report_conversations.close_reason), \
    handle_ms = COALESCE(excluded.handle_ms, report_conversations.handle_ms), \
    article_sent = COALESCE(report_conversations.article_sent, excluded.article_sent)";

pub(crate) const INSERT_TEXT: &str = "INSERT INTO report_texts \
    (conversation_id, at_ms, language, reason, score, text) VALUES ($1, $2, $3, $4, $5, $6)";

pub(crate) const INSERT_ARTICLE: &str = "INSERT INTO report_articles \
    (article_id, conversation_id, at_ms, kind) VALUES ($1, $2, $3, $4)";

pub(crate) const INSERT_PRESENCE: &str = "INSERT INTO report_presence \
    (attendant, channel, at_ms, state, reason) VALUES ($1, $2, $3, $4, $5)";

/// Sets a rating where none is yet (a row missing is made): one row affected, or none when
/// the conversation was rated before.
pub(crate) const RATE: &str = "INSERT INTO report_conversations (id, rating, comment, rated_at) \
    VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET rating = excluded.rating, \
    comment = excluded.comment, rated_at = excluded.rated_at \
    WHERE report_conversations.rating IS NULL";

/// Where the conversations opened in a period begin and end.
pub(crate) const SPAN_OF_CONVERSATIONS: &str = "SELECT min(opened_at), max(opened_at) \
    FROM report_conversations WHERE opened_at >= $1 AND opened_at < $2";

/// The columns of a packed conversation row, in [`Packed`]'s order.
macro_rules! packed_columns {
    () => {
        "id, opened_at, channel, language, outbound, texts, fallbacks, handoff_at, group_name, \
         bridged, ticket_at, activity_id, queued_at, project, accepted_at, attendant, \
         first_response_at, transfers, lost_at, closed_at, close_reason, handle_ms, rating, \
         comment, rated_at, article_sent"
    };
}

/// The conversations, and the texts with what followed them, of a slice of a period as one
/// JSON array of arrays: a report reads a hundred thousand rows, and the driver handing
/// them over one by one cost three times what reading them did. Each backend's words for it.
/// One conversation's row is read in the same form (an array, not an array of arrays).
pub(crate) struct Packing {
    pub conversations: &'static str,
    pub conversation: &'static str,
    pub texts: &'static str,
}

/// From where, and in which order, the packed texts come: with their conversation's
/// outcome, through one indexed join (no conversation is read whole, however old).
macro_rules! packed_texts {
    ($array:literal, $aggregate:literal, $text:literal) => {
        concat!(
            "SELECT ",
            $aggregate,
            "(",
            $array,
            "(t.conversation_id, t.at_ms, t.language, t.reason, t.score, t.text, c.handoff_at, \
             c.ticket_at, c.activity_id, c.group_name, c.article_sent) ORDER BY t.id)",
            $text,
            " FROM report_texts t LEFT JOIN report_conversations c \
             ON c.id = t.conversation_id WHERE t.at_ms >= $1 AND t.at_ms < $2"
        )
    };
}

pub(crate) const SQLITE_PACKING: Packing = Packing {
    conversations: concat!(
        "SELECT json_group_array(json_array(",
        packed_columns!(),
        ")) FROM report_conversations WHERE opened_at >= $1 AND opened_at < $2"
    ),
    conversation: concat!(
        "SELECT json_array(",
        packed_columns!(),
        ") FROM report_conversations WHERE id = $1"
    ),
    texts: packed_texts!("json_array", "json_group_array", ""),
};

/// PostgreSQL's aggregate is NULL when no row matches.
pub(crate) const POSTGRES_PACKING: Packing = Packing {
    conversations: concat!(
        "SELECT json_agg(json_build_array(",
        packed_columns!(),
        "))::text FROM report_conversations WHERE opened_at >= $1 AND opened_at < $2"
    ),
    conversation: concat!(
        "SELECT json_build_array(",
        packed_columns!(),
        ")::text FROM report_conversations WHERE id = $1"
    ),
    texts: packed_texts!("json_build_array", "json_agg", "::text"),
};

/// Where the texts recorded in a period begin and end.
pub(crate) const SPAN_OF_TEXTS: &str =
    "SELECT min(at_ms), max(at_ms) FROM report_texts WHERE at_ms >= $1 AND at_ms < $2";

/// The longest span one packed read covers: a long period is read a week at a time, so no
/// one text holds more than a week of conversations.
pub(crate) const PACKED_SLICE_MS: i64 = 7 * 86_400_000;

/// One conversation row as packed (a JSON array, read in field order).
#[derive(serde::Deserialize)]
struct Packed {
    id: String,
    opened_at: Option<i64>,
    channel: Option<String>,
    language: Option<String>,
    outbound: i64,
    texts: i64,
    fallbacks: i64,
    handoff_at: Option<i64>,
    group: Option<String>,
    bridged: i64,
    ticket_at: Option<i64>,
    activity_id: Option<String>,
    queued_at: Option<i64>,
    project: Option<String>,
    accepted_at: Option<i64>,
    attendant: Option<String>,
    first_response_at: Option<i64>,
    transfers: i64,
    lost_at: Option<i64>,
    closed_at: Option<i64>,
    close_reason: Option<String>,
    handle_ms: Option<i64>,
    rating: Option<i64>,
    comment: Option<String>,
    rated_at: Option<i64>,
    article_sent: Option<String>,
}

impl From<Packed> for ReportConversation {
    fn from(p: Packed) -> ReportConversation {
        ReportConversation {
            row: ReportUpdate {
                conversation_id: p.id,
                opened_at: p.opened_at,
                channel: p.channel,
                language: p.language,
                outbound: p.outbound != 0,
                texts: p.texts,
                fallbacks: p.fallbacks,
                handoff_at: p.handoff_at,
                group: p.group,
                bridged: p.bridged != 0,
                ticket_at: p.ticket_at,
                activity_id: p.activity_id,
                queued_at: p.queued_at,
                project: p.project,
                accepted_at: p.accepted_at,
                attendant: p.attendant,
                first_response_at: p.first_response_at,
                transfers: p.transfers,
                lost_at: p.lost_at,
                closed_at: p.closed_at,
                close_reason: p.close_reason,
                handle_ms: p.handle_ms,
                article_sent: p.article_sent,
            },
            rating: p.rating,
            comment: p.comment,
            rated_at: p.rated_at,
        }
    }
}

/// Reads packed JSON (`T`: one row or a list of them).
fn unpacked<T: serde::de::DeserializeOwned>(packed: &str) -> Result<T, StoreError> {
    serde_json::from_str(packed)
        .map_err(|error| StoreError::Corrupt(format!("a packed report row: {error}")))
}

/// Unpacks one packed conversation row.
pub(crate) fn unpack_one(packed: &str) -> Result<ReportConversation, StoreError> {
    Ok(unpacked::<Packed>(packed)?.into())
}

/// Unpacks the text of a packed read (`None`: no rows) into `into`.
pub(crate) fn unpack(
    packed: Option<&str>,
    into: &mut Vec<ReportConversation>,
) -> Result<(), StoreError> {
    if let Some(packed) = packed {
        let rows: Vec<Packed> = unpacked(packed)?;
        into.extend(rows.into_iter().map(ReportConversation::from));
    }
    Ok(())
}

/// One gap text as packed, with what followed in its conversation.
#[derive(serde::Deserialize)]
struct PackedText(
    String,
    i64,
    String,
    String,
    Option<f64>,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Unpacks the text of a packed read of gap texts (`None`: no rows) into `into`.
pub(crate) fn unpack_texts(
    packed: Option<&str>,
    into: &mut Vec<GapText>,
) -> Result<(), StoreError> {
    let Some(packed) = packed else {
        return Ok(());
    };
    let rows: Vec<PackedText> = unpacked(packed)?;
    for PackedText(conversation_id, at_ms, language, reason, score, text, h, t, a, g, sent) in rows
    {
        into.push(GapText {
            text: ReportText {
                conversation_id,
                at_ms,
                language,
                reason: GapReason::parse(&reason)?,
                score,
                text,
            },
            followed: Followed {
                handoff_at: h,
                ticket_at: t,
                activity_id: a,
                group: g,
                article_sent: sent,
            },
        });
    }
    Ok(())
}

pub(crate) const SELECT_ARTICLES: &str = "SELECT article_id, conversation_id, at_ms, kind \
    FROM report_articles WHERE at_ms >= $1 AND at_ms < $2";

pub(crate) const SELECT_PRESENCE: &str = "SELECT attendant, channel, at_ms, state, reason \
    FROM report_presence WHERE at_ms < $1 ORDER BY at_ms";

pub(crate) const DISMISS_GAP: &str = "INSERT INTO gap_dismissals (key, by, at_ms) \
    VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING";

pub(crate) const RESTORE_GAP: &str = "DELETE FROM gap_dismissals WHERE key = $1";

pub(crate) const SELECT_DISMISSED: &str = "SELECT key FROM gap_dismissals";

/// Binds a [`ReportUpdate`] to [`UPSERT_CONVERSATION`] (any backend).
macro_rules! bind_update {
    ($query:expr, $update:expr) => {{
        let update = $update;
        $query
            .bind(&update.conversation_id)
            .bind(update.opened_at)
            .bind(&update.channel)
            .bind(&update.language)
            .bind(i64::from(update.outbound))
            .bind(update.texts)
            .bind(update.fallbacks)
            .bind(update.handoff_at)
            .bind(&update.group)
            .bind(i64::from(update.bridged))
            .bind(update.ticket_at)
            .bind(&update.activity_id)
            .bind(update.queued_at)
            .bind(&update.project)
            .bind(update.accepted_at)
            .bind(&update.attendant)
            .bind(update.first_response_at)
            .bind(update.transfers)
            .bind(update.lost_at)
            .bind(update.closed_at)
            .bind(&update.close_reason)
            .bind(update.handle_ms)
            .bind(&update.article_sent)
    }};
}
pub(crate) use bind_update;

/// Decodes rows of [`SELECT_ARTICLES`] and [`SELECT_PRESENCE`].
macro_rules! article_from_row {
    ($row:expr) => {{
        use sqlx::Row as _;
        let row = $row;
        Ok::<_, StoreError>(ReportArticle {
            article_id: row.try_get("article_id")?,
            conversation_id: row.try_get("conversation_id")?,
            at_ms: row.try_get("at_ms")?,
            kind: ArticleUse::parse(row.try_get("kind")?)?,
        })
    }};
}
pub(crate) use article_from_row;

macro_rules! presence_from_row {
    ($row:expr) => {{
        use sqlx::Row as _;
        let row = $row;
        Ok::<_, StoreError>(ReportPresence {
            attendant: row.try_get("attendant")?,
            channel: row.try_get("channel")?,
            at_ms: row.try_get("at_ms")?,
            state: row.try_get("state")?,
            reason: row.try_get("reason")?,
        })
    }};
}
pub(crate) use presence_from_row;

/// Writes a batch on an open connection of either backend, in the batch's order.
macro_rules! write_batch {
    ($connection:expr, $batch:expr) => {{
        let connection = $connection;
        let batch = $batch;
        for update in &batch.conversations {
            bind_update!(sqlx::query(UPSERT_CONVERSATION), update)
                .execute(&mut *connection)
                .await?;
        }
        for text in &batch.texts {
            sqlx::query(INSERT_TEXT)
                .bind(&text.conversation_id)
                .bind(text.at_ms)
                .bind(&text.language)
                .bind(text.reason.as_str())
                .bind(text.score)
                .bind(&text.text)
                .execute(&mut *connection)
                .await?;
        }
        for article in &batch.articles {
            sqlx::query(INSERT_ARTICLE)
                .bind(&article.article_id)
                .bind(&article.conversation_id)
                .bind(article.at_ms)
                .bind(article.kind.as_str())
                .execute(&mut *connection)
                .await?;
        }
        for presence in &batch.presence {
            sqlx::query(INSERT_PRESENCE)
                .bind(&presence.attendant)
                .bind(&presence.channel)
                .bind(presence.at_ms)
                .bind(&presence.state)
                .bind(&presence.reason)
                .execute(&mut *connection)
                .await?;
        }
        Ok::<(), StoreError>(())
    }};
}
pub(crate) use write_batch;

/// The report functions of one backend, over its connection and pool types: `record`,
/// `rate`, `dismiss` (on a connection inside a transaction), and the reads.
macro_rules! report_functions {
    ($connection:ty, $pool:ty, $packing:expr) => {
        /// Writes one recorder batch.
        pub(in crate::store) async fn record(
            connection: &mut $connection,
            batch: &ReportBatch,
        ) -> Result<(), StoreError> {
            write_batch!(connection, batch)
        }

        /// Sets a rating unless one is there; `false` when the conversation was rated before.
        pub(in crate::store) async fn rate(
            connection: &mut $connection,
            rating: &Rating,
        ) -> Result<bool, StoreError> {
            let done = sqlx::query(RATE)
                .bind(&rating.conversation_id)
                .bind(rating.rating)
                .bind(&rating.comment)
                .bind(rating.at_ms)
                .execute(connection)
                .await?;
            Ok(done.rows_affected() == 1)
        }

        /// Dismisses (`dismiss`) or brings back a gap cluster.
        pub(in crate::store) async fn dismiss(
            connection: &mut $connection,
            key: &str,
            by: &str,
            at_ms: i64,
            dismiss: bool,
        ) -> Result<(), StoreError> {
            if dismiss {
                sqlx::query(DISMISS_GAP)
                    .bind(key)
                    .bind(by)
                    .bind(at_ms)
                    .execute(connection)
                    .await?;
            } else {
                sqlx::query(RESTORE_GAP)
                    .bind(key)
                    .execute(connection)
                    .await?;
            }
            Ok(())
        }

        /// The packed texts of `select` over `[since, until)`, a slice at a time over the
        /// span that holds rows (`span` finds it through the index at once).
        async fn packed(
            pool: &$pool,
            span: &'static str,
            select: &'static str,
            since: i64,
            until: i64,
        ) -> Result<Vec<Option<String>>, StoreError> {
            let (first, last): (Option<i64>, Option<i64>) = sqlx::query_as(span)
                .bind(since)
                .bind(until)
                .fetch_one(pool)
                .await?;
            let mut slices = Vec::new();
            let (Some(first), Some(last)) = (first, last) else {
                return Ok(slices);
            };
            let (mut from, until) = (first, last.saturating_add(1));
            while from < until {
                let to = until.min(from.saturating_add(PACKED_SLICE_MS));
                slices.push(
                    sqlx::query_scalar(select)
                        .bind(from)
                        .bind(to)
                        .fetch_one(pool)
                        .await?,
                );
                from = to;
            }
            Ok(slices)
        }

        pub(in crate::store) async fn conversations(
            pool: &$pool,
            since: i64,
            until: i64,
        ) -> Result<Vec<ReportConversation>, StoreError> {
            let mut conversations = Vec::new();
            let select = $packing.conversations;
            for slice in packed(pool, SPAN_OF_CONVERSATIONS, select, since, until).await? {
                unpack(slice.as_deref(), &mut conversations)?;
            }
            Ok(conversations)
        }

        pub(in crate::store) async fn conversation(
            pool: &$pool,
            id: &str,
        ) -> Result<Option<ReportConversation>, StoreError> {
            let packed: Option<String> = sqlx::query_scalar($packing.conversation)
                .bind(id)
                .fetch_optional(pool)
                .await?;
            packed.map(|packed| unpack_one(&packed)).transpose()
        }

        pub(in crate::store) async fn texts(
            pool: &$pool,
            since: i64,
            until: i64,
        ) -> Result<Vec<GapText>, StoreError> {
            let mut texts = Vec::new();
            for slice in packed(pool, SPAN_OF_TEXTS, $packing.texts, since, until).await? {
                unpack_texts(slice.as_deref(), &mut texts)?;
            }
            Ok(texts)
        }

        pub(in crate::store) async fn articles(
            pool: &$pool,
            since: i64,
            until: i64,
        ) -> Result<Vec<ReportArticle>, StoreError> {
            let rows = sqlx::query(SELECT_ARTICLES)
                .bind(since)
                .bind(until)
                .fetch_all(pool)
                .await?;
            rows.iter().map(|row| article_from_row!(row)).collect()
        }

        pub(in crate::store) async fn presence(
            pool: &$pool,
            until: i64,
        ) -> Result<Vec<ReportPresence>, StoreError> {
            let rows = sqlx::query(SELECT_PRESENCE)
                .bind(until)
                .fetch_all(pool)
                .await?;
            rows.iter().map(|row| presence_from_row!(row)).collect()
        }

        pub(in crate::store) async fn dismissed(pool: &$pool) -> Result<Vec<String>, StoreError> {
            Ok(sqlx::query_scalar(SELECT_DISMISSED).fetch_all(pool).await?)
        }
    };
}
pub(crate) use report_functions;
