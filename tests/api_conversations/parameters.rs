//! Admin parameters: read and set by admins, bad values change nothing.

use super::{Api, assert_error};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn admins_read_and_set_parameters_and_bad_values_change_nothing() {
    let api = Api::new().await;
    let (status, list) = api
        .call(Method::GET, "/api/admin/parameters", &api.admin, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let value_of = |list: &Value, key: &str| {
        list["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|parameter| parameter["key"] == key)
            .map(|parameter| parameter["value"].as_str().unwrap().to_string())
    };
    assert_eq!(value_of(&list, "lost_chat_minutes").as_deref(), Some("30"));

    let (status, body) = api
        .call(
            Method::PUT,
            "/api/admin/parameters",
            &api.admin,
            Some(json!({"key": "lost_chat_minutes", "value": "0"})),
        )
        .await;
    assert_error(status, &body, 422, "invalid_parameter");
    let (status, body) = api
        .call(
            Method::PUT,
            "/api/admin/parameters",
            &api.admin,
            Some(json!({"key": "no_such_key", "value": "1"})),
        )
        .await;
    assert_error(status, &body, 422, "invalid_parameter");
    assert_eq!(
        api.store.parameter("lost_chat_minutes").await.unwrap(),
        None
    );
    assert_eq!(api.store.parameters().await.unwrap().len(), 0);

    let (status, body) = api
        .call(
            Method::PUT,
            "/api/admin/parameters",
            &api.admin,
            Some(json!({"key": "lost_chat_minutes", "value": "45"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, list) = api
        .call(Method::GET, "/api/admin/parameters", &api.admin, None)
        .await;
    assert_eq!(value_of(&list, "lost_chat_minutes").as_deref(), Some("45"));

    // Chat off: opening is refused with the machine's code.
    let (status, _) = api
        .call(
            Method::PUT,
            "/api/admin/parameters",
            &api.admin,
            Some(json!({"key": "299", "value": "off"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = api
        .call(
            Method::POST,
            "/api/conversations",
            &api.ana,
            Some(json!({})),
        )
        .await;
    assert_error(status, &body, 409, "chat_disabled");
}
