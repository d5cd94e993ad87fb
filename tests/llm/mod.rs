//! The optional language model against a real HTTP stand-in on loopback (see `standin`):
//! re-ranking settles what the matcher hesitated on, and a slow, failing or malformed
//! endpoint leaves the lexical reply exactly as it would be without one, within the
//! budget; the breaker stops calls and lets them through again; grounded answers stream,
//! cite only permitted articles and never put a forbidden article into a prompt;
//! embeddings are recomputed only for what changed; `--llm` on the evaluations. Answers
//! streamed into a live conversation are in `streaming`, hybrid search in `hybrid_search`.

mod hybrid_search;
pub mod standin;
mod streaming;

use crate::assistant::{orchestrator, requester, shared, sqlite};
use crate::common::{fixture, ponte, run};
use ponte::assistant::MatchInput;
use ponte::conversation::{Candidate, Expecting, Understanding};
use ponte::knowledge::{Document, Visibility};
use ponte::lang::Language;
use ponte::llm::answer::{compose, permitted_articles};
use ponte::llm::breaker::BreakerState;
use ponte::llm::embed::{EmbeddingStore, refresh, store_path};
use ponte::llm::{Llm, LlmConfig, LlmError};
use ponte::orchestrator::Orchestrator;
use ponte::store::Channel;
use standin::{Behaviour, StandIn};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn config_for(standin: &StandIn) -> LlmConfig {
    let mut config = LlmConfig::new(standin.base_url.clone());
    config.api_key = Some("sk-test".to_string());
    config.chat_model = "stand-in-chat".to_string();
    config.embed_model = Some("stand-in-embed".to_string());
    config
}

fn llm_for(standin: &StandIn) -> Arc<Llm> {
    Arc::new(Llm::new(config_for(standin)))
}

/// A bundled-base text the matcher turns into a "which one?" question, and the candidate
/// a re-ranker should settle it on (an activity or article, not the first one offered).
fn hesitant_text() -> (&'static str, Vec<Candidate>, usize) {
    for text in [
        "acesso",
        "vpn",
        "impressora",
        "email",
        "senha",
        "acesso rede",
        "problema",
    ] {
        let decision = shared()
            .matcher
            .decide(&MatchInput {
                text,
                language: Language::PtBr,
                groups: &[],
                expecting: Expecting::FreeText,
            })
            .unwrap();
        if let Understanding::Ambiguous { candidates } = decision.understanding
            && let Some(index) = candidates
                .iter()
                .skip(1)
                .position(|c| !matches!(c, Candidate::Intent { .. }))
        {
            return (text, candidates, index + 1);
        }
    }
    panic!("no bundled text is ambiguous between several activities or articles");
}

fn label(candidate: &Candidate) -> String {
    match candidate {
        Candidate::Activity { activity } => activity.name.clone(),
        Candidate::Article { article } => article.title.clone(),
        Candidate::Intent { intent } => format!("{intent:?}"),
    }
}

/// The assistant's replies to `text` in a new conversation: bodies and payloads.
async fn replies(chat: &Orchestrator, text: &str) -> Vec<String> {
    let who = requester("llm-requester");
    let opened = chat.open(&who, Channel::Web, Language::PtBr).await.unwrap();
    let outcome = chat
        .post(&who, &opened.conversation.id, text, None)
        .await
        .unwrap();
    outcome
        .messages
        .iter()
        .skip(1)
        .map(|message| {
            format!(
                "{} {}",
                message.body,
                message.payload.clone().unwrap_or_default()
            )
        })
        .collect()
}

#[tokio::test]
async fn the_model_settles_a_hesitant_match_and_a_bad_endpoint_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(dir.path()).await;
    let (text, candidates, chosen) = hesitant_text();
    let lexical = replies(&orchestrator(store.clone()), text).await;

    let standin = StandIn::start().await;
    standin.reply_with(move |_| format!("{{\"choice\": {}}}", chosen + 1));
    let llm = llm_for(&standin);
    let chat = orchestrator(store.clone()).with_llm(Some(llm.clone()));
    let settled = replies(&chat, text).await;
    assert_ne!(settled, lexical, "the model's pick must change the reply");
    let expected = label(&candidates[chosen]);
    assert!(
        settled.join("\n").contains(&expected),
        "{expected:?} not in {settled:?}"
    );
    // The prompt offered exactly the matcher's candidates.
    let prompt = standin.prompts().pop().unwrap();
    for candidate in &candidates {
        assert!(prompt.contains(&label(candidate)), "{prompt}");
    }

    // Slow (past the 300 ms budget), failing and malformed endpoints: the lexical reply.
    for behaviour in [
        Behaviour::Slow(Duration::from_secs(5)),
        Behaviour::Fail,
        Behaviour::Malformed,
    ] {
        standin.behave(behaviour);
        llm.breaker().record_success();
        let started = Instant::now();
        let got = replies(&chat, text).await;
        assert_eq!(got, lexical, "{behaviour:?}");
        assert!(
            started.elapsed() < Duration::from_millis(2_500),
            "{behaviour:?} held the reply for {:?}",
            started.elapsed()
        );
    }
    // A reply that is not one of the numbers offered is malformed too.
    standin.behave(Behaviour::Good);
    standin.reply_with(|_| "the second one, I think".to_string());
    assert_eq!(replies(&chat, text).await, lexical);
    standin.reply_with(|_| "{\"choice\": 9}".to_string());
    assert_eq!(replies(&chat, text).await, lexical);
}

#[tokio::test]
async fn the_breaker_stops_calling_a_failing_endpoint_then_closes_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(dir.path()).await;
    let (text, _, chosen) = hesitant_text();
    let lexical = replies(&orchestrator(store.clone()), text).await;
    let standin = StandIn::start().await;
    standin.behave(Behaviour::Fail);
    standin.reply_with(move |_| format!("{{\"choice\": {}}}", chosen + 1));
    let mut config = config_for(&standin);
    config.breaker_failures = 2;
    config.breaker_cooldown = Duration::from_secs(3);
    let llm = Arc::new(Llm::new(config));
    let chat = orchestrator(store).with_llm(Some(llm.clone()));

    let started = Instant::now();
    for _ in 0..2 {
        assert_eq!(replies(&chat, text).await, lexical);
    }
    assert!(matches!(llm.breaker().state(), BreakerState::Open { .. }));
    // (async-openai retries a 5xx once inside one call: count requests, not calls.)
    let requests = standin.prompts().len();
    assert!(requests >= 2);
    for _ in 0..2 {
        assert_eq!(replies(&chat, text).await, lexical);
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the test outlived the cool-down"
    );
    assert_eq!(
        standin.prompts().len(),
        requests,
        "requests after the breaker opened"
    );

    // The endpoint recovers; after the cool-down one trial goes through and closes it.
    standin.behave(Behaviour::Good);
    tokio::time::sleep(Duration::from_millis(3_100)).await;
    let settled = replies(&chat, text).await;
    assert_ne!(settled, lexical);
    assert_eq!(standin.prompts().len(), requests + 1);
    assert_eq!(llm.breaker().state(), BreakerState::Closed { failures: 0 });
}

/// Every group-only article of the bundled base: id, title, groups.
fn restricted_articles() -> Vec<(String, String, Vec<String>)> {
    let generation = shared().knowledge.generation();
    let articles: Vec<_> = generation
        .all(ponte::knowledge::DocKind::Article)
        .unwrap()
        .into_iter()
        .filter_map(|document| match document {
            Document::Article(article) => match &article.visibility {
                Visibility::Groups(groups) => {
                    Some((article.id.clone(), article.title.clone(), groups.clone()))
                }
                Visibility::Public => None,
            },
            Document::Activity(_) => None,
        })
        .collect();
    assert!(articles.len() >= 5, "{articles:?}");
    articles
}

async fn answer(
    llm: &Llm,
    question: &str,
    language: Language,
    groups: &[String],
) -> (
    Result<ponte::llm::answer::GroundedAnswer, LlmError>,
    Vec<String>,
) {
    let articles = permitted_articles(&shared().knowledge, question, language, groups).unwrap();
    let mut pieces = Vec::new();
    let result = compose(llm, question, language, &articles, &mut |piece: &str| {
        pieces.push(piece.to_string())
    })
    .await;
    (result, pieces)
}

#[tokio::test]
async fn no_forbidden_article_reaches_a_prompt_and_members_get_theirs() {
    let standin = StandIn::start().await;
    // The model cites every id it was given.
    standin.reply_with(|prompt| {
        let ids: Vec<&str> = prompt
            .lines()
            .filter_map(|line| line.strip_prefix('[')?.split_once(']').map(|(id, _)| id))
            .collect();
        format!("Here is how. [{}]", ids.join("] ["))
    });
    let llm = llm_for(&standin);
    for (id, title, groups) in restricted_articles() {
        standin.forget();
        let (outsider, _) = answer(&llm, &title, Language::En, &[]).await;
        for prompt in standin.prompts() {
            // The question itself is the title: look at the articles given.
            let given = prompt.split("\nQuestion:").next().unwrap();
            assert!(!given.contains(&id), "{id} reached an outsider's prompt");
            assert!(
                !given.contains(&title),
                "{title:?} reached an outsider's prompt"
            );
        }
        if let Ok(answer) = outsider {
            assert!(answer.citations.iter().all(|c| c.id != id));
            assert!(!answer.text.contains(&id));
        }
        // A member of its group is answered from it (so the check above can fail).
        standin.forget();
        let (member, _) = answer(&llm, &title, Language::En, &groups[..1]).await;
        let member = member.unwrap();
        assert!(
            standin.prompts().iter().any(|prompt| prompt.contains(&id)),
            "{id} missing from a member's prompt"
        );
        assert!(member.citations.iter().any(|c| c.id == id), "{member:?}");
    }
}

#[tokio::test]
async fn answers_stream_and_cite_only_real_permitted_articles() {
    let standin = StandIn::start().await;
    let forbidden = restricted_articles()[0].0.clone();
    let cited_forbidden = forbidden.clone();
    standin.reply_with(move |prompt| {
        let first = prompt
            .lines()
            .find_map(|line| line.strip_prefix('[')?.split_once(']').map(|(id, _)| id.to_string()))
            .unwrap_or_default();
        format!(
            "Abra o portal e escolha uma nova senha [{first}]. Veja também [{cited_forbidden}] e [made-up-article]."
        )
    });
    let llm = llm_for(&standin);
    let question = "esqueci minha senha";
    let (result, pieces) = answer(&llm, question, Language::PtBr, &[]).await;
    let answer = result.unwrap();
    assert!(pieces.len() > 3, "not streamed: {pieces:?}");
    let shown: String = pieces.concat();
    assert!(!shown.contains(&forbidden), "{shown}");
    assert!(!shown.contains("made-up-article"), "{shown}");
    assert!(!answer.citations.is_empty());
    let permitted = permitted_articles(&shared().knowledge, question, Language::PtBr, &[]).unwrap();
    for citation in &answer.citations {
        assert!(
            permitted.iter().any(|article| article.id == citation.id),
            "{citation:?}"
        );
        let stored = shared()
            .knowledge
            .get(ponte::knowledge::DocKind::Article, &citation.id)
            .unwrap();
        assert!(matches!(stored, Some(Document::Article(_))), "{citation:?}");
        assert!(shown.contains(&format!("[{}]", citation.id)));
    }
}

#[tokio::test]
async fn a_late_first_token_or_a_broken_stream_gives_no_answer_in_time() {
    let standin = StandIn::start().await;
    standin.reply_with(|_| "Texto qualquer.".to_string());
    let mut config = config_for(&standin);
    config.first_token_budget = Duration::from_millis(300);
    config.breaker_failures = 10;
    let llm = Llm::new(config);
    // A text that cites nothing is refused.
    let (result, _) = answer(&llm, "esqueci minha senha", Language::PtBr, &[]).await;
    assert!(matches!(result, Err(LlmError::Malformed(_))), "{result:?}");

    standin.behave(Behaviour::Slow(Duration::from_secs(5)));
    let started = Instant::now();
    let (result, pieces) = answer(&llm, "esqueci minha senha", Language::PtBr, &[]).await;
    assert!(matches!(result, Err(LlmError::Timeout(_))), "{result:?}");
    assert!(pieces.is_empty());
    assert!(started.elapsed() < Duration::from_millis(2_500));

    for behaviour in [Behaviour::Fail, Behaviour::Malformed] {
        standin.behave(behaviour);
        let (result, pieces) = answer(&llm, "esqueci minha senha", Language::PtBr, &[]).await;
        assert!(result.is_err(), "{behaviour:?}: {result:?}");
        assert!(pieces.is_empty(), "{behaviour:?}: {pieces:?}");
    }
}

#[tokio::test]
async fn embeddings_are_recomputed_only_for_what_changed() {
    let standin = StandIn::start().await;
    let llm = llm_for(&standin);
    let index = tempfile::tempdir().unwrap();
    let generation = shared().knowledge.generation();
    let mut documents = generation.all(ponte::knowledge::DocKind::Article).unwrap();
    documents.extend(generation.all(ponte::knowledge::DocKind::Activity).unwrap());

    let first = refresh(&llm, index.path(), &documents).await.unwrap();
    assert_eq!(first.computed, documents.len());
    assert_eq!(standin.embedded().len(), documents.len());
    assert!(store_path(index.path()).is_file());

    standin.forget();
    let again = refresh(&llm, index.path(), &documents).await.unwrap();
    assert_eq!((again.computed, again.reused), (0, documents.len()));
    assert!(standin.embedded().is_empty(), "unchanged documents re-sent");

    // One article edited, one removed: one text sent, one vector dropped.
    let Document::Article(article) = &mut documents[0] else {
        panic!("articles come first")
    };
    article.summary.push_str(" Edited for the test.");
    documents.pop();
    let changed = refresh(&llm, index.path(), &documents).await.unwrap();
    assert_eq!((changed.computed, changed.removed), (1, 1));
    let sent = standin.embedded();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("Edited for the test."));

    // A failing endpoint leaves the stored vectors as they were.
    let stored = std::fs::read(store_path(index.path())).unwrap();
    standin.behave(Behaviour::Fail);
    let Document::Article(article) = &mut documents[0] else {
        unreachable!()
    };
    article.summary.push_str(" Again.");
    assert!(refresh(&llm, index.path(), &documents).await.is_err());
    assert_eq!(std::fs::read(store_path(index.path())).unwrap(), stored);
    let kept = EmbeddingStore::load(&store_path(index.path()), "stand-in-embed").unwrap();
    assert_eq!(kept.entries.len(), documents.len());
}

#[test]
fn config_file_and_flags_resolve_the_endpoint_and_the_key_stays_hidden() {
    use clap::{CommandFactory, FromArgMatches};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ponte.toml");
    std::fs::write(
        &file,
        "[llm]\nbase_url = \"http://127.0.0.1:9/v1\"\napi_key = \"sk-file-secret\"\nchat_model = \"file-chat\"\n",
    )
    .unwrap();
    let resolve = |args: &[&str]| {
        let matches = ponte::cli::Cli::command()
            .try_get_matches_from(args.iter().copied())
            .unwrap();
        let cli = ponte::cli::Cli::from_arg_matches(&matches).unwrap();
        ponte::config::Config::resolve(&cli.global, &matches).unwrap()
    };
    let file_arg = file.display().to_string();
    let config = resolve(&[
        "ponte",
        "--config",
        &file_arg,
        "--llm-chat-model",
        "flag-chat",
        "--llm-rerank-budget-ms",
        "120",
        "--llm-hybrid-budget-ms",
        "90",
        "serve",
    ]);
    let llm = config.llm.clone().expect("configured in the file");
    assert_eq!(llm.base_url, "http://127.0.0.1:9/v1");
    assert_eq!(llm.chat_model, "flag-chat", "a flag beats the file");
    assert_eq!(llm.rerank_budget, Duration::from_millis(120));
    assert_eq!(llm.hybrid_budget, Duration::from_millis(90));
    assert_eq!(llm.first_token_budget, Duration::from_millis(1_500));
    assert_eq!(llm.embed_model, None);
    let shown = format!("{config:?}");
    assert!(!shown.contains("sk-file-secret"), "{shown}");

    let off = resolve(&["ponte", "serve"]);
    assert!(off.llm.is_none() || std::env::var_os("PONTE_LLM_BASE_URL").is_some());
}

#[test]
fn llm_evaluations_without_an_endpoint_say_what_to_configure() {
    let cwd = tempfile::tempdir().unwrap();
    let (output, _, stderr) = run(ponte(cwd.path()).args([
        "eval",
        "retrieval",
        "--articles",
        &fixture("eval/articles.jsonl").display().to_string(),
        "--queries",
        &fixture("eval/queries.jsonl").display().to_string(),
        "--llm",
    ]));
    assert!(!output.status.success());
    assert!(stderr.contains("PONTE_LLM_BASE_URL"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eval_retrieval_with_llm_embeds_the_articles_and_keeps_figures_when_it_fails() {
    let standin = StandIn::start().await;
    let eval = |base_url: Option<String>| {
        let cwd = tempfile::tempdir().unwrap();
        let mut command = ponte(cwd.path());
        command.args([
            "eval",
            "retrieval",
            "--articles",
            &fixture("eval/articles.jsonl").display().to_string(),
            "--queries",
            &fixture("eval/queries.jsonl").display().to_string(),
            "--json",
        ]);
        if let Some(base_url) = base_url {
            command
                .arg("--llm")
                .env("PONTE_LLM_BASE_URL", base_url)
                .env("PONTE_LLM_EMBED_MODEL", "stand-in-embed");
        }
        tokio::task::spawn_blocking(move || {
            let (output, stdout, stderr) = run(&mut command);
            assert!(output.status.success(), "{stderr}");
            drop(cwd);
            stdout
        })
    };
    let figures = |stdout: &str| {
        let mut line: serde_json::Value =
            serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
        let object = line.as_object_mut().unwrap();
        object.remove("p50_us");
        object.remove("p99_us");
        line
    };
    let lexical = eval(None).await.unwrap();
    let with_llm = eval(Some(standin.base_url.clone())).await.unwrap();
    assert!(with_llm.contains("language model:"), "{with_llm}");
    // Every article was embedded, then every query.
    let embedded = standin.embedded();
    assert!(
        embedded
            .iter()
            .any(|text| text.starts_with("Connect to the VPN"))
    );
    assert!(embedded.iter().any(|text| text == "impressora de rede"));

    standin.behave(Behaviour::Fail);
    let failing = eval(Some(standin.base_url.clone())).await.unwrap();
    assert_eq!(figures(&failing), figures(&lexical), "{failing}");
    assert!(failing.contains("endpoint_error") || failing.contains("circuit_open"));
}

#[tokio::test]
async fn a_finished_answer_is_stored_in_the_conversation_and_published() {
    let dir = tempfile::tempdir().unwrap();
    let chat = orchestrator(sqlite(dir.path()).await);
    let standin = StandIn::start().await;
    standin.reply_with(|prompt| {
        let first = prompt
            .lines()
            .find_map(|line| {
                line.strip_prefix('[')?
                    .split_once(']')
                    .map(|(id, _)| id.to_string())
            })
            .unwrap_or_default();
        format!("Use o portal de autoatendimento para trocar a senha [{first}].")
    });
    let llm = llm_for(&standin);
    let who = requester("answered");
    let opened = chat.open(&who, Channel::Web, Language::PtBr).await.unwrap();
    let id = opened.conversation.id.clone();
    let seen = chat
        .store()
        .messages_after(&id, 0, 1000)
        .await
        .unwrap()
        .last()
        .map(|message| message.seq)
        .unwrap_or(0);
    let mut live = ponte::live::Feed::new(chat.bus().as_ref(), chat.store().clone(), &id, seen);
    let mut streamed = String::new();
    let stored = ponte::orchestrator::answers::answer_in_conversation(
        &chat,
        shared().knowledge.clone(),
        &llm,
        &who,
        &id,
        "esqueci minha senha",
        &mut |piece: &str| streamed.push_str(piece),
    )
    .await
    .unwrap();
    assert_eq!(stored.body, streamed.trim());
    let payload = stored.payload.clone().unwrap();
    assert_eq!(payload["event"], "grounded_answer");
    assert!(
        payload["answer_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    let cited = payload["citations"][0]["id"].as_str().unwrap().to_string();
    assert!(stored.body.contains(&format!("[{cited}]")));
    let history = chat.store().messages_after(&id, 0, 100).await.unwrap();
    assert_eq!(history.last().unwrap().seq, stored.seq);
    assert_eq!(live.next().await.unwrap().unwrap().seq, stored.seq);

    // Someone else's conversation is refused, and nothing reaches the endpoint.
    standin.forget();
    let other = ponte::orchestrator::answers::answer_in_conversation(
        &chat,
        shared().knowledge.clone(),
        &llm,
        &requester("intruder"),
        &id,
        "esqueci minha senha",
        &mut |_: &str| {},
    )
    .await;
    assert!(other.is_err());
    assert!(standin.prompts().is_empty());
}
