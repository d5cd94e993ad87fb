//! The HTTP surface: one router per resource merged here, wrapped in the shared layers
//! (tracing, timeout, panic catching, body limit, sensitive headers), plus our own
//! extractors so that malformed input gets our error format.
//!
//! Every route is declared with `utoipa_axum::routes!` from the handler's
//! `#[utoipa::path]`, so the route table and the OpenAPI document served at
//! `/openapi.json` come from one source and cannot drift apart.

pub mod admin;
pub mod attachments;
pub mod attendance;
pub mod conversations;
pub mod desk;
pub mod health;
pub mod knowledge;
pub mod live;
pub mod widget;

use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
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
        .merge(admin::router())
        .merge(desk::router())
        .merge(attendance::router())
        .merge(widget::router())
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES));
    let files = attachments::router()
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(
            attachments::MAX_ATTACHMENT_BYTES,
        ));
    small.merge(files).split_for_parts()
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

/// The whole application router.
pub fn router(state: AppState) -> Router {
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
        .merge(crate::pages::router())
        .fallback(|| async { ApiError::UnknownRoute })
        .with_state(state)
        .layer(cors())
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(CatchPanicLayer::new())
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

/// Cross-origin calls: a portal on another origin embeds the widget, which calls the API
/// with a bearer token. No cookies are involved, so any origin may call; what it may do is
/// decided by the token.
fn cors() -> tower_http::cors::CorsLayer {
    use axum::http::{Method, header};
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
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
