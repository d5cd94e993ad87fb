//! A small Matrix client-server API client, acting as the application service's sender user
//! (`@{sender_localpart}:{server_name}`) with the `as_token`: create a room, resolve an alias,
//! send a message under a transaction id (the homeserver deduplicates by it, so a retried send
//! never posts twice), read a room's `org.ponte.conversation` state, list joined members, read
//! a member's display name and leave a room. Path parts are URL-encoded. Two in-memory caches
//! (alias → room, room → conversation) save requests; both only ever hold what the homeserver
//! said, so several Ponte nodes each with their own caches stay correct.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde_json::{Value, json};

use super::MatrixError;
use crate::bridge::config::{BridgeConfig, MatrixSettings};

/// The state event type that ties a room to a Ponte conversation (`state_key` empty).
pub const CONVERSATION_STATE: &str = "org.ponte.conversation";

/// How long one request to the homeserver may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// A failed request to the homeserver: its status (none when it never answered), the Matrix
/// `errcode`, a short text and, for 429, how long to wait.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct ApiError {
    pub status: Option<u16>,
    pub errcode: Option<String>,
    pub message: String,
    pub retry_after: Option<Duration>,
}

impl ApiError {
    fn transport(error: &reqwest::Error) -> Self {
        let what = if error.is_timeout() {
            "timed out"
        } else if error.is_connect() {
            "connection failed"
        } else {
            "request failed"
        };
        ApiError {
            status: None,
            errcode: None,
            message: format!("homeserver {what}"),
            retry_after: None,
        }
    }

    /// Whether the homeserver answered with this `errcode`.
    pub fn is(&self, errcode: &str) -> bool {
        self.errcode.as_deref() == Some(errcode)
    }

    fn describe(&self) -> String {
        match (self.status, &self.errcode) {
            (Some(status), Some(code)) => format!("{status} {code}: {}", self.message),
            (Some(status), None) => format!("{status}: {}", self.message),
            (None, _) => self.message.clone(),
        }
    }
}

/// What a new conversation room is created with.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRoom<'a> {
    /// The alias' localpart (`ponte_<conversation_id>`).
    pub alias_localpart: &'a str,
    pub name: &'a str,
    pub topic: Option<&'a str>,
    pub invite: &'a [String],
    /// The content of the room's `org.ponte.conversation` state.
    pub conversation: Value,
}

/// The client of one bridge's homeserver.
#[derive(Debug)]
pub struct MatrixClient {
    http: reqwest::Client,
    base: Url,
    as_token: String,
    server_name: String,
    user_id: String,
    aliases: Mutex<HashMap<String, String>>,
    conversations: Mutex<HashMap<String, Option<String>>>,
    names: Mutex<HashMap<(String, String), String>>,
}

impl MatrixClient {
    /// A client of `homeserver` (its base URL) acting as the settings' sender user.
    pub fn new(
        http: reqwest::Client,
        homeserver: &str,
        settings: &MatrixSettings,
    ) -> Result<Self, MatrixError> {
        let base = Url::parse(homeserver)
            .map_err(|error| MatrixError::NotMatrix(format!("endpoint is not a URL: {error}")))?;
        if base.cannot_be_a_base() {
            return Err(MatrixError::NotMatrix(
                "endpoint cannot be a base URL".into(),
            ));
        }
        Ok(MatrixClient {
            http,
            base,
            as_token: settings.as_token.clone(),
            server_name: settings.server_name.clone(),
            user_id: format!("@{}:{}", settings.sender_localpart, settings.server_name),
            aliases: Mutex::default(),
            conversations: Mutex::default(),
            names: Mutex::default(),
        })
    }

    /// The client of a `matrix` bridge: its endpoint and settings.
    pub fn for_bridge(http: reqwest::Client, bridge: &BridgeConfig) -> Result<Self, MatrixError> {
        let settings = super::settings(bridge)?;
        Self::new(http, &bridge.endpoint, settings)
    }

    /// The application service's sender user, `@{sender_localpart}:{server_name}`.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    pub fn server_name(&self) -> &str {
        &self.server_name
    }

    /// The full alias of a localpart on this homeserver (`#ponte_c1:server`).
    pub fn alias(&self, localpart: &str) -> String {
        format!("#{localpart}:{}", self.server_name)
    }

    /// Creates a private room with an alias, a name, invitations and the conversation state;
    /// gives the room id. An alias already taken is `M_ROOM_IN_USE`.
    pub async fn create_room(&self, room: &NewRoom<'_>) -> Result<String, ApiError> {
        let mut body = json!({
            "preset": "private_chat",
            "visibility": "private",
            "room_alias_name": room.alias_localpart,
            "name": room.name,
            "invite": room.invite,
            "initial_state": [{
                "type": CONVERSATION_STATE,
                "state_key": "",
                "content": room.conversation,
            }],
        });
        if let Some(topic) = room.topic {
            body["topic"] = topic.into();
        }
        let answer = self
            .call(Method::POST, &["createRoom"], Some(&body))
            .await?;
        let room_id = string_field(&answer, "room_id")?;
        self.remember_alias(&self.alias(room.alias_localpart), &room_id);
        if let Some(conversation) = room
            .conversation
            .get("conversation_id")
            .and_then(Value::as_str)
        {
            self.conversations
                .lock()
                .expect("cache lock")
                .insert(room_id.clone(), Some(conversation.to_string()));
        }
        Ok(room_id)
    }

    /// The room an alias points to; `None` when there is no such alias. Cached.
    pub async fn resolve_alias(&self, alias: &str) -> Result<Option<String>, ApiError> {
        if let Some(room_id) = self.aliases.lock().expect("cache lock").get(alias) {
            return Ok(Some(room_id.clone()));
        }
        match self
            .call(Method::GET, &["directory", "room", alias], None)
            .await
        {
            Ok(answer) => {
                let room_id = string_field(&answer, "room_id")?;
                self.remember_alias(alias, &room_id);
                Ok(Some(room_id))
            }
            Err(error) if error.status == Some(404) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Drops a cached alias (after the homeserver refused its room).
    pub fn forget_alias(&self, alias: &str) {
        self.aliases.lock().expect("cache lock").remove(alias);
    }

    fn remember_alias(&self, alias: &str, room_id: &str) {
        self.aliases
            .lock()
            .expect("cache lock")
            .insert(alias.to_string(), room_id.to_string());
    }

    /// Sends an `m.room.message` under a transaction id; a repeat of the same id is answered
    /// with the first event's id and posts nothing. Gives the event id.
    pub async fn send_message(
        &self,
        room_id: &str,
        txn_id: &str,
        content: &Value,
    ) -> Result<String, ApiError> {
        let answer = self
            .call(
                Method::PUT,
                &["rooms", room_id, "send", "m.room.message", txn_id],
                Some(content),
            )
            .await?;
        string_field(&answer, "event_id")
    }

    /// The conversation a room belongs to, from its `org.ponte.conversation` state; `None`
    /// for a room without one (or one the sender user cannot see). Cached.
    pub async fn conversation_of(&self, room_id: &str) -> Result<Option<String>, ApiError> {
        if let Some(known) = self.conversations.lock().expect("cache lock").get(room_id) {
            return Ok(known.clone());
        }
        let conversation = match self.room_state(room_id).await? {
            Some(state) => state
                .get("conversation_id")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty())
                .map(str::to_string),
            None => None,
        };
        self.conversations
            .lock()
            .expect("cache lock")
            .insert(room_id.to_string(), conversation.clone());
        Ok(conversation)
    }

    /// The content of a room's `org.ponte.conversation` state, if it has one the sender user
    /// can read.
    pub async fn room_state(&self, room_id: &str) -> Result<Option<Value>, ApiError> {
        match self
            .call(
                Method::GET,
                &["rooms", room_id, "state", CONVERSATION_STATE, ""],
                None,
            )
            .await
        {
            Ok(content) => Ok(Some(content)),
            Err(error) if matches!(error.status, Some(403 | 404)) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The users joined to a room.
    pub async fn joined_members(&self, room_id: &str) -> Result<Vec<String>, ApiError> {
        let answer = self
            .call(Method::GET, &["rooms", room_id, "joined_members"], None)
            .await?;
        Ok(answer
            .get("joined")
            .and_then(Value::as_object)
            .map(|joined| joined.keys().cloned().collect())
            .unwrap_or_default())
    }

    /// A member's display name in a room, or its localpart. Cached per room and user;
    /// [`remember_name`](Self::remember_name) refreshes it from membership events.
    pub async fn display_name(&self, room_id: &str, user_id: &str) -> String {
        let key = (room_id.to_string(), user_id.to_string());
        if let Some(name) = self.names.lock().expect("cache lock").get(&key) {
            return name.clone();
        }
        let name = match self
            .call(
                Method::GET,
                &["rooms", room_id, "state", "m.room.member", user_id],
                None,
            )
            .await
        {
            Ok(member) => member
                .get("displayname")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_string),
            Err(_) => None,
        };
        let name = name.unwrap_or_else(|| localpart(user_id).to_string());
        self.names
            .lock()
            .expect("cache lock")
            .insert(key, name.clone());
        name
    }

    /// Records a member's display name seen in a membership event.
    pub fn remember_name(&self, room_id: &str, user_id: &str, name: &str) {
        self.names
            .lock()
            .expect("cache lock")
            .insert((room_id.to_string(), user_id.to_string()), name.to_string());
    }

    /// Leaves a room.
    pub async fn leave_room(&self, room_id: &str) -> Result<(), ApiError> {
        self.call(Method::POST, &["rooms", room_id, "leave"], Some(&json!({})))
            .await
            .map(drop)
    }

    /// The homeserver's download URL of an `mxc://server/media` URI
    /// (`/_matrix/client/v1/media/download/{server}/{media}`); `None` if it is not one.
    pub fn media_download_url(&self, mxc: &str) -> Option<String> {
        let rest = mxc.strip_prefix("mxc://")?;
        let (server, media) = rest.split_once('/')?;
        if server.is_empty() || media.is_empty() || media.contains('/') {
            return None;
        }
        let mut url = self.base.clone();
        url.path_segments_mut().ok()?.pop_if_empty().extend([
            "_matrix", "client", "v1", "media", "download", server, media,
        ]);
        Some(url.to_string())
    }

    /// `{base}/_matrix/client/v3/{segments...}`, each segment percent-encoded.
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("checked to be a base URL")
            .pop_if_empty()
            .extend(["_matrix", "client", "v3"])
            .extend(segments);
        url
    }

    async fn call(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let mut request = self
            .http
            .request(method, self.url(segments))
            .bearer_auth(&self.as_token)
            .timeout(REQUEST_TIMEOUT);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|error| ApiError::transport(&error))?;
        let status = response.status();
        let header_retry = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = response
            .bytes()
            .await
            .map_err(|error| ApiError::transport(&error))?;
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(value);
        }
        Err(api_error(status, &value, header_retry))
    }
}

fn api_error(status: StatusCode, body: &Value, header_retry: Option<Duration>) -> ApiError {
    let errcode = body
        .get("errcode")
        .and_then(Value::as_str)
        .map(str::to_string);
    let message: String = body
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error"))
        .chars()
        .take(200)
        .collect();
    let retry_after = body
        .get("retry_after_ms")
        .and_then(Value::as_u64)
        .map(Duration::from_millis)
        .or(header_retry)
        .filter(|_| status == StatusCode::TOO_MANY_REQUESTS);
    ApiError {
        status: Some(status.as_u16()),
        errcode,
        message,
        retry_after,
    }
}

fn string_field(value: &Value, field: &str) -> Result<String, ApiError> {
    value
        .get(field)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| ApiError {
            status: None,
            errcode: None,
            message: format!("the homeserver's answer has no {field}"),
            retry_after: None,
        })
}

/// The localpart of a user id (`@ana:server` → `ana`).
pub fn localpart(user_id: &str) -> &str {
    let id = user_id.strip_prefix('@').unwrap_or(user_id);
    id.split_once(':').map_or(id, |(local, _)| local)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> MatrixClient {
        let settings = MatrixSettings {
            as_token: "as".into(),
            hs_token: "hs".into(),
            server_name: "example.org".into(),
            sender_localpart: "ponte".into(),
            agents: vec![],
        };
        MatrixClient::new(reqwest::Client::new(), base, &settings).unwrap()
    }

    #[test]
    fn path_parts_are_encoded() {
        let client = client("https://hs.example.org/");
        let url = client.url(&["directory", "room", "#ponte_c1:example.org"]);
        assert_eq!(
            url.as_str(),
            "https://hs.example.org/_matrix/client/v3/directory/room/%23ponte_c1:example.org"
        );
        let url = client.url(&["rooms", "!a/b?c:x", "send", "m.room.message", "e 1"]);
        assert_eq!(
            url.as_str(),
            "https://hs.example.org/_matrix/client/v3/rooms/!a%2Fb%3Fc:x/send/m.room.message/e%201"
        );
        assert_eq!(client.user_id(), "@ponte:example.org");
    }

    #[test]
    fn mxc_uris_become_download_urls() {
        let client = client("https://hs.example.org/base");
        assert_eq!(
            client
                .media_download_url("mxc://example.org/AbC123")
                .as_deref(),
            Some("https://hs.example.org/base/_matrix/client/v1/media/download/example.org/AbC123")
        );
        assert_eq!(client.media_download_url("https://x/y"), None);
        assert_eq!(client.media_download_url("mxc://example.org/"), None);
        assert_eq!(client.media_download_url("mxc://a/b/c"), None);
    }

    #[test]
    fn errors_carry_errcode_and_retry_after() {
        let body =
            json!({"errcode": "M_LIMIT_EXCEEDED", "error": "slow down", "retry_after_ms": 1500});
        let error = api_error(StatusCode::TOO_MANY_REQUESTS, &body, None);
        assert!(error.is("M_LIMIT_EXCEEDED"));
        assert_eq!(error.retry_after, Some(Duration::from_millis(1500)));
        let error = api_error(
            StatusCode::BAD_REQUEST,
            &json!({"errcode": "M_ROOM_IN_USE", "error": "taken"}),
            None,
        );
        assert_eq!(error.retry_after, None);
        assert_eq!(error.to_string(), "400 M_ROOM_IN_USE: taken");
        assert_eq!(localpart("@ana:example.org"), "ana");
    }
}
