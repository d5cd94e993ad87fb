//! The webhook kind's [`Transport`]: one signed POST of an outbox event to the bridge's
//! endpoint (Standard Webhooks 1.0 headers, every outbound secret signing), through the
//! address guard, without following redirects, classified into an [`AttemptResult`] the
//! dispatcher records and schedules retries from. It never retries by itself.
//!
//! How the guard holds at connect time: the endpoint is checked with [`guard::check`] before
//! each attempt (which also covers a literal address, since the HTTP client never resolves
//! one), and the client's own name resolution is [`guard::GuardedResolver`], so a new
//! connection goes only to addresses that passed the check in the very lookup that produced
//! them. This keeps one long-lived client per policy, with its connection pool, where
//! `ClientBuilder::resolve_to_addrs` would need a new client (and pool, and TLS setup) per
//! attempt or per resolved address set. A pooled connection that is reused was checked when
//! it was opened. Proxies from the environment are ignored: through a proxy the client would
//! connect to the proxy, and the guard would no longer say where the event goes.

use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use reqwest::{Client, Response, StatusCode, Url, header, redirect};

use super::guard::{self, GuardedResolver};
use super::schedule::parse_retry_after;
use super::signature::sign_all;
use super::{Attempt, AttemptResult, BridgeConfig, BridgeKind, OutgoingEvent, Transport};

/// The whole time one attempt may take, connection to response headers.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// The `user-agent` of every delivery.
pub const USER_AGENT: &str = concat!("Ponte/", env!("CARGO_PKG_VERSION"), " (bridge webhook)");

/// How much of a response body is read (and dropped) so the connection can go back to the
/// pool; a longer body closes the connection instead.
const DRAIN_LIMIT: usize = 64 * 1024;

/// Delivers webhook bridges' events over HTTP(S). Cheap to share: one per process.
#[derive(Debug, Clone)]
pub struct WebhookTransport {
    /// For bridges that do not allow private addresses.
    strict: Client,
    /// For bridges that do (`allow_private`).
    permissive: Client,
    timeout: Duration,
}

impl WebhookTransport {
    /// A transport with the standard 15 s timeout.
    pub fn new() -> Result<Self, reqwest::Error> {
        Self::with_timeout(DEFAULT_TIMEOUT)
    }

    /// A transport whose attempts give up after `timeout` (tests use a short one).
    pub fn with_timeout(timeout: Duration) -> Result<Self, reqwest::Error> {
        Ok(WebhookTransport {
            strict: client(timeout, false)?,
            permissive: client(timeout, true)?,
            timeout,
        })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends the event; a response (whatever its status) or why there is none.
    async fn send(&self, bridge: &BridgeConfig, event: &OutgoingEvent) -> Result<Response, String> {
        if bridge.kind != BridgeKind::Webhook {
            return Err(format!("bridge {:?} is not a webhook bridge", bridge.id));
        }
        if bridge.outbound_secrets.is_empty() {
            return Err("the bridge has no outbound secret to sign with".into());
        }
        let url = Url::parse(&bridge.endpoint)
            .map_err(|error| format!("the endpoint is not a URL: {error}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("the endpoint is not an http or https URL".into());
        }
        guard::check(&url, bridge.allow_private)
            .await
            .map_err(|refusal| format!("refused: {refusal}"))?;
        let client = if bridge.allow_private {
            &self.permissive
        } else {
            &self.strict
        };
        let timestamp = unix_seconds(SystemTime::now());
        let signature = sign_all(&bridge.outbound_secrets, &event.id, timestamp, &event.body);
        client
            .post(url)
            .header(header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &event.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(event.body.clone())
            .send()
            .await
            .map_err(|error| describe(&error, self.timeout))
    }
}

fn client(timeout: Duration, allow_private: bool) -> Result<Client, reqwest::Error> {
    Client::builder()
        .user_agent(USER_AGENT)
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(redirect::Policy::none())
        // One POST per attempt: the dispatcher owns retries.
        .retry(reqwest::retry::never())
        .no_proxy()
        .dns_resolver(GuardedResolver { allow_private })
        .build()
}

#[async_trait]
impl Transport for WebhookTransport {
    async fn deliver(&self, bridge: &BridgeConfig, event: &OutgoingEvent) -> Attempt {
        let started = Instant::now();
        let sent = tokio::time::timeout(self.timeout, self.send(bridge, event))
            .await
            .unwrap_or_else(|_| Err(timeout_text(self.timeout)));
        let latency = started.elapsed();
        let result = match sent {
            Ok(response) => {
                let result = classify(&response, SystemTime::now());
                let left = self.timeout.saturating_sub(latency);
                let _ = tokio::time::timeout(left, drain(response)).await;
                result
            }
            Err(error) => AttemptResult::Failed {
                status: None,
                error,
                retry_after: None,
            },
        };
        tracing::debug!(
            bridge = %bridge.id,
            event = %event.id,
            endpoint = %loggable(&bridge.endpoint),
            latency_ms = latency.as_millis() as u64,
            result = ?result,
            "bridge webhook attempt"
        );
        Attempt { result, latency }
    }
}

/// What a response's status means for the event.
fn classify(response: &Response, now: SystemTime) -> AttemptResult {
    let status = response.status();
    if status.is_success() {
        return AttemptResult::Delivered {
            status: status.as_u16(),
        };
    }
    if status == StatusCode::GONE {
        return AttemptResult::Gone {
            status: status.as_u16(),
        };
    }
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| parse_retry_after(value, now));
    let error = if status.is_redirection() {
        format!("HTTP {} (redirects are not followed)", status.as_u16())
    } else {
        format!("HTTP {}", status.as_u16())
    };
    AttemptResult::Failed {
        status: Some(status.as_u16()),
        error,
        retry_after,
    }
}

/// Reads a little of the body so the connection can be reused; the content is not used.
async fn drain(mut response: Response) {
    let mut read = 0;
    while let Ok(Some(chunk)) = response.chunk().await {
        read += chunk.len();
        if read > DRAIN_LIMIT {
            break;
        }
    }
}

/// A short text for a request that got no response. Never includes the URL.
fn describe(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return timeout_text(timeout);
    }
    let mut root = None;
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(refusal) = cause.downcast_ref::<guard::Refusal>() {
            return format!("refused: {refusal}");
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            match io.kind() {
                K::ConnectionRefused => return "connection refused".into(),
                K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => {
                    return "connection reset".into();
                }
                K::TimedOut => return timeout_text(timeout),
                _ => {}
            }
        }
        root = Some(cause);
        source = cause.source();
    }
    let what = if error.is_connect() {
        "connect error"
    } else if error.is_body() {
        "body error"
    } else {
        "request error"
    };
    // The innermost cause (hyper's or the OS's words); reqwest's own text names the URL.
    match root {
        Some(cause) => format!("{what}: {cause}"),
        None => what.to_string(),
    }
}

fn timeout_text(timeout: Duration) -> String {
    if timeout.subsec_nanos() == 0 {
        format!("timeout after {}s", timeout.as_secs())
    } else {
        format!("timeout after {}ms", timeout.as_millis())
    }
}

fn unix_seconds(time: SystemTime) -> i64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

/// The endpoint as logs may show it: scheme, host, port and path; no credentials, query or
/// fragment (a receiver's token often rides in the query).
fn loggable(endpoint: &str) -> String {
    match Url::parse(endpoint) {
        Ok(url) => {
            let host = url.host_str().unwrap_or("");
            match url.port() {
                Some(port) => format!("{}://{host}:{port}{}", url.scheme(), url.path()),
                None => format!("{}://{host}{}", url.scheme(), url.path()),
            }
        }
        Err(_) => "(not a URL)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_show_no_credentials_query_or_fragment() {
        assert_eq!(
            loggable("https://user:pw@desk.example.com:8443/hooks/in?token=s3cret#x"),
            "https://desk.example.com:8443/hooks/in"
        );
        assert_eq!(
            loggable("http://desk.example.com/h?k=v"),
            "http://desk.example.com/h"
        );
        assert_eq!(loggable("not a url ?token=x"), "(not a URL)");
    }

    #[test]
    fn a_timeout_reads_in_seconds_or_milliseconds() {
        assert_eq!(timeout_text(Duration::from_secs(15)), "timeout after 15s");
        assert_eq!(
            timeout_text(Duration::from_millis(300)),
            "timeout after 300ms"
        );
    }

    #[test]
    fn the_user_agent_names_ponte_and_its_version() {
        assert!(USER_AGENT.starts_with(&format!("Ponte/{} ", env!("CARGO_PKG_VERSION"))));
    }
}
