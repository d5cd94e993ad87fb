//! A bridge's definition, as an admin writes it (`PUT /api/admin/bridges/{id}` or the
//! configuration file): its kind, endpoint, secrets per direction, which hand-offs it takes
//! and how it fails. Secrets are kept in the store and never shown (see [`BridgeView`]).

use serde::{Deserialize, Serialize};

use super::signature::Secret;

/// What is on the other side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BridgeKind {
    /// Any desk that speaks Ponte's webhook contract (README, "The bridge contract").
    Webhook,
    /// A Matrix homeserver, Ponte registered as an application service.
    Matrix,
}

/// Which hand-offs go to a bridge: by the service group queued for, or by the desk project
/// of that group. Both empty: none (a bridge takes nothing it was not told to).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Routes {
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub projects: Vec<String>,
}

impl Routes {
    /// Whether a hand-off to `group` (in desk project `project`, if any) goes here.
    pub fn takes(&self, group: &str, project: Option<&str>) -> bool {
        self.groups.iter().any(|g| g == group)
            || project.is_some_and(|p| self.projects.iter().any(|q| q == p))
    }
}

/// Settings of the Matrix kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatrixSettings {
    /// The application service's token towards the homeserver (`as_token`).
    #[schema(value_type = String)]
    pub as_token: String,
    /// The homeserver's token towards Ponte (`hs_token`): checked on every transaction.
    #[schema(value_type = String)]
    pub hs_token: String,
    /// The homeserver's name (the part after `:` in user ids).
    pub server_name: String,
    /// Ponte's own user's localpart (`ponte` makes `@ponte:server`).
    #[serde(default = "default_sender")]
    pub sender_localpart: String,
    /// The agents invited to every room (`@alice:server`).
    #[serde(default)]
    pub agents: Vec<String>,
}

fn default_sender() -> String {
    "ponte".into()
}

/// A bridge's whole definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BridgeConfig {
    /// Filled from the path; ignored in a request body.
    #[serde(default)]
    pub id: String,
    pub kind: BridgeKind,
    /// Where events go: the receiver's URL (webhook) or the homeserver's base URL (matrix).
    pub endpoint: String,
    /// Secrets that sign outbound events; every one signs during a rotation.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub outbound_secrets: Vec<Secret>,
    /// Secrets accepted on inbound events; any one may match.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub inbound_secrets: Vec<Secret>,
    #[serde(default)]
    pub routes: Routes,
    /// Seconds the external desk has to accept a hand-off before it falls back to Ponte's
    /// own desk queue.
    #[serde(default = "default_accept_deadline")]
    pub accept_deadline_secs: u64,
    /// Whether the endpoint (and attachment hosts) may be on loopback or private addresses.
    #[serde(default)]
    pub allow_private: bool,
    /// Hosts agent attachments may be fetched from (exact host names).
    #[serde(default)]
    pub attachment_hosts: Vec<String>,
    #[serde(default)]
    pub matrix: Option<MatrixSettings>,
}

fn default_accept_deadline() -> u64 {
    120
}

impl BridgeConfig {
    /// Checks what a request or the configuration file gave.
    pub fn validate(&self) -> Result<(), String> {
        crate::store::check_id("bridge id", &self.id).map_err(|error| error.to_string())?;
        let url = reqwest::Url::parse(&self.endpoint)
            .map_err(|error| format!("endpoint is not a URL: {error}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("endpoint must be an http or https URL".into());
        }
        if url.host_str().is_none() {
            return Err("endpoint has no host".into());
        }
        if self.accept_deadline_secs == 0 || self.accept_deadline_secs > 24 * 3600 {
            return Err("accept_deadline_secs must be between 1 and 86400".into());
        }
        match self.kind {
            BridgeKind::Webhook => {
                if self.outbound_secrets.is_empty() {
                    return Err("a webhook bridge needs at least one outbound secret".into());
                }
                if self.inbound_secrets.is_empty() {
                    return Err("a webhook bridge needs at least one inbound secret".into());
                }
            }
            BridgeKind::Matrix => {
                let Some(matrix) = &self.matrix else {
                    return Err("a matrix bridge needs its matrix settings".into());
                };
                if matrix.as_token.is_empty() || matrix.hs_token.is_empty() {
                    return Err("a matrix bridge needs as_token and hs_token".into());
                }
                if matrix.server_name.is_empty() {
                    return Err("a matrix bridge needs server_name".into());
                }
            }
        }
        Ok(())
    }

    /// The keys that sign requester files' download links, newest first: the outbound
    /// secrets, or for a Matrix bridge (which has none) its `as_token`.
    pub fn link_secrets(&self) -> Vec<super::signature::Secret> {
        match (&self.kind, &self.matrix) {
            (BridgeKind::Matrix, Some(matrix)) if self.outbound_secrets.is_empty() => {
                vec![super::signature::Secret::from_key(
                    matrix.as_token.as_bytes().to_vec(),
                )]
            }
            _ => self.outbound_secrets.clone(),
        }
    }

    /// The bearer token an attachment link at `url` is fetched with: a Matrix bridge's own
    /// homeserver serves media only to a signed-in user (its application service).
    pub fn media_token(&self, url: &reqwest::Url) -> Option<&str> {
        let matrix = self.matrix.as_ref()?;
        let homeserver = reqwest::Url::parse(&self.endpoint).ok()?;
        (self.kind == BridgeKind::Matrix && url.origin() == homeserver.origin())
            .then_some(matrix.as_token.as_str())
    }

    /// What the API shows: everything but the secrets, which are counted.
    pub fn view(&self) -> BridgeView {
        BridgeView {
            id: self.id.clone(),
            kind: self.kind,
            endpoint: crate::telemetry::redact_url(&self.endpoint),
            outbound_secrets: self.outbound_secrets.len(),
            inbound_secrets: self.inbound_secrets.len(),
            routes: self.routes.clone(),
            accept_deadline_secs: self.accept_deadline_secs,
            allow_private: self.allow_private,
            attachment_hosts: self.attachment_hosts.clone(),
            matrix: self.matrix.as_ref().map(|matrix| MatrixView {
                server_name: matrix.server_name.clone(),
                sender_localpart: matrix.sender_localpart.clone(),
                agents: matrix.agents.clone(),
            }),
        }
    }
}

/// A bridge as the API shows it: secrets counted, never shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BridgeView {
    pub id: String,
    pub kind: BridgeKind,
    pub endpoint: String,
    pub outbound_secrets: usize,
    pub inbound_secrets: usize,
    pub routes: Routes,
    pub accept_deadline_secs: u64,
    pub allow_private: bool,
    pub attachment_hosts: Vec<String>,
    pub matrix: Option<MatrixView>,
}

/// The Matrix settings an admin may see (no tokens).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MatrixView {
    pub server_name: String,
    pub sender_localpart: String,
    pub agents: Vec<String>,
}
