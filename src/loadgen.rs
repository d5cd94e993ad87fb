//! `ponte bench load`: drives a running Ponte over real HTTP with N concurrent requesters,
//! each holding a conversation and posting messages with client ids on a keep-alive
//! connection, and prints acknowledged messages per second, latency percentiles, errors and
//! the server's resident memory. The client is a minimal HTTP/1.1 implementation so that the
//! measurement pays for no client library overhead it does not need.

use crate::latency::Latencies;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

mod cgroup;
mod crossnode;
mod local_nodes;
mod scale;
mod takeover;
pub use crossnode::{CrossNodeOptions, CrossNodeReport, cross_node};
pub use local_nodes::LocalNodes;
pub use scale::{RunFigures, ScaleOptions, ScaleReport, Setup, SetupFigures, scale};
pub use takeover::{LeaseTakeover, TakeoverOptions, TakeoverReport, takeover};

/// What the load run does.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// One node, or several serving one desk: requester `i` uses `addresses[i % n]`.
    pub addresses: Vec<SocketAddr>,
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

impl Connection {
    /// A requester (token issued with `admin_token`) whose new chat asked for a person:
    /// `(conversation id, token, last seq)`, the seq a live socket resumes after.
    async fn queued_chat(
        &mut self,
        admin_token: &str,
        subject: &str,
    ) -> anyhow::Result<(String, String, i64)> {
        let mut post = async |path: &str, token: &str, body: Value| {
            let (status, answer) = self.request("POST", path, token, Some(&body)).await?;
            anyhow::ensure!(status < 300, "POST {path} answered {status}: {answer}");
            anyhow::Ok(answer)
        };
        let issued = post(
            "/api/admin/tokens",
            admin_token,
            json!({ "role": "requester", "subject": subject }),
        )
        .await?;
        let token = issued["token"].as_str().unwrap_or_default().to_string();
        let opened = post("/api/conversations", &token, json!({ "language": "en" })).await?;
        let id = opened["conversation"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let messages = format!("/api/conversations/{id}/messages");
        post(
            &messages,
            &token,
            json!({ "text": "tell me a joke about penguins" }),
        )
        .await?;
        let options = format!("/api/conversations/{id}/options");
        let chosen = post(
            &options,
            &token,
            json!({ "option_id": "talk_to_attendant" }),
        )
        .await?;
        let last_seq = chosen["messages"]
            .as_array()
            .and_then(|messages| messages.last())
            .and_then(|message| message["seq"].as_i64())
            .unwrap_or(0);
        Ok((id, token, last_seq))
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
    anyhow::ensure!(!options.addresses.is_empty(), "no address to load");
    let mut setups = Vec::new();
    for address in &options.addresses {
        setups.push(Connection::open(*address).await?);
    }
    let mut requesters = Vec::new();
    for index in 0..options.requesters {
        let address = options.addresses[index % options.addresses.len()];
        let setup = &mut setups[index % options.addresses.len()];
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
        requesters.push((id, token, address));
    }
    let started = Instant::now();
    let deadline = started + options.duration;
    let mut tasks = Vec::new();
    for (id, token, address) in requesters {
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
    let histogram: Latencies = latencies.iter().copied().collect();
    let quantile = |q| histogram.quantile(q);
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

/// What the idle-socket run does.
#[derive(Debug, Clone)]
pub struct SocketsOptions {
    pub address: SocketAddr,
    pub admin_token: String,
    /// How many conversations, each with one open WebSocket.
    pub count: usize,
    /// How long the sockets stay open before the memory is read.
    pub hold: Duration,
    pub server_pid: u32,
}

/// The figures of an idle-socket run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SocketsReport {
    pub sockets: usize,
    /// Server RSS once the conversations exist, before any socket.
    pub rss_before_kib: u64,
    /// Server RSS with every socket open and idle.
    pub rss_with_sockets_kib: u64,
    pub added_mib: f64,
    pub per_socket_kib: f64,
    pub failed: usize,
}

/// Conversations opened per requester token (so the per-token rate limit of a default server
/// is not what the run measures).
const CONVERSATIONS_PER_TOKEN: usize = 50;

/// Opens `count` conversations, then one WebSocket on each that stays idle, and reports how
/// much resident memory the sockets added to the server.
pub async fn idle_sockets(options: SocketsOptions) -> anyhow::Result<SocketsReport> {
    let conversations = open_conversations(&options).await?;
    // Let the server settle (allocator caches, the writer's batches) before the baseline.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before_kib = resident_kib(options.server_pid)
        .ok_or_else(|| anyhow::anyhow!("cannot read the RSS of process {}", options.server_pid))?;
    let mut sockets = Vec::with_capacity(conversations.len());
    let mut failed = 0;
    for chunk in conversations.chunks(500) {
        let opened = futures_util::future::join_all(
            chunk
                .iter()
                .map(|(id, token)| open_websocket(options.address, id, token)),
        )
        .await;
        for socket in opened {
            match socket {
                Ok(socket) => sockets.push(socket),
                Err(_) => failed += 1,
            }
        }
    }
    tokio::time::sleep(options.hold).await;
    let rss_with_sockets_kib = resident_kib(options.server_pid)
        .ok_or_else(|| anyhow::anyhow!("cannot read the RSS of process {}", options.server_pid))?;
    let added = rss_with_sockets_kib.saturating_sub(rss_before_kib);
    drop(sockets);
    Ok(SocketsReport {
        sockets: conversations.len() - failed,
        rss_before_kib,
        rss_with_sockets_kib,
        added_mib: added as f64 / 1024.0,
        per_socket_kib: added as f64 / (conversations.len() - failed).max(1) as f64,
        failed,
    })
}

async fn open_conversations(options: &SocketsOptions) -> anyhow::Result<Vec<(String, String)>> {
    let tokens = options.count.div_ceil(CONVERSATIONS_PER_TOKEN);
    let mut setup = Connection::open(options.address).await?;
    let mut issued = Vec::with_capacity(tokens);
    for index in 0..tokens {
        let (status, body) = setup
            .request(
                "POST",
                "/api/admin/tokens",
                &options.admin_token,
                Some(&json!({ "role": "requester", "subject": format!("idle-{index}") })),
            )
            .await?;
        anyhow::ensure!(status == 201, "issuing a token answered {status}: {body}");
        issued.push(body["token"].as_str().unwrap_or_default().to_string());
    }
    // A few connections in parallel, each opening the conversations of its tokens.
    let workers = issued.chunks(tokens.div_ceil(8).max(1)).map(|tokens| {
        let tokens = tokens.to_vec();
        let address = options.address;
        let count = options.count;
        tokio::spawn(async move {
            let mut connection = Connection::open(address).await?;
            let mut opened = Vec::new();
            for token in tokens {
                for _ in 0..CONVERSATIONS_PER_TOKEN {
                    let (status, body) = connection
                        .request(
                            "POST",
                            "/api/conversations",
                            &token,
                            Some(&json!({ "language": "en" })),
                        )
                        .await?;
                    anyhow::ensure!(status == 201, "opening answered {status}: {body}");
                    let id = body["conversation"]["id"].as_str().unwrap_or_default();
                    opened.push((id.to_string(), token.clone()));
                }
            }
            opened.truncate(count);
            anyhow::Ok(opened)
        })
    });
    let mut conversations = Vec::new();
    for worker in futures_util::future::join_all(workers).await {
        conversations.extend(worker??);
    }
    conversations.truncate(options.count);
    Ok(conversations)
}

/// A WebSocket handshake by hand: the socket is then held open and never read, as an idle
/// browser tab would (the kernel buffers the server's pings).
async fn open_websocket(address: SocketAddr, id: &str, token: &str) -> anyhow::Result<TcpStream> {
    open_websocket_after(address, id, token, 0).await
}

async fn open_websocket_after(
    address: SocketAddr,
    id: &str,
    token: &str,
    after: i64,
) -> anyhow::Result<TcpStream> {
    let mut stream = TcpStream::connect(address).await?;
    let request = format!(
        "GET /api/conversations/{id}/live?after={after}&token={token} HTTP/1.1\r\nHost: ponte\r\n\
         Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        anyhow::ensure!(head.len() < 4096, "the handshake answer is too long");
        let read = stream.read(&mut byte).await?;
        anyhow::ensure!(read == 1, "the server closed during the handshake");
        head.push(byte[0]);
    }
    anyhow::ensure!(
        head.starts_with(b"HTTP/1.1 101"),
        "the server answered {}",
        String::from_utf8_lossy(&head)
    );
    Ok(stream)
}

/// What the fan-out run does.
#[derive(Debug, Clone)]
pub struct FanoutOptions {
    pub address: SocketAddr,
    pub admin_token: String,
    pub requesters: usize,
    pub captures: usize,
}

/// The figures of a fan-out run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FanoutReport {
    pub requesters: usize,
    pub captures: usize,
    pub updates: usize,
    pub missing: usize,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

/// Reads one server frame (unmasked) from a WebSocket stream: `(opcode, payload)`.
async fn read_frame(stream: &mut BufReader<TcpStream>) -> std::io::Result<(u8, Vec<u8>)> {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).await?;
    let opcode = head[0] & 0x0f;
    let length = match head[1] & 0x7f {
        126 => {
            let mut bytes = [0u8; 2];
            stream.read_exact(&mut bytes).await?;
            u16::from_be_bytes(bytes) as usize
        }
        127 => {
            let mut bytes = [0u8; 8];
            stream.read_exact(&mut bytes).await?;
            u64::from_be_bytes(bytes) as usize
        }
        short => short as usize,
    };
    let mut payload = vec![0u8; length];
    stream.read_exact(&mut payload).await?;
    Ok((opcode, payload))
}

type CaptureClock = std::sync::Arc<std::sync::Mutex<Option<Instant>>>;

/// Queues `requesters` chats with a listening requester each, then captures chats one by one
/// and measures how long the requesters behind wait for their new position.
pub async fn fanout(options: FanoutOptions) -> anyhow::Result<FanoutReport> {
    let mut admin = Connection::open(options.address).await?;
    let admin_token = options.admin_token.clone();
    let mut call = async |method: &str, path: &str, token: &str, body: Value| {
        let (status, answer) = admin.request(method, path, token, Some(&body)).await?;
        anyhow::ensure!(status < 300, "{method} {path} answered {status}: {answer}");
        anyhow::Ok(answer)
    };
    call(
        "PUT",
        "/api/desk/config",
        &admin_token,
        json!({ "routing": { "default": "queue", "by_group": {} },
                "pause_reasons": ["break"], "close_reasons": ["resolved"] }),
    )
    .await?;
    call(
        "PUT",
        "/api/desk/people/fanout-agent",
        &admin_token,
        json!({ "name": "Fan-out agent", "kind": "attendant", "groups": [],
                "channels": ["web_chat"], "max_chats": options.captures + 1 }),
    )
    .await?;
    let agent = call(
        "POST",
        "/api/admin/tokens",
        &admin_token,
        json!({ "role": "attendant", "subject": "fanout-agent" }),
    )
    .await?["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    call(
        "PUT",
        "/api/desk/presence",
        &agent,
        json!({ "channel": "web_chat", "state": "online" }),
    )
    .await?;
    let mut setup = Connection::open(options.address).await?;
    let mut queued = Vec::with_capacity(options.requesters);
    for index in 0..options.requesters {
        queued.push(
            setup
                .queued_chat(&admin_token, &format!("fan-{index}"))
                .await?,
        );
    }
    let clock: CaptureClock = Default::default();
    let (sample_tx, mut sample_rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let mut listeners = Vec::new();
    for (id, token, last_seq) in &queued {
        let socket = open_websocket_after(options.address, id, token, *last_seq).await?;
        let clock = clock.clone();
        let samples = sample_tx.clone();
        listeners.push(tokio::spawn(async move {
            let mut reader = BufReader::new(socket);
            while let Ok((opcode, payload)) = read_frame(&mut reader).await {
                if opcode == 0x8 {
                    break;
                }
                if opcode == 0x1 && payload.windows(14).any(|w| w == b"queue_position") {
                    let started = *clock.lock().unwrap_or_else(|p| p.into_inner());
                    if let Some(started) = started {
                        let _ = samples.send(started.elapsed().as_micros() as u64);
                    }
                }
            }
        }));
    }
    drop(sample_tx);
    // Let every socket settle (their backlog is empty: they resume after the last seq).
    tokio::time::sleep(Duration::from_millis(500)).await;
    while sample_rx.try_recv().is_ok() {}
    let mut latencies = Vec::new();
    let mut missing = 0usize;
    let captures = options.captures.min(queued.len() - 1);
    for (index, (id, _, _)) in queued.iter().take(captures).enumerate() {
        let expected = queued.len() - index - 1;
        *clock.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        call(
            "POST",
            &format!("/api/desk/chats/{id}/capture"),
            &agent,
            json!({}),
        )
        .await?;
        let mut received = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while received < expected {
            match tokio::time::timeout_at(deadline, sample_rx.recv()).await {
                Ok(Some(sample)) => {
                    latencies.push(sample);
                    received += 1;
                }
                _ => break,
            }
        }
        missing += expected - received;
        *clock.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
    for listener in listeners {
        listener.abort();
    }
    let histogram: Latencies = latencies.iter().copied().collect();
    let quantile = |q| histogram.quantile(q);
    Ok(FanoutReport {
        requesters: queued.len(),
        captures,
        updates: latencies.len(),
        missing,
        p50_us: quantile(0.5),
        p99_us: quantile(0.99),
        max_us: histogram.max(),
    })
}
