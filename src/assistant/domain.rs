//! The words of the domain: every word the matcher is trained on (control-intent phrases,
//! activity names, descriptions and examples, short forms written out). A word of four
//! letters or more that is none of them, nor one of them inflected (a shared stem) or
//! mistyped (one edit away), is *foreign* to the domain: "joke" in "print me a joke".
//!
//! Text whose foreign words are at least as many as its in-domain content words (words of
//! four letters or more that few labels' examples share, unlike "please" or "need") is
//! about something else: the matcher does not let the classifier's character n-grams
//! ("print" inside "printer") decide an activity for it alone.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Bound;

/// Shorter words are function words, codes or numbers: never foreign, never content.
const MIN_CONTENT_CHARS: usize = 4;

/// How many domain words sharing a short stem are looked at for one of a similar length.
const STEM_SCAN: usize = 64;

/// The domain's words, with what finds their inflected and mistyped forms.
#[derive(Debug, Default)]
pub struct DomainWords {
    /// Sorted, to find a word sharing a stem with another by its prefix.
    words: BTreeSet<String>,
    /// Every word with one character deleted (of words long enough to be typed wrong).
    deletions: HashSet<String>,
    /// How many labels' examples use each word.
    spread: HashMap<String, usize>,
    /// Words that more labels than this use are function words, not content.
    max_content_spread: usize,
}

impl DomainWords {
    /// The domain of labelled examples `(text, label)` and of other catalogue texts, all
    /// normalised with their short forms written out.
    pub fn build<'a>(
        examples: impl IntoIterator<Item = (&'a str, &'a str)>,
        other_texts: impl IntoIterator<Item = &'a str>,
    ) -> DomainWords {
        let mut domain = DomainWords::default();
        let mut labels_of: HashMap<&str, HashSet<&str>> = HashMap::new();
        let mut labels: HashSet<&str> = HashSet::new();
        for (text, label) in examples {
            labels.insert(label);
            for word in text.split(' ').filter(|word| !word.is_empty()) {
                labels_of.entry(word).or_default().insert(label);
                domain.add_word(word);
            }
        }
        for text in other_texts {
            for word in text.split(' ').filter(|word| !word.is_empty()) {
                domain.add_word(word);
            }
        }
        domain.spread = labels_of
            .into_iter()
            .map(|(word, labels)| (word.to_string(), labels.len()))
            .collect();
        domain.max_content_spread = (labels.len() / 8).max(2);
        domain
    }

    fn add_word(&mut self, word: &str) {
        if self.words.insert(word.to_string()) && word.chars().count() >= MIN_CONTENT_CHARS {
            self.deletions.extend(deletions(word));
        }
    }

    /// Whether `text` (normalised, short forms written out) has foreign words and no more
    /// in-domain content words than foreign ones.
    pub fn is_about_something_else(&self, text: &str) -> bool {
        let mut foreign = 0;
        let mut content = 0;
        for word in text
            .split(' ')
            .filter(|word| word.chars().count() >= MIN_CONTENT_CHARS)
        {
            if !self.knows(word) {
                foreign += 1;
            } else if self.spread.get(word).copied().unwrap_or(0) <= self.max_content_spread {
                content += 1;
            }
        }
        foreign > 0 && foreign >= content
    }

    fn knows(&self, word: &str) -> bool {
        self.words.contains(word) || self.shares_a_stem(word) || self.one_edit_from(word)
    }

    /// A domain word shares with `word` a prefix of four letters or more that lacks at most
    /// three letters of the shorter of the two ("adiciono" and "adicionar", "jamming" and
    /// "jammed").
    fn shares_a_stem(&self, word: &str) -> bool {
        let boundaries: Vec<usize> = word
            .char_indices()
            .map(|(offset, _)| offset)
            .chain([word.len()])
            .collect();
        let chars = boundaries.len() - 1;
        (MIN_CONTENT_CHARS..=chars).rev().any(|length| {
            let prefix = &word[..boundaries[length]];
            self.words
                .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
                .take_while(|candidate| candidate.starts_with(prefix))
                .take(STEM_SCAN)
                .any(|candidate| length + 3 >= chars.min(candidate.chars().count()))
        })
    }

    /// A domain word is `word` with one letter more, one less, or one changed.
    fn one_edit_from(&self, word: &str) -> bool {
        self.deletions.contains(word)
            || deletions(word)
                .any(|shorter| self.words.contains(&shorter) || self.deletions.contains(&shorter))
    }
}

/// `word` with each of its characters deleted in turn.
fn deletions(word: &str) -> impl Iterator<Item = String> + '_ {
    word.char_indices().map(move |(offset, ch)| {
        let mut shorter = String::with_capacity(word.len());
        shorter.push_str(&word[..offset]);
        shorter.push_str(&word[offset + ch.len_utf8()..]);
        shorter
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain() -> DomainWords {
        DomainWords::build(
            [
                ("my printer does not print please", "printer"),
                ("my printer jammed", "printer"),
                ("adicionar impressora de rede please", "install"),
                ("my account is locked please", "unlock"),
                ("please", "yes"),
            ],
            ["printing problems"],
        )
    }

    #[test]
    fn text_about_something_else() {
        let domain = domain();
        assert!(domain.is_about_something_else("print me a joke"));
        // "please" is in the examples of every label: a function word, not content.
        assert!(domain.is_about_something_else("print me a joke please"));
        assert!(domain.is_about_something_else("tell me a joke"));
    }

    #[test]
    fn inflected_mistyped_and_short_words_are_the_domain_s() {
        let domain = domain();
        assert!(!domain.is_about_something_else("printers jamming"));
        assert!(!domain.is_about_something_else("adiciono a impressora"));
        assert!(!domain.is_about_something_else("my acount is lokced"));
        assert!(!domain.is_about_something_else("the pc is off"));
        // A product name beside more domain words than it is still the domain's business.
        assert!(!domain.is_about_something_else("autocad printer jammed"));
    }
}
