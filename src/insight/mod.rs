//! Insight for the people who run the desk: what happened to conversations is recorded as
//! they go (the [`Recorder`], fed by the orchestrator and the desk through [`facts`]), and
//! read back as reports: the desk report ([`desk`]), the knowledge gaps ([`gaps`]) and the
//! articles' effectiveness ([`articles`]) over a [`Period`]. The reports are computed here
//! from the store's report rows; the HTTP routes, the command line and the pages only ask
//! and render.

pub mod articles;
pub mod csv;
pub mod desk;
pub mod facts;
pub mod gaps;
pub mod period;
pub mod recorder;

pub use period::{Period, PeriodError};
pub use recorder::Recorder;

use crate::store::{ReportConversation, Store, StoreError};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// How long before a period conversations are read for what followed its texts (a text of
/// the period may belong to a conversation opened a little before it).
const LOOK_BACK_MS: i64 = 2 * 86_400_000;

/// The knowledge gaps of a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GapReport {
    pub since: String,
    pub until: String,
    pub time_zone: String,
    /// Gap texts in the period (the clusters' counts add up to it).
    pub texts: usize,
    /// Whether the examples are shown to this caller.
    pub examples: bool,
    pub clusters: Vec<gaps::GapCluster>,
}

/// The articles' effectiveness over a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArticleReport {
    pub since: String,
    pub until: String,
    pub time_zone: String,
    pub articles: Vec<articles::ArticleFigures>,
}

/// Conversations opened in the period, and those a little before it, by id.
async fn conversations_around(
    store: &dyn Store,
    period: &Period,
) -> Result<HashMap<String, ReportConversation>, StoreError> {
    Ok(store
        .report_conversations(period.since_ms - LOOK_BACK_MS, period.until_ms)
        .await?
        .into_iter()
        .map(|conversation| (conversation.row.conversation_id.clone(), conversation))
        .collect())
}

/// The desk report of `period`.
pub async fn desk_report(
    store: &dyn Store,
    period: &Period,
) -> Result<desk::DeskReport, StoreError> {
    let conversations = store
        .report_conversations(period.since_ms, period.until_ms)
        .await?;
    let presence = store.report_presence(period.until_ms).await?;
    Ok(desk::report(&conversations, &presence, period))
}

/// The knowledge gaps of `period`; `with_examples` false leaves the requesters' texts out.
pub async fn gap_report(
    store: &dyn Store,
    period: &Period,
    with_examples: bool,
) -> Result<GapReport, StoreError> {
    let texts = store.report_texts(period.since_ms, period.until_ms).await?;
    let dismissed: HashSet<String> = store.dismissed_gaps().await?.into_iter().collect();
    let clusters = gaps::clusters(&texts, period.midpoint_ms(), with_examples, &dismissed);
    let (since, until) = period.bounds();
    Ok(GapReport {
        since,
        until,
        time_zone: period.zone_name.clone(),
        texts: clusters.iter().map(|cluster| cluster.count).sum(),
        examples: with_examples,
        clusters,
    })
}

/// The texts of gap cluster `key` in `period` (for turning them into examples or an
/// article), or `None` when no cluster has that key.
pub async fn cluster_texts(
    store: &dyn Store,
    period: &Period,
    key: &str,
) -> Result<Option<(gaps::GapCluster, Vec<String>)>, StoreError> {
    let texts = store.report_texts(period.since_ms, period.until_ms).await?;
    Ok(gaps::cluster_members(&texts, period.midpoint_ms(), key))
}

/// The articles' effectiveness over `period`; `title` names an article.
pub async fn article_report(
    store: &dyn Store,
    period: &Period,
    title: impl Fn(&str) -> Option<String>,
) -> Result<ArticleReport, StoreError> {
    let uses = store
        .report_articles(period.since_ms, period.until_ms)
        .await?;
    let conversations = conversations_around(store, period).await?;
    let (since, until) = period.bounds();
    Ok(ArticleReport {
        since,
        until,
        time_zone: period.zone_name.clone(),
        articles: articles::effectiveness(&uses, &conversations, title),
    })
}

/// Which conversations a drill-down lists.
#[derive(Debug, Clone, Default)]
pub struct Drill {
    pub day: Option<String>,
    pub channel: Option<String>,
    pub group: Option<String>,
    pub project: Option<String>,
    pub attendant: Option<String>,
    /// `contained`, `handoff`, `lost`, `ticket`, `rated`, `transferred` or none (all).
    pub outcome: Option<String>,
}

/// One conversation of a drill-down: its figures, never its texts.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DrillRow {
    pub id: String,
    pub opened_at: Option<i64>,
    pub channel: Option<String>,
    pub language: Option<String>,
    pub group: Option<String>,
    pub project: Option<String>,
    pub attendant: Option<String>,
    pub contained: bool,
    pub handoff: bool,
    pub lost: bool,
    pub ticket: bool,
    pub transfers: i64,
    pub queue_ms: Option<i64>,
    pub first_response_ms: Option<i64>,
    pub close_reason: Option<String>,
    pub rating: Option<i64>,
}

/// The outcomes a drill-down may ask for.
pub const OUTCOMES: [&str; 6] = [
    "contained",
    "handoff",
    "lost",
    "ticket",
    "rated",
    "transferred",
];

/// The conversations of `period` that `drill` selects, newest first.
pub async fn drill_down(
    store: &dyn Store,
    period: &Period,
    drill: &Drill,
) -> Result<Vec<DrillRow>, StoreError> {
    let conversations = store
        .report_conversations(period.since_ms, period.until_ms)
        .await?;
    let same = |wanted: &Option<String>, value: &Option<String>| {
        wanted
            .as_ref()
            .is_none_or(|wanted| Some(wanted) == value.as_ref())
    };
    let mut rows: Vec<DrillRow> = conversations
        .into_iter()
        .filter(|c| {
            let row = &c.row;
            same(&drill.channel, &row.channel)
                && same(&drill.group, &row.group)
                && same(&drill.project, &row.project)
                && same(&drill.attendant, &row.attendant)
                && drill.day.as_ref().is_none_or(|day| {
                    row.opened_at.map(|at| period.day_of(at)).as_ref() == Some(day)
                })
                && match drill.outcome.as_deref() {
                    Some("contained") => desk::contained(c),
                    Some("handoff") => row.handoff_at.is_some(),
                    Some("lost") => row.lost_at.is_some(),
                    Some("ticket") => row.ticket_at.is_some(),
                    Some("rated") => c.rating.is_some(),
                    Some("transferred") => row.transfers > 0,
                    _ => true,
                }
        })
        .map(|c| {
            let row = &c.row;
            let (queue_ms, first_response_ms) = desk::waits(row);
            DrillRow {
                contained: desk::contained(&c),
                handoff: row.handoff_at.is_some(),
                lost: row.lost_at.is_some(),
                ticket: row.ticket_at.is_some(),
                transfers: row.transfers,
                queue_ms,
                first_response_ms,
                id: row.conversation_id.clone(),
                opened_at: row.opened_at,
                channel: row.channel.clone(),
                language: row.language.clone(),
                group: row.group.clone(),
                project: row.project.clone(),
                attendant: row.attendant.clone(),
                close_reason: row.close_reason.clone(),
                rating: c.rating,
            }
        })
        .collect();
    rows.sort_by(|a, b| b.opened_at.cmp(&a.opened_at).then(a.id.cmp(&b.id)));
    Ok(rows)
}
