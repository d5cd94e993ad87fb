//! What other nodes relay, read from the stream with an ordered consumer and fanned out on
//! this node's [`LocalBus`]: each message is a batch, its events handed out in order. The intake remembers the stream sequence after the last message
//! it read; whenever the connection comes back (or the consumer ends) it makes a new
//! consumer from there, so an outage loses nothing the stream still holds. A stream created
//! anew (the server lost it) is read from its start. Messages this node sent are skipped
//! (`Ponte-Node`), and so is a message id already delivered (a copy republished after the
//! stream's duplicate window).

use super::{MESSAGE_ID_HEADER, NODE_HEADER, Received, Wire};
use crate::live::bus::{EventBus, LocalBus};
use async_nats::jetstream::{self, consumer::DeliverPolicy, consumer::pull::OrderedConfig};
use futures_util::StreamExt;
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Message ids remembered to drop copies.
const SEEN: usize = 8192;

/// Pause between attempts to make a consumer while the server does not answer.
const RETRY: Duration = Duration::from_millis(500);

type Messages = jetstream::consumer::pull::Ordered;

pub(super) struct Intake {
    jetstream: jetstream::Context,
    config: jetstream::stream::Config,
    node: String,
    local: Arc<LocalBus>,
    /// What the nodes' batches are published under: `<prefix>.events.`.
    events_prefix: String,
    /// The stream sequence the next consumer starts at.
    next: u64,
    /// When the stream this node reads was created: another one means it was lost.
    created: async_nats::datetime::DateTime,
    seen: Seen,
}

impl Intake {
    /// Makes the first consumer, from the stream's end as `info` gives it (what others
    /// publish from now on reaches this node), and spawns the task reading it.
    pub(super) async fn start(
        jetstream: jetstream::Context,
        config: jetstream::stream::Config,
        info: &jetstream::stream::Info,
        node: String,
        prefix: &str,
        local: Arc<LocalBus>,
        connected: watch::Receiver<u64>,
    ) -> Result<tokio::task::JoinHandle<()>, String> {
        let mut intake = Intake {
            jetstream,
            config,
            node,
            local,
            events_prefix: format!("{prefix}.events."),
            next: info.state.last_sequence + 1,
            created: info.created,
            seen: Seen::default(),
        };
        let messages = intake.consume().await?;
        Ok(tokio::spawn(intake.run(messages, connected)))
    }

    async fn run(mut self, mut messages: Messages, mut connected: watch::Receiver<u64>) {
        connected.mark_unchanged();
        loop {
            tokio::select! {
                next = messages.next() => match next {
                    Some(Ok(message)) => {
                        self.deliver(message);
                        continue;
                    }
                    // The ordered consumer mends itself after most errors.
                    Some(Err(error)) => {
                        tracing::debug!(%error, "reading the live stream");
                        continue;
                    }
                    None => {}
                },
                changed = connected.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
            }
            // Connected again, or the consumer ended: a new one from where this one was.
            messages = loop {
                match self.consume().await {
                    Ok(messages) => break messages,
                    Err(error) => {
                        tracing::warn!(%error, "cannot read the live stream yet; retrying");
                        tokio::select! {
                            _ = tokio::time::sleep(RETRY) => {}
                            changed = connected.changed() => if changed.is_err() { return },
                        }
                    }
                }
            };
        }
    }

    /// An ordered consumer of every subject of the stream from `next` on.
    async fn consume(&mut self) -> Result<Messages, String> {
        let stream = self
            .jetstream
            .get_or_create_stream(self.config.clone())
            .await
            .map_err(|error| error.to_string())?;
        let info = stream.cached_info();
        if info.created != self.created {
            // Made anew since this node last read it: all it holds is news here.
            tracing::warn!("the live stream was recreated; reading it from its start");
            self.next = info.state.first_sequence.max(1);
            self.created = info.created;
        } else if info.state.last_sequence + 1 < self.next {
            // The server lost the stream's tail (stopped before writing it out): the
            // sequences after its last one are new messages.
            tracing::warn!("the live stream lost its last messages; reading on from its end");
            self.next = info.state.last_sequence + 1;
        }
        let consumer = stream
            .create_consumer(OrderedConfig {
                filter_subject: self.config.subjects.first().cloned().unwrap_or_default(),
                deliver_policy: DeliverPolicy::ByStartSequence {
                    start_sequence: self.next,
                },
                ..Default::default()
            })
            .await
            .map_err(|error| error.to_string())?;
        consumer.messages().await.map_err(|error| error.to_string())
    }

    fn deliver(&mut self, message: jetstream::Message) {
        let Ok(info) = message.info() else {
            return;
        };
        // An ordered consumer that restarts on its own may go back further than asked.
        if info.stream_sequence < self.next {
            return;
        }
        self.next = info.stream_sequence + 1;
        let header = |name: &str| {
            message
                .headers
                .as_ref()
                .and_then(|headers| headers.get(name))
                .map(|value| value.as_str().to_string())
        };
        if header(NODE_HEADER).as_deref() == Some(self.node.as_str()) {
            return;
        }
        if let Some(id) = header(MESSAGE_ID_HEADER)
            && !self.seen.insert(id)
        {
            return;
        }
        let subject = message.subject.as_str();
        if !subject.starts_with(&self.events_prefix) {
            tracing::warn!(%subject, "event on an unexpected subject");
            return;
        }
        let entries: Vec<Received> = match serde_json::from_slice(&message.payload) {
            Ok(entries) => entries,
            Err(error) => {
                tracing::warn!(%subject, %error, "unreadable events from another node");
                return;
            }
        };
        for entry in entries {
            let listened = match &entry.conversation {
                Some(id) => self.local.watched(id),
                None => self.local.staff_watched(),
            };
            if !listened {
                continue;
            }
            let event: Wire = match serde_json::from_str(entry.event.get()) {
                Ok(event) => event,
                Err(error) => {
                    tracing::warn!(%subject, %error, "an unreadable event from another node");
                    continue;
                }
            };
            match (event, entry.conversation) {
                (Wire::Message(stored), _) => self.local.publish_message(&stored),
                (Wire::Event(event), Some(id)) => self.local.publish(&id, event),
                (Wire::Staff(event), _) => self.local.publish_staff(event),
                (Wire::Event(_), None) => {
                    tracing::warn!(%subject, "a conversation's event without its conversation")
                }
            }
        }
    }
}

/// The last [`SEEN`] message ids delivered.
#[derive(Default)]
struct Seen {
    ids: HashSet<String>,
    order: VecDeque<String>,
}

impl Seen {
    /// Whether `id` is new (and remembers it).
    fn insert(&mut self, id: String) -> bool {
        if self.ids.contains(&id) {
            return false;
        }
        if self.order.len() == SEEN
            && let Some(oldest) = self.order.pop_front()
        {
            self.ids.remove(&oldest);
        }
        self.ids.insert(id.clone());
        self.order.push_back(id);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_id_is_delivered_once_among_the_recent_ones() {
        let mut seen = Seen::default();
        assert!(seen.insert("a-1".into()));
        assert!(!seen.insert("a-1".into()));
        for counter in 2..=SEEN + 1 {
            assert!(seen.insert(format!("a-{counter}")));
        }
        // The oldest was forgotten to keep the memory bounded; the recent ones are not.
        assert!(seen.insert("a-1".into()));
        assert!(!seen.insert(format!("a-{}", SEEN + 1)));
        assert_eq!(seen.ids.len(), SEEN);
    }
}
