//! The human desk through the HTTP API, in-process over the bundled knowledge base and a
//! real SQLite file: routing in each mode with 3 attendants and 20 requesters, presence
//! rules, working a chat (capture, transfer, invite, leave, close with a reason, reopen,
//! tags, quick replies, macros, unread markers and the alert), blocking, outbound and
//! analyst chats, attachments and who may read them, and the lost-chat timer across
//! restarts.

mod lost;
mod offline_notice;

use crate::assistant::{orchestrator, shared};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use ponte::attendance::{Attendance, Clock};
use ponte::auth::{Identity, Role, TokenStore};
use ponte::state::AppState;
use ponte::store::Store;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

pub struct Desk {
    pub dir: tempfile::TempDir,
    pub app: axum::Router,
    pub store: Arc<dyn Store>,
    pub auth: Arc<TokenStore>,
    pub attendance: Arc<Attendance>,
    pub admin: String,
}

pub async fn sqlite_at(path: &std::path::Path) -> Arc<dyn Store> {
    let url = format!("sqlite://{}", path.join("ponte.db").display());
    ponte::store::open(&url, Default::default()).await.unwrap()
}

impl Desk {
    pub async fn new() -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let store = sqlite_at(dir.path()).await;
        Desk::on(dir, store, Clock::new()).await
    }

    pub async fn on(dir: tempfile::TempDir, store: Arc<dyn Store>, clock: Clock) -> Desk {
        let chat = Arc::new(orchestrator(store.clone()));
        let attendance = Attendance::open(chat.clone(), dir.path().join("attachments"), clock)
            .await
            .unwrap();
        let auth = Arc::new(TokenStore::new());
        auth.register(
            "admin-secret",
            Identity {
                role: Role::Admin,
                subject: "root".to_string(),
                groups: Vec::new(),
            },
        )
        .unwrap();
        let state = AppState::new(shared().knowledge.clone(), Some(chat), auth.clone())
            .with_attendance(attendance.clone());
        Desk {
            dir,
            app: ponte::http::router(state),
            store,
            auth,
            attendance,
            admin: "admin-secret".to_string(),
        }
    }

    pub async fn raw(
        &self,
        method: Method,
        uri: &str,
        token: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Vec<u8>) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, bytes.to_vec())
    }

    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let bytes = body
            .map(|b| serde_json::to_vec(&b).unwrap())
            .unwrap_or_default();
        let (status, answer) = self
            .raw(method, uri, token, "application/json", bytes)
            .await;
        let value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
        (status, value)
    }

    /// Calls and asserts success.
    pub async fn ok(&self, method: Method, uri: &str, token: &str, body: Option<Value>) -> Value {
        let (status, answer) = self.call(method.clone(), uri, token, body).await;
        assert!(status.is_success(), "{method} {uri}: {status} {answer}");
        answer
    }

    pub fn token(&self, role: Role, subject: &str) -> String {
        self.auth.issue(role, subject, Vec::new()).unwrap()
    }

    pub async fn configure(&self, mode: &str) {
        self.ok(
            Method::PUT,
            "/api/desk/config",
            &self.admin,
            Some(json!({
                "routing": { "default": mode, "by_group": {} },
                "pause_reasons": ["break", "lunch"],
                "close_reasons": ["resolved", "no_response"],
            })),
        )
        .await;
    }

    /// Registers an attendant (web chat, `max_chats`) and returns their token.
    pub async fn attendant(&self, id: &str, name: &str, max_chats: u32) -> String {
        self.ok(
            Method::PUT,
            &format!("/api/desk/people/{id}"),
            &self.admin,
            Some(
                json!({ "name": name, "kind": "attendant", "groups": ["desk"],
                         "channels": ["web_chat", "whatsapp"], "max_chats": max_chats }),
            ),
        )
        .await;
        self.token(Role::Attendant, id)
    }

    pub async fn online(&self, token: &str) {
        self.ok(
            Method::PUT,
            "/api/desk/presence",
            token,
            Some(json!({ "channel": "web_chat", "state": "online" })),
        )
        .await;
    }

    /// A requester who asks for a person: returns (token, conversation id).
    pub async fn queued_requester(&self, subject: &str) -> (String, String) {
        let token = self.token(Role::Requester, subject);
        let opened = self
            .ok(
                Method::POST,
                "/api/conversations",
                &token,
                Some(json!({ "language": "en" })),
            )
            .await;
        let id = opened["conversation"]["id"].as_str().unwrap().to_string();
        self.ok(
            Method::POST,
            &format!("/api/conversations/{id}/messages"),
            &token,
            Some(json!({ "text": "tell me a joke about penguins" })),
        )
        .await;
        self.ok(
            Method::POST,
            &format!("/api/conversations/{id}/options"),
            &token,
            Some(json!({ "option_id": "talk_to_attendant" })),
        )
        .await;
        (token, id)
    }

    pub async fn chats(&self, token: &str, query: &str) -> Vec<Value> {
        let answer = self
            .ok(Method::GET, &format!("/api/desk/chats{query}"), token, None)
            .await;
        answer["chats"].as_array().unwrap().clone()
    }

    pub async fn transcript(&self, token: &str, id: &str) -> Vec<Value> {
        let answer = self
            .ok(
                Method::GET,
                &format!("/api/conversations/{id}/messages?after=0"),
                token,
                None,
            )
            .await;
        answer["messages"].as_array().unwrap().clone()
    }
}

fn code(answer: &Value) -> &str {
    answer["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn queue_mode_serves_first_come_first_served_with_positions() {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    let mut staff = Vec::new();
    for (id, name) in [("ana", "Ana"), ("bia", "Bia"), ("caio", "Caio")] {
        let token = desk.attendant(id, name, 10).await;
        desk.online(&token).await;
        staff.push(token);
    }
    let mut requesters = Vec::new();
    for index in 0..20 {
        requesters.push(desk.queued_requester(&format!("req-{index}")).await);
    }
    let queued = desk.chats(&staff[0], "?state=queued").await;
    assert_eq!(queued.len(), 20);
    for (index, chat) in queued.iter().enumerate() {
        assert_eq!(chat["conversation_id"], requesters[index].1.as_str());
        assert_eq!(chat["position"], index + 1);
    }
    let (token, id) = &requesters[5];
    let status = desk
        .ok(
            Method::GET,
            &format!("/api/conversations/{id}/queue"),
            token,
            None,
        )
        .await;
    assert_eq!(status["position"], 6);
    assert!(status["eta_ms"].as_u64().unwrap() > 0);

    // Attendants capture in any order; positions behind move up.
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{}/capture", requesters[3].1),
        &staff[1],
        None,
    )
    .await;
    let status = desk
        .ok(
            Method::GET,
            &format!("/api/conversations/{id}/queue"),
            token,
            None,
        )
        .await;
    assert_eq!(status["position"], 5);
    let (status, answer) = desk
        .call(
            Method::POST,
            &format!("/api/desk/chats/{}/capture", requesters[3].1),
            &staff[2],
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    // The requester sees who joined and the filled status dot.
    let transcript = desk.transcript(&requesters[3].0, &requesters[3].1).await;
    assert!(
        transcript
            .iter()
            .any(|m| m["body"].as_str().unwrap().contains("Bia"))
    );
    let view = desk
        .ok(
            Method::GET,
            &format!("/api/conversations/{}", requesters[3].1),
            &requesters[3].0,
            None,
        )
        .await;
    assert_eq!(view["machine_view"]["status"], "online", "{view}");
    for (position, token) in staff.iter().enumerate() {
        let mine = desk
            .chats(
                token,
                &format!(
                    "?state=in_progress&attendant={}",
                    ["ana", "bia", "caio"][position]
                ),
            )
            .await;
        assert_eq!(mine.len(), usize::from(position == 1));
    }
}

#[tokio::test]
async fn automatic_mode_offers_each_chat_to_the_least_busy_available_attendant() {
    let desk = Desk::new().await;
    desk.configure("automatic").await;
    let ana = desk.attendant("ana", "Ana", 10).await;
    let bia = desk.attendant("bia", "Bia", 10).await;
    let caio = desk.attendant("caio", "Caio", 10).await;
    desk.online(&ana).await;
    desk.online(&bia).await;
    desk.online(&caio).await;
    // Caio pauses: he gets nothing.
    let (status, answer) = desk
        .call(
            Method::PUT,
            "/api/desk/presence",
            &caio,
            Some(json!({ "channel": "web_chat", "state": "paused" })),
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::UNPROCESSABLE_ENTITY, "pause_reason_required")
    );
    let (status, answer) = desk
        .call(
            Method::PUT,
            "/api/desk/presence",
            &caio,
            Some(json!({ "channel": "web_chat", "state": "paused", "reason": "nap" })),
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_pause_reason")
    );
    let paused = desk
        .ok(
            Method::PUT,
            "/api/desk/presence",
            &caio,
            Some(json!({ "channel": "web_chat", "state": "paused", "reason": "lunch" })),
        )
        .await;
    // Pausing one channel paused the one that shares its queue? web chat and WhatsApp have
    // their own queues here, so WhatsApp stays offline and the counts say so.
    assert_eq!(
        paused["channels"]["web_chat"]["state"], "paused",
        "{paused}"
    );
    assert_eq!(paused["channels_enabled"], 2);

    for index in 0..20 {
        desk.queued_requester(&format!("auto-{index}")).await;
    }
    let ana_chats = desk
        .chats(&ana, "?state=in_progress&attendant=ana")
        .await
        .len();
    let bia_chats = desk
        .chats(&bia, "?state=in_progress&attendant=bia")
        .await
        .len();
    let caio_chats = desk
        .chats(&caio, "?state=in_progress&attendant=caio")
        .await
        .len();
    assert_eq!((ana_chats, bia_chats, caio_chats), (10, 10, 0));
    // Both are full now: the rest wait in the queue.
    assert_eq!(desk.chats(&ana, "?state=queued").await.len(), 0);
    let (_, extra) = desk.queued_requester("auto-extra").await;
    let queued = desk.chats(&ana, "?state=queued").await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0]["conversation_id"], extra.as_str());
    // Caio comes back: the waiting chat is offered to him.
    desk.online(&caio).await;
    let caio_chats = desk.chats(&caio, "?state=in_progress&attendant=caio").await;
    assert_eq!(caio_chats.len(), 1);
    assert_eq!(caio_chats[0]["conversation_id"], extra.as_str());
}

#[tokio::test]
async fn manual_mode_lets_the_requester_pick_and_accept_another() {
    let desk = Desk::new().await;
    desk.configure("manual").await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    let bia = desk.attendant("bia", "Bia", 5).await;
    let _caio = desk.attendant("caio", "Caio", 5).await;
    desk.online(&ana).await;
    desk.online(&bia).await;
    // Manual routing offers the specialists linked to the requester's project: its owner,
    // its assistant and its service group.
    desk.ok(
        Method::PUT,
        "/api/desk/projects/acme",
        &desk.admin,
        Some(json!({ "name": "Acme", "owner": "ana", "service_group": "desk" })),
    )
    .await;
    let mut picked = 0;
    for index in 0..20 {
        desk.ok(
            Method::PUT,
            &format!("/api/desk/contacts/man-{index}"),
            &desk.admin,
            Some(json!({ "name": format!("Requester {index}"), "project_id": "acme" })),
        )
        .await;
        let (token, id) = desk.queued_requester(&format!("man-{index}")).await;
        let status = desk
            .ok(
                Method::GET,
                &format!("/api/conversations/{id}/queue"),
                &token,
                None,
            )
            .await;
        let candidates: Vec<&str> = status["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        if picked < 8 {
            // Offline Caio is never offered.
            assert!(!candidates.contains(&"caio"), "{status}");
            let person = candidates[index % candidates.len()];
            let chosen = desk
                .ok(
                    Method::POST,
                    &format!("/api/conversations/{id}/specialist"),
                    &token,
                    Some(json!({ "person": person })),
                )
                .await;
            assert_eq!(chosen["responsible"]["id"], person);
            picked += 1;
        }
        if index == 19 {
            // A forged choice of someone not offered is refused.
            let (status, answer) = desk
                .call(
                    Method::POST,
                    &format!("/api/conversations/{id}/specialist"),
                    &token,
                    Some(json!({ "person": "caio" })),
                )
                .await;
            assert_eq!(status, StatusCode::CONFLICT, "{answer}");
            // Bia declines; the requester may accept Ana.
            desk.ok(
                Method::POST,
                &format!("/api/conversations/{id}/specialist"),
                &token,
                Some(json!({ "person": "bia" })),
            )
            .await;
            desk.ok(
                Method::POST,
                &format!("/api/desk/chats/{id}/decline"),
                &bia,
                None,
            )
            .await;
            let status = desk
                .ok(
                    Method::GET,
                    &format!("/api/conversations/{id}/queue"),
                    &token,
                    None,
                )
                .await;
            let offered: Vec<&str> = status["candidates"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap())
                .collect();
            assert_eq!(offered, vec!["ana"], "{status}");
            let chosen = desk
                .ok(
                    Method::POST,
                    &format!("/api/conversations/{id}/specialist"),
                    &token,
                    Some(json!({ "person": "ana" })),
                )
                .await;
            assert_eq!(chosen["responsible"]["id"], "ana");
        }
    }
    assert_eq!(desk.chats(&ana, "?state=queued").await.len(), 11);
}

#[tokio::test]
async fn working_a_chat_transfer_invite_tags_unread_and_close_with_a_reason() {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    let ana = desk.attendant("ana", "Ana Souza", 5).await;
    let bia = desk.attendant("bia", "Bia Lima", 5).await;
    desk.online(&ana).await;
    desk.online(&bia).await;
    let (requester, id) = desk.queued_requester("rafa").await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/capture"),
        &ana,
        None,
    )
    .await;

    // The requester writes: unread for Ana, the alert lights up; reading clears it.
    desk.ok(
        Method::POST,
        &format!("/api/conversations/{id}/messages"),
        &requester,
        Some(json!({ "text": "my laptop will not start" })),
    )
    .await;
    let alert = desk.ok(Method::GET, "/api/desk/alert", &ana, None).await;
    assert_eq!(alert["alert"], true);
    assert_eq!(alert["unread"][0], id.as_str());
    assert_eq!(
        desk.chats(&ana, "?state=in_progress").await[0]["unread"],
        true
    );
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/read"),
        &ana,
        None,
    )
    .await;
    assert_eq!(
        desk.ok(Method::GET, "/api/desk/alert", &ana, None).await["alert"],
        false
    );

    // Quick reply: the shortcut is sent as its text in the conversation's language.
    desk.ok(
        Method::PUT,
        "/api/desk/quick-replies/hello",
        &ana,
        Some(json!({ "texts": { "en": "Hello! How can I help?", "pt-BR": "Olá! Como posso ajudar?" } })),
    )
    .await;
    let sent = desk
        .ok(
            Method::POST,
            &format!("/api/desk/chats/{id}/messages"),
            &ana,
            Some(json!({ "text": "/hello" })),
        )
        .await;
    assert_eq!(sent["messages"][0]["body"], "Hello! How can I help?");
    let transcript = desk.transcript(&requester, &id).await;
    assert_eq!(transcript.last().unwrap()["body"], "Hello! How can I help?");
    assert_eq!(transcript.last().unwrap()["sender_kind"], "attendant");

    // Tags, invite by @name, leave, transfer.
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/tags"),
        &ana,
        Some(json!({ "tag": "hardware" })),
    )
    .await;
    let invited = desk
        .ok(
            Method::POST,
            &format!("/api/desk/chats/{id}/invite"),
            &ana,
            Some(json!({ "name": "@Bia Lima" })),
        )
        .await;
    assert_eq!(invited["participants"], json!(["bia"]));
    let search = desk
        .ok(
            Method::GET,
            &format!("/api/desk/chats/{id}/messages?q=LAPTOP"),
            &bia,
            None,
        )
        .await;
    assert_eq!(search["messages"].as_array().unwrap().len(), 1);
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/leave"),
        &bia,
        None,
    )
    .await;
    let (status, answer) = desk
        .call(
            Method::POST,
            &format!("/api/desk/chats/{id}/leave"),
            &ana,
            None,
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::CONFLICT, "responsible_cannot_leave")
    );
    let moved = desk
        .ok(
            Method::POST,
            &format!("/api/desk/chats/{id}/transfer"),
            &ana,
            Some(json!({ "to": "bia" })),
        )
        .await;
    assert_eq!(moved["responsible"], "bia");
    assert_eq!(moved["tags"], json!(["hardware"]));
    // The transcript stays whole for the new responsible.
    let seen = desk
        .ok(
            Method::GET,
            &format!("/api/desk/chats/{id}/messages"),
            &bia,
            None,
        )
        .await;
    assert!(seen["messages"].as_array().unwrap().len() >= transcript.len());

    // Close: a reason is required, then the closing message reaches the requester.
    let (status, answer) = desk
        .call(
            Method::POST,
            &format!("/api/desk/chats/{id}/close"),
            &bia,
            Some(json!({ "reason": "" })),
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::UNPROCESSABLE_ENTITY, "close_reason_required")
    );
    let (status, answer) = desk
        .call(
            Method::POST,
            &format!("/api/desk/chats/{id}/close"),
            &bia,
            Some(json!({ "reason": "because" })),
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_close_reason")
    );
    let closed = desk
        .ok(
            Method::POST,
            &format!("/api/desk/chats/{id}/close"),
            &bia,
            Some(json!({ "reason": "resolved", "closing_message": "Glad it works again. Bye!" })),
        )
        .await;
    assert_eq!(closed["state"], "closed");
    let transcript = desk.transcript(&requester, &id).await;
    let bodies: Vec<&str> = transcript
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert!(bodies.contains(&"Glad it works again. Bye!"), "{bodies:?}");
    let (status, answer) = desk
        .call(
            Method::POST,
            &format!("/api/conversations/{id}/messages"),
            &requester,
            Some(json!({ "text": "thanks" })),
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::CONFLICT, "conversation_finished")
    );
    assert_eq!(desk.chats(&ana, "?state=closed").await.len(), 1);
    // Search the attendance list by the ticket the hand-off opened.
    let ticket = closed["ticket"]
        .as_str()
        .expect("the chat knows its ticket");
    let found = desk.chats(&ana, &format!("?ticket={ticket}")).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["conversation_id"], id.as_str());
    assert!(desk.chats(&ana, "?ticket=T-999999").await.is_empty());
}

#[tokio::test]
async fn macros_run_all_their_steps_or_none() {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    desk.online(&ana).await;
    let (requester, id) = desk.queued_requester("mika").await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/capture"),
        &ana,
        None,
    )
    .await;
    desk.ok(
        Method::PUT,
        "/api/desk/quick-replies/bye",
        &ana,
        Some(json!({ "texts": { "en": "Closing now, bye." } })),
    )
    .await;
    desk.ok(
        Method::PUT,
        "/api/desk/macros/wrap-up",
        &ana,
        Some(json!({ "name": "Wrap up", "actions": [
            { "action": "tag", "tag": "solved-by-macro" },
            { "action": "send_quick_reply", "shortcut": "/bye" },
            { "action": "close", "reason": "resolved" }
        ] })),
    )
    .await;
    desk.ok(
        Method::PUT,
        "/api/desk/macros/broken",
        &ana,
        Some(json!({ "name": "Broken", "actions": [
            { "action": "tag", "tag": "never" },
            { "action": "transfer", "to": "nobody" }
        ] })),
    )
    .await;
    let (status, _) = desk
        .call(
            Method::POST,
            &format!("/api/desk/chats/{id}/macros/broken"),
            &ana,
            None,
        )
        .await;
    assert!(!status.is_success());
    let chat = &desk.chats(&ana, "?state=in_progress").await[0];
    assert_eq!(chat["tags"], json!([]), "a refused macro applied a step");
    let done = desk
        .ok(
            Method::POST,
            &format!("/api/desk/chats/{id}/macros/wrap-up"),
            &ana,
            None,
        )
        .await;
    assert_eq!(done["state"], "closed");
    assert_eq!(done["tags"], json!(["solved-by-macro"]));
    let transcript = desk.transcript(&requester, &id).await;
    assert!(transcript.iter().any(|m| m["body"] == "Closing now, bye."));
}

/// Whether a set of tags holds both of the racing macros' tags or neither.
fn both_or_neither(tags: &std::collections::BTreeSet<String>) -> bool {
    tags.contains("race-a") == tags.contains("race-b")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_macros_never_show_half_of_their_steps() {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    desk.online(&ana).await;
    let (_requester, id) = desk.queued_requester("racer").await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/capture"),
        &ana,
        None,
    )
    .await;
    for (macro_id, action) in [("add-both", "tag"), ("remove-both", "untag")] {
        desk.ok(
            Method::PUT,
            &format!("/api/desk/macros/{macro_id}"),
            &ana,
            Some(json!({ "name": macro_id, "actions": [
                { "action": action, "tag": "race-a" },
                { "action": action, "tag": "race-b" }
            ] })),
        )
        .await;
    }
    let desk = Arc::new(desk);
    let mut racers = Vec::new();
    for round in 0..12 {
        let macro_id = if round % 2 == 0 {
            "add-both"
        } else {
            "remove-both"
        };
        let (runner, token, chat_id) = (desk.clone(), ana.clone(), id.clone());
        racers.push(tokio::spawn(async move {
            runner
                .ok(
                    Method::POST,
                    &format!("/api/desk/chats/{chat_id}/macros/{macro_id}"),
                    &token,
                    None,
                )
                .await;
        }));
        // Plain operations on the same chat between the macros' steps.
        let (tagger, token, chat_id) = (desk.clone(), ana.clone(), id.clone());
        racers.push(tokio::spawn(async move {
            tagger
                .ok(
                    Method::POST,
                    &format!("/api/desk/chats/{chat_id}/tags"),
                    &token,
                    Some(json!({ "tag": "other" })),
                )
                .await;
            tagger
                .ok(
                    Method::DELETE,
                    &format!("/api/desk/chats/{chat_id}/tags/other"),
                    &token,
                    None,
                )
                .await;
        }));
    }
    // Readers look at the chat while the macros run: never half a macro.
    let mut readers = Vec::new();
    for _ in 0..4 {
        let (reader, token, chat_id) = (desk.clone(), ana.clone(), id.clone());
        readers.push(tokio::spawn(async move {
            let mut halves = Vec::new();
            for _ in 0..40 {
                let tags = reader
                    .attendance
                    .book(|book| book.record(&chat_id).map(|record| record.tags.clone()))
                    .await
                    .unwrap_or_default();
                if !both_or_neither(&tags) {
                    halves.push(tags);
                }
                let chat = &reader.chats(&token, "?state=in_progress").await[0];
                let listed: std::collections::BTreeSet<String> =
                    serde_json::from_value(chat["tags"].clone()).unwrap();
                if !both_or_neither(&listed) {
                    halves.push(listed);
                }
                tokio::task::yield_now().await;
            }
            halves
        }));
    }
    for racer in racers {
        racer.await.unwrap();
    }
    let mut halves = Vec::new();
    for reader in readers {
        halves.extend(reader.await.unwrap());
    }
    assert!(
        halves.is_empty(),
        "half-applied macros were seen: {halves:?}"
    );
    let tags = desk
        .attendance
        .book(|book| book.record(&id).unwrap().tags.clone())
        .await;
    assert!(
        both_or_neither(&tags),
        "a macro ended half applied: {tags:?}"
    );
    // The durable log, replayed entry by entry, never holds half a macro either.
    let log = desk.store.desk_load().await.unwrap();
    let mut book = match &log.snapshot {
        Some((state, _)) => serde_json::from_str::<ponte::desk::DeskBook>(state).unwrap(),
        None => ponte::desk::DeskBook::new(Default::default()),
    };
    for (seq, text) in &log.ops {
        let op: ponte::desk::DeskOp = serde_json::from_str(text).unwrap();
        let _ = book.apply(&op);
        if let Some(record) = book.record(&id) {
            assert!(
                both_or_neither(&record.tags),
                "the desk log holds half a macro at entry {seq}: {:?}",
                record.tags
            );
        }
    }
    assert_eq!(book.record(&id).unwrap().tags, tags);
}

#[tokio::test]
async fn a_blocked_contact_is_refused_and_keeps_everything() {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    desk.online(&ana).await;
    let (requester, id) = desk.queued_requester("spammer").await;
    desk.ok(
        Method::PUT,
        "/api/desk/contacts/spammer",
        &ana,
        Some(json!({ "name": "Sam Pérez", "email": "sam@example.com", "contract": "gold", "contract_status": "blocked" })),
    )
    .await;
    let before = desk.transcript(&requester, &id).await.len();
    desk.ok(
        Method::PUT,
        "/api/desk/contacts/spammer/block",
        &ana,
        Some(json!({ "blocked": true })),
    )
    .await;
    let (status, answer) = desk
        .call(
            Method::POST,
            &format!("/api/conversations/{id}/messages"),
            &requester,
            Some(json!({ "text": "buy now" })),
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::FORBIDDEN, "contact_blocked")
    );
    let (status, _) = desk
        .call(
            Method::POST,
            "/api/conversations",
            &requester,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(desk.transcript(&requester, &id).await.len(), before);
    // Contact search ignores accents and case and shows the contract status.
    let found = desk
        .ok(Method::GET, "/api/desk/contacts?q=perez", &ana, None)
        .await;
    assert_eq!(found["contacts"][0]["id"], "spammer");
    assert_eq!(found["contacts"][0]["contract_status"], "blocked");
    assert_eq!(found["contacts"][0]["blocked"], true);
    let listed = desk.chats(&ana, "?contact=PÉREZ").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["contact"]["contract_status"], "blocked");
    // Unblocked, they may write again.
    desk.ok(
        Method::PUT,
        "/api/desk/contacts/spammer/block",
        &ana,
        Some(json!({ "blocked": false })),
    )
    .await;
    desk.ok(
        Method::POST,
        &format!("/api/conversations/{id}/messages"),
        &requester,
        Some(json!({ "text": "sorry" })),
    )
    .await;
}

#[tokio::test]
async fn outbound_and_analyst_chats() {
    let desk = Desk::new().await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    let (status, answer) = desk
        .call(
            Method::POST,
            "/api/desk/outbound",
            &ana,
            Some(json!({ "requester": "lia", "language": "es", "text": "Hola Lía, ¿sigue el problema?" })),
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::CONFLICT, "not_online")
    );
    desk.online(&ana).await;
    let started = desk
        .ok(
            Method::POST,
            "/api/desk/outbound",
            &ana,
            Some(json!({ "requester": "lia", "language": "es", "text": "Hola Lía, ¿sigue el problema?" })),
        )
        .await;
    assert_eq!(started["state"], "in_progress");
    assert_eq!(started["responsible"], "ana");
    let id = started["conversation_id"].as_str().unwrap();
    let lia = desk.token(Role::Requester, "lia");
    let transcript = desk.transcript(&lia, id).await;
    assert_eq!(
        transcript.last().unwrap()["body"],
        "Hola Lía, ¿sigue el problema?"
    );
    // Lia's answer goes to Ana, not to the assistant.
    let answered = desk
        .ok(
            Method::POST,
            &format!("/api/conversations/{id}/messages"),
            &lia,
            Some(json!({ "text": "sí, todavía" })),
        )
        .await;
    assert_eq!(
        answered["messages"].as_array().unwrap().len(),
        1,
        "{answered}"
    );
    assert_eq!(
        desk.ok(Method::GET, "/api/desk/alert", &ana, None).await["alert"],
        true
    );

    // Analysts chat only when each linked the other.
    for (id, name) in [("dan", "Dan"), ("eva", "Eva")] {
        desk.ok(
            Method::PUT,
            &format!("/api/desk/people/{id}"),
            &desk.admin,
            Some(json!({ "name": name, "kind": "analyst", "groups": [], "channels": ["web_chat"], "max_chats": 3 })),
        )
        .await;
    }
    let dan = desk.token(Role::Analyst, "dan");
    let eva = desk.token(Role::Analyst, "eva");
    desk.ok(Method::PUT, "/api/desk/links/eva", &dan, None)
        .await;
    let (status, answer) = desk
        .call(
            Method::POST,
            "/api/desk/analyst-chats",
            &dan,
            Some(json!({ "to": "eva" })),
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::CONFLICT, "not_linked")
    );
    desk.ok(Method::PUT, "/api/desk/links/dan", &eva, None)
        .await;
    let chat = desk
        .ok(
            Method::POST,
            "/api/desk/analyst-chats",
            &dan,
            Some(json!({ "to": "eva" })),
        )
        .await;
    let chat_id = chat["conversation_id"].as_str().unwrap();
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{chat_id}/messages"),
        &dan,
        Some(json!({ "text": "can you look at T-000001?" })),
    )
    .await;
    let seen = desk
        .ok(
            Method::GET,
            &format!("/api/desk/chats/{chat_id}/messages"),
            &eva,
            None,
        )
        .await;
    assert_eq!(seen["messages"][0]["body"], "can you look at T-000001?");
    let (status, _) = desk
        .call(
            Method::GET,
            &format!("/api/desk/chats/{chat_id}/messages"),
            &ana,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn only_participants_read_a_conversation_and_its_attachments() {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    let bia = desk.attendant("bia", "Bia", 5).await;
    desk.online(&ana).await;
    desk.online(&bia).await;
    let (requester, id) = desk.queued_requester("nina").await;
    let stranger = desk.token(Role::Requester, "stranger");
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/capture"),
        &ana,
        None,
    )
    .await;

    let png = b"\x89PNG\r\n\x1a\nnot really an image".to_vec();
    let (status, body) = desk
        .raw(
            Method::POST,
            &format!("/api/conversations/{id}/attachments?name=../../screen.png"),
            &requester,
            "image/png",
            png.clone(),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let uploaded: Value = serde_json::from_slice(&body).unwrap();
    let attachment = uploaded["attachment"]["id"].as_str().unwrap().to_string();
    assert_eq!(uploaded["attachment"]["file_name"], "screen.png");
    assert_eq!(uploaded["attachment"]["kind"], "image");

    // Refused kinds and sizes.
    let (status, body) = desk
        .raw(
            Method::POST,
            &format!("/api/conversations/{id}/attachments?name=x.exe"),
            &requester,
            "application/x-msdownload",
            b"MZ".to_vec(),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let (status, _) = desk
        .raw(
            Method::POST,
            &format!("/api/conversations/{id}/attachments?name=big.png"),
            &requester,
            "image/png",
            vec![0u8; 11 * 1024 * 1024],
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _) = desk
        .raw(
            Method::POST,
            &format!("/api/conversations/{id}/attachments?name=x.png"),
            &stranger,
            "image/png",
            png.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let download = format!("/api/attachments/{attachment}");
    for (token, allowed) in [
        (&requester, true),
        (&ana, true),
        (&bia, false),
        (&stranger, false),
    ] {
        let (status, body) = desk
            .raw(
                Method::GET,
                &download,
                token,
                "application/json",
                Vec::new(),
            )
            .await;
        if allowed {
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body, png);
        } else {
            assert_eq!(status, StatusCode::FORBIDDEN);
        }
    }
    // Nor may outsiders read the transcript or follow it live; Ana, who serves it, may (after
    // a transfer she still may read the history).
    for (path, token, expected) in [
        (
            format!("/api/desk/chats/{id}/messages"),
            &bia,
            StatusCode::FORBIDDEN,
        ),
        (
            format!("/api/conversations/{id}/messages"),
            &stranger,
            StatusCode::FORBIDDEN,
        ),
        (
            format!("/api/conversations/{id}/events"),
            &bia,
            StatusCode::FORBIDDEN,
        ),
        (
            format!("/api/desk/chats/{id}/messages"),
            &ana,
            StatusCode::OK,
        ),
    ] {
        let (status, _) = desk.call(Method::GET, &path, token, None).await;
        assert_eq!(status, expected, "GET {path}");
    }
}

#[tokio::test]
async fn the_desk_survives_a_restart_from_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_at(dir.path()).await;
    let desk = Desk::on(dir, store, Clock::new()).await;
    desk.configure("queue").await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    desk.online(&ana).await;
    let (_, first) = desk.queued_requester("r1").await;
    let (_, second) = desk.queued_requester("r2").await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{first}/capture"),
        &ana,
        None,
    )
    .await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{first}/tags"),
        &ana,
        Some(json!({ "tag": "vip" })),
    )
    .await;
    let before = desk.chats(&ana, "").await;
    let Desk { dir, store, .. } = desk;
    store.close().await;
    let store = sqlite_at(dir.path()).await;
    let desk = Desk::on(dir, store, Clock::new()).await;
    let ana = desk.token(Role::Attendant, "ana");
    let after = desk.chats(&ana, "").await;
    let strip = |chats: &[Value]| -> Vec<Value> {
        chats
            .iter()
            .map(|chat| {
                let mut chat = chat.clone();
                chat.as_object_mut().unwrap().remove("eta_ms");
                chat
            })
            .collect()
    };
    assert_eq!(strip(&after), strip(&before));
    assert_eq!(after[0]["conversation_id"], second.as_str());
}

#[tokio::test]
async fn pausing_a_channel_pauses_the_channels_sharing_its_queue() {
    let desk = Desk::new().await;
    desk.ok(
        Method::PUT,
        "/api/desk/config",
        &desk.admin,
        Some(json!({
            "routing": { "default": "queue", "by_group": {} },
            "pause_reasons": ["break"],
            "close_reasons": ["resolved"],
            "queues": { "web_chat": "front", "whatsapp": "front" },
        })),
    )
    .await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    desk.online(&ana).await;
    desk.ok(
        Method::PUT,
        "/api/desk/presence",
        &ana,
        Some(json!({ "channel": "whatsapp", "state": "online" })),
    )
    .await;
    let online = desk.ok(Method::GET, "/api/desk/presence", &ana, None).await;
    assert_eq!(
        (
            online["channels_online"].as_u64(),
            online["channels_enabled"].as_u64()
        ),
        (Some(2), Some(2))
    );
    let paused = desk
        .ok(
            Method::PUT,
            "/api/desk/presence",
            &ana,
            Some(json!({ "channel": "web_chat", "state": "paused", "reason": "break" })),
        )
        .await;
    assert_eq!(
        paused["channels"]["whatsapp"]["state"], "paused",
        "{paused}"
    );
    assert_eq!(paused["channels_online"], 0);
}

#[tokio::test]
async fn an_outbound_conversation_announces_its_attendant_once() {
    let desk = Desk::new().await;
    let ana = desk.attendant("ana", "Ana Souza", 5).await;
    desk.online(&ana).await;
    let started = desk
        .ok(
            Method::POST,
            "/api/desk/outbound",
            &ana,
            Some(json!({ "requester": "lia", "language": "pt-BR", "text": "Oi Lia, tudo certo?" })),
        )
        .await;
    let id = started["conversation_id"].as_str().unwrap();
    let lia = desk.token(Role::Requester, "lia");
    let bodies: Vec<String> = desk
        .transcript(&lia, id)
        .await
        .iter()
        .map(|m| m["body"].as_str().unwrap().to_string())
        .collect();
    let joined = bodies
        .iter()
        .filter(|body| body.as_str() == "Ana Souza entrou na conversa.")
        .count();
    assert_eq!(joined, 1, "{bodies:?}");
    assert_eq!(bodies.last().unwrap(), "Oi Lia, tudo certo?");
}

#[tokio::test]
async fn only_who_may_write_in_a_chat_tags_it_directly_or_by_macro() {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    let bia = desk.attendant("bia", "Bia", 5).await;
    desk.online(&ana).await;
    desk.online(&bia).await;
    let (_, id) = desk.queued_requester("tagged").await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/capture"),
        &ana,
        None,
    )
    .await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/tags"),
        &ana,
        Some(json!({ "tag": "vip" })),
    )
    .await;
    desk.ok(
        Method::PUT,
        "/api/desk/macros/mark",
        &bia,
        Some(json!({ "name": "Mark", "actions": [
            { "action": "tag", "tag": "by-macro" },
            { "action": "untag", "tag": "vip" }
        ] })),
    )
    .await;
    // Bia does not serve the chat: she may not read it, nor touch its tags.
    let (status, _) = desk
        .call(
            Method::GET,
            &format!("/api/desk/chats/{id}/messages"),
            &bia,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for (method, path, body) in [
        (
            Method::POST,
            format!("/api/desk/chats/{id}/tags"),
            Some(json!({ "tag": "spam" })),
        ),
        (
            Method::DELETE,
            format!("/api/desk/chats/{id}/tags/vip"),
            None,
        ),
        (
            Method::POST,
            format!("/api/desk/chats/{id}/macros/mark"),
            None,
        ),
    ] {
        let (status, answer) = desk.call(method.clone(), &path, &bia, body).await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{method} {path}"
        );
    }
    let chat = &desk.chats(&ana, "?state=in_progress").await[0];
    assert_eq!(chat["tags"], json!(["vip"]));
    // Ana, who serves it, runs the macro.
    let done = desk
        .ok(
            Method::POST,
            &format!("/api/desk/chats/{id}/macros/mark"),
            &ana,
            None,
        )
        .await;
    assert_eq!(done["tags"], json!(["by-macro"]));
}

#[tokio::test]
async fn an_admin_supervises_what_attendants_see() {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    desk.online(&ana).await;
    let (_, served) = desk.queued_requester("served").await;
    let (_, waiting) = desk.queued_requester("waiting").await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{served}/capture"),
        &ana,
        None,
    )
    .await;
    let admin = desk.admin.clone();

    // The attendance list, every chat and its transcript.
    let listed = desk.chats(&admin, "").await;
    let ids: Vec<&str> = listed
        .iter()
        .map(|chat| chat["conversation_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![waiting.as_str(), served.as_str()]);
    assert_eq!(listed[0]["position"], 1);
    for id in [&served, &waiting] {
        let transcript = desk
            .ok(
                Method::GET,
                &format!("/api/desk/chats/{id}/messages"),
                &admin,
                None,
            )
            .await;
        assert!(
            transcript["messages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["body"] == "tell me a joke about penguins"),
            "{transcript}"
        );
    }
    desk.ok(Method::GET, "/api/desk/alert", &admin, None).await;

    // Quick replies: shared ones are managed; a personal one needs a person.
    desk.ok(
        Method::PUT,
        "/api/desk/quick-replies/mine",
        &ana,
        Some(json!({ "texts": { "en": "Ana's own." }, "personal": true })),
    )
    .await;
    desk.ok(
        Method::PUT,
        "/api/desk/quick-replies/hello",
        &admin,
        Some(json!({ "texts": { "en": "Hello!" } })),
    )
    .await;
    let replies = desk
        .ok(Method::GET, "/api/desk/quick-replies", &admin, None)
        .await;
    let shortcuts: Vec<&str> = replies["quick_replies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|reply| reply["shortcut"].as_str().unwrap())
        .collect();
    assert_eq!(shortcuts, vec!["/hello", "/mine"]);
    let (status, _) = desk
        .call(
            Method::PUT,
            "/api/desk/quick-replies/own",
            &admin,
            Some(json!({ "texts": { "en": "x" }, "personal": true })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    desk.ok(
        Method::DELETE,
        "/api/desk/quick-replies/hello",
        &admin,
        None,
    )
    .await;
    desk.ok(Method::GET, "/api/desk/macros", &admin, None).await;

    // Acting in a chat needs a person of the desk.
    for path in [
        format!("/api/desk/chats/{waiting}/capture"),
        format!("/api/desk/chats/{served}/messages"),
    ] {
        let (status, _) = desk
            .call(Method::POST, &path, &admin, Some(json!({ "text": "hi" })))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "POST {path}");
    }
}

impl Desk {
    /// Routing `default` for projects without a listed service group, `by_group` for the rest.
    async fn configure_groups(&self, default: &str, by_group: Value) {
        self.ok(
            Method::PUT,
            "/api/desk/config",
            &self.admin,
            Some(json!({
                "routing": { "default": default, "by_group": by_group },
                "pause_reasons": ["break"],
                "close_reasons": ["resolved"],
            })),
        )
        .await;
    }

    async fn project(&self, id: &str, body: Value) {
        self.ok(
            Method::PUT,
            &format!("/api/desk/projects/{id}"),
            &self.admin,
            Some(body),
        )
        .await;
    }

    /// A requester of `project` who asks for a person: (token, conversation id).
    async fn queued_in(&self, project: &str, subject: &str) -> (String, String) {
        self.ok(
            Method::PUT,
            &format!("/api/desk/contacts/{subject}"),
            &self.admin,
            Some(json!({ "name": subject, "project_id": project })),
        )
        .await;
        self.queued_requester(subject).await
    }

    async fn position(&self, (token, id): &(String, String)) -> Value {
        self.ok(
            Method::GET,
            &format!("/api/conversations/{id}/queue"),
            token,
            None,
        )
        .await["position"]
            .clone()
    }
}

#[tokio::test]
async fn queue_positions_count_only_the_chats_of_the_same_project() {
    let desk = Desk::new().await;
    desk.configure_groups("queue", json!({ "sales": "manual" }))
        .await;
    desk.project("support", json!({ "name": "Support" })).await;
    desk.project("shop", json!({ "name": "Shop", "service_group": "sales" }))
        .await;
    let first = desk.queued_in("support", "sup-0").await;
    let second = desk.queued_in("support", "sup-1").await;
    let shopper = desk.queued_in("shop", "shop-0").await;
    assert_eq!(desk.position(&first).await, 1);
    assert_eq!(desk.position(&second).await, 2);
    // A manual-mode chat is not behind the queue-mode chats of another project.
    assert_eq!(desk.position(&shopper).await, 1);
    let listed = desk.chats(&desk.admin, "?state=queued").await;
    let positions: Vec<(&str, u64)> = listed
        .iter()
        .map(|chat| {
            (
                chat["conversation_id"].as_str().unwrap(),
                chat["position"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        positions,
        vec![
            (first.1.as_str(), 1),
            (second.1.as_str(), 2),
            (shopper.1.as_str(), 1)
        ]
    );
    // Capturing the first support chat moves the second up, not the shop's.
    let ana = desk.attendant("ana", "Ana", 5).await;
    desk.online(&ana).await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{}/capture", first.1),
        &ana,
        None,
    )
    .await;
    assert_eq!(desk.position(&second).await, 1);
    assert_eq!(desk.position(&shopper).await, 1);
}

#[tokio::test]
async fn coming_online_offers_the_chats_one_ranks_best_for_within_each_projects_mode() {
    let desk = Desk::new().await;
    desk.configure_groups("automatic", json!({ "desk": "queue" }))
        .await;
    let ana = desk.attendant("ana", "Ana", 2).await;
    let _bia = desk.attendant("bia", "Bia", 5).await;
    desk.project("own", json!({ "name": "Ana's", "owner": "ana" }))
        .await;
    desk.project("other", json!({ "name": "Bia's", "owner": "bia" }))
        .await;
    desk.project("fcfs", json!({ "name": "Queue", "service_group": "desk" }))
        .await;
    // Nobody is online: everything waits, the other project's chats first.
    let others = [
        desk.queued_in("other", "oth-0").await,
        desk.queued_in("other", "oth-1").await,
    ];
    let queued = desk.queued_in("fcfs", "fcfs-0").await;
    let own = [
        desk.queued_in("own", "own-0").await,
        desk.queued_in("own", "own-1").await,
    ];

    desk.online(&ana).await;
    let mut mine: Vec<String> = desk
        .chats(&ana, "?state=in_progress&attendant=ana")
        .await
        .iter()
        .map(|chat| chat["conversation_id"].as_str().unwrap().to_string())
        .collect();
    mine.sort();
    let mut expected = vec![own[0].1.clone(), own[1].1.clone()];
    expected.sort();
    assert_eq!(mine, expected, "Ana owns project own");
    // The rest waits in its own lines and modes.
    assert_eq!(desk.position(&others[0]).await, 1);
    assert_eq!(desk.position(&others[1]).await, 2);
    assert_eq!(desk.position(&queued).await, 1);
}
