//! Files an agent sends through a bridge, by URL. A link is taken only from a host the
//! bridge allows (`attachment_hosts`, exact names) over https (http only where the bridge
//! allows private addresses, as in tests), and with a type the uploads accept; the requester
//! sees it as a link in the agent's message.

use super::config::BridgeConfig;
use super::{AttachmentLink, BridgeError};
use serde_json::json;

/// The links of an agent message as the message's payload, each checked; `None` without any.
/// (The files are not fetched: the requester's client opens the link.)
pub fn check_all(
    config: &BridgeConfig,
    links: &[AttachmentLink],
) -> Result<Option<serde_json::Value>, BridgeError> {
    if links.is_empty() {
        return Ok(None);
    }
    let mut checked = Vec::with_capacity(links.len());
    for link in links {
        let url = reqwest::Url::parse(&link.url).map_err(|error| {
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
        if !config
            .attachment_hosts
            .iter()
            .any(|allowed| allowed == host)
        {
            return Err(BridgeError::Attachment(format!(
                "host {host:?} is not one this bridge allows attachments from"
            )));
        }
        if let Some(content_type) = &link.content_type {
            crate::desk::ops::check_media(content_type, 0)
                .map_err(|error| BridgeError::Attachment(error.to_string()))?;
        }
        let name = link
            .name
            .clone()
            .filter(|name| !name.trim().is_empty())
            .unwrap_or_else(|| {
                url.path_segments()
                    .and_then(|mut segments| segments.next_back().map(str::to_string))
                    .filter(|name| !name.is_empty())
                    .unwrap_or_else(|| "attachment".to_string())
            });
        checked.push(json!({
            "url": url.as_str(),
            "file_name": name,
            "content_type": link.content_type,
        }));
    }
    Ok(Some(
        json!({ "attachment": checked[0].clone(), "links": checked }),
    ))
}
