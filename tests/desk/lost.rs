//! The lost-chat timer: a chat nobody takes within the configured minutes becomes lost, a
//! ticket tagged `origem-chat` and `chat-perdido` is opened and the requester is told; the
//! timer is driven by the desk's clock moved forward by the test, survives a restart, and
//! fires exactly once, also when a crash stopped it halfway.

use super::{Desk, sqlite_at};
use axum::http::Method;
use ponte::attendance::{Clock, timer};
use serde_json::json;
use std::time::Duration;

async fn lost_tickets(desk: &Desk, requester: &str) -> Vec<ponte::store::Ticket> {
    desk.store
        .open_tickets_for(requester)
        .await
        .unwrap()
        .into_iter()
        .filter(|ticket| ticket.tags.iter().any(|tag| tag == "chat-perdido"))
        .collect()
}

#[tokio::test]
async fn a_chat_nobody_takes_in_time_is_lost_once_with_a_ticket() {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    desk.ok(
        Method::PUT,
        "/api/admin/parameters",
        &desk.admin,
        Some(json!({ "key": "lost_chat_minutes", "value": "30" })),
    )
    .await;
    let (requester, id) = desk.queued_requester("late").await;
    let (_, taken) = desk.queued_requester("taken").await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    desk.online(&ana).await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{taken}/capture"),
        &ana,
        None,
    )
    .await;

    desk.attendance
        .clock()
        .advance(Duration::from_secs(29 * 60));
    assert_eq!(timer::tick(&desk.attendance).await.unwrap(), 0);
    assert!(lost_tickets(&desk, "late").await.is_empty());

    desk.attendance.clock().advance(Duration::from_secs(2 * 60));
    assert_eq!(timer::tick(&desk.attendance).await.unwrap(), 1);
    assert_eq!(
        timer::tick(&desk.attendance).await.unwrap(),
        0,
        "fired twice"
    );
    let tickets = lost_tickets(&desk, "late").await;
    assert_eq!(tickets.len(), 1);
    assert!(tickets[0].tags.contains(&"origem-chat".to_string()));
    assert_eq!(tickets[0].conversation_id.as_deref(), Some(id.as_str()));
    // The captured chat was not lost.
    assert!(lost_tickets(&desk, "taken").await.is_empty());
    let lost = desk.chats(&ana, "?state=lost").await;
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0]["lost_ticket"], tickets[0].number.as_str());
    // The requester was told the ticket number, and the conversation is over.
    let transcript = desk.transcript(&requester, &id).await;
    assert!(
        transcript
            .iter()
            .any(|m| m["body"].as_str().unwrap().contains(&tickets[0].number)),
        "{transcript:?}"
    );
    let view = desk
        .ok(
            Method::GET,
            &format!("/api/conversations/{id}"),
            &requester,
            None,
        )
        .await;
    assert_eq!(view["status"], "finished");
}

#[tokio::test]
async fn the_timer_survives_a_restart_and_fires_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_at(dir.path()).await;
    let desk = Desk::on(dir, store, Clock::new()).await;
    desk.configure("queue").await;
    let (_, id) = desk.queued_requester("sleepy").await;
    let Desk { dir, store, .. } = desk;
    store.close().await;

    // Back 31 minutes later: the first look finds the chat lost.
    let later = Clock::new().shifted(Duration::from_secs(31 * 60));
    let store = sqlite_at(dir.path()).await;
    let desk = Desk::on(dir, store, later.clone()).await;
    assert_eq!(timer::tick(&desk.attendance).await.unwrap(), 1);
    let tickets = lost_tickets(&desk, "sleepy").await;
    assert_eq!(tickets.len(), 1);
    let Desk { dir, store, .. } = desk;
    store.close().await;

    // Once more: nothing new.
    let store = sqlite_at(dir.path()).await;
    let desk = Desk::on(dir, store, later.shifted(Duration::from_secs(3600))).await;
    assert_eq!(timer::tick(&desk.attendance).await.unwrap(), 0);
    assert_eq!(desk.attendance.finish_interrupted().await.unwrap(), 0);
    assert_eq!(lost_tickets(&desk, "sleepy").await.len(), 1);
    let record = desk
        .attendance
        .book(|book| book.record(&id).cloned())
        .await
        .unwrap();
    assert_eq!(
        record.lost_ticket.as_deref(),
        Some(tickets[0].number.as_str())
    );
}

#[tokio::test]
async fn a_crash_between_losing_and_the_ticket_is_finished_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_at(dir.path()).await;
    let desk = Desk::on(dir, store, Clock::new()).await;
    desk.configure("queue").await;
    let (_, id) = desk.queued_requester("crashy").await;
    let now = desk.attendance.now_ms() + 31 * 60_000;
    // The process logged `MarkLost` and died before opening the ticket.
    desk.store
        .desk_append(
            &serde_json::to_string(&ponte::desk::DeskOp::MarkLost {
                conversation_id: id.clone(),
                now_ms: now,
            })
            .unwrap(),
        )
        .await
        .unwrap();
    let Desk { dir, store, .. } = desk;
    store.close().await;

    let store = sqlite_at(dir.path()).await;
    let desk = Desk::on(dir, store, Clock::new()).await;
    assert_eq!(desk.attendance.finish_interrupted().await.unwrap(), 1);
    assert_eq!(desk.attendance.finish_interrupted().await.unwrap(), 0);
    assert_eq!(lost_tickets(&desk, "crashy").await.len(), 1);
}

/// The tickets of `requester` opened from conversation `id`.
async fn tickets_of(desk: &Desk, requester: &str, id: &str) -> Vec<ponte::store::Ticket> {
    desk.store
        .open_tickets_for(requester)
        .await
        .unwrap()
        .into_iter()
        .filter(|ticket| ticket.conversation_id.as_deref() == Some(id))
        .collect()
}

#[tokio::test]
async fn a_lost_chat_that_has_a_ticket_tags_it_instead_of_opening_another() {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    let (requester, id) = desk.queued_requester("ticketed").await;
    let before = tickets_of(&desk, "ticketed", &id).await;
    assert_eq!(before.len(), 1, "the hand-off opened a ticket: {before:?}");

    desk.attendance
        .clock()
        .advance(Duration::from_secs(31 * 60));
    assert_eq!(timer::tick(&desk.attendance).await.unwrap(), 1);
    let after = tickets_of(&desk, "ticketed", &id).await;
    assert_eq!(
        after.len(),
        1,
        "a second ticket for one conversation: {after:?}"
    );
    assert_eq!(after[0].number, before[0].number);
    for tag in ["origem-chat", "chat-perdido"] {
        assert!(
            after[0].tags.iter().any(|t| t == tag),
            "{:?}",
            after[0].tags
        );
    }
    let ana = desk.attendant("ana", "Ana", 5).await;
    let lost = desk.chats(&ana, "?state=lost").await;
    assert_eq!(lost[0]["lost_ticket"], before[0].number.as_str());
    // The requester is pointed to the ticket they have.
    let transcript = desk.transcript(&requester, &id).await;
    let told = format!("Your ticket {} stays open", before[0].number);
    assert!(
        transcript
            .iter()
            .any(|m| m["body"].as_str().unwrap().contains(&told)),
        "{transcript:?}"
    );
}

#[tokio::test]
async fn a_lost_ticket_is_described_in_the_requesters_language_with_what_they_wrote() {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    // Chat mode manual: the conversation goes to the desk at once, without a ticket.
    desk.ok(
        Method::PUT,
        "/api/admin/parameters",
        &desk.admin,
        Some(json!({ "key": "chat_mode", "value": "manual" })),
    )
    .await;
    let requester = desk.token(ponte::auth::Role::Requester, "joana");
    let opened = desk
        .ok(
            Method::POST,
            "/api/conversations",
            &requester,
            Some(json!({ "language": "pt-BR" })),
        )
        .await;
    let id = opened["conversation"]["id"].as_str().unwrap().to_string();
    desk.ok(
        Method::POST,
        &format!("/api/conversations/{id}/messages"),
        &requester,
        Some(json!({ "text": "Meu notebook não liga desde ontem" })),
    )
    .await;
    assert!(tickets_of(&desk, "joana", &id).await.is_empty());

    desk.attendance
        .clock()
        .advance(Duration::from_secs(31 * 60));
    assert_eq!(timer::tick(&desk.attendance).await.unwrap(), 1);
    let tickets = tickets_of(&desk, "joana", &id).await;
    assert_eq!(tickets.len(), 1);
    let description = &tickets[0].description;
    assert!(
        description.contains("Meu notebook não liga desde ontem"),
        "{description}"
    );
    assert!(description.contains("chat perdido"), "{description}");
    assert!(!description.contains("attendant"), "{description}");
}
