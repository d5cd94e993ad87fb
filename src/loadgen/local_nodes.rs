//! The nodes a benchmark starts on this machine: where the `ponte` executable, the shared
//! PostgreSQL and NATS, the knowledge sources and the intents are, where the nodes keep
//! their files and listen, the settings each started `serve` gets from them, and how a
//! benchmark waits for a node and signals it.

use super::Connection;
use anyhow::bail;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::process::Command;

/// What every node a benchmark starts shares.
#[derive(Debug, Clone)]
pub struct LocalNodes {
    /// The `ponte` executable the nodes run.
    pub exe: PathBuf,
    pub database_url: String,
    pub nats_url: String,
    pub knowledge_dir: PathBuf,
    pub intents_dir: PathBuf,
    /// Where the nodes keep their files (folders below it, removed afterwards).
    pub data_dir: PathBuf,
    /// Node 0 listens here, node `i` on the port `i` above.
    pub listen: SocketAddr,
}

impl LocalNodes {
    /// Where node `index` listens.
    pub fn address(&self, index: u16) -> SocketAddr {
        let mut address = self.listen;
        address.set_port(self.listen.port() + index);
        address
    }

    /// Gives `command` (which runs `ponte serve`, directly or through a wrapper) the
    /// settings of node `index`, its files in `data_dir`; it logs warnings only, its standard
    /// output goes nowhere, and it is killed if the benchmark drops it.
    pub(super) fn configure(&self, command: &mut Command, index: u16, data_dir: &Path) {
        command
            .env("PONTE_LISTEN", self.address(index).to_string())
            .env("PONTE_DATA_DIR", data_dir)
            .env("PONTE_DATABASE_URL", &self.database_url)
            .env("PONTE_NATS_URL", &self.nats_url)
            .env("PONTE_KNOWLEDGE_DIR", &self.knowledge_dir)
            .env("PONTE_INTENTS_DIR", &self.intents_dir)
            .env("PONTE_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true);
    }
}

/// Polls `check` every 20 ms until it yields a value, for at most `patience`.
pub(super) async fn wait_for<T, F, Fut>(patience: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = Instant::now() + patience;
    loop {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        if Instant::now() > deadline {
            bail!("gave up after {patience:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether the node at `address` answers `GET /health` with 200.
pub(super) async fn healthy(address: SocketAddr) -> bool {
    let Ok(mut connection) = Connection::open(address).await else {
        return false;
    };
    matches!(
        connection.request("GET", "/health", "", None).await,
        Ok((200, _))
    )
}

/// Sends `signal` to process `pid`.
pub(super) fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) with a pid a benchmark spawned and a valid signal number.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}
