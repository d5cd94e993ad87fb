//! The intent classifier: training options, the trained [`Classifier`] (vocabulary, weights,
//! temperature), prediction with calibrated probabilities and the confidence used for the
//! fallback decision.
//!
//! **Confidence** is the calibrated probability of the best label. It reads as "how likely
//! the answer is right", so one threshold means the same thing whatever the number of
//! intents; and out-of-scope text lowers it twice: its unseen words shrink the known part of
//! the feature vector (flatter logits) and its seen words usually point at several intents.
//! The margin between the two best labels and a product with the known-feature mass were
//! measured too: neither did better on CLINC150 or cosibot, and the margin did worse at high
//! out-of-scope recall.
//!
//! **Calibration**: by default `train` holds out a stratified tenth of the examples, fits a
//! provisional model on the rest, picks the softmax temperature that minimises the held-out
//! negative log-likelihood, then fits the final model on everything with that temperature.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::IntentError;
use super::features::{FeatureOptions, SparseVector, Vocabulary, extract, featurize};
use super::normalize::normalize;
use super::sgd::{SgdSettings, SplitMix64, fit_softmax, softmax_in_place};
use crate::encoder::Encoder;

/// One training example.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    pub text: String,
    pub label: String,
}

/// A label (index into [`Classifier::labels`]) with its probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub label: usize,
    pub probability: f32,
}

/// The top labels of one text and the confidence in the best one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Best first; at most `k` entries.
    pub scored: Vec<Scored>,
    /// In `[0, 1]`; the text falls back to a person when it is below the threshold.
    pub confidence: f32,
    /// When the encoder stage answered (the words alone were unsure): the lexical model's
    /// probabilities over all labels, indexed as [`Scored::label`], for a caller that
    /// weighs the two.
    #[serde(skip)]
    pub lexical: Option<Vec<f32>>,
}

impl Prediction {
    /// The best `k` of `probabilities` (indexed by label) and the confidence.
    fn top(probabilities: Vec<f32>, k: usize, lexical: Option<Vec<f32>>) -> Prediction {
        let confidence = top_probability(&probabilities);
        let mut scored: Vec<Scored> = probabilities
            .into_iter()
            .enumerate()
            .map(|(label, probability)| Scored { label, probability })
            .collect();
        let by_probability = |a: &Scored, b: &Scored| {
            b.probability
                .total_cmp(&a.probability)
                .then(a.label.cmp(&b.label))
        };
        let keep = k.min(scored.len());
        if keep > 0 && keep < scored.len() {
            scored.select_nth_unstable_by(keep - 1, by_probability);
        }
        scored.truncate(keep);
        scored.sort_by(by_probability);
        Prediction {
            scored,
            confidence,
            lexical,
        }
    }
}

/// The highest of `probabilities`, in `[0, 1]`.
fn top_probability(probabilities: &[f32]) -> f32 {
    probabilities
        .iter()
        .copied()
        .fold(0.0f32, f32::max)
        .min(1.0)
}

/// Training hyper-parameters. The defaults were chosen on CLINC150 and cosibot validation
/// data among settings that did equally well around them (see the crate notes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    pub features: FeatureOptions,
    /// Passes over the training set.
    pub epochs: usize,
    /// First SGD step; it decays linearly to zero.
    pub learning_rate: f32,
    /// L2 regularisation strength (per step).
    pub l2: f32,
    /// Probability of dropping each feature of an example at each step. 0.7 rather than 0.5:
    /// over four seeds, validation raw accuracy +0.6 point on cosibot and +0.04 on CLINC150
    /// (0.8 was no better).
    pub dropout: f32,
    /// Class re-weighting: an example weighs `(mean class size / its class size)^balance`,
    /// so 0 is no re-weighting and 0.5 the square root of inverse frequency.
    pub balance: f32,
    /// Seed of the PRNG; the same seed and examples give the same model.
    pub seed: u64,
    /// Fraction of each label's examples held out to fit the temperature; 0 disables
    /// calibration and uses `temperature`.
    pub calibration_fraction: f32,
    /// The softmax temperature when calibration is disabled or not possible.
    pub temperature: f32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            features: FeatureOptions::default(),
            epochs: 20,
            learning_rate: 1.0,
            l2: 1e-6,
            dropout: 0.7,
            balance: 0.5,
            seed: 0x5eed_1234_abcd_0001,
            calibration_fraction: 0.1,
            temperature: 1.0,
        }
    }
}

impl TrainOptions {
    fn validate(&self) -> Result<(), IntentError> {
        let features = &self.features;
        let problem = if self.epochs == 0 {
            Some("epochs must be at least 1")
        } else if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            Some("learning_rate must be positive")
        } else if !(self.l2 >= 0.0 && self.l2 * self.learning_rate < 1.0) {
            Some("l2 must be in [0, 1 / learning_rate)")
        } else if !(0.0..1.0).contains(&self.dropout) {
            Some("dropout must be in [0, 1)")
        } else if !(self.balance >= 0.0 && self.balance.is_finite()) {
            Some("balance must not be negative")
        } else if !(0.0..0.5).contains(&self.calibration_fraction) {
            Some("calibration_fraction must be in [0, 0.5)")
        } else if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            Some("temperature must be positive")
        } else if features.word_ngrams == 0 && features.char_max == 0 {
            Some("word_ngrams and char_max cannot both be 0")
        } else if features.char_max > 0 && features.char_min > features.char_max {
            Some("char_min must not exceed char_max")
        } else if !(features.word_weight >= 0.0 && features.char_weight >= 0.0) {
            Some("feature group weights must not be negative")
        } else {
            None
        };
        match problem {
            Some(message) => Err(IntentError::InvalidOptions(message.to_string())),
            None => Ok(()),
        }
    }

    fn sgd(&self) -> SgdSettings {
        SgdSettings {
            epochs: self.epochs,
            learning_rate: self.learning_rate,
            l2: self.l2,
            dropout: self.dropout,
            balance: self.balance,
            seed: self.seed,
        }
    }
}

/// How the sentence encoder's vectors join the classifier (see [`Classifier::train_with_encoder`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EncoderOptions {
    /// Scale of the (unit-norm) sentence vector beside the unit-norm word and character
    /// groups.
    pub weight: f32,
    /// The cascade: a text whose lexical confidence reaches this is answered without the
    /// encoder; 1.0 (or more) runs the encoder on every text.
    pub confident: f32,
}

impl Default for EncoderOptions {
    fn default() -> Self {
        EncoderOptions {
            weight: 1.0,
            confident: 0.95,
        }
    }
}

/// The classifier's encoder stage: the encoder and a second model on the lexical features
/// plus the sentence vector, run when the lexical model is not confident.
#[derive(Debug, Clone)]
struct Semantic {
    encoder: Arc<Encoder>,
    model: Classifier,
    options: EncoderOptions,
}

/// An example with its sentence vector when the model uses one.
type Item<'a> = (&'a Example, Option<&'a [f32]>);

/// A trained intent classifier. Cheap to share (`&self` everywhere after training).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Classifier {
    /// Sorted; [`Scored::label`] indexes this.
    labels: Vec<String>,
    features: FeatureOptions,
    vocabulary: Vocabulary,
    /// Row-major: `weights[row * labels.len() + label]`.
    weights: Vec<f32>,
    bias: Vec<f32>,
    temperature: f32,
    /// Scale of the sentence vector's features.
    #[serde(default)]
    dense_weight: f32,
    #[serde(skip)]
    semantic: Option<Box<Semantic>>,
}

/// Fewer held-out examples than this give a temperature too noisy to trust.
const MIN_CALIBRATION_EXAMPLES: usize = 20;

impl Classifier {
    /// Trains a classifier on `examples` (at least one, no empty label). Deterministic for
    /// given examples and options.
    pub fn train(examples: &[Example], options: &TrainOptions) -> Result<Classifier, IntentError> {
        let items: Vec<Item> = examples.iter().map(|example| (example, None)).collect();
        Classifier::train_items(&items, options, 0.0)
    }

    /// Trains the lexical classifier and, beside it, the encoder stage: a second model whose
    /// features are the lexical ones plus `encoder`'s sentence vector (scaled by
    /// `encoding.weight`). [`Classifier::classify`] then runs the encoder only on the texts
    /// the lexical model is not confident about. `vectors`, when given, are the examples'
    /// sentence vectors already computed (in order); otherwise they are computed here.
    pub fn train_with_encoder(
        examples: &[Example],
        options: &TrainOptions,
        encoder: Arc<Encoder>,
        encoding: EncoderOptions,
        vectors: Option<&[Vec<f32>]>,
    ) -> Result<Classifier, IntentError> {
        if !(encoding.weight > 0.0 && encoding.weight.is_finite()) {
            return Err(IntentError::InvalidOptions(
                "the encoder's weight must be positive".into(),
            ));
        }
        let mut lexical = Classifier::train(examples, options)?;
        let computed;
        let vectors = match vectors {
            Some(vectors) if vectors.len() == examples.len() => vectors,
            Some(_) => {
                return Err(IntentError::InvalidOptions(
                    "one sentence vector per example is needed".into(),
                ));
            }
            None => {
                let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
                computed = encoder.embed_all(&texts);
                &computed
            }
        };
        let items: Vec<Item> = examples
            .iter()
            .zip(vectors)
            .map(|(example, vector)| (example, Some(vector.as_slice())))
            .collect();
        let model = Classifier::train_items(&items, options, encoding.weight)?;
        // Same examples, same options: the same vocabulary, which classifying relies on.
        debug_assert_eq!(model.vocabulary.len(), lexical.vocabulary.len());
        lexical.semantic = Some(Box::new(Semantic {
            encoder,
            model,
            options: encoding,
        }));
        Ok(lexical)
    }

    fn train_items(
        items: &[Item],
        options: &TrainOptions,
        dense_weight: f32,
    ) -> Result<Classifier, IntentError> {
        options.validate()?;
        if items.is_empty() {
            return Err(IntentError::NoTrainingData);
        }
        if let Some(index) = items.iter().position(|(e, _)| e.label.trim().is_empty()) {
            return Err(IntentError::EmptyLabel { index });
        }

        let held_out = calibration_split(items, options);
        let temperature = if held_out.is_empty() {
            options.temperature
        } else {
            let mut is_held_out = vec![false; items.len()];
            for &index in &held_out {
                is_held_out[index] = true;
            }
            let mut fit_part: Vec<Item> = Vec::with_capacity(items.len());
            let mut calibration_part: Vec<Item> = Vec::with_capacity(held_out.len());
            for (item, held) in items.iter().zip(&is_held_out) {
                if *held {
                    calibration_part.push(*item);
                } else {
                    fit_part.push(*item);
                }
            }
            let mut provisional = Classifier::fit(&fit_part, options, dense_weight);
            provisional.calibrate_items(&calibration_part)
        };
        let mut classifier = Classifier::fit(items, options, dense_weight);
        classifier.temperature = temperature;
        Ok(classifier)
    }

    /// Builds the vocabulary and fits the weights on `items` (assumed valid).
    fn fit(items: &[Item], options: &TrainOptions, dense_weight: f32) -> Classifier {
        let mut labels: Vec<String> = items.iter().map(|(e, _)| e.label.clone()).collect();
        labels.sort();
        labels.dedup();
        let targets: Vec<usize> = items
            .iter()
            .map(|(e, _)| labels.binary_search(&e.label).unwrap_or_default())
            .collect();
        let raw: Vec<_> = items
            .iter()
            .map(|(e, _)| extract(&normalize(&e.text), &options.features))
            .collect();
        let vocabulary = Vocabulary::build(&raw, options.features.min_df);
        let dense_rows = items
            .iter()
            .find_map(|(_, vector)| vector.map(<[f32]>::len))
            .unwrap_or(0);
        let vectors: Vec<SparseVector> = raw
            .iter()
            .zip(items)
            .map(|(features, (_, dense))| {
                let mut vector = vocabulary.vectorize(features, &options.features);
                append_dense(&mut vector, vocabulary.len(), *dense, dense_weight);
                vector
            })
            .collect();
        let model = fit_softmax(
            &vectors,
            &targets,
            labels.len(),
            vocabulary.len() + dense_rows,
            &options.sgd(),
        );
        Classifier {
            labels,
            features: options.features.clone(),
            vocabulary,
            weights: model.weights,
            bias: model.bias,
            temperature: options.temperature,
            dense_weight,
            semantic: None,
        }
    }

    /// The labels, sorted, in the order used by [`Scored::label`].
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The name of label `index`.
    pub fn label(&self, index: usize) -> Option<&str> {
        self.labels.get(index).map(String::as_str)
    }

    /// The softmax temperature in use.
    pub fn temperature(&self) -> f32 {
        self.temperature
    }

    /// Number of features (vocabulary rows) the model has weights for; the weight matrix
    /// holds `feature_count() * labels().len()` floats.
    pub fn feature_count(&self) -> usize {
        self.vocabulary.len()
    }

    /// Calibrated probabilities over labels, best first (top `k`).
    pub fn predict(&self, text: &str, k: usize) -> Vec<Scored> {
        self.classify(text, k).scored
    }

    /// The confidence in the best label of `text`, in `[0, 1]` (see the module notes).
    pub fn confidence(&self, text: &str) -> f32 {
        self.classify(text, 1).confidence
    }

    /// Top `k` labels and the confidence, in one pass: what the assistant calls per message.
    /// With an encoder stage, a text the lexical model is not confident about is classified
    /// again with its sentence vector.
    pub fn classify(&self, text: &str, k: usize) -> Prediction {
        self.classify_encoded(text, k, |encoder| encoder.embed(text))
    }

    /// [`Classifier::classify`] with the sentence vector from `embed` (called only when the
    /// encoder stage runs): the evaluation passes vectors it computed in bulk.
    pub fn classify_encoded(
        &self,
        text: &str,
        k: usize,
        embed: impl FnOnce(&Encoder) -> Vec<f32>,
    ) -> Prediction {
        let mut vector = featurize(text, &self.features, &self.vocabulary);
        let lexical = self.probabilities(&vector);
        let Some(semantic) = &self.semantic else {
            return Prediction::top(lexical, k, None);
        };
        if top_probability(&lexical) >= semantic.options.confident {
            return Prediction::top(lexical, k, None);
        }
        // The encoder stage's model was fitted on the same examples with the same options,
        // so its vocabulary is this one: the lexical features are reused, the vector appended.
        let dense = embed(&semantic.encoder);
        append_dense(
            &mut vector,
            self.vocabulary.len(),
            Some(&dense),
            semantic.model.dense_weight,
        );
        Prediction::top(semantic.model.probabilities(&vector), k, Some(lexical))
    }

    /// The calibrated probabilities over labels of a feature vector.
    fn probabilities(&self, vector: &SparseVector) -> Vec<f32> {
        let mut probabilities = self.logits(vector);
        for value in probabilities.iter_mut() {
            *value /= self.temperature;
        }
        softmax_in_place(&mut probabilities);
        probabilities
    }

    /// The calibrated probabilities over labels (indexed as [`Scored::label`]) from the
    /// words of `text` alone, without their character n-grams: what the words, rather than
    /// parts of them, say.
    pub fn word_probabilities(&self, text: &str) -> Vec<f32> {
        let words_only = FeatureOptions {
            char_max: 0,
            ..self.features.clone()
        };
        let raw = extract(&normalize(text), &words_only);
        // Each feature group is normalised on its own, so this is the full vector's word part.
        self.probabilities(&self.vocabulary.vectorize(&raw, &self.features))
    }

    /// Fits the softmax temperature that minimises the negative log-likelihood of
    /// `held_out` (examples the model was not trained on; unknown labels are skipped),
    /// keeps it and returns it. Without usable examples the temperature is unchanged.
    pub fn calibrate(&mut self, held_out: &[Example]) -> f32 {
        let items: Vec<Item> = held_out.iter().map(|example| (example, None)).collect();
        self.calibrate_items(&items)
    }

    fn calibrate_items(&mut self, held_out: &[Item]) -> f32 {
        let scored: Vec<(Vec<f32>, usize)> = held_out
            .iter()
            .filter_map(|(example, dense)| {
                let label = self.labels.binary_search(&example.label).ok()?;
                let mut vector = featurize(&example.text, &self.features, &self.vocabulary);
                append_dense(
                    &mut vector,
                    self.vocabulary.len(),
                    *dense,
                    self.dense_weight,
                );
                Some((self.logits(&vector), label))
            })
            .collect();
        if scored.is_empty() || self.labels.len() < 2 {
            return self.temperature;
        }
        let negative_log_likelihood = |log_temperature: f64| -> f64 {
            let temperature = log_temperature.exp();
            scored
                .iter()
                .map(|(logits, label)| {
                    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let sum: f64 = logits
                        .iter()
                        .map(|&logit| (f64::from(logit - max) / temperature).exp())
                        .sum();
                    sum.ln() - f64::from(logits[*label] - max) / temperature
                })
                .sum()
        };
        // Golden-section search on ln(temperature), over [0.05, 20]: the NLL of temperature
        // scaling is unimodal in the temperature.
        let ratio = (5f64.sqrt() - 1.0) / 2.0;
        let (mut low, mut high) = (0.05f64.ln(), 20f64.ln());
        let mut left = high - ratio * (high - low);
        let mut right = low + ratio * (high - low);
        let mut left_value = negative_log_likelihood(left);
        let mut right_value = negative_log_likelihood(right);
        for _ in 0..40 {
            if left_value < right_value {
                high = right;
                right = left;
                right_value = left_value;
                left = high - ratio * (high - low);
                left_value = negative_log_likelihood(left);
            } else {
                low = left;
                left = right;
                left_value = right_value;
                right = low + ratio * (high - low);
                right_value = negative_log_likelihood(right);
            }
        }
        self.temperature = ((low + high) / 2.0).exp() as f32;
        self.temperature
    }

    fn logits(&self, vector: &SparseVector) -> Vec<f32> {
        let classes = self.labels.len();
        let mut logits = self.bias.clone();
        for &(row, value) in vector {
            let start = row as usize * classes;
            let Some(weights) = self.weights.get(start..start + classes) else {
                continue;
            };
            for (logit, weight) in logits.iter_mut().zip(weights) {
                *logit += value * weight;
            }
        }
        logits
    }
}

/// Appends the sentence vector `dense` (scaled by `weight`) to a lexical feature vector, as
/// the rows after the vocabulary's.
fn append_dense(vector: &mut SparseVector, vocabulary: usize, dense: Option<&[f32]>, weight: f32) {
    if let Some(dense) = dense {
        vector.extend(
            dense
                .iter()
                .enumerate()
                .map(|(index, value)| ((vocabulary + index) as u32, value * weight)),
        );
    }
}

/// Indices of the examples held out for calibration: from each label with enough examples,
/// `floor(n * fraction)` of them (never all), picked by the seeded PRNG. Empty when
/// calibration is off or would rest on too few examples or a single label.
fn calibration_split(examples: &[Item], options: &TrainOptions) -> Vec<usize> {
    if options.calibration_fraction <= 0.0 {
        return Vec::new();
    }
    let mut by_label: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (index, (example, _)) in examples.iter().enumerate() {
        by_label
            .entry(example.label.as_str())
            .or_default()
            .push(index);
    }
    if by_label.len() < 2 {
        return Vec::new();
    }
    let mut rng = SplitMix64::new(options.seed ^ 0xca11_b4a7_e000_0000);
    let mut held_out = Vec::new();
    for indices in by_label.values_mut() {
        let take = ((indices.len() as f32 * options.calibration_fraction) as usize)
            .min(indices.len().saturating_sub(1));
        rng.shuffle(indices);
        held_out.extend_from_slice(&indices[..take]);
    }
    if held_out.len() < MIN_CALIBRATION_EXAMPLES {
        return Vec::new();
    }
    held_out.sort_unstable();
    held_out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examples(rows: &[(&str, &str)]) -> Vec<Example> {
        rows.iter()
            .map(|&(label, text)| Example {
                text: text.to_string(),
                label: label.to_string(),
            })
            .collect()
    }

    /// A small service-desk set in the three languages.
    fn service_desk() -> Vec<Example> {
        examples(&[
            ("reset_password", "i forgot my password"),
            ("reset_password", "reset my password please"),
            ("reset_password", "i cannot log in, password expired"),
            ("reset_password", "esqueci minha senha"),
            ("reset_password", "preciso trocar a senha"),
            ("reset_password", "olvidé mi contraseña"),
            ("printer", "the printer is not printing"),
            ("printer", "printer paper jam"),
            ("printer", "my printer shows an error"),
            ("printer", "a impressora não imprime"),
            ("printer", "impressora com papel preso"),
            ("printer", "la impresora no funciona"),
            ("talk_to_human", "i want to talk to a person"),
            ("talk_to_human", "connect me with an attendant"),
            ("talk_to_human", "let me speak to a human"),
            ("talk_to_human", "quero falar com um atendente"),
            ("talk_to_human", "falar com uma pessoa"),
            ("talk_to_human", "quiero hablar con una persona"),
        ])
    }

    fn best_label(classifier: &Classifier, text: &str) -> String {
        let scored = classifier.predict(text, 1);
        classifier
            .label(scored[0].label)
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn predicts_the_right_label_on_a_tiny_set() {
        let classifier = Classifier::train(&service_desk(), &TrainOptions::default()).unwrap();
        assert_eq!(
            classifier.labels(),
            ["printer", "reset_password", "talk_to_human"]
        );
        assert_eq!(
            best_label(&classifier, "I forgot the password"),
            "reset_password"
        );
        assert_eq!(
            best_label(&classifier, "Esqueci a SENHA!"),
            "reset_password"
        );
        assert_eq!(
            best_label(&classifier, "impressora não funciona"),
            "printer"
        );
        assert_eq!(
            best_label(&classifier, "can i speak to a person"),
            "talk_to_human"
        );
    }

    #[test]
    fn unseen_words_get_low_confidence() {
        let classifier = Classifier::train(&service_desk(), &TrainOptions::default()).unwrap();
        let known = classifier.confidence("i forgot my password");
        let unknown = classifier.confidence("zebras quixotically juggle xylophones");
        assert!(known > 0.6, "known {known}");
        assert!(unknown < 0.5, "unknown {unknown}");
        assert!(unknown < known);
        // Nothing recognisable at all: the prior alone, close to uniform over 3 labels.
        assert!(classifier.confidence("") < 0.5);
    }

    #[test]
    fn probabilities_are_sorted_and_sum_to_one() {
        let classifier = Classifier::train(&service_desk(), &TrainOptions::default()).unwrap();
        let all = classifier.predict("printer error", 10);
        assert_eq!(all.len(), 3);
        assert!(
            all.windows(2)
                .all(|pair| pair[0].probability >= pair[1].probability)
        );
        let total: f32 = all.iter().map(|s| s.probability).sum();
        assert!((total - 1.0).abs() < 1e-4);
        let top = classifier.classify("printer error", 2);
        assert_eq!(top.scored, all[..2]);
        assert_eq!(top.confidence, all[0].probability);
        assert!(classifier.predict("printer error", 0).is_empty());
    }

    #[test]
    fn training_is_deterministic_and_order_independent_in_labels() {
        let options = TrainOptions::default();
        let first = Classifier::train(&service_desk(), &options).unwrap();
        let second = Classifier::train(&service_desk(), &options).unwrap();
        assert_eq!(first.weights, second.weights);
        assert_eq!(first.temperature(), second.temperature());
        let mut reversed = service_desk();
        reversed.reverse();
        let third = Classifier::train(&reversed, &options).unwrap();
        assert_eq!(third.labels(), first.labels());
    }

    #[test]
    fn calibration_sharpens_an_underconfident_model() {
        // Many examples per label so that the default held-out tenth is used.
        let mut rows = Vec::new();
        for round in 0..12 {
            for example in service_desk() {
                rows.push(Example {
                    text: format!("{} {}", example.text, ["", "ok", "hi", "now"][round % 4]),
                    label: example.label,
                });
            }
        }
        let calibrated = Classifier::train(&rows, &TrainOptions::default()).unwrap();
        // The classes are easy to tell apart, so the fitted temperature sharpens (< 1).
        assert!(
            calibrated.temperature() < 1.0,
            "{}",
            calibrated.temperature()
        );
        let fixed = TrainOptions {
            calibration_fraction: 0.0,
            temperature: 2.0,
            ..TrainOptions::default()
        };
        assert_eq!(Classifier::train(&rows, &fixed).unwrap().temperature(), 2.0);
        // Too few examples to calibrate: the configured temperature stays.
        let small = Classifier::train(&service_desk(), &fixed).unwrap();
        assert_eq!(small.temperature(), 2.0);
    }

    #[test]
    fn explicit_calibration_fits_held_out_examples() {
        let mut classifier = Classifier::train(&service_desk(), &TrainOptions::default()).unwrap();
        let held_out = examples(&[
            ("reset_password", "password forgotten"),
            ("printer", "printer jammed"),
            ("talk_to_human", "talk to an attendant"),
            ("unknown_label", "ignored"),
        ]);
        let temperature = classifier.calibrate(&held_out);
        assert!(temperature > 0.0 && temperature < 1.0, "{temperature}");
        assert_eq!(classifier.temperature(), temperature);
        assert_eq!(classifier.calibrate(&[]), temperature);
    }

    #[test]
    fn rejects_bad_input() {
        let options = TrainOptions::default();
        assert!(matches!(
            Classifier::train(&[], &options),
            Err(IntentError::NoTrainingData)
        ));
        let blank = examples(&[("printer", "printer jam"), (" ", "hello")]);
        assert!(matches!(
            Classifier::train(&blank, &options),
            Err(IntentError::EmptyLabel { index: 1 })
        ));
        let bad = TrainOptions {
            dropout: 1.0,
            ..TrainOptions::default()
        };
        assert!(matches!(
            Classifier::train(&service_desk(), &bad),
            Err(IntentError::InvalidOptions(_))
        ));
    }

    #[test]
    fn a_single_label_always_wins() {
        let classifier = Classifier::train(
            &examples(&[("only", "hello there")]),
            &TrainOptions::default(),
        )
        .unwrap();
        let prediction = classifier.classify("anything", 3);
        assert_eq!(prediction.scored.len(), 1);
        assert_eq!(prediction.confidence, 1.0);
    }
}
