//! Routing chats to attendants: queue, automatic and manual modes, queue positions and
//! routing per project and service group, and pausing a channel with those sharing its queue.

use super::{Desk, code};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

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
