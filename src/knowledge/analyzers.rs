//! The text pipelines of the index: one stemming analyzer per language (tokenize, drop
//! overlong tokens, lowercase, fold accents, stem) and one plain analyzer without stemming
//! for exact and fuzzy title matching. They must be registered every time an index is
//! opened, because tantivy only persists their names.

use crate::lang::Language;
use tantivy::Index;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language as StemLanguage, LowerCaser, RemoveLongFilter, SimpleTokenizer,
    Stemmer, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer, WhitespaceTokenizer,
};

/// Name of the analyzer without stemming (lowercase and accent folding only).
pub const PLAIN: &str = "ponte_plain";
/// Name of the analyzer of pre-built word pairs (split on whitespace only).
pub const PAIRS: &str = "ponte_pairs";

/// How many words from the start of a body are indexed as word pairs: enough for the
/// opening sentences a requester may paste, bounded so long bodies cost no more.
pub const PAIR_WORDS: usize = 120;

/// Consecutive word pairs of already folded text, as one whitespace-separated string
/// (`"reset your" -> "reset_your"`), from at most `limit` words.
pub fn word_pairs(folded: &str, limit: usize) -> String {
    let words: Vec<&str> = folded
        .split(' ')
        .filter(|w| !w.is_empty())
        .take(limit)
        .collect();
    let mut out = String::with_capacity(folded.len().min(limit * 12));
    for pair in words.windows(2) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(pair[0]);
        out.push('_');
        out.push_str(pair[1]);
    }
    out
}

/// Name of the stemming analyzer for `language`.
pub fn stemmed_name(language: Language) -> &'static str {
    match language {
        Language::PtBr => "ponte_pt",
        Language::Es => "ponte_es",
        Language::En => "ponte_en",
    }
}

/// Folding happens before stemming so that "configuração" and "configuracao" (typed without
/// accents, as requesters often do) reach the stemmer as the same word.
fn stemmed(language: Language) -> TextAnalyzer {
    let folded = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter);
    match language {
        Language::PtBr => folded
            .filter(PortuguesePlurals)
            .filter(Stemmer::new(StemLanguage::Portuguese))
            .build(),
        Language::Es => folded.filter(Stemmer::new(StemLanguage::Spanish)).build(),
        Language::En => folded.filter(Stemmer::new(StemLanguage::English)).build(),
    }
}

/// Once accents are folded, the Portuguese Snowball stemmer no longer brings the plurals
/// in "-ões" back to their singular in "-ão" ("configurações" → "configuraco" but
/// "configuração" → "configuraca"; "permissões" → "permisso", "permissão" → "permissa").
/// This filter rewrites the folded ending "oes" to "ao" before stemming. (The same rewrite
/// for "-ais", "-eis" and "-ens" plurals was measured on the evaluation sets and did not
/// help, so it is not done.)
#[derive(Clone)]
struct PortuguesePlurals;

impl TokenFilter for PortuguesePlurals {
    type Tokenizer<T: Tokenizer> = PortuguesePluralsFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> Self::Tokenizer<T> {
        PortuguesePluralsFilter(tokenizer)
    }
}

#[derive(Clone)]
struct PortuguesePluralsFilter<T>(T);

impl<T: Tokenizer> Tokenizer for PortuguesePluralsFilter<T> {
    type TokenStream<'a> = PortuguesePluralsStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        PortuguesePluralsStream(self.0.token_stream(text))
    }
}

struct PortuguesePluralsStream<S>(S);

impl<S: TokenStream> TokenStream for PortuguesePluralsStream<S> {
    fn advance(&mut self) -> bool {
        if !self.0.advance() {
            return false;
        }
        let word = &mut self.0.token_mut().text;
        // Five letters at least: "poes" (you put) is not a plural.
        if word.len() >= 5 && word.ends_with("oes") {
            word.truncate(word.len() - "oes".len());
            word.push_str("ao");
        }
        true
    }

    fn token(&self) -> &Token {
        self.0.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.0.token_mut()
    }
}

fn plain() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// Registers every Ponte analyzer on `index`. Call it after each create or open.
pub fn register(index: &Index) {
    let tokenizers = index.tokenizers();
    tokenizers.register(PLAIN, plain());
    tokenizers.register(
        PAIRS,
        TextAnalyzer::builder(WhitespaceTokenizer::default())
            .filter(RemoveLongFilter::limit(80))
            .build(),
    );
    for language in Language::ALL {
        tokenizers.register(stemmed_name(language), stemmed(language));
    }
}

/// The tokens `analyzer` produces for `text`, in order, duplicates kept.
pub fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// A set of analyzers owned by one searching thread (analyzers are cheap to clone).
#[derive(Clone)]
pub struct Analyzers {
    pub plain: TextAnalyzer,
    pub stemmed: [TextAnalyzer; 3],
}

impl Default for Analyzers {
    fn default() -> Self {
        Analyzers {
            plain: plain(),
            stemmed: Language::ALL.map(stemmed),
        }
    }
}

/// Lowercases, folds accents and keeps only letters, digits and single spaces: the form
/// in which titles and queries are compared character by character.
pub fn fold(text: &str) -> String {
    thread_local! {
        static PLAIN_ANALYZER: std::cell::RefCell<TextAnalyzer> = std::cell::RefCell::new(plain());
    }
    // Written straight into one string: a `String` per token made folding an article's
    // opening (for its word pairs) the largest cost of a reindex.
    PLAIN_ANALYZER.with(|analyzer| {
        let mut analyzer = analyzer.borrow_mut();
        let mut stream = analyzer.token_stream(text);
        let mut folded = String::with_capacity(text.len());
        while stream.advance() {
            if !folded.is_empty() {
                folded.push(' ');
            }
            folded.push_str(&stream.token().text);
        }
        folded
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stem(language: Language, text: &str) -> Vec<String> {
        tokens(&mut stemmed(language), text)
    }

    #[test]
    fn portuguese_folds_accents_and_stems_plurals() {
        assert_eq!(
            stem(Language::PtBr, "Impressoras"),
            stem(Language::PtBr, "impressora")
        );
        assert_eq!(
            stem(Language::PtBr, "SENHA"),
            stem(Language::PtBr, "senhas")
        );
        assert_eq!(
            stem(Language::PtBr, "configuração"),
            stem(Language::PtBr, "configuracao")
        );
    }

    #[test]
    fn portuguese_irregular_plurals_meet_their_singular() {
        for (plural, singular) in [
            ("configurações", "configuração"),
            ("configuracoes", "configuração"),
            ("permissões", "permissão"),
            ("botões", "botão"),
            ("conexoes", "conexão"),
            ("versões", "versao"),
        ] {
            assert_eq!(
                stem(Language::PtBr, plural),
                stem(Language::PtBr, singular),
                "{plural} / {singular}"
            );
        }
        // Short words are left alone.
        assert_eq!(stem(Language::PtBr, "pões"), vec!["poes".to_string()]);
    }

    #[test]
    fn spanish_folds_accents_and_stems() {
        assert_eq!(
            stem(Language::Es, "contraseñas"),
            stem(Language::Es, "contrasena")
        );
        assert_eq!(
            stem(Language::Es, "Conexión"),
            stem(Language::Es, "conexion")
        );
        assert_eq!(
            stem(Language::Es, "impresoras"),
            stem(Language::Es, "impresora")
        );
    }

    #[test]
    fn english_stems_inflections() {
        assert_eq!(
            stem(Language::En, "Printers"),
            stem(Language::En, "printer")
        );
        assert_eq!(
            stem(Language::En, "connecting"),
            stem(Language::En, "connect")
        );
    }

    #[test]
    fn plain_analyzer_does_not_stem() {
        assert_eq!(fold("Impressoras  da REDE!"), "impressoras da rede");
        assert_eq!(
            fold("¿Cómo cambio mi contraseña?"),
            "como cambio mi contrasena"
        );
    }
}
