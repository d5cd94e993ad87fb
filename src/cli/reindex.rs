//! `ponte reindex`: rebuilds the knowledge index through [`crate::app::reindex`] and prints
//! its report (exit code 3 when a source file was skipped).

use crate::config::Config;
use std::process::ExitCode;

pub(super) fn run(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let reindexed = crate::app::reindex(config)?;
    match &reindexed.embeddings {
        Some(Ok(sync)) => eprintln!(
            "embeddings: {} computed, {} unchanged, {} removed",
            sync.computed, sync.reused, sync.removed
        ),
        Some(Err(error)) => {
            eprintln!("embeddings not updated (lexical search is unaffected): {error}")
        }
        None => {}
    }
    let report = reindexed.report;
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
