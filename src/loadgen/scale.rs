//! `ponte bench scale`: acknowledged messages per second for one node on SQLite and for one
//! and more nodes sharing PostgreSQL and NATS, in one run, taken in turns so that the
//! machine's drift falls on every setup alike. Each run starts its nodes afresh (`ponte
//! serve` children on a scratch database created beside the configured one and dropped
//! after, a NATS subject prefix of their own, empty data directories), drives them with
//! [`super::run`], stops them with SIGTERM and removes what the run made (files, database,
//! the NATS stream), also after a failed run.
//!
//! On one machine every node shares the same processors with the database, NATS and the
//! client, so a second node brings none: it only splits the same work into smaller batches.
//! With `node_cpus` each node is held to that many processors' worth of time (a
//! [`CpuQuota`]), as a machine of its own of that size would hold it, which asks what adding
//! a node is for: do more messages get through when each added node brings its processor.
//! The report gives the nodes' CPU time per message, from `/proc/<pid>/stat`.

use super::cgroup::{CpuQuota, cpu_us};
use super::local_nodes::{healthy, signal, wait_for};
use super::{LoadOptions, LoadReport, LocalNodes};
use anyhow::{Context, bail};
use sqlx::Connection as _;
use std::time::Duration;
use tokio::process::{Child, Command};

/// One setup the runs compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "store", content = "nodes")]
pub enum Setup {
    /// One node on a SQLite file of its own.
    Sqlite,
    /// This many nodes on one PostgreSQL database and one NATS server.
    Postgres(usize),
}

impl std::str::FromStr for Setup {
    type Err = String;
    fn from_str(text: &str) -> Result<Setup, String> {
        if text == "sqlite" {
            return Ok(Setup::Sqlite);
        }
        match text.parse::<usize>() {
            Ok(nodes) if (1..=8).contains(&nodes) => Ok(Setup::Postgres(nodes)),
            _ => Err(format!(
                "a setup is `sqlite` or a node count from 1 to 8, not {text:?}"
            )),
        }
    }
}

impl std::fmt::Display for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Setup::Sqlite => write!(f, "SQLite, one node"),
            Setup::Postgres(1) => write!(f, "PostgreSQL + NATS, one node"),
            Setup::Postgres(nodes) => write!(f, "PostgreSQL + NATS, {nodes} nodes"),
        }
    }
}

/// What the scale run does.
#[derive(Debug, Clone)]
pub struct ScaleOptions {
    /// Node `i` of each run is node `i` of these, with a database and NATS prefix of the
    /// run's own: a scratch database on the server of `nodes.database_url`, or a SQLite file.
    pub nodes: LocalNodes,
    pub setups: Vec<Setup>,
    /// Each node's CPU quota in processors, if any.
    pub node_cpus: Option<f64>,
    pub requesters: usize,
    pub duration: Duration,
    pub rounds: usize,
    pub live_chat: bool,
}

/// The figures of a scale run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScaleReport {
    pub requesters: usize,
    pub seconds: u64,
    pub rounds: usize,
    pub node_cpus: Option<f64>,
    pub setups: Vec<SetupFigures>,
}

/// One setup's runs and their medians.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SetupFigures {
    pub setup: Setup,
    pub label: String,
    pub runs: Vec<RunFigures>,
    pub median_messages_per_second: f64,
    pub median_p99_us: u64,
    /// The nodes' CPU time (all nodes together) per acknowledged message, median of runs.
    pub median_node_cpu_us_per_message: f64,
    /// This setup's median over the first PostgreSQL setup's, when there is one.
    pub ratio_to_first_postgres: Option<f64>,
}

/// One run of one setup.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunFigures {
    pub messages_per_second: f64,
    pub p99_us: u64,
    pub errors: u64,
    pub node_cpu_us_per_message: f64,
    /// Time the quota held the nodes back, all nodes together.
    pub throttled_ms: u64,
}

/// The admin token every started node registers; the nodes listen on loopback only.
const ADMIN_TOKEN: &str = "ponte-bench-scale";

/// How long a node may take to start, or to stop after SIGTERM.
const PATIENCE: Duration = Duration::from_secs(60);

/// Runs every setup `rounds` times, in turns, and returns the figures.
pub async fn scale(options: ScaleOptions) -> anyhow::Result<ScaleReport> {
    anyhow::ensure!(options.rounds > 0, "at least one round");
    anyhow::ensure!(!options.setups.is_empty(), "at least one setup");
    let mut runs: Vec<Vec<RunFigures>> = vec![Vec::new(); options.setups.len()];
    for round in 0..options.rounds {
        for (index, setup) in options.setups.iter().enumerate() {
            let figures = one_run(&options, *setup, round)
                .await
                .with_context(|| format!("round {} of {setup}", round + 1))?;
            runs[index].push(figures);
        }
    }
    let _ = std::fs::remove_dir_all(&options.nodes.data_dir);
    let mut setups: Vec<SetupFigures> = options
        .setups
        .iter()
        .zip(runs)
        .map(|(setup, runs)| SetupFigures {
            setup: *setup,
            label: setup.to_string(),
            median_messages_per_second: median(runs.iter().map(|run| run.messages_per_second)),
            median_p99_us: median(runs.iter().map(|run| run.p99_us as f64)) as u64,
            median_node_cpu_us_per_message: median(
                runs.iter().map(|run| run.node_cpu_us_per_message),
            ),
            ratio_to_first_postgres: None,
            runs,
        })
        .collect();
    let first_postgres = setups
        .iter()
        .find(|figures| matches!(figures.setup, Setup::Postgres(_)))
        .map(|figures| figures.median_messages_per_second);
    if let Some(base) = first_postgres.filter(|base| *base > 0.0) {
        for figures in &mut setups {
            figures.ratio_to_first_postgres = Some(figures.median_messages_per_second / base);
        }
    }
    Ok(ScaleReport {
        requesters: options.requesters,
        seconds: options.duration.as_secs(),
        rounds: options.rounds,
        node_cpus: options.node_cpus,
        setups,
    })
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    }
}

/// Starts `setup`'s nodes afresh, loads them, stops them and cleans up (also when the run
/// failed: the nodes, their files, the scratch database and the NATS stream).
async fn one_run(options: &ScaleOptions, setup: Setup, round: usize) -> anyhow::Result<RunFigures> {
    let tag = format!("{}-{round}-{}", std::process::id(), label(setup));
    let run_dir = options.nodes.data_dir.join(format!("run-{tag}"));
    std::fs::create_dir_all(&run_dir)?;
    let prefix = format!("ponte-scale-{tag}");
    let shared = match setup {
        Setup::Sqlite => None,
        Setup::Postgres(_) => {
            let name = format!("ponte_scale_{}", tag.replace('-', "_"));
            create_database(&options.nodes.database_url, &name).await?;
            Some(name)
        }
    };
    let mut nodes = Vec::new();
    let loaded = load_nodes(
        options,
        setup,
        &run_dir,
        shared.as_deref(),
        &prefix,
        &mut nodes,
    )
    .await;
    for node in &mut nodes {
        stop(node).await;
    }
    let _ = std::fs::remove_dir_all(&run_dir);
    if let Some(name) = shared {
        drop_database(&options.nodes.database_url, &name).await?;
        delete_stream(&options.nodes.nats_url, &prefix).await?;
    }
    loaded
}

/// Starts the nodes of `setup` (into `nodes`, so that the caller stops them whatever
/// happens), holds them to their quota and loads them.
async fn load_nodes(
    options: &ScaleOptions,
    setup: Setup,
    run_dir: &std::path::Path,
    database: Option<&str>,
    prefix: &str,
    nodes: &mut Vec<Child>,
) -> anyhow::Result<RunFigures> {
    let (count, database_url) = match (setup, database) {
        (Setup::Postgres(count), Some(name)) => {
            (count, with_database(&options.nodes.database_url, name)?)
        }
        _ => (
            1,
            format!("sqlite://{}", run_dir.join("ponte.db").display()),
        ),
    };
    let mut addresses = Vec::new();
    for index in 0..count as u16 {
        let log = run_dir.join(format!("node-{index}.log"));
        let mut command = Command::new(&options.nodes.exe);
        command.arg("serve");
        options
            .nodes
            .configure(&mut command, index, &run_dir.join(format!("node-{index}")));
        command
            .env("PONTE_DATABASE_URL", &database_url)
            .env("PONTE_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("PONTE_RATE_LIMIT", "0")
            .stderr(std::fs::File::create(&log)?);
        if database.is_some() {
            command.env("PONTE_NATS_PREFIX", prefix);
        } else {
            command.env_remove("PONTE_NATS_URL");
        }
        let child = command
            .spawn()
            .with_context(|| format!("starting node {index} ({})", options.nodes.exe.display()))?;
        let listen = options.nodes.address(index);
        nodes.push(child);
        addresses.push(listen);
        let up = wait_for(PATIENCE, || async {
            Ok(healthy(listen).await.then_some(()))
        })
        .await;
        if let Err(error) = up {
            let said = std::fs::read_to_string(&log).unwrap_or_default();
            let mut tail: Vec<&str> = said.lines().rev().take(5).collect();
            tail.reverse();
            return Err(error.context(format!(
                "node {index} on {listen} never became healthy; it said: {}",
                tail.join(" | ")
            )));
        }
    }
    let pids: Vec<u32> = nodes.iter().filter_map(Child::id).collect();
    let quotas = match options.node_cpus {
        Some(cpus) => pids
            .iter()
            .enumerate()
            .map(|(index, pid)| CpuQuota::hold(*pid, cpus, &format!("{prefix}-node-{index}")))
            .collect::<anyhow::Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    let cpu_before: u64 = pids.iter().map(|pid| cpu_us(*pid)).sum();
    let throttled_before: u64 = quotas.iter().map(CpuQuota::throttled_us).sum();
    let report: LoadReport = super::run(LoadOptions {
        addresses,
        admin_token: ADMIN_TOKEN.to_string(),
        requesters: options.requesters,
        duration: options.duration,
        live_chat: options.live_chat,
        server_pid: None,
    })
    .await?;
    let cpu_used = pids.iter().map(|pid| cpu_us(*pid)).sum::<u64>() - cpu_before;
    let throttled = quotas.iter().map(CpuQuota::throttled_us).sum::<u64>() - throttled_before;
    drop(quotas);
    Ok(RunFigures {
        messages_per_second: report.messages_per_second,
        p99_us: report.p99_us,
        errors: report.errors,
        node_cpu_us_per_message: cpu_used as f64 / report.acknowledged.max(1) as f64,
        throttled_ms: throttled / 1_000,
    })
}

/// Deletes the live stream the nodes of `prefix` made on the NATS server at `url`.
async fn delete_stream(url: &str, prefix: &str) -> anyhow::Result<()> {
    let client = async_nats::connect(url)
        .await
        .with_context(|| format!("connecting to NATS at {url} to delete the run's stream"))?;
    let name = crate::live::nats::stream_name(prefix);
    async_nats::jetstream::new(client)
        .delete_stream(&name)
        .await
        .with_context(|| format!("deleting the stream {name}"))?;
    Ok(())
}

fn label(setup: Setup) -> String {
    match setup {
        Setup::Sqlite => "sqlite".to_string(),
        Setup::Postgres(nodes) => format!("pg{nodes}"),
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let Some(scheme_end) = url.find("://") else {
        bail!("not a database URL: {url}");
    };
    let authority_start = scheme_end + 3;
    let query_start = url.find('?').unwrap_or(url.len());
    let path_start = url[authority_start..query_start]
        .find('/')
        .map_or(query_start, |at| authority_start + at);
    Ok(format!(
        "{}/{name}{}",
        &url[..path_start],
        &url[query_start..]
    ))
}

/// Creates database `name` on the server of `url`. The names are this module's own (a fixed
/// prefix, a process id and a round number), never a user's text.
async fn create_database(url: &str, name: &str) -> anyhow::Result<()> {
    let mut connection = sqlx::PgConnection::connect(url)
        .await
        .with_context(|| format!("connecting to {url} to create a scratch database"))?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut connection)
        .await
        .with_context(|| format!("creating the scratch database {name}"))?;
    Ok(())
}

async fn drop_database(url: &str, name: &str) -> anyhow::Result<()> {
    let mut connection = sqlx::PgConnection::connect(url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut connection)
    .await
    .with_context(|| format!("dropping the scratch database {name}"))?;
    Ok(())
}

/// SIGTERM, then SIGKILL if the node has not stopped within [`PATIENCE`].
async fn stop(node: &mut Child) {
    if let Some(pid) = node.id() {
        signal(pid, libc::SIGTERM);
    }
    if tokio::time::timeout(PATIENCE, node.wait()).await.is_err() {
        let _ = node.kill().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced_and_the_rest_kept() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x").unwrap(),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x").unwrap(),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "x").unwrap(),
            "postgres://h:5432/x"
        );
        assert!(with_database("nonsense", "x").is_err());
    }

    #[test]
    fn setups_are_read_from_their_names() {
        assert_eq!("sqlite".parse::<Setup>(), Ok(Setup::Sqlite));
        assert_eq!("2".parse::<Setup>(), Ok(Setup::Postgres(2)));
        assert!("0".parse::<Setup>().is_err());
        assert!("many".parse::<Setup>().is_err());
    }

    #[test]
    fn the_median_takes_the_middle() {
        assert_eq!(median([3.0, 1.0, 2.0].into_iter()), 2.0);
        assert_eq!(median([4.0, 1.0, 2.0, 3.0].into_iter()), 2.5);
        assert_eq!(median(std::iter::empty()), 0.0);
    }
}
