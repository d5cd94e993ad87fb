//! The HTTP surface, in-process through the router and over a real socket: health, the
//! knowledge search and its errors in the `{message, code, type}` format.

use crate::common::{TestKb, app, app_state, encode, get, hit_ids};
use ponte::knowledge::index::rebuild;
use ponte::knowledge::search::MAX_QUERY_CHARS;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Asserts an error response: status, stable code, and the three-key body.
#[track_caller]
fn assert_error(
    status: axum::http::StatusCode,
    body: &serde_json::Value,
    expected_status: u16,
    code: &str,
) {
    assert_eq!(status.as_u16(), expected_status, "{body}");
    let object = body.as_object().unwrap_or_else(|| panic!("{body}"));
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "message", "type"], "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["type"], "invalid_request", "{body}");
    assert!(!body["message"].as_str().unwrap().is_empty(), "{body}");
}

#[tokio::test]
async fn health_reports_the_serving_generation() {
    let fixture = TestKb::fixture();
    let generation = fixture.kb.generation().name.clone();
    let documents = fixture.kb.generation().num_docs();
    let app = app(fixture.kb);
    let (status, body) = get(&app, "/health").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["index"]["generation"], generation.as_str());
    assert_eq!(body["index"]["documents"], documents);
    assert_eq!(documents, 13);
}

#[tokio::test]
async fn search_returns_ranked_hits_with_their_documents() {
    let fixture = TestKb::fixture();
    let app = app(fixture.kb);
    let (status, body) = get(
        &app,
        &format!(
            "/api/knowledge/search?q={}&lang=es",
            encode("contraseña olvidada")
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["query"], "contraseña olvidada");
    let first = &body["hits"][0];
    assert_eq!(first["id"], "kb-password.es");
    assert_eq!(first["kind"], "article");
    assert_eq!(first["title"], "Restablecer la contraseña olvidada");
    assert_eq!(
        first["document"]["url"],
        "https://portal.example.com/kb/kb-password?lang=es"
    );
    // kind and limit are honoured.
    let (_, body) = get(&app, "/api/knowledge/search?q=badge&kind=activity&limit=1").await;
    assert_eq!(hit_ids(&body), ["kb-badge-replacement"]);
    let (_, body) = get(&app, "/api/knowledge/search?q=red&lang=es&kind=article").await;
    assert!(hit_ids(&body).len() >= 2, "{body}");
    let (_, body) = get(
        &app,
        "/api/knowledge/search?q=red&lang=es&kind=article&limit=1",
    )
    .await;
    assert_eq!(hit_ids(&body).len(), 1, "{body}");
}

#[tokio::test]
async fn bad_searches_get_a_stable_error_code() {
    let fixture = TestKb::fixture();
    let app = app(fixture.kb);
    for uri in [
        "/api/knowledge/search",
        "/api/knowledge/search?q=",
        "/api/knowledge/search?q=%20%20%09",
    ] {
        let (status, body) = get(&app, uri).await;
        assert_error(status, &body, 400, "empty_text");
    }

    let longest = "a".repeat(MAX_QUERY_CHARS);
    let (status, body) = get(&app, &format!("/api/knowledge/search?q={longest}")).await;
    assert_eq!(status, 200, "exactly the limit is accepted: {body}");
    let (status, body) = get(&app, &format!("/api/knowledge/search?q={longest}b")).await;
    assert_error(status, &body, 413, "text_too_long");
    // The limit counts characters, not bytes.
    let accented = "é".repeat(MAX_QUERY_CHARS);
    let (status, _) = get(
        &app,
        &format!("/api/knowledge/search?q={}", encode(&accented)),
    )
    .await;
    assert_eq!(status, 200);

    let (status, body) = get(&app, "/api/knowledge/search?q=vpn&lang=fr").await;
    assert_error(status, &body, 400, "bad_request");
    assert!(body["message"].as_str().unwrap().contains("fr"), "{body}");
    for uri in [
        "/api/knowledge/search?q=vpn&kind=banana",
        "/api/knowledge/search?q=vpn&limit=-1",
        "/api/knowledge/search?q=vpn&limit=many",
    ] {
        let (status, body) = get(&app, uri).await;
        assert_error(status, &body, 400, "bad_request");
    }

    for uri in [
        "/api/nothing-here",
        "/nothing-here",
        "/api/knowledge/search/extra",
    ] {
        let (status, body) = get(&app, uri).await;
        assert_error(status, &body, 404, "unknown_route");
    }
}

/// One HTTP/1.1 GET over a fresh connection; returns the status and the body.
async fn http_get(address: std::net::SocketAddr, path: &str) -> (u16, serde_json::Value) {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8(response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    (
        status,
        serde_json::from_str(body).unwrap_or_else(|_| panic!("{body}")),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_served_base_swaps_in_a_rebuilt_index_and_shuts_down_gracefully() {
    let fixture = TestKb::fixture();
    let first_generation = fixture.kb.generation().name.clone();
    let sources_dir = fixture.sources_dir.path().to_path_buf();
    let index_dir = fixture.index_dir();
    let sources = fixture.sources();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(ponte::server::run(
        listener,
        app_state(fixture.kb),
        async move {
            let _ = stop_rx.await;
        },
    ));

    let (status, body) = http_get(address, "/health").await;
    assert_eq!(status, 200);
    assert_eq!(body["index"]["generation"], first_generation.as_str());
    let query = format!(
        "/api/knowledge/search?q={}&lang=en",
        encode("Renew the Wi-Fi certificate")
    );
    let (status, body) = http_get(address, &query).await;
    assert_eq!(status, 200);
    assert!(!hit_ids(&body).contains(&"kb-wifi-cert.en".to_string()));

    // A knowledge manager adds an article and reindexes from another process.
    std::fs::write(
        sources_dir.join("articles/en/wifi-certificate.md"),
        "+++\nid = \"kb-wifi-cert.en\"\ntitle = \"Renew the Wi-Fi certificate\"\nlanguage = \"en\"\n+++\nRenew it.\n",
    )
    .unwrap();
    let report = tokio::task::spawn_blocking(move || rebuild(&index_dir, &sources, &mut |_| {}))
        .await
        .unwrap()
        .unwrap();

    // The server notices on its own within a few refresh periods.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = http_get(address, &query).await;
        assert_eq!(status, 200);
        if hit_ids(&body).first().map(String::as_str) == Some("kb-wifi-cert.en") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never swapped in: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, body) = http_get(address, "/health").await;
    assert_eq!(body["index"]["generation"], report.generation.as_str());

    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server did not stop")
        .unwrap()
        .unwrap();
    assert!(tokio::net::TcpStream::connect(address).await.is_err());
}

mod errors;
mod ids;
mod keepalive;
mod openapi;
mod roles;
mod signin;
mod token_nodes;
mod tokens;
