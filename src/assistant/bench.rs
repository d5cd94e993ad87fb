//! `ponte bench decide`: the latency of one decision (matcher plus one state-machine step,
//! no I/O) over a mix of requester texts: intent phrases, activity names and examples,
//! article titles and out-of-scope sentences, in the three languages.

use super::intents::IntentFile;
use super::matcher::{MatchInput, Matcher};
use crate::conversation::{self, Event, Expecting, Params};
use crate::knowledge::{DocKind, Document, KnowledgeError};
use crate::lang::Language;
use crate::latency::Latencies;
use serde::Serialize;
use std::time::Instant;

/// Percentiles of one decision, in microseconds.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionLatency {
    pub decisions: usize,
    pub texts: usize,
    pub p50_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
}

/// Out-of-scope texts: nothing a service desk handles.
const OUT_OF_SCOPE: &[(&str, Language)] = &[
    ("qual vai ser o placar do jogo de domingo", Language::PtBr),
    (
        "me recomenda uma receita de bolo de cenoura",
        Language::PtBr,
    ),
    ("¿cuál es la capital de australia?", Language::Es),
    ("quiero reservar una mesa para dos esta noche", Language::Es),
    ("what's the weather like in lisbon tomorrow", Language::En),
    ("tell me a joke about penguins", Language::En),
];

/// The texts a benchmark runs: every intent phrase, activity name and example, article
/// title, and the out-of-scope list.
pub fn sample_texts(
    intents: &[IntentFile],
    matcher: &Matcher,
) -> Result<Vec<(String, Language)>, KnowledgeError> {
    let mut texts = Vec::new();
    for intent in intents {
        for language in Language::ALL {
            for phrase in intent.examples.get(language).into_iter().flatten() {
                texts.push((phrase.clone(), language));
            }
        }
    }
    let generation = matcher.knowledge().generation();
    for document in generation.all(DocKind::Activity)? {
        if let Document::Activity(activity) = document {
            for language in Language::ALL {
                if let Some(name) = activity.name.get(language) {
                    texts.push((name.clone(), language));
                }
                for example in activity.examples.get(language).into_iter().flatten() {
                    texts.push((example.clone(), language));
                }
            }
        }
    }
    for document in generation.all(DocKind::Article)? {
        if let Document::Article(article) = document {
            texts.push((article.title.clone(), article.language));
        }
    }
    texts.extend(
        OUT_OF_SCOPE
            .iter()
            .map(|(text, language)| (text.to_string(), *language)),
    );
    Ok(texts)
}

/// Runs every text `rounds` times through the matcher and one machine step from the idle
/// state of a fresh conversation in the text's language.
pub fn run(
    matcher: &Matcher,
    texts: &[(String, Language)],
    rounds: usize,
) -> Result<DecisionLatency, KnowledgeError> {
    let params = Params::default();
    let idle: Vec<conversation::Conversation> = Language::ALL
        .iter()
        .map(|language| {
            conversation::Conversation::new()
                .step(
                    &params,
                    Event::Opened {
                        language: *language,
                        requester: "bench".to_string(),
                    },
                )
                .map(|transition| transition.conversation)
                .unwrap_or_default()
        })
        .collect();
    let mut samples = Vec::with_capacity(texts.len() * rounds);
    for _ in 0..rounds.max(1) {
        for (text, language) in texts {
            let conversation = &idle[Language::ALL
                .iter()
                .position(|candidate| candidate == language)
                .unwrap_or(0)];
            let started = Instant::now();
            let decision = matcher.decide(&MatchInput {
                text,
                language: *language,
                groups: &[],
                expecting: Expecting::FreeText,
            })?;
            let stepped = conversation.step(
                &params,
                Event::RequesterText {
                    text: text.clone(),
                    understanding: decision.understanding,
                },
            );
            samples.push(started.elapsed().as_micros() as u64);
            std::hint::black_box(stepped.ok());
        }
    }
    let latencies: Latencies = samples.iter().copied().collect();
    Ok(DecisionLatency {
        decisions: samples.len(),
        texts: texts.len(),
        p50_us: latencies.quantile(0.5),
        p99_us: latencies.quantile(0.99),
        p999_us: latencies.quantile(0.999),
        max_us: latencies.max(),
    })
}
