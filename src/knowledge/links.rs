//! Which article a link names: an attendant who pastes an article's portal address into a
//! chat has sent that article, and the knowledge gaps report it as what finally answered.
//! Owns the links found in a message's text and the address-to-article map, built from the
//! served articles on first use and again whenever they change.

use super::{DocKind, Document, KnowledgeBase, KnowledgeError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Article ids by portal address.
type Addresses = Arc<HashMap<String, String>>;

/// The address-to-article map of one version of the knowledge base.
#[derive(Default)]
pub struct ArticleLinks {
    cached: Mutex<Option<(u64, Addresses)>>,
}

/// The web addresses in `text`: words that start with `http://` or `https://`, also inside
/// Markdown links and brackets, without the punctuation that closes a sentence.
pub fn addresses(text: &str) -> Vec<&str> {
    text.split_whitespace()
        .filter_map(|word| {
            let start = word.find("https://").or_else(|| word.find("http://"))?;
            let address = word[start..].trim_end_matches(|c: char| {
                matches!(
                    c,
                    ')' | ']' | '>' | '.' | ',' | ';' | ':' | '!' | '?' | '"' | '\''
                )
            });
            Some(address)
        })
        .collect()
}

/// An address as articles are looked up by: no trailing slash.
fn key(address: &str) -> &str {
    address.trim_end_matches('/')
}

impl KnowledgeBase {
    /// The id of the article whose portal address is `address`, if one is served.
    pub fn article_at(&self, address: &str) -> Result<Option<String>, KnowledgeError> {
        let version = self.version();
        let mut cached = self
            .links
            .cached
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let map = match &*cached {
            Some((built, map)) if *built == version => map.clone(),
            _ => {
                let map: HashMap<String, String> = self
                    .generation()
                    .all(DocKind::Article)?
                    .into_iter()
                    .filter_map(|document| match document {
                        Document::Article(article) => {
                            Some((key(article.url.as_deref()?).to_string(), article.id))
                        }
                        Document::Activity(_) => None,
                    })
                    .collect();
                let map = Arc::new(map);
                *cached = Some((version, map.clone()));
                map
            }
        };
        Ok(map.get(key(address)).cloned())
    }

    /// The first served article `text` links to.
    pub fn article_linked(&self, text: &str) -> Option<String> {
        addresses(text)
            .into_iter()
            .find_map(|address| self.article_at(address).ok().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_found_in_words_links_and_sentences() {
        let text = "Veja https://portal.example.com/kb/vpn?lang=pt-BR. Ou [aqui](http://x.test/kb/a/), \
                    e (https://x.test/b) ou <https://x.test/c>; sem link: portal.example.com";
        assert_eq!(
            addresses(text),
            vec![
                "https://portal.example.com/kb/vpn?lang=pt-BR",
                "http://x.test/kb/a/",
                "https://x.test/b",
                "https://x.test/c",
            ]
        );
        assert!(addresses("nada aqui").is_empty());
    }
}
