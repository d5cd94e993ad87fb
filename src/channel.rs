//! Where a requester talks from: the web chat (the portal widget) or WhatsApp. One type for
//! the store's conversation records and for the desk. The two spell it differently on
//! their wires, and both spellings are kept: the desk (its API, its log and snapshots in
//! the store) says `web_chat` / `whatsapp`, which is the serde name; the conversation API
//! and the store's `conversations.channel` column say `web` / `whatsapp`
//! ([`Channel::conversation_tag`], [`FromStr`], and [`conversation_spelling`] for a serde
//! field).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A channel a conversation comes in through.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    #[serde(rename = "web_chat")]
    Web,
    #[serde(rename = "whatsapp")]
    WhatsApp,
}

impl Channel {
    pub const ALL: [Channel; 2] = [Channel::Web, Channel::WhatsApp];

    /// The desk's spelling (the serde name), also the default queue name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web_chat",
            Channel::WhatsApp => "whatsapp",
        }
    }

    /// The conversation's spelling: the conversation API and the store's column.
    pub fn conversation_tag(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::WhatsApp => "whatsapp",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A conversation tag that names no channel.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown Channel {0:?}")]
pub struct UnknownChannel(pub String);

/// Parses the conversation's spelling (`web`, `whatsapp`).
impl FromStr for Channel {
    type Err = UnknownChannel;

    fn from_str(text: &str) -> Result<Self, UnknownChannel> {
        Channel::ALL
            .into_iter()
            .find(|channel| channel.conversation_tag() == text)
            .ok_or_else(|| UnknownChannel(text.to_string()))
    }
}

/// `#[serde(with = "crate::channel::conversation_spelling")]`: a field in the
/// conversation's spelling (`web`) rather than the desk's (`web_chat`).
pub mod conversation_spelling {
    use super::Channel;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(channel: &Channel, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(channel.conversation_tag())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Channel, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }

    /// The same for an optional field (absent or null is `None`).
    pub mod option {
        use super::Channel;
        use serde::{Deserialize, Deserializer};

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Channel>, D::Error> {
            match Option::<String>::deserialize(deserializer)? {
                Some(text) => text.parse().map(Some).map_err(serde::de::Error::custom),
                None => Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_wire_keeps_its_spelling() {
        assert_eq!(serde_json::to_value(Channel::Web).unwrap(), "web_chat");
        assert_eq!(
            serde_json::from_value::<Channel>("whatsapp".into()).unwrap(),
            Channel::WhatsApp
        );
        assert_eq!("web".parse::<Channel>().unwrap(), Channel::Web);
        assert_eq!(Channel::Web.conversation_tag(), "web");
        assert!("web_chat".parse::<Channel>().is_err());
        #[derive(Serialize, Deserialize)]
        struct Record {
            #[serde(with = "conversation_spelling")]
            channel: Channel,
        }
        let record: Record = serde_json::from_str(r#"{"channel":"web"}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&record).unwrap(),
            r#"{"channel":"web"}"#
        );
    }
}
