//! `ponte bench takeover`: how long a dead node's once-only work (the lost-chat timer,
//! resume, orphan adoption, the bridges' dispatcher and deadlines) waits for another node.
//! Each round starts node A (`ponte serve` as a child process on the configured PostgreSQL
//! and NATS) and waits until it holds its leases, starts node B and waits until B is healthy,
//! kills A with SIGKILL, and times from the kill until B holds each lease A held, reading the
//! holders from the shared `leases` table. The rounds kill A at moments spread evenly over
//! one renewal period, since where the kill falls between two renewals decides the wait.
//!
//! Both nodes run on this machine, where B sees at once that A's process is gone and takes
//! its leases without waiting for their TTL. With `other_host` node A runs in a UTS
//! namespace of its own under another host name (`unshare --uts`, which needs root), so B
//! cannot tell and waits for the TTL, as a node on another machine would.

use super::LocalNodes;
use super::local_nodes::{healthy, signal, wait_for};
use crate::latency::Latencies;
use crate::store::{Store, now_millis};
use anyhow::{Context, bail};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// What the take-over run does.
#[derive(Debug, Clone)]
pub struct TakeoverOptions {
    /// Node A is node 0 of these, node B node 1.
    pub nodes: LocalNodes,
    pub lease_ttl_ms: u64,
    pub rounds: usize,
    pub other_host: bool,
}

/// The figures of a take-over run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TakeoverReport {
    pub rounds: usize,
    pub lease_ttl_ms: u64,
    pub other_host: bool,
    /// Per lease: the milliseconds from the kill until node B held it.
    pub leases: Vec<LeaseTakeover>,
    /// Over every lease of every round.
    pub p50_ms: u64,
    pub max_ms: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct LeaseTakeover {
    pub name: String,
    pub p50_ms: u64,
    pub max_ms: u64,
}

/// The leases a node takes, in the order they are reported.
const LEASES: [&str; 5] = [
    crate::lease::LOST_CHATS,
    crate::lease::RESUME,
    crate::lease::ORPHANS,
    crate::lease::BRIDGE_DISPATCH,
    crate::lease::BRIDGE_DEADLINES,
];

/// How long a node may take to start, or to take the leases at all.
const PATIENCE: Duration = Duration::from_secs(60);

/// Runs the rounds and returns the figures.
pub async fn takeover(options: TakeoverOptions) -> anyhow::Result<TakeoverReport> {
    anyhow::ensure!(options.rounds > 0, "at least one round");
    let store: Arc<dyn Store> = crate::store::open(
        &options.nodes.database_url,
        crate::store::StoreOptions::default(),
    )
    .await
    .context("opening the shared store")?;
    let mut samples: Vec<Vec<u64>> = vec![Vec::new(); LEASES.len()];
    for round in 0..options.rounds {
        let taken = one_round(&options, store.as_ref(), round).await?;
        for (index, millis) in taken {
            samples[index].push(millis);
        }
    }
    let _ = std::fs::remove_dir_all(&options.nodes.data_dir);
    let all: Latencies = samples.iter().flatten().copied().collect();
    let leases = LEASES
        .iter()
        .zip(&samples)
        .filter(|(_, taken)| !taken.is_empty())
        .map(|(name, taken)| {
            let histogram: Latencies = taken.iter().copied().collect();
            LeaseTakeover {
                name: name.to_string(),
                p50_ms: histogram.quantile(0.5),
                max_ms: histogram.quantile(1.0),
            }
        })
        .collect();
    Ok(TakeoverReport {
        rounds: options.rounds,
        lease_ttl_ms: options.lease_ttl_ms,
        other_host: options.other_host,
        leases,
        p50_ms: all.quantile(0.5),
        max_ms: all.quantile(1.0),
    })
}

/// One round: `(index in LEASES, milliseconds from the kill until B held it)` for every lease
/// A held.
async fn one_round(
    options: &TakeoverOptions,
    store: &dyn Store,
    round: usize,
) -> anyhow::Result<Vec<(usize, u64)>> {
    let mut node_a = spawn(options, 0, round)?;
    let pid_a = node_a.id().context("node A has no process id")?;
    // A holds what it can once nobody else does: every lease, in a round of its own.
    let held_by_a = wait_for(PATIENCE, || async {
        let held = held_by(store, pid_a).await?;
        Ok((held.len() == LEASES.len()).then_some(held))
    })
    .await
    .context("node A never held every lease")?;
    let mut node_b = spawn(options, 1, round)?;
    let pid_b = node_b.id().context("node B has no process id")?;
    let address_b = options.nodes.address(1);
    wait_for(PATIENCE, || async {
        Ok(healthy(address_b).await.then_some(()))
    })
    .await
    .context("node B never became healthy")?;
    // Where the kill falls between two renewals decides the wait: the rounds spread it
    // evenly over one renewal period (a third of the TTL).
    let period = Duration::from_millis(options.lease_ttl_ms / 3);
    tokio::time::sleep(period.mul_f64(round as f64 / options.rounds as f64)).await;
    signal(pid_a, libc::SIGKILL);
    let killed = Instant::now();
    node_a.wait().await.context("reaping node A")?;
    let mut taken: Vec<(usize, u64)> = Vec::new();
    let deadline = killed + PATIENCE;
    while taken.len() < held_by_a.len() {
        if Instant::now() > deadline {
            bail!("node B did not take every lease over within {PATIENCE:?}");
        }
        for index in held_by(store, pid_b).await? {
            if held_by_a.contains(&index) && !taken.iter().any(|(seen, _)| *seen == index) {
                taken.push((index, killed.elapsed().as_millis() as u64));
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    signal(pid_b, libc::SIGTERM);
    node_b.wait().await.context("stopping node B")?;
    Ok(taken)
}

/// Which of [`LEASES`] the process `pid` holds now.
async fn held_by(store: &dyn Store, pid: u32) -> anyhow::Result<Vec<usize>> {
    let suffix = format!("#{pid}");
    let mut held = Vec::new();
    for (index, name) in LEASES.iter().enumerate() {
        let holder = store.lease_holder(name, now_millis()).await?;
        if holder.is_some_and(|holder| holder.ends_with(&suffix)) {
            held.push(index);
        }
    }
    Ok(held)
}

/// Starts node `index` (0 is A) of `round`.
fn spawn(options: &TakeoverOptions, index: u16, round: usize) -> anyhow::Result<Child> {
    let nodes = &options.nodes;
    let data_dir = nodes.data_dir.join(format!("round-{round}-node-{index}"));
    let mut command = if options.other_host && index == 0 {
        // A shell in a UTS namespace of its own names its host, then becomes the node (so the
        // child's pid is the node's).
        let mut command = Command::new("unshare");
        command.args([
            "--uts",
            "sh",
            "-c",
            "hostname ponte-takeover-elsewhere && exec \"$0\" serve",
        ]);
        command.arg(&nodes.exe);
        command
    } else {
        let mut command = Command::new(&nodes.exe);
        command.arg("serve");
        command
    };
    nodes.configure(&mut command, index, &data_dir);
    command
        .env("PONTE_LEASE_TTL_MS", options.lease_ttl_ms.to_string())
        .spawn()
        .with_context(|| format!("starting node {index} ({})", nodes.exe.display()))
}
