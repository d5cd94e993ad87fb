//! The desk as the orchestrator's [`DeskHooks`]: it queues handed-off conversations, marks
//! requester messages unread (announced on the staff feed), refuses blocked contacts and says
//! whether someone is there to read a conversation.

use super::Attendance;
use super::log::Logging;
use crate::desk::{DeskOp, Origin};
use crate::live::StaffEvent;
use crate::orchestrator::DeskHooks;
use crate::store;

#[async_trait::async_trait]
impl DeskHooks for Attendance {
    async fn handed_off(&self, conversation: &store::Conversation, _group: &str) {
        let op = DeskOp::Enqueue {
            conversation_id: conversation.id.clone(),
            requester: conversation.requester_id.clone(),
            project_id: self.project_for(&conversation.requester_id).await,
            channel: conversation.channel,
            now_ms: self.now_ms(),
            origin: Origin::Assistant,
        };
        if let Err(error) = self.execute(op).await {
            tracing::warn!(conversation = %conversation.id, %error, "could not queue a handed-off chat");
            return;
        }
        // The ticket the hand-off opened, so the attendance list finds the chat by it. The
        // store keeps it on the conversation row (the outcome's copy predates it).
        let ticket = match self.store.get_conversation(&conversation.id).await {
            Ok(Some(stored)) => stored.ticket_number,
            _ => None,
        };
        if let Some(number) = ticket {
            let op = DeskOp::SetTicket {
                conversation_id: conversation.id.clone(),
                number,
            };
            if let Err(error) = self.execute(op).await {
                tracing::warn!(conversation = %conversation.id, %error, "could not record the chat's ticket");
            }
        }
    }

    async fn requester_wrote(&self, conversation_id: &str) {
        let op = DeskOp::MessageFromRequester {
            conversation_id: conversation_id.to_string(),
            now_ms: self.now_ms(),
        };
        if self
            .execute_quietly(&op, Logging::WhenUnreadChanged)
            .await
            .is_ok()
        {
            self.bus.publish_staff(StaffEvent::Unread {
                conversation_id: conversation_id.to_string(),
            });
        }
    }

    async fn is_blocked(&self, requester: &str) -> bool {
        self.book(|book| book.is_blocked(requester)).await
    }

    async fn someone_present(&self, conversation_id: &str) -> Option<bool> {
        self.book(|book| book.desk().someone_present_for(conversation_id))
            .await
    }
}
