//! The web pages `ponte serve` serves itself, with nothing fetched from elsewhere: the demo
//! portal with the requester's widget (`/`, the widget alone at `/widget.js` for any portal
//! to embed with one script tag), the attendants' console (`/console`), the knowledge page
//! (`/knowledge`), the knowledge-gaps page beside it (`/knowledge/gaps`), the desk reports with
//! their charts, tables and CSVs (`/reports`), the administrators' page for the desk's
//! people, projects, replies, macros, routing, reasons, chat parameters and tokens
//! (`/admin`, ES modules: `admin.js` imports its `admin-*.js` siblings) and their bridges
//! page (`/admin/bridges`). Their files live in `src/web/` and are embedded in the binary
//! (read from disk in debug builds, so a page edit shows on reload); any of them is also at
//! `/assets/<file>`.
//!
//! Pages carry a strict Content-Security-Policy (scripts, styles and connections from this
//! origin only, no inline script), `nosniff`, no referrer, and an ETag, so a reload costs a
//! 304; they are gzipped for clients that accept it. The widget's script and stylesheet may
//! be loaded by other origins.

use crate::http::error::ApiError;
use crate::http::state::AppState;
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "src/web/"]
struct Files;

/// The policy of every page: everything from this origin, nothing inline.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; \
     frame-ancestors 'self'; base-uri 'none'; form-action 'self'";

/// Files a portal on another origin loads.
/// `widget.js` loads its parts (the error texts, its texts, the Markdown reader, the view and
/// the media) itself, from `/assets/`.
const EMBEDDABLE: &[&str] = &[
    "widget.js",
    "errors.js",
    "widget-texts.js",
    "widget-markdown.js",
    "widget-view.js",
    "widget-media.js",
    "widget-rating.js",
    "widget-marks.js",
    "widget-prechat.js",
    "widget.css",
];

/// The pages at fixed paths, and the file each serves.
const PAGES: &[(&str, &str)] = &[
    ("/", "portal.html"),
    ("/console", "console.html"),
    ("/knowledge", "knowledge.html"),
    ("/knowledge/gaps", "gaps.html"),
    ("/reports", "reports.html"),
    ("/admin", "admin.html"),
    ("/admin/bridges", "bridges.html"),
    ("/signin", "signin.html"),
    ("/widget.js", "widget.js"),
];

pub fn router() -> Router<AppState> {
    let mut router = Router::new().route(
        "/assets/{name}",
        get(|Path(name): Path<String>, headers: HeaderMap| async move { file(&name, &headers) }),
    );
    for &(path, name) in PAGES {
        router = router.route(
            path,
            get(move |headers: HeaderMap| async move { file(name, &headers) }),
        );
    }
    // Text files shrink to about a quarter; only the pages, never the API's streams.
    router.layer(tower_http::compression::CompressionLayer::new())
}

fn file(name: &str, request: &HeaderMap) -> Response {
    // Only flat names: no directories, nothing hidden, no Rust source.
    if name.contains('/') || name.starts_with('.') || name.ends_with(".rs") {
        return ApiError::UnknownRoute.into_response();
    }
    let Some(found) = Files::get(name) else {
        return ApiError::UnknownRoute.into_response();
    };
    let etag = format!("\"{}\"", hex::encode(&found.metadata.sha256_hash()[..12]));
    let mut headers = HeaderMap::new();
    let mime = mime_guess::from_path(name).first_or_octet_stream();
    let content_type = match mime.type_() {
        mime_guess::mime::TEXT | mime_guess::mime::APPLICATION
            if mime.subtype() != mime_guess::mime::OCTET_STREAM =>
        {
            format!("{mime}; charset=utf-8")
        }
        _ => mime.to_string(),
    };
    headers.insert(header::CONTENT_TYPE, value(&content_type));
    headers.insert(header::ETAG, value(&etag));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if name.ends_with(".html") {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    if EMBEDDABLE.contains(&name) {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    let unchanged = request
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag));
    if unchanged {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (StatusCode::OK, headers, found.data.into_owned()).into_response()
}

fn value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}
