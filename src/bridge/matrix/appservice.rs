//! The homeserver → Ponte side, free of any HTTP framework so the HTTP layer can mount it on
//! `PUT …/_matrix/app/v1/transactions/{txnId}`: [`handle_transaction`] checks the homeserver's
//! token (constant time), then turns each room event of a conversation's room into an
//! [`InboundEvent`] for the bridge's [`InboundSink`], with the Matrix event id as dedup key, so
//! a transaction the homeserver retries changes nothing. Events of Ponte's own user, of rooms
//! without `org.ponte.conversation` state, and of kinds Ponte has no use for are skipped.

use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::client::{MatrixClient, localpart};
use super::{MatrixError, is_transient, settings};
use crate::bridge::config::{BridgeConfig, MatrixSettings};
use crate::bridge::{AttachmentLink, InboundEvent, InboundSink};

/// The token of a homeserver request: `Authorization: Bearer <token>`, else the
/// `access_token` query parameter older homeservers send.
pub fn request_token(authorization: Option<&str>, query: Option<&str>) -> Option<String> {
    if let Some(header) = authorization {
        let header = header.trim();
        if let Some((scheme, token)) = header.split_once(' ')
            && scheme.eq_ignore_ascii_case("bearer")
            && !token.trim().is_empty()
        {
            return Some(token.trim().to_string());
        }
    }
    let query = query?;
    let url = reqwest::Url::parse(&format!("http://query.invalid/?{query}")).ok()?;
    url.query_pairs()
        .find(|(key, _)| key == "access_token")
        .map(|(_, value)| value.into_owned())
        .filter(|token| !token.is_empty())
}

/// Checks that a request carries the bridge's `hs_token`, in constant time.
pub fn check_token(bridge: &BridgeConfig, token: Option<&str>) -> Result<(), MatrixError> {
    let settings = settings(bridge)?;
    let token = token.ok_or(MatrixError::MissingToken)?;
    // Equal-length digests: the comparison says nothing about the token's length either.
    let given = Sha256::digest(token.as_bytes());
    let expected = Sha256::digest(settings.hs_token.as_bytes());
    if bool::from(given.ct_eq(&expected)) {
        Ok(())
    } else {
        Err(MatrixError::UnknownToken)
    }
}

/// Handles one application-service transaction of a `matrix` bridge: checks `auth_token`
/// (see [`request_token`]), then hands each relevant event to `sink` under its event id.
/// A sink failure for a passing reason (store, internal) fails the whole transaction, so the
/// homeserver retries it; a refusal that would repeat (a closed or unknown conversation) is
/// logged and the transaction goes on. `txn_id` only labels logs: deduplication is per event.
pub async fn handle_transaction(
    bridge: &BridgeConfig,
    auth_token: Option<&str>,
    txn_id: &str,
    body: &[u8],
    sink: &dyn InboundSink,
    client: &MatrixClient,
) -> Result<(), MatrixError> {
    check_token(bridge, auth_token)?;
    let settings = settings(bridge)?;
    let transaction: Value = serde_json::from_slice(body)
        .map_err(|error| MatrixError::Malformed(format!("not JSON: {error}")))?;
    let events = transaction
        .get("events")
        .and_then(Value::as_array)
        .ok_or_else(|| MatrixError::Malformed("no events array".into()))?;
    for event in events {
        let Some((event_id, inbound)) = to_inbound(settings, client, event).await? else {
            continue;
        };
        match sink.receive(&bridge.id, &event_id, inbound).await {
            Ok(_) => {}
            Err(error) if is_transient(&error) => return Err(MatrixError::Sink(error)),
            Err(error) => tracing::warn!(
                bridge = %bridge.id,
                txn_id,
                event_id,
                code = crate::fault::Coded::code(&error),
                "matrix event refused: {error}"
            ),
        }
    }
    Ok(())
}

fn field<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// The inbound event a room event is, with its event id; `None` for an event to skip.
async fn to_inbound(
    settings: &MatrixSettings,
    client: &MatrixClient,
    event: &Value,
) -> Result<Option<(String, InboundEvent)>, MatrixError> {
    let (Some(room_id), Some(event_id), Some(sender), Some(kind)) = (
        field(event, "/room_id"),
        field(event, "/event_id"),
        field(event, "/sender"),
        field(event, "/type"),
    ) else {
        return Ok(None);
    };
    if sender == client.user_id() || !matches!(kind, "m.room.member" | "m.room.message") {
        return Ok(None);
    }
    let Some(conversation_id) = client.conversation_of(room_id).await? else {
        return Ok(None);
    };
    let inbound = if kind == "m.room.member" {
        member_event(settings, client, room_id, conversation_id, event).await?
    } else {
        message_event(client, room_id, sender, conversation_id, event).await
    };
    Ok(inbound.map(|inbound| (event_id.to_string(), inbound)))
}

async fn member_event(
    settings: &MatrixSettings,
    client: &MatrixClient,
    room_id: &str,
    conversation_id: String,
    event: &Value,
) -> Result<Option<InboundEvent>, MatrixError> {
    let Some(target) = field(event, "/state_key") else {
        return Ok(None);
    };
    if target == client.user_id() {
        return Ok(None);
    }
    let membership = field(event, "/content/membership");
    let previous = field(event, "/unsigned/prev_content/membership")
        .or(field(event, "/prev_content/membership"));
    match membership {
        Some("join") => {
            let name = field(event, "/content/displayname")
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| localpart(target))
                .to_string();
            client.remember_name(room_id, target, &name);
            let invited =
                previous == Some("invite") || settings.agents.iter().any(|agent| agent == target);
            if previous == Some("join") || !invited {
                // A profile change, or someone Ponte did not invite.
                return Ok(None);
            }
            Ok(Some(InboundEvent::AgentAccepted {
                conversation_id,
                agent: name,
            }))
        }
        Some("leave" | "ban") if previous == Some("join") => {
            let members = match client.joined_members(room_id).await {
                Ok(members) => members,
                // Ponte itself is no longer in the room: the conversation ended already.
                Err(error) if error.status == Some(403) => return Ok(None),
                Err(error) => return Err(error.into()),
            };
            if members.iter().any(|member| member != client.user_id()) {
                return Ok(None);
            }
            Ok(Some(InboundEvent::ConversationClosed {
                conversation_id,
                reason: Some("agents_left".into()),
            }))
        }
        _ => Ok(None),
    }
}

async fn message_event(
    client: &MatrixClient,
    room_id: &str,
    sender: &str,
    conversation_id: String,
    event: &Value,
) -> Option<InboundEvent> {
    let content = event.get("content")?;
    // Edits repeat a message Ponte already has.
    if content.get("m.new_content").is_some()
        || field(content, "/m.relates_to/rel_type") == Some("m.replace")
    {
        return None;
    }
    let body = field(content, "/body").unwrap_or_default();
    let msgtype = field(content, "/msgtype")?;
    if msgtype == "m.text"
        && let Some(rest) = body.trim_start().strip_prefix("!close")
        && (rest.is_empty() || rest.starts_with(char::is_whitespace))
    {
        let reason = rest.trim();
        return Some(InboundEvent::ConversationClosed {
            conversation_id,
            reason: (!reason.is_empty()).then(|| reason.to_string()),
        });
    }
    let event_id = field(event, "/event_id")?.to_string();
    let (text, attachments) = match msgtype {
        "m.text" | "m.notice" | "m.emote" => {
            if body.trim().is_empty() {
                return None;
            }
            (body.to_string(), Vec::new())
        }
        "m.image" | "m.file" | "m.video" | "m.audio" => {
            let url = client.media_download_url(field(content, "/url")?)?;
            let filename = field(content, "/filename").filter(|name| !name.is_empty());
            // With a `filename`, `body` is a caption; without, `body` is the file name.
            let (name, caption) = match filename {
                Some(filename) if filename != body => (filename, body),
                _ => (body, ""),
            };
            let attachment = AttachmentLink {
                url,
                name: (!name.is_empty()).then(|| name.to_string()),
                content_type: field(content, "/info/mimetype").map(str::to_string),
            };
            (caption.to_string(), vec![attachment])
        }
        _ => return None,
    };
    let agent = client.display_name(room_id, sender).await;
    Some(InboundEvent::AgentMessage {
        conversation_id,
        external_id: event_id,
        agent: Some(agent),
        text,
        attachments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::config::BridgeKind;

    fn bridge() -> BridgeConfig {
        BridgeConfig {
            id: "m".into(),
            kind: BridgeKind::Matrix,
            endpoint: "http://127.0.0.1:9".into(),
            outbound_secrets: vec![],
            inbound_secrets: vec![],
            routes: Default::default(),
            accept_deadline_secs: 120,
            allow_private: true,
            attachment_hosts: vec![],
            matrix: Some(MatrixSettings {
                as_token: "as".into(),
                hs_token: "the-hs-token".into(),
                server_name: "example.org".into(),
                sender_localpart: "ponte".into(),
                agents: vec!["@ana:example.org".into()],
            }),
        }
    }

    #[test]
    fn the_token_comes_from_the_header_or_the_query() {
        assert_eq!(
            request_token(Some("Bearer abc"), Some("access_token=zzz")).as_deref(),
            Some("abc")
        );
        assert_eq!(
            request_token(None, Some("x=1&access_token=a%2Bb")).as_deref(),
            Some("a+b")
        );
        assert_eq!(request_token(Some("Basic abc"), None), None);
        assert_eq!(request_token(None, Some("access_token=")), None);
    }

    #[test]
    fn only_the_hs_token_passes() {
        let bridge = bridge();
        assert!(check_token(&bridge, Some("the-hs-token")).is_ok());
        assert!(matches!(
            check_token(&bridge, Some("the-hs-token2")),
            Err(MatrixError::UnknownToken)
        ));
        assert!(matches!(
            check_token(&bridge, None),
            Err(MatrixError::MissingToken)
        ));
        let error = check_token(&bridge, Some("nope")).unwrap_err();
        assert_eq!((error.status(), error.errcode()), (403, "M_FORBIDDEN"));
        assert_eq!(crate::fault::Coded::code(&error), "unknown_token");
    }

    #[tokio::test]
    async fn malformed_transactions_are_refused_before_any_lookup() {
        struct Refuse;
        #[async_trait::async_trait]
        impl InboundSink for Refuse {
            async fn receive(
                &self,
                _: &str,
                _: &str,
                _: InboundEvent,
            ) -> Result<Value, crate::bridge::BridgeError> {
                panic!("nothing reaches the sink")
            }
        }
        let bridge = bridge();
        let client = MatrixClient::for_bridge(reqwest::Client::new(), &bridge).unwrap();
        let token = Some("the-hs-token");
        for body in [&b"{"[..], b"{\"events\": 3}"] {
            let error = handle_transaction(&bridge, token, "t", body, &Refuse, &client)
                .await
                .unwrap_err();
            assert_eq!(error.status(), 400, "{error}");
        }
        // Ponte's own events and events without a room are skipped without any request.
        let body = br#"{"events": [
            {"type": "m.room.message", "room_id": "!r:example.org", "event_id": "$1",
             "sender": "@ponte:example.org", "content": {"msgtype": "m.text", "body": "hi"}},
            {"type": "m.presence", "sender": "@ana:example.org", "content": {}}
        ]}"#;
        handle_transaction(&bridge, token, "t", body, &Refuse, &client)
            .await
            .unwrap();
    }
}
