//! The live event bus between nodes, over NATS: every event published on this node is fanned
//! out locally as [`LocalBus`] does and also sent to NATS (a subject per conversation,
//! `<prefix>.conversation.<id>`, and `<prefix>.staff`), and what other nodes send is fanned
//! out locally the same way. Each node subscribes once to `<prefix>.>` and skips what it sent
//! itself (a `Ponte-Node` header).
//!
//! Delivery between nodes is at most once, like the local bus: a message that is lost or
//! comes late is recovered from the store by the feed (a gap in `seq`), and a notice
//! describes state the REST API can read again. One task forwards this node's events to
//! NATS in the order they were published, so a conversation's events leave in `seq` order.

use super::bus::{Delivery, EventBus, FeedEvent, LocalBus, StaffEvent, StaffNotice};
use crate::store::Message;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};

/// The header naming the node that published an event.
const NODE_HEADER: &str = "Ponte-Node";

/// What crosses between nodes.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", content = "body", rename_all = "snake_case")]
enum Wire {
    Message(Message),
    Event(FeedEvent),
    Staff(StaffEvent),
}

/// The bus of one node among several.
pub struct NatsBus {
    local: Arc<LocalBus>,
    outgoing: mpsc::UnboundedSender<(String, Vec<u8>)>,
    prefix: String,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for NatsBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsBus")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl NatsBus {
    /// Connects to the NATS server at `url` and starts relaying under `prefix` (nodes that
    /// serve one desk share it).
    pub async fn connect(url: &str, prefix: &str) -> Result<Arc<Self>, async_nats::Error> {
        let client = async_nats::connect(url).await?;
        let node = crate::orchestrator::new_id();
        let local = Arc::new(LocalBus::new());
        let mut incoming = client.subscribe(format!("{prefix}.>")).await?;
        // The subscription is in place once the server has seen it: events published by
        // other nodes from now on reach this one.
        client.flush().await?;
        let receiving = {
            let local = local.clone();
            let node = node.clone();
            let staff_subject = format!("{prefix}.staff");
            let conversation_prefix = format!("{prefix}.conversation.");
            tokio::spawn(async move {
                while let Some(message) = incoming.next().await {
                    let from_here = message
                        .headers
                        .as_ref()
                        .and_then(|headers| headers.get(NODE_HEADER))
                        .is_some_and(|sender| sender.as_str() == node);
                    if from_here {
                        continue;
                    }
                    let wire: Wire = match serde_json::from_slice(&message.payload) {
                        Ok(wire) => wire,
                        Err(error) => {
                            tracing::warn!(subject = %message.subject, %error, "unreadable event from another node");
                            continue;
                        }
                    };
                    let subject = message.subject.as_str();
                    match wire {
                        Wire::Message(stored) if subject.starts_with(&conversation_prefix) => {
                            local.publish_message(&stored)
                        }
                        Wire::Event(event) => {
                            if let Some(id) = subject
                                .strip_prefix(&conversation_prefix)
                                .and_then(decode_token)
                            {
                                local.publish(&id, event);
                            }
                        }
                        Wire::Staff(event) if subject == staff_subject => {
                            local.publish_staff(event)
                        }
                        _ => tracing::warn!(%subject, "event on an unexpected subject"),
                    }
                }
            })
        };
        let (outgoing, mut queue) = mpsc::unbounded_channel::<(String, Vec<u8>)>();
        let sending = tokio::spawn(async move {
            while let Some((subject, payload)) = queue.recv().await {
                let mut headers = async_nats::HeaderMap::new();
                headers.insert(NODE_HEADER, node.as_str());
                if let Err(error) = client
                    .publish_with_headers(subject, headers, payload.into())
                    .await
                {
                    tracing::warn!(%error, "an event could not be sent to the other nodes");
                }
            }
        });
        Ok(Arc::new(NatsBus {
            local,
            outgoing,
            prefix: prefix.to_string(),
            tasks: vec![receiving, sending],
        }))
    }

    fn send(&self, subject: String, wire: &Wire) {
        match serde_json::to_vec(wire) {
            Ok(payload) => {
                // The sending task only stops with the bus.
                let _ = self.outgoing.send((subject, payload));
            }
            Err(error) => tracing::error!(%error, "an event could not be serialized"),
        }
    }

    fn conversation_subject(&self, conversation_id: &str) -> String {
        format!(
            "{}.conversation.{}",
            self.prefix,
            encode_token(conversation_id)
        )
    }
}

impl Drop for NatsBus {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl EventBus for NatsBus {
    fn publish_message(&self, message: &Message) {
        self.local.publish_message(message);
        self.send(
            self.conversation_subject(&message.conversation_id),
            &Wire::Message(message.clone()),
        );
    }

    fn publish(&self, conversation_id: &str, event: FeedEvent) {
        self.local.publish(conversation_id, event.clone());
        self.send(
            self.conversation_subject(conversation_id),
            &Wire::Event(event),
        );
    }

    fn subscribe(&self, conversation_id: &str) -> broadcast::Receiver<Delivery> {
        self.local.subscribe(conversation_id)
    }

    fn publish_staff(&self, event: StaffEvent) {
        self.local.publish_staff(event.clone());
        self.send(format!("{}.staff", self.prefix), &Wire::Staff(event));
    }

    fn subscribe_staff(&self) -> broadcast::Receiver<Arc<StaffNotice>> {
        self.local.subscribe_staff()
    }

    fn close(&self) {
        self.local.close();
    }
}

/// A conversation id as one subject token: as is when it is plain (ids are UUIDs), else `x`
/// and its bytes in hex (a `.`, `*`, `>` or space would break the subject).
fn encode_token(id: &str) -> String {
    let plain = !id.is_empty()
        && !id.starts_with('x')
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if plain {
        id.to_string()
    } else {
        let hex: String = id.bytes().map(|byte| format!("{byte:02x}")).collect();
        format!("x{hex}")
    }
}

fn decode_token(token: &str) -> Option<String> {
    let Some(hex) = token.strip_prefix('x') else {
        return Some(token.to_string());
    };
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_become_one_subject_token_and_come_back() {
        for id in [
            "4f1c2a9e-7b3d-4c1e-9a55-0c2b7d1e8f90",
            "a.b",
            "x-starts-with-x",
            "olá mundo",
            "*>",
        ] {
            let token = encode_token(id);
            assert!(
                !token.contains(['.', '*', '>', ' ']),
                "{id:?} gave {token:?}"
            );
            assert_eq!(decode_token(&token).as_deref(), Some(id));
        }
    }
}
