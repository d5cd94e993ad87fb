//! Knowledge endpoints: search for everyone (what the caller's groups allow), the activity
//! catalogue, and for knowledge managers (and admins) reading, writing and deleting articles
//! and activities and running a full reindex in the background.
//!
//! An anonymous caller (no `Authorization` header) is an outsider: only public documents.
//! With an embedding model configured, search is hybrid (see [`crate::llm::hybrid`]).
//! A written document goes to its source file first and then to the serving index, so the
//! next full rebuild keeps it; the matcher retrains on the changed catalogue shortly after.
//! With a store, writes and the documents a reindex changed are also announced to the other
//! nodes sharing it ([`crate::knowledge_sync`]).

use super::{Json, Path, Query};
use crate::auth::{Identity, Role};
use crate::http::auth::{Authenticated, Authorized, Editors, MaybeAuthenticated};
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::jobs::JobStatus;
use crate::knowledge::search::MAX_QUERY_CHARS;
use crate::knowledge::{Activity, Article, DocKind, Document, Hit, SearchRequest};
use crate::lang::Language;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

/// Who may edit knowledge.
const EDITORS: &[Role] = &[Role::KnowledgeManager, Role::Admin];

pub fn router() -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(list_activities))
        .routes(routes!(list_articles))
        .routes(routes!(start_reindex, list_reindexes))
        .routes(routes!(get_reindex));
    for row in KINDS {
        router = router.routes(document_routes(row));
    }
    router
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

#[derive(Debug, Serialize, ToSchema)]
struct SearchResponse {
    query: String,
    /// Ranked hits, best first.
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
    responses((status = 200, description = "`{query, hits}`", body = SearchResponse),
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

#[derive(Debug, Serialize, ToSchema)]
struct ActivityList {
    activities: Vec<Activity>,
}

/// The service activities the caller may open a ticket for.
#[utoipa::path(get, path = "/api/activities", tag = "knowledge",
    responses((status = 200, description = "`{activities}`", body = ActivityList)))]
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

#[derive(Debug, Serialize, ToSchema)]
struct ArticleList {
    articles: Vec<Article>,
}

/// Every article, whatever its visibility (knowledge managers and admins).
#[utoipa::path(get, path = "/api/knowledge/articles", tag = "knowledge",
    responses((status = 200, description = "`{articles}`", body = ArticleList), (status = 403, description = "`forbidden`")))]
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

/// One document kind's routes, `GET`, `PUT` and `DELETE /api/knowledge/{plural}/{id}`,
/// served by the generic [`get_document`], [`put_document`] and [`delete_document`].
struct KindRow {
    kind: DocKind,
    plural: &'static str,
    /// What a written document's body holds.
    body: &'static str,
}

/// The document kinds the API reads and writes.
const KINDS: &[KindRow] = &[
    KindRow {
        kind: DocKind::Article,
        plural: "articles",
        body: "`{title, language, summary?, body?, tags?, visibility?, url?, topic?}`",
    },
    KindRow {
        kind: DocKind::Activity,
        plural: "activities",
        body: "`{name: {pt-BR?, es?, en?}, description?, examples?, category?, contract?, group?, visibility?}`",
    },
];

/// `row`'s three routes and their documentation.
fn document_routes(row: &'static KindRow) -> UtoipaMethodRouter<AppState> {
    use super::doc::{Doc, Schemas, path_item};
    use utoipa::openapi::path::HttpMethod;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let kind = row.kind;
    let noun = kind.tag();
    let object = |description: String| -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(description))
            .build()
            .into()
    };
    let document = format!("the {noun} (`kind`, `id` and its fields)");
    let mut schemas = Schemas::new();
    let get_id = format!("get_{noun}");
    let put_id = format!("put_{noun}");
    let delete_id = format!("delete_{noun}");
    let id_param: &[(&str, &str)] = &[("id", "document id")];
    let get = Doc {
        operation_id: &get_id,
        tag: "knowledge",
        summary: &format!("One {noun}."),
        path_params: id_param,
        request: None,
        success: vec![(200, document.as_str(), object(document.clone()))],
        errors: &[(404, "`not_found`")],
    }
    .operation(&mut schemas);
    let put = Doc {
        operation_id: &put_id,
        tag: "knowledge",
        summary: &format!("Creates or replaces an {noun} (knowledge managers and admins)."),
        path_params: id_param,
        request: Some(object(row.body.to_string())),
        success: vec![
            (200, "replaced", object(document.clone())),
            (201, "created", object(document.clone())),
        ],
        errors: &[(422, "`invalid_document`"), (403, "`forbidden`")],
    }
    .operation(&mut schemas);
    let deleted = format!("the deleted {noun}");
    let delete = Doc {
        operation_id: &delete_id,
        tag: "knowledge",
        summary: &format!("Deletes an {noun} (knowledge managers and admins)."),
        path_params: id_param,
        request: None,
        success: vec![(200, deleted.as_str(), object(document.clone()))],
        errors: &[(404, "`not_found`")],
    }
    .operation(&mut schemas);
    let paths = utoipa::openapi::path::PathsBuilder::new()
        .path(
            format!("/api/knowledge/{}/{{id}}", row.plural),
            path_item(vec![
                (HttpMethod::Get, get),
                (HttpMethod::Put, put),
                (HttpMethod::Delete, delete),
            ]),
        )
        .build();
    let router = axum::routing::get(
        move |State(state): State<AppState>,
              Authenticated(identity): Authenticated,
              Path(id): Path<String>| get_document(kind, state, identity, id),
    )
    .put(
        move |State(state): State<AppState>,
              _editor: Authorized<Editors>,
              Path(id): Path<String>,
              Json(body): Json<serde_json::Value>| put_document(kind, state, id, body),
    )
    .delete(
        move |State(state): State<AppState>,
              _editor: Authorized<Editors>,
              Path(id): Path<String>| { delete_document(kind, state, id) },
    );
    (schemas, paths, router)
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
pub(crate) async fn write_document(
    state: &AppState,
    document: Document,
) -> Result<(StatusCode, axum::Json<Document>), ApiError> {
    let (existed, stored) = match &state.knowledge_sync {
        Some(sync) => sync.upsert(document).await?,
        None => {
            let knowledge = state.knowledge.clone();
            tokio::task::spawn_blocking(move || {
                let existed = knowledge.get(document.kind(), document.id())?.is_some();
                knowledge.upsert(document).map(|stored| (existed, stored))
            })
            .await??
        }
    };
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, axum::Json(stored)))
}

/// One document of `kind` (what the caller may read).
async fn get_document(
    kind: DocKind,
    state: AppState,
    identity: Identity,
    id: String,
) -> Result<axum::Json<Document>, ApiError> {
    read_document(&state, &identity, kind, id)
        .await
        .map(axum::Json)
}

/// Creates or replaces a document of `kind` from its JSON body.
async fn put_document(
    kind: DocKind,
    state: AppState,
    id: String,
    body: serde_json::Value,
) -> Result<(StatusCode, axum::Json<Document>), ApiError> {
    let document = match kind {
        DocKind::Article => Document::Article(document_body::<Article>(&id, body)?),
        DocKind::Activity => Document::Activity(document_body::<Activity>(&id, body)?),
    };
    write_document(&state, document).await
}

/// Deletes a document of `kind`; answers with what was deleted.
async fn delete_document(
    kind: DocKind,
    state: AppState,
    id: String,
) -> Result<axum::Json<Document>, ApiError> {
    let deleted = match &state.knowledge_sync {
        Some(sync) => sync.delete(kind, &id).await?,
        None => {
            let knowledge = state.knowledge.clone();
            tokio::task::spawn_blocking(move || knowledge.delete(kind, &id)).await??
        }
    };
    Ok(axum::Json(deleted))
}

/// Starts a full rebuild from the source files in the background (one at a time).
#[utoipa::path(post, path = "/api/knowledge/reindex", tag = "knowledge",
    responses((status = 202, description = "the job as it starts", body = JobStatus), (status = 409, description = "`conflict`: one is running")))]
async fn start_reindex(
    State(state): State<AppState>,
    _editor: Authorized<Editors>,
) -> Result<(StatusCode, axum::Json<JobStatus>), ApiError> {
    if state.knowledge.sources().is_none() {
        return Err(ApiError::Unavailable);
    }
    // With other nodes, the documents the rebuild changed are announced to them.
    let rebuild = state
        .knowledge_sync
        .clone()
        .map(|sync| -> crate::jobs::Rebuild {
            Box::new(move |progress| sync.rebuild_and_announce(progress))
        });
    let job = state.reindex_jobs.start(state.knowledge.clone(), rebuild)?;
    Ok((StatusCode::ACCEPTED, axum::Json(job)))
}

#[derive(Debug, Serialize, ToSchema)]
struct JobList {
    /// Newest first.
    jobs: Vec<JobStatus>,
}

/// The reindexes this server remembers, newest first.
#[utoipa::path(get, path = "/api/knowledge/reindex", tag = "knowledge",
    responses((status = 200, description = "`{jobs}`", body = JobList)))]
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
    responses((status = 200, description = "the job", body = JobStatus), (status = 404, description = "`not_found`")))]
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
