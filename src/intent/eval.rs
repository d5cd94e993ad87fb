//! `ponte eval intents`: reads labelled JSONL rows, trains a [`Classifier`] on the training
//! rows, picks the fallback threshold on the validation rows and reports on the test rows
//! (accuracy with and without the threshold, out-of-scope recall, hand-off precision, the
//! operating curve and per-call latency). The raw accuracy and the operating curve are
//! reported on the validation rows too, apart and labelled: they are what settings are
//! chosen on, while the test figures are only read to report.
//!
//! Definitions, for a threshold `t`:
//! - a row *falls back* when its confidence is below `t`, or, when "oos" is trained as a
//!   class, when "oos" is its best label;
//! - *in-scope accuracy*: of the in-scope rows, the fraction whose best label is right and
//!   that did not fall back;
//! - *out-of-scope recall*: of the "oos" rows, the fraction that fell back;
//! - *hand-off precision*: of the rows that fell back, the fraction that really are "oos"
//!   (the share of hand-offs a person would agree with); undefined when nothing fell back.
//!
//! Ratios over an empty set are `None` and print as JSON `null`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::IntentError;
use super::model::{Classifier, EncoderOptions, Example, TrainOptions};
use crate::encoder::Encoder;

/// The intent that marks out-of-scope text.
pub const OOS_LABEL: &str = "oos";

/// Out-of-scope recall levels of the operating curve, as (JSON key, tenths).
const CURVE_POINTS: [(&str, usize); 3] = [("0.3", 3), ("0.5", 5), ("0.7", 7)];

/// One row of an intent file: `{"text", "intent"}`; other fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabeledRow {
    pub text: String,
    pub intent: String,
}

impl LabeledRow {
    fn is_oos(&self) -> bool {
        self.intent == OOS_LABEL
    }
}

/// Reads a JSONL file of [`LabeledRow`]s. Blank lines are skipped; any other line that is
/// not such an object is an error naming the file and the 1-based line.
pub fn read_jsonl(path: &Path) -> Result<Vec<LabeledRow>, IntentError> {
    let io_error = |source| IntentError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    let mut rows = Vec::new();
    for (index, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io_error)?;
        if line.trim().is_empty() {
            continue;
        }
        let row: LabeledRow = serde_json::from_str(&line).map_err(|error| IntentError::Parse {
            path: path.to_path_buf(),
            line: index + 1,
            reason: error.to_string(),
        })?;
        rows.push(row);
    }
    Ok(rows)
}

/// Row counts behind a report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportCounts {
    pub train_rows: usize,
    /// Rows the classifier was trained on ("oos" rows only with `oos_train`).
    pub train_examples: usize,
    pub labels: usize,
    pub val_rows: usize,
    pub val_oos: usize,
    pub test_rows: usize,
    pub test_in_scope: usize,
    pub test_oos: usize,
}

/// The result of [`evaluate`]. Figures are on the test rows unless named `val_*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentReport {
    pub in_scope_accuracy: Option<f64>,
    pub oos_recall: Option<f64>,
    /// The fallback threshold picked on the validation rows.
    pub threshold: f64,
    pub handoff_precision: Option<f64>,
    /// Best label right, no threshold, over in-scope rows.
    pub raw_accuracy: Option<f64>,
    /// In-scope accuracy at the lowest threshold whose out-of-scope recall reaches
    /// 0.3, 0.5 and 0.7 (keys "0.3", "0.5", "0.7").
    pub in_scope_at_oos_recall: BTreeMap<String, Option<f64>>,
    /// Latency of one classification (normalise, features, scoring), nearest-rank percentiles.
    pub p50_us: u64,
    pub p99_us: u64,
    pub val_in_scope_accuracy: Option<f64>,
    pub val_oos_recall: Option<f64>,
    /// Raw accuracy on the validation rows (what settings are chosen on).
    pub val_raw_accuracy: Option<f64>,
    /// The operating curve on the validation rows.
    pub val_in_scope_at_oos_recall: BTreeMap<String, Option<f64>>,
    pub train_ms: u64,
    /// Softmax temperature the classifier calibrated for itself.
    pub temperature: f32,
    /// Vocabulary rows of the trained model.
    pub feature_count: usize,
    pub oos_train: bool,
    pub counts: ReportCounts,
}

/// The DESIGN.md `--json` object, field order included.
#[derive(Serialize)]
struct JsonLine<'a> {
    in_scope_accuracy: Option<f64>,
    oos_recall: Option<f64>,
    threshold: f64,
    handoff_precision: Option<f64>,
    raw_accuracy: Option<f64>,
    in_scope_at_oos_recall: &'a BTreeMap<String, Option<f64>>,
    p99_us: u64,
}

impl IntentReport {
    /// The one-line JSON object of `ponte eval intents --json`.
    pub fn to_json_line(&self) -> String {
        let line = JsonLine {
            in_scope_accuracy: self.in_scope_accuracy,
            oos_recall: self.oos_recall,
            threshold: self.threshold,
            handoff_precision: self.handoff_precision,
            raw_accuracy: self.raw_accuracy,
            in_scope_at_oos_recall: &self.in_scope_at_oos_recall,
            p99_us: self.p99_us,
        };
        // Serialising plain numbers, options and a string map cannot fail.
        serde_json::to_string(&line).unwrap_or_default()
    }

    /// A human-readable report.
    pub fn render_text(&self) -> String {
        let ratio = |value: Option<f64>| match value {
            Some(value) => format!("{value:.4}"),
            None => "n/a".to_string(),
        };
        let counts = &self.counts;
        let mut text = String::new();
        text.push_str(&format!(
            "train: {} rows, {} examples, {} labels{}, {} features, temperature {:.3}, trained in {} ms\n",
            counts.train_rows,
            counts.train_examples,
            counts.labels,
            if self.oos_train { " (oos trained as a class)" } else { "" },
            self.feature_count,
            self.temperature,
            self.train_ms
        ));
        text.push_str(&format!(
            "validation (threshold chosen here): {} rows ({} oos)\n",
            counts.val_rows, counts.val_oos
        ));
        text.push_str(&format!("  threshold            {:.4}\n", self.threshold));
        text.push_str(&format!(
            "  in-scope accuracy    {}\n",
            ratio(self.val_in_scope_accuracy)
        ));
        text.push_str(&format!(
            "  oos recall           {}\n",
            ratio(self.val_oos_recall)
        ));
        text.push_str(&format!(
            "  raw accuracy         {}\n",
            ratio(self.val_raw_accuracy)
        ));
        for (key, value) in &self.val_in_scope_at_oos_recall {
            text.push_str(&format!(
                "  in-scope at oos recall {key}: {}\n",
                ratio(*value)
            ));
        }
        text.push_str(&format!(
            "test (report only): {} rows ({} in scope, {} oos)\n",
            counts.test_rows, counts.test_in_scope, counts.test_oos
        ));
        text.push_str(&format!(
            "  in-scope accuracy    {}\n",
            ratio(self.in_scope_accuracy)
        ));
        text.push_str(&format!(
            "  oos recall           {}\n",
            ratio(self.oos_recall)
        ));
        text.push_str(&format!(
            "  hand-off precision   {}\n",
            ratio(self.handoff_precision)
        ));
        text.push_str(&format!(
            "  raw accuracy         {}\n",
            ratio(self.raw_accuracy)
        ));
        for (key, value) in &self.in_scope_at_oos_recall {
            text.push_str(&format!(
                "  in-scope at oos recall {key}: {}\n",
                ratio(*value)
            ));
        }
        text.push_str(&format!(
            "  latency p50 {} us, p99 {} us\n",
            self.p50_us, self.p99_us
        ));
        text
    }
}

/// What happened to one evaluated row.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Outcome {
    confidence: f32,
    oos: bool,
    /// In scope and the best label is the gold one.
    correct: bool,
    /// Falls back whatever the threshold ("oos" predicted with `oos_train`).
    forced_fallback: bool,
}

/// Counts at one threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Tally {
    threshold: f64,
    in_scope_right: usize,
    oos_fallen: usize,
    fallen: usize,
}

fn ratio(numerator: usize, denominator: usize) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// Every threshold that changes the outcome, ascending, with the counts at each: 0 (only
/// forced fallbacks), the midpoints between consecutive distinct confidences, and one
/// above the highest confidence (everything falls back).
fn sweep(outcomes: &[Outcome]) -> Vec<Tally> {
    let mut sorted: Vec<Outcome> = outcomes.to_vec();
    sorted.sort_by(|a, b| a.confidence.total_cmp(&b.confidence));
    let mut tally = Tally {
        threshold: 0.0,
        in_scope_right: sorted
            .iter()
            .filter(|o| o.correct && !o.forced_fallback)
            .count(),
        oos_fallen: sorted.iter().filter(|o| o.oos && o.forced_fallback).count(),
        fallen: sorted.iter().filter(|o| o.forced_fallback).count(),
    };
    let mut tallies = vec![tally];
    let mut start = 0;
    while start < sorted.len() {
        let confidence = sorted[start].confidence;
        let mut end = start;
        while end < sorted.len() && sorted[end].confidence == confidence {
            let outcome = sorted[end];
            if !outcome.forced_fallback {
                tally.fallen += 1;
                if outcome.oos {
                    tally.oos_fallen += 1;
                }
                if outcome.correct {
                    tally.in_scope_right -= 1;
                }
            }
            end += 1;
        }
        let current = f64::from(confidence);
        tally.threshold = match sorted.get(end) {
            Some(next) => (current + f64::from(next.confidence)) / 2.0,
            None if current < 1.0 => (current + 1.0) / 2.0,
            None => current + 1e-6,
        };
        tallies.push(tally);
        start = end;
    }
    tallies
}

/// The counts of `outcomes` at a given threshold.
fn tally_at(outcomes: &[Outcome], threshold: f64) -> Tally {
    let falls = |o: &Outcome| o.forced_fallback || f64::from(o.confidence) < threshold;
    Tally {
        threshold,
        in_scope_right: outcomes.iter().filter(|o| o.correct && !falls(o)).count(),
        oos_fallen: outcomes.iter().filter(|o| o.oos && falls(o)).count(),
        fallen: outcomes.iter().filter(|o| falls(o)).count(),
    }
}

/// The threshold maximising in-scope accuracy + out-of-scope recall (a missing term counts
/// as 0, so without oos rows this maximises in-scope accuracy); on ties the lowest one,
/// which hands off the fewest conversations.
fn pick_threshold(outcomes: &[Outcome]) -> f64 {
    let in_scope = outcomes.iter().filter(|o| !o.oos).count();
    let oos = outcomes.len() - in_scope;
    let score = |tally: &Tally| {
        ratio(tally.in_scope_right, in_scope).unwrap_or(0.0)
            + ratio(tally.oos_fallen, oos).unwrap_or(0.0)
    };
    let mut best: Option<(f64, f64)> = None;
    for tally in sweep(outcomes) {
        let value = score(&tally);
        // A tiny tolerance so that float noise does not decide between equal scores.
        if best.is_none_or(|(best_value, _)| value > best_value + 1e-12) {
            best = Some((value, tally.threshold));
        }
    }
    best.map_or(0.0, |(_, threshold)| threshold)
}

/// In-scope accuracy at the lowest threshold whose out-of-scope recall reaches each curve
/// point; `None` without oos (or without in-scope) rows.
fn operating_curve(outcomes: &[Outcome]) -> BTreeMap<String, Option<f64>> {
    let in_scope = outcomes.iter().filter(|o| !o.oos).count();
    let oos = outcomes.len() - in_scope;
    let tallies = sweep(outcomes);
    CURVE_POINTS
        .iter()
        .map(|&(key, tenths)| {
            let value = if oos == 0 {
                None
            } else {
                tallies
                    .iter()
                    .find(|t| t.oos_fallen * 10 >= tenths * oos)
                    .and_then(|t| ratio(t.in_scope_right, in_scope))
            };
            (key.to_string(), value)
        })
        .collect()
}

/// Nearest-rank percentile of nanosecond samples, in whole microseconds (each sample
/// rounded up), read from an HDR histogram.
fn percentile_us(nanos: &[u128], percent: usize) -> u64 {
    nanos
        .iter()
        .map(|nanos| u64::try_from(nanos.div_ceil(1000)).unwrap_or(u64::MAX))
        .collect::<crate::latency::Latencies>()
        .quantile(percent as f64 / 100.0)
}

/// A second opinion on classifications the classifier hesitates on (`--llm`).
pub trait Review {
    /// `labels` are the classifier's best labels with their probabilities, most probable
    /// first. Returns `Some(Some(label))` for the label chosen, `Some(None)` for "out of
    /// scope", `None` to keep the classifier's answer.
    fn review(&mut self, text: &str, labels: &[(String, f32)]) -> Option<Option<String>>;
}

/// Below this top probability, or with the runner-up this close, a row is reviewed.
const HESITANT_BELOW: f32 = 0.9;
const HESITANT_MARGIN: f32 = 0.1;

fn outcome(
    classifier: &Classifier,
    row: &LabeledRow,
    vector: Option<&[f32]>,
    oos_train: bool,
    review: &mut Option<&mut dyn Review>,
) -> (Outcome, u128) {
    let started = Instant::now();
    let k = if review.is_some() { 3 } else { 1 };
    let prediction = classifier.classify_encoded(&row.text, k, |encoder| match vector {
        Some(vector) => vector.to_vec(),
        None => encoder.embed(&row.text),
    });
    let best = prediction
        .scored
        .first()
        .and_then(|scored| classifier.label(scored.label));
    let oos = row.is_oos();
    let mut outcome = Outcome {
        confidence: prediction.confidence,
        oos,
        correct: !oos && best == Some(row.intent.as_str()),
        forced_fallback: oos_train && best == Some(OOS_LABEL),
    };
    let runner_up = prediction
        .scored
        .get(1)
        .map(|s| s.probability)
        .unwrap_or(0.0);
    let hesitant = prediction.confidence < HESITANT_BELOW
        || prediction.confidence - runner_up < HESITANT_MARGIN;
    if let Some(reviewer) = review.as_deref_mut()
        && hesitant
    {
        let labels: Vec<(String, f32)> = prediction
            .scored
            .iter()
            .filter_map(|scored| {
                let label = classifier.label(scored.label)?;
                (label != OOS_LABEL).then(|| (label.to_string(), scored.probability))
            })
            .collect();
        match reviewer.review(&row.text, &labels) {
            Some(Some(label)) => {
                outcome.confidence = 1.0;
                outcome.correct = !oos && label == row.intent;
                outcome.forced_fallback = false;
            }
            Some(None) => {
                outcome.correct = false;
                outcome.forced_fallback = true;
            }
            None => {}
        }
    }
    let nanos = started.elapsed().as_nanos();
    (outcome, nanos)
}

/// Runs `ponte eval intents` with the default [`TrainOptions`].
pub fn evaluate(
    train: &[LabeledRow],
    val: &[LabeledRow],
    test: &[LabeledRow],
    oos_train: bool,
    progress: &mut dyn FnMut(&str),
) -> Result<IntentReport, IntentError> {
    evaluate_with(
        train,
        val,
        test,
        oos_train,
        &TrainOptions::default(),
        progress,
    )
}

/// [`evaluate`] with explicit training options.
pub fn evaluate_with(
    train: &[LabeledRow],
    val: &[LabeledRow],
    test: &[LabeledRow],
    oos_train: bool,
    options: &TrainOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<IntentReport, IntentError> {
    evaluate_reviewed(train, val, test, oos_train, options, progress, None)
}

/// [`evaluate_with`] where `review` gets a say on the rows the classifier hesitates on,
/// validation and test alike; its time counts in the latency.
pub fn evaluate_reviewed(
    train: &[LabeledRow],
    val: &[LabeledRow],
    test: &[LabeledRow],
    oos_train: bool,
    options: &TrainOptions,
    progress: &mut dyn FnMut(&str),
    review: Option<&mut dyn Review>,
) -> Result<IntentReport, IntentError> {
    run(train, val, test, oos_train, options, None, progress, review)
}

/// [`evaluate`] with the sentence encoder's stage (see [`Classifier::train_with_encoder`]).
/// The training and validation rows are embedded in bulk beforehand; the test rows are
/// embedded as they are classified, so the reported latency includes the encoder wherever
/// the cascade runs it.
pub fn evaluate_encoded(
    train: &[LabeledRow],
    val: &[LabeledRow],
    test: &[LabeledRow],
    oos_train: bool,
    encoder: (Arc<Encoder>, EncoderOptions),
    progress: &mut dyn FnMut(&str),
) -> Result<IntentReport, IntentError> {
    run(
        train,
        val,
        test,
        oos_train,
        &TrainOptions::default(),
        Some(encoder),
        progress,
        None,
    )
}

#[allow(clippy::too_many_arguments)]
fn run(
    train: &[LabeledRow],
    val: &[LabeledRow],
    test: &[LabeledRow],
    oos_train: bool,
    options: &TrainOptions,
    encoder: Option<(Arc<Encoder>, EncoderOptions)>,
    progress: &mut dyn FnMut(&str),
    mut review: Option<&mut dyn Review>,
) -> Result<IntentReport, IntentError> {
    let examples: Vec<Example> = train
        .iter()
        .filter(|row| oos_train || !row.is_oos())
        .map(|row| Example {
            text: row.text.clone(),
            label: row.intent.clone(),
        })
        .collect();
    progress(&format!("training on {} examples", examples.len()));
    let started = Instant::now();
    let mut val_vectors = None;
    let classifier = match encoder {
        Some((encoder, encoding)) => {
            progress(&format!(
                "embedding {} training and {} validation rows",
                examples.len(),
                val.len()
            ));
            let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
            let vectors = encoder.embed_all(&texts);
            let val_texts: Vec<&str> = val.iter().map(|row| row.text.as_str()).collect();
            val_vectors = Some(encoder.embed_all(&val_texts));
            Classifier::train_with_encoder(&examples, options, encoder, encoding, Some(&vectors))?
        }
        None => Classifier::train(&examples, options)?,
    };
    let train_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    progress(&format!(
        "trained {} labels in {train_ms} ms",
        classifier.labels().len()
    ));

    progress(&format!("scoring {} validation rows", val.len()));
    let val_outcomes: Vec<Outcome> = val
        .iter()
        .enumerate()
        .map(|(index, row)| {
            let vector = val_vectors
                .as_ref()
                .map(|vectors| vectors[index].as_slice());
            outcome(&classifier, row, vector, oos_train, &mut review).0
        })
        .collect();
    let threshold = pick_threshold(&val_outcomes);
    let val_in_scope = val.iter().filter(|row| !row.is_oos()).count();
    let val_oos = val.len() - val_in_scope;
    let val_tally = tally_at(&val_outcomes, threshold);
    let val_raw_right = val_outcomes.iter().filter(|o| o.correct).count();

    progress(&format!("scoring {} test rows", test.len()));
    let mut nanos = Vec::with_capacity(test.len());
    let mut test_outcomes = Vec::with_capacity(test.len());
    for row in test {
        let (test_outcome, elapsed) = outcome(&classifier, row, None, oos_train, &mut review);
        test_outcomes.push(test_outcome);
        nanos.push(elapsed);
    }
    let test_in_scope = test.iter().filter(|row| !row.is_oos()).count();
    let test_oos = test.len() - test_in_scope;
    let tally = tally_at(&test_outcomes, threshold);
    let raw_right = test_outcomes.iter().filter(|o| o.correct).count();

    Ok(IntentReport {
        in_scope_accuracy: ratio(tally.in_scope_right, test_in_scope),
        oos_recall: ratio(tally.oos_fallen, test_oos),
        threshold,
        handoff_precision: ratio(tally.oos_fallen, tally.fallen),
        raw_accuracy: ratio(raw_right, test_in_scope),
        in_scope_at_oos_recall: operating_curve(&test_outcomes),
        p50_us: percentile_us(&nanos, 50),
        p99_us: percentile_us(&nanos, 99),
        val_in_scope_accuracy: ratio(val_tally.in_scope_right, val_in_scope),
        val_oos_recall: ratio(val_tally.oos_fallen, val_oos),
        val_raw_accuracy: ratio(val_raw_right, val_in_scope),
        val_in_scope_at_oos_recall: operating_curve(&val_outcomes),
        train_ms,
        temperature: classifier.temperature(),
        feature_count: classifier.feature_count(),
        oos_train,
        counts: ReportCounts {
            train_rows: train.len(),
            train_examples: examples.len(),
            labels: classifier.labels().len(),
            val_rows: val.len(),
            val_oos,
            test_rows: test.len(),
            test_in_scope,
            test_oos,
        },
    })
}

#[cfg(test)]
mod tests;
