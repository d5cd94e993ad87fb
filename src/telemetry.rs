//! Logging: structured `tracing` output to stderr filtered by an `EnvFilter`
//! (`PONTE_LOG` / `--log`, with `RUST_LOG` taking over when set).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; a second call is a no-op (tests start many servers).
pub fn init(filter: &str) {
    let filter = EnvFilter::try_from_env("RUST_LOG")
        .or_else(|_| EnvFilter::try_new(filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}
