//! The webhook transport against real receivers on loopback: what it sends, and how each
//! kind of answer (or no answer) becomes an attempt's result.

use super::{Receiver, answer, bridge, event, now};
use ponte::bridge::signature::{self, Secret};
use ponte::bridge::transport::{USER_AGENT, WebhookTransport};
use ponte::bridge::{AttemptResult, Transport};
use std::time::Duration;
use tokio::net::TcpListener;

fn transport() -> WebhookTransport {
    WebhookTransport::with_timeout(Duration::from_secs(5)).unwrap()
}

fn failed(result: &AttemptResult) -> (Option<u16>, &str, Option<Duration>) {
    match result {
        AttemptResult::Failed {
            status,
            error,
            retry_after,
        } => (*status, error.as_str(), *retry_after),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_2xx_delivery_carries_the_headers_and_a_signature_we_verify() {
    let receiver = Receiver::start(|_| answer(204, &[])).await;
    let secret = Secret::generate();
    let endpoint = receiver.url("/hooks/in?token=abc");
    let bridge = bridge(&endpoint, vec![secret.clone()], true);
    let event = event("evt_1");

    let attempt = transport().deliver(&bridge, &event).await;

    assert_eq!(attempt.result, AttemptResult::Delivered { status: 204 });
    assert!(attempt.latency > Duration::ZERO);
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    let got = &requests[0];
    assert_eq!(got.method, "POST");
    assert_eq!(got.uri, "/hooks/in?token=abc");
    assert_eq!(got.body, event.body);
    assert_eq!(got.headers["content-type"], "application/json");
    assert_eq!(got.headers["webhook-id"], "evt_1");
    assert_eq!(got.headers["user-agent"], USER_AGENT);
    let timestamp: i64 = got.headers["webhook-timestamp"].parse().unwrap();
    assert!((now() - timestamp).abs() <= 5, "{timestamp}");
    let header = &got.headers["webhook-signature"];
    assert_eq!(
        signature::verify(&[secret], "evt_1", timestamp, &got.body, header, now()),
        Ok(())
    );
    assert_eq!(
        signature::verify(
            &[Secret::generate()],
            "evt_1",
            timestamp,
            &got.body,
            header,
            now()
        ),
        Err(signature::Refusal::BadSignature)
    );
}

#[tokio::test]
async fn during_a_rotation_every_outbound_secret_signs() {
    let receiver = Receiver::start(|_| answer(200, &[])).await;
    let (old, new) = (Secret::generate(), Secret::generate());
    let bridge = bridge(&receiver.url("/"), vec![old.clone(), new.clone()], true);
    let attempt = transport().deliver(&bridge, &event("evt_r")).await;
    assert_eq!(attempt.result, AttemptResult::Delivered { status: 200 });
    let got = &receiver.requests()[0];
    let header = &got.headers["webhook-signature"];
    assert_eq!(header.split(' ').count(), 2);
    let timestamp: i64 = got.headers["webhook-timestamp"].parse().unwrap();
    for secret in [old, new] {
        assert_eq!(
            signature::verify(&[secret], "evt_r", timestamp, &got.body, header, now()),
            Ok(())
        );
    }
}

#[tokio::test]
async fn connections_are_pooled_across_attempts() {
    let receiver = Receiver::start(|_| answer(200, &[])).await;
    let bridge = bridge(&receiver.url("/"), vec![Secret::generate()], true);
    let transport = transport();
    for id in ["evt_a", "evt_b", "evt_c"] {
        let attempt = transport.deliver(&bridge, &event(id)).await;
        assert_eq!(attempt.result, AttemptResult::Delivered { status: 200 });
    }
    let requests = receiver.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests.iter().all(|got| got.peer == requests[0].peer),
        "one connection: {:?}",
        requests.iter().map(|got| got.peer).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_500_is_a_failure_with_its_status() {
    let receiver = Receiver::start(|_| answer(500, &[])).await;
    let bridge = bridge(&receiver.url("/"), vec![Secret::generate()], true);
    let attempt = transport().deliver(&bridge, &event("evt_500")).await;
    let (status, error, retry_after) = failed(&attempt.result);
    assert_eq!(status, Some(500));
    assert_eq!(error, "HTTP 500");
    assert_eq!(retry_after, None);
    assert_eq!(receiver.requests().len(), 1);
}

#[tokio::test]
async fn a_503_with_retry_after_gives_the_wait_asked_for() {
    let receiver = Receiver::start(|_| answer(503, &[("retry-after", "7")])).await;
    let bridge = bridge(&receiver.url("/"), vec![Secret::generate()], true);
    let attempt = transport().deliver(&bridge, &event("evt_503")).await;
    let (status, _, retry_after) = failed(&attempt.result);
    assert_eq!(status, Some(503));
    assert_eq!(retry_after, Some(Duration::from_secs(7)));
}

#[tokio::test]
async fn a_429_with_an_http_date_retry_after_gives_the_wait_until_then() {
    let receiver = Receiver::start(|_| {
        let at = std::time::SystemTime::now() + Duration::from_secs(120);
        let date = httpdate::fmt_http_date(at);
        answer(429, &[("retry-after", date.as_str())])
    })
    .await;
    let bridge = bridge(&receiver.url("/"), vec![Secret::generate()], true);
    let attempt = transport().deliver(&bridge, &event("evt_429")).await;
    let (status, _, retry_after) = failed(&attempt.result);
    assert_eq!(status, Some(429));
    let wait = retry_after.unwrap();
    assert!(
        wait >= Duration::from_secs(115) && wait <= Duration::from_secs(120),
        "{wait:?}"
    );
}

#[tokio::test]
async fn a_410_is_gone() {
    let receiver = Receiver::start(|_| answer(410, &[])).await;
    let bridge = bridge(&receiver.url("/"), vec![Secret::generate()], true);
    let attempt = transport().deliver(&bridge, &event("evt_410")).await;
    assert_eq!(attempt.result, AttemptResult::Gone { status: 410 });
}

#[tokio::test]
async fn a_redirect_is_a_failure_and_its_target_is_never_requested() {
    let receiver = Receiver::start(|path| match path {
        "/hook" => answer(302, &[("location", "/elsewhere")]),
        _ => answer(200, &[]),
    })
    .await;
    let bridge = bridge(&receiver.url("/hook"), vec![Secret::generate()], true);
    let attempt = transport().deliver(&bridge, &event("evt_302")).await;
    let (status, error, _) = failed(&attempt.result);
    assert_eq!(status, Some(302));
    assert!(error.contains("redirect"), "{error}");
    let paths: Vec<_> = receiver.requests().into_iter().map(|got| got.uri).collect();
    assert_eq!(paths, vec!["/hook".to_string()]);
}

#[tokio::test]
async fn a_receiver_that_never_answers_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Accepts and holds every connection, never writing a byte.
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let transport = WebhookTransport::with_timeout(Duration::from_millis(300)).unwrap();
    let bridge = bridge(&format!("http://{addr}/"), vec![Secret::generate()], true);
    let attempt = transport.deliver(&bridge, &event("evt_slow")).await;
    silent.abort();
    let (status, error, _) = failed(&attempt.result);
    assert_eq!(status, None);
    assert_eq!(error, "timeout after 300ms");
    assert!(attempt.latency >= Duration::from_millis(300));
    assert!(
        attempt.latency < Duration::from_secs(3),
        "{:?}",
        attempt.latency
    );
}

#[tokio::test]
async fn a_receiver_that_drops_the_connection_is_a_failure() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Reads the start of the request, then closes without answering.
    let rude = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = [0u8; 64];
            let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut buffer).await;
            drop(socket);
        }
    });
    let bridge = bridge(&format!("http://{addr}/"), vec![Secret::generate()], true);
    let attempt = transport().deliver(&bridge, &event("evt_drop")).await;
    rude.abort();
    let (status, error, retry_after) = failed(&attempt.result);
    assert_eq!(status, None);
    assert_eq!(retry_after, None);
    assert!(
        error == "connection reset" || error.starts_with("request error: "),
        "{error}"
    );
    assert!(!error.contains("127.0.0.1"), "{error}");
}

#[tokio::test]
async fn a_closed_port_is_connection_refused() {
    let addr = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let bridge = bridge(&format!("http://{addr}/"), vec![Secret::generate()], true);
    let attempt = transport().deliver(&bridge, &event("evt_closed")).await;
    let (status, error, _) = failed(&attempt.result);
    assert_eq!(status, None);
    assert_eq!(error, "connection refused");
}

#[tokio::test]
async fn a_private_endpoint_is_refused_without_any_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let transport = transport();
    for endpoint in [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://localhost:{port}/hook"),
    ] {
        let bridge = bridge(&endpoint, vec![Secret::generate()], false);
        let attempt = transport.deliver(&bridge, &event("evt_private")).await;
        let (status, error, _) = failed(&attempt.result);
        assert_eq!(status, None);
        assert!(error.starts_with("refused: "), "{error}");
        assert!(error.contains("loopback"), "{error}");
    }
    let connection = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
    assert!(connection.is_err(), "a connection was made");
}
