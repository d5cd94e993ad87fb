//! The wire contract of the bridge, both directions: the outbound event types and the body
//! every event has (`{"type", "timestamp", "data"}`), and the inbound events an external desk
//! sends, parsed from the same shape. The README's "The bridge contract" documents it for desk
//! vendors; this module is its one implementation.

use serde::{Deserialize, Serialize};

pub use crate::store::OutboundType;

/// The body of every event, both directions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    #[serde(rename = "type")]
    pub event_type: String,
    /// RFC 3339, UTC.
    pub timestamp: String,
    pub data: serde_json::Value,
}

/// The outbound body: the same bytes on every attempt of an event.
pub fn outbound_body(
    event_type: OutboundType,
    created_at_ms: i64,
    seq: i64,
    conversation_id: &str,
    data: &serde_json::Value,
) -> Vec<u8> {
    let mut data = data.clone();
    if let Some(object) = data.as_object_mut() {
        object.insert("conversation_id".into(), conversation_id.into());
        object.insert("seq".into(), seq.into());
    }
    let envelope = Envelope {
        event_type: event_type.as_str().into(),
        timestamp: rfc3339(created_at_ms),
        data,
    };
    serde_json::to_vec(&envelope).expect("a JSON value serialises")
}

/// Unix milliseconds as RFC 3339 UTC with milliseconds.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A file an agent sent, by URL: fetched only from the bridge's allowed hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentLink {
    pub url: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
}

/// An event from the external desk.
#[derive(Debug, Clone, PartialEq)]
pub enum InboundEvent {
    /// An agent took the conversation.
    AgentAccepted {
        conversation_id: String,
        agent: String,
    },
    /// An agent wrote; `external_id` makes it idempotent.
    AgentMessage {
        conversation_id: String,
        external_id: String,
        agent: Option<String>,
        text: String,
        attachments: Vec<AttachmentLink>,
    },
    /// The external desk closed the conversation.
    ConversationClosed {
        conversation_id: String,
        reason: Option<String>,
    },
    /// The external desk cannot take the conversation: it falls back to Ponte's desk.
    HandoffFailed {
        conversation_id: String,
        reason: Option<String>,
    },
}

impl InboundEvent {
    pub fn conversation_id(&self) -> &str {
        match self {
            InboundEvent::AgentAccepted {
                conversation_id, ..
            }
            | InboundEvent::AgentMessage {
                conversation_id, ..
            }
            | InboundEvent::ConversationClosed {
                conversation_id, ..
            }
            | InboundEvent::HandoffFailed {
                conversation_id, ..
            } => conversation_id,
        }
    }

    /// Parses an inbound body (`{"type", "timestamp", "data"}`).
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        let envelope: Envelope =
            serde_json::from_slice(body).map_err(|error| format!("malformed body: {error}"))?;
        let data = envelope.data;
        let conversation_id = data
            .get("conversation_id")
            .and_then(|value| value.as_str())
            .filter(|id| !id.trim().is_empty())
            .ok_or("data.conversation_id is required")?
            .to_string();
        let text_of = |field: &str| -> Option<String> {
            data.get(field)
                .and_then(|value| value.as_str())
                .map(str::to_string)
        };
        let agent_name = || -> Option<String> {
            data.get("agent")
                .and_then(|agent| agent.get("name").or(Some(agent)))
                .and_then(|name| name.as_str())
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_string)
        };
        Ok(match envelope.event_type.as_str() {
            "agent.accepted" => InboundEvent::AgentAccepted {
                conversation_id,
                agent: agent_name().ok_or("data.agent.name is required")?,
            },
            "agent.message" => {
                let attachments: Vec<AttachmentLink> = match data.get("attachments") {
                    None | Some(serde_json::Value::Null) => Vec::new(),
                    Some(value) => serde_json::from_value(value.clone())
                        .map_err(|error| format!("data.attachments: {error}"))?,
                };
                let text = text_of("text").unwrap_or_default();
                if text.trim().is_empty() && attachments.is_empty() {
                    return Err("data.text or data.attachments is required".into());
                }
                InboundEvent::AgentMessage {
                    conversation_id,
                    external_id: text_of("id")
                        .filter(|id| !id.trim().is_empty())
                        .ok_or("data.id (the message's external id) is required")?,
                    agent: agent_name(),
                    text,
                    attachments,
                }
            }
            "conversation.closed" => InboundEvent::ConversationClosed {
                conversation_id,
                reason: text_of("reason"),
            },
            "handoff.failed" => InboundEvent::HandoffFailed {
                conversation_id,
                reason: text_of("reason"),
            },
            other => return Err(format!("unknown event type {other:?}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn the_outbound_body_carries_conversation_and_seq() {
        let body = outbound_body(
            OutboundType::MessageCreated,
            0,
            7,
            "c1",
            &serde_json::json!({"text": "oi"}),
        );
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(value["type"], "message.created");
        assert_eq!(value["data"]["seq"], 7);
        assert_eq!(value["data"]["conversation_id"], "c1");
        assert_eq!(value["data"]["text"], "oi");
    }

    #[test]
    fn inbound_events_parse_and_bad_ones_say_why() {
        let accepted = br#"{"type":"agent.accepted","timestamp":"x","data":{"conversation_id":"c","agent":{"name":"Ana"}}}"#;
        assert_eq!(
            InboundEvent::parse(accepted).unwrap(),
            InboundEvent::AgentAccepted {
                conversation_id: "c".into(),
                agent: "Ana".into()
            }
        );
        let message = br#"{"type":"agent.message","timestamp":"x","data":{"conversation_id":"c","id":"m1","text":"hi"}}"#;
        assert!(matches!(
            InboundEvent::parse(message).unwrap(),
            InboundEvent::AgentMessage { external_id, .. } if external_id == "m1"
        ));
        for (body, why) in [
            (&b"{"[..], "malformed"),
            (br#"{"type":"agent.accepted","timestamp":"x","data":{}}"#, "conversation_id"),
            (br#"{"type":"agent.message","timestamp":"x","data":{"conversation_id":"c","text":"hi"}}"#, "external id"),
            (br#"{"type":"agent.message","timestamp":"x","data":{"conversation_id":"c","id":"m"}}"#, "text"),
            (br#"{"type":"agent.dance","timestamp":"x","data":{"conversation_id":"c"}}"#, "unknown event type"),
        ] {
            let error = InboundEvent::parse(body).unwrap_err();
            assert!(error.contains(why), "{error}");
        }
    }
}
