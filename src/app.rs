//! The composition root: the one place that builds the whole application from a [`Config`]
//! (knowledge base, store, intents and matcher, language model and hybrid retrieval,
//! orchestrator with its start-up resume and the store-backed leases of the work that runs
//! on one node, token registry, the attendance desk, the rate limit) and runs it on a bound
//! listener until a shutdown future resolves. The binary and the integration tests both get
//! their app through [`AppBuilder`]; a test only hands in ready-made parts (a knowledge
//! base, a store, a trained matcher, a clock) or leaves a subsystem out.

use crate::assistant::Matcher;
use crate::attendance::{Attendance, Clock};
use crate::auth::{Identity, Role, TokenStore};
use crate::config::Config;
use crate::http::state::AppState;
use crate::knowledge::index::{Progress, ReindexReport};
use crate::knowledge::{DocKind, KnowledgeBase, Sources};
use crate::lease::StoreLease;
use crate::llm::Llm;
use crate::llm::hybrid::Hybrid;
use crate::orchestrator::Orchestrator;
use crate::progress::Reporter;
use crate::ratelimit::RateLimit;
use crate::store::{Store, StoreOptions};
use crate::telemetry::redact_url;
use anyhow::Context;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;

/// Builds the app from a [`Config`]. Every part not handed in is made from the config,
/// exactly as `ponte serve` makes it.
pub struct AppBuilder {
    config: Config,
    knowledge: Option<Arc<KnowledgeBase>>,
    store: Option<Arc<dyn Store>>,
    /// The bus between nodes, once reached (`--nats-url`).
    bus: Option<Arc<dyn crate::live::EventBus>>,
    matcher: Option<Arc<Matcher>>,
    /// `None`: made from the config's language model; `Some(..)`: given.
    hybrid: Option<Option<Arc<Hybrid>>>,
    clock: Clock,
    conversations: bool,
    desk: bool,
    grounded_answers: bool,
    /// This node's name in the leases it holds; `None`: the host name.
    node_name: Option<String>,
    /// The leases of the work that runs on one node, once the store is open.
    lease: Option<StoreLease>,
}

/// The assembled application: the handles every request gets, ready to serve.
pub struct App {
    state: AppState,
    /// Released when the app stops, so another node takes the work over at once.
    lease: Option<StoreLease>,
}

impl AppBuilder {
    /// A builder making every part from `config`.
    pub fn new(config: Config) -> Self {
        AppBuilder {
            config,
            knowledge: None,
            store: None,
            bus: None,
            matcher: None,
            hybrid: None,
            clock: Clock::new(),
            conversations: true,
            desk: true,
            grounded_answers: true,
            node_name: None,
            lease: None,
        }
    }

    /// Names this node in the leases it holds (default: the host name). Two apps in one
    /// process must have different names to compete for leases as two nodes would.
    pub fn with_node_name(mut self, name: &str) -> Self {
        self.node_name = Some(name.to_string());
        self
    }

    /// The configuration the app is built from.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Serves this knowledge base instead of opening (or building) the configured index.
    pub fn with_knowledge(mut self, knowledge: Arc<KnowledgeBase>) -> Self {
        self.knowledge = Some(knowledge);
        self
    }

    /// Keeps conversations in this store instead of opening the configured database.
    pub fn with_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Uses this matcher (trained on the same knowledge base) instead of training one.
    pub fn with_matcher(mut self, matcher: Arc<Matcher>) -> Self {
        self.matcher = Some(matcher);
        self
    }

    /// Searches with this hybrid retrieval (or none) instead of the configured model's.
    pub fn with_hybrid(mut self, hybrid: Option<Arc<Hybrid>>) -> Self {
        self.hybrid = Some(hybrid);
        self
    }

    /// Drives the desk's timers with this clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// A search-only app: no store, no conversation engine, no desk.
    pub fn without_conversations(mut self) -> Self {
        self.conversations = false;
        self.desk = false;
        self
    }

    /// Conversations without the human desk.
    pub fn without_desk(mut self) -> Self {
        self.desk = false;
        self
    }

    /// Whether conversations get streamed grounded answers when a model is configured
    /// (on for a server; the terminal chat prints each input's replies and turns it off).
    pub fn grounded_answers(mut self, on: bool) -> Self {
        self.grounded_answers = on;
        self
    }

    /// The knowledge base: the given one, or the configured index opened (built first when
    /// missing or stale) off the async threads.
    async fn knowledge(&mut self) -> anyhow::Result<Arc<KnowledgeBase>> {
        if let Some(knowledge) = &self.knowledge {
            return Ok(knowledge.clone());
        }
        let config = self.config.clone();
        let knowledge =
            Arc::new(tokio::task::spawn_blocking(move || open_knowledge(&config)).await??);
        self.knowledge = Some(knowledge.clone());
        Ok(knowledge)
    }

    /// The conversation engine: store, matcher, language model and hybrid retrieval, with
    /// the conversations that were waiting on an effect resumed.
    pub async fn orchestrator(&mut self) -> anyhow::Result<Arc<Orchestrator>> {
        let (store, bus) = self.dependencies().await?;
        let knowledge = self.knowledge().await?;
        let matcher = match &self.matcher {
            Some(matcher) => matcher.clone(),
            None => {
                let config = self.config.clone();
                let matcher_knowledge = knowledge.clone();
                Arc::new(
                    tokio::task::spawn_blocking(move || train_matcher(&config, matcher_knowledge))
                        .await??,
                )
            }
        };
        let llm = language_model(&self.config);
        let hybrid = self.hybrid(&knowledge, llm.clone());
        // Every store gets its leases there: a single node just always wins them.
        let lease = StoreLease::new(
            store.clone(),
            &self
                .node_name
                .clone()
                .unwrap_or_else(crate::lease::store::host_name),
            std::time::Duration::from_millis(self.config.lease_ttl_ms),
        );
        self.lease = Some(lease.clone());
        let mut orchestrator = Orchestrator::new(store, knowledge, matcher)
            .with_lease(Arc::new(lease))
            .with_llm(llm)
            .with_grounded_answers(self.grounded_answers)
            .with_hybrid(hybrid)
            .with_reports(self.config.record_reports);
        if let Some(bus) = bus {
            orchestrator = orchestrator.with_bus(bus);
        }
        let orchestrator = Arc::new(orchestrator);
        let resumed = orchestrator.resume_pending().await?;
        if resumed > 0 {
            tracing::info!(resumed, "conversations resumed after restart");
        }
        Ok(orchestrator)
    }

    /// The store and, when configured, NATS: reached before anything slower is built, so a
    /// configured one that does not answer stops the start within seconds, naming which.
    /// Never an in-memory stand-in.
    async fn dependencies(
        &mut self,
    ) -> anyhow::Result<(Arc<dyn Store>, Option<Arc<dyn crate::live::EventBus>>)> {
        let store = match &self.store {
            Some(store) => store.clone(),
            None => open_store(&self.config).await?,
        };
        self.store = Some(store.clone());
        if self.bus.is_none()
            && let Some(url) = &self.config.nats_url
        {
            let bus = crate::live::nats::NatsBus::connect(url, &self.config.nats_prefix).await?;
            tracing::info!("live events cross nodes over NATS JetStream");
            self.bus = Some(bus);
        }
        Ok((store, self.bus.clone()))
    }

    /// The hybrid retrieval: the given one, or one over the configured model's embeddings.
    fn hybrid(&self, knowledge: &Arc<KnowledgeBase>, llm: Option<Arc<Llm>>) -> Option<Arc<Hybrid>> {
        match &self.hybrid {
            Some(given) => given.clone(),
            None => llm.and_then(|llm| Hybrid::new(llm, knowledge.clone()).map(Arc::new)),
        }
    }

    /// Builds everything a server needs.
    pub async fn build(mut self) -> anyhow::Result<App> {
        if self.conversations {
            self.dependencies().await?;
        }
        let knowledge = self.knowledge().await?;
        let orchestrator = if self.conversations {
            Some(self.orchestrator().await?)
        } else {
            None
        };
        let store = orchestrator.as_ref().map(|chat| chat.store().clone());
        let auth = token_registry(&self.config, store.as_ref()).await?;
        let attendance = match &orchestrator {
            Some(chat) if self.desk => Some(
                Attendance::open(
                    chat.clone(),
                    self.config.data_dir.join("attachments"),
                    self.clock.clone(),
                )
                .await?,
            ),
            _ => None,
        };
        let hybrid = match &orchestrator {
            Some(chat) => chat.hybrid().cloned(),
            None => self.hybrid(&knowledge, language_model(&self.config)),
        };
        let bridges = match &orchestrator {
            Some(chat) => Some(bridges(&self.config, chat.clone(), attendance.as_ref()).await?),
            None => None,
        };
        let mut state = AppState::new(knowledge, orchestrator, auth)
            .with_rate_limit(RateLimit::per_second(self.config.rate_limit))
            .with_gap_examples(self.config.gap_examples)
            .with_hybrid(hybrid);
        if let Some(desk) = attendance {
            state = state.with_attendance(desk);
        }
        if let Some(bridges) = bridges {
            state = state.with_bridges(bridges);
        }
        // With a store, knowledge written here reaches the nodes sharing it (and theirs here).
        if let Some(store) = store {
            state = state.with_sessions(Arc::new(crate::auth::sessions::Sessions::new(
                store.clone(),
            )));
            let sync = crate::knowledge_sync::KnowledgeSync::new(store, state.knowledge.clone())
                .context("reading the knowledge log position")?;
            state = state.with_knowledge_sync(Arc::new(sync));
        }
        Ok(App {
            state,
            lease: self.lease,
        })
    }
}

impl App {
    /// The handles every request handler gets.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The HTTP routes over this app, for in-process requests.
    pub fn router(&self) -> axum::Router {
        crate::http::router_with(self.state.clone(), crate::pages::router())
    }

    /// Serves the app on `listener` until `shutdown` resolves, then closes the store.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let store = self
            .state
            .orchestrator
            .as_ref()
            .map(|chat| chat.store().clone());
        if let Some(bridges) = &self.state.bridges {
            bridges.set_bound_address(listener.local_addr()?);
        }
        let served = crate::server::run(listener, self.state, shutdown).await;
        // The work under leases has stopped: hand it over now rather than after a TTL.
        if let Some(lease) = self.lease {
            lease.close().await;
        }
        if let Some(store) = store {
            store.close().await;
        }
        served
    }
}

/// The bridges to external chat services: those stored, then the config file's applied
/// over them; each kind with its transport.
pub async fn bridges(
    config: &Config,
    chat: Arc<Orchestrator>,
    desk: Option<&Arc<Attendance>>,
) -> anyhow::Result<Arc<crate::bridge::service::Bridges>> {
    use crate::bridge::BridgeKind;
    use crate::bridge::transport::{DEFAULT_TIMEOUT, WebhookTransport};
    let timeout = config
        .bridge_delivery
        .timeout_ms
        .map(std::time::Duration::from_millis)
        .unwrap_or(DEFAULT_TIMEOUT);
    let mut transports: std::collections::HashMap<BridgeKind, Arc<dyn crate::bridge::Transport>> =
        std::collections::HashMap::new();
    transports.insert(
        BridgeKind::Webhook,
        Arc::new(WebhookTransport::with_timeout(timeout).context("the webhook client")?),
    );
    let matrix = Arc::new(crate::bridge::matrix::MatrixTransport::new(
        reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("the matrix client")?,
    ));
    transports.insert(BridgeKind::Matrix, matrix.clone());
    let bridges = crate::bridge::service::Bridges::load(
        chat.store().clone(),
        chat,
        transports,
        dispatch_settings(config),
    )
    .await
    .context("loading the bridges")?;
    bridges.set_matrix(matrix);
    bridges
        .set_files(crate::bridge::files::FileSettings {
            dir: config.data_dir.join("attachments"),
            public_url: config.public_url.clone(),
            timeout,
        })
        .context("the attachment fetcher")?;
    if let Some(desk) = desk {
        bridges.set_desk(Arc::downgrade(desk));
    }
    for bridge in &config.bridges {
        bridges
            .put(bridge.clone(), &bridge.id)
            .await
            .with_context(|| format!("bridge {:?} of the config file", bridge.id))?;
    }
    Ok(bridges)
}

/// The dispatcher's settings from the config.
pub fn dispatch_settings(config: &Config) -> crate::bridge::schedule::DispatchSettings {
    let mut settings = crate::bridge::schedule::DispatchSettings::default();
    if let Some(delays) = &config.bridge_delivery.retry_delays_ms {
        settings.schedule = crate::bridge::schedule::Schedule::from_delays(
            delays
                .iter()
                .map(|ms| std::time::Duration::from_millis(*ms))
                .collect(),
        );
    }
    settings
}

/// `ponte serve`: builds the app from `config`, binds the configured address and serves
/// until `shutdown` resolves.
pub async fn launch(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let listen = config.listen;
    let app = AppBuilder::new(config).build().await?;
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    tracing::info!(
        address = %listener.local_addr()?,
        ready_ms = started.elapsed().as_millis() as u64,
        "ponte is listening"
    );
    app.run(listener, shutdown).await?;
    Ok(())
}

/// The bearer tokens: the admin token of the config, the guest key (when guests may chat),
/// the configured tokens and, given a store, the tokens issued through the API before (and
/// those other nodes issue, looked up there).
pub async fn token_registry(
    config: &Config,
    store: Option<&Arc<dyn Store>>,
) -> anyhow::Result<Arc<TokenStore>> {
    let auth = Arc::new(TokenStore::new());
    if let Some(token) = &config.admin_token {
        auth.register(
            token,
            Identity {
                role: Role::Admin,
                subject: "admin".to_string(),
                groups: Vec::new(),
            },
        )?;
        tracing::info!("registered the admin token from PONTE_ADMIN_TOKEN");
    }
    if config.guest_chat {
        let path = config.data_dir.join("guest.key");
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("creating the data directory {}", config.data_dir.display())
        })?;
        let key = crate::guest::GuestKey::load_or_create(&path)
            .with_context(|| format!("reading the guest key {}", path.display()))?;
        auth.allow_guests(key);
    }
    let loaded = auth.load(&config.tokens)?;
    if loaded > 0 {
        tracing::info!(tokens = loaded, "registered the configured tokens");
    }
    // Tokens issued through the API live in the store: their holders survive a restart.
    if let Some(store) = store {
        auth.read_through(store.clone());
        let restored = auth.restore(store.as_ref()).await?;
        if restored > 0 {
            tracing::info!(tokens = restored, "restored the issued tokens");
        }
    }
    Ok(auth)
}

/// Opens the configured store, creating the data directory first.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    let shown = redact_url(&config.database_url);
    let options = StoreOptions {
        pool_connections: config.database_pool,
        ..StoreOptions::default()
    };
    crate::store::open(&config.database_url, options)
        .await
        .map_err(|error| match error {
            crate::store::StoreError::Unavailable(reason) => {
                anyhow::anyhow!("the database at {shown} is unreachable: {reason}")
            }
            other => anyhow::Error::new(other).context(format!("opening the store {shown}")),
        })
}

/// The configured intents' matcher over `knowledge` (seconds on the full set: blocking).
pub fn train_matcher(config: &Config, knowledge: Arc<KnowledgeBase>) -> anyhow::Result<Matcher> {
    let intents = crate::assistant::load_intents(&config.intents_dir)?;
    let encoder = load_encoder(config)?;
    Ok(Matcher::build_with_encoder(
        &intents,
        knowledge,
        Default::default(),
        encoder,
    )?)
}

/// The configured sentence encoder, if any; a configured one that cannot be loaded is an
/// error (never a silent fallback to words alone).
pub fn load_encoder(config: &Config) -> anyhow::Result<Option<Arc<crate::encoder::Encoder>>> {
    let Some(dir) = &config.encoder_dir else {
        return Ok(None);
    };
    let started = std::time::Instant::now();
    let encoder = crate::encoder::Encoder::load(dir)
        .with_context(|| format!("the sentence encoder in {} (--encoder-dir)", dir.display()))?;
    tracing::info!(
        dir = %dir.display(),
        weights_mib = encoder.weights_memory() / (1 << 20),
        load_ms = started.elapsed().as_millis() as u64,
        "sentence encoder loaded"
    );
    Ok(Some(Arc::new(encoder)))
}

/// The configured language model, if any.
pub fn language_model(config: &Config) -> Option<Arc<Llm>> {
    config.llm.clone().map(|llm| Arc::new(Llm::new(llm)))
}

/// The configured language model, or a clear error for a `--llm` without one.
pub fn required_llm(config: &Config) -> anyhow::Result<Arc<Llm>> {
    language_model(config).ok_or_else(|| {
        anyhow::anyhow!(
            "--llm needs a language-model endpoint: set PONTE_LLM_BASE_URL (or --llm-base-url, \
             or base_url in the [llm] section of the config file)"
        )
    })
}

/// Turns index build progress into the terminal's progress bars.
pub fn index_progress(reporter: &mut Reporter) -> impl FnMut(Progress) + '_ {
    move |event| match event {
        Progress::Scanning { total } => reporter.phase("reading", total as u64),
        Progress::Scanned { .. } | Progress::Indexed => reporter.inc(),
        Progress::Indexing { total } => reporter.phase("indexing", total as u64),
        Progress::Committing => reporter.finish(),
    }
}

/// Opens the knowledge base, building the index first when it is missing or stale.
pub fn open_knowledge(config: &Config) -> anyhow::Result<KnowledgeBase> {
    let mut reporter = Reporter::new();
    let (knowledge, report) = KnowledgeBase::open_or_build(
        &config.index_dir(),
        Sources::new(&config.knowledge_dir),
        &mut index_progress(&mut reporter),
    )
    .with_context(|| {
        format!(
            "opening the knowledge index in {}",
            config.index_dir().display()
        )
    })?;
    if let Some(report) = report {
        tracing::info!(
            articles = report.articles,
            activities = report.activities,
            skipped = report.skipped.len(),
            elapsed_ms = report.elapsed_ms,
            "knowledge index built"
        );
        for skipped in &report.skipped {
            tracing::warn!(file = %skipped.file.display(), line = ?skipped.line, reason = %skipped.reason, "knowledge source skipped");
        }
    }
    Ok(knowledge)
}

/// What `ponte reindex` did: the index report and, with an embedding model, the outcome
/// of bringing the embeddings in step (a failure leaves lexical search serving).
pub struct Reindexed {
    pub report: ReindexReport,
    pub embeddings: Option<Result<crate::llm::embed::SyncReport, String>>,
}

/// Rebuilds the knowledge index from the sources and swaps it in; then embeds what was
/// added or changed when an embedding model is configured.
pub fn reindex(config: &Config) -> anyhow::Result<Reindexed> {
    let mut reporter = Reporter::new();
    let report = crate::knowledge::index::rebuild(
        &config.index_dir(),
        &Sources::new(&config.knowledge_dir),
        &mut index_progress(&mut reporter),
    )
    .context("reindex failed; the previous index (if any) keeps serving")?;
    drop(reporter);
    let embeddings = config
        .llm
        .clone()
        .filter(|llm| llm.embed_model.is_some())
        .map(|llm| refresh_embeddings(config, Llm::new(llm)));
    Ok(Reindexed { report, embeddings })
}

/// Embeds what a reindex added or changed.
fn refresh_embeddings(config: &Config, llm: Llm) -> Result<crate::llm::embed::SyncReport, String> {
    let knowledge =
        KnowledgeBase::open(&config.index_dir(), None).map_err(|error| error.to_string())?;
    let generation = knowledge.generation();
    let mut documents = generation
        .all(DocKind::Article)
        .map_err(|error| error.to_string())?;
    documents.extend(
        generation
            .all(DocKind::Activity)
            .map_err(|error| error.to_string())?,
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    runtime
        .block_on(crate::llm::embed::refresh(
            &llm,
            &config.index_dir(),
            &documents,
        ))
        .map_err(|error| error.to_string())
}
