//! `ponte nodes`: several local `ponte serve` processes against one PostgreSQL database and one
//! NATS server, for trying a multi-node desk on one machine. Node `i` listens on the
//! configured port plus `i` and keeps its files in `<data dir>/node-<i>`; the rest of the
//! configuration is the parent's. Ctrl-C or SIGTERM stops every node gracefully (each hands
//! its leases over at once); if one node exits, the others are stopped too.

use crate::config::Config;
use anyhow::{Context, bail};
use std::process::ExitCode;
use tokio::process::{Child, Command};

/// Starts `count` nodes and waits until they stop.
pub fn run(config: &Config, count: u16) -> anyhow::Result<ExitCode> {
    if !config.database_url.starts_with("postgres://")
        && !config.database_url.starts_with("postgresql://")
    {
        bail!(
            "several nodes share one PostgreSQL database: give --database-url postgres://... \
             (or PONTE_DATABASE_URL)"
        );
    }
    let Some(nats_url) = &config.nats_url else {
        bail!("several nodes exchange live events over NATS: give --nats-url (or PONTE_NATS_URL)");
    };
    if count == 0 {
        bail!("--count must be at least 1");
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let exe = std::env::current_exe().context("locating the ponte executable")?;
        let mut children = Vec::new();
        for index in 0..count {
            let mut listen = config.listen;
            listen.set_port(config.listen.port() + index);
            let data_dir = config.data_dir.join(format!("node-{index}"));
            let mut command = Command::new(&exe);
            command
                .arg("serve")
                .env("PONTE_LISTEN", listen.to_string())
                .env("PONTE_DATA_DIR", &data_dir)
                .env("PONTE_DATABASE_URL", &config.database_url)
                .env("PONTE_NATS_URL", nats_url)
                .env("PONTE_NATS_PREFIX", &config.nats_prefix)
                .env("PONTE_DATABASE_POOL", config.database_pool.to_string())
                .env("PONTE_KNOWLEDGE_DIR", &config.knowledge_dir)
                .env("PONTE_INTENTS_DIR", &config.intents_dir)
                .env("PONTE_LOG", &config.log);
            if let Some(token) = &config.admin_token {
                command.env("PONTE_ADMIN_TOKEN", token);
            }
            if let Some(url) = &config.public_url {
                command.env("PONTE_PUBLIC_URL", url);
            }
            let child = command
                .spawn()
                .with_context(|| format!("starting node {index}"))?;
            eprintln!(
                "node {index}: http://{listen} (pid {}, data in {})",
                child.id().unwrap_or_default(),
                data_dir.display()
            );
            children.push(child);
        }
        let failed = supervise(children).await;
        Ok(if failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        })
    })
}

/// Waits for a stop signal or the first node to exit, then stops the others and waits for
/// them; true when a node exited on its own or failed.
async fn supervise(mut children: Vec<Child>) -> bool {
    let first_exit = async {
        let waits = children.iter_mut().map(|child| Box::pin(child.wait()));
        futures_util::future::select_all(waits).await.0
    };
    let failed = tokio::select! {
        () = crate::shutdown::signal() => false,
        status = first_exit => {
            eprintln!("a node stopped ({}); stopping the others", describe(status));
            true
        }
    };
    for child in &children {
        terminate(child);
    }
    let mut failed = failed;
    for child in &mut children {
        if !matches!(child.wait().await, Ok(status) if status.success()) {
            failed = true;
        }
    }
    failed
}

fn describe(status: std::io::Result<std::process::ExitStatus>) -> String {
    match status {
        Ok(status) => status.to_string(),
        Err(error) => error.to_string(),
    }
}

/// Asks a node to stop gracefully (SIGTERM).
fn terminate(child: &Child) {
    if let Some(pid) = child.id() {
        // A node that already exited is gone; nothing else can fail here.
        // SAFETY: kill(2) with a pid we spawned and a valid signal number.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGTERM);
        }
    }
}
