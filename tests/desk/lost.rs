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
