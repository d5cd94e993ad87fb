//! How the pages are served, without a browser: content types, the Content-Security-Policy,
//! the widget loadable from other origins, revalidation by ETag, nothing outside the page
//! folder; and the widget's anonymous guest sessions.

use crate::desk::Desk;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use ponte::guest::GuestKey;
use serde_json::json;
use tower::ServiceExt;

async fn fetch(
    app: &axum::Router,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut request = Request::builder().uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, body.to_vec())
}

#[tokio::test]
async fn every_page_is_served_with_its_type_and_a_policy_that_forbids_inline_script() {
    let desk = Desk::new().await;
    for (uri, marker) in [
        ("/", "widget.js"),
        ("/console", "console.js"),
        ("/knowledge", "knowledge.js"),
        ("/knowledge/gaps", "gaps.js"),
        ("/reports", "reports.js"),
        ("/admin/bridges", "bridges.js"),
        ("/admin", "admin.js"),
    ] {
        let (status, headers, body) = fetch(&desk.app, uri, &[]).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
        let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(policy.contains("script-src 'self'"), "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let html = String::from_utf8(body).unwrap();
        assert!(html.contains(marker), "{uri} does not load {marker}");
        // Nothing from elsewhere: every script, stylesheet and image is on this origin.
        for tag in ["<script", "<link", "<img"] {
            for (start, _) in html.match_indices(tag) {
                let element = &html[start..start + html[start..].find('>').unwrap()];
                assert!(
                    !element.contains("http:")
                        && !element.contains("https:")
                        && !element.contains("\"//"),
                    "{uri} loads from elsewhere: {element}"
                );
            }
        }
    }
    let (status, headers, body) = fetch(&desk.app, "/widget.js", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let script = String::from_utf8(body).unwrap();
    assert!(script.contains("/api/widget/session"));
    // The parts widget.js loads itself (its `PARTS` list), from any portal.
    let parts = script
        .split_once("const PARTS = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .expect("widget.js lists its parts")
        .0;
    let parts: Vec<&str> = parts
        .split(',')
        .map(|name| name.trim().trim_matches('"'))
        .collect();
    assert!(parts.len() >= 4, "{parts:?}");
    for name in parts {
        let part = format!("/assets/{name}");
        let (status, headers, _) = fetch(&desk.app, &part, &[]).await;
        assert_eq!(status, StatusCode::OK, "{part}");
        assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*", "{part}");
    }
    let (status, headers, plain) = fetch(&desk.app, "/assets/widget.css", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/css; charset=utf-8");
    // Browsers get the text gzipped.
    let (status, headers, gzipped) = fetch(
        &desk.app,
        "/assets/widget.css",
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    assert!(
        gzipped.len() * 2 < plain.len(),
        "{} of {}",
        gzipped.len(),
        plain.len()
    );
}

#[tokio::test]
async fn an_unchanged_file_costs_a_304_and_nothing_outside_the_pages_is_reachable() {
    let desk = Desk::new().await;
    let (_, headers, _) = fetch(&desk.app, "/assets/widget.js", &[]).await;
    let etag = headers[header::ETAG].to_str().unwrap().to_string();
    let (status, _, body) =
        fetch(&desk.app, "/assets/widget.js", &[("if-none-match", &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    for uri in [
        "/assets/nothing-here.js",
        "/assets/..%2FCargo.toml",
        "/assets/%2E%2E%2Fauth.rs",
        "/assets/mod.rs",
    ] {
        let (status, _, body) = fetch(&desk.app, uri, &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["code"], "unknown_route", "{uri}");
    }
}

#[tokio::test]
async fn a_guest_session_chats_as_a_requester_of_public_knowledge_and_a_forged_one_is_refused() {
    let desk = Desk::new().await;
    desk.auth.allow_guests(GuestKey::random().unwrap());
    let (status, session) = desk
        .call(Method::POST, "/api/widget/session", "", None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    let token = session["token"].as_str().unwrap();
    let guest = session["requester_id"].as_str().unwrap();
    assert!(guest.starts_with("guest-"));
    let (status, opened) = desk
        .call(
            Method::POST,
            "/api/conversations",
            token,
            Some(json!({ "language": "en" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let id = opened["conversation"]["id"].as_str().unwrap();
    let (status, shown) = desk
        .call(
            Method::GET,
            &format!("/api/conversations/{id}"),
            token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["requester_id"], guest);

    // Another guest cannot read it; a token whose signature was altered is no one.
    let (_, other) = desk
        .call(Method::POST, "/api/widget/session", "", None)
        .await;
    let (status, _) = desk
        .call(
            Method::GET,
            &format!("/api/conversations/{id}"),
            other["token"].as_str().unwrap(),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (prefix, _) = token.rsplit_once('.').unwrap();
    let forged = format!("{prefix}.{}", "0".repeat(64));
    let (status, body) = desk
        .call(
            Method::GET,
            &format!("/api/conversations/{id}"),
            &forged,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn without_guest_chat_the_widget_session_is_refused_with_a_stable_code() {
    let desk = Desk::new().await;
    let (status, body) = desk
        .call(Method::POST, "/api/widget/session", "", None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "guest_chat_disabled");
}

#[tokio::test]
async fn a_portal_on_another_origin_may_call_the_api_with_a_bearer_token() {
    let desk = Desk::new().await;
    let request = Request::builder()
        .method(Method::OPTIONS)
        .uri("/api/conversations")
        .header("origin", "https://portal.example.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .body(Body::empty())
        .unwrap();
    let response = desk.app.clone().oneshot(request).await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let headers = response.headers();
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let allowed = headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("authorization"), "{allowed}");
}
