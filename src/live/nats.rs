//! The live event bus between nodes, over NATS JetStream: every event published on this node
//! is fanned out locally as [`LocalBus`] does and also relayed to the other nodes, and what
//! they relay is fanned out here the same way.
//!
//! At connect, the node gets (or creates) one stream, `<PREFIX>_LIVE`, on the subjects
//! `<prefix>.>`, kept in files for [`RETENTION`] with a duplicate window as long. Each node
//! publishes on a subject of its own, `<prefix>.events.<node id>`. Then:
//! - [`relay`] publishes this node's events to the stream in the order they were published,
//!   gathered into batches (a JSON array of [`Entry`]; under load one NATS message carries
//!   many events), each with a `Ponte-Node` header and a `Nats-Msg-Id` (node id and a
//!   counter). Acks are awaited off the hot path; a batch whose ack does not come stays in a
//!   bounded queue and is published again, in order, once NATS answers, and JetStream drops
//!   the copies it had already stored (same message id).
//! - [`intake`] reads the stream with an ordered consumer from the stream's end at connect,
//!   skips what this node sent, and resumes after the last stream sequence it handed out when
//!   the connection comes back, so nothing published while it was away is missed.
//!
//! Delivery between nodes is thus at least once, and duplicates are harmless: the feed of a
//! conversation hands out each `seq` once ([`Feed`](super::Feed)), and the intake drops a
//! message id it has already delivered. The connection state is what `/health` reports
//! ([`EventBus::link`]).

mod intake;
mod relay;

use super::bus::{Delivery, EventBus, FeedEvent, Link, LocalBus, StaffEvent, StaffNotice};
use crate::store::Message;
use async_nats::jetstream;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};

/// The header naming the node that published an event.
const NODE_HEADER: &str = "Ponte-Node";

/// JetStream's header for the id it drops duplicates by.
const MESSAGE_ID_HEADER: &str = "Nats-Msg-Id";

/// How long the stream keeps an event (and remembers its message id): a node that was away
/// longer reads what it missed from the store, as after a restart.
pub const RETENTION: Duration = Duration::from_secs(120);

/// How long connecting, and each JetStream request, may take before it counts as a failure.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(4);

/// What crosses between nodes.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", content = "body", rename_all = "snake_case")]
enum Wire {
    Message(Message),
    Event(FeedEvent),
    Staff(StaffEvent),
}

/// One event of a batch, and the conversation it belongs to (none: the staff feed's). A
/// node reads the event only when somebody there listens to that conversation or feed; one
/// who starts listening later reads what it missed from the store, as on one node.
#[derive(Debug, Serialize)]
struct Entry<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    conversation: Option<&'a str>,
    event: Wire,
}

/// An [`Entry`] as read, its event still unparsed.
#[derive(Debug, Deserialize)]
struct Received<'a> {
    #[serde(default, borrow)]
    conversation: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    event: &'a serde_json::value::RawValue,
}

/// Why a node could not join the others.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    #[error("NATS is unreachable at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("NATS at {url} has no usable JetStream (run nats-server with -js): {reason}")]
    NoJetStream { url: String, reason: String },
    #[error(
        "nats prefix {0:?} must be one or more letters, digits, `_` or `-` (it becomes a subject \
         token and the stream's name)"
    )]
    BadPrefix(String),
}

/// Whether `prefix` can be a subject token and a stream name.
fn valid_prefix(prefix: &str) -> bool {
    !prefix.is_empty()
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The bus of one node among several.
pub struct NatsBus {
    local: Arc<LocalBus>,
    outgoing: mpsc::UnboundedSender<relay::Outgoing>,
    prefix: String,
    client: async_nats::Client,
    backlog: Arc<std::sync::atomic::AtomicUsize>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for NatsBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsBus")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// The name of the stream every node of `prefix` shares.
pub fn stream_name(prefix: &str) -> String {
    let name: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{name}_LIVE")
}

/// The stream every node of `prefix` shares.
fn stream_config(prefix: &str) -> jetstream::stream::Config {
    jetstream::stream::Config {
        name: stream_name(prefix),
        subjects: vec![format!("{prefix}.>")],
        storage: jetstream::stream::StorageType::File,
        max_age: RETENTION,
        duplicate_window: RETENTION,
        ..Default::default()
    }
}

impl NatsBus {
    /// Connects to the NATS server at `url`, gets or creates the stream and starts relaying
    /// under `prefix` (nodes that serve one desk share it). Fails within a few seconds when
    /// the server does not answer or has no JetStream.
    pub async fn connect(url: &str, prefix: &str) -> Result<Arc<Self>, NatsError> {
        if !valid_prefix(prefix) {
            return Err(NatsError::BadPrefix(prefix.to_string()));
        }
        let shown = crate::telemetry::redact_url(url);
        let unreachable = |reason: String| NatsError::Unreachable {
            url: shown.clone(),
            reason,
        };
        // Bumped on every (re)connection: the relay and the intake resume at once.
        let (connected_tx, connected_rx) = watch::channel(0u64);
        let options = async_nats::ConnectOptions::new()
            .connection_timeout(REQUEST_TIMEOUT)
            .request_timeout(Some(REQUEST_TIMEOUT))
            .ping_interval(Duration::from_secs(10))
            // Back within a second of the server: writes wait on it (503 meanwhile).
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis(100 * attempts.clamp(1, 10) as u64)
            })
            .event_callback(move |event| {
                let connected_tx = connected_tx.clone();
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            tracing::info!("connected to NATS");
                            connected_tx.send_modify(|generation| *generation += 1);
                        }
                        async_nats::Event::Disconnected => {
                            tracing::warn!("lost the connection to NATS; reconnecting")
                        }
                        other => tracing::debug!(event = %other, "nats event"),
                    }
                }
            });
        let client = tokio::time::timeout(REQUEST_TIMEOUT, options.connect(url))
            .await
            .map_err(|_| unreachable("no answer".to_string()))?
            .map_err(|error| unreachable(error.to_string()))?;
        let mut context = jetstream::new(client.clone());
        context.set_timeout(REQUEST_TIMEOUT);
        let config = stream_config(prefix);
        let stream = tokio::time::timeout(
            REQUEST_TIMEOUT,
            context.get_or_create_stream(config.clone()),
        )
        .await
        .map_err(|_| unreachable("JetStream did not answer".to_string()))?
        .map_err(|error| NatsError::NoJetStream {
            url: shown.clone(),
            reason: error.to_string(),
        })?;
        let node = crate::orchestrator::new_id();
        let local = Arc::new(LocalBus::new());
        let intake = intake::Intake::start(
            context.clone(),
            config.clone(),
            stream.cached_info(),
            node.clone(),
            prefix,
            local.clone(),
            connected_rx.clone(),
        )
        .await
        .map_err(|reason| NatsError::NoJetStream {
            url: shown.clone(),
            reason,
        })?;
        let backlog = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (outgoing, queue) = mpsc::unbounded_channel();
        let relay = relay::Relay {
            jetstream: context,
            stream: config,
            client: client.clone(),
            subject: format!("{prefix}.events.{node}"),
            node,
            backlog: backlog.clone(),
        };
        let sending = tokio::spawn(relay.run(queue, connected_rx));
        Ok(Arc::new(NatsBus {
            local,
            outgoing,
            prefix: prefix.to_string(),
            client,
            backlog,
            tasks: vec![intake, sending],
        }))
    }

    fn send(&self, entry: &Entry<'_>) {
        match serde_json::to_vec(entry) {
            Ok(entry) => {
                // The relay only stops with the bus.
                let _ = self.outgoing.send(relay::Outgoing {
                    entry: entry.into(),
                });
            }
            Err(error) => tracing::error!(%error, "an event could not be serialized"),
        }
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
        self.send(&Entry {
            conversation: Some(&message.conversation_id),
            event: Wire::Message(message.clone()),
        });
    }

    fn publish(&self, conversation_id: &str, event: FeedEvent) {
        self.local.publish(conversation_id, event.clone());
        self.send(&Entry {
            conversation: Some(conversation_id),
            event: Wire::Event(event),
        });
    }

    fn subscribe(&self, conversation_id: &str) -> broadcast::Receiver<Delivery> {
        self.local.subscribe(conversation_id)
    }

    fn publish_staff(&self, event: StaffEvent) {
        self.local.publish_staff(event.clone());
        self.send(&Entry {
            conversation: None,
            event: Wire::Staff(event),
        });
    }

    fn subscribe_staff(&self) -> broadcast::Receiver<Arc<StaffNotice>> {
        self.local.subscribe_staff()
    }

    fn close(&self) {
        self.local.close();
    }

    fn link(&self) -> Option<Link> {
        Some(Link {
            connected: self.client.connection_state() == async_nats::connection::State::Connected,
            backlog: self.backlog.load(std::sync::atomic::Ordering::Relaxed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_id_is_one_plain_subject_token() {
        // It names the node's subject, `<prefix>.events.<node>`, as it is.
        assert!(valid_prefix(&crate::orchestrator::new_id()));
    }

    #[test]
    fn a_prefix_must_be_one_plain_subject_token() {
        for good in ["ponte", "desk-2", "ci_41"] {
            assert!(valid_prefix(good), "{good}");
        }
        for bad in ["", "a.b", "a b", "a*", "a>", "ação"] {
            assert!(!valid_prefix(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_stream_is_named_after_the_prefix_and_holds_its_subjects() {
        let config = stream_config("ponte");
        assert_eq!(config.name, "PONTE_LIVE");
        assert_eq!(config.subjects, ["ponte.>"]);
        assert_eq!(stream_config("desk.a-1").name, "DESK_A_1_LIVE");
        assert_eq!(config.duplicate_window, RETENTION);
    }
}
