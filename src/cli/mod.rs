//! The command line: `serve`, `nodes`, `reindex`, `ask`, `chat`, `eval`, `report`, `account`,
//! `encoder` and, in a build with the
//! `devtools` feature, `bench`. This module holds the clap types and a dispatch calling one
//! function per subcommand; each resolves the configuration, calls into the library (the
//! app is composed in [`crate::app`]) and prints. The printing of the larger reports lives
//! beside it: [`ask`], [`eval`], [`reindex`] and [`bench`].

mod account;
mod ask;
#[cfg(feature = "devtools")]
pub mod bench;
#[cfg(feature = "devtools")]
mod bench_bridge;
#[cfg(feature = "devtools")]
mod bench_reports;
mod encoder;
mod eval;
mod nodes;
mod reindex;
mod report;

use crate::app::{self, AppBuilder};
use crate::config::{Config, GlobalArgs};
use crate::lang::Language;
use crate::{shutdown, telemetry};
use anyhow::Context;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Serve several local nodes (one `serve` process each) against one PostgreSQL database
    /// (--database-url postgres://...) and one NATS server (--nats-url): node i listens on the
    /// configured port + i and keeps its files in <data dir>/node-i.
    Nodes {
        /// How many nodes.
        #[arg(long, default_value_t = 2)]
        count: u16,
    },
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
    /// The desk report, the knowledge gaps or the articles' effectiveness, from the store.
    Report(report::ReportArgs),
    /// Staff accounts that sign in to the pages with a user name and password.
    #[command(subcommand)]
    Account(account::AccountCommand),
    /// Load the sentence encoder of --encoder-dir and show the texts' pieces, time and
    /// similarities (a check of the files before serving with them).
    Encoder {
        /// Texts to embed.
        texts: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Benchmark helpers.
    #[cfg(feature = "devtools")]
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Benchmark helpers (only in a build with the `devtools` feature:
    /// `cargo run --features devtools -- bench ...`).
    #[cfg(not(feature = "devtools"))]
    Bench {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        args: Vec<String>,
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
        /// Scale of the sentence encoder's vector beside the word and character features
        /// (with `--encoder-dir`).
        #[arg(long, default_value_t = crate::intent::EncoderOptions::default().weight)]
        encoder_weight: f32,
        /// The cascade: rows whose lexical confidence reaches this skip the encoder (1 runs
        /// it on every row; with `--encoder-dir`).
        #[arg(long, default_value_t = crate::intent::EncoderOptions::default().confident)]
        cascade: f32,
    },
    /// First-answer accuracy of the assistant on labelled requester texts, per language.
    Understanding {
        /// JSONL cases: {"text","language","accept":[...],"kind"?,"groups"?}.
        #[arg(long, default_value = "fixtures/understanding/requests.jsonl")]
        cases: PathBuf,
        /// End with one JSON line of the headline figures.
        #[arg(long)]
        json: bool,
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

/// One function per subcommand.
fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve => serve(config),
        Command::Nodes { count } => nodes::run(&config, count),
        Command::Reindex { json } => reindex::run(&config, json),
        Command::Ask {
            text,
            groups,
            lang,
            kind,
            limit,
            json,
            llm,
        } => ask::run(
            &config,
            ask::AskOptions {
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
        Command::Eval(command) => eval::run(&config, command),
        Command::Report(args) => report::run(&config, args),
        Command::Account(command) => account::run(&config, command),
        Command::Encoder { texts, json } => encoder::run(&config, &texts, json),
        #[cfg(feature = "devtools")]
        Command::Bench(command) => bench::run(&config, command),
        #[cfg(not(feature = "devtools"))]
        Command::Bench { .. } => {
            eprintln!(
                "error: `ponte bench` is a development tool left out of this build; build with \
                 the devtools feature to get it: `cargo run --release --features devtools -- bench ...`"
            );
            Ok(ExitCode::from(2))
        }
    }
}

/// `ponte serve`: the app composed from the config, served until Ctrl-C or SIGTERM.
fn serve(config: Config) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(app::launch(config, shutdown::signal()))?;
    Ok(ExitCode::SUCCESS)
}

/// `ponte chat`: the same conversation engine as a server, talking on the terminal.
fn chat(
    config: Config,
    lang: Option<Language>,
    requester: String,
    groups: Vec<String>,
) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        // The terminal chat prints each input's replies; it does not follow a live feed.
        let orchestrator = AppBuilder::new(config)
            .grounded_answers(false)
            .orchestrator()
            .await?;
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
