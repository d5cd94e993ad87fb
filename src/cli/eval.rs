//! `ponte eval retrieval`, `ponte eval intents` and `ponte eval understanding`: run the
//! evaluation engines of [`crate::eval`] and [`crate::intent`] (with the language model on
//! `--llm`) and print their reports.

use super::EvalCommand;
use crate::app::required_llm;
use crate::config::Config;
use crate::progress::Reporter;
use std::path::Path;
use std::process::ExitCode;

pub(super) fn run(config: &Config, command: EvalCommand) -> anyhow::Result<ExitCode> {
    match command {
        EvalCommand::Retrieval {
            articles,
            queries,
            json,
            misses,
            llm,
        } => retrieval(config, &articles, &queries, json, misses, llm),
        EvalCommand::Intents {
            train,
            val,
            test,
            oos_train,
            json,
            llm,
            encoder_weight,
            cascade,
        } => intents(
            config,
            [&train, &val, &test],
            oos_train,
            json,
            llm,
            crate::intent::EncoderOptions {
                weight: encoder_weight,
                confident: cascade,
            },
        ),
        EvalCommand::Understanding { cases, json } => understanding(config, &cases, json),
    }
}

/// The assistant's first answers on `cases`, with the configured catalogue and intents.
fn understanding(config: &Config, cases: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let cases = crate::eval::understanding::read_cases(cases)?;
    let knowledge = std::sync::Arc::new(crate::app::open_knowledge(config)?);
    let matcher = crate::app::train_matcher(config, knowledge)?;
    let report = crate::eval::understanding::evaluate(&matcher, &cases)?;
    print!("{}", report.render());
    if json {
        println!("{}", report.json_line());
    }
    Ok(ExitCode::SUCCESS)
}

fn intents(
    config: &Config,
    [train_path, val_path, test_path]: [&Path; 3],
    oos_train: bool,
    json: bool,
    llm: bool,
    encoding: crate::intent::EncoderOptions,
) -> anyhow::Result<ExitCode> {
    let llm = if llm {
        Some(required_llm(config)?)
    } else {
        None
    };
    let encoder = crate::app::load_encoder(config)?;
    if llm.is_some() && encoder.is_some() {
        anyhow::bail!("--llm and --encoder-dir measure one at a time: choose one");
    }
    let train = crate::intent::read_jsonl(train_path)?;
    let val = crate::intent::read_jsonl(val_path)?;
    let test = crate::intent::read_jsonl(test_path)?;
    let mut progress = |message: &str| eprintln!("{message}");
    let report = match llm {
        Some(llm) => {
            let (report, usage) = crate::eval::llm::evaluate_intents(
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
        None => match encoder {
            Some(encoder) => crate::intent::evaluate_encoded(
                &train,
                &val,
                &test,
                oos_train,
                (encoder, encoding),
                &mut progress,
            )?,
            None => crate::intent::evaluate(&train, &val, &test, oos_train, &mut progress)?,
        },
    };
    print!("{}", report.render_text());
    if same_file(val_path, test_path) {
        println!(
            "note: the test file is the validation file, so the test figures are validation figures, not held-out ones"
        );
    }
    if json {
        println!("{}", report.to_json_line());
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether two paths name the same file (compared after resolving links and `..`).
fn same_file(first: &Path, second: &Path) -> bool {
    match (first.canonicalize(), second.canonicalize()) {
        (Ok(first), Ok(second)) => first == second,
        _ => first == second,
    }
}

fn retrieval(
    config: &Config,
    articles: &Path,
    queries: &Path,
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
                crate::eval::llm::evaluate_retrieval_files(llm, articles, queries, &mut progress)?;
            (report, Some(usage))
        }
        None => (
            crate::eval::retrieval::evaluate_files(articles, queries, &mut progress)?,
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
