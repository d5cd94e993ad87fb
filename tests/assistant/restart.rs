//! A restart in the middle of a ticket creation resumes where it was, and never opens the
//! same ticket twice.

use super::*;
use ponte::lang::Language;
use ponte::store::Channel;
use std::time::Duration;

async fn to_confirmation(chat: &Orchestrator, who: &Requester) -> String {
    let opened = chat.open(who, Channel::Web, Language::PtBr).await.unwrap();
    let id = opened.conversation.id.clone();
    chat.post(who, &id, "esqueci minha senha", None)
        .await
        .unwrap();
    chat.choose(who, &id, "create_ticket").await.unwrap();
    chat.post(who, &id, "senha expirada", None).await.unwrap();
    id
}

#[tokio::test]
async fn a_restart_during_the_dialogue_keeps_the_half_made_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let who = requester("hana");
    let id = {
        let chat = orchestrator(sqlite(dir.path()).await);
        let id = to_confirmation(&chat, &who).await;
        chat.store().close().await;
        id
    };
    // A new process on the same file: the confirmation question is still pending.
    let chat = orchestrator(sqlite(dir.path()).await);
    let created = chat.post(&who, &id, "sim", None).await.unwrap();
    let tickets = chat.store().open_tickets_for("hana").await.unwrap();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].description, "senha expirada");
    assert!(said(&created).contains(&tickets[0].number));
    chat.store().close().await;
}

async fn crash_during_creation(stall_before: bool) {
    let dir = tempfile::tempdir().unwrap();
    let who = requester("ivo");
    let id = {
        let real = sqlite(dir.path()).await;
        let chat = Arc::new(orchestrator(Arc::new(Stalling {
            inner: real.clone(),
            stall_before_create: stall_before,
            stall_after_create: !stall_before,
        })));
        let id = to_confirmation(&chat, &who).await;
        let task = {
            let chat = chat.clone();
            let who = who.clone();
            let id = id.clone();
            tokio::spawn(async move { chat.post(&who, &id, "sim", None).await })
        };
        // The "process" dies while the ticket is being created.
        tokio::time::sleep(Duration::from_millis(300)).await;
        task.abort();
        let _ = task.await;
        real.close().await;
        id
    };
    let chat = orchestrator(sqlite(dir.path()).await);
    let resumed = chat.resume_pending().await.unwrap();
    assert_eq!(
        resumed, 1,
        "the conversation waiting on a ticket is resumed"
    );
    let tickets = chat.store().open_tickets_for("ivo").await.unwrap();
    assert_eq!(tickets.len(), 1, "exactly one ticket, created once");
    let conversation = chat.store().get_conversation(&id).await.unwrap().unwrap();
    assert_eq!(
        conversation.ticket_number.as_deref(),
        Some(tickets[0].number.as_str())
    );
    let messages = chat.store().messages_after(&id, 0, 200).await.unwrap();
    assert!(
        messages.iter().any(|m| m.body.contains(&tickets[0].number)),
        "the requester is told the number after the restart"
    );
    chat.store().close().await;
}

#[tokio::test]
async fn a_crash_before_the_ticket_is_written_creates_it_after_restart() {
    crash_during_creation(true).await;
}

#[tokio::test]
async fn a_crash_after_the_ticket_is_written_does_not_create_it_twice() {
    crash_during_creation(false).await;
}
