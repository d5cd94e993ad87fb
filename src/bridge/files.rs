//! Files across a bridge, both ways. An agent's attachment link is fetched here (only over
//! https from a host the bridge allows, or plain http where the bridge allows private
//! addresses, through the address guard, without redirects, with the upload rules' type
//! allow-list and per-kind size limits enforced while the body streams) and stored beside
//! the desk's attachments, recorded as a [`BridgeFile`] the requester may download. A
//! requester's upload in a bridged chat leaves as a signed download link: the link names the
//! bridge, the file and an expiry, and carries an HMAC of the three under the bridge's
//! outbound secret, so the external desk can fetch it without an account.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use reqwest::{Client, Url, header, redirect};

use super::config::BridgeConfig;
use super::guard::{self, GuardedResolver};
use super::signature::Secret;
use super::{AttachmentLink, BridgeError};
use crate::desk::ops::{AttachmentKind, kind_for};
use crate::store::{BridgeFile, FileOrigin};

/// How long a requester file's download link stays valid after its event was written (the
/// whole retry schedule is about 33 hours).
pub const LINK_LIFETIME_MS: i64 = 7 * 24 * 3_600_000;

/// Where files are kept and how the external desk reaches Ponte.
#[derive(Debug, Clone)]
pub struct FileSettings {
    /// The directory of attachment bytes (shared with the desk; ids never collide).
    pub dir: PathBuf,
    /// Ponte's address as the external desk reaches it (for download links), without a
    /// trailing slash; `None`: http:// and the address the server is bound to.
    pub public_url: Option<String>,
    /// One fetch's time limit.
    pub timeout: Duration,
}

/// Fetches agents' attachment links: one client per address policy.
#[derive(Debug, Clone)]
pub struct Fetcher {
    strict: Client,
    permissive: Client,
    timeout: Duration,
}

impl Fetcher {
    pub fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = |allow_private| {
            Client::builder()
                .user_agent(super::transport::USER_AGENT)
                .timeout(timeout)
                .connect_timeout(timeout)
                .redirect(redirect::Policy::none())
                .no_proxy()
                .dns_resolver(GuardedResolver { allow_private })
                .build()
        };
        Ok(Fetcher {
            strict: client(false)?,
            permissive: client(true)?,
            timeout,
        })
    }

    /// Checks, fetches and stores every link of an agent message, in order; the first
    /// refusal or failure stops (files already stored stay unreferenced, harmlessly).
    pub async fn fetch_all(
        &self,
        config: &BridgeConfig,
        settings: &FileSettings,
        conversation_id: &str,
        links: &[AttachmentLink],
    ) -> Result<Vec<BridgeFile>, BridgeError> {
        let mut files = Vec::with_capacity(links.len());
        for link in links {
            let url = check_link(config, link)?;
            files.push(
                self.fetch(config, settings, conversation_id, link, url)
                    .await?,
            );
        }
        Ok(files)
    }

    async fn fetch(
        &self,
        config: &BridgeConfig,
        settings: &FileSettings,
        conversation_id: &str,
        link: &AttachmentLink,
        url: Url,
    ) -> Result<BridgeFile, BridgeError> {
        let unavailable =
            |why: String| BridgeError::AttachmentUnavailable(format!("{}: {why}", link.url));
        guard::check(&url, config.allow_private)
            .await
            .map_err(|refusal| BridgeError::Attachment(format!("{}: {refusal}", link.url)))?;
        let client = if config.allow_private {
            &self.permissive
        } else {
            &self.strict
        };
        let fetched = async {
            let mut request = client.get(url.clone());
            if let Some(token) = config.media_token(&url) {
                request = request.bearer_auth(token);
            }
            let mut response = request
                .send()
                .await
                .map_err(|error| unavailable(error.to_string()))?;
            let status = response.status();
            if !status.is_success() {
                return Err(unavailable(format!("the host answered {status}")));
            }
            // The host's type decides; the link's own is only a fallback.
            let content_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string)
                .or_else(|| link.content_type.clone())
                .unwrap_or_else(|| "application/octet-stream".to_string());
            let kind = media_kind(&content_type)?;
            let limit = kind.max_bytes();
            if let Some(length) = response.content_length()
                && length > limit
            {
                return Err(too_large(length, limit));
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|error| unavailable(error.to_string()))?
            {
                if (bytes.len() + chunk.len()) as u64 > limit {
                    return Err(too_large((bytes.len() + chunk.len()) as u64, limit));
                }
                bytes.extend_from_slice(&chunk);
            }
            if bytes.is_empty() {
                return Err(BridgeError::Attachment(format!(
                    "{}: the file is empty",
                    link.url
                )));
            }
            Ok((crate::desk::ops::media_essence(&content_type), kind, bytes))
        };
        let (content_type, kind, bytes) = tokio::time::timeout(self.timeout, fetched)
            .await
            .map_err(|_| unavailable(format!("no answer within {:?}", self.timeout)))??;
        let id = crate::orchestrator::new_id().replace('-', "");
        crate::attendance::files::write(&settings.dir, &id, &bytes)
            .await
            .map_err(|error| unavailable(error.to_string()))?;
        Ok(BridgeFile {
            id,
            conversation_id: conversation_id.to_string(),
            bridge_id: config.id.clone(),
            origin: FileOrigin::Agent,
            file_name: file_name(link, &url),
            content_type,
            kind: kind_name(kind).to_string(),
            size: bytes.len() as u64,
            source_url: Some(url.to_string()),
            created_at: crate::store::now_millis(),
        })
    }
}

/// A link is taken only over https (or http where private addresses are allowed) from one
/// of the bridge's attachment hosts (a Matrix bridge's homeserver is one), and with an
/// allowed type when it names one.
pub fn check_link(config: &BridgeConfig, link: &AttachmentLink) -> Result<Url, BridgeError> {
    let url = Url::parse(&link.url).map_err(|error| {
        BridgeError::Attachment(format!("{:?} is not a URL: {error}", link.url))
    })?;
    let secure = url.scheme() == "https" || (config.allow_private && url.scheme() == "http");
    if !secure {
        return Err(BridgeError::Attachment(format!(
            "{:?}: only https links are taken",
            link.url
        )));
    }
    let host = url.host_str().unwrap_or_default();
    let allowed = config
        .attachment_hosts
        .iter()
        .any(|allowed| allowed.eq_ignore_ascii_case(host));
    // A Matrix bridge takes its own homeserver's media.
    if !allowed && config.media_token(&url).is_none() {
        return Err(BridgeError::Attachment(format!(
            "host {host:?} is not one this bridge allows attachments from"
        )));
    }
    if let Some(content_type) = &link.content_type {
        media_kind(content_type)?;
    }
    Ok(url)
}

fn media_kind(content_type: &str) -> Result<AttachmentKind, BridgeError> {
    kind_for(content_type).ok_or_else(|| {
        BridgeError::Attachment(format!(
            "{:?} is not a type attachments may have",
            crate::desk::ops::media_essence(content_type)
        ))
    })
}

fn too_large(size: u64, limit: u64) -> BridgeError {
    BridgeError::Attachment(format!(
        "the file is larger than {limit} bytes (at least {size})"
    ))
}

pub fn kind_name(kind: AttachmentKind) -> &'static str {
    match kind {
        AttachmentKind::Image => "image",
        AttachmentKind::Video => "video",
        AttachmentKind::Audio => "audio",
        AttachmentKind::File => "file",
    }
}

/// The link's name, or its path's last segment; no path, no control characters.
fn file_name(link: &AttachmentLink, url: &Url) -> String {
    let given = link
        .name
        .clone()
        .filter(|name| !name.trim().is_empty())
        .or_else(|| {
            url.path_segments()
                .and_then(|mut segments| segments.next_back().map(str::to_string))
        })
        .unwrap_or_default();
    crate::desk::ops::clean_file_name(&given)
}

/// The message payload that shows agent files to the requester: the first as `attachment`
/// (what the clients render) and all of them as `files`.
pub fn agent_payload(files: &[BridgeFile]) -> Option<serde_json::Value> {
    let view = |file: &BridgeFile| {
        serde_json::json!({
            "id": file.id,
            "conversation_id": file.conversation_id,
            "file_name": file.file_name,
            "content_type": file.content_type,
            "size": file.size,
            "kind": file.kind,
            "download": format!("/api/attachments/{}", file.id),
        })
    };
    let first = files.first()?;
    Some(serde_json::json!({
        "attachment": view(first),
        "files": files.iter().map(view).collect::<Vec<_>>(),
    }))
}

/// What the link's signature covers.
fn link_message(bridge_id: &str, file_id: &str, expires_ms: i64) -> String {
    format!("ponte-file.{bridge_id}.{file_id}.{expires_ms}")
}

/// The download link of a requester file for the external desk, valid until `expires_ms`.
pub fn signed_link(
    public_url: &str,
    bridge_id: &str,
    secret: &Secret,
    file_id: &str,
    expires_ms: i64,
) -> String {
    let tag = secret.tag(link_message(bridge_id, file_id, expires_ms).as_bytes());
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag);
    format!(
        "{}/api/bridges/{}/files/{file_id}?expires={expires_ms}&signature={signature}",
        public_url.trim_end_matches('/'),
        urlencoding(bridge_id)
    )
}

/// Whether a download link's signature is one of the bridge's outbound secrets' and the link
/// has not expired.
pub fn link_verifies(
    secrets: &[Secret],
    bridge_id: &str,
    file_id: &str,
    expires_ms: i64,
    signature: &str,
    now_ms: i64,
) -> bool {
    if expires_ms < now_ms {
        return false;
    }
    let Ok(tag) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature) else {
        return false;
    };
    let message = link_message(bridge_id, file_id, expires_ms);
    secrets
        .iter()
        .any(|secret| secret.tag_matches(message.as_bytes(), &tag))
}

/// Percent-encodes a path segment (bridge ids are plain, but nothing is assumed).
fn urlencoding(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(byte: u8) -> Secret {
        Secret::from_key(vec![byte; 32])
    }

    fn query(link: &str, name: &str) -> String {
        let url = Url::parse(link).unwrap();
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .unwrap()
    }

    #[test]
    fn a_signed_link_verifies_until_it_expires_and_only_for_its_file_and_bridge() {
        let link = signed_link("https://ponte.example/", "desk", &secret(1), "abc", 5_000);
        assert!(link.starts_with(
            "https://ponte.example/api/bridges/desk/files/abc?expires=5000&signature="
        ));
        let signature = query(&link, "signature");
        assert!(link_verifies(
            &[secret(1)],
            "desk",
            "abc",
            5_000,
            &signature,
            4_999
        ));
        // Rotation: any outbound secret may have signed it.
        assert!(link_verifies(
            &[secret(2), secret(1)],
            "desk",
            "abc",
            5_000,
            &signature,
            0
        ));
        assert!(!link_verifies(
            &[secret(1)],
            "desk",
            "abc",
            5_000,
            &signature,
            5_001
        ));
        assert!(!link_verifies(
            &[secret(1)],
            "desk",
            "abd",
            5_000,
            &signature,
            0
        ));
        assert!(!link_verifies(
            &[secret(1)],
            "other",
            "abc",
            5_000,
            &signature,
            0
        ));
        assert!(!link_verifies(
            &[secret(1)],
            "desk",
            "abc",
            6_000,
            &signature,
            0
        ));
        assert!(!link_verifies(
            &[secret(2)],
            "desk",
            "abc",
            5_000,
            &signature,
            0
        ));
        assert!(!link_verifies(
            &[secret(1)],
            "desk",
            "abc",
            5_000,
            "not base64!",
            0
        ));
    }

    fn bridge(hosts: &[&str], allow_private: bool) -> BridgeConfig {
        serde_json::from_value(serde_json::json!({
            "kind": "webhook", "endpoint": "https://desk.example/hook",
            "attachment_hosts": hosts, "allow_private": allow_private,
        }))
        .unwrap()
    }

    fn link(url: &str, content_type: Option<&str>) -> AttachmentLink {
        AttachmentLink {
            url: url.to_string(),
            name: None,
            content_type: content_type.map(str::to_string),
        }
    }

    #[test]
    fn links_are_taken_only_from_allowed_hosts_over_https_with_allowed_types() {
        let strict = bridge(&["files.example"], false);
        assert!(
            check_link(
                &strict,
                &link("https://files.example/a.png", Some("image/png"))
            )
            .is_ok()
        );
        assert!(check_link(&strict, &link("https://FILES.example/a.png", None)).is_ok());
        for refused in [
            link("http://files.example/a.png", None),
            link("https://evil.example/a.png", None),
            link("https://files.example.evil.example/a.png", None),
            link(
                "https://files.example/a.exe",
                Some("application/x-msdownload"),
            ),
            link("not a url", None),
        ] {
            assert!(
                matches!(
                    check_link(&strict, &refused),
                    Err(BridgeError::Attachment(_))
                ),
                "{refused:?} must be refused"
            );
        }
        let private = bridge(&["127.0.0.1"], true);
        assert!(check_link(&private, &link("http://127.0.0.1:9/a.pdf", None)).is_ok());
    }

    #[test]
    fn a_file_name_is_the_links_or_the_paths_last_segment_without_a_path() {
        let url = Url::parse("https://files.example/x/y/report%20final.pdf").unwrap();
        assert_eq!(
            file_name(&link(url.as_str(), None), &url),
            "report%20final.pdf"
        );
        let named = AttachmentLink {
            name: Some("../../etc/passwd".into()),
            ..link(url.as_str(), None)
        };
        assert_eq!(file_name(&named, &url), "passwd");
        let bare = Url::parse("https://files.example/").unwrap();
        assert_eq!(file_name(&link(bare.as_str(), None), &bare), "attachment");
    }
}
