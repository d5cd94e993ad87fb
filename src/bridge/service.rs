//! The bridges as a service: the definitions (read from the store, written through the
//! admin API or the configuration file), which hand-offs they take ([`BridgeRouter`]), and
//! the inbound side ([`InboundSink`]): an external desk's event applied to its conversation
//! once, its answer kept so a repeat of the same `webhook-id` gets the same answer.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock, RwLock, Weak};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;

use super::config::{BridgeConfig, BridgeKind};
use super::{BridgeError, InboundEvent, InboundSink, Transport};
use crate::attendance::Attendance;
use crate::conversation::MachineError;
use crate::orchestrator::{BridgeInput, BridgeRoute, BridgeRouter, ChatError, Orchestrator};
use crate::store::{BridgeRecord, InboundReceipt, Store, StoreError};

/// How long an inbound receipt is kept: a repeat within it gets the first answer.
pub const RECEIPT_DAYS: i64 = 5;

/// One bridge as the service holds it.
#[derive(Debug, Clone)]
pub struct Held {
    pub config: BridgeConfig,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
}

/// The bridges of this node.
pub struct Bridges {
    store: Arc<dyn Store>,
    chat: Arc<Orchestrator>,
    desk: OnceLock<Weak<Attendance>>,
    held: RwLock<HashMap<String, Held>>,
    transports: HashMap<BridgeKind, Arc<dyn Transport>>,
    /// Serialises inbound events per conversation (receipt check, apply, receipt write).
    stripes: Vec<tokio::sync::Mutex<()>>,
    /// Wakes the dispatcher when new events may be due.
    pub(super) wake: tokio::sync::Notify,
    /// Lanes (bridge, conversation) a step just wrote events to.
    hints: std::sync::Mutex<HashSet<(String, String)>>,
    /// Whether the dispatcher should look at the whole outbox (after a replay, a bridge
    /// defined or turned on).
    look: std::sync::atomic::AtomicBool,
    /// How the dispatcher runs.
    settings: super::schedule::DispatchSettings,
    /// The Matrix kind's transport, whose clients also serve the homeserver's transactions.
    matrix: OnceLock<Arc<super::matrix::MatrixTransport>>,
    /// Where files across the bridge are kept, and the fetcher of agents' links.
    files: OnceLock<(super::files::FileSettings, super::files::Fetcher)>,
    /// `http://` and the address the server is bound to, once it is.
    bound_url: OnceLock<String>,
}

impl Bridges {
    /// Loads the stored bridges. `transports` delivers each kind's events.
    pub async fn load(
        store: Arc<dyn Store>,
        chat: Arc<Orchestrator>,
        transports: HashMap<BridgeKind, Arc<dyn Transport>>,
        settings: super::schedule::DispatchSettings,
    ) -> Result<Arc<Self>, BridgeError> {
        let bridges = Arc::new(Bridges {
            store,
            chat,
            desk: OnceLock::new(),
            held: RwLock::new(HashMap::new()),
            transports,
            stripes: (0..64).map(|_| tokio::sync::Mutex::new(())).collect(),
            wake: tokio::sync::Notify::new(),
            hints: std::sync::Mutex::new(HashSet::new()),
            look: std::sync::atomic::AtomicBool::new(true),
            settings,
            matrix: OnceLock::new(),
            files: OnceLock::new(),
            bound_url: OnceLock::new(),
        });
        bridges.reload().await?;
        let router: Arc<dyn BridgeRouter> = bridges.clone();
        bridges.chat.set_bridges(Arc::downgrade(&router));
        Ok(bridges)
    }

    /// The Matrix transport (when the kind is available), for the homeserver's side.
    pub fn set_matrix(&self, matrix: Arc<super::matrix::MatrixTransport>) {
        let _ = self.matrix.set(matrix);
    }

    /// A Matrix client for bridge `id` (of kind matrix), for its homeserver's transactions.
    pub fn matrix_client(
        &self,
        config: &BridgeConfig,
    ) -> Result<Arc<super::matrix::MatrixClient>, BridgeError> {
        let transport = self.matrix.get().ok_or_else(|| {
            BridgeError::InvalidConfig("the matrix kind is not available on this server".into())
        })?;
        transport
            .client(config)
            .map_err(|error| BridgeError::InvalidConfig(error.to_string()))
    }

    /// Turns files across the bridge on: agents' links are fetched into `settings.dir`,
    /// requesters' uploads leave as links to `settings.public_url`.
    pub fn set_files(&self, settings: super::files::FileSettings) -> Result<(), reqwest::Error> {
        let fetcher = super::files::Fetcher::new(settings.timeout)?;
        let _ = self.files.set((settings, fetcher));
        Ok(())
    }

    /// Tells the bridges where the server is bound (the file links' address unless one is
    /// configured).
    pub fn set_bound_address(&self, address: std::net::SocketAddr) {
        let _ = self.bound_url.set(format!("http://{address}"));
    }

    /// The address the external desk reaches this server at.
    pub fn public_url(&self) -> String {
        self.files
            .get()
            .and_then(|(settings, _)| settings.public_url.clone())
            .or_else(|| self.bound_url.get().cloned())
            .unwrap_or_else(|| "http://127.0.0.1".to_string())
    }

    /// Where files across the bridge are kept, when they are on.
    pub fn file_settings(&self) -> Option<&super::files::FileSettings> {
        self.files.get().map(|(settings, _)| settings)
    }

    /// Lets routes by desk project resolve the project's service group.
    pub fn set_desk(&self, desk: Weak<Attendance>) {
        let _ = self.desk.set(desk);
    }

    /// Reads every definition from the store again (another node may have written one).
    pub async fn reload(&self) -> Result<(), BridgeError> {
        let mut held = HashMap::new();
        for record in self.store.bridges().await? {
            match held_of(&record) {
                Ok(bridge) => {
                    held.insert(record.id.clone(), bridge);
                }
                Err(error) => {
                    tracing::error!(bridge = %record.id, %error, "stored bridge is unreadable; skipped")
                }
            }
        }
        *self.held.write().unwrap_or_else(|p| p.into_inner()) = held;
        Ok(())
    }

    /// How the dispatcher runs.
    pub fn settings(&self) -> &super::schedule::DispatchSettings {
        &self.settings
    }

    /// Tells the dispatcher to look at the outbox now (events were replayed or enabled).
    pub fn wake_dispatcher(&self) {
        self.look.store(true, std::sync::atomic::Ordering::Release);
        self.wake.notify_one();
    }

    /// Whether a full look at the outbox was asked for since the last call.
    pub(super) fn take_look_request(&self) -> bool {
        self.look.swap(false, std::sync::atomic::Ordering::AcqRel)
    }

    /// The lanes steps wrote to since the last call.
    pub(super) fn take_hints(&self) -> Vec<(String, String)> {
        std::mem::take(&mut *self.hints.lock().unwrap_or_else(|p| p.into_inner()))
            .into_iter()
            .collect()
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn orchestrator(&self) -> &Arc<Orchestrator> {
        &self.chat
    }

    /// One bridge, if defined.
    pub fn get(&self, id: &str) -> Option<Held> {
        self.held
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// Every bridge, by id.
    pub fn all(&self) -> Vec<Held> {
        let mut all: Vec<Held> = self
            .held
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        all.sort_by(|a, b| a.config.id.cmp(&b.config.id));
        all
    }

    pub fn transport(&self, kind: BridgeKind) -> Option<Arc<dyn Transport>> {
        self.transports.get(&kind).cloned()
    }

    /// Defines or replaces a bridge (validated; secrets kept as given). A new bridge starts
    /// enabled; a replaced one keeps its state.
    pub async fn put(&self, mut config: BridgeConfig, id: &str) -> Result<Held, BridgeError> {
        config.id = id.to_string();
        config.validate().map_err(BridgeError::InvalidConfig)?;
        if !self.transports.contains_key(&config.kind) {
            return Err(BridgeError::InvalidConfig(format!(
                "bridges of kind {:?} are not available on this server",
                config.kind
            )));
        }
        let previous = self.get(id);
        let record = BridgeRecord {
            id: id.to_string(),
            config: serde_json::to_value(&config)
                .map_err(|error| BridgeError::InvalidConfig(error.to_string()))?,
            enabled: previous.as_ref().is_none_or(|held| held.enabled),
            disabled_reason: previous.and_then(|held| held.disabled_reason),
            updated_at: crate::store::now_millis(),
        };
        let stored = self.store.put_bridge(record).await?;
        let held = held_of(&stored).map_err(BridgeError::InvalidConfig)?;
        self.held
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_string(), held.clone());
        self.wake_dispatcher();
        Ok(held)
    }

    /// Turns a bridge's deliveries on or off.
    pub async fn set_enabled(
        &self,
        id: &str,
        enabled: bool,
        reason: Option<&str>,
    ) -> Result<Held, BridgeError> {
        let stored = self
            .store
            .set_bridge_enabled(id, enabled, reason)
            .await
            .map_err(|error| match error {
                StoreError::NotFound { .. } => BridgeError::UnknownBridge(id.to_string()),
                other => other.into(),
            })?;
        let held = held_of(&stored).map_err(BridgeError::InvalidConfig)?;
        self.held
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_string(), held.clone());
        self.wake_dispatcher();
        Ok(held)
    }

    /// Removes a bridge's definition (its events stay, for the record).
    pub async fn delete(&self, id: &str) -> Result<(), BridgeError> {
        if self.get(id).is_none() {
            return Err(BridgeError::UnknownBridge(id.to_string()));
        }
        self.store.delete_bridge(id).await?;
        self.held
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        Ok(())
    }

    /// The definition of an enabled bridge for its inbound side.
    pub fn inbound_config(&self, id: &str) -> Result<BridgeConfig, BridgeError> {
        let held = self
            .get(id)
            .ok_or_else(|| BridgeError::UnknownBridge(id.to_string()))?;
        if !held.enabled {
            return Err(BridgeError::Disabled(id.to_string()));
        }
        Ok(held.config)
    }

    fn stripe(&self, conversation_id: &str) -> &tokio::sync::Mutex<()> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        conversation_id.hash(&mut hasher);
        &self.stripes[(hasher.finish() % self.stripes.len() as u64) as usize]
    }

    /// Fetches and records an agent message's files (none without links). The conversation
    /// must be handed to this bridge: nothing is fetched for a stranger's conversation.
    async fn fetch_files(
        &self,
        config: &BridgeConfig,
        conversation_id: &str,
        links: &[super::AttachmentLink],
    ) -> Result<Vec<crate::store::BridgeFile>, BridgeError> {
        if links.is_empty() {
            return Ok(Vec::new());
        }
        for link in links {
            super::files::check_link(config, link)?;
        }
        let record = self
            .store
            .get_conversation(conversation_id)
            .await?
            .ok_or_else(|| BridgeError::UnknownConversation(conversation_id.to_string()))?;
        match record.status {
            crate::store::ConversationStatus::Bridged => {}
            crate::store::ConversationStatus::Finished => {
                return Err(BridgeError::ConversationClosed(conversation_id.to_string()));
            }
            _ => return Err(BridgeError::NotBridged(conversation_id.to_string())),
        }
        let (settings, fetcher) = self.files.get().ok_or_else(|| {
            BridgeError::AttachmentUnavailable("this server keeps no files".to_string())
        })?;
        let files = fetcher
            .fetch_all(config, settings, conversation_id, links)
            .await?;
        for file in &files {
            self.store.put_bridge_file(file.clone()).await?;
        }
        Ok(files)
    }

    async fn apply(
        &self,
        bridge_id: &str,
        event: InboundEvent,
    ) -> Result<serde_json::Value, BridgeError> {
        let conversation_id = event.conversation_id().to_string();
        let input = match event {
            InboundEvent::AgentAccepted { agent, .. } => BridgeInput::Accepted { agent },
            InboundEvent::AgentMessage {
                external_id,
                agent,
                text,
                attachments,
                ..
            } => {
                let config = self.inbound_config(bridge_id)?;
                let files = self
                    .fetch_files(&config, &conversation_id, &attachments)
                    .await?;
                let payload = super::files::agent_payload(&files);
                let text = if text.trim().is_empty() {
                    files
                        .first()
                        .map(|file| format!("📎 {}", file.file_name))
                        .unwrap_or_default()
                } else {
                    text
                };
                BridgeInput::Message {
                    agent: agent.unwrap_or_else(|| bridge_id.to_string()),
                    external_id,
                    text,
                    payload,
                }
            }
            InboundEvent::ConversationClosed { reason, .. } => BridgeInput::Closed { reason },
            InboundEvent::HandoffFailed { reason, .. } => {
                tracing::warn!(bridge = bridge_id, conversation = %conversation_id, reason = reason.as_deref().unwrap_or(""), "the external desk refused a hand-off");
                BridgeInput::Failed
            }
        };
        let outcome = self
            .chat
            .bridge_input(bridge_id, &conversation_id, input)
            .await
            .map_err(|error| match error {
                ChatError::UnknownConversation(id) => BridgeError::UnknownConversation(id),
                ChatError::Machine {
                    error: MachineError::ConversationFinished,
                    ..
                } => BridgeError::ConversationClosed(conversation_id.clone()),
                ChatError::NotBridged(id) => BridgeError::NotBridged(id),
                other => BridgeError::Chat(other),
            })?;
        Ok(match outcome {
            Some(outcome) => json!({
                "conversation_id": conversation_id,
                "status": outcome.conversation.status.as_str(),
                "seq": outcome.messages.last().map(|message| message.seq),
                "duplicate": outcome.duplicate,
            }),
            None => json!({ "conversation_id": conversation_id, "status": "unchanged" }),
        })
    }
}

fn held_of(record: &BridgeRecord) -> Result<Held, String> {
    let mut config: BridgeConfig =
        serde_json::from_value(record.config.clone()).map_err(|error| error.to_string())?;
    config.id = record.id.clone();
    Ok(Held {
        config,
        enabled: record.enabled,
        disabled_reason: record.disabled_reason.clone(),
    })
}

#[async_trait]
impl BridgeRouter for Bridges {
    async fn route(&self, group: &str) -> Option<BridgeRoute> {
        let candidates: Vec<Held> = self
            .all()
            .into_iter()
            .filter(|held| held.enabled && self.transports.contains_key(&held.config.kind))
            .collect();
        if let Some(held) = candidates
            .iter()
            .find(|held| held.config.routes.groups.iter().any(|g| g == group))
        {
            return Some(route_of(held));
        }
        let with_projects: Vec<&Held> = candidates
            .iter()
            .filter(|held| !held.config.routes.projects.is_empty())
            .collect();
        if with_projects.is_empty() {
            return None;
        }
        let desk = self.desk.get().and_then(Weak::upgrade)?;
        let projects: Vec<String> = desk
            .book(|book| {
                book.desk()
                    .state()
                    .projects
                    .values()
                    .filter(|project| project.service_group.as_deref() == Some(group))
                    .map(|project| project.id.clone())
                    .collect()
            })
            .await;
        with_projects
            .into_iter()
            .find(|held| {
                projects
                    .iter()
                    .any(|project| held.config.routes.takes(group, Some(project)))
            })
            .map(route_of)
    }

    fn outbox_written(&self, lanes: Vec<(String, String)>) {
        self.hints
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(lanes);
        self.wake.notify_one();
    }
}

fn route_of(held: &Held) -> BridgeRoute {
    BridgeRoute {
        bridge: held.config.id.clone(),
        accept_deadline: Duration::from_secs(held.config.accept_deadline_secs),
    }
}

#[async_trait]
impl InboundSink for Bridges {
    async fn receive(
        &self,
        bridge_id: &str,
        dedup_key: &str,
        event: InboundEvent,
    ) -> Result<serde_json::Value, BridgeError> {
        self.inbound_config(bridge_id)?;
        let _serial = self.stripe(event.conversation_id()).lock().await;
        if let Some(receipt) = self.store.inbound_receipt(bridge_id, dedup_key).await? {
            return replay(receipt);
        }
        let result = self.apply(bridge_id, event).await;
        // What the event led to is kept, failures about the request included, so a repeat
        // gets the same answer; a failure on our side is not kept (a retry runs it again).
        let (status, body) = match &result {
            Ok(body) => (APPLIED, body.clone()),
            Err(error) => {
                use crate::fault::Coded;
                if error.kind().is_server_side() {
                    return result;
                }
                (
                    REFUSED,
                    json!({
                        "kind": error.kind().name(),
                        "code": error.code(),
                        "message": error.to_string(),
                    }),
                )
            }
        };
        self.store
            .record_inbound(
                InboundReceipt {
                    bridge_id: bridge_id.to_string(),
                    webhook_id: dedup_key.to_string(),
                    status,
                    body,
                    received_at: crate::store::now_millis(),
                },
                crate::store::now_millis() - RECEIPT_DAYS * 86_400_000,
            )
            .await?;
        result
    }
}

/// The stable code a receipt names (codes are a closed set; an unknown one reads as
/// `conflict`).
fn stable_code(code: &str) -> &'static str {
    const CODES: [&str; 12] = [
        "unknown_bridge",
        "bridge_disabled",
        "invalid_event",
        "unknown_conversation",
        "not_bridged",
        "conversation_closed",
        "attachment_refused",
        "empty_text",
        "text_too_long",
        "unexpected_event",
        "invalid_id",
        "contact_blocked",
    ];
    CODES
        .into_iter()
        .find(|known| *known == code)
        .unwrap_or("conflict")
}

/// A receipt's status: the event was applied (its body is the answer)...
const APPLIED: u16 = 200;
/// ... or refused (its body holds the error's kind, code and message).
const REFUSED: u16 = 400;

/// The first answer to an event, given again.
fn replay(receipt: InboundReceipt) -> Result<serde_json::Value, BridgeError> {
    if receipt.status == APPLIED {
        return Ok(receipt.body);
    }
    let text = |field: &str| receipt.body[field].as_str().unwrap_or_default().to_string();
    Err(BridgeError::Repeated {
        kind: crate::fault::ErrorKind::from_name(&text("kind"))
            .unwrap_or(crate::fault::ErrorKind::Conflict),
        code: stable_code(&text("code")),
        message: text("message"),
    })
}
