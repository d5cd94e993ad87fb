//! Two nodes over one SQLite file, each a real server on port 0 with its own store, desk
//! and background follower, and no bus between them: when attendants on both capture the
//! same chat at once, exactly one wins and the other hears it is taken (409), and both
//! nodes then agree on its owner; what is done on one node (people, presence, a chat queued,
//! a capture, a tag, a requester's message marking the chat unread) shows through the
//! other's API within two seconds.

use super::sqlite_at;
use crate::assistant::shared;
use crate::common::TestApp;
use ponte::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};
use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

/// How soon every node must see what another did.
const SEEN_WITHIN: Duration = Duration::from_secs(2);

const ADMIN: &str = "nodes-admin";
const ANA: &str = "nodes-ana";
const BIA: &str = "nodes-bia";
const RAFA: &str = "nodes-rafa";

/// One node: a server over `dir`'s SQLite file.
struct Node {
    base: String,
    client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Node {
    async fn start(dir: &Path) -> Node {
        let app = TestApp::builder(shared().knowledge.clone())
            .matcher(shared().matcher.clone())
            .data_dir(dir)
            .store(sqlite_at(dir).await)
            .build()
            .await;
        // The same people hold the same tokens on every node.
        app.register(ADMIN, Role::Admin, "root", &[]);
        app.register(ANA, Role::Attendant, "ana", &[]);
        app.register(BIA, Role::Attendant, "bia", &[]);
        app.register(RAFA, Role::Requester, "rafa", &[]);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.serve(listener, async move {
            let _ = stopped.await;
        }));
        Node {
            base,
            client: reqwest::Client::new(),
            stop: Some(stop),
            task,
        }
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the node did not stop")
            .unwrap()
            .unwrap();
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn ok(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Value {
        let (status, answer) = self.call(method.clone(), path, token, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {answer}"
        );
        answer
    }

    async fn chats(&self, token: &str, query: &str) -> Vec<Value> {
        let answer = self
            .ok(Method::GET, &format!("/api/desk/chats{query}"), token, None)
            .await;
        answer["chats"].as_array().unwrap().clone()
    }

    /// The chat `id` as the admin sees it on this node, if listed.
    async fn chat(&self, id: &str) -> Option<Value> {
        self.chats(ADMIN, "")
            .await
            .into_iter()
            .find(|chat| chat["conversation_id"] == id)
    }

    async fn person(&self, id: &str) -> Option<Value> {
        let answer = self.ok(Method::GET, "/api/desk/people", ADMIN, None).await;
        answer["people"]
            .as_array()
            .unwrap()
            .iter()
            .find(|person| person["id"] == id)
            .cloned()
    }
}

/// Polls `look` until it gives a value, for at most [`SEEN_WITHIN`].
async fn within<T, F, Fut>(what: &str, mut look: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + SEEN_WITHIN;
    loop {
        if let Some(value) = look().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not seen within {SEEN_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Two nodes where Ana (on `a`) and Bia (on `b`) are online, and Rafa's chat, asked for
/// through `a`, waits in the queue as both nodes see it; its id.
async fn two_nodes_and_a_queued_chat(dir: &Path) -> (Node, Node, String) {
    let a = Node::start(dir).await;
    let b = Node::start(dir).await;
    a.ok(
        Method::PUT,
        "/api/desk/config",
        ADMIN,
        Some(json!({
            "routing": { "default": "queue", "by_group": {} },
            "pause_reasons": ["break", "lunch"],
            "close_reasons": ["resolved"],
        })),
    )
    .await;
    for (id, name) in [("ana", "Ana Souza"), ("bia", "Bia Lima")] {
        a.ok(
            Method::PUT,
            &format!("/api/desk/people/{id}"),
            ADMIN,
            Some(
                json!({ "name": name, "kind": "attendant", "groups": ["desk"],
                         "channels": ["web_chat"], "max_chats": 5 }),
            ),
        )
        .await;
    }
    // People registered through A are known to B.
    let b_ref = &b;
    within("Bia, registered on A, on B", move || b_ref.person("bia")).await;
    let online = Some(json!({ "channel": "web_chat", "state": "online" }));
    a.ok(Method::PUT, "/api/desk/presence", ANA, online.clone())
        .await;
    b.ok(Method::PUT, "/api/desk/presence", BIA, online).await;

    let opened = a
        .ok(
            Method::POST,
            "/api/conversations",
            RAFA,
            Some(json!({ "language": "en" })),
        )
        .await;
    let id = opened["conversation"]["id"].as_str().unwrap().to_string();
    a.ok(
        Method::POST,
        &format!("/api/conversations/{id}/messages"),
        RAFA,
        Some(json!({ "text": "tell me a joke about penguins" })),
    )
    .await;
    a.ok(
        Method::POST,
        &format!("/api/conversations/{id}/options"),
        RAFA,
        Some(json!({ "option_id": "talk_to_attendant" })),
    )
    .await;
    let id_ref = id.as_str();
    within("the chat queued on A, on B", move || async move {
        b_ref
            .chat(id_ref)
            .await
            .filter(|chat| chat["state"] == "queued")
    })
    .await;
    // And presence crossed both ways: Ana (online on A) is online on B and Bia on A.
    for (node, person) in [(&b, "ana"), (&a, "bia")] {
        within("presence set on the other node", move || async move {
            node.person(person)
                .await
                .filter(|person| person["channels"]["web_chat"]["state"] == "online")
        })
        .await;
    }
    (a, b, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_attendants_on_two_nodes_capture_one_chat_and_exactly_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, id) = two_nodes_and_a_queued_chat(dir.path()).await;

    let capture = format!("/api/desk/chats/{id}/capture");
    let ((ana_status, ana_answer), (bia_status, bia_answer)) = tokio::join!(
        a.call(Method::POST, &capture, ANA, None),
        b.call(Method::POST, &capture, BIA, None),
    );
    let (winner, loser_answer) = match (ana_status, bia_status) {
        (200, 409) => ("ana", bia_answer),
        (409, 200) => ("bia", ana_answer),
        other => panic!("expected one 200 and one 409, got {other:?}: {ana_answer} {bia_answer}"),
    };
    assert_eq!(loser_answer["code"], "already_captured", "{loser_answer}");

    let id_ref = id.as_str();
    for node in [&a, &b] {
        within(
            "the winner as the chat's owner on both nodes",
            move || async move {
                node.chat(id_ref)
                    .await
                    .filter(|chat| chat["state"] == "in_progress" && chat["responsible"] == winner)
            },
        )
        .await;
    }
    // The loser took nothing: their load is still zero on both nodes.
    let loser = if winner == "ana" { "bia" } else { "ana" };
    for node in [&a, &b] {
        let person = node.person(loser).await.unwrap();
        assert_eq!(person["active_chats"], 0, "{person}");
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_is_done_on_one_node_shows_on_the_other_within_two_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, id) = two_nodes_and_a_queued_chat(dir.path()).await;

    // A capture and a tag on A.
    a.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/capture"),
        ANA,
        None,
    )
    .await;
    a.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/tags"),
        ANA,
        Some(json!({ "tag": "hardware" })),
    )
    .await;
    let (a_ref, b_ref, id_ref) = (&a, &b, id.as_str());
    within(
        "the capture and the tag made on A, on B",
        move || async move {
            b_ref
                .chat(id_ref)
                .await
                .filter(|chat| chat["responsible"] == "ana" && chat["tags"] == json!(["hardware"]))
        },
    )
    .await;

    // The requester writes through B: the chat is unread for Ana on A.
    b.ok(
        Method::POST,
        &format!("/api/conversations/{id}/messages"),
        RAFA,
        Some(json!({ "text": "my laptop will not start" })),
    )
    .await;
    within("the unread marker set on B, on A", move || async move {
        let alert = a_ref.ok(Method::GET, "/api/desk/alert", ANA, None).await;
        (alert["unread"] == json!([id_ref])).then_some(())
    })
    .await;
    // Ana reads it on A: read on B too.
    a.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/read"),
        ANA,
        None,
    )
    .await;
    within("the read marker set on A, on B", move || async move {
        let alert = b_ref.ok(Method::GET, "/api/desk/alert", ANA, None).await;
        (alert["alert"] == false).then_some(())
    })
    .await;

    // Ana pauses on B: paused on A.
    b.ok(
        Method::PUT,
        "/api/desk/presence",
        ANA,
        Some(json!({ "channel": "web_chat", "state": "paused", "reason": "lunch" })),
    )
    .await;
    within("the pause set on B, on A", move || async move {
        a_ref
            .person("ana")
            .await
            .filter(|person| person["channels"]["web_chat"]["state"] == "paused")
    })
    .await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn someone_registered_on_one_node_may_act_on_the_other_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let a = Node::start(dir.path()).await;
    let b = Node::start(dir.path()).await;
    a.ok(
        Method::PUT,
        "/api/desk/people/ana",
        ADMIN,
        Some(
            json!({ "name": "Ana Souza", "kind": "attendant", "groups": ["desk"],
                     "channels": ["web_chat"], "max_chats": 5 }),
        ),
    )
    .await;
    // No waiting for B's follower: B looks at the shared log before calling Ana unknown.
    b.ok(
        Method::PUT,
        "/api/desk/presence",
        ANA,
        Some(json!({ "channel": "web_chat", "state": "online" })),
    )
    .await;
    a.stop().await;
    b.stop().await;
}
