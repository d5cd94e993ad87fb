//! The nodes a benchmark starts on this machine: where the `ponte` executable, the shared
//! PostgreSQL and NATS, the knowledge sources and the intents are, where the nodes keep
//! their files and listen, and the settings each started `serve` gets from them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
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
