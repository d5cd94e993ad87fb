//! Hybrid retrieval in live search (`GET /api/knowledge/search` and grounded answers): a
//! query no word of which is in the index comes back with the article its embedding is
//! nearest to; a slow or failing embeddings endpoint leaves the lexical result exactly as
//! it was, within the hybrid budget; a document the caller may not read never comes
//! back; the embeddings follow the documents, computing only what changed.

use super::config_for;
use super::standin::{Behaviour, StandIn, vector_of};
use crate::common::{TestApp, TestKb, encode, get, hit_ids};
use ponte::knowledge::{DocKind, Document, KnowledgeBase, SearchRequest, Visibility};
use ponte::llm::Llm;
use ponte::llm::embed::store_path;
use ponte::llm::hybrid::Hybrid;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A made-up word no document contains: only its embedding can find anything.
const PUBLIC_QUERY: &str = "zorbleflux";
const RESTRICTED_QUERY: &str = "quuxplorn";

/// A direction of the stand-in's vector space no real text points to (its vectors have
/// no negative component): only the texts mapped onto it are near it.
fn marker(dimension: usize) -> Vec<f32> {
    let mut vector = vec![0.0; 64];
    vector[dimension] = -1.0;
    vector
}

struct Fixture {
    _kb: TestKb,
    knowledge: Arc<KnowledgeBase>,
    standin: StandIn,
    llm: Arc<Llm>,
    hybrid: Arc<Hybrid>,
    /// A public article only [`PUBLIC_QUERY`]'s embedding finds.
    public: String,
    /// A group-only article only [`RESTRICTED_QUERY`]'s embedding finds, and its groups.
    restricted: (String, Vec<String>),
}

async fn fixture() -> Fixture {
    let kb = TestKb::bundled();
    // A serving base of its own over the test's directory (shared with the hybrid search).
    let knowledge = Arc::new(KnowledgeBase::open(&kb.index_dir(), Some(kb.sources())).unwrap());
    let articles: Vec<_> = knowledge
        .generation()
        .all(DocKind::Article)
        .unwrap()
        .into_iter()
        .filter_map(|document| match document {
            Document::Article(article) => Some(article),
            Document::Activity(_) => None,
        })
        .collect();
    let public = articles
        .iter()
        .find(|article| article.visibility == Visibility::Public)
        .unwrap()
        .clone();
    let restricted = articles
        .iter()
        .find_map(|article| match &article.visibility {
            Visibility::Groups(groups) => Some((article.clone(), groups.clone())),
            Visibility::Public => None,
        })
        .unwrap();
    let standin = StandIn::start().await;
    let (public_title, restricted_title) = (public.title.clone(), restricted.0.title.clone());
    standin.embed_with(move |text| {
        if text == PUBLIC_QUERY || text.starts_with(&format!("{public_title}\n")) {
            marker(62)
        } else if text == RESTRICTED_QUERY || text.starts_with(&format!("{restricted_title}\n")) {
            marker(61)
        } else {
            vector_of(text)
        }
    });
    let mut config = config_for(&standin);
    config.breaker_failures = 100;
    let llm = Arc::new(Llm::new(config));
    let hybrid = Arc::new(Hybrid::new(llm.clone(), knowledge.clone()).unwrap());
    Fixture {
        _kb: kb,
        knowledge,
        standin,
        llm,
        hybrid,
        public: public.id,
        restricted: (restricted.0.id, restricted.1),
    }
}

fn request(text: &str, groups: &[String]) -> SearchRequest {
    let mut request = SearchRequest::new(text);
    request.groups = groups.to_vec();
    request.limit = 5;
    request
}

fn ids(hits: &[ponte::knowledge::Hit]) -> Vec<String> {
    hits.iter().map(|hit| hit.id.clone()).collect()
}

async fn lexical(knowledge: &KnowledgeBase, request: &SearchRequest) -> Vec<String> {
    ids(&knowledge.search(request).unwrap())
}

#[tokio::test]
async fn embeddings_find_what_words_miss_and_never_what_the_caller_may_not_read() {
    let f = fixture().await;
    let report = f.hybrid.sync().await.unwrap();
    assert!(report.computed > 50, "{report:?}");
    assert!(store_path(f.knowledge.root().unwrap()).is_file());

    // Lexical search finds nothing for the made-up word; hybrid finds the article.
    let public = request(PUBLIC_QUERY, &[]);
    assert!(lexical(&f.knowledge, &public).await.is_empty());
    let found = f.hybrid.search(public.clone()).await.unwrap();
    assert_eq!(found[0].id, f.public, "{:?}", ids(&found));
    assert!(found[0].semantic.unwrap() > 0.99);
    assert!(found[0].document.is_some());

    // The group-only article: found for a member, never for anyone else.
    let (restricted, groups) = &f.restricted;
    let member = f
        .hybrid
        .search(request(RESTRICTED_QUERY, groups))
        .await
        .unwrap();
    assert_eq!(&member[0].id, restricted);
    let outsider = f
        .hybrid
        .search(request(RESTRICTED_QUERY, &[]))
        .await
        .unwrap();
    assert!(!ids(&outsider).contains(restricted), "{:?}", ids(&outsider));
    for hit in &outsider {
        let visibility = hit.document.as_ref().unwrap().visibility().clone();
        assert_eq!(visibility, Visibility::Public, "{}", hit.id);
    }

    // The same through the HTTP API, as an anonymous caller.
    let app = TestApp::search_only(f.knowledge.clone())
        .hybrid(Some(f.hybrid.clone()))
        .build()
        .await
        .router();
    let (status, body) = get(&app, &format!("/api/knowledge/search?q={PUBLIC_QUERY}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(hit_ids(&body)[0], f.public);
    let (_, body) = get(
        &app,
        &format!("/api/knowledge/search?q={}", encode(RESTRICTED_QUERY)),
    )
    .await;
    assert!(!hit_ids(&body).contains(restricted), "{body}");
    // Without hybrid retrieval the API finds nothing for it (so the checks above can fail).
    let lexical_app = TestApp::search_only(f.knowledge.clone())
        .hybrid(None)
        .build()
        .await
        .router();
    let (_, body) = get(
        &lexical_app,
        &format!("/api/knowledge/search?q={PUBLIC_QUERY}"),
    )
    .await;
    assert!(hit_ids(&body).is_empty(), "{body}");
}

#[tokio::test]
async fn a_slow_or_failing_embeddings_endpoint_leaves_the_lexical_result() {
    let f = fixture().await;
    f.hybrid.sync().await.unwrap();
    let budget = f.llm.config().hybrid_budget;
    assert_eq!(budget, Duration::from_millis(150));
    for behaviour in [
        Behaviour::Slow(Duration::from_secs(3)),
        Behaviour::Fail,
        Behaviour::Malformed,
    ] {
        f.standin.behave(behaviour);
        for text in [PUBLIC_QUERY, "vpn", "impressora não imprime"] {
            f.llm.breaker().record_success();
            let request = request(text, &[]);
            let started = Instant::now();
            let hits = f.hybrid.search(request.clone()).await.unwrap();
            let took = started.elapsed();
            assert_eq!(
                ids(&hits),
                lexical(&f.knowledge, &request).await,
                "{behaviour:?} {text}"
            );
            assert!(hits.iter().all(|hit| hit.semantic.is_none()));
            assert!(
                took < budget + Duration::from_millis(400),
                "{behaviour:?} {text}: {took:?}"
            );
        }
    }
    // An open breaker costs nothing and changes nothing either.
    f.standin.behave(Behaviour::Good);
    for _ in 0..100 {
        f.llm.breaker().record_failure_at(Instant::now());
    }
    f.standin.forget();
    let request = request(PUBLIC_QUERY, &[]);
    let hits = f.hybrid.search(request.clone()).await.unwrap();
    assert_eq!(ids(&hits), lexical(&f.knowledge, &request).await);
    assert!(f.standin.embedded().is_empty());
}

#[tokio::test]
async fn embeddings_follow_the_documents_and_only_what_changed_is_sent() {
    let f = fixture().await;
    // Before the first sync, search is lexical.
    assert_eq!(f.hybrid.documents(), 0);
    assert!(
        f.hybrid
            .search(request(PUBLIC_QUERY, &[]))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(f.hybrid.is_stale());
    let first = f.hybrid.sync().await.unwrap();
    assert!(!f.hybrid.is_stale());
    let total = first.computed;
    assert_eq!(f.hybrid.documents(), total);

    // One article edited through the serving index: one text sent.
    f.standin.forget();
    let Some(Document::Article(mut article)) =
        f.knowledge.get(DocKind::Article, &f.public).unwrap()
    else {
        panic!("the public article is gone")
    };
    article.summary.push_str(" Edited for the hybrid test.");
    f.knowledge.upsert(Document::Article(article)).unwrap();
    assert!(f.hybrid.is_stale());
    let second = f.hybrid.sync().await.unwrap();
    assert_eq!((second.computed, second.reused), (1, total - 1));
    let sent = f.standin.embedded();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("Edited for the hybrid test."));

    // A fresh process over the same directory reads the file: nothing is sent again.
    f.standin.forget();
    let restarted = Hybrid::new(f.llm.clone(), f.knowledge.clone()).unwrap();
    let third = restarted.sync().await.unwrap();
    assert_eq!((third.computed, third.reused), (0, total));
    assert!(f.standin.embedded().is_empty());
}

#[tokio::test]
async fn a_served_index_gets_its_embeddings_at_start_and_after_a_write() {
    let f = fixture().await;
    let app = TestApp::search_only(f.knowledge.clone())
        .hybrid(Some(f.hybrid.clone()))
        .build()
        .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(listener, async move {
        let _ = stopped.await;
    }));
    let settled = |hybrid: Arc<Hybrid>| async move {
        let deadline = Instant::now() + Duration::from_secs(20);
        while hybrid.is_stale() || hybrid.documents() == 0 {
            assert!(
                Instant::now() < deadline,
                "the server never embedded the documents"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    settled(f.hybrid.clone()).await;
    let found = f.hybrid.search(request(PUBLIC_QUERY, &[])).await.unwrap();
    assert_eq!(found[0].id, f.public);

    // A document written while serving is embedded by the server, alone.
    f.standin.forget();
    let Some(Document::Article(mut article)) =
        f.knowledge.get(DocKind::Article, &f.public).unwrap()
    else {
        panic!("the public article is gone")
    };
    article.summary.push_str(" Written while serving.");
    f.knowledge.upsert(Document::Article(article)).unwrap();
    settled(f.hybrid.clone()).await;
    let sent = f.standin.embedded();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("Written while serving."));

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
