//! Typing, read marks, the guest's pre-chat form and the transcript file over the API, with
//! a desk: each side's typing reaches the other side's live feed and the staff feed; read
//! positions move forward only, are told live, survive in the conversation's view and clear
//! the reader's unread marker; bad input (unknown conversation, a `seq` past the last
//! message, another requester, staff who do not serve the chat) gets its stable code; the
//! pre-chat form refuses a missing or too-long name and a bad e-mail, and an accepted one
//! names the guest in the attendance list; the transcript downloads as a named text file.

use super::assert_error;
use crate::desk::Desk;
use axum::http::{Method, StatusCode};
use ponte::auth::Role;
use ponte::live::{Delivery, FeedEvent, Side, StaffEvent};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::broadcast;

/// A desk in queue mode where Ana (online) serves Maria's chat: (desk, ana, maria, id).
async fn served_chat() -> (Desk, String, String, String) {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    desk.online(&ana).await;
    let (maria, id) = desk.queued_requester("maria").await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/capture"),
        &ana,
        None,
    )
    .await;
    (desk, ana, maria, id)
}

/// The next signal of a conversation's feed (messages are skipped).
async fn next_signal(feed: &mut broadcast::Receiver<Delivery>) -> FeedEvent {
    loop {
        let delivery = tokio::time::timeout(Duration::from_secs(5), feed.recv())
            .await
            .expect("a signal in time")
            .expect("an open feed");
        if let Delivery::Signal(signal) = delivery {
            return (*signal).clone();
        }
    }
}

/// The next staff event that is not a desk operation.
async fn next_staff(
    staff: &mut broadcast::Receiver<std::sync::Arc<ponte::live::StaffNotice>>,
) -> StaffEvent {
    loop {
        let notice = tokio::time::timeout(Duration::from_secs(5), staff.recv())
            .await
            .expect("a staff event in time")
            .expect("an open staff feed");
        match &notice.event {
            StaffEvent::Desk(_) | StaffEvent::Unread { .. } => continue,
            other => return other.clone(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_reaches_the_other_side_and_the_staff_feed_and_only_the_chats_people_may_type() {
    let (desk, ana, maria, id) = served_chat().await;
    let bus = desk.attendance.orchestrator().bus().clone();
    let mut feed = bus.subscribe(&id);
    let mut staff = desk.attendance.subscribe_staff();
    let typing = format!("/api/conversations/{id}/typing");

    let shown = desk.ok(Method::POST, &typing, &maria, None).await;
    let until = shown["until_ms"].as_u64().unwrap();
    match next_signal(&mut feed).await {
        FeedEvent::Typing {
            who,
            name,
            until_ms,
        } => assert_eq!((who, name, until_ms), (Side::Requester, None, until)),
        other => panic!("expected the requester typing, got {other:?}"),
    }
    assert_eq!(
        next_staff(&mut staff).await,
        StaffEvent::Typing {
            conversation_id: id.clone(),
            who: Side::Requester,
            name: None,
            until_ms: until,
        }
    );
    desk.ok(Method::POST, &typing, &ana, None).await;
    match next_signal(&mut feed).await {
        FeedEvent::Typing { who, name, .. } => {
            assert_eq!((who, name.as_deref()), (Side::Attendant, Some("Ana")))
        }
        other => panic!("expected Ana typing, got {other:?}"),
    }

    // Who may not: Bia, who does not serve the chat; another requester; an admin.
    let bia = desk.attendant("bia", "Bia", 5).await;
    let (status, body) = desk.call(Method::POST, &typing, &bia, None).await;
    assert_error(status, &body, 403, "forbidden");
    let joao = desk.token(Role::Requester, "joao");
    let (status, body) = desk.call(Method::POST, &typing, &joao, None).await;
    assert_error(status, &body, 403, "forbidden");
    let (status, body) = desk.call(Method::POST, &typing, &desk.admin, None).await;
    assert_error(status, &body, 403, "forbidden");
    let (status, body) = desk
        .call(Method::POST, "/api/conversations/nope/typing", &maria, None)
        .await;
    assert_error(status, &body, 404, "not_found");

    // An ended chat takes no more typing.
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/close"),
        &ana,
        Some(json!({ "reason": "resolved" })),
    )
    .await;
    let (status, body) = desk.call(Method::POST, &typing, &maria, None).await;
    assert_error(status, &body, 409, "conversation_finished");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_positions_move_forward_only_are_told_live_and_survive_in_the_view() {
    let (desk, ana, maria, id) = served_chat().await;
    let bus = desk.attendance.orchestrator().bus().clone();
    let read = format!("/api/conversations/{id}/read");
    desk.ok(
        Method::POST,
        &format!("/api/conversations/{id}/messages"),
        &maria,
        Some(json!({ "text": "my badge does not open the door" })),
    )
    .await;
    let view = desk
        .ok(
            Method::GET,
            &format!("/api/conversations/{id}"),
            &maria,
            None,
        )
        .await;
    let last = view["last_seq"].as_i64().unwrap();
    assert_eq!(
        view["read"],
        json!({ "requester_seq": 0, "attendant_seq": 0 })
    );
    let unread = |chats: Vec<Value>| chats[0]["unread"].as_bool().unwrap();
    assert!(
        unread(desk.chats(&ana, "").await),
        "Maria's message is unread"
    );

    // Ana reads everything: one live event, her side's position, her unread marker cleared.
    let mut feed = bus.subscribe(&id);
    let mut staff = desk.attendance.subscribe_staff();
    let marks = desk
        .ok(Method::POST, &read, &ana, Some(json!({ "seq": last })))
        .await;
    assert_eq!(marks, json!({ "requester_seq": 0, "attendant_seq": last }));
    assert_eq!(
        next_signal(&mut feed).await,
        FeedEvent::Read {
            who: Side::Attendant,
            seq: last
        }
    );
    assert_eq!(
        next_staff(&mut staff).await,
        StaffEvent::Read {
            conversation_id: id.clone(),
            who: Side::Attendant,
            seq: last
        }
    );
    assert!(
        !unread(desk.chats(&ana, "").await),
        "reading cleared the dot"
    );

    // Going back changes nothing and tells nobody; the requester's side moves on its own.
    let marks = desk
        .ok(Method::POST, &read, &ana, Some(json!({ "seq": 1 })))
        .await;
    assert_eq!(marks["attendant_seq"], last);
    let marks = desk
        .ok(Method::POST, &read, &maria, Some(json!({ "seq": last })))
        .await;
    assert_eq!(
        marks,
        json!({ "requester_seq": last, "attendant_seq": last })
    );
    assert_eq!(
        next_signal(&mut feed).await,
        FeedEvent::Read {
            who: Side::Requester,
            seq: last
        },
        "the older mark was not told"
    );

    // The view, the staff's read and an admin's read all give both positions.
    let view = desk
        .ok(
            Method::GET,
            &format!("/api/conversations/{id}"),
            &maria,
            None,
        )
        .await;
    assert_eq!(
        view["read"],
        json!({ "requester_seq": last, "attendant_seq": last })
    );
    for token in [&ana, &desk.admin] {
        let marks = desk.ok(Method::GET, &read, token, None).await;
        assert_eq!(
            marks,
            json!({ "requester_seq": last, "attendant_seq": last })
        );
    }

    // Bad input.
    for seq in [last + 1, -1] {
        let (status, body) = desk
            .call(Method::POST, &read, &maria, Some(json!({ "seq": seq })))
            .await;
        assert_error(status, &body, 400, "seq_out_of_range");
    }
    let (status, body) = desk
        .call(Method::POST, &read, &maria, Some(json!({ "sequence": 1 })))
        .await;
    assert_error(status, &body, 400, "malformed_json");
    let (status, body) = desk
        .call(
            Method::POST,
            "/api/conversations/nope/read",
            &ana,
            Some(json!({ "seq": 1 })),
        )
        .await;
    assert_error(status, &body, 404, "not_found");
    let joao = desk.token(Role::Requester, "joao");
    let (status, body) = desk
        .call(Method::POST, &read, &joao, Some(json!({ "seq": 1 })))
        .await;
    assert_error(status, &body, 403, "forbidden");
    let (status, body) = desk.call(Method::GET, &read, &joao, None).await;
    assert_error(status, &body, 403, "forbidden");
    let bia = desk.attendant("bia", "Bia", 5).await;
    let (status, body) = desk
        .call(Method::POST, &read, &bia, Some(json!({ "seq": 1 })))
        .await;
    assert_error(status, &body, 403, "forbidden");
    let (status, body) = desk
        .call(Method::POST, &read, &desk.admin, Some(json!({ "seq": 1 })))
        .await;
    assert_error(status, &body, 403, "forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pre_chat_form_names_the_guest_for_the_desk_and_refuses_bad_input() {
    let desk = Desk::new().await;
    desk.auth
        .allow_guests(ponte::guest::GuestKey::random().unwrap());
    desk.configure("queue").await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    desk.online(&ana).await;
    let config = desk.ok(Method::GET, "/api/widget/config", "", None).await;
    assert_eq!(config["prechat_form"], false);
    assert_eq!(config["max_name_chars"], 80);
    // Off: a guest needs no name.
    let (status, _) = desk
        .call(Method::POST, "/api/widget/session", "", None)
        .await;
    assert_eq!(status, StatusCode::CREATED);

    desk.ok(
        Method::PUT,
        "/api/admin/parameters",
        &desk.admin,
        Some(json!({ "key": "prechat_form", "value": "on" })),
    )
    .await;
    let config = desk.ok(Method::GET, "/api/widget/config", "", None).await;
    assert_eq!(config["prechat_form"], true);
    for (body, code) in [
        (None, "name_required"),
        (
            Some(json!({ "email": "maria@example.com" })),
            "name_required",
        ),
        (Some(json!({ "name": "   " })), "name_required"),
        (Some(json!({ "name": "M".repeat(81) })), "name_too_long"),
        (
            Some(json!({ "name": "Maria", "email": "maria@example" })),
            "invalid_email",
        ),
    ] {
        let (status, answer) = desk
            .call(Method::POST, "/api/widget/session", "", body.clone())
            .await;
        assert_error(status, &answer, 422, code);
    }
    let (status, answer) = desk
        .call(
            Method::POST,
            "/api/widget/session",
            "",
            Some(json!({ "name": "Maria", "phone": "1" })),
        )
        .await;
    assert_error(status, &answer, 400, "malformed_json");

    let session = desk
        .ok(
            Method::POST,
            "/api/widget/session",
            "",
            Some(json!({ "name": "  Maria   Souza ", "email": "maria@example.com" })),
        )
        .await;
    let guest = session["token"].as_str().unwrap().to_string();
    let requester = session["requester_id"].as_str().unwrap().to_string();
    let opened = desk
        .ok(
            Method::POST,
            "/api/conversations",
            &guest,
            Some(json!({ "language": "en" })),
        )
        .await;
    let id = opened["conversation"]["id"].as_str().unwrap().to_string();
    desk.ok(
        Method::POST,
        &format!("/api/conversations/{id}/messages"),
        &guest,
        Some(json!({ "text": "tell me a joke about penguins" })),
    )
    .await;
    desk.ok(
        Method::POST,
        &format!("/api/conversations/{id}/options"),
        &guest,
        Some(json!({ "option_id": "talk_to_attendant" })),
    )
    .await;
    // The attendance list shows a person, and the contact book has the e-mail.
    let chats = desk.chats(&ana, "").await;
    let chat = chats
        .iter()
        .find(|chat| chat["conversation_id"] == id.as_str())
        .expect("the guest's chat is queued");
    assert_eq!(chat["contact"]["name"], "Maria Souza", "{chat}");
    let found = desk
        .ok(Method::GET, "/api/desk/contacts?q=souza", &ana, None)
        .await;
    assert_eq!(found["contacts"][0]["id"], requester.as_str());
    assert_eq!(found["contacts"][0]["email"], "maria@example.com");

    // Her typing carries her name to the desk.
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/capture"),
        &ana,
        None,
    )
    .await;
    let mut staff = desk.attendance.subscribe_staff();
    desk.ok(
        Method::POST,
        &format!("/api/conversations/{id}/typing"),
        &guest,
        None,
    )
    .await;
    match next_staff(&mut staff).await {
        StaffEvent::Typing { name, who, .. } => {
            assert_eq!(
                (who, name.as_deref()),
                (Side::Requester, Some("Maria Souza"))
            )
        }
        other => panic!("expected Maria typing, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transcript_downloads_as_a_named_text_file_for_its_requester_and_staff() {
    let (desk, ana, maria, id) = served_chat().await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/messages"),
        &ana,
        Some(json!({ "text": "Hello, I am Ana.\nHow can I help?" })),
    )
    .await;
    let uri = format!("/api/conversations/{id}/transcript?format=txt&tz=America/Sao_Paulo");
    let (status, bytes) = desk
        .raw(Method::GET, &uri, &maria, "application/json", Vec::new())
        .await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.starts_with(&format!("Conversation {id} (")), "{text}");
    assert!(text.contains("Times in America/Sao_Paulo"), "{text}");
    assert!(
        text.contains("] Requester: tell me a joke about penguins\n"),
        "{text}"
    );
    assert!(
        text.contains("] Ana: Hello, I am Ana.\n    How can I help?\n"),
        "{text}"
    );
    assert!(text.contains("] Virtual assistant: "), "{text}");
    for token in [&ana, &desk.admin] {
        let (status, again) = desk
            .raw(Method::GET, &uri, token, "application/json", Vec::new())
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(String::from_utf8(again).unwrap(), text);
    }
    // The headers: a download with a file name.
    let request = axum::http::Request::builder()
        .uri(&uri)
        .header("authorization", format!("Bearer {maria}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(desk.app.clone(), request)
        .await
        .unwrap();
    let header = |name: &str| response.headers()[name].to_str().unwrap().to_string();
    assert_eq!(header("content-type"), "text/plain; charset=utf-8");
    let disposition = header("content-disposition");
    assert!(
        disposition.starts_with("attachment; filename=\"conversation-")
            && disposition.ends_with(".txt\""),
        "{disposition}"
    );

    let joao = desk.token(Role::Requester, "joao");
    let (status, body) = desk.call(Method::GET, &uri, &joao, None).await;
    assert_error(status, &body, 403, "forbidden");
    let (status, body) = desk
        .call(
            Method::GET,
            "/api/conversations/nope/transcript",
            &maria,
            None,
        )
        .await;
    assert_error(status, &body, 404, "not_found");
    for query in ["format=pdf", "tz=Mars/Olympus"] {
        let (status, body) = desk
            .call(
                Method::GET,
                &format!("/api/conversations/{id}/transcript?{query}"),
                &maria,
                None,
            )
            .await;
        assert_error(status, &body, 400, "bad_request");
    }
}
