//! `ponte bench` (only in a build with the `devtools` feature): the synthetic corpus, the
//! HTTP load generator and its WebSocket variants against a running server (they issue
//! requester tokens with the admin token of the configuration, `--admin-token` or
//! `PONTE_ADMIN_TOKEN`), the desk routing benchmark and the assistant decision latency;
//! each prints its report as text or JSON.

use crate::config::Config;
use anyhow::Context;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Write a synthetic knowledge source directory (for reindex and query benchmarks).
    Corpus {
        /// Where to write articles/ and activities/.
        #[arg(long)]
        out: PathBuf,
        /// How many articles.
        #[arg(long, default_value_t = 50_000)]
        articles: usize,
        /// Seed of the generator.
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Drive a running server over HTTP with concurrent requesters posting messages.
    Load {
        /// The server's address; repeat it (or separate with commas) for several nodes of one
        /// desk: the requesters are spread over them.
        #[arg(long, default_value = "127.0.0.1:8080", value_delimiter = ',')]
        address: Vec<std::net::SocketAddr>,
        /// Concurrent requesters, one conversation and one connection each.
        #[arg(long, default_value_t = 64)]
        requesters: usize,
        /// Seconds of load.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Post to the assistant instead of a conversation handed to a person.
        #[arg(long)]
        assistant: bool,
        /// The server's process id, to report its resident memory.
        #[arg(long)]
        server_pid: Option<u32>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Desk routing speed: automatic decisions, enqueue with assignment, queue position
    /// lookups and capture with its position updates, over generated attendants and chats.
    Routing {
        #[arg(long, default_value_t = 200)]
        attendants: usize,
        #[arg(long, default_value_t = 5_000)]
        queued: usize,
        #[arg(long, default_value_t = 100_000)]
        iterations: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Queue-position updates fanned out over WebSocket to waiting requesters of a running
    /// server: opens N queued chats, each requester listening, then captures them one by
    /// one and measures how long each remaining requester waits for its new position.
    Fanout {
        #[arg(long, default_value = "127.0.0.1:8080")]
        address: std::net::SocketAddr,
        #[arg(long, default_value_t = 1_000)]
        requesters: usize,
        /// How many captures (each fans out to every requester behind it).
        #[arg(long, default_value_t = 20)]
        captures: usize,
        #[arg(long)]
        json: bool,
    },
    /// Cross-node delivery: chats handed to a person through node `--post`, a WebSocket on
    /// each through node `--listen`; each message posted on the first is timed from its
    /// acknowledgement to its frame on the second.
    Crossnode {
        #[arg(long, default_value = "127.0.0.1:8080")]
        post: std::net::SocketAddr,
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: std::net::SocketAddr,
        #[arg(long, default_value_t = 20)]
        conversations: usize,
        #[arg(long, default_value_t = 2_000)]
        messages: usize,
        #[arg(long)]
        json: bool,
    },
    /// Take-over time of a dead node's once-only work: starts node A on the configured
    /// PostgreSQL (`--database-url`) and NATS (`--nats-url`), then node B, kills A with
    /// SIGKILL and times until B holds each lease A held. Nodes listen on the configured
    /// address and the next port.
    Takeover {
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Run node A under another host name (`unshare --uts`, root only), so that node B
        /// cannot see its process is gone and waits for the lease TTL, as across machines.
        #[arg(long)]
        other_host: bool,
        #[arg(long)]
        json: bool,
    },
    /// Throughput of one node on SQLite beside one and more nodes on PostgreSQL and NATS:
    /// starts each setup's nodes afresh (`serve` children listening on the configured
    /// address and the next ports, a scratch database created beside `--database-url` and
    /// dropped after, `--nats-url`), loads them as `bench load` does, in turns over the
    /// rounds, and prints each setup's median messages/s, p99 and node CPU per message.
    Scale {
        /// The setups, in the order of each round: `sqlite`, or a node count on PostgreSQL.
        #[arg(long, default_value = "sqlite,1,2", value_delimiter = ',')]
        setups: Vec<crate::loadgen::Setup>,
        /// Hold each node to this many processors' worth of time (a cgroup CPU quota; root
        /// only), as a machine of its own of that size would.
        #[arg(long)]
        node_cpus: Option<f64>,
        #[arg(long, default_value_t = 64)]
        requesters: usize,
        /// Seconds of load per run.
        #[arg(long, default_value_t = 8)]
        seconds: u64,
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Post to the assistant instead of a conversation handed to a person.
        #[arg(long)]
        assistant: bool,
        #[arg(long)]
        json: bool,
    },
    /// Server memory added by idle WebSocket conversations: opens N conversations, then one
    /// WebSocket on each, and reads the server's RSS before and with them.
    Sockets {
        /// The server's address.
        #[arg(long, default_value = "127.0.0.1:8080")]
        address: std::net::SocketAddr,
        /// An admin token of that server, to issue requester tokens.
        /// How many idle conversations with an open WebSocket.
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        /// Seconds the sockets stay open before the memory is read.
        #[arg(long, default_value_t = 5)]
        hold: u64,
        /// The server's process id (its memory is what is measured).
        #[arg(long)]
        server_pid: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The bridge's dispatcher against a loopback receiver: events delivered per second,
    /// latency from commit to receipt, lost and duplicated events, and (with --outage-secs)
    /// the drain time of a backlog queued while the receiver answered 503.
    Bridge {
        #[arg(long, default_value_t = 20_000)]
        events: usize,
        #[arg(long, default_value_t = 200)]
        conversations: usize,
        /// Events per second offered (0: as fast as they commit).
        #[arg(long, default_value_t = 0)]
        rate: u32,
        #[arg(long, default_value_t = 0)]
        outage_secs: u64,
        #[arg(long, default_value_t = 1_000)]
        outage_events: usize,
        #[arg(long)]
        json: bool,
    },
    /// Fill the configured store with a generated history (100,000 conversations and
    /// 1,000,000 messages by default) and time the desk report and the gap clustering.
    Reports(super::bench_reports::ReportBenchArgs),
    /// Latency of one assistant decision (matcher + state machine, no I/O) over the bundled
    /// intents, activities, article titles and out-of-scope texts.
    Decide {
        /// How many times every text is decided.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// The admin token a command against a running server issues requester tokens with.
fn admin_token(config: &Config) -> anyhow::Result<String> {
    config.admin_token.clone().context(
        "an admin token of the server is needed: pass --admin-token or set PONTE_ADMIN_TOKEN",
    )
}

pub(super) fn run(config: &Config, command: BenchCommand) -> anyhow::Result<ExitCode> {
    match command {
        BenchCommand::Corpus {
            out,
            articles,
            seed,
        } => corpus(&out, articles, seed),
        BenchCommand::Load {
            address,
            requesters,
            seconds,
            assistant,
            server_pid,
            json,
        } => load(
            crate::loadgen::LoadOptions {
                addresses: address,
                admin_token: admin_token(config)?,
                requesters: requesters.max(1),
                duration: Duration::from_secs(seconds.max(1)),
                live_chat: !assistant,
                server_pid,
            },
            json,
        ),
        BenchCommand::Routing {
            attendants,
            queued,
            iterations,
            json,
        } => routing(attendants, queued, iterations.max(1), json),
        BenchCommand::Fanout {
            address,
            requesters,
            captures,
            json,
        } => fanout(
            crate::loadgen::FanoutOptions {
                address,
                admin_token: admin_token(config)?,
                requesters: requesters.max(2),
                captures: captures.max(1),
            },
            json,
        ),
        BenchCommand::Crossnode {
            post,
            listen,
            conversations,
            messages,
            json,
        } => crossnode(
            crate::loadgen::CrossNodeOptions {
                post,
                listen,
                admin_token: admin_token(config)?,
                conversations,
                messages: messages.max(1),
            },
            json,
        ),
        BenchCommand::Takeover {
            rounds,
            other_host,
            json,
        } => takeover(config, rounds, other_host, json),
        BenchCommand::Scale {
            setups,
            node_cpus,
            requesters,
            seconds,
            rounds,
            assistant,
            json,
        } => scale(
            config,
            ScaleRun {
                setups,
                node_cpus,
                requesters: requesters.max(1),
                duration: Duration::from_secs(seconds.max(1)),
                rounds: rounds.max(1),
                live_chat: !assistant,
            },
            json,
        ),
        BenchCommand::Sockets {
            address,
            count,
            hold,
            server_pid,
            json,
        } => sockets(
            crate::loadgen::SocketsOptions {
                address,
                admin_token: admin_token(config)?,
                count: count.max(1),
                hold: Duration::from_secs(hold),
                server_pid,
            },
            json,
        ),
        BenchCommand::Decide { rounds, json } => decide(config, rounds, json),
        BenchCommand::Reports(args) => {
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            runtime.block_on(async {
                let store = crate::app::open_store(config).await?;
                let result = super::bench_reports::run(store.clone(), &args).await;
                store.close().await;
                result
            })?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Bridge {
            events,
            conversations,
            rate,
            outage_secs,
            outage_events,
            json,
        } => bridge(
            config,
            super::bench_bridge::Options {
                events,
                conversations,
                rate,
                outage_secs,
                outage_events,
            },
            json,
        ),
    }
}

fn corpus(out: &std::path::Path, articles: usize, seed: u64) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let written = crate::knowledge::synthetic::write_corpus(out, articles, seed)
        .with_context(|| format!("writing a synthetic corpus into {}", out.display()))?;
    println!(
        "wrote {written} articles into {} in {} ms",
        out.display(),
        started.elapsed().as_millis()
    );
    Ok(ExitCode::SUCCESS)
}

fn load(options: crate::loadgen::LoadOptions, json: bool) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(crate::loadgen::run(options))?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{} requesters, {:.1} s: {} messages acknowledged, {:.0} messages/s, p50 {} us, p99 {} us, p99.9 {} us, {} errors, server RSS {}",
            report.requesters,
            report.seconds,
            report.acknowledged,
            report.messages_per_second,
            report.p50_us,
            report.p99_us,
            report.p999_us,
            report.errors,
            report
                .server_rss_kib
                .map(|kib| format!("{:.1} MiB", kib as f64 / 1024.0))
                .unwrap_or_else(|| "unknown".to_string())
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn bridge(
    config: &Config,
    options: super::bench_bridge::Options,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(super::bench_bridge::run(config, options))?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{} events over {} conversations (offered {}/s): {:.0} delivered/s, commit to receipt p50 {} ms, p99 {} ms, max {} ms; lost {}, duplicated {}",
            report.events,
            report.conversations,
            if report.offered_rate == 0 {
                "max".to_string()
            } else {
                report.offered_rate.to_string()
            },
            report.events_per_second,
            report.commit_to_receipt_p50_ms,
            report.commit_to_receipt_p99_ms,
            report.commit_to_receipt_max_ms,
            report.lost,
            report.duplicated
        );
        if let Some(outage) = &report.outage {
            println!(
                "outage {} s with {} events queued: drained {} ms after recovery; lost {}, duplicated {}",
                outage.outage_secs, outage.queued, outage.drain_ms, outage.lost, outage.duplicated
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn decide(config: &Config, rounds: usize, json: bool) -> anyhow::Result<ExitCode> {
    let knowledge = Arc::new(crate::app::open_knowledge(config)?);
    let intents = crate::assistant::load_intents(&config.intents_dir)?;
    let encoder = crate::app::load_encoder(config)?;
    let with_encoder = encoder.is_some();
    let started = Instant::now();
    let matcher = crate::assistant::Matcher::build_with_encoder(
        &intents,
        knowledge,
        Default::default(),
        encoder,
    )?;
    let training_ms = started.elapsed().as_millis();
    let texts = crate::assistant::bench::sample_texts(&intents, &matcher)?;
    let latency = crate::assistant::bench::run(&matcher, &texts, rounds)?;
    if json {
        println!("{}", serde_json::to_string(&latency)?);
    } else {
        println!(
            "matcher trained in {training_ms} ms on {} intents and {} activities{}",
            intents.len(),
            matcher.activity_count(),
            if with_encoder {
                ", with the sentence encoder"
            } else {
                ""
            }
        );
        println!(
            "{} decisions over {} texts: p50 {} us, p99 {} us, p99.9 {} us, max {} us",
            latency.decisions,
            latency.texts,
            latency.p50_us,
            latency.p99_us,
            latency.p999_us,
            latency.max_us
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn routing(
    attendants: usize,
    queued: usize,
    iterations: usize,
    json: bool,
) -> anyhow::Result<ExitCode> {
    use crate::desk::bench::{bench_routing, percentile_us};
    let report = bench_routing(attendants, queued, iterations);
    let rows = [
        ("automatic_decision", &report.decision),
        ("enqueue_assign", &report.enqueue_assign),
        ("position_lookup", &report.position),
        ("capture_fanout", &report.capture_fanout),
    ];
    if json {
        let mut object = serde_json::Map::new();
        object.insert("queued".into(), report.queue_len.into());
        for (name, samples) in rows {
            object.insert(
                name.into(),
                serde_json::json!({
                    "p50_us": percentile_us(samples, 0.5),
                    "p99_us": percentile_us(samples, 0.99),
                    "p999_us": percentile_us(samples, 0.999),
                    "samples": samples.len(),
                }),
            );
        }
        println!("{}", serde_json::Value::Object(object));
    } else {
        println!(
            "{attendants} attendants, {} queued chats, {iterations} iterations",
            report.queue_len
        );
        for (name, samples) in rows {
            println!(
                "{name:<20} p50 {:>9.2} us  p99 {:>9.2} us  p99.9 {:>9.2} us  ({} samples)",
                percentile_us(samples, 0.5),
                percentile_us(samples, 0.99),
                percentile_us(samples, 0.999),
                samples.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn fanout(options: crate::loadgen::FanoutOptions, json: bool) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(crate::loadgen::fanout(options))?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{} waiting requesters, {} captures: {} position updates received, p50 {} us, p99 {} us, max {} us, {} missing",
            report.requesters,
            report.captures,
            report.updates,
            report.p50_us,
            report.p99_us,
            report.max_us,
            report.missing
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn crossnode(options: crate::loadgen::CrossNodeOptions, json: bool) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(crate::loadgen::cross_node(options))?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{} conversations: {} posted, {} delivered on the other node ({} duplicate frames), p50 {} us, p99 {} us, max {} us",
            report.conversations,
            report.posted,
            report.delivered,
            report.duplicates,
            report.p50_us,
            report.p99_us,
            report.max_us
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The nodes a benchmark starts from this executable, with the configuration's knowledge,
/// intents and address, in a folder `name-<pid>` of the data directory. With `shared` they
/// need the configured PostgreSQL and NATS (in a scale run, a scratch database beside it).
fn local_nodes(
    config: &Config,
    name: &str,
    shared: bool,
) -> anyhow::Result<crate::loadgen::LocalNodes> {
    let nats_url = config.nats_url.clone().unwrap_or_default();
    if shared {
        anyhow::ensure!(
            !nats_url.is_empty(),
            "the nodes exchange live events over NATS: give --nats-url (or PONTE_NATS_URL)"
        );
        anyhow::ensure!(
            config.database_url.starts_with("postgres"),
            "the nodes share one PostgreSQL server: give --database-url postgres://..."
        );
    }
    Ok(crate::loadgen::LocalNodes {
        exe: std::env::current_exe().context("locating the ponte executable")?,
        database_url: config.database_url.clone(),
        nats_url,
        knowledge_dir: config.knowledge_dir.clone(),
        intents_dir: config.intents_dir.clone(),
        data_dir: config
            .data_dir
            .join(format!("{name}-{}", std::process::id())),
        listen: config.listen,
    })
}

fn takeover(
    config: &Config,
    rounds: usize,
    other_host: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let options = crate::loadgen::TakeoverOptions {
        nodes: local_nodes(config, "takeover", true)?,
        lease_ttl_ms: config.lease_ttl_ms,
        rounds: rounds.max(1),
        other_host,
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(crate::loadgen::takeover(options))?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} rounds, lease TTL {} ms, node A {}: every lease taken over after p50 {} ms, max {} ms",
        report.rounds,
        report.lease_ttl_ms,
        if report.other_host {
            "under another host name"
        } else {
            "on this host"
        },
        report.p50_ms,
        report.max_ms
    );
    for lease in &report.leases {
        println!(
            "  {:<18} p50 {:>6} ms  max {:>6} ms",
            lease.name, lease.p50_ms, lease.max_ms
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// What `bench scale` was asked, besides the configuration.
struct ScaleRun {
    setups: Vec<crate::loadgen::Setup>,
    node_cpus: Option<f64>,
    requesters: usize,
    duration: Duration,
    rounds: usize,
    live_chat: bool,
}

fn scale(config: &Config, run: ScaleRun, json: bool) -> anyhow::Result<ExitCode> {
    let shared = run
        .setups
        .iter()
        .any(|setup| matches!(setup, crate::loadgen::Setup::Postgres(_)));
    let options = crate::loadgen::ScaleOptions {
        nodes: local_nodes(config, "scale", shared)?,
        setups: run.setups,
        node_cpus: run.node_cpus,
        requesters: run.requesters,
        duration: run.duration,
        rounds: run.rounds,
        live_chat: run.live_chat,
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(crate::loadgen::scale(options))?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} requesters, {} s per run, {} rounds in turns, {}",
        report.requesters,
        report.seconds,
        report.rounds,
        match report.node_cpus {
            Some(cpus) => format!("each node held to {cpus} CPU"),
            None => "nodes unconstrained".to_string(),
        }
    );
    for figures in &report.setups {
        let runs: Vec<String> = figures
            .runs
            .iter()
            .map(|run| format!("{:.0}", run.messages_per_second))
            .collect();
        println!(
            "  {:<32} {:>7.0} messages/s (runs {}), p99 {:.1} ms, node CPU {:.0} us/message{}",
            figures.label,
            figures.median_messages_per_second,
            runs.join(" / "),
            figures.median_p99_us as f64 / 1000.0,
            figures.median_node_cpu_us_per_message,
            figures
                .ratio_to_first_postgres
                .map(|ratio| format!(", {ratio:.2} of the first PostgreSQL setup"))
                .unwrap_or_default()
        );
    }
    let errors: u64 = report
        .setups
        .iter()
        .flat_map(|figures| &figures.runs)
        .map(|run| run.errors)
        .sum();
    if errors > 0 {
        println!("  {errors} requests failed");
    }
    Ok(ExitCode::SUCCESS)
}

fn sockets(options: crate::loadgen::SocketsOptions, json: bool) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(crate::loadgen::idle_sockets(options))?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{} idle WebSocket conversations ({} failed): server RSS {:.1} MiB before, {:.1} MiB with them, {:.1} MiB added, {:.1} KiB per socket",
            report.sockets,
            report.failed,
            report.rss_before_kib as f64 / 1024.0,
            report.rss_with_sockets_kib as f64 / 1024.0,
            report.added_mib,
            report.per_socket_kib
        );
    }
    Ok(ExitCode::SUCCESS)
}
