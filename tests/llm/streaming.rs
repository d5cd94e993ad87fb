//! Grounded answers streamed into the requester's live feed: after the assistant's own
//! reply, `answer_delta` signals in order, then the stored answer with the same
//! `answer_id`; a first token past the budget gives no answer and the reply stands; a
//! stream that breaks after pieces went out is withdrawn with `answer_abandoned`; no
//! article the requester may not read reaches a prompt, even when its embedding is the
//! nearest to the question.

use super::standin::{Behaviour, StandIn, vector_of};
use super::{config_for, restricted_articles};
use crate::assistant::{orchestrator, requester, shared, sqlite};
use ponte::assistant::MatchInput;
use ponte::conversation::{Expecting, Understanding};
use ponte::knowledge::{DocKind, Document, Visibility};
use ponte::lang::Language;
use ponte::live::{Feed, Live};
use ponte::llm::hybrid::Hybrid;
use ponte::llm::{Llm, LlmConfig};
use ponte::orchestrator::Orchestrator;
use ponte::orchestrator::answers::{LiveAnswers, Question};
use ponte::store::{Channel, Message};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

/// A public article's title that the matcher answers by listing that article, in its
/// language: a question the assistant answers with articles.
fn article_question() -> (String, Language) {
    let generation = shared().knowledge.generation();
    for document in generation.all(DocKind::Article).unwrap() {
        let Document::Article(article) = document else {
            continue;
        };
        if article.visibility != Visibility::Public {
            continue;
        }
        let decision = shared()
            .matcher
            .decide(&MatchInput {
                text: &article.title,
                language: article.language,
                groups: &[],
                expecting: Expecting::FreeText,
            })
            .unwrap();
        if matches!(&decision.understanding, Understanding::Articles { hits } if !hits.is_empty()) {
            return (article.title.clone(), article.language);
        }
    }
    panic!("no public article title is answered with articles");
}

/// The model's answer: a few sentences citing the first article it was given.
fn cite_first(prompt: &str) -> String {
    let first = prompt
        .lines()
        .find_map(|line| {
            line.strip_prefix('[')?
                .split_once(']')
                .map(|(id, _)| id.to_string())
        })
        .unwrap_or_default();
    format!(
        "Follow the steps of the article calmly, one at a time [{first}]. Then check that \
         everything works again."
    )
}

fn streaming_config(standin: &StandIn) -> LlmConfig {
    let mut config = config_for(standin);
    config.breaker_failures = 10;
    config
}

fn live_chat(store: Arc<dyn ponte::store::Store>, llm: Arc<Llm>) -> Orchestrator {
    orchestrator(store)
        .with_llm(Some(llm))
        .with_grounded_answers(true)
}

/// Opens a conversation and follows it from after its greeting.
async fn open_followed(chat: &Orchestrator, who: &str, language: Language) -> (String, Feed) {
    let opened = chat
        .open(&requester(who), Channel::Web, language)
        .await
        .unwrap();
    let id = opened.conversation.id.clone();
    let seen = opened.messages.last().map(|m| m.seq).unwrap_or(0);
    let feed = Feed::new(chat.bus().as_ref(), chat.store().clone(), &id, seen);
    (id, feed)
}

/// What a live client sees.
#[derive(Debug)]
enum Seen {
    Message(Message),
    Delta { answer_id: String, text: String },
    Abandoned { answer_id: String },
}

async fn next(feed: &mut Feed, wait: Duration) -> Option<Seen> {
    let live = tokio::time::timeout(wait, feed.next_live()).await.ok()?;
    Some(match live.unwrap().unwrap() {
        Live::Message(message) => Seen::Message(message),
        Live::Signal(signal) => {
            // The exact frame the WebSocket sends: `{"type": kind, ...data}`.
            let mut value: serde_json::Value = serde_json::from_str(&signal.to_frame()).unwrap();
            let frame = value.as_object_mut().unwrap();
            assert_eq!(frame.remove("type").unwrap(), signal.kind());
            let answer_id = frame["answer_id"].as_str().unwrap().to_string();
            match signal.kind() {
                "answer_delta" => {
                    assert_eq!(frame.len(), 2, "{frame:?}");
                    Seen::Delta {
                        answer_id,
                        text: frame["text"].as_str().unwrap().to_string(),
                    }
                }
                "answer_abandoned" => {
                    assert_eq!(frame.len(), 1, "{frame:?}");
                    Seen::Abandoned { answer_id }
                }
                other => panic!("unexpected signal {other}: {frame:?}"),
            }
        }
    })
}

fn is_answer(message: &Message) -> bool {
    message
        .payload
        .as_ref()
        .is_some_and(|payload| payload["event"] == "grounded_answer")
}

#[tokio::test]
async fn a_question_gets_its_reply_then_a_streamed_answer_then_the_stored_answer() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(dir.path()).await;
    let standin = StandIn::start().await;
    standin.reply_with(cite_first);
    standin.pace(Duration::from_millis(15));
    let chat = live_chat(store, Arc::new(Llm::new(streaming_config(&standin))));
    let (question, language) = article_question();
    let (id, mut feed) = open_followed(&chat, "streamed", language).await;

    let outcome = chat
        .post(&requester("streamed"), &id, &question, None)
        .await
        .unwrap();
    // The assistant's reply is complete without the answer.
    assert!(outcome.messages.len() >= 2, "{:?}", outcome.messages);
    assert!(!outcome.messages.iter().any(is_answer));
    let replied = outcome.messages.last().unwrap().seq;

    let mut deltas: Vec<(String, String)> = Vec::new();
    let stored = loop {
        match next(&mut feed, WAIT).await.expect("the answer never came") {
            Seen::Message(message) if is_answer(&message) => break message,
            Seen::Message(message) => {
                assert!(deltas.is_empty(), "{message:?} came amid the answer");
                assert!(message.seq <= replied, "{message:?}");
            }
            Seen::Delta { answer_id, text } => deltas.push((answer_id, text)),
            Seen::Abandoned { answer_id } => panic!("{answer_id} abandoned"),
        }
    };
    assert_eq!(feed.last_seq(), stored.seq);
    assert!(stored.seq > replied);
    assert!(deltas.len() >= 2, "not streamed: {deltas:?}");
    let payload = stored.payload.clone().unwrap();
    let answer_id = payload["answer_id"].as_str().unwrap();
    assert!(deltas.iter().all(|(delta_id, _)| delta_id == answer_id));
    let streamed: String = deltas.iter().map(|(_, text)| text.as_str()).collect();
    assert_eq!(streamed.trim(), stored.body);
    assert!(
        stored.body.starts_with("Follow the steps"),
        "{}",
        stored.body
    );
    // Each citation is a public article with what a link needs.
    let citations = payload["citations"].as_array().unwrap();
    assert!(!citations.is_empty());
    for citation in citations {
        let cited = citation["id"].as_str().unwrap();
        assert!(citation["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(citation["url"].as_str().is_some_and(|u| !u.is_empty()));
        let document = shared().knowledge.get(DocKind::Article, cited).unwrap();
        assert!(
            document.is_some_and(|d| d.visibility() == &Visibility::Public),
            "{citation}"
        );
        assert!(stored.body.contains(&format!("[{cited}]")));
    }
    // The requester's question was asked once, after the reply; nothing more comes.
    assert_eq!(standin.prompts().len(), 1);
    assert!(next(&mut feed, Duration::from_millis(300)).await.is_none());
}

#[tokio::test]
async fn a_first_token_past_the_budget_gives_no_answer_and_the_reply_stands() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(dir.path()).await;
    let (question, language) = article_question();
    // The reply without any model, for comparison.
    let plain = orchestrator(store.clone());
    let (plain_id, _) = open_followed(&plain, "slow-plain", language).await;
    let lexical: Vec<String> = plain
        .post(&requester("slow-plain"), &plain_id, &question, None)
        .await
        .unwrap()
        .messages
        .iter()
        .map(|m| format!("{} {:?}", m.body, m.payload))
        .collect();

    let standin = StandIn::start().await;
    standin.reply_with(cite_first);
    standin.behave(Behaviour::Slow(Duration::from_secs(4)));
    let mut config = streaming_config(&standin);
    config.first_token_budget = Duration::from_millis(1_000);
    let chat = live_chat(store, Arc::new(Llm::new(config)));
    let (id, mut feed) = open_followed(&chat, "slow", language).await;
    let started = Instant::now();
    let outcome = chat
        .post(&requester("slow"), &id, &question, None)
        .await
        .unwrap();
    let held = started.elapsed();
    let replied: Vec<String> = outcome
        .messages
        .iter()
        .map(|m| format!("{} {:?}", m.body, m.payload))
        .collect();
    assert_eq!(replied, lexical);
    assert!(
        held < Duration::from_millis(1_000),
        "the reply waited {held:?}"
    );
    // The reply's messages, then nothing: no piece, no answer, past the budget and more.
    for _ in 0..outcome.messages.len() {
        assert!(matches!(
            next(&mut feed, WAIT).await,
            Some(Seen::Message(m)) if !is_answer(&m)
        ));
    }
    let quiet_until = Duration::from_millis(1_000 + 1_000);
    assert!(
        next(&mut feed, quiet_until).await.is_none(),
        "something came after the budget"
    );
    assert_eq!(standin.prompts().len(), 1, "the model was asked");
    let history = chat.store().messages_after(&id, 0, 100).await.unwrap();
    assert!(!history.iter().any(is_answer));
}

#[tokio::test]
async fn a_stream_that_breaks_after_some_pieces_is_abandoned() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(dir.path()).await;
    let standin = StandIn::start().await;
    standin.reply_with(cite_first);
    standin.pace(Duration::from_millis(40));
    standin.behave(Behaviour::BreakAfter(5));
    let chat = live_chat(store, Arc::new(Llm::new(streaming_config(&standin))));
    let (question, language) = article_question();
    let (id, mut feed) = open_followed(&chat, "broken", language).await;
    chat.post(&requester("broken"), &id, &question, None)
        .await
        .unwrap();
    let mut deltas = Vec::new();
    let abandoned = loop {
        match next(&mut feed, WAIT).await.expect("no end of the answer") {
            Seen::Message(message) => {
                assert!(!is_answer(&message), "a broken answer was stored");
                assert!(deltas.is_empty(), "{message:?} came amid the answer");
            }
            Seen::Delta { answer_id, text } => deltas.push((answer_id, text)),
            Seen::Abandoned { answer_id } => break answer_id,
        }
    };
    assert!(!deltas.is_empty(), "the break came before any piece");
    assert!(deltas.iter().all(|(delta_id, _)| *delta_id == abandoned));
    let shown: String = deltas.iter().map(|(_, text)| text.as_str()).collect();
    assert!(cite_first("").starts_with(&shown), "{shown:?}");
    assert!(next(&mut feed, Duration::from_millis(300)).await.is_none());
    let history = chat.store().messages_after(&id, 0, 100).await.unwrap();
    assert!(!history.iter().any(is_answer));
}

#[tokio::test]
async fn no_forbidden_article_reaches_a_live_prompt_even_when_it_is_the_nearest() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(dir.path()).await;
    let (restricted_id, title, groups) = restricted_articles().remove(0);
    let standin = StandIn::start().await;
    standin.reply_with(cite_first);
    // The question's embedding is exactly the forbidden article's.
    let nearest_title = title.clone();
    standin.embed_with(move |text| {
        if text.starts_with(&nearest_title) {
            let mut vector = vec![0.0; 64];
            vector[62] = -1.0;
            vector
        } else {
            vector_of(text)
        }
    });
    let llm = Arc::new(Llm::new(streaming_config(&standin)));
    let hybrid = Arc::new(Hybrid::new(llm.clone(), shared().knowledge.clone()).unwrap());
    hybrid.sync().await.unwrap();
    let chat = live_chat(store, llm.clone()).with_hybrid(Some(hybrid.clone()));
    let answers = LiveAnswers {
        llm,
        knowledge: shared().knowledge.clone(),
        hybrid: Some(hybrid),
        store: chat.store().clone(),
        bus: chat.bus().clone(),
    };
    for (who, member) in [("outsider", false), ("member", true)] {
        let opened = chat
            .open(&requester(who), Channel::Web, Language::En)
            .await
            .unwrap();
        standin.forget();
        let question = Question {
            conversation_id: opened.conversation.id.clone(),
            text: title.clone(),
            language: Language::En,
            groups: if member { groups.clone() } else { Vec::new() },
        };
        let answered = answers.answer(&question, None, &mut |_| {}).await;
        let prompts = standin.prompts();
        assert_eq!(prompts.len(), 1, "{who}: {answered:?}");
        let given = prompts[0].split("\nQuestion:").next().unwrap();
        if member {
            assert!(given.contains(&restricted_id), "{restricted_id} not given");
            let message = answered.unwrap();
            let citations = message.payload.unwrap()["citations"].clone();
            assert!(
                citations
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|citation| citation["id"] == restricted_id.as_str())
            );
        } else {
            assert!(!given.contains(&restricted_id), "{given}");
            assert!(!given.contains(&title), "{given}");
            if let Ok(message) = answered {
                assert!(!message.body.contains(&restricted_id));
            }
        }
    }
}
