//! The HTTP surface: one router per resource merged here, wrapped in the shared layers
//! (tracing, timeout, panic catching, body limit, sensitive headers), plus our own
//! extractors so that malformed input gets our error format. Whatever answers with an error
//! and no JSON body (axum's rejections, the body limit, the timeout, a caught panic, 405) is
//! given our `{message, code, type}` body by one outer layer, [`error_body`].
//!
//! Every route is declared with `utoipa_axum::routes!` from the handler's
//! `#[utoipa::path]` (or, for routes served by one handler from a table, from the table's
//! row, see [`doc`]), so the route table and the OpenAPI document served at
//! `/openapi.json` come from one source and cannot drift apart. Every request and response
//! body is a typed struct with a schema in the document; error answers are [`ErrorBody`].
//!
//! [`ErrorBody`]: crate::http::error::ErrorBody

pub mod admin;
pub mod attachments;
pub mod attendance;
pub mod auth;
pub mod bridges;
pub mod contacts;
pub mod conversations;
pub mod desk;
mod doc;
pub mod error;
pub mod health;
pub mod knowledge;
pub mod live;
pub mod marks;
pub mod matrix;
pub mod outbound;
pub mod replies;
pub mod reports;
pub mod session;
pub mod state;
pub mod transcript_file;
pub mod transcripts;
pub mod widget;

use crate::http::error::ApiError;
use crate::http::state::AppState;
use axum::Router;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::Uri;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Every documented route and its OpenAPI document.
fn documented() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    // Small bodies everywhere but on the attachment upload, which takes files up to the
    // largest kind's limit.
    let small = utoipa_axum::router::OpenApiRouter::with_openapi(info())
        .merge(health::router())
        .merge(knowledge::router())
        .merge(conversations::router())
        .merge(live::router())
        .merge(marks::router())
        .merge(transcript_file::router())
        .merge(admin::router())
        .merge(session::router())
        .merge(desk::router())
        .merge(contacts::router())
        .merge(replies::router())
        .merge(reports::router())
        .merge(attendance::router())
        .merge(transcripts::router())
        .merge(outbound::router())
        .merge(widget::router())
        .merge(bridges::router())
        .merge(matrix::router())
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES));
    let files = attachments::router()
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(
            attachments::MAX_ATTACHMENT_BYTES,
        ));
    let (router, mut api) = small.merge(files).split_for_parts();
    describe_errors(&mut api);
    (router, api)
}

/// Every error answer a route documents carries our [`ErrorBody`](crate::http::error::ErrorBody),
/// registered once among the document's schemas.
fn describe_errors(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr};
    use utoipa::{PartialSchema, ToSchema};
    type Body = crate::http::error::ErrorBody;
    api.components
        .get_or_insert_with(Default::default)
        .schemas
        .insert(Body::name().into_owned(), Body::schema());
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(Body::name())))
        .build();
    for item in api.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            for (status, response) in operation.responses.responses.iter_mut() {
                let is_error = status.starts_with('4') || status.starts_with('5');
                if let (true, RefOr::T(response)) = (is_error, response)
                    && response.content.is_empty()
                {
                    response
                        .content
                        .insert("application/json".to_string(), content.clone());
                }
            }
        }
    }
}

fn info() -> utoipa::openapi::OpenApi {
    use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
    let mut api = utoipa::openapi::OpenApiBuilder::new()
        .info(
            utoipa::openapi::InfoBuilder::new()
                .title("Ponte")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Service-desk chat: virtual assistant, knowledge, live delivery. Errors are \
                     `{message, code, type}` with stable snake_case codes.",
                ))
                .build(),
        )
        .build();
    api.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    api.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
        "bearer",
        Vec::<String>::new(),
    )]);
    api
}

/// The OpenAPI document of every route (what `/openapi.json` serves).
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented().1
}

/// The API's router (no web pages).
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// The API's router with `pages` (the web pages, which live above this layer) served beside
/// it, under the same layers and fallback.
pub fn router_with(state: AppState, pages: Router<AppState>) -> Router {
    let (routes, api) = documented();
    let spec = std::sync::Arc::new(api.to_json().unwrap_or_default());
    routes
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let spec = spec.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        spec.as_str().to_owned(),
                    )
                }
            }),
        )
        .merge(pages)
        .fallback(|| async { ApiError::UnknownRoute })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            health::writes_need_nats,
        ))
        .with_state(state)
        .layer(axum::middleware::from_fn(read_small_bodies_first))
        .layer(cors())
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(CatchPanicLayer::new())
        .layer(axum::middleware::map_response(error_body))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                tracing::debug_span!(
                    "request",
                    method = %request.method(),
                    uri = %redact_uri(request.uri()),
                    version = ?request.version(),
                )
            }),
        )
        .layer(SetSensitiveRequestHeadersLayer::new([AUTHORIZATION]))
}

/// Largest declared request body read in full before the handler runs.
const READ_AHEAD_BYTES: usize = 64 * 1024;

/// Reads a small request body (declared by `Content-Length`) to its end before the handler
/// runs. A handler that takes no body (a capture, a reindex) would otherwise answer before
/// the body's bytes arrived, and hyper closes a keep-alive connection whose request body was
/// not read: the client's next request on it meets a closed socket (`ponte bench fanout`
/// failed so after a few captures). Larger bodies stream to their handler as before.
async fn read_small_bodies_first(
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    let Some(length) = declared.filter(|length| (1..=READ_AHEAD_BYTES).contains(length)) else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, length).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Err(_) => {
            ApiError::BadRequest("the request body ended before the length it declared".to_string())
                .into_response()
        }
    }
}

/// Cross-origin calls: a portal on another origin embeds the widget, which calls the API
/// with a bearer token. No cookies are involved, so any origin may call; what it may do is
/// decided by the token.
fn cors() -> tower_http::cors::CorsLayer {
    use axum::http::{Method, header};
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        // The transcript's file name, which a widget on the portal's origin reads.
        .expose_headers([header::CONTENT_DISPOSITION])
        .max_age(Duration::from_secs(3600))
}

/// Query parameters whose values never reach a log line.
const SECRET_PARAMETERS: &[&str] = &["token", "access_token"];

/// `uri` with the values of secret query parameters (`?token=`, which browsers use for
/// WebSocket and SSE) replaced by `***`, for logs.
pub fn redact_uri(uri: &Uri) -> String {
    let Some(query) = uri.query() else {
        return uri.path().to_string();
    };
    let redacted: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if SECRET_PARAMETERS.contains(&name) => format!("{name}=***"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{}?{}", uri.path(), redacted.join("&"))
}

/// Gives an error answer that is not ours (no JSON body: axum's rejections and 405, the
/// body limit's 413, the timeout's 408, a caught panic's 500) our body with a stable code,
/// keeping its status and headers (`Allow`, CORS).
async fn error_body(response: axum::response::Response) -> axum::response::Response {
    use axum::http::StatusCode;
    use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
    use axum::response::IntoResponse;
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    // These bodies are a line of text at most; anything longer is not worth quoting.
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
        .unwrap_or_default();
    let error = match status {
        StatusCode::NOT_FOUND => ApiError::UnknownRoute,
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT => ApiError::RequestTimeout,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        status if status.is_server_error() => ApiError::Internal(text),
        _ if text.is_empty() => ApiError::BadRequest(format!("the request was refused ({status})")),
        _ => ApiError::BadRequest(text),
    };
    let mut answer = error.into_response();
    *answer.status_mut() = status;
    for (name, value) in &parts.headers {
        if name != CONTENT_TYPE && name != CONTENT_LENGTH && !answer.headers().contains_key(name) {
            answer.headers_mut().append(name, value.clone());
        }
    }
    answer
}

/// `axum::extract::Path` whose rejection is our [`ApiError`], and whose every parameter is an
/// id: not blank, at most [`crate::store::MAX_ID_LEN`] bytes, no control characters (400
/// `invalid_id`), so that no oversized id reaches a file name or the store.
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = axum::extract::RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::InvalidId(rejection.body_text()))?;
        for (name, value) in &raw {
            crate::http::error::check_id(name, value)?;
        }
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection @ PathRejection::FailedToDeserializePathParams(_)) => {
                Err(ApiError::InvalidId(rejection.body_text()))
            }
            Err(rejection) => Err(ApiError::Internal(rejection.body_text())),
        }
    }
}

/// `axum::Json` whose rejection is our [`ApiError`].
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(JsonRejection::BytesRejection(_)) => Err(ApiError::PayloadTooLarge),
            Err(rejection) => Err(ApiError::MalformedJson(rejection.body_text())),
        }
    }
}

/// `axum::extract::Query` whose rejection is our [`ApiError`].
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection @ QueryRejection::FailedToDeserializeQueryString(_)) => {
                Err(ApiError::BadRequest(rejection.body_text()))
            }
            Err(rejection) => Err(ApiError::BadRequest(rejection.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_query_values_are_redacted() {
        let uri: Uri = "/api/conversations/c1/live?after=3&token=s3cr3t&x=1"
            .parse()
            .unwrap();
        let shown = redact_uri(&uri);
        assert_eq!(shown, "/api/conversations/c1/live?after=3&token=***&x=1");
        assert!(!shown.contains("s3cr3t"));
        let plain: Uri = "/health".parse().unwrap();
        assert_eq!(redact_uri(&plain), "/health");
    }
}
