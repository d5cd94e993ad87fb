//! The reports over HTTP: the desk report and its drill-down to conversations, the knowledge
//! gaps with their actions (dismiss, add the texts as an activity's examples, draft an
//! article), the articles' effectiveness, each as JSON or, with `format=csv`, as a CSV
//! table; and the requester's satisfaction rating of an ended conversation.
//!
//! Who reads what: the reports are for admins and knowledge managers. No report shows a
//! requester's text except the gap examples, which only those two roles see, and which the
//! `gap_examples` setting can turn off for everyone. A drill-down lists conversations by id
//! and figures; reading one goes through the conversation's own access rules.

use super::{Json, Path, Query};
use crate::auth::Identity;
use crate::http::auth::{Authorized, Editors, Requesters, Roles};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::state::AppState;
use crate::insight::{self, Drill, Period, csv};
use crate::knowledge::{DocKind, Document};
use crate::lang::Language;
use crate::store::{ConversationStatus, Rating};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(desk_report))
        .routes(routes!(desk_conversations))
        .routes(routes!(gap_report))
        .routes(routes!(dismiss_gap, restore_gap))
        .routes(routes!(gap_examples))
        .routes(routes!(gap_draft))
        .routes(routes!(article_report))
        .routes(routes!(rate))
}

/// A report's period and form.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// Start: a span back from now (`7d`, `24h`, `2w`), a date or a timestamp; 7 days ago by default.
    since: Option<String>,
    /// End (exclusive; a date counts whole): now by default.
    until: Option<String>,
    /// IANA time zone the days are counted in (`America/Sao_Paulo`); UTC by default.
    tz: Option<String>,
    /// `json` (default) or `csv`.
    format: Option<String>,
    /// The desk report's table for CSV: days, channels, groups, projects, attendants,
    /// close_reasons or presence (days by default).
    table: Option<String>,
}

impl ReportParams {
    fn period(&self) -> Result<Period, ApiError> {
        period(&self.since, &self.until, &self.tz)
    }

    fn csv(&self) -> Result<bool, ApiError> {
        wants_csv(&self.format)
    }
}

/// The period of a report or an action, as of now.
fn period(
    since: &Option<String>,
    until: &Option<String>,
    tz: &Option<String>,
) -> Result<Period, ApiError> {
    Ok(Period::parse(
        since.as_deref(),
        until.as_deref(),
        tz.as_deref(),
        crate::store::now_millis(),
    )?)
}

/// Whether `format` asks for CSV (`json` is the default).
fn wants_csv(format: &Option<String>) -> Result<bool, ApiError> {
    match format.as_deref() {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(other) => Err(ApiError::BadRequest(format!(
            "format {other:?} is not json or csv"
        ))),
    }
}

fn csv_response(name: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"ponte-{name}.csv\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// Makes the recorder's queued facts visible before a report reads them.
async fn settled(
    state: &AppState,
) -> Result<&std::sync::Arc<crate::orchestrator::Orchestrator>, ApiError> {
    let orchestrator = state.chat()?;
    orchestrator.insight().flush().await;
    Ok(orchestrator)
}

/// The desk report: totals, per day, channel, service group, project and attendant, close
/// reasons and the attendants' time online and paused.
#[utoipa::path(get, path = "/api/reports/desk", tag = "reports", params(ReportParams),
    responses((status = 200, description = "the report (JSON) or one of its tables (CSV)",
               body = insight::desk::DeskReport),
              (status = 400, description = "`invalid_period`", body = ErrorBody),
              (status = 403, description = "`forbidden`", body = ErrorBody)))]
async fn desk_report(
    State(state): State<AppState>,
    _reader: Authorized<Editors>,
    Query(params): Query<ReportParams>,
) -> Result<Response, ApiError> {
    let period = params.period()?;
    let csv = params.csv()?;
    let orchestrator = settled(&state).await?;
    let report = insight::desk_report(orchestrator.store().as_ref(), &period).await?;
    if csv {
        let table = params.table.as_deref().unwrap_or("days");
        let body = csv::desk_table(&report, table).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "table {table:?} is not one of {}",
                csv::DESK_TABLES.join(", ")
            ))
        })?;
        return Ok(csv_response(&format!("desk-{table}"), body));
    }
    Ok(axum::Json(report).into_response())
}

/// Which conversations of the period a drill-down lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DrillParams {
    since: Option<String>,
    until: Option<String>,
    tz: Option<String>,
    format: Option<String>,
    /// A day of the period (`YYYY-MM-DD`, in `tz`).
    day: Option<String>,
    channel: Option<String>,
    group: Option<String>,
    project: Option<String>,
    attendant: Option<String>,
    /// contained, handoff, lost, ticket, rated or transferred.
    outcome: Option<String>,
}

/// The conversations behind a figure.
#[derive(Debug, Serialize, ToSchema)]
struct DrillList {
    conversations: Vec<insight::DrillRow>,
}

/// The conversations behind a figure of the desk report (ids and figures, never texts).
#[utoipa::path(get, path = "/api/reports/desk/conversations", tag = "reports",
    params(DrillParams),
    responses((status = 200, description = "`{conversations}` (JSON) or CSV", body = DrillList),
              (status = 400, description = "`invalid_period`, `bad_request`", body = ErrorBody),
              (status = 403, description = "`forbidden`", body = ErrorBody)))]
async fn desk_conversations(
    State(state): State<AppState>,
    _reader: Authorized<Editors>,
    Query(params): Query<DrillParams>,
) -> Result<Response, ApiError> {
    let period = period(&params.since, &params.until, &params.tz)?;
    let csv = wants_csv(&params.format)?;
    if let Some(outcome) = &params.outcome
        && !insight::OUTCOMES.contains(&outcome.as_str())
    {
        return Err(ApiError::BadRequest(format!(
            "outcome {outcome:?} is not one of {}",
            insight::OUTCOMES.join(", ")
        )));
    }
    let drill = Drill {
        day: params.day,
        channel: params.channel,
        group: params.group,
        project: params.project,
        attendant: params.attendant,
        outcome: params.outcome,
    };
    let orchestrator = settled(&state).await?;
    let conversations = insight::drill_down(orchestrator.store().as_ref(), &period, &drill).await?;
    if csv {
        return Ok(csv_response(
            "conversations",
            csv::drill_table(&conversations),
        ));
    }
    Ok(axum::Json(DrillList { conversations }).into_response())
}

/// Whether `identity` is shown the requesters' texts in gap clusters.
fn sees_examples(state: &AppState, identity: &Identity) -> bool {
    state.gap_examples && Editors::ALLOWED.contains(&identity.role)
}

/// The knowledge gaps: clusters of similar texts the assistant could not place well, largest
/// first, with trend, examples and what finally happened.
#[utoipa::path(get, path = "/api/reports/gaps", tag = "reports", params(ReportParams),
    responses((status = 200, description = "the clusters (JSON) or CSV", body = insight::GapReport),
              (status = 400, description = "`invalid_period`", body = ErrorBody),
              (status = 403, description = "`forbidden`", body = ErrorBody)))]
async fn gap_report(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Editors>,
    Query(params): Query<ReportParams>,
) -> Result<Response, ApiError> {
    let period = params.period()?;
    let csv = params.csv()?;
    let orchestrator = settled(&state).await?;
    let examples = sees_examples(&state, &identity);
    let report = insight::gap_report(orchestrator.store().as_ref(), &period, examples).await?;
    if csv {
        return Ok(csv_response("gaps", csv::gaps_table(&report)));
    }
    Ok(axum::Json(report).into_response())
}

/// Whether a gap cluster is dismissed.
#[derive(Debug, Serialize, ToSchema)]
struct Dismissal {
    key: String,
    dismissed: bool,
}

/// Dismisses a gap cluster: it stays listed, marked dismissed, from now on.
#[utoipa::path(post, path = "/api/reports/gaps/{key}/dismiss", tag = "reports",
    params(("key" = String, Path, description = "the cluster's key")),
    responses((status = 200, description = "dismissed", body = Dismissal),
              (status = 403, description = "`forbidden`", body = ErrorBody)))]
async fn dismiss_gap(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Editors>,
    Path(key): Path<String>,
) -> Result<axum::Json<Dismissal>, ApiError> {
    set_dismissal(&state, &identity, key, true).await
}

/// Brings a dismissed gap cluster back.
#[utoipa::path(delete, path = "/api/reports/gaps/{key}/dismiss", tag = "reports",
    params(("key" = String, Path, description = "the cluster's key")),
    responses((status = 200, description = "no longer dismissed", body = Dismissal),
              (status = 403, description = "`forbidden`", body = ErrorBody)))]
async fn restore_gap(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Editors>,
    Path(key): Path<String>,
) -> Result<axum::Json<Dismissal>, ApiError> {
    set_dismissal(&state, &identity, key, false).await
}

async fn set_dismissal(
    state: &AppState,
    identity: &Identity,
    key: String,
    dismissed: bool,
) -> Result<axum::Json<Dismissal>, ApiError> {
    state
        .chat()?
        .store()
        .dismiss_gap(&key, &identity.subject, dismissed)
        .await?;
    Ok(axum::Json(Dismissal { key, dismissed }))
}

/// The period a cluster action reads its texts from, and the activity to add them to.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct GapAction {
    /// The activity whose examples take the texts (`/examples` only).
    activity_id: Option<String>,
    since: Option<String>,
    until: Option<String>,
    tz: Option<String>,
}

/// Cluster `key`'s language and distinct texts over the action's period; 404 when no cluster
/// of that period has that key.
async fn cluster_of(
    state: &AppState,
    key: &str,
    action: &GapAction,
) -> Result<(Language, Vec<String>), ApiError> {
    let period = period(&action.since, &action.until, &action.tz)?;
    let orchestrator = settled(state).await?;
    let (cluster, texts) = insight::cluster_texts(orchestrator.store().as_ref(), &period, key)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            what: "gap cluster",
            id: key.to_string(),
        })?;
    let language = cluster
        .language
        .parse::<Language>()
        .map_err(|_| ApiError::Internal(format!("cluster language {:?}", cluster.language)))?;
    Ok((language, texts))
}

/// What a cluster action changed.
#[derive(Debug, Serialize, ToSchema)]
struct ExamplesAdded {
    activity_id: String,
    language: String,
    /// Texts added (those already among the examples are not added twice).
    added: Vec<String>,
}

/// Adds a cluster's texts to an activity's examples in the cluster's language; the matcher
/// retrains as on any catalogue change.
#[utoipa::path(post, path = "/api/reports/gaps/{key}/examples", tag = "reports",
    params(("key" = String, Path, description = "the cluster's key")),
    request_body = GapAction,
    responses((status = 200, description = "the texts added", body = ExamplesAdded),
              (status = 404, description = "`not_found`: no such cluster or activity", body = ErrorBody),
              (status = 403, description = "`forbidden`", body = ErrorBody)))]
async fn gap_examples(
    State(state): State<AppState>,
    _editor: Authorized<Editors>,
    Path(key): Path<String>,
    Json(action): Json<GapAction>,
) -> Result<axum::Json<ExamplesAdded>, ApiError> {
    let activity_id = action
        .activity_id
        .clone()
        .ok_or_else(|| ApiError::BadRequest("activity_id is required".to_string()))?;
    let knowledge = state.knowledge.clone();
    let lookup = activity_id.clone();
    let document =
        tokio::task::spawn_blocking(move || knowledge.get(DocKind::Activity, &lookup)).await??;
    let Some(Document::Activity(mut activity)) = document else {
        return Err(ApiError::NotFound {
            what: "activity",
            id: activity_id,
        });
    };
    let (language, texts) = cluster_of(&state, &key, &action).await?;
    let examples = activity
        .examples
        .slot_mut(language)
        .get_or_insert_with(Vec::new);
    let known: std::collections::HashSet<String> = examples
        .iter()
        .map(|example| crate::intent::normalize(example))
        .collect();
    let added: Vec<String> = texts
        .into_iter()
        .filter(|text| !known.contains(&crate::intent::normalize(text)))
        .collect();
    examples.extend(added.iter().cloned());
    if !added.is_empty() {
        let _stored =
            super::knowledge::write_document(&state, Document::Activity(activity)).await?;
    }
    Ok(axum::Json(ExamplesAdded {
        activity_id,
        language: language.tag().to_string(),
        added,
    }))
}

/// A draft article for a cluster, for the knowledge page to open.
#[derive(Debug, Serialize, ToSchema)]
struct ArticleDraft {
    language: String,
    title: String,
    /// Markdown listing the questions the article should answer.
    body: String,
    questions: Vec<String>,
}

/// A draft article prefilled with a cluster's questions (nothing is stored: the knowledge
/// page opens it for a knowledge manager to write and save).
#[utoipa::path(post, path = "/api/reports/gaps/{key}/draft", tag = "reports",
    params(("key" = String, Path, description = "the cluster's key")),
    request_body = GapAction,
    responses((status = 200, description = "the draft", body = ArticleDraft),
              (status = 404, description = "`not_found`", body = ErrorBody),
              (status = 403, description = "`forbidden`", body = ErrorBody)))]
async fn gap_draft(
    State(state): State<AppState>,
    _editor: Authorized<Editors>,
    Path(key): Path<String>,
    Json(action): Json<GapAction>,
) -> Result<axum::Json<ArticleDraft>, ApiError> {
    let (language, texts) = cluster_of(&state, &key, &action).await?;
    let heading = match language {
        Language::PtBr => "Perguntas que este artigo deve responder",
        Language::Es => "Preguntas que este artículo debe responder",
        Language::En => "Questions this article should answer",
    };
    let questions: Vec<String> = texts.into_iter().take(20).collect();
    let mut body = format!("## {heading}\n\n");
    for question in &questions {
        body.push_str(&format!("- {}\n", question.replace('\n', " ")));
    }
    let title = questions.first().cloned().unwrap_or_default();
    Ok(axum::Json(ArticleDraft {
        language: language.tag().to_string(),
        title,
        body,
        questions,
    }))
}

/// Per article: how often it was shown, opened and viewed, and how often a ticket or a person
/// followed.
#[utoipa::path(get, path = "/api/reports/articles", tag = "reports", params(ReportParams),
    responses((status = 200, description = "the figures (JSON) or CSV", body = insight::ArticleReport),
              (status = 400, description = "`invalid_period`", body = ErrorBody),
              (status = 403, description = "`forbidden`", body = ErrorBody)))]
async fn article_report(
    State(state): State<AppState>,
    _reader: Authorized<Editors>,
    Query(params): Query<ReportParams>,
) -> Result<Response, ApiError> {
    let period = params.period()?;
    let csv = params.csv()?;
    let orchestrator = settled(&state).await?;
    let knowledge = state.knowledge.clone();
    let report =
        insight::article_report(orchestrator.store().as_ref(), &period, |id| match knowledge
            .get(DocKind::Article, id)
        {
            Ok(Some(Document::Article(article))) => Some(article.title),
            _ => None,
        })
        .await?;
    if csv {
        return Ok(csv_response("articles", csv::articles_table(&report)));
    }
    Ok(axum::Json(report).into_response())
}

/// A satisfaction rating.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RatingBody {
    /// 1 (very unsatisfied) to 5 (very satisfied).
    rating: i64,
    comment: Option<String>,
}

/// A rating as stored.
#[derive(Debug, Serialize, ToSchema)]
struct RatingStored {
    conversation_id: String,
    rating: i64,
}

/// The requester rates their ended conversation, once: 1 to 5 and an optional comment.
#[utoipa::path(post, path = "/api/conversations/{id}/rating", tag = "conversations",
    params(("id" = String, Path, description = "conversation id")),
    request_body = RatingBody,
    responses((status = 200, description = "stored", body = RatingStored),
              (status = 409, description = "`already_rated`, `conversation_open`", body = ErrorBody),
              (status = 422, description = "`invalid_parameter`: outside 1 to 5, comment too long", body = ErrorBody),
              (status = 403, description = "`forbidden`", body = ErrorBody)))]
async fn rate(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Requesters>,
    Path(id): Path<String>,
    Json(body): Json<RatingBody>,
) -> Result<axum::Json<RatingStored>, ApiError> {
    let orchestrator = state.chat()?;
    let conversation = orchestrator.conversation_by_id(&id).await?;
    if conversation.requester_id != identity.subject {
        return Err(ApiError::Forbidden(
            "only the requester of a conversation rates it".to_string(),
        ));
    }
    if conversation.status != ConversationStatus::Finished {
        return Err(ApiError::ConversationOpen);
    }
    let stored = orchestrator
        .store()
        .rate_conversation(Rating {
            conversation_id: id.clone(),
            rating: body.rating,
            comment: body.comment.clone(),
            at_ms: crate::store::now_millis(),
        })
        .await
        .map_err(|error| match error {
            crate::store::StoreError::InvalidInput(reason) => ApiError::InvalidParameter(reason),
            other => other.into(),
        })?;
    if stored {
        Ok(axum::Json(RatingStored {
            conversation_id: id,
            rating: body.rating,
        }))
    } else {
        Err(ApiError::AlreadyRated)
    }
}
