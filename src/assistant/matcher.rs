//! The matcher: for one requester text, decide among a control intent, catalogue activities,
//! knowledge articles, a "which one?" question, or fallback. No language model.
//!
//! Signals, each a confidence in 0..1:
//! - a softmax classifier over word and character n-grams (see [`crate::intent`]) trained at
//!   start on the control-intent phrases and on every activity's name and example phrases
//!   (labels `intent:<name>` and `activity:<id>`), with a calibrated probability;
//! - the tantivy search (BM25 over per-language fields, fuzzy terms, strsim re-ranking) for
//!   activities and articles, whose title similarity says how closely the text names one.
//!
//! Both read the text with the domain's short forms written out ([`super::shorthand`]: "pw"
//! is "password"), the classifier in training as in prediction.
//!
//! An activity's confidence is the larger of the two signals; an article's is its title
//! similarity, raised when the search ranks it clearly first. The best candidate wins when
//! it clears its threshold; candidates within the ambiguity margin of it make a question
//! (at most three options); nothing above threshold is fallback. What the conversation
//! currently expects narrows the candidates (a yes/no question only weighs control intents).
//! Only what the requester's groups may see is ever a candidate.
//!
//! Two rules keep the kinds apart:
//! - a question asking how ([`super::howto`]) whose first search hit, above every activity,
//!   is an article in the requester's language is answered by that article first; the
//!   likeliest activity, when one clears its threshold, is offered after it;
//! - text about something else, with as many words foreign to the catalogue as in-domain
//!   content words ([`super::domain`]), gets an activity from the classifier only as far as
//!   its words alone say it, so that character n-grams ("print" in "print me a joke" against
//!   "printer") never stand in for an in-domain request.

use super::domain::DomainWords;
use super::intents::IntentFile;
use super::{howto, shorthand};
use crate::conversation::{
    ActivityHit, ArticleHit, Candidate, ControlIntent, Expecting, Understanding,
};
use crate::encoder::Encoder;
use crate::intent::{Classifier, EncoderOptions, Example, IntentError, TrainOptions, normalize};
use crate::knowledge::{Activity, DocKind, Document, KnowledgeBase, KnowledgeError, SearchRequest};
use crate::lang::Language;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Thresholds of the decision.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MatcherSettings {
    /// A control intent must reach this probability.
    pub intent_threshold: f32,
    /// An activity must reach this confidence.
    pub activity_threshold: f32,
    /// An article must reach this confidence.
    pub article_threshold: f32,
    /// Candidates this close to the best one make a "which one?" question.
    pub ambiguity_margin: f32,
}

impl Default for MatcherSettings {
    fn default() -> Self {
        MatcherSettings {
            intent_threshold: 0.6,
            activity_threshold: 0.5,
            article_threshold: 0.6,
            ambiguity_margin: 0.06,
        }
    }
}

/// One requester text and its context.
#[derive(Debug, Clone)]
pub struct MatchInput<'a> {
    pub text: &'a str,
    pub language: Language,
    pub groups: &'a [String],
    pub expecting: Expecting,
}

/// One scored candidate, for `ponte ask` and logs.
#[derive(Debug, Clone, Serialize)]
pub struct Signal {
    pub candidate: String,
    pub confidence: f32,
    pub source: &'static str,
}

/// The matcher's answer: the understanding handed to the conversation machine, and the
/// signals it was decided from.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub understanding: Understanding,
    pub signals: Vec<Signal>,
}

/// Errors building the matcher.
#[derive(Debug, thiserror::Error)]
pub enum MatcherError {
    #[error(transparent)]
    Intent(#[from] IntentError),
    #[error(transparent)]
    Knowledge(#[from] KnowledgeError),
}

const INTENT_PREFIX: &str = "intent:";
/// A title similarity this high means the requester typed the title itself (perhaps with
/// a typo, or all but a word of it).
const EXACT_TITLE: f32 = 0.9;
const ACTIVITY_PREFIX: &str = "activity:";

/// The trained matcher. Cheap to share; rebuild it after a reindex changes the catalogue.
pub struct Matcher {
    classifier: Classifier,
    intents: HashMap<usize, ControlIntent>,
    activity_labels: HashMap<usize, String>,
    /// The words the catalogue is written in, to tell text about something else.
    domain: DomainWords,
    activities: HashMap<String, Activity>,
    knowledge: Arc<KnowledgeBase>,
    pub settings: MatcherSettings,
    /// What it was trained on, to retrain when the catalogue changes.
    intent_files: Arc<Vec<IntentFile>>,
    /// The optional sentence encoder, kept to retrain with it.
    encoder: Option<Arc<Encoder>>,
    trained_at: u64,
}

#[derive(Debug, Clone)]
enum Scored {
    Intent(ControlIntent),
    Activity(String),
    Article(ArticleHit),
}

impl Matcher {
    /// Trains the classifier on `intents` and on the activity catalogue of `knowledge`.
    pub fn build(
        intents: &[IntentFile],
        knowledge: Arc<KnowledgeBase>,
        settings: MatcherSettings,
    ) -> Result<Matcher, MatcherError> {
        Matcher::build_with_encoder(intents, knowledge, settings, None)
    }

    /// [`Matcher::build`] with the optional sentence encoder: its vectors join the
    /// classifier's features for the texts the words alone leave unsure, which gives the
    /// intents and the activities a signal of meaning beyond shared words.
    pub fn build_with_encoder(
        intents: &[IntentFile],
        knowledge: Arc<KnowledgeBase>,
        settings: MatcherSettings,
        encoder: Option<Arc<Encoder>>,
    ) -> Result<Matcher, MatcherError> {
        let trained_at = knowledge.version();
        let mut examples = Vec::new();
        let mut descriptions = Vec::new();
        for intent in intents {
            for language in Language::ALL {
                for phrase in intent.examples.get(language).into_iter().flatten() {
                    examples.push(Example {
                        text: shorthand::expand(phrase, language),
                        label: format!("{INTENT_PREFIX}{}", intent.intent),
                    });
                }
            }
        }
        let mut activities = HashMap::new();
        for document in knowledge.generation().all(DocKind::Activity)? {
            let Document::Activity(activity) = document else {
                continue;
            };
            let label = format!("{ACTIVITY_PREFIX}{}", activity.id);
            for language in Language::ALL {
                let names = activity.name.get(language).into_iter();
                let phrases = activity.examples.get(language).into_iter().flatten();
                for text in names.chain(phrases) {
                    examples.push(Example {
                        text: shorthand::expand(text, language),
                        label: label.clone(),
                    });
                }
            }
            for language in Language::ALL {
                if let Some(description) = activity.description.get(language) {
                    descriptions.push(shorthand::expand(description, language));
                }
            }
            activities.insert(activity.id.clone(), activity);
        }
        let domain = DomainWords::build(
            examples
                .iter()
                .map(|example| (example.text.as_str(), example.label.as_str())),
            descriptions.iter().map(String::as_str),
        );
        let classifier = match &encoder {
            Some(encoder) => Classifier::train_with_encoder(
                &examples,
                &TrainOptions::default(),
                encoder.clone(),
                EncoderOptions::default(),
                None,
            )?,
            None => Classifier::train(&examples, &TrainOptions::default())?,
        };
        let mut intent_labels = HashMap::new();
        let mut activity_labels = HashMap::new();
        for (index, label) in classifier.labels().iter().enumerate() {
            if let Some(name) = label.strip_prefix(INTENT_PREFIX) {
                if let Some(control) = super::intents::control_intent(name) {
                    intent_labels.insert(index, control);
                }
            } else if let Some(id) = label.strip_prefix(ACTIVITY_PREFIX) {
                activity_labels.insert(index, id.to_string());
            }
        }
        Ok(Matcher {
            classifier,
            intents: intent_labels,
            activity_labels,
            domain,
            activities,
            knowledge,
            settings,
            intent_files: Arc::new(intents.to_vec()),
            encoder,
            trained_at,
        })
    }

    /// Whether the knowledge base changed since this matcher was trained.
    pub fn is_stale(&self) -> bool {
        self.knowledge.version() != self.trained_at
    }

    /// A matcher trained anew on the same intents and the current catalogue (blocking).
    pub fn retrained(&self) -> Result<Matcher, MatcherError> {
        Matcher::build_with_encoder(
            &self.intent_files,
            self.knowledge.clone(),
            self.settings,
            self.encoder.clone(),
        )
    }

    /// The knowledge base the matcher searches.
    pub fn knowledge(&self) -> &Arc<KnowledgeBase> {
        &self.knowledge
    }

    /// How many activities the classifier knows.
    pub fn activity_count(&self) -> usize {
        self.activities.len()
    }

    /// Decides what `input` is about (blocking: searches the index).
    pub fn decide(&self, input: &MatchInput) -> Result<Decision, KnowledgeError> {
        let settings = self.settings;
        let (want_intents, want_activities, want_articles) = wanted(input.expecting);
        let mut signals = Vec::new();
        let mut scored: Vec<(f32, Scored)> = Vec::new();
        // The article that answers a question asking how, when there is one.
        let mut how_to: Option<ArticleHit> = None;

        // Short forms written out, as in training ("forgot my pw" is "forgot my password").
        let expanded = shorthand::expand(input.text, input.language);
        let prediction = self.classifier.classify(&expanded, 8);
        // Text about something else ("print me a joke") gets an activity from the classifier
        // only as far as its words say it: parts of words ("print" inside "printer") must not
        // make up for the absence of in-domain words.
        let word_probabilities = self
            .domain
            .is_about_something_else(&expanded)
            .then(|| self.classifier.word_probabilities(&expanded));
        let lexical = prediction.lexical.as_deref();
        let mut activity_confidence: HashMap<String, f32> = HashMap::new();
        for entry in &prediction.scored {
            if let Some(intent) = self.intents.get(&entry.label) {
                // The sentence vector of any text says something: text about something else
                // ("what's the weather like tomorrow") must not become a control intent
                // ("greeting") on its vector. Control phrases are short and fixed, and the
                // words judge them well: the encoder stage may lower an intent, never raise it.
                let confidence = match lexical {
                    Some(lexical) => entry
                        .probability
                        .min(lexical.get(entry.label).copied().unwrap_or(0.0)),
                    None => entry.probability,
                };
                signals.push(Signal {
                    candidate: format!("{INTENT_PREFIX}{}", intent_name(*intent)),
                    confidence,
                    source: "classifier",
                });
                if want_intents && confidence >= settings.intent_threshold {
                    scored.push((confidence, Scored::Intent(*intent)));
                }
            } else if let Some(id) = self.activity_labels.get(&entry.label) {
                // A group-only activity leaves no trace for an outsider, signals included.
                let visible = self
                    .activities
                    .get(id)
                    .is_some_and(|activity| activity.visibility.allows(input.groups));
                if !visible {
                    continue;
                }
                let confidence = match &word_probabilities {
                    Some(words) => entry
                        .probability
                        .min(words.get(entry.label).copied().unwrap_or(0.0)),
                    None => entry.probability,
                };
                signals.push(Signal {
                    candidate: format!("{ACTIVITY_PREFIX}{id}"),
                    confidence,
                    source: "classifier",
                });
                activity_confidence.insert(id.clone(), confidence);
            }
        }

        if want_activities || want_articles {
            // The search reads the text as typed unless a short form was written out: its
            // own analyzers fold case and accents the same way.
            let query = if expanded == normalize(input.text) {
                input.text.to_string()
            } else {
                expanded.clone()
            };
            let mut request = SearchRequest::new(query);
            request.groups = input.groups.to_vec();
            request.language = Some(input.language);
            request.limit = 8;
            request.kind = match (want_activities, want_articles) {
                (true, false) => Some(DocKind::Activity),
                (false, true) => Some(DocKind::Article),
                _ => None,
            };
            // Ids and titles come from the index's columns; only the few articles that
            // clear the threshold are loaded in full.
            request.with_documents = false;
            let hits = self.knowledge.search(&request)?;
            // A question asking how is answered by the article the search ranks first, above
            // every activity, whatever the classifier thinks of the activities.
            let leading_article = hits
                .first()
                .filter(|hit| hit.kind == DocKind::Article)
                .filter(|_| want_articles && howto::asks_how(&expanded, input.language))
                .map(|hit| hit.id.as_str());
            let mut article_rank = 0;
            for hit in &hits {
                match hit.kind {
                    DocKind::Activity if want_activities => {
                        let confidence = 0.95 * hit.title_similarity;
                        signals.push(Signal {
                            candidate: format!("{ACTIVITY_PREFIX}{}", hit.id),
                            confidence,
                            source: "search",
                        });
                        let entry = activity_confidence.entry(hit.id.clone()).or_insert(0.0);
                        *entry = entry.max(confidence);
                    }
                    DocKind::Article if want_articles => {
                        // A clear first place in the ranking adds to the title evidence.
                        let lead = if article_rank == 0 {
                            0.15 * hit.lexical
                        } else {
                            0.0
                        };
                        article_rank += 1;
                        // The exact title typed is decisive: above any probability, so
                        // no tie with a classifier guess makes it a question.
                        let confidence = if hit.title_similarity >= EXACT_TITLE {
                            1.0 + self.settings.ambiguity_margin * 2.0
                        } else {
                            (hit.title_similarity + lead).min(1.0)
                        };
                        // A part of a title finds the article: a query whose every word is
                        // in the title of an article in the requester's language lists it,
                        // however long the title is.
                        let title_part = hit.title_part && confidence < settings.article_threshold;
                        let leads = leading_article == Some(hit.id.as_str());
                        if confidence < settings.article_threshold && !title_part && !leads {
                            continue;
                        }
                        let Some(Document::Article(article)) =
                            self.knowledge.get(DocKind::Article, &hit.id)?
                        else {
                            continue;
                        };
                        if !article.visibility.allows(input.groups) {
                            continue;
                        }
                        let same_language = article.language == input.language;
                        let answers_how = leads && same_language;
                        let confidence = match (title_part, same_language) {
                            _ if answers_how => confidence.max(settings.article_threshold),
                            (false, _) => confidence,
                            (true, true) => settings.article_threshold,
                            (true, false) => continue,
                        };
                        let found = ArticleHit {
                            id: article.id.clone(),
                            title: article.title.clone(),
                            summary: article.summary.clone(),
                            url: article.url.clone().unwrap_or_default(),
                            score: confidence,
                        };
                        if answers_how {
                            how_to = Some(found.clone());
                        }
                        scored.push((confidence, Scored::Article(found)));
                    }
                    _ => {}
                }
            }
        }
        if want_activities {
            // In id order: a tie in confidence must not depend on a hash map's order.
            let mut activity_confidence: Vec<(String, f32)> =
                activity_confidence.into_iter().collect();
            activity_confidence.sort_by(|a, b| a.0.cmp(&b.0));
            for (id, confidence) in activity_confidence {
                if confidence >= settings.activity_threshold {
                    scored.push((confidence, Scored::Activity(id)));
                }
            }
        }
        scored.retain(|(confidence, candidate)| match candidate {
            Scored::Intent(_) => *confidence >= settings.intent_threshold,
            Scored::Activity(_) => *confidence >= settings.activity_threshold,
            Scored::Article(_) => *confidence >= settings.article_threshold,
        });
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        let understanding = self.understanding(&scored, how_to, input.language);
        Ok(Decision {
            understanding,
            signals,
        })
    }

    /// The candidates of `signals` that fell short of their threshold by at most `margin`,
    /// best first, at most three, each checked again against what the requester may see:
    /// what a re-ranker may still pick when the decision was a fallback (blocking: reads
    /// articles from the index).
    pub fn near_candidates(
        &self,
        signals: &[Signal],
        input: &MatchInput,
        margin: f32,
    ) -> Result<Vec<Candidate>, KnowledgeError> {
        let settings = self.settings;
        let mut near: Vec<&Signal> = signals
            .iter()
            .filter(|signal| {
                let threshold = if signal.candidate.starts_with(INTENT_PREFIX) {
                    settings.intent_threshold
                } else if signal.candidate.starts_with(ACTIVITY_PREFIX) {
                    settings.activity_threshold
                } else {
                    settings.article_threshold
                };
                signal.confidence < threshold && signal.confidence >= threshold - margin
            })
            .collect();
        let (want_intents, want_activities, want_articles) = wanted(input.expecting);
        near.retain(|signal| {
            if signal.candidate.starts_with(INTENT_PREFIX) {
                want_intents
            } else if signal.candidate.starts_with(ACTIVITY_PREFIX) {
                want_activities
            } else {
                want_articles
            }
        });
        near.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        let mut candidates: Vec<Candidate> = Vec::new();
        for signal in near {
            if candidates.len() == 3 {
                break;
            }
            let candidate = if let Some(name) = signal.candidate.strip_prefix(INTENT_PREFIX) {
                super::intents::control_intent(name).map(|intent| Candidate::Intent { intent })
            } else if let Some(id) = signal.candidate.strip_prefix(ACTIVITY_PREFIX) {
                self.activities
                    .get(id)
                    .filter(|activity| activity.visibility.allows(input.groups))
                    .and_then(|_| self.activity_hit(id, signal.confidence, input.language))
                    .map(|activity| Candidate::Activity { activity })
            } else if let Some(id) = signal.candidate.strip_prefix("article:") {
                match self.knowledge.get(DocKind::Article, id)? {
                    Some(Document::Article(article)) if article.visibility.allows(input.groups) => {
                        Some(Candidate::Article {
                            article: ArticleHit {
                                id: article.id.clone(),
                                title: article.title.clone(),
                                summary: article.summary.clone(),
                                url: article.url.clone().unwrap_or_default(),
                                score: signal.confidence,
                            },
                        })
                    }
                    _ => None,
                }
            } else {
                None
            };
            // The same candidate can come from the classifier and from the search.
            if let Some(candidate) = candidate
                && !candidates.contains(&candidate)
            {
                candidates.push(candidate);
            }
        }
        Ok(candidates)
    }

    fn activity_hit(&self, id: &str, confidence: f32, language: Language) -> Option<ActivityHit> {
        let activity = self.activities.get(id)?;
        Some(ActivityHit {
            id: activity.id.clone(),
            name: activity
                .name
                .get_or_any(language)
                .cloned()
                .unwrap_or_else(|| activity.id.clone()),
            contract: activity.contract.clone(),
            group: activity.group.clone(),
            score: confidence,
        })
    }

    fn candidate(&self, scored: &Scored, confidence: f32, language: Language) -> Option<Candidate> {
        Some(match scored {
            Scored::Intent(intent) => Candidate::Intent { intent: *intent },
            Scored::Activity(id) => Candidate::Activity {
                activity: self.activity_hit(id, confidence, language)?,
            },
            Scored::Article(article) => Candidate::Article {
                article: article.clone(),
            },
        })
    }

    fn understanding(
        &self,
        scored: &[(f32, Scored)],
        how_to: Option<ArticleHit>,
        language: Language,
    ) -> Understanding {
        let Some((best, first)) = scored.first() else {
            return Understanding::Fallback;
        };
        // A question asking how is answered by its article first, unless it is a control
        // intent ("how do I open a ticket"); the likeliest activity stays on offer after it.
        if let Some(article) = how_to
            && !matches!(first, Scored::Intent(_))
        {
            let activity = scored
                .iter()
                .find_map(|(confidence, candidate)| match candidate {
                    Scored::Activity(id) => self.activity_hit(id, *confidence, language),
                    _ => None,
                });
            if let Some(activity) = activity {
                return Understanding::Ambiguous {
                    candidates: vec![
                        Candidate::Article { article },
                        Candidate::Activity { activity },
                    ],
                };
            }
            let others: Vec<ArticleHit> = scored
                .iter()
                .filter_map(|(_, candidate)| match candidate {
                    Scored::Article(other) if other.id != article.id => Some(other.clone()),
                    _ => None,
                })
                .collect();
            let hits = std::iter::once(article)
                .chain(others)
                .take(crate::conversation::MAX_LISTED)
                .collect();
            return Understanding::Articles { hits };
        }
        let close: Vec<&(f32, Scored)> = scored
            .iter()
            .filter(|(confidence, _)| best - confidence <= self.settings.ambiguity_margin)
            .take(3)
            .collect();
        let kinds_differ = close
            .iter()
            .any(|(_, other)| std::mem::discriminant(other) != std::mem::discriminant(first));
        // Several articles that all fit are a list, not a question; a tie across kinds (or
        // between activities) is a question.
        let ambiguous = close.len() > 1 && (kinds_differ || !matches!(first, Scored::Article(_)));
        if ambiguous {
            let candidates: Vec<Candidate> = close
                .iter()
                .filter_map(|(confidence, candidate)| {
                    self.candidate(candidate, *confidence, language)
                })
                .collect();
            if candidates.len() > 1 {
                return Understanding::Ambiguous { candidates };
            }
        }
        match first {
            Scored::Intent(intent) => Understanding::Control {
                intent: *intent,
                confidence: *best,
            },
            Scored::Activity(_) => Understanding::Activities {
                hits: scored
                    .iter()
                    .filter_map(|(confidence, candidate)| match candidate {
                        Scored::Activity(id) => self.activity_hit(id, *confidence, language),
                        _ => None,
                    })
                    .take(3)
                    .collect(),
            },
            Scored::Article(_) => Understanding::Articles {
                hits: scored
                    .iter()
                    .filter_map(|(_, candidate)| match candidate {
                        Scored::Article(article) => Some(article.clone()),
                        _ => None,
                    })
                    .take(crate::conversation::MAX_LISTED)
                    .collect(),
            },
        }
    }
}

/// Which kinds of candidate (intents, activities, articles) the conversation's current
/// question admits.
fn wanted(expecting: Expecting) -> (bool, bool, bool) {
    let intents = !matches!(expecting, Expecting::HumanChat | Expecting::Nothing);
    let (activities, articles) = match expecting {
        Expecting::FreeText | Expecting::Choice => (true, true),
        Expecting::ActivityName | Expecting::Description => (true, false),
        Expecting::ArticleTitle => (false, true),
        _ => (false, false),
    };
    (intents, activities, articles)
}

/// The file name (snake_case) of a control intent.
pub fn intent_name(intent: ControlIntent) -> String {
    serde_json::to_value(intent)
        .ok()
        .and_then(|value| value.as_str().map(str::to_string))
        .unwrap_or_default()
}
