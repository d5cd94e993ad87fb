//! Background reindex jobs: progress, per-file errors, and a failed reindex that keeps the
//! old index serving.

use super::Api;
use axum::http::{Method, StatusCode};
use serde_json::Value;
use std::time::Duration;

async fn wait_for_job(api: &Api, id: &str) -> Value {
    for _ in 0..200 {
        let (status, body) = api
            .call(
                Method::GET,
                &format!("/api/knowledge/reindex/{id}"),
                Some(&api.manager),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["state"] != "running" {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the reindex {id} did not finish");
}

#[tokio::test]
async fn a_background_reindex_reports_progress_and_per_file_errors() {
    let api = Api::new();
    let broken = api.fixture.sources_dir.path().join("articles/en/broken.md");
    std::fs::write(&broken, "+++\nid = \"kb-broken\"\ntitle = \n+++\nbody\n").unwrap();
    let (status, body) = api
        .call(
            Method::POST,
            "/api/knowledge/reindex",
            Some(&api.requester),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let (status, started) = api
        .call(
            Method::POST,
            "/api/knowledge/reindex",
            Some(&api.manager),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    let id = started["id"].as_str().unwrap();
    let done = wait_for_job(&api, id).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["phase"], "done");
    assert!(done["files_total"].as_u64().unwrap() >= 10, "{done}");
    assert_eq!(done["files_scanned"], done["files_total"]);
    assert_eq!(done["documents_indexed"], done["documents_total"]);
    let errors = done["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{done}");
    // Named as documents name their files, relative to the sources: nothing of the
    // server's directories reaches the client.
    assert_eq!(errors[0]["file"], "articles/en/broken.md");
    assert_eq!(errors[0]["line"], 3);
    assert!(!errors[0]["reason"].as_str().unwrap().is_empty());
    // The rebuilt index serves (the good documents are all there).
    assert_eq!(
        api.search_ids(None, "printer")
            .await
            .first()
            .map(String::as_str),
        Some("kb-printer.en")
    );
    let (status, list) = api
        .call(
            Method::GET,
            "/api/knowledge/reindex",
            Some(&api.manager),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["jobs"][0]["id"], id);
    let (status, body) = api
        .call(
            Method::GET,
            "/api/knowledge/reindex/nope",
            Some(&api.manager),
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[tokio::test]
async fn a_failed_reindex_says_why_and_the_old_index_keeps_serving() {
    let api = Api::new();
    let articles = api.fixture.sources_dir.path().join("articles");
    let activities = api.fixture.sources_dir.path().join("activities");
    std::fs::remove_dir_all(&articles).unwrap();
    std::fs::remove_dir_all(&activities).unwrap();
    std::fs::create_dir_all(articles.join("en")).unwrap();
    std::fs::write(articles.join("en/only.md"), "not an article").unwrap();
    let (status, started) = api
        .call(
            Method::POST,
            "/api/knowledge/reindex",
            Some(&api.manager),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let done = wait_for_job(&api, started["id"].as_str().unwrap()).await;
    assert_eq!(done["state"], "failed", "{done}");
    assert!(
        done["failure"].as_str().unwrap().contains("no article"),
        "{done}"
    );
    assert_eq!(done["errors"].as_array().unwrap().len(), 1, "{done}");
    assert_eq!(
        api.search_ids(None, "printer")
            .await
            .first()
            .map(String::as_str),
        Some("kb-printer.en")
    );
}
