//! A staff member writing in a chat: who may act there (its responsible, the invited
//! people, either analyst of an internal chat), a quick reply's shortcut expanded in the
//! conversation's language, the message stored and announced by the orchestrator, and the
//! writer's unread marker cleared (they have just read the chat to answer it).

use super::{Attendance, AttendanceError};
use crate::desk::DeskOp;
use crate::orchestrator::{ChatError, Outcome};

/// Why a staff member may not write in a chat, or what failed while they did.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("only the responsible and invited people may act in this chat")]
    NotAWriter,
    #[error("chat {0:?} was not found")]
    UnknownChat(String),
    #[error(transparent)]
    Attendance(#[from] AttendanceError),
}

impl From<ChatError> for WriteError {
    fn from(error: ChatError) -> Self {
        WriteError::Attendance(AttendanceError::Chat(error))
    }
}

impl Attendance {
    /// `person` may act in chat `conversation_id` as in writing there.
    pub async fn check_writer(
        &self,
        person: &str,
        conversation_id: &str,
    ) -> Result<(), WriteError> {
        match self
            .book(|book| book.may_write(person, conversation_id))
            .await
        {
            Some(true) => Ok(()),
            Some(false) => Err(WriteError::NotAWriter),
            None => Err(WriteError::UnknownChat(conversation_id.to_string())),
        }
    }

    /// `person` writes `text` in chat `conversation_id`; a text that is exactly one of
    /// their quick replies' shortcut is sent as that reply in the conversation's language.
    /// A repeated `client_message_id` makes a retry harmless (the outcome says duplicate).
    pub async fn write(
        &self,
        person: &str,
        conversation_id: &str,
        text: &str,
        client_message_id: Option<String>,
    ) -> Result<Outcome, WriteError> {
        self.check_writer(person, conversation_id).await?;
        let conversation = self
            .orchestrator()
            .conversation_by_id(conversation_id)
            .await?;
        let language = conversation.language;
        let expanded = self
            .book(|book| book.expand(person, text.trim(), language.tag()))
            .await;
        let text = expanded.as_deref().unwrap_or(text);
        let outcome = self
            .orchestrator()
            .staff_message(conversation_id, person, text, None, client_message_id)
            .await?;
        if !outcome.duplicate {
            self.record_answer(conversation_id, text);
        }
        let read = DeskOp::MarkRead {
            conversation_id: conversation_id.to_string(),
            person: person.to_string(),
            now_ms: self.now_ms(),
        };
        // The message is sent: a marker left set is only a stale dot on the writer's list.
        if let Err(error) = self.execute(read).await {
            tracing::debug!(%error, "the writer's unread marker was not cleared");
        }
        Ok(outcome)
    }
}
