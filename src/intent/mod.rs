//! Intent classification: recognises what a requester wants from one chat message, and says
//! how sure it is so that the assistant can fall back to a person when it is not.
//!
//! No language model is involved: text is normalised ([`normalize`]), turned into hashed word
//! and character n-gram TF-IDF features (`features`), and scored by a multinomial logistic
//! regression (`model`) fitted by SGD with feature dropout (`sgd`). `eval` implements
//! `ponte eval intents`: it builds the classifier from a training file, picks the fallback
//! threshold on a validation file and reports accuracy, out-of-scope recall and latency on a
//! test file.

mod eval;
mod features;
mod model;
mod normalize;
mod sgd;

use std::path::PathBuf;

pub use eval::{
    IntentReport, LabeledRow, OOS_LABEL, ReportCounts, Review, evaluate, evaluate_encoded,
    evaluate_reviewed, evaluate_with, read_jsonl,
};
pub use features::FeatureOptions;
pub use model::{Classifier, EncoderOptions, Example, Prediction, Scored, TrainOptions};
pub use normalize::normalize;

/// Everything that can go wrong while reading intent data or training.
#[derive(Debug, thiserror::Error)]
pub enum IntentError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}: {reason}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("no training examples")]
    NoTrainingData,
    #[error("training example {index} has an empty label")]
    EmptyLabel { index: usize },
    #[error("invalid training options: {0}")]
    InvalidOptions(String),
}
