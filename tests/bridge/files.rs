//! Files across the bridge, both ways, over real sockets: an agent's attachment link is
//! fetched from a real HTTP file host on loopback (its type and size rules the same as an
//! upload's; a host that fails is "try again", not a refusal) and downloaded by the
//! requester through the API; a requester's upload in a bridged chat reaches the external
//! desk as a `message.created` with a signed link that works, and only as signed.

use super::handoff::{
    ADMIN, ExternalDesk, GROUP, Ponte, always, event, eventually, now, quick_retries,
};
use axum::body::Body;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use std::time::Duration;

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// The external desk's file host: a real HTTP server on loopback.
async fn file_host() -> (String, tokio::task::JoinHandle<()>) {
    async fn serve(Path(name): Path<String>) -> Response {
        let typed = |content_type: &str, body: Body| {
            Response::builder()
                .header(header::CONTENT_TYPE, content_type)
                .body(body)
                .unwrap()
        };
        match name.as_str() {
            "erro.png" => typed("image/png", Body::from(PNG)),
            // Larger than an image may be, sent without a length: the limit holds while the
            // body streams.
            "huge.png" => {
                let chunks = (0..11).map(|_| Ok::<_, std::io::Error>(vec![0u8; 1024 * 1024]));
                typed(
                    "image/png",
                    Body::from_stream(futures_util::stream::iter(chunks)),
                )
            }
            "tool.exe" => typed("application/x-msdownload", Body::from(vec![1u8; 16])),
            _ => Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .body(Body::empty())
                .unwrap(),
        }
    }
    let app = axum::Router::new().route("/files/{name}", axum::routing::get(serve));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/files", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (base, task)
}

async fn bridge_with_file_host(ponte: &Ponte, desk_url: &str) {
    ponte
        .ok(
            "PUT",
            "/api/admin/bridges/desk",
            ADMIN,
            Some(json!({
                "kind": "webhook",
                "endpoint": desk_url,
                "outbound_secrets": [ponte.outbound.expose()],
                "inbound_secrets": [ponte.inbound.expose()],
                "routes": { "groups": [GROUP] },
                "allow_private": true,
                "attachment_hosts": ["127.0.0.1"],
            })),
        )
        .await;
}

async fn download(ponte: &Ponte, token: &str, id: &str) -> (u16, Option<String>, Vec<u8>) {
    let response = ponte
        .http
        .get(format!("{}/api/attachments/{id}", ponte.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    (status, kind, response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn an_agents_file_is_fetched_from_an_allowed_host_and_read_by_the_requester_only() {
    let desk = ExternalDesk::start(always(204)).await;
    let (host, _host) = file_host().await;
    let ponte = Ponte::start(quick_retries()).await;
    bridge_with_file_host(&ponte, &desk.url).await;
    let (token, id) = ponte.handed_off("joana", "pt-BR").await;
    let message = |webhook: &str, file: &str| {
        event(
            "agent.message",
            json!({"conversation_id": id, "id": webhook, "agent": {"name": "Ana"},
                   "attachments": [{"url": format!("{host}/{file}"), "name": file}]}),
        )
    };

    let (status, body) = ponte
        .inbound("f-ok", message("m1", "erro.png"), &ponte.inbound, now())
        .await;
    assert_eq!(status, 200, "{body}");
    let shown: Vec<Value> = ponte
        .messages(&token, &id)
        .await
        .into_iter()
        .filter(|m| m["sender_kind"] == "attendant")
        .collect();
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(shown[0]["body"], "📎 erro.png");
    let attachment = &shown[0]["payload"]["attachment"];
    assert_eq!(attachment["content_type"], "image/png");
    assert_eq!(attachment["size"], PNG.len());
    let file_id = attachment["id"].as_str().unwrap();
    let (status, kind, bytes) = download(&ponte, &token, file_id).await;
    assert_eq!((status, kind.as_deref()), (200, Some("image/png")));
    assert_eq!(
        bytes, PNG,
        "the requester gets the very bytes the host served"
    );
    // Nobody else's: another requester is refused.
    let other = ponte
        .ok(
            "POST",
            "/api/admin/tokens",
            ADMIN,
            Some(json!({ "role": "requester", "subject": "outra" })),
        )
        .await;
    let (status, _, _) = download(&ponte, other["token"].as_str().unwrap(), file_id).await;
    assert_eq!(status, 403);

    // Too large while streaming, or of a type uploads refuse: refused for good.
    for (webhook, file) in [("f-huge", "huge.png"), ("f-exe", "tool.exe")] {
        let (status, body) = ponte
            .inbound(webhook, message(webhook, file), &ponte.inbound, now())
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("attachment_refused")),
            "{file}: {body}"
        );
    }
    // A host that fails is "not now": 503, not remembered, so the desk's retry runs again.
    for _ in 0..2 {
        let (status, body) = ponte
            .inbound(
                "f-down",
                message("m-down", "missing.png"),
                &ponte.inbound,
                now(),
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (503, Some("attachment_unavailable")),
            "{body}"
        );
    }
    // None of those left a message.
    let attendant_messages = ponte
        .messages(&token, &id)
        .await
        .into_iter()
        .filter(|m| m["sender_kind"] == "attendant")
        .count();
    assert_eq!(attendant_messages, 1);
    ponte.stop().await;
}

#[tokio::test]
async fn a_requesters_file_reaches_the_external_desk_as_a_signed_link() {
    let desk = ExternalDesk::start(always(204)).await;
    let ponte = Ponte::start(quick_retries()).await;
    bridge_with_file_host(&ponte, &desk.url).await;
    let (token, id) = ponte.handed_off("marcos", "es").await;
    let pdf = b"%PDF-1.4 factura de marzo".to_vec();
    let response = ponte
        .http
        .post(format!(
            "{}/api/conversations/{id}/attachments?name=factura.pdf",
            ponte.base
        ))
        .bearer_auth(&token)
        .header(header::CONTENT_TYPE, "application/pdf")
        .body(pdf.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let uploaded: Value = response.json().await.unwrap();
    assert_eq!(uploaded["message"]["body"], "📎 factura.pdf");
    let file_id = uploaded["attachment"]["id"].as_str().unwrap().to_string();
    // The requester reads their own file back.
    let (status, _, bytes) = download(&ponte, &token, &file_id).await;
    assert_eq!((status, bytes.as_slice()), (200, pdf.as_slice()));

    eventually(
        Duration::from_secs(10),
        "message.created with the file",
        || async {
            desk.delivered()
                .iter()
                .any(|got| got.value["type"] == "message.created")
        },
    )
    .await;
    let created = desk
        .delivered()
        .into_iter()
        .find(|got| got.value["type"] == "message.created")
        .unwrap();
    let message = &created.value["data"]["message"];
    assert_eq!(message["sender"], "requester");
    let link = &message["attachments"][0];
    assert_eq!(link["name"], "factura.pdf");
    assert_eq!(link["content_type"], "application/pdf");
    let url = link["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/api/bridges/desk/files/{file_id}?", ponte.base)),
        "{url}"
    );
    // The link works without any account...
    let fetched = ponte.http.get(url).send().await.unwrap();
    assert_eq!(fetched.status().as_u16(), 200);
    assert_eq!(
        fetched.headers()[header::CONTENT_TYPE].to_str().unwrap(),
        "application/pdf"
    );
    assert_eq!(fetched.bytes().await.unwrap().to_vec(), pdf);
    // ... and only as signed: another file, another expiry or a forged signature is 401.
    let tampered = [
        url.replace(&file_id, "0123456789abcdef"),
        url.replace("expires=", "expires=9"),
        format!("{}AAAA", url),
    ];
    for bad in tampered {
        let refused = ponte.http.get(&bad).send().await.unwrap();
        assert_eq!(refused.status().as_u16(), 401, "{bad}");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["code"], "bad_signature");
    }
    ponte.stop().await;
}
