//! The lost-chat timer: a chat still waiting `lost_chat_minutes` (parameter, default 30)
//! after it entered the queue becomes *lost*. Losing it is one logged operation
//! (`MarkLost`); then the conversation's ticket is tagged `chat-perdido` or, when it has
//! none, a ticket tagged `origem-chat` and `chat-perdido` is opened with an idempotency key
//! derived from the conversation; either is recorded with `SetTicket`, and the
//! requester is told (a message with its own idempotency key) before the conversation
//! closes. Each step is idempotent, so a crash anywhere is finished at the next start
//! ([`Attendance::finish_interrupted`]) and the timer fires exactly once.
//!
//! Deadlines come from the book (when each chat started waiting), so they survive a restart;
//! the loop sleeps until the nearest one, or until a new chat is queued. It runs only while
//! this node holds the [`LOST_CHATS`](crate::lease::LOST_CHATS) lease (in one process, always):
//! with several nodes, one timer marks chats lost.

use super::{Attendance, AttendanceError, TIMER_IDLE, texts};
use crate::conversation::{Event, TICKET_TAG_CHAT};
use crate::desk::DeskOp;
use crate::store::{MAX_PAGE, NewTicket, SenderKind, TicketStatus};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The tag of tickets opened for lost chats.
pub const TICKET_TAG_LOST: &str = "chat-perdido";

/// The configured minutes until a waiting chat is lost.
pub async fn lost_after_minutes(attendance: &Attendance) -> Result<u64, AttendanceError> {
    let stored = attendance.store.parameters().await?;
    Ok(crate::parameters::effective(&stored)
        .get("lost_chat_minutes")
        .and_then(|value| value.trim().parse::<u64>().ok())
        .filter(|minutes| *minutes > 0)
        .unwrap_or(30))
}

/// Marks every chat past its deadline as lost; returns how many.
pub async fn tick(attendance: &Attendance) -> Result<usize, AttendanceError> {
    let lost_after_ms = lost_after_minutes(attendance).await? * 60_000;
    let now_ms = attendance.now_ms();
    let due = attendance
        .book(|book| book.due_lost(now_ms, lost_after_ms))
        .await;
    let mut lost = 0;
    for conversation_id in due {
        let op = DeskOp::MarkLost {
            conversation_id: conversation_id.clone(),
            now_ms,
        };
        match attendance.execute(op).await {
            Ok(_) => lost += 1,
            // Taken (or closed) between the look and the mark: not lost.
            Err(error) => tracing::debug!(conversation = %conversation_id, %error, "not lost"),
        }
    }
    Ok(lost)
}

/// When the next waiting chat is due, if any.
async fn next_deadline_ms(attendance: &Attendance) -> Result<Option<u64>, AttendanceError> {
    let lost_after_ms = lost_after_minutes(attendance).await? * 60_000;
    Ok(attendance
        .book(|book| book.lost_deadlines(lost_after_ms))
        .await
        .into_iter()
        .map(|(_, deadline)| deadline)
        .min())
}

/// Runs the timer until `stop` turns true, while this node holds the lost-chat lease: it
/// waits for the lease, and when the lease is lost it stops and waits for it again.
pub async fn run(attendance: Arc<Attendance>, mut stop: watch::Receiver<bool>) {
    let lease = attendance.orchestrator().lease().clone();
    loop {
        let held = tokio::select! {
            held = lease.acquire(crate::lease::LOST_CHATS) => held,
            _ = stop.wait_for(|stop| *stop) => return,
        };
        if !run_while_held(&attendance, held, &mut stop).await {
            return;
        }
        tracing::warn!("lost-chat lease lost; waiting to hold it again");
    }
}

/// The timer's loop under `held`: returns false when `stop` turned true, true when the lease
/// was lost.
async fn run_while_held(
    attendance: &Attendance,
    mut held: crate::lease::Held,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    if let Err(error) = attendance.finish_interrupted().await {
        tracing::warn!(%error, "could not finish the lost chats a stop interrupted");
    }
    loop {
        if !held.is_held() {
            return true;
        }
        if let Err(error) = tick(attendance).await {
            tracing::warn!(%error, "lost-chat timer failed; retrying");
        }
        let wait = match next_deadline_ms(attendance).await {
            Ok(Some(deadline)) => {
                Duration::from_millis(deadline.saturating_sub(attendance.now_ms())).min(TIMER_IDLE)
            }
            Ok(None) => TIMER_IDLE,
            Err(_) => Duration::from_secs(1),
        };
        tokio::select! {
            _ = tokio::time::sleep(wait.max(Duration::from_millis(10))) => {}
            _ = attendance.wake.notified() => {}
            _ = held.lost() => return true,
            _ = stop.wait_for(|stop| *stop) => return false,
        }
    }
}

/// Most characters of what the requester wrote that a lost chat's ticket description quotes.
const MAX_WRITTEN_CHARS: usize = 4000;

/// Gives a lost chat its ticket, records it and tells the requester (idempotent). A chat
/// that already has a ticket (the one the hand-off opened) keeps it: that ticket is tagged
/// `chat-perdido`, so one conversation never gets two tickets. Otherwise a ticket is opened
/// whose description, in the conversation's language, quotes what the requester wrote.
pub(super) async fn finish_lost(
    attendance: &Attendance,
    conversation_id: &str,
) -> Result<(), AttendanceError> {
    let Some(record) = attendance
        .book(|book| book.record(conversation_id).cloned())
        .await
    else {
        return Ok(());
    };
    let chat = attendance.orchestrator();
    let conversation = chat.conversation_by_id(conversation_id).await?;
    let language = conversation.language;
    let lost_tags = [TICKET_TAG_CHAT.to_string(), TICKET_TAG_LOST.to_string()];
    let existing = record
        .ticket
        .clone()
        .or_else(|| conversation.ticket_number.clone());
    let (number, told) = match existing {
        Some(number) => {
            attendance
                .store
                .add_ticket_tags(&number, &lost_tags)
                .await?;
            let told = texts::lost_chat_existing_ticket(language, &number);
            (number, told)
        }
        None => {
            let stored = attendance.store.parameters().await?;
            let params = crate::parameters::to_params(&stored);
            let minutes = lost_after_minutes(attendance).await?;
            let written = requester_wrote(attendance, conversation_id).await?;
            let ticket = attendance
                .store
                .create_ticket(NewTicket {
                    requester_id: record.requester.clone(),
                    activity_id: params.default_activity.clone(),
                    contract: params.default_contract.clone(),
                    group: conversation
                        .queue_group
                        .clone()
                        .unwrap_or(params.default_group.clone()),
                    description: texts::lost_ticket_description(language, minutes, &written),
                    status: TicketStatus::Open,
                    tags: lost_tags.to_vec(),
                    conversation_id: Some(conversation_id.to_string()),
                    request_key: Some(format!("lost:{conversation_id}")),
                })
                .await?;
            let told = texts::lost_chat(language, &ticket.number);
            (ticket.number, told)
        }
    };
    if record.lost_ticket.as_deref() != Some(number.as_str()) {
        attendance
            .execute_quietly(
                &DeskOp::SetTicket {
                    conversation_id: conversation_id.to_string(),
                    number: number.clone(),
                },
                super::log::Logging::Always,
            )
            .await?;
    }
    chat.notify(
        conversation_id,
        told,
        serde_json::json!({ "event": "chat_lost", "ticket": number }),
        format!("lost:{conversation_id}"),
    )
    .await?;
    chat.staff_event(conversation_id, Event::Closed).await?;
    Ok(())
}

/// The requester's messages in the conversation, one a line, cut at [`MAX_WRITTEN_CHARS`].
async fn requester_wrote(
    attendance: &Attendance,
    conversation_id: &str,
) -> Result<String, AttendanceError> {
    let mut lines: Vec<String> = Vec::new();
    let mut chars = 0;
    let mut after = 0;
    loop {
        let page = attendance
            .store
            .messages_after(conversation_id, after, MAX_PAGE)
            .await?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.seq;
        let full = page.len() == MAX_PAGE as usize;
        for message in page {
            if message.sender_kind != SenderKind::Requester || message.body.trim().is_empty() {
                continue;
            }
            let room = MAX_WRITTEN_CHARS.saturating_sub(chars);
            if room == 0 {
                return Ok(lines.join("\n"));
            }
            let line: String = message.body.trim().chars().take(room).collect();
            chars += line.chars().count();
            lines.push(line);
        }
        if !full {
            break;
        }
    }
    Ok(lines.join("\n"))
}

impl Attendance {
    /// Finishes the lost chats whose ticket a stop interrupted (call at start).
    pub async fn finish_interrupted(&self) -> Result<usize, AttendanceError> {
        let unfinished = self.book(|book| book.lost_without_ticket()).await;
        for conversation_id in &unfinished {
            finish_lost(self, conversation_id).await?;
        }
        Ok(unfinished.len())
    }
}
