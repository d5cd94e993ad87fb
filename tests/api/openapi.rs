//! The OpenAPI document describes what the routes really answer: the main routes are
//! called for real (conversations, knowledge, the desk, admin tokens, errors) and every
//! answer is validated against the schema the served `/openapi.json` gives for that route
//! and status, with the document's `#/components/schemas/...` references resolved. Object
//! schemas are taken as closed (no field beyond those documented), so a handler whose body
//! drifts from its documented type, by a field added, renamed, retyped or missing, fails.

mod schema;

use axum::http::Method;
use ponte::auth::Role;
use schema::Checker;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_answers_match_the_documented_schemas() {
    let mut api = Checker::new().await;
    let admin = api.desk.admin.clone();
    let get = Method::GET;
    let post = Method::POST;
    let put = Method::PUT;
    let delete = Method::DELETE;

    api.call(get.clone(), "/health", "/health", &admin, None, 200)
        .await;

    // Admin: tokens and parameters.
    let issued = api
        .call(
            post.clone(),
            "/api/admin/tokens",
            "/api/admin/tokens",
            &admin,
            Some(json!({ "role": "requester", "subject": "tomas", "expires_in_seconds": 3600 })),
            201,
        )
        .await;
    let token_id = issued["id"].as_str().unwrap().to_string();
    api.call(
        get.clone(),
        "/api/admin/tokens",
        "/api/admin/tokens",
        &admin,
        None,
        200,
    )
    .await;
    api.call(
        delete.clone(),
        "/api/admin/tokens/{id}",
        &format!("/api/admin/tokens/{token_id}"),
        &admin,
        None,
        200,
    )
    .await;
    api.call(
        get.clone(),
        "/api/admin/parameters",
        "/api/admin/parameters",
        &admin,
        None,
        200,
    )
    .await;

    // The desk's setup and an attendant online.
    api.call(
        put.clone(),
        "/api/desk/config",
        "/api/desk/config",
        &admin,
        Some(json!({
            "routing": { "default": "queue", "by_group": {} },
            "pause_reasons": ["break"],
            "close_reasons": ["resolved"],
        })),
        200,
    )
    .await;
    api.call(
        get.clone(),
        "/api/desk/config",
        "/api/desk/config",
        &admin,
        None,
        200,
    )
    .await;
    api.call(
        put.clone(),
        "/api/desk/people/{id}",
        "/api/desk/people/ana",
        &admin,
        Some(
            json!({ "name": "Ana", "kind": "attendant", "groups": ["desk"],
                     "channels": ["web_chat", "whatsapp"], "max_chats": 3 }),
        ),
        200,
    )
    .await;
    let ana = api.desk.token(Role::Attendant, "ana");
    api.call(
        put.clone(),
        "/api/desk/presence",
        "/api/desk/presence",
        &ana,
        Some(json!({ "channel": "web_chat", "state": "online" })),
        200,
    )
    .await;
    api.call(
        get.clone(),
        "/api/desk/presence",
        "/api/desk/presence",
        &ana,
        None,
        200,
    )
    .await;
    api.call(
        get.clone(),
        "/api/desk/people",
        "/api/desk/people",
        &admin,
        None,
        200,
    )
    .await;
    api.call(
        get.clone(),
        "/api/desk/projects",
        "/api/desk/projects",
        &ana,
        None,
        200,
    )
    .await;

    // A requester's conversation, handed to the desk.
    let rita = api.desk.token(Role::Requester, "rita");
    let opened = api
        .call(
            post.clone(),
            "/api/conversations",
            "/api/conversations",
            &rita,
            Some(json!({ "language": "en" })),
            201,
        )
        .await;
    let id = opened["conversation"]["id"].as_str().unwrap().to_string();
    let conversation = format!("/api/conversations/{id}");
    api.call(
        get.clone(),
        "/api/conversations/{id}",
        &conversation,
        &rita,
        None,
        200,
    )
    .await;
    api.call(
        post.clone(),
        "/api/conversations/{id}/messages",
        &format!("{conversation}/messages"),
        &rita,
        Some(json!({ "text": "tell me a joke about penguins", "client_message_id": "m-1" })),
        200,
    )
    .await;
    api.call(
        post.clone(),
        "/api/conversations/{id}/options",
        &format!("{conversation}/options"),
        &rita,
        Some(json!({ "option_id": "talk_to_attendant" })),
        200,
    )
    .await;
    api.call(
        get.clone(),
        "/api/conversations/{id}/messages",
        &format!("{conversation}/messages?after=0"),
        &rita,
        None,
        200,
    )
    .await;
    let queued = api
        .call(
            get.clone(),
            "/api/conversations/{id}/queue",
            &format!("{conversation}/queue"),
            &rita,
            None,
            200,
        )
        .await;
    assert_eq!(queued["state"], "queued", "{queued}");
    api.call(
        get.clone(),
        "/api/tickets",
        "/api/tickets",
        &rita,
        None,
        200,
    )
    .await;

    // The desk works the chat.
    let chats = api
        .call(
            get.clone(),
            "/api/desk/chats",
            "/api/desk/chats",
            &ana,
            None,
            200,
        )
        .await;
    assert!(chats["chats"][0]["position"].is_number(), "{chats}");
    let alert = api
        .call(
            get.clone(),
            "/api/desk/alert",
            "/api/desk/alert",
            &ana,
            None,
            200,
        )
        .await;
    // The check does refuse a drifted body: a field more, a field less, a field retyped.
    let schema = api.document.schema(&get, "/api/desk/alert", 200).unwrap();
    let mut more = alert.clone();
    more["unexpected"] = json!(1);
    let mut less = alert.clone();
    less.as_object_mut().unwrap().remove("queue_unread");
    let mut retyped = alert.clone();
    retyped["alert"] = json!("yes");
    for drifted in [more, less, retyped] {
        let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            api.document.check("drifted", schema.clone(), &drifted)
        }));
        assert!(refused.is_err(), "a drifted body passed: {drifted}");
    }
    let chat = format!("/api/desk/chats/{id}");
    let captured = api
        .call(
            post.clone(),
            "/api/desk/chats/{id}/capture",
            &format!("{chat}/capture"),
            &ana,
            None,
            200,
        )
        .await;
    assert_eq!(captured["responsible"], "ana", "{captured}");
    api.call(
        post.clone(),
        "/api/desk/chats/{id}/messages",
        &format!("{chat}/messages"),
        &ana,
        Some(json!({ "text": "Hello, Rita!" })),
        200,
    )
    .await;
    api.call(
        get.clone(),
        "/api/desk/chats/{id}/messages",
        &format!("{chat}/messages?q=rita"),
        &ana,
        None,
        200,
    )
    .await;
    api.call(
        post.clone(),
        "/api/desk/chats/{id}/tags",
        &format!("{chat}/tags"),
        &ana,
        Some(json!({ "tag": "vip" })),
        200,
    )
    .await;
    api.call(
        post.clone(),
        "/api/desk/chats/{id}/read",
        &format!("{chat}/read"),
        &ana,
        None,
        200,
    )
    .await;
    api.call(
        post.clone(),
        "/api/desk/chats/{id}/close",
        &format!("{chat}/close"),
        &ana,
        Some(json!({ "reason": "resolved", "closing_message": "Bye!" })),
        200,
    )
    .await;

    // Contacts, quick replies, macros.
    api.call(
        put.clone(),
        "/api/desk/contacts/{id}",
        "/api/desk/contacts/rita",
        &ana,
        Some(json!({ "name": "Rita", "email": "rita@example.com" })),
        200,
    )
    .await;
    api.call(
        get.clone(),
        "/api/desk/contacts",
        "/api/desk/contacts?q=rita",
        &ana,
        None,
        200,
    )
    .await;
    api.call(
        put.clone(),
        "/api/desk/contacts/{id}/block",
        "/api/desk/contacts/rita/block",
        &ana,
        Some(json!({ "blocked": false })),
        200,
    )
    .await;
    api.call(
        put.clone(),
        "/api/desk/quick-replies/{name}",
        "/api/desk/quick-replies/hi",
        &ana,
        Some(json!({ "texts": { "en": "Hello!" } })),
        200,
    )
    .await;
    api.call(
        get.clone(),
        "/api/desk/quick-replies",
        "/api/desk/quick-replies",
        &ana,
        None,
        200,
    )
    .await;
    api.call(
        delete.clone(),
        "/api/desk/quick-replies/{name}",
        "/api/desk/quick-replies/hi",
        &ana,
        None,
        200,
    )
    .await;
    api.call(
        get.clone(),
        "/api/desk/macros",
        "/api/desk/macros",
        &ana,
        None,
        200,
    )
    .await;

    // Knowledge, read only: the knowledge base is shared by the tests.
    api.call(
        get.clone(),
        "/api/knowledge/search",
        "/api/knowledge/search?q=vpn&limit=3",
        &rita,
        None,
        200,
    )
    .await;
    let activities = api
        .call(
            get.clone(),
            "/api/activities",
            "/api/activities",
            &rita,
            None,
            200,
        )
        .await;
    let activity = activities["activities"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    api.call(
        get.clone(),
        "/api/knowledge/activities/{id}",
        &format!("/api/knowledge/activities/{activity}"),
        &admin,
        None,
        200,
    )
    .await;
    let articles = api
        .call(
            get.clone(),
            "/api/knowledge/articles",
            "/api/knowledge/articles",
            &admin,
            None,
            200,
        )
        .await;
    let article = articles["articles"][0]["id"].as_str().unwrap().to_string();
    api.call(
        get.clone(),
        "/api/knowledge/articles/{id}",
        &format!("/api/knowledge/articles/{article}"),
        &admin,
        None,
        200,
    )
    .await;
    api.call(
        get.clone(),
        "/api/knowledge/reindex",
        "/api/knowledge/reindex",
        &admin,
        None,
        200,
    )
    .await;

    // Errors answer the documented error body.
    api.call(
        get.clone(),
        "/api/conversations/{id}",
        "/api/conversations/no-such-conversation",
        &rita,
        None,
        404,
    )
    .await;
    api.call(
        get.clone(),
        "/api/desk/people",
        "/api/desk/people",
        &rita,
        None,
        403,
    )
    .await;
    api.call(
        post.clone(),
        "/api/conversations/{id}/options",
        &format!("{conversation}/options"),
        &rita,
        Some(json!({ "option_id": "no_such_option" })),
        409,
    )
    .await;
    api.call(
        get.clone(),
        "/api/knowledge/articles/{id}",
        "/api/knowledge/articles/no-such-article",
        &admin,
        None,
        404,
    )
    .await;

    assert!(api.checked.len() >= 40, "{:?}", api.checked);
}

/// Every documented operation describes the body of its success answer (a WebSocket
/// upgrade has none), and every error answer it documents is the error body.
#[test]
fn every_route_documents_its_bodies() {
    let document = serde_json::to_value(ponte::http::openapi()).unwrap();
    assert!(
        document["components"]["schemas"]["ErrorBody"]["properties"]
            .as_object()
            .is_some_and(|properties| properties.len() == 3),
        "{}",
        document["components"]["schemas"]["ErrorBody"]
    );
    let mut missing = Vec::new();
    let mut operations = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(responses) = operation["responses"].as_object() else {
                continue;
            };
            operations += 1;
            let success = responses
                .keys()
                .filter(|status| status.starts_with('2') || status.as_str() == "101")
                .min()
                .cloned();
            match success.as_deref() {
                None => missing.push(format!("{method} {path}: no success answer")),
                Some("101") => {}
                Some(status) => {
                    let has_schema =
                        responses[status]["content"]
                            .as_object()
                            .is_some_and(|content| {
                                content.values().any(|media| {
                                    media["schema"].as_object().is_some_and(|s| !s.is_empty())
                                })
                            });
                    if !has_schema {
                        missing.push(format!("{method} {path} {status}: no body schema"));
                    }
                }
            }
            for (status, response) in responses {
                // The health check's 503 is its own report (which dependency is down), read
                // by load balancers and operators; every other error is the error body.
                let health_report = path == "/health" && status == "503";
                if (status.starts_with('4') || status.starts_with('5')) && !health_report {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    if schema != "#/components/schemas/ErrorBody" {
                        missing.push(format!("{method} {path} {status}: not the error body"));
                    }
                }
            }
            if let Some(body) = operation.get("requestBody") {
                let has_schema = body["content"].as_object().is_some_and(|content| {
                    content
                        .values()
                        .any(|media| media["schema"].as_object().is_some_and(|s| !s.is_empty()))
                });
                if !has_schema {
                    missing.push(format!("{method} {path}: request body without a schema"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "undescribed bodies:\n{}",
        missing.join("\n")
    );
    assert!(operations >= 60, "{operations}");
}
