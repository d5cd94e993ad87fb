//! Feature extraction for the intent classifier: word n-grams and character n-grams inside
//! word boundaries, hashed to 64-bit keys, mapped through the training vocabulary, weighted
//! with sublinear TF-IDF and L2-normalised per feature group.
//!
//! Features never seen in training still count in each group's norm (at the highest IDF), so
//! a text made mostly of unknown words yields a short known vector, small logits and therefore
//! a low confidence: that is the main out-of-scope signal of a lexical model.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use serde::{Deserialize, Serialize};

use super::normalize::normalize;

/// Which features are extracted and how the two groups are weighted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureOptions {
    /// Longest word n-gram (1 = unigrams only, 2 = unigrams and bigrams, ...).
    pub word_ngrams: usize,
    /// Shortest character n-gram, counted on the word padded with boundary marks.
    pub char_min: usize,
    /// Longest character n-gram; 0 disables character features.
    pub char_max: usize,
    /// Scale of the (unit-norm) word group.
    pub word_weight: f32,
    /// Scale of the (unit-norm) character group.
    pub char_weight: f32,
    /// Features seen in fewer training texts are dropped from the vocabulary.
    pub min_df: u32,
}

impl Default for FeatureOptions {
    fn default() -> Self {
        FeatureOptions {
            word_ngrams: 2,
            char_min: 2,
            char_max: 5,
            word_weight: 1.0,
            char_weight: 1.0,
            min_df: 1,
        }
    }
}

/// Feature groups, each normalised on its own.
pub(crate) const GROUP_WORD: u8 = 0;
pub(crate) const GROUP_CHAR: u8 = 1;
const GROUPS: usize = 2;

/// One hashed feature of a text with its raw term frequency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RawFeature {
    pub key: u64,
    pub group: u8,
    pub tf: f32,
}

/// A sparse, weighted feature vector over vocabulary rows, sorted by row.
pub(crate) type SparseVector = Vec<(u32, f32)>;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
const TOKEN_SEPARATOR: u8 = 0x1f;

fn fnv_seed(kind: u8, length: usize) -> u64 {
    let mut hash = FNV_OFFSET;
    for byte in [kind, length as u8] {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

fn fnv_feed(mut hash: u64, bytes: &[u8]) -> u64 {
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

/// A final avalanche (splitmix64) so that the low bits used by the hash map are well mixed.
fn finish(mut hash: u64) -> u64 {
    hash ^= hash >> 30;
    hash = hash.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash ^= hash >> 27;
    hash = hash.wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^ (hash >> 31)
}

/// Extracts the hashed features of an already normalised text, with term frequencies,
/// sorted by key. Character n-grams are taken from each word padded as `<word>`, so they
/// never span two words (word bigrams already cover neighbours).
pub(crate) fn extract(normalized: &str, options: &FeatureOptions) -> Vec<RawFeature> {
    let tokens: Vec<&str> = normalized.split(' ').filter(|t| !t.is_empty()).collect();
    let mut keys: Vec<(u64, u8)> = Vec::with_capacity(tokens.len() * 16);

    for n in 1..=options.word_ngrams.max(1) {
        if tokens.len() < n {
            break;
        }
        for window in tokens.windows(n) {
            let mut hash = fnv_seed(b'w', n);
            for (position, token) in window.iter().enumerate() {
                if position > 0 {
                    hash = fnv_feed(hash, &[TOKEN_SEPARATOR]);
                }
                hash = fnv_feed(hash, token.as_bytes());
            }
            keys.push((finish(hash), GROUP_WORD));
        }
    }

    if options.char_max > 0 {
        let mut padded = String::new();
        let mut boundaries: Vec<usize> = Vec::new();
        for token in &tokens {
            padded.clear();
            padded.push('<');
            padded.push_str(token);
            padded.push('>');
            boundaries.clear();
            boundaries.extend(padded.char_indices().map(|(offset, _)| offset));
            boundaries.push(padded.len());
            let chars = boundaries.len() - 1;
            let bytes = padded.as_bytes();
            for n in options.char_min.max(1)..=options.char_max {
                if n > chars {
                    break;
                }
                for start in 0..=(chars - n) {
                    let slice = &bytes[boundaries[start]..boundaries[start + n]];
                    keys.push((finish(fnv_feed(fnv_seed(b'c', n), slice)), GROUP_CHAR));
                }
            }
        }
    }

    keys.sort_unstable();
    let mut features: Vec<RawFeature> = Vec::with_capacity(keys.len());
    for (key, group) in keys {
        match features.last_mut() {
            Some(last) if last.key == key => last.tf += 1.0,
            _ => features.push(RawFeature {
                key,
                group,
                tf: 1.0,
            }),
        }
    }
    features
}

/// A `Hasher` for keys that are already well-mixed 64-bit hashes.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 << 8) | u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

pub(crate) type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<IdentityHasher>>;

/// The training vocabulary: feature key to row, with the IDF of each row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Vocabulary {
    rows: KeyMap<u32>,
    idf: Vec<f32>,
    /// IDF given to features never seen in training (counted in the norm only).
    unseen_idf: f32,
}

impl Vocabulary {
    /// Builds the vocabulary from the raw features of the training texts.
    pub(crate) fn build(documents: &[Vec<RawFeature>], min_df: u32) -> Vocabulary {
        let mut document_frequency: KeyMap<u32> = KeyMap::default();
        for document in documents {
            for feature in document {
                *document_frequency.entry(feature.key).or_insert(0) += 1;
            }
        }
        let mut kept: Vec<(u64, u32)> = document_frequency
            .into_iter()
            .filter(|&(_, df)| df >= min_df.max(1))
            .collect();
        // Sorted so that row numbers do not depend on hash map iteration order.
        kept.sort_unstable();
        let total = documents.len() as f32;
        let idf_of = |df: u32| ((1.0 + total) / (1.0 + df as f32)).ln() + 1.0;
        let mut rows = KeyMap::default();
        rows.reserve(kept.len());
        let mut idf = Vec::with_capacity(kept.len());
        for (row, (key, df)) in kept.into_iter().enumerate() {
            rows.insert(key, row as u32);
            idf.push(idf_of(df));
        }
        Vocabulary {
            rows,
            idf,
            unseen_idf: idf_of(0),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.idf.len()
    }

    /// Weights raw features: `(1 + ln tf) * idf`, each group scaled to norm `group_weight`
    /// (unknown features included in the norm), known rows only in the output.
    pub(crate) fn vectorize(&self, raw: &[RawFeature], options: &FeatureOptions) -> SparseVector {
        let mut squared_norms = [0.0f32; GROUPS];
        let mut known: Vec<(u32, f32, u8)> = Vec::with_capacity(raw.len());
        for feature in raw {
            let tf_weight = 1.0 + feature.tf.ln();
            let group = usize::from(feature.group).min(GROUPS - 1);
            match self.rows.get(&feature.key) {
                Some(&row) => {
                    let idf = self
                        .idf
                        .get(row as usize)
                        .copied()
                        .unwrap_or(self.unseen_idf);
                    let value = tf_weight * idf;
                    squared_norms[group] += value * value;
                    known.push((row, value, feature.group));
                }
                None => {
                    let value = tf_weight * self.unseen_idf;
                    squared_norms[group] += value * value;
                }
            }
        }
        let group_weights = [options.word_weight, options.char_weight];
        let mut scales = [0.0f32; GROUPS];
        for group in 0..GROUPS {
            if squared_norms[group] > 0.0 {
                scales[group] = group_weights[group] / squared_norms[group].sqrt();
            }
        }
        let mut vector: SparseVector = known
            .into_iter()
            .map(|(row, value, group)| (row, value * scales[usize::from(group).min(GROUPS - 1)]))
            .collect();
        vector.sort_unstable_by_key(|&(row, _)| row);
        vector
    }
}

/// Normalises, extracts and vectorises one text.
pub(crate) fn featurize(
    text: &str,
    options: &FeatureOptions,
    vocabulary: &Vocabulary,
) -> SparseVector {
    let raw = extract(&normalize(text), options);
    vocabulary.vectorize(&raw, options)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only_words() -> FeatureOptions {
        FeatureOptions {
            word_ngrams: 2,
            char_max: 0,
            ..FeatureOptions::default()
        }
    }

    #[test]
    fn counts_word_unigrams_and_bigrams() {
        let features = extract("reset my password my password", &only_words());
        // 3 distinct unigrams + 3 distinct bigrams (reset my, my password, password my).
        assert_eq!(features.len(), 6);
        let total: f32 = features.iter().map(|f| f.tf).sum();
        assert_eq!(total, 5.0 + 4.0);
    }

    #[test]
    fn character_ngrams_stay_inside_words() {
        let options = FeatureOptions {
            word_ngrams: 1,
            char_min: 3,
            char_max: 3,
            ..FeatureOptions::default()
        };
        // "<ab>" has two 3-grams, "<c>" one; plus 2 word unigrams.
        let features = extract("ab c", &options);
        let chars = features.iter().filter(|f| f.group == GROUP_CHAR).count();
        assert_eq!(chars, 3);
    }

    #[test]
    fn unknown_words_shrink_the_known_vector() {
        let options = only_words();
        let documents = vec![
            extract("reset password", &options),
            extract("printer jam", &options),
        ];
        let vocabulary = Vocabulary::build(&documents, 1);
        let seen = featurize("reset password", &options, &vocabulary);
        let half = featurize("reset zebra", &options, &vocabulary);
        let norm = |v: &SparseVector| v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
        assert!((norm(&seen) - 1.0).abs() < 1e-5);
        assert!(norm(&half) < 0.75);
        assert!(featurize("zebra giraffe", &options, &vocabulary).is_empty());
    }
}
