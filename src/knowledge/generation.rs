//! One built index generation: the tantivy index with its long-lived reader, its field handles
//! and the rank keys decoded per segment, and the stored documents read back from it. It also
//! writes a set of documents into a fresh tantivy index, for a full rebuild (`index`) and for an
//! in-memory index (evaluation, tests). It sits below both `index`, which owns the data
//! directory and swaps generations, and `search`, which queries one generation.

use super::analyzers;
use super::schema::{Fields, parse_rank_key};
use super::{DocKind, Document, KnowledgeError};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tantivy::collector::TopDocs;
use tantivy::columnar::StrColumn;
use tantivy::index::SegmentId;
use tantivy::query::TermQuery;
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocId, Index, IndexReader, ReloadPolicy, SegmentReader, TantivyDocument, Term};

/// One built index: the tantivy index, its long-lived reader and the field handles.
pub struct Generation {
    pub name: String,
    pub index: Index,
    pub reader: IndexReader,
    pub fields: Fields,
    /// Decoded rank keys per segment, loaded on first use (segments are immutable).
    rank_keys: Mutex<HashMap<SegmentId, Arc<SegmentKeys>>>,
}

/// One decoded rank key (see [`Fields::rank_key`]).
#[derive(Debug, Clone)]
pub struct RankKey {
    pub language: Option<crate::lang::Language>,
    pub kind: DocKind,
    pub id: String,
    pub folded_title: String,
}

/// The rank keys of one segment: the column maps a document to ordinals of `keys`.
pub struct SegmentKeys {
    column: StrColumn,
    keys: Vec<RankKey>,
}

impl SegmentKeys {
    /// The rank keys of document `doc` of this segment.
    pub fn of(&self, doc: DocId) -> impl Iterator<Item = &RankKey> + '_ {
        self.column
            .term_ords(doc)
            .filter_map(|ord| self.keys.get(ord as usize))
    }
}

impl Generation {
    fn from_index(name: String, index: Index) -> Result<Generation, KnowledgeError> {
        analyzers::register(&index);
        let fields = Fields::from_schema(&index.schema()).map_err(KnowledgeError::Corrupt)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Generation {
            name,
            index,
            reader,
            fields,
            rank_keys: Mutex::new(HashMap::new()),
        })
    }

    /// The decoded rank keys of `segment`, decoding its dictionary once.
    pub fn segment_keys(
        &self,
        segment: &SegmentReader,
    ) -> Result<Arc<SegmentKeys>, KnowledgeError> {
        let id = segment.segment_id();
        if let Some(keys) = self
            .rank_keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&id)
        {
            return Ok(keys.clone());
        }
        let column = segment
            .fast_fields()
            .str("rank_key")?
            .ok_or_else(|| KnowledgeError::Corrupt("the index has no rank keys".to_string()))?;
        let mut keys = Vec::new();
        let mut stream = column
            .dictionary()
            .stream()
            .map_err(|error| KnowledgeError::Corrupt(error.to_string()))?;
        while stream.advance() {
            let value = String::from_utf8_lossy(stream.key());
            let Some(key) = parse_rank_key(&value) else {
                return Err(KnowledgeError::Corrupt(format!(
                    "malformed rank key {value:?}"
                )));
            };
            keys.push(RankKey {
                language: key.language,
                kind: key.kind,
                id: key.id.to_string(),
                folded_title: key.folded_title.to_string(),
            });
        }
        let keys = Arc::new(SegmentKeys { column, keys });
        let mut cache = self
            .rank_keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Forget segments merged away since, so the cache does not grow with upserts.
        let live: Vec<SegmentId> = self
            .reader
            .searcher()
            .segment_readers()
            .iter()
            .map(SegmentReader::segment_id)
            .collect();
        cache.retain(|segment_id, _| live.contains(segment_id));
        cache.insert(id, keys.clone());
        Ok(keys)
    }

    pub(super) fn open(dir: &Path, name: &str) -> Result<Generation, KnowledgeError> {
        let index = Index::open_in_dir(dir.join(name))?;
        Generation::from_index(name.to_string(), index)
    }

    /// Builds an index in memory from `documents` (evaluation, tests).
    pub fn in_memory(documents: &[Document]) -> Result<Generation, KnowledgeError> {
        let fields = Fields::new();
        let index = Index::create_in_ram(fields.schema.clone());
        analyzers::register(&index);
        write_all(&index, &fields, documents, &mut |_| {})?;
        Generation::from_index("memory".to_string(), index)
    }

    /// The stored document with `id` and `kind`, if any.
    pub fn get(&self, kind: DocKind, id: &str) -> Result<Option<Document>, KnowledgeError> {
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.fields.id, id),
            IndexRecordOption::Basic,
        );
        let top = searcher.search(&query, &TopDocs::with_limit(4).order_by_score())?;
        for (_, address) in top {
            let stored: TantivyDocument = searcher.doc(address)?;
            let document = payload(&self.fields, &stored)?;
            if document.kind() == kind {
                return Ok(Some(document));
            }
        }
        Ok(None)
    }

    /// Every stored document of `kind` (the activity catalogue is small; articles may not be).
    pub fn all(&self, kind: DocKind) -> Result<Vec<Document>, KnowledgeError> {
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.fields.kind, kind.tag()),
            IndexRecordOption::Basic,
        );
        let limit = (searcher.num_docs() as usize).max(1);
        let top = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score())?;
        let mut documents = Vec::with_capacity(top.len());
        for (_, address) in top {
            let stored: TantivyDocument = searcher.doc(address)?;
            documents.push(payload(&self.fields, &stored)?);
        }
        documents.sort_by(|a, b| a.id().cmp(b.id()));
        Ok(documents)
    }

    /// The number of searchable documents.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub(super) fn replace(
        &self,
        document: Option<&Document>,
        kind: DocKind,
        id: &str,
    ) -> Result<(), KnowledgeError> {
        let mut writer: tantivy::IndexWriter = self.index.writer_with_num_threads(1, 15_000_000)?;
        // Ids are unique per kind; an article and an activity may share one, so the delete
        // re-adds the other kind's document when there is one.
        let other = match kind {
            DocKind::Article => self.get(DocKind::Activity, id)?,
            DocKind::Activity => self.get(DocKind::Article, id)?,
        };
        writer.delete_term(Term::from_field_text(self.fields.id, id));
        if let Some(other) = other {
            writer.add_document(self.fields.to_tantivy(&other).map_err(corrupt)?)?;
        }
        if let Some(document) = document {
            writer.add_document(self.fields.to_tantivy(document).map_err(corrupt)?)?;
        }
        writer.commit()?;
        writer.wait_merging_threads()?;
        self.reader.reload()?;
        Ok(())
    }
}

fn corrupt(error: serde_json::Error) -> KnowledgeError {
    KnowledgeError::Corrupt(error.to_string())
}

/// What a step of a rebuild is doing, for progress display.
#[derive(Debug, Clone)]
pub enum Progress<'a> {
    Scanning { total: usize },
    Scanned { file: &'a Path },
    Indexing { total: usize },
    Indexed,
    Committing,
}

/// Writes `documents` into `index` and commits, reporting progress.
pub(super) fn write_all(
    index: &Index,
    fields: &Fields,
    documents: &[Document],
    progress: &mut dyn FnMut(Progress),
) -> Result<(), KnowledgeError> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4);
    let mut writer: tantivy::IndexWriter =
        index.writer_with_num_threads(threads, 64_000_000 * threads)?;
    progress(Progress::Indexing {
        total: documents.len(),
    });
    for document in documents {
        writer.add_document(fields.to_tantivy(document).map_err(corrupt)?)?;
        progress(Progress::Indexed);
    }
    progress(Progress::Committing);
    writer.commit()?;
    writer.wait_merging_threads()?;
    Ok(())
}

/// Reads one stored text value.
pub(crate) fn stored_text(doc: &TantivyDocument, field: tantivy::schema::Field) -> Option<&str> {
    doc.get_first(field).and_then(|value| value.as_str())
}

/// Decodes the stored JSON of a document.
pub fn payload(fields: &Fields, stored: &TantivyDocument) -> Result<Document, KnowledgeError> {
    let json = stored_text(stored, fields.payload)
        .ok_or_else(|| KnowledgeError::Corrupt("a document has no stored payload".to_string()))?;
    serde_json::from_str(json).map_err(|error| KnowledgeError::Corrupt(error.to_string()))
}
