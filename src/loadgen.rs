//! `ponte bench load`: drives a running Ponte over real HTTP with N concurrent requesters,
//! each holding a conversation and posting messages with client ids on a keep-alive
//! connection, and prints acknowledged messages per second, latency percentiles, errors and
//! the server's resident memory. The client is a minimal HTTP/1.1 implementation so that the
//! measurement pays for no client library overhead it does not need.

use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// What the load run does.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub address: SocketAddr,
    pub admin_token: String,
    pub requesters: usize,
    pub duration: Duration,
    /// Move each conversation to a person first ("talk to an attendant"), so posts measure the
    /// live-chat path rather than the assistant's matching.
    pub live_chat: bool,
    pub server_pid: Option<u32>,
}

/// The figures of one run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadReport {
    pub requesters: usize,
    pub seconds: f64,
    pub acknowledged: u64,
    pub messages_per_second: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub errors: u64,
    pub server_rss_kib: Option<u64>,
}

/// A keep-alive HTTP/1.1 connection.
struct Connection {
    reader: BufReader<TcpStream>,
}

impl Connection {
    async fn open(address: SocketAddr) -> std::io::Result<Connection> {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            reader: BufReader::new(stream),
        })
    }

    async fn request(
        &mut self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> std::io::Result<(u16, Value)> {
        let body = body.map(Value::to_string).unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: ponte\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let stream = self.reader.get_mut();
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        let mut status_line = String::new();
        self.reader.read_line(&mut status_line).await?;
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut payload = vec![0u8; length];
        self.reader.read_exact(&mut payload).await?;
        Ok((
            status,
            serde_json::from_slice(&payload).unwrap_or(Value::Null),
        ))
    }
}

fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Runs the load and returns its figures.
pub async fn run(options: LoadOptions) -> anyhow::Result<LoadReport> {
    let mut setup = Connection::open(options.address).await?;
    let mut requesters = Vec::new();
    for index in 0..options.requesters {
        let (status, body) = setup
            .request(
                "POST",
                "/api/admin/tokens",
                &options.admin_token,
                Some(&json!({ "role": "requester", "subject": format!("load-{index}") })),
            )
            .await?;
        anyhow::ensure!(status == 201, "issuing a token answered {status}: {body}");
        let token = body["token"].as_str().unwrap_or_default().to_string();
        let (status, body) = setup
            .request(
                "POST",
                "/api/conversations",
                &token,
                Some(&json!({ "language": "en" })),
            )
            .await?;
        anyhow::ensure!(
            status == 201,
            "opening a conversation answered {status}: {body}"
        );
        let id = body["conversation"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if options.live_chat {
            for text in ["tell me a joke about penguins"] {
                setup
                    .request(
                        "POST",
                        &format!("/api/conversations/{id}/messages"),
                        &token,
                        Some(&json!({ "text": text })),
                    )
                    .await?;
            }
            setup
                .request(
                    "POST",
                    &format!("/api/conversations/{id}/options"),
                    &token,
                    Some(&json!({ "option_id": "talk_to_attendant" })),
                )
                .await?;
        }
        requesters.push((id, token));
    }
    let started = Instant::now();
    let deadline = started + options.duration;
    let mut tasks = Vec::new();
    for (id, token) in requesters {
        let address = options.address;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut connection = match Connection::open(address).await {
                Ok(connection) => connection,
                Err(_) => return (latencies, 1),
            };
            let path = format!("/api/conversations/{id}/messages");
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                let body = json!({ "text": format!("load message {n}"), "client_message_id": format!("load-{n}") });
                let sent = Instant::now();
                match connection.request("POST", &path, &token, Some(&body)).await {
                    Ok((200, _)) => latencies.push(sent.elapsed().as_micros() as u64),
                    Ok(_) => errors += 1,
                    Err(_) => {
                        errors += 1;
                        match Connection::open(address).await {
                            Ok(fresh) => connection = fresh,
                            Err(_) => break,
                        }
                    }
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (mut samples, task_errors) = task.await?;
        latencies.append(&mut samples);
        errors += task_errors;
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let quantile = |q| crate::eval::quantile(&latencies, q);
    Ok(LoadReport {
        requesters: options.requesters,
        seconds,
        acknowledged: latencies.len() as u64,
        messages_per_second: latencies.len() as f64 / seconds.max(f64::EPSILON),
        p50_us: quantile(0.5),
        p99_us: quantile(0.99),
        p999_us: quantile(0.999),
        errors,
        server_rss_kib: options.server_pid.and_then(resident_kib),
    })
}
