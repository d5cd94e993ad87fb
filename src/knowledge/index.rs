//! The knowledge index on disk and in memory. A data directory holds index generations
//! (`gen-<millis>-<pid>/`) and a `CURRENT` file naming the one that serves. A full rebuild
//! writes a fresh generation and then replaces `CURRENT` with an atomic rename, so readers
//! never see a half-built index and a failed rebuild leaves the old one serving. A lock
//! file serialises writers across processes (`ponte serve` and `ponte reindex` may share a
//! directory); readers never take it.

use super::analyzers;
use super::generation::write_all;
use super::ingest::{IngestError, Sources, render_article};
use super::schema::Fields;
use super::search::{self, Hit, SearchRequest};
use super::{DocKind, Document, KnowledgeError};
use serde::Serialize;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tantivy::Index;

pub use super::generation::{Generation, Progress};

const CURRENT: &str = "CURRENT";
const LOCK: &str = "ponte.lock";
const SOURCES_STAMP: &str = "ponte-sources.txt";
/// The last change of the shared knowledge log applied to this directory's sources.
const LOG_POSITION: &str = "knowledge-log-position";
/// The version of the index layout (schema, analyzers, rank keys).
const INDEX_FORMAT: u32 = 2;
/// Generations kept besides the current one, so a process still reading the previous
/// generation is not pulled from under it.
const KEEP_PREVIOUS: usize = 1;

/// The outcome of a full rebuild.
#[derive(Debug, Clone, Serialize)]
pub struct ReindexReport {
    pub generation: String,
    pub files: usize,
    pub articles: usize,
    pub activities: usize,
    pub skipped: Vec<IngestError>,
    pub elapsed_ms: u64,
}

/// The knowledge base a process serves from: the current generation, swapped when a
/// rebuild (here or in another process) replaces it.
pub struct KnowledgeBase {
    root: Option<PathBuf>,
    sources: Option<Sources>,
    current: RwLock<Arc<Generation>>,
    /// Bumped whenever what is served changes (a swap, an upsert, a delete), so whoever
    /// derived something from the documents (the matcher) knows to redo it.
    version: std::sync::atomic::AtomicU64,
    /// Which article a portal address names (see [`super::links`]).
    pub(super) links: super::links::ArticleLinks,
}

impl KnowledgeBase {
    /// Serves a fixed in-memory index (no data directory, no sources).
    pub fn from_generation(generation: Generation) -> KnowledgeBase {
        KnowledgeBase {
            root: None,
            sources: None,
            current: RwLock::new(Arc::new(generation)),
            version: Default::default(),
            links: Default::default(),
        }
    }

    /// Opens the current generation under `root`.
    pub fn open(root: &Path, sources: Option<Sources>) -> Result<KnowledgeBase, KnowledgeError> {
        let name =
            read_current(root)?.ok_or_else(|| KnowledgeError::NoIndex(root.to_path_buf()))?;
        let generation = Generation::open(root, &name)?;
        Ok(KnowledgeBase {
            root: Some(root.to_path_buf()),
            sources,
            current: RwLock::new(Arc::new(generation)),
            version: Default::default(),
            links: Default::default(),
        })
    }

    /// Opens the current generation, first rebuilding it from `sources` when there is none
    /// or when the source files changed since it was built.
    pub fn open_or_build(
        root: &Path,
        sources: Sources,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(KnowledgeBase, Option<ReindexReport>), KnowledgeError> {
        let fresh = match read_current(root)? {
            Some(name) => {
                let stamp = fs::read_to_string(root.join(&name).join(SOURCES_STAMP)).ok();
                stamp.is_some() && stamp == Some(sources_stamp(&sources)?)
            }
            None => false,
        };
        let report = if fresh {
            None
        } else {
            Some(rebuild(root, &sources, progress)?)
        };
        Ok((KnowledgeBase::open(root, Some(sources))?, report))
    }

    /// The generation serving now; hold it for the length of one request.
    pub fn generation(&self) -> Arc<Generation> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Switches to the generation named in `CURRENT` when it changed. Returns whether it did.
    pub fn refresh(&self) -> Result<bool, KnowledgeError> {
        let Some(root) = &self.root else {
            return Ok(false);
        };
        let Some(name) = read_current(root)? else {
            return Ok(false);
        };
        if name == self.generation().name {
            return Ok(false);
        }
        let generation = Arc::new(Generation::open(root, &name)?);
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = generation;
        self.bump();
        tracing::info!(generation = %name, "knowledge index swapped in");
        Ok(true)
    }

    /// Changes whenever the served documents change.
    pub fn version(&self) -> u64 {
        self.version.load(std::sync::atomic::Ordering::Acquire)
    }

    fn bump(&self) {
        self.version
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// Ranked documents for one request (blocking: call it off the async threads).
    pub fn search(&self, request: &SearchRequest) -> Result<Vec<Hit>, KnowledgeError> {
        search::search(&self.generation(), request)
    }

    pub fn get(&self, kind: DocKind, id: &str) -> Result<Option<Document>, KnowledgeError> {
        self.generation().get(kind, id)
    }

    /// The data directory holding the generations (none for an in-memory base).
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    pub fn sources(&self) -> Option<&Sources> {
        self.sources.as_ref()
    }

    /// Runs a full rebuild from this base's sources and swaps it in.
    pub fn rebuild(
        &self,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ReindexReport, KnowledgeError> {
        let (Some(root), Some(sources)) = (&self.root, &self.sources) else {
            return Err(KnowledgeError::Invalid(
                "this knowledge base has no data directory to rebuild into".to_string(),
            ));
        };
        let report = rebuild(root, sources, progress)?;
        self.refresh()?;
        Ok(report)
    }

    /// Inserts or replaces one document: its source file first (so the next full rebuild
    /// keeps it), then the serving index.
    pub fn upsert(&self, document: Document) -> Result<Document, KnowledgeError> {
        super::ingest::validate(&document)?;
        let _lock = self.lock()?;
        self.refresh()?;
        let generation = self.generation();
        let previous = generation.get(document.kind(), document.id())?;
        let document = self.write_source(document, previous.as_ref())?;
        generation.replace(Some(&document), document.kind(), document.id())?;
        self.bump();
        Ok(document)
    }

    /// Deletes one document from the sources and the serving index.
    pub fn delete(&self, kind: DocKind, id: &str) -> Result<Document, KnowledgeError> {
        let _lock = self.lock()?;
        self.refresh()?;
        let generation = self.generation();
        let Some(previous) = generation.get(kind, id)? else {
            return Err(KnowledgeError::UnknownId(id.to_string()));
        };
        if let (Some(sources), Some(relative)) = (&self.sources, previous.source_path()) {
            let path = sources.root.join(relative);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(KnowledgeError::io(path, error)),
            }
        }
        generation.replace(None, kind, id)?;
        self.bump();
        Ok(previous)
    }

    /// The last change of the shared knowledge log applied here (0: none, or no data
    /// directory): where a restarted node goes on following the log.
    pub fn log_position(&self) -> Result<i64, KnowledgeError> {
        let Some(root) = &self.root else {
            return Ok(0);
        };
        let path = root.join(LOG_POSITION);
        match fs::read_to_string(&path) {
            Ok(text) => text.trim().parse().map_err(|_| {
                KnowledgeError::Corrupt(format!("{} holds no position", path.display()))
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(error) => Err(KnowledgeError::io(path, error)),
        }
    }

    /// Records that the shared knowledge log was applied up to `seq` (nothing without a
    /// data directory).
    pub fn set_log_position(&self, seq: i64) -> Result<(), KnowledgeError> {
        match &self.root {
            Some(root) => write_atomically(&root.join(LOG_POSITION), seq.to_string().as_bytes()),
            None => Ok(()),
        }
    }

    fn lock(&self) -> Result<Option<File>, KnowledgeError> {
        match &self.root {
            Some(root) => lock(root).map(Some),
            None => Ok(None),
        }
    }

    fn write_source(
        &self,
        document: Document,
        previous: Option<&Document>,
    ) -> Result<Document, KnowledgeError> {
        let Some(sources) = &self.sources else {
            return Ok(document);
        };
        let relative = previous
            .and_then(Document::source_path)
            .cloned()
            .unwrap_or_else(|| default_source_path(&document));
        let path = sources.root.join(&relative);
        let (document, text) = match document {
            Document::Article(mut article) => {
                article.source_path = Some(relative);
                let text = render_article(&article);
                (Document::Article(article), text)
            }
            Document::Activity(mut activity) => {
                activity.source_path = None;
                let text = toml::to_string(&activity)
                    .map_err(|error| KnowledgeError::Invalid(error.to_string()))?;
                activity.source_path = Some(relative);
                (Document::Activity(activity), text)
            }
        };
        write_atomically(&path, text.as_bytes())?;
        Ok(document)
    }
}

/// Where a new document's source file goes: ids become file names, with anything that is
/// not a safe file-name character replaced.
fn default_source_path(document: &Document) -> PathBuf {
    let safe: String = document
        .id()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = safe.trim_start_matches('.').to_string();
    match document {
        Document::Article(article) => PathBuf::from("articles")
            .join(article.language.tag())
            .join(format!("{safe}.md")),
        Document::Activity(_) => PathBuf::from("activities").join(format!("{safe}.toml")),
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), KnowledgeError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|error| KnowledgeError::io(dir, error))?;
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut file = File::create(&tmp).map_err(|error| KnowledgeError::io(&tmp, error))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|error| KnowledgeError::io(&tmp, error))?;
    fs::rename(&tmp, path).map_err(|error| KnowledgeError::io(path, error))?;
    if let Ok(dir_handle) = File::open(dir) {
        let _ = dir_handle.sync_all();
    }
    Ok(())
}

fn read_current(root: &Path) -> Result<Option<String>, KnowledgeError> {
    match fs::read_to_string(root.join(CURRENT)) {
        Ok(name) => {
            let name = name.trim().to_string();
            if name.is_empty() || name.contains('/') || name.contains("..") {
                return Err(KnowledgeError::Corrupt(format!(
                    "{} names no valid generation",
                    root.join(CURRENT).display()
                )));
            }
            Ok(Some(name))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(KnowledgeError::io(root.join(CURRENT), error)),
    }
}

/// Takes the cross-process writer lock of `root` (blocking until it is free).
fn lock(root: &Path) -> Result<File, KnowledgeError> {
    fs::create_dir_all(root).map_err(|error| KnowledgeError::io(root, error))?;
    let path = root.join(LOCK);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|error| KnowledgeError::io(&path, error))?;
    file.lock()
        .map_err(|error| KnowledgeError::io(&path, error))?;
    Ok(file)
}

/// A fingerprint of the source files (paths, sizes, modification times).
fn sources_stamp(sources: &Sources) -> Result<String, KnowledgeError> {
    // The index format changes when fields or analyzers do: bump it so that a server
    // started on an index built by an older Ponte rebuilds it.
    let mut stamp = format!("format\t{INDEX_FORMAT}\n");
    for path in sources.files()? {
        let metadata = fs::metadata(&path).map_err(|error| KnowledgeError::io(&path, error))?;
        let modified = metadata
            .modified()
            .ok()
            .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
            .unwrap_or_default();
        stamp.push_str(&format!(
            "{}\t{}\t{}\n",
            path.display(),
            metadata.len(),
            modified.as_nanos()
        ));
    }
    Ok(stamp)
}

/// Rebuilds the index under `root` from `sources` into a fresh generation and swaps it in.
/// Broken files are reported in the result and skipped; when nothing at all could be
/// read, the old generation keeps serving and an error is returned.
pub fn rebuild(
    root: &Path,
    sources: &Sources,
    progress: &mut dyn FnMut(Progress),
) -> Result<ReindexReport, KnowledgeError> {
    let started = Instant::now();
    let _lock = lock(root)?;
    let stamp = sources_stamp(sources)?;
    let files = sources.files()?;
    progress(Progress::Scanning { total: files.len() });
    let scan = sources.scan(&mut |file| progress(Progress::Scanned { file }))?;
    if scan.documents.is_empty() {
        return Err(KnowledgeError::EmptyCorpus {
            skipped: scan.errors.len(),
        });
    }
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis();
    let name = format!("gen-{millis}-{}", std::process::id());
    let dir = root.join(&name);
    fs::create_dir_all(&dir).map_err(|error| KnowledgeError::io(&dir, error))?;
    let built = (|| {
        let fields = Fields::new();
        let index = Index::create_in_dir(&dir, fields.schema.clone())?;
        analyzers::register(&index);
        write_all(&index, &fields, &scan.documents, progress)?;
        write_atomically(&dir.join(SOURCES_STAMP), stamp.as_bytes())
    })();
    if let Err(error) = built {
        let _ = fs::remove_dir_all(&dir);
        return Err(error);
    }
    write_atomically(&root.join(CURRENT), name.as_bytes())?;
    remove_old_generations(root, &name);
    Ok(ReindexReport {
        generation: name,
        files: scan.files,
        articles: scan.articles(),
        activities: scan.activities(),
        skipped: scan.errors,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

fn remove_old_generations(root: &Path, current: &str) {
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    let mut generations: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("gen-") && name != current)
        .collect();
    // Names sort by build time: gen-<millis>-<pid>.
    generations.sort_by_key(|name| {
        name.split('-')
            .nth(1)
            .and_then(|millis| millis.parse::<u128>().ok())
            .unwrap_or(0)
    });
    let remove = generations.len().saturating_sub(KEEP_PREVIOUS);
    for name in &generations[..remove] {
        if let Err(error) = fs::remove_dir_all(root.join(name)) {
            tracing::warn!(generation = %name, %error, "could not remove an old index generation");
        }
    }
}
