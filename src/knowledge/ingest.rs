//! Reading the knowledge sources: Markdown articles with TOML front matter under
//! `articles/`, activities as TOML files under `activities/`, and JSONL article dumps (the
//! evaluation format). Every broken file becomes an [`IngestError`] naming the file, the line
//! when there is one, and the reason; the other files are still read.

use super::{Activity, Article, Document, KnowledgeError, Visibility};
use crate::lang::Language;
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The largest source file accepted; a bigger one is reported and skipped.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// One source file (or JSONL row) that could not be read into a document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IngestError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub reason: String,
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.reason),
            None => write!(f, "{}: {}", self.file.display(), self.reason),
        }
    }
}

impl IngestError {
    fn new(file: &Path, line: Option<usize>, reason: impl Into<String>) -> Self {
        IngestError {
            file: file.to_path_buf(),
            line,
            reason: reason.into(),
        }
    }
}

/// The knowledge source directory (`knowledge-index/` in the repository).
#[derive(Debug, Clone)]
pub struct Sources {
    pub root: PathBuf,
}

/// What a scan of the sources found.
#[derive(Debug, Default)]
pub struct Scan {
    pub documents: Vec<Document>,
    pub errors: Vec<IngestError>,
    pub files: usize,
}

impl Scan {
    pub fn articles(&self) -> usize {
        self.documents
            .iter()
            .filter(|doc| matches!(doc, Document::Article(_)))
            .count()
    }

    pub fn activities(&self) -> usize {
        self.documents.len() - self.articles()
    }
}

impl Sources {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Sources { root: root.into() }
    }

    pub fn articles_dir(&self) -> PathBuf {
        self.root.join("articles")
    }

    pub fn activities_dir(&self) -> PathBuf {
        self.root.join("activities")
    }

    /// Lists the source files, sorted so that scans (and duplicate reports) are stable.
    pub fn files(&self) -> Result<Vec<PathBuf>, KnowledgeError> {
        if !self.root.is_dir() {
            return Err(KnowledgeError::io(
                &self.root,
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "knowledge source directory not found",
                ),
            ));
        }
        let mut files = Vec::new();
        collect(&self.articles_dir(), "md", &mut files)?;
        collect(&self.activities_dir(), "toml", &mut files)?;
        files.sort();
        Ok(files)
    }

    /// Reads every source file, calling `progress` once per file.
    pub fn scan(&self, progress: &mut dyn FnMut(&Path)) -> Result<Scan, KnowledgeError> {
        let files = self.files()?;
        let mut scan = Scan {
            files: files.len(),
            ..Scan::default()
        };
        let mut seen: HashMap<String, PathBuf> = HashMap::new();
        for path in files {
            progress(&path);
            let relative = path.strip_prefix(&self.root).unwrap_or(&path).to_path_buf();
            let parsed = if path.extension().is_some_and(|ext| ext == "md") {
                read_article(&path, &relative).map(Document::Article)
            } else {
                read_activity(&path, &relative).map(Document::Activity)
            };
            match parsed {
                Ok(document) => {
                    let key = format!("{}:{}", document.kind().tag(), document.id());
                    if let Some(first) = seen.get(&key) {
                        scan.errors.push(IngestError::new(
                            &path,
                            None,
                            format!(
                                "duplicate id {:?}, already defined in {}",
                                document.id(),
                                first.display()
                            ),
                        ));
                        continue;
                    }
                    seen.insert(key, path.clone());
                    scan.documents.push(document);
                }
                Err(error) => scan.errors.push(error),
            }
        }
        Ok(scan)
    }
}

fn collect(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) -> Result<(), KnowledgeError> {
    if !dir.exists() {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|error| KnowledgeError::io(dir, error))?;
    for entry in entries {
        let entry = entry.map_err(|error| KnowledgeError::io(dir, error))?;
        let path = entry.path();
        let file_type = entry
            .file_type()
            .map_err(|error| KnowledgeError::io(&path, error))?;
        if file_type.is_dir() {
            collect(&path, extension, out)?;
        } else if path.extension().is_some_and(|ext| ext == extension)
            && !path
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with('.'))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads a file as UTF-8, reporting the line of the first invalid byte.
fn read_text(path: &Path) -> Result<String, IngestError> {
    let metadata =
        std::fs::metadata(path).map_err(|error| IngestError::new(path, None, error.to_string()))?;
    if metadata.len() > MAX_FILE_BYTES {
        return Err(IngestError::new(
            path,
            None,
            format!(
                "file is {} bytes, larger than the {} byte limit",
                metadata.len(),
                MAX_FILE_BYTES
            ),
        ));
    }
    let bytes =
        std::fs::read(path).map_err(|error| IngestError::new(path, None, error.to_string()))?;
    String::from_utf8(bytes).map_err(|error| {
        let valid = error.utf8_error().valid_up_to();
        let line = error.as_bytes()[..valid]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        IngestError::new(
            path,
            Some(line),
            format!("not valid UTF-8 (invalid byte at offset {valid})"),
        )
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

fn toml_error(path: &Path, text: &str, first_line: usize, error: toml::de::Error) -> IngestError {
    let line = error
        .span()
        .map(|span| first_line + line_of(text, span.start) - 1);
    let message = error.message().trim().to_string();
    IngestError::new(path, line.or(Some(first_line)), message)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    id: String,
    #[serde(default)]
    topic: Option<String>,
    title: String,
    language: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    visibility: Visibility,
    #[serde(default)]
    url: Option<String>,
}

/// Splits `+++\n<toml>\n+++\n<body>`; returns the front matter, the line it starts on, and
/// the body.
fn split_front_matter<'a>(path: &Path, text: &'a str) -> Result<(&'a str, &'a str), IngestError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text
        .strip_prefix("+++\n")
        .or_else(|| text.strip_prefix("+++\r\n"))
    else {
        return Err(IngestError::new(
            path,
            Some(1),
            "missing front matter: the file must start with a line `+++`",
        ));
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "+++" {
            let front = &rest[..offset];
            let body = &rest[offset + line.len()..];
            return Ok((front, body));
        }
        offset += line.len();
    }
    Err(IngestError::new(
        path,
        Some(1),
        "front matter is not closed: no line `+++` after the opening one",
    ))
}

fn require(path: &Path, line: usize, name: &str, value: &str) -> Result<(), IngestError> {
    if value.trim().is_empty() {
        return Err(IngestError::new(
            path,
            Some(line),
            format!("missing {name}: it must not be empty"),
        ));
    }
    Ok(())
}

fn key_line(front: &str, key: &str) -> usize {
    front
        .lines()
        .position(|line| line.trim_start().starts_with(key))
        .map(|index| index + 2)
        .unwrap_or(2)
}

/// Parses one article file. `relative` is recorded as its source path.
pub fn read_article(path: &Path, relative: &Path) -> Result<Article, IngestError> {
    let text = read_text(path)?;
    parse_article(path, &text, relative)
}

/// Parses article text (front matter and Markdown body).
pub fn parse_article(path: &Path, text: &str, relative: &Path) -> Result<Article, IngestError> {
    let (front, body) = split_front_matter(path, text)?;
    let meta: FrontMatter =
        toml::from_str(front).map_err(|error| toml_error(path, front, 2, error))?;
    require(path, key_line(front, "id"), "id", &meta.id)?;
    require(path, key_line(front, "title"), "title", &meta.title)?;
    let language: Language =
        meta.language
            .parse()
            .map_err(|error: crate::lang::UnknownLanguage| {
                IngestError::new(path, Some(key_line(front, "language")), error.to_string())
            })?;
    if meta.id.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(IngestError::new(
            path,
            Some(key_line(front, "id")),
            format!(
                "id {:?} must not contain spaces or control characters",
                meta.id
            ),
        ));
    }
    Ok(Article {
        id: meta.id,
        topic: meta.topic,
        title: meta.title.trim().to_string(),
        language,
        summary: meta.summary.trim().to_string(),
        body: body.trim().to_string(),
        tags: meta.tags,
        visibility: meta.visibility,
        url: meta.url,
        source_path: Some(relative.to_path_buf()),
    })
}

/// Renders an article back into its source form (front matter and body).
pub fn render_article(article: &Article) -> String {
    #[derive(serde::Serialize)]
    struct Out<'a> {
        id: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        topic: Option<&'a str>,
        title: &'a str,
        language: &'a str,
        summary: &'a str,
        tags: &'a [String],
        visibility: &'a Visibility,
        #[serde(skip_serializing_if = "Option::is_none")]
        url: Option<&'a str>,
    }
    let front = toml::to_string(&Out {
        id: &article.id,
        topic: article.topic.as_deref(),
        title: &article.title,
        language: article.language.tag(),
        summary: &article.summary,
        tags: &article.tags,
        visibility: &article.visibility,
        url: article.url.as_deref(),
    })
    .unwrap_or_default();
    format!("+++\n{front}+++\n{}\n", article.body.trim())
}

/// Parses one activity file.
pub fn read_activity(path: &Path, relative: &Path) -> Result<Activity, IngestError> {
    let text = read_text(path)?;
    parse_activity(path, &text, relative)
}

/// Parses activity text (TOML).
pub fn parse_activity(path: &Path, text: &str, relative: &Path) -> Result<Activity, IngestError> {
    let mut activity: Activity =
        toml::from_str(text).map_err(|error| toml_error(path, text, 1, error))?;
    require(
        path,
        key_line(text, "id").saturating_sub(1),
        "id",
        &activity.id,
    )?;
    if activity.name.languages().next().is_none() {
        return Err(IngestError::new(
            path,
            Some(key_line(text, "[name]").saturating_sub(1).max(1)),
            "missing name: give it in at least one of pt-BR, es, en",
        ));
    }
    activity.source_path = Some(relative.to_path_buf());
    Ok(activity)
}

/// Checks that `document` passes the rules its source file is read with, so that what an
/// upsert writes is not skipped by the next full rebuild.
pub fn validate(document: &Document) -> Result<(), KnowledgeError> {
    check_names(document)?;
    let label = Path::new(document.id());
    let checked = match document {
        Document::Article(article) => {
            parse_article(label, &render_article(article), label).map(|_| ())
        }
        Document::Activity(activity) => {
            let mut without_path = activity.clone();
            without_path.source_path = None;
            let text = toml::to_string(&without_path)
                .map_err(|error| KnowledgeError::Invalid(error.to_string()))?;
            parse_activity(label, &text, label).map(|_| ())
        }
    };
    checked.map_err(|error| {
        KnowledgeError::Invalid(format!(
            "{} {:?}: {}",
            document.kind().tag(),
            document.id(),
            error.reason
        ))
    })
}

/// Longest document id, tag or visibility group, in bytes: an id becomes a source file's
/// name, which file systems cap at 255 bytes; the store's bound leaves room for the extension
/// and the temporary suffix of an atomic write.
pub const MAX_NAME_BYTES: usize = crate::store::MAX_ID_LEN;

/// Refuses a document whose id, tags or visibility groups are longer than [`MAX_NAME_BYTES`].
fn check_names(document: &Document) -> Result<(), KnowledgeError> {
    let (tags, visibility) = match document {
        Document::Article(article) => (article.tags.as_slice(), &article.visibility),
        Document::Activity(activity) => (&[][..], &activity.visibility),
    };
    let groups = match visibility {
        super::Visibility::Groups(groups) => groups.as_slice(),
        super::Visibility::Public => &[],
    };
    let names = std::iter::once(("id", document.id()))
        .chain(tags.iter().map(|tag| ("tag", tag.as_str())))
        .chain(groups.iter().map(|group| ("group", group.as_str())));
    for (what, name) in names {
        if name.len() > MAX_NAME_BYTES {
            return Err(KnowledgeError::Invalid(format!(
                "{} {what} {:.40}... is longer than {MAX_NAME_BYTES} bytes",
                document.kind().tag(),
                name
            )));
        }
    }
    Ok(())
}

#[derive(Deserialize)]
struct JsonArticle {
    id: String,
    title: String,
    #[serde(default)]
    body: String,
    language: String,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    visibility: Option<Visibility>,
}

/// Reads a JSONL dump of articles (`{"id","title","body","language",...}` per line).
pub fn read_jsonl_articles(
    path: &Path,
) -> Result<(Vec<Article>, Vec<IngestError>), KnowledgeError> {
    let text = std::fs::read_to_string(path).map_err(|error| KnowledgeError::io(path, error))?;
    let mut articles = Vec::new();
    let mut errors = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: JsonArticle = match serde_json::from_str(line) {
            Ok(row) => row,
            Err(error) => {
                errors.push(IngestError::new(path, Some(index + 1), error.to_string()));
                continue;
            }
        };
        let language = match row.language.parse::<Language>() {
            Ok(language) => language,
            Err(error) => {
                errors.push(IngestError::new(path, Some(index + 1), error.to_string()));
                continue;
            }
        };
        articles.push(Article {
            id: row.id,
            topic: None,
            title: row.title,
            language,
            summary: row.summary.unwrap_or_default(),
            body: row.body,
            tags: row.tags,
            visibility: row.visibility.unwrap_or_default(),
            url: row.url,
            source_path: None,
        });
    }
    Ok((articles, errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "+++\nid = \"vpn.en\"\ntitle = \"Connect to the VPN\"\nlanguage = \"en\"\nvisibility = [\"it-staff\"]\n+++\nOpen the client.\n";

    #[test]
    fn parses_front_matter_and_body() {
        let article = parse_article(Path::new("a.md"), GOOD, Path::new("a.md")).unwrap();
        assert_eq!(article.id, "vpn.en");
        assert_eq!(article.language, Language::En);
        assert_eq!(article.body, "Open the client.");
        assert_eq!(
            article.visibility,
            Visibility::Groups(vec!["it-staff".into()])
        );
    }

    #[test]
    fn reports_missing_title_with_line() {
        let text = "+++\nid = \"x\"\ntitle = \"\"\nlanguage = \"en\"\n+++\nbody";
        let error = parse_article(Path::new("x.md"), text, Path::new("x.md")).unwrap_err();
        assert_eq!(error.line, Some(3));
        assert!(error.reason.contains("missing title"), "{error}");
    }

    #[test]
    fn reports_unknown_language_with_line() {
        let text = "+++\nid = \"x\"\ntitle = \"T\"\nlanguage = \"fr\"\n+++\nbody";
        let error = parse_article(Path::new("x.md"), text, Path::new("x.md")).unwrap_err();
        assert_eq!(error.line, Some(4));
        assert!(error.reason.contains("unknown language"), "{error}");
    }

    #[test]
    fn reports_malformed_front_matter_line() {
        let text = "+++\nid = \"x\"\ntitle = \"T\nlanguage = \"en\"\n+++\nbody";
        let error = parse_article(Path::new("x.md"), text, Path::new("x.md")).unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
    }

    #[test]
    fn reports_unclosed_front_matter() {
        let text = "+++\nid = \"x\"\n";
        let error = parse_article(Path::new("x.md"), text, Path::new("x.md")).unwrap_err();
        assert!(error.reason.contains("not closed"), "{error}");
    }

    #[test]
    fn rendered_article_parses_back() {
        let article = parse_article(Path::new("a.md"), GOOD, Path::new("a.md")).unwrap();
        let again = parse_article(
            Path::new("a.md"),
            &render_article(&article),
            Path::new("a.md"),
        )
        .unwrap();
        assert_eq!(article, again);
    }
}
