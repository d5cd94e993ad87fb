//! Search through the caller's groups, knowledge managers writing and deleting documents
//! (everyone else refused), group-only articles, and the activity catalogue.

use super::{Api, certificate};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn search_shows_what_the_callers_groups_allow() {
    let api = Api::new();
    let payroll = "payroll reports for the finance team";
    assert!(
        !api.search_ids(None, payroll)
            .await
            .contains(&"kb-payroll.en".to_string())
    );
    assert!(
        !api.search_ids(Some(&api.requester), payroll)
            .await
            .contains(&"kb-payroll.en".to_string())
    );
    assert_eq!(
        api.search_ids(Some(&api.finance), payroll)
            .await
            .first()
            .map(String::as_str),
        Some("kb-payroll.en")
    );
    // A header with an unknown token is refused, not treated as anonymous.
    let (status, body) = api
        .call(
            Method::GET,
            "/api/knowledge/search?q=payroll",
            Some("forged"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "unauthorized");
}

#[tokio::test]
async fn a_knowledge_manager_writes_and_deletes_articles_and_others_may_not() {
    let api = Api::new();
    let uri = "/api/knowledge/articles/kb-cert.en";
    let title = "Renew an expired certificate";

    let (status, body) = api
        .call(
            Method::PUT,
            uri,
            Some(&api.requester),
            Some(certificate(title)),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (status, _) = api
        .call(Method::PUT, uri, None, Some(certificate(title)))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_ne!(
        api.search_ids(None, title)
            .await
            .first()
            .map(String::as_str),
        Some("kb-cert.en")
    );

    let (status, body) = api
        .call(
            Method::PUT,
            uri,
            Some(&api.manager),
            Some(certificate(title)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["id"], "kb-cert.en");
    assert_eq!(
        api.search_ids(None, title)
            .await
            .first()
            .map(String::as_str),
        Some("kb-cert.en")
    );
    // Written to the sources, so a full rebuild keeps it.
    let source = api
        .fixture
        .sources_dir
        .path()
        .join(body["source_path"].as_str().unwrap());
    assert!(std::fs::read_to_string(&source).unwrap().contains(title));

    let (status, body) = api
        .call(
            Method::PUT,
            uri,
            Some(&api.manager),
            Some(certificate("Renew a certificate that expired")),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = api.call(Method::GET, uri, Some(&api.requester), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["title"], "Renew a certificate that expired");

    let (status, _) = api
        .call(Method::DELETE, uri, Some(&api.requester), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = api
        .call(Method::DELETE, uri, Some(&api.manager), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!source.exists());
    assert!(
        !api.search_ids(None, title)
            .await
            .contains(&"kb-cert.en".to_string())
    );
    let (status, body) = api
        .call(Method::DELETE, uri, Some(&api.manager), None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[tokio::test]
async fn bad_documents_are_refused_and_change_nothing() {
    let api = Api::new();
    let before = api.search_ids(None, "printer").await;
    let uri = "/api/knowledge/articles/kb-printer.en";
    let cases: Vec<(Vec<u8>, StatusCode, &str)> = vec![
        (
            b"{\"title\": ".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            vec![b'{', 0xff, 0xfe, b'}'],
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            b"[1, 2]".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_document",
        ),
        (
            serde_json::to_vec(&json!({"language": "en", "body": "no title"})).unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_document",
        ),
        (
            serde_json::to_vec(&json!({"id": "another", "title": "T", "language": "en"})).unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_document",
        ),
        (
            serde_json::to_vec(&json!({"title": "  ", "language": "en"})).unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_document",
        ),
        (
            serde_json::to_vec(&json!({"title": "x".repeat(300 * 1024), "language": "en"}))
                .unwrap(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (body, expected, code) in cases {
        let (status, _, answer) = api
            .raw(Method::PUT, uri, Some(&api.manager), Some(body))
            .await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (expected, Some(code)),
            "{answer}"
        );
    }
    assert_eq!(api.search_ids(None, "printer").await, before);
    let (status, body) = api
        .call(
            Method::GET,
            "/api/knowledge/articles/nope",
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
async fn a_group_only_article_is_unknown_to_outsiders_by_id() {
    let api = Api::new();
    let uri = "/api/knowledge/articles/kb-payroll.en";
    let (status, _) = api.call(Method::GET, uri, Some(&api.requester), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api.call(Method::GET, uri, Some(&api.finance), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = api
        .call(
            Method::GET,
            "/api/knowledge/articles",
            Some(&api.manager),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body["articles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == "kb-payroll.en")
    );
    let (status, _) = api
        .call(
            Method::GET,
            "/api/knowledge/articles",
            Some(&api.finance),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn activities_are_listed_by_visibility_and_editable_by_managers() {
    let api = Api::new();
    let names = |body: &Value| -> Vec<String> {
        body["activities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|activity| activity["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (status, body) = api.call(Method::GET, "/api/activities", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(names(&body), vec!["kb-badge-replacement".to_string()]);

    let vault = json!({
        "name": {"en": "Vault access", "pt-BR": "Acesso ao cofre"},
        "examples": {"en": ["open the vault"]},
        "visibility": ["finance"]
    });
    let (status, body) = api
        .call(
            Method::PUT,
            "/api/knowledge/activities/vault-access",
            Some(&api.manager),
            Some(vault),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, body) = api
        .call(Method::GET, "/api/activities", Some(&api.requester), None)
        .await;
    assert!(!names(&body).contains(&"vault-access".to_string()));
    let (_, body) = api
        .call(Method::GET, "/api/activities", Some(&api.finance), None)
        .await;
    assert!(names(&body).contains(&"vault-access".to_string()));
    let (status, _) = api
        .call(
            Method::DELETE,
            "/api/knowledge/activities/vault-access",
            Some(&api.manager),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = api
        .call(Method::GET, "/api/activities", Some(&api.finance), None)
        .await;
    assert!(!names(&body).contains(&"vault-access".to_string()));
}
