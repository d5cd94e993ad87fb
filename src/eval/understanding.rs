//! `ponte eval understanding`: the assistant's first answer on labelled requester texts
//! (`fixtures/understanding/requests.jsonl` by default), run through the real matcher
//! decision on the configured catalogue, as the first-answer accuracy overall, per language
//! and per kind of request, with the misses and the decision's latency.
//!
//! The *first answer* is what the requester sees first: the control intent, the first
//! activity, the first article listed, the first option of a "which one?" question, or
//! fallback. A case is right when that answer is one of its acceptable ones.

use super::quantile;
use crate::assistant::matcher::intent_name;
use crate::assistant::{MatchInput, Matcher};
use crate::conversation::{Candidate, Expecting, Understanding};
use crate::knowledge::KnowledgeError;
use crate::lang::Language;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// One labelled requester text.
#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    pub text: String,
    pub language: Language,
    /// What sort of request it is (how-to, problem, chit-chat...), for reading the misses.
    #[serde(default)]
    pub kind: Option<String>,
    /// The acceptable first answers: `article:<id>`, `activity:<id>`, `intent:<name>` or
    /// `fallback`.
    pub accept: Vec<String>,
    /// The requester's groups (none: only public documents).
    #[serde(default)]
    pub groups: Vec<String>,
}

/// The first answer of an understanding, in the fixture's notation.
pub fn first_answer(understanding: &Understanding) -> String {
    match understanding {
        Understanding::Control { intent, .. } => format!("intent:{}", intent_name(*intent)),
        Understanding::Activities { hits } => hits
            .first()
            .map(|hit| format!("activity:{}", hit.id))
            .unwrap_or_else(|| FALLBACK.to_string()),
        Understanding::Articles { hits } => hits
            .first()
            .map(|hit| format!("article:{}", hit.id))
            .unwrap_or_else(|| FALLBACK.to_string()),
        Understanding::Ambiguous { candidates } => match candidates.first() {
            Some(Candidate::Intent { intent }) => format!("intent:{}", intent_name(*intent)),
            Some(Candidate::Activity { activity }) => format!("activity:{}", activity.id),
            Some(Candidate::Article { article }) => format!("article:{}", article.id),
            None => FALLBACK.to_string(),
        },
        Understanding::Fallback => FALLBACK.to_string(),
    }
}

const FALLBACK: &str = "fallback";

/// Right answers out of cases.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Tally {
    pub cases: usize,
    pub right: usize,
}

impl Tally {
    fn add(&mut self, right: bool) {
        self.cases += 1;
        if right {
            self.right += 1;
        }
    }

    /// Right answers over cases (0 without cases).
    pub fn accuracy(&self) -> f64 {
        if self.cases == 0 {
            0.0
        } else {
            self.right as f64 / self.cases as f64
        }
    }
}

/// A case whose first answer was not acceptable.
#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    pub text: String,
    pub language: Language,
    pub kind: String,
    pub got: String,
    pub accept: Vec<String>,
}

/// The outcome of an understanding evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct UnderstandingReport {
    pub overall: Tally,
    pub per_language: BTreeMap<String, Tally>,
    pub per_kind: BTreeMap<String, Tally>,
    pub misses: Vec<Miss>,
    pub p50_us: u64,
    pub p99_us: u64,
}

impl UnderstandingReport {
    /// The accuracy in `language` (0 without cases in it).
    pub fn accuracy_in(&self, language: Language) -> f64 {
        self.per_language
            .get(language.tag())
            .map(Tally::accuracy)
            .unwrap_or(0.0)
    }

    /// A human-readable table, then the misses.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "{:<24} {:>6} {:>6} {:>9}\n",
            "", "cases", "right", "accuracy"
        ));
        let row = |out: &mut String, name: &str, tally: &Tally| {
            out.push_str(&format!(
                "{name:<24} {:>6} {:>6} {:>9.4}\n",
                tally.cases,
                tally.right,
                tally.accuracy()
            ));
        };
        row(&mut out, "overall", &self.overall);
        for (language, tally) in &self.per_language {
            row(&mut out, &format!("lang {language}"), tally);
        }
        for (kind, tally) in &self.per_kind {
            row(&mut out, &format!("kind {kind}"), tally);
        }
        out.push_str(&format!(
            "decision latency: p50 {} us, p99 {} us\n",
            self.p50_us, self.p99_us
        ));
        for miss in &self.misses {
            out.push_str(&format!(
                "miss [{} {}] {:?}: got {}, acceptable {}\n",
                miss.language.tag(),
                miss.kind,
                miss.text,
                miss.got,
                miss.accept.join(" ")
            ));
        }
        out
    }

    /// One JSON object: overall and per-language accuracy, latency.
    pub fn json_line(&self) -> String {
        let per_language: BTreeMap<&str, f64> = self
            .per_language
            .iter()
            .map(|(language, tally)| (language.as_str(), round4(tally.accuracy())))
            .collect();
        serde_json::json!({
            "cases": self.overall.cases,
            "accuracy": round4(self.overall.accuracy()),
            "per_language": per_language,
            "p50_us": self.p50_us,
            "p99_us": self.p99_us,
        })
        .to_string()
    }
}

fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

/// Reads the cases, naming the line of any malformed one.
pub fn read_cases(path: &Path) -> Result<Vec<Case>, KnowledgeError> {
    let text = std::fs::read_to_string(path).map_err(|error| KnowledgeError::io(path, error))?;
    let mut cases = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let case: Case = serde_json::from_str(line).map_err(|error| {
            KnowledgeError::Invalid(format!("{}:{}: {error}", path.display(), index + 1))
        })?;
        if case.accept.is_empty() {
            return Err(KnowledgeError::Invalid(format!(
                "{}:{}: no acceptable answer",
                path.display(),
                index + 1
            )));
        }
        cases.push(case);
    }
    Ok(cases)
}

/// Runs the matcher's decision on every case, as a first message in a new conversation.
pub fn evaluate(matcher: &Matcher, cases: &[Case]) -> Result<UnderstandingReport, KnowledgeError> {
    let mut overall = Tally::default();
    let mut per_language: BTreeMap<String, Tally> = BTreeMap::new();
    let mut per_kind: BTreeMap<String, Tally> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut latencies = Vec::with_capacity(cases.len());
    for case in cases {
        let started = Instant::now();
        let decision = matcher.decide(&MatchInput {
            text: &case.text,
            language: case.language,
            groups: &case.groups,
            expecting: Expecting::FreeText,
        })?;
        latencies.push(started.elapsed().as_micros() as u64);
        let got = first_answer(&decision.understanding);
        let right = case.accept.contains(&got);
        let kind = case.kind.clone().unwrap_or_else(|| "-".to_string());
        overall.add(right);
        per_language
            .entry(case.language.tag().to_string())
            .or_default()
            .add(right);
        per_kind.entry(kind.clone()).or_default().add(right);
        if !right {
            misses.push(Miss {
                text: case.text.clone(),
                language: case.language,
                kind,
                got,
                accept: case.accept.clone(),
            });
        }
    }
    Ok(UnderstandingReport {
        overall,
        per_language,
        per_kind,
        misses,
        p50_us: quantile(&latencies, 0.5),
        p99_us: quantile(&latencies, 0.99),
    })
}
