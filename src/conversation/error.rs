//! Errors of the conversation machine, each with a stable snake_case code and, when the requester
//! caused it, the localised reply they should see. On error the conversation is unchanged.

use super::effect::Reply;
use super::texts::{Arg, TextKey};

/// Why an event could not be applied. The conversation is left exactly as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MachineError {
    /// Parameter 299 is off: no chat can be opened and the assistant answers nothing.
    #[error("chat is disabled (parameter 299)")]
    ChatDisabled,
    /// The text is empty or only whitespace and control characters.
    #[error("the message is empty")]
    EmptyText,
    /// The text is longer than [`MAX_TEXT_CHARS`](super::MAX_TEXT_CHARS) characters after cleaning.
    #[error("the message has {length} characters, more than the limit of {limit}")]
    TextTooLong { length: usize, limit: usize },
    /// The option id is not among the options currently offered.
    #[error("option {option_id:?} is not among the current options")]
    OptionNotOffered { option_id: String },
    /// A `ticket:<number>` option for a ticket that is not among the requester's listed tickets.
    #[error("ticket {number:?} is not among the requester's open tickets")]
    TicketNotFound { number: String },
    /// The event does not fit the conversation's state (an orchestrator bug or a race).
    #[error("event {event} is not expected in state {state}")]
    UnexpectedEvent {
        event: &'static str,
        state: &'static str,
    },
    /// The event is malformed (e.g. an empty ticket number).
    #[error("invalid event: {reason}")]
    InvalidEvent { reason: &'static str },
    /// The conversation is finished; only `Closed` is accepted (and does nothing).
    #[error("the conversation is finished")]
    ConversationFinished,
}

impl crate::fault::Coded for MachineError {
    fn kind(&self) -> crate::fault::ErrorKind {
        use crate::fault::ErrorKind as K;
        match self {
            MachineError::EmptyText | MachineError::InvalidEvent { .. } => K::BadRequest,
            MachineError::TextTooLong { .. } => K::TooLarge,
            MachineError::TicketNotFound { .. } => K::NotFound,
            MachineError::ChatDisabled
            | MachineError::OptionNotOffered { .. }
            | MachineError::UnexpectedEvent { .. }
            | MachineError::ConversationFinished => K::Conflict,
        }
    }

    fn code(&self) -> &'static str {
        MachineError::code(self)
    }
}

impl MachineError {
    /// Stable code for APIs and logs.
    pub fn code(&self) -> &'static str {
        match self {
            MachineError::ChatDisabled => "chat_disabled",
            MachineError::EmptyText => "empty_text",
            MachineError::TextTooLong { .. } => "text_too_long",
            MachineError::OptionNotOffered { .. } => "option_not_offered",
            MachineError::TicketNotFound { .. } => "ticket_not_found",
            MachineError::UnexpectedEvent { .. } => "unexpected_event",
            MachineError::InvalidEvent { .. } => "invalid_event",
            MachineError::ConversationFinished => "conversation_finished",
        }
    }

    /// What to tell the requester, for errors the requester caused. `None` for orchestrator
    /// errors (`unexpected_event`, `invalid_event`), which are logged rather than shown.
    pub fn user_reply(&self) -> Option<Reply> {
        let reply = match self {
            MachineError::ChatDisabled => Reply::new(TextKey::ChatDisabled),
            MachineError::EmptyText => Reply::new(TextKey::EmptyMessage),
            MachineError::TextTooLong { limit, .. } => {
                Reply::new(TextKey::MessageTooLong).arg(Arg::Limit, limit.to_string())
            }
            MachineError::OptionNotOffered { .. } => Reply::new(TextKey::OptionUnavailable),
            MachineError::TicketNotFound { number } => {
                Reply::new(TextKey::TicketNotYours).arg(Arg::Ticket, number.clone())
            }
            MachineError::ConversationFinished => Reply::new(TextKey::ConversationEnded),
            MachineError::UnexpectedEvent { .. } | MachineError::InvalidEvent { .. } => {
                return None;
            }
        };
        Some(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::MAX_TEXT_CHARS;

    fn all() -> Vec<MachineError> {
        vec![
            MachineError::ChatDisabled,
            MachineError::EmptyText,
            MachineError::TextTooLong {
                length: 100_000,
                limit: MAX_TEXT_CHARS,
            },
            MachineError::OptionNotOffered {
                option_id: "x".into(),
            },
            MachineError::TicketNotFound { number: "9".into() },
            MachineError::UnexpectedEvent {
                event: "closed",
                state: "idle",
            },
            MachineError::InvalidEvent { reason: "r" },
            MachineError::ConversationFinished,
        ]
    }

    #[test]
    fn codes_are_unique_snake_case() {
        let mut codes: Vec<&str> = all().iter().map(MachineError::code).collect();
        for code in &codes {
            assert!(code.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all().len());
    }

    #[test]
    fn requester_errors_have_a_reply_and_orchestrator_errors_do_not() {
        for error in all() {
            let internal = matches!(
                error,
                MachineError::UnexpectedEvent { .. } | MachineError::InvalidEvent { .. }
            );
            assert_eq!(error.user_reply().is_none(), internal, "{error}");
        }
        let reply = MachineError::TextTooLong {
            length: 5000,
            limit: MAX_TEXT_CHARS,
        }
        .user_reply()
        .unwrap();
        assert_eq!(reply.args, vec![(Arg::Limit, "4000".to_string())]);
    }
}
