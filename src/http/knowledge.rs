//! Knowledge endpoints: search for everyone (what the caller's groups allow), the activity
//! catalogue, and for knowledge managers (and admins) reading, writing and deleting articles
//! and activities and running a full reindex in the background.
//!
//! An anonymous caller (no `Authorization` header) is an outsider: only public documents.
//! With an embedding model configured, search is hybrid (see [`crate::llm::hybrid`]).
//! A written document goes to its source file first and then to the serving index, so the
//! next full rebuild keeps it; the matcher retrains on the changed catalogue shortly after.

use super::{Json, Path, Query};
use crate::auth::{Authenticated, Authorized, Editors, Identity, MaybeAuthenticated, Role};
use crate::error::ApiError;
use crate::jobs::JobStatus;
use crate::knowledge::search::MAX_QUERY_CHARS;
use crate::knowledge::{Activity, Article, DocKind, Document, Hit, SearchRequest};
use crate::lang::Language;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Who may edit knowledge.
const EDITORS: &[Role] = &[Role::KnowledgeManager, Role::Admin];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(list_activities))
        .routes(routes!(list_articles))
        .routes(routes!(get_article, put_article, delete_article))
        .routes(routes!(get_activity, put_activity, delete_activity))
        .routes(routes!(start_reindex, list_reindexes))
        .routes(routes!(get_reindex))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct SearchParams {
    /// The text to search for.
    q: Option<String>,
    /// pt-BR, es or en: preferred in the ranking.
    lang: Option<String>,
    /// `article` or `activity`; both when absent.
    #[param(value_type = Option<String>)]
    kind: Option<DocKind>,
    /// At most this many hits (1–50, default 10).
    limit: Option<usize>,
}

#[derive(Debug, Serialize)]
struct SearchResponse {
    query: String,
    hits: Vec<Hit>,
}

fn parse_language(tag: Option<&str>) -> Result<Option<Language>, ApiError> {
    tag.map(|tag| {
        tag.parse::<Language>()
            .map_err(|error| ApiError::BadRequest(error.to_string()))
    })
    .transpose()
}

fn groups_of(identity: Option<&Identity>) -> Vec<String> {
    identity
        .map(|identity| identity.groups.clone())
        .unwrap_or_default()
}

/// Ranked articles and activities the caller may read (fused with the nearest by embedding
/// when hybrid retrieval is configured; the lexical ranking when the embedding is late).
#[utoipa::path(get, path = "/api/knowledge/search", tag = "knowledge", params(SearchParams),
    responses((status = 200, description = "`{query, hits}`"),
              (status = 400, description = "`empty_text` or `bad_request`"),
              (status = 413, description = "`text_too_long`")))]
async fn search(
    State(state): State<AppState>,
    MaybeAuthenticated(identity): MaybeAuthenticated,
    Query(params): Query<SearchParams>,
) -> Result<axum::Json<SearchResponse>, ApiError> {
    let text = params.q.unwrap_or_default();
    if text.trim().is_empty() {
        return Err(ApiError::EmptyText("the query `q` is empty".to_string()));
    }
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::TextTooLong(format!(
            "the query is longer than {MAX_QUERY_CHARS} characters"
        )));
    }
    let mut request = SearchRequest::new(text.clone());
    request.language = parse_language(params.lang.as_deref())?;
    request.kind = params.kind;
    request.limit = params.limit.unwrap_or(10).clamp(1, 50);
    request.groups = groups_of(identity.as_ref());
    let hits = match &state.hybrid {
        Some(hybrid) => hybrid.search(request).await?,
        None => {
            let knowledge = state.knowledge.clone();
            tokio::task::spawn_blocking(move || knowledge.search(&request)).await??
        }
    };
    Ok(axum::Json(SearchResponse { query: text, hits }))
}

#[derive(Debug, Serialize)]
struct ActivityList {
    activities: Vec<Activity>,
}

/// The service activities the caller may open a ticket for.
#[utoipa::path(get, path = "/api/activities", tag = "knowledge",
    responses((status = 200, description = "`{activities}`")))]
async fn list_activities(
    State(state): State<AppState>,
    MaybeAuthenticated(identity): MaybeAuthenticated,
) -> Result<axum::Json<ActivityList>, ApiError> {
    let everything = identity
        .as_ref()
        .is_some_and(|identity| EDITORS.contains(&identity.role));
    let groups = groups_of(identity.as_ref());
    let knowledge = state.knowledge.clone();
    let documents =
        tokio::task::spawn_blocking(move || knowledge.generation().all(DocKind::Activity))
            .await??;
    let activities = documents
        .into_iter()
        .filter_map(|document| match document {
            Document::Activity(activity) if everything || activity.visibility.allows(&groups) => {
                Some(activity)
            }
            _ => None,
        })
        .collect();
    Ok(axum::Json(ActivityList { activities }))
}

#[derive(Debug, Serialize)]
struct ArticleList {
    articles: Vec<Article>,
}

/// Every article, whatever its visibility (knowledge managers and admins).
#[utoipa::path(get, path = "/api/knowledge/articles", tag = "knowledge",
    responses((status = 200, description = "`{articles}`"), (status = 403, description = "`forbidden`")))]
async fn list_articles(
    State(state): State<AppState>,
    _editor: Authorized<Editors>,
) -> Result<axum::Json<ArticleList>, ApiError> {
    let knowledge = state.knowledge.clone();
    let documents =
        tokio::task::spawn_blocking(move || knowledge.generation().all(DocKind::Article)).await??;
    let mut articles: Vec<Article> = documents
        .into_iter()
        .filter_map(|document| match document {
            Document::Article(article) => Some(article),
            _ => None,
        })
        .collect();
    articles.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(axum::Json(ArticleList { articles }))
}

/// Reads one document: editors read any; others only what their groups allow (an
/// invisible document is as unknown as a missing one).
async fn read_document(
    state: &AppState,
    identity: &Identity,
    kind: DocKind,
    id: String,
) -> Result<Document, ApiError> {
    let knowledge = state.knowledge.clone();
    let lookup = id.clone();
    let document = tokio::task::spawn_blocking(move || knowledge.get(kind, &lookup)).await??;
    match document {
        Some(document)
            if EDITORS.contains(&identity.role)
                || document.visibility().allows(&identity.groups) =>
        {
            Ok(document)
        }
        _ => Err(ApiError::NotFound {
            what: kind.tag(),
            id,
        }),
    }
}

/// Parses a document body for `id`: the body's own `id`, when given, must be the path's.
fn document_body<T: serde::de::DeserializeOwned>(
    id: &str,
    mut body: serde_json::Value,
) -> Result<T, ApiError> {
    let object = body
        .as_object_mut()
        .ok_or_else(|| ApiError::InvalidDocument("the body must be a JSON object".to_string()))?;
    match object.get("id") {
        None => {
            object.insert("id".to_string(), serde_json::Value::String(id.to_string()));
        }
        Some(serde_json::Value::String(given)) if given == id => {}
        Some(_) => {
            return Err(ApiError::InvalidDocument(format!(
                "the body's id differs from the path's {id:?}"
            )));
        }
    }
    // Where a document lives on disk is Ponte's business, not the client's.
    object.remove("source_path");
    serde_json::from_value(body).map_err(|error| ApiError::InvalidDocument(error.to_string()))
}

/// Writes `document`: 201 when it is new, 200 when it replaced one.
async fn write_document(
    state: &AppState,
    document: Document,
) -> Result<(StatusCode, axum::Json<Document>), ApiError> {
    let knowledge = state.knowledge.clone();
    let (existed, stored) = tokio::task::spawn_blocking(move || {
        let existed = knowledge.get(document.kind(), document.id())?.is_some();
        knowledge.upsert(document).map(|stored| (existed, stored))
    })
    .await??;
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, axum::Json(stored)))
}

async fn delete_document(
    state: &AppState,
    kind: DocKind,
    id: String,
) -> Result<axum::Json<Document>, ApiError> {
    let knowledge = state.knowledge.clone();
    let deleted = tokio::task::spawn_blocking(move || knowledge.delete(kind, &id)).await??;
    Ok(axum::Json(deleted))
}

/// One article.
#[utoipa::path(get, path = "/api/knowledge/articles/{id}", tag = "knowledge",
    params(("id" = String, Path, description = "article id")),
    responses((status = 200, description = "the article"), (status = 404, description = "`not_found`")))]
async fn get_article(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Document>, ApiError> {
    read_document(&state, &identity, DocKind::Article, id)
        .await
        .map(axum::Json)
}

/// Creates or replaces an article (knowledge managers and admins).
#[utoipa::path(put, path = "/api/knowledge/articles/{id}", tag = "knowledge",
    params(("id" = String, Path, description = "article id")),
    request_body(content = Object, description = "`{title, language, summary?, body?, tags?, visibility?, url?, topic?}`"),
    responses((status = 200, description = "replaced"), (status = 201, description = "created"),
              (status = 422, description = "`invalid_document`"), (status = 403, description = "`forbidden`")))]
async fn put_article(
    State(state): State<AppState>,
    _editor: Authorized<Editors>,
    Path(id): Path<String>,
    Json(body): Json<serde_json::Value>,
) -> Result<(StatusCode, axum::Json<Document>), ApiError> {
    let article: Article = document_body(&id, body)?;
    write_document(&state, Document::Article(article)).await
}

/// Deletes an article (knowledge managers and admins).
#[utoipa::path(delete, path = "/api/knowledge/articles/{id}", tag = "knowledge",
    params(("id" = String, Path, description = "article id")),
    responses((status = 200, description = "the deleted article"), (status = 404, description = "`not_found`")))]
async fn delete_article(
    State(state): State<AppState>,
    _editor: Authorized<Editors>,
    Path(id): Path<String>,
) -> Result<axum::Json<Document>, ApiError> {
    delete_document(&state, DocKind::Article, id).await
}

/// One activity.
#[utoipa::path(get, path = "/api/knowledge/activities/{id}", tag = "knowledge",
    params(("id" = String, Path, description = "activity id")),
    responses((status = 200, description = "the activity"), (status = 404, description = "`not_found`")))]
async fn get_activity(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Document>, ApiError> {
    read_document(&state, &identity, DocKind::Activity, id)
        .await
        .map(axum::Json)
}

/// Creates or replaces an activity (knowledge managers and admins).
#[utoipa::path(put, path = "/api/knowledge/activities/{id}", tag = "knowledge",
    params(("id" = String, Path, description = "activity id")),
    request_body(content = Object, description = "`{name: {pt-BR?, es?, en?}, description?, examples?, category?, contract?, group?, visibility?}`"),
    responses((status = 200, description = "replaced"), (status = 201, description = "created"),
              (status = 422, description = "`invalid_document`"), (status = 403, description = "`forbidden`")))]
async fn put_activity(
    State(state): State<AppState>,
    _editor: Authorized<Editors>,
    Path(id): Path<String>,
    Json(body): Json<serde_json::Value>,
) -> Result<(StatusCode, axum::Json<Document>), ApiError> {
    let activity: Activity = document_body(&id, body)?;
    write_document(&state, Document::Activity(activity)).await
}

/// Deletes an activity (knowledge managers and admins).
#[utoipa::path(delete, path = "/api/knowledge/activities/{id}", tag = "knowledge",
    params(("id" = String, Path, description = "activity id")),
    responses((status = 200, description = "the deleted activity"), (status = 404, description = "`not_found`")))]
async fn delete_activity(
    State(state): State<AppState>,
    _editor: Authorized<Editors>,
    Path(id): Path<String>,
) -> Result<axum::Json<Document>, ApiError> {
    delete_document(&state, DocKind::Activity, id).await
}

/// Starts a full rebuild from the source files in the background (one at a time).
#[utoipa::path(post, path = "/api/knowledge/reindex", tag = "knowledge",
    responses((status = 202, description = "the job as it starts"), (status = 409, description = "`conflict`: one is running")))]
async fn start_reindex(
    State(state): State<AppState>,
    _editor: Authorized<Editors>,
) -> Result<(StatusCode, axum::Json<JobStatus>), ApiError> {
    if state.knowledge.sources().is_none() {
        return Err(ApiError::Unavailable);
    }
    let job = state.reindex_jobs.start(state.knowledge.clone())?;
    Ok((StatusCode::ACCEPTED, axum::Json(job)))
}

#[derive(Debug, Serialize)]
struct JobList {
    jobs: Vec<JobStatus>,
}

/// The reindexes this server remembers, newest first.
#[utoipa::path(get, path = "/api/knowledge/reindex", tag = "knowledge",
    responses((status = 200, description = "`{jobs}`")))]
async fn list_reindexes(
    State(state): State<AppState>,
    _editor: Authorized<Editors>,
) -> Result<axum::Json<JobList>, ApiError> {
    Ok(axum::Json(JobList {
        jobs: state.reindex_jobs.list(),
    }))
}

/// One reindex: phase, counters, per-file errors and how it ended.
#[utoipa::path(get, path = "/api/knowledge/reindex/{id}", tag = "knowledge",
    params(("id" = String, Path, description = "job id")),
    responses((status = 200, description = "the job"), (status = 404, description = "`not_found`")))]
async fn get_reindex(
    State(state): State<AppState>,
    _editor: Authorized<Editors>,
    Path(id): Path<String>,
) -> Result<axum::Json<JobStatus>, ApiError> {
    state
        .reindex_jobs
        .get(&id)
        .map(axum::Json)
        .ok_or(ApiError::NotFound {
            what: "reindex job",
            id,
        })
}
