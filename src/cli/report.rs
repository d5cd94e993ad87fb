//! `ponte report desk|gaps|articles`: the reports of [`crate::insight`] read straight from
//! the configured store, printed as text tables, JSON (`--json`) or CSV (`--csv`).

use crate::config::Config;
use crate::insight::{self, Period, csv};
use anyhow::Context;
use std::process::ExitCode;

/// Which report.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ReportKind {
    /// Conversations, containment, waits, lost chats, satisfaction, attendants' time.
    Desk,
    /// Clusters of the texts the assistant could not place well.
    Gaps,
    /// Per article: shown, opened, viewed, followed by a ticket or a person.
    Articles,
}

/// The options of `ponte report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    pub kind: ReportKind,
    /// Start: a span back from now (7d, 24h, 2w), a date (2026-11-01) or a timestamp.
    #[arg(long, default_value = "7d")]
    pub since: String,
    /// End (exclusive; a date counts whole); now by default.
    #[arg(long)]
    pub until: Option<String>,
    /// The time zone days are counted in (IANA name); UTC by default.
    #[arg(long)]
    pub tz: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Print CSV (for desk: the table named by --table).
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// The desk report's table: days, channels, groups, projects, attendants, close_reasons,
    /// presence.
    #[arg(long, default_value = "days")]
    pub table: String,
    /// Gaps: leave the requesters' texts out.
    #[arg(long)]
    pub no_examples: bool,
    /// Gaps and articles: how many rows of text output.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

pub(super) fn run(config: &Config, args: ReportArgs) -> anyhow::Result<ExitCode> {
    let period = match Period::parse(
        Some(&args.since),
        args.until.as_deref(),
        args.tz.as_deref(),
        crate::store::now_millis(),
    ) {
        Ok(period) => period,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(2));
        }
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let store = crate::app::open_store(config).await?;
        let result = print(config, store.as_ref(), &period, &args).await;
        store.close().await;
        result
    })
}

async fn print(
    config: &Config,
    store: &dyn crate::store::Store,
    period: &Period,
    args: &ReportArgs,
) -> anyhow::Result<ExitCode> {
    match args.kind {
        ReportKind::Desk => {
            let report = insight::desk_report(store, period).await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else if args.csv {
                match csv::desk_table(&report, &args.table) {
                    Some(table) => print!("{table}"),
                    None => {
                        eprintln!(
                            "error: --table {:?} is not one of {}",
                            args.table,
                            csv::DESK_TABLES.join(", ")
                        );
                        return Ok(ExitCode::from(2));
                    }
                }
            } else {
                print_desk(&report);
            }
        }
        ReportKind::Gaps => {
            let examples = config.gap_examples && !args.no_examples;
            let report = insight::gap_report(store, period, examples).await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else if args.csv {
                print!("{}", csv::gaps_table(&report));
            } else {
                println!(
                    "{} gap texts in {} clusters, {} to {} ({})",
                    report.texts,
                    report.clusters.len(),
                    report.since,
                    report.until,
                    report.time_zone
                );
                for cluster in report.clusters.iter().take(args.limit) {
                    let trend = match cluster.second_half.cmp(&cluster.first_half) {
                        std::cmp::Ordering::Greater => "rising",
                        std::cmp::Ordering::Less => "falling",
                        std::cmp::Ordering::Equal => "steady",
                    };
                    println!(
                        "{:>5}  {:<6} {:<40} {trend}{}",
                        cluster.count,
                        cluster.language,
                        cluster.label,
                        if cluster.dismissed {
                            " (dismissed)"
                        } else {
                            ""
                        }
                    );
                    for example in cluster.examples.iter().take(3) {
                        println!("         \"{example}\"");
                    }
                }
            }
        }
        ReportKind::Articles => {
            let report = insight::article_report(store, period, |_| None).await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else if args.csv {
                print!("{}", csv::articles_table(&report));
            } else {
                println!(
                    "{:<40} {:>6} {:>6} {:>6} {:>7} {:>7} {:>8}",
                    "article", "shown", "opened", "viewed", "ticket", "person", "settled"
                );
                for article in report.articles.iter().take(args.limit) {
                    println!(
                        "{:<40} {:>6} {:>6} {:>6} {:>7} {:>7} {:>7.0}%",
                        article.article_id,
                        article.shown,
                        article.opened,
                        article.viewed,
                        article.followed_by_ticket,
                        article.followed_by_handoff,
                        article.settled * 100.0
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn ms(value: Option<i64>) -> String {
    match value {
        Some(ms) if ms >= 60_000 => format!("{:.1} min", ms as f64 / 60_000.0),
        Some(ms) => format!("{:.1} s", ms as f64 / 1_000.0),
        None => "-".to_string(),
    }
}

fn print_desk(report: &insight::desk::DeskReport) {
    let totals = &report.totals;
    println!(
        "desk report {} to {} ({})",
        report.since, report.until, report.time_zone
    );
    println!(
        "conversations {}  contained {} ({:.1}%)  handed off {} ({:.1}%)  bridged {}  tickets {}",
        totals.conversations,
        totals.contained,
        totals.containment * 100.0,
        totals.handoffs,
        totals.handoff_rate * 100.0,
        totals.bridged,
        totals.tickets
    );
    println!(
        "queue p50 {} p90 {}  first response p50 {} p90 {}  handling p50 {} p90 {}",
        ms(totals.queue_p50_ms),
        ms(totals.queue_p90_ms),
        ms(totals.first_response_p50_ms),
        ms(totals.first_response_p90_ms),
        ms(totals.handling_p50_ms),
        ms(totals.handling_p90_ms)
    );
    println!(
        "lost {}  transfers {}  ratings {}  satisfaction {}",
        totals.lost,
        totals.transfers,
        totals.ratings,
        totals
            .satisfaction
            .map(|s| format!("{s:.2}/5"))
            .unwrap_or_else(|| "-".into())
    );
    for (title, rows) in [
        ("channel", &report.by_channel),
        ("group", &report.by_group),
        ("attendant", &report.by_attendant),
    ] {
        if rows.is_empty() {
            continue;
        }
        println!("\nby {title}:");
        for row in rows {
            println!(
                "  {:<24} {:>6} conv  {:>5.1}% contained  {:>4} lost  queue p50 {}",
                row.key,
                row.figures.conversations,
                row.figures.containment * 100.0,
                row.figures.lost,
                ms(row.figures.queue_p50_ms)
            );
        }
    }
    if !report.close_reasons.is_empty() {
        println!("\nclose reasons:");
        for (reason, count) in &report.close_reasons {
            println!("  {reason:<24} {count:>6}");
        }
    }
}
