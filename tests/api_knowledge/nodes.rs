//! Knowledge across nodes: two apps over one SQLite file, each with its own copy of the
//! sources and its own index. A document written, changed or deleted through one node, and
//! what a reindex of one node's files changed, are served by the other within seconds; a
//! node that was down gets what it missed; concurrent writes of one document end the same on
//! both; a change in the log that is not a valid document is skipped and following goes on.

use crate::assistant::sqlite;
use crate::common::{TestApp, TestKb, encode, fixture};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use ponte::auth::Role;
use ponte::knowledge::{DocKind, KnowledgeBase};
use ponte::store::{KnowledgeOp, NewKnowledgeChange};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const MANAGER: &str = "kim-nodes-secret";
/// How long another node may take to serve a change.
const WITHIN: Duration = Duration::from_secs(5);

/// One running node: its app served on port 0 (so its background workers run), called
/// in-process through its router.
struct Node {
    router: axum::Router,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Node {
    /// A node serving `kb`'s sources and index, its store the SQLite file in `shared`.
    async fn start(shared: &Path, kb: &TestKb) -> Node {
        let knowledge = Arc::new(KnowledgeBase::open(&kb.index_dir(), Some(kb.sources())).unwrap());
        let intents = ponte::assistant::load_intents(&fixture("intents")).unwrap();
        let matcher = Arc::new(
            ponte::assistant::Matcher::build(&intents, knowledge.clone(), Default::default())
                .unwrap(),
        );
        let app = TestApp::builder(knowledge)
            .matcher(matcher)
            .data_dir(kb.data_dir.path())
            .store(sqlite(shared).await)
            .without_desk()
            .build()
            .await;
        app.register(MANAGER, Role::KnowledgeManager, "kim", &[]);
        let router = app.router();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.serve(listener, async move {
            let _ = stopped.await;
        }));
        Node {
            router,
            stop: Some(stop),
            task,
        }
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the node did not stop")
            .unwrap()
            .unwrap();
    }

    async fn call(&self, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {MANAGER}"));
        let body = match body {
            Some(value) => {
                request = request.header("content-type", "application/json");
                Body::from(value.to_string())
            }
            None => Body::empty(),
        };
        let response = self
            .router
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn search(&self, text: &str) -> Vec<String> {
        let uri = format!("/api/knowledge/search?q={}&lang=en", encode(text));
        let (status, body) = self.call(Method::GET, &uri, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hit| hit["id"].as_str().unwrap().to_string())
            .collect()
    }

    async fn put_article(&self, id: &str, title: &str, body: &str) -> StatusCode {
        let (status, answer) = self
            .call(
                Method::PUT,
                &format!("/api/knowledge/articles/{id}"),
                Some(json!({"title": title, "language": "en", "body": body})),
            )
            .await;
        assert!(status.is_success(), "{status} {answer}");
        status
    }

    /// The article's title, or `None` when the node does not know it.
    async fn title_of(&self, id: &str) -> Option<String> {
        let (status, body) = self
            .call(Method::GET, &format!("/api/knowledge/articles/{id}"), None)
            .await;
        match status {
            StatusCode::OK => Some(body["title"].as_str().unwrap().to_string()),
            StatusCode::NOT_FOUND => None,
            other => panic!("GET {id}: {other} {body}"),
        }
    }

    /// Every article's id and title.
    async fn articles(&self) -> Vec<(String, String)> {
        let (status, body) = self
            .call(Method::GET, "/api/knowledge/articles", None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["articles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|article| {
                (
                    article["id"].as_str().unwrap().to_string(),
                    article["title"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

/// Polls `check` until it holds or [`WITHIN`] has passed; whether it held.
async fn within<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + WITHIN;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Two nodes over one SQLite file, each with its own copy of the fixture sources and index.
async fn two_nodes() -> (tempfile::TempDir, TestKb, Node, TestKb, Node) {
    let shared = tempfile::tempdir().unwrap();
    let kb_a = TestKb::fixture();
    let kb_b = TestKb::fixture();
    let a = Node::start(shared.path(), &kb_a).await;
    let b = Node::start(shared.path(), &kb_b).await;
    (shared, kb_a, a, kb_b, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_update_and_delete_on_one_node_reach_the_other() {
    let (_shared, _kb_a, a, kb_b, b) = two_nodes().await;
    let id = "kb-zorblax.en";
    assert!(b.search("zorblaxite").await.is_empty());

    let created = a
        .put_article(
            id,
            "Zorblaxite cable adapters",
            "Plug the zorblaxite adapter in.",
        )
        .await;
    assert_eq!(created, StatusCode::CREATED);
    assert!(
        within(|| async { b.search("zorblaxite").await.contains(&id.to_string()) }).await,
        "the other node did not find the new article"
    );
    // Written to the other node's own sources too, so its next full rebuild keeps it.
    let source = kb_b.sources_dir.path().join("articles/en/kb-zorblax.en.md");
    assert!(
        std::fs::read_to_string(&source)
            .unwrap()
            .contains("Zorblaxite")
    );

    a.put_article(
        id,
        "Quixotrane cable adapters",
        "Plug the quixotrane adapter in.",
    )
    .await;
    assert!(
        within(|| async { b.title_of(id).await.as_deref() == Some("Quixotrane cable adapters") })
            .await,
        "the other node did not take the update"
    );
    assert_eq!(
        b.search("quixotrane").await.first().map(String::as_str),
        Some(id)
    );
    assert!(!b.search("zorblaxite").await.contains(&id.to_string()));

    let (status, body) = a
        .call(
            Method::DELETE,
            &format!("/api/knowledge/articles/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        within(|| async { b.title_of(id).await.is_none() }).await,
        "the other node still serves the deleted article"
    );
    assert!(
        !source.exists(),
        "the deleted article's file stays on the other node"
    );
    assert!(b.search("quixotrane").await.is_empty());
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reindex_on_one_node_brings_its_file_changes_to_the_other() {
    let (_shared, kb_a, a, _kb_b, b) = two_nodes().await;
    let sources = kb_a.sources_dir.path().join("articles/en");
    std::fs::write(
        sources.join("flumox.md"),
        "+++\nid = \"kb-flumox.en\"\ntitle = \"Flumox badge readers\"\nlanguage = \"en\"\n+++\n\
         Hold the badge against the flumox reader until it beeps.\n",
    )
    .unwrap();
    let printer = sources.join("printer.md");
    let edited = std::fs::read_to_string(&printer).unwrap().replace(
        "Connecting printers to your laptop",
        "Vorpalink printers on your laptop",
    );
    std::fs::write(&printer, edited).unwrap();
    std::fs::remove_file(sources.join("password.md")).unwrap();
    // Nothing reaches the other node before the reindex: files are read by a rebuild.
    assert!(b.search("flumox").await.is_empty());

    let (status, job) = a.call(Method::POST, "/api/knowledge/reindex", None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let uri = format!("/api/knowledge/reindex/{}", job["id"].as_str().unwrap());
    assert!(
        within(|| async { a.call(Method::GET, &uri, None).await.1["state"] == "succeeded" }).await,
        "the reindex did not succeed"
    );

    assert!(
        within(|| async {
            b.title_of("kb-flumox.en").await.is_some()
                && b.title_of("kb-password.en").await.is_none()
                && b.title_of("kb-printer.en").await.as_deref()
                    == Some("Vorpalink printers on your laptop")
        })
        .await,
        "the other node does not serve what the reindex changed"
    );
    assert_eq!(
        b.search("flumox").await.first().map(String::as_str),
        Some("kb-flumox.en")
    );
    assert_eq!(
        a.articles().await,
        b.articles().await,
        "both nodes serve the same articles"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_was_down_gets_what_it_missed() {
    let (shared, _kb_a, a, kb_b, b) = two_nodes().await;
    b.stop().await;
    a.put_article(
        "kb-snorkel.en",
        "Snorkelwort licences",
        "Ask for a snorkelwort licence.",
    )
    .await;
    let b = Node::start(shared.path(), &kb_b).await;
    assert!(
        within(|| async {
            b.search("snorkelwort")
                .await
                .contains(&"kb-snorkel.en".to_string())
        })
        .await,
        "the restarted node did not get the article written while it was down"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_of_one_document_end_the_same_on_both_nodes() {
    let (_shared, _kb_a, a, _kb_b, b) = two_nodes().await;
    let id = "kb-race.en";
    for round in 0..3 {
        let title_a = format!("Race written on A, round {round}");
        let title_b = format!("Race written on B, round {round}");
        tokio::join!(
            a.put_article(id, &title_a, "From node A."),
            b.put_article(id, &title_b, "From node B."),
        );
        assert!(
            within(|| async {
                let on_a = a.title_of(id).await;
                on_a.is_some() && on_a == b.title_of(id).await
            })
            .await,
            "round {round}: the nodes disagree: {:?} and {:?}",
            a.title_of(id).await,
            b.title_of(id).await
        );
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_change_is_skipped_and_following_goes_on() {
    let (shared, _kb_a, a, _kb_b, b) = two_nodes().await;
    let store = sqlite(shared.path()).await;
    let broken = |id: &str, body: Value| NewKnowledgeChange {
        origin: "another-release".to_string(),
        kind: DocKind::Article,
        doc_id: id.to_string(),
        op: KnowledgeOp::Upsert,
        body: body.to_string(),
    };
    store
        .append_knowledge_changes(vec![
            // No title, no language: not an article.
            broken(
                "kb-broken.en",
                json!({"kind": "article", "id": "kb-broken.en"}),
            ),
            // A valid article, but not the one its row names.
            broken(
                "kb-liar.en",
                json!({"kind": "article", "id": "kb-other.en", "title": "Other", "language": "en"}),
            ),
        ])
        .await
        .unwrap();
    a.put_article(
        "kb-after.en",
        "Wibblefrost scanners",
        "Scan with the wibblefrost.",
    )
    .await;
    assert!(
        within(|| async {
            b.search("wibblefrost")
                .await
                .contains(&"kb-after.en".to_string())
        })
        .await,
        "a broken change stopped the follower"
    );
    for id in ["kb-broken.en", "kb-liar.en", "kb-other.en"] {
        assert_eq!(b.title_of(id).await, None, "{id} was applied");
        assert_eq!(a.title_of(id).await, None, "{id} was applied");
    }
    store.close().await;
    a.stop().await;
    b.stop().await;
}
