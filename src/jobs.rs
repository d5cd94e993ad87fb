//! Background full reindexes started through the API: at most one runs at a time; each has
//! an id, a phase, counters, the files it skipped with their line and reason, and how it
//! ended. Knowledge managers poll `GET /api/knowledge/reindex/{id}`. Jobs live in memory:
//! after a restart, the index itself says what the last rebuild produced.

use crate::fault::{Coded, ErrorKind};
use crate::knowledge::index::{Progress, ReindexReport};
use crate::knowledge::{KnowledgeBase, KnowledgeError, ingest::IngestError};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// How many finished jobs are remembered.
const KEEP_FINISHED: usize = 20;

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Running,
    Succeeded,
    Failed,
}

/// One skipped file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FileError {
    pub file: String,
    pub line: Option<usize>,
    pub reason: String,
}

impl FileError {
    /// `error` with its file named relative to the sources' `root`, as documents name
    /// theirs: a client learns nothing of the server's directories.
    fn new(error: &IngestError, root: Option<&std::path::Path>) -> Self {
        let file = root
            .and_then(|root| error.file.strip_prefix(root).ok())
            .unwrap_or(&error.file);
        FileError {
            file: file.display().to_string(),
            line: error.line,
            reason: error.reason.clone(),
        }
    }
}

/// What a client reads about a job.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobStatus {
    pub id: String,
    pub state: JobState,
    /// scanning, indexing, committing, done.
    #[schema(value_type = String)]
    pub phase: &'static str,
    pub files_total: usize,
    pub files_scanned: usize,
    pub documents_total: usize,
    pub documents_indexed: usize,
    pub articles: Option<usize>,
    pub activities: Option<usize>,
    pub generation: Option<String>,
    pub errors: Vec<FileError>,
    /// Why the rebuild failed as a whole (the previous index keeps serving).
    pub failure: Option<String>,
    pub started_at_ms: u64,
    pub finished_at_ms: Option<u64>,
}

/// Why a job could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Only one rebuild runs at a time.
    #[error("the reindex {id} is still running")]
    Running { id: String },
}

impl Coded for JobError {
    fn kind(&self) -> ErrorKind {
        match self {
            JobError::Running { .. } => ErrorKind::Conflict,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            JobError::Running { .. } => "conflict",
        }
    }
}

/// How a job rebuilds: the knowledge base's own rebuild, or one that also tells the other
/// nodes what changed (see [`crate::knowledge_sync`]). It runs on a blocking thread.
pub type Rebuild =
    Box<dyn FnOnce(&mut dyn FnMut(Progress)) -> Result<ReindexReport, KnowledgeError> + Send>;

/// The jobs of this process.
#[derive(Debug, Default)]
pub struct ReindexJobs {
    jobs: Mutex<VecDeque<Arc<Mutex<JobStatus>>>>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as u64)
        .unwrap_or(0)
}

impl ReindexJobs {
    /// Starts a full rebuild of `knowledge` on a blocking thread, through `rebuild` when
    /// given (else the base's own); [`JobError::Running`] while one runs. Returns the job as
    /// it starts.
    pub fn start(
        &self,
        knowledge: Arc<KnowledgeBase>,
        rebuild: Option<Rebuild>,
    ) -> Result<JobStatus, JobError> {
        let job = {
            let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(running) = jobs.iter().find(|job| {
                job.lock().unwrap_or_else(|p| p.into_inner()).state == JobState::Running
            }) {
                let id = running.lock().unwrap_or_else(|p| p.into_inner()).id.clone();
                return Err(JobError::Running { id });
            }
            let job = Arc::new(Mutex::new(JobStatus {
                id: crate::orchestrator::new_id(),
                state: JobState::Running,
                phase: "scanning",
                files_total: 0,
                files_scanned: 0,
                documents_total: 0,
                documents_indexed: 0,
                articles: None,
                activities: None,
                generation: None,
                errors: Vec::new(),
                failure: None,
                started_at_ms: now_ms(),
                finished_at_ms: None,
            }));
            jobs.push_back(job.clone());
            while jobs.len() > KEEP_FINISHED {
                let finished = jobs.iter().position(|job| {
                    job.lock().unwrap_or_else(|p| p.into_inner()).state != JobState::Running
                });
                match finished {
                    Some(index) => {
                        jobs.remove(index);
                    }
                    None => break,
                }
            }
            job
        };
        let started = job.lock().unwrap_or_else(|p| p.into_inner()).clone();
        tokio::task::spawn_blocking(move || run(&knowledge, rebuild, &job));
        Ok(started)
    }

    /// The job `id`, if this process remembers it.
    pub fn get(&self, id: &str) -> Option<JobStatus> {
        let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        jobs.iter()
            .map(|job| job.lock().unwrap_or_else(|p| p.into_inner()).clone())
            .find(|job| job.id == id)
    }

    /// Every remembered job, newest first.
    pub fn list(&self) -> Vec<JobStatus> {
        let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        jobs.iter()
            .rev()
            .map(|job| job.lock().unwrap_or_else(|p| p.into_inner()).clone())
            .collect()
    }
}

fn run(knowledge: &KnowledgeBase, rebuild: Option<Rebuild>, job: &Mutex<JobStatus>) {
    let root = knowledge.sources().map(|sources| sources.root.clone());
    let describe = |error: &IngestError| FileError::new(error, root.as_deref());
    let update = |change: &mut dyn FnMut(&mut JobStatus)| {
        change(&mut job.lock().unwrap_or_else(|p| p.into_inner()));
    };
    let mut on_progress = |progress: Progress| match progress {
        Progress::Scanning { total } => update(&mut |job| job.files_total = total),
        Progress::Scanned { .. } => update(&mut |job| job.files_scanned += 1),
        Progress::Indexing { total } => update(&mut |job| {
            job.phase = "indexing";
            job.documents_total = total;
        }),
        Progress::Indexed => update(&mut |job| job.documents_indexed += 1),
        Progress::Committing => update(&mut |job| job.phase = "committing"),
    };
    let result = match rebuild {
        Some(rebuild) => rebuild(&mut on_progress),
        None => knowledge.rebuild(&mut on_progress),
    };
    update(&mut |status| {
        status.phase = "done";
        status.finished_at_ms = Some(now_ms());
        match &result {
            Ok(report) => {
                status.state = JobState::Succeeded;
                status.articles = Some(report.articles);
                status.activities = Some(report.activities);
                status.generation = Some(report.generation.clone());
                status.errors = report.skipped.iter().map(describe).collect();
            }
            Err(error) => {
                status.state = JobState::Failed;
                status.failure = Some(error.to_string());
                if let crate::knowledge::KnowledgeError::EmptyCorpus { .. } = error {
                    // The per-file reasons of an empty corpus are in the scan; a fresh scan
                    // is cheap and tells the manager what to fix.
                    if let Some(sources) = knowledge.sources()
                        && let Ok(scan) = sources.scan(&mut |_| {})
                    {
                        status.errors = scan.errors.iter().map(describe).collect();
                    }
                }
            }
        }
    });
    match result {
        Ok(report) => tracing::info!(
            generation = %report.generation,
            skipped = report.skipped.len(),
            elapsed_ms = report.elapsed_ms,
            "reindex finished"
        ),
        Err(error) => tracing::warn!(%error, "reindex failed; the previous index keeps serving"),
    }
}
