//! Helpers shared by the integration tests: knowledge bases built from the bundled
//! `knowledge-index/` or a fixture into temporary directories, searches that return ids,
//! the `ponte` binary run against temporary data, and [`TestApp`], the app built the way
//! the binary builds it.

pub mod server;

pub use server::TestApp;

use ponte::knowledge::index::rebuild;
use ponte::knowledge::{Hit, KnowledgeBase, SearchRequest, Sources};
use ponte::lang::Language;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tempfile::TempDir;

/// The repository root.
/// A NATS subject prefix no other test (nor another run of the suite) uses: the nodes of one
/// test share it, so a test hears only its own nodes' live events.
pub fn nats_prefix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    format!(
        "test-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file or directory under `fixtures/`.
pub fn fixture(relative: &str) -> PathBuf {
    repo().join("fixtures").join(relative)
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A knowledge base served from temporary directories: a copy of some sources and a
/// data directory holding the index built from them.
pub struct TestKb {
    pub sources_dir: TempDir,
    pub data_dir: TempDir,
    pub kb: KnowledgeBase,
}

impl TestKb {
    /// Copies `from` as the sources, builds the index and opens it.
    pub fn build(from: &Path) -> TestKb {
        let sources_dir = tempfile::tempdir().unwrap();
        copy_dir(from, sources_dir.path());
        let data_dir = tempfile::tempdir().unwrap();
        let report = rebuild(
            &index_dir(data_dir.path()),
            &Sources::new(sources_dir.path()),
            &mut |_| {},
        )
        .unwrap();
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        let kb = KnowledgeBase::open(
            &index_dir(data_dir.path()),
            Some(Sources::new(sources_dir.path())),
        )
        .unwrap();
        TestKb {
            sources_dir,
            data_dir,
            kb,
        }
    }

    /// The bundled `knowledge-index/`.
    pub fn bundled() -> TestKb {
        TestKb::build(&repo().join("knowledge-index"))
    }

    /// The small fixture knowledge base `fixtures/kb/`.
    pub fn fixture() -> TestKb {
        TestKb::build(&fixture("kb"))
    }

    pub fn index_dir(&self) -> PathBuf {
        index_dir(self.data_dir.path())
    }

    pub fn sources(&self) -> Sources {
        Sources::new(self.sources_dir.path())
    }
}

/// Where the binary puts the index inside a data directory (`<data_dir>/index`).
pub fn index_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("index")
}

/// A search request as a requester would make it.
pub fn request(text: &str, language: Option<Language>, groups: &[&str]) -> SearchRequest {
    let mut request = SearchRequest::new(text);
    request.language = language;
    request.groups = groups.iter().map(|group| group.to_string()).collect();
    request
}

/// The ids of the hits for `text`, best first.
pub fn ids(kb: &KnowledgeBase, text: &str, language: Option<Language>) -> Vec<String> {
    hits(kb, &request(text, language, &[]))
        .into_iter()
        .map(|hit| hit.id)
        .collect()
}

pub fn hits(kb: &KnowledgeBase, request: &SearchRequest) -> Vec<Hit> {
    kb.search(request)
        .unwrap_or_else(|error| panic!("search {:?} failed: {error}", request.text))
}

/// Asserts that `text` ranks `expected` first.
#[track_caller]
pub fn assert_first(kb: &KnowledgeBase, text: &str, language: Option<Language>, expected: &str) {
    let found = ids(kb, text, language);
    assert_eq!(
        found.first().map(String::as_str),
        Some(expected),
        "query {text:?} ({language:?}) ranked {found:?}"
    );
}

/// The `ponte` binary with a clean environment: no `PONTE_*` variable from the caller,
/// run from an empty directory so that the default relative paths point nowhere useful,
/// with the one-intent fixture `fixtures/intents/` (the matcher `ask` builds trains on the
/// intents and activities; the full set takes seconds in a debug build).
pub fn ponte(cwd: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ponte"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PONTE_") || name == "RUST_LOG" {
            command.env_remove(name);
        }
    }
    command
        .current_dir(cwd)
        .env("PONTE_LOG", "warn")
        .env("PONTE_INTENTS_DIR", fixture("intents"));
    command
}

/// Runs a command and returns its output with stdout and stderr as text.
pub fn run(command: &mut Command) -> (Output, String, String) {
    let output = command.output().expect("running ponte");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

/// The application router over `kb`, as `ponte serve` builds it (search only).
pub fn app(kb: KnowledgeBase) -> axum::Router {
    ponte::http::router(app_state(kb))
}

/// The state of a search-only app over `kb`, built by the composition root.
pub fn app_state(kb: KnowledgeBase) -> ponte::http::state::AppState {
    TestApp::search_only(std::sync::Arc::new(kb))
        .build_now()
        .state()
        .clone()
}

/// Percent-encodes a query-string value.
pub fn encode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Sends `GET uri` through `app` in-process; returns the status and the JSON body.
pub async fn get(app: &axum::Router, uri: &str) -> (axum::http::StatusCode, serde_json::Value) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let request = axum::http::Request::get(uri)
        .body(axum::body::Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|error| {
        panic!(
            "{uri}: body is not JSON ({error}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, body)
}

/// The ids in a search response body.
pub fn hit_ids(body: &serde_json::Value) -> Vec<String> {
    body["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("no hits in {body}"))
        .iter()
        .map(|hit| hit["id"].as_str().unwrap().to_string())
        .collect()
}
