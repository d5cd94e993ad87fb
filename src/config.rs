//! Typed configuration. Every setting has a default, can come from an optional TOML file
//! (`--config` / `PONTE_CONFIG`), from an environment variable, or from a command-line
//! flag, in that order of precedence (file < env < flag). Secrets never appear in `Debug`.

use crate::auth::ConfiguredToken;
use clap::{ArgMatches, Args, parser::ValueSource};
use serde::Deserialize;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Settings shared by every subcommand.
#[derive(Args, Clone)]
pub struct GlobalArgs {
    /// TOML file with settings (flags and environment variables override it).
    #[arg(long, env = "PONTE_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Directory for Ponte's own data: the built index and the SQLite database.
    #[arg(
        long,
        env = "PONTE_DATA_DIR",
        default_value = "ponte-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Directory with the knowledge sources (articles/, activities/).
    #[arg(
        long,
        env = "PONTE_KNOWLEDGE_DIR",
        default_value = "knowledge-index",
        global = true
    )]
    pub knowledge_dir: PathBuf,
    /// Directory with the dialogue-control intents.
    #[arg(
        long,
        env = "PONTE_INTENTS_DIR",
        default_value = "intents",
        global = true
    )]
    pub intents_dir: PathBuf,
    /// Address `serve` listens on.
    #[arg(
        long,
        env = "PONTE_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: SocketAddr,
    /// Database URL (sqlite://path or postgres://...); default: a SQLite file in the data dir.
    #[arg(long, env = "PONTE_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Log filter, in tracing's EnvFilter syntax (e.g. `info,ponte=debug`).
    #[arg(long, env = "PONTE_LOG", default_value = "info", global = true)]
    pub log: String,
    /// TOML file with bearer tokens (`[[tokens]]` with `token` or `sha256`, `role`,
    /// `subject`, `groups`).
    #[arg(long, env = "PONTE_TOKENS_FILE", global = true)]
    pub tokens_file: Option<PathBuf>,
    /// Requests per second one token may make, sustained (bursts up to twice as many);
    /// 0 turns the limit off.
    #[arg(long, env = "PONTE_RATE_LIMIT", default_value_t = 100, global = true)]
    pub rate_limit: u32,
}

/// The same settings as read from a TOML file; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    knowledge_dir: Option<PathBuf>,
    intents_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
    database_url: Option<String>,
    log: Option<String>,
    tokens_file: Option<PathBuf>,
    rate_limit: Option<u32>,
    #[serde(default)]
    tokens: Vec<ConfiguredToken>,
}

/// The resolved configuration.
#[derive(Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub knowledge_dir: PathBuf,
    pub intents_dir: PathBuf,
    pub listen: SocketAddr,
    pub database_url: String,
    pub log: String,
    /// Tokens from the config file's `[[tokens]]` and from the tokens file.
    pub tokens: Vec<ConfiguredToken>,
    /// Sustained requests per second per token; 0 means unlimited.
    pub rate_limit: u32,
}

/// A configuration file that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("config file {path}: {reason}")]
pub struct ConfigError {
    pub path: PathBuf,
    pub reason: String,
}

impl Config {
    /// Resolves `args` (already holding flag and env values) against the config file:
    /// a file value is used only where neither a flag nor an env variable gave one.
    pub fn resolve(args: &GlobalArgs, matches: &ArgMatches) -> Result<Config, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let defaulted = |id: &str| {
            matches!(
                find_source(matches, id),
                None | Some(ValueSource::DefaultValue)
            )
        };
        let pick = |id: &str, given: PathBuf, from_file: Option<PathBuf>| match from_file {
            Some(value) if defaulted(id) => value,
            _ => given,
        };
        let data_dir = pick("data_dir", args.data_dir.clone(), file.data_dir);
        let database_url = match (&args.database_url, file.database_url) {
            (Some(url), _) => url.clone(),
            (None, Some(url)) => url,
            (None, None) => format!("sqlite://{}", data_dir.join("ponte.db").display()),
        };
        let mut tokens = file.tokens;
        let tokens_file = args.tokens_file.clone().or(file.tokens_file);
        if let Some(path) = tokens_file {
            tokens.extend(read_tokens(&path)?);
        }
        Ok(Config {
            tokens,
            rate_limit: match file.rate_limit {
                Some(limit) if defaulted("rate_limit") => limit,
                _ => args.rate_limit,
            },
            knowledge_dir: pick(
                "knowledge_dir",
                args.knowledge_dir.clone(),
                file.knowledge_dir,
            ),
            intents_dir: pick("intents_dir", args.intents_dir.clone(), file.intents_dir),
            listen: match file.listen {
                Some(listen) if defaulted("listen") => listen,
                _ => args.listen,
            },
            log: match file.log {
                Some(log) if defaulted("log") => log,
                _ => args.log.clone(),
            },
            data_dir,
            database_url,
        })
    }

    /// Where the knowledge index generations live.
    pub fn index_dir(&self) -> PathBuf {
        self.data_dir.join("index")
    }
}

/// Finds where a global argument's value came from, looking into the subcommand too
/// (global arguments are propagated to it).
fn find_source(matches: &ArgMatches, id: &str) -> Option<ValueSource> {
    if let Some((_, sub)) = matches.subcommand()
        && let Some(source) = find_source(sub, id)
        && source != ValueSource::DefaultValue
    {
        return Some(source);
    }
    matches.try_get_raw(id).ok().flatten()?;
    matches.value_source(id)
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError {
        path: path.to_path_buf(),
        reason: error.to_string(),
    })?;
    toml::from_str(&text).map_err(|error| ConfigError {
        path: path.to_path_buf(),
        reason: error.message().to_string(),
    })
}

/// The `[[tokens]]` of a tokens file.
fn read_tokens(path: &Path) -> Result<Vec<ConfiguredToken>, ConfigError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct TokensFile {
        #[serde(default)]
        tokens: Vec<ConfiguredToken>,
    }
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError {
        path: path.to_path_buf(),
        reason: error.to_string(),
    })?;
    toml::from_str::<TokensFile>(&text)
        .map(|file| file.tokens)
        .map_err(|error| ConfigError {
            path: path.to_path_buf(),
            reason: error.message().to_string(),
        })
}

/// Hides the password of a URL such as `postgres://user:secret@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("knowledge_dir", &self.knowledge_dir)
            .field("intents_dir", &self.intents_dir)
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("log", &self.log)
            .field(
                "tokens",
                &format_args!("[{} configured]", self.tokens.len()),
            )
            .field("rate_limit", &self.rate_limit)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://ponte:hunter2@db:5432/ponte"),
            "postgres://ponte:***@db:5432/ponte"
        );
        assert_eq!(
            redact_url("sqlite://ponte-data/ponte.db"),
            "sqlite://ponte-data/ponte.db"
        );
    }
}
