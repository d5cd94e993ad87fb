//! The service-desk parameters the conversation machine reads, numbered as in the product Ponte
//! follows (299, 315, 316, 317, 423, 447) plus the chat mode. Loading them is the config's job;
//! they are passed to every step, so a change takes effect on the next event.

use serde::{Deserialize, Serialize};

/// Who answers a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatMode {
    /// People only: the chat is queued for an attendant as soon as it opens.
    Manual,
    /// The assistant (or Smart Chat) only: tickets are opened, but there is never a live chat.
    Automatic,
    /// The assistant first, then people: a ticket opened from chat queues the chat for a person.
    Both,
}

/// Parameters of the chat, read on every step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    /// 299: chat enabled.
    pub chat_enabled: bool,
    /// 315: contract of tickets opened from chat when the activity does not name one.
    pub default_contract: String,
    /// 316: group (queue) that receives chats and tickets when the activity does not name one.
    pub default_group: String,
    /// 317: activity of tickets opened from chat when none was identified.
    pub default_activity: String,
    /// 423: the virtual assistant answers first (otherwise Smart Chat with its three options).
    pub assistant_enabled: bool,
    /// 447: message posted when the other party is offline. `None`: the built-in localised
    /// notice; `Some("")` (or only whitespace): no notice; `Some(text)`: that text.
    pub offline_message: Option<String>,
    /// Chat mode: manual, automatic or both.
    pub mode: ChatMode,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            chat_enabled: true,
            default_contract: "default".to_string(),
            default_group: "service-desk".to_string(),
            default_activity: "general-request".to_string(),
            assistant_enabled: true,
            offline_message: None,
            mode: ChatMode::Both,
        }
    }
}

impl Params {
    /// Whether a person can take the chat over (modes `manual` and `both`).
    pub fn live_chat(&self) -> bool {
        self.mode != ChatMode::Automatic
    }
}
