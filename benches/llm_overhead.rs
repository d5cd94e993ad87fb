//! What the language-model path costs on top of the lexical one, measured against the
//! loopback stand-in of the integration tests (an OpenAI-compatible server answering at
//! once): the plumbing (async-openai, HTTP on loopback, JSON, SSE) and Ponte's own work,
//! not a model's thinking time. Quality needs a real endpoint: see the README.
//!
//! For every hesitant text of the bundled base (a "which one?" question or a fallback with
//! candidates near the threshold) it times the lexical decision alone and the decision
//! plus re-ranking; then a grounded answer (time to first token and to the end), the
//! embeddings of the bundled base plus one query, live search lexical versus hybrid, and a
//! grounded answer in a live conversation (to the first `answer_delta` a feed receives and
//! to the stored answer).
//!
//! ```text
//! cargo bench --bench llm_overhead -- [--rounds N (20)]
//! ```

#[path = "../tests/llm/standin.rs"]
mod standin;

use ponte::assistant::{MatchInput, Matcher, load_intents};
use ponte::conversation::{Expecting, Understanding};
use ponte::eval::quantile;
use ponte::knowledge::index::rebuild;
use ponte::knowledge::{DocKind, KnowledgeBase, Sources};
use ponte::lang::Language;
use ponte::llm::rerank::{NEAR_THRESHOLD_MARGIN, OwnedInput, refine};
use ponte::llm::{Llm, LlmConfig};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

fn summary(name: &str, mut samples: Vec<u64>) {
    samples.sort_unstable();
    println!(
        "{name:<34} n={:<5} p50 {:>7} us  p99 {:>7} us  max {:>7} us",
        samples.len(),
        quantile(&samples, 0.5),
        quantile(&samples, 0.99),
        samples.last().copied().unwrap_or_default()
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut rounds = 20usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rounds" => rounds = args.next().unwrap_or_default().parse()?,
            // `cargo bench` passes `--bench` to every bench binary.
            "--bench" => {}
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir()?;
    let sources = Sources::new(repo.join("knowledge-index"));
    rebuild(dir.path(), &sources, &mut |_| {})?;
    let knowledge = Arc::new(KnowledgeBase::open(dir.path(), Some(sources))?);
    let intents = load_intents(&repo.join("intents"))?;
    let matcher = Arc::new(Matcher::build(
        &intents,
        knowledge.clone(),
        Default::default(),
    )?);

    let standin = standin::StandIn::start().await;
    let mut config = LlmConfig::new(standin.base_url.clone());
    config.embed_model = Some("stand-in-embed".to_string());
    config.breaker_failures = u32::MAX;
    let llm = Arc::new(Llm::new(config));

    // Hesitant texts: every article title's first word and every activity example, kept
    // when the matcher hesitates on them.
    let generation = knowledge.generation();
    let mut texts: Vec<(String, Language)> = Vec::new();
    for document in generation.all(DocKind::Activity)? {
        if let ponte::knowledge::Document::Activity(activity) = document {
            for language in Language::ALL {
                for phrase in activity.examples.get(language).into_iter().flatten() {
                    texts.push((phrase.clone(), language));
                }
            }
        }
    }
    for document in generation.all(DocKind::Article)? {
        if let ponte::knowledge::Document::Article(article) = document
            && let Some(word) = article.title.split_whitespace().next()
        {
            texts.push((word.to_string(), article.language));
        }
    }
    let queries = texts.clone();
    let mut hesitant = Vec::new();
    for (text, language) in texts {
        let input = MatchInput {
            text: &text,
            language,
            groups: &[],
            expecting: Expecting::FreeText,
        };
        let decision = matcher.decide(&input)?;
        let near = matcher.near_candidates(&decision.signals, &input, NEAR_THRESHOLD_MARGIN)?;
        let hesitates = matches!(decision.understanding, Understanding::Ambiguous { .. })
            || (matches!(decision.understanding, Understanding::Fallback) && !near.is_empty());
        if hesitates {
            hesitant.push((text, language));
        }
    }
    println!(
        "{} hesitant texts of the bundled base, {rounds} rounds",
        hesitant.len()
    );

    let mut lexical = Vec::new();
    let mut reranked = Vec::new();
    for _ in 0..rounds {
        for (text, language) in &hesitant {
            let input = OwnedInput {
                text: text.clone(),
                language: *language,
                groups: Vec::new(),
                expecting: Expecting::FreeText,
            };
            let started = Instant::now();
            matcher.decide(&input.as_input())?;
            lexical.push(started.elapsed().as_micros() as u64);
            let started = Instant::now();
            let decision = matcher.decide(&input.as_input())?;
            refine(&llm, &matcher, input, decision).await;
            reranked.push(started.elapsed().as_micros() as u64);
        }
    }
    summary("lexical decision", lexical);
    summary("decision + re-rank (loopback)", reranked);

    standin.reply_with(|prompt| {
        let first = prompt
            .lines()
            .find_map(|line| line.strip_prefix('[')?.split_once(']').map(|(id, _)| id.to_string()))
            .unwrap_or_default();
        format!(
            "Open the self-service portal, choose a new password and sign in again with it [{first}]."
        )
    });
    let mut first_token = Vec::new();
    let mut whole = Vec::new();
    for _ in 0..rounds {
        let articles = ponte::llm::answer::permitted_articles(
            &knowledge,
            "I forgot my password",
            Language::En,
            &[],
        )?;
        let started = Instant::now();
        let mut first = None;
        ponte::llm::answer::compose(
            &llm,
            "I forgot my password",
            Language::En,
            &articles,
            &mut |_| {
                first.get_or_insert_with(|| started.elapsed().as_micros() as u64);
            },
        )
        .await?;
        whole.push(started.elapsed().as_micros() as u64);
        first_token.extend(first);
    }
    summary("grounded answer, first token", first_token);
    summary("grounded answer, complete", whole);

    let mut documents = generation.all(DocKind::Article)?;
    documents.extend(generation.all(DocKind::Activity)?);
    let started = Instant::now();
    let mut store = ponte::llm::embed::EmbeddingStore {
        model: "stand-in-embed".to_string(),
        ..Default::default()
    };
    let report = store.sync(&llm, &documents).await?;
    println!(
        "embedded {} documents in {} ms",
        report.computed,
        started.elapsed().as_millis()
    );
    let mut query = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        let vectors = llm.embed(vec!["vpn não conecta".to_string()]).await?;
        store.nearest(&vectors[0], 10, &|_| true);
        query.push(started.elapsed().as_micros() as u64);
    }
    summary("query embedding + nearest", query);

    // Live search, lexical versus hybrid (the same request through both, the lexical one
    // off the async threads as the API runs it): every activity example and article
    // title's first word as a query.
    let hybrid = ponte::llm::hybrid::Hybrid::new(llm.clone(), knowledge.clone())
        .expect("an embedding model is configured");
    hybrid.sync().await?;
    let mut lexical_search = Vec::new();
    let mut hybrid_search = Vec::new();
    for _ in 0..rounds {
        for (text, language) in &queries {
            let mut request = ponte::knowledge::SearchRequest::new(text.clone());
            request.language = Some(*language);
            let started = Instant::now();
            let searched = knowledge.clone();
            let lexical_request = request.clone();
            tokio::task::spawn_blocking(move || searched.search(&lexical_request)).await??;
            lexical_search.push(started.elapsed().as_micros() as u64);
            let started = Instant::now();
            hybrid.search(request).await?;
            hybrid_search.push(started.elapsed().as_micros() as u64);
        }
    }
    println!("{} search queries", queries.len());
    summary("search, lexical", lexical_search);
    summary("search, hybrid (loopback)", hybrid_search);

    // A grounded answer in a live conversation: from the question to the first
    // `answer_delta` a feed receives, and to the stored answer.
    let data = tempfile::tempdir()?;
    let url = format!("sqlite://{}", data.path().join("ponte.db").display());
    let store = ponte::store::open(&url, Default::default()).await?;
    let chat = ponte::orchestrator::Orchestrator::new(store, knowledge.clone(), matcher.clone());
    let answers = ponte::orchestrator::answers::LiveAnswers {
        llm: llm.clone(),
        knowledge: knowledge.clone(),
        hybrid: None,
        store: chat.store().clone(),
        bus: chat.bus().clone(),
    };
    let who = ponte::orchestrator::Requester {
        id: "bench".to_string(),
        groups: Vec::new(),
    };
    let mut first_delta = Vec::new();
    let mut stored = Vec::new();
    for _ in 0..rounds {
        let opened = chat
            .open(&who, ponte::store::Channel::Web, Language::En)
            .await?;
        let id = opened.conversation.id.clone();
        let seen = opened.messages.last().map(|m| m.seq).unwrap_or(0);
        let mut feed = ponte::live::Feed::new(chat.bus().as_ref(), chat.store().clone(), &id, seen);
        let question = ponte::orchestrator::answers::Question {
            conversation_id: id,
            text: "I forgot my password".to_string(),
            language: Language::En,
            groups: Vec::new(),
        };
        let started = Instant::now();
        let answering = {
            let answers = answers.clone();
            tokio::spawn(async move { answers.answer(&question, None, &mut |_| {}).await })
        };
        let mut first = None;
        loop {
            match feed.next_live().await? {
                Some(ponte::live::Live::Signal(_)) => {
                    first.get_or_insert_with(|| started.elapsed().as_micros() as u64);
                }
                Some(ponte::live::Live::Message(_)) => break,
                None => anyhow::bail!("the feed ended"),
            }
        }
        stored.push(started.elapsed().as_micros() as u64);
        first_delta.extend(first);
        answering.await??;
    }
    summary("live answer, first answer_delta", first_delta);
    summary("live answer, stored", stored);
    Ok(())
}
