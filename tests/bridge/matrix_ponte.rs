//! The Matrix bridge end to end through Ponte itself, against a real Synapse: a requester
//! talks to the assistant, asks for a person, the chat is handed to a Matrix room; an agent
//! (through Synapse's client API) joins and replies, and the requester's live feed shows the
//! reply and the agent's name; while Ponte is down the agent writes again, Synapse keeps the
//! transaction and retries it once Ponte is back, and the message is stored once; files go
//! both ways (the agent's picture from the homeserver's media, the requester's document as a
//! link in the room); `!close`
//! ends the chat and the requester is told. Skipped when `PONTE_SYNAPSE_URL` is not set.

use super::matrix::{AS_ADDR, AS_PORT, Agent, BRIDGE_ID, Synapse};
use crate::assistant::shared;
use crate::common::TestApp;
use futures_util::StreamExt;
use ponte::auth::Role;
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const ADMIN: &str = "matrix-admin";

/// Ponte on the application service's address, over `data_dir`, until the sender fires.
async fn serve(
    data_dir: &Path,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let app = TestApp::builder(shared().knowledge.clone())
        .matcher(shared().matcher.clone())
        .data_dir(data_dir)
        .build()
        .await;
    app.register(ADMIN, Role::Admin, "root", &[]);
    let listener = bind().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(async move {
        app.serve(listener, async move {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    (stop, served)
}

/// Binds the AS address, waiting for a previous server's socket to go.
async fn bind() -> tokio::net::TcpListener {
    let started = Instant::now();
    loop {
        match tokio::net::TcpListener::bind(AS_ADDR).await {
            Ok(listener) => return listener,
            Err(error) => {
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "{AS_ADDR}: {error}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn ok(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Value {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {value}");
        value
    }

    async fn view(&self, token: &str, id: &str) -> Value {
        self.ok(
            reqwest::Method::GET,
            &format!("/api/conversations/{id}"),
            token,
            None,
        )
        .await
    }

    async fn messages(&self, token: &str, id: &str) -> Vec<Value> {
        self.ok(
            reqwest::Method::GET,
            &format!("/api/conversations/{id}/messages?after=0"),
            token,
            None,
        )
        .await["messages"]
            .as_array()
            .unwrap()
            .clone()
    }
}

/// Polls `check` every 100 ms for up to 40 s.
async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requester_is_served_from_a_matrix_room_through_ponte() {
    let Some(synapse) = Synapse::from_env() else {
        println!("skipped: PONTE_SYNAPSE_URL is not set");
        return;
    };
    let _port = AS_PORT.lock().await;
    let run = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let http = reqwest::Client::new();
    let agent = Agent::register(&synapse, &http, &format!("desk{run}"), "Bruna Suporte").await;
    let dir = tempfile::tempdir().unwrap();
    let (stop, served) = serve(dir.path()).await;
    let api = Api {
        http: http.clone(),
        base: format!("http://{AS_ADDR}"),
    };
    api.ok(
        reqwest::Method::PUT,
        &format!("/api/admin/bridges/{BRIDGE_ID}"),
        ADMIN,
        Some(json!({
            "kind": "matrix",
            "endpoint": synapse.url,
            "routes": { "groups": ["service-desk"] },
            "allow_private": true,
            "matrix": {
                "as_token": synapse.as_token,
                "hs_token": synapse.hs_token,
                "server_name": "localhost",
                "sender_localpart": "ponte",
                "agents": [agent.user_id],
            },
        })),
    )
    .await;

    // A requester the assistant cannot help asks for a person.
    let issued = api
        .ok(
            reqwest::Method::POST,
            "/api/admin/tokens",
            ADMIN,
            Some(json!({"role": "requester", "subject": format!("maria{run}")})),
        )
        .await;
    let token = issued["token"].as_str().unwrap().to_string();
    let opened = api
        .ok(
            reqwest::Method::POST,
            "/api/conversations",
            &token,
            Some(json!({"language": "pt-BR"})),
        )
        .await;
    let id = opened["conversation"]["id"].as_str().unwrap().to_string();
    api.ok(
        reqwest::Method::POST,
        &format!("/api/conversations/{id}/messages"),
        &token,
        Some(json!({"text": "o leitor de crachá da catraca apita vermelho"})),
    )
    .await;
    api.ok(
        reqwest::Method::POST,
        &format!("/api/conversations/{id}/options"),
        &token,
        Some(json!({"option_id": "talk_to_attendant"})),
    )
    .await;
    assert_eq!(api.view(&token, &id).await["status"], "bridged");
    let seen = api.messages(&token, &id).await.last().unwrap()["seq"]
        .as_i64()
        .unwrap();

    // The requester's live feed, from here on.
    let feed = http
        .get(format!(
            "{}/api/conversations/{id}/events?after={seen}",
            api.base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(feed.status().is_success());
    let (frames_tx, mut frames) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let reader = tokio::spawn(async move {
        let mut stream = feed.bytes_stream();
        let mut buffer = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let frame: String = buffer.drain(..end + 2).collect();
                for line in frame.lines() {
                    if let Some(data) = line.strip_prefix("data:")
                        && let Ok(value) = serde_json::from_str::<Value>(data.trim())
                    {
                        let _ = frames_tx.send(value);
                    }
                }
            }
        }
    });

    // The room appears with the agent invited; the agent joins and replies. (The first sync
    // waits for the delivery: Synapse caches an initial sync's answer for a while.)
    until("handoff.requested delivered", || async {
        let delivered = api
            .ok(
                reqwest::Method::GET,
                &format!("/api/admin/bridges/{BRIDGE_ID}/deliveries?status=delivered"),
                ADMIN,
                None,
            )
            .await;
        !delivered["events"].as_array().unwrap().is_empty()
    })
    .await;
    let started = Instant::now();
    let room = loop {
        if let Some(room) = agent.invited_rooms().await.into_iter().next() {
            break room;
        }
        if started.elapsed() > Duration::from_secs(40) {
            let deliveries = api
                .ok(
                    reqwest::Method::GET,
                    &format!("/api/admin/bridges/{BRIDGE_ID}/deliveries"),
                    ADMIN,
                    None,
                )
                .await;
            panic!("no invite reached the agent; deliveries: {deliveries}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    agent.join(&room).await;
    until("the accept", || async {
        api.view(&token, &id).await["machine_view"]["attendant"] == "Bruna Suporte"
    })
    .await;
    assert_eq!(
        api.view(&token, &id).await["machine_view"]["status"],
        "online"
    );
    let transcript = agent
        .bodies_from(&room, "@ponte:localhost")
        .await
        .join("\n");
    assert!(transcript.contains("o leitor de crachá"), "{transcript}");
    agent
        .say(&room, &format!("r1-{run}"), "Olá Maria, já estou vendo.")
        .await;
    let started = Instant::now();
    let mut announced = None;
    let reply = loop {
        let frame = tokio::time::timeout(Duration::from_secs(30), frames.recv())
            .await
            .expect("a live frame")
            .expect("the feed is open");
        if frame["type"] == "attendant" {
            announced = Some(frame.clone());
        }
        if frame["message"]["sender_kind"] == "attendant" {
            break frame["message"].clone();
        }
        assert!(started.elapsed() < Duration::from_secs(30));
    };
    assert_eq!(reply["body"], "Olá Maria, já estou vendo.");
    // The feed announced the agent as the desk announces its attendants.
    let announced = announced.expect("an attendant frame before the reply");
    assert_eq!(announced["name"], "Bruna Suporte");
    assert_eq!(announced["status"], "online");

    // The requester answers: it reaches the room once.
    api.ok(
        reqwest::Method::POST,
        &format!("/api/conversations/{id}/messages"),
        &token,
        Some(json!({"text": "obrigada, fico no aguardo"})),
    )
    .await;
    until("the requester's message in the room", || async {
        agent
            .bodies_from(&room, "@ponte:localhost")
            .await
            .iter()
            .any(|body| body.contains("obrigada, fico no aguardo"))
    })
    .await;

    // Files both ways. The agent posts a picture: Ponte fetches it from the homeserver's
    // media (as the application service) and the requester downloads the same bytes.
    let picture = b"\x89PNG\r\n\x1a\n not really a picture, but typed as one".to_vec();
    let mxc = agent.upload("tela.png", "image/png", picture.clone()).await;
    agent
        .send(
            &room,
            &format!("p1-{run}"),
            json!({"msgtype": "m.image", "body": "tela.png", "url": mxc,
                   "info": {"mimetype": "image/png", "size": picture.len()}}),
        )
        .await;
    until("the agent's picture", || async {
        api.messages(&token, &id)
            .await
            .iter()
            .any(|m| m["body"] == "📎 tela.png")
    })
    .await;
    let shown = api
        .messages(&token, &id)
        .await
        .into_iter()
        .find(|m| m["body"] == "📎 tela.png")
        .unwrap();
    let file_id = shown["payload"]["attachment"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let downloaded = http
        .get(format!("{}/api/attachments/{file_id}", api.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(downloaded.status().is_success());
    assert_eq!(downloaded.bytes().await.unwrap().to_vec(), picture);
    // The requester sends a document: the room gets a link the agent can open.
    let document = b"%PDF-1.4 comprovante".to_vec();
    let uploaded = http
        .post(format!(
            "{}/api/conversations/{id}/attachments?name=comprovante.pdf",
            api.base
        ))
        .bearer_auth(&token)
        .header("content-type", "application/pdf")
        .body(document.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status().as_u16(), 201);
    until("the requester's document in the room", || async {
        agent
            .bodies_from(&room, "@ponte:localhost")
            .await
            .iter()
            .any(|body| body.contains("comprovante.pdf"))
    })
    .await;
    let posted = agent
        .bodies_from(&room, "@ponte:localhost")
        .await
        .into_iter()
        .find(|body| body.contains("comprovante.pdf"))
        .unwrap();
    let link = posted
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("a link in {posted:?}"));
    let fetched = http.get(link).send().await.unwrap();
    assert!(fetched.status().is_success(), "{link}");
    assert_eq!(fetched.bytes().await.unwrap().to_vec(), document);

    // Ponte goes down; the agent writes; Synapse holds the transaction and retries it once
    // Ponte is back on the same data.
    let _ = stop.send(());
    served.await.unwrap();
    reader.abort();
    agent
        .say(&room, &format!("r2-{run}"), "Conseguiu testar de novo?")
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (stop, served) = serve(dir.path()).await;
    let ping = http
        .post(format!(
            "{}/_matrix/client/v1/appservice/{BRIDGE_ID}/ping",
            synapse.url
        ))
        .bearer_auth(&synapse.as_token)
        .json(&json!({"transaction_id": format!("ping{run}")}))
        .send()
        .await
        .unwrap();
    assert!(ping.status().is_success(), "{:?}", ping.text().await);
    until("the message held by Synapse", || async {
        api.messages(&token, &id)
            .await
            .iter()
            .any(|m| m["body"] == "Conseguiu testar de novo?")
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let from_agent: Vec<String> = api
        .messages(&token, &id)
        .await
        .iter()
        .filter(|m| m["sender_kind"] == "attendant")
        .map(|m| m["body"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        from_agent,
        [
            "Olá Maria, já estou vendo.",
            "📎 tela.png",
            "Conseguiu testar de novo?"
        ]
    );

    // The agent closes; the requester is told.
    agent
        .say(&room, &format!("r3-{run}"), "!close resolvido")
        .await;
    until("the close", || async {
        api.view(&token, &id).await["status"] == "finished"
    })
    .await;
    let last = api.messages(&token, &id).await.last().unwrap().clone();
    assert_eq!(
        last["body"],
        "Esta conversa foi encerrada. Obrigada pelo contato!"
    );
    let _ = stop.send(());
    served.await.unwrap();
}
