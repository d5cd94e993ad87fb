//! Re-ranking by the language model: when the matcher hesitates (a "which one?" question,
//! or a fallback with candidates just under their thresholds), the model is shown the
//! requester's text and those candidates (all already filtered to what the requester may
//! see) and picks one, or none. The call has the re-ranking budget; on a refusal, a
//! timeout, an error or an answer that is not one of the numbers offered, the matcher's
//! own decision stands.

use super::{Llm, LlmError, Prompt};
use crate::assistant::{Decision, MatchInput, Matcher, matcher::intent_name};
use crate::conversation::{Candidate, Understanding};
use crate::lang::Language;
use std::sync::Arc;

/// How far under its threshold a candidate may be and still be offered to the model.
pub const NEAR_THRESHOLD_MARGIN: f32 = 0.15;
/// Most candidates shown to the model.
pub const MAX_CANDIDATES: usize = 5;

/// One line describing a candidate to the model.
pub fn describe(candidate: &Candidate) -> String {
    match candidate {
        Candidate::Intent { intent } => format!("conversation command: {}", intent_name(*intent)),
        Candidate::Activity { activity } => format!("open a ticket for: {}", activity.name),
        Candidate::Article { article } => {
            let summary: String = article.summary.chars().take(200).collect();
            if summary.is_empty() {
                format!("knowledge article: {}", article.title)
            } else {
                format!("knowledge article: {} ({summary})", article.title)
            }
        }
    }
}

/// The prompt asking the model to pick one of `options` (or none) for `text`.
pub fn prompt(text: &str, language: Language, options: &[String]) -> Prompt {
    let mut user = format!(
        "Requester message ({}):\n{}\n\nOptions:\n",
        language.tag(),
        text.chars()
            .take(crate::knowledge::search::MAX_QUERY_CHARS)
            .collect::<String>()
    );
    for (index, option) in options.iter().enumerate() {
        user.push_str(&format!("{}. {option}\n", index + 1));
    }
    Prompt {
        system: "You route service-desk chat messages. Pick the option that best matches what \
                 the requester wants. Answer with JSON only: {\"choice\": N} with N the option \
                 number, or {\"choice\": 0} if no option fits."
            .to_string(),
        user,
        max_tokens: 16,
    }
}

/// Reads the model's answer: `Some(index)` (0-based) of the chosen option, `None` for
/// "none fits". Anything else is malformed.
pub fn parse_choice(reply: &str, options: usize) -> Result<Option<usize>, LlmError> {
    let trimmed = reply.trim();
    // Some models wrap JSON in a code fence.
    let body = trimmed
        .trim_start_matches("```json")
        .trim_start_matches("```")
        .trim_end_matches("```")
        .trim();
    let value: serde_json::Value = serde_json::from_str(body)
        .map_err(|_| LlmError::Malformed(format!("not the JSON asked for: {trimmed:?}")))?;
    let choice = value
        .get("choice")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| LlmError::Malformed(format!("no numeric \"choice\": {trimmed:?}")))?;
    match choice as usize {
        0 => Ok(None),
        n if n <= options => Ok(Some(n - 1)),
        n => Err(LlmError::Malformed(format!(
            "choice {n} is not among the {options} options"
        ))),
    }
}

/// Asks the model to pick among `candidates`, within the re-ranking budget.
pub async fn choose(
    llm: &Llm,
    text: &str,
    language: Language,
    candidates: &[Candidate],
) -> Result<Option<usize>, LlmError> {
    let options: Vec<String> = candidates.iter().map(describe).collect();
    choose_among(llm, text, language, &options).await
}

/// Asks the model to pick one of `options` (described in words) for `text`, within the
/// re-ranking budget: `Some(index)`, or `None` when it says none fits.
pub async fn choose_among(
    llm: &Llm,
    text: &str,
    language: Language,
    options: &[String],
) -> Result<Option<usize>, LlmError> {
    let prompt = prompt(text, language, options);
    let budget = llm.config().rerank_budget;
    // The whole of it (the call and the parse) stays within the budget.
    let reply = tokio::time::timeout(budget, llm.complete(&prompt, budget))
        .await
        .map_err(|_| LlmError::Timeout(budget))??;
    parse_choice(&reply, options.len())
}

/// What picking `candidate` means for the conversation.
pub fn resolve(candidate: Candidate) -> Understanding {
    match candidate {
        Candidate::Intent { intent } => Understanding::Control {
            intent,
            confidence: 1.0,
        },
        Candidate::Activity { activity } => Understanding::Activities {
            hits: vec![activity],
        },
        Candidate::Article { article } => Understanding::Articles {
            hits: vec![article],
        },
    }
}

/// The owned parts of a [`MatchInput`], for moving into a blocking task.
#[derive(Debug, Clone)]
pub struct OwnedInput {
    pub text: String,
    pub language: Language,
    pub groups: Vec<String>,
    pub expecting: crate::conversation::Expecting,
}

impl OwnedInput {
    pub fn as_input(&self) -> MatchInput<'_> {
        MatchInput {
            text: &self.text,
            language: self.language,
            groups: &self.groups,
            expecting: self.expecting,
        }
    }
}

/// The matcher's decision, re-ranked by the model when it hesitated. Never fails and never
/// takes longer than the re-ranking budget (plus reading a few stored candidates).
pub async fn refine(
    llm: &Llm,
    matcher: &Arc<Matcher>,
    input: OwnedInput,
    decision: Decision,
) -> Understanding {
    let text = input.text.clone();
    let language = input.language;
    let candidates = match &decision.understanding {
        Understanding::Ambiguous { candidates } => candidates.clone(),
        Understanding::Fallback => {
            let matcher = matcher.clone();
            let signals = decision.signals.clone();
            let near = tokio::task::spawn_blocking(move || {
                matcher.near_candidates(&signals, &input.as_input(), NEAR_THRESHOLD_MARGIN)
            })
            .await;
            match near {
                Ok(Ok(near)) => near,
                Ok(Err(error)) => {
                    tracing::warn!(%error, "near-threshold candidates unavailable");
                    Vec::new()
                }
                Err(error) => {
                    tracing::warn!(%error, "near-threshold task failed");
                    Vec::new()
                }
            }
        }
        _ => Vec::new(),
    };
    if candidates.is_empty() {
        return decision.understanding;
    }
    pick(llm, &text, language, decision.understanding, candidates).await
}

async fn pick(
    llm: &Llm,
    text: &str,
    language: Language,
    lexical: Understanding,
    mut candidates: Vec<Candidate>,
) -> Understanding {
    candidates.truncate(MAX_CANDIDATES);
    match choose(llm, text, language, &candidates).await {
        Ok(Some(index)) => {
            tracing::debug!(index, "language model re-ranked the match");
            resolve(candidates.swap_remove(index))
        }
        Ok(None) => lexical,
        Err(error) => {
            tracing::info!(code = error.code(), %error, "re-ranking skipped; the lexical decision stands");
            lexical
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_choices_and_refuses_anything_else() {
        assert_eq!(parse_choice("{\"choice\": 2}", 3).unwrap(), Some(1));
        assert_eq!(parse_choice(" {\"choice\":0} ", 3).unwrap(), None);
        assert_eq!(
            parse_choice("```json\n{\"choice\": 1}\n```", 3).unwrap(),
            Some(0)
        );
        for bad in [
            "option 2",
            "{\"choice\": 4}",
            "{\"pick\": 1}",
            "{\"choice\": \"1\"}",
        ] {
            assert!(
                matches!(parse_choice(bad, 3), Err(LlmError::Malformed(_))),
                "{bad}"
            );
        }
    }
}
