//! `TestApp`: the application built through the same composition root as `ponte serve`
//! ([`ponte::app::AppBuilder`]), with test options: a given knowledge base (and the matcher
//! already trained on it), a temporary data directory or a given one, the store opened from
//! the configuration (a SQLite file in the data directory) or handed in, a
//! rate limit, a desk clock, hybrid retrieval, and subsystems left out (a search-only app,
//! conversations without the desk).

use futures_util::FutureExt;
use ponte::app::{App, AppBuilder};
use ponte::assistant::Matcher;
use ponte::attendance::Clock;
use ponte::auth::{Identity, Role};
use ponte::config::Config;
use ponte::http::state::AppState;
use ponte::knowledge::KnowledgeBase;
use ponte::llm::hybrid::Hybrid;
use ponte::store::Store;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tempfile::TempDir;

/// An app as the binary builds it, over test directories.
pub struct TestApp {
    app: App,
    /// The data directory when the test did not give one.
    _dir: Option<TempDir>,
}

/// The options of a [`TestApp`]; every part not given is made from the configuration.
pub struct TestAppBuilder {
    knowledge: Arc<KnowledgeBase>,
    data_dir: Option<PathBuf>,
    store: Option<Arc<dyn Store>>,
    matcher: Option<Arc<Matcher>>,
    hybrid: Option<Option<Arc<Hybrid>>>,
    clock: Option<Clock>,
    conversations: bool,
    desk: bool,
    rate_limit: u32,
    bridge_delivery: Option<ponte::config::BridgeDelivery>,
    nats: Option<(String, String)>,
    node_name: Option<String>,
    lease_ttl_ms: Option<u64>,
}

/// The configuration a test app is built from: everything in `data_dir`, the bundled
/// intents, no rate limit, no guests, no language model, no configured token.
pub fn test_config(data_dir: &Path) -> Config {
    Config {
        data_dir: data_dir.to_path_buf(),
        knowledge_dir: super::repo().join("knowledge-index"),
        intents_dir: super::repo().join("intents"),
        encoder_dir: None,
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: format!("sqlite://{}", data_dir.join("ponte.db").display()),
        public_url: None,
        nats_url: None,
        nats_prefix: ponte::config::DEFAULT_NATS_PREFIX.to_string(),
        database_pool: ponte::config::DEFAULT_DATABASE_POOL,
        lease_ttl_ms: ponte::config::DEFAULT_LEASE_TTL_MS,
        log: "warn".to_string(),
        tokens: Vec::new(),
        rate_limit: 0,
        guest_chat: false,
        gap_examples: true,
        record_reports: true,
        llm: None,
        admin_token: None,
        bridges: Vec::new(),
        bridge_delivery: Default::default(),
    }
}

impl TestApp {
    /// An app over `knowledge` with conversations and the desk, like `ponte serve`.
    pub fn builder(knowledge: Arc<KnowledgeBase>) -> TestAppBuilder {
        TestAppBuilder {
            knowledge,
            data_dir: None,
            store: None,
            matcher: None,
            hybrid: None,
            clock: None,
            conversations: true,
            desk: true,
            rate_limit: 0,
            bridge_delivery: None,
            nats: None,
            node_name: None,
            lease_ttl_ms: None,
        }
    }

    /// A search-only app over `knowledge`: no store, no conversations, no desk.
    pub fn search_only(knowledge: Arc<KnowledgeBase>) -> TestAppBuilder {
        TestApp::builder(knowledge).without_conversations()
    }

    pub fn state(&self) -> &AppState {
        self.app.state()
    }

    /// The HTTP routes, for in-process requests.
    pub fn router(&self) -> axum::Router {
        self.app.router()
    }

    /// Registers a known plaintext token.
    pub fn register(&self, token: &str, role: Role, subject: &str, groups: &[&str]) {
        self.state()
            .auth
            .register(
                token,
                Identity {
                    role,
                    subject: subject.to_string(),
                    groups: groups.iter().map(|group| group.to_string()).collect(),
                },
            )
            .unwrap();
    }

    /// Serves the app on `listener` until `shutdown` resolves, as the binary does.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let TestApp { app, _dir } = self;
        let served = app.run(listener, shutdown).await;
        drop(_dir);
        served
    }
}

impl TestAppBuilder {
    /// Keeps the app's files (database, attachments) in `dir`.
    pub fn data_dir(mut self, dir: &Path) -> Self {
        self.data_dir = Some(dir.to_path_buf());
        self
    }

    /// Uses this store instead of opening the configured one.
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Uses a matcher already trained on the knowledge base.
    pub fn matcher(mut self, matcher: Arc<Matcher>) -> Self {
        self.matcher = Some(matcher);
        self
    }

    /// Searches with this hybrid retrieval (or none).
    pub fn hybrid(mut self, hybrid: Option<Arc<Hybrid>>) -> Self {
        self.hybrid = Some(hybrid);
        self
    }

    /// Drives the desk's timers with this clock.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Requests per second one token may make (0: unlimited).
    pub fn rate_limit(mut self, per_second: u32) -> Self {
        self.rate_limit = per_second;
        self
    }

    /// Delivers bridge events with these settings (short retry delays in tests).
    pub fn bridge_delivery(mut self, delivery: ponte::config::BridgeDelivery) -> Self {
        self.bridge_delivery = Some(delivery);
        self
    }

    /// Carries live events to and from other nodes through the NATS server at `url`, under
    /// the subject `prefix` the nodes of the test share.
    pub fn nats(mut self, url: &str, prefix: &str) -> Self {
        self.nats = Some((url.to_string(), prefix.to_string()));
        self
    }

    /// Names the node in the leases it holds: apps of one process with different names
    /// compete for the work that runs on one node as separate processes would.
    pub fn node_name(mut self, name: &str) -> Self {
        self.node_name = Some(name.to_string());
        self
    }

    /// Holds leases this long between renewals (a short one lets a test see a take-over).
    pub fn lease_ttl_ms(mut self, ttl_ms: u64) -> Self {
        self.lease_ttl_ms = Some(ttl_ms);
        self
    }

    pub fn without_conversations(mut self) -> Self {
        self.conversations = false;
        self.desk = false;
        self
    }

    pub fn without_desk(mut self) -> Self {
        self.desk = false;
        self
    }

    /// Builds the app through the composition root.
    pub async fn build(self) -> TestApp {
        let (dir, data_dir) = match &self.data_dir {
            Some(path) => (None, path.clone()),
            None => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().to_path_buf();
                (Some(dir), path)
            }
        };
        let mut config = test_config(&data_dir);
        config.rate_limit = self.rate_limit;
        if let Some(delivery) = self.bridge_delivery {
            config.bridge_delivery = delivery;
        }
        if let Some((url, prefix)) = self.nats {
            config.nats_url = Some(url);
            config.nats_prefix = prefix;
        }
        if let Some(ttl_ms) = self.lease_ttl_ms {
            config.lease_ttl_ms = ttl_ms;
        }
        let mut builder = AppBuilder::new(config).with_knowledge(self.knowledge);
        if let Some(name) = &self.node_name {
            builder = builder.with_node_name(name);
        }
        if let Some(store) = self.store {
            builder = builder.with_store(store);
        }
        if let Some(matcher) = self.matcher {
            builder = builder.with_matcher(matcher);
        }
        if let Some(hybrid) = self.hybrid {
            builder = builder.with_hybrid(hybrid);
        }
        if let Some(clock) = self.clock {
            builder = builder.with_clock(clock);
        }
        if !self.conversations {
            builder = builder.without_conversations();
        } else if !self.desk {
            builder = builder.without_desk();
        }
        let app = builder.build().await.unwrap();
        TestApp { app, _dir: dir }
    }

    /// Builds a search-only app without an async runtime: with no store and no desk to
    /// open, the composition root completes without waiting.
    pub fn build_now(self) -> TestApp {
        assert!(
            !self.conversations,
            "only a search-only app builds without waiting"
        );
        self.build()
            .now_or_never()
            .expect("a search-only app builds without waiting")
    }
}
