//! The index schema, in one place: field names, which analyzer each text field uses, how
//! much a match in it weighs, and the conversion of a [`Document`] into a tantivy document.

use super::analyzers::{PAIR_WORDS, PAIRS, PLAIN, fold, stemmed_name, word_pairs};
use super::{DocKind, Document, Visibility};
use crate::lang::Language;
use tantivy::TantivyDocument;
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

/// The token stored in the visibility field of a public document.
pub const PUBLIC: &str = "public";

/// The stemmed text fields of one language.
#[derive(Debug, Clone, Copy)]
pub struct LanguageFields {
    pub language: Language,
    pub title: Field,
    pub summary: Field,
    pub body: Field,
}

/// Handles to every field of the schema.
#[derive(Debug, Clone)]
pub struct Fields {
    pub schema: Schema,
    pub id: Field,
    pub kind: Field,
    pub language: Field,
    pub visibility: Field,
    pub title_plain: Field,
    pub tags: Field,
    /// Word pairs of the opening of the body (summary included), unstemmed.
    pub body_pairs: Field,
    pub per_language: [LanguageFields; 3],
    /// The whole document as JSON, so a hit can be shown without another lookup.
    pub payload: Field,
    /// A columnar (fast) value per language: `lang \x1f kind \x1f id \x1f folded title`, read while
    /// re-ranking candidates without touching the compressed document store.
    pub rank_key: Field,
}

fn text(analyzer: &str) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(analyzer)
            .set_index_option(IndexRecordOption::WithFreqs),
    )
}

impl Fields {
    pub fn new() -> Fields {
        let mut builder = Schema::builder();
        let id = builder.add_text_field("id", STRING | STORED);
        let kind = builder.add_text_field("kind", STRING | STORED);
        let language = builder.add_text_field("language", STRING | STORED);
        let visibility = builder.add_text_field("visibility", STRING);
        let title_plain = builder.add_text_field("title_plain", text(PLAIN));
        let tags = builder.add_text_field("tags", text(PLAIN));
        let body_pairs = builder.add_text_field("body_pairs", text(PAIRS));
        let per_language = Language::ALL.map(|lang| {
            let suffix = match lang {
                Language::PtBr => "pt",
                Language::Es => "es",
                Language::En => "en",
            };
            let analyzer = stemmed_name(lang);
            LanguageFields {
                language: lang,
                title: builder.add_text_field(&format!("title_{suffix}"), text(analyzer)),
                summary: builder.add_text_field(&format!("summary_{suffix}"), text(analyzer)),
                body: builder.add_text_field(&format!("body_{suffix}"), text(analyzer)),
            }
        });
        let payload = builder.add_text_field("payload", STORED);
        let rank_key = builder.add_text_field("rank_key", TextOptions::default().set_fast("raw"));
        Fields {
            schema: builder.build(),
            id,
            kind,
            language,
            visibility,
            title_plain,
            tags,
            body_pairs,
            per_language,
            payload,
            rank_key,
        }
    }

    /// Rebuilds the handles from an existing index's schema, checking it is ours.
    pub fn from_schema(schema: &Schema) -> Result<Fields, String> {
        let expected = Fields::new();
        if expected.schema != *schema {
            return Err("the index on disk has another schema; run `ponte reindex`".to_string());
        }
        Ok(expected)
    }

    pub fn for_language(&self, language: Language) -> &LanguageFields {
        &self.per_language[Language::ALL
            .iter()
            .position(|candidate| *candidate == language)
            .unwrap_or(0)]
    }

    /// Converts a document into its indexed form.
    pub fn to_tantivy(&self, document: &Document) -> Result<TantivyDocument, serde_json::Error> {
        let mut doc = TantivyDocument::default();
        doc.add_text(self.id, document.id());
        doc.add_text(self.kind, document.kind().tag());
        match document.visibility() {
            Visibility::Public => doc.add_text(self.visibility, PUBLIC),
            Visibility::Groups(groups) => {
                for group in groups {
                    doc.add_text(self.visibility, group);
                }
            }
        }
        match document {
            Document::Article(article) => {
                let fields = self.for_language(article.language);
                doc.add_text(self.language, article.language.tag());
                doc.add_text(
                    self.rank_key,
                    rank_key(
                        article.language,
                        DocKind::Article,
                        &article.id,
                        &article.title,
                    ),
                );
                doc.add_text(self.title_plain, &article.title);
                doc.add_text(fields.title, &article.title);
                doc.add_text(fields.summary, &article.summary);
                doc.add_text(fields.body, &article.body);
                for tag in &article.tags {
                    doc.add_text(self.tags, tag);
                }
                let opening = format!("{}\n{}", article.summary, article.body);
                doc.add_text(
                    self.body_pairs,
                    word_pairs(&fold_prefix(&opening), PAIR_WORDS),
                );
            }
            Document::Activity(activity) => {
                for language in activity.name.languages() {
                    let fields = self.for_language(language);
                    doc.add_text(self.language, language.tag());
                    if let Some(name) = activity.name.get(language) {
                        doc.add_text(
                            self.rank_key,
                            rank_key(language, DocKind::Activity, &activity.id, name),
                        );
                        doc.add_text(self.title_plain, name);
                        doc.add_text(fields.title, name);
                    }
                    if let Some(description) = activity.description.get(language) {
                        doc.add_text(fields.summary, description);
                    }
                    if let Some(examples) = activity.examples.get(language) {
                        doc.add_text(fields.body, examples.join("\n"));
                    }
                }
                if let Some(category) = &activity.category {
                    doc.add_text(self.tags, category);
                }
            }
        }
        doc.add_text(self.payload, serde_json::to_string(document)?);
        Ok(doc)
    }
}

/// Folds the start of a long text only (what [`PAIR_WORDS`] can use), to keep indexing cheap.
fn fold_prefix(text: &str) -> String {
    let cut = text
        .char_indices()
        .nth(PAIR_WORDS * 16)
        .map(|(index, _)| index)
        .unwrap_or(text.len());
    fold(&text[..cut])
}

/// Separates the parts of a rank key.
pub const RANK_KEY_SEPARATOR: char = '\u{1f}';

fn rank_key(language: Language, kind: DocKind, id: &str, title: &str) -> String {
    format!(
        "{}{RANK_KEY_SEPARATOR}{}{RANK_KEY_SEPARATOR}{id}{RANK_KEY_SEPARATOR}{}",
        language.tag(),
        kind.tag(),
        fold(title)
    )
}

/// One decoded rank key.
#[derive(Debug, Clone, PartialEq)]
pub struct RankKey<'a> {
    pub language: Option<Language>,
    pub kind: DocKind,
    pub id: &'a str,
    pub folded_title: &'a str,
}

/// Splits a stored rank key back into its parts.
pub fn parse_rank_key(value: &str) -> Option<RankKey<'_>> {
    let mut parts = value.splitn(4, RANK_KEY_SEPARATOR);
    let language = parts.next()?.parse().ok();
    let kind = match parts.next()? {
        "article" => DocKind::Article,
        "activity" => DocKind::Activity,
        _ => return None,
    };
    let id = parts.next()?;
    let folded_title = parts.next()?;
    Some(RankKey {
        language,
        kind,
        id,
        folded_title,
    })
}

impl Default for Fields {
    fn default() -> Self {
        Fields::new()
    }
}
