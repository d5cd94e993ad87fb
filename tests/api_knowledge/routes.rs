//! The per-token rate limit, and the OpenAPI document kept in step with the served routes.

use super::Api;
use axum::http::{Method, StatusCode};

#[tokio::test]
async fn the_rate_limit_is_per_token_and_says_when_to_retry() {
    let api = Api::with_rate_limit(2);
    let uri = "/api/activities";
    let mut refused = None;
    for _ in 0..10 {
        let (status, headers, body) = api.raw(Method::GET, uri, Some(&api.requester), None).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some((headers, body));
            break;
        }
        assert_eq!(status, StatusCode::OK);
    }
    let (headers, body) = refused.expect("a burst of 10 requests at 2/s was never limited");
    assert_eq!(body["code"], "rate_limited");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    // Another token is not held back by the noisy one.
    let (status, _, _) = api.raw(Method::GET, uri, Some(&api.finance), None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_served_routes() {
    let api = Api::new();
    let (status, spec) = api.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(spec, serde_json::to_value(ponte::http::openapi()).unwrap());
    let paths = spec["paths"].as_object().unwrap();
    for expected in [
        "/health",
        "/api/knowledge/search",
        "/api/knowledge/articles/{id}",
        "/api/knowledge/reindex",
        "/api/conversations",
        "/api/conversations/{id}/messages",
        "/api/conversations/{id}/live",
        "/api/admin/parameters",
    ] {
        assert!(paths.contains_key(expected), "{expected} is not documented");
    }
    // Every documented operation is routed: nothing answers `unknown_route` or 405.
    let mut operations = 0;
    for (path, item) in paths {
        let concrete = path.replace("{id}", "some-id");
        for method in item.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let (status, body) = api.call(method.clone(), &concrete, None, None).await;
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert_ne!(body["code"], "unknown_route", "{method} {path}");
            operations += 1;
        }
    }
    assert!(operations >= 20, "{operations}");
    // And an undocumented one is not.
    let (status, body) = api.call(Method::GET, "/api/undocumented", None, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_route"))
    );
}

/// Routes are only ever declared through `utoipa_axum::routes!`, so none can be served
/// without being documented.
#[test]
fn every_route_is_declared_through_the_openapi_router() {
    let http = crate::common::repo().join("src/http");
    for entry in std::fs::read_dir(&http).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let plain_routes = text
            .match_indices(".route(")
            .filter(|(at, _)| {
                !text[at + ".route(".len()..]
                    .trim_start()
                    .starts_with("\"/openapi.json\"")
            })
            .count();
        assert_eq!(
            plain_routes,
            0,
            "{} declares an undocumented route",
            path.display()
        );
    }
}
