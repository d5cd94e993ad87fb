//! The bridges to external desks in the browser: a requester handed to an external desk sees
//! the agent's name, the filled status dot and the agent's messages in the widget; an
//! administrator watches the bridges' health on `/admin/bridges`, disables one, reads a dead
//! event's attempts and replays it. The external desks are loopback HTTP servers run by the
//! test; their events are posted signed, as a desk would.

use super::harness::{
    ADMIN, Driver, Server, click, driver_or_skip, eval, screenshot, shown, type_and_enter, until,
};
use super::{open_widget, widget_conversation};
use fantoccini::Locator;
use ponte::bridge::signature::Secret;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An external desk's receiver: answers every event with the status it is set to, and keeps
/// the `type` of each event it got.
struct Receiver {
    url: String,
    status: Arc<AtomicU16>,
    got: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start(status: u16) -> Receiver {
        let status = Arc::new(AtomicU16::new(status));
        let got = Arc::new(Mutex::new(Vec::new()));
        let (answer, seen) = (status.clone(), got.clone());
        let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
            let (answer, seen) = (answer.clone(), seen.clone());
            async move {
                let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                seen.lock()
                    .unwrap()
                    .push(event["type"].as_str().unwrap_or_default().to_string());
                axum::http::StatusCode::from_u16(answer.load(Ordering::SeqCst)).unwrap()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/ponte", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver {
            url,
            status,
            got,
            task,
        }
    }

    fn got(&self) -> Vec<String> {
        self.got.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Defines the webhook bridge `id` to `receiver`, taking the hand-offs of `groups`.
async fn define_bridge(server: &Server, id: &str, url: &str, inbound: &Secret, groups: &[&str]) {
    server
        .ok(
            "PUT",
            &format!("/api/admin/bridges/{id}"),
            ADMIN,
            Some(json!({
                "kind": "webhook",
                "endpoint": url,
                "outbound_secrets": [Secret::generate().expose()],
                "inbound_secrets": [inbound.expose()],
                "routes": { "groups": groups },
                "allow_private": true,
            })),
        )
        .await;
}

/// Posts an external desk's event to `/api/bridges/{bridge}/events`, signed with `secret`.
async fn post_event(server: &Server, bridge: &str, secret: &Secret, kind: &str, data: Value) {
    let body = serde_json::to_vec(
        &json!({ "type": kind, "timestamp": "2026-12-06T04:00:00Z", "data": data }),
    )
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let webhook_id = format!("msg_e2e_{}", now.as_nanos());
    let timestamp = now.as_secs() as i64;
    let response = reqwest::Client::new()
        .post(server.url(&format!("/api/bridges/{bridge}/events")))
        .header("content-type", "application/json")
        .header("webhook-id", &webhook_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            secret.sign(&webhook_id, timestamp, &body),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let answer = response.text().await.unwrap_or_default();
    assert_eq!(status, 200, "{kind}: {answer}");
}

/// Waits until `check` holds, polling every 100 ms.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + super::harness::PATIENCE;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A requester (through the API) who could not be helped and asked for a person.
async fn hand_off_through_the_api(server: &Server, subject: &str) -> String {
    let issued = server
        .ok(
            "POST",
            "/api/admin/tokens",
            ADMIN,
            Some(json!({ "role": "requester", "subject": subject })),
        )
        .await;
    let token = issued["token"].as_str().unwrap().to_string();
    let opened = server
        .ok(
            "POST",
            "/api/conversations",
            &token,
            Some(json!({ "language": "en" })),
        )
        .await;
    let id = opened["conversation"]["id"].as_str().unwrap().to_string();
    server
        .ok(
            "POST",
            &format!("/api/conversations/{id}/messages"),
            &token,
            Some(json!({ "text": "tell me a joke about penguins" })),
        )
        .await;
    server
        .ok(
            "POST",
            &format!("/api/conversations/{id}/options"),
            &token,
            Some(json!({ "option_id": "talk_to_attendant" })),
        )
        .await;
    id
}

/// A bridge as the admin API shows it.
async fn bridge_state(server: &Server, id: &str) -> Value {
    server
        .ok("GET", &format!("/api/admin/bridges/{id}"), ADMIN, None)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_names_an_external_desks_agent_and_shows_their_messages() {
    let Some(path) = driver_or_skip("the_widget_names_an_external_desks_agent_...") else {
        return;
    };
    let server = Server::start().await;
    let receiver = Receiver::start(204).await;
    let inbound = Secret::generate();
    define_bridge(&server, "desk", &receiver.url, &inbound, &["service-desk"]).await;
    let driver = Driver::start(&path).await;
    let requester = driver.browser(1280, 900, "en-US").await;

    // Nothing the assistant knows: the requester asks for a person, and the chat goes to the
    // external desk.
    open_widget(&requester, &server).await;
    type_and_enter(&requester, "#ponte-input", "tell me a joke about penguins").await;
    click(
        &requester,
        "#ponte-log .ponte-option[data-option=\"talk_to_attendant\"]:not(:disabled)",
    )
    .await;
    let conversation = widget_conversation(&requester).await;
    eventually("the hand-off delivered to the external desk", || async {
        receiver
            .got()
            .iter()
            .any(|kind| kind == "handoff.requested")
    })
    .await;
    assert_eq!(
        eval(
            &requester,
            "document.querySelector('#ponte-status').classList.contains('ponte-dot-online')"
        )
        .await,
        json!(false),
        "online before anybody accepted"
    );

    // An agent of the external desk accepts, then writes.
    post_event(
        &server,
        "desk",
        &inbound,
        "agent.accepted",
        json!({ "conversation_id": conversation, "agent": { "name": "Ana Externa" } }),
    )
    .await;
    until(
        &requester,
        "the agent's name in the widget's header",
        "document.querySelector('#ponte-title').textContent === 'Ana Externa'",
    )
    .await;
    until(
        &requester,
        "the filled dot",
        "document.querySelector('#ponte-status').classList.contains('ponte-dot-online')",
    )
    .await;
    until(
        &requester,
        "the joined line",
        "document.querySelector('#ponte-log').textContent.includes('Ana Externa joined')",
    )
    .await;
    post_event(
        &server,
        "desk",
        &inbound,
        "agent.message",
        json!({
            "conversation_id": conversation, "id": "ext-1",
            "agent": { "name": "Ana Externa" },
            "text": "Hi, this is Ana from the service desk. What does the penguin say?",
        }),
    )
    .await;
    until(
        &requester,
        "the agent's message in the widget",
        "Array.from(document.querySelectorAll('#ponte-log .ponte-from-attendant')).some(m => m.textContent.includes('What does the penguin say?'))",
    )
    .await;
    let label = eval(
        &requester,
        "document.querySelector('#ponte-status').getAttribute('aria-label')",
    )
    .await;
    assert_eq!(label, json!("Attendant online"));
    screenshot(&requester, "widget-bridged").await;

    // A reload keeps the name in the header.
    requester.refresh().await.unwrap();
    click(&requester, "#ponte-talk").await;
    until(
        &requester,
        "the agent's name after a reload",
        "document.querySelector('#ponte-title').textContent === 'Ana Externa' && document.querySelector('#ponte-status').classList.contains('ponte-dot-online')",
    )
    .await;
    requester.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bridges_page_shows_health_disables_a_bridge_and_replays_a_dead_event() {
    let Some(path) = driver_or_skip("the_bridges_page_...") else {
        return;
    };
    // Two attempts, 100 ms apart, then an event is dead.
    let server =
        Server::start_with_config(Some("[bridge_delivery]\nretry_delays_ms = [0, 100]\n")).await;
    let healthy = Receiver::start(204).await;
    let failing = Receiver::start(500).await;
    let inbound = Secret::generate();

    // The healthy bridge delivers one hand-off, then gives the group to the failing one,
    // whose hand-off dies.
    define_bridge(
        &server,
        "healthy",
        &healthy.url,
        &inbound,
        &["service-desk"],
    )
    .await;
    hand_off_through_the_api(&server, "requester-one").await;
    eventually("the healthy bridge's delivery", || async {
        bridge_state(&server, "healthy").await["health"]["last_success_at"].is_i64()
    })
    .await;
    define_bridge(&server, "healthy", &healthy.url, &inbound, &["other-group"]).await;
    define_bridge(
        &server,
        "failing",
        &failing.url,
        &inbound,
        &["service-desk"],
    )
    .await;
    hand_off_through_the_api(&server, "requester-two").await;
    eventually("the failing bridge's dead event", || async {
        bridge_state(&server, "failing").await["health"]["dead"] == json!(1)
    })
    .await;
    let dead = server
        .ok(
            "GET",
            "/api/admin/bridges/failing/deliveries?status=dead",
            ADMIN,
            None,
        )
        .await;
    let dead_id = dead["events"][0]["id"].as_str().unwrap().to_string();

    // The administrator signs in and sees both bridges with their health.
    let driver = Driver::start(&path).await;
    let admin = driver.browser(1400, 1000, "en-US").await;
    admin.goto(&server.url("/admin/bridges")).await.unwrap();
    shown(&admin, "#signin-token")
        .await
        .send_keys(ADMIN)
        .await
        .unwrap();
    click(&admin, "#signin-submit").await;
    shown(&admin, "#bridge-list tr[data-bridge-id=\"failing\"]").await;
    shown(&admin, "#bridge-list tr[data-bridge-id=\"healthy\"]").await;
    let row = |id: &str| {
        format!(
            "Array.from(document.querySelectorAll('#bridge-list tr[data-bridge-id=\"{id}\"] > *')).map(c => c.textContent.trim())"
        )
    };
    let failing_row: Vec<String> =
        serde_json::from_value(eval(&admin, &row("failing")).await).unwrap();
    let healthy_row: Vec<String> =
        serde_json::from_value(eval(&admin, &row("healthy")).await).unwrap();
    // Bridge, kind, endpoint, state, last success, last failure, failures, backlog, dead.
    assert_eq!(failing_row[1], "webhook", "{failing_row:?}");
    assert_eq!(failing_row[2], failing.url, "{failing_row:?}");
    assert_eq!(failing_row[3], "Enabled", "{failing_row:?}");
    assert_eq!(failing_row[4], "never", "{failing_row:?}");
    assert_ne!(failing_row[5], "never", "{failing_row:?}");
    assert_eq!(failing_row[6], "2", "{failing_row:?}");
    assert_eq!(failing_row[8], "1", "{failing_row:?}");
    assert_ne!(healthy_row[4], "never", "{healthy_row:?}");
    assert_eq!(healthy_row[5], "never", "{healthy_row:?}");
    assert_eq!(healthy_row[6], "0", "{healthy_row:?}");
    assert_eq!(healthy_row[8], "0", "{healthy_row:?}");
    let page = eval(&admin, "document.body.textContent").await;
    assert!(
        !page.as_str().unwrap().contains("whsec_"),
        "a secret on the page"
    );

    // Disabling through the button stops the bridge, as the API tells.
    click(&admin, "button[data-toggle=\"healthy\"]").await;
    until(
        &admin,
        "the healthy bridge shown disabled",
        "document.querySelector('#bridge-list tr[data-bridge-id=\"healthy\"]').textContent.includes('Disabled')",
    )
    .await;
    let stopped = bridge_state(&server, "healthy").await;
    assert_eq!(stopped["enabled"], json!(false), "{stopped}");
    assert_eq!(stopped["disabled_reason"], json!("admin"), "{stopped}");
    assert_eq!(
        bridge_state(&server, "failing").await["enabled"],
        json!(true)
    );

    // The failing bridge's dead events, one's attempts with the receiver's 500.
    click(&admin, "button[data-select=\"failing\"]").await;
    admin
        .find(Locator::Css("#delivery-status"))
        .await
        .unwrap()
        .select_by_value("dead")
        .await
        .unwrap();
    let dead_row = format!("#delivery-list tr[data-event-id=\"{dead_id}\"][data-status=\"dead\"]");
    shown(&admin, &dead_row).await;
    let error = shown(&admin, &format!("{dead_row} .br-error-text"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!error.trim().is_empty(), "no last error shown");
    click(&admin, &format!("button[data-attempts=\"{dead_id}\"]")).await;
    until(
        &admin,
        "two attempts answered 500",
        "document.querySelectorAll('#attempt-list tr').length === 2 && Array.from(document.querySelectorAll('#attempt-list tr')).every(r => r.children[2].textContent === '500')",
    )
    .await;
    screenshot(&admin, "bridges").await;

    // The desk is fixed; the replay button delivers the dead event again.
    failing.status.store(204, Ordering::SeqCst);
    click(&admin, &format!("button[data-replay=\"{dead_id}\"]")).await;
    eventually("the replayed event delivered", || async {
        let detail = server
            .ok(
                "GET",
                &format!("/api/admin/bridges/failing/deliveries/{dead_id}"),
                ADMIN,
                None,
            )
            .await;
        detail["event"]["status"] == json!("delivered")
    })
    .await;
    until(
        &admin,
        "the status line telling the replay",
        "document.querySelector('#br-status').textContent.includes('sent back')",
    )
    .await;
    let replays_before = failing.got().len();

    // A range around now sends every delivered or dead event of the bridge back.
    eval(
        &admin,
        "(() => { const local = (ms) => new Date(ms - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 19); \
           document.querySelector('#replay-since').value = local(Date.now() - 3600000); \
           document.querySelector('#replay-until').value = local(Date.now() + 3600000); return true; })()",
    )
    .await;
    click(&admin, "#replay-range").await;
    until(
        &admin,
        "the range replayed",
        "document.querySelector('#br-status').textContent.includes('1 event sent back')",
    )
    .await;
    eventually("the range's event delivered again", || async {
        failing.got().len() > replays_before
    })
    .await;
    admin.close().await.unwrap();

    // The page speaks the browser's language.
    let spanish = driver.browser(1000, 700, "es-ES").await;
    spanish.goto(&server.url("/admin/bridges")).await.unwrap();
    let heading = shown(&spanish, "#signin-heading")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(heading, "Iniciar sesión");
    assert_eq!(
        eval(&spanish, "document.documentElement.lang").await,
        json!("es")
    );
    spanish.close().await.unwrap();
    assert!(
        failing
            .got()
            .iter()
            .filter(|kind| *kind == "handoff.requested")
            .count()
            >= 3,
        "{:?}",
        failing.got()
    );
}
