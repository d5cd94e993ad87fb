//! Loading the dialogue-control intents: one TOML file per intent under `intents/`, with
//! example phrases per language. A bad file is a clear error naming the file and line; the
//! assistant refuses to start with a broken intent set rather than guess.

use crate::conversation::ControlIntent;
use crate::knowledge::PerLanguage;
use crate::lang::Language;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The fewest example phrases accepted per intent and language.
pub const MIN_EXAMPLES_PER_LANGUAGE: usize = 5;

/// One intent file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentFile {
    pub intent: String,
    #[serde(default)]
    pub description: String,
    pub examples: PerLanguage<Vec<String>>,
    #[serde(skip)]
    pub control: Option<ControlIntent>,
    #[serde(skip)]
    pub path: PathBuf,
}

/// An intent file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {reason}", file.display(), line.map(|line| format!(":{line}")).unwrap_or_default())]
pub struct IntentFileError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub reason: String,
}

/// The control intent an intent file's name stands for.
pub fn control_intent(name: &str) -> Option<ControlIntent> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
}

/// Reads and validates every `*.toml` under `dir`: each names a known control intent, has at
/// least [`MIN_EXAMPLES_PER_LANGUAGE`] phrases in each of pt-BR, es and en, and no intent is
/// defined twice.
pub fn load_intents(dir: &Path) -> Result<Vec<IntentFile>, IntentFileError> {
    let entries = std::fs::read_dir(dir).map_err(|error| IntentFileError {
        file: dir.to_path_buf(),
        line: None,
        reason: format!("cannot read the intents directory: {error}"),
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    let mut intents: Vec<IntentFile> = Vec::new();
    for path in paths {
        let intent = parse_intent_file(&path)?;
        if let Some(first) = intents.iter().find(|other| other.intent == intent.intent) {
            return Err(IntentFileError {
                file: path,
                line: Some(1),
                reason: format!(
                    "intent {:?} is already defined in {}",
                    intent.intent,
                    first.path.display()
                ),
            });
        }
        intents.push(intent);
    }
    if intents.is_empty() {
        return Err(IntentFileError {
            file: dir.to_path_buf(),
            line: None,
            reason: "no intent file (*.toml) found".to_string(),
        });
    }
    Ok(intents)
}

fn parse_intent_file(path: &Path) -> Result<IntentFile, IntentFileError> {
    let error = |line: Option<usize>, reason: String| IntentFileError {
        file: path.to_path_buf(),
        line,
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| error(None, e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..valid]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        error(Some(line), "not valid UTF-8".to_string())
    })?;
    let mut intent: IntentFile = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|span| text[..span.start].matches('\n').count() + 1);
        error(line, e.message().trim().to_string())
    })?;
    let line_of = |needle: &str| {
        text.lines()
            .position(|line| line.trim_start().starts_with(needle))
            .map(|index| index + 1)
    };
    intent.control = control_intent(&intent.intent);
    if intent.control.is_none() {
        return Err(error(
            line_of("intent"),
            format!(
                "unknown intent {:?}: expected one of create_ticket, resume_ticket, talk_to_attendant, greeting, thanks, goodbye, help, yes, no, cancel",
                intent.intent
            ),
        ));
    }
    for language in Language::ALL {
        let count = intent
            .examples
            .get(language)
            .map(|phrases| phrases.iter().filter(|p| !p.trim().is_empty()).count())
            .unwrap_or(0);
        if count < MIN_EXAMPLES_PER_LANGUAGE {
            return Err(error(
                line_of(&format!("{} =", language.tag()))
                    .or_else(|| line_of(&format!("\"{}\"", language.tag())))
                    .or(line_of("[examples]")),
                format!(
                    "{count} example phrase(s) in {language}; at least {MIN_EXAMPLES_PER_LANGUAGE} are needed"
                ),
            ));
        }
    }
    intent.path = path.to_path_buf();
    Ok(intent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn bundled_intents_load() {
        let intents = load_intents(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("intents")
                .as_path(),
        )
        .expect("bundled intents are valid");
        assert_eq!(intents.len(), 10);
        for intent in &intents {
            for language in Language::ALL {
                assert!(
                    intent.examples.get(language).unwrap().len() >= 15,
                    "{}",
                    intent.intent
                );
            }
        }
    }

    #[test]
    fn unknown_intent_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "x.toml",
            "description = \"d\"\nintent = \"dance\"\n[examples]\n",
        );
        let error = load_intents(dir.path()).unwrap_err();
        assert!(error.file.ends_with("x.toml"));
        assert_eq!(error.line, Some(2));
        assert!(error.reason.contains("unknown intent"), "{error}");
    }

    #[test]
    fn malformed_toml_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "yes.toml",
            "intent = \"yes\"\n[examples]\nen = [\"a\",\n",
        );
        let error = load_intents(dir.path()).unwrap_err();
        assert!(error.line.is_some(), "{error}");
    }

    #[test]
    fn too_few_examples_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "yes.toml",
            "intent = \"yes\"\n[examples]\npt-BR = [\"sim\"]\nes = [\"sí\"]\nen = [\"yes\"]\n",
        );
        let error = load_intents(dir.path()).unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
        assert!(error.reason.contains("at least"), "{error}");
    }
}
