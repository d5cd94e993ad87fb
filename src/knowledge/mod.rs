//! Knowledge articles and service activities: what they are, where their sources live,
//! and the tantivy index that answers "which of them match this text for this requester".
//!
//! `schema` fixes the index fields, `analyzers` the per-language text pipelines, `ingest`
//! reads and validates the source files, `generation` is one built index (reader, rank keys,
//! stored documents), `index` owns the data directory (generations, atomic swap, locking,
//! single-document upserts) and `search` builds queries and re-ranks.

pub mod analyzers;
pub mod generation;
pub mod index;
pub mod ingest;
pub mod links;
pub mod schema;
pub mod search;
#[cfg(feature = "devtools")]
pub mod synthetic;

use crate::lang::Language;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

pub use index::{KnowledgeBase, ReindexReport};
pub use ingest::{IngestError, Sources};
pub use search::{Hit, SearchRequest};

/// Who may read a document: everyone, or members of at least one of the listed groups.
/// In files it is the string `"public"` or an array of group names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Visibility {
    #[default]
    Public,
    Groups(Vec<String>),
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum RawVisibility {
    Tag(String),
    Groups(Vec<String>),
}

/// How [`Visibility`] is written, for the API document: `"public"` or a list of group names.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum VisibilitySchema {
    Public(String),
    Groups(Vec<String>),
}

impl Serialize for Visibility {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Visibility::Public => serializer.serialize_str("public"),
            Visibility::Groups(groups) => groups.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Visibility {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match RawVisibility::deserialize(deserializer)? {
            RawVisibility::Tag(tag) if tag == "public" => Ok(Visibility::Public),
            RawVisibility::Tag(tag) => Err(serde::de::Error::custom(format!(
                "visibility must be \"public\" or a list of groups, got {tag:?}"
            ))),
            RawVisibility::Groups(groups) if groups.is_empty() => Err(serde::de::Error::custom(
                "visibility lists no group: use \"public\" or name at least one group",
            )),
            // "public" among the groups makes the document public, as the index reads it.
            RawVisibility::Groups(groups) if groups.iter().any(|g| g == "public") => {
                Ok(Visibility::Public)
            }
            RawVisibility::Groups(groups) => Ok(Visibility::Groups(groups)),
        }
    }
}

impl Visibility {
    /// Whether a requester belonging to `groups` may read the document.
    pub fn allows(&self, groups: &[String]) -> bool {
        match self {
            Visibility::Public => true,
            Visibility::Groups(allowed) => allowed.iter().any(|group| groups.contains(group)),
        }
    }
}

/// A knowledge article, one Markdown file with TOML front matter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Article {
    pub id: String,
    #[serde(default)]
    pub topic: Option<String>,
    pub title: String,
    /// `pt-BR`, `es` or `en`.
    #[schema(value_type = String)]
    pub language: Language,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    #[schema(value_type = VisibilitySchema)]
    pub visibility: Visibility,
    #[serde(default)]
    pub url: Option<String>,
    /// The source file this article came from, relative to the knowledge directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub source_path: Option<PathBuf>,
}

/// Text given once per language.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PerLanguage<T> {
    #[serde(rename = "pt-BR", default, skip_serializing_if = "Option::is_none")]
    pub pt_br: Option<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub es: Option<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<T>,
}

impl<T> PerLanguage<T> {
    pub fn get(&self, language: Language) -> Option<&T> {
        match language {
            Language::PtBr => self.pt_br.as_ref(),
            Language::Es => self.es.as_ref(),
            Language::En => self.en.as_ref(),
        }
    }

    /// The value in `language`, else the first one present (pt-BR, es, en order).
    pub fn get_or_any(&self, language: Language) -> Option<&T> {
        self.get(language)
            .or(self.pt_br.as_ref())
            .or(self.es.as_ref())
            .or(self.en.as_ref())
    }

    /// The slot of `language`, to set or change.
    pub fn slot_mut(&mut self, language: Language) -> &mut Option<T> {
        match language {
            Language::PtBr => &mut self.pt_br,
            Language::Es => &mut self.es,
            Language::En => &mut self.en,
        }
    }

    pub fn languages(&self) -> impl Iterator<Item = Language> + '_ {
        Language::ALL
            .into_iter()
            .filter(|language| self.get(*language).is_some())
    }
}

/// A service-catalogue item that a ticket is opened for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Activity {
    pub id: String,
    pub name: PerLanguage<String>,
    #[serde(default)]
    pub description: PerLanguage<String>,
    #[serde(default)]
    pub examples: PerLanguage<Vec<String>>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub contract: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    #[schema(value_type = VisibilitySchema)]
    pub visibility: Visibility,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub source_path: Option<PathBuf>,
}

/// What a document in the index is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    Article,
    Activity,
}

impl DocKind {
    pub fn tag(self) -> &'static str {
        match self {
            DocKind::Article => "article",
            DocKind::Activity => "activity",
        }
    }
}

/// A document as the index stores it: an article or an activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Document {
    Article(Article),
    Activity(Activity),
}

impl Document {
    pub fn id(&self) -> &str {
        match self {
            Document::Article(article) => &article.id,
            Document::Activity(activity) => &activity.id,
        }
    }

    pub fn kind(&self) -> DocKind {
        match self {
            Document::Article(_) => DocKind::Article,
            Document::Activity(_) => DocKind::Activity,
        }
    }

    pub fn visibility(&self) -> &Visibility {
        match self {
            Document::Article(article) => &article.visibility,
            Document::Activity(activity) => &activity.visibility,
        }
    }

    /// The title (articles) or name (activities) in `language`, else any.
    pub fn title(&self, language: Language) -> &str {
        match self {
            Document::Article(article) => &article.title,
            Document::Activity(activity) => activity
                .name
                .get_or_any(language)
                .map(String::as_str)
                .unwrap_or(&activity.id),
        }
    }

    pub fn source_path(&self) -> Option<&PathBuf> {
        match self {
            Document::Article(article) => article.source_path.as_ref(),
            Document::Activity(activity) => activity.source_path.as_ref(),
        }
    }
}

/// Errors of the knowledge subsystem.
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error("search index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("i/o error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the knowledge sources yielded no article and no activity ({skipped} file(s) skipped)")]
    EmptyCorpus { skipped: usize },
    #[error("no knowledge index has been built in {0}; run `ponte reindex`")]
    NoIndex(PathBuf),
    #[error("invalid document: {0}")]
    Invalid(String),
    #[error("unknown document id {0:?}")]
    UnknownId(String),
    #[error("stored document is corrupt: {0}")]
    Corrupt(String),
    /// A change made here that the other nodes could not be told of (the store failed).
    #[error("the change is kept on this node but could not be shared with the other nodes: {0}")]
    NotShared(String),
}

impl KnowledgeError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        KnowledgeError::Io {
            path: path.into(),
            source,
        }
    }
}

impl crate::fault::Coded for KnowledgeError {
    fn kind(&self) -> crate::fault::ErrorKind {
        use crate::fault::ErrorKind as K;
        match self {
            KnowledgeError::UnknownId(_) => K::NotFound,
            KnowledgeError::Invalid(_) => K::Unprocessable,
            KnowledgeError::NoIndex(_) => K::Unavailable,
            KnowledgeError::Index(_)
            | KnowledgeError::Io { .. }
            | KnowledgeError::EmptyCorpus { .. }
            | KnowledgeError::Corrupt(_)
            | KnowledgeError::NotShared(_) => K::Internal,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            KnowledgeError::Index(_) => "index_error",
            KnowledgeError::Io { .. } => "io_error",
            KnowledgeError::EmptyCorpus { .. } => "empty_corpus",
            KnowledgeError::NoIndex(_) => "index_unavailable",
            KnowledgeError::Invalid(_) => "invalid_document",
            KnowledgeError::UnknownId(_) => "unknown_document",
            KnowledgeError::Corrupt(_) => "corrupt_document",
            KnowledgeError::NotShared(_) => "not_shared",
        }
    }
}
