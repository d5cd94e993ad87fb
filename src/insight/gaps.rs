//! Knowledge gaps: the requester texts the assistant could not place well, grouped into
//! clusters of similar texts per language, largest first, each with its trend, examples and
//! what finally happened in those conversations.
//!
//! A text's features are its content words: the language's stop words and the words every
//! request shares ("preciso", "quiero", "how", "please") left out, the rest stemmed with
//! the language's Snowball stemmer, accents folded, and cut to their first [`STEM`] letters
//! (so "bicicleta" and "bicicletário", "impressora" and "impressão" meet). Each feature
//! weighs the same: inverse document frequency over the gap texts themselves would weigh
//! down exactly the word a frequent missing topic is about.
//! Clustering is one pass, leader-follower: a text joins the cluster whose centroid it is
//! most similar to (cosine at least [`JOIN`]), else starts one. Candidates come from an
//! inverted index over the rarer features, so 50,000 texts take well under a second. A
//! second pass moves each text to its best final centroid, which evens out the order the
//! texts came in.

use crate::intent::normalize;
use crate::store::{GapReason, GapText};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language as StemLanguage, LowerCaser, RemoveLongFilter, SimpleTokenizer,
    Stemmer, StopWordFilter, TextAnalyzer,
};

/// Letters kept of a stem.
pub const STEM: usize = 6;

/// Least cosine similarity to join a cluster.
pub const JOIN: f32 = 0.34;

/// Examples shown per cluster.
pub const EXAMPLES: usize = 5;

/// Words shorter than this are left out (what the stop words missed), unless they hold a
/// digit ("3d", "4g").
const MIN_WORD: usize = 3;

/// Words of asking and of politeness every request shares, beyond the stop words (also
/// typed without accents).
const ASKING: [&str; 60] = [
    "nao", "esta", "estao", "voce", "tambem", "entao", "ja", "ate", "so", "posso", "pode", "podem",
    "quero", "queria", "preciso", "gostaria", "consigo", "fazer", "faço", "faco", "como", "onde",
    "quando", "qual", "quais", "tem", "ter", "hoje", "favor", "ajuda", "puedo", "puede", "quiero",
    "necesito", "hacer", "hago", "donde", "cuando", "cual", "tengo", "hoy", "ayuda", "por", "can",
    "want", "need", "how", "where", "when", "what", "please", "help", "get", "today", "have",
    "does", "do", "is", "are", "there",
];

/// Clusters a word leads to when looking for where a text belongs: its oldest, which are
/// its largest (a word many topics share says little of the topic).
const MAX_POSTING: usize = 48;

/// One cluster of similar texts.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GapCluster {
    /// The language and the cluster's heaviest word (`pt-BR:bicicl`), stable as the cluster
    /// grows; a second cluster of the same word gets `~2`. What a dismissal names.
    pub key: String,
    pub language: String,
    /// The cluster's most telling words.
    pub label: String,
    pub count: usize,
    /// Texts in the first and the second half of the period: the trend.
    pub first_half: usize,
    pub second_half: usize,
    /// Texts per reason (`fallback`, `ambiguous`, `no_hit`, `answered`).
    pub reasons: BTreeMap<String, usize>,
    /// The texts nearest the centroid (empty when examples are hidden from the caller).
    pub examples: Vec<String>,
    /// What finally happened: tickets opened per activity, hand-offs per group, articles the
    /// attendants sent, conversations with neither a ticket nor a hand-off.
    pub tickets: BTreeMap<String, usize>,
    pub handoffs: BTreeMap<String, usize>,
    pub articles_sent: BTreeMap<String, usize>,
    pub unresolved: usize,
    pub dismissed: bool,
}

/// Whether `text` is a gap: a fallback, an ambiguous reading or a search with no hit always;
/// an answer with articles only when the conversation went on to a person or a ticket after
/// it.
pub fn is_gap(gap: &GapText) -> bool {
    let GapText { text, followed } = gap;
    match text.reason {
        GapReason::Fallback | GapReason::Ambiguous | GapReason::NoHit => true,
        GapReason::Answered => {
            let after = |at: Option<i64>| at.is_some_and(|at| at >= text.at_ms);
            after(followed.handoff_at) || after(followed.ticket_at)
        }
    }
}

/// The analyzer of one language: words, lowercase, stop words out, stemmed, folded.
fn analyzer(language: &str) -> TextAnalyzer {
    let stem = match language {
        "es" => StemLanguage::Spanish,
        "en" => StemLanguage::English,
        _ => StemLanguage::Portuguese,
    };
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .dynamic();
    let builder = match StopWordFilter::new(stem) {
        Some(stop_words) => builder.filter_dynamic(stop_words),
        None => builder,
    };
    builder
        .filter_dynamic(AsciiFoldingFilter)
        .filter_dynamic(StopWordFilter::remove(ASKING.iter().map(|w| w.to_string())))
        .filter_dynamic(Stemmer::new(stem))
        .build()
}

/// A text's features: its content stems, each once.
fn features(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut features = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let word = &stream.token().text;
        if word.chars().count() < MIN_WORD && !word.chars().any(|c| c.is_numeric()) {
            continue;
        }
        features.push(word.chars().take(STEM).collect::<String>());
    }
    features.sort();
    features.dedup();
    features
}

type Vector = Vec<(u32, f32)>;

fn norm(vector: &mut Vector) {
    let length = vector.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
    if length > 0.0 {
        vector.iter_mut().for_each(|(_, w)| *w /= length);
    }
}

/// A running cluster: the sum of its members' vectors and that sum's squared length, kept
/// up to date as members join (only the features a member brings change it).
struct Centroid {
    sum: HashMap<u32, f32>,
    squared: f32,
    members: Vec<usize>,
}

impl Centroid {
    fn new() -> Centroid {
        Centroid {
            sum: HashMap::new(),
            squared: 0.0,
            members: Vec::new(),
        }
    }

    fn add(&mut self, index: usize, vector: &Vector) {
        for (feature, weight) in vector {
            let sum = self.sum.entry(*feature).or_default();
            self.squared += (*sum + weight).powi(2) - *sum * *sum;
            *sum += weight;
        }
        self.members.push(index);
    }

    fn cosine(&self, vector: &Vector) -> f32 {
        if self.squared <= 1e-6 {
            return 0.0;
        }
        let dot: f32 = vector
            .iter()
            .map(|(feature, weight)| self.sum.get(feature).map_or(0.0, |s| s * weight))
            .sum();
        dot / self.squared.sqrt()
    }

    /// The cosine similarity to this centroid with `vector` (one of its members) taken out.
    fn cosine_without(&self, vector: &Vector) -> f32 {
        let mut length = self.squared;
        let mut dot = 0.0;
        for (feature, weight) in vector {
            let sum = self.sum.get(feature).copied().unwrap_or(0.0);
            length += (sum - weight).powi(2) - sum * sum;
            dot += (sum - weight) * weight;
        }
        if length <= 1e-6 {
            return 0.0;
        }
        dot / length.sqrt()
    }

    /// The heaviest features, heaviest first.
    fn top(&self, n: usize) -> Vec<u32> {
        let mut weights: Vec<(u32, f32)> = self.sum.iter().map(|(f, w)| (*f, *w)).collect();
        weights.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        weights
            .into_iter()
            .take(n)
            .map(|(feature, _)| feature)
            .collect()
    }
}

/// The clusters `vector` may belong to: those its features lead to (for each feature, its
/// oldest, hence largest, [`MAX_POSTING`] clusters).
fn candidates(index: &HashMap<u32, Vec<usize>>, vector: &Vector) -> HashSet<usize> {
    let mut found = HashSet::new();
    for (feature, _) in vector {
        if let Some(clusters) = index.get(feature) {
            found.extend(clusters.iter().take(MAX_POSTING).copied());
        }
    }
    found
}

/// The most similar of `clusters` at [`JOIN`] or above (the older on a tie).
fn best(clusters: HashSet<usize>, similarity: impl Fn(usize) -> f32) -> Option<usize> {
    clusters
        .into_iter()
        .map(|cluster| (cluster, similarity(cluster)))
        .filter(|(_, similarity)| *similarity >= JOIN)
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(cluster, _)| cluster)
}

/// Clusters of one language's texts: each a list of indexes into `texts`, largest first,
/// with the names of its heaviest features.
fn cluster_language(language: &str, texts: &[&str]) -> Vec<(Vec<usize>, Vec<String>)> {
    let mut analyzer = analyzer(language);
    let mut vocabulary: HashMap<String, u32> = HashMap::new();
    let mut names: Vec<String> = Vec::new();
    let raw: Vec<Vec<u32>> = texts
        .iter()
        .map(|text| {
            features(&mut analyzer, text)
                .into_iter()
                .map(|feature| {
                    *vocabulary.entry(feature.clone()).or_insert_with(|| {
                        names.push(feature);
                        (names.len() - 1) as u32
                    })
                })
                .collect()
        })
        .collect();
    let vectors: Vec<Vector> = raw
        .iter()
        .map(|features| {
            let mut vector: Vector = features.iter().map(|&feature| (feature, 1.0)).collect();
            norm(&mut vector);
            vector
        })
        .collect();

    // First pass: leader-follower with an inverted index from features to clusters.
    let mut centroids: Vec<Centroid> = Vec::new();
    let mut index: HashMap<u32, Vec<usize>> = HashMap::new();
    let mut owner: Vec<usize> = Vec::with_capacity(vectors.len());
    for (position, vector) in vectors.iter().enumerate() {
        let found = best(candidates(&index, vector), |cluster| {
            centroids[cluster].cosine(vector)
        });
        let cluster = found.unwrap_or_else(|| {
            centroids.push(Centroid::new());
            centroids.len() - 1
        });
        // A feature the cluster's sum lacks is one it is not indexed under yet.
        for (feature, _) in vector {
            if !centroids[cluster].sum.contains_key(feature) {
                index.entry(*feature).or_default().push(cluster);
            }
        }
        centroids[cluster].add(position, vector);
        owner.push(cluster);
    }

    // Second pass: each text to its best final centroid among those sharing a feature, its
    // own counted without it (so an early text that started a cluster of its own before
    // its topic's cluster grew moves there); a text near none keeps its own.
    let mut settled: Vec<Centroid> = (0..centroids.len()).map(|_| Centroid::new()).collect();
    for (position, vector) in vectors.iter().enumerate() {
        let own = owner[position];
        let mut reachable = candidates(&index, vector);
        reachable.insert(own);
        let found = best(reachable, |cluster| {
            if cluster == own {
                centroids[cluster].cosine_without(vector)
            } else {
                centroids[cluster].cosine(vector)
            }
        });
        settled[found.unwrap_or(own)].add(position, vector);
    }

    let mut clusters: Vec<(Vec<usize>, Vec<String>)> = settled
        .into_iter()
        .filter(|centroid| !centroid.members.is_empty())
        .map(|centroid| {
            // Members nearest the centroid first.
            let mut members = centroid.members.clone();
            members.sort_by(|a, b| {
                centroid
                    .cosine(&vectors[*b])
                    .total_cmp(&centroid.cosine(&vectors[*a]))
                    .then(a.cmp(b))
            });
            let top = centroid
                .top(3)
                .into_iter()
                .map(|feature| names[feature as usize].clone())
                .collect();
            (members, top)
        })
        .collect();
    clusters.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
    clusters
}

/// The gap clusters of `texts` (only the gaps among them count, see [`is_gap`]), largest
/// first. `midpoint_ms` splits the period for the trend; `with_examples` false leaves the
/// examples out; dismissed clusters are marked.
pub fn clusters(
    texts: &[GapText],
    midpoint_ms: i64,
    with_examples: bool,
    dismissed: &HashSet<String>,
) -> Vec<GapCluster> {
    clusters_with_members(texts, midpoint_ms, with_examples, dismissed)
        .into_iter()
        .map(|(cluster, _)| cluster)
        .collect()
}

/// Cluster `key` and all its texts (each distinct text once, nearest the centroid first).
pub fn cluster_members(
    texts: &[GapText],
    midpoint_ms: i64,
    key: &str,
) -> Option<(GapCluster, Vec<String>)> {
    clusters_with_members(texts, midpoint_ms, true, &HashSet::new())
        .into_iter()
        .find(|(cluster, _)| cluster.key == key)
        .map(|(cluster, members)| {
            let mut seen = HashSet::new();
            let texts = members
                .into_iter()
                .filter(|text| seen.insert(normalize(text)))
                .collect();
            (cluster, texts)
        })
}

fn clusters_with_members(
    texts: &[GapText],
    midpoint_ms: i64,
    with_examples: bool,
    dismissed: &HashSet<String>,
) -> Vec<(GapCluster, Vec<String>)> {
    let mut by_language: BTreeMap<&str, Vec<&GapText>> = BTreeMap::new();
    for gap in texts.iter().filter(|gap| is_gap(gap)) {
        by_language.entry(&gap.text.language).or_default().push(gap);
    }
    let mut all = Vec::new();
    for (language, texts) in by_language {
        let bodies: Vec<&str> = texts.iter().map(|gap| gap.text.text.as_str()).collect();
        let mut keys: HashMap<String, usize> = HashMap::new();
        for (members, top) in cluster_language(language, &bodies) {
            // The heaviest word names the cluster: it stays as the cluster grows.
            let anchor = top.first().cloned().unwrap_or_default();
            let taken = keys.entry(anchor.clone()).or_insert(0usize);
            *taken += 1;
            let key = if *taken == 1 {
                format!("{language}:{anchor}")
            } else {
                format!("{language}:{anchor}~{taken}")
            };
            let mut cluster = GapCluster {
                dismissed: dismissed.contains(&key),
                key,
                language: language.to_string(),
                label: top.join(", "),
                count: members.len(),
                first_half: 0,
                second_half: 0,
                reasons: BTreeMap::new(),
                examples: Vec::new(),
                tickets: BTreeMap::new(),
                handoffs: BTreeMap::new(),
                articles_sent: BTreeMap::new(),
                unresolved: 0,
            };
            let mut seen_conversations = HashSet::new();
            let mut seen_examples = HashSet::new();
            for &member in &members {
                let GapText { text, followed } = texts[member];
                if text.at_ms < midpoint_ms {
                    cluster.first_half += 1;
                } else {
                    cluster.second_half += 1;
                }
                *cluster
                    .reasons
                    .entry(text.reason.as_str().to_string())
                    .or_default() += 1;
                if with_examples
                    && cluster.examples.len() < EXAMPLES
                    && seen_examples.insert(normalize(&text.text))
                {
                    cluster.examples.push(text.text.clone());
                }
                if !seen_conversations.insert(&text.conversation_id) {
                    continue;
                }
                let ticket = followed.activity_id.clone();
                let handoff = followed
                    .handoff_at
                    .map(|_| followed.group.clone().unwrap_or_default());
                if let Some(activity) = ticket.clone() {
                    *cluster.tickets.entry(activity).or_default() += 1;
                }
                if let Some(group) = handoff.clone() {
                    *cluster.handoffs.entry(group).or_default() += 1;
                }
                if let Some(article) = followed.article_sent.clone() {
                    *cluster.articles_sent.entry(article).or_default() += 1;
                }
                if ticket.is_none() && handoff.is_none() {
                    cluster.unresolved += 1;
                }
            }
            let bodies = members
                .iter()
                .map(|&m| texts[m].text.text.clone())
                .collect();
            all.push((cluster, bodies));
        }
    }
    all.sort_by(|(a, _), (b, _)| {
        b.count
            .cmp(&a.count)
            .then(b.second_half.cmp(&a.second_half))
            .then(a.key.cmp(&b.key))
    });
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(at_ms: i64, language: &str, body: &str) -> GapText {
        GapText {
            text: crate::store::ReportText {
                conversation_id: format!("c{at_ms}"),
                at_ms,
                language: language.to_string(),
                reason: GapReason::Fallback,
                score: None,
                text: body.to_string(),
            },
            followed: crate::store::Followed::default(),
        }
    }

    #[test]
    fn paraphrases_of_one_topic_make_one_cluster_apart_from_others() {
        let topic = [
            "como configurar a impressora 3d do laboratório",
            "a impressora 3d não imprime",
            "impressora 3d travou no meio da peça",
            "quem libera o uso da impressora 3d",
            "preciso imprimir uma peça na impressora 3d",
        ];
        let others = [
            "meu crachá não abre a porta",
            "o ar condicionado da sala está quente",
            "quero trocar minha cadeira",
            "estacionamento lotado hoje",
        ];
        let texts: Vec<GapText> = topic
            .iter()
            .chain(others.iter())
            .enumerate()
            .map(|(i, body)| text(i as i64, "pt-BR", body))
            .collect();
        let found = clusters(&texts, 3, true, &HashSet::new());
        assert_eq!(found[0].count, topic.len(), "{found:#?}");
        assert!(found[0].label.contains("impre"), "{}", found[0].label);
        assert_eq!(found[0].examples.len(), EXAMPLES);
        assert_eq!(found.len(), 1 + others.len());
        assert_eq!(found[0].first_half + found[0].second_half, topic.len());
    }

    #[test]
    fn an_early_text_joins_its_topic_once_the_topic_has_grown() {
        // The first text shares one word with the rest: alone when it came, it moves to its
        // topic's cluster in the second pass.
        let bike = [
            "onde fica o bicicletário da empresa",
            "o bicicletário está lotado de novo",
            "tem vaga para bicicleta no bicicletário",
            "o cadeado do bicicletário quebrou",
            "vim de bicicleta e o bicicletário não tem vaga",
            "roubaram minha bicicleta do bicicletário",
            "o bicicletário aceita bicicleta elétrica",
            "quantas vagas tem o bicicletário",
            "horário do bicicletário",
        ];
        let others = [
            "qual o cardápio do refeitório amanhã",
            "o elevador social está fazendo barulho",
            "quero doar livros para a biblioteca",
        ];
        let texts: Vec<GapText> = bike
            .iter()
            .chain(others.iter())
            .enumerate()
            .map(|(i, body)| text(i as i64, "pt-BR", body))
            .collect();
        for _ in 0..5 {
            let found = clusters(&texts, 3, true, &HashSet::new());
            assert_eq!(found[0].count, bike.len(), "{found:#?}");
            assert_eq!(found[0].key, "pt-BR:bicicl");
        }
    }

    #[test]
    fn languages_never_share_a_cluster_and_examples_can_be_hidden() {
        let texts = vec![
            text(1, "en", "printer jammed again"),
            text(2, "es", "printer jammed again"),
        ];
        let found = clusters(&texts, 0, false, &HashSet::new());
        assert_eq!(found.len(), 2);
        assert!(found.iter().all(|cluster| cluster.examples.is_empty()));
        let dismissed: HashSet<String> = [found[0].key.clone()].into();
        let again = clusters(&texts, 0, false, &dismissed);
        assert!(again.iter().any(|cluster| cluster.dismissed));
    }

    #[test]
    fn an_answer_is_a_gap_only_when_a_person_or_a_ticket_followed() {
        let mut answered = text(10, "en", "reset my password");
        answered.text.reason = GapReason::Answered;
        assert!(!is_gap(&answered));
        answered.followed.handoff_at = Some(5);
        assert!(!is_gap(&answered), "hand-off before it");
        answered.followed.ticket_at = Some(12);
        assert!(is_gap(&answered));
        assert!(is_gap(&text(1, "en", "anything")));
    }
}
