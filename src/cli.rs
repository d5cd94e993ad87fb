//! The command line: `serve`, `reindex`, `ask` and `eval`. Each subcommand resolves the
//! configuration and calls into the library; this module only parses and prints.

use crate::config::{Config, GlobalArgs};
use crate::knowledge::index::Progress;
use crate::knowledge::{DocKind, KnowledgeBase, SearchRequest, Sources};
use crate::lang::Language;
use crate::progress::Reporter;
use crate::state::AppState;
use crate::{eval, server, shutdown, telemetry};
use anyhow::Context;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "ponte",
    version,
    about = "Ponte: a virtual assistant and chat bridge for service desks"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the HTTP API on the configured address.
    Serve,
    /// Rebuild the knowledge index from the sources and swap it in atomically.
    Reindex {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the ranked articles and activities for one text.
    Ask {
        /// The requester's text.
        text: String,
        /// The requester's groups, comma-separated (public documents are always visible).
        #[arg(long, value_delimiter = ',')]
        groups: Vec<String>,
        /// The requester's language (pt-BR, es, en); detected from the text when absent.
        #[arg(long)]
        lang: Option<Language>,
        /// Only articles or only activities.
        #[arg(long)]
        kind: Option<KindArg>,
        /// How many results.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Also compose an answer grounded in the permitted articles with the configured
        /// language model, printed as it streams.
        #[arg(long)]
        llm: bool,
    },
    /// Talk to the assistant in the terminal (options are numbered: type the number).
    Chat {
        /// The conversation's language (pt-BR, es, en); detected from the first message when absent.
        #[arg(long)]
        lang: Option<Language>,
        /// Who the requester is (their open tickets are offered for resuming).
        #[arg(long, default_value = "terminal-user")]
        requester: String,
        /// The requester's groups, comma-separated.
        #[arg(long, value_delimiter = ',')]
        groups: Vec<String>,
    },
    /// Measure retrieval or intent recognition on labelled data.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Benchmark helpers.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Write a synthetic knowledge source directory (for reindex and query benchmarks).
    Corpus {
        /// Where to write articles/ and activities/.
        #[arg(long)]
        out: PathBuf,
        /// How many articles.
        #[arg(long, default_value_t = 50_000)]
        articles: usize,
        /// Seed of the generator.
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Drive a running server over HTTP with concurrent requesters posting messages.
    Load {
        /// The server's address.
        #[arg(long, default_value = "127.0.0.1:8080")]
        address: std::net::SocketAddr,
        /// An admin token of that server (its PONTE_ADMIN_TOKEN), to issue requester tokens.
        #[arg(long, env = "PONTE_ADMIN_TOKEN")]
        admin_token: String,
        /// Concurrent requesters, one conversation and one connection each.
        #[arg(long, default_value_t = 64)]
        requesters: usize,
        /// Seconds of load.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Post to the assistant instead of a conversation handed to a person.
        #[arg(long)]
        assistant: bool,
        /// The server's process id, to report its resident memory.
        #[arg(long)]
        server_pid: Option<u32>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Desk routing speed: automatic decisions, enqueue with assignment, queue position
    /// lookups and capture with its position updates, over generated attendants and chats.
    Routing {
        #[arg(long, default_value_t = 200)]
        attendants: usize,
        #[arg(long, default_value_t = 5_000)]
        queued: usize,
        #[arg(long, default_value_t = 100_000)]
        iterations: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Queue-position updates fanned out over WebSocket to waiting requesters of a running
    /// server: opens N queued chats, each requester listening, then captures them one by
    /// one and measures how long each remaining requester waits for its new position.
    Fanout {
        #[arg(long, default_value = "127.0.0.1:8080")]
        address: std::net::SocketAddr,
        #[arg(long, env = "PONTE_ADMIN_TOKEN")]
        admin_token: String,
        #[arg(long, default_value_t = 1_000)]
        requesters: usize,
        /// How many captures (each fans out to every requester behind it).
        #[arg(long, default_value_t = 20)]
        captures: usize,
        #[arg(long)]
        json: bool,
    },
    /// Server memory added by idle WebSocket conversations: opens N conversations, then one
    /// WebSocket on each, and reads the server's RSS before and with them.
    Sockets {
        /// The server's address.
        #[arg(long, default_value = "127.0.0.1:8080")]
        address: std::net::SocketAddr,
        /// An admin token of that server, to issue requester tokens.
        #[arg(long, env = "PONTE_ADMIN_TOKEN")]
        admin_token: String,
        /// How many idle conversations with an open WebSocket.
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        /// Seconds the sockets stay open before the memory is read.
        #[arg(long, default_value_t = 5)]
        hold: u64,
        /// The server's process id (its memory is what is measured).
        #[arg(long)]
        server_pid: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Latency of one assistant decision (matcher + state machine, no I/O) over the bundled
    /// intents, activities, article titles and out-of-scope texts.
    Decide {
        /// How many times every text is decided.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum KindArg {
    Article,
    Activity,
}

#[derive(Subcommand)]
pub enum EvalCommand {
    /// hit@1, hit@5, MRR@10 and latency of the knowledge search.
    Retrieval {
        /// JSONL articles: {"id","title","body","language",...} per line.
        #[arg(long)]
        articles: PathBuf,
        /// JSONL queries: {"query","expected_id","acceptable_ids"?,"language"?,"kind"?}.
        #[arg(long)]
        queries: PathBuf,
        /// End with one JSON line of the headline figures.
        #[arg(long)]
        json: bool,
        /// Also list up to 20 queries whose article was not ranked first.
        #[arg(long)]
        misses: bool,
        /// Measure with the configured language model (embeddings and re-ranking).
        #[arg(long)]
        llm: bool,
    },
    /// Accuracy, out-of-scope recall and operating curve of the intent matcher.
    Intents {
        /// JSONL training rows: {"text","intent"}; intent "oos" marks out-of-scope text.
        #[arg(long)]
        train: PathBuf,
        /// JSONL rows the fallback threshold is chosen on.
        #[arg(long)]
        val: PathBuf,
        /// JSONL rows the figures are reported on.
        #[arg(long)]
        test: PathBuf,
        /// Train "oos" as a class of its own.
        #[arg(long)]
        oos_train: bool,
        /// End with one JSON line of the headline figures.
        #[arg(long)]
        json: bool,
        /// Measure with the configured language model re-ranking hesitant rows.
        #[arg(long)]
        llm: bool,
    },
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    let config = match Config::resolve(&cli.global, &matches) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config.log);
    match run(cli.command, config) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve => serve(config),
        Command::Reindex { json } => reindex(config, json),
        Command::Ask {
            text,
            groups,
            lang,
            kind,
            limit,
            json,
            llm,
        } => ask(
            config,
            AskOptions {
                text,
                groups,
                lang,
                kind,
                limit,
                json,
                llm,
            },
        ),
        Command::Chat {
            lang,
            requester,
            groups,
        } => chat(config, lang, requester, groups),
        Command::Eval(EvalCommand::Retrieval {
            articles,
            queries,
            json,
            misses,
            llm,
        }) => eval_retrieval(&config, articles, queries, json, misses, llm),
        Command::Eval(EvalCommand::Intents {
            train,
            val,
            test,
            oos_train,
            json,
            llm,
        }) => {
            let llm = if llm {
                Some(required_llm(&config)?)
            } else {
                None
            };
            let train = crate::intent::read_jsonl(&train)?;
            let val = crate::intent::read_jsonl(&val)?;
            let test = crate::intent::read_jsonl(&test)?;
            let mut progress = |message: &str| eprintln!("{message}");
            let report = match llm {
                Some(llm) => {
                    let (report, usage) = eval::llm::evaluate_intents(
                        llm,
                        &train,
                        &val,
                        &test,
                        oos_train,
                        &mut progress,
                    )?;
                    print!("{}", usage.render());
                    report
                }
                None => crate::intent::evaluate(&train, &val, &test, oos_train, &mut progress)?,
            };
            print!("{}", report.render_text());
            if json {
                println!("{}", report.to_json_line());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Load {
            address,
            admin_token,
            requesters,
            seconds,
            assistant,
            server_pid,
            json,
        }) => {
            let runtime = tokio::runtime::Runtime::new()?;
            let report = runtime.block_on(crate::loadgen::run(crate::loadgen::LoadOptions {
                address,
                admin_token,
                requesters: requesters.max(1),
                duration: std::time::Duration::from_secs(seconds.max(1)),
                live_chat: !assistant,
                server_pid,
            }))?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!(
                    "{} requesters, {:.1} s: {} messages acknowledged, {:.0} messages/s, p50 {} us, p99 {} us, p99.9 {} us, {} errors, server RSS {}",
                    report.requesters,
                    report.seconds,
                    report.acknowledged,
                    report.messages_per_second,
                    report.p50_us,
                    report.p99_us,
                    report.p999_us,
                    report.errors,
                    report
                        .server_rss_kib
                        .map(|kib| format!("{:.1} MiB", kib as f64 / 1024.0))
                        .unwrap_or_else(|| "unknown".to_string())
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Decide { rounds, json }) => {
            let knowledge = Arc::new(open_knowledge(&config)?);
            let intents = crate::assistant::load_intents(&config.intents_dir)?;
            let started = Instant::now();
            let matcher =
                crate::assistant::Matcher::build(&intents, knowledge, Default::default())?;
            let training_ms = started.elapsed().as_millis();
            let texts = crate::assistant::bench::sample_texts(&intents, &matcher)?;
            let latency = crate::assistant::bench::run(&matcher, &texts, rounds)?;
            if json {
                println!("{}", serde_json::to_string(&latency)?);
            } else {
                println!(
                    "matcher trained in {training_ms} ms on {} intents and {} activities",
                    intents.len(),
                    matcher.activity_count()
                );
                println!(
                    "{} decisions over {} texts: p50 {} us, p99 {} us, p99.9 {} us, max {} us",
                    latency.decisions,
                    latency.texts,
                    latency.p50_us,
                    latency.p99_us,
                    latency.p999_us,
                    latency.max_us
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Routing {
            attendants,
            queued,
            iterations,
            json,
        }) => {
            use crate::desk::bench::{bench_routing, percentile_us};
            let report = bench_routing(attendants, queued, iterations.max(1));
            let rows = [
                ("automatic_decision", &report.decision),
                ("enqueue_assign", &report.enqueue_assign),
                ("position_lookup", &report.position),
                ("capture_fanout", &report.capture_fanout),
            ];
            if json {
                let mut object = serde_json::Map::new();
                object.insert("queued".into(), report.queue_len.into());
                for (name, samples) in rows {
                    object.insert(
                        name.into(),
                        serde_json::json!({
                            "p50_us": percentile_us(samples, 0.5),
                            "p99_us": percentile_us(samples, 0.99),
                            "p999_us": percentile_us(samples, 0.999),
                            "samples": samples.len(),
                        }),
                    );
                }
                println!("{}", serde_json::Value::Object(object));
            } else {
                println!(
                    "{attendants} attendants, {} queued chats, {iterations} iterations",
                    report.queue_len
                );
                for (name, samples) in rows {
                    println!(
                        "{name:<20} p50 {:>9.2} us  p99 {:>9.2} us  p99.9 {:>9.2} us  ({} samples)",
                        percentile_us(samples, 0.5),
                        percentile_us(samples, 0.99),
                        percentile_us(samples, 0.999),
                        samples.len()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Fanout {
            address,
            admin_token,
            requesters,
            captures,
            json,
        }) => {
            let runtime = tokio::runtime::Runtime::new()?;
            let report =
                runtime.block_on(crate::loadgen::fanout(crate::loadgen::FanoutOptions {
                    address,
                    admin_token,
                    requesters: requesters.max(2),
                    captures: captures.max(1),
                }))?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!(
                    "{} waiting requesters, {} captures: {} position updates received, p50 {} us, p99 {} us, max {} us, {} missing",
                    report.requesters,
                    report.captures,
                    report.updates,
                    report.p50_us,
                    report.p99_us,
                    report.max_us,
                    report.missing
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Sockets {
            address,
            admin_token,
            count,
            hold,
            server_pid,
            json,
        }) => {
            let runtime = tokio::runtime::Runtime::new()?;
            let report = runtime.block_on(crate::loadgen::idle_sockets(
                crate::loadgen::SocketsOptions {
                    address,
                    admin_token,
                    count: count.max(1),
                    hold: std::time::Duration::from_secs(hold),
                    server_pid,
                },
            ))?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!(
                    "{} idle WebSocket conversations ({} failed): server RSS {:.1} MiB before, {:.1} MiB with them, {:.1} MiB added, {:.1} KiB per socket",
                    report.sockets,
                    report.failed,
                    report.rss_before_kib as f64 / 1024.0,
                    report.rss_with_sockets_kib as f64 / 1024.0,
                    report.added_mib,
                    report.per_socket_kib
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Corpus {
            out,
            articles,
            seed,
        }) => {
            let started = Instant::now();
            let written = crate::knowledge::synthetic::write_corpus(&out, articles, seed)
                .with_context(|| format!("writing a synthetic corpus into {}", out.display()))?;
            println!(
                "wrote {written} articles into {} in {} ms",
                out.display(),
                started.elapsed().as_millis()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn progress_callback(reporter: &mut Reporter) -> impl FnMut(Progress) + '_ {
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
        &mut progress_callback(&mut reporter),
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

fn serve(config: Config) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let knowledge = Arc::new(open_knowledge(&config)?);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        // Served conversations get streamed grounded answers when a model is configured.
        let orchestrator = assemble(&config, knowledge.clone(), true).await?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        tracing::info!(
            address = %listener.local_addr()?,
            ready_ms = started.elapsed().as_millis() as u64,
            "ponte is listening"
        );
        let auth = Arc::new(crate::auth::TokenStore::new());
        if let Ok(token) = std::env::var("PONTE_ADMIN_TOKEN")
            && !token.is_empty()
        {
            auth.register(
                &token,
                crate::auth::Identity {
                    role: crate::auth::Role::Admin,
                    subject: "admin".to_string(),
                    groups: Vec::new(),
                },
            )?;
            tracing::info!("registered the admin token from PONTE_ADMIN_TOKEN");
        }
        if config.guest_chat {
            let path = config.data_dir.join("guest.key");
            let key = crate::guest::GuestKey::load_or_create(&path)
                .with_context(|| format!("reading the guest key {}", path.display()))?;
            auth.allow_guests(key);
        }
        let loaded = auth.load(&config.tokens)?;
        if loaded > 0 {
            tracing::info!(tokens = loaded, "registered the configured tokens");
        }
        // Tokens issued through the API live in the store: their holders survive a restart.
        let restored = auth.restore(orchestrator.store().as_ref()).await?;
        if restored > 0 {
            tracing::info!(tokens = restored, "restored the issued tokens");
        }
        let desk = crate::attendance::Attendance::open(
            orchestrator.clone(),
            config.data_dir.join("attachments"),
            crate::attendance::Clock::new(),
        )
        .await?;
        let state = AppState::new(knowledge, Some(orchestrator.clone()), auth)
            .with_rate_limit(crate::ratelimit::RateLimit::per_second(config.rate_limit))
            .with_attendance(desk)
            .with_hybrid(orchestrator.hybrid().cloned());
        server::run(listener, state, shutdown::signal()).await?;
        orchestrator.store().close().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Everything a conversation needs: the store, the knowledge base, the trained matcher.
pub async fn assemble(
    config: &Config,
    knowledge: Arc<KnowledgeBase>,
    grounded_answers: bool,
) -> anyhow::Result<Arc<crate::orchestrator::Orchestrator>> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    let store = crate::store::open(&config.database_url, crate::store::StoreOptions::default())
        .await
        .with_context(|| {
            format!(
                "opening the store {}",
                crate::config::redact_url(&config.database_url)
            )
        })?;
    let intents = crate::assistant::load_intents(&config.intents_dir)?;
    let matcher_knowledge = knowledge.clone();
    let matcher = tokio::task::spawn_blocking(move || {
        crate::assistant::Matcher::build(&intents, matcher_knowledge, Default::default())
    })
    .await??;
    let llm = config
        .llm
        .clone()
        .map(|llm| Arc::new(crate::llm::Llm::new(llm)));
    let hybrid = llm
        .clone()
        .and_then(|llm| crate::llm::hybrid::Hybrid::new(llm, knowledge.clone()).map(Arc::new));
    let orchestrator = Arc::new(
        crate::orchestrator::Orchestrator::new(store, knowledge, Arc::new(matcher))
            .with_llm(llm)
            .with_grounded_answers(grounded_answers)
            .with_hybrid(hybrid),
    );
    let resumed = orchestrator.resume_pending().await?;
    if resumed > 0 {
        tracing::info!(resumed, "conversations resumed after restart");
    }
    Ok(orchestrator)
}

fn chat(
    config: Config,
    lang: Option<Language>,
    requester: String,
    groups: Vec<String>,
) -> anyhow::Result<ExitCode> {
    let knowledge = Arc::new(open_knowledge(&config)?);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        // The terminal chat prints each input's replies; it does not follow a live feed.
        let orchestrator = assemble(&config, knowledge, false).await?;
        let requester = crate::orchestrator::Requester {
            id: requester,
            groups: groups.into_iter().filter(|g| !g.is_empty()).collect(),
        };
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        let mut output = std::io::stdout();
        let result =
            crate::chat::run(&orchestrator, requester, lang, &mut input, &mut output).await;
        orchestrator.store().close().await;
        result
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Embeds what a reindex added or changed; a failure leaves the lexical index serving.
fn refresh_embeddings(config: &Config, llm: crate::llm::Llm) {
    let documents = KnowledgeBase::open(&config.index_dir(), None).and_then(|knowledge| {
        let generation = knowledge.generation();
        let mut documents = generation.all(DocKind::Article)?;
        documents.extend(generation.all(DocKind::Activity)?);
        Ok(documents)
    });
    let outcome = match documents {
        Ok(documents) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| error.to_string())
            .and_then(|runtime| {
                runtime
                    .block_on(crate::llm::embed::refresh(
                        &llm,
                        &config.index_dir(),
                        &documents,
                    ))
                    .map_err(|error| error.to_string())
            }),
        Err(error) => Err(error.to_string()),
    };
    match outcome {
        Ok(sync) => eprintln!(
            "embeddings: {} computed, {} unchanged, {} removed",
            sync.computed, sync.reused, sync.removed
        ),
        Err(error) => eprintln!("embeddings not updated (lexical search is unaffected): {error}"),
    }
}

fn reindex(config: Config, json: bool) -> anyhow::Result<ExitCode> {
    let mut reporter = Reporter::new();
    let report = crate::knowledge::index::rebuild(
        &config.index_dir(),
        &Sources::new(&config.knowledge_dir),
        &mut progress_callback(&mut reporter),
    )
    .context("reindex failed; the previous index (if any) keeps serving")?;
    drop(reporter);
    if let Some(llm) = config.llm.clone().filter(|llm| llm.embed_model.is_some()) {
        refresh_embeddings(&config, crate::llm::Llm::new(llm));
    }
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "indexed {} articles and {} activities from {} files in {} ms (generation {})",
            report.articles, report.activities, report.files, report.elapsed_ms, report.generation
        );
        for skipped in &report.skipped {
            println!("skipped {skipped}");
        }
        if !report.skipped.is_empty() {
            println!("{} file(s) skipped", report.skipped.len());
        }
    }
    Ok(if report.skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

/// The arguments of `ponte ask`.
struct AskOptions {
    text: String,
    groups: Vec<String>,
    lang: Option<Language>,
    kind: Option<KindArg>,
    limit: usize,
    json: bool,
    llm: bool,
}

fn ask(config: Config, options: AskOptions) -> anyhow::Result<ExitCode> {
    let AskOptions {
        text,
        groups,
        lang,
        kind,
        limit,
        json,
        llm,
    } = options;
    if text.trim().is_empty() {
        anyhow::bail!("the text to ask about is empty");
    }
    let llm = if llm {
        Some(required_llm(&config)?)
    } else {
        None
    };
    let knowledge = open_knowledge(&config)?;
    let mut request = SearchRequest::new(text.clone());
    request.groups = groups
        .into_iter()
        .filter(|group| !group.is_empty())
        .collect();
    request.language = lang.or_else(|| Language::detect(&text));
    request.kind = kind.map(|kind| match kind {
        KindArg::Article => DocKind::Article,
        KindArg::Activity => DocKind::Activity,
    });
    request.limit = limit.clamp(1, 100);
    let hits = knowledge.search(&request)?;
    let knowledge = Arc::new(knowledge);
    let intents = crate::assistant::load_intents(&config.intents_dir)?;
    let matcher =
        crate::assistant::Matcher::build(&intents, knowledge.clone(), Default::default())?;
    let started = Instant::now();
    let language = request.language.unwrap_or(Language::PtBr);
    let decision = matcher.decide(&crate::assistant::MatchInput {
        text: &text,
        language,
        groups: &request.groups,
        expecting: crate::conversation::Expecting::FreeText,
    })?;
    let decision_us = started.elapsed().as_micros();
    if let Some(llm) = llm {
        ask_llm(&llm, &knowledge, &text, language, &request.groups, json)?;
    }
    if json {
        println!(
            "{}",
            serde_json::to_string(&serde_json::json!({
                "text": text,
                "language": request.language,
                "hits": hits,
                "decision": decision,
                "decision_us": decision_us,
            }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "decision ({decision_us} us): {}",
        serde_json::to_string(&decision.understanding)?
    );
    for signal in decision.signals.iter().take(6) {
        println!(
            "  signal {:<10} {:>5.3} {}",
            signal.source, signal.confidence, signal.candidate
        );
    }
    if hits.is_empty() {
        println!("nothing found");
    }
    for (rank, hit) in hits.iter().enumerate() {
        println!(
            "{:>2}. {:<8} {:>6.3}  {:<32} {}",
            rank + 1,
            hit.kind.tag(),
            hit.score,
            hit.id,
            hit.title
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The configured language model, or a clear error for a `--llm` without one.
fn required_llm(config: &Config) -> anyhow::Result<Arc<crate::llm::Llm>> {
    let Some(llm) = &config.llm else {
        anyhow::bail!(
            "--llm needs a language-model endpoint: set PONTE_LLM_BASE_URL (or --llm-base-url, \
             or base_url in the [llm] section of the config file)"
        );
    };
    Ok(Arc::new(crate::llm::Llm::new(llm.clone())))
}

/// `ponte ask --llm`: a grounded answer, streamed to stdout, then its sources.
fn ask_llm(
    llm: &crate::llm::Llm,
    knowledge: &KnowledgeBase,
    text: &str,
    language: Language,
    groups: &[String],
    json: bool,
) -> anyhow::Result<()> {
    use std::io::Write;
    let articles = crate::llm::answer::permitted_articles(knowledge, text, language, groups)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let started = Instant::now();
    let mut first_token_ms = None;
    let mut print = |piece: &str| {
        first_token_ms.get_or_insert_with(|| started.elapsed().as_millis());
        if !json {
            let mut stdout = std::io::stdout();
            let _ = stdout.write_all(piece.as_bytes());
            let _ = stdout.flush();
        }
    };
    let answer = runtime.block_on(crate::llm::answer::compose(
        llm, text, language, &articles, &mut print,
    ));
    let total_ms = started.elapsed().as_millis();
    match answer {
        Ok(answer) if json => println!(
            "{}",
            serde_json::json!({
                "answer": answer,
                "first_token_ms": first_token_ms,
                "total_ms": total_ms,
            })
        ),
        Ok(answer) => {
            println!("\n{}:", crate::llm::answer::sources_heading(language));
            for citation in &answer.citations {
                println!(
                    "  [{}] {} {}",
                    citation.id,
                    citation.title,
                    citation.url.as_deref().unwrap_or_default()
                );
            }
            println!(
                "(first token {} ms, answer {total_ms} ms)",
                first_token_ms.unwrap_or_default()
            );
        }
        Err(error) => {
            tracing::warn!(code = error.code(), %error, "no grounded answer");
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "answer": null, "error": error.code() })
                );
            } else {
                println!("{}", crate::llm::answer::unavailable_notice(language));
            }
        }
    }
    Ok(())
}

fn eval_retrieval(
    config: &Config,
    articles: PathBuf,
    queries: PathBuf,
    json: bool,
    misses: bool,
    llm: bool,
) -> anyhow::Result<ExitCode> {
    let llm = if llm {
        Some(required_llm(config)?)
    } else {
        None
    };
    let mut reporter = Reporter::new();
    let mut started = false;
    let mut progress = |_done: usize, total: usize| {
        if !started {
            reporter.phase("queries", total as u64);
            started = true;
        }
        reporter.inc();
    };
    let (report, usage) = match llm {
        Some(llm) => {
            let (report, usage) =
                eval::llm::evaluate_retrieval_files(llm, &articles, &queries, &mut progress)?;
            (report, Some(usage))
        }
        None => (
            eval::retrieval::evaluate_files(&articles, &queries, &mut progress)?,
            None,
        ),
    };
    drop(reporter);
    print!("{}", report.render());
    if let Some(usage) = usage {
        print!("{}", usage.render());
    }
    if misses {
        for miss in &report.misses {
            println!(
                "miss [{}] {:?}: expected {}, got {:?} (rank {:?})",
                miss.kind, miss.query, miss.expected_id, miss.got_id, miss.rank
            );
        }
    }
    if json {
        println!("{}", report.json_line());
    }
    Ok(ExitCode::SUCCESS)
}
