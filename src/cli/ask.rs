//! `ponte ask`: prints the ranked articles and activities for one text, the assistant's
//! decision on it and, with `--llm`, a grounded answer as it streams ([`crate::ask`] does
//! the work).

use super::KindArg;
use crate::ask::{AskQuery, Asked};
use crate::config::Config;
use crate::knowledge::DocKind;
use crate::lang::Language;
use std::io::Write;
use std::process::ExitCode;

/// The arguments of `ponte ask`.
pub(super) struct AskOptions {
    pub text: String,
    pub groups: Vec<String>,
    pub lang: Option<Language>,
    pub kind: Option<KindArg>,
    pub limit: usize,
    pub json: bool,
    pub llm: bool,
}

pub(super) fn run(config: &Config, options: AskOptions) -> anyhow::Result<ExitCode> {
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
        Some(crate::app::required_llm(config)?)
    } else {
        None
    };
    let asked = crate::ask::ask(
        config,
        AskQuery {
            text,
            groups,
            language: lang,
            kind: kind.map(|kind| match kind {
                KindArg::Article => DocKind::Article,
                KindArg::Activity => DocKind::Activity,
            }),
            limit,
        },
    )?;
    if let Some(llm) = llm {
        print_answer(&llm, &asked, json)?;
    }
    let Asked {
        text,
        request,
        hits,
        decision,
        decision_us,
        ..
    } = asked;
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

/// `ponte ask --llm`: a grounded answer, streamed to stdout, then its sources.
fn print_answer(llm: &crate::llm::Llm, asked: &Asked, json: bool) -> anyhow::Result<()> {
    let mut print = |piece: &str| {
        if !json {
            let mut stdout = std::io::stdout();
            let _ = stdout.write_all(piece.as_bytes());
            let _ = stdout.flush();
        }
    };
    let streamed = crate::ask::grounded_answer(llm, asked, &mut print)?;
    let language = asked.language;
    let total_ms = streamed.total_ms;
    match streamed.answer {
        Ok(answer) if json => println!(
            "{}",
            serde_json::json!({
                "answer": answer,
                "first_token_ms": streamed.first_token_ms,
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
                streamed.first_token_ms.unwrap_or_default()
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
