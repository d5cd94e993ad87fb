//! Orphan adoption: conversations handed to people that the desk never heard of (a process
//! stopped between the hand-off and the desk's log write) are queued. It runs on one node at
//! a time, under the [`ORPHANS`] lease: at start when this node can take the lease at once,
//! and again whenever it comes to hold it (the node that held it stopped or died). Adopting
//! twice is harmless: a conversation the book knows is left alone.

use super::{Attendance, AttendanceError};
use crate::lease::{Held, ORPHANS};
use crate::orchestrator::DeskHooks;
use crate::store;
use std::sync::Arc;
use tokio::sync::watch;

/// At start: adopts the orphans if this node can hold the lease now (and lets it go: [`run`]
/// takes it again and keeps it).
pub(super) async fn adopt_at_start(attendance: &Attendance) -> Result<(), AttendanceError> {
    let lease = attendance.orchestrator().lease().clone();
    match lease.try_acquire(ORPHANS).await {
        Some(held) => adopt(attendance, &held).await.map(drop),
        None => {
            tracing::info!("another node holds the orphans lease; nothing adopted here");
            Ok(())
        }
    }
}

/// Holds the lease until `stop` turns true, adopting the orphans each time this node comes
/// to hold it.
pub async fn run(attendance: Arc<Attendance>, mut stop: watch::Receiver<bool>) {
    let lease = attendance.orchestrator().lease().clone();
    loop {
        let mut held = tokio::select! {
            held = lease.acquire(ORPHANS) => held,
            _ = stop.wait_for(|stop| *stop) => return,
        };
        tokio::select! {
            adopted = adopt(&attendance, &held) => match adopted {
                Ok(0) => {}
                Ok(adopted) => tracing::info!(adopted, "orphaned hand-offs queued"),
                Err(error) => tracing::warn!(%error, "adopting orphaned hand-offs failed"),
            },
            _ = stop.wait_for(|stop| *stop) => return,
        }
        tokio::select! {
            _ = held.lost() => tracing::warn!("orphans lease lost; waiting to hold it again"),
            _ = stop.wait_for(|stop| *stop) => return,
        }
    }
}

/// Queues every queued conversation the book does not know, while `held` holds; returns how
/// many.
async fn adopt(attendance: &Attendance, held: &Held) -> Result<usize, AttendanceError> {
    let filter = store::ConversationFilter {
        status: Some(store::ConversationStatus::Queued),
        limit: store::MAX_PAGE,
        ..Default::default()
    };
    let mut adopted = 0;
    for conversation in attendance.store.list_conversations(filter).await? {
        if !held.is_held() {
            break;
        }
        let known = attendance
            .book(|book| book.record(&conversation.id).is_some())
            .await;
        if !known {
            let group = conversation.queue_group.clone().unwrap_or_default();
            attendance.handed_off(&conversation, &group).await;
            adopted += 1;
        }
    }
    Ok(adopted)
}
